package store

import (
	"encoding/binary"
	"net/netip"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/media"
)

// PacketSet says which packets of a capture a set of calls needs: those
// that carried their SIP messages (by packet number: a bit each, so a
// capture of millions of packets costs a few hundred kilobytes), and the
// RTP and RTCP of their streams (by 5-tuple and SSRC, within the packet
// numbers the stream spans).
//
// A SIP message reassembled from several TCP segments or IP fragments
// needs them all (correlate.Message.Packets).
type PacketSet struct {
	sip  []uint64
	nsip int
	// rtp: every stream by 5-tuple and SSRC (a call whose SSRC changes
	// every few packets has thousands on one 5-tuple); fax: the T.38
	// streams, by 5-tuple alone. Each list in the order they were added.
	rtp map[streamKey][]wantStream
	fax map[flowKey][]wantStream
}

type flowKey struct{ src, dst netip.AddrPort }

type streamKey struct {
	flowKey
	ssrc uint32
}

type wantStream struct {
	id          int64
	first, last int // the packet numbers it spans
}

// NewPacketSet returns an empty set.
func NewPacketSet() *PacketSet {
	return &PacketSet{rtp: make(map[streamKey][]wantStream), fax: make(map[flowKey][]wantStream)}
}

// AddSIP adds the packet that carried a SIP message.
func (s *PacketSet) AddSIP(n int) {
	if n <= 0 {
		return
	}
	w := n >> 6
	for w >= len(s.sip) {
		s.sip = append(s.sip, 0)
	}
	if s.sip[w]&(1<<(n&63)) == 0 {
		s.sip[w] |= 1 << (n & 63)
		s.nsip++
	}
}

// AddStream adds the packets of an RTP stream; id is what Stream reports
// for them.
func (s *PacketSet) AddStream(id int64, st *media.Stream) {
	w := wantStream{id: id, first: st.FirstN, last: st.LastN}
	k := streamKey{flowKey{st.Key.Src, st.Key.Dst}, st.Key.SSRC}
	s.rtp[k] = append(s.rtp[k], w)
	if st.Fax != nil { // T.38: every datagram of the flow in the span, UDPTL has no SSRC
		s.fax[k.flowKey] = append(s.fax[k.flowKey], w)
	}
}

// AddCall adds a call's messages and streams, numbering its streams from
// base+1 in order.
func (s *PacketSet) AddCall(c *correlate.Call, base int64) {
	for _, m := range c.Messages() {
		for _, n := range m.Packets() {
			s.AddSIP(n)
		}
	}
	for i, st := range c.Streams {
		s.AddStream(base+int64(i)+1, st)
	}
}

// SIP reports whether packet n carried a wanted SIP message.
func (s *PacketSet) SIP(n int) bool {
	w := n >> 6
	return n > 0 && w < len(s.sip) && s.sip[w]&(1<<(n&63)) != 0
}

// SIPCount is the number of packets SIP would say yes to.
func (s *PacketSet) SIPCount() int { return s.nsip }

// HasStreams reports whether any RTP stream is wanted: only then must
// every UDP datagram be looked at.
func (s *PacketSet) HasStreams() bool { return len(s.rtp) > 0 }

// Stream reports which wanted stream the UDP datagram of packet n belongs
// to: any datagram on a T.38 stream's 5-tuple within its packet numbers;
// RTP with the stream's 5-tuple and SSRC, or RTCP from the stream's
// source about itself (its sender SSRC), on the same 5-tuple (RFC 5761
// multiplexing) or on the next ports up (RFC 3550 §11), within the packet
// numbers the stream's RTP spans.
func (s *PacketSet) Stream(n int, src, dst netip.AddrPort, payload []byte) (int64, bool) {
	if len(s.rtp) == 0 {
		return 0, false
	}
	for _, w := range s.fax[flowKey{src, dst}] {
		if n >= w.first && n <= w.last {
			return w.id, true // T.38 (UDPTL)
		}
	}
	if len(payload) < 8 || payload[0]>>6 != 2 {
		return 0, false
	}
	if decode.LooksLikeRTCP(payload) {
		ssrc := binary.BigEndian.Uint32(payload[4:8])
		if id, ok := s.match(flowKey{src, dst}, ssrc, n); ok {
			return id, true
		}
		if src.Port() > 0 && dst.Port() > 0 {
			return s.match(flowKey{netip.AddrPortFrom(src.Addr(), src.Port()-1), netip.AddrPortFrom(dst.Addr(), dst.Port()-1)}, ssrc, n)
		}
		return 0, false
	}
	if len(payload) < 12 {
		return 0, false
	}
	return s.match(flowKey{src, dst}, binary.BigEndian.Uint32(payload[8:12]), n)
}

func (s *PacketSet) match(k flowKey, ssrc uint32, n int) (int64, bool) {
	for _, w := range s.rtp[streamKey{k, ssrc}] {
		if n >= w.first && n <= w.last {
			return w.id, true
		}
	}
	return 0, false
}
