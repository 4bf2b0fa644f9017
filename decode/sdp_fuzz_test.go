package decode

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// checkSDPViews fails the test if any non-empty []byte of s lies outside in.
func checkSDPViews(t testing.TB, in []byte, s *SDP) {
	t.Helper()
	walkViews(reflect.ValueOf(s), "SDP", func(path string, b []byte) {
		if len(b) > 0 && !inside(in, b) {
			t.Errorf("%s = %q is not a view of the input", path, b)
		}
	})
}

// FuzzParseSDP checks that ParseSDP never panics or writes to its input,
// that its views lie inside the input, that its results are consistent,
// and that reusing an SDP gives the same result as a fresh one.
func FuzzParseSDP(f *testing.F) {
	f.Add([]byte(benchSDP))
	f.Add([]byte("v=0\nc=IN IP6 ::1\nm=audio 1/2 RTP/SAVP 0 8 96\na=rtpmap:96 opus/48000/2\na=rtcp:9 IN IP6 ::1\na=rtcp-mux\na=inactive\n"))
	f.Add([]byte("v=0\r\nc=IN IP4 0.0.0.0\r\nm=image 5000 udptl t38\r\nm=audio 0 RTP/AVP\r\n"))
	f.Add([]byte("v=0\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:x\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=candidate:1 1 udp 2122260223 192.168.1.10 50000 typ host generation 0\r\n" +
		"a=candidate:2 2 UDP 1686052607 203.0.113.5 50001 typ srflx raddr 192.168.1.10 rport 50001\r\na=candidate:3 1 udp 1 4f1c.local 9 typ host\r\na=candidate:4 1 TCP 1 ::1 9 typ host tcptype active\r\n"))
	files, _ := filepath.Glob(filepath.Join("testdata", "torture", "*.sip"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var m Message
		ParseSIP(b, &m)
		if m.SDP != nil {
			f.Add(bytes.Clone(m.SDP))
		}
	}
	var reused SDP
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		var s SDP
		err := ParseSDP(b, &s)
		if !bytes.Equal(b, orig) {
			t.Fatalf("ParseSDP modified its input")
		}
		if err != nil && !errors.Is(err, ErrBadSDP) {
			t.Fatalf("error %v does not wrap ErrBadSDP", err)
		}
		checkSDPViews(t, b, &s)
		for i, md := range s.Media {
			if md.Direction == DirUnset || md.Port < 0 || md.Port > 65535 || md.NumPorts < 0 {
				t.Fatalf("media %d = %+v", i, md)
			}
			for _, pt := range md.Formats {
				if pt < 0 || pt > 127 {
					t.Fatalf("media %d: payload type %d", i, pt)
				}
				_ = md.Codec(pt)
			}
			_ = md.Hold()
			if len(md.Candidates) > MaxCandidates {
				t.Fatalf("media %d: %d candidates", i, len(md.Candidates))
			}
			for _, c := range md.Candidates {
				if c.Component < 1 || c.Component > 256 || !c.Addr.IsValid() || c.Addr.Port() == 0 {
					t.Fatalf("media %d: candidate %+v", i, c)
				}
			}
		}
		rerr := ParseSDP(b, &reused)
		if (err == nil) != (rerr == nil) || !sdpEqual(&s, &reused) {
			t.Fatalf("reused SDP differs:\n got %+v\nwant %+v", reused, s)
		}
		checkSDPViews(t, b, &reused)
	})
}

// sdpEqual compares two parsed SDPs, treating empty and nil slices alike.
func sdpEqual(a, b *SDP) bool {
	if !bytes.Equal(a.Origin, b.Origin) || a.Conn != b.Conn || !bytes.Equal(a.ConnRaw, b.ConnRaw) || a.Direction != b.Direction || len(a.Media) != len(b.Media) {
		return false
	}
	for i := range a.Media {
		x, y := a.Media[i], b.Media[i]
		if !bytes.Equal(x.Type, y.Type) || x.Port != y.Port || x.NumPorts != y.NumPorts || !bytes.Equal(x.Proto, y.Proto) ||
			x.Conn != y.Conn || !bytes.Equal(x.ConnRaw, y.ConnRaw) || x.Direction != y.Direction || x.RTCPPort != y.RTCPPort ||
			x.RTCPMux != y.RTCPMux || x.ICE != y.ICE || len(x.Formats) != len(y.Formats) || len(x.RTPMaps) != len(y.RTPMaps) ||
			!slices.Equal(x.Candidates, y.Candidates) {
			return false
		}
		for j := range x.Formats {
			if x.Formats[j] != y.Formats[j] {
				return false
			}
		}
		for j := range x.RTPMaps {
			p, q := x.RTPMaps[j], y.RTPMaps[j]
			if p.PT != q.PT || !bytes.Equal(p.Name, q.Name) || p.Clock != q.Clock || p.Channels != q.Channels {
				return false
			}
		}
	}
	return true
}
