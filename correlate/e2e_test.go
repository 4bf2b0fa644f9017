package correlate_test

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
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

func summary(c *correlate.Call) string {
	var rules []string
	for _, f := range c.Findings {
		rules = append(rules, f.Rule)
	}
	return fmt.Sprintf("%s state=%s final=%d flow=%s dev=%q findings=%v msgs=%d dialogs=%d legs=%d",
		c.Kind, c.State, c.FinalStatus, c.Flow, c.Deviation, rules, c.NumMessages, c.NumDialogs, len(c.Legs))
}

func TestTestdataCaptures(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*.pcap")
	for _, f := range files {
		calls := feed(t, f, correlate.Options{})
		for _, c := range calls {
			t.Logf("%s: %s", filepath.Base(f), summary(c))
			for _, fd := range c.Findings {
				t.Logf("    %s %s %v %s", fd.Severity, fd.Rule, fd.Packets, fd.Detail)
			}
		}
	}
	_ = strings.Join
}
