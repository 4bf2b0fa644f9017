package decode_test

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/synth"
)

// WebSocket frame opcodes and flags for wsFrame.
const (
	opCont, opText, opBinary, opClose, opPing = 0x0, 0x1, 0x2, 0x8, 0x9
)

var wsKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// wsFrame builds one frame (RFC 6455 §5.2): masked as a client's, with
// RSV1 set for a compressed message's first frame.
func wsFrame(op byte, fin, masked, rsv1 bool, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	b := []byte{b0, 0}
	switch n := len(payload); {
	case n < 126:
		b[1] = byte(n)
	case n < 1<<16:
		b[1] = 126
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b[1] = 127
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	b[1] |= 0x80
	b = append(b, wsKey[:]...)
	for i, c := range payload {
		b = append(b, c^wsKey[i%4])
	}
	return b
}

// cliText and srvText are whole text frames, as a client and a server send them.
func cliText(p []byte) []byte { return wsFrame(opText, true, true, false, p) }
func srvText(p []byte) []byte { return wsFrame(opText, true, false, false, p) }

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

const (
	wsCli = "10.0.0.1:40000"
	wsSrv = "10.0.0.2:8080"
)

var (
	wsUpgradeReq = []byte("GET / HTTP/1.1\r\nHost: 10.0.0.2:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n")
	wsUpgradeResp = []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n")
)

// wsStream writes the segments of one WebSocket connection, each direction
// with its own sequence numbers.
type wsStream struct{ cseq, sseq uint32 }

func newWSStream() *wsStream { return &wsStream{cseq: 5001, sseq: 9001} }

func (w *wsStream) cli(b []byte) []byte {
	p := synth.TCP(wsCli, wsSrv, w.cseq, psh, b)
	w.cseq += uint32(len(b))
	return p
}

func (w *wsStream) srv(b []byte) []byte {
	p := synth.TCP(wsSrv, wsCli, w.sseq, psh, b)
	w.sseq += uint32(len(b))
	return p
}

// skipCli leaves n bytes of the client's direction uncaptured.
func (w *wsStream) skipCli(n int) { w.cseq += uint32(n) }

// opened is the TCP and HTTP handshakes: packets 1 to 4.
func (w *wsStream) opened() [][]byte {
	f := [][]byte{
		synth.TCP(wsCli, wsSrv, w.cseq-1, syn, nil),
		synth.TCP(wsSrv, wsCli, w.sseq-1, synth.TCPFlags{SYN: true, ACK: true}, nil),
	}
	return append(f, w.cli(wsUpgradeReq), w.srv(wsUpgradeResp))
}

// deflater compresses messages as permessage-deflate does (RFC 7692
// §7.2.1): one stream, flushed after each message, the trailing
// 00 00 ff ff removed; the window carries over (context takeover).
type deflater struct {
	buf bytes.Buffer
	w   *flate.Writer
}

func (d *deflater) message(t testing.TB, p []byte) []byte {
	t.Helper()
	if d.w == nil {
		d.w, _ = flate.NewWriter(&d.buf, flate.BestCompression)
	}
	d.buf.Reset()
	if _, err := d.w.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := d.w.Flush(); err != nil {
		t.Fatal(err)
	}
	b := d.buf.Bytes()
	if !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
		t.Fatalf("flushed deflate stream ends % x", b[max(0, len(b)-4):])
	}
	return bytes.Clone(b[:len(b)-4])
}

func TestWebSocket(t *testing.T) {
	inv, ok := invite("ws-1", 0), response("ws-1", 200)
	big := invite("ws-big", 70000) // a 64-bit frame length
	mid := invite("ws-mid", 1000)  // a 16-bit one
	cm := func(n int, what, id string) string {
		return fmt.Sprintf("%d %s>%s ws %s %s", n, wsCli, wsSrv, what, id)
	}
	sm := func(n int, what, id string) string {
		return fmt.Sprintf("%d %s>%s ws %s %s", n, wsSrv, wsCli, what, id)
	}
	var comp deflater
	z1 := comp.message(t, inv)
	z2 := comp.message(t, invite("ws-2", 0)) // refers back into the first
	var comp3, cz, sz deflater
	c1, s1, c2, s2 := cz.message(t, inv), sz.message(t, ok), cz.message(t, invite("ws-2", 0)), sz.message(t, response("ws-2", 200))
	y1, y2, y3 := comp3.message(t, inv), comp3.message(t, response("ws-2", 180)), comp3.message(t, invite("ws-3", 0))
	tests := []struct {
		name   string
		frames func(w *wsStream) [][]byte
		want   []string
		parts  string // Message.Parts of each message, when checked
		warn   string
	}{
		{"upgrade, a masked request, an unmasked answer", func(w *wsStream) [][]byte {
			return append(w.opened(), w.cli(cliText(inv)), w.srv(srvText(ok)))
		}, []string{cm(5, "INVITE", "ws-1"), sm(6, "200", "ws-1")}, "[[3 4 5] [3 4 6]]", ""},
		{"upgrade not captured", func(w *wsStream) [][]byte {
			return [][]byte{w.cli(cliText(inv)), w.srv(srvText(ok))}
		}, []string{cm(1, "INVITE", "ws-1"), sm(2, "200", "ws-1")}, "[[] []]", ""},
		{"binary frames, 16- and 64-bit lengths", func(w *wsStream) [][]byte {
			f := wsFrame(opBinary, true, true, false, big)
			return append(w.opened(), w.cli(f[:30000]), w.cli(f[30000:60000]), w.cli(f[60000:]), w.srv(wsFrame(opBinary, true, false, false, mid)))
		}, []string{cm(7, "INVITE", "ws-big"), sm(8, "INVITE", "ws-mid")}, "[[3 4 5 6 7] [3 4 8]]", ""},
		{"fragmented, a ping between the fragments", func(w *wsStream) [][]byte {
			return append(w.opened(),
				w.cli(wsFrame(opText, false, true, false, inv[:100])),
				w.cli(wsFrame(opPing, true, true, false, []byte("hi"))),
				w.cli(wsFrame(opCont, false, true, false, inv[100:200])),
				w.cli(wsFrame(opCont, true, true, false, inv[200:])))
		}, []string{cm(8, "INVITE", "ws-1")}, "[[3 4 5 6 7 8]]", ""}, // the ping's packet too: it came in the middle
		{"a frame split across segments", func(w *wsStream) [][]byte {
			f := cliText(mid)
			return append(w.opened(), w.cli(f[:3]), w.cli(f[3:500]), w.cli(f[500:]))
		}, []string{cm(7, "INVITE", "ws-mid")}, "[[3 4 5 6 7]]", ""},
		{"two frames in one segment, a keep-alive between", func(w *wsStream) [][]byte {
			return append(w.opened(), w.srv(cat(srvText(ok), srvText([]byte("\r\n\r\n")), srvText(response("ws-2", 180)))))
		}, []string{sm(5, "200", "ws-1"), sm(5, "180", "ws-2")}, "[[3 4 5] [3 4 5]]", ""},
		{"compressed, the second message referring to the first", func(w *wsStream) [][]byte {
			return append(w.opened(), w.cli(wsFrame(opText, true, true, true, z1)), w.cli(wsFrame(opText, true, true, true, z2)))
		}, []string{cm(5, "INVITE", "ws-1"), cm(6, "INVITE", "ws-2")}, "", ""},
		{"compressed, the third message referring to the first", func(w *wsStream) [][]byte {
			return append(w.opened(), w.cli(cat(wsFrame(opText, true, true, true, y1), wsFrame(opText, true, true, true, y2))), w.cli(wsFrame(opText, true, true, true, y3)))
		}, []string{cm(5, "INVITE", "ws-1"), cm(5, "180", "ws-2"), cm(6, "INVITE", "ws-3")}, "", ""},
		{"compressed both ways, each direction its own window", func(w *wsStream) [][]byte {
			return append(w.opened(), w.cli(wsFrame(opText, true, true, true, c1)), w.srv(wsFrame(opText, true, false, true, s1)),
				w.cli(wsFrame(opText, true, true, true, c2)), w.srv(wsFrame(opText, true, false, true, s2)))
		}, []string{cm(5, "INVITE", "ws-1"), sm(6, "200", "ws-1"), cm(7, "INVITE", "ws-2"), sm(8, "200", "ws-2")}, "", ""},
		{"compressed, the message it refers to not captured", func(w *wsStream) [][]byte {
			return [][]byte{w.cli(cliText(inv)), w.cli(wsFrame(opText, true, true, true, z2)), w.cli(cliText(ok))}
		}, []string{cm(1, "INVITE", "ws-1"), cm(3, "200", "ws-1")}, "", "packet 2: decode: malformed SIP message: WebSocket stream 10.0.0.1:40000 -> 10.0.0.2:8080: a compressed message does not inflate: flate: corrupt input"},
		{"compressed, corrupt, the whole stream captured", func(w *wsStream) [][]byte {
			return append(w.opened(), w.cli(wsFrame(opText, true, true, true, bytes.Repeat([]byte{0xff}, 40))), w.cli(cliText(inv)))
		}, []string{cm(6, "INVITE", "ws-1")}, "", "a compressed message does not inflate: flate: corrupt input before offset 1; skipped"},
		{"a WebSocket for another protocol", func(w *wsStream) [][]byte {
			f := w.opened()
			f[2] = bytes.Replace(f[2], []byte("Protocol: sip"), []byte("Protocol: xmp"), 1)
			f[3] = bytes.Replace(f[3], []byte("Protocol: sip"), []byte("Protocol: xmp"), 1)
			return append(f, w.cli(cliText([]byte(`{"hello":1}`))), w.srv(srvText([]byte(`{"hello":2}`))), w.cli(cliText(inv)))
		}, []string{cm(7, "INVITE", "ws-1")}, "", ""}, // a frame that carries SIP is read all the same
		{"a message that is not SIP", func(w *wsStream) [][]byte {
			return append(w.opened(), w.cli(cliText([]byte(`{"hello":1}`))), w.cli(cliText(inv)))
		}, []string{cm(6, "INVITE", "ws-1")}, "", `packet 5: decode: malformed SIP message: WebSocket stream 10.0.0.1:40000 -> 10.0.0.2:8080: a message that is not SIP ("{\"hello\":1}")`},
		{"a reserved opcode, then a frame with SIP in the same segment", func(w *wsStream) [][]byte {
			return append(w.opened(), w.cli(cat(wsFrame(0x3, true, true, false, []byte("xyz")), cliText(inv))))
		}, []string{cm(5, "INVITE", "ws-1")}, "", "reserved opcode 0x3"},
		{"a lost segment, then the next SIP frame", func(w *wsStream) [][]byte {
			f := append(w.opened(), w.cli(cliText(inv)))
			lost := cliText(ok)
			w.skipCli(len(lost))
			return append(f, w.cli(cliText(invite("ws-3", 0))))
		}, []string{cm(5, "INVITE", "ws-1"), cm(6, "INVITE", "ws-3")}, "", "never captured"},
		{"a continuation with nothing to continue", func(w *wsStream) [][]byte {
			return append(w.opened(), w.cli(wsFrame(opCont, true, true, false, inv)))
		}, nil, "", "no message to continue"},
		{"ends in the middle of a message", func(w *wsStream) [][]byte {
			return append(w.opened(), w.cli(wsFrame(opText, false, true, false, inv[:100])))
		}, nil, "", "packet 5: packet truncated: WebSocket stream 10.0.0.1:40000 -> 10.0.0.2:8080 ended with the capture with an incomplete message (100 bytes)"},
		{"close frames", func(w *wsStream) [][]byte {
			return append(w.opened(), w.cli(cliText(inv)), w.cli(wsFrame(opClose, true, true, false, []byte{3, 232})), w.srv(wsFrame(opClose, true, false, false, []byte{3, 232})))
		}, []string{cm(5, "INVITE", "ws-1")}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &partsRecorder{}
			feed(r, capture.LinkEthernet, tt.frames(newWSStream())...)
			expectMsgs(t, &r.recorder, tt.want...)
			if got := fmt.Sprint(r.parts); tt.parts != "" && got != tt.parts {
				t.Errorf("parts %s, want %s", got, tt.parts)
			}
			got := strings.Join(r.warns, "\n")
			if tt.warn == "" && got != "" || tt.warn != "" && !strings.Contains(got, tt.warn) {
				t.Errorf("warnings = %q, want %q", r.warns, tt.warn)
			}
		})
	}
}

// FuzzWebSocketStream: the messages read from a WebSocket stream do not
// depend on how TCP cut it into segments.
func FuzzWebSocketStream(f *testing.F) {
	inv := invite("fz", 0)
	f.Add(cliText(inv), uint16(3))
	f.Add(cat(cliText(inv), wsFrame(opPing, true, true, false, nil), cliText(response("fz", 200))), uint16(200))
	f.Add(cat(wsFrame(opText, false, true, false, inv[:50]), wsFrame(opCont, true, true, false, inv[50:])), uint16(60))
	f.Add(cat(wsFrame(0x3, true, true, false, []byte("xyz")), cliText(inv)), uint16(1))
	f.Add(cat([]byte{0xc1, 0x85}, wsKey[:], []byte{1, 2, 3, 4, 5}, cliText(inv)), uint16(9))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		decodeAll := func(parts ...[]byte) []string {
			w := newWSStream()
			frames := w.opened()
			for _, p := range parts {
				frames = append(frames, w.cli(p))
			}
			r := run(t, capture.LinkEthernet, frames...)
			for i, m := range r.msgs {
				if !strings.Contains(m, " ws ") {
					t.Fatalf("message %q not over WebSocket", m)
				}
				_, r.msgs[i], _ = strings.Cut(m, " ") // not the packet number
			}
			return r.msgs
		}
		if len(data) == 0 || len(data) > 60000 {
			return
		}
		k := int(cut) % len(data)
		whole, split := decodeAll(data), decodeAll(data[:k], data[k:])
		if strings.Join(whole, "\n") != strings.Join(split, "\n") {
			t.Fatalf("in one segment:\n%q\ncut at %d:\n%q", whole, k, split)
		}
	})
}

// BenchmarkDecodeWebSocket decodes one WebSocket connection of 500
// requests (masked, as clients send them) and 500 answers, whole frames in
// their own segments; "deflate" compresses every message.
func BenchmarkDecodeWebSocket(b *testing.B) {
	for _, compressed := range []bool{false, true} {
		name := "plain"
		if compressed {
			name = "deflate"
		}
		b.Run(name, func(b *testing.B) {
			w := newWSStream()
			frames := w.opened()
			var cz, sz deflater
			for i := range 500 {
				id := fmt.Sprintf("bench-%d", i)
				req, resp := invite(id, 0), response(id, 200)
				if compressed {
					frames = append(frames, w.cli(wsFrame(opText, true, true, true, cz.message(b, req))), w.srv(wsFrame(opText, true, false, true, sz.message(b, resp))))
				} else {
					frames = append(frames, w.cli(cliText(req)), w.srv(srvText(resp)))
				}
			}
			pkts := make([]capture.Packet, len(frames))
			var size int64
			for i, f := range frames {
				pkts[i] = capture.Packet{N: i + 1, Time: t0, Link: capture.LinkEthernet, Data: f, Length: len(f)}
				size += int64(len(f))
			}
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				h := &nopHandler{}
				d := decode.NewDecoder(h, decode.Options{})
				for i := range pkts {
					d.Decode(&pkts[i])
				}
				d.Flush()
				if h.msgs != 1000 {
					b.Fatalf("decoded %d messages, want 1000", h.msgs)
				}
			}
		})
	}
}

// TestTLSConnections: a connection to port 5061 that opens with a TLS
// ClientHello is counted (SIP over TLS, which cannot be read); one to
// another port, or TLS seen after the connection's start, is not.
func TestTLSConnections(t *testing.T) {
	hello := append([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}, bytes.Repeat([]byte{0x5a}, 500)...)
	tests := []struct {
		name   string
		frames [][]byte
		want   int
	}{
		{"to 5061", [][]byte{synth.TCP("10.0.0.1:40000", "10.0.0.2:5061", 1000, syn, nil), synth.TCP("10.0.0.1:40000", "10.0.0.2:5061", 1001, psh, hello)}, 1},
		{"to 443", [][]byte{synth.TCP("10.0.0.1:40000", "10.0.0.2:443", 1000, syn, nil), synth.TCP("10.0.0.1:40000", "10.0.0.2:443", 1001, psh, hello)}, 0},
		{"no SYN captured", [][]byte{synth.TCP("10.0.0.1:40000", "10.0.0.2:5061", 1001, psh, hello)}, 0},
		{"other bytes to 5061", [][]byte{synth.TCP("10.0.0.1:40000", "10.0.0.2:5061", 1000, syn, nil), synth.TCP("10.0.0.1:40000", "10.0.0.2:5061", 1001, psh, append([]byte{0x17, 0x03, 0x03, 0x00, 0x20, 0x01}, hello[6:]...))}, 0},
		{"SIP to 5061 in the clear", [][]byte{synth.TCP("10.0.0.1:40000", "10.0.0.2:5061", 1000, syn, nil), synth.TCP("10.0.0.1:40000", "10.0.0.2:5061", 1001, psh, invite("tls", 0))}, 0},
	}
	for _, tt := range tests {
		r := &recorder{}
		d := feed(r, capture.LinkEthernet, tt.frames...)
		if d.Stats.TLSConnections != tt.want || len(r.warns) > 0 {
			t.Errorf("%s: %d TLS connections (want %d), warnings %q", tt.name, d.Stats.TLSConnections, tt.want, r.warns)
		}
	}
}
