package decode

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
)

// ErrBadSDP is wrapped by the errors ParseSDP returns.
var ErrBadSDP = errors.New("decode: malformed SDP")

// SDP is the part of a session description (RFC 4566) that call flows need:
// where media goes, in which direction, with which codecs.
//
// It is our own parser rather than pion/sdp or similar because those build
// a full object tree of strings per body (allocations on every INVITE) and
// stop at the first deviation from the grammar, while captures are full of
// SDP that real endpoints accept anyway: missing s= or t= lines, upper-case
// or stray lines, FQDNs in c=, LF-only line ends. ParseSDP keeps views into
// the body, reuses the slices of the SDP it fills and skips what it does
// not understand.
//
// Every []byte field is a view into the parsed body, valid only as long as
// it is.
type SDP struct {
	Origin    []byte     // value of the o= line
	Conn      netip.Addr // session-level c= address; zero if absent or not an IP address (e.g. an FQDN)
	ConnRaw   []byte     // session-level c= connection-address as written (may be an FQDN or carry /ttl)
	Media     []Media    // one per m= line, in order
	Direction Direction  // session-level direction attribute; DirUnset when there is none
}

// Media is one m= section. Conn and Direction are already resolved against
// the session level, so callers need not look there.
type Media struct {
	Type      []byte     // audio, video, image, application, ...
	Port      int        // 0 means the stream is rejected or disabled (RFC 3264 §6)
	NumPorts  int        // the /n of "port/n", else 1
	Proto     []byte     // RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVPF, udptl, ...
	Formats   []int      // payload types, for RTP protocols only; non-numeric formats are skipped
	Conn      netip.Addr // media-level c=, else session-level c=
	ConnRaw   []byte     // media-level c= address as written, else the session one
	Direction Direction  // media-level, else session-level, else DirSendRecv
	RTCPPort  int        // port of a=rtcp (RFC 3605), 0 if absent
	RTCPMux   bool       // a=rtcp-mux (RFC 5761)
	RTPMaps   []RTPMap   // a=rtpmap lines of this section, in order
	// ICE says ICE chooses where the stream goes (a=ice-ufrag at media or
	// session level, RFC 8839 §5.4), as in every WebRTC offer: c= and the
	// port are then only a default, and c=0.0.0.0 with port 9 a placeholder
	// until candidates are known (trickle ICE, RFC 8840 §4.2), not hold.
	ICE bool
	// Candidates are the a=candidate lines (RFC 8839 §5.1) over UDP with
	// an IP address, in order, at most MaxCandidates: where else the
	// stream may go once ICE has chosen. Candidates named by an mDNS name
	// (RFC 8828's "….local"), or over TCP, are not kept.
	Candidates []Candidate
	// BundleOnly is a=bundle-only (RFC 8843 §6): an offer's port 0 on such
	// a line asks for the stream in the BUNDLE group, not its removal.
	BundleOnly bool
	// T38Version is a=T38FaxVersion (T.38 Annex D, RFC 4612), 0 when
	// absent, as T.38 says.
	T38Version int
}

// MaxCandidates is how many candidates of one m= line ParseSDP keeps; an
// offer gathering on every interface has a dozen, and a body of thousands
// is not an endpoint's.
const MaxCandidates = 32

// Candidate is one ICE candidate of a media line (RFC 8839 §5.1).
type Candidate struct {
	Component int            // 1 for RTP, 2 for RTCP (without rtcp-mux)
	Addr      netip.AddrPort // connection-address and port
	Type      CandidateType
}

// CandidateType is a candidate's typ (RFC 8445 §5.1.1).
type CandidateType uint8

// Candidate types; CandOther is one this parser does not know.
const (
	CandOther CandidateType = iota
	CandHost
	CandSrflx
	CandPrflx
	CandRelay
)

// candidateTypes names the CandidateTypes, as a=candidate writes them.
var candidateTypes = [...]string{CandOther: "other", CandHost: "host", CandSrflx: "srflx", CandPrflx: "prflx", CandRelay: "relay"}

func (t CandidateType) String() string {
	if int(t) < len(candidateTypes) {
		return candidateTypes[t]
	}
	return "other"
}

// RTPMap is one a=rtpmap:PT name/clock[/channels] attribute.
type RTPMap struct {
	PT       int
	Name     []byte // encoding name as written, e.g. "PCMU", "opus", "telephone-event"
	Clock    int    // clock rate in Hz
	Channels int    // 0 when not given (RFC 4566 §6: then 1 for audio)
}

// Direction is an SDP media direction attribute (RFC 4566 §6, RFC 3264 §5.1).
type Direction uint8

// Directions. DirUnset means no attribute was given.
const (
	DirUnset Direction = iota
	DirSendRecv
	DirSendOnly
	DirRecvOnly
	DirInactive
)

func (d Direction) String() string {
	switch d {
	case DirSendRecv:
		return "sendrecv"
	case DirSendOnly:
		return "sendonly"
	case DirRecvOnly:
		return "recvonly"
	case DirInactive:
		return "inactive"
	}
	return "unset"
}

// ParseSDP parses the session description b into s. s is reset first,
// keeping the capacity of its Media slice and of the Formats and RTPMaps
// slices inside it, so reparsing into the same SDP rarely allocates (an
// IPv6 c= address does).
//
// It is tolerant: lines it does not know, lines that are not "x=...", and
// extra white space are skipped; CRLF or LF line ends both work. It fails,
// with an error wrapping ErrBadSDP, only when the first line is not v=
// (the body is not SDP at all), or when an m= line is unreadable; in the
// latter case everything else is still filled.
func ParseSDP(b []byte, s *SDP) error {
	s.reset()
	var firstErr error
	sessDir := DirUnset
	sessICE := false
	var md *Media
	sawV := false
	for p := 0; p < len(b); {
		// The line split by hand rather than with nextLine: a call per line
		// is about 5% of the parse of a short body (3,147 instructions against
		// 2,980 for SIPp's).
		start, end := p, len(b)
		if i := bytes.IndexByte(b[p:], '\n'); i >= 0 {
			end = p + i
		}
		p = end + 1
		if sawV {
			// Pass over the lines this parse does not read by their first
			// byte, untrimmed: only one that starts with white space may
			// turn out to be one of those it reads.
			switch b[start] {
			case 'o', 'c', 'm', 'a', ' ', '\t':
			default:
				continue
			}
		}
		line := trimSPHT(trimCR(b[start:end]))
		if len(line) == 0 {
			continue
		}
		if !sawV {
			if len(line) < 2 || line[0] != 'v' || line[1] != '=' {
				return fmt.Errorf("%w: does not start with v=: %q", ErrBadSDP, snippet(line))
			}
			sawV = true
			continue
		}
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		val := line[2:]
		switch line[0] {
		case 'o':
			if md == nil && s.Origin == nil {
				s.Origin = val
			}
		case 'c':
			addr, raw, ok := parseConnLine(val)
			if !ok {
				continue
			}
			if md == nil {
				s.Conn, s.ConnRaw = addr, raw
			} else if md.ConnRaw == nil {
				md.Conn, md.ConnRaw = addr, raw
			}
		case 'm':
			md = s.addMedia()
			if err := md.parseMediaLine(val); err != nil && firstErr == nil {
				firstErr = err
			}
		case 'a':
			if md == nil {
				if d := parseDirection(val); d != DirUnset {
					sessDir = d
				} else if bytes.HasPrefix(val, []byte("ice-ufrag:")) {
					sessICE = true
				}
				continue
			}
			md.parseAttr(val)
		}
	}
	if !sawV {
		return fmt.Errorf("%w: empty", ErrBadSDP)
	}
	s.Direction = sessDir
	for i := range s.Media {
		md := &s.Media[i]
		md.ICE = md.ICE || sessICE
		if md.ConnRaw == nil {
			md.Conn, md.ConnRaw = s.Conn, s.ConnRaw
		}
		if md.Direction == DirUnset {
			md.Direction = sessDir
			if md.Direction == DirUnset {
				md.Direction = DirSendRecv
			}
		}
	}
	return firstErr
}

// Hold reports whether the stream is put on hold: its connection address
// is 0.0.0.0 (RFC 2543 style, RFC 3264 §8.4; not with ICE, whose trickle
// offers write it as a placeholder) or its direction is sendonly or
// inactive.
func (m *Media) Hold() bool {
	if m.Conn.IsValid() && m.Conn.IsUnspecified() && !m.ICE {
		return true
	}
	return m.Direction == DirSendOnly || m.Direction == DirInactive
}

// Codec names payload type pt: the a=rtpmap encoding name when there is
// one, else the static assignment of RFC 3551 §6 for 0..34, else "".
// It allocates the returned string; it is meant for display.
func (m *Media) Codec(pt int) string {
	if rm, ok := m.RTPMap(pt); ok {
		return string(rm.Name)
	}
	if pt >= 0 && pt < len(staticPT) {
		return staticPT[pt]
	}
	return ""
}

// RTPMap returns the a=rtpmap line of payload type pt (the first, should
// the section repeat it); ok is false when it has none.
func (m *Media) RTPMap(pt int) (rm RTPMap, ok bool) {
	for i := range m.RTPMaps {
		if m.RTPMaps[i].PT == pt {
			return m.RTPMaps[i], true
		}
	}
	return RTPMap{}, false
}

// staticPT holds the static payload types of RFC 3551 tables 4 and 5.
// 1 and 2 are reserved (once 1016 and G721), 19 reserved, the rest unassigned.
var staticPT = [...]string{
	0:  "PCMU",
	3:  "GSM",
	4:  "G723",
	5:  "DVI4",
	6:  "DVI4",
	7:  "LPC",
	8:  "PCMA",
	9:  "G722",
	10: "L16",
	11: "L16",
	12: "QCELP",
	13: "CN",
	14: "MPA",
	15: "G728",
	16: "DVI4",
	17: "DVI4",
	18: "G729",
	25: "CelB",
	26: "JPEG",
	28: "nv",
	31: "H261",
	32: "MPV",
	33: "MP2T",
	34: "H263",
}

// reset clears s, keeping slice capacity.
func (s *SDP) reset() {
	*s = SDP{Media: s.Media[:0]}
}

// addMedia appends a Media, reusing the element's old Formats and RTPMaps
// storage when the Media slice has room.
func (s *SDP) addMedia() *Media {
	n := len(s.Media)
	if n < cap(s.Media) {
		s.Media = s.Media[:n+1]
		md := &s.Media[n]
		*md = Media{Formats: md.Formats[:0], RTPMaps: md.RTPMaps[:0], Candidates: md.Candidates[:0], NumPorts: 1}
		return md
	}
	s.Media = append(s.Media, Media{NumPorts: 1})
	return &s.Media[n]
}

// parseMediaLine reads "media port[/num] proto fmt ..." (RFC 4566 §5.14).
func (md *Media) parseMediaLine(v []byte) error {
	f, rest := field(v)
	md.Type = f
	f, rest = field(rest)
	port := f
	if i := bytes.IndexByte(f, '/'); i >= 0 {
		port = f[:i]
		if n, ok := parseUint(f[i+1:], 1<<16); ok {
			md.NumPorts = int(n)
		}
	}
	n, ok := parseUint(port, 65535)
	if !ok {
		return fmt.Errorf("%w: bad port in m=%q", ErrBadSDP, snippet(v))
	}
	md.Port = int(n)
	md.Proto, rest = field(rest)
	if len(md.Proto) == 0 {
		return fmt.Errorf("%w: no protocol in m=%q", ErrBadSDP, snippet(v))
	}
	if !containsFold(md.Proto, "rtp") {
		return nil
	}
	for len(rest) > 0 {
		f, rest = field(rest)
		if pt, ok := parseUint(f, 127); ok {
			md.Formats = append(md.Formats, int(pt))
		}
	}
	return nil
}

// parseAttr reads the media-level attributes that matter here.
func (md *Media) parseAttr(v []byte) {
	if d := parseDirection(v); d != DirUnset {
		md.Direction = d
		return
	}
	name, val := v, []byte(nil)
	if i := bytes.IndexByte(v, ':'); i >= 0 {
		name, val = v[:i], v[i+1:]
	}
	switch string(name) {
	case "rtcp-mux":
		md.RTCPMux = true
	case "ice-ufrag":
		md.ICE = true
	case "bundle-only":
		md.BundleOnly = true
	case "candidate":
		if len(md.Candidates) < MaxCandidates {
			if c, ok := parseCandidate(val); ok {
				md.Candidates = append(md.Candidates, c)
			}
		}
	case "rtcp":
		f, _ := field(val)
		if n, ok := parseUint(f, 65535); ok {
			md.RTCPPort = int(n)
		}
	case "rtpmap":
		f, rest := field(val)
		pt, ok := parseUint(f, 127)
		if !ok {
			return
		}
		enc, _ := field(rest)
		m := RTPMap{PT: int(pt)}
		parts := enc
		if i := bytes.IndexByte(parts, '/'); i >= 0 {
			m.Name, parts = parts[:i], parts[i+1:]
			clock := parts
			if j := bytes.IndexByte(parts, '/'); j >= 0 {
				clock = parts[:j]
				if n, ok := parseUint(parts[j+1:], 255); ok {
					m.Channels = int(n)
				}
			}
			if n, ok := parseUint(clock, 1<<31-1); ok {
				m.Clock = int(n)
			}
		} else {
			m.Name = parts
		}
		if len(m.Name) == 0 {
			return
		}
		md.RTPMaps = append(md.RTPMaps, m)
	default:
		if equalFold(name, "T38FaxVersion") {
			f, _ := field(val)
			if n, ok := parseUint(f, 255); ok {
				md.T38Version = int(n)
			}
		}
	}
}

// parseCandidate reads "foundation component transport priority address
// port typ type ..." (RFC 8839 §5.1); ok only for a UDP candidate with an
// IP address and a component and port in range.
func parseCandidate(v []byte) (c Candidate, ok bool) {
	_, rest := field(v) // foundation
	f, rest := field(rest)
	comp, ok := parseUint(f, 256)
	if !ok || comp == 0 {
		return c, false
	}
	f, rest = field(rest)
	if !equalFold(f, "udp") {
		return c, false
	}
	_, rest = field(rest) // priority
	f, rest = field(rest)
	addr, ok := parseIP(f)
	if !ok {
		return c, false // an mDNS name (RFC 8828) or garbage
	}
	addr = addr.WithZone("").Unmap() // as packets' addresses are: no zone, IPv4 as IPv4
	f, rest = field(rest)
	port, ok := parseUint(f, 65535)
	if !ok || port == 0 {
		return c, false
	}
	c = Candidate{Component: int(comp), Addr: netip.AddrPortFrom(addr, uint16(port))}
	if f, rest = field(rest); string(f) == "typ" {
		f, _ = field(rest)
		for t := CandHost; int(t) < len(candidateTypes); t++ {
			if string(f) == candidateTypes[t] {
				c.Type = t
			}
		}
	}
	return c, true
}

func parseDirection(v []byte) Direction {
	switch string(v) {
	case "sendrecv":
		return DirSendRecv
	case "sendonly":
		return DirSendOnly
	case "recvonly":
		return DirRecvOnly
	case "inactive":
		return DirInactive
	}
	return DirUnset
}

// parseConnLine reads "nettype addrtype connection-address" (RFC 4566
// §5.7). raw is the address as written; addr is zero when it is not an IP
// address. A multicast /ttl or /count suffix is dropped from addr.
func parseConnLine(v []byte) (addr netip.Addr, raw []byte, ok bool) {
	if len(v) > 7 && string(v[:7]) == "IN IP4 " && v[7] != ' ' && v[7] != '\t' {
		raw, _ = field(v[7:]) // the usual case, without splitting the first two fields
	} else {
		_, rest := field(v)
		_, rest = field(rest)
		raw, _ = field(rest)
	}
	if len(raw) == 0 {
		return netip.Addr{}, nil, false
	}
	a := raw
	if i := bytes.IndexByte(a, '/'); i >= 0 {
		a = a[:i]
	}
	addr, _ = parseIP(a)
	return addr, raw, true
}

// parseIP parses a dotted-quad IPv4 address without allocating, falling back
// to netip for IPv6.
func parseIP(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	i, n := 0, 0
	for part := 0; part < 4; part++ {
		if part > 0 {
			if i >= len(b) || b[i] != '.' {
				n = -1
				break
			}
			i++
		}
		s, v := i, 0
		for i < len(b) && isDigit(b[i]) && i-s < 3 {
			v = v*10 + int(b[i]-'0')
			i++
		}
		if i == s || v > 255 {
			n = -1
			break
		}
		ip[part] = byte(v)
		n++
	}
	if n == 4 && i == len(b) {
		return netip.AddrFrom4(ip), true
	}
	if bytes.IndexByte(b, ':') >= 0 {
		if a, err := netip.ParseAddr(string(b)); err == nil {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// field returns the first space-separated field of v and the rest, without
// the white space around either. v must not end in white space: every
// caller passes what is left of a trimmed line.
func field(v []byte) (f, rest []byte) {
	i := span(v, 0, &sphtChar)
	j := until(v, i, &sphtChar)
	return v[i:j], v[span(v, j, &sphtChar):]
}

func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if equalFold(b[i:i+len(s)], s) {
			return true
		}
	}
	return false
}
