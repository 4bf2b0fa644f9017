package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/synth"
	"github.com/sipflow/sipflow/media"
)

func TestRTPCommand(t *testing.T) {
	out, errs, code := sipflow(t, nil, "rtp", "--json", repoTestdata("call_rtp.pcap"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d streams, want 2:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"call_id", "src", "dst", "ssrc", "codec", "packets", "lost", "lost_pct", "duplicates",
			"out_of_order", "max_delta_ms", "jitter_mean_ms", "jitter_max_ms", "mos", "dtmf"} {
			if _, ok := v[k]; !ok {
				t.Errorf("no %q in %s", k, l)
			}
		}
		// tshark -z rtp,streams on this file: 67 packets each way, no loss, g711A.
		if v["packets"].(float64) != 67 || v["lost"].(float64) != 0 || v["codec"] != "PCMA" {
			t.Errorf("stream %s", l)
		}
	}
	golden(t, "rtp_call_rtp.pcap.json", out)
	// The streams are in calls --json too.
	out, _, _ = sipflow(t, nil, "calls", "--json", repoTestdata("call_rtp.pcap"))
	var call struct {
		Streams []map[string]any `json:"rtp_streams"`
	}
	json.Unmarshal([]byte(out), &call)
	if len(call.Streams) != 2 {
		t.Errorf("calls --json has %d rtp_streams, want 2", len(call.Streams))
	}
}

// payloads returns the RTP payload bytes sent from src, in order.
func payloads(t *testing.T, file, src string) []byte {
	t.Helper()
	s, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []byte
	var rtp decode.RTP
	h := &handler{datagram: func(d *decode.Datagram) {
		if d.Src.String() == src && decode.ParseRTP(d.Payload, &rtp) == nil {
			out = append(out, rtp.Payload...)
		}
	}, warnings: &warnings{w: io.Discard}}
	dec := decode.NewDecoder(h, decode.Options{})
	for {
		p, err := s.Next()
		if err == io.EOF {
			break
		}
		dec.Decode(p)
	}
	return out
}

// TestAudioWAV: the WAV file holds, channel by channel, exactly the G.711
// samples each side sent (SIPp's sample audio, no loss in this capture).
func TestAudioWAV(t *testing.T) {
	wav := filepath.Join(t.TempDir(), "call.wav")
	_, errs, code := sipflow(t, nil, "audio", repoTestdata("call_rtp.pcap"), "--call", "...@127.0.10.1", "-o", wav)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(wav)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" || binary.LittleEndian.Uint16(b[22:24]) != 2 ||
		binary.LittleEndian.Uint32(b[24:28]) != 8000 || binary.LittleEndian.Uint16(b[34:36]) != 16 {
		t.Fatalf("not a 2-channel 8 kHz 16-bit WAV: % x", b[:44])
	}
	data := b[44:]
	frames := len(data) / 4
	for ch, src := range []string{"127.0.10.1:16000", "127.0.10.2:16000"} {
		sent := payloads(t, repoTestdata("call_rtp.pcap"), src)
		if len(sent) == 0 || len(sent) > frames {
			t.Fatalf("channel %d: %d payload bytes for %d frames", ch+1, len(sent), frames)
		}
		// The channel starts when its stream started; find the first sample.
		first := -1
		for i := 0; i < frames; i++ {
			if int16(binary.LittleEndian.Uint16(data[i*4+ch*2:])) != 0 {
				first = i
				break
			}
		}
		want0 := media.DecodeALaw(sent[0])
		for first > 0 && int16(binary.LittleEndian.Uint16(data[(first-1)*4+ch*2:])) == 0 && want0 == 0 {
			first--
		}
		if first < 0 || frames-first < len(sent) {
			t.Fatalf("channel %d: audio starts at %d of %d frames, %d samples sent", ch+1, first, frames, len(sent))
		}
		for i, a := range sent {
			got := int16(binary.LittleEndian.Uint16(data[(first+i)*4+ch*2:]))
			if want := media.DecodeALaw(a); got != want {
				t.Fatalf("channel %d sample %d = %d, want %d (A-law %#x)", ch+1, i, got, want, a)
			}
		}
	}
}

// TestAudioDamaged: a capture cut short (tcpdump killed mid-write) still
// gives the audio before the damage, with exit 3; a call not found before
// the damage is said so, and so is damage for export. (Before: no WAV, and
// export said nothing of the Call-ID.)
func TestAudioDamaged(t *testing.T) {
	b, err := os.ReadFile(repoTestdata("call_rtp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	cut := writeFile(t, "cut.pcap", b[:20000])
	wav := filepath.Join(t.TempDir(), "call.wav")
	_, errs, code := sipflow(t, nil, "audio", cut, "--call", "...@127.0.10.1", "-o", wav)
	st, err := os.Stat(wav)
	if code != 3 || err != nil || st.Size() <= 44 || !strings.Contains(errs, "sipflow: wrote ") || !strings.Contains(errs, "truncated") {
		t.Errorf("audio: exit %d, WAV %v %v, stderr %q", code, st, err, errs)
	}
	_, errs, code = sipflow(t, nil, "audio", cut, "--call", "nope", "-o", filepath.Join(t.TempDir(), "n.wav"))
	if code != 3 || !strings.Contains(errs, "no call with Call-ID nope in "+cut+" before the damage") {
		t.Errorf("audio, no such call: exit %d, stderr %q", code, errs)
	}
	_, errs, code = sipflow(t, nil, "export", cut, "--call", "nope", "-w", filepath.Join(t.TempDir(), "n.pcap"))
	if code != 3 || !strings.Contains(errs, "no call with Call-ID nope in ") || !strings.Contains(errs, "before the damage") {
		t.Errorf("export, no such call: exit %d, stderr %q", code, errs)
	}
}

// simpleMsg is a SIP message between a (10.0.0.1) and b: start line, the
// To tag (";tag=b" or ""), the CSeq ("1 INVITE") and an SDP body or "".
func simpleMsg(callID, start, to, cseq, body string) []byte {
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	return []byte(fmt.Sprintf("%s\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%s\r\nFrom: <sip:a@x>;tag=a\r\nTo: <sip:b@x>%s\r\n"+
		"Call-ID: %s\r\nCSeq: %s\r\n%sContent-Length: %d\r\n\r\n%s", start, strings.Fields(cseq)[0], to, callID, cseq, ct, len(body), body))
}

func TestAudioOtherCodec(t *testing.T) {
	sdp := func(ip string, port int) string {
		return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n", ip, ip, port)
	}
	msg := func(start, to, cseq, body string) []byte { return simpleMsg("g729", start, to, cseq, body) }
	frames := [][]byte{
		synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", msg("INVITE sip:b@x SIP/2.0", "", "1 INVITE", sdp("10.0.0.1", 4000))),
		synth.UDP("10.0.0.2:5060", "10.0.0.1:5060", msg("SIP/2.0 200 OK", ";tag=b", "1 INVITE", sdp("10.0.0.2", 5000))),
	}
	for i := 0; i < 10; i++ {
		rtp := synth.RTP(18, uint16(i), uint32(i*160), 7, 20)
		frames = append(frames, synth.UDP("10.0.0.1:4000", "10.0.0.2:5000", rtp))
	}
	var f strings.Builder
	synth.WritePcap(&f, layers.LinkTypeEthernet, synth.Times(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 20*time.Millisecond, frames...))
	p := writeFile(t, "g729.pcap", []byte(f.String()))
	_, errs, code := sipflow(t, nil, "audio", p, "--call", "g729", "-o", filepath.Join(t.TempDir(), "x.wav"))
	if code != 2 || !strings.Contains(errs, "G729") || !strings.Contains(errs, "decoded") {
		t.Errorf("exit %d, stderr %q: want a clear 'not decoded' error naming G729", code, errs)
	}
}

// dtmfCall is a PCMU call whose caller's stream loses one packet and
// sends the digit 5 (RFC 4733), answered with a stream the other way.
func dtmfCall(t *testing.T) string {
	t.Helper()
	sdp := func(ip string, port int) string {
		return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\n"+
			"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n", ip, ip, port)
	}
	msg := func(start, to, cseq, body string) []byte { return simpleMsg("dtmf-call", start, to, cseq, body) }
	rtp := func(pt byte, marker bool, seq int, ts uint32, ssrc uint32, payload []byte) []byte {
		b := make([]byte, 12, 12+len(payload))
		b[0], b[1] = 0x80, pt
		if marker {
			b[1] |= 0x80
		}
		binary.BigEndian.PutUint16(b[2:], uint16(seq))
		binary.BigEndian.PutUint32(b[4:], ts)
		binary.BigEndian.PutUint32(b[8:], ssrc)
		return append(b, payload...)
	}
	frames := [][]byte{
		synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", msg("INVITE sip:b@x SIP/2.0", "", "1 INVITE", sdp("10.0.0.1", 4000))),
		synth.UDP("10.0.0.2:5060", "10.0.0.1:5060", msg("SIP/2.0 200 OK", ";tag=b", "1 INVITE", sdp("10.0.0.2", 5000))),
		synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", msg("ACK sip:b@x SIP/2.0", ";tag=b", "1 ACK", "")),
	}
	audio := make([]byte, 160)
	seq := 0 // the caller's: audio and events share it
	for i := 0; i < 50; i++ {
		if i != 20 { // lost
			frames = append(frames, synth.UDP("10.0.0.1:4000", "10.0.0.2:5000", rtp(0, false, seq, uint32(i*160), 0x1111, audio)))
		}
		seq++
		frames = append(frames, synth.UDP("10.0.0.2:5000", "10.0.0.1:4000", rtp(0, false, i, uint32(i*160), 0x2222, audio)))
		if i >= 30 && i < 33 { // digit 5, 3 packets, the last with the end bit, 480 samples long
			end := byte(0)
			if i == 32 {
				end = 0x80
			}
			ev := []byte{5, end | 10, byte(uint16((i-29)*160) >> 8), byte((i - 29) * 160)}
			frames = append(frames, synth.UDP("10.0.0.1:4000", "10.0.0.2:5000", rtp(101, i == 30, seq, 30*160, 0x1111, ev)))
			seq++
		}
	}
	frames = append(frames,
		synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", msg("BYE sip:b@x SIP/2.0", ";tag=b", "2 BYE", "")),
		synth.UDP("10.0.0.2:5060", "10.0.0.1:5060", msg("SIP/2.0 200 OK", ";tag=b", "2 BYE", "")))
	var f strings.Builder
	synth.WritePcap(&f, layers.LinkTypeEthernet, synth.Times(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 10*time.Millisecond, frames...))
	return writeFile(t, "dtmf.pcap", []byte(f.String()))
}

// TestRTPFromArchiveSameAsCapture: `rtp --db` lists every stream of the
// archived captures byte for byte as `rtp` does from the captures, loss and
// DTMF included; --capture narrows to one capture; --rtp-heuristic, whose
// streams of no call the archive does not keep, is refused.
func TestRTPFromArchiveSameAsCapture(t *testing.T) {
	// The archive lists calls in the order they started: the synthesised
	// call (January 2026) before call_rtp.pcap (November).
	files := []string{dtmfCall(t), repoTestdata("call_rtp.pcap")}
	db := filepath.Join(t.TempDir(), "a.db")
	var want [2]string
	for _, f := range files {
		if _, errs, code := sipflow(t, nil, "archive", "--db", db, f); code != 0 {
			t.Fatalf("archive %s: exit %d: %s", f, code, errs)
		}
		for i, format := range []string{"--json", "--color=never"} {
			out, errs, code := sipflow(t, nil, "rtp", format, f)
			if code != 0 {
				t.Fatalf("rtp %s: exit %d: %s", f, code, errs)
			}
			if i == 1 { // one table from the archive, with its own column widths: compare the rows' cells
				var rows []string
				for _, row := range strings.Split(out, "\n") {
					if strings.Contains(row, "0x") {
						rows = append(rows, strings.Join(strings.Fields(row), " "))
					}
				}
				out = strings.Join(rows, "\n") + "\n"
			}
			want[i] += out
		}
	}
	if !strings.Contains(want[0], `"digit":"5"`) || !strings.Contains(want[0], `"lost":1,`) {
		t.Fatalf("the synthesised call should show the digit 5 and one packet lost:\n%s", want[0])
	}
	got, errs, code := sipflow(t, nil, "rtp", "--json", "--db", db)
	if code != 0 || got != want[0] {
		t.Errorf("rtp --json --db (exit %d, %s):\n%s\nwant, as from the captures:\n%s", code, errs, got, want[0])
	}
	table, _, _ := sipflow(t, nil, "rtp", "--color=never", "--db", db)
	var rows []string
	for _, row := range strings.Split(table, "\n") {
		if strings.Contains(row, "0x") {
			rows = append(rows, strings.Join(strings.Fields(row), " "))
		}
	}
	if got := strings.Join(rows, "\n") + "\n"; got != want[1] {
		t.Errorf("rtp --db table rows:\n%s\nwant:\n%s", got, want[1])
	}
	one, _, _ := sipflow(t, nil, "rtp", "--json", "--db", db, "--capture", "dtmf.pcap")
	if n := strings.Count(one, "\n"); n != 2 || !strings.Contains(one, "dtmf-call") {
		t.Errorf("--capture dtmf.pcap: %d streams, want the 2 of dtmf-call:\n%s", n, one)
	}
	if _, errs, code := sipflow(t, nil, "rtp", "--db", db, "--rtp-heuristic"); code != 2 || !strings.Contains(errs, "archive") {
		t.Errorf("--rtp-heuristic with --db: exit %d, %q; want 2 and why", code, errs)
	}
}

// TestFaxArchived: a call's T.38 streams are archived as its RTP streams
// are: `rtp --db` lists them as `rtp` does from the capture, and the
// call's export holds their UDPTL packets, so the exported capture gives
// the same streams again.
func TestFaxArchived(t *testing.T) {
	file := repoTestdata("t38_fax.pcap")
	dir := t.TempDir()
	db, out := filepath.Join(dir, "a.db"), filepath.Join(dir, "call.pcap")
	if _, errs, code := sipflow(t, nil, "archive", "--db", db, file); code != 0 {
		t.Fatalf("archive: exit %d: %s", code, errs)
	}
	want, _, _ := sipflow(t, nil, "rtp", "--json", file)
	if !strings.Contains(want, `"codec":"T.38"`) {
		t.Fatalf("no T.38 stream in %s:\n%s", file, want)
	}
	if got, errs, code := sipflow(t, nil, "rtp", "--json", "--db", db); code != 0 || got != want {
		t.Errorf("rtp --json --db (exit %d, %s):\n%s\nwant:\n%s", code, errs, got, want)
	}
	if _, errs, code := sipflow(t, nil, "export", "--db", db, "--call", "1-21586@127.0.56.1", "-w", out); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	if got, _, _ := sipflow(t, nil, "rtp", "--json", out); got != want {
		t.Errorf("the exported call's streams:\n%s\nwant:\n%s", got, want)
	}
}

// TestRTPMalformed: packets of the caller's stream spoiled two ways. A header extension that runs past the packet's end leaves no
// payload to find: the packets are not added and count as lost, as
// tshark -z rtp,streams counts them (64 packets, 3 lost). A padding count
// longer than the packet spoils only the padding: tshark adds those
// packets (67, none lost), and so does sipflow. Either way they are said
// apart: malformed in the JSON with the first one's packet number, in the
// table's LOST cell, and, when lost, in rtp-loss's detail. Where tshark
// is installed, its figures are checked on the same files.
func TestRTPMalformed(t *testing.T) {
	extension := func(b []byte) { b[0] |= 0x10; b[14], b[15] = 0xff, 0xff }
	every20th := func(k int) bool { return k%20 == 10 } // the 10th, 30th and 50th
	for _, tc := range []struct {
		name                     string
		spoil                    func(rtp []byte) // the UDP payload, in place
		pick                     func(k int) bool // which of the caller's RTP packets, from 1
		packets, lost, malformed int
		cell                     string
		upTo                     int // in rtp-loss's detail; 0: no finding says it
	}{
		{"extension", extension, every20th, 64, 3, 3, "3 (4.5%), 3 malformed", 3},
		{"padding", func(b []byte) { b[0] |= 0x20; b[len(b)-1] = 0xff }, every20th, 67, 0, 3, "0 (0.0%), 3 malformed", 0},
		// The last 7 too: past the stream's last good packet, no loss.
		{"extension at the end", extension, func(k int) bool { return every20th(k) || k > 60 }, 57, 3, 10, "3 (5.0%), 10 malformed", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "spoilt.pcap")
			bad := spoilRTP(t, repoTestdata("call_rtp.pcap"), dst, tc.pick, tc.spoil)
			js, errs, code := sipflow(t, nil, "rtp", "--json", dst)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			found := false
			for _, l := range strings.Split(strings.TrimSpace(js), "\n") {
				var v struct {
					Src                      string
					Packets, Lost, Malformed int
					MalformedFirstN          int `json:"malformed_first_n"`
				}
				if err := json.Unmarshal([]byte(l), &v); err != nil {
					t.Fatal(err)
				}
				if v.Src != "127.0.10.1:16000" {
					if strings.Contains(l, `"malformed"`) {
						t.Errorf("the other stream says malformed: %s", l)
					}
					continue
				}
				found = true
				if v.Packets != tc.packets || v.Lost != tc.lost || v.Malformed != tc.malformed || v.MalformedFirstN != bad[0] {
					t.Errorf("packets %d, lost %d, malformed %d from packet %d; want %d, %d, %d from %d",
						v.Packets, v.Lost, v.Malformed, v.MalformedFirstN, tc.packets, tc.lost, tc.malformed, bad[0])
				}
			}
			if !found {
				t.Fatalf("no stream from the caller:\n%s", js)
			}
			if table, _, _ := sipflow(t, nil, "rtp", dst); !strings.Contains(table, tc.cell) {
				t.Errorf("the table does not say %q:\n%s", tc.cell, table)
			}
			check, _, _ := sipflow(t, nil, "check", "--json", dst)
			said := strings.Contains(check, fmt.Sprintf("up to %d of them arrived but not readable as RTP (the first malformed is packet %d)", tc.upTo, bad[0]))
			if said != (tc.upTo > 0) || tc.upTo == 0 && strings.Contains(check, "not readable as RTP") {
				t.Errorf("rtp-loss's detail: says up to %d malformed: %v, want %v:\n%s", tc.upTo, said, tc.upTo > 0, check)
			}
			tshark, err := exec.LookPath("tshark")
			if err != nil {
				return
			}
			out, err := exec.Command(tshark, "-n", "-r", dst, "-q", "-z", "rtp,streams").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			for _, l := range strings.Split(string(out), "\n") {
				if f := strings.Fields(l); len(f) > 10 && f[6] == "0xDEE0EE8F" {
					if f[8] != fmt.Sprint(tc.packets) || f[9] != fmt.Sprint(tc.lost) {
						t.Errorf("tshark counts %s packets, %s lost; sipflow %d and %d", f[8], f[9], tc.packets, tc.lost)
					}
					return
				}
			}
			t.Errorf("tshark lists no stream 0xDEE0EE8F:\n%s", out)
		})
	}
}

// spoilRTP copies the pcap src (Ethernet, IPv4) to dst with the RTP
// packets from 127.0.10.1:16000 that pick chooses (by their rank, from 1)
// passed to spoil, and returns their packet numbers.
func spoilRTP(t *testing.T, src, dst string, pick func(int) bool, spoil func([]byte)) []int {
	t.Helper()
	var rtp, bad []int
	rewritePcap(t, src, dst, func(n int, _ layers.LinkType, ci gopacket.CaptureInfo, data []byte, write func(gopacket.CaptureInfo, []byte)) {
		// Ethernet, IPv4 of 20 bytes, UDP from 127.0.10.1:16000.
		if len(data) > 14+20+8+16 && binary.BigEndian.Uint16(data[12:]) == 0x0800 &&
			string(data[26:30]) == "\x7f\x00\x0a\x01" && binary.BigEndian.Uint16(data[34:]) == 16000 {
			rtp = append(rtp, n)
			if pick(len(rtp)) {
				spoil(data[42:])
				bad = append(bad, n)
			}
		}
		write(ci, data)
	})
	if len(rtp) != 67 || len(bad) == 0 {
		t.Fatalf("%d RTP packets from the caller, %d spoiled; want 67 and some", len(rtp), len(bad))
	}
	return bad
}
