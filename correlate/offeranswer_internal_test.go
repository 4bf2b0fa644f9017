package correlate

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/decode"
)

// TestSameMediaLines: the shortcut compareSDP takes before parsing holds
// only for media descriptions equal byte for byte but for the first m=
// line's port, 0 in neither.
func TestSameMediaLines(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
	const other = "v=0\r\no=bob 9 9 IN IP4 10.0.0.2\r\ns=call\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
	tests := []struct {
		name, a, b string
		want       bool
	}{
		{"other ports, other session lines", head + "m=audio 4000 RTP/AVP 0 8\r\na=sendrecv\r\n", other + "m=audio 5000 RTP/AVP 0 8\r\na=sendrecv\r\n", true},
		{"dynamic types, the same rtpmap", head + "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n", head + "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n", true},
		{"no m= line at all", head, other, true},
		{"an m= in a value first", "v=0\r\ns=m=1\r\nm=audio 4000 RTP/AVP 0\r\n", head + "m=audio 5000 RTP/AVP 0\r\n", true},
		{"a port count", head + "m=audio 4000/2 RTP/AVP 0\r\n", head + "m=audio 5000/2 RTP/AVP 0\r\n", true},
		{"dynamic types, another rtpmap", head + "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n", head + "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 AMR/8000\r\n", false},
		{"another attribute", head + "m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n", head + "m=audio 5000 RTP/AVP 0\r\n", false},
		{"another line end", head + "m=audio 4000 RTP/AVP 0\n", head + "m=audio 5000 RTP/AVP 0\r\n", false},
		{"leading space, as ParseSDP reads it", head + " m=audio 4000 RTP/AVP 0\r\n", head + " m=audio 5000 RTP/AVP 0\r\n", false},
		{"a tab in the type, a format taken for the port", "v=0\nm=audio\t4000\tRTP/AVP 8 13\n", "v=0\nm=audio\t4000\tRTP/AVP 18 13\n", false},
		{"leading tab", head + "\tm=audio 4000 RTP/AVP 0\r\n", head + "\tm=audio 5000 RTP/AVP 0\r\n", false},
		{"m= first", "m=audio 4000 RTP/AVP 0\r\n", "m=audio 4000 RTP/AVP 0\r\n", false},
		{"fewer formats", head + "m=audio 4000 RTP/AVP 0 8\r\n", head + "m=audio 5000 RTP/AVP 8\r\n", false},
		{"another type", head + "m=audio 4000 RTP/AVP 0\r\n", head + "m=video 4000 RTP/AVP 0\r\n", false},
		{"a line more", head + "m=audio 4000 RTP/AVP 0\r\n", head + "m=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\n", false},
		{"one without media", head + "m=audio 4000 RTP/AVP 0\r\n", head, false},
		{"refused", head + "m=audio 4000 RTP/AVP 0\r\n", head + "m=audio 0 RTP/AVP 0\r\n", false},
		{"removed", head + "m=audio 0 RTP/AVP 0\r\n", head + "m=audio 4000 RTP/AVP 0\r\n", false},
		{"port 00", head + "m=audio 00 RTP/AVP 0\r\n", head + "m=audio 4000 RTP/AVP 0\r\n", false},
		{"port without a value", head + "m=audio\r\n", head + "m=audio\r\n", false},
		{"a count with a tab after it", head + "m=audio 4000/2\tX\t8 13\r\n", head + "m=audio 5000/2\tX\t18 13\r\n", false},
		{"two spaces", head + "m=audio  4000 RTP/AVP 0\r\n", head + "m=audio  5000 RTP/AVP 0\r\n", false},
	}
	for _, tt := range tests {
		if got := sameMediaLines([]byte(tt.a), []byte(tt.b)); got != tt.want {
			t.Errorf("%s: sameMediaLines = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// FuzzSameMediaLines: whenever the shortcut says an answer fits its offer,
// parsing both finds nothing wrong either (answerFaults).
func FuzzSameMediaLines(f *testing.F) {
	const head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
	f.Add([]byte(head+"m=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n"), []byte(head+"m=audio 5000 RTP/AVP 0 8\r\n"))
	f.Add([]byte(head+"m=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n"), []byte(head+"m=audio 5000 RTP/AVP 0\r\nm=video 5002 RTP/AVP 96\r\n"))
	f.Add([]byte(head+"m=image 4000 udptl t38\n"), []byte(head+"m=image 5000 udptl t38\n"))
	f.Add([]byte(head+"m=audio 4000/2 RTP/AVP 13\r\n"), []byte(head+" m=audio 5000/2 RTP/AVP 13\r\n"))
	f.Add([]byte(head+"m=audio 4000/2\tX\t8 13\r\n"), []byte(head+"m=audio 5000/2\tX\t18 13\r\n"))
	f.Add([]byte("v=0\nm=audio\t4000\tRTP/AVP 8 13\n"), []byte("v=0\nm=audio\t4000\tRTP/AVP 18 13\n"))
	f.Add([]byte(head+"m=audio 4000 RTP/AVP 0\r\n"), []byte("v=0\r\no=- 1 1 IN IP6 ::2\r\ns=-\r\nc=IN IP6 2001:db8::2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"))
	f.Add([]byte(head+"m=audio 4000 RTP/AVP 0\r\n"), []byte("v=0\r\nc=IN IP4 ::1\r\nm=audio 5000 RTP/AVP 0\r\n"))
	f.Add([]byte("v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 4000 RTP/AVP 0\r\n"), []byte("v=0\r\nc=IN IP4 2.2.2.2\r\n c=IN IP6 ::1\r\nm=audio 5000 RTP/AVP 0\r\n"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if !sameMediaLines(a, b) {
			return
		}
		var off, ans decode.SDP
		if decode.ParseSDP(a, &off) != nil || decode.ParseSDP(b, &ans) != nil {
			return // compareSDP gives up on these too
		}
		if firstAddrType(a) != firstAddrType(b) {
			return // compareSDP's shortcut is both tests
		}
		for _, f := range answerFaults(&off, &ans, &Message{Method: "INVITE"}, &Message{Status: 200, Reason: "OK"}) {
			// The shortcut reads the address type of the first c= line,
			// answerFaults the address of the c= line that applies: they
			// differ only in an SDP whose c= lines contradict their type
			// (c=IN IP4 ::1) or repeat at the session level, which RFC
			// 8866 §5.7 forbids.
			if f.RFC == "RFC 6157" && (!plainConn(a) || !plainConn(b)) {
				continue
			}
			t.Fatalf("shortcut passed what answerFaults faults: %s\noffer %q\nanswer %q", f.Detail, a, b)
		}
	})
}

// plainConn reports whether every c= line of body is "c=IN IP4 ADDR" or
// "c=IN IP6 ADDR" with an address of that family, and the session level
// has at most one.
func plainConn(body []byte) bool {
	session := 0
	inMedia := false
	for _, line := range strings.FieldsFunc(string(body), func(r rune) bool { return r == '\n' }) {
		line = strings.TrimSuffix(line, "\r")
		inMedia = inMedia || strings.HasPrefix(line, "m=")
		if t := strings.TrimLeft(line, " \t"); t != line && strings.HasPrefix(t, "c=") {
			return false // ParseSDP reads it, the shortcut does not
		}
		if !strings.HasPrefix(line, "c=") {
			continue
		}
		f := strings.Fields(line[2:])
		if len(f) < 3 || f[0] != "IN" || f[1] != "IP4" && f[1] != "IP6" {
			return false
		}
		addr, err := netip.ParseAddr(strings.Split(f[2], "/")[0])
		if err != nil || addr.Is4() != (f[1] == "IP4") || len(f) > 3 || line[2:] != strings.Join(f, " ") {
			return false
		}
		if !inMedia {
			session++
		}
	}
	return session <= 1
}

// Offer and answer bodies as a SIPp caller and callee write them, and as a
// softphone offers several codecs and a gateway answers one.
const (
	benchOfferSIPp  = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	benchAnswerSIPp = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 6002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	benchOfferPhone = "v=0\r\no=- 3911 3911 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 9 0 8 18 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:18 G729/8000\r\n" +
		"a=fmtp:18 annexb=no\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
	benchAnswerGW = "v=0\r\no=gw 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n" +
		"m=audio 18000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n"
)

// BenchmarkSameMediaLines is compareSDP's shortcut on the usual answer of
// a one-codec call: it runs once for every offer and answer.
func BenchmarkSameMediaLines(b *testing.B) {
	offer, answer := []byte(benchOfferSIPp), []byte(benchAnswerSIPp)
	b.SetBytes(int64(len(offer) + len(answer)))
	b.ReportAllocs()
	for b.Loop() {
		if !sameMediaLines(offer, answer) {
			b.Fatal("not the same")
		}
	}
}

// BenchmarkCompareSDP is compareSDP where the shortcut does not hold: both
// bodies parsed and compared (answerFaults), finding nothing.
func BenchmarkCompareSDP(b *testing.B) {
	c := New(Options{}, func(*Call) {})
	l := &Leg{}
	o := &sdpOffer{m: &Message{Method: "INVITE"}, body: []byte(benchOfferPhone)}
	a := &Message{Status: 200, Reason: "OK"}
	answer := []byte(benchAnswerGW)
	b.SetBytes(int64(len(o.body) + len(answer)))
	b.ReportAllocs()
	for b.Loop() {
		c.compareSDP(l, o, a, answer)
	}
	if len(l.oaFound) > 0 {
		b.Fatal(l.oaFound[0].Detail)
	}
}
