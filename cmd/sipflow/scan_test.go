package main

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/decode"
)

// TestScanFileShrinks: a capture truncated by another program while it is
// being read (mapped) ends the reading with damage at the byte that is
// gone, after analysing what came before; no crash.
func TestScanFileShrinks(t *testing.T) {
	path := generated(t, 300, false, 50)
	if fi, err := os.Stat(path); err != nil || fi.Size() < 1<<17 {
		t.Fatalf("capture too small for the test: %v %v", fi, err)
	}
	g := &globalOptions{streams: streams{Out: io.Discard, Err: io.Discard}}
	packets, messages, ended := 0, 0, false
	h := &handler{
		advance: func(time.Time) {
			if packets++; packets == 3 {
				if err := os.Truncate(path, 8192); err != nil {
					t.Fatal(err)
				}
			}
		},
		message: func(*decode.Message) { messages++ },
		end:     func(*decode.Stats, uint64, bool) { ended = true },
	}
	_, err := scanCapture(g, path, h)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitDamaged || !strings.Contains(err.Error(), "shrank") || !strings.Contains(err.Error(), path) {
		t.Fatalf("scan of a shrinking file = %v, want damage naming %s and saying it shrank", err, path)
	}
	if messages < 2 || packets > 40 || !ended {
		t.Errorf("%d packets, %d messages, end called %v: want the first packets analysed, the rest not", packets, messages, ended)
	}
}
