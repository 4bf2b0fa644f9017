package correlate

import (
	"fmt"
	"slices"
	"time"
)

// Session timers (RFC 4028): a 2xx to an INVITE or UPDATE that carries
// Session-Expires agrees on an interval and on who refreshes (refresher=uac
// or uas, the client or server of that transaction). The refresher sends a
// re-INVITE or UPDATE before the interval passes, usually at half of it;
// when none succeeds, either side ends the session with a BYE shortly
// before it would expire (§10). Calls that drop after 15 or 30 minutes,
// on the dot, are this.

// sessionSlack is how late a refresh may be and still be taken as on time,
// and how early a BYE may be and still be the expiry's.
const sessionSlack = 2 * time.Second

// sessionByeLate is how long after the expiry a BYE still counts as the
// one the expiry made: a stack checks its timers every few seconds.
const sessionByeLate = 10 * time.Second

// sessionRefresh is one refresh of a leg's session: a 2xx to a re-INVITE
// or UPDATE (or to the initial INVITE). A refresh relayed by a proxy is
// seen once a hop; the last hop's, a few milliseconds later, is the next
// refresh, in time.
type sessionRefresh struct {
	tx        *Transaction  // the transaction whose 2xx it is
	at        time.Time     // when the 2xx came
	interval  time.Duration // its Session-Expires; 0: no session timer from here on (RFC 4028 §7.2)
	refresher byte          // its refresher: 'c' uac, 's' uas, 0 not named
}

func checkSessionExpired(c *Call) []Finding {
	if c.Kind != KindCall {
		return nil
	}
	var fs []Finding
	for _, l := range c.Legs {
		if !l.timer {
			continue // most calls: no session timer, nothing to look at
		}
		if f, ok := sessionExpired(c, l); ok {
			fs = append(fs, f)
		}
	}
	return fs
}

// sessionRefreshes returns the refreshes of l's session in time order,
// appended to buf[:0]. (Transactions are in the order they began: their
// answers may not be.)
func sessionRefreshes(l *Leg, buf []sessionRefresh) []sessionRefresh {
	refs := buf[:0]
	for _, tx := range l.Transactions {
		if tx.Method != "INVITE" && tx.Method != "UPDATE" || tx.Final == nil || tx.Final.Status < 200 || tx.Final.Status >= 300 {
			continue
		}
		f := tx.Final
		refs = append(refs, sessionRefresh{tx: tx, at: f.Time, interval: time.Duration(f.sessionExpires) * time.Second, refresher: f.refresher})
	}
	slices.SortStableFunc(refs, func(a, b sessionRefresh) int { return a.at.Compare(b.at) })
	return refs
}

// sessionExpired looks for the first time l's session timer ran out: an
// interval agreed by a 2xx passed with no refresh answered 2xx. It is an
// error when a BYE came at the expiry (the call was dropped for it), a
// warning when the call went on (neither side enforces the timer, or a
// refresh came late); nothing when the call ended, or the capture did,
// before the interval passed.
func sessionExpired(c *Call, l *Leg) (Finding, bool) {
	var buf [4]sessionRefresh
	refs := sessionRefreshes(l, buf[:])
	var bye *Message
	if tx := endingBye(l); tx != nil {
		bye = tx.Request
	}
	for i, r := range refs {
		if r.interval <= 0 {
			continue // no timer from this refresh on (§7.2)
		}
		deadline := r.at.Add(r.interval)
		var next *sessionRefresh
		if i+1 < len(refs) {
			if next = &refs[i+1]; !next.at.After(deadline.Add(sessionSlack)) {
				continue // refreshed in time
			}
		}
		early := min(32*time.Second, r.interval/3) // §10: the BYE comes this long before the expiry
		end := bye
		if end != nil && (!end.Time.After(r.at) || next != nil && next.at.Before(end.Time)) {
			end = nil // not this interval's
		}
		switch {
		case end != nil && end.Time.Before(deadline.Add(-early-sessionSlack)):
			// Ended before the session could expire: by the user, or by
			// the refresher when its refresh failed for good (§10).
			if a := droppingRefresh(l, r.at, end); a != nil {
				outcome := "had no answer"
				if a.Final != nil {
					outcome = "was answered " + a.Final.Label()
				}
				return Finding{Rule: "session-expired", Severity: Error, Packets: packets(end, a.Request), RFC: "RFC 4028 §10",
					Detail: fmt.Sprintf("the session refresh failed: the %s at packet %d %s, and the %s ended the call with BYE (packet %d) %.1f s later",
						refreshName(a), a.Request.N, outcome, party(end.FromTag, callerTagOf(l)), end.N, end.Time.Sub(a.Request.Time).Seconds())}, true
			}
			return Finding{}, false
		case end == nil && next == nil && c.CaptureEnd.Before(deadline.Add(sessionSlack)):
			return Finding{}, false // the capture ended first
		}
		return sessionFinding(c, l, r, deadline, early, end, next), true
	}
	return Finding{}, false
}

// sessionFinding describes the expiry of interval r (at deadline): end is
// the BYE that followed it, next the refresh that came late (either nil).
func sessionFinding(c *Call, l *Leg, r sessionRefresh, deadline time.Time, early time.Duration, end *Message, next *sessionRefresh) Finding {
	const rfc = "RFC 4028 §10"
	secs := int(r.interval / time.Second)
	what := fmt.Sprintf("the %d s session interval (Session-Expires, packet %d) passed", secs, r.tx.Final.N)
	callerTag := callerTagOf(l)
	who := "with no refresh from either side (the 2xx named no refresher)"
	if r.refresher != 0 {
		var tag string
		var addr string
		if r.refresher == 'c' {
			tag, addr = r.tx.fromTag, r.tx.Final.Dst.String()
			if r.tx.Request != nil {
				addr = r.tx.Request.Src.String()
			}
		} else {
			tag, addr = r.tx.Final.ToTag, r.tx.Final.Src.String()
		}
		who = fmt.Sprintf("with no refresh from the refresher, the %s (%s)", party(tag, callerTag), addr)
	}
	if a := failedRefresh(l, r.at, deadline); a != nil {
		outcome := "had no answer"
		if a.Final != nil {
			outcome = "was answered " + a.Final.Label()
		}
		who = fmt.Sprintf("with no refresh that succeeded: the %s at packet %d %s", refreshName(a), a.Request.N, outcome)
	}
	switch {
	case end != nil && !end.Time.After(deadline.Add(sessionByeLate)) && !end.Time.Before(deadline.Add(-early-sessionSlack)):
		return Finding{Rule: "session-expired", Severity: Error, Packets: packets(end, r.tx.Final), RFC: rfc,
			Detail: fmt.Sprintf("the session expired: %s %s, and the %s ended the call with BYE (packet %d) %.1f s after the last refresh",
				what, who, party(end.FromTag, callerTag), end.N, end.Time.Sub(r.at).Seconds())}
	case end != nil:
		return Finding{Rule: "session-expired", Severity: Warning, Packets: packets(r.tx.Final, end), RFC: rfc,
			Detail: fmt.Sprintf("%s %s, and neither side ended the call then: its BYE (packet %d) came %.0f s after the expiry",
				what, who, end.N, end.Time.Sub(deadline).Seconds())}
	case next != nil:
		return Finding{Rule: "session-expired", Severity: Warning, Packets: packets(r.tx.Final, next.tx.Final), RFC: rfc,
			Detail: fmt.Sprintf("%s %s; the next refresh (packet %d) came %.0f s after the expiry, and the call went on",
				what, who, next.tx.Final.N, next.at.Sub(deadline).Seconds())}
	}
	return Finding{Rule: "session-expired", Severity: Warning, Packets: packets(r.tx.Final), RFC: rfc,
		Detail: fmt.Sprintf("%s %s; no BYE followed: the call was still up %.0f s after the expiry", what, who, c.CaptureEnd.Sub(deadline).Seconds())}
}

// failedRefresh returns the first refresh l tried between from and
// deadline that did not succeed (a re-INVITE or UPDATE in the dialog,
// answered with a failure or not at all), or nil.
func failedRefresh(l *Leg, from, deadline time.Time) *Transaction {
	for _, tx := range l.Transactions {
		if !tx.modifiesSession() || tx.Request == nil {
			continue
		}
		if t := tx.Request.Time; t.After(from) && !t.After(deadline) && (tx.Final == nil || tx.Final.Status >= 300) {
			return tx
		}
	}
	return nil
}

// droppingRefresh returns the refresh that made end, a BYE: a re-INVITE or
// UPDATE sent after from by the side that then sent the BYE, which timed
// out or was answered 408 or 481 (RFC 4028 §10: the session is over), with
// the BYE at most 64·T1 after it was sent. nil when there is none.
func droppingRefresh(l *Leg, from time.Time, end *Message) *Transaction {
	for _, tx := range l.Transactions {
		if !tx.modifiesSession() || tx.Request == nil || tx.fromTag != end.FromTag {
			continue
		}
		t := tx.Request.Time
		if !t.After(from) || t.After(end.Time) || end.Time.Sub(t) > 32*time.Second+sessionSlack {
			continue
		}
		if tx.Final == nil || tx.Final.Status == 408 || tx.Final.Status == 481 {
			return tx
		}
	}
	return nil
}

// modifiesSession reports whether tx changes or refreshes an established
// session in its dialog: a re-INVITE or an UPDATE (RFC 3311: early media,
// preconditions, session refreshes).
func (tx *Transaction) modifiesSession() bool {
	return tx.Method == "UPDATE" || tx.Method == "INVITE" && !tx.Initial
}

// refreshName names tx, one that modifiesSession: re-INVITE or UPDATE.
func refreshName(tx *Transaction) string { return inDialogName(tx.Method) }

// inDialogName names an in-dialog request by its method: re-INVITE, or
// the method itself (UPDATE).
func inDialogName(method string) string {
	if method == "INVITE" {
		return "re-INVITE"
	}
	return method
}

// callerTagOf is the From-tag of l's first INVITE: the caller's tag ("" when
// no INVITE was captured).
func callerTagOf(l *Leg) string {
	for _, tx := range l.Transactions {
		if tx.Method == "INVITE" && tx.Initial {
			return tx.fromTag
		}
	}
	return ""
}

// party names the side whose tag is tag: caller or callee ("party" when
// the INVITE, which says which is which, was not captured).
func party(tag, callerTag string) string {
	switch {
	case callerTag == "":
		return "party"
	case tag == callerTag:
		return "caller"
	}
	return "callee"
}
