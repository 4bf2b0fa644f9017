package main

import (
	"io"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"testing"

	"github.com/sipflow/sipflow/correlate"
)

func TestGCPercentFor(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		live, roots, floor uint64
		want               int
	}{
		{0, 5 * mb, 96 * mb, 1920},          // before the first collection: roots alone
		{0, 300 << 10, 96 * mb, 2400},       // few roots: the runtime's minimum heap binds
		{0, 0, 96 * mb, 2400},               // no roots reported
		{33 * mb, 5 * mb, 96 * mb, 165},     // big-rtp after its first collection
		{45 * mb, 6 * mb, 96 * mb, 100},     // 2×live+roots just at the floor
		{64 * mb, 5 * mb, 96 * mb, 100},     // big-sip: the default again
		{10 * mb, 0, 96 * mb, 860},          // live alone above the minimum heap
		{500 * mb, 5 * mb, 96 * mb, 100},    // far above the floor
		{0, 5 * mb, 1 << 60, math.MaxInt32}, // clamped to what SetGCPercent takes
	} {
		got := gcPercentFor(tc.live, tc.roots, tc.floor)
		if got != tc.want {
			t.Errorf("gcPercentFor(%d MB, %d KB, %d MB) = %d, want %d", tc.live/mb, tc.roots>>10, tc.floor/mb, got, tc.want)
		}
		if tc.floor > 1<<40 {
			continue
		}
		// The goal the runtime computes from it (runtime/mgcpacer.go):
		// the floor, or the default's when that is higher.
		p := uint64(got)
		goal := max(minHeap*p/100, tc.live+(tc.live+tc.roots)*p/100)
		def := max(minHeap, 2*tc.live+tc.roots)
		if goal < def || goal > max(def, tc.floor) || def < tc.floor && goal+mb < tc.floor {
			t.Errorf("live %d MB, roots %d KB: goal %d MB, want max(default %d MB, floor %d MB)", tc.live/mb, tc.roots>>10, goal/mb, def/mb, tc.floor/mb)
		}
	}
}

// TestGCFloorRestores: a floor gives the collector back its default when
// stopped, and stays off when GOGC is set in the environment or by the
// program.
func TestGCFloorRestores(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	t.Setenv("GOGC", "")
	f := startGCFloor(96 << 20)
	if f == nil {
		t.Fatal("no floor with the default GOGC")
	}
	if p := debug.SetGCPercent(-1); p <= 100 {
		t.Errorf("GC percent %d while the floor is up, want above 100 with a small heap", p)
	}
	f.stop()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("GC percent %d after stop, want 100", p)
	}
	f.cycles = ^uint64(0) // as if a collection had just ended
	f.check()
	f.stop()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("GC percent %d after check and stop on a stopped floor, want 100", p)
	}

	t.Setenv("GOGC", "250")
	if f := startGCFloor(96 << 20); f != nil {
		t.Error("a floor with GOGC set in the environment")
	}
	t.Setenv("GOGC", "")
	debug.SetGCPercent(250)
	if f := startGCFloor(96 << 20); f != nil {
		t.Error("a floor over a percentage the program set")
	}
	if p := debug.SetGCPercent(100); p != 250 {
		t.Errorf("GC percent %d, want the 250 set before", p)
	}
	if f := startGCFloor(0); f != nil {
		t.Error("a floor of 0")
	}
	f = nil
	f.check() // nil: nothing
	f.stop()
}

// TestGCFloorUntilReturn: an analysis keeps its floor up until it returns,
// also while Flush finishes the calls left open at the end of the capture
// and they are handed on (every call of this capture is among them: each
// lingers past its end), and gives the default back then. Stopping the
// floor when the capture had been read started a collection at once on a
// capture that had had none.
func TestGCFloorUntilReturn(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	t.Setenv("GOGC", "")
	percent := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	for _, parallel := range []bool{false, true} {
		g := &globalOptions{streams: streams{Out: io.Discard, Err: io.Discard}, gcFloor: 96 << 20}
		calls := 0
		_, err := analyze(g, "../../testdata/call_busy.pcap", correlate.Options{Media: true}, func(*correlate.Call) {
			calls++
			if p := percent(); p <= 100 {
				t.Errorf("parallel %v: GC percent %d while a call was handed on, want the floor's (above 100)", parallel, p)
			}
		}, parallel, false)
		if err != nil {
			t.Fatal(err)
		}
		if calls == 0 {
			t.Fatalf("parallel %v: no call", parallel)
		}
		if p := percent(); p != 100 {
			t.Errorf("parallel %v: GC percent %d after the analysis, want 100", parallel, p)
		}
	}
}
