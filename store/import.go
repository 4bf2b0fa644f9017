package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/media"
)

// ImportSpec describes a capture about to be imported.
type ImportSpec struct {
	SHA256 string // hex SHA-256 of the file's bytes: what makes two imports the same
	Name   string // the path as given
	Size   int64
	// Options describes the analysis options (any text that changes when
	// they do). An unfinished import is resumed only with the same options;
	// with others it starts over, since its calls would not line up.
	Options     string
	LinkHeaders []string
	// Force imports again a capture already complete in the archive,
	// replacing what it stored.
	Force bool
}

// Import is one capture being imported. Its methods belong to one
// goroutine. Each AddCalls and AddPackets is one transaction: a crash
// between them leaves the archive consistent, the capture marked as
// importing, and BeginImport of the same file resumes it.
type Import struct {
	d    *DB
	conn *sql.Conn

	// Capture is the capture's row as it stands: DoneSeq tells a resumed
	// import which calls it can skip.
	Capture Capture
	// Duplicate: the capture is already complete in the archive (and Force
	// was not given). Nothing is to be done; Close the Import.
	Duplicate bool
	// Resumed: an import of this file was begun before and not completed
	// (it died, or another process is still running it: the two cannot be
	// told apart); the calls and packets it stored are kept.
	Resumed bool
	// Replaced: Force removed a complete import of the same file.
	Replaced bool
	// Set is the packets to keep: those of the calls stored so far.
	Set *PacketSet

	stopCheckpoints chan struct{}
	checkpointsDone chan struct{}

	prep Preparer
	gob  bytes.Buffer
}

// importCacheKiB is the page cache of an import's connection.
const importCacheKiB = 64 << 10

// BeginImport starts (or resumes) the import of a capture. When the same
// file is already complete it returns an Import with Duplicate set.
func (d *DB) BeginImport(ctx context.Context, spec ImportSpec) (*Import, error) {
	if d.readOnly {
		return nil, fmt.Errorf("%s: %w", d.path, ErrReadOnly)
	}
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return nil, classify(d.path, err)
	}
	im := &Import{d: d, conn: conn, Set: NewPacketSet()}
	if err := im.begin(ctx, spec); err != nil {
		conn.Close()
		return nil, err
	}
	im.stopCheckpoints, im.checkpointsDone = make(chan struct{}), make(chan struct{})
	go im.checkpoints()
	return im, nil
}

// walCheckpointBytes is the size of the write-ahead log above which a
// background checkpoint copies it back into the archive; importAutoPages
// is the import connection's own wal_autocheckpoint, in pages.
const (
	walCheckpointBytes = 64 << 20
	importAutoPages    = 4096
)

// checkpoints copies the write-ahead log back into the archive from a
// connection of its own, while the import goes on writing: SQLite's
// automatic checkpoint runs inside a commit, which then waits for the copy
// and its fsync. A PASSIVE checkpoint never blocks the writer or readers,
// but it can only restart the log when it has caught up with it, which a
// busy writer never lets it do: so the import's connection keeps an
// automatic checkpoint, at a higher mark (importAutoPages), which finds
// almost everything copied already and restarts the log.
func (im *Import) checkpoints() {
	defer close(im.checkpointsDone)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	wal := im.d.path + "-wal"
	for {
		select {
		case <-im.stopCheckpoints:
			im.d.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
			return
		case <-t.C:
			if fi, err := os.Stat(wal); err == nil && fi.Size() > walCheckpointBytes {
				im.d.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
			}
		}
	}
}

func (im *Import) begin(ctx context.Context, spec ImportSpec) error {
	d := im.d
	// A bigger page cache for the writer: the indexes of calls take keys in
	// random order (numbers, Call-IDs), and with SQLite's default 2 MB
	// every insert would read and write back a page.
	if _, err := im.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d; PRAGMA wal_autocheckpoint = %d; PRAGMA journal_size_limit = %d", importCacheKiB, importAutoPages, walCheckpointBytes)); err != nil {
		return classify(d.path, err)
	}
	if d.maxPages > 0 {
		if _, err := im.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", d.maxPages)); err != nil {
			return classify(d.path, err)
		}
	}
	tx, err := im.conn.BeginTx(ctx, nil)
	if err != nil {
		return classify(d.path, err)
	}
	defer tx.Rollback()
	old, err := scanCapture(tx.QueryRowContext(ctx, "SELECT "+captureColumns+" FROM captures WHERE sha256 = ?", spec.SHA256))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		old = nil
	case err != nil:
		return classify(d.path, err)
	}
	switch {
	case old != nil && old.Complete && !spec.Force:
		im.Capture, im.Duplicate = *old, true
		return nil
	case old != nil && !old.Complete && old.Options == spec.Options:
		im.Capture, im.Resumed = *old, true
		if _, err := tx.ExecContext(ctx, "UPDATE captures SET name = ? WHERE id = ?", spec.Name, old.ID); err != nil {
			return classify(d.path, err)
		}
		im.Capture.Name = spec.Name
		if err := im.loadSet(ctx, tx); err != nil {
			return classify(d.path, err)
		}
		return classify(d.path, tx.Commit())
	case old != nil:
		// Complete and forced, or unfinished with other options: start over.
		im.Replaced = old.Complete
		if err := deleteCapture(ctx, tx, old.ID); err != nil {
			return classify(d.path, err)
		}
	}
	now := time.Now()
	res, err := tx.ExecContext(ctx, `INSERT INTO captures (sha256, name, size, state, imported_at, options, link_headers)
		VALUES (?, ?, ?, 'importing', ?, ?, ?)`,
		spec.SHA256, spec.Name, spec.Size, now.UnixNano(), spec.Options, strings.Join(spec.LinkHeaders, ","))
	if err != nil {
		return classify(d.path, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return classify(d.path, err)
	}
	im.Capture = Capture{ID: id, SHA256: spec.SHA256, Name: spec.Name, Size: spec.Size, ImportedAt: time.Unix(0, now.UnixNano()).UTC(),
		Options: spec.Options, LinkHeaders: spec.LinkHeaders}
	return classify(d.path, tx.Commit())
}

// loadSet rebuilds, for a resumed import, the packets its stored calls need.
func (im *Import) loadSet(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT m.n, m.packets FROM calls c JOIN messages m ON m.call = c.id WHERE c.capture = ?`, im.Capture.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var n int
		var parts sql.NullString
		if err := rows.Scan(&n, &parts); err != nil {
			rows.Close()
			return err
		}
		im.Set.AddSIP(n)
		for _, p := range splitInts(parts.String) {
			im.Set.AddSIP(p)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT s.id, s.detail FROM calls c JOIN rtp_streams s ON s.call = c.id WHERE c.capture = ?`, im.Capture.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var detail []byte
		if err := rows.Scan(&id, &detail); err != nil {
			return err
		}
		st, err := decodeStream(detail)
		if err != nil {
			return err
		}
		im.Set.AddStream(id, st)
	}
	return rows.Err()
}

// Close releases the Import's connection. An Import not finished stays
// unfinished in the archive, to be resumed.
func (im *Import) Close() error {
	if im.stopCheckpoints != nil {
		close(im.stopCheckpoints)
		<-im.checkpointsDone
		im.stopCheckpoints = nil
	}
	// The connection goes back to the pool: as the others again.
	im.conn.ExecContext(context.Background(), "PRAGMA cache_size = -2000; PRAGMA wal_autocheckpoint = 1000; PRAGMA journal_size_limit = -1; PRAGMA max_page_count = 4294967294")
	return im.conn.Close()
}

// AddCalls stores finished calls, in one transaction, with their legs,
// dialogs, messages (Options.KeepRaw must have been on: their text is
// stored), findings, events and RTP streams, and records the packets they
// need in Set. Calls must come in increasing Seq, as correlate numbers them;
// a call already stored (same capture and Seq) is skipped, so giving the
// same call twice, after a crash say, stores it once.
func (im *Import) AddCalls(ctx context.Context, calls []*correlate.Call) (stored int, err error) {
	ps := make([]*Prepared, len(calls))
	for i, c := range calls {
		ps[i] = im.prep.Prepare(c)
	}
	return im.AddPrepared(ctx, ps)
}

// AddPrepared is AddCalls for calls Prepare made ready (in the caller's
// goroutine, while this one writes the previous batch).
func (im *Import) AddPrepared(ctx context.Context, calls []*Prepared) (stored int, err error) {
	if len(calls) == 0 {
		return 0, nil
	}
	tx, err := im.conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, classify(im.d.path, err)
	}
	defer tx.Rollback()
	if err := im.stillThere(ctx, tx); err != nil {
		return 0, err
	}
	w, err := newCallWriter(ctx, tx)
	if err != nil {
		return 0, classify(im.d.path, err)
	}
	defer w.close()
	var msgs int64
	var first, last time.Time
	maxSeq := 0
	type pending struct {
		ids   []int64
		calls *correlate.Call
	}
	var c *correlate.Call
	var added []pending
	for _, p := range calls {
		c = p.call
		maxSeq = max(maxSeq, c.Seq)
		id, ok, err := w.insertCall(ctx, im.Capture.ID, p)
		if err != nil {
			return 0, classify(im.d.path, err)
		}
		if !ok {
			// Stored already, by the import this one resumes or by another
			// process importing the same file: its packets are wanted all
			// the same, in case that one dies before storing them.
			ids, err := storedStreams(ctx, tx, im.Capture.ID, c.Seq)
			if err != nil {
				return 0, classify(im.d.path, err)
			}
			added = append(added, pending{ids, c})
			continue
		}
		n, ids, err := w.children(ctx, id, p, im)
		if err != nil {
			return 0, classify(im.d.path, err)
		}
		stored++
		msgs += n
		added = append(added, pending{ids, c})
		if first.IsZero() || c.Start.Before(first) {
			first = c.Start
		}
		if c.End.After(last) {
			last = c.End
		}
	}
	if err := w.flush(ctx); err != nil {
		return 0, classify(im.d.path, err)
	}
	// min(coalesce(a, b), coalesce(b, a)) is the smaller of two values either of which may be NULL.
	if _, err := tx.ExecContext(ctx, `UPDATE captures SET done_seq = max(done_seq, ?1), calls = calls + ?2, messages = messages + ?3,
		first_ns = min(coalesce(first_ns, ?4), coalesce(?4, first_ns)), last_ns = max(coalesce(last_ns, ?5), coalesce(?5, last_ns))
		WHERE id = ?6`, maxSeq, stored, msgs, toNS(first), toNS(last), im.Capture.ID); err != nil {
		return 0, classify(im.d.path, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, classify(im.d.path, err)
	}
	// Only once committed: a failed transaction must not leave packets wanted.
	for _, p := range added {
		for _, m := range p.calls.Messages() {
			for _, n := range m.Packets() {
				im.Set.AddSIP(n)
			}
		}
		for i, st := range p.calls.Streams {
			if i < len(p.ids) {
				im.Set.AddStream(p.ids[i], st)
			}
		}
	}
	im.Capture.DoneSeq = max(im.Capture.DoneSeq, maxSeq)
	im.Capture.Calls += int64(stored)
	im.Capture.Messages += msgs
	return stored, nil
}

// stillThere checks, in a transaction about to write, that the capture is
// still in the archive: another import of the same file with other
// analysis options deletes an unfinished one to start over, and cannot
// tell one that died from one still running.
func (im *Import) stillThere(ctx context.Context, tx *sql.Tx) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM captures WHERE id = ?", im.Capture.ID).Scan(&n); err != nil {
		return classify(im.d.path, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: capture %d: %w (sipflow archive of the same file with other analysis options): what this one stored is gone; nothing else was touched", im.d.path, im.Capture.ID, ErrStartedOver)
	}
	return nil
}

// storedStreams returns the ids of the RTP streams of a stored call.
func storedStreams(ctx context.Context, tx *sql.Tx, capture int64, seq int) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT s.id FROM rtp_streams s JOIN calls c ON c.id = s.call
		WHERE c.capture = ? AND c.seq = ? ORDER BY s.idx`, capture, seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Packet is one captured frame to store, or one read back.
type Packet struct {
	Capture int64 // filled when read back
	N       int
	Time    time.Time
	Link    capture.LinkType
	OrigLen int    // length on the wire
	Stream  int64  // the RTP stream (rtp_streams.id, PacketSet.Stream) for media, 0 for SIP
	Data    []byte // the frame; not kept by AddPackets
}

// AddPackets stores frames in one transaction. A frame already stored
// (a resumed import) is skipped.
func (im *Import) AddPackets(ctx context.Context, pkts []Packet) error {
	if len(pkts) == 0 {
		return nil
	}
	tx, err := im.conn.BeginTx(ctx, nil)
	if err != nil {
		return classify(im.d.path, err)
	}
	defer tx.Rollback()
	if err := im.stillThere(ctx, tx); err != nil {
		return err
	}
	b := newBulk(tx, "packets (id, ts_ns, link, orig_len, stream, data)", 6)
	b.suffix = " ON CONFLICT (id) DO NOTHING"
	defer b.close()
	for i := range pkts {
		p := &pkts[i]
		var stream sql.NullInt64
		if p.Stream != 0 {
			stream = sql.NullInt64{Int64: p.Stream, Valid: true}
		}
		if err := b.add(ctx, PacketID(im.Capture.ID, p.N), p.Time.UnixNano(), int64(p.Link), int64(p.OrigLen), stream, p.Data); err != nil {
			return classify(im.d.path, err)
		}
	}
	if err := b.flush(ctx); err != nil {
		return classify(im.d.path, err)
	}
	added := b.affected
	if _, err := tx.ExecContext(ctx, "UPDATE captures SET packets = packets + ? WHERE id = ?", added, im.Capture.ID); err != nil {
		return classify(im.d.path, err)
	}
	if err := tx.Commit(); err != nil {
		return classify(im.d.path, err)
	}
	im.Capture.Packets += added
	return nil
}

// PacketID is the packets row id of packet n of a capture.
func PacketID(capture int64, n int) int64 { return capture<<40 | int64(n) }

// Finish marks the capture complete and reads its row back into Capture,
// counts included: what the archive holds, whoever stored it. damage says
// why reading stopped early ("" when the file was read to its end).
func (im *Import) Finish(ctx context.Context, damage string) error {
	var dmg sql.NullString
	if damage != "" {
		dmg = sql.NullString{String: damage, Valid: true}
	}
	now := time.Now()
	res, err := im.conn.ExecContext(ctx, "UPDATE captures SET state = 'complete', finished_at = ?, damage = ? WHERE id = ?",
		now.UnixNano(), dmg, im.Capture.ID)
	if err != nil {
		return classify(im.d.path, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s: capture %d: %w (sipflow archive of the same file with other analysis options)", im.d.path, im.Capture.ID, ErrStartedOver)
	}
	// The row as it now stands, not this Import's tally: another process
	// importing the same file at the same time stored some of its calls
	// and packets, and what is reported must be what the archive holds.
	c, err := scanCapture(im.conn.QueryRowContext(ctx, "SELECT "+captureColumns+" FROM captures WHERE id = ?", im.Capture.ID))
	if err != nil {
		return classify(im.d.path, err)
	}
	im.Capture = *c
	return nil
}

// callWriter holds a transaction's statements. Rows of the tables that
// take many per call (messages, legs, dialogs, ...) go in multi-row
// INSERTs: a statement execution costs more than a row.
type callWriter struct {
	calls, stream                          *sql.Stmt
	leg, dialog, msg, finding, event, text *bulk
}

func newCallWriter(ctx context.Context, tx *sql.Tx) (*callWriter, error) {
	w := &callWriter{}
	var err error
	if w.calls, err = tx.PrepareContext(ctx, `INSERT INTO calls (capture, seq, call_id, kind, state, start_ns, end_ns, capture_end_ns,
			from_uri, to_uri, from_display, from_key, to_key, display_key, to_display, to_display_key, final_status, ended_by, reason,
			pdd_ns, answer_ns, duration_ns, messages, dialogs, caller, callee, worst, streams, flow, deviation)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (capture, seq) DO NOTHING`); err != nil {
		return nil, err
	}
	if w.stream, err = tx.PrepareContext(ctx, `INSERT INTO rtp_streams (call, idx, src, dst, ssrc, codec, first_n, last_n, first_ns, last_ns,
			packets, lost, lost_pct, jitter_max, mos, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
		w.close()
		return nil, err
	}
	w.leg = newBulk(tx, "legs (call, idx, call_id, kind, from_uri, to_uri)", 6)
	w.dialog = newBulk(tx, "dialogs (call, idx, leg, call_id, local_tag, remote_tag, early, confirmed, ended, first_n)", 10)
	w.msg = newBulk(tx, `messages (call, leg, idx, n, ts_ns, src, dst, transport, encap, method, status, cseq,
			cseq_method, retransmission, raw, packets)`, 16)
	w.finding = newBulk(tx, "findings (call, idx, rule, severity, call_id, packets, detail, rfc)", 8)
	w.event = newBulk(tx, "events (call, idx, n, ts_ns, kind, detail)", 6)
	w.text = newBulk(tx, "call_text (docid, text)", 2)
	return w, nil
}

// flush writes the rows still held.
func (w *callWriter) flush(ctx context.Context) error {
	for _, b := range []*bulk{w.leg, w.dialog, w.msg, w.finding, w.event, w.text} {
		if err := b.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (w *callWriter) close() {
	for _, s := range []*sql.Stmt{w.calls, w.stream} {
		if s != nil {
			s.Close()
		}
	}
	for _, b := range []*bulk{w.leg, w.dialog, w.msg, w.finding, w.event, w.text} {
		if b != nil {
			b.close()
		}
	}
}

// bulk inserts rows into one table, many at a time.
type bulk struct {
	tx       *sql.Tx
	table    string
	suffix   string // after the VALUES: an ON CONFLICT clause
	cols     int
	rows     int // rows per execution
	many     *sql.Stmt
	args     []any
	affected int64 // rows inserted so far
}

// bulkRows is how many rows a bulk INSERT takes at once: as many as make
// a difference (a statement's execution costs as much as tens of rows),
// within SQLite's limit of 32766 parameters.
const bulkRows = 1024

func newBulk(tx *sql.Tx, table string, cols int) *bulk {
	return &bulk{tx: tx, table: table, cols: cols, rows: min(bulkRows, 32766/cols)}
}

func (b *bulk) statement(rows int) string {
	row := "(" + placeholders(b.cols) + ")"
	return "INSERT INTO " + b.table + " VALUES " + strings.TrimSuffix(strings.Repeat(row+",", rows), ",") + b.suffix
}

// add queues one row (cols values).
func (b *bulk) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	if len(b.args) < b.cols*b.rows {
		return nil
	}
	if b.many == nil {
		st, err := b.tx.PrepareContext(ctx, b.statement(b.rows))
		if err != nil {
			return err
		}
		b.many = st
	}
	return b.exec(ctx, b.many)
}

func (b *bulk) exec(ctx context.Context, st *sql.Stmt) error {
	var res sql.Result
	var err error
	if st != nil {
		res, err = st.ExecContext(ctx, b.args...)
	} else {
		res, err = b.tx.ExecContext(ctx, b.statement(len(b.args)/b.cols), b.args...)
	}
	clear(b.args)
	b.args = b.args[:0]
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	b.affected += n
	return nil
}

// flush writes the rows queued, in one statement.
func (b *bulk) flush(ctx context.Context) error {
	if len(b.args) == 0 {
		return nil
	}
	return b.exec(ctx, nil)
}

func (b *bulk) close() {
	if b.many != nil {
		b.many.Close()
	}
}

// insertCall inserts a call's row; ok is false when it was stored already.
func (w *callWriter) insertCall(ctx context.Context, capture int64, p *Prepared) (id int64, ok bool, err error) {
	c := p.call
	streams := -1
	if c.Streams != nil {
		streams = len(c.Streams)
	}
	// Integers go as int64, which database/sql passes on as they are (an
	// int takes its reflection-based conversion).
	res, err := w.calls.ExecContext(ctx, capture, int64(c.Seq), c.ID, string(c.Kind), string(c.State),
		c.Start.UnixNano(), c.End.UnixNano(), c.CaptureEnd.UnixNano(),
		c.From, c.To, c.FromDisplay, p.fromKey, p.toKey, p.displayKey, c.ToDisplay, p.toDisplayKey,
		int64(c.FinalStatus), c.EndedBy, c.Reason, int64(c.PDD), int64(c.Answer), int64(c.Duration),
		int64(c.NumMessages), int64(c.NumDialogs), addrText(c.Caller), addrText(c.Callee), int64(c.Worst()), int64(streams), c.Flow, c.Deviation)
	if err != nil {
		return 0, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, false, nil
	}
	id, err = res.LastInsertId()
	return id, err == nil, err
}

// children inserts everything a call is made of; it returns the number of
// messages and the ids of the RTP streams.
func (w *callWriter) children(ctx context.Context, id int64, p *Prepared, im *Import) (int64, []int64, error) {
	c := p.call
	var msgs int64
	k := 0
	for li, l := range c.Legs {
		if err := w.leg.add(ctx, id, int64(li), l.CallID, string(l.Kind), l.From, l.To); err != nil {
			return 0, nil, err
		}
		for mi, m := range l.Messages {
			a := &p.addrs[k]
			k++
			if m.Raw() == nil {
				return 0, nil, fmt.Errorf("store: call %s: message of packet %d has no text (correlate.Options.KeepRaw was off)", c.ID, m.N)
			}
			var parts sql.NullString
			if ps := m.Packets(); len(ps) > 1 || len(ps) == 1 && ps[0] != m.N {
				parts = sql.NullString{String: joinInts(ps), Valid: true}
			}
			if err := w.msg.add(ctx, id, int64(li), int64(mi), int64(m.N), m.Time.UnixNano(), a.src, a.dst,
				m.Transport.String(), m.Encap(), m.Method, int64(m.Status), int64(m.CSeq), m.CSeqMethod, m.Retransmission, m.Raw(), parts); err != nil {
				return 0, nil, err
			}
			msgs++
		}
	}
	di := 0
	for li, l := range c.Legs {
		for _, dl := range l.Dialogs {
			var first sql.NullInt64
			if dl.First != nil {
				first = sql.NullInt64{Int64: int64(dl.First.N), Valid: true}
			}
			if err := w.dialog.add(ctx, id, int64(di), int64(li), dl.CallID, dl.LocalTag, dl.RemoteTag, dl.Early, dl.Confirmed, dl.Ended, first); err != nil {
				return 0, nil, err
			}
			di++
		}
	}
	for i, f := range c.Findings {
		if err := w.finding.add(ctx, id, int64(i), f.Rule, int64(f.Severity), f.CallID, joinInts(f.Packets), f.Detail, f.RFC); err != nil {
			return 0, nil, err
		}
	}
	for i, e := range c.Events {
		if err := w.event.add(ctx, id, int64(i), int64(e.N), e.Time.UnixNano(), e.Kind, e.Detail); err != nil {
			return 0, nil, err
		}
	}
	var ids []int64
	for i, st := range c.Streams {
		im.gob.Reset()
		if err := gob.NewEncoder(&im.gob).Encode(st); err != nil {
			return 0, nil, fmt.Errorf("store: RTP stream %d of call %s: %w", i, c.ID, err)
		}
		res, err := w.stream.ExecContext(ctx, id, i, addrText(st.Key.Src), addrText(st.Key.Dst), int64(st.Key.SSRC), st.Codec,
			st.FirstN, st.LastN, toNS(st.First), toNS(st.Last), st.Packets, st.Lost, st.LostPct, st.JitterMax, st.MOS, im.gob.Bytes())
		if err != nil {
			return 0, nil, err
		}
		sid, err := res.LastInsertId()
		if err != nil {
			return 0, nil, err
		}
		ids = append(ids, sid)
	}
	if err := w.text.add(ctx, id, p.text); err != nil {
		return 0, nil, err
	}
	return msgs, ids, nil
}

// Prepared is a call made ready for the archive: what its rows need that
// takes computing (its full-text document, its search keys, its messages'
// addresses as text), so that the goroutine that writes only writes.
type Prepared struct {
	call                                     *correlate.Call
	text                                     string
	fromKey, toKey, displayKey, toDisplayKey string
	addrs                                    []preparedAddrs
}

type preparedAddrs struct{ src, dst string }

// Preparer prepares calls. It belongs to one goroutine.
type Preparer struct {
	seed maphash.Seed
	seen map[uint64]struct{}
	text []byte
}

// Prepare makes c ready for AddPrepared. Its messages must have their text
// (correlate.Options.KeepRaw): a call without is refused by AddPrepared.
func (pr *Preparer) Prepare(c *correlate.Call) *Prepared {
	if pr.seen == nil {
		pr.seed, pr.seen = maphash.MakeSeed(), make(map[uint64]struct{}, 64)
	}
	clear(pr.seen)
	pr.text = pr.text[:0]
	p := &Prepared{call: c, fromKey: URIKey(c.From), toKey: URIKey(c.To),
		displayKey: strings.ToLower(c.FromDisplay), toDisplayKey: strings.ToLower(c.ToDisplay)}
	for _, l := range c.Legs {
		for _, m := range l.Messages {
			p.addrs = append(p.addrs, preparedAddrs{addrText(m.Src), addrText(m.Dst)})
			pr.text = appendLines(pr.text, m.Raw(), pr.seen, pr.seed)
		}
	}
	p.text = string(pr.text)
	return p
}

// appendLines appends to doc the start line and header lines of a message
// not seen yet in its call: a call's document for the full-text index
// holds each distinct line once (a dialog repeats most headers in every
// message). Bodies (SDP, ...) and bookkeeping headers are left out: they
// would double the index for little a search needs.
func appendLines(doc, raw []byte, seen map[uint64]struct{}, seed maphash.Seed) []byte {
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\n')
		line := raw
		if i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break // the end of the headers
		}
		if bookkeeping(line) {
			continue
		}
		h := maphash.Bytes(seed, line)
		if _, ok := seen[h]; ok {
			continue
		}
		seen[h] = struct{}{}
		start := len(doc)
		doc = append(doc, line...)
		// SQLite hands the tokenizer C strings: a NUL would hide the rest.
		for i := start; i < len(doc); i++ {
			if doc[i] == 0 {
				doc[i] = ' '
			}
		}
		doc = append(doc, '\n')
	}
	return doc
}

// bookkeeping reports whether a header line is one no search wants, that
// would only grow the index: CSeq, Max-Forwards, Content-Length (l:).
func bookkeeping(line []byte) bool {
	name, _, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return false
	}
	name = bytes.TrimSpace(name)
	for _, h := range []string{"cseq", "max-forwards", "content-length", "l"} {
		if len(name) == len(h) && strings.EqualFold(string(name), h) {
			return true
		}
	}
	return false
}

func decodeStream(b []byte) (*media.Stream, error) {
	var st media.Stream
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&st); err != nil {
		return nil, fmt.Errorf("store: RTP stream: %w", err)
	}
	return &st, nil
}

// URIKey is what --from and --to match a URI by: its user part (a number
// or a name), or its host when it has none, in lower case and without a
// leading '+'. "sip:+44 20@host;user=phone" gives "44 20"; "tel:+4420;x=y"
// gives "4420"; "sip:host:5060" gives "host:5060".
func URIKey(uri string) string {
	s := uri
	if i := strings.IndexByte(s, ':'); i >= 0 && isScheme(s[:i]) {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, "@;?>"); i >= 0 && s[i] == '@' {
		s = s[:i]
	} else if i >= 0 {
		s = s[:i]
	}
	return strings.ToLower(strings.TrimPrefix(s, "+"))
}

func isScheme(s string) bool {
	switch strings.ToLower(s) {
	case "sip", "sips", "tel", "urn":
		return true
	}
	return false
}

func addrText(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func joinInts(ns []int) string {
	b := make([]byte, 0, 6*len(ns))
	for i, n := range ns {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return string(b)
}
