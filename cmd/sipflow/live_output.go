package main

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/jsonw"
	"github.com/sipflow/sipflow/render"
)

// liveOutput is what `sipflow capture` shows: NDJSON, a line per call, or
// the live table. Every method is called under the session lock, from the
// capture loop, so none may block; tick and final return bytes that the
// caller writes to the output after letting go of the lock.
type liveOutput interface {
	// message sees every SIP message (the table follows open calls).
	message(m *decode.Message)
	// finished gets every call the correlator finishes; shown says whether
	// it passes the display filters.
	finished(c *correlate.Call, shown bool)
	// tick returns what to write now (a few times a second). The slice is
	// the caller's until the next call.
	tick(st *liveStatus) []byte
	// final returns what to write once every call has been finished.
	final(st *liveStatus) []byte
}

// pending is a double buffer: the capture loop appends to one half while
// the other is being written out.
type pending struct {
	cur, spare []byte
}

func (p *pending) take() []byte {
	b := p.cur
	p.cur, p.spare = p.spare[:0], b
	return b
}

// jsonOutput prints `sipflow calls --json` objects as calls finish.
type jsonOutput struct {
	buf pending
	obj jsonw.Object
}

func (o *jsonOutput) message(*decode.Message) {}

func (o *jsonOutput) finished(c *correlate.Call, shown bool) {
	if shown {
		callJSON(&o.obj, c)
		o.buf.cur = append(o.buf.cur, o.obj.B...)
	}
}

func (o *jsonOutput) tick(*liveStatus) []byte  { return o.buf.take() }
func (o *jsonOutput) final(*liveStatus) []byte { return o.buf.take() }

// lineOutput prints one line per finished call, under a header line, with
// the columns of `sipflow calls` (the Call-ID in full, last columns not
// aligned).
type lineOutput struct {
	buf      pending
	withKind bool
	state    func(correlate.State) lipgloss.Style
	sev      map[correlate.Severity]lipgloss.Style
}

func newLineOutput(r *lipgloss.Renderer, withKind bool) *lineOutput {
	o := &lineOutput{withKind: withKind, sev: severityStyles(r),
		state: func(s correlate.State) lipgloss.Style { return stateStyle(r, s) }}
	head := fmt.Sprintf("%-23s  ", "START (UTC)")
	if withKind {
		head += fmt.Sprintf("%-12s  ", "KIND")
	}
	head += fmt.Sprintf("%-11s  %5s  %7s  %8s  %4s  %s\n", "STATE", "FINAL", "PDD", "DURATION", "MSGS", "CALL-ID  FROM → TO  FINDINGS")
	o.buf.cur = append(o.buf.cur, r.NewStyle().Bold(true).Render(strings.TrimRight(head, "\n"))+"\n"...)
	return o
}

func (o *lineOutput) message(*decode.Message) {}

func (o *lineOutput) finished(c *correlate.Call, shown bool) {
	if !shown {
		return
	}
	b := o.buf.cur
	b = fmt.Appendf(b, "%-23s  ", c.Start.UTC().Format("2006-01-02 15:04:05.000"))
	if o.withKind {
		b = fmt.Appendf(b, "%-12s  ", c.Kind)
	}
	final := ""
	if c.FinalStatus > 0 {
		final = fmt.Sprint(c.FinalStatus)
	}
	b = append(b, o.state(c.State).Render(fmt.Sprintf("%-11s", c.State))...)
	b = fmt.Appendf(b, "  %5s  %7s  %8s  %4d  %s  %s → %s", final, fmtDur(c.PDD), fmtDur(c.Duration), c.NumMessages,
		render.SanitizeString(c.ID), render.SanitizeString(shortURI(c.From)), render.SanitizeString(shortURI(c.To)))
	if len(c.Findings) > 0 {
		rules := make([]string, len(c.Findings))
		for i, f := range c.Findings {
			rules[i] = f.Rule
		}
		b = append(b, "  "...)
		b = append(b, o.sev[c.Worst()].Render(strings.Join(rules, ","))...)
	}
	o.buf.cur = append(b, '\n')
}

func (o *lineOutput) tick(*liveStatus) []byte  { return o.buf.take() }
func (o *lineOutput) final(*liveStatus) []byte { return o.buf.take() }
