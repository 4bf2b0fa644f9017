package ptime

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestClock: table-driven runs of packet times (seconds after a base)
// through a Clock, with what Now is after each packet and which packets
// are reported as glitches.
func TestClock(t *testing.T) {
	base := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		times   []float64 // seconds after base, one per packet (packet numbers from 1)
		packets []int     // the packet numbers given to Step, when not 1, 2, 3...
		now     []float64 // Now after each packet; NaN-free: -1 means the zero Instant
		glitch  []int     // packets reported, in order
		end     float64   // Latest after the last packet: the time Confirm would take
		holding bool      // Holding after the last packet
	}{
		{
			name:  "steady",
			times: []float64{0, 0.5, 1, 9, 18},
			now:   []float64{-1, 0.5, 1, 9, 18},
			end:   18,
		},
		{
			name:   "one packet an hour ahead",
			times:  []float64{0, 1, 3601, 2, 3},
			now:    []float64{-1, 1, 1, 2, 3},
			glitch: []int{3},
			end:    3,
		},
		{
			name:  "a quiet hour: the next packet confirms",
			times: []float64{0, 1, 3601, 3601.5, 3602},
			now:   []float64{-1, 1, 1, 3601.5, 3602},
			end:   3602,
		},
		{
			name:  "confirmed by a packet a little before it (out of order)",
			times: []float64{0, 1, 3601, 3595, 3602},
			now:   []float64{-1, 1, 1, 3601, 3602},
			end:   3602,
		},
		{
			// Two messages of one packet: only the packet is named.
			name:    "the same packet's time twice neither confirms nor refutes",
			times:   []float64{0, 1, 3601, 3601, 2},
			packets: []int{1, 2, 3, 3, 4},
			now:     []float64{-1, 1, 1, 1, 2},
			glitch:  []int{3},
			end:     2,
		},
		{
			name:  "another packet at the held time confirms it",
			times: []float64{0, 1, 3601, 3601, 3602},
			now:   []float64{-1, 1, 1, 3601, 3602},
			end:   3602,
		},
		{
			name:    "a packet not known neither confirms nor refutes",
			times:   []float64{0, 1, 3601, 3601, 2},
			packets: []int{1, 2, 3, 0, 4},
			now:     []float64{-1, 1, 1, 1, 2},
			glitch:  []int{3},
			end:     2,
		},
		{
			// The step came from a packet not known; the first known one at
			// its time may be the same packet, the next is another.
			name:    "a step of a packet not known: the second known packet at its time confirms it",
			times:   []float64{0, 1, 3601, 3601, 3601},
			packets: []int{1, 2, 0, 3, 4},
			now:     []float64{-1, 1, 1, 1, 3601},
			end:     3601,
		},
		{
			// pcapng simple packets: no timestamp, all read as one time.
			name:  "every packet at one time",
			times: []float64{0, 0, 0},
			now:   []float64{-1, 0, 0},
			end:   0,
		},
		{
			name:  "a jump of exactly the limit is taken at once",
			times: []float64{0, 1, 11, 12},
			now:   []float64{-1, 1, 11, 12},
			end:   12,
		},
		{
			name:    "a jump just over the limit is held",
			times:   []float64{0, 1, 11.001},
			now:     []float64{-1, 1, 1},
			end:     11.001,
			holding: true,
		},
		{
			name:   "the first packet is the glitch",
			times:  []float64{86400, 1, 2},
			now:    []float64{-1, 1, 2},
			glitch: []int{1},
			end:    2,
		},
		{
			name:   "two glitches in a row, the second refutes the first",
			times:  []float64{0, 1, 3601, 1801, 2},
			now:    []float64{-1, 1, 1, 1, 2},
			glitch: []int{3, 4},
			end:    2,
		},
		{
			name:  "confirmed, then another jump held from the new time",
			times: []float64{0, 1, 3601, 7201, 7202},
			now:   []float64{-1, 1, 1, 3601, 7202},
			end:   7202,
		},
		{
			name:  "back in time never moves it",
			times: []float64{0, 10, 5, 6, 11},
			now:   []float64{-1, 10, 10, 10, 11},
			end:   11,
		},
		{
			name:    "the last packet held: Latest is it",
			times:   []float64{0, 1, 600},
			now:     []float64{-1, 1, 1},
			end:     600,
			holding: true,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			at := func(s float64) Instant {
				if s < 0 {
					return Of(time.Time{})
				}
				return Of(base.Add(time.Duration(s * float64(time.Second))))
			}
			var clk Clock
			var got []int
			var log strings.Builder
			timeOf := map[int]float64{} // packet number → its (first) time
			for i, s := range c.times {
				n := i + 1
				if c.packets != nil {
					n = c.packets[i]
				}
				if _, ok := timeOf[n]; !ok {
					timeOf[n] = s
				}
				if clk.Step(at(s), n) {
					g := clk.Glitch()
					got = append(got, g.N)
					if g.Time != at(timeOf[g.N]) {
						t.Errorf("packet %d: glitch time %v, want packet %d's", n, g.Time.Time(), g.N)
					}
				}
				fmt.Fprintf(&log, " %g→%v", s, clk.Now().Time().Format("15:04:05.000"))
				if clk.Now() != at(c.now[i]) {
					t.Errorf("after packet %d (%gs): Now %v, want %v%s", i+1, s, clk.Now().Time(), at(c.now[i]).Time(), log.String())
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.glitch) && len(got)+len(c.glitch) > 0 {
				t.Errorf("glitches %v, want %v", got, c.glitch)
			}
			if clk.Latest() != at(c.end) {
				t.Errorf("Latest %v, want %v", clk.Latest().Time(), at(c.end).Time())
			}
			if clk.Holding() != c.holding {
				t.Errorf("Holding %v, want %v", clk.Holding(), c.holding)
			}
		})
	}
}

// TestInstantAdd: Add agrees with time.Time's Add, and saturates at the
// ends of the range rather than wrap.
func TestInstantAdd(t *testing.T) {
	base := time.Date(2026, 11, 24, 9, 0, 0, 999_999_000, time.UTC)
	for _, d := range []time.Duration{0, time.Nanosecond, -time.Nanosecond, 1500 * time.Millisecond, -1500 * time.Millisecond, 10 * time.Second, -10 * time.Minute, 1<<63 - 1, -1 << 63} {
		if got, want := Of(base).Add(d), Of(base.Add(d)); got != want {
			t.Errorf("Add(%v) = %v, want %v", d, got.Time(), want.Time())
		}
	}
	top := Instant{maxSec - 1, 0}
	if got := top.Add(10 * time.Second); got != (Instant{maxSec, 999_999_999}) {
		t.Errorf("near the top, Add(10s) = %+v, want the top", got)
	}
	bottom := Instant{minSec + 1, 0}
	if got := bottom.Add(-10 * time.Second); got != (Instant{minSec, 0}) {
		t.Errorf("near the bottom, Add(-10s) = %+v, want the bottom", got)
	}
}
