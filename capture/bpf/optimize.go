package bpf

import "golang.org/x/net/bpf"

// regVal says what a register is known to hold: the value of a load.
// x is the MSH offset the X register held for an indirect load.
type regVal struct {
	known bool
	op    uint16
	k     uint32
	x     uint32
}

type regState struct{ a, x regVal }

// dropReloads removes loads whose register already holds that very value on
// every path to them ("ldh [12]" again on the false branch of "jeq #0x800").
// Jumps only go forward, so one pass in program order sees every path into
// an instruction before the instruction itself. Removing an instruction only
// shortens jumps, so every offset still fits.
func dropReloads(prog []bpf.RawInstruction) []bpf.RawInstruction {
	n := len(prog)
	in := make([]regState, n)
	reached := make([]bool, n)
	keep := make([]bool, n)
	reached[0] = true
	merge := func(to int, s regState) {
		if to >= n {
			return
		}
		if !reached[to] {
			reached[to], in[to] = true, s
			return
		}
		if in[to].a != s.a {
			in[to].a = regVal{}
		}
		if in[to].x != s.x {
			in[to].x = regVal{}
		}
	}
	for pc, ins := range prog {
		keep[pc] = true
		if !reached[pc] {
			continue // dead code: keep as is
		}
		s := in[pc]
		switch {
		case ins.Op == opLdB || ins.Op == opLdH || ins.Op == opLdW:
			v := regVal{known: true, op: ins.Op, k: ins.K}
			keep[pc] = s.a != v
			s.a = v
		case ins.Op == 0x40 || ins.Op == 0x48 || ins.Op == 0x50: // BPF_LD|BPF_IND, W H B
			v := regVal{}
			if s.x.known {
				v = regVal{known: true, op: ins.Op, k: ins.K, x: s.x.k}
				keep[pc] = s.a != v
			}
			s.a = v
		case ins.Op == opLdxMSH:
			v := regVal{known: true, op: ins.Op, k: ins.K}
			keep[pc] = s.x != v
			s.x = v
		case ins.Op&0x07 == 0x05: // jumps leave the registers alone
			if ins.Op == opJa {
				merge(pc+1+int(ins.K), s)
			} else {
				merge(pc+1+int(ins.Jt), s)
				merge(pc+1+int(ins.Jf), s)
			}
			continue
		case ins.Op&0x07 == 0x06: // ret
			continue
		case ins.Op&0x07 == 0x01 || ins.Op == 0x07: // other LDX, TAX
			s.x = regVal{}
		case ins.Op&0x07 == 0x02 || ins.Op&0x07 == 0x03: // stores
		default: // ALU, other loads, TXA
			s.a = regVal{}
		}
		merge(pc+1, s)
	}
	// newPC[i]: where instruction i (or, if dropped, the one after it) lands.
	newPC := make([]int, n+1)
	kept := 0
	for i := range prog {
		newPC[i] = kept
		if keep[i] {
			kept++
		}
	}
	newPC[n] = kept
	out := make([]bpf.RawInstruction, 0, kept)
	for pc, ins := range prog {
		if !keep[pc] {
			continue
		}
		if ins.Op&0x07 == 0x05 {
			if ins.Op == opJa {
				ins.K = uint32(newPC[pc+1+int(ins.K)] - newPC[pc] - 1)
			} else {
				ins.Jt = uint8(newPC[pc+1+int(ins.Jt)] - newPC[pc] - 1)
				ins.Jf = uint8(newPC[pc+1+int(ins.Jf)] - newPC[pc] - 1)
			}
		}
		out = append(out, ins)
	}
	return out
}
