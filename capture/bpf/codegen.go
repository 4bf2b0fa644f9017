package bpf

import (
	"fmt"
	"slices"

	"golang.org/x/net/bpf"
)

// generate lays out c as a classic BPF program ending in "ret #snaplen"
// (accept) and "ret #0" (reject).
//
// Classic BPF only jumps forward, so the program is built backwards: code is
// appended to g.rev in reverse, and a label is an index into g.rev, known
// before any code that jumps to it is emitted. Conditional jumps reach at
// most 255 instructions; a farther target goes through a "ja" placed right
// after the jump.
func generate(c cond, snaplen uint32) ([]bpf.RawInstruction, error) {
	switch c.(type) {
	case condTrue:
		return []bpf.RawInstruction{ins(opRetK, snaplen)}, nil
	case condFalse:
		return []bpf.RawInstruction{ins(opRetK, 0)}, nil
	}
	g := &gen{}
	reject := g.emit(ins(opRetK, 0))
	accept := g.emit(ins(opRetK, snaplen))
	entry := g.cond(c, accept, reject)
	if g.tooLong {
		return nil, fmt.Errorf("%w: more than %d instructions", ErrTooLong, MaxInstructions)
	}
	if entry != len(g.rev)-1 {
		g.emit(g.ja(entry))
	}
	prog := g.rev
	slices.Reverse(prog)
	if optimize {
		prog = dropReloads(prog)
	}
	if len(prog) > MaxInstructions {
		return nil, fmt.Errorf("%w: %d instructions, the kernel takes %d", ErrTooLong, len(prog), MaxInstructions)
	}
	return prog, nil
}

// optimize is switched off by a test that checks dropReloads against the
// plain program.
var optimize = true

type gen struct {
	rev     []bpf.RawInstruction
	tooLong bool
}

func (g *gen) emit(i bpf.RawInstruction) int {
	if len(g.rev) > 4*MaxInstructions {
		g.tooLong = true // stop growing; generate reports it
		return len(g.rev) - 1
	}
	g.rev = append(g.rev, i)
	return len(g.rev) - 1
}

// ja returns an unconditional jump to label, to be emitted next.
func (g *gen) ja(label int) bpf.RawInstruction {
	return ins(opJa, uint32(len(g.rev)-label-1))
}

// cond emits c so that it continues at label t when true and f when false,
// and returns the label of its first instruction.
func (g *gen) cond(c cond, t, f int) int {
	switch c := c.(type) {
	case condTrue:
		return t
	case condFalse:
		return f
	case condNot:
		return g.cond(c.a, f, t)
	case condAnd:
		b := g.cond(c.b, t, f)
		return g.cond(c.a, b, f)
	case condOr:
		b := g.cond(c.b, t, f)
		return g.cond(c.a, t, b)
	case condTest:
		// Far targets go through a "ja" right after the jump.
		if len(g.rev)-t-1 > 255 {
			t = g.emit(g.ja(t))
		}
		if len(g.rev)-f-1 > 255 {
			f = g.emit(g.ja(f))
		}
		j := len(g.rev)
		g.emit(bpf.RawInstruction{Op: c.op, Jt: uint8(j - t - 1), Jf: uint8(j - f - 1), K: c.k})
		entry := j
		for i := len(c.stmts) - 1; i >= 0; i-- {
			entry = g.emit(c.stmts[i])
		}
		return entry
	}
	panic(fmt.Sprintf("bpf: unknown cond %T", c)) // unreachable: lower makes only the types above
}
