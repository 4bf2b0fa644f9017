package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Capture is one imported capture file.
type Capture struct {
	ID          int64
	SHA256      string // hex SHA-256 of the file's bytes, as given (compressed if it was)
	Name        string // the path given to sipflow archive
	Size        int64
	Complete    bool      // false while importing, or after an import that died
	ImportedAt  time.Time // wall clock, when the import started
	FinishedAt  time.Time // wall clock, when it completed (zero if not)
	Options     string    // the analysis options it was imported with
	LinkHeaders []string  // B2BUA correlation headers, for Replay
	DoneSeq     int       // every call whose Seq is at most this is stored
	Calls       int64
	Messages    int64
	Packets     int64
	First, Last time.Time // packet time of its first call's start and last call's end
	Damage      string    // why reading stopped early, "" when the file was read to its end
}

const captureColumns = `id, sha256, name, size, state, imported_at, finished_at, options, link_headers,
	done_seq, calls, messages, packets, first_ns, last_ns, damage`

func scanCapture(row interface{ Scan(...any) error }) (*Capture, error) {
	var c Capture
	var state, links string
	var finished, first, last sql.NullInt64
	var imported int64
	var damage sql.NullString
	if err := row.Scan(&c.ID, &c.SHA256, &c.Name, &c.Size, &state, &imported, &finished, &c.Options, &links,
		&c.DoneSeq, &c.Calls, &c.Messages, &c.Packets, &first, &last, &damage); err != nil {
		return nil, err
	}
	c.Complete = state == "complete"
	c.ImportedAt = fromNS(sql.NullInt64{Int64: imported, Valid: true})
	c.FinishedAt = fromNS(finished)
	c.First, c.Last = fromNS(first), fromNS(last)
	c.Damage = damage.String
	if links != "" {
		c.LinkHeaders = strings.Split(links, ",")
	}
	return &c, nil
}

// Captures lists the imported captures in the order they were imported.
func (d *DB) Captures(ctx context.Context) ([]*Capture, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT "+captureColumns+" FROM captures ORDER BY id")
	if err != nil {
		return nil, classify(d.path, err)
	}
	defer rows.Close()
	var cs []*Capture
	for rows.Next() {
		c, err := scanCapture(rows)
		if err != nil {
			return nil, classify(d.path, err)
		}
		cs = append(cs, c)
	}
	return cs, classify(d.path, rows.Err())
}

// Capture returns the capture with the given id, or nil.
func (d *DB) Capture(ctx context.Context, id int64) (*Capture, error) {
	c, err := scanCapture(d.db.QueryRowContext(ctx, "SELECT "+captureColumns+" FROM captures WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, classify(d.path, err)
}

// FindCaptures returns the captures a user's --capture value names: a
// capture number, the file name as given at import or its base name, or
// the beginning of its SHA-256 (at least 8 hex digits).
func (d *DB) FindCaptures(ctx context.Context, name string) ([]*Capture, error) {
	all, err := d.Captures(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Capture
	for _, c := range all {
		if c.Name == name || baseName(c.Name) == name || fmt.Sprint(c.ID) == name ||
			len(name) >= 8 && strings.HasPrefix(c.SHA256, strings.ToLower(name)) {
			out = append(out, c)
		}
	}
	return out, nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// deleteCapture removes a capture and everything stored from it. Its calls'
// full-text entries stay behind, matching nothing (see call_text).
func deleteCapture(ctx context.Context, tx *sql.Tx, id int64) error {
	// Children first, with their own indexes, so that the cascade from the
	// capture row finds nothing left to do call by call.
	if _, err := tx.ExecContext(ctx, "DELETE FROM packets WHERE id BETWEEN ? AND ?", PacketID(id, 0), PacketID(id+1, 0)-1); err != nil {
		return err
	}
	for _, q := range []string{
		"DELETE FROM messages WHERE call IN (SELECT id FROM calls WHERE capture = ?)",
		"DELETE FROM captures WHERE id = ?",
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

func toNS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func fromNS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(0, v.Int64).UTC()
}
