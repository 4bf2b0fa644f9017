package decode

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// benchSDP is the offer of benchInvite: one audio stream, four codecs.
const benchSDP = "v=0\r\n" +
	"o=alice 2890844526 2890844527 IN IP4 198.51.100.7\r\n" +
	"s=ExamplePhone\r\n" +
	"c=IN IP4 198.51.100.7\r\n" +
	"t=0 0\r\n" +
	"m=audio 49170 RTP/AVP 0 8 18 101\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:18 G729/8000\r\n" +
	"a=fmtp:18 annexb=no\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=fmtp:101 0-16\r\n" +
	"a=ptime:20\r\n" +
	"a=sendrecv\r\n"

// benchInvite is a typical INVITE as a proxy forwards it: two Via, a
// Record-Route, the usual capability headers and an SDP offer.
var benchInvite = []byte("INVITE sip:+14155550123@sip.example.com;user=phone SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-524287-1---2f7b3a1c9d;rport\r\n" +
	"Via: SIP/2.0/UDP 198.51.100.7:5060;received=198.51.100.7;rport=5060;branch=z9hG4bK776asdhds\r\n" +
	"Record-Route: <sip:203.0.113.10;lr;ftag=as5e2b1c>\r\n" +
	"Max-Forwards: 69\r\n" +
	"From: \"Alice Example\" <sip:alice@example.org>;tag=1928301774\r\n" +
	"To: <sip:+14155550123@sip.example.com;user=phone>\r\n" +
	"Call-ID: a84b4c76e66710@pc33.example.org\r\n" +
	"CSeq: 314159 INVITE\r\n" +
	"Contact: <sip:alice@198.51.100.7:5060;transport=udp>\r\n" +
	"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, INFO, UPDATE, PRACK\r\n" +
	"Supported: replaces, timer, 100rel\r\n" +
	"Session-Expires: 1800;refresher=uac\r\n" +
	"User-Agent: ExamplePhone/4.2.1\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: " + strconv.Itoa(len(benchSDP)) + "\r\n" +
	"\r\n" +
	benchSDP)

// benchParse times parsing msg over and over into one Message, as
// ParseSIP (lean false) or ParseSIPLean do.
func benchParse(b *testing.B, msg []byte, lean bool) {
	var m Message
	var g guesses // kept from message to message, as a Decoder keeps it
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := parseSIP(msg, &m, lean, nil, &g); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSIP(b *testing.B) {
	benchParse(b, benchInvite, false)
}

func BenchmarkParseSIPLFOnly(b *testing.B) {
	sdp := strings.ReplaceAll(benchSDP, "\r\n", "\n")
	msg := []byte(strings.ReplaceAll(string(benchInvite), "\r\n", "\n"))
	msg = bytes.Replace(msg, []byte("Content-Length: "+strconv.Itoa(len(benchSDP))), []byte("Content-Length: "+strconv.Itoa(len(sdp))), 1)
	benchParse(b, msg, false)
}

func BenchmarkFrameSIP(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchInvite)))
	for b.Loop() {
		if _, ok, err := FrameSIP(benchInvite); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// benchSDPSIPp is the body SIPp's stock UAC offers (what big-sip's calls
// carry).
const benchSDPSIPp = "v=0\r\n" +
	"o=user1 53655765 2353687637 IN IP4 127.0.2.10\r\n" +
	"s=-\r\n" +
	"c=IN IP4 127.0.2.10\r\n" +
	"t=0 0\r\n" +
	"m=audio 6000 RTP/AVP 0\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n"

// benchSDPWebRTC is the offer of testdata/webrtc_call.pcap, as pion
// writes it: ICE, DTLS-SRTP, four candidates.
const benchSDPWebRTC = "v=0\r\n" +
	"o=- 3353996392148500089 1795555415 IN IP4 0.0.0.0\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=msid-semantic:WMS *\r\n" +
	"a=fingerprint:sha-256 3D:F7:EB:FE:15:78:62:6A:B0:92:A7:5C:9F:21:AE:EB:65:0F:C8:2B:64:19:E7:84:E5:DB:AC:82:B7:80:BE:4F\r\n" +
	"a=extmap-allow-mixed\r\n" +
	"a=cryptex\r\n" +
	"a=group:BUNDLE 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=setup:actpass\r\n" +
	"a=mid:0\r\n" +
	"a=ice-ufrag:smXLHEXXMsjwMZIS\r\n" +
	"a=ice-pwd:rmfgNgzvKyAVJEDMlHhUDSlAceIBXJIl\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtcp-rsize\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=rtcp-fb:0 transport-cc\r\n" +
	"a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
	"a=ssrc:2739646714 cname:127.0.49.1\r\n" +
	"a=ssrc:2739646714 msid:127.0.49.1 audio\r\n" +
	"a=ssrc:2739646714 mslabel:127.0.49.1\r\n" +
	"a=ssrc:2739646714 label:audio\r\n" +
	"a=msid:127.0.49.1 audio\r\n" +
	"a=sendrecv\r\n" +
	"a=candidate:522247804 1 udp 2130706431 127.0.49.1 44463 typ host ufrag smXLHEXXMsjwMZIS generation 0\r\n" +
	"a=candidate:522247804 2 udp 2130706431 127.0.49.1 44463 typ host ufrag smXLHEXXMsjwMZIS generation 0\r\n" +
	"a=candidate:904219852 1 udp 1694498815 127.0.49.11 48226 typ srflx raddr 0.0.0.0 rport 48226 ufrag smXLHEXXMsjwMZIS generation 0\r\n" +
	"a=candidate:904219852 2 udp 1694498815 127.0.49.11 48226 typ srflx raddr 0.0.0.0 rport 48226 ufrag smXLHEXXMsjwMZIS generation 0\r\n" +
	"a=end-of-candidates\r\n"

func BenchmarkParseSDP(b *testing.B) {
	for _, parse := range []struct {
		name string
		sdp  string
		f    func([]byte, *SDP) error
	}{{"full", benchSDP, ParseSDP}, {"sipp", benchSDPSIPp, ParseSDP}, {"webrtc", benchSDPWebRTC, ParseSDP}} {
		sdp := []byte(parse.sdp)
		b.Run(parse.name, func(b *testing.B) {
			var s SDP
			b.ReportAllocs()
			b.SetBytes(int64(len(sdp)))
			for b.Loop() {
				if err := parse.f(sdp, &s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLooksLikeSIP(b *testing.B) {
	rtp := make([]byte, 172)
	rtp[0] = 0x80
	for _, bc := range []struct {
		name string
		in   []byte
	}{
		{"request", benchInvite},
		{"status", []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n")},
		{"rtp", rtp},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				LooksLikeSIP(bc.in)
			}
		})
	}
}

// benchSIPp is what SIPp's stock UAC sends (the big-sip capture's INVITE):
// short headers, one Via, a small SDP.
var benchSIPp = []byte("INVITE sip:bob@127.0.2.20:5092 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.2.10:5090;branch=z9hG4bK-10885-1-0\r\n" +
	"From: sipp <sip:sipp@127.0.2.10:5090>;tag=10885SIPpTag001\r\n" +
	"To: bob <sip:bob@127.0.2.20:5092>\r\n" +
	"Call-ID: 1-10885@127.0.2.10\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Contact: sip:sipp@127.0.2.10:5090\r\n" +
	"Max-Forwards: 70\r\n" +
	"Subject: Performance Test\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length:   131\r\n" +
	"\r\n" +
	"v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.2.10\r\ns=-\r\nc=IN IP4 127.0.2.10\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")

func BenchmarkParseSIPSIPp(b *testing.B) {
	benchParse(b, benchSIPp, false)
}

// BenchmarkParseSIPLean is BenchmarkParseSIPSIPp as the Decoder parses with
// Options.Lean, which is how sipflow's commands parse for correlation.
func BenchmarkParseSIPLean(b *testing.B) {
	benchParse(b, benchSIPp, true)
}

// BenchmarkParseSIPLeanNoGuess is BenchmarkParseSIPLean through
// ParseSIPLean, which starts each message with no guesses (namePredictor):
// every header name is looked up, as in a Decoder's first message.
func BenchmarkParseSIPLeanNoGuess(b *testing.B) {
	var m Message
	b.ReportAllocs()
	b.SetBytes(int64(len(benchSIPp)))
	for b.Loop() {
		if err := ParseSIPLean(benchSIPp, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// benchOK is a 200 OK as an Asterisk-style server writes it: its headers
// in an order of their own, none of them in benchSIPp's order after Via.
var benchOK = []byte("SIP/2.0 200 OK\r\n" +
	"Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK776asdhds;received=198.51.100.7;rport=5060\r\n" +
	"Record-Route: <sip:203.0.113.10;lr;ftag=as5e2b1c>\r\n" +
	"To: <sip:+14155550123@sip.example.com;user=phone>;tag=as1f2e3d4c\r\n" +
	"From: \"Alice Example\" <sip:alice@example.org>;tag=1928301774\r\n" +
	"Call-ID: a84b4c76e66710@pc33.example.org\r\n" +
	"CSeq: 314159 INVITE\r\n" +
	"Server: Asterisk PBX 18.9.0\r\n" +
	"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, NOTIFY, INFO, PUBLISH, MESSAGE\r\n" +
	"Supported: replaces, timer\r\n" +
	"Session-Expires: 1800;refresher=uac\r\n" +
	"Contact: <sip:+14155550123@203.0.113.20:5060>\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: " + strconv.Itoa(len(benchSDP)) + "\r\n" +
	"\r\n" +
	benchSDP)

// BenchmarkParseSIPLeanMixed parses three messages in turn, each written
// by a different stack with its headers in its own order (benchSIPp,
// benchInvite, benchOK), with one namePredictor as a Decoder keeps it:
// guesses that a stack's message leaves are wrong for the next one's.
// Bytes and times are per message.
func BenchmarkParseSIPLeanMixed(b *testing.B) {
	msgs := [][]byte{benchSIPp, benchInvite, benchOK}
	var m Message
	var g guesses
	b.ReportAllocs()
	b.SetBytes(int64(len(benchSIPp)+len(benchInvite)+len(benchOK)) / 3)
	i := 0
	for b.Loop() {
		if err := parseSIP(msgs[i], &m, true, nil, &g); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(msgs) {
			i = 0
		}
	}
}
