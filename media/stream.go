package media

import (
	"math"
	"net/netip"
	"time"

	"github.com/sipflow/sipflow/decode"
)

// StreamKey identifies an RTP stream: the UDP 5-tuple it travels on and its
// synchronisation source. A new SSRC on the same 5-tuple (a restarted
// sender, a transfer, a B2BUA switching legs) is a new stream, as RFC 3550
// §8 defines a source by its SSRC.
type StreamKey struct {
	Src, Dst netip.AddrPort
	SSRC     uint32
}

// DTMF is one RFC 4733 telephone event: a key press seen on a stream. The
// sender repeats it in many packets with the same RTP timestamp and a
// growing duration, and its last packet three times with the end bit; all
// of those make one DTMF.
type DTMF struct {
	Digit    byte          // '0'-'9', '*', '#', 'A'-'D', 'F' (flash), '?' (other event)
	Event    uint8         // the event code (RFC 4733 §3.2), for events that are not digits
	Start    time.Time     // arrival of the first packet of the event
	Duration time.Duration // the largest duration the packets carried, in the event's clock
	N        int           // packet number of the first packet of the event
	End      bool          // a packet with the end bit was seen
	ts       uint32        // the RTP timestamp that keys the event
}

// SenderReport is what the last RTCP sender report from a stream's own
// source said (RFC 3550 §6.4.1).
type SenderReport struct {
	N           int       // packet number of the RTCP packet
	At          time.Time // its arrival
	NTP         uint64    // 32.32 fixed point seconds since 1900, the sender's wall clock
	RTPTime     uint32    // the RTP timestamp of that same instant
	PacketCount uint32    // packets sent so far
	OctetCount  uint32    // payload octets sent so far
}

// Sequence tracking limits of RFC 3550 §A.1.
const (
	maxDropout  = 3000 // a forward jump up to this is loss, beyond it a possible restart
	maxMisorder = 100  // a packet up to this far behind the highest is late, not a restart
)

// MaxEvents bounds the telephone events kept per stream; further ones are
// only counted in EventsDropped, so a hostile stream cannot grow memory.
const MaxEvents = 4096

// maxEventPayload is the largest telephone-event payload taken as events.
const maxEventPayload = 64

// Stream is the measurement of one RTP stream. Its exported fields are
// filled as packets arrive, except the ones Finish computes (marked below),
// which are zero or stale until Finish is called.
//
// Two sets of loss numbers exist because the usual tools disagree. Expected,
// Lost and LostPct follow RFC 3550 §A.1 and §A.3: a sequence number is
// counted once however often it arrives, and a restart of the sequence
// (SeqResets) starts a new count instead of adding the gap. LostRaw is what
// Wireshark's "RTP Streams" shows as Lost: (last sequence number seen +
// wraps) − first + 1 − packets, negative when packets are duplicated. The
// jitter and MaxDelta figures also follow Wireshark 4.0 exactly, quirks
// included (see AddRTP), so that they can be compared with tshark.
type Stream struct {
	Key StreamKey

	// PayloadType is the stream's main payload type: that of the first
	// packet that is neither comfort noise nor a telephone event. Codec and
	// ClockRate, below, name it.
	PayloadType uint8

	First, Last   time.Time // arrival of the first and the last packet
	FirstN, LastN int       // their packet numbers
	Packets       int       // every packet, duplicates included
	PayloadBytes  int64     // RTP payload bytes, padding excluded
	Markers       int       // packets with the marker bit

	// MaxDelta is the largest gap between a packet's arrival and the
	// previous one's, ending at packet MaxDeltaN. As in Wireshark, a gap
	// that ends at a marker packet (the start of a talkspurt), at comfort
	// noise or right after it, or at a packet whose timestamp is behind the
	// stream's first, is not counted: silence suppression is not a network
	// problem.
	MaxDelta  time.Duration
	MaxDeltaN int

	// MaxPause is the longest the stream fell silent between two of its
	// packets, whatever ended the pause: unlike MaxDelta, the pauses of
	// silence suppression count (RFC 3551 §4.1, RFC 3389: a sender that
	// sends nothing, or a comfort noise update or a keepalive every few
	// seconds, while its user is silent). It says how long this sender
	// may go quiet and still be there (correlate's one-way-audio check).
	MaxPause time.Duration

	// Interarrival jitter in milliseconds (RFC 3550 §6.4.1): the running
	// J += (|D| − J)/16 over the difference between arrival spacing and
	// timestamp spacing. JitterMax is its largest value, JitterMean its
	// average, both over the packets MaxDelta counts and that have a known
	// clock rate. JitterMean divides by the number of packets before the
	// current one, not by the number averaged, as Wireshark does.
	JitterMean float64
	JitterMax  float64

	// What every packet reads or writes, unexported, follows the exported
	// figures every packet updates, small fields packed together, so that
	// a packet touches six cache lines of the stream rather than seven
	// (TestStreamHotLines); the figures only Finish or rare packets set
	// come after.
	cache      ptInfo // the info of the last packet's payload type
	cached     bool
	mainSet    bool
	mainWeak   bool   // the main type is only comfort noise or events so far
	fixed      bool   // SetCodec was called: Codec and ClockRate stay
	maxSeq     uint16 // RFC 3550 §A.1 sequence state: maxSeq, badSeq, cycles, baseSeq, received, prev*
	wsStartSeq uint16 // ws*: Wireshark-compatible state (ui/tap-rtp-analysis.c, rtppacket_analyse)
	badSeq     int32  // sequence number that would confirm a restart, -1 if none
	lastTS     uint32
	seenPT     [2]uint64 // payload types seen, bit per type (0-127)

	cycles       int64 // sequence wraps, times 65536
	baseSeq      int64 // extended sequence number of the first of the current run
	received     int   // distinct sequence numbers of the current run
	prevExpected int   // of runs before the last restart
	prevReceived int

	bucket                *Sample   // the second being counted, in Series
	bucketExp, bucketRecv int       // expected and received when it began
	hist                  [2]uint64 // bit i: extended maxSeq − i has been received
	ptimeTS               uint32    // timestamp step between the last two consecutive packets of the main type

	wsFirstTS uint32
	wsStopSeq uint16
	wsPrevPT  uint8
	wsUnder   bool
	wsCycles  int64
	wsTime    float64 // ms since First of the last packet in timestamp sequence
	wsNominal float64 // its timestamp in ms since the first, for clocked packets
	wsJitter  float64
	wsFirstNs int64 // arrival of the first packet, Unix ns: cheaper than time.Time.Sub
	wsPrevNs  int64 // arrival of the last packet in timestamp sequence

	// Series is the stream second by second (by arrival time from First),
	// for plots: packets, packets lost and the largest jitter in each
	// second that had packets. At most MaxSeries samples: a longer stream
	// keeps its first MaxSeries seconds.
	Series []Sample

	// Codec and ClockRate name PayloadType: from SetCodec, SetRTPMap or the
	// Table's PayloadNames when the SDP is known, else from RFC 3551's
	// static table; "" and 0 for a dynamic type nobody named.
	Codec     string
	ClockRate int

	Expected   int     // Finish: sequence numbers expected, RFC 3550 §A.3, summed over restarts
	Lost       int     // Finish: Expected − distinct sequence numbers received, never below 0
	LostPct    float64 // Finish: Lost / Expected × 100
	LostRaw    int     // Finish: Wireshark's Lost, see above; negative with duplicates; Lost for T.38
	Duplicates int     // packets whose sequence number was seen already (among the last 100)
	OutOfOrder int     // packets that arrived after a higher sequence number, first copy only
	SeqResets  int     // restarts: a jump of more than 3000 followed by the next number (RFC 3550 §A.1)

	// Malformed counts the packets of the stream (its flow, its SSRC) that
	// are not valid RTP (AddMalformed): a CSRC list, header extension or
	// padding count that runs past the packet's end. MalformedN is the
	// first one's packet number. Those with a bad header (MalformedLost)
	// are not added, so their sequence numbers count in Lost, as Wireshark
	// counts them, when they fall inside the stream's range (one past its
	// last good packet, or a copy, is no loss: MalformedLost may exceed
	// what it explains of Lost); those with only a bad padding count are
	// added, as Wireshark adds them.
	Malformed     int
	MalformedN    int
	MalformedLost int

	Events        []DTMF // RFC 4733 events in order of their first packet
	EventsDropped int    // events beyond MaxEvents

	// Finish: the E-model estimate (see package doc): R factor 0-100 and
	// MOS 1-4.5. Both 0 for video (90 kHz clock) and for empty streams.
	RFactor float64
	MOS     float64
	Delay   time.Duration // Finish: the one-way mouth-to-ear delay the E-model assumed

	// RTCP from the stream's source: the last sender report and how many.
	LastSR SenderReport
	SRs    int

	// RTCP about the stream from its receiver: the report blocks whose
	// SSRC is this stream's (RFC 3550 §6.4.1), the last one's values.
	ReportsSeen       int
	FarFractionLost   float64       // percent lost since the receiver's previous report
	FarCumulativeLost int           // packets the receiver counts as lost (negative with duplicates)
	FarLostPct        float64       // Finish: FarCumulativeLost over what the receiver expected, see Finish
	FarJitterMs       float64       // Finish: the receiver's interarrival jitter in ms
	FarJitterMaxMs    float64       // Finish: the largest jitter any report gave, in ms
	RTT               time.Duration // round trip from LSR/DLSR (RFC 3550 §6.4.1), measured at the capture point; 0 if unknown

	// Fax is set for a stream of T.38 fax (AddUDPTL) instead of RTP.
	Fax *Fax

	names       PayloadNames
	sameSSRC    *Stream   // the next older stream with the same SSRC, in a Table
	slots       [4]ptInfo // payload types named for this stream
	slotNxt     uint8
	ev          *DTMF // the event being extended, if the last event packet was its
	farJitter   uint32
	farJitterMx uint32
	farHighest  uint32
	srRing      [4]srMark // recent sender reports, to match LSR
	srNext      uint8
}

type srMark struct {
	mid uint32 // middle 32 bits of the NTP time, as LSR carries it
	at  time.Time
}

// NewStream returns an empty stream for key.
func NewStream(key StreamKey) *Stream {
	return &Stream{Key: key, badSeq: -1}
}

// SetCodec names the stream's main payload type, typically from the SDP's
// a=rtpmap. It overrides whatever the static table or the Table's
// PayloadNames say, also for packets that have arrived already. A clock of
// 0 is taken from the usual rate for name when one is known.
func (s *Stream) SetCodec(name string, clock int) {
	info := newPTInfo(s.PayloadType, name, clock)
	s.Codec, s.ClockRate, s.fixed = name, int(info.clock), true
	if s.mainSet && !s.mainWeak {
		s.setSlot(info)
	}
}

// SetRTPMap tells the stream what payload type pt carries, as an SDP
// a=rtpmap line does: "telephone-event" makes its packets DTMF events, and
// for dynamic types the clock lets the jitter be computed. Up to four types
// are remembered per stream; a fifth replaces the oldest.
func (s *Stream) SetRTPMap(pt uint8, name string, clock int) {
	info := newPTInfo(pt, name, clock)
	s.setSlot(info)
	if s.mainSet && pt == s.PayloadType && !s.fixed {
		s.Codec, s.ClockRate = info.name, int(info.clock)
	}
}

func (s *Stream) setSlot(info ptInfo) {
	s.cached = false
	for i := range s.slots {
		if s.slots[i].set && s.slots[i].pt == info.pt {
			s.slots[i] = info
			return
		}
	}
	s.slots[s.slotNxt] = info
	s.slotNxt = (s.slotNxt + 1) % uint8(len(s.slots))
}

// payload returns what the stream knows about pt. The answer for the last
// payload type is cached, so the usual packet costs one comparison.
func (s *Stream) payload(pt uint8) ptInfo {
	if s.cached && s.cache.pt == pt {
		return s.cache
	}
	for i := range s.slots {
		if s.slots[i].set && s.slots[i].pt == pt {
			s.cache, s.cached = s.slots[i], true
			return s.cache
		}
	}
	info := resolve(s.names, s.Key, pt)
	if info.set {
		s.setSlot(info) // remember what the signalling said
	} else if s.names != nil && pt >= 96 {
		// Unnamed dynamic type: do not cache, so a later SDP still counts.
		return info
	}
	s.cache, s.cached = info, true
	return info
}

// PayloadTypeSet is the set of payload types the stream has carried: bit
// pt%64 of word pt/64. (A set to compare with another without a slice.)
func (s *Stream) PayloadTypeSet() [2]uint64 { return s.seenPT }

// PayloadTypes returns the payload types the stream has carried, in
// ascending order.
func (s *Stream) PayloadTypes() []uint8 {
	var out []uint8
	for pt := range 128 {
		if s.seenPT[pt>>6]&(1<<(pt&63)) != 0 {
			out = append(out, uint8(pt))
		}
	}
	return out
}

// Sample is one second of a stream.
type Sample struct {
	Second    int     // seconds since the stream's first packet
	Packets   int     // packets that arrived in that second
	Lost      int     // sequence numbers expected in that second and missing
	JitterMax float64 // largest interarrival jitter in that second, ms
}

// MaxSeries bounds Stream.Series: an hour of seconds.
const MaxSeries = 3600

// sample accounts the packet just added to the per-second series.
func (s *Stream) sample(at time.Time) {
	sec := wholeSeconds(s.First, at)
	expected := s.prevExpected + s.runExpected()
	received := s.prevReceived + s.received
	if s.bucket == nil || sec != s.bucket.Second {
		s.closeSample(expected-1, received-1) // this packet opens the next second
		if len(s.Series) >= MaxSeries || sec < 0 {
			s.bucket = nil
			return
		}
		s.Series = append(s.Series, Sample{Second: sec})
		s.bucket = &s.Series[len(s.Series)-1]
		s.bucketExp, s.bucketRecv = expected-1, received-1
	}
	s.bucket.Packets++
	s.bucket.JitterMax = max(s.bucket.JitterMax, s.wsJitter)
}

// wholeSeconds is int(at.Sub(first) / time.Second) without Sub's overflow
// arithmetic (this runs for every packet): truncated toward zero.
func wholeSeconds(first, at time.Time) int {
	ds := at.Unix() - first.Unix()
	dn := at.Nanosecond() - first.Nanosecond()
	switch {
	case ds > 0 && dn < 0:
		ds--
	case ds < 0 && dn > 0:
		ds++
	}
	return int(ds)
}

// closeSample sets the loss of the current second, given the expected and
// received counts at its end.
func (s *Stream) closeSample(expected, received int) {
	if s.bucket != nil {
		s.bucket.Lost = max(0, (expected-s.bucketExp)-(received-s.bucketRecv))
	}
}

// AddMalformed counts packet n, the stream's by its flow and SSRC but not
// valid RTP (decode.ParseRTP failed); lost when it was not added
// (AddRTP), its header unreadable.
func (s *Stream) AddMalformed(n int, lost bool) {
	if s.Malformed == 0 {
		s.MalformedN = n
	}
	s.Malformed++
	if lost {
		s.MalformedLost++
	}
}

// AddRTP adds one RTP packet of the stream, number n, arrived at at. p is
// not kept; it allocates nothing except when a new telephone event starts.
// Packets must come in capture order.
//
// Sequence numbers follow RFC 3550 §A.1: a step forward of less than 3000
// is in order (the gap lost), one up to 100 behind the highest is late (or
// a duplicate, if seen), anything else is a possible restart, confirmed
// when the next packet follows it; a lone wild packet counts only in
// Packets.
//
// Jitter and MaxDelta reproduce Wireshark 4.0's rtppacket_analyse, so that
// they match tshark -z rtp,streams: a packet is "in timestamp sequence"
// when its timestamp is at most 2^31 ahead of the stream's first; jitter
// is computed for in-sequence packets whose clock is known (RFC 3551
// static types, or dynamic types named by the SDP, telephone-event
// excepted), against the previous in-sequence packet whatever its type, so
// the first audio packet after a DTMF event or a dynamic type without
// clock carries the whole pause as jitter, as it does in Wireshark.
func (s *Stream) AddRTP(n int, at time.Time, p *decode.RTP) {
	s.addRTP(n, at, p)
	if len(s.Series) < MaxSeries || s.bucket != nil { // addRTP counted the packet: Packets > 0
		s.sample(at)
	}
}

func (s *Stream) addRTP(n int, at time.Time, p *decode.RTP) {
	pt := p.PayloadType & 0x7f
	info := s.payload(pt)
	s.seenPT[pt>>6] |= 1 << (pt & 63)
	if weak := isCN(pt) || info.event; !s.mainSet || s.mainWeak && !weak {
		s.setMain(pt, info, weak) // the first packet, or the first real audio after CN or events
	}
	if p.Marker {
		s.Markers++
	}
	s.PayloadBytes += int64(len(p.Payload))
	if info.event {
		s.addEvent(n, at, p, info)
	}

	if s.Packets == 0 {
		s.First, s.FirstN = at, n
		s.Last, s.LastN = at, n
		s.Packets = 1
		s.initSeq(p.Seq)
		s.lastTS = p.Timestamp
		s.wsStartSeq, s.wsStopSeq = p.Seq, p.Seq
		s.wsFirstTS = p.Timestamp
		s.wsPrevPT = pt
		s.wsFirstNs = at.UnixNano()
		s.wsPrevNs = s.wsFirstNs
		return
	}

	s.updateSeq(p, pt)
	s.wireshark(n, at, p, pt, info)
	s.Last, s.LastN = at, n
	s.Packets++
}

func (s *Stream) setMain(pt uint8, info ptInfo, weak bool) {
	s.PayloadType = pt
	s.mainSet, s.mainWeak = true, weak
	if s.fixed {
		if weak {
			return
		}
		s.setSlot(newPTInfo(pt, s.Codec, s.ClockRate))
		return
	}
	s.Codec, s.ClockRate = info.name, int(info.clock)
}

func (s *Stream) initSeq(seq uint16) {
	s.maxSeq = seq
	s.cycles = 0
	s.baseSeq = int64(seq)
	s.badSeq = -1
	s.received = 1
	s.hist = [2]uint64{1, 0}
}

// updateSeq applies RFC 3550 §A.1 to one packet after the first.
func (s *Stream) updateSeq(p *decode.RTP, pt uint8) {
	seq := p.Seq
	udelta := seq - s.maxSeq
	switch {
	case udelta == 0:
		s.Duplicates++
	case udelta < maxDropout:
		if seq < s.maxSeq {
			s.cycles += 1 << 16
		}
		if udelta == 1 && pt == s.PayloadType && s.wsPrevPT == pt {
			if d := p.Timestamp - s.lastTS; d > 0 && d < 1<<20 {
				s.ptimeTS = d
			}
		}
		s.maxSeq = seq
		s.lastTS = p.Timestamp
		s.shiftHist(uint(udelta))
		s.hist[0] |= 1
		s.received++
		s.badSeq = -1
	case int(udelta) <= 1<<16-maxMisorder:
		if int32(seq) == s.badSeq {
			// Two packets in a row after a jump: the sender restarted
			// its sequence. Start a new run that includes the first of
			// the two, which was set aside.
			s.prevExpected += s.runExpected()
			s.prevReceived += s.received
			s.SeqResets++
			s.initSeq(seq - 1)
			s.maxSeq = seq
			s.baseSeq = int64(seq) - 1
			s.hist = [2]uint64{3, 0}
			s.received = 2
			s.lastTS = p.Timestamp
		} else {
			s.badSeq = int32(seq + 1)
		}
	default:
		back := uint(-udelta) // 1..maxMisorder-1 behind the highest
		w, bit := back>>6, uint64(1)<<(back&63)
		if s.hist[w]&bit != 0 {
			s.Duplicates++
			return
		}
		s.hist[w] |= bit
		s.received++
		s.OutOfOrder++
		if ext := s.cycles + int64(s.maxSeq) - int64(back); ext < s.baseSeq {
			s.baseSeq = ext // arrived late but belongs before the first
		}
	}
}

func (s *Stream) shiftHist(d uint) {
	s.hist[1] = s.hist[1]<<d | s.hist[0]>>(64-d)
	if d >= 64 {
		s.hist[1] = s.hist[0] << (d - 64)
	}
	s.hist[0] <<= d
}

func (s *Stream) runExpected() int {
	return int(s.cycles + int64(s.maxSeq) - s.baseSeq + 1)
}

// wireshark updates the Wireshark-compatible delta, jitter and LostRaw
// state for one packet after the first.
func (s *Stream) wireshark(n int, at time.Time, p *decode.RTP, pt uint8, info ptInfo) {
	seq := p.Seq
	d := p.Timestamp - s.wsFirstTS
	inSeq := d < 1<<31 || (p.Timestamp < s.wsFirstTS && d == 1<<31)

	// Wraps of the sequence number, counted as Wireshark does: once when
	// it falls below the first one, re-armed when it climbs back above.
	if inSeq {
		switch {
		case seq < s.wsStartSeq && !s.wsUnder, seq == 0 && s.wsStopSeq == 65535 && !s.wsUnder:
			s.wsCycles++
			s.wsUnder = true
		case seq > s.wsStartSeq && s.wsUnder:
			s.wsUnder = false
		}
	}
	regular := inSeq && !p.Marker && !isCN(pt) && !isCN(s.wsPrevPT)
	s.wsPrevPT = pt

	if inSeq {
		ns := at.UnixNano()
		cur := float64(ns-s.wsFirstNs) / 1e6
		delta := time.Duration(ns - s.wsPrevNs)
		if delta > s.MaxPause {
			s.MaxPause = delta
		}
		var jitter float64
		clock := jitterClock(info) / 1000
		if clock != 0 {
			nominal := float64(d) / float64(clock)
			diff := math.Abs(cur - (s.wsTime + nominal - s.wsNominal))
			s.wsJitter = (15*s.wsJitter + diff) / 16
			jitter = s.wsJitter
			s.wsNominal = nominal
		}
		if regular {
			if delta > s.MaxDelta {
				s.MaxDelta, s.MaxDeltaN = delta, n
			}
			if clock != 0 {
				s.JitterMax = max(s.JitterMax, jitter)
				k := float64(s.Packets)
				s.JitterMean = (s.JitterMean*(k-1) + jitter) / k
			}
		}
		s.wsTime = cur
		s.wsPrevNs = ns
	}
	s.wsStopSeq = seq
}

// addEvent folds one telephone-event packet into Events.
func (s *Stream) addEvent(n int, at time.Time, p *decode.RTP, info ptInfo) {
	// RFC 4733 §2.3: 4 bytes per event; a few packed events at most. This
	// also keeps video sent on payload type 101 without SDP out.
	if n := len(p.Payload); n == 0 || n%4 != 0 || n > maxEventPayload {
		return
	}
	var te decode.TelephoneEvent
	if decode.ParseTelephoneEvent(p.Payload, &te) != nil {
		return
	}
	clock := int64(info.clock)
	if clock == 0 {
		clock = 8000
	}
	dur := time.Duration(int64(te.Duration) * int64(time.Second) / clock)
	if e := s.ev; e != nil && e.ts == p.Timestamp && e.Event == te.Event {
		e.Duration = max(e.Duration, dur)
		e.End = e.End || te.End
		return
	}
	if len(s.Events) >= MaxEvents {
		s.EventsDropped++
		s.ev = nil
		return
	}
	s.Events = append(s.Events, DTMF{
		Digit: te.Digit(), Event: te.Event, Start: at, Duration: dur, N: n, End: te.End, ts: p.Timestamp,
	})
	s.ev = &s.Events[len(s.Events)-1]
}

// AddRTCP adds one RTCP packet (of a compound) that concerns the stream:
// a sender report from its SSRC, or a report block about it. Parts about
// other sources are ignored, so the whole packet can be given.
func (s *Stream) AddRTCP(n int, at time.Time, pk *decode.RTCPPacket) {
	if pk.Type == decode.RTCPTypeSR && pk.SSRC == s.Key.SSRC {
		s.SRs++
		s.LastSR = SenderReport{N: n, At: at, NTP: pk.NTP, RTPTime: pk.RTPTime, PacketCount: pk.PacketCount, OctetCount: pk.OctetCount}
		s.srRing[s.srNext] = srMark{mid: uint32(pk.NTP >> 16), at: at}
		s.srNext = (s.srNext + 1) % uint8(len(s.srRing))
	}
	if pk.Type != decode.RTCPTypeSR && pk.Type != decode.RTCPTypeRR {
		return
	}
	for i := range pk.Reports {
		r := &pk.Reports[i]
		if r.SSRC != s.Key.SSRC {
			continue
		}
		s.ReportsSeen++
		s.FarFractionLost = float64(r.FractionLost) * 100 / 256
		s.FarCumulativeLost = int(r.CumulativeLost)
		s.farHighest = r.HighestSeq
		s.farJitter = r.Jitter
		s.farJitterMx = max(s.farJitterMx, r.Jitter)
		if r.LSR == 0 {
			continue
		}
		// RFC 3550 §6.4.1: RTT = A − LSR − DLSR. A and the SR's own time
		// are both capture timestamps here, so no clock sync is needed;
		// the result is the round trip from the capture point to the
		// receiver and back.
		for _, m := range s.srRing {
			if m.mid == r.LSR && !m.at.IsZero() {
				rtt := at.Sub(m.at) - time.Duration(int64(r.DLSR)*int64(time.Second)>>16)
				if rtt >= 0 {
					s.RTT = rtt
				}
				break
			}
		}
	}
}

// Finish computes the derived numbers: Expected, Lost, LostPct, LostRaw,
// the far end's numbers in ms and percent, Delay, RFactor and MOS. It can
// be called any number of times, e.g. for a live view, and adding packets
// afterwards is fine.
//
// FarLostPct relates the receiver's cumulative loss to the sequence
// numbers it should have seen: from the first this stream saw to the
// extended highest the report gives. When that does not make sense (the
// report predates the capture, or the sequence restarted) it falls back
// to the last report's fraction lost.
func (s *Stream) Finish() {
	if s.Packets == 0 {
		return
	}
	s.closeSample(s.prevExpected+s.runExpected(), s.prevReceived+s.received)
	s.Expected = s.prevExpected + s.runExpected()
	got := s.prevReceived + s.received
	s.Lost = max(0, s.Expected-got)
	s.LostPct = 0
	if s.Expected > 0 {
		s.LostPct = float64(s.Lost) * 100 / float64(s.Expected)
	}
	wsExpected := int64(uint32(int64(s.wsStopSeq) + s.wsCycles*65536 - int64(s.wsStartSeq) + 1))
	s.LostRaw = int(int32(wsExpected - int64(s.Packets)))
	if s.Fax != nil {
		s.LostRaw = s.Lost // Wireshark's RTP figure has no meaning here
	}

	if s.ReportsSeen > 0 {
		s.FarLostPct = s.FarFractionLost
		exp := int64(s.farHighest) - int64(s.wsStartSeq) + 1
		if exp > 0 && int64(s.FarCumulativeLost) <= exp && s.SeqResets == 0 {
			s.FarLostPct = float64(s.FarCumulativeLost) * 100 / float64(exp)
		}
		if s.ClockRate > 0 {
			s.FarJitterMs = float64(s.farJitter) * 1000 / float64(s.ClockRate)
			s.FarJitterMaxMs = float64(s.farJitterMx) * 1000 / float64(s.ClockRate)
		}
	}

	s.RFactor, s.MOS, s.Delay = 0, 0, 0
	if s.ClockRate == 0 || s.ClockRate >= 90000 {
		return // video, or a clock nobody named: no voice model
	}
	s.Delay = s.assumedDelay()
	s.RFactor, s.MOS = EModel(s.Codec, s.LostPct, float64(s.Delay)/float64(time.Millisecond))
}

// Ptime returns the packetization interval: the timestamp step between the
// last two consecutive packets of the main payload type, in time; 0 if not
// known yet.
func (s *Stream) Ptime() time.Duration {
	if s.ClockRate <= 0 || s.ptimeTS == 0 {
		return 0
	}
	return time.Duration(int64(s.ptimeTS) * int64(time.Second) / int64(s.ClockRate))
}

// Assumptions of the delay estimate, see the package documentation.
const (
	DefaultNetworkDelay = 50 * time.Millisecond // one-way, when RTCP gave no round trip
	DefaultPtime        = 20 * time.Millisecond // when the stream did not show its own
)

// assumedDelay estimates the one-way mouth-to-ear delay: network (half the
// RTCP round trip, else DefaultNetworkDelay) + jitter buffer (twice the
// mean jitter) + one packet of packetization.
func (s *Stream) assumedDelay() time.Duration {
	network := DefaultNetworkDelay
	if s.RTT > 0 {
		network = s.RTT / 2
	}
	ptime := s.Ptime()
	if ptime <= 0 || ptime > 200*time.Millisecond {
		ptime = DefaultPtime
	}
	buffer := time.Duration(2 * s.JitterMean * float64(time.Millisecond))
	return network + buffer + ptime
}
