package correlate

import (
	"fmt"
	"sort"
	"time"

	"github.com/sipflow/sipflow/media"
)

// Fax checks, run on a finished call when media analysis is on. A T.38
// stream (media.Stream with Fax set) is the UDPTL one party sent another
// after the SDP gave a port to T.38 (m=image udptl t38, RFC 3362): was it
// sent both ways, did its redundancy make its loss good, and what do the
// T.30 frames it carried say of the fax itself (T.30 §5: DIS, DCS, CFR,
// the page, MCF, DCN)?

// rtpStreams returns the call's RTP streams: Streams without the T.38
// ones, which the audio checks must not count (T.38 often takes over the
// audio's port).
func rtpStreams(c *Call) []*media.Stream {
	for _, s := range c.Streams {
		if s.Fax != nil {
			var out []*media.Stream
			for _, s := range c.Streams {
				if s.Fax == nil {
					out = append(out, s)
				}
			}
			return out
		}
	}
	return c.Streams // the usual case: no copy
}

// checkFax runs the fax checks on a finished call from a capture that has
// shown media (RTP, or a datagram that parsed as UDPTL): a capture made
// with a SIP-only filter proves nothing about the fax.
func checkFax(c *Call, captureLoss string) []Finding {
	if c.Kind != KindCall {
		return nil
	}
	var fs []Finding
	for _, s := range c.Streams {
		if s.Fax != nil {
			fs = append(fs, faxLoss(s, captureLoss)...)
		}
	}
	for _, l := range c.Legs {
		if l.media == nil {
			continue
		}
		faxes := faxStreamsOf(l.media.streams)
		if f, ok := faxFlow(l, faxes); ok {
			fs = append(fs, f) // without both directions there is no fax to judge
			continue
		}
		for _, f := range checkT30(faxes) {
			if len(c.Legs) > 1 {
				f.Detail = "leg " + l.CallID + ": " + f.Detail // a B2BUA's legs carry the fax each
			}
			fs = append(fs, f)
		}
	}
	return fs
}

// faxStreamsOf returns the T.38 streams among ss.
func faxStreamsOf(ss []*media.Stream) []*media.Stream {
	var out []*media.Stream
	for _, s := range ss {
		if s.Fax != nil {
			out = append(out, s)
		}
	}
	return out
}

// faxLoss finds UDPTL lost beyond what the redundancy made good: each
// such packet is a piece of a page or a T.30 frame that never arrived
// (T.38 has no retransmission of its own). With FEC, which sipflow does
// not rebuild, the loss is reported as a warning above 1%.
func faxLoss(s *media.Stream, captureLoss string) []Finding {
	f := s.Fax
	what := fmt.Sprintf("T.38 %s → %s", s.Key.Src, s.Key.Dst)
	var detail string
	sev := Warning
	switch {
	case f.FEC:
		if s.LostPct <= lossWarn {
			return nil
		}
		detail = fmt.Sprintf("%s lost %d of %d UDPTL packets (%.1f%%); it recovers with FEC, which may have made some good", what, s.Lost, s.Expected, s.LostPct)
	case f.Unrecovered > 0 && s.Expected > 0:
		pct := s.UnrecoveredPct()
		if pct > lossError {
			sev = Error
		}
		detail = fmt.Sprintf("%s lost %d of %d UDPTL packets (%.1f%%) that no later packet's redundancy carried again: the fax lost that data", what, f.Unrecovered, s.Expected, pct)
		if f.Recovered > 0 {
			detail += fmt.Sprintf(" (%d more were made good from redundancy)", f.Recovered)
		}
	default:
		return nil
	}
	if captureLoss != "" {
		detail += "; but " + captureLoss + ", so some of it may be the capture's, not the network's"
	}
	return []Finding{{Rule: "fax-loss", Severity: sev, Packets: []int{s.FirstN, s.LastN}, Detail: detail, RFC: "ITU-T T.38 §9.1"}}
}

// faxFlow finds T.38 agreed in leg l that was not sent both ways while
// the leg was on it (faxPeriod) for at least minTalk: no UDPTL at all,
// or to one party only.
func faxFlow(l *Leg, faxes []*media.Stream) (Finding, bool) {
	if len(l.media.faxAnnounced) == 0 {
		return Finding{}, false
	}
	callerTag, answerTag, ok := callParties(l)
	if !ok || answerTag == "" {
		return Finding{}, false
	}
	a, b := faxPartyOf(l, callerTag), faxPartyOf(l, answerTag)
	if a == nil || b == nil {
		return Finding{}, false
	}
	since, until, ok := faxPeriod(l, a, b)
	if !ok || until.Sub(since) < minTalk {
		return Finding{}, false
	}
	toA, toB := streamsTo(faxes, a.ep), streamsTo(faxes, b.ep)
	switch {
	case len(toA) == 0 && len(toB) == 0:
		return Finding{Rule: "no-udptl", Severity: Error, Packets: []int{l.Messages[len(l.Messages)-1].N},
			Detail: fmt.Sprintf("T.38 fax was agreed (%s and %s), but no UDPTL was seen in either direction in the %.1f s the call stayed on it", a.ep.ap, b.ep.ap, until.Sub(since).Seconds()),
			RFC:    "RFC 3264 §5"}, true
	case len(toA) == 0:
		return oneWayFax(a.ep, toB), true
	case len(toB) == 0:
		return oneWayFax(b.ep, toA), true
	}
	return Finding{}, false
}

func oneWayFax(to *endpoint, heard []*media.Stream) Finding {
	var n []int
	for _, s := range heard {
		n = append(n, s.FirstN)
	}
	return Finding{Rule: "one-way-fax", Severity: Error, Packets: n,
		Detail: fmt.Sprintf("UDPTL flowed only one way: %s received nothing, though its SDP accepted T.38 fax there, so the fax machine behind it heard nothing of the other and no fax gets through", to.ap),
		RFC:    "RFC 3264 §5"}
}

// faxPartyOf returns the T.38 endpoint the party with this tag announced
// last in leg l, or nil.
func faxPartyOf(l *Leg, tag string) *faxParty {
	for i := range l.media.faxAnnounced {
		if p := &l.media.faxAnnounced[i]; p.tag == tag {
			return p
		}
	}
	return nil
}

// faxPeriod returns the last span leg l was on T.38: from an in-dialog
// answer that accepted a T.38 line to the next that accepted none (or the
// leg's end); or, when the INVITE's offer and answer set it up (both
// parties announced T.38 by the first 2xx), from that 2xx. ok is false
// when the leg never was: an offer of T.38 refused agrees on nothing.
func faxPeriod(l *Leg, a, b *faxParty) (since, until time.Time, ok bool) {
	on := false
	for _, m := range l.Messages {
		if !m.IsRequest() && m.Status >= 200 && m.Status < 300 && m.CSeqMethod == "INVITE" {
			// The first 2xx: T.38 from the start if both announced it by then.
			on = !a.at.After(m.Time) && !b.at.After(m.Time)
			since, ok = m.Time, on
			break
		}
	}
	for _, m := range l.Messages {
		if m.ext == nil {
			continue
		}
		switch q, t38 := faxAnswer(l, m); {
		case q == nil:
		case t38 && !on:
			since, on, ok = m.Time, true, true
		case !t38 && on:
			until, on = m.Time, false
		}
	}
	if on {
		until = l.Messages[len(l.Messages)-1].Time
	}
	return since, until, ok
}

// t30Frame is a T.30 frame of the call, with the stream that carried it.
type t30Frame struct {
	*media.T30Frame
	s *media.Stream
}

// postPage reports whether an FCF is a post-message command: the sender's
// question after a page (T.30 §5.3.6.1.5, and ECM's PPS, T.30 Annex A),
// which the receiver answers with MCF when it took the page.
func postPage(name string) bool {
	switch name {
	case "EOP", "MPS", "EOM", "PRI-EOP", "PRI-MPS", "PRI-EOM", "PPS", "EOS":
		return true
	}
	return false
}

// checkT30 reads a leg's T.30 frames, both directions in capture order,
// for a fax that did not get through: the sender started (DCS, or a CFR,
// FTT or post-page command that shows one was sent) but no page was
// confirmed (MCF): training failed (FTT) until one side gave up, a page
// was refused (RTN), a procedure interrupt (PIN); or the call ended after
// DIS with no DCS. A last page not confirmed after earlier ones is a
// warning.
func checkT30(faxes []*media.Stream) []Finding {
	var frames []t30Frame
	unread := 0
	for _, s := range faxes {
		for i := range s.Fax.Frames {
			frames = append(frames, t30Frame{&s.Fax.Frames[i], s})
		}
		unread += s.Fax.Unread
	}
	if len(frames) == 0 {
		return nil
	}
	sort.SliceStable(frames, func(i, j int) bool { return frames[i].N < frames[j].N })
	var dis, dcs, started, dcn, lastPost, lastMCF *t30Frame
	mcfs, ftts, rtns, pins := 0, 0, 0, 0
	for i := range frames {
		f := &frames[i]
		switch name := f.Name; {
		case name == "DIS" && dis == nil:
			dis = f
		case name == "DCS" && dcs == nil:
			dcs = f
		case name == "DCN":
			dcn = f
		case name == "MCF":
			mcfs++
			lastMCF = f
		case name == "FTT":
			ftts++
		case name == "RTN":
			rtns++
		case name == "PIN":
			pins++
		case postPage(name):
			lastPost = f
		}
		// A training answer or a question after a page shows a DCS was
		// sent, whether or not the capture has it.
		if name := f.Name; started == nil && (name == "DCS" || name == "CFR" || name == "FTT" || postPage(name)) {
			started = f
		}
	}
	labels := make([]string, len(frames))
	for i := range frames {
		labels[i] = frames[i].Label()
	}
	seq := media.JoinRuns(labels, 24)
	// With IFP packets not read (lost for good, or come too late) a frame
	// may be missing (T.38 repeats nothing): the verdict is then only a
	// warning.
	caveat, sev := "", Error
	if unread > 0 {
		caveat = fmt.Sprintf("; %d UDPTL packet(s) were not read in order (lost for good, or late), so a frame may be missing from the capture", unread)
		sev = Warning
	}
	last := frames[len(frames)-1].N
	switch {
	case started == nil && dis != nil && dcn != nil:
		return []Finding{{Rule: "fax-failed", Severity: sev, Packets: []int{dis.N, dcn.N},
			Detail: "the fax ended before any page was sent: the receiver offered its capabilities (DIS) but the sender never chose a mode (no DCS) and disconnected (DCN); T.30: " + seq + caveat,
			RFC:    "ITU-T T.30 §5.3"}}
	case started != nil && mcfs == 0:
		why := "no page was confirmed (no MCF)"
		switch {
		case rtns > 0:
			why = fmt.Sprintf("the receiver refused the page (RTN ×%d: too many errors)", rtns)
		case pins > 0:
			why = fmt.Sprintf("a procedure interrupt (PIN ×%d) stopped it", pins)
		case ftts > 0:
			why = fmt.Sprintf("training failed (FTT ×%d): the modems never agreed on a speed", ftts)
		}
		who := "the sender started (DCS)"
		if dcs == nil {
			who = "the sender started (its DCS is not in the capture, but " + started.Name + " shows it was sent)"
		}
		end := "it stopped without a disconnect (DCN)"
		if dcn != nil {
			end = "then DCN ended it"
		}
		return []Finding{{Rule: "fax-failed", Severity: sev, Packets: []int{started.N, last},
			Detail: fmt.Sprintf("the fax failed: %s, but %s; %s. T.30: %s%s", who, why, end, seq, caveat),
			RFC:    "ITU-T T.30 §5.3"}}
	case lastPost != nil && (lastMCF == nil || lastMCF.N < lastPost.N):
		return []Finding{{Rule: "fax-failed", Severity: Warning, Packets: []int{lastPost.N, last},
			Detail: fmt.Sprintf("the last page was not confirmed: %s got no MCF (%d page(s) confirmed before it); T.30: %s%s", lastPost.Name, mcfs, seq, caveat),
			RFC:    "ITU-T T.30 §5.3"}}
	}
	return nil
}
