package decode_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/synth"
)

type nopHandler struct{ msgs, dgrams int }

func (h *nopHandler) Message(*decode.Message)   { h.msgs++ }
func (h *nopHandler) Datagram(*decode.Datagram) { h.dgrams++ }
func (h *nopHandler) Warn(*decode.Warning)      {}

// BenchmarkDecodeFile reads a generated capture of SIP calls with RTP from
// memory through capture and decode: the path every command takes.
// Goal (issue 2): at least 2 million packets per second on one core.
func BenchmarkDecodeFile(b *testing.B) {
	for _, tc := range []struct {
		name string
		rtp  bool
	}{{"sip+rtp", true}, {"sip-only", false}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := synth.DefaultGen(300)
			opts.RTP = tc.rtp
			opts.Hold = 2 * time.Second
			var file bytes.Buffer
			packets, err := synth.Generate(&file, opts)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(file.Len()))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				src, err := capture.NewReader(bytes.NewReader(file.Bytes()), "bench")
				if err != nil {
					b.Fatal(err)
				}
				h := &nopHandler{}
				d := decode.NewDecoder(h, decode.Options{})
				for {
					p, err := src.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					d.Decode(p)
				}
				d.Flush()
				if h.msgs != 300*7 {
					b.Fatalf("decoded %d messages, want %d", h.msgs, 300*7)
				}
			}
			b.ReportMetric(float64(packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// BenchmarkTCPStreams decodes a host's TCP connections that each carry two
// SIP messages and are never closed (no FIN captured), opened 20 ms apart:
// thousands stay open while others go idle every second of packet time,
// as on a busy host captured unfiltered.
func BenchmarkTCPStreams(b *testing.B) {
	for _, conns := range []int{1000, 20000} {
		b.Run(fmt.Sprint(conns), func(b *testing.B) {
			var frames []synth.Frame
			at := t0
			var size int64
			for i := range conns {
				src := fmt.Sprintf("10.4.%d.%d:%d", i/250%250, 1+i%250, 20000+i%40000)
				m1, m2 := invite(fmt.Sprintf("s%d-1", i), 0), invite(fmt.Sprintf("s%d-2", i), 0)
				for _, f := range [][]byte{
					synth.TCP(src, srv, isn, syn, nil),
					synth.TCP(src, srv, seq0, psh, m1),
					synth.TCP(src, srv, seq0+uint32(len(m1)), psh, m2),
				} {
					at = at.Add(20 * time.Millisecond / 3)
					frames = append(frames, synth.Frame{Time: at, Data: f})
					size += int64(len(f))
				}
			}
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				h := &nopHandler{}
				d := decode.NewDecoder(h, decode.Options{})
				for i, f := range frames {
					d.Decode(&capture.Packet{N: i + 1, Time: f.Time, Link: capture.LinkEthernet, Data: f.Data, Length: len(f.Data)})
				}
				d.Flush()
				if h.msgs != 2*conns {
					b.Fatalf("decoded %d messages, want %d", h.msgs, 2*conns)
				}
			}
			b.ReportMetric(float64(len(frames))*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}
