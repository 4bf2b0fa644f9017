package main

import (
	"os"
	"path/filepath"
	"strings"
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

// TestFlowFromArchiveNamed: from the archive, what flow says and the page
// it writes name the capture --capture chose, as stored, else the archive.
func TestFlowFromArchiveNamed(t *testing.T) {
	dir := t.TempDir()
	b, _ := os.ReadFile(repoTestdata("call_rtp.pcap"))
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, b[:len(b)*2/3], 0o644)
	db := filepath.Join(dir, "m.db")
	sipflow(t, nil, "archive", "--db", db, cut, repoTestdata("call_busy.pcap"))
	for _, tc := range []struct {
		name string
		args []string
		want string // on stderr, or in the page
	}{
		{"no call", []string{"--call", "nosuch"}, "sipflow: no call in " + db + " matches\n"},
		{"no call in capture", []string{"--call", "nosuch", "--capture", "cut.pcap"}, "sipflow: no call in " + cut + " matches\n"},
		{"no packet", []string{"--message", "999", "--capture", "1"}, "sipflow: packet 999 is not a SIP message of any call in " + cut + "\n"},
		{"title", []string{"--format", "html", "--capture", "cut.pcap"}, "<title>sipflow: cut.pcap</title>"},
		{"heading", []string{"--format", "html", "--capture", "cut.pcap"}, "<h1>cut.pcap</h1>"},
		{"title of the archive", []string{"--format", "html"}, "<title>sipflow: m.db</title>"},
	} {
		out, errs, _ := sipflow(t, nil, append([]string{"flow", "--db", db}, tc.args...)...)
		if strings.HasPrefix(tc.want, "sipflow:") && errs != tc.want || !strings.HasPrefix(tc.want, "sipflow:") && !strings.Contains(out, tc.want) {
			t.Errorf("%s: stderr %q, stdout %.300q; want %q", tc.name, errs, out, tc.want)
		}
	}
}
