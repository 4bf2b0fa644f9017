package main

import (
	"container/heap"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
)

// correlateOptions are the flags of every command that builds calls.
type correlateOptions struct {
	linkHeaders []string
	idle        time.Duration
	flowsDir    string
}

func (o *correlateOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&o.linkHeaders, "link-header", nil,
		"header whose value is the Call-ID of another leg of the same call (repeatable; default X-Call-ID and X-CID)")
	cmd.Flags().DurationVar(&o.idle, "idle-timeout", 10*time.Minute, "finish a call after this much capture time without a message")
	cmd.Flags().StringVar(&o.flowsDir, "flows", "", "directory of *.flow files that add to or replace the built-in expected flows")
}

func (o *correlateOptions) options(keepRaw bool) (correlate.Options, error) {
	opts := correlate.Options{LinkHeaders: o.linkHeaders, IdleTimeout: o.idle, KeepRaw: keepRaw}
	if o.idle <= 0 {
		return opts, usageError("--idle-timeout must be positive")
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
	return analyze(g, file, opts, onCall, runtime.GOMAXPROCS(0) > 1)
}

func analyze(g *globalOptions, file string, opts correlate.Options, onCall func(*correlate.Call), parallel bool) (*correlate.Stats, error) {
	ord := &callOrder{emit: onCall}
	corr := correlate.New(opts, ord.add)
	if !parallel {
		h := &handler{
			message: func(m *decode.Message) {
				corr.Add(m)
				ord.release(corr.OldestOpen())
			},
			advance: func(t time.Time) {
				corr.Advance(t)
				ord.release(corr.OldestOpen())
			},
		}
		_, err := scanCapture(g, file, h)
		corr.Flush()
		ord.release(-1)
		return &corr.Stats, err
	}

	// Stage one decodes and sends, in batches, every packet's time and a
	// copy of every SIP message; stage two (this goroutine) correlates.
	// Batches and their arenas are recycled: no allocation per message.
	batches := make(chan *batch, 8)
	free := make(chan *batch, 10)
	var scanErr error
	go func() {
		defer close(batches)
		b := newBatch()
		send := func() {
			batches <- b
			select {
			case b = <-free:
			default:
				b = newBatch()
			}
		}
		h := &handler{
			message: func(m *decode.Message) {
				b.msgs = append(b.msgs, decode.Message{})
				m.CopyTo(&b.msgs[len(b.msgs)-1], &b.arena)
				b.events = append(b.events, event{t: m.Time, msg: len(b.msgs) - 1})
				if len(b.msgs) == cap(b.msgs) {
					send()
				}
			},
			advance: func(t time.Time) {
				b.events = append(b.events, event{t: t, msg: -1})
				if len(b.events) == cap(b.events) {
					send()
				}
			},
		}
		_, scanErr = scanCapture(g, file, h)
		if len(b.events) > 0 {
			batches <- b
		}
	}()
	for b := range batches {
		for _, e := range b.events {
			if e.msg >= 0 {
				corr.Add(&b.msgs[e.msg])
			} else {
				corr.Advance(e.t)
			}
			ord.release(corr.OldestOpen())
		}
		b.reset()
		select {
		case free <- b:
		default:
		}
	}
	corr.Flush()
	ord.release(-1)
	return &corr.Stats, scanErr
}

// batch carries the decode stage's output to the correlation stage.
type batch struct {
	events []event
	msgs   []decode.Message // copies; their bytes live in arena
	arena  decode.Arena
}

// event is one step of the decode stage's output: a packet's time, or a
// SIP message (msgs[msg]).
type event struct {
	t   time.Time
	msg int // -1: a packet time only
}

func newBatch() *batch {
	return &batch{events: make([]event, 0, 4096), msgs: make([]decode.Message, 0, 512)}
}

func (b *batch) reset() {
	clear(b.msgs) // drop references into the arena before it is reused
	b.events, b.msgs = b.events[:0], b.msgs[:0]
	b.arena.Reset()
}

// callOrder holds finished calls until every call that started before them
// has finished, so output comes in start order while memory holds only the
// calls overlapping the oldest one still open.
type callOrder struct {
	emit    func(*correlate.Call)
	waiting callHeap
}

func (o *callOrder) add(c *correlate.Call) { heap.Push(&o.waiting, c) }

// release emits waiting calls older than the oldest open one (-1: all).
func (o *callOrder) release(oldestOpen int) {
	for o.waiting.Len() > 0 && (oldestOpen < 0 || o.waiting[0].Seq < oldestOpen) {
		o.emit(heap.Pop(&o.waiting).(*correlate.Call))
	}
}

type callHeap []*correlate.Call

func (h callHeap) Len() int           { return len(h) }
func (h callHeap) Less(i, j int) bool { return h[i].Seq < h[j].Seq }
func (h callHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *callHeap) Push(x any)        { *h = append(*h, x.(*correlate.Call)) }
func (h *callHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return c
}
