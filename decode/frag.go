package decode

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"time"
)

// Fragment reassembly for IPv4 (RFC 791) and IPv6 (RFC 8200 §4.5).
//
// Written here rather than with gopacket's ip4defrag because that one is
// IPv4-only, needs a decoded layers.IPv4 per fragment and a wall-clock
// DiscardOlderThan; ours keys both families the same way, runs on packet
// time and keeps fragments as plain byte copies.

const (
	maxDatagram   = 65535 + 8 // largest reassembled payload (IPv6 fragment offsets reach 65528 + len)
	maxFragQueues = 4096      // datagrams being reassembled at once
	maxFragPieces = 256       // fragments of one datagram
)

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	v6       bool
}

type fragPiece struct {
	off  int
	data []byte
	n    int // packet number
}

type fragQueue struct {
	pieces []fragPiece
	total  int // payload length, known once the last fragment arrived; -1 before
	first  time.Time
	firstN int // packet number of the first fragment seen
	key    fragKey
	gone   bool // completed or dropped: no longer in fragTable.q
}

type fragTable struct {
	q map[fragKey]*fragQueue
	// order holds the queues in the order their first fragment came, so
	// that expiry warns of them in that order on every run and eviction
	// finds the oldest without looking at them all; it may hold gone
	// queues, pruned when they outnumber the rest.
	order []*fragQueue
	buf   []byte // the last datagram handed out; reused
	now   time.Time
}

func (t *fragTable) init() { t.q = make(map[fragKey]*fragQueue) }

// reset drops every incomplete datagram, reporting each.
func (t *fragTable) reset(d *Decoder) { t.expire(d, time.Time{}, true) }

// add stores one fragment. When the datagram is complete it returns the
// whole payload (valid until the next call) and true.
func (t *fragTable) add(d *Decoder, k fragKey, off int, more bool, data []byte) ([]byte, bool) {
	if off+len(data) > maxDatagram {
		d.warnf(ErrBadHeader, "IP fragment at offset %d of %d bytes overruns the largest datagram", off, len(data))
		return nil, false
	}
	if more && len(data)%8 != 0 {
		d.warnf(ErrBadHeader, "IP fragment of %d bytes is not a multiple of 8 but more follow", len(data))
		return nil, false
	}
	q := t.q[k]
	if q == nil {
		if len(t.q) >= maxFragQueues {
			t.evictOldest(d)
		}
		q = &fragQueue{total: -1, first: d.curTime, firstN: d.curN, key: k}
		t.q[k] = q
		if len(t.order) >= 2*len(t.q)+64 {
			t.prune(func(*fragQueue) bool { return false })
		}
		t.order = append(t.order, q)
	}
	if len(q.pieces) >= maxFragPieces {
		t.drop(q)
		d.warnf(ErrBadHeader, "IP datagram in more than %d fragments dropped", maxFragPieces)
		return nil, false
	}
	if !more {
		end := off + len(data)
		if q.total >= 0 && q.total != end {
			t.drop(q)
			d.warnf(ErrBadHeader, "IP fragments disagree on the datagram length (%d, %d)", q.total, end)
			return nil, false
		}
		q.total = end
	}
	q.pieces = append(q.pieces, fragPiece{off: off, data: append([]byte(nil), data...), n: d.curN})
	if q.total < 0 {
		return nil, false
	}
	// Complete when the pieces cover [0, total) without a hole.
	sort.Slice(q.pieces, func(i, j int) bool { return q.pieces[i].off < q.pieces[j].off })
	covered := 0
	for _, p := range q.pieces {
		if p.off > covered {
			return nil, false
		}
		if e := p.off + len(p.data); e > covered {
			covered = e
		}
	}
	if covered < q.total {
		return nil, false
	}
	if cap(t.buf) < q.total {
		t.buf = make([]byte, q.total)
	}
	buf := t.buf[:q.total]
	// Earlier fragments win where they overlap: copy in reverse so the
	// first-sorted piece is written last.
	for i := len(q.pieces) - 1; i >= 0; i-- {
		p := q.pieces[i]
		end := p.off + len(p.data)
		if end > q.total {
			end = q.total
		}
		copy(buf[p.off:end], p.data)
	}
	// The packets this datagram came from, for messages found in it.
	d.fragParts = d.fragParts[:0]
	for _, p := range q.pieces {
		d.fragParts = append(d.fragParts, p.n)
	}
	slices.Sort(d.fragParts)
	d.fragParts = slices.Compact(d.fragParts)
	t.drop(q)
	return buf, true
}

// drop removes q from the table.
func (t *fragTable) drop(q *fragQueue) {
	delete(t.q, q.key)
	q.gone, q.pieces = true, nil
}

// prune drops from order the gone queues and those for which out reports
// true (after it has seen them, in order), keeping the others' order.
func (t *fragTable) prune(out func(*fragQueue) bool) {
	kept := t.order[:0]
	for _, q := range t.order {
		if !q.gone && !out(q) {
			kept = append(kept, q)
		}
	}
	clear(t.order[len(kept):])
	t.order = kept
}

// evictOldest drops the datagram whose first fragment came first, with
// a warning at that fragment's number.
func (t *fragTable) evictOldest(d *Decoder) {
	for i, q := range t.order {
		if !q.gone {
			t.gave(d, q, fmt.Sprintf("dropped: more than %d datagrams were being reassembled at once", maxFragQueues))
			clear(t.order[:i+1])
			t.order = t.order[i+1:]
			return
		}
	}
}

// expire drops datagrams whose first fragment came before cutoff (all of
// them when all is set), with a warning at the first fragment's number,
// in the order their first fragments came.
func (t *fragTable) expire(d *Decoder, cutoff time.Time, all bool) {
	t.prune(func(q *fragQueue) bool {
		if all || q.first.Before(cutoff) {
			t.gave(d, q, "never completed")
			return true
		}
		return false
	})
}

// gave drops q and warns why.
func (t *fragTable) gave(d *Decoder, q *fragQueue, why string) {
	n := len(q.pieces)
	t.drop(q)
	d.warnAt(q.firstN, ErrTruncatedPacket, "IP datagram %s -> %s (id %d) %s: %d fragment(s) captured",
		q.key.src, q.key.dst, q.key.id, why, n)
}
