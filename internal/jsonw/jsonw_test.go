package jsonw

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAppendStringRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\"back\\slash", "ctl\x00\x1b\x7f", "tab\tnl\ncr\r", "<script>&", "\u2028\u2029", "é中", "bad\xff\xfeutf8"} {
		b := AppendString(nil, []byte(s))
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q: invalid JSON %s: %v", s, b, err)
		}
		want := string([]rune(s)) // invalid bytes become U+FFFD, as encoding/json does
		if got != want {
			t.Errorf("round trip of %q = %q, want %q", s, got, want)
		}
	}
}

func TestObject(t *testing.T) {
	var o Object
	o.Begin()
	o.Int("n", 3)
	o.String("s", "x")
	o.Bool("b", true)
	o.Null("z")
	o.Time("ts", time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC))
	o.End()
	want := `{"n":3,"s":"x","b":true,"z":null,"ts":"2026-01-02T03:04:05.000000006Z"}` + "\n"
	if string(o.B) != want {
		t.Errorf("got %s want %s", o.B, want)
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add([]byte("a\"b\x00\xff"))
	f.Fuzz(func(t *testing.T, s []byte) {
		var v string
		if err := json.Unmarshal(AppendString(nil, s), &v); err != nil {
			t.Fatalf("invalid JSON for %q: %v", s, err)
		}
	})
}
