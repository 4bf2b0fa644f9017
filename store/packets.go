package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/sipflow/sipflow/capture"
)

// Packets calls fn with the stored packets of the given calls (by Call.ID),
// the frames of their SIP messages and of their RTP streams, in capture
// order (by capture, then packet number). p.Data is valid during the call
// only. It returns the packet numbers of the calls' messages whose frame
// is not in the archive (an import that has not got to them yet).
func (d *DB) Packets(ctx context.Context, calls []int64, fn func(p *Packet) error) (missing []int, err error) {
	if len(calls) == 0 {
		return nil, nil
	}
	in := "(" + placeholders(len(calls)) + ")"
	args := append(anys(calls), anys(calls)...)
	rows, err := d.db.QueryContext(ctx, `SELECT capture, n, ts_ns, link, orig_len, stream, data FROM packets
		WHERE id IN (SELECT (c.capture << 40) | m.n FROM messages m JOIN calls c ON c.id = m.call WHERE m.call IN `+in+`)
		   OR stream IN (SELECT id FROM rtp_streams WHERE call IN `+in+`)
		ORDER BY id`, args...)
	if err != nil {
		return nil, classify(d.path, err)
	}
	defer rows.Close()
	var p Packet
	for rows.Next() {
		var ts int64
		var link int
		var stream sql.NullInt64
		var data sql.RawBytes
		if err := rows.Scan(&p.Capture, &p.N, &ts, &link, &p.OrigLen, &stream, &data); err != nil {
			return nil, classify(d.path, err)
		}
		p.Time, p.Link, p.Stream, p.Data = time.Unix(0, ts).UTC(), capture.LinkType(link), stream.Int64, data
		if err := fn(&p); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, classify(d.path, err)
	}
	rows.Close()
	mrows, err := d.db.QueryContext(ctx, `SELECT DISTINCT m.n FROM messages m JOIN calls c ON c.id = m.call
		WHERE m.call IN `+in+` AND NOT EXISTS (SELECT 1 FROM packets WHERE id = (c.capture << 40) | m.n) ORDER BY m.n`, anys(calls)...)
	if err != nil {
		return nil, classify(d.path, err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var n int
		if err := mrows.Scan(&n); err != nil {
			return nil, classify(d.path, err)
		}
		missing = append(missing, n)
	}
	return missing, classify(d.path, mrows.Err())
}
