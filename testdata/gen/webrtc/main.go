// Command webrtc makes the traffic of testdata/webrtc_call.pcap: two WebRTC
// endpoints (pion: ICE, DTLS-SRTP, RTCP) call each other over SIP/UDP on
// loopback, with vanilla ICE (every candidate in the SDP; pion writes
// c=0.0.0.0 and port 9 beside them, as trickle offers do). Each side has a
// host candidate and a server-reflexive one nobody answers at, so ICE has
// to choose; G.711 µ-law flows both ways for a few seconds, then the
// caller hangs up.
//
// The SIP messages are this program's own (a minimal user agent: INVITE,
// 100, 180, 200, ACK, BYE, 200); the media is pion's, as a browser would
// send it.
//
//	webrtc -caller 127.0.49.1 -callee 127.0.49.2 -talk 3s
//
// The addresses must be on an interface (gen.sh adds them to lo): ICE
// gathers its host candidates from the interfaces.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

func main() {
	caller := flag.String("caller", "127.0.49.1", "the caller's address")
	callee := flag.String("callee", "127.0.49.2", "the callee's address")
	srflxA := flag.String("caller-srflx", "127.0.49.11", "the caller's server-reflexive candidate (unreachable)")
	srflxB := flag.String("callee-srflx", "127.0.49.12", "the callee's server-reflexive candidate (unreachable)")
	talk := flag.Duration("talk", 3*time.Second, "how long both talk")
	flag.Parse()
	if err := run(*caller, *callee, *srflxA, *srflxB, *talk); err != nil {
		log.Fatal(err)
	}
}

// party is one WebRTC endpoint and its SIP socket.
type party struct {
	addr  string
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP
	sip   *net.UDPConn
	up    chan struct{} // closed when ICE and DTLS are connected
}

func newParty(addr, srflx string) (*party, error) {
	ip := net.ParseIP(addr)
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(a net.IP) bool { return a.Equal(ip) })
	se.SetNAT1To1IPs([]string{srflx}, webrtc.ICECandidateTypeSrflx)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	var me webrtc.MediaEngine
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000},
		PayloadType:        0,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{} // NACK, RTCP reports, TWCC: what a browser sends
	if err := webrtc.RegisterDefaultInterceptors(&me, ir); err != nil {
		return nil, err
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(&me), webrtc.WithInterceptorRegistry(ir))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, "audio", addr)
	if err != nil {
		return nil, err
	}
	if _, err := pc.AddTrack(track); err != nil {
		return nil, err
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		go func() { // read what arrives, as a phone plays it
			for {
				if _, _, err := t.ReadRTP(); err != nil {
					return
				}
			}
		}()
	})
	up := make(chan struct{})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		log.Printf("%s: %s", addr, s)
		if s == webrtc.PeerConnectionStateConnected {
			close(up)
		}
	})
	sip, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip, Port: 5060})
	if err != nil {
		return nil, err
	}
	return &party{addr: addr, pc: pc, track: track, sip: sip, up: up}, nil
}

// describe sets the local description and returns it with every candidate
// (vanilla ICE: the SDP is sent once gathering is complete).
func (p *party) describe(d webrtc.SessionDescription) (string, error) {
	done := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(d); err != nil {
		return "", err
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		return "", errors.New(p.addr + ": ICE gathering did not complete")
	}
	return p.pc.LocalDescription().SDP, nil
}

// talk sends a tone as 20 ms µ-law packets until stop, the marker bit on
// the first only (one talkspurt, RFC 3551 §4.1), as browsers do. (pion's
// sample writer marks every packet, which makes every packet a talkspurt's
// first and leaves no interarrival jitter to measure.)
func (p *party) talk(hz float64, stop <-chan struct{}) {
	seq, ts := uint16(rand.Uint32()), rand.Uint32()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		buf := make([]byte, 160)
		for i := range buf {
			t := float64(n*160+i) / 8000
			buf[i] = ulaw(int16(8000 * math.Sin(2*math.Pi*hz*t)))
		}
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, Marker: n == 0, PayloadType: 0, SequenceNumber: seq + uint16(n), Timestamp: ts + uint32(n*160)}, Payload: buf}
		if err := p.track.WriteRTP(pkt); err != nil {
			log.Printf("%s: %v", p.addr, err)
			return
		}
	}
}

// ulaw encodes one linear sample as G.711 µ-law.
func ulaw(s int16) byte {
	const bias, clip = 0x84, 32635
	x := int(s)
	sign := 0
	if x < 0 {
		x, sign = -x, 0x80
	}
	x = min(x, clip) + bias
	exp := 7
	for mask := 0x4000; x&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (x >> (exp + 3)) & 0x0f
	return ^byte(sign | exp<<4 | mant)
}

// dialog is the SIP state both sides share: one call, caller to callee.
type dialog struct {
	callID, fromTag, toTag string
	caller, callee         string
}

func (d *dialog) request(method string, cseq int, branch, body string) string {
	to := fmt.Sprintf("<sip:bob@%s>", d.callee)
	if method != "INVITE" { // the INVITE opens the dialog: no To-tag yet
		to += ";tag=" + d.toTag
	}
	return message(fmt.Sprintf("%s sip:bob@%s:5060 SIP/2.0", method, d.callee),
		fmt.Sprintf("Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s;rport", d.caller, branch),
		"Max-Forwards: 70",
		fmt.Sprintf("From: \"Alice\" <sip:alice@%s>;tag=%s", d.caller, d.fromTag),
		"To: "+to,
		"Call-ID: "+d.callID,
		fmt.Sprintf("CSeq: %d %s", cseq, method),
		fmt.Sprintf("Contact: <sip:alice@%s:5060>", d.caller),
		"User-Agent: sipflow-gen webrtc (pion)",
	)(body)
}

// response answers req (its Via, From, To, Call-ID, CSeq kept).
func (d *dialog) response(req, status, body string) string {
	var hdrs []string
	for _, line := range strings.Split(req, "\r\n")[1:] {
		if line == "" {
			break
		}
		name, _, _ := strings.Cut(line, ":")
		switch strings.ToLower(name) {
		case "via", "from", "call-id", "cseq":
			hdrs = append(hdrs, line)
		case "to":
			if !strings.Contains(line, ";tag=") && !strings.HasPrefix(status, "100") {
				line += ";tag=" + d.toTag
			}
			hdrs = append(hdrs, line)
		}
	}
	hdrs = append(hdrs, fmt.Sprintf("Contact: <sip:bob@%s:5060>", d.callee), "User-Agent: sipflow-gen webrtc (pion)")
	return message("SIP/2.0 "+status, hdrs...)(body)
}

func message(start string, hdrs ...string) func(body string) string {
	return func(body string) string {
		var b strings.Builder
		b.WriteString(start + "\r\n")
		for _, h := range hdrs {
			b.WriteString(h + "\r\n")
		}
		if body != "" {
			b.WriteString("Content-Type: application/sdp\r\n")
		}
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
		return b.String()
	}
}

func send(from *party, to string, msg string) error {
	_, err := from.sip.WriteToUDP([]byte(msg), &net.UDPAddr{IP: net.ParseIP(to), Port: 5060})
	return err
}

// receive waits for a SIP message whose start line begins with want.
func receive(p *party, want string) (string, error) {
	buf := make([]byte, 65535)
	p.sip.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		n, _, err := p.sip.ReadFromUDP(buf)
		if err != nil {
			return "", fmt.Errorf("%s: waiting for %s: %w", p.addr, want, err)
		}
		msg := string(buf[:n])
		if strings.HasPrefix(msg, want) {
			return msg, nil
		}
	}
}

func bodyOf(msg string) string {
	_, body, _ := strings.Cut(msg, "\r\n\r\n")
	return body
}

func run(callerAddr, calleeAddr, srflxA, srflxB string, talkFor time.Duration) error {
	a, err := newParty(callerAddr, srflxA)
	if err != nil {
		return err
	}
	b, err := newParty(calleeAddr, srflxB)
	if err != nil {
		return err
	}
	defer a.pc.Close()
	defer b.pc.Close()
	d := &dialog{callID: "webrtc-call-1@" + callerAddr, fromTag: "a-tag-1", toTag: "b-tag-1", caller: callerAddr, callee: calleeAddr}

	offer, err := a.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	offerSDP, err := a.describe(offer)
	if err != nil {
		return err
	}
	invite := d.request("INVITE", 1, "inv1", offerSDP)
	if err := send(a, calleeAddr, invite); err != nil {
		return err
	}
	inv, err := receive(b, "INVITE ")
	if err != nil {
		return err
	}
	send(b, callerAddr, d.response(inv, "100 Trying", ""))
	send(b, callerAddr, d.response(inv, "180 Ringing", ""))
	if err := b.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: bodyOf(inv)}); err != nil {
		return err
	}
	answer, err := b.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond) // it rings
	answerSDP, err := b.describe(answer)
	if err != nil {
		return err
	}
	send(b, callerAddr, d.response(inv, "200 OK", answerSDP))
	ok, err := receive(a, "SIP/2.0 200 ")
	if err != nil {
		return err
	}
	if err := send(a, calleeAddr, d.request("ACK", 1, "ack1", "")); err != nil {
		return err
	}
	if _, err := receive(b, "ACK "); err != nil {
		return err
	}
	if err := a.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: bodyOf(ok)}); err != nil {
		return err
	}
	for _, p := range []*party{a, b} {
		select {
		case <-p.up:
		case <-time.After(10 * time.Second):
			return errors.New(p.addr + ": ICE/DTLS did not connect")
		}
	}
	stop := make(chan struct{})
	go a.talk(440, stop)
	go b.talk(660, stop)
	time.Sleep(talkFor)
	close(stop)
	time.Sleep(100 * time.Millisecond)
	if err := send(a, calleeAddr, d.request("BYE", 2, "bye2", "")); err != nil {
		return err
	}
	bye, err := receive(b, "BYE ")
	if err != nil {
		return err
	}
	send(b, callerAddr, d.response(bye, "200 OK", ""))
	if _, err := receive(a, "SIP/2.0 200 "); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "call done")
	return nil
}
