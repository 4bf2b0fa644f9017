package media

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/sipflow/sipflow/decode"
)

// ErrTooManyStreams is returned by Table.AddRTP when a packet would start a
// stream beyond the Table's limit.
var ErrTooManyStreams = errors.New("too many RTP streams")

// DefaultMaxStreams is the number of streams a new Table accepts.
const DefaultMaxStreams = 1 << 17

// Table is a set of RTP streams keyed by StreamKey. It parses the packets
// itself, reusing one decode.RTP and one decode.RTCP, so a packet of a known
// stream allocates nothing. It belongs to one goroutine.
type Table struct {
	streams map[fastKey]*Stream
	zoned   map[StreamKey]*Stream // streams with an IPv6 zone, see fastKey
	order   []*Stream
	bySSRC  map[uint32]*Stream // newest stream of each SSRC; older ones chained by Stream.sameSSRC
	last    *Stream
	names   PayloadNames
	limit   int

	rtp     decode.RTP
	rtcp    decode.RTCP
	targets []*Stream

	faxes []*Stream     // T.38 streams (AddUDPTL), by 5-tuple: a call has few
	udptl *decode.UDPTL // made by the first AddUDPTL: most tables never see one
}

// NewTable returns an empty Table that accepts DefaultMaxStreams streams.
func NewTable() *Table {
	return &Table{
		streams: make(map[fastKey]*Stream),
		bySSRC:  make(map[uint32]*Stream),
		limit:   DefaultMaxStreams,
	}
}

// SetPayloadNames sets the function that names dynamic payload types from
// the signalling, for streams created from now on.
func (t *Table) SetPayloadNames(f PayloadNames) { t.names = f }

// SetLimit changes how many streams the Table accepts (at least 1).
func (t *Table) SetLimit(n int) { t.limit = max(1, n) }

// Len returns the number of streams.
func (t *Table) Len() int { return len(t.order) }

// Stream returns the stream with key k, or nil.
func (t *Table) Stream(k StreamKey) *Stream { return t.lookup(k.Src, k.Dst, k.SSRC) }

func (t *Table) lookup(src, dst netip.AddrPort, ssrc uint32) *Stream {
	if src.Addr().Zone() != "" || dst.Addr().Zone() != "" {
		return t.zoned[StreamKey{src, dst, ssrc}]
	}
	return t.streams[newFastKey(src, dst, ssrc)]
}

func (t *Table) add(k StreamKey) *Stream {
	s := NewStream(k)
	s.names = t.names
	if k.Src.Addr().Zone() != "" || k.Dst.Addr().Zone() != "" {
		if t.zoned == nil {
			t.zoned = make(map[StreamKey]*Stream)
		}
		t.zoned[k] = s
	} else {
		t.streams[newFastKey(k.Src, k.Dst, k.SSRC)] = s
	}
	t.order = append(t.order, s)
	s.sameSSRC = t.bySSRC[k.SSRC]
	t.bySSRC[k.SSRC] = s
	return s
}

// fastKey is a StreamKey without IPv6 zones flattened to 44 bytes without
// pointers, which the map hashes in one pass; a netip.Addr holds a zone
// handle and takes a hash call per field. Zoned addresses (link-local
// IPv6, rare in captures) go to a map keyed by StreamKey instead.
type fastKey struct {
	src, dst     [16]byte
	sport, dport uint16
	ssrc         uint32
	v4           uint8 // bit 0: src is IPv4, bit 1: dst is IPv4 (not v4-mapped IPv6)
}

func newFastKey(src, dst netip.AddrPort, ssrc uint32) fastKey {
	k := fastKey{src: src.Addr().As16(), dst: dst.Addr().As16(), sport: src.Port(), dport: dst.Port(), ssrc: ssrc}
	if src.Addr().Is4() {
		k.v4 |= 1
	}
	if dst.Addr().Is4() {
		k.v4 |= 2
	}
	return k
}

// AddRTP adds the UDP payload of packet n, sent from src to dst at at, and
// returns the stream it went to. An RTCP packet multiplexed on the RTP port
// (RFC 5761) is handed to AddRTCP and nil is returned, as for a payload
// that is not RTP (the error then wraps decode.ErrBadRTP) or one that would
// exceed the stream limit (ErrTooManyStreams).
//
// Whether the payload is RTP at all is the caller's call: from the SDP, or
// from a Heuristic.
func (t *Table) AddRTP(n int, at time.Time, src, dst netip.AddrPort, payload []byte) (*Stream, error) {
	if decode.LooksLikeRTCP(payload) {
		return nil, t.AddRTCP(n, at, src, dst, payload)
	}
	if err := decode.ParseRTP(payload, &t.rtp); err != nil {
		return nil, err
	}
	return t.AddParsed(n, at, src, dst, &t.rtp)
}

// AddParsed is AddRTP for a packet the caller has parsed already (and
// told from RTCP). p is not kept.
func (t *Table) AddParsed(n int, at time.Time, src, dst netip.AddrPort, p *decode.RTP) (*Stream, error) {
	s := t.last
	if s == nil || s.Key.SSRC != p.SSRC || s.Key.Src != src || s.Key.Dst != dst {
		s = t.lookup(src, dst, p.SSRC)
		if s == nil {
			if len(t.order) >= t.limit {
				return nil, fmt.Errorf("%w: the limit is %d; packet %d from %v to %v, SSRC %#08x", ErrTooManyStreams, t.limit, n, src, dst, p.SSRC)
			}
			s = t.add(StreamKey{Src: src, Dst: dst, SSRC: p.SSRC})
		}
		t.last = s
	}
	s.AddRTP(n, at, p)
	return s, nil
}

// AddRTCP adds a compound RTCP packet. Each sender report goes to the
// stream its SSRC sends, each report block to the stream it is about. RTCP
// travels on its own port, so streams are found by SSRC; when several
// streams share one (a B2BUA relaying it), the one sent from the RTCP
// packet's address is taken for a sender report and the one received there
// for a report block, else the newest. RTCP about streams not seen yet is
// dropped. A damaged compound is used up to the damage and the error
// returned wraps decode.ErrBadRTCP.
func (t *Table) AddRTCP(n int, at time.Time, src, dst netip.AddrPort, payload []byte) error {
	err := decode.ParseRTCP(payload, &t.rtcp)
	for i := range t.rtcp.Packets {
		pk := &t.rtcp.Packets[i]
		if pk.Type != decode.RTCPTypeSR && pk.Type != decode.RTCPTypeRR {
			continue
		}
		t.targets = t.targets[:0]
		if pk.Type == decode.RTCPTypeSR {
			t.addTarget(t.find(pk.SSRC, src.Addr(), true))
		}
		for j := range pk.Reports {
			t.addTarget(t.find(pk.Reports[j].SSRC, src.Addr(), false))
		}
		for _, s := range t.targets {
			s.AddRTCP(n, at, pk)
		}
	}
	return err
}

func (t *Table) addTarget(s *Stream) {
	if s != nil && !slices.Contains(t.targets, s) {
		t.targets = append(t.targets, s)
	}
}

// find returns the stream with ssrc sent from (sender) or to (!sender)
// addr, else the newest stream with ssrc, else nil.
func (t *Table) find(ssrc uint32, addr netip.Addr, sender bool) *Stream {
	newest := t.bySSRC[ssrc]
	for s := newest; s != nil; s = s.sameSSRC {
		if sender && s.Key.Src.Addr() == addr || !sender && s.Key.Dst.Addr() == addr {
			return s
		}
	}
	return newest
}

// Streams returns the streams in the order of their first packet. The
// slice is the caller's; the streams are shared with the Table.
func (t *Table) Streams() []*Stream { return slices.Clone(t.order) }

// Finish calls Finish on every stream.
func (t *Table) Finish() {
	for _, s := range t.order {
		s.Finish()
	}
}
