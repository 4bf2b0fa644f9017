package render

import "testing"

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
		{"", ""},
	}
	for _, tt := range tests {
		if got := SanitizeString(tt.in); got != tt.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
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
