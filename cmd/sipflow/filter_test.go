package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/correlate"
)

// TestCallIDPattern: what a --call or --call-id value matches.
func TestCallIDPattern(t *testing.T) {
	c := &correlate.Call{ID: "1-24089@127.0.10.1", LinkedIDs: []string{"b2b-leg-2@10.0.0.5"}}
	for _, tc := range []struct {
		value string
		match bool
	}{
		{"1-24089@127.0.10.1", true},     // the Call-ID
		{"b2b-leg-2@10.0.0.5", true},     // another leg's
		{"1-24089@127....", true},        // as the tables shorten it
		{"1-24089@127.…", true},          // with a Unicode ellipsis
		{"1-24089", true},                // its start
		{"b2b-leg", true},                // the start of another leg's
		{"...@127.0.10.1", true},         // its end: ... stands for anything before
		{"…24089@…", true},               // anywhere
		{"...leg-2...", true},            // anywhere in another leg's
		{"24089@127.0.10.1", false},      // not its start
		{"1-24089@127.0.10.1x", false},   // longer
		{"1-24089@127.0.10.2...", false}, // another start
		{"...@127.0.10.2", false},
		{"1-24089@127.0.10", false},   // a whole Call-ID (an @, no ellipsis) is not a start
		{"1-24089@127.0.10...", true}, // unless it says so
		{"b2b-leg-2@10.0.0", false},   // another leg's too
	} {
		if got := parseCallID(tc.value).match(c); got != tc.match {
			t.Errorf("%q: match %v, want %v", tc.value, got, tc.match)
		}
	}
}

// TestCallIDEverywhere: every command that takes a Call-ID (--call-id,
// --call) matches it the same way, from a capture and from the archive:
// a value that names call_rtp.pcap's call finds it everywhere, one that
// does not finds it nowhere.
func TestCallIDEverywhere(t *testing.T) {
	dir := t.TempDir()
	file := repoTestdata("call_rtp.pcap")
	db := filepath.Join(dir, "calls.db")
	archRun(t, 0, "archive", "--db", db, file)
	out := filepath.Join(dir, "out")
	type command struct {
		name  string
		args  func(v string) []string
		found func(stdout string, code int) bool
	}
	listed := func(stdout string, code int) bool { return code == 0 && strings.Contains(stdout, "1-24089@127") }
	drawn := func(stdout string, code int) bool {
		return code == 0 && strings.Contains(stdout, "call 1-24089@127.0.10.1 ·")
	}
	written := func(_ string, code int) bool {
		_, err := os.Stat(out)
		return code == 0 && err == nil
	}
	commands := []command{
		{"calls", func(v string) []string { return []string{"calls", "--call-id", v, file} }, listed},
		{"calls --json", func(v string) []string { return []string{"calls", "--json", "--call-id", v, file} }, listed},
		{"check", func(v string) []string { return []string{"check", "--call-id", v, file} }, func(s string, code int) bool {
			return code == 0 && strings.Contains(s, "no findings in 1 call(s)")
		}},
		{"check --db", func(v string) []string { return []string{"check", "--db", db, "--call-id", v} }, func(s string, code int) bool {
			return code == 0 && strings.Contains(s, "no findings in 1 call(s)")
		}},
		{"rtp", func(v string) []string { return []string{"rtp", "--call-id", v, file} }, listed},
		{"rtp --db", func(v string) []string { return []string{"rtp", "--db", db, "--call-id", v} }, listed},
		{"search", func(v string) []string { return []string{"search", "--db", db, "--call-id", v} }, listed},
		{"report", func(v string) []string { return []string{"report", "--call-id", v, file} }, func(s string, code int) bool {
			return code == 0 && strings.Count(s, "<tr data-call=") == 1
		}},
		{"flow --call", func(v string) []string { return []string{"flow", "--call", v, file} }, drawn},
		{"flow --call-id", func(v string) []string { return []string{"flow", "--call-id", v, file} }, drawn},
		{"flow --db --call", func(v string) []string { return []string{"flow", "--db", db, "--call", v} }, drawn},
		{"flow --db --call-id", func(v string) []string { return []string{"flow", "--db", db, "--call-id", v} }, drawn},
		{"export", func(v string) []string { return []string{"export", file, "--call", v, "-w", out} }, written},
		{"export --db", func(v string) []string { return []string{"export", "--db", db, "--call", v, "-w", out} }, written},
		{"audio", func(v string) []string { return []string{"audio", file, "--call", v, "-o", out} }, written},
	}
	for _, tc := range []struct {
		value string
		match bool
	}{
		{"1-24089@127.0.10.1", true},
		{"1-24089@127....", true},
		{"1-24089@127.…", true},
		{"1-24089", true},
		{"...@127.0.10.1", true},
		{"...24089@127.0.10...", true},
		{"24089@127.0.10.1", false},
		{"1-24089@127.0.10.1x", false},
		{"nosuch", false},
	} {
		for _, cmd := range commands {
			os.Remove(out)
			stdout, errs, code := sipflow(t, nil, cmd.args(tc.value)...)
			if got := cmd.found(stdout, code); got != tc.match {
				t.Errorf("%s %q: found %v, want %v (exit %d, stderr %q)", cmd.name, tc.value, got, tc.match, code, errs)
			}
		}
	}
}
