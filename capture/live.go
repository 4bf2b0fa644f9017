package capture

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"syscall"
)

// Live capture defaults.
const (
	// DefaultLiveFilter is the capture filter when LiveOptions.Filter is
	// empty: everything SIP can travel in (UDP and TCP, fragments
	// included), so the kernel drops the rest before it costs anything. To
	// capture every packet give a filter that is always true, such as
	// "udp or not udp".
	DefaultLiveFilter = "udp or tcp"
	// DefaultSnapLen is the most bytes kept of a packet: what a file's
	// record may hold (MaxPacketLen), as libpcap.
	DefaultSnapLen = MaxPacketLen
	// DefaultBufferSize is the kernel buffer for packets not yet read.
	DefaultBufferSize = 32 << 20
	// AnyInterface captures on every interface, in Linux cooked format.
	AnyInterface = "any"
)

// LiveOptions selects what OpenLive captures.
type LiveOptions struct {
	// Interfaces to capture on, by name; AnyInterface ("any") is every
	// interface (Linux). Several may be given; their packets are merged.
	Interfaces []string
	// Filter is a tcpdump-syntax capture filter, compiled by capture/bpf
	// and run in the kernel. Empty means DefaultLiveFilter ("udp or tcp"),
	// not "everything". Unlike tcpdump, a port filter keeps every later
	// fragment of an IP datagram of its protocol (see capture/bpf). On
	// Linux, as with tcpdump there, the kernel has taken the outer VLAN tag
	// off before the filter runs, so "udp port 5060" also matches tagged
	// packets; a filter that tests "vlan" runs in user space instead, on
	// the frame with its tag put back, after the kernel has passed every
	// packet to it.
	Filter string
	// SnapLen is the most bytes kept of each packet (DefaultSnapLen if 0).
	SnapLen int
	// Promisc puts the interfaces in promiscuous mode for as long as the
	// capture is open. It has no effect on "any".
	Promisc bool
	// BufferSize is the kernel buffer, per interface, for packets not yet
	// read (DefaultBufferSize if 0). When it is full the kernel drops
	// packets and LiveStats.Dropped counts them.
	BufferSize int
}

// LiveSource is a capture from network interfaces.
//
// Next blocks until a packet arrives or Close is called; after Close it
// returns io.EOF. Packet.Time is the kernel's receive timestamp, Packet.N
// counts from 1, Packet.Iface is the position in LiveOptions.Interfaces of
// the interface it came from, and Packet.Offset is 0. Packets from one interface arrive in
// order; packets from different interfaces are merged as they come and may
// be slightly out of time order. As with files, Packet and its Data are
// valid until the next call to Next (or Close). Close may be called from
// another goroutine to stop a blocked Next; Stats may be called at any time.
type LiveSource interface {
	Source
	// Stats returns the counters since OpenLive, over all interfaces.
	Stats() (LiveStats, error)
}

// LiveStats counts packets as the kernel does.
type LiveStats struct {
	// Received is packets that passed the filter, including those then
	// Dropped (tcpdump's "packets received by filter").
	Received uint64
	// Dropped is packets the kernel could not queue because the buffer
	// was full (PACKET_STATISTICS tp_drops, cumulative): the capture is
	// incomplete.
	Dropped uint64
}

// Interface describes a network interface for listing (sipflow capture -D).
type Interface struct {
	Name     string
	Index    int // kernel interface index; 0 for "any"
	Addrs    []netip.Prefix
	Up       bool
	Loopback bool
	// LinkType is the link type of the frames OpenLive delivers from it.
	LinkType LinkType
}

// Errors from OpenLive.
var (
	// ErrPermission: the process may not open a capture socket.
	ErrPermission = errors.New("live capture needs the CAP_NET_RAW capability: run as root, or grant it once with: " +
		"sudo setcap cap_net_raw,cap_net_admin=eip $(which sipflow)")
	// ErrNoInterface: no interface has the name given.
	ErrNoInterface = errors.New("no such interface")
	// ErrUnsupported: this build cannot capture live on this system.
	ErrUnsupported = errors.New("live capture needs Linux or -tags libpcap")
)

// OpenLive starts capturing on opts.Interfaces (at least one).
func OpenLive(opts LiveOptions) (LiveSource, error) {
	if len(opts.Interfaces) == 0 {
		return nil, errors.New("capture: no interface given (name one, or \"any\")")
	}
	if opts.Filter == "" {
		opts.Filter = DefaultLiveFilter
	}
	if opts.SnapLen <= 0 {
		opts.SnapLen = DefaultSnapLen
	}
	if opts.SnapLen > MaxPacketLen {
		opts.SnapLen = MaxPacketLen
	}
	if opts.BufferSize <= 0 {
		opts.BufferSize = DefaultBufferSize
	}
	return openLive(opts)
}

// permissionError wraps err from socket() or its like as ErrPermission when
// it is EPERM or EACCES, and says which interface it was about.
func permissionError(iface string, err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("capture on %s: %w (%w)", iface, ErrPermission, err)
	}
	return fmt.Errorf("capture on %s: %w", iface, err)
}

// Interfaces lists the network interfaces, sorted by index, with the
// pseudo-interface "any" last where the system has it.
func Interfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("capture: list interfaces: %w", err)
	}
	out := make([]Interface, 0, len(ifs)+1)
	for _, ni := range ifs {
		it := Interface{Name: ni.Name, Index: ni.Index, Up: ni.Flags&net.FlagUp != 0,
			Loopback: ni.Flags&net.FlagLoopback != 0}
		if addrs, err := ni.Addrs(); err == nil {
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok {
					ip, _ := netip.AddrFromSlice(n.IP)
					ones, bits := n.Mask.Size()
					if ip.Is4In6() {
						ip = ip.Unmap()
						if bits == 128 {
							ones -= 96
						}
					}
					it.Addrs = append(it.Addrs, netip.PrefixFrom(ip, ones))
				}
			}
		}
		it.LinkType = interfaceLinkType(ni)
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return append(out, extraInterfaces()...), nil
}
