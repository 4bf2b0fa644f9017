package media

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/sipflow/sipflow/decode"
)

// BenchmarkTableAddRTP measures the hot path: one 20 ms G.711 packet of a
// known stream, parsed and measured. The packet is rewritten in place with
// the next sequence number and timestamp, as a capture reader would hand
// over the next one.
func BenchmarkTableAddRTP(b *testing.B) {
	for _, streams := range []int{1, 100} {
		b.Run(map[int]string{1: "1stream", 100: "100streams"}[streams], func(b *testing.B) {
			tab := NewTable()
			payload := rtpBytes(pkt{pt: 8, payload: make([]byte, 160)}, 1)
			srcs := make([]netip.AddrPort, streams)
			for i := range srcs {
				srcs[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 20000)
			}
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			at := t0
			for i := 0; b.Loop(); i++ {
				n := i / streams
				binary.BigEndian.PutUint16(payload[2:], uint16(n))
				binary.BigEndian.PutUint32(payload[4:], uint32(160*n))
				if i%streams == 0 {
					at = at.Add(20 * time.Millisecond)
				}
				if _, err := tab.AddRTP(i+1, at, srcs[i%streams], addrB, payload); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpkt/s")
		})
	}
}

// BenchmarkAudioTrack decodes 20 ms A-law packets into PCM.
func BenchmarkAudioTrack(b *testing.B) {
	a, _ := NewAudioTrack("PCMA")
	p := decode.RTP{PayloadType: 8, Payload: make([]byte, 160)}
	for i := range p.Payload {
		p.Payload[i] = byte(i)
	}
	b.SetBytes(int64(len(p.Payload)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%10000 == 0 {
			a.Reset() // keep memory flat: 10000 packets are 200 s
		}
		p.Seq, p.Timestamp = uint16(i), uint32(160*(i%10000))
		a.Add(&p)
	}
}
