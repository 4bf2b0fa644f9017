package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/internal/ptime"
)

// Errors a Warning may wrap, besides ErrMalformed and ErrShortBody from the
// SIP parser.
var (
	ErrTruncatedPacket = errors.New("packet truncated")
	ErrBadHeader       = errors.New("bad header")
	ErrStreamGap       = errors.New("TCP data missing from the capture")
	ErrTimestamp       = errors.New("timestamp jumps ahead")
	ErrTimeBack        = errors.New("timestamp goes back")
	ErrUnknownLink     = errors.New("unknown link type")
)

// Warning is something wrong with one packet. Decoding goes on.
type Warning struct {
	N   int // packet number
	Err error
}

func (w *Warning) Error() string { return fmt.Sprintf("packet %d: %v", w.N, w.Err) }

// Datagram is a UDP payload that is neither SIP nor HEP: a candidate for
// RTP or RTCP. Payload is a view valid only during the Handler call.
type Datagram struct {
	N        int
	Time     time.Time
	Src, Dst netip.AddrPort
	Encap    string
	Payload  []byte
}

// Handler receives what a Decoder finds. Every pointer it is given, and every
// slice inside, is valid only for the duration of the call.
type Handler interface {
	Message(m *Message)
	Datagram(d *Datagram)
	Warn(w *Warning)
}

// Options tune a Decoder. The zero value means the defaults.
type Options struct {
	// HEPPort is the UDP and TCP port on which HEP is expected (default 9060).
	// HEP3 is recognised by its magic on any port; this port also admits HEP v1/v2.
	HEPPort uint16
	// StreamIdle is how long (packet time) a TCP stream may stay silent before
	// its state is dropped (default 5 minutes).
	StreamIdle time.Duration
	// FragmentTimeout is how long (packet time) fragments wait for the rest of
	// their datagram (default 30 s, as Linux's ipfrag_time).
	FragmentTimeout time.Duration
	// Keep, when set, gives the memory each SIP message is parsed into: it
	// returns a copy of b (the message's bytes up to the end of its datagram
	// or frame), with len equal to cap, and the Message to fill. A message
	// handed to Handler.Message then stays valid as long as the caller keeps
	// that memory, with no copy after parsing, except Parts, which is the
	// decoder's until the next Decode. A message that does not parse is not
	// handed over, and the caller may give the same memory again next time.
	Keep func(b []byte) ([]byte, *Message)
	// Lean parses SIP messages for correlation: Message.Headers lists only
	// the headers that no field of Message holds (extension headers, and
	// known ones without a field, such as Route or Supported), and neither
	// Contact (but a REGISTER's, as ParseSIP reads it: its expires
	// parameters tell a registration from a removal) nor Max-Forwards is
	// read (MaxForwards stays -1). Every other
	// field is filled as ParseSIP fills it. It saves nearly a quarter of
	// the work of parsing SIPp's INVITE (BenchmarkParseSIPLean against
	// BenchmarkParseSIPSIPp: 4,519 against 5,902 instructions).
	Lean bool
	// KeyLog, when set, holds TLS secrets: the TLS connections (any port)
	// whose secrets it holds are decrypted and the SIP in them read
	// (Transport TLS, or WSS for SIP over WebSocket on TLS).
	KeyLog *KeyLog
}

// Stats counts what a Decoder has seen.
type Stats struct {
	Packets        int
	Bytes          int64
	NotIP          int // frames with no IP inside (ARP, STP, ...)
	UnknownLink    int // frames of a link type we do not decode
	Fragments      int // IP fragments seen
	Reassembled    int // datagrams rebuilt from fragments
	TCPSegments    int
	Retransmitted  int // TCP segments whose data had been seen already
	Messages       int // SIP messages decoded
	Malformed      int // SIP messages that failed to parse, and other broken packets
	Datagrams      int // non-SIP UDP payloads handed on
	HEP            int // HEP packets unwrapped
	TruncatedFrame int // frames captured shorter than they were on the wire and cut inside a header
	StreamGaps     int // holes in TCP streams: data the capture missed
	TimeGlitches   int // packets whose timestamp jumped ahead of those around them (ptime.Clock)
	TimeStepsBack  int // packets whose timestamp is more than ptime.JumpLimit before the previous packet's
	TLSConnections int // TCP connections to port 5061 that opened with a TLS ClientHello: SIP over TLS, encrypted
	TLSDecrypted   int // TLS connections read with secrets from Options.KeyLog
	TLSNoKeys      int // TLS connections, any port, whose secrets Options.KeyLog lacks
}

// maxDepth bounds tunnel nesting, so a crafted packet cannot recurse forever.
const maxDepth = 8

// Decoder decodes frames. It owns every buffer it uses; it is not safe for
// concurrent use.
type Decoder struct {
	opts  Options
	h     Handler
	Stats Stats

	msg    Message
	start  startLine // the start line looksLikeSIP read last
	parser Parser    // what it remembers, kept from message to message
	dg     Datagram
	warn   Warning
	hep    HEP
	hepB   []byte
	frags  fragTable
	tcp    streamTable
	wsz    wsInflater // for every WebSocket stream's compressed messages

	// Per-frame state. curN and curTime are the packet a message is
	// attributed to: the current one, or, when held TCP segments are
	// drained, the one that completed the message.
	pkt          *capture.Packet
	curN         int
	curTime      time.Time
	ipID         uint16 // the innermost IP header's Identification (Message.IPID): set by ipv4, 0 by ipv6
	fragParts    []int  // packets of the datagram being decoded, when reassembled from fragments
	parts        []int  // packets of the message being handed on (nil: just curN)
	encap        string
	clock        ptime.Clock        // packet time for timeouts: a glitch's jump is held back
	unknownLinks []capture.LinkType // link types warned of (unknownLink)
	nextGC       ptime.Instant      // when Decode next expires fragments and streams: 1 s of packet time after it last did
	prevAt       ptime.Instant      // the previous packet's time
	beforeHeld   ptime.Instant      // the time of the packet before the one whose step the clock holds
}

// NewDecoder returns a Decoder that reports to h.
func NewDecoder(h Handler, opts Options) *Decoder {
	if opts.HEPPort == 0 {
		opts.HEPPort = 9060
	}
	if opts.StreamIdle == 0 {
		opts.StreamIdle = 5 * time.Minute
	}
	if opts.FragmentTimeout == 0 {
		opts.FragmentTimeout = 30 * time.Second
	}
	d := &Decoder{opts: opts, h: h}
	d.nextGC = ptime.Of(time.Time{})
	d.frags.init()
	d.tcp.init()
	return d
}

// Decode decodes one frame. Nothing in p is kept after it returns.
func (d *Decoder) Decode(p *capture.Packet) {
	d.pkt = p
	d.curN, d.curTime = p.N, p.Time
	d.fragParts, d.parts = d.fragParts[:0], nil
	d.encap = ""
	d.Stats.Packets++
	d.Stats.Bytes += int64(len(p.Data))
	at := ptime.Of(p.Time)
	if !at.Before(d.nextGC) || d.clock.Holding() {
		d.tick(at, p.N)
	} else if at.Sec()+int64(ptime.JumpLimit/time.Second) <= d.prevAt.Sec() {
		d.stepBack(at, p.N) // whole seconds first: a step back of more than JumpLimit passes
	}
	d.prevAt = at
	d.link(p.Link, p.Data, 0)
	d.pkt = nil
}

// tick moves the clock to packet n's time, at, and expires fragments and
// streams once a second of it. Decode calls it only when at reaches the
// next expiry or the clock holds a step: a packet less than a second past
// the last expiry moves nothing that matters, so the clock may lag by as
// much (a jump is then held from 10 to 11 s up).
func (d *Decoder) tick(at ptime.Instant, n int) {
	if d.clock.Step(at, n) {
		d.glitch(d.clock.Glitch())
	}
	if d.clock.HeldPacket() == n && n > 1 {
		d.beforeHeld = d.prevAt // for the warning, should it prove a glitch
	}
	// The clock never goes back: Now is the latest time it took.
	if now := d.clock.Now(); !now.Before(d.nextGC) {
		d.expire(now.Time())
		d.nextGC = now.Add(time.Second)
	}
}

// Flush ends every TCP stream and fragment queue, reporting messages left
// incomplete. Call it at the end of the capture.
func (d *Decoder) Flush() {
	d.tcp.flushAll(d)
	d.frags.reset(d)
}

// glitch reports a packet whose timestamp jumped ahead of the packets on
// both sides of it. Timeouts never went by it (Decode runs them on a
// ptime.Clock): the reassembly of fragments and TCP streams is unharmed,
// and so is the correlation of calls, which keeps a Clock of its own.
func (d *Decoder) glitch(g ptime.Glitch) {
	d.Stats.TimeGlitches++
	which, other := "before", d.beforeHeld
	if g.N == 1 {
		which, other = "after", ptime.Of(d.curTime)
	}
	d.warn = Warning{N: g.N, Err: fmt.Errorf("%w: %s is %s after the packet %s it (%s), and the next goes back; not used to time anything out",
		ErrTimestamp, g.Time.Time().Format(glitchLayout), ptime.Sub(g.Time.Time(), other.Time()), which, other.Time().Format(glitchLayout))}
	d.h.Warn(&d.warn)
}

// StepBackWarnings is how many steps back of the clock a Decoder warns of;
// it counts the rest (Stats.TimeStepsBack).
const StepBackWarnings = 3

// stepBack reports packet n, whose time at is more than ptime.JumpLimit
// before the previous packet's: the capture host's clock was stepped back
// (NTP, a virtual machine resumed), or captures were joined out of order.
// Timeouts wait for the clock to catch up again (a Clock never goes back);
// what spans the step (a call's duration, a stream's jitter) is measured
// across it, so the user is told where it is.
func (d *Decoder) stepBack(at ptime.Instant, n int) {
	back := ptime.Sub(d.prevAt.Time(), at.Time())
	if back <= ptime.JumpLimit {
		return // packets a little out of order: merged interfaces
	}
	d.Stats.TimeStepsBack++
	if d.Stats.TimeStepsBack > StepBackWarnings {
		return // merged captures of hosts whose clocks differ: counted, not each warned of
	}
	d.warn = Warning{N: n, Err: fmt.Errorf("%w: %s is %s before the packet before it (%s): the capture's clock was stepped back, or captures were joined out of order; times measured across it are wrong",
		ErrTimeBack, at.Time().Format(glitchLayout), back, d.prevAt.Time().Format(glitchLayout))}
	d.h.Warn(&d.warn)
}

// glitchLayout is how a glitch's warning shows times: UTC, to the
// microsecond, as pcap records them.
const glitchLayout = "2006-01-02 15:04:05.000000 UTC"

func (d *Decoder) expire(now time.Time) {
	d.frags.expire(d, now.Add(-d.opts.FragmentTimeout), false)
	d.tcp.expire(d, now.Add(-d.opts.StreamIdle))
}

func (d *Decoder) warnf(sentinel error, format string, args ...any) {
	d.warnAt(d.curN, sentinel, format, args...)
}

// warnAt reports a problem with packet n.
func (d *Decoder) warnAt(n int, sentinel error, format string, args ...any) {
	d.Stats.Malformed++
	d.warn = Warning{N: n, Err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
	d.h.Warn(&d.warn)
}

// truncated reports a header cut short by the snap length or by damage.
func (d *Decoder) truncated(layer string, need, have int) {
	d.Stats.TruncatedFrame++
	d.warnf(ErrTruncatedPacket, "%s header needs %d bytes, %d captured", layer, need, have)
}

func (d *Decoder) setEncap(name string) {
	if d.encap == "" {
		d.encap = name
	}
}

// link dispatches on the link type.
func (d *Decoder) link(lt capture.LinkType, b []byte, depth int) {
	switch lt {
	case capture.LinkEthernet:
		d.ethernet(b, depth)
	case capture.LinkRaw, capture.LinkRawBSD12, capture.LinkRawBSD14:
		d.ipAny(b, depth)
	case capture.LinkIPv4:
		d.ipv4(b, depth)
	case capture.LinkIPv6:
		d.ipv6(b, depth)
	case capture.LinkNull, capture.LinkLoop:
		if len(b) < 4 {
			d.truncated("loopback", 4, len(b))
			return
		}
		// The family is in the writer's byte order for NULL and network
		// order for LOOP; the values are small, so look at both ends.
		af := binary.LittleEndian.Uint32(b)
		if af > 0xffff {
			af = binary.BigEndian.Uint32(b)
		}
		switch af {
		case 2:
			d.ipv4(b[4:], depth)
		case 10, 24, 28, 30:
			d.ipv6(b[4:], depth)
		default:
			d.Stats.NotIP++
		}
	case capture.LinkLinuxSLL:
		if len(b) < 16 {
			d.truncated("Linux cooked", 16, len(b))
			return
		}
		d.etherType(binary.BigEndian.Uint16(b[14:16]), b[16:], depth)
	case capture.LinkLinuxSLL2:
		if len(b) < 20 {
			d.truncated("Linux cooked v2", 20, len(b))
			return
		}
		d.etherType(binary.BigEndian.Uint16(b[0:2]), b[20:], depth)
	default:
		d.Stats.UnknownLink++
		d.unknownLink(lt)
	}
}

// unknownLink warns of the first packet of each link type sipflow does not
// decode (of the first few types); the others are only counted, in
// Stats.UnknownLink.
func (d *Decoder) unknownLink(lt capture.LinkType) {
	if slices.Contains(d.unknownLinks, lt) || len(d.unknownLinks) >= 8 {
		return
	}
	d.unknownLinks = append(d.unknownLinks, lt)
	d.warn = Warning{N: d.curN, Err: fmt.Errorf("%w: link type %d is not one sipflow decodes: this packet, and every later one of that link type, skipped", ErrUnknownLink, uint16(lt))}
	d.h.Warn(&d.warn)
}

func (d *Decoder) ethernet(b []byte, depth int) {
	if len(b) < 14 {
		d.truncated("Ethernet", 14, len(b))
		return
	}
	d.etherType(binary.BigEndian.Uint16(b[12:14]), b[14:], depth)
}

// etherType follows VLAN tags and MPLS labels to the network layer.
func (d *Decoder) etherType(et uint16, b []byte, depth int) {
	for {
		switch et {
		case 0x0800:
			d.ipv4(b, depth)
			return
		case 0x86dd:
			d.ipv6(b, depth)
			return
		case 0x8100, 0x88a8, 0x9100, 0x9200: // 802.1Q, 802.1ad (QinQ) and their pre-standard tags
			if len(b) < 4 {
				d.truncated("VLAN", 4, len(b))
				return
			}
			et = binary.BigEndian.Uint16(b[2:4])
			b = b[4:]
		case 0x8847, 0x8848: // MPLS: skip labels to the bottom of stack, then guess IP by version
			for {
				if len(b) < 4 {
					d.truncated("MPLS", 4, len(b))
					return
				}
				bottom := b[2]&1 == 1
				b = b[4:]
				if bottom {
					break
				}
			}
			d.ipAny(b, depth)
			return
		case 0x6558: // transparent Ethernet bridging (inside GRE)
			d.ethernet(b, depth)
			return
		default:
			d.Stats.NotIP++
			return
		}
	}
}

// ipAny picks IPv4 or IPv6 by the version nibble.
func (d *Decoder) ipAny(b []byte, depth int) {
	if len(b) == 0 {
		d.truncated("IP", 1, 0)
		return
	}
	switch b[0] >> 4 {
	case 4:
		d.ipv4(b, depth)
	case 6:
		d.ipv6(b, depth)
	default:
		d.Stats.NotIP++
	}
}

func (d *Decoder) ipv4(b []byte, depth int) {
	if depth > maxDepth {
		d.warnf(ErrBadHeader, "more than %d nested tunnels", maxDepth)
		return
	}
	if len(b) < 20 {
		d.truncated("IPv4", 20, len(b))
		return
	}
	if b[0]>>4 != 4 {
		d.warnf(ErrBadHeader, "IPv4 header with version %d", b[0]>>4)
		return
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if ihl < 20 || total < ihl {
		d.warnf(ErrBadHeader, "IPv4 header length %d, total length %d", ihl, total)
		return
	}
	if len(b) < ihl {
		d.truncated("IPv4", ihl, len(b))
		return
	}
	if total == 0 && len(b) > 65535 {
		total = len(b) // TSO: the length field is zero on oversized captured frames
	}
	if total < len(b) {
		b = b[:total] // Ethernet padding
	}
	src := netip.AddrFrom4([4]byte(b[12:16]))
	dst := netip.AddrFrom4([4]byte(b[16:20]))
	proto := b[9]
	d.ipID = binary.BigEndian.Uint16(b[4:6])
	flags := binary.BigEndian.Uint16(b[6:8])
	payload := b[ihl:]
	if flags&0x3fff != 0 { // MF set or non-zero offset
		d.Stats.Fragments++
		if len(b) < total {
			d.truncated("IPv4 fragment", total, len(b))
			return
		}
		key := fragKey{src: src, dst: dst, id: uint32(d.ipID), proto: proto}
		whole, ok := d.frags.add(d, key, int(flags&0x1fff)*8, flags&0x2000 != 0, payload)
		if !ok {
			return
		}
		d.Stats.Reassembled++
		payload = whole
		d.parts = d.fragParts
	}
	d.transport(proto, src, dst, payload, depth)
}

func (d *Decoder) ipv6(b []byte, depth int) {
	if depth > maxDepth {
		d.warnf(ErrBadHeader, "more than %d nested tunnels", maxDepth)
		return
	}
	if len(b) < 40 {
		d.truncated("IPv6", 40, len(b))
		return
	}
	if b[0]>>4 != 6 {
		d.warnf(ErrBadHeader, "IPv6 header with version %d", b[0]>>4)
		return
	}
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	d.ipID = 0 // no Identification, and an outer IPv4 header's is not this packet's
	src := netip.AddrFrom16([16]byte(b[8:24]))
	dst := netip.AddrFrom16([16]byte(b[24:40]))
	next := b[6]
	payload := b[40:]
	if plen != 0 && plen < len(payload) { // plen 0: jumbogram or TSO
		payload = payload[:plen]
	}
	for {
		switch next {
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination options, mobility, HIP, shim6
			if len(payload) < 8 {
				d.truncated("IPv6 extension", 8, len(payload))
				return
			}
			n := (int(payload[1]) + 1) * 8
			if len(payload) < n {
				d.truncated("IPv6 extension", n, len(payload))
				return
			}
			next, payload = payload[0], payload[n:]
		case 51: // AH: length in 4-octet units, minus 2
			if len(payload) < 8 {
				d.truncated("IPv6 AH", 8, len(payload))
				return
			}
			n := (int(payload[1]) + 2) * 4
			if len(payload) < n {
				d.truncated("IPv6 AH", n, len(payload))
				return
			}
			next, payload = payload[0], payload[n:]
		case 44: // fragment
			if len(payload) < 8 {
				d.truncated("IPv6 fragment", 8, len(payload))
				return
			}
			d.Stats.Fragments++
			off := int(binary.BigEndian.Uint16(payload[2:4]) &^ 7)
			more := payload[3]&1 == 1
			key := fragKey{src: src, dst: dst, id: binary.BigEndian.Uint32(payload[4:8]), proto: payload[0], v6: true}
			if off == 0 && !more { // atomic fragment (RFC 6946)
				next, payload = payload[0], payload[8:]
				continue
			}
			whole, ok := d.frags.add(d, key, off, more, payload[8:])
			if !ok {
				return
			}
			d.Stats.Reassembled++
			next, payload = key.proto, whole
			d.parts = d.fragParts
		case 59: // no next header
			return
		default:
			d.transport(next, src, dst, payload, depth)
			return
		}
	}
}

// transport dispatches on the IP protocol number.
func (d *Decoder) transport(proto uint8, src, dst netip.Addr, b []byte, depth int) {
	switch proto {
	case 17:
		d.udp(src, dst, b, depth)
	case 6:
		d.tcpSegment(src, dst, b)
	case 4: // IPv4 in IP
		d.setEncap("ipip")
		d.ipv4(b, depth+1)
	case 41: // IPv6 in IP
		d.setEncap("ipip")
		d.ipv6(b, depth+1)
	case 47:
		d.gre(b, depth+1)
	}
}

func (d *Decoder) udp(src, dst netip.Addr, b []byte, depth int) {
	if len(b) < 8 {
		d.truncated("UDP", 8, len(b))
		return
	}
	sport := binary.BigEndian.Uint16(b[0:2])
	dport := binary.BigEndian.Uint16(b[2:4])
	ulen := int(binary.BigEndian.Uint16(b[4:6]))
	payload := b[8:]
	if ulen >= 8 && ulen-8 < len(payload) {
		payload = payload[:ulen-8]
	}
	if len(payload) == 0 {
		return
	}
	switch {
	case (dport == 4789 || sport == 4789 || dport == 8472) && len(payload) >= 16 && payload[0]&0x08 != 0:
		// VXLAN (RFC 7348): 8-byte header with the I flag, then Ethernet.
		d.setEncap("vxlan")
		if depth < maxDepth {
			d.ethernet(payload[8:], depth+1)
		}
		return
	case (dport == 2152 || sport == 2152) && len(payload) >= 8 && payload[0]>>5 == 1:
		d.gtpu(payload, depth+1)
		return
	case dport == d.opts.HEPPort || sport == d.opts.HEPPort || (len(payload) >= 4 && string(payload[:4]) == "HEP3"):
		if LooksLikeHEP(payload) {
			d.hepPacket(payload)
			return
		}
	}
	srcAP := netip.AddrPortFrom(src, sport)
	dstAP := netip.AddrPortFrom(dst, dport)
	if looksLikeSIP(payload, &d.start) {
		d.sipDatagram(srcAP, dstAP, UDP, d.curTime, payload)
		return
	}
	if payload[0]|0x20 == 's' && len(payload) >= 8 && fold8(le64(payload)) == keySIP20SP.w0 {
		d.badStatusLine(srcAP, payload)
		return
	}
	d.Stats.Datagrams++
	// Field by field: a composite literal is a bulk copy with write
	// barriers, on a path every RTP packet takes.
	dg := &d.dg
	dg.N, dg.Time, dg.Src, dg.Dst, dg.Encap, dg.Payload = d.curN, d.curTime, srcAP, dstAP, d.encap, payload
	d.h.Datagram(dg)
}

// badStatusLine warns of a datagram that begins as a SIP response does
// but whose status line looksLikeSIP refused (a code not of three digits
// from 100 to 699): meant for SIP, and never RTP.
func (d *Decoder) badStatusLine(src netip.AddrPort, b []byte) {
	line := b
	if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	if len(line) > 40 {
		line = line[:40]
	}
	d.warnf(ErrMalformed, "SIP message from %s skipped: status line %q has no code from 100 to 699", src, line)
}

// sipDatagram parses the SIP messages in one datagram (normally one; a
// sender may pack several, each framed by its Content-Length).
// looksLikeSIP has just read b's first start line into d.start.
func (d *Decoder) sipDatagram(src, dst netip.AddrPort, tr Transport, ts time.Time, b []byte) {
	for len(b) > 0 {
		n := d.sipMessage(src, dst, tr, ts, b, &d.start)
		b = trimCRLF(b[n:])
		if !looksLikeSIP(b, &d.start) {
			return
		}
	}
}

// sipMessage parses one SIP message at the start of b and hands it on. It
// returns how many bytes the message took (all of b when it was skipped).
func (d *Decoder) sipMessage(src, dst netip.AddrPort, tr Transport, ts time.Time, b []byte, sl *startLine) int {
	m := &d.msg
	if d.opts.Keep != nil {
		b, m = d.opts.Keep(b) // a copy: sl's offsets hold in it
	}
	err := parseSIP(b, m, d.opts.Lean, sl, &d.parser.g)
	if err != nil && !errors.Is(err, ErrShortBody) {
		d.warnf(ErrMalformed, "SIP message from %s skipped: %v", src, stripSentinel(err, ErrMalformed))
		return len(b)
	}
	if err != nil {
		// The body is shorter than Content-Length said: usually the snap
		// length cut the packet. The headers are intact, so keep the message.
		n := d.curN
		if d.pkt != nil && len(d.pkt.Data) < d.pkt.Length {
			err = fmt.Errorf("%w: captured %d of %d bytes: %v", ErrTruncatedPacket, len(d.pkt.Data), d.pkt.Length, err)
		}
		d.warn = Warning{N: n, Err: err}
		d.h.Warn(&d.warn)
	}
	m.N = d.curN
	m.Time = ts
	m.Src, m.Dst = src, dst
	m.Transport = tr
	m.IPID = 0
	if tr == UDP {
		m.IPID = d.ipID
	}
	m.Encap = d.encap
	m.Parts = d.parts
	d.Stats.Messages++
	// Raw is a view of b from the start line to the end of the body.
	used := cap(b) - cap(m.Raw) + len(m.Raw)
	d.h.Message(m)
	return min(max(used, 1), len(b))
}

// stripSentinel avoids "malformed: malformed: ..." when re-wrapping.
func stripSentinel(err, sentinel error) string {
	s := err.Error()
	p := sentinel.Error() + ": "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

func trimCRLF(b []byte) []byte {
	for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// gre unwraps GRE (RFC 2784/2890), including PPTP's enhanced GRE carrying
// PPP, and ERSPAN type II and III.
func (d *Decoder) gre(b []byte, depth int) {
	d.setEncap("gre")
	if len(b) < 4 {
		d.truncated("GRE", 4, len(b))
		return
	}
	flags := binary.BigEndian.Uint16(b[0:2])
	proto := binary.BigEndian.Uint16(b[2:4])
	version := flags & 7
	n := 4
	if flags&0x8000 != 0 { // checksum + reserved
		n += 4
	}
	if flags&0x2000 != 0 { // key (for version 1: payload length + call id)
		n += 4
	}
	if flags&0x1000 != 0 { // sequence number
		n += 4
	}
	if version == 1 && flags&0x0080 != 0 { // acknowledgment number
		n += 4
	}
	if len(b) < n {
		d.truncated("GRE", n, len(b))
		return
	}
	b = b[n:]
	switch proto {
	case 0x88be: // ERSPAN type II: 8-byte header, then Ethernet
		if len(b) < 8 {
			d.truncated("ERSPAN II", 8, len(b))
			return
		}
		d.setEncap("erspan")
		d.ethernet(b[8:], depth)
	case 0x22eb: // ERSPAN type III: 12 bytes, plus 8 of platform data when O is set
		if len(b) < 12 {
			d.truncated("ERSPAN III", 12, len(b))
			return
		}
		h := 12
		if b[11]&1 != 0 {
			h += 8
		}
		if len(b) < h {
			d.truncated("ERSPAN III", h, len(b))
			return
		}
		d.setEncap("erspan")
		d.ethernet(b[h:], depth)
	case 0x880b: // PPP
		d.ppp(b, depth)
	default:
		d.etherType(proto, b, depth)
	}
}

func (d *Decoder) ppp(b []byte, depth int) {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 { // address and control, unless compressed away
		b = b[2:]
	}
	if len(b) == 0 {
		d.truncated("PPP", 1, 0)
		return
	}
	var proto uint16
	if b[0]&1 == 1 { // protocol field compression: one byte
		proto, b = uint16(b[0]), b[1:]
	} else {
		if len(b) < 2 {
			d.truncated("PPP", 2, len(b))
			return
		}
		proto, b = binary.BigEndian.Uint16(b[:2]), b[2:]
	}
	switch proto {
	case 0x21:
		d.ipv4(b, depth)
	case 0x57:
		d.ipv6(b, depth)
	default:
		d.Stats.NotIP++
	}
}

// gtpu unwraps a GTPv1-U G-PDU (3GPP TS 29.281) to the user's IP packet.
func (d *Decoder) gtpu(b []byte, depth int) {
	flags, typ := b[0], b[1]
	if typ != 0xff { // only G-PDUs carry user traffic
		return
	}
	d.setEncap("gtp")
	n := 8
	if flags&0x07 != 0 { // sequence, N-PDU or extension present: 4 more bytes
		n = 12
		if len(b) < n {
			d.truncated("GTP-U", n, len(b))
			return
		}
		next := b[11]
		for flags&0x04 != 0 && next != 0 { // extension headers, length in 4-octet units
			if len(b) < n+1 {
				d.truncated("GTP-U extension", n+1, len(b))
				return
			}
			l := int(b[n]) * 4
			if l == 0 || len(b) < n+l {
				d.warnf(ErrBadHeader, "GTP-U extension header of length %d", l)
				return
			}
			next = b[n+l-1]
			n += l
		}
	}
	if len(b) < n {
		d.truncated("GTP-U", n, len(b))
		return
	}
	d.ipAny(b[n:], depth)
}

// hepPacket unwraps HEP over UDP; the HEP header's addresses, transport and
// timestamp become the message's own.
func (d *Decoder) hepPacket(b []byte) {
	for len(b) > 0 {
		n, err := ParseHEP(b, &d.hep, &d.hepB)
		if err != nil {
			d.warnf(ErrBadHeader, "HEP: %v", err)
			return
		}
		d.Stats.HEP++
		d.hepPayload(&d.hep)
		if n <= 0 || n >= len(b) {
			return
		}
		b = b[n:]
	}
}

// hepSkew is how far a HEP agent's time may be from the time of the
// packet that carried its copy before it is taken for wrong.
const hepSkew = time.Hour

// hepTime is the time a HEP agent captured h's message: the HEP header's,
// or the packet's own when the header has none, or one more than hepSkew
// from the packet's (an agent whose clock was never set, or keeps another
// time zone, or a field of garbage), with a warning: one such time would
// move the message decades away from its call, which would go unanswered
// while its answers went to no call.
func (d *Decoder) hepTime(h *HEP) time.Time {
	if h.Time.IsZero() {
		return d.curTime
	}
	if off := h.Time.Sub(d.curTime); off > hepSkew || off < -hepSkew {
		d.warnf(ErrTimestamp, "HEP header's time %s is %s from the packet's (%s); the packet's is used",
			h.Time.Format(glitchLayout), hepOffset(off), d.curTime.Format(glitchLayout))
		return d.curTime
	}
	return h.Time
}

// hepOffset says how far off a HEP time is, to the second; a duration
// past time.Duration's range (292 years) saturates.
func hepOffset(off time.Duration) string {
	switch {
	case off == math.MaxInt64 || off == math.MinInt64:
		return "centuries"
	case off < 0:
		return off.Round(time.Second).String()[1:] + " before"
	}
	return off.Round(time.Second).String() + " after"
}

func (d *Decoder) hepPayload(h *HEP) {
	saved := d.encap
	d.encap = "hep"
	defer func() { d.encap = saved }()
	ts := d.hepTime(h)
	tr := UDP
	if h.IPProto == 6 {
		tr = TCP
	}
	p := h.Payload
	if looksLikeSIP(p, &d.start) {
		d.ipID = 0 // the outer packet's: a HEP agent's copies of one message come in packets of their own
		d.sipDatagram(h.Src, h.Dst, tr, ts, p)
		return
	}
	// Type 4 is RTP; HEP's RTCP (5) is a JSON report, not a datagram.
	if len(p) > 0 && h.IPProto == 17 && (h.ProtoType == 0 || h.ProtoType == 4) {
		d.Stats.Datagrams++
		d.dg = Datagram{N: d.curN, Time: ts, Src: h.Src, Dst: h.Dst, Encap: "hep", Payload: p}
		d.h.Datagram(&d.dg)
	}
}
