package main

import (
	"bufio"
	"net/netip"
	"strconv"

	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/jsonw"
	"github.com/sipflow/sipflow/render"
)

type messagesOptions struct {
	*globalOptions
	json bool
}

func newMessagesCmd(g *globalOptions) *cobra.Command {
	o := &messagesOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "messages FILE",
		Short: "List every SIP message in a capture, in capture order",
		Long: `List every SIP message in a capture, one line each: packet number, time (UTC),
source and destination, transport, method and Request-URI or status and
reason, CSeq and a short Call-ID.

FILE is a pcap or pcapng file, gzip-compressed or not, or - for standard input.
SIP is recognised by content on any port, over UDP or TCP, inside IP fragments
and tunnels (IP-in-IP, GRE, ERSPAN, VXLAN, GTP-U) and HEP.

With --json, one JSON object per line (NDJSON) with the fields n, ts, src,
dst, transport, call_id, cseq, cseq_method, method and request_uri (requests),
status and reason (responses), from, to, from_tag, to_tag, branch, sdp, and
encap when the message came out of a tunnel.`,
		Example: `  sipflow messages testdata/call_rtp.pcap
  sipflow messages --json capture.pcapng.gz | jq 'select(.status >= 400)'
  tcpdump -i eth0 -w - port 5060 | sipflow messages -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(args[0])
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print newline-delimited JSON, one object per message")
	return cmd
}

func (o *messagesOptions) run(file string) error {
	w := bufio.NewWriterSize(o.Out, 64<<10)
	defer w.Flush()
	h := &handler{}
	if o.json {
		var obj jsonw.Object
		h.message = func(m *decode.Message) {
			messageJSON(&obj, m)
			w.Write(obj.B)
		}
	} else {
		p := newMessagePrinter(o.renderer(o.Out))
		h.message = func(m *decode.Message) { p.print(w, m) }
	}
	_, err := scanCapture(o.globalOptions, file, h)
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = &exitError{code: exitUsage, err: ferr}
	}
	return err
}

// messageJSON writes the NDJSON object for one message.
func messageJSON(o *jsonw.Object, m *decode.Message) {
	o.Begin()
	o.Int("n", int64(m.N))
	o.Time("ts", m.Time)
	o.AddrPort("src", m.Src)
	o.AddrPort("dst", m.Dst)
	o.String("transport", m.Transport.String())
	if m.Encap != "" {
		o.String("encap", m.Encap)
	}
	o.Str("call_id", m.CallID)
	o.Int("cseq", int64(m.CSeq))
	o.Str("cseq_method", m.CSeqMethod)
	if m.IsRequest() {
		o.Str("method", m.Method)
		o.Str("request_uri", m.RequestURI)
	} else {
		o.Int("status", int64(m.StatusCode))
		o.Str("reason", m.Reason)
	}
	o.Str("from", m.From.URI)
	o.Str("to", m.To.URI)
	strOrNull(o, "from_tag", m.From.Tag)
	strOrNull(o, "to_tag", m.To.Tag)
	var branch []byte
	if len(m.Via) > 0 {
		branch = m.Via[0].Branch
	}
	strOrNull(o, "branch", branch)
	o.Bool("sdp", m.SDP != nil)
	o.End()
}

// strOrNull writes null for an absent value (nil), a string otherwise.
func strOrNull(o *jsonw.Object, k string, v []byte) {
	if v == nil {
		o.Null(k)
	} else {
		o.Str(k, v)
	}
}

// addrPort formats an address as ip:port, IPv6 as [addr]:port.
func addrPort(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// messagePrinter prints the one-line text form of messages.
type messagePrinter struct {
	request, info, success, failure, dim lipgloss.Style
	line                                 []byte
}

func newMessagePrinter(r *lipgloss.Renderer) *messagePrinter {
	return &messagePrinter{
		request: r.NewStyle().Foreground(lipgloss.Color("12")).Bold(true),
		info:    r.NewStyle().Foreground(lipgloss.Color("11")),
		success: r.NewStyle().Foreground(lipgloss.Color("10")),
		failure: r.NewStyle().Foreground(lipgloss.Color("9")),
		dim:     r.NewStyle().Faint(true),
	}
}

func (p *messagePrinter) print(w *bufio.Writer, m *decode.Message) {
	var summary string
	style := p.request
	if m.IsRequest() {
		summary = render.Sanitize(m.Method) + " " + render.Sanitize(m.RequestURI)
	} else {
		summary = strconv.Itoa(m.StatusCode) + " " + render.Sanitize(m.Reason)
		switch {
		case m.StatusCode < 200:
			style = p.info
		case m.StatusCode < 300:
			style = p.success
		default:
			style = p.failure
		}
	}
	b := p.line[:0]
	b = appendPadLeft(b, strconv.Itoa(m.N), 6)
	b = append(b, "  "...)
	b = m.Time.UTC().AppendFormat(b, "15:04:05.000000")
	b = append(b, "  "...)
	b = appendPadRight(b, addrPort(m.Src), 21)
	b = append(b, " -> "...)
	b = appendPadRight(b, addrPort(m.Dst), 21)
	b = append(b, ' ')
	b = appendPadRight(b, m.Transport.String(), 4)
	b = append(b, ' ')
	b = append(b, style.Render(summary)...)
	b = appendSpaces(b, max(2, 2+summaryWidth-lipgloss.Width(summary)))
	cseq := strconv.FormatUint(uint64(m.CSeq), 10) + " " + render.Sanitize(m.CSeqMethod)
	b = append(b, cseq...)
	b = appendSpaces(b, max(2, 2+cseqWidth-lipgloss.Width(cseq)))
	b = append(b, p.dim.Render(render.Sanitize(shortID(m.CallID)))...)
	b = append(b, '\n')
	w.Write(b)
	p.line = b
}

// shortID shortens a Call-ID for a table: the first 12 bytes and an
// ellipsis when longer. It never cuts inside a UTF-8 sequence.
func shortID(id []byte) []byte {
	const max = 16
	if len(id) <= max {
		return id
	}
	n := 12
	for n > 0 && id[n]&0xc0 == 0x80 {
		n--
	}
	return append(id[:n:n], "..."...)
}

// Column widths of the text form; longer values push the line out rather
// than being cut, so nothing is hidden.
const (
	summaryWidth = 40
	cseqWidth    = 12
)

func appendPadRight(b []byte, s string, width int) []byte {
	b = append(b, s...)
	return appendSpaces(b, width-len(s))
}

func appendSpaces(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}

func appendPadLeft(b []byte, s string, width int) []byte {
	for i := len(s); i < width; i++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}
