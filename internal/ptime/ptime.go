// Package ptime compares packet times cheaply. time.Time's Before and
// After look for a monotonic clock reading first; packet times never carry
// one (they come from capture timestamps), and the decoder and the
// correlator compare one with a deadline for every packet.
package ptime

import "time"

// Instant is a time as Unix seconds and nanoseconds: two integers, ordered
// as time.Time orders times without a monotonic reading.
type Instant struct {
	sec  int64
	nsec int32
}

// Of returns t's Instant.
func Of(t time.Time) Instant { return Instant{t.Unix(), int32(t.Nanosecond())} }

// Before reports whether a is before b.
func (a Instant) Before(b Instant) bool { return a.sec < b.sec || a.sec == b.sec && a.nsec < b.nsec }
