package main

import (
	"path/filepath"
	"testing"
	"time"
)

// TestFlowFromArchiveSameAsCapture: `flow --db` draws every call of a
// capture byte for byte as `flow` does from the capture itself. The last
// capture sends every packet twice, 30 µs apart with two IPv4 IDs: every
// message and its retransmission, which the archive keeps without the IDs
// that told them from copies.
func TestFlowFromArchiveSameAsCapture(t *testing.T) {
	sentTwice := filepath.Join(t.TempDir(), "sent_twice.pcap")
	writeTwice(t, repoTestdata("invite_no_ack.pcap"), sentTwice, 30*time.Microsecond, true)
	for _, path := range []string{repoTestdata("call_rtp.pcap"), repoTestdata("b2bua_xcallid.pcap"), repoTestdata("invite_no_ack.pcap"),
		repoTestdata("call_hold.pcap"), sentTwice} {
		name := filepath.Base(path)
		db := filepath.Join(t.TempDir(), "a.db")
		if _, errs, code := sipflow(t, nil, "archive", "--db", db, path); code != 0 {
			t.Fatalf("%s: archive exit %d: %s", name, code, errs)
		}
		for _, format := range []string{"text", "json", "svg"} {
			fromCap, _, c1 := sipflow(t, nil, "flow", "--color", "never", "--format", format, path)
			fromDB, errs, c2 := sipflow(t, nil, "flow", "--color", "never", "--format", format, "--db", db)
			if c1 != 0 || c2 != 0 || fromCap == "" {
				t.Fatalf("%s %s: exit %d and %d: %s", name, format, c1, c2, errs)
			}
			if fromCap != fromDB {
				t.Errorf("%s: flow --db --format %s differs from the capture's:\n%s\n---\n%s", name, format, fromDB, fromCap)
			}
		}
	}
}
