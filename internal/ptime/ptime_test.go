package ptime

import (
	"testing"
	"time"
)

// TestOrder: Before agrees with time.Time's Before for every pair of a set
// of times around the edges: the zero time, before 1970, whole seconds and
// a nanosecond either side, far future.
func TestOrder(t *testing.T) {
	base := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	times := []time.Time{
		{},
		time.Unix(0, 0).UTC(),
		time.Unix(-1, 999_999_999).UTC(),
		time.Unix(-1, 0).UTC(),
		base, base.Add(time.Nanosecond), base.Add(-time.Nanosecond),
		base.Add(time.Second), base.Add(time.Second - time.Nanosecond),
		base.Add(100 * time.Millisecond),
		base.In(time.FixedZone("X", 3600)), // same instant, other zone
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
	}
	for _, a := range times {
		for _, b := range times {
			if got, want := Of(a).Before(Of(b)), a.Before(b); got != want {
				t.Errorf("Of(%v).Before(Of(%v)) = %v, want %v", a, b, got, want)
			}
		}
	}
}
