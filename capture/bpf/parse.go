package bpf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The grammar follows libpcap's grammar.y for the supported subset,
// including its two surprises: and/or share one precedence and group from
// the left, and a bare value after and/or inherits the qualifiers of the
// primitive before it ("port 5060 or 5061").
//
//	expr  = term { ("and" | "or") (term | id) }
//	term  = "not" term | rterm
//	rterm = head id | "(" expr ")" | pname | "vlan" [NUM]
//	head  = [pname] [dir] [type]          (at least one of them)
//	id    = VALUE | "not" id | "(" pid ")"
//	pid   = id { ("and" | "or") id }

type tokKind uint8

const (
	tokWord tokKind = iota
	tokLParen
	tokRParen
	tokNot
	tokAnd
	tokOr
)

type token struct {
	kind tokKind
	text string
	pos  int
}

type protoQ uint8

const (
	pDefault protoQ = iota
	pIP
	pIP6
	pARP
	pRARP
	pTCP
	pUDP
	pSCTP
	pICMP
	pICMP6
)

var protoNames = map[string]protoQ{
	"ip": pIP, "ip6": pIP6, "arp": pARP, "rarp": pRARP, "tcp": pTCP, "udp": pUDP,
	"sctp": pSCTP, "icmp": pICMP, "icmp6": pICMP6,
}

func (p protoQ) String() string {
	for name, q := range protoNames {
		if q == p {
			return name
		}
	}
	return "default"
}

type dirQ uint8

const (
	dDefault dirQ = iota // src or dst
	dSrc
	dDst
	dSrcOrDst
	dSrcAndDst
)

type typQ uint8

const (
	tDefault typQ = iota // host
	tHost
	tNet
	tPort
	tPortRange
)

var typNames = map[string]typQ{"host": tHost, "net": tNet, "port": tPort, "portrange": tPortRange}

// qual is the qualifier set of a primitive. err marks "no qualifiers to
// inherit" (after a bare protocol, vlan or at the start).
type qual struct {
	proto protoQ
	dir   dirQ
	typ   typQ
	err   bool
}

var qualErr = qual{err: true}

// tcpdump keywords this compiler does not implement, for a helpful error.
var unsupported = map[string]bool{
	"ether": true, "fddi": true, "tr": true, "wlan": true, "link": true, "ppp": true, "slip": true,
	"gateway": true, "proto": true, "protochain": true, "less": true, "greater": true, "len": true,
	"broadcast": true, "multicast": true, "inbound": true, "outbound": true, "ifname": true,
	"on": true, "rnr": true, "rulenum": true, "reason": true, "rset": true, "ruleset": true,
	"srnr": true, "subrulenum": true, "action": true, "mpls": true, "pppoed": true, "pppoes": true,
	"geneve": true, "iso": true, "esis": true, "isis": true, "clnp": true, "stp": true, "ipx": true,
	"netbeui": true, "decnet": true, "lat": true, "sca": true, "moprc": true, "mopdl": true,
	"atalk": true, "aarp": true, "igmp": true, "igrp": true, "pim": true, "vrrp": true, "carp": true,
	"ah": true, "esp": true, "radio": true, "type": true, "subtype": true, "dir": true,
	"addr1": true, "addr2": true, "addr3": true, "addr4": true, "ra": true, "ta": true,
	"lane": true, "llc": true, "oam": true, "oamf4": true, "oamf4ec": true, "oamf4sc": true,
	"metac": true, "bcc": true, "sc": true, "ilmic": true, "connectmsg": true, "metaconnect": true,
	"vpi": true, "vci": true, "hdpi": true, "fisu": true, "lssu": true, "msu": true, "sio": true,
	"opc": true, "dpc": true, "sls": true, "arpproto": true,
}

// Service names accepted for ports: the two a SIP engineer types. tcpdump
// reads /etc/services; numbers are always accepted.
var portNames = map[string]uint16{"sip": 5060, "sip-tls": 5061}

type node interface{ position() int }

type binNode struct {
	and  bool
	l, r node
	pos  int
}

type notNode struct {
	x   node
	pos int
}

// protoNode is a bare protocol: "udp", "ip6", "arp".
type protoNode struct {
	proto protoQ
	pos   int
}

// vlanNode is "vlan" or "vlan ID" (id < 0 for any).
type vlanNode struct {
	id  int
	pos int
}

// primNode is host, net, port or portrange with its qualifiers.
type primNode struct {
	q   qual
	pos int
	// host and net: address and mask, IPv4 in the first 4 bytes when is4.
	is4        bool
	addr, mask [16]byte
	// port and portrange: lo..hi inclusive.
	lo, hi uint16
}

func (n *binNode) position() int   { return n.pos }
func (n *notNode) position() int   { return n.pos }
func (n *protoNode) position() int { return n.pos }
func (n *vlanNode) position() int  { return n.pos }
func (n *primNode) position() int  { return n.pos }

type parser struct {
	expr    string
	toks    []token
	i       int
	sawVLAN bool
}

func (p *parser) errAt(pos int, format string, args ...any) error {
	return &SyntaxError{Expr: p.expr, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == ':' || c == '-' || c == '/' || c == '_'
}

func (p *parser) lex() error {
	s := p.expr
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			p.toks = append(p.toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			p.toks = append(p.toks, token{tokRParen, ")", i})
			i++
		case c == '!' && (i+1 >= len(s) || s[i+1] != '='):
			p.toks = append(p.toks, token{tokNot, "!", i})
			i++
		case c == '&' && i+1 < len(s) && s[i+1] == '&':
			p.toks = append(p.toks, token{tokAnd, "&&", i})
			i += 2
		case c == '|' && i+1 < len(s) && s[i+1] == '|':
			p.toks = append(p.toks, token{tokOr, "||", i})
			i += 2
		case c == '[':
			return p.errAt(i, "byte offsets such as udp[8:2] are not supported")
		case c == '=' || c == '<' || c == '>' || c == '!':
			return p.errAt(i, "comparisons (=, !=, <, >) are not supported")
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			w := s[i:j]
			k := tokWord
			switch w {
			case "and":
				k = tokAnd
			case "or":
				k = tokOr
			case "not":
				k = tokNot
			}
			p.toks = append(p.toks, token{k, w, i})
			i = j
		default:
			if c < 0x20 || c >= 0x7f {
				return p.errAt(i, "unexpected byte 0x%02x", c)
			}
			return p.errAt(i, "unexpected character %q", c)
		}
	}
	return nil
}

func (p *parser) peek(k int) *token {
	if p.i+k < len(p.toks) {
		return &p.toks[p.i+k]
	}
	return nil
}

func (p *parser) endPos() int { return len(p.expr) }

// errHere reports an error at the current token (or the end).
func (p *parser) errHere(format string, args ...any) error {
	if t := p.peek(0); t != nil {
		return p.errAt(t.pos, format, args...)
	}
	return p.errAt(p.endPos(), format, args...)
}

// isValue reports whether t is a word that is no keyword: an address,
// number or name.
func isValue(t *token) bool {
	if t == nil || t.kind != tokWord {
		return false
	}
	w := t.text
	if _, ok := protoNames[w]; ok {
		return false
	}
	if _, ok := typNames[w]; ok {
		return false
	}
	switch w {
	case "src", "dst", "vlan", "mask":
		return false
	}
	return !unsupported[w]
}

// startsID reports whether the tokens from the current one form an id (a
// value, possibly behind "not" and "(") rather than a term.
func (p *parser) startsID() bool {
	for k := 0; ; k++ {
		t := p.peek(k)
		if t == nil {
			return false
		}
		if t.kind == tokNot || t.kind == tokLParen {
			continue
		}
		return isValue(t)
	}
}

func (p *parser) parseExpr(q qual) (node, qual, error) {
	n, q, err := p.parseTerm(q)
	if err != nil {
		return nil, q, err
	}
	for {
		t := p.peek(0)
		if t == nil || (t.kind != tokAnd && t.kind != tokOr) {
			return n, q, nil
		}
		p.i++
		var r node
		if p.startsID() {
			r, err = p.parseID(q)
		} else {
			r, q, err = p.parseTerm(q)
		}
		if err != nil {
			return nil, q, err
		}
		n = &binNode{and: t.kind == tokAnd, l: n, r: r, pos: t.pos}
	}
}

func (p *parser) parseTerm(q qual) (node, qual, error) {
	t := p.peek(0)
	if t == nil {
		return nil, q, p.errHere("expression ends where a primitive (host, port, udp, ...) was expected")
	}
	if t.kind == tokNot {
		p.i++
		x, q2, err := p.parseTerm(q)
		if err != nil {
			return nil, q2, err
		}
		return &notNode{x: x, pos: t.pos}, q2, nil
	}
	return p.parseRterm(q)
}

func (p *parser) parseRterm(q qual) (node, qual, error) {
	t := p.peek(0)
	switch t.kind {
	case tokLParen:
		p.i++
		n, _, err := p.parseExpr(q)
		if err != nil {
			return nil, q, err
		}
		if c := p.peek(0); c == nil || c.kind != tokRParen {
			return nil, q, p.errHere("missing ')' for the '(' at column %d", t.pos+1)
		}
		p.i++
		return n, q, nil
	case tokRParen:
		return nil, q, p.errAt(t.pos, "unexpected ')'")
	case tokAnd, tokOr:
		return nil, q, p.errAt(t.pos, "%q needs a primitive before it", t.text)
	}
	w := t.text
	if w == "vlan" {
		p.i++
		p.sawVLAN = true
		n := &vlanNode{id: -1, pos: t.pos}
		if v := p.peek(0); isValue(v) {
			id, ok := parseNum(v.text)
			if !ok {
				return nil, qualErr, p.errAt(v.pos, "VLAN ID %q is not a number", v.text)
			}
			if id > 0x0fff {
				return nil, qualErr, p.errAt(v.pos, "VLAN ID %d greater than maximum 4095", id)
			}
			n.id = int(id)
			p.i++
		}
		return n, qualErr, nil
	}
	if unsupported[w] {
		return nil, q, p.errAt(t.pos, "tcpdump keyword %q is not supported (supported: host, net, port, portrange, ip, ip6, tcp, udp, sctp, icmp, icmp6, arp, rarp, vlan)", w)
	}
	if w == "mask" {
		return nil, q, p.errAt(t.pos, "'mask' must follow the address of a net")
	}
	// head: [pname] [dir] [type]
	start := t.pos
	var h qual
	seen := false
	pname, isProto := protoNames[w]
	if isProto {
		h.proto = pname
		p.i++
		seen = true
	}
	if t := p.peek(0); t != nil && t.kind == tokWord && (t.text == "src" || t.text == "dst") {
		h.dir = dSrc
		if t.text == "dst" {
			h.dir = dDst
		}
		p.i++
		// "src or dst", "src and dst" (either order)
		if c, d := p.peek(0), p.peek(1); c != nil && (c.kind == tokAnd || c.kind == tokOr) &&
			d != nil && d.kind == tokWord && (d.text == "src" || d.text == "dst") && d.text != t.text {
			h.dir = dSrcOrDst
			if c.kind == tokAnd {
				h.dir = dSrcAndDst
			}
			p.i += 2
		}
		seen = true
	}
	if t := p.peek(0); t != nil && t.kind == tokWord {
		if ty, ok := typNames[t.text]; ok {
			h.typ = ty
			p.i++
			seen = true
		}
	}
	if !seen {
		if isValue(t) {
			return nil, q, p.errAt(t.pos, "%q needs a qualifier: write host, net, port or portrange before it", w)
		}
		return nil, q, p.errAt(t.pos, "unexpected %q", w)
	}
	if isProto && h.dir == dDefault && h.typ == tDefault {
		// A bare protocol ("udp"), unless a value follows ("ip 10.0.0.1"
		// is a syntax error in tcpdump too).
		if v := p.peek(0); isValue(v) {
			return nil, q, p.errAt(v.pos, "%q after %q needs a qualifier: write e.g. '%s host %s'", v.text, w, w, v.text)
		}
		return &protoNode{proto: pname, pos: start}, qualErr, nil
	}
	if p.peek(0) == nil {
		return nil, h, p.errHere("expression ends where a value was expected after %q", p.toks[p.i-1].text)
	}
	n, err := p.parseID(h)
	return n, h, err
}

func (p *parser) parseID(q qual) (node, error) {
	t := p.peek(0)
	if t == nil {
		return nil, p.errHere("expression ends where a value was expected")
	}
	switch t.kind {
	case tokNot:
		p.i++
		x, err := p.parseID(q)
		if err != nil {
			return nil, err
		}
		return &notNode{x: x, pos: t.pos}, nil
	case tokLParen:
		p.i++
		n, err := p.parseID(q)
		if err != nil {
			return nil, err
		}
		for {
			c := p.peek(0)
			if c == nil {
				return nil, p.errHere("missing ')' for the '(' at column %d", t.pos+1)
			}
			if c.kind == tokRParen {
				p.i++
				return n, nil
			}
			if c.kind != tokAnd && c.kind != tokOr {
				return nil, p.errAt(c.pos, "unexpected %q in a list of values", c.text)
			}
			p.i++
			r, err := p.parseID(q)
			if err != nil {
				return nil, err
			}
			n = &binNode{and: c.kind == tokAnd, l: n, r: r, pos: c.pos}
		}
	}
	if !isValue(t) {
		return nil, p.errAt(t.pos, "expected a value, found %q", t.text)
	}
	if q.err {
		return nil, p.errAt(t.pos, "%q has no primitive to take its qualifiers from: write e.g. 'port %s' or 'host %s'", t.text, t.text, t.text)
	}
	p.i++
	return p.prim(q, t)
}

// prim checks a value against its qualifiers and records it.
func (p *parser) prim(q qual, t *token) (node, error) {
	n := &primNode{q: q, pos: t.pos}
	w := t.text
	switch q.typ {
	case tDefault, tHost, tNet:
		what := "host"
		if q.typ == tNet {
			what = "net"
		}
		switch q.proto {
		case pTCP, pUDP, pSCTP, pICMP, pICMP6:
			return nil, p.errAt(t.pos, "'%s' modifier applied to %s", q.proto, what)
		}
		if err := p.address(n, q, t); err != nil {
			return nil, err
		}
		if n.is4 && q.proto == pIP6 {
			return nil, p.errAt(t.pos, "IPv4 address %q with 'ip6'", w)
		}
		if !n.is4 && q.proto != pDefault && q.proto != pIP6 {
			return nil, p.errAt(t.pos, "IPv6 address %q with '%s'", w, q.proto)
		}
	case tPort, tPortRange:
		switch q.proto {
		case pDefault, pTCP, pUDP, pSCTP:
		default:
			return nil, p.errAt(t.pos, "illegal qualifier of 'port': '%s' (use tcp, udp or sctp)", q.proto)
		}
		if q.typ == tPort {
			v, err := p.port(w, t.pos)
			if err != nil {
				return nil, err
			}
			n.lo, n.hi = v, v
			break
		}
		a, b, ok := strings.Cut(w, "-")
		if !ok {
			return nil, p.errAt(t.pos, "port range %q is not of the form LOW-HIGH", w)
		}
		lo, err := p.port(a, t.pos)
		if err != nil {
			return nil, err
		}
		hi, err := p.port(b, t.pos+len(a)+1)
		if err != nil {
			return nil, err
		}
		if lo > hi { // tcpdump swaps them
			lo, hi = hi, lo
		}
		n.lo, n.hi = lo, hi
	}
	if q.typ != tNet {
		if m := p.peek(0); m != nil && m.kind == tokWord && m.text == "mask" {
			return nil, p.errAt(m.pos, "'mask' applies to net only")
		}
	}
	return n, nil
}

func (p *parser) port(s string, pos int) (uint16, error) {
	if v, ok := portNames[s]; ok {
		return v, nil
	}
	v, ok := parseNum(s)
	if !ok {
		if s != "" && (s[0] < '0' || s[0] > '9') {
			return 0, p.errAt(pos, "unknown port name %q (give a number; names known: sip, sip-tls)", s)
		}
		return 0, p.errAt(pos, "port %q is not a number", s)
	}
	if v > 65535 {
		return 0, p.errAt(pos, "port %d out of range 0-65535", v)
	}
	return uint16(v), nil
}

// parseNum reads a number as libpcap does: 0x hex, leading-0 octal, decimal.
func parseNum(s string) (uint64, bool) {
	base := 10
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= '0' && c <= '9' || base == 16 && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
		if !ok || base == 8 && c > '7' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, base, 32)
	return v, err == nil
}

// address fills n.addr/n.mask from a host or net value (with "mask M" after
// a net).
func (p *parser) address(n *primNode, q qual, t *token) error {
	w := t.text
	addrPart, lenPart, hasLen := strings.Cut(w, "/")
	if hasLen && q.typ != tNet {
		return p.errAt(t.pos, "%q is a network: write 'net %s'", w, w)
	}
	if strings.Contains(addrPart, ":") {
		a, err := netip.ParseAddr(addrPart)
		if err != nil || a.Zone() != "" || !a.Is6() {
			return p.errAt(t.pos, "%q is not an IPv6 address", addrPart)
		}
		bits := 128
		if hasLen {
			v, ok := parseDecimal(lenPart)
			if !ok || v > 128 {
				return p.errAt(t.pos+len(addrPart)+1, "bad IPv6 prefix length %q", lenPart)
			}
			bits = v
		}
		n.addr = a.As16()
		n.mask = maskOf(bits, 128)
		if q.typ == tNet {
			if m := p.peek(0); m != nil && m.kind == tokWord && m.text == "mask" {
				return p.errAt(m.pos, "'mask' is for IPv4 networks; write %s/LENGTH", addrPart)
			}
		}
		return p.checkNetBits(n, t)
	}
	n.is4 = true
	parts := strings.Split(addrPart, ".")
	if addrPart == "" || len(parts) > 4 {
		return p.errAt(t.pos, "%q is not an IPv4 address", addrPart)
	}
	var a uint32
	for _, s := range parts {
		v, ok := parseDecimal(s)
		if !ok || v > 255 {
			if q.typ == tDefault || q.typ == tHost {
				if _, num := parseNum(w); num && len(parts) == 1 {
					return p.errAt(t.pos, "%q is not an address (for a port, write 'port %s')", w, w)
				}
				if len(parts) == 1 {
					return p.errAt(t.pos, "host names are not supported: give an address instead of %q", w)
				}
			}
			return p.errAt(t.pos, "%q is not an IPv4 address", addrPart)
		}
		a = a<<8 | uint32(v)
	}
	if q.typ != tNet && len(parts) != 4 {
		if len(parts) == 1 {
			return p.errAt(t.pos, "%q is not an address (for a port, write 'port %s')", w, w)
		}
		return p.errAt(t.pos, "%q is not a complete IPv4 address (for a network, write 'net %s')", w, w)
	}
	bits := 8 * len(parts)
	a <<= 32 - bits
	if hasLen {
		v, ok := parseDecimal(lenPart)
		if !ok || v > 32 {
			return p.errAt(t.pos+len(addrPart)+1, "bad IPv4 prefix length %q", lenPart)
		}
		bits = v
	}
	mask := maskOf(bits, 32)
	if m := p.peek(0); q.typ == tNet && m != nil && m.kind == tokWord && m.text == "mask" {
		if hasLen {
			return p.errAt(m.pos, "a network has either /LENGTH or 'mask', not both")
		}
		p.i++
		mv := p.peek(0)
		if mv == nil || mv.kind != tokWord {
			return p.errHere("'mask' needs a dotted IPv4 mask")
		}
		ma, err := netip.ParseAddr(mv.text)
		if err != nil || !ma.Is4() {
			return p.errAt(mv.pos, "mask %q is not a dotted IPv4 mask", mv.text)
		}
		p.i++
		mask = [16]byte{}
		copy(mask[:4], ma.AsSlice())
	}
	n.addr = [16]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}
	n.mask = mask
	return p.checkNetBits(n, t)
}

func (p *parser) checkNetBits(n *primNode, t *token) error {
	for i := range n.addr {
		if n.addr[i]&^n.mask[i] != 0 {
			return p.errAt(t.pos, "non-network bits set in %q", t.text)
		}
	}
	return nil
}

func parseDecimal(s string) (int, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

// maskOf returns a mask of bits ones out of width (32 or 128), left-aligned
// in 16 bytes.
func maskOf(bits, width int) [16]byte {
	var m [16]byte
	for i := 0; i < width/8; i++ {
		switch {
		case bits >= 8:
			m[i] = 0xff
			bits -= 8
		case bits > 0:
			m[i] = byte(0xff << (8 - bits))
			bits = 0
		}
	}
	return m
}
