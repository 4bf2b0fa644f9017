package decode_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/synth"
)

// streamAt is one client stream of the tests below: its address and the
// time of its last segment.
type streamAt struct {
	src  netip.AddrPort
	last time.Time
}

func byLastThenAddr(a, b streamAt) int {
	if c := a.last.Compare(b.last); c != 0 {
		return c
	}
	return a.src.Compare(b.src)
}

var streamWarn = regexp.MustCompile(`TCP stream (\S+) -> \S+ (went idle|dropped \(too many open streams\)|ended with the capture)`)

// closedStreams returns, in order, the sources of the streams warned of
// for why.
func closedStreams(warns []string, why string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, w := range warns {
		if m := streamWarn.FindStringSubmatch(w); m != nil && m[2] == why {
			out = append(out, netip.MustParseAddrPort(m[1]))
		}
	}
	return out
}

// TestStreamsExpireInOrder opens hundreds of TCP streams, each left with
// half a SIP message, at times with many ties, touches some again later,
// and checks that they go idle in the order of their last segment, then
// of their address, on every run.
func TestStreamsExpireInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	half := invite("idle", 300)
	half = half[:len(half)/2]
	type pkt struct {
		at time.Time
		b  []byte
	}
	var pkts []pkt
	var streams []streamAt
	at := t0
	for i := range 400 {
		if rng.IntN(3) == 0 {
			at = at.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
		}
		// Addresses not in the order streams open, to test the tie-break.
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(rng.IntN(4)), byte(1 + rng.IntN(200))}), uint16(20000+i))
		streams = append(streams, streamAt{src, at})
		pkts = append(pkts, pkt{at, synth.TCP(src.String(), srv, isn, syn, nil)}, pkt{at, synth.TCP(src.String(), srv, seq0, psh, half[:100])})
		// Some earlier stream sends more of its message now.
		if j := rng.IntN(len(streams)); rng.IntN(4) == 0 {
			s := &streams[j]
			pkts = append(pkts, pkt{at, synth.TCP(s.src.String(), srv, seq0+100, psh, half[100:110])})
			s.last = at
		}
	}
	// Streams touched twice have a segment at seq0+10; others none. A stream
	// touched three times would resend bytes it already sent: harmless.
	r := &recorder{}
	d := decode.NewDecoder(r, decode.Options{})
	for i, p := range pkts {
		d.Decode(&capture.Packet{N: i + 1, Time: p.at, Link: capture.LinkEthernet, Data: p.b, Length: len(p.b)})
	}
	// Packets ten minutes on let every stream go idle (two: the clock holds
	// a jump until the next packet bears it out).
	end := synth.UDP("10.9.9.9:1", "10.9.9.8:1", []byte("x"))
	for i := range 2 {
		d.Decode(&capture.Packet{N: len(pkts) + 1 + i, Time: at.Add(10*time.Minute + time.Duration(i)*time.Second), Link: capture.LinkEthernet, Data: end, Length: len(end)})
	}
	d.Flush()

	want := slices.Clone(streams)
	slices.SortStableFunc(want, byLastThenAddr)
	var wantSrc []netip.AddrPort
	for _, s := range want {
		wantSrc = append(wantSrc, s.src)
	}
	got := closedStreams(r.warns, "went idle")
	if !slices.Equal(got, wantSrc) {
		t.Errorf("streams went idle in the order\n%v\nwant\n%v", got, wantSrc)
	}
	if n := len(closedStreams(r.warns, "ended with the capture")); n != 0 {
		t.Errorf("%d streams left to the end of the capture", n)
	}
}

// TestStreamEviction opens more streams than a Decoder holds and checks
// that each one past the limit closes the stream silent longest (by its
// last segment, then its address), not the first opened.
func TestStreamEviction(t *testing.T) {
	const limit = 1 << 16 // decode's maxStreams
	const extra = 120
	rng := rand.New(rand.NewPCG(3, 4))
	half := invite("evict", 300)
	half = half[:len(half)/2]
	r := &recorder{}
	d := decode.NewDecoder(r, decode.Options{})
	n := 0
	decodeAt := func(at time.Time, b []byte) {
		n++
		d.Decode(&capture.Packet{N: n, Time: at, Link: capture.LinkEthernet, Data: b, Length: len(b)})
	}
	open := map[netip.AddrPort]time.Time{}
	var order []netip.AddrPort // open streams in the order opened
	var want []netip.AddrPort
	at := t0
	for i := range limit + extra {
		if i%512 == 0 {
			at = at.Add(time.Millisecond) // ties within each block of 512
		}
		if i >= limit {
			// The reference: the open stream silent longest, then by address.
			var oldest netip.AddrPort
			first := true
			for _, a := range order {
				lt, ok := open[a]
				if !ok {
					continue
				}
				if first || byLastThenAddr(streamAt{a, lt}, streamAt{oldest, open[oldest]}) < 0 {
					oldest, first = a, false
				}
			}
			want = append(want, oldest)
			delete(open, oldest)
		}
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, byte(rng.IntN(256)), byte(rng.IntN(256))}), uint16(1024+i%60000))
		for open[src] != (time.Time{}) || slices.Contains(want, src) {
			src = netip.AddrPortFrom(src.Addr(), src.Port()+1)
		}
		decodeAt(at, synth.TCP(src.String(), srv, seq0, psh, half[:100]))
		open[src] = at
		order = append(order, src)
		// Now and then streams opened earlier send again, so that the first
		// opened is not the one silent longest.
		if i%500 == 499 {
			for range 50 {
				if a := order[rng.IntN(len(order))]; open[a] != (time.Time{}) {
					decodeAt(at, synth.TCP(a.String(), srv, seq0+100, psh, half[100:101]))
					open[a] = at
				}
			}
		}
	}
	got := closedStreams(r.warns, "dropped (too many open streams)")
	if !slices.Equal(got, want) {
		t.Errorf("evicted %d streams\n%v\nwant %d\n%v", len(got), got, len(want), want)
	}
	d.Flush()
}

// TestFragmentQueues checks the queues of IP fragments: past the limit of
// datagrams reassembled at once, the one begun first is dropped with a
// warning, and datagrams that time out are warned of in the order they
// began, on every run.
func TestFragmentQueues(t *testing.T) {
	const limit = 4096 // decode's maxFragQueues
	msg := invite("frags", 3000)
	first := func(i int) []byte {
		return synth.Fragments4(fmt.Sprintf("10.3.%d.%d:5060", i/250, 1+i%250), srv, msg, 1500, uint16(i))[0]
	}
	r := &recorder{}
	d := decode.NewDecoder(r, decode.Options{})
	n := 0
	for i := range limit + 10 {
		b := first(i)
		n++
		// All at one time: the order they began is the packets'.
		d.Decode(&capture.Packet{N: n, Time: t0, Link: capture.LinkEthernet, Data: b, Length: len(b)})
	}
	end := synth.UDP("10.9.9.9:1", "10.9.9.8:1", []byte("x"))
	for i := range 2 { // two: the clock holds a jump until the next packet bears it out
		n++
		d.Decode(&capture.Packet{N: n, Time: t0.Add(time.Minute + time.Duration(i)*time.Second), Link: capture.LinkEthernet, Data: end, Length: len(end)})
	}
	pkt := regexp.MustCompile(`packet (\d+): .*IP datagram .* (dropped|never completed)`)
	var dropped, expired []string
	for _, w := range r.warns {
		if m := pkt.FindStringSubmatch(w); m != nil {
			if m[2] == "dropped" {
				dropped = append(dropped, m[1])
			} else {
				expired = append(expired, m[1])
			}
		}
	}
	var wantDropped, wantExpired []string
	for i := 1; i <= 10; i++ {
		wantDropped = append(wantDropped, fmt.Sprint(i))
	}
	for i := 11; i <= limit+10; i++ {
		wantExpired = append(wantExpired, fmt.Sprint(i))
	}
	if !slices.Equal(dropped, wantDropped) {
		t.Errorf("dropped %v, want the first ten begun %v", dropped, wantDropped)
	}
	if !slices.Equal(expired, wantExpired) {
		t.Errorf("%d expired, first %v; want the other %d in the order they began", len(expired), expired[:min(5, len(expired))], len(wantExpired))
	}
	for _, w := range r.warns {
		if strings.Contains(w, "dropped") && !strings.Contains(w, "more than 4096 datagrams") {
			t.Errorf("warning %q does not say why", w)
			break
		}
	}
	d.Flush()
}

// TestStreamHoleGivenUpByClock checks that a hole in a stream that then
// goes quiet is given up on once it has been open gapTimeout of packet
// time, while other traffic goes on, not at the end of the capture: the
// message after it is read then.
func TestStreamHoleGivenUpByClock(t *testing.T) {
	a := invite("lost", 1200)
	c := invite("after-hole", 0)
	r := &recorder{}
	d := decode.NewDecoder(r, decode.Options{})
	n := 0
	decodeAt := func(at time.Duration, b []byte) {
		n++
		d.Decode(&capture.Packet{N: n, Time: t0.Add(at), Link: capture.LinkEthernet, Data: b, Length: len(b)})
	}
	decodeAt(0, tcpSeg(isn, syn, nil))
	decodeAt(time.Millisecond, tcpSeg(seq0, psh, a[:400]))
	decodeAt(2*time.Millisecond, tcpSeg(seq0+uint32(len(a)), psh, c)) // a[400:] never captured
	other := synth.UDP("10.9.9.9:1", "10.9.9.8:1", []byte("x"))
	for i := 1; i <= 10; i++ {
		decodeAt(time.Duration(i)*time.Second, other)
	}
	expectMsgs(t, r, fmt.Sprintf("3 %s>%s tcp INVITE after-hole", cli, srv))
	if len(r.warns) != 1 || !strings.Contains(r.warns[0], "never captured") {
		t.Errorf("warnings = %q, want the hole given up", r.warns)
	}
	d.Flush()
}
