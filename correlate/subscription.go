package correlate

import (
	"fmt"
	"slices"
	"time"
)

// StateSubscribed and StateExpired are where a subscription (RFC 6665)
// can end up besides the states every request has: still in force when
// its record ended, or over because no refresh came before it expired.
const (
	StateSubscribed State = "subscribed"
	StateExpired    State = "expired"
)

// subscriptionStatus is where a subscription leg's subscription stands
// after its messages so far (subscription).
type subscriptionStatus struct {
	active bool // in force
	// until is when it expires unless refreshed, zero when no message
	// said; setBy is the message that said it (a SUBSCRIBE's 2xx, or a
	// NOTIFY's Subscription-State expires parameter), after seconds.
	until   time.Time
	setBy   *Message
	seconds int
	// ended is the NOTIFY whose Subscription-State terminated it, and
	// reason that NOTIFY's reason parameter.
	ended  *Message
	reason string
	// unsubscribed: the subscriber ended it, a SUBSCRIBE with Expires: 0
	// answered 2xx (RFC 6665 §4.1.2.3).
	unsubscribed bool
	// lapsed: the notifier ended it for a timeout (reason timeout) that
	// came when it expired or later, not after an unsubscribe: some
	// notifiers give that reason when they confirm an unsubscribe too.
	lapsed bool
}

// subscription reads l's subscription (RFC 6665): a SUBSCRIBE answered
// 2xx with an Expires other than 0, or a NOTIFY in the dialog (its
// SUBSCRIBE was not captured), starts or keeps one, until the Expires of
// that 2xx or the expires parameter of the NOTIFY's Subscription-State
// (§4.1.2.1, §4.1.3), whichever came last (in the order of the
// transactions: a NOTIFY may come before the 200 to its SUBSCRIBE, and
// either says about the same); a SUBSCRIBE refused, an
// Expires of 0, or a NOTIFY whose Subscription-State is terminated ends
// it.
//
// It is asked after every message of a subscription leg (place), so it
// folds only the transactions added since it was last asked, and again
// from one it folded that has changed since (subscriptionFold): a
// subscription's thousands of NOTIFYs and refreshes take time linear in
// their number.
func (l *Leg) subscription() subscriptionStatus {
	f := &l.lookups().sub
	if f.from >= 0 && f.from < f.n {
		// A transaction folded has changed: fold again from it, with the
		// status before it.
		i := slices.IndexFunc(f.open, func(p foldPoint) bool { return p.at == f.from })
		for _, p := range f.open[i:] {
			p.tx.unsettled = false // folded again below, open or not
		}
		f.s, f.n, f.open = f.open[i].before, f.from, f.open[:i]
	}
	f.from = -1
	for ; f.n < len(l.Transactions); f.n++ {
		tx := l.Transactions[f.n]
		if tx.Method == "SUBSCRIBE" && (tx.Final == nil || tx.Request == nil) || tx.Method == "NOTIFY" && tx.Request == nil {
			f.open = append(f.open, foldPoint{at: f.n, tx: tx, before: f.s})
			tx.unsettled = true
		}
		f.s.take(tx)
	}
	return f.s
}

// subscriptionFold is where a subscription leg's transactions so far put
// its subscription (subscription): s, after the first n of them. open
// holds those of them whose part may change, each with the status before
// it: a SUBSCRIBE still without its final response or its request (a 2xx
// captured first), a NOTIFY without its request. from is the position
// of the first of those that changed since, from which to fold again (-1
// or past n: none).
type subscriptionFold struct {
	s    subscriptionStatus
	n    int
	open []foldPoint
	from int
}

type foldPoint struct {
	at     int
	tx     *Transaction
	before subscriptionStatus
}

// txChanged notes that tx, a transaction of l, got its request or its
// final response: if subscription folded it while it could change (open),
// it folds again from it when next asked.
func (l *Leg) txChanged(tx *Transaction) {
	if l.long == nil || !tx.unsettled {
		return // never asked (most legs), or not folded while open
	}
	f := &l.long.sub
	for i := len(f.open) - 1; i >= 0; i-- {
		if p := f.open[i]; p.tx == tx {
			if f.from < 0 || p.at < f.from {
				f.from = p.at
			}
			return
		}
	}
}

// take folds tx into s (subscription).
func (s *subscriptionStatus) take(tx *Transaction) {
	expiresAt := func(m *Message, secs int) {
		if secs > 0 { // an active NOTIFY's expires=0 contradicts itself
			s.until, s.setBy, s.seconds = m.Time.Add(time.Duration(secs)*time.Second), m, secs
		}
	}
	switch {
	case tx.Method == "SUBSCRIBE" && tx.Final != nil:
		switch st := tx.Final.Status; {
		case st >= 200 && st < 300:
			exp := tx.Final.Expires()
			if exp < 0 && tx.Request != nil {
				exp = tx.Request.Expires()
			}
			if exp == 0 {
				s.active, s.unsubscribed = false, true
				return
			}
			*s = subscriptionStatus{active: true, until: s.until, setBy: s.setBy, seconds: s.seconds}
			expiresAt(tx.Final, exp)
		case st >= 300: // a challenge too: its retry, on the challenge list, settles it
			s.active = false
		}
	case tx.Method == "NOTIFY" && tx.Request != nil:
		n := tx.Request
		reason, exp := n.subscriptionState()
		if n.endsSubscription() {
			s.lapsed = reason == "timeout" && s.active && // not after an unsubscribe
				(s.until.IsZero() || !n.Time.Before(s.until.Add(-graceAfter)))
			s.active, s.ended, s.reason = false, n, reason
			return
		}
		if s.active || n.ToTag != "" {
			// In force, again if a NOTIFY had ended it: a new
			// subscription whose SUBSCRIBE was not captured.
			s.active, s.ended, s.reason, s.lapsed = true, nil, "", false
		}
		expiresAt(n, exp)
	}
}

// settleSubscription refines the state of a subscription whose last
// transaction succeeded (completed): subscribed when it was still in
// force, expired when it lapsed without a refresh (the notifier said so,
// or its expiry went by graceAfter before the capture or the wait for its
// refresh ended the record), completed when it was ended otherwise (an
// unsubscribe, or a NOTIFY that terminated it, whose reason goes in
// Reason).
func settleSubscription(c *Call, l *Leg) {
	s := l.subscription()
	switch {
	case s.ended != nil:
		if s.lapsed {
			c.State = StateExpired
		}
		if !s.unsubscribed {
			c.Reason = s.reason
		}
	case !s.active:
	case !s.until.IsZero() && c.CaptureEnd.Sub(s.until) >= graceAfter:
		c.State = StateExpired
	default:
		c.State = StateSubscribed
	}
}

// checkSubscriptionExpired: a subscription that lapsed because its
// subscriber did not refresh it before it expired (RFC 6665 §4.1.2.2),
// whether the notifier ended it with a NOTIFY (reason timeout) or nobody
// said anything (settleSubscription).
func checkSubscriptionExpired(c *Call) []Finding {
	if c.Kind != KindSubscription || c.State != StateExpired {
		return nil
	}
	l := c.Legs[0]
	s := l.subscription()
	what := "the subscription"
	for _, m := range l.Messages {
		if e := m.Event(); e != "" {
			what = "the subscription to " + e + " events"
			break
		}
	}
	set := ""
	if m := s.setBy; m != nil {
		label := m.Label()
		if !m.IsRequest() {
			label += " to " + m.CSeqMethod
		}
		set = fmt.Sprintf(", %d s after %s (packet %d)", s.seconds, label, m.N)
	}
	f := Finding{Rule: "subscription-expired", Severity: Warning, RFC: "RFC 6665 §4.1.2.2"}
	if s.lapsed {
		f.Packets = packets(s.ended, s.setBy)
		f.Detail = fmt.Sprintf("the notifier ended %s (NOTIFY, packet %d: terminated, reason timeout): the subscriber did not refresh it before it expired%s",
			what, s.ended.N, set)
		return []Finding{f}
	}
	f.Packets = packets(s.setBy)
	if last := l.Messages[len(l.Messages)-1]; last != s.setBy {
		f.Packets = append(f.Packets, last.N)
	}
	f.Detail = fmt.Sprintf("%s expired%s: neither a refresh nor a NOTIFY ending it was captured, though the capture went on %s past its expiry (a subscriber that wants it kept refreshes it before then)",
		what, set, c.CaptureEnd.Sub(s.until).Round(time.Second))
	return []Finding{f}
}
