package render_test

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/sipflow/sipflow/internal/synth"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// sipMsg assembles a SIP message with a correct Content-Length.
func sipMsg(start string, headers []string, body string) []byte {
	var b strings.Builder
	b.WriteString(start + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	return []byte(b.String())
}

// pcapBuilder collects timed UDP frames and writes them as a pcap.
type pcapBuilder struct {
	at     time.Time
	frames []synth.Frame
}

func (c *pcapBuilder) send(gap time.Duration, src, dst string, msg []byte) {
	c.at = c.at.Add(gap)
	c.frames = append(c.frames, synth.Frame{Time: c.at, Data: synth.UDP(src, dst, msg)})
}

func (c *pcapBuilder) pcap(t testing.TB) []byte {
	var b bytes.Buffer
	if err := synth.WritePcap(&b, layers.LinkTypeEthernet, c.frames); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sdp(ip string, port int, dir string) string {
	return "v=0\r\no=- 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\n" +
		"m=audio " + strconv.Itoa(port) + " RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=" + dir + "\r\n"
}

// chainNames are the nine hosts of proxyChain, caller to callee.
var chainNames = []string{"alice-phone", "sbc-edge-west", "core-proxy-a", "core-proxy-b", "ims-icscf", "ims-scscf", "as-mmtel", "sbc-peering", "bob-phone"}

// proxyChain is a call forwarded through seven proxies: nine hosts, every
// request and response hop by hop (each hop its own transaction, as RFC
// 3261 §16 proxies do).
func proxyChain(t testing.TB) []byte {
	n := len(chainNames)
	host := func(i int) string { return "10.0.0." + strconv.Itoa(i+1) + ":5060" }
	ip := func(i int) string { return "10.0.0." + strconv.Itoa(i+1) }
	c := &pcapBuilder{at: t0}
	vias := func(i int, kind string) []string {
		var vs []string
		for j := i; j >= 0; j-- {
			vs = append(vs, "Via: SIP/2.0/UDP "+host(j)+";branch=z9hG4bK-"+kind+strconv.Itoa(j))
		}
		return vs
	}
	common := func(cseq string, toTag bool) []string {
		to := "To: <sip:bob@example.net>"
		if toTag {
			to += ";tag=bobtag"
		}
		return []string{"From: \"Alice\" <sip:alice@example.com>;tag=alicetag", to, "Call-ID: chain-1@10.0.0.1", "CSeq: " + cseq, "Max-Forwards: 70"}
	}
	req := func(i int, method, kind, cseq string, toTag bool, body string) {
		h := append(vias(i, kind), common(cseq, toTag)...)
		h = append(h, "User-Agent: "+chainNames[i])
		c.send(time.Millisecond, host(i), host(i+1), sipMsg(method+" sip:bob@example.net SIP/2.0", h, body))
	}
	resp := func(i int, gap time.Duration, status, kind, cseq string, toTag bool, body string) {
		h := append(vias(i, kind), common(cseq, toTag)...)
		h = append(h, "Server: "+chainNames[i+1])
		c.send(gap, host(i+1), host(i), sipMsg("SIP/2.0 "+status, h, body))
	}
	for i := 0; i < n-1; i++ {
		req(i, "INVITE", "inv", "1 INVITE", false, sdp(ip(0), 40000, "sendrecv")) // the offer, relayed hop by hop
		resp(i, time.Millisecond, "100 Trying", "inv", "1 INVITE", false, "")
	}
	for i := n - 2; i >= 0; i-- {
		gap := time.Millisecond
		if i == n-2 {
			gap = 300 * time.Millisecond
		}
		resp(i, gap, "180 Ringing", "inv", "1 INVITE", true, "")
	}
	for i := n - 2; i >= 0; i-- {
		gap := time.Millisecond
		if i == n-2 {
			gap = 2 * time.Second
		}
		resp(i, gap, "200 OK", "inv", "1 INVITE", true, sdp(ip(n-1), 50000, "sendrecv"))
	}
	for i := 0; i < n-1; i++ {
		req(i, "ACK", "ack", "1 ACK", true, "")
	}
	c.at = c.at.Add(5 * time.Second)
	for i := 0; i < n-1; i++ {
		req(i, "BYE", "bye", "2 BYE", true, "")
	}
	for i := n - 2; i >= 0; i-- {
		resp(i, time.Millisecond, "200 OK", "bye", "2 BYE", true, "")
	}
	return c.pcap(t)
}

// Hostile strings: a terminal title escape, HTML, a Mermaid arrow and
// statement separators, quotes, and a bidi override.
const (
	hostileName   = "\x1b]0;x\x07<script>alert(1)</script> -->> B; #evil \"q\" 'a'"
	hostileAgent  = "<script>alert('ua')</script>\x1b[31m -->> ;%%{init}%% \u202egnp.exe"
	hostileReason = "Busy \x1b]0;x\x07 <b>bold</b> -->> P1: ; #"
	hostileCallID = "evil<script>-->>\"x\"@10.6.6.1"
)

// hostileCall is an INVITE rejected with 486, every header a user or peer
// controls set to something that could break a terminal, HTML, SVG or a
// Mermaid diagram.
func hostileCall(t testing.TB) []byte {
	c := &pcapBuilder{at: t0}
	a, b := "10.6.6.1:5060", "10.6.6.2:5060"
	h := func(toTag bool, cseq string) []string {
		to := "To: <sip:bob@example.net>"
		if toTag {
			to += ";tag=b1"
		}
		return []string{"Via: SIP/2.0/UDP " + a + ";branch=z9hG4bK-h1", "From: \"" + hostileName + "\" <sip:alice@example.com>;tag=a1",
			to, "Call-ID: " + hostileCallID, "CSeq: " + cseq}
	}
	body := "v=0\r\no=- 1 1 IN IP4 10.6.6.1\r\ns=-\r\nc=IN IP4 10.6.6.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 <i>x</i>;-->>/8000\r\n"
	c.send(0, a, b, sipMsg("INVITE sip:bob@example.net SIP/2.0", append(h(false, "1 INVITE"), "User-Agent: "+hostileAgent), body))
	c.send(time.Millisecond, b, a, sipMsg("SIP/2.0 100 Trying", h(false, "1 INVITE"), ""))
	c.send(time.Second, b, a, sipMsg("SIP/2.0 486 "+hostileReason, append(h(true, "1 INVITE"), "Server: "+hostileAgent), ""))
	c.send(time.Millisecond, a, b, sipMsg("ACK sip:bob@example.net SIP/2.0", h(true, "1 ACK"), ""))
	return c.pcap(t)
}

// longCall is one call of about n messages: INVITE through a proxy, then
// INFO transactions relayed end to end, then BYE.
func longCall(t testing.TB, n int) []byte {
	c := &pcapBuilder{at: t0}
	hosts := []string{"10.1.0.1:5060", "10.1.0.2:5060", "10.1.0.3:5060"}
	k := 0
	msg := func(i int, method, status string, cseq int, toTag bool, body string) {
		k++
		from, to := hosts[i], hosts[i+1]
		start := method + " sip:bob@example.net SIP/2.0"
		if status != "" {
			from, to = to, from
			start = "SIP/2.0 " + status
		}
		tt := "To: <sip:bob@example.net>"
		if toTag {
			tt += ";tag=b"
		}
		hs := []string{fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=z9hG4bK-%d-%d", hosts[i], cseq, i), "From: <sip:alice@example.com>;tag=a",
			tt, "Call-ID: long-1@10.1.0.1", fmt.Sprintf("CSeq: %d %s", cseq, method), "User-Agent: bench"}
		c.send(time.Millisecond, from, to, sipMsg(start, hs, body))
	}
	for i := 0; i < 2; i++ {
		msg(i, "INVITE", "", 1, false, "")
		msg(i, "INVITE", "100 Trying", 1, false, "")
	}
	for i := 1; i >= 0; i-- {
		msg(i, "INVITE", "200 OK", 1, true, sdp("10.1.0.3", 30000, "sendrecv"))
	}
	for i := 0; i < 2; i++ {
		msg(i, "ACK", "", 1, true, "")
	}
	cseq := 2
	for k < n-8 {
		for i := 0; i < 2; i++ {
			msg(i, "INFO", "", cseq, true, "")
		}
		for i := 1; i >= 0; i-- {
			msg(i, "INFO", "200 OK", cseq, true, "")
		}
		cseq++
	}
	for i := 0; i < 2; i++ {
		msg(i, "BYE", "", cseq, true, "")
	}
	for i := 1; i >= 0; i-- {
		msg(i, "BYE", "200 OK", cseq, true, "")
	}
	return c.pcap(t)
}

// loopback is a call through a host that relays it to another process on
// the same address (a self-addressed arrow when columns are addresses).
func loopback(t testing.TB) []byte {
	c := &pcapBuilder{at: t0}
	msg := func(src, dst, start, branch, cseq, toTag, agent, body string) {
		to := "To: <sip:bob@example.net>"
		if toTag != "" {
			to += ";tag=" + toTag
		}
		hs := []string{"Via: SIP/2.0/UDP " + src + ";branch=z9hG4bK-" + branch, "From: <sip:alice@example.com>;tag=a",
			to, "Call-ID: loop-1@10.0.0.1", "CSeq: " + cseq, "User-Agent: " + agent}
		c.send(10*time.Millisecond, src, dst, sipMsg(start, hs, body))
	}
	resp := func(src, dst, status, branch, cseq, toTag, body string) {
		hs := []string{"Via: SIP/2.0/UDP " + dst + ";branch=z9hG4bK-" + branch, "From: <sip:alice@example.com>;tag=a",
			"To: <sip:bob@example.net>;tag=" + toTag, "Call-ID: loop-1@10.0.0.1", "CSeq: " + cseq}
		c.send(10*time.Millisecond, src, dst, sipMsg("SIP/2.0 "+status, hs, body))
	}
	a, px, in, out := "10.0.0.1:5060", "10.0.0.2:5060", "10.0.0.2:5070", "10.0.0.2:5080"
	msg(a, px, "INVITE sip:bob@example.net SIP/2.0", "1", "1 INVITE", "", "phone", sdp("10.0.0.1", 4000, "sendrecv"))
	msg(in, out, "INVITE sip:bob@example.net SIP/2.0", "2", "1 INVITE", "", "relay", "")
	resp(out, in, "200 OK", "2", "1 INVITE", "b", sdp("10.0.0.2", 6000, "sendrecv"))
	resp(px, a, "200 OK", "1", "1 INVITE", "b", sdp("10.0.0.2", 6000, "sendrecv"))
	msg(a, px, "ACK sip:bob@example.net SIP/2.0", "3", "1 ACK", "b", "phone", "")
	msg(in, out, "ACK sip:bob@example.net SIP/2.0", "4", "1 ACK", "b", "relay", "")
	return c.pcap(t)
}
