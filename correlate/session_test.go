package correlate_test

import (
	"strings"
	"testing"

	"github.com/sipflow/sipflow/correlate"
)

// wantSession is a scriptCase check: c has a session-expired finding of
// severity sev whose detail holds every one of parts and whose first
// packet is first; or, with sev < 0, no such finding.
func wantSession(sev correlate.Severity, first int, parts ...string) func(*correlate.Call) bool {
	return func(c *correlate.Call) bool {
		f := findingOf(c, "session-expired")
		if sev < 0 {
			return f == nil
		}
		if f == nil || f.Severity != sev || len(f.Packets) == 0 || f.Packets[0] != first {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(f.Detail, p) {
				return false
			}
		}
		return true
	}
}

// The call set up with a 90 s session timer that the caller (uac of the
// INVITE) must refresh; lines 1-4.
const sessionSetup = `
0.0 a>b INVITE 1/INVITE hdr=Session-Expires:_90
0.1 b>a 180 1/INVITE tt=callee
0.5 b>a 200 1/INVITE tt=callee hdr=Session-Expires:_90;refresher=uac
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
`

// TestSessionExpired: RFC 4028 session timers. A call whose refresher does
// not refresh is ended by the other side shortly before the interval
// passes (§10): the calls that drop after 15 or 30 minutes.
func TestSessionExpired(t *testing.T) {
	runScriptCases(t, []scriptCase{
		{"NoRefreshByeAtExpiry", sessionSetup + `
tick 30
60.5 b>a BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
60.6 a>b 200 1/BYE ft=callee tt=caller br=z9hG4bKbye
`, wantSession(correlate.Error, 6, "the session expired: the 90 s session interval (Session-Expires, packet 3) passed",
			"refresher, the caller (10.0.0.1:5060)", "the callee ended the call with BYE (packet 6) 60.0 s after"),
			"want an error naming the caller as refresher and the callee's BYE"},
		// The refresher was the callee (refresher=uas), and the caller
		// enforced it.
		{"NoRefreshUAS", `
0.0 a>b INVITE 1/INVITE hdr=Session-Expires:_1800
0.5 b>a 200 1/INVITE tt=callee hdr=x:_1800;_refresher=UAS
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
tick 900
1768.5 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
1768.6 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, wantSession(correlate.Error, 5, "1800 s session interval (Session-Expires, packet 2)", "refresher, the callee (10.0.0.2:5060)", "the caller ended the call"),
			"want an error naming the callee as refresher (compact form, spaces, upper case)"},
		// Refreshed by a re-INVITE at half the interval, then hung up.
		{"RefreshedInTime", sessionSetup + `
45.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre hdr=Session-Expires:_90;refresher=uac
45.1 b>a 200 2/INVITE tt=callee br=z9hG4bKre hdr=Session-Expires:_90;refresher=uac
45.2 a>b ACK 2/ACK tt=callee br=z9hG4bKack2
80.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye
80.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye
`, wantSession(-1, 0), "want no session-expired"},
		// Refreshed once by UPDATE, then not: the second interval runs
		// from the UPDATE's 200 (packet 6).
		{"SecondIntervalExpired", sessionSetup + `
45.0 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKup hdr=Session-Expires:_90;refresher=uac
45.1 b>a 200 2/UPDATE tt=callee br=z9hG4bKup hdr=Session-Expires:_90;refresher=uac
105.1 b>a BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
105.2 a>b 200 1/BYE ft=callee tt=caller br=z9hG4bKbye
`, wantSession(correlate.Error, 7, "(Session-Expires, packet 6)", "60.0 s after the last refresh"),
			"want an error for the interval after the UPDATE"},
		// The user hung up well before the interval passed.
		{"HungUpBefore", sessionSetup + `
40.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
40.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, wantSession(-1, 0), "want no session-expired"},
		// Nobody enforces the timer: the call goes on past the expiry.
		{"NotEnforced", sessionSetup + `
tick 200
300.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
300.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, wantSession(correlate.Warning, 3, "neither side ended the call then: its BYE (packet 6) came 210 s after the expiry"),
			"want a warning: the BYE came long after"},
		{"RefreshLate", sessionSetup + `
150.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre hdr=Session-Expires:_90;refresher=uac
150.1 b>a 200 2/INVITE tt=callee br=z9hG4bKre hdr=Session-Expires:_90;refresher=uac
150.2 a>b ACK 2/ACK tt=callee br=z9hG4bKack2
200.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye
200.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye
`, wantSession(correlate.Warning, 3, "the next refresh (packet 6) came 60 s after the expiry"),
			"want a warning: the refresh came late"},
		{"StillUpAtCaptureEnd", sessionSetup + `
tick 100
tick 200
`, wantSession(correlate.Warning, 3, "no BYE followed: the call was still up 110 s after the expiry"),
			"want a warning: still up past the expiry"},
		{"CaptureEndsFirst", sessionSetup + `
tick 80
`, wantSession(-1, 0), "want no session-expired: the capture ended before the interval passed"},
		// The refresher's UPDATE met 481 (the far end forgot the dialog):
		// it ends the call at once (§10).
		{"RefreshFailed481", sessionSetup + `
45.0 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKup hdr=Session-Expires:_90;refresher=uac
45.1 b>a 481 2/UPDATE tt=callee br=z9hG4bKup
45.2 a>b BYE 3/BYE tt=callee br=z9hG4bKbye
45.3 b>a 481 3/BYE tt=callee br=z9hG4bKbye
`, wantSession(correlate.Error, 7, "the session refresh failed: the UPDATE at packet 5 was answered 481", "the caller ended the call with BYE (packet 7) 0.2 s later"),
			"want an error: the failed refresh ended the call"},
		// The callee hangs up while the caller's refresh is still
		// unanswered: the user's BYE, not the refresh's.
		{"HungUpDuringRefresh", sessionSetup + `
45.0 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKup hdr=Session-Expires:_90;refresher=uac
45.5 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKup hdr=Session-Expires:_90;refresher=uac
46.0 b>a BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
46.1 a>b 200 1/BYE ft=callee tt=caller br=z9hG4bKbye
`, wantSession(-1, 0), "want no session-expired"},
		// A re-INVITE refused with 488 (a codec) does not end the session:
		// the user hangs up later, before the expiry.
		{"RefreshRefused488", sessionSetup + `
20.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre
20.1 b>a 488 2/INVITE tt=callee br=z9hG4bKre
20.2 a>b ACK 2/ACK tt=callee br=z9hG4bKre
30.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye
30.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye
`, wantSession(-1, 0), "want no session-expired"},
		// No Session-Expires in the 2xx: no session timer (§7.2), however
		// long the call is quiet.
		{"NoTimer", `
0.0 a>b INVITE 1/INVITE hdr=Session-Expires:_90
0.5 b>a 200 1/INVITE tt=callee
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
tick 60
60.5 b>a BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
60.6 a>b 200 1/BYE ft=callee tt=caller br=z9hG4bKbye
`, wantSession(-1, 0), "want no session-expired"},
		// A refresh whose 2xx has no Session-Expires turns the timer off.
		{"TimerTurnedOff", sessionSetup + `
45.0 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKup
45.1 b>a 200 2/UPDATE tt=callee br=z9hG4bKup
tick 100
300.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye
300.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye
`, wantSession(-1, 0), "want no session-expired"},
	})
}

// TestSessionRefreshFlow: the exchanges that only refresh a session timer
// (an UPDATE or re-INVITE with no offer, or with the o= line its side sent
// last) are left out of the flow match; a hold, a resume or a media change
// (a new o= version) is not.
func TestSessionRefreshFlow(t *testing.T) {
	const setup = `
0.0 a>b INVITE 1/INVITE hdr=Session-Expires:_90 sdp=1
0.1 b>a 180 1/INVITE tt=callee
0.5 b>a 200 1/INVITE tt=callee hdr=Session-Expires:_90;refresher=uac sdp=7
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
`
	const bye = `
80.0 a>b BYE 9/BYE tt=callee br=z9hG4bKbye
80.1 b>a 200 9/BYE tt=callee br=z9hG4bKbye
`
	flow := func(want string) func(*correlate.Call) bool {
		return func(c *correlate.Call) bool { return c.Flow == want && len(c.Findings) == 0 }
	}
	runScriptCases(t, []scriptCase{
		{"UpdateNoOffer", setup + `
30.0 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKu1 hdr=Session-Expires:_90;refresher=uac
30.1 b>a 200 2/UPDATE tt=callee br=z9hG4bKu1 hdr=Session-Expires:_90;refresher=uac
` + bye, flow("basic-call"), "want basic-call"},
		{"ReinviteSameOrigin", setup + `
30.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKr1 sdp=1
30.1 b>a 200 2/INVITE tt=callee br=z9hG4bKr1 hdr=Session-Expires:_90;refresher=uac sdp=7
30.2 a>b ACK 2/ACK tt=callee br=z9hG4bKr1a
` + bye, flow("basic-call"), "want basic-call"},
		// The callee refreshes (its own CSeq space), with the o= of its 200.
		{"CalleeReinvite", setup + `
30.0 b>a INVITE 1/INVITE ft=callee tt=caller br=z9hG4bKr1 sdp=7
30.1 a>b 200 1/INVITE ft=callee tt=caller br=z9hG4bKr1 hdr=Session-Expires:_90;refresher=uas sdp=1
30.2 b>a ACK 1/ACK ft=callee tt=caller br=z9hG4bKr1a
` + bye, flow("basic-call"), "want basic-call"},
		// Hold and resume, with a refresh between them: hold-resume.
		{"HoldResumeRefresh", setup + `
10.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKh sdp=2:sendonly
10.1 b>a 200 2/INVITE tt=callee br=z9hG4bKh hdr=Session-Expires:_90;refresher=uac sdp=8:recvonly
10.2 a>b ACK 2/ACK tt=callee br=z9hG4bKha
30.0 a>b UPDATE 3/UPDATE tt=callee br=z9hG4bKu1 hdr=Session-Expires:_90;refresher=uac
30.1 b>a 200 3/UPDATE tt=callee br=z9hG4bKu1 hdr=Session-Expires:_90;refresher=uac
50.0 a>b INVITE 4/INVITE tt=callee br=z9hG4bKr sdp=3
50.1 b>a 200 4/INVITE tt=callee br=z9hG4bKr hdr=Session-Expires:_90;refresher=uac sdp=9
50.2 a>b ACK 4/ACK tt=callee br=z9hG4bKra
` + bye, flow("hold-resume"), "want hold-resume"},
		// The caller refreshes with its CSeq 2; the callee then holds and
		// resumes with its own CSeq 2 and 3, which are no refresh.
		{"CalleeHoldAfterCallerRefresh", setup + `
10.0 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKu1
10.1 b>a 200 2/UPDATE tt=callee br=z9hG4bKu1 hdr=Session-Expires:_90;refresher=uac
20.0 b>a INVITE 2/INVITE ft=callee tt=caller br=z9hG4bKh sdp=8:sendonly
20.1 a>b 200 2/INVITE ft=callee tt=caller br=z9hG4bKh hdr=Session-Expires:_90;refresher=uas sdp=2:recvonly
20.2 b>a ACK 2/ACK ft=callee tt=caller br=z9hG4bKha
40.0 b>a INVITE 3/INVITE ft=callee tt=caller br=z9hG4bKr sdp=9
40.1 a>b 200 3/INVITE ft=callee tt=caller br=z9hG4bKr hdr=Session-Expires:_90;refresher=uas sdp=3
40.2 b>a ACK 3/ACK ft=callee tt=caller br=z9hG4bKra
` + bye, flow("hold-resume"), "want hold-resume"},
		// A new o= version changes the session (a codec, say): not a refresh.
		{"ReinviteNewVersion", setup + `
30.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKr1 sdp=2
30.1 b>a 200 2/INVITE tt=callee br=z9hG4bKr1 hdr=Session-Expires:_90;refresher=uac sdp=8
30.2 a>b ACK 2/ACK tt=callee br=z9hG4bKr1a
` + bye, flow("reinvite"), "want reinvite: the re-INVITE changed the session"},
		// The UAS adds the timer to an INVITE that only supports one (RFC
		// 4028 §9); the caller's refresh repeats its INVITE's offer.
		{"UASAddsTimer", `
0.0 a>b INVITE 1/INVITE hdr=Supported:_100rel,_timer sdp=1
0.1 b>a 180 1/INVITE tt=callee
0.5 b>a 200 1/INVITE tt=callee hdr=Session-Expires:_90;refresher=uac sdp=7
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
30.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKr1 sdp=1
30.1 b>a 200 2/INVITE tt=callee br=z9hG4bKr1 hdr=Session-Expires:_90;refresher=uac sdp=7
30.2 a>b ACK 2/ACK tt=callee br=z9hG4bKr1a
` + bye, flow("basic-call"), "want basic-call"},
		// The same with a late offer: the 200 offers, the ACK answers, and
		// the caller's refresh repeats its ACK's answer.
		{"UASAddsTimerLateOffer", `
0.0 a>b INVITE 1/INVITE hdr=Supported:_timer
0.1 b>a 180 1/INVITE tt=callee
0.5 b>a 200 1/INVITE tt=callee hdr=Session-Expires:_90;refresher=uac sdp=7
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack sdp=1
30.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKr1 sdp=1
30.1 b>a 200 2/INVITE tt=callee br=z9hG4bKr1 hdr=Session-Expires:_90;refresher=uac sdp=7
30.2 a>b ACK 2/ACK tt=callee br=z9hG4bKr1a
` + bye, flow("basic-call"), "want basic-call"},
		// Without a session timer, an UPDATE with no offer is matched as
		// before.
		{"NoTimer", `
0.0 a>b INVITE 1/INVITE sdp=1
0.5 b>a 200 1/INVITE tt=callee sdp=7
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
30.0 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKu1
30.1 b>a 200 2/UPDATE tt=callee br=z9hG4bKu1
` + bye, flow(""), "want no flow"},
	})
}
