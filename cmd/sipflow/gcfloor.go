package main

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// heapFloor is how big the heap may grow before the garbage collector
// runs, however little of it is live (gcFloor). 96 MB is where big-sip
// (110,000 calls in 300 MB) needs one collection instead of five: 6%
// fewer instructions in all, for 149 MB of peak memory instead of
// 134-143 MB (big-rtp, whose live heap is half as big: 112 MB instead of
// 83-92 MB).
const heapFloor = 96 << 20

// gcFloor makes the garbage collector wait until the heap reaches
// max(2×live, floor) rather than 2×live (plus the globals and stacks it
// scans, in both cases), as it would by default (GOGC=100).
//
// An analysis starts with nothing live. The calls open and lingering, and
// the pools their memory is recycled through, then grow to their steady
// size (about 60 MB on a load test at 1,500 calls a second), and by
// default every doubling on the way costs a collection that marks all of
// it: four or five on a capture of a few hundred MB, which at the end
// comes to about one instruction in fifteen. With the floor the first
// collection comes at the floor, and after that, with the live heap near
// or above half the floor, the collector runs as it would by default
// (which does not make the peak the same: that depends on where the
// collections fall while the heap grows).
//
// The percentage is set after each collection, when check next runs: the
// goal a collection sets for the next one uses the percentage set before
// it, so between a collection's end and the next check (a batch of
// messages, or 512 packets) the heap may grow past the floor by what is
// allocated in that time. The floor ends (stop) when the analysis
// returns; while Flush finishes the calls still open at the end, it calls
// check too. Ending it when the capture had been read, before that, cost
// a collection on a capture that had had none: the default percentage's
// goal is then the runtime's minimum, so one started at once and marked
// the whole live heap while the last calls were written (big-sip's only
// collection, and big-rtp's second).
//
// It moves the process's GC percentage, so only the program itself
// starts one (globalOptions.gcFloor), never tests running commands side
// by side, and GOGC set in the environment, or a percentage other than
// the default, turns it off.
type gcFloor struct {
	floor   uint64
	cycles  uint64
	stopped bool
	samples [4]metrics.Sample // cycles, then live heap, globals, stacks
}

// startGCFloor starts a floor (nil when floor is 0 or GOGC is set); stop
// gives the collector back the default.
func startGCFloor(floor uint64) *gcFloor {
	if floor == 0 || os.Getenv("GOGC") != "" {
		return nil
	}
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	if metrics.Read(gogc); gogc[0].Value.Kind() != metrics.KindUint64 || gogc[0].Value.Uint64() != 100 {
		return nil // set by the program (debug.SetGCPercent): not ours to move
	}
	f := &gcFloor{floor: floor, cycles: ^uint64(0)}
	f.samples[0].Name = "/gc/cycles/total:gc-cycles"
	f.samples[1].Name = "/gc/heap/live:bytes"
	f.samples[2].Name = "/gc/scan/globals:bytes"
	f.samples[3].Name = "/gc/scan/stack:bytes"
	f.check()
	return f
}

// check sets the percentage for the next collection after each one. It is
// cheap enough to call for every batch of messages, not for every message.
func (f *gcFloor) check() {
	if f == nil || f.stopped {
		return
	}
	metrics.Read(f.samples[:1])
	c := f.samples[0].Value.Uint64()
	if c == f.cycles {
		return
	}
	f.cycles = c
	metrics.Read(f.samples[1:])
	live := f.samples[1].Value.Uint64()
	roots := f.samples[2].Value.Uint64() + f.samples[3].Value.Uint64()
	debug.SetGCPercent(gcPercentFor(live, roots, f.floor))
}

// stop gives the collector back the default percentage; once stopped,
// check does nothing. Calling it again does nothing either.
func (f *gcFloor) stop() {
	if f != nil && !f.stopped {
		f.stopped = true
		debug.SetGCPercent(100)
	}
}

// minHeap is the runtime's smallest heap goal at GOGC=100: at GOGC=p it
// is minHeap×p/100, whatever is live.
const minHeap = 4 << 20

// gcPercentFor is the GOGC that puts the next collection at
// max(default, floor) of heap. The runtime starts the next collection
// when the heap reaches live + (live+roots)×GOGC/100, roots being the
// globals and goroutine stacks it scans (with the default, 100, that is
// 2×live+roots), but never before minHeap×GOGC/100: with little live and
// few roots that minimum is what binds, and a percentage that ignored it
// would put the first collection far past the floor.
func gcPercentFor(live, roots, floor uint64) int {
	if 2*live+roots >= floor {
		return 100
	}
	p := (floor - live) * 100 / max(live+roots, minHeap)
	return int(min(max(p, 100), math.MaxInt32))
}
