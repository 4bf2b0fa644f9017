package correlate

import (
	"strings"
	"testing"
)

// TestParseDTMF: the key and duration of an INFO's DTMF body, by its
// content type.
func TestParseDTMF(t *testing.T) {
	for _, tc := range []struct {
		ct, body string
		key      string
		ms       int
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", "5", 160},
		{"application/dtmf-relay", "Signal=#\nDuration=250", "#", 250},
		{"Application/DTMF-Relay", "signal = * \r\nDURATION= 100\r\n", "*", 100},
		{"application/dtmf-relay", "Signal=5\r\n", "5", 0},
		{"application/dtmf-relay", "Duration=160\r\n", "", 0},
		{"application/dtmf-relay", "Signal=\r\nDuration=160\r\n", "", 0},
		{"application/dtmf-relay", "Signal=5\r\nDuration=x\r\n", "5", 0},
		{"application/dtmf-relay", "Signal=5\r\nDuration=-3\r\n", "5", 0},
		{"application/dtmf-relay", "Signal=5\r\nDuration=9999999999\r\n", "5", 0}, // past an int32
		{"application/dtmf-relay", "Signal=5\r\nDuration=999999999\r\n", "5", 999999999},
		{"application/dtmf-relay", "Signal=\x1b[31m\r\n", "", 0}, // a terminal escape is no key
		{"application/dtmf-relay", "Signal=123456789\r\n", "", 0},
		{"application/dtmf-relay", "Signal=16\r\n", "16", 0}, // a flash, as RFC 4733's event 16
		{"application/dtmf-relay;charset=utf-8", "Signal=A\r\n", "A", 0},
		{"application/dtmf", "5\r\n", "5", 0},
		{"application/dtmf", "  9  ", "9", 0},
		{"application/dtmf", "\r\n5", "", 0},
		{"text/plain", "Signal=5\r\n", "", 0},
		{"", "5", "", 0},
	} {
		key, ms := parseDTMF([]byte(tc.ct), []byte(tc.body))
		if key != tc.key || ms != tc.ms {
			t.Errorf("parseDTMF(%q, %q) = %q, %d; want %q, %d", tc.ct, tc.body, key, ms, tc.key, tc.ms)
		}
	}
}

// FuzzParseDTMF: any body gives no key, or one of 1 to maxDTMFKey
// printable ASCII bytes found in the body, and a duration not below 0.
func FuzzParseDTMF(f *testing.F) {
	for _, s := range []string{"Signal=5\r\nDuration=160\r\n", "Signal=\r\n", "=\n=\n", "Signal=1\nSignal=2\n", "\xff"} {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	f.Fuzz(func(t *testing.T, relay bool, body []byte) {
		ct := "application/dtmf"
		if relay {
			ct = "application/dtmf-relay"
		}
		key, ms := parseDTMF([]byte(ct), body)
		if ms < 0 || key == "" && ms != 0 && !relay {
			t.Fatalf("duration %d (key %q)", ms, key)
		}
		if key == "" {
			return
		}
		if len(key) > maxDTMFKey || !strings.Contains(string(body), key) {
			t.Fatalf("key %q from %q", key, body)
		}
		for _, b := range []byte(key) {
			if b <= ' ' || b > '~' {
				t.Fatalf("key %q has byte %#x", key, b)
			}
		}
	})
}
