package decode

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomLines is n random bytes with about one '\n' in every k (k > 0),
// and CR, SP, ':' and letters among the rest.
func randomLines(r *rand.Rand, n, k int) []byte {
	const other = "\r :abcXYZ09"
	b := make([]byte, n)
	for i := range b {
		if r.IntN(k) == 0 {
			b[i] = '\n'
		} else {
			b[i] = other[r.IntN(len(other))]
		}
	}
	return b
}

// wantMarks is the marks of b found with bytes.IndexByte: a reference
// that shares no code with newlineMarksGo or the assembly.
func wantMarks(b []byte) []uint64 {
	out := make([]uint64, (len(b)+63)/64)
	for i := 0; ; i++ {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return out
		}
		i += j
		out[i/64] |= 1 << (i % 64)
	}
}

// checkMarks compares f with wantMarks on b, and checks that it writes no
// word past the last.
func checkMarks(t *testing.T, name string, f func([]byte, []uint64), b []byte) {
	t.Helper()
	words := (len(b) + 63) / 64
	want := wantMarks(b)
	got := make([]uint64, words+1)
	got[words] = 0xdead
	f(b, got[:words])
	if !slices.Equal(got[:words], want) || got[words] != 0xdead {
		t.Fatalf("%s(%q) = %x, want %x", name, b, got, want)
	}
}

// TestNewlineMarks checks newlineMarks (the assembly on amd64, Go
// elsewhere) against bytes.IndexByte: every length from 64 to 320 bytes, so the last step's
// marks are shifted into place at every offset, with line ends dense and
// sparse, and a single line end at every position.
func TestNewlineMarks(t *testing.T) {
	marks := func(b []byte, out []uint64) { newlineMarks(&b[0], len(b), &out[0]) }
	r := rand.New(rand.NewPCG(1, 2))
	for n := 64; n <= 320; n++ {
		for _, k := range []int{1, 2, 9, 40, 1000} {
			checkMarks(t, "newlineMarks", marks, randomLines(r, n, k))
		}
	}
	for n := 64; n <= 200; n += 7 {
		for j := range n {
			b := bytes.Repeat([]byte{'x'}, n)
			b[j] = '\n'
			checkMarks(t, "newlineMarks", marks, b)
		}
	}
}

// TestLineEnd checks lineIndex.lineEnd against bytes.IndexByte as the
// header loop calls it, with i only ever growing: random bytes up to
// several kilobytes long (marked again a kilobyte at a time), lines
// longer than a word, spans under 64 bytes, and no line end at all.
func TestLineEnd(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		n := r.IntN(3 * lineWords * 64)
		if r.IntN(4) == 0 {
			n = r.IntN(80)
		}
		k := []int{1, 3, 30, 200, 1 << 30}[r.IntN(5)]
		b := randomLines(r, n, k)
		var x lineIndex
		for i := r.IntN(8); i <= n+2; {
			want := -1
			if i <= n {
				if j := bytes.IndexByte(b[i:], '\n'); j >= 0 {
					want = i + j
				}
			}
			if got := x.lineEnd(b, i); got != want {
				t.Fatalf("lineEnd(%d) = %d, want %d (len %d, one line end in %d)", i, got, want, n, k)
			}
			if want >= 0 && r.IntN(2) == 0 {
				i = want + 1 // as the header loop goes on
			} else {
				i += 1 + r.IntN(70)
			}
		}
	}
}

// FuzzLineEnd is TestLineEnd on any bytes: each byte of steps moves i on.
func FuzzLineEnd(f *testing.F) {
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\nVia: x\r\n\r\nbody\n"), []byte{0, 3, 200, 1})
	f.Add(bytes.Repeat([]byte("a\n"), 100), []byte{1, 1, 1, 5, 90})
	f.Fuzz(func(t *testing.T, b, steps []byte) {
		var x lineIndex
		i := 0
		for _, s := range append(steps, 255) {
			want := -1
			if i <= len(b) {
				if j := bytes.IndexByte(b[i:], '\n'); j >= 0 {
					want = i + j
				}
			}
			if got := x.lineEnd(b, i); got != want {
				t.Fatalf("lineEnd(%d) = %d, want %d", i, got, want)
			}
			i += int(s)
		}
	})
}

// TestParseSIPAcrossMarks parses messages whose header lines end at every
// offset around the first kilobyte lineIndex marks (and so around its
// words' edges), with a line longer than a word there, and checks every
// header after it, full and lean.
func TestParseSIPAcrossMarks(t *testing.T) {
	const head = "INVITE sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n" +
		"From: <sip:alice@example.com>;tag=1928301774\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"Call-ID: a84b4c76e66710@pc33.example.com\r\n" +
		"CSeq: 314159 INVITE\r\n"
	next := strings.Repeat("b", 70)
	for pad := 850; pad <= 1100; pad++ {
		msg := head + "X-Pad: " + strings.Repeat("a", pad) + "\r\n" +
			"Subject: after\r\nX-Next: " + next + "\r\nContent-Length: 4\r\n\r\nbody"
		for _, lean := range []bool{false, true} {
			var m Message
			if err := parseSIP([]byte(msg), &m, lean, nil, new(guesses)); err != nil {
				t.Fatalf("pad %d lean %v: %v", pad, lean, err)
			}
			got := map[string]string{}
			for _, h := range m.Headers {
				got[string(h.Name)] = string(h.Value)
			}
			if len(got["X-Pad"]) != pad || got["subject"] != "after" || got["X-Next"] != next ||
				m.ContentLength != 4 || string(m.Body) != "body" || string(m.CallID) != "a84b4c76e66710@pc33.example.com" {
				t.Fatalf("pad %d lean %v: X-Pad %d bytes, Subject %q, X-Next %q, Content-Length %d, body %q, Call-ID %q",
					pad, lean, len(got["X-Pad"]), got["subject"], got["X-Next"], m.ContentLength, m.Body, m.CallID)
			}
		}
	}
}

// BenchmarkNewlineMarks is the pass parseSIP makes over a message
// (lineIndex.mark): SIPp's INVITE, its whole 64-byte steps and the last.
func BenchmarkNewlineMarks(b *testing.B) {
	var x lineIndex
	b.SetBytes(int64(len(benchSIPp)))
	b.ReportAllocs()
	for b.Loop() {
		x.mark(benchSIPp, 0)
	}
}

// lineEnd returns the index of the first '\n' in b at or after i (i >= 0),
// or -1 when there is none: bytes.IndexByte(b[i:], '\n') plus i, or -1.
// b must be the slice every earlier call on x was given. It is the
// contract lineEndFast and lineEndSlow keep between them, as the header
// loop calls them.
func (x *lineIndex) lineEnd(b []byte, i int) int {
	if e := x.lineEndFast(i); e >= 0 {
		return e
	}
	return x.lineEndSlow(b, i)
}
