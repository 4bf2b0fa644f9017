package bpf_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/internal/synth"
)

// A corpus packet: an Ethernet frame and what the test needs to know about
// it. Frames are complete (never cut short), so a program that reads a field
// the packet lacks rejects it whatever order it tests things in.
type sample struct {
	name string
	eth  []byte // Ethernet frame
	frag bool   // an IPv4 fragment with a non-zero offset, or IPv6 with a Fragment header
	vlan bool   // carries at least one VLAN tag
}

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
)

func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		panic(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// frame puts an Ethernet header, and VLAN tags (TPID, ID pairs), in front
// of a network-layer packet.
func frame(et uint16, l3 []byte, tags ...uint16) []byte {
	b := append([]byte(nil), macB...)
	b = append(b, macA...)
	for i := 0; i+1 < len(tags); i += 2 {
		b = binary.BigEndian.AppendUint16(b, tags[i])
		b = binary.BigEndian.AppendUint16(b, tags[i+1])
	}
	b = binary.BigEndian.AppendUint16(b, et)
	return append(b, l3...)
}

func etFor(a string) uint16 {
	if netip.MustParseAddrPort(a).Addr().Is4() {
		return 0x0800
	}
	return 0x86dd
}

func ipHeader(src, dst netip.Addr, proto layers.IPProtocol) gopacket.SerializableLayer {
	if src.Is4() {
		return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), Id: 7}
	}
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
}

// sctp builds an IP packet with an SCTP common header (ports, tag, checksum).
func sctp(src, dst string) []byte {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	h := make([]byte, 12)
	binary.BigEndian.PutUint16(h, s.Port())
	binary.BigEndian.PutUint16(h[2:], d.Port())
	return serialize(ipHeader(s.Addr(), d.Addr(), layers.IPProtocolSCTP), gopacket.Payload(h))
}

func arp(op uint16, spa, tpa string) []byte {
	return serialize(&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: op,
		SourceHwAddress: macA, SourceProtAddress: netip.MustParseAddr(spa).AsSlice(),
		DstHwAddress: macB, DstProtAddress: netip.MustParseAddr(tpa).AsSlice()})
}

// tcpFrag6 builds an IPv6 packet with a Fragment header in front of data.
func frag6(src, dst string, next uint8, offset uint16, more bool, data []byte) []byte {
	fh := make([]byte, 8)
	fh[0] = next
	fo := offset &^ 7
	if more {
		fo |= 1
	}
	binary.BigEndian.PutUint16(fh[2:], fo)
	binary.BigEndian.PutUint32(fh[4:], 99)
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	return serialize(&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment,
		SrcIP: s.AsSlice(), DstIP: d.AsSlice()}, gopacket.Payload(append(fh, data...)))
}

// frag4 builds an IPv4 fragment of protocol proto at byte offset off.
func frag4(src, dst string, proto layers.IPProtocol, off uint16, more bool, data []byte) []byte {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	flags := layers.IPv4Flag(0)
	if more {
		flags = layers.IPv4MoreFragments
	}
	return serialize(&layers.IPv4{Version: 4, TTL: 64, Protocol: proto, Id: 9, Flags: flags, FragOffset: off / 8,
		SrcIP: s.AsSlice(), DstIP: d.AsSlice()}, gopacket.Payload(data))
}

var (
	v4Pairs = [][2]string{{"10.0.0.1", "10.0.0.2"}, {"10.0.0.2", "192.168.1.10"}, {"192.168.1.10", "1.2.3.4"}}
	v6Pairs = [][2]string{{"2001:db8::1", "2001:db8::2"}, {"2001:db8::2", "fe80::1"}, {"2001:db9::5", "::ffff:1.2.3.4"}}
	ports   = [][2]uint16{{5060, 5060}, {40000, 5060}, {5060, 40000}, {5061, 53}, {5070, 1024}, {5071, 65535}, {53, 5059}, {0, 1}}
)

func hostport(a string, p uint16) string {
	return netip.AddrPortFrom(netip.MustParseAddr(a), p).String()
}

// corpus returns every sample packet.
func corpus() []sample {
	var out []sample
	add := func(s sample) { out = append(out, s) }
	payload := []byte("OPTIONS sip:x SIP/2.0\r\n\r\n")
	for _, pairs := range [][][2]string{v4Pairs, v6Pairs} {
		for _, pr := range pairs {
			for _, pp := range ports {
				src, dst := hostport(pr[0], pp[0]), hostport(pr[1], pp[1])
				add(sample{name: "udp " + src + ">" + dst, eth: frame(etFor(src), synth.UDPPacket(src, dst, payload))})
				add(sample{name: "tcp " + src + ">" + dst, eth: frame(etFor(src), synth.TCPPacket(src, dst, 1, synth.TCPFlags{ACK: true}, payload))})
				add(sample{name: "sctp " + src + ">" + dst, eth: frame(etFor(src), sctp(src, dst))})
			}
			s, d := netip.MustParseAddr(pr[0]), netip.MustParseAddr(pr[1])
			if s.Is4() {
				icmp := serialize(ipHeader(s, d, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)})
				add(sample{name: "icmp " + pr[0], eth: frame(0x0800, icmp)})
			} else {
				ip := ipHeader(s, d, layers.IPProtocolICMPv6).(*layers.IPv6)
				ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}
				ic.SetNetworkLayerForChecksum(ip)
				add(sample{name: "icmp6 " + pr[0], eth: frame(0x86dd, serialize(ip, ic, gopacket.Payload(make([]byte, 8))))})
			}
		}
	}
	// ARP and RARP, both directions of addresses.
	add(sample{name: "arp who-has 10.0.0.2 tell 10.0.0.1", eth: frame(0x0806, arp(1, "10.0.0.1", "10.0.0.2"))})
	add(sample{name: "arp reply 192.168.1.10", eth: frame(0x0806, arp(2, "192.168.1.10", "10.0.0.1"))})
	add(sample{name: "rarp 10.0.0.2", eth: frame(0x8035, arp(3, "10.0.0.2", "1.2.3.4"))})
	add(sample{name: "lldp", eth: frame(0x88cc, make([]byte, 46))})
	// IPv4 with options: the ports move.
	opt := serialize(&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2},
		Options: []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}},
		gopacket.Payload(serializeUDP(5060, 5062, payload)))
	add(sample{name: "udp with IP options 5060>5062", eth: frame(0x0800, opt)})
	// IPv6 with a hop-by-hop header before UDP: tcpdump does not look past it.
	hbh := serialize(&layers.IPv6{Version: 6, HopLimit: 1, NextHeader: layers.IPProtocolIPv6HopByHop,
		SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")},
		gopacket.Payload(append([]byte{17, 0, 1, 4, 0, 0, 0, 0}, serializeUDP(5060, 5060, payload)...)))
	add(sample{name: "ip6 hop-by-hop udp 5060", eth: frame(0x86dd, hbh)})
	// Fragments: a SIP datagram too big for one packet, to 5060 and 5061.
	big := make([]byte, 3000)
	for _, dport := range []uint16{5060, 5061} {
		for i, f := range synth.Fragments4(hostport("10.0.0.1", 5062), hostport("10.0.0.2", dport), big, 1500, 1) {
			add(sample{name: fmt.Sprintf("ip frag %d of udp >%d", i, dport), eth: f, frag: i > 0})
		}
		for i, f := range synth.Fragments6(hostport("2001:db8::1", 5062), hostport("2001:db8::2", dport), big, 1400, 1) {
			add(sample{name: fmt.Sprintf("ip6 frag %d of udp >%d", i, dport), eth: f, frag: true})
		}
	}
	tcpSeg := synth.TCPPacket(hostport("10.0.0.1", 5060), hostport("10.0.0.2", 5061), 1, synth.TCPFlags{ACK: true}, payload)[20:]
	add(sample{name: "ip later frag of tcp", eth: frame(0x0800, frag4("10.0.0.1", "10.0.0.2", layers.IPProtocolTCP, 1480, false, tcpSeg)), frag: true})
	add(sample{name: "ip later frag of icmp", eth: frame(0x0800, frag4("10.0.0.1", "10.0.0.2", layers.IPProtocolICMPv4, 1480, false, make([]byte, 40))), frag: true})
	add(sample{name: "ip6 first frag of tcp 5060>5061", eth: frame(0x86dd, frag6("2001:db8::1", "2001:db8::2", 6, 0, true, tcpSeg)), frag: true})
	add(sample{name: "ip6 later frag of tcp", eth: frame(0x86dd, frag6("2001:db8::1", "2001:db8::2", 6, 1448, false, tcpSeg)), frag: true})
	add(sample{name: "ip6 later frag of icmp6", eth: frame(0x86dd, frag6("2001:db8::1", "2001:db8::2", 58, 1448, false, make([]byte, 40))), frag: true})
	// VLAN tags around some of the above.
	var tagged []sample
	for i, s := range out {
		if i%5 != 0 && s.name[:3] != "arp" && !s.frag {
			continue
		}
		et, l3 := binary.BigEndian.Uint16(s.eth[12:]), s.eth[14:]
		for _, tags := range [][]uint16{{0x8100, 100}, {0x8100, 200}, {0x88a8, 100, 0x8100, 200}, {0x9100, 4095}, {0x8100, 0x2064}} {
			tagged = append(tagged, sample{name: fmt.Sprintf("vlan %x %s", tags, s.name), eth: frame(et, l3, tags...), frag: s.frag, vlan: true})
		}
	}
	return append(out, tagged...)
}

func serializeUDP(sport, dport uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	return append(b, payload...)
}

// asLink converts an Ethernet frame to the given link type; ok is false
// when the frame cannot be one (ARP on raw IP, IPv6 on LINKTYPE_IPV4).
func asLink(eth []byte, link capture.LinkType) (data []byte, proto uint16, ok bool) {
	et := binary.BigEndian.Uint16(eth[12:])
	rest := eth[14:]
	switch link {
	case capture.LinkEthernet:
		return eth, et, true
	case capture.LinkLinuxSLL:
		h := make([]byte, 16, 16+len(rest))
		binary.BigEndian.PutUint16(h[0:], 0) // to us
		binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:], 6)
		copy(h[6:], eth[6:12])
		binary.BigEndian.PutUint16(h[14:], et)
		return append(h, rest...), et, true
	case capture.LinkLinuxSLL2:
		h := make([]byte, 20, 20+len(rest))
		binary.BigEndian.PutUint16(h[0:], et)
		binary.BigEndian.PutUint32(h[4:], 2) // ifindex
		binary.BigEndian.PutUint16(h[8:], 1)
		h[11] = 6
		copy(h[12:], eth[6:12])
		return append(h, rest...), et, true
	case capture.LinkRaw:
		return rest, et, et == 0x0800 || et == 0x86dd
	case capture.LinkIPv4:
		return rest, et, et == 0x0800
	case capture.LinkIPv6:
		return rest, et, et == 0x86dd
	}
	return nil, 0, false
}
