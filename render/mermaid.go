package render

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// mermaidLegColors shade the messages of each leg of a B2BUA call group.
var mermaidLegColors = []string{
	"rgba(66, 133, 244, 0.10)", "rgba(142, 36, 170, 0.10)", "rgba(0, 131, 143, 0.10)",
	"rgba(46, 125, 50, 0.10)", "rgba(178, 106, 0, 0.10)", "rgba(194, 24, 91, 0.10)",
}

// mermaidNoteMax is how many characters of a note a diagram shows.
const mermaidNoteMax = 120

// Mermaid writes the ladder as a Mermaid sequenceDiagram: a participant per
// column, an arrow per row (->> requests, -->> responses, -) RTP streams),
// notes for SDP, events and findings, and the messages of each leg of a
// B2BUA call group in a shaded rect. Every label goes through MermaidText,
// so nothing from the capture can end a statement or start a new one.
func Mermaid(w io.Writer, l *Ladder) error {
	var b strings.Builder
	b.Grow(256 + len(l.Rows)*80)
	b.WriteString("sequenceDiagram\n")
	b.WriteString("    title ")
	b.WriteString(MermaidText(l.Kind + " " + l.CallID + " · " + l.State + " · " + l.Start.Format("2006-01-02 15:04:05") + " UTC"))
	b.WriteByte('\n')
	for i := range l.Participants {
		p := &l.Participants[i]
		alias := MermaidText(p.ID)
		if n := MermaidText(p.Name()); n != "" {
			alias = n + "<br/>" + alias
		}
		b.WriteString("    participant P")
		b.WriteString(strconv.Itoa(i))
		if alias != "" {
			b.WriteString(" as ")
			b.WriteString(alias)
		}
		b.WriteByte('\n')
	}
	multiLeg := len(l.Legs) > 1
	leg := -1
	indent := "    "
	notes, findings := l.Notes, l.findingsByRow()
	for i := range l.Rows {
		r := &l.Rows[i]
		if multiLeg && r.Kind == RowMessage && r.Leg != leg {
			if leg >= 0 {
				b.WriteString("    end\n")
			}
			leg = r.Leg
			b.WriteString("    rect ")
			b.WriteString(mermaidLegColors[leg%len(mermaidLegColors)])
			b.WriteByte('\n')
			indent = "        "
		}
		from, to := "P"+strconv.Itoa(r.From), "P"+strconv.Itoa(r.To)
		b.WriteString(indent)
		b.WriteString(from)
		switch {
		case r.Kind == RowStream:
			b.WriteString("-)")
		case r.IsRequest():
			b.WriteString("->>")
		default:
			b.WriteString("-->>")
		}
		b.WriteString(to)
		b.WriteString(": ")
		b.WriteString(MermaidText(mermaidLabel(l, r)))
		b.WriteByte('\n')
		over := from
		if r.From != r.To {
			over = from + "," + to
		}
		for len(notes) > 0 && notes[0].Row == i {
			prefix := "sdp "
			if notes[0].Kind == NoteEvent {
				prefix = "event "
			}
			mermaidNote(&b, indent, over, prefix+notes[0].Text)
			notes = notes[1:]
		}
		for len(findings) > 0 && findings[0].Row < i {
			findings = findings[1:]
		}
		for ; len(findings) > 0 && findings[0].Row == i; findings = findings[1:] {
			f := &findings[0]
			mermaidNote(&b, indent, over, "⚠ "+f.Severity+" "+f.Rule+": "+f.Detail)
		}
	}
	if leg >= 0 {
		b.WriteString("    end\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mermaidNote(b *strings.Builder, indent, over, text string) {
	text = cutRunes(text, mermaidNoteMax)
	b.WriteString(indent)
	b.WriteString("Note over ")
	b.WriteString(over)
	b.WriteString(": ")
	b.WriteString(MermaidText(text))
	b.WriteByte('\n')
}

// cutRunes cuts s to max runes, the last an ellipsis, when it is longer.
// Mermaid draws a label on one line, and replaces a whole diagram longer
// than its maxTextSize (50,000 characters) with an error: a label of
// thousands of bytes from the capture (a reason phrase, a codec's name),
// each ; of it written #59;, must not take the diagram with it.
func cutRunes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			if utf8.RuneCountInString(s[i:]) > 1 {
				return s[:i] + "…"
			}
			return s
		}
		n++
	}
	return s
}

// mermaidLabel is a row's arrow label; its label and CSeq method are cut
// to the SVG ladder's limits (svgLabelMax, svgCSeqMax), the ellipsis
// counted in them, as Mermaid's notes count theirs.
func mermaidLabel(l *Ladder, r *Row) string {
	var s strings.Builder
	s.WriteString(strconv.Itoa(r.N))
	s.WriteString(". ")
	s.WriteString(cutRunes(r.Label, svgLabelMax))
	switch {
	case r.Kind == RowStream:
		s.WriteString(" · ")
		s.WriteString(r.Stream.Summary())
	case r.IsRequest():
		s.WriteString(" · cseq ")
		s.WriteString(strconv.FormatUint(uint64(r.CSeq), 10))
	default:
		s.WriteString(" · cseq ")
		s.WriteString(strconv.FormatUint(uint64(r.CSeq), 10))
		s.WriteByte(' ')
		s.WriteString(cutRunes(r.CSeqMethod, svgCSeqMax))
	}
	if !l.ByPort {
		s.WriteString(" · ")
		s.WriteString(portOf(r.Src))
		s.WriteString(" → ")
		s.WriteString(portOf(r.Dst))
	}
	if t := shownTransport(r); t != "" { // as the text and SVG ladders say it on the arrow
		s.WriteString(" · ")
		s.WriteString(t)
	}
	if r.Retransmission {
		s.WriteString(" (retransmission)")
	}
	if len(l.Legs) > 1 && r.Kind == RowMessage {
		s.WriteString(" [leg ")
		s.WriteString(strconv.Itoa(r.Leg + 1))
		s.WriteString("]")
	}
	return s.String()
}

// MermaidText makes s safe as Mermaid label text: control characters are
// made visible (Sanitize), and every ASCII character but letters, digits,
// space and . , _ @ / ( ) [ ] + = * ! ? ~ ^ | $ - : is written as a
// Mermaid entity code (#59; for ;). So no label can end its statement (;
// or a newline), start a comment (# or %%), draw an arrow (> <), open a
// directive or frontmatter, or reach the rendered SVG as HTML.
func MermaidText(s string) string {
	s = SanitizeString(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r >= 0x80:
			b.WriteRune(r)
		case strings.ContainsRune(" .,_@/()[]+=*!?~^|$-:", r):
			b.WriteRune(r)
		default:
			b.WriteByte('#')
			b.WriteString(strconv.Itoa(int(r)))
			b.WriteByte(';')
		}
	}
	return b.String()
}

// JSON writes the layout model as JSON: the participants, rows, notes and
// findings as they are in the Ladder (strings exact, not sanitized: JSON
// escapes control characters itself, and DEL and the C1 controls, which
// encoding/json leaves raw, are escaped here). indent pretty-prints it;
// otherwise it is one line, for NDJSON.
func JSON(w io.Writer, l *Ladder, indent bool) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(l); err != nil {
		return err
	}
	_, err := w.Write(escapeTerminalControls(buf.Bytes()))
	return err
}

// escapeTerminalControls rewrites, in JSON that encoding/json wrote, DEL
// and the C1 controls (U+0080-U+009F, UTF-8 0xc2 0x80-0x9f) as \u escapes:
// a terminal may act on them (U+009B is CSI). Both can only be inside
// strings, and the encoder's output is valid UTF-8, so 0xc2 always starts
// a character: the JSON decodes to the same value.
func escapeTerminalControls(b []byte) []byte {
	const hex = "0123456789abcdef"
	if bytes.IndexByte(b, 0x7f) < 0 && bytes.IndexByte(b, 0xc2) < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == 0x7f:
			out = append(out, `\u007f`...)
		case c == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] < 0xa0:
			out = append(out, '\\', 'u', '0', '0', hex[b[i+1]>>4], hex[b[i+1]&15])
			i++
		default:
			out = append(out, c)
		}
	}
	return out
}

// MermaidMarkdown writes several ladders as Markdown: a heading and a
// fenced mermaid block per call, as GitHub and GitLab render them.
func MermaidMarkdown(w io.Writer, ls []*Ladder) error {
	var b strings.Builder
	for i, l := range ls {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("## ")
		b.WriteString(markdownText(l.Kind + " " + l.CallID))
		b.WriteString("\n\n```mermaid\n")
		if err := Mermaid(&b, l); err != nil {
			return err
		}
		b.WriteString("```\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// markdownText escapes a heading's text: Markdown punctuation and HTML.
func markdownText(s string) string {
	s = SanitizeString(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_{}[]()#+-.!<>&|~\"'", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
