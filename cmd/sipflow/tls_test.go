package main

import (
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
