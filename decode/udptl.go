package decode

import (
	"errors"
	"fmt"
)

// T.38 fax over UDPTL (ITU-T T.38 §9.1, RFC 3362): each datagram carries a
// sequence number, one IFP packet (the fax signal or data of the moment),
// and for error recovery either the previous IFP packets again
// (redundancy) or FEC. Every field is ASN.1 in aligned PER (X.691).

// ErrBadUDPTL is wrapped by every error ParseUDPTL and ParseIFP return.
var ErrBadUDPTL = errors.New("bad UDPTL packet")

// MaxSecondary is how many redundant IFP packets a UDPTL keeps; a packet
// may carry more, counted in Secondaries.
const MaxSecondary = 16

// UDPTL is one UDPTL packet. Its slices point into the datagram given to
// ParseUDPTL.
type UDPTL struct {
	Seq     uint16
	Primary []byte // the IFP packet, for ParseIFP

	// Redundancy: Secondary[i] is the IFP packet of sequence number
	// Seq−1−i, the first min(Secondaries, MaxSecondary) of them.
	Secondaries int
	Secondary   [MaxSecondary][]byte

	// FEC is set when the packet recovers with forward error correction
	// (fec-info) instead; FECPackets is its fec-npackets. Its data is not
	// kept: rebuilding lost packets from it is the receiver's business.
	FEC        bool
	FECPackets int
}

// ParseUDPTL parses the UDPTL packet b into u; only its error allocates.
// Lengths must account for b exactly. Errors wrap ErrBadUDPTL and give the
// byte offset.
func ParseUDPTL(b []byte, u *UDPTL) error {
	if f := scanUDPTL(b, u); f.what != udptlOK {
		return f.err(len(b))
	}
	return nil
}

// LooksLikeUDPTL is ParseUDPTL without the error: whether b parses as
// UDPTL (into u), allocating nothing, as a test for the datagrams that
// are not RTP. Whether a port an SDP gave to T.38 receives it is for the
// caller to say.
func LooksLikeUDPTL(b []byte, u *UDPTL) bool { return scanUDPTL(b, u).what == udptlOK }

// udptlFault says where and why a UDPTL packet did not parse, for
// ParseUDPTL to write out: LooksLikeUDPTL, which sees every datagram
// that is not RTP, must not pay for the message.
type udptlFault struct {
	what uint8
	at   int      // the byte it concerns
	i    int      // which secondary or fec-data
	c    byte     // the error-recovery choice byte
	per  perFault // for faults in a length or an octet string
}

const (
	udptlOK = iota
	udptlShort
	udptlPrimary
	udptlEmpty
	udptlNoRecovery
	udptlChoice
	udptlSecCount
	udptlSecondary
	udptlFECPackets
	udptlFECCount
	udptlFECData
	udptlLeftOver
)

func (f udptlFault) err(size int) error {
	switch f.what {
	case udptlShort:
		return fmt.Errorf("%w: %d bytes, too short", ErrBadUDPTL, size)
	case udptlPrimary:
		return fmt.Errorf("%w: primary IFP packet: %s", ErrBadUDPTL, f.per)
	case udptlEmpty:
		return fmt.Errorf("%w: empty primary IFP packet at byte 2", ErrBadUDPTL)
	case udptlNoRecovery:
		return fmt.Errorf("%w: no error-recovery field at byte %d", ErrBadUDPTL, f.at)
	case udptlChoice:
		return fmt.Errorf("%w: error-recovery choice byte %#02x at byte %d", ErrBadUDPTL, f.c, f.at)
	case udptlSecCount:
		return fmt.Errorf("%w: secondary count: %s", ErrBadUDPTL, f.per)
	case udptlSecondary:
		return fmt.Errorf("%w: secondary IFP packet %d: %s", ErrBadUDPTL, f.i, f.per)
	case udptlFECPackets:
		return fmt.Errorf("%w: fec-npackets at byte %d", ErrBadUDPTL, f.at)
	case udptlFECCount:
		return fmt.Errorf("%w: fec-data count: %s", ErrBadUDPTL, f.per)
	case udptlFECData:
		return fmt.Errorf("%w: fec-data %d: %s", ErrBadUDPTL, f.i, f.per)
	}
	return fmt.Errorf("%w: %d bytes left over at byte %d", ErrBadUDPTL, size-f.at, f.at)
}

// scanUDPTL parses b into u and says what stopped it, if anything.
func scanUDPTL(b []byte, u *UDPTL) udptlFault {
	u.Seq, u.Primary, u.Secondaries, u.FEC, u.FECPackets = 0, nil, 0, false, 0
	if len(b) < 4 {
		return udptlFault{what: udptlShort}
	}
	u.Seq = uint16(b[0])<<8 | uint16(b[1])
	p := 2
	var pf perFault
	if u.Primary, p, pf = perOpen(b, p); pf.kind != perOK {
		return udptlFault{what: udptlPrimary, per: pf}
	}
	if len(u.Primary) == 0 {
		return udptlFault{what: udptlEmpty}
	}
	if p >= len(b) {
		return udptlFault{what: udptlNoRecovery, at: p}
	}
	choice := b[p]
	p++
	if choice&0x7f != 0 {
		return udptlFault{what: udptlChoice, c: choice, at: p - 1}
	}
	if choice == 0 { // secondary-ifp-packets
		var n int
		if n, p, pf = perLength(b, p); pf.kind != perOK {
			return udptlFault{what: udptlSecCount, per: pf}
		}
		for i := range n {
			var ifp []byte
			if ifp, p, pf = perOpen(b, p); pf.kind != perOK {
				return udptlFault{what: udptlSecondary, i: i, per: pf}
			}
			if i < MaxSecondary {
				u.Secondary[i] = ifp
			}
		}
		u.Secondaries = n
	} else { // fec-info: fec-npackets (an unconstrained INTEGER), fec-data
		var v []byte
		start := p
		if v, p, pf = perOpen(b, p); pf.kind != perOK || len(v) == 0 || len(v) > 4 {
			return udptlFault{what: udptlFECPackets, at: start}
		}
		for _, c := range v {
			u.FECPackets = u.FECPackets<<8 | int(c)
		}
		var n int
		if n, p, pf = perLength(b, p); pf.kind != perOK {
			return udptlFault{what: udptlFECCount, per: pf}
		}
		for i := range n {
			if _, p, pf = perOpen(b, p); pf.kind != perOK {
				return udptlFault{what: udptlFECData, i: i, per: pf}
			}
		}
		u.FEC = true
	}
	if p != len(b) {
		return udptlFault{what: udptlLeftOver, at: p}
	}
	return udptlFault{}
}

// perFault says why a PER length or octet string could not be read; the
// zero value, that it could.
type perFault struct {
	kind    uint8
	at      int
	c       byte // a fragmented length's first byte
	n, left int  // an octet string's length, and what the packet had left
}

const (
	perOK = iota
	perEnd
	perFragmented
	perShort
)

func (f perFault) String() string {
	switch f.kind {
	case perEnd:
		return fmt.Sprintf("length at byte %d: end of packet", f.at)
	case perFragmented:
		return fmt.Sprintf("fragmented length %#02x at byte %d", f.c, f.at)
	}
	return fmt.Sprintf("%d bytes at byte %d, only %d left", f.n, f.at, f.left)
}

// perLength reads an aligned-PER length determinant (X.691 §10.9) at b[p]:
// one byte below 128, two below 16384. Fragmented lengths (16K and over)
// never occur in UDPTL and are refused.
func perLength(b []byte, p int) (n, next int, f perFault) {
	if p >= len(b) {
		return 0, p, perFault{kind: perEnd, at: p}
	}
	c := b[p]
	switch {
	case c < 0x80:
		return int(c), p + 1, f
	case c < 0xc0:
		if p+1 >= len(b) {
			return 0, p, perFault{kind: perEnd, at: p}
		}
		return int(c&0x3f)<<8 | int(b[p+1]), p + 2, f
	}
	return 0, p, perFault{kind: perFragmented, c: c, at: p}
}

// perOpen reads a length-prefixed octet string (an open type, or an
// unconstrained OCTET STRING) at b[p].
func perOpen(b []byte, p int) (v []byte, next int, f perFault) {
	n, q, f := perLength(b, p)
	if f.kind != perOK {
		return nil, p, f
	}
	if n > len(b)-q {
		return nil, p, perFault{kind: perShort, n: n, at: q, left: len(b) - q}
	}
	return b[q : q+n], q + n, f
}

// IFP is one T.38 Internet Facsimile Protocol packet (T.38 §7): a signal
// indicator (CED, CNG, a modem's preamble or training), or data of a
// modulation: T.30 control frames (HDLC) at V.21's 300 bit/s, page data
// (non-ECM T.4, or ECM in HDLC frames) at a high-speed modulation.
type IFP struct {
	Data bool  // t30-data; else a t30-indicator
	Type uint8 // the indicator (T38Ind*) or the data's modulation (T38Data*)

	// Fields are the data fields, the first MaxIFPFields of NFields.
	NFields int
	Fields  [MaxIFPFields]IFPField
}

// MaxIFPFields is how many data fields an IFP keeps (one or two in
// practice).
const MaxIFPFields = 8

// IFPField is one data field of an IFP packet. Data points into the packet
// given to ParseIFP; it is empty when the field carries none (an
// hdlc-fcs-OK alone).
type IFPField struct {
	Type uint8 // T38Field*
	Data []byte
}

// T.38 t30-indicator values; extension values (T.38 2002 and later)
// follow the 16 of the root.
const (
	T38IndNoSignal  = 0
	T38IndCNG       = 1
	T38IndCED       = 2
	T38IndV21       = 3 // V.21 preamble: HDLC control frames follow
	T38IndV8ANSam   = 16
	T38IndV8Signal  = 17
	t38IndExtension = 16
)

var t38Indicators = [...]string{
	"no signal", "CNG", "CED", "V.21 preamble",
	"V.27ter 2400 training", "V.27ter 4800 training", "V.29 7200 training", "V.29 9600 training",
	"V.17 7200 short training", "V.17 7200 long training", "V.17 9600 short training", "V.17 9600 long training",
	"V.17 12000 short training", "V.17 12000 long training", "V.17 14400 short training", "V.17 14400 long training",
	"V.8 ANSam", "V.8 signal", "V.34 control channel 1200", "V.34 primary channel",
	"V.34 control channel retrain", "V.33 12000 training", "V.33 14400 training",
}

// T.38 t30-data values (the modulation data is sent with).
const (
	T38DataV21 = 0 // T.30 control frames
)

var t38Data = [...]string{
	"V.21", "V.27ter 2400", "V.27ter 4800", "V.29 7200", "V.29 9600",
	"V.17 7200", "V.17 9600", "V.17 12000", "V.17 14400",
	// extension values, from 16
	16: "V.8", "V.34 primary rate", "V.34 control channel 1200", "V.34 primary channel",
	"V.33 12000", "V.33 14400",
}

// T.38 data field types.
const (
	T38FieldHDLCData        = 0 // part of an HDLC frame
	T38FieldHDLCSigEnd      = 1 // the signal ended (no frame end)
	T38FieldHDLCFCSOK       = 2 // the frame ended, its FCS good
	T38FieldHDLCFCSBad      = 3 // the frame ended, its FCS bad
	T38FieldHDLCFCSOKSigEnd = 4
	T38FieldHDLCFCSBadEnd   = 5
	T38FieldT4Data          = 6 // non-ECM page data
	T38FieldT4SigEnd        = 7
	T38FieldCM              = 8 // extension values (V.34)
)

// T38IndicatorName names a t30-indicator value.
func T38IndicatorName(v uint8) string {
	if int(v) < len(t38Indicators) {
		return t38Indicators[v]
	}
	return fmt.Sprintf("indicator %d", v)
}

// T38DataName names a t30-data value (a modulation).
func T38DataName(v uint8) string {
	if int(v) < len(t38Data) && t38Data[v] != "" {
		return t38Data[v]
	}
	return fmt.Sprintf("data %d", v)
}

// t38DataSignals are t38Data's names with " data", made once: a stream
// names the data it carries for every packet.
var t38DataSignals = func() (out [len(t38Data)]string) {
	for i, n := range t38Data {
		if n != "" {
			out[i] = n + " data"
		}
	}
	return out
}()

// T38DataSignal is T38DataName with " data" ("V.29 9600 data"), which
// tells the data from the indicator of its training.
func T38DataSignal(v uint8) string {
	if int(v) < len(t38DataSignals) && t38DataSignals[v] != "" {
		return t38DataSignals[v]
	}
	return T38DataName(v) + " data"
}

// ParseIFP parses the IFP packet b (a UDPTL's Primary or Secondary) into
// f; it allocates nothing. version is the T.38 version the SDP agreed
// (a=T38FaxVersion): version 0 encodes a data field's type in three bits,
// later versions add an extension bit before them (T.38's corrigendum
// made the type extensible). Errors wrap ErrBadUDPTL.
func ParseIFP(b []byte, version int, f *IFP) error {
	f.Data, f.Type, f.NFields = false, 0, 0
	if len(b) == 0 {
		return fmt.Errorf("%w: empty IFP packet", ErrBadUDPTL)
	}
	hasData := b[0]&0x80 != 0
	f.Data = b[0]&0x40 != 0
	p := 1
	if b[0]&0x20 != 0 { // an extension value: a 6-bit number across two bytes
		if len(b) < 2 {
			return fmt.Errorf("%w: IFP extension type: end of packet", ErrBadUDPTL)
		}
		f.Type = t38IndExtension + ((b[0]<<2)&0x3c | b[1]>>6)
		p = 2
	} else {
		f.Type = b[0] >> 1 & 0x0f
	}
	if !hasData {
		if p != len(b) {
			return fmt.Errorf("%w: IFP packet: %d bytes left over at byte %d", ErrBadUDPTL, len(b)-p, p)
		}
		return nil
	}
	n, p, pf := perLength(b, p)
	if pf.kind != perOK {
		return fmt.Errorf("%w: IFP field count: %s", ErrBadUDPTL, pf)
	}
	for i := range n {
		if p >= len(b) {
			return fmt.Errorf("%w: IFP field %d at byte %d: end of packet", ErrBadUDPTL, i, p)
		}
		c := b[p]
		present := c&0x80 != 0
		var typ uint8
		switch {
		case version == 0:
			typ = c >> 4 & 7
			p++
		case c&0x40 != 0: // extension type (cm-message, ...)
			// After the extension bit, a normally small number (X.691
			// §10.6): a bit (0: below 64), then six bits, the last in the
			// next byte's first.
			if p+1 >= len(b) {
				return fmt.Errorf("%w: IFP field %d extension type at byte %d: end of packet", ErrBadUDPTL, i, p)
			}
			typ = T38FieldCM + ((c&0x1f)<<1 | b[p+1]>>7)
			p += 2
		default:
			typ = c >> 3 & 7
			p++
		}
		var data []byte
		if present {
			if p+2 > len(b) {
				return fmt.Errorf("%w: IFP field %d length at byte %d: end of packet", ErrBadUDPTL, i, p)
			}
			l := (int(b[p])<<8 | int(b[p+1])) + 1
			p += 2
			if l > len(b)-p {
				return fmt.Errorf("%w: IFP field %d: %d bytes at byte %d, only %d left", ErrBadUDPTL, i, l, p, len(b)-p)
			}
			data = b[p : p+l]
			p += l
		}
		if i < MaxIFPFields {
			f.Fields[i] = IFPField{Type: typ, Data: data}
		}
	}
	f.NFields = n
	if p != len(b) {
		return fmt.Errorf("%w: IFP packet: %d bytes left over at byte %d", ErrBadUDPTL, len(b)-p, p)
	}
	return nil
}

// T30Name names a T.30 facsimile control field (FCF) as T.38 carries it:
// the octet's high bit is T.30's X bit (set by the terminal that received
// a valid DIS; it tells a command to receive, DTC, from DIS). "" for a
// value T.30 does not define.
func T30Name(fcf byte) string {
	x := fcf&0x80 != 0
	switch fcf & 0x7f {
	case 0x01:
		if x {
			return "DTC"
		}
		return "DIS"
	case 0x02:
		if x {
			return "CIG"
		}
		return "CSI"
	case 0x04:
		if x {
			return "NSC"
		}
		return "NSF"
	}
	return t30Names[fcf&0x7f]
}

var t30Names = [128]string{
	0x41: "DCS", 0x42: "TSI", 0x44: "NSS", 0x43: "SUB", 0x45: "PWD", 0x48: "CTC",
	0x21: "CFR", 0x22: "FTT", 0x23: "CTR",
	0x71: "EOM", 0x72: "MPS", 0x74: "EOP", 0x79: "PRI-EOM", 0x7a: "PRI-MPS", 0x7c: "PRI-EOP",
	0x7d: "PPS", 0x76: "RR", 0x73: "EOR", 0x70: "EOS",
	0x31: "MCF", 0x32: "RTN", 0x33: "RTP", 0x34: "PIN", 0x35: "PIP", 0x3d: "PPR", 0x37: "RNR", 0x38: "ERR",
	0x5f: "DCN", 0x58: "CRP", 0x60: "FCD", 0x61: "RCP",
}
