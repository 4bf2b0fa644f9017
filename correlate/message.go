package correlate

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/media"
)

// Message is a SIP message kept by a call: the few fields correlation,
// checks and rendering need, copied out of the decoder's buffers. What few
// messages carry (a Reason header, an Event, the full text) is reached
// through methods, so that a message costs little memory.
type Message struct {
	N         int // packet number
	Time      time.Time
	Src, Dst  netip.AddrPort
	Transport decode.Transport
	ipID      uint16 // decode.Message.IPID: copyOf tells a copy of the packet from another send by it
	// recordRoute: a 2xx to an INVITE carries Record-Route, so the ACK and
	// the BYE follow the proxies that relayed it (checkMissingACK).
	recordRoute bool
	// unregister: a REGISTER that removes its bindings (RemovesBindings).
	unregister bool

	Method     string // request method; "" for a response
	RequestURI string
	Status     int // response status; 0 for a request
	Reason     string

	CallID     string
	CSeq       uint32
	size       uint32 // the message's length in bytes (copyOf)
	CSeqMethod string
	FromTag    string
	ToTag      string
	Agent      string // User-Agent or Server

	HasAuth        bool // carries Authorization or Proxy-Authorization
	Retransmission bool // the same message was seen before (RFC 3261 §17)
	hasSDP         bool
	refresher      byte  // a 2xx's Session-Expires refresher: 'c' uac, 's' uas, 0 none (RFC 4028 §4)
	sessionExpires int32 // a 2xx's Session-Expires interval in seconds; 0 when absent
	Leg            int   // index into Call.Legs

	ext *messageExt // nil for most messages
}

// messageExt holds what few messages carry.
type messageExt struct {
	encap, reasonHeader, event, referTo, sipfrag string
	expires                                      int
	// replaces: the dialog an INVITE's Replaces header names, or a
	// REFER's Refer-To (replaces.go).
	replaces *replacesRef
	// diverted: what an INVITE's Diversion and History-Info headers say
	// (diversionSummary), "" when it has neither; divertedKey: the
	// forwarding it is, the same on every hop that relays it.
	diverted, divertedKey string
	// A NOTIFY's Subscription-State (RFC 6665 §8.2.3): terminated, its
	// reason parameter (lower case) when it is, and its expires parameter
	// in seconds (-1 when absent).
	terminated bool
	subReason  string
	subExpires int
	// rseq: a reliable provisional response's RSeq, rack a PRACK's RAck
	// (RFC 3262 §7.1, §7.2); 0 when absent or not a number.
	rseq               uint32
	rackRSeq, rackCSeq uint32
	// warning: a failure response's Warning header values (RFC 3261
	// §20.43), "; " between them.
	warning string
	// dtmf: the key an INFO carries (parseDTMF), dtmfMs how long it was
	// pressed (0 when the body does not say).
	dtmf   string
	dtmfMs int
	// lean: the SDP is one lean mode keeps too (keepLeanSDP); with
	// Options.KeepSDP every SDP is kept, and what must agree with lean
	// mode reads only these (leanSDP).
	lean        bool
	raw, sdpRaw []byte
	sdp         *SDP
	parts       []int
}

func (m *Message) extra() *messageExt {
	if m.ext == nil {
		m.ext = &messageExt{expires: -1, subExpires: -1}
	}
	return m.ext
}

// Encap is the tunnel or encapsulation the message came out of ("" if none).
func (m *Message) Encap() string {
	if m.ext == nil {
		return ""
	}
	return m.ext.encap
}

// ReasonHeader is the Reason header (RFC 3326), not the status reason.
func (m *Message) ReasonHeader() string {
	if m.ext == nil {
		return ""
	}
	return m.ext.reasonHeader
}

// Warning is a failure response's Warning header (RFC 3261 §20.43: a
// code, the agent that added it, its text), several joined by "; "; ""
// when it has none, and for other messages.
func (m *Message) Warning() string {
	if m.ext == nil {
		return ""
	}
	return m.ext.warning
}

// Event is the Event header (SUBSCRIBE, NOTIFY).
func (m *Message) Event() string {
	if m.ext == nil {
		return ""
	}
	return m.ext.event
}

// ReferTo is the Refer-To URI (REFER).
func (m *Message) ReferTo() string {
	if m.ext == nil {
		return ""
	}
	return m.ext.referTo
}

// Sipfrag is the first line of a message/sipfrag body (NOTIFY after REFER).
func (m *Message) Sipfrag() string {
	if m.ext == nil {
		return ""
	}
	return m.ext.sipfrag
}

// leanSDP is m's SDP when lean mode keeps it too (messageExt.lean), nil
// otherwise.
func (m *Message) leanSDP() *SDP {
	if m.ext == nil || !m.ext.lean {
		return nil
	}
	return m.SDP()
}

// DTMF is the key an INFO carries (RFC 6086 lets INFO carry DTMF: an
// application/dtmf-relay body's Signal, or an application/dtmf body), and
// how long it was pressed in milliseconds (0 when the body does not say);
// "" for any other message.
func (m *Message) DTMF() (key string, ms int) {
	if m.ext == nil {
		return "", 0
	}
	return m.ext.dtmf, m.ext.dtmfMs
}

// Expires is the Expires header, -1 when absent.
func (m *Message) Expires() int {
	if m.ext == nil {
		return -1
	}
	return m.ext.expires
}

// endsSubscription reports whether m is a NOTIFY whose Subscription-State
// is terminated: the subscription is over.
func (m *Message) endsSubscription() bool { return m.ext != nil && m.ext.terminated }

// subscriptionState returns what a NOTIFY's Subscription-State says
// beyond terminated: the reason it was terminated for ("" when none was
// given) and how many seconds an active or pending subscription has left
// (-1 when not said).
func (m *Message) subscriptionState() (reason string, expires int) {
	if m.ext == nil {
		return "", -1
	}
	return m.ext.subReason, m.ext.subExpires
}

// Raw is the full message text when Options.KeepRaw was set, else nil.
func (m *Message) Raw() []byte {
	if m.ext == nil {
		return nil
	}
	return m.ext.raw
}

// Packets returns the numbers of the packets the message came in: more
// than N alone when it was rebuilt from IP fragments or TCP segments.
func (m *Message) Packets() []int {
	if m.ext == nil || m.ext.parts == nil {
		return []int{m.N}
	}
	return m.ext.parts
}

// HasSDP reports whether the message carried an SDP body (kept or not).
func (m *Message) HasSDP() bool { return m.hasSDP }

// SDP returns the message's SDP, or nil when it has none, none that parses,
// or it was not kept (Options.KeepSDP). It is parsed on first use.
func (m *Message) SDP() *SDP {
	if m.ext == nil {
		return nil
	}
	x := m.ext
	if x.sdp == nil && x.sdpRaw != nil {
		var scratch decode.SDP
		x.sdp = convertSDP(x.sdpRaw, &scratch)
		if x.sdp == nil {
			x.sdpRaw = nil
		}
	}
	return x.sdp
}

// IsRequest reports whether m is a request.
func (m *Message) IsRequest() bool { return m.Status == 0 }

// Label is the method for a request, or "status reason" for a response.
func (m *Message) Label() string {
	if m.IsRequest() {
		return m.Method
	}
	return itoa3(m.Status) + " " + m.Reason
}

// SDP is the part of an SDP body sipflow uses: where media goes and how.
type SDP struct {
	Origin string // the o= line's value: unchanged while the session is (RFC 3264 §8)
	Media  []Media
}

// Media is one m= line with its connection address and attributes.
type Media struct {
	Type      string     // audio, video, image, ...
	Addr      netip.Addr // media-level c=, else session-level; invalid when absent or a name
	Port      int
	Proto     string
	Payloads  []int
	Codecs    []string // one per payload type: rtpmap name, or RFC 3551 static name
	Clocks    []int    // clock rate per payload type (0 when unknown)
	Direction string   // sendrecv, sendonly, recvonly, inactive
	RTCPPort  int
	RTCPMux   bool
	Hold      bool // sendonly/inactive, or c=0.0.0.0 (RFC 2543 hold; not with ICE)
	ICE       bool // ICE chooses the address (decode.Media.ICE): c=0.0.0.0 is then a placeholder
	// Candidates are the line's ICE candidates over UDP (decode.Media.Candidates):
	// where else ICE may have sent the stream.
	Candidates []Candidate
	// T38Version is the line's a=T38FaxVersion (0 when absent).
	T38Version int
}

// Candidate is one ICE candidate of a media line (RFC 8839 §5.1).
type Candidate struct {
	Component int            // 1 RTP, 2 RTCP
	Addr      netip.AddrPort // where it receives
	Type      string         // host, srflx, prflx, relay, other
}

// rtpAddr is where the line says its RTP goes: c= and the m= port, or,
// when c= is ICE's placeholder 0.0.0.0 (trickle ICE, RFC 8840 §4.2) or
// absent, its first RTP candidate. ok is false when neither is known.
func (m *Media) rtpAddr() (ap netip.AddrPort, ok bool) {
	if m.Addr.IsValid() && !(m.ICE && m.Addr.IsUnspecified()) {
		return netip.AddrPortFrom(m.Addr, uint16(m.Port)), true
	}
	for _, c := range m.Candidates {
		if c.Component == 1 {
			return c.Addr, true
		}
	}
	return netip.AddrPort{}, false
}

// receivesAt reports whether RTP sent to ap reaches this line: its c= and
// port, or one of its RTP candidates.
func (m *Media) receivesAt(ap netip.AddrPort) bool {
	if ap.Port() == uint16(m.Port) && ap.Addr() == m.Addr {
		return true
	}
	for _, c := range m.Candidates {
		if c.Component == 1 && c.Addr == ap {
			return true
		}
	}
	return false
}

// T38 reports whether the line is T.38 fax over UDPTL (m=image ... udptl
// t38, RFC 3362, ITU-T T.38 Annex D), or over DTLS (UDP/TLS/UDPTL, RFC
// 7345).
func (m *Media) T38() bool {
	return strings.EqualFold(m.Type, "image") && (strings.EqualFold(m.Proto, "udptl") || strings.EqualFold(m.Proto, "UDP/TLS/UDPTL"))
}

// T38 returns the body's T.38 line with a port (a stream offered or
// accepted, not refused), or nil.
func (s *SDP) T38() *Media {
	for i := range s.Media {
		if m := &s.Media[i]; m.Port != 0 && m.T38() {
			return m
		}
	}
	return nil
}

// Summary is a one-line description: codecs (T.38 for a fax line),
// address:port, direction.
func (s *SDP) Summary() string {
	var b strings.Builder
	for i, m := range s.Media {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(m.Type)
		b.WriteByte(' ')
		if m.T38() {
			b.WriteString("T.38")
		}
		for j, c := range m.Codecs {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(c)
		}
		b.WriteByte(' ')
		if m.Addr.IsValid() {
			b.WriteString(netip.AddrPortFrom(m.Addr, uint16(m.Port)).String())
		} else {
			b.WriteString("?:" + itoa(m.Port))
		}
		b.WriteByte(' ')
		b.WriteString(m.Direction)
		m.summarizeCandidates(&b)
	}
	return b.String()
}

// summarizeCandidates writes ", ICE type addr:port, ..." for the line's
// RTP candidates, the first three and a count of the rest: with ICE they,
// not c=, say where the media may go.
func (m *Media) summarizeCandidates(b *strings.Builder) {
	const shown = 3
	n := 0
	for _, c := range m.Candidates {
		if c.Component != 1 {
			continue
		}
		if n++; n > shown {
			continue
		}
		if n == 1 {
			b.WriteString(", ICE ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(c.Type + " " + c.Addr.String())
	}
	if n > shown {
		b.WriteString(" +" + itoa(n-shown))
	}
}

// converter turns decode.Messages into kept Messages. Methods, common
// reason phrases and header names come from constant tables; strings that
// repeat within a call are interned by the leg; so a message costs a
// handful of allocations.
type converter struct {
	keepRaw, keepSDP bool
}

// token returns well-known methods and reason phrases without allocating,
// and any other as a string of its own.
func token(b []byte) string {
	switch string(b) {
	case "INVITE":
		return "INVITE"
	case "ACK":
		return "ACK"
	case "BYE":
		return "BYE"
	case "CANCEL":
		return "CANCEL"
	case "REGISTER":
		return "REGISTER"
	case "OPTIONS":
		return "OPTIONS"
	case "PRACK":
		return "PRACK"
	case "SUBSCRIBE":
		return "SUBSCRIBE"
	case "NOTIFY":
		return "NOTIFY"
	case "PUBLISH":
		return "PUBLISH"
	case "INFO":
		return "INFO"
	case "REFER":
		return "REFER"
	case "MESSAGE":
		return "MESSAGE"
	case "UPDATE":
		return "UPDATE"
	case "OK":
		return "OK"
	case "Trying":
		return "Trying"
	case "Ringing":
		return "Ringing"
	case "Session Progress":
		return "Session Progress"
	case "Unauthorized":
		return "Unauthorized"
	case "Proxy Authentication Required":
		return "Proxy Authentication Required"
	case "Request Terminated":
		return "Request Terminated"
	case "Busy Here":
		return "Busy Here"
	}
	// Not interned: a reason phrase becomes the Call's Reason, which
	// outlives the leg's memory (intern).
	return string(b)
}

func (c *converter) convert(d *decode.Message, l *Leg, linkHeaders []string, links *[]string) *Message {
	m := l.newMessage()
	*m = Message{
		N: d.N, Time: d.Time, Src: d.Src, Dst: d.Dst, Transport: d.Transport,
		Status: d.StatusCode, CSeq: d.CSeq, ipID: d.IPID, size: uint32(len(d.Raw)),
		FromTag: l.intern(d.From.Tag), ToTag: l.intern(d.To.Tag),
	}
	if d.Encap != "" {
		m.extra().encap = d.Encap
	}
	if len(d.Parts) > 1 {
		m.extra().parts = slices.Clone(d.Parts)
	}
	if d.IsRequest() {
		m.Method = token(d.Method)
		m.RequestURI = l.intern(d.RequestURI)
	} else {
		m.Reason = token(d.Reason)
	}
	m.CSeqMethod = token(d.CSeqMethod)
	if d.HasRareHeaders() { // else all of these are empty: their memory is not read
		convertRare(d, l, m)
	}
	*links = (*links)[:0]
	for i := 0; i < len(d.Headers) && len(linkHeaders) > 0; i++ {
		h := &d.Headers[i]
		if len(h.Value) == 0 {
			continue
		}
		for _, lh := range linkHeaders {
			if bytesEqualFold(h.Name, lh) {
				*links = append(*links, string(bytes.TrimSpace(h.Value)))
			}
		}
	}
	m.hasSDP = d.SDP != nil
	if m.Status >= 300 {
		convertWarning(d, m)
	}
	if m.Method == "REGISTER" {
		m.unregister = RemovesBindings(d)
	}
	if m.Status >= 200 && m.Status < 300 && m.CSeqMethod == "INVITE" {
		m.recordRoute = headerWith(d, "record-route", nil)
	}
	// Lean, only offers made in a dialog keep their SDP (re-INVITE and
	// UPDATE offers, and a late offer's 2xx: hold and resume), with their
	// answers (a 2xx, a late offer's ACK), and the offer and answer of a
	// session with a timer (so that its refreshes can be told from
	// changes: flowView). That includes a timer the UAS adds to an INVITE
	// that only supports one (RFC 4028 §9): the caller's refresh repeats
	// the offer of its INVITE, or of its ACK when the 200 made the offer.
	// With Options.KeepSDP every SDP is kept, and lean says which lean mode
	// keeps too.
	if d.SDP != nil {
		if lean := keepLeanSDP(d, l, m); lean || c.keepSDP {
			e := m.extra()
			e.sdpRaw, e.lean = bytes.Clone(d.SDP), lean
		}
	}
	if m.Method == "NOTIFY" {
		for i := range d.Headers {
			if h := &d.Headers[i]; string(h.Name) == "subscription-state" {
				e := m.extra()
				e.terminated, e.subReason, e.subExpires = parseSubscriptionState(h.Value)
				break
			}
		}
	}
	if len(d.Body) > 0 && d.SDP == nil {
		switch {
		case m.Method == "NOTIFY" && hasPrefixFold(d.ContentType, "message/sipfrag"):
			line := d.Body
			if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
				line = line[:i]
			}
			m.extra().sipfrag = string(line)
		case m.Method == "INFO":
			if key, ms := parseDTMF(d.ContentType, d.Body); key != "" {
				e := m.extra()
				e.dtmf, e.dtmfMs = key, ms
			}
		}
	}
	if c.keepRaw {
		m.extra().raw = bytes.Clone(d.Raw)
	}
	return m
}

// maxDTMFKey bounds the key an INFO's body may name: 0-9, *, #, A-D, a
// flash ("!", "16") are one or two characters.
const maxDTMFKey = 8

// parseDTMF returns the key and duration (milliseconds, 0 when absent) an
// INFO body of content type ct carries: application/dtmf-relay's
// "Signal=5" and "Duration=160" lines (keys in any case, blanks around
// "="), or application/dtmf's first line, the key itself. A key longer
// than maxDTMFKey, or with a byte that is not printable ASCII, is none.
func parseDTMF(ct, body []byte) (key string, ms int) {
	var k []byte
	switch {
	case hasPrefixFold(ct, "application/dtmf-relay"):
		for len(body) > 0 {
			line := body
			if i := bytes.IndexByte(body, '\n'); i >= 0 {
				line, body = body[:i], body[i+1:]
			} else {
				body = nil
			}
			name, value, ok := bytes.Cut(line, []byte("="))
			if !ok {
				continue
			}
			name, value = bytes.TrimSpace(name), bytes.TrimSpace(value)
			switch {
			case bytes.EqualFold(name, []byte("signal")):
				k = value
			case bytes.EqualFold(name, []byte("duration")) && len(value) <= 9: // an int on any platform
				ms = max(atoi(value), 0)
			}
		}
	case hasPrefixFold(ct, "application/dtmf"):
		k = body
		if i := bytes.IndexAny(k, "\r\n"); i >= 0 {
			k = k[:i]
		}
		k = bytes.TrimSpace(k)
	default:
		return "", 0
	}
	if len(k) == 0 || len(k) > maxDTMFKey {
		return "", 0
	}
	for _, b := range k {
		if b <= ' ' || b > '~' {
			return "", 0
		}
	}
	return string(k), ms
}

// parseRAck reads a RAck value (RFC 3262 §7.2: the RSeq and the CSeq
// number of the response it acknowledges, then the CSeq method); 0 for a
// number that is missing or not one.
func parseRAck(v []byte) (rseq, cseq uint32) {
	f := bytes.Fields(v)
	if len(f) >= 2 {
		rseq, cseq = seqNumber(f[0]), seqNumber(f[1])
	}
	return rseq, cseq
}

// seqNumber is b as an RSeq or CSeq number, 0 when b is not all digits
// or does not fit 32 bits: decode reads a response's RSeq and a CSeq so
// (RFC 3262 §7.1 and RFC 3261 §8.1.1.5 want them below 2**31), and a RAck
// must give the numbers they were read as to match them.
func seqNumber(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0
		}
		if n = n*10 + uint64(c-'0'); n >= 1<<32 {
			return 0
		}
	}
	return uint32(n)
}

// rseqOf is a reliable provisional response's RSeq (RFC 3262 §7.1), 0
// for any other message.
func (m *Message) rseqOf() uint32 {
	if m.ext == nil {
		return 0
	}
	return m.ext.rseq
}

// rack is a PRACK's RAck: the RSeq and CSeq number it acknowledges.
func (m *Message) rack() (rseq, cseq uint32) {
	if m.ext == nil {
		return 0, 0
	}
	return m.ext.rackRSeq, m.ext.rackCSeq
}

// keepLeanSDP reports whether m, with an SDP body, keeps it lean (convert);
// it notes a leg whose requests offer in a dialog (Leg.reoffered).
func keepLeanSDP(d *decode.Message, l *Leg, m *Message) bool {
	switch m.Method {
	case "INVITE":
		l.reoffered = l.reoffered || m.ToTag != ""
		return m.ToTag != "" || d.SessionExpires != nil || supportsTimer(d)
	case "UPDATE":
		l.reoffered = l.reoffered || m.ToTag != ""
		return true
	case "ACK":
		// The answer to a late offer made in a dialog (a re-INVITE without
		// SDP): what the change came to, as a 2xx answers an offer.
		return l.timer || l.reoffered && l.lateOfferOf(m) != nil
	case "":
		if !l.reoffered && l.openDialogs == 0 || m.Status < 200 || m.Status >= 300 || m.CSeqMethod != "INVITE" && m.CSeqMethod != "UPDATE" {
			break // most: the INVITE's own answer
		}
		// The answer to a re-INVITE's or UPDATE's offer: what the change
		// came to (computeEvents: a switch to T.38 fax and back); or the
		// offer a re-INVITE without SDP asked for.
		if l.reoffered && (l.inDialogOffer(m) != nil || l.lateReINVITE(m) != nil) {
			return true
		}
		// A re-INVITE's 2xx captured before its re-INVITE (a few
		// milliseconds of disorder between capture points): kept, for it
		// may make a late offer.
		if m.CSeqMethod == "INVITE" && l.openDialogs > 0 && l.reINVITEd(m) && l.requestOf(m) == nil {
			l.reoffered = true
			return true
		}
	}
	return d.SessionExpires != nil
}

// inDialogOffer returns response r's request, as captured on r's hop,
// when it made an offer in a dialog: a re-INVITE or UPDATE with SDP (its
// To-tag set). nil otherwise.
func (l *Leg) inDialogOffer(r *Message) *Message {
	if q := l.requestOf(r); q != nil && q.ToTag != "" && q.hasSDP {
		return q
	}
	return nil
}

// reINVITEd reports whether response r of leg l answers a re-INVITE: its
// dialog was confirmed by another 2xx than r (one to another INVITE, or
// of another sender's).
func (l *Leg) reINVITEd(r *Message) bool {
	d := l.findDialog(r.FromTag, r.ToTag)
	return d != nil && d.ok != nil && (d.ok.CSeq != r.CSeq || d.ok.FromTag != r.FromTag)
}

// lateReINVITE returns response r's request, as captured on r's hop, when
// it is a re-INVITE without SDP (a late offer in a dialog: the 2xx makes
// the offer and the ACK answers it, RFC 3261 §14.1). nil otherwise.
func (l *Leg) lateReINVITE(r *Message) *Message {
	if r.CSeqMethod != "INVITE" {
		return nil
	}
	if q := l.requestOf(r); q != nil && q.ToTag != "" && !q.hasSDP {
		return q
	}
	return nil
}

// lateOfferOf returns the 2xx with SDP that ACK a answers when it made a
// late offer in a dialog (lateReINVITE): the last INVITE response
// captured before a, of a's CSeq and From-tag, sent to where a comes
// from. nil otherwise.
func (l *Leg) lateOfferOf(a *Message) *Message {
	ms := l.Messages
	if ix := l.index(); ix != nil {
		ms = ix.exchange[cseqKey{a.CSeq, a.FromTag}]
	}
	for i := len(ms) - 1; i >= 0; i-- {
		r := ms[i]
		if r.N >= a.N || r.IsRequest() || r.CSeqMethod != "INVITE" || r.CSeq != a.CSeq || r.FromTag != a.FromTag || r.Dst.Addr() != a.Src.Addr() {
			continue // not the 2xx (a CANCEL's may cross it, RFC 3261 §9.2)
		}
		if r.Status >= 200 && r.Status < 300 && r.hasSDP && l.lateReINVITE(r) != nil {
			return r
		}
		return nil
	}
	return nil
}

// headerWith reports whether one of d's Headers (those without a field of
// their own) is called name (canonical, lower case) and has a value ok
// accepts; a nil ok accepts any. decode splits a list header's values, one
// Header each, trimmed.
func headerWith(d *decode.Message, name string, ok func(value []byte) bool) bool {
	for i := range d.Headers {
		if h := &d.Headers[i]; string(h.Name) == name && (ok == nil || ok(h.Value)) {
			return true
		}
	}
	return false
}

// RemovesBindings reports whether d, a REGISTER, removes the bindings it
// names rather than adding or refreshing them (RFC 3261 §10.2.2): each of
// its Contacts has an expires parameter of 0, or none and an Expires
// header of 0 ("Contact: *", which removes them all, goes with one). A
// REGISTER without a Contact only asks for the bindings (§10.2.3).
func RemovesBindings(d *decode.Message) bool {
	header := -1
	if d.Expires != nil {
		header = atoi(d.Expires)
	}
	n := 0
	for i := range d.Headers {
		h := &d.Headers[i]
		if string(h.Name) != "contact" {
			continue
		}
		exp := contactExpires(h.Value)
		if exp < 0 {
			exp = header
		}
		if exp != 0 {
			return false
		}
		n++
	}
	return n > 0
}

// contactExpires is the expires parameter of one Contact value, -1 when
// it has none: a header parameter, after the URI's closing '>', or after
// the URI itself when it has no angle brackets (RFC 3261 §20.10: its
// parameters are then the header's). A quoted display name or parameter
// value may hold any character ('>' and ';' in a +sip.instance).
func contactExpires(v []byte) int {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' { // a display name
		e := quoteEnd(v)
		if e < 0 {
			return -1
		}
		v = v[e:]
	}
	lt, semi := bytes.IndexByte(v, '<'), bytes.IndexByte(v, ';')
	switch {
	case lt >= 0 && (semi < 0 || lt < semi):
		gt := bytes.IndexByte(v[lt:], '>')
		if gt < 0 {
			return -1
		}
		v = v[lt+gt+1:]
	case semi >= 0:
		v = v[semi:]
	default:
		return -1
	}
	for {
		i := bytes.IndexByte(v, ';')
		if i < 0 {
			return -1
		}
		v = v[i+1:]
		j := bytes.IndexAny(v, "=;")
		if j < 0 || v[j] == ';' {
			continue // a parameter without a value
		}
		name, val := bytes.TrimSpace(v[:j]), bytes.TrimLeft(v[j+1:], " \t")
		if len(val) > 0 && val[0] == '"' {
			e := quoteEnd(val)
			if e < 0 {
				return -1
			}
			v = val[e:]
			continue
		}
		if bytesEqualFold(name, "expires") {
			return atoi(val)
		}
		v = val
	}
}

// quoteEnd returns the index just past the quoted string v begins with
// (backslash escapes honoured, RFC 3261 §25.1), or -1 when it is not
// closed: of a header's bytes, or of a string (splitNameAddr).
func quoteEnd[T string | []byte](v T) int {
	for i := 1; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// supportsTimer reports whether d lists the option tag "timer" in a
// Supported header (RFC 4028 §3): its UAS may add a session timer.
func supportsTimer(d *decode.Message) bool { return headerWith(d, "supported", isTimer) }

func isTimer(v []byte) bool { return bytesEqualFold(v, "timer") }

// parseSubscriptionState reads a Subscription-State value (RFC 6665
// §8.2.3: a state, then parameters): whether the state is terminated, the
// reason parameter in lower case, and the expires parameter (-1 when
// absent or not a number; one of more than ten digits is read to its
// tenth).
func parseSubscriptionState(v []byte) (terminated bool, reason string, expires int) {
	expires = -1
	state, params, _ := bytes.Cut(v, []byte{';'})
	terminated = bytesEqualFold(bytes.TrimSpace(state), "terminated")
	for len(params) > 0 {
		var p []byte
		p, params, _ = bytes.Cut(params, []byte{';'})
		name, val, _ := bytes.Cut(p, []byte{'='})
		name, val = bytes.TrimSpace(name), bytes.TrimSpace(val)
		switch {
		case bytesEqualFold(name, "reason"):
			reason = strings.ToLower(string(val))
		case bytesEqualFold(name, "expires"):
			expires = atoi(val)
		}
	}
	return terminated, reason, expires
}

// convertRare reads the fields of the headers decode keeps apart as rare.
func convertRare(d *decode.Message, l *Leg, m *Message) {
	m.HasAuth = d.Authorization != nil || d.ProxyAuthorization != nil
	if d.ReasonHeader != nil {
		m.extra().reasonHeader = string(d.ReasonHeader)
	}
	if d.UserAgent != nil {
		m.Agent = l.intern(d.UserAgent)
	} else if d.Server != nil {
		m.Agent = l.intern(d.Server)
	}
	if d.ReferTo.URI != nil {
		m.extra().referTo = string(d.ReferTo.URI)
		if m.Method == "REFER" {
			if r, _, ok := referToReplaces(m.ext.referTo); ok {
				m.ext.replaces = &r
			}
		}
	}
	if (d.Diversion != nil || d.HistoryInfo != nil) && m.Method == "INVITE" {
		if v, k := diversionSummary(d.Diversion, d.HistoryInfo); v != "" {
			m.extra().diverted, m.ext.divertedKey = v, k
		}
	}
	if d.Replaces != nil && m.Method == "INVITE" {
		if r := parseReplaces(d.Replaces); r.callID != "" {
			r.more = r.more || d.ReplacesMore
			m.extra().replaces = &r
		}
	}
	if d.Event != nil {
		m.extra().event = l.intern(d.Event)
	}
	if d.Expires != nil {
		m.extra().expires = atoi(d.Expires)
	}
	if d.RSeq != 0 && m.Status > 100 && m.Status < 200 {
		m.extra().rseq = d.RSeq // a reliable provisional response (checkMissingPRACK)
		l.reliable = true
	}
	if d.RAck != nil && m.Method == "PRACK" {
		e := m.extra()
		e.rackRSeq, e.rackCSeq = parseRAck(d.RAck)
	}
	if d.SessionExpires != nil && m.Status >= 200 && m.Status < 300 {
		// The interval a 2xx agrees on is the one in force (RFC 4028 §7.2,
		// §9); a request's is only asked for.
		m.sessionExpires, m.refresher = parseSessionExpires(d.SessionExpires)
		l.timer = l.timer || m.sessionExpires > 0
	}
}

// convertWarning keeps failure response m's Warning headers: why a 488
// refused the offer (305 Incompatible media format), or a proxy's own
// words (399 "No DNS results").
func convertWarning(d *decode.Message, m *Message) {
	var b strings.Builder
	for i := range d.Headers {
		if h := &d.Headers[i]; string(h.Name) == "warning" {
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.Write(h.Value)
		}
	}
	if b.Len() > maxWarning {
		// A finding's detail is one line: the rest is in the message.
		cut := maxWarning
		for cut > 0 && !utf8.RuneStart(b.String()[cut]) {
			cut--
		}
		m.extra().warning = b.String()[:cut] + "…"
	} else if b.Len() > 0 {
		m.extra().warning = b.String()
	}
}

// maxWarning bounds the Warning text a message keeps, in bytes.
const maxWarning = 200

// parseSessionExpires reads a Session-Expires value (RFC 4028 §4):
// delta-seconds, then parameters, among them refresher=uac or uas. A value
// that does not start with digits, or is out of range, gives 0.
func parseSessionExpires(v []byte) (secs int32, refresher byte) {
	i := 0
	for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	var n int64
	start := i
	for ; i < len(v) && '0' <= v[i] && v[i] <= '9'; i++ {
		if n = n*10 + int64(v[i]-'0'); n > 1<<31-1 {
			return 0, 0
		}
	}
	if i == start {
		return 0, 0
	}
	for rest := v[i:]; len(rest) > 0; {
		semi := bytes.IndexByte(rest, ';')
		if semi < 0 {
			break
		}
		rest = rest[semi+1:]
		p := rest
		if j := bytes.IndexByte(p, ';'); j >= 0 {
			p = p[:j]
		}
		name, val, _ := bytes.Cut(p, []byte("="))
		if bytesEqualFold(bytes.TrimSpace(name), "refresher") {
			switch val = bytes.TrimSpace(val); {
			case bytesEqualFold(val, "uac"):
				refresher = 'c'
			case bytesEqualFold(val, "uas"):
				refresher = 's'
			}
		}
	}
	return int32(n), refresher
}

// SessionExpires is a 2xx's Session-Expires (RFC 4028): the session
// interval in seconds (0 when absent), and the refresher it names, "uac"
// or "uas" ("" when not named).
func (m *Message) SessionExpires() (secs int, refresher string) {
	switch m.refresher {
	case 'c':
		refresher = "uac"
	case 's':
		refresher = "uas"
	}
	return int(m.sessionExpires), refresher
}

// convertSDP parses an SDP body into the kept form; nil if it does not parse.
func convertSDP(b []byte, scratch *decode.SDP) *SDP {
	if err := decode.ParseSDP(b, scratch); err != nil && len(scratch.Media) == 0 {
		return nil
	}
	s := &SDP{Origin: string(scratch.Origin), Media: make([]Media, 0, len(scratch.Media))}
	for i := range scratch.Media {
		dm := &scratch.Media[i]
		m := Media{
			Type: string(dm.Type), Addr: dm.Conn, Port: dm.Port, Proto: string(dm.Proto),
			Payloads: append([]int(nil), dm.Formats...), Direction: dm.Direction.String(),
			RTCPPort: dm.RTCPPort, RTCPMux: dm.RTCPMux, Hold: dm.Hold(), ICE: dm.ICE, T38Version: dm.T38Version,
		}
		if len(dm.Candidates) > 0 {
			m.Candidates = make([]Candidate, len(dm.Candidates))
			for j, dc := range dm.Candidates {
				m.Candidates[j] = Candidate{Component: dc.Component, Addr: dc.Addr, Type: dc.Type.String()}
			}
		}
		for _, pt := range dm.Formats {
			m.Codecs = append(m.Codecs, dm.Codec(pt))
			rm, _ := dm.RTPMap(pt)
			clock := rm.Clock
			if clock == 0 && pt >= 0 && pt < 96 {
				_, clock = media.StaticPayload(uint8(pt)) // RFC 3551's, as media measures them
			}
			m.Clocks = append(m.Clocks, clock)
		}
		s.Media = append(s.Media, m)
	}
	return s
}

func bytesEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func hasPrefixFold(b []byte, s string) bool {
	return len(b) >= len(s) && bytesEqualFold(b[:len(s)], s)
}

func atoi(b []byte) int {
	b = bytes.TrimSpace(b)
	n := 0
	for i, c := range b {
		if c < '0' || c > '9' || i > 9 {
			if i == 0 {
				return -1
			}
			break
		}
		n = n*10 + int(c-'0')
	}
	if len(b) == 0 {
		return -1
	}
	return n
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func itoa3(n int) string {
	if n >= 100 && n <= 999 {
		return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
	}
	return itoa(n)
}
