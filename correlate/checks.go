package correlate

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sipflow/sipflow/decode"
)

// Severity ranks findings.
type Severity int

// Severities, in increasing order.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "unknown"
}

// ParseSeverity parses "info", "warning" or "error".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "info":
		return Info, nil
	case "warning", "warn":
		return Warning, nil
	case "error":
		return Error, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning or error)", s)
}

// Finding is something wrong with a call, found by one of the checks.
type Finding struct {
	Rule     string
	Severity Severity
	CallID   string
	Packets  []int  // packet numbers it concerns, first the one to look at
	Detail   string // one line for a support engineer
	RFC      string // the section that says what should have happened
}

// Rules lists every check with its severity and what it means, for help text.
var Rules = []struct {
	ID, Severity, Meaning string
}{
	{"missing-ack", "error", "a 2xx to INVITE was never ACKed (the callee retransmits it, then drops the call)"},
	{"missing-ack-non2xx", "warning", "a failure response to INVITE was retransmitted because no ACK came"},
	{"missing-prack", "warning/error", "a reliable provisional response (100rel, RFC 3262) was sent again and again because no PRACK came (error when the INVITE then failed with a 5xx)"},
	{"unanswered-invite", "error", "an INVITE got no final response (retransmitted, then abandoned; warning when the caller then tried another server that answered)"},
	{"unanswered-challenge", "warning", "a 401/407 challenge was never answered with credentials (a stray 401)"},
	{"auth-failed", "error", "credentials were sent and challenged or refused again (wrong password, stale nonce loop)"},
	{"retransmissions", "warning", "requests or responses were sent more than once (loss, or an unreachable peer)"},
	{"no-bye-response", "warning", "a BYE was never answered"},
	{"unanswered-request", "warning", "a non-INVITE request (REGISTER, OPTIONS, ...) was never answered"},
	{"call-failed", "warning/error", "the INVITE was finally rejected (4xx warning; 5xx, 6xx error; not 401/407/487)"},
	{"reinvite-failed", "warning", "a re-INVITE or UPDATE (hold, resume, an offer of T.38 fax, media change, refresh) was rejected (a 491 only when it was not sent again)"},
	{"reinvite-glare", "info", "a re-INVITE or UPDATE met one from the other side (491 Request Pending) and was sent again, or the capture ended first"},
	{"session-expired", "warning/error", "a session timer (RFC 4028) ran out with no refresh that succeeded (error when a BYE ended the call then, warning when it went on)"},
	{"transfer-failed", "warning", "a REFER was rejected, or the transferred call failed (NOTIFY sipfrag)"},
	{"fork-not-ended", "warning", "a forked call's extra dialog was answered but never ended with a BYE (its callee may think the call is still up)"},
	{"replaced-not-ended", "warning", "a call replaced by another (an INVITE with Replaces answered 2xx: an attended transfer, a pickup) was never ended: an answered one with a BYE (a ghost call, its media and billing still running), a ringing one with a CANCEL (the phone rings on)"},
	{"not-ended", "info", "an answered call had no BYE before the capture ended (or before a timeout finished it)"},
	{"invite-not-captured", "info", "the call's INVITE is not in the capture: it began before the capture, or its packet was lost"},
	{"register-failed", "error", "a REGISTER was finally rejected"},
	{"missing-sdp-answer", "warning/error", "an SDP offer got no answer where one had to come (the 2xx to an INVITE or UPDATE with SDP, the ACK to a 2xx that made the offer, the PRACK to a reliable provisional one): no media was agreed (warning when an unreliable 183 carried SDP the caller may have used)"},
	{"missing-sdp-offer", "warning/error", "an INVITE without SDP got a 2xx without SDP (and no reliable provisional response offered): the 2xx had to make the offer, so the call was set up with no media agreed (warning for a re-INVITE: the session keeps its media)"},
	{"sdp-answer-mismatch", "warning/error", "an SDP answer does not fit its offer: another number of m= lines, or a stream accepted with no format in common or an address of the other family, IPv4 or IPv6 (error), or taken up after the offer removed it (warning)"},
	{"subscription-expired", "warning", "a subscription (SUBSCRIBE, RFC 6665) lapsed: not refreshed before it expired (the notifier said so, reason timeout, or nothing was seen after its expiry)"},
	{"one-way-audio", "error", "RTP flowed one way only, or one direction stopped while the call was up (silent over 3 s, and over twice its own longest pause before)"},
	{"no-rtp", "error", "an answered call with agreed SDP carried no RTP at all (info when the capture has no RTP anywhere, or every packet involved a host the media does not pass)"},
	{"rtp-loss", "warning/error", "an RTP stream lost more than 1% of its packets (error above 5%)"},
	{"rtp-jitter", "warning", "an RTP stream's jitter went above 30 ms"},
	{"media-address-mismatch", "warning", "RTP came from another address than its SDP announced (NAT, a media relay)"},
	{"no-udptl", "error", "T.38 fax was agreed (m=image udptl), but no UDPTL flowed in either direction while the call stayed on it"},
	{"one-way-fax", "error", "T.38 UDPTL flowed one way only: the other side never heard the fax machine it was talking to"},
	{"fax-loss", "warning/error", "T.38 UDPTL packets were lost beyond what the redundancy of later packets carried again (error above 5%)"},
	{"fax-failed", "warning/error", "the T.30 frames show a fax that did not get through: the sender started (DCS) but no page was confirmed (MCF): training failed (FTT), a page refused (RTN), an interrupt (PIN); or a disconnect after DIS with no DCS (warning when only the last page went unconfirmed, or when UDPTL went unread, so a frame may be missing)"},
	{"codec-mismatch", "warning/error", "RTP carried a payload type its receiver's SDP did not list (warning for events or a second codec, error for its audio)"},
}

type check func(c *Call) []Finding

var checks = []check{
	checkMissingACK, checkMissingACKNon2xx, checkUnansweredInvite, checkUnansweredChallenge, checkAuthFailed,
	checkRetransmissions, checkNoByeResponse, checkUnansweredRequest, checkCallFailed, checkReinviteFailed,
	checkSessionExpired, checkTransferFailed, checkForkNotEnded, checkNotEnded, checkInviteNotCaptured, checkRegisterFailed,
	checkSubscriptionExpired, checkMissingPRACK, checkOfferAnswer,
}

// runChecks runs every signalling check on a finished call.
func runChecks(c *Call) []Finding {
	var fs []Finding
	for _, chk := range checks {
		// Most checks find nothing: appending nothing still copies (a
		// call into the runtime per check, per call).
		if f := chk(c); len(f) > 0 {
			fs = append(fs, f...)
		}
	}
	return fs
}

// sortFindings orders findings worst first, then by packet.
func sortFindings(fs []Finding) {
	if len(fs) < 2 { // most calls: SliceStable would still build its swapper
		return
	}
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Severity != fs[j].Severity {
			return fs[i].Severity > fs[j].Severity
		}
		return firstPacket(fs[i]) < firstPacket(fs[j])
	})
}

func firstPacket(f Finding) int {
	if len(f.Packets) == 0 {
		return 0
	}
	return f.Packets[0]
}

// eachTx calls fn for every transaction of every leg.
func eachTx(c *Call, fn func(*Transaction)) {
	for _, l := range c.Legs {
		for _, tx := range l.Transactions {
			fn(tx)
		}
	}
}

// resent returns the retransmissions of response r in its transaction.
func resent(tx *Transaction, r *Message) []*Message {
	var out []*Message
	for _, x := range tx.Responses {
		if x != r && x.Retransmission && x.Status == r.Status && x.ToTag == r.ToTag && sameHop(x, r) {
			out = append(out, x)
		}
	}
	return out
}

func packets(ms ...*Message) []int {
	ns := make([]int, 0, len(ms))
	for _, m := range ms {
		if m != nil {
			ns = append(ns, m.N)
		}
	}
	return ns
}

// acked reports whether the leg holds an ACK for 2xx response r: same CSeq
// and To-tag, after it, sent back by the side that received the 2xx or to
// the side that sent it. A proxy that does not Record-Route relays the
// 2xx but not the ACK, which goes from the caller straight to the callee
// (RFC 3261 §13.2.2.4: the ACK follows the route set, not the Vias).
// "After" is in capture order or in time: two capture queues can stamp an
// ACK a millisecond before the 2xx it answers.
//
// An ACK is looked for among the ACK transactions first, then among all
// the leg's messages: one seen on two hops with the same Via (an element
// that relays it without a Via of its own, a NAT between two capture
// points) belongs to the transaction of the hop where it was seen first.
//
// An ACK the callee never got is no ACK: see ackFor.
func acked(l *Leg, r *Message) bool {
	for _, tx := range l.Transactions {
		if slices.Contains(tx.Responses, r) {
			a, lost := ackFor(l, tx, r)
			return a != nil && lost == nil
		}
	}
	return false
}

// ackFor returns the leg's first ACK for 2xx r of transaction tx (acks),
// nil when there is none, and, when the callee went on retransmitting r
// after it, those retransmissions (ackLost). The first ACK is an ACK
// transaction's first request, or else one among all the leg's messages
// (acked).
func ackFor(l *Leg, tx *Transaction, r *Message) (a *Message, lost []*Message) {
	txs, all := l.Transactions, l.Messages
	if ix := l.index(); ix != nil {
		k := cseqKey{r.CSeq, r.ToTag}
		for _, m := range ix.ackTx[k] {
			if acks(m, r) {
				a = m
				break
			}
		}
		txs, all = nil, ix.acks[k]
	}
	for _, t := range txs {
		if t.Method == "ACK" && t.Request != nil && acks(t.Request, r) {
			a = t.Request
			break
		}
	}
	for i := 0; a == nil && i < len(all); i++ {
		if m := all[i]; m.Method == "ACK" && acks(m, r) {
			a = m
		}
	}
	if a == nil || tx.Responses[len(tx.Responses)-1] == r {
		return a, nil // the usual call: nothing after the 2xx, so no retransmission of it
	}
	return a, ackLost(a, resent(tx, r))
}

// lostACKAfter is how many times a callee must retransmit its 2xx after the
// caller's first ACK for that ACK to count as lost. One retransmission can
// cross the ACK in flight, and one ACK lost on the way is answered by the
// next retransmission and the ACK it brings; three in a row, 0.5 + 1 + 2 s
// after it, say the ACKs do not reach the callee.
const lostACKAfter = 3

// ackLost returns those of again, the retransmissions of a 2xx on its own
// hop (resent), that came after its first ACK a, when there are
// lostACKAfter of them: the callee went on waiting for an ACK that the
// caller sent (RFC 3261 §13.3.1.4), because the ACK went elsewhere (to a
// Contact that does not reach the callee, as behind NAT) or was lost or
// not matched on the way.
func ackLost(a *Message, again []*Message) []*Message {
	var after []*Message
	for _, x := range again {
		if x.N > a.N {
			after = append(after, x)
		}
	}
	if len(after) < lostACKAfter {
		return nil
	}
	return after
}

// acks reports whether the ACK a answers the 2xx r (acked).
func acks(a, r *Message) bool {
	return a.CSeq == r.CSeq && a.ToTag == r.ToTag && (a.Src.Addr() == r.Dst.Addr() || a.Dst.Addr() == r.Src.Addr()) &&
		(a.N > r.N || !a.Time.Before(r.Time))
}

func checkMissingACK(c *Call) []Finding {
	var fs []Finding
	for _, l := range c.Legs {
		for _, tx := range l.Transactions {
			if tx.Method != "INVITE" {
				continue
			}
			for _, r := range tx.Responses {
				if r.Status < 200 || r.Status >= 300 || r.Retransmission {
					continue
				}
				if a, after := ackFor(l, tx, r); a != nil {
					if after != nil {
						fs = append(fs, Finding{Rule: "missing-ack", Severity: Error, Packets: packets(append([]*Message{r, a}, after...)...),
							Detail: lostACKDetail(l, r, a, len(after)), RFC: "RFC 3261 §13.3.1.4"})
					}
					continue
				}
				again := resent(tx, r)
				if len(again) == 0 && c.CaptureEnd.Sub(r.Time) < graceAfter {
					continue // the capture ended before an ACK was due
				}
				if len(again) == 0 && relayedPastCapture(l, r) {
					continue // its ACK went past the capture
				}
				detail := fmt.Sprintf("%s to INVITE (packet %d) was never ACKed", r.Label(), r.N)
				if len(again) > 0 {
					detail += fmt.Sprintf("; the callee retransmitted it %d times", len(again))
				}
				detail += ": the callee drops the call after 32 s (64*T1)"
				fs = append(fs, Finding{Rule: "missing-ack", Severity: Error, Packets: packets(append([]*Message{r}, again...)...),
					Detail: detail, RFC: "RFC 3261 §13.3.1.4"})
			}
		}
	}
	return fs
}

// lostACKDetail explains a missing-ack whose ACK the capture holds, and
// where the ACK went when that is not where the 2xx came from
// (wentElsewhere).
func lostACKDetail(l *Leg, r, a *Message, after int) string {
	detail := fmt.Sprintf("%s to INVITE (packet %d) was ACKed (packet %d), but the callee retransmitted it %d more times: the ACK did not reach it",
		r.Label(), r.N, a.N, after)
	if elsewhere(l, a, r) {
		detail += wentElsewhere("ACK", a.Dst, "the 2xx", r.Src, routed(l), "the 2xx's Contact")
	}
	return detail + "; the callee drops the call after 32 s (64*T1)"
}

// routed reports whether the leg's dialog has a route set: a 2xx to its
// INVITE carried Record-Route (RFC 3261 §12.1.2; a re-INVITE's 2xx need
// not repeat it).
func routed(l *Leg) bool {
	for _, m := range l.Messages {
		if m.recordRoute {
			return true
		}
	}
	return false
}

// elsewhere reports whether in-dialog request q of leg l did not go
// where its peer's message m came from: to another address or, when both
// went over UDP, to another port of it. Over TCP or WebSocket a peer's
// messages come from its connection's port, which says nothing of the
// port it listens on; and two ports of one address that talked to each
// other in the leg are two SIP entities on one host (a proxy and the
// server behind it), where another port is no fault.
func elsewhere(l *Leg, q, m *Message) bool {
	to, from := q.Dst, m.Src
	if to.Addr() != from.Addr() {
		return true
	}
	if q.Transport != decode.UDP || m.Transport != decode.UDP || to.Port() == from.Port() {
		return false
	}
	for _, x := range l.Messages {
		if x.Src == to && x.Dst == from || x.Src == from && x.Dst == to {
			return false
		}
	}
	return true
}

// wentElsewhere explains an in-dialog request (an ACK to a 2xx, a BYE)
// sent to to while what it answers or ends came from from. With no route
// set it went to the remote target, contact (RFC 3261 §12.2.1.1); a
// private address there (RFC 1918, RFC 6598's shared space, IPv6 unique
// local) when the peer's packets came from a public one is the mark of a
// phone behind NAT that wrote its own address in Contact. With one it
// should have gone to the route set's first proxy, which sipflow does not
// read: the fact is said, and no guess.
func wentElsewhere(req string, to netip.AddrPort, what string, from netip.AddrPort, routed bool, contact string) string {
	detail := fmt.Sprintf("; the %s went to %s while %s came from %s", req, to, what, from)
	if routed {
		return detail + " (the dialog has a Record-Route: it goes to the route's first proxy)"
	}
	detail += fmt.Sprintf(" (with no Record-Route, the %s goes to %s)", req, contact)
	switch t, f := to.Addr(), from.Addr(); {
	case t == f:
		// Only the port differs (elsewhere: over UDP).
		detail += ": the same host at another port, as when a NAT maps the port the peer sends from while its Contact names the one it listens on behind the NAT, or a peer that sends from one port and listens on another"
	case private(t) && !private(f):
		detail += ": a private address, a phone behind NAT that wrote its own address in Contact"
	case t.IsLinkLocalUnicast() && !f.IsLinkLocalUnicast():
		// RFC 3927, RFC 4291 §2.5.6: an address no router forwards.
		detail += ": a link-local address, which nothing beyond its own link reaches (a phone that wrote a self-assigned address in Contact)"
	}
	return detail
}

// byeElsewhere explains an unanswered BYE sent to an address from which
// its sender received nothing of the peer (the side whose tag is the
// BYE's To-tag: its requests, and its responses to the sender): where the
// peer's messages came from instead, the last of them (wentElsewhere). ""
// when the BYE went where the peer's messages came from, or its sender
// received none.
func byeElsewhere(l *Leg, bye *Message) string {
	var from *Message
	callerTag := ""
	for _, m := range l.Messages {
		if m.Method == "INVITE" && m.ToTag == "" {
			callerTag = m.FromTag
		}
		byPeer := m.IsRequest() && m.FromTag == bye.ToTag || !m.IsRequest() && m.ToTag == bye.ToTag
		if m.Dst.Addr() != bye.Src.Addr() || !byPeer {
			continue
		}
		if !elsewhere(l, bye, m) {
			return ""
		}
		from = m
	}
	if from == nil {
		return ""
	}
	peer := "callee"
	switch {
	case callerTag == "": // the INVITE was not captured
		peer = "far end"
	case bye.FromTag != callerTag:
		peer = "caller"
	}
	return wentElsewhere("BYE", bye.Dst, "the "+peer+"'s messages", from.Src, routed(l), "the "+peer+"'s Contact")
}

// private reports whether addr is one NAT hides: RFC 1918 and IPv6 unique
// local (netip's IsPrivate), or RFC 6598's shared space (100.64.0.0/10,
// carrier-grade NAT).
func private(addr netip.Addr) bool {
	addr = addr.Unmap()
	if addr.IsPrivate() {
		return true
	}
	if addr.Is4() {
		b := addr.As4()
		return b[0] == 100 && b[1]&0xc0 == 64
	}
	return false
}

// relayedPastCapture reports whether 2xx r was relayed, as the capture
// saw, by a proxy that does not Record-Route (RFC 3261 §16.6): the same
// 2xx on the next hop, into or out of the relaying proxy, and neither
// with Record-Route. Its ACK goes from the caller to the callee
// directly, past a capture taken at the proxy, so that no ACK in the
// capture is no missing ACK; a callee that retransmits its 2xx still is.
func relayedPastCapture(l *Leg, r *Message) bool {
	if r.recordRoute {
		return false
	}
	for _, x := range l.Messages {
		if x != r && x.Status >= 200 && x.Status < 300 && x.CSeqMethod == "INVITE" && x.CSeq == r.CSeq && x.ToTag == r.ToTag &&
			!x.recordRoute && (x.Dst.Addr() == r.Src.Addr() || r.Dst.Addr() == x.Src.Addr()) {
			return true
		}
	}
	return false
}

func checkMissingACKNon2xx(c *Call) []Finding {
	var fs []Finding
	eachTx(c, func(tx *Transaction) {
		if tx.Method != "INVITE" || tx.Final == nil || tx.Final.Status < 300 || tx.ACK != nil {
			return
		}
		again := resent(tx, tx.Final)
		if len(again) == 0 {
			return
		}
		fs = append(fs, Finding{Rule: "missing-ack-non2xx", Severity: Warning, Packets: packets(append([]*Message{tx.Final}, again...)...),
			Detail: fmt.Sprintf("%s to INVITE was retransmitted %d times because no ACK came", tx.Final.Label(), len(again)),
			RFC:    "RFC 3261 §17.1.1.3"})
	})
	return fs
}

// gaveUp reports whether a request with no final response was abandoned:
// the capture went on past the transaction timeout, or the sender's
// retransmissions stopped (silence longer than twice the last interval).
func gaveUp(tx *Transaction, end time.Time, timeout time.Duration) bool {
	if tx.Request == nil {
		return false
	}
	if end.Sub(tx.Request.Time) >= timeout {
		return true
	}
	n := len(tx.Requests)
	if n < 3 || tx.Method == "INVITE" && firstResponse(tx, 100, 199) != nil {
		// A provisional response stops an INVITE's retransmissions (timer
		// A, RFC 3261 §17.1.1.2): their end says nothing then.
		return false
	}
	lastGap := tx.Requests[n-1].Time.Sub(tx.Requests[n-2].Time)
	return end.Sub(tx.Requests[n-1].Time) > 2*lastGap
}

// inviteGaveUp is gaveUp for an INVITE: its timeout is timer B, or timer
// C once a provisional response other than 100 came.
func inviteGaveUp(tx *Transaction, end time.Time) bool {
	timeout := timerB
	if firstResponse(tx, 101, 199) != nil {
		timeout = timerC
	}
	return gaveUp(tx, end, timeout)
}

func checkUnansweredInvite(c *Call) []Finding {
	var fs []Finding
	var fo failovers
	indexed := false
	eachTx(c, func(tx *Transaction) {
		if tx.Method != "INVITE" || tx.Final != nil || tx.Cancel != nil || tx.Request == nil {
			return
		}
		if !indexed {
			fo.index(c) // once a call, and only for one with an INVITE unanswered
			indexed = true
		}
		next := fo.after(tx)
		if next == nil && !inviteGaveUp(tx, c.CaptureEnd) {
			return // the capture may have ended before the caller gave up: nothing to conclude
		}
		detail := fmt.Sprintf("INVITE to %s got no final response", tx.Request.Dst)
		if len(tx.Requests) > 1 {
			detail += fmt.Sprintf(" after %d transmissions", len(tx.Requests))
		}
		if len(tx.Responses) == 0 {
			detail += "; nothing came back at all (peer down or unreachable?)"
		}
		sev, rfc := Error, "RFC 3261 §17.1.1.2"
		if next != nil {
			// The caller tried the next server, which answered: the call
			// went on, the server that did not answer is worth knowing.
			sev, rfc = Warning, "RFC 3263 §4.3"
			detail += fmt.Sprintf("; the caller then sent it to %s (packet %d), which answered %s", next.Request.Dst, next.Request.N, next.Final.Label())
		}
		fs = append(fs, Finding{Rule: "unanswered-invite", Severity: sev, Packets: packets(tx.Requests...),
			Detail: detail, RFC: rfc})
	})
	return fs
}

func isChallenge(status int) bool { return status == 401 || status == 407 }

func checkUnansweredChallenge(c *Call) []Finding {
	var fs []Finding
	for _, l := range c.Legs {
		for i, tx := range l.Transactions {
			if tx.Final == nil || !isChallenge(tx.Final.Status) || tx.Method == "ACK" || tx.Method == "CANCEL" {
				continue
			}
			retried := false
			for _, later := range l.Transactions[i+1:] {
				if later.Method == tx.Method && later.Request != nil && later.Request.HasAuth {
					retried = true
					break
				}
			}
			// A request with credentials challenged again: they were refused
			// (auth-failed), or its nonce was stale and the retry comes at once.
			wait := retryWait
			if tx.Request != nil && tx.Request.HasAuth {
				wait = graceAfter
			}
			if retried || c.CaptureEnd.Sub(tx.Final.Time) < wait {
				continue
			}
			fs = append(fs, Finding{Rule: "unanswered-challenge", Severity: Warning, Packets: packets(tx.Final),
				Detail: fmt.Sprintf("%s challenged %s with %s and no retry with credentials followed", tx.Final.Src.Addr(), tx.Method, tx.Final.Label()),
				RFC:    "RFC 3261 §22.2"})
		}
	}
	return fs
}

func checkAuthFailed(c *Call) []Finding {
	var fs []Finding
	for _, l := range c.Legs {
		var failed []*Message
		var method string
		for i, tx := range l.Transactions {
			if tx.Request == nil || !tx.Request.HasAuth || tx.Final == nil {
				continue
			}
			st := tx.Final.Status
			if !isChallenge(st) && st != 403 {
				continue
			}
			ok := false
			for _, later := range l.Transactions[i+1:] {
				if later.Method == tx.Method && later.Final != nil && later.Final.Status < 300 {
					ok = true
					break
				}
			}
			if !ok {
				failed = append(failed, tx.Final)
				method = tx.Method
			}
		}
		if len(failed) > 0 {
			fs = append(fs, Finding{Rule: "auth-failed", Severity: Error, Packets: packets(failed...),
				Detail: fmt.Sprintf("%s with credentials was refused %d time(s), last with %s: wrong user or password, or a nonce loop",
					method, len(failed), failed[len(failed)-1].Label()),
				RFC: "RFC 3261 §22.1"})
		}
	}
	return fs
}

func checkRetransmissions(c *Call) []Finding {
	var rs []*Message
	counts := map[string]int{}
	var order []string
	for _, m := range c.Messages() {
		if !m.Retransmission {
			continue
		}
		rs = append(rs, m)
		k := m.Label()
		if !m.IsRequest() {
			k = fmt.Sprintf("%d/%s", m.Status, m.CSeqMethod)
		}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	if len(rs) == 0 {
		return nil
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = fmt.Sprintf("%d × %s", counts[k], k)
	}
	return []Finding{{Rule: "retransmissions", Severity: Warning, Packets: packets(rs...),
		Detail: fmt.Sprintf("%d retransmission(s): %s (packet loss or an unresponsive peer)", len(rs), strings.Join(parts, ", ")),
		RFC:    "RFC 3261 §17.1.1.2"}}
}

func checkNoByeResponse(c *Call) []Finding {
	var fs []Finding
	eachTx(c, func(tx *Transaction) {
		if tx.Method != "BYE" || tx.Final != nil || tx.Request == nil {
			return
		}
		if len(tx.Requests) < 2 && c.CaptureEnd.Sub(tx.Request.Time) < graceAfter {
			return
		}
		fs = append(fs, Finding{Rule: "no-bye-response", Severity: Warning, Packets: packets(tx.Requests...),
			Detail: fmt.Sprintf("BYE from %s was never answered (%d transmission(s))%s", tx.Request.Src, len(tx.Requests), byeElsewhere(c.Legs[tx.Request.Leg], tx.Request)),
			RFC:    "RFC 3261 §15.1.1"})
	})
	return fs
}

func checkUnansweredRequest(c *Call) []Finding {
	var fs []Finding
	eachTx(c, func(tx *Transaction) {
		switch tx.Method {
		case "INVITE", "ACK", "BYE":
			return
		}
		if tx.Final != nil || tx.Request == nil || !gaveUp(tx, c.CaptureEnd, timerB) {
			return
		}
		fs = append(fs, Finding{Rule: "unanswered-request", Severity: Warning, Packets: packets(tx.Requests...),
			Detail: fmt.Sprintf("%s to %s got no final response (%d transmission(s))", tx.Method, tx.Request.Dst, len(tx.Requests)),
			RFC:    "RFC 3261 §17.1.2.2"})
	})
	return fs
}

// failovers finds the INVITE a caller sent to another destination after
// one went unanswered, and that had a final response (DNS failover, RFC
// 3263 §4.3): the caller gave up on the first then, whenever the capture
// ended. The answered initial INVITEs of a call are indexed once, by
// sender and time, so that a call of thousands of unanswered INVITEs
// (a capture made so) costs time linear in them, not a scan of every
// transaction for each.
type failovers struct {
	bySrc map[netip.Addr][]failoverCand
}

// failoverCand is an answered initial INVITE, and the index (among its
// sender's, in time order) of the next one sent to another destination
// (len when none).
type failoverCand struct {
	tx      *Transaction
	nextDst int
}

// index fills fo with c's answered initial INVITEs (no map at all for a
// call with none, as most calls with an INVITE unanswered are).
func (fo *failovers) index(c *Call) {
	for _, l := range c.Legs {
		for _, tx := range l.Transactions {
			if tx.Method == "INVITE" && tx.Initial && tx.Request != nil && tx.Final != nil {
				if fo.bySrc == nil {
					fo.bySrc = map[netip.Addr][]failoverCand{}
				}
				src := tx.Request.Src.Addr()
				fo.bySrc[src] = append(fo.bySrc[src], failoverCand{tx: tx})
			}
		}
	}
	for _, cs := range fo.bySrc {
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].tx.Request.Time.Before(cs[j].tx.Request.Time) })
		next := len(cs)
		for k := len(cs) - 1; k >= 0; k-- {
			cs[k].nextDst = next
			if k > 0 && cs[k-1].tx.Request.Dst != cs[k].tx.Request.Dst {
				next = k
			}
		}
	}
}

// after returns the first answered INVITE, in time, that tx's sender sent
// to another destination after tx, or nil.
func (fo *failovers) after(tx *Transaction) *Transaction {
	cs := fo.bySrc[tx.Request.Src.Addr()]
	i := sort.Search(len(cs), func(i int) bool { return cs[i].tx.Request.Time.After(tx.Request.Time) })
	if i == len(cs) {
		return nil
	}
	if cs[i].tx.Request.Dst != tx.Request.Dst {
		return cs[i].tx
	}
	if j := cs[i].nextDst; j < len(cs) {
		return cs[j].tx // another destination than cs[i]'s, which is tx's
	}
	return nil
}

func checkCallFailed(c *Call) []Finding {
	if c.Kind != KindCall || c.FinalStatus < 400 || isChallenge(c.FinalStatus) || c.FinalStatus == 487 {
		return nil
	}
	sev, sec := Warning, "§21.4"
	switch {
	case c.FinalStatus >= 600:
		sev, sec = Error, "§21.6"
	case c.FinalStatus >= 500:
		sev, sec = Error, "§21.5"
	}
	var final, invite *Message
	var buf [4]*Transaction
	for _, tx := range initialTxs(c.Legs[0], "INVITE", buf[:]) {
		if tx.Final != nil && tx.Final.Status == c.FinalStatus {
			final, invite = tx.Final, tx.Request
		}
	}
	if final == nil {
		// Joined while it rang: the answer to an INVITE not captured.
		for _, tx := range c.Legs[0].Transactions {
			if tx.Method == "INVITE" && tx.Request == nil && tx.Final != nil && tx.Final.Status == c.FinalStatus {
				final = tx.Final
				break
			}
		}
	}
	// A 408 or 5xx is no refusal of the call but a failure on the way
	// (state failed): the detail says so, as the state does.
	var detail string
	switch failed := c.State == StateFailed; {
	case final == nil && failed:
		detail = fmt.Sprintf("call failed with %d", c.FinalStatus)
	case final == nil:
		detail = fmt.Sprintf("call rejected with %d", c.FinalStatus)
	case failed:
		detail = fmt.Sprintf("call failed: %s answered %s", final.Src.Addr(), final.Label())
	default:
		detail = fmt.Sprintf("call rejected by %s with %s", final.Src.Addr(), final.Label())
	}
	if final != nil {
		if final.ReasonHeader() != "" {
			detail += " (" + final.ReasonHeader() + ")"
		}
		detail += warningOf(final)
		if invite != nil && (final.Status == 488 || final.Status == 606) {
			detail += refusedOffer(c.Legs[0], invite)
		}
		detail += replacesFailed(invite)
	}
	return []Finding{{Rule: "call-failed", Severity: sev, Packets: packets(final), Detail: detail, RFC: "RFC 3261 " + sec}}
}

// warningOf is " (Warning: ...)" for a failure response with a Warning
// header (RFC 3261 §20.43), else "".
func warningOf(r *Message) string {
	if w := r.Warning(); w != "" {
		return " (Warning: " + w + ")"
	}
	return ""
}

// refusedOffer says what INVITE q offered, when a 488 or 606 (Not
// Acceptable: the session description) refused it: the offer kept in its
// leg, or nothing when none was (no SDP, or cut short: such an offer
// keeps no body). An offer whose every m= line has port 0 had nothing to
// accept.
func refusedOffer(l *Leg, q *Message) string {
	for i := range l.offers {
		o := &l.offers[i]
		if o.m != q {
			continue
		}
		var scratch decode.SDP
		sdp := convertSDP(o.body, &scratch)
		if sdp == nil {
			return ""
		}
		s := "; the INVITE offered " + sdp.Summary()
		for _, md := range sdp.Media {
			if md.Port != 0 {
				return s
			}
		}
		return s + ": every stream has port 0 (refused by the caller itself), so there was nothing to accept"
	}
	return ""
}

// glareRetryWithin is how soon after a 491 the re-INVITE must be sent
// again to count as retried: RFC 3261 §14.1 has the side that owns the
// Call-ID wait 2.1–4 s and the other 0–2 s; 10 s allows for a slow stack.
const glareRetryWithin = 10 * time.Second

func checkReinviteFailed(c *Call) []Finding {
	var fs []Finding
	for _, l := range c.Legs {
		var g *glares // made at the leg's first 491
		for _, tx := range l.Transactions {
			// A challenge is the authentication checks' (retried or not).
			if !tx.modifiesSession() || tx.Final == nil || tx.Final.Status < 300 || isChallenge(tx.Final.Status) || tx.Request == nil {
				continue
			}
			what, rfc := refreshName(tx), "RFC 3261 §14.1"
			if tx.Method == "UPDATE" {
				rfc = "RFC 3311 §5.2"
			}
			fax := false // an offer of T.38 to a leg not on it already (not a refresh)
			if sdp := tx.Request.SDP(); sdp != nil {
				if fax = sdp.T38() != nil && !onT38(l, tx.Request.N); fax {
					what += " offering T.38 fax"
				}
				what += " (" + sdp.Summary() + ")"
			}
			if tx.Final.Status != 491 {
				detail := fmt.Sprintf("%s rejected with %s%s", what, tx.Final.Label(), warningOf(tx.Final))
				if fax && (tx.Final.Status == 488 || tx.Final.Status == 606) {
					// Not Acceptable: the offer, T.38 with it, was not
					// (the far end, or a gateway between, may not do T.38).
					detail += ": T.38 was not accepted, so the fax can only go as audio (G.711 pass-through), or fails"
				}
				fs = append(fs, Finding{Rule: "reinvite-failed", Severity: Warning, Packets: packets(tx.Request, tx.Final), Detail: detail, RFC: rfc})
				continue
			}
			if g == nil {
				g = newGlares(l)
			}
			fs = append(fs, g.finding(c, tx, what))
		}
	}
	return fs
}

// glares finds, for a leg's re-INVITEs and UPDATEs refused with 491, what
// came after them: their retries, and the BYE that ended the call. Each
// refusal looks among a few transactions, not all of the leg's: a call
// re-INVITEd thousands of times, each refused, takes time linear in its
// length.
type glares struct {
	// sent: each side's re-INVITEs and UPDATEs (by method and From-tag)
	// whose request was captured, by the time it was sent; byes: the
	// BYEs sent.
	sent map[glareKey][]*Transaction
	byes []*Transaction
}

type glareKey struct{ method, fromTag string }

func newGlares(l *Leg) *glares {
	g := &glares{sent: make(map[glareKey][]*Transaction)}
	for _, r := range l.Transactions {
		switch {
		case r.Request == nil:
		case r.Method == "BYE":
			g.byes = append(g.byes, r)
		case r.modifiesSession() && !r.Initial:
			k := glareKey{r.Method, r.fromTag}
			g.sent[k] = append(g.sent[k], r)
		}
	}
	for _, rs := range g.sent {
		slices.SortStableFunc(rs, func(a, b *Transaction) int { return a.Request.Time.Compare(b.Request.Time) })
	}
	return g
}

// finding is the finding of re-INVITE or UPDATE tx, refused with 491
// Request Pending: the other side had one of its own under way (glare).
// It is resolved when this side sends it again; a failure when it did
// not, before the call ended or within glareRetryWithin; neither when the
// capture ended first.
func (g *glares) finding(c *Call, tx *Transaction, what string) Finding {
	const rfc = "RFC 3261 §14.1"
	refused := fmt.Sprintf("%s met one from the other side and was refused with %s (glare)", what, tx.Final.Label())
	if retry := g.retry(tx); retry != nil {
		return Finding{Rule: "reinvite-glare", Severity: Info, Packets: packets(tx.Request, tx.Final, retry.Request), RFC: rfc,
			Detail: fmt.Sprintf("%s; it was sent again %.1f s later (packet %d)", refused, retry.Request.Time.Sub(tx.Final.Time).Seconds(), retry.Request.N)}
	}
	for _, b := range g.byes {
		if b.Request.Time.After(tx.Final.Time) && b.Request.Time.Sub(tx.Final.Time) <= glareRetryWithin {
			return Finding{Rule: "reinvite-failed", Severity: Warning, Packets: packets(tx.Request, tx.Final, b.Request), RFC: rfc,
				Detail: fmt.Sprintf("%s, and it was not sent again before the call ended (BYE, packet %d)", refused, b.Request.N)}
		}
	}
	if wait := c.CaptureEnd.Sub(tx.Final.Time); wait < glareRetryWithin {
		return Finding{Rule: "reinvite-glare", Severity: Info, Packets: packets(tx.Request, tx.Final), RFC: rfc,
			Detail: fmt.Sprintf("%s; the capture ended %.1f s later, before it would have been sent again", refused, wait.Seconds())}
	}
	return Finding{Rule: "reinvite-failed", Severity: Warning, Packets: packets(tx.Request, tx.Final), RFC: rfc,
		Detail: fmt.Sprintf("%s, and it was not sent again within %.0f s", refused, glareRetryWithin.Seconds())}
}

// retry is the re-INVITE (or UPDATE, as tx) that sends tx, refused with
// 491, again: the first one from the same side (From-tag), with a higher
// CSeq, sent within glareRetryWithin of the 491. nil when there is none.
func (g *glares) retry(tx *Transaction) *Transaction {
	rs := g.sent[glareKey{tx.Method, tx.fromTag}]
	i, _ := slices.BinarySearchFunc(rs, tx.Final.Time, func(r *Transaction, t time.Time) int { return r.Request.Time.Compare(t) })
	for _, r := range rs[i:] {
		if r.Request.Time.Sub(tx.Final.Time) > glareRetryWithin {
			break
		}
		if r.CSeq > tx.CSeq {
			return r
		}
	}
	return nil
}

func checkTransferFailed(c *Call) []Finding {
	var fs []Finding
	eachTx(c, func(tx *Transaction) {
		if tx.Method == "REFER" && tx.Final != nil && tx.Final.Status >= 300 {
			fs = append(fs, Finding{Rule: "transfer-failed", Severity: Warning, Packets: packets(tx.Request, tx.Final),
				Detail: fmt.Sprintf("transfer (REFER) rejected with %s", tx.Final.Label()), RFC: "RFC 3515 §2.4.2"})
		}
		if tx.Method == "NOTIFY" && tx.Request != nil && tx.Request.Sipfrag() != "" {
			f := strings.Fields(tx.Request.Sipfrag())
			if len(f) >= 2 && len(f[1]) == 3 && f[1] >= "300" {
				fs = append(fs, Finding{Rule: "transfer-failed", Severity: Warning, Packets: packets(tx.Request),
					Detail: fmt.Sprintf("the transferred call failed: %s", tx.Request.Sipfrag()), RFC: "RFC 3515 §2.4.5"})
			}
		}
	})
	return fs
}

func checkForkNotEnded(c *Call) []Finding {
	if c.Kind != KindCall {
		return nil
	}
	var fs []Finding
	for _, l := range c.Legs {
		if len(l.Dialogs) < 2 {
			continue
		}
		for _, d := range l.Dialogs {
			if d.Ended || !d.open || !l.abandoned(d) || !acked(l, d.ok) {
				continue // a 2xx never ACKed is missing-ack's: its callee ends the dialog itself
			}
			// Forks answer through the same proxy: the To-tag and the
			// answerer's User-Agent or Server tell them apart.
			who := d.ok.Src.String()
			if d.ok.Agent != "" {
				who = fmt.Sprintf("%q (%s)", d.ok.Agent, d.ok.Src)
			}
			fs = append(fs, Finding{Rule: "fork-not-ended", Severity: Warning, Packets: packets(d.ok), RFC: "RFC 3261 §13.2.2.4",
				Detail: fmt.Sprintf("the INVITE forked, and the dialog with To-tag %s that %s answered (%s, packet %d) was never ended with a BYE when the call ended: its callee may think the call is still up",
					d.RemoteTag, who, d.ok.Label(), d.ok.N)})
		}
	}
	return fs
}

func checkNotEnded(c *Call) []Finding {
	if c.Kind != KindCall {
		return nil
	}
	if c.State != StateAnswered {
		return replacedRinging(c) // nil but for a call picked up while it rang and never ended
	}
	if by, l := replacedNotEnded(c); by != nil {
		return []Finding{replacedNotEndedFinding(c, by, l)} // says more than not-ended
	}
	if f := replacedRinging(c); f != nil {
		return f // a B2BUA's leg picked up while it rang, its other leg answered
	}
	detail := "the call was answered and no BYE was seen before the capture ended"
	if c.timedOut {
		// Answered, not ended, and finished before the capture's end, that
		// long after End (its legs' last message or media packet): by the
		// call timeout, or by the idle timeout when the capture saw no
		// request in its dialogs (talking).
		timeout := "the idle timeout: no request of its dialog, not even the ACK, was seen, so the capture is not on the dialog's path and would not see its BYE"
		for _, l := range c.Legs {
			if l.talking() {
				timeout = "the call timeout"
			}
		}
		detail = fmt.Sprintf("the call was answered and no BYE came: it was finished after %s without a message or an RTP packet (%s), while the capture went on",
			c.CaptureEnd.Sub(c.End).Round(time.Minute), timeout)
	}
	return []Finding{{Rule: "not-ended", Severity: Info, Packets: lastPacket(c), Detail: detail, RFC: "RFC 3261 §15"}}
}

// inviteMissed reports whether the capture missed the INVITE that began
// l's call: no initial INVITE of l was captured.
func inviteMissed(l *Leg) bool {
	for _, tx := range l.Transactions {
		if tx.Method == "INVITE" && tx.Initial && tx.Request != nil {
			return false
		}
	}
	return true
}

func checkInviteNotCaptured(c *Call) []Finding {
	if !c.inviteMissed {
		return nil
	}
	m := c.Legs[0].Messages[0]
	first := m.Label()
	if !m.IsRequest() {
		first += " to " + m.CSeqMethod
	}
	return []Finding{{Rule: "invite-not-captured", Severity: Info, Packets: packets(m),
		Detail: fmt.Sprintf("the call's INVITE is not in the capture (first seen: %s): it began before the capture, or its packet was lost; the caller shown is a guess, and post-dial delay and answer time are unknown", first),
		RFC:    "RFC 3261 §12.1"}}
}

func lastPacket(c *Call) []int {
	ms := c.Legs[0].Messages
	return []int{ms[len(ms)-1].N}
}

func checkRegisterFailed(c *Call) []Finding {
	if c.Kind != KindRegistration || c.State != StateFailed || isChallenge(c.FinalStatus) {
		return nil
	}
	var final *Message
	var buf [4]*Transaction
	for _, tx := range initialTxs(c.Legs[0], "REGISTER", buf[:]) {
		if tx.Final != nil && tx.Final.Status == c.FinalStatus {
			final = tx.Final
		}
	}
	detail := fmt.Sprintf("registration of %s refused with %d", c.To, c.FinalStatus)
	if final != nil {
		detail = fmt.Sprintf("registration of %s refused with %s%s", c.To, final.Label(), warningOf(final))
	}
	return []Finding{{Rule: "register-failed", Severity: Error, Packets: packets(final), Detail: detail, RFC: "RFC 3261 §10.3"}}
}
