package correlate

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/synth"
	"github.com/sipflow/sipflow/internal/testfeed"
)

// TestLongLegsAsScanned: what a long leg looks up in its index (requestOf,
// ackFor, lateOfferOf, hopDestinations, findDialog, a transaction's
// retransmitted responses) and its subscription folded as it goes are
// what a scan of all its messages, dialogs or transactions finds: after
// every message, for that message, and at the end for all, on random long
// calls and subscriptions of a few CSeqs, tags, addresses and branches
// (retransmissions, responses before their requests, crossings) and on
// the test captures.
func TestLongLegsAsScanned(t *testing.T) {
	files := corpusFiles(t)
	for seed := range uint64(6) {
		files = append(files, randomLongLeg(t, seed))
	}
	indexed, folded, forked, older, ended := 0, 0, 0, 0, 0
	for _, f := range files {
		c := New(Options{KeepSDP: true}, func(*Call) {})
		var legs []*Leg
		add := func(d *decode.Message) {
			c.Add(d)
			l := findLeg(&c.legs, c.tombs.hash(d.CallID), d.CallID)
			if l == nil || len(l.Messages) == 0 {
				return
			}
			if !slices.Contains(legs, l) {
				legs = append(legs, l)
			}
			if l.long != nil && l.long.ix.requests != nil {
				indexed++
			}
			if l.long != nil && l.long.dialogs != nil && l.long.responses != nil {
				forked++
			}
			checkAsScanned(t, f, l, l.Messages[len(l.Messages)-1])
			if l.Kind == KindSubscription {
				folded++
				var s subscriptionStatus
				for _, tx := range l.Transactions {
					s.take(tx)
				}
				if got := l.subscription(); got != s {
					t.Fatalf("%s: packet %d: subscription %+v, folded from the start %+v", f, d.N, got, s)
				}
			}
		}
		testfeed.Capture(f, c.Advance, add, c.AddDatagram) // a damaged file: what came before its damage

		for _, l := range legs {
			if l.finished {
				continue // recycled
			}
			for _, m := range l.Messages {
				checkAsScanned(t, f, l, m)
			}
			// Every transaction is found by its key: the last with the key,
			// as a scan of them all finds it, if it is among the last
			// maxTxSearch or still alive, asked at its first message and at
			// the leg's last.
			end := l.Messages[len(l.Messages)-1].Time
			for i, tx := range l.Transactions {
				wi := len(l.Transactions) - 1
				for ; wi >= 0; wi-- {
					x := l.Transactions[wi]
					if x.keyMethod == tx.keyMethod && x.CSeq == tx.CSeq && x.Branch == tx.Branch && x.sentBy == tx.sentBy &&
						(hasMagicCookie([]byte(tx.Branch)) || x.fromTag == tx.fromTag) {
						break
					}
				}
				first := tx.Request
				if first == nil {
					first = tx.Responses[0]
				}
				for _, at := range []time.Time{first.Time, end} {
					want := l.Transactions[wi]
					if wi < len(l.Transactions)-maxTxSearch {
						older++
						if !want.alive(at) {
							want = nil
							ended++
						}
					}
					if got := l.findTx(tx.keyMethod, &Message{CSeq: tx.CSeq, FromTag: tx.fromTag, Time: at}, []byte(tx.Branch), []byte(tx.sentBy)); got != want {
						t.Fatalf("%s: transaction %d of %d (%s %d) at %v: findTx %p, want %p", f, i, len(l.Transactions), tx.keyMethod, tx.CSeq, at, got, want)
					}
				}
			}
		}
		c.Flush()
	}
	if indexed < 1000 || folded < 1000 || forked < 500 || ended < 500 || older-ended < 500 {
		t.Errorf("%d messages looked up in an index, %d subscriptions folded, %d in a leg of many dialogs and responses, %d transactions asked for past findTx's window (%d ended): the test checks too little",
			indexed, folded, forked, older, ended)
	}
}

// checkAsScanned compares what leg l finds for its message m with a scan.
func checkAsScanned(t *testing.T, file string, l *Leg, m *Message) {
	t.Helper()
	where := fmt.Sprintf("%s: packet %d (%s %d %s)", file, m.N, m.Label(), m.CSeq, m.CSeqMethod)
	if !m.IsRequest() {
		if got, want := l.requestOf(m), scanRequestOf(l, m); got != want {
			t.Fatalf("%s: requestOf %v, scanned %v", where, got, want)
		}
		for _, tx := range l.Transactions {
			i := slices.Index(tx.Responses, m)
			if i < 0 {
				continue
			}
			if m.Status >= 200 && m.Status < 300 {
				a, lost := ackFor(l, tx, m)
				wa, wlost := scanACKFor(l, tx, m)
				if a != wa || !slices.Equal(lost, wlost) {
					t.Fatalf("%s: ackFor %v %v, scanned %v %v", where, a, lost, wa, wlost)
				}
			}
			again := slices.ContainsFunc(tx.Responses[:i], func(r *Message) bool {
				return r.Status == m.Status && r.ToTag == m.ToTag && r.size == m.size && sameHop(r, m) && r.rseqOf() == m.rseqOf()
			})
			if again != m.Retransmission {
				t.Fatalf("%s: retransmission %v, scanned %v", where, m.Retransmission, again)
			}
		}
	}
	if m.Method == "ACK" {
		if got, want := l.lateOfferOf(m), scanLateOfferOf(l, m); got != want {
			t.Fatalf("%s: lateOfferOf %v, scanned %v", where, got, want)
		}
	}
	if got, want := l.hopDestinations(m), scanHopDestinations(l, m); !slices.Equal(got, want) {
		t.Fatalf("%s: hopDestinations %v, scanned %v", where, got, want)
	}
	var want *Dialog
	for _, d := range l.Dialogs {
		if sameTags(d.LocalTag, d.RemoteTag, m.FromTag, m.ToTag) {
			want = d
			break
		}
	}
	if got := l.findDialog(m.FromTag, m.ToTag); got != want {
		t.Fatalf("%s: findDialog %p, scanned %p", where, got, want)
	}
}

func scanRequestOf(l *Leg, r *Message) *Message {
	for _, q := range l.Messages {
		if q.IsRequest() && !q.Retransmission && answers(q, r) {
			return q
		}
	}
	return nil
}

func scanACKFor(l *Leg, tx *Transaction, r *Message) (a *Message, lost []*Message) {
	for _, t := range l.Transactions {
		if t.Method == "ACK" && t.Request != nil && acks(t.Request, r) {
			a = t.Request
			break
		}
	}
	for i := 0; a == nil && i < len(l.Messages); i++ {
		if m := l.Messages[i]; m.Method == "ACK" && acks(m, r) {
			a = m
		}
	}
	if a == nil || tx.Responses[len(tx.Responses)-1] == r {
		return a, nil
	}
	return a, ackLost(a, resent(tx, r))
}

func scanLateOfferOf(l *Leg, a *Message) *Message {
	for i := len(l.Messages) - 1; i >= 0; i-- {
		r := l.Messages[i]
		if r.N >= a.N || r.IsRequest() || r.CSeqMethod != "INVITE" || r.CSeq != a.CSeq || r.FromTag != a.FromTag || r.Dst.Addr() != a.Src.Addr() {
			continue
		}
		if r.Status >= 200 && r.Status < 300 && r.hasSDP && scanLateReINVITE(l, r) != nil {
			return r
		}
		return nil
	}
	return nil
}

func scanLateReINVITE(l *Leg, r *Message) *Message {
	if r.CSeqMethod != "INVITE" {
		return nil
	}
	if q := scanRequestOf(l, r); q != nil && q.ToTag != "" && !q.hasSDP {
		return q
	}
	return nil
}

func scanHopDestinations(l *Leg, m *Message) []netip.Addr {
	var via []netip.Addr
	for _, h := range l.Messages {
		if hopOf(h, m) && !slices.Contains(via, h.Dst.Addr()) {
			via = append(via, h.Dst.Addr())
		}
	}
	return via
}

// randomLongLeg writes a capture of two long legs made of random messages
// (seeded): a call's re-INVITEs, UPDATEs, INFOs, ACKs, BYEs and their
// responses, and a subscription's SUBSCRIBEs and NOTIFYs, among a few
// CSeqs, tags, hosts and branches, some sent again byte for byte.
func randomLongLeg(t *testing.T, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	hosts := []string{"10.9.0.1:5060", "10.9.0.2:5060", "10.9.0.3:5060", "10.9.0.3:5080"}
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	sdp := func() string {
		return fmt.Sprintf("v=0\r\no=- 1 %d IN IP4 10.9.0.1\r\ns=-\r\nc=IN IP4 10.9.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=%s\r\n",
			rng.IntN(3), pick("sendrecv", "sendonly", "inactive"))
	}
	var frames []synth.Frame
	var sent [][]byte
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 900; i++ {
		at = at.Add(time.Duration(rng.IntN(400)) * time.Millisecond)
		if len(sent) > 0 && rng.IntN(8) == 0 {
			frames = append(frames, synth.Frame{Time: at, Data: sent[rng.IntN(len(sent))]})
			continue
		}
		sub := i%3 == 0
		callID, methods := "long-call", []string{"INVITE", "INVITE", "ACK", "ACK", "UPDATE", "INFO", "BYE"}
		if sub {
			callID, methods = "long-sub", []string{"SUBSCRIBE", "NOTIFY", "NOTIFY"}
		}
		if sub && rng.IntN(6) == 0 {
			// A SUBSCRIBE's 200, without Expires, captured before it: the
			// request's Expires says how long.
			cseq, br := 1+rng.IntN(12), rng.IntN(1000)
			head := fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=z9hG4bKs%d\r\nFrom: <sip:a@x>;tag=a1\r\nTo: <sip:b@x>;tag=b1\r\nCall-ID: long-sub\r\nCSeq: %d SUBSCRIBE\r\n", hosts[0], br, cseq)
			ok := synth.UDP(hosts[1], hosts[0], []byte("SIP/2.0 200 OK\r\n"+head+"Content-Length: 0\r\n\r\n"))
			req := synth.UDP(hosts[0], hosts[1], []byte("SUBSCRIBE sip:b@x SIP/2.0\r\n"+head+"Event: dialog\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"))
			frames = append(frames, synth.Frame{Time: at, Data: ok}, synth.Frame{Time: at.Add(time.Millisecond), Data: req})
			continue
		}
		method := pick(methods...)
		src, dst := pick(hosts...), pick(hosts...)
		fromTag, toTag := pick("a1", "b1"), pick("", "b1", "a1", "b2")
		cseq := 1 + rng.IntN(12)
		var b strings.Builder
		status := 0
		if rng.IntN(2) == 0 && method != "ACK" {
			status = []int{100, 180, 183, 200, 200, 202, 491, 486, 401}[rng.IntN(9)]
			fmt.Fprintf(&b, "SIP/2.0 %d X\r\n", status)
		} else {
			fmt.Fprintf(&b, "%s sip:x@%s SIP/2.0\r\n", method, dst)
		}
		via := src
		if status != 0 {
			via = dst
		}
		fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%d\r\n", via, rng.IntN(20))
		to := "<sip:b@x>"
		if toTag != "" {
			to += ";tag=" + toTag
		}
		fmt.Fprintf(&b, "From: <sip:a@x>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", fromTag, to, callID, cseq, method)
		if sub {
			fmt.Fprintf(&b, "Event: dialog\r\nSubscription-State: %s\r\n", pick("active;expires=600", "active", "terminated;reason=timeout", "pending"))
			if rng.IntN(2) == 0 {
				fmt.Fprintf(&b, "Expires: %d\r\n", rng.IntN(3)*1800)
			}
		}
		body := ""
		switch {
		case (method == "INVITE" || method == "UPDATE" || method == "ACK") && rng.IntN(2) == 0:
			body = sdp()
			b.WriteString("Content-Type: application/sdp\r\n")
		case method == "INFO" && status == 0:
			body = fmt.Sprintf("Signal=%d\r\nDuration=100\r\n", rng.IntN(10))
			b.WriteString("Content-Type: application/dtmf-relay\r\n")
		}
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
		data := synth.UDP(src, dst, []byte(b.String()))
		sent = append(sent, data)
		frames = append(frames, synth.Frame{Time: at, Data: data})
	}
	// A fork storm: one INVITE answered from forty To-tags, some
	// responses sent again, some alike in all but their size.
	for i := 0; i < 300; i++ {
		at = at.Add(time.Duration(rng.IntN(40)) * time.Millisecond)
		if i > 0 && rng.IntN(4) == 0 {
			frames = append(frames, synth.Frame{Time: at, Data: sent[len(sent)-1-rng.IntN(min(i, 30))]})
			continue
		}
		if i > 0 && rng.IntN(6) == 0 {
			// A callee's request in its dialog: the tags the other way round.
			msg := fmt.Sprintf("BYE sip:a@10.9.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKbye%d\r\nFrom: <sip:b@x>;tag=f%d\r\n"+
				"To: <sip:a@x>;tag=s1\r\nCall-ID: storm\r\nCSeq: 7 BYE\r\nContent-Length: 0\r\n\r\n", hosts[1], i, rng.IntN(40))
			frames = append(frames, synth.Frame{Time: at, Data: synth.UDP(hosts[1], hosts[0], []byte(msg))})
			continue
		}
		status, from := 180, hosts[1]
		if i > 0 {
			status = []int{180, 183, 200}[rng.IntN(3)]
		}
		var b strings.Builder
		if i == 0 {
			b.WriteString("INVITE sip:x@10.9.0.2 SIP/2.0\r\n")
			from = hosts[0]
		} else {
			fmt.Fprintf(&b, "SIP/2.0 %d X\r\n", status)
		}
		fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bKstorm\r\nFrom: <sip:a@x>;tag=s1\r\n", hosts[0])
		if i == 0 {
			b.WriteString("To: <sip:b@x>\r\n")
		} else {
			fmt.Fprintf(&b, "To: <sip:b@x>;tag=f%d\r\n", rng.IntN(40))
		}
		fmt.Fprintf(&b, "Call-ID: storm\r\nCSeq: 1 INVITE\r\nX-Pad: %s\r\nContent-Length: 0\r\n\r\n", strings.Repeat("x", rng.IntN(2)))
		to := hosts[1]
		if i > 0 {
			from, to = hosts[1], hosts[0]
		}
		data := synth.UDP(from, to, []byte(b.String()))
		sent = append(sent, data)
		frames = append(frames, synth.Frame{Time: at, Data: data})
	}
	// A call ringing through 700 reliable 183s, each PRACKed: more
	// transactions than twice what findTx scans back, some PRACKs and
	// 183s sent again long after (their transactions found by olderTx).
	var pracks, ringing [][]byte
	ring := func(src, dst, msg string) []byte {
		data := synth.UDP(src, dst, []byte(msg+"Call-ID: ringing\r\nContent-Length: 0\r\n\r\n"))
		at = at.Add(time.Duration(1+rng.IntN(30)) * time.Millisecond)
		frames = append(frames, synth.Frame{Time: at, Data: data})
		return data
	}
	inviteVia := "Via: SIP/2.0/UDP " + hosts[0] + ";branch=z9hG4bKring\r\nFrom: <sip:a@x>;tag=r1\r\n"
	ring(hosts[0], hosts[1], "INVITE sip:x@10.9.0.2 SIP/2.0\r\n"+inviteVia+"To: <sip:b@x>\r\nCSeq: 1 INVITE\r\nSupported: 100rel\r\n")
	for i := 1; i <= 700; i++ {
		switch {
		case i == 1:
		case rng.IntN(8) == 0:
			at = at.Add(time.Second) // a repeat: past the window in which a copy is no retransmission
			frames = append(frames, synth.Frame{Time: at, Data: pracks[rng.IntN(len(pracks))]})
		case rng.IntN(8) == 0:
			at = at.Add(time.Second)
			frames = append(frames, synth.Frame{Time: at, Data: ringing[rng.IntN(len(ringing))]})
		}
		if i == 5 || i == 6 {
			// Two OPTIONS alike but for their From-tags, with an RFC 2543
			// branch: the From-tag tells their transactions apart.
			opt := fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=opt\r\nFrom: <sip:a@x>;tag=o%d\r\nTo: <sip:b@x>\r\nCSeq: 1 OPTIONS\r\n", hosts[0], i)
			ring(hosts[0], hosts[1], "OPTIONS sip:x@10.9.0.2 SIP/2.0\r\n"+opt)
			ring(hosts[1], hosts[0], "SIP/2.0 200 OK\r\n"+opt)
		}
		ringing = append(ringing, ring(hosts[1], hosts[0], fmt.Sprintf("SIP/2.0 183 X\r\n%sTo: <sip:b@x>;tag=r2\r\nCSeq: 1 INVITE\r\nRequire: 100rel\r\nRSeq: %d\r\n", inviteVia, i)))
		prack := fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=z9hG4bKpr%d\r\nFrom: <sip:a@x>;tag=r1\r\nTo: <sip:b@x>;tag=r2\r\nCSeq: %d PRACK\r\n", hosts[0], i, 1+i)
		pracks = append(pracks, ring(hosts[0], hosts[1], fmt.Sprintf("PRACK sip:x@10.9.0.2 SIP/2.0\r\n%sRAck: %d 1 INVITE\r\n", prack, i)))
		ring(hosts[1], hosts[0], "SIP/2.0 200 OK\r\n"+prack)
	}
	ring(hosts[1], hosts[0], "SIP/2.0 200 OK\r\n"+inviteVia+"To: <sip:b@x>;tag=r2\r\nCSeq: 1 INVITE\r\n")
	p := filepath.Join(t.TempDir(), fmt.Sprintf("long-%d.pcap", seed))
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := synth.WritePcap(f, layers.LinkTypeEthernet, frames); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProvisionalsAsScanned: whether a long flow view holds a 1xx of a
// transaction from a side (provisionals, a set past indexFrom messages)
// is what a scan of the view finds, after random appends and inserts (the
// refresh exchanges flush puts back in capture order), for random asks.
func TestProvisionalsAsScanned(t *testing.T) {
	scan := func(view []flowMsg, m *Message, from side) bool {
		for i := len(view) - 1; i >= 0; i-- {
			if x := view[i].m; x.Status >= 100 && x.Status < 200 && x.CSeq == m.CSeq && x.CSeqMethod == m.CSeqMethod && view[i].from == from {
				return true
			}
		}
		return false
	}
	methods := []string{"INVITE", "UPDATE", "PRACK"}
	statuses := []int{0, 100, 180, 183, 199, 200, 486}
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		random := func() flowMsg {
			return flowMsg{m: &Message{Status: statuses[r.IntN(len(statuses))], CSeq: uint32(1 + r.IntN(40)), CSeqMethod: methods[r.IntN(len(methods))]}, from: side(1 + r.IntN(2))}
		}
		var p provisionals
		var view []flowMsg
		set, inserted := false, 0
		for range 600 {
			fm := random()
			if len(view) > 0 && r.IntN(4) == 0 {
				i := r.IntN(len(view) + 1)
				view = slices.Insert(view, i, fm)
				p.inserted(&view[i])
				inserted++
			} else {
				view = append(view, fm)
			}
			q := random()
			if got, want := p.seen(view, q.m, q.from), scan(view, q.m, q.from); got != want {
				t.Fatalf("seed %d, view of %d: seen %d/%s from %d = %v, the scan %v", seed, len(view), q.m.CSeq, q.m.CSeqMethod, q.from, got, want)
			}
			set = set || p.set != nil
		}
		if !set || inserted == 0 {
			t.Fatalf("seed %d: set %v, %d inserts: the set's path not taken", seed, set, inserted)
		}
	}
}

// TestLegEndpointsAsScanned: a leg's current media endpoints found by
// address (announcedAt, and setEndpoint's replacing) once they are many
// (manyEndpoints, a map) are what a scan finds, and the Correlator's
// lists by address hold each exactly once, after random announcements
// by three legs over forty addresses (a call that moves its media at
// each re-INVITE, re-announcing old ports too).
func TestLegEndpointsAsScanned(t *testing.T) {
	c := New(Options{}, func(*Call) {})
	legs := []*Leg{{media: &legMedia{}}, {media: &legMedia{}}, {media: &legMedia{}}}
	addrs := make([]netip.AddrPort, 40)
	for i := range addrs {
		addrs[i] = netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), uint16(5000+2*i))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 2000 {
		l := legs[r.IntN(len(legs))]
		ap := addrs[r.IntN(len(addrs))]
		if n < 40 { // one leg takes every address first
			l, ap = legs[0], addrs[n]
		}
		ep := &endpoint{leg: l, ap: ap}
		var old *endpoint
		for _, e := range l.media.current {
			if e.ap == ap {
				old = e
			}
		}
		c.setEndpoint(l, ap, ep)
		if old != nil && !old.stale {
			t.Fatalf("announcement %d: the endpoint it replaced is not stale", n)
		}
		for _, l := range legs {
			seen := map[netip.AddrPort]bool{}
			for _, e := range l.media.current {
				if seen[e.ap] {
					t.Fatalf("announcement %d: %v twice among a leg's current endpoints", n, e.ap)
				}
				seen[e.ap] = true
			}
			for _, ap := range addrs {
				var want *endpoint
				for _, e := range l.media.current {
					if e.ap == ap {
						want = e
					}
				}
				if got := l.media.announcedAt(ap); got != want {
					t.Fatalf("announcement %d: announcedAt(%v) = %p, the scan %p", n, ap, got, want)
				}
			}
		}
	}
	if legs[0].media.at == nil {
		t.Fatal("the map was never built")
	}
	for _, ap := range addrs {
		list := c.endpoints[ap]
		for i, e := range list {
			if e.idx != i || e.stale || e.leg.media.announcedAt(ap) != e {
				t.Fatalf("%v: entry %d (idx %d, stale %v) is not its leg's current endpoint", ap, i, e.idx, e.stale)
			}
		}
		held := 0
		for _, l := range legs {
			if l.media.announcedAt(ap) != nil {
				held++
			}
		}
		if held != len(list) {
			t.Fatalf("%v: %d legs announce it, the list holds %d", ap, held, len(list))
		}
	}
	for _, l := range legs {
		c.releaseMedia(l)
	}
	if len(c.endpoints) != 0 {
		t.Fatalf("%d addresses still listed after every leg was released", len(c.endpoints))
	}
}
