package media

import (
	"net/netip"
	"testing"
)

func TestHeuristic(t *testing.T) {
	voiceBytes := func(n int, ssrc uint32, step uint16) [][]byte {
		var out [][]byte
		for i := range n {
			out = append(out, rtpBytes(pkt{seq: 7 + uint16(i)*step, ts: 1000 + uint32(160*i), pt: 0, payload: make([]byte, 160)}, ssrc))
		}
		return out
	}
	rtcp := rtcpSR(5, 1, 2, 3, 4)
	stun := []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	pt72 := rtpBytes(pkt{seq: 1, pt: 72}, 1)
	var changing [][]byte
	for i := range 5 {
		changing = append(changing, rtpBytes(pkt{seq: uint16(i), ts: uint32(160 * i)}, uint32(i)))
	}
	tests := []struct {
		name string
		ps   [][]byte
		want []bool
	}{
		{"voice confirms on the third", voiceBytes(5, 9, 1), []bool{false, false, true, true, true}},
		{"a gap of a few is fine", voiceBytes(4, 9, 3), []bool{false, false, true, true}},
		{"repeated sequence numbers never confirm", voiceBytes(4, 9, 0), []bool{false, false, false, false}},
		{"a new SSRC each packet never confirms", changing, []bool{false, false, false, false, false}},
		{"RTCP is not RTP", [][]byte{rtcp, rtcp, rtcp, rtcp}, []bool{false, false, false, false}},
		{"STUN is not RTP", [][]byte{stun, stun, stun}, []bool{false, false, false}},
		{"payload type 72 is not RTP", [][]byte{pt72, pt72, pt72}, []bool{false, false, false}},
		{"short", [][]byte{{0x80, 0}, {0x80, 0}, {0x80, 0}}, []bool{false, false, false}},
		{"confirmed flow takes a new SSRC", append(voiceBytes(3, 9, 1), voiceBytes(1, 10, 1)...), []bool{false, false, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Heuristic
			for i, p := range tt.ps {
				if got := h.Looks(addrA, addrB, p); got != tt.want[i] {
					t.Errorf("packet %d: Looks = %v, want %v", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestHeuristicBounded(t *testing.T) {
	var h Heuristic
	p := rtpBytes(pkt{seq: 1, ts: 1}, 1)
	// Confirm one busy flow.
	for i := range 3 {
		h.Looks(addrA, addrB, rtpBytes(pkt{seq: uint16(i), ts: uint32(160 * i)}, 1))
	}
	for i := range 3 * HeuristicFlows {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 4000)
		h.Looks(src, addrB, p)
		if !h.Looks(addrA, addrB, p) {
			t.Fatalf("the busy flow was forgotten after %d others", i)
		}
		if h.Len() > HeuristicFlows {
			t.Fatalf("%d flows remembered", h.Len())
		}
	}
}
