package decode

import "math/bits"

// lineWords is how many 64-byte blocks a lineIndex marks at a time: 1 KB,
// so that one pass usually covers a whole message (SIPp's INVITE with its
// SDP, big-sip's, is 505 bytes).
const lineWords = 16

// lineIndex finds the line ends ('\n') of a message for the header loop,
// from marks made a kilobyte at a time (newlineMarks: 64 bytes in a few
// instructions) where a bytes.IndexByte call a line cost about 55
// instructions, most of them the call's own. The zero value is empty: the
// first lookup marks the kilobyte from where it asks.
type lineIndex struct {
	base  int // the marks cover b[base:base+n], 64 bytes a word
	n     int
	words int // (n+63)/64
	// bit j of nl[w]: b[base+64w+j] == '\n'. nl[words] is zero:
	// lineEndFast reads one word past the one it is in.
	nl [lineWords + 1]uint64
}

// lineEndFast finds the first '\n' at or after i (i >= 0) when it is in
// the word i is in or the next, and they are marked; else it returns -1
// and lineEndSlow must look. Together they are bytes.IndexByte(b[i:],
// '\n') plus i, or -1 (lineEnd in the tests); the header loop calls the
// two itself so that this one inlines.
func (x *lineIndex) lineEndFast(i int) int {
	if k := uint(i - x.base); k < uint(x.n) {
		w := k >> 6 % lineWords
		if m := x.nl[w] >> (k % 64); m != 0 {
			return i + bits.TrailingZeros64(m)
		}
		if m := x.nl[w+1]; m != 0 {
			return x.base + int(w+1)<<6 + bits.TrailingZeros64(m)
		}
	}
	return -1
}

// lineEndSlow is lineEndFast past the next word: the words after it, then the
// next kilobyte, marked when it is needed.
func (x *lineIndex) lineEndSlow(b []byte, i int) int {
	for {
		k := i - x.base
		if k < 0 || k >= x.n {
			if i >= len(b) {
				return -1
			}
			x.mark(b, i)
			k = 0
		}
		w := k >> 6
		if m := x.nl[w] >> (k % 64); m != 0 {
			return i + bits.TrailingZeros64(m)
		}
		for w++; w < x.words; w++ {
			if m := x.nl[w]; m != 0 {
				return x.base + w<<6 + bits.TrailingZeros64(m)
			}
		}
		if i = x.base + x.n; i >= len(b) {
			return -1
		}
	}
}

// mark marks the line ends of b[i:], up to lineWords blocks (none when
// i >= len(b)). Fewer than 64 bytes are marked in a zeroed copy
// (newlineMarks reads 64 bytes at least); the zeros mark nothing.
func (x *lineIndex) mark(b []byte, i int) {
	n := min(len(b)-i, lineWords*64)
	if n <= 0 {
		x.base, x.n, x.words = i, 0, 0
		return
	}
	w := (n + 63) >> 6
	x.base, x.n, x.words = i, n, w
	x.nl[w%(lineWords+1)] = 0 // lineEndFast reads it; an earlier kilobyte may have marked it
	if n >= 64 {
		newlineMarks(&b[i], n, &x.nl[0])
		return
	}
	var t [64]byte
	copy(t[:], b[i:])
	newlineMarks(&t[0], 64, &x.nl[0])
}

// newlineMarksGo is newlineMarks in Go, for other architectures.
func newlineMarksGo(b []byte, out []uint64) {
	clear(out)
	for j, c := range b {
		if c == '\n' {
			out[j>>6] |= 1 << (j % 64)
		}
	}
}
