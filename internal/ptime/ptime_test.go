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

// TestSub: Sub agrees with time.Time's Sub for every pair of a set of
// times: around the edges Before is tested on, at the threshold where Sub
// starts checking for overflow, and far enough apart to overflow.
func TestSub(t *testing.T) {
	base := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	times := []time.Time{
		{},
		time.Unix(0, 0).UTC(),
		time.Unix(-1, 999_999_999).UTC(),
		time.Unix(1<<32-1, 999_999_999).UTC(), // a pcap's last second
		base, base.Add(time.Nanosecond), base.Add(-time.Nanosecond),
		base.Add(time.Second), base.Add(time.Second - time.Nanosecond),
		base.Add(-time.Second + time.Nanosecond),
		base.In(time.FixedZone("X", 3600)),
		time.Unix(base.Unix()+maxExact, 999_999_999).UTC(),
		time.Unix(base.Unix()-maxExact, 0).UTC(),
		time.Unix(base.Unix()+maxExact+1, 0).UTC(),
		time.Unix(base.Unix()-maxExact-1, 999_999_999).UTC(),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Unix(1<<62, 0).UTC(),
		time.Unix(-1<<62, 0).UTC(),
	}
	for _, a := range times {
		for _, b := range times {
			if got, want := Sub(a, b), a.Sub(b); got != want {
				t.Errorf("Sub(%v, %v) = %v, want %v", a, b, got, want)
			}
		}
	}
}

// BenchmarkSub: Sub against time.Time's Sub, on two packet times a second
// and a bit apart.
func BenchmarkSub(b *testing.B) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(1234567 * time.Microsecond)
	for _, bc := range []struct {
		name string
		sub  func(t, u time.Time) time.Duration
	}{
		{"ptime", Sub},
		{"time", time.Time.Sub},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var d time.Duration
			for b.Loop() {
				d += bc.sub(t1, t0)
			}
			if d < 0 {
				b.Fatal(d)
			}
		})
	}
}
