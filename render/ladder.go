package render

import (
	"cmp"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/media"
)

// Options say how a call becomes a Ladder.
type Options struct {
	// ByPort makes one participant per address and port instead of one per
	// IP address (then ports are in the column headers, not on the arrows).
	ByPort bool
	// Aliases name participants: the key is an IP address ("10.0.0.5") or,
	// taking precedence, an address and port ("10.0.0.5:5060"). The name
	// replaces the User-Agent or Server name as the column's label.
	Aliases map[string]string
	// Text copies each message's full text (correlate.Options.KeepRaw) into
	// Row.Text: for --full, HTML, and JSON that carries the messages.
	Text bool
}

// Ladder is the layout model of one call's ladder diagram: the columns, the
// rows in capture order, the notes under rows and the findings. It is
// independent of the output medium and holds the capture's strings as they
// were (untrusted): each renderer escapes them for its medium.
//
// Rows are messages and RTP streams in packet order; a Note and a Finding
// point at a row by its index. Participants, Rows and Notes are what every
// renderer draws; the call's summary fields are for titles.
type Ladder struct {
	CallID string    `json:"call_id"`
	Kind   string    `json:"kind"`
	State  string    `json:"state"`
	Start  time.Time `json:"start"`
	From   string    `json:"from"`
	// FromDisplay is the display name of the first request's From.
	FromDisplay string `json:"from_display,omitempty"`
	To          string `json:"to"`
	// ToDisplay is the display name of the first request's To.
	ToDisplay string `json:"to_display,omitempty"`
	Flow      string `json:"flow,omitempty"`
	Deviation string `json:"deviation,omitempty"`
	// FinalStatus is the final response to the initial request (0: none);
	// PDD and Duration are as in correlate.Call, −1 when unknown.
	FinalStatus int           `json:"final_status"`
	PDD         time.Duration `json:"pdd_ns"`
	Duration    time.Duration `json:"duration_ns"`
	Messages    int           `json:"messages"` // retransmissions not counted
	// Legs are the Call-IDs of the call's legs, the first being CallID.
	// Rows say which leg they belong to by index.
	Legs         []string      `json:"legs"`
	Participants []Participant `json:"participants"`
	Rows         []Row         `json:"rows"`
	Notes        []Note        `json:"notes"`
	Findings     []Finding     `json:"findings"`
	ByPort       bool          `json:"by_port"`
}

// Participant is one column: an IP address, or an address and port with
// Options.ByPort.
type Participant struct {
	// ID is the address ("10.0.0.1", "[2001:db8::1]:5060" with ByPort) the
	// column stands for.
	ID string `json:"id"`
	// Alias is the name given with Options.Aliases, Agent the first
	// User-Agent or Server header the participant sent.
	Alias string `json:"alias,omitempty"`
	Agent string `json:"agent,omitempty"`
}

// Name is what labels the column besides its address: the alias, else the
// agent, else "".
func (p *Participant) Name() string {
	if p.Alias != "" {
		return p.Alias
	}
	return p.Agent
}

// Row kinds.
const (
	RowMessage = "message" // a SIP message
	RowStream  = "rtp"     // an RTP stream, at its first packet
)

// Row is one arrow: a SIP message, or an RTP stream between its two media
// endpoints.
type Row struct {
	Kind string    `json:"kind"`
	N    int       `json:"n"` // packet number (a stream's first packet)
	Time time.Time `json:"time"`
	// Offset is the time since the ladder's first message, Delta the time
	// since the previous message (0 for the first, and for streams).
	Offset time.Duration `json:"offset_ns"`
	Delta  time.Duration `json:"delta_ns"`
	From   int           `json:"from"` // index into Participants
	To     int           `json:"to"`
	Src    string        `json:"src"` // address:port
	Dst    string        `json:"dst"`
	// Label is the method, "status reason", or for a stream "RTP codec".
	Label          string `json:"label"`
	Transport      string `json:"transport,omitempty"`
	Method         string `json:"method,omitempty"`
	RequestURI     string `json:"request_uri,omitempty"`
	Status         int    `json:"status,omitempty"`
	CSeq           uint32 `json:"cseq,omitempty"`
	CSeqMethod     string `json:"cseq_method,omitempty"`
	Leg            int    `json:"leg"`
	Retransmission bool   `json:"retransmission,omitempty"`
	HasSDP         bool   `json:"sdp,omitempty"`
	// Text is the message's full text when Options.Text was set and the
	// call kept it.
	Text   string      `json:"text,omitempty"`
	Stream *StreamInfo `json:"stream,omitempty"`

	sdp string // SDP summary, made a Note by Build
}

// Class is a response's class (1 to 6), 0 for a request or a stream.
func (r *Row) Class() int {
	if r.Status <= 0 {
		return 0
	}
	return r.Status / 100
}

// IsRequest reports whether the row is a SIP request.
func (r *Row) IsRequest() bool { return r.Kind == RowMessage && r.Status == 0 }

// CSeqText is "1 INVITE", or "" for a stream.
func (r *Row) CSeqText() string {
	if r.Kind != RowMessage {
		return ""
	}
	return strconv.FormatUint(uint64(r.CSeq), 10) + " " + r.CSeqMethod
}

// StreamInfo is what a stream row shows: media.Stream's measures.
type StreamInfo struct {
	SSRC       uint32        `json:"ssrc"`
	Codec      string        `json:"codec"`
	Packets    int           `json:"packets"`
	Expected   int           `json:"expected"`
	Lost       int           `json:"lost"`
	LostPct    float64       `json:"lost_pct"`
	JitterMean float64       `json:"jitter_mean_ms"`
	JitterMax  float64       `json:"jitter_max_ms"`
	MaxDelta   time.Duration `json:"max_delta_ns"`
	MOS        float64       `json:"mos"`
	Duration   time.Duration `json:"duration_ns"`
	// Series is the stream second by second (media.Stream.Series), for
	// the report's plot; not in the JSON layout.
	Series []media.Sample `json:"-"`
	// Fax is set for a T.38 stream (UDPTL), whose SSRC is 0 and whose
	// jitter and MOS mean nothing.
	Fax *FaxInfo `json:"fax,omitempty"`
}

// FaxInfo is what a T.38 stream row adds: the loss its redundancy made
// good, and the T.30 frames it carried.
type FaxInfo struct {
	Recovered   int      `json:"recovered"`
	Unrecovered int      `json:"unrecovered"`
	T30         []string `json:"t30"` // frame names in order ("DIS", "DCS", ...; "FCF 0x.." for unknown ones)

	unrecoveredPct float64 // media.Stream.UnrecoveredPct, for the report's plot
}

// Summary is the stream's one-line measure: packets, loss, jitter, MOS.
func (s *StreamInfo) Summary() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(s.Packets))
	b.WriteString(" pkts")
	if s.Expected > 0 {
		b.WriteString(", lost ")
		b.WriteString(strconv.Itoa(s.Lost))
		b.WriteString(" (")
		b.WriteString(strconv.FormatFloat(s.LostPct, 'f', 1, 64))
		b.WriteString("%)")
	}
	if f := s.Fax; f != nil {
		if f.Recovered > 0 {
			b.WriteString(", ")
			b.WriteString(strconv.Itoa(f.Recovered))
			b.WriteString(" recovered")
		}
		if len(f.T30) > 0 {
			b.WriteString(", T.30 ")
			b.WriteString(media.JoinRuns(f.T30, 16))
		}
	}
	if s.JitterMax > 0 {
		b.WriteString(", jitter avg ")
		b.WriteString(strconv.FormatFloat(s.JitterMean, 'f', 1, 64))
		b.WriteString(" max ")
		b.WriteString(strconv.FormatFloat(s.JitterMax, 'f', 1, 64))
		b.WriteString(" ms")
	}
	if s.MOS > 0 {
		b.WriteString(", MOS ")
		b.WriteString(strconv.FormatFloat(s.MOS, 'f', 2, 64))
	}
	if s.Duration > 0 {
		b.WriteString(", ")
		b.WriteString(formatSeconds(s.Duration, 1))
		b.WriteString(" s")
	}
	return b.String()
}

// Note kinds.
const (
	NoteSDP   = "sdp"   // the SDP summary of a message: codecs, address:port, direction
	NoteEvent = "event" // hold, resume, t38, t38-end, transfer, transfer-result, replaces, replaced, dtmf
)

// Note is a line of text under a row.
type Note struct {
	Row  int    `json:"row"`
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// Finding is a correlate.Finding placed at the row of its first packet
// (Row −1 when that packet is not in the ladder).
type Finding struct {
	Row      int    `json:"row"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Packets  []int  `json:"packets"`
	Detail   string `json:"detail"`
	RFC      string `json:"rfc"`
}

// Build lays out the ladder of a call. It does not change the call. The
// rows are the call's messages (every leg, retransmissions included) and
// its RTP streams, ordered by packet number.
func Build(c *correlate.Call, opts Options) *Ladder {
	l := &Ladder{
		CallID: c.ID, Kind: string(c.Kind), State: string(c.State), Start: c.Start.UTC(),
		From: c.From, FromDisplay: c.FromDisplay, To: c.To, ToDisplay: c.ToDisplay, Flow: c.Flow, Deviation: c.Deviation, ByPort: opts.ByPort,
		FinalStatus: c.FinalStatus, PDD: c.PDD, Duration: c.Duration, Messages: c.NumMessages,
		Legs: make([]string, len(c.Legs)),
	}
	for i, leg := range c.Legs {
		l.Legs[i] = leg.CallID
	}
	if len(l.Legs) == 0 {
		l.Legs = []string{c.ID}
	}
	b := builder{l: l, opts: opts, index: map[string]int{}}
	msgs := c.Messages()
	if len(msgs) > 0 && c.Caller.IsValid() {
		// The caller on the left, even when a response to a request not
		// captured comes first.
		b.participant(c.Caller, "", false)
	}
	l.Rows = make([]Row, 0, len(msgs)+len(c.Streams))
	for _, m := range msgs {
		b.message(m)
	}
	for _, s := range c.Streams {
		b.stream(s)
	}
	if len(c.Streams) > 0 {
		sort.SliceStable(l.Rows, func(i, j int) bool { return l.Rows[i].N < l.Rows[j].N })
	}
	b.times()
	// Notes, in row order: the SDP of the message, then the call's events.
	rowOf := make(map[int]int, len(l.Rows)) // packet number → first row
	for i := range l.Rows {
		r := &l.Rows[i]
		if _, ok := rowOf[r.N]; !ok && r.Kind == RowMessage {
			rowOf[r.N] = i
		}
		if r.sdp != "" && !r.Retransmission {
			l.Notes = append(l.Notes, Note{Row: i, Kind: NoteSDP, Text: r.sdp})
		}
	}
	for _, e := range c.Events {
		row, ok := rowOf[e.N]
		if !ok {
			continue
		}
		text := e.Kind
		if d := eventNote(e.Detail, l.Rows[row].sdp); strings.HasPrefix(d, "by ") {
			text += " " + d // "hold by the caller"
		} else if d != "" {
			text += ": " + d
		}
		l.Notes = append(l.Notes, Note{Row: row, Kind: NoteEvent, Text: text})
	}
	sort.SliceStable(l.Notes, func(i, j int) bool { return l.Notes[i].Row < l.Notes[j].Row })
	l.Findings = make([]Finding, 0, len(c.Findings))
	for _, f := range c.Findings {
		row := -1
		if len(f.Packets) > 0 {
			if r, ok := rowOf[f.Packets[0]]; ok {
				row = r
			}
		}
		l.Findings = append(l.Findings, Finding{Row: row, Rule: f.Rule, Severity: f.Severity.String(),
			Packets: f.Packets, Detail: f.Detail, RFC: f.RFC})
	}
	if l.Notes == nil {
		l.Notes = []Note{}
	}
	return l
}

// eventNote returns an event's detail without the SDP summary of its
// row, which the ladder shows already.
func eventNote(detail, sdp string) string {
	switch {
	case sdp == "":
		return detail
	case detail == sdp:
		return ""
	}
	return strings.Replace(detail, ": "+sdp, "", 1)
}

type builder struct {
	l     *Ladder
	opts  Options
	index map[string]int // participant ID → index
}

// participant returns the column of an address, adding it when new. media
// is true for an RTP endpoint: with ByPort it joins a column of the same IP
// address rather than open one per media port.
func (b *builder) participant(ap netip.AddrPort, agent string, media bool) int {
	addr := ap.Addr().Unmap()
	id := addr.String()
	if b.opts.ByPort {
		id = netip.AddrPortFrom(addr, ap.Port()).String()
		if _, ok := b.index[id]; !ok && media {
			for i, p := range b.l.Participants {
				if pa, err := netip.ParseAddrPort(p.ID); err == nil && pa.Addr() == addr {
					return i
				}
			}
		}
	}
	i, ok := b.index[id]
	if !ok {
		i = len(b.l.Participants)
		b.index[id] = i
		p := Participant{ID: id, Alias: b.opts.Aliases[id]}
		if p.Alias == "" && b.opts.ByPort {
			p.Alias = b.opts.Aliases[addr.String()]
		}
		if p.Alias == "" && !b.opts.ByPort {
			// An alias for an address and port names its address's column.
			p.Alias = b.opts.Aliases[netip.AddrPortFrom(addr, ap.Port()).String()]
		}
		b.l.Participants = append(b.l.Participants, p)
	}
	if agent != "" && b.l.Participants[i].Agent == "" {
		b.l.Participants[i].Agent = agent
	}
	return i
}

func (b *builder) message(m *correlate.Message) {
	// The User-Agent (request) or Server (response) header names the sender.
	from := b.participant(m.Src, m.Agent, false)
	to := b.participant(m.Dst, "", false)
	r := Row{
		Kind: RowMessage, N: m.N, Time: m.Time.UTC(), From: from, To: to,
		Src: addrPort(m.Src), Dst: addrPort(m.Dst), Label: m.Label(),
		Transport: m.Transport.String(), Method: m.Method, RequestURI: m.RequestURI, Status: m.Status,
		CSeq: m.CSeq, CSeqMethod: m.CSeqMethod, Leg: m.Leg, Retransmission: m.Retransmission,
		HasSDP: m.HasSDP(),
	}
	if b.opts.Text {
		r.Text = string(m.Raw())
	}
	if sdp := m.SDP(); sdp != nil && len(sdp.Media) > 0 {
		r.sdp = sdp.Summary()
	}
	b.l.Rows = append(b.l.Rows, r)
}

func (b *builder) stream(s *media.Stream) {
	from := b.participant(s.Key.Src, "", true)
	to := b.participant(s.Key.Dst, "", true)
	codec := s.Codec
	if codec == "" {
		codec = "PT " + strconv.Itoa(int(s.PayloadType))
	}
	info := &StreamInfo{
		SSRC: s.Key.SSRC, Codec: codec, Packets: s.Packets, Expected: s.Expected, Lost: s.Lost,
		LostPct: s.LostPct, JitterMean: s.JitterMean, JitterMax: s.JitterMax, MaxDelta: s.MaxDelta,
		MOS: s.MOS, Duration: s.Last.Sub(s.First), Series: s.Series,
	}
	label := "RTP " + codec
	if f := s.Fax; f != nil {
		label = "T.38 UDPTL"
		info.Fax = &FaxInfo{Recovered: f.Recovered, Unrecovered: f.Unrecovered, T30: f.FrameLabels(), unrecoveredPct: s.UnrecoveredPct()}
	}
	b.l.Rows = append(b.l.Rows, Row{
		Kind: RowStream, N: s.FirstN, Time: s.First.UTC(), From: from, To: to,
		Src: addrPort(s.Key.Src), Dst: addrPort(s.Key.Dst), Label: label, Transport: "udp",
		Stream: info,
	})
}

// times sets Offset (since the first message) and Delta (since the
// previous message) of every row.
func (b *builder) times() {
	var first, prev time.Time
	for i := range b.l.Rows {
		r := &b.l.Rows[i]
		if r.Kind != RowMessage {
			continue
		}
		if first.IsZero() {
			first, prev = r.Time, r.Time
		}
		r.Delta = r.Time.Sub(prev)
		prev = r.Time
	}
	if first.IsZero() && len(b.l.Rows) > 0 {
		first = b.l.Rows[0].Time
	}
	for i := range b.l.Rows {
		b.l.Rows[i].Offset = b.l.Rows[i].Time.Sub(first)
	}
}

func addrPort(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return ""
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
}

// Caller is the From of the call for a title: "Alice <sip:alice@x>", or
// the URI alone when there is no display name.
func (l *Ladder) Caller() string { return nameAddr(l.FromDisplay, l.From) }

// Callee is the To of the call for a title, as Caller is the From.
func (l *Ladder) Callee() string { return nameAddr(l.ToDisplay, l.To) }

// nameAddr is "display <uri>", or uri when there is no display name.
func nameAddr(display, uri string) string {
	if display == "" {
		return uri
	}
	return strings.Trim(display, `"`) + " <" + uri + ">"
}

// formatSeconds formats d in seconds with the given number of decimals
// ("2.516"), the way ladders show times.
func formatSeconds(d time.Duration, decimals int) string {
	return strconv.FormatFloat(d.Seconds(), 'f', decimals, 64)
}

// portOf is the port of an "address:port" string, "" if none.
func portOf(addrPort string) string {
	if i := strings.LastIndexByte(addrPort, ':'); i >= 0 && !strings.HasSuffix(addrPort, "]") {
		if strings.Count(addrPort, ":") > 1 && !strings.HasPrefix(addrPort, "[") {
			return "" // a bare IPv6 address
		}
		return addrPort[i+1:]
	}
	return ""
}

// NumMessages counts the message rows, retransmissions included.
func (l *Ladder) NumMessages() int {
	n := 0
	for i := range l.Rows {
		if l.Rows[i].Kind == RowMessage {
			n++
		}
	}
	return n
}

// findingsByRow returns the ladder's findings in the order of their rows,
// in their own order within one, for a renderer to take as it goes down
// the rows: a pass over them all for every row would make the ladder of a
// long call with many findings quadratic.
func (l *Ladder) findingsByRow() []Finding {
	fs := slices.Clone(l.Findings)
	slices.SortStableFunc(fs, func(a, b Finding) int { return cmp.Compare(a.Row, b.Row) })
	return fs
}
