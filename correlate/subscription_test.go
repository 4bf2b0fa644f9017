package correlate_test

import (
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
			return c.Kind == correlate.KindSubscription && c.NumMessages == 8 && c.State == correlate.StateCompleted
		}, "want one subscription of 8 messages"},
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
`, func(c *correlate.Call) bool { return c.NumMessages == 6 && lasted(c) < 60*time.Second },
			"want 6 messages, finished about 32 s after the terminating NOTIFY"},
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
`, func(c *correlate.Call) bool { return c.NumMessages == 4 && lasted(c) < 80*time.Second },
			"want 4 messages, finished about 32 s after the unsubscribe"},
	})
}
