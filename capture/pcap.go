package capture

import (
	"encoding/binary"
	"io"
	"time"
)

// Classic pcap (draft-ietf-opsawg-pcap): a 24-byte file header, then records
// of a 16-byte header and the captured bytes. The file is in the byte order
// of the machine that wrote it, which the magic number reveals.
const pcapFileHeaderLen = 24

// pcapHeader reads the file header. recHdr is 16, or 24 for the modified
// format of Alexey Kuznetzov's patches (magic 0xa1b2cd34), whose records add
// an interface index, protocol and packet type that sipflow ignores; libpcap
// reads it the same way.
func (rd *Reader) pcapHeader(be, nanos bool, recHdr int) error {
	if !rd.ensure(pcapFileHeaderLen) {
		return rd.cut(0, "file header", pcapFileHeaderLen)
	}
	rd.format, rd.be, rd.nanos, rd.recHdr = formatPcap, be, nanos, recHdr
	// The link type field carries LINKTYPE_ in its low 16 bits; the upper
	// bits may hold FCS information (draft-ietf-opsawg-pcap §4, libpcap's
	// LT_LINKTYPE). Version, time zone (always 0 in practice, ignored by
	// libpcap too) and snaplen do not affect reading: a record longer than
	// the snaplen is accepted, as Wireshark does.
	rd.link = LinkType(rd.u32(rd.buf[rd.r+20:]) & 0xffff)
	rd.r += pcapFileHeaderLen
	return nil
}

func (rd *Reader) nextPcap() (*Packet, error) {
	off := rd.offset()
	h := rd.recHdr
	if !rd.ensure(h) {
		if rd.r == rd.w && rd.rerr == io.EOF {
			return nil, rd.rerr
		}
		return nil, rd.cut(off, "record header", int64(h))
	}
	b := rd.buf[rd.r : rd.r+16]
	var sec, frac, caplen, wirelen uint32
	if rd.be {
		sec, frac = binary.BigEndian.Uint32(b[0:]), binary.BigEndian.Uint32(b[4:])
		caplen, wirelen = binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:])
	} else {
		sec, frac = binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint32(b[4:])
		caplen, wirelen = binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:])
	}
	if caplen > MaxPacketLen {
		return nil, rd.damage(off, ErrCorrupt, "record claims %d captured bytes, more than the %d allowed", caplen, MaxPacketLen)
	}
	end := h + int(caplen)
	if !rd.ensure(end) {
		return nil, rd.cut(off, "record", int64(end))
	}
	nsec := int64(frac)
	if !rd.nanos {
		nsec *= 1000
	}
	rd.n++
	if nsec >= 1e9 {
		rd.badFraction(off, sec, frac, nsec)
	}
	// Field by field: assigning a whole Packet is a bulk copy with write
	// barriers, measurably slower on this path.
	p := &rd.pkt
	p.N = rd.n
	p.Time = time.Unix(int64(sec), nsec).UTC()
	p.Link = rd.link
	p.Data = rd.buf[rd.r+h : rd.r+end : rd.r+end]
	p.Length = int(wirelen)
	p.Offset = off
	p.Iface = 0
	rd.r += end
	return p, nil
}

// badFraction reports a record whose fraction of a second is a second or
// more. The time is read as written, the fraction's whole seconds carried
// (as time.Unix does): an impossible value has no better reading, and the
// warning says which packet's time to doubt.
func (rd *Reader) badFraction(off int64, sec, frac uint32, nsec int64) {
	unit, limit := "microseconds", 1_000_000
	if rd.nanos {
		unit, limit = "nanoseconds", 1_000_000_000
	}
	rd.warnf(rd.n, off, "timestamp's fraction of a second is %d %s, not below %d: read as %s",
		frac, unit, limit, time.Unix(int64(sec), nsec).UTC().Format(warnLayout))
}
