package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/gopacket/layers"

	"github.com/sipflow/sipflow/internal/synth"
)

// pipelineCommands are the commands FuzzPipeline runs on each capture, and
// how each one's standard output is checked: shown on a terminal (text),
// one JSON value a line (json), an XML document (svg), or only run (html:
// its escaping has tests of its own).
var pipelineCommands = []struct {
	args []string
	out  string
}{
	{[]string{"calls", "--all", "--color", "never"}, "text"},
	{[]string{"calls", "--all", "--json"}, "json"},
	{[]string{"check", "--color", "never"}, "text"},
	{[]string{"check", "--json"}, "json"},
	{[]string{"messages", "--color", "never"}, "text"},
	{[]string{"flow", "--all", "--color", "never", "--width", "100"}, "text"},
	{[]string{"flow", "--all", "--ascii", "--full", "--width", "60"}, "text"},
	{[]string{"flow", "--all", "--format", "json"}, "json"},
	{[]string{"flow", "--all", "--format", "mermaid"}, "text"},
	{[]string{"flow", "--all", "--format", "svg", "--first"}, "svg"},
	{[]string{"flow", "--all", "--format", "html"}, "html"},
	{[]string{"rtp", "--color", "never"}, "text"},
	{[]string{"rtp", "--json"}, "json"},
}

// FuzzPipeline runs pipelineCommands (the commands that show a capture:
// not report, audio, export or archive) over a capture of up to five
// SIP messages (each a UDP datagram between 10.0.0.1:5060 and
// 10.0.0.2:5060, the direction from dirs' bits) and a few RTP packets
// each way between the ports the seeds' SDP offers, step milliseconds
// apart. Whatever the messages hold, no command panics or fails on a
// capture it could read, the text it shows has no control, format or
// invalid UTF-8 character raw, its JSON is JSON and its SVG is XML.
//
//	go test ./cmd/sipflow -run '^$' -fuzz FuzzPipeline -fuzztime 5m
func FuzzPipeline(f *testing.F) {
	h := func(cseq, tags string) string {
		return "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n" +
			"From: \"Al\" <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>" + tags + "\r\n" +
			"Call-ID: c1@h\r\nCSeq: " + cseq + "\r\nContact: <sip:alice@10.0.0.1>\r\n"
	}
	sdp := func(port string) string {
		return "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio " + port + " RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
	}
	body := func(b string) string {
		return "Content-Type: application/sdp\r\nContent-Length: " + itoa(len(b)) + "\r\n\r\n" + b
	}
	empty := "Content-Length: 0\r\n\r\n"
	f.Add([]byte("INVITE sip:bob@example.com SIP/2.0\r\n"+h("1 INVITE", "")+body(sdp("4000"))),
		[]byte("SIP/2.0 180 Ringing\r\n"+h("1 INVITE", ";tag=b1")+empty),
		[]byte("SIP/2.0 200 OK\r\n"+h("1 INVITE", ";tag=b1")+body(strings.ReplaceAll(sdp("4002"), "10.0.0.1", "10.0.0.2"))),
		[]byte("ACK sip:bob@10.0.0.2 SIP/2.0\r\n"+h("1 ACK", ";tag=b1")+empty),
		[]byte("BYE sip:bob@10.0.0.2 SIP/2.0\r\n"+strings.Replace(h("2 BYE", ";tag=b1"), "z9hG4bK1", "z9hG4bK2", 1)+empty),
		uint8(0b00110), uint16(20))
	f.Add([]byte("REGISTER sip:example.com SIP/2.0\r\n"+h("1 REGISTER", "")+empty),
		[]byte("SIP/2.0 401 Unauthorized\r\n"+h("1 REGISTER", ";tag=r")+"WWW-Authenticate: Digest realm=\"x\", nonce=\"n\"\r\n"+empty),
		[]byte("REGISTER sip:example.com SIP/2.0\r\n"+strings.Replace(h("2 REGISTER", ""), "z9hG4bK1", "z9hG4bK2", 1)+"Authorization: Digest username=\"alice\"\r\n"+empty),
		[]byte("SIP/2.0 403 Forbidden\r\n"+strings.Replace(h("2 REGISTER", ";tag=r"), "z9hG4bK1", "z9hG4bK2", 1)+empty),
		[]byte{}, uint8(0b01010), uint16(5))
	f.Add([]byte("INVITE sip:b\x1b[2J@example.com SIP/2.0\r\n"+strings.Replace(h("1 INVITE", ""), "c1@h", "c\u200b1\x9b@h", 1)+empty),
		[]byte("SIP/2.0 486 \x1b]0;x\x07 \xff\xfe\r\n"+h("1 INVITE", ";tag=\u202e")+"Reason: Q.850;cause=17;text=\"\x00\"\r\n"+empty),
		[]byte("ACK sip:b@example.com SIP/2.0\r\n"+h("1 ACK", ";tag=\u202e")+empty),
		[]byte("SIP/2.0 486 Busy\r\n"+h("1 INVITE", ";tag=\u202e")+empty),
		[]byte("CANCEL sip:b@example.com SIP/2.0\r\n"+h("1 CANCEL", "")+empty),
		uint8(0b01010), uint16(1000))
	// A pickup never cancelled: c1 rings, c2's INVITE with Replaces names
	// its early dialog, is answered and ACKed 5 s later (replaced-not-ended).
	pick := func(m string) string {
		return strings.Replace(strings.Replace(m, "c1@h", "c2@h", 1), "z9hG4bK1", "z9hG4bK3", 1)
	}
	f.Add([]byte("INVITE sip:bob@example.com SIP/2.0\r\n"+h("1 INVITE", "")+body(sdp("4000"))),
		[]byte("SIP/2.0 180 Ringing\r\n"+h("1 INVITE", ";tag=b1")+empty),
		[]byte(pick("INVITE sip:alice@10.0.0.1 SIP/2.0\r\n"+h("1 INVITE", "")+"Replaces: c1@h;to-tag=a1;from-tag=b1;early-only\r\n"+body(sdp("4002")))),
		[]byte(pick("SIP/2.0 200 OK\r\n"+h("1 INVITE", ";tag=p2")+body(sdp("4000")))),
		[]byte(pick("ACK sip:alice@10.0.0.1 SIP/2.0\r\n"+h("1 ACK", ";tag=p2")+empty)),
		uint8(0b10110), uint16(5000))
	f.Fuzz(func(t *testing.T, m1, m2, m3, m4, m5 []byte, dirs uint8, step uint16) {
		a, b := "10.0.0.1:5060", "10.0.0.2:5060"
		var frames [][]byte
		for i, m := range [][]byte{m1, m2, m3, m4, m5} {
			if len(m) == 0 {
				continue
			}
			src, dst := a, b
			if dirs&(1<<i) != 0 {
				src, dst = b, a
			}
			frames = append(frames, synth.UDP(src, dst, m))
			if i == 2 { // media once the answer may have given both ports
				for seq := uint16(1); seq <= 3; seq++ {
					frames = append(frames,
						synth.UDP("10.0.0.1:4000", "10.0.0.2:4002", synth.RTP(0, seq, uint32(seq)*160, 0x11, 160)),
						synth.UDP("10.0.0.2:4002", "10.0.0.1:4000", synth.RTP(0, seq+100, uint32(seq)*160, 0x22, 160)))
				}
			}
		}
		var pcap bytes.Buffer
		if err := synth.WritePcap(&pcap, layers.LinkTypeEthernet,
			synth.Times(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), time.Duration(step)*time.Millisecond, frames...)); err != nil {
			t.Fatal(err)
		}
		runPipeline(t, pcap.Bytes(), false)
	})
}

// FuzzPipelineCapture runs pipelineCommands over a capture's bytes
// as the fuzzer mutates them (seeds: small test captures over UDP, TCP,
// IPv6 and TLS, read with the TLS captures' key logs): a header, a
// length, a TCP sequence, a TLS record or a SIP byte gone wrong may end
// the reading (exit 2 or 3, said on standard error), never in a panic, a
// hang or output unsafe to show.
//
//	go test ./cmd/sipflow -run '^$' -fuzz FuzzPipelineCapture -fuzztime 5m
func FuzzPipelineCapture(f *testing.F) {
	var keys []byte
	for _, name := range []string{"tls13_call.keylog", "tls12_call.keylog", "tls12_cbc_call.keylog"} {
		b, err := os.ReadFile(repoTestdata(name))
		if err != nil {
			f.Fatal(err)
		}
		keys = append(keys, b...)
	}
	keyLog := writeFile(f, "all.keylog", keys)
	for _, name := range []string{"call_busy.pcap", "call_tcp.pcap", "tcp_burst.pcap", "call_ipv6.pcap", "register_401.pcap", "call_cancel.pcap",
		"tls13_call.pcap", "tls12_call.pcap", "tls12_cbc_call.pcap"} {
		b, err := os.ReadFile(repoTestdata(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, capture []byte) { runPipeline(t, capture, true, "--tls-keylog", keyLog) })
}

// runPipeline runs pipelineCommands, with flags, over capture (standard
// input) and checks what each said. Unless damaged says a capture may be
// unreadable or damaged, every command must read it whole.
func runPipeline(t *testing.T, capture []byte, damaged bool, flags ...string) {
	for _, c := range pipelineCommands {
		// A command that hangs crashes the fuzzing process, which keeps
		// the input (the engine itself waits forever).
		tm := time.AfterFunc(30*time.Second, func() { panic(fmt.Sprintf("%s ran 30 s on a capture of %d bytes", c.args, len(capture))) })
		out, errs, code := sipflow(t, capture, append(append(slices.Clone(c.args), flags...), "-")...)
		tm.Stop()
		// check exits 1 on findings, flow 2 when there is no call to draw.
		switch {
		case code == exitOK, code == exitFindings && c.args[0] == "check":
		case code == exitUsage && c.args[0] == "flow" && strings.Contains(errs, "sipflow: no call in - matches"):
		case damaged && (code == exitUsage || code == exitDamaged) && strings.Contains(errs, "sipflow: "):
		default:
			t.Fatalf("%s: exit %d: %s", c.args, code, errs)
		}
		if err := shownSafe(errs); err != nil {
			t.Errorf("%s: standard error: %v:\n%q", c.args, err, errs)
		}
		var err error
		switch c.out {
		case "text":
			err = shownSafe(out)
		case "json":
			err = jsonLines(out)
		case "svg":
			if out != "" {
				err = wellFormedXML(out)
			}
		}
		if err != nil {
			t.Errorf("%s: %v:\n%q", c.args, err, out)
		}
	}
}

// shownSafe reports the first character of s that must not reach a
// terminal raw: a control character other than a line break (C0, DEL,
// C1), a format character (Unicode Cf: bidi controls, zero-width ones),
// or a byte that is not UTF-8.
func shownSafe(s string) error {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return fmt.Errorf("invalid UTF-8 at byte %d", i)
		case r == '\n':
		case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || unicode.Is(unicode.Cf, r):
			return fmt.Errorf("raw %U at byte %d", r, i)
		}
	}
	return nil
}

// jsonLines reports the first line of s that is not one JSON value.
func jsonLines(s string) error {
	for i, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if line == "" && s == "" {
			return nil
		}
		if !json.Valid([]byte(line)) {
			return fmt.Errorf("line %d is not JSON", i+1)
		}
	}
	return nil
}

// wellFormedXML reports the first error of an XML parser reading s whole.
func wellFormedXML(s string) error {
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// TestPipelineCheckers: FuzzPipeline's checks find what they look for.
func TestPipelineCheckers(t *testing.T) {
	for _, s := range []string{"a\x1b[2Jb", "tab\there", "\u202egnp", "zero\u200bwidth", "c1\u009b", "bad \xff byte", "del\x7f"} {
		if shownSafe(s) == nil {
			t.Errorf("shownSafe(%q) = nil", s)
		}
	}
	for _, s := range []string{"", "plain ─┼─ ladder é 漢\n\n", `\x1b[2J`, "a \uFFFD replacement"} {
		if err := shownSafe(s); err != nil {
			t.Errorf("shownSafe(%q) = %v", s, err)
		}
	}
	if jsonLines("{\"a\":1}\n{\"b\":\n") == nil || jsonLines("{\"a\":1}\n\n{}\n") == nil {
		t.Error("jsonLines took a broken line or an empty one")
	}
	if err := jsonLines("{\"a\":1}\n[2]\n"); err != nil {
		t.Error(err)
	}
	if wellFormedXML("<svg><text>a & b</text></svg>") == nil || wellFormedXML("<svg><text>a</svg>") == nil {
		t.Error("wellFormedXML took a broken document")
	}
	if err := wellFormedXML(`<svg xmlns="http://www.w3.org/2000/svg"><text>a &amp; b</text></svg>`); err != nil {
		t.Error(err)
	}
}
