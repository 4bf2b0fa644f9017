package main

import (
	"container/heap"
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
func analyzeCapture(g *globalOptions, file string, opts correlate.Options, onCall func(*correlate.Call)) (*correlate.Stats, error) {
	ord := &callOrder{emit: onCall}
	corr := correlate.New(opts, ord.add)
	h := &handler{
		message: func(m *decode.Message) {
			corr.Add(m)
			ord.release(corr.OldestOpen())
		},
	}
	h.advance = func(t time.Time) {
		corr.Advance(t)
		ord.release(corr.OldestOpen())
	}
	_, err := scanCapture(g, file, h)
	corr.Flush()
	ord.release(-1)
	return &corr.Stats, err
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
