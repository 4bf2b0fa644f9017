package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks, each
// type(4) length(4) body length(4), in sections that each start with a
// section header block giving the byte order. Interfaces are numbered from 0
// within a section, in the order of their description blocks.
const (
	blockIDB = 0x00000001 // interface description
	blockPB  = 0x00000002 // packet (obsolete)
	blockSPB = 0x00000003 // simple packet
	blockISB = 0x00000005 // interface statistics
	blockEPB = 0x00000006 // enhanced packet
	blockSHB = 0x0a0d0d0a // section header: the same in both byte orders

	byteOrderMagic = 0x1a2b3c4d
)

// Smallest total length of each block type read here (draft §4).
const (
	minBlock    = 12
	minSHB      = 28
	minIDB      = 20
	minEPB      = 32
	minPB       = 32
	minSPB      = 16
	minISB      = 24
	optEnd      = 0
	optTSResol  = 9  // if_tsresol
	optTSOffset = 14 // if_tsoffset
	optIfDrop   = 5  // isb_ifdrop
)

// iface is what a packet needs from its interface description block.
type iface struct {
	link     LinkType
	snaplen  uint32
	div      uint64 // timestamp units per second (if_tsresol)
	mul      uint64 // nanoseconds per unit when div divides 1e9, else 0
	offset   int64  // seconds added to every timestamp (if_tsoffset)
	drops    uint64 // last isb_ifdrop seen
	hasDrops bool
}

func (rd *Reader) nextPcapng() (*Packet, error) {
	for {
		p, err := rd.block()
		if p != nil || err != nil {
			return p, err
		}
	}
}

// block reads one block. It returns a packet for packet blocks, and nil and
// nil for the others, which it either applies (section, interface,
// statistics) or skips.
func (rd *Reader) block() (*Packet, error) {
	off := rd.offset()
	if !rd.ensure(8) {
		if rd.r == rd.w && rd.rerr == io.EOF {
			return nil, io.EOF
		}
		return nil, rd.cut(off, "block header", 8)
	}
	typ := rd.u32(rd.buf[rd.r:])
	if typ == blockSHB {
		return nil, rd.section(off)
	}
	n := rd.u32(rd.buf[rd.r+4:])
	if n < minBlock || n%4 != 0 {
		return nil, rd.damage(off, ErrCorrupt, "block type %#x has length %d: not a multiple of 4 of at least %d", typ, n, minBlock)
	}
	var least uint32
	switch typ {
	case blockEPB:
		least = minEPB
	case blockSPB:
		least = minSPB
	case blockPB:
		least = minPB
	case blockIDB:
		least = minIDB
	case blockISB:
		least = minISB
	default:
		// Name resolution, decryption secrets, journal entries, custom
		// and local blocks: nothing sipflow uses. Skip them as a stream so
		// their length costs no memory, but still check the trailer.
		if !rd.skip(int64(n) - 4) {
			return nil, rd.cut(off, "block", int64(n))
		}
		if !rd.ensure(4) {
			return nil, rd.cut(off, "block", int64(n))
		}
		if t := rd.u32(rd.buf[rd.r:]); t != n {
			return nil, rd.damage(off, ErrCorrupt, "block type %#x: trailer length %d differs from header length %d", typ, t, n)
		}
		rd.r += 4
		return nil, nil
	}
	if n < least {
		return nil, rd.damage(off, ErrCorrupt, "%s of %d bytes, less than the minimum %d", blockName(typ), n, least)
	}
	if n > MaxBlockLen {
		return nil, rd.damage(off, ErrCorrupt, "%s of %d bytes, more than the %d allowed", blockName(typ), n, MaxBlockLen)
	}
	if !rd.ensure(int(n)) {
		return nil, rd.cut(off, blockName(typ), int64(n))
	}
	b := rd.buf[rd.r : rd.r+int(n)]
	if t := rd.u32(b[n-4:]); t != n {
		return nil, rd.damage(off, ErrCorrupt, "%s: trailer length %d differs from header length %d", blockName(typ), t, n)
	}
	body := b[8 : n-4]
	var p *Packet
	var err error
	switch typ {
	case blockEPB:
		p, err = rd.packet(off, body, rd.u32(body), body[4:], 20)
	case blockPB:
		p, err = rd.packet(off, body, uint32(rd.u16(body)), body[4:], 20)
	case blockSPB:
		p, err = rd.simplePacket(off, body)
	case blockIDB:
		err = rd.interfaceBlock(off, body)
	case blockISB:
		err = rd.statistics(off, body)
	}
	if err != nil {
		return nil, err
	}
	rd.r += int(n)
	return p, nil
}

func blockName(typ uint32) string {
	switch typ {
	case blockSHB:
		return "section header block"
	case blockIDB:
		return "interface description block"
	case blockPB:
		return "packet block"
	case blockSPB:
		return "simple packet block"
	case blockISB:
		return "interface statistics block"
	case blockEPB:
		return "enhanced packet block"
	}
	return "block"
}

// section reads a section header block: it sets the byte order and forgets
// the interfaces of the previous section.
func (rd *Reader) section(off int64) error {
	if !rd.ensure(12) {
		return rd.cut(off, "section header block", 12)
	}
	switch binary.LittleEndian.Uint32(rd.buf[rd.r+8:]) {
	case byteOrderMagic:
		rd.be = false
	case bits.ReverseBytes32(byteOrderMagic):
		rd.be = true
	default:
		bom := rd.buf[rd.r+8 : rd.r+12]
		if rd.sections == 0 {
			return rd.notPcapng("unknown byte-order magic %#x", bom)
		}
		return rd.damage(off, ErrCorrupt, "section header block: unknown byte-order magic %#x", bom)
	}
	n := rd.u32(rd.buf[rd.r+4:])
	if n < minSHB || n%4 != 0 || n > MaxBlockLen {
		return rd.damage(off, ErrCorrupt, "section header block of %d bytes: not a multiple of 4 between %d and %d", n, minSHB, MaxBlockLen)
	}
	if !rd.ensure(int(n)) {
		return rd.cut(off, "section header block", int64(n))
	}
	b := rd.buf[rd.r : rd.r+int(n)]
	if t := rd.u32(b[n-4:]); t != n {
		return rd.damage(off, ErrCorrupt, "section header block: trailer length %d differs from header length %d", t, n)
	}
	// Version 1.x is the only one there is; 1.0 and 1.2 are both written.
	if major := rd.u16(b[12:]); major != 1 {
		if rd.sections == 0 {
			return rd.notPcapng("version %d.%d", major, rd.u16(b[14:]))
		}
		return rd.damage(off, ErrCorrupt, "section header block: unsupported version %d.%d", major, rd.u16(b[14:]))
	}
	rd.sections++
	for i := range rd.ifaces {
		if rd.ifaces[i].hasDrops {
			rd.dropsDone += rd.ifaces[i].drops
			rd.dropsSeen = true
		}
	}
	rd.ifaces = rd.ifaces[:0]
	rd.r += int(n)
	return nil
}

// notPcapng rejects a file that starts with the pcapng magic but whose first
// section header is not one: text starting "\n\r\r\n" looks the same.
func (rd *Reader) notPcapng(format string, args ...any) error {
	return fmt.Errorf("%s: %w (%spcapng magic, but %s)", rd.name, ErrFormat, rd.gzipped(), fmt.Sprintf(format, args...))
}

// interfaceBlock reads an interface description block.
func (rd *Reader) interfaceBlock(off int64, body []byte) error {
	if len(rd.ifaces) >= maxInterfaces {
		return rd.damage(off, ErrCorrupt, "more than %d interfaces in one section", maxInterfaces)
	}
	f := iface{
		link:    LinkType(rd.u16(body)),
		snaplen: rd.u32(body[4:]),
		div:     1e6, // microseconds unless if_tsresol says otherwise
	}
	for code, v := range rd.options(body[8:]) {
		switch {
		case code == optTSResol && len(v) >= 1:
			div, ok := tsUnits(v[0])
			if !ok {
				return rd.damage(off, ErrCorrupt, "interface %d: unsupported if_tsresol %#x", len(rd.ifaces), v[0])
			}
			f.div = div
		case code == optTSOffset && len(v) >= 8:
			f.offset = int64(rd.u64(v))
		}
	}
	if f.div <= 1e9 && 1e9%f.div == 0 {
		f.mul = 1e9 / f.div
	}
	rd.ifaces = append(rd.ifaces, f)
	return nil
}

// tsUnits turns if_tsresol into units per second: the high bit clear means
// a power of 10, set means a power of 2 (draft §4.2). Resolutions finer than
// 64 bits can count are refused, as Wireshark does.
func tsUnits(res byte) (uint64, bool) {
	if res&0x80 != 0 {
		e := res & 0x7f
		if e > 63 {
			return 0, false
		}
		return 1 << e, true
	}
	if res > 19 {
		return 0, false
	}
	d := uint64(1)
	for range res {
		d *= 10
	}
	return d, true
}

// Packet times sipflow keeps are those whose Unix time in nanoseconds
// fits an int64 (what the archive stores, and what JSON's RFC 3339 years
// hold): from 1677-09-22 to 2262-04-11. pcap's 32-bit seconds never leave
// it; pcapng's 64-bit timestamps, and if_tsoffset, can.
const (
	minTimeSec = -9223372035
	maxTimeSec = 9223372035
)

// time converts a pcapng timestamp in the interface's units. It reports
// false for a time outside what sipflow keeps.
func (f *iface) time(ts uint64) (time.Time, bool) {
	var sec, nsec uint64
	switch {
	case f.div == 1e6: // the default: constant division is cheap
		sec, nsec = ts/1e6, ts%1e6*1e3
	case f.div == 1e9:
		sec, nsec = ts/1e9, ts%1e9
	case f.mul != 0:
		sec, nsec = ts/f.div, ts%f.div*f.mul
	default:
		// frac < div, so frac*1e9/div < 1e9 and Div64 cannot overflow.
		sec = ts / f.div
		hi, lo := bits.Mul64(ts%f.div, 1e9)
		nsec, _ = bits.Div64(hi, lo, f.div)
	}
	if sec > maxTimeSec {
		return time.Time{}, false
	}
	// Compared before adding, so that no offset can overflow the sum.
	s := int64(sec)
	if f.offset > 0 && s > maxTimeSec-f.offset || f.offset < 0 && s < minTimeSec-f.offset {
		return time.Time{}, false
	}
	return time.Unix(s+f.offset, int64(nsec)).UTC(), true
}

// packet fills the packet of an enhanced or obsolete packet block. rest
// starts at the timestamp; data starts at dataAt in body. A block whose
// framing is sound but whose packet cannot be taken (an interface the
// section does not describe, a captured length beyond the block) is
// skipped with a warning, keeping its number: it returns nil and nil.
func (rd *Reader) packet(off int64, body []byte, id uint32, rest []byte, dataAt int) (*Packet, error) {
	if int64(id) >= int64(len(rd.ifaces)) {
		rd.skipPacket(off, "packet on interface %d, but the section describes %d", id, len(rd.ifaces))
		return nil, nil
	}
	f := &rd.ifaces[id]
	ts := uint64(rd.u32(rest))<<32 | uint64(rd.u32(rest[4:]))
	caplen, wirelen := rd.u32(rest[8:]), rd.u32(rest[12:])
	if caplen > MaxPacketLen {
		rd.skipPacket(off, "packet claims %d captured bytes, more than the %d allowed", caplen, MaxPacketLen)
		return nil, nil
	}
	if int(caplen) > len(body)-dataAt {
		rd.skipPacket(off, "packet claims %d captured bytes, but its block holds %d", caplen, len(body)-dataAt)
		return nil, nil
	}
	end := dataAt + int(caplen)
	rd.n++
	p := &rd.pkt
	p.N = rd.n
	if t, ok := f.time(ts); ok {
		p.Time = t
	} else {
		rd.badTime(off, ts, f)
	}
	p.Link = f.link
	p.Data = body[dataAt:end:end]
	p.Length = int(wirelen)
	p.Offset = off
	p.Iface = int(id)
	return p, nil
}

// badTime reports a packet whose time is outside what sipflow keeps, and
// gives it the previous packet's (p.Time still holds it; the Unix epoch
// for the first), so that times stay in order and every output can show
// them.
func (rd *Reader) badTime(off int64, ts uint64, f *iface) {
	if rd.n == 1 {
		rd.pkt.Time = time.Unix(0, 0).UTC()
	}
	rd.warnf(rd.n, off, "timestamp %d (%d units a second, offset %d s) is outside 1677-2262: read as %s",
		ts, f.div, f.offset, rd.pkt.Time.Format(warnLayout))
}

// simplePacket fills the packet of a simple packet block: interface 0,
// captured length the smaller of the original length and the snaplen
// (draft §4.4), and never more than the block. The block has no timestamp:
// the packet takes the previous packet's time (the Unix epoch for the
// first), so that times stay in order and every output can show them; the
// first such block is warned of.
func (rd *Reader) simplePacket(off int64, body []byte) (*Packet, error) {
	if len(rd.ifaces) == 0 {
		rd.skipPacket(off, "simple packet block, but the section describes no interface")
		return nil, nil
	}
	f := &rd.ifaces[0]
	wirelen := rd.u32(body)
	caplen := wirelen
	if f.snaplen != 0 && caplen > f.snaplen {
		caplen = f.snaplen
	}
	caplen = min(caplen, uint32(len(body)-4))
	if caplen > MaxPacketLen {
		rd.skipPacket(off, "simple packet of %d captured bytes, more than the %d allowed", caplen, MaxPacketLen)
		return nil, nil
	}
	rd.n++
	p := &rd.pkt
	p.N = rd.n
	if rd.n == 1 {
		p.Time = time.Unix(0, 0).UTC()
	} // else p.Time still holds the previous packet's
	if !rd.untimed {
		rd.untimed = true
		rd.report(Warning{Packet: rd.n, Offset: off, Err: ErrNoTime},
			"simple packet block: read as %s, the previous packet's time (the Unix epoch for the first); so are later ones, and their times, durations and timeouts are not real",
			p.Time.Format(warnLayout))
	}
	p.Link = f.link
	p.Data = body[4 : 4+caplen : 4+caplen]
	p.Length = int(wirelen)
	p.Offset = off
	p.Iface = 0
	return p, nil
}

// statistics reads an interface statistics block for its drop count.
func (rd *Reader) statistics(off int64, body []byte) error {
	id := rd.u32(body)
	if int64(id) >= int64(len(rd.ifaces)) {
		rd.warnf(rd.n+1, off, "statistics for interface %d, but the section describes %d: ignored", id, len(rd.ifaces))
		return nil
	}
	for code, v := range rd.options(body[12:]) {
		if code == optIfDrop && len(v) >= 8 {
			rd.ifaces[id].drops = rd.u64(v)
			rd.ifaces[id].hasDrops = true
		}
	}
	return nil
}

// options iterates over the options of a block: code, value. A malformed
// option ends the list quietly; the packet it belongs to is still good.
func (rd *Reader) options(b []byte) func(yield func(uint16, []byte) bool) {
	return func(yield func(uint16, []byte) bool) {
		for len(b) >= 4 {
			code, n := rd.u16(b), int(rd.u16(b[2:]))
			if code == optEnd || 4+n > len(b) {
				return
			}
			if !yield(code, b[4:4+n]) {
				return
			}
			b = b[min(len(b), 4+(n+3)&^3):]
		}
	}
}
