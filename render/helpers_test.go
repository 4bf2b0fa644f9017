package render_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/internal/testfeed"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./render -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test ./render -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// repoTestdata is the repository's testdata folder.
func repoTestdata(name string) string { return filepath.Join("..", "testdata", name) }

// callsOf runs a capture (a file, or pcap bytes) through decode and
// correlate, keeping every message's text.
func callsOf(t testing.TB, path string, data []byte) []*correlate.Call {
	t.Helper()
	var src capture.Source
	var err error
	if data != nil {
		src, err = capture.NewReader(bytes.NewReader(data), "synth.pcap")
	} else {
		src, err = capture.Open(path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var calls []*correlate.Call
	c := correlate.New(correlate.Options{KeepRaw: true, Media: true}, func(call *correlate.Call) { calls = append(calls, call) })
	if err := testfeed.Source(src, c.Advance, c.Add, c.AddDatagram); err != nil {
		t.Fatal(err)
	}
	c.Flush()
	return calls
}
