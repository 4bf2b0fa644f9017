package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestMessagesAgreeWithTshark: on every capture in testdata, `sipflow
// messages` finds the SIP messages tshark finds, in the same packets:
// over UDP, TCP and WebSocket (ws_call.pcap: tshark reads it through the
// HTTP upgrade), IPv4 and IPv6, several messages in one TCP segment
// (tcp_burst.pcap), and TLS, both given the key log beside the capture
// (tls13_call, tls12_call, tls12_cbc_call). Skipped without tshark.
func TestMessagesAgreeWithTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	files, _ := filepath.Glob(repoTestdata("*.pcap"))
	if len(files) < 30 {
		t.Fatalf("%d captures in testdata", len(files))
	}
	for _, file := range files {
		var tsharkKeys, keys []string
		if kl := strings.TrimSuffix(file, ".pcap") + ".keylog"; fileExists(kl) {
			tsharkKeys, keys = []string{"-o", "tls.keylog_file:" + kl}, []string{"--tls-keylog", kl}
		}
		cmd := exec.Command(tshark, append(append([]string{"-n", "-r", file}, tsharkKeys...), "-Y", "sip", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|",
			"-e", "frame.number", "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.Call-ID")...)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", file, err)
		}
		want := tsharkMessages(t, file, strings.TrimSpace(string(out)))
		stdout, stderr, code := sipflow(t, nil, append([]string{"messages", "--json", file}, keys...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", file, code, stderr)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var m struct {
				N      int    `json:"n"`
				Method string `json:"method"`
				Status int    `json:"status"`
				CallID string `json:"call_id"`
			}
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%s: %v: %s", file, err, line)
			}
			status := ""
			if m.Status != 0 {
				status = fmt.Sprint(m.Status)
			}
			got = append(got, fmt.Sprintf("%d\t%s\t%s\t%s", m.N, m.Method, status, m.CallID))
		}
		if g := strings.Join(got, "\n"); g != want {
			t.Errorf("%s: sipflow finds\n%s\ntshark finds\n%s", filepath.Base(file), g, want)
		}
	}
}

// tsharkMessages writes one line a message of tshark's fields (frame,
// methods, status codes, Call-IDs, each field's occurrences joined by |):
// a frame that holds several messages (a TCP segment) is one line with
// a list in each field, all requests or all responses in the captures.
func tsharkMessages(t *testing.T, file, out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 4 || !strings.Contains(f[3], "|") {
			lines = append(lines, l)
			continue
		}
		ids := strings.Split(f[3], "|")
		methods, codes := strings.Split(f[1], "|"), strings.Split(f[2], "|")
		for i, id := range ids {
			switch {
			case f[2] == "" && len(methods) == len(ids):
				lines = append(lines, f[0]+"\t"+methods[i]+"\t\t"+id)
			case f[1] == "" && len(codes) == len(ids):
				lines = append(lines, f[0]+"\t\t"+codes[i]+"\t"+id)
			default:
				t.Fatalf("%s: frame %s mixes requests and responses: %q", filepath.Base(file), f[0], l)
			}
		}
	}
	return strings.Join(lines, "\n")
}

// TestFaxAgreesWithTshark: on every capture in testdata with T.38, the
// UDPTL packets sipflow counts in its fax streams are those tshark decodes
// as T.38 (told the port, as it learns it from the SDP), direction by
// direction, and the T.30 frames sipflow reads are tshark's, in the same
// packets. Skipped without tshark.
func TestFaxAgreesWithTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	for _, name := range []string{"t38_fax.pcap", "t38_one_way.pcap", "t38_fax_failed.pcap", "t38_loss.pcap", "no_udptl.pcap"} {
		file := repoTestdata(name)
		run := func(args ...string) string {
			cmd := exec.Command(tshark, append([]string{"-n", "-r", file, "-d", "udp.port==16002,t38"}, args...)...)
			cmd.Env = append(os.Environ(), "LC_ALL=C")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("tshark %s: %v", name, err)
			}
			return strings.TrimSpace(string(out))
		}
		wantPackets := map[string]int{} // by "src>dst"
		if out := run("-Y", "t38", "-T", "fields", "-e", "ip.src", "-e", "udp.srcport", "-e", "ip.dst", "-e", "udp.dstport"); out != "" {
			for _, l := range strings.Split(out, "\n") {
				f := strings.Fields(l)
				wantPackets[f[0]+":"+f[1]+">"+f[2]+":"+f[3]]++
			}
		}
		var wantFrames []string
		if out := run("-Y", "t30", "-T", "fields", "-e", "frame.number", "-e", "t30.FacsimileControl"); out != "" {
			for _, l := range strings.Split(out, "\n") {
				var n, fcf int
				fmt.Sscanf(l, "%d\t%d", &n, &fcf)
				wantFrames = append(wantFrames, fmt.Sprintf("%d:%#02x", n, fcf&0x7f))
			}
		}
		stdout, stderr, code := sipflow(t, nil, "rtp", "--json", file)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		packets := map[string]int{}
		var frames []struct {
			n   int
			fcf int
		}
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var s struct {
				Src     string `json:"src"`
				Dst     string `json:"dst"`
				Packets int    `json:"packets"`
				Fax     *struct {
					T30 []struct {
						N   int    `json:"n"`
						FCF string `json:"fcf"`
					} `json:"t30"`
				} `json:"fax"`
			}
			if err := json.Unmarshal([]byte(line), &s); err != nil {
				t.Fatalf("%s: %v: %s", name, err, line)
			}
			if s.Fax == nil {
				continue
			}
			packets[s.Src+">"+s.Dst] += s.Packets
			for _, f := range s.Fax.T30 {
				var v int
				fmt.Sscanf(f.FCF, "0x%x", &v)
				frames = append(frames, struct{ n, fcf int }{f.N, v})
			}
		}
		sort.Slice(frames, func(i, j int) bool { return frames[i].n < frames[j].n })
		var got []string
		for _, f := range frames {
			got = append(got, fmt.Sprintf("%d:%#02x", f.n, f.fcf&0x7f))
		}
		if fmt.Sprint(packets) != fmt.Sprint(wantPackets) || strings.Join(got, " ") != strings.Join(wantFrames, " ") {
			t.Errorf("%s: sipflow UDPTL packets %v, T.30 %v; tshark %v, %v", name, packets, got, wantPackets, wantFrames)
		}
	}
}

// TestHoldAgreesWithTshark: a hold or resume event, and the hold-resume
// flow, are what the offers tshark reads say. Every hold event is a
// re-INVITE or UPDATE (tshark: with a To-tag) whose SDP asks for hold
// (sendonly or inactive, at the session's level or a stream's, or
// c=0.0.0.0), or, for a re-INVITE without SDP (a late offer), its 2xx's
// offer or its ACK's answer that does; every resume event one whose SDP
// does not; a capture whose
// offers ask for hold somewhere has a hold event, and one whose offers
// never do has no call matched as hold-resume; a resume comes after a
// hold. voip1b.pcapng and
// sip-2phones-B2BUA-Asterisk.pcapng (the public captures, when present)
// were hold-resume before the flow asked [hold] and [resume]: their
// re-INVITEs are Asterisk's, moving the media (direct media), sendrecv
// throughout, as tshark shows. Skipped without tshark.
func TestHoldAgreesWithTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	files := []string{repoTestdata("call_hold.pcap"), repoTestdata("reinvite_rejected.pcap"), repoTestdata("reinvite_glare.pcap"),
		repoTestdata("session_refresh.pcap"), repoTestdata("t38_fax.pcap"), repoTestdata("mutual_hold.pcap"),
		repoTestdata("media_change.pcap"), repoTestdata("late_hold.pcap")}
	public := filepath.Join("..", "..", "..", "shared", "captures", "public", "sip_captures")
	for _, name := range []string{"voip1b.pcapng", "sip-2phones-B2BUA-Asterisk.pcapng"} {
		if _, err := os.Stat(filepath.Join(public, name)); err == nil {
			files = append(files, filepath.Join(public, name))
		}
	}
	for _, file := range files {
		cmd := exec.Command(tshark, "-n", "-r", file, "-Y",
			`sip.to.tag && (sip.Method == "INVITE" || sip.Method == "UPDATE" || sip.Method == "ACK" || sip.CSeq.method == "INVITE")`,
			"-T", "fields", "-E", "separator=/t", "-e", "frame.number", "-e", "sip.Call-ID", "-e", "sip.CSeq.seq", "-e", "sip.from.tag", "-e", "sip.Method",
			"-e", "sip.Status-Code", "-e", "sdp.version", "-e", "sdp.session_attr", "-e", "sdp.media_attr", "-e", "sdp.connection_info")
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", file, err)
		}
		holds := map[int]bool{}        // in-dialog offers (and late offers' answers) by packet: asks for hold
		callHolds := map[string]bool{} // Call-IDs with an in-dialog offer: one asks for hold
		late := map[string]bool{}      // re-INVITEs without SDP, by Call-ID, CSeq and From-tag
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l == "" {
				continue
			}
			f := strings.Split(l, "\t")
			f = append(f, make([]string, 10-min(len(f), 10))...) // the output's last line lost its empty fields
			var n int
			fmt.Sscan(f[0], &n)
			key, method, status, sdp := f[1]+" "+f[2]+" "+f[3], f[4], f[5], f[6] != ""
			switch {
			case method == "INVITE" && !sdp:
				late[key] = true
				continue
			case !sdp, method == "ACK" && !late[key], method == "" && (!late[key] || !strings.HasPrefix(status, "2")):
				continue // no SDP, or no offer in a dialog (nor a late one's answer)
			}
			hold := false
			for _, field := range f[7:] {
				for _, v := range strings.Split(field, ",") {
					hold = hold || v == "sendonly" || v == "inactive" || strings.HasSuffix(v, " 0.0.0.0")
				}
			}
			holds[n] = hold
			callHolds[f[1]] = callHolds[f[1]] || hold
		}
		stdout, stderr, code := sipflow(t, nil, "calls", "--all", "--json", file)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", file, code, stderr)
		}
		events := 0
		changes := 0 // calls that matched reinvite
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var c struct {
				CallID string   `json:"call_id"`
				Legs   []string `json:"legs"`
				Flow   *string  `json:"flow"`
				Events []struct {
					N    int    `json:"n"`
					Kind string `json:"kind"`
				} `json:"events"`
			}
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			held := false // a hold event came before
			for _, e := range c.Events {
				hold, offer := holds[e.N]
				switch {
				case e.Kind == "hold" && !hold, e.Kind == "resume" && (!offer || hold):
					t.Errorf("%s: call %s: %s event at packet %d, where tshark reads an offer %t asking for hold %t", filepath.Base(file), c.CallID, e.Kind, e.N, offer, hold)
				case e.Kind == "resume" && !held:
					t.Errorf("%s: call %s: resume event at packet %d, with no hold before it", filepath.Base(file), c.CallID, e.N)
				case e.Kind == "hold":
					events++
					held = true
				}
			}
			offered, anyHold := false, false
			for _, id := range append(c.Legs, c.CallID) {
				h, ok := callHolds[id]
				offered, anyHold = offered || ok, anyHold || h
			}
			switch {
			case !anyHold && c.Flow != nil && *c.Flow == "hold-resume":
				t.Errorf("%s: call %s matched hold-resume, but no offer asks for hold", filepath.Base(file), c.CallID)
			case (!offered || anyHold) && c.Flow != nil && *c.Flow == "reinvite":
				t.Errorf("%s: call %s matched reinvite, where tshark reads an in-dialog offer %t, one asking for hold %t", filepath.Base(file), c.CallID, offered, anyHold)
			case c.Flow != nil && *c.Flow == "reinvite":
				changes++
			}
		}
		if slices.Contains(slices.Collect(maps.Values(holds)), true) && events == 0 {
			t.Errorf("%s: tshark reads an offer asking for hold, sipflow records no hold", filepath.Base(file))
		}
		if want := mediaChanges[filepath.Base(file)]; changes != want {
			t.Errorf("%s: %d calls matched reinvite, want %d", filepath.Base(file), changes, want)
		}
	}
}

// mediaChanges are the calls TestHoldAgreesWithTshark's captures have
// whose re-INVITEs change the session without hold (tshark: an in-dialog
// offer, none asking for hold), each matched as reinvite: Asterisk
// moving the media between the phones in the two public captures, and
// media_change.pcap's callee.
var mediaChanges = map[string]int{"voip1b.pcapng": 1, "sip-2phones-B2BUA-Asterisk.pcapng": 1, "media_change.pcap": 1}
