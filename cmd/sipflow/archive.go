package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/render"
	"github.com/sipflow/sipflow/store"
)

// dbFlag is --db, the archive a command reads or writes: the flag, else
// $SIPFLOW_DB, else sipflow.db in the current folder.
type dbFlag struct {
	path string
	cmd  *cobra.Command
}

func (f *dbFlag) addFlag(cmd *cobra.Command) {
	f.cmd = cmd
	cmd.Flags().StringVar(&f.path, "db", "", "the archive, a SQLite file (default $SIPFLOW_DB, else sipflow.db)")
}

// given reports whether --db was on the command line.
func (f *dbFlag) given() bool { return f.cmd != nil && f.cmd.Flags().Changed("db") }

func (f *dbFlag) resolve() string {
	if f.path != "" {
		return f.path
	}
	if p := os.Getenv("SIPFLOW_DB"); p != "" {
		return p
	}
	return "sipflow.db"
}

// openStore opens an archive; its errors are exit status 2 with a message
// that says what to do.
func openStore(path string, opts store.Options) (*store.DB, error) {
	db, err := store.Open(path, opts)
	if err != nil {
		return nil, storeError(err)
	}
	return db, nil
}

// storeError makes an archive error an exit status 2 with advice.
func storeError(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	msg := err.Error()
	switch {
	case errors.Is(err, store.ErrFull):
		msg += " (the transaction was rolled back: the archive holds everything stored before it; free some space and run the same command again to complete the import)"
	case errors.Is(err, store.ErrReadOnly):
		msg += " (nothing was written; make the archive and its folder writable, or use another --db)"
	}
	return &exitError{code: exitUsage, err: errors.New(msg)}
}

type archiveOptions struct {
	*globalOptions
	correlateOptions
	db       dbFlag
	force    bool
	progress string
	maxPages int64
	// progressState is what an interrupt reports (watchInterrupts); nil
	// when sipflow does not run as a program.
	progressState *archiveProgress
}

func newArchiveCmd(g *globalOptions) *cobra.Command {
	o := &archiveOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "archive FILE...",
		Short: "Store the calls of captures in an archive (SQLite) to search them later",
		Long: `Import every call, registration and other dialog of each capture into an
archive, a SQLite file: each call with its legs, dialogs, messages (their
full text), findings, events and RTP streams, and the raw packets they came
from. 'sipflow search' finds them again, 'sipflow flow --db' and 'sipflow
check --db' show them as from the capture, 'sipflow export' writes their
packets back to a pcap file, 'sipflow captures' lists what was imported.

The archive is --db, else $SIPFLOW_DB, else sipflow.db in the current
folder; it is created (mode 0600: captures hold phone numbers and digest
credentials) if it does not exist.

FILE may be - (standard input): it, and any other capture that can be
read only once (a FIFO, /dev/stdin, a shell's <(...)), is copied to a
temporary file beside the archive, deleted as soon as it is made, since
the capture is read three times.

A capture is known by the SHA-256 of its bytes: importing the same file
again stores nothing and says so; --force imports it again, replacing what
it stored. An import that was interrupted (a crash, kill -9, a full disk)
leaves the archive consistent, with the calls stored so far; running the
same command again completes it, with nothing twice and nothing missing.
Interrupted (Ctrl-C, SIGTERM), it says which capture it was importing and
which files it finished or did not start, and exits 130 or 143.
Searches work while an import runs.

The analysis options (--link-header, --idle-timeout, --call-timeout,
--flows, --no-rtp, --rtp-heuristic) are those of 'sipflow calls' and are
recorded with the capture. A progress bar shows on standard error when it
is a terminal.

Exit status: 0 imported (or already there), 2 usage or I/O error (the
archive cannot be written: full disk, read-only file), 3 a capture was
damaged (everything before the damage was imported; said again, with the
same status, when the damaged file is archived again).`,
		Example: `  sipflow archive --db calls.db trace1.pcap trace2.pcapng.gz
  SIPFLOW_DB=/srv/sip/calls.db sipflow archive /captures/*.pcap
  tcpdump -w - port 5060 | sipflow archive -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(args)
		},
	}
	o.correlateOptions.addFlags(cmd)
	o.db.addFlag(cmd)
	cmd.Flags().BoolVar(&o.force, "force", false, "import again a capture already in the archive (same SHA-256), replacing it")
	cmd.Flags().StringVar(&o.progress, "progress", "auto", "progress bar on standard error: auto (when it is a terminal), always or never")
	cmd.Flags().Int64Var(&o.maxPages, "db-max-pages", 0, "cap the archive at this many pages (tests: a full disk)")
	cmd.Flags().MarkHidden("db-max-pages")
	return cmd
}

func (o *archiveOptions) run(files []string) error {
	switch o.progress {
	case "auto", "always", "never":
	default:
		return usageError("--progress must be auto, always or never, not %q", o.progress)
	}
	copts, err := o.correlateOptions.options(true)
	if err != nil {
		return err
	}
	stdin := 0
	for _, f := range files {
		if f == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return usageError("standard input (-) can be given once")
	}
	for _, f := range files {
		if err := refuseOverwrite("--db", o.db.resolve(), readFile{"the capture", f}); err != nil {
			return err
		}
	}
	if err := o.refuseStdout("the archive", o.db.resolve()); err != nil {
		return err
	}
	db, err := openStore(o.db.resolve(), store.Options{Create: true, MaxPages: o.maxPages})
	if err != nil {
		return err
	}
	defer db.Close()
	defer o.watchInterrupts(db.Path(), files)()
	// The heap holds calls on their way to the archive, which keeps up with
	// the analysis only so far: a soft limit makes the collector work
	// harder rather than let a gigabyte capture take memory in proportion.
	if debug.SetMemoryLimit(-1) == math.MaxInt64 {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(archiveHeapLimit))
	}
	// A file that cannot be read is reported and the others imported; an
	// archive that cannot be written stops everything.
	var worst error
	for _, f := range files {
		err := o.archiveFile(db, f, copts)
		var damaged *exitError
		o.progressState.finished(err == nil || errors.As(err, &damaged) && damaged.code == exitDamaged) // in the archive
		var ee *exitError
		var se *archiveWriteError
		switch {
		case err == nil:
		case errors.As(err, &se):
			return storeError(se.err)
		case errors.As(err, &ee):
			if ee.err != nil {
				sayError(o.Err, ee.err)
			}
			if w, ok := worst.(*exitError); !ok || w.code == exitDamaged {
				worst = &exitError{code: ee.code} // usage and I/O errors (2) rank above damage (3)
			}
		default:
			return err
		}
	}
	return worst
}

// archiveWriteError is an error of the archive itself (full, read-only):
// no other file can be imported either.
type archiveWriteError struct{ err error }

func (e *archiveWriteError) Error() string { return e.err.Error() }

// importError is an error of a capture's import: one of the archive itself
// stops everything; one of this capture alone (another process started its
// import over) is this file's, and the other files are imported.
func importError(file string, err error) error {
	if errors.Is(err, store.ErrStartedOver) {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", file, err)}
	}
	return &archiveWriteError{err}
}

// archiveFile imports one capture in three passes over the file:
//
//  1. read every packet, computing the file's SHA-256 (what identifies it)
//     and checking it is a capture, before anything is written;
//  2. analyse it exactly as 'sipflow calls' does, storing each finished
//     call as it comes, in batches, one transaction each;
//  3. read it again for the frames of the stored calls' messages and RTP.
//
// The third pass is what keeps memory small whatever the capture's size:
// the calls say which packets they need only when they finish, so keeping
// frames during the analysis would mean holding every SIP frame of every
// open call, or guessing; the second read parses no SIP (it decodes packets
// only to find RTP streams, when the calls have any), and what it needs to
// know is a bit per packet.
func (o *archiveOptions) archiveFile(db *store.DB, file string, copts correlate.Options) error {
	ctx := context.Background()
	// Standard input, a FIFO, a pipe: read three times, so copied once,
	// beside the archive (a capture may be large, and /tmp is often small).
	unspool, err := o.spoolCapture(file, filepath.Dir(db.Path()))
	if err != nil {
		return err
	}
	defer unspool()
	bar := newProgressBar(o.Err, o.progress, file)
	defer bar.stop()
	o.progressState.starting(bar)

	sum, err := o.fingerprint(file, bar)
	if err != nil {
		return err
	}
	// The analysis's reading is opened before the archive is written: a
	// capture that cannot be opened again (gone since, or unreadable)
	// leaves no import behind, to be listed as importing.
	src, err := openCapture(o.globalOptions, file)
	if err != nil {
		return err
	}
	defer func() {
		if src != nil {
			src.Close()
		}
	}()
	im, err := db.BeginImport(ctx, store.ImportSpec{
		SHA256: sum.sha256, Name: file, Size: sum.size,
		Options: analysisOptions(copts) + o.keyLogOption(), LinkHeaders: copts.LinkHeaders, Force: o.force,
	})
	if err != nil {
		return &archiveWriteError{err}
	}
	defer im.Close()
	if !im.Duplicate {
		o.progressState.importing()
	}
	if im.Duplicate {
		bar.stop()
		c := im.Capture
		say(o.Out, "%s: already in %s as capture %d (imported %s, %s): nothing stored; --force imports it again",
			file, db.Path(), c.ID, c.ImportedAt.Format("2006-01-02 15:04:05 UTC"), plural(c.Calls, "call"))
		if c.Damage != "" { // as its import said: the file is no less damaged now
			return archivedDamage(c.Damage)
		}
		return nil
	}

	// Pass 2: the analysis, storing calls as they finish.
	bar.phase("analysing", sum.size)
	analyzeErr, storeErr := o.storeCalls(file, src, im, copts, bar, sum)
	src = nil // the analysis closed it
	if storeErr != nil {
		return importError(file, storeErr)
	}
	var damage string
	if analyzeErr != nil {
		var ee *exitError
		if !errors.As(analyzeErr, &ee) || ee.code != exitDamaged {
			return analyzeErr
		}
		damage = ee.err.Error()
	}

	// Pass 3: the frames.
	bar.phase("packets", sum.size)
	if err := storePackets(ctx, o.globalOptions, file, im, bar); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return err // the capture's, not the archive's: the import resumes when it is run again
		}
		return importError(file, err)
	}
	if err := im.Finish(ctx, damage); err != nil {
		return importError(file, err)
	}
	bar.stop()
	c := im.Capture
	how := ""
	switch {
	case im.Resumed:
		how = " (an import begun earlier, now complete)"
	case im.Replaced:
		how = " (replacing its earlier import)"
	}
	say(o.Out, "%s: %s, %s, %s in %s as capture %d%s", file,
		plural(c.Calls, "call"), plural(c.Messages, "message"), plural(c.Packets, "packet"), db.Path(), c.ID, how)
	if damage != "" {
		return archivedDamage(damage)
	}
	return nil
}

// archivedDamage is the error of a damaged capture archived up to its
// damage (exit status 3).
func archivedDamage(damage string) error {
	return &exitError{code: exitDamaged, err: errors.New(strings.Replace(damage, "was analysed", "was archived", 1))}
}

// fileSum is what the first pass learns about a capture.
type fileSum struct {
	sha256  string
	size    int64
	packets int
	// offsets[i] is how many bytes of the file had been read when packet
	// (i+1)*offsetStep was: the analysis, which does not say how far it
	// has read, reports progress through the packet numbers of its calls.
	offsets []int64
}

const offsetStep = 4096

// fingerprint reads the whole capture once: its SHA-256, its packet count,
// and whether it is a capture at all (before the archive is touched).
func (o *archiveOptions) fingerprint(name string, bar *progressBar) (*fileSum, error) {
	sum := &fileSum{}
	var r io.Reader
	if s := o.spools[name]; s != nil {
		r, sum.size = s.reader(), s.size
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, &exitError{code: exitUsage, err: err}
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, &exitError{code: exitUsage, err: err}
		}
		r, sum.size = f, fi.Size()
	}
	bar.phase("reading", sum.size)
	hr := &hashReader{r: r, h: sha256.New()}
	src, err := capture.NewReader(hr, name)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	rd, _ := src.(*capture.Reader)
	for {
		p, err := src.Next()
		if err != nil {
			break // damage is the analysis's to report
		}
		sum.packets = p.N
		if p.N%offsetStep == 0 && rd != nil {
			sum.offsets = append(sum.offsets, rd.BytesRead())
			bar.set(rd.BytesRead())
		}
	}
	src.Close()
	// What the reader did not need (after damage, trailing bytes) counts too.
	if _, err := io.Copy(io.Discard, hr); err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", name, err)}
	}
	h := hr.sum()
	sum.sha256 = hex.EncodeToString(h)
	return sum, nil
}

// hashReader hashes what is read through it. The capture reader reads
// ahead from a goroutine of its own that Close does not wait for, so reads
// are serialised: the bytes go into the hash in file order whoever reads.
type hashReader struct {
	mu sync.Mutex
	r  io.Reader
	h  hash.Hash
}

func (r *hashReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.r.Read(p)
	r.h.Write(p[:n])
	return n, err
}

func (r *hashReader) sum() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.h.Sum(nil)
}

// offsetOf estimates how many bytes of the file precede packet n.
func (s *fileSum) offsetOf(n int) int64 {
	i := n/offsetStep - 1
	switch {
	case i < 0:
		return 0
	case i >= len(s.offsets):
		return s.size
	}
	return s.offsets[i]
}

// analysisOptions describes what changes the calls an analysis makes: a
// resumed import must use the same, or its calls would not line up.
func analysisOptions(o correlate.Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v3 link-headers=%s idle=%s call=%s media=%t rtp-heuristic=%t", strings.Join(o.LinkHeaders, ","), o.IdleTimeout, o.CallTimeout, o.Media, o.RTPHeuristic)
	if o.MaxOpen != 0 && o.MaxOpen != correlate.DefaultMaxOpen {
		fmt.Fprintf(&b, " max-open=%d", o.MaxOpen) // only when set: imports begun before it still resume
	}
	if o.Flows != nil {
		h := sha256.New()
		for _, f := range o.Flows {
			h.Write([]byte(f.String())) // the same bytes as before Flow.String: resumed imports still match
		}
		fmt.Fprintf(&b, " flows=%x", h.Sum(nil)[:8])
	}
	return b.String()
}

// keyLogOption is what analysisOptions says of --tls-keylog: the first 8
// bytes of the key log's SHA-256 (decode.KeyLog.Sum), since its secrets
// change the calls an import makes; nothing without one, so that imports
// begun before it still resume.
func (g *globalOptions) keyLogOption() string {
	if g.keyLog == nil {
		return ""
	}
	sum := g.keyLog.Sum()
	return fmt.Sprintf(" tls-keylog=%x", sum[:8])
}

// archiveHeapLimit is the Go heap archive aims to stay under (SQLite's page
// cache, 64 MB, comes on top).
const archiveHeapLimit = 100 << 20

// Batches of calls go to the archive in one transaction each: big enough
// that a commit costs little per call, small enough that a crash loses
// little and memory stays flat.
const (
	batchCalls = 512
	batchBytes = 2 << 20
)

// storeCalls runs the analysis of src, the capture name opened, and
// stores its calls from a goroutine of their own, so that analysis and
// SQLite work side by side; the analysis waits when the archive falls
// behind, which bounds memory.
func (o *archiveOptions) storeCalls(name string, src capture.Source, im *store.Import, copts correlate.Options, bar *progressBar, sum *fileSum) (analyzeErr, storeErr error) {
	ctx := context.Background()
	g := *o.globalOptions
	g.opened = map[string]capture.Source{name: src}
	defer func() {
		if src, ok := g.opened[name]; ok {
			src.Close()
		}
	}()
	batches := make(chan callBatch, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := range batches {
			if storeErr != nil {
				continue // the analysis cannot be stopped; let it run out
			}
			if _, err := im.AddPrepared(ctx, b.calls); err != nil {
				storeErr = err
				continue
			}
			bar.set(sum.offsetOf(b.maxN))
			bar.calls(im.Capture.Calls)
		}
	}()
	var cur callBatch
	size := 0
	done := im.Capture.DoneSeq
	var prep store.Preparer
	onCall := func(c *correlate.Call) {
		if c.Seq <= done {
			return // stored by the import this one resumes
		}
		cur.calls = append(cur.calls, prep.Prepare(c))
		for _, l := range c.Legs {
			for _, m := range l.Messages {
				size += len(m.Raw()) + 128
				cur.maxN = max(cur.maxN, m.N)
			}
		}
		if len(cur.calls) >= batchCalls || size >= batchBytes {
			batches <- cur
			cur, size = callBatch{}, 0
		}
	}
	_, analyzeErr = analyzeCapture(&g, name, copts, onCall)
	if len(cur.calls) > 0 {
		batches <- cur
	}
	close(batches)
	wg.Wait()
	return analyzeErr, storeErr
}

// callBatch is calls on their way to the archive, and the highest packet
// number their messages reach (for the progress bar).
type callBatch struct {
	calls []*store.Prepared
	maxN  int
}

// storePackets reads the capture again and stores the frames the stored
// calls need: those of their SIP messages and, when they have RTP streams,
// of their media (which takes decoding every UDP datagram).
func storePackets(ctx context.Context, g *globalOptions, name string, im *store.Import, bar *progressBar) error {
	set := im.Set
	if set.SIPCount() == 0 && !set.HasStreams() {
		return nil
	}
	return selectPackets(g, name, set, func(batch []store.Packet) error {
		err := im.AddPackets(ctx, batch)
		bar.calls(im.Capture.Calls)
		return err
	}, bar)
}

// selectPackets reads a capture and hands the packets set wants to flush,
// in batches of copies valid until flush returns. A capture that cannot be
// opened is an *exitError; flush's errors are returned as they are.
func selectPackets(g *globalOptions, name string, set *store.PacketSet, flush func([]store.Packet) error, bar *progressBar) error {
	src, err := openCaptureRead(g, name)
	if err != nil {
		return err
	}
	defer src.Close()
	rd, _ := src.(*capture.Reader)
	sel := newPacketSelector(set, flush)
	for {
		p, err := src.Next()
		if err != nil {
			break // io.EOF, or the damage the analysis reported
		}
		flushed, err := sel.add(p)
		if err != nil {
			return err
		}
		if flushed && rd != nil {
			bar.set(rd.BytesRead())
		}
	}
	return sel.send()
}

// packetSelector picks, from packets offered in capture order, those a
// PacketSet wants (SIP by number, RTP and RTCP by stream, which it decodes
// the packet to find), and hands them to flush in batches of copies valid
// until flush returns.
type packetSelector struct {
	set    *store.PacketSet
	flush  func([]store.Packet) error
	batch  []store.Packet
	buf    []byte
	cur    *capture.Packet
	stream int64 // the stream of cur, 0 if none
	dec    *decode.Decoder
}

func newPacketSelector(set *store.PacketSet, flush func([]store.Packet) error) *packetSelector {
	s := &packetSelector{set: set, flush: flush}
	if set.HasStreams() {
		s.dec = decode.NewDecoder(&handler{
			datagram: func(d *decode.Datagram) {
				if id, ok := set.Stream(d.N, d.Src, d.Dst, d.Payload); ok && d.N == s.cur.N {
					s.stream = id
				}
			},
			warnings: &warnings{w: io.Discard},
		}, decode.Options{})
	}
	return s
}

// add offers a packet; flushed says whether a batch went to flush.
func (s *packetSelector) add(p *capture.Packet) (flushed bool, err error) {
	s.cur, s.stream = p, 0
	if s.dec != nil {
		s.dec.Decode(p)
	}
	if s.stream == 0 && !s.set.SIP(p.N) {
		return false, nil
	}
	// Frames are copied one after the other into buf; when it grows, the
	// earlier ones keep pointing into the old array, which stays as it was.
	start := len(s.buf)
	s.buf = append(s.buf, p.Data...)
	s.batch = append(s.batch, store.Packet{N: p.N, Time: p.Time, Link: p.Link, OrigLen: p.Length, Stream: s.stream, Data: s.buf[start:len(s.buf):len(s.buf)]})
	if len(s.batch) < 8192 && len(s.buf) < 8<<20 {
		return false, nil
	}
	return true, s.send()
}

// send hands the batch to flush.
func (s *packetSelector) send() error {
	if len(s.batch) == 0 {
		return nil
	}
	err := s.flush(s.batch)
	s.batch, s.buf = s.batch[:0], s.buf[:0]
	return err
}

// progressBar draws one line on standard error while an import runs: the
// phase, the bytes of the file read, the calls stored. It redraws from its
// own goroutine ten times a second (wall clock: this is for a person to
// watch, nothing is decided by it), and only on a terminal.
type progressBar struct {
	mu       sync.Mutex
	w        io.Writer
	name     string
	what     string
	done     int64
	total    int64
	stored   int64
	start    time.Time
	quit     chan struct{}
	quitOnce sync.Once
	exited   chan struct{}
}

func newProgressBar(w io.Writer, mode, name string) *progressBar {
	if mode == "never" || mode == "auto" && !isTerminal(w) {
		return nil
	}
	b := &progressBar{w: w, name: render.SanitizeString(name), start: time.Now(), quit: make(chan struct{}), exited: make(chan struct{})}
	go b.loop()
	return b
}

func (b *progressBar) loop() {
	defer close(b.exited)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-b.quit:
			fmt.Fprint(b.w, "\r\x1b[K")
			return
		case <-t.C:
			b.draw()
		}
	}
}

func (b *progressBar) draw() {
	b.mu.Lock()
	what, done, total, stored := b.what, b.done, b.total, b.stored
	b.mu.Unlock()
	const width = 24
	frac := 0.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	fill := int(frac * width)
	bar := strings.Repeat("█", fill) + strings.Repeat("░", width-fill)
	name := b.name
	if len(name) > 28 {
		name = "…" + name[len(name)-27:]
	}
	fmt.Fprintf(b.w, "\r\x1b[K%s %-9s %s %3.0f%% %s/%s  %d calls  %s", name, what, bar, frac*100,
		fmtBytes(done), fmtBytes(total), stored, time.Since(b.start).Round(time.Second))
}

func (b *progressBar) phase(what string, total int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.what, b.total, b.done = what, total, 0
	b.mu.Unlock()
}

func (b *progressBar) set(done int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.done = max(b.done, done)
	b.mu.Unlock()
}

func (b *progressBar) calls(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.stored = n
	b.mu.Unlock()
}

// stop erases the bar; it may be called more than once, and from two
// goroutines at once (an interrupt's report, watchInterrupts).
func (b *progressBar) stop() {
	if b == nil {
		return
	}
	b.quitOnce.Do(func() { close(b.quit) })
	<-b.exited
}

// plural is "1 call", "2 calls".
func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
