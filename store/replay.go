package store

import (
	"container/heap"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
)

// forever is a timeout that never expires: a replay holds the call open
// until its recorded end, whatever the gaps between its messages.
const forever = time.Duration(math.MaxInt64)

// Replay rebuilds a call found by Calls in full: its legs, transactions,
// dialogs and messages, by running its stored messages through correlate
// again, in the order correlate first saw them. The result is what
// correlate emitted from the capture: the summary (state, timings,
// findings, events, streams, flow) is the stored one, computed when the
// whole capture was there (RTP included); the messages are rebuilt from
// their stored text with what opts asks to keep (KeepRaw, KeepSDP, and
// Media, which implies KeepSDP, as in correlate.New).
//
// Grouping follows the correlation headers the capture was imported with,
// not opts.LinkHeaders: a call is what the import made it. When opts.Flows
// is set the call is matched against those flows again, and Flow and
// Deviation are the new match.
func (d *DB) Replay(ctx context.Context, c *Call, opts correlate.Options) (*correlate.Call, error) {
	var links string
	if err := d.db.QueryRowContext(ctx, "SELECT link_headers FROM captures WHERE id = ?", c.Capture).Scan(&links); err != nil {
		return nil, classify(d.path, err)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT leg, n, ts_ns, src, dst, transport, encap, raw, packets
		FROM messages WHERE call = ? ORDER BY leg, idx`, c.ID)
	if err != nil {
		return nil, classify(d.path, err)
	}
	var legs [][]storedMessage
	for rows.Next() {
		var m storedMessage
		var leg int
		var ts int64
		var src, dst, transport string
		var parts sql.NullString
		if err := rows.Scan(&leg, &m.n, &ts, &src, &dst, &transport, &m.encap, &m.raw, &parts); err != nil {
			rows.Close()
			return nil, classify(d.path, err)
		}
		m.t = time.Unix(0, ts).UTC()
		if parts.Valid {
			m.parts = splitInts(parts.String)
		}
		m.src, m.dst = parseAddr(src), parseAddr(dst)
		m.transport = decode.ParseTransport(transport)
		for leg >= len(legs) {
			legs = append(legs, nil)
		}
		legs[leg] = append(legs[leg], m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, classify(d.path, err)
	}
	if len(legs) == 0 {
		return nil, fmt.Errorf("store: call %s has no messages in the archive", c.Call.ID)
	}

	ropts := correlate.Options{
		IdleTimeout: forever, CallTimeout: forever, Linger: forever, Tombstone: forever, Challenge: forever,
		KeepCopies: true, // the archive holds what the first reading kept, and no IPv4 IDs
		KeepRaw:    opts.KeepRaw, KeepSDP: opts.KeepSDP || opts.KeepRaw || opts.Media,
		Flows: opts.Flows,
	}
	if links != "" {
		ropts.LinkHeaders = strings.Split(links, ",")
	}
	var out []*correlate.Call
	corr := correlate.New(ropts, func(rc *correlate.Call) { out = append(out, rc) })
	var dm decode.Message
	var parser decode.Parser
	for _, m := range replayOrder(legs) {
		if err := parser.Parse(m.raw, &dm); err != nil && !errors.Is(err, decode.ErrShortBody) {
			return nil, fmt.Errorf("store: call %s: stored message of packet %d: %w", c.Call.ID, m.n, err)
		}
		dm.N, dm.Time, dm.Src, dm.Dst, dm.Transport, dm.Encap, dm.Parts = m.n, m.t, m.src, m.dst, m.transport, m.encap, m.parts
		corr.Add(&dm)
	}
	corr.Advance(c.CaptureEnd)
	corr.Flush()
	if len(out) != 1 {
		return nil, fmt.Errorf("store: call %s: its stored messages make %d calls, not one (archived by a sipflow that grouped calls otherwise?)", c.Call.ID, len(out))
	}
	r := out[0]
	rebuilt, flow, deviation := r.Legs, r.Flow, r.Deviation
	*r = *c.Call
	r.Legs = rebuilt
	if opts.Flows != nil {
		r.Flow, r.Deviation = flow, deviation
	}
	return r, nil
}

// replayOrder is the order to give correlate the legs' stored messages
// in: at each step the next message of the leg whose next one has the
// lowest packet number (the first leg on a tie); within a leg, stored
// order is the order correlate saw them in. The legs' next messages are
// kept in a heap: a call of thousands of linked legs would otherwise scan
// them all for each message.
func replayOrder(legs [][]storedMessage) []*storedMessage {
	h := legHeads{legs: legs, pos: make([]int, len(legs))}
	total := 0
	for li, ms := range legs {
		if len(ms) > 0 {
			h.live = append(h.live, li)
		}
		total += len(ms)
	}
	heap.Init(&h)
	out := make([]*storedMessage, 0, total)
	for len(h.live) > 0 {
		li := h.live[0]
		out = append(out, &legs[li][h.pos[li]])
		if h.pos[li]++; h.pos[li] == len(legs[li]) {
			// Out of messages: the last leg takes its place (heap.Pop
			// would box the index it returns, an allocation a leg).
			last := len(h.live) - 1
			h.live[0] = h.live[last]
			h.live = h.live[:last]
		}
		if len(h.live) > 0 {
			heap.Fix(&h, 0)
		}
	}
	return out
}

// legHeads is a heap of the legs with messages left (live), by the packet
// number of their next message (pos), then by leg.
type legHeads struct {
	legs [][]storedMessage
	pos  []int
	live []int
}

func (h *legHeads) Len() int { return len(h.live) }
func (h *legHeads) Less(i, j int) bool {
	a, b := h.live[i], h.live[j]
	na, nb := h.legs[a][h.pos[a]].n, h.legs[b][h.pos[b]].n
	return na < nb || na == nb && a < b
}
func (h *legHeads) Swap(i, j int) { h.live[i], h.live[j] = h.live[j], h.live[i] }

// Push and Pop are heap.Interface's; replayOrder uses only Init and Fix.
func (h *legHeads) Push(x any) { h.live = append(h.live, x.(int)) }
func (h *legHeads) Pop() any {
	x := h.live[len(h.live)-1]
	h.live = h.live[:len(h.live)-1]
	return x
}

type storedMessage struct {
	n         int
	t         time.Time
	src, dst  netip.AddrPort
	transport decode.Transport
	encap     string
	raw       []byte
	parts     []int // nil: packet n alone
}
