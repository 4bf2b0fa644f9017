package decode_test

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/synth"
	"github.com/sipflow/sipflow/internal/testcert"
)

// tlsChunk is what one side of a TLS connection wrote at once, or, keys
// set, a line the client wrote to its key log.
type tlsChunk struct {
	client bool
	data   []byte
	keys   bool
}

// keyLogWriter is the client's key log: its lines go to buf, and to the
// log of what was written, in order among the records.
type keyLogWriter struct {
	buf *bytes.Buffer
	mu  *sync.Mutex
	log *[]tlsChunk
}

func (w *keyLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	*w.log = append(*w.log, tlsChunk{data: bytes.Clone(p), keys: true})
	w.mu.Unlock()
	return w.buf.Write(p)
}

// chunkConn records what is written through it, in the order written.
type chunkConn struct {
	net.Conn
	client bool
	mu     *sync.Mutex
	log    *[]tlsChunk
}

func (c *chunkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	*c.log = append(*c.log, tlsChunk{client: c.client, data: bytes.Clone(p)})
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// tlsSession runs a real TLS connection (Go's crypto/tls) over a pipe:
// the client writes each of toServer, the server answers each with the
// matching toClient entry (each entry a list of writes). It returns what
// each side wrote, in order, and the key log.
func tlsSession(t *testing.T, cfg func(c *tls.Config), toServer [][]byte, toClient [][][]byte) ([]tlsChunk, []byte) {
	t.Helper()
	chunks, keys := tlsSessionKeys(t, cfg, toServer, toClient)
	var out []tlsChunk
	for _, ch := range chunks {
		if !ch.keys {
			out = append(out, ch)
		}
	}
	return out, keys
}

// tlsSessionKeys is tlsSession whose chunks also hold the lines of the
// client's key log, where the client wrote them among its records.
func tlsSessionKeys(t *testing.T, cfg func(c *tls.Config), toServer [][]byte, toClient [][][]byte) ([]tlsChunk, []byte) {
	t.Helper()
	return tlsSessionOver(t, net.Pipe, cfg, toServer, toClient)
}

// tcpPair is a TCP connection on loopback, its client end first: unlike
// net.Pipe's, a write returns before the other side reads it, as a
// HelloRetryRequest needs (both sides then write a ChangeCipherSpec).
func tcpPair() (net.Conn, net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	s, err := ln.Accept()
	if err != nil {
		panic(err)
	}
	deadline := time.Now().Add(time.Minute)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)
	return c, s
}

// tlsSessionOver is tlsSessionKeys over the connection pipe makes.
func tlsSessionOver(t *testing.T, pipe func() (net.Conn, net.Conn), cfg func(c *tls.Config), toServer [][]byte, toClient [][][]byte) ([]tlsChunk, []byte) {
	t.Helper()
	cert := testcert.SelfSigned(t, "10.0.0.2")
	var keys bytes.Buffer
	var mu sync.Mutex
	var log []tlsChunk
	cp, sp := pipe()
	ccfg := &tls.Config{InsecureSkipVerify: true, KeyLogWriter: &keyLogWriter{&keys, &mu, &log}}
	scfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if cfg != nil {
		cfg(ccfg)
		cfg(scfg) // Go's server offers none of the CBC suites with SHA-256 unless told
	}
	client := tls.Client(&chunkConn{cp, true, &mu, &log}, ccfg)
	server := tls.Server(&chunkConn{sp, false, &mu, &log}, scfg)
	done := make(chan error, 1)
	go func() {
		for i, q := range toServer {
			if _, err := io.ReadFull(server, make([]byte, len(q))); err != nil {
				done <- err
				return
			}
			for _, w := range toClient[i] {
				if _, err := server.Write(w); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	for i, q := range toServer {
		if _, err := client.Write(q); err != nil {
			t.Fatal(err)
		}
		for _, w := range toClient[i] {
			if _, err := io.ReadFull(client, make([]byte, len(w))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cp.Close() // not the TLS connections: a close_notify on a pipe nobody reads waits 5 s
	sp.Close()
	mu.Lock()
	defer mu.Unlock()
	return log, keys.Bytes()
}

// tlsFrames makes TCP segments of a session between 10.0.0.1:40000 and
// 10.0.0.2:5061: the handshake's SYNs, then each chunk, cut into segments
// of at most mss bytes.
func tlsFrames(chunks []tlsChunk, mss int) [][]byte {
	const c, s = "10.0.0.1:40000", "10.0.0.2:5061"
	cseq, sseq := uint32(1000), uint32(5000)
	frames := [][]byte{
		synth.TCP(c, s, cseq, synth.TCPFlags{SYN: true}, nil),
		synth.TCP(s, c, sseq, synth.TCPFlags{SYN: true, ACK: true}, nil),
	}
	cseq++
	sseq++
	for _, ch := range chunks {
		for b := ch.data; len(b) > 0; {
			n := min(len(b), mss)
			if ch.client {
				frames = append(frames, synth.TCP(c, s, cseq, synth.TCPFlags{ACK: true, PSH: true}, b[:n]))
				cseq += uint32(n)
			} else {
				frames = append(frames, synth.TCP(s, c, sseq, synth.TCPFlags{ACK: true, PSH: true}, b[:n]))
				sseq += uint32(n)
			}
			b = b[n:]
		}
	}
	return frames
}

// tlsFramesHoled is tlsFrames (whole chunks a segment) without the
// client's chunk longer than n and shorter than n+100, its sequence
// numbers counted all the same.
func tlsFramesHoled(chunks []tlsChunk, n int) [][]byte {
	all := tlsFrames(chunks, 1<<20)
	var out [][]byte
	for i, ch := range chunks {
		if ch.client && len(ch.data) > n && len(ch.data) < n+100 {
			continue
		}
		out = append(out, all[i+2])
	}
	return append(all[:2:2], out...)
}

// sipResponse is a response to invite("tls-1", 0) with the given status
// line and CSeq.
func sipResponse(status, cseq string) []byte {
	return []byte("SIP/2.0 " + status + "\r\n" +
		"Via: SIP/2.0/TLS 10.0.0.1:40000;branch=z9hG4bK-tls-1\r\n" +
		"From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n" +
		"To: <sip:bob@example.com>;tag=b1\r\n" +
		"Call-ID: tls-1\r\nCSeq: " + cseq + "\r\nContent-Length: 0\r\n\r\n")
}

func sipRequest(method, cseq string) []byte {
	return []byte(method + " sip:bob@10.0.0.2:5061;transport=tls SIP/2.0\r\n" +
		"Via: SIP/2.0/TLS 10.0.0.1:40000;branch=z9hG4bK-tls-" + method + "\r\n" +
		"From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n" +
		"To: <sip:bob@example.com>;tag=b1\r\n" +
		"Call-ID: tls-1\r\nCSeq: " + cseq + "\r\nContent-Length: 0\r\n\r\n")
}

// TestTLSDecrypted: SIP over TLS made by a real TLS stack (Go's
// crypto/tls: TLS 1.3, and TLS 1.2 with AES-128-GCM, AES-256-GCM,
// ChaCha20-Poly1305 and three AES-CBC suites), given its key log, is read whole: every message,
// its transport TLS, its packets the handshake's and its own; two
// messages in one record, one message over two records, records cut
// over several segments. Without the key log, or with another
// connection's, nothing is read and nothing is warned of.
func TestTLSDecrypted(t *testing.T) {
	inv := invite("tls-1", 300)
	// The ACK is longer than any other message: the segment of its record
	// is known by its length, and left out to make a hole.
	ack := bytes.Replace(sipRequest("ACK", "1 ACK"), []byte("Content-Length"), []byte("X-Pad: "+strings.Repeat("p", 850)+"\r\nContent-Length"), 1)
	toServer := [][]byte{inv, ack, sipRequest("BYE", "2 BYE")}
	ok := sipResponse("200 OK", "1 INVITE")
	toClient := [][][]byte{
		{append(sipResponse("100 Trying", "1 INVITE"), sipResponse("180 Ringing", "1 INVITE")...), ok[:40], ok[40:]},
		nil,
		{sipResponse("200 OK", "2 BYE")},
	}
	want := []string{"INVITE", "100", "180", "200", "ACK", "BYE", "200"}
	for _, tt := range []struct {
		name  string
		suite uint16 // TLS 1.2's; 0: TLS 1.3
	}{
		{"TLS 1.3", 0},
		{"TLS 1.2 AES-128-GCM", tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		{"TLS 1.2 AES-256-GCM", tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
		{"TLS 1.2 ChaCha20-Poly1305", tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
		{"TLS 1.2 AES-128-CBC-SHA", tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA},
		{"TLS 1.2 AES-256-CBC-SHA", tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA},
		{"TLS 1.2 AES-128-CBC-SHA256", tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256},
	} {
		var cfg func(c *tls.Config)
		if tt.suite != 0 {
			cfg = func(c *tls.Config) { c.MaxVersion, c.CipherSuites = tls.VersionTLS12, []uint16{tt.suite} }
		}
		t.Run(tt.name, func(t *testing.T) {
			chunks, keys := tlsSession(t, cfg, toServer, toClient)
			kl, err := decode.ParseKeyLog(bytes.NewReader(keys), "keys")
			if err != nil || kl.Len() != 1 {
				t.Fatalf("key log: %d connections, %v\n%s", kl.Len(), err, keys)
			}
			for _, mss := range []int{1460, 100} {
				r, d := decodeTLS(kl, tlsFrames(chunks, mss))
				if got := strings.Join(r.what, " "); got != strings.Join(want, " ") || len(r.warns) > 0 {
					t.Errorf("mss %d: messages %q, want %q; warnings %q", mss, got, want, r.warns)
				}
				for i, tr := range r.transport {
					if tr != decode.TLS {
						t.Errorf("mss %d: message %d (%s) over %s, want tls", mss, i, r.what[i], tr)
					}
				}
				// The ClientHello (packet 3) goes with every message.
				for i, p := range r.parts {
					if len(p) < 2 || p[0] != 3 {
						t.Errorf("mss %d: message %d (%s) in packets %v, want the ClientHello's (3) first", mss, i, r.what[i], p)
					}
				}
				if d.Stats.TLSDecrypted != 1 || d.Stats.TLSNoKeys != 0 || d.Stats.TLSConnections != 1 {
					t.Errorf("mss %d: stats %+v", mss, d.Stats)
				}
			}
			// The ACK's record never captured: the stream's hole is given
			// up on, reading resumes at the next record, its sequence
			// number found.
			var holed []tlsChunk
			for _, ch := range chunks {
				if !(ch.client && len(ch.data) > len(ack) && len(ch.data) < len(ack)+100) {
					holed = append(holed, ch)
				}
			}
			if len(holed) != len(chunks)-1 {
				t.Fatalf("%d chunks of the ACK's length", len(chunks)-len(holed))
			}
			r, _ := decodeTLS(kl, tlsFramesHoled(chunks, len(ack)))
			// (The BYE's segment, held after the hole until the end,
			// comes after the 200 to it.)
			if got := strings.Join(r.what, " "); got != "INVITE 100 180 200 200 BYE" || len(r.warns) != 1 || !strings.Contains(r.warns[0], "never captured") {
				t.Errorf("the ACK's record lost: messages %q; warnings %q", got, r.warns)
			}
			// No key log, or one of another connection: nothing read, no warning.
			other, _ := tlsSession(t, cfg, toServer, toClient)
			for _, c := range []struct {
				name   string
				kl     *decode.KeyLog
				noKeys int
			}{{"no key log", nil, 0}, {"another connection's keys", kl, 1}} {
				r, d := decodeTLS(c.kl, tlsFrames(other, 1460))
				if len(r.what) > 0 || len(r.warns) > 0 || d.Stats.TLSNoKeys != c.noKeys || d.Stats.TLSDecrypted != 0 {
					t.Errorf("%s: messages %q, warnings %q, stats %+v", c.name, r.what, r.warns, d.Stats)
				}
			}
		})
	}
}

// decodeTLS decodes Ethernet frames, 1 ms apart, with key log kl.
func decodeTLS(kl *decode.KeyLog, frames [][]byte) (*tlsRecorder, *decode.Decoder) {
	r := &tlsRecorder{}
	d := decode.NewDecoder(r, decode.Options{KeyLog: kl})
	for i, f := range frames {
		d.Decode(&capture.Packet{N: i + 1, Time: t0.Add(time.Duration(i) * time.Millisecond), Link: capture.LinkEthernet, Data: f, Length: len(f)})
	}
	d.Flush()
	return r, d
}

// tlsRecorder keeps each message's start, transport and packets.
type tlsRecorder struct {
	what      []string
	transport []decode.Transport
	parts     [][]int
	warns     []string
}

func (r *tlsRecorder) Message(m *decode.Message) {
	w := string(m.Method)
	if !m.IsRequest() {
		w = strconv.Itoa(m.StatusCode)
	}
	r.what = append(r.what, w)
	r.transport = append(r.transport, m.Transport)
	p := append([]int(nil), m.Parts...)
	if len(p) == 0 {
		p = []int{m.N}
	}
	r.parts = append(r.parts, p)
}

func (r *tlsRecorder) Datagram(*decode.Datagram) {}
func (r *tlsRecorder) Warn(w *decode.Warning)    { r.warns = append(r.warns, w.Error()) }

// TestTLSKeyLogGrows: a live capture's key log, read from a file that
// the client writes its secrets to as its handshake goes: after the
// ClientHello sipflow looked them up for, and, in TLS 1.3, its
// application secrets after the server's whole first flight. Every
// message is read. A key log that gets them only before the BYE reads
// the BYE and its 200 (TLS 1.2 warns of the two records of application
// data passed over before); one that gets them only after the connection
// ended counts it as one it has no secrets for, without a warning.
func TestTLSKeyLogGrows(t *testing.T) {
	toServer := [][]byte{invite("tls-1", 300), sipRequest("BYE", "2 BYE")}
	toClient := [][][]byte{{sipResponse("200 OK", "1 INVITE")}, {sipResponse("200 OK", "2 BYE")}}
	for _, tt := range []struct {
		name    string
		version uint16
	}{{"TLS 1.3", tls.VersionTLS13}, {"TLS 1.2", tls.VersionTLS12}} {
		t.Run(tt.name, func(t *testing.T) {
			log, keys := tlsSessionKeys(t, func(c *tls.Config) { c.MaxVersion = tt.version }, toServer, toClient)
			var chunks []tlsChunk
			keysAt := map[int][]byte{} // key log lines written before the chunk
			for _, ch := range log {
				if ch.keys {
					keysAt[len(chunks)] = append(keysAt[len(chunks)], ch.data...)
				} else {
					chunks = append(chunks, ch)
				}
			}
			if keysAt[0] != nil || keysAt[1] != nil {
				t.Fatalf("the client wrote its key log before the server's first flight: %v", keysAt)
			}
			const early, beforeBye, late = 0, 1, 2
			for when := range 3 {
				path := filepath.Join(t.TempDir(), "keys")
				if err := os.WriteFile(path, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				kl, err := decode.ReadKeyLogFile(path)
				if err != nil {
					t.Fatal(err)
				}
				f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				r := &tlsRecorder{}
				d := decode.NewDecoder(r, decode.Options{KeyLog: kl})
				// The SYNs, then each chunk's segment (one each: mss 1 MB).
				frames := tlsFrames(chunks, 1<<20)
				for i, fr := range frames {
					switch {
					case i >= 2 && when == early:
						f.Write(keysAt[i-2])
					case i == len(frames)-2 && when == beforeBye:
						f.Write(keys)
					}
					d.Decode(&capture.Packet{N: i + 1, Time: t0.Add(time.Duration(i) * time.Millisecond), Link: capture.LinkEthernet, Data: fr, Length: len(fr)})
				}
				if when == late {
					f.Write(keys)
				}
				f.Close()
				d.Flush()
				want, warns, decrypted, noKeys := "INVITE 200 BYE 200", "", 1, 0
				switch {
				case when == beforeBye && tt.version == tls.VersionTLS12:
					want, warns = "BYE 200", "2 record(s) of application data came before the key log held the connection's secrets"
				case when == beforeBye:
					want = "BYE 200"
				case when == late:
					want, decrypted, noKeys = "", 0, 1
				}
				gotWarns := strings.Join(r.warns, "; ")
				if got := strings.Join(r.what, " "); got != want || (warns == "") != (gotWarns == "") || !strings.Contains(gotWarns, warns) ||
					d.Stats.TLSDecrypted != decrypted || d.Stats.TLSNoKeys != noKeys {
					t.Errorf("keys written %d: messages %q, want %q; warnings %q, want %q; %d decrypted, %d without keys", when, got, want, gotWarns, warns, d.Stats.TLSDecrypted, d.Stats.TLSNoKeys)
				}
			}
		})
	}
}

// splitFirstRecord cuts the first record of b, a handshake record, into
// two at cut bytes of its body, as a stack may fragment a hello.
func splitFirstRecord(b []byte, cut int) []byte {
	n := int(b[3])<<8 | int(b[4])
	body := b[5 : 5+n]
	out := append([]byte{b[0], b[1], b[2], byte(cut >> 8), byte(cut)}, body[:cut]...)
	out = append(out, b[0], b[1], b[2], byte((n-cut)>>8), byte(n-cut))
	out = append(out, body[cut:]...)
	return append(out, b[5+n:]...)
}

// TestTLSHellos: a ClientHello or a ServerHello over two records (its
// random itself cut), and a HelloRetryRequest (the client's key share not
// one the server takes) before the ServerHello: every message is read.
func TestTLSHellos(t *testing.T) {
	toServer := [][]byte{invite("tls-1", 300), sipRequest("BYE", "2 BYE")}
	toClient := [][][]byte{{sipResponse("200 OK", "1 INVITE")}, {sipResponse("200 OK", "2 BYE")}}
	const want = "INVITE 200 BYE 200"
	check := func(t *testing.T, what string, keys []byte, chunks []tlsChunk) {
		t.Helper()
		kl, err := decode.ParseKeyLog(bytes.NewReader(keys), "keys")
		if err != nil {
			t.Fatal(err)
		}
		for _, mss := range []int{1460, 7} {
			r, d := decodeTLS(kl, tlsFrames(chunks, mss))
			if got := strings.Join(r.what, " "); got != want || len(r.warns) > 0 || d.Stats.TLSDecrypted != 1 {
				t.Errorf("%s, mss %d: messages %q, want %q; warnings %q", what, mss, got, want, r.warns)
			}
		}
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		chunks, keys := tlsSession(t, func(c *tls.Config) { c.MaxVersion = v }, toServer, toClient)
		if !chunks[0].client || chunks[1].client {
			t.Fatal("not the ClientHello, then the ServerHello")
		}
		for _, cut := range []int{1, 20, 37, 50} {
			for i, who := range []string{"ClientHello", "ServerHello"} {
				c := slices.Clone(chunks)
				c[i].data = splitFirstRecord(c[i].data, cut)
				check(t, fmt.Sprintf("TLS 0x%04x, the %s cut at %d", v, who, cut), keys, c)
			}
		}
	}
	log, keys := tlsSessionOver(t, tcpPair, func(c *tls.Config) {
		if c.Certificates == nil { // the client's: a key share for X25519 only
			c.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
		} else {
			c.CurvePreferences = []tls.CurveID{tls.CurveP256}
		}
	}, toServer, toClient)
	var chunks []tlsChunk
	for _, ch := range log {
		if !ch.keys {
			chunks = append(chunks, ch)
		}
	}
	// ClientHello, HelloRetryRequest, the client's second ClientHello.
	if len(chunks) < 3 || !chunks[0].client || chunks[1].client || chunks[1].data[5] != 2 || !bytes.Contains(chunks[1].data, helloRetryRandom) {
		t.Fatalf("no HelloRetryRequest: %d chunks", len(chunks))
	}
	check(t, "a HelloRetryRequest", keys, chunks)
}

// helloRetryRandom is a HelloRetryRequest's random (RFC 8446 §4.1.3).
var helloRetryRandom = []byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// TestTLSEarlyData: TLS 1.3 early data (0-RTT) the client sends after its
// ClientHello, before and after the ServerHello, which no secret of the
// key log's opens (the server turned it down; it is sent again after the
// handshake), is passed over: every message is read, without a warning.
func TestTLSEarlyData(t *testing.T) {
	toServer := [][]byte{invite("tls-1", 300), sipRequest("BYE", "2 BYE")}
	toClient := [][][]byte{{sipResponse("200 OK", "1 INVITE")}, {sipResponse("200 OK", "2 BYE")}}
	chunks, keys := tlsSession(t, nil, toServer, toClient)
	kl, err := decode.ParseKeyLog(bytes.NewReader(keys), "keys")
	if err != nil {
		t.Fatal(err)
	}
	early := func(n int) tlsChunk {
		b := make([]byte, n)
		rand.Read(b)
		return tlsChunk{client: true, data: append([]byte{23, 3, 3, byte(n >> 8), byte(n)}, b...)}
	}
	with := []tlsChunk{chunks[0], early(300), early(40), chunks[1], early(30)}
	with = append(with, chunks[2:]...)
	for _, mss := range []int{1460, 100} {
		r, d := decodeTLS(kl, tlsFrames(with, mss))
		if got := strings.Join(r.what, " "); got != "INVITE 200 BYE 200" || len(r.warns) > 0 || d.Stats.TLSDecrypted != 1 {
			t.Errorf("mss %d: messages %q; warnings %q", mss, got, r.warns)
		}
	}
}

// TestTLSHandshakePacketsBounded: the handshake packets every message of
// a connection carries (for an export to decrypt) stay few however many
// records in the clear the connection holds: here 5,000 ChangeCipherSpec
// records of the client, each a segment of its own, after the
// ServerHello of TLS 1.3 and after the INVITE of TLS 1.2.
func TestTLSHandshakePacketsBounded(t *testing.T) {
	toServer := [][]byte{invite("tls-1", 300), sipRequest("BYE", "2 BYE")}
	toClient := [][][]byte{{sipResponse("200 OK", "1 INVITE")}, {sipResponse("200 OK", "2 BYE")}}
	ccs := tlsChunk{client: true, data: []byte{tlsCCS, 3, 3, 0, 1, 1}}
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		chunks, keys := tlsSession(t, func(c *tls.Config) { c.MaxVersion = v }, toServer, toClient)
		kl, err := decode.ParseKeyLog(bytes.NewReader(keys), "keys")
		if err != nil {
			t.Fatal(err)
		}
		at := 2 // after the ServerHello
		if v == tls.VersionTLS12 {
			at = len(chunks) - 3 // after the INVITE: the 200, the BYE and its 200 follow
		}
		with := slices.Clone(chunks[:at])
		for range 5000 {
			with = append(with, ccs)
		}
		with = append(with, chunks[at:]...)
		r, _ := decodeTLS(kl, tlsFrames(with, 1460))
		if got := strings.Join(r.what, " "); got != "INVITE 200 BYE 200" {
			t.Errorf("TLS 0x%04x: messages %q; warnings %q", v, got, r.warns)
		}
		for i, p := range r.parts {
			if len(p) > 300 {
				t.Errorf("TLS 0x%04x: message %d (%s) in %d packets", v, i, r.what[i], len(p))
			}
		}
	}
}

const tlsCCS = 20 // a ChangeCipherSpec record's content type

// TestTLSHoleSearch: a hole in the capture that loses 80 records of the
// client (more than the 64 sequence numbers once searched), and one after
// which the bytes begin with what looks like a record header and is none
// (the end of a record the hole cut): reading resumes at the next record
// all the same, its sequence number found, and the requests after the
// hole are read.
func TestTLSHoleSearch(t *testing.T) {
	var toServer [][]byte
	var toClient [][][]byte
	for i := range 100 {
		cseq := strconv.Itoa(i+1) + " OPTIONS"
		toServer = append(toServer, sipRequest("OPTIONS", cseq))
		toClient = append(toClient, [][]byte{sipResponse("200 OK", cseq)})
	}
	for _, tt := range []struct {
		name  string
		suite uint16 // TLS 1.2's; 0: TLS 1.3
	}{
		{"TLS 1.3", 0},
		{"TLS 1.2 AES-128-GCM", tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		{"TLS 1.2 AES-128-CBC-SHA", tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var cfg func(c *tls.Config)
			if tt.suite != 0 {
				cfg = func(c *tls.Config) { c.MaxVersion, c.CipherSuites = tls.VersionTLS12, []uint16{tt.suite} }
			}
			chunks, keys := tlsSession(t, cfg, toServer, toClient)
			kl, err := decode.ParseKeyLog(bytes.NewReader(keys), "keys")
			if err != nil {
				t.Fatal(err)
			}
			// The client's chunks that are requests 11 to 90.
			var requests []int
			for i, ch := range chunks {
				if ch.client && ch.data[0] == 23 && len(ch.data) > 200 {
					requests = append(requests, i)
				}
			}
			if len(requests) != 100 {
				t.Fatalf("%d requests", len(requests))
			}
			lost := requests[10:90]
			for _, fake := range [][]byte{nil, {0xee, 23, 3, 3, 0, 16}} {
				const c, s = "10.0.0.1:40000", "10.0.0.2:5061"
				cseq, sseq := uint32(1001), uint32(5001)
				frames := [][]byte{
					synth.TCP(c, s, cseq-1, synth.TCPFlags{SYN: true}, nil),
					synth.TCP(s, c, sseq-1, synth.TCPFlags{SYN: true, ACK: true}, nil),
				}
				for i, ch := range chunks {
					switch {
					case slices.Contains(lost, i):
					case ch.client && i == requests[90] && fake != nil:
						// The lost bytes' last: a record header by chance.
						frames = append(frames, synth.TCP(c, s, cseq-uint32(len(fake)), synth.TCPFlags{ACK: true, PSH: true}, append(slices.Clone(fake), ch.data...)))
					case ch.client:
						frames = append(frames, synth.TCP(c, s, cseq, synth.TCPFlags{ACK: true, PSH: true}, ch.data))
					default:
						frames = append(frames, synth.TCP(s, c, sseq, synth.TCPFlags{ACK: true, PSH: true}, ch.data))
					}
					if ch.client {
						cseq += uint32(len(ch.data))
					} else {
						sseq += uint32(len(ch.data))
					}
				}
				r, _ := decodeTLS(kl, frames)
				requestsRead := 0
				for _, w := range r.what {
					if w == "OPTIONS" {
						requestsRead++
					}
				}
				if requestsRead != 20 || len(r.what) != 120 || len(r.warns) != 1 || !strings.Contains(r.warns[0], "never captured") {
					t.Errorf("chance header %v: %d requests read (want 20), %d messages (want 120); warnings %q", fake != nil, requestsRead, len(r.what), r.warns)
				}
			}
		})
	}
}

// TestTLSWebSocket: SIP over WebSocket on TLS (wss://, RFC 7118), TLS 1.3
// and 1.2, read with its key log: the upgrade, then frames, a client's
// masked, two in one record, one over two records; every message is
// read, its transport WSS, its packets the ClientHello's, the upgrade's
// and its own.
func TestTLSWebSocket(t *testing.T) {
	ok := srvText(sipResponse("200 OK", "1 INVITE"))
	toServer := [][]byte{wsUpgradeReq, cliText(invite("tls-1", 300)), cliText(sipRequest("BYE", "2 BYE"))}
	toClient := [][][]byte{
		{wsUpgradeResp},
		{cat(srvText(sipResponse("100 Trying", "1 INVITE")), ok[:30]), ok[30:]},
		{srvText(sipResponse("200 OK", "2 BYE"))},
	}
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		chunks, keys := tlsSession(t, func(c *tls.Config) { c.MaxVersion = v }, toServer, toClient)
		kl, err := decode.ParseKeyLog(bytes.NewReader(keys), "keys")
		if err != nil {
			t.Fatal(err)
		}
		for _, mss := range []int{1460, 50} {
			r, d := decodeTLS(kl, tlsFrames(chunks, mss))
			if got := strings.Join(r.what, " "); got != "INVITE 100 200 BYE 200" || len(r.warns) > 0 || d.Stats.TLSDecrypted != 1 {
				t.Errorf("TLS 0x%04x, mss %d: messages %q; warnings %q", v, mss, got, r.warns)
			}
			for i, tr := range r.transport {
				if tr != decode.WSS || len(r.parts[i]) < 4 || r.parts[i][0] != 3 {
					t.Errorf("TLS 0x%04x, mss %d: message %d (%s) over %s in packets %v, want wss, the ClientHello's (3) first", v, mss, i, r.what[i], tr, r.parts[i])
				}
			}
		}
	}
}

// TestTLSResumed: a TLS 1.2 session resumed (RFC 5246 §7.3: the
// abbreviated handshake, the server's ChangeCipherSpec and Finished before
// the client's), and a TLS 1.3 one resumed with a ticket, read with the
// key log of the second connection. (Go's client logs nothing for a TLS
// 1.2 session it resumes; OpenSSL logs the session's master secret with
// the new client random, as the test does.)
func TestTLSResumed(t *testing.T) {
	toServer := [][]byte{invite("tls-1", 300), sipRequest("BYE", "2 BYE")}
	toClient := [][][]byte{{sipResponse("200 OK", "1 INVITE")}, {sipResponse("200 OK", "2 BYE")}}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cache := tls.NewLRUClientSessionCache(1)
		cfg := func(c *tls.Config) {
			c.MaxVersion, c.ClientSessionCache = v, cache
			c.ServerName = "sip.test"               // the cache's key, not the address (a new port each time)
			c.SetSessionTicketKeys([][32]byte{{1}}) // the server's, the same both times
		}
		firstLog, first := tlsSessionOver(t, tcpPair, cfg, toServer, toClient)
		log, keys := tlsSessionOver(t, tcpPair, cfg, toServer, toClient)
		var chunks, firstChunks []tlsChunk
		for _, ch := range log {
			if !ch.keys {
				chunks = append(chunks, ch)
			}
		}
		for _, ch := range firstLog {
			if !ch.keys {
				firstChunks = append(firstChunks, ch)
			}
		}
		// Resumed, the server sends no certificate: a first flight shorter
		// by one; TLS 1.2's holds the server's ChangeCipherSpec.
		if chunks[1].client || len(chunks[1].data) > len(firstChunks[1].data)-200 || v == tls.VersionTLS12 && !hasRecord(chunks[1].data, 20) {
			t.Fatalf("TLS 0x%04x: not resumed: the server's first flight %d bytes, %d the first time", v, len(chunks[1].data), len(firstChunks[1].data))
		}
		if v == tls.VersionTLS12 && len(keys) == 0 {
			f := strings.Fields(string(first)) // CLIENT_RANDOM random master
			keys = []byte(fmt.Sprintf("CLIENT_RANDOM %x %s\n", chunks[0].data[11:43], f[2]))
		}
		kl, err := decode.ParseKeyLog(bytes.NewReader(keys), "keys")
		if err != nil {
			t.Fatal(err)
		}
		r, d := decodeTLS(kl, tlsFrames(chunks, 1460))
		if got := strings.Join(r.what, " "); got != "INVITE 200 BYE 200" || len(r.warns) > 0 || d.Stats.TLSDecrypted != 1 {
			t.Errorf("TLS 0x%04x resumed: messages %q; warnings %q", v, got, r.warns)
		}
	}
}

// hasRecord reports whether b, whole records, holds one of content type typ.
func hasRecord(b []byte, typ byte) bool {
	for len(b) >= 5 {
		if b[0] == typ {
			return true
		}
		b = b[min(len(b), 5+(int(b[3])<<8|int(b[4]))):]
	}
	return false
}
