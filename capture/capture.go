// Package capture reads packets from capture files (pcap, pcapng, either
// gzip-compressed, or standard input) and hands them on one at a time.
//
// Readers are pure Go and zero-copy: the Data of a Packet is a view into the
// reader's buffer, valid only until the next call to Next. Copy what you keep.
// OpenMapped goes one step further for a plain file: the buffer is the file
// itself, mapped into memory, so not even the kernel copies it.
// Time is always the packet's own timestamp; nothing here reads the clock.
//
// Open detects the format by its magic number, never by the file name. A
// damaged file is read up to the damage: Next returns every good packet,
// then one *DamageError naming the packet number and byte offset where
// reading stopped, then io.EOF. No length read from a file is trusted: a
// record beyond MaxPacketLen or MaxBlockLen is corruption, so memory stays
// bounded whatever the input claims, and nothing panics on any input.
package capture

import (
	"errors"
	"fmt"
	"time"
)

// LinkType is a LINKTYPE_ value as registered for pcap and pcapng.
type LinkType uint16

// Link types sipflow decodes.
const (
	LinkNull      LinkType = 0   // BSD loopback: 4-byte address family in host order
	LinkEthernet  LinkType = 1   // Ethernet II, possibly with 802.1Q/QinQ tags
	LinkRaw       LinkType = 101 // raw IPv4 or IPv6, version from the first nibble
	LinkLoop      LinkType = 108 // OpenBSD loopback: 4-byte address family, network order
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1
	LinkIPv4      LinkType = 228 // raw IPv4
	LinkIPv6      LinkType = 229 // raw IPv6
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2
	// DLT_RAW is 12 on most BSDs and 14 on OpenBSD; files written there carry
	// those numbers instead of LINKTYPE_RAW.
	LinkRawBSD12 LinkType = 12
	LinkRawBSD14 LinkType = 14
)

func (l LinkType) String() string {
	switch l {
	case LinkNull:
		return "null"
	case LinkEthernet:
		return "ethernet"
	case LinkRaw, LinkRawBSD12, LinkRawBSD14:
		return "raw"
	case LinkLoop:
		return "loop"
	case LinkLinuxSLL:
		return "linux-sll"
	case LinkIPv4:
		return "ipv4"
	case LinkIPv6:
		return "ipv6"
	case LinkLinuxSLL2:
		return "linux-sll2"
	}
	return fmt.Sprintf("linktype-%d", uint16(l))
}

// Packet is one captured frame. Data is a view into the reader's buffer and
// is overwritten by the next call to Next.
type Packet struct {
	N      int       // 1-based packet number, as tshark counts
	Time   time.Time // capture timestamp, UTC
	Link   LinkType  // link type of the interface it was captured on
	Data   []byte    // captured bytes (possibly fewer than Length)
	Length int       // original length on the wire
	Offset int64     // byte offset of the packet's record in the (decompressed) file
	Iface  int       // interface index (pcapng); 0 for pcap
}

// Source is a stream of packets: a file or a live interface.
type Source interface {
	// Next returns the next packet, valid until the following call.
	// It returns io.EOF at the end, or a *DamageError when the rest of the
	// input cannot be read; every packet before the damage was returned.
	Next() (*Packet, error)
	Close() error
}

// Sentinel causes carried by DamageError (ErrCorrupt by Warning too).
var (
	ErrTruncated = errors.New("truncated")
	ErrCorrupt   = errors.New("corrupt")
	ErrFormat    = errors.New("not a pcap or pcapng file")
)

// ErrNoTime is a Warning's cause: a packet record carries no timestamp (a
// pcapng simple packet block).
var ErrNoTime = errors.New("no timestamp")

// DamageError reports where a capture stopped being readable.
type DamageError struct {
	File   string // name as given by the user ("-" for stdin)
	Packet int    // number the damaged packet would have had
	Offset int64  // byte offset of its record in the (decompressed) stream
	Err    error  // ErrTruncated or ErrCorrupt, wrapped with detail
}

func (e *DamageError) Error() string {
	return fmt.Sprintf("%s: packet %d at byte offset %d: %v", e.File, e.Packet, e.Offset, e.Err)
}

func (e *DamageError) Unwrap() error { return e.Err }

// Warning is damage that reading survived: a packet record skipped whose
// neighbours were intact, or a value it could not take as written (a
// timestamp out of range). Reading goes on; Reader.OnWarning receives them.
type Warning struct {
	Packet  int   // the packet's number; for a block other than a packet's, the next packet's
	Offset  int64 // byte offset of its record in the (decompressed) stream
	Skipped bool  // the packet was skipped: its number is used up, the next is Packet+1
	Err     error // ErrCorrupt or ErrNoTime, wrapped with detail
}

func (w *Warning) Error() string {
	return fmt.Sprintf("packet %d at byte offset %d: %v", w.Packet, w.Offset, w.Err)
}

func (w *Warning) Unwrap() error { return w.Err }
