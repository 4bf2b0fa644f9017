package correlate

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/testfeed"
)

// TestRecycleSameCalls: a correlator that gets every emitted call's legs
// back (Recycle) reports what one that does not reports, message for
// message. Every capture is fed into one correlator, one after the other, then
// all of them again in reverse order, so that calls are built in the
// recycled legs of other captures' calls (B2BUA groups, forks,
// registrations, media) and of the same ones; the test checks that they
// were.
func TestRecycleSameCalls(t *testing.T) {
	files := twiceOver(t)
	plain, _ := dumpAll(t, files, dumpOptions{})
	recycled, reused := dumpAll(t, files, dumpOptions{recycle: true})
	t.Logf("%d legs built in recycled memory", reused)
	if reused < 300 {
		t.Errorf("only %d legs were built in recycled memory: the test compares too little", reused)
	}
	sameDump(t, "recycling legs", plain, recycled)
}

// TestReuseCallSameCalls: a correlator that gets every emitted call back
// once it is printed (ReuseCall), as well as its legs, reports what one
// that gets nothing back reports; later calls were built in the calls
// handed back, and what a caller copied out of a call handed back (its
// Findings, Events and LinkedIDs) is left as it was.
func TestReuseCallSameCalls(t *testing.T) {
	files := twiceOver(t)
	plain, _ := dumpAll(t, files, dumpOptions{})
	reusedDump, reused := dumpAll(t, files, dumpOptions{recycle: true, reuseCalls: true})
	t.Logf("%d calls built in the memory of calls handed back", reused)
	if reused < 300 {
		t.Errorf("only %d calls were built in reused memory: the test compares too little", reused)
	}
	sameDump(t, "reusing calls", plain, reusedDump)
}

// TestDeferBuildSameCalls: calls a Builder builds in another goroutine
// while the correlator goes on (Options.DeferBuild, as sipflow's pipeline
// does) are the calls the correlator builds itself, with the same count of
// calls expecting media; a call emitted for a Builder has nothing computed
// yet.
func TestDeferBuildSameCalls(t *testing.T) {
	files := twiceOver(t)
	plain, _ := dumpAll(t, files, dumpOptions{})
	deferred, _ := dumpAll(t, files, dumpOptions{deferBuild: true})
	// Without the public corpus (a fresh clone), the test captures and
	// the generated calls give about 560 calls; with it, several thousand.
	if n := strings.Count(plain, "\ncall "); n < 500 {
		t.Fatalf("only %d calls: the test compares too little", n)
	}
	sameDump(t, "building in another goroutine", plain, deferred)
}

// twiceOver returns every test capture, media, generated calls, the
// public corpus when it is there, then all of them again in reverse
// order, so that calls are built in the memory of other captures' calls
// (B2BUA groups, forks, registrations, media) and of the same ones.
func twiceOver(t *testing.T) []string {
	files := corpusFiles(t)
	files = append(files, mediaLateCapture(t), generatedCapture(t, 300))
	for i := len(files) - 1; i >= 0; i-- {
		files = append(files, files[i])
	}
	return files
}

func sameDump(t *testing.T, what, want, got string) {
	t.Helper()
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			t.Fatalf("%s changes the calls at line %d:\n%s\n---\n%s", what, i+1, w[i], g[i])
		}
	}
	if len(w) != len(g) {
		t.Fatalf("%s changes the calls: %d lines, want %d", what, len(g), len(w))
	}
}

// TestLeanSameCalls: the correlator makes the same calls, message by
// message, from lean parses as from full ones (what sipflow's commands rely
// on when they parse lean), over every test capture, generated calls and
// the public corpus when it is there.
func TestLeanSameCalls(t *testing.T) {
	files := append(corpusFiles(t), mediaLateCapture(t), generatedCapture(t, 100))
	full, _ := dumpAll(t, files, dumpOptions{})
	lean, _ := dumpAll(t, files, dumpOptions{lean: true})
	f, l := strings.Split(full, "\n"), strings.Split(lean, "\n")
	if len(f) < 1000 {
		t.Fatalf("only %d lines of calls: the test compares too little", len(f))
	}
	for i := range min(len(f), len(l)) {
		if f[i] != l[i] {
			t.Fatalf("a lean parse changes the calls at line %d:\n%s\n---\n%s", i+1, f[i], l[i])
		}
	}
	if len(f) != len(l) {
		t.Fatalf("a lean parse changes the calls: %d lines, want %d", len(l), len(f))
	}
	if !(Options{}).LeanInput() || !(Options{LinkHeaders: []string{"X-Leg"}}).LeanInput() {
		t.Error("LeanInput false for link headers a lean parse keeps")
	}
	if (Options{LinkHeaders: []string{"X-Leg", "Referred-By"}}).LeanInput() {
		t.Error("LeanInput true with Referred-By, which a lean parse keeps only in a field")
	}
}

// dumpOptions say what dumpAll gives back to the correlator, and how it
// parses.
type dumpOptions struct {
	recycle    bool // each call's legs go back once printed (Recycle)
	reuseCalls bool // and the call itself (ReuseCall)
	lean       bool // the messages come from a lean parse (decode.Options.Lean)
	deferBuild bool // a Builder in another goroutine builds the calls (Options.DeferBuild)
}

// dumpAll feeds the files into one correlator, each an hour after the one
// before ended, and prints every call in full: summary, legs, messages,
// transactions, dialogs, findings, streams; and OldestOpen after every
// step, as the commands ask for it to order their output. It returns how
// many legs (with o.recycle) or calls (with o.reuseCalls) of later calls
// were built in memory given back.
func dumpAll(t *testing.T, files []string, o dumpOptions) (string, int) {
	t.Helper()
	var b strings.Builder
	given := map[*Leg]bool{}
	givenCalls := map[*Call]bool{}
	reused := 0
	// What was copied out of the calls handed back, and what it said.
	type copied struct {
		findings []Finding
		events   []Event
		links    []string
		was      string
	}
	var copies []copied
	// The calls whose legs were recycled, with their strings as printed
	// then: memory a leg hands on (its messages' interned strings, say)
	// must not show through a Call's fields once a later call reuses it.
	type keptCall struct {
		call *Call
		was  string
	}
	var kept []keptCall
	// With o.deferBuild, the dump's lines and the calls, in order: the
	// calls are printed once built.
	var parts []any
	toBuild := make(chan *Call, 64)
	built := make(chan int)
	var c *Correlator
	c = New(Options{Media: true, RTPHeuristic: true, DeferBuild: o.deferBuild}, func(call *Call) {
		if o.deferBuild {
			if call.ID != "" || call.Legs == nil || call.State != "" {
				t.Fatalf("call %d emitted for a Builder: ID %q, %d legs, state %q", call.Seq, call.ID, len(call.Legs), call.State)
			}
			parts = append(parts, call)
			toBuild <- call // built while the correlator goes on
			return
		}
		dumpCall(&b, call)
		if givenCalls[call] {
			reused++
			delete(givenCalls, call)
		}
		for _, l := range call.Legs {
			if given[l] && !o.reuseCalls {
				reused++
			}
			delete(given, l)
		}
		if o.recycle {
			for _, l := range call.Legs {
				given[l] = true
			}
			if !o.reuseCalls {
				kept = append(kept, keptCall{call, callStrings(call)})
			}
			c.Recycle(call)
			if call.Legs != nil {
				t.Fatal("Recycle left the call's legs")
			}
		}
		if o.reuseCalls {
			if len(call.Findings)+len(call.Events)+len(call.LinkedIDs) > 0 && len(copies) < 200 {
				cp := copied{call.Findings, call.Events, call.LinkedIDs, ""}
				cp.was = fmt.Sprint(cp.findings, cp.events, cp.links)
				copies = append(copies, cp)
			}
			givenCalls[call] = true
			c.ReuseCall(call)
			if call.ID != "" || call.Findings != nil {
				t.Fatal("ReuseCall left the call's fields")
			}
		}
	})
	defer func() {
		for _, k := range kept {
			if now := callStrings(k.call); now != k.was {
				t.Errorf("a call's strings changed after its legs were recycled:\n%s\n---\n%s", k.was, now)
			}
		}
		for _, cp := range copies {
			if now := fmt.Sprint(cp.findings, cp.events, cp.links); now != cp.was {
				t.Errorf("what was copied out of a call handed back changed:\n%s\n---\n%s", cp.was, now)
			}
		}
	}()
	if o.deferBuild {
		builder := c.NewBuilder()
		go func() {
			for call := range toBuild {
				builder.Prefetch([]*Call{call}) // changes nothing
				builder.Build(call)
			}
			built <- builder.MediaExpected()
		}()
	}
	var oldest []int
	var last time.Time // the latest packet time fed
	for _, f := range files {
		// The file starts an hour after the last one ended (captures of
		// every year are among them): time must not go back.
		var shift time.Duration
		started := false
		at := func(t time.Time) time.Time {
			if !started {
				started = true
				if !last.IsZero() {
					shift = last.Add(time.Hour).Sub(t)
				}
			}
			t = t.Add(shift)
			if t.After(last) {
				last = t
			}
			return t
		}
		testfeed.CaptureWith(f, decode.Options{Lean: o.lean},
			func(t time.Time) { c.Advance(at(t)); oldest = append(oldest, c.OldestOpen()) },
			func(m *decode.Message) { m.Time = at(m.Time); c.Add(m); oldest = append(oldest, c.OldestOpen()) },
			func(n int, t time.Time, src, dst netip.AddrPort, p []byte) {
				c.AddDatagram(n, at(t), src, dst, p)
				oldest = append(oldest, c.OldestOpen())
			})
		line := fmt.Sprintf("%s done, oldest open %v\n", f, oldest)
		if o.deferBuild {
			parts = append(parts, line)
		} else {
			b.WriteString(line)
		}
		oldest = oldest[:0]
	}
	c.Flush()
	mediaExpected := c.Stats.MediaExpected
	if o.deferBuild {
		close(toBuild)
		mediaExpected += <-built
		for _, p := range parts {
			if call, ok := p.(*Call); ok {
				dumpCall(&b, call)
			} else {
				b.WriteString(p.(string))
			}
		}
	}
	fmt.Fprintf(&b, "%d calls, %d expecting media\n", c.Stats.Calls, mediaExpected)
	return b.String(), reused
}

func dumpCall(b *strings.Builder, call *Call) {
	fmt.Fprintf(b, "call %d %s %s %s %s %s %d %v %v %v %v %v %v msgs=%d dlgs=%d links=%v flow=%q dev=%q\n",
		call.Seq, call.ID, call.Kind, call.From, call.To, call.State, call.FinalStatus, call.Start, call.End,
		call.PDD, call.Answer, call.Duration, call.EndedBy, call.NumMessages, call.NumDialogs, call.LinkedIDs, call.Flow, call.Deviation)
	for i, l := range call.Legs {
		fmt.Fprintf(b, " leg %d %s %s links=%v\n", i, l.CallID, l.Kind, l.Links)
		for _, m := range l.Messages {
			fmt.Fprintf(b, "  msg %d %v %s %s %d %s cseq=%d %s tags=%s/%s retx=%v leg=%d sdp=%v raw=%d\n", m.N, m.Time, m.Src, m.Dst,
				m.Status, m.Method, m.CSeq, m.CSeqMethod, m.FromTag, m.ToTag, m.Retransmission, m.Leg, m.HasSDP(), len(m.Raw()))
		}
		for _, tx := range l.Transactions {
			final := 0
			if tx.Final != nil {
				final = tx.Final.N
			}
			fmt.Fprintf(b, "  tx %s %d %s reqs=%d resps=%d final=%d ack=%v cancel=%v initial=%v\n", tx.Method, tx.CSeq, tx.Branch,
				len(tx.Requests), len(tx.Responses), final, tx.ACK != nil, tx.Cancel != nil, tx.Initial)
		}
		for _, d := range l.Dialogs {
			fmt.Fprintf(b, "  dialog %s %s/%s early=%v confirmed=%v ended=%v\n", d.CallID, d.LocalTag, d.RemoteTag, d.Early, d.Confirmed, d.Ended)
		}
	}
	for _, f := range call.Findings {
		fmt.Fprintf(b, " finding %s %s %s %v %s\n", f.Rule, f.Severity, f.CallID, f.Packets, f.Detail)
	}
	for _, e := range call.Events {
		fmt.Fprintf(b, " event %d %s %s\n", e.N, e.Kind, e.Detail)
	}
	for _, s := range call.Streams {
		fmt.Fprintf(b, " stream %v %s pkts=%d lost=%d first=%d last=%d\n", s.Key, s.Codec, s.Packets, s.Lost, s.FirstN, s.LastN)
	}
}

// TestTombstoneRing: tombs added and expired over and over, across the
// ring's wrap and its growth while it wraps, are found exactly while they
// are kept, each with its own keys (the fifth and later ones too).
func TestTombstoneRing(t *testing.T) {
	var ts tombstones
	ts.init()
	start := time.Unix(1_000_000, 0).UTC()
	const keep = 30 * time.Second
	when := func(i int) time.Time { return start.Add(time.Duration(i) * 10 * time.Millisecond) }
	// Call i finishes at step i; from step 8000 on, a second call (i+1e6)
	// finishes at each step too: the ring must grow while its head has
	// moved on.
	added := func(j int) bool { return j < 1e6 || j-1e6 >= 8000 }
	keysOf := func(j int) []uint64 {
		keys := make([]uint64, j%7)
		for k := range keys {
			keys[k] = uint64(j*10 + k)
		}
		return keys
	}
	for i := range 16000 {
		now := when(i)
		ts.add(ts.hash([]byte(fmt.Sprint("call-", i))), now, keysOf(i))
		if i >= 8000 {
			ts.add(ts.hash([]byte(fmt.Sprint("call-", i+1e6))), now, keysOf(i+1e6))
		}
		ts.expire(now, keep)
		if i%97 != 0 {
			continue
		}
		for j := max(0, i-3500); j <= i; j += 13 {
			for _, id := range []int{j, j + 1e6} {
				want := added(id) && now.Sub(when(j)) <= keep
				tb, more := ts.find(ts.hash([]byte(fmt.Sprint("call-", id))))
				if (tb != nil) != want {
					t.Fatalf("at %d: tomb of call %d found %v, want %v", i, id, tb != nil, want)
				}
				if tb == nil {
					continue
				}
				keys := append(tb.keys[:min(int(tb.n), len(tb.keys)):min(int(tb.n), len(tb.keys))], more...)
				if fmt.Sprint(keys) != fmt.Sprint(keysOf(id)) {
					t.Fatalf("at %d: tomb of call %d has keys %v, want %v", i, id, keys, keysOf(id))
				}
			}
		}
	}
	if len(ts.ring) < 8192 {
		t.Fatalf("ring of %d: it never grew while wrapped", len(ts.ring))
	}
}

// callStrings is every string field of a call that outlives its legs.
func callStrings(c *Call) string {
	return fmt.Sprintf("%q %q %q %q %q %q %q %q %q %q %q %v %v %v", c.ID, c.From, c.To, c.FromDisplay, c.ToDisplay, c.Reason,
		c.EndedBy, c.Flow, c.Deviation, c.captureLoss, c.LinkedIDs, c.Findings, c.Events, c.State)
}
