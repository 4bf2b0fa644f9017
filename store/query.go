package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/media"
)

// Filter selects calls. Every field left zero selects everything; the
// fields that are set must all match. Each one is answered by an index, so
// a search stays fast on millions of calls: that is why the text filters
// match the beginning of a value, not any part of it as 'sipflow calls'
// does on a capture.
type Filter struct {
	// CallID: a Call-ID of any leg of the call, or its beginning.
	CallID string
	// From: the From URI's user part (a number or a name; a leading + is
	// ignored) or host when it has no user, or the display name, or their
	// beginning; and the URI or the display name contains it. Case is
	// ignored.
	From string
	// To: the same for the To URI and display name.
	To string
	// States: any of these states.
	States []string
	// All: every kind of call; without it only INVITE calls.
	All bool
	// Since and Until: calls that started in [Since, Until).
	Since, Until time.Time
	// Finding: calls with a finding of this rule.
	Finding string
	// Text: calls whose messages hold these words in this order, in a
	// start line or header (CSeq, Max-Forwards and Content-Length aside),
	// case ignored, punctuation ignored, the last word possibly cut short
	// when it has three characters or more ("Asterisk PB").
	Text string
	// Captures: calls of these captures (by Capture.ID).
	Captures []int64
	// IDs: these calls (by Call.ID).
	IDs []int64
	// Limit: at most this many calls (0: no limit).
	Limit int
}

// Call is a call found in the archive: its summary as correlate computed
// it at import (everything but Legs, which Replay rebuilds), and where it
// is stored.
type Call struct {
	ID      int64 // the calls row
	Capture int64
	*correlate.Call
}

// ErrBadText: a Filter.Text with no letter or digit to search for.
var ErrBadText = errors.New("--text needs at least one letter or digit")

// Calls calls fn with every call f selects, in the order they started (by
// Seq when f names exactly one capture, as 'sipflow calls' lists them),
// until fn returns an error.
func (d *DB) Calls(ctx context.Context, f Filter, fn func(*Call) error) error {
	q, args, err := f.query()
	if err != nil {
		return err
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return classify(d.path, err)
	}
	// Rows are read a page at a time and their children fetched per page:
	// a handful of queries per hundred calls rather than four per call.
	const page = 256
	var batch []*Call
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := d.loadChildren(ctx, batch); err != nil {
			return err
		}
		for _, c := range batch {
			if err := fn(c); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			rows.Close()
			return classify(d.path, err)
		}
		batch = append(batch, c)
		if len(batch) == page {
			// The statement stays open while fn runs: in WAL mode an open
			// read never blocks the writer of another process.
			if err := flush(); err != nil {
				rows.Close()
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return classify(d.path, err)
	}
	rows.Close()
	return flush()
}

// Count returns how many calls f selects (Limit ignored).
func (d *DB) Count(ctx context.Context, f Filter) (int, error) {
	f.Limit = 0
	q, args, err := f.where()
	if err != nil {
		return 0, err
	}
	var n int
	err = d.db.QueryRowContext(ctx, "SELECT count(*) FROM calls c"+q, args...).Scan(&n)
	return n, classify(d.path, err)
}

const callColumns = `c.id, c.capture, c.seq, c.call_id, c.kind, c.state, c.start_ns, c.end_ns, c.capture_end_ns,
	c.from_uri, c.to_uri, c.from_display, c.to_display, c.final_status, c.ended_by, c.reason, c.pdd_ns, c.answer_ns, c.duration_ns,
	c.messages, c.dialogs, c.caller, c.callee, c.streams, c.flow, c.deviation`

func scanCall(rows *sql.Rows) (*Call, error) {
	cc := &correlate.Call{}
	c := &Call{Call: cc}
	var kind, state, caller, callee string
	var start, end, capEnd, pdd, answer, dur int64
	var streams int
	if err := rows.Scan(&c.ID, &c.Capture, &cc.Seq, &cc.ID, &kind, &state, &start, &end, &capEnd,
		&cc.From, &cc.To, &cc.FromDisplay, &cc.ToDisplay, &cc.FinalStatus, &cc.EndedBy, &cc.Reason, &pdd, &answer, &dur,
		&cc.NumMessages, &cc.NumDialogs, &caller, &callee, &streams, &cc.Flow, &cc.Deviation); err != nil {
		return nil, err
	}
	cc.Kind, cc.State = correlate.Kind(kind), correlate.State(state)
	cc.Start, cc.End, cc.CaptureEnd = time.Unix(0, start).UTC(), time.Unix(0, end).UTC(), time.Unix(0, capEnd).UTC()
	cc.PDD, cc.Answer, cc.Duration = time.Duration(pdd), time.Duration(answer), time.Duration(dur)
	cc.Caller, cc.Callee = parseAddr(caller), parseAddr(callee)
	if streams >= 0 {
		cc.Streams = make([]*media.Stream, 0, streams) // analysed (maybe none), as opposed to nil: not analysed
	}
	return c, nil
}

func parseAddr(s string) netip.AddrPort {
	a, _ := netip.ParseAddrPort(s)
	return a
}

// loadChildren fills in the legs' Call-IDs, findings, events and streams of
// a page of calls.
func (d *DB) loadChildren(ctx context.Context, calls []*Call) error {
	byID := make(map[int64]*Call, len(calls))
	ids := make([]any, len(calls))
	for i, c := range calls {
		byID[c.ID] = c
		ids[i] = c.ID
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(calls)), ",") + ")"
	each := func(q string, scan func(*sql.Rows) error) error {
		rows, err := d.db.QueryContext(ctx, q+in+" ORDER BY call, idx", ids...)
		if err != nil {
			return classify(d.path, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return classify(d.path, err)
			}
		}
		return classify(d.path, rows.Err())
	}
	err := each("SELECT call, idx, call_id FROM legs WHERE call IN ", func(rows *sql.Rows) error {
		var call int64
		var idx int
		var id string
		if err := rows.Scan(&call, &idx, &id); err != nil {
			return err
		}
		if c := byID[call]; c != nil && idx > 0 {
			c.LinkedIDs = append(c.LinkedIDs, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = each("SELECT call, idx, rule, severity, call_id, packets, detail, rfc FROM findings WHERE call IN ", func(rows *sql.Rows) error {
		var call int64
		var idx, sev int
		var f correlate.Finding
		var packets string
		if err := rows.Scan(&call, &idx, &f.Rule, &sev, &f.CallID, &packets, &f.Detail, &f.RFC); err != nil {
			return err
		}
		f.Severity = correlate.Severity(sev)
		f.Packets = splitInts(packets)
		if c := byID[call]; c != nil {
			c.Findings = append(c.Findings, f)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = each("SELECT call, idx, n, ts_ns, kind, detail FROM events WHERE call IN ", func(rows *sql.Rows) error {
		var call, ts int64
		var idx int
		var e correlate.Event
		if err := rows.Scan(&call, &idx, &e.N, &ts, &e.Kind, &e.Detail); err != nil {
			return err
		}
		e.Time = time.Unix(0, ts).UTC()
		if c := byID[call]; c != nil {
			c.Events = append(c.Events, e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return each("SELECT call, idx, detail FROM rtp_streams WHERE call IN ", func(rows *sql.Rows) error {
		var call int64
		var idx int
		var detail []byte
		if err := rows.Scan(&call, &idx, &detail); err != nil {
			return err
		}
		st, err := decodeStream(detail)
		if err != nil {
			return err
		}
		if c := byID[call]; c != nil {
			c.Streams = append(c.Streams, st)
		}
		return nil
	})
}

func splitInts(s string) []int {
	if s == "" {
		return []int{}
	}
	parts := strings.Split(s, ",")
	ns := make([]int, len(parts))
	for i, p := range parts {
		ns[i], _ = strconv.Atoi(p)
	}
	return ns
}

// query builds the SELECT for a filter.
func (f *Filter) query() (string, []any, error) {
	where, args, err := f.where()
	if err != nil {
		return "", nil, err
	}
	q := "SELECT " + callColumns + " FROM calls c" + where
	if len(f.Captures) == 1 {
		q += " ORDER BY c.seq"
	} else {
		q += " ORDER BY c.start_ns, c.capture, c.seq"
	}
	if f.Limit > 0 {
		q += " LIMIT " + strconv.Itoa(f.Limit)
	}
	return q, args, nil
}

// where builds the WHERE clause: each condition is one an index answers.
func (f *Filter) where() (string, []any, error) {
	// SQLite's lower() folds ASCII letters only: the URIs are folded by
	// fold (Go's strings.ToLower, see connector), so that "ÉRIC" and
	// "éric@host" find sip:Éric@host as 'sipflow calls' does.
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if !f.All {
		add("c.kind = 'call'")
	}
	if f.CallID != "" {
		add("c.id IN (SELECT call FROM legs WHERE call_id >= ? AND call_id < ?)", f.CallID, prefixEnd(f.CallID))
	}
	if f.From != "" {
		key, low := valueKey(f.From), strings.ToLower(f.From)
		add(`(c.from_key >= ? AND c.from_key < ? OR c.display_key != '' AND c.display_key >= ? AND c.display_key < ?)
			AND (instr(fold(c.from_uri), ?) > 0 OR instr(c.from_key, ?) > 0 OR instr(c.display_key, ?) > 0)`,
			key, prefixEnd(key), low, prefixEnd(low), low, low, low)
	}
	if f.To != "" {
		key, low := valueKey(f.To), strings.ToLower(f.To)
		add(`(c.to_key >= ? AND c.to_key < ? OR c.to_display_key != '' AND c.to_display_key >= ? AND c.to_display_key < ?)
			AND (instr(fold(c.to_uri), ?) > 0 OR instr(c.to_key, ?) > 0 OR instr(c.to_display_key, ?) > 0)`,
			key, prefixEnd(key), low, prefixEnd(low), low, low, low)
	}
	if len(f.States) > 0 {
		add("c.state IN ("+placeholders(len(f.States))+")", anys(f.States)...)
	}
	if !f.Since.IsZero() {
		add("c.start_ns >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("c.start_ns < ?", f.Until.UnixNano())
	}
	if f.Finding != "" {
		add("c.id IN (SELECT call FROM findings WHERE rule = ?)", f.Finding)
	}
	if f.Text != "" {
		m, err := matchExpr(f.Text)
		if err != nil {
			return "", nil, err
		}
		add("c.id IN (SELECT docid FROM call_text WHERE call_text MATCH ?)", m)
	}
	if len(f.Captures) > 0 {
		add("c.capture IN ("+placeholders(len(f.Captures))+")", anys(f.Captures)...)
	}
	if len(f.IDs) > 0 {
		add("c.id IN ("+placeholders(len(f.IDs))+")", anys(f.IDs)...)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// valueKey turns what a user typed after --from or --to into the form of
// URIKey: "sip:+4420@x" and "+4420" both give "4420".
func valueKey(v string) string {
	if strings.ContainsAny(v, "@:") {
		return URIKey(v)
	}
	return strings.ToLower(strings.TrimPrefix(v, "+"))
}

// prefixEnd is the smallest string greater than every string that starts
// with p, for a range scan on an index (BINARY collation compares bytes).
// 0xff never occurs in UTF-8, so p+"\xff" is above any valid continuation.
func prefixEnd(p string) string { return p + "\xff" }

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// matchExpr turns search text into an FTS phrase query: its words (as the
// unicode61 tokenizer cuts them: letters and digits) in order, the last one
// a prefix when it has three characters or more. Nothing the user types
// can be read as FTS syntax.
func matchExpr(text string) (string, error) {
	var words []string
	start := -1
	for i, r := range text + " " {
		word := isWordRune(r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			words = append(words, text[start:i])
			start = -1
		}
	}
	if len(words) == 0 {
		return "", fmt.Errorf("%w: %q", ErrBadText, text)
	}
	// The last word may be cut short ("Asteri"), when it is long enough for
	// that to narrow anything: "0*" would expand to every number.
	star := ""
	if utf8.RuneCountInString(words[len(words)-1]) >= 3 {
		star = "*"
	}
	return `"` + strings.Join(words, " ") + star + `"`, nil
}

func isWordRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case r < 0x80:
		return false
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}
