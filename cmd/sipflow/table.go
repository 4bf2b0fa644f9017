package main

import (
	"bufio"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// textTable is a table in sipflow's look: bold headers, a faint rule under
// them, no other borders, a space either side of every cell, each column as
// wide as its widest cell. It writes what lipgloss/table draws with those
// settings (TestTableSameAsLipgloss), but a row at a time: lipgloss builds
// the whole table as one string and passes every cell through a Style,
// which on a capture of 110,000 calls (big-sip) took 10 s and about a
// gigabyte.
type textTable struct {
	headers []string
	rows    int
	// cells appends the cells of row i to dst. It is called twice a row
	// (once to measure, once to write), so the table holds no row.
	cells func(i int, dst []string) []string
	// style returns the style of a data cell that is not plain (plain: the
	// text left-aligned, uncoloured), or nil for a plain one. Styles pad
	// a cell by one space either side, as plain cells are.
	style func(row, col int) *lipgloss.Style
}

// write draws the table to w, in r's colours.
func (t *textTable) write(w *bufio.Writer, r *lipgloss.Renderer) {
	widths := make([]int, len(t.headers))
	for c, h := range t.headers {
		widths[c] = ansi.StringWidth(h)
	}
	var row []string
	for i := 0; i < t.rows; i++ {
		row = t.cells(i, row[:0])
		for c, s := range row {
			widths[c] = max(widths[c], ansi.StringWidth(s))
		}
	}
	for c := range widths {
		widths[c] += 2 // the padding
	}

	header := r.NewStyle().Bold(true).Padding(0, 1)
	for c, h := range t.headers {
		w.WriteString(header.MaxHeight(1).Width(widths[c]).MaxWidth(widths[c]).Render(ansi.Truncate(h, widths[c], "…")))
	}
	w.WriteByte('\n')
	rule := r.NewStyle().Faint(true)
	for _, wd := range widths {
		w.WriteString(rule.Render(strings.Repeat("─", wd)))
	}
	for i := 0; i < t.rows; i++ {
		w.WriteByte('\n')
		row = t.cells(i, row[:0])
		for c, s := range row {
			if st := t.style(i, c); st != nil {
				w.WriteString(st.Height(1).MaxHeight(1).Width(widths[c]).MaxWidth(widths[c]).
					Render(ansi.Truncate(s, widths[c]-st.GetHorizontalPadding(), "…")))
				continue
			}
			w.WriteByte(' ')
			w.WriteString(s)
			for n := widths[c] - 1 - ansi.StringWidth(s); n > 0; n-- {
				w.WriteByte(' ')
			}
		}
	}
	w.WriteByte('\n')
}
