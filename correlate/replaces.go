package correlate

import (
	"bytes"
	"cmp"
	"fmt"
	"iter"
	"net/netip"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Attended transfer and call pickup replace one dialog with another: an
// INVITE whose Replaces header (RFC 3891) names the dialog it replaces,
// often sent because a REFER's Refer-To carried that header in its URI
// (RFC 5589 §7). The two dialogs are two calls, with Call-IDs of their
// own; the correlator ties them together while both are open, so that
// each call says what became of the other: the replacing call's INVITE
// (event "replaces") says whether the dialog it names was in the capture
// and had those tags, the replaced call (event "replaced") by which call
// and when, and a replaced call nobody hung up is a finding of its own
// (replaced-not-ended).

// replacesRef is the dialog a Replaces header names (RFC 3891 §6.1:
// callid;to-tag=...;from-tag=...[;early-only]), with, on an INVITE, what
// the correlator knew of it when the INVITE came.
type replacesRef struct {
	callID, toTag, fromTag string
	earlyOnly              bool
	// more: the INVITE carried another Replaces after this one, in a
	// header of its own or after a comma (RFC 3891 §3: refused, 400).
	more bool
	// event: on an INVITE, it is the first of its leg's transactions to
	// name that call (noteReplaces): the one the event "replaces" is on.
	// Another, a retry with credentials after a challenge or a proxy's
	// relay of it, is no new event, and neither is a relay on another hop
	// of the same transaction (a NAT), which noteReplaces does not see.
	event bool
	seen  replacedSeen
	// wrongWay: when seen is replacedOpen, the address of the end of the
	// named dialog that answered the INVITE, if its tag there is the
	// from-tag (the tags the wrong way round for it, RFC 3891 §3);
	// invalid otherwise, or when the capture cannot tell (orient).
	wrongWay netip.Addr
	// answered: early-only, and the dialog it matched was answered
	// already (confirmed) when the INVITE came: RFC 3891 §3 has the
	// recipient refuse it, 486.
	answered bool
	// ringing: the dialog it matched was early (not answered) when the
	// INVITE came: a call pickup (RFC 3891 §1).
	ringing bool
	// tags: when seen is replacedOpen and no dialog of the call had the
	// named tags, the tags its dialogs do have ("a and b", "; " between
	// dialogs); "" otherwise.
	tags string
}

// replacedSeen is what the capture showed of the call an INVITE with
// Replaces names, at the time of the INVITE.
type replacedSeen uint8

const (
	replacedUnseen   replacedSeen = iota // no message of that Call-ID before
	replacedOpen                         // in progress, a dialog with the named tags
	replacedNoDialog                     // in progress, but no dialog with the named tags
	replacedEnded                        // finished already
	replacedSelf                         // the INVITE's own Call-ID
)

// legReplaces is what a leg knows of replacing and being replaced (nil
// for almost every leg).
type legReplaces struct {
	// callID is the Call-ID the leg's initial INVITE named in its
	// Replaces header, cseq that INVITE's CSeq (its retry with
	// credentials has another): the final response to it is reported to
	// the replaced leg.
	callID string
	cseq   uint32
	by     *replacement // the INVITE that replaced a dialog of this leg, nil if none
}

// replacement is an INVITE with Replaces naming a leg's dialog, and its
// outcome.
type replacement struct {
	callID   string // the replacing call's Call-ID
	ownTag   string // the tag its recipient took as its own (replacesRef.ownTag)
	n        int    // the INVITE's packet
	at       time.Time
	src, dst netip.AddrPort
	status   int    // its final response (0 until one came)
	label    string // that response's label ("200 OK")
	statusN  int
	statusAt time.Time
}

// parseReplaces reads a Replaces header's value: "" callID when it names
// no Call-ID. Of several values (a comma: neither a Call-ID nor a tag has
// one), the first.
func parseReplaces(v []byte) replacesRef {
	var r replacesRef
	v, _, r.more = bytes.Cut(v, []byte(","))
	parts := bytes.Split(v, []byte(";"))
	r.callID = string(bytes.TrimSpace(parts[0]))
	for _, p := range parts[1:] {
		name, value, _ := bytes.Cut(p, []byte("="))
		name, value = bytes.TrimSpace(name), bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("to-tag")):
			r.toTag = string(value)
		case bytes.EqualFold(name, []byte("from-tag")):
			r.fromTag = string(value)
		case bytes.EqualFold(name, []byte("early-only")):
			r.earlyOnly = true
		}
	}
	return r
}

// referToReplaces returns the Replaces a Refer-To URI carries among its
// headers (sip:carol@host?Replaces=id%40host%3Bto-tag%3D...; RFC 3261
// §19.1.1 escapes them), and the URI without its headers; ok is false
// when it carries none.
func referToReplaces(uri string) (r replacesRef, base string, ok bool) {
	base, hdrs, found := strings.Cut(uri, "?")
	if !found {
		return r, uri, false
	}
	for value := range uriHeaders(hdrs, "replaces") {
		if r = parseReplaces([]byte(value)); r.callID != "" {
			return r, base, true
		}
	}
	return replacesRef{}, uri, false
}

// uriHeaders yields, unescaped, the values of the headers named name
// (case-insensitive, itself possibly escaped) among a URI's headers
// (the part after its "?": "Replaces=...&Reason=...", RFC 3261 §19.1.1).
func uriHeaders(hdrs, name string) iter.Seq[string] {
	return func(yield func(string) bool) {
		if hdrs == "" {
			return
		}
		for _, h := range strings.Split(hdrs, "&") {
			n, value, _ := strings.Cut(h, "=")
			if strings.EqualFold(unescapeURI(n), name) && !yield(unescapeURI(value)) {
				return
			}
		}
	}
}

// unescapeURI undoes a URI's %XX escapes; a % not followed by two hex
// digits stays as it is.
func unescapeURI(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if hi, lo := unhex(s[i+1]), unhex(s[i+2]); hi >= 0 && lo >= 0 {
				b = append(b, byte(hi<<4|lo))
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// noteReplaces ties initial INVITE m of leg, which carries a Replaces,
// to the leg it names, if that one is open (placeRequest, for a new
// transaction: not a retransmission).
func (c *Correlator) noteReplaces(leg *Leg, m *Message) {
	r := m.ext.replaces
	if leg.repl == nil {
		leg.repl = &legReplaces{}
	}
	r.event = leg.repl.callID != r.callID
	leg.repl.callID, leg.repl.cseq = r.callID, m.CSeq
	target := findLeg(&c.legs, c.tombs.hashString(r.callID), r.callID)
	switch {
	case target == leg:
		r.seen = replacedSelf // a call that names itself replaces nothing
		return
	case target == nil:
		if tb, _ := c.tombs.find(c.tombs.hashString(r.callID)); tb != nil {
			r.seen = replacedEnded
		}
		return
	}
	r.seen = replacedOpen
	// findDialog takes the tags either way round, as the recipient of the
	// Replaces reads them (to-tag its own, RFC 3891 §3), whichever end it
	// was; and past a few dialogs it looks them up in a map rather than
	// scan them all for each INVITE (a call forked to thousands, named by
	// thousands of INVITEs).
	if d := target.findDialog(r.toTag, r.fromTag); d == nil {
		r.seen, r.tags = replacedNoDialog, dialogTags(target)
	} else {
		r.answered, r.ringing = r.earlyOnly && d.Confirmed, !d.Confirmed
	}
	if target.repl == nil {
		target.repl = &legReplaces{}
	}
	// A newer attempt takes the place of one not accepted (unanswered,
	// challenged, refused); one accepted stays.
	if by := target.repl.by; !by.accepted() {
		target.repl.by = newReplacement(leg, m)
	}
}

func newReplacement(leg *Leg, invite *Message) *replacement {
	r := &replacement{callID: leg.CallID, n: invite.N, at: invite.Time, src: invite.Src, dst: invite.Dst}
	if invite.ext != nil && invite.ext.replaces != nil {
		r.ownTag = invite.ext.replaces.ownTag()
	}
	return r
}

// ownTag is the tag the recipient of the INVITE took as its own, of the
// two that name the dialog: the to-tag (RFC 3891 §3), unless orient found
// that the answer came from the end whose tag is the from-tag (a
// recipient that took the tags the wrong way round and accepted).
func (r *replacesRef) ownTag() string {
	if r.wrongWay.IsValid() {
		return r.fromTag
	}
	return r.toTag
}

// accepted reports whether r is an INVITE with Replaces answered 2xx
// (false for nil).
func (r *replacement) accepted() bool { return r != nil && r.status >= 200 && r.status < 300 }

// replacementAnswered reports final response m, to INVITE transaction tx
// of leg (which sent a Replaces), to the leg that INVITE named, if open
// (placeResponse, for a transaction's first final response).
func (c *Correlator) replacementAnswered(leg *Leg, tx *Transaction, m *Message) {
	if leg.repl.callID == "" || m.CSeq != leg.repl.cseq {
		return
	}
	target := findLeg(&c.legs, c.tombs.hashString(leg.repl.callID), leg.repl.callID)
	if target == nil || target == leg || target.repl == nil || target.repl.by == nil {
		return
	}
	if inv := tx.Request; inv != nil && inv.ext != nil && inv.ext.replaces != nil && inv.ext.replaces.seen == replacedOpen {
		inv.ext.replaces.orient(target, m)
	}
	by := target.repl.by
	if by.callID != leg.CallID {
		// Another call's INVITE named it after this one did: this one,
		// accepted, takes its place unless that one was accepted too.
		if m.Status >= 300 || by.accepted() || tx.Request == nil {
			return
		}
		by = newReplacement(leg, tx.Request)
		target.repl.by = by
	}
	if by.status == 0 || by.status >= 300 && m.Status < 300 {
		by.status, by.label, by.statusN, by.statusAt = m.Status, m.Label(), m.N, m.Time
		if inv := tx.Request; inv != nil && inv.ext != nil && inv.ext.replaces != nil {
			by.ownTag = inv.ext.replaces.ownTag() // oriented by this answer
		}
	}
}

// orient notes in r, which named a dialog of target by its tags (either
// way round), whether answer, the first final response to the INVITE,
// came from the end of the dialog whose tag the from-tag is: the recipient
// reads to-tag as its own tag (RFC 3891 §3), so that end finds no dialog
// with those tags. Each end is where the capture first saw it send from
// (dialogEnd), and the answer's source is where its final response was
// first seen: an answer from an address both ends or neither had (a
// proxy's), or a dialog whose ends the capture cannot place, says nothing.
func (r *replacesRef) orient(target *Leg, answer *Message) {
	d := target.findDialog(r.toTag, r.fromTag)
	if d == nil || r.toTag == r.fromTag {
		return
	}
	to, from, at := dialogEnd(target, d, r.toTag), dialogEnd(target, d, r.fromTag), answer.Src
	switch {
	case at == to:
	case at == from:
		r.wrongWay = at.Addr()
	case to.IsValid() && at.Addr() == to.Addr():
	case from.IsValid() && at.Addr() == from.Addr():
		r.wrongWay = at.Addr()
	}
}

// dialogEnd returns the address the end of d whose tag is tag was first
// seen sending from, when the capture tells: the sender of the message
// that made d known (a response: the end with its To-tag; a request
// within the dialog: the end with its From-tag), or, for the end that
// sent a response's request, the sender of the leg's first message when
// that is the INVITE. Invalid otherwise.
func dialogEnd(l *Leg, d *Dialog, tag string) netip.AddrPort {
	f := d.First
	switch {
	case f == nil:
	case f.IsRequest():
		if tag == f.FromTag {
			return f.Src
		}
	case tag == f.ToTag:
		return f.Src
	case tag == f.FromTag:
		if m := l.Messages[0]; m.Method == "INVITE" && m.ToTag == "" && m.FromTag == tag {
			return m.Src
		}
	}
	return netip.AddrPort{}
}

// wrongWayText says how r's tags are the wrong way round, its end being
// the one that answered: "which answered this INVITE" in an event,
// "which answered" in a finding.
func (r *replacesRef) wrongWayText(which string) string {
	return fmt.Sprintf("but with the tags the wrong way round: from-tag %s is the tag of %s, %s, and the recipient's own tag is the to-tag",
		r.fromTag, r.wrongWay, which)
}

// severalReplaces is what an event or finding adds of an INVITE that
// carried more than one Replaces.
const severalReplaces = "; the INVITE carried more than one Replaces (the first read here), which RFC 3891 §3 has refused with 400 Bad Request"

// earlyOnlyAnswered is what an event or finding adds of an early-only
// Replaces that named a dialog answered already.
const earlyOnlyAnswered = ", its dialog answered already, which early-only asks the recipient to refuse (486 Busy Here, RFC 3891 §3)"

// dialogTags lists l's dialogs' tags, for a Replaces that names none of them.
func dialogTags(l *Leg) string {
	var b strings.Builder
	for i, d := range l.Dialogs {
		if i == 4 {
			b.WriteString("; ...")
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s and %s", quoteTag(d.LocalTag), quoteTag(orNone(d.RemoteTag)))
	}
	if b.Len() == 0 {
		return "no dialog yet"
	}
	return b.String()
}

// quoteTag is tag as dialogTags quotes it: cut, past maxQuotedTag bytes.
// What each INVITE with Replaces keeps of another call's tags must not
// grow with them: a capture can give a call 60 kB tags, and name it
// in thousands of small INVITEs.
func quoteTag(tag string) string {
	if len(tag) <= maxQuotedTag {
		return tag
	}
	cut := maxQuotedTag
	for cut > 0 && !utf8.RuneStart(tag[cut]) {
		cut--
	}
	return tag[:cut] + "…"
}

// maxQuotedTag bounds a tag dialogTags quotes, in bytes: real tags are
// some tens.
const maxQuotedTag = 64

func orNone(tag string) string {
	if tag == "" {
		return "none"
	}
	return tag
}

// tagsOf is how an event or finding names a Replaces' dialog.
func (r *replacesRef) tagsOf() string {
	s := fmt.Sprintf("to-tag %s, from-tag %s", orNone(r.toTag), orNone(r.fromTag))
	if r.earlyOnly {
		s += ", early-only"
	}
	return s
}

// pickup is what a Replaces naming a ringing dialog is: a call pickup
// when it says early-only (RFC 3891 §7.1), else that or a transfer to a
// call whose target had not answered yet.
func (r *replacesRef) pickup() string {
	if r.earlyOnly {
		return "a call pickup"
	}
	return "a call pickup, or a transfer before its target answered"
}

// replacesEvent is the event of an INVITE with Replaces.
func replacesEvent(m *Message) Event {
	r := m.ext.replaces
	d := fmt.Sprintf("call %s (%s)", r.callID, r.tagsOf())
	switch r.seen {
	case replacedOpen:
		d += ": in progress in this capture"
		if r.wrongWay.IsValid() {
			d += ", " + r.wrongWayText("which answered this INVITE") + " (RFC 3891 §3)"
		}
		if r.answered {
			d += earlyOnlyAnswered
		} else if r.ringing && !r.wrongWay.IsValid() {
			d += ", ringing: " + r.pickup()
		}
	case replacedNoDialog:
		d += ": in progress in this capture, but no dialog of it has these tags (it has " + r.tags + ")"
	case replacedEnded:
		d += ": it had ended already"
	case replacedSelf:
		d += ": this call itself"
	default:
		d += ": not in this capture"
	}
	if r.more {
		d += severalReplaces
	}
	return Event{N: m.N, Time: m.Time, Kind: "replaces", Detail: d}
}

// referEvent is the event of a REFER: where it transfers to, and, for an
// attended transfer, the call it asks to replace.
func referEvent(m *Message) Event {
	e := Event{N: m.N, Time: m.Time, Kind: "transfer", Detail: "to " + m.ReferTo()}
	if m.ext != nil && m.ext.replaces != nil {
		r := m.ext.replaces
		base, _, _ := strings.Cut(m.ReferTo(), "?")
		e.Detail = fmt.Sprintf("to %s, replacing call %s (%s): an attended transfer", base, r.callID, r.tagsOf())
	}
	return e
}

// replacedEvents adds the event "replaced" to c for each leg whose dialog
// an INVITE with Replaces took over (answered 2xx), at the message that
// ended it: the leg's first BYE or CANCEL sent once that INVITE came (RFC
// 3891 §3: who accepts ends the dialog replaced, and may CANCEL an early
// one before its answer goes out), else its first message after the
// answer, else its last; in packet order among the others.
func replacedEvents(c *Call) {
	added := false
	for _, l := range c.Legs {
		if l.repl == nil || !l.repl.by.accepted() {
			continue
		}
		by := l.repl.by
		var at, after *Message
		for _, m := range l.Messages {
			if (m.Method == "BYE" || m.Method == "CANCEL") && !m.Time.Before(by.at) {
				at = m
				break
			}
			if after == nil && !m.Time.Before(by.statusAt) {
				after = m
			}
		}
		if at == nil {
			at = cmp.Or(after, l.Messages[len(l.Messages)-1])
		}
		c.Events = append(c.Events, Event{N: at.N, Time: at.Time, Kind: "replaced",
			Detail: fmt.Sprintf("by call %s: its INVITE with Replaces from %s to %s (packet %d) was answered %s (packet %d)",
				by.callID, by.src.Addr(), by.dst.Addr(), by.n, by.label, by.statusN)})
		added = true
	}
	if added {
		sort.SliceStable(c.Events, func(i, j int) bool { return c.Events[i].N < c.Events[j].N })
	}
}

// replacedNotEnded returns the replacement of a dialog of c, an answered
// call no BYE ended (checkNotEnded asks), that was accepted (2xx), the
// capture going on at least graceAfter past the acceptance, and the leg
// it replaced a dialog of; nil if none. A leg with no dialog answered
// is none: a B2BUA's leg picked up while it rang is ended by a CANCEL,
// not a BYE, while its other leg, answered, carries on the call the
// pickup took (replacedRinging looks at that leg).
func replacedNotEnded(c *Call) (*replacement, *Leg) {
	for _, l := range c.Legs {
		if l.repl == nil {
			continue
		}
		if by := l.repl.by; by.accepted() && c.CaptureEnd.Sub(by.statusAt) >= graceAfter && confirmedLeg(l) {
			return by, l
		}
	}
	return nil, nil
}

// replacedNotEndedFinding is the finding of a call replaced and left up
// (checkNotEnded asks, for an answered call: it says more than not-ended).
// When the call is a B2BUA's legs and a BYE did end the one replaced, it
// is the rest of the call that was left up.
func replacedNotEndedFinding(c *Call, by *replacement, l *Leg) Finding {
	f := Finding{Rule: "replaced-not-ended", Severity: Warning, Packets: []int{by.n, by.statusN}, RFC: "RFC 3891 §3"}
	if bye := legBye(l); len(c.Legs) > 1 && bye != nil {
		f.Detail = fmt.Sprintf("call %s replaced this call's leg %s (its INVITE with Replaces, packet %d, answered %s at packet %d), and a BYE ended that leg (packet %d), but not its other legs: the B2BUA that links them should have, and a call left up keeps its media and its billing running",
			by.callID, l.CallID, by.n, by.label, by.statusN, bye.N)
		return f
	}
	f.Detail = fmt.Sprintf("call %s replaced this call (its INVITE with Replaces, packet %d, answered %s at packet %d), but no BYE ended this one: whoever accepted the replacement should have (RFC 3891 §3), and a call left up keeps its media and its billing running",
		by.callID, by.n, by.label, by.statusN)
	return f
}

// replacedRinging returns the finding of a call picked up while it rang
// that nothing ended (checkNotEnded asks, for a call not answered, or
// answered with no replacedNotEnded: a B2BUA's other leg): an
// INVITE with Replaces named its early dialog and was answered 2xx, and
// then the INVITE that dialog belongs to (the last initial INVITE of the
// leg before the pickup still ringing then) saw no CANCEL, no BYE (RFC
// 3261 §15: a caller may end an early dialog so), before the pickup or
// after, and either no final response while the capture went on
// graceAfter past the pickup's answer, or, when the pickup was taken by
// its caller (the tag its recipient took as its own, ownTag, is the
// INVITE's From-tag), a failure other than 487 from its callee after it:
// the caller, which accepted, should have cancelled it (RFC 3891 §3),
// and the callee's phone rang on. Nil otherwise.
func replacedRinging(c *Call) []Finding {
	for _, l := range c.Legs {
		if l.repl == nil || !l.repl.by.accepted() {
			continue // almost every leg
		}
		if f, ok := ringingOn(c, l, l.repl.by); ok {
			return []Finding{f}
		}
	}
	return nil
}

// ringingOn is replacedRinging for leg l, replaced by by.
func ringingOn(c *Call, l *Leg, by *replacement) (Finding, bool) {
	// The INVITE that rang: the last initial INVITE sent before the pickup
	// came that had no final response by then (of an INVITE a proxy
	// forked, a fork still ringing, not one refused before), else the
	// last one (which had ended: no finding).
	var tx, rang *Transaction
	for _, t := range l.Transactions {
		if t.Method == "INVITE" && t.Initial && t.Request != nil && t.Request.Time.Before(by.at) {
			if tx = t; t.Final == nil || !t.Final.Time.Before(by.at) {
				rang = t
			}
		}
	}
	if rang != nil {
		tx = rang
	}
	if tx == nil || tx.Cancel != nil {
		return Finding{}, false
	}
	// A CANCEL or BYE since that INVITE ended the ringing, before the
	// pickup came or after: one before it (a CANCEL on another hop than
	// the INVITE's, a BYE on the early dialog) left nothing to ring on.
	// A CANCEL its sender sent elsewhere did not: a proxy's CANCEL of
	// another fork, a caller's of an INVITE it had sent to another server
	// (a CANCEL goes where its INVITE went, RFC 3261 §9.1). A BYE goes to
	// the dialog's remote target (§12.2.1.1), not where the INVITE went
	// (a proxy that did not Record-Route): one on an early dialog of
	// that INVITE ended it wherever it went.
	from, to := tx.Request.Src, tx.Request.Dst
	for _, m := range l.Messages {
		if (m.Method == "BYE" || m.Method == "CANCEL") && !m.Time.Before(tx.Request.Time) &&
			(m.Src != from || m.Dst == to || m.Method == "BYE" && earlyDialogOf(tx, m.ToTag)) {
			return Finding{}, false
		}
	}
	invite, caller := tx.Request, by.ownTag != "" && by.ownTag == tx.Request.FromTag
	f := Finding{Rule: "replaced-not-ended", Severity: Warning, Packets: []int{invite.N, by.n, by.statusN}, RFC: "RFC 3891 §3"}
	picked := fmt.Sprintf("call %s picked up this call while it rang (its INVITE with Replaces, packet %d, answered %s at packet %d)", by.callID, by.n, by.label, by.statusN)
	switch final := tx.Final; {
	case final == nil:
		if c.CaptureEnd.Sub(by.statusAt) < graceAfter {
			return Finding{}, false
		}
		ringing := fmt.Sprintf("the INVITE to %s (packet %d) was still unanswered when the capture ended, %s after the pickup: the phone there may ring on",
			invite.Dst, invite.N, c.CaptureEnd.Sub(by.statusAt).Round(time.Second))
		if c.timedOut {
			// Finished by a timeout (or --max-open) while the capture went
			// on, as not-ended says of an answered call.
			ringing = fmt.Sprintf("the INVITE to %s (packet %d) was still unanswered %s after the pickup, when the call was finished after %s without a message or an RTP packet, while the capture went on: the phone there may ring on",
				invite.Dst, invite.N, c.CaptureEnd.Sub(by.statusAt).Round(time.Second), c.CaptureEnd.Sub(c.End).Round(time.Second))
		}
		if caller {
			f.Detail = picked + ", but no CANCEL ended this one: its caller, which accepted the pickup, should have cancelled it (RFC 3891 §3), and " + ringing
		} else {
			f.Detail = picked + ", but nothing ended this one, neither a CANCEL nor a final response, and " + ringing
		}
	case caller && final.Status >= 300 && final.Status != 487 && !final.Time.Before(by.statusAt):
		f.Packets = append(f.Packets, final.N)
		f.Detail = fmt.Sprintf("%s, but no CANCEL ended this one: its caller, which accepted the pickup, should have cancelled it (RFC 3891 §3), and it rang on until %s answered %s (packet %d), %s after the pickup",
			picked, final.Src, final.Label(), final.N, final.Time.Sub(by.statusAt).Round(time.Second))
	default:
		return Finding{}, false
	}
	return f, true
}

// earlyDialogOf reports whether tag is the To-tag of a response to tx, an
// INVITE: the callee's tag of a dialog it made.
func earlyDialogOf(tx *Transaction, tag string) bool {
	if tag == "" {
		return false
	}
	for _, r := range tx.Responses {
		if r.ToTag == tag {
			return true
		}
	}
	return false
}

// confirmedLeg reports whether a dialog of l was answered (confirmed: by
// a 2xx, or a request in it when the capture began after that).
func confirmedLeg(l *Leg) bool {
	for _, d := range l.Dialogs {
		if d.Confirmed {
			return true
		}
	}
	return false
}

// legBye returns the first BYE that ended a dialog of l, when every
// dialog of l that was answered was ended by one; nil otherwise.
func legBye(l *Leg) *Message {
	var first *Message
	for _, d := range l.Dialogs {
		switch {
		case !d.Confirmed:
		case d.bye == nil:
			return nil
		case first == nil || d.bye.N < first.N:
			first = d.bye
		}
	}
	return first
}

// replacesFailed is what call-failed adds for an INVITE with Replaces
// that was refused: the dialog it named, and what the capture showed of it.
func replacesFailed(invite *Message) string {
	if invite == nil || invite.ext == nil || invite.ext.replaces == nil {
		return ""
	}
	r := invite.ext.replaces
	s := fmt.Sprintf("; the INVITE asked to replace call %s (%s)", r.callID, r.tagsOf())
	if r.more {
		return replacesSeen(r, s) + severalReplaces
	}
	return replacesSeen(r, s)
}

// replacesSeen is s, replacesFailed's start, and what the capture showed
// of the call r named.
func replacesSeen(r *replacesRef, s string) string {
	switch r.seen {
	case replacedOpen:
		if r.wrongWay.IsValid() {
			return s + ", in progress in this capture, " + r.wrongWayText("which answered") + ": no dialog matched (RFC 3891 §3)"
		}
		if r.answered {
			return s + ", in progress in this capture with those tags" + earlyOnlyAnswered
		}
		if r.ringing {
			return s + ", in progress in this capture with those tags, ringing (" + r.pickup() + ")"
		}
		return s + ", in progress in this capture with those tags"
	case replacedNoDialog:
		return s + ", in progress in this capture, but no dialog of it has those tags (it has " + r.tags + "): no dialog matched (RFC 3891 §3)"
	case replacedEnded:
		return s + ", which had ended already (RFC 3891 §3)"
	case replacedSelf:
		return s + ", which is this call itself"
	}
	return s + ", which is not in this capture"
}
