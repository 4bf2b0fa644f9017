package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/sipflow/sipflow/decode"
)

// FuzzTableAdd feeds a sequence of datagrams to a Table (and a Heuristic):
// the input is split into packets, each a length byte, a flags byte (bit 0:
// give it to AddRTCP instead of AddRTP, bits 1-2: which of four flows,
// bits 3-7: milliseconds since the previous packet) and the payload. The
// properties: nothing panics, and no counter a stream reports goes
// negative, except LostRaw and FarCumulativeLost, which may.
func FuzzTableAdd(f *testing.F) {
	seq := func(ps ...[]byte) []byte {
		var out []byte
		for i, p := range ps {
			flags := byte(20 << 3)
			if len(p) > 1 && p[1] >= 200 && p[1] <= 204 {
				flags |= 1
			}
			flags |= byte(i%2) << 1
			out = append(out, byte(len(p)), flags)
			out = append(out, p...)
		}
		return out
	}
	var voicePs [][]byte
	for _, p := range voice(6, 65533, 0xfffffe00) {
		p.payload = p.payload[:8]
		voicePs = append(voicePs, rtpBytes(p, 0x1234))
	}
	// A stream across the sequence and timestamp wraps.
	f.Add(seq(voicePs...))
	// DTMF with its three end packets, a duplicate, RTCP about the stream.
	f.Add(seq(voicePs[0], rtpBytes(pkt{seq: 65534, ts: 0xfffffe00, pt: 101, payload: event(5, false, 160)}, 0x1234),
		rtpBytes(pkt{seq: 65535, ts: 0xfffffe00, pt: 101, payload: event(5, true, 800)}, 0x1234),
		rtpBytes(pkt{seq: 65535, ts: 0xfffffe00, pt: 101, payload: event(5, true, 800)}, 0x1234),
		rtcpSR(0x1234, 0x0102030405060708, 1, 2, 3),
		rtcpRR(0x99, decode.RTCPReport{SSRC: 0x1234, FractionLost: 3, CumulativeLost: -2, HighestSeq: 65535, Jitter: 40, LSR: 0x03040506, DLSR: 100})))
	// Junk: short, bad version, RTCP that lies about its length.
	f.Add(seq([]byte{0x80}, []byte{0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, []byte{0x81, 201, 0, 40, 1, 2, 3, 4}))

	f.Fuzz(func(t *testing.T, data []byte) {
		tab := NewTable()
		tab.SetLimit(8)
		var h Heuristic
		flows := [4]netip.AddrPort{addrA, addrB, netip.MustParseAddrPort("[2001:db8::1]:5004"), netip.MustParseAddrPort("10.0.0.1:1")}
		at := t0
		for n := 1; len(data) >= 2; n++ {
			size, flags := int(data[0]), data[1]
			data = data[2:]
			size = min(size, len(data))
			payload := data[:size]
			data = data[size:]
			at = at.Add(time.Duration(flags>>3) * time.Millisecond)
			src, dst := flows[flags>>1&3], flows[(flags>>1+1)&3]
			h.Looks(src, dst, payload)
			if flags&1 != 0 {
				tab.AddRTCP(n, at, src, dst, payload)
			} else {
				tab.AddRTP(n, at, src, dst, payload)
			}
		}
		tab.Finish()
		for _, s := range tab.Streams() {
			for what, v := range map[string]int{
				"Packets": s.Packets, "Expected": s.Expected, "Lost": s.Lost, "Duplicates": s.Duplicates,
				"OutOfOrder": s.OutOfOrder, "SeqResets": s.SeqResets, "Markers": s.Markers,
				"ReportsSeen": s.ReportsSeen, "SRs": s.SRs, "MaxDeltaN": s.MaxDeltaN,
			} {
				if v < 0 {
					t.Errorf("%s = %d", what, v)
				}
			}
			if s.Packets == 0 || s.Lost > s.Expected || s.LostPct < 0 || s.LostPct > 100 ||
				s.JitterMax < 0 || s.JitterMean < 0 || s.MaxDelta < 0 || s.RTT < 0 ||
				s.MOS < 0 || s.MOS > 4.5 || s.RFactor < 0 || s.RFactor > 100 || len(s.Events) > MaxEvents {
				t.Errorf("stream %+v", s)
			}
			for _, e := range s.Events {
				if e.Duration < 0 || e.N <= 0 {
					t.Errorf("event %+v", e)
				}
			}
		}
	})
}
