package correlate

import (
	"testing"
	"time"
)

func TestMoreThanASecond(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 500_000_000, time.UTC)
	for _, d := range []time.Duration{-3 * time.Second, -time.Second, -1, 0, 1, 999_999_999, time.Second, time.Second + 1,
		1500 * time.Millisecond, 2*time.Second - 1, 2 * time.Second, 90 * time.Second} {
		if got, want := moreThanASecond(base, base.Add(d)), base.Add(d).Sub(base) > time.Second; got != want {
			t.Errorf("moreThanASecond(+%v) = %v, want %v", d, got, want)
		}
	}
}
