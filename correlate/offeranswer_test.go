package correlate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/correlate"
)

// TestOfferAnswer: an SDP offer and its answer (RFC 3264; RFC 3261
// §13.2.1): the answer missing where it had to be (missing-sdp-answer), or
// not fitting the offer (sdp-answer-mismatch), or no offer where a 2xx had
// to make one (missing-sdp-offer); and the exchanges that are
// right, or that sipflow cannot judge, find nothing. want is each finding
// as "rule packets", the detail a substring of the first.
func TestOfferAnswer(t *testing.T) {
	const (
		invite    = "0.0 a>b INVITE 1/INVITE sdp=1\n"
		inviteBar = "0.0 a>b INVITE 1/INVITE\n"
		ringing   = "0.1 b>a 180 1/INVITE tt=callee\n"
		ok        = "0.5 b>a 200 1/INVITE tt=callee sdp=1\n"
		okBare    = "0.5 b>a 200 1/INVITE tt=callee\n"
		ack       = "0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"
		ackSDP    = "0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack sdp=1\n"
		bye       = "5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye\n"
		// media= values: one audio line offering PCMU and events, one with
		// PCMU and PCMA, and so on.
		pcmuEv = "media=m=audio_4000_RTP/AVP_0_101|a=rtpmap:101_telephone-event/8000"
	)
	tests := []struct {
		name, script string
		want         string // "rule packets; ..." in the order found, "" for none
		detail, rfc  string
		sev          correlate.Severity
	}{
		// The answer missing.
		{"an answer in the 200", invite + ringing + ok + ack + bye, "", "", "", 0},
		{"no SDP in the 200", invite + ringing + okBare + ack + bye, "missing-sdp-answer 3,1",
			"the INVITE made an SDP offer, but the 200 Reason to it carries no SDP and no reliable provisional response answered it: no media was agreed",
			"RFC 3261 §13.2.1", correlate.Error},
		{"SDP in an unreliable 183 only", invite + "0.1 b>a 183 1/INVITE tt=callee sdp=1\n" + okBare + ack + bye, "missing-sdp-answer 3,1,2",
			"; the 183 Reason carried SDP but was not sent reliably (no 100rel, RSeq), so it is no answer: the caller may have used it, but the answer belongs in the 200 Reason",
			"RFC 3261 §13.2.1", correlate.Warning},
		{"answered in a reliable 183", invite + "0.1 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1 sdp=1\n" +
			"0.2 a>b PRACK 2/PRACK tt=callee br=z9hG4bKpr hdr=RAck:_1_1_INVITE\n0.21 b>a 200 2/PRACK tt=callee br=z9hG4bKpr\n" +
			okBare + ack + "5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "", "", "", 0},
		{"late offer answered in the ACK", inviteBar + ringing + ok + ackSDP + bye, "", "", "", 0},
		// The network type (RFC 6157): the same m= lines, the session's
		// c= of another family; a media-level c= of another family; both
		// IPv6; hold (0.0.0.0) in an IPv6 call.
		{"an IPv4 offer answered with IPv6", invite + ringing + "0.5 b>a 200 1/INVITE tt=callee sdp=1:sendrecv:ip6\n" + ack + bye, "sdp-answer-mismatch 3,1",
			"the answer (200 Reason) gives the audio stream (m= line 1) an IPv6 address (2001:db8::2) where the offer (INVITE) gave an IPv4 one (10.0.0.1): an answer keeps the offer's network type",
			"RFC 6157", correlate.Error},
		{"an IPv6 offer answered with IPv4 on the line", "0.0 a>b INVITE 1/INVITE sdp=1:sendrecv:ip6\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1:sendrecv:ip6 media=m=audio_4000_RTP/AVP_0|c=IN_IP4_10.0.0.2\n" + ack + bye, "sdp-answer-mismatch 3,1",
			"gives the audio stream (m= line 1) an IPv4 address (10.0.0.2) where the offer (INVITE) gave an IPv6 one (2001:db8::1)", "RFC 6157", correlate.Error},
		{"ICE chooses the address: its defaults of two families", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_0|a=ice-ufrag:a1|a=ice-pwd:p1\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1:sendrecv:ip6 media=m=audio_4000_RTP/AVP_0|a=ice-ufrag:b1|a=ice-pwd:p2\n" + ack + bye, "", "", "", 0},
		{"an IPv4-mapped IPv6 address names an IPv4 host", invite + ringing + "0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_4000_RTP/AVP_0|c=IN_IP6_::ffff:10.0.0.2\n" + ack + bye, "", "", "", 0},
		{"IPv6 both ways", "0.0 a>b INVITE 1/INVITE sdp=1:sendrecv:ip6\n" + ringing + "0.5 b>a 200 1/INVITE tt=callee sdp=1:sendrecv:ip6\n" + ack + bye, "", "", "", 0},
		{"an IPv6 offer answered on hold, 0.0.0.0", "0.0 a>b INVITE 1/INVITE sdp=1:sendrecv:ip6\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1:sendonly:ip6 media=m=audio_4000_RTP/AVP_0|c=IN_IP4_0.0.0.0\n" + ack + bye, "", "", "", 0},
		{"late offer, no answer in the ACK", inviteBar + ringing + ok + ack + bye, "missing-sdp-answer 4,3",
			"the INVITE had no SDP, so the 200 Reason made the offer; the ACK must carry the answer and carries none", "RFC 3261 §13.2.1", correlate.Error},
		{"late offer, no ACK", inviteBar + ringing + ok, "", "", "", 0},
		{"late offer in a reliable 183, no answer in the PRACK", inviteBar + "0.1 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1 sdp=1\n" +
			"0.2 a>b PRACK 2/PRACK tt=callee br=z9hG4bKpr hdr=RAck:_1_1_INVITE\n0.21 b>a 200 2/PRACK tt=callee br=z9hG4bKpr\n" +
			ok + ack + "5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "missing-sdp-answer 3,2",
			"the 183 Reason, sent reliably, made an SDP offer; the PRACK must carry the answer", "RFC 3262 §5", correlate.Error},
		{"late offer in a reliable 183, its PRACK not captured", inviteBar + "0.1 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1 sdp=1\n" +
			"0.21 b>a 200 2/PRACK tt=callee br=z9hG4bKpr\n" + okBare + ack + "5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "", "", "", 0},
		{"late offer in a reliable 183, answered in the PRACK", inviteBar + "0.1 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1 sdp=1\n" +
			"0.2 a>b PRACK 2/PRACK tt=callee br=z9hG4bKpr hdr=RAck:_1_1_INVITE sdp=1\n0.21 b>a 200 2/PRACK tt=callee br=z9hG4bKpr\n" +
			ok + ack + "5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "", "", "", 0},
		// No offer at all: an INVITE without SDP, its 2xx without.
		{"no SDP in the INVITE or its 200", inviteBar + ringing + okBare + ack + bye, "missing-sdp-offer 3,1",
			"the INVITE had no SDP, so the 200 Reason had to make the offer, and it carries none (nor did a reliable provisional response): the call was set up with no media agreed",
			"RFC 3261 §13.3.1.4", correlate.Error},
		{"no SDP in the INVITE or its 200, SDP in an unreliable 183", inviteBar + "0.1 b>a 183 1/INVITE tt=callee sdp=1\n" + okBare + ack + bye,
			"missing-sdp-offer 3,1,2", "; the 183 Reason carried SDP but was not sent reliably (no 100rel, RSeq), so it is no offer: the caller may have used it, but the offer belongs in the 200 Reason",
			"RFC 3261 §13.3.1.4", correlate.Error},
		{"no SDP in the INVITE or its 200, a reliable 180 without", inviteBar + "0.1 b>a 180 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1\n" +
			"0.2 a>b PRACK 2/PRACK tt=callee br=z9hG4bKpr hdr=RAck:_1_1_INVITE\n0.21 b>a 200 2/PRACK tt=callee br=z9hG4bKpr\n" +
			okBare + ack + "5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "missing-sdp-offer 5,1", "no media agreed", "", correlate.Error},
		{"the offer in a reliable 183, the 200 without SDP", inviteBar + "0.1 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1 sdp=1\n" +
			"0.2 a>b PRACK 2/PRACK tt=callee br=z9hG4bKpr hdr=RAck:_1_1_INVITE sdp=1\n0.21 b>a 200 2/PRACK tt=callee br=z9hG4bKpr\n" +
			okBare + ack + "5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "", "", "", 0},
		{"no SDP in the INVITE, a 200 offers, another without SDP", inviteBar + ringing + ok + "0.7 b>a 200 1/INVITE tt=callee\n" + ackSDP + bye, "", "", "", 0},
		{"through a proxy without SDP, a reliable 183's offer on the callee's hop only", "0.0 a>p INVITE 1/INVITE\n0.01 p>b INVITE 1/INVITE br=z9hG4bK2\n" +
			"0.1 b>p 183 1/INVITE tt=callee br=z9hG4bK2 hdr=Require:_100rel hdr=RSeq:_1 sdp=1\n0.11 p>a 183 1/INVITE tt=callee\n" +
			"0.5 b>p 200 1/INVITE tt=callee br=z9hG4bK2\n0.51 p>a 200 1/INVITE tt=callee\n" +
			"0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack\n0.61 p>b ACK 1/ACK tt=callee br=z9hG4bKack2\n", "missing-sdp-offer 6,1", "no media agreed", "", correlate.Error},
		{"no SDP in the INVITE, a 488 with SDP, then a 200 without (a broken callee)", inviteBar + "0.3 b>a 488 1/INVITE tt=callee sdp=1\n" + okBare + ack + bye,
			"missing-sdp-offer 3,1", "the call was set up with no media agreed", "", correlate.Error},
		{"no SDP in the INVITE, refused", inviteBar + ringing + "0.5 b>a 486 1/INVITE tt=callee\n0.51 a>b ACK 1/INVITE tt=callee\n", "", "", "", 0},
		{"no SDP in the 200, its INVITE not captured", okBare + ack + bye, "", "", "", 0},
		{"no SDP in the INVITE, the 200 cut inside its headers", inviteBar + ringing + "0.5 b>a 200 1/INVITE tt=callee sdp=1 cutheaders=1\n" + ack + bye, "", "", "", 0},
		{"the INVITE cut inside its headers, the 200 without SDP", "0.0 a>b INVITE 1/INVITE sdp=1 cutheaders=1\n" + ringing + okBare + ack + bye, "", "", "", 0},
		{"the 200 cut inside its headers", invite + ringing + "0.5 b>a 200 1/INVITE tt=callee sdp=1 cutheaders=1\n" + ack + bye, "", "", "", 0},
		{"no SDP in the INVITE, the 200's cut away", inviteBar + ringing + "0.5 b>a 200 1/INVITE tt=callee sdp=1 cut=1000\n" + ack + bye, "", "", "", 0},
		{"an UPDATE without SDP (a session refresh), its 200 without", invite + ringing + ok + ack +
			"1.0 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKu\n1.1 b>a 200 2/UPDATE tt=callee br=z9hG4bKu\n" +
			"5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "", "", "", 0},
		{"the INVITE's SDP cut away, the 200 without", "0.0 a>b INVITE 1/INVITE sdp=1 cut=1000\n" + ringing + okBare + ack + bye, "", "", "", 0},
		{"a re-INVITE without SDP, its 200 without", invite + ringing + ok + ack + "1.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre\n" +
			"1.1 b>a 200 2/INVITE tt=callee br=z9hG4bKre\n1.2 a>b ACK 2/ACK tt=callee br=z9hG4bKreack\n" +
			"5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "missing-sdp-offer 6,5",
			"the re-INVITE had no SDP, so the 200 Reason had to make the offer, and it carries none: nothing was negotiated, the session keeps the media agreed before",
			"RFC 3261 §13.3.1.4, §14.2", correlate.Warning},
		{"a fork without SDP, one 200 offers", inviteBar + "0.5 b>a 200 1/INVITE tt=one sdp=1\n0.51 b>a 200 1/INVITE tt=two\n" +
			"0.6 a>b ACK 1/ACK tt=one br=z9hG4bKack1 sdp=1\n0.61 a>b ACK 1/ACK tt=two br=z9hG4bKack2\n", "missing-sdp-offer 3,1", "no media agreed", "", correlate.Error},
		{"a fork without SDP, the other's reliable 183 offered", inviteBar + "0.1 b>a 183 1/INVITE tt=one hdr=Require:_100rel hdr=RSeq:_1 sdp=1\n" +
			"0.2 a>b PRACK 2/PRACK tt=one br=z9hG4bKpr hdr=RAck:_1_1_INVITE sdp=1\n0.21 b>a 200 2/PRACK tt=one br=z9hG4bKpr\n" +
			"0.5 b>a 200 1/INVITE tt=two\n0.6 a>b ACK 1/ACK tt=two br=z9hG4bKack2\n", "missing-sdp-offer 5,1", "no media agreed", "", correlate.Error},
		{"through a proxy without SDP, the callee's hop offers", "0.0 a>p INVITE 1/INVITE\n0.01 p>b INVITE 1/INVITE br=z9hG4bK2\n" +
			"0.5 b>p 200 1/INVITE tt=callee br=z9hG4bK2 sdp=1\n0.51 p>a 200 1/INVITE tt=callee\n" +
			"0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack\n0.61 p>b ACK 1/ACK tt=callee br=z9hG4bKack2 sdp=1\n", "missing-sdp-offer 4,1", "no media agreed", "", correlate.Error},
		{"an UPDATE's 200 without SDP", invite + ringing + ok + ack + "1.0 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKu sdp=2\n1.1 b>a 200 2/UPDATE tt=callee br=z9hG4bKu\n" +
			"5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "missing-sdp-answer 6,5",
			"the UPDATE made an SDP offer, but the 200 Reason to it carries no SDP: the media change it offered was never agreed", "RFC 3311 §5.2", correlate.Error},
		{"a re-INVITE without SDP, the ACK answers", invite + ringing + ok + ack + "1.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre\n" +
			"1.1 b>a 200 2/INVITE tt=callee br=z9hG4bKre sdp=2\n1.2 a>b ACK 2/ACK tt=callee br=z9hG4bKreack sdp=2\n" +
			"5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "", "", "", 0},
		{"a re-INVITE without SDP, the ACK does not", invite + ringing + ok + ack + "1.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre\n" +
			"1.1 b>a 200 2/INVITE tt=callee br=z9hG4bKre sdp=2\n1.2 a>b ACK 2/ACK tt=callee br=z9hG4bKreack\n" +
			"5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "missing-sdp-answer 7,6",
			"the INVITE had no SDP, so the 200 Reason made the offer; the ACK must carry the answer and carries none: the media change it offered was never agreed",
			"RFC 3261 §14.1", correlate.Error},
		{"a fork, each 200 an answer", invite + "0.5 b>a 200 1/INVITE tt=one sdp=1\n0.51 c>a 200 1/INVITE tt=two sdp=1\n" +
			"0.6 a>b ACK 1/ACK tt=one br=z9hG4bKack1\n0.61 a>c ACK 1/ACK tt=two br=z9hG4bKack2\n", "", "", "", 0},
		{"a fork, one 200 without SDP", invite + "0.5 b>a 200 1/INVITE tt=one sdp=1\n0.51 b>a 200 1/INVITE tt=two\n" +
			"0.6 a>b ACK 1/ACK tt=one br=z9hG4bKack1\n0.61 a>b ACK 1/ACK tt=two br=z9hG4bKack2\n", "missing-sdp-answer 3,1",
			"the INVITE made an SDP offer, but the 200 Reason to it carries no SDP and no reliable provisional response answered it: no media was agreed", "", correlate.Error},
		{"a fork answered after an UPDATE on the other", invite + "0.5 b>a 200 1/INVITE tt=one sdp=1\n0.6 a>b ACK 1/ACK tt=one br=z9hG4bKack1\n" +
			"0.7 a>b UPDATE 2/UPDATE tt=one br=z9hG4bKu sdp=2\n0.71 b>a 200 2/UPDATE tt=one br=z9hG4bKu sdp=2\n" +
			"0.8 b>a 200 1/INVITE tt=two\n0.81 a>b ACK 1/ACK tt=two br=z9hG4bKack2\n", "missing-sdp-answer 6,1", "the INVITE made an SDP offer", "", correlate.Error},
		{"refused: no answer needed", invite + ringing + "0.5 b>a 488 1/INVITE tt=callee\n0.51 a>b ACK 1/INVITE tt=callee\n", "", "", "", 0},
		{"the INVITE not captured", ok + ack + bye, "", "", "", 0},
		{"the 200 before its INVITE", "0.0 b>a 200 1/INVITE tt=callee sdp=1\n0.001 a>b INVITE 1/INVITE\n" + ack + bye, "", "", "", 0},
		// Hop by hop: each 200 answers the INVITE on its own hop; the proxy
		// (p) relays the offer as it came, so a 200 without SDP on the
		// second hop is that hop's.
		{"through a proxy", "0.0 a>p INVITE 1/INVITE sdp=1\n0.01 p>b INVITE 1/INVITE br=z9hG4bK2 sdp=1\n" +
			"0.5 b>p 200 1/INVITE tt=callee br=z9hG4bK2 sdp=1\n0.51 p>a 200 1/INVITE tt=callee sdp=1\n", "", "", "", 0},
		{"through a proxy, the callee's 200 without SDP", "0.0 a>p INVITE 1/INVITE sdp=1\n0.01 p>b INVITE 1/INVITE br=z9hG4bK2 sdp=1\n" +
			"0.5 b>p 200 1/INVITE tt=callee br=z9hG4bK2\n0.51 p>a 200 1/INVITE tt=callee sdp=1\n", "missing-sdp-answer 3,2", "the INVITE made an SDP offer", "", correlate.Error},
		// A proxy and the server behind it on one host (p, s: one address,
		// two ports); the proxy transcodes (G.722 to the caller, PCMU to
		// the server): each answer is compared with its own hop's offer.
		{"a proxy and its server on one host", "0.0 a>p INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_9\n" +
			"0.01 p>s INVITE 1/INVITE br=z9hG4bK2 sdp=1 media=m=audio_6000_RTP/AVP_0\n" +
			"0.5 s>p 200 1/INVITE tt=callee br=z9hG4bK2 sdp=1 media=m=audio_5000_RTP/AVP_0\n" +
			"0.51 p>a 200 1/INVITE tt=callee sdp=1 media=m=audio_6002_RTP/AVP_9\n" +
			"0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack\n0.61 p>s ACK 1/ACK tt=callee br=z9hG4bKack2\n", "", "", "", 0},
		{"a caller, a proxy and a server on one host, a late offer", "0.0 t>p INVITE 1/INVITE\n0.01 p>s INVITE 1/INVITE br=z9hG4bK2\n" +
			"0.5 s>p 200 1/INVITE tt=callee br=z9hG4bK2 sdp=1 media=m=audio_5000_RTP/AVP_0\n" +
			"0.51 p>t 200 1/INVITE tt=callee sdp=1 media=m=audio_6002_RTP/AVP_9\n" +
			"0.6 t>p ACK 1/ACK tt=callee br=z9hG4bKack sdp=1 media=m=audio_4000_RTP/AVP_9\n" +
			"0.61 p>s ACK 1/ACK tt=callee br=z9hG4bKack2\n", "missing-sdp-answer 6,3", "the ACK must carry the answer", "", correlate.Error},
		{"a proxy and its server on one host, a late offer", "0.0 a>p INVITE 1/INVITE\n0.01 p>s INVITE 1/INVITE br=z9hG4bK2\n" +
			"0.5 s>p 200 1/INVITE tt=callee br=z9hG4bK2 sdp=1 media=m=audio_5000_RTP/AVP_0\n" +
			"0.51 p>a 200 1/INVITE tt=callee sdp=1 media=m=audio_6002_RTP/AVP_9\n" +
			"0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack sdp=1 media=m=audio_4000_RTP/AVP_9\n" +
			"0.61 p>s ACK 1/ACK tt=callee br=z9hG4bKack2 sdp=1 media=m=audio_6000_RTP/AVP_0\n", "", "", "", 0},
		{"through a proxy, the late offer answered on each hop", "0.0 a>p INVITE 1/INVITE\n0.01 p>b INVITE 1/INVITE br=z9hG4bK2\n" +
			"0.5 b>p 200 1/INVITE tt=callee br=z9hG4bK2 sdp=1\n0.51 p>a 200 1/INVITE tt=callee sdp=1\n" +
			"0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack sdp=1\n0.61 p>b ACK 1/ACK tt=callee br=z9hG4bKack2 sdp=1\n", "", "", "", 0},
		{"through a proxy, the late offer unanswered on the caller's hop", "0.0 a>p INVITE 1/INVITE\n0.01 p>b INVITE 1/INVITE br=z9hG4bK2\n" +
			"0.5 b>p 200 1/INVITE tt=callee br=z9hG4bK2 sdp=1\n0.51 p>a 200 1/INVITE tt=callee sdp=1\n" +
			"0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack\n0.61 p>b ACK 1/ACK tt=callee br=z9hG4bKack2 sdp=1\n", "missing-sdp-answer 5,4",
			"the ACK must carry the answer and carries none: no media was agreed", "", correlate.Error},
		{"through a proxy, the late offer unanswered on the callee's hop", "0.0 a>p INVITE 1/INVITE\n0.01 p>b INVITE 1/INVITE br=z9hG4bK2\n" +
			"0.5 b>p 200 1/INVITE tt=callee br=z9hG4bK2 sdp=1\n0.51 p>a 200 1/INVITE tt=callee sdp=1\n" +
			"0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack sdp=1\n0.61 p>b ACK 1/ACK tt=callee br=z9hG4bKack2\n", "missing-sdp-answer 6,3", "", "", correlate.Error},

		// The capture's snap length cut a body short: not judged.
		{"the 200's SDP cut short", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_0|m=video_4002_RTP/AVP_31\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_0|m=video_5002_RTP/AVP_31 cut=37\n" + ack + bye, "", "", "", 0},
		{"the 200's SDP cut away", invite + ringing + "0.5 b>a 200 1/INVITE tt=callee sdp=1 cut=1000\n" + ack + bye, "", "", "", 0},
		{"the INVITE's SDP cut away, the ACK without", "0.0 a>b INVITE 1/INVITE sdp=1 cut=1000\n" + ringing + ok + ack + bye, "", "", "", 0},
		{"the late offer's ACK cut short", inviteBar + ringing + "0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_0_8\n" +
			"0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack sdp=1 media=m=audio_4000_RTP/AVP_18 cut=5\n" + bye, "", "", "", 0},

		{"the INVITE's SDP cut short", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_0|m=video_4002_RTP/AVP_31 cut=37\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_0|m=video_5002_RTP/AVP_31\n" + ack + bye, "", "", "", 0},

		// The answer not fitting.
		{"fewer formats", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_0_8_101|a=rtpmap:101_telephone-event/8000\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_8\n" + ack + bye, "", "", "", 0},
		{"another m= line", invite + ringing + "0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_0|m=video_5002_RTP/AVP_96\n" + ack + bye,
			"sdp-answer-mismatch 3,1", "the answer (200 Reason) has 2 m= lines where the offer (INVITE) has 1", "RFC 3264 §6", correlate.Error},
		{"an m= line fewer", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_0|m=video_4002_RTP/AVP_96\n" + ringing + ok + ack + bye,
			"sdp-answer-mismatch 3,1", "has 1 m= line where the offer (INVITE) has 2", "RFC 3264 §6", correlate.Error},
		{"no format in common", invite + ringing + "0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_8\n" + ack + bye,
			"sdp-answer-mismatch 3,1", "accepts the audio stream (m= line 1) with PCMA (8) where the offer (INVITE) listed PCMU (0): no codec in common",
			"RFC 3264 §6.1", correlate.Error},
		{"only events in common", "0.0 a>b INVITE 1/INVITE sdp=1 " + pcmuEv + "\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_18_101|a=rtpmap:101_telephone-event/8000\n" + ack + bye,
			"sdp-answer-mismatch 3,1", "with G729 (18), telephone-event/8000 (101) where the offer (INVITE) listed PCMU (0), telephone-event/8000 (101): no codec in common", "RFC 3264 §6.1", correlate.Error},
		{"events alone, offered", "0.0 a>b INVITE 1/INVITE sdp=1 " + pcmuEv + "\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_101|a=rtpmap:101_telephone-event/8000\n" + ack + bye, "", "", "", 0},
		{"a dynamic type numbered again", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_96|a=rtpmap:96_opus/48000/2\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_111|a=rtpmap:111_OPUS/48000/2\n" + ack + bye, "", "", "", 0},
		{"a dynamic type, another codec under its number", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_96|a=rtpmap:96_opus/48000/2\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_96|a=rtpmap:96_AMR/8000\n" + ack + bye,
			"sdp-answer-mismatch 3,1", "with AMR/8000 (96) where the offer (INVITE) listed opus/48000 (96)", "RFC 3264 §6.1", correlate.Error},
		{"a dynamic type's rtpmap without a clock", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_96|a=rtpmap:96_opus/48000/2\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_111|a=rtpmap:111_opus\n" + ack + bye, "", "", "", 0},
		{"the same name at another clock", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_96|a=rtpmap:96_L16/8000\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_96|a=rtpmap:96_L16/16000\n" + ack + bye,
			"sdp-answer-mismatch 3,1", "with L16/16000 (96) where the offer (INVITE) listed L16/8000 (96)", "RFC 3264 §6.1", correlate.Error},
		{"dynamic types without rtpmap", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_97\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_97|a=ptime:20\n" + ack + bye, "", "", "", 0},
		{"a stream refused", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_0|m=video_4002_RTP/AVP_96\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_0|m=video_0_RTP/AVP_31\n" + ack + bye, "", "", "", 0},
		{"a removed stream taken up", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_0|m=video_0_RTP/AVP_96\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_0|m=video_5002_RTP/AVP_96\n" + ack + bye,
			"sdp-answer-mismatch 3,1", "takes up the video stream (m= line 2, port 5002) that the offer (INVITE) removed with port 0", "RFC 3264 §8.2", correlate.Warning},
		{"a bundle-only stream taken up", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=audio_4000_RTP/AVP_0|m=video_0_RTP/AVP_96|a=bundle-only\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_0|m=video_5000_RTP/AVP_96\n" + ack + bye, "", "", "", 0},
		{"T.38, no payload types", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=image_4000_udptl_t38\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=image_5000_udptl_t38|a=T38FaxVersion:0\n" + ack + bye, "", "", "", 0},
		{"the late offer's answer without a format in common", inviteBar + ringing + "0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=audio_5000_RTP/AVP_0_8\n" +
			"0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack sdp=1 media=m=audio_4000_RTP/AVP_18\n" + bye,
			"sdp-answer-mismatch 4,3", "the answer (ACK) accepts the audio stream (m= line 1) with G729 (18) where the offer (200 Reason) listed PCMU (0), PCMA (8)",
			"RFC 3264 §6.1", correlate.Error},
		{"a re-INVITE's answer another m= line", invite + ringing + ok + ack + "1.0 b>a INVITE 1/INVITE ft=callee tt=caller br=z9hG4bKre sdp=2\n" +
			"1.1 a>b 200 1/INVITE ft=callee tt=caller br=z9hG4bKre sdp=2 media=m=audio_4000_RTP/AVP_0|m=video_4002_RTP/AVP_96\n" +
			"1.2 b>a ACK 1/ACK ft=callee tt=caller br=z9hG4bKreack\n" + bye, "sdp-answer-mismatch 6,5",
			"the answer (200 Reason) has 2 m= lines where the offer (INVITE) has 1", "RFC 3264 §6", correlate.Error},
		{"video with a shared rtx, no codec in common", "0.0 a>b INVITE 1/INVITE sdp=1 media=m=video_4000_RTP/AVPF_96_97|a=rtpmap:96_VP8/90000|a=rtpmap:97_rtx/90000\n" + ringing +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1 media=m=video_5000_RTP/AVPF_98_97|a=rtpmap:98_H264/90000|a=rtpmap:97_rtx/90000\n" + ack + bye,
			"sdp-answer-mismatch 3,1", "with H264/90000 (98), rtx/90000 (97) where the offer (INVITE) listed VP8/90000 (96), rtx/90000 (97)", "RFC 3264 §6.1", correlate.Error},
		// PRACK (RFC 3262 §5).
		{"a PRACK's answer, its INVITE not captured", "0.1 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1 sdp=1\n" +
			"0.2 a>b PRACK 2/PRACK tt=callee br=z9hG4bKpr hdr=RAck:_1_1_INVITE sdp=1\n0.21 b>a 200 2/PRACK tt=callee br=z9hG4bKpr\n" +
			okBare + ack + "5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "", "", "", 0},
		{"a PRACK's offer, its 200 without SDP", invite + "0.1 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1 sdp=1\n" +
			"0.2 a>b PRACK 2/PRACK tt=callee br=z9hG4bKpr hdr=RAck:_1_1_INVITE sdp=2\n0.21 b>a 200 2/PRACK tt=callee br=z9hG4bKpr\n" +
			okBare + ack + "5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "missing-sdp-answer 4,3",
			"the PRACK made an SDP offer, but the 200 Reason to it carries no SDP: the media change it offered was never agreed", "RFC 3262 §5", correlate.Error},
		{"a PRACK's offer answered", invite + "0.1 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1 sdp=1\n" +
			"0.2 a>b PRACK 2/PRACK tt=callee br=z9hG4bKpr hdr=RAck:_1_1_INVITE sdp=2\n0.21 b>a 200 2/PRACK tt=callee br=z9hG4bKpr sdp=2\n" +
			okBare + ack + "5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\n", "", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			var first *correlate.Finding
			for _, c := range runScript(t, tt.script) {
				for i, f := range c.Findings {
					if f.Rule != "missing-sdp-answer" && f.Rule != "sdp-answer-mismatch" && f.Rule != "missing-sdp-offer" {
						continue
					}
					got = append(got, fmt.Sprintf("%s %s", f.Rule, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(f.Packets)), ","), "[]")))
					if first == nil {
						first = &c.Findings[i]
					}
				}
			}
			if strings.Join(got, "; ") != tt.want {
				t.Fatalf("findings %q, want %q", strings.Join(got, "; "), tt.want)
			}
			if first == nil {
				return
			}
			if !strings.Contains(first.Detail, tt.detail) || tt.rfc != "" && first.RFC != tt.rfc || first.Severity != tt.sev {
				t.Errorf("%v %s (%s); want %v, %q in it, %s", first.Severity, first.Detail, first.RFC, tt.sev, tt.detail, tt.rfc)
			}
		})
	}
}

// TestOfferAnswerManyOffers: a long call's settled offers (answered, or
// refused) are forgotten as new ones come, so the checks go on past any
// number of them: here 300 answered UPDATEs and 300 refused, then one
// whose 200 carries no SDP.
func TestOfferAnswerManyOffers(t *testing.T) {
	var b strings.Builder
	b.WriteString("0.0 a>b INVITE 1/INVITE sdp=1\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n")
	at, n := 1.0, 3
	for i := range 600 {
		cseq := i + 2
		status, body := "200", " sdp=1"
		if i >= 300 {
			status, body = "488", ""
		}
		fmt.Fprintf(&b, "%.2f a>b UPDATE %d/UPDATE tt=callee br=z9hG4bKu%d sdp=%d\n%.2f b>a %s %d/UPDATE tt=callee br=z9hG4bKu%d%s\n",
			at, cseq, i, i+2, at+0.01, status, cseq, i, body)
		at += 1
		n += 2
	}
	fmt.Fprintf(&b, "%.2f a>b UPDATE 700/UPDATE tt=callee br=z9hG4bKlast sdp=900\n%.2f b>a 200 700/UPDATE tt=callee br=z9hG4bKlast\n", at, at+0.01)
	var got []string
	for _, c := range runScript(t, b.String()) {
		for _, f := range c.Findings {
			if f.Rule == "missing-sdp-answer" || f.Rule == "sdp-answer-mismatch" {
				got = append(got, fmt.Sprintf("%s %v", f.Rule, f.Packets))
			}
		}
	}
	if want := fmt.Sprintf("missing-sdp-answer [%d %d]", n+2, n+1); strings.Join(got, "; ") != want {
		t.Errorf("findings %q, want %q", got, want)
	}
}

// TestOfferAnswerFullLeg: past maxOffers open offers (UPDATEs never
// answered), a re-INVITE's offer is not kept, and its 200 without SDP is
// neither judged as an answer nor taken for a 2xx that had to offer.
func TestOfferAnswerFullLeg(t *testing.T) {
	var b strings.Builder
	b.WriteString("0.0 a>b INVITE 1/INVITE sdp=1\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n")
	for i := range 300 {
		fmt.Fprintf(&b, "%d.0 a>b UPDATE %d/UPDATE tt=callee br=z9hG4bKu%d sdp=%d\n", i+1, i+2, i, i+2)
	}
	b.WriteString("400.0 a>b INVITE 400/INVITE tt=callee br=z9hG4bKre sdp=500\n400.1 b>a 200 400/INVITE tt=callee br=z9hG4bKre\n")
	for _, c := range runScript(t, b.String()) {
		for _, f := range c.Findings {
			if f.Rule == "missing-sdp-offer" || f.Rule == "missing-sdp-answer" {
				t.Errorf("%s %v: %s", f.Rule, f.Packets, f.Detail)
			}
		}
	}
}
