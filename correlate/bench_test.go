package correlate_test

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/synth"
)

type collector struct{ msgs []*decode.Message }

func (c *collector) Message(m *decode.Message) { c.msgs = append(c.msgs, m.Clone()) }
func (c *collector) Datagram(*decode.Datagram) {}
func (c *collector) Warn(*decode.Warning)      {}

// decodeGenerated generates a capture and decodes it into h; it returns
// the capture's size in bytes.
func decodeGenerated(b testing.TB, opts synth.GenOptions, h decode.Handler) int64 {
	var file bytes.Buffer
	if _, err := synth.Generate(&file, opts); err != nil {
		b.Fatal(err)
	}
	size := int64(file.Len())
	src, err := capture.NewReader(&file, "gen")
	if err != nil {
		b.Fatal(err)
	}
	d := decode.NewDecoder(h, decode.Options{})
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		d.Decode(p)
	}
	d.Flush()
	return size
}

// generatedMessages decodes a generated signalling-only capture once.
func generatedMessages(b testing.TB, calls int) []*decode.Message {
	opts := synth.DefaultGen(calls)
	opts.RTP = false
	opts.Rate = 200
	opts.Hold = 2 * time.Second
	col := &collector{}
	decodeGenerated(b, opts, col)
	return col.msgs
}

// rawMessage is one message of a generated capture kept as bytes, so that
// the benchmark's input costs the garbage collector nothing to scan.
type rawMessage struct {
	off, len int
	n        int
	t        time.Time
	src, dst netip.AddrPort
}

func generatedRaw(b testing.TB, calls int) ([]byte, []rawMessage) {
	var blob []byte
	var raw []rawMessage
	for _, m := range generatedMessages(b, calls) {
		raw = append(raw, rawMessage{off: len(blob), len: len(m.Raw), n: m.N, t: m.Time, src: m.Src, dst: m.Dst})
		blob = append(blob, m.Raw...)
	}
	return blob, raw
}

// leanMessages returns the messages of a generated capture of calls,
// parsed lean as sipflow's commands parse for correlation, and the bytes
// they were parsed from.
func leanMessages(b testing.TB, calls int) ([]byte, []decode.Message) {
	blob, raw := generatedRaw(b, calls)
	var arena decode.Arena
	msgs := make([]decode.Message, len(raw))
	var m decode.Message
	var parser decode.Parser
	for i, r := range raw {
		if err := parser.ParseLean(blob[r.off:r.off+r.len], &m); err != nil {
			b.Fatal(err)
		}
		m.N, m.Time, m.Src, m.Dst, m.Transport = r.n, r.t, r.src, r.dst, decode.UDP
		m.CopyTo(&msgs[i], &arena)
	}
	return blob, msgs
}

// BenchmarkCorrelate parses the messages of generated calls (lean, as the
// commands do) and runs them through correlation, checks and flow
// matching: msgs/s is the whole, and
// correlate-msgs/s the same with the parse time (measured on its own first)
// taken out. Goal (issue 3): correlating and checking at least 1 million
// SIP messages per second on one core.
func BenchmarkCorrelate(b *testing.B) {
	const calls = 5000
	blob, raw := generatedRaw(b, calls)
	var m decode.Message
	var parser decode.Parser // as the Decoder parses: remembering header order (decode.Parser)
	parse := func(r *rawMessage) {
		if err := parser.ParseLean(blob[r.off:r.off+r.len], &m); err != nil {
			b.Fatal(err)
		}
		m.N, m.Time, m.Src, m.Dst, m.Transport = r.n, r.t, r.src, r.dst, decode.UDP
	}
	parseOnly := time.Duration(1 << 62)
	for range 5 {
		start := time.Now()
		for i := range raw {
			parse(&raw[i])
		}
		parseOnly = min(parseOnly, time.Since(start))
	}
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	b.ResetTimer()
	got := 0
	for b.Loop() {
		c := correlate.New(correlate.Options{}, func(*correlate.Call) { got++ })
		for i := range raw {
			parse(&raw[i])
			c.Add(&m)
		}
		c.Flush()
	}
	total := b.Elapsed()
	b.ReportMetric(float64(len(raw))*float64(b.N)/total.Seconds(), "msgs/s")
	b.ReportMetric(float64(len(raw))*float64(b.N)/(total-parseOnly*time.Duration(b.N)).Seconds(), "correlate-msgs/s")
	if got != calls*b.N {
		b.Fatalf("%d calls, want %d", got, calls*b.N)
	}
}

// renameCalls makes the generated calls in msgs a new set for pass n of
// BenchmarkCorrelateOnly/steady (0: as generated): every Call-ID starts
// with a four-letter code for n instead of "gen-", and every time moves
// on by n times the capture's span plus a second, so pass n's calls come
// after pass n-1's as in one long capture, and none is taken for a late
// message of a call already finished.
func renameCalls(b *testing.B, msgs []decode.Message, orig []time.Time, n int) {
	span := orig[len(orig)-1].Sub(orig[0]) + time.Second
	code := []byte("gen-")
	if n > 0 {
		for i, x := 0, n; i < 4; i, x = i+1, x/26 {
			code[i] = byte('A' + x%26)
		}
	}
	for i := range msgs {
		id := msgs[i].CallID
		if len(id) < 4 {
			b.Fatalf("Call-ID %q too short to rename", id)
		}
		copy(id, code)
		msgs[i].Time = orig[i].Add(time.Duration(n) * span)
	}
}

// TestMemoryFlat: over a long capture, the calls held open stay a small,
// steady number (those in progress plus those lingering), not all of them.
func TestMemoryFlat(t *testing.T) {
	msgs := generatedMessages(t, 5000)
	calls := 0
	c := correlate.New(correlate.Options{}, func(*correlate.Call) { calls++ })
	for _, m := range msgs {
		c.Add(m)
	}
	c.Flush()
	if calls != 5000 {
		t.Fatalf("%d calls, want 5000", calls)
	}
	// 200 calls/s, each up ~2.6 s, then lingering 5 s: about 1,500 open.
	if c.Stats.PeakOpen > 2000 {
		t.Errorf("peak of %d calls open at once out of 5000: memory is not flat", c.Stats.PeakOpen)
	}
	t.Logf("peak open: %d of %d", c.Stats.PeakOpen, calls)
}

// BenchmarkCorrelateOnly feeds messages parsed in advance (held in one
// arena), so that only correlation, checks and flow matching are timed.
// Goal (issue 3): at least 1 million SIP messages per second on one core.
// "recycle" gives each call's legs back once emitted (Recycle), as the
// calls command does; "keep" leaves them to the garbage collector, as
// commands that keep calls' messages must. Both start a new Correlator
// for each pass over the 5,000 calls, so every pass also pays for growing
// its pools and maps from nothing. "steady" is recycle as over a long
// capture: one Correlator for the whole run, each pass a new set of calls
// (see renameCalls) later in time than the last.
func BenchmarkCorrelateOnly(b *testing.B) {
	const calls = 5000
	blob, msgs := leanMessages(b, calls)
	b.Run("steady", func(b *testing.B) {
		b.SetBytes(int64(len(blob)))
		b.ReportAllocs()
		orig := make([]time.Time, len(msgs))
		for i := range msgs {
			orig[i] = msgs[i].Time
		}
		got := 0
		var c *correlate.Correlator
		c = correlate.New(correlate.Options{}, func(call *correlate.Call) {
			got++
			c.Recycle(call)
		})
		// Pass 0, untimed, fills the pools and maps; the first call to
		// b.Loop starts the timer afresh. The calls still open after the
		// last pass are finished untimed too: each timed pass finishes
		// about as many calls as it starts.
		for i := range msgs {
			c.Add(&msgs[i])
		}
		for pass := 1; b.Loop(); pass++ {
			b.StopTimer()
			renameCalls(b, msgs, orig, pass)
			b.StartTimer()
			for i := range msgs {
				c.Add(&msgs[i])
			}
		}
		c.Flush()
		b.ReportMetric(float64(len(msgs))*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		renameCalls(b, msgs, orig, 0)
		if got != calls*(b.N+1) {
			b.Fatalf("%d calls, want %d", got, calls*(b.N+1))
		}
	})
	for _, recycle := range []bool{false, true} {
		name := "keep"
		if recycle {
			name = "recycle"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(blob)))
			b.ReportAllocs()
			got := 0
			for b.Loop() {
				var c *correlate.Correlator
				c = correlate.New(correlate.Options{}, func(call *correlate.Call) {
					got++
					if recycle {
						c.Recycle(call)
					}
				})
				for i := range msgs {
					c.Add(&msgs[i])
				}
				c.Flush()
			}
			b.ReportMetric(float64(len(msgs))*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			if got != calls*b.N {
				b.Fatalf("%d calls, want %d", got, calls*b.N)
			}
		})
	}
}

// BenchmarkBuild builds finished calls as sipflow's output stage does
// (Options.DeferBuild, a Builder), from memory gone cold as it is when a
// call finishes seconds after its last message: between passes the
// benchmark writes 64 MB elsewhere, which evicts the calls from every
// cache. "prefetch" hands the Builder 32 calls at a time first
// (Builder.Prefetch), as the output stage does.
func BenchmarkBuild(b *testing.B) {
	const calls = 5000
	blob, msgs := leanMessages(b, calls)
	evict := make([]byte, 64<<20)
	for _, prefetch := range []bool{false, true} {
		name := "cold"
		if prefetch {
			name = "cold-prefetch"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(blob)))
			b.ReportAllocs()
			var pending []*correlate.Call
			built := 0
			for b.Loop() {
				b.StopTimer()
				pending = pending[:0]
				c := correlate.New(correlate.Options{DeferBuild: true}, func(call *correlate.Call) { pending = append(pending, call) })
				for i := range msgs {
					c.Add(&msgs[i])
				}
				c.Flush()
				for i := range evict {
					evict[i]++
				}
				bld := c.NewBuilder()
				b.StartTimer()
				for i := 0; i < len(pending); i += 32 {
					win := pending[i:min(i+32, len(pending))]
					if prefetch {
						bld.Prefetch(win)
					}
					for _, call := range win {
						bld.Build(call)
					}
				}
				built += len(pending)
			}
			if built != calls*b.N {
				b.Fatalf("%d calls built, want %d", built, calls*b.N)
			}
			b.ReportMetric(float64(built)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

// mediaEvent is one packet of a generated capture with RTP, kept as plain
// data: a SIP message (msg >= 0, an index into the messages) or a datagram
// whose payload is blob[off:off+len].
type mediaEvent struct {
	msg      int
	n        int
	t        time.Time
	src, dst netip.AddrPort
	off, len int
}

type mediaCollector struct {
	msgs   []decode.Message
	arena  decode.Arena
	events []mediaEvent
	blob   []byte
}

func (c *mediaCollector) Message(m *decode.Message) {
	c.msgs = append(c.msgs, decode.Message{})
	m.CopyTo(&c.msgs[len(c.msgs)-1], &c.arena)
	c.events = append(c.events, mediaEvent{msg: len(c.msgs) - 1})
}

// Datagram keeps the RTP header and four bytes of payload: the correlator
// reads no further (only the payload's length, which is all that differs).
func (c *mediaCollector) Datagram(d *decode.Datagram) {
	p := d.Payload[:min(len(d.Payload), 16)]
	c.events = append(c.events, mediaEvent{msg: -1, n: d.N, t: d.Time, src: d.Src, dst: d.Dst, off: len(c.blob), len: len(p)})
	c.blob = append(c.blob, p...)
}
func (c *mediaCollector) Warn(*decode.Warning) {}

// BenchmarkCorrelateMedia runs a generated capture with RTP through the
// correlator with media analysis on, as stage two of sipflow's pipeline
// does on a capture full of media: 1,000 calls, 200 a second, each up 5 s
// with G.711 both ways, so about 1,000 calls and 2,000 RTP flows are open
// at once (big-rtp has a few hundred to a couple of thousand). pkts/s
// counts SIP messages and datagrams.
func BenchmarkCorrelateMedia(b *testing.B) {
	const calls = 1000
	opts := synth.DefaultGen(calls)
	opts.Rate = 200
	col := &mediaCollector{}
	size := decodeGenerated(b, opts, col)
	rtp := len(col.events) - len(col.msgs)
	b.SetBytes(size)
	b.ReportAllocs()
	got := 0
	var st correlate.Stats
	for b.Loop() {
		c := correlate.New(correlate.Options{Media: true}, func(*correlate.Call) { got++ })
		for i := range col.events {
			e := &col.events[i]
			if e.msg >= 0 {
				c.Add(&col.msgs[e.msg])
				continue
			}
			c.AddDatagram(e.n, e.t, e.src, e.dst, col.blob[e.off:e.off+e.len])
		}
		c.Flush()
		st = c.Stats
	}
	b.ReportMetric(float64(len(col.events))*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	if got != calls*b.N {
		b.Fatalf("%d calls, want %d", got, calls*b.N)
	}
	if st.MediaPackets != rtp {
		b.Fatalf("%d media packets of calls, want all %d datagrams", st.MediaPackets, rtp)
	}
}

// BenchmarkLongCall correlates and builds one call of n hold and resume
// re-INVITEs (three messages each); for "trying", the same with a 100
// Trying to each re-INVITE (four); for "timer", a call with a session
// timer refreshed n times (three), its o= version new at every tenth; for
// "moves", a call whose callee moves its media to a new port at each of
// n re-INVITEs, with three RTP packets to each port (six datagrams); for
// "prack", a call ringing through n reliable 183s, each PRACKed (three),
// every eighth sent again after its PRACK's answer; for "subscription",
// one subscription of n NOTIFYs (two messages each); for
// "unmatched", the same with the NOTIFYs' 200s matching no NOTIFY (their
// Via rewritten on the way); for "refresh", one of n refreshes, each a
// SUBSCRIBE, a NOTIFY and the SUBSCRIBE's 200 after it, and the NOTIFY's
// 200 (four). Parsed in advance. The time per message must not grow with
// n (legIndex, subscriptionFold, the flow view's provisionals and
// refreshes, a leg's endpoints by address): msgs/s at 16,000 close to
// that at 1,000.
func BenchmarkLongCall(b *testing.B) {
	for _, kind := range []string{"reinvite", "trying", "timer", "moves", "prack", "subscription", "unmatched", "refresh"} {
		for _, n := range []int{1000, 16000} {
			b.Run(fmt.Sprintf("%s-%d", kind, n), func(b *testing.B) {
				blob, msgs, rtp := longCallMessages(b, kind, n)
				b.SetBytes(int64(len(blob)))
				b.ReportAllocs()
				var st correlate.Stats
				for b.Loop() {
					got := 0
					c := correlate.New(correlate.Options{Media: len(rtp) > 0}, func(*correlate.Call) { got++ })
					r := 0
					for i := range msgs {
						c.Add(&msgs[i])
						for ; r < len(rtp) && rtp[r].after == i; r++ {
							c.AddDatagram(rtp[r].n, rtp[r].t, rtp[r].src, rtp[r].dst, rtp[r].payload)
						}
					}
					c.Flush()
					if got != 1 {
						b.Fatalf("%d calls", got)
					}
					st = c.Stats
				}
				if st.MediaPackets != len(rtp) {
					b.Fatalf("%d media packets of the call, want all %d datagrams", st.MediaPackets, len(rtp))
				}
				b.ReportMetric(float64(len(msgs)+len(rtp))*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

// longDatagram is an RTP packet of BenchmarkLongCall's "moves", sent
// after message after.
type longDatagram struct {
	after, n int
	t        time.Time
	src, dst netip.AddrPort
	payload  []byte
}

// longCallMessages is the messages of BenchmarkLongCall's call, parsed,
// and its RTP.
func longCallMessages(b *testing.B, kind string, n int) ([]byte, []decode.Message, []longDatagram) {
	a, z := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	var texts []string
	var dirs []bool // a to z
	send := func(toZ bool, s string) { texts, dirs = append(texts, s), append(dirs, toZ) }
	req := func(method string, cseq int, toTag, body string) string {
		ct := ""
		if body != "" {
			ct = "Content-Type: application/sdp\r\n"
		}
		return fmt.Sprintf("%s sip:bob@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%s%d\r\nFrom: <sip:alice@x>;tag=a1\r\n"+
			"To: <sip:bob@x>%s\r\nCall-ID: long\r\nCSeq: %d %s\r\nContact: <sip:alice@10.0.0.1>\r\n%sContent-Length: %d\r\n\r\n%s",
			method, method, cseq, toTag, cseq, method, ct, len(body), body)
	}
	resp := func(status int, method string, cseq int, body string) string {
		ct := ""
		if body != "" {
			ct = "Content-Type: application/sdp\r\n"
		}
		return fmt.Sprintf("SIP/2.0 %d OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%s%d\r\nFrom: <sip:alice@x>;tag=a1\r\n"+
			"To: <sip:bob@x>;tag=b1\r\nCall-ID: long\r\nCSeq: %d %s\r\nContact: <sip:bob@10.0.0.2>\r\n%sContent-Length: %d\r\n\r\n%s",
			status, method, cseq, cseq, method, ct, len(body), body)
	}
	sdp := func(v int, dir string) string {
		return fmt.Sprintf("v=0\r\no=- 1 %d IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=%s\r\n", v, dir)
	}
	// with adds header lines (each ending in CRLF) before msg's Content-Length.
	with := func(msg, headers string) string {
		return strings.Replace(msg, "Content-Length", headers+"Content-Length", 1)
	}
	var rtp []longDatagram
	switch kind {
	case "subscription", "unmatched":
		send(true, req("SUBSCRIBE", 1, "", ""))
		send(false, resp(200, "SUBSCRIBE", 1, ""))
		for i := range n {
			send(true, req("NOTIFY", 2+i, ";tag=b1", ""))
			ok := resp(200, "NOTIFY", 2+i, "")
			if kind == "unmatched" {
				ok = strings.Replace(ok, "10.0.0.1:5060;", "192.0.2.1:5060;", 1) // its Via rewritten on the way
			}
			send(false, ok)
		}
	case "timer":
		const se = "Session-Expires: 90;refresher=uac\r\n"
		send(true, with(req("INVITE", 1, "", sdp(1, "sendrecv")), se))
		send(false, with(resp(200, "INVITE", 1, sdp(1, "sendrecv")), se))
		send(true, req("ACK", 1, ";tag=b1", ""))
		for i := range n {
			v := 1 + (i+1)/10 // a new o= version at every tenth: no refresh
			send(true, with(req("INVITE", 2+i, ";tag=b1", sdp(v, "sendrecv")), se))
			send(false, with(resp(200, "INVITE", 2+i, sdp(v, "sendrecv")), se))
			send(true, req("ACK", 2+i, ";tag=b1", ""))
		}
		send(true, req("BYE", 2+n, ";tag=b1", ""))
		send(false, resp(200, "BYE", 2+n, ""))
	case "refresh":
		send(true, req("SUBSCRIBE", 1, "", ""))
		send(false, resp(200, "SUBSCRIBE", 1, ""))
		for i := range n {
			send(true, req("SUBSCRIBE", 2+2*i, ";tag=b1", ""))
			send(true, req("NOTIFY", 3+2*i, ";tag=b1", ""))
			send(false, resp(200, "SUBSCRIBE", 2+2*i, ""))
			send(false, resp(200, "NOTIFY", 3+2*i, ""))
		}
	case "prack":
		send(true, with(req("INVITE", 1, "", sdp(1, "sendrecv")), "Supported: 100rel\r\n"))
		for i := range n {
			r183 := with(resp(183, "INVITE", 1, ""), fmt.Sprintf("Require: 100rel\r\nRSeq: %d\r\n", 1+i))
			send(false, r183)
			send(true, with(req("PRACK", 2+i, ";tag=b1", ""), fmt.Sprintf("RAck: %d 1 INVITE\r\n", 1+i)))
			send(false, resp(200, "PRACK", 2+i, ""))
			if i%8 == 7 {
				send(false, r183)
			}
		}
		send(false, resp(200, "INVITE", 1, sdp(1, "sendrecv")))
		send(true, req("ACK", 1, ";tag=b1", ""))
		send(true, req("BYE", 2+n, ";tag=b1", ""))
		send(false, resp(200, "BYE", 2+n, ""))
	case "moves":
		answer := func(v, port int) string {
			return strings.Replace(strings.ReplaceAll(sdp(v, "sendrecv"), "10.0.0.1", "10.0.0.2"), "audio 4000", fmt.Sprintf("audio %d", port), 1)
		}
		send(true, req("INVITE", 1, "", sdp(1, "sendrecv")))
		send(false, resp(200, "INVITE", 1, answer(1, 5000)))
		send(true, req("ACK", 1, ";tag=b1", ""))
		for i := range n {
			port := 5002 + 2*(i%30000)
			send(true, req("INVITE", 2+i, ";tag=b1", sdp(2+i, "sendrecv")))
			send(false, resp(200, "INVITE", 2+i, answer(2+i, port)))
			send(true, req("ACK", 2+i, ";tag=b1", ""))
			for k := range 3 {
				rtp = append(rtp, longDatagram{after: len(texts) - 1, src: netip.MustParseAddrPort("10.0.0.1:4000"),
					dst: netip.AddrPortFrom(z.Addr(), uint16(port)), payload: synth.RTP(0, uint16(3*i+k), uint32(160*(3*i+k)), 0xaaaa, 160)})
			}
		}
		send(true, req("BYE", 2+n, ";tag=b1", ""))
		send(false, resp(200, "BYE", 2+n, ""))
	default:
		send(true, req("INVITE", 1, "", sdp(1, "sendrecv")))
		send(false, resp(200, "INVITE", 1, sdp(1, "sendrecv")))
		send(true, req("ACK", 1, ";tag=b1", ""))
		for i := range n {
			dir := "sendonly"
			if i%2 == 1 {
				dir = "sendrecv"
			}
			send(true, req("INVITE", 2+i, ";tag=b1", sdp(2+i, dir)))
			if kind == "trying" {
				send(false, strings.Replace(resp(100, "INVITE", 2+i, ""), "To: <sip:bob@x>;tag=b1", "To: <sip:bob@x>", 1))
			}
			send(false, resp(200, "INVITE", 2+i, sdp(2+i, "sendrecv")))
			send(true, req("ACK", 2+i, ";tag=b1", ""))
		}
		send(true, req("BYE", 2+n, ";tag=b1", ""))
		send(false, resp(200, "BYE", 2+n, ""))
	}
	var blob []byte
	var arena decode.Arena
	var parser decode.Parser
	var m decode.Message
	msgs := make([]decode.Message, len(texts))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, s := range texts {
		blob = append(blob, s...)
		if err := parser.ParseLean([]byte(s), &m); err != nil {
			b.Fatal(err)
		}
		src, dst := a, z
		if !dirs[i] {
			src, dst = z, a
		}
		m.N, m.Time, m.Src, m.Dst, m.Transport = i+1, t0.Add(time.Duration(i)*10*time.Millisecond), src, dst, decode.UDP
		m.CopyTo(&msgs[i], &arena)
	}
	for i := range rtp {
		d := &rtp[i]
		d.n = len(texts) + i + 1 // after the messages': numbers need only be distinct
		d.t = msgs[d.after].Time.Add(time.Duration(1+i%3) * time.Millisecond)
		blob = append(blob, d.payload...)
	}
	return blob, msgs, rtp
}

// BenchmarkUnansweredInvites: a call of thousands of INVITEs, none
// answered (a capture made so, or a caller retrying a dead server with
// new transactions), each one an unanswered-invite whose check asks what
// the caller sent next: an index of the call's answered INVITEs, built
// once, not a scan of every transaction for each.
func BenchmarkUnansweredInvites(b *testing.B) {
	const n = 20000
	a, c := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	texts := make([][]byte, n+1)
	size := 0
	for i := range n {
		texts[i] = fmt.Appendf(nil, "INVITE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%d\r\nFrom: <sip:a@x>;tag=f\r\nTo: <sip:b@x>\r\nCall-ID: one\r\nCSeq: %d INVITE\r\nContent-Length: 0\r\n\r\n", i, i+1)
		size += len(texts[i])
	}
	// Another call, a minute on: the capture goes on past every INVITE's timer B.
	texts[n] = []byte("OPTIONS sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKo\r\nFrom: <sip:a@x>;tag=o\r\nTo: <sip:b@x>\r\nCall-ID: later\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var m decode.Message
	for b.Loop() {
		findings := 0
		corr := correlate.New(correlate.Options{MaxOpen: -1}, func(call *correlate.Call) { findings += len(call.Findings) })
		for i, text := range texts {
			if err := decode.ParseSIP(text, &m); err != nil {
				b.Fatal(err)
			}
			m.N, m.Time, m.Src, m.Dst, m.Transport = i+1, t0.Add(time.Duration(i)*time.Millisecond), a, c, decode.UDP
			if i == n {
				m.Time = t0.Add(time.Minute + time.Duration(n)*time.Millisecond)
			}
			corr.Add(&m)
		}
		corr.Flush()
		if findings < n {
			b.Fatalf("%d findings, want one unanswered-invite an INVITE at least", findings)
		}
	}
}
