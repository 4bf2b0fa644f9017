package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/internal/pcapw"
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

// packetIDs names every packet of a capture by what it is rather than where
// it lies: a hash of its bytes, and which copy of those bytes it is (a
// retransmission can repeat a packet byte for byte). ids[n-1] names packet
// n. Two programs capturing one interface at once agree on the packets but
// not always on their order: a packet the interface sends and one it
// receives in the same microseconds reach each capture socket from
// different CPUs, in either order. Naming packets this way lets two files'
// reports be compared for the packets they name, not for their numbers.
func packetIDs(pkts []capture.Packet) []string {
	ids := make([]string, len(pkts))
	seen := map[[sha256.Size]byte]int{}
	for i, p := range pkts {
		h := sha256.Sum256(p.Data)
		seen[h]++
		ids[i] = fmt.Sprintf("%x#%d", h[:6], seen[h])
	}
	return ids
}

// packetRef is a packet number inside a report's text ("(packet 12)").
var packetRef = regexp.MustCompile(`packet (\d+)`)

// byPacketID rewrites the JSON lines of a report (calls --json, check
// --json) so that every packet number in them becomes the packet's name in
// ids: the fields that hold packet numbers ("n" of an event, "first_n" and
// "last_n" of a stream, a finding's "packets" list) and "packet N" in any
// text. It returns the lines sorted; a number that is no packet of ids is
// an error.
func byPacketID(ndjson string, ids []string) ([]string, error) {
	var bad error
	id := func(v any) any {
		f, ok := v.(float64)
		if !ok || f != float64(int(f)) || f < 1 || int(f) > len(ids) {
			bad = fmt.Errorf("%v is not a packet number of a %d-packet capture", v, len(ids))
			return v
		}
		return ids[int(f)-1]
	}
	var walk func(key string, v any) any
	walk = func(key string, v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				v[k] = walk(k, e)
			}
		case []any:
			for i, e := range v {
				if key == "packets" {
					v[i] = id(e)
				} else {
					v[i] = walk("", e)
				}
			}
		case float64:
			if key == "n" || key == "first_n" || key == "last_n" {
				return id(v)
			}
		case string:
			return packetRef.ReplaceAllStringFunc(v, func(m string) string {
				n, _ := strconv.Atoi(m[len("packet "):])
				return fmt.Sprint("packet ", id(float64(n)))
			})
		}
		return v
	}
	var out []string
	for _, l := range sortedLines(ndjson) {
		var v any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			return nil, fmt.Errorf("not JSON: %v: %s", err, l)
		}
		b, err := json.Marshal(walk("", v))
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	if bad != nil {
		return nil, bad
	}
	slices.Sort(out)
	return out, nil
}

// TestByPacketID: two files with the same packets, two of them (from two
// calls, microseconds apart) in the other order, give reports that differ
// in their packet numbers and agree once packets are named by byPacketID;
// a report that names another packet does not agree.
func TestByPacketID(t *testing.T) {
	rtp := readPackets(t, repoTestdata("call_rtp.pcap"))
	noACK := readPackets(t, repoTestdata("invite_no_ack.pcap"))
	// Shift the unACKed call so that its 200 OK (packet 4) comes between
	// the first two RTP packets of the other call; merge by time.
	shift := rtp[5].Time.Add(700 * time.Microsecond).Sub(noACK[3].Time)
	var merged []capture.Packet
	for _, p := range noACK {
		p.Time = p.Time.Add(shift)
		merged = append(merged, p)
	}
	merged = append(merged, rtp...)
	slices.SortStableFunc(merged, func(a, b capture.Packet) int { return a.Time.Compare(b.Time) })
	i := slices.IndexFunc(merged, func(p capture.Packet) bool { return bytes.Equal(p.Data, noACK[3].Data) })
	if i < 1 || !bytes.Equal(merged[i-1].Data, rtp[5].Data) {
		t.Fatalf("the 200 OK is packet %d, not right after the first RTP packet", i+1)
	}
	swapped := slices.Clone(merged)
	swapped[i-1], swapped[i] = swapped[i], swapped[i-1]

	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
	writePackets(t, a, merged)
	writePackets(t, b, swapped)
	idsA, idsB := packetIDs(readPackets(t, a)), packetIDs(readPackets(t, b))
	for _, cmd := range []string{"calls", "check"} {
		outA, _, _ := sipflow(t, nil, cmd, "--json", a)
		outB, _, _ := sipflow(t, nil, cmd, "--json", b)
		if outA == outB {
			t.Fatalf("%s: the same report from both files; the test swaps nothing that shows:\n%s", cmd, outA)
		}
		gotA, err := byPacketID(outA, idsA)
		if err != nil {
			t.Fatal(err)
		}
		gotB, err := byPacketID(outB, idsB)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(gotA, gotB) {
			t.Errorf("%s: the reports differ by more than packet numbers:\n%s\n%s", cmd, strings.Join(gotA, "\n"), strings.Join(gotB, "\n"))
		}
		// B's report read with A's numbering names other packets.
		if wrong, err := byPacketID(outB, idsA); err == nil && slices.Equal(wrong, gotA) {
			t.Errorf("%s: byPacketID does not tell packet %d from packet %d", cmd, i, i+1)
		}
	}
	if _, err := byPacketID(`{"packets":[1,999]}`, idsA); err == nil {
		t.Error("packet 999 of a short capture: no error")
	}
	// Every form a packet number takes in the reports is renamed.
	for _, form := range []string{`{"packets":[%d]}`, `{"events":[{"n":%d}]}`, `{"rtp_streams":[{"first_n":%d}]}`,
		`{"rtp_streams":[{"last_n":%d}]}`, `{"deviation":"got B -> A BYE (packet %d)"}`} {
		one, err1 := byPacketID(fmt.Sprintf(form, 1), idsA)
		two, err2 := byPacketID(fmt.Sprintf(form, 2), idsA)
		if err1 != nil || err2 != nil || slices.Equal(one, two) || !strings.Contains(one[0], idsA[0]) {
			t.Errorf("%s: packet 1 gives %v (%v), packet 2 %v (%v)", form, one, err1, two, err2)
		}
	}
}

// writePackets writes pkts to a pcap file, as sipflow capture -w does.
func writePackets(t *testing.T, name string, pkts []capture.Packet) {
	t.Helper()
	w, err := pcapw.Create(pcapw.Options{Path: name, Links: []capture.LinkType{pkts[0].Link}}, pkts[0].Time)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		if err := w.Write(&pkts[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
