package render

import (
	"testing"
	"unicode"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"INVITE sip:bob@example.com", "INVITE sip:bob@example.com"},
		{"\x1b]0;owned\x07", `\x1b]0;owned\x07`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"a\tb", "a b"},
		{"line\r\nnext", `line\x0d\x0anext`},
		{"Jos\u00e9", "Jos\u00e9"},
		{"\xc2\x9b31m", `\xc2\x9b31m`}, // C1 CSI
		{"\xff\xfe", `\xff\xfe`},
		{"del\x7f", `del\x7f`},
		{"\u202egnp.exe", `\xe2\x80\xaegnp.exe`},
		{"\u2066x\u2069", `\xe2\x81\xa6x\xe2\x81\xa9`},
		{"\u200f12 34", `\xe2\x80\x8f12 34`},                     // RLM
		{"\u200e12", `\xe2\x80\x8e12`},                           // LRM
		{"\u061c12 34", `\xd8\x9c12 34`},                         // ALM
		{"\u05e9\u05dc\u05d5\u05dd", "\u05e9\u05dc\u05d5\u05dd"}, // Hebrew letters are text
		// Invisible format characters make look-alikes: 1-24089\u200b@h
		// would show as 1-24089@h.
		{"1-24089\u200b@h", `1-24089\xe2\x80\x8b@h`},           // zero-width space
		{"a\u200cb\u200dc", `a\xe2\x80\x8cb\xe2\x80\x8dc`},     // ZWNJ, ZWJ
		{"a\u2060b", `a\xe2\x81\xa0b`},                         // word joiner
		{"\ufeffbob", `\xef\xbb\xbfbob`},                       // BOM, zero-width no-break space
		{"al\u00adice", `al\xc2\xadice`},                       // soft hyphen
		{"a\u180eb", `a\xe1\xa0\x8eb`},                         // Mongolian vowel separator
		{"x\U000e0041", `x\xf3\xa0\x81\x81`},                   // tag character
		{"Jose\u0301 \u0928\u093f", "Jose\u0301 \u0928\u093f"}, // combining marks are text
		{"\u00a0\u00e9\u00ff", "\u00a0\u00e9\u00ff"},           // Latin-1, no-break space
		{"", ""},
	}
	for _, tt := range tests {
		if got := SanitizeString(tt.in); got != tt.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestIsFormat: isFormat's shortcut ranges hold no format character but
// the soft hyphen, in this Go's Unicode tables.
func TestIsFormat(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if got, want := isFormat(r), unicode.Is(unicode.Cf, r); got != want {
			t.Errorf("isFormat(%U) = %v, want %v", r, got, want)
		}
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add([]byte("\x1b]0;t\x07 <b>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := Sanitize(b)
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c == 0x7f {
				t.Fatalf("control byte %#x survived in %q", c, s)
			}
		}
	})
}
