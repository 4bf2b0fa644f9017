package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"unsafe"
)

// Errors returned by ParseSIP and FrameSIP. Test for them with errors.Is:
// the returned errors wrap them with a %q quote of the offending bytes.
var (
	// ErrMalformed means the bytes do not hold a SIP message this package can
	// read: a bad start line, a header line without a colon, a missing
	// mandatory header, an unreadable CSeq, Via, From or To, contradictory
	// copies of Call-ID, CSeq, From or To; for FrameSIP also a bad
	// Content-Length.
	ErrMalformed = errors.New("decode: malformed SIP message")

	// ErrShortBody means Content-Length promised more bytes than the message
	// holds (RFC 3261 §18.3 says a UDP receiver should answer 400). Every
	// field is still filled and Body holds what there is, so a caller that
	// wants to show truncated captures can.
	ErrShortBody = errors.New("decode: SIP body shorter than Content-Length")
)

const (
	// maxHeaderBytes bounds the header section FrameSIP waits for on a
	// stream before declaring it not SIP.
	maxHeaderBytes = 64 << 10

	// maxContentLength is the largest Content-Length accepted: no SIP body
	// is that big, and FrameSIP must not be talked into buffering gigabytes.
	// ParseSIP treats a larger value as absent, FrameSIP as malformed.
	maxContentLength = 16 << 20

	// maxMethodLen bounds the method token LooksLikeSIP scans for.
	maxMethodLen = 64

	// errQuoteLen is how many bytes of the offending input an error quotes.
	errQuoteLen = 48
)

// LooksLikeSIP reports whether b begins with a SIP request line
// ("METHOD SP Request-URI SP SIP/2.0" then CRLF or LF) or a status line
// ("SIP/2.0 SP 3DIGIT" then SP or the line end). Any token is accepted as a
// method, so extension methods are recognised. A few leading CR/LF bytes
// (stream keep-alives, RFC 5626 §3.5.1) are skipped. The check is cheap and
// bails out on the first byte that cannot start a SIP message, so it can run
// on every UDP and TCP payload to find SIP on any port.
//
// It is a recogniser, not a validator: ParseSIP may still reject a message
// LooksLikeSIP accepts.
func LooksLikeSIP(b []byte) bool { return looksLikeSIP(b, nil) }

// startLine is a start line as looksLikeSIP read it, by offsets into the
// bytes it was given, so that it holds for a copy of them too
// (Options.Keep). parseSIP takes it instead of reading the line again.
type startLine struct {
	ok     bool // the fields are set: the usual forms only (looksLikeSIP)
	start  int  // the line's first byte, after leading CR/LF bytes
	m1     int  // the method's end (b[start:m1]); start for a response
	u0, u1 int  // the Request-URI (set for a request only)
	code   int  // the status code; 0 for a request
	r0, r1 int  // the reason phrase (set for a response only)
	next   int  // the first byte after the line
}

// looksLikeSIP is LooksLikeSIP. When sl is not nil, it also gives the
// start line as Message.parseStartLine would read it, for the forms
// stacks write (sl.ok; FuzzStartLine checks that): a status line whose code
// is followed by SP or the line end, a request line whose Request-URI is
// not in angle brackets.
func looksLikeSIP(b []byte, sl *startLine) bool {
	i := 0
	for i < len(b) && i < 8 && (b[i] == '\r' || b[i] == '\n') {
		i++
	}
	start := i
	b = b[i:]
	if len(b) >= 11 && fold8(le64(b)) == keySIP20SP.w0 {
		if !isDigit(b[8]) || !isDigit(b[9]) || !isDigit(b[10]) {
			return false
		}
		if len(b) > 11 && b[11] != ' ' && b[11] != '\r' && b[11] != '\n' {
			return false
		}
		code := int(b[8]-'0')*100 + int(b[9]-'0')*10 + int(b[10]-'0')
		if code < 100 || code > 699 {
			return false
		}
		if sl != nil {
			line, next := b, len(b)
			if nl := bytes.IndexByte(b[11:], '\n'); nl >= 0 {
				line, next = b[:11+nl], 11+nl+1
			}
			line = trimCR(line)
			if len(line) == 11 || line[11] == ' ' {
				reason := trimSPHT(line[11:])
				r0 := start + cap(b) - cap(reason)
				// Field by field (a literal would clear u0 and u1 first):
				// a response's Request-URI is never read.
				sl.ok, sl.start, sl.m1, sl.code, sl.r0, sl.r1, sl.next = true, start, start, code, r0, r0+len(reason), start+next
			} else {
				sl.ok = false
			}
		}
		return true
	}
	j := 0
	for j < len(b) && j <= maxMethodLen && tokenChar[b[j]] {
		j++
	}
	if j == 0 || j > maxMethodLen || j >= len(b) || b[j] != ' ' {
		return false
	}
	rest := b[j+1:]
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		return false
	}
	line := trimSPHT(trimCR(rest[:nl]))
	const ver = " sip/2.0"
	if len(line) < len(ver)+1 {
		return false
	}
	if v := fold8(le64(line[len(line)-8:])); v != keySPSIP20.w0 && v != keyHTSIP20.w0 {
		return false
	}
	uri := trimSPHT(line[:len(line)-len(ver)])
	if len(uri) == 0 || hasControl(uri) {
		return false
	}
	if sl != nil {
		if uri[0] != '<' {
			u0 := start + cap(b) - cap(uri)
			sl.ok, sl.start, sl.m1, sl.code, sl.u0, sl.u1, sl.next = true, start, start+j, 0, u0, u0+len(uri), start+j+1+nl+1
		} else {
			sl.ok = false
		}
	}
	return true
}

// hasControl reports whether v holds a control character other than HT:
// a byte below 0x20 or DEL. Eight bytes a step, the last step the word
// that ends v (overlapping bytes already looked at: the answer is the same
// for them); a word with a byte below 0x20 or a DEL is then looked at byte
// by byte, since its HTs are allowed. Under eight bytes, byte by byte.
func hasControl(v []byte) bool {
	if len(v) < 8 {
		return hasControlBytes(v)
	}
	for p := 0; p+8 < len(v); p += 8 {
		if mayHaveControl(le64(v[p:])) && hasControlBytes(v[p:p+8]) {
			return true
		}
	}
	last := v[len(v)-8:]
	return mayHaveControl(le64(last)) && hasControlBytes(last)
}

// mayHaveControl reports whether the little-endian word w holds a byte
// below 0x20 or a DEL (an HT among them).
func mayHaveControl(w uint64) bool {
	const ones = 0x0101010101010101
	x := w ^ 0x7f*ones
	return ((w-0x20*ones)&^w|(x-ones)&^x)&(0x80*ones) != 0
}

func hasControlBytes(v []byte) bool {
	for _, c := range v {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// ParseSIP parses the one SIP message at the start of b into m.
//
// m is reset first, keeping the capacity of its slices, so parsing into the
// same Message again allocates nothing. ParseSIP does not touch N, Time,
// Src, Dst, Transport or Encap. Every []byte it sets is a view into b (or,
// for Header.Name of a known header, a shared read-only canonical name):
// nothing is copied, so the Message is valid only as long as b is. Use Clone
// to keep it.
//
// Leading CR/LF bytes are skipped (RFC 3261 §7.5). Line ends may be CRLF or
// a bare LF. Header names are matched case-insensitively and compact forms
// are expanded; a header's Value keeps any folding (CRLF plus white space)
// as written, see Header.
//
// Body: when Content-Length is present the body is that many bytes and any
// bytes after it are ignored (RFC 3261 §18.3; RFC 4475 §3.1.1.8). If fewer
// are present Body is what there is and the error wraps ErrShortBody, with
// every other field filled. Without Content-Length the body is the rest of b
// (the UDP rule). SDP is set when Content-Type is application/sdp, or when
// it is multipart/* and a part is application/sdp. A body without
// Content-Type is never taken as SDP, even if it starts with "v=0"
// (RFC 3261 §20.15 leaves its type unknown; tshark does the same).
//
// Errors wrap ErrMalformed. Strict where a call flow depends on it:
// the start line (a token method and SIP/2.0, or SIP/2.0 and a status code
// of 100-699), every header line has a colon, and the mandatory headers of
// RFC 3261 §8.1.1 are there and readable: Call-ID, CSeq (number at most
// 2**32-1), From and To in every message, Via in requests. Call-ID, CSeq,
// From and To may repeat only with the same value (RFC 4475 §3.3.8).
// Max-Forwards is not required, so RFC 2543 requests parse (RFC 4475
// §3.4.1), and a response without Via is accepted because a capture may
// still want to show it.
//
// Liberal everywhere else, as RFC 4475 allows and as captures need: extra
// white space in the start line, <> around the Request-URI, LWS inside it
// (kept as written); spaces inside <>, unquoted display names with any
// characters, a missing closing quote or '>' (inferred); header names that
// are not tokens (kept as unknown headers); a Content-Length that is not a
// number, negative, above 16 MiB or contradicted by a second one (treated
// as absent: ContentLength is -1 and the body is the rest of b). Semantic
// checks, such as a CSeq method that differs from the request method, are
// left to the caller.
//
// To parse many messages, a Parser is faster.
func ParseSIP(b []byte, m *Message) error {
	var p Parser
	return p.Parse(b, m)
}

// ParseSIPLean is ParseSIP as a Decoder with Options.Lean parses: Headers
// holds only the headers that no field of m holds, Contact is left
// empty (but a REGISTER's) and MaxForwards -1. What a correlator needs,
// for less work.
func ParseSIPLean(b []byte, m *Message) error {
	var p Parser
	return p.ParseLean(b, m)
}

// Parser parses SIP messages as ParseSIP and ParseSIPLean do, faster when
// it parses many: it remembers, from the messages it has read, which
// header follows which and the last Via's sent-by (guesses), and the
// messages of one capture mostly repeat both. What it remembers never
// changes a result. The zero value is ready to use; a Parser is not safe
// for concurrent use. A Decoder has its own.
type Parser struct {
	g guesses
}

// Parse is ParseSIP.
func (p *Parser) Parse(b []byte, m *Message) error { return parseSIP(b, m, false, nil, &p.g) }

// ParseLean is ParseSIPLean.
func (p *Parser) ParseLean(b []byte, m *Message) error { return parseSIP(b, m, true, nil, &p.g) }

// parseSIP is ParseSIP; lean leaves out of Headers what a field of m
// holds, and Contact altogether but in a REGISTER (Options.Lean). A start
// line looksLikeSIP read (sl.ok) is taken as it is, not read again.
//
// The profile that guides sipflow's build (cmd/sipflow/default.pgo) finds
// the header loop's hot calls by their line offset from this function's
// first line, and has readHeaderFast inlined there: a line added above
// them costs that inlining (0.2% more instructions over big-sip's first
// 200,000 packets, measured) until bench/pgo.sh makes a new profile.
func parseSIP(b []byte, m *Message, lean bool, sl *startLine, g *guesses) error {
	m.reset()
	var start, p int
	if sl != nil && sl.ok {
		start, p = sl.start, sl.next
		if sl.code == 0 {
			m.Method, m.RequestURI = b[start:sl.m1], b[sl.u0:sl.u1]
		} else {
			m.StatusCode, m.Reason = sl.code, b[sl.r0:sl.r1]
		}
		m.Raw = b[start:]
	} else {
		for p < len(b) && (b[p] == '\r' || b[p] == '\n') {
			p++
		}
		start = p
		m.Raw = b[start:]
		var line []byte
		line, p = nextLine(b, p)
		if err := m.parseStartLine(line); err != nil {
			return err
		}
	}

	st := parseState{lean: lean}
	var lines lineIndex // the line ends, for readHeaderFast
	lines.mark(b, p)
	hdrEnd, prev := len(b), hdrUnknown // prev: the header before, for g.names
	for p < len(b) {
		var name []byte // a known header's is its canonical one (headerName)
		id, value, next := readHeaderFast(b, p, &lines, &g.names[prev])
		if id == hdrUnknown {
			if e, ok := blankLine(b, p); ok {
				hdrEnd = e
				break
			}
			var err error
			if id, name, value, next, err = readHeader(b, p); err != nil {
				return err
			}
		}
		p, prev = next, id
		if lean && hdrFlags[id]&(flagField|flagRare|flagList) == flagField {
			// What addHeader does with such a header when lean: the field
			// only (Call-ID, From, To, CSeq, Content-Length, ...).
			if err := m.setField(id, value, &st); err != nil {
				return err
			}
		} else if err := m.addHeader(id, name, value, &st, &g.via); err != nil {
			return err
		}
	}

	var short error
	body := b[hdrEnd:]
	if m.ContentLength >= 0 {
		if m.ContentLength > len(body) {
			short = fmt.Errorf("%w: Content-Length %d, %d bytes present", ErrShortBody, m.ContentLength, len(body))
		} else {
			body = body[:m.ContentLength]
			m.Raw = b[start : hdrEnd+m.ContentLength]
		}
	}
	if len(body) > 0 {
		m.Body = body
		m.SDP = findSDP(m.ContentType, body, 0)
	}

	switch {
	case m.CallID == nil:
		return fmt.Errorf("%w: no Call-ID in %q", ErrMalformed, m.startLine())
	case !st.cseq:
		return fmt.Errorf("%w: no CSeq in %q", ErrMalformed, m.startLine())
	case !st.from:
		return fmt.Errorf("%w: no From in %q", ErrMalformed, m.startLine())
	case !st.to:
		return fmt.Errorf("%w: no To in %q", ErrMalformed, m.startLine())
	case m.IsRequest() && len(m.Via) == 0:
		return fmt.Errorf("%w: no Via in %q", ErrMalformed, m.startLine())
	}
	return short
}

// FrameSIP finds where the SIP message at the start of the stream bytes b
// ends (RFC 3261 §18.3): the header section up to the empty line, plus
// Content-Length bytes of body. It returns that length with ok true, or ok
// false when more bytes are needed. A message without Content-Length is
// taken to have an empty body, since a stream offers no other way to end it.
//
// Leading CR/LF bytes (keep-alives, RFC 5626 §3.5.1) are counted into n;
// ParseSIP skips them. err != nil means b does not hold a well-formed
// message here, so the caller must resynchronise (look for the next start
// line): the first bytes cannot start a SIP message, a header line has no
// colon, the header section is longer than 64 KiB, or Content-Length is not
// a number, negative, above 16 MiB or given twice with different values.
// ParseSIP is more forgiving about Content-Length because a datagram ends
// by itself; a stream does not.
func FrameSIP(b []byte) (n int, ok bool, err error) {
	p := 0
	for p < len(b) && (b[p] == '\r' || b[p] == '\n') {
		p++
	}
	if p > maxHeaderBytes {
		return 0, false, fmt.Errorf("%w: %d bytes of CR/LF without a message", ErrMalformed, p)
	}
	start := p
	// The first line: it must look like SIP as soon as it is complete, and
	// the bytes before its first space must be a method or "SIP/2.0".
	nl := bytes.IndexByte(b[p:], '\n')
	if nl < 0 {
		if !plausibleStart(b[p:]) {
			return 0, false, fmt.Errorf("%w: not a SIP start line: %q", ErrMalformed, snippet(b[p:]))
		}
		if len(b)-start > maxHeaderBytes {
			return 0, false, fmt.Errorf("%w: start line longer than %d bytes", ErrMalformed, maxHeaderBytes)
		}
		return 0, false, nil
	}
	if !LooksLikeSIP(b[p:]) {
		return 0, false, fmt.Errorf("%w: not a SIP start line: %q", ErrMalformed, snippet(trimCR(b[p:p+nl])))
	}
	p += nl + 1

	// The end of the header section: the first empty line.
	hdrEnd := -1
	for q := p; ; {
		if e, ok := blankLine(b, q); ok && e > q && b[e-1] == '\n' {
			hdrEnd = e
			break
		}
		i := bytes.IndexByte(b[q:], '\n')
		if i < 0 {
			if len(b)-start > maxHeaderBytes {
				return 0, false, fmt.Errorf("%w: header section longer than %d bytes", ErrMalformed, maxHeaderBytes)
			}
			return 0, false, nil
		}
		q += i + 1
		if q-start > maxHeaderBytes {
			return 0, false, fmt.Errorf("%w: header section longer than %d bytes", ErrMalformed, maxHeaderBytes)
		}
	}

	// Content-Length, read exactly as ParseSIP reads it.
	var st parseState
	cl := -1
	hdrs := b[:hdrEnd]
	for q := p; q < len(hdrs); {
		if _, ok := blankLine(hdrs, q); ok {
			break
		}
		id, _, value, next, err := readHeader(hdrs, q)
		if err != nil {
			return 0, false, err
		}
		q = next
		if id == hdrContentLength {
			if cl, err = st.contentLength(value); err != nil {
				return 0, false, err
			}
		}
	}
	n = hdrEnd
	if cl > 0 {
		n += cl
	}
	if n > len(b) {
		return 0, false, nil
	}
	return n, true, nil
}

// Clone returns a deep copy of m that survives the next packet: the message
// bytes are copied once (Raw) and every view is re-pointed into the copy.
func (m *Message) Clone() *Message {
	c := new(Message)
	// An arena of exactly the right size: one block of each kind.
	a := Arena{bytes: make([]byte, 0, len(m.Raw)), vias: make([]Via, 0, len(m.Via)), headers: make([]Header, 0, len(m.Headers))}
	if n := len(m.Diversion) + len(m.HistoryInfo); n > 0 {
		a.lists = make([][]byte, 0, n)
	}
	if m.Parts != nil {
		a.ints = make([]int, 0, len(m.Parts))
	}
	m.CopyTo(c, &a)
	return c
}

// Arena holds the memory of messages copied by CopyTo. Reset it to reuse it
// once none of those messages is needed any more; memory is only added to
// it (never moved), so earlier copies stay valid until then.
type Arena struct {
	bytes   []byte
	vias    []Via
	headers []Header
	lists   [][]byte
	ints    []int
}

// Reset makes the arena's memory available again: every message copied
// into it is invalid from now on.
func (a *Arena) Reset() {
	a.bytes, a.vias, a.headers, a.lists, a.ints = a.bytes[:0], a.vias[:0], a.headers[:0], a.lists[:0], a.ints[:0]
}

// Bytes returns a copy of b in the arena, with len equal to cap (nil for nil).
func (a *Arena) Bytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	var c []byte
	a.bytes, c = grow(a.bytes, len(b), 256<<10)
	copy(c, b)
	return c
}

// Ints returns a copy of s in the arena (nil for nil).
func (a *Arena) Ints(s []int) []int {
	if s == nil {
		return nil
	}
	var c []int
	a.ints, c = grow(a.ints, len(s), 1024)
	copy(c, s)
	return c
}

// grow returns a slice of n elements appended to s, reallocating into a new
// block (never moving the old one's contents) when s is full.
func grow[T any](s []T, n, block int) ([]T, []T) {
	if cap(s)-len(s) < n {
		s = make([]T, 0, max(block, n)) // earlier copies keep the old block alive
	}
	start := len(s)
	s = s[:start+n]
	return s, s[start : start+n : start+n]
}

// CopyTo makes c a deep copy of m whose memory comes from a: no allocation
// at all once the arena has grown to its working size. c stays valid until
// a.Reset.
func (m *Message) CopyTo(c *Message, a *Arena) {
	*c = *m
	raw := a.Bytes(m.Raw)
	r := rebaser{old: m.Raw, new: raw}
	c.Raw = raw
	c.Method = r.view(m.Method)
	c.RequestURI = r.view(m.RequestURI)
	c.Reason = r.view(m.Reason)
	c.CallID = r.view(m.CallID)
	c.From = r.nameAddr(m.From)
	c.To = r.nameAddr(m.To)
	c.CSeqMethod = r.view(m.CSeqMethod)
	c.Contact = r.nameAddr(m.Contact)
	c.ContentType = r.view(m.ContentType)
	c.UserAgent = r.view(m.UserAgent)
	c.Server = r.view(m.Server)
	c.ReasonHeader = r.view(m.ReasonHeader)
	c.Authorization = r.view(m.Authorization)
	c.ProxyAuthorization = r.view(m.ProxyAuthorization)
	c.WWWAuthenticate = r.view(m.WWWAuthenticate)
	c.ProxyAuthenticate = r.view(m.ProxyAuthenticate)
	c.ReferTo = r.nameAddr(m.ReferTo)
	c.ReferredBy = r.nameAddr(m.ReferredBy)
	c.Replaces = r.view(m.Replaces)
	c.RAck = r.view(m.RAck)
	c.SessionExpires = r.view(m.SessionExpires)
	c.Event = r.view(m.Event)
	c.Expires = r.view(m.Expires)
	c.Body = r.view(m.Body)
	c.SDP = r.view(m.SDP)
	if m.Via != nil {
		a.vias, c.Via = grow(a.vias, len(m.Via), 1024)
		for i, v := range m.Via {
			c.Via[i] = Via{
				Transport: r.view(v.Transport),
				SentBy:    r.view(v.SentBy),
				Host:      r.view(v.Host),
				Port:      v.Port,
				Branch:    r.view(v.Branch),
				Received:  r.view(v.Received),
				RPort:     r.view(v.RPort),
				HasRPort:  v.HasRPort,
			}
		}
	}
	if m.Headers != nil {
		a.headers, c.Headers = grow(a.headers, len(m.Headers), 4096)
		for i, h := range m.Headers {
			name := h.Name
			if _, in := offsetIn(m.Raw, h.Name); in {
				name = r.view(h.Name)
			}
			c.Headers[i] = Header{Name: name, Value: r.view(h.Value)}
		}
	}
	c.Parts = a.Ints(m.Parts)
	c.Diversion, c.HistoryInfo = nil, nil
	if m.Diversion != nil || m.HistoryInfo != nil {
		var all [][]byte
		a.lists, all = grow(a.lists, len(m.Diversion)+len(m.HistoryInfo), 256)
		for i, v := range m.Diversion {
			all[i] = r.view(v)
		}
		for i, v := range m.HistoryInfo {
			all[len(m.Diversion)+i] = r.view(v)
		}
		if m.Diversion != nil {
			c.Diversion = all[:len(m.Diversion):len(m.Diversion)]
		}
		if m.HistoryInfo != nil {
			c.HistoryInfo = all[len(m.Diversion):]
		}
	}
}

type rebaser struct{ old, new []byte }

func (r rebaser) view(v []byte) []byte {
	if v == nil {
		return nil
	}
	if len(v) == 0 {
		return []byte{} // no allocation: points at the runtime's zero base
	}
	off, ok := offsetIn(r.old, v)
	if !ok {
		return bytes.Clone(v) // not a view of Raw (ParseSIP never does this)
	}
	return r.new[off : off+len(v) : off+len(v)]
}

func (r rebaser) nameAddr(a NameAddr) NameAddr {
	return NameAddr{Display: r.view(a.Display), URI: r.view(a.URI), Tag: r.view(a.Tag)}
}

// offsetIn reports where the non-empty slice v starts inside outer, if it
// lies entirely inside it. Addresses are only compared, never converted
// back to pointers.
func offsetIn(outer, v []byte) (int, bool) {
	if len(v) == 0 || len(outer) == 0 {
		return 0, false
	}
	o := uintptr(unsafe.Pointer(unsafe.SliceData(outer)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	if p < o || p+uintptr(len(v)) > o+uintptr(len(outer)) {
		return 0, false
	}
	return int(p - o), true
}

// reset clears m for a new parse, keeping the capture metadata and the
// capacity of its slices.
func (m *Message) reset() {
	// Field by field, so that the rare headers' memory is not touched
	// when the last parse set none of them. TestResetClears fails when a
	// field is missing here.
	m.Parts, m.Raw = nil, nil
	m.Method, m.RequestURI, m.StatusCode, m.Reason = nil, nil, 0, nil
	m.CallID, m.From, m.To, m.CSeq, m.CSeqMethod = nil, NameAddr{}, NameAddr{}, 0, nil
	m.Via, m.ContentType, m.ContentLength, m.MaxForwards = m.Via[:0], nil, -1, -1
	m.Headers, m.Body, m.SDP = m.Headers[:0], nil, nil
	if !m.noRare {
		div, hist := m.Diversion[:0], m.HistoryInfo[:0]
		m.Contact, m.UserAgent, m.Server, m.ReasonHeader = NameAddr{}, nil, nil, nil
		m.Authorization, m.ProxyAuthorization, m.WWWAuthenticate, m.ProxyAuthenticate = nil, nil, nil, nil
		m.ReferTo, m.ReferredBy, m.Replaces, m.ReplacesMore, m.RSeq, m.RAck = NameAddr{}, NameAddr{}, nil, false, 0, nil
		m.SessionExpires, m.Event, m.Expires = nil, nil, nil
		m.Diversion, m.HistoryInfo = div, hist
		m.noRare = true
	}
}

// startLine returns the start line for error messages.
func (m *Message) startLine() []byte {
	line, _ := nextLine(m.Raw, 0)
	return snippet(line)
}

// parseStartLine reads a Request-Line or Status-Line (RFC 3261 §7.1, §7.2).
func (m *Message) parseStartLine(line []byte) error {
	if len(line) == 0 {
		return fmt.Errorf("%w: empty start line", ErrMalformed)
	}
	if len(line) >= 4 && equalKey(line[:4], keySIPSlash) {
		i := 0
		if len(line) >= 8 && fold8(le64(line)) == keySIP20SP.w0 {
			i = 7 // "SIP/2.0 ", as every stack writes it
		} else {
			for i < len(line) && line[i] != ' ' && line[i] != '\t' {
				i++
			}
			if !equalKey(line[:i], keySIP20) {
				return fmt.Errorf("%w: version not SIP/2.0 in status line %q", ErrMalformed, snippet(line))
			}
		}
		i = skipSPHT(line, i)
		j := i
		for j < len(line) && isDigit(line[j]) {
			j++
		}
		if j-i != 3 || j < len(line) && line[j] != ' ' && line[j] != '\t' {
			return fmt.Errorf("%w: status code not 3 digits in %q", ErrMalformed, snippet(line))
		}
		code := int(line[i]-'0')*100 + int(line[i+1]-'0')*10 + int(line[i+2]-'0')
		if code < 100 || code > 699 {
			return fmt.Errorf("%w: status code out of range in %q", ErrMalformed, snippet(line))
		}
		m.StatusCode = code
		m.Reason = trimSPHT(line[j:])
		return nil
	}

	i := 0
	for i < len(line) && tokenChar[line[i]] {
		i++
	}
	if i == 0 || i == len(line) || line[i] != ' ' && line[i] != '\t' {
		return fmt.Errorf("%w: bad request line %q", ErrMalformed, snippet(line))
	}
	method := line[:i]
	rest := trimSPHT(line[i:])
	k := len(rest) - 8 // " SIP/2.0" at the end, as every stack writes it
	if k < 0 || fold8(le64(rest[k:])) != keySPSIP20.w0 {
		k = len(rest) - 1
		for k >= 0 && rest[k] != ' ' && rest[k] != '\t' {
			k--
		}
		if k < 0 {
			return fmt.Errorf("%w: no SIP version in request line %q", ErrMalformed, snippet(line))
		}
		if !equalKey(rest[k+1:], keySIP20) {
			return fmt.Errorf("%w: version not SIP/2.0 in request line %q", ErrMalformed, snippet(line))
		}
	}
	uri := trimSPHT(rest[:k])
	if len(uri) >= 2 && uri[0] == '<' && uri[len(uri)-1] == '>' {
		uri = trimSPHT(uri[1 : len(uri)-1]) // RFC 4475 §3.1.2.7: ignore the brackets
	}
	if len(uri) == 0 {
		return fmt.Errorf("%w: empty Request-URI in %q", ErrMalformed, snippet(line))
	}
	m.Method = method
	m.RequestURI = uri
	return nil
}

// parseState remembers which singleton headers were seen, to refuse
// contradictory repeats.
type parseState struct {
	lean           bool // Headers only for headers without a field; no Contact
	from, to, cseq bool
	fromRaw, toRaw []byte
	cseqRaw        []byte
	cl             []byte
	clBad          bool
}

// contentLength reads a Content-Length value, refusing a repeat with a
// different value.
func (st *parseState) contentLength(v []byte) (int, error) {
	n, ok := parseUint(v, maxContentLength)
	if !ok {
		return 0, fmt.Errorf("%w: bad Content-Length %q", ErrMalformed, snippet(v))
	}
	if st.cl != nil {
		if prev, _ := parseUint(st.cl, maxContentLength); prev != n {
			return 0, fmt.Errorf("%w: Content-Length %q contradicts %q", ErrMalformed, snippet(v), snippet(st.cl))
		}
	}
	st.cl = v
	return int(n), nil
}

// addHeader records one header line: Headers entries (split when the header
// is a comma-separated list) and the typed fields. vg is viaFast's guess
// (guesses).
func (m *Message) addHeader(id hdrID, rawName, value []byte, st *parseState, vg *viaGuess) error {
	keep := true // a Headers entry
	f := hdrFlags[id]
	if st.lean && f&flagField != 0 { // a REGISTER's Contacts tell, by their expires, a removal
		if id == hdrContact && string(m.Method) != "REGISTER" {
			return nil
		}
		keep = id == hdrContact
	}
	if f&flagRare != 0 {
		m.noRare = false
	}
	if id == hdrVia && len(value) > 0 {
		// One Via as viaFast reads it holds no comma: nearly every
		// message's, read without the search for commas to split at.
		via, before := m.newVia()
		if viaFast(value, via, vg) {
			if keep {
				m.Headers = append(m.Headers, Header{Name: hdrNames[hdrVia], Value: value})
			}
			return nil
		}
		m.dropVia(before)
	}
	if f&flagList == 0 || bytes.IndexByte(value, ',') < 0 {
		if keep {
			m.Headers = append(m.Headers, Header{Name: headerName(id, rawName), Value: value})
		}
		return m.setField(id, value, st)
	}
	name := headerName(id, rawName)
	added := false
	for rest := value; ; {
		item, more, tail := splitList(rest)
		if len(item) > 0 {
			if keep {
				m.Headers = append(m.Headers, Header{Name: name, Value: item})
			}
			added = true
			if err := m.setListField(id, item); err != nil {
				return err
			}
		}
		if !more {
			break
		}
		rest = tail
	}
	if !added && keep {
		m.Headers = append(m.Headers, Header{Name: name, Value: value[:0]})
	}
	if id == hdrReason && m.ReasonHeader == nil {
		m.ReasonHeader = value
	}
	return nil
}

// headerName is the name a Headers entry gets: the canonical one of a
// known header, else the name as written.
func headerName(id hdrID, rawName []byte) []byte {
	if id != hdrUnknown {
		return hdrNames[id]
	}
	return rawName
}

// setField fills the typed field for a header that was not split.
func (m *Message) setField(id hdrID, v []byte, st *parseState) error {
	switch id {
	case hdrVia, hdrContact, hdrDiversion, hdrHistoryInfo:
		if len(v) == 0 {
			if id == hdrVia {
				return fmt.Errorf("%w: empty Via", ErrMalformed)
			}
			return nil
		}
		return m.setListField(id, v)
	case hdrCallID:
		if len(v) == 0 {
			return fmt.Errorf("%w: empty Call-ID", ErrMalformed)
		}
		if m.CallID != nil {
			if !bytes.Equal(m.CallID, v) {
				return fmt.Errorf("%w: Call-ID %q contradicts %q", ErrMalformed, snippet(v), snippet(m.CallID))
			}
			return nil
		}
		m.CallID = v
	case hdrFrom, hdrTo:
		seen, raw, dst := &st.from, &st.fromRaw, &m.From
		if id == hdrTo {
			seen, raw, dst = &st.to, &st.toRaw, &m.To
		}
		if *seen {
			if !bytes.Equal(*raw, v) {
				return fmt.Errorf("%w: %s %q contradicts %q", ErrMalformed, hdrNames[id], snippet(v), snippet(*raw))
			}
			return nil
		}
		if err := parseNameAddr(v, dst); err != nil {
			*dst = NameAddr{}
			return fmt.Errorf("%w: %s: %v", ErrMalformed, hdrNames[id], err)
		}
		*seen, *raw = true, v
	case hdrCSeq:
		if st.cseq {
			if !bytes.Equal(st.cseqRaw, v) {
				return fmt.Errorf("%w: CSeq %q contradicts %q", ErrMalformed, snippet(v), snippet(st.cseqRaw))
			}
			return nil
		}
		n, method, ok := parseCSeq(v)
		if !ok {
			return fmt.Errorf("%w: bad CSeq %q", ErrMalformed, snippet(v))
		}
		st.cseq, st.cseqRaw = true, v
		m.CSeq, m.CSeqMethod = n, method
	case hdrContentLength:
		// Unusable (not a number, negative, huge, contradictory): as if
		// absent, so the body is the rest of the datagram. Seen in the wild;
		// FrameSIP, which cannot frame without it, refuses it instead.
		if st.clBad {
			return nil
		}
		n, err := st.contentLength(v)
		if err != nil {
			st.clBad = true
			m.ContentLength = -1
			return nil
		}
		m.ContentLength = n
	case hdrContentType:
		if m.ContentType == nil {
			m.ContentType = v
		}
	case hdrMaxForwards:
		if st.lean { // nothing downstream of a lean parse reads it
			return nil
		}
		if n, ok := parseUint(v, 255); ok && m.MaxForwards < 0 {
			m.MaxForwards = int(n) // out of range: as if absent (RFC 4475 §3.1.2.4)
		}
	case hdrUserAgent:
		setOnce(&m.UserAgent, v)
	case hdrServer:
		setOnce(&m.Server, v)
	case hdrReason:
		setOnce(&m.ReasonHeader, v)
	case hdrAuthorization:
		setOnce(&m.Authorization, v)
	case hdrProxyAuthorization:
		setOnce(&m.ProxyAuthorization, v)
	case hdrWWWAuthenticate:
		setOnce(&m.WWWAuthenticate, v)
	case hdrProxyAuthenticate:
		setOnce(&m.ProxyAuthenticate, v)
	case hdrReferTo:
		if m.ReferTo.URI == nil {
			parseNameAddr(v, &m.ReferTo) // lenient: a bad Refer-To leaves what could be read
		}
	case hdrReferredBy:
		if m.ReferredBy.URI == nil {
			parseNameAddr(v, &m.ReferredBy)
		}
	case hdrReplaces:
		if m.Replaces != nil {
			m.ReplacesMore = true
		}
		setOnce(&m.Replaces, v)
	case hdrRSeq:
		if n, ok := parseUint(v, 1<<32-1); ok && m.RSeq == 0 {
			m.RSeq = uint32(n)
		}
	case hdrRAck:
		setOnce(&m.RAck, v)
	case hdrSessionExpires:
		setOnce(&m.SessionExpires, v)
	case hdrEvent:
		setOnce(&m.Event, v)
	case hdrExpires:
		setOnce(&m.Expires, v)
	}
	return nil
}

// setListField fills the typed field for one value of a list header.
func (m *Message) setListField(id hdrID, v []byte) error {
	switch id {
	case hdrVia:
		via, before := m.newVia()
		if err := parseViaInto(v, via); err != nil {
			m.dropVia(before)
			return err
		}
	case hdrContact:
		if m.Contact.URI == nil {
			parseNameAddr(v, &m.Contact) // lenient: the raw value stays in Headers
		}
	case hdrDiversion:
		m.Diversion = append(m.Diversion, v)
	case hdrHistoryInfo:
		m.HistoryInfo = append(m.HistoryInfo, v)
	}
	return nil
}

// newVia appends a zero Via to m.Via for a parser to fill in place (a Via
// is 160 bytes, not worth copying twice), and returns it with m.Via as it
// was, for dropVia.
func (m *Message) newVia() (via *Via, before []Via) {
	before = m.Via
	m.Via = append(m.Via, Via{})
	return &m.Via[len(m.Via)-1], before
}

// dropVia undoes newVia after a failed parse: no views of b are left in the
// dropped element, and m.Via is as it was (nil stays nil).
func (m *Message) dropVia(before []Via) {
	m.Via[len(m.Via)-1] = Via{}
	m.Via = before
}

func setOnce(dst *[]byte, v []byte) {
	if *dst == nil {
		*dst = v
	}
}

// parseCSeq reads "1*DIGIT LWS Method" (RFC 3261 §20.16). Leading zeros are
// allowed; a number above 2**32-1 is not (RFC 4475 §3.1.2.4).
func parseCSeq(v []byte) (uint32, []byte, bool) {
	p := skipLWS(v, 0)
	s := p
	var n uint64
	for p < len(v) && isDigit(v[p]) {
		n = n*10 + uint64(v[p]-'0')
		if n > 1<<32-1 {
			return 0, nil, false
		}
		p++
	}
	if p == s || p == len(v) || !isLWS(v[p]) {
		return 0, nil, false
	}
	p = skipLWS(v, p)
	s = p
	p = span(v, p, &tokenChar)
	if p == s || skipLWS(v, p) != len(v) {
		return 0, nil, false
	}
	return uint32(n), v[s:p], true
}

// parseVia reads one via-parm (RFC 3261 §20.42):
// sent-protocol LWS sent-by *( SEMI via-params ), with LWS allowed around
// the slashes, the colon and the semicolons.
func parseVia(v []byte) (Via, error) {
	var via Via
	err := parseViaInto(v, &via)
	return via, err
}

// parseViaInto is parseVia into *via, which must be zero.
func parseViaInto(v []byte, via *Via) error {
	if viaFast(v, via, nil) {
		return nil
	}
	*via = Via{}
	return viaGeneral(v, via)
}

// viaFast reads the Via that nearly every stack writes, in one pass and
// with no LWS to skip: "SIP/2.0/" transport SP host [":" port] and
// parameters written ";name" or ";name=value" with no quotes or spaces. It
// reports false, with *via partly filled, for anything else, which
// viaGeneral then reads; where it reports true the result is the one
// viaGeneral gives (FuzzParseVia checks that).
func viaFast(v []byte, via *Via, g *viaGuess) bool {
	if len(v) < 8 || fold8(le64(v)) != keySIP20Slash.w0 {
		return false
	}
	var p int
	if g != nil && g.n > 0 && g.n < len(v) && v[g.n] == ';' && string(v[:g.n]) == string(g.b[:g.n]) {
		// The transport and sent-by of the Via g was learnt from, byte for
		// byte, and then a ';' as there: they read the same.
		p = g.n
		via.Transport, via.Host, via.Port, via.SentBy = v[8:g.t], v[g.t+1:g.h], g.port, v[g.t+1:p]
	} else if p = viaSentBy(v, via); p < 0 {
		return false
	} else if g != nil && p < len(v) && v[p] == ';' && p <= len(g.b) {
		g.n, g.t, g.h, g.port = p, 8+len(via.Transport), 8+len(via.Transport)+1+len(via.Host), via.Port
		copy(g.b[:], v[:p])
	}
	for p < len(v) {
		if v[p] != ';' {
			return false
		}
		// ";branch=" as nearly every stack writes it: the parameter the
		// correlator needs, read without the general loop's steps.
		if p+8 <= len(v) && le64(v[p:p+8:p+8]) == wordBranch {
			s := p + 8
			p = untilSep(v, s)
			if s < len(v) && v[s] == '"' {
				return false
			}
			if via.Branch == nil {
				via.Branch = v[s:p]
			}
			continue
		}
		s := p + 1
		p = span(v, s, &tokenChar)
		if p == s {
			return false
		}
		name := v[s:p]
		var val []byte
		hasVal := p < len(v) && v[p] == '='
		if hasVal {
			s = p + 1
			p = untilSep(v, s)
			if s < len(v) && v[s] == '"' {
				return false
			}
			val = v[s:p]
		}
		via.setParam(name, val, hasVal)
	}
	return true
}

// viaSentBy is viaFast's transport and sent-by, "SIP/2.0/" (already
// checked) transport SP host [":" port]: it fills them in via and returns
// where they end, or -1 when viaFast cannot read them.
func viaSentBy(v []byte, via *Via) int {
	var p int
	if len(v) >= 12 && v[11] == ' ' && tokenChar[v[8]] && tokenChar[v[9]] && tokenChar[v[10]] {
		p = 11 // UDP, TCP, TLS
	} else {
		p = span(v, 8, &tokenChar)
	}
	if p == 8 || p >= len(v) || v[p] != ' ' {
		return -1
	}
	via.Transport = v[8:p]
	s := p + 1
	p = span(v, spanDigitsDots(v, s), &hostChar)
	if p == s {
		return -1
	}
	via.Host = v[s:p]
	if p < len(v) && v[p] == ':' {
		q := p + 1
		port := 0
		for q < len(v) && isDigit(v[q]) && q-p <= 5 {
			port = port*10 + int(v[q]-'0')
			q++
		}
		if q == p+1 || port > 65535 {
			return -1
		}
		via.Port, p = port, q
	}
	via.SentBy = v[s:p]
	return p
}

// viaGuess is the transport and sent-by of the last Via viaFast read
// that had them followed by a parameter: a Decoder's next Via often has
// the same (the same client, or a response to it), and then viaFast takes
// them from here with one compare instead of reading them. n is 0 until
// one is learnt.
type viaGuess struct {
	b          [48]byte // the Via's first n bytes: "SIP/2.0/" transport SP sent-by
	n          int      // where the sent-by ends, at a ';'
	t, h, port int      // where the transport and the host end; the port (0: none)
}

// setParam keeps the parameters a Via has fields for, the first of each:
// branch, received and rport (whose value may be absent: hasVal false).
func (via *Via) setParam(name, val []byte, hasVal bool) {
	switch len(name) { // equalKey compares lengths first; this skips the call
	case 6:
		if via.Branch == nil && equalKey(name, keyBranch) {
			via.Branch = val
		}
	case 8:
		if via.Received == nil && equalKey(name, keyReceived) {
			via.Received = val
		}
	case 5:
		if !via.HasRPort && equalKey(name, keyRPort) {
			via.HasRPort = true
			if hasVal {
				via.RPort = val
			} else {
				via.RPort = name[len(name):]
			}
		}
	}
}

// viaGeneral is parseViaInto for any via-parm the grammar allows.
func viaGeneral(v []byte, via *Via) error {
	p := skipLWS(v, 0)
	var tr []byte
	for i := 0; i < 3; i++ {
		if i > 0 {
			if p >= len(v) || v[p] != '/' {
				return fmt.Errorf("%w: bad Via sent-protocol %q", ErrMalformed, snippet(v))
			}
			p = skipLWS(v, p+1)
		}
		s := p
		p = span(v, p, &tokenChar)
		if p == s {
			return fmt.Errorf("%w: bad Via sent-protocol %q", ErrMalformed, snippet(v))
		}
		tr = v[s:p]
		p = skipLWS(v, p)
	}
	via.Transport = tr

	// sent-by = host [ COLON port ]
	s := p
	if p < len(v) && v[p] == '[' {
		e := bytes.IndexByte(v[p:], ']')
		if e < 0 {
			return fmt.Errorf("%w: unterminated IPv6 reference in Via %q", ErrMalformed, snippet(v))
		}
		via.Host = v[p+1 : p+e]
		p += e + 1
	} else {
		p = until(v, p, &hostStop)
		via.Host = v[s:p]
		if p < len(v) && v[p] == ':' {
			if e := until(v, p, &sepChar); bytes.IndexByte(v[p+1:e], ':') >= 0 {
				via.Host, p = v[s:e], e // a bare IPv6 address, as some stacks write it
			}
		}
	}
	if len(via.Host) == 0 {
		return fmt.Errorf("%w: no host in Via %q", ErrMalformed, snippet(v))
	}
	end := p
	if q := skipLWS(v, p); q < len(v) && v[q] == ':' {
		q = skipLWS(v, q+1)
		ps := q
		port := 0
		for q < len(v) && isDigit(v[q]) && q-ps < 6 {
			port = port*10 + int(v[q]-'0')
			q++
		}
		if q == ps || port > 65535 || q < len(v) && !sepChar[v[q]] {
			return fmt.Errorf("%w: bad port in Via %q", ErrMalformed, snippet(v))
		}
		via.Port = port
		end, p = q, q
	}
	via.SentBy = v[s:end]

	for {
		name, val, hasVal, next, ok := nextParam(v, p)
		if !ok {
			break
		}
		p = next
		via.setParam(name, val, hasVal)
	}
	return nil
}

// parseNameAddr reads a From, To, Contact, Refer-To or Referred-By value:
// name-addr ([display-name] <URI>) or addr-spec (a bare URI, whose
// ;params then belong to the header, RFC 3261 §20.10), followed by
// parameters. The display name is returned without its quotes but with any
// quoted-pair escapes as written. Liberal where RFC 4475 allows it: an
// unquoted display name may hold any characters (§3.1.2.15), no LWS is
// needed before '<' (§3.1.1.6), and LWS inside <> is ignored (§3.1.2.14).
// A missing closing quote or '>' is inferred (§3.1.2.6). The error is a
// plain description; callers wrap it.
func parseNameAddr(v []byte, a *NameAddr) error {
	// The form nearly every stack writes, read here as nameAddrGeneral
	// reads it (FuzzParseNameAddr): no LWS at either end, an unquoted
	// display name or none, then "<" URI ">" with no LWS just inside the
	// brackets, then the parameters.
	if n := len(v); n > 2 && !lwsChar[v[0]] && !lwsChar[v[n-1]] {
		if lt := until(v, 0, &nameAddrStop); lt < n && v[lt] == '<' {
			if gt := bytes.IndexByte(v[lt+1:], '>'); gt > 0 {
				uri := v[lt+1 : lt+1+gt]
				if !lwsChar[uri[0]] && !lwsChar[uri[gt-1]] {
					d := lt
					for d > 0 && lwsChar[v[d-1]] {
						d--
					}
					var display []byte
					if d > 0 {
						display = v[:d]
					}
					a.Display, a.URI, a.Tag = display, uri, paramTag(v[lt+2+gt:])
					return nil
				}
			}
		}
	}
	return nameAddrGeneral(v, a)
}

// nameAddrGeneral is parseNameAddr for any form.
func nameAddrGeneral(v []byte, a *NameAddr) error {
	*a = NameAddr{}
	v = trimLWS(v)
	if len(v) == 0 {
		return errors.New("empty value")
	}
	lt, semi := -1, -1
	quoted := false
scan:
	for i := 0; i < len(v); i++ {
		if i = until(v, i, &nameAddrStop); i == len(v) {
			break
		}
		switch v[i] {
		case '"':
			e := quotedEnd(v, i)
			if e < 0 {
				// Infer the missing quote (RFC 4475 §3.1.2.6): the display
				// name runs to the '<'. Seen in the wild as From: \"name\" <...>.
				j := bytes.IndexByte(v[i:], '<')
				if j < 0 {
					return fmt.Errorf("unterminated quoted string in %q", snippet(v))
				}
				lt = i + j
				break scan
			}
			quoted = true
			i = e - 1
		case '<':
			lt = i
			break scan
		case ';':
			if !quoted {
				semi = i
				break scan
			}
		}
	}
	var params []byte
	if lt >= 0 {
		d := trimLWS(v[:lt])
		if len(d) > 0 && d[0] == '"' {
			if e := quotedEnd(d, 0); e > 0 {
				d = d[1 : e-1]
			} else {
				d = trimLWS(d[1:])
			}
		}
		if len(d) > 0 {
			a.Display = d
		}
		rest := v[lt+1:]
		if gt := bytes.IndexByte(rest, '>'); gt >= 0 {
			a.URI = trimLWS(rest[:gt])
			params = rest[gt+1:]
		} else {
			// No '>': read what follows '<' as an addr-spec.
			semi := bytes.IndexByte(rest, ';')
			if semi < 0 {
				semi = len(rest)
			}
			a.URI = trimLWS(rest[:semi])
			params = rest[semi:]
		}
	} else {
		if quoted {
			return fmt.Errorf("display name without <URI> in %q", snippet(v))
		}
		if semi < 0 {
			semi = len(v)
		}
		a.URI = trimLWS(v[:semi])
		params = v[semi:]
	}
	if len(a.URI) == 0 {
		return fmt.Errorf("empty URI in %q", snippet(v))
	}
	a.Tag = paramTag(params)
	return nil
}

// paramTag returns the value of the first tag parameter in params (nil if
// none), as paramTagGeneral reads it, with a shortcut for ";tag=value"
// first, as stacks write it.
func paramTag(params []byte) []byte {
	if len(params) > 5 && params[0] == ';' && params[4] == '=' && lowerTab[params[1]] == 't' && lowerTab[params[2]] == 'a' &&
		lowerTab[params[3]] == 'g' && !lwsChar[params[5]] && params[5] != '"' {
		return params[5:untilSep(params, 5)]
	}
	return paramTagGeneral(params)
}

// paramTagGeneral reads the parameters one by one (nextParam) up to the
// first tag with a value ("tag" alone is passed over).
func paramTagGeneral(params []byte) []byte {
	for p := 0; ; {
		name, val, _, next, ok := nextParam(params, p)
		if !ok {
			return nil
		}
		p = next
		if val != nil && equalKey(name, keyTag) {
			return val
		}
	}
}

// nextParam reads one ";name[=value]" from v at p, skipping LWS around the
// separators. A quoted value is returned without its quotes. ok is false at
// the end of the parameters or at anything that is not a parameter.
func nextParam(v []byte, p int) (name, val []byte, hasVal bool, next int, ok bool) {
	p = skipLWS(v, p)
	if p >= len(v) || v[p] != ';' {
		return nil, nil, false, p, false
	}
	p = skipLWS(v, p+1)
	s := p
	p = span(v, p, &tokenChar)
	if p == s {
		return nil, nil, false, p, false
	}
	name = v[s:p]
	q := skipLWS(v, p)
	if q >= len(v) || v[q] != '=' {
		return name, nil, false, p, true
	}
	q = skipLWS(v, q+1)
	if q < len(v) && v[q] == '"' {
		e := quotedEnd(v, q)
		if e < 0 {
			return name, v[q+1:], true, len(v), true
		}
		return name, v[q+1 : e-1], true, e, true
	}
	s = q
	q = untilSep(v, q)
	return name, v[s:q], true, q, true
}

// quotedEnd returns the index just past the quoted string starting at
// v[i] == '"', honouring quoted-pair escapes, or -1 if it never ends.
func quotedEnd(v []byte, i int) int {
	for j := i + 1; j < len(v); j++ {
		switch v[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// splitList returns the first comma-separated item of a list header value,
// trimmed, whether a comma followed, and the rest after it. Commas inside
// quoted strings and <...> do not split.
func splitList(v []byte) (item []byte, more bool, rest []byte) {
	angle := false
	for i := 0; i < len(v); i++ {
		i = until(v, i, &listChar)
		if i == len(v) {
			break
		}
		switch v[i] {
		case '"':
			e := quotedEnd(v, i)
			if e < 0 {
				return trimLWS(v), false, nil
			}
			i = e - 1
		case '<':
			angle = true
		case '>':
			angle = false
		case ',':
			if !angle {
				return trimLWS(v[:i]), true, v[i+1:]
			}
		}
	}
	return trimLWS(v), false, nil
}

// findSDP returns the SDP in body given its Content-Type: the body itself
// for application/sdp, the application/sdp part for multipart/* (nested
// multiparts searched up to a small depth), else nil.
func findSDP(ct, body []byte, depth int) []byte {
	if len(ct) == 0 || len(body) == 0 {
		return nil
	}
	mt := ct
	if i := bytes.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = trimLWS(mt)
	if equalKey(mt, keyAppSDP) {
		return body
	}
	if depth >= 3 || !hasPrefixFold(mt, "multipart/") {
		return nil
	}
	var boundary []byte
	for p := len(mt); ; {
		i := bytes.IndexByte(ct[p:], ';')
		if i < 0 {
			break
		}
		name, val, _, next, ok := nextParam(ct, p+i)
		if !ok {
			break
		}
		p = next
		if equalFold(name, "boundary") {
			boundary = val
			break
		}
	}
	if len(boundary) == 0 {
		return nil
	}
	// RFC 2046 §5.1.1: a delimiter is CRLF "--" boundary at a line start; the
	// CRLF before it belongs to the delimiter, not to the part.
	partStart := -1
	for pos := 0; pos < len(body); {
		i := bytes.Index(body[pos:], boundary)
		if i < 0 {
			break
		}
		i += pos
		d := i - 2
		if d < 0 || body[d] != '-' || body[d+1] != '-' || d > 0 && body[d-1] != '\n' {
			pos = i + 1
			continue
		}
		if partStart >= 0 {
			end := d
			if end > partStart && body[end-1] == '\n' {
				end--
				if end > partStart && body[end-1] == '\r' {
					end--
				}
			}
			if sdp := sdpPart(body[partStart:end], depth); sdp != nil {
				return sdp
			}
		}
		after := i + len(boundary)
		if after+1 < len(body) && body[after] == '-' && body[after+1] == '-' {
			return nil // close delimiter
		}
		nl := bytes.IndexByte(body[after:], '\n')
		if nl < 0 {
			return nil
		}
		partStart = after + nl + 1
		pos = partStart
	}
	if partStart >= 0 && partStart < len(body) {
		return sdpPart(body[partStart:], depth) // unterminated last part
	}
	return nil
}

// sdpPart looks at one MIME body part: its headers up to the empty line,
// then its body.
func sdpPart(part []byte, depth int) []byte {
	var ct []byte
	p := 0
	for p < len(part) {
		if e, ok := blankLine(part, p); ok {
			p = e
			if ct == nil {
				return nil // RFC 2046 §5.1: default text/plain
			}
			return findSDP(ct, part[p:], depth+1)
		}
		id, _, value, next, err := readHeader(part, p)
		if err != nil {
			return nil
		}
		p = next
		if ct == nil && id == hdrContentType {
			ct = value
		}
	}
	return nil
}

// nextLine returns the line at b[p:] without its CR LF, and where the next
// line starts.
func nextLine(b []byte, p int) (line []byte, next int) {
	i := bytes.IndexByte(b[p:], '\n')
	if i < 0 {
		return trimCR(b[p:]), len(b)
	}
	return trimCR(b[p : p+i]), p + i + 1
}

// blankLine reports whether the line at b[p:] is empty (CRLF, LF, or a lone
// CR ending b), and where the line after it starts.
func blankLine(b []byte, p int) (int, bool) {
	switch {
	case p >= len(b):
		return len(b), false
	case b[p] == '\n':
		return p + 1, true
	case b[p] == '\r' && p+1 < len(b) && b[p+1] == '\n':
		return p + 2, true
	case b[p] == '\r' && p+1 == len(b):
		return len(b), true
	}
	return p, false
}

// readHeader reads the logical header line at b[p:] (p < len(b)): the name
// before the colon (trailing white space trimmed) and what header it is, and
// the value, which runs over any continuation lines (lines starting with SP
// or HT, RFC 3261 §7.3.1) and is trimmed of LWS at both ends but keeps the
// folds inside. A name that is not a known one, token or not, is
// hdrUnknown; an empty name is an error, as is a line without a colon.
func readHeader(b []byte, p int) (id hdrID, name, value []byte, next int, err error) {
	if b[p] == ' ' || b[p] == '\t' {
		line, _ := nextLine(b, p)
		return hdrInvalid, nil, nil, 0, fmt.Errorf("%w: continuation line without a header %q", ErrMalformed, snippet(line))
	}
	end, next := len(b), len(b)
	if j := bytes.IndexByte(b[p:], '\n'); j >= 0 {
		end, next = p+j, p+j+1
	}
	colon := bytes.IndexByte(b[p:end], ':')
	if colon < 0 {
		return hdrInvalid, nil, nil, 0, fmt.Errorf("%w: header line without colon %q", ErrMalformed, snippet(trimCR(b[p:end])))
	}
	colon += p
	name = b[p:colon] // b[p] is not SP or HT: only the end may need trimming
	if colon > p && (b[colon-1] == ' ' || b[colon-1] == '\t') {
		name = trimSPHT(name)
	}
	if len(name) == 0 {
		return hdrInvalid, nil, nil, 0, fmt.Errorf("%w: header line without a name %q", ErrMalformed, snippet(trimCR(b[p:end])))
	}
	id = lookupName(name)
	for next < len(b) && (b[next] == ' ' || b[next] == '\t') {
		j := bytes.IndexByte(b[next:], '\n')
		if j < 0 {
			end, next = len(b), len(b)
			break
		}
		end, next = next+j, next+j+1
	}
	// The value, trimmed of LWS at both ends: usually one SP before it and
	// the CR of the line end after it, which are taken off directly.
	i, j := colon+1, end
	if j > i && b[j-1] == '\r' {
		j--
	}
	if i < j && b[i] == ' ' {
		i++
	}
	value = b[i:j]
	if len(value) > 0 && (value[0] <= ' ' || value[len(value)-1] <= ' ') { // LWS is among these: trimLWS decides
		value = trimLWS(value)
	}
	return id, name, value, next, nil
}

// readHeaderFast is readHeader for the line most headers are: a known name
// of at most 16 bytes right before the colon, and no continuation line. It
// takes the name from guess, two hdrUsual slots (namePredictor), when the
// line starts with one and a colon; else it finds the colon and the name's
// table entry from two words of b (readName), where readHeader searches
// for the colon and then hashes and compares the name. It finds the line
// end from x, the line ends of b (lineIndex), where readHeader calls
// bytes.IndexByte. It returns hdrUnknown when readHeader must read the
// line (never the empty line that ends the headers: no known name starts
// with CR or LF), and otherwise readHeader's id, value and next, whatever
// the guess (FuzzReadHeader checks that); the name is b[p:] up to the
// first colon, which a caller that has the id seldom needs.
func readHeaderFast(b []byte, p int, x *lineIndex, guess *[2]uint8) (id hdrID, value []byte, next int) {
	if p+16 > len(b) {
		return
	}
	w0 := le64(b[p : p+8 : p+8])
	var n int
	if g := &hdrGuess[guess[0]]; g.matches(b, p, w0) {
		n, id = g.n, g.id
	} else if g := &hdrGuess[guess[1]]; g.matches(b, p, w0) {
		n, id = g.n, g.id
		guess[0], guess[1] = guess[1], guess[0]
	} else {
		n, id = readName(b, p, w0, guess)
		if id == hdrUnknown {
			return
		}
	}
	i := p + n + 1
	if i < len(b) && b[i] == ' ' {
		i++
	}
	end := x.lineEndFast(i) // then lineEndSlow: see lineEndFast
	if end < 0 {
		if end = x.lineEndSlow(b, i); end < 0 {
			return hdrUnknown, nil, 0
		}
	}
	next = end + 1
	if next < len(b) && b[next] <= ' ' && (b[next] == ' ' || b[next] == '\t') {
		return hdrUnknown, nil, 0 // a continuation line
	}
	value = b[i:end]
	if k := len(value) - 2; k >= 0 && value[k+1] == '\r' && value[k] > ' ' && value[0] > ' ' {
		return id, value[:k+1], next // "value CRLF": nothing to trim
	}
	if len(value) > 0 && value[len(value)-1] == '\r' {
		value = value[:len(value)-1]
	}
	if len(value) > 0 && (value[0] <= ' ' || value[len(value)-1] <= ' ') { // LWS is among these: trimLWS decides
		value = trimLWS(value)
	}
	return id, value, next
}

// readName is readHeaderFast's name when its guess missed: the colon found
// in the first two words, and the name looked up in hdrUsual as written,
// else folded to lower case in hdrTable. A name found in hdrUsual becomes
// the first guess, the first the second. id is hdrUnknown for anything
// readHeader must read.
func readName(b []byte, p int, w0 uint64, guess *[2]uint8) (n int, id hdrID) {
	n = firstByte(w0, ':')
	var r0, r1 uint64 // the name's first and last 8 bytes; r1 0 under 8
	var last byte
	switch {
	case n == 0:
		return 0, hdrUnknown
	case n < 8:
		r0 = w0 & (1<<(8*n) - 1)
		last = byte(r0 >> (8 * (n - 1)))
	default:
		n = 8 + firstByte(le64(b[p+8:p+16:p+16]), ':')
		if n == 16 && (p+16 >= len(b) || b[p+16] != ':') {
			return 0, hdrUnknown // a longer name: readHeader's
		}
		r0, r1 = w0, le64(b[p+n-8:p+n:p+n])
		last = byte(r1 >> 56)
	}
	// The name as it is usually written ("Call-ID", "CSeq", "v") is found
	// as it is; in any other case, folded to lower case.
	for i := hdrHashBytes(n, byte(r0), last); ; i = (i + 1) & (hdrTableSize - 1) {
		e := &hdrUsual[i]
		if e.n == 0 {
			break
		}
		if e.n == n && e.w0 == r0 && e.w1 == r1 {
			id = e.id
			guess[0], guess[1] = uint8(i), guess[0]
			break
		}
	}
	if id == hdrUnknown {
		f0, f1 := fold8(r0), fold8(r1)
		for i := hdrHashBytes(n, byte(f0), lowerTab[last]); ; i = (i + 1) & (hdrTableSize - 1) {
			e := &hdrTable[i]
			if e.key.s == "" {
				return 0, hdrUnknown
			}
			if len(e.key.s) == n && e.key.w0 == f0 && (n < 8 || e.key.w1 == f1) {
				id = e.id
				break
			}
		}
	}
	return n, id
}

// firstByte returns the index of the first byte of the little-endian word
// w that is c, or 8 if none is. (x-1) & ^x has its high bit set in a byte
// that is zero; a borrow can set it in bytes above the first zero byte
// too, but never below it, so the lowest such bit is exact.
func firstByte(w uint64, c byte) int {
	const ones = 0x0101010101010101
	x := w ^ ones*uint64(c)
	return bits.TrailingZeros64((x-ones)&^x&(0x80*ones)) >> 3
}

// plausibleStart reports whether an incomplete first line could still
// become a SIP start line: the bytes before its first SP are a method token
// or a prefix of "SIP/2.0".
func plausibleStart(b []byte) bool {
	for i, c := range b {
		if c == ' ' {
			return i > 0
		}
		if !tokenChar[c] && c != '/' || i > maxMethodLen {
			return false
		}
	}
	return true
}

// parseUint reads a decimal number surrounded by optional LWS, at most max.
func parseUint(v []byte, max uint64) (uint64, bool) {
	if n, ok := shortUint(v); ok { // the usual value: a few digits, trimmed
		return n, n <= max
	}
	v = trimLWS(v)
	if len(v) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > max {
			return 0, false
		}
	}
	return n, true
}

// shortUint is parseUint's path for the value nearly every caller meets
// (Content-Length, SDP ports and payload types): one to six digits and
// nothing else, already trimmed, read without trimLWS and with one limit
// check after the loop instead of one a digit (six digits cannot
// overflow). ok false means the general loop must decide.
func shortUint(v []byte) (uint64, bool) {
	if len(v) == 0 || len(v) > 6 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c-'0' > 9 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func snippet(b []byte) []byte {
	if len(b) > errQuoteLen {
		return b[:errQuoteLen]
	}
	return b
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isLWS reports white space including the CR and LF of a fold.
func isLWS(c byte) bool { return lwsChar[c] }

// lwsChar marks SP, HT, CR and LF; sepChar adds the ';' and ',' that end a
// parameter value, hostStop the ':' that ends a Via host; listChar marks
// what splitList must look at; sphtChar the SP and HT between an SDP
// line's fields. Tables because these tests run on nearly every byte of a
// header.
var (
	lwsChar  = [256]bool{' ': true, '\t': true, '\r': true, '\n': true}
	sphtChar = [256]bool{' ': true, '\t': true}
	sepChar  = [256]bool{' ': true, '\t': true, '\r': true, '\n': true, ';': true, ',': true}
	hostStop = [256]bool{' ': true, '\t': true, '\r': true, '\n': true, ';': true, ',': true, ':': true}
	listChar = [256]bool{'"': true, '<': true, '>': true, ',': true}
	// hostChar marks what viaFast takes for a host name or IPv4 address.
	hostChar = func() (t [256]bool) {
		for c := range t {
			t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(byte(c)) || c == '.' || c == '-'
		}
		return t
	}()
	// nameAddrStop marks what parseNameAddr's first scan stops at.
	nameAddrStop = [256]bool{'"': true, '<': true, ';': true}
)

func skipLWS(v []byte, p int) int { return span(v, p, &lwsChar) }

// wordBranch is ";branch=" as a little-endian word.
var wordBranch = le64([]byte(";branch="))

// spanDigitsDots returns the index of the first byte of v at or after p
// that is not a digit or a dot, eight bytes a step: the host of most Via
// and URI values is an IPv4 address. Each byte is tested on its own seven
// low bits, so no carry crosses from one byte to the next and every byte's
// answer is exact.
func spanDigitsDots(v []byte, p int) int {
	const ones = 0x0101010101010101
	for p+8 <= len(v) {
		w := le64(v[p : p+8 : p+8])
		low := w & (0x7f * ones)
		ge := low + (0x80-'.')*ones   // high bit set where the byte is >= '.'
		gt := low + (0x80-'9'-1)*ones // high bit set where the byte is > '9'
		sl := (w ^ '/'*ones) & (0x7f * ones)
		notSlash := (sl + 0x7f*ones) | w ^ '/'*ones // high bit set where the byte is not '/'
		in := ge &^ gt &^ w & notSlash & (0x80 * ones)
		if in != 0x80*ones {
			return p + bits.TrailingZeros64(^in&(0x80*ones))>>3
		}
		p += 8
	}
	for p < len(v) && (isDigit(v[p]) || v[p] == '.') {
		p++
	}
	return p
}

// span returns the index of the first byte of v at or after p that is not
// in set (len(v) if none). These per-byte scans are most of the parser's
// work; written this way the compiler drops the bounds checks.
func span(v []byte, p int, set *[256]bool) int {
	for p < len(v) && set[v[p]] {
		p++
	}
	return p
}

// until returns the index of the first byte of v at or after p that is in
// set (len(v) if none).
func until(v []byte, p int, set *[256]bool) int {
	// Four bytes a step while they last: values and URIs run for dozens.
	for p+4 <= len(v) {
		w := v[p : p+4 : p+4]
		if set[w[0]] || set[w[1]] || set[w[2]] || set[w[3]] {
			break
		}
		p += 4
	}
	for p < len(v) && !set[v[p]] {
		p++
	}
	return p
}

// untilSep is until(v, p, &sepChar) eight bytes a step, for parameter
// values. A word's candidates are its bytes below 0x21 (SP, HT, CR, LF and
// the other controls) and its ';' and ',', found as in firstByte; the
// lowest is exact, and checked against sepChar since a control byte may
// not be one.
func untilSep(v []byte, p int) int {
	const ones = 0x0101010101010101
	for p+8 <= len(v) {
		w := le64(v[p:])
		x, y := w^(';'*ones), w^(','*ones)
		t := ((w - 0x21*ones) &^ w) | ((x - ones) &^ x) | ((y - ones) &^ y)
		if t &= 0x80 * ones; t == 0 {
			p += 8
			continue
		}
		p += bits.TrailingZeros64(t) >> 3
		if sepChar[v[p]] {
			return p
		}
		p++
	}
	if p < len(v) && len(v) >= 8 {
		// Under eight bytes left: v's last word, with the flags of the
		// bytes before p (passed already) shifted out. Every candidate is
		// flagged, so trying the flags upwards finds the first separator.
		q := len(v) - 8
		w := le64(v[q:])
		x, y := w^(';'*ones), w^(','*ones)
		t := ((w - 0x21*ones) &^ w) | ((x - ones) &^ x) | ((y - ones) &^ y)
		for t &= (0x80 * ones) << (8 * uint(p-q)); t != 0; t &= t - 1 {
			if k := q + bits.TrailingZeros64(t)>>3; sepChar[v[k]] {
				return k
			}
		}
		return len(v)
	}
	for p < len(v) && !sepChar[v[p]] {
		p++
	}
	return p
}

func skipSPHT(v []byte, p int) int {
	for p < len(v) && (v[p] == ' ' || v[p] == '\t') {
		p++
	}
	return p
}

func trimLWS(v []byte) []byte {
	for len(v) > 0 && lwsChar[v[0]] {
		v = v[1:]
	}
	for len(v) > 0 && lwsChar[v[len(v)-1]] {
		v = v[:len(v)-1]
	}
	return v
}

func trimSPHT(v []byte) []byte {
	i, j := 0, len(v)
	for i < j && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	for j > i && (v[j-1] == ' ' || v[j-1] == '\t') {
		j--
	}
	return v[i:j]
}

func trimCR(v []byte) []byte {
	if len(v) > 0 && v[len(v)-1] == '\r' {
		return v[:len(v)-1]
	}
	return v
}

// lowerTab maps ASCII upper-case letters to lower case and every other byte
// to itself.
var lowerTab = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c) + 'a' - 'A'
	}
	return t
}()

// foldKey is a lower-case ASCII name with its first and last 8 bytes as
// words (overlapping; a name under 8 bytes is all in the first, zero-padded),
// so that equalKey compares a view with it in a few word operations instead
// of byte by byte: header names and the keywords the parser meets on every
// message are compared this way.
type foldKey struct {
	s      string
	w0, w1 uint64
}

func newFoldKey(s string) foldKey {
	if len(s) == 0 || strings.ToLower(s) != s {
		panic("decode: bad foldKey " + s)
	}
	k := foldKey{s: s}
	k.w0, k.w1 = nameWords(s)
	return k
}

// nameWords is s's first 8 bytes as a little-endian word, zero-padded, and
// its last 8 when it has 8 or more (else 0): how foldKey and hdrUsual hold
// a name, and how readHeaderFast loads one.
func nameWords(s string) (w0, w1 uint64) {
	if len(s) >= 8 {
		return le64([]byte(s)), le64([]byte(s[len(s)-8:]))
	}
	var w [8]byte
	copy(w[:], s)
	return le64(w[:]), 0
}

// The names the parser compares most.
var (
	keySIPSlash   = newFoldKey("sip/")
	keySIP20      = newFoldKey("sip/2.0")
	keySIP20Slash = newFoldKey("sip/2.0/")
	keySIP20SP    = newFoldKey("sip/2.0 ")
	keySPSIP20    = newFoldKey(" sip/2.0")
	keyHTSIP20    = newFoldKey("\tsip/2.0")
	keyBranch     = newFoldKey("branch")
	keyReceived   = newFoldKey("received")
	keyRPort      = newFoldKey("rport")
	keyTag        = newFoldKey("tag")
	keyAppSDP     = newFoldKey("application/sdp")
)

// equalKey reports whether b is k, ignoring ASCII case.
func equalKey(b []byte, k foldKey) bool {
	n := len(b)
	switch {
	case n != len(k.s):
		return false
	case n >= 8:
		// Two words cover 8 to 16 bytes; longer names are compared in full
		// once those match.
		return fold8(le64(b)) == k.w0 && fold8(le64(b[n-8:])) == k.w1 && (n <= 16 || equalFold(b, k.s))
	case cap(b) >= 8: // bytes follow b in its array: load them and mask them off
		return fold8(le64(b[:8])&(1<<(8*n)-1)) == k.w0
	}
	var x uint64
	for i := n - 1; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return fold8(x) == k.w0
}

// equalFold compares b with the lower-case ASCII string s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lowerTab[b[i]] != s[i] {
			return false
		}
	}
	return true
}

func hasPrefixFold(b []byte, s string) bool {
	return len(b) >= len(s) && equalFold(b[:len(s)], s)
}

// tokenChar marks the characters of an RFC 3261 §25.1 token:
// alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
var tokenChar = [256]bool{
	'-': true, '.': true, '!': true, '%': true, '*': true, '_': true, '+': true, '`': true, '\'': true, '~': true,
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true,
	'A': true, 'B': true, 'C': true, 'D': true, 'E': true, 'F': true, 'G': true, 'H': true, 'I': true, 'J': true,
	'K': true, 'L': true, 'M': true, 'N': true, 'O': true, 'P': true, 'Q': true, 'R': true, 'S': true, 'T': true,
	'U': true, 'V': true, 'W': true, 'X': true, 'Y': true, 'Z': true,
	'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true, 'g': true, 'h': true, 'i': true, 'j': true,
	'k': true, 'l': true, 'm': true, 'n': true, 'o': true, 'p': true, 'q': true, 'r': true, 's': true, 't': true,
	'u': true, 'v': true, 'w': true, 'x': true, 'y': true, 'z': true,
}

// hdrID identifies a header the parser knows by name.
type hdrID uint8

// Known headers. hdrUnknown is a name the parser does not know, including
// names that are not tokens (corrupt names are kept as unknown headers:
// they cost the message nothing); hdrInvalid is an empty name.
const (
	hdrUnknown hdrID = iota
	hdrInvalid
	hdrAccept
	hdrAcceptContact
	hdrAcceptEncoding
	hdrAcceptLanguage
	hdrAlertInfo
	hdrAllow
	hdrAllowEvents
	hdrAuthenticationInfo
	hdrAuthorization
	hdrCallID
	hdrCallInfo
	hdrContact
	hdrContentDisposition
	hdrContentEncoding
	hdrContentLanguage
	hdrContentLength
	hdrContentType
	hdrCSeq
	hdrDate
	hdrDiversion
	hdrErrorInfo
	hdrEvent
	hdrExpires
	hdrFeatureCaps
	hdrFrom
	hdrGeolocation
	hdrHistoryInfo
	hdrIdentity
	hdrIdentityInfo
	hdrInReplyTo
	hdrInfoPackage
	hdrJoin
	hdrMaxForwards
	hdrMIMEVersion
	hdrMinExpires
	hdrMinSE
	hdrOrganization
	hdrPAccessNetworkInfo
	hdrPAssertedIdentity
	hdrPAssociatedURI
	hdrPCalledPartyID
	hdrPChargingFunctionAddresses
	hdrPChargingVector
	hdrPPreferredIdentity
	hdrPVisitedNetworkID
	hdrPath
	hdrPriority
	hdrPrivacy
	hdrProxyAuthenticate
	hdrProxyAuthorization
	hdrProxyRequire
	hdrRAck
	hdrReason
	hdrRecordRoute
	hdrRecvInfo
	hdrReferSub
	hdrReferTo
	hdrReferredBy
	hdrRejectContact
	hdrRemotePartyID
	hdrReplaces
	hdrReplyTo
	hdrRequestDisposition
	hdrRequire
	hdrRetryAfter
	hdrRoute
	hdrRSeq
	hdrSecurityClient
	hdrSecurityServer
	hdrSecurityVerify
	hdrServer
	hdrServiceRoute
	hdrSessionExpires
	hdrSubject
	hdrSubscriptionState
	hdrSupported
	hdrTargetDialog
	hdrTimestamp
	hdrTo
	hdrUnsupported
	hdrUserAgent
	hdrVia
	hdrWarning
	hdrWWWAuthenticate
	hdrCount
)

// hdrNames holds the canonical lower-case long name of each known header.
// Header.Name points at these for known headers; they are never written.
var hdrNames = [hdrCount][]byte{
	hdrAccept:                     canon("accept"),
	hdrAcceptContact:              canon("accept-contact"),
	hdrAcceptEncoding:             canon("accept-encoding"),
	hdrAcceptLanguage:             canon("accept-language"),
	hdrAlertInfo:                  canon("alert-info"),
	hdrAllow:                      canon("allow"),
	hdrAllowEvents:                canon("allow-events"),
	hdrAuthenticationInfo:         canon("authentication-info"),
	hdrAuthorization:              canon("authorization"),
	hdrCallID:                     canon("call-id"),
	hdrCallInfo:                   canon("call-info"),
	hdrContact:                    canon("contact"),
	hdrContentDisposition:         canon("content-disposition"),
	hdrContentEncoding:            canon("content-encoding"),
	hdrContentLanguage:            canon("content-language"),
	hdrContentLength:              canon("content-length"),
	hdrContentType:                canon("content-type"),
	hdrCSeq:                       canon("cseq"),
	hdrDate:                       canon("date"),
	hdrDiversion:                  canon("diversion"),
	hdrErrorInfo:                  canon("error-info"),
	hdrEvent:                      canon("event"),
	hdrExpires:                    canon("expires"),
	hdrFeatureCaps:                canon("feature-caps"),
	hdrFrom:                       canon("from"),
	hdrGeolocation:                canon("geolocation"),
	hdrHistoryInfo:                canon("history-info"),
	hdrIdentity:                   canon("identity"),
	hdrIdentityInfo:               canon("identity-info"),
	hdrInReplyTo:                  canon("in-reply-to"),
	hdrInfoPackage:                canon("info-package"),
	hdrJoin:                       canon("join"),
	hdrMaxForwards:                canon("max-forwards"),
	hdrMIMEVersion:                canon("mime-version"),
	hdrMinExpires:                 canon("min-expires"),
	hdrMinSE:                      canon("min-se"),
	hdrOrganization:               canon("organization"),
	hdrPAccessNetworkInfo:         canon("p-access-network-info"),
	hdrPAssertedIdentity:          canon("p-asserted-identity"),
	hdrPAssociatedURI:             canon("p-associated-uri"),
	hdrPCalledPartyID:             canon("p-called-party-id"),
	hdrPChargingFunctionAddresses: canon("p-charging-function-addresses"),
	hdrPChargingVector:            canon("p-charging-vector"),
	hdrPPreferredIdentity:         canon("p-preferred-identity"),
	hdrPVisitedNetworkID:          canon("p-visited-network-id"),
	hdrPath:                       canon("path"),
	hdrPriority:                   canon("priority"),
	hdrPrivacy:                    canon("privacy"),
	hdrProxyAuthenticate:          canon("proxy-authenticate"),
	hdrProxyAuthorization:         canon("proxy-authorization"),
	hdrProxyRequire:               canon("proxy-require"),
	hdrRAck:                       canon("rack"),
	hdrReason:                     canon("reason"),
	hdrRecordRoute:                canon("record-route"),
	hdrRecvInfo:                   canon("recv-info"),
	hdrReferSub:                   canon("refer-sub"),
	hdrReferTo:                    canon("refer-to"),
	hdrReferredBy:                 canon("referred-by"),
	hdrRejectContact:              canon("reject-contact"),
	hdrRemotePartyID:              canon("remote-party-id"),
	hdrReplaces:                   canon("replaces"),
	hdrReplyTo:                    canon("reply-to"),
	hdrRequestDisposition:         canon("request-disposition"),
	hdrRequire:                    canon("require"),
	hdrRetryAfter:                 canon("retry-after"),
	hdrRoute:                      canon("route"),
	hdrRSeq:                       canon("rseq"),
	hdrSecurityClient:             canon("security-client"),
	hdrSecurityServer:             canon("security-server"),
	hdrSecurityVerify:             canon("security-verify"),
	hdrServer:                     canon("server"),
	hdrServiceRoute:               canon("service-route"),
	hdrSessionExpires:             canon("session-expires"),
	hdrSubject:                    canon("subject"),
	hdrSubscriptionState:          canon("subscription-state"),
	hdrSupported:                  canon("supported"),
	hdrTargetDialog:               canon("target-dialog"),
	hdrTimestamp:                  canon("timestamp"),
	hdrTo:                         canon("to"),
	hdrUnsupported:                canon("unsupported"),
	hdrUserAgent:                  canon("user-agent"),
	hdrVia:                        canon("via"),
	hdrWarning:                    canon("warning"),
	hdrWWWAuthenticate:            canon("www-authenticate"),
}

// canon makes a canonical name with no spare capacity, so that an append
// to a Header.Name reallocates instead of writing into the shared name.
func canon(s string) []byte {
	b := []byte(s)
	return b[:len(b):len(b)]
}

// hdrIsList marks the headers whose grammar is a comma-separated list
// (RFC 3261 §7.3.1, §25.1 and the defining RFCs); their values are split
// into one Header each. Headers whose values hold commas of their own
// (Authorization and the other credentials and challenges, Date,
// Retry-After, User-Agent, Server, Subject, ...) and every unknown header
// are never split (RFC 4475 §3.1.1.1).
var hdrIsList = [hdrCount]bool{
	hdrAccept:             true,
	hdrAcceptContact:      true,
	hdrAcceptEncoding:     true,
	hdrAcceptLanguage:     true,
	hdrAlertInfo:          true,
	hdrAllow:              true,
	hdrAllowEvents:        true,
	hdrCallInfo:           true,
	hdrContact:            true,
	hdrContentEncoding:    true,
	hdrContentLanguage:    true,
	hdrDiversion:          true,
	hdrErrorInfo:          true,
	hdrFeatureCaps:        true,
	hdrGeolocation:        true,
	hdrHistoryInfo:        true,
	hdrInReplyTo:          true,
	hdrPAccessNetworkInfo: true,
	hdrPAssertedIdentity:  true,
	hdrPAssociatedURI:     true,
	hdrPPreferredIdentity: true,
	hdrPVisitedNetworkID:  true,
	hdrPath:               true,
	hdrProxyRequire:       true,
	hdrReason:             true,
	hdrRecordRoute:        true,
	hdrRecvInfo:           true,
	hdrRejectContact:      true,
	hdrRemotePartyID:      true,
	hdrRequestDisposition: true,
	hdrRequire:            true,
	hdrRoute:              true,
	hdrSecurityClient:     true,
	hdrSecurityServer:     true,
	hdrSecurityVerify:     true,
	hdrServiceRoute:       true,
	hdrSupported:          true,
	hdrUnsupported:        true,
	hdrVia:                true,
	hdrWarning:            true,
}

// LeanHeader reports whether a lean parse (Options.Lean) lists headers
// called name, in any case or form, in Message.Headers: true for every name
// but those of the headers a Message field holds (a REGISTER's Contacts
// are listed all the same).
func LeanHeader(name string) bool {
	return !hdrHasField[lookupHeader([]byte(name))]
}

// hdrHasField marks the headers whose value a Message field holds (Contact
// the first value only): the ones a lean parse leaves out of Headers.
var hdrHasField = [hdrCount]bool{
	hdrVia: true, hdrContact: true, hdrDiversion: true, hdrHistoryInfo: true,
	hdrCallID: true, hdrFrom: true, hdrTo: true, hdrCSeq: true,
	hdrContentLength: true, hdrContentType: true, hdrMaxForwards: true,
	hdrUserAgent: true, hdrServer: true, hdrReason: true,
	hdrAuthorization: true, hdrProxyAuthorization: true, hdrWWWAuthenticate: true, hdrProxyAuthenticate: true,
	hdrReferTo: true, hdrReferredBy: true, hdrReplaces: true, hdrRSeq: true, hdrRAck: true,
	hdrSessionExpires: true, hdrEvent: true, hdrExpires: true,
}

// hdrRare marks the headers whose fields are in Message's group of rare
// headers: every header with a field but those of the common group.
var hdrRare = func() (t [hdrCount]bool) {
	t = hdrHasField
	for _, id := range []hdrID{hdrVia, hdrCallID, hdrFrom, hdrTo, hdrCSeq, hdrContentLength, hdrContentType, hdrMaxForwards} {
		t[id] = false
	}
	return t
}()

// hdrFlags holds hdrHasField, hdrRare and hdrIsList as bits, so that
// addHeader, which runs for every header line, loads one byte.
var hdrFlags = func() (t [hdrCount]uint8) {
	for id := range t {
		if hdrHasField[id] {
			t[id] |= flagField
		}
		if hdrRare[id] {
			t[id] |= flagRare
		}
		if hdrIsList[id] {
			t[id] |= flagList
		}
	}
	return t
}()

const (
	flagField = 1 << iota
	flagRare
	flagList
)

// hdrKeys lists every name lookupHeader knows, long and compact forms
// (RFC 3261 §7.3.3 and the IANA registry), in lower case.
var hdrKeys = [...]struct {
	name string
	id   hdrID
}{
	{"via", hdrVia},
	{"v", hdrVia},
	{"from", hdrFrom},
	{"f", hdrFrom},
	{"to", hdrTo},
	{"t", hdrTo},
	{"call-id", hdrCallID},
	{"i", hdrCallID},
	{"cseq", hdrCSeq},
	{"contact", hdrContact},
	{"m", hdrContact},
	{"content-length", hdrContentLength},
	{"l", hdrContentLength},
	{"content-type", hdrContentType},
	{"c", hdrContentType},
	{"max-forwards", hdrMaxForwards},
	{"record-route", hdrRecordRoute},
	{"route", hdrRoute},
	{"allow", hdrAllow},
	{"supported", hdrSupported},
	{"k", hdrSupported},
	{"user-agent", hdrUserAgent},
	{"server", hdrServer},
	{"accept", hdrAccept},
	{"accept-contact", hdrAcceptContact},
	{"a", hdrAcceptContact},
	{"accept-encoding", hdrAcceptEncoding},
	{"accept-language", hdrAcceptLanguage},
	{"alert-info", hdrAlertInfo},
	{"allow-events", hdrAllowEvents},
	{"u", hdrAllowEvents},
	{"authentication-info", hdrAuthenticationInfo},
	{"authorization", hdrAuthorization},
	{"call-info", hdrCallInfo},
	{"content-disposition", hdrContentDisposition},
	{"content-encoding", hdrContentEncoding},
	{"e", hdrContentEncoding},
	{"content-language", hdrContentLanguage},
	{"date", hdrDate},
	{"diversion", hdrDiversion},
	{"error-info", hdrErrorInfo},
	{"event", hdrEvent},
	{"o", hdrEvent},
	{"expires", hdrExpires},
	{"feature-caps", hdrFeatureCaps},
	{"geolocation", hdrGeolocation},
	{"history-info", hdrHistoryInfo},
	{"identity", hdrIdentity},
	{"y", hdrIdentity},
	{"identity-info", hdrIdentityInfo},
	{"n", hdrIdentityInfo},
	{"in-reply-to", hdrInReplyTo},
	{"info-package", hdrInfoPackage},
	{"join", hdrJoin},
	{"mime-version", hdrMIMEVersion},
	{"min-expires", hdrMinExpires},
	{"min-se", hdrMinSE},
	{"organization", hdrOrganization},
	{"p-access-network-info", hdrPAccessNetworkInfo},
	{"p-asserted-identity", hdrPAssertedIdentity},
	{"p-associated-uri", hdrPAssociatedURI},
	{"p-called-party-id", hdrPCalledPartyID},
	{"p-charging-function-addresses", hdrPChargingFunctionAddresses},
	{"p-charging-vector", hdrPChargingVector},
	{"p-preferred-identity", hdrPPreferredIdentity},
	{"p-visited-network-id", hdrPVisitedNetworkID},
	{"path", hdrPath},
	{"priority", hdrPriority},
	{"privacy", hdrPrivacy},
	{"proxy-authenticate", hdrProxyAuthenticate},
	{"proxy-authorization", hdrProxyAuthorization},
	{"proxy-require", hdrProxyRequire},
	{"rack", hdrRAck},
	{"reason", hdrReason},
	{"recv-info", hdrRecvInfo},
	{"refer-sub", hdrReferSub},
	{"refer-to", hdrReferTo},
	{"r", hdrReferTo},
	{"referred-by", hdrReferredBy},
	{"b", hdrReferredBy},
	{"reject-contact", hdrRejectContact},
	{"j", hdrRejectContact},
	{"remote-party-id", hdrRemotePartyID},
	{"replaces", hdrReplaces},
	{"reply-to", hdrReplyTo},
	{"request-disposition", hdrRequestDisposition},
	{"d", hdrRequestDisposition},
	{"require", hdrRequire},
	{"retry-after", hdrRetryAfter},
	{"rseq", hdrRSeq},
	{"security-client", hdrSecurityClient},
	{"security-server", hdrSecurityServer},
	{"security-verify", hdrSecurityVerify},
	{"service-route", hdrServiceRoute},
	{"session-expires", hdrSessionExpires},
	{"x", hdrSessionExpires},
	{"subject", hdrSubject},
	{"s", hdrSubject},
	{"subscription-state", hdrSubscriptionState},
	{"target-dialog", hdrTargetDialog},
	{"timestamp", hdrTimestamp},
	{"unsupported", hdrUnsupported},
	{"warning", hdrWarning},
	{"www-authenticate", hdrWWWAuthenticate},
}

// hdrTableSize is the size of the open-addressing table of header names: a
// power of two, a few times the number of keys, so probes stay short.
const (
	hdrTableBits = 8
	hdrTableSize = 1 << hdrTableBits
)

type hdrEntry struct {
	key foldKey
	id  hdrID
}

// usualSpelling is how the RFCs write a long header name given in lower
// case: each word capitalised ("Content-Length"), but for the names they
// spell otherwise ("Call-ID", "CSeq", "WWW-Authenticate", ...).
func usualSpelling(lower string) string {
	switch lower {
	case "call-id":
		return "Call-ID"
	case "cseq":
		return "CSeq"
	case "rseq":
		return "RSeq"
	case "rack":
		return "RAck"
	case "www-authenticate":
		return "WWW-Authenticate"
	case "mime-version":
		return "MIME-Version"
	case "min-se":
		return "Min-SE"
	}
	w := []byte(lower)
	for i := range w {
		if (i == 0 || w[i-1] == '-') && 'a' <= w[i] && w[i] <= 'z' {
			w[i] -= 'a' - 'A'
		}
	}
	return string(w)
}

// usualEntry is a header name as it is usually written: its first and
// last 8 bytes as readHeaderFast loads them (w1 0 under 8 bytes).
type usualEntry struct {
	w0, w1 uint64
	n      int // 0 for an empty slot
	id     hdrID
}

// hdrUsual finds header names spelt as usual, by hdrHashBytes over their
// length and their first and last bytes as written: the long forms as the
// RFCs write them (usualSpelling), the compact ones in lower case. It is
// built once and only read.
var hdrUsual = func() (t [hdrTableSize]usualEntry) {
	for _, k := range hdrKeys {
		usual := k.name
		if len(k.name) > 1 {
			usual = usualSpelling(k.name)
		}
		if len(usual) > 16 {
			continue // readHeaderFast leaves longer names to readHeader
		}
		e := usualEntry{n: len(usual), id: k.id}
		e.w0, e.w1 = nameWords(usual)
		i := hdrHashBytes(len(usual), usual[0], usual[len(usual)-1])
		for t[i].n != 0 {
			i = (i + 1) & (hdrTableSize - 1)
		}
		t[i] = e
	}
	return t
}()

// namePredictor guesses a header's name from the header before it: for
// each header id, the hdrUsual slots of the two names that followed it
// last, the later first (hdrUnknown's: the first header's). Stacks write
// their headers in the same order message after message, so a Decoder
// keeps one across messages, and two guesses a header cover two stacks
// writing the same header before different ones (98% of the known names
// are guessed right on big-sip, one stack; 95% over the public captures,
// and, counting as wrong the lines no guess matches, the blank line before
// a body and unknown names, 93% over them and 74% on aaa.pcap, a few
// phones and a proxy, where one guess a header got 82% and 45%). A right
// guess costs readHeaderFast one or two compares where looking the name
// up costs it a search for the colon and a hash probe; a wrong one costs
// the compares (hdrGuess says what matches).
type namePredictor [256][2]uint8

// guesses is what a Decoder keeps from one message to the next so that
// parseSIP reads the next faster; whatever it holds, parseSIP's result is
// the same.
type guesses struct {
	names namePredictor
	via   viaGuess
}

// guessEntry is a hdrUsual slot as readHeaderFast checks a guess, the name
// with the colon after it: under 8 bytes, c0 is that in one word, under
// the mask m0; from 8 to 15 bytes, c0 is its first 8 bytes and c1 the 8
// that end with the colon.
type guessEntry struct {
	c0, m0, c1 uint64
	n          int
	id         hdrID
}

// matches reports whether b[p:] starts with g's name and a colon, given
// w0, its first 8 bytes; p+16 <= len(b).
func (g *guessEntry) matches(b []byte, p int, w0 uint64) bool {
	return w0&g.m0 == g.c0 && (g.n < 8 || le64(b[p+g.n-7:p+g.n+1:p+g.n+1]) == g.c1)
}

// hdrGuess is hdrUsual slot by slot, as guesses. An empty slot, or a name
// of 16 bytes (whose colon is past the two words readHeaderFast may read),
// never matches: m0 0 and c0 1.
var hdrGuess = func() (t [hdrTableSize]guessEntry) {
	for i, e := range hdrUsual {
		t[i] = guessEntry{c0: 1}
		if e.n == 0 || e.n >= 16 {
			continue
		}
		name := make([]byte, 16)
		binary.LittleEndian.PutUint64(name, e.w0)
		if e.n >= 8 {
			binary.LittleEndian.PutUint64(name[e.n-8:], e.w1)
		}
		name[e.n] = ':'
		g := guessEntry{n: e.n, id: e.id, c0: le64(name), m0: 1<<(8*(e.n+1)) - 1}
		if e.n >= 7 {
			g.m0 = ^uint64(0)
		}
		if e.n >= 8 {
			g.c1 = le64(name[e.n-7:])
		}
		t[i] = g
	}
	return t
}()

// hdrTable finds header names by hdrHash. It is built once and only read.
var hdrTable = func() (t [hdrTableSize]hdrEntry) {
	for _, k := range hdrKeys {
		i := hdrHash(len(k.name), k.name[0], k.name[len(k.name)-1])
		for t[i].key.s != "" {
			i = (i + 1) & (hdrTableSize - 1)
		}
		t[i] = hdrEntry{key: newFoldKey(k.name), id: k.id}
	}
	return t
}()

// hdrHash hashes a name by its length and its first and last characters
// (lower case): constant time, and few enough collisions among the known
// names that a lookup is one or two probes.
func hdrHash(n int, first, last byte) uint32 {
	x := uint32(n)<<16 | uint32(lowerTab[first])<<8 | uint32(lowerTab[last])
	return (x * 0x9E3779B1) >> (32 - hdrTableBits)
}

// hdrHashBytes is hdrHash of the first and last bytes as they are: for
// bytes already in lower case (hdrTable), and for names as written
// (hdrUsual).
func hdrHashBytes(n int, first, last byte) uint32 {
	x := uint32(n)<<16 | uint32(first)<<8 | uint32(last)
	return (x * 0x9E3779B1) >> (32 - hdrTableBits)
}

// lookupName maps a non-empty header name, in any case and long or compact
// form (RFC 3261 §7.3.3 and the IANA registry), to its hdrID without
// allocating. It needs no check that the name is a token: only an exact
// case-insensitive match with a known name counts.
func lookupName(name []byte) hdrID {
	// equalKey, written out so that a short name's word is made once for
	// every probe (the compiler inlines neither it nor a helper for it).
	n := len(name)
	var short uint64
	if n < 8 {
		if cap(name) >= 8 {
			short = le64(name[:8]) & (1<<(8*n) - 1)
		} else {
			for i := n - 1; i >= 0; i-- {
				short = short<<8 | uint64(name[i])
			}
		}
		short = fold8(short)
	}
	for i := hdrHash(n, name[0], name[n-1]); hdrTable[i].key.s != ""; i = (i + 1) & (hdrTableSize - 1) {
		k := &hdrTable[i].key
		switch {
		case len(k.s) != n:
		case n < 8:
			if short == k.w0 {
				return hdrTable[i].id
			}
		case fold8(le64(name)) == k.w0 && fold8(le64(name[n-8:])) == k.w1 && (n <= 16 || equalFold(name, k.s)):
			return hdrTable[i].id
		}
	}
	return hdrUnknown
}

// lookupHeader is lookupName that also takes an empty name (hdrInvalid).
func lookupHeader(name []byte) hdrID {
	if len(name) == 0 {
		return hdrInvalid
	}
	return lookupName(name)
}

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// fold8 lowers the ASCII upper-case letters among the 8 bytes of x at
// once: a byte gets 0x20 added when it lies in 'A'..'Z'.
func fold8(x uint64) uint64 {
	const ones = 0x0101010101010101
	low := x & (0x7f * ones)
	geA := low + (0x80-'A')*ones   // high bit set where the byte is >= 'A'
	gtZ := low + (0x80-'Z'-1)*ones // high bit set where the byte is > 'Z'
	upper := geA &^ gtZ &^ x & (0x80 * ones)
	return x | upper>>2
}
