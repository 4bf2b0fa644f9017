package decode

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// udptlBytes builds a UDPTL packet with redundancy: seq, the primary IFP,
// the secondaries (Seq−1 first).
func udptlBytes(seq uint16, primary []byte, secondaries ...[]byte) []byte {
	b := []byte{byte(seq >> 8), byte(seq)}
	b = perAppend(b, primary)
	b = append(b, 0)
	b = perLen(b, len(secondaries))
	for _, s := range secondaries {
		b = perAppend(b, s)
	}
	return b
}

func perLen(b []byte, n int) []byte {
	if n < 128 {
		return append(b, byte(n))
	}
	return append(b, 0x80|byte(n>>8), byte(n))
}

func perAppend(b, v []byte) []byte { return append(perLen(b, len(v)), v...) }

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func TestParseUDPTL(t *testing.T) {
	long := bytes.Repeat([]byte{0xc8}, 200) // a 2-byte length determinant
	tests := []struct {
		name string
		in   []byte
		seq  uint16
		prim string // hex
		secs []string
		fec  int // FECPackets, -1 for redundancy
		err  string
	}{
		{"indicator, no redundancy", udptlBytes(7, []byte{0x04}), 7, "04", nil, -1, ""},
		{"two secondaries", udptlBytes(0x1234, []byte{0x06}, []byte{0x04}, []byte{0x02}), 0x1234, "06", []string{"04", "02"}, -1, ""},
		{"a long primary", udptlBytes(1, long), 1, hex.EncodeToString(long), nil, -1, ""},
		{"FEC", mustHex("0005 01 02 80 01 03 02 01 aa 02 bb cc"), 5, "02", nil, 3, ""},
		{"too short", []byte{0, 1, 1}, 0, "", nil, 0, "3 bytes, too short"},
		{"primary past the end", mustHex("0001 05 0102"), 0, "", nil, 0, "primary IFP packet: 5 bytes at byte 3, only 2 left"},
		{"empty primary", mustHex("0001 00 00 00"), 0, "", nil, 0, "empty primary IFP packet at byte 2"},
		{"no error recovery", mustHex("0001 01 02"), 0, "", nil, 0, "no error-recovery field at byte 4"},
		{"bad recovery choice", mustHex("0001 01 02 40 00"), 0, "", nil, 0, "error-recovery choice byte 0x40 at byte 4"},
		{"secondary past the end", mustHex("0001 01 02 00 02 01 04 03 0506"), 0, "", nil, 0, "secondary IFP packet 1: 3 bytes at byte 9, only 2 left"},
		{"left over", mustHex("0001 01 02 00 00 ff"), 0, "", nil, 0, "1 bytes left over at byte 6"},
		{"fragmented length", mustHex("0001 c1 02 00 00"), 0, "", nil, 0, "fragmented length 0xc1 at byte 2"},
		{"bad fec-npackets", mustHex("0001 01 02 80 00 00"), 0, "", nil, 0, "fec-npackets at byte 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u UDPTL
			err := ParseUDPTL(tt.in, &u)
			if tt.err != "" {
				if err == nil || !errors.Is(err, ErrBadUDPTL) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				if LooksLikeUDPTL(tt.in, new(UDPTL)) {
					t.Error("LooksLikeUDPTL says yes")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !LooksLikeUDPTL(tt.in, new(UDPTL)) {
				t.Error("LooksLikeUDPTL says no")
			}
			if u.Seq != tt.seq || hex.EncodeToString(u.Primary) != tt.prim {
				t.Errorf("seq %d primary %x, want %d %s", u.Seq, u.Primary, tt.seq, tt.prim)
			}
			if tt.fec >= 0 {
				if !u.FEC || u.FECPackets != tt.fec {
					t.Errorf("FEC %v %d, want %d", u.FEC, u.FECPackets, tt.fec)
				}
				return
			}
			if u.FEC || u.Secondaries != len(tt.secs) {
				t.Fatalf("FEC %v, %d secondaries, want %d", u.FEC, u.Secondaries, len(tt.secs))
			}
			for i, s := range tt.secs {
				if hex.EncodeToString(u.Secondary[i]) != s {
					t.Errorf("secondary %d %x, want %s", i, u.Secondary[i], s)
				}
			}
		})
	}
}

// TestLooksLikeUDPTLAllocates: the test every datagram that is not RTP
// meets allocates nothing, whether it says yes or no.
func TestLooksLikeUDPTLAllocates(t *testing.T) {
	var u UDPTL
	for _, b := range [][]byte{udptlBytes(7, []byte{0x04}, []byte{0x02}), mustHex("0001 05 0102"), []byte("STUN or DNS or anything")} {
		if n := testing.AllocsPerRun(100, func() { LooksLikeUDPTL(b, &u) }); n != 0 {
			t.Errorf("%x: %v allocations", b, n)
		}
	}
}

// TestParseUDPTLManySecondaries: a packet with more secondaries than
// MaxSecondary keeps the first ones (the nearest) and counts them all.
func TestParseUDPTLManySecondaries(t *testing.T) {
	var secs [][]byte
	for i := range MaxSecondary + 4 {
		secs = append(secs, []byte{byte(i << 1)})
	}
	var u UDPTL
	if err := ParseUDPTL(udptlBytes(100, []byte{0x02}, secs...), &u); err != nil {
		t.Fatal(err)
	}
	if u.Secondaries != MaxSecondary+4 || u.Secondary[MaxSecondary-1][0] != byte((MaxSecondary-1)<<1) {
		t.Errorf("%d secondaries, the last kept %x", u.Secondaries, u.Secondary[MaxSecondary-1])
	}
}

func TestParseIFP(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		version int
		want    string // "ind NAME" or "data NAME: type:hex type:hex"
		err     string
	}{
		{"CED", "04", 0, "ind CED", ""},
		{"no signal", "00", 0, "ind no signal", ""},
		{"V.21 preamble", "06", 3, "ind V.21 preamble", ""},
		{"V.8 ANSam (extension)", "20 00", 2, "ind V.8 ANSam", ""},
		{"V.33 14400 training (extension)", "21 80", 2, "ind V.33 14400 training", ""},
		{"HDLC data and FCS OK, version 0", "c0 02 80 0002 ffc841 20", 0, "data V.21: 0:ffc841 2:", ""},
		{"the same, version 2 (extensible field type)", "c0 02 80 0002 ffc841 10", 2, "data V.21: 0:ffc841 2:", ""},
		{"OK and signal end, version 0", "c0 01 40", 0, "data V.21: 4:", ""},
		{"OK and signal end, version 3", "c0 01 20", 3, "data V.21: 4:", ""},
		{"page data, V.29 9600", "c8 01 e0 0003 00010203", 0, "data V.29 9600: 6:00010203", ""},
		{"page data, version 2", "c8 01 b0 0001 0001", 2, "data V.29 9600: 6:0001", ""},
		{"V.34 cm-message (extension field)", "c0 01 c0 00 0001 aabb", 3, "data V.21: 8:aabb", ""},
		{"V.34 jm-message (extension field 1)", "c0 01 c0 80 0000 cc", 3, "data V.21: 9:cc", ""},
		{"V.34 v34rate (extension field 3)", "c0 01 c1 80 0000 dd", 3, "data V.21: ;:dd", ""},
		{"empty", "", 0, "", "empty IFP packet"},
		{"indicator with bytes after", "04 00", 0, "", "1 bytes left over at byte 1"},
		{"extension cut", "20", 0, "", "IFP extension type: end of packet"},
		{"field count missing", "c0", 0, "", "IFP field count: length at byte 1: end of packet"},
		{"field missing", "c0 02 20", 0, "", "IFP field 1 at byte 3: end of packet"},
		{"field data past the end", "c0 01 80 0005 ffc8", 0, "", "IFP field 0: 6 bytes at byte 5, only 2 left"},
		{"field length cut", "c0 01 80 00", 0, "", "IFP field 0 length at byte 3: end of packet"},
		{"left over after fields", "c0 01 20 ff", 0, "", "1 bytes left over at byte 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f IFP
			err := ParseIFP(mustHex(tt.in), tt.version, &f)
			if tt.err != "" {
				if err == nil || !errors.Is(err, ErrBadUDPTL) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := "ind " + T38IndicatorName(f.Type)
			if f.Data {
				got = "data " + T38DataName(f.Type) + ":"
				for _, fd := range f.Fields[:f.NFields] {
					got += " " + string(rune('0'+fd.Type)) + ":" + hex.EncodeToString(fd.Data)
				}
			}
			if got != tt.want {
				t.Errorf("%q, want %q", got, tt.want)
			}
		})
	}
}

func TestT30Name(t *testing.T) {
	for fcf, want := range map[byte]string{
		0x01: "DIS", 0x81: "DTC", 0x02: "CSI", 0x82: "CIG", 0x04: "NSF", 0x84: "NSC",
		0x41: "DCS", 0xc1: "DCS", 0x21: "CFR", 0xa1: "CFR", 0x22: "FTT", 0x31: "MCF", 0x32: "RTN",
		0x74: "EOP", 0xf4: "EOP", 0x72: "MPS", 0x5f: "DCN", 0xdf: "DCN", 0x7d: "PPS", 0x3d: "PPR",
		0x00: "", 0x7f: "",
	} {
		if got := T30Name(fcf); got != want {
			t.Errorf("T30Name(%#02x) = %q, want %q", fcf, got, want)
		}
	}
}

func BenchmarkParseUDPTL(b *testing.B) {
	pkt := udptlBytes(42, mustHex("c8 01 e0 001f"+strings.Repeat("00", 32)), mustHex("c8 01 e0 001f"+strings.Repeat("11", 32)), mustHex("c8 01 e0 001f"+strings.Repeat("22", 32)))
	var u UDPTL
	var f IFP
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseUDPTL(pkt, &u); err != nil {
			b.Fatal(err)
		}
		if err := ParseIFP(u.Primary, 0, &f); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseUDPTL checks that ParseUDPTL and ParseIFP never panic or write
// to their input, that what they return are views of it, and that
// LooksLikeUDPTL agrees with ParseUDPTL.
func FuzzParseUDPTL(f *testing.F) {
	f.Add(udptlBytes(7, []byte{0x04}))
	f.Add(udptlBytes(9, mustHex("c0 02 80 0002 ffc841 20"), mustHex("06"), mustHex("04")))
	f.Add(mustHex("0005 01 02 80 01 03 02 01 aa 02 bb cc"))
	f.Add(udptlBytes(1, mustHex("c0 01 c0 00 0001 aabb")))
	f.Add(udptlBytes(2, mustHex("21 80")))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 300 {
			// 300 bytes reach every path (two-byte lengths start at 128,
			// more than MaxSecondary secondaries fit in 40). Longer inputs
			// only slowed the engine: minimizing each new one took the
			// rest of CI's 10 s, with no input run meanwhile (35,000 a
			// second with the cap, none after the fifth second without).
			return
		}
		keep := bytes.Clone(in)
		var u UDPTL
		err := ParseUDPTL(in, &u)
		if !bytes.Equal(in, keep) {
			t.Fatal("ParseUDPTL wrote to its input")
		}
		if LooksLikeUDPTL(in, new(UDPTL)) != (err == nil) {
			t.Fatalf("LooksLikeUDPTL %v, ParseUDPTL %v", !(err == nil), err)
		}
		if err != nil {
			if !errors.Is(err, ErrBadUDPTL) {
				t.Fatalf("error %v does not wrap ErrBadUDPTL", err)
			}
			return
		}
		if len(u.Primary) == 0 || !inside(in, u.Primary) {
			t.Fatalf("primary %x is not a view of the input", u.Primary)
		}
		if u.FEC && u.Secondaries != 0 {
			t.Fatalf("FEC with %d secondaries", u.Secondaries)
		}
		ifps := [][]byte{u.Primary}
		for _, s := range u.Secondary[:min(u.Secondaries, MaxSecondary)] {
			if len(s) > 0 && !inside(in, s) {
				t.Fatalf("secondary %x is not a view of the input", s)
			}
			ifps = append(ifps, s)
		}
		for _, b := range ifps {
			for _, v := range []int{0, 2} {
				var p IFP
				if err := ParseIFP(b, v, &p); err != nil {
					if !errors.Is(err, ErrBadUDPTL) {
						t.Fatalf("error %v does not wrap ErrBadUDPTL", err)
					}
					continue
				}
				for _, fd := range p.Fields[:min(p.NFields, MaxIFPFields)] {
					if len(fd.Data) > 0 && !inside(b, fd.Data) {
						t.Fatalf("field data %x is not a view of the IFP", fd.Data)
					}
				}
			}
		}
		if !bytes.Equal(in, keep) {
			t.Fatal("ParseIFP wrote to its input")
		}
	})
}

// FuzzUDPTLRoundTrip builds packets with redundancy from fuzzed parts and
// checks that ParseUDPTL gives the parts back.
func FuzzUDPTLRoundTrip(f *testing.F) {
	f.Add(uint16(3), []byte{0x04}, []byte{0x06}, []byte{0x02}, uint8(2))
	f.Add(uint16(65535), bytes.Repeat([]byte{1}, 300), []byte{}, []byte{9}, uint8(20))
	f.Fuzz(func(t *testing.T, seq uint16, primary, s1, s2 []byte, n uint8) {
		if len(primary) == 0 || len(primary) >= 1<<14 || len(s1) >= 1<<14 || len(s2) >= 1<<14 {
			return
		}
		var secs [][]byte
		for i := range int(n % 40) {
			secs = append(secs, [][]byte{s1, s2}[i%2])
		}
		var u UDPTL
		if err := ParseUDPTL(udptlBytes(seq, primary, secs...), &u); err != nil {
			t.Fatal(err)
		}
		if u.Seq != seq || !bytes.Equal(u.Primary, primary) || u.FEC || u.Secondaries != len(secs) {
			t.Fatalf("got seq %d primary %x FEC %v %d secondaries", u.Seq, u.Primary, u.FEC, u.Secondaries)
		}
		for i, s := range secs[:min(len(secs), MaxSecondary)] {
			if !bytes.Equal(u.Secondary[i], s) {
				t.Fatalf("secondary %d %x, want %x", i, u.Secondary[i], s)
			}
		}
	})
}
