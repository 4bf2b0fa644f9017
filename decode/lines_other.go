//go:build !amd64

package decode

import "unsafe"

// newlineMarks sets out[w] to the marks of p[64w:64w+64]: bit j set when
// that block's byte j is '\n'. n must be at least 64, and out hold
// (n+63)/64 words.
func newlineMarks(p *byte, n int, out *uint64) {
	newlineMarksGo(unsafe.Slice(p, n), unsafe.Slice(out, (n+63)>>6))
}
