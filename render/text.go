package render

import (
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// TextOptions tune Text.
type TextOptions struct {
	// Width is the number of terminal columns the ladder must fit in; 0
	// means 100. Lines never exceed it, except when there are more
	// participants than 3-column lanes fit in it.
	Width int
	// ASCII draws with ASCII characters only (| - > .), for pasting into
	// tickets and mails. Text from the capture is shown as it is.
	ASCII bool
	// Theme colours the ladder; nil or a colourless theme draws plain text.
	Theme *Theme
	// Full prints each message's full text (Row.Text) after its arrow.
	Full bool
}

// DefaultWidth is the width of a text ladder when none is given.
const DefaultWidth = 100

type glyphs struct {
	life, h, dash, stream, right, left, loopTop, loopBot rune
	ellipsis, arrow                                      string
}

var (
	unicodeGlyphs = glyphs{life: '│', h: '─', dash: '┄', stream: '═', right: '>', left: '<', loopTop: '┐', loopBot: '┘', ellipsis: "…", arrow: " → "}
	asciiGlyphs   = glyphs{life: '|', h: '-', dash: '.', stream: '=', right: '>', left: '<', loopTop: '+', loopBot: '+', ellipsis: "...", arrow: " -> "}
)

// widths measures terminal cells the same way everywhere, whatever the
// locale (East Asian ambiguous characters are one cell), so that golden
// files do not depend on the environment.
var widths = &runewidth.Condition{EastAsianWidth: false, StrictEmojiNeutral: true}

func runeWidth(r rune) int {
	if r < 0x7f {
		if r < 0x20 {
			return 0
		}
		return 1
	}
	return widths.RuneWidth(r)
}

// StringWidth is the number of terminal cells s takes once sanitized.
func StringWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// Text draws the ladder for a terminal or a text file: one column per
// participant, two lines per message (the label and CSeq, then the arrow
// with the ports), notes under it (SDP, hold and transfer events,
// findings), and the findings in full at the end. Everything from the
// capture goes through Sanitize.
func Text(w io.Writer, l *Ladder, o TextOptions) error {
	t := newTextRenderer(l, o)
	t.render()
	_, err := w.Write(t.out)
	return err
}

type cell struct {
	r rune // -1: the second half of a wide character
	s style
}

type textRenderer struct {
	l     *Ladder
	o     TextOptions
	g     *glyphs
	theme *Theme

	width  int // line width
	gutter int // columns before the first lane
	wN, wT int // packet number and time fields
	lane   int // distance between two participants' lifelines
	xs     []int
	keys   bool // headers show keys (A, B, ...) and a legend gives the names

	cells []cell
	out   []byte
	num   []byte // scratch for numbers
}

func newTextRenderer(l *Ladder, o TextOptions) *textRenderer {
	t := &textRenderer{l: l, o: o, g: &unicodeGlyphs, theme: o.Theme}
	if o.ASCII {
		t.g = &asciiGlyphs
	}
	if !t.theme.Color() {
		t.theme = nil
	}
	t.width = o.Width
	if t.width <= 0 {
		t.width = DefaultWidth
	}
	t.layout()
	t.out = make([]byte, 0, (len(l.Rows)*3+12)*(t.width/2+8))
	return t
}

// layout decides the gutter, the lane width and the column positions.
func (t *textRenderer) layout() {
	l := t.l
	maxN, maxT := 0, 1
	want := 0
	for i := range l.Rows {
		r := &l.Rows[i]
		if r.N > maxN {
			maxN = r.N
		}
		if n := len(formatSeconds(r.Offset, 3)); n > maxT {
			maxT = n
		}
		if n := len(formatSeconds(r.Delta, 3)) + 1; n > maxT {
			maxT = n
		}
		if r.Kind == RowMessage && r.From != r.To {
			// As drawn: sanitized, in cells.
			lw := StringWidth(SanitizeString(r.Label)) + 2 + len("cseq ") + len(strconv.FormatUint(uint64(r.CSeq), 10))
			if !r.IsRequest() {
				lw += 1 + StringWidth(SanitizeString(r.CSeqMethod))
			}
			if d := r.To - r.From; d == 1 || d == -1 {
				want = max(want, lw+4)
			}
		}
	}
	t.wN = len(strconv.Itoa(maxN))
	t.wT = maxT
	t.gutter = t.wN + 1 + t.wT + 2
	for i := range l.Participants {
		p := &l.Participants[i]
		want = max(want, StringWidth(SanitizeString(p.ID))+2, StringWidth(SanitizeString(p.Name()))+2)
	}
	want = min(max(want, 14), 36)
	n := max(len(l.Participants), 1)
	t.lane = min(want, (t.width-t.gutter)/n)
	if t.lane < 3 {
		t.lane = 3
	}
	t.xs = make([]int, len(l.Participants))
	for i := range t.xs {
		t.xs[i] = t.gutter + t.lane/2 + i*t.lane
	}
	for i := range l.Participants {
		p := &l.Participants[i]
		if StringWidth(SanitizeString(p.ID)) > t.lane-1 || StringWidth(SanitizeString(p.Name())) > t.lane-1 {
			t.keys = true
		}
	}
	w := t.width
	if n := t.gutter + len(l.Participants)*t.lane; n > w {
		w = n // too narrow even for 3-column lanes: overflow rather than break
	}
	t.cells = make([]cell, w)
}

func (t *textRenderer) clear() {
	for i := range t.cells {
		t.cells[i] = cell{r: ' '}
	}
}

func (t *textRenderer) lifelines() {
	for _, x := range t.xs {
		t.cells[x] = cell{r: t.g.life, s: stDim}
	}
}

func (t *textRenderer) put(x int, r rune, s style) {
	if x >= 0 && x < len(t.cells) {
		t.cells[x] = cell{r: r, s: s}
	}
}

// write puts the sanitized text s at column x, cut with an ellipsis at
// column limit; it returns the column after it.
func (t *textRenderer) write(x int, s string, st style, limit int) int {
	if limit > len(t.cells) {
		limit = len(t.cells)
	}
	if x >= limit || s == "" {
		return x
	}
	s = SanitizeString(s)
	if x+StringWidth(s) <= limit {
		return t.runes(x, s, st, limit)
	}
	ell := t.g.ellipsis
	room := limit - x - StringWidth(ell)
	if room < 0 {
		return x
	}
	end := 0
	for i, r := range s {
		w := runeWidth(r)
		if w > room {
			break
		}
		room -= w
		end = i + utf8.RuneLen(r)
	}
	x = t.runes(x, s[:end], st, limit)
	return t.runes(x, ell, st, limit)
}

// writeTail is write that cuts the start of s instead of its end: for
// addresses, whose last digits tell them apart.
func (t *textRenderer) writeTail(x int, s string, st style, limit int) int {
	s = SanitizeString(s)
	if x+StringWidth(s) <= limit {
		return t.runes(x, s, st, limit)
	}
	ell := t.g.ellipsis
	room := limit - x - StringWidth(ell)
	if room <= 0 {
		return x
	}
	start := len(s)
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:start])
		w := runeWidth(r)
		if w > room {
			break
		}
		room -= w
		start -= size
	}
	x = t.runes(x, ell, st, limit)
	return t.runes(x, s[start:], st, limit)
}

func (t *textRenderer) runes(x int, s string, st style, limit int) int {
	for _, r := range s {
		w := runeWidth(r)
		if w == 0 {
			continue // combining marks: dropped rather than misaligned (Sanitize shows format characters)
		}
		if x+w > limit {
			break
		}
		t.cells[x] = cell{r: r, s: st}
		if w == 2 {
			t.cells[x+1] = cell{r: -1, s: st}
		}
		x += w
	}
	return x
}

// flush appends the line to the output, trailing blanks removed.
func (t *textRenderer) flush() {
	end := len(t.cells)
	for end > 0 && t.cells[end-1].r == ' ' {
		end--
	}
	cur := stPlain
	for _, c := range t.cells[:end] {
		if c.r < 0 {
			continue
		}
		if t.theme != nil && c.s != cur && c.r != ' ' {
			t.out = append(t.out, t.theme.off[cur]...)
			t.out = append(t.out, t.theme.on[c.s]...)
			cur = c.s
		}
		t.out = utf8.AppendRune(t.out, c.r)
	}
	if t.theme != nil {
		t.out = append(t.out, t.theme.off[cur]...)
	}
	t.out = append(t.out, '\n')
}

// line writes a whole line of text (title, legend, footer), cut at the width.
func (t *textRenderer) line(x int, s string, st style) {
	t.clear()
	t.write(x, s, st, t.width)
	t.flush()
}

func (t *textRenderer) render() {
	l := t.l
	t.title()
	if len(l.Participants) == 0 {
		t.line(0, "no messages", stDim)
		return
	}
	t.header()
	notes := l.Notes
	findings := l.findingsByRow()
	for i := range l.Rows {
		r := &l.Rows[i]
		t.row(r)
		for len(notes) > 0 && notes[0].Row < i {
			notes = notes[1:]
		}
		for len(notes) > 0 && notes[0].Row == i {
			st, prefix := stSDP, "sdp "
			if notes[0].Kind == NoteEvent {
				st, prefix = stEvent, "event "
			}
			t.note(r, prefix, notes[0].Text, st)
			notes = notes[1:]
		}
		for len(findings) > 0 && findings[0].Row < i {
			findings = findings[1:]
		}
		for ; len(findings) > 0 && findings[0].Row == i; findings = findings[1:] {
			f := &findings[0]
			t.note(r, "! "+f.Severity+" ", f.Rule+": "+f.Detail, severityStyle(f.Severity))
		}
		if t.o.Full && r.Text != "" {
			t.fullText(r.Text)
		}
	}
	t.footer()
}

func (t *textRenderer) title() {
	l := t.l
	head := l.Kind + " " + l.CallID + " · " + l.State + " · " + l.Start.Format("2006-01-02 15:04:05.000") + " UTC"
	if t.o.ASCII {
		head = strings.Replace(head, " · ", ", ", 2)
	}
	t.line(0, head, stTitle)
	if l.From != "" || l.To != "" {
		t.line(0, l.Caller()+t.g.arrow+l.Callee(), stPlain)
	}
	if len(l.Legs) > 1 {
		for i, id := range l.Legs {
			t.clear()
			x := t.write(2, "leg "+strconv.Itoa(i+1)+" ", t.legStyle(i), t.width)
			t.write(x, id, stPlain, t.width)
			t.flush()
		}
	}
	t.line(0, "", stPlain)
}

func (t *textRenderer) legStyle(leg int) style {
	if len(t.l.Legs) > 1 {
		return legStyle(leg)
	}
	return stPlain
}

// key names participant i in a narrow header: A, B, ..., Z, AA, AB, ...
func key(i int) string {
	s := ""
	for {
		s = string(rune('A'+i%26)) + s
		i = i/26 - 1
		if i < 0 {
			return s
		}
	}
}

func (t *textRenderer) header() {
	l := t.l
	if t.keys {
		// Too narrow for the names: a legend, then keys over the columns.
		for i := range l.Participants {
			p := &l.Participants[i]
			t.clear()
			x := t.write(2, key(i), stHeader, t.width)
			x = t.write(x+1, p.ID, stPlain, t.width)
			if n := p.Name(); n != "" {
				t.write(x+2, n, stDim, t.width)
			}
			t.flush()
		}
		t.line(0, "", stPlain)
	}
	// Line 1: names (keys when narrow), if any; line 2: addresses.
	named := t.keys
	for i := range l.Participants {
		named = named || l.Participants[i].Name() != ""
	}
	for line := 0; line < 2; line++ {
		if line == 0 && !named {
			continue
		}
		t.clear()
		wrote := false
		for i := range l.Participants {
			p := &l.Participants[i]
			text, st := p.ID, stPlain
			switch {
			case line == 0 && t.keys:
				text, st = key(i), stHeader
			case line == 0:
				text, st = p.Name(), stHeader
			}
			if text == "" {
				continue
			}
			room := t.lane - 1
			w := min(StringWidth(SanitizeString(text)), room)
			x := max(t.xs[i]-w/2, 0)
			end := x
			if line == 1 {
				end = t.writeTail(x, text, st, x+room)
			} else {
				end = t.write(x, text, st, x+room)
			}
			wrote = wrote || end > x
		}
		if wrote {
			t.flush()
		}
	}
	t.clear()
	t.lifelines()
	t.flush()
}

// gutterText writes s right-aligned so that it ends at column end.
func (t *textRenderer) gutterText(end int, s string) {
	t.runes(end-len(s), s, stDim, end)
}

func (t *textRenderer) row(r *Row) {
	xa, xb := t.xs[r.From], t.xs[r.To]
	lo, hi := min(xa, xb), max(xa, xb)
	base := classStyle(r)
	arrowSt := t.legStyle(r.Leg)
	if r.Kind == RowStream {
		arrowSt = stStream
	}
	dim := stDim
	if r.Retransmission {
		base, arrowSt = stRetrans, stRetrans
	}

	// Label line.
	t.clear()
	t.lifelines()
	t.num = strconv.AppendInt(t.num[:0], int64(r.N), 10)
	t.gutterText(t.wN, string(t.num))
	t.gutterText(t.wN+1+t.wT, formatSeconds(r.Offset, 3))
	x := lo + 2
	if xa == xb {
		x = xa + 5
	}
	limit := t.width
	x = t.shiftLeft(x, t.labelWidth(r))
	x = t.write(x, r.Label, base, limit)
	if r.Kind == RowStream {
		x = t.write(x, "  ", stPlain, limit)
		x = t.write(x, r.Stream.Summary(), stStream, limit)
	} else {
		cseq := "cseq " + strconv.FormatUint(uint64(r.CSeq), 10)
		if !r.IsRequest() {
			cseq += " " + r.CSeqMethod
		}
		x = t.write(x, "  ", stPlain, limit)
		x = t.write(x, cseq, dim, limit)
	}
	if r.Retransmission {
		x = t.write(x, "  ", stPlain, limit)
		x = t.write(x, "(retransmission)", stRetrans, limit)
	}
	if len(t.l.Legs) > 1 && r.Kind == RowMessage {
		x = t.write(x, "  ", stPlain, limit)
		t.write(x, "[leg "+strconv.Itoa(r.Leg+1)+"]", arrowSt, limit)
	}
	t.flush()

	// Arrow line.
	t.clear()
	t.lifelines()
	if r.Kind == RowMessage && r.Delta > 0 {
		t.gutterText(t.wN+1+t.wT, "+"+formatSeconds(r.Delta, 3))
	}
	h := t.g.h
	switch {
	case r.Kind == RowStream:
		h = t.g.stream
	case r.Retransmission:
		h = t.g.dash
	}
	srcPort, dstPort := "", ""
	if !t.l.ByPort {
		srcPort, dstPort = portOf(r.Src), portOf(r.Dst)
	}
	if xa == xb {
		t.put(xa+1, h, arrowSt)
		t.put(xa+2, h, arrowSt)
		t.put(xa+3, t.g.loopTop, arrowSt)
		if srcPort != "" {
			t.write(xa+5, srcPort+t.g.arrow+dstPort, dim, t.width)
		}
		t.flush()
		t.clear()
		t.lifelines()
		t.put(xa+1, t.g.left, arrowSt)
		t.put(xa+2, h, arrowSt)
		t.put(xa+3, t.g.loopBot, arrowSt)
		t.flush()
		return
	}
	for x := lo + 1; x < hi; x++ {
		t.cells[x] = cell{r: h, s: arrowSt}
	}
	if xa < xb {
		t.cells[hi-1] = cell{r: t.g.right, s: arrowSt}
	} else {
		t.cells[lo+1] = cell{r: t.g.left, s: arrowSt}
	}
	if srcPort != "" && dstPort != "" && hi-lo-1 >= len(srcPort)+len(dstPort)+4 {
		if xa < xb {
			t.runes(lo+1, srcPort, dim, hi)
			t.runes(hi-len(dstPort), dstPort, dim, hi)
			t.cells[hi-len(dstPort)-1] = cell{r: t.g.right, s: arrowSt}
		} else {
			t.runes(lo+1, dstPort, dim, hi)
			t.cells[lo+1+len(dstPort)] = cell{r: t.g.left, s: arrowSt}
			t.runes(hi-len(srcPort), srcPort, dim, hi)
		}
	}
	// A hop over anything but UDP says so mid-arrow (" tcp ", " ws "), when
	// it fits clear of the ports on both sides.
	if tr := shownTransport(r); tr != "" {
		label := " " + tr + " "
		end := max(len(srcPort), len(dstPort)) + 2
		if hi-lo-1 >= len(label)+2*end {
			t.runes(lo+1+(hi-lo-1-len(label))/2, label, dim, hi)
		}
	}
	t.flush()
}

// shownTransport is the transport a ladder writes on a message's arrow:
// none for UDP, the usual one, nor for a row that is not a message.
func shownTransport(r *Row) string {
	if r.Kind != RowMessage || r.Transport == "udp" || r.Transport == "unknown" {
		return ""
	}
	return r.Transport
}

func (t *textRenderer) note(r *Row, prefix, text string, st style) {
	t.clear()
	t.lifelines()
	xa, xb := t.xs[r.From], t.xs[r.To]
	x := min(xa, xb) + 2
	if xa == xb {
		x = xa + 5
	}
	// A note shifts left only as far as it takes to show a useful part of
	// it: it is cut anyway, and said in full at the end or in other formats.
	x = t.shiftLeft(x, min(StringWidth(SanitizeString(prefix+text)), 40))
	x = t.write(x, prefix, st, t.width)
	t.write(x, text, st, t.width)
	t.flush()
}

// shiftLeft moves a text of width w that starts at x to the left, as far
// as the gutter, so that more of it fits in the line.
func (t *textRenderer) shiftLeft(x, w int) int {
	if over := x + w - t.width; over > 0 {
		x = max(x-over, t.gutter)
	}
	return x
}

// labelWidth is the width of a row's label line text, as row writes it.
func (t *textRenderer) labelWidth(r *Row) int {
	w := StringWidth(SanitizeString(r.Label))
	if r.Kind == RowStream {
		w += 2 + StringWidth(r.Stream.Summary())
	} else {
		w += 2 + len("cseq ") + len(strconv.FormatUint(uint64(r.CSeq), 10))
		if !r.IsRequest() {
			w += 1 + StringWidth(SanitizeString(r.CSeqMethod))
		}
	}
	if r.Retransmission {
		w += 2 + len("(retransmission)")
	}
	if len(t.l.Legs) > 1 && r.Kind == RowMessage {
		w += 2 + len("[leg ") + len(strconv.Itoa(r.Leg+1)) + 1
	}
	return w
}

// fullText prints a message's text under its row, wrapped at the width.
func (t *textRenderer) fullText(text string) {
	indent := t.gutter
	room := max(t.width-indent, 20)
	for _, ln := range strings.Split(strings.TrimRight(text, "\r\n"), "\n") {
		ln = SanitizeString(strings.TrimSuffix(ln, "\r"))
		for {
			t.clear()
			if StringWidth(ln) <= room {
				t.runes(indent, ln, stPlain, len(t.cells))
				t.flush()
				break
			}
			cut, w := 0, 0
			for i, r := range ln {
				rw := runeWidth(r)
				if w+rw > room {
					break
				}
				w += rw
				cut = i + utf8.RuneLen(r)
			}
			if cut == 0 {
				break
			}
			t.runes(indent, ln[:cut], stPlain, len(t.cells))
			t.flush()
			ln = ln[cut:]
		}
	}
	t.clear()
	t.lifelines()
	t.flush()
}

func (t *textRenderer) footer() {
	l := t.l
	if len(l.Findings) > 0 {
		t.line(0, "", stPlain)
		t.line(0, "findings", stTitle)
		for _, f := range l.Findings {
			st := severityStyle(f.Severity)
			lines := wrapWords(SanitizeString(f.Rule+": "+f.Detail), t.width-10)
			for i, ln := range lines {
				t.clear()
				if i == 0 {
					t.write(2, f.Severity, st, 10)
				}
				t.write(10, ln, st, t.width)
				t.flush()
			}
			pk := "packets " + PacketList(f.Packets, t.g.ellipsis)
			if f.RFC != "" {
				pk += " · " + f.RFC
				if t.o.ASCII {
					pk = strings.Replace(pk, " · ", ", ", 1)
				}
			}
			t.line(10, pk, stDim)
		}
	}
	switch {
	case l.Flow != "":
		t.line(0, "", stPlain)
		t.line(0, "flow: "+l.Flow, stDim)
	case l.Deviation != "":
		t.line(0, "", stPlain)
		for _, ln := range wrapWords(SanitizeString("flow: left "+l.Deviation), t.width) {
			t.line(0, ln, stDim)
		}
	}
}

// PacketList shows packet numbers separated by commas, the first eight and
// then ellipsis with the count when there are more.
func PacketList(ns []int, ellipsis string) string {
	const show = 8
	var b strings.Builder
	for i, n := range ns {
		if i == show {
			b.WriteString("," + ellipsis + " (" + strconv.Itoa(len(ns)) + " in all)")
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// wrapWords breaks s into lines of at most width cells, at spaces when it
// can.
func wrapWords(s string, width int) []string {
	if width < 10 {
		width = 10
	}
	var lines []string
	for StringWidth(s) > width {
		cut, w, lastSpace := 0, 0, -1
		for i, r := range s {
			rw := runeWidth(r)
			if w+rw > width {
				break
			}
			if r == ' ' {
				lastSpace = i
			}
			w += rw
			cut = i + utf8.RuneLen(r)
		}
		if lastSpace > 0 {
			cut = lastSpace
		}
		lines = append(lines, s[:cut])
		s = strings.TrimLeft(s[cut:], " ")
	}
	return append(lines, s)
}
