package correlate

import "net/netip"

// legIndex finds a long leg's messages by what the checks and the events
// look them up by, so that asking for each message's request, ACK or
// other hops costs time linear in the leg's length, not quadratic: a call
// re-INVITEd, refreshed or sent keys thousands of times, or a capture
// made to be slow. A short leg is scanned (index returns nil): most calls
// have a dozen messages, and an index would cost them more than it saves.
//
// It is built when first asked for and brought up to date with the
// messages and transactions added since. Every message it takes is
// placed, its Retransmission final: it is asked for before a message is
// placed (convert) or after (Add, Build). The lists keep the leg's order.
type legIndex struct {
	n, tn int // how many of l.Messages and l.Transactions it holds
	// requests: each request's first sighting that is no retransmission,
	// by what answers matches a response to it by (requestOf).
	requests map[requestKey]*Message
	// exchange: every message by CSeq and From-tag: a request's hops, its
	// responses and ACK (hopOf, lateOfferOf).
	exchange map[cseqKey][]*Message
	// acks: the ACKs by CSeq and To-tag, and of those the requests of ACK
	// transactions (ackFor).
	acks, ackTx map[cseqKey][]*Message
}

// longLeg is what a leg keeps, once it needs it, so as not to scan all
// its messages, dialogs, responses or transactions for each message: made
// when first needed, so the dozen-message calls that are nearly all pay
// one pointer for it.
type longLeg struct {
	ix legIndex // its requests map nil until the leg has indexFrom messages
	// dialogs: Dialogs by their tags (tagPair), once there are many
	// (addDialog).
	dialogs map[[2]string]*Dialog
	// responses: the responses of transactions that have many, by status,
	// To-tag and RSeq (Leg.responses).
	responses map[*Transaction]*responseIndex
	sub       subscriptionFold // a subscription leg's (subscription)
	// txs: the transactions by what a message finds its own by (findTx),
	// the last of each key, once the leg has more than maxTxSearch.
	txs struct {
		n  int // how many of l.Transactions it holds
		by map[txKey]*Transaction
	}
}

// txKey is what findTx matches a transaction by. The From-tag counts
// only without the magic cookie.
type txKey struct {
	method         string
	cseq           uint32
	branch, sentBy string
	fromTag        string
}

// olderTx is findTx past its window: the last of l's transactions with
// the key, for a leg of more than maxTxSearch transactions (a call ringing
// through hundreds of PRACKs or INFOs before its final response).
func (l *Leg) olderTx(k txKey) *Transaction {
	x := &l.lookups().txs
	if x.by == nil {
		x.by = make(map[txKey]*Transaction)
	}
	for ; x.n < len(l.Transactions); x.n++ {
		tx := l.Transactions[x.n]
		k := txKey{tx.keyMethod, tx.CSeq, tx.Branch, tx.sentBy, ""}
		if !hasMagicCookie([]byte(tx.Branch)) {
			k.fromTag = tx.fromTag
		}
		x.by[k] = tx
	}
	return x.by[k]
}

// lookups returns l's longLeg, made if need be.
func (l *Leg) lookups() *longLeg {
	if l.long == nil {
		l.long = new(longLeg)
	}
	return l.long
}

// indexFrom is the length from which a leg is indexed.
const indexFrom = 64

type requestKey struct {
	method  string
	cseq    uint32
	fromTag string
	dst     netip.Addr
}

type cseqKey struct {
	cseq uint32
	tag  string
}

// index returns l's index, up to date, or nil when l is short.
func (l *Leg) index() *legIndex {
	if len(l.Messages) < indexFrom {
		return nil
	}
	ix := &l.lookups().ix
	if ix.requests == nil {
		*ix = legIndex{requests: make(map[requestKey]*Message), exchange: make(map[cseqKey][]*Message),
			acks: make(map[cseqKey][]*Message), ackTx: make(map[cseqKey][]*Message)}
	}
	for ; ix.n < len(l.Messages); ix.n++ {
		q := l.Messages[ix.n]
		k := cseqKey{q.CSeq, q.FromTag}
		ix.exchange[k] = append(ix.exchange[k], q)
		if !q.IsRequest() {
			continue
		}
		if q.Method == "ACK" {
			k := cseqKey{q.CSeq, q.ToTag}
			ix.acks[k] = append(ix.acks[k], q)
		}
		if !q.Retransmission {
			k := requestKey{q.Method, q.CSeq, q.FromTag, q.Dst.Addr()}
			if _, ok := ix.requests[k]; !ok {
				ix.requests[k] = q
			}
		}
	}
	for ; ix.tn < len(l.Transactions); ix.tn++ {
		// An ACK transaction's request is set when it is made (placeRequest).
		if t := l.Transactions[ix.tn]; t.Method == "ACK" && t.Request != nil {
			k := cseqKey{t.Request.CSeq, t.Request.ToTag}
			ix.ackTx[k] = append(ix.ackTx[k], t.Request)
		}
	}
	return ix
}

// responseIndex is a transaction's responses by status, To-tag and RSeq,
// for one that has many (forked to hundreds, or a capture made to be slow):
// telling whether a response is a retransmission (placeResponse) then
// looks among those alike, not all.
type responseIndex struct {
	n  int // how many of tx.Responses it holds
	by map[responseKey][]*Message
}

type responseKey struct {
	status int
	toTag  string
	rseq   uint32 // a reliable provisional response's: hundreds may share status and tag
}

// responses returns those of tx's responses, many, that have m's status,
// To-tag and RSeq, in their order.
func (l *Leg) responses(tx *Transaction, m *Message) []*Message {
	ll := l.lookups()
	ix := ll.responses[tx]
	if ix == nil {
		if ll.responses == nil {
			ll.responses = make(map[*Transaction]*responseIndex)
		}
		ix = &responseIndex{by: make(map[responseKey][]*Message)}
		ll.responses[tx] = ix
	}
	for ; ix.n < len(tx.Responses); ix.n++ {
		r := tx.Responses[ix.n]
		k := responseKey{r.Status, r.ToTag, r.rseqOf()}
		ix.by[k] = append(ix.by[k], r)
	}
	return ix.by[responseKey{m.Status, m.ToTag, m.rseqOf()}]
}
