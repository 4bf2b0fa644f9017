package correlate_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/correlate"
)

// TestSubscriptionLifetime: a subscription in force (RFC 6665) waits for
// its refreshes, like an answered call for its BYE, and is one record
// however far apart they come; one refused or ended is finished once its
// messages have lingered (Tombstone), not after the idle timeout.
func TestSubscriptionLifetime(t *testing.T) {
	// lasted is how long after its first message the call was finished.
	lasted := func(c *correlate.Call) time.Duration { return c.CaptureEnd.Sub(c.Start) }
	runScriptCases(t, []scriptCase{
		// BLF: subscribed for an hour, refreshed every 30 minutes, a NOTIFY
		// on each change.
		{"RefreshedEvery30Minutes", `
0.0 a>b SUBSCRIBE 1/SUBSCRIBE hdr=Event:_dialog hdr=Expires:_3600
0.1 b>a 200 1/SUBSCRIBE tt=callee hdr=Expires:_3600
0.2 b>a NOTIFY 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1 hdr=Subscription-State:_active;expires=3600
0.3 a>b 200 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1
tick 900
1500 b>a NOTIFY 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2 hdr=Subscription-State:_active;expires=2100
1500.1 a>b 200 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2
tick 2400
3000 a>b SUBSCRIBE 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_3600
3000.1 b>a 200 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_3600
tick 3100
`, func(c *correlate.Call) bool {
			return c.Kind == correlate.KindSubscription && c.NumMessages == 8 && c.State == correlate.StateSubscribed
		}, "want one subscription of 8 messages, in force when the capture ended"},
		// Mid-subscription: only the NOTIFYs were captured.
		{"NotifiesOnly", `
0.0 b>a NOTIFY 1/NOTIFY ft=callee tt=caller hdr=Event:_dialog hdr=Subscription-State:_active
0.1 a>b 200 1/NOTIFY ft=callee tt=caller
tick 900
1200 b>a NOTIFY 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2 hdr=Subscription-State:_active
1200.1 a>b 200 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2
tick 1300
`, func(c *correlate.Call) bool { return c.NumMessages == 4 }, "want one subscription of 4 messages"},
		// Refused: finished 32 s after its last message, not 10 minutes.
		{"Refused", `
0.0 a>b SUBSCRIBE 1/SUBSCRIBE hdr=Event:_presence hdr=Expires:_3600
0.1 b>a 489 1/SUBSCRIBE tt=callee
tick 33
tick 700
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateRejected && lasted(c) < 40*time.Second
		}, "want rejected, finished about 32 s in"},
		// Ended by the notifier (Subscription-State: terminated).
		{"TerminatedByNotify", `
0.0 a>b SUBSCRIBE 1/SUBSCRIBE hdr=Event:_message-summary hdr=Expires:_3600
0.1 b>a 200 1/SUBSCRIBE tt=callee hdr=Expires:_3600
0.2 b>a NOTIFY 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1 hdr=Subscription-State:_active
0.3 a>b 200 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1
20.0 b>a NOTIFY 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2 hdr=Subscription-State:_terminated;reason=noresource
20.1 a>b 200 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2
tick 53
tick 700
`, func(c *correlate.Call) bool {
			return c.NumMessages == 6 && lasted(c) < 60*time.Second && c.State == correlate.StateCompleted && c.Reason == "noresource"
		}, "want 6 messages, finished about 32 s after the terminating NOTIFY, completed (noresource)"},
		// A refresh refused (the notifier lost the subscription): over.
		{"RefreshRefused", `
0.0 a>b SUBSCRIBE 1/SUBSCRIBE hdr=Event:_dialog hdr=Expires:_3600
0.1 b>a 200 1/SUBSCRIBE tt=callee hdr=Expires:_3600
30.0 a>b SUBSCRIBE 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_3600
30.1 b>a 481 2/SUBSCRIBE tt=callee br=z9hG4bKs2
tick 63
tick 700
`, func(c *correlate.Call) bool { return c.NumMessages == 4 && lasted(c) < 80*time.Second },
			"want 4 messages, finished about 32 s after the 481"},
		// The subscription's Call-ID used again for a call that rings and
		// is never answered: a call now, waiting the idle timeout like any
		// ringing call, not the subscription's call timeout.
		{"CallIDReusedForCall", `
0.0 a>b SUBSCRIBE 1/SUBSCRIBE hdr=Event:_dialog hdr=Expires:_3600
0.1 b>a 200 1/SUBSCRIBE tt=callee hdr=Expires:_3600
5.0 a>b INVITE 2/INVITE br=z9hG4bKi
5.1 b>a 180 2/INVITE tt=callee2 br=z9hG4bKi
tick 700
tick 800
`, func(c *correlate.Call) bool { return c.Kind == correlate.KindCall && lasted(c) < 750*time.Second },
			"want a call, finished by the idle timeout"},
		// Unsubscribed (Expires: 0).
		{"Unsubscribed", `
0.0 a>b SUBSCRIBE 1/SUBSCRIBE hdr=Event:_dialog hdr=Expires:_3600
0.1 b>a 200 1/SUBSCRIBE tt=callee hdr=Expires:_3600
30.0 a>b SUBSCRIBE 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_0
30.1 b>a 200 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_0
tick 63
tick 700
`, func(c *correlate.Call) bool {
			return c.NumMessages == 4 && lasted(c) < 80*time.Second && c.State == correlate.StateCompleted
		}, "want 4 messages, finished about 32 s after the unsubscribe, completed"},
	})
}

// TestSubscriptionExpiry: a subscription lapses when no refresh comes
// before the expiry its last 2xx or NOTIFY gave (RFC 6665 §4.1.2.2): the
// notifier says so (terminated, reason timeout), or the capture goes on
// past it (graceAfter, 4 s) with nothing said. Either is expired, with a
// subscription-expired finding; one still in force is subscribed.
func TestSubscriptionExpiry(t *testing.T) {
	const start = `
0.0 a>b SUBSCRIBE 1/SUBSCRIBE hdr=Event:_presence hdr=Expires:_600
0.1 b>a 200 1/SUBSCRIBE tt=callee hdr=Expires:_600
0.2 b>a NOTIFY 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1 hdr=Subscription-State:_active;expires=600
0.3 a>b 200 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1
`
	expired := func(packets []int, detail string) func(c *correlate.Call) bool {
		return func(c *correlate.Call) bool {
			if c.State != correlate.StateExpired || len(c.Findings) != 1 {
				return false
			}
			f := c.Findings[0]
			return f.Rule == "subscription-expired" && f.Severity == correlate.Warning && fmt.Sprint(f.Packets) == fmt.Sprint(packets) &&
				strings.Contains(f.Detail, detail)
		}
	}
	subscribed := func(c *correlate.Call) bool { return c.State == correlate.StateSubscribed && len(c.Findings) == 0 }
	runScriptCases(t, []scriptCase{
		{"Lapsed", start + "tick 700\n", expired([]int{3, 4},
			"the subscription to presence events expired, 600 s after NOTIFY (packet 3): neither a refresh nor a NOTIFY ending it was captured, though the capture went on 1m40s past its expiry"),
			"want expired, from the NOTIFY's expires"},
		{"NotYetExpired", start + "tick 590\n", subscribed, "want subscribed"},
		// Within graceAfter of the expiry: a notifier's NOTIFY may be on its way.
		{"JustExpired", start + "tick 603\n", subscribed, "want subscribed, 3 s after the expiry"},
		{"PastGrace", start + "tick 605\n", expired([]int{3, 4}, "went on 5s past"), "want expired, 5 s after the expiry"},
		{"Refreshed", start + `
500 a>b SUBSCRIBE 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_600
500.1 b>a 200 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_600
tick 1000
`, subscribed, "want subscribed: the refresh at 500 s keeps it to 1100 s"},
		// The latest word counts, a shorter one too: the refresh's 200
		// grants 60 s.
		{"RefreshShortened", start + `
30 a>b SUBSCRIBE 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_600
30.1 b>a 200 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_60
tick 100
`, expired([]int{6}, "expired, 60 s after 200 Reason to SUBSCRIBE (packet 6)"), "want expired at 90 s"},
		// A NOTIFY's expires moves the expiry on.
		{"NotifyExtends", `
0.0 a>b SUBSCRIBE 1/SUBSCRIBE hdr=Event:_dialog hdr=Expires:_60
0.1 b>a 200 1/SUBSCRIBE tt=callee hdr=Expires:_60
50 b>a NOTIFY 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1 hdr=Subscription-State:_active;expires=100
50.1 a>b 200 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1
tick 120
`, subscribed, "want subscribed: the NOTIFY at 50 s gives 100 s more"},
		// The 200 says nothing: the SUBSCRIBE's Expires holds
		// (RFC 6665 §4.1.2.1 wants it in the 200; not every notifier
		// puts it there).
		{"ExpiresFromRequest", `
0.0 a>b SUBSCRIBE 1/SUBSCRIBE hdr=Event:_dialog hdr=Expires:_600
0.1 b>a 200 1/SUBSCRIBE tt=callee
tick 700
`, expired([]int{2}, "expired, 600 s after 200 Reason to SUBSCRIBE (packet 2)"), "want expired at 600 s"},
		// An active NOTIFY's expires=0 says nothing usable.
		{"ActiveExpiresZero", start + `
10 b>a NOTIFY 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2 hdr=Subscription-State:_active;expires=0
10.1 a>b 200 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2
tick 100
`, subscribed, "want subscribed: the 600 s of the first NOTIFY hold"},
		// No Expires anywhere: the expiry is not known, nothing is said.
		{"NoExpires", `
0.0 a>b SUBSCRIBE 1/SUBSCRIBE hdr=Event:_dialog
0.1 b>a 200 1/SUBSCRIBE tt=callee
0.2 b>a NOTIFY 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1 hdr=Subscription-State:_active
0.3 a>b 200 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1
tick 5000
`, subscribed, "want subscribed"},
		{"TimeoutNotify", start + `
600.5 b>a NOTIFY 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2 hdr=Subscription-State:_terminated;reason=timeout
600.6 a>b 200 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2
tick 700
`, expired([]int{5, 3}, "the notifier ended the subscription to presence events (NOTIFY, packet 5: terminated, reason timeout): the subscriber did not refresh it before it expired, 600 s after NOTIFY (packet 3)"),
			"want expired, as the notifier said"},
		// Some notifiers confirm an unsubscribe with reason timeout: no
		// lapse, the subscriber ended it.
		{"UnsubscribeConfirmedWithTimeout", start + `
300 a>b SUBSCRIBE 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_0
300.1 b>a 200 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_0
300.2 b>a NOTIFY 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2 hdr=Subscription-State:_terminated;reason=timeout
300.3 a>b 200 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2
tick 700
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateCompleted && c.Reason == "" && len(c.Findings) == 0
		}, "want completed, no finding"},
		// The same, with the unsubscribe just before the expiry.
		{"UnsubscribedJustBeforeExpiry", start + `
598 a>b SUBSCRIBE 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_0
598.1 b>a 200 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_0
598.2 b>a NOTIFY 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2 hdr=Subscription-State:_terminated;reason=timeout
598.3 a>b 200 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2
tick 700
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateCompleted && len(c.Findings) == 0
		}, "want completed, no finding"},
		// A timeout the notifier declares long before the expiry it gave
		// is not the subscriber's lapse.
		{"TimeoutBeforeExpiry", start + `
100 b>a NOTIFY 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2 hdr=Subscription-State:_terminated;reason=timeout
100.1 a>b 200 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2
tick 700
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateCompleted && c.Reason == "timeout" && len(c.Findings) == 0
		}, "want completed (timeout), no finding"},
		// Ended for another reason: completed, and Reason says why.
		{"Deactivated", start + `
300 b>a NOTIFY 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2 hdr=Subscription-State:_terminated;reason=deactivated
300.1 a>b 200 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2
tick 700
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateCompleted && c.Reason == "deactivated" && len(c.Findings) == 0
		}, "want completed (deactivated)"},
		// Subscribed again after a timeout: the new subscription counts.
		{"ResubscribedAfterTimeout", start + `
600.5 b>a NOTIFY 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2 hdr=Subscription-State:_terminated;reason=timeout
600.6 a>b 200 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2
601 a>b SUBSCRIBE 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_600
601.1 b>a 200 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_600
tick 700
`, subscribed, "want subscribed"},
		// Ended, then NOTIFYs of a new subscription whose SUBSCRIBE the
		// capture missed: in force.
		{"NotifiedAgainAfterEnd", start + `
100 b>a NOTIFY 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2 hdr=Subscription-State:_terminated;reason=deactivated
100.1 a>b 200 2/NOTIFY ft=callee tt=caller br=z9hG4bKn2
101 b>a NOTIFY 3/NOTIFY ft=callee tt=caller br=z9hG4bKn3 hdr=Subscription-State:_active;expires=600
101.1 a>b 200 3/NOTIFY ft=callee tt=caller br=z9hG4bKn3
tick 200
`, func(c *correlate.Call) bool { return c.State == correlate.StateSubscribed && c.Reason == "" }, "want subscribed"},
		// Left to lapse, then two hours without a message: finished by the
		// call timeout, expired.
		{"FinishedByCallTimeout", start + "tick 3600\ntick 7300\ntick 7400\n", func(c *correlate.Call) bool {
			return c.State == correlate.StateExpired && c.CaptureEnd.Sub(c.Start) < 7400*time.Second
		}, "want expired, finished by the call timeout"},
	})
}

// TestSubscriptionWaitsForItsExpiry: a subscription in force whose
// expiry is known waits for that, and the idle timeout (10 minutes) more,
// rather than the call timeout (2 hours): one of a day, refreshed every
// twelve hours, is one record; one that lapses is finished 10 minutes
// after it expired (by the first message past that: the clock moves with
// packets); one refreshed late, or NOTIFYed after its expiry, stays one
// record; an expiry beyond a day waits a day.
func TestSubscriptionWaitsForItsExpiry(t *testing.T) {
	const subscribe = `
0.0 a>b SUBSCRIBE 1/SUBSCRIBE hdr=Event:_message-summary hdr=Expires:_%[1]d
0.1 b>a 200 1/SUBSCRIBE tt=callee hdr=Expires:_%[1]d
`
	for _, tc := range []struct {
		name, script string
		msgs         int
		state        correlate.State
		lastedMin    time.Duration // how long after its first message it was finished
		lastedMax    time.Duration
	}{
		{"DayLongRefreshedTwice", fmt.Sprintf(subscribe, 86400) + `
tick 7300
tick 30000
43200 a>b SUBSCRIBE 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_86400
43200.1 b>a 200 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_86400
tick 60000
86400 a>b SUBSCRIBE 3/SUBSCRIBE tt=callee br=z9hG4bKs3 hdr=Expires:_86400
86400.1 b>a 200 3/SUBSCRIBE tt=callee br=z9hG4bKs3 hdr=Expires:_86400
tick 90000
`, 6, correlate.StateSubscribed, 90000 * time.Second, 90000 * time.Second},
		{"LapsedFinishedAtExpiry", fmt.Sprintf(subscribe, 600) + `
tick 1200
tick 1201
tick 1300
`, 2, correlate.StateExpired, 1201 * time.Second, 1201 * time.Second},
		{"RefreshedTenSecondsLate", fmt.Sprintf(subscribe, 600) + `
tick 605
610 a>b SUBSCRIBE 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_600
610.1 b>a 200 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_600
tick 700
`, 4, correlate.StateSubscribed, 700 * time.Second, 700 * time.Second},
		// The notifier NOTIFYs 5 minutes past the expiry, without an
		// expiry of its own: one record, finished 10 minutes after that
		// NOTIFY, not two hours.
		{"NotifiedPastExpiry", fmt.Sprintf(subscribe, 600) + `
900 b>a NOTIFY 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1 hdr=Subscription-State:_active
900.1 a>b 200 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1
tick 1500
tick 1501
tick 1600
`, 4, correlate.StateExpired, 1501 * time.Second, 1501 * time.Second},
		{"TenDaysWaitsADay", fmt.Sprintf(subscribe, 864000) + `
tick 7300
tick 86000
tick 87000
tick 87001
tick 90000
`, 2, correlate.StateSubscribed, 87001 * time.Second, 87001 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []*correlate.Call
			for _, c := range runScript(t, tc.script) {
				if c.ID == "call-1" {
					got = append(got, c)
				}
			}
			if len(got) != 1 {
				t.Fatalf("%d records of the subscription, want 1", len(got))
			}
			c := got[0]
			lasted := c.CaptureEnd.Sub(c.Start)
			if c.NumMessages != tc.msgs || c.State != tc.state || lasted < tc.lastedMin || lasted > tc.lastedMax {
				t.Errorf("got %d messages, %s, finished %v in; want %d, %s, finished %v–%v in",
					c.NumMessages, c.State, lasted, tc.msgs, tc.state, tc.lastedMin, tc.lastedMax)
			}
		})
	}
}

// TestSubscriptionsFinishInExpiryOrder: subscriptions waiting for their
// expiries are finished in the order they expire, not the order they were
// made: one of two hours does not hold back one of ten minutes made after
// it.
func TestSubscriptionsFinishInExpiryOrder(t *testing.T) {
	var script strings.Builder
	for i, exp := range []int{3000, 600, 1800, 600} {
		fmt.Fprintf(&script, "%d a>b SUBSCRIBE 1/SUBSCRIBE cid=s%d hdr=Event:_dialog hdr=Expires:_%d\n", i, i+1, exp)
		fmt.Fprintf(&script, "%d.1 b>a 200 1/SUBSCRIBE cid=s%d tt=callee hdr=Expires:_%d\n", i, i+1, exp)
	}
	script.WriteString("tick 1300\ntick 2500\ntick 3700\ntick 3800\n")
	var order []string
	for _, c := range runScript(t, script.String()) {
		if c.Kind == correlate.KindSubscription {
			order = append(order, c.ID+"@"+c.CaptureEnd.Format("15:04:05"))
		}
	}
	want := "s2@00:21:40 s4@00:21:40 s3@00:41:40 s1@01:01:40" // at the first tick 10 minutes past each expiry
	if got := strings.Join(order, " "); got != want {
		t.Errorf("finished %s, want %s", got, want)
	}
}

// TestSubscriptionNotifyBeforeItsRequest: a NOTIFY whose 200 was
// captured first, its request only after a refused refresh: its
// Subscription-State is read where the NOTIFY stands among the
// transactions, when the subscription was still in force, so the
// notifier's timeout is the subscription lapsing (folded again from
// that NOTIFY, with the status before it, not after the refusal).
func TestSubscriptionNotifyBeforeItsRequest(t *testing.T) {
	calls := runScript(t, `
0.0 a>b SUBSCRIBE 1/SUBSCRIBE hdr=Event:_dialog hdr=Expires:_60
0.1 b>a 200 1/SUBSCRIBE tt=callee hdr=Expires:_60
64.0 a>b 200 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1
65.0 a>b SUBSCRIBE 2/SUBSCRIBE tt=callee br=z9hG4bKs2 hdr=Expires:_60
65.1 b>a 481 2/SUBSCRIBE tt=callee br=z9hG4bKs2
70.0 b>a NOTIFY 1/NOTIFY ft=callee tt=caller br=z9hG4bKn1 hdr=Event:_dialog hdr=Subscription-State:_terminated;reason=timeout
tick 200
`)
	c := scriptCall(t, calls, "call-1")
	if c.State != correlate.StateExpired || c.Reason != "timeout" {
		t.Errorf("state %s, reason %q; want expired, timeout (%s)", c.State, c.Reason, describe(c))
	}
}
