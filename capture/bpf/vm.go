package bpf

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// ErrInvalid is wrapped by Validate's errors.
var ErrInvalid = errors.New("invalid BPF program")

// Validate checks prog as the Linux kernel's classic BPF checker does
// (net/core/filter.c): 1 to MaxInstructions instructions, known opcodes,
// jumps inside the program, scratch memory indexes below 16, no division by a
// constant zero, and a return as the last instruction.
func Validate(prog []bpf.RawInstruction) error {
	if len(prog) == 0 || len(prog) > MaxInstructions {
		return fmt.Errorf("%w: %d instructions", ErrInvalid, len(prog))
	}
	for pc, in := range prog {
		bad := func(why string) error {
			return fmt.Errorf("%w: instruction %d (code 0x%02x k %d): %s", ErrInvalid, pc, in.Op, in.K, why)
		}
		switch in.Op & 0x07 {
		case 0x00, 0x01: // LD, LDX
			mode := in.Op & 0xe0
			size := in.Op & 0x18
			switch mode {
			case 0x00, 0x80: // IMM, LEN
			case 0x20, 0x40: // ABS, IND
				if in.Op&0x07 == 0x01 || size == 0x18 {
					return bad("bad load")
				}
			case 0x60: // MEM
				if in.K >= 16 {
					return bad("scratch index out of range")
				}
			case 0xa0: // MSH
				if in.Op != opLdxMSH {
					return bad("bad load")
				}
			default:
				return bad("bad load mode")
			}
		case 0x02, 0x03: // ST, STX
			if in.K >= 16 {
				return bad("scratch index out of range")
			}
		case 0x04: // ALU
			op := in.Op & 0xf0
			if op > 0xa0 {
				return bad("bad ALU op")
			}
			if (op == 0x30 || op == 0x90) && in.Op&0x08 == 0 && in.K == 0 {
				return bad("division by zero")
			}
		case 0x05: // JMP
			if in.Op&0xf0 == 0 {
				if in.Op != opJa || uint64(pc)+1+uint64(in.K) >= uint64(len(prog)) {
					return bad("jump out of range")
				}
				continue
			}
			if in.Op&0xf0 > 0x40 {
				return bad("bad jump op")
			}
			if pc+1+int(in.Jt) >= len(prog) || pc+1+int(in.Jf) >= len(prog) {
				return bad("jump out of range")
			}
		case 0x06: // RET
			if in.Op&0x18 == 0x18 {
				return bad("bad return")
			}
		case 0x07: // MISC: TAX, TXA
			if in.Op != 0x07 && in.Op != 0x87 {
				return bad("bad misc op")
			}
		}
	}
	if prog[len(prog)-1].Op&0x07 != 0x06 {
		return fmt.Errorf("%w: last instruction is not a return", ErrInvalid)
	}
	return nil
}

// Aux is what a kernel filter can read besides the packet.
type Aux struct {
	Protocol uint16 // SKF_AD_PROTOCOL: the skb's EtherType
}

// VM runs a classic BPF program in user space with the kernel's semantics:
// a load outside the packet rejects it. It is for filters the kernel cannot
// run (a VLAN test on Linux, where the tag is stripped before socket
// filters) and for tests. Of the ancillary loads only SKF_AD_PROTOCOL is
// known; any other rejects the packet.
type VM struct {
	prog []bpf.RawInstruction
}

// NewVM validates prog and returns a VM for it.
func NewVM(prog []bpf.RawInstruction) (*VM, error) {
	if err := Validate(prog); err != nil {
		return nil, err
	}
	return &VM{prog: prog}, nil
}

// Run returns how many bytes of pkt the program keeps: 0 means reject.
func (vm *VM) Run(pkt []byte, aux Aux) uint32 {
	var a, x uint32
	var mem [16]uint32
	n := uint32(len(pkt))
	load := func(off uint32, size uint32, abs bool) (uint32, bool) {
		if off >= skfAdOff {
			if abs && off-skfAdOff == skfAdProtocol {
				return uint32(aux.Protocol), true
			}
			return 0, false
		}
		if off > n || size > n-off {
			return 0, false
		}
		switch size {
		case 1:
			return uint32(pkt[off]), true
		case 2:
			return uint32(binary.BigEndian.Uint16(pkt[off:])), true
		}
		return binary.BigEndian.Uint32(pkt[off:]), true
	}
	sizes := [4]uint32{4, 2, 1, 0}
	for pc := 0; pc < len(vm.prog); pc++ {
		in := vm.prog[pc]
		switch in.Op & 0x07 {
		case 0x00: // LD
			var ok bool
			switch in.Op & 0xe0 {
			case 0x00:
				a = in.K
			case 0x80:
				a = n
			case 0x20:
				if a, ok = load(in.K, sizes[in.Op>>3&3], true); !ok {
					return 0
				}
			case 0x40:
				if x+in.K < x { // wrapped
					return 0
				}
				if a, ok = load(x+in.K, sizes[in.Op>>3&3], false); !ok {
					return 0
				}
			case 0x60:
				a = mem[in.K]
			}
		case 0x01: // LDX
			switch in.Op & 0xe0 {
			case 0x00:
				x = in.K
			case 0x80:
				x = n
			case 0x60:
				x = mem[in.K]
			case 0xa0:
				b, ok := load(in.K, 1, true)
				if !ok {
					return 0
				}
				x = 4 * (b & 0xf)
			}
		case 0x02:
			mem[in.K] = a
		case 0x03:
			mem[in.K] = x
		case 0x04: // ALU
			v := in.K
			if in.Op&0x08 != 0 {
				v = x
			}
			switch in.Op & 0xf0 {
			case 0x00:
				a += v
			case 0x10:
				a -= v
			case 0x20:
				a *= v
			case 0x30:
				if v == 0 {
					return 0
				}
				a /= v
			case 0x40:
				a |= v
			case 0x50:
				a &= v
			case 0x60:
				if v >= 32 {
					a = 0
				} else {
					a <<= v
				}
			case 0x70:
				if v >= 32 {
					a = 0
				} else {
					a >>= v
				}
			case 0x80:
				a = -a
			case 0x90:
				if v == 0 {
					return 0
				}
				a %= v
			case 0xa0:
				a ^= v
			}
		case 0x05: // JMP
			v := in.K
			if in.Op&0x08 != 0 {
				v = x
			}
			var taken bool
			switch in.Op & 0xf0 {
			case 0x00:
				pc += int(in.K)
				continue
			case 0x10:
				taken = a == v
			case 0x20:
				taken = a > v
			case 0x30:
				taken = a >= v
			case 0x40:
				taken = a&v != 0
			}
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case 0x06: // RET
			switch in.Op & 0x18 {
			case 0x10:
				return a
			case 0x08:
				return x
			}
			return in.K
		case 0x07:
			if in.Op == 0x07 {
				x = a
			} else {
				a = x
			}
		}
	}
	return 0 // unreachable for a validated program
}
