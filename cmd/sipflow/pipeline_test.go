package main

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/internal/jsonw"
	"github.com/sipflow/sipflow/internal/synth"
)

// callsJSON runs the analysis (serial or two-stage) and returns the NDJSON
// of every call.
func callsJSON(t *testing.T, file string, parallel bool) string {
	t.Helper()
	g := &globalOptions{streams: streams{Out: io.Discard, Err: io.Discard}}
	var out bytes.Buffer
	var obj jsonw.Object
	_, err := analyze(g, file, correlate.Options{}, func(c *correlate.Call) {
		callJSON(&obj, c)
		out.Write(obj.B)
	}, parallel)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return out.String()
}

func generated(t *testing.T, calls int, rtp bool, rate float64) string {
	t.Helper()
	opts := synth.DefaultGen(calls)
	opts.RTP = rtp
	opts.Rate = rate
	opts.Hold = 3 * time.Second
	var b bytes.Buffer
	if _, err := synth.Generate(&b, opts); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "gen.pcap", b.Bytes())
}

// TestPipelineIdentical: the two-stage pipeline reports exactly what one
// goroutine does.
func TestPipelineIdentical(t *testing.T) {
	files, _ := filepath.Glob(repoTestdata("*.pcap"))
	files = append(files, generated(t, 400, true, 50))
	for _, f := range files {
		serial, parallel := callsJSON(t, f, false), callsJSON(t, f, true)
		if serial != parallel || serial == "" {
			t.Errorf("%s: two-stage output differs from one goroutine's:\n%s\n---\n%s", filepath.Base(f), serial, parallel)
		}
	}
}

// TestSameCallsWhateverTheSize: a capture and its first part report the same
// calls, for every call that ended well inside the first part.
func TestSameCallsWhateverTheSize(t *testing.T) {
	full := generated(t, 600, false, 10)
	src, err := capture.Open(full)
	if err != nil {
		t.Fatal(err)
	}
	var frames []synth.Frame
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		frames = append(frames, synth.Frame{Time: p.Time, Data: bytes.Clone(p.Data)})
	}
	src.Close()
	half := frames[:len(frames)/2]
	var b bytes.Buffer
	if err := synth.WritePcap(&b, layers.LinkTypeEthernet, half); err != nil {
		t.Fatal(err)
	}
	part := writeFile(t, "part.pcap", b.Bytes())
	cut := half[len(half)-1].Time.Add(-10 * time.Second)
	whole := strings.Split(callsJSON(t, full, true), "\n")
	first := strings.Split(callsJSON(t, part, true), "\n")
	compared := 0
	for i, line := range first {
		if line == "" || !strings.Contains(line, `"end":"`) {
			continue
		}
		end := line[strings.Index(line, `"end":"`)+7:]
		end = end[:strings.IndexByte(end, '"')]
		te, _ := time.Parse(time.RFC3339Nano, end)
		if te.After(cut) {
			break
		}
		if line != whole[i] {
			t.Fatalf("call %d differs between the whole capture and its first half:\n%s\n%s", i, whole[i], line)
		}
		compared++
	}
	if compared < 100 {
		t.Fatalf("only %d calls compared", compared)
	}
}
