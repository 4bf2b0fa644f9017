package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/internal/synth"
)

// expectedFindings is, for every SIPp capture in testdata, the exact set of
// rules `sipflow check` must report, and the state of its call. A rule
// missing from a row must not fire for that capture, so each rule is
// tested both ways.
var expectedFindings = map[string]struct {
	state string
	flow  string
	rules []string
}{
	"call_rtp.pcap":                {"completed", "basic-call", nil},
	"call_tcp.pcap":                {"completed", "basic-call", nil},
	"call_ipv6.pcap":               {"completed", "basic-call", nil},
	"register_401.pcap":            {"registered", "register-digest", nil},
	"invite_no_ack.pcap":           {"completed", "", []string{"missing-ack", "retransmissions"}},
	"invite_unanswered.pcap":       {"unanswered", "", []string{"retransmissions", "unanswered-invite"}},
	"register_401_ignored.pcap":    {"failed", "", []string{"unanswered-challenge"}},
	"register_wrong_password.pcap": {"failed", "", []string{"auth-failed", "register-failed"}},
	"call_busy.pcap":               {"rejected", "busy", []string{"call-failed"}},
	"call_cancel.pcap":             {"cancelled", "cancel", nil},
	"call_503.pcap":                {"failed", "", []string{"call-failed"}},
	"bye_unanswered.pcap":          {"completed", "", []string{"no-bye-response", "retransmissions"}},
	"call_hold.pcap":               {"completed", "hold-resume", nil},
	"invite_407_proxy_auth.pcap":   {"completed", "proxy-auth-call", nil},
	"forked_call.pcap":             {"completed", "basic-call", nil},
	"b2bua_xcallid.pcap":           {"completed", "basic-call", nil},
	"call_not_ended.pcap":          {"answered", "", []string{"not-ended"}},
	"transfer_refer.pcap":          {"completed", "blind-transfer", nil},
	"reinvite_rejected.pcap":       {"completed", "", []string{"reinvite-failed"}},
	"invite_no_ack_non2xx.pcap":    {"rejected", "", []string{"call-failed", "missing-ack-non2xx", "retransmissions"}},
	"options_unanswered.pcap":      {"unanswered", "", []string{"retransmissions", "unanswered-request"}},
	"session_expired.pcap":         {"completed", "basic-call", []string{"session-expired"}},
	"dns_failover.pcap":            {"completed", "basic-call", []string{"retransmissions", "unanswered-invite"}},
	"session_refresh.pcap":         {"completed", "basic-call", nil},
	"one_way_audio.pcap":           {"completed", "basic-call", []string{"one-way-audio"}},
	"rtp_loss.pcap":                {"completed", "basic-call", []string{"rtp-loss"}},
	"media_address_mismatch.pcap":  {"completed", "basic-call", []string{"media-address-mismatch"}},
	"transfer_failed.pcap":         {"completed", "blind-transfer", []string{"transfer-failed"}},
	"attended_transfer.pcap":       {"completed", "attended-transfer", nil},                                        // REFER with Replaces; three calls: the transfer, the consultation, the replacing INVITE
	"attended_transfer_stuck.pcap": {"completed", "attended-transfer", []string{"replaced-not-ended"}},             // the consultation call, replaced, never ended with a BYE
	"attended_transfer_481.pcap":   {"completed", "attended-transfer", []string{"call-failed", "transfer-failed"}}, // the Replaces names a tag the target never gave: 481
	"invite_not_captured.pcap":     {"completed", "", []string{"invite-not-captured"}},
	"no_rtp.pcap":                  {"completed", "basic-call", []string{"no-rtp"}},
	"reinvite_glare.pcap":          {"completed", "", []string{"reinvite-failed", "reinvite-glare"}},
	"rtp_jitter.pcap":              {"completed", "basic-call", []string{"rtp-jitter"}},
	"fork_not_ended.pcap":          {"completed", "", []string{"fork-not-ended"}},
	"subscription_expired.pcap":    {"expired", "", []string{"subscription-expired"}},
	"prack_call.pcap":              {"completed", "basic-call", nil},
	"prack_missing.pcap":           {"failed", "", []string{"call-failed", "missing-prack", "retransmissions"}},
	"precondition_call.pcap":       {"completed", "precondition-call", nil},
	"ws_call.pcap":                 {"completed", "basic-call", nil},
	"tls_call.pcap":                {"completed", "basic-call", nil}, // the UDP hop: the TLS one is encrypted
	"tls13_call.pcap":              {"completed", "basic-call", nil}, // both hops, the TLS one decrypted with tls13_call.keylog (TLS 1.3, AES-256-GCM)
	"tls12_call.pcap":              {"completed", "basic-call", nil}, // TLS 1.2, ECDHE-RSA-AES128-GCM-SHA256
	"tls12_cbc_call.pcap":          {"completed", "basic-call", nil}, // TLS 1.2, ECDHE-RSA-AES128-SHA256 (CBC, MAC-then-encrypt)
	"webrtc_call.pcap":             {"completed", "basic-call", nil}, // media at ICE candidates (TestWebRTCMedia)
	"codec_mismatch.pcap":          {"completed", "basic-call", []string{"codec-mismatch"}},
	"ack_elsewhere.pcap":           {"completed", "basic-call", []string{"missing-ack", "retransmissions"}},
	"bye_to_contact.pcap":          {"completed", "", []string{"no-bye-response", "retransmissions"}}, // the ACK above went to the 2xx's Contact, this BYE to the INVITE's: the remote targets
	"late_offer.pcap":              {"completed", "basic-call", []string{"missing-sdp-answer"}},       // the 200's offer, no answer in the ACK
	"sdp_answer_mismatch.pcap":     {"completed", "basic-call", []string{"sdp-answer-mismatch"}},      // G.729 answered to PCMU, PCMA
	"no_sdp_offer.pcap":            {"completed", "basic-call", []string{"missing-sdp-offer"}},        // no SDP in the INVITE or its 200
	"t38_fax.pcap":                 {"completed", "t38-fax", nil},                                     // a re-INVITE to T.38 (TestFaxEvents)
	"codec_refused.pcap":           {"rejected", "", []string{"call-failed"}},                         // 488 with a Warning (TestFailureDetails)
	"t38_one_way.pcap":             {"completed", "t38-fax", []string{"one-way-fax"}},                 // the callee sends no UDPTL
	"no_udptl.pcap":                {"completed", "t38-fax", []string{"no-udptl"}},                    // T.38 agreed, no UDPTL either way
	"t38_fax_failed.pcap":          {"completed", "t38-fax", []string{"fax-failed"}},                  // FTT twice, then DCN (TestFaxAgreesWithTshark)
	"t38_loss.pcap":                {"completed", "t38-fax", []string{"fax-loss"}},                    // three UDPTL packets missing, two made good
	"late_offer_answered.pcap":     {"completed", "basic-call", nil},                                  // the ACK answers the 200's offer: no missing-sdp-answer
	"sdp_family_mismatch.pcap":     {"completed", "basic-call", []string{"sdp-answer-mismatch"}},      // an IPv4 offer answered at an IPv6 address (RFC 6157)
	"mutual_hold.pcap":             {"completed", "hold-resume", nil},                                 // both hold, each takes its own hold off (RFC 6337 §5.3)
	"media_change.pcap":            {"completed", "reinvite", nil},                                    // the callee's re-INVITE moves the media (PCMA, another port): no hold
	"late_hold.pcap":               {"completed", "hold-resume", nil},                                 // held and resumed by late offers: the ACK answers sendonly, then sendrecv
	"info_dtmf.pcap":               {"completed", "basic-call", nil},                                  // two DTMF keys by SIP INFO: two dtmf events, no step of the flow
	"redirect_302.pcap":            {"completed", "basic-call", nil},                                  // 302 from a redirect server, the INVITE sent again to its Contact, which answers: the callee
	"call_forwarded.pcap":          {"completed", "basic-call", nil},                                  // through Kamailio, bob busy (486): forwarded to voicemail with Diversion and History-Info (a diverted event)
	"call_pickup.pcap":             {"cancelled", "cancel", nil},                                      // carol picks up bob's ringing call: INVITE with Replaces (early-only) to the caller, who answers it and CANCELs her INVITE to bob (a replaced event at the CANCEL)
	"call_pickup_stuck.pcap":       {"in-progress", "", []string{"replaced-not-ended"}},               // the caller accepts the pickup but never CANCELs: bob's phone rings on
	"register_407.pcap":            {"registered", "register-proxy-auth", nil},                        // challenged 407 with Proxy-Authenticate (RFC 3261 §22.3), sent again with Proxy-Authorization: 200
	"cancel_200_crossed.pcap":      {"completed", "", nil},                                            // the 200 crossed the CANCEL (200 to both, no 487): ACK, then BYE (RFC 3261 §9.1, §15)
	"early_media_busy.pcap":        {"rejected", "busy", []string{"call-failed"}},                     // 183 with SDP and the callee's RTP one way, then 486: early media is no one-way-audio
	"late_ack.pcap":                {"completed", "basic-call", []string{"retransmissions"}},          // the ACK 1.2 s late: one 200 sent again, then ACKed: no missing-ack
	"invite_408.pcap":              {"failed", "", []string{"call-failed"}},                           // a proxy's 100, then 408 Request Timeout
	"bye_481.pcap":                 {"completed", "", nil},                                            // the callee's BYE answered 481: the dialog ends all the same (RFC 3261 §15.1.1)
	"register_423.pcap":            {"registered", "register-interval", nil},                          // 423 Interval Too Brief, retried with the interval asked: 200 (RFC 3261 §10.2.8)
	"register_refresh_tcp.pcap":    {"unregistered", "register", nil},                                 // over TCP, two Contacts, refreshed twice with one Call-ID, then Contact: * Expires: 0
	"subscribe_dialog_blf.pcap":    {"completed", "", nil},                                            // Event: dialog, the first NOTIFY before the 200 (RFC 6665 §4.1.2.4), refreshed, unsubscribed
	"message_202_404.pcap":         {"completed", "", nil},                                            // MESSAGE 202 Accepted and MESSAGE 404: a refused MESSAGE is no finding
	"tcp_burst.pcap":               {"completed", "basic-call", nil},                                  // 100, 180 and 200 in one TCP segment
}

// TestEveryRuleHasCapture: every rule check knows is reported by at least
// one real capture in testdata (expectedFindings, which TestEndToEndChecks
// holds to the exact set of rules each capture reports).
func TestEveryRuleHasCapture(t *testing.T) {
	shown := map[string]bool{}
	for _, want := range expectedFindings {
		for _, r := range want.rules {
			shown[r] = true
		}
	}
	for _, r := range correlate.Rules {
		if !shown[r.ID] {
			t.Errorf("rule %s: no capture in testdata reports it", r.ID)
		}
	}
}

func TestEndToEndChecks(t *testing.T) {
	files, _ := filepath.Glob(repoTestdata("*.pcap"))
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		want, ok := expectedFindings[name]
		if !ok {
			t.Errorf("%s: no row in expectedFindings: every test capture states what it must trigger", name)
			continue
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			// A capture of SIP over TLS is read with the key log beside it.
			var keys []string
			if kl := strings.TrimSuffix(f, ".pcap") + ".keylog"; fileExists(kl) {
				keys = []string{"--tls-keylog", kl}
			}
			out, errs, code := sipflow(t, nil, append([]string{"check", "--json", "--fail-on", "info", f}, keys...)...)
			for _, line := range strings.Split(strings.TrimSpace(errs), "\n") {
				if line != "" && !strings.HasPrefix(line, "sipflow: note: ") {
					t.Errorf("stderr: %s", line)
				}
			}
			rules := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if line == "" {
					continue
				}
				var v struct {
					Rule     string `json:"rule"`
					Severity string `json:"severity"`
					Packets  []int  `json:"packets"`
					Detail   string `json:"detail"`
					RFC      string `json:"rfc"`
				}
				if err := json.Unmarshal([]byte(line), &v); err != nil {
					t.Fatalf("bad JSON %q: %v", line, err)
				}
				// The section that says what should have happened: an RFC's,
				// or for fax (T.38, T.30) an ITU-T Recommendation's.
				if len(v.Packets) == 0 || v.Detail == "" || !strings.HasPrefix(v.RFC, "RFC ") && !strings.HasPrefix(v.RFC, "ITU-T T.") {
					t.Errorf("incomplete finding: %s", line)
				}
				rules[v.Rule] = true
			}
			var got []string
			for r := range rules {
				got = append(got, r)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(want.rules, ",") {
				t.Errorf("rules %v, want %v\n%s", got, want.rules, out)
			}
			if wantCode := map[bool]int{true: 1, false: 0}[len(want.rules) > 0]; code != wantCode {
				t.Errorf("exit %d with --fail-on info, want %d", code, wantCode)
			}
			golden(t, "check_"+name+".json", out)

			out, _, _ = sipflow(t, nil, append([]string{"calls", "--all", "--json", f}, keys...)...)
			golden(t, "calls_"+name+".json", out)
			var call struct {
				State string  `json:"state"`
				Flow  *string `json:"flow"`
			}
			json.Unmarshal([]byte(nonEmptyLines(out)[0]), &call)
			flow := ""
			if call.Flow != nil {
				flow = *call.Flow
			}
			if call.State != want.state || flow != want.flow {
				t.Errorf("first call: state %s flow %q, want %s %q", call.State, flow, want.state, want.flow)
			}
		})
	}
	for name := range expectedFindings {
		if !seen[name] {
			t.Errorf("expectedFindings names %s, which is not in testdata", name)
		}
	}
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		out = append(out, "{}")
	}
	return out
}

func TestCheckFailOn(t *testing.T) {
	f := repoTestdata("call_busy.pcap") // one warning: call-failed (486)
	for _, tt := range []struct {
		failOn string
		code   int
	}{{"error", 0}, {"warning", 1}, {"info", 1}} {
		_, _, code := sipflow(t, nil, "check", "--fail-on", tt.failOn, f)
		if code != tt.code {
			t.Errorf("--fail-on %s: exit %d, want %d", tt.failOn, code, tt.code)
		}
	}
	if _, errs, code := sipflow(t, nil, "check", "--fail-on", "fatal", f); code != 2 || !strings.Contains(errs, "fail-on") {
		t.Errorf("bad --fail-on: exit %d %q", code, errs)
	}
}

func TestCallsFilters(t *testing.T) {
	f := repoTestdata("b2bua_xcallid.pcap")
	for _, tt := range []struct {
		args []string
		n    int
	}{
		{nil, 1},
		{[]string{"--state", "completed"}, 1},
		{[]string{"--state", "failed"}, 0},
		{[]string{"--from", "ALICE"}, 1},
		{[]string{"--to", "nobody"}, 0},
		{[]string{"--call-id", "a84b4c76"}, 1},
		{[]string{"--since", "2000-01-01T00:00:00Z"}, 1},
		{[]string{"--until", "2000-01-01T00:00:00Z"}, 0},
		{[]string{"--finding", "missing-ack"}, 0},
	} {
		out, errs, code := sipflow(t, nil, append([]string{"calls", "--json"}, append(tt.args, f)...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", tt.args, code, errs)
		}
		if n := len(strings.Split(strings.TrimSpace(out), "\n")); strings.TrimSpace(out) == "" && tt.n != 0 || strings.TrimSpace(out) != "" && n != tt.n {
			t.Errorf("%v: %d calls, want %d", tt.args, n, tt.n)
		}
	}
	// The linked leg is one call with the other Call-ID in legs.
	out, _, _ := sipflow(t, nil, "calls", "--json", f)
	var v struct {
		Legs []string `json:"legs"`
	}
	json.Unmarshal([]byte(out), &v)
	if len(v.Legs) != 1 {
		t.Errorf("legs = %v, want the B-leg's Call-ID", v.Legs)
	}
	for _, bad := range [][]string{{"--state", "weird"}, {"--since", "yesterday"}, {"--finding", "nope"}, {"--sort", "size"}} {
		if _, _, code := sipflow(t, nil, append([]string{"calls"}, append(bad, f)...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}

// TestTLSNote: a capture whose phone side is SIP over TLS says why that
// hop is missing; one without TLS says nothing of it.
func TestTLSNote(t *testing.T) {
	const note = "sipflow: note: ../../testdata/tls_call.pcap: 1 TCP connection(s) to port 5061 opened TLS (SIP over TLS): encrypted, their SIP cannot be read without their secrets (--tls-keylog FILE)\n"
	for _, cmd := range []string{"calls", "check", "flow"} {
		_, stderr, _ := sipflow(t, nil, cmd, repoTestdata("tls_call.pcap"))
		if !strings.Contains(stderr, note) {
			t.Errorf("%s: stderr %q lacks the TLS note", cmd, stderr)
		}
		if _, stderr, _ = sipflow(t, nil, cmd, repoTestdata("ws_call.pcap")); strings.Contains(stderr, "TLS") {
			t.Errorf("%s ws_call.pcap: stderr %q", cmd, stderr)
		}
	}
}

// TestWebRTCMedia: a WebRTC call (pion's ICE, DTLS-SRTP and SRTCP) whose
// SDP says c=0.0.0.0 and port 9, as vanilla ICE offers write them: its
// two SRTP streams are found at the host candidates ICE chose, measured
// whole (150 packets of 20 ms each way), and not taken for hold.
func TestWebRTCMedia(t *testing.T) {
	out, _, _ := sipflow(t, nil, "calls", "--json", repoTestdata("webrtc_call.pcap"))
	var call struct {
		State    string   `json:"state"`
		Findings []string `json:"findings"`
		Events   []any    `json:"events"`
		Streams  []struct {
			Src, Dst string
			Codec    string
			Packets  int
			Lost     int
		} `json:"rtp_streams"`
	}
	if err := json.Unmarshal([]byte(out), &call); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if call.State != "completed" || len(call.Findings) != 0 || len(call.Events) != 0 || len(call.Streams) != 2 {
		t.Fatalf("state %s, findings %v, events %v, %d streams; want completed, none, none, 2", call.State, call.Findings, call.Events, len(call.Streams))
	}
	// The RTP host candidates the offer and the answer name, read from
	// the capture's bytes (the SDP is plain text in it), not by sipflow.
	raw, err := os.ReadFile(repoTestdata("webrtc_call.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	cands := map[string]bool{}
	for _, m := range regexp.MustCompile(`a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host`).FindAllSubmatch(raw, -1) {
		cands[string(m[1])+":"+string(m[2])] = true
	}
	if len(cands) != 2 {
		t.Fatalf("host candidates %v in the SDP, want two", cands)
	}
	for _, s := range call.Streams {
		if s.Codec != "PCMU" || s.Packets != 150 || s.Lost != 0 {
			t.Errorf("stream %s → %s: %s, %d packets, %d lost; want PCMU, 150, 0", s.Src, s.Dst, s.Codec, s.Packets, s.Lost)
		}
		if !cands[s.Src] || !cands[s.Dst] {
			t.Errorf("stream %s → %s: not between the host candidates %v", s.Src, s.Dst, cands)
		}
	}
}

// TestMaxOpenNote: a call finished early to keep --max-open is said in a
// note; the default bound says nothing on the test captures, and a
// negative one is a usage error.
func TestMaxOpenNote(t *testing.T) {
	f := repoTestdata("call_not_ended.pcap") // an answered call never ended, then an OPTIONS ping
	const note = "sipflow: note: 1 call(s) were finished before their time, as they stood, to hold at most 1 open at once (--max-open)"
	bounded, stderr, _ := sipflow(t, nil, "calls", "--json", "--max-open", "1", f)
	if !strings.Contains(stderr, note) {
		t.Errorf("--max-open 1: stderr %q lacks %q", stderr, note)
	}
	for _, args := range [][]string{{"calls", "--json"}, {"calls", "--json", "--max-open", "0"}} {
		out, stderr, _ := sipflow(t, nil, append(args, f)...)
		if strings.Contains(stderr, "--max-open") || out != bounded {
			t.Errorf("%v: stderr %q; the call differs from the one finished early: %q, %q", args, stderr, out, bounded)
		}
	}
	if _, stderr, code := sipflow(t, nil, "calls", "--max-open", "-1", f); code != 2 || !strings.Contains(stderr, "--max-open") {
		t.Errorf("--max-open -1: exit %d, %q; want 2 and a usage error", code, stderr)
	}
}

// TestClockStepsBackNote: captures of two hosts whose clocks are 30 s
// apart, merged, go back at every switch: the first steps are warned of
// with their packets, the rest summed up in one note.
func TestClockStepsBackNote(t *testing.T) {
	var frames []synth.Frame
	for i := range 20 { // host A, then host B 30 s behind, two packets each in turn
		at := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		if i%4 >= 2 {
			at = at.Add(-30 * time.Second)
		}
		frames = append(frames, synth.Frame{Time: at, Data: synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", sipReq("OPTIONS", fmt.Sprint("skew-", i)))})
	}
	var b bytes.Buffer
	if err := synth.WritePcap(&b, layers.LinkTypeEthernet, frames); err != nil {
		t.Fatal(err)
	}
	_, stderr, _ := sipflow(t, b.Bytes(), "calls", "--all", "-")
	for _, want := range []string{
		"packet 3: timestamp goes back: ", "packet 7: timestamp goes back: ", "packet 11: timestamp goes back: ",
		"sipflow: note: -: the capture's time went back by more than 10s 5 times (the first 3 warned of): captures of hosts whose clocks differ, merged?\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "packet 15: timestamp goes back") {
		t.Errorf("a fourth step warned of:\n%s", stderr)
	}
}

// TestRedirectNotFollowed: a 302 the caller ACKs and does not follow is
// the call's end, rejected with final status 302 and no finding (sngrep
// says DIVERTED); followed (redirect_302.pcap whole: the caller re-INVITEs
// the Contact with the same Call-ID), the call goes on as that INVITE
// goes, completed.
func TestRedirectNotFollowed(t *testing.T) {
	pkts := readPackets(t, repoTestdata("redirect_302.pcap"))
	cut := filepath.Join(t.TempDir(), "redirect_only.pcap")
	writePackets(t, cut, pkts[:3]) // INVITE, 302, ACK
	for _, tc := range []struct {
		file, state string
		final       int
	}{
		{cut, "rejected", 302},
		{repoTestdata("redirect_302.pcap"), "completed", 200},
	} {
		out, errs, code := sipflow(t, nil, "calls", "--json", tc.file)
		var c struct {
			State       string   `json:"state"`
			FinalStatus int      `json:"final_status"`
			Findings    []string `json:"findings"`
		}
		if err := json.Unmarshal([]byte(out), &c); err != nil || code != 0 {
			t.Fatalf("%s: exit %d, %v: %s%s", tc.file, code, err, out, errs)
		}
		if c.State != tc.state || c.FinalStatus != tc.final || len(c.Findings) != 0 {
			t.Errorf("%s: %s %d %v; want %s %d and no finding", filepath.Base(tc.file), c.State, c.FinalStatus, c.Findings, tc.state, tc.final)
		}
	}
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
