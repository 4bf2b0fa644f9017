package main

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
)

// correlateOptions are the flags of every command that builds calls.
type correlateOptions struct {
	linkHeaders  []string
	idle         time.Duration
	callIdle     time.Duration
	flowsDir     string
	maxOpen      int
	noRTP        bool
	rtpHeuristic bool
}

func (o *correlateOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&o.linkHeaders, "link-header", nil,
		"header whose value is the Call-ID of another leg of the same call (repeatable; default X-Call-ID and X-CID)")
	cmd.Flags().DurationVar(&o.idle, "idle-timeout", 10*time.Minute, "finish a call after this much capture time without a message (a call ringing, a BYE unanswered)")
	cmd.Flags().DurationVar(&o.callIdle, "call-timeout", 2*time.Hour, "finish an answered call that no BYE has ended, or a subscription in force whose expiry no message gave, after this much capture time without a message or RTP")
	cmd.Flags().IntVar(&o.maxOpen, "max-open", correlate.DefaultMaxOpen, "hold at most this many calls open at once (0: no bound); past it one is finished early, as it stands (a finished call lingering for late retransmissions first, else the one quiet the longest), so that a capture missing its BYEs cannot fill memory")
	cmd.Flags().StringVar(&o.flowsDir, "flows", "", "directory of *.flow files that add to (tried first) or replace the built-in expected flows")
	cmd.Flags().BoolVar(&o.noRTP, "no-rtp", false, "skip RTP analysis (streams, one-way audio, loss, jitter): faster on captures full of media")
	cmd.Flags().BoolVar(&o.rtpHeuristic, "rtp-heuristic", false, "also measure RTP on UDP flows no SDP announced (version 2, sane payload type, advancing sequence)")
}

func (o *correlateOptions) options(keepRaw bool) (correlate.Options, error) {
	opts := correlate.Options{LinkHeaders: o.linkHeaders, IdleTimeout: o.idle, CallTimeout: o.callIdle, KeepRaw: keepRaw,
		Media: !o.noRTP, RTPHeuristic: o.rtpHeuristic && !o.noRTP}
	if o.idle <= 0 {
		return opts, usageError("--idle-timeout must be positive")
	}
	if o.callIdle <= 0 {
		return opts, usageError("--call-timeout must be positive")
	}
	switch {
	case o.maxOpen < 0:
		return opts, usageError("--max-open must be 0 (no bound) or positive")
	case o.maxOpen == 0:
		opts.MaxOpen = -1
	default:
		opts.MaxOpen = o.maxOpen
	}
	if o.flowsDir != "" {
		flows, err := correlate.LoadFlowDir(o.flowsDir, correlate.DefaultFlows())
		if err != nil {
			return opts, usageError("--flows: %v", err)
		}
		opts.Flows = flows
	}
	return opts, nil
}

// analyzeCapture runs a capture through decode and correlation and hands
// every finished call to onCall in the order the calls started (first
// message), whatever order they finished in.
//
// With two or more CPUs, reading and decoding run in one goroutine and
// correlation in another; the correlator sees exactly the same sequence of
// packet times and messages as in one goroutine, so the output is the same.
func analyzeCapture(g *globalOptions, file string, opts correlate.Options, onCall func(*correlate.Call)) (*correlate.Stats, error) {
	return analyze(g, file, opts, onCall, runtime.GOMAXPROCS(0) > 1, false)
}

// analyzeSummaries is analyzeCapture for a caller that reads only a call's
// summary, never its legs (messages, transactions, dialogs): their memory
// goes back to the correlator for later calls (correlate.Correlator.Recycle)
// the moment a call is finished, so onCall sees Legs nil. A call waiting
// for an older one to finish, so as to come out in start order, then
// holds only its summary, and at most maxWaiting wait: past that, start
// order gives way (callOrder).
//
// onCall says whether it keeps the *Call past its return: one it does not
// keep goes back too (correlate.Correlator.ReuseCall), and a later call is
// built in its memory. calls --json writes each call and forgets it: on
// big-sip that is a third of what the analysis allocates.
func analyzeSummaries(g *globalOptions, file string, opts correlate.Options, onCall func(*correlate.Call) (kept bool)) (*correlate.Stats, error) {
	return analyzeKeep(g, file, opts, onCall, runtime.GOMAXPROCS(0) > 1, true)
}

// keepAll adapts an onCall that may keep every call it is handed.
func keepAll(onCall func(*correlate.Call)) func(*correlate.Call) bool {
	return func(c *correlate.Call) bool { onCall(c); return true }
}

// analyze is analyzeKeep for an onCall that may keep every call.
func analyze(g *globalOptions, file string, opts correlate.Options, onCall func(*correlate.Call), parallel, recycle bool) (*correlate.Stats, error) {
	return analyzeKeep(g, file, opts, keepAll(onCall), parallel, recycle)
}

// analyzeKeep runs the analysis; recycle gives each finished call's legs
// back to the correlator, and a call onCall does not keep (it returns
// false) goes back too (analyzeSummaries).
func analyzeKeep(g *globalOptions, file string, opts correlate.Options, onCall func(*correlate.Call) (kept bool), parallel, recycle bool) (*correlate.Stats, error) {
	// Calls kept in full come in strict start order, however many wait:
	// the archive's resume skips the calls numbered up to the last one
	// stored (store.Capture.DoneSeq), so it must never see them out of order.
	ord := &callOrder{budget: math.MaxInt}
	if recycle {
		ord.budget = maxWaiting
	}
	var corr *correlate.Correlator
	// While corr.Flush finishes the calls still open at the end, each call
	// is released as soon as every older one is out (Flush keeps OldestOpen
	// right): the output stage formats the last calls while the others are
	// still being finished, instead of after.
	var flushing bool
	// The garbage collector's floor (gcFloor) stays up until the analysis
	// returns, Flush included, which checks it as it goes: stopping it
	// when the capture has been read gave the collector its default back
	// at a time when, on a capture the size of big-sip, it had not run
	// yet, and so started a collection at once that marked the whole live
	// heap (50 MB) while the last calls were written, just before the
	// program ended.
	gc := startGCFloor(g.gcFloor)
	defer gc.stop()
	var flushed int
	checkFlush := func() {
		if flushed++; flushed%512 == 0 {
			gc.check()
		}
	}
	finish := func(c *correlate.Call) {
		if recycle {
			corr.Recycle(c)
		}
		ord.add(c)
		if flushing {
			ord.release(corr.OldestOpen())
			checkFlush()
		}
	}
	if parallel {
		opts.DeferBuild = true // stage three builds
	}
	corr = correlate.New(opts, func(c *correlate.Call) { finish(c) })
	ord.emit = func(c *correlate.Call) { // one goroutine's: the pipeline sets its own
		if !onCall(c) {
			corr.ReuseCall(c)
		}
	}
	lean := opts.LeanInput() // the same parse in both modes
	if !parallel {
		n := 0
		h := &handler{
			lean: lean,
			message: func(m *decode.Message) {
				corr.Add(m)
				ord.release(corr.OldestOpen())
			},
			advance: func(t time.Time) {
				corr.Advance(t)
				ord.release(corr.OldestOpen())
				if n++; n%512 == 0 { // every packet calls it
					gc.check()
				}
			},
			datagram: func(d *decode.Datagram) {
				corr.AddDatagram(d.N, d.Time, d.Src, d.Dst, d.Payload)
			},
		}
		var loss string
		h.end = func(st *decode.Stats, drops uint64, known bool) { loss = captureLoss(st, drops, known) }
		_, err := scanCapture(g, file, h)
		noteLoss(g, corr, loss)
		flushing = true
		corr.Flush()
		ord.release(-1)
		noteStats(g, opts, &corr.Stats)
		return &corr.Stats, err
	}

	// Stage one decodes and sends, in batches, every packet's time and a
	// copy of every SIP message; stage two (this goroutine) correlates;
	// stage three builds the finished calls (correlate.Builder: their
	// state, checks and flow, read from messages that came seconds before)
	// and hands them to onCall (formatting, writing, archiving) in their
	// order, so that correlation waits for neither. The correlator never
	// touches a call once it is emitted, until stage three hands it back.
	// Batches and their arenas are recycled: no allocation per message.
	//
	// Stage two tells stage three what ord would have seen in one
	// goroutine, in the same sequence: each call as it finishes, and
	// OldestOpen after each event that finished a call or moved it. Stage
	// three replays that on ord, so the calls come out in the same order,
	// the budget's included.
	//
	// What a stage changes per message or per call lives in a padded
	// struct of its own (s1, s2): as variables captured by closures they
	// were small heap objects side by side, and one core writing its own
	// took the cache line from the other core reading its own (flushTime,
	// four lines, was 5% of big-sip's CPU profile).
	s2 := &struct {
		_      cachePad
		h      *handoff   // being filled, for stage three
		free   []*handoff // back from stage three, emptied
		oldest int        // the last OldestOpen in h.ops
		added  bool       // a call went into h.ops after it
		_      cachePad
	}{h: new(handoff), oldest: -2}
	finished := make(chan *handoff, 16)
	written := make(chan struct{})
	spent := make(chan *handoff, 32)
	builder := corr.NewBuilder()
	go func() {
		defer close(written)
		var h *handoff // the one being worked on: what onCall lets go goes back in it
		ord.emit = func(c *correlate.Call) {
			if !onCall(c) {
				h.calls = append(h.calls, c)
			}
		}
		var next []*correlate.Call // the calls to build next, prefetched
		for h = range finished {
			ahead := 0 // h.ops[:ahead] are prefetched
			for i, op := range h.ops {
				if i >= ahead {
					next = next[:0]
					for ahead = i; ahead < len(h.ops) && len(next) < prefetchCalls; ahead++ {
						if c := h.ops[ahead].call; c != nil {
							next = append(next, c)
						}
					}
					builder.Prefetch(next)
				}
				c := op.call
				if c == nil {
					ord.release(op.oldest)
					continue
				}
				builder.Build(c)
				if recycle {
					h.legs = append(h.legs, c.Legs...)
					c.Legs = nil
				}
				ord.add(c)
			}
			select {
			case spent <- h:
			default: // stage two is behind: let the collector have it all
			}
		}
	}()
	// reuse gives the correlator back what stage three is done with,
	// whenever stage two hands calls on: after a batch of messages that
	// finished some, and while Flush finishes the calls left at the end.
	reuse := func() {
		for {
			select {
			case h := <-spent:
				corr.RecycleLegs(h.legs)
				for _, c := range h.calls {
					corr.ReuseCall(c)
				}
				h.reset()
				s2.free = append(s2.free, h)
			default:
				return
			}
		}
	}
	flushOut := func() {
		if len(s2.h.ops) == 0 {
			return
		}
		finished <- s2.h
		reuse()
		if n := len(s2.free); n > 0 {
			s2.h, s2.free = s2.free[n-1], s2.free[:n-1]
		} else {
			s2.h = new(handoff)
		}
	}
	// noteOldest records OldestOpen where one goroutine would release.
	noteOldest := func() {
		if x := corr.OldestOpen(); s2.added || x != s2.oldest {
			s2.h.ops = append(s2.h.ops, orderOp{oldest: x})
			s2.oldest, s2.added = x, false
		}
	}
	finish = func(c *correlate.Call) {
		s2.h.ops = append(s2.h.ops, orderOp{call: c})
		s2.added = true
		if flushing {
			noteOldest()
			if len(s2.h.ops) >= 512 { // Flush emits thousands without a batch between
				flushOut()
			}
			checkFlush()
		}
	}
	batches := make(chan *batch, 4)
	free := make(chan *batch, 6)
	// Stage one's; scanErr, loss and skipped are read once it is done.
	s1 := &struct {
		_        cachePad
		b        *batch // being filled
		pendingT time.Time
		pending  bool
		skipped  int // datagrams not passed on
		scanErr  error
		loss     string
		_        cachePad
	}{b: newBatch()}
	media := opts.Media
	go func() {
		var udptl decode.UDPTL // the filter's scratch
		defer close(batches)
		send := func() {
			batches <- s1.b
			select {
			case s1.b = <-free:
			default:
				s1.b = newBatch()
			}
		}
		// A packet's time reaches the correlator through the message or
		// datagram it carries (Add and AddDatagram advance to it first);
		// only a packet that carries neither, or whose message has a time of
		// its own (HEP), sends its time alone. Same sequence of times as in
		// one goroutine, half the events on a capture full of RTP.
		flushTime := func(t time.Time) {
			if s1.pending && !s1.pendingT.Equal(t) {
				s1.b.events = append(s1.b.events, timeEvent(s1.pendingT, evTime))
			}
			s1.pending = false
		}
		h := &handler{
			lean: lean,
			// The decoder parses each message straight into the batch's next
			// free Message, from a copy of its bytes in the batch's arena: no
			// copy after parsing. A message that does not parse leaves its
			// slot free for the next one.
			keep: func(raw []byte) ([]byte, *decode.Message) {
				b := s1.b
				return b.arena.Bytes(raw), &b.msgs[:len(b.msgs)+1][len(b.msgs)]
			},
			message: func(m *decode.Message) {
				flushTime(m.Time)
				b := s1.b
				if slot := &b.msgs[:len(b.msgs)+1][len(b.msgs)]; m == slot {
					b.msgs = b.msgs[:len(b.msgs)+1]
					m.Parts = b.arena.Ints(m.Parts) // the decoder's until the next packet
				} else { // not parsed through keep: copy it
					b.msgs = append(b.msgs, decode.Message{})
					m.CopyTo(&b.msgs[len(b.msgs)-1], &b.arena)
				}
				b.events = append(b.events, event{idx: int32(len(b.msgs) - 1)})
				if len(b.msgs) == cap(b.msgs) || len(b.events) >= cap(b.events)-1 {
					send()
				}
			},
			advance: func(t time.Time) {
				flushTime(time.Time{})
				s1.pendingT, s1.pending = t, true
				if len(s1.b.events) >= cap(s1.b.events)-1 {
					send()
				}
			},
		}
		if media {
			h.datagram = func(d *decode.Datagram) {
				if !correlate.IsMedia(d.Payload) && !decode.LooksLikeUDPTL(d.Payload, &udptl) {
					s1.skipped++ // AddDatagram would only count it
					return
				}
				flushTime(d.Time)
				b := s1.b
				if b.dgrams == nil { // the batch's first: room for all it can hold
					b.dgrams = make([]dgram, 0, cap(b.events))
					b.blob = make([]byte, 0, blobMax+64<<10)
				}
				b.dgrams = append(b.dgrams, newDgram(d, len(b.blob)))
				b.blob = append(b.blob, d.Payload...)
				b.events = append(b.events, timeEvent(d.Time, -int32(len(b.dgrams))-1))
				if len(b.events) >= cap(b.events)-1 || len(b.blob) > blobMax {
					send()
				}
			}
		}
		h.end = func(st *decode.Stats, drops uint64, known bool) { s1.loss = captureLoss(st, drops, known) }
		_, s1.scanErr = scanCapture(g, file, h)
		flushTime(time.Time{})
		if len(s1.b.events) > 0 {
			batches <- s1.b
		}
	}()
	for b := range batches {
		for _, e := range b.events {
			switch {
			case e.idx >= 0:
				corr.Add(&b.msgs[e.idx])
			case e.idx == evTime:
				corr.Advance(e.time())
			default:
				d := &b.dgrams[-e.idx-2]
				corr.AddDatagramFlow(d.n, e.time(), &d.flow, b.blob[d.off:d.off+d.len])
			}
			noteOldest()
		}
		b.reset()
		gc.check()
		select {
		case free <- b:
		default:
		}
		flushOut()
	}
	corr.Stats.Datagrams += s1.skipped
	noteLoss(g, corr, s1.loss)
	flushing = true
	corr.Flush()
	s2.h.ops = append(s2.h.ops, orderOp{oldest: -1}) // ord.release(-1)
	flushOut()
	close(finished)
	<-written
	corr.Stats.MediaExpected += builder.MediaExpected()
	noteStats(g, opts, &corr.Stats)
	return &corr.Stats, s1.scanErr
}

// noteStats says once, rather than per call, what the correlator noticed
// about the capture as a whole: calls that exchanged SDP in a capture with
// no RTP at all (a SIP-only capture filter, most likely), and messages the
// capture recorded twice.
func noteStats(g *globalOptions, opts correlate.Options, st *correlate.Stats) {
	if opts.Media && st.RTPLike == 0 && st.MediaExpected > 0 {
		say(g.Err, "sipflow: note: %d answered call(s) exchanged SDP, but the capture holds no RTP at all (captured with a SIP-only filter?): media checks skipped", st.MediaExpected)
	}
	if st.Evicted > 0 {
		say(g.Err, "sipflow: note: %d call(s) were finished before their time, as they stood, to hold at most %d open at once (--max-open): answered calls whose BYE the capture misses wait --call-timeout for it", st.Evicted, opts.MaxOpen)
	}
	if st.Duplicates > 0 {
		say(g.Err, "sipflow: note: %d SIP message(s) were captured twice within %v on the same hop (a packet recorded on two interfaces, as tcpdump -i any does across a bridge, or duplicated by the network): each was read once, not as a retransmission", st.Duplicates, correlate.CopyWindow)
	}
}

// captureLoss says whether the capture itself lost packets: interface drop
// counters (pcapng statistics) or TCP data missing from the capture.
func captureLoss(st *decode.Stats, drops uint64, known bool) string {
	switch {
	case known && drops > 0:
		return fmt.Sprintf("the capture's interface statistics report %d packets dropped", drops)
	case st.StreamGaps > 0:
		return fmt.Sprintf("the capture misses TCP data in %d place(s), so it dropped packets", st.StreamGaps)
	}
	return ""
}

func noteLoss(g *globalOptions, corr *correlate.Correlator, loss string) {
	if loss == "" {
		return
	}
	corr.NoteCaptureLoss(loss)
	say(g.Err, "sipflow: note: %s: RTP loss may be the capture's, not the network's", loss)
}

// cachePad keeps what follows on other cache lines than what precedes it:
// 128 bytes, since a core may fetch lines in pairs.
type cachePad [128]byte

// batch carries the decode stage's output to the correlation stage.
// The padding keeps the batch stage one fills and the one stage two reads
// off each other's cache lines (they may be neighbours on the heap).
type batch struct {
	_      cachePad
	events []event
	msgs   []decode.Message // copies; their bytes live in arena
	arena  decode.Arena
	dgrams []dgram
	blob   []byte // datagram payloads
	_      cachePad
}

// blobMax is how many bytes of datagram payloads a batch carries before it
// is sent: the blob is made this big plus a datagram's largest, once,
// rather than grown by appending (on big-rtp, growing the first batches'
// blobs was a quarter of all the bytes allocated).
const blobMax = 1 << 20

// dgram is a UDP payload for media analysis: blob[off:off+len]. It holds
// no pointer (addresses as bytes, not netip's), so a batch of them costs
// the garbage collector nothing to scan and nothing to write. Its flow
// (addresses, and the hash the correlator looks the flow up by) is made
// in stage one: on a capture full of RTP, stage two set the pace and
// stage one waited for it (on big-rtp the two are now about even).
type dgram struct {
	n        int
	flow     correlate.UDPFlow
	off, len int32
}

func newDgram(d *decode.Datagram, off int) dgram {
	return dgram{n: d.N, flow: correlate.NewUDPFlow(d.Src, d.Dst), off: int32(off), len: int32(len(d.Payload))}
}

// event is one step of the decode stage's output, without pointers (see
// dgram): idx >= 0 is the SIP message msgs[idx] (which carries its own
// time); evTime a packet's time alone; below that the datagram
// dgrams[-idx-2] at the event's time. Packet times are UTC, with no
// monotonic reading, as capture makes them, so seconds and nanoseconds
// give back the very same time.Time.
type event struct {
	sec  int64
	nsec int32
	idx  int32
}

const evTime = -1

func timeEvent(t time.Time, idx int32) event {
	return event{sec: t.Unix(), nsec: int32(t.Nanosecond()), idx: idx}
}

func (e event) time() time.Time { return time.Unix(e.sec, int64(e.nsec)).UTC() }

// batchMessages is how many messages a batch holds, and batchEvents how
// many events: 256 and 2,048 rather than 512 and 4,096. A Message is over
// a kilobyte, and the batches in flight are then 3 MB smaller, which made
// the pipeline faster on both big captures in interleaved runs; 128 was
// no better (bench/HISTORY.md, the twenty-third round, has the figures).
const (
	batchMessages = 256
	batchEvents   = 8 * batchMessages
)

func newBatch() *batch {
	msgs := make([]decode.Message, batchMessages)
	// Written before the parser reads a slot (Message.reset reads the
	// slices it reuses), for the reason correlate's openTable.grow gives:
	// fresh memory read first costs a TLB shootdown on the other core at
	// its first write (about 400 a run on big-sip).
	clear(msgs)
	return &batch{events: make([]event, 0, batchEvents), msgs: msgs[:0]}
}

func (b *batch) reset() {
	// The Messages keep their Via and Header slices for the next parse; the
	// views they hold into the arena are overwritten before they are read.
	b.events, b.msgs, b.dgrams, b.blob = b.events[:0], b.msgs[:0], b.dgrams[:0], b.blob[:0]
	b.arena.Reset()
}

// orderOp is one step of callOrder, as stage two of analyze's pipeline
// sends them to stage three: add call, or, when call is nil,
// release(oldest).
type orderOp struct {
	call   *correlate.Call
	oldest int
}

// prefetchCalls is how many calls stage three prefetches at a time
// (correlate.Builder.Prefetch): about 110 KB of legs, messages and
// transactions, well within a core's second-level cache.
const prefetchCalls = 32

// handoff carries a run of orderOps from stage two of analyze's pipeline
// to stage three, and back what stage three is done with: the calls
// onCall did not keep, for ReuseCall, and the legs of the calls it built,
// for RecycleLegs. Then it goes round again, emptied.
type handoff struct {
	ops   []orderOp
	calls []*correlate.Call
	legs  []*correlate.Leg
}

func (h *handoff) reset() {
	clear(h.ops)
	clear(h.calls)
	clear(h.legs)
	h.ops, h.calls, h.legs = h.ops[:0], h.calls[:0], h.legs[:0]
}

// callOrder holds finished calls until every call that started before them
// has finished, so output comes in start order while memory holds only the
// calls overlapping the oldest one still open.
//
// That is a bounded wait only when calls are: a call that stays open for
// hours (refreshed by re-INVITEs, or talking with RTP) would hold every
// call after it. So the summaries waiting are held to a budget (maxWaiting):
// past it, the oldest waiting call comes out at once, and a call still open
// that is older comes out when it finishes, out of start order. Calls kept
// in full have no budget (analyze).
type callOrder struct {
	emit    func(*correlate.Call)
	budget  int               // maxWaiting, but for tests
	waiting []*correlate.Call // waiting[head:], by Seq
	head    int
}

// maxWaiting is how many summaries (about 450 bytes each) may wait for an
// older call. Calls waiting are formatted only once released, so the backlog left when the
// capture ends is output on one core after the rest is done: with 100,000
// summaries waiting at the end of big-sip that took a tenth of a second
// (wall 1.51 s against 1.43 s with 10,000, median of six, and 25 MB more).
// 10,000 is an hour of a trunk at three new calls a second, 7 s of a load
// test at 1,500.
const maxWaiting = 10_000

// add holds c in Seq order. Calls finish roughly in the order they
// started, so c mostly goes last, or first when it is the old call the
// others waited for: both without moving the rest.
func (o *callOrder) add(c *correlate.Call) {
	w := o.waiting
	switch n := len(w); {
	case n == o.head || c.Seq > w[n-1].Seq:
		o.waiting = append(w, c)
	case o.head > 0 && c.Seq < w[o.head].Seq:
		o.head--
		w[o.head] = c
	default:
		i, _ := slices.BinarySearchFunc(w[o.head:], c.Seq, func(x *correlate.Call, seq int) int { return cmp.Compare(x.Seq, seq) })
		o.waiting = slices.Insert(w, o.head+i, c)
	}
	for len(o.waiting)-o.head > o.budget {
		o.pop()
	}
}

func (o *callOrder) pop() {
	c := o.waiting[o.head]
	o.waiting[o.head] = nil
	o.head++
	if o.head == len(o.waiting) {
		o.waiting, o.head = o.waiting[:0], 0
	} else if o.head >= 1024 && o.head*2 >= len(o.waiting) {
		n := copy(o.waiting, o.waiting[o.head:])
		clear(o.waiting[n:])
		o.waiting, o.head = o.waiting[:n], 0
	}
	o.emit(c)
}

// release emits waiting calls older than the oldest open one (-1: all).
func (o *callOrder) release(oldestOpen int) {
	for o.head < len(o.waiting) && (oldestOpen < 0 || o.waiting[o.head].Seq < oldestOpen) {
		o.pop()
	}
}

// backInStartOrder puts rows held until the end back in the order their
// calls started (seq gives a row's Call.Seq), which callOrder gives up
// for the calls that finished while an older one stayed open too long.
// Rows of one call keep their order.
func backInStartOrder[T any](rows []T, seq func(T) int) {
	by := func(a, b T) int { return cmp.Compare(seq(a), seq(b)) }
	if !slices.IsSortedFunc(rows, by) {
		slices.SortStableFunc(rows, by)
	}
}
