package main

import (
	"bufio"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/internal/jsonw"
	"github.com/sipflow/sipflow/media"
	"github.com/sipflow/sipflow/render"
)

type rtpOptions struct {
	*globalOptions
	correlateOptions
	filter callFilter
	src    callSource // --db: the streams of an archive's calls
	json   bool
}

func newRTPCmd(g *globalOptions) *cobra.Command {
	o := &rtpOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "rtp [FILE]",
		Short: "List the RTP streams of a capture with loss, jitter and voice quality",
		Long: `List every RTP stream tied to a call by its SDP (offer, answer, re-INVITE,
UPDATE, hold), with the call it belongs to: codec, packets, expected, lost
(count and percent), duplicates, out-of-order, sequence resets, the largest
gap between packets, jitter (RFC 3550 §A.8, mean and max), what the far end
reported in RTCP, RFC 4733 DTMF digits, and an estimated MOS (ITU-T G.107
E-model, simplified: see the README for what it assumes).

--rtp-heuristic also lists RTP that no SDP announced, with no call.

With --db, the streams come from an archive made by 'sipflow archive', as
its import measured them (--capture narrows them to one imported capture);
the output is the same as from the capture itself. The archive keeps the
streams of calls only, so --rtp-heuristic cannot be used with --db.

With --json, one object per stream (NDJSON) with call_id, src, dst, ssrc,
codec, packets, expected, lost, lost_pct, duplicates, out_of_order,
seq_resets, max_delta_ms, jitter_mean_ms, jitter_max_ms, mos, r_factor,
dtmf, first, last, and far_lost_pct, far_jitter_ms when RTCP said.`,
		Example: `  sipflow rtp testdata/call_rtp.pcap
  sipflow rtp --json --rtp-heuristic trace.pcapng | jq 'select(.lost_pct > 1)'
  sipflow rtp --db calls.db --from alice`,
		Args: func(cmd *cobra.Command, args []string) error { return o.src.args(cmd, args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(o.src.file(args))
		},
	}
	o.correlateOptions.addFlags(cmd)
	o.filter.addFlags(cmd)
	o.src.addFlags(cmd)
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object per stream (NDJSON)")
	return cmd
}

// streamRow is a stream and the call it belongs to ("" for none).
type streamRow struct {
	callID string
	seq    int // the call's Seq; orphans after every call
	s      *media.Stream
}

func (o *rtpOptions) run(file string) error {
	if o.noRTP {
		return usageError("rtp: --no-rtp leaves nothing to list")
	}
	if o.rtpHeuristic && o.src.db.given() {
		return usageError("rtp: --rtp-heuristic finds streams of no call, and the archive keeps only the streams of calls: run it on the capture")
	}
	if err := o.filter.validate(); err != nil {
		return err
	}
	copts, err := o.correlateOptions.options(false)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(o.Out, 64<<10)
	defer w.Flush()
	var rows []streamRow
	var obj jsonw.Object
	emit := func(r streamRow) {
		if o.json {
			streamJSON(&obj, r.callID, r.s, true)
			w.Write(obj.B)
			return
		}
		rows = append(rows, r)
	}
	var orphans []*media.Stream
	onOrphans := func(ss []*media.Stream) { orphans = ss }
	if o.src.db.given() {
		onOrphans = nil
	}
	_, err = o.src.analyzeMedia(o.globalOptions, file, copts, &o.filter, func(c *correlate.Call) {
		if !o.filter.match(c) {
			return
		}
		for _, s := range c.Streams {
			emit(streamRow{callID: c.ID, seq: c.Seq, s: s})
		}
	}, onOrphans)
	if readFailed(err) {
		return err
	}
	for _, s := range orphans {
		emit(streamRow{seq: math.MaxInt, s: s})
	}
	if !o.json {
		// In the order the calls started, even when some came late from a
		// capture (callOrder); from the archive they come in it (and Seq is
		// per capture).
		if !o.src.db.given() {
			backInStartOrder(rows, func(r streamRow) int { return r.seq })
		}
		writeStreamTable(w, o.renderer(o.Out), rows)
	}
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = &exitError{code: exitUsage, err: ferr}
	}
	return err
}

// analyzeMedia is analyze that also hands over, at the end of a capture,
// the streams of no call (with --rtp-heuristic; onOrphans may be nil).
func (s *callSource) analyzeMedia(g *globalOptions, file string, opts correlate.Options, f *callFilter, onCall func(*correlate.Call), onOrphans func([]*media.Stream)) (*correlate.Stats, error) {
	if onOrphans != nil {
		opts.OnFlush = func(c *correlate.Correlator) { onOrphans(c.Orphans()) }
	}
	return s.analyze(g, file, opts, f, false, onCall)
}

// streamJSON writes one stream; with withCall, its call_id first.
func streamJSON(o *jsonw.Object, callID string, s *media.Stream, withCall bool) {
	o.Begin()
	if withCall {
		if callID == "" {
			o.Null("call_id")
		} else {
			o.String("call_id", callID)
		}
	}
	o.AddrPort("src", s.Key.Src)
	o.AddrPort("dst", s.Key.Dst)
	if s.Fax != nil {
		o.Null("ssrc") // T.38 has none
	} else {
		o.String("ssrc", fmt.Sprintf("0x%08x", s.Key.SSRC))
	}
	o.String("codec", s.Codec)
	if s.Fax != nil { // T.38: no payload type, jitter or gap
		o.Null("payload_type")
	} else {
		o.Int("payload_type", int64(s.PayloadType))
	}
	o.Int("packets", int64(s.Packets))
	o.Int("expected", int64(s.Expected))
	o.Int("lost", int64(s.Lost))
	o.Raw("lost_pct", fixed(s.LostPct, 2))
	o.Int("duplicates", int64(s.Duplicates))
	o.Int("out_of_order", int64(s.OutOfOrder))
	o.Int("seq_resets", int64(s.SeqResets))
	if s.Malformed > 0 { // present only then, as far_lost_pct
		o.Int("malformed", int64(s.Malformed))
		o.Int("malformed_first_n", int64(s.MalformedN))
	}
	if s.Fax != nil {
		o.Null("max_delta_ms")
		o.Null("jitter_mean_ms")
		o.Null("jitter_max_ms")
	} else {
		o.Raw("max_delta_ms", fixed(float64(s.MaxDelta)/float64(time.Millisecond), 3))
		o.Raw("jitter_mean_ms", fixed(s.JitterMean, 3))
		o.Raw("jitter_max_ms", fixed(s.JitterMax, 3))
	}
	if s.MOS > 0 {
		o.Raw("mos", fixed(s.MOS, 2))
		o.Raw("r_factor", fixed(s.RFactor, 1))
	} else {
		o.Null("mos")
		o.Null("r_factor")
	}
	o.Raw("dtmf", jsonArray(len(s.Events), func(i int, eo *jsonw.Object) {
		e := &s.Events[i]
		eo.String("digit", string(rune(e.Digit)))
		eo.Time("ts", e.Start)
		eo.Int("duration_ms", e.Duration.Milliseconds())
		eo.Int("n", int64(e.N))
	}))
	o.Time("first", s.First)
	o.Time("last", s.Last)
	o.Int("first_n", int64(s.FirstN))
	o.Int("last_n", int64(s.LastN))
	if s.ReportsSeen > 0 {
		o.Raw("far_lost_pct", fixed(s.FarLostPct, 2))
		o.Raw("far_jitter_ms", fixed(s.FarJitterMs, 3))
	}
	if f := s.Fax; f != nil {
		o.Raw("fax", faxJSON(f))
	}
	o.End()
}

// faxJSON is a T.38 stream's "fax" object: its version, the loss its
// redundancy made good and what it did not, its signals and T.30 frames.
func faxJSON(f *media.Fax) []byte {
	var o jsonw.Object
	o.Begin()
	o.Int("t38_version", int64(f.Version))
	o.Int("recovered", int64(f.Recovered))
	o.Int("unrecovered", int64(f.Unrecovered))
	o.Int("unread", int64(f.Unread))
	o.Bool("fec", f.FEC)
	o.Int("bad_ifp", int64(f.BadIFP))
	o.Int("page_bytes", int64(f.PageBytes))
	o.Raw("signals", jsonArray(len(f.Signals), func(i int, so *jsonw.Object) {
		x := &f.Signals[i]
		so.Int("n", int64(x.N))
		so.Time("ts", x.At)
		so.String("name", x.Name)
	}))
	o.Raw("t30", jsonArray(len(f.Frames), func(i int, fo *jsonw.Object) {
		x := &f.Frames[i]
		fo.Int("n", int64(x.N))
		fo.Time("ts", x.At)
		if x.Name == "" {
			fo.Null("name")
		} else {
			fo.String("name", x.Name)
		}
		fo.String("fcf", fmt.Sprintf("0x%02x", x.FCF))
		fo.Int("len", int64(x.Len))
		fo.Bool("fcs_bad", x.FCSBad)
	}))
	o.Int("dropped", int64(f.Dropped))
	return append(o.B, '}') // End would add a newline
}

// jsonArray is a JSON array of n objects, item writing the i'th's fields.
func jsonArray(n int, item func(i int, o *jsonw.Object)) []byte {
	b := []byte{'['}
	var o jsonw.Object
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		o.Begin()
		item(i, &o)
		b = append(b, o.B...)
		b = append(b, '}')
	}
	return append(b, ']')
}

// fixed formats f with prec decimals as a JSON number (NaN and Inf as 0).
func fixed(f float64, prec int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	return strconv.AppendFloat(nil, f, 'f', prec, 64)
}

func dtmfDigits(s *media.Stream) string {
	b := make([]byte, 0, len(s.Events))
	for _, e := range s.Events {
		b = append(b, e.Digit)
	}
	return string(b)
}

// codecMax is the width of the codec column at most: a codec's name comes
// from the SDP (a=rtpmap), and one of thousands of bytes would widen every
// line of the table.
const codecMax = 20

// codecCell is a codec's name for the table, cut at codecMax columns.
func codecCell(codec string) string {
	return ansi.Truncate(render.SanitizeString(codec), codecMax, "…")
}

func writeStreamTable(w *bufio.Writer, r *lipgloss.Renderer, rows []streamRow) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "no RTP streams")
		return
	}
	headers := []string{"CALL-ID", "SRC", "DST", "SSRC", "CODEC", "PKTS", "LOST", "JITTER MS", "MAX GAP", "MOS", "DTMF/T.30"}
	bad := r.NewStyle().Padding(0, 1).Foreground(lipgloss.Color("9"))
	t := &textTable{headers: headers, rows: len(rows),
		cells: func(i int, dst []string) []string {
			row := rows[i]
			s := row.s
			id := "-"
			if row.callID != "" {
				id = render.SanitizeString(string(shortID([]byte(row.callID))))
			}
			mos := ""
			if s.MOS > 0 {
				mos = strconv.FormatFloat(s.MOS, 'f', 2, 64)
			}
			if s.Fax != nil { // T.38: no SSRC, jitter or gap; its T.30 frames
				lost := fmt.Sprintf("%d (%.1f%%)", s.Lost, s.LostPct)
				if s.Fax.Recovered > 0 {
					lost += fmt.Sprintf(", %d recovered", s.Fax.Recovered) // as the ladder says it
				}
				return append(dst,
					id, addrPort(s.Key.Src), addrPort(s.Key.Dst), "-",
					codecCell(s.Codec), strconv.Itoa(s.Packets),
					lost, "-", "-", "", strings.Join(s.Fax.FrameLabels(), " "))
			}
			return append(dst,
				id, addrPort(s.Key.Src), addrPort(s.Key.Dst), fmt.Sprintf("0x%08x", s.Key.SSRC),
				codecCell(s.Codec), strconv.Itoa(s.Packets),
				lostCell(s),
				fmt.Sprintf("%.1f / %.1f", s.JitterMean, s.JitterMax),
				fmtDur(s.MaxDelta), mos, dtmfDigits(s))
		},
		style: func(row, col int) *lipgloss.Style {
			s := rows[row].s
			lostPct := s.LostPct
			if s.Fax != nil {
				lostPct = s.UnrecoveredPct() // red for what was lost for good
			}
			if col == 6 && lostPct > 1 || col == 7 && s.JitterMax > 30 {
				return &bad
			}
			return nil
		}}
	t.write(w, r)
}

// lostCell is an RTP stream's LOST cell: the count and the share, and how
// many of the stream's packets arrived malformed (media.Stream.Malformed:
// those whose header was unreadable count as lost, those whose padding
// count alone was wrong as received).
func lostCell(s *media.Stream) string {
	cell := fmt.Sprintf("%d (%.1f%%)", s.Lost, s.LostPct)
	if s.Malformed > 0 {
		cell += fmt.Sprintf(", %d malformed", s.Malformed)
	}
	return cell
}
