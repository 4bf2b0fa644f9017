package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/sipflow/sipflow/decode"
)

// backfill fills, after migration version, the columns it added to calls
// archived before it, from what the archive holds. It runs in the
// migration's transaction: an archive is never left half filled.
func backfill(ctx context.Context, tx *sql.Tx, version int) error {
	if version == 3 {
		return backfillToDisplay(ctx, tx)
	}
	return nil
}

// backfillBatch is how many calls backfillToDisplay reads before it writes:
// the reading statement is closed before the table it reads changes.
const backfillBatch = 1000

// backfillToDisplay sets to_display (migration 3) from each call's first
// stored message, the one correlate took the call's From and To from. The
// key is in lower case as Go makes it, as an import makes it (SQLite's
// lower() knows only ASCII).
func backfillToDisplay(ctx context.Context, tx *sql.Tx) error {
	upd, err := tx.PrepareContext(ctx, "UPDATE calls SET to_display = ?, to_display_key = ? WHERE id = ?")
	if err != nil {
		return err
	}
	defer upd.Close()
	type found struct {
		id      int64
		display string
	}
	var p decode.Parser
	var m decode.Message
	var after int64
	for {
		rows, err := tx.QueryContext(ctx, `SELECT c.id, m.raw FROM calls c JOIN messages m ON m.call = c.id AND m.leg = 0 AND m.idx = 0
			WHERE c.id > ? ORDER BY c.id LIMIT ?`, after, backfillBatch)
		if err != nil {
			return err
		}
		var batch []found
		n := 0
		for rows.Next() {
			var id int64
			var raw []byte
			if err := rows.Scan(&id, &raw); err != nil {
				rows.Close()
				return err
			}
			n, after = n+1, id
			// The message was parsed when it was archived; one this parser
			// no longer reads keeps no display name rather than stop the
			// migration of the whole archive.
			if err := p.Parse(raw, &m); err != nil && !errors.Is(err, decode.ErrShortBody) {
				continue
			}
			if len(m.To.Display) > 0 {
				batch = append(batch, found{id, string(m.To.Display)})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, f := range batch {
			if _, err := upd.ExecContext(ctx, f.display, strings.ToLower(f.display), f.id); err != nil {
				return err
			}
		}
		if n < backfillBatch {
			return nil
		}
	}
}
