package decode_test

import (
	"bytes"
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
