package correlate_test

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
)

// A scenario is a script of SIP messages between a caller A (10.0.0.1) and
// a callee B (10.0.0.2). Each line:
//
//	SECONDS DIR WHAT CSEQ [branch=X] [totag] [auth] [callid=X] [hdr=Name:Value] [sdp=DIR]
//
// DIR is A>B or B>A; WHAT a method or a status code (a response answers the
// CSeq method given as CSEQ "1 INVITE"-style with a slash: 1/INVITE).
func scenario(t *testing.T, script string) []*correlate.Call {
	t.Helper()
	var calls []*correlate.Call
	c := correlate.New(correlate.Options{}, func(call *correlate.Call) { calls = append(calls, call) })
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := netip.MustParseAddrPort("10.0.0.1:5060")
	b := netip.MustParseAddrPort("10.0.0.2:5060")
	var m decode.Message
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(script), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if f[0] == "flush" { // the capture ends here
			c.Flush()
			continue
		}
		n++
		var secs float64
		fmt.Sscan(f[0], &secs)
		src, dst := a, b
		if f[1] == "B>A" {
			src, dst = b, a
		}
		what := f[2]
		cseq := strings.Replace(f[3], "/", " ", 1)
		branch, toTag, auth, callID, sdp := "z9hG4bK1", "", false, "call-1", ""
		var extra []string
		for _, opt := range f[4:] {
			switch {
			case strings.HasPrefix(opt, "branch="):
				branch = "z9hG4bK" + opt[7:]
			case opt == "totag":
				toTag = ";tag=callee"
			case strings.HasPrefix(opt, "totag="):
				toTag = ";tag=" + opt[6:]
			case opt == "auth":
				auth = true
			case strings.HasPrefix(opt, "callid="):
				callID = opt[7:]
			case strings.HasPrefix(opt, "hdr="):
				extra = append(extra, strings.Replace(opt[4:], "_", " ", -1))
			case strings.HasPrefix(opt, "sdp="):
				sdp = opt[4:]
			default:
				t.Fatalf("bad option %q in %q", opt, line)
			}
		}
		var sb strings.Builder
		viaHost := a
		if what[0] >= '1' && what[0] <= '6' {
			fmt.Fprintf(&sb, "SIP/2.0 %s Reason\r\n", what)
			if f[1] == "A>B" { // a response from A answers B's request
				viaHost = b
			}
		} else {
			fmt.Fprintf(&sb, "%s sip:bob@10.0.0.2 SIP/2.0\r\n", what)
			if f[1] == "B>A" {
				viaHost = b
			}
		}
		fmt.Fprintf(&sb, "Via: SIP/2.0/UDP %s;branch=%s\r\n", viaHost, branch)
		fromTag, toTagV := ";tag=caller", toTag
		if viaHost == b { // B's own request: From is B
			fromTag, toTagV = ";tag=callee", ";tag=caller"
			if toTag == "" {
				toTagV = ""
			}
		}
		fmt.Fprintf(&sb, "From: <sip:alice@x>%s\r\nTo: <sip:bob@x>%s\r\nCall-ID: %s\r\nCSeq: %s\r\n", fromTag, toTagV, callID, cseq)
		if auth {
			sb.WriteString("Authorization: Digest username=\"alice\"\r\n")
		}
		for _, h := range extra {
			sb.WriteString(h + "\r\n")
		}
		body := ""
		if sdp != "" {
			body = sdpOffer("1 1", "10.0.0.1", sdp)
		}
		endMessage(&sb, "application/sdp", body)
		addMessage(t, c, &m, line, sb.String(), n, t0.Add(time.Duration(secs*float64(time.Second))), src, dst)
	}
	c.Flush()
	return calls
}

// addMessage parses text, the message a script's line describes, and
// hands it to c as packet n, sent at at from src to dst over UDP (over
// TCP when text's Via says so).
func addMessage(t *testing.T, c *correlate.Correlator, m *decode.Message, line, text string, n int, at time.Time, src, dst netip.AddrPort) {
	t.Helper()
	transport := decode.UDP
	if strings.Contains(text, "Via: SIP/2.0/TCP ") {
		transport = decode.TCP
	}
	// A body shorter than its Content-Length is kept, as the Decoder keeps
	// it (the snap length cut the packet; the script's cut=).
	if err := decode.ParseSIP([]byte(text), m); err != nil && !errors.Is(err, decode.ErrShortBody) {
		t.Fatalf("%q: %v", line, err)
	}
	m.N, m.Time, m.Src, m.Dst, m.Transport = n, at, src, dst, transport
	c.Add(m)
}

func rules(c *correlate.Call) string {
	var rs []string
	for _, f := range c.Findings {
		rs = append(rs, f.Rule)
	}
	sort.Strings(rs)
	return strings.Join(rs, ",")
}

const basicCall = `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 100 1/INVITE
0.2 B>A 180 1/INVITE totag
1.0 B>A 200 1/INVITE sdp=sendrecv totag
1.1 A>B ACK 1/ACK totag branch=ack
5.0 A>B BYE 2/BYE totag branch=bye
5.1 B>A 200 2/BYE totag branch=bye
`

// glare is both sides of an answered call sending a re-INVITE at once,
// each refused with 491 Request Pending (RFC 3261 §14.1).
const glare = `
2.0 A>B INVITE 3/INVITE totag branch=ra sdp=sendonly
2.0 B>A INVITE 1/INVITE totag branch=rb sdp=sendonly
2.01 B>A 491 3/INVITE totag branch=ra
2.01 A>B 491 1/INVITE totag branch=rb
2.02 A>B ACK 3/ACK totag branch=ra
2.02 B>A ACK 1/ACK totag branch=rb`

func TestChecks(t *testing.T) {
	tests := []struct {
		name, script string
		state        correlate.State
		rules        string
	}{
		{"basic call", basicCall, correlate.StateCompleted, ""},
		{"2xx never ACKed, retransmitted", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
1.0 B>A 200 1/INVITE sdp=sendrecv totag
1.5 B>A 200 1/INVITE sdp=sendrecv totag
2.5 B>A 200 1/INVITE sdp=sendrecv totag
9.0 B>A BYE 1/BYE totag branch=bye
9.1 A>B 200 1/BYE totag branch=bye`, correlate.StateCompleted, "missing-ack,retransmissions"},
		{"2xx not ACKed but the capture ends at once", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
1.0 B>A 200 1/INVITE sdp=sendrecv totag`, correlate.StateAnswered, "not-ended"},
		{"486 retransmitted without ACK", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 486 1/INVITE totag
0.6 B>A 486 1/INVITE totag
1.6 B>A 486 1/INVITE totag`, correlate.StateRejected, "call-failed,missing-ack-non2xx,retransmissions"},
		{"486 ACKed", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 486 1/INVITE totag
0.2 A>B ACK 1/ACK totag`, correlate.StateRejected, "call-failed"},
		{"INVITE never answered, capture goes on", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.5 A>B INVITE 1/INVITE sdp=sendrecv
1.5 A>B INVITE 1/INVITE sdp=sendrecv
3.5 A>B INVITE 1/INVITE sdp=sendrecv
40 A>B OPTIONS 1/OPTIONS callid=other branch=o
40.1 B>A 200 1/OPTIONS callid=other branch=o`, correlate.StateUnanswered, "retransmissions,unanswered-invite"},
		{"INVITE just sent when the capture ends", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv`, correlate.StateInProgress, ""},
		{"ringing when the capture ends", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 180 1/INVITE totag
40 A>B OPTIONS 1/OPTIONS callid=other branch=o`, correlate.StateInProgress, ""},
		{"challenge never answered", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 407 1/INVITE totag
0.2 A>B ACK 1/ACK totag
32.2 A>B OPTIONS 1/OPTIONS callid=other branch=o`, correlate.StateFailed, "unanswered-challenge"},
		// A phone that asks its user, or looks the password up, retries
		// seconds later (17 s in sngrep's aaa.pcap): a capture that ends
		// first proves nothing.
		{"challenge as the capture ends", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 407 1/INVITE totag
0.2 A>B ACK 1/ACK totag
32.0 A>B OPTIONS 1/OPTIONS callid=other branch=o`, correlate.StateInProgress, ""},
		{"registration challenged as the capture ends", `
0.0 A>B REGISTER 1/REGISTER
0.1 B>A 401 1/REGISTER
20 A>B OPTIONS 1/OPTIONS callid=other branch=o`, correlate.StateInProgress, ""},
		{"registration challenge never answered", `
0.0 A>B REGISTER 1/REGISTER
0.1 B>A 401 1/REGISTER
40 A>B OPTIONS 1/OPTIONS callid=other branch=o`, correlate.StateFailed, "unanswered-challenge"},
		// RFC 3261 §15: the caller may end an early dialog with a BYE; the
		// callee still owes the INVITE its final response (a 487, §15.1.2).
		{"BYE on the early dialog", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 180 1/INVITE totag=t1
5.0 A>B BYE 2/BYE totag=t1 branch=bye
5.1 B>A 200 2/BYE totag=t1 branch=bye
5.2 B>A 487 1/INVITE totag=t1
5.3 A>B ACK 1/ACK totag=t1`, correlate.StateCancelled, ""},
		{"BYE on the early dialog, the INVITE never answered", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 180 1/INVITE totag=t1
5.0 A>B BYE 2/BYE totag=t1 branch=bye
5.1 B>A 200 2/BYE totag=t1 branch=bye
200 A>B OPTIONS 1/OPTIONS callid=other branch=o`, correlate.StateCancelled, "unanswered-invite"},
		// The usual shape through an authenticating proxy: the retry with
		// credentials rang, and the caller hung up by a BYE.
		{"BYE on the early dialog after a challenge", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 407 1/INVITE totag=x
0.2 A>B ACK 1/ACK totag=x
0.5 A>B INVITE 2/INVITE auth sdp=sendrecv branch=retry
0.6 B>A 180 2/INVITE totag=t1 branch=retry
5.0 A>B BYE 3/BYE totag=t1 branch=bye
5.1 B>A 200 3/BYE totag=t1 branch=bye
20 A>B OPTIONS 1/OPTIONS callid=other branch=o`, correlate.StateCancelled, ""},
		{"BYE to another early dialog", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 180 1/INVITE totag=t1
5.0 A>B BYE 2/BYE totag=t2 branch=bye
5.1 B>A 481 2/BYE totag=t2 branch=bye
20 A>B OPTIONS 1/OPTIONS callid=other branch=o`, correlate.StateInProgress, ""},
		{"challenge answered", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 407 1/INVITE totag=t1
0.2 A>B ACK 1/ACK totag=t1
0.3 A>B INVITE 2/INVITE sdp=sendrecv branch=2 auth
1.0 B>A 200 2/INVITE sdp=sendrecv branch=2 totag
1.1 A>B ACK 2/ACK totag branch=ack
5.0 A>B BYE 3/BYE totag branch=bye
5.1 B>A 200 3/BYE totag branch=bye`, correlate.StateCompleted, ""},
		{"challenge answered 20 s later", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 407 1/INVITE totag=t1
0.2 A>B ACK 1/ACK totag=t1
20.2 A>B INVITE 2/INVITE sdp=sendrecv branch=2 auth
21.0 B>A 200 2/INVITE sdp=sendrecv branch=2 totag
21.1 A>B ACK 2/ACK totag branch=ack
25.0 A>B BYE 3/BYE totag branch=bye
25.1 B>A 200 3/BYE totag branch=bye`, correlate.StateCompleted, ""},
		{"challenge answered 50 s later", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 407 1/INVITE totag=t1
0.2 A>B ACK 1/ACK totag=t1
50.2 A>B INVITE 2/INVITE sdp=sendrecv branch=2 auth
51.0 B>A 200 2/INVITE sdp=sendrecv branch=2 totag
51.1 A>B ACK 2/ACK totag branch=ack
55.0 A>B BYE 3/BYE totag branch=bye
55.1 B>A 200 3/BYE totag branch=bye`, correlate.StateCompleted, ""},
		{"challenge answered 3 min later: another call", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 407 1/INVITE totag=t1
0.2 A>B ACK 1/ACK totag=t1
180.2 A>B INVITE 2/INVITE sdp=sendrecv branch=2 auth
181.0 B>A 200 2/INVITE sdp=sendrecv branch=2 totag
181.1 A>B ACK 2/ACK totag branch=ack
185.0 A>B BYE 3/BYE totag branch=bye
185.1 B>A 200 3/BYE totag branch=bye`, correlate.StateFailed, "unanswered-challenge"},
		{"wrong password", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 407 1/INVITE totag=t1
0.2 A>B ACK 1/ACK totag=t1
0.3 A>B INVITE 2/INVITE sdp=sendrecv branch=2 auth
0.4 B>A 407 2/INVITE branch=2 totag=t2
0.5 A>B ACK 2/ACK branch=2 totag=t2
10 A>B OPTIONS 1/OPTIONS callid=other branch=o`, correlate.StateFailed, "auth-failed,unanswered-challenge"},
		{"stale nonce then success", `
0.0 A>B REGISTER 1/REGISTER
0.1 B>A 401 1/REGISTER
0.2 A>B REGISTER 2/REGISTER branch=2 auth
0.3 B>A 401 2/REGISTER branch=2
0.4 A>B REGISTER 3/REGISTER branch=3 auth
0.5 B>A 200 3/REGISTER branch=3`, correlate.StateRegistered, ""},
		{"registration challenged, retried 50 s later", `
0.0 A>B REGISTER 1/REGISTER
0.1 B>A 401 1/REGISTER
50.0 A>B REGISTER 2/REGISTER branch=2 auth
50.1 B>A 200 2/REGISTER branch=2`, correlate.StateRegistered, ""},
		{"registration refused", `
0.0 A>B REGISTER 1/REGISTER
0.1 B>A 403 1/REGISTER`, correlate.StateFailed, "register-failed"},
		{"BYE never answered", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
1.0 B>A 200 1/INVITE sdp=sendrecv totag
1.1 A>B ACK 1/ACK totag branch=ack
5.0 A>B BYE 2/BYE totag branch=bye
5.5 A>B BYE 2/BYE totag branch=bye`, correlate.StateCompleted, "no-bye-response,retransmissions"},
		{"server error", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 503 1/INVITE totag
0.2 A>B ACK 1/ACK totag`, correlate.StateFailed, "call-failed"},
		{"declined everywhere", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 603 1/INVITE totag
0.2 A>B ACK 1/ACK totag`, correlate.StateRejected, "call-failed"},
		{"cancelled", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 180 1/INVITE totag
2.0 A>B CANCEL 1/CANCEL
2.1 B>A 200 1/CANCEL
2.2 B>A 487 1/INVITE totag
2.3 A>B ACK 1/ACK totag`, correlate.StateCancelled, ""},
		{"re-INVITE rejected", basicCall[:strings.Index(basicCall, "5.0")] + `
2.0 A>B INVITE 3/INVITE totag branch=re sdp=sendonly
2.1 B>A 488 3/INVITE totag branch=re
2.2 A>B ACK 3/ACK totag branch=re
5.0 A>B BYE 4/BYE totag branch=bye
5.1 B>A 200 4/BYE totag branch=bye`, correlate.StateCompleted, "reinvite-failed"},
		{"re-INVITE glare, one side sends again", basicCall[:strings.Index(basicCall, "5.0")] + glare + `
3.0 B>A INVITE 2/INVITE totag branch=rb2 sdp=sendonly
3.1 A>B 200 2/INVITE totag branch=rb2 sdp=recvonly
3.2 B>A ACK 2/ACK totag branch=rb2ack
9.0 A>B BYE 4/BYE totag branch=bye
9.1 B>A 200 4/BYE totag branch=bye`, correlate.StateCompleted, "reinvite-failed,reinvite-glare"},
		{"re-INVITE glare, both send again", basicCall[:strings.Index(basicCall, "5.0")] + glare + `
3.0 B>A INVITE 2/INVITE totag branch=rb2 sdp=sendonly
3.1 A>B 200 2/INVITE totag branch=rb2 sdp=recvonly
3.2 B>A ACK 2/ACK totag branch=rb2ack
5.0 A>B INVITE 4/INVITE totag branch=ra2 sdp=sendonly
5.1 B>A 200 4/INVITE totag branch=ra2 sdp=recvonly
5.2 A>B ACK 4/ACK totag branch=ra2ack
9.0 A>B BYE 5/BYE totag branch=bye
9.1 B>A 200 5/BYE totag branch=bye`, correlate.StateCompleted, "reinvite-glare,reinvite-glare"},
		{"re-INVITE refused 491, the capture ends", basicCall[:strings.Index(basicCall, "5.0")] + `
2.0 A>B INVITE 3/INVITE totag branch=ra sdp=sendonly
2.1 B>A 491 3/INVITE totag branch=ra
2.2 A>B ACK 3/ACK totag branch=ra`, correlate.StateAnswered, "not-ended,reinvite-glare"},
		{"re-INVITE refused 491, sent again too late", basicCall[:strings.Index(basicCall, "5.0")] + `
2.0 A>B INVITE 3/INVITE totag branch=ra sdp=sendonly
2.1 B>A 491 3/INVITE totag branch=ra
2.2 A>B ACK 3/ACK totag branch=ra
12.2 A>B INVITE 4/INVITE totag branch=ra2 sdp=sendonly
12.3 B>A 200 4/INVITE totag branch=ra2 sdp=recvonly
12.4 A>B ACK 4/ACK totag branch=ra2ack
15.0 A>B BYE 5/BYE totag branch=bye
15.1 B>A 200 5/BYE totag branch=bye`, correlate.StateCompleted, "reinvite-failed"},
		{"UPDATE rejected", basicCall[:strings.Index(basicCall, "5.0")] + `
2.0 A>B UPDATE 3/UPDATE totag branch=up sdp=sendrecv
2.1 B>A 488 3/UPDATE totag branch=up
5.0 A>B BYE 4/BYE totag branch=bye
5.1 B>A 200 4/BYE totag branch=bye`, correlate.StateCompleted, "reinvite-failed"},
		{"UPDATE glare, sent again", basicCall[:strings.Index(basicCall, "5.0")] + `
2.0 A>B UPDATE 3/UPDATE totag branch=up
2.1 B>A 491 3/UPDATE totag branch=up
4.0 A>B UPDATE 4/UPDATE totag branch=up2
4.1 B>A 200 4/UPDATE totag branch=up2
5.0 A>B BYE 5/BYE totag branch=bye
5.1 B>A 200 5/BYE totag branch=bye`, correlate.StateCompleted, "reinvite-glare"},
		// A proxy challenges the re-INVITE, which is sent again with
		// credentials: neither a failure nor an unanswered challenge.
		{"re-INVITE challenged, sent again", basicCall[:strings.Index(basicCall, "5.0")] + `
2.0 A>B INVITE 3/INVITE totag branch=re sdp=sendonly
2.1 B>A 407 3/INVITE totag branch=re
2.2 A>B ACK 3/ACK totag branch=re
2.3 A>B INVITE 4/INVITE totag branch=re2 sdp=sendonly auth
2.4 B>A 200 4/INVITE totag branch=re2 sdp=recvonly
2.5 A>B ACK 4/ACK totag branch=re2ack
5.0 A>B BYE 5/BYE totag branch=bye
5.1 B>A 200 5/BYE totag branch=bye`, correlate.StateCompleted, ""},
		{"transfer refused", basicCall[:strings.Index(basicCall, "5.0")] + `
2.0 B>A REFER 1/REFER totag branch=r hdr=Refer-To:_<sip:carol@x>
2.1 A>B 603 1/REFER totag branch=r
5.0 A>B BYE 2/BYE totag branch=bye
5.1 B>A 200 2/BYE totag branch=bye`, correlate.StateCompleted, "transfer-failed"},
		{"OPTIONS never answered", `
0.0 A>B OPTIONS 1/OPTIONS
0.5 A>B OPTIONS 1/OPTIONS
1.5 A>B OPTIONS 1/OPTIONS
40 A>B REGISTER 1/REGISTER callid=other branch=o
40.1 B>A 200 1/REGISTER callid=other branch=o`, correlate.StateUnanswered, "retransmissions,unanswered-request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := scenario(t, tt.script)
			c := calls[0]
			if c.State != tt.state || rules(c) != tt.rules {
				t.Errorf("state %s findings %q, want %s %q", c.State, rules(c), tt.state, tt.rules)
				for _, f := range c.Findings {
					t.Logf("  %s: %s", f.Rule, f.Detail)
				}
			}
		})
	}
}

func TestTimings(t *testing.T) {
	c := scenario(t, basicCall)[0]
	if c.PDD != 200*time.Millisecond || c.Answer != time.Second || c.Duration != 4*time.Second {
		t.Errorf("pdd %v answer %v duration %v, want 200ms 1s 4s", c.PDD, c.Answer, c.Duration)
	}
	if c.EndedBy != "caller" || c.Flow != "basic-call" || c.NumMessages != 7 || c.NumDialogs != 1 {
		t.Errorf("ended by %q, flow %q, %d messages, %d dialogs", c.EndedBy, c.Flow, c.NumMessages, c.NumDialogs)
	}
}

func TestHoldEvents(t *testing.T) {
	c := scenario(t, basicCall[:strings.Index(basicCall, "5.0")]+`
2.0 A>B INVITE 3/INVITE totag branch=h1 sdp=sendonly
2.1 B>A 200 3/INVITE totag branch=h1 sdp=recvonly
2.2 A>B ACK 3/ACK totag branch=a1
3.0 A>B INVITE 4/INVITE totag branch=h2 sdp=sendrecv
3.1 B>A 200 4/INVITE totag branch=h2 sdp=sendrecv
3.2 A>B ACK 4/ACK totag branch=a2
5.0 A>B BYE 5/BYE totag branch=bye
5.1 B>A 200 5/BYE totag branch=bye`)[0]
	var kinds []string
	for _, e := range c.Events {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, ",") != "hold,resume" || c.Flow != "hold-resume" || len(c.Findings) != 0 {
		t.Errorf("events %v flow %q findings %q", kinds, c.Flow, rules(c))
	}
}

func TestForking(t *testing.T) {
	c := scenario(t, `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.1 B>A 183 1/INVITE totag=fork1
0.2 B>A 180 1/INVITE totag=fork2
1.0 B>A 200 1/INVITE sdp=sendrecv totag=fork2
1.1 A>B ACK 1/ACK totag=fork2 branch=ack
5.0 A>B BYE 2/BYE totag=fork2 branch=bye
5.1 B>A 200 2/BYE totag=fork2 branch=bye`)[0]
	if c.NumDialogs != 2 || c.State != correlate.StateCompleted || len(c.Findings) != 0 {
		t.Errorf("dialogs %d state %s findings %q, want 2 dialogs (one early), completed", c.NumDialogs, c.State, rules(c))
	}
	early := 0
	for _, d := range c.Legs[0].Dialogs {
		if d.Early && !d.Confirmed {
			early++
		}
	}
	if early != 1 {
		t.Errorf("%d early dialogs left, want 1", early)
	}
}

// TestThreeLegChain: A-leg, B-leg naming A in X-Call-ID, C-leg naming B in
// X-CID: one call of three legs, named after the first.
func TestThreeLegChain(t *testing.T) {
	legs := func(id, link string, at float64) string {
		hdr := ""
		if link != "" {
			hdr = " hdr=" + link
		}
		return fmt.Sprintf(`
%.1[1]f A>B INVITE 1/INVITE sdp=sendrecv callid=%[2]s%[3]s
%[4].1f B>A 200 1/INVITE sdp=sendrecv callid=%[2]s totag
%[5].1f A>B ACK 1/ACK callid=%[2]s totag branch=ack
%[6].1f A>B BYE 2/BYE callid=%[2]s totag branch=bye
%[7].1f B>A 200 2/BYE callid=%[2]s totag branch=bye`, at, id, hdr, at+1, at+1.1, at+5, at+5.1)
	}
	script := legs("leg-a", "", 0) + legs("leg-b", "X-Call-ID:leg-a", 0.2) + legs("leg-c", "X-CID:leg-b", 0.4) + legs("lonely", "", 0.6)
	calls := scenario(t, script)
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2 (the chain and the lonely one)", len(calls))
	}
	if calls[0].ID != "leg-a" || strings.Join(calls[0].LinkedIDs, ",") != "leg-b,leg-c" {
		t.Errorf("chain: %s + %v", calls[0].ID, calls[0].LinkedIDs)
	}
	if calls[1].ID != "lonely" || len(calls[1].LinkedIDs) != 0 {
		t.Errorf("second: %s + %v", calls[1].ID, calls[1].LinkedIDs)
	}
}

// TestLateRetransmission: a retransmission that comes after its call was
// finished and reported (the linger is 5 s) is recognised by the call's
// tombstone, for its first transactions and for those beyond the fourth,
// and is not taken for a new call; a new transaction of the same Call-ID
// is a new call, and so is anything once the tombstone has expired (32 s),
// or when it follows the end of the capture (Flush leaves no tombstones).
func TestLateRetransmission(t *testing.T) {
	// Packet time moves on only with packets: an OPTIONS of another Call-ID
	// at 11 s finishes the call (its linger over), at 11 s.
	const tick = "11.0 A>B OPTIONS 1/OPTIONS callid=tick branch=tick\n"
	const long = basicCall + `
5.2 A>B INFO 3/INFO totag branch=i3
5.3 B>A 200 3/INFO totag branch=i3
5.4 A>B INFO 4/INFO totag branch=i4
5.5 B>A 200 4/INFO totag branch=i4
`
	for _, tc := range []struct {
		name, script string
		calls        int // the call, the tick, and any new one
	}{
		{"late BYE retransmission", basicCall + tick + "12.0 A>B BYE 2/BYE totag branch=bye\n", 2},
		{"late 200 to INVITE", basicCall + tick + "12.0 B>A 200 1/INVITE sdp=sendrecv totag\n", 2},
		{"late retransmission of the sixth transaction", long + tick + "12.0 A>B INFO 4/INFO totag branch=i4\n", 2},
		{"new transaction, same Call-ID", basicCall + tick + "12.0 A>B INVITE 3/INVITE sdp=sendrecv branch=again\n", 3},
		{"after the tombstone expired", basicCall + tick + "44.0 A>B BYE 2/BYE totag branch=bye\n", 3},
		{"after the end of the capture", basicCall + "flush\n12.0 A>B BYE 2/BYE totag branch=bye\n", 2},
	} {
		got := scenario(t, tc.script)
		if len(got) != tc.calls {
			t.Errorf("%s: %d calls, want %d", tc.name, len(got), tc.calls)
		}
		if len(got) > 0 && got[0].ID == "call-1" && got[0].End.After(time.Date(2026, 1, 1, 0, 0, 6, 0, time.UTC)) {
			t.Errorf("%s: the late message was added to the finished call (ends %v)", tc.name, got[0].End)
		}
	}
}

// TestEventExpires: a message keeps its Event and Expires headers
// (decode.Message.Event and Expires).
func TestEventExpires(t *testing.T) {
	calls := scenario(t, `
0.0 A>B SUBSCRIBE 1/SUBSCRIBE hdr=Event:_presence hdr=Expires:_600
0.1 B>A 200 1/SUBSCRIBE totag hdr=Expires:_300
0.2 B>A NOTIFY 1/NOTIFY branch=n totag hdr=o:_presence
`)
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1", len(calls))
	}
	var got []string
	for _, m := range calls[0].Messages() {
		got = append(got, fmt.Sprintf("%q %d", m.Event(), m.Expires()))
	}
	if want := `"presence" 600|"" 300|"presence" -1`; strings.Join(got, "|") != want {
		t.Errorf("Event, Expires = %s, want %s", strings.Join(got, "|"), want)
	}
}

// TestTimerBoundedFinish: a call whose requests were all retransmitted and
// never answered is finished 64·T1 after its last message, not after the
// 10-minute idle timeout; a call ringing or with a dialog open waits, and so
// does one whose request was sent once (a capture that misses the responses
// shows no retransmission), and a registration (a client may retry with
// the same Call-ID).
func TestTimerBoundedFinish(t *testing.T) {
	const ticks = "40.0 A>B OPTIONS 1/OPTIONS callid=tick1 branch=t1\n" +
		"100.0 A>B OPTIONS 1/OPTIONS callid=tick2 branch=t2\n"
	const answered = `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.2 B>A 180 1/INVITE totag
1.0 B>A 200 1/INVITE sdp=sendrecv totag
`
	const established = answered + "1.1 A>B ACK 1/ACK totag branch=ack\n"
	for _, tc := range []struct {
		name, script string
		end          float64 // when the call must be finished
		state        correlate.State
		rule         string // a finding it must have
	}{
		{"INVITE never answered", `
0.0 A>B INVITE 1/INVITE sdp=sendrecv
0.5 A>B INVITE 1/INVITE sdp=sendrecv
1.5 A>B INVITE 1/INVITE sdp=sendrecv
3.5 A>B INVITE 1/INVITE sdp=sendrecv
`, 40, correlate.StateUnanswered, "unanswered-invite"},
		{"REGISTER never answered", `
0.0 A>B REGISTER 1/REGISTER
0.5 A>B REGISTER 1/REGISTER
`, 100, correlate.StateUnanswered, ""},
		{"INVITE sent once, no response in sight", "0.0 A>B INVITE 1/INVITE sdp=sendrecv\n", 100, correlate.StateUnanswered, ""},
		{"ringing", "0.0 A>B INVITE 1/INVITE sdp=sendrecv\n0.2 B>A 180 1/INVITE totag\n", 100, correlate.StateInProgress, ""},
		{"answered late, within timer B", "0.0 A>B INVITE 1/INVITE sdp=sendrecv\n7.5 A>B INVITE 1/INVITE sdp=sendrecv\n20.0 B>A 180 1/INVITE totag\n", 100, correlate.StateInProgress, ""},
		{"BYE never answered", established + `
5.0 A>B BYE 2/BYE totag branch=bye
5.5 A>B BYE 2/BYE totag branch=bye
6.5 A>B BYE 2/BYE totag branch=bye
`, 100, correlate.StateCompleted, "no-bye-response"},
		{"2xx never ACKed", answered + "1.5 B>A 200 1/INVITE sdp=sendrecv totag\n2.5 B>A 200 1/INVITE sdp=sendrecv totag\n", 100, correlate.StateAnswered, "missing-ack"},
		{"talking", established, 100, correlate.StateAnswered, "not-ended"},
		{"re-INVITE never answered while talking", established + "3.0 A>B INVITE 2/INVITE sdp=sendrecv totag branch=re\n3.5 A>B INVITE 2/INVITE sdp=sendrecv totag branch=re\n", 100, correlate.StateAnswered, ""},
	} {
		calls := scenario(t, tc.script+ticks)
		var call *correlate.Call
		for _, c := range calls {
			if c.ID == "call-1" {
				call = c
			}
		}
		if call == nil {
			t.Errorf("%s: no call-1 among %d calls", tc.name, len(calls))
			continue
		}
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if got := call.CaptureEnd.Sub(t0).Seconds(); got != tc.end {
			t.Errorf("%s: finished at %gs, want %gs", tc.name, got, tc.end)
		}
		if call.State != tc.state {
			t.Errorf("%s: state %s, want %s", tc.name, call.State, tc.state)
		}
		if tc.rule != "" && !call.HasFinding(tc.rule) {
			t.Errorf("%s: findings %s, want %s among them", tc.name, rules(call), tc.rule)
		}
	}
}
