package correlate_test

import (
	"testing"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/internal/testfeed"
)

// feed runs a capture file through decode and a Correlator.
func feed(t testing.TB, path string, opts correlate.Options) []*correlate.Call {
	t.Helper()
	var calls []*correlate.Call
	c := correlate.New(opts, func(call *correlate.Call) { calls = append(calls, call) })
	if err := testfeed.Capture(path, c.Advance, c.Add, c.AddDatagram); err != nil {
		t.Fatal(err)
	}
	c.Flush()
	return calls
}
