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

// Sec is a's Unix seconds.
func (a Instant) Sec() int64 { return a.sec }

// Before reports whether a is before b.
func (a Instant) Before(b Instant) bool { return a.sec < b.sec || a.sec == b.sec && a.nsec < b.nsec }

// maxExact is how many seconds apart two times may be for Sub to take
// their difference without time.Time.Sub's overflow check: about 272
// years, under the 292 a Duration holds.
const maxExact = 1 << 33

// Sub is t.Sub(u) for times without a monotonic reading, as packet times
// are: the same Duration, saturated the same way, but it checks for
// overflow only when the two are far apart. time.Time.Sub checks by
// adding the difference back and comparing (about 130 instructions,
// where the subtraction takes a few), and the correlator subtracts
// packet times for every finished call's timings and expiry.
func Sub(t, u time.Time) time.Duration {
	s := t.Unix() - u.Unix()
	if s > maxExact || s < -maxExact {
		return t.Sub(u)
	}
	return time.Duration(s)*time.Second + time.Duration(t.Nanosecond()-u.Nanosecond())
}
