package correlate

import (
	"fmt"
	"strings"
)

// checkMissingPRACK: a reliable provisional response (RFC 3262: an 18x
// with Require: 100rel and an RSeq) that its sender went on repeating
// because no PRACK reached it (§3: every T1, doubling, until the PRACK
// comes; after 64·T1 the UAS should reject the INVITE with a 5xx). It is
// no fault when every repeat came before a PRACK for it was answered
// 2xx: the repeat and the PRACK crossed.
//
// Error when the INVITE was then rejected with a 5xx (the call failed for
// it), warning otherwise.
func checkMissingPRACK(c *Call) []Finding {
	var fs []Finding
	for _, l := range c.Legs {
		if !l.reliable {
			continue
		}
		for _, tx := range l.Transactions {
			for _, r := range tx.Responses {
				if r.Retransmission || r.rseqOf() == 0 {
					continue // a repeat, or not a reliable provisional response
				}
				if f, ok := missingPRACK(l, tx, r); ok {
					fs = append(fs, f)
				}
			}
		}
	}
	return fs
}

// missingPRACK looks at r, the first sighting of a reliable provisional
// response of transaction tx: whether it was repeated for want of a PRACK
// (checkMissingPRACK).
func missingPRACK(l *Leg, tx *Transaction, r *Message) (Finding, bool) {
	rseq := r.rseqOf()
	again := resent(tx, r) // a repeat has r's RSeq (placeResponse)
	// The PRACKs of its dialog (its To-tag): those whose RAck names it,
	// the first 2xx one of them got, and the others.
	var pracks, others []*Message
	var acked, ackedPRACK *Message
	for _, p := range l.Transactions {
		if p.Method != "PRACK" || p.Request == nil || p.Request.ToTag != r.ToTag {
			continue // another fork's PRACK may name the same RSeq
		}
		pr, pc := p.Request.rack()
		if pr != rseq || pc != tx.CSeq {
			others = append(others, p.Request)
			continue
		}
		pracks = append(pracks, p.Request)
		if acked == nil && p.Final != nil && p.Final.Status < 300 {
			acked, ackedPRACK = p.Final, p.Request
		}
	}
	var late []*Message // repeats after its PRACK was answered
	for _, x := range again {
		if acked == nil || x.Time.After(acked.Time) {
			late = append(late, x)
		}
	}
	if len(late) == 0 {
		return Finding{}, false // PRACKed in time, or the repeats crossed the PRACK
	}
	last := again[len(again)-1]
	f := Finding{Rule: "missing-prack", Severity: Warning, RFC: "RFC 3262 §3",
		Packets: packets(append(append([]*Message{r}, again...), pracks...)...)}
	var b strings.Builder
	fmt.Fprintf(&b, "%s from %s, a reliable provisional response (RSeq %d), was sent %d times over %.1f s: ",
		r.Label(), r.Src, rseq, 1+len(again), last.Time.Sub(r.Time).Seconds())
	switch {
	case acked != nil:
		fmt.Fprintf(&b, "the PRACK for it (packet %d) was answered %s (packet %d), yet it was sent again after that", ackedPRACK.N, acked.Label(), acked.N)
		f.Packets = append(f.Packets, acked.N)
	case len(pracks) > 0:
		fmt.Fprintf(&b, "the PRACK for it (packet %d) got no 2xx", pracks[0].N)
	case len(others) > 0:
		pr, pc := others[0].rack()
		fmt.Fprintf(&b, "no PRACK for it was captured; the PRACK of packet %d acknowledges RSeq %d of CSeq %d, not RSeq %d of CSeq %d",
			others[0].N, pr, pc, rseq, tx.CSeq)
		f.Packets = append(f.Packets, others[0].N)
	default:
		b.WriteString("no PRACK for it was captured (a caller that offered 100rel and does not send PRACK, or a PRACK lost or routed elsewhere)")
	}
	if fin := tx.Final; fin != nil && fin.Status/100 == 5 {
		f.Severity = Error
		fmt.Fprintf(&b, "; the INVITE was then rejected with %s (packet %d), %.1f s after it", fin.Label(), fin.N, fin.Time.Sub(r.Time).Seconds())
		f.Packets = append(f.Packets, fin.N)
	}
	f.Detail = b.String()
	return f, true
}
