package correlate_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/synth"
)

type collector struct{ msgs []*decode.Message }

func (c *collector) Message(m *decode.Message) { c.msgs = append(c.msgs, m.Clone()) }
func (c *collector) Datagram(*decode.Datagram) {}
func (c *collector) Warn(*decode.Warning)      {}

// generatedMessages decodes a generated signalling-only capture once.
func generatedMessages(b testing.TB, calls int) []*decode.Message {
	opts := synth.DefaultGen(calls)
	opts.RTP = false
	opts.Rate = 200
	opts.Hold = 2 * time.Second
	var file bytes.Buffer
	if _, err := synth.Generate(&file, opts); err != nil {
		b.Fatal(err)
	}
	src, err := capture.NewReader(&file, "gen")
	if err != nil {
		b.Fatal(err)
	}
	col := &collector{}
	d := decode.NewDecoder(col, decode.Options{})
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		d.Decode(p)
	}
	d.Flush()
	return col.msgs
}

// BenchmarkCorrelate feeds pre-decoded messages of generated calls through
// correlation, checks and flow matching. Goal (issue 3): at least 1 million
// SIP messages per second on one core.
func BenchmarkCorrelate(b *testing.B) {
	msgs := generatedMessages(b, 5000)
	var size int64
	for _, m := range msgs {
		size += int64(len(m.Raw))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	calls := 0
	for b.Loop() {
		c := correlate.New(correlate.Options{}, func(*correlate.Call) { calls++ })
		for _, m := range msgs {
			c.Add(m)
		}
		c.Flush()
	}
	b.ReportMetric(float64(len(msgs))*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if calls != 5000*b.N {
		b.Fatalf("%d calls, want %d", calls, 5000*b.N)
	}
}

// TestMemoryFlat: over a long capture, the calls held open stay a small,
// steady number (those in progress plus those lingering), not all of them.
func TestMemoryFlat(t *testing.T) {
	msgs := generatedMessages(t, 5000)
	calls := 0
	c := correlate.New(correlate.Options{}, func(*correlate.Call) { calls++ })
	for _, m := range msgs {
		c.Add(m)
	}
	c.Flush()
	if calls != 5000 {
		t.Fatalf("%d calls, want 5000", calls)
	}
	// 200 calls/s, each up ~2.6 s, then lingering 5 s: about 1,500 open.
	if c.Stats.PeakOpen > 2000 {
		t.Errorf("peak of %d calls open at once out of 5000: memory is not flat", c.Stats.PeakOpen)
	}
	t.Logf("peak open: %d of %d", c.Stats.PeakOpen, calls)
}
