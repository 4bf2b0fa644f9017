package correlate_test

import (
	"strings"
	"testing"
)

// TestFailureDetails: a failure's finding quotes its Warning headers (RFC
// 3261 §20.43), a 488 or 606 to an INVITE says what the INVITE offered
// (all of it refused by the caller itself when every stream has port 0),
// and a 408 or 5xx says the call failed, as its state does, not that it
// was refused.
func TestFailureDetails(t *testing.T) {
	const (
		invite = "0.0 a>b INVITE 1/INVITE sdp=1\n0.1 b>a 100 1/INVITE\n"
		ack    = "0.3 a>b ACK 1/INVITE tt=callee\n"
		warn   = ` hdr=Warning:_305_b_"Incompatible_media_format"`
	)
	tests := []struct {
		name, script, rule, detail string // detail: the whole of it
	}{
		{"488 with a Warning", invite + "0.2 b>a 488 1/INVITE tt=callee" + warn + "\n" + ack, "call-failed",
			`call rejected by 10.0.0.2 with 488 Reason (Warning: 305 b "Incompatible media format"); the INVITE offered audio PCMU 10.0.0.1:4000 sendrecv`},
		{"606 without one", invite + "0.2 b>a 606 1/INVITE tt=callee\n" + ack, "call-failed",
			"call rejected by 10.0.0.2 with 606 Reason; the INVITE offered audio PCMU 10.0.0.1:4000 sendrecv"},
		{"488 to an offer of port 0 only", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_0_RTP/AVP_0|m=video_0_RTP/AVP_31\n0.2 b>a 488 1/INVITE tt=callee\n" + ack, "call-failed",
			"call rejected by 10.0.0.2 with 488 Reason; the INVITE offered audio PCMU 10.0.0.1:0 sendrecv; video H261 10.0.0.1:0 sendrecv: " +
				"every stream has port 0 (refused by the caller itself), so there was nothing to accept"},
		{"488 to an offer with one stream of port 0", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_0|m=video_0_RTP/AVP_31\n0.2 b>a 488 1/INVITE tt=callee\n" + ack, "call-failed",
			"call rejected by 10.0.0.2 with 488 Reason; the INVITE offered audio PCMU 10.0.0.1:4000 sendrecv; video H261 10.0.0.1:0 sendrecv"},
		{"488 to an INVITE without SDP", "0.0 a>b INVITE 1/INVITE\n0.2 b>a 488 1/INVITE tt=callee\n" + ack, "call-failed",
			"call rejected by 10.0.0.2 with 488 Reason"},
		{"488 to an INVITE whose SDP the capture cut", "0.0 a>b INVITE 1/INVITE sdp=1 cut=20\n0.2 b>a 488 1/INVITE tt=callee\n" + ack, "call-failed",
			"call rejected by 10.0.0.2 with 488 Reason"},
		{"486 with a Warning: no offer", invite + "0.2 b>a 486 1/INVITE tt=callee" + warn + "\n" + ack, "call-failed",
			`call rejected by 10.0.0.2 with 486 Reason (Warning: 305 b "Incompatible media format")`},
		{"two Warnings", invite + `0.2 b>a 480 1/INVITE tt=callee hdr=Warning:_399_p1_"No_DNS" hdr=Warning:_399_p2_"Gone"` + "\n" + ack, "call-failed",
			`call rejected by 10.0.0.2 with 480 Reason (Warning: 399 p1 "No DNS"; 399 p2 "Gone")`},
		{"an empty Warning, then one", invite + `0.2 b>a 480 1/INVITE tt=callee hdr=Warning: hdr=Warning:_399_p2_"Gone"` + "\n" + ack, "call-failed",
			`call rejected by 10.0.0.2 with 480 Reason (Warning: 399 p2 "Gone")`},
		{"a Warning of 300 bytes", invite + `0.2 b>a 480 1/INVITE tt=callee hdr=Warning:_399_p_"` + strings.Repeat("é", 150) + `"` + "\n" + ack, "call-failed",
			`call rejected by 10.0.0.2 with 480 Reason (Warning: 399 p "` + strings.Repeat("é", 96) + `…)`},
		{"503: the call failed, no refusal", invite + `0.2 b>a 503 1/INVITE tt=callee hdr=Warning:_399_b_"Overloaded"` + "\n" + ack, "call-failed",
			`call failed: 10.0.0.2 answered 503 Reason (Warning: 399 b "Overloaded")`},
		{"408 from a proxy: failed", invite + "0.2 b>a 408 1/INVITE tt=callee\n" + ack, "call-failed",
			"call failed: 10.0.0.2 answered 408 Reason"},
		{"603: a refusal", invite + "0.2 b>a 603 1/INVITE tt=callee\n" + ack, "call-failed",
			"call rejected by 10.0.0.2 with 603 Reason"},
		{"a re-INVITE refused with a Warning", invite + "0.2 b>a 200 1/INVITE tt=callee sdp=1\n0.3 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n" +
			"1.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre sdp=2 media=m=audio_4000_RTP/AVP_18\n1.1 b>a 488 2/INVITE tt=callee br=z9hG4bKre" + warn + "\n" +
			"1.2 a>b ACK 2/INVITE tt=callee br=z9hG4bKre\n5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "reinvite-failed",
			`re-INVITE (audio G729 10.0.0.1:4000 sendrecv) rejected with 488 Reason (Warning: 305 b "Incompatible media format")`},
		{"a REGISTER refused with a Warning", `0.0 a>b REGISTER 1/REGISTER` + "\n" + `0.1 b>a 403 1/REGISTER tt=r hdr=Warning:_399_b_"Not_here"` + "\n", "register-failed",
			`registration of sip:bob@x refused with 403 Reason (Warning: 399 b "Not here")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := scriptCall(t, runScript(t, tt.script), "call-1")
			f := findingOf(c, tt.rule)
			if f == nil {
				t.Fatalf("no %s; got %s", tt.rule, describe(c))
			}
			if f.Detail != tt.detail {
				t.Errorf("detail\n%s\nwant\n%s", f.Detail, tt.detail)
			}
		})
	}
}

// TestWarningKeptOnFailures: only a failure response keeps its Warning
// (a 2xx's or a 1xx's says nothing that went wrong).
func TestWarningKeptOnFailures(t *testing.T) {
	c := scriptCall(t, runScript(t, `0.0 a>b INVITE 1/INVITE sdp=1
0.1 b>a 183 1/INVITE tt=callee hdr=Warning:_399_b_"early"
0.2 b>a 200 1/INVITE tt=callee sdp=1 hdr=Warning:_399_b_"fine"
0.3 a>b ACK 1/ACK tt=callee br=z9hG4bKack
1.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
1.1 b>a 481 2/BYE tt=callee br=z9hG4bKbye hdr=Warning:_399_b_"gone"
`), "call-1")
	var got []string
	for _, m := range c.Messages() {
		got = append(got, m.Warning())
	}
	if strings.Join(got, "|") != `|||||399 b "gone"` {
		t.Errorf("warnings %q", got)
	}
}
