package main

import (
	"path/filepath"
	"testing"
)

// TestFlowFromArchiveSameAsCapture: `flow --db` draws every call of a
// capture byte for byte as `flow` does from the capture itself.
func TestFlowFromArchiveSameAsCapture(t *testing.T) {
	for _, name := range []string{"call_rtp.pcap", "b2bua_xcallid.pcap", "invite_no_ack.pcap", "call_hold.pcap"} {
		db := filepath.Join(t.TempDir(), "a.db")
		if _, errs, code := sipflow(t, nil, "archive", "--db", db, repoTestdata(name)); code != 0 {
			t.Fatalf("%s: archive exit %d: %s", name, code, errs)
		}
		for _, format := range []string{"text", "json", "svg"} {
			fromCap, _, c1 := sipflow(t, nil, "flow", "--color", "never", "--format", format, repoTestdata(name))
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
