package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzParseHEP checks that ParseHEP never panics, that n stays within the
// input, that every view points into the input (or, for an inflated payload,
// into scratch), and that whatever parses also passes LooksLikeHEP.
func FuzzParseHEP(f *testing.F) {
	addr4 := hepV3Addr(hepSrc4, hepDst4, 17)
	seeds := [][]byte{
		hepWith(addr4, hepU32(hepChunkTimeSec, 1), hepU32(hepChunkTimeUsec, 2), hepU8(hepChunkProtoType, 1),
			hepU32(hepChunkCaptureID, 3), hepChunk(hepChunkCorrelation, []byte("cid")), hepChunk(hepChunkPayload, []byte(hepSIP))),
		hepWith(hepV3Addr(hepSrc6, hepDst6, 6), hepChunk(hepChunkZPayload, hepZlib(hepSIP))),
		hepWith(addr4, hepChunk(hepChunkZPayload, hepGzip(hepSIP))),
		hepWith(addr4, hepVendorChunk(7, 1, []byte("x")), hepChunk(0x00ff, nil), hepChunk(hepChunkPayload, nil)),
		append(hepWith(addr4, hepChunk(hepChunkPayload, []byte("a"))), hepWith(addr4, hepChunk(hepChunkPayload, []byte("b")))...),
		hepV12(1, hepSrc4, hepDst4, 17, 0, 0, 0, hepSIP),
		hepV12(2, hepSrc4, hepDst4, 17, 1700000000, 1, 2, hepSIP),
		hepV12(2, hepSrc6, hepDst6, 6, 1700000000, 1, 2, hepSIP),
		[]byte("HEP3\x00\x06"),
		[]byte("HEP3\x00\x07\x00"),
		[]byte("HEP3\xff\xff"),
		{2, 16, 2, 17},
		nil,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	var h HEP
	var scratch []byte
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseHEP(b, &h, &scratch)
		if n < 0 || n > len(b) {
			t.Fatalf("n = %d outside [0, %d]", n, len(b))
		}
		if err != nil {
			if !errors.Is(err, ErrBadHEP) {
				t.Fatalf("error %v does not wrap ErrBadHEP", err)
			}
			return
		}
		if !LooksLikeHEP(b) {
			t.Fatalf("ParseHEP accepted what LooksLikeHEP rejects: %q", b)
		}
		switch h.Version {
		case 1, 2:
			if n != len(b) {
				t.Fatalf("v%d: n = %d, want all %d bytes", h.Version, n, len(b))
			}
		case 3:
			if n != int(binary.BigEndian.Uint16(b[4:])) {
				t.Fatalf("v3: n = %d, total length field %d", n, binary.BigEndian.Uint16(b[4:]))
			}
		default:
			t.Fatalf("Version = %d", h.Version)
		}
		if !hepInside(b[:n], h.CorrelationID) {
			t.Fatal("CorrelationID outside the packet")
		}
		if h.Compressed {
			if !hepInside(scratch, h.Payload) || len(h.Payload) > HEPMaxPayload {
				t.Fatalf("inflated Payload (%d bytes) not in scratch or too big", len(h.Payload))
			}
		} else if !hepInside(b[:n], h.Payload) {
			t.Fatal("Payload outside the packet")
		}
		if (h.Src.IsValid() && !h.Src.Addr().Is4() && !h.Src.Addr().Is6()) || h.Src.Addr().Zone() != "" {
			t.Fatalf("odd Src %v", h.Src)
		}
		// Parsing again with a fresh scratch gives the same answer.
		var h2 HEP
		payload := bytes.Clone(h.Payload)
		if _, err := ParseHEP(b, &h2, nil); err != nil || !bytes.Equal(h2.Payload, payload) || h2.Src != h.Src || h2.Dst != h.Dst {
			t.Fatalf("second parse differs: %v", err)
		}
	})
}

// FuzzParseRTP checks that ParseRTP never panics and that on success the
// header, CSRCs, extension, payload and padding account for every byte.
func FuzzParseRTP(f *testing.F) {
	f.Add(rtpPacket(false, 0, 1, 2, 3, nil, 0, nil, make([]byte, 160), 0))
	f.Add(rtpPacket(true, 101, 1, 2, 3, nil, 0, nil, []byte{1, 0x8a, 0, 160}, 0))
	f.Add(rtpPacket(true, 9, 7, 8, 9, []uint32{5, 6}, 0xbede, []byte{1, 2, 3, 4}, []byte("g722"), 3))
	f.Add(rtpPacket(false, 0, 1, 2, 3, nil, 0, nil, nil, 1))
	f.Add([]byte{0x80, 0xc8, 0, 0})
	f.Add([]byte{0xbf, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	var p RTP
	var e TelephoneEvent
	f.Fuzz(func(t *testing.T, b []byte) {
		err := ParseRTP(b, &p)
		if err != nil {
			if !errors.Is(err, ErrBadRTP) {
				t.Fatalf("error %v does not wrap ErrBadRTP", err)
			}
			return
		}
		if p.Version != 2 || p.CSRCCount > 15 || p.PayloadType > 127 || len(p.CSRC) != 4*p.CSRCCount {
			t.Fatalf("odd header %+v", p)
		}
		for _, v := range [][]byte{p.CSRC, p.ExtensionData, p.Payload} {
			if !hepInside(b, v) {
				t.Fatal("view outside the packet")
			}
		}
		total := rtpHeaderLen + len(p.CSRC) + len(p.Payload) + p.PaddingLen
		if p.Extension {
			total += 4 + len(p.ExtensionData)
		}
		if total != len(b) {
			t.Fatalf("parts add up to %d bytes, packet has %d", total, len(b))
		}
		if (p.PaddingLen > 0) != p.Padding {
			t.Fatalf("Padding %v with PaddingLen %d", p.Padding, p.PaddingLen)
		}
		if err := ParseTelephoneEvent(p.Payload, &e); err == nil {
			e.Digit()
		} else if !errors.Is(err, ErrBadRTP) {
			t.Fatalf("telephone-event error %v does not wrap ErrBadRTP", err)
		}
	})
}

// FuzzParseRTCP checks that ParseRTCP never panics, that the packets it
// keeps tile a prefix of the input (all of it on success), and that their
// views stay inside it.
func FuzzParseRTCP(f *testing.F) {
	f.Add(rtcpCat(rtcpSR(1, 2, 3, 4, 5, rtcpBlockA), rtcpSDES(1, "alice")))
	f.Add(rtcpCat(rtcpRR(1, rtcpBlockA, rtcpBlockB), rtcpSDES(1, "b"), rtcpBYE(1, 2)))
	f.Add(rtcpCat(rtcpRR(2), append(rtcpHeader(1, RTCPTypePSFB, 8, false), 0, 0, 0, 7, 0, 0, 0, 9)))
	f.Add(append(rtcpHeader(0, RTCPTypeRR, 8, true), 0, 0, 0, 8, 0, 0, 0, 4))
	f.Add(append(rtcpHeader(3, RTCPTypeAPP, 12, false), 0, 0, 0, 5, 'q', 'o', 'e', '!', 1, 2, 3, 4))
	f.Add([]byte{0x80, 0xc9, 0, 0})
	var c RTCP
	f.Fuzz(func(t *testing.T, b []byte) {
		err := ParseRTCP(b, &c)
		if err != nil && !errors.Is(err, ErrBadRTCP) {
			t.Fatalf("error %v does not wrap ErrBadRTCP", err)
		}
		off := 0
		for _, p := range c.Packets {
			if p.Length < rtcpHeaderLen || p.Length%4 != 0 || off+p.Length > len(b) {
				t.Fatalf("packet type %d length %d at offset %d of %d", p.Type, p.Length, off, len(b))
			}
			pkt := b[off : off+p.Length]
			if !hepInside(pkt, p.Body) || !hepInside(pkt, p.CNAME) {
				t.Fatalf("type %d: view outside its packet", p.Type)
			}
			if (p.Type == RTCPTypeSR || p.Type == RTCPTypeRR) && len(p.Reports) != int(p.Count) {
				t.Fatalf("type %d: %d reports, count %d", p.Type, len(p.Reports), p.Count)
			}
			if p.Type != RTCPTypeSR && p.Type != RTCPTypeRR && len(p.Reports) != 0 {
				t.Fatalf("type %d has reports", p.Type)
			}
			off += p.Length
		}
		if err == nil {
			if off != len(b) {
				t.Fatalf("packets cover %d of %d bytes", off, len(b))
			}
			if t0 := b[1]; t0 >= RTCPTypeSR && t0 <= RTCPTypeXR && !LooksLikeRTCP(b) {
				t.Fatal("ParseRTCP accepted what LooksLikeRTCP rejects")
			}
		}
	})
}
