package correlate

import (
	"bytes"
	"strconv"
	"testing"
)

// TestParseRAck: a RAck value's RSeq and CSeq number (RFC 3262 §7.2), 0
// for one that is missing, not all digits, or beyond 32 bits (as decode
// reads RSeq and CSeq).
func TestParseRAck(t *testing.T) {
	for _, tc := range []struct {
		in         string
		rseq, cseq uint32
	}{
		{"1 1 INVITE", 1, 1},
		{"  776656 314159   INVITE ", 776656, 314159},
		{"2\t7\tINVITE", 2, 7},
		{"1 1", 1, 1},
		{"1", 0, 0},
		{"", 0, 0},
		{"x 1 INVITE", 0, 1},
		{"1 1x INVITE", 1, 0},
		{"2147483647 4294967295 INVITE", 2147483647, 4294967295},
		{"4294967296 1 INVITE", 0, 1},
		{"0 00000100000", 0, 100000}, // leading zeros: the value, not the length, is bounded
		{"99999999999 1 INVITE", 0, 1},
		{"-1 +1 INVITE", 0, 0},
	} {
		rseq, cseq := parseRAck([]byte(tc.in))
		if rseq != tc.rseq || cseq != tc.cseq {
			t.Errorf("parseRAck(%q) = %d, %d; want %d, %d", tc.in, rseq, cseq, tc.rseq, tc.cseq)
		}
	}
}

// FuzzParseRAck: any bytes give, for each of the first two fields, the
// number strconv reads from them when they are all digits and fit 32
// bits, else 0.
func FuzzParseRAck(f *testing.F) {
	for _, s := range []string{"1 1 INVITE", "  2 7", "x", "", "4294967296 1", "0 0 INVITE"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		rseq, cseq := parseRAck(v)
		fields := bytes.Fields(v)
		want := func(i int) uint32 {
			if len(fields) < 2 {
				return 0
			}
			for _, c := range fields[i] {
				if c < '0' || c > '9' {
					return 0
				}
			}
			n, err := strconv.ParseUint(string(fields[i]), 10, 32)
			if err != nil {
				return 0
			}
			return uint32(n)
		}
		if rseq != want(0) || cseq != want(1) {
			t.Fatalf("parseRAck(%q) = %d, %d; want %d, %d", v, rseq, cseq, want(0), want(1))
		}
	})
}
