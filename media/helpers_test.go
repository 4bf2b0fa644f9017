package media

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/sipflow/sipflow/decode"
)

var (
	t0    = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	addrA = netip.MustParseAddrPort("192.0.2.1:40000")
	addrB = netip.MustParseAddrPort("198.51.100.2:50000")
)

// pkt is one synthesized RTP packet and its arrival, in ms after t0.
type pkt struct {
	seq     uint16
	ts      uint32
	pt      uint8
	marker  bool
	at      float64
	payload []byte
}

// rtpBytes encodes p as an RTP packet of source ssrc.
func rtpBytes(p pkt, ssrc uint32) []byte {
	b := make([]byte, 12, 12+len(p.payload))
	b[0] = 0x80
	b[1] = p.pt
	if p.marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], p.seq)
	binary.BigEndian.PutUint32(b[4:], p.ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, p.payload...)
}

func msAfter(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }

// feed adds packets to a fresh stream through Stream.AddRTP, numbering
// them from 1.
func feed(ps []pkt) *Stream {
	s := NewStream(StreamKey{Src: addrA, Dst: addrB, SSRC: 0x1234})
	for i, p := range ps {
		r := decode.RTP{Version: 2, PayloadType: p.pt, Marker: p.marker, Seq: p.seq, Timestamp: p.ts, SSRC: 0x1234, Payload: p.payload}
		s.AddRTP(i+1, msAfter(p.at), &r)
	}
	s.Finish()
	return s
}

// voice returns n PCMA packets 20 ms apart, sequence numbers from seq0,
// timestamps from ts0, arriving on time.
func voice(n int, seq0 uint16, ts0 uint32) []pkt {
	ps := make([]pkt, n)
	for i := range ps {
		ps[i] = pkt{seq: seq0 + uint16(i), ts: ts0 + uint32(160*i), pt: 8, at: float64(20 * i), payload: make([]byte, 160)}
	}
	return ps
}

// without drops the packets whose sequence number is in seqs.
func without(ps []pkt, seqs ...uint16) []pkt {
	var out []pkt
next:
	for _, p := range ps {
		for _, s := range seqs {
			if p.seq == s {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// event is an RFC 4733 payload.
func event(code uint8, end bool, dur uint16) []byte {
	b := []byte{code, 10, 0, 0}
	if end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], dur)
	return b
}

// rtcpRR encodes a receiver report from ssrc with one report block.
func rtcpRR(ssrc uint32, r decode.RTCPReport) []byte {
	b := []byte{0x81, decode.RTCPTypeRR, 0, 7}
	b = binary.BigEndian.AppendUint32(b, ssrc)
	return appendReport(b, r)
}

// rtcpSR encodes a sender report from ssrc without report blocks.
func rtcpSR(ssrc uint32, ntp uint64, rtpTime, packets, octets uint32) []byte {
	b := []byte{0x80, decode.RTCPTypeSR, 0, 6}
	b = binary.BigEndian.AppendUint32(b, ssrc)
	b = binary.BigEndian.AppendUint64(b, ntp)
	b = binary.BigEndian.AppendUint32(b, rtpTime)
	b = binary.BigEndian.AppendUint32(b, packets)
	return binary.BigEndian.AppendUint32(b, octets)
}

func appendReport(b []byte, r decode.RTCPReport) []byte {
	b = binary.BigEndian.AppendUint32(b, r.SSRC)
	lost := uint32(r.CumulativeLost) & 0xffffff
	b = binary.BigEndian.AppendUint32(b, uint32(r.FractionLost)<<24|lost)
	b = binary.BigEndian.AppendUint32(b, r.HighestSeq)
	b = binary.BigEndian.AppendUint32(b, r.Jitter)
	b = binary.BigEndian.AppendUint32(b, r.LSR)
	return binary.BigEndian.AppendUint32(b, r.DLSR)
}
