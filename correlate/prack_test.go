package correlate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/correlate"
)

// TestMissingPRACK: a reliable provisional response (RFC 3262) that its
// sender repeats for want of a PRACK is a missing-prack finding, an error
// when the INVITE then fails with a 5xx; a repeat that crossed the PRACK
// is none, and neither is an unreliable 18x sent again.
func TestMissingPRACK(t *testing.T) {
	const invite = `
0.0 a>b INVITE 1/INVITE hdr=Supported:_100rel
0.01 b>a 100 1/INVITE
0.1 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
`
	const answered = `
2.0 b>a 200 1/INVITE tt=callee
2.1 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>b BYE 9/BYE tt=callee br=z9hG4bKbye
5.1 b>a 200 9/BYE tt=callee br=z9hG4bKbye
tick 60
`
	for _, tc := range []struct {
		name, script string
		want         string // severity and detail, "" for no finding
		packets      string
		retrans      bool // a retransmissions finding too
	}{
		{"NeverPRACKedThen504", invite + `
0.6 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
1.6 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
32.1 b>a 504 1/INVITE tt=callee
32.2 a>b ACK 1/ACK tt=callee
tick 60
`, "error: 183 Reason from 10.0.0.2:5060, a reliable provisional response (RSeq 1), was sent 3 times over 1.5 s: no PRACK for it was captured (a caller that offered 100rel and does not send PRACK, or a PRACK lost or routed elsewhere); the INVITE was then rejected with 504 Reason (packet 6), 32.0 s after it",
			"[3 4 5 6]", true},
		// The callee gives up on reliability and answers: a warning.
		{"NeverPRACKedThenAnswered", invite + `
0.6 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
` + answered, "warning: 183 Reason from 10.0.0.2:5060, a reliable provisional response (RSeq 1), was sent 2 times over 0.5 s: no PRACK for it was captured (a caller that offered 100rel and does not send PRACK, or a PRACK lost or routed elsewhere)",
			"[3 4]", true},
		// The repeat and the PRACK crossed: no fault.
		{"CrossedThePRACK", invite + `
0.6 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
0.601 a>b PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_1_1_INVITE
0.602 b>a 200 2/PRACK tt=callee br=z9hG4bKp1
` + answered, "", "", true},
		// Sent again after its PRACK was answered: the callee did not take
		// that PRACK for this response.
		{"RepeatedAfterPRACKAnswered", invite + `
0.11 a>b PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_1_1_INVITE
0.12 b>a 200 2/PRACK tt=callee br=z9hG4bKp1
0.6 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
` + answered, "warning: 183 Reason from 10.0.0.2:5060, a reliable provisional response (RSeq 1), was sent 2 times over 0.5 s: the PRACK for it (packet 4) was answered 200 Reason (packet 5), yet it was sent again after that",
			"[3 6 4 5]", true},
		// PRACKed again after the repeat: the first PRACK's answer is
		// what the repeat came after.
		{"PRACKedTwice", invite + `
0.11 a>b PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_1_1_INVITE
0.12 b>a 200 2/PRACK tt=callee br=z9hG4bKp1
0.6 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
0.61 a>b PRACK 3/PRACK tt=callee br=z9hG4bKp2 hdr=RAck:_1_1_INVITE
0.62 b>a 200 3/PRACK tt=callee br=z9hG4bKp2
` + answered, "warning: 183 Reason from 10.0.0.2:5060, a reliable provisional response (RSeq 1), was sent 2 times over 0.5 s: the PRACK for it (packet 4) was answered 200 Reason (packet 5), yet it was sent again after that",
			"[3 6 4 7 5]", true},
		{"PRACKRefused", invite + `
0.11 a>b PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_1_1_INVITE
0.12 b>a 481 2/PRACK tt=callee br=z9hG4bKp1
0.6 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
1.6 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
32.1 b>a 504 1/INVITE tt=callee
32.2 a>b ACK 1/ACK tt=callee
tick 60
`, "error: 183 Reason from 10.0.0.2:5060, a reliable provisional response (RSeq 1), was sent 3 times over 1.5 s: the PRACK for it (packet 4) got no 2xx; the INVITE was then rejected with 504 Reason (packet 8), 32.0 s after it",
			"[3 6 7 4 8]", true},
		// The caller's RAck names another RSeq: no PRACK for this one.
		{"WrongRAck", invite + `
0.11 a>b PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_2_1_INVITE
0.12 b>a 481 2/PRACK tt=callee br=z9hG4bKp1
0.6 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
` + answered, "warning: 183 Reason from 10.0.0.2:5060, a reliable provisional response (RSeq 1), was sent 2 times over 0.5 s: no PRACK for it was captured; the PRACK of packet 4 acknowledges RSeq 2 of CSeq 1, not RSeq 1 of CSeq 1",
			"[3 6 4]", true},
		{"WrongRAckCSeq", invite + `
0.11 a>b PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_1_7_INVITE
0.12 b>a 481 2/PRACK tt=callee br=z9hG4bKp1
0.6 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
` + answered, "warning: 183 Reason from 10.0.0.2:5060, a reliable provisional response (RSeq 1), was sent 2 times over 0.5 s: no PRACK for it was captured; the PRACK of packet 4 acknowledges RSeq 1 of CSeq 7, not RSeq 1 of CSeq 1",
			"[3 6 4]", true},
		// Two forks, each with RSeq 1: the first's PRACK is not the
		// second's, which is sent again.
		{"OtherForkPRACKed", invite + `
0.11 a>b PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_1_1_INVITE
0.12 b>a 200 2/PRACK tt=callee br=z9hG4bKp1
0.2 b>a 183 1/INVITE tt=fork2 hdr=Require:_100rel hdr=RSeq:_1
0.7 b>a 183 1/INVITE tt=fork2 hdr=Require:_100rel hdr=RSeq:_1
` + answered, "warning: 183 Reason from 10.0.0.2:5060, a reliable provisional response (RSeq 1), was sent 2 times over 0.5 s: no PRACK for it was captured (a caller that offered 100rel and does not send PRACK, or a PRACK lost or routed elsewhere)",
			"[6 7]", true},
		// A second reliable 183 (RSeq 2), as long as the first: a new
		// response, PRACKed as well, not a repeat of the first.
		{"SecondReliable183", invite + `
0.11 a>b PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_1_1_INVITE
0.12 b>a 200 2/PRACK tt=callee br=z9hG4bKp1
0.6 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_2
0.61 a>b PRACK 3/PRACK tt=callee br=z9hG4bKp2 hdr=RAck:_2_1_INVITE
0.62 b>a 200 3/PRACK tt=callee br=z9hG4bKp2
` + answered, "", "", false},
		// Two PRACKs naming other responses: the first is the one named.
		{"TwoWrongRAcks", invite + `
0.11 a>b PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_7_1_INVITE
0.12 b>a 481 2/PRACK tt=callee br=z9hG4bKp1
0.13 a>b PRACK 3/PRACK tt=callee br=z9hG4bKp2 hdr=RAck:_8_1_INVITE
0.14 b>a 481 3/PRACK tt=callee br=z9hG4bKp2
0.6 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
` + answered, "warning: 183 Reason from 10.0.0.2:5060, a reliable provisional response (RSeq 1), was sent 2 times over 0.5 s: no PRACK for it was captured; the PRACK of packet 4 acknowledges RSeq 7 of CSeq 1, not RSeq 1 of CSeq 1",
			"[3 8 4]", true},
		// The other fork PRACKed its own RSeq 2: no PRACK of this dialog,
		// and none of it named another response.
		{"OtherForkPRACKedAnother", invite + `
0.105 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_2
0.11 a>b PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_2_1_INVITE
0.12 b>a 200 2/PRACK tt=callee br=z9hG4bKp1
0.2 b>a 183 1/INVITE tt=fork2 hdr=Require:_100rel hdr=RSeq:_1
0.7 b>a 183 1/INVITE tt=fork2 hdr=Require:_100rel hdr=RSeq:_1
` + answered, "warning: 183 Reason from 10.0.0.2:5060, a reliable provisional response (RSeq 1), was sent 2 times over 0.5 s: no PRACK for it was captured (a caller that offered 100rel and does not send PRACK, or a PRACK lost or routed elsewhere)",
			"[7 8]", true},
		// Captured on both sides of a relay that keeps the Via: the 183 is
		// sent again on the callee's hop only, after its PRACK was
		// answered. One finding, for that hop's 183; the relayed copy was
		// not repeated.
		{"RepeatedOnOneHop", `
0.0 a>p INVITE 1/INVITE hdr=Supported:_100rel
0.01 p>b INVITE 1/INVITE via=a hdr=Supported:_100rel
0.1 b>p 183 1/INVITE via=a tt=callee hdr=Require:_100rel hdr=RSeq:_1
0.11 p>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
0.2 a>p PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_1_1_INVITE
0.21 p>b PRACK 2/PRACK via=a tt=callee br=z9hG4bKp1 hdr=RAck:_1_1_INVITE
0.22 b>p 200 2/PRACK via=a tt=callee br=z9hG4bKp1
0.23 p>a 200 2/PRACK tt=callee br=z9hG4bKp1
0.6 b>p 183 1/INVITE via=a tt=callee hdr=Require:_100rel hdr=RSeq:_1
` + answered, "warning: 183 Reason from 10.0.0.2:5060, a reliable provisional response (RSeq 1), was sent 2 times over 0.5 s: the PRACK for it (packet 5) was answered 200 Reason (packet 7), yet it was sent again after that",
			"[3 9 5 7]", true},
		// The first reliable 183 PRACKed in time; the second (RSeq 2) sent
		// again before its PRACK, which crossed the repeat. The repeat is
		// the second's, not the first's: no fault.
		{"SecondReliableRepeated", invite + `
0.11 a>b PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_1_1_INVITE
0.12 b>a 200 2/PRACK tt=callee br=z9hG4bKp1
0.6 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_2
1.1 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_2
1.101 a>b PRACK 3/PRACK tt=callee br=z9hG4bKp2 hdr=RAck:_2_1_INVITE
1.102 b>a 200 3/PRACK tt=callee br=z9hG4bKp2
` + answered, "", "", true},
		// An unreliable 180 sent again (a UAS's keep-alive every minute,
		// RFC 3261 §13.3.1.1): no PRACK is due.
		{"UnreliableRepeated", `
0.0 a>b INVITE 1/INVITE
0.1 b>a 180 1/INVITE tt=callee
60.1 b>a 180 1/INVITE tt=callee
61.0 b>a 200 1/INVITE tt=callee
61.1 a>b ACK 1/ACK tt=callee br=z9hG4bKack
65.0 a>b BYE 9/BYE tt=callee br=z9hG4bKbye
65.1 b>a 200 9/BYE tt=callee br=z9hG4bKbye
tick 120
`, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := scriptCall(t, runScript(t, tc.script), "call-1")
			var got, pkts string
			for _, f := range c.Findings {
				if f.Rule == "missing-prack" {
					got, pkts = f.Severity.String()+": "+f.Detail, fmt.Sprint(f.Packets)
				}
			}
			if got != tc.want || pkts != tc.packets {
				t.Errorf("got %q %s\nwant %q %s\n(%s)", got, pkts, tc.want, tc.packets, describe(c))
			}
			if tc.want == "" && c.State != correlate.StateCompleted {
				t.Errorf("state %s, want completed (%s)", c.State, describe(c))
			}
			if retrans := c.HasFinding("retransmissions"); retrans != tc.retrans {
				t.Errorf("retransmissions finding %t, want %t (%s)", retrans, tc.retrans, describe(c))
			}
		})
	}
}

// TestMissingPRACKLongRinging: a call ringing through 300 reliable 183s,
// each PRACKed (more transactions than a message's are looked for among
// by a scan), the 150th sent again after its PRACK was answered: one
// missing-prack finding, for that one, and the INVITE's 200, after all
// of them, still answers the INVITE.
func TestMissingPRACKLongRinging(t *testing.T) {
	var s strings.Builder
	s.WriteString("0.0 a>b INVITE 1/INVITE hdr=Supported:_100rel\n")
	for i := 1; i <= 300; i++ {
		at := float64(i) * 0.1
		r183 := fmt.Sprintf("b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_%d\n", i)
		fmt.Fprintf(&s, "%.3f %s", at, r183)
		fmt.Fprintf(&s, "%.3f a>b PRACK %d/PRACK tt=callee br=z9hG4bKp%d hdr=RAck:_%d_1_INVITE\n", at+0.01, 1+i, i, i)
		fmt.Fprintf(&s, "%.3f b>a 200 %d/PRACK tt=callee br=z9hG4bKp%d\n", at+0.02, 1+i, i)
		if i == 150 {
			fmt.Fprintf(&s, "%.3f %s", at+0.05, r183)
		}
	}
	s.WriteString("40.0 b>a 200 1/INVITE tt=callee\n40.1 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n45.0 a>b BYE 999/BYE tt=callee br=z9hG4bKbye\n45.1 b>a 200 999/BYE tt=callee br=z9hG4bKbye\ntick 60\n")
	c := scriptCall(t, runScript(t, s.String()), "call-1")
	if c.State != correlate.StateCompleted || c.FinalStatus != 200 {
		t.Fatalf("state %s, final %d; want completed, 200 (%s)", c.State, c.FinalStatus, describe(c))
	}
	var got []string
	for _, f := range c.Findings {
		if f.Rule == "missing-prack" {
			got = append(got, f.Detail)
		}
	}
	const want = "183 Reason from 10.0.0.2:5060, a reliable provisional response (RSeq 150), was sent 2 times over 0.1 s: the PRACK for it (packet 450) was answered 200 Reason (packet 451), yet it was sent again after that"
	if len(got) != 1 || got[0] != want {
		t.Errorf("missing-prack findings %q, want [%q]", got, want)
	}
}

// TestLongRingingAnswered: an INVITE answered, or cancelled, minutes
// after its only provisional response, 300 INFOs (keys sent in the early
// dialog) later: the 200, or the CANCEL and the 487, still belong to it.
// A transaction that far back is taken only while it can still see
// messages, and one still without its final response can, however long
// (past Timer C here; a clock that jumps ahead alike).
func TestLongRingingAnswered(t *testing.T) {
	var ring strings.Builder
	ring.WriteString("0.0 a>b INVITE 1/INVITE sdp=1\n0.1 b>a 180 1/INVITE tt=callee\n")
	for i := 1; i <= 300; i++ {
		at := 1 + float64(i)*0.2
		fmt.Fprintf(&ring, "%.2f a>b INFO %d/INFO tt=callee br=z9hG4bKi%d dtmf=%d\n%.2f b>a 200 %d/INFO tt=callee br=z9hG4bKi%d\n", at, 1+i, i, i%10, at+0.01, 1+i, i)
	}
	for _, tc := range []struct {
		name, end string
		state     correlate.State
		final     int
	}{
		{"answered", "600.0 b>a 200 1/INVITE tt=callee sdp=1\n600.1 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n605.0 a>b BYE 999/BYE tt=callee br=z9hG4bKbye\n605.1 b>a 200 999/BYE tt=callee br=z9hG4bKbye\n",
			correlate.StateCompleted, 200},
		{"cancelled", "200.0 a>b CANCEL 1/CANCEL\n200.01 b>a 200 1/CANCEL\n200.02 b>a 487 1/INVITE tt=callee\n200.03 a>b ACK 1/ACK tt=callee\n",
			correlate.StateCancelled, 487},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := scriptCall(t, runScript(t, ring.String()+tc.end+"tick 60\n"), "call-1")
			if c.State != tc.state || c.FinalStatus != tc.final || len(c.Findings) != 0 {
				t.Errorf("state %s, final %d, findings %v; want %s, %d, none (%s)", c.State, c.FinalStatus, c.Findings, tc.state, tc.final, describe(c))
			}
		})
	}
}

// TestOldTransactionRepeats: past the 256 transactions findTx scans, a
// message repeats a transaction that has its final response only within
// 64·T1 (32 s) of its last message, the final response, a repeat, or the
// ACK to a rejection counted.
func TestOldTransactionRepeats(t *testing.T) {
	lines := []string{
		"0.0 a>b OPTIONS 1/OPTIONS ft=p1 br=z9hG4bKo1", "2.0 b>a 200 1/OPTIONS ft=p1 tt=x br=z9hG4bKo1", // answered late
		"2.5 a>b OPTIONS 2/OPTIONS ft=p2 br=z9hG4bKo2", "2.51 b>a 200 2/OPTIONS ft=p2 tt=x br=z9hG4bKo2",
		"3.0 a>b INVITE 3/INVITE ft=p3 br=z9hG4bKi3", "3.1 b>a 486 3/INVITE ft=p3 tt=y br=z9hG4bKi3",
		"5.0 a>b ACK 3/INVITE ft=p3 tt=y br=z9hG4bKi3", // ACKed late
	}
	// Sent again among 400 other pings (the leg open all along), each over
	// 300 transactions after the first sighting: 31.5 s
	// after the first OPTIONS' 200 (33.5 s after the request), 32.5 s
	// after the second's 200, 31.9 s after the ACK to the 486 (33.8 s
	// after the 486).
	again := []struct {
		at     float64
		line   string
		repeat bool
	}{
		{33.5, "33.50 a>b OPTIONS 1/OPTIONS ft=p1 br=z9hG4bKo1", true},
		{35.01, "35.01 a>b OPTIONS 2/OPTIONS ft=p2 br=z9hG4bKo2", false},
		{36.9, "36.90 b>a 486 3/INVITE ft=p3 tt=y br=z9hG4bKi3", true},
	}
	want := map[int]bool{} // packet: a repeat of its old transaction
	for i := 1; i <= 400; i++ {
		at := 5.2 + float64(i)*0.08
		for len(again) > 0 && again[0].at < at {
			lines = append(lines, again[0].line)
			want[len(lines)] = again[0].repeat
			again = again[1:]
		}
		lines = append(lines, fmt.Sprintf("%.2f a>b OPTIONS %d/OPTIONS ft=q%d br=z9hG4bKq%d", at, 3+i, i, i),
			fmt.Sprintf("%.3f b>a 200 %d/OPTIONS ft=q%d tt=x br=z9hG4bKq%d", at+0.001, 3+i, i, i))
	}
	c := scriptCall(t, runScript(t, strings.Join(lines, "\n")+"\ntick 60\n"), "call-1")
	for _, m := range c.Messages() {
		if r, ok := want[m.N]; ok {
			if m.Retransmission != r {
				t.Errorf("packet %d (%s %d/%s): retransmission %v, want %v", m.N, m.Label(), m.CSeq, m.CSeqMethod, m.Retransmission, r)
			}
			delete(want, m.N)
		}
	}
	if len(want) != 0 || len(again) != 0 {
		t.Errorf("packets %v not among the call's messages", want)
	}
}

// TestKeepaliveAfterRestart: a device pings over one Call-ID every 2 s,
// its branches a count from 1, and after 300 pings restarts and counts
// from 1 again. Its new pings are new transactions, not repeats of the
// ones that ended ten minutes before.
func TestKeepaliveAfterRestart(t *testing.T) {
	var s strings.Builder
	at := 0.0
	for boot, n := range []int{300, 5} {
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&s, "%.2f a>b OPTIONS %d/OPTIONS ft=boot%d br=z9hG4bK%d\n", at, i, boot, i)
			fmt.Fprintf(&s, "%.2f b>a 200 %d/OPTIONS ft=boot%d tt=x br=z9hG4bK%d\n", at+0.01, i, boot, i)
			at += 2
		}
		at += 30
	}
	c := scriptCall(t, runScript(t, s.String()+"tick 60\n"), "call-1")
	resent := 0
	for _, l := range c.Legs {
		for _, m := range l.Messages {
			if m.Retransmission {
				resent++
			}
		}
	}
	if resent != 0 || len(c.Findings) != 0 || c.NumMessages != 610 {
		t.Errorf("%d messages, %d retransmissions, findings %v; want 610, none, none (%s)", c.NumMessages, resent, c.Findings, describe(c))
	}
}
