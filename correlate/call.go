package correlate

import (
	"net/netip"
	"sort"
	"time"
	"unsafe"

	"github.com/sipflow/sipflow/internal/ptime"
	"github.com/sipflow/sipflow/media"
)

// Kind classifies what a Call-ID carries, by its first request.
type Kind string

// Kinds.
const (
	KindCall         Kind = "call"         // INVITE (or what only its dialogs carry: see KindOf)
	KindRegistration Kind = "registration" // REGISTER
	KindSubscription Kind = "subscription" // SUBSCRIBE, NOTIFY, PUBLISH
	KindOptions      Kind = "options"      // OPTIONS pings
	KindMessage      Kind = "message"      // MESSAGE (instant messages)
	KindOther        Kind = "other"        // any other out-of-dialog request
)

// State is where a call or registration ended up.
type State string

// States. Calls: answered, completed, cancelled, rejected, failed,
// unanswered, in-progress. Registrations: registered, unregistered,
// failed, unanswered.
// Subscriptions: subscribed, expired (StateSubscribed, StateExpired),
// completed, and the others'. Other kinds use completed (2xx), rejected,
// failed and unanswered.
const (
	StateAnswered   State = "answered"    // 2xx, and no BYE before the capture (or idle timeout) ended
	StateCompleted  State = "completed"   // ended by a BYE
	StateCancelled  State = "cancelled"   // CANCELled before an answer
	StateRejected   State = "rejected"    // final 4xx-6xx from the far end (busy, declined, not found, ...), or a 3xx not followed
	StateFailed     State = "failed"      // 408, 5xx, a challenge never answered, no answer to a retry
	StateUnanswered State = "unanswered"  // no final response at all, and the capture went on long enough to know
	StateInProgress State = "in-progress" // no final response yet when the capture ended
	StateRegistered State = "registered"
	// StateUnregistered: a registration whose last REGISTER answered 2xx
	// removed its bindings (Expires 0, or Contact: *).
	StateUnregistered State = "unregistered"
)

// Transaction is one SIP transaction (RFC 3261 §17): a request, its
// retransmissions, and its responses. The ACK to a non-2xx final response
// and a CANCEL are attached to the INVITE transaction they belong to; the
// ACK to a 2xx is a transaction of its own.
type Transaction struct {
	Method    string
	CSeq      uint32
	Branch    string
	Request   *Message   // first sighting of the request (nil when only responses were captured)
	Requests  []*Message // every sighting of the request: the first, then retransmissions
	Responses []*Message // every response, in order, retransmissions included
	Final     *Message   // first final response, nil if none
	ACK       *Message   // ACK to a non-2xx final response (INVITE only)
	Cancel    *Transaction
	Initial   bool // an out-of-dialog request (no To-tag)
	// unsettled: in its leg's subscriptionFold.open (folded while its part
	// could still change), so that txChanged looks there only for these.
	unsettled bool

	keyMethod string     // the method it is matched by: INVITE's ACK finds the INVITE
	relays    []*Message // the first sighting on each other hop of its request or ACK (relayedAgain)
	sentBy    string
	fromTag   string
	reqBuf    [1]*Message // Requests and Responses start in these, saving allocations
	respBuf   [3]*Message
}

// Dialog is Call-ID plus both tags (RFC 3261 §12), oriented by role:
// LocalTag is the tag of the side that sent the dialog-creating request.
type Dialog struct {
	CallID    string
	LocalTag  string
	RemoteTag string
	Early     bool // only provisional responses so far
	Confirmed bool // a 2xx created or confirmed it
	Ended     bool // a BYE was sent in it
	First     *Message

	open bool // counted in its leg's openDialogs
	// heard: an in-dialog request (the ACK, most often) was seen in it, so
	// the capture is on the dialog's path and will see its BYE (talking).
	heard bool
	ok    *Message // the 2xx that confirmed it (of an INVITE or other dialog-creating request)
	bye   *Message // the first BYE sent in it
}

// Event is something that happened in a call that is not a fault: hold,
// resume, transfer, a key pressed (DTMF sent by INFO). A hold or resume
// is the offer that asks for it (a re-INVITE or UPDATE; for a re-INVITE
// without SDP, the 2xx whose offer asks it, or the ACK whose answer
// does), measured against what the last accepted answer left: one refused
// (reinvite-failed) and asked again is two events; each party's hold is
// its own, and only that party takes it off (session.holdChange,
// session.lateAnswered); a B2BUA's copy on its other leg is no event of
// its own (session.echoed). Detail says who ("by the caller: ...").
type Event struct {
	N      int
	Time   time.Time
	Kind   string // hold, resume, t38, t38-end, transfer, transfer-result, replaces, replaced, dtmf
	Detail string
}

// Leg is the messages of one Call-ID. A call group (B2BUA legs linked by a
// correlation header) has several.
type Leg struct {
	// Every RTP packet of the leg reads these four: first in the struct
	// (within its first 56 bytes: the runtime's header comes before), they
	// share one cache line (TestLegHotLine).
	last     time.Time
	terminal bool // nothing pending: finished once it has been quiet for Options.Linger
	finished bool
	timer    bool // a 2xx set a session timer (Session-Expires): checkSessionExpired looks
	active   bool // a subscription leg whose subscription is in force (subscribed)
	reliable bool // a reliable provisional response came (checkMissingPRACK looks)
	// reoffered: a request of the leg made an offer in a dialog (a
	// re-INVITE or UPDATE with SDP), or asked for one (a re-INVITE
	// without: a late offer): only then may a 2xx answer one, or make
	// one (keepLeanSDP).
	reoffered bool
	media     *legMedia

	CallID       string
	Kind         Kind
	Messages     []*Message
	Transactions []*Transaction
	Dialogs      []*Dialog
	Links        []string // Call-IDs this leg names in its correlation headers
	From, To     string   // URIs of the first message's From and To
	FromDisplay  string   // their display names, without quotes ("" when absent)
	ToDisplay    string

	strs     []string // recent strings, for intern
	strNext  int
	msgBuf   [8]*Message // the first messages, transactions and dialogs live here: no allocation
	txBuf    [4]*Transaction
	dlgBuf   [2]*Dialog
	dlgStore [1]Dialog // the first dialog (most legs have one)
	strBuf   [8]string
	first    time.Time
	seen     ptime.Instant // the clock when the leg last saw activity: what expiry goes by
	// A subscription in force whose expiry is known (active): how long
	// after the leg's last message it expires (0 when it already has, -1
	// when no message said), and the clock's time at which it is finished
	// unless refreshed (requeue).
	expiresIn   time.Duration
	deadline    ptime.Instant
	idHash      uint64    // the Call-ID's hash, for the tombstone (tombstones.hash)
	txKeys      []uint64  // txKey of each of Transactions, for the tombstone
	txKeyBuf    [4]uint64 // where txKeys starts
	pending     int       // transactions still waiting for a final response
	openDialogs int       // confirmed INVITE dialogs not yet closed by an answered BYE
	group       *group
	ownGroup    group         // the group the leg starts in (group points here until merged)
	msgPool     []Message     // where new messages are allocated, several at a time
	txPool      []Transaction // likewise transactions
	stash       []stashedSDP  // SDP seen before the capture showed media (sdpSeen)
	stashBuf    [2]stashedSDP // stash starts here: offer and answer
	bytes       []byte        // what copyBytes hands out: reused when the leg is recycled
	prev, next  *Leg          // in the correlator's open or terminal list
	list        *legList
	// offers are the SDP offers seen, waiting for their answers, and
	// oaFound what was wrong with those (offerAnswer).
	offers   []sdpOffer
	offerBuf [1]sdpOffer
	oaFound  []Finding
	long     *longLeg     // what a long leg, or a subscription, keeps (nil for most)
	repl     *legReplaces // a Replaces it sent, or one that named it (nil for most)
}

// Call is the unit sipflow reports: one Call-ID, or a group of B2BUA legs
// linked by correlation headers. Its fields are computed when it finishes.
type Call struct {
	ID          string // Call-ID of the first leg
	Kind        Kind
	Legs        []*Leg // the first is the one the call is named after
	Start       time.Time
	End         time.Time
	From        string // URI of the first request's From
	To          string // URI of the first request's To
	FromDisplay string // display names of the first request's From and To, without quotes
	ToDisplay   string

	State       State
	FinalStatus int    // final response to the initial request (0 if none)
	EndedBy     string // caller, callee, or "" (for a BYE or CANCEL)
	Reason      string // Reason header of the BYE/CANCEL/final response, or its reason phrase

	PDD      time.Duration // INVITE to first 180/183; -1 if none
	Answer   time.Duration // INVITE to 2xx; -1 if none
	Duration time.Duration // 2xx to BYE; -1 if none

	NumMessages int      // messages over all legs, retransmissions excluded
	NumDialogs  int      // dialogs over all legs
	LinkedIDs   []string // Call-IDs of the legs after the first

	Caller, Callee netip.AddrPort // first message's source and destination
	CaptureEnd     time.Time      // packet time when the call was finished

	Findings []Finding
	Events   []Event
	// Streams are the RTP streams tied to the call by its SDP, in order of
	// first packet; nil unless media analysis is on (Options.Media).
	Streams   []*media.Stream
	Flow      string // name of the expected flow it matched, "" if none
	Deviation string // where it left the closest flow, when Flow is ""

	Seq int // order in which calls were first seen

	mediaExpected bool   // answered, and both parties sent SDP
	rtpSeen       bool   // the capture had shown RTP or RTCP when the call finished
	udptlSeen     bool   // ... or a datagram that parsed as UDPTL (T.38 fax)
	captureLoss   string // Correlator.NoteCaptureLoss's when the call finished
	inviteMissed  bool   // a call (KindCall) whose first leg's INVITE was not captured
	timedOut      bool   // finished by a timeout or linger while the capture went on, not by its end (Flush)

	// onlyHosts is what every packet read until the call finished was
	// sent from or to, if anything (Correlator.seeHosts).
	onlyHosts *onlyHosts
}

// Messages returns every message of every leg in capture order.
func (c *Call) Messages() []*Message {
	if len(c.Legs) == 1 {
		return c.Legs[0].Messages
	}
	var all []*Message
	for _, l := range c.Legs {
		all = append(all, l.Messages...)
	}
	sortMessages(all)
	return all
}

// HasFinding reports whether the call has a finding with the given rule.
func (c *Call) HasFinding(rule string) bool {
	for _, f := range c.Findings {
		if f.Rule == rule {
			return true
		}
	}
	return false
}

// Worst is the highest severity among the findings, or -1.
func (c *Call) Worst() Severity {
	w := Severity(-1)
	for _, f := range c.Findings {
		if f.Severity > w {
			w = f.Severity
		}
	}
	return w
}

// sortMessages orders messages by packet number, keeping the order of
// messages from one packet (several SIP messages in one TCP segment).
func sortMessages(ms []*Message) {
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].N < ms[j].N })
}

// newMessage returns a zero Message from the leg's pool: messages are
// allocated a few at a time, since they live exactly as long as the leg; a
// call's first pool holds a basic call's seven (INVITE, 100, 180, 200, ACK,
// BYE, 200), its transactions' the three (INVITE, ACK, BYE): more would be
// memory lingering calls hold for nothing.
func (l *Leg) newMessage() *Message {
	if len(l.msgPool) == cap(l.msgPool) {
		l.msgPool = make([]Message, 0, poolSize(l.Kind, cap(l.msgPool), 7))
	}
	l.msgPool = l.msgPool[:len(l.msgPool)+1]
	return &l.msgPool[len(l.msgPool)-1]
}

// legBytesBlock is how much memory copyBytes takes at a time: a basic
// call's tags, URIs, three branches, and its offer and answer.
const legBytesBlock = 512

// copyBytes returns a copy of b in memory the leg owns and that Recycle
// hands to a later call: only what no one reads once the leg is recycled
// (its messages' interned strings, its transactions' branches, SDP bodies
// waiting for media) may go there; anything that can reach a Call's
// fields (the Reason, say) must not.
func (l *Leg) copyBytes(b []byte) []byte {
	if cap(l.bytes)-len(l.bytes) < len(b) {
		l.bytes = make([]byte, 0, max(legBytesBlock, len(b))) // earlier copies keep the old block
	}
	n := len(l.bytes)
	l.bytes = append(l.bytes, b...)
	return l.bytes[n:len(l.bytes):len(l.bytes)]
}

// copyString is copyBytes for a string.
func (l *Leg) copyString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	c := l.copyBytes(b)
	return unsafe.String(&c[0], len(c))
}

// newDialog returns a zero Dialog: the leg's first from the leg itself.
func (l *Leg) newDialog() *Dialog {
	if len(l.Dialogs) < len(l.dlgStore) {
		return &l.dlgStore[len(l.Dialogs)]
	}
	return new(Dialog)
}

// newTransaction is newMessage for transactions.
func (l *Leg) newTransaction() *Transaction {
	if len(l.txPool) == cap(l.txPool) {
		l.txPool = make([]Transaction, 0, poolSize(l.Kind, cap(l.txPool), 3))
	}
	l.txPool = l.txPool[:len(l.txPool)+1]
	return &l.txPool[len(l.txPool)-1]
}

// poolSize is the size of a leg's next pool: first what a call usually
// needs (other kinds, registrations and pings, need two), then twice the
// last, up to 64.
func poolSize(k Kind, last, call int) int {
	switch {
	case last > 0:
		return min(2*last, 64)
	case k == KindCall:
		return call
	}
	return 2
}
