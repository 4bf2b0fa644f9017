package media

import (
	"math"
	"net/netip"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/sipflow/sipflow/decode"
)

func TestStreamCounters(t *testing.T) {
	// reordered: two swapped pairs, arriving 20 ms apart in this order.
	var reordered []pkt
	for i, seq := range []uint16{0, 1, 2, 4, 3, 5, 6, 8, 7, 9} {
		reordered = append(reordered, pkt{seq: seq, ts: uint32(seq) * 160, pt: 8, at: float64(20 * i)})
	}
	// duplicated: sequence numbers 5, 6 and 10 arrive twice.
	var duplicated []pkt
	for _, p := range voice(20, 0, 0) {
		duplicated = append(duplicated, p)
		if p.seq == 5 || p.seq == 6 || p.seq == 10 {
			p.at += 1
			duplicated = append(duplicated, p)
		}
	}
	// restart: the sender jumps from 1049 to 40000 and goes on from there.
	restart := voice(50, 1000, 0)
	for _, p := range voice(50, 40000, 50*160) {
		p.at += 1000 // timestamps and timing go on: only the sequence jumps
		restart = append(restart, p)
	}
	// wild: one packet far off the sequence, then the stream goes on.
	wild := voice(20, 0, 0)
	wild = append(wild[:10:10], append([]pkt{{seq: 30000, ts: 1600, pt: 8, at: 190}}, wild[10:]...)...)
	// early: the second packet belongs before the first.
	early := voice(10, 100, 0)
	early[0], early[1] = early[1], early[0]
	early[0].at, early[1].at = 0, 20

	tests := []struct {
		name                             string
		ps                               []pkt
		packets, expected, lost, lostRaw int
		dups, ooo, resets                int
		lostPct, jitterMax, jitterMean   float64
		maxDelta                         time.Duration
		maxDeltaN                        int
	}{
		{name: "clean 50 packets", ps: voice(50, 4711, 1234), packets: 50, expected: 50,
			maxDelta: 20 * time.Millisecond, maxDeltaN: 2},
		{name: "5 lost of 100", ps: without(voice(100, 0, 0), 10, 30, 31, 50, 77), packets: 95, expected: 100,
			lost: 5, lostRaw: 5, lostPct: 5, maxDelta: 60 * time.Millisecond, maxDeltaN: 30},
		{name: "two swapped pairs", ps: reordered, packets: 10, expected: 10, ooo: 2,
			// Jitter: see TestReorderedJitter.
			jitterMax: -1, jitterMean: -1, maxDelta: 20 * time.Millisecond, maxDeltaN: 2},
		{name: "three duplicates", ps: duplicated, packets: 23, expected: 20, lostRaw: -3, dups: 3,
			jitterMax: -1, jitterMean: -1, maxDelta: 20 * time.Millisecond, maxDeltaN: 2},
		{name: "wrap at 65535", ps: voice(100, 65500, 0), packets: 100, expected: 100,
			maxDelta: 20 * time.Millisecond, maxDeltaN: 2},
		{name: "loss across the wrap", ps: without(voice(100, 65500, 0), 65535, 0), packets: 98, expected: 100,
			lost: 2, lostRaw: 2, lostPct: 2, maxDelta: 60 * time.Millisecond, maxDeltaN: 36},
		{name: "sequence restart", ps: restart, packets: 100, expected: 100, resets: 1,
			// Wireshark counts the jump as loss: 40049 − 1000 + 1 − 100.
			lostRaw: 38950, maxDelta: 20 * time.Millisecond, maxDeltaN: 2},
		{name: "one wild packet", ps: wild, packets: 21, expected: 20, lostRaw: -1,
			jitterMax: -1, jitterMean: -1, maxDelta: -1, maxDeltaN: -1},
		{name: "late packet before the first", ps: early, packets: 10, expected: 10, ooo: 1,
			// Wireshark starts at 101 and ends at 109: 9 expected.
			lostRaw: -1, jitterMax: -1, jitterMean: -1, maxDelta: -1, maxDeltaN: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := feed(tt.ps)
			ints := []struct {
				what      string
				got, want int
			}{
				{"Packets", s.Packets, tt.packets},
				{"Expected", s.Expected, tt.expected},
				{"Lost", s.Lost, tt.lost},
				{"LostRaw", s.LostRaw, tt.lostRaw},
				{"Duplicates", s.Duplicates, tt.dups},
				{"OutOfOrder", s.OutOfOrder, tt.ooo},
				{"SeqResets", s.SeqResets, tt.resets},
			}
			for _, c := range ints {
				if c.got != c.want {
					t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
				}
			}
			if math.Abs(s.LostPct-tt.lostPct) > 1e-9 {
				t.Errorf("LostPct = %v, want %v", s.LostPct, tt.lostPct)
			}
			if tt.jitterMax >= 0 && (s.JitterMax != tt.jitterMax || s.JitterMean != tt.jitterMean) {
				t.Errorf("jitter max %v mean %v, want %v %v", s.JitterMax, s.JitterMean, tt.jitterMax, tt.jitterMean)
			}
			if tt.maxDelta >= 0 && s.MaxDelta != tt.maxDelta {
				t.Errorf("MaxDelta = %v, want %v", s.MaxDelta, tt.maxDelta)
			}
			if tt.maxDeltaN >= 0 && s.MaxDeltaN != tt.maxDeltaN {
				t.Errorf("MaxDeltaN = %d, want %d", s.MaxDeltaN, tt.maxDeltaN)
			}
		})
	}
}

// TestJitterByHand checks the RFC 3550 §6.4.1 estimator on arrivals that
// alternate 5 ms late and 5 ms early around a 20 ms grid. Every transit
// difference is then |D| = 10 ms, so J_i = J_{i−1} + (10 − J_{i−1})/16,
// i.e. J_i = 10·(1 − (15/16)^i). The maximum is the last, J_m with m = 49
// differences for 50 packets; the mean of J_1..J_m is
// 10·(1 − 15·(1 − (15/16)^m)/m), since Σ_{i=1..m} (15/16)^i =
// 15·(1 − (15/16)^m).
func TestJitterByHand(t *testing.T) {
	ps := voice(50, 0, 0)
	for i := range ps {
		if i%2 == 0 {
			ps[i].at += 5
		} else {
			ps[i].at -= 5
		}
	}
	s := feed(ps)
	m := 49.0
	wantMax := 10 * (1 - math.Pow(15.0/16, m))
	wantMean := 10 * (1 - 15*(1-math.Pow(15.0/16, m))/m)
	if math.Abs(s.JitterMax-wantMax) > 1e-9 || math.Abs(s.JitterMean-wantMean) > 1e-9 {
		t.Errorf("jitter max %.6f mean %.6f, want %.6f %.6f", s.JitterMax, s.JitterMean, wantMax, wantMean)
	}
	// Gaps alternate 10 ms (late → early) and 30 ms (early → late); the
	// first 30 ms gap ends at the third packet.
	if s.MaxDelta != 30*time.Millisecond || s.MaxDeltaN != 3 {
		t.Errorf("MaxDelta %v at %d, want 30ms at 3", s.MaxDelta, s.MaxDeltaN)
	}
}

// TestJitterIgnores checks what Wireshark leaves out of MaxDelta and the
// jitter statistics: a talkspurt start (marker), comfort noise and the
// packet after it.
func TestJitterIgnores(t *testing.T) {
	ps := voice(20, 0, 0)
	// A 2 s pause that ends with a marker packet.
	for i := 10; i < 20; i++ {
		ps[i].at += 2000
		ps[i].ts += 16000
	}
	ps[10].marker = true
	// Comfort noise at 15 after a second of silence, then talk again.
	ps[15].pt = 13
	for i := 15; i < 20; i++ {
		ps[i].at += 1000
		ps[i].ts += 8000
	}
	s := feed(ps)
	if s.MaxDelta != 20*time.Millisecond {
		t.Errorf("MaxDelta = %v, want 20ms: the marker, CN and after-CN gaps must not count", s.MaxDelta)
	}
	// MaxPause counts them: how long the sender fell silent and came back.
	if s.MaxPause != 2020*time.Millisecond {
		t.Errorf("MaxPause = %v, want 2.02s: the pause that ended at the marker", s.MaxPause)
	}
	if s.JitterMax != 0 {
		t.Errorf("JitterMax = %v, want 0", s.JitterMax)
	}
	if s.Markers != 1 || s.PayloadType != 8 || s.Codec != "PCMA" || s.ClockRate != 8000 {
		t.Errorf("markers %d, main %d %s/%d", s.Markers, s.PayloadType, s.Codec, s.ClockRate)
	}
	if got := s.PayloadTypes(); len(got) != 2 || got[0] != 8 || got[1] != 13 {
		t.Errorf("PayloadTypes = %v", got)
	}
}

func TestReorderedJitter(t *testing.T) {
	// Same as "two swapped pairs" above: 3 arrives after 4, 7 after 8. In
	// transit terms, seq 4 is 20 ms early (D = −20, J = 1.25), seq 3 then
	// 40 ms late relative to 4 (|D| = 40, J = 1.25·15/16 + 40/16 = 3.671875),
	// seq 5 20 ms early relative to 3 (J = 3.671875·15/16 + 20/16 =
	// 4.692383), and the same again for 8, 7, 9.
	var ps []pkt
	for i, seq := range []uint16{0, 1, 2, 4, 3, 5, 6, 8, 7, 9} {
		ps = append(ps, pkt{seq: seq, ts: uint32(seq) * 160, pt: 8, at: float64(20 * i)})
	}
	s := feed(ps)
	j := 0.0
	var js []float64
	for _, d := range []float64{0, 0, 20, 40, 20, 0, 20, 40, 20} {
		j += (d - j) / 16
		js = append(js, j)
	}
	wantMax, sum := 0.0, 0.0
	for _, v := range js {
		wantMax = max(wantMax, v)
		sum += v
	}
	if math.Abs(s.JitterMax-wantMax) > 1e-9 || math.Abs(s.JitterMean-sum/9) > 1e-9 {
		t.Errorf("jitter max %v mean %v, want %v %v", s.JitterMax, s.JitterMean, wantMax, sum/9)
	}
}

func TestSSRCChangeMakesTwoStreams(t *testing.T) {
	tab := NewTable()
	n := 0
	for i, p := range voice(20, 0, 0) {
		ssrc := uint32(0xaaaa)
		if i >= 12 {
			ssrc = 0xbbbb // the sender restarted: new SSRC, same 5-tuple
			p.seq += 5000
		}
		n++
		s, err := tab.AddRTP(n, msAfter(p.at), addrA, addrB, rtpBytes(p, ssrc))
		if err != nil || s == nil || s.Key.SSRC != ssrc {
			t.Fatalf("packet %d: stream %v, err %v", n, s, err)
		}
	}
	tab.Finish()
	ss := tab.Streams()
	if len(ss) != 2 {
		t.Fatalf("%d streams, want 2", len(ss))
	}
	for i, want := range []struct {
		ssrc    uint32
		packets int
		firstN  int
	}{{0xaaaa, 12, 1}, {0xbbbb, 8, 13}} {
		s := ss[i]
		if s.Key.SSRC != want.ssrc || s.Packets != want.packets || s.FirstN != want.firstN || s.Lost != 0 || s.SeqResets != 0 {
			t.Errorf("stream %d: SSRC %#x packets %d first %d lost %d resets %d", i, s.Key.SSRC, s.Packets, s.FirstN, s.Lost, s.SeqResets)
		}
	}
	if tab.Stream(StreamKey{addrA, addrB, 0xbbbb}) != ss[1] {
		t.Error("Stream(key) does not find the second stream")
	}
}

func TestDTMF(t *testing.T) {
	type press struct {
		code     uint8
		steps    int  // packets before the end, 160 timestamp units apart
		sameSeq  bool // the three end packets share one sequence number
		duration time.Duration
	}
	tests := []struct {
		name    string
		presses []press
		digits  string
		dups    int
	}{
		{"1", []press{{code: 1, steps: 5, sameSeq: true, duration: 120 * time.Millisecond}}, "1", 2},
		{"5#", []press{
			{code: 5, steps: 4, duration: 100 * time.Millisecond},
			{code: 11, steps: 7, sameSeq: true, duration: 160 * time.Millisecond},
		}, "5#", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps []pkt
			seq, ts, at := uint16(100), uint32(8000), 0.0
			add := func(p pkt) {
				p.at = at
				ps = append(ps, p)
				at += 20
			}
			talk := func(n int) {
				for range n {
					add(pkt{seq: seq, ts: ts, pt: 8, payload: make([]byte, 160)})
					seq++
					ts += 160
				}
			}
			type start struct {
				n  int
				at float64
			}
			var starts []start
			talk(10)
			for _, pr := range tt.presses {
				starts = append(starts, start{len(ps) + 1, at})
				for i := range pr.steps {
					add(pkt{seq: seq, ts: ts, pt: 101, marker: i == 0, payload: event(pr.code, false, uint16(160*(i+1)))})
					seq++
				}
				end := uint16(pr.duration * 8000 / time.Second)
				for range 3 {
					add(pkt{seq: seq, ts: ts, pt: 101, payload: event(pr.code, true, end)})
					if !pr.sameSeq {
						seq++
					}
				}
				if pr.sameSeq {
					seq++
				}
				ts += uint32(end)
				talk(10)
			}
			s := feed(ps)
			if len(s.Events) != len(tt.digits) {
				t.Fatalf("%d events %+v, want %q", len(s.Events), s.Events, tt.digits)
			}
			for i, e := range s.Events {
				pr := tt.presses[i]
				if e.Digit != tt.digits[i] || e.Event != pr.code || e.Duration != pr.duration || !e.End ||
					e.N != starts[i].n || !e.Start.Equal(msAfter(starts[i].at)) {
					t.Errorf("event %d = %+v, want %c %v from packet %d", i, e, tt.digits[i], pr.duration, starts[i].n)
				}
			}
			if s.Duplicates != tt.dups || s.Lost != 0 || s.PayloadType != 8 {
				t.Errorf("duplicates %d lost %d main type %d", s.Duplicates, s.Lost, s.PayloadType)
			}
		})
	}
}

func TestRTCP(t *testing.T) {
	tab := NewTable()
	ps := without(voice(100, 1000, 0), 1010, 1020)
	for i, p := range ps {
		if _, err := tab.AddRTP(i+1, msAfter(p.at), addrA, addrB, rtpBytes(p, 0x1234)); err != nil {
			t.Fatal(err)
		}
	}
	rtcpA := addrA.Addr()
	srcA := netip.AddrPortFrom(rtcpA, addrA.Port()+1)
	srcB := netip.AddrPortFrom(addrB.Addr(), addrB.Port()+1)
	// A sender report from A at 1 s, then B's receiver report at 1.3 s
	// that echoes it (LSR) after holding it 13107/65536 s (DLSR ≈ 0.2 s).
	const ntp = uint64(0xe2a1b2c3_d4e5f6a7)
	if err := tab.AddRTCP(200, msAfter(1000), srcA, srcB, rtcpSR(0x1234, ntp, 16000, 50, 8000)); err != nil {
		t.Fatal(err)
	}
	rr := decode.RTCPReport{SSRC: 0x1234, FractionLost: 25, CumulativeLost: 2, HighestSeq: 1099, Jitter: 80,
		LSR: uint32(ntp >> 16 & 0xffffffff), DLSR: 13107}
	if err := tab.AddRTCP(201, msAfter(1300), srcB, srcA, rtcpRR(0x9999, rr)); err != nil {
		t.Fatal(err)
	}
	// A report about a source nobody sent is dropped quietly.
	if err := tab.AddRTCP(202, msAfter(1400), srcB, srcA, rtcpRR(0x9999, decode.RTCPReport{SSRC: 0x7777})); err != nil {
		t.Fatal(err)
	}
	tab.Finish()
	s := tab.Streams()[0]
	if s.SRs != 1 || s.LastSR.NTP != ntp || s.LastSR.PacketCount != 50 || s.LastSR.N != 200 {
		t.Errorf("sender report: %d, %+v", s.SRs, s.LastSR)
	}
	if s.ReportsSeen != 1 || s.FarCumulativeLost != 2 || s.FarFractionLost != 25.0*100/256 {
		t.Errorf("report: seen %d cumulative %d fraction %v", s.ReportsSeen, s.FarCumulativeLost, s.FarFractionLost)
	}
	// 2 lost of the 100 from 1000 to 1099; jitter 80 units at 8 kHz.
	if s.FarLostPct != 2 || s.FarJitterMs != 10 || s.FarJitterMaxMs != 10 {
		t.Errorf("FarLostPct %v FarJitterMs %v max %v, want 2 10 10", s.FarLostPct, s.FarJitterMs, s.FarJitterMaxMs)
	}
	// RTT = 300 ms − 13107/65536 s = 300 ms − 199.996948 ms.
	if want := 300*time.Millisecond - time.Duration(13107*int64(time.Second)>>16); s.RTT != want {
		t.Errorf("RTT = %v, want %v", s.RTT, want)
	}
	// The E-model now takes half the RTT as the network delay.
	if want := s.RTT/2 + 20*time.Millisecond; s.Delay != want {
		t.Errorf("Delay = %v, want %v", s.Delay, want)
	}
	// Multiplexed on the RTP port (RFC 5761), RTCP reaches AddRTCP too.
	st, err := tab.AddRTP(203, msAfter(1500), addrB, addrA, rtcpRR(0x9999, rr))
	if st != nil || err != nil || s.ReportsSeen != 2 {
		t.Errorf("muxed RTCP: stream %v err %v reports %d", st, err, s.ReportsSeen)
	}
}

func TestPayloadNames(t *testing.T) {
	tab := NewTable()
	calls := 0
	tab.SetPayloadNames(func(k StreamKey, pt uint8) (string, int) {
		calls++
		switch pt {
		case 96:
			return "opus", 48000
		case 97:
			return "telephone-event", 48000
		}
		return "", 0
	})
	n := 0
	add := func(p pkt) *Stream {
		n++
		s, err := tab.AddRTP(n, msAfter(p.at), addrA, addrB, rtpBytes(p, 1))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for i := range 10 {
		add(pkt{seq: uint16(i), ts: uint32(960 * i), pt: 96, at: float64(20 * i), payload: []byte{1, 2, 3}})
	}
	s := add(pkt{seq: 10, ts: 9600, pt: 97, at: 200, payload: event(9, true, 4800)})
	s.Finish()
	if s.Codec != "opus" || s.ClockRate != 48000 || s.PayloadType != 96 {
		t.Errorf("codec %s/%d type %d", s.Codec, s.ClockRate, s.PayloadType)
	}
	if len(s.Events) != 1 || s.Events[0].Digit != '9' || s.Events[0].Duration != 100*time.Millisecond {
		t.Errorf("events %+v", s.Events)
	}
	if calls != 2 {
		t.Errorf("PayloadNames called %d times, want once per type", calls)
	}
	if s.Ptime() != 20*time.Millisecond {
		t.Errorf("Ptime = %v", s.Ptime())
	}
	// SetCodec overrides, SetRTPMap names further types.
	s.SetCodec("OPUS", 0)
	if s.Codec != "OPUS" || s.ClockRate != 48000 {
		t.Errorf("after SetCodec: %s/%d", s.Codec, s.ClockRate)
	}
}

func TestTableErrors(t *testing.T) {
	tab := NewTable()
	tab.SetLimit(1)
	if _, err := tab.AddRTP(1, t0, addrA, addrB, []byte{0x80, 0}); err == nil {
		t.Error("short packet accepted")
	}
	if _, err := tab.AddRTP(2, t0, addrA, addrB, rtpBytes(pkt{pt: 0}, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := tab.AddRTP(3, t0, addrA, addrB, rtpBytes(pkt{pt: 0}, 2)); err == nil || tab.Len() != 1 {
		t.Errorf("second stream beyond the limit: err %v, %d streams", err, tab.Len())
	}
}

func TestTableKeys(t *testing.T) {
	tab := NewTable()
	srcs := []netip.AddrPort{
		netip.MustParseAddrPort("1.2.3.4:5000"),
		netip.MustParseAddrPort("[::ffff:1.2.3.4]:5000"), // not the same address as 1.2.3.4
		netip.MustParseAddrPort("[fe80::1%eth0]:5000"),
		netip.MustParseAddrPort("[fe80::1%eth1]:5000"), // another zone, another stream
		netip.MustParseAddrPort("[fe80::1]:5000"),
	}
	for round := range 2 {
		for i, src := range srcs {
			p := pkt{seq: uint16(round), ts: uint32(160 * round), pt: 0}
			s, err := tab.AddRTP(round*len(srcs)+i+1, t0, src, addrB, rtpBytes(p, 7))
			if err != nil || s.Key.Src != src || s.Packets != round+1 {
				t.Fatalf("round %d, %v: stream %+v, err %v", round, src, s, err)
			}
			if tab.Stream(s.Key) != s {
				t.Errorf("Stream(%v) does not find it", s.Key)
			}
		}
	}
	if tab.Len() != len(srcs) {
		t.Errorf("%d streams, want %d", tab.Len(), len(srcs))
	}
}

// TestSetCodecBeforePackets names a dynamic type before any packet, as a
// caller with the SDP in hand does; the first packet is comfort noise.
func TestSetCodecBeforePackets(t *testing.T) {
	s := NewStream(StreamKey{Src: addrA, Dst: addrB, SSRC: 1})
	s.SetCodec("AMR", 0) // clock from the usual rate: 8000
	s.SetRTPMap(97, "telephone-event", 8000)
	ps := voice(10, 0, 0)
	ps[0].pt = 13
	for i := 1; i < len(ps); i++ {
		ps[i].pt = 96
	}
	ps[5].at += 8 // one packet late: jitter needs the clock the SDP gave
	ps = append(ps, pkt{seq: 10, ts: 1600, pt: 97, at: 200, payload: event(10, true, 400)})
	for i, p := range ps {
		r := decode.RTP{PayloadType: p.pt, Seq: p.seq, Timestamp: p.ts, Payload: p.payload}
		s.AddRTP(i+1, msAfter(p.at), &r)
	}
	s.Finish()
	if s.PayloadType != 96 || s.Codec != "AMR" || s.ClockRate != 8000 || s.Ptime() != 20*time.Millisecond {
		t.Errorf("main %d %s/%d ptime %v", s.PayloadType, s.Codec, s.ClockRate, s.Ptime())
	}
	if s.JitterMax == 0 {
		t.Error("no jitter: the clock of type 96 was not taken from SetCodec")
	}
	if len(s.Events) != 1 || s.Events[0].Digit != '*' || s.Events[0].Duration != 50*time.Millisecond {
		t.Errorf("events %+v", s.Events)
	}
	if r, _ := EModel("AMR", 0, ms(s.Delay)); s.RFactor != r {
		t.Errorf("R %v, want AMR's %v", s.RFactor, r)
	}
}

// TestSeries: the per-second samples add up to the stream's totals and put
// the loss in the second it happened.
func TestSeries(t *testing.T) {
	s := NewStream(StreamKey{SSRC: 1})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var p decode.RTP
	p.Version, p.PayloadType, p.SSRC = 2, 8, 1
	p.Payload = make([]byte, 160)
	for i := 0; i < 150; i++ { // 3 s at 20 ms; packets 60..64 (second 1) lost
		if i >= 60 && i < 65 {
			continue
		}
		p.Seq, p.Timestamp = uint16(i), uint32(i*160)
		s.AddRTP(i+1, t0.Add(time.Duration(i)*20*time.Millisecond), &p)
	}
	s.Finish()
	if len(s.Series) != 3 {
		t.Fatalf("%d samples, want 3: %+v", len(s.Series), s.Series)
	}
	packets, lost := 0, 0
	for _, x := range s.Series {
		packets += x.Packets
		lost += x.Lost
	}
	if packets != s.Packets || lost != s.Lost || s.Series[1].Lost != 5 || s.Series[0].Lost != 0 || s.Series[2].Lost != 0 {
		t.Errorf("series %+v; totals: %d packets, %d lost", s.Series, s.Packets, s.Lost)
	}
}

func TestWholeSeconds(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 700_000_000, time.UTC)
	for _, d := range []time.Duration{-2500 * time.Millisecond, -time.Second, -999_999_999, -1, 0, 1, 299_999_999, 300_000_000,
		999_999_999, time.Second, 1500 * time.Millisecond, 59*time.Second + 999_999_999, time.Hour} {
		if got, want := wholeSeconds(base, base.Add(d)), int(base.Add(d).Sub(base)/time.Second); got != want {
			t.Errorf("wholeSeconds(+%v) = %d, want %d", d, got, want)
		}
	}
}

// TestStreamHotLines: the fields AddRTP reads or writes for every packet
// lie in six cache lines of a Stream as a Table allocates it (the runtime
// puts a header before an object this size with pointers, so the lines
// are counted from the object's real address), where they were spread
// over seven before the struct was ordered for it.
func TestStreamHotLines(t *testing.T) {
	hot := []string{"Key", "PayloadType", "First", "Last", "LastN", "Packets", "PayloadBytes",
		"MaxDelta", "MaxPause", "JitterMean", "JitterMax", "Series", "cache", "cached", "mainSet", "mainWeak",
		"seenPT", "maxSeq", "badSeq", "cycles", "baseSeq", "received", "prevExpected", "prevReceived",
		"bucket", "bucketExp", "bucketRecv", "hist", "lastTS", "ptimeTS", "wsStartSeq", "wsStopSeq",
		"wsFirstTS", "wsPrevPT", "wsUnder", "wsTime", "wsNominal", "wsJitter", "wsFirstNs", "wsPrevNs"}
	ty := reflect.TypeOf(Stream{})
	tb := NewTable()
	pkt := []byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xd5, 0xd5}
	for ssrc := range byte(3) { // three streams, in case one lands apart
		pkt[11] = ssrc
		s, err := tb.AddRTP(1, time.Unix(0, 0), netip.MustParseAddrPort("192.0.2.1:4000"), netip.MustParseAddrPort("192.0.2.2:5000"), pkt)
		if err != nil {
			t.Fatal(err)
		}
		base := uintptr(unsafe.Pointer(s))
		lines := map[uintptr]bool{}
		for _, name := range hot {
			f, ok := ty.FieldByName(name)
			if !ok {
				t.Fatalf("Stream has no field %s", name)
			}
			start, end := f.Offset, f.Offset+f.Type.Size()
			switch name {
			case "Key": // only its SSRC, the last field
				k, _ := f.Type.FieldByName("SSRC")
				start = f.Offset + k.Offset
			case "Series": // only its length
				start, end = f.Offset+8, f.Offset+16
			}
			for a := (base + start) &^ 63; a < base+end; a += 64 {
				lines[a] = true
			}
		}
		if len(lines) > 6 {
			t.Errorf("a packet touches %d cache lines of its Stream (at %d mod 64), want 6", len(lines), base%64)
		}
	}
}
