package correlate_test

import (
	"io"
	"testing"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
)

// feed runs a capture file through decode and a Correlator.
func feed(t testing.TB, path string, opts correlate.Options) []*correlate.Call {
	t.Helper()
	src, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var calls []*correlate.Call
	c := correlate.New(opts, func(call *correlate.Call) { calls = append(calls, call) })
	h := &sink{c: c}
	d := decode.NewDecoder(h, decode.Options{})
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c.Advance(p.Time)
		d.Decode(p)
	}
	d.Flush()
	c.Flush()
	return calls
}

type sink struct{ c *correlate.Correlator }

func (s *sink) Message(m *decode.Message)   { s.c.Add(m) }
func (s *sink) Datagram(d *decode.Datagram) { s.c.AddDatagram(d.N, d.Time, d.Src, d.Dst, d.Payload) }
func (s *sink) Warn(w *decode.Warning)      {}
