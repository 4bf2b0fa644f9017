package render_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/sipflow/sipflow/render"
)

// benchLadder is the ladder of a call of 2,000 messages through a proxy.
func benchLadder(b *testing.B) *render.Ladder {
	b.Helper()
	calls := callsOf(b, "", longCall(b, 2000))
	if len(calls) != 1 {
		b.Fatalf("%d calls", len(calls))
	}
	l := render.Build(calls[0], render.Options{Text: true})
	if n := l.NumMessages(); n < 1990 || n > 2010 {
		b.Fatalf("%d messages, want about 2000", n)
	}
	return l
}

// The target: under 20 ms for text and for SVG.
func BenchmarkLadderText(b *testing.B) {
	l := benchLadder(b)
	var out bytes.Buffer
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out.Reset()
		if err := render.Text(&out, l, render.TextOptions{Width: 120}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(out.Len()))
}

func BenchmarkLadderTextColor(b *testing.B) {
	l := benchLadder(b)
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	theme := render.NewTheme(r)
	var out bytes.Buffer
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out.Reset()
		render.Text(&out, l, render.TextOptions{Width: 120, Theme: theme})
	}
	b.SetBytes(int64(out.Len()))
}

func BenchmarkLadderSVG(b *testing.B) {
	l := benchLadder(b)
	var out bytes.Buffer
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out.Reset()
		if err := render.SVG(&out, l, render.SVGOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(out.Len()))
}

func BenchmarkLadderBuild(b *testing.B) {
	calls := callsOf(b, "", longCall(b, 2000))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		render.Build(calls[0], render.Options{Text: true})
	}
}

func BenchmarkLadderHTML(b *testing.B) {
	l := benchLadder(b)
	var out bytes.Buffer
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out.Reset()
		render.HTML(&out, []*render.Ladder{l}, "bench")
	}
	b.SetBytes(int64(out.Len()))
}

var sanitized string

// Every table cell goes through SanitizeString: plain ASCII, the common
// case, comes back without a copy; other text is checked rune by rune.
func BenchmarkSanitize(b *testing.B) {
	for _, c := range []struct{ name, s string }{
		{"ascii", "a84b4c76e66710@pc33.atlanta.example.com"},
		{"utf8", "José Müller <sip:jose.muller@example.com> · 日本語"},
		{"escapes", "\x1b]0;x\x07 \u202egnp.exe 1-24089\u200b@h"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sanitized = render.SanitizeString(c.s)
			}
		})
	}
}
