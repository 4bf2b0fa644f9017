package main

import (
	"bufio"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/internal/jsonw"
	"github.com/sipflow/sipflow/render"
)

type callsOptions struct {
	*globalOptions
	correlateOptions
	filter callFilter
	json   bool
	sort   string
}

func newCallsCmd(g *globalOptions) *cobra.Command {
	o := &callsOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "calls FILE",
		Short: "List the calls in a capture with their state, timings and findings",
		Long: `List the calls in a capture: one row per call (a Call-ID, or several B2BUA legs
linked by a correlation header), with start time, Call-ID, from, to, state,
final status, post-dial delay, duration, message count and findings count.

States: answered (2xx, not ended), completed (ended by BYE), cancelled,
rejected (4xx-6xx from the far end), failed (408, 5xx, unanswered challenge),
unanswered (no final response), in-progress (the capture ended first);
registrations: registered, unregistered (its last REGISTER removed its
bindings), failed, unanswered; subscriptions: subscribed (in
force), expired (lapsed without a refresh), completed (ended), rejected,
failed, unanswered.

By default only INVITE calls are listed; --all adds registrations,
subscriptions, OPTIONS pings, MESSAGEs and other requests. Rows come in the
order calls started (with --json, a call open while 10,000 later calls
finished comes when it ends); --sort orders them otherwise (which holds every row
until the end).

With --json, one object per call (NDJSON) with call_id, kind, from, to, start,
end, state, final_status, pdd_ms, answer_ms, duration_ms, messages, dialogs,
legs (the linked Call-IDs), flow (the expected flow matched, or null),
deviation, findings (rule ids), ended_by, reason, caller, callee, events,
rtp_streams.`,
		Example: `  sipflow calls testdata/call_rtp.pcap
  sipflow calls --all --state failed,rejected trace.pcapng
  sipflow calls --from 4420 --since 2026-11-22T10:00:00Z --json trace.pcap.gz`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(args[0])
		},
	}
	o.correlateOptions.addFlags(cmd)
	o.filter.addFlags(cmd)
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object per call (NDJSON)")
	cmd.Flags().StringVar(&o.sort, "sort", "start", "order rows by start, duration, pdd, messages, findings, state, from or to")
	return cmd
}

func (o *callsOptions) run(file string) error {
	if err := o.filter.validate(); err != nil {
		return err
	}
	less, err := callSorter(o.sort)
	if err != nil {
		return err
	}
	copts, err := o.correlateOptions.options(false)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(o.Out, 64<<10)
	defer w.Flush()
	var rows []*correlate.Call
	var obj jsonw.Object
	emit := func(c *correlate.Call) (kept bool) {
		if !o.filter.match(c) {
			return false
		}
		if o.json && less == nil {
			callJSON(&obj, c)
			w.Write(obj.B)
			return false
		}
		rows = append(rows, c)
		return true
	}
	_, err = analyzeSummaries(o.globalOptions, file, copts, emit)
	if readFailed(err) {
		return err
	}
	backInStartOrder(rows, func(c *correlate.Call) int { return c.Seq })
	if less != nil {
		sort.SliceStable(rows, func(i, j int) bool { return less(rows[i], rows[j]) })
	}
	if o.json {
		for _, c := range rows {
			callJSON(&obj, c)
			w.Write(obj.B)
		}
	} else {
		writeCallTable(w, o.renderer(o.Out), rows, o.filter.all)
	}
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = &exitError{code: exitUsage, err: ferr}
	}
	return err
}

func callSorter(key string) (func(a, b *correlate.Call) bool, error) {
	switch key {
	case "start", "":
		return nil, nil // already in start order
	case "duration":
		return func(a, b *correlate.Call) bool { return a.Duration > b.Duration }, nil
	case "pdd":
		return func(a, b *correlate.Call) bool { return a.PDD > b.PDD }, nil
	case "messages":
		return func(a, b *correlate.Call) bool { return a.NumMessages > b.NumMessages }, nil
	case "findings":
		return func(a, b *correlate.Call) bool {
			if a.Worst() != b.Worst() {
				return a.Worst() > b.Worst()
			}
			return len(a.Findings) > len(b.Findings)
		}, nil
	case "state":
		return func(a, b *correlate.Call) bool { return a.State < b.State }, nil
	case "from":
		return func(a, b *correlate.Call) bool { return a.From < b.From }, nil
	case "to":
		return func(a, b *correlate.Call) bool { return a.To < b.To }, nil
	}
	return nil, usageError("--sort must be start, duration, pdd, messages, findings, state, from or to, not %q", key)
}

// callJSON writes the NDJSON object of one call (also used by search).
func callJSON(o *jsonw.Object, c *correlate.Call) {
	// The keys as literals, one append each: a capture of a million calls
	// writes them a million times.
	o.Begin()
	o.LitString(`"call_id":`, c.ID)
	o.LitString(`,"kind":`, string(c.Kind))
	o.LitString(`,"from":`, c.From)
	o.LitString(`,"to":`, c.To)
	o.LitString(`,"from_display":`, c.FromDisplay)
	o.LitString(`,"to_display":`, c.ToDisplay)
	o.LitTime(`,"start":`, c.Start)
	o.LitTime(`,"end":`, c.End)
	o.LitString(`,"state":`, string(c.State))
	o.LitInt(`,"final_status":`, int64(c.FinalStatus))
	litMS(o, `,"pdd_ms":`, c.PDD)
	litMS(o, `,"answer_ms":`, c.Answer)
	litMS(o, `,"duration_ms":`, c.Duration)
	o.LitInt(`,"messages":`, int64(c.NumMessages))
	o.LitInt(`,"dialogs":`, int64(c.NumDialogs))
	jsonw.LitList(o, `,"legs":`, c.LinkedIDs, func(id string) string { return id })
	if c.Flow != "" {
		o.LitString(`,"flow":`, c.Flow)
	} else {
		o.Lit(`,"flow":null`)
	}
	if c.Deviation != "" {
		o.LitString(`,"deviation":`, c.Deviation)
	} else {
		o.Lit(`,"deviation":null`)
	}
	jsonw.LitList(o, `,"findings":`, c.Findings, func(f correlate.Finding) string { return f.Rule })
	o.LitString(`,"ended_by":`, c.EndedBy)
	o.LitString(`,"reason":`, c.Reason)
	o.LitAddrPort(`,"caller":`, c.Caller)
	o.LitAddrPort(`,"callee":`, c.Callee)
	if len(c.Events) == 0 {
		o.Lit(`,"events":[]`)
	} else {
		callEventsJSON(o, c.Events)
	}
	switch {
	case c.Streams == nil:
	case len(c.Streams) == 0:
		o.Lit(`,"rtp_streams":[]`)
	default:
		st := []byte{'['}
		var so jsonw.Object
		for i, s := range c.Streams {
			if i > 0 {
				st = append(st, ',')
			}
			streamJSON(&so, "", s, false)
			st = append(st, so.B[:len(so.B)-1]...) // without the newline
		}
		o.Raw("rtp_streams", append(st, ']'))
	}
	o.End()
}

func callEventsJSON(o *jsonw.Object, events []correlate.Event) {
	o.Raw("events", jsonArray(len(events), func(i int, eo *jsonw.Object) {
		e := &events[i]
		eo.Int("n", int64(e.N))
		eo.Time("ts", e.Time)
		eo.String("kind", e.Kind)
		eo.String("detail", e.Detail)
	}))
}

// litMS is o.Lit(lit) and then d as appendMS writes it. Two functions, not
// one, so that the compiler inlines litMS into callJSON: merged, it is not,
// and BenchmarkCallJSON took 2% more instructions.
func litMS(o *jsonw.Object, lit string, d time.Duration) {
	o.Lit(lit)
	o.B = appendMS(o.B, d)
}

// appendMS appends d in whole milliseconds, or null when d is negative
// (not measured).
func appendMS(b []byte, d time.Duration) []byte {
	if d < 0 {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, d.Milliseconds(), 10)
}

// writeCallTable writes calls as a table, one row a call.
func writeCallTable(w *bufio.Writer, r *lipgloss.Renderer, calls []*correlate.Call, withKind bool) {
	if len(calls) == 0 {
		fmt.Fprintln(w, "no calls")
		return
	}
	headers := []string{"START (UTC)", "CALL-ID", "FROM", "TO", "STATE", "FINAL", "PDD", "DURATION", "MSGS", "FINDINGS"}
	stateCol := 4
	if withKind {
		headers = append([]string{"KIND"}, headers...)
		stateCol++
	}
	cell := r.NewStyle().Padding(0, 1)
	styles := severityStyles(r)
	colour := r.ColorProfile() != termenv.Ascii
	var state, finding lipgloss.Style
	t := &textTable{headers: headers, rows: len(calls),
		cells: func(i int, row []string) []string {
			c := calls[i]
			final := ""
			if c.FinalStatus > 0 {
				final = strconv.Itoa(c.FinalStatus)
			}
			if withKind {
				row = append(row, string(c.Kind))
			}
			return append(row,
				c.Start.UTC().Format("2006-01-02 15:04:05.000"),
				render.SanitizeString(string(shortID([]byte(c.ID)))),
				render.SanitizeString(shortURI(c.From)),
				render.SanitizeString(shortURI(c.To)),
				string(c.State),
				final,
				fmtDur(c.PDD),
				fmtDur(c.Duration),
				strconv.Itoa(c.NumMessages),
				findingsCell(c))
		},
		style: func(row, col int) *lipgloss.Style {
			switch {
			case !colour: // these styles are colours only (TestCallTablePlainWithoutColour)
			case col == stateCol:
				state = cell.Inherit(stateStyle(r, calls[row].State))
				return &state
			case col == len(headers)-1 && len(calls[row].Findings) > 0:
				finding = cell.Inherit(styles[calls[row].Worst()])
				return &finding
			}
			return nil
		}}
	t.write(w, r)
}

func findingsCell(c *correlate.Call) string {
	if len(c.Findings) == 0 {
		return ""
	}
	s := strconv.Itoa(len(c.Findings)) + " " + c.Findings[0].Rule
	if len(c.Findings) > 1 {
		s += ",…"
	}
	return s
}

func severityStyles(r *lipgloss.Renderer) map[correlate.Severity]lipgloss.Style {
	return map[correlate.Severity]lipgloss.Style{
		correlate.Error:   r.NewStyle().Foreground(lipgloss.Color("9")).Bold(true),
		correlate.Warning: r.NewStyle().Foreground(lipgloss.Color("11")),
		correlate.Info:    r.NewStyle().Foreground(lipgloss.Color("12")),
	}
}

func stateStyle(r *lipgloss.Renderer, s correlate.State) lipgloss.Style {
	switch s {
	case correlate.StateCompleted, correlate.StateRegistered, correlate.StateUnregistered, correlate.StateAnswered, correlate.StateSubscribed:
		return r.NewStyle().Foreground(lipgloss.Color("10"))
	case correlate.StateFailed, correlate.StateUnanswered:
		return r.NewStyle().Foreground(lipgloss.Color("9"))
	case correlate.StateRejected, correlate.StateCancelled, correlate.StateExpired:
		return r.NewStyle().Foreground(lipgloss.Color("11"))
	}
	return r.NewStyle()
}

// shortURI shows "user@host" for a SIP URI, without scheme and parameters,
// cut at 32 bytes with an ellipsis: never inside a UTF-8 sequence, which
// would show as \xNN escapes of half a character.
func shortURI(uri string) string {
	s := uri
	for _, p := range []string{"sip:", "sips:", "tel:"} {
		if strings.HasPrefix(strings.ToLower(s), p) {
			s = s[len(p):]
			break
		}
	}
	if i := strings.IndexAny(s, ";?>"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 32 {
		n := 31
		for i := 1; i < utf8.UTFMax && n > 0 && !utf8.RuneStart(s[n]); i++ {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

// fmtDur formats a duration for a table cell; "" when unknown (< 0).
func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return ""
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return d.Truncate(time.Second).String()
}
