// Package synth builds frames and capture files for tests and benchmarks:
// the edge cases SIPp cannot produce (fragments, TCP segmentation, tunnels,
// link types, damaged files) and large deterministic captures.
//
// Frames are serialized with gopacket's layers and written with pcapgo, so
// the bytes come from an implementation independent of sipflow's decoder.
package synth

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Frame is one packet to write.
type Frame struct {
	Time  time.Time
	Data  []byte
	Link  layers.LinkType // only used by WritePcapng; zero means Ethernet
	Iface int             // pcapng interface index, assigned by WritePcapng
}

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
)

func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		panic(fmt.Sprintf("synth: serialize: %v", err)) // a bug in the test, not input
	}
	return bytes.Clone(buf.Bytes())
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// IP returns the network layer (IPv4 or IPv6, by the address family) for
// a packet from src to dst carrying proto.
func IP(src, dst netip.Addr, proto layers.IPProtocol) gopacket.NetworkLayer {
	if src.Is4() {
		return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), Id: 1}
	}
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
}

func ethFor(a netip.Addr) *layers.Ethernet {
	et := layers.EthernetTypeIPv4
	if !a.Is4() {
		et = layers.EthernetTypeIPv6
	}
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: et}
}

// UDPPacket returns an IP packet (no link header) carrying a UDP datagram.
func UDPPacket(src, dst string, payload []byte) []byte {
	s, d := ap(src), ap(dst)
	ip := IP(s.Addr(), d.Addr(), layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: layers.UDPPort(s.Port()), DstPort: layers.UDPPort(d.Port())}
	udp.SetNetworkLayerForChecksum(ip)
	return serialize(ip.(gopacket.SerializableLayer), udp, gopacket.Payload(payload))
}

// UDP returns an Ethernet frame carrying a UDP datagram from src to dst
// ("ip:port" or "[ip6]:port").
func UDP(src, dst string, payload []byte) []byte {
	return Ethernet(ap(src).Addr(), UDPPacket(src, dst, payload))
}

// Ethernet puts an Ethernet header (type by the address family of a) in
// front of an IP packet.
func Ethernet(a netip.Addr, ipPacket []byte) []byte {
	return serialize(ethFor(a), gopacket.Payload(ipPacket))
}

// TCPFlags selects the flags of a TCP segment.
type TCPFlags struct{ SYN, ACK, FIN, RST, PSH bool }

// TCPPacket returns an IP packet carrying one TCP segment.
func TCPPacket(src, dst string, seq uint32, f TCPFlags, payload []byte) []byte {
	s, d := ap(src), ap(dst)
	ip := IP(s.Addr(), d.Addr(), layers.IPProtocolTCP)
	tcp := &layers.TCP{SrcPort: layers.TCPPort(s.Port()), DstPort: layers.TCPPort(d.Port()), Seq: seq, Ack: 1,
		SYN: f.SYN, ACK: f.ACK, FIN: f.FIN, RST: f.RST, PSH: f.PSH, Window: 65535}
	tcp.SetNetworkLayerForChecksum(ip)
	return serialize(ip.(gopacket.SerializableLayer), tcp, gopacket.Payload(payload))
}

// TCP returns an Ethernet frame carrying one TCP segment.
func TCP(src, dst string, seq uint32, f TCPFlags, payload []byte) []byte {
	return Ethernet(ap(src).Addr(), TCPPacket(src, dst, seq, f, payload))
}

// Fragments4 splits a UDP datagram from src to dst into IPv4 fragments of at
// most mtu bytes each (header included) and returns Ethernet frames.
func Fragments4(src, dst string, payload []byte, mtu int, id uint16) [][]byte {
	s, d := ap(src), ap(dst)
	udp := &layers.UDP{SrcPort: layers.UDPPort(s.Port()), DstPort: layers.UDPPort(d.Port())}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: s.Addr().AsSlice(), DstIP: d.Addr().AsSlice()}
	udp.SetNetworkLayerForChecksum(ip)
	whole := serialize(udp, gopacket.Payload(payload)) // UDP header + payload
	step := (mtu - 20) &^ 7
	var out [][]byte
	for off := 0; off < len(whole); off += step {
		end := min(off+step, len(whole))
		flags := layers.IPv4Flag(0)
		if end < len(whole) {
			flags = layers.IPv4MoreFragments
		}
		frag := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, Id: id, Flags: flags,
			FragOffset: uint16(off / 8), SrcIP: s.Addr().AsSlice(), DstIP: d.Addr().AsSlice()}
		out = append(out, serialize(ethFor(s.Addr()), frag, gopacket.Payload(whole[off:end])))
	}
	return out
}

// Fragments6 splits a UDP datagram into IPv6 fragments (fragment extension
// header, RFC 8200 §4.5) carrying at most chunk bytes of payload each.
func Fragments6(src, dst string, payload []byte, chunk int, id uint32) [][]byte {
	s, d := ap(src), ap(dst)
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: s.Addr().AsSlice(), DstIP: d.Addr().AsSlice()}
	udp := &layers.UDP{SrcPort: layers.UDPPort(s.Port()), DstPort: layers.UDPPort(d.Port())}
	udp.SetNetworkLayerForChecksum(ip)
	whole := serialize(udp, gopacket.Payload(payload))
	chunk &^= 7
	var out [][]byte
	for off := 0; off < len(whole); off += chunk {
		end := min(off+chunk, len(whole))
		fh := make([]byte, 8)
		fh[0] = byte(layers.IPProtocolUDP)
		fo := uint16(off)
		if end < len(whole) {
			fo |= 1
		}
		binary.BigEndian.PutUint16(fh[2:4], fo)
		binary.BigEndian.PutUint32(fh[4:8], id)
		hdr := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment, SrcIP: s.Addr().AsSlice(), DstIP: d.Addr().AsSlice()}
		out = append(out, serialize(ethFor(s.Addr()), hdr, gopacket.Payload(append(fh, whole[off:end]...))))
	}
	return out
}

// Times gives frames timestamps one step apart from start.
func Times(start time.Time, step time.Duration, data ...[]byte) []Frame {
	fs := make([]Frame, len(data))
	for i, b := range data {
		fs[i] = Frame{Time: start.Add(time.Duration(i) * step), Data: b}
	}
	return fs
}

// WritePcap writes frames as a classic pcap file of the given link type
// (microsecond timestamps, little-endian).
func WritePcap(w io.Writer, link layers.LinkType, frames []Frame) error {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(262144, link); err != nil {
		return err
	}
	for _, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: f.Time, CaptureLength: len(f.Data), Length: len(f.Data)}
		if err := pw.WritePacket(ci, f.Data); err != nil {
			return err
		}
	}
	return nil
}

// WritePcapng writes frames as pcapng with one interface per distinct link
// type, in order of first use.
func WritePcapng(w io.Writer, frames []Frame) error {
	links := []layers.LinkType{}
	index := map[layers.LinkType]int{}
	for _, f := range frames {
		l := f.Link
		if l == 0 {
			l = layers.LinkTypeEthernet
		}
		if _, ok := index[l]; !ok {
			index[l] = len(links)
			links = append(links, l)
		}
	}
	if len(links) == 0 {
		links = append(links, layers.LinkTypeEthernet)
	}
	nw, err := pcapgo.NewNgWriterInterface(w, pcapgo.NgInterface{Name: "if0", LinkType: links[0], SnapLength: 262144}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		return err
	}
	for i, l := range links[1:] {
		if _, err := nw.AddInterface(pcapgo.NgInterface{Name: fmt.Sprintf("if%d", i+1), LinkType: l, SnapLength: 262144}); err != nil {
			return err
		}
	}
	for _, f := range frames {
		l := f.Link
		if l == 0 {
			l = layers.LinkTypeEthernet
		}
		ci := gopacket.CaptureInfo{Timestamp: f.Time, CaptureLength: len(f.Data), Length: len(f.Data), InterfaceIndex: index[l]}
		if err := nw.WritePacket(ci, f.Data); err != nil {
			return err
		}
	}
	return nw.Flush()
}

// Gzip compresses b.
func Gzip(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// RTP returns an RTP packet (version 2, no padding, extension or CSRC)
// with the given header fields and n zero bytes of payload.
func RTP(pt uint8, seq uint16, ts, ssrc uint32, n int) []byte {
	p := make([]byte, 12+n)
	p[0], p[1] = 0x80, pt
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	return p
}
