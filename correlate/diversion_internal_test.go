package correlate

import (
	"strings"
	"testing"
)

func TestDiversionSummary(t *testing.T) {
	b := func(vs ...string) [][]byte {
		var out [][]byte
		for _, v := range vs {
			out = append(out, []byte(v))
		}
		return out
	}
	tests := []struct {
		name               string
		diversion, history [][]byte
		want               string
	}{
		{"one Diversion", b("<sip:bob@h>;reason=user-busy;counter=1"), nil, "from sip:bob@h (user-busy, counter 1)"},
		{"most recent first, a quoted reason, no brackets", b(`"Front, Desk" <sip:+1555@h>;reason="no-answer"`, "sip:alice@h;reason=unconditional"), nil,
			"from sip:+1555@h (no-answer), before that from sip:alice@h (unconditional)"},
		{"no reason", b("<sip:bob@h>"), nil, "from sip:bob@h"},
		{"a display name quoting < > and ;", b(`"Sales <main>; 2nd" <tel:+15551234>;reason=no-answer`, `"a \"<b>\"" <sip:c@h>;reason=deflection`), nil,
			"from tel:+15551234 (no-answer), before that from sip:c@h (deflection)"},
		{"History-Info with a quoted display name", nil, b(`"Bob <desk>" <sip:bob@h?Reason=SIP%3Bcause%3D486>;index=1`, `"VM" <sip:vm@h>;index=1.1;mp=1`),
			"History-Info: sip:bob@h (index 1, cause 486) → sip:vm@h (index 1.1)"},
		{"History-Info with a cause", nil, b("<sip:bob@h?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%20Here%22>;index=1", "<sip:vm@h>;index=1.1;rc=1"),
			"History-Info: sip:bob@h (index 1, cause 486) → sip:vm@h (index 1.1)"},
		{"both", b("<sip:bob@h>;reason=user-busy"), b("<sip:bob@h?Reason=SIP%3Bcause%3D486>;index=1", "<sip:vm@h>;index=1.1"),
			"from sip:bob@h (user-busy); History-Info: sip:bob@h (index 1, cause 486) → sip:vm@h (index 1.1)"},
		{"History-Info of the dialled target alone: no forwarding", nil, b("<sip:0@192.168.5.11>;index=1"), ""},
		{"a Q.850 cause, named", nil, b("<sip:bob@h?Reason=Q.850%3Bcause%3D16>;index=1", "<sip:vm@h>;index=1.1"),
			"History-Info: sip:bob@h (index 1, Q.850 cause 16) → sip:vm@h (index 1.1)"},
		{"a SIP cause and a Q.850 one: the SIP one", nil, b("<sip:bob@h?Reason=Q.850%3Bcause%3D17&Reason=SIP%3Bcause%3D486>;index=1", "<sip:vm@h>;index=1.1"),
			"History-Info: sip:bob@h (index 1, cause 486) → sip:vm@h (index 1.1)"},
		{"two of another protocol: the first", nil, b("<sip:bob@h?Reason=Q.850%3Bcause%3D16&Reason=X%3Bcause%3D9>;index=1", "<sip:vm@h>;index=1.1"),
			"History-Info: sip:bob@h (index 1, Q.850 cause 16) → sip:vm@h (index 1.1)"},
		{"a cause without its protocol: as before, no name", nil, b("<sip:bob@h?Reason=%3Bcause%3D16>;index=1", "<sip:vm@h>;index=1.1"),
			"History-Info: sip:bob@h (index 1, cause 16) → sip:vm@h (index 1.1)"},
		{"one entry with a cause", nil, b("<sip:bob@h?Reason=SIP%3Bcause%3D302>;index=1"), "History-Info: sip:bob@h (index 1, cause 302)"},
		{"a registrar's contact (rc), RFC 7044 §9.1's basic call: no forwarding", nil, b("<sip:bob@example.com>;index=1", "<sip:bob@192.0.2.4>;index=1.1;rc=1"), ""},
		{"a proxy's relay (np): no forwarding", nil, b("<sip:bob@h>;index=1", "<sip:bob@h>;index=1.1;np=1", "<sip:bob@10.0.0.9>;index=1.1.1;rc=1.1"), ""},
		{"a target mapped (mp) is a forwarding", nil, b("<sip:bob@h>;index=1", "<sip:vm@h>;index=1.1;mp=1"),
			"History-Info: sip:bob@h (index 1) → sip:vm@h (index 1.1)"},
		{"empty entries", b("", "  "), b("<>"), ""},
		{"a bracket never closed", b("<sip:bob@h;reason=x"), nil, "from sip:bob@h;reason=x"},
		{"a long list", b(strings.Split(strings.Repeat("<sip:a@h>;reason=deflection,", 6), ",")...), nil,
			"from sip:a@h (deflection)" + strings.Repeat(", before that from sip:a@h (deflection)", 3) + ", …"},
	}
	for _, tt := range tests {
		if got, _ := diversionSummary(tt.diversion, tt.history); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func FuzzDiversionSummary(f *testing.F) {
	f.Add("<sip:bob@h>;reason=user-busy;counter=1", "<sip:bob@h?Reason=SIP%3Bcause%3D486>;index=1")
	f.Fuzz(func(t *testing.T, d, h string) {
		s, _ := diversionSummary([][]byte{[]byte(d)}, [][]byte{[]byte(h)})
		if strings.Count(s, "from ") > maxDiversions+1 {
			t.Fatalf("%q", s)
		}
	})
}
