package media

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/sipflow/sipflow/decode"
)

// Fax is what a T.38 stream carries beyond its packet counts: how much of
// what was lost the redundancy made good, the fax signals (CED, CNG, the
// modems' trainings) and the T.30 control frames (DIS, DCS, CFR, MCF,
// DCN...) that say how far the fax got.
//
// A stream of T.38 fax (UDPTL, T.38 §9.1) is a Stream with Fax set: its
// Key.SSRC is 0 and its Codec "T.38"; Packets, First, Last, Expected, Lost
// and LostPct count its UDPTL sequence numbers as RFC 3550 §A.1 counts
// RTP's; there is no jitter, MOS or DTMF.
type Fax struct {
	// Version is the T.38 version the IFP packets are read with (the SDP's
	// a=T38FaxVersion).
	Version int

	// Redundancy (T.38 §9.1.4.1): a packet repeats the IFP packets before
	// it, so a receiver loses nothing unless a gap is longer than that.
	// Recovered counts sequence numbers whose own packet never came but
	// whose IFP packet a later one carried, Unrecovered those whose IFP
	// packet never came at all. With FEC, which is not rebuilt here,
	// neither is counted: Lost says what is missing.
	Recovered   int
	Unrecovered int
	FEC         bool
	// Unread counts sequence numbers whose IFP packet was not read in
	// order: never there, or there only after later ones (a late packet
	// fills a gap's count, not the frames). When it is not 0, a T.30
	// frame may be missing from Frames.
	Unread int

	BadIFP int // IFP packets that did not parse (counted once each, primary or redundancy)

	// Signals are the indicators and modulations in the order they
	// started (a repeated one counts once; "no signal" is not kept), at
	// most MaxFaxEvents.
	Signals []FaxSignal
	// Frames are the T.30 control frames (HDLC at V.21), at most
	// MaxFaxEvents.
	Frames []T30Frame
	// PageBytes counts the page data sent at a high-speed modulation:
	// non-ECM T.4 data, and HDLC data (ECM frames).
	PageBytes int
	Dropped   int // signals and frames beyond MaxFaxEvents

	next       uint16 // the sequence number after the last IFP packet read
	started    bool
	badSeq     int32     // a sequence number that would confirm a restart, -1 if none
	gapHist    [2]uint64 // bit i: sequence number next−1−i had no IFP packet
	recHist    [2]uint64 // bit i: next−1−i was recovered from redundancy
	hdlc       []byte    // the V.21 frame being assembled
	hdlcN      int
	hdlcAt     time.Time
	hdlcBroke  bool // an IFP packet was lost since the last frame's end or indicator
	ifp        decode.IFP
	lastSignal string
}

// FaxSignal is a fax signal or modulation seen starting in a T.38 stream.
type FaxSignal struct {
	N    int       // packet number
	At   time.Time // its arrival
	Name string    // "CNG", "CED", "V.21 preamble", "V.29 9600 training", "V.29 9600 data"...
}

// T30Frame is one T.30 control frame (T.30 §5.3) carried in a T.38 stream.
type T30Frame struct {
	N      int       // packet number of the frame's last part
	At     time.Time // its arrival
	FCF    byte      // facsimile control field, X bit included
	Name   string    // "DIS", "DCS", "MCF"... (decode.T30Name), "" for an unknown FCF
	Len    int       // frame bytes, address and control included, FCS excluded
	FCSBad bool      // the gateway reported the frame's check sequence bad
}

// MaxFaxEvents bounds Fax.Signals and Fax.Frames each.
const MaxFaxEvents = 512

// maxHDLC bounds an assembled frame (T.30 frames are a few dozen bytes;
// ECM's are 256 of data).
const maxHDLC = 2048

// AddUDPTL adds one UDPTL packet of the stream, number n, arrived at at;
// version is the T.38 version to read its IFP packets with. u is not kept.
func (s *Stream) AddUDPTL(n int, at time.Time, u *decode.UDPTL, version int) {
	if s.Fax == nil {
		// Frames are taken only from where one is known to begin: after
		// an indicator or a frame's end (a stream seen from the middle of
		// a frame would give its tail).
		s.Fax = &Fax{Version: version, hdlcBroke: true, badSeq: -1}
		s.Codec, s.fixed = "T.38", true
	}
	f := s.Fax
	f.Version = version
	s.PayloadBytes += int64(len(u.Primary))
	p := decode.RTP{Seq: u.Seq}
	if s.Packets == 0 {
		s.First, s.FirstN = at, n
		s.Last, s.LastN = at, n
		s.Packets = 1
		s.initSeq(u.Seq)
		s.wsStartSeq, s.wsStopSeq = u.Seq, u.Seq
	} else {
		s.updateSeq(&p, 0)
		s.Last, s.LastN = at, n
		s.Packets++
	}
	if len(s.Series) < MaxSeries || s.bucket != nil {
		s.sample(at)
	}
	f.add(n, at, u)
}

// add reads the packet's IFP packets in sequence order: those lost before
// it from its redundancy, then its own. A packet up to maxMisorder−1
// behind the last one read only fills a gap's count; one further off is
// a restart when the next packet follows it (as RFC 3550 §A.1 has it for
// RTP), else a stray, ignored.
func (f *Fax) add(n int, at time.Time, u *decode.UDPTL) {
	f.FEC = f.FEC || u.FEC
	if !f.started {
		f.started = true
		f.next = u.Seq
	}
	d := u.Seq - f.next
	switch {
	case d == 0:
	case d < maxDropout:
		// A gap: the IFP packets of next..Seq−1 from the redundancy, those
		// it holds; the rest are lost.
		for j := uint16(0); j < d; j++ {
			back := int(d - 1 - j) // Secondary[back] is Seq−1−back
			f.shift()
			switch {
			case u.FEC:
				f.Unread++
				f.hdlcBroke = true
			case back < min(u.Secondaries, decode.MaxSecondary):
				f.Recovered++
				f.recHist[0] |= 1
				f.read(n, at, u.Secondary[back])
			default:
				f.Unrecovered++
				f.Unread++
				f.gapHist[0] |= 1
				// It may have held the start of the next frame: no frame
				// is taken until an indicator or a frame's end shows
				// where frames begin again.
				f.hdlcBroke = true
			}
		}
	case int(d) >= 1<<16-maxMisorder:
		// Late (or a copy): its number was read from redundancy, or
		// counted lost; its IFP packet comes too late for the frames.
		back := uint(f.next - 1 - u.Seq)
		w, bit := back>>6, uint64(1)<<(back&63)
		switch {
		case f.gapHist[w]&bit != 0:
			f.gapHist[w] &^= bit
			f.Unrecovered--
		case f.recHist[w]&bit != 0:
			f.recHist[w] &^= bit
			f.Recovered--
		}
		return
	case int32(u.Seq) != f.badSeq:
		f.badSeq = int32(u.Seq + 1) // a stray, unless the next follows it
		return
	default: // a restart: start over from this packet
		f.gapHist, f.recHist = [2]uint64{}, [2]uint64{}
		f.hdlc, f.hdlcBroke = f.hdlc[:0], true
	}
	f.badSeq = -1
	f.next = u.Seq
	f.shift()
	f.read(n, at, u.Primary)
}

// shift moves the gap and recovery marks on by one sequence number.
func (f *Fax) shift() {
	f.next++
	f.gapHist[1] = f.gapHist[1]<<1 | f.gapHist[0]>>63
	f.gapHist[0] <<= 1
	f.recHist[1] = f.recHist[1]<<1 | f.recHist[0]>>63
	f.recHist[0] <<= 1
}

// read takes one IFP packet.
func (f *Fax) read(n int, at time.Time, b []byte) {
	p := &f.ifp
	if decode.ParseIFP(b, f.Version, p) != nil {
		f.BadIFP++
		return
	}
	if !p.Data {
		f.hdlc, f.hdlcBroke = f.hdlc[:0], false // a new signal: no frame goes on across it
		if p.Type != decode.T38IndNoSignal {
			f.signal(n, at, decode.T38IndicatorName(p.Type))
		}
		return
	}
	f.signal(n, at, decode.T38DataSignal(p.Type))
	for i := range min(p.NFields, decode.MaxIFPFields) {
		fd := &p.Fields[i]
		if p.Type != decode.T38DataV21 {
			if fd.Type == decode.T38FieldT4Data || fd.Type == decode.T38FieldT4SigEnd || fd.Type == decode.T38FieldHDLCData {
				f.PageBytes += len(fd.Data)
			}
			continue
		}
		if len(fd.Data) > 0 {
			if len(f.hdlc) == 0 {
				f.hdlcN, f.hdlcAt = n, at
			}
			if len(f.hdlc)+len(fd.Data) <= maxHDLC {
				f.hdlc = append(f.hdlc, fd.Data...)
			} else {
				f.hdlcBroke = true
			}
		}
		switch fd.Type {
		case decode.T38FieldHDLCFCSOK, decode.T38FieldHDLCFCSOKSigEnd:
			f.frame(n, at, false)
		case decode.T38FieldHDLCFCSBad, decode.T38FieldHDLCFCSBadEnd:
			f.frame(n, at, true)
		case decode.T38FieldHDLCSigEnd:
			f.hdlc, f.hdlcBroke = f.hdlc[:0], false // the signal ended inside a frame
		}
	}
}

// signal records a signal or modulation unless it is the last one again.
func (f *Fax) signal(n int, at time.Time, name string) {
	if name == f.lastSignal {
		return
	}
	f.lastSignal = name
	if len(f.Signals) >= MaxFaxEvents {
		f.Dropped++
		return
	}
	f.Signals = append(f.Signals, FaxSignal{N: n, At: at, Name: name})
}

// frame ends the V.21 frame being assembled. One that may lack a part
// (an IFP packet lost since the last frame's end or indicator), or too
// short to hold address, control and FCF, is dropped.
func (f *Fax) frame(n int, at time.Time, bad bool) {
	b, broke := f.hdlc, f.hdlcBroke
	f.hdlc, f.hdlcBroke = f.hdlc[:0], false
	// Address 0xFF, control 0x03 or 0x13 (the final frame), written as
	// T.38 sends them, first bit high (T.30 §5.3.1).
	if broke || len(b) < 3 || b[0] != 0xff || b[1]&^0x08 != 0xc0 {
		return
	}
	if len(f.Frames) >= MaxFaxEvents {
		f.Dropped++
		return
	}
	f.Frames = append(f.Frames, T30Frame{N: n, At: at, FCF: b[2], Name: decode.T30Name(b[2]), Len: len(b), FCSBad: bad})
}

// AddUDPTL adds the UDPTL datagram of packet n, sent from src to dst at
// at, read with T.38 version version, and returns its stream. The error
// wraps decode.ErrBadUDPTL for a datagram that is not UDPTL, or is
// ErrTooManyStreams.
func (t *Table) AddUDPTL(n int, at time.Time, src, dst netip.AddrPort, payload []byte, version int) (*Stream, error) {
	if t.udptl == nil {
		t.udptl = new(decode.UDPTL)
	}
	if err := decode.ParseUDPTL(payload, t.udptl); err != nil {
		return nil, err
	}
	return t.AddParsedUDPTL(n, at, src, dst, t.udptl, version)
}

// AddParsedUDPTL is AddUDPTL for a packet the caller has parsed already.
// u is not kept.
func (t *Table) AddParsedUDPTL(n int, at time.Time, src, dst netip.AddrPort, u *decode.UDPTL, version int) (*Stream, error) {
	var s *Stream
	for _, x := range t.faxes {
		if x.Key.Src == src && x.Key.Dst == dst {
			s = x
			break
		}
	}
	if s == nil {
		if len(t.order) >= t.limit {
			return nil, ErrTooManyStreams
		}
		s = NewStream(StreamKey{Src: src, Dst: dst})
		t.faxes = append(t.faxes, s)
		t.order = append(t.order, s)
	}
	s.AddUDPTL(n, at, u, version)
	return s, nil
}

// Label is the frame's name, or "FCF 0x.." for an FCF T.30 does not
// define.
func (fr *T30Frame) Label() string {
	if fr.Name == "" {
		return fmt.Sprintf("FCF %#02x", fr.FCF)
	}
	return fr.Name
}

// FrameLabels is the Label of every frame, in order.
func (f *Fax) FrameLabels() []string {
	out := make([]string, 0, len(f.Frames))
	for i := range f.Frames {
		out = append(out, f.Frames[i].Label())
	}
	return out
}

// UnrecoveredPct is the share of a T.38 stream's sequence numbers lost
// for good (Fax.Unrecovered over Expected, in percent); 0 for RTP.
func (s *Stream) UnrecoveredPct() float64 {
	if s.Fax == nil || s.Expected == 0 {
		return 0
	}
	return float64(s.Fax.Unrecovered) * 100 / float64(s.Expected)
}

// JoinRuns joins names with spaces, a run of one name written once with
// its count ("DCS FTT ×3 DCN"); past limit runs, " … (N more)" says how
// many names are left out.
func JoinRuns(names []string, limit int) string {
	var b strings.Builder
	shown := 0
	for i := 0; i < len(names); {
		j := i
		for j < len(names) && names[j] == names[i] {
			j++
		}
		if shown == limit {
			fmt.Fprintf(&b, " … (%d more)", len(names)-i)
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(names[i])
		if j-i > 1 {
			fmt.Fprintf(&b, " ×%d", j-i)
		}
		shown++
		i = j
	}
	return b.String()
}
