package correlate

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/media"
)

// Offer and answer (RFC 3264, RFC 3261 §13.2.1): which SDP body offers,
// which answers it, and what a missing or wrong answer is.
//
// A request with SDP (INVITE, UPDATE, PRACK) offers, and the 2xx to it,
// or for an INVITE a reliable provisional response (RFC 3262), answers,
// once per dialog (a forked INVITE is answered by each callee). An INVITE
// without SDP leaves the offer to the first reliable response with SDP,
// and its answer to the ACK (2xx) or the PRACK (reliable provisional). An
// answer is paired with the offer on its own hop: the offer went to the
// address the answer comes from, so a proxy that rewrites the SDP (a media
// relay) is compared hop by hop. The offers wait in their leg (one made in
// a dialog goes once settled and a newer one comes, addOffer); what is
// wrong is kept as findings (checkOfferAnswer).

// sdpOffer is an SDP offer a leg holds for its answers.
type sdpOffer struct {
	m    *Message
	body []byte // the offer's SDP, in the leg's memory (copyBytes)
	// cut: the capture cut the offer's body short (the snap length): its
	// answers are paired with it but not judged.
	cut bool
	// refused: its request was finally refused (488, 491, ...): nothing
	// answers it.
	refused bool
	// The To-tags of the dialogs that answered it (for an offer in a
	// response, its ACK's or PRACK's), once answered: the first, then more.
	answered bool
	first    string
	more     []string
}

func (o *sdpOffer) answeredBy(tag string) bool {
	return o.answered && o.first == tag || slices.Contains(o.more, tag)
}

// settled reports whether the offer was answered or refused and, made in
// a dialog, can be forgotten once a newer offer comes (RFC 3264 §4: one
// offer at a time). An initial INVITE's is kept: another fork may answer.
func (o *sdpOffer) settled() bool {
	return (o.answered || o.refused) && !(o.m.IsRequest() && o.m.Method == "INVITE" && o.m.ToTag == "")
}

func (o *sdpOffer) answer(tag string) {
	if !o.answered {
		o.first, o.answered = tag, true
	} else {
		o.more = append(o.more, tag)
	}
}

// offerAnswer takes message m of leg l (not a retransmission), with SDP
// body (nil when it has none): an offer is kept, an answer compared with
// its offer, a message that should have answered and did not noted. cut
// says the capture cut m's body short (Content-Length promised more): what
// it says or lacks is not judged. It returns the body to read from now on,
// and whether that is the leg's copy (an offer kept).
func (c *Correlator) offerAnswer(l *Leg, m *Message, body []byte, cut bool) ([]byte, bool) {
	if m.IsRequest() {
		switch m.Method {
		case "ACK":
			c.answerInResponse(l, m, body, cut)
		case "PRACK":
			// A PRACK with SDP that answers no offer of a reliable response
			// offers, when its INVITE is known (RFC 3262 §5); without the
			// INVITE, it may be the answer to an offer not captured.
			if c.answerInResponse(l, m, body, cut) || body == nil && !cut || !l.invited(m) {
				return body, false
			}
			return l.addOffer(m, body, cut)
		case "INVITE", "UPDATE":
			if body != nil || cut {
				return l.addOffer(m, body, cut)
			}
		}
		return body, false
	}
	switch m.CSeqMethod {
	case "INVITE", "UPDATE", "PRACK":
	default:
		return body, false
	}
	if m.Status >= 300 {
		if o := l.offerAnswered(m); o != nil {
			o.refused = true
		}
		return body, false
	}
	if m.Status < 200 && (m.rseqOf() == 0 || m.CSeqMethod != "INVITE") {
		return body, false // only a reliable provisional response answers
	}
	if o := l.offerAnswered(m); o != nil {
		if o.answeredBy(m.ToTag) {
			return body, false // a 2xx after the reliable provisional response that answered
		}
		switch {
		case o.cut || cut:
			if body != nil || cut || m.Status >= 200 {
				o.answer(m.ToTag) // not judged
			}
		case body != nil:
			o.answer(m.ToTag)
			c.compareSDP(l, o, m, body)
		case m.Status >= 200:
			o.answer(m.ToTag)
			l.oaFound = append(l.oaFound, noAnswer(l, o.m, m))
		}
		return body, false
	}
	if body == nil {
		if m.Status >= 200 && !cut && m.CSeqMethod == "INVITE" {
			l.offerMissing(m)
		}
		return body, false
	}
	if m.CSeqMethod != "INVITE" || l.requestOf(m) == nil {
		return body, false // the INVITE not captured (one with SDP offered: above)
	}
	for i := range l.offers {
		if o := &l.offers[i]; !o.m.IsRequest() && o.m.CSeq == m.CSeq && o.m.ToTag == m.ToTag && o.m.FromTag == m.FromTag &&
			o.m.Src == m.Src && o.m.Dst == m.Dst {
			return body, false // the 2xx repeats the offer its reliable provisional response made
		}
	}
	return l.addOffer(m, body, cut)
}

// offerAnswered returns the offer response r answers: its request's, on
// r's hop (answers), the one sent to r's address and port before one sent
// to its address only (a proxy and the server behind it on one host); nil
// when no offer was kept for it.
func (l *Leg) offerAnswered(r *Message) *sdpOffer {
	return l.nearestOffer(r.Src, func(o *Message) bool { return o.IsRequest() && answers(o, r) })
}

// nearestOffer returns the first offer whose message match takes that was
// sent to ap, else the first match takes, else nil: of the offers on a
// hop (matched by address), the one to the very port, where a proxy and
// the server behind it share an address.
func (l *Leg) nearestOffer(ap netip.AddrPort, match func(*Message) bool) *sdpOffer {
	var near *sdpOffer
	for i := range l.offers {
		o := &l.offers[i]
		if !match(o.m) {
			continue
		}
		if o.m.Dst == ap {
			return o
		}
		if near == nil {
			near = o
		}
	}
	return near
}

// mayAnswer reports whether m, without SDP, may be where an answer had to
// be (offerAnswer), or refuses an offer: a final or reliable provisional
// response to an offering request, an ACK or a PRACK. (Most messages of a
// call are none of these: 100, 180, BYE.)
func mayAnswer(m *Message) bool {
	if m.IsRequest() {
		return m.Method == "ACK" || m.Method == "PRACK"
	}
	return (m.Status >= 200 || m.Status > 100 && m.rseqOf() != 0) &&
		(m.CSeqMethod == "INVITE" || m.CSeqMethod == "UPDATE" || m.CSeqMethod == "PRACK")
}

// answers reports whether response r is to request q on q's hop: the same
// request (method, CSeq, From-tag) and sent back by the address q went to.
func answers(q, r *Message) bool {
	return q.Method == r.CSeqMethod && q.CSeq == r.CSeq && q.FromTag == r.FromTag && q.Dst.Addr() == r.Src.Addr()
}

// invited reports whether PRACK q's INVITE (its RAck's CSeq) was captured,
// sent where q goes.
func (l *Leg) invited(q *Message) bool {
	_, cseq := q.rack()
	for _, m := range l.Messages {
		if m.IsRequest() && m.Method == "INVITE" && !m.Retransmission && m.CSeq == cseq && m.FromTag == q.FromTag && m.Dst.Addr() == q.Dst.Addr() {
			return true
		}
	}
	return false
}

// requestOf returns response r's request as captured on r's hop (its
// first sighting), or nil.
func (l *Leg) requestOf(r *Message) *Message {
	if ix := l.index(); ix != nil {
		return ix.requests[requestKey{r.CSeqMethod, r.CSeq, r.FromTag, r.Src.Addr()}]
	}
	for _, q := range l.Messages {
		if q.IsRequest() && !q.Retransmission && answers(q, r) {
			return q
		}
	}
	return nil
}

// answerInResponse takes request q, an ACK or a PRACK, as the answer to
// the offer its 2xx or reliable provisional response made, if one did; it
// reports whether one did. cut is offerAnswer's.
func (c *Correlator) answerInResponse(l *Leg, q *Message, body []byte, cut bool) bool {
	rseq, cseq := q.rack()
	o := l.nearestOffer(q.Src, func(r *Message) bool {
		if r.IsRequest() || r.ToTag != q.ToTag || r.FromTag != q.FromTag || r.Dst.Addr() != q.Src.Addr() {
			return false
		}
		if q.Method == "ACK" {
			return r.CSeq == q.CSeq && r.Status >= 200
		}
		return r.CSeq == cseq && r.rseqOf() == rseq && r.Status < 200 // PRACK
	})
	if o != nil {
		r := o.m
		if o.answeredBy(q.ToTag) {
			return true
		}
		o.answer(q.ToTag)
		switch {
		case o.cut || cut:
		case body == nil:
			l.oaFound = append(l.oaFound, noAnswer(l, r, q))
		default:
			c.compareSDP(l, o, q, body)
		}
		return true
	}
	return false
}

// addOffer keeps m's SDP as an offer and returns the leg's copy of it
// (false: not kept, past maxOffers, or cut short and not copied). The
// offers made in a dialog and settled are forgotten first.
func (l *Leg) addOffer(m *Message, body []byte, cut bool) ([]byte, bool) {
	if len(l.offers) > 0 {
		n := len(l.offers)
		l.offers = slices.DeleteFunc(l.offers, func(o sdpOffer) bool { return o.settled() })
		clear(l.offers[len(l.offers):n])
	}
	if len(l.offers) >= maxOffers {
		return body, false
	}
	if l.offers == nil {
		l.offers = l.offerBuf[:0]
	}
	if cut {
		l.offers = append(l.offers, sdpOffer{m: m, cut: true})
		return body, false
	}
	var cp []byte
	if m.ext != nil && m.ext.sdpRaw != nil {
		cp = m.ext.sdpRaw // kept already (a re-INVITE's, an UPDATE's)
	} else {
		cp = l.copyBytes(body)
	}
	l.offers = append(l.offers, sdpOffer{m: m, body: cp})
	return cp, true
}

// maxOffers bounds the offers a leg keeps at once: those made in a
// dialog go once settled (addOffer), so only offers left open, or an
// INVITE forked to hundreds, fill it; past it, a leg's new offers are not
// checked.
const maxOffers = 256

// noAnswer is the missing-sdp-answer finding: a, which had to carry the
// answer to offer o, carries no SDP.
func noAnswer(l *Leg, o, a *Message) Finding {
	f := Finding{Rule: "missing-sdp-answer", Severity: Error, Packets: []int{a.N, o.N}, RFC: "RFC 3261 §13.2.1"}
	outcome := "no media was agreed"
	if inDialog(l, o) {
		// A re-INVITE or UPDATE: the session goes on, the change unmade.
		outcome = "the media change it offered was never agreed"
		f.RFC = "RFC 3261 §14.1"
	}
	switch {
	case a.IsRequest() && a.Method == "ACK":
		f.Detail = fmt.Sprintf("the INVITE had no SDP, so the %s made the offer; the ACK must carry the answer and carries none: %s", o.Label(), outcome)
	case a.IsRequest():
		f.Detail = fmt.Sprintf("the %s, sent reliably, made an SDP offer; the PRACK must carry the answer and carries none: %s", o.Label(), outcome)
		f.RFC = "RFC 3262 §5"
	default:
		f.Detail = fmt.Sprintf("the %s made an SDP offer, but the %s to it carries no SDP", o.Method, a.Label())
		switch o.Method {
		case "INVITE":
			f.Detail += " and no reliable provisional response answered it"
			if early := earlySDP(l, o, a); early != nil {
				// Most callers take such SDP for the answer: the call may
				// well have had its audio.
				f.Severity = Warning
				f.Detail += fmt.Sprintf("; the %s carried SDP but was not sent reliably (no 100rel, RSeq), so it is no answer: the caller may have used it, but the answer belongs in the %s",
					early.Label(), a.Label())
				f.Packets = append(f.Packets, early.N)
				return f
			}
		case "UPDATE":
			f.RFC = "RFC 3311 §5.2"
		case "PRACK":
			f.RFC = "RFC 3262 §5"
		}
		f.Detail += ": " + outcome
	}
	return f
}

// offerMissing notes a missing-sdp-offer when 2xx r, without SDP,
// answers an INVITE that had none, on r's hop, and no reliable provisional
// response of r's dialog offered: the 2xx had to make the offer (RFC 3261
// §13.3.1.4), and with none there is nothing for the ACK to answer. An
// INVITE not captured, or with SDP whose offer was not kept (past
// maxOffers), is not judged; one the capture cut short kept an offer
// (addOffer), so its 2xx never comes here.
func (l *Leg) offerMissing(r *Message) {
	q := l.requestOf(r)
	if q == nil || q.hasSDP {
		return
	}
	for _, p := range l.Messages {
		if !p.IsRequest() && p.hasSDP && (p.Status >= 200 && p.Status < 300 || p.rseqOf() != 0) && p.ToTag == r.ToTag && answers(q, p) {
			return // it offered: a reliable 183, or a 2xx before r (r then repeats it without its body)
		}
	}
	f := Finding{Rule: "missing-sdp-offer", Severity: Error, Packets: []int{r.N, q.N}, RFC: "RFC 3261 §13.3.1.4",
		Detail: fmt.Sprintf("the INVITE had no SDP, so the %s had to make the offer, and it carries none (nor did a reliable provisional response): the call was set up with no media agreed", r.Label())}
	if q.ToTag != "" {
		// A re-INVITE without SDP (a refresh, or asking the far end for
		// its media): the session goes on with what was agreed before.
		f.Severity, f.RFC = Warning, "RFC 3261 §13.3.1.4, §14.2"
		f.Detail = fmt.Sprintf("the re-INVITE had no SDP, so the %s had to make the offer, and it carries none: nothing was negotiated, the session keeps the media agreed before", r.Label())
	} else if early := earlySDP(l, q, r); early != nil {
		f.Detail += fmt.Sprintf("; the %s carried SDP but was not sent reliably (no 100rel, RSeq), so it is no offer: the caller may have used it, but the offer belongs in the %s",
			early.Label(), r.Label())
		f.Packets = append(f.Packets, early.N)
	}
	l.oaFound = append(l.oaFound, f)
}

// inDialog reports whether offer o was made in a dialog: its request had
// a To-tag (a re-INVITE, an UPDATE after the answer), or, for an offer in
// a response, the INVITE it answers had one.
func inDialog(l *Leg, o *Message) bool {
	if !o.IsRequest() {
		if o = l.requestOf(o); o == nil {
			return false
		}
	}
	return o.ToTag != ""
}

// earlySDP returns the first provisional response with SDP of a's
// dialog to INVITE o, on a's hop, or nil: one not sent reliably, since a
// reliable one would have answered (noAnswer), or offered (offerMissing).
func earlySDP(l *Leg, o, a *Message) *Message {
	for _, r := range l.Messages {
		if !r.IsRequest() && r.Status < 200 && r.hasSDP && r.ToTag == a.ToTag && answers(o, r) {
			return r
		}
	}
	return nil
}

// compareSDP compares the answer a carries (body) with offer o and keeps
// what is wrong with it (answerFaults).
func (c *Correlator) compareSDP(l *Leg, o *sdpOffer, a *Message, body []byte) {
	if sameMediaLines(o.body, body) && firstAddrType(o.body) == firstAddrType(body) {
		return // the usual answer: the offer's lines, other ports, addresses of the offer's family
	}
	off, ans := &c.oaScratch[0], &c.oaScratch[1]
	if decode.ParseSDP(o.body, off) != nil || decode.ParseSDP(body, ans) != nil {
		return // an m= line unreadable: the lines cannot be paired
	}
	for _, f := range answerFaults(off, ans, o.m, a) {
		f.Rule, f.Packets = "sdp-answer-mismatch", []int{a.N, o.m.N}
		l.oaFound = append(l.oaFound, f)
	}
}

// answerFaults returns what RFC 3264 forbids in answer ans to offer off,
// which messages a and o carried: another number of m= lines (§6), a
// stream the offer removed taken up again (§8.2), a stream accepted with
// no format in common (§6.1). Rule and packets are left to the caller.
func answerFaults(off, ans *decode.SDP, o, a *Message) []Finding {
	var fs []Finding
	what := func(m *Message) string {
		if m.IsRequest() {
			return m.Method
		}
		return m.Label()
	}
	add := func(sev Severity, rfc, format string, args ...any) {
		fs = append(fs, Finding{Severity: sev, RFC: rfc, Detail: "the answer (" + what(a) + ") " + fmt.Sprintf(format, args...)})
	}
	if len(ans.Media) != len(off.Media) {
		add(Error, "RFC 3264 §6", "has %s where the offer (%s) has %d: streams pair by their order, so an answer has exactly the offer's lines (one refused with port 0)",
			plural(len(ans.Media), "m= line"), what(o), len(off.Media))
		return fs
	}
	for i := range ans.Media {
		om, am := &off.Media[i], &ans.Media[i]
		if am.Port == 0 {
			continue // refused
		}
		if om.Port == 0 {
			if !om.BundleOnly {
				add(Warning, "RFC 3264 §8.2", "takes up the %s stream (m= line %d, port %d) that the offer (%s) removed with port 0",
					om.Type, i+1, am.Port, what(o))
			}
			continue
		}
		if len(om.Formats) == 0 || len(am.Formats) == 0 {
			continue // not RTP, or nothing listed: nothing to compare
		}
		if f, ok := otherFamily(om, am); ok {
			add(Error, "RFC 6157", "gives the %s stream (m= line %d) an %s address (%s) where the offer (%s) gave an %s one (%s): an answer keeps the offer's network type, since a host of one address family cannot reach the other; unless a NAT64 or a media relay bridges the two, no media can flow",
				am.Type, i+1, f[1], am.Conn, what(o), f[0], om.Conn)
		}
		if !formatInCommon(om, am) {
			add(Error, "RFC 3264 §6.1", "accepts the %s stream (m= line %d) with %s where the offer (%s) listed %s: no codec in common, so no media can be decoded (an answerer refuses a stream it shares no format with, port 0)",
				am.Type, i+1, formatList(am), what(o), formatList(om))
		}
	}
	return fs
}

// firstAddrType returns the address type of body's first c= line ('4'
// for "c=IN IP4", '6' for "c=IN IP6"), 0 when it has none of the two: the
// session's, most often, which sameMediaLines does not compare.
func firstAddrType(body []byte) byte {
	// By 'c' and what follows, not bytes.Index: this runs for every answer,
	// and a c= line comes in a session's first few lines.
	for p := 0; ; {
		j := bytes.IndexByte(body[p:], 'c')
		if j < 0 {
			return 0
		}
		j += p
		if j+7 < len(body) && (j == 0 || body[j-1] == '\n') && string(body[j+1:j+7]) == "=IN IP" {
			if t := body[j+7]; t == '4' || t == '6' {
				return t
			}
			return 0
		}
		p = j + 1
	}
}

// otherFamily reports whether answer line am's connection address is of
// another family than offer line om's (IPv4 against IPv6; an
// IPv4-mapped IPv6 address counts as IPv4), and names the two ("IPv4",
// "IPv6"). An unspecified address (hold, or ICE's
// placeholder) and a line with ICE, whose c= is only a default candidate,
// are not judged.
func otherFamily(om, am *decode.Media) ([2]string, bool) {
	o, a := om.Conn.Unmap(), am.Conn.Unmap() // ::ffff:a.b.c.d names an IPv4 host
	if !o.IsValid() || !a.IsValid() || o.IsUnspecified() || a.IsUnspecified() || om.ICE || am.ICE || o.Is4() == a.Is4() {
		return [2]string{}, false
	}
	name := func(x netip.Addr) string {
		if x.Is4() {
			return "IPv4"
		}
		return "IPv6"
	}
	return [2]string{name(o), name(a)}, true
}

// sameMediaLines reports whether answer b's media descriptions are offer
// a's but for the first m= line's port, a number other than 0 in both:
// everything from the first m= line on is the same, bytes for bytes, so
// the answer takes every offered stream with every offered format under
// the same rtpmap, which nothing in compareSDP faults (FuzzSameMediaLines).
// It is the usual answer of a phone that offers one codec, and far cheaper
// than parsing both bodies: it runs for every call. An "m=" after white
// space at a line's start (decode.ParseSDP reads it as an m= line) or at
// the body's (ParseSDP fails: a body starts with v=) fails it.
func sameMediaLines(a, b []byte) bool {
	ia, okA := firstMediaLine(a)
	ib, okB := firstMediaLine(b)
	if !okA || !okB || ia < 0 || ib < 0 {
		return okA && okB && ia < 0 && ib < 0 // no media at all
	}
	a, b = a[ia:], b[ib:]
	// The media type and its space, the same in both (by hand: a word of
	// five letters is shorter than a call to search it).
	k := 0
	for ; k < len(a) && k < len(b) && a[k] == b[k] && a[k] != ' ' && a[k] != '\t'; k++ {
	}
	if k == len(a) || k == len(b) || a[k] != ' ' || b[k] != ' ' {
		return false // a tab: ParseSDP splits there too, and the port may be anywhere
	}
	a, b = a[k+1:], b[k+1:]
	pa, pb := portLen(a), portLen(b)
	return pa > 0 && pb > 0 && string(a[pa:]) == string(b[pb:])
}

// firstMediaLine returns where body's first m= line starts (-1 when it has
// none); ok is false when an "m=" comes after white space or at the
// body's start (sameMediaLines). An "m=" elsewhere (in a value) is passed
// over.
func firstMediaLine(body []byte) (i int, ok bool) {
	for p := 0; ; {
		j := bytes.IndexByte(body[p:], 'm')
		if j < 0 {
			return -1, true
		}
		j += p
		if j+1 < len(body) && body[j+1] == '=' {
			if j == 0 {
				return 0, false
			}
			switch body[j-1] {
			case '\n':
				return j, true
			case ' ', '\t':
				return 0, false
			}
		}
		p = j + 1
	}
}

// portLen returns the length of the port ("49170", "49170/2") that v, an
// m= line from its port on, starts with, up to the space after it; 0 when
// it is not a number other than 0 followed by a space.
func portLen(v []byte) int {
	n, nonzero := 0, false
	for ; n < len(v) && v[n] != '/' && v[n] != ' '; n++ {
		if c := v[n]; c < '0' || c > '9' {
			return 0
		} else if c != '0' {
			nonzero = true
		}
	}
	if !nonzero || n > 5 {
		return 0
	}
	if n < len(v) && v[n] == '/' { // a count: /2
		for n++; n < len(v) && v[n] >= '0' && v[n] <= '9'; n++ {
		}
	}
	if n == len(v) || v[n] != ' ' {
		return 0
	}
	return n
}

// formatInCommon reports whether answer line am lists a format offer line
// om listed: the same static payload type, or a dynamic one with the same
// encoding name and clock (RFC 3264 §6.1 lets the answer number it
// differently). Telephone events and comfort noise do not count when the
// answer lists anything else: they carry no voice.
func formatInCommon(om, am *decode.Media) bool {
	main, aux := false, false
	for _, pt := range am.Formats {
		f := formatOf(am, pt)
		side := f.side()
		main = main || !side
		if !offered(om, f) {
			continue
		}
		if !side {
			return true
		}
		aux = true
	}
	return !main && aux
}

// format is a payload type as a media line names it: by its a=rtpmap
// (the name as written), else by RFC 3551's static table.
type format struct {
	pt     int
	rtpmap []byte // the a=rtpmap's encoding name; nil when none names it
	static string // the static table's name, when no rtpmap does ("" if none)
	clock  int    // 0 when unknown
}

// formatOf is payload type pt as line md names it.
func formatOf(md *decode.Media, pt int) format {
	if rm, ok := md.RTPMap(pt); ok {
		return format{pt: pt, rtpmap: rm.Name, clock: rm.Clock}
	}
	f := format{pt: pt}
	if pt < 96 {
		f.static, f.clock = media.StaticPayload(uint8(pt))
	}
	return f
}

// named reports whether anything names the format.
func (f format) named() bool { return len(f.rtpmap) > 0 || f.static != "" }

// is reports whether the format's name is name, in any case.
func (f format) is(name string) bool {
	if f.rtpmap == nil {
		return strings.EqualFold(f.static, name)
	}
	return bytesEqualFold(f.rtpmap, name)
}

// sameName reports whether two formats have the same name, in any case.
func (f format) sameName(g format) bool {
	if g.rtpmap == nil {
		return f.is(g.static)
	}
	if f.rtpmap == nil {
		return g.is(f.static)
	}
	return bytes.EqualFold(f.rtpmap, g.rtpmap)
}

// side reports whether a format is one that goes beside a codec and
// carries no media of its own: telephone events (RFC 4733), comfort noise
// (RFC 3389), retransmission (RFC 4588), redundancy (RFC 2198) and forward
// error correction (RFC 5109, RFC 8627).
func (f format) side() bool {
	return f.pt == 13 || f.pt == 19 || f.is("telephone-event") || f.is("CN") || f.is("rtx") || f.is("red") ||
		f.is("ulpfec") || f.is("flexfec")
}

// offered reports whether offer line om lists format f of the answer.
func offered(om *decode.Media, f format) bool {
	for _, opt := range om.Formats {
		if opt == f.pt && (f.pt < 96 || !f.named()) {
			return true
		}
		g := formatOf(om, opt)
		if f.named() && f.sameName(g) && (f.clock == 0 || g.clock == 0 || f.clock == g.clock) {
			return true
		}
	}
	return false
}

// formatList is a line's formats as "PCMU (0), telephone-event/8000
// (101)": the rtpmap's name and clock, else RFC 3551's name.
func formatList(md *decode.Media) string {
	var b strings.Builder
	for i, pt := range md.Formats {
		if i > 0 {
			b.WriteString(", ")
		}
		f := formatOf(md, pt)
		switch {
		case len(f.rtpmap) > 0 && f.clock > 0:
			fmt.Fprintf(&b, "%s/%d (%d)", f.rtpmap, f.clock, pt)
		case len(f.rtpmap) > 0:
			fmt.Fprintf(&b, "%s (%d)", f.rtpmap, pt)
		case f.static != "":
			fmt.Fprintf(&b, "%s (%d)", f.static, pt)
		default:
			fmt.Fprintf(&b, "payload type %d", pt)
		}
	}
	return b.String()
}

// plural is "1 m= line", "2 m= lines".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// checkOfferAnswer reports what offerAnswer found wrong as the call went.
func checkOfferAnswer(c *Call) []Finding {
	var fs []Finding
	for _, l := range c.Legs {
		if len(l.oaFound) > 0 {
			fs = append(fs, l.oaFound...)
		}
	}
	return fs
}
