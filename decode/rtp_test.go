package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// rtpPacket builds an RTP packet: a fixed header, the CSRCs, an optional
// header extension (ext != nil) and the payload, then pad bytes of padding.
func rtpPacket(marker bool, pt uint8, seq uint16, ts, ssrc uint32, csrcs []uint32, extProfile uint16, ext []byte, payload []byte, pad int) []byte {
	b0 := byte(0x80 | len(csrcs))
	if ext != nil {
		b0 |= 0x10
	}
	if pad > 0 {
		b0 |= 0x20
	}
	b1 := pt
	if marker {
		b1 |= 0x80
	}
	b := []byte{b0, b1}
	b = binary.BigEndian.AppendUint16(b, seq)
	b = binary.BigEndian.AppendUint32(b, ts)
	b = binary.BigEndian.AppendUint32(b, ssrc)
	for _, c := range csrcs {
		b = binary.BigEndian.AppendUint32(b, c)
	}
	if ext != nil {
		b = binary.BigEndian.AppendUint16(b, extProfile)
		b = binary.BigEndian.AppendUint16(b, uint16(len(ext)/4))
		b = append(b, ext...)
	}
	b = append(b, payload...)
	if pad > 0 {
		b = append(b, make([]byte, pad-1)...)
		b = append(b, byte(pad))
	}
	return b
}

func TestParseRTP(t *testing.T) {
	pcmu := bytes.Repeat([]byte{0xff}, 160)
	tests := []struct {
		name string
		in   []byte
		want RTP
		csrc []uint32
	}{
		{
			name: "PCMU",
			in:   rtpPacket(false, 0, 4711, 160000, 0xdeadbeef, nil, 0, nil, pcmu, 0),
			want: RTP{Version: 2, PayloadType: 0, Seq: 4711, Timestamp: 160000, SSRC: 0xdeadbeef, Payload: pcmu},
		},
		{
			name: "marker and dynamic type",
			in:   rtpPacket(true, 101, 65535, 0xffffffff, 1, nil, 0, nil, []byte{1, 0x8a, 0, 160}, 0),
			want: RTP{Version: 2, Marker: true, PayloadType: 101, Seq: 65535, Timestamp: 0xffffffff, SSRC: 1, Payload: []byte{1, 0x8a, 0, 160}},
		},
		{
			name: "two CSRCs",
			in:   rtpPacket(false, 8, 1, 2, 3, []uint32{0x11111111, 0x22222222}, 0, nil, []byte("abc"), 0),
			want: RTP{Version: 2, CSRCCount: 2, PayloadType: 8, Seq: 1, Timestamp: 2, SSRC: 3, Payload: []byte("abc")},
			csrc: []uint32{0x11111111, 0x22222222},
		},
		{
			name: "header extension",
			in:   rtpPacket(false, 96, 1, 2, 3, nil, 0xbede, []byte{0x10, 0xaa, 0, 0, 1, 2, 3, 4}, []byte("abc"), 0),
			want: RTP{Version: 2, Extension: true, PayloadType: 96, Seq: 1, Timestamp: 2, SSRC: 3,
				ExtensionProfile: 0xbede, ExtensionData: []byte{0x10, 0xaa, 0, 0, 1, 2, 3, 4}, Payload: []byte("abc")},
		},
		{
			name: "empty extension",
			in:   rtpPacket(false, 96, 1, 2, 3, nil, 0x1000, []byte{}, []byte("abc"), 0),
			want: RTP{Version: 2, Extension: true, PayloadType: 96, Seq: 1, Timestamp: 2, SSRC: 3,
				ExtensionProfile: 0x1000, ExtensionData: []byte{}, Payload: []byte("abc")},
		},
		{
			name: "padding",
			in:   rtpPacket(false, 0, 1, 2, 3, nil, 0, nil, []byte("abcde"), 3),
			want: RTP{Version: 2, Padding: true, Seq: 1, Timestamp: 2, SSRC: 3, PaddingLen: 3, Payload: []byte("abcde")},
		},
		{
			name: "padding is the whole payload",
			in:   rtpPacket(false, 0, 1, 2, 3, nil, 0, nil, nil, 4),
			want: RTP{Version: 2, Padding: true, Seq: 1, Timestamp: 2, SSRC: 3, PaddingLen: 4, Payload: []byte{}},
		},
		{
			name: "CSRC, extension and padding together",
			in:   rtpPacket(true, 9, 7, 8, 9, []uint32{5}, 0xbede, []byte{0, 0, 0, 0}, []byte("g722"), 1),
			want: RTP{Version: 2, Padding: true, Extension: true, Marker: true, CSRCCount: 1, PayloadType: 9, Seq: 7, Timestamp: 8, SSRC: 9,
				ExtensionProfile: 0xbede, ExtensionData: []byte{0, 0, 0, 0}, PaddingLen: 1, Payload: []byte("g722")},
			csrc: []uint32{5},
		},
		{
			name: "header only",
			in:   rtpPacket(false, 13, 1, 2, 3, nil, 0, nil, nil, 0),
			want: RTP{Version: 2, PayloadType: 13, Seq: 1, Timestamp: 2, SSRC: 3, Payload: []byte{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p RTP
			if err := ParseRTP(tt.in, &p); err != nil {
				t.Fatalf("ParseRTP: %v", err)
			}
			got := fmt.Sprintf("%v %v %v %v %d %d %d %d %#x %#x %d",
				p.Version, p.Padding, p.Extension, p.Marker, p.CSRCCount, p.PayloadType, p.Seq, p.Timestamp, p.SSRC, p.ExtensionProfile, p.PaddingLen)
			w := tt.want
			want := fmt.Sprintf("%v %v %v %v %d %d %d %d %#x %#x %d",
				w.Version, w.Padding, w.Extension, w.Marker, w.CSRCCount, w.PayloadType, w.Seq, w.Timestamp, w.SSRC, w.ExtensionProfile, w.PaddingLen)
			if got != want {
				t.Errorf("header\n got %s\nwant %s", got, want)
			}
			if !bytes.Equal(p.Payload, w.Payload) || p.Payload == nil {
				t.Errorf("Payload = %q, want %q", p.Payload, w.Payload)
			}
			if !bytes.Equal(p.ExtensionData, w.ExtensionData) || (p.ExtensionData == nil) != (w.ExtensionData == nil) {
				t.Errorf("ExtensionData = %v, want %v", p.ExtensionData, w.ExtensionData)
			}
			if len(p.CSRC) != 4*p.CSRCCount {
				t.Errorf("len(CSRC) = %d for CSRCCount %d", len(p.CSRC), p.CSRCCount)
			}
			for i, c := range tt.csrc {
				if got := p.CSRCAt(i); got != c {
					t.Errorf("CSRCAt(%d) = %#x, want %#x", i, got, c)
				}
			}
			for _, v := range [][]byte{p.Payload, p.ExtensionData, p.CSRC} {
				if !hepInside(tt.in, v) {
					t.Errorf("a view is not inside the input")
				}
			}
		})
	}
}

func TestParseRTPErrors(t *testing.T) {
	good := rtpPacket(false, 0, 1, 2, 3, nil, 0, nil, []byte("abcd"), 0)
	set := func(b []byte, i int, v byte) []byte {
		b = append([]byte{}, b...)
		b[i] = v
		return b
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"short", good[:11]},
		{"version 0", set(good, 0, 0x00)},
		{"version 1", set(good, 0, 0x40)},
		{"version 3", set(good, 0, 0xc0)},
		{"CSRC overrun", set(good, 0, 0x82)},
		{"extension header overrun", set(good[:12], 0, 0x90)},
		{"extension body overrun", set(set(good, 0, 0x90), 15, 2)},
		{"padding count zero", set(set(good, 0, 0xa0), len(good)-1, 0)},
		{"padding beyond payload", set(set(good, 0, 0xa0), len(good)-1, 5)},
		{"padding in header only packet", set(good[:12], 0, 0xa0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p RTP
			err := ParseRTP(tt.in, &p)
			if !errors.Is(err, ErrBadRTP) {
				t.Fatalf("err = %v, want ErrBadRTP", err)
			}
			// Only a bad padding count leaves the header whole: then the
			// fields are set and the payload runs to the packet's end.
			padding := strings.HasPrefix(tt.name, "padding")
			if errors.Is(err, ErrRTPPadding) != padding {
				t.Fatalf("err = %v: ErrRTPPadding %v, want %v", err, !padding, padding)
			}
			if padding && (p.SSRC != binary.BigEndian.Uint32(tt.in[8:]) || p.Seq != binary.BigEndian.Uint16(tt.in[2:]) ||
				len(p.Payload) != len(tt.in)-rtpHeaderLen || p.PaddingLen != 0) {
				t.Fatalf("header %+v", p)
			}
		})
	}
}

// rtcpHeader builds an RTCP common header for a packet of n body bytes.
func rtcpHeader(count, typ uint8, bodyLen int, padding bool) []byte {
	b0 := 0x80 | count
	if padding {
		b0 |= 0x20
	}
	return binary.BigEndian.AppendUint16([]byte{b0, typ}, uint16((4+bodyLen)/4-1))
}

func rtcpReportBlock(r RTCPReport) []byte {
	b := binary.BigEndian.AppendUint32(nil, r.SSRC)
	lost := uint32(r.CumulativeLost) & 0xffffff
	b = append(b, r.FractionLost, byte(lost>>16), byte(lost>>8), byte(lost))
	for _, v := range []uint32{r.HighestSeq, r.Jitter, r.LSR, r.DLSR} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

func rtcpSR(ssrc uint32, ntp uint64, rtpTime, packets, octets uint32, reports ...RTCPReport) []byte {
	body := binary.BigEndian.AppendUint32(nil, ssrc)
	body = binary.BigEndian.AppendUint64(body, ntp)
	body = binary.BigEndian.AppendUint32(body, rtpTime)
	body = binary.BigEndian.AppendUint32(body, packets)
	body = binary.BigEndian.AppendUint32(body, octets)
	for _, r := range reports {
		body = append(body, rtcpReportBlock(r)...)
	}
	return append(rtcpHeader(uint8(len(reports)), RTCPTypeSR, len(body), false), body...)
}

func rtcpRR(ssrc uint32, reports ...RTCPReport) []byte {
	body := binary.BigEndian.AppendUint32(nil, ssrc)
	for _, r := range reports {
		body = append(body, rtcpReportBlock(r)...)
	}
	return append(rtcpHeader(uint8(len(reports)), RTCPTypeRR, len(body), false), body...)
}

// rtcpSDES builds an SDES packet with one chunk: CNAME, then a TOOL item.
func rtcpSDES(ssrc uint32, cname string) []byte {
	body := binary.BigEndian.AppendUint32(nil, ssrc)
	body = append(body, 1, byte(len(cname)))
	body = append(body, cname...)
	body = append(body, 6, 3, 'x', 'y', 'z', 0)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	return append(rtcpHeader(1, RTCPTypeSDES, len(body), false), body...)
}

func rtcpBYE(ssrcs ...uint32) []byte {
	var body []byte
	for _, s := range ssrcs {
		body = binary.BigEndian.AppendUint32(body, s)
	}
	return append(rtcpHeader(uint8(len(ssrcs)), RTCPTypeBYE, len(body), false), body...)
}

func rtcpCat(pkts ...[]byte) []byte { return bytes.Join(pkts, nil) }

var (
	rtcpBlockA = RTCPReport{SSRC: 0xaaaa0001, FractionLost: 25, CumulativeLost: 1234, HighestSeq: 0x0001ffff, Jitter: 87, LSR: 0x12345678, DLSR: 65536}
	rtcpBlockB = RTCPReport{SSRC: 0xbbbb0002, FractionLost: 0, CumulativeLost: -3, HighestSeq: 42, Jitter: 0, LSR: 0, DLSR: 0}
	rtcpBlockC = RTCPReport{SSRC: 3, CumulativeLost: 0x7fffff, HighestSeq: 1}
	rtcpBlockD = RTCPReport{SSRC: 4, CumulativeLost: -0x800000, HighestSeq: 1}
)

func TestParseRTCP(t *testing.T) {
	fb := append(rtcpHeader(1, RTCPTypePSFB, 8, false), 0, 0, 0, 7, 0, 0, 0, 9) // PLI
	app := append(rtcpHeader(3, RTCPTypeAPP, 12, false), 0, 0, 0, 5, 'q', 'o', 'e', '!', 1, 2, 3, 4)
	xr := append(rtcpHeader(0, RTCPTypeXR, 4, false), 0, 0, 0, 6)
	padded := append(rtcpHeader(0, RTCPTypeRR, 8, true), 0, 0, 0, 8, 0, 0, 0, 4)
	tests := []struct {
		name string
		in   []byte
		want []string
	}{
		{
			name: "SR with a report, then SDES",
			in:   rtcpCat(rtcpSR(0x5d931534, 0xdd3ac1704d614df8, 32000, 200, 32000, rtcpBlockA), rtcpSDES(0x5d931534, "alice@example.com")),
			want: []string{
				"200 n=1 len=52 ssrc=0x5d931534 ntp=0xdd3ac1704d614df8 rtp=32000 pkts=200 octets=32000 reports=[{SSRC:2863267841 FractionLost:25 CumulativeLost:1234 HighestSeq:131071 Jitter:87 LSR:305419896 DLSR:65536}] cname=\"\"",
				"202 n=1 len=36 ssrc=0x5d931534 ntp=0x0 rtp=0 pkts=0 octets=0 reports=[] cname=\"alice@example.com\"",
			},
		},
		{
			name: "RR with two report blocks, SDES, BYE",
			in:   rtcpCat(rtcpRR(0x01932db4, rtcpBlockA, rtcpBlockB), rtcpSDES(0x01932db4, "b"), rtcpBYE(0x01932db4, 99)),
			want: []string{
				"201 n=2 len=56 ssrc=0x1932db4 ntp=0x0 rtp=0 pkts=0 octets=0 reports=[{SSRC:2863267841 FractionLost:25 CumulativeLost:1234 HighestSeq:131071 Jitter:87 LSR:305419896 DLSR:65536} {SSRC:3149594626 FractionLost:0 CumulativeLost:-3 HighestSeq:42 Jitter:0 LSR:0 DLSR:0}] cname=\"\"",
				"202 n=1 len=20 ssrc=0x1932db4 ntp=0x0 rtp=0 pkts=0 octets=0 reports=[] cname=\"b\"",
				"203 n=2 len=12 ssrc=0x1932db4 ntp=0x0 rtp=0 pkts=0 octets=0 reports=[] cname=\"\"",
			},
		},
		{
			name: "cumulative lost extremes",
			in:   rtcpRR(1, rtcpBlockC, rtcpBlockD),
			want: []string{
				"201 n=2 len=56 ssrc=0x1 ntp=0x0 rtp=0 pkts=0 octets=0 reports=[{SSRC:3 FractionLost:0 CumulativeLost:8388607 HighestSeq:1 Jitter:0 LSR:0 DLSR:0} {SSRC:4 FractionLost:0 CumulativeLost:-8388608 HighestSeq:1 Jitter:0 LSR:0 DLSR:0}] cname=\"\"",
			},
		},
		{
			name: "empty RR, feedback, APP, XR, padded last packet",
			in:   rtcpCat(rtcpRR(2), fb, app, xr, padded),
			want: []string{
				"201 n=0 len=8 ssrc=0x2 ntp=0x0 rtp=0 pkts=0 octets=0 reports=[] cname=\"\"",
				"206 n=1 len=12 ssrc=0x7 media=0x9 ntp=0x0 rtp=0 pkts=0 octets=0 reports=[] cname=\"\"",
				"204 n=3 len=16 ssrc=0x5 ntp=0x0 rtp=0 pkts=0 octets=0 reports=[] cname=\"\"",
				"207 n=0 len=8 ssrc=0x6 ntp=0x0 rtp=0 pkts=0 octets=0 reports=[] cname=\"\"",
				"201 n=0 len=12 padded ssrc=0x8 ntp=0x0 rtp=0 pkts=0 octets=0 reports=[] cname=\"\"",
			},
		},
		{
			name: "BYE without sources",
			in:   rtcpBYE(),
			want: []string{"203 n=0 len=4 ssrc=0x0 ntp=0x0 rtp=0 pkts=0 octets=0 reports=[] cname=\"\""},
		},
	}
	var c RTCP // reused across cases on purpose
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !LooksLikeRTCP(tt.in) {
				t.Errorf("LooksLikeRTCP = false")
			}
			if err := ParseRTCP(tt.in, &c); err != nil {
				t.Fatalf("ParseRTCP: %v", err)
			}
			got := rtcpDescribe(&c)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d packets:\n%s\nwant %d:\n%s", len(got), bytes.Join(got, []byte("\n")), len(tt.want), tt.want)
			}
			for i := range got {
				if string(got[i]) != tt.want[i] {
					t.Errorf("packet %d\n got %s\nwant %s", i, got[i], tt.want[i])
				}
			}
			for _, p := range c.Packets {
				if !hepInside(tt.in, p.Body) || !hepInside(tt.in, p.CNAME) {
					t.Errorf("type %d: view outside the input", p.Type)
				}
			}
		})
	}
}

func rtcpDescribe(c *RTCP) [][]byte {
	var out [][]byte
	for _, p := range c.Packets {
		var b bytes.Buffer
		fmt.Fprintf(&b, "%d n=%d len=%d", p.Type, p.Count, p.Length)
		if p.Padding {
			b.WriteString(" padded")
		}
		fmt.Fprintf(&b, " ssrc=%#x", p.SSRC)
		if p.MediaSSRC != 0 {
			fmt.Fprintf(&b, " media=%#x", p.MediaSSRC)
		}
		fmt.Fprintf(&b, " ntp=%#x rtp=%d pkts=%d octets=%d reports=%+v cname=%q",
			p.NTP, p.RTPTime, p.PacketCount, p.OctetCount, p.Reports, p.CNAME)
		out = append(out, b.Bytes())
	}
	return out
}

func TestParseRTCPErrors(t *testing.T) {
	sr := rtcpSR(1, 2, 3, 4, 5, rtcpBlockA)
	sdes := rtcpSDES(1, "cname")
	lenPlus := func(b []byte, d int) []byte {
		b = append([]byte{}, b...)
		binary.BigEndian.PutUint16(b[2:], uint16(int(binary.BigEndian.Uint16(b[2:]))+d))
		return b
	}
	set := func(b []byte, i int, v byte) []byte {
		b = append([]byte{}, b...)
		b[i] = v
		return b
	}
	badItem := append([]byte{}, sdes...)
	badItem[9] = 200 // CNAME length past the chunk
	tests := []struct {
		name string
		in   []byte
		keep int // packets parsed before the error
	}{
		{"empty", nil, 0},
		{"short header", sr[:3], 0},
		{"version 1", set(sr, 0, 0x41), 0},
		{"length past end", lenPlus(sr, 1), 0},
		{"SR too short for its reports", append(rtcpHeader(1, RTCPTypeSR, 24, false), make([]byte, 24)...), 0},
		{"RR too short for its reports", append(rtcpHeader(2, RTCPTypeRR, 28, false), make([]byte, 28)...), 0},
		{"BYE count past body", append(rtcpHeader(2, RTCPTypeBYE, 4, false), 0, 0, 0, 1), 0},
		{"feedback too short", append(rtcpHeader(1, RTCPTypeRTPFB, 4, false), 0, 0, 0, 1), 0},
		{"padding zero", append(rtcpHeader(0, RTCPTypeRR, 4, true), 0, 0, 0, 0), 0},
		{"padding past body", append(rtcpHeader(0, RTCPTypeRR, 4, true), 0, 0, 0, 9), 0},
		{"SDES item overrun", badItem, 0},
		{"good SR, then truncated SDES", rtcpCat(sr, sdes[:len(sdes)-4]), 1},
		{"good SR and SDES, then garbage", rtcpCat(sr, sdes, []byte{0x12, 0x34}), 2},
		{"good SR, then bad version", rtcpCat(sr, set(sdes, 0, 0x01)), 1},
	}
	var c RTCP
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ParseRTCP(tt.in, &c)
			if !errors.Is(err, ErrBadRTCP) {
				t.Fatalf("err = %v, want ErrBadRTCP", err)
			}
			if len(c.Packets) != tt.keep {
				t.Errorf("kept %d packets, want %d (%v)", len(c.Packets), tt.keep, err)
			}
		})
	}
}

func TestLooksLikeRTCP(t *testing.T) {
	tests := []struct {
		in   []byte
		want bool
	}{
		{rtcpRR(1), true},
		{rtcpSR(1, 2, 3, 4, 5), true},
		{rtcpBYE(), true},
		{append(rtcpHeader(0, RTCPTypeXR, 4, false), 0, 0, 0, 6), true},
		{rtcpRR(1)[:7], false}, // length past the end
		{append(rtcpHeader(0, 199, 4, false), 0, 0, 0, 6), false},
		{append(rtcpHeader(0, 208, 4, false), 0, 0, 0, 6), false},
		{rtpPacket(false, 0, 1, 2, 3, nil, 0, nil, []byte("audio"), 0), false},
		{rtpPacket(true, 96, 1, 2, 3, nil, 0, nil, []byte("audio"), 0), false},
		{[]byte{0x41, 0xc9, 0, 0}, false}, // version 1
		{[]byte{0x80, 0xc9}, false},
		{nil, false},
	}
	for i, tt := range tests {
		if got := LooksLikeRTCP(tt.in); got != tt.want {
			t.Errorf("%d: LooksLikeRTCP(% x) = %v, want %v", i, tt.in, got, tt.want)
		}
	}
}

func TestParseRTCPAllocs(t *testing.T) {
	a := rtcpCat(rtcpSR(1, 2, 3, 4, 5, rtcpBlockA, rtcpBlockB), rtcpSDES(1, "a"))
	b := rtcpCat(rtcpRR(1, rtcpBlockA, rtcpBlockB, rtcpBlockC), rtcpSDES(1, "b"), rtcpBYE(1))
	var c RTCP
	ParseRTCP(b, &c)
	ParseRTCP(a, &c)
	if n := testing.AllocsPerRun(100, func() {
		ParseRTCP(a, &c)
		ParseRTCP(b, &c)
	}); n != 0 {
		t.Errorf("%v allocs per run, want 0", n)
	}
}

func TestParseRTPAllocs(t *testing.T) {
	pkt := rtpPacket(true, 0, 1, 2, 3, []uint32{4}, 0xbede, []byte{0, 0, 0, 0}, make([]byte, 160), 4)
	var p RTP
	var e TelephoneEvent
	if n := testing.AllocsPerRun(100, func() {
		ParseRTP(pkt, &p)
		ParseTelephoneEvent(p.Payload, &e)
	}); n != 0 {
		t.Errorf("%v allocs per run, want 0", n)
	}
}

func TestTelephoneEvent(t *testing.T) {
	tests := []struct {
		in    []byte
		want  TelephoneEvent
		digit byte
	}{
		{[]byte{0, 0x0a, 0x00, 0xa0}, TelephoneEvent{Event: 0, Volume: 10, Duration: 160}, '0'},
		{[]byte{9, 0x8a, 0x03, 0x20}, TelephoneEvent{Event: 9, End: true, Volume: 10, Duration: 800}, '9'},
		{[]byte{10, 0x3f, 0xff, 0xff}, TelephoneEvent{Event: 10, Volume: 63, Duration: 65535}, '*'},
		{[]byte{11, 0x40, 0, 0}, TelephoneEvent{Event: 11}, '#'}, // R bit ignored
		{[]byte{12, 0, 0, 1}, TelephoneEvent{Event: 12, Duration: 1}, 'A'},
		{[]byte{15, 0, 0, 1}, TelephoneEvent{Event: 15, Duration: 1}, 'D'},
		{[]byte{16, 0x80, 0, 1}, TelephoneEvent{Event: 16, End: true, Duration: 1}, 'F'},
		{[]byte{17, 0, 0, 1}, TelephoneEvent{Event: 17, Duration: 1}, '?'},
		{[]byte{255, 0, 0, 1, 5, 5, 5, 5}, TelephoneEvent{Event: 255, Duration: 1}, '?'},
	}
	for _, tt := range tests {
		var e TelephoneEvent
		if err := ParseTelephoneEvent(tt.in, &e); err != nil {
			t.Errorf("% x: %v", tt.in, err)
			continue
		}
		if e != tt.want {
			t.Errorf("% x: got %+v, want %+v", tt.in, e, tt.want)
		}
		if d := e.Digit(); d != tt.digit {
			t.Errorf("% x: Digit() = %q, want %q", tt.in, d, tt.digit)
		}
	}
	for ev := range 256 {
		want := byte('?')
		if ev < 16 {
			want = "0123456789*#ABCD"[ev]
		} else if ev == 16 {
			want = 'F'
		}
		if got := (TelephoneEvent{Event: uint8(ev)}).Digit(); got != want {
			t.Errorf("event %d: Digit() = %q, want %q", ev, got, want)
		}
	}
	var e TelephoneEvent
	if err := ParseTelephoneEvent([]byte{1, 2, 3}, &e); !errors.Is(err, ErrBadRTP) {
		t.Errorf("short payload: err = %v, want ErrBadRTP", err)
	}
}

// TestRTCPCapture parses nDPI's sample of compound RTCP (SR or RR plus SDES
// in each datagram), when the shared corpus is present.
func TestRTCPCapture(t *testing.T) {
	frames := rtpTestUDPPayloads(t, "/work/shared/captures/public/nDPI/rtcp_multiple_pkts_in_the_same_datagram.pcap")
	if len(frames) != 5 {
		t.Fatalf("%d frames, want 5", len(frames))
	}
	want := []string{
		"200+202 ssrc=0x5d931534 pkts=200 cname=5d931534",
		"201+202 ssrc=0x1932db4 pkts=0 cname=1932db4",
		"200+202 ssrc=0x5d931534 pkts=401 cname=5d931534",
		"201+202 ssrc=0x1932db4 pkts=0 cname=1932db4",
		"200+202 ssrc=0x5d931534 pkts=602 cname=5d931534",
	}
	var c RTCP
	for i, f := range frames {
		if !LooksLikeRTCP(f) {
			t.Errorf("frame %d: LooksLikeRTCP = false", i+1)
		}
		if err := ParseRTCP(f, &c); err != nil {
			t.Errorf("frame %d: %v", i+1, err)
			continue
		}
		if len(c.Packets) != 2 {
			t.Errorf("frame %d: %d packets, want 2", i+1, len(c.Packets))
			continue
		}
		p, s := c.Packets[0], c.Packets[1]
		got := fmt.Sprintf("%d+%d ssrc=%#x pkts=%d cname=%s", p.Type, s.Type, p.SSRC, p.PacketCount, s.CNAME)
		if got != want[i] {
			t.Errorf("frame %d: got %s, want %s", i+1, got, want[i])
		}
		if len(p.Reports) != 1 {
			t.Errorf("frame %d: %d report blocks, want 1", i+1, len(p.Reports))
		}
	}
	// The fourth datagram's RR reports on the sender of the SRs.
	ParseRTCP(frames[3], &c)
	if r := c.Packets[0].Reports[0]; r.SSRC != 0x5d931534 || r.HighestSeq != 49035 || r.Jitter != 6 || r.LSR != 0xc1704d61 {
		t.Errorf("frame 4 report block: %+v", r)
	}
}

func BenchmarkParseRTP(b *testing.B) {
	pkt := rtpPacket(false, 0, 4711, 160000, 0xdeadbeef, nil, 0, nil, make([]byte, 160), 0)
	var p RTP
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseRTP(pkt, &p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseRTCP(b *testing.B) {
	pkt := rtcpCat(rtcpSR(1, 2, 3, 4, 5, rtcpBlockA), rtcpSDES(1, "alice@example.com"))
	var c RTCP
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseRTCP(pkt, &c); err != nil {
			b.Fatal(err)
		}
	}
}
