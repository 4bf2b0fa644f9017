// Package bpf compiles tcpdump-syntax capture filters ("udp port 5060",
// "host 10.0.0.1 and not tcp") to classic BPF programs, in pure Go, so that
// live capture on Linux can filter in the kernel without libpcap.
//
// # Language
//
// The supported subset of pcap-filter(7):
//
//	host ADDR        src host ADDR    dst host ADDR    (IPv4 or IPv6; ip/ip6/arp/rarp qualifiers)
//	net CIDR         src net ...      net A.B.C.D mask M.M.M.M    net 10.1 (= 10.1.0.0/16)
//	port N           src port N       dst port N       (N a number, "sip" or "sip-tls")
//	portrange A-B    src portrange    dst portrange
//	tcp  udp  sctp   (qualify port and portrange: "udp dst port 5060")
//	ip  ip6  icmp  icmp6  arp  rarp
//	vlan [ID]        (every later test looks 4 bytes further in, as tcpdump)
//	and  or  not  &&  ||  !  ( )
//
// Directions combine as in tcpdump ("src or dst port 5060", "src and dst
// net 10.0.0.0/8"), and a bare value after and/or takes the qualifiers of the
// primitive before it: "port 5060 or 5061", "host 10.0.0.1 and not
// 10.0.0.2". As in tcpdump, "and" and "or" have the same precedence and group
// from the left: "a or b and c" is "(a or b) and c".
//
// As in tcpdump: a plain "port" means TCP, UDP or SCTP; a plain "host" or
// "net" also matches the addresses inside ARP and RARP; "tcp", "udp" and
// "icmp6" on IPv6 look past one Fragment header but no other extension
// header, and port tests look past none; "vlan" moves the offsets of every
// test after it in the text, even a negated one, so "not vlan and udp" tests
// for UDP 4 bytes in and "udp and not vlan" is what is usually meant. Unlike
// tcpdump, "vlan" also works on Linux cooked frames (where the kernel puts
// the tag after the SLL header).
//
// Everything else tcpdump accepts (ether, byte offsets such as
// "udp[8:2]", len, less, greater, gateway, proto, host names, mpls, ...)
// is rejected with an error that names its column.
//
// # The one deliberate difference from tcpdump: fragments
//
// Only the first fragment of a fragmented IP datagram carries the UDP or TCP
// header, so tcpdump's "port 5060" drops every later IPv4 fragment and every
// IPv6 fragment: a large SIP INVITE would arrive without its tail and could
// never be reassembled. Here a port or portrange test (not negated) also
// accepts
//
//   - IPv4 packets of the right protocol whose fragment offset is not zero;
//   - IPv6 packets whose first extension header is a Fragment header (next
//     header 44) naming the right protocol, when the fragment offset is not
//     zero, or when it is zero and the ports that follow it match.
//
// A filter cannot know which datagram a later fragment belongs to, so every
// such fragment of the protocol passes; the decoder drops the ones it cannot
// reassemble. Negated tests ("not port 22") are exactly tcpdump's, which
// already pass non-first fragments. Every other decision is tcpdump's: the
// tests compare the two on a corpus of packets.
//
// # Programs
//
// A program returns the snap length to accept a packet and 0 to reject it.
// Compile makes a program for frames of a link type, the program tcpdump
// would run on a capture file of that type. CompileSocket makes the one to
// attach to a Linux packet socket, which differs for cooked (SOCK_DGRAM)
// sockets: the kernel runs the filter on the packet from its network header
// on and the protocol is an ancillary load.
package bpf

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// DefaultSnapLen is the snap length used when Compile is given 0 or less.
const DefaultSnapLen = 262144

// MaxInstructions is the longest program the Linux kernel accepts
// (BPF_MAXINSNS).
const MaxInstructions = 4096

// LINKTYPE_ values the compiler knows (the same numbers as capture.LinkType).
const (
	linkEthernet  = 1
	linkRaw       = 101
	linkRawBSD12  = 12
	linkRawBSD14  = 14
	linkLinuxSLL  = 113
	linkIPv4      = 228
	linkIPv6      = 229
	linkLinuxSLL2 = 276
)

// Errors. A *SyntaxError is returned for a bad expression.
var (
	// ErrUnsupportedLink is returned for a link type the compiler has no
	// offsets for (anything but Ethernet, Linux cooked v1/v2 and raw IP).
	ErrUnsupportedLink = errors.New("link type not supported by the filter compiler")
	// ErrTooLong is returned when a program would exceed MaxInstructions.
	ErrTooLong = errors.New("filter too long for the kernel")
)

// SyntaxError is a filter expression the compiler cannot accept. Pos is the
// byte offset in Expr (Error prints it as a 1-based column).
type SyntaxError struct {
	Expr string
	Pos  int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter %q: column %d: %s", e.Expr, e.Pos+1, e.Msg)
}

// Filter is a parsed expression, ready to compile for any link type.
type Filter struct {
	expr string
	root node // nil for the empty expression, which accepts everything
	vlan bool
}

// Parse checks the syntax of expr. The empty expression (or only spaces)
// accepts every packet.
func Parse(expr string) (*Filter, error) {
	p := &parser{expr: expr}
	if err := p.lex(); err != nil {
		return nil, err
	}
	f := &Filter{expr: expr}
	if len(p.toks) == 0 {
		return f, nil
	}
	root, _, err := p.parseExpr(qualErr)
	if err == nil && p.i < len(p.toks) {
		t := p.toks[p.i]
		err = p.errAt(t.pos, "unexpected %q", t.text)
	}
	if err != nil {
		return nil, err
	}
	f.root = root
	f.vlan = p.sawVLAN
	return f, nil
}

// String returns the expression as given.
func (f *Filter) String() string { return f.expr }

// UsesVLAN reports whether the expression has a vlan primitive. On Linux the
// kernel strips the outer VLAN tag before socket filters run, so live
// capture applies such filters in user space, after putting the tag back.
func (f *Filter) UsesVLAN() bool { return f.vlan }

// Compile compiles f for frames of the given LINKTYPE_ value, as tcpdump
// does for a capture file of that type; accepted packets are cut to snaplen
// bytes (DefaultSnapLen if snaplen <= 0).
func (f *Filter) Compile(link uint16, snaplen int) ([]bpf.RawInstruction, error) {
	m, err := modeFor(link)
	if err != nil {
		return nil, err
	}
	return f.compile(m, snaplen)
}

// CompileSocket compiles f to attach to a Linux AF_PACKET socket that
// delivers frames of the given link type. For Ethernet and raw IP this is
// Compile. For LinkLinuxSLL it is the program for a cooked (SOCK_DGRAM)
// socket, whose filter sees the packet from its network header on, with the
// EtherType in skb->protocol (SKF_AD_PROTOCOL): it takes the same decisions
// as Compile's program on the SLL frame the capture builds from it. A
// cooked-socket program cannot test VLAN tags: it is an error when UsesVLAN.
func (f *Filter) CompileSocket(link uint16, snaplen int) ([]bpf.RawInstruction, error) {
	if link == linkLinuxSLL {
		return f.compile(modeCookedSocket, snaplen)
	}
	return f.Compile(link, snaplen)
}

// Compile parses expr and compiles it for frames of link, a LINKTYPE_ value
// such as capture.LinkEthernet (a type parameter so that this package need
// not import capture, which imports it). See Filter.Compile.
func Compile[L ~uint16](expr string, link L, snaplen int) ([]bpf.RawInstruction, error) {
	f, err := Parse(expr)
	if err != nil {
		return nil, err
	}
	return f.Compile(uint16(link), snaplen)
}

func (f *Filter) compile(m mode, snaplen int) ([]bpf.RawInstruction, error) {
	if snaplen <= 0 {
		snaplen = DefaultSnapLen
	}
	var c cond = condTrue{}
	if f.root != nil {
		l := &lowerer{filter: f, m: m, offLT: m.offLinkType(), offPL: m.offPayload()}
		var err error
		if c, err = l.lower(f.root, true); err != nil {
			return nil, err
		}
	}
	prog, err := generate(c, uint32(snaplen))
	if err != nil {
		return nil, err
	}
	return prog, nil
}
