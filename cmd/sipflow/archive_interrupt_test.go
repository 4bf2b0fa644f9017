package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sipflow/sipflow/internal/synth"
	"github.com/sipflow/sipflow/store"
)

// TestArchiveInterrupted: archive interrupted by SIGINT or SIGTERM while
// it imports the second of three captures exits with the shell's status
// for the signal (130, 143) and says what it left: the capture it was
// importing, with the calls stored so far kept and the same command to
// run again; the one archived before; the one not started. Run again, the
// command completes the import, and the archive then holds every call of
// the capture, as `calls --all` finds them.
func TestArchiveInterrupted(t *testing.T) {
	bin := buildSipflow(t)
	dir := t.TempDir()
	small, later := repoTestdata("call_rtp.pcap"), repoTestdata("register_401_ignored.pcap")
	big := manyCalls(t, dir, 20000)
	want, _, _ := sipflow(t, nil, "calls", "--all", "--json", big)
	for _, tc := range []struct {
		sig  syscall.Signal
		name string
		code int
	}{
		{syscall.SIGINT, "interrupt", 130},
		{syscall.SIGTERM, "terminated", 143},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(dir, tc.name+".db")
			// Signalled once the big capture's import has stored calls.
			code, errs := interruptWhen(t, tc.sig, func() bool { return stored(t, db, big) > 0 },
				bin, "archive", "--db", db, small, big, later)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errs)
			}
			for _, line := range []string{
				"sipflow: archive interrupted (" + tc.name + ") while importing " + big + ": the calls stored so far are kept in " + db,
				"sipflow: archived before the interrupt: " + small,
				"sipflow: not started: " + later,
			} {
				if !strings.Contains(errs, line) {
					t.Errorf("stderr does not say %q:\n%s", line, errs)
				}
			}
			n := stored(t, db, big)
			out, errs, code := sipflow(t, nil, "archive", "--db", db, small, big, later)
			if code != 0 || !strings.Contains(out, big+": ") || !strings.Contains(out, "(an import begun earlier, now complete)") {
				t.Fatalf("run again: exit %d\n%s%s", code, out, errs)
			}
			got, _, _ := sipflow(t, nil, "search", "--db", db, "--capture", big, "--all", "--json")
			if g, w := strings.Count(got, "\n"), strings.Count(want, "\n"); g != w || n >= int64(w) {
				t.Errorf("%d calls in the archive after the rerun, %d stored before it; the capture has %d", g, n, w)
			}
		})
	}
}

// stored is how many calls of the capture named name the archive at path
// holds, 0 while there is none (or no archive yet).
func stored(t *testing.T, path, name string) int64 {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return 0
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		return 0 // being created
	}
	defer db.Close()
	cs, err := db.FindCaptures(context.Background(), name)
	if err != nil || len(cs) == 0 {
		return 0
	}
	return cs[0].Calls
}

// manyCalls writes a capture of n generated calls (SIP only) in dir: big
// enough that a command on it can be interrupted while it works.
func manyCalls(t *testing.T, dir string, n int) string {
	t.Helper()
	name := filepath.Join(dir, "big.pcap")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := synth.Generate(f, synth.GenOptions{Calls: n, Rate: 400, Hold: time.Second,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	return name
}

// interruptWhen runs the program bin with args, sends it sig as soon as
// ready reports true (polled; a minute at most), and returns its exit
// status and standard error. It fails the test if the program ends first.
func interruptWhen(t *testing.T, sig syscall.Signal, ready func() bool, bin string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(time.Minute)
	for !ready() {
		select {
		case err := <-done:
			t.Fatalf("%s ended before it could be interrupted: %v\n%s", args[0], err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not ready to be interrupted in a minute", args[0])
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	<-done
	return cmd.ProcessState.ExitCode(), stderr.String()
}
