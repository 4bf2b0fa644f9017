package decode

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// walkViews calls fn for every []byte reachable from the exported fields of
// v (structs, slices of structs, [][]byte), with a path for messages. It
// uses reflection so that a field added to Message later is checked too.
func walkViews(v reflect.Value, path string, fn func(path string, b []byte)) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walkViews(v.Elem(), path, fn)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				walkViews(v.Field(i), path+"."+f.Name, fn)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			fn(path, v.Bytes())
			return
		}
		for i := 0; i < v.Len(); i++ {
			walkViews(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

// inside reports whether the non-empty slice v lies entirely inside in.
func inside(in, v []byte) bool {
	if len(in) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(in)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	return p >= lo && p+uintptr(len(v)) <= lo+uintptr(len(in))
}

// isCanonicalName reports whether b is one of the shared header names.
func isCanonicalName(b []byte) bool {
	for _, n := range hdrNames {
		if len(n) > 0 && len(n) == len(b) && unsafe.SliceData(n) == unsafe.SliceData(b) {
			return true
		}
	}
	return false
}

// checkViews fails the test if any non-empty []byte of m lies outside in,
// except the canonical Header names.
func checkViews(t testing.TB, in []byte, m *Message) {
	t.Helper()
	walkViews(reflect.ValueOf(m), "Message", func(path string, b []byte) {
		if len(b) == 0 || inside(in, b) {
			return
		}
		if strings.HasSuffix(path, ".Name") && strings.Contains(path, ".Headers[") && isCanonicalName(b) {
			return
		}
		t.Errorf("%s = %q is not a view of the input", path, b)
	})
}

// fieldStrings renders every view of m, nil-ness included, for comparing
// two messages.
func fieldStrings(m *Message) string {
	var sb strings.Builder
	walkViews(reflect.ValueOf(m), "Message", func(path string, b []byte) {
		if b == nil {
			fmt.Fprintf(&sb, "%s=nil\n", path)
		} else {
			fmt.Fprintf(&sb, "%s=%q\n", path, b)
		}
	})
	fmt.Fprintf(&sb, "%d %d %d %d %d %+v", m.StatusCode, m.CSeq, m.ContentLength, m.MaxForwards, m.RSeq, m.Via)
	return sb.String()
}

// addSeeds adds the torture messages and the benchmark INVITE to the
// corpus, plus a few messages that exercise the framing paths.
func addSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "torture", "*.sip"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no torture messages: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(benchInvite)                                                   // a typical INVITE with SDP
	f.Add(append(bytes.Clone(benchInvite), benchInvite...))              // two on one stream
	f.Add([]byte(strings.ReplaceAll(string(benchInvite), "\r\n", "\n"))) // LF only
	f.Add([]byte("\r\n\r\nSIP/2.0 200 OK\r\nl: 3\r\n\r\nabc"))           // keep-alive, compact l
	f.Add([]byte("SIP/2.0 100 Trying\r\nVia: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;rport\r\nFrom: a <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n"))
	f.Add([]byte("INVITE sip:b SIP/2.0\r\nContent-Type: multipart/mixed;boundary=b\r\n\r\n--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b--\r\n"))
}

// FuzzParseSIP checks that ParseSIP never panics, never writes to its
// input, and that every view it returns lies inside the input; that Clone
// copies every field; and that FrameSIP agrees with ParseSIP about where a
// message ends.
func FuzzParseSIP(f *testing.F) {
	addSeeds(f)
	// Parsed into again and again, in full and lean, as the decoder and the
	// calls command's batches reuse their Messages.
	var reused, reusedLean Message
	f.Fuzz(func(t *testing.T, in []byte) {
		b := bytes.Clone(in) // scribbled on below to check Clone
		orig := bytes.Clone(b)
		var m Message
		err := ParseSIP(b, &m)
		if !bytes.Equal(b, orig) {
			t.Fatalf("ParseSIP modified its input")
		}
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrShortBody) {
			t.Fatalf("error %v wraps neither sentinel", err)
		}
		checkViews(t, b, &m)
		lean, lerr := checkLean(t, b, &m, err)
		checkReuse(t, b, &m, err, &reused, ParseSIP)
		checkReuse(t, b, lean, lerr, &reusedLean, ParseSIPLean)
		if err == nil {
			if len(m.CallID) == 0 || len(m.CSeqMethod) == 0 || len(m.From.URI) == 0 || len(m.To.URI) == 0 {
				t.Fatalf("accepted without mandatory fields: %s", fieldStrings(&m))
			}
			if m.IsRequest() && (len(m.Via) == 0 || len(m.Method) == 0) {
				t.Fatalf("request accepted without Via or Method")
			}
		}
		c := m.Clone()
		want := fieldStrings(&m)
		for i := range b {
			b[i] ^= 0xff
		}
		if got := fieldStrings(c); got != want {
			t.Fatalf("Clone differs from the original:\n got %s\nwant %s", got, want)
		}
		checkViews(t, c.Raw, c)
	})
}

// checkReuse checks that parsing b into reused, which holds an earlier
// parse of other bytes, gives what parsing it into a fresh Message gave
// (fresh, err): nothing of the earlier message is left.
func checkReuse(t *testing.T, b []byte, fresh *Message, err error, reused *Message, parse func([]byte, *Message) error) {
	t.Helper()
	rerr := parse(b, reused)
	if fmt.Sprint(rerr) != fmt.Sprint(err) {
		t.Fatalf("parse into a used Message: error %v, into a fresh one %v", rerr, err)
	}
	if got, want := fieldStrings(reused), fieldStrings(fresh); got != want {
		t.Fatalf("parse into a used Message differs:\n got %s\nwant %s", got, want)
	}
}

// checkLean checks that a lean parse of b (Options.Lean) gives what
// ParseSIP gave (m, err) with Contact left empty and Headers holding only
// the headers LeanHeader names, and returns the lean parse.
func checkLean(t *testing.T, b []byte, m *Message, err error) (*Message, error) {
	t.Helper()
	var lean Message
	lerr := ParseSIPLean(b, &lean)
	if fmt.Sprint(lerr) != fmt.Sprint(err) {
		t.Fatalf("lean parse error %v, ParseSIP's %v", lerr, err)
	}
	want := *m
	register := string(m.Method) == "REGISTER" // lean keeps its Contacts
	if !register {
		want.Contact = NameAddr{}
	}
	want.MaxForwards = -1
	want.Headers = nil
	for _, h := range m.Headers {
		if LeanHeader(string(h.Name)) || register && string(h.Name) == "contact" {
			want.Headers = append(want.Headers, h)
		}
	}
	if got, want := fieldStrings(&lean), fieldStrings(&want); got != want {
		t.Fatalf("lean parse differs:\n got %s\nwant %s", got, want)
	}
	return &lean, lerr
}

// FuzzFrameSIP checks that FrameSIP never panics, never claims more bytes
// than it was given, and frames exactly the message ParseSIP reads.
func FuzzFrameSIP(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		n, ok, err := FrameSIP(b)
		if err != nil {
			if ok || n != 0 || !errors.Is(err, ErrMalformed) {
				t.Fatalf("FrameSIP = %d, %v, %v", n, ok, err)
			}
			return
		}
		if !ok {
			if n != 0 {
				t.Fatalf("n = %d with ok false", n)
			}
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("n = %d, len(b) = %d", n, len(b))
		}
		// A second look at the same bytes, or at more of them, agrees.
		if n2, ok2, err2 := FrameSIP(b[:n]); n2 != n || !ok2 || err2 != nil {
			t.Fatalf("FrameSIP(b[:%d]) = %d, %v, %v", n, n2, ok2, err2)
		}
		var m Message
		perr := ParseSIP(b[:n], &m)
		if errors.Is(perr, ErrShortBody) {
			t.Fatalf("framed %d bytes but ParseSIP says the body is short: %v", n, perr)
		}
		if perr == nil {
			lead := len(b[:n]) - len(bytes.TrimLeft(b[:n], "\r\n"))
			if len(m.Raw) != n-lead {
				t.Fatalf("FrameSIP n = %d, ParseSIP len(Raw) = %d", n, len(m.Raw))
			}
		}
	})
}

// viaString shows every field of a Via with where its views start in in,
// so that two parses of in compare equal only when they return the same
// views, nil and empty told apart.
func viaString(in []byte, v *Via) string {
	view := func(b []byte) string {
		if b == nil {
			return "nil"
		}
		off := -1
		if len(b) > 0 {
			off = int(uintptr(unsafe.Pointer(&b[0])) - uintptr(unsafe.Pointer(&in[0])))
		}
		return fmt.Sprintf("%d%q", off, b)
	}
	return fmt.Sprintf("transport=%s sentby=%s host=%s port=%d branch=%s received=%s rport=%s has=%v",
		view(v.Transport), view(v.SentBy), view(v.Host), v.Port, view(v.Branch), view(v.Received), view(v.RPort), v.HasRPort)
}

// FuzzParseVia checks that where viaFast reads a Via, viaGeneral, which
// reads any the grammar allows, reads the same, and that viaFast reads the
// same whatever its guess (viaFastGuessing).
func FuzzParseVia(f *testing.F) {
	for _, s := range viaFastCases {
		f.Add([]byte(s.in))
	}
	learnt := viaGuesses(viaFastCases)
	f.Fuzz(func(t *testing.T, in []byte) {
		var fast, general Via
		if !viaFastGuessing(t, in, &fast, learnt) {
			return
		}
		if err := viaGeneral(in, &general); err != nil {
			t.Fatalf("viaFast read %q, viaGeneral refused it: %v", in, err)
		}
		if got, want := viaString(in, &fast), viaString(in, &general); got != want {
			t.Fatalf("%q:\nviaFast    %s\nviaGeneral %s", in, got, want)
		}
	})
}

// headerResult shows what readHeader or readHeaderFast returned, with the
// views as offsets into b.
func headerResult(b []byte, id hdrID, name, value []byte, next int) string {
	off := func(v []byte) string {
		if v == nil {
			return "nil"
		}
		return fmt.Sprintf("%d+%d", int(uintptr(unsafe.Pointer(unsafe.SliceData(v)))-uintptr(unsafe.Pointer(&b[0]))), len(v))
	}
	return fmt.Sprintf("id=%d name=%s value=%s next=%d", id, off(name), off(value), next)
}

// fastName is the name of the header line b starts with, as readHeaderFast
// reads it: up to the first colon.
func fastName(b []byte) []byte { return b[:bytes.IndexByte(b, ':')] }

// FuzzReadHeader checks that where readHeaderFast reads a header line,
// readHeader reads the same.
func FuzzReadHeader(f *testing.F) {
	for _, s := range readHeaderCases {
		f.Add([]byte(s.in))
	}
	f.Add([]byte("\r\nVia: SIP/2.0/UDP h\r\n\r\n"))
	f.Add([]byte("\r\na=rtpmap:0 PCMU/8000\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		id, value, next := readHeaderFastGuessing(t, b)
		ok := id != hdrUnknown
		if b[0] == '\r' || b[0] == '\n' {
			// parseSIP's loop ends the headers there; readHeaderFast
			// must not take such a line for a header either.
			if ok {
				t.Fatalf("readHeaderFast read a header from a line starting with %q: %q", b[0], b)
			}
			return
		}
		if !ok {
			return
		}
		wid, wname, wvalue, wnext, err := readHeader(b, 0)
		if err != nil {
			t.Fatalf("readHeaderFast read %q, readHeader refused it: %v", b, err)
		}
		if got, want := headerResult(b, id, fastName(b), value, next), headerResult(b, wid, wname, wvalue, wnext); got != want {
			t.Fatalf("%q:\nreadHeaderFast %s\nreadHeader     %s", b, got, want)
		}
	})
}

// FuzzSpanDigitsDots checks spanDigitsDots against a byte-by-byte scan
// from every start.
func FuzzSpanDigitsDots(f *testing.F) {
	f.Add([]byte("127.0.2.10:5090;branch=z9hG4bK-1"))
	f.Add([]byte("10.0.0.1/\xae\xb0.9.-:0123456789.."))
	f.Fuzz(func(t *testing.T, v []byte) {
		for p := 0; p <= len(v); p++ {
			want := p
			for want < len(v) && (isDigit(v[want]) || v[want] == '.') {
				want++
			}
			if got := spanDigitsDots(v, p); got != want {
				t.Fatalf("spanDigitsDots(%q, %d) = %d, want %d", v, p, got, want)
			}
		}
	})
}

// FuzzParseNameAddr checks parseNameAddr's shortcut against
// nameAddrGeneral: the same views of the input, and an error for the same
// inputs.
func FuzzParseNameAddr(f *testing.F) {
	for _, s := range []string{
		"sipp <sip:sipp@127.0.2.10:5090>;tag=28160SIPpTag001",
		"bob <sip:bob@127.0.2.20:5092>",
		"<sip:a@b>;tag=x;foo",
		"\"Quoted \\\" Name\" <sip:q@example.com>;tag=1",
		"sip:bare@example.com;tag=2",
		"Name < sip:spaced@example.com >;tag=3",
		"Name\t<sip:tab@example.com>",
		"<>",
		"a;b<sip:x>",
		"  <sip:lead@x>",
		"<sip:no-close@x;tag=4",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var fast, general NameAddr
		ferr := parseNameAddr(in, &fast)
		gerr := nameAddrGeneral(in, &general)
		if (ferr == nil) != (gerr == nil) {
			t.Fatalf("%q: parseNameAddr error %v, nameAddrGeneral error %v", in, ferr, gerr)
		}
		show := func(a *NameAddr) string {
			off := func(v []byte) string {
				if v == nil {
					return "nil"
				}
				return fmt.Sprintf("%d+%d/%d", int(uintptr(unsafe.Pointer(unsafe.SliceData(v)))-uintptr(unsafe.Pointer(unsafe.SliceData(in)))), len(v), cap(v))
			}
			return fmt.Sprintf("display=%s uri=%s tag=%s", off(a.Display), off(a.URI), off(a.Tag))
		}
		if got, want := show(&fast), show(&general); got != want {
			t.Fatalf("%q:\nparseNameAddr   %s\nnameAddrGeneral %s", in, got, want)
		}
	})
}

// FuzzUntilSep checks untilSep against until with sepChar from every start.
func FuzzUntilSep(f *testing.F) {
	f.Add([]byte("branch=z9hG4bK-6698-1-0;rport"))
	f.Add([]byte("tag=\x01\x7f\xff,; \t\r\n0123456789abcdef"))
	f.Fuzz(func(t *testing.T, v []byte) {
		for p := 0; p <= len(v); p++ {
			if got, want := untilSep(v, p), until(v, p, &sepChar); got != want {
				t.Fatalf("untilSep(%q, %d) = %d, want %d", v, p, got, want)
			}
		}
	})
}

// FuzzParamTag checks that paramTag's shortcut finds the tag that reading
// the parameters one by one finds.
func FuzzParamTag(f *testing.F) {
	for _, s := range []string{";tag=6698SIPpTag001", ";TAG=x;tag=y", ";tag;tag=x", ";tag=", ";tag=\"q\"", ";tag= x", ";tagx=1;tag=2", ";tag=a,b", ";tag=a b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, params []byte) {
		got, want := paramTag(params), paramTagGeneral(params)
		if got == nil || want == nil {
			if got != nil || want != nil {
				t.Fatalf("paramTag(%q) = %q, paramTagGeneral %q", params, got, want)
			}
			return
		}
		if unsafe.SliceData(got) != unsafe.SliceData(want) || len(got) != len(want) {
			t.Fatalf("paramTag(%q) = %q, paramTagGeneral %q", params, got, want)
		}
	})
}

// FuzzStartLine checks that the start line looksLikeSIP reads (the
// decoder's, for every datagram) is the one parseSIP reads itself: the
// same answer as LooksLikeSIP, and, when it gives the line (sl.ok), the same
// message, error and views (offsets, lengths, capacities) as a parse that
// reads the line again, with the startLine reused from one input to the next.
func FuzzStartLine(f *testing.F) {
	addSeeds(f)
	for _, s := range []string{
		"SIP/2.0 200\r\n", "SIP/2.0 200", "SIP/2.0 200\rX\n", "sip/2.0 486  Busy Here \r\n",
		"\n\r\nSIP/2.0 180 Ringing\n", "INVITE <sip:a@b> SIP/2.0\r\n", "INVITE sip:a@b\tSIP/2.0\r\n",
		"OPTIONS  sip:a@b  sip/2.0 \r\n", "BYE sip:a@b SIP/2.0", "ACK <sip:a SIP/2.0\r\n",
	} {
		f.Add([]byte(s))
	}
	// Read into again and again, as the decoder's is: what an earlier
	// line set must not show through.
	var sl startLine
	f.Fuzz(func(t *testing.T, b []byte) {
		ok := looksLikeSIP(b, &sl)
		if ok != LooksLikeSIP(b) {
			t.Fatalf("looksLikeSIP with a startLine says %v, LooksLikeSIP %v", ok, !ok)
		}
		if !ok || !sl.ok {
			return
		}
		var again, given Message
		err := parseSIP(b, &again, true, nil, new(guesses))
		gerr := parseSIP(b, &given, true, &sl, new(guesses))
		if fmt.Sprint(gerr) != fmt.Sprint(err) {
			t.Fatalf("parse with the start line given: error %v, reading it again %v", gerr, err)
		}
		if got, want := fieldStrings(&given), fieldStrings(&again); got != want {
			t.Fatalf("parse with the start line given differs:\n got %s\nwant %s", got, want)
		}
		for _, v := range []struct {
			name       string
			got, again []byte
		}{
			{"Raw", given.Raw, again.Raw}, {"Method", given.Method, again.Method},
			{"RequestURI", given.RequestURI, again.RequestURI}, {"Reason", given.Reason, again.Reason},
		} {
			if len(v.got) != len(v.again) || cap(v.got) != cap(v.again) || (v.got == nil) != (v.again == nil) {
				t.Fatalf("%s: len %d cap %d nil %v, reading the line again len %d cap %d nil %v",
					v.name, len(v.got), cap(v.got), v.got == nil, len(v.again), cap(v.again), v.again == nil)
			}
		}
	})
}
