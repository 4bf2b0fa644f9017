package correlate

import (
	"bytes"
	"strconv"
	"testing"
)

func TestParseSubscriptionState(t *testing.T) {
	for _, tt := range []struct {
		in         string
		terminated bool
		reason     string
		expires    int
	}{
		{"active;expires=3600", false, "", 3600},
		{"Active ; Expires = 60 ", false, "", 60},
		{"pending;expires=10;retry-after=5", false, "", 10},
		{"terminated;reason=timeout", true, "timeout", -1},
		{"TERMINATED;REASON=Timeout", true, "timeout", -1},
		{"terminated", true, "", -1},
		{" terminated ;reason=timeout", true, "timeout", -1},
		{"terminatedx", false, "", -1},
		{"active;expires=", false, "", -1},
		{"active;expires=x1", false, "", -1},
		{"active;foo;expires=7", false, "", 7},
		{"", false, "", -1},
	} {
		term, reason, exp := parseSubscriptionState([]byte(tt.in))
		if term != tt.terminated || reason != tt.reason || exp != tt.expires {
			t.Errorf("%q: got %v %q %d, want %v %q %d", tt.in, term, reason, exp, tt.terminated, tt.reason, tt.expires)
		}
	}
}

// FuzzParseSubscriptionState: any value gives an expires of -1 or a
// number its digits spell, a reason in lower case, and terminated only
// when the state before the first ';' is terminated.
func FuzzParseSubscriptionState(f *testing.F) {
	for _, s := range []string{"active;expires=3600", "terminated;reason=timeout", "pending;expires=10;retry-after=5", ";;=", "terminated ;reason"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		term, reason, exp := parseSubscriptionState(v)
		state, _, _ := bytes.Cut(v, []byte{';'})
		if term != bytes.EqualFold(bytes.TrimSpace(state), []byte("terminated")) {
			t.Errorf("%q: terminated %v", v, term)
		}
		if reason != string(bytes.ToLower([]byte(reason))) {
			t.Errorf("%q: reason %q not lower case", v, reason)
		}
		if exp < -1 {
			t.Errorf("%q: expires %d", v, exp)
		}
		if exp >= 0 && !bytes.Contains(v, []byte(strconv.Itoa(exp))) && exp != 0 {
			t.Errorf("%q: expires %d not in the value", v, exp)
		}
	})
}
