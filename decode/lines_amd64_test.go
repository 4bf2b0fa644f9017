package decode

import (
	"math/rand/v2"
	"testing"
)

// TestNewlineMarksBoth runs random cases through both assembly versions,
// whichever this processor would pick: SSE2 always, AVX2 when the
// processor has it.
func TestNewlineMarksBoth(t *testing.T) {
	sse2 := func(b []byte, out []uint64) { newlineMarksSSE2(&b[0], len(b), &out[0]) }
	avx2 := func(b []byte, out []uint64) { newlineMarksAVX2(&b[0], len(b), &out[0]) }
	r := rand.New(rand.NewPCG(5, 6))
	for n := 64; n <= 400; n++ {
		for _, k := range []int{1, 4, 33, 500} {
			b := randomLines(r, n, k)
			checkMarks(t, "newlineMarksSSE2", sse2, b)
			if hasAVX2 {
				checkMarks(t, "newlineMarksAVX2", avx2, b)
			}
		}
	}
	if !hasAVX2 {
		t.Log("no AVX2 here: newlineMarksAVX2 not tested")
	}
}

// TestNewlineMarksDispatch checks newlineMarks with hasAVX2 false, the
// way a processor without AVX2 takes, which the other tests never take on
// one with it. (Both versions give the same marks, so it cannot tell which
// one ran: TestNewlineMarksBoth tests each.)
func TestNewlineMarksDispatch(t *testing.T) {
	defer func(h bool) { hasAVX2 = h }(hasAVX2)
	hasAVX2 = false
	marks := func(b []byte, out []uint64) { newlineMarks(&b[0], len(b), &out[0]) }
	r := rand.New(rand.NewPCG(7, 8))
	for n := 64; n <= 200; n++ {
		checkMarks(t, "newlineMarks without AVX2", marks, randomLines(r, n, 5))
	}
}
