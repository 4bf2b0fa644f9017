package decode

import "golang.org/x/sys/cpu"

// hasAVX2 picks newlineMarks' 32-byte compares; without AVX2, SSE2's
// 16-byte ones (every amd64 processor has SSE2). Read-only after package
// start.
var hasAVX2 = cpu.X86.HasAVX2

// In lines_amd64.s: newlineMarks calls the version hasAVX2 picks.

// newlineMarks sets out[w] to the marks of p[64w:64w+64]: bit j set when
// that block's byte j is '\n' (a last block shorter than 64 bytes has no
// marks past its end). n must be at least 64, and out hold (n+63)/64
// words.
//
//go:noescape
func newlineMarks(p *byte, n int, out *uint64)

//go:noescape
func newlineMarksAVX2(p *byte, n int, out *uint64)

//go:noescape
func newlineMarksSSE2(p *byte, n int, out *uint64)
