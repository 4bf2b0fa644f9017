package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/internal/jsonw"
	"github.com/sipflow/sipflow/internal/testfeed"
	"github.com/sipflow/sipflow/store"
)

// replaySource is a capture.LiveSource that replays packets (from a file,
// or given), optionally stamped relative to the clock, then waits, as a
// quiet interface does, until it is closed.
type replaySource struct {
	pkts   []capture.Packet
	i      int
	shift  time.Duration // added to every timestamp
	closed chan struct{}
	once   sync.Once
	cur    capture.Packet
}

func newReplay(pkts []capture.Packet) *replaySource {
	return &replaySource{pkts: pkts, closed: make(chan struct{})}
}

// readPackets returns the packets of a capture file, copied.
func readPackets(t testing.TB, name string) []capture.Packet {
	t.Helper()
	out, err := testfeed.Packets(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

func (r *replaySource) Next() (*capture.Packet, error) {
	select {
	case <-r.closed:
		return nil, io.EOF
	default:
	}
	if r.i == len(r.pkts) {
		<-r.closed
		return nil, io.EOF
	}
	r.cur = r.pkts[r.i]
	r.i++
	r.cur.N = r.i
	r.cur.Time = r.cur.Time.Add(r.shift)
	return &r.cur, nil
}

func (r *replaySource) Close() error {
	r.once.Do(func() { close(r.closed) })
	return nil
}

func (r *replaySource) Stats() (capture.LiveStats, error) {
	return capture.LiveStats{Received: uint64(r.i)}, nil
}

func fakeInterfaces() ([]capture.Interface, error) {
	return []capture.Interface{
		{Name: "lo", Index: 1, Up: true, Loopback: true, LinkType: capture.LinkEthernet,
			Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}},
		{Name: "eth0", Index: 2, Up: true, LinkType: capture.LinkEthernet,
			Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}},
		{Name: "any", Up: true, LinkType: capture.LinkLinuxSLL},
	}, nil
}

// runCapture runs `sipflow capture args...` in-process with the capture
// seams of o set by the caller, and returns stdout, stderr and the exit
// status as run would.
func runCapture(t *testing.T, o *captureOptions, out io.Writer, args ...string) (string, int) {
	t.Helper()
	var errb bytes.Buffer
	if out == nil {
		out = io.Discard
	}
	g := &globalOptions{streams: streams{In: bytes.NewReader(nil), Out: out, Err: &errb}}
	o.globalOptions = g
	if o.interfaces == nil {
		o.interfaces = fakeInterfaces
	}
	root := newRootCmd(g)
	for _, c := range root.Commands() {
		if c.Name() == "capture" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(newCaptureCmdOpts(o))
	root.SetArgs(append([]string{"capture"}, args...))
	err := root.Execute()
	code := exitOK
	if err != nil {
		code = exitUsage
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		fmt.Fprintf(&errb, "sipflow: %v\n", err)
	}
	return errb.String(), code
}

func TestCaptureUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "name an interface with -i"},
		{[]string{"-i", "lo", "--view", "fancy"}, "--view must be"},
		{[]string{"-i", "lo", "--rotate-size", "10MB"}, "need -w FILE"},
		{[]string{"-i", "lo", "-w", "x.pcap", "--rotate-files", "3"}, "--rotate-files needs"},
		{[]string{"-i", "lo", "-w", "x.pcap", "--rotate-size", "lots"}, "--rotate-size"},
		{[]string{"-i", "lo", "--buffer-size", "0"}, "--buffer-size"},
		{[]string{"-i", "lo", "--snaplen", "0"}, "--snaplen"},
		{[]string{"-i", "lo", "--state", "nonsense"}, "--state"},
		{[]string{"-i", "lo", "--duration", "-1s"}, "cannot be negative"},
		{[]string{"-i", "lo", "-w", "-"}, "not supported"},
		{[]string{"-D", "port", "5060"}, "-D takes no filter"},
	} {
		opened := false
		o := &captureOptions{openLive: func(capture.LiveOptions) (capture.LiveSource, error) {
			opened = true
			return newReplay(nil), nil
		}}
		errs, code := runCapture(t, o, nil, tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.want) || opened {
			t.Errorf("%v: exit %d, opened %v, stderr %q; want exit 2 and %q", tc.args, code, opened, errs, tc.want)
		}
	}
}

func TestCaptureListInterfaces(t *testing.T) {
	var out bytes.Buffer
	errs, code := runCapture(t, &captureOptions{}, &out, "-D")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	want := `1.   lo    ethernet    up,loopback   127.0.0.1/8 ::1/128
2.   eth0  ethernet    up            192.0.2.2/24
3.   any   linux-sll   up            (every interface)
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

// TestCapturePermission: without CAP_NET_RAW the capture layer's error,
// which says what to do, is printed, with exit status 2; nothing is created.
func TestCapturePermission(t *testing.T) {
	w := filepath.Join(t.TempDir(), "never.pcap")
	var gotOpts capture.LiveOptions
	o := &captureOptions{openLive: func(lo capture.LiveOptions) (capture.LiveSource, error) {
		gotOpts = lo
		return nil, fmt.Errorf("capture on eth0: %w (%w)", capture.ErrPermission, syscall.EPERM)
	}}
	errs, code := runCapture(t, o, nil, "-i", "eth0", "-i", "lo", "--promisc", "-w", w, "udp", "port", "5060")
	if code != exitUsage || !strings.Contains(errs, "CAP_NET_RAW") || !strings.Contains(errs, "setcap cap_net_raw,cap_net_admin=eip") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(w); err == nil {
		t.Error("-w file created although the capture could not start")
	}
	if !slices.Equal(gotOpts.Interfaces, []string{"eth0", "lo"}) || gotOpts.Filter != "udp port 5060" || !gotOpts.Promisc ||
		gotOpts.SnapLen != capture.DefaultSnapLen || gotOpts.BufferSize != 128<<20 {
		t.Errorf("LiveOptions %+v", gotOpts)
	}

	o = &captureOptions{openLive: func(capture.LiveOptions) (capture.LiveSource, error) {
		return nil, fmt.Errorf("capture on nope0: %w", capture.ErrNoInterface)
	}}
	errs, code = runCapture(t, o, nil, "-i", "nope0")
	if code != exitUsage || !strings.Contains(errs, "no such interface") || !strings.Contains(errs, "-D") {
		t.Errorf("no interface: exit %d, stderr %q", code, errs)
	}
}

// sortedLines returns the non-empty lines of s, sorted.
func sortedLines(s string) []string {
	var ls []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			ls = append(ls, l)
		}
	}
	sort.Strings(ls)
	return ls
}

// TestCaptureMatchesFile: the live pipeline reports, for every test
// capture replayed as if live, exactly what `sipflow calls --json --all`
// reports on the file (in the order calls finish rather than start), and
// -w writes every packet back unchanged.
func TestCaptureMatchesFile(t *testing.T) {
	files, _ := filepath.Glob(repoTestdata("*.pcap"))
	if len(files) == 0 {
		t.Fatal("no test captures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			pkts := readPackets(t, f)
			src := newReplay(pkts)
			o := &captureOptions{openLive: func(capture.LiveOptions) (capture.LiveSource, error) { return src, nil }}
			w := filepath.Join(t.TempDir(), "out.pcap")
			var out bytes.Buffer
			errs, code := runCapture(t, o, &out, "-i", "lo", "--json", "--all", "-w", w, "-c", fmt.Sprint(len(pkts)))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			want, werrs, wcode := sipflow(t, nil, "calls", "--json", "--all", f)
			if wcode != 0 {
				t.Fatalf("calls: exit %d: %s", wcode, werrs)
			}
			if got, exp := sortedLines(out.String()), sortedLines(want); !slices.Equal(got, exp) {
				t.Errorf("capture:\n%s\ncalls:\n%s", strings.Join(got, "\n"), strings.Join(exp, "\n"))
			}
			summary := fmt.Sprintf("sipflow: %d packets captured, 0 dropped by the kernel, %d calls,", len(pkts), len(sortedLines(want)))
			if !strings.Contains(errs, summary) || !strings.Contains(errs, fmt.Sprintf("; %d packets written to %s", len(pkts), w)) {
				t.Errorf("stderr %q, want %q", errs, summary)
			}
			back := readPackets(t, w)
			if len(back) != len(pkts) {
				t.Fatalf("-w file has %d packets, want %d", len(back), len(pkts))
			}
			for i := range back {
				if !back[i].Time.Equal(pkts[i].Time) || !bytes.Equal(back[i].Data, pkts[i].Data) || back[i].Length != pkts[i].Length {
					t.Fatalf("-w packet %d differs", i+1)
				}
			}
		})
	}
}

// TestCaptureLines: without --json and off a terminal, one line per call.
func TestCaptureLines(t *testing.T) {
	var all []capture.Packet
	for _, name := range []string{"call_rtp.pcap", "call_busy.pcap", "invite_no_ack.pcap", "register_401.pcap"} {
		all = append(all, readPackets(t, repoTestdata(name))...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	src := newReplay(all)
	var out bytes.Buffer
	errs, code := runCapture(t, &captureOptions{openLive: func(capture.LiveOptions) (capture.LiveSource, error) { return src, nil }},
		&out, "-i", "lo", "-c", fmt.Sprint(len(all)), "--color", "never")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	golden(t, "capture_lines.txt", out.String())
	summary := regexp.MustCompile(fmt.Sprintf(`sipflow: %d packets captured, 0 dropped by the kernel, 3 calls, \d+ findings\n`, len(all)))
	if !strings.Contains(errs, "sipflow: capturing on lo (udp or tcp), snapshot length 262144 bytes\n") || !summary.MatchString(errs) {
		t.Errorf("stderr %q", errs)
	}
}

// TestCaptureTable: the live table ends with every call in its final state.
func TestCaptureTable(t *testing.T) {
	pkts := append(readPackets(t, repoTestdata("call_rtp.pcap")), readPackets(t, repoTestdata("call_busy.pcap"))...)
	src := newReplay(pkts)
	var out bytes.Buffer
	errs, code := runCapture(t, &captureOptions{openLive: func(capture.LiveOptions) (capture.LiveSource, error) { return src, nil }},
		&out, "-i", "lo", "--view", "table", "-c", fmt.Sprint(len(pkts)), "--color", "never")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	s := out.String()
	if !strings.HasPrefix(s, "\x1b[?25l") || !strings.HasSuffix(s, "\x1b[?25h") {
		t.Errorf("cursor not hidden then shown again: %q", s)
	}
	for _, want := range []string{"sipflow capture · ", "2 calls · 1 findings · lo (udp or tcp)", "CALL-ID",
		"1-24089@127…", "completed", "rejected", "486", "1 call-failed"} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
}

// notifyWriter records what is written and signals the first write.
type notifyWriter struct {
	mu    sync.Mutex
	b     bytes.Buffer
	first chan struct{}
	once  sync.Once
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.once.Do(func() { close(w.first) })
	return w.b.Write(p)
}

func (w *notifyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestCaptureIdleTick: on a link gone quiet, a call that has ended is still
// reported about 5 s (the correlator's linger) after its last message: the
// clock moves packet time on. The capture keeps running meanwhile, then
// stops on a signal.
func TestCaptureIdleTick(t *testing.T) {
	pkts := readPackets(t, repoTestdata("call_rtp.pcap"))
	src := newReplay(pkts)
	start := time.Now()
	src.shift = start.Sub(pkts[len(pkts)-1].Time) // the last packet (200 to BYE) is now
	sig := make(chan os.Signal, 2)
	out := &notifyWriter{first: make(chan struct{})}
	go func() {
		select {
		case <-out.first:
		case <-time.After(15 * time.Second):
		}
		sig <- os.Interrupt
	}()
	errs, code := runCapture(t, &captureOptions{signals: sig, openLive: func(capture.LiveOptions) (capture.LiveSource, error) { return src, nil }},
		out, "-i", "lo", "--json")
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if took < 5*time.Second || took > 8*time.Second {
		t.Errorf("the call came out %v after its last message, want 5-8 s", took)
	}
	if !strings.Contains(out.String(), `"state":"completed"`) || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("output %q", out.String())
	}
	if !strings.Contains(errs, "141 packets captured, 0 dropped by the kernel, 1 calls, 0 findings") {
		t.Errorf("stderr %q", errs)
	}
}

// TestCaptureDuration: --duration stops a capture on a silent interface.
func TestCaptureDuration(t *testing.T) {
	src := newReplay(nil)
	start := time.Now()
	errs, code := runCapture(t, &captureOptions{openLive: func(capture.LiveOptions) (capture.LiveSource, error) { return src, nil }},
		nil, "-i", "lo", "--duration", "300ms")
	took := time.Since(start)
	if code != 0 || took < 300*time.Millisecond || took > 3*time.Second {
		t.Errorf("exit %d after %v: %s", code, took, errs)
	}
	if !strings.Contains(errs, "0 packets captured, 0 dropped by the kernel, 0 calls, 0 findings") {
		t.Errorf("stderr %q", errs)
	}
}

// failingSource fails after its packets, as an interface going away does.
type failingSource struct{ *replaySource }

func (f failingSource) Next() (*capture.Packet, error) {
	if f.i == len(f.pkts) {
		return nil, errors.New("capture on eth9: network is down")
	}
	return f.replaySource.Next()
}

// TestCaptureSourceError: a capture that fails still finishes its calls and
// closes the file, then exits 2 with the error.
func TestCaptureSourceError(t *testing.T) {
	pkts := readPackets(t, repoTestdata("call_busy.pcap"))
	src := failingSource{newReplay(pkts)}
	w := filepath.Join(t.TempDir(), "x.pcap")
	var out bytes.Buffer
	errs, code := runCapture(t, &captureOptions{openLive: func(capture.LiveOptions) (capture.LiveSource, error) { return src, nil }},
		&out, "-i", "eth0", "--json", "-w", w)
	if code != exitUsage || !strings.Contains(errs, "network is down") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if !strings.Contains(out.String(), `"state":"rejected"`) {
		t.Errorf("the call was not reported: %q", out.String())
	}
	if n := len(readPackets(t, w)); n != len(pkts) {
		t.Errorf("-w has %d packets, want %d", n, len(pkts))
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"100": 100, "1k": 1000, "10MB": 10e6, "1.5G": 1.5e9, "32MiB": 32 << 20, "2KiB": 2048} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("%s: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "10 parsecs", "-1"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// archivedCalls returns the one capture of an archive and the calls --json
// objects of its calls, sorted.
func archivedCalls(t *testing.T, path string) (store.Capture, []string) {
	t.Helper()
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	caps, err := db.Captures(context.Background())
	if err != nil || len(caps) != 1 {
		t.Fatalf("%s: %d captures, %v", path, len(caps), err)
	}
	var lines []string
	var obj jsonw.Object
	err = db.Calls(context.Background(), store.Filter{All: true}, func(c *store.Call) error {
		callJSON(&obj, c.Call)
		lines = append(lines, strings.TrimSuffix(string(obj.B), "\n"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return *caps[0], lines
}

// TestCaptureArchive: --db stores what `sipflow archive` stores for the
// file of the same packets: the same calls, messages and packets (with -w,
// and without, when the packets are spooled beside the archive and the
// spool removed at the end).
func TestCaptureArchive(t *testing.T) {
	for _, name := range []string{"call_rtp.pcap", "b2bua_xcallid.pcap", "register_401.pcap", "invite_no_ack.pcap", "call_tcp.pcap"} {
		for _, withW := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/w=%v", name, withW), func(t *testing.T) {
				f := repoTestdata(name)
				dir := t.TempDir()
				fileDB, liveDB := filepath.Join(dir, "file.db"), filepath.Join(dir, "live.db")
				if _, errs, code := sipflow(t, nil, "archive", "--db", fileDB, f); code != 0 {
					t.Fatalf("archive: exit %d: %s", code, errs)
				}
				pkts := readPackets(t, f)
				src := newReplay(pkts)
				args := []string{"-i", "lo", "--json", "--db", liveDB, "-c", fmt.Sprint(len(pkts))}
				if withW {
					args = append(args, "-w", filepath.Join(dir, "live.pcap"))
				}
				errs, code := runCapture(t, &captureOptions{openLive: func(capture.LiveOptions) (capture.LiveSource, error) { return src, nil }}, nil, args...)
				if code != 0 {
					t.Fatalf("capture: exit %d: %s", code, errs)
				}
				want, wantCalls := archivedCalls(t, fileDB)
				got, gotCalls := archivedCalls(t, liveDB)
				if !got.Complete || got.Calls != want.Calls || got.Messages != want.Messages || got.Packets != want.Packets || got.Packets == 0 {
					t.Errorf("live capture in the archive: complete %v, %d calls, %d messages, %d packets; the file's: %d, %d, %d",
						got.Complete, got.Calls, got.Messages, got.Packets, want.Calls, want.Messages, want.Packets)
				}
				if !slices.Equal(gotCalls, wantCalls) {
					t.Errorf("calls differ:\n%s\n---\n%s", strings.Join(gotCalls, "\n"), strings.Join(wantCalls, "\n"))
				}
				if !strings.Contains(errs, fmt.Sprintf("; %d calls, %d packets archived in %s as capture 1", got.Calls, got.Packets, liveDB)) {
					t.Errorf("summary: %s", errs)
				}
				if withW && got.Name != filepath.Join(dir, "live.pcap") || !withW && !strings.HasPrefix(got.Name, "live lo ") {
					t.Errorf("capture named %q", got.Name)
				}
				if left, _ := filepath.Glob(filepath.Join(dir, ".sipflow-live-*")); len(left) > 0 {
					t.Errorf("spool left behind: %v", left)
				}
			})
		}
	}
}

// TestDrained: the idle tick moves packet time on only once every packet
// the kernel queued has been read.
func TestDrained(t *testing.T) {
	errStats := errors.New("no stats")
	for _, tc := range []struct {
		st         capture.LiveStats
		err        error
		read       int64
		userFilter bool
		lastRinged uint64
		want       bool
	}{
		{capture.LiveStats{Received: 100}, nil, 100, false, 0, true},
		{capture.LiveStats{Received: 110, Dropped: 10}, nil, 100, false, 0, true},
		{capture.LiveStats{Received: 105}, nil, 100, false, 105, false}, // 5 packets wait in the ring
		{capture.LiveStats{Received: 100}, errStats, 100, false, 0, false},
		// A VLAN filter runs in user space: packets queued are thrown away
		// unseen, so only "nothing new since the last tick" can tell.
		{capture.LiveStats{Received: 500}, nil, 100, true, 500, true},
		{capture.LiveStats{Received: 501}, nil, 100, true, 500, false},
	} {
		s := &liveSession{cfg: &liveConfig{userFilter: tc.userFilter}}
		if got := s.drained(tc.st, tc.err, tc.read, tc.lastRinged); got != tc.want {
			t.Errorf("%+v: drained %v, want %v", tc, got, tc.want)
		}
	}
}

// brokenPipe is standard output whose reader has gone (| head).
type brokenPipe struct{}

func (brokenPipe) Write([]byte) (int, error) { return 0, syscall.EPIPE }

// TestCaptureOutputGone: when the reader of the output goes away, the
// capture stops as on Ctrl-C, closing the -w file, with status 0.
func TestCaptureOutputGone(t *testing.T) {
	pkts := readPackets(t, repoTestdata("call_busy.pcap"))
	src := newReplay(pkts) // then silent: the idle tick finishes the call, whose line cannot be written
	w := filepath.Join(t.TempDir(), "x.pcap")
	start := time.Now()
	errs, code := runCapture(t, &captureOptions{openLive: func(capture.LiveOptions) (capture.LiveSource, error) { return src, nil }},
		brokenPipe{}, "-i", "lo", "--json", "-w", w, "--duration", "20s")
	if code != 0 || time.Since(start) > 10*time.Second {
		t.Errorf("exit %d after %v: %s", code, time.Since(start), errs)
	}
	if n := len(readPackets(t, w)); n != len(pkts) || !strings.Contains(errs, fmt.Sprintf("%d packets captured", len(pkts))) {
		t.Errorf("-w has %d packets, want %d; stderr %s", n, len(pkts), errs)
	}
}
