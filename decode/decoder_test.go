package decode_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/synth"
)

// recorder is a decode.Handler that keeps a one-line summary of everything.
type recorder struct {
	msgs  []string
	dgram []string
	warns []string
}

func (r *recorder) Message(m *decode.Message) {
	what := string(m.Method)
	if !m.IsRequest() {
		what = fmt.Sprint(m.StatusCode)
	}
	s := fmt.Sprintf("%d %s>%s %s %s %s", m.N, m.Src, m.Dst, m.Transport, what, m.CallID)
	if m.Encap != "" {
		s += " encap=" + m.Encap
	}
	r.msgs = append(r.msgs, s)
}

func (r *recorder) Datagram(d *decode.Datagram) {
	r.dgram = append(r.dgram, fmt.Sprintf("%d %s>%s %d", d.N, d.Src, d.Dst, len(d.Payload)))
}

func (r *recorder) Warn(w *decode.Warning) { r.warns = append(r.warns, w.Error()) }

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// run decodes frames (all of one link type) and flushes.
func run(t *testing.T, link capture.LinkType, frames ...[]byte) *recorder {
	t.Helper()
	r := &recorder{}
	feed(r, link, frames...)
	return r
}

// feed decodes frames (all of one link type), 1 ms apart from t0, into h
// and flushes; the decoder is returned for its Stats.
func feed(h decode.Handler, link capture.LinkType, frames ...[]byte) *decode.Decoder {
	d := decode.NewDecoder(h, decode.Options{})
	for i, f := range frames {
		d.Decode(&capture.Packet{N: i + 1, Time: t0.Add(time.Duration(i) * time.Millisecond), Link: link, Data: f, Length: len(f)})
	}
	d.Flush()
	return d
}

func invite(callID string, bodyLen int) []byte {
	body := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
	for len(body) < bodyLen {
		body += "a=x-padding:" + strings.Repeat("p", 60) + "\r\n"
	}
	return []byte("INVITE sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-" + callID + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"Call-ID: " + callID + "\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Contact: <sip:alice@10.0.0.1:5060>\r\n" +
		"Content-Type: application/sdp\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body)
}

func response(callID string, code int) []byte {
	return []byte(fmt.Sprintf("SIP/2.0 %d Whatever\r\n"+
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-%s\r\n"+
		"From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n"+
		"To: <sip:bob@example.com>;tag=b2\r\n"+
		"Call-ID: %s\r\n"+
		"CSeq: 1 INVITE\r\n"+
		"Content-Length: 0\r\n\r\n", code, callID, callID))
}

func expectMsgs(t *testing.T, r *recorder, want ...string) {
	t.Helper()
	if strings.Join(r.msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("messages:\n got: %q\nwant: %q\nwarnings: %q", r.msgs, want, r.warns)
	}
}

func TestLinkTypes(t *testing.T) {
	ip4 := synth.UDPPacket("10.0.0.1:5060", "10.0.0.2:5060", invite("c1", 0))
	ip6 := synth.UDPPacket("[2001:db8::1]:5060", "[2001:db8::2]:5060", invite("c6", 0))
	le := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	be := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	sll := func(proto uint16) []byte {
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:], 6)
		binary.BigEndian.PutUint16(h[14:], proto)
		return h
	}
	sll2 := func(proto uint16) []byte {
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], proto)
		binary.BigEndian.PutUint32(h[4:], 3) // ifindex
		binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
		h[11] = 6
		return h
	}
	eth := func(types []uint16, payload []byte) []byte {
		b := make([]byte, 12, 64)
		for i, et := range types {
			b = binary.BigEndian.AppendUint16(b, et)
			if i < len(types)-1 {
				b = binary.BigEndian.AppendUint16(b, uint16(100+i)) // VLAN tag control
			}
		}
		return append(b, payload...)
	}
	want4 := "1 10.0.0.1:5060>10.0.0.2:5060 udp INVITE c1"
	want6 := "1 [2001:db8::1]:5060>[2001:db8::2]:5060 udp INVITE c6"
	tests := []struct {
		name  string
		link  capture.LinkType
		frame []byte
		want  string
	}{
		{"ethernet", capture.LinkEthernet, synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", invite("c1", 0)), want4},
		{"ethernet ipv6", capture.LinkEthernet, synth.UDP("[2001:db8::1]:5060", "[2001:db8::2]:5060", invite("c6", 0)), want6},
		{"802.1Q", capture.LinkEthernet, eth([]uint16{0x8100, 0x0800}, ip4), want4},
		{"QinQ", capture.LinkEthernet, eth([]uint16{0x88a8, 0x8100, 0x0800}, ip4), want4},
		{"QinQ 9100", capture.LinkEthernet, eth([]uint16{0x9100, 0x8100, 0x86dd}, ip6), want6},
		{"MPLS", capture.LinkEthernet, eth([]uint16{0x8847}, append([]byte{0, 1, 0x01, 64}, ip4...)), want4},
		{"null LE", capture.LinkNull, append(le(2), ip4...), want4},
		{"null BE", capture.LinkNull, append(be(2), ip4...), want4},
		{"null ipv6 (BSD 24)", capture.LinkNull, append(le(24), ip6...), want6},
		{"null ipv6 (macOS 30)", capture.LinkNull, append(le(30), ip6...), want6},
		{"loop", capture.LinkLoop, append(be(2), ip4...), want4},
		{"linux sll", capture.LinkLinuxSLL, append(sll(0x0800), ip4...), want4},
		{"linux sll ipv6", capture.LinkLinuxSLL, append(sll(0x86dd), ip6...), want6},
		{"linux sll2", capture.LinkLinuxSLL2, append(sll2(0x0800), ip4...), want4},
		{"raw v4", capture.LinkRaw, ip4, want4},
		{"raw v6", capture.LinkRaw, ip6, want6},
		{"raw BSD 12", capture.LinkRawBSD12, ip4, want4},
		{"raw BSD 14", capture.LinkRawBSD14, ip6, want6},
		{"ipv4", capture.LinkIPv4, ip4, want4},
		{"ipv6", capture.LinkIPv6, ip6, want6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.link, tt.frame)
			expectMsgs(t, r, tt.want)
			if len(r.warns) > 0 {
				t.Errorf("warnings: %q", r.warns)
			}
		})
	}
}

func TestEthernetPaddingIgnored(t *testing.T) {
	f := synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", response("pad", 200))
	f = append(f, make([]byte, 30)...) // trailer after the IP datagram
	r := run(t, capture.LinkEthernet, f)
	expectMsgs(t, r, "1 10.0.0.1:5060>10.0.0.2:5060 udp 200 pad")
}

func TestSIPOnAnyPort(t *testing.T) {
	r := run(t, capture.LinkEthernet,
		synth.UDP("10.0.0.1:40000", "10.0.0.2:7777", invite("p1", 0)),
		synth.UDP("10.0.0.1:40000", "10.0.0.2:7777", []byte("\x80\x00\x00\x01rtp-ish payload")),
	)
	expectMsgs(t, r, "1 10.0.0.1:40000>10.0.0.2:7777 udp INVITE p1")
	if len(r.dgram) != 1 {
		t.Errorf("datagrams = %q, want one", r.dgram)
	}
}

func TestIPv4Fragments(t *testing.T) {
	msg := invite("frag4", 3000)
	frags := synth.Fragments4("10.0.0.1:5060", "10.0.0.2:5060", msg, 1500, 77)
	if len(frags) < 3 {
		t.Fatalf("want at least 3 fragments, got %d", len(frags))
	}
	t.Run("in order", func(t *testing.T) {
		r := run(t, capture.LinkEthernet, frags...)
		expectMsgs(t, r, fmt.Sprintf("%d 10.0.0.1:5060>10.0.0.2:5060 udp INVITE frag4", len(frags)))
	})
	t.Run("reversed", func(t *testing.T) {
		rev := make([][]byte, len(frags))
		for i := range frags {
			rev[len(frags)-1-i] = frags[i]
		}
		r := run(t, capture.LinkEthernet, rev...)
		expectMsgs(t, r, fmt.Sprintf("%d 10.0.0.1:5060>10.0.0.2:5060 udp INVITE frag4", len(frags)))
	})
	t.Run("duplicate fragment", func(t *testing.T) {
		fs := append([][]byte{frags[0]}, frags...)
		r := run(t, capture.LinkEthernet, fs...)
		expectMsgs(t, r, fmt.Sprintf("%d 10.0.0.1:5060>10.0.0.2:5060 udp INVITE frag4", len(fs)))
	})
	t.Run("missing fragment", func(t *testing.T) {
		r := run(t, capture.LinkEthernet, frags[0], frags[2])
		expectMsgs(t, r)
		if len(r.warns) != 1 || !strings.Contains(r.warns[0], "packet 1:") || !strings.Contains(r.warns[0], "never completed") {
			t.Errorf("warnings = %q, want one naming packet 1", r.warns)
		}
	})
	t.Run("interleaved datagrams", func(t *testing.T) {
		other := synth.Fragments4("10.0.0.1:5060", "10.0.0.2:5060", invite("frag4b", 2000), 1500, 78)
		var fs [][]byte
		for i := 0; i < max(len(frags), len(other)); i++ {
			if i < len(frags) {
				fs = append(fs, frags[i])
			}
			if i < len(other) {
				fs = append(fs, other[i])
			}
		}
		r := run(t, capture.LinkEthernet, fs...)
		if len(r.msgs) != 2 {
			t.Errorf("messages = %q", r.msgs)
		}
	})
}

func TestIPv6Fragments(t *testing.T) {
	msg := invite("frag6", 2500)
	frags := synth.Fragments6("[2001:db8::1]:5060", "[2001:db8::2]:5060", msg, 1232, 9)
	if len(frags) < 3 {
		t.Fatalf("want at least 3 fragments, got %d", len(frags))
	}
	r := run(t, capture.LinkEthernet, frags...)
	expectMsgs(t, r, fmt.Sprintf("%d [2001:db8::1]:5060>[2001:db8::2]:5060 udp INVITE frag6", len(frags)))
	// Out of order: last fragment first.
	r = run(t, capture.LinkEthernet, append([][]byte{frags[len(frags)-1]}, frags[:len(frags)-1]...)...)
	expectMsgs(t, r, fmt.Sprintf("%d [2001:db8::1]:5060>[2001:db8::2]:5060 udp INVITE frag6", len(frags)))
}

const (
	cli = "10.0.0.1:40000"
	srv = "10.0.0.2:5060"
)

var (
	ack  = synth.TCPFlags{ACK: true}
	psh  = synth.TCPFlags{ACK: true, PSH: true}
	syn  = synth.TCPFlags{SYN: true}
	fin  = synth.TCPFlags{ACK: true, FIN: true}
	isn  = uint32(1000)
	seq0 = isn + 1
)

func tcpSeg(seq uint32, f synth.TCPFlags, b []byte) []byte { return synth.TCP(cli, srv, seq, f, b) }

func TestTCPReassembly(t *testing.T) {
	a := invite("tcp-a", 1200)
	b := response("tcp-a", 200)
	c := invite("tcp-c", 0)
	both := append(append([]byte{}, b...), c...)
	p1, p2, p3 := a[:400], a[400:900], a[900:]
	want := func(n int, what, id string) string {
		return fmt.Sprintf("%d %s>%s tcp %s %s", n, cli, srv, what, id)
	}
	tests := []struct {
		name   string
		frames [][]byte
		want   []string
		warn   string
	}{
		{"one message in three segments", [][]byte{
			tcpSeg(isn, syn, nil), tcpSeg(seq0, psh, p1), tcpSeg(seq0+400, psh, p2), tcpSeg(seq0+900, psh, p3)},
			[]string{want(4, "INVITE", "tcp-a")}, ""},
		{"out of order", [][]byte{
			tcpSeg(isn, syn, nil), tcpSeg(seq0, psh, p1), tcpSeg(seq0+900, psh, p3), tcpSeg(seq0+400, psh, p2)},
			[]string{want(4, "INVITE", "tcp-a")}, ""},
		{"retransmitted segment", [][]byte{
			tcpSeg(isn, syn, nil), tcpSeg(seq0, psh, p1), tcpSeg(seq0, psh, p1), tcpSeg(seq0+400, psh, p2), tcpSeg(seq0+900, psh, p3), tcpSeg(seq0+900, psh, p3)},
			[]string{want(5, "INVITE", "tcp-a")}, ""},
		{"overlapping segments", [][]byte{
			tcpSeg(isn, syn, nil), tcpSeg(seq0, psh, a[:500]), tcpSeg(seq0+300, psh, a[300:1000]), tcpSeg(seq0+900, psh, a[900:])},
			[]string{want(4, "INVITE", "tcp-a")}, ""},
		{"two messages in one segment", [][]byte{
			tcpSeg(isn, syn, nil), tcpSeg(seq0, psh, both)},
			[]string{want(2, "200", "tcp-a"), want(2, "INVITE", "tcp-c")}, ""},
		{"message boundary inside a segment", [][]byte{
			tcpSeg(isn, syn, nil), tcpSeg(seq0, psh, both[:len(b)+30]), tcpSeg(seq0+uint32(len(b))+30, psh, both[len(b)+30:])},
			[]string{want(2, "200", "tcp-a"), want(3, "INVITE", "tcp-c")}, ""},
		{"keep-alives ignored", [][]byte{
			tcpSeg(isn, syn, nil), tcpSeg(seq0, psh, []byte("\r\n\r\n")), tcpSeg(seq0+4, psh, append(append([]byte{}, b...), "\r\n"...)), tcpSeg(seq0+4+uint32(len(b))+2, psh, c)},
			[]string{want(3, "200", "tcp-a"), want(4, "INVITE", "tcp-c")}, ""},
		{"no SYN captured", [][]byte{
			tcpSeg(5000, psh, p1), tcpSeg(5400, psh, p2), tcpSeg(5900, psh, p3)},
			[]string{want(3, "INVITE", "tcp-a")}, ""},
		{"lost segment, then resync", [][]byte{
			tcpSeg(isn, syn, nil), tcpSeg(seq0, psh, p1), tcpSeg(seq0+900, psh, p3), tcpSeg(seq0+uint32(len(a)), psh, c)},
			[]string{want(4, "INVITE", "tcp-c")}, "never captured"},
		{"incomplete at end", [][]byte{
			tcpSeg(isn, syn, nil), tcpSeg(seq0, psh, p1)},
			nil, "incomplete SIP message"},
		{"not SIP", [][]byte{
			tcpSeg(isn, syn, nil), tcpSeg(seq0, psh, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), tcpSeg(seq0+27, fin, nil)},
			nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, capture.LinkEthernet, tt.frames...)
			expectMsgs(t, r, tt.want...)
			got := strings.Join(r.warns, "\n")
			if tt.warn == "" && got != "" || tt.warn != "" && !strings.Contains(got, tt.warn) {
				t.Errorf("warnings = %q, want %q", r.warns, tt.warn)
			}
		})
	}
}

// TestTCPOversizedMessage: a message whose header section passes the
// limit is skipped with one warning, from its start line to the next
// message's, which is read; the skip does not start again inside the
// start line it gave up on ("NVITE sip:...", "VITE sip:..." read as
// start lines, a warning each).
func TestTCPOversizedMessage(t *testing.T) {
	big := invite("too-big", 0)
	i := bytes.Index(big, []byte("Max-Forwards"))
	big = slices.Concat(big[:i], bytes.Repeat([]byte("Record-Route: <sip:10.1.1.1;lr>\r\n"), 70000/33), big[i:])
	next := invite("next", 0)
	stream := slices.Concat(big, next)
	frames := [][]byte{tcpSeg(isn, syn, nil)}
	for off := 0; off < len(stream); off += 1400 {
		frames = append(frames, tcpSeg(seq0+uint32(off), psh, stream[off:min(off+1400, len(stream))]))
	}
	r := run(t, capture.LinkEthernet, frames...)
	expectMsgs(t, r, fmt.Sprintf("%d %s>%s tcp INVITE next", len(frames), cli, srv))
	if len(r.warns) != 1 || !strings.Contains(r.warns[0], "header section longer than") {
		t.Errorf("warnings %q, want one: header section longer than the limit", r.warns)
	}
}

func TestTCPStreamGapByTime(t *testing.T) {
	a := invite("gap", 1200)
	c := invite("after-gap", 0)
	r := &recorder{}
	d := decode.NewDecoder(r, decode.Options{})
	frames := []struct {
		at time.Duration
		b  []byte
	}{
		{0, tcpSeg(isn, syn, nil)},
		{time.Millisecond, tcpSeg(seq0, psh, a[:400])},
		{2 * time.Millisecond, tcpSeg(seq0+900, psh, a[900:])}, // 400..900 never captured
		{10 * time.Second, tcpSeg(seq0+uint32(len(a)), psh, c)},
	}
	for i, f := range frames {
		d.Decode(&capture.Packet{N: i + 1, Time: t0.Add(f.at), Link: capture.LinkEthernet, Data: f.b, Length: len(f.b)})
	}
	// The hole is given up on packet time, before the end of the capture.
	expectMsgs(t, r, fmt.Sprintf("4 %s>%s tcp INVITE after-gap", cli, srv))
	d.Flush()
}

func TestTunnels(t *testing.T) {
	inner4 := synth.UDPPacket("192.168.1.1:5060", "192.168.1.2:5060", invite("tun4", 0))
	inner6 := synth.UDPPacket("[fd00::1]:5060", "[fd00::2]:5060", invite("tun6", 0))
	innerEth := synth.UDP("192.168.1.1:5060", "192.168.1.2:5060", invite("tun4", 0))
	outer := func(proto byte, payload []byte, v6 bool) []byte {
		// An outer IP header built by hand around an arbitrary payload.
		if !v6 {
			h := make([]byte, 20)
			h[0] = 0x45
			binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
			h[8], h[9] = 64, proto
			copy(h[12:], []byte{172, 16, 0, 1})
			copy(h[16:], []byte{172, 16, 0, 2})
			return synth.Ethernet(netip.MustParseAddr("172.16.0.1"), append(h, payload...))
		}
		h := make([]byte, 40)
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
		h[6], h[7] = proto, 64
		copy(h[8:], netip.MustParseAddr("2001:db8:ffff::1").AsSlice())
		copy(h[24:], netip.MustParseAddr("2001:db8:ffff::2").AsSlice())
		return synth.Ethernet(netip.MustParseAddr("2001:db8:ffff::1"), append(h, payload...))
	}
	gre := func(proto uint16, extra []byte, flags uint16, payload []byte) []byte {
		h := binary.BigEndian.AppendUint16(nil, flags)
		h = binary.BigEndian.AppendUint16(h, proto)
		h = append(h, extra...)
		return append(h, payload...)
	}
	udpOuter := func(dport int, payload []byte) []byte {
		return synth.UDP("172.16.0.1:33333", fmt.Sprintf("172.16.0.2:%d", dport), payload)
	}
	vxlan := append([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, innerEth...)
	gtp := func(payload []byte, withExt bool) []byte {
		h := []byte{0x30, 0xff, 0, 0, 0, 0, 0, 1}
		if withExt {
			h[0] = 0x34                     // E flag
			h = append(h, 0, 0, 0, 0x85)    // seq, N-PDU, next ext: PDU session container
			h = append(h, 1, 0x10, 0x09, 0) // ext: length 1 (4 bytes), content, next 0
		}
		binary.BigEndian.PutUint16(h[2:], uint16(len(h)-8+len(payload)))
		return append(h, payload...)
	}
	erspan2 := append(make([]byte, 8), innerEth...)
	erspan3 := append(make([]byte, 12), innerEth...)
	ppp := append([]byte{0xff, 0x03, 0x00, 0x21}, inner4...)
	w4 := "1 192.168.1.1:5060>192.168.1.2:5060 udp INVITE tun4 encap="
	w6 := "1 [fd00::1]:5060>[fd00::2]:5060 udp INVITE tun6 encap="
	tests := []struct {
		name  string
		frame []byte
		want  string
	}{
		{"4in4", outer(4, inner4, false), w4 + "ipip"},
		{"6in4", outer(41, inner6, false), w6 + "ipip"},
		{"4in6", outer(4, inner4, true), w4 + "ipip"},
		{"GRE ipv4", outer(47, gre(0x0800, nil, 0, inner4), false), w4 + "gre"},
		{"GRE with key and seq", outer(47, gre(0x86dd, make([]byte, 8), 0x3000, inner6), false), w6 + "gre"},
		{"GRE transparent ethernet", outer(47, gre(0x6558, nil, 0, innerEth), false), w4 + "gre"},
		{"ERSPAN II", outer(47, gre(0x88be, make([]byte, 4), 0x1000, erspan2), false), w4 + "gre"},
		{"ERSPAN III", outer(47, gre(0x22eb, make([]byte, 4), 0x1000, erspan3), false), w4 + "gre"},
		{"PPTP GRE with PPP", outer(47, gre(0x880b, make([]byte, 8), 0x3001, ppp), false), w4 + "gre"},
		{"VXLAN", udpOuter(4789, vxlan), w4 + "vxlan"},
		{"GTP-U", udpOuter(2152, gtp(inner4, false)), w4 + "gtp"},
		{"GTP-U with extension header", udpOuter(2152, gtp(inner6, true)), w6 + "gtp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, capture.LinkEthernet, tt.frame)
			expectMsgs(t, r, tt.want)
			if len(r.warns) > 0 {
				t.Errorf("warnings: %q", r.warns)
			}
		})
	}
}

// hep3 returns a HEP3 packet carrying msg from 10.9.8.7:5070 to
// 10.9.8.6:5080, captured at sec and usec by the agent's clock.
func hep3(msg []byte, sec, usec uint32) []byte {
	chunk := func(typ uint16, data []byte) []byte {
		c := binary.BigEndian.AppendUint16(nil, 0)
		c = binary.BigEndian.AppendUint16(c, typ)
		c = binary.BigEndian.AppendUint16(c, uint16(6+len(data)))
		return append(c, data...)
	}
	var body []byte
	body = append(body, chunk(1, []byte{2})...)
	body = append(body, chunk(2, []byte{17})...)
	body = append(body, chunk(3, []byte{10, 9, 8, 7})...)
	body = append(body, chunk(4, []byte{10, 9, 8, 6})...)
	body = append(body, chunk(7, binary.BigEndian.AppendUint16(nil, 5070))...)
	body = append(body, chunk(8, binary.BigEndian.AppendUint16(nil, 5080))...)
	body = append(body, chunk(9, binary.BigEndian.AppendUint32(nil, sec))...)
	body = append(body, chunk(10, binary.BigEndian.AppendUint32(nil, usec))...)
	body = append(body, chunk(11, []byte{1})...)
	body = append(body, chunk(15, msg)...)
	hep := append([]byte("HEP3"), binary.BigEndian.AppendUint16(nil, uint16(6+len(body)))...)
	return append(hep, body...)
}

// TestHEPTime checks which time a message from a HEP agent takes: the HEP
// header's, unless it has none, or one that cannot be the moment the
// packet carrying it was sent (more than an hour away: a clock never set,
// another time zone, garbage), when it takes the packet's, with a warning.
func TestHEPTime(t *testing.T) {
	at := t0.Add(30 * time.Second)
	for _, tc := range []struct {
		name      string
		sec, usec uint32
		want      time.Time
		warn      string
	}{
		{"agent's", uint32(at.Unix()) - 2, 500, at.Add(-2*time.Second + 500*time.Microsecond), ""},
		{"59 minutes late", uint32(at.Add(59 * time.Minute).Unix()), 0, at.Add(59 * time.Minute).Truncate(time.Second), ""},
		{"none", 0, 0, at, ""},
		{"epoch", 0, 7, at, "HEP header's time 1970-01-01 00:00:00.000007 UTC is"},
		{"microseconds past a second", uint32(at.Unix()), 0xffffffff, at, "1h11m35s after"},
		{"largest", 0xffffffff, 0xffffffff, at, "2106-02-07"},
		{"another time zone", uint32(at.Add(-5*time.Hour - 30*time.Minute).Unix()), 0, at, "5h30m0s before"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{}
			var got *decode.Message
			h := &hookRecorder{recorder: r, hook: func(m *decode.Message) { got = m.Clone() }}
			d := decode.NewDecoder(h, decode.Options{})
			f := synth.UDP("172.16.0.1:40000", "172.16.0.9:9060", hep3(invite("hep-time", 0), tc.sec, tc.usec))
			d.Decode(&capture.Packet{N: 1, Time: at, Link: capture.LinkEthernet, Data: f, Length: len(f)})
			if got == nil || !got.Time.Equal(tc.want) {
				t.Errorf("message = %v, want one at %v", got, tc.want)
			}
			switch {
			case tc.warn == "" && len(r.warns) > 0:
				t.Errorf("warnings = %q, want none", r.warns)
			case tc.warn != "" && (len(r.warns) != 1 || !strings.Contains(r.warns[0], tc.warn) || !strings.Contains(r.warns[0], "packet 1:")):
				t.Errorf("warnings = %q, want one of packet 1 with %q", r.warns, tc.warn)
			}
		})
	}
}

func TestHEP3OverUDP(t *testing.T) {
	msg := invite("hep-call", 0)
	hep := hep3(msg, uint32(t0.Add(-time.Hour).Unix()), 250)
	r := &recorder{}
	var got *decode.Message
	h := &hookRecorder{recorder: r, hook: func(m *decode.Message) { got = m.Clone() }}
	d := decode.NewDecoder(h, decode.Options{})
	f := synth.UDP("172.16.0.1:40000", "172.16.0.9:9060", hep)
	d.Decode(&capture.Packet{N: 1, Time: t0, Link: capture.LinkEthernet, Data: f, Length: len(f)})
	expectMsgs(t, r, "1 10.9.8.7:5070>10.9.8.6:5080 udp INVITE hep-call encap=hep")
	if got == nil || !got.Time.Equal(t0.Add(-time.Hour).Add(250*time.Microsecond)) {
		t.Errorf("HEP message time = %v, want the HEP header's", got)
	}
	if got != nil && got.IPID != 0 {
		t.Errorf("HEP message IPID = %#x, want 0: the outer packet's is not the message's", got.IPID)
	}
	// The same HEP packets back to back on a TCP stream.
	two := append(append([]byte{}, hep...), hep...)
	r = run(t, capture.LinkEthernet,
		synth.TCP("172.16.0.1:40000", "172.16.0.9:9060", 10, syn, nil),
		synth.TCP("172.16.0.1:40000", "172.16.0.9:9060", 11, psh, two[:50]),
		synth.TCP("172.16.0.1:40000", "172.16.0.9:9060", 61, psh, two[50:]))
	expectMsgs(t, r, "3 10.9.8.7:5070>10.9.8.6:5080 udp INVITE hep-call encap=hep", "3 10.9.8.7:5070>10.9.8.6:5080 udp INVITE hep-call encap=hep")
}

// TestIPID: a message over UDP carries its IPv4 header's Identification,
// the innermost one in a tunnel; over IPv6 (inside IPv4 too) or TCP it has
// none.
func TestIPID(t *testing.T) {
	withID := func(f []byte, id uint16) []byte {
		binary.BigEndian.PutUint16(f[14+4:], id) // after the Ethernet header
		return f
	}
	inner := withID(synth.UDP("192.168.1.1:5060", "192.168.1.2:5060", invite("tun", 0)), 0x4242)[14:]
	outer := synth.UDP("172.16.0.1:33333", "172.16.0.2:4789", append([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, synth.Ethernet(netip.MustParseAddr("192.168.1.1"), inner)...))
	sixIn4 := func(id uint16) []byte { // an IPv6 SIP packet in an IPv4 header (protocol 41)
		inner := synth.UDPPacket("[fd00::1]:5060", "[fd00::2]:5060", invite("6in4", 0))
		h := make([]byte, 20)
		h[0] = 0x45
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(inner)))
		binary.BigEndian.PutUint16(h[4:], id)
		h[8], h[9] = 64, 41
		copy(h[12:], []byte{172, 16, 0, 1})
		copy(h[16:], []byte{172, 16, 0, 2})
		return synth.Ethernet(netip.MustParseAddr("172.16.0.1"), append(h, inner...))
	}
	for _, tt := range []struct {
		name   string
		frames [][]byte
		want   uint16
	}{
		{"6in4", [][]byte{sixIn4(0x7777)}, 0},
		{"UDP", [][]byte{withID(synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", invite("u", 0)), 0xbeef)}, 0xbeef},
		{"UDP, ID 0", [][]byte{withID(synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", invite("u", 0)), 0)}, 0},
		{"IPv6 after IPv4", [][]byte{
			withID(synth.UDP("10.0.0.1:4000", "10.0.0.2:4000", []byte("\x80\x00\x00\x01rtp-ish payload")), 0x5555),
			synth.UDP("[fd00::1]:5060", "[fd00::2]:5060", invite("v6", 0))}, 0},
		{"VXLAN", [][]byte{withID(outer, 0x1111)}, 0x4242},
		{"TCP", [][]byte{
			withID(synth.TCP("10.0.0.1:40000", "10.0.0.2:5060", 10, syn, nil), 7),
			withID(synth.TCP("10.0.0.1:40000", "10.0.0.2:5060", 11, psh, invite("t", 0)), 8)}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ids []uint16
			h := &hookRecorder{recorder: &recorder{}, hook: func(m *decode.Message) { ids = append(ids, m.IPID) }}
			d := decode.NewDecoder(h, decode.Options{})
			for i, f := range tt.frames {
				d.Decode(&capture.Packet{N: i + 1, Time: t0, Link: capture.LinkEthernet, Data: f, Length: len(f)})
			}
			d.Flush()
			if len(ids) != 1 || ids[0] != tt.want {
				t.Errorf("IPIDs %#x, want one, %#x", ids, tt.want)
			}
		})
	}
}

type hookRecorder struct {
	*recorder
	hook func(*decode.Message)
}

func (h *hookRecorder) Message(m *decode.Message) { h.recorder.Message(m); h.hook(m) }

func TestMalformedSIPIsSkipped(t *testing.T) {
	bad := []byte("INVITE sip:x SIP/2.0\r\nthis line has no colon\r\n\r\n")
	r := run(t, capture.LinkEthernet,
		synth.UDP(cli, srv, bad),
		synth.UDP(cli, srv, invite("good", 0)))
	expectMsgs(t, r, fmt.Sprintf("2 %s>%s udp INVITE good", cli, srv))
	if len(r.warns) != 1 || !strings.HasPrefix(r.warns[0], "packet 1:") {
		t.Errorf("warnings = %q, want one for packet 1", r.warns)
	}
}

// TestBadStatusLineWarns: a datagram that begins "SIP/2.0 " but whose
// status code is not one (two digits, five, 999) is warned of, not passed
// on as a candidate for RTP without a word.
func TestBadStatusLineWarns(t *testing.T) {
	for _, line := range []string{"SIP/2.0 20 OK", "SIP/2.0 99999 Weird", "sip/2.0 999 Nine", "SIP/2.0 "} {
		t.Run(line, func(t *testing.T) {
			msg := []byte(line + "\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n")
			r := run(t, capture.LinkEthernet, synth.UDP(srv, cli, msg), synth.UDP(cli, srv, invite("good", 0)))
			expectMsgs(t, r, fmt.Sprintf("2 %s>%s udp INVITE good", cli, srv))
			if len(r.warns) != 1 || !strings.HasPrefix(r.warns[0], "packet 1:") || !strings.Contains(r.warns[0], fmt.Sprintf("%q", line)) {
				t.Errorf("warnings = %q, want one for packet 1 quoting its status line", r.warns)
			}
			if len(r.dgram) != 0 {
				t.Errorf("datagrams = %q, want none", r.dgram)
			}
		})
	}
}

func TestTruncatedHeadersWarn(t *testing.T) {
	f := synth.UDP(cli, srv, invite("cut", 0))
	for _, n := range []int{5, 14, 20, 30, 40} {
		r := run(t, capture.LinkEthernet, f[:n])
		if len(r.msgs) != 0 {
			t.Errorf("cut at %d: messages %q", n, r.msgs)
		}
		if len(r.warns) != 1 {
			t.Errorf("cut at %d: warnings %q, want one", n, r.warns)
		}
	}
}

// TestNestingBounded feeds a packet of 50 nested IP-in-IP headers.
func TestNestingBounded(t *testing.T) {
	p := synth.UDPPacket("10.0.0.1:5060", "10.0.0.2:5060", invite("deep", 0))
	for i := 0; i < 50; i++ {
		h := make([]byte, 20)
		h[0] = 0x45
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(p)))
		h[9] = 4
		p = append(h, p...)
	}
	r := run(t, capture.LinkRaw, p)
	if len(r.msgs) != 0 || len(r.warns) != 1 {
		t.Errorf("messages %q warnings %q", r.msgs, r.warns)
	}
}

func FuzzDecodePacket(f *testing.F) {
	f.Add(uint16(capture.LinkEthernet), synth.UDP(cli, srv, invite("f", 0)))
	f.Add(uint16(capture.LinkEthernet), tcpSeg(seq0, psh, invite("f", 0)))
	f.Add(uint16(capture.LinkEthernet), synth.TCP(wsCli, wsSrv, 1, psh, cliText(invite("f", 0))))
	f.Add(uint16(capture.LinkEthernet), synth.TCP(wsCli, wsSrv, 1, psh, cat(wsUpgradeReq, cliText(invite("f", 0)))))
	for _, fr := range synth.Fragments4(cli, srv, invite("f", 2000), 600, 1) {
		f.Add(uint16(capture.LinkEthernet), fr)
	}
	f.Add(uint16(capture.LinkRaw), synth.UDPPacket("[::1]:5060", "[::2]:5060", response("f", 180)))
	f.Add(uint16(capture.LinkLinuxSLL2), append(make([]byte, 20), synth.UDPPacket(cli, srv, invite("f", 0))...))
	f.Fuzz(func(t *testing.T, link uint16, data []byte) {
		h := &fuzzHandler{t: t, max: 3 * (len(data) + 65535)}
		d := decode.NewDecoder(h, decode.Options{})
		// Feed the same bytes as several packets so that reassembly state
		// (fragments, TCP streams) is exercised too.
		for i := 0; i < 3; i++ {
			d.Decode(&capture.Packet{N: i + 1, Time: t0.Add(time.Duration(i) * time.Second), Link: capture.LinkType(link), Data: data, Length: len(data)})
		}
		d.Flush()
	})
}

// fuzzHandler checks the properties every decoded message must have.
type fuzzHandler struct {
	t   *testing.T
	max int
}

func (h *fuzzHandler) Message(m *decode.Message) {
	if m.N < 1 || m.N > 3 {
		h.t.Fatalf("message attributed to packet %d of 3", m.N)
	}
	if m.Transport != decode.UDP && m.Transport != decode.TCP && m.Transport != decode.WS {
		h.t.Fatalf("message with transport %v", m.Transport)
	}
	if len(m.Raw) == 0 || len(m.Raw) > h.max {
		h.t.Fatalf("message of %d bytes from %d bytes of input", len(m.Raw), h.max)
	}
	if len(m.CallID) == 0 {
		h.t.Fatalf("message without Call-ID delivered")
	}
}
func (h *fuzzHandler) Datagram(dg *decode.Datagram) {
	if len(dg.Payload) == 0 {
		h.t.Fatalf("empty datagram delivered")
	}
}
func (h *fuzzHandler) Warn(w *decode.Warning) {
	if w.Err == nil || w.N < 0 || w.N > 3 {
		h.t.Fatalf("bad warning %+v", w)
	}
}

// partsRecorder keeps the Parts of every message.
type partsRecorder struct {
	recorder
	parts [][]int
}

func (r *partsRecorder) Message(m *decode.Message) {
	r.recorder.Message(m)
	r.parts = append(r.parts, append([]int(nil), m.Parts...))
}

// TestMessageParts: a message rebuilt from fragments or segments names every
// packet it came from, so that exporting a call can write them all.
func TestMessageParts(t *testing.T) {
	frags := synth.Fragments4("10.0.0.1:5060", "10.0.0.2:5060", invite("p4", 3000), 1500, 5)
	a := invite("tcp-p", 1200)
	b := invite("tcp-q", 0)
	tests := []struct {
		name   string
		frames [][]byte
		want   string
	}{
		{"whole datagram", [][]byte{synth.UDP(cli, srv, invite("u", 0))}, "[[]]"},
		{"fragments", frags, fmt.Sprint([][]int{{1, 2, 3}})},
		{"segments", [][]byte{tcpSeg(isn, syn, nil), tcpSeg(seq0, psh, a[:400]), tcpSeg(seq0+400, psh, a[400:900]), tcpSeg(seq0+900, psh, a[900:])}, "[[2 3 4]]"},
		// The second half came first and waited: its own packet counts,
		// not the one that completed the message.
		{"segments out of order", [][]byte{tcpSeg(isn, syn, nil), tcpSeg(seq0+400, psh, a[400:]), tcpSeg(seq0, psh, a[:400])}, "[[2 3]]"},
		// A message that starts in the packet ending another came whole in it.
		{"two messages", [][]byte{tcpSeg(isn, syn, nil), tcpSeg(seq0, psh, a[:400]), tcpSeg(seq0+400, psh, append(append([]byte(nil), a[400:]...), b...))}, "[[2 3] []]"},
	}
	if len(frags) != 3 {
		t.Fatalf("%d fragments, want 3", len(frags))
	}
	for _, tt := range tests {
		r := &partsRecorder{}
		d := decode.NewDecoder(r, decode.Options{})
		for i, f := range tt.frames {
			d.Decode(&capture.Packet{N: i + 1, Time: t0, Link: capture.LinkEthernet, Data: f, Length: len(f)})
		}
		d.Flush()
		if got := fmt.Sprint(r.parts); got != tt.want {
			t.Errorf("%s: parts %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestKeep: with Options.Keep, each message is parsed into the memory Keep
// gives, which the caller then owns: the bytes stay after the packet's
// buffer is overwritten. A message that does not parse is not handed over.
func TestKeep(t *testing.T) {
	var (
		arena [][]byte
		slots []*decode.Message
		got   []*decode.Message
	)
	keep := func(b []byte) ([]byte, *decode.Message) {
		c := append([]byte(nil), b...)
		arena = append(arena, c)
		slots = append(slots, &decode.Message{})
		return c[:len(c):len(c)], slots[len(slots)-1]
	}
	h := &hookRecorder{recorder: &recorder{}, hook: func(m *decode.Message) { got = append(got, m) }}
	d := decode.NewDecoder(h, decode.Options{Keep: keep})
	frames := [][]byte{
		synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", invite("kept-1", 0)),
		synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", []byte("INVITE sip:b@x SIP/2.0\r\nVia: broken\r\n\r\n")),
		synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", invite("kept-2", 0)),
	}
	for i, f := range frames {
		buf := append([]byte(nil), f...)
		d.Decode(&capture.Packet{N: i + 1, Time: t0, Link: capture.LinkType(1), Data: buf, Length: len(buf)})
		clear(buf) // the capture reader reuses its buffer
	}
	if len(slots) != 3 || len(got) != 2 || got[0] != slots[0] || got[1] != slots[2] {
		t.Fatalf("Keep called %d times, %d messages handed over (want 3 and 2, the kept slots 0 and 2)", len(slots), len(got))
	}
	for i, m := range got {
		if want := fmt.Sprintf("kept-%d", i+1); string(m.CallID) != want || m.N != 2*i+1 || &m.Raw[0] != &arena[2*i][0] {
			t.Errorf("message %d: Call-ID %q, packet %d, raw in the kept copy %v", i, m.CallID, m.N, &m.Raw[0] == &arena[2*i][0])
		}
	}
	if len(h.warns) != 1 {
		t.Errorf("warnings %q, want the malformed message's", h.warns)
	}
}

// TestTimestampGlitch: a packet stamped an hour ahead of the packets
// around it is reported, naming it, and times nothing out: the fragments
// waiting around it are still put together. A quiet hour that the next
// packet confirms does time them out (FragmentTimeout, 30 s).
func TestTimestampGlitch(t *testing.T) {
	frags := synth.Fragments4("10.0.0.1:5060", "10.0.0.2:5060", invite("glitch", 3000), 1500, 41)
	other := synth.UDP("10.0.0.3:40000", "10.0.0.4:40002", []byte("\x80\x00\x00\x01not SIP"))
	decodeAt := func(times []time.Duration, frames [][]byte) *recorder {
		r := &recorder{}
		d := decode.NewDecoder(r, decode.Options{})
		for i, f := range frames {
			d.Decode(&capture.Packet{N: i + 1, Time: t0.Add(times[i]), Link: capture.LinkEthernet, Data: f, Length: len(f)})
		}
		d.Flush()
		return r
	}
	frames := append([][]byte{frags[0], other}, frags[1:]...)
	times := make([]time.Duration, len(frames))
	for i := range times {
		times[i] = time.Duration(i) * time.Millisecond
	}

	for _, g := range []struct {
		packet int // the one stamped an hour on
		want   string
	}{
		{2, "packet 2: timestamp jumps ahead: 2026-11-22 11:00:00.000000 UTC is 1h0m0s after the packet before it (2026-11-22 10:00:00.000000 UTC), and the next goes back; not used to time anything out"},
		{1, "packet 1: timestamp jumps ahead: 2026-11-22 11:00:00.000000 UTC is 59m59.999s after the packet after it (2026-11-22 10:00:00.001000 UTC), and the next goes back; not used to time anything out"},
	} {
		t.Run(fmt.Sprint("glitch in packet ", g.packet), func(t *testing.T) {
			times := append([]time.Duration(nil), times...)
			times[g.packet-1] = time.Hour
			r := decodeAt(times, frames)
			expectMsgs(t, r, fmt.Sprintf("%d 10.0.0.1:5060>10.0.0.2:5060 udp INVITE glitch", len(frames)))
			if strings.Join(r.warns, "\n") != g.want {
				t.Errorf("warnings:\n got %q\nwant %q", r.warns, g.want)
			}
		})
	}
	t.Run("quiet hour", func(t *testing.T) {
		times := append([]time.Duration(nil), times...)
		for i := 1; i < len(times); i++ {
			times[i] += time.Hour
		}
		r := decodeAt(times, frames)
		expectMsgs(t, r)
		if len(r.warns) != 2 || !strings.Contains(r.warns[0], "packet 1:") || !strings.Contains(r.warns[0], "never completed") {
			t.Errorf("warnings = %q, want the first fragment's datagram never completed, then the rest's", r.warns)
		}
	})
}

// TestUnknownLink: the first packet of a link type sipflow does not decode
// is warned of, naming the type; the rest are counted.
func TestUnknownLink(t *testing.T) {
	r := &recorder{}
	d := decode.NewDecoder(r, decode.Options{})
	for i, lt := range []capture.LinkType{147, capture.LinkEthernet, 147, 148, 147} {
		f := synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", invite(fmt.Sprint("u", i), 0))
		d.Decode(&capture.Packet{N: i + 1, Time: t0, Link: lt, Data: f, Length: len(f)})
	}
	d.Flush()
	want := "packet 1: unknown link type: link type 147 is not one sipflow decodes: this packet, and every later one of that link type, skipped\n" +
		"packet 4: unknown link type: link type 148 is not one sipflow decodes: this packet, and every later one of that link type, skipped"
	if got := strings.Join(r.warns, "\n"); got != want {
		t.Errorf("warnings:\n got %q\nwant %q", got, want)
	}
	if d.Stats.UnknownLink != 4 || len(r.msgs) != 1 {
		t.Errorf("UnknownLink %d, messages %q; want 4 and the Ethernet packet's", d.Stats.UnknownLink, r.msgs)
	}
}

// TestTimestampGoesBack: a packet more than ptime.JumpLimit before the one
// before it is warned of once, where the clock stepped; packets a few
// seconds out of order (merged interfaces) are not.
func TestTimestampGoesBack(t *testing.T) {
	pkt := synth.UDP("10.0.0.3:40000", "10.0.0.4:40002", []byte("\x80\x00\x00\x01not SIP"))
	for _, tc := range []struct {
		name  string
		times []time.Duration
		want  string
	}{
		{"stepped back an hour", []time.Duration{0, time.Second, 2*time.Second - time.Hour, 3*time.Second - time.Hour},
			"packet 3: timestamp goes back: 2026-11-22 09:00:02.000000 UTC is 59m59s before the packet before it (2026-11-22 10:00:01.000000 UTC): the capture's clock was stepped back, or captures were joined out of order; times measured across it are wrong"},
		{"back 10 s, within the limit", []time.Duration{0, 5 * time.Second, 9 * time.Second, -time.Second, 10 * time.Second}, ""},
		{"back 10.5 s", []time.Duration{0, 5 * time.Second, 9500 * time.Millisecond, -time.Second, 10 * time.Second}, "packet 4: timestamp goes back: 2026-11-22 09:59:59.000000 UTC is 10.5s before"},
		{"back 11 s", []time.Duration{0, 5 * time.Second, 9 * time.Second, -2 * time.Second, 10 * time.Second}, "packet 4: timestamp goes back: 2026-11-22 09:59:58.000000 UTC is 11s before"},
	} {
		r := &recorder{}
		d := decode.NewDecoder(r, decode.Options{})
		for i, at := range tc.times {
			d.Decode(&capture.Packet{N: i + 1, Time: t0.Add(at), Link: capture.LinkEthernet, Data: pkt, Length: len(pkt)})
		}
		d.Flush()
		got := strings.Join(r.warns, "\n")
		if tc.want == "" && got != "" || tc.want != "" && !strings.HasPrefix(got, tc.want) || len(r.warns) > 1 {
			t.Errorf("%s: warnings %q, want %q", tc.name, r.warns, tc.want)
		}
		if n := min(1, len(tc.want)); d.Stats.TimeStepsBack != n {
			t.Errorf("%s: TimeStepsBack %d, want %d", tc.name, d.Stats.TimeStepsBack, n)
		}
	}
}

// TestTimestampGoesBackOften: merged captures whose clocks differ go back
// at every switch between them; the first StepBackWarnings are warned of,
// the rest counted.
func TestTimestampGoesBackOften(t *testing.T) {
	pkt := synth.UDP("10.0.0.3:40000", "10.0.0.4:40002", []byte("\x80\x00\x00\x01not SIP"))
	r := &recorder{}
	d := decode.NewDecoder(r, decode.Options{})
	for i := range 20 { // host A at t, host B 30 s behind, two packets each in turn
		at := time.Duration(i) * 100 * time.Millisecond
		if i%4 >= 2 {
			at -= 30 * time.Second
		}
		d.Decode(&capture.Packet{N: i + 1, Time: t0.Add(at), Link: capture.LinkEthernet, Data: pkt, Length: len(pkt)})
	}
	d.Flush()
	if len(r.warns) != decode.StepBackWarnings || d.Stats.TimeStepsBack != 5 {
		t.Errorf("%d warnings %q, %d steps back; want %d and 5", len(r.warns), r.warns, d.Stats.TimeStepsBack, decode.StepBackWarnings)
	}
}
