package decode

import (
	"bytes"
	"container/heap"
	"encoding/binary"
	"net/netip"
	"slices"
	"time"
)

// TCP stream reassembly for SIP (RFC 3261 §18.3) and HEP3 over TCP.
//
// Written here rather than with gopacket/reassembly: we need the number of
// the packet that completed each message, framing by Content-Length as bytes
// arrive, and no copy at all in the common case of whole messages in one
// segment; gopacket's assembler copies every segment into pages and calls
// back per chunk, not per message.
//
// One stream per direction, keyed by (source, destination). A stream whose
// SYN was not captured starts at the first segment that begins a SIP message
// (or a HEP3 packet); segments of other TCP traffic cost one map lookup.

const (
	maxStreamBuffer = 4 << 20 // bytes buffered for one unfinished message
	maxOOOSegments  = 128     // out-of-order segments held while waiting for a hole
	maxOOOBytes     = 2 << 20
	gapTimeout      = 3 * time.Second // packet time a hole may stay open before we give up on it
	maxStreams      = 1 << 16
)

type streamKey struct{ src, dst netip.AddrPort }

type streamKind uint8

const (
	kindUnknown streamKind = iota // SYN seen, no data yet
	kindSIP
	kindHEP
	kindWS    // WebSocket frames carrying SIP (ws.go)
	kindTLS   // TLS records, decrypted with a key log (tls.go)
	kindOther // not ours: ignored until a segment starts a SIP message
)

type oooSegment struct {
	seq  uint32
	data []byte
	n    int
	at   time.Time
}

type stream struct {
	kind     streamKind
	haveSeq  bool
	next     uint32 // next expected sequence number
	buf      []byte // in-order bytes not yet framed into messages
	bufN     int    // packet number of buf's first byte
	ooo      []oooSegment
	oooBytes int
	resync   bool // bytes were lost: skip to the next SIP start line
	last     time.Time
	parts    []int // packets whose bytes are in buf (the message being framed)
	ws       *wsState
	tls      *tlsDir // kindTLS: its direction of the connection
	outer    *tlsDir // the plaintext of a TLS stream: the direction it is the inside of
	key      streamKey
	hi       int  // index in streamTable.byLast; -1 once closed
	holed    bool // listed in streamTable.holed
}

// streamTable holds the open streams. byLast orders them as expiry and
// eviction take them, and holed lists those that have held out-of-order
// segments, so that neither has to look at every stream: a capture of
// tens of thousands of connections (a busy host captured unfiltered, a
// scan) once sorted them all each second of packet time, and each stream
// past maxStreams sorted them again.
type streamTable struct {
	m      map[streamKey]*stream
	byLast streamHeap
	holed  []*stream // may hold streams since closed or whose hole closed
}

func (t *streamTable) init() { t.m = make(map[streamKey]*stream) }

// before orders streams by last activity, then by address, so that
// warnings and late messages come out the same on every run.
func (a *stream) before(b *stream) bool {
	if c := a.last.Compare(b.last); c != 0 {
		return c < 0
	}
	if c := a.key.src.Compare(b.key.src); c != 0 {
		return c < 0
	}
	return a.key.dst.Compare(b.key.dst) < 0
}

// streamHeap is a min-heap of open streams by before (container/heap).
type streamHeap []*stream

func (h streamHeap) Len() int           { return len(h) }
func (h streamHeap) Less(i, j int) bool { return h[i].before(h[j]) }
func (h streamHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hi, h[j].hi = i, j
}
func (h *streamHeap) Push(x any) {
	s := x.(*stream)
	s.hi = len(*h)
	*h = append(*h, s)
}
func (h *streamHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	s.hi = -1
	return s
}

// open adds a new stream for key.
func (t *streamTable) open(key streamKey, at time.Time) *stream {
	s := &stream{key: key, last: at}
	t.m[key] = s
	heap.Push(&t.byLast, s)
	return s
}

// touch records activity on s at time at.
func (t *streamTable) touch(s *stream, at time.Time) {
	if s.last.Equal(at) {
		return
	}
	later := at.After(s.last)
	s.last = at
	if later && 2*s.hi+1 >= len(t.byLast) {
		return // a leaf gone later: still after its parent (the usual case)
	}
	heap.Fix(&t.byLast, s.hi)
}

// remove drops s from the table.
func (t *streamTable) remove(s *stream) {
	delete(t.m, s.key)
	if s.hi >= 0 {
		heap.Remove(&t.byLast, s.hi)
	}
}

func (d *Decoder) tcpSegment(src, dst netip.Addr, b []byte) {
	if len(b) < 20 {
		d.truncated("TCP", 20, len(b))
		return
	}
	off := int(b[12]>>4) * 4
	if off < 20 {
		d.warnf(ErrBadHeader, "TCP data offset %d", off)
		return
	}
	if len(b) < off {
		d.truncated("TCP", off, len(b))
		return
	}
	d.Stats.TCPSegments++
	key := streamKey{
		src: netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:2])),
		dst: netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:4])),
	}
	seq := binary.BigEndian.Uint32(b[4:8])
	flags := b[13]
	syn, fin, rst := flags&0x02 != 0, flags&0x01 != 0, flags&0x04 != 0
	payload := b[off:]

	s := d.tcp.m[key]
	if s == nil {
		switch {
		case syn:
		case len(payload) > 0 && (LooksLikeSIP(payload) || isHEP3(payload) || maybeWSStart(payload) ||
			d.opts.KeyLog != nil && isTLSHandshake(payload)):
		default:
			return
		}
		if len(d.tcp.m) >= maxStreams {
			d.tcp.evictOldest(d)
		}
		s = d.tcp.open(key, d.curTime)
	}
	d.tcp.touch(s, d.curTime)
	if syn {
		s.next, s.haveSeq = seq+1, true
		seq++
		s.buf, s.ooo, s.oooBytes, s.resync = s.buf[:0], nil, 0, false
		s.kind, s.ws, s.tls = kindUnknown, nil, nil
	}
	if len(payload) > 0 {
		if s.kind == kindOther {
			switch {
			case LooksLikeSIP(payload):
				s.kind = kindSIP
			case wsFrameCarriesSIP(payload):
				s.kind, s.ws = kindWS, &wsState{histBad: true} // begun before the capture
			default:
				goto done
			}
			s.haveSeq, s.buf = false, s.buf[:0]
		}
		if !s.haveSeq {
			s.next, s.haveSeq = seq, true
		}
		d.streamData(key, s, seq, payload)
	}
done:
	if rst {
		d.closeStream(key, s, "reset")
		d.closeStream(streamKey{src: key.dst, dst: key.src}, d.tcp.m[streamKey{src: key.dst, dst: key.src}], "reset")
	} else if fin {
		d.closeStream(key, s, "closed")
	}
}

// streamData places one segment's data and frames whatever is now in order.
func (d *Decoder) streamData(key streamKey, s *stream, seq uint32, data []byte) {
	diff := int32(seq - s.next)
	if diff > 0 { // a hole before this segment: hold it
		if len(s.ooo) >= maxOOOSegments || s.oooBytes+len(data) > maxOOOBytes {
			d.giveUpHole(key, s)
			d.streamData(key, s, seq, data)
			return
		}
		if !s.holed {
			s.holed = true
			d.tcp.holed = append(d.tcp.holed, s)
		}
		s.ooo = append(s.ooo, oooSegment{seq: seq, data: bytes.Clone(data), n: d.curN, at: d.curTime})
		s.oooBytes += len(data)
		d.checkHole(key, s)
		return
	}
	if diff < 0 { // overlaps what we have: keep only the new part
		if -int(diff) >= len(data) {
			d.Stats.Retransmitted++
			return
		}
		data = data[-diff:]
	}
	s.next += uint32(len(data))
	d.frame(key, s, data, d.curN)
	d.drainOOO(key, s)
}

// drainOOO moves held segments that have become in-order into the stream.
func (d *Decoder) drainOOO(key streamKey, s *stream) {
	for len(s.ooo) > 0 {
		progressed := false
		for i := 0; i < len(s.ooo); i++ {
			g := s.ooo[i]
			diff := int32(g.seq - s.next)
			if diff > 0 {
				continue
			}
			s.ooo = slices.Delete(s.ooo, i, i+1)
			s.oooBytes -= len(g.data)
			i--
			if -int(diff) >= len(g.data) {
				d.Stats.Retransmitted++
				continue
			}
			data := g.data[-diff:]
			s.next += uint32(len(data))
			n, at := d.curN, d.curTime
			d.curN, d.curTime = max(g.n, n), laterOf(g.at, at)
			d.frame(key, s, data, g.n)
			d.curN, d.curTime = n, at
			progressed = true
		}
		if !progressed {
			return
		}
	}
}

// checkHole gives up on a hole that has stayed open longer than gapTimeout.
func (d *Decoder) checkHole(key streamKey, s *stream) {
	if len(s.ooo) > 0 && d.curTime.Sub(s.ooo[0].at) > gapTimeout {
		d.giveUpHole(key, s)
	}
}

// giveUpHole declares the missing bytes lost: the message they belonged to
// is dropped with a warning and framing resumes at the next SIP start line.
func (d *Decoder) giveUpHole(key streamKey, s *stream) {
	if len(s.ooo) == 0 {
		return
	}
	lowest := s.ooo[0].seq
	for _, g := range s.ooo[1:] {
		if int32(g.seq-lowest) < 0 {
			lowest = g.seq
		}
	}
	missing := lowest - s.next
	d.Stats.StreamGaps++
	n := s.ooo[0].n
	if len(s.buf) > 0 {
		n = s.bufN
	}
	d.warnAt(n, ErrStreamGap, "%d bytes of TCP stream %s -> %s never captured; the SIP message they belong to is lost", missing, key.src, key.dst)
	if s.kind == kindTLS {
		s.tls.lostBytes += int(missing) // the records they held: tlsSeqWindow
	}
	s.buf = s.buf[:0]
	s.resync = true
	s.next = lowest
	// Messages now framed from held segments were complete when the last
	// of those segments arrived, not at the current packet.
	n, at := d.curN, d.curTime
	d.curN, d.curTime = 0, time.Time{}
	d.drainOOO(key, s)
	d.curN, d.curTime = n, at
}

// frame appends data, which came in packet own, to the stream and hands on
// every complete message. When nothing is buffered, messages are parsed
// straight from data. (d.curN is the packet a message is attributed to:
// the one that completed it, later than own for a held segment.)
func (d *Decoder) frame(key streamKey, s *stream, data []byte, own int) {
	d.frameFrom(key, s, data, own, nil)
}

// frameFrom is frame for data that came in the packets more as well as in
// own: a TLS record's plaintext.
func (d *Decoder) frameFrom(key streamKey, s *stream, data []byte, own int, more []int) {
	var view []byte
	if len(s.buf)+len(data) > maxStreamBuffer && len(s.buf) > 0 {
		d.warnAt(s.bufN, ErrMalformed, "TCP stream %s -> %s: no complete SIP message in %d bytes; skipping ahead", key.src, key.dst, len(s.buf))
		s.buf = s.buf[:0]
		s.resync = true
	}
	if len(s.buf) == 0 && (s.ws == nil || !s.ws.open) {
		s.parts = s.parts[:0]
	}
	if !slices.Contains(s.parts, own) {
		s.parts = append(s.parts, own)
	}
	for _, n := range more {
		if !slices.Contains(s.parts, n) {
			s.parts = append(s.parts, n)
		}
	}
	if len(s.buf) == 0 {
		view = data
		s.bufN = own
	} else {
		s.buf = append(s.buf, data...)
		view = s.buf
	}
	rest := d.frameMessages(key, s, view, own)
	switch {
	case len(rest) == 0:
		s.buf = s.buf[:0]
	case len(s.buf) == 0: // view was data: keep the tail
		s.buf = append(s.buf, rest...)
	default: // view was s.buf: shift the tail to the front
		s.buf = s.buf[:copy(s.buf, rest)]
	}
}

// frameMessages consumes complete messages from the front of b and returns
// what is left.
func (d *Decoder) frameMessages(key streamKey, s *stream, b []byte, own int) []byte {
	for {
		if s.resync && s.kind == kindTLS {
			// Records were lost: resume at the next one, its sequence
			// number searched for; what their plaintext began is lost too.
			i := nextTLSRecord(b)
			if i < 0 {
				keep := max(0, len(b)-4) // a header may have begun in the last 4 bytes
				s.tls.lostBytes += keep
				return b[keep:]
			}
			s.tls.lostBytes += i
			b = b[i:]
			s.resync, s.tls.lost = false, true
			if in := s.tls.inner; in.kind != kindUnknown {
				in.buf, in.resync = in.buf[:0], true
			}
		}
		if s.resync && s.kind == kindWS {
			s.ws.open, s.ws.histBad = false, true
			i := nextWSFrame(b)
			if i < 0 {
				// Keep the end: a frame header may have begun in it.
				return b[max(0, len(b)-wsPeek-wsMaxHeader):]
			}
			b = b[i:]
			s.resync = false
		}
		if s.resync {
			i := nextStartLine(b)
			if i < 0 {
				// Keep a partial last line: it may be the start of one.
				if j := bytes.LastIndexByte(b, '\n'); j >= 0 {
					b = b[j+1:]
				}
				return b
			}
			b = b[i:]
			s.resync = false
		}
		if s.kind == kindTLS {
			b = d.tlsRecords(key, s, b, own)
			if s.resync && s.kind == kindTLS {
				continue
			}
			return b
		}
		if s.kind == kindWS {
			b = d.wsFrames(key, s, b, own)
			if s.resync {
				continue
			}
			return b
		}
		b = trimCRLF(b) // keep-alives (RFC 5626 §3.5.1)
		if len(b) == 0 {
			return b
		}
		switch s.kind {
		case kindUnknown, kindOther:
			switch {
			case isHEP3(b):
				s.kind = kindHEP
			case LooksLikeSIP(b):
				s.kind = kindSIP
			case wsFrameCarriesSIP(b):
				s.kind, s.ws = kindWS, &wsState{histBad: true} // begun before the capture
			case upgradeStart(b):
				n, sip := wsUpgrade(b)
				switch {
				case sip:
					s.kind, s.ws = kindWS, &wsState{upgrade: slices.Clone(s.parts)}
					b = b[n:]
				case n == 0 && len(b) < maxWSHandshake:
					return b // the upgrade is not complete yet
				default:
					s.kind = kindOther
					return nil
				}
			case isClientHello(b) && s.outer == nil:
				if key.dst.Port() == SIPSPort {
					d.Stats.TLSConnections++
				}
				if d.startTLS(key, s, b) {
					continue
				}
				s.kind = kindOther
				return nil
			case isTLSHandshake(b) && s.outer == nil && d.startTLS(key, s, b):
				continue
			case bytes.IndexByte(b, '\n') < 0 && len(b) < 1024 && s.kind == kindUnknown:
				return b // the first line is not complete yet
			default:
				s.kind = kindOther
				return nil
			}
		case kindHEP:
			if len(b) < 6 {
				return b
			}
			total := int(binary.BigEndian.Uint16(b[4:6]))
			if !isHEP3(b) || total < 6 {
				d.warnf(ErrBadHeader, "HEP stream %s -> %s out of step", key.src, key.dst)
				s.kind = kindOther
				return nil
			}
			if len(b) < total {
				return b
			}
			d.hepPacket(b[:total])
			b = b[total:]
		case kindSIP:
			n, ok, err := FrameSIP(b)
			if err != nil {
				d.warnAt(s.bufN, ErrMalformed, "TCP stream %s -> %s: %v; skipping to the next message", key.src, key.dst, stripSentinel(err, ErrMalformed))
				s.resync = true
				// Past the line given up on: the next message starts at a
				// line of its own ("NVITE sip:..." after one byte would
				// look like one, and fail again).
				if j := bytes.IndexByte(b, '\n'); j >= 0 {
					b = b[j+1:]
				} else {
					b = b[len(b):]
				}
				continue
			}
			if !ok {
				return b
			}
			outer := d.parts // the IP fragments of this packet, if any
			if len(s.parts) > 1 {
				slices.Sort(s.parts) // in capture order, as Message.Parts says
				d.parts = s.parts
			}
			tr := TCP
			if s.outer != nil {
				tr, d.parts = TLS, d.tlsParts(s, s.parts)
			}
			d.sipMessage(key.src, key.dst, tr, d.curTime, b[:n], nil)
			d.parts = outer
			b = b[n:]
			s.bufN = own
			s.parts = append(s.parts[:0], own) // what follows began in this packet
		}
	}
}

// nextStartLine returns the offset of the first line in b that begins a SIP
// message, or -1.
func nextStartLine(b []byte) int {
	for i := 0; i < len(b); {
		if LooksLikeSIP(b[i:]) {
			return i
		}
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
	}
	return -1
}

func isHEP3(b []byte) bool { return len(b) >= 4 && string(b[:4]) == "HEP3" }

// SIPSPort is SIP over TLS's port (RFC 3261 §19.1.2).
const SIPSPort = 5061

// isClientHello reports whether b starts with a TLS handshake record
// (RFC 8446 §5.1: content type 22, legacy version 3.x) holding a
// ClientHello (handshake type 1): a client opening TLS.
func isClientHello(b []byte) bool {
	return len(b) >= 6 && b[0] == 0x16 && b[1] == 0x03 && b[5] == 0x01
}

// closeStream ends a stream after FIN or RST, or when it expires.
func (d *Decoder) closeStream(key streamKey, s *stream, why string) {
	if s == nil {
		return
	}
	if len(s.ooo) > 0 {
		d.giveUpHole(key, s)
	}
	d.endFraming(key, s, why)
	if s.kind == kindTLS {
		d.endFraming(key, s.tls.inner, why)
		d.tlsEnd(key, s)
	}
	d.tcp.remove(s)
}

// endFraming warns of a message that s's end leaves incomplete.
func (d *Decoder) endFraming(key streamKey, s *stream, why string) {
	if len(s.buf) > 0 && s.kind == kindSIP && len(trimCRLF(s.buf)) > 0 {
		d.warnAt(s.bufN, ErrTruncatedPacket, "TCP stream %s -> %s %s with an incomplete SIP message (%d bytes)", key.src, key.dst, why, len(s.buf))
	}
	if s.kind == kindWS && !s.resync && (len(s.buf) > 0 || s.ws.open) {
		n := len(s.buf)
		if s.ws.open {
			n += len(s.ws.msg)
		}
		d.warnAt(s.bufN, ErrTruncatedPacket, "WebSocket stream %s -> %s %s with an incomplete message (%d bytes)", key.src, key.dst, why, n)
	}
}

// expire closes streams silent since before cutoff and gives up on holes
// open too long, in the order of before.
func (t *streamTable) expire(d *Decoder, cutoff time.Time) {
	var due []*stream
	// The streams silent since before cutoff: the top of the heap.
	var idle func(i int)
	idle = func(i int) {
		if i < len(t.byLast) && t.byLast[i].last.Before(cutoff) {
			due = append(due, t.byLast[i])
			idle(2*i + 1)
			idle(2*i + 2)
		}
	}
	idle(0)
	// The streams holding segments after a hole, the list pruned of the rest.
	kept := t.holed[:0]
	for _, s := range t.holed {
		if s.hi < 0 || len(s.ooo) == 0 {
			s.holed = false
			continue
		}
		kept = append(kept, s)
		if !s.last.Before(cutoff) {
			due = append(due, s)
		}
	}
	clear(t.holed[len(kept):])
	t.holed = kept
	if len(due) == 0 {
		return
	}
	slices.SortFunc(due, byBefore)
	for _, s := range due {
		if s.last.Before(cutoff) {
			d.closeStream(s.key, s, "went idle")
		} else {
			d.checkHole(s.key, s)
		}
	}
}

func byBefore(a, b *stream) int {
	switch {
	case a.before(b):
		return -1
	case b.before(a):
		return 1
	}
	return 0
}

func (t *streamTable) flushAll(d *Decoder) {
	all := slices.Clone(t.byLast)
	slices.SortFunc(all, byBefore)
	for _, s := range all {
		d.closeStream(s.key, s, "ended with the capture")
	}
}

// evictOldest closes the stream silent longest.
func (t *streamTable) evictOldest(d *Decoder) {
	if len(t.byLast) > 0 {
		s := t.byLast[0]
		d.closeStream(s.key, s, "dropped (too many open streams)")
	}
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
