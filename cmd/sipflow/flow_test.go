package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/sipflow/sipflow/internal/synth"
)

// TestFlowGolden draws testdata calls the way the README shows them.
func TestFlowGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"flow_call_rtp.pcap.txt", []string{"--width", "100", "call_rtp.pcap"}},
		{"flow_call_rtp.pcap.ascii.txt", []string{"--ascii", "--width", "80", "call_rtp.pcap"}},
		{"flow_b2bua_xcallid.pcap.txt", []string{"--width", "100", "b2bua_xcallid.pcap"}},
		{"flow_invite_no_ack.pcap.txt", []string{"--width", "100", "invite_no_ack.pcap"}},
		{"flow_call_hold.pcap.ascii.txt", []string{"--ascii", "--width", "80", "call_hold.pcap"}},
		{"flow_register_wrong_password.pcap.txt", []string{"--all", "--width", "100", "register_wrong_password.pcap"}},
		{"flow_forked_call.pcap.by-port.txt", []string{"--by", "addr-port", "--alias", "127.0.23.2=proxy", "--width", "100", "forked_call.pcap"}},
		{"flow_call_rtp.pcap.json", []string{"--format", "json", "call_rtp.pcap"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			args := append([]string{"flow", "--color", "never"}, tt.args...)
			args[len(args)-1] = repoTestdata(args[len(args)-1])
			out, errs, code := sipflow(t, nil, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			golden(t, tt.golden, out)
		})
	}
}

// threeCalls writes a capture of three basic calls (signalling only).
func threeCalls(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	opts := synth.DefaultGen(3)
	opts.RTP = false
	opts.Hold = time.Second
	if _, err := synth.Generate(&b, opts); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "three.pcap", b.Bytes())
}

var ladderTitle = regexp.MustCompile(`(?m)^call (\S+) · `)

func TestFlowSelect(t *testing.T) {
	p := threeCalls(t)
	out, errs, code := sipflow(t, nil, "flow", "--color", "never", "--width", "100", p)
	ids := ladderTitle.FindAllStringSubmatch(out, -1)
	if code != 0 || len(ids) != 3 {
		t.Fatalf("exit %d, %d ladders, want 3: %s\n%s", code, len(ids), errs, out)
	}
	second := ids[1][1]
	t.Run("first", func(t *testing.T) {
		out, _, code := sipflow(t, nil, "flow", "--first", "--width", "100", p)
		if got := ladderTitle.FindAllStringSubmatch(out, -1); code != 0 || len(got) != 1 || got[0][1] != ids[0][1] {
			t.Errorf("exit %d, ladders %v", code, got)
		}
	})
	short := second[:strings.IndexByte(second, '@')+1] // as unique as the Call-ID
	for _, sel := range []string{second, short + "...", short + "…"} {
		t.Run("call "+sel, func(t *testing.T) {
			out, errs, code := sipflow(t, nil, "flow", "--call", sel, "--width", "100", p)
			if got := ladderTitle.FindAllStringSubmatch(out, -1); code != 0 || len(got) != 1 || got[0][1] != second {
				t.Errorf("exit %d, ladders %v: %s", code, got, errs)
			}
		})
	}
	t.Run("no match", func(t *testing.T) {
		out, errs, code := sipflow(t, nil, "flow", "--call", "nope", p)
		if code != 2 || out != "" || !strings.Contains(errs, "no call") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
		}
	})
	t.Run("calls filters", func(t *testing.T) {
		out, _, code := sipflow(t, nil, "flow", "--call-id", second, "--state", "completed", "--width", "100", p)
		if got := ladderTitle.FindAllStringSubmatch(out, -1); code != 0 || len(got) != 1 {
			t.Errorf("exit %d, ladders %v", code, got)
		}
	})
	// Every format takes each matching call.
	t.Run("json", func(t *testing.T) {
		out, _, _ := sipflow(t, nil, "flow", "--format", "json", p)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 {
			t.Fatalf("%d JSON lines, want 3", len(lines))
		}
		for _, ln := range lines {
			var v struct {
				CallID       string            `json:"call_id"`
				Participants []json.RawMessage `json:"participants"`
				Rows         []json.RawMessage `json:"rows"`
				Notes        []json.RawMessage `json:"notes"`
				Findings     []json.RawMessage `json:"findings"`
			}
			if err := json.Unmarshal([]byte(ln), &v); err != nil || v.CallID == "" || len(v.Participants) != 2 || len(v.Rows) != 7 || v.Notes == nil || v.Findings == nil {
				t.Errorf("bad ladder JSON (%v): %.200s", err, ln)
			}
		}
	})
	t.Run("svg", func(t *testing.T) {
		out, _, code := sipflow(t, nil, "flow", "--format", "svg", p)
		if code != 0 || strings.Count(out, `class="sf-ladder"`) != 3 {
			t.Fatalf("exit %d, %d ladders", code, strings.Count(out, `class="sf-ladder"`))
		}
		xmlWellFormed(t, out)
	})
	t.Run("mermaid", func(t *testing.T) {
		out, _, code := sipflow(t, nil, "flow", "--format", "mermaid", p)
		if code != 0 || strings.Count(out, "```mermaid\nsequenceDiagram\n") != 3 {
			t.Errorf("exit %d, want Markdown with 3 diagrams:\n%s", code, out)
		}
	})
	t.Run("html", func(t *testing.T) {
		out, _, code := sipflow(t, nil, "flow", "--format", "html", p)
		if code != 0 || strings.Count(out, `<tr data-call=`) != 3 || strings.Count(out, `<section class="sf-call"`) != 3 {
			t.Errorf("exit %d, want a page with a list of 3 calls", code)
		}
	})
}

func xmlWellFormed(t *testing.T, doc string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
}

// TestFlowOutputFile: -o writes the file, its extension choosing the format.
func TestFlowOutputFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, start string }{
		{"call.svg", `<?xml version="1.0" encoding="UTF-8"?>` + "\n<svg "},
		{"call.html", "<!DOCTYPE html>"},
		{"call.htm", "<!DOCTYPE html>"},
		{"call.mmd", "sequenceDiagram\n"},
		{"call.md", "## call "},
		{"call.json", `{"call_id":"1-24089@127.0.10.1"`},
		{"call.txt", "call 1-24089@127.0.10.1 · completed"},
		{"call.unknown", "call 1-24089@127.0.10.1 · completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			out, errs, code := sipflow(t, nil, "flow", "-o", p, repoTestdata("call_rtp.pcap"))
			if code != 0 || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errs)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(b), tt.start) {
				t.Errorf("%s starts with %.80q, want %q", tt.name, b, tt.start)
			}
			if bytes.Contains(b, []byte("\x1b[")) {
				t.Errorf("colour escapes in a file")
			}
		})
	}
	t.Run("format wins over the extension", func(t *testing.T) {
		p := filepath.Join(dir, "x.svg")
		if _, errs, code := sipflow(t, nil, "flow", "--format", "mermaid", "-o", p, repoTestdata("call_rtp.pcap")); code != 0 {
			t.Fatal(errs)
		}
		if b, _ := os.ReadFile(p); !bytes.HasPrefix(b, []byte("sequenceDiagram")) {
			t.Errorf("got %.40q", b)
		}
	})
	t.Run("unwritable", func(t *testing.T) {
		_, errs, code := sipflow(t, nil, "flow", "-o", filepath.Join(dir, "no", "such", "dir.svg"), repoTestdata("call_rtp.pcap"))
		if code != 2 || !strings.Contains(errs, "no/such") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
}

func TestFlowKinds(t *testing.T) {
	reg := repoTestdata("register_wrong_password.pcap")
	_, errs, code := sipflow(t, nil, "flow", reg)
	if code != 2 || !strings.Contains(errs, "1 registration would with --all") {
		t.Errorf("exit %d, stderr %q: want a hint to use --all", code, errs)
	}
	out, _, code := sipflow(t, nil, "flow", "--call", "1-24991@127.0.16.1", "--width", "100", reg)
	if code != 0 || !strings.HasPrefix(out, "registration 1-24991@127.0.16.1") {
		t.Errorf("--call names a registration: exit %d\n%s", code, out)
	}
}

func TestFlowMessage(t *testing.T) {
	rtp := repoTestdata("call_rtp.pcap")
	out, errs, code := sipflow(t, nil, "flow", "--message", "4", rtp)
	if code != 0 || !strings.HasPrefix(out, "packet 4  2026-11-22 00:33:05.877412 UTC  127.0.10.2:5060 -> 127.0.10.1:5060  udp  call 1-24089@127.0.10.1\n\nSIP/2.0 200 OK\n") ||
		!strings.HasSuffix(out, "a=sendrecv\n") || strings.Contains(out, "\r") {
		t.Errorf("exit %d, stderr %q:\n%q", code, errs, out)
	}
	for _, args := range [][]string{
		{"flow", "--message", "6", rtp},                    // an RTP packet
		{"flow", "--message", "999", rtp},                  // no such packet
		{"flow", "--message", "4", "--format", "svg", rtp}, // text only
	} {
		if _, _, code := sipflow(t, nil, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestFlowFull(t *testing.T) {
	out, _, code := sipflow(t, nil, "flow", "--full", "--color", "never", "--width", "100", repoTestdata("call_rtp.pcap"))
	if code != 0 || strings.Count(out, "Via: SIP/2.0/UDP 127.0.10.1:5060") != 7 || !strings.Contains(out, "a=rtpmap:8 PCMA/8000") {
		t.Errorf("exit %d, --full does not show every message's text:\n%s", code, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if len([]rune(line)) > 100 {
			t.Errorf("line wider than 100: %q", line)
		}
	}
}

func TestFlowFlags(t *testing.T) {
	rtp := repoTestdata("call_rtp.pcap")
	for _, args := range [][]string{
		{"--by", "mac"},
		{"--alias", "nobody"},
		{"--alias", "pbx.example.com=PBX"},
		{"--alias", "10.0.0.1="},
		{"--format", "png"},
		{"--width", "-3"},
		{"--state", "bogus"},
	} {
		_, errs, code := sipflow(t, nil, append(append([]string{"flow"}, args...), rtp)...)
		if code != 2 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
	out, _, code := sipflow(t, nil, "flow", "--alias", "127.0.10.1=Alice phone", "--alias", "127.0.10.2:5060=Bob", "--width", "100", rtp)
	if code != 0 || !strings.Contains(out, "Alice phone") || !strings.Contains(out, "Bob") || strings.Contains(out, "sipflow-testdata UAC") {
		t.Errorf("aliases not shown:\n%s", out)
	}
}

// TestFlowColor: colour only when asked (or on a terminal), never on a
// capture's own escape sequences.
func TestFlowColor(t *testing.T) {
	rtp := repoTestdata("call_rtp.pcap")
	out, _, _ := sipflow(t, nil, "flow", "--width", "100", rtp)
	if strings.Contains(out, "\x1b") {
		t.Errorf("colour written to a pipe")
	}
	out, _, _ = sipflow(t, nil, "flow", "--color", "always", "--width", "100", rtp)
	if !strings.Contains(out, "\x1b[") {
		t.Errorf("--color always drew no colour")
	}
	msg := []byte("SIP/2.0 486 \x1b]0;pwned\x07 <script>\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx\r\n" +
		"From: \"\x1b[2J -->> ;\" <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n" +
		"Call-ID: evil\x1b[31m\r\nCSeq: 1 INVITE\r\nServer: \x1b]0;x\x07\r\nContent-Length: 0\r\n\r\n")
	p := writeFile(t, "evil.pcap", pcapBytes(t, layers.LinkTypeEthernet,
		synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", sipReq("INVITE", "evil\x1b[31m")),
		synth.UDP("10.0.0.2:5060", "10.0.0.1:5060", msg)))
	sgr := regexp.MustCompile(`\x1b\[[0-9;]*m`)
	for _, color := range []string{"never", "always"} {
		out, errs, code := sipflow(t, nil, "flow", "--color", color, "--full", "--width", "120", p)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		bare := sgr.ReplaceAllString(out, "")
		if strings.ContainsAny(bare, "\x1b\x07") {
			t.Errorf("--color %s: raw escape reached the output: %q", color, out)
		}
		if !strings.Contains(bare, `486 \x1b]0;pwned\x07 <script>`) || !strings.Contains(bare, `\x1b]0;x\x07`) {
			t.Errorf("--color %s: escapes not shown visibly:\n%s", color, bare)
		}
	}
}

// TestFlowDamaged: a capture cut short is drawn up to the damage, exit 3.
func TestFlowDamaged(t *testing.T) {
	b, err := os.ReadFile(repoTestdata("call_rtp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	p := writeFile(t, "cut.pcap", b[:2000])
	out, errs, code := sipflow(t, nil, "flow", "--width", "100", p)
	if code != 3 || !strings.Contains(out, "INVITE") || !strings.Contains(errs, "cut.pcap") {
		t.Errorf("exit %d, stderr %q:\n%s", code, errs, out)
	}
	if _, _, code := sipflow(t, nil, "flow", "/nonexistent.pcap"); code != 2 {
		t.Errorf("missing file: exit %d", code)
	}
}

// TestRulesREADME: the README lists the rules as check --rules prints them.
func TestRulesREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)The rules \\(`sipflow check --rules`\\):\n\n```\n(.*?)```\n").FindSubmatch(readme)
	if m == nil {
		t.Fatal("no check --rules block in the README")
	}
	out, errs, code := sipflow(t, nil, "check", "--rules")
	if code != 0 || out != string(m[1]) {
		t.Errorf("README's rules differ from check --rules (exit %d, stderr %q):\n%s", code, errs, out)
	}
}

// TestFlowPastProxyPublic: the public capture SIP-Call-with-Proxy-Server.pcap
// (when present) is a call through a proxy that does not Record-Route,
// whose ACK and BYE go between the phones straight: calls, flow and
// report, which must agree, each say it is a basic-call. Before, each
// said it left basic-call at its ACK (found by review).
func TestFlowPastProxyPublic(t *testing.T) {
	shared := os.Getenv("SIPFLOW_SHARED")
	if shared == "" {
		shared = filepath.Join("..", "..", "..", "shared")
	}
	p := filepath.Join(shared, "captures", "public", "sip_captures", "SIP-Call-with-Proxy-Server.pcap")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no public capture: %v", err)
	}
	const id = "75104938772201062721@10.33.6.101"
	out, errs, code := sipflow(t, nil, "calls", "--json", "--call-id", id, p)
	var call struct {
		Flow      *string `json:"flow"`
		Deviation *string `json:"deviation"`
	}
	if err := json.Unmarshal([]byte(out), &call); code != 0 || err != nil || call.Flow == nil || *call.Flow != "basic-call" || call.Deviation != nil {
		t.Errorf("calls: exit %d (%s), %v: %s", code, errs, err, out)
	}
	out, errs, code = sipflow(t, nil, "flow", "--color", "never", "--call-id", id, p)
	if code != 0 || !strings.HasSuffix(out, "\nflow: basic-call\n") {
		t.Errorf("flow: exit %d (%s):\n%s", code, errs, out)
	}
	html := filepath.Join(t.TempDir(), "report.html")
	if _, errs, code = sipflow(t, nil, "report", "-o", html, p); code != 0 {
		t.Fatalf("report: exit %d: %s", code, errs)
	}
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), "basic-call") || strings.Contains(string(b), "left basic-call") {
		t.Errorf("report (%v): want basic-call, not a deviation from it", err)
	}
}
