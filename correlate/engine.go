package correlate

import (
	"hash/maphash"
	"net/netip"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/ptime"
	"github.com/sipflow/sipflow/media"
)

// Options tune a Correlator. The zero value means the defaults.
type Options struct {
	// LinkHeaders name the headers whose value is the Call-ID of another
	// leg of the same call (B2BUA correlation). Default X-Call-ID, X-CID.
	LinkHeaders []string
	// IdleTimeout finishes a call that has seen no message for this long,
	// in packet time (default 10 minutes): one ringing, a dialog whose BYE
	// had no answer, a REGISTER retried with one Call-ID. An INVITE call
	// whose requests all went unanswered is finished after Tombstone
	// instead, when that is shorter, and an answered call after
	// CallTimeout (requeue).
	IdleTimeout time.Duration
	// CallTimeout finishes an answered call, a dialog up that no BYE has
	// ended, or a subscription in force (refreshed every half hour or hour,
	// RFC 6665) whose messages did not say when it expires, that has seen
	// no message for this long, in packet time (default 2 hours); one
	// whose expiry is known waits for that instead, and IdleTimeout more
	// (a day at most, and IdleTimeout, after its last message). A call
	// talks without SIP for as long as it lasts:
	// a capture of the signalling alone (no RTP to keep it alive, see
	// Media) sees nothing between the ACK and the BYE, or between session
	// refreshes (RFC 4028: every 15 minutes, for the usual 30-minute
	// interval), and the idle timeout would cut such a call in two.
	CallTimeout time.Duration
	// Linger is how long, in packet time, an INVITE call with nothing left
	// pending (every transaction answered, every dialog ended) waits before
	// it is finished (default 5 s). Other kinds (registrations, OPTIONS,
	// ...) wait Tombstone (32 s, 64·T1), so that quick refreshes stay in
	// one record, as one Call-ID.
	Linger time.Duration
	// Challenge is how long a call or registration whose last answer was a
	// 401 or 407 challenge waits for its retry with credentials before it
	// is finished (default 2 minutes): a softphone may ask its user for the
	// password, and the retry, seconds or a minute later, is the same
	// attempt, with the same Call-ID.
	Challenge time.Duration
	// MaxOpen bounds the Call-IDs held open at once (default DefaultMaxOpen;
	// negative: no bound), which memory is proportional to. A capture that
	// misses every BYE (taken where the BYEs are routed another way) holds
	// each answered call for CallTimeout: at a carrier's rate, millions.
	// Past the bound one is finished as it stands to make room: an INVITE
	// call over and lingering for late retransmissions if there is one, else
	// the call quiet the longest (Stats.Evicted counts those; see evict).
	MaxOpen int
	// Tombstone is how long a finished Call-ID is remembered so that late
	// retransmissions are not taken for a new call (default 32 s, 64·T1).
	Tombstone time.Duration
	// KeepCopies reads every message, even one the capture seems to have
	// recorded twice (CopyWindow): for messages that were read once
	// already, such as an archive's, whose packets' IPv4 IDs are gone.
	KeepCopies bool
	// KeepRaw keeps the full text of every message (for ladders and the
	// archive). Off, a call costs far less memory.
	KeepRaw bool
	// KeepSDP keeps the SDP of every message (for ladders, media streams and
	// the archive). Off, only re-INVITE and UPDATE offers keep theirs, which
	// is all that hold and resume events need. KeepRaw implies it.
	KeepSDP bool
	// Flows are the expected flows calls are matched against; nil means
	// the built-in ones (DefaultFlows).
	Flows []*Flow
	// Media ties RTP and RTCP (AddDatagram) to calls by their SDP, measures
	// the streams (Call.Streams) and runs the media checks (one-way audio,
	// no RTP, loss, jitter, address mismatch). The SDP is read as it comes;
	// keeping it on the messages is KeepSDP's business.
	Media bool
	// RTPHeuristic also measures RTP that no SDP announced (Orphans).
	RTPHeuristic bool
	// OnFlush, when set, is called at the end of Flush, once every call
	// has been emitted (to collect Orphans, say).
	OnFlush func(*Correlator)

	// DeferBuild leaves the computing of each finished call to the
	// caller's Builder (NewBuilder), which may run in another goroutine:
	// until Builder.Build has run on it, a call emit is handed has only
	// Seq set, and the correlator does not count it in
	// Stats.MediaExpected (Builder.MediaExpected does).
	DeferBuild bool

	eagerSDP bool // tests: register every SDP as it comes, not from the first RTP on
}

// DefaultLinkHeaders are the B2BUA correlation headers used when none are given.
var DefaultLinkHeaders = []string{"X-Call-ID", "X-CID"}

// LeanInput reports whether messages parsed with decode.Options.Lean give
// a Correlator with these options everything it reads: they do unless a
// link header is one whose value a lean parse keeps only in a field.
func (o Options) LeanInput() bool {
	links := o.LinkHeaders
	if links == nil {
		links = DefaultLinkHeaders
	}
	for _, n := range links {
		if !decode.LeanHeader(n) {
			return false
		}
	}
	return true
}

// Stats counts what a Correlator has seen.
type Stats struct {
	Messages        int
	Retransmissions int
	Duplicates      int // messages captured twice within CopyWindow, read once
	Calls           int // calls (groups) emitted
	Late            int // messages for a call already finished (late retransmissions), not shown
	PeakOpen        int // most Call-IDs held open at once: what memory is proportional to
	Datagrams       int // non-SIP UDP payloads seen (with Options.Media)
	RTPLike         int // of which looked like RTP or RTCP (version 2)
	MediaPackets    int // of which RTP or RTCP of a call, or T.38 (UDPTL)
	UDPTLLike       int // of Datagrams, those that were not RTP-like but parsed as UDPTL
	MediaExpected   int // answered calls in which the caller and the answerer both sent SDP
	Evicted         int // calls finished before their time to keep Options.MaxOpen
}

// DefaultMaxOpen is Options.MaxOpen's default: far more calls than a
// capture holds open at once but for one that misses its BYEs, and about
// 300 MB of calls without media.
const DefaultMaxOpen = 100_000

// Correlator groups SIP messages into transactions, dialogs and calls, and
// hands each call to emit once it is finished, with its state, timings,
// findings and matched flow. Memory holds only calls still open.
//
// It is driven by packet time (Advance), never the clock, so a capture gives
// the same calls whatever its size or the speed it is read at. One
// Correlator belongs to one goroutine.
type Correlator struct {
	opts  Options
	conv  *converter
	emit  func(*Call)
	Stats Stats

	legs      legTable          // open legs by Call-ID
	pending   map[string][]*Leg // Call-IDs named by a link header before they were seen
	tombs     tombstones        // recently finished Call-IDs
	open      legList           // legs with something pending, oldest activity first
	waiting   legList           // legs whose requests all went unanswered (see requeue)
	up        legList           // answered calls: a dialog up, not yet ended by a BYE (CallTimeout)
	expiring  legList           // subscriptions in force with a known expiry, by deadline
	done      legList           // terminal INVITE calls lingering
	doneNon   legList           // terminal legs of other kinds lingering (longer)
	challenge legList           // terminal legs challenged, waiting for the retry with credentials
	order     []orderEntry      // groups in creation order, for OldestOpen
	freeLegs  []*Leg            // legs of emitted calls handed back by Recycle
	freeCalls []*Call           // emitted calls handed back by ReuseCall
	seq       int
	ended     bool // Flush is finishing the calls left: no packet can follow
	now       time.Time
	nextCheck ptime.Instant    // when Advance next expires calls
	clock     ptime.Clock      // packet time, a glitch's jump held back
	heldLegs  []*Leg           // legs media touched while the clock held a jump (AddDatagramFlow)
	held      []decode.Message // SIP messages of the held jump's time (hold)
	settling  bool             // Add is adding them: the clock has moved already
	heldArena decode.Arena
	links     []string
	builder   Builder // builds the calls, unless Options.DeferBuild

	endpoints   map[netip.AddrPort][]*endpoint // media addresses announced by open calls
	flowCache   map[flowKey]*flowEntry
	flowFast    *[flowFastSize]flowSlot // a direct-mapped cache in front of flowCache
	rtp         decode.RTP              // scratch
	udptl       *decode.UDPTL           // scratch, made by the first datagram not RTP (udptlScratch)
	sdpScratch  decode.SDP
	oaScratch   [2]decode.SDP // an offer and its answer (compareSDP)
	epGen       int           // counts announcements, to expire cached misses
	heur        media.Heuristic
	orphans     *media.Table
	captureLoss string // why loss figures may be the capture's, when known
	mediaLive   bool   // an RTP or RTCP packet has been seen: SDP is registered as it comes
	sdpSeq      int    // SDP bodies stashed so far, for their order

	// hosts is what every packet read so far was sent from or to, while
	// some address was (seeHosts); hostsGone, once a packet involved none
	// of them: hosts stays nil, and packets are not looked at for it.
	hosts     *onlyHosts
	hostsGone bool
}

// NoteCaptureLoss records that the capture itself lost packets (why says
// how: "the capture's interface statistics report 12 packets dropped").
// RTP loss findings from then on say their loss may be the capture's.
func (c *Correlator) NoteCaptureLoss(why string) { c.captureLoss = why }

// tomb remembers a finished leg for a while, so that a late retransmission
// of one of its transactions is recognised instead of starting a new call.
// It holds no pointer, and neither does the index of tombstones, so that
// the tens of thousands a busy capture keeps cost the garbage collector
// nothing to scan.
type tomb struct {
	id   uint64 // seeded hash of the Call-ID
	sec  int64  // when the leg finished (packet time)
	nsec int32
	n    int32     // transaction keys: keys[:min(n, 4)], the rest in tombstones.more
	keys [4]uint64 // its transactions' keys (txKey): enough to recognise them, without holding the messages
}

// tombstones is a queue of tombs in finishing order and an index by
// Call-ID hash. A seeded hash (hash/maphash) cannot be steered into
// collisions by the capture's content; a collision could only hide a
// message whose transaction key also hashed alike.
type tombstones struct {
	seed   maphash.Seed
	index  seqTable            // Call-ID hash -> seq of its newest tomb
	ring   []tomb              // a ring buffer (power-of-two size): the tomb with seq s is at ring[s&(len-1)]
	head   uint64              // seq of the oldest tomb
	n      uint64              // tombs held: seqs head .. head+n-1
	more   map[uint64][]uint64 // keys beyond the fourth, by seq (legs with many transactions)
	txSeed uint64              // txKey's seed
}

// at returns the tomb with sequence number seq (head <= seq < head+n).
func (ts *tombstones) at(seq uint64) *tomb { return &ts.ring[seq&uint64(len(ts.ring)-1)] }

func (ts *tombstones) init() {
	ts.seed = maphash.MakeSeed()
	ts.txSeed = maphash.Comparable(ts.seed, uint64(0x7478)) // drawn from the seed: as random
	ts.more = make(map[uint64][]uint64)
}

func (ts *tombstones) hash(callID []byte) uint64 { return maphash.Bytes(ts.seed, callID) }

// hashString is hash for a Call-ID held as a string: the same value.
func (ts *tombstones) hashString(callID string) uint64 { return maphash.String(ts.seed, callID) }

// find returns the newest tomb of a Call-ID (by its hash) and its keys, or nil.
func (ts *tombstones) find(id uint64) (*tomb, []uint64) {
	seq, ok := ts.index.get(id)
	if !ok {
		return nil, nil
	}
	return ts.at(seq), ts.more[seq]
}

// add remembers a finished leg by its Call-ID's hash and its
// transactions' keys (txKey).
func (ts *tombstones) add(id uint64, at time.Time, keys []uint64) {
	tb := tomb{id: id, sec: at.Unix(), nsec: int32(at.Nanosecond()), n: int32(len(keys))}
	copy(tb.keys[:], keys)
	seq := ts.head + ts.n
	if len(keys) > len(tb.keys) {
		ts.more[seq] = append([]uint64(nil), keys[len(tb.keys):]...)
	}
	if ts.n == uint64(len(ts.ring)) { // full: twice the size, every tomb at its seq's place
		ring := make([]tomb, max(1024, 2*len(ts.ring)))
		for s := ts.head; s < seq; s++ {
			ring[s&uint64(len(ring)-1)] = *ts.at(s)
		}
		ts.ring = ring
	}
	*ts.at(seq) = tb
	ts.n++
	ts.index.set(tb.id, seq)
}

// expire forgets the tombs older than keep at packet time t.
func (ts *tombstones) expire(t time.Time, keep time.Duration) {
	for ts.n > 0 && ptime.Sub(t, time.Unix(ts.at(ts.head).sec, int64(ts.at(ts.head).nsec))) > keep {
		tb := ts.at(ts.head)
		ts.index.remove(tb.id, ts.head) // unless a newer tomb of the Call-ID is filed
		if tb.n > int32(len(tb.keys)) {
			delete(ts.more, ts.head)
		}
		ts.head++
		ts.n--
	}
}

// orderEntry is a group in the creation order. The group lives in a leg
// (Leg.ownGroup) that Recycle may hand to a later call while the entry still
// waits in the queue: seq tells the group it was from the one it is now.
type orderEntry struct {
	g   *group
	seq int
}

// done reports whether the entry's group is finished (or gone to a later call).
func (e orderEntry) done() bool { return e.g.seq != e.seq || e.g.finished }

type group struct {
	legs     []*Leg
	legBuf   [1]*Leg
	seq      int
	open     int // legs not yet finished
	finished bool
	merged   *group // set when merged into another group
}

func (g *group) root() *group {
	for g.merged != nil {
		g = g.merged
	}
	return g
}

// late reports whether d belongs to a transaction of tb's finished leg: a
// retransmission that came after the call was reported. Anything else
// with the same Call-ID (a registration refresh, a new attempt) is new.
func (ts *tombstones) late(tb *tomb, d *decode.Message, more []uint64) bool {
	var branch, sentBy string
	if len(d.Via) > 0 {
		branch, sentBy = string(d.Via[0].Branch), string(d.Via[0].SentBy)
	}
	method := string(d.CSeqMethod)
	if d.IsRequest() && string(d.Method) == "ACK" {
		// The ACK to a non-2xx belongs to the INVITE; the ACK to a 2xx is its own.
		return tb.has(ts.txKey(branch, sentBy, "INVITE", string(d.From.Tag), d.CSeq), more) ||
			tb.has(ts.txKey(branch, sentBy, "ACK", string(d.From.Tag), d.CSeq), more)
	}
	return tb.has(ts.txKey(branch, sentBy, method, string(d.From.Tag), d.CSeq), more)
}

func (tb *tomb) has(h uint64, more []uint64) bool {
	for _, x := range tb.keys[:min(int(tb.n), len(tb.keys))] {
		if x == h {
			return true
		}
	}
	for _, x := range more {
		if x == h {
			return true
		}
	}
	return false
}

// txKey is a seeded 64-bit hash of a transaction's key, for the
// tombstone: each part's length goes in before its bytes, so that no two
// keys split differently hash alike by construction, and the bytes go in
// eight at a time (a multiply and a shift each; FNV-1a byte by byte took
// 300 instructions a key). The From-tag counts only without the magic
// cookie, as in findTx. The seed is drawn per Correlator: a capture cannot
// aim a key at another's hash, which would make a message pass for a late
// retransmission.
func (ts *tombstones) txKey(branch, sentBy, method, fromTag string, cseq uint32) uint64 {
	if hasMagicCookie([]byte(branch)) {
		fromTag = ""
	}
	h := ts.txSeed ^ uint64(cseq)
	h = mixKey(h, branch)
	h = mixKey(h, sentBy)
	h = mixKey(h, method)
	h = mixKey(h, fromTag)
	h ^= h >> 32
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>29
}

// mixKey mixes s, and its length first, into h: eight bytes at a time,
// the last eight overlapping the ones before (the length is in already,
// so that is no ambiguity), and a short s in two overlapping halves.
func mixKey(h uint64, s string) uint64 {
	h = mixWord(h, uint64(len(s)))
	switch n := len(s); {
	case n > 8:
		for t := s; len(t) > 8; t = t[8:] {
			h = mixWord(h, le64s(t))
		}
		return mixWord(h, le64s(s[n-8:]))
	case n == 8:
		return mixWord(h, le64s(s))
	case n >= 4:
		return mixWord(h, uint64(le32s(s))|uint64(le32s(s[n-4:]))<<32)
	case n > 0:
		return mixWord(h, uint64(s[0])|uint64(s[n/2])<<8|uint64(s[n-1])<<16)
	}
	return h
}

func mixWord(h, w uint64) uint64 {
	h = (h ^ w) * 0xff51afd7ed558ccd // odd: the multiply loses nothing
	return h ^ h>>29
}

func le64s(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le32s(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// New returns a Correlator that calls emit with every finished call.
func New(opts Options, emit func(*Call)) *Correlator {
	if opts.LinkHeaders == nil {
		opts.LinkHeaders = DefaultLinkHeaders
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 10 * time.Minute
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = 2 * time.Hour
	}
	if opts.Linger == 0 {
		opts.Linger = 5 * time.Second
	}
	if opts.Tombstone == 0 {
		opts.Tombstone = 32 * time.Second
	}
	if opts.MaxOpen == 0 {
		opts.MaxOpen = DefaultMaxOpen
	}
	if opts.Challenge == 0 {
		opts.Challenge = 2 * time.Minute
	}
	if opts.Flows == nil {
		opts.Flows = DefaultFlows()
	}
	c := &Correlator{
		opts: opts, conv: &converter{keepRaw: opts.KeepRaw, keepSDP: opts.KeepSDP || opts.KeepRaw}, emit: emit,
		endpoints: make(map[netip.AddrPort][]*endpoint), flowCache: make(map[flowKey]*flowEntry),
		flowFast: new([flowFastSize]flowSlot),
		pending:  make(map[string][]*Leg),
	}
	c.tombs.init()
	c.builder = Builder{media: opts.Media, flows: opts.Flows}
	c.nextCheck = ptime.Of(time.Time{})
	return c
}

// Add correlates one decoded message. d is not kept.
func (c *Correlator) Add(d *decode.Message) {
	if c.advanceTo(d) {
		return
	}
	c.Stats.Messages++
	id := c.tombs.hash(d.CallID)
	leg := findLeg(&c.legs, id, d.CallID)
	if leg == nil {
		if tb, more := c.tombs.find(id); tb != nil && c.tombs.late(tb, d, more) {
			c.Stats.Late++
			return
		}
		leg = c.newLeg(d, id)
	}
	m := c.conv.convert(d, leg, c.opts.LinkHeaders, &c.links)
	m.CallID = leg.CallID
	for _, id := range c.links {
		c.link(leg, id)
	}
	var branch, sentBy []byte
	if len(d.Via) > 0 {
		branch, sentBy = d.Via[0].Branch, d.Via[0].SentBy
	}
	if c.place(leg, m, branch, sentBy) {
		c.Stats.Duplicates++
		leg.msgPool = leg.msgPool[:len(leg.msgPool)-1] // m, the pool's last: convert made it
		return
	}
	if m.Retransmission {
		c.Stats.Retransmissions++
	} else if m.hasSDP || mayAnswer(m) || m.Method == "INVITE" || m.Method == "UPDATE" {
		// What offerAnswer reads (a cut message's body is not judged): the
		// messages with SDP, those that may answer, and those that offer.
		cut := d.ContentLength > len(d.Body) || d.HeadersCut()
		body, owned := c.offerAnswer(leg, m, d.SDP, cut)
		if c.opts.Media && m.hasSDP {
			c.sdpSeen(leg, m, body, owned)
		}
	}
	// Expiry goes by the clock (seen), not by the message's time: one
	// stamped out of order must neither finish the call early nor keep
	// it, and every call after it in its list, from finishing. (No
	// message is added while the clock holds a step: hold.)
	leg.last, leg.seen = m.Time, c.clock.Now()
	c.requeue(leg)
}

// intern returns b as a string, reusing one of the leg's recent strings
// when equal: tags, sent-by, agents and URIs repeat within a call. A new
// one is copied into the leg's own memory (copyString), which Recycle
// hands to a later call, so only what stays with the leg's messages and
// transactions may be interned: nothing that reaches a Call's fields
// (token's reason phrases do not come here).
func (l *Leg) intern(b []byte) string {
	if b == nil {
		return ""
	}
	for _, s := range l.strs {
		if s == string(b) {
			return s
		}
	}
	s := l.copyString(b)
	if len(l.strs) < cap(l.strs) {
		l.strs = append(l.strs, s)
	} else {
		l.strs[l.strNext%len(l.strs)] = s
		l.strNext++
	}
	return s
}

// newLeg opens the leg of d's Call-ID, whose hash is h.
func (c *Correlator) newLeg(d *decode.Message, h uint64) *Leg {
	// The Call-ID, From, To and display names share one allocation: they
	// live exactly as long as the leg.
	var sb strings.Builder
	sb.Grow(len(d.CallID) + len(d.From.URI) + len(d.To.URI) + len(d.From.Display) + len(d.To.Display))
	sb.Write(d.CallID)
	sb.Write(d.From.URI)
	sb.Write(d.To.URI)
	sb.Write(d.From.Display)
	sb.Write(d.To.Display)
	all := sb.String()
	id, all := all[:len(d.CallID)], all[len(d.CallID):]
	from, all := all[:len(d.From.URI)], all[len(d.From.URI):]
	to, all := all[:len(d.To.URI)], all[len(d.To.URI):]
	display, toDisplay := all[:len(d.From.Display)], all[len(d.From.Display):]
	var leg *Leg
	if n := len(c.freeLegs); n > 0 {
		leg = c.freeLegs[n-1]
		c.freeLegs[n-1] = nil
		c.freeLegs = c.freeLegs[:n-1]
		mp, tp, bs := leg.msgPool[:0], leg.txPool[:0], leg.bytes[:0]
		*leg = Leg{CallID: id, first: d.Time, From: from, To: to, FromDisplay: display, ToDisplay: toDisplay, msgPool: mp, txPool: tp, bytes: bs}
	} else {
		leg = &Leg{CallID: id, first: d.Time, From: from, To: to, FromDisplay: display, ToDisplay: toDisplay}
	}
	method := d.CSeqMethod
	if d.IsRequest() {
		method = d.Method
	}
	leg.Kind = KindOf(string(method), d.To.Tag != nil)
	leg.Messages, leg.Transactions, leg.Dialogs, leg.strs = leg.msgBuf[:0], leg.txBuf[:0], leg.dlgBuf[:0], leg.strBuf[:0]
	leg.txKeys = leg.txKeyBuf[:0]
	leg.stash = leg.stashBuf[:0]
	c.seq++
	g := &leg.ownGroup
	g.legBuf[0] = leg
	g.legs, g.seq, g.open = g.legBuf[:1:1], c.seq, 1
	leg.group = g
	c.order = append(c.order, orderEntry{g, g.seq})
	leg.idHash = h
	c.legs.add(h, leg)
	if c.legs.len() > c.Stats.PeakOpen {
		c.Stats.PeakOpen = c.legs.len()
	}
	if c.legs.len() > c.opts.MaxOpen && c.opts.MaxOpen > 0 {
		c.evict()
	}
	// Most captures have no link header naming an unseen Call-ID: an empty
	// map is not worth hashing every new Call-ID for.
	if len(c.pending) > 0 {
		if waiting := c.pending[id]; waiting != nil {
			delete(c.pending, id)
			for _, other := range waiting {
				c.merge(other, leg)
			}
		}
	}
	return leg
}

// KindOf is the kind of exchange a Call-ID whose first message has this
// method (CSeq method, for a response) belongs to; inDialog tells that the
// message's To carries a tag. The methods that exist only within an INVITE
// dialog (ACK, BYE, CANCEL, PRACK, UPDATE, INFO) and REFER in a dialog (a
// transfer) make a call: a capture that starts mid-call shows the call
// (RFC 3261 §12.2, RFC 3262, RFC 3311, RFC 6086, RFC 3515).
func KindOf(method string, inDialog bool) Kind {
	switch method {
	case "INVITE", "ACK", "BYE", "CANCEL", "PRACK", "UPDATE", "INFO":
		return KindCall
	case "REFER":
		if inDialog {
			return KindCall
		}
	case "REGISTER":
		return KindRegistration
	case "SUBSCRIBE", "NOTIFY", "PUBLISH":
		return KindSubscription
	case "OPTIONS":
		return KindOptions
	case "MESSAGE":
		return KindMessage
	}
	return KindOther
}

// link records that leg names Call-ID id in a correlation header.
func (c *Correlator) link(leg *Leg, id string) {
	if id == "" || id == leg.CallID {
		return
	}
	for _, l := range leg.Links {
		if l == id {
			return
		}
	}
	if len(leg.Links) >= 16 {
		return // a hostile message cannot make a leg link to everything
	}
	leg.Links = append(leg.Links, id)
	if other := findLeg(&c.legs, c.tombs.hashString(id), id); other != nil {
		c.merge(leg, other)
		return
	}
	if len(c.pending[id]) < 16 {
		c.pending[id] = append(c.pending[id], leg)
	}
}

// merge puts the groups of a and b together (transitively: union-find).
func (c *Correlator) merge(a, b *Leg) {
	ga, gb := a.group.root(), b.group.root()
	if ga == gb || ga.finished || gb.finished {
		return
	}
	if gb.seq < ga.seq {
		ga, gb = gb, ga
	}
	// ga's legs point to it already: only gb's move, so a call whose legs
	// link one by one into a chain of thousands takes time linear in them.
	for _, l := range gb.legs {
		l.group = ga
	}
	ga.legs = append(ga.legs, gb.legs...)
	ga.open += gb.open
	gb.merged = ga
	gb.legs = nil
	gb.finished = true // gone from the order queue
}

// place adds m to its transaction and dialog, marking retransmissions.
// via is the decoded top Via (branch and sent-by as views), so that a
// message of a known transaction costs no string allocation for them. It
// reports whether m was a copy of a message just placed (copyOf), and
// left out.
func (c *Correlator) place(leg *Leg, m *Message, branch, sentBy []byte) bool {
	leg.Messages = append(leg.Messages, m)
	var copied bool
	if m.IsRequest() {
		copied = c.placeRequest(leg, m, branch, sentBy)
	} else {
		copied = c.placeResponse(leg, m, branch, sentBy)
	}
	if copied {
		leg.Messages = leg.Messages[:len(leg.Messages)-1]
		return true
	}
	// A subscription in force waits for its refreshes (requeue); one
	// refused, ended or never made (a PUBLISH, an unsolicited NOTIFY) is
	// done once nothing is pending. Only INVITEs open dialogs, so a
	// subscription leg has none; one whose Call-ID INVITEs is a call now.
	leg.active, leg.expiresIn = false, -1
	if leg.Kind == KindSubscription {
		s := leg.subscription()
		leg.active = s.active
		if s.active && !s.until.IsZero() {
			leg.expiresIn = min(max(s.until.Sub(m.Time), 0), MaxSubscriptionWait)
		}
	}
	leg.terminal = leg.pending <= 0 && leg.openDialogs <= 0 && !leg.active
	return false
}

// CopyWindow is how close in time two copies of one message on one hop
// are when the capture, not the sender, made the second
// (Stats.Duplicates): tcpdump -i any records a packet crossing a bridge on
// each of its interfaces, a mirror port can send a packet on both its
// directions, and captures from two points merged into one repeat every
// message, microseconds to a few milliseconds apart. A SIP retransmission
// comes T1 (500 ms, RFC 3261 §17.1.1.1) or, on networks that lower it,
// some tens of milliseconds after the message it repeats.
const CopyWindow = 10 * time.Millisecond

// copyOf reports whether m, a request of a transaction already seen or a
// response that repeats one of its transaction's, is a copy the capture
// made (CopyWindow) of one of the last messages placed: same hop, method
// or status, CSeq, tags and length, and the same IPv4 Identification
// unless one of the two has none (a HEP agent's copy, or a sender that
// leaves it 0). A UAS that
// gets an INVITE and its retransmission at once sends its 100 twice, a
// fraction of a millisecond apart: two packets, two IDs. A copy is left
// out of the call, so that it counts as neither a message nor a
// retransmission, and no check takes it for one. (The caller has matched
// the transaction, Via branch included. A request may match one on
// another hop: an element that forwards without a Via of its own, a NAT.)
func (leg *Leg) copyOf(m *Message) bool {
	ms := leg.Messages[:len(leg.Messages)-1] // m is the last
	for i := len(ms) - 1; i >= 0 && i >= len(ms)-maxCopyBack; i-- {
		x := ms[i]
		if x.Src == m.Src && x.Dst == m.Dst && x.Method == m.Method && x.Status == m.Status &&
			x.CSeq == m.CSeq && x.CSeqMethod == m.CSeqMethod && x.FromTag == m.FromTag && x.ToTag == m.ToTag &&
			x.size == m.size && (x.ipID == m.ipID || x.ipID == 0 || m.ipID == 0) && x.Time.Sub(m.Time).Abs() <= CopyWindow {
			return true
		}
	}
	return false
}

// isCopy is copyOf unless Options.KeepCopies.
func (c *Correlator) isCopy(leg *Leg, m *Message) bool {
	return !c.opts.KeepCopies && leg.copyOf(m)
}

// maxCopyBack is how many of a leg's latest messages copyOf looks through.
const maxCopyBack = 16

func sameHop(a, b *Message) bool { return a != nil && a.Src == b.Src && a.Dst == b.Dst }

// relayedAgain reports whether m, a request (or the ACK to a non-2xx
// response) of tx seen on another hop than tx's first sighting, repeats
// one of the same method already seen on m's hop: a retransmission that a
// NAT or a proxy that keeps the Via relayed between two capture points.
// The first on each hop is remembered, and is no retransmission. Requests
// counts the first hop's transmissions only: the checks that read it
// (unanswered-invite, no-bye-response) see the sender's.
func (tx *Transaction) relayedAgain(m *Message) bool {
	for _, r := range tx.relays {
		if sameHop(r, m) && r.Method == m.Method {
			return true
		}
	}
	tx.relays = append(tx.relays, m)
	return false
}

// maxTxSearch bounds how far back findTx scans for a message's
// transaction; past it, a long leg's transactions are found by a map
// (olderTx), and only one still alive is taken. Within it, as before, any
// is: a restarted device's branch seen again within 256 transactions is
// still taken for a repeat.
const maxTxSearch = 256

// findTx looks for the transaction a message belongs to (RFC 3261 §17.1.3,
// §17.2.3): same top Via branch and sent-by, and same CSeq method (keyMethod:
// the ACK to a non-2xx response looks for its INVITE). The CSeq number must
// match too, although the RFC does not need it: real phones reuse a branch
// for the retry of a challenged REGISTER, and only the CSeq tells them apart.
// Without the magic cookie (RFC 2543 peers) the From-tag must match as well.
// m is the message (its CSeq number, From-tag and time).
func (leg *Leg) findTx(keyMethod string, m *Message, branch, sentBy []byte) *Transaction {
	cookie := hasMagicCookie(branch)
	txs := leg.Transactions
	for i := len(txs) - 1; i >= 0 && i >= len(txs)-maxTxSearch; i-- {
		tx := txs[i]
		if tx.keyMethod == keyMethod && tx.CSeq == m.CSeq && tx.Branch == string(branch) && tx.sentBy == string(sentBy) &&
			(cookie || tx.fromTag == m.FromTag) {
			return tx
		}
	}
	if len(txs) > maxTxSearch {
		k := txKey{keyMethod, m.CSeq, string(branch), string(sentBy), ""}
		if !cookie {
			k.fromTag = m.FromTag
		}
		if tx := leg.olderTx(k); tx != nil && tx.alive(m.Time) {
			return tx
		}
	}
	return nil
}

// alive reports whether a message at t can still belong to tx, found past
// findTx's window. One without its final response yet waits for it however
// long: a call rings through hundreds of PRACKs or keys, a clock jumps. One
// with its final response takes messages for 64·T1 after its last (the
// longest its retransmissions go on, RFC 3261 §17): a device that counts
// its branches from 1 again after a restart makes new transactions, not
// repeats of ones long ended.
func (tx *Transaction) alive(t time.Time) bool {
	if tx.Final == nil {
		return true
	}
	var last time.Time
	for _, ms := range [...][]*Message{tx.Requests, tx.Responses} {
		if len(ms) > 0 && ms[len(ms)-1].Time.After(last) {
			last = ms[len(ms)-1].Time
		}
	}
	if tx.ACK != nil && tx.ACK.Time.After(last) {
		last = tx.ACK.Time
	}
	return t.Sub(last) <= timerB
}

func hasMagicCookie(branch []byte) bool { return len(branch) >= 7 && string(branch[:7]) == "z9hG4bK" }

// newTx opens a transaction of leg; ts keys it for the leg's tombstone.
func (leg *Leg) newTx(ts *tombstones, method, keyMethod string, m *Message, branch, sentBy []byte) *Transaction {
	tx := leg.newTransaction()
	*tx = Transaction{Method: method, CSeq: m.CSeq, Branch: leg.copyString(branch), keyMethod: keyMethod,
		sentBy: leg.intern(sentBy), fromTag: m.FromTag, Initial: m.ToTag == ""}
	tx.Requests = tx.reqBuf[:0]
	tx.Responses = tx.respBuf[:0]
	leg.Transactions = append(leg.Transactions, tx)
	// Its key for the tombstone, now, while what it hashes is in cache:
	// the leg finishes seconds later.
	leg.txKeys = append(leg.txKeys, ts.txKey(tx.Branch, tx.sentBy, tx.keyMethod, tx.fromTag, tx.CSeq))
	return tx
}

// placeRequest places request m; it reports whether m was a copy
// (copyOf) and not placed.
func (c *Correlator) placeRequest(leg *Leg, m *Message, branch, sentBy []byte) bool {
	if m.Method == "ACK" {
		tx := leg.findTx("INVITE", m, branch, sentBy)
		if tx != nil && tx.Final != nil && tx.Final.Status >= 300 {
			// ACK to a non-2xx final response: part of the INVITE transaction (§17.1.1.3).
			switch {
			case tx.ACK == nil:
				tx.ACK = m
			case c.isCopy(leg, m):
				return true
			case sameHop(tx.ACK, m), tx.relayedAgain(m):
				m.Retransmission = true
			}
			return false
		}
		// ACK to a 2xx: a transaction of its own (§13.2.2.4).
		if tx = leg.findTx("ACK", m, branch, sentBy); tx != nil {
			if c.isCopy(leg, m) {
				return true
			}
			if sameHop(tx.Request, m) {
				m.Retransmission = true
				tx.Requests = append(tx.Requests, m)
			} else if tx.relayedAgain(m) {
				m.Retransmission = true
			}
			return false
		}
		tx = leg.newTx(&c.tombs, "ACK", "ACK", m, branch, sentBy)
		tx.Request, tx.Requests = m, append(tx.Requests, m)
		c.dialogRequest(leg, m)
		return false
	}
	if tx := leg.findTx(m.Method, m, branch, sentBy); tx != nil {
		if tx.Request == nil {
			// The response was seen first (a few milliseconds of disorder
			// between capture queues): the request, not the response's To-tag,
			// says whether the transaction is out of dialog.
			tx.Request = m
			tx.Initial = m.ToTag == ""
			tx.Requests = append(tx.Requests, m)
			leg.txChanged(tx)
			if m.Method == "INVITE" && tx.Initial && m.ext != nil && m.ext.replaces != nil {
				// What placing it first would have done, and then what its
				// final response, placed already, would have.
				c.noteReplaces(leg, m)
				if tx.Final != nil {
					c.replacementAnswered(leg, tx, tx.Final)
				}
			}
		} else if c.isCopy(leg, m) {
			return true
		} else if sameHop(tx.Request, m) {
			m.Retransmission = true
			tx.Requests = append(tx.Requests, m)
		} else if tx.relayedAgain(m) {
			m.Retransmission = true
		}
		return false
	}
	tx := leg.newTx(&c.tombs, m.Method, m.Method, m, branch, sentBy)
	tx.Request, tx.Requests = m, append(tx.Requests, m)
	leg.pending++
	if m.Method == "CANCEL" {
		if inv := leg.findTx("INVITE", m, branch, sentBy); inv != nil {
			inv.Cancel = tx
		}
	}
	c.dialogRequest(leg, m)
	if m.Method == "INVITE" {
		if leg.Kind != KindCall {
			// The Call-ID of a registration (or OPTIONS, MESSAGE, ...) used
			// again for a call: the call is what the user looks for.
			leg.Kind = KindCall
		}
		if !tx.Initial && !m.hasSDP {
			leg.reoffered = true // a late offer in the dialog: its 2xx offers, its ACK answers (keepLeanSDP)
		}
		if tx.Initial && m.ext != nil && m.ext.replaces != nil {
			c.noteReplaces(leg, m)
		}
	}
	return false
}

// placeResponse places response m; it reports whether m was a copy
// (copyOf) and not placed.
func (c *Correlator) placeResponse(leg *Leg, m *Message, branch, sentBy []byte) bool {
	tx := leg.findTx(m.CSeqMethod, m, branch, sentBy)
	if tx == nil {
		// The request was not captured (or was on a hop we do not see).
		tx = leg.newTx(&c.tombs, m.CSeqMethod, m.CSeqMethod, m, branch, sentBy)
		tx.Initial = m.ToTag == "" || m.CSeqMethod == "REGISTER"
		leg.pending++
	}
	rs := tx.Responses
	if len(rs) >= indexFrom {
		rs = leg.responses(tx, m)
	}
	for _, r := range rs {
		if r.Status == m.Status && r.ToTag == m.ToTag && r.size == m.size && sameHop(r, m) && r.rseqOf() == m.rseqOf() {
			m.Retransmission = true
			break
		}
	}
	if m.Retransmission && c.isCopy(leg, m) {
		return true
	}
	tx.Responses = append(tx.Responses, m)
	if m.Status >= 200 && tx.Final == nil {
		tx.Final = m
		leg.txChanged(tx)
		leg.pending--
		if tx.Method == "BYE" {
			c.byeAnswered(leg, m)
		} else if leg.repl != nil && tx.Method == "INVITE" {
			c.replacementAnswered(leg, tx, m)
		}
	}
	c.dialogResponse(leg, tx, m)
	return false
}

// dialogCreating reports whether a request method creates a dialog.
func dialogCreating(method string) bool {
	return method == "INVITE" || method == "SUBSCRIBE" || method == "REFER" || method == "NOTIFY"
}

func (leg *Leg) findDialog(a, b string) *Dialog {
	if leg.long != nil && leg.long.dialogs != nil {
		return leg.long.dialogs[tagPair(a, b)]
	}
	for _, d := range leg.Dialogs {
		if sameTags(d.LocalTag, d.RemoteTag, a, b) {
			return d
		}
	}
	return nil
}

// addDialog appends d, new, to the leg's dialogs. Past manyDialogs (an
// INVITE forked to hundreds, or a capture made to be slow) they are found
// by their tags in a map, not by a scan of them all for every message.
func (leg *Leg) addDialog(d *Dialog) {
	leg.Dialogs = append(leg.Dialogs, d)
	if len(leg.Dialogs) <= manyDialogs {
		return
	}
	ll := leg.lookups()
	if ll.dialogs == nil {
		ll.dialogs = make(map[[2]string]*Dialog, 2*len(leg.Dialogs))
		for _, d := range leg.Dialogs[:len(leg.Dialogs)-1] {
			ll.dialogs[tagPair(d.LocalTag, d.RemoteTag)] = d
		}
	}
	ll.dialogs[tagPair(d.LocalTag, d.RemoteTag)] = d
}

// manyDialogs is the number of dialogs past which a leg finds them in a
// map (addDialog).
const manyDialogs = 16

// tagPair is a dialog's two tags in an order that does not depend on
// which end is which (sameTags).
func tagPair(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// sameTags reports whether the tag pairs (a1, b1) and (a2, b2) name one
// dialog: the same two tags, whichever end is which.
func sameTags(a1, b1, a2, b2 string) bool {
	return a1 == a2 && b1 == b2 || a1 == b2 && b1 == a2
}

func (c *Correlator) dialogResponse(leg *Leg, tx *Transaction, m *Message) {
	if m.ToTag == "" || m.Status < 101 || m.Status >= 300 || !dialogCreating(tx.Method) || (tx.Request != nil && !tx.Initial) {
		return
	}
	d := leg.findDialog(m.FromTag, m.ToTag)
	if d == nil {
		d = leg.newDialog()
		*d = Dialog{CallID: leg.CallID, LocalTag: m.FromTag, RemoteTag: m.ToTag, First: m, Early: true}
		leg.addDialog(d)
	}
	if m.Status >= 200 && !d.Confirmed {
		d.Confirmed, d.Early, d.ok = true, false, m
		if tx.Method == "INVITE" && !d.Ended {
			d.open = true
			leg.openDialogs++
		}
	}
}

func (c *Correlator) dialogRequest(leg *Leg, m *Message) {
	if m.ToTag == "" {
		return
	}
	d := leg.findDialog(m.FromTag, m.ToTag)
	if d == nil {
		// An in-dialog request whose dialog we did not see created.
		d = leg.newDialog()
		*d = Dialog{CallID: leg.CallID, LocalTag: m.FromTag, RemoteTag: m.ToTag, First: m, Confirmed: true}
		leg.addDialog(d)
		if leg.Kind == KindCall && m.Method != "BYE" {
			d.open = true
			leg.openDialogs++
		}
	}
	d.heard = true
	if m.Method == "BYE" && !d.Ended {
		d.Ended, d.bye = true, m
	}
}

// byeAnswered closes the dialog a BYE ended, once the BYE has its answer.
func (c *Correlator) byeAnswered(leg *Leg, m *Message) {
	d := leg.findDialog(m.FromTag, m.ToTag)
	if d != nil && d.open {
		d.open = false
		leg.openDialogs--
	}
}

// requeue moves leg to the back of the list its state belongs to.
//
// A call whose requests all went unanswered, no response at all, and were
// retransmitted (so the sender got nothing either: a capture that misses
// the responses shows no retransmission), with no dialog open, waits on a
// list of its own: its transactions time out 64·T1 after they started
// (timers B and F, RFC 3261 §17.1), so once its last message is
// Options.Tombstone (64·T1) old both ends have given up, and it is
// finished then rather than after the idle timeout: an INVITE nobody
// answers. An answered call, a dialog up that no BYE has ended, talks
// without SIP for as long as it lasts, and a subscription in force waits
// for its refreshes: both wait for Options.CallTimeout. A subscription
// whose expiry is known (its SUBSCRIBE's 2xx, a NOTIFY) waits instead
// until it expires, up to MaxSubscriptionWait away, and then as long as
// anything quiet does, Options.IdleTimeout (a refresh sent late, or the
// NOTIFY that ends it from a notifier that sweeps expired subscriptions
// every minute or two), however much shorter or longer than the call
// timeout that is: on a list of its own, ordered by that deadline.
// Anything else that
// is not terminal (a call ringing, a dialog no answered
// BYE closed, a REGISTER that a client retries with the same Call-ID every
// so often) can go quiet for much longer, and waits for the idle timeout.
func (c *Correlator) requeue(l *Leg) {
	want := &c.open
	switch {
	case l.terminal:
		want = c.lingering(l)
	case l.Kind == KindCall && l.openDialogs == 0 && l.unanswered():
		want = &c.waiting
	case l.active && l.expiresIn >= 0:
		if l.list != nil {
			l.list.remove(l)
		}
		l.deadline = l.seen.Add(l.expiresIn).Add(c.opts.IdleTimeout) // saturates: the replay's is "forever"
		c.expiring.insertByDeadline(l)
		return
	case l.openDialogs > 0 && l.Kind == KindCall && l.talking(), l.active:
		want = &c.up
	}
	if l.list != nil {
		l.list.remove(l)
	}
	want.pushBack(l)
}

// MaxSubscriptionWait bounds how long a subscription in force waits for
// its refresh when its expiry is known (requeue): RFC 6665 sets no upper
// limit on Expires, and a day is the longest servers grant in practice.
// A longer one is finished a day (and the idle timeout) after its last
// message, as subscribed.
const MaxSubscriptionWait = 24 * time.Hour

// lingering is the list terminal leg l waits on: challenge when its last
// answer was a challenge, done for an INVITE call, doneNon for the others.
func (c *Correlator) lingering(l *Leg) *legList {
	switch {
	case l.challenged():
		return &c.challenge
	case l.Kind == KindCall:
		return &c.done
	}
	return &c.doneNon
}

// challenged reports whether l's last transaction was answered with a
// 401 or 407 challenge: its retry with credentials can come a minute later
// (Options.Challenge).
func (l *Leg) challenged() bool {
	n := len(l.Transactions)
	if n == 0 || l.Transactions[n-1].Final == nil {
		return false
	}
	s := l.Transactions[n-1].Final.Status
	return s == 401 || s == 407
}

// talking reports whether one of l's dialogs is up: confirmed by a 2xx to
// its INVITE, heard from since (its ACK, say), not yet ended by a BYE, and
// not a fork's dialog left behind when the call ended (abandoned). A
// dialog in which the capture saw no request is not on the capture's
// path, as at a proxy that does not Record-Route (RFC 3261 §16.6): its
// BYE will not be seen either, and it waits the idle timeout rather than
// hold its call for the call timeout.
func (l *Leg) talking() bool {
	for _, d := range l.Dialogs {
		if d.open && !d.Ended && d.heard && (len(l.Dialogs) == 1 || !l.abandoned(d)) {
			return true
		}
	}
	return false
}

// forkByeWithin is how soon after its 2xx a forked call's extra dialog is
// ended: the caller ACKs and BYEs it at once (RFC 3261 §13.2.2.4). A dialog
// BYE'd later than this was a conversation, and its BYE ended the call.
const forkByeWithin = 2 * time.Second

// abandoned reports whether d, a dialog still up, was left behind by a
// forked call: another dialog of the leg, confirmed and talked in, was
// ended by a BYE after d was confirmed. The caller should have ended d at
// once; the callee that answered it may still think the call is up.
func (l *Leg) abandoned(d *Dialog) bool {
	if d.ok == nil {
		return false
	}
	for _, e := range l.Dialogs {
		if e != d && e.ok != nil && e.bye != nil && e.bye.Time.Sub(e.ok.Time) > forkByeWithin && e.bye.Time.After(d.ok.Time) {
			return true
		}
	}
	return false
}

// unanswered reports whether every transaction of l still pending was
// sent more than once and had no response at all (requeue).
func (l *Leg) unanswered() bool {
	for _, tx := range l.Transactions {
		if tx.Final == nil && tx.Method != "ACK" && (len(tx.Requests) < 2 || len(tx.Responses) > 0) {
			return false
		}
	}
	return true
}

// Advance moves packet time forward to t, finishing calls that have been
// quiet long enough. Call it for every packet, SIP or not, in capture
// order.
//
// Packet time is a ptime.Clock: a step forward of more than
// ptime.JumpLimit waits for the next packet to confirm it, so that one
// packet with a bad timestamp cannot finish every open call at once. The
// SIP messages of the held time wait with it (Add), and are added once it
// is settled: after what the step times out, when it is confirmed, as if
// it had been taken at once; at the time the clock stayed at, when it was
// a glitch.
func (c *Correlator) Advance(t time.Time) {
	// advance's body, not a call to it: this runs for every packet.
	if at := ptime.Of(t); !at.Before(c.nextCheck) || c.clock.Holding() {
		c.tick(at, 0)
	}
}

// advance is Advance for packet n (0: not known), so that another packet
// at a held step's time can confirm it.
func (c *Correlator) advance(t time.Time, n int) {
	if at := ptime.Of(t); !at.Before(c.nextCheck) || c.clock.Holding() {
		c.tick(at, n)
	}
}

// tick moves the clock to at, settling a held step first, and expires
// calls at most every advanceStep of it. Advance calls it only when at
// reaches the next expiry or the clock holds a step: a time less than
// advanceStep past the last expiry moves nothing that matters, so the
// clock may lag by as much.
func (c *Correlator) tick(at ptime.Instant, n int) {
	if c.clock.Settles(at, n) {
		c.settle(at)
	}
	c.clock.Step(at, n)
	if !c.clock.Now().Before(c.nextCheck) {
		c.expire()
	}
}

// confirm takes the held step as it stands (the capture ended, or too
// many messages wait for it) and adds its messages.
func (c *Correlator) confirm() {
	c.clock.Confirm()
	c.settle(c.clock.Now())
}

// settle decides the held step with the next packet's time, at, and adds
// the messages that waited for it. (With no step held, as after Confirm,
// it only expires what is due.)
func (c *Correlator) settle(at ptime.Instant) {
	if c.clock.Settle(at) {
		// Media of the held time touched these legs with its time.
		now := c.clock.Now()
		for _, l := range c.heldLegs {
			if !l.finished && now.Before(l.seen) {
				l.seen = now
				c.requeue(l)
			}
		}
	} else if !c.clock.Now().Before(c.nextCheck) {
		c.expire()
	}
	clear(c.heldLegs)
	c.heldLegs = c.heldLegs[:0]
	c.settling = true
	for i := range c.held {
		c.Add(&c.held[i])
	}
	c.settling = false
	clear(c.held)
	c.held = c.held[:0]
	c.heldArena.Reset()
}

// advanceTo advances packet time to d's, for Add, and reports whether d
// is held (hold) until the clock's held step is settled. Messages added
// while one is settled are not: the clock has moved for them already.
func (c *Correlator) advanceTo(d *decode.Message) bool {
	// Here rather than in Add, which the inliner would then no longer
	// give its callees' bodies. (A held message is seen again when it is
	// settled: seeing it twice changes nothing.)
	if !c.hostsGone && (c.hosts == nil || !c.hosts.has2(d.Src.Addr(), d.Dst.Addr())) {
		c.seeHosts(d.Src.Addr(), d.Dst.Addr()) // not the usual message, between the hosts seen so far
	}
	if c.settling {
		return false
	}
	c.advance(d.Time, d.N)
	if c.clock.Holding() {
		c.hold(d)
		return true
	}
	return false
}

// maxHeld bounds the messages that wait for a held step to be settled: a
// capture whose clock stuck at one time must not be held whole in memory.
// So many messages at one instant are taken to confirm it.
const maxHeld = 256

// hold keeps a copy of d, a message of the held time, until the step is
// settled.
func (c *Correlator) hold(d *decode.Message) {
	c.held = append(c.held, decode.Message{})
	d.CopyTo(&c.held[len(c.held)-1], &c.heldArena)
	if len(c.held) == maxHeld {
		c.confirm()
	}
}

// expire finishes the calls that have been quiet long enough by the clock.
func (c *Correlator) expire() {
	now := c.clock.Now()
	// Expiry runs at most every advanceStep of packet time: the timeouts are
	// seconds long, and a check per packet would cost more than the packet.
	c.nextCheck = now.Add(advanceStep)
	c.now = now.Time()
	for _, q := range [...]struct {
		list  *legList
		quiet time.Duration
	}{
		{&c.done, c.opts.Linger},
		{&c.doneNon, c.opts.Tombstone},
		{&c.challenge, c.opts.Challenge},
		{&c.open, c.opts.IdleTimeout},
		{&c.up, c.opts.CallTimeout},
		{&c.waiting, min(c.opts.Tombstone, c.opts.IdleTimeout)},
	} {
		cutoff := now.Add(-q.quiet)
		for l := q.list.head; l != nil && l.seen.Before(cutoff); l = q.list.head {
			c.finishLeg(l)
		}
	}
	for l := c.expiring.head; l != nil && !now.Before(l.deadline); l = c.expiring.head {
		c.finishLeg(l)
	}
	c.tombs.expire(c.now, c.opts.Tombstone)
}

// evict finishes one open leg to keep Options.MaxOpen: an INVITE call
// over and lingering only for late retransmissions, if any (it loses
// least: a late one still finds its tombstone), else the quietest of the
// rest (the head of each list; the subscriptions with a known expiry by
// their deadline), which Stats.Evicted counts: a leg waiting for a retry
// with credentials or a registration's refresh would see it come as a new
// call. A leg of a B2BUA group that is still open is held, finished,
// until the group is done.
func (c *Correlator) evict() {
	var victim *Leg
	oldest := func(lists ...*legList) {
		for _, q := range lists {
			if l := q.head; l != nil && (victim == nil || l.seen.Before(victim.seen)) {
				victim = l
			}
		}
	}
	if oldest(&c.done); victim == nil {
		oldest(&c.open, &c.waiting, &c.up, &c.expiring, &c.doneNon, &c.challenge)
		if victim == nil {
			return
		}
		c.Stats.Evicted++
	}
	c.finishLeg(victim)
}

// advanceStep is the granularity of packet-time expiry.
const advanceStep = 100 * time.Millisecond

// Flush finishes every call still open: the capture has ended. It
// finishes them in the order they started, and each leaves the queue
// OldestOpen reads before it is finished, so that emit may call OldestOpen
// during Flush too (and hand on each call as soon as every older one is
// out, rather than all at the end). The legs it finishes leave no
// tombstone: no retransmission can follow the end of the capture.
func (c *Correlator) Flush() {
	if c.clock.Holding() {
		c.confirm()
	}
	if end := c.clock.Now(); ptime.Of(c.now).Before(end) {
		c.now = end.Time()
	}
	c.ended = true
	defer func() { c.ended = false }()
	for len(c.order) > 0 {
		e := c.order[0]
		c.order[0] = orderEntry{}
		c.order = c.order[1:]
		g := e.g
		if e.done() || g.merged != nil {
			continue
		}
		for _, l := range g.legs {
			if !l.finished {
				c.finishLeg(l)
			}
		}
	}
	if c.opts.OnFlush != nil {
		c.opts.OnFlush(c)
	}
}

// OldestOpen returns the Seq of the oldest call not yet finished, or -1
// when none is open. A caller that wants calls in order of first message
// can hold finished calls until their Seq is below it.
func (c *Correlator) OldestOpen() int {
	for len(c.order) > 0 && c.order[0].done() {
		c.order[0] = orderEntry{}
		c.order = c.order[1:]
	}
	if len(c.order) == 0 {
		return -1
	}
	return c.order[0].seq
}

func (c *Correlator) finishLeg(l *Leg) {
	if l.list != nil {
		l.list.remove(l)
	}
	l.finished = true
	if len(l.stash) > 0 {
		c.settleSDP(l)
	}
	c.releaseMedia(l)
	c.legs.remove(l.idHash, l)
	if !c.ended {
		c.tombs.add(l.idHash, c.now, l.txKeys)
	}
	for _, id := range l.Links {
		if w := c.pending[id]; w != nil {
			kept := w[:0]
			for _, x := range w {
				if x != l {
					kept = append(kept, x)
				}
			}
			if len(kept) == 0 {
				delete(c.pending, id)
			} else {
				c.pending[id] = kept
			}
		}
	}
	g := l.group.root()
	g.open--
	if g.open > 0 {
		return
	}
	g.finished = true
	// What the call reports is computed from its legs and what the
	// correlator knew when it finished (packet time, whether the capture
	// holds RTP, capture loss): built now or later, the call is the same.
	call := c.newCall()
	call.Legs, call.Seq, call.CaptureEnd = g.legs, g.seq, c.now
	call.rtpSeen, call.udptlSeen, call.captureLoss, call.timedOut = c.Stats.RTPLike > 0, c.Stats.UDPTLLike > 0, c.captureLoss, !c.ended
	call.onlyHosts = c.hosts
	c.Stats.Calls++
	if !c.opts.DeferBuild {
		c.builder.Build(call)
		if call.mediaExpected {
			c.Stats.MediaExpected++
		}
	}
	c.emit(call)
}

// Builder computes what a finished call reports: its state, timings,
// events, streams, findings and flow. A Correlator builds its calls itself
// unless Options.DeferBuild leaves that to a Builder of the caller's, which
// may run in another goroutine than the correlator's: that work reads
// every message of a call some seconds after the last one came (the
// linger), and is most of correlation's time on a busy capture.
//
// One Builder belongs to one goroutine; Builders of one correlator may run
// side by side.
type Builder struct {
	media         bool
	flows         []*Flow
	matcher       matcher
	mediaExpected int
	sink          uintptr // what Prefetch loaded
}

// NewBuilder returns a Builder for the calls c emits.
func (c *Correlator) NewBuilder() *Builder {
	return &Builder{media: c.opts.Media, flows: c.opts.Flows}
}

// MediaExpected is how many of the calls b built are answered calls in
// which the caller and the answerer both sent SDP: what
// Stats.MediaExpected counts, except that a correlator with
// Options.DeferBuild cannot count the calls it did not build.
func (b *Builder) MediaExpected() int { return b.mediaExpected }

// Prefetch reads, for each of calls, the memory Build will read (its
// legs, messages and transactions), one word of every cache line, and
// does nothing with it. A call finishes seconds after its last message,
// when its memory has left the caches, and a build's loads mostly wait
// for one another (a message is found through its leg); these do not, so
// the processor has many of them in flight at once, and the builds that
// follow find the lines in cache (BenchmarkBuild: 14% less time on cold
// memory, 32 calls at a time). Hand it a few dozen calls about to be
// built: more than the cache holds would evict the first before their
// turn.
func (b *Builder) Prefetch(calls []*Call) {
	var x uintptr
	for _, call := range calls {
		for _, l := range call.Legs {
			x += touch(unsafe.Pointer(l), unsafe.Sizeof(*l))
			for _, m := range l.Messages {
				x += touch(unsafe.Pointer(m), unsafe.Sizeof(*m))
			}
			for _, tx := range l.Transactions {
				x += touch(unsafe.Pointer(tx), unsafe.Sizeof(*tx))
			}
		}
	}
	b.sink += x // so that the loads are not optimised away
}

// touch loads one word of each 64-byte step of the n bytes at p.
func touch(p unsafe.Pointer, n uintptr) uintptr {
	var x uintptr
	for off := uintptr(0); off < n; off += 64 {
		x += *(*uintptr)(unsafe.Add(p, off&^7))
	}
	return x
}

// Build computes the call a Correlator with Options.DeferBuild emitted,
// once (then the call is as one built by the correlator itself). The
// correlator no longer touches a call it has emitted, nor its legs, until
// they are handed back (Recycle, ReuseCall).
func (b *Builder) Build(call *Call) {
	b.build(call)
	if call.mediaExpected {
		b.mediaExpected++
	}
}

// build computes everything a finished call reports from its legs (set
// by finishLeg, with Seq, CaptureEnd and what the correlator knew then).
func (b *Builder) build(call *Call) {
	legs := call.Legs
	// The first leg is the one seen first.
	for i := 1; i < len(legs); i++ {
		for j := i; j > 0 && legs[j].first.Before(legs[j-1].first); j-- {
			legs[j], legs[j-1] = legs[j-1], legs[j]
		}
	}
	for i, l := range legs {
		for _, m := range l.Messages {
			m.Leg = i
		}
	}
	first := legs[0]
	call.ID, call.Kind = first.CallID, first.Kind
	call.From, call.To, call.FromDisplay, call.ToDisplay = first.From, first.To, first.FromDisplay, first.ToDisplay
	call.Start = first.Messages[0].Time
	call.Caller, call.Callee = first.Messages[0].Src, first.Messages[0].Dst
	if !first.Messages[0].IsRequest() {
		// Its request was not captured (or came later): the request's
		// sender is where the response went.
		call.Caller, call.Callee = call.Callee, call.Caller
	}
	for _, l := range legs {
		if t := l.Messages[0].Time; t.Before(call.Start) {
			call.Start = t
		}
		if l.last.After(call.End) {
			call.End = l.last
		}
	}
	for i, l := range legs {
		if i > 0 {
			call.LinkedIDs = append(call.LinkedIDs, l.CallID)
		}
		call.NumDialogs += len(l.Dialogs)
		for _, m := range l.Messages {
			if !m.Retransmission {
				call.NumMessages++
			}
		}
	}
	call.inviteMissed = call.Kind == KindCall && inviteMissed(first)
	computeState(call)
	computeEvents(call)
	if b.media {
		for _, l := range legs {
			if l.media != nil {
				call.Streams = append(call.Streams, l.media.streams...)
			}
		}
		sort.SliceStable(call.Streams, func(i, j int) bool { return call.Streams[i].FirstN < call.Streams[j].FirstN })
		if call.Streams == nil {
			call.Streams = []*media.Stream{} // analysed: none, as opposed to not analysed (nil)
		}
	}
	call.Findings = runChecks(call)
	if b.media {
		call.Findings = append(call.Findings, checkMedia(call, call.rtpSeen, call.captureLoss)...)
		if call.udptlSeen || call.rtpSeen {
			call.Findings = append(call.Findings, checkFax(call, call.captureLoss)...)
		}
	}
	for i := range call.Findings {
		call.Findings[i].CallID = call.ID // the media checks' as much as the others'
	}
	sortFindings(call.Findings)
	if !call.inviteMissed {
		// A call joined mid-way is no flow's beginning: a re-INVITE
		// would pass for a basic call's INVITE.
		matchFlows(call, b.flows, &b.matcher)
	}
}

// maxFreeLegs bounds the legs Recycle keeps for later calls: a few seconds
// of a busy capture's calls.
const maxFreeLegs = 4096

// Recycle hands the memory of an emitted call's legs (the Leg records and
// the last block of their messages and transactions) back to the
// correlator for the calls to come. On a long capture that is most of what
// correlation allocates, and what the garbage collector would otherwise
// have to find and free. call.Legs is nil afterwards; the call's other
// fields stay valid. Call it from the goroutine that calls Add (the emit
// function may call it for the call it was given), once, and only when
// nothing refers to the call's legs, messages, transactions or dialogs
// any more.
func (c *Correlator) Recycle(call *Call) {
	c.RecycleLegs(call.Legs)
	call.Legs = nil
}

// RecycleLegs is Recycle for legs another goroutine took from their call
// (setting its Legs to nil) once it was done with them: a Builder's, say.
func (c *Correlator) RecycleLegs(legs []*Leg) {
	for _, l := range legs {
		if len(c.freeLegs) == maxFreeLegs {
			break
		}
		c.freeLegs = append(c.freeLegs, l)
	}
}

// maxFreeCalls bounds the calls ReuseCall keeps: a few seconds of a busy
// capture's calls, as maxFreeLegs.
const maxFreeCalls = 4096

// ReuseCall hands an emitted call back to the correlator, which builds a
// later call in its memory rather than allocating one. A Call is the
// biggest thing correlation allocates per call (about 500 bytes): on a
// capture of many short calls whose summaries are written and forgotten,
// such as big-sip's, it was a third of all the memory allocated.
//
// Call it from the goroutine that calls Add, once per call, and only when
// nothing will use the *Call again: the caller that was handed it is done
// with it. What the call's fields refer to (strings, the Findings, Events
// and Streams slices, the legs) is not reused: a copy of a field stays
// valid.
func (c *Correlator) ReuseCall(call *Call) {
	if len(c.freeCalls) < maxFreeCalls {
		*call = Call{} // no references kept alive while it waits
		c.freeCalls = append(c.freeCalls, call)
	}
}

// newCall returns a Call handed back by ReuseCall, or a new one.
func (c *Correlator) newCall() *Call {
	n := len(c.freeCalls)
	if n == 0 {
		return new(Call)
	}
	call := c.freeCalls[n-1]
	c.freeCalls[n-1] = nil
	c.freeCalls = c.freeCalls[:n-1]
	return call
}

// legList is an intrusive doubly linked list of legs, ordered by last
// activity (pushBack), or by deadline (insertByDeadline).
type legList struct{ head, tail *Leg }

// insertByDeadline adds l to q after every leg whose deadline is not
// later than l's. It looks from the back: a refresh mostly sets the
// latest deadline of all.
func (q *legList) insertByDeadline(l *Leg) {
	at := q.tail
	for at != nil && l.deadline.Before(at.deadline) {
		at = at.prev
	}
	l.list, l.prev = q, at
	if at == nil {
		l.next, q.head = q.head, l
	} else {
		l.next, at.next = at.next, l
	}
	if l.next != nil {
		l.next.prev = l
	} else {
		q.tail = l
	}
}

func (q *legList) pushBack(l *Leg) {
	l.list, l.prev, l.next = q, q.tail, nil
	if q.tail != nil {
		q.tail.next = l
	} else {
		q.head = l
	}
	q.tail = l
}

func (q *legList) remove(l *Leg) {
	if l.prev != nil {
		l.prev.next = l.next
	} else {
		q.head = l.next
	}
	if l.next != nil {
		l.next.prev = l.prev
	} else {
		q.tail = l.prev
	}
	l.prev, l.next, l.list = nil, nil, nil
}
