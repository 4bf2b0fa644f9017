package main

// The live pipeline of `sipflow capture`.
//
// One goroutine (read) takes packets from the capture and, for each, under
// the session lock: writes it to the -w file, moves the correlator's packet
// time to it, and decodes it, the correlator getting every SIP message. That
// is the sequence analyze() runs over a file in one goroutine (Advance, then
// Decode, then Add for each message), so a capture gives the same calls,
// states and findings as `sipflow calls` on the file it wrote. Finished
// calls go to the output and the archive from inside that sequence.
//
// A second goroutine (ticker) wakes every liveTick. It flushes the -w file
// and takes what the output has ready (written outside the lock, so a slow
// terminal or pipe never holds up the capture), and it is the one place
// where the clock drives packet logic: when the link is idle, it moves the
// correlator's packet time on to liveTickLag before the clock. Without it,
// on an idle link, packet time would stop and a call that has ended would
// never be reported (calls finish 5 s of packet time after their last
// transaction). Idle means: no packet read since the last tick, the reader
// waiting, and every packet the kernel queued read (its counters say so;
// see drained), so that packet time stays monotonic even when sipflow is
// starved of CPU with packets waiting in the ring. Files never take this
// path: their packet time is their timestamps only.
//
// A third (supervise) waits for SIGINT, SIGTERM or --duration. Then it lets
// the reader drain what the kernel still holds (until the kernel's counters
// say every packet it queued was read, or the reader has seen a packet
// stamped after the stop on every interface; drainMax at most; a second
// signal cuts it short) and closes the capture. What remains is finished in order: decoder and
// correlator flushed (every open call reported), -w file flushed and
// closed, archive closed, summary printed.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/pcapw"
)

const (
	liveTick    = 250 * time.Millisecond // flush, redraw, idle tick
	liveTickLag = 500 * time.Millisecond // how far behind the clock the idle tick puts packet time
	drainQuiet  = 100 * time.Millisecond // after a stop, without the kernel's counters: idle this long means it holds nothing more
	drainMax    = 5 * time.Second        // after a stop: drain at most this long
	drainPoll   = 10 * time.Millisecond
)

// liveSession is one run of `sipflow capture`.
type liveSession struct {
	opts    *captureOptions
	cfg     *liveConfig
	src     capture.LiveSource
	sig     chan os.Signal
	archive archive
	spool   bool // pw is the spool of --db, not -w

	mu       sync.Mutex // the reader and the ticker share everything from here to packets
	dec      *decode.Decoder
	corr     *correlate.Correlator
	pw       *pcapw.Writer
	out      liveOutput
	warn     *warnings
	calls    int // calls shown (passing the filters)
	findings int // their findings
	err      error

	packets   atomic.Int64 // packets read, written and decoded
	inNext    atomic.Bool  // the reader is waiting for a packet
	stopAt    atomic.Int64 // UnixNano of the stop request; 0 before
	closeOnce sync.Once
	done      chan struct{} // closed when the reader has returned
}

// liveStatus is what the table's title and the summary show.
type liveStatus struct {
	iface    string
	filter   string
	elapsed  time.Duration
	packets  int64
	dropped  uint64
	statsErr error
	calls    int
	findings int
	warnings int
}

func (s *liveSession) run(copts correlate.Options) error {
	o, g := s.opts, s.opts.globalOptions
	label := strings.Join(o.ifaces, ",")
	s.done = make(chan struct{})

	var warnBuf bytes.Buffer
	s.warn = &warnings{w: g.Err, file: label}
	switch s.cfg.mode {
	case modeJSON:
		s.out = &jsonOutput{}
	case modeLines:
		s.out = newLineOutput(g.renderer(o.Out), o.filter.all)
	case modeTable:
		s.out = newTableView(g.renderer(o.Out), o.Out, o.filter.all, copts)
		s.warn.w = &warnBuf // printed after the view, which they would tear
	}
	h := &handler{warnings: s.warn, message: func(m *decode.Message) {
		s.corr.Add(m)
		s.out.message(m)
	}}
	if copts.Media {
		h.datagram = func(d *decode.Datagram) { s.corr.AddDatagram(d.N, d.Time, d.Src, d.Dst, d.Payload) }
	}
	s.dec = decode.NewDecoder(h, decode.Options{KeyLog: g.keyLog})
	s.corr = correlate.New(copts, s.finished)

	if err := s.openFiles(copts); err != nil {
		s.src.Close()
		return err
	}
	say(g.Err, "sipflow: capturing on %s (%s), snapshot length %d bytes", label, s.cfg.filterText, o.snaplen)

	start := time.Now()
	tickStop, tickDone := make(chan struct{}), make(chan struct{})
	go s.supervise(start)
	go s.ticker(start, tickStop, tickDone)
	s.read()
	close(s.done)
	s.closeSource()
	close(tickStop)
	<-tickDone

	// Everything captured is in; finish it as analyze() finishes a file.
	// Notes go where warnings go: after the table, which they would tear.
	noteG := g
	if s.cfg.mode == modeTable {
		noteG = &globalOptions{streams: streams{Out: o.Out, Err: &warnBuf}}
	}
	s.mu.Lock()
	s.dec.Flush()
	ls, lsErr := s.src.Stats() // after Close: the final counters
	noteLoss(noteG, s.corr, captureLoss(&s.dec.Stats, ls.Dropped, lsErr == nil))
	noteTLS(noteG, label, &s.dec.Stats)
	s.corr.Flush()
	noteStats(noteG, copts, &s.corr.Stats)
	st := s.status(start, ls, lsErr)
	final := s.out.final(&st)
	s.mu.Unlock()
	var errs []error
	if s.err != nil {
		errs = append(errs, s.err)
	}
	if s.pw != nil {
		if err := s.pw.Close(); err != nil {
			errs = append(errs, fmt.Errorf("-w: %w", err))
		}
	}
	if s.archive != nil {
		var files []pcapw.File
		if s.pw != nil {
			files = s.pw.Files()
		}
		damage := ""
		if s.err != nil {
			damage = "the capture stopped: " + s.err.Error()
		}
		if err := s.archive.close(files, damage); err != nil {
			errs = append(errs, fmt.Errorf("--db: %w", err))
		}
		s.removeSpool()
	}
	if _, err := o.Out.Write(final); err != nil && !errors.Is(err, syscall.EPIPE) {
		errs = append(errs, fmt.Errorf("output: %w", err))
	}
	g.Err.Write(warnBuf.Bytes())
	s.warn.summary()
	say(g.Err, "%s", s.summary(&st))
	if len(errs) > 0 {
		return &exitError{code: exitUsage, err: errors.Join(errs...)}
	}
	return nil
}

// openFiles creates the -w file (or, for --db without -w, a spool file
// beside the archive) and opens the archive.
func (s *liveSession) openFiles(copts correlate.Options) error {
	o := s.opts
	path := o.write
	if path == "" && o.db != "" {
		var err error
		if path, err = spoolPath(o.db); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("--db: %w", err)}
		}
		s.spool = true
	}
	if path != "" {
		links, err := o.linkTypes(o.ifaces)
		if err == nil {
			popts := pcapw.Options{Path: path, Links: links, Interfaces: o.ifaces, SnapLen: o.snaplen}
			if !s.spool {
				popts.RotateSize, popts.RotateTime, popts.MaxFiles = s.cfg.rotateSize, o.rotateTime, o.rotateFiles
			}
			s.pw, err = pcapw.Create(popts, time.Now())
		}
		if err != nil {
			if s.spool {
				os.Remove(path)
				return &exitError{code: exitUsage, err: fmt.Errorf("--db: %w", err)}
			}
			return &exitError{code: exitUsage, err: fmt.Errorf("-w: %w", err)}
		}
	}
	if o.db != "" {
		err := o.refuseStdout("the archive", o.db)
		var a archive
		if err == nil {
			a, err = openArchive(o.db, liveCaptureName(o, time.Now()), copts)
		}
		if err != nil {
			s.pw.Close()
			s.removeSpool()
			return err
		}
		s.archive = a
	}
	return nil
}

// removeSpool deletes the spool file of --db without -w.
func (s *liveSession) removeSpool() {
	if s.spool && s.pw != nil {
		for _, f := range s.pw.Files() {
			os.Remove(f.Name)
		}
	}
}

// read is the capture loop; it returns when the capture is closed, fails,
// or has read --count packets, or once the drain after a stop is over.
func (s *liveSession) read() {
	nIf := len(s.opts.ifaces)
	var after []bool // by interface: a packet stamped after the stop was read
	left := nIf
	for {
		s.inNext.Store(true)
		p, err := s.src.Next()
		s.inNext.Store(false)
		if err != nil {
			if err != io.EOF {
				s.setErr(err)
			}
			return
		}
		s.mu.Lock()
		if s.pw != nil {
			if err := s.pw.Write(p); err != nil {
				s.err = errors.Join(s.err, fmt.Errorf("-w: %w", err))
				s.mu.Unlock()
				return
			}
		}
		s.corr.Advance(p.Time)
		s.dec.Decode(p)
		s.mu.Unlock()
		n := s.packets.Add(1)
		if s.opts.count > 0 && n >= s.opts.count {
			return
		}
		if at := s.stopAt.Load(); at != 0 && p.Time.UnixNano() > at {
			if after == nil {
				after = make([]bool, nIf)
			}
			if p.Iface >= 0 && p.Iface < nIf && !after[p.Iface] {
				after[p.Iface] = true
				if left--; left == 0 {
					return
				}
			}
		}
	}
}

func (s *liveSession) setErr(err error) {
	s.mu.Lock()
	s.err = errors.Join(s.err, err)
	s.mu.Unlock()
}

func (s *liveSession) closeSource() {
	s.closeOnce.Do(func() { s.src.Close() })
}

// supervise stops the capture on a signal or at the end of --duration,
// after letting the reader drain what the kernel holds: until the kernel's
// counters say every packet it queued was read (or, when they cannot say,
// the reader has had nothing for drainQuiet), drainMax at most.
func (s *liveSession) supervise(start time.Time) {
	var timeout <-chan time.Time
	if d := s.opts.duration; d > 0 {
		t := time.NewTimer(d - time.Since(start))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-s.sig:
	case <-timeout:
	case <-s.done:
		return
	}
	stop := time.Now()
	s.stopAt.Store(stop.UnixNano())
	poll := time.NewTicker(drainPoll)
	defer poll.Stop()
	last, quiet, lastRinged := s.packets.Load(), stop, uint64(0)
	for {
		select {
		case <-s.sig: // a second signal: stop now
			s.closeSource()
			return
		case <-s.done:
			return
		case now := <-poll.C:
			st, err := s.src.Stats()
			n := s.packets.Load()
			if n != last || !s.inNext.Load() {
				last, quiet = n, now
			}
			ringed := st.Received - st.Dropped
			var drained bool
			if err == nil && !s.cfg.userFilter {
				drained = s.inNext.Load() && ringed <= uint64(n)
			} else {
				drained = now.Sub(quiet) >= drainQuiet && (err != nil || ringed == lastRinged)
			}
			lastRinged = ringed
			if drained || now.Sub(stop) >= drainMax {
				s.closeSource()
				return
			}
		}
	}
}

// ticker flushes, redraws and moves packet time on when the link is idle.
func (s *liveSession) ticker(start time.Time, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(liveTick)
	defer t.Stop()
	seen := int64(-1)
	ringed := uint64(0)
	outGone := false
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			st, stErr := s.src.Stats()
			s.mu.Lock()
			if n := s.packets.Load(); n == seen && s.inNext.Load() && s.drained(st, stErr, n, ringed) {
				s.corr.Advance(now.Add(-liveTickLag))
			} else {
				seen = n
			}
			ringed = st.Received - st.Dropped
			var flushErr error
			if s.pw != nil {
				flushErr = s.pw.Flush()
			}
			status := s.status(start, st, stErr)
			b := s.out.tick(&status)
			s.mu.Unlock()
			if flushErr != nil {
				s.setErr(fmt.Errorf("-w: %w", flushErr))
				s.closeSource()
			}
			if len(b) > 0 && !outGone {
				if _, err := s.opts.Out.Write(b); err != nil {
					// The reader of the output went away: stop as on Ctrl-C
					// (a broken pipe is no error), or fail on anything else.
					outGone = true
					if !errors.Is(err, syscall.EPIPE) {
						s.setErr(fmt.Errorf("output: %w", err))
					}
					s.closeSource()
				}
			}
		}
	}
}

// drained reports whether every packet the kernel has queued for the
// capture was read: then packet time may move on to the clock. The
// kernel's count (packets received, drops included, minus drops) says so
// exactly; when a filter runs in user space (a VLAN test), packets the
// kernel queued are thrown away unseen, so the count never adds up: then
// it takes that nothing came in since the last tick either (lastRinged).
// A reader starved of CPU for longer than a tick, with packets waiting,
// would otherwise see its calls finished on the clock before those
// packets, which happens on a loaded machine (seen: 2.8 s).
func (s *liveSession) drained(st capture.LiveStats, err error, read int64, lastRinged uint64) bool {
	if err != nil {
		return false // cannot tell: wait for packets to move time on
	}
	ringed := st.Received - st.Dropped
	if s.cfg.userFilter {
		return ringed == lastRinged
	}
	return ringed <= uint64(read)
}

// finished receives every call the correlator finishes (under the lock).
func (s *liveSession) finished(c *correlate.Call) {
	if s.archive != nil {
		s.archive.add(c)
	}
	shown := s.opts.filter.match(c)
	if shown {
		s.calls++
		s.findings += len(c.Findings)
	}
	s.out.finished(c, shown)
}

// status is called under the lock, with the kernel's counters.
func (s *liveSession) status(start time.Time, ls capture.LiveStats, err error) liveStatus {
	return liveStatus{iface: strings.Join(s.opts.ifaces, ","), filter: s.cfg.filterText,
		elapsed: time.Since(start), packets: s.packets.Load(), dropped: ls.Dropped, statsErr: err,
		calls: s.calls, findings: s.findings, warnings: s.warn.count}
}

// summary is the line printed on stderr at the end.
func (s *liveSession) summary(st *liveStatus) string {
	dropped := fmt.Sprint(st.dropped)
	if st.statsErr != nil {
		dropped = "unknown (" + st.statsErr.Error() + ")"
	}
	line := fmt.Sprintf("sipflow: %d packets captured, %s dropped by the kernel, %d calls, %d findings",
		st.packets, dropped, st.calls, st.findings)
	if s.pw != nil && !s.spool {
		files := s.pw.Files()
		switch {
		case len(files) == 1:
			line += fmt.Sprintf("; %d packets written to %s", s.pw.Packets(), files[0].Name)
		case len(files) > 1:
			line += fmt.Sprintf("; %d packets written, %d files kept: %s ... %s", s.pw.Packets(), len(files), files[0].Name, files[len(files)-1].Name)
		}
	}
	if s.archive != nil {
		line += "; " + s.archive.result()
	}
	return line
}
