package correlate

import (
	"fmt"
	"net/netip"
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
		var pr *prackIndex // built when first needed: most reliable responses are not repeated
		for _, tx := range l.Transactions {
			// The repeats of its reliable provisional responses, by what
			// names the response they repeat.
			var repeats map[repeatKey][]*Message
			for _, x := range tx.Responses {
				if x.Retransmission && x.rseqOf() != 0 {
					if repeats == nil {
						repeats = make(map[repeatKey][]*Message)
					}
					k := repeatKeyOf(x)
					repeats[k] = append(repeats[k], x)
				}
			}
			if repeats == nil {
				continue // none repeated: no finding
			}
			for _, r := range tx.Responses {
				if r.Retransmission || r.rseqOf() == 0 {
					continue // a repeat, or not a reliable provisional response
				}
				again := repeats[repeatKeyOf(r)]
				if len(again) == 0 {
					continue
				}
				if pr == nil {
					pr = newPRACKIndex(l)
				}
				if f, ok := missingPRACK(tx, r, again, pr); ok {
					fs = append(fs, f)
				}
			}
		}
	}
	return fs
}

// repeatKey names a reliable provisional response and its repeats: the
// responses placeResponse marked Retransmission have the status, To-tag,
// hop and RSeq of one before them (and its size: a resend of another size
// is a first sighting of its own, and shares these repeats).
type repeatKey struct {
	status   int
	toTag    string
	src, dst netip.AddrPort
	rseq     uint32
}

func repeatKeyOf(m *Message) repeatKey {
	return repeatKey{m.Status, m.ToTag, m.Src, m.Dst, m.rseqOf()}
}

// prackIndex is a leg's PRACKs: by the dialog (To-tag) and the response
// their RAck names (RSeq and CSeq), and by the dialog alone, in order.
type prackIndex struct {
	byRAck map[prackKey][]*Transaction
	byTag  map[string][]*Message
}

type prackKey struct {
	toTag      string
	rseq, cseq uint32
}

func newPRACKIndex(l *Leg) *prackIndex {
	pr := &prackIndex{byRAck: make(map[prackKey][]*Transaction), byTag: make(map[string][]*Message)}
	for _, p := range l.Transactions {
		if p.Method != "PRACK" || p.Request == nil {
			continue
		}
		rseq, cseq := p.Request.rack()
		k := prackKey{p.Request.ToTag, rseq, cseq}
		pr.byRAck[k] = append(pr.byRAck[k], p)
		pr.byTag[k.toTag] = append(pr.byTag[k.toTag], p.Request)
	}
	return pr
}

// missingPRACK looks at r, the first sighting of a reliable provisional
// response of transaction tx, and again, its repeats: whether they were
// for want of a PRACK (checkMissingPRACK).
func missingPRACK(tx *Transaction, r *Message, again []*Message, pr *prackIndex) (Finding, bool) {
	rseq := r.rseqOf()
	// The PRACKs of its dialog (its To-tag: another fork's PRACK may name
	// the same RSeq): those whose RAck names it, the first 2xx one of them
	// got, and the first of the others.
	var pracks []*Message
	var acked, ackedPRACK, other *Message
	for _, p := range pr.byRAck[prackKey{r.ToTag, rseq, tx.CSeq}] {
		pracks = append(pracks, p.Request)
		if acked == nil && p.Final != nil && p.Final.Status < 300 {
			acked, ackedPRACK = p.Final, p.Request
		}
	}
	for _, p := range pr.byTag[r.ToTag] {
		if rs, cs := p.rack(); rs != rseq || cs != tx.CSeq {
			other = p
			break
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
	case other != nil:
		pr, pc := other.rack()
		fmt.Fprintf(&b, "no PRACK for it was captured; the PRACK of packet %d acknowledges RSeq %d of CSeq %d, not RSeq %d of CSeq %d",
			other.N, pr, pc, rseq, tx.CSeq)
		f.Packets = append(f.Packets, other.N)
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
