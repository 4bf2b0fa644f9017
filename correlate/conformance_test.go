package correlate_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/internal/testfeed"
	"github.com/sipflow/sipflow/media"
)

func sharedDir(t testing.TB) string {
	if d := os.Getenv("SIPFLOW_SHARED"); d != "" {
		return d
	}
	d, _ := filepath.Abs(filepath.Join("..", "..", "shared"))
	if _, err := os.Stat(filepath.Join(d, "corpus", "truth")); err != nil {
		t.Skipf("no shared corpus at %s", d)
	}
	return d
}

// eachTruth decodes every truth file of the shared corpus as a T and
// calls fn with it.
func eachTruth[T any](t *testing.T, shared string, fn func(truth *T)) {
	t.Helper()
	truths, _ := filepath.Glob(filepath.Join(shared, "corpus", "truth", "*", "*.json"))
	for _, tf := range truths {
		b, err := os.ReadFile(tf)
		if err != nil {
			t.Fatal(err)
		}
		truth := new(T)
		if err := json.Unmarshal(b, truth); err != nil {
			t.Fatalf("%s: %v", tf, err)
		}
		fn(truth)
	}
}

// feedUpToDamage is feed for a capture that may be damaged: what comes
// before the damage is analysed, as sipflow calls does. It returns the
// calls and the correlator's counts.
func feedUpToDamage(t *testing.T, path string) ([]*correlate.Call, correlate.Stats) {
	t.Helper()
	var calls []*correlate.Call
	corr := correlate.New(correlate.Options{}, func(c *correlate.Call) { calls = append(calls, c) })
	err := testfeed.Capture(path, corr.Advance, corr.Add, corr.AddDatagram)
	if de := (*capture.DamageError)(nil); err != nil && !errors.As(err, &de) {
		t.Fatal(err)
	}
	corr.Flush()
	return calls, corr.Stats
}

type callTruth struct {
	File string `json:"file"`
	SIP  *struct {
		CallIDs       int `json:"call_ids"`
		InviteCallIDs int `json:"invite_call_ids"`
		PerCallID     []struct {
			CallID         string          `json:"call_id"`
			FinalResponses map[string]*int `json:"final_responses"`
		} `json:"per_call_id"`
	} `json:"sip"`
}

// callDiffs are captures where sipflow's Call-ID counts differ from
// tshark's because of how messages are decoded; decode's
// conformanceDiffs gives the reasons message by message.
var callDiffs = map[string]string{
	"nDPI/http_on_sip_port.pcap":                                        "HTTP on port 5060 is not SIP",
	"zeek/sip-junk-before-request.pcap":                                 "the only message has no Call-ID",
	"suricata-verify/sip-header-multi-value--sip_header_multi_val.pcap": "two different To headers: skipped",
	"nDPI/fuzz-2006-06-26-2594.pcap":                                    "fuzzed: garbled messages skipped",
}

// finalDiffs are (capture, "Call-ID CSeq METHOD") pairs where sipflow's
// final response differs from tshark's on purpose.
var finalDiffs = map[string]string{}

// TestConformanceCalls checks calls against the tshark truth: the Call-IDs
// found, how many carry an INVITE, and the final response of every
// transaction (per CSeq number and method, as truth.sh computes it: the
// last final status seen for that CSeq and method).
func TestConformanceCalls(t *testing.T) {
	shared := sharedDir(t)
	eachTruth(t, shared, func(truth *callTruth) {
		if truth.SIP == nil || truth.SIP.CallIDs == 0 {
			return
		}
		t.Run(truth.File, func(t *testing.T) {
			if why, ok := callDiffs[truth.File]; ok {
				t.Skip(why)
			}
			calls := feed(t, filepath.Join(shared, "captures", "public", truth.File), correlate.Options{})
			ids := map[string]bool{}
			inviteIDs := map[string]bool{}
			callIDs := map[string]bool{} // of legs sipflow calls calls
			finals := map[string]int{}   // "Call-ID CSeq METHOD" -> last final
			for _, c := range calls {
				for _, l := range c.Legs {
					ids[l.CallID] = true
					if c.Kind == correlate.KindCall {
						callIDs[l.CallID] = true
					}
					for _, m := range l.Messages {
						if m.CSeqMethod == "INVITE" {
							inviteIDs[l.CallID] = true
						}
					}
					for _, tx := range l.Transactions {
						if tx.Method == "ACK" {
							continue
						}
						key := fmt.Sprintf("%s %d %s", l.CallID, tx.CSeq, tx.Method)
						for _, r := range tx.Responses {
							if r.Status >= 200 {
								finals[key] = r.Status
							}
						}
					}
				}
			}
			if len(ids) != truth.SIP.CallIDs {
				t.Errorf("%d Call-IDs, tshark %d", len(ids), truth.SIP.CallIDs)
			}
			if len(inviteIDs) != truth.SIP.InviteCallIDs {
				t.Errorf("%d Call-IDs with INVITE, tshark %d", len(inviteIDs), truth.SIP.InviteCallIDs)
			}
			// A Call-ID with an INVITE is in a call (calls shows it), whatever
			// came before it in the Call-ID.
			var notCalls []string
			for id := range inviteIDs {
				if !callIDs[id] {
					notCalls = append(notCalls, id)
				}
			}
			if sort.Strings(notCalls); len(notCalls) > 0 {
				t.Errorf("%d Call-IDs have an INVITE but are in no call: %q", len(notCalls), notCalls[:min(5, len(notCalls))])
			}
			var bad []string
			for _, pc := range truth.SIP.PerCallID {
				for k, want := range pc.FinalResponses {
					key := pc.CallID + " " + k
					got, ok := finals[key]
					switch {
					case want == nil && ok:
						bad = append(bad, fmt.Sprintf("%s: final %d, tshark none", key, got))
					case want != nil && got != *want:
						if _, listed := finalDiffs[truth.File+" "+key]; !listed {
							bad = append(bad, fmt.Sprintf("%s: final %d, tshark %d", key, got, *want))
						}
					}
				}
			}
			sort.Strings(bad)
			if len(bad) > 0 {
				t.Errorf("final responses differ:\n%s", strings.Join(bad, "\n"))
			}
		})
	})
}

type sngrepTruth struct {
	File   string `json:"file"`
	Sngrep *struct {
		CallsOnly *struct {
			DialogCount int `json:"dialog_count"`
		} `json:"calls_only"`
	} `json:"sngrep"`
}

// sngrepDiffs are the captures where sipflow reports another number of
// call legs than sngrep's INVITE dialogs (sngrep -c): sipflow's number, and
// why sipflow is right.
var sngrepDiffs = map[string]struct {
	legs int
	why  string
}{
	"arkime/gtp-iphone.pcap": {1, "the SIP is inside a GTP-U tunnel, which sngrep does not open; tshark finds the INVITE too"},
	"hep-wireshark/hep.pcap": {1, "the SIP is inside HEP, which sngrep reads only as a HEP server (-E), and then finds its Call-ID too"},
	"nDPI/gre.pcapng": {1, "the SIP is inside a GRE tunnel, which sngrep does not open; tshark finds the call too. " +
		"Its INVITE is not captured (a 100 Trying first): invite-not-captured"},
	"pkts/fragmented_udp_sip.pcap": {1, "sngrep keeps no message of this capture; tshark counts the call's Call-ID too. " +
		"Its INVITE's fragments are incomplete, the responses are not: invite-not-captured"},
	"suricata-verify/sip-body-large--sip-body-large.pcap": {1, "sngrep keeps no message of this capture; tshark finds the INVITE too"},
	"heplify/ipip0.pcap": {2, "a 403 whose INVITE is not captured is a call that failed (invite-not-captured); " +
		"sngrep makes no dialog of a response, tshark counts its Call-ID among those with an INVITE"},
	"sip_captures/private-test-sip-2.pcapng": {2, "a 408 whose INVITE is not captured is a call that failed (invite-not-captured); " +
		"tshark counts its Call-ID among those with an INVITE"},
	"sip_captures/voip-extension2downata.pcap": {2, "a CANCEL whose INVITE is not captured is a call cancelled (invite-not-captured): " +
		"a CANCEL is sent only for an INVITE (RFC 3261 §9.1); sngrep and tshark count only Call-IDs with an INVITE"},
	"suricata-verify/sip-header-multi-value--sip_header_multi_val.pcap": {0, "the INVITE has two different To headers, " +
		"a header RFC 3261 §7.3.1 allows once (its value is no list): sipflow skips it with a warning naming the packet, sngrep takes one of them"},
	"nDPI/fuzz-2006-06-26-2594.pcap": {6, "fuzzed: Call-IDs, methods and headers garbled, so each tool keeps another part " +
		"(tshark: 5 Call-IDs with an INVITE); see decode's conformanceDiffs"},
}

// TestConformanceSngrep compares the call legs sipflow reports (the
// Call-IDs of sipflow calls) with sngrep's count of INVITE dialogs on every
// capture that sngrep read, and fails on a difference that sngrepDiffs
// does not explain. sngrep groups by Call-ID and keeps every message: a
// call sipflow splits in two, or files under registrations, shows here.
func TestConformanceSngrep(t *testing.T) {
	shared := sharedDir(t)
	compared := 0
	eachTruth(t, shared, func(truth *sngrepTruth) {
		if truth.Sngrep == nil || truth.Sngrep.CallsOnly == nil {
			return
		}
		compared++
		t.Run(truth.File, func(t *testing.T) {
			legs := 0
			calls, _ := feedUpToDamage(t, filepath.Join(shared, "captures", "public", truth.File))
			for _, c := range calls {
				if c.Kind == correlate.KindCall {
					legs += len(c.Legs)
				}
			}
			want, why := truth.Sngrep.CallsOnly.DialogCount, "sngrep's count"
			if d, ok := sngrepDiffs[truth.File]; ok {
				want, why = d.legs, d.why
			}
			if legs != want {
				t.Errorf("%d call legs, want %d (%s); sngrep counts %d", legs, want, why, truth.Sngrep.CallsOnly.DialogCount)
			}
		})
	})
	if compared < 50 {
		t.Errorf("only %d captures have sngrep's count: the truth files changed?", compared)
	}
}

type streamTruth struct {
	File string `json:"file"`
	RTP  *struct {
		SDPOnly []struct {
			Src, Dst, SSRC string
			Packets, Lost  int
			MaxJitterMS    float64 `json:"max_jitter_ms"`
			Payload        string  // tshark's names of the stream's payload types, "RTPType-N" for one the SDP does not name
		} `json:"streams_sdp_only"`
	} `json:"rtp"`
}

// streamDiffs are streams tshark ties to SDP that sipflow counts otherwise:
// the packets sipflow counts (0: not tied to any call), and why sipflow is
// right. Keys: file, then "src dst ssrc" as tshark prints them.
var streamDiffs = map[string]struct {
	packets int
	why     string
}{
	"nDPI/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap 10.35.60.100:15580 10.23.1.52:16756 0x0EAF0EAF": {159, "after the re-INVITE to T.38 " +
		"the sender goes on sending PCMA RTP on the same port (sequence 1843, 1844, ...); tshark decodes those 27 packets as T.38"},
	"sip_captures/sip-flow-private-2.pcapng 172.16.98.1:8000 172.16.98.182:7078 0x19CFF233": {402, "tshark's SDP-only mode " +
		"decodes all but 3 of these packets as the protocol registered on port 8000; with its RTP heuristic on, tshark counts 402 too"},
	"sip_captures/sip-flow-private-3.pcapng 172.16.98.1:8000 172.16.98.182:7078 0x998E0300": {361, "as in sip-flow-private-2: " +
		"port 8000's registered dissector takes all but 4 packets; tshark's heuristic mode counts 361"},
	"sip_captures/sip.pcapng 200.57.7.202:30000 200.57.7.196:40362 0x00002E3D": {0, "set up by MGCP (CRCX in frames 2945-2946), " +
		"not SIP: sipflow ties RTP to SIP calls only"},
	"nDPI/fuzz-2006-06-26-2594.pcap 192.168.1.2:30000 212.242.33.36:40392 0x3796CB71": {0, "the SDP that announced it is in " +
		"one of the garbled messages of this fuzzed capture that sipflow skips (see decode's conformanceDiffs)"},
}

// TestConformanceStreams: the RTP streams sipflow ties to calls through
// their SDP are the ones tshark's -z rtp,streams finds from the SDP, with
// the same packet and loss counts and max jitter within 0.5 ms.
func TestConformanceStreams(t *testing.T) {
	shared := sharedDir(t)
	eachTruth(t, shared, func(truth *streamTruth) {
		if truth.RTP == nil || len(truth.RTP.SDPOnly) == 0 {
			return
		}
		t.Run(truth.File, func(t *testing.T) {
			calls := feed(t, filepath.Join(shared, "captures", "public", truth.File), correlate.Options{Media: true})
			got := map[string][3]float64{}
			for _, c := range calls {
				for _, s := range c.Streams {
					// tshark prints IPv6 endpoints without brackets.
					k := fmt.Sprintf("%s:%d %s:%d 0x%08X", s.Key.Src.Addr(), s.Key.Src.Port(), s.Key.Dst.Addr(), s.Key.Dst.Port(), s.Key.SSRC)
					got[k] = [3]float64{float64(s.Packets), float64(s.LostRaw), s.JitterMax}
				}
			}
			for _, w := range truth.RTP.SDPOnly {
				k := fmt.Sprintf("%s %s %s", w.Src, w.Dst, strings.ToUpper(strings.TrimPrefix(w.SSRC, "0x")))
				k = k[:strings.LastIndexByte(k, ' ')+1] + "0x" + k[strings.LastIndexByte(k, ' ')+1:]
				g, ok := got[k]
				if d, listed := streamDiffs[truth.File+" "+k]; listed {
					if int(g[0]) != d.packets {
						t.Errorf("stream %s: %d packets, streamDiffs expects %d (%s)", k, int(g[0]), d.packets, d.why)
					}
					continue
				}
				switch {
				case !ok:
					t.Errorf("stream %s (%d packets) not tied to any call", k, w.Packets)
				case int(g[0]) != w.Packets || int(g[1]) != w.Lost:
					t.Errorf("stream %s: %d packets, %d lost; tshark %d, %d", k, int(g[0]), int(g[1]), w.Packets, w.Lost)
				case g[2]-w.MaxJitterMS > 0.5 || w.MaxJitterMS-g[2] > 0.5:
					t.Errorf("stream %s: max jitter %.3f ms, tshark %.3f", k, g[2], w.MaxJitterMS)
				}
			}
		})
	})
}

// codecMismatches are the codec-mismatch findings sipflow reports on the
// public corpus, by file and SSRC, with why they are right; the payload
// type named must be one tshark, naming payload types from the SDP, does
// not name either ("RTPType-N" in its stream's payload list).
var codecMismatches = map[string]struct {
	pt  int
	why string
}{
	"nDPI/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap 0x17D90134": {100, "the gateway at 10.23.1.52 sends its tone events (RFC 4733) to " +
		"10.35.60.100 with payload type 100, its own offer's number for telephone-event, where the answer listed telephone-event " +
		"as 102: RFC 3264 §5.1 has a sender use the receiver's numbers"},
}

// TestConformanceCodecMismatch: on every capture of the public corpus
// with RTP, sipflow's codec-mismatch findings are the ones codecMismatches
// explains, and tshark cannot name the payload type either.
func TestConformanceCodecMismatch(t *testing.T) {
	shared := sharedDir(t)
	seen := map[string]bool{}
	eachTruth(t, shared, func(truth *streamTruth) {
		if truth.RTP == nil || len(truth.RTP.SDPOnly) == 0 {
			return
		}
		calls := feed(t, filepath.Join(shared, "captures", "public", truth.File), correlate.Options{Media: true})
		for _, c := range calls {
			for _, f := range c.Findings {
				if f.Rule != "codec-mismatch" {
					continue
				}
				var ssrc uint32
				var pt int
				if _, err := fmt.Sscanf(f.Detail[strings.Index(f.Detail, "(SSRC "):], "(SSRC %v) carries payload type %d", &ssrc, &pt); err != nil {
					t.Fatalf("%s: %q: %v", truth.File, f.Detail, err)
				}
				key := fmt.Sprintf("%s 0x%08X", truth.File, ssrc)
				seen[key] = true
				want, ok := codecMismatches[key]
				if !ok || want.pt != pt {
					t.Errorf("%s: %s not in codecMismatches", key, f.Detail)
					continue
				}
				tsharkNames := ""
				for _, w := range truth.RTP.SDPOnly {
					if strings.EqualFold(w.SSRC, fmt.Sprintf("0x%08X", ssrc)) {
						tsharkNames = w.Payload
					}
				}
				if !strings.Contains(tsharkNames, fmt.Sprintf("RTPType-%d", pt)) {
					t.Errorf("%s: payload type %d, but tshark's payloads for the stream are %q", key, pt, tsharkNames)
				}
			}
		}
	})
	for key := range codecMismatches {
		if !seen[key] {
			t.Errorf("%s: codecMismatches lists it, sipflow does not report it", key)
		}
	}
}

type retransmissionTruth struct {
	File string `json:"file"`
	SIP  *struct {
		Messages        int `json:"messages"`
		Retransmissions int `json:"tshark_retransmissions"`
	} `json:"sip"`
}

// retransmissionDiffs are the captures where sipflow counts another number
// of retransmissions than tshark marks resent (sip.resend): sipflow's
// number, and why it is right. tshark looks at the last message between
// two addresses of one Call-ID only, ignores the Via branch, and by design
// never marks a CANCEL, an ACK or a provisional response resent; RFC 3261
// §17 retransmits all three, with the branch of the request they repeat.
var retransmissionDiffs = map[string]struct {
	n   int
	why string
}{
	"nDPI/sip.pcap":       {14, "10 more: a CANCEL sent 11 times (timer E, 0.5 s doubling to 4 s, RFC 3261 §17.1.2.2), which tshark never marks"},
	"sngrep/aaa.pcap":     {14, "10 more: the same CANCEL (nDPI/sip.pcap is a part of this capture)"},
	"zeek/wireshark.pcap": {14, "10 more: the same CANCEL (a part of sngrep/aaa.pcap)"},
	"sip_captures/private-test-sip.pcapng": {73, "15 more: a registrar's 100 to a REGISTER sent again for each retransmitted REGISTER " +
		"(RFC 3261 §17.2.2), a provisional response tshark never marks"},
	"sip_captures/sip-flow-private.pcapng": {7, "6 more: a 180 sent 4 times at 0.5, 1 and 2 s (T1 doubling) on two hops, a provisional tshark never marks"},
	"sip_captures/test_voip.pcap.pcapng":   {3, "2 more: two 180s sent again, provisionals tshark never marks"},
	"sip_captures/sip-2phones-B2BUA-Asterisk.pcapng": {2, "1 more: the phone got the INVITE and its retransmission at once and sent " +
		"its 100 for each (RFC 3261 §17.2.1), two packets 0.3 ms apart with two IPv4 IDs; tshark never marks a provisional"},
	"sip_captures/voip-extension.pcap": {2, "1 more: a BYE sent again 0.49 s later (RFC 2543 style, no branch); tshark misses it " +
		"because two 488s went the same way between them"},
	"sip_captures/voip-extension2downata.pcap": {14, "6 more, a CANCEL sent again (tshark never marks a CANCEL), and 3 fewer: " +
		"INVITEs sent again with a new Via branch are new transactions (RFC 3261 §17.1.3), which tshark, blind to the branch, marks resent"},
	"nDPI/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap": {0, "14 fewer: a mirror port copied one hop's packets twice, 0.3 to 1.4 ms apart with one IPv4 ID and " +
		"the same bytes: 23 copies, read once (Stats.Duplicates), which tshark marks resent when they are requests or final responses"},
}

// TestConformanceRetransmissions compares the retransmissions sipflow
// counts with those tshark marks resent on every capture with SIP, and
// fails on a difference retransmissionDiffs does not explain.
func TestConformanceRetransmissions(t *testing.T) {
	shared := sharedDir(t)
	compared := 0
	eachTruth(t, shared, func(truth *retransmissionTruth) {
		if truth.SIP == nil || truth.SIP.Messages == 0 {
			return
		}
		compared++
		t.Run(truth.File, func(t *testing.T) {
			_, stats := feedUpToDamage(t, filepath.Join(shared, "captures", "public", truth.File))
			want, why := truth.SIP.Retransmissions, "tshark's count"
			if d, ok := retransmissionDiffs[truth.File]; ok {
				want, why = d.n, d.why
			}
			if got := stats.Retransmissions; got != want {
				t.Errorf("%d retransmissions, want %d (%s); tshark marks %d resent", got, want, why, truth.SIP.Retransmissions)
			}
		})
	})
	if compared < 50 {
		t.Errorf("only %d captures have SIP in their truth: the truth files changed?", compared)
	}
}

// unregistered lists, per public capture, the registrations (Call-ID
// prefixes) whose last REGISTER answered 2xx removed its binding: every
// one whose last REGISTER tshark shows as "(remove 1 binding)" (`tshark
// -r F -Y 'sip.Method == "REGISTER" && sip.Call-ID == "ID"'`), and no
// other. Eight of these Call-IDs registered first, in a record of their
// own: a REGISTER 32 s after the last one's answer starts a new record.
var unregistered = map[string][]string{
	"Laborator09/sip.pcap":                             {"b99d39f2-9bcf-73"},
	"arkime/gtp-iphone.pcap":                           {"5PC5dBCGDQ0csFmF"},
	"sip_captures/private-test-sip-2.pcapng":           {"d11eefa7027fbfba"},
	"sip_captures/private-test-sip.pcapng":             {"86dd76bbcbe051d8", "zQuiBqjigUfXc3Xp"},
	"sip_captures/sip-cme-zoiper-register.pcapng":      {"YzlhN2E0YTU5MmUy"},
	"sip_captures/sip-flow-private-2.pcapng":           {"503770686", "ODRjNzZiZTQyNTRk"},
	"sip_captures/sip-flow-private-3.pcapng":           {"1077245679", "OThkMzYzYzZkMmRk"},
	"sip_captures/sip-flow-private.pcapng":             {"3f0e33de43d461ec", "872698126"},
	"sip_captures/sip-register-ok-unregister-2.pcapng": {"MzlhNDk0Nzg0MjE0"},
	"sip_captures/sip-register-ok-unregister.pcapng":   {"Nzc0ODMyZDQ1Nzg4"},
	"sip_captures/sip-register-to-repo-proxy.pcapng":   {"MzQzNmJkNTM5Mjc4", "NTgzMWE4ZmNjOWJm", "NWE1MGU2YTNlYjI2", "NjRkOThhZGYxMjc2"},
	"sip_captures/sip-rem-register.pcapng":             {"1077245679"},
	"sip_captures/voip1b.pcapng":                       {"1790669702"},
}

// TestConformanceUnregistered: a registration is unregistered exactly
// when its last REGISTER answered 2xx removed its binding, as tshark
// shows it (unregistered).
func TestConformanceUnregistered(t *testing.T) {
	shared := sharedDir(t)
	seen := map[string]bool{}
	eachTruth(t, shared, func(truth *callTruth) {
		if truth.SIP == nil || truth.SIP.CallIDs == 0 {
			return
		}
		seen[truth.File] = true
		t.Run(truth.File, func(t *testing.T) {
			calls, _ := feedUpToDamage(t, filepath.Join(shared, "captures", "public", truth.File))
			var got []string
			for _, c := range calls {
				if c.Kind == correlate.KindRegistration && c.State == correlate.StateUnregistered {
					got = append(got, c.Legs[0].CallID)
				}
			}
			want := unregistered[truth.File]
			ok := len(got) == len(want)
			for i := 0; ok && i < len(got); i++ {
				ok = slices.ContainsFunc(want, func(p string) bool { return strings.HasPrefix(got[i], p) })
			}
			if !ok {
				t.Errorf("unregistered: %q, want %q", got, want)
			}
		})
	})
	for f := range unregistered {
		if !seen[f] {
			t.Errorf("%s: listed, but not a public capture with SIP", f)
		}
	}
}

// TestConformanceT38Refused: nDPI's fax call (three hops of a gateway's
// two legs) switches to T.38 with a re-INVITE that every hop refuses with
// 488, then goes back to PCMA with another re-INVITE: the fax went as
// audio. sipflow says T.38 was not accepted on each leg, records no switch, and
// counts the packets after it in the PCMA stream they are. tshark
// disagrees on 27 of them: the refused offer's m=image line set up a T.38
// conversation on the port, so `tshark -r FILE -Y t38` shows packets
// 1436.. from 10.35.60.100:15580 as T.38, malformed; their payload starts
// 0x80 0x08, RTP version 2 with payload type 8 (PCMA), as the re-INVITE
// that followed agreed.
func TestConformanceT38Refused(t *testing.T) {
	shared := sharedDir(t)
	calls := feed(t, filepath.Join(shared, "captures", "public", "nDPI", "FAX-Call-t38-CA-TDM-SIP-FB-1.pcap"), correlate.Options{Media: true})
	refused, inStream := 0, false
	for _, c := range calls {
		for _, f := range c.Findings {
			if f.Rule == "reinvite-failed" {
				if !strings.Contains(f.Detail, "offering T.38 fax (image T.38 ") || !strings.HasSuffix(f.Detail, "rejected with 488 Not Acceptable Here: T.38 was not accepted, so the fax can only go as audio (G.711 pass-through), or fails") {
					t.Errorf("%s: %s", c.ID, f.Detail)
				}
				refused++
			}
		}
		for _, e := range c.Events {
			if strings.HasPrefix(e.Kind, "t38") {
				t.Errorf("%s: event %s at packet %d: %s", c.ID, e.Kind, e.N, e.Detail)
			}
		}
		for _, s := range c.Streams {
			if s.Key.Src.String() == "10.35.60.100:15580" && s.Key.Dst.String() == "10.23.1.52:16756" {
				inStream = s.Codec == "PCMA" && s.FirstN < 1436 && s.LastN > 1436
			}
		}
	}
	if refused != 2 || !inStream {
		t.Errorf("%d calls, %d refused switches to T.38 (want 2, one per leg); packet 1436 in a PCMA stream: %v", len(calls), refused, inStream)
	}
}

// TestConformanceFlowView: branch-scenario-sipp.pcapng is a SIPp load
// run whose every Call-ID holds a REGISTER, then a call: its INVITE, a
// 180, then a 100, then the final response. The REGISTER is no step of the
// call's flow, nor is the 100 after the 180: every completed call is a
// basic-call, and every other deviates from basic-call (at its 403, or at
// the capture's end). Before, each call left "register" at its INVITE.
func TestConformanceFlowView(t *testing.T) {
	shared := sharedDir(t)
	calls := feed(t, filepath.Join(shared, "captures", "public", "sip_captures", "branch-scenario-sipp.pcapng"), correlate.Options{})
	completed := 0
	for _, c := range calls {
		if c.Kind != correlate.KindCall {
			t.Errorf("%s: kind %s", c.ID, c.Kind)
			continue
		}
		switch {
		case c.State == correlate.StateCompleted:
			completed++
			if c.Flow != "basic-call" {
				t.Errorf("%s: completed, flow %q, deviation %q", c.ID, c.Flow, c.Deviation)
			}
		case !strings.HasPrefix(c.Deviation, "basic-call: "):
			t.Errorf("%s: %s, flow %q, deviation %q", c.ID, c.State, c.Flow, c.Deviation)
		}
	}
	if len(calls) != 1334 || completed == 0 {
		t.Errorf("%d calls (want 1334), %d completed", len(calls), completed)
	}
}

// TestConformanceProxyWithoutRecordRoute: calls through a proxy that does
// not Record-Route, whose ACK and BYE go between the phones straight, to
// the Contact of the 2xx and of the INVITE (RFC 3261 §12.2.1.1, §16.6 step
// 4), follow basic-call past the ACK, for calls (lean) as for flow and
// report (KeepSDP): three are basic calls, and the fourth's callee
// answered its BYE 500 Request out of order. Before, the view saw the
// hop to the proxy only, and each left basic-call at its ACK (found by
// review).
func TestConformanceProxyWithoutRecordRoute(t *testing.T) {
	shared := sharedDir(t)
	for _, tt := range []struct{ file, callID, want string }{
		{"SIP-Call-with-Proxy-Server.pcap", "75104938772201062721@10.33.6.101", "basic-call"},
		{"sip-flow-private-2.pcapng", "1094838333", "basic-call"},
		{"sip-flow-private-3.pcapng", "1339611883", "basic-call"},
		{"sip-flow-private.pcapng", "464028215", "basic-call: after 6 message(s), expected any -> any 2xx BYE, got B -> A 500 BYE (packet 637)"},
	} {
		for _, opts := range []correlate.Options{{}, {KeepSDP: true}} {
			found := false
			for _, c := range feed(t, filepath.Join(shared, "captures", "public", "sip_captures", tt.file), opts) {
				if c.ID != tt.callID {
					continue
				}
				found = true
				if got := c.Flow + c.Deviation; got != tt.want {
					t.Errorf("%s %s (KeepSDP %t): flow %q, deviation %q; want %q", tt.file, c.ID, opts.KeepSDP, c.Flow, c.Deviation, tt.want)
				}
			}
			if !found {
				t.Errorf("%s: no call %s", tt.file, tt.callID)
			}
		}
	}
}

// TestConformanceFailureDetails: what failures say on public captures. A
// 488 to an INVITE whose only stream has port 0 (the capture's name calls
// its codec "null"): sipflow says the caller refused its own stream. A
// proxy's 480 No DNS results, whose Warning header says why.
func TestConformanceFailureDetails(t *testing.T) {
	shared := sharedDir(t)
	for _, tt := range []struct{ file, rule, want string }{
		{"sip_captures/sip-488-Not-Acceptable-Here-codec-null.pcapng", "call-failed",
			"call rejected by 192.168.8.13 with 488 Not Acceptable Here; the INVITE offered audio PCMU 0.0.0.0:0 inactive: every stream has port 0 (refused by the caller itself), so there was nothing to accept"},
		{"sip_captures/private-test-sip.pcapng", "call-failed",
			`call rejected by 172.16.98.102 with 480 No DNS results (Warning: 399 sip1 "No other DNS entries to try (0,0)")`},
	} {
		calls := feed(t, filepath.Join(shared, "captures", "public", tt.file), correlate.Options{})
		found := false
		for _, c := range calls {
			for _, f := range c.Findings {
				found = found || f.Rule == tt.rule && f.Detail == tt.want
			}
		}
		if !found {
			t.Errorf("%s: no %s saying %q", tt.file, tt.rule, tt.want)
		}
	}
}

// TestConformanceMediaFlow: whether media flowed, on public captures
// (no-rtp, one-way-audio), call by call, with why. Every stream is listed
// under one call only.
func TestConformanceMediaFlow(t *testing.T) {
	shared := sharedDir(t)
	for _, tt := range []struct{ file, call, want, why string }{
		{"sip_captures/private-test-sip.pcapng", "0f3963159ae00e25d610045796b52d", "",
			"PJSUA at .181:4000 sends a talkspurt, then, silence suppressed, one packet every 5.000 s; the BYE came 4.14 s after the last: not stopped"},
		{"sip_captures/voip1b.pcapng", "342701946", "one-way-audio",
			"Asterisk's direct media: a re-INVITE agreed .181:4006 ↔ .182:7078, where 642 packets flowed one way and 32 the other, which then " +
				"stopped for 19.3 s; leg 390cbc3372b1… lists the streams and reports the same"},
		{"sip_captures/voip1b.pcapng", "390cbc3372b15a0d07903c6a6b66ab6a", "one-way-audio",
			"PJSUA at .181:4006 sent 32 packets 20 ms apart, then nothing for 19.3 s, no keepalive, while .182:7078 talked on"},
		{"sip_captures/sip-2phones-B2BUA-Asterisk.pcapng", "37686afc57ce24ac655742b3644a7bb8", "one-way-audio",
			"direct media: re-INVITE 35 and its 200 agreed .1:8000 ↔ .145:8000, where 355 packets flowed from .145 and one from .1, 7.4 s " +
				"before the other direction's last; leg M2Q0… lists the streams and reports the same"},
		{"sip_captures/sip-2phones-B2BUA-Asterisk.pcapng", "M2Q0ZDc1ZGM1NzIyMTlhZTA3NDU3NTgzMzA5YmJmZWQ", "one-way-audio",
			"the Zoiper at .1:8000 sent a single packet; .145:8000 talked for 7.4 s more"},
		{"sip_captures/voip-extension.pcap", "f49fa0af-e84c7379-6649d13e-60bbc1c9", "no-rtp(info)",
			"every one of the 609 packets involves 192.168.5.11, where it was captured; the SDP (581, 602) put the media between " +
				"192.168.5.10:8002 and 192.168.5.20:8024, which does not pass there: the capture cannot tell whether RTP flowed"},
		{"pkts/sip_rtp.pcap", "1-7879@127.0.0.1", "one-way-audio", "RTP flowed one way only"},
		{"sip_captures/sip-flow-private.pcapng", "464028215", "one-way-audio", "RTP flowed one way only"},
		{"sip_captures/private-test-sip-2.pcapng", "897ffa64f32a8e6f5c1d3d753b90f2ed", "one-way-audio", "RTP flowed one way only"},
	} {
		calls := feed(t, filepath.Join(shared, "captures", "public", tt.file), correlate.Options{Media: true})
		found := false
		listed := map[media.StreamKey]int{}
		for _, c := range calls {
			for _, s := range c.Streams {
				listed[s.Key]++
			}
			if !strings.HasPrefix(c.ID, tt.call) {
				continue
			}
			found = true
			var got []string
			for _, f := range c.Findings {
				switch {
				case f.Rule == "no-rtp" && f.Severity == correlate.Info:
					got = append(got, f.Rule+"(info)")
				case f.Rule == "no-rtp" || f.Rule == "one-way-audio":
					got = append(got, f.Rule)
				}
			}
			if g := strings.Join(got, ","); g != tt.want {
				t.Errorf("%s %s: %q, want %q: %s", tt.file, c.ID, g, tt.want, tt.why)
			}
		}
		if !found {
			t.Errorf("%s: no call %s", tt.file, tt.call)
		}
		for k, n := range listed {
			if n > 1 {
				t.Errorf("%s: stream %s → %s (SSRC %#08x) listed %d times", tt.file, k.Src, k.Dst, k.SSRC, n)
			}
		}
	}
}

// TestConformanceHistoryInfoNotForwarded: the PBX of voip-extension.pcap
// writes History-Info with one entry, the target dialled, on INVITEs that
// were never forwarded (RFC 7044 §9.1 records every request): no call of
// it is diverted, while its transfer is still seen.
func TestConformanceHistoryInfoNotForwarded(t *testing.T) {
	shared := sharedDir(t)
	calls := feed(t, filepath.Join(shared, "captures", "public", "sip_captures", "voip-extension.pcap"), correlate.Options{})
	kinds := map[string]int{}
	for _, c := range calls {
		for _, e := range c.Events {
			kinds[e.Kind]++
		}
	}
	if kinds["diverted"] != 0 || kinds["transfer"] == 0 {
		t.Errorf("events by kind %v: want transfers and no diverted", kinds)
	}
}
