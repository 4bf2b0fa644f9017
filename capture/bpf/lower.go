package bpf

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/net/bpf"
)

// mode says where the link header ends and how to find the EtherType.
type mode uint8

const (
	modeEther        mode = iota // EtherType at 12, network header at 14
	modeSLL                      // Linux cooked v1: protocol at 14, network header at 16
	modeSLL2                     // Linux cooked v2: protocol at 0, network header at 20
	modeCookedSocket             // SOCK_DGRAM packet socket: network header at 0, protocol ancillary
	modeRaw                      // raw IP: version in the first nibble
	modeIPv4                     // LINKTYPE_IPV4: always IPv4
	modeIPv6                     // LINKTYPE_IPV6: always IPv6
)

func modeFor(link uint16) (mode, error) {
	switch link {
	case linkEthernet:
		return modeEther, nil
	case linkLinuxSLL:
		return modeSLL, nil
	case linkLinuxSLL2:
		return modeSLL2, nil
	case linkRaw, linkRawBSD12, linkRawBSD14:
		return modeRaw, nil
	case linkIPv4:
		return modeIPv4, nil
	case linkIPv6:
		return modeIPv6, nil
	}
	return 0, fmt.Errorf("%w: LINKTYPE %d", ErrUnsupportedLink, link)
}

func (m mode) offLinkType() int {
	switch m {
	case modeEther:
		return 12
	case modeSLL:
		return 14
	case modeSLL2:
		return 0
	}
	return -1
}

func (m mode) offPayload() int {
	switch m {
	case modeEther:
		return 14
	case modeSLL:
		return 16
	case modeSLL2:
		return 20
	}
	return 0
}

func (m mode) String() string {
	return [...]string{"Ethernet", "Linux cooked", "Linux cooked v2", "Linux cooked socket", "raw IP", "IPv4", "IPv6"}[m]
}

// Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
const (
	opLdW    = 0x00 | 0x00 | 0x20 // BPF_LD|BPF_W|BPF_ABS
	opLdH    = 0x00 | 0x08 | 0x20 // BPF_LD|BPF_H|BPF_ABS
	opLdB    = 0x00 | 0x10 | 0x20 // BPF_LD|BPF_B|BPF_ABS
	opLdHInd = 0x00 | 0x08 | 0x40 // BPF_LD|BPF_H|BPF_IND
	opLdxMSH = 0x01 | 0x10 | 0xa0 // BPF_LDX|BPF_B|BPF_MSH
	opAndK   = 0x04 | 0x50        // BPF_ALU|BPF_AND|BPF_K
	opJa     = 0x05 | 0x00        // BPF_JMP|BPF_JA
	opJeqK   = 0x05 | 0x10        // BPF_JMP|BPF_JEQ|BPF_K
	opJgtK   = 0x05 | 0x20        // BPF_JMP|BPF_JGT|BPF_K
	opJgeK   = 0x05 | 0x30        // BPF_JMP|BPF_JGE|BPF_K
	opJsetK  = 0x05 | 0x40        // BPF_JMP|BPF_JSET|BPF_K
	opRetK   = 0x06 | 0x00        // BPF_RET|BPF_K

	skfAdOff      = 0xfffff000 // SKF_AD_OFF (-0x1000)
	skfAdProtocol = 0          // SKF_AD_PROTOCOL: skb->protocol, host order
)

const (
	etherIPv4 = 0x0800
	etherARP  = 0x0806
	etherRARP = 0x8035
	etherIPv6 = 0x86dd

	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoFrag6  = 44
	protoICMPv6 = 58
	protoSCTP   = 132
)

// cond is a boolean formula over tests, the compiler's intermediate form.
type cond interface{}

type (
	condTrue  struct{}
	condFalse struct{}
	condAnd   struct{ a, b cond }
	condOr    struct{ a, b cond }
	condNot   struct{ a cond }
	// condTest runs stmts, then jumps on op (JEQ, JGT, JGE, JSET) against k.
	condTest struct {
		stmts []bpf.RawInstruction
		op    uint16
		k     uint32
	}
)

func and(a, b cond) cond {
	switch {
	case isFalse(a), isFalse(b):
		return condFalse{}
	case isTrue(a):
		return b
	case isTrue(b):
		return a
	}
	return condAnd{a, b}
}

func or(a, b cond) cond {
	switch {
	case isTrue(a), isTrue(b):
		return condTrue{}
	case isFalse(a):
		return b
	case isFalse(b):
		return a
	}
	return condOr{a, b}
}

func not(a cond) cond {
	switch a := a.(type) {
	case condTrue:
		return condFalse{}
	case condFalse:
		return condTrue{}
	case condNot:
		return a.a
	}
	return condNot{a}
}

func isTrue(c cond) bool  { _, ok := c.(condTrue); return ok }
func isFalse(c cond) bool { _, ok := c.(condFalse); return ok }

func ins(op uint16, k uint32) bpf.RawInstruction { return bpf.RawInstruction{Op: op, K: k} }

func test(op uint16, k uint32, stmts ...bpf.RawInstruction) cond {
	return condTest{stmts: stmts, op: op, k: k}
}

func loadOp(size int) uint16 {
	switch size {
	case 1:
		return opLdB
	case 2:
		return opLdH
	}
	return opLdW
}

// cmp tests that the size-byte big-endian value at off equals v.
func cmp(size, off int, v uint32) cond {
	return test(opJeqK, v, ins(loadOp(size), uint32(off)))
}

// mcmp tests that the value at off, masked, equals v.
func mcmp(size, off int, mask, v uint32) cond {
	if mask == 0 {
		return condTrue{} // v is 0: checked by the caller's non-network-bits rule
	}
	if size == 4 && mask == 0xffffffff || size == 2 && mask == 0xffff || size == 1 && mask == 0xff {
		return cmp(size, off, v)
	}
	return test(opJeqK, v, ins(loadOp(size), uint32(off)), ins(opAndK, mask))
}

// lowerer turns the syntax tree into a cond for one link mode. It walks the
// tree in text order because "vlan" moves every later offset, as in tcpdump.
type lowerer struct {
	filter       *Filter
	m            mode
	offLT, offPL int
}

func (l *lowerer) errAt(pos int, format string, args ...any) error {
	return &SyntaxError{Expr: l.filter.expr, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// lower compiles n; positive is false under an odd number of "not"s, where
// port tests keep tcpdump's exact meaning (see the package comment).
func (l *lowerer) lower(n node, positive bool) (cond, error) {
	switch n := n.(type) {
	case *binNode:
		a, err := l.lower(n.l, positive)
		if err != nil {
			return nil, err
		}
		b, err := l.lower(n.r, positive)
		if err != nil {
			return nil, err
		}
		if n.and {
			return and(a, b), nil
		}
		return or(a, b), nil
	case *notNode:
		a, err := l.lower(n.x, !positive)
		if err != nil {
			return nil, err
		}
		return not(a), nil
	case *protoNode:
		return l.protoAbbrev(n.proto), nil
	case *vlanNode:
		return l.vlan(n)
	case *primNode:
		switch n.q.typ {
		case tPort, tPortRange:
			return l.port(n, positive), nil
		}
		return l.host(n), nil
	}
	panic(fmt.Sprintf("bpf: unknown node %T", n)) // unreachable: the parser makes only the types above
}

// etherType tests the link layer's protocol.
func (l *lowerer) etherType(et uint16) cond {
	switch l.m {
	case modeCookedSocket:
		return test(opJeqK, uint32(et), ins(opLdW, skfAdOff+skfAdProtocol))
	case modeRaw:
		switch et {
		case etherIPv4:
			return test(opJeqK, 0x40, ins(opLdB, 0), ins(opAndK, 0xf0))
		case etherIPv6:
			return test(opJeqK, 0x60, ins(opLdB, 0), ins(opAndK, 0xf0))
		}
		return condFalse{}
	case modeIPv4:
		if et == etherIPv4 {
			return condTrue{}
		}
		return condFalse{}
	case modeIPv6:
		if et == etherIPv6 {
			return condTrue{}
		}
		return condFalse{}
	}
	return cmp(2, l.offLT, uint32(et))
}

// ipProto: IPv4 with protocol p.
func (l *lowerer) ipProto(p uint8) cond {
	return and(l.etherType(etherIPv4), cmp(1, l.offPL+9, uint32(p)))
}

// ip6Proto: IPv6 whose next header is p, directly or after one Fragment
// header (as libpcap's "ip6 proto").
func (l *lowerer) ip6Proto(p uint8) cond {
	direct := cmp(1, l.offPL+6, uint32(p))
	frag := and(cmp(1, l.offPL+6, protoFrag6), cmp(1, l.offPL+40, uint32(p)))
	return and(l.etherType(etherIPv6), or(direct, frag))
}

func (l *lowerer) protoAbbrev(p protoQ) cond {
	switch p {
	case pIP:
		return l.etherType(etherIPv4)
	case pIP6:
		return l.etherType(etherIPv6)
	case pARP:
		return l.etherType(etherARP)
	case pRARP:
		return l.etherType(etherRARP)
	case pICMP:
		return l.ipProto(protoICMP)
	case pICMP6:
		return l.ip6Proto(protoICMPv6)
	}
	n := transport(p)[0]
	return or(l.ipProto(n), l.ip6Proto(n))
}

// transport returns the IP protocol numbers a port qualifier stands for.
func transport(p protoQ) []uint8 {
	switch p {
	case pTCP:
		return []uint8{protoTCP}
	case pUDP:
		return []uint8{protoUDP}
	case pSCTP:
		return []uint8{protoSCTP}
	}
	return []uint8{protoTCP, protoUDP, protoSCTP}
}

func (l *lowerer) vlan(n *vlanNode) (cond, error) {
	switch l.m {
	case modeEther, modeSLL, modeSLL2:
	case modeCookedSocket:
		return nil, l.errAt(n.pos, "vlan cannot be tested by a cooked socket's kernel filter")
	default:
		return nil, l.errAt(n.pos, "no VLAN support for %s frames", l.m)
	}
	var c cond = condFalse{}
	for _, tpid := range []uint32{0x8100, 0x88a8, 0x9100} {
		c = or(c, cmp(2, l.offLT, tpid))
	}
	if n.id >= 0 {
		c = and(c, mcmp(2, l.offPL, 0x0fff, uint32(n.id)))
	}
	// Every later test looks past the tag: the inner EtherType follows the
	// TCI, and the network header follows that.
	l.offLT = l.offPL + 2
	l.offPL += 4
	return c, nil
}

// dirs combines a test of the source and one of the destination as the
// direction qualifier says.
func dirs(d dirQ, src, dst func() cond) cond {
	switch d {
	case dSrc:
		return src()
	case dDst:
		return dst()
	case dSrcAndDst:
		return and(src(), dst())
	}
	return or(src(), dst())
}

// host compiles host and net primitives.
func (l *lowerer) host(n *primNode) cond {
	pl := l.offPL
	if !n.is4 {
		addr6 := func(off int) func() cond {
			return func() cond {
				var c cond = condTrue{}
				for i := 0; i < 16; i += 4 {
					c = and(c, mcmp(4, off+i, binary.BigEndian.Uint32(n.mask[i:]), binary.BigEndian.Uint32(n.addr[i:])))
				}
				return c
			}
		}
		return and(l.etherType(etherIPv6), dirs(n.q.dir, addr6(pl+8), addr6(pl+24)))
	}
	a, m := binary.BigEndian.Uint32(n.addr[:]), binary.BigEndian.Uint32(n.mask[:])
	addr4 := func(off int) func() cond { return func() cond { return mcmp(4, off, m, a) } }
	var c cond = condFalse{}
	p := n.q.proto
	if p == pDefault || p == pIP {
		c = or(c, and(l.etherType(etherIPv4), dirs(n.q.dir, addr4(pl+12), addr4(pl+16))))
	}
	// ARP and RARP: sender protocol address at 14, target at 24 (IPv4 over
	// Ethernet). tcpdump's plain "host" includes them.
	if p == pDefault || p == pARP {
		c = or(c, and(l.etherType(etherARP), dirs(n.q.dir, addr4(pl+14), addr4(pl+24))))
	}
	if p == pDefault || p == pRARP {
		c = or(c, and(l.etherType(etherRARP), dirs(n.q.dir, addr4(pl+14), addr4(pl+24))))
	}
	return c
}

// port compiles port and portrange. See the package comment for the
// fragment rule applied when positive.
func (l *lowerer) port(n *primNode, positive bool) cond {
	pl := l.offPL
	protoIs := func(off int) cond {
		var c cond = condFalse{}
		for _, p := range transport(n.q.proto) {
			c = or(c, cmp(1, off, uint32(p)))
		}
		return c
	}
	match := func(load func(k int) []bpf.RawInstruction) cond {
		one := func(k int) func() cond {
			return func() cond {
				if n.lo == n.hi {
					return test(opJeqK, uint32(n.lo), load(k)...)
				}
				return and(test(opJgeK, uint32(n.lo), load(k)...), not(test(opJgtK, uint32(n.hi), load(k)...)))
			}
		}
		return dirs(n.q.dir, one(0), one(2))
	}
	// IPv4: header length from the IHL nibble, ports after it.
	ports4 := match(func(k int) []bpf.RawInstruction {
		return []bpf.RawInstruction{ins(opLdxMSH, uint32(pl)), ins(opLdHInd, uint32(pl+k))}
	})
	laterFrag4 := test(opJsetK, 0x1fff, ins(opLdH, uint32(pl+6)))
	var v4 cond
	if positive {
		v4 = or(laterFrag4, ports4)
	} else {
		v4 = and(not(laterFrag4), ports4)
	}
	v4 = and(and(l.etherType(etherIPv4), protoIs(pl+9)), v4)

	// IPv6: ports right after the fixed header, no extension headers.
	abs := func(base int) func(k int) []bpf.RawInstruction {
		return func(k int) []bpf.RawInstruction { return []bpf.RawInstruction{ins(opLdH, uint32(base+k))} }
	}
	v6 := and(protoIs(pl+6), match(abs(pl+40)))
	if positive {
		// One Fragment header, then the protocol: a later fragment passes,
		// the first one when its ports match.
		laterFrag6 := test(opJsetK, 0xfff8, ins(opLdH, uint32(pl+42)))
		frag := and(and(cmp(1, pl+6, protoFrag6), protoIs(pl+40)), or(laterFrag6, match(abs(pl+48))))
		v6 = or(v6, frag)
	}
	v6 = and(l.etherType(etherIPv6), v6)
	return or(v4, v6)
}
