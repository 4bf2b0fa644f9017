//go:build unix

package decode

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestKeyLogFIFO: a key log in a FIFO (or a pipe, the shell's <(...))
// is read once, as it comes: it failed to ("illegal seek"), and a lookup
// of a connection it lacks would open it again, to wait for a writer.
func TestKeyLogFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.WriteString(keyLine(1) + keyLine(2))
		f.Close()
	}()
	done := make(chan bool)
	go func() {
		k, err := ReadKeyLogFile(path)
		if err != nil || !has(k, 1) || !has(k, 2) || has(k, 3) {
			t.Errorf("read: %v", err)
		}
		done <- true
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the FIFO's key log still read after 10 s")
	}
}
