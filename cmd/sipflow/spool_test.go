package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pipedCapture makes data readable once, as kind says: "fifo" (a named
// pipe in dir), "pipe" (an anonymous pipe named /dev/fd/N, as a shell's
// <(...) is) or "stdin" ("-", the command's standard input). It returns
// the name to give sipflow and what its standard input holds.
func pipedCapture(t *testing.T, kind, dir string, data []byte) (name string, stdin []byte) {
	t.Helper()
	switch kind {
	case "stdin":
		return "-", data
	case "fifo":
		name = filepath.Join(dir, "live.fifo")
		if err := syscall.Mkfifo(name, 0o600); err != nil {
			t.Fatal(err)
		}
		go func() {
			f, err := os.OpenFile(name, os.O_WRONLY, 0) // waits for the reader
			if err != nil {
				return
			}
			f.Write(data)
			f.Close()
		}()
		return name, nil
	case "pipe":
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		go func() {
			w.Write(data)
			w.Close()
		}()
		return fmt.Sprintf("/dev/fd/%d", r.Fd()), nil
	}
	t.Fatalf("unknown kind %q", kind)
	return "", nil
}

// sipflowWithin is sipflow, failing the test if the command has not
// returned after d (a command that opens a FIFO twice waits forever).
func sipflowWithin(t *testing.T, d time.Duration, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	type result struct {
		out, errs string
		code      int
	}
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		code := run(args, bytes.NewReader(stdin), &out, &errb)
		done <- result{out.String(), errb.String(), code}
	}()
	select {
	case r := <-done:
		return r.out, r.errs, r.code
	case <-time.After(d):
		t.Fatalf("sipflow %s: still running after %v", strings.Join(args, " "), d)
	}
	return "", "", 0
}

// TestSpooledCapture: archive, export and audio read their capture more
// than once. A capture that can be read only once (a FIFO, a pipe named
// /dev/fd/N, standard input) is copied once to a temporary file, and gives
// what the file itself gives, named as it was given; the copy is gone
// afterwards, and a failed import leaves nothing in the archive.
func TestSpooledCapture(t *testing.T) {
	orig := repoTestdata("call_rtp.pcap")
	data, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where export and audio spool
	ref := t.TempDir()
	wantPcap, wantWav := filepath.Join(ref, "call.pcap"), filepath.Join(ref, "call.wav")
	archRun(t, 0, "export", orig, "--call", "1-24089@127.0.10.1", "-w", wantPcap)
	archRun(t, 0, "audio", orig, "--call", "1-24089@127.0.10.1", "-o", wantWav)

	for _, kind := range []string{"fifo", "pipe", "stdin"} {
		t.Run(kind, func(t *testing.T) {
			t.Run("archive", func(t *testing.T) {
				dir := t.TempDir()
				db := filepath.Join(dir, "calls.db")
				name, stdin := pipedCapture(t, kind, dir, data)
				out, errs, code := sipflowWithin(t, time.Minute, stdin, "archive", "--db", db, name)
				if code != 0 || out != name+": 1 call, 7 messages, 141 packets in "+db+" as capture 1\n" {
					t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
				}
				caps, _ := archRun(t, 0, "captures", "--db", db, "--json")
				if !strings.Contains(caps, `"state":"complete"`) || !strings.Contains(caps, `"sha256":"1dbce36f3b241dde`) || !strings.Contains(caps, `"size":`+itoa(len(data))) {
					t.Errorf("captures: %s", caps)
				}
				if left, _ := filepath.Glob(filepath.Join(dir, ".sipflow-*")); len(left) > 0 {
					t.Errorf("spool left beside the archive: %v", left)
				}
			})
			t.Run("archive not a capture", func(t *testing.T) {
				dir := t.TempDir()
				db := filepath.Join(dir, "calls.db")
				name, stdin := pipedCapture(t, kind, dir, []byte("hello, this is not a capture\n"))
				out, errs, code := sipflowWithin(t, time.Minute, stdin, "archive", "--db", db, name)
				if code != exitUsage || out != "" || !strings.HasPrefix(errs, "sipflow: "+name+": not a pcap or pcapng file") {
					t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
				}
				if caps, _ := archRun(t, 0, "captures", "--db", db); !strings.HasPrefix(caps, "no captures") {
					t.Errorf("captures: %s", caps)
				}
			})
			for _, w := range []struct{ cmd, flag, out, want string }{
				{"export", "-w", "call.pcap", wantPcap},
				{"audio", "-o", "call.wav", wantWav},
			} {
				t.Run(w.cmd, func(t *testing.T) {
					dir := t.TempDir()
					name, stdin := pipedCapture(t, kind, dir, data)
					got := filepath.Join(dir, w.out)
					_, errs, code := sipflowWithin(t, time.Minute, stdin, w.cmd, name, "--call", "1-24089@127.0.10.1", w.flag, got)
					a, _ := os.ReadFile(w.want)
					b, _ := os.ReadFile(got)
					if code != 0 || !bytes.Equal(a, b) {
						t.Errorf("exit %d (%d bytes, want %d): %s", code, len(b), len(a), errs)
					}
				})
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("spool left in $TMPDIR: %v", left)
			}
		})
	}
}

// TestSpooledCaptureDamaged: a capture cut short, read from a pipe, is
// archived up to the damage as the file is (exit 3, listed as damaged),
// and the damage named by what was given, not by the copy.
func TestSpooledCaptureDamaged(t *testing.T) {
	data, _ := os.ReadFile(repoTestdata("call_rtp.pcap"))
	dir := t.TempDir()
	db := filepath.Join(dir, "calls.db")
	name, _ := pipedCapture(t, "pipe", dir, data[:700])
	out, errs, code := sipflowWithin(t, time.Minute, nil, "archive", "--db", db, name)
	if code != exitDamaged || out != name+": 1 call, 1 message, 1 packet in "+db+" as capture 1\n" ||
		!strings.HasPrefix(errs, "sipflow: "+name+": packet 2 at byte offset 622: truncated") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if caps, _ := archRun(t, 0, "captures", "--db", db, "--json"); !strings.Contains(caps, `"state":"damaged"`) {
		t.Errorf("captures: %s", caps)
	}
}
