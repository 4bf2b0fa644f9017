package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipflow/sipflow/capture"
)

// Helpers of the tests that capture for real (as root, or with CAP_NET_RAW).

// requireLiveCapture skips the test unless this process may capture on lo.
func requireLiveCapture(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("live capture: not with -short")
	}
	src, err := capture.OpenLive(capture.LiveOptions{Interfaces: []string{"lo"}})
	if err != nil {
		t.Skipf("cannot capture here: %v", err)
	}
	src.Close()
}

// buildSipflow builds the command into a temporary directory: the tests
// that signal a capture, or run it in another network namespace, need a
// process of its own.
func buildSipflow(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sipflow")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, gobin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a process started by a test, with its output collected.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr bytes.Buffer
	ready  chan struct{} // closed when stderr shows the ready marker
	done   chan struct{}
	err    error
}

func (p *proc) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// startProc starts args, waits (up to 15 s) for a line of stderr containing
// readyMark, and makes sure the process is gone when the test ends: killed
// after limit at the latest.
func startProc(t *testing.T, name, readyMark string, limit time.Duration, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, ready: make(chan struct{}), done: make(chan struct{})}
	p.cmd = exec.Command(args[0], args[1:]...)
	p.cmd.Stdout = &p.stdout
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var once sync.Once
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if strings.Contains(sc.Text(), readyMark) {
				once.Do(func() { close(p.ready) })
			}
		}
		io.Copy(io.Discard, errPipe)
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	killer := time.AfterFunc(limit, func() { p.cmd.Process.Kill() })
	t.Cleanup(func() {
		killer.Stop()
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill() // this process only, by its pid
			<-p.done
		}
	})
	select {
	case <-p.ready:
	case <-p.done:
		t.Fatalf("%s exited before it was ready: %v\n%s", name, p.err, p.Stderr())
	case <-time.After(15 * time.Second):
		t.Fatalf("%s not ready after 15 s:\n%s", name, p.Stderr())
	}
	return p
}

// stop sends sig and waits (up to limit) for the process to exit.
func (p *proc) stop(t *testing.T, sig os.Signal, limit time.Duration) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%s: signal: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%s still running %v after %v; killed:\n%s", p.name, limit, sig, p.Stderr())
	}
}

// callRecord is the part of a calls --json object the tests look at.
type callRecord struct {
	CallID   string   `json:"call_id"`
	Kind     string   `json:"kind"`
	State    string   `json:"state"`
	Flow     *string  `json:"flow"`
	Findings []string `json:"findings"`
}

func parseCalls(t *testing.T, ndjson string) []callRecord {
	t.Helper()
	var out []callRecord
	for _, l := range sortedLines(ndjson) {
		var c callRecord
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("not JSON: %v: %s", err, l)
		}
		out = append(out, c)
	}
	return out
}

// summaryPackets reads the packet count from the summary line on stderr.
func summaryPackets(t *testing.T, stderr string) int {
	t.Helper()
	var n int
	for _, l := range strings.Split(stderr, "\n") {
		if _, err := fmt.Sscanf(l, "sipflow: %d packets captured,", &n); err == nil {
			return n
		}
	}
	t.Fatalf("no summary line in stderr:\n%s", stderr)
	return 0
}

// sipMsg builds a SIP message of a dialog for tests that send their own.
func sipMsg(from, first, callID, fromTag, toTag, branch string, cseq int, method, body string) []byte {
	to := "<sip:bob@example.com>"
	if toTag != "" {
		to += ";tag=" + toTag
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s\r\n", first, from, branch)
	fmt.Fprintf(&b, "From: <sip:alice@example.com>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", fromTag, to, callID, cseq, method)
	fmt.Fprintf(&b, "Contact: <sip:alice@%s:5060>\r\nMax-Forwards: 70\r\nContent-Length: %d\r\n\r\n%s", from, len(body), body)
	return []byte(b.String())
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
