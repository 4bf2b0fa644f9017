package decode_test

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/decode"
)

// sharedDir finds ../shared beside the repository (or $SIPFLOW_SHARED).
func sharedDir(t testing.TB) string {
	if d := os.Getenv("SIPFLOW_SHARED"); d != "" {
		return d
	}
	d, err := filepath.Abs(filepath.Join("..", "..", "shared"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d, "corpus", "truth")); err != nil {
		t.Skipf("no shared corpus at %s", d)
	}
	return d
}

type truthFile struct {
	File         string `json:"file"`
	TsharkReadOK bool   `json:"tshark_read_ok"`
	SIP          *struct {
		Messages  int `json:"messages"`
		CallIDs   int `json:"call_ids"`
		PerCallID []struct {
			CallID   string `json:"call_id"`
			Messages int    `json:"messages"`
		} `json:"per_call_id"`
	} `json:"sip"`
	HEP *struct {
		Messages []struct {
			Frame     int     `json:"frame"`
			StartLine string  `json:"start_line"`
			CallID    *string `json:"call_id"`
		} `json:"messages"`
	} `json:"hep"`
}

// conformanceDiffs lists the captures where sipflow and tshark disagree on
// the SIP message or Call-ID count, with what sipflow finds and why sipflow
// is right. The test fails if a listed difference goes away (so the list
// stays true) or a new one appears.
var conformanceDiffs = map[string]struct {
	messages, callIDs int
	why               string
}{
	"nDPI/http_on_sip_port.pcap": {0, 0, "HTTP over TCP port 5060: tshark dissects by port and calls the HTTP request and response SIP; " +
		"they have no SIP start line, so they are not SIP"},
	"hep-wireshark/hep.pcap": {6, 1, "tshark 4.0 has no HEP dissector (0 messages); inside the HEP3 packets are 6 SIP messages of one Call-ID, " +
		"plus a syslog line and an RTCP JSON report, which are not SIP"},
	"sip_captures/private-test-sip.pcapng": {276, 65, "tshark also counts the 3 SIP messages quoted inside ICMP port-unreachable errors " +
		"(frames 2, 150, 152); those are copies of messages already counted, bounced by the peer, not new messages"},
	"zeek/sip-junk-before-request.pcap": {0, 0, "the one 'message' is \"DBREGISTER sip:1.1.1.1:5060 SIP/2.0\" with only an Expires header: " +
		"no Call-ID, CSeq, From, To or Via, so it belongs to no call; sipflow warns and skips it (tshark lists it with Call-ID <none>)"},
	"suricata-verify/sip-header-multi-value--sip_header_multi_val.pcap": {0, 0, "the INVITE has two different To headers (t: <sip:97239287044@...> " +
		"and To: <sip:12345@...>); which dialog it belongs to is ambiguous, so sipflow warns and skips it rather than guess"},
	"nDPI/fuzz-2006-06-26-2594.pcap": {19, 12, "a deliberately fuzzed capture: tshark shows every garbled message (flagged malformed); " +
		"sipflow skips, with a warning naming the packet, the 33 whose Call-ID or CSeq is missing or unreadable, since they cannot be tied to a call"},
	"hep-wireshark/hep3_compressed.pcap.pcapng": {21, 1, "tshark 4.0 has no HEP dissector; the 21 HEP3 packets (compressed payload chunks) each carry one SIP message of one Call-ID"},
}

func TestConformance(t *testing.T) {
	shared := sharedDir(t)
	truths, err := filepath.Glob(filepath.Join(shared, "corpus", "truth", "*", "*.json"))
	if err != nil || len(truths) == 0 {
		t.Skipf("no truth files: %v", err)
	}
	for _, tf := range truths {
		var truth truthFile
		b, err := os.ReadFile(tf)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &truth); err != nil {
			t.Fatalf("%s: %v", tf, err)
		}
		t.Run(truth.File, func(t *testing.T) {
			path := filepath.Join(shared, "captures", "public", truth.File)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("capture missing: %v", err)
			}
			got, damage := countSIP(t, path)
			if !truth.TsharkReadOK {
				// pkts/cool.pcap: a big-endian file header with little-endian
				// records. tshark refuses it; we must report damage, not invent packets.
				if damage == nil {
					t.Errorf("tshark cannot read this file, but sipflow reported no damage")
				}
				return
			}
			if damage != nil {
				t.Errorf("damage reported where tshark reads the file: %v", damage)
			}
			wantMsgs, wantIDs := 0, 0
			if truth.SIP != nil {
				wantMsgs, wantIDs = truth.SIP.Messages, truth.SIP.CallIDs
			}
			if d, ok := conformanceDiffs[truth.File]; ok {
				if got.messages == wantMsgs && got.callIDs() == wantIDs {
					t.Errorf("listed as differing from tshark but now agrees: drop it from conformanceDiffs")
				}
				if got.messages != d.messages || got.callIDs() != d.callIDs {
					t.Errorf("messages %d, Call-IDs %d; conformanceDiffs expects %d, %d (%s)", got.messages, got.callIDs(), d.messages, d.callIDs, d.why)
				}
				if truth.HEP != nil {
					checkHEP(t, truth, got)
				}
				return
			}
			if got.messages != wantMsgs || got.callIDs() != wantIDs {
				t.Errorf("messages %d, Call-IDs %d; tshark finds %d, %d", got.messages, got.callIDs(), wantMsgs, wantIDs)
			}
			if truth.SIP != nil {
				for _, pc := range truth.SIP.PerCallID {
					if n := got.perCallID[pc.CallID]; n != pc.Messages {
						t.Errorf("Call-ID %q: %d messages, tshark %d", pc.CallID, n, pc.Messages)
					}
				}
			}
		})
	}
}

// checkHEP compares the SIP messages found in HEP packets with the truth's
// own HEP3 walk.
func checkHEP(t *testing.T, truth truthFile, got *sipCount) {
	var want []string
	for _, m := range truth.HEP.Messages {
		if m.CallID != nil {
			want = append(want, m.StartLine)
		}
	}
	if strings.Join(got.startLines, "\n") != strings.Join(want, "\n") {
		t.Errorf("HEP start lines:\n got %q\nwant %q", got.startLines, want)
	}
}

type sipCount struct {
	messages   int
	perCallID  map[string]int
	startLines []string
	warnings   []string
}

func (c *sipCount) callIDs() int { return len(c.perCallID) }

func (c *sipCount) Message(m *decode.Message) {
	c.messages++
	c.perCallID[string(m.CallID)]++
	line := m.Raw
	if i := strings.IndexAny(string(line), "\r\n"); i >= 0 {
		line = line[:i]
	}
	c.startLines = append(c.startLines, string(line))
}
func (c *sipCount) Datagram(*decode.Datagram) {}
func (c *sipCount) Warn(w *decode.Warning)    { c.warnings = append(c.warnings, w.Error()) }

func countSIP(t *testing.T, path string) (*sipCount, error) {
	t.Helper()
	src, err := capture.Open(path)
	if err != nil {
		return &sipCount{perCallID: map[string]int{}}, err
	}
	defer src.Close()
	c := &sipCount{perCallID: map[string]int{}}
	d := decode.NewDecoder(c, decode.Options{})
	var damage error
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			damage = err
			break
		}
		d.Decode(p)
	}
	d.Flush()
	if testing.Verbose() && len(c.warnings) > 0 {
		sort.Strings(c.warnings)
		t.Logf("warnings: %q", c.warnings)
	}
	return c, damage
}
