package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrBadRTP is wrapped by every error ParseRTP and ParseTelephoneEvent return.
var ErrBadRTP = errors.New("bad RTP packet")

// ErrRTPPadding is wrapped by ParseRTP's error for a padding count longer
// than what follows the header (RFC 3550 §A.1's validity check fails).
// The header is whole: p then has every field but the padding, the
// Payload running to the packet's end, as tshark takes such a packet.
var ErrRTPPadding = fmt.Errorf("%w: padding count past the payload", ErrBadRTP)

// ErrBadRTCP is wrapped by every error ParseRTCP returns.
var ErrBadRTCP = errors.New("bad RTCP packet")

const (
	rtpHeaderLen  = 12
	rtcpHeaderLen = 4
	rtcpReportLen = 24
	rtcpSenderLen = 20 // NTP time, RTP time, packet and octet counts
)

// RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1, RFC 3611 §2).
const (
	RTCPTypeSR    = 200 // sender report
	RTCPTypeRR    = 201 // receiver report
	RTCPTypeSDES  = 202 // source description
	RTCPTypeBYE   = 203 // goodbye
	RTCPTypeAPP   = 204 // application-defined
	RTCPTypeRTPFB = 205 // transport-layer feedback (RFC 4585)
	RTCPTypePSFB  = 206 // payload-specific feedback (RFC 4585)
	RTCPTypeXR    = 207 // extended report (RFC 3611)
)

// RTP is the fixed header of one RTP packet and the views around it
// (RFC 3550 §5.1).
//
// Payload, ExtensionData and CSRC point into the packet given to ParseRTP and
// are valid only as long as it is.
type RTP struct {
	Version     uint8 // always 2 after a successful parse
	Padding     bool  // P bit; the padding is already cut from Payload
	Extension   bool  // X bit; ExtensionProfile and ExtensionData are set
	Marker      bool  // M bit; for audio, the first packet of a talkspurt
	CSRCCount   int   // CC, 0 to 15
	PayloadType uint8 // 7 bits; dynamic types (96-127) mean what the SDP says
	Seq         uint16
	Timestamp   uint32
	SSRC        uint32

	CSRC             []byte // CSRCCount 32-bit identifiers, raw big-endian; see CSRCAt
	ExtensionProfile uint16 // "defined by profile" word of the header extension (RFC 3550 §5.3.1)
	ExtensionData    []byte // header extension body, without its 4-byte header
	PaddingLen       int    // bytes of padding removed, including the count byte
	Payload          []byte // after CSRCs and extension, padding removed
}

// CSRCAt returns the i'th contributing source identifier, 0 <= i < CSRCCount.
func (p *RTP) CSRCAt(i int) uint32 { return binary.BigEndian.Uint32(p.CSRC[4*i:]) }

// ParseRTP parses the RTP packet b into p and allocates nothing.
//
// It checks the structure only: version 2, room for the fixed header, the
// CSRC list, the header extension and the padding. Whether b is RTP at all
// (rather than STUN, DTLS or RTCP sharing the port, RFC 7983) is for the
// caller to decide, e.g. from the SDP; RTCP on the RTP port (RFC 5761) looks
// like RTP with payload type 72-79 and the marker bit set, which LooksLikeRTCP
// recognises. Errors wrap ErrBadRTP; p is then only partly filled.
func ParseRTP(b []byte, p *RTP) error {
	*p = RTP{}
	if len(b) < rtpHeaderLen {
		return fmt.Errorf("%w: %d bytes, the fixed header needs %d", ErrBadRTP, len(b), rtpHeaderLen)
	}
	if v := b[0] >> 6; v != 2 {
		return fmt.Errorf("%w: version %d: %q", ErrBadRTP, v, b[:2])
	}
	p.Version = 2
	p.Padding = b[0]&0x20 != 0
	p.Extension = b[0]&0x10 != 0
	p.CSRCCount = int(b[0] & 0x0f)
	p.Marker = b[1]&0x80 != 0
	p.PayloadType = b[1] & 0x7f
	p.Seq = binary.BigEndian.Uint16(b[2:])
	p.Timestamp = binary.BigEndian.Uint32(b[4:])
	p.SSRC = binary.BigEndian.Uint32(b[8:])

	off := rtpHeaderLen + 4*p.CSRCCount
	if off > len(b) {
		return fmt.Errorf("%w: %d CSRCs overrun a %d-byte packet", ErrBadRTP, p.CSRCCount, len(b))
	}
	p.CSRC = b[rtpHeaderLen:off]
	if p.Extension {
		if off+4 > len(b) {
			return fmt.Errorf("%w: header extension at offset %d overruns a %d-byte packet", ErrBadRTP, off, len(b))
		}
		p.ExtensionProfile = binary.BigEndian.Uint16(b[off:])
		words := int(binary.BigEndian.Uint16(b[off+2:]))
		end := off + 4 + 4*words
		if end > len(b) {
			return fmt.Errorf("%w: header extension of %d words at offset %d overruns a %d-byte packet", ErrBadRTP, words, off, len(b))
		}
		p.ExtensionData = b[off+4 : end]
		off = end
	}
	end := len(b)
	if p.Padding {
		// RFC 3550 §5.1: the last octet counts the padding, itself included.
		n := int(b[len(b)-1])
		if n == 0 || n > end-off {
			p.Payload = b[off:end:end]
			return fmt.Errorf("%w: %d with %d bytes after the header", ErrRTPPadding, n, end-off)
		}
		p.PaddingLen = n
		end -= n
	}
	p.Payload = b[off:end:end]
	return nil
}

// LooksLikeRTCP reports whether b plausibly starts with an RTCP packet:
// version 2, a packet type from 200 (SR) to 207 (XR), and a length field that
// fits in b. RFC 5761 §4 keeps RTP payload types 72-79 unused so that this
// test separates RTCP from RTP multiplexed on one port.
func LooksLikeRTCP(b []byte) bool {
	if len(b) < rtcpHeaderLen || b[0]>>6 != 2 || b[1] < RTCPTypeSR || b[1] > RTCPTypeXR {
		return false
	}
	return rtcpLen(b) <= len(b)
}

// rtcpLen returns the size in bytes of the RTCP packet whose header starts b.
func rtcpLen(b []byte) int { return (int(binary.BigEndian.Uint16(b[2:])) + 1) * 4 }

// RTCP is a compound RTCP packet (RFC 3550 §6.1): one or more RTCP packets
// stacked in one datagram.
type RTCP struct {
	// Packets in the order they appear. ParseRTCP reuses the slice and each
	// packet's Reports: copy what you keep past the next call.
	Packets []RTCPPacket
}

// RTCPPacket is one RTCP packet of a compound packet. Which fields are set
// depends on Type; the rest are zero.
type RTCPPacket struct {
	Type    uint8 // RTCPTypeSR, RTCPTypeRR, ...
	Count   uint8 // the 5-bit field: report count (SR, RR), source count (SDES, BYE), subtype (APP), FMT (feedback)
	Padding bool
	Length  int // bytes, header and padding included

	// SSRC of the sender (SR, RR, APP, feedback, XR), of the first chunk
	// (SDES) or the first source leaving (BYE).
	SSRC      uint32
	MediaSSRC uint32 // feedback (205, 206): the media source the feedback is about

	// Sender info, SR only (RFC 3550 §6.4.1).
	NTP         uint64 // 32.32 fixed point seconds since 1900
	RTPTime     uint32
	PacketCount uint32
	OctetCount  uint32

	Reports []RTCPReport // report blocks, SR and RR only

	CNAME []byte // SDES: the CNAME item of the first chunk, nil if none
	Body  []byte // everything after the 4-byte header, padding removed: for types parsed no further
}

// RTCPReport is one reception report block (RFC 3550 §6.4.1).
type RTCPReport struct {
	SSRC           uint32 // the source this block reports on
	FractionLost   uint8  // fraction of packets lost since the last report, in 1/256
	CumulativeLost int32  // 24-bit signed: duplicates can make it negative
	HighestSeq     uint32 // extended highest sequence number received: cycles<<16 | seq
	Jitter         uint32 // interarrival jitter in timestamp units
	LSR            uint32 // middle 32 bits of the NTP time of the last SR received, 0 if none
	DLSR           uint32 // delay since that SR, in 1/65536 s
}

// ParseRTCP parses the compound RTCP packet b into c and allocates nothing
// once c.Packets and their Reports have grown to fit.
//
// It walks every packet by its length field. At a packet that is malformed
// (wrong version, length past the end, report blocks or items that overrun
// the packet, bad padding) it stops and returns an error wrapping ErrBadRTCP;
// c.Packets then holds the packets before it, so a reduced or damaged
// compound still yields its sender report. It does not insist that a
// compound starts with SR or RR: reduced-size RTCP (RFC 5506) need not.
func ParseRTCP(b []byte, c *RTCP) error {
	c.Packets = c.Packets[:0]
	if len(b) == 0 {
		return fmt.Errorf("%w: empty", ErrBadRTCP)
	}
	for off := 0; off < len(b); {
		rest := b[off:]
		if len(rest) < rtcpHeaderLen {
			return fmt.Errorf("%w: %d trailing bytes at offset %d: %q", ErrBadRTCP, len(rest), off, rest)
		}
		if v := rest[0] >> 6; v != 2 {
			return fmt.Errorf("%w: version %d at offset %d: %q", ErrBadRTCP, v, off, rest[:2])
		}
		n := rtcpLen(rest)
		if n > len(rest) {
			return fmt.Errorf("%w: type %d at offset %d has length %d, %d bytes left", ErrBadRTCP, rest[1], off, n, len(rest))
		}
		p := c.rtcpNext()
		if err := rtcpParseOne(rest[:n], p); err != nil {
			c.Packets = c.Packets[:len(c.Packets)-1]
			return fmt.Errorf("%w at offset %d", err, off)
		}
		off += n
	}
	return nil
}

// rtcpNext appends a zeroed packet to c.Packets, keeping the Reports backing
// array of whatever packet used that slot before.
func (c *RTCP) rtcpNext() *RTCPPacket {
	if n := len(c.Packets); n < cap(c.Packets) {
		c.Packets = c.Packets[:n+1]
		p := &c.Packets[n]
		*p = RTCPPacket{Reports: p.Reports[:0]}
		return p
	}
	c.Packets = append(c.Packets, RTCPPacket{})
	return &c.Packets[len(c.Packets)-1]
}

// rtcpParseOne parses one RTCP packet; b is exactly its length.
func rtcpParseOne(b []byte, p *RTCPPacket) error {
	p.Type = b[1]
	p.Count = b[0] & 0x1f
	p.Padding = b[0]&0x20 != 0
	p.Length = len(b)
	body := b[rtcpHeaderLen:]
	if p.Padding {
		n := int(b[len(b)-1])
		if n == 0 || n > len(body) {
			return fmt.Errorf("%w: type %d padding count %d with a %d-byte body", ErrBadRTCP, p.Type, n, len(body))
		}
		body = body[:len(body)-n]
	}
	p.Body = body
	need := 0
	switch p.Type {
	case RTCPTypeSR:
		need = 4 + rtcpSenderLen + rtcpReportLen*int(p.Count)
	case RTCPTypeRR:
		need = 4 + rtcpReportLen*int(p.Count)
	case RTCPTypeSDES, RTCPTypeBYE:
		need = 4 * int(p.Count)
	case RTCPTypeAPP, RTCPTypeRTPFB, RTCPTypePSFB:
		need = 8
	case RTCPTypeXR:
		need = 4
	}
	if len(body) < need {
		return fmt.Errorf("%w: type %d with count %d needs %d bytes of body, has %d", ErrBadRTCP, p.Type, p.Count, need, len(body))
	}

	switch p.Type {
	case RTCPTypeSR:
		p.SSRC = binary.BigEndian.Uint32(body)
		p.NTP = binary.BigEndian.Uint64(body[4:])
		p.RTPTime = binary.BigEndian.Uint32(body[12:])
		p.PacketCount = binary.BigEndian.Uint32(body[16:])
		p.OctetCount = binary.BigEndian.Uint32(body[20:])
		p.Reports = rtcpReports(p.Reports, body[4+rtcpSenderLen:], int(p.Count))
	case RTCPTypeRR:
		p.SSRC = binary.BigEndian.Uint32(body)
		p.Reports = rtcpReports(p.Reports, body[4:], int(p.Count))
	case RTCPTypeSDES:
		if p.Count > 0 {
			p.SSRC = binary.BigEndian.Uint32(body)
			cname, err := rtcpCNAME(body[4:])
			if err != nil {
				return err
			}
			p.CNAME = cname
		}
	case RTCPTypeBYE:
		if p.Count > 0 {
			p.SSRC = binary.BigEndian.Uint32(body)
		}
	case RTCPTypeAPP, RTCPTypeXR:
		p.SSRC = binary.BigEndian.Uint32(body)
	case RTCPTypeRTPFB, RTCPTypePSFB:
		p.SSRC = binary.BigEndian.Uint32(body)
		p.MediaSSRC = binary.BigEndian.Uint32(body[4:])
	}
	return nil
}

// rtcpReports appends n report blocks read from b, which holds at least n.
func rtcpReports(dst []RTCPReport, b []byte, n int) []RTCPReport {
	for i := range n {
		r := b[i*rtcpReportLen:]
		lost := int32(uint32(r[5])<<16 | uint32(r[6])<<8 | uint32(r[7]))
		if lost&0x800000 != 0 {
			lost -= 1 << 24
		}
		dst = append(dst, RTCPReport{
			SSRC:           binary.BigEndian.Uint32(r),
			FractionLost:   r[4],
			CumulativeLost: lost,
			HighestSeq:     binary.BigEndian.Uint32(r[8:]),
			Jitter:         binary.BigEndian.Uint32(r[12:]),
			LSR:            binary.BigEndian.Uint32(r[16:]),
			DLSR:           binary.BigEndian.Uint32(r[20:]),
		})
	}
	return dst
}

// rtcpCNAME walks the SDES items of one chunk (RFC 3550 §6.5) up to the
// null item that ends it, or the end of b, and returns the CNAME.
func rtcpCNAME(b []byte) ([]byte, error) {
	var cname []byte
	for len(b) > 0 && b[0] != 0 {
		if len(b) < 2 || 2+int(b[1]) > len(b) {
			return nil, fmt.Errorf("%w: SDES item type %d overruns the chunk: %q", ErrBadRTCP, b[0], b[:min(len(b), 16)])
		}
		n := int(b[1])
		if b[0] == 1 && cname == nil {
			cname = b[2 : 2+n]
		}
		b = b[2+n:]
	}
	return cname, nil
}

// TelephoneEvent is an RFC 4733 §2.3 named telephone event: a DTMF digit,
// flash or tone, carried as RTP payload (usually "telephone-event/8000").
// One key press is sent as many packets with the same RTP timestamp and a
// growing Duration; the last three repeat with End set.
type TelephoneEvent struct {
	Event    uint8  // 0-9 digits, 10 '*', 11 '#', 12-15 A-D, 16 flash (RFC 4733 §3.2)
	End      bool   // E bit: the event has ended
	Volume   uint8  // power level in -dBm0, 0 to 63
	Duration uint16 // in RTP timestamp units, since the event's timestamp
}

// ParseTelephoneEvent parses the first event of an RFC 4733 payload (the
// RTP Payload, not the whole packet). Errors wrap ErrBadRTP.
func ParseTelephoneEvent(b []byte, e *TelephoneEvent) error {
	if len(b) < 4 {
		*e = TelephoneEvent{}
		return fmt.Errorf("%w: telephone-event payload of %d bytes, want 4: %q", ErrBadRTP, len(b), b)
	}
	*e = TelephoneEvent{
		Event:    b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:]),
	}
	return nil
}

// Digit returns the DTMF character for e: '0'-'9', '*', '#', 'A'-'D', 'F'
// for flash (event 16), '?' for any other event.
func (e TelephoneEvent) Digit() byte {
	switch {
	case e.Event <= 9:
		return '0' + e.Event
	case e.Event == 10:
		return '*'
	case e.Event == 11:
		return '#'
	case e.Event <= 15:
		return 'A' + e.Event - 12
	case e.Event == 16:
		return 'F'
	}
	return '?'
}
