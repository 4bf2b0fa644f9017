package main

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/render"
)

// ladderOptions are the flags of every command that draws ladders.
type ladderOptions struct {
	by      string
	aliases []string
}

func (o *ladderOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.by, "by", "addr", "one column per IP address (addr) or per address and port (addr-port)")
	cmd.Flags().StringArrayVar(&o.aliases, "alias", nil, "name a participant: IP=NAME or IP:PORT=NAME (repeatable)")
}

// options checks the flags and returns the ladder layout options.
func (o *ladderOptions) options(text bool) (render.Options, error) {
	ro := render.Options{Text: text}
	switch o.by {
	case "addr", "ip", "":
	case "addr-port", "port":
		ro.ByPort = true
	default:
		return ro, usageError("--by must be addr or addr-port, not %q", o.by)
	}
	for _, a := range o.aliases {
		k, name, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return ro, usageError("--alias %q: want IP=NAME or IP:PORT=NAME", a)
		}
		if ap, err := netip.ParseAddrPort(k); err == nil {
			k = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
		} else if ip, err := netip.ParseAddr(k); err == nil {
			k = ip.Unmap().String()
		} else {
			return ro, usageError("--alias %q: %q is not an IP address or address:port", a, k)
		}
		if ro.Aliases == nil {
			ro.Aliases = map[string]string{}
		}
		ro.Aliases[k] = name
	}
	return ro, nil
}

type flowOptions struct {
	*globalOptions
	correlateOptions
	ladderOptions
	filter  callFilter
	call    string
	first   bool
	format  string
	output  string
	width   int
	ascii   bool
	full    bool
	message int
	src     callSource // --db: draw calls from an archive (check_db.go)
}

// Output formats of flow, and the file extensions that choose them.
var flowFormats = map[string]string{
	".txt": "text", ".text": "text", ".svg": "svg", ".html": "html", ".htm": "html",
	".mmd": "mermaid", ".mermaid": "mermaid", ".md": "markdown", ".json": "json", ".ndjson": "json",
}

func newFlowCmd(g *globalOptions) *cobra.Command {
	o := &flowOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "flow FILE",
		Short: "Draw the ladder diagram of a call: in the terminal, or as SVG, HTML, Mermaid or JSON",
		Long: `Draw the ladder (sequence) diagram of the calls of a capture: one column per
participant, one arrow per SIP message in capture order with its CSeq, the
time since the first message and since the previous one; under INVITEs, 200s
and re-INVITEs the SDP (codecs, media address, direction); retransmissions
dimmed and marked; the legs of a B2BUA call group each in its colour; the
findings of sipflow check at the message they concern; RTP streams, when
known, as a row between their endpoints.

Choose the call with --call ID (a Call-ID of any leg, or its start; ... or
… at the end, as 'sipflow calls' shortens it, is left out, and at the start
stands for anything before) or the filters of 'sipflow calls'; every
matching call is drawn, or only the first with --first. An -o FILE that
is the capture or the archive read is refused. Without --all, only INVITE
calls are drawn; naming a Call-ID draws any kind.

A participant is an IP address (ports are shown on the arrows); --by
addr-port makes one per address and port. Columns are labelled with the
User-Agent or Server header the participant sent, or --alias IP=NAME.
The ladder fits the terminal (--width overrides): with many participants,
lanes are narrowed and labels shortened, never wrapped. --ascii draws with
ASCII only, for tickets. --full prints every message's text after its arrow;
--message N prints packet N's message alone.

--format text (the default), svg (a standalone drawing), html (a
self-contained page: click a message to read it), mermaid (a
sequenceDiagram; several calls make Markdown with a diagram each), or json
(the layout model: participants, rows, notes, findings; one object per line).
-o FILE writes to FILE, its extension choosing the format when --format is
not given (.txt .svg .html .mmd .md .json).`,
		Example: `  sipflow flow testdata/call_rtp.pcap
  sipflow flow --call 1-24089@127.0.10.1 --ascii --width 80 trace.pcap
  sipflow flow --from alice --state failed --first --full trace.pcapng
  sipflow flow --alias 10.0.0.5=PBX --by addr-port -o call.svg trace.pcap
  sipflow flow --message 4 testdata/invite_no_ack.pcap`,
		Args: func(cmd *cobra.Command, args []string) error { return o.src.args(cmd, args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(o.src.file(args))
		},
	}
	o.correlateOptions.addFlags(cmd)
	o.src.addFlags(cmd)
	o.ladderOptions.addFlags(cmd)
	o.filter.addFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.call, "call", "", "draw the calls with this Call-ID "+callIDUsage)
	fl.BoolVar(&o.first, "first", false, "draw only the first matching call")
	fl.StringVar(&o.format, "format", "", "text, svg, html, mermaid or json (default: from -o's extension, else text)")
	fl.StringVarP(&o.output, "output", "o", "", "write to this file instead of standard output")
	fl.IntVar(&o.width, "width", 0, "width of the text ladder in columns (default: the terminal's, else 100)")
	fl.BoolVar(&o.ascii, "ascii", false, "draw with ASCII characters only (for pasting into tickets)")
	fl.BoolVar(&o.full, "full", false, "print each message's full text after its arrow")
	fl.IntVar(&o.message, "message", 0, "print only the message of this packet number, in full")
	return cmd
}

// resolveFormat returns the output format from --format and -o.
func (o *flowOptions) resolveFormat() (string, error) {
	f := strings.ToLower(o.format)
	if f == "" && o.output != "" && o.output != "-" {
		f = flowFormats[strings.ToLower(filepath.Ext(o.output))]
	}
	switch f {
	case "":
		return "text", nil
	case "text", "txt", "svg", "html", "mermaid", "markdown", "json":
		if f == "txt" {
			f = "text"
		}
		return f, nil
	case "mmd":
		return "mermaid", nil
	}
	return "", usageError("--format must be text, svg, html, mermaid or json, not %q", o.format)
}

func (o *flowOptions) run(file string) error {
	format, err := o.resolveFormat()
	if err != nil {
		return err
	}
	if o.message < 0 || o.width < 0 {
		return usageError("--message and --width must be positive")
	}
	if o.message > 0 && format != "text" {
		return usageError("--message prints text: leave out --format and -o's extension")
	}
	if err := o.filter.validate(); err != nil {
		return err
	}
	if o.call != "" || o.message > 0 {
		o.filter.all = true // a Call-ID or a packet names its call, whatever its kind
	}
	keepText := o.full || o.message > 0 || format == "html"
	ropts, err := o.ladderOptions.options(keepText)
	if err != nil {
		return err
	}
	copts, err := o.correlateOptions.options(keepText)
	if err != nil {
		return err
	}
	copts.KeepSDP = true
	if err := refuseOverwrite("-o", o.output, append([]readFile{{"the capture", file}}, archiveReads(o.src.dbPath())...)...); err != nil {
		return err
	}

	out := o.Out
	var outFile *outputFile
	if o.output != "" && o.output != "-" {
		if outFile, err = newOutputFile(o.output, o.program, 0o666); err != nil {
			return err
		}
		out = outFile
	}
	w := bufio.NewWriterSize(out, 64<<10)
	topts := render.TextOptions{Width: o.textWidth(out), ASCII: o.ascii, Full: o.full}
	if format == "text" {
		topts.Theme = render.NewTheme(o.renderer(out))
	}

	var ladders []*render.Ladder
	var report *render.Report
	matched, others := 0, map[correlate.Kind]int{}
	var found *render.Row
	var foundCall string
	var renderErr error
	emit := func(c *correlate.Call) {
		if o.call != "" && !parseCallID(o.call).match(c) {
			return
		}
		if !o.filter.match(c) {
			if o.filter.withAll(c) {
				others[c.Kind]++
			}
			return
		}
		if o.first && matched > 0 || renderErr != nil || found != nil {
			return
		}
		if o.message > 0 {
			for _, m := range c.Messages() {
				if m.N == o.message {
					l := render.Build(c, ropts)
					for i := range l.Rows {
						if l.Rows[i].N == o.message && l.Rows[i].Kind == render.RowMessage {
							found, foundCall = &l.Rows[i], l.Legs[l.Rows[i].Leg]
							return
						}
					}
				}
			}
			return
		}
		matched++
		l := render.Build(c, ropts)
		switch format {
		case "text":
			if matched > 1 {
				w.WriteString("\n")
			}
			renderErr = render.Text(w, l, topts)
		case "json":
			renderErr = render.JSON(w, l, false)
		case "html":
			if report == nil {
				_, title := o.src.name(file)
				report, renderErr = render.NewReport(w, render.ReportOptions{Title: title, List: !o.first && o.call == ""})
			}
			if renderErr == nil {
				renderErr = report.Add(l)
			}
		default:
			ladders = append(ladders, l)
		}
	}
	dbFilter := o.filter // the archive narrows its query by the Call-ID too
	if o.call != "" {
		dbFilter.callID = o.call
	}
	_, err = o.src.analyze(o.globalOptions, file, copts, &dbFilter, true, emit)
	nothing := o.message > 0 && found == nil || o.message == 0 && matched == 0
	if readFailed(err) || nothing && renderErr == nil { // nothing drawn: no file made, none emptied
		if outFile != nil {
			outFile.Discard()
		}
		name, _ := o.src.name(file)
		switch {
		case err != nil:
			return err
		case o.message > 0:
			return usageError("packet %d is not a SIP message of any call in %s", o.message, name)
		default:
			return usageError("%s", noMatch(name, others))
		}
	}
	if renderErr == nil {
		switch {
		case o.message > 0:
			if found != nil {
				renderErr = writeMessage(w, found, foundCall)
			}
		case format == "svg" && len(ladders) == 1:
			renderErr = render.SVG(w, ladders[0], render.SVGOptions{})
		case format == "svg" && len(ladders) > 1:
			renderErr = render.SVGs(w, ladders)
		case format == "mermaid" && len(ladders) == 1:
			renderErr = render.Mermaid(w, ladders[0])
		case format == "mermaid" || format == "markdown":
			renderErr = render.MermaidMarkdown(w, ladders)
		case report != nil:
			renderErr = report.Close()
		}
	}
	if ferr := w.Flush(); ferr != nil && renderErr == nil {
		renderErr = ferr
	}
	if outFile != nil {
		if renderErr != nil {
			outFile.Discard() // half a result: the older file stays
		} else {
			renderErr = outFile.Close()
		}
	}
	if err != nil {
		return err // a damaged capture: what was read is drawn
	}
	if renderErr != nil {
		return &exitError{code: exitUsage, err: renderErr}
	}
	return nil
}

// noMatch explains that no call matched, and whether --all would help:
// others counts, by kind, the calls that would match with --all
// (callFilter.withAll).
func noMatch(file string, others map[correlate.Kind]int) string {
	msg := "no call in " + file + " matches"
	if len(others) == 0 {
		return msg
	}
	var parts []string
	for _, k := range []correlate.Kind{correlate.KindRegistration, correlate.KindSubscription, correlate.KindOptions, correlate.KindMessage, correlate.KindOther} {
		if n := others[k]; n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+string(k))
		}
	}
	return msg + " (" + strings.Join(parts, ", ") + " would with --all)"
}

// textWidth is --width, else the terminal's width, else $COLUMNS, else
// render.DefaultWidth.
func (o *flowOptions) textWidth(out io.Writer) int {
	if o.width > 0 {
		return o.width
	}
	if f, ok := out.(*os.File); ok && isTerminal(out) {
		if w, _, err := term.GetSize(f.Fd()); err == nil && w > 0 {
			return w
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return render.DefaultWidth
}

// writeMessage prints one message: where it went, then its text.
func writeMessage(w io.Writer, r *render.Row, callID string) error {
	_, err := fmt.Fprintf(w, "packet %d  %s UTC  %s -> %s  %s  call %s\n\n", r.N, r.Time.Format("2006-01-02 15:04:05.000000"),
		render.SanitizeString(r.Src), render.SanitizeString(r.Dst), r.Transport, render.SanitizeString(callID))
	if err != nil {
		return err
	}
	for _, ln := range strings.Split(strings.TrimRight(r.Text, "\r\n"), "\n") {
		if _, err := fmt.Fprintln(w, render.SanitizeString(strings.TrimSuffix(ln, "\r"))); err != nil {
			return err
		}
	}
	return nil
}
