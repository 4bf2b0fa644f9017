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
			"2.2 a>b ACK 2/ACK tt=callee br=z9hG4bKack2 sdp=3 " + t38A + "\n" + bye, "t38 6",
			"the caller's re-INVITE switched the call to T.38 fax (a late offer: its 200 Reason offered, the ACK answered): image T.38 10.0.0.1:4002"},
		{"a late offer of T.38 the ACK refuses (port 0)", call +
			"2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre\n2.1 b>a 200 2/INVITE tt=callee br=z9hG4bKre sdp=3 " + t38B + "\n" +
			"2.2 a>b ACK 2/ACK tt=callee br=z9hG4bKack2 sdp=3 media=m=image_0_udptl_t38\n" + bye, "", ""},
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
// its SDP (faxSwitch reads it), and so do the offer and answer of a late
// offer made in a dialog (the 200 to a re-INVITE without SDP and its ACK);
// the initial 200's does not, nor a 488's (its capabilities): a call's
// memory.
func TestFaxLeanSDP(t *testing.T) {
	c := scriptCall(t, runScript(t, "0.0 a>b INVITE 1/INVITE sdp=1\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"+
		"2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre sdp=2\n2.1 b>a 200 2/INVITE tt=callee br=z9hG4bKre sdp=2\n2.2 a>b ACK 2/ACK tt=callee br=z9hG4bKack2\n"+
		"3.0 a>b INVITE 3/INVITE tt=callee br=z9hG4bKre3 sdp=3\n3.1 b>a 488 3/INVITE tt=callee br=z9hG4bKre3 sdp=3\n3.2 a>b ACK 3/INVITE tt=callee br=z9hG4bKre3\n"+
		"4.0 a>b INVITE 4/INVITE tt=callee br=z9hG4bKre4\n4.1 b>a 200 4/INVITE tt=callee br=z9hG4bKre4 sdp=4\n4.2 a>b ACK 4/ACK tt=callee br=z9hG4bKack4 sdp=4\n"), "call-1")
	var kept []int
	for _, m := range c.Messages() {
		if (!m.IsRequest() || m.Method == "ACK") && m.SDP() != nil {
			kept = append(kept, m.N)
		}
	}
	if fmt.Sprint(kept) != "[5 11 12]" {
		t.Errorf("responses and ACKs keeping their SDP: packets %v, want [5 11 12] (the re-INVITE's 200, the late offer's 200 and ACK)", kept)
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

// TestFaxChecks: T.38 agreed by a re-INVITE, then UDPTL both ways, one
// way or none, lost beyond its redundancy, and T.30 sessions that did or
// did not get a page through.
func TestFaxChecks(t *testing.T) {
	const (
		call = "0.0 a>b INVITE 1/INVITE sdp=1\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n" +
			"2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre sdp=2 media=m=image_4002_udptl_t38|a=T38FaxVersion:0\n" +
			"2.1 b>a 200 2/INVITE tt=callee br=z9hG4bKre sdp=2 media=m=image_5002_udptl_t38|a=T38FaxVersion:0\n" +
			"2.2 a>b ACK 2/ACK tt=callee br=z9hG4bKack2\n"
		bye = "9.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n9.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n"
	)
	// fax writes a T.30 exchange: "a FCF" or "b FCF" a frame each, a
	// sending to b's T.38 port and b to a's, 100 ms apart from 2.5 s.
	fax := func(frames ...string) string {
		var sb strings.Builder
		seq := map[string]int{}
		for i, fr := range frames {
			who, what, _ := strings.Cut(fr, " ")
			flow := "a:4002>b:5002"
			if who == "b" {
				flow = "b:5002>a:4002"
			}
			if seq[who] == 0 && strings.HasPrefix(what, "frame") {
				// Frames follow the V.21 preamble: a stream's first frame
				// without one is not taken.
				fmt.Fprintf(&sb, "%.2f %s udptl %d ind:3\n", 2.45+0.1*float64(i), flow, seq[who])
				seq[who]++
			}
			fmt.Fprintf(&sb, "%.2f %s udptl %d %s\n", 2.5+0.1*float64(i), flow, seq[who], what)
			seq[who]++
		}
		return sb.String()
	}
	initial := "0.0 a>b INVITE 1/INVITE sdp=1 media=m=image_4002_udptl_t38\n0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=image_5002_udptl_t38\n" +
		"0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"
	ok := fax("b ind:2", "a ind:1", "b frame:01", "a frame:c1", "a page", "b frame:21", "a page", "a frame:f4", "b frame:31", "a frame:df")
	tests := []struct {
		name, script string
		want         string // "rule severity: detail part" each, "; " between
	}{
		{"a page through", call + ok + bye, ""},
		{"one way", call + fax("a ind:1", "a frame:c1", "a page", "a page") + bye,
			"one-way-fax error: UDPTL flowed only one way: 10.0.0.1:4002 received nothing, though its SDP accepted T.38 fax there"},
		{"none", call + "2.5 c:9>q:9 udptl 0 ind:0\n" + bye,
			"no-udptl error: T.38 fax was agreed (10.0.0.1:4002 and 10.0.0.2:5002), but no UDPTL was seen in either direction in the 7.0 s"},
		{"none, and the capture has no media at all", call + bye, ""},
		{"none, but the call left T.38 at once", call + "2.5 c:9>q:9 udptl 0 ind:0\n" + strings.Replace(bye, "9.", "3.", -1), ""},
		{"none, back to audio at once", call + "2.5 c:9>q:9 udptl 0 ind:0\n" +
			"2.6 a>b INVITE 4/INVITE tt=callee br=z9hG4bKre4 sdp=3\n2.7 b>a 200 4/INVITE tt=callee br=z9hG4bKre4 sdp=3\n2.8 a>b ACK 4/ACK tt=callee br=z9hG4bKack4\n" + bye, ""},
		{"T.38 over DTLS: not read, nothing concluded", strings.Replace(strings.Replace(call, "udptl_t38", "UDP/TLS/UDPTL_t38", -1), "a=T38FaxVersion:0", "a=setup:actpass", -1) +
			"2.5 c:9>q:9 udptl 0 ind:0\n" + bye, ""},
		{"none for 5 s, then back to audio", call + "2.5 c:9>q:9 udptl 0 ind:0\n" +
			"7.0 a>b INVITE 4/INVITE tt=callee br=z9hG4bKre4 sdp=3\n7.1 b>a 200 4/INVITE tt=callee br=z9hG4bKre4 sdp=3\n7.2 a>b ACK 4/ACK tt=callee br=z9hG4bKack4\n" + bye,
			"no-udptl error: T.38 fax was agreed (10.0.0.1:4002 and 10.0.0.2:5002), but no UDPTL was seen in either direction in the 5.0 s"},
		{"refused, then offered by the other side and refused", call[:strings.Index(call, "2.0 ")] +
			"2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre sdp=2 media=m=image_4002_udptl_t38\n2.1 b>a 488 2/INVITE tt=callee br=z9hG4bKre\n2.15 a>b ACK 2/INVITE tt=callee br=z9hG4bKre\n" +
			"3.0 b>a INVITE 3/INVITE ft=callee tt=caller br=z9hG4bKre3 sdp=2 media=m=image_5002_udptl_t38\n3.1 a>b 488 3/INVITE ft=callee tt=caller br=z9hG4bKre3\n3.15 b>a ACK 3/INVITE ft=callee tt=caller br=z9hG4bKre3\n" +
			"3.5 c:9>q:9 udptl 0 ind:0\n" + bye, ""},
		{"training failed", call + fax("b frame:01", "a frame:c1", "b frame:22", "a frame:c1", "b frame:22", "a frame:df") + bye,
			"fax-failed error: the fax failed: the sender started (DCS), but training failed (FTT ×2): the modems never agreed on a speed; then DCN ended it. T.30: DIS DCS FTT DCS FTT DCN"},
		{"page refused", call + fax("b frame:01", "a frame:c1", "b frame:21", "a page", "a frame:f4", "b frame:32", "a frame:df") + bye,
			"fax-failed error: the fax failed: the sender started (DCS), but the receiver refused the page (RTN ×1: too many errors); then DCN ended it. T.30: DIS DCS CFR EOP RTN DCN"},
		{"no DCS", call + fax("b frame:01", "b frame:02", "a frame:df") + bye,
			"fax-failed error: the fax ended before any page was sent: the receiver offered its capabilities (DIS) but the sender never chose a mode"},
		{"stopped without DCN", call + fax("b frame:01", "a frame:c1", "b frame:21", "a page") + bye,
			"fax-failed error: the fax failed: the sender started (DCS), but no page was confirmed (no MCF); it stopped without a disconnect (DCN). T.30: DIS DCS CFR"},
		{"last page unconfirmed", call + fax("b frame:01", "a frame:c1", "b frame:21", "a page", "a frame:f2", "b frame:31", "a page", "a frame:f4", "a frame:df") + bye,
			"fax-failed warning: the last page was not confirmed: EOP got no MCF (1 page(s) confirmed before it)"},
		{"T.38 from the INVITE, no RTP in the capture", initial + ok + bye, ""},
		{"T.38 from the INVITE, one way", initial + fax("b ind:2", "b frame:01", "b ind:0") + bye,
			"one-way-fax error: UDPTL flowed only one way: 10.0.0.2:5002 received nothing"},
		{"loss made good", call + fax("b ind:2", "a ind:1", "b frame:01", "a frame:c1", "b frame:21", "a page", "a lost:page", "a page", "a frame:f4", "b frame:31", "a frame:df") + bye, ""},
		{"loss beyond the redundancy", call + fax("b ind:2", "a ind:1", "b frame:01", "a frame:c1", "b frame:21", "a page", "a lost:page", "a lost:page", "a lost:page", "a frame:f4", "b frame:31", "a frame:df") + bye,
			"fax-loss error: T.38 10.0.0.1:4002 → 10.0.0.2:5002 lost 1 of 8 UDPTL packets (12.5%) that no later packet's redundancy carried again: the fax lost that data (2 more were made good from redundancy)"},
		{"a frame lost: the T.30 verdict is a warning", call + fax("b ind:2", "a ind:1", "b frame:01", "a lost:ind:3", "a lost:frame:c1", "a lost:page", "a page", "b frame:21", "a frame:f4", "a frame:df") + bye,
			"fax-loss error: T.38 10.0.0.1:4002 → 10.0.0.2:5002 lost 1 of 7 UDPTL packets (14.3%)|fax-failed warning: the fax failed: the sender started (its DCS is not in the capture, but CFR shows it was sent), but no page was confirmed (no MCF); then DCN ended it. T.30: DIS CFR EOP DCN; 1 UDPTL packet(s) were not read in order (lost for good, or late), so a frame may be missing from the capture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, opts := range []correlate.Options{{Media: true}, {Media: true, KeepSDP: true}} {
				c := scriptCall(t, runScriptWith(t, opts, tt.script), "call-1")
				var got []string
				for _, f := range c.Findings {
					switch f.Rule {
					case "one-way-fax", "no-udptl", "fax-failed", "fax-loss":
						got = append(got, f.Rule+" "+f.Severity.String()+": "+f.Detail)
					}
				}
				g := strings.Join(got, " | ")
				var want []string
				if tt.want != "" {
					want = strings.Split(tt.want, "|")
				}
				bad := len(got) != len(want)
				for i := range want {
					bad = bad || !strings.Contains(got[i], want[i])
				}
				if bad {
					t.Errorf("KeepSDP %v: %q, want %q", opts.KeepSDP, g, tt.want)
				}
			}
		})
	}
}

// TestFaxRefusedSamePort: a T.38 offer on the audio's own port (as
// gateways make it) refused with 488, the audio going on: the RTP sent to
// that port is still audio, one stream each way, and nothing is taken for
// UDPTL.
func TestFaxRefusedSamePort(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("0.0 a>b INVITE 1/INVITE sdp=1\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n")
	for i := range 100 {
		if i == 25 {
			sb.WriteString("1.2 b>a INVITE 2/INVITE ft=callee tt=caller br=z9hG4bKre sdp=2 media=m=image_4000_udptl_t38\n" +
				"1.3 a>b 488 2/INVITE ft=callee tt=caller br=z9hG4bKre\n1.31 b>a ACK 2/INVITE ft=callee tt=caller br=z9hG4bKre\n")
		}
		fmt.Fprintf(&sb, "%.2f a:4000>b:4000 rtp %d\n%.2f b:4000>a:4000 rtp %d\n", 0.7+0.02*float64(i), 30000+i, 0.71+0.02*float64(i), 9000+i)
	}
	sb.WriteString("9.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n9.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n")
	for _, opts := range []correlate.Options{{Media: true}, {Media: true, KeepSDP: true}} {
		calls := runScriptWith(t, opts, sb.String())
		c := scriptCall(t, calls, "call-1")
		var got []string
		for _, s := range c.Streams {
			got = append(got, fmt.Sprintf("%s>%s %s %d fax=%v", s.Key.Src, s.Key.Dst, s.Codec, s.Packets, s.Fax != nil))
		}
		want := "10.0.0.1:4000>10.0.0.2:4000 PCMU 100 fax=false; 10.0.0.2:4000>10.0.0.1:4000 PCMU 100 fax=false"
		if strings.Join(got, "; ") != want {
			t.Errorf("KeepSDP %v: streams %q; want %q", opts.KeepSDP, got, want)
		}
	}
}

// TestFaxB2BUALegs: a B2BUA's two legs each carry the fax; the T.30
// verdict is each leg's own, and says which leg.
func TestFaxB2BUALegs(t *testing.T) {
	leg := func(cid, link string, at float64, ap, bp int) string {
		h := ""
		if link != "" {
			h = " hdr=X-Call-ID:_" + link
		}
		return fmt.Sprintf("%.1f a>b INVITE 1/INVITE cid=%s sdp=1%s\n%.1f b>a 200 1/INVITE cid=%s tt=callee sdp=1\n%.1f a>b ACK 1/ACK cid=%s tt=callee br=z9hG4bKack\n",
			at, cid, h, at+0.1, cid, at+0.2, cid) +
			fmt.Sprintf("%.1f a>b INVITE 2/INVITE cid=%s tt=callee br=z9hG4bKre sdp=2 media=m=image_%d_udptl_t38\n%.1f b>a 200 2/INVITE cid=%s tt=callee br=z9hG4bKre sdp=2 media=m=image_%d_udptl_t38\n",
				at+1, cid, ap, at+1.1, cid, bp)
	}
	frames := func(ap, bp int, at float64, names ...string) string {
		var sb strings.Builder
		seq := map[byte]int{}
		for i, n := range names {
			flow := fmt.Sprintf("a:%d>b:%d", ap, bp)
			if n[0] == 'b' {
				flow = fmt.Sprintf("b:%d>a:%d", bp, ap)
			}
			fmt.Fprintf(&sb, "%.2f %s udptl %d ind:3\n%.2f %s udptl %d frame:%s\n", at+0.1*float64(i), flow, seq[n[0]], at+0.1*float64(i)+0.01, flow, seq[n[0]]+1, n[2:])
			seq[n[0]] += 2
		}
		return sb.String()
	}
	script := leg("leg-a", "", 0, 4002, 5002) + leg("leg-b", "leg-a", 0.5, 4012, 5012) +
		frames(4002, 5002, 2.0, "b 01", "a c1", "b 21", "a f4", "b 31", "a df") +
		frames(4012, 5012, 2.0, "b 01", "a c1", "b 22", "a df") +
		"9.0 a>b BYE 3/BYE cid=leg-a tt=callee br=z9hG4bKbye\n9.1 b>a 200 3/BYE cid=leg-a tt=callee br=z9hG4bKbye\n" +
		"9.2 a>b BYE 3/BYE cid=leg-b tt=callee br=z9hG4bKbye\n9.3 b>a 200 3/BYE cid=leg-b tt=callee br=z9hG4bKbye\n"
	c := scriptCall(t, runScriptWith(t, correlate.Options{Media: true}, script), "leg-a")
	var got []string
	for _, f := range c.Findings {
		if strings.HasPrefix(f.Rule, "fax") || f.Rule == "one-way-fax" || f.Rule == "no-udptl" {
			got = append(got, f.Rule+": "+f.Detail)
		}
	}
	want := "fax-failed: leg leg-b: the fax failed: the sender started (DCS), but training failed (FTT ×1): the modems never agreed on a speed; then DCN ended it. T.30: DIS DCS FTT DCN"
	if len(c.Legs) != 2 || strings.Join(got, " | ") != want {
		t.Errorf("%d legs, findings %q\nwant %q", len(c.Legs), got, want)
	}
}
