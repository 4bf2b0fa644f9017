package correlate

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/decode"
)

// TestSupportsTimer: the option tag "timer" in any Supported header, in
// any case, compact form included (RFC 3261 §20.37, RFC 4028 §3).
func TestSupportsTimer(t *testing.T) {
	for _, tc := range []struct {
		headers string
		want    bool
	}{
		{"Supported: timer\r\n", true},
		{"Supported: 100rel, timer\r\n", true},
		{"Supported: replaces,TIMER ,path\r\n", true},
		{"k: timer\r\n", true},
		{"Supported: 100rel\r\nSupported: timer\r\n", true},
		{"Supported: timers, xtimer\r\n", false},
		{"Supported:\r\n", false},
		{"Supported: \ftimer\r\n", false}, // a form feed is no white space in SIP (RFC 3261 §25.1: SP and HTAB)
		{"Require: timer\r\n", false},
		{"Subject: timer\r\n", false},
		{"", false},
	} {
		for _, parse := range []func([]byte, *decode.Message) error{decode.ParseSIP, decode.ParseSIPLean} {
			raw := "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n" +
				tc.headers + "Content-Length: 0\r\n\r\n"
			var d decode.Message
			if err := parse([]byte(raw), &d); err != nil {
				t.Fatalf("%q: %v", tc.headers, err)
			}
			if got := supportsTimer(&d); got != tc.want {
				t.Errorf("supportsTimer(%q) = %v, want %v", tc.headers, got, tc.want)
			}
		}
	}
}

func TestParseSessionExpires(t *testing.T) {
	for _, tc := range []struct {
		in        string
		secs      int32
		refresher byte
	}{
		{"90", 90, 0},
		{"1800;refresher=uac", 1800, 'c'},
		{" 1800 ; refresher = UAS ", 1800, 's'},
		{"90;foo=bar;refresher=uas;x", 90, 's'},
		{"90;refresher=foo", 90, 0},
		{"90;refresher", 90, 0},
		{"90;xrefresher=uac", 90, 0},
		{"x;refresher=uac", 0, 0},
		{"", 0, 0},
		{"2147483647", 2147483647, 0},
		{"2147483648;refresher=uac", 0, 0}, // out of range: no timer
		{"99999999999999999999999", 0, 0},
	} {
		secs, r := parseSessionExpires([]byte(tc.in))
		if secs != tc.secs || r != tc.refresher {
			t.Errorf("parseSessionExpires(%q) = %d, %q; want %d, %q", tc.in, secs, r, tc.secs, tc.refresher)
		}
	}
}

// FuzzParseSessionExpires: any bytes give an interval that is the leading
// digits' value (0 when there are none, or too many), and a refresher only
// when the value names one.
func FuzzParseSessionExpires(f *testing.F) {
	for _, s := range []string{"90", "1800;refresher=uac", " 90 ; Refresher = UAS", "x", "90;refresher=", "0;;;=;"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		secs, r := parseSessionExpires(v)
		digits := bytes.TrimLeft(v, " \t")
		n := 0
		for n < len(digits) && '0' <= digits[n] && digits[n] <= '9' {
			n++
		}
		want, err := strconv.ParseInt(string(digits[:n]), 10, 32)
		if err != nil {
			want = 0
		}
		if int64(secs) != want {
			t.Fatalf("parseSessionExpires(%q) = %d, want %d", v, secs, want)
		}
		if r != 0 && r != 'c' && r != 's' || r != 0 && !bytes.Contains(bytes.ToLower(v), []byte("refresher")) {
			t.Fatalf("parseSessionExpires(%q): refresher %q", v, r)
		}
	})
}

// FuzzSupportsTimer: for any Supported value without quotes, line breaks
// or NULs, supportsTimer, on the parsed message, says whether one of its
// comma-separated option tags is "timer" in any case, as a plain split of
// the value does, trimmed of SIP's white space (SP and HTAB, RFC 3261
// §25.1; a form feed or a vertical tab is part of a tag). (Every seed must
// parse: the property is checked.)
func FuzzSupportsTimer(f *testing.F) {
	for _, s := range []string{"timer", "100rel, timer", " TIMER ,path", "timers", "", ",,timer,,", "replaces;x=timer", "\fTIMER", "timer\v"} {
		if _, err := supportedMessage(s); err != nil {
			f.Fatalf("seed %q: %v", s, err)
		}
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		// decode splits every list header outside quotes and <...>, as
		// Contact needs (RFC 3261 §7.3.1): an option tag is a token, so a
		// quote or a '<' in Supported is no tag, and the commas after an
		// unclosed one split nothing ("<,timer": testdata/fuzz).
		if strings.ContainsAny(v, "\"<\r\n\x00") {
			return
		}
		d, err := supportedMessage(v)
		if err != nil {
			return
		}
		want := false
		for _, tag := range strings.Split(v, ",") {
			want = want || strings.EqualFold(strings.Trim(tag, " \t"), "timer")
		}
		if got := supportsTimer(d); got != want {
			t.Errorf("Supported: %q: supportsTimer %v, want %v", v, got, want)
		}
	})
}

// supportedMessage parses an INVITE whose Supported header is v.
func supportedMessage(v string) (*decode.Message, error) {
	raw := "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n" +
		"Supported: " + v + "\r\nContent-Length: 0\r\n\r\n"
	d := new(decode.Message)
	return d, decode.ParseSIP([]byte(raw), d)
}
