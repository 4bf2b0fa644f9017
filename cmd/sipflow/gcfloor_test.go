package main

import (
	"runtime/debug"
	"testing"
)

func TestGCPercentFor(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		live, roots, floor uint64
		want               int
	}{
		{0, 5 * mb, 96 * mb, 1920},       // before the first collection: roots alone
		{33 * mb, 5 * mb, 96 * mb, 165},  // big-rtp after its first collection
		{45 * mb, 6 * mb, 96 * mb, 100},  // 2×live+roots just past the floor
		{64 * mb, 5 * mb, 96 * mb, 100},  // big-sip: the default again
		{10 * mb, 0, 96 * mb, 859},       // no roots reported
		{500 * mb, 5 * mb, 96 * mb, 100}, // far above the floor
	} {
		got := gcPercentFor(tc.live, tc.roots, tc.floor)
		if got != tc.want {
			t.Errorf("gcPercentFor(%d MB, %d MB, %d MB) = %d, want %d", tc.live/mb, tc.roots/mb, tc.floor/mb, got, tc.want)
		}
		// The goal it gives: the floor, or the default's when that is higher.
		roots := max(tc.roots, 1)
		goal := tc.live + (tc.live+roots)*uint64(got)/100
		if def := 2*tc.live + roots; goal < def || goal > max(def, tc.floor) || def < tc.floor && goal+mb < tc.floor {
			t.Errorf("live %d MB, roots %d MB: goal %d MB, want max(default %d MB, floor %d MB)", tc.live/mb, tc.roots/mb, goal/mb, def/mb, tc.floor/mb)
		}
	}
}

// TestGCFloorRestores: a floor leaves the collector as it found it, and
// one who set GOGC keeps it.
func TestGCFloorRestores(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	f := startGCFloor(96 << 20)
	if f == nil {
		t.Fatal("no floor with the default GOGC")
	}
	if p := debug.SetGCPercent(-1); p <= 100 {
		t.Errorf("GC percent %d while the floor is up, want above 100 with a small heap", p)
	}
	f.cycles = ^uint64(0) // as if a collection had just ended
	f.check()
	f.stop()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("GC percent %d after stop, want 100", p)
	}
	debug.SetGCPercent(250)
	if f := startGCFloor(96 << 20); f != nil {
		t.Error("a floor over GOGC=250")
	}
	if p := debug.SetGCPercent(100); p != 250 {
		t.Errorf("GC percent %d, want the 250 set before", p)
	}
	if f := startGCFloor(0); f != nil {
		t.Error("a floor of 0")
	}
	f.check() // nil: nothing
	f = nil
	f.stop()
}
