package correlate_test

import (
	"testing"

	"github.com/sipflow/sipflow/correlate"
)

// TestRegistrationState: a registration whose last REGISTER answered 2xx
// removed its bindings (RFC 3261 §10.2.2) is unregistered; one that added
// or refreshed them, registered.
func TestRegistrationState(t *testing.T) {
	state := func(want correlate.State) func(c *correlate.Call) bool {
		return func(c *correlate.Call) bool { return c.Kind == correlate.KindRegistration && c.State == want }
	}
	runScriptCases(t, []scriptCase{
		{"Registered", `
0.0 a>b REGISTER 1/REGISTER hdr=Contact:_<sip:a@10.0.0.1>;expires=3600
0.1 b>a 200 1/REGISTER tt=r1
tick 100
`, state(correlate.StateRegistered), "want registered"},
		// Registered, then removed with a challenge in between, as the
		// public captures' phones do.
		{"ThenUnregistered", `
0.0 a>b REGISTER 1/REGISTER hdr=Contact:_<sip:a@10.0.0.1>;expires=3600
0.1 b>a 200 1/REGISTER tt=r1
20.0 a>b REGISTER 2/REGISTER br=z9hG4bK2 hdr=Contact:_<sip:a@10.0.0.1>;expires=0
20.1 b>a 401 2/REGISTER br=z9hG4bK2 tt=r2
20.2 a>b REGISTER 3/REGISTER br=z9hG4bK3 auth hdr=Contact:_<sip:a@10.0.0.1>;expires=0
20.3 b>a 200 3/REGISTER br=z9hG4bK3 tt=r3
tick 100
`, state(correlate.StateUnregistered), "want unregistered"},
		{"ExpiresHeaderZero", `
0.0 a>b REGISTER 1/REGISTER hdr=Contact:_<sip:a@10.0.0.1> hdr=Expires:_0
0.1 b>a 200 1/REGISTER tt=r1
tick 100
`, state(correlate.StateUnregistered), "want unregistered"},
		{"Wildcard", `
0.0 a>b REGISTER 1/REGISTER hdr=Contact:_* hdr=Expires:_0
0.1 b>a 200 1/REGISTER tt=r1
tick 100
`, state(correlate.StateUnregistered), "want unregistered"},
		// The removal refused: the registration failed, whatever it asked.
		{"UnregisterRefused", `
0.0 a>b REGISTER 1/REGISTER hdr=Contact:_<sip:a@10.0.0.1>;expires=0
0.1 b>a 403 1/REGISTER tt=r1
tick 100
`, state(correlate.StateFailed), "want failed"},
		// Removed, then registered again: registered.
		{"Reregistered", `
0.0 a>b REGISTER 1/REGISTER hdr=Contact:_<sip:a@10.0.0.1>;expires=0
0.1 b>a 200 1/REGISTER tt=r1
10.0 a>b REGISTER 2/REGISTER br=z9hG4bK2 hdr=Contact:_<sip:a@10.0.0.1>;expires=600
10.1 b>a 200 2/REGISTER br=z9hG4bK2 tt=r2
tick 100
`, state(correlate.StateRegistered), "want registered"},
		// The removal not yet answered when the capture ends: the binding
		// stands until the registrar confirms it.
		{"UnregisterPending", `
0.0 a>b REGISTER 1/REGISTER hdr=Contact:_<sip:a@10.0.0.1>;expires=3600
0.1 b>a 200 1/REGISTER tt=r1
20.0 a>b REGISTER 2/REGISTER br=z9hG4bK2 hdr=Contact:_<sip:a@10.0.0.1>;expires=0
tick 20.5
`, state(correlate.StateRegistered), "want registered"},
	})
}

// TestRegistrationRefreshFlow: a phone keeps one Call-ID for its
// registrations (RFC 3261 §10.2.4) and refreshes them before they expire,
// for as long as it runs: the flow is the registration's, up to its first
// 2xx, and the refreshes after it (challenged or not, the last one
// removing the bindings) are no step of it, as a call's session-timer
// refreshes are none of the call's.
func TestRegistrationRefreshFlow(t *testing.T) {
	flow := func(want string) func(c *correlate.Call) bool {
		return func(c *correlate.Call) bool {
			return c.Kind == correlate.KindRegistration && c.Flow == want && c.Deviation == ""
		}
	}
	runScriptCases(t, []scriptCase{
		{"Refreshed", `
0.0 a>b REGISTER 1/REGISTER hdr=Contact:_<sip:a@10.0.0.1>;expires=60
0.1 b>a 200 1/REGISTER tt=r1
30.0 a>b REGISTER 2/REGISTER br=z9hG4bK2 hdr=Contact:_<sip:a@10.0.0.1>;expires=60
30.1 b>a 200 2/REGISTER br=z9hG4bK2 tt=r2
60.0 a>b REGISTER 3/REGISTER br=z9hG4bK3 hdr=Contact:_* hdr=Expires:_0
60.1 b>a 200 3/REGISTER br=z9hG4bK3 tt=r3
tick 100
`, flow("register"), "want flow register"},
		// Every REGISTER challenged, as Asterisk does.
		{"ChallengedEachTime", `
0.0 a>b REGISTER 1/REGISTER hdr=Contact:_<sip:a@10.0.0.1>;expires=60
0.1 b>a 401 1/REGISTER tt=r1
0.2 a>b REGISTER 2/REGISTER br=z9hG4bK2 auth hdr=Contact:_<sip:a@10.0.0.1>;expires=60
0.3 b>a 200 2/REGISTER br=z9hG4bK2 tt=r2
30.0 a>b REGISTER 3/REGISTER br=z9hG4bK3 hdr=Contact:_<sip:a@10.0.0.1>;expires=60
30.1 b>a 401 3/REGISTER br=z9hG4bK3 tt=r3
30.2 a>b REGISTER 4/REGISTER br=z9hG4bK4 auth hdr=Contact:_<sip:a@10.0.0.1>;expires=60
30.3 b>a 200 4/REGISTER br=z9hG4bK4 tt=r4
tick 100
`, flow("register-digest"), "want flow register-digest"},
	})
}

// TestRegistrationIntervalFlow: a registrar that finds the expiry asked
// too brief answers 423 with its Min-Expires, and the phone registers
// again with it (RFC 3261 §10.2.8): the built-in register-interval, a
// digest challenge before or after the 423 or none, the 423 once or more.
// A phone that gives up after the 423 matches no flow.
func TestRegistrationIntervalFlow(t *testing.T) {
	flow := func(want string) func(c *correlate.Call) bool {
		return func(c *correlate.Call) bool {
			return c.Kind == correlate.KindRegistration && c.Flow == want && (want == "") == (c.Deviation != "")
		}
	}
	runScriptCases(t, []scriptCase{
		{"Retried", `
0.0 a>b REGISTER 1/REGISTER hdr=Expires:_60
0.1 b>a 423 1/REGISTER tt=r1 hdr=Min-Expires:_3600
0.2 a>b REGISTER 2/REGISTER br=z9hG4bK2 hdr=Expires:_3600
0.3 b>a 200 2/REGISTER br=z9hG4bK2 tt=r2
tick 100
`, flow("register-interval"), "want flow register-interval"},
		{"ChallengedThenTooBrief", `
0.0 a>b REGISTER 1/REGISTER hdr=Expires:_60
0.1 b>a 401 1/REGISTER tt=r1
0.2 a>b REGISTER 2/REGISTER br=z9hG4bK2 auth hdr=Expires:_60
0.3 b>a 423 2/REGISTER br=z9hG4bK2 tt=r2 hdr=Min-Expires:_3600
0.4 a>b REGISTER 3/REGISTER br=z9hG4bK3 auth hdr=Expires:_3600
0.5 b>a 200 3/REGISTER br=z9hG4bK3 tt=r3
tick 100
`, flow("register-interval"), "want flow register-interval"},
		{"TooBriefTwiceThenChallenged", `
0.0 a>b REGISTER 1/REGISTER hdr=Expires:_60
0.1 b>a 423 1/REGISTER tt=r1 hdr=Min-Expires:_600
0.2 a>b REGISTER 2/REGISTER br=z9hG4bK2 hdr=Expires:_600
0.3 b>a 423 2/REGISTER br=z9hG4bK2 tt=r2 hdr=Min-Expires:_3600
0.4 a>b REGISTER 3/REGISTER br=z9hG4bK3 hdr=Expires:_3600
0.5 b>a 401 3/REGISTER br=z9hG4bK3 tt=r3
0.6 a>b REGISTER 4/REGISTER br=z9hG4bK4 auth hdr=Expires:_3600
0.7 b>a 200 4/REGISTER br=z9hG4bK4 tt=r4
tick 100
`, flow("register-interval"), "want flow register-interval"},
		{"GaveUp", `
0.0 a>b REGISTER 1/REGISTER hdr=Expires:_60
0.1 b>a 423 1/REGISTER tt=r1 hdr=Min-Expires:_3600
tick 100
`, flow(""), "want no flow, a deviation"},
	})
}

// TestRegistrationProxyAuthFlow: a REGISTER challenged with 407 (a proxy
// on the way, or a registrar that challenges as one, RFC 3261 §22.3) and
// sent again with credentials is the built-in register-proxy-auth; one
// refused again is measured against it, not against the 401 flow it left
// at its first response.
func TestRegistrationProxyAuthFlow(t *testing.T) {
	runScriptCases(t, []scriptCase{
		{"Accepted", `
0.0 a>b REGISTER 1/REGISTER hdr=Contact:_<sip:a@10.0.0.1>;expires=60
0.1 b>a 407 1/REGISTER tt=r1
0.2 a>b REGISTER 2/REGISTER br=z9hG4bK2 auth hdr=Contact:_<sip:a@10.0.0.1>;expires=60
0.3 b>a 200 2/REGISTER br=z9hG4bK2 tt=r2
tick 100
`, func(c *correlate.Call) bool {
			return c.Kind == correlate.KindRegistration && c.State == correlate.StateRegistered && c.Flow == "register-proxy-auth" && c.Deviation == ""
		}, "want registered, flow register-proxy-auth"},
		{"RefusedAgain", `
0.0 a>b REGISTER 1/REGISTER
0.1 b>a 407 1/REGISTER tt=r1
0.2 a>b REGISTER 2/REGISTER br=z9hG4bK2 auth
0.3 b>a 407 2/REGISTER br=z9hG4bK2 tt=r2
tick 100
`, func(c *correlate.Call) bool {
			return c.Flow == "" && c.Deviation == "register-proxy-auth: after 3 message(s), expected B -> A 2xx REGISTER, got B -> A 407 REGISTER (packet 4)"
		}, "want no flow, left register-proxy-auth at the second 407"},
	})
}
