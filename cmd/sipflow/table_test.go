package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/media"
)

// TestTableSameAsLipgloss: textTable writes, byte for byte, what
// lipgloss/table draws with the same headers, cells and styles, with and
// without colour: plain cells, coloured and bold ones, right-aligned ones,
// empty cells, wide and combining characters, headers wider than their
// column's cells and narrower.
func TestTableSameAsLipgloss(t *testing.T) {
	words := []string{"", "a", "completed", "2026-11-22 00:33:05.668", "1-24089@127....", "電話", "e\u0301té", "…", "alice@127.0.10.1:5060", "3 missing-ack,…", "x y  z"}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, profile := range []termenv.Profile{termenv.Ascii, termenv.ANSI256} {
		for trial := 0; trial < 200; trial++ {
			cols := 1 + rng.IntN(6)
			headers := make([]string, cols)
			for c := range headers {
				headers[c] = fmt.Sprintf("H%d%s", c, words[rng.IntN(len(words))])
			}
			data := make([][]string, rng.IntN(8))
			styled := make([][]int, len(data)) // 0 plain, 1 red, 2 bold yellow, 3 right-aligned
			for i := range data {
				data[i] = make([]string, cols)
				styled[i] = make([]int, cols)
				for c := range data[i] {
					data[i][c] = words[rng.IntN(len(words))]
					styled[i][c] = rng.IntN(4)
				}
			}
			var want, got bytes.Buffer
			r := lipgloss.NewRenderer(&want)
			r.SetColorProfile(profile)
			cell := r.NewStyle().Padding(0, 1)
			styles := []lipgloss.Style{cell, cell.Inherit(r.NewStyle().Foreground(lipgloss.Color("9"))),
				cell.Inherit(r.NewStyle().Foreground(lipgloss.Color("11")).Bold(true)), cell.Align(lipgloss.Right)}
			header := r.NewStyle().Bold(true).Padding(0, 1)
			lt := table.New().
				Border(lipgloss.NormalBorder()).BorderStyle(r.NewStyle().Faint(true)).
				BorderColumn(false).BorderLeft(false).BorderRight(false).BorderTop(false).BorderBottom(false).
				Headers(headers...).Rows(data...).
				StyleFunc(func(row, col int) lipgloss.Style {
					if row == table.HeaderRow {
						return header
					}
					return styles[styled[row][col]]
				})
			fmt.Fprintln(&want, lt.Render())

			bw := bufio.NewWriter(&got)
			tt := &textTable{headers: headers, rows: len(data),
				cells: func(i int, dst []string) []string { return append(dst, data[i]...) },
				style: func(row, col int) *lipgloss.Style {
					if styled[row][col] == 0 {
						return nil
					}
					return &styles[styled[row][col]]
				}}
			tt.write(bw, r)
			bw.Flush()
			if got.String() != want.String() {
				t.Fatalf("profile %v, headers %q, rows %q, styles %v:\ngot\n%q\nwant\n%q", profile, headers, data, styled, got.String(), want.String())
			}
		}
	}
}

// TestCallTablePlainWithoutColour: without colour, every style the call
// table gives a state or a findings cell draws the cell as a plain one, so
// writeCallTable may skip them.
func TestCallTablePlainWithoutColour(t *testing.T) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	cell := r.NewStyle().Padding(0, 1)
	var styles []lipgloss.Style
	for _, s := range []correlate.State{correlate.StateAnswered, correlate.StateCompleted, correlate.StateCancelled, correlate.StateRejected,
		correlate.StateFailed, correlate.StateUnanswered, correlate.StateInProgress, correlate.StateRegistered} {
		styles = append(styles, cell.Inherit(stateStyle(r, s)))
	}
	for _, st := range severityStyles(r) {
		styles = append(styles, cell.Inherit(st))
	}
	for i, st := range styles {
		for _, text := range []string{"", "completed", "3 missing-ack,…", "電話"} {
			got := st.Height(1).MaxHeight(1).Width(20).MaxWidth(20).Render(text)
			want := " " + text + strings.Repeat(" ", 19-ansi.StringWidth(text))
			if got != want {
				t.Errorf("style %d draws %q as %q, want %q", i, text, got, want)
			}
		}
	}
}

// TestShortURI: a URI is cut at 32 bytes, never inside a character, which
// the table would then show as the \xNN escapes of half a character.
func TestShortURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sip:alice@127.0.10.1:5060;transport=udp", "alice@127.0.10.1:5060"},
		{"<sip:bob@example.net>", "<sip:bob@example.net"},
		{"tel:+15551234567", "+15551234567"},
		{"sip:" + strings.Repeat("a", 40) + "@x", strings.Repeat("a", 31) + "…"},
		{"sip:x東京電話交換機東京電話交換機@example.com", "x東京電話交換機東京電…"},                                // 31 bytes end on a character
		{"sip:xy東京電話交換機東京電話交換機@example.com", "xy東京電話交換機東京…"},                               // 電 would be cut after 2 of its 3 bytes
		{"sip:xyz東京電話交換機東京電話交換機@example.com", "xyz東京電話交換機東京…"},                             // after 1
		{"sip:" + strings.Repeat("a", 30) + "\U0001F600@x", strings.Repeat("a", 30) + "…"}, // 4 bytes, cut after 1
	}
	for _, tt := range tests {
		got := shortURI(tt.in)
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("shortURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestStreamTableBounded: a codec name from the SDP is cut in the rtp
// table, so that one of thousands of bytes does not widen every line.
func TestStreamTableBounded(t *testing.T) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	var rows []streamRow
	for _, codec := range []string{"PCMA", strings.Repeat("A", 3000), strings.Repeat("電", 1000), "x\x1b]0;t\x07" + strings.Repeat(";", 500)} {
		rows = append(rows, streamRow{callID: "1-24089@127.0.10.1", s: &media.Stream{
			Key:   media.StreamKey{Src: netip.MustParseAddrPort("10.0.0.1:4000"), Dst: netip.MustParseAddrPort("10.0.0.2:5000"), SSRC: 1},
			Codec: codec, Packets: 10}})
	}
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	writeStreamTable(w, r, rows)
	w.Flush()
	for _, ln := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if n := ansi.StringWidth(ln); n > 140 {
			t.Errorf("line %d columns wide: %.80q...", n, ln)
		}
	}
	if !strings.Contains(b.String(), " PCMA ") || !strings.Contains(b.String(), " AAAAAAAAAAAAAAAAAAA… ") {
		t.Errorf("codecs not shown, or not cut with an ellipsis:\n%s", b.String())
	}
}
