package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTLSArchiveExport: a call over TLS archived with its key log keeps
// the messages of its TLS hop, and its export carries its connection's
// handshake and records, so that tshark, given the key log, reads every
// message of it (skipped without tshark).
func TestTLSArchiveExport(t *testing.T) {
	for _, name := range []string{"tls13_call", "tls12_call", "tls12_cbc_call"} {
		pcap, keys := repoTestdata(name+".pcap"), repoTestdata(name+".keylog")
		db := filepath.Join(t.TempDir(), "a.db")
		if _, errs, code := sipflow(t, nil, "archive", "--db", db, "--tls-keylog", keys, pcap); code != 0 {
			t.Fatalf("%s: archive: exit %d: %s", name, code, errs)
		}
		out, _, _ := sipflow(t, nil, "search", "--db", db, "--json")
		if !strings.Contains(out, `"messages":14`) {
			t.Errorf("%s: archived %s, want 14 messages (7 a hop)", name, out)
		}
		callID := strings.SplitN(strings.SplitN(out, `"call_id":"`, 2)[1], `"`, 2)[0]
		exported := filepath.Join(t.TempDir(), "x.pcap")
		if _, errs, code := sipflow(t, nil, "export", "--db", db, "--call", callID, "-w", exported); code != 0 {
			t.Fatalf("%s: export: exit %d: %s", name, code, errs)
		}
		tshark, err := exec.LookPath("tshark")
		if err != nil {
			continue
		}
		b, err := exec.Command(tshark, "-n", "-r", exported, "-o", "tls.keylog_file:"+keys, "-Y", "sip && tls", "-T", "fields", "-e", "frame.number").Output()
		if err != nil {
			t.Fatalf("%s: tshark: %v", name, err)
		}
		if n := len(nonEmptyLines(string(b))); n != 7 {
			t.Errorf("%s: tshark reads %d messages of the exported TLS hop, want 7", name, n)
		}
	}
}

// TestOutputIsKeyLog: a file to write (-o, -w, --db, a profile) that is
// the key log --tls-keylog reads, by its name or another (a hard link),
// is refused before anything is written, as the capture and the archive
// are: exit 2, both named, the key log as it was; so is standard output
// appended to it, and standard input given as the key log.
func TestOutputIsKeyLog(t *testing.T) {
	dir := t.TempDir()
	pcap := repoTestdata("tls12_call.pcap")
	orig, err := os.ReadFile(repoTestdata("tls12_call.keylog"))
	if err != nil {
		t.Fatal(err)
	}
	keys, link := filepath.Join(dir, "keys.log"), filepath.Join(dir, "link.log")
	fresh := func(t *testing.T) {
		os.Remove(keys)
		os.Remove(link)
		if err := os.WriteFile(keys, orig, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(keys, link); err != nil {
			t.Fatal(err)
		}
	}
	const id = "39e9520e960e9ecb@127.0.77.1" // tls12_call's call
	for _, tc := range []struct {
		name string
		args []string
		out  string
	}{
		{"report", []string{"report", pcap, "-o", keys}, keys},
		{"flow link", []string{"flow", pcap, "-o", link}, link},
		{"audio", []string{"audio", pcap, "--call", id, "-o", keys}, keys},
		{"export", []string{"export", pcap, "--call", id, "-w", link}, link},
		{"archive", []string{"archive", "--db", keys, pcap}, keys},
		{"capture", []string{"capture", "-i", "lo", "--count", "1", "--duration", "1s", "-w", keys}, keys},
		{"cpuprofile", []string{"calls", "--cpuprofile", link, pcap}, link},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fresh(t)
			out, errs, code := sipflow(t, nil, append(tc.args, "--tls-keylog", keys)...)
			if code != exitUsage || out != "" || !strings.Contains(errs, tc.out) || !strings.Contains(errs, "the key log "+keys) {
				t.Errorf("exit %d, stdout %.60q, stderr %q; want 2 and both files named", code, out, errs)
			}
			if b, _ := os.ReadFile(keys); !bytes.Equal(b, orig) {
				t.Errorf("the key log changed: %d bytes, was %d", len(b), len(orig))
			}
		})
	}
	t.Run("stdout", func(t *testing.T) {
		fresh(t)
		refusedOnto(t, keys, "the key log", orig, nil, []string{"calls", pcap, "--tls-keylog", keys})
	})
	t.Run("stdin", func(t *testing.T) {
		if _, errs, code := sipflow(t, nil, "calls", pcap, "--tls-keylog", "-"); code != exitUsage || !strings.Contains(errs, "standard input is no key log") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
}
