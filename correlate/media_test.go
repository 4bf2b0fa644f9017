package correlate_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
)

// mediaSpec describes a synthetic answered call with RTP: A (10.0.0.1)
// announces aMedia, B (10.0.0.2) announces bMedia; the call lasts 6 s.
type mediaSpec struct {
	callID         string
	aMedia, bMedia string        // announced RTP addresses
	aDir, bDir     string        // SDP direction attributes
	aToB, bToA     int           // RTP packets each way (20 ms apart from t=1 s)
	bFrom          string        // where B's RTP really comes from (default bMedia)
	lose           int           // drop every lose-th packet A→B (0: none)
	jitterMs       int           // A→B packets alternately late by this much
	bStopAfter     int           // B→A stops after this many packets (0: never)
	dtmf           string        // digits A sends (RFC 4733, PT 101) after its audio
	offset         time.Duration // start time
	aICE           bool          // A offers with trickle ICE: c=0.0.0.0, port 9 (its RTP still comes from aMedia)
	aCands         []string      // A's ICE candidates, "type addr:port" (component 1) or "type addr:port/2" (RTCP)
	aAt            string        // where A's RTP really comes from and B's goes to (default aMedia: ICE chose c=)
	bRTCPTo        string        // B sends one RTCP receiver report on A's stream here, from bFrom's next port (at 5 s)
	aFormats       string        // A's offers list these payload types instead of "8 101" (PCMA, telephone-event)
	bFormats       string        // B's answer lists these payload types instead of "8 101"
	bReFormats     string        // at 3 s A sends a re-INVITE, which B answers listing these
	aCN            bool          // A sends a comfort noise packet (PT 13, which no SDP lists) after its audio
	aEmpty         bool          // A's packets carry no payload (as NAT keepalives)
	bICE           bool          // B answers with ICE (a=ice-ufrag)
	bVideo         bool          // both offer and answer have a video line too (ports 4002 and 5002, VP8 as 96)
	aPT            uint8         // the payload type of A's audio packets (default 8)
}

// withFormats replaces an sdpFor body's "8 101" and their rtpmaps by the
// payload types pts (static ones, named by RFC 3551).
func withFormats(sdp, pts string) string {
	return strings.Replace(sdp, "RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n", "RTP/AVP "+pts+"\r\n", 1)
}

func (s *mediaSpec) defaults() {
	if s.callID == "" {
		s.callID = "media-call"
	}
	if s.aMedia == "" {
		s.aMedia = "10.0.0.1:4000"
	}
	if s.bMedia == "" {
		s.bMedia = "10.0.0.2:5000"
	}
	if s.aDir == "" {
		s.aDir = "sendrecv"
	}
	if s.bDir == "" {
		s.bDir = "sendrecv"
	}
	if s.bFrom == "" {
		s.bFrom = s.bMedia
	}
	if s.aAt == "" {
		s.aAt = s.aMedia
	}
}

type timed struct {
	t        time.Duration
	sip      string // a SIP message, or
	src, dst netip.AddrPort
	rtp      []byte // a datagram
}

func sdpFor(media, dir string) string {
	ap := netip.MustParseAddrPort(media)
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n",
		ap.Addr(), ap.Addr(), ap.Port(), dir)
}

func sipMsg(start, to, cseq, extra, body string) string {
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	return fmt.Sprintf("%s\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-%s\r\nFrom: <sip:a@x>;tag=a\r\nTo: <sip:b@x>%s\r\nCall-ID: %%s\r\nCSeq: %s\r\n%s%sContent-Length: %d\r\n\r\n%s",
		start, strings.ReplaceAll(cseq, " ", ""), to, cseq, extra, ct, len(body), body)
}

func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, 12, 12+len(payload))
	b[0], b[1] = 0x80, pt
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, payload...)
}

func (s mediaSpec) events() []timed {
	s.defaults()
	offer := sdpFor(s.aMedia, s.aDir)
	if s.aICE {
		a := netip.MustParseAddrPort(s.aMedia)
		offer = strings.Replace(offer, "c=IN IP4 "+a.Addr().String(), "c=IN IP4 0.0.0.0", 1)
		offer = strings.Replace(offer, fmt.Sprintf("m=audio %d RTP/AVP 8 101\r\n", a.Port()),
			"m=audio 9 UDP/TLS/RTP/SAVPF 8 101\r\na=ice-ufrag:8hhY\r\na=ice-pwd:asd88fgpdd777uzjYhagZg\r\na=rtcp-mux\r\n", 1)
	}
	if len(s.aCands) > 0 && !s.aICE {
		offer += "a=ice-ufrag:8hhY\r\na=ice-pwd:asd88fgpdd777uzjYhagZg\r\n"
	}
	for i, c := range s.aCands {
		typ, addr, _ := strings.Cut(c, " ")
		addr, comp, ok := strings.Cut(addr, "/")
		if !ok {
			comp = "1"
		}
		ap := netip.MustParseAddrPort(addr)
		offer += fmt.Sprintf("a=candidate:%d %s udp %d %s %d typ %s\r\n", i+1, comp, 2130706431-i, ap.Addr(), ap.Port(), typ)
	}
	if s.aFormats != "" {
		offer = withFormats(offer, s.aFormats)
	}
	if s.bVideo {
		offer += "m=video 4002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
	}
	answer := sdpFor(s.bMedia, s.bDir)
	if s.bFormats != "" {
		answer = withFormats(answer, s.bFormats)
	}
	if s.bICE {
		answer += "a=ice-ufrag:Xy7z\r\na=ice-pwd:asd88fgpdd777uzjYhagZg\r\n"
	}
	if s.bVideo {
		answer += "m=video 5002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
	}
	aPT := s.aPT
	if aPT == 0 {
		aPT = 8
	}
	ev := []timed{
		{t: 0, sip: sipMsg("INVITE sip:b@x SIP/2.0", "", "1 INVITE", "", offer)},
		{t: 500 * time.Millisecond, sip: sipMsg("SIP/2.0 200 OK", ";tag=b", "1 INVITE", "", answer)},
		{t: 510 * time.Millisecond, sip: strings.Replace(sipMsg("ACK sip:b@x SIP/2.0", ";tag=b", "1 ACK", "", ""), "z9hG4bK-1ACK", "z9hG4bK-ack", 1)},
		{t: 7 * time.Second, sip: strings.Replace(sipMsg("BYE sip:b@x SIP/2.0", ";tag=b", "4 BYE", "", ""), "z9hG4bK-4BYE", "z9hG4bK-bye", 1)},
		{t: 7*time.Second + 10*time.Millisecond, sip: strings.Replace(sipMsg("SIP/2.0 200 OK", ";tag=b", "4 BYE", "", ""), "z9hG4bK-4BYE", "z9hG4bK-bye", 1)},
	}
	payload := make([]byte, 160)
	aPayload := payload
	if s.aEmpty {
		aPayload = nil
	}
	aM, bM, bF := netip.MustParseAddrPort(s.aAt), netip.MustParseAddrPort(s.bMedia), netip.MustParseAddrPort(s.bFrom)
	for i := 0; i < s.aToB; i++ {
		if s.lose > 0 && i%s.lose == s.lose-1 {
			continue
		}
		at := time.Second + time.Duration(i)*20*time.Millisecond
		if s.jitterMs > 0 && i%2 == 1 {
			at += time.Duration(s.jitterMs) * time.Millisecond
		}
		ev = append(ev, timed{t: at, src: aM, dst: bM, rtp: rtpPacket(aPT, uint16(100+i), uint32(i*160), 0xaaaa, aPayload)})
	}
	if s.dtmf != "" {
		base := time.Second + time.Duration(s.aToB)*20*time.Millisecond
		seq := uint16(100 + s.aToB)
		for j, d := range s.dtmf {
			code := uint8(strings.IndexRune("0123456789*#", d))
			ts := uint32((s.aToB + j*20) * 160)
			for k := 0; k < 4; k++ {
				end := byte(0)
				if k == 3 {
					end = 0x80
				}
				pl := []byte{code, end | 10, 0, byte(160 * (k + 1))}
				at := base + time.Duration(j*400+k*20)*time.Millisecond
				ev = append(ev, timed{t: at, src: aM, dst: bM, rtp: rtpPacket(101, seq, ts, 0xaaaa, pl)})
				seq++
			}
		}
	}
	for i := 0; i < s.bToA; i++ {
		if s.bStopAfter > 0 && i >= s.bStopAfter {
			break
		}
		at := time.Second + time.Duration(i)*20*time.Millisecond + 3*time.Millisecond
		ev = append(ev, timed{t: at, src: bF, dst: aM, rtp: rtpPacket(8, uint16(7000+i), uint32(i*160), 0xbbbb, payload)})
	}
	if s.bReFormats != "" {
		re := strings.Replace(sipMsg("INVITE sip:b@x SIP/2.0", ";tag=b", "3 INVITE", "", offer), "z9hG4bK-3INVITE", "z9hG4bK-re", 1)
		ok := strings.Replace(sipMsg("SIP/2.0 200 OK", ";tag=b", "3 INVITE", "", withFormats(sdpFor(s.bMedia, s.bDir), s.bReFormats)), "z9hG4bK-3INVITE", "z9hG4bK-re", 1)
		ack := strings.Replace(sipMsg("ACK sip:b@x SIP/2.0", ";tag=b", "3 ACK", "", ""), "z9hG4bK-3ACK", "z9hG4bK-reack", 1)
		ev = append(ev, timed{t: 3 * time.Second, sip: re}, timed{t: 3*time.Second + 10*time.Millisecond, sip: ok},
			timed{t: 3*time.Second + 20*time.Millisecond, sip: ack})
	}
	if s.aCN {
		at := time.Second + time.Duration(s.aToB)*20*time.Millisecond
		ev = append(ev, timed{t: at, src: aM, dst: bM, rtp: rtpPacket(13, uint16(100+s.aToB), uint32(s.aToB*160), 0xaaaa, []byte{40})})
	}
	if s.bRTCPTo != "" {
		rr := make([]byte, 32)
		rr[0], rr[1], rr[3] = 0x81, 201, 7 // V=2, one report block; RR; 8 words
		binary.BigEndian.PutUint32(rr[4:], 0xbbbb)
		binary.BigEndian.PutUint32(rr[8:], 0xaaaa)
		binary.BigEndian.PutUint32(rr[16:], 100+uint32(s.aToB))
		ev = append(ev, timed{t: 5 * time.Second, src: netip.AddrPortFrom(bF.Addr(), bF.Port()+1), dst: netip.MustParseAddrPort(s.bRTCPTo), rtp: rr})
	}
	for i := range ev {
		ev[i].t += s.offset
		if ev[i].sip != "" {
			ev[i].sip = fmt.Sprintf(ev[i].sip, s.callID)
		}
	}
	return ev
}

// runMedia feeds the calls' events, merged in time order, through a
// Correlator with media analysis on.
func runMedia(t *testing.T, specs ...mediaSpec) []*correlate.Call {
	t.Helper()
	var all []timed
	for _, s := range specs {
		all = append(all, s.events()...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].t < all[j].t })
	var calls []*correlate.Call
	c := correlate.New(correlate.Options{Media: true}, func(call *correlate.Call) { calls = append(calls, call) })
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	var m decode.Message
	for i, e := range all {
		at := t0.Add(e.t)
		if e.sip == "" {
			c.AddDatagram(i+1, at, e.src, e.dst, e.rtp)
			continue
		}
		if err := decode.ParseSIP([]byte(e.sip), &m); err != nil {
			t.Fatalf("%v: %q", err, e.sip)
		}
		m.N, m.Time, m.Transport = i+1, at, decode.UDP
		m.Src, m.Dst = a, b
		if !m.IsRequest() {
			m.Src, m.Dst = b, a
		}
		c.Add(&m)
	}
	c.Flush()
	return calls
}

// oneMediaCall runs one call's spec (runMedia) and returns the call; its
// findings are logged when the test fails.
func oneMediaCall(t *testing.T, spec mediaSpec) *correlate.Call {
	t.Helper()
	calls := runMedia(t, spec)
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	c := calls[0]
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range c.Findings {
				t.Logf("  %s %s", f.Rule, f.Detail)
			}
		}
	})
	return c
}

func TestMediaChecks(t *testing.T) {
	tests := []struct {
		name  string
		spec  mediaSpec
		rules string
	}{
		{"both ways", mediaSpec{aToB: 250, bToA: 250}, ""},
		{"one-way audio", mediaSpec{aToB: 250}, "one-way-audio"},
		{"one-way the other way", mediaSpec{bToA: 250}, "one-way-audio"},
		{"callee stopped talking", mediaSpec{aToB: 250, bToA: 250, bStopAfter: 30}, "one-way-audio"},
		{"sendonly is not one-way", mediaSpec{aToB: 250, aDir: "sendonly", bDir: "recvonly"}, ""},
		{"2% loss", mediaSpec{aToB: 250, bToA: 250, lose: 50}, "rtp-loss"},
		{"10% loss", mediaSpec{aToB: 250, bToA: 250, lose: 10}, "rtp-loss"},
		{"jitter", mediaSpec{aToB: 250, bToA: 250, jitterMs: 80}, "rtp-jitter"},
		{"NAT", mediaSpec{aToB: 250, bToA: 250, bFrom: "192.0.2.9:5000"}, "media-address-mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := oneMediaCall(t, tt.spec)
			if got := rules(c); got != tt.rules {
				t.Errorf("findings %q, want %q", got, tt.rules)
			}
			for _, f := range c.Findings {
				if f.CallID != c.ID {
					t.Errorf("%s finding names call %q, want %q", f.Rule, f.CallID, c.ID)
				}
			}
		})
	}
}

func TestMediaNoRTP(t *testing.T) {
	// One call talks, the other (answered, SDP agreed) sends nothing: the
	// capture has RTP, so the silent call's silence means something.
	calls := runMedia(t, mediaSpec{aToB: 250, bToA: 250},
		mediaSpec{callID: "silent", aMedia: "10.0.0.1:4100", bMedia: "10.0.0.2:5100", offset: 100 * time.Millisecond})
	got := map[string]string{}
	for _, c := range calls {
		got[c.ID] = rules(c)
	}
	if got["media-call"] != "" || got["silent"] != "no-rtp" {
		t.Errorf("findings %v, want none for media-call, no-rtp for silent", got)
	}
}

func TestMediaStreamsTied(t *testing.T) {
	c := runMedia(t, mediaSpec{aToB: 250, bToA: 240, lose: 25})[0]
	if len(c.Streams) != 2 {
		t.Fatalf("%d streams, want 2", len(c.Streams))
	}
	s := c.Streams[0]
	// Every 25th of 250 is dropped: 10, but the last packet is among them,
	// and a loss after the highest sequence received is invisible (RFC 3550
	// §A.3 counts up to the highest): 9.
	if s.Key.SSRC != 0xaaaa || s.Packets != 240 || s.Lost != 9 || s.Codec != "PCMA" {
		t.Errorf("A→B stream: ssrc %#x packets %d lost %d codec %q, want 0xaaaa 240 9 PCMA", s.Key.SSRC, s.Packets, s.Lost, s.Codec)
	}
	if r := c.Streams[1]; r.Packets != 240 || r.Lost != 0 {
		t.Errorf("B→A stream: packets %d lost %d", r.Packets, r.Lost)
	}
}

// TestSharedMediaPort: a media server receives every call on one port
// (SIPp's -rtp_echo does); each call still gets only its own streams.
func TestSharedMediaPort(t *testing.T) {
	var specs []mediaSpec
	for i := 0; i < 5; i++ {
		specs = append(specs, mediaSpec{callID: fmt.Sprintf("call-%d", i), aMedia: fmt.Sprintf("10.0.0.1:%d", 4000+2*i),
			bMedia: "10.0.0.2:50000", aToB: 100, bToA: 100, offset: time.Duration(i) * 7 * time.Millisecond})
	}
	calls := runMedia(t, specs...)
	if len(calls) != 5 {
		t.Fatalf("%d calls", len(calls))
	}
	for _, c := range calls {
		if len(c.Streams) != 2 || c.Streams[0].Packets != 100 || c.Streams[1].Packets != 100 || len(c.Findings) != 0 {
			t.Errorf("%s: %d streams, findings %q", c.ID, len(c.Streams), rules(c))
		}
	}
}

func TestMediaDTMF(t *testing.T) {
	c := runMedia(t, mediaSpec{aToB: 100, bToA: 100, dtmf: "15#"})[0]
	var digits string
	for _, s := range c.Streams {
		for _, e := range s.Events {
			digits += string(e.Digit)
		}
	}
	if digits != "15#" {
		t.Errorf("DTMF %q, want 15#", digits)
	}
}

// TestMediaTrickleICE: a WebRTC caller's offer made before its candidates
// (c=0.0.0.0, port 9, RFC 8840) is not hold, and where its media goes is
// not known from it: no hold event, no finding about media to 0.0.0.0:9.
func TestMediaTrickleICE(t *testing.T) {
	c := oneMediaCall(t, mediaSpec{aICE: true, aToB: 250, bToA: 250})
	if len(c.Events) != 0 || rules(c) != "" || c.Flow != "basic-call" {
		t.Errorf("events %v, findings %q, flow %q; want none, none, basic-call", c.Events, rules(c), c.Flow)
	}
}

// TestMediaICECandidates: with ICE (RFC 8445) the stream may go to any of
// a party's candidates, or to an address its checks found (peer-reflexive),
// not only to c=. The call's media is tied and checked there: no one-way
// audio where RTP went to a candidate, no address mismatch where ICE chose
// the path; but one-way audio is still found, and a party without ICE is
// still held to its c=.
func TestMediaICECandidates(t *testing.T) {
	cands := []string{"host 192.168.1.10:50000", "host 192.168.1.10:50001/2", "srflx 10.0.0.1:4000", "relay 198.51.100.7:3478"}
	tests := []struct {
		name    string
		spec    mediaSpec
		streams int
		rules   string
	}{
		{"ICE chose c=", mediaSpec{bICE: true, aCands: cands, aToB: 250, bToA: 250}, 2, ""},
		{"ICE chose the host candidate", mediaSpec{bICE: true, aCands: cands, aAt: "192.168.1.10:50000", aToB: 250, bToA: 250}, 2, ""},
		{"ICE chose the relay", mediaSpec{bICE: true, aCands: cands, aAt: "198.51.100.7:3478", aToB: 250, bToA: 250}, 2, ""},
		{"peer-reflexive", mediaSpec{bICE: true, aCands: cands, aAt: "203.0.113.9:61000", aToB: 250, bToA: 250}, 2, ""},
		{"one-way to a candidate", mediaSpec{bICE: true, aCands: cands, aAt: "192.168.1.10:50000", aToB: 250}, 1, "one-way-audio"},
		{"one-way from a candidate", mediaSpec{bICE: true, aCands: cands, aAt: "192.168.1.10:50000", bToA: 250}, 1, "one-way-audio"},
		{"candidate stopped hearing", mediaSpec{bICE: true, aCands: cands, aAt: "192.168.1.10:50000", aToB: 250, bToA: 250, bStopAfter: 30}, 2, "one-way-audio"},
		// B uses no ICE: its RTP from elsewhere is still a mismatch, and is
		// tied to the call only by A's candidate it is sent to.
		{"trickle offer with candidates, B behind NAT", mediaSpec{aICE: true, aCands: cands, aAt: "192.168.1.10:50000", bFrom: "192.0.2.9:5000", aToB: 250, bToA: 250},
			2, "media-address-mismatch"},
		// A offers ICE, B answers without: ICE is not used (RFC 8445
		// §6.1.1), and A is held to its c= again.
		{"B without ICE", mediaSpec{aCands: cands, aAt: "192.168.1.10:50000", aToB: 250, bToA: 250}, 2, "media-address-mismatch"},
		{"B without ICE, its RTP to a peer-reflexive address", mediaSpec{aCands: cands, aAt: "203.0.113.9:61000", aToB: 250, bToA: 250}, 2,
			"media-address-mismatch,one-way-audio"},
		{"candidates, B behind NAT", mediaSpec{aCands: cands, aAt: "192.168.1.10:50000", bFrom: "192.0.2.9:5000", aToB: 250, bToA: 250},
			2, "media-address-mismatch,media-address-mismatch"},
		// Without ICE, B's RTP to an address A did not announce is not heard.
		{"no ICE, RTP to an address not announced", mediaSpec{aAt: "192.168.1.10:50000", aToB: 250, bToA: 250}, 2, "media-address-mismatch,one-way-audio"},
		{"trickle offer, B behind NAT, no candidates", mediaSpec{aICE: true, bFrom: "192.0.2.9:5000", aToB: 250, bToA: 250}, 1, ""},
		// The first candidate is RTCP's: A's RTP address is the next.
		{"trickle offer, RTCP candidate first", mediaSpec{aICE: true, aCands: []string{"host 192.168.1.10:50001/2", "host 192.168.1.10:50000"},
			aAt: "192.168.1.10:50000", aToB: 250}, 1, "one-way-audio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := oneMediaCall(t, tt.spec)
			if len(c.Streams) != tt.streams || rules(c) != tt.rules || len(c.Events) != 0 {
				t.Errorf("%d streams, findings %q, events %v; want %d, %q, none", len(c.Streams), rules(c), c.Events, tt.streams, tt.rules)
			}
			// One-way audio names where A was to hear and how many other
			// candidates it had.
			if tt.rules == "one-way-audio" && tt.spec.bToA == 0 {
				want := "10.0.0.1:4000 (nor any of its 2 ICE candidates) received nothing"
				if tt.spec.aICE {
					want = "192.168.1.10:50000 received nothing"
				}
				if !strings.Contains(c.Findings[0].Detail, want) {
					t.Errorf("detail %q, want %q in it", c.Findings[0].Detail, want)
				}
			}
		})
	}
}

// TestMediaICERTCPCandidate: RTCP sent to a party's component-2 candidate
// (no rtcp-mux) is the call's, even from an address nobody announced.
func TestMediaICERTCPCandidate(t *testing.T) {
	for _, tc := range []struct {
		to      string
		reports int
	}{
		{"192.168.1.10:50001", 1}, // A's RTCP candidate
		{"192.168.1.10:50003", 0}, // nobody's
	} {
		c := oneMediaCall(t, mediaSpec{aCands: []string{"host 192.168.1.10:50000", "host 192.168.1.10:50001/2"}, aAt: "192.168.1.10:50000",
			bFrom: "192.0.2.9:5000", aToB: 250, bToA: 250, bRTCPTo: tc.to})
		reports := -1
		for _, s := range c.Streams {
			if s.Key.SSRC == 0xaaaa {
				reports = s.ReportsSeen
			}
		}
		if reports != tc.reports {
			t.Errorf("RTCP to %s: the stream A→B has %d receiver reports, want %d", tc.to, reports, tc.reports)
		}
	}
}

// TestMediaCodecMismatch: RTP with a payload type its receiver's SDP did
// not list is a codec-mismatch, an error for the stream's audio, a warning
// for its DTMF events; comfort noise, and a type the receiver listed in an
// earlier SDP of the call, are not.
func TestMediaCodecMismatch(t *testing.T) {
	tests := []struct {
		name   string
		spec   mediaSpec
		rules  string
		detail string
	}{
		{"both listed", mediaSpec{aToB: 250, bToA: 250, dtmf: "1"}, "", ""},
		{"audio not listed", mediaSpec{aToB: 250, bToA: 250, aFormats: "8 0 101", bFormats: "0"}, "codec-mismatch",
			"RTP 10.0.0.1:4000 → 10.0.0.2:5000 (SSRC 0x0000aaaa) carries payload type 8 (PCMA), which its receiver's SDP did not list (it listed 0 PCMU): it cannot be decoded"},
		{"events not listed", mediaSpec{aToB: 250, bToA: 250, dtmf: "1", bFormats: "8"}, "codec-mismatch",
			"carries payload type 101 (telephone-event), which its receiver's SDP did not list (it listed 8 PCMA): it may not be understood"},
		{"comfort noise", mediaSpec{aToB: 250, bToA: 250, aCN: true}, "", ""},
		{"listed before a re-INVITE", mediaSpec{aToB: 250, bToA: 250, aFormats: "8 0 101", bReFormats: "0"}, "", ""},
		{"events alone, not listed", mediaSpec{bToA: 250, dtmf: "1234", bFormats: "8"}, "codec-mismatch,one-way-audio",
			"carries payload type 101 (telephone-event), which its receiver's SDP did not list (it listed 8 PCMA): it may not be understood"},
		{"nine packets", mediaSpec{aToB: 9, bToA: 9, aFormats: "8 0 101", bFormats: "0"}, "", ""},
		{"ten packets", mediaSpec{aToB: 10, bToA: 10, aFormats: "8 0 101", bFormats: "0"}, "codec-mismatch", "carries payload type 8 (PCMA), which its receiver's SDP did not list (it listed 0 PCMU): it cannot be decoded"},
		{"no payload (keepalives)", mediaSpec{aToB: 250, bToA: 250, aFormats: "8 0 101", bFormats: "0", aEmpty: true}, "", ""},
		// The receiver's types count on the line they were listed on: VP8,
		// listed on its video line, is not listed at its audio port.
		{"a video type to the audio port", mediaSpec{aToB: 250, bToA: 250, bVideo: true, aPT: 96}, "codec-mismatch",
			"carries payload type 96, which its receiver's SDP did not list (it listed 8 PCMA, 101 telephone-event): it cannot be decoded"},
		{"a video line beside", mediaSpec{aToB: 250, bToA: 250, bVideo: true}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := oneMediaCall(t, tt.spec)
			if rules(c) != tt.rules {
				t.Fatalf("findings %q, want %q", rules(c), tt.rules)
			}
			if tt.detail == "" {
				return
			}
			var f correlate.Finding
			for _, x := range c.Findings {
				if x.Rule == "codec-mismatch" {
					f = x
				}
			}
			if !strings.Contains(f.Detail, tt.detail) || f.Packets[0] != c.Streams[0].FirstN && f.Packets[0] != c.Streams[1].FirstN {
				t.Errorf("finding %s, packets %v; want %q in it", f.Detail, f.Packets, tt.detail)
			}
			wantSev := correlate.Warning
			if strings.Contains(tt.detail, "cannot be decoded") {
				wantSev = correlate.Error
			}
			if f.Severity != wantSev {
				t.Errorf("severity %v, want %v", f.Severity, wantSev)
			}
		})
	}
}

// TestSDPSummaryCandidates: with ICE, the one-line SDP summary (ladder,
// events, findings) names the RTP candidates, the first three and how many
// more, since c= may be only a placeholder.
func TestSDPSummaryCandidates(t *testing.T) {
	md := correlate.Media{Type: "audio", Addr: netip.MustParseAddr("0.0.0.0"), Port: 9, Codecs: []string{"PCMU"}, Direction: "sendrecv", ICE: true}
	cand := func(comp int, typ, ap string) correlate.Candidate {
		return correlate.Candidate{Component: comp, Type: typ, Addr: netip.MustParseAddrPort(ap)}
	}
	for _, tc := range []struct {
		cands []correlate.Candidate
		want  string
	}{
		{nil, "audio PCMU 0.0.0.0:9 sendrecv"},
		{[]correlate.Candidate{cand(1, "host", "192.168.1.10:50000"), cand(2, "host", "192.168.1.10:50001"), cand(1, "srflx", "203.0.113.5:50000")},
			"audio PCMU 0.0.0.0:9 sendrecv, ICE host 192.168.1.10:50000, srflx 203.0.113.5:50000"},
		{[]correlate.Candidate{cand(1, "host", "10.0.0.1:1"), cand(1, "host", "10.0.0.2:2"), cand(1, "srflx", "10.0.0.3:3"), cand(2, "host", "10.0.0.1:4"),
			cand(1, "relay", "10.0.0.4:5")},
			"audio PCMU 0.0.0.0:9 sendrecv, ICE host 10.0.0.1:1, host 10.0.0.2:2, srflx 10.0.0.3:3 +1"},
	} {
		md.Candidates = tc.cands
		s := correlate.SDP{Media: []correlate.Media{md}}
		if got := s.Summary(); got != tc.want {
			t.Errorf("summary %q, want %q", got, tc.want)
		}
	}
}

// TestMediaMovedManyTimes: a callee that moves its media to a new port at
// each of 24 re-INVITEs (its endpoints past the leg's map threshold) gets
// the RTP sent to each port in the call, each stream named by the codec
// that port's SDP gave its payload type.
func TestMediaMovedManyTimes(t *testing.T) {
	var s strings.Builder
	s.WriteString("0.0 a>b INVITE 1/INVITE sdp=1\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n")
	const moves = 24
	var want []string
	for k := range moves {
		at, port := 2+float64(k)*5, 5000+2*k
		fmt.Fprintf(&s, "%.2f a>b INVITE %d/INVITE tt=callee br=z9hG4bKr%d sdp=%d\n", at, 2+k, k, 2+k)
		fmt.Fprintf(&s, "%.2f b>a 200 %d/INVITE tt=callee br=z9hG4bKr%d sdp=%d media=m=audio_%d_RTP/AVP_0|a=rtpmap:0_X%d/8000\n", at+0.01, 2+k, k, 2+k, port, k)
		fmt.Fprintf(&s, "%.2f a>b ACK %d/ACK tt=callee br=z9hG4bKa%d\n", at+0.02, 2+k, k)
		for seq := range 3 {
			fmt.Fprintf(&s, "%.2f a:4000>b:%d rtp %d\n", at+0.1+float64(seq)*0.02, port, 100*k+seq)
		}
		want = append(want, fmt.Sprintf("b:%d X%d 3", port, k))
	}
	fmt.Fprintf(&s, "%d a>b BYE 99/BYE tt=callee br=z9hG4bKbye\n%d.01 b>a 200 99/BYE tt=callee br=z9hG4bKbye\n", 2+moves*5, 2+moves*5)
	c := scriptCall(t, runScriptWith(t, correlate.Options{Media: true}, s.String()), "call-1")
	var got []string
	for _, st := range c.Streams {
		got = append(got, fmt.Sprintf("b:%d %s %d", st.Key.Dst.Port(), st.Codec, st.Packets))
	}
	if g, w := strings.Join(got, "; "), strings.Join(want, "; "); g != w {
		t.Errorf("streams\n%s\nwant\n%s", g, w)
	}
}

// rtpScript is the script lines (runScript) of RTP packets from flow
// ("a:4000>b:4000"), one at each of at (seconds), numbered from seq; a
// packet after a pause of more than 20 ms has the marker bit, as the
// first of a talkspurt.
func rtpScript(flow string, seq int, at []float64) []string {
	var out []string
	for i, t := range at {
		m := ""
		if i > 0 && t-at[i-1] > 0.03 {
			m = " m"
		}
		out = append(out, fmt.Sprintf("%.3f %s rtp %d%s", t, flow, seq+i, m))
	}
	return out
}

// every returns the times from from to to (both included), step apart.
func every(from, to, step float64) []float64 {
	var out []float64
	for i := 0; ; i++ {
		t := from + float64(i)*step
		if t > to+1e-9 {
			return out
		}
		out = append(out, t)
	}
}

// byTime sorts script lines by their first field, the time.
func byTime(lines []string) string {
	sort.SliceStable(lines, func(i, j int) bool {
		var a, b float64
		fmt.Sscan(strings.Fields(lines[i])[0], &a)
		fmt.Sscan(strings.Fields(lines[j])[0], &b)
		return a < b
	})
	return strings.Join(lines, "\n")
}

// TestMediaStoppedSilenceSuppression: a direction has stopped only when it
// fell silent, while the other went on, for longer than 3 s and than twice
// the longest pause it had made before: a sender with silence suppression
// that sends one packet every 5 s (PJSIP's keepalive, as in
// sip_captures/private-test-sip.pcapng) has not stopped when the call ends
// 4 s after its last, but has when it misses two.
func TestMediaStoppedSilenceSuppression(t *testing.T) {
	talk := every(1, 2, 0.02) // the callee's talkspurt
	cat := func(parts ...[]float64) []float64 {
		var out []float64
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name    string
		callee  []float64 // when the callee's packets come
		stopped string    // "" for no one-way-audio, else a part of its detail
	}{
		{"keepalive every 5 s, the call ends between two", cat(talk, every(7, 27, 5)), ""},
		{"keepalive every 5 s, then none for 19 s", cat(talk, every(7, 12, 5)), "stopped 19.1 s before the other direction did, while the call was up (before that it had never paused longer than 5.0 s)"},
		{"talkspurts 2 s apart, then 3.5 s of silence", cat(talk, every(4, 4.4, 0.02), every(6.4, 7, 0.02), every(9, 27.6, 0.02)), ""},
		{"talkspurts 2 s apart, then 5 s of silence", cat(talk, every(4, 4.4, 0.02), every(6.4, 7, 0.02), every(9, 26.1, 0.02)), "stopped 5.0 s"},
		{"no silence suppression, 2.5 s of silence", every(1, 28.6, 0.02), ""},
		{"no silence suppression, 3.5 s of silence", every(1, 27.6, 0.02), "stopped 3.5 s before the other direction did, while the call was up (before that it had never paused longer than 20 ms)"},
		{"a single packet", []float64{1}, "(it had sent a single packet)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := []string{
				"0.0 a>b INVITE 1/INVITE sdp=1",
				"0.5 b>a 200 1/INVITE tt=callee sdp=1",
				"0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack",
				"31.2 a>b BYE 2/BYE tt=callee br=z9hG4bKbye",
				"31.21 b>a 200 2/BYE tt=callee br=z9hG4bKbye",
			}
			lines = append(lines, rtpScript("a:4000>b:4000", 100, every(1, 31.1, 0.02))...)
			lines = append(lines, rtpScript("b:4000>a:4000", 7000, tt.callee)...)
			c := scriptCall(t, runScriptWith(t, correlate.Options{Media: true}, byTime(lines)), "call-1")
			f := findingOf(c, "one-way-audio")
			switch {
			case tt.stopped == "" && f != nil:
				t.Errorf("one-way-audio %q, want none", f.Detail)
			case tt.stopped != "" && f == nil:
				t.Errorf("no one-way-audio, want one; findings %q", rules(c))
			case f != nil && !strings.Contains(f.Detail, tt.stopped):
				t.Errorf("one-way-audio %q, want %q in it", f.Detail, tt.stopped)
			}
		})
	}
}

// directMedia is a B2BUA's two unlinked legs (no correlation header) that
// it bridges directly, as Asterisk's direct media does
// (sip_captures/voip1b.pcapng, sip-2phones-B2BUA-Asterisk.pcapng): a calls
// p (leg-a), p calls b (leg-b), each answered with p's own media address;
// then p re-INVITEs each leg offering the other phone's address (at
// reinviteA and 0.6 s), so that both legs' SDP agree a:4000 ↔ b:5000.
// withoutReinviteA leaves leg-a's re-INVITE out; byeA and byeB are when
// each leg's BYE comes.
type directMedia struct {
	reinviteA        float64
	withoutReinviteA bool
	aToB, bToA       []float64
	byeA, byeB       float64
}

func (d directMedia) script() string {
	if d.reinviteA == 0 {
		d.reinviteA = 0.5
	}
	lines := []string{
		"0.0 a>p INVITE 1/INVITE cid=leg-a br=z9hG4bKa1 sdp=1",
		"0.1 p>a 200 1/INVITE cid=leg-a br=z9hG4bKa1 tt=pbxa sdp=1 media=m=audio_20000_RTP/AVP_0",
		"0.15 a>p ACK 1/ACK cid=leg-a br=z9hG4bKa1ack tt=pbxa",
		"0.05 p>b INVITE 1/INVITE cid=leg-b ft=pbxb br=z9hG4bKb1 sdp=1 media=m=audio_20002_RTP/AVP_0",
		"0.4 b>p 200 1/INVITE cid=leg-b ft=pbxb tt=callee br=z9hG4bKb1 sdp=1 media=m=audio_5000_RTP/AVP_0",
		"0.45 p>b ACK 1/ACK cid=leg-b ft=pbxb tt=callee br=z9hG4bKb1ack",
		"0.6 p>b INVITE 2/INVITE cid=leg-b ft=pbxb tt=callee br=z9hG4bKb2 sdp=2 c=a",
		"0.65 b>p 200 2/INVITE cid=leg-b ft=pbxb tt=callee br=z9hG4bKb2 sdp=2 media=m=audio_5000_RTP/AVP_0",
		"0.66 p>b ACK 2/ACK cid=leg-b ft=pbxb tt=callee br=z9hG4bKb2ack",
		fmt.Sprintf("%.2f a>p BYE 3/BYE cid=leg-a tt=pbxa br=z9hG4bKa3", d.byeA),
		fmt.Sprintf("%.2f p>a 200 3/BYE cid=leg-a tt=pbxa br=z9hG4bKa3", d.byeA+0.01),
		fmt.Sprintf("%.2f p>b BYE 3/BYE cid=leg-b ft=pbxb tt=callee br=z9hG4bKb3", d.byeB),
		fmt.Sprintf("%.2f b>p 200 3/BYE cid=leg-b ft=pbxb tt=callee br=z9hG4bKb3", d.byeB+0.01),
	}
	if !d.withoutReinviteA {
		r := d.reinviteA
		lines = append(lines,
			fmt.Sprintf("%.2f p>a INVITE 2/INVITE cid=leg-a ft=pbxa tt=caller br=z9hG4bKa2 sdp=2 c=b media=m=audio_5000_RTP/AVP_0", r),
			fmt.Sprintf("%.2f a>p 200 2/INVITE cid=leg-a ft=pbxa tt=caller br=z9hG4bKa2 sdp=2", r+0.05),
			fmt.Sprintf("%.2f p>a ACK 2/ACK cid=leg-a ft=pbxa tt=caller br=z9hG4bKa2ack", r+0.06))
	}
	lines = append(lines, rtpScript("a:4000>b:5000", 100, d.aToB)...)
	lines = append(lines, rtpScript("b:5000>a:4000", 7000, d.bToA)...)
	return byTime(lines) + "\ntick 30"
}

// TestMediaDirectMediaLegs: RTP between the addresses a leg's two parties
// agreed is heard for that leg while it is up, though another leg (the
// one that announced them last) holds the streams: no no-rtp for the
// other, and one-way audio on both when a direction stops. Each stream is
// listed under one call only, so that nothing is counted, archived or
// exported twice.
func TestMediaDirectMediaLegs(t *testing.T) {
	talk := every(1, 6, 0.02)
	tests := []struct {
		name         string
		d            directMedia
		legA, legB   string // their media findings
		listedUnderA string // "" or a part of leg-a's one-way-audio detail
	}{
		{"both ways", directMedia{aToB: talk, bToA: talk, byeA: 7, byeB: 7.05}, "", "", ""},
		{"b stops", directMedia{aToB: talk, bToA: every(1, 2, 0.02), byeA: 7, byeB: 7.05}, "one-way-audio", "one-way-audio",
			"RTP to 10.0.0.1:4000 stopped 4.0 s before the other direction did, while the call was up (before that it had never paused longer than 20 ms); this RTP is listed under Call-ID leg-b"},
		{"b never sends", directMedia{aToB: talk, byeA: 7, byeB: 7.05}, "one-way-audio", "one-way-audio",
			"RTP flowed only one way: 10.0.0.1:4000 received nothing, though its SDP expected audio (PCMU); this RTP is listed under Call-ID leg-b"},
		// leg-a's parties never agreed a:4000 ↔ b:5000: what flowed there
		// was not its media, and its own carried nothing.
		{"leg-a not bridged", directMedia{withoutReinviteA: true, aToB: talk, bToA: talk, byeA: 7, byeB: 7.05}, "no-rtp", "", ""},
		// The streams began before leg-a agreed their addresses.
		{"leg-a bridged after the media began", directMedia{reinviteA: 2, aToB: talk, bToA: talk, byeA: 7, byeB: 7.05}, "", "", ""},
		// leg-a hangs up at 4 s, just after b's last packet; leg-b's media
		// goes on: leg-a heard both ways while it was up.
		{"leg-a ends first", directMedia{aToB: every(1, 8, 0.02), bToA: every(1, 3.9, 0.02), byeA: 4, byeB: 8.5}, "", "one-way-audio", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := runScriptWith(t, correlate.Options{Media: true}, tt.d.script())
			a, b := scriptCall(t, calls, "leg-a"), scriptCall(t, calls, "leg-b")
			if got := mediaRules(a); got != tt.legA {
				t.Errorf("leg-a: media findings %q, want %q; %s", got, tt.legA, describe(a))
			}
			if got := mediaRules(b); got != tt.legB {
				t.Errorf("leg-b: media findings %q, want %q; %s", got, tt.legB, describe(b))
			}
			if tt.listedUnderA != "" {
				if f := findingOf(a, "one-way-audio"); f == nil || !strings.Contains(f.Detail, tt.listedUnderA) {
					t.Errorf("leg-a's one-way-audio %+v, want %q in its detail", f, tt.listedUnderA)
				}
			}
			seen := map[string]int{}
			for _, c := range calls {
				for _, s := range c.Streams {
					seen[fmt.Sprintf("%s>%s", s.Key.Src, s.Key.Dst)]++
				}
			}
			for k, n := range seen {
				if n != 1 {
					t.Errorf("stream %s listed %d times", k, n)
				}
			}
		})
	}
}

// mediaRules is rules(c) for the rules of whether media flowed only (the
// script's RTP timestamps make jitter).
func mediaRules(c *correlate.Call) string {
	var rs []string
	for _, f := range c.Findings {
		switch f.Rule {
		case "no-rtp", "one-way-audio", "media-address-mismatch", "codec-mismatch", "rtp-loss":
			rs = append(rs, f.Rule)
		}
	}
	sort.Strings(rs)
	return strings.Join(rs, ",")
}

// TestMediaNoRTPOffPath: a capture taken on a PBX (every packet sent or
// received by it) cannot show media that two phones send each other
// directly: a call whose SDP put its media there is no-rtp as info, saying
// so, not an error claiming that nothing flowed. Once a packet of the
// capture involved neither host, or when the media was to pass the PBX, it
// is an error again.
func TestMediaNoRTPOffPath(t *testing.T) {
	tests := []struct {
		name, extra, answerAt string
		sev                   correlate.Severity
		detail                string
	}{
		{"media between the phones, captured on the PBX", "", "c=b", correlate.Info,
			"no RTP was seen, but the capture cannot show this call's media: every packet it held until the call ended was sent or received by 10.0.0.3, " +
				"and the SDP put the media between 10.0.0.1:4002 and 10.0.0.2:4004, which do not pass there"},
		{"a packet between the phones too", "0.9 a:4010>b:4010 rtp 1", "c=b", correlate.Error, "no RTP was seen in either direction"},
		{"media through the PBX", "", "", correlate.Error, "no RTP was seen in either direction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := []string{
				// call-1: b calls the PBX, which answers with its own media.
				"0.0 b>p INVITE 1/INVITE br=z9hG4bK1a sdp=1",
				"0.1 p>b 200 1/INVITE br=z9hG4bK1a tt=pbx sdp=1",
				"0.15 b>p ACK 1/ACK br=z9hG4bK1ack tt=pbx",
				"7 b>p BYE 2/BYE br=z9hG4bK1b tt=pbx",
				"7.01 p>b 200 2/BYE br=z9hG4bK1b tt=pbx",
				// call-2: a calls b through the PBX (a proxy), which relays b's answer.
				"0.2 a>p INVITE 1/INVITE cid=call-2 br=z9hG4bK2a sdp=1 media=m=audio_4002_RTP/AVP_0",
				"0.3 p>a 200 1/INVITE cid=call-2 br=z9hG4bK2a tt=bob sdp=1 media=m=audio_4004_RTP/AVP_0 " + tt.answerAt,
				"0.35 a>p ACK 1/ACK cid=call-2 br=z9hG4bK2ack tt=bob",
				"7.1 a>p BYE 2/BYE cid=call-2 br=z9hG4bK2b tt=bob",
				"7.11 p>a 200 2/BYE cid=call-2 br=z9hG4bK2b tt=bob",
			}
			if tt.extra != "" {
				lines = append(lines, tt.extra)
			}
			lines = append(lines, rtpScript("b:4000>p:4000", 100, every(1, 6, 0.02))...)
			lines = append(lines, rtpScript("p:4000>b:4000", 7000, every(1, 6, 0.02))...)
			calls := runScriptWith(t, correlate.Options{Media: true}, byTime(lines))
			if got := mediaRules(scriptCall(t, calls, "call-1")); got != "" {
				t.Errorf("call-1, with its media: %q", got)
			}
			f := findingOf(scriptCall(t, calls, "call-2"), "no-rtp")
			if f == nil || f.Severity != tt.sev || !strings.Contains(f.Detail, tt.detail) {
				t.Errorf("no-rtp %+v, want %v saying %q", f, tt.sev, tt.detail)
			}
		})
	}
}

// TestSharedMediaPortPair: when both addresses of a stream are announced
// by many open calls (two media servers that each take every call on one
// port), no call's stream can be told from another's: it is listed once,
// and not heard by the others (maxSharing), which would cost a walk of
// every call each stream.
func TestSharedMediaPortPair(t *testing.T) {
	var specs []mediaSpec
	for i := 0; i < 20; i++ {
		specs = append(specs, mediaSpec{callID: fmt.Sprintf("call-%d", i), aMedia: "10.0.0.1:4000", bMedia: "10.0.0.2:50000",
			aToB: 100, bToA: 100, offset: time.Duration(i) * 7 * time.Millisecond})
	}
	calls := runMedia(t, specs...)
	streams, quiet := 0, 0
	for _, c := range calls {
		streams += len(c.Streams)
		if rules(c) == "no-rtp" {
			quiet++
		}
	}
	if len(calls) != 20 || streams != 2 || quiet != 19 {
		t.Errorf("%d calls, %d streams listed, %d no-rtp; want 20, 2 (one each way), 19", len(calls), streams, quiet)
	}
}

// TestMediaStoppedAfterHold: a pause that was a hold (the callee told
// not to send for 30 s) does not raise the bar for "stopped" past
// stoppedMost: a callee that never sent again after the resume is
// one-way audio.
func TestMediaStoppedAfterHold(t *testing.T) {
	lines := []string{
		"0.0 a>b INVITE 1/INVITE sdp=1",
		"0.5 b>a 200 1/INVITE tt=callee sdp=1",
		"0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack",
		"10.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKh sdp=2:sendonly",
		"10.05 b>a 200 2/INVITE tt=callee br=z9hG4bKh sdp=2:recvonly",
		"10.06 a>b ACK 2/ACK tt=callee br=z9hG4bKhack",
		"40.0 a>b INVITE 3/INVITE tt=callee br=z9hG4bKr sdp=3",
		"40.05 b>a 200 3/INVITE tt=callee br=z9hG4bKr sdp=3",
		"40.06 a>b ACK 3/ACK tt=callee br=z9hG4bKrack",
		"80.5 a>b BYE 4/BYE tt=callee br=z9hG4bKbye",
		"80.51 b>a 200 4/BYE tt=callee br=z9hG4bKbye",
	}
	for i := 0; i <= 3950; i++ {
		lines = append(lines, fmt.Sprintf("%.2f a:4000>b:4000 rtp %d", 1+float64(i)*0.02, 100+i))
	}
	seq := 7000
	for _, span := range [][2]float64{{1, 10}, {40.1, 45}} {
		for x := span[0]; x <= span[1]+1e-9; x += 0.02 {
			m := ""
			if x == span[0] && span[0] > 1 {
				m = " m"
			}
			lines = append(lines, fmt.Sprintf("%.2f b:4000>a:4000 rtp %d%s", x, seq, m))
			seq++
		}
	}
	c := scriptCall(t, runScriptWith(t, correlate.Options{Media: true}, byTime(lines)), "call-1")
	for _, f := range c.Findings {
		if f.Rule == "one-way-audio" && strings.Contains(f.Detail, "stopped") {
			return
		}
	}
	t.Errorf("findings %v: want one-way-audio, the callee stopped 35 s before the end", c.Findings)
}
