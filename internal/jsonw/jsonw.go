// Package jsonw appends JSON to a byte slice without reflection, for output
// written once per message on hot paths (NDJSON of millions of messages).
package jsonw

import (
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"
)

// Object builds one JSON object in a reusable buffer.
type Object struct {
	B     []byte
	first bool

	// The last timestamp's Unix second and its text up to the fraction
	// ("2006-01-02T15:04:05."): timestamps come in order, many in one
	// second, and then only the nanoseconds need formatting.
	tsSec  int64
	tsHead []byte

	// The last two IPv4 addresses and ports written, and their quoted
	// text: a capture's calls run between a handful of them, and copying
	// the text takes about two fifths of the time formatting it does
	// (BenchmarkAddrPort against BenchmarkAddrPortFormat).
	aps    [2]apText
	apNext uint8
}

// apText is an IPv4 address and port's quoted text: at most 23 bytes.
type apText struct {
	ap netip.AddrPort
	n  uint8 // 0: empty
	b  [23]byte
}

// Begin starts a new object, discarding the previous one.
func (o *Object) Begin() { o.B = append(o.B[:0], '{'); o.first = true }

// End closes the object and appends a newline.
func (o *Object) End() { o.B = append(o.B, '}', '\n') }

func (o *Object) key(k string) {
	// In a local: o.B written back once, not after every append.
	b := o.B
	if !o.first {
		b = append(b, ',')
	}
	o.first = false
	b = append(b, '"')
	b = append(b, k...)
	o.B = append(b, '"', ':')
}

// Lit appends s as it is: JSON the caller wrote, such as a field's key
// with its comma and colon (`,"kind":`), which then needs a value
// (LitString, LitTime, ...). A writer of many objects of one shape
// spells its keys so, instead of through key, which writes each in four
// steps.
func (o *Object) Lit(s string) { o.B = append(o.B, s...); o.first = false }

// LitString is Lit(lit) and then v as a JSON string, escaped. It and
// LitInt are single expressions, not calls of Lit, so that the compiler
// inlines them (BenchmarkCallJSON: a tenth more instructions otherwise).
func (o *Object) LitString(lit, v string) {
	o.B = AppendString(append(o.B, lit...), v)
	o.first = false
}

// LitInt is Lit(lit) and then v in decimal.
func (o *Object) LitInt(lit string, v int64) {
	o.B = strconv.AppendInt(append(o.B, lit...), v, 10)
	o.first = false
}

// Str adds a string field from bytes, escaped; invalid UTF-8 becomes U+FFFD.
func (o *Object) Str(k string, v []byte) { o.key(k); o.B = AppendString(o.B, v) }

// String adds a string field.
func (o *Object) String(k string, v string) { o.key(k); o.B = AppendString(o.B, v) }

// Int adds an integer field.
func (o *Object) Int(k string, v int64) { o.key(k); o.B = strconv.AppendInt(o.B, v, 10) }

// Bool adds a boolean field.
func (o *Object) Bool(k string, v bool) { o.key(k); o.B = strconv.AppendBool(o.B, v) }

// Null adds a null field.
func (o *Object) Null(k string) { o.key(k); o.B = append(o.B, "null"...) }

// TimeFormat is RFC 3339 with all nine digits of nanoseconds, so that
// timestamps sort as strings and line up.
const TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// Time adds a time as RFC 3339 with nanoseconds, UTC.
func (o *Object) Time(k string, t time.Time) {
	o.key(k)
	o.timeValue(t)
}

// LitTime is Lit(lit) and then t as Time writes it.
func (o *Object) LitTime(lit string, t time.Time) {
	o.Lit(lit)
	o.timeValue(t)
}

// timeValue appends a time as Time writes it, without a key.
func (o *Object) timeValue(t time.Time) {
	o.B = append(o.B, '"')
	if sec := t.Unix(); o.tsHead != nil && sec == o.tsSec {
		o.B = append(o.B, o.tsHead...)
		o.B = appendNanos(o.B, t.Nanosecond())
	} else {
		start := len(o.B)
		o.B = AppendTime(o.B, t)
		if y := t.UTC().Year(); 0 <= y && y <= 9999 { // AppendTime's own form: 20 bytes, then the fraction
			o.tsSec, o.tsHead = sec, append(o.tsHead[:0], o.B[start:start+20]...)
		} else {
			o.tsHead = nil
		}
	}
	o.B = append(o.B, '"')
}

// appendNanos appends ns as nine digits and the Z that ends TimeFormat.
// The digits go in two at a time from the right, from a table: four
// divisions instead of nine (two timestamps a call in calls --json;
// BenchmarkObjectTime, two timestamps an op, 804 → 690 instructions).
func appendNanos(b []byte, ns int) []byte {
	var buf [10]byte
	for j := 7; j > 0; j -= 2 {
		q := ns / 100
		r := 2 * (ns - 100*q)
		buf[j], buf[j+1] = digitPairs[r], digitPairs[r+1]
		ns = q
	}
	buf[0] = byte('0' + ns)
	buf[9] = 'Z'
	return append(b, buf[:]...)
}

// digitPairs is "00" to "99", two bytes each.
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// AppendTime appends t in UTC as TimeFormat does, by hand for years 0 to
// 9999 (a quarter of AppendFormat's time, BenchmarkAppendTime: every call
// and message of a large capture prints two), through AppendFormat for
// any other.
func AppendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeFormat)
	}
	hour, min, sec := t.Clock()
	ns := t.Nanosecond()
	var buf [30]byte
	put := func(i, v, width int) {
		for j := i + width - 1; j >= i; j-- {
			buf[j] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, year, 4)
	buf[4] = '-'
	put(5, int(month), 2)
	buf[7] = '-'
	put(8, day, 2)
	buf[10] = 'T'
	put(11, hour, 2)
	buf[13] = ':'
	put(14, min, 2)
	buf[16] = ':'
	put(17, sec, 2)
	buf[19] = '.'
	put(20, ns, 9)
	buf[29] = 'Z'
	return append(b, buf[:]...)
}

// Raw adds a field whose value is already JSON.
func (o *Object) Raw(k string, v []byte) { o.key(k); o.B = append(o.B, v...) }

// List adds an array of the strings str gives for the items.
func List[T any](o *Object, k string, items []T, str func(T) string) {
	o.key(k)
	listValue(o, items, str)
}

// LitList is Lit(lit) and then the array List writes.
func LitList[T any](o *Object, lit string, items []T, str func(T) string) {
	o.Lit(lit)
	listValue(o, items, str)
}

// listValue appends the array of the strings str gives for the items,
// without a key.
func listValue[T any](o *Object, items []T, str func(T) string) {
	if len(items) == 0 {
		o.B = append(o.B, '[', ']')
		return
	}
	o.B = append(o.B, '[')
	for i, it := range items {
		if i > 0 {
			o.B = append(o.B, ',')
		}
		o.B = AppendString(o.B, str(it))
	}
	o.B = append(o.B, ']')
}

// AddrPort adds an address and port as a string ("192.0.2.1:5060",
// "[2001:db8::1]:5060"), "" when a is the zero AddrPort.
func (o *Object) AddrPort(k string, a netip.AddrPort) {
	o.key(k)
	o.addrPortValue(a)
}

// LitAddrPort is Lit(lit) and then a as AddrPort writes it.
func (o *Object) LitAddrPort(lit string, a netip.AddrPort) {
	o.Lit(lit)
	o.addrPortValue(a)
}

// addrPortValue appends an address and port as AddrPort writes it, without
// a key.
func (o *Object) addrPortValue(a netip.AddrPort) {
	if !a.IsValid() {
		o.B = append(o.B, '"', '"')
		return
	}
	if ip := a.Addr(); ip.Is4() {
		for i := range o.aps {
			if e := &o.aps[i]; e.n > 0 && e.ap == a {
				o.B = append(o.B, e.b[:e.n]...)
				return
			}
		}
		// Digits, dots and a colon need no escaping: written as they are,
		// as netip writes them, without its formatting and a scan for
		// escapes (two per call in calls --json).
		v4 := ip.As4()
		start := len(o.B)
		b := append(o.B, '"')
		b = appendOctet(b, v4[0])
		b = appendOctet(append(b, '.'), v4[1])
		b = appendOctet(append(b, '.'), v4[2])
		b = appendOctet(append(b, '.'), v4[3])
		b = strconv.AppendUint(append(b, ':'), uint64(a.Port()), 10)
		o.B = append(b, '"')
		e := &o.aps[o.apNext&1]
		e.ap, e.n = a, uint8(copy(e.b[:], o.B[start:]))
		o.apNext++
		return
	}
	var buf [64]byte
	o.B = AppendString(o.B, a.AppendTo(buf[:0])) // a zone could hold anything: escaped
}

// appendOctet appends x in decimal. (strconv.AppendUint in its place, four
// times an address, made BenchmarkAddrPort (every address formatted, as
// BenchmarkAddrPortFormat now measures) 63–96 ns against this one's
// 37–46 ns, measured side by side with that variant.)
func appendOctet(b []byte, x uint8) []byte {
	switch {
	case x >= 100:
		return append(b, '0'+x/100, '0'+x/10%10, '0'+x%10)
	case x >= 10:
		return append(b, '0'+x/10, '0'+x%10)
	}
	return append(b, '0'+x)
}

// AppendString appends s as a JSON string (RFC 8259), escaping quotes,
// backslashes and control characters, and <, >, & and U+2028/9 so the output
// is safe inside HTML too; invalid UTF-8 becomes U+FFFD.
func AppendString[S ~string | ~[]byte](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; ; {
		for i+8 <= len(s) {
			w := s[i : i+8]
			x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
			if !plainWord(x) {
				break
			}
			i += 8
		}
		for i < len(s) && plainASCII[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r < 0xa0 { // a C1 control (CSI is U+009B): escaped, as C0 and DEL are
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&15])
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hex[r&15])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plainWord reports whether all eight bytes of x are plainASCII, a word
// at a time: no byte below 0x20 or from 0x7f (DEL) up, and none of '"'
// and '&' (0x22, 0x26: equal after clearing bit 2), '<' and '>' (0x3c,
// 0x3e: bit 1) or '\\'. As in decode's firstByte, (x-1) &^ x has a byte's
// high bit set where x's byte is zero, and x+1 where it is 0x7f; each
// gives a false alarm only above a true one, so "none flagged" is exact,
// and a flagged word goes to the byte loop.
func plainWord(x uint64) bool {
	const ones = 0x0101010101010101
	q := (x &^ (0x04 * ones)) ^ (0x22 * ones) // '"' or '&'
	a := (x &^ (0x02 * ones)) ^ (0x3c * ones) // '<' or '>'
	s := x ^ (0x5c * ones)                    // '\\'
	t := x | (x - 0x20*ones) | (x + ones) | (q-ones)&^q | (a-ones)&^a | (s-ones)&^s
	return t&(0x80*ones) == 0
}

// plainASCII marks the bytes AppendString copies as they are: printable
// ASCII but for '"', '\\', '<', '>' and '&' (DEL is not printable).
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	t['"'], t['\\'], t['<'], t['>'], t['&'] = false, false, false, false, false
	return t
}()

func decodeRune[S ~string | ~[]byte](s S) (rune, int) {
	if b, ok := any(s).([]byte); ok {
		return utf8.DecodeRune(b)
	}
	return utf8.DecodeRuneInString(string(s))
}
