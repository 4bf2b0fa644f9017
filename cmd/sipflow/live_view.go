package main

// The live table of `sipflow capture` on a terminal.
//
// Why not bubbletea: the view only draws, it reads no keys. Redrawing a
// block of lines in place (cursor up, clear to the end of the screen, print)
// needs nothing but lipgloss, which sipflow already uses for its tables, and
// keeps the terminal in its normal mode, so Ctrl-C is a real SIGINT and
// takes the same path as SIGTERM and --duration: drain, finish every call,
// close the file, print the summary. The last frame stays on the screen.
//
// Open calls come from the SIP messages themselves (the correlator reports
// a call only once it is finished): a row per Call-ID with its progress
// (calling, ringing, answered, ending, ...), replaced by the correlator's
// verdict (state, timings, findings) when the call finishes.

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/render"
)

const (
	viewKeepDone = 500              // finished rows kept for display
	viewRecent   = 40 * time.Second // a finished Call-ID's late retransmissions are not a new row for this long
	viewRedraw   = time.Second      // redraw at least this often (running durations), else on change
)

// liveRow is one line of the table.
type liveRow struct {
	kind     correlate.Kind
	start    time.Time
	id       string // sanitized
	from, to string // sanitized, shortened
	state    string
	final    int
	pdd, dur time.Duration // -1: unknown
	msgs     int
	findings string
	worst    correlate.Severity
	nfind    int
	open     bool
	unreg    bool // a registration's last REGISTER removes its bindings

	// open calls only
	invite, answered, last time.Time
	seen                   time.Time // wall clock of the last message (to drop stale rows)
}

type tableView struct {
	w        io.Writer
	fd       uintptr
	isTTY    bool
	withKind bool
	idle     time.Duration // the correlator's idle timeout
	callIdle time.Duration // and its answered calls' (CallTimeout)

	open    map[string]*liveRow
	done    []liveRow // the most recent finished calls, oldest first
	recent  map[string]time.Time
	recentQ []string

	lines    int // height of the frame on the screen
	dirty    bool
	lastDraw time.Time
	started  bool

	header, cell, faint, openStyle lipgloss.Style
	sev                            map[correlate.Severity]lipgloss.Style
	stateStyle                     func(correlate.State) lipgloss.Style
}

func newTableView(r *lipgloss.Renderer, w io.Writer, withKind bool, copts correlate.Options) *tableView {
	v := &tableView{w: w, withKind: withKind, idle: copts.IdleTimeout, callIdle: copts.CallTimeout,
		open: make(map[string]*liveRow), recent: make(map[string]time.Time), dirty: true,
		header: r.NewStyle().Bold(true), faint: r.NewStyle().Faint(true),
		openStyle:  r.NewStyle().Foreground(lipgloss.Color("14")),
		sev:        severityStyles(r),
		stateStyle: func(s correlate.State) lipgloss.Style { return stateStyle(r, s) }}
	if f, ok := w.(*os.File); ok {
		v.fd, v.isTTY = f.Fd(), isTerminal(w)
	}
	if v.idle <= 0 {
		v.idle = 10 * time.Minute
	}
	if v.callIdle <= 0 {
		v.callIdle = 2 * time.Hour
	}
	return v
}

func (v *tableView) message(m *decode.Message) {
	row := v.open[string(m.CallID)]
	if row == nil {
		if _, late := v.recent[string(m.CallID)]; late {
			return // a retransmission for a call already reported
		}
		method := m.CSeqMethod
		if m.IsRequest() {
			method = m.Method
		}
		kind := correlate.KindOf(string(method), m.To.Tag != nil)
		if !v.withKind && kind != correlate.KindCall {
			return
		}
		row = &liveRow{kind: kind, start: m.Time, open: true, pdd: -1, dur: -1, worst: -1,
			id:   render.SanitizeString(string(m.CallID)),
			from: render.SanitizeString(shortURI(string(m.From.URI))),
			to:   render.SanitizeString(shortURI(string(m.To.URI))), state: "trying"}
		if kind == correlate.KindCall {
			row.state = "calling"
		}
		v.open[string(m.CallID)] = row
	}
	row.msgs++
	row.last, row.seen = m.Time, time.Now()
	v.dirty = true
	method := string(m.CSeqMethod)
	if m.IsRequest() {
		switch string(m.Method) {
		case "INVITE":
			if row.kind != correlate.KindCall {
				// A registration's (or OPTIONS's, ...) Call-ID used again for a
				// call: a call from here on, as correlate makes it.
				row.kind, row.state, row.final = correlate.KindCall, "calling", 0
			}
			if row.invite.IsZero() {
				row.invite = m.Time
			}
		case "CANCEL":
			row.state = "cancelling"
		case "BYE":
			row.state = "ending"
		case "REGISTER":
			row.unreg = correlate.RemovesBindings(m)
		}
		return
	}
	st := m.StatusCode
	if row.kind != correlate.KindCall {
		// Registrations, OPTIONS, ...: the outcome of the request.
		if st >= 200 {
			row.final = st
			switch {
			case st < 300 && row.kind == correlate.KindRegistration && row.unreg:
				row.state = string(correlate.StateUnregistered)
			case st < 300 && row.kind == correlate.KindRegistration:
				row.state = string(correlate.StateRegistered)
			case st < 300:
				row.state = "ok"
			case st == 401 || st == 407:
				row.state = "challenged"
			default:
				row.state = "rejected"
			}
		}
		return
	}
	if method != "INVITE" || !row.answered.IsZero() {
		return // answers to BYE, CANCEL, ..., and to re-INVITEs: the requests tell
	}
	switch {
	case st >= 180 && st < 200:
		if row.pdd < 0 && !row.invite.IsZero() {
			row.pdd = m.Time.Sub(row.invite)
		}
		if row.state == "calling" {
			row.state = "ringing"
		}
	case st >= 200 && st < 300:
		row.final, row.answered, row.state = st, m.Time, "answered"
	case st == 401 || st == 407:
		row.state = "challenged"
	case st == 487:
		row.final, row.state = st, "cancelled"
	case st >= 300:
		row.final, row.state = st, "rejected"
	}
}

func (v *tableView) finished(c *correlate.Call, shown bool) {
	v.forget(c.ID)
	for _, id := range c.LinkedIDs {
		v.forget(id)
	}
	v.dirty = true
	if !shown {
		return
	}
	row := liveRow{kind: c.Kind, start: c.Start, id: render.SanitizeString(c.ID),
		from: render.SanitizeString(shortURI(c.From)), to: render.SanitizeString(shortURI(c.To)),
		state: string(c.State), final: c.FinalStatus, pdd: c.PDD, dur: c.Duration,
		msgs: c.NumMessages, findings: findingsCell(c), worst: c.Worst(), nfind: len(c.Findings)}
	if len(v.done) >= viewKeepDone {
		copy(v.done, v.done[1:])
		v.done = v.done[:len(v.done)-1]
	}
	v.done = append(v.done, row)
}

func (v *tableView) forget(id string) {
	delete(v.open, id)
	if _, ok := v.recent[id]; !ok {
		v.recentQ = append(v.recentQ, id)
	}
	v.recent[id] = time.Now()
}

// expire drops what the display no longer needs: Call-IDs finished long
// enough ago, and open rows the correlator must have finished by now
// without telling us (their messages were late retransmissions).
func (v *tableView) expire(now time.Time) {
	for len(v.recentQ) > 0 {
		id := v.recentQ[0]
		t, ok := v.recent[id]
		if ok && now.Sub(t) < viewRecent {
			break
		}
		delete(v.recent, id)
		v.recentQ = v.recentQ[1:]
	}
	for id, row := range v.open {
		quiet := v.idle
		switch {
		case row.state == "answered":
			quiet = v.callIdle // it talks without SIP (CallTimeout)
		case row.kind == correlate.KindSubscription && row.state == "ok":
			// It waits for refreshes: until it expires and the idle
			// timeout, up to a day away, or the call timeout when its
			// expiry is not known.
			quiet = max(v.callIdle, correlate.MaxSubscriptionWait+v.idle)
		}
		if now.Sub(row.seen) > quiet+time.Minute {
			delete(v.open, id)
			v.dirty = true
		}
	}
}

func (v *tableView) tick(st *liveStatus) []byte {
	now := time.Now()
	v.expire(now)
	if !v.dirty && now.Sub(v.lastDraw) < viewRedraw {
		return nil
	}
	return v.draw(st, now, false)
}

func (v *tableView) final(st *liveStatus) []byte {
	return v.draw(st, time.Now(), true)
}

// size is the terminal's, else $COLUMNS and $LINES, else 120 × 24.
func (v *tableView) size() (int, int) {
	if v.isTTY {
		if w, h, err := term.GetSize(v.fd); err == nil && w > 0 && h > 0 {
			return w, h
		}
	}
	w, h := 120, 24
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 20 {
		w = n
	}
	if n, err := strconv.Atoi(os.Getenv("LINES")); err == nil && n > 5 {
		h = n
	}
	return w, h
}

// draw renders a frame over the previous one.
func (v *tableView) draw(st *liveStatus, now time.Time, last bool) []byte {
	v.dirty, v.lastDraw = false, now
	width, height := v.size()
	var b strings.Builder
	if !v.started {
		b.WriteString("\x1b[?25l") // hide the cursor while drawing
		v.started = true
	}
	if v.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA\r\x1b[J", v.lines)
	}
	lines := v.frame(st, now, width, height, last)
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	v.lines = len(lines)
	if last {
		b.WriteString("\x1b[?25h")
	}
	return []byte(b.String())
}

// frame is the lines of one frame: a title, the table header and as many
// of the newest calls as fit, each line narrower than the terminal.
func (v *tableView) frame(st *liveStatus, now time.Time, width, height int, last bool) []string {
	// The counts first: a narrow terminal cuts the end of the line.
	title := fmt.Sprintf("sipflow capture · %s · %d packets · %d dropped · %d open · %d calls · %d findings",
		st.elapsed.Truncate(time.Second), st.packets, st.dropped, len(v.open), st.calls, st.findings)
	if st.warnings > 0 {
		title += fmt.Sprintf(" · %d warnings", st.warnings)
	}
	title += fmt.Sprintf(" · %s (%s)", render.SanitizeString(st.iface), render.SanitizeString(st.filter))
	foot := "Ctrl-C to stop"
	if last {
		foot = ""
	}

	rows := make([]*liveRow, 0, len(v.open)+len(v.done))
	for i := range v.done {
		rows = append(rows, &v.done[i])
	}
	for _, r := range v.open {
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].start.Before(rows[j].start) })
	fit := max(height-5, 1) // title, header, rule, footer, and the cursor's line
	if len(rows) > fit {
		rows = rows[len(rows)-fit:]
	}

	headers := []string{"START (UTC)", "CALL-ID", "FROM", "TO", "STATE", "FINAL", "PDD", "DURATION", "MSGS", "FINDINGS"}
	if v.withKind {
		headers = append([]string{"KIND"}, headers...)
	}
	cells := make([][]string, len(rows))
	for i, r := range rows {
		final := ""
		if r.final > 0 {
			final = strconv.Itoa(r.final)
		}
		dur := r.dur
		if r.open && !r.answered.IsZero() && r.state != "ending" {
			dur = now.Sub(r.answered)
		}
		c := []string{r.start.UTC().Format("15:04:05.000"), r.id, r.from, r.to, r.state, final,
			fmtDur(r.pdd), fmtDur(dur), strconv.Itoa(r.msgs), r.findings}
		if v.withKind {
			c = append([]string{string(r.kind)}, c...)
		}
		cells[i] = c
	}
	widths := make([]int, len(headers))
	for j, h := range headers {
		widths[j] = lipgloss.Width(h)
		for _, c := range cells {
			widths[j] = max(widths[j], lipgloss.Width(c[j]))
		}
	}
	// Shrink the text columns until a line fits (two spaces between
	// columns, one at the start): the Call-ID first, down to 12, then from
	// and to, the widest first, then the findings, then all down to 8.
	off := 0
	if v.withKind {
		off = 1
	}
	callID, from, to, finds := 1+off, 2+off, 3+off, 9+off
	total := func() int {
		n := 1
		for _, w := range widths {
			n += w + 2
		}
		return n
	}
	for _, step := range []struct {
		cols []int
		min  int
	}{{[]int{callID}, 12}, {[]int{from, to}, 14}, {[]int{finds}, 12}, {[]int{callID, from, to, finds}, 8}} {
		for total()-2 >= width { // the last column has no spaces after it
			widest := -1
			for _, j := range step.cols {
				if widths[j] > step.min && (widest < 0 || widths[j] > widths[widest]) {
					widest = j
				}
			}
			if widest < 0 {
				break
			}
			widths[widest]--
		}
	}
	stateCol := 4
	if v.withKind {
		stateCol++
	}
	line := func(cs []string, style func(j int) lipgloss.Style) string {
		var b strings.Builder
		b.WriteByte(' ')
		for j, c := range cs {
			c = ansi.Truncate(c, widths[j], "…")
			pad := widths[j] - lipgloss.Width(c)
			if j == len(cs)-1 {
				pad = 0
			}
			if style != nil {
				c = style(j).Render(c)
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", pad+2))
		}
		return ansi.Truncate(strings.TrimRight(b.String(), " "), width-1, "")
	}
	out := []string{v.header.Render(ansi.Truncate(title, width-1, "…"))}
	out = append(out, line(headers, func(int) lipgloss.Style { return v.header }))
	out = append(out, v.faint.Render(strings.Repeat("─", min(total()-2, width-1))))
	for i, r := range rows {
		out = append(out, line(cells[i], func(j int) lipgloss.Style {
			switch {
			case j == stateCol && r.open:
				return v.openStyle
			case j == stateCol:
				return v.stateStyle(correlate.State(r.state))
			case j == len(headers)-1 && r.nfind > 0:
				return v.sev[r.worst]
			}
			return lipgloss.Style{}
		}))
	}
	if len(rows) == 0 {
		out = append(out, v.faint.Render(" no calls yet"))
	}
	if foot != "" {
		out = append(out, v.faint.Render(foot))
	}
	return out
}
