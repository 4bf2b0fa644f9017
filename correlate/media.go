package correlate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/media"
)

// Media: RTP and RTCP tied to calls by the SDP of their offers and answers
// (RFC 3264), measured by package media.
//
// Every SDP a call carries registers its media endpoints (c= address and
// m= port, and the RTCP port: a=rtcp, the next port, or the same port with
// rtcp-mux) against the call's leg; a later SDP (re-INVITE, UPDATE, hold)
// adds or replaces them. A UDP datagram sent to, or from, a registered
// endpoint goes to that leg's streams (endpointFor: one leg's, when
// several announced the address). Another open leg whose two parties
// announced the stream's two addresses hears it too, for its media
// checks, without listing it (heardStream). With Options.RTPHeuristic,
// RTP that no SDP announced is measured too, as streams of no call.

// endpoint is a media address a leg's SDP announced.
type endpoint struct {
	leg   *Leg // leg, stale and fax: in the first 16 bytes, one cache line
	stale bool // replaced by a newer SDP, or its call ended
	fax   bool // an m=image line of T.38 over UDPTL: its datagrams are UDPTL, not RTP
	ap    netip.AddrPort
	idx   int    // position in the Correlator's list for ap
	seq   int    // announcement order: the higher, the more recent
	md    *Media // the m= line: payload types, codecs, clocks, direction, hold
	line  int    // its index among the SDP's m= lines
	party string // who announced it: the tag of its message's sender (partyOf)
}

// legMedia is what a leg knows of its media.
type legMedia struct {
	table   *media.Table
	current []*endpoint // what the leg announces now, RTP and RTCP, one per address
	// at: current's index by address, once it is long (manyEndpoints): a
	// call that moves its media to a new port at each of thousands of
	// re-INVITEs keeps every address it announced.
	at map[netip.AddrPort]int
	// announced: the RTP endpoints each party (by its tag) announced last,
	// one per media line; for the one-way and address checks. A slice, not
	// a map: a leg has two parties, rarely more (forking).
	announced []partyEndpoints
	// faxAnnounced: the T.38 endpoint (m=image udptl) each party announced
	// last, and when, for the fax checks; kept when the leg goes back to
	// audio (faxPeriod says when it was on T.38).
	faxAnnounced []faxParty
	streams      []*media.Stream // set when the leg finishes
	// heard: RTP that another leg's table holds, sent between this leg's
	// parties' addresses while it was up (shareStream); its figures are
	// copied when the leg finishes (snapHeard).
	heard []heardStream
}

// heardStream is RTP that flowed between the addresses a leg's two
// parties announced, while the leg was up, but that another leg's table
// holds, and so another call lists: each stream is measured, listed and
// archived once, under the leg endpointFor gives it to. A B2BUA that
// bridges two unlinked legs' media directly (Asterisk's direct media: a
// re-INVITE on each leg offers the other phone's address) makes two legs
// announce the same two addresses; the media checks of both hear it.
type heardStream struct {
	s     *media.Stream // the other leg's stream: read until this leg finishes, then only compared
	to    string        // the party (tag) of this leg that announced where it was sent
	owner string        // the Call-ID of the leg whose table holds it
	// snap is what the checks read: s's figures when this leg finished
	// (snapHeard), when the call may be built in another goroutine while
	// the other leg's table still counts s.
	snap *media.Stream
}

// maxHeard bounds a leg's heard streams: a flow whose SSRC changes every
// few packets makes a stream each time, and the checks need only some.
const maxHeard = 64

// hear records that leg l heard s, which the leg with Call-ID owner
// holds, sent to the party with tag to.
func (l *Leg) hear(s *media.Stream, to, owner string) {
	lm := l.media
	for _, h := range lm.heard {
		if h.s == s {
			return
		}
	}
	if len(lm.heard) < maxHeard {
		lm.heard = append(lm.heard, heardStream{s: s, to: to, owner: owner})
	}
}

type partyEndpoints struct {
	tag   string
	eps   []*endpoint
	lines []ptSet // by m= line: every payload type the party listed on it, in any of its SDPs
}

// ptSet is a set of RTP payload types (0-127), a bit each.
type ptSet [2]uint64

func (s *ptSet) add(pt int) {
	if pt >= 0 && pt < 128 {
		s[pt>>6] |= 1 << (pt & 63)
	}
}

func (s *ptSet) has(pt uint8) bool { return pt < 128 && s[pt>>6]&(1<<(pt&63)) != 0 }

// announcedByParty returns the RTP endpoints the party with this tag announced last.
func (lm *legMedia) announcedByParty(tag string) []*endpoint {
	for _, p := range lm.announced {
		if p.tag == tag {
			return p.eps
		}
	}
	return nil
}

// faxParty is the T.38 endpoint a party announced last.
type faxParty struct {
	tag string
	ep  *endpoint
	at  time.Time // the time of the message that announced it
}

// setFaxAnnounced records the T.38 endpoint a party announces, at at.
func (lm *legMedia) setFaxAnnounced(tag string, ep *endpoint, at time.Time) {
	for i := range lm.faxAnnounced {
		if lm.faxAnnounced[i].tag == tag {
			lm.faxAnnounced[i].ep, lm.faxAnnounced[i].at = ep, at
			return
		}
	}
	lm.faxAnnounced = append(lm.faxAnnounced, faxParty{tag: tag, ep: ep, at: at})
}

// t38Version is the T.38 version the leg's parties agreed: the lowest
// a=T38FaxVersion of the lines they announced last (an answer may lower
// the offer's, never raise it: T.38 Annex D.2.3).
func (lm *legMedia) t38Version() int {
	v := -1
	for _, p := range lm.faxAnnounced {
		if v < 0 || p.ep.md.T38Version < v {
			v = p.ep.md.T38Version
		}
	}
	return max(v, 0)
}

// setAnnounced records the RTP endpoints a party announces now, and adds
// the payload types of their lines to what it ever listed on each line.
func (lm *legMedia) setAnnounced(tag string, eps []*endpoint) {
	var p *partyEndpoints
	for i := range lm.announced {
		if lm.announced[i].tag == tag {
			p = &lm.announced[i]
		}
	}
	if p == nil {
		lm.announced = append(lm.announced, partyEndpoints{tag: tag})
		p = &lm.announced[len(lm.announced)-1]
	}
	p.eps = eps
	for _, ep := range eps {
		for len(p.lines) <= ep.line {
			p.lines = append(p.lines, ptSet{})
		}
		for _, pt := range ep.md.Payloads {
			p.lines[ep.line].add(pt)
		}
	}
}

// AddDatagram accounts a UDP payload that is not SIP: RTP or RTCP of a call
// if an SDP announced its address. n and t are its packet's number and time.
// Anything but RTP and RTCP (version 2) only moves packet time on.
func (c *Correlator) AddDatagram(n int, t time.Time, src, dst netip.AddrPort, payload []byte) {
	f := NewUDPFlow(src, dst)
	c.AddDatagramFlow(n, t, &f, payload)
}

// UDPFlow is a datagram's source and destination in the form the media
// path looks flows up by, hash included. NewUDPFlow makes it, possibly in
// another goroutine than the Correlator's (sipflow's decode stage: the
// work then leaves the correlation stage, which on a capture full of RTP
// set the pace). It holds no pointer: a slice of UDPFlows costs the
// garbage collector nothing to scan.
type UDPFlow struct {
	key  flowKey
	hash uint32 // key.fastHash()
	v4   bool   // both addresses are IPv4 (the key holds them IPv4-mapped)
}

// NewUDPFlow returns the UDPFlow of a datagram from src to dst. IPv6
// zones are not kept (packets carry none).
func NewUDPFlow(src, dst netip.AddrPort) UDPFlow {
	f := UDPFlow{key: flowKeyOf(src, dst), v4: src.Addr().Is4()}
	f.hash = f.key.fastHash()
	return f
}

// Addrs returns the flow's source and destination.
func (f *UDPFlow) Addrs() (src, dst netip.AddrPort) {
	k := &f.key
	if f.v4 {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(k.src[12:])), k.sport), netip.AddrPortFrom(netip.AddrFrom4([4]byte(k.dst[12:])), k.dport)
	}
	return netip.AddrPortFrom(netip.AddrFrom16(k.src), k.sport), netip.AddrPortFrom(netip.AddrFrom16(k.dst), k.dport)
}

// AddDatagramFlow is AddDatagram for a datagram whose UDPFlow was made in
// advance.
//
// Its time moves the clock as Advance's, without the packet's number: a
// step held at one time waits for a SIP message of another packet, or
// another time, to confirm it. (Passing n costs the RTP path its profile's
// inlining; the held step only matters to captures whose packets share one
// time.)
func (c *Correlator) AddDatagramFlow(n int, t time.Time, f *UDPFlow, payload []byte) {
	c.Advance(t)
	if !c.opts.Media {
		return
	}
	c.Stats.Datagrams++
	if !IsMedia(payload) {
		c.notRTP(n, t, f, payload)
		return
	}
	c.Stats.RTPLike++
	if !c.mediaLive {
		c.goLive()
	}
	fe := c.endpointFor(f)
	ep := fe.ep
	if (ep == nil || ep.fax || ep.leg.finished || ep.leg.media == nil) && c.offPath(n, t, f, ep, payload) {
		return
	}
	l := ep.leg
	c.Stats.MediaPackets++
	// The flow's stream, when it has one, is in the leg's table: the table
	// exists, and the common case reads nothing of the leg's media.
	switch {
	case decode.LooksLikeRTCP(payload):
		src, dst := f.Addrs()
		c.mediaTable(l).AddRTCP(n, t, src, dst, payload)
	case decode.ParseRTP(payload, &c.rtp) == nil:
		if fe.stream != nil && fe.stream.Key.SSRC == c.rtp.SSRC {
			fe.stream.AddRTP(n, t, &c.rtp) // the flow's stream: no lookup
		} else {
			src, dst := f.Addrs()
			if s, err := c.mediaTable(l).AddParsed(n, t, src, dst, &c.rtp); err == nil {
				fe.stream = c.newStream(l, src, dst, s) // (one line: the PGO profile knows mediaAlive's call by its line)
			}
		}
	default:
		c.badRTP(n, t, l, fe, f, payload) // (one line: the PGO profile knows mediaAlive's call by its line)
	}
	c.mediaAlive(l, t)
}

// badRTP takes packet n, at a live call's media address and RTP by its
// first byte but not readable (decode.ParseRTP failed): the leg has a
// table, if empty (a media packet came), and the stream of its flow and
// SSRC counts it (media.Stream.Malformed). A packet whose padding count
// alone is wrong has a whole header: it is added to its stream as well,
// as tshark counts it; any other is not, and its sequence number counts
// as lost, as it does for tshark.
func (c *Correlator) badRTP(n int, t time.Time, l *Leg, fe *flowEntry, f *UDPFlow, payload []byte) {
	tab := c.mediaTable(l)
	if len(payload) < 12 {
		return
	}
	src, dst := f.Addrs()
	var s *media.Stream
	err := decode.ParseRTP(payload, &c.rtp)
	lost := !errors.Is(err, decode.ErrRTPPadding)
	if !lost {
		if fe.stream != nil && fe.stream.Key.SSRC == c.rtp.SSRC {
			s = fe.stream
			s.AddRTP(n, t, &c.rtp)
		} else if s, err = tab.AddParsed(n, t, src, dst, &c.rtp); err == nil {
			fe.stream = c.newStream(l, src, dst, s)
		}
	} else if ssrc := binary.BigEndian.Uint32(payload[8:]); fe.stream != nil && fe.stream.Key.SSRC == ssrc {
		s = fe.stream
	} else {
		s = tab.Stream(media.StreamKey{Src: src, Dst: dst, SSRC: ssrc})
	}
	if s != nil {
		s.AddMalformed(n, lost)
	}
}

// newStream returns s, the stream a packet of l's went to, when it is
// new shared with the other legs that agreed its addresses
// (shareStream): once a stream, not per packet.
func (c *Correlator) newStream(l *Leg, src, dst netip.AddrPort, s *media.Stream) *media.Stream {
	if s.Packets == 1 {
		c.shareStream(l, src, dst, s)
	}
	return s
}

// notRTP takes a datagram that is not RTP or RTCP: UDPTL to or from a
// port an SDP gave to T.38 (whose sequence number does not make it look
// like RTP); anything else (STUN, DTLS, keep-alives) is not media, and
// keeps no call alive.
func (c *Correlator) notRTP(n int, t time.Time, f *UDPFlow, payload []byte) {
	u := c.udptlScratch()
	if !decode.LooksLikeUDPTL(payload, u) {
		return
	}
	c.Stats.UDPTLLike++
	if !c.mediaLive {
		c.goLive()
	}
	if ep := c.endpointFor(f).ep; ep != nil && ep.fax && !ep.leg.finished && ep.leg.media != nil {
		c.addFax(n, t, f, ep.leg, u)
	}
}

// udptlScratch is where a datagram is parsed as UDPTL, once.
func (c *Correlator) udptlScratch() *decode.UDPTL {
	if c.udptl == nil {
		c.udptl = new(decode.UDPTL)
	}
	return c.udptl
}

// offPath takes an RTP-like datagram that is not plainly a live call's
// RTP: at no call's endpoint, or a finished call's (measured with
// Options.RTPHeuristic only, as a stream of no call), or at a T.38
// endpoint (UDPTL whose sequence number makes it look like RTP). It
// reports false for RTP at a live call's T.38 port, which goes on as RTP:
// gateways offer T.38 on the audio's own port, and the offer may be
// refused, or not answered yet.
func (c *Correlator) offPath(n int, t time.Time, f *UDPFlow, ep *endpoint, payload []byte) bool {
	if ep != nil && !ep.leg.finished && ep.leg.media != nil { // ep.fax
		u := c.udptlScratch()
		if !decode.LooksLikeUDPTL(payload, u) {
			return false
		}
		c.addFax(n, t, f, ep.leg, u)
		return true
	}
	if !c.opts.RTPHeuristic {
		return true
	}
	if src, dst := f.Addrs(); c.heur.Looks(src, dst, payload) {
		if c.orphans == nil {
			c.orphans = media.NewTable()
		}
		c.orphans.AddRTP(n, t, src, dst, payload)
	}
	return true
}

// addFax takes a UDPTL packet, parsed already, sent to or from a T.38
// endpoint of leg l.
func (c *Correlator) addFax(n int, t time.Time, f *UDPFlow, l *Leg, u *decode.UDPTL) {
	src, dst := f.Addrs()
	if _, err := c.mediaTable(l).AddParsedUDPTL(n, t, src, dst, u, l.media.t38Version()); err != nil {
		return // past the table's limit on streams
	}
	c.Stats.MediaPackets++
	c.mediaAlive(l, t)
}

// mediaAlive stamps leg l with the time of a media packet it received.
func (c *Correlator) mediaAlive(l *Leg, t time.Time) {
	if !l.terminal && moreThanASecond(l.last, t) {
		// Media keeps a call alive: a long call without SIP refreshes must
		// not be finished by the idle timeout while it still talks. (To the
		// second: requeueing on every packet would cost more than it says.)
		// While the clock holds a step, the leg is stamped with its time,
		// and set back should it prove a glitch (settle).
		l.last, l.seen = t, c.clock.Latest()
		if c.clock.Holding() {
			c.heldLegs = append(c.heldLegs, l)
		}
		c.requeue(l)
	}
}

// mediaTable returns the media table of a leg that has media, making it
// on the leg's first media packet.
func (c *Correlator) mediaTable(l *Leg) *media.Table {
	lm := l.media
	if lm.table == nil {
		lm.table = media.NewTable()
		lm.table.SetPayloadNames(c.payloadNames(l))
	}
	return lm.table
}

// IsMedia reports whether a UDP payload may be RTP or RTCP (version 2, at
// least 8 bytes). With decode.LooksLikeUDPTL (T.38), it says which
// datagrams AddDatagram does more with than count: a caller may count the
// others itself (Stats.Datagrams) and not pass them.
func IsMedia(payload []byte) bool { return len(payload) >= 8 && payload[0]>>6 == 2 }

// moreThanASecond is t.Sub(last) > time.Second, without Sub's overflow
// arithmetic: this runs for every RTP packet.
func moreThanASecond(last, t time.Time) bool {
	ds := t.Unix() - last.Unix()
	if ds < 0 || ds > 1 {
		return ds > 1
	}
	return ds*1e9+int64(t.Nanosecond()-last.Nanosecond()) > 1e9
}

// flowKey is a UDP flow's addresses without the zone pointer netip keeps,
// so that hashing it is cheap; zones never tell two media flows apart.
type flowKey struct {
	src, dst     [16]byte
	sport, dport uint16
}

// equal is k == *o, field by field: the compiler compares a 16-byte
// array in two words inline, but the whole 36-byte struct through a call
// to memequal, once or twice for every RTP packet.
func (k *flowKey) equal(o *flowKey) bool {
	return k.src == o.src && k.dst == o.dst && k.sport == o.sport && k.dport == o.dport
}

// flowSlot is an entry of the two-way flow cache: most RTP packets find
// their flow there (the entry says which flow it is), in a table small
// enough to stay in the near caches, instead of in the map.
type flowSlot = *flowEntry

const flowFastSize = 1 << 12

// fastHash mixes the parts of the key that tell media flows apart: ports
// and the low bytes of the addresses.
func (k *flowKey) fastHash() uint32 {
	h := uint32(k.sport)<<16 | uint32(k.dport)
	h ^= uint32(k.src[15])<<8 | uint32(k.src[14]) | uint32(k.dst[15])<<24 | uint32(k.dst[14])<<16
	h *= 0x9e3779b1
	return h >> 16
}

func flowKeyOf(src, dst netip.AddrPort) flowKey {
	return flowKey{src: src.Addr().As16(), dst: dst.Addr().As16(), sport: src.Port(), dport: dst.Port()}
}

// payloadNames names a stream's payload types from the rtpmaps its
// receiver announced (what a party lists is what it expects to receive).
//
// It looks among the leg's own current endpoints, not the Correlator's list
// for the address (the same ones: the leg's that are not stale), which on
// a media server's port holds every open call's: each new stream walked
// them all.
func (c *Correlator) payloadNames(l *Leg) media.PayloadNames {
	return func(key media.StreamKey, pt uint8) (string, int) {
		for _, ap := range []netip.AddrPort{key.Dst, key.Src} {
			ep := l.media.announcedAt(ap)
			if ep == nil || ep.stale {
				continue
			}
			for i, p := range ep.md.Payloads {
				if p == int(pt) && i < len(ep.md.Codecs) {
					return ep.md.Codecs[i], ep.md.Clocks[i]
				}
			}
		}
		return "", 0
	}
}

// sdpSeen takes an SDP body seen in leg. Until the capture has shown any
// RTP or RTCP it only keeps the body: on a capture without media (a
// SIP-only filter) no endpoint is ever registered, and a call finished
// before any media drops its bodies unread (settleSDP). The first RTP
// or RTCP packet registers the bodies of every open leg in the order they
// came (goLive), which leaves the endpoints registering them as they came
// would have left: the legs finished meanwhile would have dropped theirs.
// owned says body is the leg's copy already (offerAnswer kept it).
func (c *Correlator) sdpSeen(l *Leg, m *Message, body []byte, owned bool) {
	if c.mediaLive || c.opts.eagerSDP {
		c.registerSDP(l, m, body, true)
		return
	}
	if m.ext != nil && m.ext.sdpRaw != nil {
		body = m.ext.sdpRaw // kept already
	} else if !owned {
		body = l.copyBytes(body) // read by settleSDP or goLive, both before the leg is emitted
	}
	c.sdpSeq++
	l.stash = append(l.stash, stashedSDP{seq: c.sdpSeq, m: m, body: body})
}

// stashedSDP is an SDP body seen before the capture showed any media.
type stashedSDP struct {
	seq  int // arrival order, over all legs
	m    *Message
	body []byte
}

// goLive registers the stashed SDP of every open leg, in arrival order: the
// capture has just shown its first RTP or RTCP packet.
func (c *Correlator) goLive() {
	c.mediaLive = true
	type ref struct {
		l *Leg
		s *stashedSDP
	}
	var all []ref
	c.legs.each(func(l *Leg) {
		for i := range l.stash {
			all = append(all, ref{l, &l.stash[i]})
		}
	})
	sort.Slice(all, func(i, j int) bool { return all[i].s.seq < all[j].s.seq })
	for _, r := range all {
		c.registerSDP(r.l, r.s.m, r.s.body, true)
	}
	for _, r := range all {
		r.l.stash = nil
	}
}

// settleSDP turns a finishing leg's stashed SDP (no media seen yet) into
// what its call's checks read. When the call is built right now, before any
// RTP, they read no SDP (checkMedia: nothing to compare streams with), so
// the bodies are dropped unread; otherwise (a B2BUA group still open) the
// leg keeps its announced endpoints, as registering would have, without
// registering them.
func (c *Correlator) settleSDP(l *Leg) {
	if l.group.root().open != 1 {
		for _, st := range l.stash {
			c.registerSDP(l, st.m, st.body, false)
		}
	}
	l.stash = nil
}

// usableMedia reports whether an m= line announces RTP sipflow measures: an
// audio or video stream with a port and somewhere to send it (Media.rtpAddr:
// c=, or an ICE candidate when c= is ICE's placeholder 0.0.0.0, RFC 8840
// §4.2, which says nothing of where the media goes).
func usableMedia(md *Media) bool {
	if md.Port == 0 || md.Type != "audio" && md.Type != "video" {
		return false
	}
	_, ok := md.rtpAddr()
	return ok
}

// exchangedSDP reports whether both the caller and the one that answered
// (callParties) sent SDP in leg l (Stats.MediaExpected counts such calls).
func exchangedSDP(l *Leg, callerTag, answerTag string) bool {
	if answerTag == "" {
		return false
	}
	var fromA, fromB bool
	for _, m := range l.Messages {
		if m.hasSDP {
			switch partyOf(m) {
			case callerTag:
				fromA = true
			case answerTag:
				fromB = true
			}
		}
	}
	return fromA && fromB
}

// partyOf is who sent a message's SDP: the From-tag of a request, the
// To-tag of a response.
func partyOf(m *Message) string {
	if m.IsRequest() {
		return m.FromTag
	}
	return m.ToTag
}

// registerSDP records the media endpoints of an SDP body seen in leg; with
// global, also where datagrams find them (endpointFor).
func (c *Correlator) registerSDP(l *Leg, m *Message, body []byte, global bool) {
	s := m.SDP() // parsed already when kept (KeepSDP)
	if s == nil {
		if s = convertSDP(body, &c.sdpScratch); s == nil {
			return
		}
	}
	if l.media == nil {
		l.media = &legMedia{}
	}
	lm := l.media
	party := partyOf(m)
	var eps, faxEps []*endpoint
	for i := range s.Media {
		md := &s.Media[i]
		if !usableMedia(md) {
			// T.38 over UDPTL; not over DTLS (UDP/TLS/UDPTL, RFC 7345),
			// which cannot be read.
			if md.Port != 0 && md.T38() && strings.EqualFold(md.Proto, "udptl") && md.Addr.IsValid() && !md.Addr.IsUnspecified() {
				ap := netip.AddrPortFrom(md.Addr, uint16(md.Port))
				ep := &endpoint{leg: l, ap: ap, md: md, line: i, fax: true, party: party}
				faxEps = append(faxEps, ep)
				if global {
					c.setEndpoint(l, ap, ep)
				}
			}
			continue
		}
		rtp, _ := md.rtpAddr()
		ep := &endpoint{leg: l, ap: rtp, md: md, line: i, party: party}
		eps = append(eps, ep)
		if !global {
			continue
		}
		c.setEndpoint(l, rtp, ep)
		if !md.RTCPMux && rtp.Addr() == md.Addr {
			port := md.RTCPPort
			if port == 0 {
				port = md.Port + 1
			}
			c.alsoAt(l, ep, netip.AddrPortFrom(md.Addr, uint16(port)))
		}
		// ICE may choose another of the line's candidates (RFC 8445): its
		// media is the call's at any of them, RTCP at component 2's (listed
		// with rtcp-mux too, for an answerer that does not multiplex, RFC
		// 5761 §5.1.3). The one registered already is skipped.
		for _, cand := range md.Candidates {
			if cand.Addr == rtp || cand.Component > 2 {
				continue
			}
			c.alsoAt(l, ep, cand.Addr)
		}
	}
	lm.setAnnounced(party, eps)
	if len(faxEps) > 0 {
		lm.setFaxAnnounced(party, faxEps[0], m.Time)
	}
	if global {
		c.shareExisting(l, party, eps)
	}
}

// shareStream makes s, a new stream of leg owner's from src to dst, heard
// by every other open leg (not of owner's call) whose two parties
// announced src and dst, one each (heardStream). Most addresses are
// announced by one leg: then there is nothing to look at.
func (c *Correlator) shareStream(owner *Leg, src, dst netip.AddrPort, s *media.Stream) {
	ds, ss := c.endpoints[dst], c.endpoints[src]
	if len(ds) < 2 && len(ss) < 2 {
		return // at most one leg announced both: owner
	}
	walk, other, atDst := ds, src, true // walk the shorter list, as endpointFor
	if len(ss) < len(ds) {
		walk, other, atDst = ss, dst, false
	}
	if len(walk) > maxSharing {
		return
	}
	root := owner.group.root()
	for _, e := range walk {
		y := e.leg
		if y == owner || e.fax || y.finished || y.group.root() == root {
			continue
		}
		o := y.media.announcedAt(other)
		if o == nil || o.stale || o.fax || o.party == e.party {
			continue
		}
		to := e.party
		if !atDst {
			to = o.party
		}
		y.hear(s, to, owner.CallID)
	}
}

// maxSharing is the most open legs that may announce both addresses of a
// stream for it to be shared (shareStream, sharePair): a B2BUA's direct
// media makes two. When both addresses are many calls' (two media servers
// that each receive every call on one port), no leg's stream can be told
// from another's, and looking would cost a walk of them all each stream.
const maxSharing = 16

// shareExisting makes leg l, whose party just announced eps, hear the
// streams other open legs hold between one of eps and an address l's
// other party announced (heardStream): the streams shareStream could not
// give l, made before l announced both addresses.
func (c *Correlator) shareExisting(l *Leg, party string, eps []*endpoint) {
	for _, ep := range eps {
		for _, p := range l.media.announced {
			if p.tag == party {
				continue
			}
			for _, q := range p.eps {
				c.sharePair(l, ep, q)
			}
		}
	}
}

// sharePair makes leg l hear the streams other open legs hold between
// its endpoints e and f, announced by its two parties, that were still
// flowing once l had begun.
func (c *Correlator) sharePair(l *Leg, e, f *endpoint) {
	le, lf := c.endpoints[e.ap], c.endpoints[f.ap]
	if len(le) < 2 && len(lf) < 2 {
		return // only l announced them
	}
	walk, other := le, f.ap
	if len(lf) < len(le) {
		walk, other = lf, e.ap
	}
	if len(walk) > maxSharing {
		return
	}
	root := l.group.root()
	for _, x := range walk {
		owner := x.leg
		if owner == l || owner.finished || owner.media.table == nil || owner.group.root() == root ||
			owner.media.announcedAt(other) == nil {
			continue
		}
		for _, s := range owner.media.table.Streams() {
			if s.Fax != nil || s.Last.Before(l.first) {
				continue
			}
			switch {
			case s.Key.Src == f.ap && s.Key.Dst == e.ap:
				l.hear(s, e.party, owner.CallID)
			case s.Key.Src == e.ap && s.Key.Dst == f.ap:
				l.hear(s, f.party, owner.CallID)
			}
		}
	}
}

// alsoAt registers a copy of ep, leg l's endpoint for one m= line, at
// another address of the same line (its RTCP port, an ICE candidate).
func (c *Correlator) alsoAt(l *Leg, ep *endpoint, ap netip.AddrPort) {
	cp := *ep
	cp.ap = ap
	c.setEndpoint(l, ap, &cp)
}

// endpointFor finds the announced endpoint a datagram belongs to. Several
// open calls may announce the same address (a media server or B2BUA that
// receives every call on one port): then the call whose other party
// announced the datagram's source wins, else the most recent. RTP sent from
// an announced port to an address nobody announced (NAT) belongs to the
// sender's call. Answers are cached per flow: a found endpoint until it is
// replaced or its call ends, a miss until anything new is announced.
func (c *Correlator) endpointFor(f *UDPFlow) *flowEntry {
	fk := &f.key
	// Two ways: the flow's slot and its neighbour, in one cache line.
	i := f.hash & (flowFastSize - 1)
	slot := &c.flowFast[i]
	e := *slot
	if e == nil || !e.key.equal(fk) {
		if e2 := c.flowFast[i^1]; e2 != nil && e2.key.equal(fk) {
			e = e2
		} else if e = c.flowCache[*fk]; e != nil {
			c.flowFast[i^1] = *slot // the older flow moves to the neighbour
			*slot = e
		}
	}
	if e != nil && (e.ep != nil && !e.ep.stale || e.ep == nil && e.gen == c.epGen) {
		return e
	}
	src, dst := f.Addrs()
	if !c.hostsGone {
		c.seeHosts(src.Addr(), dst.Addr()) // once a flow, not a packet
	}
	ds, ss := c.endpoints[dst], c.endpoints[src]
	var ep *endpoint
	// The sender's call, if it also announced the destination: a call with
	// current endpoints at both addresses. Walk the shorter list (a media
	// server's one port may be announced by hundreds of calls).
	if len(ds) <= len(ss) {
		for _, y := range ds {
			if y.leg.media.announcedAt(src) != nil && (ep == nil || y.seq > ep.seq) {
				ep = y
			}
		}
	} else {
		for _, x := range ss {
			if e := x.leg.media.announcedAt(dst); e != nil && (ep == nil || e.seq > ep.seq) {
				ep = e
			}
		}
	}
	switch {
	case ep != nil:
	case len(ds) > 0:
		ep = newest(ds)
	case len(ss) > 0:
		ep = newest(ss)
	}
	if e == nil {
		if len(c.flowCache) > 1<<16 {
			clear(c.flowCache)
			clear(c.flowFast[:])
		}
		e = &flowEntry{key: *fk}
		c.flowCache[*fk] = e
		c.flowFast[i^1] = *slot
		*slot = e
	}
	*e = flowEntry{key: *fk, ep: ep, gen: c.epGen}
	return e
}

// flowEntry is a cached endpointFor answer, and the flow's last stream
// (valid while ep is: a new answer forgets it).
type flowEntry struct {
	key    flowKey
	ep     *endpoint
	gen    int
	stream *media.Stream
}

// newest returns the most recently announced endpoint of a list.
func newest(list []*endpoint) *endpoint {
	best := list[0]
	for _, e := range list[1:] {
		if e.seq > best.seq {
			best = e
		}
	}
	return best
}

// announcedAt returns the leg's current endpoint at ap, or nil.
func (lm *legMedia) announcedAt(ap netip.AddrPort) *endpoint {
	if i := lm.indexOf(ap); i >= 0 {
		return lm.current[i]
	}
	return nil
}

// manyEndpoints is the length of a leg's current endpoints from which they
// are found by a map, not scanned.
const manyEndpoints = 16

// indexOf returns the index in lm.current of the endpoint at ap, or -1.
func (lm *legMedia) indexOf(ap netip.AddrPort) int {
	if lm.at != nil {
		if i, ok := lm.at[ap]; ok {
			return i
		}
		return -1
	}
	for i, ep := range lm.current {
		if ep.ap == ap {
			return i
		}
	}
	return -1
}

// setEndpoint records that leg l announces ep at ap. Lists of endpoints
// per address change in constant time (a media server may receive
// thousands of open calls on one port).
func (c *Correlator) setEndpoint(l *Leg, ap netip.AddrPort, ep *endpoint) {
	c.epGen++
	ep.seq = c.epGen
	lm := l.media
	if i := lm.indexOf(ap); i >= 0 {
		old := lm.current[i]
		old.stale = true // re-announced (re-INVITE, hold): the newest description
		lm.current[i] = ep
		ep.idx = old.idx
		c.endpoints[ap][ep.idx] = ep
		return
	}
	lm.current = append(lm.current, ep)
	switch {
	case lm.at != nil:
		lm.at[ap] = len(lm.current) - 1
	case len(lm.current) >= manyEndpoints:
		lm.at = make(map[netip.AddrPort]int, 2*len(lm.current))
		for i, e := range lm.current {
			lm.at[e.ap] = i
		}
	}
	ep.idx = len(c.endpoints[ap])
	c.endpoints[ap] = append(c.endpoints[ap], ep)
}

// dropEndpoint removes ep from its address's list (swapping the last in).
func (c *Correlator) dropEndpoint(ep *endpoint) {
	list := c.endpoints[ep.ap]
	last := len(list) - 1
	if ep.idx > last || list[ep.idx] != ep {
		return
	}
	list[ep.idx] = list[last]
	list[ep.idx].idx = ep.idx
	list[last] = nil
	if last == 0 {
		delete(c.endpoints, ep.ap)
	} else {
		c.endpoints[ep.ap] = list[:last]
	}
}

// releaseMedia forgets a finished leg's endpoints and returns its streams.
func (c *Correlator) releaseMedia(l *Leg) []*media.Stream {
	if l.media == nil {
		return nil
	}
	for _, ep := range l.media.current {
		ep.stale = true
		c.dropEndpoint(ep)
	}
	if len(l.media.heard) > 0 {
		snapHeard(l)
	}
	if l.media.table == nil {
		return nil
	}
	l.media.table.Finish()
	l.media.streams = l.media.table.Streams()
	l.media.table = nil
	return l.media.streams
}

// onlyHosts is the one or two addresses every packet read so far was sent
// from or to: the capture was taken on that host (tcpdump on a PBX), or
// holds one conversation. Packets read are SIP messages and datagrams that
// may be media, each flow once, when endpointFor first looks it up. Most
// captures have none within a few packets (Correlator.hostsGone). It is
// replaced, never changed: a call keeps the one of when it finished, and
// may be built in another goroutine.
type onlyHosts struct {
	addrs [2]netip.Addr
	n     int
}

// has reports whether every packet so far involved a.
// has2 reports whether a message from src to dst leaves h as it is: it
// went between its two hosts, or to or from its one.
func (h *onlyHosts) has2(src, dst netip.Addr) bool {
	if h.n == 2 {
		return src == h.addrs[0] && dst == h.addrs[1] || src == h.addrs[1] && dst == h.addrs[0]
	}
	return src == h.addrs[0] || dst == h.addrs[0]
}

func (h *onlyHosts) has(a netip.Addr) bool {
	a = a.Unmap()
	return slices.Contains(h.addrs[:h.n], a)
}

// String is "192.0.2.1", or "192.0.2.1 or 192.0.2.2".
func (h *onlyHosts) String() string {
	if h.n == 1 {
		return h.addrs[0].String()
	}
	return h.addrs[0].String() + " or " + h.addrs[1].String()
}

// seeHosts narrows c.hosts to what a packet from src to dst involved.
func (c *Correlator) seeHosts(src, dst netip.Addr) {
	src, dst = src.Unmap(), dst.Unmap()
	h := c.hosts
	if h == nil {
		h = &onlyHosts{addrs: [2]netip.Addr{src, dst}, n: 2}
		if src == dst {
			h.n = 1
		}
		c.hosts = h
		return
	}
	n := 0
	var kept [2]netip.Addr
	for _, a := range h.addrs[:h.n] {
		if a == src || a == dst {
			kept[n] = a
			n++
		}
	}
	switch n {
	case h.n: // the usual case: nothing new
	case 0:
		c.hosts, c.hostsGone = nil, true
	default:
		// A new one: calls finished before hold the old (and a call is
		// built in another goroutine), so it is not changed in place.
		c.hosts = &onlyHosts{addrs: kept, n: n}
	}
}

// snapHeard copies, for finishing leg l, what the media checks read of
// the streams it heard from other legs (heardStream), as they were while
// l was up: a leg that a BYE ended stops hearing then (its last message's
// time), though the other leg's stream may go on. Streams that began
// after are dropped; one that went on is taken to have lasted till then.
func snapHeard(l *Leg) {
	var until time.Time
	if l.terminal {
		until = l.last
	}
	kept := l.media.heard[:0]
	for _, h := range l.media.heard {
		s := h.s
		if !until.IsZero() && s.First.After(until) {
			continue
		}
		cp := media.NewStream(s.Key)
		cp.PayloadType, cp.Codec, cp.ClockRate = s.PayloadType, s.Codec, s.ClockRate
		cp.First, cp.FirstN, cp.Last, cp.LastN = s.First, s.FirstN, s.Last, s.LastN
		cp.Packets, cp.MaxPause = s.Packets, s.MaxPause
		if !until.IsZero() && cp.Last.After(until) {
			cp.Last = until
		}
		h.snap = cp
		kept = append(kept, h)
	}
	clear(l.media.heard[len(kept):])
	l.media.heard = kept
}

// Orphans returns the RTP streams no SDP announced (with
// Options.RTPHeuristic), finished, in order of first packet.
func (c *Correlator) Orphans() []*media.Stream {
	if c.orphans == nil {
		return nil
	}
	c.orphans.Finish()
	return c.orphans.Streams()
}

// Media checks, run on a finished call when media analysis is on.

const (
	lossWarn, lossError = 1.0, 5.0 // percent
	jitterWarn          = 30.0     // milliseconds, max
	// stoppedGap is the least a direction must fall silent while the
	// other goes on before it counts as stopped (one-way audio), and
	// stopMargin how many times longer than its longest pause before
	// that (Stream.MaxPause): a sender with silence suppression may send
	// nothing while its user is quiet, or only a comfort noise update
	// (RFC 3389) or a keepalive every few seconds (PJSIP: one frame every
	// 5 s), and a call can end between two of them. Silent for twice what
	// it had ever been, it has missed at least one more of what it showed
	// it sends; a direction with no silence suppression, whose packets
	// come every 20 ms, is held to the 3 s. stoppedMost caps it: a pause
	// that was a hold (the SDP said not to send) must not hide a
	// direction that never came back after the resume.
	stoppedGap  = 3 * time.Second
	stopMargin  = 2
	stoppedMost = 12 * time.Second
	// minTalk is how long an answered call must last before missing media
	// means something (a call hung up at once sends little or none).
	minTalk = 2 * time.Second
)

func checkMedia(c *Call, captureHasMedia bool, captureLoss string) []Finding {
	if c.Kind != KindCall {
		return nil
	}
	l := c.Legs[0]
	streams := rtpStreams(c)
	var fs []Finding
	for _, s := range streams {
		if s.Packets < 2 {
			continue
		}
		what := fmt.Sprintf("RTP %s → %s (SSRC %#08x, %s)", s.Key.Src, s.Key.Dst, s.Key.SSRC, s.Codec)
		if s.LostPct > lossWarn {
			sev := Warning
			if s.LostPct > lossError {
				sev = Error
			}
			detail := fmt.Sprintf("%s lost %d of %d packets (%.1f%%)", what, s.Lost, s.Expected, s.LostPct)
			if n := min(s.MalformedLost, s.Lost); n > 0 {
				// Up to: a malformed packet past the stream's last sequence
				// number, or a copy of one, is no loss.
				detail += fmt.Sprintf("; up to %d of them arrived but not readable as RTP (the first malformed is packet %d), the sender's doing, not the network's", n, s.MalformedN)
			}
			if captureLoss != "" {
				detail += "; but " + captureLoss + ", so some of it may be the capture's, not the network's"
			}
			fs = append(fs, Finding{Rule: "rtp-loss", Severity: sev, Packets: []int{s.FirstN, s.LastN}, Detail: detail, RFC: "RFC 3550 §6.4.1"})
		}
		if s.JitterMax > jitterWarn {
			fs = append(fs, Finding{Rule: "rtp-jitter", Severity: Warning, Packets: []int{s.FirstN, s.LastN},
				Detail: fmt.Sprintf("%s jitter up to %.1f ms (mean %.1f ms)", what, s.JitterMax, s.JitterMean), RFC: "RFC 3550 §6.4.1"})
		}
	}
	if len(streams) > 0 {
		fs = append(fs, checkCodecs(c, streams)...) // early media of a call not answered too
	}
	// The two parties: the caller (From-tag of the first INVITE) and the
	// one that answered (To-tag of the first 2xx); their first media line.
	callerTag, answerTag, ok := callParties(l)
	if !ok {
		return fs
	}
	a, b := announcedBy(l, callerTag, answerTag) // none when built before any media (settleSDP)
	c.mediaExpected = c.Answer >= 0 && exchangedSDP(l, callerTag, answerTag)
	if a == nil || b == nil || c.Answer < 0 {
		return fs // no offer and answer both with media: nothing to expect
	}
	if !captureHasMedia {
		// No RTP anywhere in the capture so far: most likely captured with
		// a SIP-only filter. Blaming every call for it helps nobody; the
		// command says it once (Stats.MediaExpected, Stats.RTPLike). (No
		// streams either, so nothing below would find anything.)
		return fs
	}
	talked := c.Duration >= minTalk || c.Duration < 0 && c.End.Sub(c.Start)-c.Answer >= minTalk
	toA, toB := heardBy(streams, a, b), heardBy(streams, b, a)
	// RTP another call lists that flowed between this leg's parties'
	// addresses while it was up is heard too (heardStream), by the party
	// that announced where it went.
	heard := heardElsewhere(c, l)
	for _, h := range heard {
		switch h.to {
		case callerTag:
			toA = append(toA, h.snap)
		case answerTag:
			toB = append(toB, h.snap)
		}
	}
	switch {
	case len(streams) == 0 && len(heard) == 0 && talked:
		fs = append(fs, noRTP(c, a, b))
	case talked && expectsToReceive(a) && len(toA) == 0 && len(toB) > 0:
		fs = append(fs, listedElsewhere(oneWay(a, toB), heard, toB))
	case talked && expectsToReceive(b) && len(toB) == 0 && len(toA) > 0:
		fs = append(fs, listedElsewhere(oneWay(b, toA), heard, toA))
	case len(toA) > 0 && len(toB) > 0:
		// Both ways: did one stop while the other went on, for longer
		// than it had shown it may fall silent (stopMargin)?
		lastA, lastB := lastOf(toA), lastOf(toB)
		switch {
		case expectsToReceive(a) && lastB.Sub(lastA) > stopAfter(toA):
			fs = append(fs, listedElsewhere(stopped(a, toA, lastA, lastB), heard, toA, toB))
		case expectsToReceive(b) && lastA.Sub(lastB) > stopAfter(toB):
			fs = append(fs, listedElsewhere(stopped(b, toB, lastB, lastA), heard, toA, toB))
		}
	}
	// RTP arriving at an announced port from another address than the one
	// the sender announced: NAT, or a media server in between. Not when both
	// use ICE: its checks chose the path (RFC 8445), and media from any
	// candidate, or from a peer-reflexive address they found, is ICE at
	// work. (When only one offered it, ICE is not used, §6.1.1: media goes
	// to and from c=.)
	for _, pair := range [][2]*endpoint{{a, b}, {b, a}} {
		if pair[0].md.ICE && pair[1].md.ICE {
			continue
		}
		for _, s := range streamsTo(streams, pair[1]) {
			if s.Key.Src.Addr() != pair[0].ap.Addr() {
				fs = append(fs, Finding{Rule: "media-address-mismatch", Severity: Warning, Packets: []int{s.FirstN},
					Detail: fmt.Sprintf("RTP to %s comes from %s, but the SDP announced %s: NAT or a media relay", s.Key.Dst, s.Key.Src, pair[0].ap.Addr()),
					RFC:    "RFC 3264 §5"})
				break
			}
		}
	}
	return fs
}

// checkCodecs finds RTP sent with a payload type its receiver never listed
// in its SDP (RFC 3264 §5.1: a party sends only formats the other listed,
// with the other's numbers): the receiver may not decode it, as when a
// caller ignores the codec the answer chose, or sends DTMF events under
// its own number. An error when the stream's main type is unlisted and is
// audio, a warning when only another is, or the stream is events alone.
// What the receiver listed is every type of that media line (by its place
// among the m= lines) in every SDP it sent during the call, so a codec
// changed by a re-INVITE is not taken for a mismatch (and a sender that
// keeps the old one after it is not caught). Comfort noise (13, 19),
// which many endpoints send unlisted, is not held against them, nor a
// stream of fewer than minCodecPackets or with no payload at all (NAT
// keepalives, RFC 6263 §4.6, are RTP with an unknown type). Streams to an
// address no SDP of the call names (tied by their source) are not
// checked: their receiver is unknown.
func checkCodecs(c *Call, streams []*media.Stream) []Finding {
	var fs []Finding
	for _, s := range streams {
		if s.Packets < minCodecPackets || s.PayloadBytes == 0 {
			continue
		}
		p, ep := receiverOf(c, s.Key.Dst)
		if p == nil {
			continue
		}
		listedHere, seen := p.lines[ep.line], s.PayloadTypeSet()
		unlisted := ptSet{seen[0] &^ listedHere[0] &^ comfortNoise, seen[1] &^ listedHere[1]}
		if unlisted == (ptSet{}) {
			continue // the usual case, in two words
		}
		var bad []string
		main := false
		sender, _ := receiverOf(c, s.Key.Src)
		for pt := range uint8(128) {
			if !unlisted.has(pt) {
				continue
			}
			label, codec := payloadName(s, pt, sender)
			bad = append(bad, label)
			main = main || pt == s.PayloadType && !strings.EqualFold(codec, "telephone-event")
		}
		sev, what := Warning, "may not be understood"
		if main {
			sev, what = Error, "cannot be decoded"
		}
		var listed []string
		for i, pt := range ep.md.Payloads {
			listed = append(listed, fmt.Sprintf("%d %s", pt, ep.md.Codecs[i]))
		}
		fs = append(fs, Finding{Rule: "codec-mismatch", Severity: sev, Packets: []int{s.FirstN},
			Detail: fmt.Sprintf("RTP %s → %s (SSRC %#08x) carries %s, which its receiver's SDP did not list (it listed %s): it %s",
				s.Key.Src, s.Key.Dst, s.Key.SSRC, strings.Join(bad, ", "), strings.Join(listed, ", "), what),
			RFC: "RFC 3264 §5.1"})
	}
	return fs
}

// minCodecPackets is the fewest packets a stream needs for checkCodecs:
// a stray packet or two of a type nobody listed decodes nothing wrong.
const minCodecPackets = 10

// comfortNoise is payload types 13 and 19 (RFC 3389's and its old
// number) as bits of a ptSet's first word.
const comfortNoise = 1<<13 | 1<<19

// receiverOf returns the party of c's legs one of whose current media
// lines receives at ap, and that line's endpoint; nil when none does.
func receiverOf(c *Call, ap netip.AddrPort) (*partyEndpoints, *endpoint) {
	for _, l := range c.Legs {
		if l.media == nil {
			continue
		}
		for i := range l.media.announced {
			p := &l.media.announced[i]
			for _, ep := range p.eps {
				if ep.md.receivesAt(ap) {
					return p, ep
				}
			}
		}
	}
	return nil, nil
}

// payloadName is "payload type N (NAME)", named as the stream knows it,
// else by its sender's SDP (sender may be nil), else by RFC 3551's static
// table; "payload type N" when nothing names it. name is NAME, or "".
func payloadName(s *media.Stream, pt uint8, sender *partyEndpoints) (label, name string) {
	if pt == s.PayloadType {
		name = s.Codec
	}
	if name == "" && sender != nil {
		for _, ep := range sender.eps {
			for i, p := range ep.md.Payloads {
				if p == int(pt) && ep.md.receivesAt(s.Key.Src) {
					name = ep.md.Codecs[i]
				}
			}
		}
	}
	if name == "" {
		name, _ = media.StaticPayload(pt)
	}
	if name == "" {
		return fmt.Sprintf("payload type %d", pt), ""
	}
	return fmt.Sprintf("payload type %d (%s)", pt, name), name
}

// announcedBy returns the first audio endpoint the caller and the answerer
// (callParties) announced, or nil.
func announcedBy(l *Leg, callerTag, answerTag string) (a, b *endpoint) {
	if l.media == nil {
		return nil, nil
	}
	if eps := l.media.announcedByParty(callerTag); len(eps) > 0 {
		a = eps[0]
	}
	if eps := l.media.announcedByParty(answerTag); len(eps) > 0 && answerTag != "" {
		b = eps[0]
	}
	return a, b
}

// callParties returns the caller's tag (From-tag of the first INVITE) and
// the answerer's (To-tag of the first 2xx to it, "" if none); ok is false
// when the leg has no INVITE request.
func callParties(l *Leg) (callerTag, answerTag string, ok bool) {
	var buf [4]*Transaction
	invites := initialTxs(l, "INVITE", buf[:])
	if len(invites) == 0 || invites[0].Request == nil {
		return "", "", false
	}
	callerTag = invites[0].Request.FromTag
	for _, tx := range invites {
		if r := firstResponse(tx, 200, 299); r != nil {
			answerTag = r.ToTag
			break
		}
	}
	return callerTag, answerTag, true
}

func expectsToReceive(e *endpoint) bool {
	return !e.md.Hold && (e.md.Direction == "sendrecv" || e.md.Direction == "recvonly")
}

// streamsTo returns the streams sent to e's media line: to its address, or
// to one of its ICE candidates.
func streamsTo(ss []*media.Stream, e *endpoint) []*media.Stream {
	var out []*media.Stream
	for _, s := range ss {
		if e.md.receivesAt(s.Key.Dst) {
			out = append(out, s)
		}
	}
	return out
}

// heardBy returns the streams the party that announced to received from
// the one that announced from: those sent to to's media line, and, when
// both use ICE, those sent from from's line to anywhere else: ICE's checks
// may have chosen an address of to's that no SDP announced (peer-reflexive,
// RFC 8445 §7.2.5.3.1), and ICE media is sent from where it is received
// (§12), so from's line is where it leaves.
func heardBy(ss []*media.Stream, to, from *endpoint) []*media.Stream {
	ice := to.md.ICE && from.md.ICE
	var out []*media.Stream
	for _, s := range ss {
		if to.md.receivesAt(s.Key.Dst) || ice && from.md.receivesAt(s.Key.Src) {
			out = append(out, s)
		}
	}
	return out
}

// noRTP is the finding of an answered call with agreed SDP of which no
// RTP was seen: an error, unless every packet of the capture involved a
// host (or two) that neither party's media address is on (onlyHosts).
// Then the capture was taken where the media does not pass, and cannot
// tell whether it flowed (as a capture with no RTP at all cannot, which
// gets a note from the command instead of a finding per call).
func noRTP(c *Call, a, b *endpoint) Finding {
	f := Finding{Rule: "no-rtp", Severity: Error, Packets: lastPacket(c),
		Detail: "the call was answered and SDP was agreed, but no RTP was seen in either direction", RFC: "RFC 3264 §5"}
	if h := c.onlyHosts; h != nil && !h.has(a.ap.Addr()) && !h.has(b.ap.Addr()) {
		f.Severity = Info
		f.Detail = fmt.Sprintf("no RTP was seen, but the capture cannot show this call's media: every packet it held until the call ended "+
			"was sent or received by %s, and the SDP put the media between %s and %s, which do not pass there", h, a.ap, b.ap)
	}
	return f
}

// heardElsewhere returns the streams leg l, the call's first, heard that
// another call lists (heardStream), but for those c lists itself: legs
// linked after the stream was shared.
func heardElsewhere(c *Call, l *Leg) []heardStream {
	if l.media == nil || len(l.media.heard) == 0 {
		return nil
	}
	var out []heardStream
	for _, h := range l.media.heard {
		if h.snap != nil && !slices.Contains(c.Streams, h.s) {
			out = append(out, h)
		}
	}
	return out
}

// listedElsewhere adds to a finding drawn from streams some of which
// another call lists (heard) where to find them.
func listedElsewhere(f Finding, heard []heardStream, used ...[]*media.Stream) Finding {
	var owners []string
	for _, h := range heard {
		for _, ss := range used {
			if slices.Contains(ss, h.snap) && !slices.Contains(owners, h.owner) {
				owners = append(owners, h.owner)
			}
		}
	}
	if len(owners) > 0 {
		f.Detail += fmt.Sprintf("; this RTP is listed under Call-ID %s, whose SDP announced the same addresses", strings.Join(owners, ", "))
	}
	return f
}

// stopAfter is how long the direction whose streams are ss must fall
// silent, while the other goes on, to have stopped: stoppedGap, or
// stopMargin times the longest pause of its stream heard last, if longer,
// and stoppedMost at most.
func stopAfter(ss []*media.Stream) time.Duration {
	var last *media.Stream
	for _, s := range ss {
		if last == nil || s.Last.After(last.Last) {
			last = s
		}
	}
	return min(stoppedMost, max(stoppedGap, stopMargin*last.MaxPause))
}

func lastOf(ss []*media.Stream) time.Time {
	var t time.Time
	for _, s := range ss {
		if s.Last.After(t) {
			t = s.Last
		}
	}
	return t
}

func oneWay(to *endpoint, heard []*media.Stream) Finding {
	var n []int
	for _, s := range heard {
		n = append(n, s.FirstN)
	}
	where := to.ap.String()
	if k := otherCandidates(to.md, to.ap); k > 0 {
		where += fmt.Sprintf(" (nor any of its %d ICE candidates)", k)
	}
	return Finding{Rule: "one-way-audio", Severity: Error, Packets: n,
		Detail: fmt.Sprintf("RTP flowed only one way: %s received nothing, though its SDP expected audio (%s)",
			where, strings.Join(to.md.Codecs, ",")),
		RFC: "RFC 3264 §5"}
}

// otherCandidates counts md's RTP candidates other than ap.
func otherCandidates(md *Media, ap netip.AddrPort) int {
	n := 0
	for _, c := range md.Candidates {
		if c.Component == 1 && c.Addr != ap {
			n++
		}
	}
	return n
}

func stopped(to *endpoint, ss []*media.Stream, last, other time.Time) Finding {
	var lastS *media.Stream
	for _, s := range ss {
		if lastS == nil || s.LastN > lastS.LastN {
			lastS = s
		}
	}
	return Finding{Rule: "one-way-audio", Severity: Error, Packets: []int{lastS.LastN},
		Detail: fmt.Sprintf("RTP to %s stopped %.1f s before the other direction did, while the call was up (%s)",
			to.ap, other.Sub(last).Seconds(), pauseText(lastS)),
		RFC: "RFC 3264 §5"}
}

// pauseText says how long s had paused at most before it stopped, in
// milliseconds under a second, else in tenths of seconds.
func pauseText(s *media.Stream) string {
	switch d := s.MaxPause; {
	case s.Packets < 2:
		return "it had sent a single packet"
	case d < time.Second:
		return fmt.Sprintf("before that it had never paused longer than %d ms", d.Milliseconds())
	default:
		return fmt.Sprintf("before that it had never paused longer than %.1f s", d.Seconds())
	}
}
