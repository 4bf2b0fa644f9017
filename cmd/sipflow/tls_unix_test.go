//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestKeyLogFromPipe: --tls-keylog reads a key log from a FIFO, as from
// the pipe a shell's <(...) gives: the TLS hop of tls12_call is read.
func TestKeyLogFromPipe(t *testing.T) {
	keys, err := os.ReadFile(repoTestdata("tls12_call.keylog"))
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "keys")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.Write(keys)
		f.Close()
	}()
	out, errs, code := sipflow(t, nil, "messages", "--json", "--tls-keylog", fifo, repoTestdata("tls12_call.pcap"))
	if n := strings.Count(out, `"transport":"tls"`); code != 0 || n != 7 {
		t.Errorf("exit %d, %d messages over TLS (want 7): %s", code, n, errs)
	}
}
