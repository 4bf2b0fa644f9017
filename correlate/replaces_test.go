package correlate_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
)

// An attended transfer (RFC 5589 §7) as three calls: a calls b (call1),
// a calls c (consult), a REFERs b to c with a Replaces naming consult,
// b's INVITE to c carries it (new), and c ends consult.
const (
	xferCall1 = "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
		"0.1 b>a 200 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1 sdp=1\n" +
		"0.11 a>b ACK 1/ACK cid=call1 ft=a1 tt=b1 br=z9hG4bK2\n"
	xferConsult = "1.0 a>c INVITE 1/INVITE cid=consult ft=ca br=z9hG4bK3 sdp=1\n" +
		"1.1 c>a 200 1/INVITE cid=consult ft=ca tt=cc br=z9hG4bK3 sdp=1\n" +
		"1.11 a>c ACK 1/ACK cid=consult ft=ca tt=cc br=z9hG4bK4\n"
	xferRefer = "2.0 a>b REFER 2/REFER cid=call1 ft=a1 tt=b1 br=z9hG4bK5 hdr=Refer-To:_<sip:carol@10.0.0.4?Replaces=consult%3Bto-tag%3Dcc%3Bfrom-tag%3Dca>\n" +
		"2.01 b>a 202 2/REFER cid=call1 ft=a1 tt=b1 br=z9hG4bK5\n"
	xferNew = "2.1 b>c INVITE 1/INVITE cid=new ft=n1 br=z9hG4bK6 sdp=1 hdr=Replaces:_consult;to-tag=cc;from-tag=ca\n" +
		"2.2 c>b 200 1/INVITE cid=new ft=n1 tt=n2 br=z9hG4bK6 sdp=1\n" +
		"2.21 b>c ACK 1/ACK cid=new ft=n1 tt=n2 br=z9hG4bK7\n"
	xferConsultBye = "2.3 c>a BYE 2/BYE cid=consult ft=cc tt=ca br=z9hG4bK8\n" +
		"2.31 a>c 200 2/BYE cid=consult ft=cc tt=ca br=z9hG4bK8\n"
	xferEnd = "3.0 a>b BYE 3/BYE cid=call1 ft=a1 tt=b1 br=z9hG4bK9\n" +
		"3.01 b>a 200 3/BYE cid=call1 ft=a1 tt=b1 br=z9hG4bK9\n" +
		"4.0 b>c BYE 2/BYE cid=new ft=n1 tt=n2 br=z9hG4bKa\n" +
		"4.01 c>b 200 2/BYE cid=new ft=n1 tt=n2 br=z9hG4bKa\n"
)

// pickAtCaller: c picks up call1, ringing, with an INVITE to its caller
// a naming the early dialog (to-tag a's own, early-only); a accepts it
// and c hangs up later. pickAtCallerAny is the same without early-only.
// pingLater is an OPTIONS ping at 9 s: the capture went on.
const (
	pickAtCaller    = pickInvite + ";early-only\n" + pickAccepted
	pickAtCallerAny = pickInvite + "\n" + pickAccepted
	pickInvite      = "1.0 c>a INVITE 1/INVITE cid=pick ft=p1 br=z9hG4bK2 sdp=1 hdr=Replaces:_call1;to-tag=a1;from-tag=b1"
	pickAccepted    = "1.1 a>c 200 1/INVITE cid=pick ft=p1 tt=p2 br=z9hG4bK2 sdp=1\n" +
		"1.11 c>a ACK 1/ACK cid=pick ft=p1 tt=p2 br=z9hG4bK3\n" +
		"1.2 c>a BYE 2/BYE cid=pick ft=p1 tt=p2 br=z9hG4bK4\n1.21 a>c 200 2/BYE cid=pick ft=p1 tt=p2 br=z9hG4bK4\n"
	pingLater = "9.0 a>b OPTIONS 1/OPTIONS cid=ping ft=o1 br=z9hG4bKo\n"
)

// pickupRinging: a calls b, b rings; c picks the call up (pickAtCaller);
// a never CANCELs its INVITE to b.
const pickupRinging = "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
	"0.1 b>a 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" + pickAtCaller

// forkedRinging: a calls through a proxy p that forks the INVITE to b
// and q at once; b rings (pickAtCaller then names b's early dialog).
const forkedRinging = "0.0 a>p INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
	"0.01 p>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1b sdp=1\n" +
	"0.02 p>q INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1q sdp=1\n" +
	"0.1 b>p 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1b\n0.11 p>a 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n"

// b2buaPickup: a calls b through a B2BUA, p (legs callA and callB,
// linked by X-Call-ID); b rings. c picks the call up with an INVITE to p
// naming callB's early dialog (to-tag p's own, pb), which p accepts.
// b2buaCancel is p's CANCEL of callB; b2buaAnswer p's answer to callA.
const (
	b2buaPickup = "0.0 a>p INVITE 1/INVITE cid=callA ft=a1 br=z9hG4bK1 sdp=1\n" +
		"0.01 p>b INVITE 1/INVITE cid=callB ft=pb br=z9hG4bK1p sdp=1 hdr=X-Call-ID:_callA\n" +
		"0.1 b>p 180 1/INVITE cid=callB ft=pb tt=b1 br=z9hG4bK1p\n" +
		"0.11 p>a 180 1/INVITE cid=callA ft=a1 tt=pa br=z9hG4bK1\n" +
		"1.0 c>p INVITE 1/INVITE cid=pick ft=p1 br=z9hG4bK2 sdp=1 hdr=Replaces:_callB;to-tag=pb;from-tag=b1;early-only\n" +
		"1.1 p>c 200 1/INVITE cid=pick ft=p1 tt=p2 br=z9hG4bK2 sdp=1\n" +
		"1.11 c>p ACK 1/ACK cid=pick ft=p1 tt=p2 br=z9hG4bK3\n"
	b2buaCancel = "1.2 p>b CANCEL 1/CANCEL cid=callB ft=pb br=z9hG4bK1p\n1.21 b>p 200 1/CANCEL cid=callB ft=pb br=z9hG4bK1p\n" +
		"1.22 b>p 487 1/INVITE cid=callB ft=pb tt=b1 br=z9hG4bK1p\n1.23 p>b ACK 1/ACK cid=callB ft=pb tt=b1 br=z9hG4bK1p\n"
	b2buaAnswer = "1.3 p>a 200 1/INVITE cid=callA ft=a1 tt=pa br=z9hG4bK1 sdp=1\n1.31 a>p ACK 1/ACK cid=callA ft=a1 tt=pa br=z9hG4bK4\n"
)

// replaceEvents is a call's transfer and replace events, "kind N:
// detail" each.
func replaceEvents(c *correlate.Call) []string {
	var out []string
	for _, e := range c.Events {
		if strings.HasPrefix(e.Kind, "replace") || e.Kind == "transfer" {
			out = append(out, fmt.Sprintf("%s %d: %s", e.Kind, e.N, e.Detail))
		}
	}
	return out
}

// replacesDump is the calls' IDs, states, events and findings, a line
// each.
func replacesDump(calls []*correlate.Call) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "call %s %s\n", c.ID, c.State)
		for _, e := range c.Events {
			fmt.Fprintf(&b, " event %d %s %s\n", e.N, e.Kind, e.Detail)
		}
		for _, f := range c.Findings {
			fmt.Fprintf(&b, " finding %s %v %s\n", f.Rule, f.Packets, f.Detail)
		}
	}
	return b.String()
}

func rulesOf(c *correlate.Call) string {
	var rs []string
	for _, f := range c.Findings {
		rs = append(rs, f.Rule)
	}
	return strings.Join(rs, ",")
}

func TestReplaces(t *testing.T) {
	tests := []struct {
		name   string
		script string
		// want: call ID -> lines each of its events must contain (in
		// order, one per event), and its findings' rules.
		events   map[string][]string
		rules    map[string]string
		state    map[string]correlate.State
		findings map[string]string // call ID -> text a finding's detail must contain
	}{
		{
			name:   "accepted, the target ends the replaced call",
			script: xferCall1 + xferConsult + xferRefer + xferNew + xferConsultBye + xferEnd,
			events: map[string][]string{
				"call1":   {"transfer 7: to sip:carol@10.0.0.4, replacing call consult (to-tag cc, from-tag ca): an attended transfer"},
				"new":     {"replaces 9: call consult (to-tag cc, from-tag ca): in progress in this capture"},
				"consult": {"replaced 12: by call new: its INVITE with Replaces from 10.0.0.2 to 10.0.0.4 (packet 9) was answered 200 Reason (packet 10)"},
			},
			rules: map[string]string{"call1": "", "new": "", "consult": ""},
			state: map[string]correlate.State{"consult": correlate.StateCompleted, "new": correlate.StateCompleted},
		},
		{
			name:   "accepted, the replaced call left up while the capture goes on",
			script: xferCall1 + xferConsult + xferRefer + xferNew + xferEnd + "tick 9\n",
			events: map[string][]string{
				"consult": {"replaced 6: by call new"}, // no message after the 200: at its last, the ACK
			},
			rules:    map[string]string{"consult": "replaced-not-ended", "new": ""},
			state:    map[string]correlate.State{"consult": correlate.StateAnswered},
			findings: map[string]string{"consult": "call new replaced this call (its INVITE with Replaces, packet 9, answered 200 Reason at packet 10), but no BYE ended this one"},
		},
		{
			// The capture began in the middle of the consultation call: no
			// INVITE, no 2xx, a request in its dialog. Replaced and left up
			// all the same.
			name: "accepted, the replaced call joined in its middle and left up",
			script: xferCall1 + "1.5 a>c INFO 2/INFO cid=consult ft=ca tt=cc br=z9hG4bK4i\n1.51 c>a 200 2/INFO cid=consult ft=ca tt=cc br=z9hG4bK4i\n" +
				xferRefer + xferNew + xferEnd + "tick 9\n",
			rules:    map[string]string{"consult": "replaced-not-ended,invite-not-captured", "new": ""},
			findings: map[string]string{"consult": "call new replaced this call (its INVITE with Replaces, packet 8, answered 200 Reason at packet 9), but no BYE ended this one"},
		},
		{
			name:   "accepted, the capture ends before the BYE could come",
			script: xferCall1 + xferConsult + xferRefer + xferNew,
			events: map[string][]string{"consult": {"replaced 6: by call new"}},
			rules:  map[string]string{"consult": "not-ended"},
		},
		{
			// The consultation call goes through a B2BUA (two legs linked by
			// X-Call-ID); the Replaces names the leg to the target, which
			// accepts and ends that leg, and the B2BUA leaves the other up.
			name: "a B2BUA's leg replaced and ended, its other leg left up",
			script: xferCall1 +
				"1.0 a>p INVITE 1/INVITE cid=consA ft=ca br=z9hG4bK3 sdp=1\n" +
				"1.01 p>c INVITE 1/INVITE cid=consB ft=pa br=z9hG4bK3p sdp=1 hdr=X-Call-ID:_consA\n" +
				"1.1 c>p 200 1/INVITE cid=consB ft=pa tt=cc br=z9hG4bK3p sdp=1\n" +
				"1.11 p>a 200 1/INVITE cid=consA ft=ca tt=pc br=z9hG4bK3 sdp=1\n" +
				"1.12 a>p ACK 1/ACK cid=consA ft=ca tt=pc br=z9hG4bK4\n" +
				"1.13 p>c ACK 1/ACK cid=consB ft=pa tt=cc br=z9hG4bK4p\n" +
				"2.1 b>c INVITE 1/INVITE cid=new ft=n1 br=z9hG4bK6 sdp=1 hdr=Replaces:_consB;to-tag=cc;from-tag=pa\n" +
				"2.2 c>b 200 1/INVITE cid=new ft=n1 tt=n2 br=z9hG4bK6 sdp=1\n" +
				"2.21 b>c ACK 1/ACK cid=new ft=n1 tt=n2 br=z9hG4bK7\n" +
				"2.3 c>p BYE 2/BYE cid=consB ft=cc tt=pa br=z9hG4bK8\n" +
				"2.31 p>c 200 2/BYE cid=consB ft=cc tt=pa br=z9hG4bK8\n" +
				"tick 9\n",
			events: map[string][]string{"consA": {"replaced 13: by call new"}},
			rules:  map[string]string{"consA": "replaced-not-ended"},
			findings: map[string]string{"consA": "call new replaced this call's leg consB (its INVITE with Replaces, packet 10, answered 200 Reason at packet 11), " +
				"and a BYE ended that leg (packet 13), but not its other legs: the B2BUA that links them should have"},
		},
		{
			// A pickup through a B2BUA (a PBX, p): its leg to b rings, and
			// c's INVITE with Replaces names that early dialog, to the PBX,
			// its caller (to-tag pb), which accepts, CANCELs its leg to b
			// and answers the caller's leg, now c's call: the call is up,
			// not left up by a replacement nobody ended.
			name:   "a pickup of a B2BUA's ringing leg, cancelled, its other leg answered",
			script: b2buaPickup + b2buaCancel + b2buaAnswer + "tick 9\n",
			events: map[string][]string{"callA": {"replaced 8: by call pick"}}, // at the CANCEL
			rules:  map[string]string{"callA": "not-ended", "pick": "not-ended"},
			state:  map[string]correlate.State{"callA": correlate.StateAnswered},
		},
		{
			// The same, the PBX never CANCELs its leg to b: b's phone rings
			// on, whatever became of the caller's leg.
			name:   "a pickup of a B2BUA's ringing leg, never cancelled, its other leg answered",
			script: b2buaPickup + b2buaAnswer + "tick 9\n",
			rules:  map[string]string{"callA": "replaced-not-ended", "pick": "not-ended"},
			findings: map[string]string{"callA": "call pick picked up this call while it rang (its INVITE with Replaces, packet 5, answered 200 Reason at packet 6), " +
				"but no CANCEL ended this one: its caller, which accepted the pickup, should have cancelled it (RFC 3891 §3), " +
				"and the INVITE to 10.0.0.2:5060 (packet 2) was still unanswered when the capture ended"},
		},
		{
			name:   "a pickup of a B2BUA's ringing leg, never cancelled, its other leg still ringing",
			script: b2buaPickup + "tick 9\n",
			rules:  map[string]string{"callA": "replaced-not-ended", "pick": "not-ended"},
			findings: map[string]string{"callA": "its caller, which accepted the pickup, should have cancelled it (RFC 3891 §3), " +
				"and the INVITE to 10.0.0.2:5060 (packet 2) was still unanswered when the capture ended"},
		},
		{
			name: "refused: the Replaces names tags the call's dialog does not have",
			script: xferCall1 + xferConsult + xferRefer +
				"2.1 b>c INVITE 1/INVITE cid=new ft=n1 br=z9hG4bK6 sdp=1 hdr=Replaces:_consult;to-tag=wrong;from-tag=ca\n" +
				"2.2 c>b 481 1/INVITE cid=new ft=n1 tt=n2 br=z9hG4bK6\n" +
				"2.21 b>c ACK 1/ACK cid=new ft=n1 tt=n2 br=z9hG4bK6\n" +
				"3.0 a>c BYE 2/BYE cid=consult ft=ca tt=cc br=z9hG4bK8\n" +
				"3.01 c>a 200 2/BYE cid=consult ft=ca tt=cc br=z9hG4bK8\n",
			events: map[string][]string{
				"new":     {"replaces 9: call consult (to-tag wrong, from-tag ca): in progress in this capture, but no dialog of it has these tags (it has "},
				"consult": nil, // not replaced: no event
			},
			rules:    map[string]string{"new": "call-failed", "consult": ""},
			state:    map[string]correlate.State{"new": correlate.StateRejected, "consult": correlate.StateCompleted},
			findings: map[string]string{"new": "; the INVITE asked to replace call consult (to-tag wrong, from-tag ca), in progress in this capture, but no dialog of it has those tags"},
		},
		{
			name: "the named call is not in the capture",
			script: "0.0 b>c INVITE 1/INVITE cid=new ft=n1 br=z9hG4bK6 sdp=1 hdr=Replaces:_gone@x;from-tag=f;to-tag=t;early-only\n" +
				"0.1 c>b 481 1/INVITE cid=new ft=n1 tt=n2 br=z9hG4bK6\n" +
				"0.11 b>c ACK 1/ACK cid=new ft=n1 tt=n2 br=z9hG4bK6\n",
			events:   map[string][]string{"new": {"replaces 1: call gone@x (to-tag t, from-tag f, early-only): not in this capture"}},
			rules:    map[string]string{"new": "call-failed"},
			findings: map[string]string{"new": "replace call gone@x (to-tag t, from-tag f, early-only), which is not in this capture"},
		},
		{
			// A Replaces naming the INVITE's own Call-ID: the call is in the
			// capture, and replaces nothing.
			name: "the INVITE names its own call",
			script: "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1 hdr=Replaces:_call1;to-tag=x;from-tag=a1\n" +
				"0.1 b>a 481 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"0.11 a>b ACK 1/ACK cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n",
			events:   map[string][]string{"call1": {"replaces 1: call call1 (to-tag x, from-tag a1): this call itself"}},
			rules:    map[string]string{"call1": "call-failed"},
			findings: map[string]string{"call1": "; the INVITE asked to replace call call1 (to-tag x, from-tag a1), which is this call itself"},
		},
		{
			name: "the named call had ended",
			script: xferConsult + "1.5 a>c BYE 2/BYE cid=consult ft=ca tt=cc br=z9hG4bK8\n1.51 c>a 200 2/BYE cid=consult ft=ca tt=cc br=z9hG4bK8\n" +
				"9.0 b>c INVITE 1/INVITE cid=new ft=n1 br=z9hG4bK6 sdp=1 hdr=Replaces:_consult;to-tag=cc;from-tag=ca\n" +
				"9.1 c>b 481 1/INVITE cid=new ft=n1 tt=n2 br=z9hG4bK6\n" +
				"9.11 b>c ACK 1/ACK cid=new ft=n1 tt=n2 br=z9hG4bK6\n",
			events:   map[string][]string{"new": {"replaces 6: call consult (to-tag cc, from-tag ca): it had ended already"}, "consult": nil},
			findings: map[string]string{"new": "which had ended already (RFC 3891 §3)"},
		},
		{
			// RFC 3891 §7.1: c picks up the call ringing at b, with an
			// INVITE to its caller a naming the early dialog; a accepts,
			// and CANCELs its own INVITE.
			name: "a pickup: an early dialog replaced at its caller",
			script: "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
				"0.1 b>a 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"1.0 c>a INVITE 1/INVITE cid=pick ft=p1 br=z9hG4bK2 sdp=1 hdr=Replaces:_call1;to-tag=a1;from-tag=b1;early-only\n" +
				"1.1 a>c 200 1/INVITE cid=pick ft=p1 tt=p2 br=z9hG4bK2 sdp=1\n" +
				"1.11 c>a ACK 1/ACK cid=pick ft=p1 tt=p2 br=z9hG4bK3\n" +
				"1.2 a>b CANCEL 1/CANCEL cid=call1 ft=a1 br=z9hG4bK1\n" +
				"1.21 b>a 200 1/CANCEL cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"1.22 b>a 487 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"1.23 a>b ACK 1/ACK cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"5.0 c>a BYE 2/BYE cid=pick ft=p1 tt=p2 br=z9hG4bK4\n5.01 a>c 200 2/BYE cid=pick ft=p1 tt=p2 br=z9hG4bK4\n",
			events: map[string][]string{
				"pick":  {"replaces 3: call call1 (to-tag a1, from-tag b1, early-only): in progress in this capture, ringing: a call pickup"},
				"call1": {"replaced 6: by call pick: its INVITE with Replaces from 10.0.0.4 to 10.0.0.1 (packet 3) was answered 200 Reason (packet 4)"},
			},
			rules: map[string]string{"pick": "", "call1": ""},
			state: map[string]correlate.State{"call1": correlate.StateCancelled, "pick": correlate.StateCompleted},
		},
		{
			// Capture disorder: the 200 to the INVITE with Replaces comes a
			// moment before the INVITE itself (another capture queue).
			name: "the INVITE seen after its 200",
			script: xferCall1 + xferConsult + xferRefer +
				"2.2 c>b 200 1/INVITE cid=new ft=n1 tt=n2 br=z9hG4bK6 sdp=1\n" +
				"2.201 b>c INVITE 1/INVITE cid=new ft=n1 br=z9hG4bK6 sdp=1 hdr=Replaces:_consult;to-tag=cc;from-tag=ca\n" +
				"2.21 b>c ACK 1/ACK cid=new ft=n1 tt=n2 br=z9hG4bK7\n" + xferConsultBye + xferEnd,
			events: map[string][]string{
				"new":     {"replaces 10: call consult (to-tag cc, from-tag ca): in progress in this capture"},
				"consult": {"replaced 12: by call new: its INVITE with Replaces from 10.0.0.2 to 10.0.0.4 (packet 10) was answered 200 Reason (packet 9)"},
			},
			rules: map[string]string{"new": "", "consult": ""},
		},
		{
			// Two INVITEs name the call at once (a transferee and someone
			// else, or a hostile capture): the first is accepted after the
			// second came, the second refused.
			name: "two attempts at once, the first accepted",
			script: xferCall1 + xferConsult + xferRefer +
				"2.1 b>c INVITE 1/INVITE cid=new ft=n1 br=z9hG4bK6 sdp=1 hdr=Replaces:_consult;to-tag=cc;from-tag=ca\n" +
				"2.15 q>c INVITE 1/INVITE cid=new2 ft=m1 br=z9hG4bKx sdp=1 hdr=Replaces:_consult;to-tag=cc;from-tag=ca\n" +
				"2.2 c>b 200 1/INVITE cid=new ft=n1 tt=n2 br=z9hG4bK6 sdp=1\n" +
				"2.21 b>c ACK 1/ACK cid=new ft=n1 tt=n2 br=z9hG4bK7\n" +
				"2.26 c>q 603 1/INVITE cid=new2 ft=m1 tt=m2 br=z9hG4bKx\n" +
				"2.27 q>c ACK 1/ACK cid=new2 ft=m1 tt=m2 br=z9hG4bKx\n" + xferConsultBye + xferEnd,
			events: map[string][]string{
				"consult": {"replaced 15: by call new: its INVITE with Replaces from 10.0.0.2 to 10.0.0.4 (packet 9) was answered 200 Reason (packet 11)"},
			},
			rules: map[string]string{"consult": "", "new2": "call-failed"},
		},
		{
			// A NAT, or a proxy that adds no Via, relays the INVITE: the
			// same transaction seen on two hops, one event.
			name: "relayed with its Via: one event",
			script: xferCall1 + xferConsult + xferRefer +
				"2.1 b>p INVITE 1/INVITE cid=new ft=n1 br=z9hG4bK6 sdp=1 hdr=Replaces:_consult;to-tag=cc;from-tag=ca\n" +
				"2.11 p>c INVITE 1/INVITE cid=new ft=n1 br=z9hG4bK6 via=b sdp=1 hdr=Replaces:_consult;to-tag=cc;from-tag=ca\n" +
				"2.2 c>p 200 1/INVITE cid=new ft=n1 tt=n2 br=z9hG4bK6 via=b sdp=1\n" +
				"2.21 p>b 200 1/INVITE cid=new ft=n1 tt=n2 br=z9hG4bK6 sdp=1\n" +
				"2.22 b>c ACK 1/ACK cid=new ft=n1 tt=n2 br=z9hG4bK7\n" + xferConsultBye,
			events: map[string][]string{
				"new":     {"replaces 9: call consult (to-tag cc, from-tag ca): in progress in this capture"},
				"consult": {"replaced 14: by call new: its INVITE with Replaces from 10.0.0.2 to 10.0.0.3 (packet 9) was answered 200 Reason (packet 11)"},
			},
		},
		{
			// The caller picked up CANCELs its own INVITE before it sends
			// the 200 to the pickup: the event is at the CANCEL still.
			name: "a pickup, the CANCEL before the answer",
			script: "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
				"0.1 b>a 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"1.0 c>a INVITE 1/INVITE cid=pick ft=p1 br=z9hG4bK2 sdp=1 hdr=Replaces:_call1;to-tag=a1;from-tag=b1;early-only\n" +
				"1.01 a>b CANCEL 1/CANCEL cid=call1 ft=a1 br=z9hG4bK1\n" +
				"1.02 b>a 200 1/CANCEL cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"1.03 b>a 487 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"1.04 a>b ACK 1/ACK cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"1.1 a>c 200 1/INVITE cid=pick ft=p1 tt=p2 br=z9hG4bK2 sdp=1\n" +
				"1.11 c>a ACK 1/ACK cid=pick ft=p1 tt=p2 br=z9hG4bK3\n" +
				"5.0 c>a BYE 2/BYE cid=pick ft=p1 tt=p2 br=z9hG4bK4\n5.01 a>c 200 2/BYE cid=pick ft=p1 tt=p2 br=z9hG4bK4\n",
			events: map[string][]string{
				"call1": {"replaced 4: by call pick: its INVITE with Replaces from 10.0.0.4 to 10.0.0.1 (packet 3) was answered 200 Reason (packet 8)"},
			},
			rules: map[string]string{"pick": "", "call1": ""},
		},
		{
			// The caller accepts the pickup and never CANCELs its own INVITE:
			// the callee's phone rings on while the capture goes on.
			name:   "a pickup never cancelled, still ringing",
			script: pickupRinging + pingLater,
			events: map[string][]string{
				"call1": {"replaced 2: by call pick"}, // none after the answer: at its last, the 180
			},
			rules: map[string]string{"pick": "", "call1": "replaced-not-ended"},
			state: map[string]correlate.State{"call1": correlate.StateInProgress},
			findings: map[string]string{"call1": "call pick picked up this call while it rang (its INVITE with Replaces, packet 3, answered 200 Reason at packet 4), " +
				"but no CANCEL ended this one: its caller, which accepted the pickup, should have cancelled it (RFC 3891 §3), " +
				"and the INVITE to 10.0.0.2:5060 (packet 1) was still unanswered when the capture ended, 8s after the pickup: the phone there may ring on"},
		},
		{
			// The capture goes on for long: the idle timeout finishes the
			// call, still ringing, while it does. That is no capture's end.
			name:   "a pickup never cancelled, finished by the idle timeout",
			script: pickupRinging + "tick 700\n",
			rules:  map[string]string{"pick": "", "call1": "unanswered-invite,replaced-not-ended"},
			findings: map[string]string{"call1": "should have cancelled it (RFC 3891 §3), and the INVITE to 10.0.0.2:5060 (packet 1) was still unanswered 11m39s after the pickup, " +
				"when the call was finished after 11m40s without a message or an RTP packet, while the capture went on: the phone there may ring on"},
		},
		{
			name:   "a pickup never cancelled, the capture ends too soon to tell",
			script: pickupRinging + "4.0 a>b OPTIONS 1/OPTIONS cid=ping ft=o1 br=z9hG4bKo\n",
			rules:  map[string]string{"pick": "", "call1": ""},
		},
		{
			// The pickup goes to the callee (the Replaces' to-tag is its
			// own), which accepts and ends nothing: no final response.
			name: "a pickup at the callee, never ended",
			script: "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
				"0.1 b>a 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"1.0 c>b INVITE 1/INVITE cid=pick ft=p1 br=z9hG4bK2 sdp=1 hdr=Replaces:_call1;to-tag=b1;from-tag=a1\n" +
				"1.1 b>c 200 1/INVITE cid=pick ft=p1 tt=p2 br=z9hG4bK2 sdp=1\n" +
				"1.11 c>b ACK 1/ACK cid=pick ft=p1 tt=p2 br=z9hG4bK3\n" +
				"3.0 c>b BYE 2/BYE cid=pick ft=p1 tt=p2 br=z9hG4bK4\n3.01 b>c 200 2/BYE cid=pick ft=p1 tt=p2 br=z9hG4bK4\n" +
				pingLater,
			rules:    map[string]string{"pick": "", "call1": "replaced-not-ended"},
			findings: map[string]string{"call1": "but nothing ended this one, neither a CANCEL nor a final response, and the INVITE to 10.0.0.2:5060 (packet 1) was still unanswered"},
		},
		{
			// Never cancelled, the callee's phone rang until it gave up.
			name: "a pickup never cancelled, the callee gives up",
			script: pickupRinging + "30.0 b>a 480 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"30.01 a>b ACK 1/ACK cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n",
			rules:    map[string]string{"pick": "", "call1": "replaced-not-ended,call-failed"},
			findings: map[string]string{"call1": "should have cancelled it (RFC 3891 §3), and it rang on until 10.0.0.2:5060 answered 480 Reason (packet 8), 29s after the pickup"},
		},
		{
			// A proxy forks the INVITE to b and q at once; q refuses at
			// once, b rings. The pickup names b's early dialog; the caller
			// never CANCELs: b rings on. The INVITE that rang is b's fork,
			// not q's, refused before the pickup came.
			name:   "a pickup of a forked call, another fork refused before it, never cancelled",
			script: forkedRinging + "0.2 q>p 486 1/INVITE cid=call1 ft=a1 tt=q1 br=z9hG4bK1q\n0.21 p>q ACK 1/ACK cid=call1 ft=a1 tt=q1 br=z9hG4bK1q\n" + pickAtCaller + pingLater,
			rules:  map[string]string{"pick": ""},
			findings: map[string]string{"call1": "its caller, which accepted the pickup, should have cancelled it (RFC 3891 §3), " +
				"and the INVITE to 10.0.0.2:5060 (packet 2) was still unanswered when the capture ended"},
		},
		{
			// The same, q's fork cancelled by the proxy (a timer of its own
			// for that target) before the pickup: that CANCEL ended q's
			// ringing, not b's.
			name: "a pickup of a forked call, another fork cancelled by the proxy before it, never cancelled",
			script: forkedRinging + "0.3 q>p 180 1/INVITE cid=call1 ft=a1 tt=q1 br=z9hG4bK1q\n" +
				"0.5 p>q CANCEL 1/CANCEL cid=call1 ft=a1 br=z9hG4bK1q\n0.51 q>p 200 1/CANCEL cid=call1 ft=a1 br=z9hG4bK1q\n" +
				"0.52 q>p 487 1/INVITE cid=call1 ft=a1 tt=q1 br=z9hG4bK1q\n0.53 p>q ACK 1/ACK cid=call1 ft=a1 tt=q1 br=z9hG4bK1q\n" +
				pickAtCaller + pingLater,
			rules: map[string]string{"pick": ""},
			findings: map[string]string{"call1": "its caller, which accepted the pickup, should have cancelled it (RFC 3891 §3), " +
				"and the INVITE to 10.0.0.2:5060 (packet 2) was still unanswered when the capture ended"},
		},
		{
			// The same, b giving up with a 480 after the pickup: the fork
			// that rang is b's, whose final response came after the pickup,
			// not q's, refused before it.
			name: "a pickup of a forked call, another fork refused before it, the one that rang refusing after it",
			script: forkedRinging + "0.2 q>p 486 1/INVITE cid=call1 ft=a1 tt=q1 br=z9hG4bK1q\n0.21 p>q ACK 1/ACK cid=call1 ft=a1 tt=q1 br=z9hG4bK1q\n" + pickAtCaller +
				"5.0 b>p 480 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1b\n5.01 p>b ACK 1/ACK cid=call1 ft=a1 tt=b1 br=z9hG4bK1b\n" +
				"5.02 p>a 480 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n5.03 a>p ACK 1/ACK cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				pingLater,
			rules:    map[string]string{"pick": "", "call1": "replaced-not-ended,call-failed"},
			findings: map[string]string{"call1": "should have cancelled it (RFC 3891 §3), and it rang on until 10.0.0.2:5060 answered 480 Reason (packet 13), 4s after the pickup"},
		},
		{
			// The same, the caller CANCELs after the pickup, as it should:
			// the proxy relays it to b.
			name: "a pickup of a forked call, cancelled by the caller",
			script: forkedRinging + "0.2 q>p 486 1/INVITE cid=call1 ft=a1 tt=q1 br=z9hG4bK1q\n0.21 p>q ACK 1/ACK cid=call1 ft=a1 tt=q1 br=z9hG4bK1q\n" + pickAtCaller +
				"1.5 a>p CANCEL 1/CANCEL cid=call1 ft=a1 br=z9hG4bK1\n1.51 p>b CANCEL 1/CANCEL cid=call1 ft=a1 br=z9hG4bK1b\n" +
				pingLater,
			rules: map[string]string{"pick": "", "call1": ""},
		},
		{
			// The callee answers after the caller accepted the pickup (a
			// 200 that the CANCEL would have crossed), and the capture
			// ends 2 s later: an answered call, too soon to tell whether
			// the caller BYEs it, not a phone ringing on.
			name: "a pickup, the callee answers after it, the capture ends soon",
			script: pickupRinging + "1.3 b>a 200 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1 sdp=1\n1.31 a>b ACK 1/ACK cid=call1 ft=a1 tt=b1 br=z9hG4bK5\n" +
				"3.0 a>b OPTIONS 1/OPTIONS cid=ping ft=o1 br=z9hG4bKo\n",
			rules: map[string]string{"pick": "", "call1": "not-ended"},
			state: map[string]correlate.State{"call1": correlate.StateAnswered},
		},
		{
			// The callee gave up while the pickup was on its way, before
			// the caller answered it: nothing was left to cancel.
			name: "a pickup never cancelled, the callee gives up before the pickup's answer",
			script: strings.Replace(pickupRinging, "1.1 a>c 200", "1.05 b>a 480 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n"+
				"1.06 a>b ACK 1/ACK cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n1.1 a>c 200", 1) + pingLater,
			rules: map[string]string{"pick": "", "call1": "call-failed"},
		},
		{
			// The callee accepts the pickup and ends the early dialog with a
			// final response of its own: that is how it ends it.
			name: "a pickup at the callee, which then refuses the INVITE",
			script: "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
				"0.1 b>a 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"1.0 c>b INVITE 1/INVITE cid=pick ft=p1 br=z9hG4bK2 sdp=1 hdr=Replaces:_call1;to-tag=b1;from-tag=a1\n" +
				"1.1 b>c 200 1/INVITE cid=pick ft=p1 tt=p2 br=z9hG4bK2 sdp=1\n" +
				"1.11 c>b ACK 1/ACK cid=pick ft=p1 tt=p2 br=z9hG4bK3\n" +
				"1.2 b>a 480 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n1.21 a>b ACK 1/ACK cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				pingLater,
			rules: map[string]string{"pick": "not-ended", "call1": "call-failed"},
		},
		{
			// The same, the Replaces' tags the wrong way round (the to-tag
			// the caller's): the callee took them either way and accepted.
			// Its 200 says who the recipient was, not the to-tag: the
			// callee, which ended its early dialog with its 480.
			name: "a pickup at the callee, tags the wrong way round, which then refuses the INVITE",
			script: "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
				"0.1 b>a 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"1.0 c>b INVITE 1/INVITE cid=pick ft=p1 br=z9hG4bK2 sdp=1 hdr=Replaces:_call1;to-tag=a1;from-tag=b1\n" +
				"1.1 b>c 200 1/INVITE cid=pick ft=p1 tt=p2 br=z9hG4bK2 sdp=1\n" +
				"1.11 c>b ACK 1/ACK cid=pick ft=p1 tt=p2 br=z9hG4bK3\n" +
				"1.2 b>a 480 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n1.21 a>b ACK 1/ACK cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				pingLater,
			events: map[string][]string{"pick": {"replaces 3: call call1 (to-tag a1, from-tag b1): in progress in this capture, but with the tags the wrong way round"}},
			rules:  map[string]string{"pick": "not-ended", "call1": "call-failed"},
		},
		{
			// Accepted so and never ended: the callee left it ringing, not
			// the caller, which never saw the pickup.
			name: "a pickup at the callee, tags the wrong way round, never ended",
			script: "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
				"0.1 b>a 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"1.0 c>b INVITE 1/INVITE cid=pick ft=p1 br=z9hG4bK2 sdp=1 hdr=Replaces:_call1;to-tag=a1;from-tag=b1\n" +
				"1.1 b>c 200 1/INVITE cid=pick ft=p1 tt=p2 br=z9hG4bK2 sdp=1\n" +
				"1.11 c>b ACK 1/ACK cid=pick ft=p1 tt=p2 br=z9hG4bK3\n" +
				"3.0 c>b BYE 2/BYE cid=pick ft=p1 tt=p2 br=z9hG4bK4\n3.01 b>c 200 2/BYE cid=pick ft=p1 tt=p2 br=z9hG4bK4\n" +
				pingLater,
			rules:    map[string]string{"pick": "", "call1": "replaced-not-ended"},
			findings: map[string]string{"call1": "but nothing ended this one, neither a CANCEL nor a final response, and the INVITE to 10.0.0.2:5060 (packet 1) was still unanswered"},
		},
		{
			// Cancelled before the pickup came, its 487 not captured: the
			// CANCEL ended it.
			name: "a pickup of a call cancelled already, the 487 not captured",
			script: "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
				"0.1 b>a 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"0.5 a>b CANCEL 1/CANCEL cid=call1 ft=a1 br=z9hG4bK1\n" +
				pickAtCaller +
				pingLater,
			rules: map[string]string{"pick": "", "call1": ""},
		},
		{
			// The picked-up call's leg sends another initial INVITE after the
			// pickup (the same Call-ID, refused): the one that rang on is
			// the INVITE before the pickup.
			name: "a pickup never cancelled, another INVITE after it",
			script: pickupRinging + "2.0 a>b INVITE 2/INVITE cid=call1 ft=a1 br=z9hG4bK9 sdp=1\n" +
				"2.1 b>a 486 2/INVITE cid=call1 ft=a1 tt=b9 br=z9hG4bK9\n2.11 a>b ACK 2/ACK cid=call1 ft=a1 tt=b9 br=z9hG4bK9\n" +
				pingLater,
			findings: map[string]string{"call1": "the INVITE to 10.0.0.2:5060 (packet 1) was still unanswered when the capture ended"},
		},
		{
			// A 487 without a CANCEL in the capture: someone cancelled it
			// (on a hop the capture does not see).
			name:   "a pickup, the CANCEL not captured, 487",
			script: pickupRinging + "1.5 b>a 487 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n1.51 a>b ACK 1/ACK cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" + pingLater,
			rules:  map[string]string{"pick": "", "call1": ""},
		},
		{
			// The caller ends its early dialog with a BYE (RFC 3261 §15).
			name:   "a pickup, the early dialog ended by a BYE",
			script: pickupRinging + "1.5 a>b BYE 2/BYE cid=call1 ft=a1 tt=b1 br=z9hG4bKe\n1.51 b>a 200 2/BYE cid=call1 ft=a1 tt=b1 br=z9hG4bKe\n" + pingLater,
			rules:  map[string]string{"pick": "", "call1": ""},
		},
		{
			// The caller ended the early dialog with a BYE before the
			// pickup came (RFC 3261 §15), as a CANCEL then would have: the
			// pickup, accepted all the same, found nothing ringing.
			name: "a pickup after the early dialog was ended by a BYE",
			script: "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
				"0.1 b>a 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"0.5 a>b BYE 2/BYE cid=call1 ft=a1 tt=b1 br=z9hG4bKe\n0.51 b>a 200 2/BYE cid=call1 ft=a1 tt=b1 br=z9hG4bKe\n" +
				pickAtCallerAny +
				pingLater,
			rules: map[string]string{"pick": "", "call1": ""},
			state: map[string]correlate.State{"call1": correlate.StateCancelled},
		},
		{
			// Through a proxy: the caller's CANCEL, just before the pickup,
			// was captured, the proxy's relay of it was not. The INVITE
			// that rang is the proxy's relay; the CANCEL is on the caller's
			// hop, another transaction's.
			name: "a pickup after a CANCEL on the caller's hop only",
			script: "0.0 a>p INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
				"0.01 p>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1p sdp=1\n" +
				"0.1 b>p 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1p\n0.11 p>a 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"0.9 a>p CANCEL 1/CANCEL cid=call1 ft=a1 br=z9hG4bK1\n0.91 p>a 200 1/CANCEL cid=call1 ft=a1 br=z9hG4bK1\n" +
				pickAtCallerAny +
				pingLater,
			rules: map[string]string{"pick": "", "call1": ""},
			state: map[string]correlate.State{"call1": correlate.StateCancelled},
		},
		{
			// The same BYE through a proxy that did not Record-Route, the
			// capture on the caller's hop: the BYE goes to the callee's
			// Contact (its remote target, RFC 3261 §12.2.1.1), not where
			// the INVITE went. It ended the early dialog all the same.
			name: "a pickup after the early dialog was ended by a BYE sent to the callee's Contact",
			script: "0.0 a>p INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
				"0.1 p>a 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
				"0.5 a>b BYE 2/BYE cid=call1 ft=a1 tt=b1 br=z9hG4bKe\n0.51 b>a 200 2/BYE cid=call1 ft=a1 tt=b1 br=z9hG4bKe\n" +
				pickAtCallerAny +
				pingLater,
			rules: map[string]string{"pick": "", "call1": ""},
			state: map[string]correlate.State{"call1": correlate.StateCancelled},
		},
		{
			name: "challenged, sent again with credentials: one event, the retry replaces",
			script: xferCall1 + xferConsult + xferRefer +
				"2.1 b>c INVITE 1/INVITE cid=new ft=n1 br=z9hG4bK6 sdp=1 hdr=Replaces:_consult;to-tag=cc;from-tag=ca\n" +
				"2.11 c>b 407 1/INVITE cid=new ft=n1 tt=x br=z9hG4bK6\n" +
				"2.12 b>c ACK 1/ACK cid=new ft=n1 tt=x br=z9hG4bK6\n" +
				"2.2 b>c INVITE 2/INVITE cid=new ft=n1 br=z9hG4bKb auth sdp=1 hdr=Replaces:_consult;to-tag=cc;from-tag=ca\n" +
				"2.3 c>b 200 2/INVITE cid=new ft=n1 tt=n2 br=z9hG4bKb sdp=1\n" +
				"2.31 b>c ACK 2/ACK cid=new ft=n1 tt=n2 br=z9hG4bKc\n" +
				"2.4 c>a BYE 2/BYE cid=consult ft=cc tt=ca br=z9hG4bK8\n" +
				"2.41 a>c 200 2/BYE cid=consult ft=cc tt=ca br=z9hG4bK8\n",
			events: map[string][]string{
				"new":     {"replaces 9: call consult (to-tag cc, from-tag ca): in progress in this capture"},
				"consult": {"replaced 15: by call new: its INVITE with Replaces from 10.0.0.2 to 10.0.0.4 (packet 12) was answered 200 Reason (packet 13)"},
			},
			rules: map[string]string{"new": "not-ended", "consult": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := runScript(t, tt.script)
			// Built in another goroutine while the correlator goes on (as
			// sipflow's pipeline builds them), the calls are the same: the
			// correlator touches no leg of a call it has emitted, whatever
			// call names it later (go test -race watches).
			if got, want := replacesDump(runScriptWith(t, correlate.Options{DeferBuild: true}, tt.script)), replacesDump(calls); got != want {
				t.Errorf("built by a Builder in another goroutine:\n%s\nbuilt by the correlator:\n%s", got, want)
			}
			for id, want := range tt.events {
				c := scriptCall(t, calls, id)
				got := replaceEvents(c)
				if len(got) != len(want) {
					t.Errorf("%s: events %q, want %d replace/transfer events: %q", id, got, len(want), want)
					continue
				}
				for i := range want {
					if !strings.HasPrefix(got[i], want[i]) {
						t.Errorf("%s: event %q, want it to start %q", id, got[i], want[i])
					}
				}
			}
			for id, want := range tt.rules {
				if got := rulesOf(scriptCall(t, calls, id)); got != want {
					t.Errorf("%s: findings %q, want %q (%s)", id, got, want, describe(scriptCall(t, calls, id)))
				}
			}
			for id, want := range tt.state {
				if got := scriptCall(t, calls, id).State; got != want {
					t.Errorf("%s: state %s, want %s", id, got, want)
				}
			}
			for id, want := range tt.findings {
				c := scriptCall(t, calls, id)
				found := false
				for _, f := range c.Findings {
					found = found || strings.Contains(f.Detail, want)
				}
				if !found {
					t.Errorf("%s: no finding says %q: %+v", id, want, c.Findings)
				}
			}
		})
	}
}

// TestReplacesFlowCondition: [replaces] marks the INVITE that carries a
// Replaces and the REFER whose Refer-To does, not a blind transfer's.
func TestReplacesFlowCondition(t *testing.T) {
	flows, err := correlate.ParseFlows(strings.NewReader(
		"flow attended\nA -> B INVITE\n...\nA -> B REFER [replaces]\nB -> A 202 REFER\n...\n"+
			"flow replacing\nA -> B INVITE [replaces,sdp]\n...\n"+
			"flow other\nA -> B INVITE\n...\n"), "test.flow")
	if err != nil {
		t.Fatal(err)
	}
	blind := strings.Replace(xferRefer, "?Replaces=consult%3Bto-tag%3Dcc%3Bfrom-tag%3Dca", "", 1)
	for _, tt := range []struct {
		name, script string
		want         map[string]string
	}{
		{"attended", xferCall1 + xferConsult + xferRefer + xferNew + xferConsultBye + xferEnd,
			map[string]string{"call1": "attended", "new": "replacing", "consult": "other"}},
		{"blind", xferCall1 + blind + xferEnd,
			map[string]string{"call1": "other"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := runScriptWith(t, correlate.Options{Flows: flows}, tt.script)
			for id, want := range tt.want {
				if c := scriptCall(t, calls, id); c.Flow != want {
					t.Errorf("%s: flow %q (%s), want %q", id, c.Flow, c.Deviation, want)
				}
			}
		})
	}
}

// TestDivertedEvent: an INVITE forwarded with Diversion or History-Info is
// a diverted event, once however many hops relay it.
func TestDivertedEvent(t *testing.T) {
	c := scriptCall(t, runScript(t, "0.0 a>p INVITE 1/INVITE sdp=1\n"+
		"0.01 p>b INVITE 1/INVITE br=z9hG4bK2 sdp=1\n"+
		"0.02 b>p 486 1/INVITE br=z9hG4bK2 tt=busy\n"+
		"0.03 p>b ACK 1/INVITE br=z9hG4bK2 tt=busy\n"+
		"0.04 p>c INVITE 1/INVITE br=z9hG4bK3 sdp=1 hdr=Diversion:_<sip:bob@x>;reason=user-busy;counter=1\n"+
		"0.05 c>q INVITE 1/INVITE br=z9hG4bK4 sdp=1 hdr=Diversion:_<sip:bob@x>;reason=user-busy;counter=1\n"+ // relayed on: the same
		"0.5 q>c 200 1/INVITE br=z9hG4bK4 tt=vm sdp=1\n0.51 c>p 200 1/INVITE br=z9hG4bK3 tt=vm sdp=1\n0.52 p>a 200 1/INVITE tt=vm sdp=1\n"+
		"0.6 a>q ACK 1/ACK tt=vm br=z9hG4bKack\n1.0 a>q BYE 2/BYE tt=vm br=z9hG4bKbye\n1.1 q>a 200 2/BYE tt=vm br=z9hG4bKbye\n"), "call-1")
	var got []string
	for _, e := range c.Events {
		got = append(got, fmt.Sprintf("%s %d: %s", e.Kind, e.N, e.Detail))
	}
	if want := []string{"diverted 5: from sip:bob@x (user-busy, counter 1)"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("events %q, want %q", got, want)
	}
}

// benchReplaces measures the correlation of a capture made by msg
// (message i of n, and whether the first party sent it), with its
// Replaces headers ("with") and with them renamed, so ignored
// ("without"): the two should cost about the same, whatever the capture
// was made to hold (a scan per INVITE would show as a ratio growing with
// n).
func benchReplaces(b *testing.B, n int, msg func(i int) (string, bool)) {
	a, c := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, rename := range []bool{false, true} {
		name := "with"
		if rename {
			name = "without"
		}
		texts, fwd := make([][]byte, n), make([]bool, n)
		size := 0
		for i := range n {
			text, f := msg(i)
			if rename {
				text = strings.Replace(text, "\r\nReplaces:", "\r\nX-Replaces:", 1)
			}
			texts[i], fwd[i] = []byte(text), f
			size += len(text)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var m decode.Message
			for b.Loop() {
				corr := correlate.New(correlate.Options{}, func(*correlate.Call) {})
				for i, text := range texts {
					if err := decode.ParseSIP(text, &m); err != nil {
						b.Fatal(err)
					}
					m.N, m.Time, m.Transport = i+1, t0.Add(time.Duration(i)*time.Millisecond), decode.UDP
					m.Src, m.Dst = a, c
					if !fwd[i] {
						m.Src, m.Dst = c, a
					}
					corr.Add(&m)
				}
				corr.Flush()
			}
		})
	}
}

// BenchmarkReplacesManyDialogs: INVITEs with Replaces naming a call
// forked to thousands of early dialogs (tags none of them has) should
// cost about what the same INVITEs without Replaces do, not a scan of
// every dialog each (a dialog looked up, findDialog).
func BenchmarkReplacesManyDialogs(b *testing.B) {
	const n = 16000
	benchReplaces(b, 2*n, func(i int) (string, bool) {
		switch {
		case i == 0:
			return "INVITE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKt\r\nFrom: <sip:a@x>;tag=ft\r\nTo: <sip:b@x>\r\nCall-ID: tgt\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", true
		case i < n:
			return fmt.Sprintf("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKt\r\nFrom: <sip:a@x>;tag=ft\r\nTo: <sip:b@x>;tag=t%d\r\nCall-ID: tgt\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", i), false
		}
		return fmt.Sprintf("INVITE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%d\r\nFrom: <sip:a@x>;tag=f%d\r\nTo: <sip:b@x>\r\nCall-ID: r%d\r\nCSeq: 1 INVITE\r\nReplaces: tgt;to-tag=nope;from-tag=ft\r\nContent-Length: 0\r\n\r\n", i, i, i), true
	})
}

// BenchmarkReplacesManyInvites: a call that sends thousands of INVITEs,
// each with a Replaces naming another call, each refused, should cost
// about what the same INVITEs without Replaces do: whether one is the
// retry of an earlier one is noted as it comes, not found by a scan of
// the call's messages before it.
func BenchmarkReplacesManyInvites(b *testing.B) {
	const n = 12000
	benchReplaces(b, 2*n, func(i int) (string, bool) {
		if i%2 == 1 {
			return fmt.Sprintf("SIP/2.0 481 No\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%d\r\nFrom: <sip:a@x>;tag=f%d\r\nTo: <sip:b@x>;tag=x\r\nCall-ID: one\r\nCSeq: %d INVITE\r\nContent-Length: 0\r\n\r\n", i/2, i/2, i/2+1), false
		}
		return fmt.Sprintf("INVITE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%d\r\nFrom: <sip:a@x>;tag=f%d\r\nTo: <sip:b@x>\r\nCall-ID: one\r\nCSeq: %d INVITE\r\nReplaces: other%d;to-tag=a;from-tag=b\r\nContent-Length: 0\r\n\r\n", i/2, i/2, i/2+1, i/2), true
	})
}

// TestReplacesLongTags: an INVITE whose Replaces names a call by tags
// none of its dialogs has quotes the tags those dialogs do have, and a
// capture cannot make that quote as long as it likes: a call forked to
// dialogs with tags of 8 kB, named by small INVITEs, would otherwise have
// each of them keep 32 kB (and each event and finding quote them).
func TestReplacesLongTags(t *testing.T) {
	long := strings.Repeat("T", 8000)
	script := "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n"
	for i := range 4 {
		script += fmt.Sprintf("0.%d b>a 180 1/INVITE cid=call1 ft=a1 tt=%s%d br=z9hG4bK1\n", i+1, long, i)
	}
	for i := range 3 {
		script += fmt.Sprintf("1.%d c>b INVITE 1/INVITE cid=new%d ft=n%d br=z9hG4bKn%d hdr=Replaces:_call1;to-tag=x;from-tag=a1\n", i, i, i, i)
	}
	calls := runScript(t, script)
	for i := range 3 {
		c := scriptCall(t, calls, fmt.Sprint("new", i))
		ev := replaceEvents(c)
		if len(ev) != 1 || !strings.Contains(ev[0], "but no dialog of it has these tags (it has a1 and TTTT") {
			t.Fatalf("new%d: events %q", i, ev)
		}
		if len(ev[0]) > 1000 {
			t.Errorf("new%d: an event of %d bytes: %.300q...", i, len(ev[0]), ev[0])
		}
	}
}

// TestReplacesTagOrientation: the recipient of a Replaces reads to-tag as
// its own tag and from-tag as the other end's (RFC 3891 §3). Tags that
// match the named dialog only the other way round for the end that
// answered the INVITE (the source of its final response, as the capture
// first saw it) are said to be the wrong way round; tags the right way
// round, or an answer from an address neither end of the dialog had (a
// proxy), are not.
func TestReplacesTagOrientation(t *testing.T) {
	const wrong = "the tags the wrong way round"
	pickup := func(tags, answer string) string {
		return "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
			"0.1 b>a 180 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1\n" +
			"1.0 c>a INVITE 1/INVITE cid=pick ft=p1 br=z9hG4bK2 sdp=1 hdr=Replaces:_call1;" + tags + ";early-only\n" +
			"1.1 a>c " + answer + " 1/INVITE cid=pick ft=p1 tt=p2 br=z9hG4bK2\n"
	}
	transfer := func(tags, answer string) string {
		return xferCall1 + xferConsult +
			"2.1 b>c INVITE 1/INVITE cid=new ft=n1 br=z9hG4bK6 sdp=1 hdr=Replaces:_consult;" + tags + "\n" +
			"2.2 c>b " + answer + " 1/INVITE cid=new ft=n1 tt=n2 br=z9hG4bK6\n"
	}
	for _, tt := range []struct {
		name, script, id string
		event            string // the replaces event's detail, in full
		failed           string // what call-failed says of the Replaces, "" when none
	}{
		{"a transfer, right", transfer("to-tag=cc;from-tag=ca", "200"), "new",
			"call consult (to-tag cc, from-tag ca): in progress in this capture", ""},
		{"a transfer, wrong", transfer("to-tag=ca;from-tag=cc", "481"), "new",
			"call consult (to-tag ca, from-tag cc): in progress in this capture, but with " + wrong + ": from-tag cc is the tag of 10.0.0.4, which answered this INVITE, and the recipient's own tag is the to-tag (RFC 3891 §3)",
			"; the INVITE asked to replace call consult (to-tag ca, from-tag cc), in progress in this capture, but with " + wrong + ": from-tag cc is the tag of 10.0.0.4, which answered, and the recipient's own tag is the to-tag: no dialog matched (RFC 3891 §3)"},
		{"a pickup, right", pickup("to-tag=a1;from-tag=b1", "200"), "pick",
			"call call1 (to-tag a1, from-tag b1, early-only): in progress in this capture, ringing: a call pickup", ""},
		{"a pickup, wrong", pickup("to-tag=b1;from-tag=a1", "481"), "pick",
			"call call1 (to-tag b1, from-tag a1, early-only): in progress in this capture, but with " + wrong + ": from-tag a1 is the tag of 10.0.0.1, which answered this INVITE, and the recipient's own tag is the to-tag (RFC 3891 §3)",
			"; the INVITE asked to replace call call1 (to-tag b1, from-tag a1, early-only), in progress in this capture, but with " + wrong + ": from-tag a1 is the tag of 10.0.0.1, which answered, and the recipient's own tag is the to-tag: no dialog matched (RFC 3891 §3)"},
		{"answered by a proxy", xferCall1 + xferConsult +
			"2.1 b>p INVITE 1/INVITE cid=new ft=n1 br=z9hG4bK6 sdp=1 hdr=Replaces:_consult;to-tag=ca;from-tag=cc\n" +
			"2.2 p>b 481 1/INVITE cid=new ft=n1 tt=n2 br=z9hG4bK6\n", "new",
			"call consult (to-tag ca, from-tag cc): in progress in this capture",
			"; the INVITE asked to replace call consult (to-tag ca, from-tag cc), in progress in this capture with those tags"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := scriptCall(t, runScript(t, tt.script), tt.id)
			var got []string
			for _, e := range c.Events {
				if e.Kind == "replaces" {
					got = append(got, e.Detail)
				}
			}
			if len(got) != 1 || got[0] != tt.event {
				t.Errorf("events %q, want %q", got, tt.event)
			}
			var failed string
			for _, f := range c.Findings {
				if _, rest, ok := strings.Cut(f.Detail, "; the INVITE asked"); ok && f.Rule == "call-failed" {
					failed = "; the INVITE asked" + rest
				}
			}
			if failed != tt.failed {
				t.Errorf("call-failed says %q, want %q", failed, tt.failed)
			}
		})
	}
}

// TestReplacesEarlyOnly: a Replaces with early-only that names a dialog
// answered already is to be refused, 486 Busy Here (RFC 3891 §3: the
// pickup that lost the race with the answer); the event and call-failed
// say that the dialog was answered. One naming an early dialog says
// nothing more.
func TestReplacesEarlyOnly(t *testing.T) {
	const answered = ", its dialog answered already, which early-only asks the recipient to refuse (486 Busy Here, RFC 3891 §3)"
	script := func(ring string) string {
		return "0.0 a>b INVITE 1/INVITE cid=call1 ft=a1 br=z9hG4bK1 sdp=1\n" +
			"0.1 b>a " + ring + " 1/INVITE cid=call1 ft=a1 tt=b1 br=z9hG4bK1 sdp=1\n" +
			"1.0 c>a INVITE 1/INVITE cid=pick ft=p1 br=z9hG4bK2 sdp=1 hdr=Replaces:_call1;to-tag=a1;from-tag=b1;early-only\n" +
			"1.1 a>c 486 1/INVITE cid=pick ft=p1 tt=p2 br=z9hG4bK2\n"
	}
	for _, tt := range []struct{ name, ring, event, failed string }{
		{"answered", "200", "call call1 (to-tag a1, from-tag b1, early-only): in progress in this capture" + answered,
			"; the INVITE asked to replace call call1 (to-tag a1, from-tag b1, early-only), in progress in this capture with those tags" + answered},
		{"ringing", "180", "call call1 (to-tag a1, from-tag b1, early-only): in progress in this capture, ringing: a call pickup",
			"; the INVITE asked to replace call call1 (to-tag a1, from-tag b1, early-only), in progress in this capture with those tags, ringing (a call pickup)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := scriptCall(t, runScript(t, script(tt.ring)), "pick")
			var event, failed string
			for _, e := range c.Events {
				if e.Kind == "replaces" {
					event = e.Detail
				}
			}
			for _, f := range c.Findings {
				if _, rest, ok := strings.Cut(f.Detail, "; the INVITE asked"); ok && f.Rule == "call-failed" {
					failed = "; the INVITE asked" + rest
				}
			}
			if event != tt.event {
				t.Errorf("event %q, want %q", event, tt.event)
			}
			if failed != tt.failed {
				t.Errorf("call-failed says %q, want %q", failed, tt.failed)
			}
		})
	}
}

// TestReplacesSeveral: an INVITE with more than one Replaces, in two
// headers or two values of one, is to be refused 400 (RFC 3891 §3). The
// first is read, and the event and call-failed say there were more.
func TestReplacesSeveral(t *testing.T) {
	const more = "; the INVITE carried more than one Replaces (the first read here), which RFC 3891 §3 has refused with 400 Bad Request"
	for _, tt := range []struct{ name, hdrs string }{
		{"two headers", "hdr=Replaces:_consult;to-tag=cc;from-tag=ca hdr=Replaces:_call1;to-tag=b1;from-tag=a1"},
		{"two values", "hdr=Replaces:_consult;to-tag=cc;from-tag=ca,_call1;to-tag=b1;from-tag=a1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls := runScript(t, xferCall1+xferConsult+
				"2.1 b>c INVITE 1/INVITE cid=new ft=n1 br=z9hG4bK6 sdp=1 "+tt.hdrs+"\n"+
				"2.2 c>b 400 1/INVITE cid=new ft=n1 tt=n2 br=z9hG4bK6\n")
			c := scriptCall(t, calls, "new")
			var event, failed string
			for _, e := range c.Events {
				if e.Kind == "replaces" {
					event = e.Detail
				}
			}
			for _, f := range c.Findings {
				if _, rest, ok := strings.Cut(f.Detail, "; the INVITE asked"); ok && f.Rule == "call-failed" {
					failed = "; the INVITE asked" + rest
				}
			}
			if want := "call consult (to-tag cc, from-tag ca): in progress in this capture" + more; event != want {
				t.Errorf("event %q, want %q", event, want)
			}
			if want := "; the INVITE asked to replace call consult (to-tag cc, from-tag ca), in progress in this capture with those tags" + more; failed != want {
				t.Errorf("call-failed says %q, want %q", failed, want)
			}
		})
	}
}

// TestDivertedEventHistoryInfo: every proxy that relays an INVITE adds a
// History-Info entry (RFC 7044 §9.1), tagged np or rc when it did not
// retarget it: a call that reached its callee's contact through a proxy
// is not diverted, and a forwarding relayed on is one event.
func TestDivertedEventHistoryInfo(t *testing.T) {
	const hiBob = " hdr=History-Info:_<sip:bob@x>;index=1"
	c := scriptCall(t, runScript(t, "0.0 a>p INVITE 1/INVITE sdp=1"+hiBob+"\n"+
		"0.01 p>b INVITE 1/INVITE br=z9hG4bK2 sdp=1"+hiBob+" hdr=History-Info:_<sip:bob@10.0.0.2>;index=1.1;rc=1\n"+
		"0.02 b>p 486 1/INVITE br=z9hG4bK2 tt=busy\n"+
		"0.03 p>b ACK 1/INVITE br=z9hG4bK2 tt=busy\n"+
		"0.04 p>c INVITE 1/INVITE br=z9hG4bK3 sdp=1 hdr=History-Info:_<sip:bob@x?Reason=SIP%3Bcause%3D486>;index=1 hdr=History-Info:_<sip:vm@x>;index=1.2;mp=1\n"+
		"0.05 c>q INVITE 1/INVITE br=z9hG4bK4 sdp=1 hdr=History-Info:_<sip:bob@x?Reason=SIP%3Bcause%3D486>;index=1 hdr=History-Info:_<sip:vm@x>;index=1.2;mp=1 hdr=History-Info:_<sip:vm@10.0.0.7>;index=1.2.1;rc=1.2\n"+
		"0.5 q>c 200 1/INVITE br=z9hG4bK4 tt=vm sdp=1\n0.51 c>p 200 1/INVITE br=z9hG4bK3 tt=vm sdp=1\n0.52 p>a 200 1/INVITE tt=vm sdp=1\n"+
		"0.6 a>q ACK 1/ACK tt=vm br=z9hG4bKack\n1.0 a>q BYE 2/BYE tt=vm br=z9hG4bKbye\n1.1 q>a 200 2/BYE tt=vm br=z9hG4bKbye\n"), "call-1")
	var got []string
	for _, e := range c.Events {
		got = append(got, fmt.Sprintf("%s %d: %s", e.Kind, e.N, e.Detail))
	}
	if want := []string{"diverted 5: History-Info: sip:bob@x (index 1, cause 486) → sip:vm@x (index 1.2)"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("events %q, want %q", got, want)
	}
}

// TestReplacesRingingNotEarlyOnly: a Replaces naming a ringing dialog
// without early-only may be a pickup or a transfer made before its
// target answered; the event says both.
func TestReplacesRingingNotEarlyOnly(t *testing.T) {
	c := scriptCall(t, runScript(t, strings.Replace(pickupRinging, ";early-only", "", 1)), "pick")
	want := "replaces 3: call call1 (to-tag a1, from-tag b1): in progress in this capture, ringing: a call pickup, or a transfer before its target answered"
	if got := replaceEvents(c); len(got) != 1 || got[0] != want {
		t.Errorf("events %q, want %q", got, want)
	}
}
