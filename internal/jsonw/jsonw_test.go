package jsonw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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

// TestLitAndValues: a key written with Lit and a value appended after it
// give what the keyed methods give, and a keyed field after Lit gets its
// comma.
func TestLitAndValues(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	ap := netip.MustParseAddrPort("192.0.2.1:5060")
	var keyed, lit Object
	keyed.Begin()
	keyed.Time("ts", ts)
	keyed.AddrPort("a", ap)
	keyed.AddrPort("none", netip.AddrPort{})
	keyed.Int("n", 1)
	keyed.String("s", "a\"<b")
	keyed.Int("i", -7)
	List(&keyed, "none", []string(nil), func(s string) string { return s })
	List(&keyed, "l", []int{1, 22}, strconv.Itoa)
	keyed.End()
	lit.Begin()
	lit.LitTime(`"ts":`, ts)
	lit.LitAddrPort(`,"a":`, ap)
	lit.LitAddrPort(`,"none":`, netip.AddrPort{})
	lit.Int("n", 1)
	lit.LitString(`,"s":`, "a\"<b")
	lit.LitInt(`,"i":`, -7)
	LitList(&lit, `,"none":`, []string(nil), func(s string) string { return s })
	LitList(&lit, `,"l":`, []int{1, 22}, strconv.Itoa)
	lit.End()
	if string(lit.B) != string(keyed.B) {
		t.Errorf("with Lit %s, keyed %s", lit.B, keyed.B)
	}
	var first Object
	first.Begin()
	first.Lit(`"k":1`)
	first.Int("n", 2)
	first.End()
	if want := `{"k":1,"n":2}` + "\n"; string(first.B) != want {
		t.Errorf("got %s want %s", first.B, want)
	}
}

// FuzzAppendString: the output is valid JSON that decodes to s (invalid
// UTF-8 replaced), escapes what HTML needs escaped, and is the same from a
// string as from bytes.
func FuzzAppendString(f *testing.F) {
	f.Add([]byte("a\"b\x00\xff"))
	f.Add([]byte("<a href='x'>&amp;</a>\u2028\u2029\t\r\n\\ é \xe2\x80"))
	f.Fuzz(func(t *testing.T, s []byte) {
		out := AppendString([]byte("prefix"), s)
		if !bytes.HasPrefix(out, []byte("prefix")) {
			t.Fatalf("prefix lost: %q", out)
		}
		out = out[len("prefix"):]
		var v string
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("invalid JSON for %q: %v", s, err)
		}
		if want := replaceInvalid(s); v != want {
			t.Fatalf("%q decodes to %q, want %q", s, v, want)
		}
		if bytes.ContainsAny(out, "<>&\u2028\u2029") {
			t.Fatalf("%q: unescaped HTML-special character in %s", s, out)
		}
		if i := controlAt(out); i >= 0 {
			t.Fatalf("%q: a control character reaches the output raw at %d: %q", s, i, out)
		}
		if str := AppendString(nil, string(s)); !bytes.Equal(str, out) {
			t.Fatalf("from a string %s, from bytes %s", str, out)
		}
	})
}

// TestPlainWord: the word-at-a-time test agrees with plainASCII byte by
// byte, for every byte value at every position of a plain word, and for
// random words with several unplain bytes (where one byte's borrow reaches
// the next), so AppendString's fast path never copies what needs escaping.
func TestPlainWord(t *testing.T) {
	base := []byte("sip:abcd")
	check := func(w []byte) {
		t.Helper()
		x := uint64(0)
		want := true
		for i, c := range w {
			x |= uint64(c) << (8 * i)
			want = want && plainASCII[c]
		}
		if got := plainWord(x); got != want {
			t.Fatalf("plainWord(%q) = %v, want %v", w, got, want)
		}
	}
	w := make([]byte, 8)
	for c := 0; c < 256; c++ {
		for p := range 8 {
			copy(w, base)
			w[p] = byte(c)
			check(w)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	special := []byte("\x00\x1f !\"#%&'<=>?[\\]\x7f\x80\xff")
	for range 200000 {
		for i := range w {
			if r.IntN(3) == 0 {
				w[i] = special[r.IntN(len(special))]
			} else {
				w[i] = byte(r.IntN(256))
			}
		}
		check(w)
	}
}

// controlAt returns where b holds a C0 control, DEL or a C1 control
// (U+0080-U+009F, CSI among them), which a terminal may act on, or -1.
func controlAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r < 0x20 || r >= 0x7f && r < 0xa0 {
			return i
		}
		i += n
	}
	return -1
}

// TestAppendStringTerminalSafe: the bytes a terminal acts on are escaped,
// C1 controls as their code point (\u009b), so the JSON decodes to what
// the capture held but never moves a terminal's cursor or title.
func TestAppendStringTerminalSafe(t *testing.T) {
	for in, want := range map[string]string{
		"a\x1b[2Jb":          `"a\u001b[2Jb"`,
		"del\x7f":            `"del\u007f"`,
		"csi\u009b2J":        `"csi\u009b2J"`,
		"osc\u009d0;x\u009c": `"osc\u009d0;x\u009c"`,
		"nbsp\u00a0é":        "\"nbsp\u00a0é\"",
		"12345678\x7f":       `"12345678\u007f"`,
	} {
		got := AppendString(nil, in)
		if string(got) != want {
			t.Errorf("AppendString(%q) = %s, want %s", in, got, want)
		}
		if i := controlAt(got); i >= 0 {
			t.Errorf("AppendString(%q) = %q: raw control at %d", in, got, i)
		}
	}
}

// replaceInvalid replaces every byte of s that is not part of valid UTF-8
// with U+FFFD, one for one, as AppendString does.
func replaceInvalid(s []byte) string {
	var sb strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError && n == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(s[:n])
		}
		s = s[n:]
	}
	return sb.String()
}

// TestAppendTime: the hand-written format is AppendFormat's, byte for byte,
// at the edges of its range and of every field, and beyond it.
func TestAppendTime(t *testing.T) {
	times := []time.Time{
		{}, time.Unix(0, 0), time.Unix(0, 1), time.Unix(1<<31-1, 999_999_999), time.Unix(1<<32, 5),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 12, 0, 0, 0, time.FixedZone("x", 5*3600+1800)),
		time.Now(),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9)))
	}
	for _, tm := range times {
		want := tm.UTC().AppendFormat(nil, TimeFormat)
		if got := AppendTime(nil, tm); string(got) != string(want) {
			t.Fatalf("AppendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

// BenchmarkAppendTime: the hand-written format against AppendFormat's, for
// the timestamps every call and message of a large capture prints.
func BenchmarkAppendTime(b *testing.B) {
	tm := time.Date(2026, 11, 22, 3, 7, 45, 123456789, time.UTC)
	buf := make([]byte, 0, 64)
	b.Run("AppendTime", func(b *testing.B) {
		b.SetBytes(30)
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendTime(buf[:0], tm)
		}
	})
	b.Run("AppendFormat", func(b *testing.B) {
		b.SetBytes(30)
		b.ReportAllocs()
		for b.Loop() {
			buf = tm.UTC().AppendFormat(buf[:0], TimeFormat)
		}
	})
}

// BenchmarkAppendString: the strings every call and message of a large
// capture prints (Call-IDs, URIs, reason phrases): plain ASCII, mostly.
func BenchmarkAppendString(b *testing.B) {
	s := "sip:+14155550123@sip.example.com;user=phone a84b4c76e66710@pc33.example.org"
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}

// TestArraysAndAddrPort: List and AddrPort write what encoding/json reads
// back, escaped.
func TestArraysAndAddrPort(t *testing.T) {
	var o Object
	o.Begin()
	same := func(s string) string { return s }
	List(&o, "none", nil, same)
	List(&o, "two", []string{"a", "<b\"\x01>"}, same)
	List(&o, "lens", []int{1, 22}, func(n int) string { return strings.Repeat("x", n%5) })
	o.AddrPort("v4", netip.MustParseAddrPort("192.0.2.1:5060"))
	o.AddrPort("v6", netip.MustParseAddrPort("[2001:db8::1%<eth0>]:5061"))
	o.AddrPort("zero", netip.AddrPort{})
	o.End()
	var got struct {
		None, Two, Lens []string
		V4, V6, Zero    string
	}
	if err := json.Unmarshal(o.B, &got); err != nil {
		t.Fatalf("%s: %v", o.B, err)
	}
	want := `{[] [a <b"` + "\x01" + `>] [x xx] 192.0.2.1:5060 [2001:db8::1%<eth0>]:5061 }`
	if s := fmt.Sprint(got); s != want {
		t.Errorf("got %s\nwant %s\nfrom %s", s, want, o.B)
	}
	if !strings.Contains(string(o.B), `"none":[]`) || bytes.ContainsAny(o.B, "<>") {
		t.Errorf("empty array or escaping wrong: %s", o.B)
	}
}

// TestAddrPortAsNetip: AddrPort writes every address as netip formats it,
// quoted: IPv4 by its own path (each octet's digit counts, ports from 0 to
// 65535), the rest (IPv6, IPv4-mapped, zones) through netip. Each is
// written among its neighbours, again and after others, so that the
// Object's copies of the last IPv4 texts are read back, and replaced.
func TestAddrPortAsNetip(t *testing.T) {
	var aps []netip.AddrPort
	for _, x := range []uint8{0, 1, 9, 10, 42, 99, 100, 109, 199, 200, 250, 255} {
		for _, port := range []uint16{0, 7, 5060, 65535} {
			aps = append(aps, netip.AddrPortFrom(netip.AddrFrom4([4]byte{x, 255 - x, x / 2, 100 + x%100}), port))
		}
	}
	aps = append(aps, netip.MustParseAddrPort("[::ffff:192.0.2.1]:5060"), netip.MustParseAddrPort("[2001:db8::1]:5061"),
		netip.MustParseAddrPort("[fe80::1%eth0]:5062"), netip.MustParseAddrPort("0.0.0.0:0"))
	var o Object
	for i := range aps {
		for _, j := range []int{i, max(i-1, 0), i, 0, i, min(i+1, len(aps)-1)} {
			ap := aps[j]
			o.Begin()
			o.AddrPort("a", ap)
			if want := `{"a":` + strconv.Quote(ap.String()); string(o.B) != want {
				t.Errorf("AddrPort(%v) wrote %s, want %s", ap, o.B, want)
			}
		}
	}
}

// BenchmarkAddrPort: a call's caller and callee, IPv4 with a port, the
// same each time (the Object's copy of its text).
func BenchmarkAddrPort(b *testing.B) {
	ap := netip.MustParseAddrPort("192.168.100.21:5060")
	var o Object
	b.SetBytes(int64(len(ap.String())))
	b.ReportAllocs()
	for b.Loop() {
		o.B = o.B[:0]
		o.AddrPort("caller", ap)
	}
}

// BenchmarkAddrPortFormat: three addresses in turn, so the Object's two
// copies never hold the next one: every address formatted.
func BenchmarkAddrPortFormat(b *testing.B) {
	aps := []netip.AddrPort{netip.MustParseAddrPort("192.168.100.21:5060"),
		netip.MustParseAddrPort("192.168.100.22:5060"), netip.MustParseAddrPort("10.1.2.3:5080")}
	var o Object
	b.SetBytes(int64(len(aps[0].String())))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		o.B = o.B[:0]
		o.AddrPort("caller", aps[i])
		if i++; i == len(aps) {
			i = 0
		}
	}
}

// TestObjectTime: Object.Time, which reuses the text of the last second,
// writes what AppendTime writes, over runs of timestamps in one second,
// across second, day and year boundaries, out of order, and outside the
// years AppendTime formats by hand.
func TestObjectTime(t *testing.T) {
	base := time.Date(2026, 12, 31, 23, 59, 58, 999_999_990, time.UTC)
	var times []time.Time
	for i := range 40 {
		times = append(times, base.Add(time.Duration(i)*3*time.Nanosecond), base.Add(time.Duration(i)*time.Second/7))
	}
	times = append(times, base, time.Date(10000, 1, 1, 0, 0, 0, 5, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 6, time.UTC),
		base, time.Unix(-1, 5), time.Unix(-1, 999_999_999), time.Unix(0, 0), time.Date(-1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 2, time.UTC), base.In(time.FixedZone("x", 3600)))
	var o Object
	for _, tm := range times {
		o.Begin()
		o.Time("t", tm)
		if want := `{"t":"` + string(AppendTime(nil, tm)) + `"`; string(o.B) != want {
			t.Fatalf("Time(%v) wrote %s, want %s", tm, o.B, want)
		}
	}
}

// BenchmarkObjectTime: a call's start and end, which usually share a
// second with the call before.
func BenchmarkObjectTime(b *testing.B) {
	tm := time.Date(2026, 11, 22, 3, 7, 45, 123456789, time.UTC)
	var o Object
	b.SetBytes(30)
	b.ReportAllocs()
	for b.Loop() {
		o.Begin()
		o.Time("start", tm)
		o.Time("end", tm.Add(time.Millisecond))
	}
}

// TestAppendNanos checks appendNanos against fmt at the ends of the range
// and at every digit's carry.
func TestAppendNanos(t *testing.T) {
	nss := []int{0, 1, 9, 10, 99, 100, 123456789, 999999999, 500000000, 90909090, 10000001}
	for ns := 7; ns < 1e9; ns += 9_999_991 { // every digit position, every pair
		nss = append(nss, ns, ns/10, ns/1000)
	}
	for _, ns := range nss {
		if got, want := string(appendNanos(nil, ns)), fmt.Sprintf("%09dZ", ns); got != want {
			t.Errorf("appendNanos(%d) = %q, want %q", ns, got, want)
		}
	}
}
