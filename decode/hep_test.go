package decode

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// hepChunk builds one HEP3 chunk of vendor 0.
func hepChunk(typ uint16, data []byte) []byte {
	return hepVendorChunk(0, typ, data)
}

func hepVendorChunk(vendor, typ uint16, data []byte) []byte {
	c := make([]byte, 6, 6+len(data))
	binary.BigEndian.PutUint16(c[0:], vendor)
	binary.BigEndian.PutUint16(c[2:], typ)
	binary.BigEndian.PutUint16(c[4:], uint16(6+len(data)))
	return append(c, data...)
}

func hepU8(typ uint16, v uint8) []byte { return hepChunk(typ, []byte{v}) }
func hepU16(typ uint16, v uint16) []byte {
	return hepChunk(typ, binary.BigEndian.AppendUint16(nil, v))
}
func hepU32(typ uint16, v uint32) []byte {
	return hepChunk(typ, binary.BigEndian.AppendUint32(nil, v))
}

// hepV3 builds a HEP3 packet from chunks.
func hepV3(chunks ...[]byte) []byte {
	b := []byte("HEP3\x00\x00")
	for _, c := range chunks {
		b = append(b, c...)
	}
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	return b
}

// hepV3Addr gives the usual address chunks of a HEP3 packet.
func hepV3Addr(src, dst netip.AddrPort, proto uint8) [][]byte {
	var c [][]byte
	if src.Addr().Is4() {
		c = append(c, hepU8(hepChunkFamily, hepFamilyIPv4),
			hepChunk(hepChunkSrcIPv4, src.Addr().AsSlice()),
			hepChunk(hepChunkDstIPv4, dst.Addr().AsSlice()))
	} else {
		c = append(c, hepU8(hepChunkFamily, hepFamilyIPv6),
			hepChunk(hepChunkSrcIPv6, src.Addr().AsSlice()),
			hepChunk(hepChunkDstIPv6, dst.Addr().AsSlice()))
	}
	return append(c, hepU8(hepChunkIPProto, proto),
		hepU16(hepChunkSrcPort, src.Port()), hepU16(hepChunkDstPort, dst.Port()))
}

// hepV12 builds a HEP v1 or v2 packet the way captagent and Kamailio did:
// ports in network order, the v2 time header in little-endian host order.
func hepV12(version uint8, src, dst netip.AddrPort, proto uint8, sec, usec uint32, captID uint16, payload string) []byte {
	family, alen := byte(hepFamilyIPv4), 4
	if src.Addr().Is6() {
		family, alen = hepFamilyIPv6, 16
	}
	b := []byte{version, byte(8 + 2*alen), family, proto}
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = append(b, src.Addr().AsSlice()...)
	b = append(b, dst.Addr().AsSlice()...)
	if version == 2 {
		b = binary.LittleEndian.AppendUint32(b, sec)
		b = binary.LittleEndian.AppendUint32(b, usec)
		b = binary.LittleEndian.AppendUint16(b, captID)
		b = append(b, 0, 0) // struct padding
	}
	return append(b, payload...)
}

func hepZlib(s string) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write([]byte(s))
	w.Close()
	return buf.Bytes()
}

func hepGzip(s string) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write([]byte(s))
	w.Close()
	return buf.Bytes()
}

const hepSIP = "INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: a84b4c76e66710\r\n\r\n"

var (
	hepSrc4 = netip.MustParseAddrPort("192.0.2.10:5060")
	hepDst4 = netip.MustParseAddrPort("198.51.100.7:5080")
	hepSrc6 = netip.MustParseAddrPort("[2001:db8::1]:5061")
	hepDst6 = netip.MustParseAddrPort("[2001:db8::2]:5062")
)

func hepWith(chunks [][]byte, more ...[]byte) []byte {
	return hepV3(append(chunks, more...)...)
}

func TestParseHEP(t *testing.T) {
	ts := time.Unix(1700000000, 123456000).UTC()
	base4 := hepV3Addr(hepSrc4, hepDst4, 17)
	timeChunks := [][]byte{hepU32(hepChunkTimeSec, 1700000000), hepU32(hepChunkTimeUsec, 123456)}
	tests := []struct {
		name string
		in   []byte
		want HEP
	}{
		{
			name: "v3 IPv4 UDP plain",
			in: hepWith(base4, timeChunks[0], timeChunks[1], hepU8(hepChunkProtoType, HEPProtoSIP),
				hepU32(hepChunkCaptureID, 2001), hepChunk(hepChunkPayload, []byte(hepSIP))),
			want: HEP{Version: 3, Src: hepSrc4, Dst: hepDst4, IPProto: 17, Time: ts, ProtoType: 1, CaptureID: 2001, Payload: []byte(hepSIP)},
		},
		{
			name: "v3 IPv6 TCP",
			in: hepWith(hepV3Addr(hepSrc6, hepDst6, 6), hepU8(hepChunkProtoType, HEPProtoSIP),
				hepChunk(hepChunkPayload, []byte(hepSIP))),
			want: HEP{Version: 3, Src: hepSrc6, Dst: hepDst6, IPProto: 6, ProtoType: 1, Payload: []byte(hepSIP)},
		},
		{
			name: "v3 zlib compressed",
			in:   hepWith(base4, hepU8(hepChunkProtoType, 1), hepChunk(hepChunkZPayload, hepZlib(hepSIP))),
			want: HEP{Version: 3, Src: hepSrc4, Dst: hepDst4, IPProto: 17, ProtoType: 1, Payload: []byte(hepSIP), Compressed: true},
		},
		{
			name: "v3 gzip compressed IPv6",
			in:   hepWith(hepV3Addr(hepSrc6, hepDst6, 17), hepChunk(hepChunkZPayload, hepGzip(hepSIP))),
			want: HEP{Version: 3, Src: hepSrc6, Dst: hepDst6, IPProto: 17, Payload: []byte(hepSIP), Compressed: true},
		},
		{
			name: "v3 plain payload wins over compressed",
			in:   hepWith(base4, hepChunk(hepChunkZPayload, hepZlib("other")), hepChunk(hepChunkPayload, []byte(hepSIP))),
			want: HEP{Version: 3, Src: hepSrc4, Dst: hepDst4, IPProto: 17, Payload: []byte(hepSIP)},
		},
		{
			name: "v3 vendor and unknown chunks skipped, auth key, correlation id",
			in: hepWith(base4,
				hepVendorChunk(0x0021, hepChunkPayload, []byte("not this")),
				hepVendorChunk(0x0021, hepChunkSrcIPv4, []byte{1, 2}),
				hepChunk(0x0014, []byte("group")),
				hepChunk(0x000e, []byte("myHep")),
				hepChunk(0x00ff, nil),
				hepU8(hepChunkProtoType, HEPProtoRTCP),
				hepChunk(hepChunkCorrelation, []byte("a84b4c76e66710")),
				hepChunk(hepChunkPayload, []byte(`{"type":200}`))),
			want: HEP{Version: 3, Src: hepSrc4, Dst: hepDst4, IPProto: 17, ProtoType: 5,
				CorrelationID: []byte("a84b4c76e66710"), Payload: []byte(`{"type":200}`)},
		},
		{
			name: "v3 16-bit capture id, no family chunk",
			in: hepV3(hepChunk(hepChunkSrcIPv4, []byte{10, 0, 0, 1}), hepChunk(hepChunkDstIPv4, []byte{10, 0, 0, 2}),
				hepU16(hepChunkCaptureID, 7), hepChunk(hepChunkPayload, nil)),
			want: HEP{Version: 3, Src: netip.MustParseAddrPort("10.0.0.1:0"), Dst: netip.MustParseAddrPort("10.0.0.2:0"),
				CaptureID: 7, Payload: []byte{}},
		},
		{
			name: "v3 family picks IPv6 over IPv4",
			in: hepV3(hepU8(hepChunkFamily, hepFamilyIPv6),
				hepChunk(hepChunkSrcIPv4, []byte{10, 0, 0, 1}), hepChunk(hepChunkDstIPv4, []byte{10, 0, 0, 2}),
				hepChunk(hepChunkSrcIPv6, hepSrc6.Addr().AsSlice()), hepChunk(hepChunkDstIPv6, hepDst6.Addr().AsSlice()),
				hepU16(hepChunkSrcPort, 5061), hepU16(hepChunkDstPort, 5062)),
			want: HEP{Version: 3, Src: hepSrc6, Dst: hepDst6},
		},
		{
			name: "v3 old EEP1 magic, keep-alive without payload",
			in:   append([]byte("EEP1\x00\x06"), "trailing"...),
			want: HEP{Version: 3},
		},
		{
			name: "v2 IPv4",
			in:   hepV12(2, hepSrc4, hepDst4, 17, 1700000000, 123456, 0x1234, hepSIP),
			want: HEP{Version: 2, Src: hepSrc4, Dst: hepDst4, IPProto: 17, Time: ts, CaptureID: 0x1234, Payload: []byte(hepSIP)},
		},
		{
			name: "v2 IPv6 TCP",
			in:   hepV12(2, hepSrc6, hepDst6, 6, 1700000000, 123456, 9, hepSIP),
			want: HEP{Version: 2, Src: hepSrc6, Dst: hepDst6, IPProto: 6, Time: ts, CaptureID: 9, Payload: []byte(hepSIP)},
		},
		{
			name: "v2 zero time",
			in:   hepV12(2, hepSrc4, hepDst4, 17, 0, 0, 0, "x"),
			want: HEP{Version: 2, Src: hepSrc4, Dst: hepDst4, IPProto: 17, Payload: []byte("x")},
		},
		{
			name: "v1 IPv4",
			in:   hepV12(1, hepSrc4, hepDst4, 17, 0, 0, 0, hepSIP),
			want: HEP{Version: 1, Src: hepSrc4, Dst: hepDst4, IPProto: 17, Payload: []byte(hepSIP)},
		},
		{
			name: "v1 IPv6 empty payload",
			in:   hepV12(1, hepSrc6, hepDst6, 17, 0, 0, 0, ""),
			want: HEP{Version: 1, Src: hepSrc6, Dst: hepDst6, IPProto: 17, Payload: []byte{}},
		},
	}
	var scratch []byte
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h HEP
			n, err := ParseHEP(tt.in, &h, &scratch)
			if err != nil {
				t.Fatalf("ParseHEP: %v", err)
			}
			wantN := len(tt.in)
			if tt.want.Version == 3 {
				wantN = int(binary.BigEndian.Uint16(tt.in[4:]))
			}
			if n != wantN {
				t.Errorf("n = %d, want %d", n, wantN)
			}
			hepCompare(t, &h, &tt.want)
			if !LooksLikeHEP(tt.in) {
				t.Errorf("LooksLikeHEP = false")
			}
			if !h.Compressed && !hepInside(tt.in, h.Payload) {
				t.Errorf("Payload is not a view into the input")
			}
			if h.Compressed && !hepInside(scratch, h.Payload) {
				t.Errorf("compressed Payload is not in scratch")
			}
		})
	}
}

func hepCompare(t *testing.T, got, want *HEP) {
	t.Helper()
	if got.Version != want.Version || got.Src != want.Src || got.Dst != want.Dst || got.IPProto != want.IPProto ||
		!got.Time.Equal(want.Time) || got.Time.IsZero() != want.Time.IsZero() || got.ProtoType != want.ProtoType ||
		got.CaptureID != want.CaptureID || got.Compressed != want.Compressed {
		t.Errorf("got  %+v\nwant %+v", *got, *want)
	}
	if !got.Time.IsZero() && got.Time.Location() != time.UTC {
		t.Errorf("Time %v is not UTC", got.Time)
	}
	if !bytes.Equal(got.CorrelationID, want.CorrelationID) {
		t.Errorf("CorrelationID = %q, want %q", got.CorrelationID, want.CorrelationID)
	}
	if !bytes.Equal(got.Payload, want.Payload) || (got.Payload == nil) != (want.Payload == nil) {
		t.Errorf("Payload = %q, want %q", got.Payload, want.Payload)
	}
}

// hepInside reports whether inner lies within outer's memory. Empty views
// have nowhere to point and always pass.
func hepInside(outer, inner []byte) bool {
	if len(inner) == 0 {
		return true
	}
	if len(outer) == 0 {
		return false
	}
	o := uintptr(unsafe.Pointer(unsafe.SliceData(outer)))
	i := uintptr(unsafe.Pointer(unsafe.SliceData(inner)))
	return i >= o && i+uintptr(len(inner)) <= o+uintptr(len(outer))
}

func TestParseHEPWalkStream(t *testing.T) {
	a := hepWith(hepV3Addr(hepSrc4, hepDst4, 6), hepChunk(hepChunkPayload, []byte(hepSIP)))
	b := hepWith(hepV3Addr(hepDst4, hepSrc4, 6), hepChunk(hepChunkZPayload, hepZlib("SIP/2.0 100 Trying\r\n\r\n")))
	stream := append(append(append([]byte{}, a...), b...), a[:20]...)
	var h HEP
	var scratch []byte
	var got []string
	for len(stream) > 0 {
		n, err := ParseHEP(stream, &h, &scratch)
		if err != nil {
			if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, ErrBadHEP) {
				t.Fatalf("tail: %v, want ErrBadHEP and io.ErrUnexpectedEOF", err)
			}
			break
		}
		got = append(got, h.Src.String()+" "+string(h.Payload[:7]))
		stream = stream[n:]
	}
	want := []string{"192.0.2.10:5060 INVITE ", "198.51.100.7:5080 SIP/2.0"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("walk = %q, want %q", got, want)
	}
	if len(stream) != 20 {
		t.Errorf("left %d bytes, want the 20-byte partial packet", len(stream))
	}
}

func TestParseHEPErrors(t *testing.T) {
	good := hepWith(hepV3Addr(hepSrc4, hepDst4, 17), hepChunk(hepChunkPayload, []byte(hepSIP)))
	shortTotal := append([]byte{}, good...)
	binary.BigEndian.PutUint16(shortTotal[4:], 3)
	badChunkLen := hepV3(hepU8(hepChunkFamily, 2))
	binary.BigEndian.PutUint16(badChunkLen[10:], 5)
	overrun := hepV3(hepU8(hepChunkFamily, 2))
	binary.BigEndian.PutUint16(overrun[10:], 8)
	bomb := hepZlib(strings.Repeat("\x00", HEPMaxPayload+1))
	badV2 := hepV12(2, hepSrc4, hepDst4, 17, 1, 2, 3, "x")

	tests := []struct {
		name    string
		in      []byte
		partial bool // wraps io.ErrUnexpectedEOF too
	}{
		{name: "empty", in: nil, partial: true},
		{name: "garbage", in: []byte("REGISTER sip:x SIP/2.0")},
		{name: "HEP3 prefix only", in: []byte("HEP"), partial: true},
		{name: "HEP3 header cut", in: []byte("HEP3\x00"), partial: true},
		{name: "HEP3 total beyond input", in: good[:len(good)-1], partial: true},
		{name: "HEP3 total below header", in: shortTotal},
		{name: "chunk length below 6", in: badChunkLen},
		{name: "chunk overruns packet", in: overrun},
		{name: "chunk header cut", in: hepV3([]byte{0, 0, 0, 1})},
		{name: "ipv4 chunk wrong size", in: hepV3(hepChunk(hepChunkSrcIPv4, []byte{1, 2, 3}))},
		{name: "ipv6 chunk wrong size", in: hepV3(hepChunk(hepChunkDstIPv6, make([]byte, 4)))},
		{name: "port chunk wrong size", in: hepV3(hepU8(hepChunkSrcPort, 1))},
		{name: "time chunk wrong size", in: hepV3(hepU16(hepChunkTimeSec, 1))},
		{name: "capture id wrong size", in: hepV3(hepU8(hepChunkCaptureID, 1))},
		{name: "zip bomb", in: hepV3(hepChunk(hepChunkZPayload, bomb))},
		{name: "not zlib", in: hepV3(hepChunk(hepChunkZPayload, []byte(hepSIP)))},
		{name: "zlib cut short", in: hepV3(hepChunk(hepChunkZPayload, hepZlib(hepSIP)[:10]))},
		{name: "gzip corrupt", in: hepV3(hepChunk(hepChunkZPayload, append(hepGzip(hepSIP)[:12], "garbage"...)))},
		{name: "v2 bad family", in: append([]byte{2, 16, 3}, badV2[3:]...)},
		{name: "v2 bad header length", in: append([]byte{2, 17}, badV2[2:]...)},
		{name: "v2 time header cut", in: badV2[:20]},
		{name: "v1 cut", in: []byte{1, 16, 2}},
		{name: "v1 addresses cut", in: hepV12(1, hepSrc4, hepDst4, 17, 0, 0, 0, "")[:12]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h HEP
			var scratch []byte
			n, err := ParseHEP(tt.in, &h, &scratch)
			if !errors.Is(err, ErrBadHEP) {
				t.Fatalf("err = %v, want ErrBadHEP", err)
			}
			if got := errors.Is(err, io.ErrUnexpectedEOF); got != tt.partial {
				t.Errorf("errors.Is(err, io.ErrUnexpectedEOF) = %v, want %v (%v)", got, tt.partial, err)
			}
			if n < 0 || n > len(tt.in) {
				t.Errorf("n = %d outside [0, %d]", n, len(tt.in))
			}
			if len(scratch) > HEPMaxPayload+1 {
				t.Errorf("scratch grew to %d", len(scratch))
			}
		})
	}
}

func TestLooksLikeHEP(t *testing.T) {
	v2 := hepV12(2, hepSrc4, hepDst4, 17, 1, 2, 3, "")
	tests := []struct {
		in   []byte
		want bool
	}{
		{[]byte("HEP3\x00\x06"), true},
		{[]byte("EEP1\x00\x06"), true},
		{[]byte("HEP3"), false},
		{v2, true},
		{hepV12(1, hepSrc6, hepDst6, 17, 0, 0, 0, ""), true},
		{v2[:len(v2)-1], false},                                         // time header cut
		{append([]byte{2, 16, 3}, v2[3:]...), false},                    // family 3
		{append([]byte{2, 40}, v2[2:]...), false},                       // IPv6 length, IPv4 family
		{append([]byte{3}, v2[1:]...), false},                           // version 3 without magic
		{[]byte("INVITE sip:a@b SIP/2.0\r\n"), false},                   // SIP
		{[]byte{0x80, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, false},       // RTP
		{[]byte{0x01, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}, false}, // STUN binding success
		{nil, false},
	}
	for i, tt := range tests {
		if got := LooksLikeHEP(tt.in); got != tt.want {
			t.Errorf("%d: LooksLikeHEP(%q) = %v, want %v", i, tt.in, got, tt.want)
		}
	}
}

func TestParseHEPAllocs(t *testing.T) {
	plain := hepWith(hepV3Addr(hepSrc4, hepDst4, 17), hepU32(hepChunkTimeSec, 1), hepChunk(hepChunkPayload, []byte(hepSIP)))
	v2 := hepV12(2, hepSrc6, hepDst6, 17, 1, 2, 3, hepSIP)
	var h HEP
	if n := testing.AllocsPerRun(100, func() {
		ParseHEP(plain, &h, nil)
		ParseHEP(v2, &h, nil)
	}); n != 0 {
		t.Errorf("uncompressed: %v allocs per run, want 0", n)
	}
	z := hepWith(hepV3Addr(hepSrc4, hepDst4, 17), hepChunk(hepChunkZPayload, hepZlib(hepSIP)))
	scratch := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(100, func() {
		if _, err := ParseHEP(z, &h, &scratch); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("compressed: %v allocs per run", n)
	if n > 2 {
		t.Errorf("compressed: %v allocs per run, want the inflater reused", n)
	}
}

func TestParseHEPScratch(t *testing.T) {
	z := hepWith(hepV3Addr(hepSrc4, hepDst4, 17), hepChunk(hepChunkZPayload, hepZlib(hepSIP)))
	var h HEP
	if _, err := ParseHEP(z, &h, nil); err != nil || string(h.Payload) != hepSIP || !h.Compressed {
		t.Fatalf("nil scratch: %v, %q", err, h.Payload)
	}

	var scratch []byte
	bomb := hepV3(hepChunk(hepChunkZPayload, hepZlib(strings.Repeat("a", 2*HEPMaxPayload))))
	if _, err := ParseHEP(bomb, &h, &scratch); !errors.Is(err, ErrBadHEP) || h.Payload != nil {
		t.Fatalf("bomb: err %v, %d payload bytes", err, len(h.Payload))
	}
	if len(scratch) != 0 || cap(scratch) < HEPMaxPayload || cap(scratch) > 2*HEPMaxPayload {
		t.Errorf("after bomb: scratch len %d cap %d, want empty with the grown capacity kept", len(scratch), cap(scratch))
	}
	grown := cap(scratch)
	if _, err := ParseHEP(z, &h, &scratch); err != nil || string(h.Payload) != hepSIP {
		t.Fatalf("after bomb: %v, %q", err, h.Payload)
	}
	if cap(scratch) != grown || !hepInside(scratch[:cap(scratch)], h.Payload) {
		t.Errorf("scratch not reused")
	}
	// Exactly HEPMaxPayload is still fine.
	edge := hepV3(hepChunk(hepChunkZPayload, hepZlib(strings.Repeat("b", HEPMaxPayload))))
	if _, err := ParseHEP(edge, &h, &scratch); err != nil || len(h.Payload) != HEPMaxPayload {
		t.Errorf("payload of exactly HEPMaxPayload: %v, %d bytes", err, len(h.Payload))
	}
}

// hepTruth is the part of a corpus truth file that describes HEP.
type hepTruth struct {
	HEP struct {
		Messages []struct {
			Frame      int     `json:"frame"`
			StartLine  string  `json:"start_line"`
			CallID     *string `json:"call_id"`
			Compressed bool    `json:"compressed"`
		} `json:"messages"`
	} `json:"hep"`
}

// hepCaptureSpots are header fields of a few sample frames, as the chunks
// in the files say (checked by hand against a hex dump).
var hepCaptureSpots = map[string]map[int]string{
	"hep.pcap": {
		1: "192.168.1.1:5060 192.168.1.2:5060 17 2016-12-11T11:19:56.0001Z type=1 capt=2001 corr=qgf3dm9rudi@127.0.0.1",
		5: "192.168.1.1:0 192.168.1.2:0 17 2016-12-11T11:19:59.000126Z type=100 capt=2001 corr=qgf3dm9rudi@127.0.0.1",
		8: "192.168.1.1:0 192.168.1.2:0 17 2016-12-11T11:20:02.000927Z type=5 capt=2001 corr=qgf3dm9rudi@127.0.0.1",
	},
	"hep3_compressed.pcap.pcapng": {
		1:  "192.168.137.1:54345 192.168.137.247:5060 6 2017-08-17T03:38:10.307169Z type=1 capt=228 corr=",
		21: "192.168.137.247:5070 192.168.137.247:5060 6 2017-08-17T03:38:10.719482Z type=1 capt=228 corr=",
	},
}

// TestHEPCaptures checks ParseHEP against the public hep-wireshark samples
// and their truth files, when the shared corpus is present.
func TestHEPCaptures(t *testing.T) {
	const shared = "/work/shared"
	for _, name := range []string{"hep.pcap", "hep3_compressed.pcap.pcapng"} {
		t.Run(name, func(t *testing.T) {
			capPath := filepath.Join(shared, "captures/public/hep-wireshark", name)
			truthPath := filepath.Join(shared, "corpus/truth/hep-wireshark", name+".json")
			frames := rtpTestUDPPayloads(t, capPath)
			raw, err := os.ReadFile(truthPath)
			if err != nil {
				t.Skipf("no truth: %v", err)
			}
			var truth hepTruth
			if err := json.Unmarshal(raw, &truth); err != nil {
				t.Fatal(err)
			}
			if len(truth.HEP.Messages) == 0 {
				t.Fatal("truth lists no HEP messages")
			}
			var h HEP
			var scratch []byte
			for _, m := range truth.HEP.Messages {
				if m.Frame < 1 || m.Frame > len(frames) {
					t.Fatalf("frame %d not in capture of %d frames", m.Frame, len(frames))
				}
				b := frames[m.Frame-1]
				if !LooksLikeHEP(b) {
					t.Errorf("frame %d: LooksLikeHEP = false", m.Frame)
				}
				n, err := ParseHEP(b, &h, &scratch)
				if err != nil {
					t.Errorf("frame %d: %v", m.Frame, err)
					continue
				}
				if n != len(b) {
					t.Errorf("frame %d: n = %d, UDP payload %d", m.Frame, n, len(b))
				}
				line, _, _ := bytes.Cut(h.Payload, []byte("\n"))
				line = bytes.TrimSuffix(line, []byte("\r"))
				// The truth keeps the first 100 bytes of a long line.
				if !(string(line) == m.StartLine || len(m.StartLine) >= 100 && strings.HasPrefix(string(line), m.StartLine)) {
					t.Errorf("frame %d: start line %q, want %q", m.Frame, line, m.StartLine)
				}
				if h.Compressed != m.Compressed {
					t.Errorf("frame %d: Compressed = %v, want %v", m.Frame, h.Compressed, m.Compressed)
				}
				if m.CallID != nil && !bytes.Contains(h.Payload, []byte(*m.CallID)) {
					t.Errorf("frame %d: payload lacks Call-ID %q", m.Frame, *m.CallID)
				}
				if h.Version != 3 || !h.Src.IsValid() || !h.Dst.IsValid() || h.Time.IsZero() {
					t.Errorf("frame %d: incomplete header %+v", m.Frame, h)
				}
				if want, ok := hepCaptureSpots[name][m.Frame]; ok {
					got := fmt.Sprintf("%v %v %d %s type=%d capt=%d corr=%s", h.Src, h.Dst, h.IPProto,
						h.Time.Format(time.RFC3339Nano), h.ProtoType, h.CaptureID, h.CorrelationID)
					if got != want {
						t.Errorf("frame %d:\n got %s\nwant %s", m.Frame, got, want)
					}
				}
			}
		})
	}
}

// rtpTestUDPPayloads returns the UDP payload of every frame of a pcap or
// pcapng file (nil for frames that are not IPv4/IPv6 UDP), skipping the test
// when the file is absent. It is a small walker for Ethernet (with 802.1Q),
// Linux cooked v1/v2 and raw IP, enough for the public test captures.
func rtpTestUDPPayloads(t *testing.T, path string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("capture not present: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	add := func(link uint32, data []byte) { frames = append(frames, rtpTestUDP(link, data)) }
	if len(raw) < 24 {
		t.Fatalf("%s: too short", path)
	}
	switch binary.LittleEndian.Uint32(raw) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		link := binary.LittleEndian.Uint32(raw[20:])
		for p := raw[24:]; len(p) >= 16; {
			incl := int(binary.LittleEndian.Uint32(p[8:]))
			if 16+incl > len(p) {
				t.Fatalf("%s: record overruns file", path)
			}
			add(link, p[16:16+incl])
			p = p[16+incl:]
		}
	case 0x0a0d0d0a:
		var links []uint32
		var bo binary.ByteOrder = binary.LittleEndian
		for p := raw; len(p) >= 12; {
			if binary.LittleEndian.Uint32(p) == 0x0a0d0d0a {
				if binary.LittleEndian.Uint32(p[8:]) == 0x1a2b3c4d {
					bo = binary.LittleEndian
				} else {
					bo = binary.BigEndian
				}
				links = links[:0]
			}
			typ, blen := bo.Uint32(p), int(bo.Uint32(p[4:]))
			if blen < 12 || blen > len(p) {
				t.Fatalf("%s: bad pcapng block length %d", path, blen)
			}
			body := p[8 : blen-4]
			switch typ {
			case 1: // interface description
				links = append(links, uint32(bo.Uint16(body)))
			case 6: // enhanced packet
				iface, capLen := bo.Uint32(body), int(bo.Uint32(body[12:]))
				add(links[iface], body[20:20+capLen])
			case 3: // simple packet
				add(links[0], body[4:])
			}
			p = p[blen:]
		}
	default:
		t.Fatalf("%s: not pcap or pcapng", path)
	}
	return frames
}

// rtpTestUDP digs the UDP payload out of one frame, nil if it has none.
func rtpTestUDP(link uint32, b []byte) []byte {
	var etype uint16
	switch link {
	case 1: // Ethernet
		if len(b) < 14 {
			return nil
		}
		etype, b = binary.BigEndian.Uint16(b[12:]), b[14:]
		for etype == 0x8100 && len(b) >= 4 {
			etype, b = binary.BigEndian.Uint16(b[2:]), b[4:]
		}
	case 113: // Linux cooked v1
		if len(b) < 16 {
			return nil
		}
		etype, b = binary.BigEndian.Uint16(b[14:]), b[16:]
	case 276: // Linux cooked v2
		if len(b) < 20 {
			return nil
		}
		etype, b = binary.BigEndian.Uint16(b), b[20:]
	case 101, 228, 229: // raw IP
		if len(b) > 0 && b[0]>>4 == 6 {
			etype = 0x86dd
		} else {
			etype = 0x0800
		}
	default:
		return nil
	}
	switch etype {
	case 0x0800:
		if len(b) < 20 || b[9] != 17 {
			return nil
		}
		total, ihl := int(binary.BigEndian.Uint16(b[2:])), int(b[0]&0x0f)*4
		if total <= len(b) {
			b = b[:total]
		}
		if ihl > len(b) {
			return nil
		}
		b = b[ihl:]
	case 0x86dd:
		if len(b) < 40 || b[6] != 17 {
			return nil
		}
		b = b[40:]
	default:
		return nil
	}
	if len(b) < 8 {
		return nil
	}
	ulen := int(binary.BigEndian.Uint16(b[4:]))
	if ulen < 8 || ulen > len(b) {
		return b[8:]
	}
	return b[8:ulen]
}

func BenchmarkParseHEP(b *testing.B) {
	b.Run("v3", func(b *testing.B) {
		pkt := hepWith(hepV3Addr(hepSrc4, hepDst4, 17), hepU32(hepChunkTimeSec, 1700000000),
			hepU32(hepChunkTimeUsec, 1), hepU8(hepChunkProtoType, 1), hepU32(hepChunkCaptureID, 1),
			hepChunk(hepChunkPayload, []byte(strings.Repeat(hepSIP, 10))))
		var h HEP
		b.SetBytes(int64(len(pkt)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseHEP(pkt, &h, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("v3-zlib", func(b *testing.B) {
		pkt := hepWith(hepV3Addr(hepSrc4, hepDst4, 17), hepChunk(hepChunkZPayload, hepZlib(strings.Repeat(hepSIP, 10))))
		var h HEP
		var scratch []byte
		b.SetBytes(int64(len(pkt)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseHEP(pkt, &h, &scratch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("v2", func(b *testing.B) {
		pkt := hepV12(2, hepSrc4, hepDst4, 17, 1700000000, 1, 1, strings.Repeat(hepSIP, 10))
		var h HEP
		b.SetBytes(int64(len(pkt)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseHEP(pkt, &h, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
