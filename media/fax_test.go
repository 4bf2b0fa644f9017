package media

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// IFP packets as T.38 version 0 encodes them.
func ifpInd(v byte) []byte { return []byte{v << 1} }

// ifpHDLC is V.21 HDLC data, then (with end) hdlc-fcs-OK, or -BAD with bad.
func ifpHDLC(data []byte, end, bad bool) []byte {
	n := byte(1)
	if end {
		n = 2
	}
	b := append([]byte{0xc0, n, 0x80, 0, byte(len(data) - 1)}, data...)
	switch {
	case end && bad:
		b = append(b, 0x30)
	case end:
		b = append(b, 0x20)
	}
	return b
}

func ifpFrame(fcf byte) []byte { return ifpHDLC([]byte{0xff, 0xc8, fcf}, true, false) }

func ifpPage(line []byte) []byte {
	return append([]byte{0xc8, 1, 0xe0, 0, byte(len(line) - 1)}, line...)
}

// udptlPacket is packet seq of ifps with up to depth secondaries.
func udptlPacket(ifps [][]byte, seq, depth int) []byte {
	b := []byte{byte(seq >> 8), byte(seq), byte(len(ifps[seq]))}
	b = append(b, ifps[seq]...)
	k := min(depth, seq)
	b = append(b, 0, byte(k))
	for i := 1; i <= k; i++ {
		b = append(b, byte(len(ifps[seq-i])))
		b = append(b, ifps[seq-i]...)
	}
	return b
}

// sendFax feeds the packets of ifps in order (a seq listed in drop is
// lost; late moves a seq to after the one given), 30 ms apart.
func sendFax(t *testing.T, ifps [][]byte, depth int, drop []int, late map[int]int) *Stream {
	t.Helper()
	tb := NewTable()
	src, dst := netip.MustParseAddrPort("10.0.0.1:4002"), netip.MustParseAddrPort("10.0.0.2:5002")
	var order []int
	for i := range ifps {
		skip := false
		for _, d := range drop {
			skip = skip || d == i
		}
		if _, ok := late[i]; ok || skip {
			continue
		}
		order = append(order, i)
		for l, after := range late {
			if after == i {
				order = append(order, l)
			}
		}
	}
	var s *Stream
	for k, seq := range order {
		var err error
		if s, err = tb.AddUDPTL(k+1, msAfter(float64(30*k)), src, dst, udptlPacket(ifps, seq, depth), 0); err != nil {
			t.Fatal(err)
		}
	}
	tb.Finish()
	return s
}

func frameNames(f *Fax) string {
	var n []string
	for _, fr := range f.Frames {
		name := fr.Name
		if fr.FCSBad {
			name += "(bad)"
		}
		n = append(n, name)
	}
	return strings.Join(n, " ")
}

func TestFaxStream(t *testing.T) {
	// The called fax's side of a short session: CED, DIS (its frame in two
	// IFP packets), CFR, MCF, DCN.
	callee := [][]byte{ifpInd(2), ifpInd(2), ifpInd(2), ifpInd(3),
		ifpHDLC([]byte{0xff, 0xc8}, false, false), ifpHDLC([]byte{0x01, 0x00, 0x46}, true, false), // 4, 5: DIS
		ifpInd(0), ifpInd(3), ifpFrame(0x21), ifpInd(0), ifpInd(3), ifpFrame(0x31), ifpFrame(0xdf), ifpInd(0)}
	tests := []struct {
		name       string
		ifps       [][]byte
		depth      int
		drop       []int
		late       map[int]int
		frames     string
		lost, rec  int
		unrecov    int
		signals    string
		packets    int
		badIFP     int
		pageBytes  int
		outOfOrder int
	}{
		{name: "clean", ifps: callee, depth: 2, frames: "DIS CFR MCF DCN", packets: 14,
			signals: "CED, V.21 preamble, V.21 data, V.21 preamble, V.21 data, V.21 preamble, V.21 data"},
		{name: "a packet of DIS lost, its redundancy makes it good", ifps: callee, depth: 2, drop: []int{4},
			frames: "DIS CFR MCF DCN", lost: 1, rec: 1, packets: 13},
		{name: "three lost, two made good, DIS broken", ifps: callee, depth: 2, drop: []int{3, 4, 5},
			frames: "CFR MCF DCN", lost: 3, rec: 2, unrecov: 1, packets: 11},
		{name: "no redundancy: the loss stays", ifps: callee, depth: 0, drop: []int{8},
			frames: "DIS MCF DCN", lost: 1, unrecov: 1, packets: 13},
		{name: "late after its redundancy came", ifps: callee, depth: 2, late: map[int]int{8: 9},
			frames: "DIS CFR MCF DCN", packets: 14, outOfOrder: 1},
		{name: "late after a gap", ifps: callee, depth: 0, late: map[int]int{8: 10},
			frames: "DIS MCF DCN", packets: 14, outOfOrder: 1},
		{name: "FCS bad", ifps: [][]byte{ifpInd(3), ifpHDLC([]byte{0xff, 0xc8, 0x41, 0}, true, true), ifpFrame(0x41)},
			depth: 1, frames: "DCS(bad) DCS", packets: 3},
		{name: "signal end inside a frame", ifps: [][]byte{ifpHDLC([]byte{0xff, 0xc8}, false, false), {0xc0, 1, 0x10}, ifpFrame(0x5f)},
			depth: 1, frames: "DCN", packets: 3},
		{name: "page data and a bad IFP", ifps: [][]byte{ifpInd(7), ifpPage([]byte{1, 2, 3, 4}), ifpPage([]byte{5, 6}), {0xc0, 9}},
			depth: 2, frames: "", packets: 4, badIFP: 1, pageBytes: 6, signals: "V.29 9600 training, V.29 9600 data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sendFax(t, tt.ifps, tt.depth, tt.drop, tt.late)
			f := s.Fax
			if f == nil || s.Codec != "T.38" || s.Key.SSRC != 0 {
				t.Fatalf("not a T.38 stream: %+v", s)
			}
			if got := frameNames(f); got != tt.frames {
				t.Errorf("frames %q, want %q", got, tt.frames)
			}
			if s.Packets != tt.packets || s.Lost != tt.lost || f.Recovered != tt.rec || f.Unrecovered != tt.unrecov {
				t.Errorf("packets %d lost %d recovered %d unrecovered %d, want %d %d %d %d",
					s.Packets, s.Lost, f.Recovered, f.Unrecovered, tt.packets, tt.lost, tt.rec, tt.unrecov)
			}
			if s.LostRaw != s.Lost || s.MOS != 0 || s.OutOfOrder != tt.outOfOrder {
				t.Errorf("LostRaw %d, MOS %v, out of order %d (want %d)", s.LostRaw, s.MOS, s.OutOfOrder, tt.outOfOrder)
			}
			if f.BadIFP != tt.badIFP || f.PageBytes != tt.pageBytes {
				t.Errorf("bad IFP %d page bytes %d, want %d %d", f.BadIFP, f.PageBytes, tt.badIFP, tt.pageBytes)
			}
			if tt.signals != "" {
				var sig []string
				for _, x := range f.Signals {
					sig = append(sig, x.Name)
				}
				if got := strings.Join(sig, ", "); got != tt.signals {
					t.Errorf("signals %q, want %q", got, tt.signals)
				}
			}
		})
	}
}

// TestFaxFrameAt: a frame is stamped with the packet of its last part,
// and the FCF is kept with its X bit.
func TestFaxFrameAt(t *testing.T) {
	s := sendFax(t, [][]byte{ifpInd(3), ifpHDLC([]byte{0xff, 0xc8}, false, false), ifpHDLC([]byte{0xc1, 0, 0x46}, true, false)}, 2, nil, nil)
	fr := s.Fax.Frames
	if len(fr) != 1 || fr[0].N != 3 || fr[0].FCF != 0xc1 || fr[0].Name != "DCS" || fr[0].Len != 5 || !fr[0].At.Equal(msAfter(60)) {
		t.Errorf("%+v", fr)
	}
}

// TestFaxLimits: a stream that never stops sending frames keeps
// MaxFaxEvents and counts the rest; signals repeated count once.
func TestFaxLimits(t *testing.T) {
	var ifps [][]byte
	for i := range MaxFaxEvents + 10 {
		ifps = append(ifps, ifpInd(byte(1+i%2)), ifpFrame(0x31))
	}
	s := sendFax(t, ifps, 1, nil, nil)
	f := s.Fax
	if len(f.Frames) != MaxFaxEvents || len(f.Signals) != MaxFaxEvents || f.Dropped != 2*(MaxFaxEvents+10)-MaxFaxEvents+10 {
		t.Errorf("%d frames, %d signals, %d dropped", len(f.Frames), len(f.Signals), f.Dropped)
	}
}

// TestFaxFEC: FEC packets count loss as RTP does; what FEC may have
// rebuilt is not counted either way, only that the gap went unread.
func TestFaxFEC(t *testing.T) {
	tb := NewTable()
	src, dst := netip.MustParseAddrPort("10.0.0.1:4002"), netip.MustParseAddrPort("10.0.0.2:5002")
	for i, seq := range []int{0, 1, 3} {
		p := []byte{0, byte(seq), 1, 0x04, 0x80, 1, 1, 0}
		if _, err := tb.AddUDPTL(i+1, msAfter(float64(30*i)), src, dst, p, 0); err != nil {
			t.Fatal(err)
		}
	}
	tb.Finish()
	s := tb.Streams()[0]
	if !s.Fax.FEC || s.Lost != 1 || s.Fax.Recovered != 0 || s.Fax.Unrecovered != 0 || s.Fax.Unread != 1 {
		t.Errorf("FEC %v lost %d recovered %d unrecovered %d unread %d", s.Fax.FEC, s.Lost, s.Fax.Recovered, s.Fax.Unrecovered, s.Fax.Unread)
	}
}

// TestFaxTableApart: a T.38 stream and an RTP stream with SSRC 0 on the
// same addresses are two streams; a datagram that is not UDPTL is an
// error and makes none.
func TestFaxTableApart(t *testing.T) {
	tb := NewTable()
	src, dst := netip.MustParseAddrPort("10.0.0.1:4002"), netip.MustParseAddrPort("10.0.0.2:5002")
	if _, err := tb.AddRTP(1, msAfter(0), src, dst, rtpBytes(pkt{seq: 1, pt: 8}, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.AddUDPTL(2, msAfter(20), src, dst, []byte{0, 1, 1, 4, 0, 0}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.AddUDPTL(3, msAfter(40), src, dst, []byte{0, 1, 1}, 0); err == nil {
		t.Error("a bad datagram was taken")
	}
	ss := tb.Streams()
	if len(ss) != 2 || ss[0].Fax != nil || ss[1].Fax == nil || ss[1].Packets != 1 {
		t.Errorf("%d streams: %v", len(ss), fmt.Sprint(ss[0].Fax, ss[len(ss)-1].Fax))
	}
}

func BenchmarkAddUDPTL(b *testing.B) {
	ifps := make([][]byte, 4096)
	for i := range ifps {
		ifps[i] = ifpPage(make([]byte, 32))
	}
	pkts := make([][]byte, len(ifps))
	size := 0
	for i := range ifps {
		pkts[i] = udptlPacket(ifps, i, 2)
		size += len(pkts[i])
	}
	src, dst := netip.MustParseAddrPort("10.0.0.1:4002"), netip.MustParseAddrPort("10.0.0.2:5002")
	b.SetBytes(int64(size / len(pkts)))
	b.ReportAllocs()
	tb := NewTable()
	i := 0
	for b.Loop() {
		if _, err := tb.AddUDPTL(i, msAfter(float64(i)), src, dst, pkts[i%len(pkts)], 0); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestFaxStrays: a copy of an old packet, 99 behind (the farthest still
// late) or 150 behind (a stray), changes no count and reads nothing
// again; two packets in a row far off are a restart, read from there.
func TestFaxStrays(t *testing.T) {
	src, dst := netip.MustParseAddrPort("10.0.0.1:4002"), netip.MustParseAddrPort("10.0.0.2:5002")
	var ifps [][]byte
	for i := range 300 {
		if i%20 == 0 {
			ifps = append(ifps, ifpInd(3), ifpFrame(0x31))
		} else {
			ifps = append(ifps, ifpInd(0))
		}
	}
	for _, tt := range []struct {
		name    string
		order   []int // sequence numbers in arrival order
		depth   int   // redundancy
		unrecov int
		unread  int
		frames  int
		resets  int
	}{
		{"a copy 99 behind", append(seqs(0, 200), 100, 200), 2, 0, 0, 10, 0},
		{"a gap filled 99 behind", append(append(seqs(0, 100), seqs(101, 200)...), 100), 0, 0, 1, 10, 0},
		{"a stray 150 behind", append(seqs(0, 200), 50, 200), 2, 0, 0, 10, 0},
		{"a restart", append(seqs(0, 200), seqs(2, 40)...), 2, 0, 0, 11, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tb := NewTable()
			for k, seq := range tt.order {
				if _, err := tb.AddUDPTL(k+1, msAfter(float64(20*k)), src, dst, udptlPacket(ifps, seq, tt.depth), 0); err != nil {
					t.Fatal(err)
				}
			}
			tb.Finish()
			s := tb.Streams()[0]
			f := s.Fax
			if f.Unrecovered != tt.unrecov || f.Recovered != 0 || f.Unread != tt.unread || len(f.Frames) != tt.frames || s.SeqResets != tt.resets {
				t.Errorf("unrecovered %d recovered %d unread %d frames %d resets %d, want %d 0 %d %d %d",
					f.Unrecovered, f.Recovered, f.Unread, len(f.Frames), s.SeqResets, tt.unrecov, tt.unread, tt.frames, tt.resets)
			}
		})
	}
}

// seqs is from, from+1, ..., to−1.
func seqs(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestFaxFramesFromTheirStart: a stream seen from the middle of a frame,
// or a frame whose address and control are not T.30's, gives no frame;
// a gap filled late still counts as unread.
func TestFaxFramesFromTheirStart(t *testing.T) {
	// The stream's first IFP packet ends a frame whose start is not seen:
	// its bytes even look like an FTT.
	tail := ifpHDLC([]byte{0xff, 0xc8, 0x22}, true, false)
	s := sendFax(t, [][]byte{tail, ifpInd(3), ifpHDLC([]byte{0x7e, 0xc8, 0x41}, true, false), ifpFrame(0x5f)}, 2, nil, nil)
	if got := frameNames(s.Fax); got != "DCN" {
		t.Errorf("frames %q, want DCN alone", got)
	}
	s = sendFax(t, [][]byte{ifpInd(3), ifpInd(0), ifpFrame(0x21), ifpInd(0), ifpFrame(0x31)}, 0, nil, map[int]int{2: 3})
	if s.Fax.Unread != 1 || s.Fax.Unrecovered != 0 || frameNames(s.Fax) != "MCF" {
		t.Errorf("unread %d unrecovered %d frames %q, want 1 0 MCF", s.Fax.Unread, s.Fax.Unrecovered, frameNames(s.Fax))
	}
}

func TestJoinRuns(t *testing.T) {
	for _, tt := range []struct {
		names []string
		limit int
		want  string
	}{
		{nil, 4, ""},
		{[]string{"DIS", "DCS", "FTT", "FTT", "FTT", "DCN"}, 4, "DIS DCS FTT ×3 DCN"},
		{[]string{"DIS", "DCS", "FTT", "FTT", "DCN"}, 2, "DIS DCS … (3 more)"},
	} {
		if got := JoinRuns(tt.names, tt.limit); got != tt.want {
			t.Errorf("JoinRuns(%q, %d) = %q, want %q", tt.names, tt.limit, got, tt.want)
		}
	}
}
