package correlate

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/synth"
	"github.com/sipflow/sipflow/internal/testfeed"
)

func TestMoreThanASecond(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 500_000_000, time.UTC)
	for _, d := range []time.Duration{-3 * time.Second, -time.Second, -1, 0, 1, 999_999_999, time.Second, time.Second + 1,
		1500 * time.Millisecond, 2*time.Second - 1, 2 * time.Second, 90 * time.Second} {
		if got, want := moreThanASecond(base, base.Add(d)), base.Add(d).Sub(base) > time.Second; got != want {
			t.Errorf("moreThanASecond(+%v) = %v, want %v", d, got, want)
		}
	}
}

// TestLazySDPSameAsEager: registering SDP only from a capture's first RTP
// or RTCP packet (and reading what the checks need from the bodies of the
// calls finished before it) gives the very calls registering every SDP as it
// comes does: on every test capture, the public corpus when present, and
// synthesised captures whose media starts after some calls (one of them a
// B2BUA pair with a leg finished before the other) have finished.
func TestLazySDPSameAsEager(t *testing.T) {
	files := corpusFiles(t)
	files = append(files, mediaLateCapture(t))
	compared := 0
	for _, f := range files {
		lazy, lst := summarize(t, f, false)
		eager, est := summarize(t, f, true)
		if lazy != eager || lst != est {
			t.Errorf("%s: lazy SDP registration differs from eager:\n%s\n%+v\n---\n%s\n%+v", f, lazy, lst, eager, est)
		}
		if strings.Contains(lazy, "expected=true") {
			compared++
		}
	}
	if compared < 3 {
		t.Errorf("only %d captures had calls expecting media: the test compares too little", compared)
	}
}

// corpusFiles lists the test captures and the public corpus (when present).
func corpusFiles(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "*.pcap"))
	shared := os.Getenv("SIPFLOW_SHARED") // as the conformance tests find the corpus
	if shared == "" {
		shared = filepath.Join("..", "..", "shared")
	}
	if d, err := filepath.Abs(filepath.Join(shared, "captures", "public")); err == nil {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				files = append(files, p)
			}
			return nil
		})
	}
	return files
}

// generatedCapture writes n basic calls with RTP, 20 a second, 2 s each:
// calls finish while later ones start.
func generatedCapture(t *testing.T, n int) string {
	t.Helper()
	opts := synth.DefaultGen(n)
	opts.Rate, opts.Hold = 20, 2*time.Second
	var out bytes.Buffer
	if _, err := synth.Generate(&out, opts); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "gen.pcap")
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// summarize correlates a capture (media on) and prints every call's
// outcome: what the output of any command depends on.
func summarize(t *testing.T, file string, eager bool) (string, Stats) {
	t.Helper()
	var b strings.Builder
	c := New(Options{Media: true, RTPHeuristic: true, eagerSDP: eager}, func(call *Call) {
		fmt.Fprintf(&b, "%s %s %s %d %v %v msgs=%d flow=%q dev=%q expected=%v\n", call.ID, call.Kind, call.State, call.FinalStatus,
			call.Start, call.End, call.NumMessages, call.Flow, call.Deviation, call.mediaExpected)
		for _, f := range call.Findings {
			fmt.Fprintf(&b, "  finding %s %s %v %s\n", f.Rule, f.Severity, f.Packets, f.Detail)
		}
		for _, s := range call.Streams {
			fmt.Fprintf(&b, "  stream %v %s pkts=%d lost=%d jmax=%.3f first=%d last=%d dtmf=%d\n", s.Key, s.Codec, s.Packets, s.Lost, s.JitterMax, s.FirstN, s.LastN, len(s.Events))
		}
	})
	// A damaged corpus file ends early: both modes stop at the same place.
	testfeed.Capture(file, c.Advance, c.Add, c.AddDatagram)
	c.Flush()
	for _, s := range c.Orphans() {
		fmt.Fprintf(&b, "orphan %v pkts=%d\n", s.Key, s.Packets)
	}
	return b.String(), c.Stats
}

// mediaLateCapture: answered calls with SDP, one ended, a B2BUA pair
// (X-Call-ID) whose first leg ends before the other, and two calls
// answered by one media server address; only then RTP starts, for the
// pair's second leg, another call, and the media server (from an address
// nobody announced: the newest announcement decides).
func mediaLateCapture(t *testing.T) string {
	t.Helper()
	sdp := func(ip string, port int) string {
		return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", ip, ip, port)
	}
	msg := func(start, callID, to, cseq, extra, body string) []byte {
		ct := ""
		if body != "" {
			ct = "Content-Type: application/sdp\r\n"
		}
		return []byte(fmt.Sprintf("%s\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%s%s\r\nFrom: <sip:a@x>;tag=a\r\nTo: <sip:b@x>%s\r\n"+
			"Call-ID: %s\r\nCSeq: %s\r\n%s%sContent-Length: %d\r\n\r\n%s", start, callID, strings.Fields(cseq)[0], to, callID, cseq, extra, ct, len(body), body))
	}
	var frames [][]byte
	call := func(id, extra string, port int, bye bool) {
		answer := sdp("10.0.0.2", port+1000)
		if strings.HasPrefix(id, "shared") { // a media server: one address for every call
			answer = sdp("10.0.0.9", 6000)
		}
		frames = append(frames,
			synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", msg("INVITE sip:b@x SIP/2.0", id, "", "1 INVITE", extra, sdp("10.0.0.1", port))),
			synth.UDP("10.0.0.2:5060", "10.0.0.1:5060", msg("SIP/2.0 200 OK", id, ";tag=b", "1 INVITE", "", answer)),
			synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", msg("ACK sip:b@x SIP/2.0", id, ";tag=b", "1 ACK", "", "")))
		if bye {
			frames = append(frames,
				synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", msg("BYE sip:b@x SIP/2.0", id, ";tag=b", "2 BYE", "", "")),
				synth.UDP("10.0.0.2:5060", "10.0.0.1:5060", msg("SIP/2.0 200 OK", id, ";tag=b", "2 BYE", "", "")))
		}
	}
	call("ended", "", 4000, true)
	call("leg-a", "", 4010, true)
	call("leg-b", "X-Call-ID: leg-a\r\n", 4020, false)
	call("third", "", 4030, false)
	call("shared-1", "", 4040, false)
	call("shared-2", "", 4050, false)
	for i := 0; i < 400; i++ { // 8 s of other traffic: "ended" and "leg-a" finish (5 s linger)
		frames = append(frames, synth.UDP("10.0.0.7:9", "10.0.0.8:9", []byte("neither sip nor rtp")))
	}
	for i := 0; i < 100; i++ {
		for _, port := range []int{4020, 4030} {
			rtp := synth.RTP(0, uint16(i), uint32(i*160), uint32(port), 160)
			frames = append(frames, synth.UDP(fmt.Sprintf("10.0.0.1:%d", port), fmt.Sprintf("10.0.0.2:%d", port+1000), rtp))
		}
	}
	// RTP to the media server from an address nobody announced (NAT): it
	// belongs to the call that announced the server's address last.
	for i := 0; i < 50; i++ {
		rtp := synth.RTP(0, uint16(i), uint32(i*160), 77, 160)
		frames = append(frames, synth.UDP("10.0.0.50:7000", "10.0.0.9:6000", rtp))
	}
	var out bytes.Buffer
	if err := synth.WritePcap(&out, layers.LinkTypeEthernet, synth.Times(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 20*time.Millisecond, frames...)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "media-late.pcap")
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLegCounters: the counts a leg keeps as messages come (pending,
// openDialogs), which decide the list it waits on, agree after every
// message with a count from its transactions and dialogs, over every test
// capture and the public corpus when present. The checks it counts
// include legs with an INVITE still ringing (a provisional response, no
// final one), which requeue leaves to the idle timeout through
// unanswered.
func TestLegCounters(t *testing.T) {
	checked := map[string]int{}
	for _, f := range corpusFiles(t) {
		c := New(Options{Media: true}, func(*Call) {})
		add := func(d *decode.Message) {
			c.Add(d)
			l := findLeg(&c.legs, c.tombs.hash(d.CallID), d.CallID)
			if l == nil {
				return // a late retransmission, dropped
			}
			var pending, ringing, open int
			for _, tx := range l.Transactions {
				if tx.Final == nil && tx.Method != "ACK" {
					pending++
					if tx.Method == "INVITE" && len(tx.Responses) > 0 {
						ringing++
					}
				}
			}
			for _, d := range l.Dialogs {
				if d.open {
					open++
				}
			}
			if l.pending != pending || l.openDialogs != open {
				t.Fatalf("%s: packet %d: leg %s counts pending %d open %d, recounted %d %d",
					f, d.N, l.CallID, l.pending, l.openDialogs, pending, open)
			}
			if ringing > 0 && l.unanswered() {
				t.Fatalf("%s: packet %d: leg %s has an INVITE ringing but counts as unanswered", f, d.N, l.CallID)
			}
			if ringing > 0 {
				checked["ringing"]++
			}
			if open > 0 {
				checked["open"]++
			}
			if pending > ringing {
				checked["pending"]++
			}
		}
		testfeed.Capture(f, c.Advance, add, c.AddDatagram)
		c.Flush()
	}
	for _, k := range []string{"ringing", "open", "pending"} {
		if checked[k] == 0 {
			t.Errorf("no message left a leg %s: the test checks too little", k)
		}
	}
}

// TestLegCountersUnseenBYE: a 200 to a BYE whose request the capture
// missed closes the dialog, and the leg is terminal.
func TestLegCountersUnseenBYE(t *testing.T) {
	c := New(Options{}, func(*Call) {})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var m decode.Message
	for i, s := range []string{
		"INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=a\r\nTo: <sip:b@x>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=a\r\nTo: <sip:b@x>;tag=b\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2\r\nFrom: <sip:a@x>;tag=a\r\nTo: <sip:b@x>;tag=b\r\nCall-ID: c1\r\nCSeq: 2 BYE\r\n\r\n",
	} {
		if err := decode.ParseSIP([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		m.N, m.Time = i+1, t0.Add(time.Duration(i)*time.Second)
		c.Add(&m)
	}
	l := findLeg(&c.legs, c.tombs.hashString("c1"), "c1")
	if l == nil {
		t.Fatal("leg c1 finished early")
	}
	if l.openDialogs != 0 || !l.terminal {
		t.Fatalf("leg c1: %d open dialogs, terminal %v: want none, terminal", l.openDialogs, l.terminal)
	}
}

// TestMediaExpected: Stats.MediaExpected counts the answered calls in
// which the caller and the answerer both sent SDP (offer and answer, or an
// offer in the 2xx answered in the ACK), whatever the capture's media.
func TestMediaExpected(t *testing.T) {
	const sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	c := New(Options{Media: true}, func(*Call) {})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	add := func(id, start, to, cseq, body string) {
		n++
		ct := ""
		if body != "" {
			ct = "Content-Type: application/sdp\r\n"
		}
		raw := fmt.Sprintf("%s\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK%s%s\r\nFrom: <sip:a@x>;tag=a\r\nTo: <sip:b@x>%s\r\nCall-ID: %s\r\nCSeq: %s\r\n%sContent-Length: %d\r\n\r\n%s",
			start, id, strings.Fields(cseq)[1], to, id, cseq, ct, len(body), body)
		var m decode.Message
		if err := decode.ParseSIP([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		m.N, m.Time = n, t0.Add(time.Duration(n)*time.Millisecond)
		m.Src, m.Dst = netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
		if !m.IsRequest() {
			m.Src, m.Dst = m.Dst, m.Src
		}
		c.Add(&m)
	}
	call := func(id, offer, answer, ack string, status string) {
		add(id, "INVITE sip:b@x SIP/2.0", "", "1 INVITE", offer)
		add(id, "SIP/2.0 "+status, ";tag=b", "1 INVITE", answer)
		add(id, "ACK sip:b@x SIP/2.0", ";tag=b", "1 ACK", ack)
	}
	call("both", sdp, sdp, "", "200 OK")        // counted
	call("late-offer", "", sdp, sdp, "200 OK")  // counted: the answer in the ACK
	call("offer-only", sdp, "", "", "200 OK")   // the answerer sent none
	call("busy", sdp, sdp, "", "486 Busy Here") // not answered
	call("answer-only", "", sdp, "", "200 OK")  // the caller sent none
	c.Flush()
	if c.Stats.MediaExpected != 2 {
		t.Errorf("MediaExpected = %d, want 2 (both, late-offer)", c.Stats.MediaExpected)
	}
}

// TestFlowMemoSameAsFresh: the flow and deviation a call gets from the
// matcher's memo (calls of one shape matched once) are those a fresh
// matcher finds, on every test capture, the corpus when present and a
// generated load of identical calls; and a matcher given other flows
// does not answer from the memo of the first ones.
func TestFlowMemoSameAsFresh(t *testing.T) {
	files := append(corpusFiles(t), generatedCapture(t, 200))
	calls, deviating := 0, 0
	for _, f := range files {
		var c *Correlator
		c = New(Options{Media: true}, func(call *Call) {
			flow, dev := call.Flow, call.Deviation
			call.Flow, call.Deviation = "", ""
			matchFlows(call, c.opts.Flows, &matcher{})
			if call.Flow != flow || call.Deviation != dev {
				t.Errorf("%s: call %s: memo gave flow %q deviation %q, fresh %q %q", f, call.ID, flow, dev, call.Flow, call.Deviation)
			}
			calls++
			if dev != "" {
				deviating++
			}
		})
		testfeed.Capture(f, c.Advance, c.Add, c.AddDatagram)
		c.Flush()
		if f == files[len(files)-1] && len(c.builder.matcher.results) > 3 {
			t.Errorf("%s: %d shapes remembered for 200 identical calls", f, len(c.builder.matcher.results))
		}
	}
	if calls < 50 || deviating == 0 {
		t.Errorf("%d calls, %d deviating: the test compares too little", calls, deviating)
	}

	// One view, two sets of flows: each its own answer.
	var c *Correlator
	var call *Call
	c = New(Options{}, func(x *Call) {
		if x.Kind == KindCall && call == nil {
			call = x
		}
	})
	testfeed.Capture(filepath.Join("..", "testdata", "call_busy.pcap"), c.Advance, c.Add, c.AddDatagram)
	c.Flush()
	if call == nil {
		t.Fatal("call_busy.pcap: no call")
	}
	var mt matcher
	matchFlows(call, DefaultFlows(), &mt)
	first := call.Flow + "|" + call.Deviation
	only := []*Flow{{Name: "just-invite", Steps: []Step{{From: "A", To: "B", Method: "INVITE", Min: 1, Max: 1}, {Any: true}}}}
	call.Flow, call.Deviation = "", ""
	matchFlows(call, only, &mt)
	if call.Flow != "just-invite" || first == "just-invite|" {
		t.Errorf("flows changed: got %q %q after %q", call.Flow, call.Deviation, first)
	}
}

// TestViewKeyConds: views that differ only in what a message did (its
// conditions, Step.Cond) have keys of their own, so the memo never
// answers for one what it found for another.
func TestViewKeyConds(t *testing.T) {
	conds := []Cond{CondNoSDP, CondSDP, CondSDP | CondHold, CondSDP | CondResume, CondSDP | CondT38, CondSDP | CondT38End,
		CondNoSDP | CondTransfer, CondSDP | CondTransferResult, CondSDP | CondHold | CondT38, CondNoSDP | CondHold}
	keys := map[string]Cond{}
	for _, method := range []string{"INVITE", ""} {
		for _, c := range conds {
			fm := flowMsg{m: &Message{Method: method, CSeqMethod: "INVITE"}, from: sideA, to: sideB, cond: c}
			if method == "" {
				fm.m.Status, fm.code = 200, [3]byte{'2', '0', '0'}
			}
			k := string(viewKey(nil, []flowMsg{fm, fm}))
			if other, ok := keys[k]; ok {
				t.Errorf("%q [%v] and [%v]: one key", method, c, other)
			}
			keys[k] = c
		}
	}
}

// TestURIAddrPort: the address and port a Request-URI names, as a
// request sent straight to its remote target goes there (viewSides.direct):
// its port, or its transport's default; none for a host name, a maddr
// parameter, or a scheme other than sip and sips. Read without an
// allocation: the flow view reads one for each request past a proxy.
func TestURIAddrPort(t *testing.T) {
	for _, tc := range []struct{ uri, want string }{
		{"sip:101@10.33.6.100:5060", "10.33.6.100:5060"},
		{"sip:telephone2@172.16.98.1:62489;rinstance=1ce79d88530e245d;transport=UDP", "172.16.98.1:62489"},
		{"sip:10.0.0.2", "10.0.0.2:5060"},
		{"SIP:bob@10.0.0.2", "10.0.0.2:5060"},
		{"sips:bob@10.0.0.2", "10.0.0.2:5061"},
		{"sip:bob@10.0.0.2;transport=TLS", "10.0.0.2:5061"},
		{"sip:bob@10.0.0.2;transport=tls;lr", "10.0.0.2:5061"},
		{"sip:bob@10.0.0.2;transport=ws", "10.0.0.2:80"},
		{"sip:bob@10.0.0.2;transport=wss", "10.0.0.2:443"},
		{"sip:bob@10.0.0.2:5080;transport=tls", "10.0.0.2:5080"},
		{"sip:bob@[2001:db8::2]:5070;transport=tcp", "[2001:db8::2]:5070"},
		{"sip:bob@[2001:db8::2]", "[2001:db8::2]:5060"},
		{"sip:bob:secret@10.0.0.2:5080", "10.0.0.2:5080"},
		{"sip:+15551234;npdi@10.0.0.2", "10.0.0.2:5060"},
		{"sip:bob@10.0.0.2?Subject=x%40y", "10.0.0.2:5060"},
		{"sip:bob@example.com", ""},
		{"sip:bob@example.com:5060", ""},
		{"sip:bob@10.0.0.2;maddr=10.0.0.9", ""},
		{"tel:+15551234", ""},
		{"sip:", ""},
		{"sip:bob@10.0.0.2:", ""},
		{"sip:bob@[2001:db8::2]:", ""},
		{"sip:bob@10.0.0.2:0", ""},
		{"sip:bob@10.0.0.2:65536", ""},
		{"sip:bob@10.0.0.2:50x", ""},
		{"sip:bob@[2001:db8::2", ""},
		{"sip:bob@[2001:db8::2]5060", ""},
		{"sip:bob@[fe80::1%25eth0]", ""},
		{"sip:bob@2001:db8::2", ""},
	} {
		got, ok := uriAddrPort(tc.uri)
		if s := got.String(); !ok && tc.want != "" || ok && s != tc.want {
			t.Errorf("uriAddrPort(%q) = %v, %v; want %q", tc.uri, got, ok, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { uriAddrPort("sip:telephone2@172.16.98.1:62489;rinstance=1ce79d88530e245d;transport=UDP") }); n != 0 {
		t.Errorf("%v allocations a URI", n)
	}
}

// FuzzURIAddrPort: uriAddrPort never panics, and what it reads is an
// address of a sip or sips URI, at a port that can be sent to.
func FuzzURIAddrPort(f *testing.F) {
	for _, s := range []string{"sip:101@10.33.6.100:5060", "sips:[2001:db8::1]:5061;transport=tls", "sip:a@b@10.0.0.1;maddr=x", "sip:[::1", "sip:1.2.3.4:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		ap, ok := uriAddrPort(uri)
		if !ok {
			return
		}
		if !ap.IsValid() || ap.Port() == 0 || !(len(uri) > 4 && strings.EqualFold(uri[:4], "sip:") || len(uri) > 5 && strings.EqualFold(uri[:5], "sips:")) {
			t.Errorf("uriAddrPort(%q) = %v", uri, ap)
		}
	})
}

// TestFlowMemoKey: calls that differ from a basic call in one thing a flow
// step reads (a side, the method, the status, the CSeq method) each get
// what a fresh matcher finds, from one matcher that saw the basic call
// first: the memo's key tells them apart.
func TestFlowMemoKey(t *testing.T) {
	a, b := netip.MustParseAddrPort("192.0.2.1:5060"), netip.MustParseAddrPort("192.0.2.2:5060")
	type msg struct {
		fromA  bool
		method string
		status int
		cseq   string
	}
	basic := []msg{{true, "INVITE", 0, "INVITE"}, {false, "", 180, "INVITE"}, {false, "", 200, "INVITE"},
		{true, "ACK", 0, "ACK"}, {true, "BYE", 0, "BYE"}, {false, "", 200, "BYE"}}
	build := func(ms []msg) *Call {
		l := &Leg{}
		for i, m := range ms {
			src, dst := a, b
			if !m.fromA {
				src, dst = b, a
			}
			l.Messages = append(l.Messages, &Message{N: i + 1, Src: src, Dst: dst, Method: m.method, Status: m.status, CSeqMethod: m.cseq})
		}
		return &Call{Caller: a, Callee: b, Legs: []*Leg{l}}
	}
	variants := [][]msg{basic}
	for i := range basic {
		for _, change := range []func(*msg){
			func(m *msg) { m.fromA = !m.fromA },
			func(m *msg) {
				if m.status == 0 {
					m.method = "CANCEL"
				} else {
					m.status = 486
				}
			},
			func(m *msg) {
				if m.status != 0 {
					m.status += 3 // 183, 203
				}
			},
			func(m *msg) { m.cseq = strings.Repeat("X", len(m.cseq)) }, // the same length
		} {
			v := slices.Clone(basic)
			change(&v[i])
			variants = append(variants, v)
		}
	}
	// A request whose method's length and bytes spell a response's status
	// and CSeq method (found by review): not the same key.
	req := build([]msg{{true, "861" + strings.Repeat("A", 49), 0, "X"}})
	resp := build([]msg{{true, "", 486, strings.Repeat("A", 49)}})
	if vr, vs := viewKey(nil, flowView(req, nil, new([]remoteTarget))), viewKey(nil, flowView(resp, nil, new([]remoteTarget))); string(vr) == string(vs) {
		t.Errorf("a request and a response share the key %q", vr)
	}
	var shared matcher
	// First a flow that reads a response's CSeq method, which the default
	// flows do not.
	exact := &Flow{Name: "exact"}
	for _, m := range basic {
		st := Step{From: "A", To: "B", Method: m.method, Min: 1, Max: 1}
		if m.status != 0 {
			st = Step{From: "B", To: "A", Status: strconv.Itoa(m.status), CSeq: m.cseq, Min: 1, Max: 1}
		}
		exact.Steps = append(exact.Steps, st)
	}
	flows := []*Flow{exact}
	answers := map[string]bool{}
	for _, v := range variants {
		memo, fresh := build(v), build(v)
		matchFlows(memo, flows, &shared)
		matchFlows(fresh, flows, &matcher{})
		if memo.Flow != fresh.Flow || memo.Deviation != fresh.Deviation {
			t.Errorf("%v: memo %q %q, fresh %q %q", v, memo.Flow, memo.Deviation, fresh.Flow, fresh.Deviation)
		}
		answers[fresh.Flow+"|"+fresh.Deviation] = true
	}
	if len(answers) < len(variants)/2 {
		t.Errorf("%d variants, %d answers: the flows tell too few apart for the test to mean much", len(variants), len(answers))
	}
}

// TestOldestOpenDuringFlush: emit may call OldestOpen while Flush finishes
// the calls still open, and what it says then holds as at any other time:
// every call that started before the oldest open one is already out (so a
// caller holding calls in start order may hand them on at once), the call
// just emitted among them, and -1 only once the last call is out.
func TestOldestOpenDuringFlush(t *testing.T) {
	files := []string{generatedCapture(t, 300), mediaLateCapture(t),
		filepath.Join("..", "testdata", "b2bua_xcallid.pcap"), filepath.Join("..", "testdata", "forked_call.pcap")}
	for _, file := range files {
		var c *Correlator
		type seen struct{ seq, oldest, k int }
		var emitted []int // Seqs in the order emitted
		var during []seen // what OldestOpen said at each emission during Flush
		flushing := false
		c = New(Options{Media: true}, func(call *Call) {
			emitted = append(emitted, call.Seq)
			if flushing {
				during = append(during, seen{call.Seq, c.OldestOpen(), len(emitted)})
			}
		})
		if err := testfeed.Capture(file, c.Advance, c.Add, c.AddDatagram); err != nil {
			t.Fatal(err)
		}
		before := len(emitted)
		flushing = true
		c.Flush()
		if len(during) == 0 {
			t.Fatalf("%s: no call was open at the end; the test tests nothing", file)
		}
		if c.OldestOpen() != -1 {
			t.Errorf("%s: OldestOpen after Flush = %d", file, c.OldestOpen())
		}
		for i, d := range during {
			if d.oldest == -1 != (i == len(during)-1) {
				t.Errorf("%s: flushed call %d of %d (Seq %d): OldestOpen = %d", file, i+1, len(during), d.seq, d.oldest)
			}
			if d.oldest != -1 && d.oldest <= d.seq {
				t.Errorf("%s: call Seq %d emitted, yet OldestOpen = %d", file, d.seq, d.oldest)
			}
			// Every call older than d.oldest is among the first d.k emitted.
			for _, s := range emitted[d.k:] {
				if d.oldest == -1 || s < d.oldest {
					t.Errorf("%s: OldestOpen = %d while call Seq %d was still to come", file, d.oldest, s)
				}
			}
		}
		// And asking changed nothing: the same calls, in the same order, as
		// from a correlator that is never asked.
		var plain []int
		p := New(Options{Media: true}, func(call *Call) { plain = append(plain, call.Seq) })
		if err := testfeed.Capture(file, p.Advance, p.Add, p.AddDatagram); err != nil {
			t.Fatal(err)
		}
		p.Flush()
		if !slices.Equal(emitted, plain) {
			t.Errorf("%s: asked during Flush, calls came out as %v; unasked, as %v", file, emitted, plain)
		}
		t.Logf("%s: %d calls out before Flush, %d during", filepath.Base(file), before, len(during))
	}
}

// TestTxKey: a transaction key's hash is the same for the same key and
// differs for keys that differ anywhere: in one byte of any part at any
// position (parts of every length up to 40, so every tail size of the word
// loop), in where the parts split, in the CSeq; the From-tag counts only
// without the magic cookie. Two Correlators' seeds give different hashes.
func TestTxKey(t *testing.T) {
	var ts tombstones
	ts.init()
	type key struct {
		branch, sentBy, method, tag string
		cseq                        uint32
	}
	seen := map[uint64]key{}
	add := func(k key) {
		t.Helper()
		h := ts.txKey(k.branch, k.sentBy, k.method, k.tag, k.cseq)
		if h != ts.txKey(k.branch, k.sentBy, k.method, k.tag, k.cseq) {
			t.Fatalf("%+v: two hashes", k)
		}
		if old, ok := seen[h]; ok && old != k {
			t.Fatalf("%+v and %+v hash alike", old, k)
		}
		seen[h] = k
	}
	letters := "abcdefghijklmnopqrstuvwxyz0123456789ABCD"
	for n := 0; n <= len(letters); n++ {
		s := letters[:n]
		for part := range 4 {
			for i := range n {
				b := []byte(s)
				b[i] ^= 0x20
				parts := [4]string{"1", "1", "1", "1"}
				parts[part] = string(b)
				add(key{parts[0], parts[1], parts[2], parts[3], 1})
			}
			parts := [4]string{"1", "1", "1", "1"}
			parts[part] = s
			add(key{parts[0], parts[1], parts[2], parts[3], 1})
		}
	}
	// The same bytes split differently.
	for i := 0; i <= 12; i++ {
		add(key{"abcdefghijkl"[:i], "abcdefghijkl"[i:], "INVITE", "", 7})
	}
	for cseq := uint32(0); cseq < 1000; cseq++ {
		add(key{"b", "h", "INVITE", "t", cseq})
	}
	cookie := "z9hG4bK-1"
	if ts.txKey(cookie, "h:5060", "BYE", "a", 2) != ts.txKey(cookie, "h:5060", "BYE", "b", 2) {
		t.Error("with the magic cookie the From-tag counted")
	}
	if ts.txKey("old-1", "h:5060", "BYE", "a", 2) == ts.txKey("old-1", "h:5060", "BYE", "b", 2) {
		t.Error("without the magic cookie the From-tag did not count")
	}
	var other tombstones
	other.init()
	if ts.txKey(cookie, "h:5060", "BYE", "", 2) == other.txKey(cookie, "h:5060", "BYE", "", 2) {
		t.Error("two seeds, one hash")
	}
}

// TestFlowKeyEqual: equal agrees with == on keys that differ in any one
// byte of either address or in either port, and on equal keys.
func TestFlowKeyEqual(t *testing.T) {
	base := flowKeyOf(netip.MustParseAddrPort("[2001:db8::1]:4000"), netip.MustParseAddrPort("192.0.2.7:5004"))
	keys := []flowKey{base}
	for i := range 16 {
		k := base
		k.src[i] ^= 1
		keys = append(keys, k)
		k = base
		k.dst[i] ^= 0x80
		keys = append(keys, k)
	}
	k := base
	k.sport++
	keys = append(keys, k)
	k = base
	k.dport ^= 0x100
	keys = append(keys, k)
	for _, a := range keys {
		for _, b := range keys {
			if a.equal(&b) != (a == b) {
				t.Fatalf("equal(%v, %v) = %v, == says %v", a, b, a.equal(&b), a == b)
			}
		}
	}
}

// TestHeldBounded: a packet far ahead of the packets before it, carrying
// many messages (a TCP segment that completes them), holds fewer than
// maxHeld of them waiting for the step to be settled: the maxHeld-th
// confirms it, the rest are added as they come, and every message is
// counted by the end.
func TestHeldBounded(t *testing.T) {
	c := New(Options{}, func(*Call) {})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(i int, at time.Time) {
		raw := fmt.Sprintf("OPTIONS sip:x@h SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%d\r\nFrom: <sip:a@h>;tag=f\r\nTo: <sip:x@h>\r\nCall-ID: stuck-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", i, i)
		var m decode.Message
		if err := decode.ParseSIP([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		m.N, m.Time = min(i+1, 3), at // every message from the third on is packet 3's
		c.Add(&m)
	}
	add(0, t0)
	add(1, t0.Add(time.Second))
	const n = 3 * maxHeld
	peak := 0
	for i := 2; i < n; i++ {
		add(i, t0.Add(time.Hour))
		peak = max(peak, len(c.held))
		if len(c.held) > maxHeld {
			t.Fatalf("after message %d: %d held, more than %d", i+1, len(c.held), maxHeld)
		}
	}
	// maxHeld-1 at most between adds: the maxHeld-th confirms the step.
	if peak != maxHeld-1 || len(c.held) != 0 {
		t.Errorf("held at most %d, %d at the end; want %d, then none (the step taken)", peak, len(c.held), maxHeld-1)
	}
	c.Flush()
	if c.Stats.Messages != n {
		t.Errorf("%d messages counted, want %d", c.Stats.Messages, n)
	}
}

// TestPrivate: the addresses wentElsewhere calls private, the ones a NAT
// hides, and the public ones beside their ranges' edges.
func TestPrivate(t *testing.T) {
	for addr, want := range map[string]bool{
		"10.1.2.3": true, "172.16.0.1": true, "172.32.0.1": false, "192.168.1.10": true,
		"100.64.0.1": true, "100.127.255.255": true, "100.63.255.255": false, "100.128.0.0": false,
		"198.51.100.2": false, "127.0.51.3": false, "::ffff:10.0.0.1": true, "::ffff:100.64.0.1": true, "::ffff:8.8.8.8": false,
		"fd00::1": true, "2001:db8::1": false,
	} {
		if got := private(netip.MustParseAddr(addr)); got != want {
			t.Errorf("private(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestElsewhere: an in-dialog request sent to another address than its
// peer's message came from went elsewhere; to another port of it, only
// when both went over UDP (over TCP and WebSocket a peer sends from its
// connection's port), and not when the two ports talked to each other
// (a proxy and the server behind it on one host).
func TestElsewhere(t *testing.T) {
	at, other, port := netip.MustParseAddrPort("198.51.100.2:5060"), netip.MustParseAddrPort("198.51.100.3:5060"), netip.MustParseAddrPort("198.51.100.2:34567")
	for _, tt := range []struct {
		qt, mt   decode.Transport
		to, from netip.AddrPort
		talked   bool // a message between to and from in the leg
		want     bool
	}{
		{decode.UDP, decode.UDP, at, at, false, false}, {decode.UDP, decode.UDP, at, port, false, true}, {decode.UDP, decode.UDP, at, other, false, true},
		{decode.TCP, decode.UDP, at, port, false, false}, {decode.UDP, decode.TCP, at, port, false, false}, {decode.TCP, decode.TCP, at, other, false, true},
		{decode.WS, decode.WS, at, port, false, false}, {decode.UDP, decode.UDP, at, port, true, false}, {decode.UDP, decode.UDP, at, other, true, true},
	} {
		l := &Leg{}
		if tt.talked {
			l.Messages = append(l.Messages, &Message{Src: tt.from, Dst: tt.to})
		}
		q, m := &Message{Dst: tt.to, Transport: tt.qt}, &Message{Src: tt.from, Transport: tt.mt}
		if got := elsewhere(l, q, m); got != tt.want {
			t.Errorf("%v to %s, %v from %s, talked %t: %t, want %t", tt.qt, tt.to, tt.mt, tt.from, tt.talked, got, tt.want)
		}
	}
}

// TestWentElsewhereAddresses: where an in-dialog request went, named when
// it is an address the far end cannot be reached at from where its
// messages came: private behind NAT, or link-local; or when it is the
// same address at another port.
func TestWentElsewhereAddresses(t *testing.T) {
	const nat = ": a private address, a phone behind NAT that wrote its own address in Contact"
	const ll = ": a link-local address, which nothing beyond its own link reaches (a phone that wrote a self-assigned address in Contact)"
	for _, tt := range []struct{ to, from, tail string }{
		{"10.0.0.4:5060", "198.51.100.2:5060", nat},
		{"169.254.10.20:5060", "198.51.100.2:5060", ll},
		{"[fe80::1]:5060", "[2001:db8::2]:5060", ll},
		{"[::ffff:169.254.1.1]:5060", "[::ffff:198.51.100.2]:5060", ll},
		{"169.254.10.20:5060", "169.254.10.21:5060", ")"},
		{"10.0.0.4:5060", "10.0.0.2:5060", ")"},
		{"198.51.100.9:5060", "198.51.100.2:5060", ")"},
		{"198.51.100.2:5060", "198.51.100.2:34567", ": the same host at another port, as when a NAT maps the port the peer sends from while its Contact names the one it listens on behind the NAT, or a peer that sends from one port and listens on another"},
	} {
		d := wentElsewhere("ACK", netip.MustParseAddrPort(tt.to), "the 2xx", netip.MustParseAddrPort(tt.from), false, "the 2xx's Contact")
		if !strings.HasSuffix(d, tt.tail) || tt.tail == ")" && strings.Contains(d, "):") {
			t.Errorf("to %s from %s: %q, want it to end %q", tt.to, tt.from, d, tt.tail)
		}
	}
}

// BenchmarkFlowView builds the flow view of finished calls, as matchFlows
// does for every call of a capture: "generated", basic calls on one hop
// each (the hot path: every message placed by the first hop); "corpus",
// the calls of testdata's captures and of the public ones when present
// (SIPFLOW_SHARED), with proxies, forks, B2BUAs and direct in-dialog
// requests past a proxy that does not Record-Route (viewSides.direct).
// ns/call is the time a call.
func BenchmarkFlowView(b *testing.B) {
	collect := func(files []string) []*Call {
		var calls []*Call
		for _, f := range files {
			c := New(Options{}, func(call *Call) { calls = append(calls, call) })
			testfeed.Capture(f, c.Advance, c.Add, c.AddDatagram)
			c.Flush()
		}
		return calls
	}
	opts := synth.DefaultGen(2000)
	opts.RTP, opts.Rate, opts.Hold = false, 200, 2*time.Second
	var gen bytes.Buffer
	if _, err := synth.Generate(&gen, opts); err != nil {
		b.Fatal(err)
	}
	genFile := filepath.Join(b.TempDir(), "gen.pcap")
	if err := os.WriteFile(genFile, gen.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	corpus, _ := filepath.Glob(filepath.Join("..", "testdata", "*.pcap"))
	shared := os.Getenv("SIPFLOW_SHARED")
	if shared == "" {
		shared = filepath.Join("..", "..", "shared")
	}
	filepath.WalkDir(filepath.Join(shared, "captures", "public"), func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			corpus = append(corpus, p)
		}
		return nil
	})
	for _, set := range []struct {
		name  string
		files []string
	}{{"generated", []string{genFile}}, {"corpus", corpus}} {
		calls := collect(set.files)
		b.Run(set.name, func(b *testing.B) {
			b.ReportAllocs()
			var view []flowMsg
			var targets []remoteTarget
			for b.Loop() {
				for _, c := range calls {
					if len(c.Legs) > 0 && len(c.Legs[0].Messages) > 0 {
						view = flowView(c, view, &targets)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(calls)), "ns/call")
		})
	}
}

// TestFailoversIndex: the failover index answers what a scan of every
// transaction for the earliest answered initial INVITE from the same
// sender to another destination, after the unanswered one, would (random
// calls of two legs, three addresses, timestamps that tie).
func TestFailoversIndex(t *testing.T) {
	addrs := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060"), netip.MustParseAddrPort("10.0.0.3:5060")}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 500 {
		c := &Call{Legs: []*Leg{{}, {}}}
		var all []*Transaction
		for range rng.IntN(30) {
			tx := &Transaction{Method: "INVITE", Initial: rng.IntN(5) > 0,
				Request: &Message{Src: addrs[rng.IntN(3)], Dst: addrs[rng.IntN(3)], Time: t0.Add(time.Duration(rng.IntN(10)) * time.Second)}}
			if rng.IntN(2) == 0 {
				tx.Final = &Message{Status: 200}
			}
			l := c.Legs[rng.IntN(2)]
			l.Transactions = append(l.Transactions, tx)
			all = append(all, tx)
		}
		var fo failovers
		fo.index(c)
		for _, tx := range all {
			var want *Transaction
			for _, l := range c.Legs {
				for _, next := range l.Transactions {
					if next.Method == "INVITE" && next.Initial && next.Request != nil && next.Final != nil &&
						next.Request.Src.Addr() == tx.Request.Src.Addr() && next.Request.Dst != tx.Request.Dst &&
						next.Request.Time.After(tx.Request.Time) && (want == nil || next.Request.Time.Before(want.Request.Time)) {
						want = next
					}
				}
			}
			got := fo.after(tx)
			if (got == nil) != (want == nil) || got != nil && !got.Request.Time.Equal(want.Request.Time) {
				t.Fatalf("round %d: after(%v→%v at %v) = %v, want %v", round, tx.Request.Src, tx.Request.Dst, tx.Request.Time, got, want)
			}
			if got != nil && (got.Request.Src.Addr() != tx.Request.Src.Addr() || got.Request.Dst == tx.Request.Dst) {
				t.Fatalf("round %d: after gave an INVITE from %v to %v for one from %v to %v", round, got.Request.Src, got.Request.Dst, tx.Request.Src, tx.Request.Dst)
			}
		}
	}
}
