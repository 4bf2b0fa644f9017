package correlate

import (
	"strings"
	"testing"
)

func TestReferToReplaces(t *testing.T) {
	tests := []struct {
		uri, base string
		want      replacesRef
		ok        bool
	}{
		{"sip:carol@h:5060?Replaces=12%40h%3Bto-tag%3Dct%3Bfrom-tag%3Dat", "sip:carol@h:5060", replacesRef{callID: "12@h", toTag: "ct", fromTag: "at"}, true},
		{"sip:carol@h?Require=replaces&replaces=id%3Bfrom-tag%3Df%3B%20to-tag%3Dt%3Bearly-only", "sip:carol@h", replacesRef{callID: "id", toTag: "t", fromTag: "f", earlyOnly: true}, true},
		{"sip:carol@h?Re%70laces=id", "sip:carol@h", replacesRef{callID: "id"}, true},                      // an escaped header name
		{"sip:carol@h?Replaces=a%zz%4", "sip:carol@h", replacesRef{callID: "a%zz%4"}, true},                // bad escapes stay
		{"sip:carol@h?Replaces=%3Bto-tag%3Dt", "sip:carol@h?Replaces=%3Bto-tag%3Dt", replacesRef{}, false}, // no Call-ID
		{"sip:carol@h?Subject=x", "sip:carol@h?Subject=x", replacesRef{}, false},
		{"sip:carol@h", "sip:carol@h", replacesRef{}, false},
	}
	for _, tt := range tests {
		got, base, ok := referToReplaces(tt.uri)
		if got != tt.want || base != tt.base || ok != tt.ok {
			t.Errorf("referToReplaces(%q) = %+v, %q, %v; want %+v, %q, %v", tt.uri, got, base, ok, tt.want, tt.base, tt.ok)
		}
	}
}

func TestParseReplaces(t *testing.T) {
	tests := []struct {
		v    string
		want replacesRef
	}{
		{"98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff", replacesRef{callID: "98732@sip.example.com", toTag: "ff87ff", fromTag: "r33th4x0r"}},
		{" id ; TO-TAG = a ;From-Tag=b; early-only ", replacesRef{callID: "id", toTag: "a", fromTag: "b", earlyOnly: true}},
		{";to-tag=a", replacesRef{toTag: "a"}},
		{"", replacesRef{}},
	}
	for _, tt := range tests {
		if got := parseReplaces([]byte(tt.v)); got != tt.want {
			t.Errorf("parseReplaces(%q) = %+v, want %+v", tt.v, got, tt.want)
		}
	}
}

func FuzzReferToReplaces(f *testing.F) {
	f.Add("sip:carol@h:5060?Replaces=12%40h%3Bto-tag%3Dct%3Bfrom-tag%3Dat")
	f.Add("sip:c@h?a=b&Replaces=%%3B;&")
	f.Fuzz(func(t *testing.T, uri string) {
		r, base, ok := referToReplaces(uri)
		if !strings.HasPrefix(uri, base) {
			t.Fatalf("base %q is not a prefix of %q", base, uri)
		}
		if ok != (r.callID != "") || ok && base == uri {
			t.Fatalf("referToReplaces(%q) = %+v, %q, %v", uri, r, base, ok)
		}
	})
}
