package correlate

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sipflow/sipflow/internal/ptime"
)

// Timer values of RFC 3261 §17 with the default T1 of 500 ms.
const (
	timerB = 32 * time.Second  // INVITE client transaction timeout (64·T1)
	timerC = 180 * time.Second // proxy INVITE timeout once a provisional response came
	// graceAfter is how far the capture must go on past a message before
	// the absence of its answer (an ACK, a retry) is a fault rather than the
	// capture simply ending first.
	graceAfter = 4 * time.Second
	// retryWait is how far the capture must go on past a 401 or 407 before
	// the absence of a retry with credentials is a fault (unanswered-
	// challenge, and the call or registration failed) rather than the
	// capture ending first: 64·T1, as for the other answers that never came.
	// Phones that ask their user, or look the password up, were seen to
	// retry 17 s later.
	retryWait = timerB
)

// awaitingRetry reports whether tx, a request without credentials, was
// challenged (401, 407) so shortly before end that its retry with
// credentials may yet have come. One that carried credentials and was
// challenged again has failed (auth-failed): its state waits for nothing.
func awaitingRetry(tx *Transaction, end time.Time) bool {
	return tx.Final != nil && isChallenge(tx.Final.Status) && (tx.Request == nil || !tx.Request.HasAuth) &&
		end.Sub(tx.Final.Time) < retryWait
}

// initialTxs returns the out-of-dialog transactions of method sent by the
// caller (from the address the first such request came from), in order,
// appended to buf[:0]: a caller that gives a small array on its stack
// (usually one or two transactions) allocates nothing. A proxy's copies on
// the next hop come from the proxy and are left out; the caller's own
// attempts to other destinations are not: DNS failover to the next server
// (RFC 3263 §4.3), or a proxy's serial or parallel forks when the capture
// sees only the proxy's side.
func initialTxs(l *Leg, method string, buf []*Transaction) []*Transaction {
	all := buf[:0]
	var hop *Message
	for _, tx := range l.Transactions {
		if tx.Method != method || !tx.Initial {
			continue
		}
		if hop == nil && tx.Request != nil {
			hop = tx.Request
		}
		all = append(all, tx)
	}
	if hop == nil {
		return all
	}
	kept := all[:0]
	for _, tx := range all {
		if tx.Request == nil || tx.Request.Src.Addr() == hop.Src.Addr() {
			kept = append(kept, tx)
		}
	}
	return kept
}

func firstSent(tx *Transaction) time.Time {
	if tx.Request != nil {
		return tx.Request.Time
	}
	if len(tx.Responses) > 0 {
		return tx.Responses[0].Time
	}
	return time.Time{}
}

// lastFinal returns the last transaction that has a final response, or the
// last one when none has.
func lastFinal(txs []*Transaction) *Transaction {
	for i := len(txs) - 1; i >= 0; i-- {
		if txs[i].Final != nil {
			return txs[i]
		}
	}
	if len(txs) > 0 {
		return txs[len(txs)-1]
	}
	return nil
}

// firstRinging returns the first 180 (Ringing) or 183 (Session Progress)
// of tx: where post-dial delay ends. 181 (forwarded) and 182 (queued) say
// the call is on its way, not that the far end is alerting.
func firstRinging(tx *Transaction) *Message {
	for _, r := range tx.Responses {
		if r.Status == 180 || r.Status == 183 {
			return r
		}
	}
	return nil
}

func firstResponse(tx *Transaction, min, max int) *Message {
	for _, r := range tx.Responses {
		if r.Status >= min && r.Status <= max {
			return r
		}
	}
	return nil
}

func reasonOf(m *Message) string {
	if m == nil {
		return ""
	}
	if m.ReasonHeader() != "" {
		return m.ReasonHeader()
	}
	if !m.IsRequest() {
		return m.Reason
	}
	return ""
}

// failureState maps a final failure status to a state.
func failureState(status int) State {
	switch {
	case status == 487:
		return StateCancelled
	case status == 408 || status >= 500 && status < 600 || status == 401 || status == 407:
		return StateFailed
	}
	return StateRejected
}

func computeState(c *Call) {
	c.PDD, c.Answer, c.Duration = -1, -1, -1
	l := c.Legs[0]
	switch c.Kind {
	case KindCall:
		computeCall(c, l)
	case KindRegistration:
		var buf [4]*Transaction
		txs := initialTxs(l, "REGISTER", buf[:])
		computeSimple(c, txs, StateRegistered)
		if last := lastFinal(txs); c.State == StateRegistered && last.Request != nil && last.Request.unregister {
			c.State = StateUnregistered // its last successful REGISTER removed its bindings
		}
	default:
		var txs []*Transaction
		for _, tx := range l.Transactions {
			if tx.Initial && tx.Method != "ACK" && tx.Method != "CANCEL" {
				txs = append(txs, tx)
			}
		}
		computeSimple(c, txs, StateCompleted)
		if c.Kind == KindSubscription && c.State == StateCompleted {
			settleSubscription(c, l)
		}
	}
}

// computeSimple sets the state of a non-INVITE exchange from its last
// transaction with a final response.
func computeSimple(c *Call, txs []*Transaction, ok State) {
	last := lastFinal(txs)
	if n := len(txs); last != nil && last.Final != nil && isChallenge(last.Final.Status) && txs[n-1] != last &&
		txs[n-1].Final == nil && !gaveUp(txs[n-1], c.CaptureEnd, timerB) {
		// Challenged, and the retry with credentials not yet answered
		// when the capture ended.
		c.State = StateInProgress
		return
	}
	switch {
	case last == nil || last.Final == nil:
		c.State = StateUnanswered
		if last != nil && !gaveUp(last, c.CaptureEnd, timerB) {
			c.State = StateInProgress
		}
	case last.Final.Status < 300:
		c.State, c.FinalStatus = ok, last.Final.Status
	case last == txs[len(txs)-1] && awaitingRetry(last, c.CaptureEnd):
		c.State = StateInProgress // challenged as the capture ended
	default:
		st := last.Final.Status
		c.FinalStatus, c.Reason = st, reasonOf(last.Final)
		c.State = StateRejected
		if ok == StateRegistered || st == 408 || st >= 500 && st < 600 {
			c.State = StateFailed
		}
	}
}

func computeCall(c *Call, l *Leg) {
	var buf [4]*Transaction
	invites := initialTxs(l, "INVITE", buf[:])
	if len(invites) == 0 {
		// The INVITE was not captured: a call joined mid-way.
		c.State = StateAnswered
		if bye := endingBye(l); bye != nil {
			c.State = StateCompleted
			c.Reason = reasonOf(bye.Request)
		} else if endedBye(l) {
			c.State = StateCompleted // only the BYE's answer was captured
		} else if cancel := firstCancel(l); cancel != nil && !answered(l) {
			// Cancelled while it rang: the CANCEL (and the 487) but not
			// the INVITE were captured.
			c.State, c.EndedBy = StateCancelled, "caller"
			c.Reason = reasonOf(cancel.Request)
			for _, tx := range l.Transactions {
				if tx.Method == "INVITE" && tx.Final != nil && tx.Final.Status >= 300 {
					c.FinalStatus = tx.Final.Status
				}
			}
		} else if tx := firstTx(l); tx != nil && tx.Method == "INVITE" && tx.Request == nil && tx.Final != nil && tx.Final.Status >= 300 {
			// Joined while it rang: the first thing captured is the
			// answer to an INVITE it missed (a 180, then a 486), and no
			// 2xx came to it. It ended there, unanswered by the callee.
			c.FinalStatus, c.State, c.Reason = tx.Final.Status, failureState(tx.Final.Status), reasonOf(tx.Final)
			if c.State == StateCancelled {
				c.EndedBy = "caller"
			}
		}
		return
	}
	start := firstSent(invites[0])
	var answer, ringing *Message
	var answerTx *Transaction
	for _, tx := range invites {
		if r := firstRinging(tx); r != nil && (ringing == nil || r.Time.Before(ringing.Time)) {
			ringing = r
		}
		if r := firstResponse(tx, 200, 299); r != nil && (answer == nil || r.Time.Before(answer.Time)) {
			answer, answerTx = r, tx
		}
	}
	if ringing != nil {
		c.PDD = ptime.Sub(ringing.Time, start)
	}
	callerTag := ""
	if invites[0].Request != nil {
		callerTag = invites[0].Request.FromTag
	}
	if answer != nil {
		c.Answer = ptime.Sub(answer.Time, start)
		c.FinalStatus = answer.Status
		c.State = StateAnswered
		calledAt(c, answerTx)
		if tx := endingBye(l); tx != nil {
			c.State = StateCompleted
			c.Duration = ptime.Sub(tx.Request.Time, answer.Time)
			c.EndedBy = "callee"
			if tx.Request.FromTag == callerTag {
				c.EndedBy = "caller"
			}
			c.Reason = reasonOf(tx.Request)
		}
		return
	}
	// The latest attempt says where the call stands: a retry with
	// credentials that rings, or is cancelled, is not the 407 before it.
	last := invites[len(invites)-1]
	if last.Final == nil && last.Cancel == nil {
		if bye := earlyBye(l, last); bye != nil {
			// The caller hung up while it rang by a BYE on the early
			// dialog (RFC 3261 §15), not a CANCEL; after a challenge
			// too (the retry with credentials rang).
			c.State, c.EndedBy = StateCancelled, "caller"
			c.Reason = reasonOf(bye.Request)
			return
		}
	}
	if prev := lastFinal(invites); last.Final == nil && last.Cancel == nil && prev != last && prev.Final != nil {
		// A retry after a final response (a challenge, most often) that
		// has had none of its own.
		if !inviteGaveUp(last, c.CaptureEnd) {
			c.State = StateInProgress
			return
		}
		last = prev // the retry went unanswered: the call failed with what came before it
	}
	if last.Cancel != nil {
		c.State, c.EndedBy = StateCancelled, "caller"
		c.Reason = reasonOf(last.Cancel.Request)
		if last.Final != nil {
			c.FinalStatus = last.Final.Status
		}
		return
	}
	if last.Final == nil {
		c.State = StateUnanswered
		if !inviteGaveUp(last, c.CaptureEnd) {
			c.State = StateInProgress
		}
		return
	}
	if last == invites[len(invites)-1] && awaitingRetry(last, c.CaptureEnd) {
		c.State = StateInProgress // challenged as the capture ended
		return
	}
	c.FinalStatus = last.Final.Status
	c.State = failureState(last.Final.Status)
	c.Reason = reasonOf(last.Final)
	calledAt(c, last)
	if c.State == StateCancelled {
		c.EndedBy = "caller"
	}
}

// calledAt makes the destination of tx, the INVITE whose final response
// settled the call, its callee, when the caller sent it somewhere else
// than its first INVITE: the next server after a DNS failover (RFC 3263
// §4.3), the one that answered.
func calledAt(c *Call, tx *Transaction) {
	if r := tx.Request; r != nil && r.Src.Addr() == c.Caller.Addr() && r.Dst != c.Callee {
		c.Callee = r.Dst
	}
}

// firstTx returns the leg's first transaction, or nil.
func firstTx(l *Leg) *Transaction {
	if len(l.Transactions) == 0 {
		return nil
	}
	return l.Transactions[0]
}

// endingBye returns the BYE that ended the call: the last of its
// dialogs' first BYEs (captured requests). A forked call's caller ACKs and
// BYEs the extra 2xx at once (RFC 3261 §13.2.2.4) and the dialog it kept
// later; a dialog's second BYE (both ends hanging up at once, or a BYE
// sent again) does not end it later.
func endingBye(l *Leg) *Transaction {
	var buf [4]*Transaction
	firsts := buf[:0] // the first BYE of each dialog
	for _, tx := range l.Transactions {
		if tx.Method != "BYE" || tx.Request == nil {
			continue
		}
		seen := false
		for _, f := range firsts {
			seen = seen || sameTags(f.Request.FromTag, f.Request.ToTag, tx.Request.FromTag, tx.Request.ToTag)
		}
		if !seen {
			firsts = append(firsts, tx)
		}
	}
	var end *Transaction
	for _, tx := range firsts {
		if end == nil || tx.Request.Time.After(end.Request.Time) {
			end = tx
		}
	}
	return end
}

// earlyBye returns the BYE by which the caller of inv, an INVITE without a
// final response, ended its early dialog: one from the INVITE's From-tag,
// sent after it, to a To-tag a provisional response of it gave.
func earlyBye(l *Leg, inv *Transaction) *Transaction {
	if inv.Request == nil {
		return nil
	}
	for _, tx := range l.Transactions {
		if tx.Method != "BYE" || tx.Request == nil || tx.Request.FromTag != inv.Request.FromTag || tx.Request.Time.Before(inv.Request.Time) {
			continue
		}
		for _, r := range inv.Responses {
			if r.Status < 200 && r.ToTag != "" && r.ToTag == tx.Request.ToTag {
				return tx
			}
		}
	}
	return nil
}

// firstCancel returns the first CANCEL transaction whose request was
// captured.
func firstCancel(l *Leg) *Transaction {
	for _, tx := range l.Transactions {
		if tx.Method == "CANCEL" && tx.Request != nil {
			return tx
		}
	}
	return nil
}

// answered reports whether a 2xx to an INVITE of l was captured.
func answered(l *Leg) bool {
	for _, tx := range l.Transactions {
		if tx.Method == "INVITE" && tx.Final != nil && tx.Final.Status < 300 {
			return true
		}
	}
	return false
}

// endedBye reports whether l has a BYE transaction whose request was
// not captured but whose answer was.
func endedBye(l *Leg) bool {
	for _, tx := range l.Transactions {
		if tx.Method == "BYE" && tx.Final != nil {
			return true
		}
	}
	return false
}

// computeEvents records hold and resume (SDP direction in re-INVITE and
// UPDATE offers; for a re-INVITE without SDP, in its 2xx's offer and its
// ACK's answer), switches to T.38 fax and back (what the answers to them
// accepted), transfers (REFER and the NOTIFY sipfrag outcomes), and keys
// sent by INFO.
func computeEvents(c *Call) {
	var s session
	var keys dtmfKeys
	var fax map[int]bool    // by leg: on T.38 (a B2BUA's legs switch one by one)
	var lastDiverted string // the last diverted event's forwarding (divertedKey)
	faxSwitched := func(m *Message) {
		if e, ok := faxSwitch(c, m, fax[m.Leg]); ok {
			c.Events = append(c.Events, e)
			if fax == nil {
				fax = make(map[int]bool, len(c.Legs))
			}
			fax[m.Leg] = e.Kind == "t38"
		}
	}
	// holdEvent records the hold or resume of party p that m's SDP says,
	// unless it is a B2BUA's copy, on m's leg, of one on another.
	holdEvent := func(m *Message, p holdParty, holds bool, how string) {
		if len(c.Legs) > 1 && s.echoed(c, m, p, holds) {
			return
		}
		l := c.Legs[m.Leg]
		e := Event{N: m.N, Time: m.Time, Kind: "hold", Detail: holdDetail(l, m, p.tag, how)}
		if !holds {
			other := m.ToTag
			if other == p.tag {
				other = m.FromTag
			}
			if e.Kind = "resume"; s.othersHold(p) {
				e.Detail += "; " + partyNamed(l, other, "the other party") + "'s hold stays"
			}
		}
		c.Events = append(c.Events, e)
	}
	for _, m := range c.Messages() {
		if m.Retransmission {
			continue
		}
		if !m.IsRequest() {
			if len(s.offers) > 0 {
				s.answered(m)
			}
			if m.ext == nil {
				continue // no SDP kept: most responses
			}
			l := c.Legs[m.Leg]
			if cond := s.lateOffered(l, m); cond != 0 {
				holdEvent(m, holdParty{m.Leg, m.ToTag}, cond == CondHold, " (a late offer, in the "+m.Label()+" to a re-INVITE without SDP)")
			}
			if q := s.answeredSession(l, m); q != nil {
				// The answerer's hold is off: the resume it answers no
				// longer leaves it on.
				for i := len(c.Events) - 1; i >= 0; i-- {
					if e := &c.Events[i]; e.Kind == "resume" && sameOffer(c.Legs[q.Leg], e.N, q) {
						e.Detail, _, _ = strings.Cut(e.Detail, staysPrefix)
						break
					}
				}
			}
			faxSwitched(m)
			continue
		}
		switch {
		case m.Method == "REFER":
			c.Events = append(c.Events, referEvent(m))
		case m.Method == "NOTIFY" && m.Sipfrag() != "":
			c.Events = append(c.Events, Event{N: m.N, Time: m.Time, Kind: "transfer-result", Detail: m.Sipfrag()})
		case m.ext == nil:
			// Nothing kept (no SDP, no key): no offer to hold or resume.
		case m.Method == "INFO":
			if e, ok := keys.pressed(c, m); ok {
				c.Events = append(c.Events, e)
			}
		case m.Method == "ACK":
			// The answer to a late offer made in a dialog, if any.
			if _, cond := s.lateAnswered(c.Legs[m.Leg], m); cond != 0 {
				holdEvent(m, holdParty{m.Leg, m.FromTag}, cond == CondHold, " (answering the late offer in the ACK)")
			}
			faxSwitched(m)
		default:
			// An INVITE that says it was forwarded, or what it replaces
			// (m.ext is set: they keep theirs there).
			if m.ext.diverted != "" && m.Method == "INVITE" && m.ext.divertedKey != lastDiverted {
				// Once per forwarding: a proxy's relay of the same INVITE,
				// or its retry with credentials, says it again.
				lastDiverted = m.ext.divertedKey
				c.Events = append(c.Events, Event{N: m.N, Time: m.Time, Kind: "diverted", Detail: m.ext.diverted})
			}
			if m.ext.replaces != nil && m.ext.replaces.event {
				c.Events = append(c.Events, replacesEvent(m))
			}
			if cond := s.holdChange(c.Legs[m.Leg], m); cond == CondHold || cond == CondResume {
				holdEvent(m, holdParty{m.Leg, m.FromTag}, cond == CondHold, "")
			}
		}
	}
	for _, l := range c.Legs {
		if l.repl != nil { // almost never: no call to make
			replacedEvents(c)
			break
		}
	}
}

// dtmfKeys follows the keys a call's INFOs carried (computeEvents).
type dtmfKeys struct {
	seen   map[keyHop]bool // the INFOs a dtmf event was made of
	echoes []keyEcho
}

// keyHop is what tells an INFO's relay on another hop of its leg (hopOf):
// its CSeq and From-tag.
type keyHop struct {
	leg int
	cseqKey
}

// keyEcho is a B2BUA's copy of a key to come on leg leg: an INFO with key
// from one of via (where the first went, hop by hop: a proxy may stand
// before the B2BUA; any sender when the leg has no endpoint at any, a
// B2BUA with an address a leg) by until is that copy.
type keyEcho struct {
	leg   int
	key   string
	until time.Time
	via   []netip.Addr
	any   bool
}

// pressed returns the dtmf event of INFO m of call c when it carries a
// key (Message.DTMF): who pressed which key, and how long. A proxy's relay
// of an INFO on another hop (the same CSeq and From-tag), or a B2BUA's
// copy of it on another leg within echoWindow, is none.
func (k *dtmfKeys) pressed(c *Call, m *Message) (Event, bool) {
	key, ms := m.DTMF()
	if key == "" {
		return Event{}, false
	}
	// Only an INFO carries a key: its relays are the INFOs of its leg,
	// CSeq and From-tag (hopOf).
	hop := keyHop{m.Leg, cseqKey{m.CSeq, m.FromTag}}
	if k.seen[hop] {
		return Event{}, false
	}
	if k.seen == nil {
		k.seen = make(map[keyHop]bool)
	}
	k.seen[hop] = true // its relays are none either, copy or not
	k.echoes = slices.DeleteFunc(k.echoes, func(e keyEcho) bool { return m.Time.After(e.until) })
	for i, e := range k.echoes {
		if e.leg == m.Leg && e.key == key && (e.any || slices.Contains(e.via, m.Src.Addr())) {
			k.echoes = slices.Delete(k.echoes, i, i+1)
			return Event{}, false
		}
	}
	via := c.Legs[m.Leg].hopDestinations(m)
	for j, l := range c.Legs {
		if j != m.Leg {
			k.echoes = append(k.echoes, keyEcho{leg: j, key: key, until: m.Time.Add(echoWindow), via: via,
				any: !slices.ContainsFunc(via, l.hasEndpoint)})
		}
	}
	d := "by " + partyNamed(c.Legs[m.Leg], m.FromTag, m.Src.String()) + ": " + key
	if ms > 0 {
		d += " (" + strconv.Itoa(ms) + " ms)"
	}
	return Event{N: m.N, Time: m.Time, Kind: "dtmf", Detail: d}, true
}

// sameOffer reports whether packet n of leg l is a hop of request q (its
// method, CSeq and From-tag): a resume event is its first hop, an answer's
// request the hop it answers.
func sameOffer(l *Leg, n int, q *Message) bool {
	for _, h := range l.Messages {
		if h.N == n {
			return hopOf(h, q)
		}
	}
	return false
}

// staysPrefix starts a resume's detail's note that the other party's hold
// stays on ("; the callee's hold stays"; an SDP summary never holds it).
const staysPrefix = "; the "

// holdDetail says who made hold or resume event m of leg l, the party
// whose tag is tag (the caller or the callee; m's sender's address when
// the leg's INVITE was not captured), and what m's SDP is, then more: "by
// the caller: audio PCMU 192.0.2.1:4000 sendonly".
func holdDetail(l *Leg, m *Message, tag, more string) string {
	return "by " + partyNamed(l, tag, m.Src.String()) + ": " + m.SDP().Summary() + more
}

// partyNamed names the party of leg l whose tag is tag, "the caller" or
// "the callee", or unknown when the leg's INVITE, which says who called,
// was not captured.
func partyNamed(l *Leg, tag, unknown string) string {
	if ct := callerTagOf(l); ct != "" {
		return "the " + party(tag, ct)
	}
	return unknown
}

// faxSwitch returns the event of m, a response or an ACK, when it answers
// an offer made in a dialog (faxAnswer) and switches its leg to T.38 fax
// (it accepts an image/udptl line, RFC 3362), or, with fax (the leg on
// T.38), back from it (it accepts none). A proxy's relay of the same
// answer on another hop switches nothing more.
func faxSwitch(c *Call, m *Message, fax bool) (Event, bool) {
	l := c.Legs[m.Leg]
	q, t38 := faxAnswer(l, m)
	if q == nil || t38 == fax {
		return Event{}, false
	}
	kind, did := "t38", "switched the call to"
	if fax {
		kind, did = "t38-end", "took the call back from"
	}
	how := m.Label()
	if m.Method == "ACK" {
		how = "a late offer: its " + l.lateOfferOf(m).Label() + " offered, the ACK answered"
	}
	return Event{N: m.N, Time: m.Time, Kind: kind, Detail: fmt.Sprintf("the %s's %s %s T.38 fax (%s): %s",
		party(q.FromTag, callerTagOf(l)), inDialogName(q.Method), did, how, m.SDP().Summary())}, true
}

// faxAnswer returns the request response m of leg l answers when m is a
// 2xx with SDP to an offer made in a dialog (a re-INVITE or UPDATE with
// SDP; not an initial INVITE's answer), and whether m accepts a T.38
// line; nil otherwise. When m is an ACK that answers a late offer made in
// a dialog (lateOfferOf: the 2xx to a re-INVITE without SDP offered), it
// returns that re-INVITE, and whether the offer and m have a T.38 line.
// keepLeanSDP keeps exactly these answers' SDP, so calls and flow agree.
func faxAnswer(l *Leg, m *Message) (q *Message, t38 bool) {
	if m.Method == "ACK" {
		o := l.lateOfferOf(m)
		if o == nil || o.SDP() == nil || m.SDP() == nil {
			return nil, false
		}
		return l.lateReINVITE(o), o.SDP().T38() != nil && m.SDP().T38() != nil
	}
	if m.Status < 200 || m.Status >= 300 || m.CSeqMethod != "INVITE" && m.CSeqMethod != "UPDATE" || m.SDP() == nil {
		return nil, false
	}
	if q = l.inDialogOffer(m); q == nil {
		return nil, false
	}
	return q, m.SDP().T38() != nil
}

// onT38 reports whether leg l was on T.38 fax before packet n: the last
// answer to an offer made in a dialog before it accepted a T.38 line.
func onT38(l *Leg, n int) bool {
	fax := false
	for _, m := range l.Messages {
		if m.N >= n {
			break
		}
		if m.ext != nil {
			if q, t38 := faxAnswer(l, m); q != nil {
				fax = t38
			}
		}
	}
	return fax
}
