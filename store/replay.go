package store

import (
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
	pos := make([]int, len(legs))
	var parser decode.Parser
	for {
		// The next message is the one of lowest packet number among the
		// legs' next ones (the first leg on a tie); within a leg, stored
		// order is the order correlate saw them in.
		next := -1
		for li, ms := range legs {
			if pos[li] < len(ms) && (next < 0 || ms[pos[li]].n < legs[next][pos[next]].n) {
				next = li
			}
		}
		if next < 0 {
			break
		}
		m := &legs[next][pos[next]]
		pos[next]++
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

type storedMessage struct {
	n         int
	t         time.Time
	src, dst  netip.AddrPort
	transport decode.Transport
	encap     string
	raw       []byte
	parts     []int // nil: packet n alone
}
