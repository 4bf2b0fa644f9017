// Package render draws what sipflow found. A call becomes a Ladder (Build),
// a layout model of columns, rows, notes and findings; pure renderers turn
// a Ladder into terminal text (Text), SVG, an HTML page or report (HTML,
// Report), a Mermaid sequenceDiagram (Mermaid) or JSON.
//
// Every byte that came from a capture is untrusted, and the Ladder keeps it
// as it was: each renderer escapes it for its medium. Text for a terminal
// goes through Sanitize, which makes control characters visible instead of
// letting them reach the terminal; SVG and HTML are sanitized too, then
// XML-escaped or escaped by html/template; Mermaid labels become entity
// codes; JSON is exact.
package render

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sanitize returns b as text safe to print on a terminal: C0 and C1 control
// characters (ESC among them), DEL, invalid UTF-8, Unicode line separators
// and the format characters (Unicode category Cf: the bidi controls, the
// zero-width space and joiners, the word joiner, the BOM, the soft
// hyphen...) are shown as \xNN; tabs become a space; everything else,
// combining marks among it, is kept. A literal backslash is left alone, so
// the text is for reading, not for decoding back: --json output is exact.
func Sanitize(b []byte) string {
	clean := true
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size <= 1:
			writeHex(&sb, b[0])
		case r == '\t':
			sb.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			writeHex(&sb, byte(r))
		case r >= 0x80 && r < 0xa0: // C1 controls (CSI is U+009B)
			for _, c := range b[:size] {
				writeHex(&sb, c)
			}
		case r == 0x2028 || r == 0x2029 || isFormat(r):
			// Line separators and format characters can disguise text.
			for _, c := range b[:size] {
				writeHex(&sb, c)
			}
		default:
			sb.Write(b[:size])
		}
		b = b[size:]
	}
	return sb.String()
}

// isFormat reports whether r is a format character (category Cf). They
// are invisible, or nearly, and all disguise text. The bidi controls
// reorder it: after an RLM or ALM, "packets 12 34" shows as
// "packets 34 12" in a browser or a bidi terminal. The others make
// look-alikes: a Call-ID "1-24089\u200b@h" (a zero-width space) shows as
// "1-24089@h".
func isFormat(r rune) bool {
	if r < 0x600 || r > 0x206f && r < 0xfeff {
		// None there but the soft hyphen: Latin, Greek, Cyrillic and CJK
		// letters need no look-up (TestIsFormat checks the ranges).
		return r == 0xad
	}
	return unicode.Is(unicode.Cf, r)
}

// SanitizeString is Sanitize for a string. A string of printable ASCII,
// the common case, comes back as it is, without a copy.
func SanitizeString(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return Sanitize([]byte(s))
		}
	}
	return s
}

func writeHex(sb *strings.Builder, c byte) {
	const hex = "0123456789abcdef"
	sb.WriteString(`\x`)
	sb.WriteByte(hex[c>>4])
	sb.WriteByte(hex[c&15])
}
