package correlate

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/sipflow/sipflow/decode"
)

func TestContactExpires(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"<sip:a@10.0.0.1:5060>;expires=0", 0},
		{"<sip:a@10.0.0.1:5060;transport=udp>;expires=3600", 3600},
		{`"Alice" <sip:a@x>;+sip.instance="<urn:uuid:1;expires=5>";expires=0`, 0},
		{`"A>;expires=9" <sip:a@x>;expires=60`, 60},
		{`<sip:a@x>;q=0.5; Expires = 120 ;audio`, 120},
		{"<sip:a@x;expires=0>", -1}, // a URI parameter, not the Contact's
		{"sip:a@x;expires=0", 0},    // no brackets: the header's parameters
		{"sip:a@x", -1},
		{"<sip:a@x>", -1},
		{"<sip:a@x>;expires", -1},
		{"<sip:a@x>;expires=", -1},
		{`<sip:a@x>;lang="en;fr\"x;expires=1";expires=7`, 7},
		{`<sip:a@x>;v="unclosed;expires=0`, -1},
		{`"unclosed <sip:a@x>;expires=0`, -1},
		{"<sip:a@x;expires=0", -1},
		{"", -1},
	} {
		if got := contactExpires([]byte(tc.in)); got != tc.want {
			t.Errorf("contactExpires(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// FuzzContactExpires: any value gives -1 or a number its digits spell,
// and a value with no "expires" in it gives -1.
func FuzzContactExpires(f *testing.F) {
	for _, s := range []string{"<sip:a@x>;expires=0", `"a" <sip:a@x>;p="q;r";expires=10`, "sip:a@x;expires=3600", `<sip:a;b>;"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		got := contactExpires(v)
		if got < -1 || got >= 0 && !bytes.Contains(v, []byte(strconv.Itoa(got))) {
			t.Errorf("%q: %d", v, got)
		}
		if got != -1 && !bytes.Contains(bytes.ToLower(v), []byte("expires")) {
			t.Errorf("%q: %d without an expires parameter", v, got)
		}
	})
}

// TestRemovesBindings: a REGISTER removes its bindings when every Contact
// has an expires of 0, its own or the Expires header's (RFC 3261 §10.2.2),
// or it is "Contact: *", in a lean parse as in a full one.
func TestRemovesBindings(t *testing.T) {
	for _, tc := range []struct {
		headers string
		want    bool
	}{
		{"Contact: <sip:a@10.0.0.1>;expires=0\r\n", true},
		{"Contact: <sip:a@10.0.0.1>\r\nExpires: 0\r\n", true},
		{"m: <sip:a@10.0.0.1>\r\nExpires: 0\r\n", true},
		{"Contact: *\r\nExpires: 0\r\n", true},
		{"Contact: <sip:a@10.0.0.1>;expires=0, <sip:a@10.0.0.2>;expires=0\r\n", true},
		{"Contact: <sip:a@10.0.0.1>;expires=0\r\nContact: <sip:a@10.0.0.2>\r\nExpires: 0\r\n", true},
		{"Contact: <sip:a@10.0.0.1>;expires=0, <sip:a@10.0.0.2>\r\n", false}, // the second is kept (default expiry)
		{"Contact: <sip:a@10.0.0.1>;expires=3600\r\nExpires: 0\r\n", false},
		{"Contact: <sip:a@10.0.0.1>\r\nExpires: 3600\r\n", false},
		{"Contact: <sip:a@10.0.0.1>\r\n", false},
		{"Expires: 0\r\n", false}, // no Contact: a query
		{"", false},
	} {
		for _, parse := range []func([]byte, *decode.Message) error{decode.ParseSIP, decode.ParseSIPLean} {
			raw := "REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n" +
				tc.headers + "Content-Length: 0\r\n\r\n"
			var d decode.Message
			if err := parse([]byte(raw), &d); err != nil {
				t.Fatalf("%q: %v", tc.headers, err)
			}
			if got := RemovesBindings(&d); got != tc.want {
				t.Errorf("RemovesBindings(%q) = %v, want %v", tc.headers, got, tc.want)
			}
		}
	}
}
