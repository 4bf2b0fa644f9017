package render

import (
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SVGOptions tune SVG.
type SVGOptions struct {
	// Embedded leaves out the XML declaration and the <style> element, for
	// a drawing placed inside an HTML page that carries SVGStyle once.
	Embedded bool
}

// SVG geometry, in pixels. Text is 12 px monospace: 7.2 px a character.
const (
	svgCharW    = 7.2
	svgMargin   = 10
	svgHeadTop  = 52  // participant boxes
	svgHeadH    = 38  // their height
	svgRowsTop  = 112 // first row
	svgRowH     = 34  // a message: label line and arrow
	svgNoteH    = 15  // a note line
	svgLoopH    = 10  // extra height of a self-addressed arrow
	svgNoteMax  = 110 // characters of a note drawn; the rest is in its <title>
	svgLabelMax = 60  // characters of a label drawn
	svgCSeqMax  = 20  // characters of a response's CSeq method drawn
	// svgTextW is the width a line of the title, subtitle or footer may
	// widen the drawing to. A longer line is cut (the title: its Call-ID)
	// or wrapped (a finding), unless the lanes make the drawing wider.
	svgTextW      = 1800
	svgTitleCharW = 8.4 // the title is 14 px
)

// SVGStyle is the stylesheet of SVG ladders (class names start with sf-).
// A standalone SVG carries it; an HTML page embedding ladders carries it
// once.
const SVGStyle = `.sf-bg{fill:#fff}
.sf-title{font-weight:bold;font-size:14px}
.sf-sub{fill:#444}
.sf-box{fill:#eef3fa;stroke:#5b7db1}
.sf-name{font-weight:bold;text-anchor:middle}
.sf-addr{text-anchor:middle;fill:#333}
.sf-life{stroke:#9aa5b1;stroke-dasharray:4 3}
.sf-gut{fill:#777;text-anchor:end}
.sf-hit{fill:transparent}
.sf-msg{cursor:pointer}
.sf-msg:hover .sf-hit,.sf-msg:focus .sf-hit{fill:#fff4c2}
.sf-msg.sf-sel .sf-hit{fill:#ffe58a}
.sf-line{stroke:#222;stroke-width:1.4;fill:none}
.sf-head{fill:#222}
.sf-port{fill:#777;font-size:10px}
.sf-end{text-anchor:end}
.sf-mid{text-anchor:middle}
.sf-cseq{fill:#777}
.sf-lab,.sf-note{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.sf-c0{font-weight:bold;fill:#1d3f73}
.sf-c1{fill:#3366aa}
.sf-c2{fill:#1d7a32}
.sf-c3{fill:#117a8b}
.sf-c4,.sf-c5,.sf-c6{fill:#b3261e}
.sf-rtx{opacity:.5}
.sf-rtx .sf-line{stroke-dasharray:5 3}
.sf-l1 .sf-line{stroke:#6a3d9a}.sf-l1 .sf-head{fill:#6a3d9a}
.sf-l2 .sf-line{stroke:#00838f}.sf-l2 .sf-head{fill:#00838f}
.sf-l3 .sf-line{stroke:#2e7d32}.sf-l3 .sf-head{fill:#2e7d32}
.sf-l4 .sf-line{stroke:#b26a00}.sf-l4 .sf-head{fill:#b26a00}
.sf-l5 .sf-line{stroke:#c2185b}.sf-l5 .sf-head{fill:#c2185b}
.sf-rtp .sf-line{stroke:#b8860b;stroke-width:3;stroke-dasharray:8 4}
.sf-rtp .sf-head{fill:#b8860b}
.sf-rtpl{fill:#8a6508}
.sf-sdp{fill:#00796b}
.sf-event{fill:#8e24aa}
.sf-error{fill:#b3261e;font-weight:bold}
.sf-warning{fill:#a15c00}
.sf-info{fill:#1f5fa8}
.sf-foot{fill:#444}
`

// SVG draws the ladder as a standalone SVG document (or, Embedded, an
// <svg> element for an HTML page). Every message row is a <g class="sf-msg"
// data-row="i" data-n="packet"> that a page can make clickable. Text from
// the capture is sanitized (control characters made visible) and
// XML-escaped, so the drawing is well-formed whatever the capture holds.
func SVG(w io.Writer, l *Ladder, o SVGOptions) error {
	s := newSVGRenderer(l, o)
	s.render()
	_, err := w.Write(s.b)
	return err
}

type svgRenderer struct {
	l       *Ladder
	o       SVGOptions
	b       []byte
	gutter  int // x where lanes start
	gN, gT  int // right edges of the packet number and time columns
	lane    int
	xs      []int
	width   int
	height  int
	ports   bool
	scratch []byte // packet numbers
	// byRow: the ladder's findings in the order of their rows
	// (findingsByRow), for the height and the drawing.
	byRow []Finding
	// title and sub are the title and subtitle lines; idMax and subMax
	// the characters of the Call-ID and of the subtitle drawn (0: all).
	title, sub    string
	idMax, subMax int
	foot          []svgLine // the footer, wrapped
}

// svgLine is a line of the footer: sanitized text, its class, and whether
// it continues the line before it (drawn indented).
type svgLine struct {
	class, text string
	cont        bool
}

func pxChars(n int) int { return int(float64(n)*svgCharW + 0.999) }

func newSVGRenderer(l *Ladder, o SVGOptions) *svgRenderer {
	s := &svgRenderer{l: l, o: o, ports: !l.ByPort}
	maxN, maxT, maxLabel := 1, 5, 0
	for i := range l.Rows {
		r := &l.Rows[i]
		maxN = max(maxN, len(strconv.Itoa(r.N)))
		maxT = max(maxT, len(formatSeconds(r.Offset, 3)), len(formatSeconds(r.Delta, 3))+1)
		if r.From != r.To {
			if d := r.To - r.From; d == 1 || d == -1 {
				maxLabel = max(maxLabel, min(len(r.Label)+len(r.CSeqMethod)+12, svgLabelMax))
			}
		}
	}
	for i := range l.Participants {
		p := &l.Participants[i]
		maxLabel = max(maxLabel, min(len(p.ID), 40), min(len(p.Name()), 40))
	}
	s.gN = svgMargin + pxChars(maxN)
	s.gT = s.gN + 8 + pxChars(maxT)
	s.gutter = s.gT + 10
	s.lane = min(max(pxChars(maxLabel)+30, 150), 420)
	s.xs = make([]int, len(l.Participants))
	for i := range s.xs {
		s.xs[i] = s.gutter + s.lane/2 + i*s.lane
	}
	s.width = s.gutter + len(l.Participants)*s.lane + svgMargin
	// Notes and labels may run past the last lane.
	right := 0
	for i := range l.Notes {
		n := &l.Notes[i]
		right = max(right, s.noteX(&l.Rows[n.Row])+pxChars(min(len(n.Text)+6, svgNoteMax)))
	}
	for _, f := range l.Findings {
		if f.Row >= 0 {
			right = max(right, s.noteX(&l.Rows[f.Row])+pxChars(min(len(f.Rule)+len(f.Detail)+12, svgNoteMax)))
		}
	}
	for i := range l.Rows {
		r := &l.Rows[i]
		// As row draws it: the label and CSeq method cut.
		n := min(len(r.Label), svgLabelMax) + 1 + min(len(r.CSeqMethod), svgCSeqMax) + 12
		if r.Kind == RowStream {
			n = min(len(r.Label), svgLabelMax) + 1 + len(r.Stream.Summary())
		}
		if r.Retransmission {
			n += len(" (retransmission)")
		}
		if len(l.Legs) > 1 {
			n += len(" [leg 10]")
		}
		right = max(right, s.noteX(r)+pxChars(n))
	}
	s.width = max(s.width, right+svgMargin, 480)
	s.lines(l)
	// Height: walk the rows as render will.
	y := svgRowsTop
	s.byRow = l.findingsByRow()
	notes, findings := l.Notes, s.byRow
	for i := range l.Rows {
		y += svgRowH
		if l.Rows[i].From == l.Rows[i].To {
			y += svgLoopH
		}
		for len(notes) > 0 && notes[0].Row == i {
			y += svgNoteH
			notes = notes[1:]
		}
		for len(findings) > 0 && findings[0].Row < i {
			findings = findings[1:]
		}
		for ; len(findings) > 0 && findings[0].Row == i; findings = findings[1:] {
			y += svgNoteH
		}
	}
	s.height = y + 10 + s.footerLines()*svgNoteH + svgMargin
	s.b = make([]byte, 0, 4096+len(l.Rows)*800+len(l.Notes)*160)
	return s
}

// lines lays out the title, subtitle and footer in the width the lanes
// need, or svgTextW if that is more, and widens the drawing to fit them.
// The title's Call-ID and the subtitle are cut, with their full text in a
// <title>; the footer's lines are wrapped.
func (s *svgRenderer) lines(l *Ladder) {
	room := max(s.width, svgTextW) - 2*svgMargin
	runes := func(v string) int { return utf8.RuneCountInString(SanitizeString(v)) }
	s.title = l.Kind + " " + l.CallID + " · " + l.State + " · " + l.Start.Format("2006-01-02 15:04:05.000") + " UTC"
	n := runes(s.title)
	if fit := int(float64(room) / svgTitleCharW); n > fit {
		if id, keep := runes(l.CallID), max(fit-1-n+runes(l.CallID), 16); keep < id {
			s.idMax = keep
			n += keep + 1 - id
		}
	}
	w := int(float64(n)*svgTitleCharW + 0.999)
	s.sub = l.Caller() + " → " + l.Callee()
	if len(l.Legs) > 1 {
		s.sub += " · legs: " + strings.Join(l.Legs, ", ")
	}
	n = runes(s.sub)
	if fit := room * 10 / 72; n > fit {
		s.subMax = fit - 1
		n = fit
	}
	w = max(w, pxChars(n))
	wrap := func(class, v string) {
		fit := room*10/72 - 2
		for i, ln := range wrapWords(SanitizeString(v), fit) {
			s.foot = append(s.foot, svgLine{class: class, text: ln, cont: i > 0})
			if i > 0 {
				w = max(w, pxChars(2+min(len(ln), fit)))
			} else {
				w = max(w, pxChars(min(len(ln), fit+2)))
			}
		}
	}
	for _, f := range l.Findings {
		wrap("sf-foot sf-"+f.Severity, s.footerText(&f))
	}
	switch {
	case l.Flow != "":
		wrap("sf-foot", "flow: "+l.Flow)
	case l.Deviation != "":
		wrap("sf-foot", "flow: left "+l.Deviation)
	}
	s.width = max(s.width, w+2*svgMargin)
}

func (s *svgRenderer) footerLines() int {
	if len(s.foot) == 0 {
		return 0
	}
	return len(s.foot) + 1
}

func (s *svgRenderer) noteX(r *Row) int {
	xa, xb := s.xs[r.From], s.xs[r.To]
	if xa == xb {
		return xa + 40
	}
	return min(xa, xb) + 8
}

func (s *svgRenderer) str(v string) { s.b = append(s.b, v...) }

func (s *svgRenderer) int(v int) { s.b = strconv.AppendInt(s.b, int64(v), 10) }

// text appends v sanitized and XML-escaped, cut at max characters.
func (s *svgRenderer) text(v string, max int) {
	s.b = appendXMLText(s.b, SanitizeString(v), max)
}

// appendXMLText escapes s for XML character data and attribute values,
// cutting it after max runes (0: no limit) with an ellipsis. s must be
// sanitized already: what is left that XML forbids (U+FFFE, U+FFFF) is
// shown as \x escapes too.
func appendXMLText(b []byte, s string, max int) []byte {
	if max == 0 || len(s) <= max {
		plain := true
		for i := 0; i < len(s) && plain; i++ {
			switch c := s[i]; c {
			case '&', '<', '>', '"', '\'', 0xef: // 0xef: U+FFFE and U+FFFF start with it
				plain = false
			}
		}
		if plain {
			return append(b, s...)
		}
	}
	n := 0
	for i, r := range s {
		if max > 0 && n == max && i < len(s) {
			return append(b, "…"...)
		}
		n++
		switch r {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '"':
			b = append(b, "&#34;"...)
		case '\'':
			b = append(b, "&#39;"...)
		case 0xfffe, 0xffff:
			for _, c := range []byte(string(r)) {
				b = append(b, '\\', 'x', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
			}
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

// textEl appends <text class=".." x=".." y="..">v</text>.
func (s *svgRenderer) textEl(class string, x, y int, v string, max int) {
	s.str(`<text class="`)
	s.str(class)
	s.str(`" x="`)
	s.int(x)
	s.str(`" y="`)
	s.int(y)
	s.str(`">`)
	s.text(v, max)
	s.str("</text>")
}

func (s *svgRenderer) render() {
	l := s.l
	if !s.o.Embedded {
		s.str(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	}
	s.str(`<svg xmlns="http://www.w3.org/2000/svg" class="sf-ladder" width="`)
	s.int(s.width)
	s.str(`" height="`)
	s.int(s.height)
	s.str(`" viewBox="0 0 `)
	s.int(s.width)
	s.str(" ")
	s.int(s.height)
	s.str(`" font-family="ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono',monospace" font-size="12">` + "\n")
	if !s.o.Embedded {
		s.str("<style>\n" + SVGStyle + "</style>\n")
	}
	s.str(`<rect class="sf-bg" width="100%" height="100%"/>` + "\n")
	s.str(`<text class="sf-title" x="10" y="20">`)
	if s.idMax > 0 {
		s.text(l.Kind+" ", 0)
		s.text(l.CallID, s.idMax)
		s.text(strings.TrimPrefix(s.title, l.Kind+" "+l.CallID), 0)
		s.str("<title>")
		s.text(s.title, 0)
		s.str("</title>")
	} else {
		s.text(s.title, 0)
	}
	s.str(`</text><text class="sf-sub" x="10" y="38">`)
	s.text(s.sub, s.subMax)
	if s.subMax > 0 {
		s.str("<title>")
		s.text(s.sub, 0)
		s.str("</title>")
	}
	s.str("</text>\n")
	s.header()
	notes, findings := l.Notes, s.byRow
	y := svgRowsTop
	for i := range l.Rows {
		r := &l.Rows[i]
		s.row(i, r, y)
		y += svgRowH
		if r.From == r.To {
			y += svgLoopH
		}
		for len(notes) > 0 && notes[0].Row == i {
			class, prefix := "sf-note sf-sdp", "sdp "
			if notes[0].Kind == NoteEvent {
				class, prefix = "sf-note sf-event", "event "
			}
			s.note(r, y, class, prefix+notes[0].Text)
			y += svgNoteH
			notes = notes[1:]
		}
		for len(findings) > 0 && findings[0].Row < i {
			findings = findings[1:]
		}
		for ; len(findings) > 0 && findings[0].Row == i; findings = findings[1:] {
			f := &findings[0]
			s.note(r, y, "sf-note sf-"+f.Severity, "! "+f.Severity+" "+f.Rule+": "+f.Detail)
			y += svgNoteH
		}
	}
	s.footer(y + 10)
	s.str("</svg>\n")
}

func (s *svgRenderer) header() {
	l := s.l
	bottom := s.height - 10 - s.footerLines()*svgNoteH - svgMargin
	for i := range l.Participants {
		p := &l.Participants[i]
		x := s.xs[i]
		s.str(`<line class="sf-life" x1="`)
		s.int(x)
		s.str(`" y1="`)
		s.int(svgHeadTop + svgHeadH)
		s.str(`" x2="`)
		s.int(x)
		s.str(`" y2="`)
		s.int(bottom)
		s.str(`"/>`)
		s.str(`<rect class="sf-box" rx="4" x="`)
		s.int(x - (s.lane-16)/2)
		s.str(`" y="`)
		s.int(svgHeadTop)
		s.str(`" width="`)
		s.int(s.lane - 16)
		s.str(`" height="`)
		s.int(svgHeadH)
		s.str(`"><title>`)
		s.text(p.ID, 0)
		if n := p.Name(); n != "" {
			s.str(" ")
			s.text(n, 0)
		}
		s.str(`</title></rect>`)
		room := (s.lane - 24) * 10 / 72
		if n := p.Name(); n != "" {
			s.textEl("sf-name", x, svgHeadTop+15, n, room)
			s.textEl("sf-addr", x, svgHeadTop+31, p.ID, room)
		} else {
			s.textEl("sf-name", x, svgHeadTop+23, p.ID, room)
		}
		s.str("\n")
	}
}

func (s *svgRenderer) row(i int, r *Row, y int) {
	l := s.l
	xa, xb := s.xs[r.From], s.xs[r.To]
	class := "sf-msg"
	if r.Kind == RowStream {
		class = "sf-rtp"
	}
	if r.Retransmission {
		class += " sf-rtx"
	}
	if len(l.Legs) > 1 && r.Kind == RowMessage {
		class += " sf-l" + strconv.Itoa(r.Leg%6)
	}
	s.str(`<g class="`)
	s.str(class)
	s.str(`" data-row="`)
	s.int(i)
	s.str(`" data-n="`)
	s.int(r.N)
	if r.Kind == RowMessage {
		s.str(`" tabindex="0`)
	}
	s.str(`"><title>packet `)
	s.int(r.N)
	s.str(", ")
	s.b = r.Time.AppendFormat(s.b, "15:04:05.000000")
	s.str(", ")
	s.text(r.Src, 0)
	s.str(" → ")
	s.text(r.Dst, 0)
	s.str(" ")
	s.text(r.Transport, 0)
	if r.RequestURI != "" {
		s.str(", ")
		s.text(r.RequestURI, 0)
	}
	s.str(`</title>`)
	if r.Kind == RowMessage {
		s.str(`<rect class="sf-hit" x="0" y="`)
		s.int(y)
		s.str(`" width="`)
		s.int(s.width)
		s.str(`" height="`)
		s.int(svgRowH - 4)
		s.str(`"/>`)
	}
	// Gutter: packet number and time on the label line, delta on the arrow's.
	s.scratch = strconv.AppendInt(s.scratch[:0], int64(r.N), 10)
	s.textEl("sf-gut", s.gN, y+13, string(s.scratch), 0)
	s.textEl("sf-gut", s.gT, y+13, formatSeconds(r.Offset, 3), 0)
	if r.Kind == RowMessage && r.Delta > 0 {
		s.textEl("sf-gut", s.gT, y+26, "+"+formatSeconds(r.Delta, 3), 0)
	}
	// Label.
	lx := min(xa, xb) + 8
	if xa == xb {
		lx = xa + 40
	}
	s.str(`<text class="sf-lab" x="`)
	s.int(lx)
	s.str(`" y="`)
	s.int(y + 13)
	s.str(`"><tspan class="`)
	if r.Kind == RowStream {
		s.str(`sf-rtpl`)
	} else {
		s.str(`sf-c`)
		s.int(r.Class())
	}
	s.str(`">`)
	s.text(r.Label, svgLabelMax)
	s.str(`</tspan> <tspan class="sf-cseq">`)
	switch {
	case r.Kind == RowStream:
		s.text(r.Stream.Summary(), 0)
	case r.IsRequest():
		s.str("cseq ")
		s.int(int(r.CSeq))
	default:
		s.str("cseq ")
		s.int(int(r.CSeq))
		s.str(" ")
		s.text(r.CSeqMethod, svgCSeqMax)
	}
	if r.Retransmission {
		s.str(" (retransmission)")
	}
	if len(l.Legs) > 1 && r.Kind == RowMessage {
		s.str(" [leg ")
		s.int(r.Leg + 1)
		s.str("]")
	}
	s.str("</tspan></text>")
	// Arrow.
	ay := y + 22
	if xa == xb {
		s.str(`<path class="sf-line" d="M`)
		s.int(xa)
		s.str(" ")
		s.int(ay)
		s.str(" h30 v")
		s.int(svgLoopH)
		s.str(" h-24\"/>")
		s.arrowHead(xa, ay+svgLoopH, -1)
		if s.ports {
			s.textEl("sf-port", xa+36, ay+svgLoopH, portOf(r.Src)+" → "+portOf(r.Dst), 0)
		}
	} else {
		dir := 1
		if xb < xa {
			dir = -1
		}
		s.str(`<line class="sf-line" x1="`)
		s.int(xa)
		s.str(`" y1="`)
		s.int(ay)
		s.str(`" x2="`)
		s.int(xb - dir*6)
		s.str(`" y2="`)
		s.int(ay)
		s.str(`"/>`)
		s.arrowHead(xb, ay, dir)
		if s.ports {
			sp, dp := portOf(r.Src), portOf(r.Dst)
			if dir > 0 {
				s.textEl("sf-port", xa+4, ay+11, sp, 0)
				s.textEl("sf-port sf-end", xb-4, ay+11, dp, 0)
			} else {
				s.textEl("sf-port", xb+4, ay+11, dp, 0)
				s.textEl("sf-port sf-end", xa-4, ay+11, sp, 0)
			}
		}
		if tr := shownTransport(r); tr != "" {
			s.textEl("sf-port sf-mid", (xa+xb)/2, ay+11, tr, 0)
		}
	}
	s.str("</g>\n")
}

// arrowHead draws a head pointing at x (dir 1: coming from the left).
func (s *svgRenderer) arrowHead(x, y, dir int) {
	s.str(`<path class="sf-head" d="M`)
	s.int(x)
	s.str(" ")
	s.int(y)
	s.str(" l")
	s.int(-dir * 8)
	s.str(" -4 v8 z\"/>")
}

func (s *svgRenderer) note(r *Row, y int, class, text string) {
	s.str(`<text class="`)
	s.str(class)
	s.str(`" x="`)
	s.int(s.noteX(r))
	s.str(`" y="`)
	s.int(y + 11)
	s.str(`">`)
	s.text(text, svgNoteMax)
	if len(text) > svgNoteMax {
		s.str("<title>")
		s.text(text, 0)
		s.str("</title>")
	}
	s.str("</text>\n")
}

func (s *svgRenderer) footerText(f *Finding) string {
	return f.Severity + " " + f.Rule + ": " + f.Detail + " (packets " + PacketList(f.Packets, "…") + ", " + f.RFC + ")"
}

func (s *svgRenderer) footer(y int) {
	if len(s.foot) == 0 {
		return
	}
	for i, ln := range s.foot {
		y += svgNoteH
		x := svgMargin
		if ln.cont {
			x += pxChars(2)
		}
		s.textEl(ln.class, x, y, ln.text, 0)
		if ln.class != "sf-foot" || i+1 < len(s.foot) && s.foot[i+1].cont { // a finding, or the flow wrapped
			s.str("\n")
		}
	}
	s.str("\n")
}

// SVGs draws several ladders one under the other in one SVG document.
func SVGs(w io.Writer, ls []*Ladder) error {
	rs := make([]*svgRenderer, len(ls))
	width, height := 0, 0
	for i, l := range ls {
		rs[i] = newSVGRenderer(l, SVGOptions{Embedded: true})
		width = max(width, rs[i].width)
		height += rs[i].height
	}
	var b []byte
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<svg xmlns="http://www.w3.org/2000/svg" width="`...)
	b = strconv.AppendInt(b, int64(width), 10)
	b = append(b, `" height="`...)
	b = strconv.AppendInt(b, int64(height), 10)
	b = append(b, `" viewBox="0 0 `...)
	b = strconv.AppendInt(b, int64(width), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(height), 10)
	b = append(b, "\">\n<style>\n"+SVGStyle+"</style>\n"...)
	y := 0
	for _, s := range rs {
		b = append(b, `<g transform="translate(0,`...)
		b = strconv.AppendInt(b, int64(y), 10)
		b = append(b, ")\">\n"...)
		s.render()
		b = append(b, s.b...)
		b = append(b, "</g>\n"...)
		y += s.height
	}
	b = append(b, "</svg>\n"...)
	_, err := w.Write(b)
	return err
}
