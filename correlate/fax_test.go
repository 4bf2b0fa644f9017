package correlate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/correlate"
)

// TestFaxEvents: a re-INVITE or UPDATE whose 2xx accepts a T.38 line
// (m=image udptl t38, RFC 3362) switches the call to fax, one whose 2xx
// accepts none after that takes it back: events t38 and t38-end, at the
// 2xx, the same whether every SDP is kept or only what the checks need; a
// refused switch is a reinvite-failed that says T.38 was not accepted.
func TestFaxEvents(t *testing.T) {
	const (
		call = "0.0 a>b INVITE 1/INVITE sdp=1\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"
		bye  = "9.0 a>b BYE 9/BYE tt=callee br=z9hG4bKbye\n9.1 b>a 200 9/BYE tt=callee br=z9hG4bKbye\n"
		t38A = "media=m=image_4002_udptl_t38|a=T38FaxVersion:0"
		t38B = "media=m=image_5002_udptl_t38|a=T38FaxVersion:0"
	)
	reinvite := func(at float64, cseq int, from, to, offer, status, answer string) string {
		tt, ft := "tt=callee", ""
		if from == "b" {
			tt, ft = "tt=caller", "ft=callee "
		}
		s := fmt.Sprintf("%.1f %s>%s INVITE %d/INVITE %s%s br=z9hG4bKre%d sdp=%d %s\n", at, from, to, cseq, ft, tt, cseq, cseq+1, offer)
		if answer != "" {
			answer = fmt.Sprintf(" sdp=%d %s", cseq+1, answer)
		}
		s += fmt.Sprintf("%.1f %s>%s %s %d/INVITE %s%s br=z9hG4bKre%d%s\n", at+0.1, to, from, status, cseq, ft, tt, cseq, answer)
		return s + fmt.Sprintf("%.1f %s>%s ACK %d/ACK %s%s br=z9hG4bKack%d\n", at+0.2, from, to, cseq, ft, tt, cseq)
	}
	tests := []struct {
		name, script string
		events       string // "kind packet" each
		detail       string // in the first event's detail, or the reinvite-failed finding's; "=..." the whole of it
	}{
		{"switched to T.38", call + reinvite(2, 2, "a", "b", t38A, "200", t38B) + bye, "t38 5",
			"the caller's re-INVITE switched the call to T.38 fax (200 Reason): image T.38 10.0.0.2:5002 sendrecv"},
		{"switched by the callee, then back", call + reinvite(2, 2, "b", "a", t38B, "200", t38A) +
			reinvite(5, 3, "b", "a", "media=m=audio_5000_RTP/AVP_0", "200", "media=m=audio_4000_RTP/AVP_0") + bye, "t38 5; t38-end 8",
			"the callee's re-INVITE switched the call to T.38 fax"},
		{"T.38 beside audio, then audio alone", call + reinvite(2, 2, "a", "b", "media=m=audio_4000_RTP/AVP_0|"+t38A[6:], "200", "media=m=audio_5000_RTP/AVP_0|"+t38B[6:]) +
			reinvite(5, 3, "a", "b", "media=m=audio_4000_RTP/AVP_0|m=image_0_udptl_t38", "200", "media=m=audio_5000_RTP/AVP_0|m=image_0_udptl_t38") + bye,
			"t38 5; t38-end 8", "image T.38 10.0.0.2:5002"},
		{"the answer refuses the T.38 line (port 0)", call + reinvite(2, 2, "a", "b", "media=m=audio_4000_RTP/AVP_0|"+t38A[6:], "200",
			"media=m=audio_5000_RTP/AVP_0|m=image_0_udptl_t38") + bye, "", ""},
		{"an audio re-INVITE, no fax", call + reinvite(2, 2, "a", "b", "media=m=audio_4000_RTP/AVP_8", "200", "media=m=audio_5000_RTP/AVP_8") + bye, "", ""},
		{"refused with 488", call + reinvite(2, 2, "a", "b", t38A, "488", "") + bye, "",
			"re-INVITE offering T.38 fax (image T.38 10.0.0.1:4002 sendrecv) rejected with 488 Reason: T.38 was not accepted, so the fax can only go as audio (G.711 pass-through), or fails"},
		{"refused with 500", call + reinvite(2, 2, "a", "b", t38A, "500", "") + bye, "",
			"=re-INVITE offering T.38 fax (image T.38 10.0.0.1:4002 sendrecv) rejected with 500 Reason"},
		{"an audio re-INVITE refused with 488", call + reinvite(2, 2, "a", "b", "media=m=audio_4000_RTP/AVP_18", "488", "") + bye, "",
			"=re-INVITE (audio G729 10.0.0.1:4000 sendrecv) rejected with 488 Reason"},
		{"back to audio refused with 488 and the callee's capabilities", call + reinvite(2, 2, "a", "b", t38A, "200", t38B) +
			reinvite(5, 3, "a", "b", "media=m=audio_4000_RTP/AVP_0", "488", "media=m=audio_5000_RTP/AVP_8") + bye, "t38 5",
			"=re-INVITE (audio PCMU 10.0.0.1:4000 sendrecv) rejected with 488 Reason"},
		{"through a proxy: one switch", call +
			"2.0 a>p INVITE 2/INVITE tt=callee br=z9hG4bKre2 sdp=3 " + t38A + "\n2.01 p>b INVITE 2/INVITE tt=callee br=z9hG4bKre2b sdp=3 " + t38A + "\n" +
			"2.1 b>p 200 2/INVITE tt=callee br=z9hG4bKre2b sdp=3 " + t38B + "\n2.11 p>a 200 2/INVITE tt=callee br=z9hG4bKre2 sdp=3 " + t38B + "\n" + bye,
			"t38 6", "switched the call to T.38 fax"},
		{"a re-INVITE without SDP, the 200 offering T.38 (late offer)", call +
			"2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre\n2.1 b>a 200 2/INVITE tt=callee br=z9hG4bKre sdp=3 " + t38B + "\n" +
			"2.2 a>b ACK 2/ACK tt=callee br=z9hG4bKack2 sdp=3 " + t38A + "\n" + bye, "", ""},
		{"switched by an UPDATE", call + "2.0 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKu sdp=2 " + t38A + "\n2.1 b>a 200 2/UPDATE tt=callee br=z9hG4bKu sdp=2 " + t38B + "\n" + bye,
			"t38 5", "the caller's UPDATE switched the call to T.38 fax (200 Reason)"},
		{"T.38 over DTLS (RFC 7345)", call + reinvite(2, 2, "a", "b", "media=m=image_4002_UDP/TLS/UDPTL_t38", "200", "media=m=image_5002_UDP/TLS/UDPTL_t38") + bye, "t38 5",
			"switched the call to T.38 fax (200 Reason): image T.38 10.0.0.2:5002 sendrecv"},
		{"a refresh on T.38 refused", call + reinvite(2, 2, "a", "b", t38A, "200", t38B) + reinvite(5, 3, "a", "b", t38A, "488", "") + bye, "t38 5",
			"=re-INVITE (image T.38 10.0.0.1:4002 sendrecv) rejected with 488 Reason"},
		{"refused, then accepted", call + reinvite(2, 2, "a", "b", t38A, "488", "") + reinvite(5, 3, "a", "b", t38A, "200", t38B) + bye, "t38 8",
			"=re-INVITE offering T.38 fax (image T.38 10.0.0.1:4002 sendrecv) rejected with 488 Reason: T.38 was not accepted, so the fax can only go as audio (G.711 pass-through), or fails"},
		{"T.38 in the initial INVITE", "0.0 a>b INVITE 1/INVITE sdp=1 " + t38A + "\n0.5 b>a 200 1/INVITE tt=callee sdp=1 " + t38B + "\n" +
			"0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n" + bye, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, opts := range []correlate.Options{{}, {KeepSDP: true}} {
				c := scriptCall(t, runScriptWith(t, opts, tt.script), "call-1")
				var got []string
				for _, e := range c.Events {
					if strings.HasPrefix(e.Kind, "t38") {
						got = append(got, fmt.Sprintf("%s %d", e.Kind, e.N))
					}
				}
				if strings.Join(got, "; ") != tt.events {
					t.Fatalf("KeepSDP %v: events %q, want %q", opts.KeepSDP, got, tt.events)
				}
				detail := ""
				if len(c.Events) > 0 && tt.events != "" {
					detail = c.Events[0].Detail
				}
				if f := findingOf(c, "reinvite-failed"); f != nil {
					detail = f.Detail
				}
				if exact, ok := strings.CutPrefix(tt.detail, "="); ok && detail != exact || !ok && !strings.Contains(detail, tt.detail) {
					t.Errorf("KeepSDP %v: %q, want %q in it", opts.KeepSDP, detail, tt.detail)
				}
			}
		})
	}
}

// TestFaxLegs: a B2BUA's two legs (linked by X-Call-ID) switch to T.38
// one at a time: each leg's switch is its own, and an audio re-INVITE on
// the leg not yet on T.38 takes nothing back.
func TestFaxLegs(t *testing.T) {
	leg := func(cid, link string, at float64) string {
		h := ""
		if link != "" {
			h = " hdr=X-Call-ID:_" + link
		}
		return fmt.Sprintf("%.1f a>b INVITE 1/INVITE cid=%s sdp=1%s\n%.1f b>a 200 1/INVITE cid=%s tt=callee sdp=1\n%.1f a>b ACK 1/ACK cid=%s tt=callee br=z9hG4bKack\n",
			at, cid, h, at+0.1, cid, at+0.2, cid)
	}
	re := func(cid string, at float64, cseq int, offer, answer string) string {
		return fmt.Sprintf("%.1f a>b INVITE %d/INVITE cid=%s tt=callee br=z9hG4bKre%d sdp=%d %s\n%.1f b>a 200 %d/INVITE cid=%s tt=callee br=z9hG4bKre%d sdp=%d %s\n",
			at, cseq, cid, cseq, cseq+1, offer, at+0.1, cseq, cid, cseq, cseq+1, answer)
	}
	script := leg("leg-a", "", 0) + leg("leg-b", "leg-a", 0.5) +
		re("leg-b", 2, 2, "media=m=image_4002_udptl_t38", "media=m=image_5002_udptl_t38") +
		re("leg-a", 3, 2, "media=m=audio_4000_RTP/AVP_0", "media=m=audio_5000_RTP/AVP_0") +
		re("leg-a", 4, 3, "media=m=image_4002_udptl_t38", "media=m=image_5002_udptl_t38")
	for _, opts := range []correlate.Options{{}, {KeepSDP: true}} {
		c := scriptCall(t, runScriptWith(t, opts, script), "leg-a")
		var got []string
		for _, e := range c.Events {
			got = append(got, fmt.Sprintf("%s %d", e.Kind, e.N))
		}
		if len(c.Legs) != 2 || strings.Join(got, "; ") != "t38 8; t38 12" {
			t.Errorf("KeepSDP %v: %d legs, events %q; want 2 legs, t38 at 8 (leg b) and 12 (leg a)", opts.KeepSDP, len(c.Legs), got)
		}
	}
}

// TestFaxLeanSDP: without KeepSDP, the answer to a re-INVITE's offer keeps
// its SDP (faxSwitch reads it); the initial 200's does not, nor a 488's
// (its capabilities), nor the 200 to a later re-INVITE without SDP (a late
// offer): a call's memory.
func TestFaxLeanSDP(t *testing.T) {
	c := scriptCall(t, runScript(t, "0.0 a>b INVITE 1/INVITE sdp=1\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"+
		"2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre sdp=2\n2.1 b>a 200 2/INVITE tt=callee br=z9hG4bKre sdp=2\n2.2 a>b ACK 2/ACK tt=callee br=z9hG4bKack2\n"+
		"3.0 a>b INVITE 3/INVITE tt=callee br=z9hG4bKre3 sdp=3\n3.1 b>a 488 3/INVITE tt=callee br=z9hG4bKre3 sdp=3\n3.2 a>b ACK 3/INVITE tt=callee br=z9hG4bKre3\n"+
		"4.0 a>b INVITE 4/INVITE tt=callee br=z9hG4bKre4\n4.1 b>a 200 4/INVITE tt=callee br=z9hG4bKre4 sdp=4\n4.2 a>b ACK 4/ACK tt=callee br=z9hG4bKack4 sdp=4\n"), "call-1")
	var kept []int
	for _, m := range c.Messages() {
		if !m.IsRequest() && m.SDP() != nil {
			kept = append(kept, m.N)
		}
	}
	if fmt.Sprint(kept) != "[5]" {
		t.Errorf("responses keeping their SDP: packets %v, want [5] (the re-INVITE's 200)", kept)
	}
	// A PRACK's offer is made in the early dialog: its 200's SDP is none
	// of faxSwitch's business.
	c = scriptCall(t, runScript(t, "0.0 a>b INVITE 1/INVITE sdp=1\n0.1 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1 sdp=1\n"+
		"0.2 a>b PRACK 2/PRACK tt=callee br=z9hG4bKpr hdr=RAck:_1_1_INVITE sdp=2\n0.21 b>a 200 2/PRACK tt=callee br=z9hG4bKpr sdp=2\n"), "call-1")
	for _, m := range c.Messages() {
		if !m.IsRequest() && m.SDP() != nil {
			t.Errorf("the %s to %s keeps its SDP", m.Label(), m.CSeqMethod)
		}
	}
}
