package media

import (
	"encoding/binary"
	"net/netip"
)

// HeuristicFlows bounds the UDP flows a Heuristic remembers.
const HeuristicFlows = 4096

// HeuristicConfirm is the number of packets of one SSRC, each advancing the
// sequence number and not moving the timestamp back, that confirm a flow as
// RTP.
const HeuristicConfirm = 3

// Heuristic finds RTP on UDP flows that no SDP announced (--rtp-heuristic).
// A packet passes the per-packet test when it is version 2, parses as RTP,
// is not RTCP (RFC 5761 §4: payload types 72-76 with the marker bit are
// RTCP's 200-204) and has a payload type that is static in RFC 3551 or
// dynamic (96-127). A flow is confirmed by HeuristicConfirm such packets of
// one SSRC in a row, each 1 to 10 sequence numbers after the previous and
// its timestamp at most 2^22 ahead; from then on every packet on the flow
// that passes the per-packet test is RTP, whatever its SSRC.
//
// The packets before confirmation are not reported, so a stream found this
// way shows HeuristicConfirm−1 packets fewer than with SDP (or than
// Wireshark's stateless heuristic, which accepts more junk). Memory is
// bounded: at most HeuristicFlows flows are remembered, and when full, a
// flow not seen since the clock hand last passed it is forgotten (CLOCK,
// an approximation of least recently used). Packet times play no part.
//
// The zero value is ready to use. A Heuristic belongs to one goroutine.
type Heuristic struct {
	index map[flowKey]int32
	flows []flowState
	hand  int
}

type flowKey struct{ src, dst netip.AddrPort }

type flowState struct {
	key       flowKey
	ssrc      uint32
	ts        uint32
	seq       uint16
	count     uint8
	confirmed bool
	used      bool // seen again since it was added or the clock hand passed
}

// plausiblePT marks the payload types the heuristic accepts: RFC 3551's
// static audio (0, 3-18) and video (25, 26, 28, 31-34), the old comfort
// noise 19, and the dynamic range 96-127.
var plausiblePT = func() (m [128]bool) {
	for _, pt := range []int{0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 25, 26, 28, 31, 32, 33, 34} {
		m[pt] = true
	}
	for pt := 96; pt < 128; pt++ {
		m[pt] = true
	}
	return m
}()

// looksRTP is the per-packet test: version 2, a plausible payload type,
// and a header that fits (CSRCs, extension, padding).
func looksRTP(b []byte) bool {
	if len(b) < 12 || b[0]>>6 != 2 || !plausiblePT[b[1]&0x7f] {
		return false
	}
	off := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 {
		if off+4 > len(b) {
			return false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	if off > len(b) {
		return false
	}
	if b[0]&0x20 != 0 {
		if n := int(b[len(b)-1]); n == 0 || n > len(b)-off {
			return false
		}
	}
	return true
}

// Looks reports whether payload, sent from src to dst, is RTP on a
// confirmed flow. It is stateful: call it for every UDP datagram that is
// a candidate, in capture order.
func (h *Heuristic) Looks(src, dst netip.AddrPort, payload []byte) bool {
	if !looksRTP(payload) {
		return false
	}
	seq := binary.BigEndian.Uint16(payload[2:])
	ts := binary.BigEndian.Uint32(payload[4:])
	ssrc := binary.BigEndian.Uint32(payload[8:])
	k := flowKey{src, dst}
	if h.index == nil {
		h.index = make(map[flowKey]int32)
	}
	i, ok := h.index[k]
	if !ok {
		i = h.slot()
		// Not marked used: a flow earns its place with a second packet,
		// so one-packet junk is what the clock hand evicts first.
		h.flows[i] = flowState{key: k, ssrc: ssrc, ts: ts, seq: seq, count: 1}
		h.index[k] = i
		return false
	}
	f := &h.flows[i]
	f.used = true
	if f.confirmed {
		return true
	}
	if dseq, dts := seq-f.seq, ts-f.ts; ssrc == f.ssrc && dseq >= 1 && dseq <= 10 && dts < 1<<22 {
		f.count++
	} else {
		f.ssrc, f.count = ssrc, 1
	}
	f.seq, f.ts = seq, ts
	if f.count >= HeuristicConfirm {
		f.confirmed = true
		return true
	}
	return false
}

// slot returns a free index into flows, evicting a flow when all are used.
func (h *Heuristic) slot() int32 {
	if len(h.flows) < HeuristicFlows {
		h.flows = append(h.flows, flowState{})
		return int32(len(h.flows) - 1)
	}
	for {
		f := &h.flows[h.hand]
		i := h.hand
		h.hand = (h.hand + 1) % len(h.flows)
		if f.used {
			f.used = false
			continue
		}
		delete(h.index, f.key)
		return int32(i)
	}
}

// Len returns the number of flows remembered.
func (h *Heuristic) Len() int { return len(h.index) }
