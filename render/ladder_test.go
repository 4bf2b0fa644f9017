package render_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"golang.org/x/net/html"

	"github.com/sipflow/sipflow/render"
)

// goldenCaptures are the testdata captures drawn in every format: a call
// with RTP, a forked call, a B2BUA group, hold and resume, a failed
// authentication, a missing ACK with retransmissions, a call through a
// proxy over WebSocket and UDP (the transport on the arrows), a T.38 fax
// with UDPTL lost and made good.
var goldenCaptures = []string{
	"call_rtp.pcap", "forked_call.pcap", "b2bua_xcallid.pcap", "call_hold.pcap",
	"register_wrong_password.pcap", "invite_no_ack.pcap", "ws_call.pcap", "t38_loss.pcap",
}

type ladderCase struct {
	name string // golden file base name
	l    *render.Ladder
}

// ladderCases builds the ladders of the golden captures, the proxy chain
// (nine participants) and the hostile call.
func ladderCases(t testing.TB) []ladderCase {
	t.Helper()
	var cs []ladderCase
	for _, f := range goldenCaptures {
		calls := callsOf(t, repoTestdata(f), nil)
		if len(calls) != 1 {
			t.Fatalf("%s: %d calls, want 1", f, len(calls))
		}
		cs = append(cs, ladderCase{"flow_" + strings.TrimSuffix(f, ".pcap"), render.Build(calls[0], render.Options{Text: true})})
	}
	for _, s := range []struct {
		name string
		pcap []byte
	}{{"flow_proxy_chain", proxyChain(t)}, {"flow_hostile", hostileCall(t)}, {"flow_loopback", loopback(t)}} {
		calls := callsOf(t, "", s.pcap)
		if len(calls) != 1 {
			t.Fatalf("%s: %d calls, want 1", s.name, len(calls))
		}
		cs = append(cs, ladderCase{s.name, render.Build(calls[0], render.Options{Text: true})})
	}
	return cs
}

func renderAll(t *testing.T, c ladderCase) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	var b bytes.Buffer
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(render.Text(&b, c.l, render.TextOptions{Width: 100}))
	out[".txt"] = bytes.Clone(b.Bytes())
	b.Reset()
	must(render.Text(&b, c.l, render.TextOptions{Width: 80, ASCII: true}))
	out[".ascii.txt"] = bytes.Clone(b.Bytes())
	b.Reset()
	must(render.SVG(&b, c.l, render.SVGOptions{}))
	out[".svg"] = bytes.Clone(b.Bytes())
	b.Reset()
	must(render.HTML(&b, []*render.Ladder{c.l}, c.name))
	out[".html"] = bytes.Clone(b.Bytes())
	b.Reset()
	must(render.Mermaid(&b, c.l))
	out[".mmd"] = bytes.Clone(b.Bytes())
	b.Reset()
	must(render.JSON(&b, c.l, true))
	out[".json"] = bytes.Clone(b.Bytes())
	return out
}

// TestLadderGolden draws every case in every format and compares with
// testdata/ (go test ./render -update rewrites the files).
func TestLadderGolden(t *testing.T) {
	for _, c := range ladderCases(t) {
		t.Run(c.name, func(t *testing.T) {
			for ext, got := range renderAll(t, c) {
				golden(t, c.name+ext, got)
			}
		})
	}
	// The many-participant call on a narrow terminal, and a call's full text.
	for _, c := range ladderCases(t) {
		var b bytes.Buffer
		switch c.name {
		case "flow_proxy_chain":
			render.Text(&b, c.l, render.TextOptions{Width: 60})
			golden(t, c.name+".w60.txt", b.Bytes())
			b.Reset()
			render.Text(&b, c.l, render.TextOptions{Width: 44, ASCII: true})
			golden(t, c.name+".w44.ascii.txt", b.Bytes())
		case "flow_call_rtp":
			render.Text(&b, c.l, render.TextOptions{Width: 100, Full: true})
			golden(t, c.name+".full.txt", b.Bytes())
		}
	}
}

// TestTextFitsWidth: at any width, no line of a ladder is wider than the
// terminal, and every row keeps its arrow: columns are compressed and
// labels cut, never wrapped.
func TestTextFitsWidth(t *testing.T) {
	for _, c := range ladderCases(t) {
		for _, width := range []int{40, 52, 60, 80, 100, 132, 200} {
			for _, ascii := range []bool{false, true} {
				var b bytes.Buffer
				render.Text(&b, c.l, render.TextOptions{Width: width, ASCII: ascii, Full: true})
				arrows := 0
				for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
					if w := render.StringWidth(line); w > width {
						t.Errorf("%s width %d ascii %v: line %d is %d wide: %q", c.name, width, ascii, i+1, w, line)
					}
					if strings.Contains(line, ">") && (strings.Contains(line, "->") || strings.Contains(line, "─>") || strings.Contains(line, "┄>") || strings.Contains(line, "=>") || strings.Contains(line, "═>") || strings.Contains(line, ".>")) ||
						strings.Contains(line, "<-") || strings.Contains(line, "<─") || strings.Contains(line, "<┄") || strings.Contains(line, "<=") || strings.Contains(line, "<═") || strings.Contains(line, "<.") {
						arrows++
					}
				}
				if arrows < len(c.l.Rows) {
					t.Errorf("%s width %d ascii %v: %d arrows for %d rows", c.name, width, ascii, arrows, len(c.l.Rows))
				}
				if ascii {
					for _, r := range b.String() {
						if r > 0x7e && !strings.ContainsRune(capturedText(c.l), r) {
							t.Errorf("%s: --ascii drew %q", c.name, r)
							break
						}
					}
				}
			}
		}
	}
}

// capturedText is every string of the ladder that came from the capture:
// the only place --ascii output may have non-ASCII characters.
func capturedText(l *render.Ladder) string {
	var b strings.Builder
	b.WriteString(l.CallID + l.From + l.To + strings.Join(l.Legs, ""))
	for _, p := range l.Participants {
		b.WriteString(p.ID + p.Name())
	}
	for _, r := range l.Rows {
		b.WriteString(r.Label + r.Text + r.CSeqMethod)
	}
	for _, n := range l.Notes {
		b.WriteString(n.Text)
	}
	for _, f := range l.Findings {
		b.WriteString(f.Detail + f.RFC) // RFC sections have §
	}
	return render.SanitizeString(b.String())
}

// TestSVGWellFormed: every SVG parses as XML, has one clickable group per
// message, and no element but SVG's own.
func TestSVGWellFormed(t *testing.T) {
	var all []*render.Ladder
	for _, c := range ladderCases(t) {
		all = append(all, c.l)
		var b bytes.Buffer
		render.SVG(&b, c.l, render.SVGOptions{})
		groups := checkSVG(t, c.name, b.Bytes())
		if groups != c.l.NumMessages() {
			t.Errorf("%s: %d message groups, want %d", c.name, groups, c.l.NumMessages())
		}
	}
	var b bytes.Buffer
	if err := render.SVGs(&b, all); err != nil {
		t.Fatal(err)
	}
	checkSVG(t, "all ladders stacked", b.Bytes())
}

// TestSVGWidthBounded: a drawing is as wide as what it draws. A label or
// CSeq method of thousands of bytes (a codec's name from the SDP, a
// reason phrase) is cut where it is drawn, and must not widen the drawing
// by its full length. Neither may a long Call-ID or display name in the
// title and subtitle (cut, the whole in a <title>), nor a long finding in
// the footer (wrapped, the drawing taller instead): a line of text widens
// the drawing to 1,800 px at most.
func TestSVGWidthBounded(t *testing.T) {
	draw := func(l *render.Ladder) (doc string, width, height int) {
		var b bytes.Buffer
		if err := render.SVG(&b, l, render.SVGOptions{}); err != nil {
			t.Fatal(err)
		}
		checkSVG(t, "long", b.Bytes())
		m := regexp.MustCompile(`<svg [^>]*width="([0-9]+)" height="([0-9]+)"`).FindSubmatch(b.Bytes())
		if m == nil {
			t.Fatalf("no width in %.200s", b.Bytes())
		}
		width, _ = strconv.Atoi(string(m[1]))
		height, _ = strconv.Atoi(string(m[2]))
		return b.String(), width, height
	}
	_, base, _ := draw(ladderCases(t)[0].l) // call_rtp: messages and RTP streams
	long := strings.Repeat("A", 3000)
	tests := []struct {
		name  string
		edit  func(l *render.Ladder)
		max   int    // widest drawing allowed
		whole string // text that must be in the drawing whole
	}{
		{"labels", func(l *render.Ladder) {
			if l.Rows[5].Kind != render.RowStream {
				t.Fatalf("row 5 is %s, want an RTP stream", l.Rows[5].Kind)
			}
			for i := range l.Rows {
				l.Rows[i].Label += long
				if l.Rows[i].CSeqMethod != "" {
					l.Rows[i].CSeqMethod += long
				}
			}
		}, base + 600, ""}, // 60 label and 20 method characters drawn, 7.2 px each
		{"call-id", func(l *render.Ladder) { l.CallID = long + "@h" }, 1800, "<title>call " + long + "@h · "},
		{"display name", func(l *render.Ladder) { l.FromDisplay = long }, 1800, "<title>" + long + " &lt;sip:"},
		{"finding", func(l *render.Ladder) {
			l.Findings = append(l.Findings, render.Finding{Row: -1, Rule: "call-failed", Severity: "warning", Packets: []int{3},
				Detail: "call rejected with 486 " + long + " and " + strings.Repeat("B ", 1500), RFC: "RFC 3261 §21.4"})
		}, 1800, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ladderCases(t)[0].l
			tt.edit(l)
			doc, w, h := draw(l)
			if w > tt.max {
				t.Errorf("SVG %d px wide, want at most %d (%d px without long values)", w, tt.max, base)
			}
			if !strings.Contains(doc, tt.whole) {
				t.Errorf("%.40q... not in the drawing whole", tt.whole)
			}
			// Everything is drawn above the bottom, the title, subtitle and
			// footer left of the right edge, and the footer's lines hold the
			// finding whole.
			var foot strings.Builder
			for _, m := range regexp.MustCompile(`<text class="([^"]*)" x="([0-9]+)" y="([0-9]+)">([^<]*)`).FindAllStringSubmatch(doc, -1) {
				x, _ := strconv.Atoi(m[2])
				if y, _ := strconv.Atoi(m[3]); y > h-svgBottom {
					t.Errorf("text at y %d in a drawing %d px high: %.60q", y, h, m[4])
				}
				charW := 7.2
				switch {
				case m[1] == "sf-title":
					charW = 8.4 // 14 px
				case m[1] != "sf-sub" && !strings.HasPrefix(m[1], "sf-foot"):
					continue
				}
				if right := float64(x) + charW*float64(utf8.RuneCountInString(html.UnescapeString(m[4]))); right > float64(w) {
					t.Errorf("%s text runs to x %.0f in a drawing %d px wide", m[1], right, w)
				}
				if strings.HasPrefix(m[1], "sf-foot sf-") {
					foot.WriteString(m[4] + " ")
				}
			}
			for _, f := range l.Findings {
				// Wrapped at spaces, or inside a word too long for a line.
				if want := strings.Join(strings.Fields(f.Detail), ""); !strings.Contains(strings.Join(strings.Fields(foot.String()), ""), want) {
					t.Errorf("finding %s is not drawn whole in the footer", f.Rule)
				}
			}
		})
	}
}

// svgBottom is the SVG ladder's bottom margin.
const svgBottom = 10

// TestMermaidLabelsBounded: labels are cut as the SVG ladder cuts them, so
// that a reason phrase of thousands of semicolons (each written #59;)
// does not push the diagram past Mermaid's maxTextSize (50,000
// characters), which replaces the whole diagram with an error.
func TestMermaidLabelsBounded(t *testing.T) {
	l := ladderCases(t)[0].l // call_rtp
	long := strings.Repeat(";", 3000)
	for i := range l.Rows {
		l.Rows[i].Label += long
		if l.Rows[i].CSeqMethod != "" {
			l.Rows[i].CSeqMethod += long
		}
	}
	var b bytes.Buffer
	if err := render.Mermaid(&b, l); err != nil {
		t.Fatal(err)
	}
	if b.Len() > 20000 {
		t.Errorf("diagram of %d rows is %d bytes", len(l.Rows), b.Len())
	}
	for _, ln := range strings.Split(b.String(), "\n") {
		if len(ln) > 600 {
			t.Errorf("line of %d bytes: %.100s...", len(ln), ln)
		}
	}
}

var svgElements = map[string]bool{"svg": true, "style": true, "rect": true, "text": true, "tspan": true, "title": true, "line": true, "path": true, "g": true}

// checkSVG parses an SVG document and returns its number of sf-msg groups.
func checkSVG(t *testing.T, name string, doc []byte) int {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	groups, depth := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: SVG is not well-formed XML: %v", name, err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if depth == 0 && (e.Name.Local != "svg" || e.Name.Space != "http://www.w3.org/2000/svg") {
				t.Errorf("%s: root element %v", name, e.Name)
			}
			depth++
			if !svgElements[e.Name.Local] {
				t.Errorf("%s: unexpected element <%s>", name, e.Name.Local)
			}
			for _, a := range e.Attr {
				if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") || strings.Contains(a.Value, "javascript:") {
					t.Errorf("%s: attribute %s=%q", name, a.Name.Local, a.Value)
				}
				if a.Name.Local == "class" && strings.Contains(" "+a.Value+" ", " sf-msg ") {
					groups++
				}
			}
		case xml.EndElement:
			depth--
		}
	}
	return groups
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// TestHostileEscaped: the hostile call's OSC title escape, HTML, Mermaid
// arrows and separators reach no output raw.
func TestHostileEscaped(t *testing.T) {
	calls := callsOf(t, "", hostileCall(t))
	l := render.Build(calls[0], render.Options{Text: true})
	if l.CallID != hostileCallID || l.Participants[0].Agent != hostileAgent {
		t.Fatalf("the hostile headers did not survive decoding: %q %q", l.CallID, l.Participants[0].Agent)
	}
	t.Run("text", func(t *testing.T) {
		r := lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(termenv.ANSI256)
		for _, theme := range []*render.Theme{nil, render.NewTheme(r)} {
			for _, ascii := range []bool{false, true} {
				var b bytes.Buffer
				render.Text(&b, l, render.TextOptions{Width: 200, ASCII: ascii, Theme: theme, Full: true})
				out := b.String()
				if theme.Color() && !sgr.MatchString(out) {
					t.Errorf("a colour theme drew no colour")
				}
				bare := sgr.ReplaceAllString(out, "") // the theme's own colours
				for i := 0; i < len(bare); i++ {
					if c := bare[i]; c < 0x20 && c != '\n' || c == 0x7f {
						t.Fatalf("control byte %#x reached the terminal: %q", c, bare)
					}
				}
				for _, want := range []string{`\x1b]0;x\x07<script>alert(1)</script>`, `\x1b[31m`, `\xe2\x80\xaegnp.exe`} {
					if !strings.Contains(bare, want) {
						t.Errorf("%q not shown visibly", want)
					}
				}
			}
		}
	})
	t.Run("svg", func(t *testing.T) {
		var b bytes.Buffer
		render.SVG(&b, l, render.SVGOptions{})
		checkSVG(t, "hostile", b.Bytes())
		if bytes.Contains(b.Bytes(), []byte("<script")) || bytes.Contains(b.Bytes(), []byte("<b>")) {
			t.Errorf("markup from the capture in the SVG")
		}
		if !bytes.Contains(b.Bytes(), []byte("&lt;script&gt;alert(1)")) {
			t.Errorf("the display name's markup is not shown escaped")
		}
	})
	t.Run("html", func(t *testing.T) {
		var b bytes.Buffer
		render.HTML(&b, []*render.Ladder{l, l}, hostileName)
		scripts, texts := htmlScripts(t, b.Bytes())
		if scripts != 1 {
			t.Errorf("%d <script> elements, want only the page's own", scripts)
		}
		if !strings.Contains(texts, "<script>alert(1)</script>") || !strings.Contains(texts, `\x1b]0;x\x07`) {
			t.Errorf("the hostile display name is not shown as text")
		}
		for _, bad := range []string{"<b>bold", "\x1b", "\x07"} {
			if bytes.Contains(b.Bytes(), []byte(bad)) {
				t.Errorf("%q reached the page raw", bad)
			}
		}
	})
	t.Run("mermaid", func(t *testing.T) {
		var b bytes.Buffer
		render.Mermaid(&b, l)
		checkMermaidLexically(t, "hostile", b.String())
	})
	t.Run("json", func(t *testing.T) {
		var b bytes.Buffer
		render.JSON(&b, l, false)
		var back render.Ladder
		if err := json.Unmarshal(b.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		if back.CallID != hostileCallID || back.Participants[0].Agent != hostileAgent || back.Rows[2].Label != "486 "+hostileReason {
			t.Errorf("JSON does not keep the strings exactly: %q %q %q", back.CallID, back.Participants[0].Agent, back.Rows[2].Label)
		}
		if bytes.ContainsAny(b.Bytes(), "\x1b\x07<>") {
			t.Errorf("JSON carries raw control characters or markup")
		}
		// DEL and the C1 controls (CSI is U+009B), which encoding/json
		// leaves raw, are escaped too, and decode to what they were.
		c1 := *l
		c1.CallID = "csi\u009b2J del\x7f osc\u009d0;x\u009c nbsp\u00a0"
		b.Reset()
		if err := render.JSON(&b, &c1, true); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b.Bytes(), []byte{0x7f}) || bytes.Contains(b.Bytes(), []byte("\u009b")) || bytes.Contains(b.Bytes(), []byte("\u009d")) {
			t.Errorf("JSON carries DEL or a C1 control raw: %q", b.Bytes())
		}
		if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.CallID != c1.CallID {
			t.Errorf("escaped JSON decodes to %q (%v), want %q", back.CallID, err, c1.CallID)
		}
	})
}

// TestInvisibleShown: a format character that shows as nothing (a
// zero-width space, a word joiner, a BOM) would make look-alikes, a
// Call-ID 1-24089\u200b@h showing as 1-24089@h. Every output but JSON
// shows it as Sanitize shows control characters, and the terminal ladder
// lays it out as the escape it shows: as if the capture had held the
// escape's text. Combining marks are text: kept, and dropped by the
// terminal ladder only, which keeps its columns.
func TestInvisibleShown(t *testing.T) {
	tests := []struct {
		name, s string
		textAs  string // the ladder whose terminal drawing is the same
		shown   string // in the SVG and HTML
		mermaid string
	}{
		{"zero-width space", "\u200b", `\xe2\x80\x8b`, `\xe2\x80\x8b`, `#92;xe2#92;x80#92;x8b`},
		{"zero-width joiner", "\u200d", `\xe2\x80\x8d`, `\xe2\x80\x8d`, `#92;xe2#92;x80#92;x8d`},
		{"word joiner", "\u2060", `\xe2\x81\xa0`, `\xe2\x81\xa0`, `#92;xe2#92;x81#92;xa0`},
		{"BOM", "\ufeff", `\xef\xbb\xbf`, `\xef\xbb\xbf`, `#92;xef#92;xbb#92;xbf`},
		{"combining acute", "e\u0301", "e", "e\u0301", "e\u0301"},
	}
	mark := func(l *render.Ladder, s string) {
		l.CallID = "1-24089" + s + "@h"
		l.FromDisplay = "Alice" + s
		for i := range l.Participants {
			l.Participants[i].Agent += s
		}
		for i := range l.Rows {
			l.Rows[i].Label += s
		}
		for i := range l.Notes {
			l.Notes[i].Text += s
		}
		for i := range l.Findings {
			l.Findings[i].Detail += s
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cases, as := ladderCases(t), ladderCases(t)
			for i, c := range cases {
				mark(c.l, tt.s)
				mark(as[i].l, tt.textAs)
				got, want := renderAll(t, c), renderAll(t, as[i])
				for _, ext := range []string{".txt", ".ascii.txt"} {
					if !bytes.Equal(got[ext], want[ext]) {
						t.Errorf("%s%s: drawn as\n%s\nwant\n%s", c.name, ext, got[ext], want[ext])
					}
				}
				for ext, out := range got {
					if ext == ".json" || strings.HasSuffix(ext, ".txt") {
						continue // exact; the same as the escape's text
					}
					if tt.shown != tt.s && bytes.Contains(out, []byte(tt.s)) {
						t.Errorf("%s%s: %q drawn raw", c.name, ext, tt.s)
					}
					want := tt.shown
					if ext == ".mmd" {
						want = tt.mermaid
					}
					if !bytes.Contains(out, []byte("1-24089"+want+"@h")) {
						t.Errorf("%s%s: Call-ID not shown as 1-24089%s@h", c.name, ext, want)
					}
				}
			}
		})
	}
}

// htmlScripts tokenizes a page like a browser and returns its number of
// <script> elements and all its text (template contents included).
func htmlScripts(t *testing.T, page []byte) (int, string) {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(page))
	scripts := 0
	var text strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatal(z.Err())
			}
			return scripts, text.String()
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) == "script" {
				scripts++
			}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if bytes.HasPrefix(k, []byte("on")) || bytes.Contains(bytes.ToLower(v), []byte("javascript:")) {
					t.Errorf("attribute %s=%q", k, v)
				}
			}
		case html.TextToken:
			text.Write(z.Text())
		}
	}
}

var mermaidEntity = regexp.MustCompile(`#[0-9]+;`)

// checkMermaidLexically checks what the Mermaid grammar cares about without
// Node: every line is a known statement, and no label holds a character
// that ends a statement or starts a comment.
func checkMermaidLexically(t *testing.T, name, diagram string) {
	t.Helper()
	stmt := regexp.MustCompile(`^(sequenceDiagram|    title [^\n]+|    participant P\d+( as .+)?|\s+P\d+(->>|-->>|-\))P\d+: .+|\s+Note over P\d+(,P\d+)?: .+|    rect rgba\([0-9., ]+\)|    end)$`)
	for i, line := range strings.Split(strings.TrimSuffix(diagram, "\n"), "\n") {
		if !stmt.MatchString(line) {
			t.Errorf("%s: line %d is not a statement sipflow writes: %q", name, i+1, line)
		}
		rest := mermaidEntity.ReplaceAllString(strings.Replace(line, "<br/>", "", 1), "")
		if strings.HasPrefix(strings.TrimSpace(line), "rect ") {
			continue
		}
		if j := strings.Index(rest, ": "); j >= 0 {
			rest = rest[j:]
		} else if j := strings.Index(rest, " as "); j >= 0 {
			rest = rest[j+4:]
		} else {
			continue
		}
		if strings.ContainsAny(rest, ";#%<>\"'`{}&\\") {
			t.Errorf("%s: line %d has a raw special character: %q", name, i+1, line)
		}
	}
}

func TestMermaidText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"INVITE sip:bob@example.com", "INVITE sip:bob@example.com"},
		{"a;b#c", "a#59;b#35;c"},
		{"x -->> y", "x --#62;#62; y"},
		{"%%{init}%%", "#37;#37;#123;init#125;#37;#37;"},
		{"<br/>", "#60;br/#62;"},
		{"\x1b]0;t\x07", "#92;x1b]0#59;t#92;x07"},
		{"José", "José"},
	}
	for _, tt := range tests {
		if got := render.MermaidText(tt.in); got != tt.want {
			t.Errorf("MermaidText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLadderModel checks the layout model itself on the testdata calls.
func TestLadderModel(t *testing.T) {
	byName := map[string]*render.Ladder{}
	for _, c := range ladderCases(t) {
		byName[c.name] = c.l
	}
	t.Run("b2bua legs", func(t *testing.T) {
		l := byName["flow_b2bua_xcallid"]
		if len(l.Legs) != 2 || len(l.Participants) != 3 {
			t.Fatalf("legs %v, participants %d", l.Legs, len(l.Participants))
		}
		legs := map[int]int{}
		for _, r := range l.Rows {
			legs[r.Leg]++
		}
		if legs[0] == 0 || legs[1] == 0 {
			t.Errorf("rows per leg %v", legs)
		}
	})
	t.Run("fax streams", func(t *testing.T) {
		l := byName["flow_t38_loss"]
		var got []string
		for _, r := range l.Rows {
			if r.Kind == render.RowStream && r.Stream.Fax != nil {
				f := r.Stream.Fax
				got = append(got, fmt.Sprintf("%s %s>%s %d fixed %d lost %d %v", r.Label, r.Src, r.Dst, r.Stream.Packets, f.Recovered, f.Unrecovered, f.T30))
			}
		}
		want := "T.38 UDPTL 127.0.61.2:16002>127.0.61.1:16002 59 fixed 0 lost 0 [DIS CFR MCF DCN]; " +
			"T.38 UDPTL 127.0.61.1:16002>127.0.61.2:16002 52 fixed 2 lost 1 [DCS]"
		if strings.Join(got, "; ") != want {
			t.Errorf("fax rows %q\nwant %q", strings.Join(got, "; "), want)
		}
	})
	t.Run("retransmissions and findings", func(t *testing.T) {
		l := byName["flow_invite_no_ack"]
		rtx := 0
		for _, r := range l.Rows {
			if r.Retransmission {
				rtx++
			}
		}
		if rtx != 5 {
			t.Errorf("%d retransmissions, want 5", rtx)
		}
		for _, f := range l.Findings {
			if f.Row < 0 || l.Rows[f.Row].N != f.Packets[0] {
				t.Errorf("finding %s at row %d, packets %v", f.Rule, f.Row, f.Packets)
			}
		}
	})
	t.Run("hold shows in the SDP notes", func(t *testing.T) {
		l := byName["flow_call_hold"]
		var dirs []string
		for _, n := range l.Notes {
			if n.Kind == render.NoteSDP {
				dirs = append(dirs, n.Text[strings.LastIndexByte(n.Text, ' ')+1:])
			}
		}
		if got := strings.Join(dirs, ","); got != "sendrecv,sendrecv,sendonly,recvonly,sendrecv,sendrecv" {
			t.Errorf("SDP directions %s", got)
		}
	})
	t.Run("streams", func(t *testing.T) {
		l := byName["flow_call_rtp"]
		streams := 0
		for _, r := range l.Rows {
			if r.Kind == render.RowStream {
				streams++
				if r.Stream.Packets != 67 || r.From == r.To {
					t.Errorf("stream row %+v %+v", r, r.Stream)
				}
			}
		}
		if streams != 2 {
			t.Errorf("%d stream rows, want 2", streams)
		}
	})
	t.Run("caller on the left when a response comes first", func(t *testing.T) {
		// The capture missed the INVITE: its 486 comes first, then the ACK.
		c := &pcapBuilder{at: t0}
		hs := func(via, cseq string) []string {
			return []string{"Via: SIP/2.0/UDP " + via + ";branch=z9hG4bK-1", "From: <sip:alice@example.com>;tag=a",
				"To: <sip:bob@example.net>;tag=b", "Call-ID: late-1@10.0.0.1", "CSeq: " + cseq}
		}
		c.send(0, "10.0.0.2:5060", "10.0.0.1:5060", sipMsg("SIP/2.0 486 Busy Here", hs("10.0.0.1:5060", "1 INVITE"), ""))
		c.send(time.Millisecond, "10.0.0.1:5060", "10.0.0.2:5060", sipMsg("ACK sip:bob@10.0.0.2 SIP/2.0", hs("10.0.0.1:5060", "1 ACK"), ""))
		calls := callsOf(t, "", c.pcap(t))
		if len(calls) != 1 {
			t.Fatalf("%d calls", len(calls))
		}
		l := render.Build(calls[0], render.Options{})
		if len(l.Participants) != 2 || l.Participants[0].ID != "10.0.0.1" || l.Rows[0].From != 1 || l.Rows[0].To != 0 {
			t.Errorf("participants %+v, first row %d -> %d", l.Participants, l.Rows[0].From, l.Rows[0].To)
		}
	})
	t.Run("aliases and ports", func(t *testing.T) {
		calls := callsOf(t, repoTestdata("b2bua_xcallid.pcap"), nil)
		l := render.Build(calls[0], render.Options{ByPort: true, Aliases: map[string]string{"127.0.24.2": "B2BUA", "127.0.24.2:5080": "B2BUA out"}})
		var ids, names []string
		for _, p := range l.Participants {
			ids = append(ids, p.ID)
			names = append(names, p.Name())
		}
		if strings.Join(ids, " ") != "127.0.24.1:5060 127.0.24.2:5060 127.0.24.2:5080 127.0.24.3:5060" ||
			names[1] != "B2BUA" || names[2] != "B2BUA out" {
			t.Errorf("participants %v %v", ids, names)
		}
	})
}

// FuzzLadderEscapes: whatever a capture's strings hold, the text ladder
// keeps control characters out and fits its width, the SVG is well-formed
// XML, and every Mermaid line stays one statement.
func FuzzLadderEscapes(f *testing.F) {
	for _, s := range []string{hostileName, hostileAgent, hostileReason, hostileCallID, "a;b#c -->> d", "日本語のラベル", "e\u0301\u200d\ufeff\uffff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := &render.Ladder{
			CallID: s, Kind: "call", State: "completed", From: s, To: s, Legs: []string{s, s},
			Participants: []render.Participant{{ID: "10.0.0.1", Agent: s}, {ID: "10.0.0.2", Alias: s}, {ID: s}},
			Rows: []render.Row{
				{Kind: render.RowMessage, N: 1, From: 0, To: 1, Src: "10.0.0.1:5060", Dst: "10.0.0.2:5060", Label: s, Method: s, CSeq: 1, CSeqMethod: s, Text: s},
				{Kind: render.RowMessage, N: 2, From: 2, To: 2, Src: s, Dst: s, Label: "200 " + s, Status: 200, CSeqMethod: s, Leg: 1, Retransmission: true},
				{Kind: render.RowStream, N: 3, From: 1, To: 0, Src: "10.0.0.2:4000", Dst: "10.0.0.1:4000", Label: "RTP " + s, Stream: &render.StreamInfo{Codec: s, Packets: 3}},
			},
			Notes:    []render.Note{{Row: 0, Kind: render.NoteSDP, Text: s}, {Row: 1, Kind: render.NoteEvent, Text: s}},
			Findings: []render.Finding{{Row: 1, Rule: s, Severity: "error", Packets: []int{2}, Detail: s, RFC: s}, {Row: -1, Rule: "x", Severity: "info", Detail: s}},
		}
		for _, width := range []int{30, 80} {
			var b bytes.Buffer
			render.Text(&b, l, render.TextOptions{Width: width, Full: true})
			for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
				if w := render.StringWidth(line); w > width && width >= 30 {
					t.Fatalf("width %d: line %d is %d wide: %q", width, i+1, w, line)
				}
				for _, r := range line {
					if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
						t.Fatalf("control character %U in %q", r, line)
					}
				}
			}
		}
		var b bytes.Buffer
		render.SVG(&b, l, render.SVGOptions{})
		checkSVG(t, "fuzz", b.Bytes())
		b.Reset()
		render.Mermaid(&b, l)
		checkMermaidLexically(t, "fuzz", b.String())
		b.Reset()
		render.HTML(&b, []*render.Ladder{l}, s)
		if scripts, _ := htmlScripts(t, b.Bytes()); scripts != 1 {
			t.Fatalf("%d script elements", scripts)
		}
	})
}

// TestTransportOnArrows: the WebSocket hop of ws_call says " ws " on its
// arrows, the UDP hop nothing, and the word never covers a port: at a
// width too narrow for both, the ports win.
func TestTransportOnArrows(t *testing.T) {
	calls := callsOf(t, repoTestdata("ws_call.pcap"), nil)
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1", len(calls))
	}
	l := render.Build(calls[0], render.Options{Text: true})
	shown := map[int]int{} // width: arrows marked ws
	for width := 40; width <= 160; width++ {
		var b bytes.Buffer
		render.Text(&b, l, render.TextOptions{Width: width})
		for _, line := range strings.Split(b.String(), "\n") {
			if strings.Contains(line, " udp ") {
				t.Errorf("width %d: UDP, the usual transport, written on an arrow: %q", width, line)
			}
			if !strings.Contains(line, " ws ") {
				continue
			}
			shown[width]++
			if !strings.Contains(line, "55305") || !strings.Contains(line, "8080") {
				t.Errorf("width %d: the transport covers a port: %q", width, line)
			}
			if strings.Contains(line, "5060") {
				t.Errorf("width %d: a UDP hop marked ws: %q", width, line)
			}
		}
	}
	// Seven messages crossed the WebSocket: INVITE, 100, 180, 200, ACK, BYE, 200.
	if shown[100] != 7 || shown[40] != 0 {
		t.Errorf("arrows marked ws: %d at width 100 (want 7), %d at width 40 (want 0)", shown[100], shown[40])
	}
	// Mermaid says it in the arrow's label.
	var b bytes.Buffer
	if err := render.Mermaid(&b, l); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), " 8080 · ws\n") + strings.Count(b.String(), " 55305 · ws\n"); n != 7 || strings.Contains(b.String(), "udp") {
		t.Errorf("Mermaid: %d arrows marked ws (want 7), udp said: %v\n%s", n, strings.Contains(b.String(), "udp"), b.String())
	}
}
