package main

import (
	"runtime/debug"
	"runtime/metrics"
)

// heapFloor is how big the heap may grow before the garbage collector
// runs, however little of it is live (gcFloor). Peak memory stays well
// under the 200 MB the calls command is held to (issue 3): the heap
// reaches at most max(2×live, heapFloor) plus the collector's roots.
// 96 MB is where big-sip (110,000 calls in 300 MB) needs one collection
// instead of five: 6% fewer instructions in all, for 147 MB of peak
// memory instead of 143 MB (on big-rtp, whose live heap is half as big,
// 115 MB instead of 88 MB).
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
// or above half the floor, the collector runs as it would by default.
//
// It moves the process's GC percentage, so only the program itself
// starts one (globalOptions.gcFloor), never tests running commands side
// by side, and one that finds GOGC set to anything but the default
// leaves it alone.
type gcFloor struct {
	floor   uint64
	old     int
	cycles  uint64
	samples [4]metrics.Sample // cycles, then live heap, globals, stacks
}

// startGCFloor starts a floor (nil when floor is 0 or GOGC is set); stop
// gives the collector back its setting.
func startGCFloor(floor uint64) *gcFloor {
	if floor == 0 {
		return nil
	}
	if old := debug.SetGCPercent(100); old != 100 {
		debug.SetGCPercent(old) // GOGC=off or a value the user chose: theirs
		return nil
	}
	f := &gcFloor{floor: floor, old: 100, cycles: ^uint64(0)}
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
	if f == nil {
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

func (f *gcFloor) stop() {
	if f != nil {
		debug.SetGCPercent(f.old)
	}
}

// gcPercentFor is the GOGC that puts the next collection at
// max(default, floor) of heap. The runtime starts the next collection
// when the heap reaches live + (live+roots)×GOGC/100, roots being the
// globals and goroutine stacks it scans: with the default (100) that is
// 2×live+roots.
func gcPercentFor(live, roots, floor uint64) int {
	roots = max(roots, 1)
	if 2*live+roots >= floor {
		return 100
	}
	return int((floor - live) * 100 / (live + roots))
}
