package synth

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// GenOptions describe a generated capture of many calls.
type GenOptions struct {
	Calls      int           // number of calls
	Rate       float64       // calls started per second of capture time
	Hold       time.Duration // time from ACK to BYE
	RTP        bool          // send G.711 RTP both ways while the call is up (20 ms packets)
	Start      time.Time     // timestamp of the first packet
	RTPPayload int           // RTP payload bytes (160 for 20 ms of G.711)
}

// DefaultGen is a realistic mix: 10 calls a second, 5 s each, with RTP.
func DefaultGen(calls int) GenOptions {
	return GenOptions{Calls: calls, Rate: 10, Hold: 5 * time.Second, RTP: true,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), RTPPayload: 160}
}

// Generate writes a deterministic pcap (Ethernet, microsecond timestamps)
// of opts.Calls basic calls: INVITE/100/180/200/ACK, RTP both ways if asked,
// BYE/200. Each call has its own caller and callee addresses in 10.1.0.0/16
// and 10.2.0.0/16 and its own Call-ID. It returns the number of packets.
func Generate(w io.Writer, opts GenOptions) (int, error) {
	if opts.Rate <= 0 {
		opts.Rate = 10
	}
	if opts.RTPPayload <= 0 {
		opts.RTPPayload = 160
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	pw := pcapgo.NewWriter(bw)
	if err := pw.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		return 0, err
	}
	g := &generator{opts: opts, pw: pw, frame: make([]byte, 0, 2048), payload: make([]byte, opts.RTPPayload)}
	for i := range g.payload {
		g.payload[i] = 0xd5 // A-law silence-ish
	}
	const tick = 20 * time.Millisecond
	interval := time.Duration(float64(time.Second) / opts.Rate)
	started := 0
	var active []*genCall
	for t := time.Duration(0); started < opts.Calls || len(active) > 0; t += tick {
		for started < opts.Calls && time.Duration(started)*interval <= t {
			active = append(active, g.newCall(started, opts.Start.Add(time.Duration(started)*interval)))
			started++
		}
		now := opts.Start.Add(t + tick)
		kept := active[:0]
		for _, c := range active {
			if !g.advance(c, now) {
				kept = append(kept, c)
			}
		}
		active = kept
		g.flush()
		if g.err != nil {
			return g.n, g.err
		}
	}
	return g.n, bw.Flush()
}

type generator struct {
	opts    GenOptions
	pw      *pcapgo.Writer
	frame   []byte
	payload []byte
	pending []pendingFrame // this tick's frames, written in time order by flush
	n       int
	err     error
}

type pendingFrame struct {
	at   time.Time
	data []byte
}

// flush writes the frames of one tick sorted by time (stable, so frames of
// one call at the same instant keep their order).
func (g *generator) flush() {
	slices.SortStableFunc(g.pending, func(a, b pendingFrame) int { return a.at.Compare(b.at) })
	for _, f := range g.pending {
		if g.err == nil {
			g.err = g.pw.WritePacket(gopacket.CaptureInfo{Timestamp: f.at, CaptureLength: len(f.data), Length: len(f.data)}, f.data)
		}
	}
	g.pending = g.pending[:0]
}

type genCall struct {
	id              int
	callID, tagA    string
	a, b            netip.AddrPort // signalling
	ma, mb          netip.AddrPort // media
	start           time.Time
	step            int       // next signalling step
	next            time.Time // when that step happens
	rtpFrom, rtpTil time.Time
	rtpNext         time.Time
	seqA, seqB      uint16
	tsA, tsB        uint32
}

func (g *generator) newCall(i int, at time.Time) *genCall {
	a := netip.AddrFrom4([4]byte{10, 1, byte((i + 1) >> 8), byte(i + 1)})
	b := netip.AddrFrom4([4]byte{10, 2, byte((i + 1) >> 8), byte(i + 1)})
	return &genCall{
		id: i, callID: fmt.Sprintf("gen-%08d@sipflow.test", i), tagA: fmt.Sprintf("a%d", i),
		a: netip.AddrPortFrom(a, 5060), b: netip.AddrPortFrom(b, 5060),
		ma: netip.AddrPortFrom(a, uint16(10000+2*(i%20000))), mb: netip.AddrPortFrom(b, uint16(40000+2*(i%10000))),
		start: at, next: at, seqA: uint16(i * 7), seqB: uint16(i * 13),
	}
}

// advance emits everything of call c up to now; it reports whether the call is over.
func (g *generator) advance(c *genCall, now time.Time) bool {
	for {
		// RTP packets due before the next signalling step.
		for g.opts.RTP && !c.rtpNext.IsZero() && c.rtpNext.Before(now) && c.rtpNext.Before(c.rtpTil) && (c.step > 5 || c.rtpNext.Before(c.next)) {
			g.rtp(c, c.ma, c.mb, &c.seqA, &c.tsA, 0x1000+uint32(c.id), c.rtpNext)
			g.rtp(c, c.mb, c.ma, &c.seqB, &c.tsB, 0x2000+uint32(c.id), c.rtpNext.Add(time.Millisecond))
			c.rtpNext = c.rtpNext.Add(20 * time.Millisecond)
		}
		if c.step > 6 {
			return true
		}
		if !c.next.Before(now) {
			return false
		}
		g.signal(c)
	}
}

func (g *generator) signal(c *genCall) {
	sdpA := g.sdp(c.ma, c.id)
	sdpB := g.sdp(c.mb, c.id)
	at := c.next
	switch c.step {
	case 0:
		g.sip(at, c.a, c.b, g.request(c, "INVITE", 1, "", sdpA))
		c.next = at.Add(2 * time.Millisecond)
	case 1:
		g.sip(at, c.b, c.a, g.response(c, 100, "Trying", "INVITE", 1, "", ""))
		c.next = at.Add(50 * time.Millisecond)
	case 2:
		g.sip(at, c.b, c.a, g.response(c, 180, "Ringing", "INVITE", 1, "b", ""))
		c.next = at.Add(500 * time.Millisecond)
	case 3:
		g.sip(at, c.b, c.a, g.response(c, 200, "OK", "INVITE", 1, "b", sdpB))
		c.next = at.Add(3 * time.Millisecond)
	case 4:
		g.sip(at, c.a, c.b, g.request(c, "ACK", 1, "b", ""))
		c.rtpNext = at.Add(10 * time.Millisecond)
		c.rtpTil = at.Add(g.opts.Hold)
		c.next = c.rtpTil
	case 5:
		g.sip(at, c.a, c.b, g.request(c, "BYE", 2, "b", ""))
		c.next = at.Add(2 * time.Millisecond)
	case 6:
		g.sip(at, c.b, c.a, g.response(c, 200, "OK", "BYE", 2, "b", ""))
	}
	c.step++
}

func (g *generator) sdp(m netip.AddrPort, id int) string {
	return fmt.Sprintf("v=0\r\no=- %d 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n",
		id, m.Addr(), m.Addr(), m.Port())
}

func (g *generator) request(c *genCall, method string, cseq int, toTag, body string) string {
	to := "<sip:bob@" + c.b.Addr().String() + ">"
	if toTag != "" {
		to += ";tag=" + toTag + c.tagA
	}
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	return fmt.Sprintf("%s sip:bob@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%d-%d-%s\r\nMax-Forwards: 70\r\n"+
		"From: \"Alice %d\" <sip:alice@%s>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:alice@%s>\r\n"+
		"User-Agent: sipflow-gencap\r\n%sContent-Length: %d\r\n\r\n%s",
		method, c.b, c.a, c.id, cseq, method, c.id, c.a.Addr(), c.tagA, to, c.callID, cseq, method, c.a, ct, len(body), body)
}

func (g *generator) response(c *genCall, code int, reason, method string, cseq int, toTag, body string) string {
	to := "<sip:bob@" + c.b.Addr().String() + ">"
	if toTag != "" {
		to += ";tag=" + toTag + c.tagA
	}
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	return fmt.Sprintf("SIP/2.0 %d %s\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%d-%d-%s\r\n"+
		"From: \"Alice %d\" <sip:alice@%s>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:bob@%s>\r\n"+
		"Server: sipflow-gencap\r\n%sContent-Length: %d\r\n\r\n%s",
		code, reason, c.a, c.id, cseq, method, c.id, c.a.Addr(), c.tagA, to, c.callID, cseq, method, c.b, ct, len(body), body)
}

func (g *generator) sip(at time.Time, src, dst netip.AddrPort, msg string) {
	g.write(at, src, dst, []byte(msg))
}

func (g *generator) rtp(c *genCall, src, dst netip.AddrPort, seq *uint16, ts *uint32, ssrc uint32, at time.Time) {
	h := make([]byte, 12, 12+len(g.payload))
	h[0], h[1] = 0x80, 8
	binary.BigEndian.PutUint16(h[2:], *seq)
	binary.BigEndian.PutUint32(h[4:], *ts)
	binary.BigEndian.PutUint32(h[8:], ssrc)
	*seq++
	*ts += uint32(len(g.payload))
	g.write(at, src, dst, append(h, g.payload...))
}

// write builds Ethernet + IPv4 + UDP by hand (no checksum: fine for files
// we read back ourselves and tshark does not verify UDP checksums by default).
func (g *generator) write(at time.Time, src, dst netip.AddrPort, payload []byte) {
	if g.err != nil {
		return
	}
	b := g.frame[:0]
	b = append(b, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00)
	ipStart := len(b)
	total := 20 + 8 + len(payload)
	b = append(b, 0x45, 0, byte(total>>8), byte(total), byte(g.n>>8), byte(g.n), 0, 0, 64, 17, 0, 0)
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	b = append(b, s4[:]...)
	b = append(b, d4[:]...)
	var sum uint32
	for i := ipStart; i < ipStart+20; i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(b[ipStart+10:], ^uint16(sum))
	ul := 8 + len(payload)
	b = append(b, byte(src.Port()>>8), byte(src.Port()), byte(dst.Port()>>8), byte(dst.Port()), byte(ul>>8), byte(ul), 0, 0)
	b = append(b, payload...)
	g.frame = b
	g.n++
	g.pending = append(g.pending, pendingFrame{at: at, data: bytes.Clone(b)})
}
