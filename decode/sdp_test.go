package decode

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseSDP(t *testing.T) {
	var s SDP
	if err := ParseSDP([]byte(benchSDP), &s); err != nil {
		t.Fatal(err)
	}
	eq(t, "Origin", s.Origin, "alice 2890844526 2890844527 IN IP4 198.51.100.7")
	if s.Conn != netip.MustParseAddr("198.51.100.7") || s.Direction != DirUnset || len(s.Media) != 1 {
		t.Fatalf("Conn %v Direction %v %d media", s.Conn, s.Direction, len(s.Media))
	}
	eq(t, "ConnRaw", s.ConnRaw, "198.51.100.7")
	md := s.Media[0]
	eq(t, "Type", md.Type, "audio")
	eq(t, "Proto", md.Proto, "RTP/AVP")
	if md.Port != 49170 || md.NumPorts != 1 || !reflect.DeepEqual(md.Formats, []int{0, 8, 18, 101}) {
		t.Errorf("Port %d NumPorts %d Formats %v", md.Port, md.NumPorts, md.Formats)
	}
	if md.Conn != s.Conn || md.Direction != DirSendRecv || md.Hold() || md.RTCPPort != 0 || md.RTCPMux {
		t.Errorf("Conn %v Direction %v", md.Conn, md.Direction)
	}
	if len(md.RTPMaps) != 4 {
		t.Fatalf("RTPMaps = %v", md.RTPMaps)
	}
	eq(t, "RTPMaps[3].Name", md.RTPMaps[3].Name, "telephone-event")
	if m := md.RTPMaps[3]; m.PT != 101 || m.Clock != 8000 || m.Channels != 0 {
		t.Errorf("RTPMaps[3] = %+v", m)
	}
	for pt, want := range map[int]string{0: "PCMU", 8: "PCMA", 18: "G729", 101: "telephone-event", 9: "G722", 96: ""} {
		if got := md.Codec(pt); got != want {
			t.Errorf("Codec(%d) = %q, want %q", pt, got, want)
		}
	}
}

func TestParseSDPMediaLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Media // only the fields set here are compared
		sess Direction
	}{
		{
			name: "session-level c and direction, media overrides",
			in: `v=0
o=- 1 2 IN IP4 10.0.0.1
s=-
c=IN IP4 10.0.0.1
t=0 0
a=sendonly
m=audio 5004 RTP/AVP 0
m=video 5006/2 RTP/AVPF 96 97
c=IN IP4 10.0.0.2/127
a=recvonly
a=rtcp:5011 IN IP4 10.0.0.2
a=rtcp-mux
a=rtpmap:96 H264/90000
a=rtpmap:97 VP8/90000
`,
			sess: DirSendOnly,
			want: []Media{
				{Type: []byte("audio"), Port: 5004, NumPorts: 1, Proto: []byte("RTP/AVP"), Formats: []int{0}, Conn: netip.MustParseAddr("10.0.0.1"), ConnRaw: []byte("10.0.0.1"), Direction: DirSendOnly},
				{Type: []byte("video"), Port: 5006, NumPorts: 2, Proto: []byte("RTP/AVPF"), Formats: []int{96, 97}, Conn: netip.MustParseAddr("10.0.0.2"), ConnRaw: []byte("10.0.0.2/127"), Direction: DirRecvOnly, RTCPPort: 5011, RTCPMux: true,
					RTPMaps: []RTPMap{{96, []byte("H264"), 90000, 0}, {97, []byte("VP8"), 90000, 0}}},
			},
		},
		{
			name: "IPv6, opus channels, inactive",
			in:   "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::2\r\nt=0 0\r\nm=audio 40000 UDP/TLS/RTP/SAVPF 111 0\r\na=rtpmap:111 opus/48000/2\r\na=inactive\r\n",
			want: []Media{
				{Type: []byte("audio"), Port: 40000, NumPorts: 1, Proto: []byte("UDP/TLS/RTP/SAVPF"), Formats: []int{111, 0}, Conn: netip.MustParseAddr("2001:db8::2"), ConnRaw: []byte("2001:db8::2"), Direction: DirInactive,
					RTPMaps: []RTPMap{{111, []byte("opus"), 48000, 2}}},
			},
		},
		{
			name: "RFC 2543 hold, FQDN, T.38, rejected stream",
			in: `v=0
o=- 1 1 IN IP4 media.example.com
s=-
c=IN IP4 media.example.com
t=0 0
m=audio 7000 RTP/AVP 0 101 x
c=IN IP4 0.0.0.0
m=image 7002 udptl t38
m=video 0 RTP/AVP 31
`,
			want: []Media{
				{Type: []byte("audio"), Port: 7000, NumPorts: 1, Proto: []byte("RTP/AVP"), Formats: []int{0, 101}, Conn: netip.MustParseAddr("0.0.0.0"), ConnRaw: []byte("0.0.0.0"), Direction: DirSendRecv},
				{Type: []byte("image"), Port: 7002, NumPorts: 1, Proto: []byte("udptl"), ConnRaw: []byte("media.example.com"), Direction: DirSendRecv},
				{Type: []byte("video"), Port: 0, NumPorts: 1, Proto: []byte("RTP/AVP"), Formats: []int{31}, ConnRaw: []byte("media.example.com"), Direction: DirSendRecv},
			},
		},
		{
			name: "tolerant: stray lines, blanks, spaces, missing s= and t=",
			in:   "\r\nv=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.1\r\nm =video 1 RTP/AVP 31\r\ngarbage\r\nm=audio 49217 RTP/AVP 0 12  \r\n\r\na=rtpmap:12 QCELP/8000\r\na=rtpmap:bad\r\na=rtpmap:13\r\nX=upper\r\n",
			want: []Media{
				{Type: []byte("audio"), Port: 49217, NumPorts: 1, Proto: []byte("RTP/AVP"), Formats: []int{0, 12}, Conn: netip.MustParseAddr("192.0.2.1"), ConnRaw: []byte("192.0.2.1"), Direction: DirSendRecv,
					RTPMaps: []RTPMap{{12, []byte("QCELP"), 8000, 0}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			var s SDP
			if err := ParseSDP(in, &s); err != nil {
				t.Fatal(err)
			}
			checkSDPViews(t, in, &s)
			if s.Direction != tt.sess {
				t.Errorf("Direction = %v, want %v", s.Direction, tt.sess)
			}
			if len(s.Media) != len(tt.want) {
				t.Fatalf("%d media, want %d", len(s.Media), len(tt.want))
			}
			for i, w := range tt.want {
				g := s.Media[i]
				if len(g.Formats) == 0 {
					g.Formats = nil
				}
				if len(g.RTPMaps) == 0 {
					g.RTPMaps = nil
				}
				if !reflect.DeepEqual(g, w) {
					t.Errorf("media %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func TestParseSDPErrors(t *testing.T) {
	for _, in := range []string{"", "\r\n", "o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n", "hello", "<audio/>"} {
		var s SDP
		if err := ParseSDP([]byte(in), &s); !errors.Is(err, ErrBadSDP) {
			t.Errorf("ParseSDP(%q) = %v, want ErrBadSDP", in, err)
		}
	}
	// A bad m= line is reported, and the rest is still read.
	in := []byte("v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio x RTP/AVP 0\r\nm=audio 5000 RTP/AVP 8\r\nm=audio 6000\r\n")
	var s SDP
	err := ParseSDP(in, &s)
	if !errors.Is(err, ErrBadSDP) || !strings.Contains(err.Error(), `"audio x RTP/AVP 0"`) {
		t.Errorf("err = %v", err)
	}
	if len(s.Media) != 3 || s.Media[1].Port != 5000 || s.Media[1].Formats[0] != 8 {
		t.Errorf("media = %+v", s.Media)
	}
}

func TestMediaHold(t *testing.T) {
	v4, v6, zero := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("0.0.0.0")
	tests := []struct {
		m    Media
		want bool
	}{
		{Media{Conn: v4, Direction: DirSendRecv}, false},
		{Media{Conn: v4, Direction: DirRecvOnly}, false},
		{Media{Conn: v4, Direction: DirSendOnly}, true},
		{Media{Conn: v6, Direction: DirInactive}, true},
		{Media{Conn: zero, Direction: DirSendRecv}, true},
		{Media{Direction: DirSendRecv}, false},                        // FQDN: unknown address
		{Media{Conn: zero, Direction: DirSendRecv, ICE: true}, false}, // trickle ICE's placeholder
		{Media{Conn: zero, Direction: DirSendOnly, ICE: true}, true},
	}
	for _, tt := range tests {
		if got := tt.m.Hold(); got != tt.want {
			t.Errorf("Hold(%v %v) = %v, want %v", tt.m.Conn, tt.m.Direction, got, tt.want)
		}
	}
}

func TestCodecStatic(t *testing.T) {
	var m Media
	for pt, want := range map[int]string{0: "PCMU", 1: "", 3: "GSM", 4: "G723", 5: "DVI4", 7: "LPC", 8: "PCMA", 9: "G722", 10: "L16", 12: "QCELP", 13: "CN", 14: "MPA", 15: "G728", 18: "G729", 19: "", 26: "JPEG", 31: "H261", 34: "H263", 35: "", -1: "", 127: ""} {
		if got := m.Codec(pt); got != want {
			t.Errorf("Codec(%d) = %q, want %q", pt, got, want)
		}
	}
	// An rtpmap overrides the static table.
	m.RTPMaps = []RTPMap{{PT: 0, Name: []byte("pcmu")}}
	if got := m.Codec(0); got != "pcmu" {
		t.Errorf("Codec(0) = %q", got)
	}
}

func TestDirectionString(t *testing.T) {
	for d, want := range map[Direction]string{DirUnset: "unset", DirSendRecv: "sendrecv", DirSendOnly: "sendonly", DirRecvOnly: "recvonly", DirInactive: "inactive", 99: "unset"} {
		if got := d.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", d, got, want)
		}
	}
}

func TestParseSDPReuse(t *testing.T) {
	two := []byte("v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=candidate:1 1 udp 1 192.0.2.1 1 typ host\r\n" +
		"m=video 2 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=sendonly\r\n")
	one := []byte("v=0\r\nm=audio 3 RTP/AVP 18\r\n")
	var s SDP
	if err := ParseSDP(two, &s); err != nil {
		t.Fatal(err)
	}
	if err := ParseSDP(one, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Media) != 1 || len(s.Media[0].Formats) != 1 || len(s.Media[0].RTPMaps) != 0 || len(s.Media[0].Candidates) != 0 || s.Media[0].Direction != DirSendRecv || s.Media[0].ConnRaw != nil || s.Conn.IsValid() {
		t.Errorf("stale data after reuse: %+v", s)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := ParseSDP(two, &s); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ParseSDP allocates %v times in steady state, want 0", allocs)
	}
}

// TestParseSDPFromSIP reads the SDP of the torture INVITE through ParseSIP,
// the way callers do.
func TestParseSDPFromSIP(t *testing.T) {
	m := mustParse(t, benchInvite)
	var s SDP
	if err := ParseSDP(m.SDP, &s); err != nil {
		t.Fatal(err)
	}
	checkSDPViews(t, benchInvite, &s)
	if len(s.Media) != 1 || s.Media[0].Port != 49170 {
		t.Errorf("media = %+v", s.Media)
	}
}

// TestParseSDPICE: a WebRTC offer sent before its candidates (trickle ICE,
// RFC 8840 §4.2: c=0.0.0.0, port 9) uses ICE, at media or session level,
// and is not on hold; the same lines without ICE are RFC 2543 hold.
func TestParseSDPICE(t *testing.T) {
	const media = "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n" +
		"a=ice-pwd:asd88fgpdd777uzjYhagZg\r\na=fingerprint:sha-256 19:E2:1C\r\na=setup:actpass\r\na=mid:0\r\n" +
		"a=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
	const head = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
	for _, tc := range []struct {
		name, sdp string
		ice       bool
	}{
		{"media level", head + media + "a=ice-ufrag:8hhY\r\n", true},
		{"session level", head + "a=ice-ufrag:8hhY\r\n" + media, true},
		{"no ICE", head + media, false},
	} {
		var s SDP
		if err := ParseSDP([]byte(tc.sdp), &s); err != nil || len(s.Media) != 1 {
			t.Fatalf("%s: %v, %d media", tc.name, err, len(s.Media))
		}
		md := &s.Media[0]
		if md.ICE != tc.ice || md.Hold() == tc.ice || !md.RTCPMux || md.Port != 9 {
			t.Errorf("%s: ICE %v hold %v rtcp-mux %v port %d", tc.name, md.ICE, md.Hold(), md.RTCPMux, md.Port)
		}
	}
}

// TestParseSDPBundleOnly: a=bundle-only (RFC 8843 §6) marks its own line
// only, and a reparse into the same SDP forgets it.
func TestParseSDPBundleOnly(t *testing.T) {
	const sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n" +
		"m=audio 50002 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 203.0.113.5\r\na=mid:0\r\n" +
		"m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=bundle-only\r\na=mid:1\r\n"
	var s SDP
	if err := ParseSDP([]byte(sdp), &s); err != nil || len(s.Media) != 2 {
		t.Fatalf("%v, %d media", err, len(s.Media))
	}
	if s.Media[0].BundleOnly || !s.Media[1].BundleOnly {
		t.Errorf("bundle-only = %v, %v; want false, true", s.Media[0].BundleOnly, s.Media[1].BundleOnly)
	}
	const plain = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n"
	if err := ParseSDP([]byte(plain), &s); err != nil || len(s.Media) != 2 || s.Media[1].BundleOnly {
		t.Errorf("reparsed: %v, %+v", err, s.Media)
	}
}

// TestParseSDPCandidates: a=candidate lines (RFC 8839 §5.1) over UDP with
// an IP address are kept, with component, address, port and type; TCP
// candidates, mDNS names, bad ports and components are not; a line holds
// at most MaxCandidates.
func TestParseSDPCandidates(t *testing.T) {
	const head = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 50002 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 203.0.113.5\r\na=ice-ufrag:8hhY\r\n"
	ap := netip.MustParseAddrPort
	for _, tc := range []struct {
		name, lines string
		want        []Candidate
	}{
		{"host and srflx, both components",
			"a=candidate:1 1 udp 2122260223 192.168.1.10 50000 typ host generation 0 network-id 1\r\n" +
				"a=candidate:1 2 udp 2122260222 192.168.1.10 50001 typ host\r\n" +
				"a=candidate:2 1 UDP 1686052607 203.0.113.5 50002 typ srflx raddr 192.168.1.10 rport 50000\r\n",
			[]Candidate{{1, ap("192.168.1.10:50000"), CandHost}, {2, ap("192.168.1.10:50001"), CandHost}, {1, ap("203.0.113.5:50002"), CandSrflx}}},
		{"relay and IPv6", "a=candidate:3 1 udp 41885439 198.51.100.7 3478 typ relay raddr 0.0.0.0 rport 0\r\n" +
			"a=candidate:4 1 udp 2122194687 2001:db8::5 50010 typ host\r\n" +
			"a=candidate:5 1 udp 2122194687 fe80::1%eth0 50012 typ host\r\na=candidate:6 1 udp 2122194687 ::ffff:192.0.2.9 50014 typ host\r\n",
			[]Candidate{{1, ap("198.51.100.7:3478"), CandRelay}, {1, ap("[2001:db8::5]:50010"), CandHost}, {1, ap("[fe80::1]:50012"), CandHost},
				{1, ap("192.0.2.9:50014"), CandHost}}},
		{"prflx, unknown type, no type", "a=candidate:5 1 udp 1 192.0.2.1 7000 typ prflx\r\na=candidate:6 1 udp 1 192.0.2.2 7002 typ foo\r\na=candidate:7 1 udp 1 192.0.2.3 7004\r\n" +
			"a=candidate:8 1 udp 1 192.0.2.4 7006 generation relay\r\n",
			[]Candidate{{1, ap("192.0.2.1:7000"), CandPrflx}, {1, ap("192.0.2.2:7002"), CandOther}, {1, ap("192.0.2.3:7004"), CandOther}, {1, ap("192.0.2.4:7006"), CandOther}}},
		{"not kept", "a=candidate:1 1 tcp 1518280447 192.168.1.10 9 typ host tcptype active\r\n" +
			"a=candidate:2 1 udp 2122260223 4f1c2e0b-1e5c-4c67.local 50000 typ host\r\n" +
			"a=candidate:3 0 udp 1 192.0.2.1 7000 typ host\r\na=candidate:4 1 udp 1 192.0.2.1 0 typ host\r\n" +
			"a=candidate:5 1 udp 1 192.0.2.1 70000 typ host\r\na=candidate:6 257 udp 1 192.0.2.1 7000 typ host\r\na=candidate:7 1\r\n", nil},
	} {
		var s SDP
		if err := ParseSDP([]byte(head+tc.lines), &s); err != nil || len(s.Media) != 1 {
			t.Fatalf("%s: %v, %d media", tc.name, err, len(s.Media))
		}
		if got := s.Media[0].Candidates; !slices.Equal(got, tc.want) {
			t.Errorf("%s: candidates %v, want %v", tc.name, got, tc.want)
		}
	}
	var many strings.Builder
	many.WriteString(head)
	for i := range MaxCandidates + 5 {
		fmt.Fprintf(&many, "a=candidate:%d 1 udp 1 10.1.%d.%d 4000 typ host\r\n", i, i/256, i%256)
	}
	var s SDP
	if err := ParseSDP([]byte(many.String()), &s); err != nil || len(s.Media[0].Candidates) != MaxCandidates {
		t.Errorf("%d candidates kept of %d (%v), want %d", len(s.Media[0].Candidates), MaxCandidates+5, err, MaxCandidates)
	}
}
