package store

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"time"

	"github.com/sipflow/sipflow/capture"
)

// Packets calls fn with the stored packets of the given calls (by Call.ID),
// the frames of their SIP messages (every fragment and segment of the
// reassembled ones) and of their RTP streams, in capture order (by capture,
// then packet number). p.Data is valid during the call only. It returns
// the packet numbers of the calls' messages whose frame is not in the
// archive (an import that has not got to them yet).
func (d *DB) Packets(ctx context.Context, calls []int64, fn func(p *Packet) error) (missing []int, err error) {
	if len(calls) == 0 {
		return nil, nil
	}
	in := "(" + placeholders(len(calls)) + ")"
	// The ids of the SIP packets, from the messages.
	rows, err := d.db.QueryContext(ctx, `SELECT c.capture, m.n, m.packets FROM messages m JOIN calls c ON c.id = m.call
		WHERE m.call IN `+in, anys(calls)...)
	if err != nil {
		return nil, classify(d.path, err)
	}
	var ids []int64
	for rows.Next() {
		var capture int64
		var n int
		var parts sql.NullString
		if err := rows.Scan(&capture, &n, &parts); err != nil {
			rows.Close()
			return nil, classify(d.path, err)
		}
		ids = append(ids, PacketID(capture, n))
		for _, p := range splitInts(parts.String) {
			ids = append(ids, PacketID(capture, p))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, classify(d.path, err)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)

	// The packets: the SIP ones by id, the RTP ones by stream, merged in id
	// order (a packet could be both only in a crafted capture).
	rows, err = d.db.QueryContext(ctx, `SELECT id, ts_ns, link, orig_len, stream, data FROM packets
		WHERE id IN (SELECT value FROM json_each(?)) OR stream IN (SELECT id FROM rtp_streams WHERE call IN `+in+`)
		ORDER BY id`, append([]any{int64sJSON(ids)}, anys(calls)...)...)
	if err != nil {
		return nil, classify(d.path, err)
	}
	defer rows.Close()
	var p Packet
	found := make(map[int64]bool, len(ids))
	for rows.Next() {
		var id, ts int64
		var link int
		var stream sql.NullInt64
		var data sql.RawBytes
		if err := rows.Scan(&id, &ts, &link, &p.OrigLen, &stream, &data); err != nil {
			return nil, classify(d.path, err)
		}
		found[id] = true
		p.Capture, p.N = id>>40, int(id&(1<<40-1))
		p.Time, p.Link, p.Stream, p.Data = time.Unix(0, ts).UTC(), capture.LinkType(link), stream.Int64, data
		if err := fn(&p); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, classify(d.path, err)
	}
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, int(id&(1<<40-1)))
		}
	}
	return missing, nil
}

// int64sJSON is a JSON array of integers: a list of any length as one
// parameter (json_each), where placeholders would hit SQLite's limit.
func int64sJSON(ns []int64) string {
	b := make([]byte, 0, 2+12*len(ns))
	b = append(b, '[')
	for i, n := range ns {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, n, 10)
	}
	return string(append(b, ']'))
}
