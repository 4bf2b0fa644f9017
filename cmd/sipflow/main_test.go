package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/internal/synth"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sipflow runs the CLI in-process and returns stdout, stderr and the exit status.
func sipflow(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, bytes.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/sipflow -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from golden file (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// repoTestdata is the repository's testdata folder.
func repoTestdata(name string) string { return filepath.Join("..", "..", "testdata", name) }

func TestMessagesGolden(t *testing.T) {
	for _, name := range []string{"call_rtp.pcap", "register_401.pcap", "call_tcp.pcap", "call_ipv6.pcap"} {
		t.Run(name, func(t *testing.T) {
			out, errs, code := sipflow(t, nil, "messages", "--color", "never", repoTestdata(name))
			if code != 0 || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			golden(t, "messages_"+name+".txt", out)
			out, errs, code = sipflow(t, nil, "messages", "--json", repoTestdata(name))
			if code != 0 || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var v map[string]any
				if err := json.Unmarshal([]byte(line), &v); err != nil {
					t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
				}
				for _, k := range []string{"n", "ts", "src", "dst", "transport", "call_id", "cseq", "cseq_method", "from_tag", "to_tag", "branch", "sdp"} {
					if _, ok := v[k]; !ok {
						t.Errorf("line %d has no %q: %s", i+1, k, line)
					}
				}
			}
			golden(t, "messages_"+name+".json", out)
		})
	}
}

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func sipReq(method, callID string) []byte {
	return []byte(method + " sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK" + callID + "\r\n" +
		"From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: 1 " + method + "\r\nContent-Length: 0\r\n\r\n")
}

func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func pcapBytes(t *testing.T, link layers.LinkType, frames ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := synth.WritePcap(&b, link, synth.Times(t0, time.Millisecond, frames...)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestMessagesFormats(t *testing.T) {
	eth := synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", sipReq("OPTIONS", "eth"))
	raw := synth.UDPPacket("10.0.0.3:5060", "10.0.0.4:5060", sipReq("OPTIONS", "raw"))
	sll := append(make([]byte, 16), synth.UDPPacket("10.0.0.5:5060", "10.0.0.6:5060", sipReq("OPTIONS", "sll"))...)
	binary.BigEndian.PutUint16(sll[14:], 0x0800)
	var ng bytes.Buffer
	if err := synth.WritePcapng(&ng, []synth.Frame{
		{Time: t0, Data: eth, Link: layers.LinkTypeEthernet},
		{Time: t0.Add(time.Millisecond), Data: raw, Link: layers.LinkTypeRaw},
		{Time: t0.Add(2 * time.Millisecond), Data: sll, Link: layers.LinkTypeLinuxSLL},
	}); err != nil {
		t.Fatal(err)
	}
	plain := pcapBytes(t, layers.LinkTypeEthernet, eth)
	tests := []struct {
		name string
		file []byte
		want []string // call IDs in order
	}{
		{"pcap", plain, []string{"eth"}},
		{"pcap.gz", synth.Gzip(plain), []string{"eth"}},
		{"pcapng mixed link types", ng.Bytes(), []string{"eth", "raw", "sll"}},
		{"pcapng.gz", synth.Gzip(ng.Bytes()), []string{"eth", "raw", "sll"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// By name, and on stdin: detected by magic, never by name.
			for _, args := range [][]string{{"messages", "--json", writeFile(t, "capture.bin", tt.file)}, {"messages", "--json", "-"}} {
				out, errs, code := sipflow(t, tt.file, args...)
				if code != 0 || errs != "" {
					t.Fatalf("%v: exit %d stderr %q", args, code, errs)
				}
				var ids []string
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					var v struct {
						CallID string `json:"call_id"`
					}
					json.Unmarshal([]byte(line), &v)
					ids = append(ids, v.CallID)
				}
				if strings.Join(ids, ",") != strings.Join(tt.want, ",") {
					t.Errorf("%v: call IDs %v, want %v", args, ids, tt.want)
				}
			}
		})
	}
}

func TestExitStatus(t *testing.T) {
	good := pcapBytes(t, layers.LinkTypeEthernet,
		synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", sipReq("INVITE", "one")),
		synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", sipReq("BYE", "two")))
	truncated := good[:len(good)-20]
	t.Run("missing file", func(t *testing.T) {
		_, errs, code := sipflow(t, nil, "messages", "/nonexistent/x.pcap")
		if code != 2 || !strings.Contains(errs, "/nonexistent/x.pcap") || strings.Contains(errs, "goroutine") {
			t.Errorf("exit %d stderr %q", code, errs)
		}
	})
	t.Run("not a capture", func(t *testing.T) {
		p := writeFile(t, "notes.txt", []byte("hello, this is not a capture\n"))
		_, errs, code := sipflow(t, nil, "messages", p)
		if code != 2 || !strings.Contains(errs, p) {
			t.Errorf("exit %d stderr %q", code, errs)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		p := writeFile(t, "cut.pcap", truncated)
		out, errs, code := sipflow(t, nil, "messages", "--json", p)
		if code != 3 {
			t.Errorf("exit %d, want 3", code)
		}
		if !strings.Contains(out, `"call_id":"one"`) || strings.Contains(out, `"call_id":"two"`) {
			t.Errorf("output before the damage should be kept: %q", out)
		}
		// Packet 2's record starts after the 24-byte file header and packet 1's 16-byte header and data.
		off := 24 + 16 + len(synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", sipReq("INVITE", "one")))
		for _, want := range []string{p, "packet 2", "offset " + itoa(off)} {
			if !strings.Contains(errs, want) {
				t.Errorf("stderr %q does not name %q", errs, want)
			}
		}
	})
	t.Run("bad flag", func(t *testing.T) {
		_, _, code := sipflow(t, nil, "messages", "--colour", "x")
		if code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
	t.Run("bad color", func(t *testing.T) {
		_, errs, code := sipflow(t, nil, "messages", "--color", "sometimes", "x.pcap")
		if code != 2 || !strings.Contains(errs, "--color") {
			t.Errorf("exit %d stderr %q", code, errs)
		}
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestErrorFileNameEscaped: an error that quotes a file's name (chosen by
// whoever sent the capture) never writes its escape sequences raw.
func TestErrorFileNameEscaped(t *testing.T) {
	name := "x_\x1b]0;pwned\x07_\u009b2J.pcap"
	p := writeFile(t, name, []byte("hello, this is not a capture\n"))
	for _, cmd := range []string{"calls", "messages", "check"} {
		_, errs, code := sipflow(t, nil, cmd, p)
		if code != 2 || strings.ContainsAny(errs, "\x1b\x07\u009b") || !strings.Contains(errs, `\x1b]0;pwned\x07`) {
			t.Errorf("%s: exit %d, stderr %q", cmd, code, errs)
		}
	}
}

// TestUnreadCaptureNoResult: a capture that cannot be read at all gives
// an error and no result. "no calls" or "no findings" on standard output
// would read as an answer, and a file named by -o is neither made nor
// emptied; nor is it when no call matches.
func TestUnreadCaptureNoResult(t *testing.T) {
	dir := t.TempDir()
	notCapture := writeFile(t, "notes.txt", []byte("hello, this is not a capture\n"))
	for _, file := range []string{filepath.Join(dir, "missing.pcap"), notCapture} {
		for _, args := range [][]string{
			{"calls"}, {"calls", "--json"}, {"check"}, {"check", "--json"},
			{"rtp"}, {"rtp", "--json"}, {"report"}, {"flow"}, {"messages"},
		} {
			args := append(args, file)
			out, errs, code := sipflow(t, nil, args...)
			if code != 2 || out != "" || !strings.Contains(errs, file) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2, nothing, the file named", args, code, out, errs)
			}
		}
		for _, cmd := range []string{"report", "flow"} {
			made := filepath.Join(dir, cmd+"-new.html")
			old := filepath.Join(dir, cmd+"-old.html")
			if err := os.WriteFile(old, []byte("an older result"), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, o := range []string{made, old} {
				if _, _, code := sipflow(t, nil, cmd, file, "-o", o); code != 2 {
					t.Errorf("%s -o %s: exit %d, want 2", cmd, o, code)
				}
			}
			if _, err := os.Stat(made); !os.IsNotExist(err) {
				t.Errorf("%s -o: %s was made (%v)", cmd, made, err)
			}
			if b, err := os.ReadFile(old); err != nil || string(b) != "an older result" {
				t.Errorf("%s -o: %s is now %q (%v)", cmd, old, b, err)
			}
		}
	}
	old := filepath.Join(dir, "kept.svg")
	if err := os.WriteFile(old, []byte("an older ladder"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := sipflow(t, nil, "flow", "--call", "no-such-call", repoTestdata("call_rtp.pcap"), "-o", old)
	if b, _ := os.ReadFile(old); code != 2 || !strings.Contains(errs, "no call") || string(b) != "an older ladder" {
		t.Errorf("flow --call no-such-call -o: exit %d, stderr %q, file now %q", code, errs, b)
	}
	// A good capture still writes its result, and -o makes the file.
	got := filepath.Join(dir, "good.svg")
	if _, errs, code := sipflow(t, nil, "flow", repoTestdata("call_rtp.pcap"), "-o", got); code != 0 {
		t.Fatalf("flow -o: exit %d, stderr %q", code, errs)
	}
	if b, err := os.ReadFile(got); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("flow -o good.svg: %v, %.40q", err, b)
	}
	if _, errs, code := sipflow(t, nil, "report", repoTestdata("call_rtp.pcap"), "-o", filepath.Join(dir, "no-such-folder", "r.html")); code != 2 || !strings.Contains(errs, "no-such-folder") {
		t.Errorf("report -o into a missing folder: exit %d, stderr %q", code, errs)
	}
}

// TestHostileHeaderEscaped: a display name and Call-ID with terminal escape
// sequences never reach the terminal raw.
func TestHostileHeaderEscaped(t *testing.T) {
	msg := []byte("SIP/2.0 486 \x1b]0;pwned\x07\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx\r\n" +
		"From: \"\x1b[2J\" <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n" +
		"Call-ID: evil\x1b[31m\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
	p := writeFile(t, "evil.pcap", pcapBytes(t, layers.LinkTypeEthernet, synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", msg)))
	for _, color := range []string{"never", "always"} {
		out, errs, code := sipflow(t, nil, "messages", "--color", color, p)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if strings.Contains(out, "\x07") || strings.Contains(out, "\x1b]") || strings.Contains(out, "\x1b[2J") || strings.Contains(out, "\x1b[31m") {
			t.Errorf("--color %s: raw escape reached the output: %q", color, out)
		}
		if !strings.Contains(out, `\x1b]0;pwned\x07`) {
			t.Errorf("--color %s: escape not shown visibly: %q", color, out)
		}
	}
}

// TestInvisibleShownInTables: a zero-width space, a word joiner or a BOM
// in a Call-ID, a display name or a reason phrase is shown in every table
// and ladder, as render.Sanitize shows control characters: invisible, it
// would make 1-24089\u200b@h a look-alike of 1-24089@h.
func TestInvisibleShownInTables(t *testing.T) {
	h := func(cseq string) string {
		return "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKz\r\n" +
			"From: \"Al\u2060ice\" <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n" +
			"Call-ID: 1-24089\u200b@h\r\nCSeq: " + cseq + "\r\nContent-Length: 0\r\n\r\n"
	}
	p := writeFile(t, "invisible.pcap", pcapBytes(t, layers.LinkTypeEthernet,
		synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", []byte("INVITE sip:b@example.com SIP/2.0\r\n"+h("1 INVITE"))),
		synth.UDP("10.0.0.2:5060", "10.0.0.1:5060", []byte("SIP/2.0 486 Busy\ufeff Here\r\n"+h("1 INVITE"))),
		synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", []byte("ACK sip:b@example.com SIP/2.0\r\n"+h("1 ACK")))))
	for _, args := range [][]string{
		{"calls", "--all", "--color", "never"},
		{"check", "--color", "never"},
		{"messages", "--color", "never"},
		{"flow", "--color", "never"},
		{"flow", "--format", "svg"},
		{"flow", "--format", "html"},
		{"flow", "--format", "mermaid"},
	} {
		out, errs, code := sipflow(t, nil, append(args, p)...)
		if code > 1 { // check exits 1 for the 486
			t.Fatalf("%s: exit %d: %s", args, code, errs)
		}
		if strings.ContainsAny(out, "\u200b\u2060\ufeff") {
			t.Errorf("%s: an invisible character reached the output raw:\n%s", args, out)
		}
		want := `1-24089\xe2\x80\x8b`
		if args[len(args)-1] == "mermaid" {
			want = `1-24089#92;xe2#92;x80#92;x8b`
		}
		if !strings.Contains(out, want) {
			t.Errorf("%s: the Call-ID is not shown as %s:\n%s", args, want, out)
		}
	}
}

// TestMemProfileSampling checks that sipflow as a program samples
// allocations for a memory profile only when --memprofile asks for one,
// and that commands run in-process (tests) leave the rate alone.
func TestMemProfileSampling(t *testing.T) {
	defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
	const def = 512 * 1024
	capture := repoTestdata("call_busy.pcap")
	for _, tc := range []struct {
		name    string
		program bool
		args    []string
		want    int
	}{
		{"program", true, []string{"calls", "--json", capture}, 0},
		{"program --memprofile", true, []string{"calls", "--json", "--memprofile", filepath.Join(t.TempDir(), "m.out"), capture}, def},
		{"program --memprofile=", true, []string{"--memprofile=" + filepath.Join(t.TempDir(), "m.out"), "calls", "--json", capture}, def},
		{"in-process", false, []string{"calls", "--json", capture}, def},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.MemProfileRate = def
			var out, errb bytes.Buffer
			g := &globalOptions{streams: streams{In: bytes.NewReader(nil), Out: &out, Err: &errb}, program: tc.program}
			if code := runWith(g, tc.args); code != exitOK {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if runtime.MemProfileRate != tc.want {
				t.Errorf("MemProfileRate = %d, want %d", runtime.MemProfileRate, tc.want)
			}
		})
	}
}

// appendBlock appends a little-endian pcapng block to b.
func appendBlock(b []byte, typ uint32, body []byte) []byte {
	le := binary.LittleEndian
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	b = le.AppendUint32(b, typ)
	b = le.AppendUint32(b, uint32(12+len(body)))
	b = append(b, body...)
	return le.AppendUint32(b, uint32(12+len(body)))
}

// appendSHB appends a little-endian pcapng section header of unknown length.
func appendSHB(b []byte) []byte {
	le := binary.LittleEndian
	shb := le.AppendUint32(nil, 0x1a2b3c4d)
	shb = le.AppendUint16(shb, 1)
	shb = le.AppendUint16(shb, 0)
	shb = le.AppendUint64(shb, ^uint64(0))
	return appendBlock(b, 0x0a0d0d0a, shb)
}

// TestUntimedPackets: a pcapng file of simple packet blocks, which carry no
// timestamp, is read with every packet at the Unix epoch and one warning,
// and analysed whole: the call with its RTP, and archived at 1970. (Before:
// the year 1, which the archive stored as 1754, and no RTP: the clock held
// the first packet's time until a packet of another time, which never came.)
func TestUntimedPackets(t *testing.T) {
	src, err := capture.Open(repoTestdata("call_rtp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	le := binary.LittleEndian
	b := appendSHB(nil)
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		if p.N == 1 {
			b = appendBlock(b, 1, le.AppendUint32(le.AppendUint16(nil, uint16(p.Link)), 0))
		}
		b = appendBlock(b, 3, append(le.AppendUint32(nil, uint32(len(p.Data))), p.Data...))
	}
	file := filepath.Join(t.TempDir(), "untimed.pcapng")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := sipflow(t, nil, "calls", "--json", file)
	if code != 0 || !strings.Contains(out, `"start":"1970-01-01T00:00:00.000000000Z"`) || !strings.Contains(out, `"state":"completed"`) {
		t.Errorf("calls: exit %d, %s", code, out)
	}
	if strings.Count(errs, "simple packet block") != 1 || !strings.Contains(errs, "packet 1: at byte offset 48: no timestamp: ") {
		t.Errorf("calls: stderr %q, want one warning for packet 1", errs)
	}
	out, _, code = sipflow(t, nil, "rtp", "--json", file)
	if code != 0 || strings.Count(out, `"packets":67,`) != 2 {
		t.Errorf("rtp: exit %d, want two streams of 67 packets:\n%s", code, out)
	}
	db := filepath.Join(t.TempDir(), "a.db")
	if _, errs, code := sipflow(t, nil, "archive", "--db", db, file); code != 0 {
		t.Fatalf("archive: exit %d, %s", code, errs)
	}
	out, _, code = sipflow(t, nil, "search", "--db", db, "--json")
	if code != 0 || !strings.Contains(out, `"start":"1970-01-01T00:00:00.000000000Z"`) {
		t.Errorf("search: exit %d, %s", code, out)
	}
}

// TestDamagedRecordsSurvive: a capture with a packet record that cannot be
// taken (on an interface its section does not describe) and one packet
// stamped an hour ahead of the rest, in the middle of a call: both are
// warned of, naming the packet, and the call comes out as it does from the
// capture without them. (The record ended the file; the timestamp
// finished the call as it stood, and made its BYE a call of its own.)
func TestDamagedRecordsSurvive(t *testing.T) {
	src, err := capture.Open(repoTestdata("call_rtp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	le := binary.LittleEndian
	block := appendBlock
	epb := func(b []byte, iface uint32, at time.Time, data []byte) []byte {
		us := uint64(at.UnixMicro())
		body := le.AppendUint32(nil, iface)
		body = le.AppendUint32(body, uint32(us>>32))
		body = le.AppendUint32(body, uint32(us))
		body = le.AppendUint32(body, uint32(len(data)))
		body = le.AppendUint32(body, uint32(len(data)))
		return block(b, 6, append(body, data...))
	}
	b := appendSHB(nil)
	var last time.Time
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		if p.N == 1 {
			b = block(b, 1, le.AppendUint32(le.AppendUint16(nil, uint16(p.Link)), 0))
		}
		b = epb(b, 0, p.Time, p.Data)
		switch p.N {
		case 10: // packet 11: an interface the section does not describe
			b = epb(b, 5, p.Time, p.Data)
		case 70: // packet 72: an hour ahead, then back
			b = epb(b, 0, p.Time.Add(time.Hour), synth.UDP("127.0.0.9:9", "127.0.0.10:9", []byte("not SIP")))
		}
		last = p.Time
	}
	if last.IsZero() {
		t.Fatal("no packets read")
	}
	want, _, _ := sipflow(t, nil, "calls", repoTestdata("call_rtp.pcap"))
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	shown := regexp.MustCompile("(?s)```\n\\$ sipflow calls damaged.pcapng\n(.*?)```\n").FindSubmatch(readme)
	t.Setenv("COLUMNS", "")
	t.Chdir(t.TempDir()) // the README's example names the file as given
	if err := os.WriteFile("damaged.pcapng", b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := sipflow(t, nil, "calls", "damaged.pcapng")
	if code != 0 || out != want {
		t.Errorf("exit %d, stdout\n%s\nwant exit 0 and\n%s", code, out, want)
	}
	for _, w := range []string{
		"sipflow: warning: damaged.pcapng: packet 11: at byte offset ",
		": corrupt: packet on interface 5, but the section describes 1: skipped\n",
		"sipflow: warning: damaged.pcapng: packet 72: timestamp jumps ahead: ",
		" is 1h0m0s after the packet before it (",
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
	if shown == nil || string(shown[1]) != errs+out {
		t.Errorf("the README's example differs from what a terminal shows:\n%s%s", errs, out)
	}
}

// TestUnknownLinkNoted: packets of a link type sipflow does not decode are
// warned of once and counted in a note, not dropped in silence.
func TestUnknownLinkNoted(t *testing.T) {
	frame := synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", []byte("OPTIONS sip:x SIP/2.0\r\n\r\n"))
	file := writeFile(t, "user0.pcap", pcapBytes(t, layers.LinkType(147), frame, frame, frame))
	out, errs, code := sipflow(t, nil, "calls", file)
	want := "sipflow: warning: " + file + ": packet 1: unknown link type: link type 147 is not one sipflow decodes: this packet, and every later one of that link type, skipped\n" +
		"sipflow: note: " + file + ": 3 packet(s) of a link type sipflow does not decode were skipped\n"
	if code != 0 || out != "no calls\n" || errs != want {
		t.Errorf("exit %d, stdout %q, stderr\n%s\nwant exit 0, no calls, and\n%s", code, out, errs, want)
	}
}

// TestFileNamesEscapedEverywhere: whatever a command writes on its own
// (archive's line per file, its errors for each file, the file written
// by audio and export) escapes a file name's escape sequences, C1
// controls and bidi overrides, as runWith does for the error that ends a
// command; a line break in it starts no line of its own.
func TestFileNamesEscapedEverywhere(t *testing.T) {
	const evil = "ev\x1b[31mil\x9b\u202e\nforged"
	const shown = `ev\x1b[31mil\x9b\xe2\x80\xae\x0aforged`
	dir := t.TempDir()
	good, _ := os.ReadFile(repoTestdata("call_rtp.pcap"))
	cut := filepath.Join(dir, evil+".pcap.cut")
	whole := filepath.Join(dir, evil+".pcap")
	os.WriteFile(cut, good[:700], 0o644)
	os.WriteFile(whole, good, 0o644)
	notCapture := filepath.Join(dir, evil+".txt")
	os.WriteFile(notCapture, []byte("hello, this is not a capture\n"), 0o644)
	db := filepath.Join(dir, evil+".db")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"archive cut", []string{"archive", "--db", db, cut}, exitDamaged},
		{"archive missing", []string{"archive", "--db", db, filepath.Join(dir, evil+".missing")}, exitUsage},
		{"archive not a capture", []string{"archive", "--db", db, notCapture}, exitUsage},
		{"archive", []string{"archive", "--db", db, whole}, exitOK},
		{"archive again", []string{"archive", "--db", db, whole}, exitOK},
		{"audio", []string{"audio", whole, "--call", "1-24089", "-o", filepath.Join(dir, evil+".wav")}, exitOK},
		{"export", []string{"export", whole, "--call", "1-24089@127.0.10.1", "-w", filepath.Join(dir, evil+".out.pcap")}, exitOK},
		{"export db", []string{"export", "--db", db, "--call", "1-24089@127.0.10.1", "-w", filepath.Join(dir, evil+".out.pcap")}, exitUsage}, // in two captures
		{"flow cut", []string{"flow", cut}, exitDamaged},
		{"report cut", []string{"report", cut}, exitDamaged},
	} {
		out, errs, code := sipflow(t, nil, tc.args...)
		both := out + errs
		if code != tc.code || strings.ContainsAny(both, "\x1b\u202e") || strings.Contains(both, "\x9b") || !strings.Contains(both, shown) || strings.Contains(both, "\nforged") {
			t.Errorf("%s: exit %d (want %d), stdout %q, stderr %q", tc.name, code, tc.code, out, errs)
		}
	}
}
