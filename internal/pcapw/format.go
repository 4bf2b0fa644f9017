package pcapw

import (
	"encoding/binary"
	"time"

	"github.com/sipflow/sipflow/capture"
)

// The file formats, written by hand: a classic pcap header and records
// with nanosecond timestamps, and pcapng's section header, interface
// description and enhanced packet blocks, all little-endian. Link types are
// written in full (LINKTYPE_LINUX_SLL2 is 276: a one-byte type cannot say
// it), and the timestamps are the packets', to the nanosecond.

var le = binary.LittleEndian

// PcapRecordLen is the size of a classic pcap record's header (the
// packet's bytes follow it).
const PcapRecordLen = 16

// AppendPcapHeader appends a classic pcap file header: nanosecond
// timestamps (magic a1b23c4d), version 2.4, snaplen and link type.
func AppendPcapHeader(b []byte, snaplen int, link capture.LinkType) []byte {
	b = le.AppendUint32(b, 0xa1b23c4d)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint32(b, 0) // thiszone
	b = le.AppendUint32(b, 0) // sigfigs
	b = le.AppendUint32(b, uint32(snaplen))
	return le.AppendUint32(b, uint32(link))
}

// AppendPcapRecord appends a classic pcap record: the header (time,
// captured and original length) and data. origLen below len(data) is
// written as len(data).
func AppendPcapRecord(b []byte, t time.Time, data []byte, origLen int) []byte {
	return append(appendPcapRecordHeader(b, t, len(data), origLen), data...)
}

func appendPcapRecordHeader(b []byte, t time.Time, n, origLen int) []byte {
	b = le.AppendUint32(b, uint32(t.Unix()))
	b = le.AppendUint32(b, uint32(t.Nanosecond()))
	b = le.AppendUint32(b, uint32(n))
	return le.AppendUint32(b, uint32(max(origLen, n)))
}

// NgPacketLen is the size of the enhanced packet block AppendNgPacket
// writes for n bytes of packet data.
func NgPacketLen(n int) int { return 32 + (n+3)&^3 }

// AppendNgSection appends a pcapng section header block: byte-order magic,
// version 1.0, section length unknown, no options.
func AppendNgSection(b []byte) []byte {
	b, start := ngBlockStart(b, 0x0a0d0d0a)
	b = le.AppendUint32(b, 0x1a2b3c4d)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint64(b, ^uint64(0))
	return ngBlockEnd(b, start)
}

// AppendNgInterface appends a pcapng interface description block: link
// type, snaplen, the interface's name (if_name, when not empty) and
// if_tsresol 9 (timestamps in nanoseconds).
func AppendNgInterface(b []byte, link capture.LinkType, snaplen int, name string) []byte {
	b, start := ngBlockStart(b, 1)
	b = le.AppendUint16(b, uint16(link))
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, uint32(snaplen))
	if name != "" && len(name) <= 0xffff {
		b = ngOption(b, 2, []byte(name))
	}
	b = ngOption(b, 9, []byte{9})
	b = le.AppendUint32(b, 0) // opt_endofopt
	return ngBlockEnd(b, start)
}

// AppendNgPacket appends a pcapng enhanced packet block for interface
// iface: time in nanoseconds, captured and original length, data.
func AppendNgPacket(b []byte, iface int, t time.Time, data []byte, origLen int) []byte {
	b = appendNgPacketHeader(b, iface, t, len(data), origLen)
	return appendNgPacketTrailer(append(b, data...), len(data))
}

// appendNgPacketHeader and appendNgPacketTrailer are AppendNgPacket's
// bytes before and after the n bytes of packet data.
func appendNgPacketHeader(b []byte, iface int, t time.Time, n, origLen int) []byte {
	ns := uint64(t.Unix())*1e9 + uint64(t.Nanosecond())
	b = le.AppendUint32(b, 6)
	b = le.AppendUint32(b, uint32(NgPacketLen(n)))
	b = le.AppendUint32(b, uint32(iface))
	b = le.AppendUint32(b, uint32(ns>>32))
	b = le.AppendUint32(b, uint32(ns))
	b = le.AppendUint32(b, uint32(n))
	return le.AppendUint32(b, uint32(max(origLen, n)))
}

func appendNgPacketTrailer(b []byte, n int) []byte {
	b = append(b, make([]byte, (4-n%4)%4)...)
	return le.AppendUint32(b, uint32(NgPacketLen(n)))
}

// ngOption appends one option, its value padded to 32 bits.
func ngOption(b []byte, code uint16, v []byte) []byte {
	b = le.AppendUint16(b, code)
	b = le.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	return append(b, make([]byte, (4-len(v)%4)%4)...)
}

// ngBlockStart appends a block's type and a length to fill in; start is
// where the block begins in b.
func ngBlockStart(b []byte, typ uint32) (_ []byte, start int) {
	start = len(b)
	b = le.AppendUint32(b, typ)
	return le.AppendUint32(b, 0), start
}

// ngBlockEnd writes the block's length at both ends.
func ngBlockEnd(b []byte, start int) []byte {
	n := uint32(len(b) - start + 4)
	le.PutUint32(b[start+4:], n)
	return le.AppendUint32(b, n)
}
