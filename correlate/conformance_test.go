package correlate_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/correlate"
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
	truths, _ := filepath.Glob(filepath.Join(shared, "corpus", "truth", "*", "*.json"))
	for _, tf := range truths {
		var truth callTruth
		b, _ := os.ReadFile(tf)
		if err := json.Unmarshal(b, &truth); err != nil {
			t.Fatalf("%s: %v", tf, err)
		}
		if truth.SIP == nil || truth.SIP.CallIDs == 0 {
			continue
		}
		t.Run(truth.File, func(t *testing.T) {
			if why, ok := callDiffs[truth.File]; ok {
				t.Skip(why)
			}
			calls := feed(t, filepath.Join(shared, "captures", "public", truth.File), correlate.Options{})
			ids := map[string]bool{}
			inviteIDs := map[string]bool{}
			finals := map[string]int{} // "Call-ID CSeq METHOD" -> last final
			for _, c := range calls {
				for _, l := range c.Legs {
					ids[l.CallID] = true
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
	}
}
