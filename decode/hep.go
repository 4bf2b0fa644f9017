package decode

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// ErrBadHEP is wrapped by every error ParseHEP returns. When the input is
// only the start of a HEP3 packet (its total length runs past the end of the
// input) the error also wraps io.ErrUnexpectedEOF, so a TCP stream reader can
// tell "wait for more bytes" from "skip this garbage".
var ErrBadHEP = errors.New("bad HEP packet")

// HEPMaxPayload caps the size of a decompressed HEP payload (chunk 0x0010).
// A compressed chunk that inflates beyond it is rejected: a 64 KiB HEP3
// packet can otherwise inflate to gigabytes (a zip bomb). No SIP message
// comes close to 1 MiB.
const HEPMaxPayload = 1 << 20

// HEP protocol types (HEP3 chunk 0x000b) that sipflow looks at. The full
// list is kept by sipcapture (Homer); anything else is passed on as a number.
const (
	HEPProtoSIP  = 1   // a SIP message
	HEPProtoRTCP = 5   // RTCP statistics, usually as JSON rather than RTCP bytes
	HEPProtoLog  = 100 // a log line mentioning a Call-ID
)

// HEP is one decoded HEP (Homer Encapsulation Protocol) packet, as sent by
// Homer capture agents (heplify, captagent, Kamailio/OpenSIPS sipcapture,
// FreeSWITCH, Asterisk res_hep) to a collector, by default on UDP or TCP port
// 9060.
//
// Src, Dst, IPProto and Time describe the packet the agent captured, not the
// HEP packet itself: they are what a flow should show. Every []byte is a view
// into the input except Payload when Compressed is set, which points into the
// scratch buffer given to ParseHEP. Either way it is valid only until the
// next call that reuses that memory.
type HEP struct {
	Version       int // 1, 2 or 3
	Src, Dst      netip.AddrPort
	IPProto       uint8     // IP protocol number of the captured packet: 17 UDP, 6 TCP, 132 SCTP, ...
	Time          time.Time // capture time, UTC (v2 header, v3 chunks 0x0009/0x000a); zero if absent
	ProtoType     uint8     // v3 chunk 0x000b (HEPProtoSIP, ...); 0 if absent, always 0 for v1/v2 (which carry SIP)
	CaptureID     uint32    // capture agent id (v2 header, v3 chunk 0x000c)
	CorrelationID []byte    // v3 chunk 0x0011, e.g. the Call-ID that an RTCP or log payload belongs to
	Payload       []byte    // v3 chunk 0x000f, or chunk 0x0010 inflated; v1/v2: everything after the header
	Compressed    bool      // Payload came from a compressed chunk (0x0010)
}

// HEP3 generic chunk types (vendor 0).
const (
	hepChunkFamily      = 0x0001
	hepChunkIPProto     = 0x0002
	hepChunkSrcIPv4     = 0x0003
	hepChunkDstIPv4     = 0x0004
	hepChunkSrcIPv6     = 0x0005
	hepChunkDstIPv6     = 0x0006
	hepChunkSrcPort     = 0x0007
	hepChunkDstPort     = 0x0008
	hepChunkTimeSec     = 0x0009
	hepChunkTimeUsec    = 0x000a
	hepChunkProtoType   = 0x000b
	hepChunkCaptureID   = 0x000c
	hepChunkPayload     = 0x000f
	hepChunkZPayload    = 0x0010
	hepChunkCorrelation = 0x0011
)

// hepChunkSize is the data size of each fixed-size generic chunk, by type;
// 0 for chunks of any size. A capture agent id may also be 2 bytes.
var hepChunkSize = [...]uint8{
	hepChunkFamily:    1,
	hepChunkIPProto:   1,
	hepChunkSrcIPv4:   4,
	hepChunkDstIPv4:   4,
	hepChunkSrcIPv6:   16,
	hepChunkDstIPv6:   16,
	hepChunkSrcPort:   2,
	hepChunkDstPort:   2,
	hepChunkTimeSec:   4,
	hepChunkTimeUsec:  4,
	hepChunkProtoType: 1,
	hepChunkCaptureID: 4,
}

const (
	hepFamilyIPv4 = 2  // AF_INET
	hepFamilyIPv6 = 10 // AF_INET6 as Linux numbers it; every HEP agent uses it
	hepV12Fixed   = 8  // version, length, family, protocol, two ports
	hepV2TimeLen  = 12 // tv_sec, tv_usec, captid and two bytes of struct padding
	hepV3Header   = 6  // magic and total length
	hepChunkHead  = 6  // vendor, type, length
)

// LooksLikeHEP reports whether b plausibly starts with a HEP packet: the
// "HEP3" magic (or its old name "EEP1"), or a v1/v2 header whose version,
// family and header length agree and fit in b. It is a cheap content check
// for traffic on unknown ports; ParseHEP has the final word.
func LooksLikeHEP(b []byte) bool {
	if len(b) >= hepV3Header && hepIsV3Magic(b) {
		return true
	}
	if len(b) < hepV12Fixed || (b[0] != 1 && b[0] != 2) {
		return false
	}
	alen := hepAddrLen(b[2])
	if alen == 0 || int(b[1]) != hepV12Fixed+2*alen {
		return false
	}
	need := int(b[1])
	if b[0] == 2 {
		need += hepV2TimeLen
	}
	return len(b) >= need
}

// ParseHEP parses the HEP packet at the start of b into h and returns the
// number of bytes it took.
//
// A HEP3 packet carries its total length, so n may be less than len(b) and
// several HEP3 packets sent back to back on one TCP connection can be walked
// by calling ParseHEP again on b[n:]. HEP v1 and v2 have no length field: the
// payload runs to the end of b, n is always len(b), and a TCP stream of v1/v2
// packets cannot be split back into packets (agents sent v1/v2 over UDP in
// practice; over TCP, the best one can do is one packet per segment).
//
// The v2 time header (seconds, microseconds, 16-bit capture id) is read
// little-endian: the agents that wrote v2 (captagent, Kamailio and OpenSIPS
// sipcapture, sofia-sip) copy a host-order C struct onto the wire, and their
// hosts are little-endian in practice (x86, ARM). Ports in the v1/v2 header
// are in network order.
//
// A compressed payload (chunk 0x0010; zlib, or gzip when it starts with the
// gzip magic) is inflated into *scratch, which is grown as needed and reused
// across calls; h.Payload then points into it. scratch may be nil, in which
// case a compressed payload gets fresh memory. An inflated payload larger
// than HEPMaxPayload is an error.
//
// Unknown chunk types and chunks from a vendor other than 0 are skipped. A
// HEP3 packet without a payload chunk is not an error: h.Payload is nil.
// Every error wraps ErrBadHEP; h is then only partly filled, and n is the
// length of the bad packet when its HEP3 total length could be trusted (so a
// stream walker can step over it), 0 otherwise.
func ParseHEP(b []byte, h *HEP, scratch *[]byte) (n int, err error) {
	*h = HEP{}
	switch {
	case len(b) >= 4 && hepIsV3Magic(b):
		return hepParseV3(b, h, scratch)
	case len(b) > 0 && (b[0] == 1 || b[0] == 2):
		return hepParseV12(b, h)
	case len(b) < 4 && (bytes.HasPrefix([]byte("HEP3"), b) || bytes.HasPrefix([]byte("EEP1"), b)):
		return 0, fmt.Errorf("%w: %w: %d bytes", ErrBadHEP, io.ErrUnexpectedEOF, len(b))
	}
	return 0, fmt.Errorf("%w: unknown version or magic %q", ErrBadHEP, b[:min(len(b), 4)])
}

func hepIsV3Magic(b []byte) bool {
	return string(b[:4]) == "HEP3" || string(b[:4]) == "EEP1"
}

// hepAddrLen returns the address size for a HEP address family, 0 if unknown.
func hepAddrLen(family byte) int {
	switch family {
	case hepFamilyIPv4:
		return 4
	case hepFamilyIPv6:
		return 16
	}
	return 0
}

// hepParseV12 parses a HEP v1 or v2 packet: a fixed header whose length byte
// counts the 8 fixed bytes and both addresses (16 for IPv4, 40 for IPv6),
// then for v2 a 12-byte time header, then the payload.
func hepParseV12(b []byte, h *HEP) (int, error) {
	if len(b) < hepV12Fixed {
		return 0, fmt.Errorf("%w: v%d header needs %d bytes, have %d", ErrBadHEP, b[0], hepV12Fixed, len(b))
	}
	alen := hepAddrLen(b[2])
	if alen == 0 {
		return 0, fmt.Errorf("%w: v%d address family %d", ErrBadHEP, b[0], b[2])
	}
	hl := hepV12Fixed + 2*alen
	if int(b[1]) != hl {
		return 0, fmt.Errorf("%w: v%d header length %d, want %d for family %d", ErrBadHEP, b[0], b[1], hl, b[2])
	}
	need := hl
	if b[0] == 2 {
		need += hepV2TimeLen
	}
	if len(b) < need {
		return 0, fmt.Errorf("%w: v%d header needs %d bytes, have %d", ErrBadHEP, b[0], need, len(b))
	}
	h.Version = int(b[0])
	h.IPProto = b[3]
	sport := binary.BigEndian.Uint16(b[4:])
	dport := binary.BigEndian.Uint16(b[6:])
	a := b[hepV12Fixed:]
	if alen == 4 {
		h.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[0:4])), sport)
		h.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[4:8])), dport)
	} else {
		h.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[0:16])), sport)
		h.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[16:32])), dport)
	}
	if h.Version == 2 {
		t := b[hl:]
		sec := binary.LittleEndian.Uint32(t[0:])
		usec := binary.LittleEndian.Uint32(t[4:])
		if sec != 0 || usec != 0 {
			h.Time = time.Unix(int64(sec), int64(usec)*1000).UTC()
		}
		h.CaptureID = uint32(binary.LittleEndian.Uint16(t[8:]))
	}
	h.Payload = b[need:len(b):len(b)]
	return len(b), nil
}

// hepParseV3 parses a HEP3 packet: "HEP3", a 16-bit total length that
// includes those 6 bytes, then chunks of vendor id, type and length (which
// includes the 6-byte chunk header), all big-endian.
func hepParseV3(b []byte, h *HEP, scratch *[]byte) (int, error) {
	if len(b) < hepV3Header {
		return 0, fmt.Errorf("%w: %w: HEP3 header needs %d bytes, have %d", ErrBadHEP, io.ErrUnexpectedEOF, hepV3Header, len(b))
	}
	total := int(binary.BigEndian.Uint16(b[4:]))
	if total < hepV3Header {
		return 0, fmt.Errorf("%w: HEP3 total length %d", ErrBadHEP, total)
	}
	if total > len(b) {
		return 0, fmt.Errorf("%w: %w: HEP3 total length %d, have %d bytes", ErrBadHEP, io.ErrUnexpectedEOF, total, len(b))
	}
	h.Version = 3

	var (
		family            uint8
		src4, dst4        []byte
		src6, dst6        []byte
		sport, dport      uint16
		sec, usec         uint32
		haveSec           bool
		payload, zpayload []byte
		havePay, haveZPay bool
	)
	p := b[hepV3Header:total]
	for len(p) > 0 {
		off := total - len(p)
		if len(p) < hepChunkHead {
			return total, fmt.Errorf("%w: HEP3 chunk header at offset %d cut short: %q", ErrBadHEP, off, p)
		}
		vendor := binary.BigEndian.Uint16(p[0:])
		typ := binary.BigEndian.Uint16(p[2:])
		clen := int(binary.BigEndian.Uint16(p[4:]))
		if clen < hepChunkHead || clen > len(p) {
			return total, fmt.Errorf("%w: HEP3 chunk type 0x%04x at offset %d has length %d, %d bytes left", ErrBadHEP, typ, off, clen, len(p))
		}
		d := p[hepChunkHead:clen:clen] // capped: appending to a view must not clobber the next chunk
		p = p[clen:]
		if vendor != 0 {
			continue
		}
		if int(typ) < len(hepChunkSize) {
			if want := int(hepChunkSize[typ]); want != 0 && len(d) != want &&
				!(typ == hepChunkCaptureID && len(d) == 2) { // old agents sent a 16-bit id
				return total, fmt.Errorf("%w: HEP3 chunk type 0x%04x has %d data bytes, want %d: %q",
					ErrBadHEP, typ, len(d), want, d[:min(len(d), 16)])
			}
		}
		switch typ {
		case hepChunkFamily:
			family = d[0]
		case hepChunkIPProto:
			h.IPProto = d[0]
		case hepChunkSrcIPv4:
			src4 = d
		case hepChunkDstIPv4:
			dst4 = d
		case hepChunkSrcIPv6:
			src6 = d
		case hepChunkDstIPv6:
			dst6 = d
		case hepChunkSrcPort:
			sport = binary.BigEndian.Uint16(d)
		case hepChunkDstPort:
			dport = binary.BigEndian.Uint16(d)
		case hepChunkTimeSec:
			sec, haveSec = binary.BigEndian.Uint32(d), true
		case hepChunkTimeUsec:
			usec = binary.BigEndian.Uint32(d)
		case hepChunkProtoType:
			h.ProtoType = d[0]
		case hepChunkCaptureID:
			if len(d) == 2 {
				h.CaptureID = uint32(binary.BigEndian.Uint16(d))
			} else {
				h.CaptureID = binary.BigEndian.Uint32(d)
			}
		case hepChunkPayload:
			payload, havePay = d, true
		case hepChunkZPayload:
			zpayload, haveZPay = d, true
		case hepChunkCorrelation:
			h.CorrelationID = d
		}
	}

	// The family chunk picks the address pair; without it, take what is there.
	switch {
	case src6 != nil && (family == hepFamilyIPv6 || src4 == nil):
		h.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(src6)), sport)
	case src4 != nil:
		h.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(src4)), sport)
	}
	switch {
	case dst6 != nil && (family == hepFamilyIPv6 || dst4 == nil):
		h.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(dst6)), dport)
	case dst4 != nil:
		h.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(dst4)), dport)
	}
	if haveSec && (sec != 0 || usec != 0) {
		h.Time = time.Unix(int64(sec), int64(usec)*1000).UTC()
	}

	switch {
	case havePay:
		h.Payload = payload
	case haveZPay:
		out, err := hepInflate(zpayload, scratch)
		if err != nil {
			return total, err
		}
		h.Payload, h.Compressed = out, true
	}
	return total, nil
}

// hepInflater holds decompressors between calls: a zlib or gzip reader
// costs tens of kilobytes to set up, and a HEP stream that compresses one
// payload compresses them all.
type hepInflater struct {
	src  bytes.Reader
	zlib io.ReadCloser // also a zlib.Resetter
	gzip *gzip.Reader
}

var hepInflaters = sync.Pool{New: func() any { return new(hepInflater) }}

// hepInflate decompresses a HEP3 compressed payload into *scratch. zlib is
// the norm (the public samples are zlib); a gzip stream is recognised by its
// magic bytes 1f 8b.
func hepInflate(z []byte, scratch *[]byte) ([]byte, error) {
	var buf []byte
	if scratch != nil {
		buf = (*scratch)[:0]
	}
	f := hepInflaters.Get().(*hepInflater)
	defer hepInflaters.Put(f)
	f.src.Reset(z)

	var r io.Reader
	var err error
	if len(z) >= 2 && z[0] == 0x1f && z[1] == 0x8b {
		if f.gzip == nil {
			f.gzip, err = gzip.NewReader(&f.src)
		} else {
			err = f.gzip.Reset(&f.src)
		}
		if err == nil {
			f.gzip.Multistream(false)
			r = f.gzip
		}
	} else {
		if f.zlib == nil {
			f.zlib, err = zlib.NewReader(&f.src)
		} else {
			err = f.zlib.(zlib.Resetter).Reset(&f.src, nil)
		}
		r = f.zlib
	}
	if err != nil {
		return nil, fmt.Errorf("%w: compressed payload: %v (starts %q)", ErrBadHEP, err, z[:min(len(z), 8)])
	}
	buf, err = hepReadCapped(r, buf)
	if scratch != nil {
		*scratch = buf
	}
	if err != nil {
		if scratch != nil {
			*scratch = buf[:0] // keep the grown buffer, not the garbage
		}
		return nil, fmt.Errorf("%w: compressed payload of %d bytes: %v", ErrBadHEP, len(z), err)
	}
	return buf, nil
}

// hepReadCapped appends all of r to buf, failing once it passes
// HEPMaxPayload.
func hepReadCapped(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			if len(buf) > HEPMaxPayload {
				return buf, errHEPTooBig
			}
			// Grow towards the cap plus one byte, so that reading one
			// byte past HEPMaxPayload proves the payload too big.
			buf = slices.Grow(buf, min(max(2*cap(buf), 4096), HEPMaxPayload+1)-len(buf))
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), HEPMaxPayload+1)])
		buf = buf[:len(buf)+n]
		if len(buf) > HEPMaxPayload {
			return buf, errHEPTooBig
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			// The caller formats it with %v, not %w: a short compressed
			// chunk is not a short HEP packet and must not look like
			// io.ErrUnexpectedEOF to a stream reader.
			return buf, err
		}
	}
}

var errHEPTooBig = fmt.Errorf("inflates beyond %d bytes", HEPMaxPayload)
