package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/capture/bpf"
)

// captureOptions are the flags of `sipflow capture`, and what tests inject.
type captureOptions struct {
	*globalOptions
	correlateOptions
	filter      callFilter
	ifaces      []string
	list        bool
	duration    time.Duration
	count       int64
	write       string
	rotateSize  string
	rotateTime  time.Duration
	rotateFiles int
	db          string
	promisc     bool
	snaplen     int
	bufferSize  string
	json        bool
	view        string // auto, table, lines

	// Injected by tests; nil means the real thing.
	openLive   func(capture.LiveOptions) (capture.LiveSource, error)
	interfaces func() ([]capture.Interface, error)
	signals    chan os.Signal // instead of SIGINT and SIGTERM
}

func newCaptureCmd(g *globalOptions) *cobra.Command {
	return newCaptureCmdOpts(&captureOptions{globalOptions: g})
}

// newCaptureCmdOpts builds the command around o, which tests fill with
// their own capture source, interface list and signals.
func newCaptureCmdOpts(o *captureOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "capture -i IFACE [FILTER...]",
		Short: "Capture SIP live from network interfaces and show the calls as they happen",
		Long: `Capture packets from network interfaces and run them through the same decoding
and call correlation as 'sipflow calls' does for a file, as they arrive.

FILTER is a capture filter in tcpdump syntax (host, net, port, portrange,
udp, tcp, ip, ip6, vlan, and/or/not, parentheses), the words after the flags
joined as tcpdump does: 'sipflow capture -i eth0 udp port 5060 or tcp port
5060'. The default is "` + capture.DefaultLiveFilter + `": everything SIP can travel in. A port
filter keeps the later fragments of a fragmented SIP datagram. -i may be
repeated; -i any captures every interface; -D lists them.

On a terminal, a table of the calls (as 'sipflow calls') is redrawn as
messages arrive: calls still open show their progress (calling, ringing,
answered, ending); once a call is finished it shows its final state and
findings. Otherwise one line is printed per finished call, or with --json
one JSON object per call (NDJSON, as 'sipflow calls --json'), in the order
calls finish. A call is finished as 'sipflow calls' finishes it: 5 s after
its last transaction ended (32 s for registrations and other requests), 32 s
after its last message when it is an INVITE call whose requests were all
retransmitted and never answered, after --call-timeout without a message
or RTP when it was answered and no BYE has ended it (or it is a
subscription in force with no known expiry; one with a known expiry, up
to a day away, waits --idle-timeout past it), or after --idle-timeout
without a message.

The capture runs until Ctrl-C (SIGINT), SIGTERM, --duration or --count
packets. It then reads what the kernel still holds, finishes every call
still open, flushes and closes the -w file and prints a summary on stderr:
packets captured, packets the kernel dropped, calls and findings.

-w writes every captured packet to a pcap file as it arrives (pcapng when
the interfaces have different link types), with the kernel's nanosecond
timestamps; 'sipflow calls FILE' on it reports what the capture showed.
With --rotate-size or --rotate-time the packets go to a ring of files named
FILE-000001-20261122T100000Z.pcap, ... (sequence number and UTC start
time before the extension); --rotate-files N keeps only the newest N.

--db FILE archives each call, of every kind whatever the display filters,
in a SQLite archive as 'sipflow archive' does for a file, as soon as it is
finished (in batches, at least every second). The packets of the archived
calls (their SIP messages and RTP) are stored when the capture ends, read
back from the -w files, or from a spool file beside the archive that is
deleted afterwards when there is no -w; with --rotate-files, those of files
already deleted are not. The capture is listed by 'sipflow captures' under
the -w file's name, else as "live IFACE TIME".

Time: calls are finished on packet time, the kernel's timestamps, as in a
file. When no packet arrives for a while, packet time is moved on by the
clock (to half a second ago, every quarter of a second) so that calls end
on an idle link too: the only place where the clock decides anything.

The kernel keeps the packets sipflow has not read yet in a ring of
--buffer-size per interface (128 MiB): on a machine busy with other work,
sipflow may not get the CPU for a second or two, and the ring rides that
out; packets it could not hold are counted as dropped in the summary.

Capturing needs the CAP_NET_RAW capability (root, or setcap
cap_net_raw,cap_net_admin=eip on the binary); without it the command says
so and exits with status 2.`,
		Example: `  sipflow capture -i eth0
  sipflow capture -i eth0 -i eth1 udp port 5060 or tcp port 5060
  sipflow capture -i any --json port 5060 | jq 'select(.findings != [])'
  sipflow capture -i eth0 -w sip.pcap --rotate-size 100MB --rotate-files 10
  sipflow capture -i eth0 --db calls.db --view lines port 5060
  sipflow capture -i lo --duration 30s --all
  sipflow capture -D`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.list {
				if len(args) > 0 {
					return usageError("-D takes no filter")
				}
				return o.listInterfaces()
			}
			return o.run(args)
		},
	}
	o.correlateOptions.addFlags(cmd)
	o.filter.addFlags(cmd)
	fl := cmd.Flags()
	fl.StringArrayVarP(&o.ifaces, "interface", "i", nil, "interface to capture on (repeatable; \"any\" for every interface)")
	fl.BoolVarP(&o.list, "list-interfaces", "D", false, "list the interfaces and exit")
	fl.DurationVar(&o.duration, "duration", 0, "stop after this long (e.g. 30s, 5m)")
	fl.Int64VarP(&o.count, "count", "c", 0, "stop after this many packets")
	fl.StringVarP(&o.write, "write", "w", "", "write every captured packet to this pcap file")
	fl.StringVar(&o.rotateSize, "rotate-size", "", "with -w, start a new file before one grows past this size (e.g. 100MB, 1GiB)")
	fl.DurationVar(&o.rotateTime, "rotate-time", 0, "with -w, start a new file every this much capture time (e.g. 1h)")
	fl.IntVar(&o.rotateFiles, "rotate-files", 0, "with --rotate-size or --rotate-time, keep only the newest N files (0: keep all)")
	fl.StringVar(&o.db, "db", "", "archive each call in this SQLite archive when it finishes (its packets when the capture ends)")
	fl.BoolVar(&o.promisc, "promisc", false, "put the interfaces in promiscuous mode")
	fl.IntVarP(&o.snaplen, "snaplen", "s", capture.DefaultSnapLen, "most bytes kept of each packet")
	fl.StringVar(&o.bufferSize, "buffer-size", "128MiB", "kernel buffer per interface for packets not yet read (what rides out a busy CPU)")
	fl.BoolVar(&o.json, "json", false, "print one JSON object per finished call (NDJSON)")
	fl.StringVar(&o.view, "view", "auto", "table (redrawn in place), lines (one per finished call), or auto: table on a terminal")
	return cmd
}

// liveConfig is what run works out from the flags.
type liveConfig struct {
	live       capture.LiveOptions
	filterText string
	rotateSize int64
	mode       outputMode
	userFilter bool // the filter tests VLAN tags: it runs in user space
}

type outputMode int

const (
	modeLines outputMode = iota
	modeJSON
	modeTable
)

func (o *captureOptions) config(args []string) (*liveConfig, error) {
	c := &liveConfig{}
	if len(o.ifaces) == 0 {
		return nil, usageError("name an interface with -i (sipflow capture -D lists them; -i any captures on all)")
	}
	if err := o.filter.validate(); err != nil {
		return nil, err
	}
	if o.duration < 0 || o.count < 0 {
		return nil, usageError("--duration and --count cannot be negative")
	}
	if o.snaplen <= 0 || o.snaplen > capture.MaxPacketLen {
		return nil, usageError("--snaplen must be between 1 and %d", capture.MaxPacketLen)
	}
	buf, err := parseSize(o.bufferSize)
	if err != nil || buf <= 0 || buf > 1<<31 {
		return nil, usageError("--buffer-size: want a size such as 32MiB, not %q", o.bufferSize)
	}
	if o.rotateSize != "" {
		if c.rotateSize, err = parseSize(o.rotateSize); err != nil || c.rotateSize <= 0 {
			return nil, usageError("--rotate-size: want a size such as 100MB, not %q", o.rotateSize)
		}
	}
	if o.rotateTime < 0 || o.rotateFiles < 0 {
		return nil, usageError("--rotate-time and --rotate-files cannot be negative")
	}
	if o.write == "" && (c.rotateSize > 0 || o.rotateTime > 0 || o.rotateFiles > 0) {
		return nil, usageError("--rotate-size, --rotate-time and --rotate-files need -w FILE")
	}
	if o.rotateFiles > 0 && c.rotateSize == 0 && o.rotateTime == 0 {
		return nil, usageError("--rotate-files needs --rotate-size or --rotate-time")
	}
	if o.write == "-" {
		return nil, usageError("-w -: writing the capture to standard output is not supported; name a file")
	}
	if err := refuseOverwrite("-w", o.write, archiveReads(o.db)...); err != nil {
		return nil, err
	}
	c.filterText = strings.Join(args, " ")
	c.live = capture.LiveOptions{Interfaces: o.ifaces, Filter: c.filterText, SnapLen: o.snaplen,
		Promisc: o.promisc, BufferSize: int(buf)}
	if c.filterText == "" {
		c.filterText = capture.DefaultLiveFilter
	}
	if f, err := bpf.Parse(c.filterText); err == nil {
		c.userFilter = f.UsesVLAN() // capture runs it in user space (see capture.LiveOptions.Filter)
	} // else OpenLive says what is wrong with it
	switch o.view {
	case "auto":
		c.mode = modeLines
		if isTerminal(o.Out) {
			c.mode = modeTable
		}
	case "table":
		c.mode = modeTable
	case "lines":
		c.mode = modeLines
	default:
		return nil, usageError("--view must be auto, table or lines, not %q", o.view)
	}
	if o.json {
		c.mode = modeJSON
	}
	return c, nil
}

func (o *captureOptions) run(args []string) error {
	cfg, err := o.config(args)
	if err != nil {
		return err
	}
	copts, err := o.correlateOptions.options(o.db != "")
	if err != nil {
		return err
	}
	// Signals first: one that comes while the interfaces open still stops
	// the capture cleanly.
	sig := o.signals
	if sig == nil {
		sig = make(chan os.Signal, 2)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sig)
		// A reader that goes away (sipflow capture --json | head) must not
		// kill sipflow before the -w file is closed: with SIGPIPE caught,
		// the write fails instead, and the capture stops as on Ctrl-C.
		pipe := make(chan os.Signal, 1)
		signal.Notify(pipe, syscall.SIGPIPE)
		defer signal.Stop(pipe)
	}
	open := o.openLive
	if open == nil {
		open = capture.OpenLive
	}
	src, err := open(cfg.live)
	if err != nil {
		if errors.Is(err, capture.ErrNoInterface) {
			err = fmt.Errorf("%w (sipflow capture -D lists them)", err)
		}
		return &exitError{code: exitUsage, err: err}
	}
	s := &liveSession{opts: o, cfg: cfg, src: src, sig: sig}
	return s.run(copts)
}

// linkTypes returns the link type each named interface delivers, as
// capture.Interfaces reports it.
func (o *captureOptions) linkTypes(names []string) ([]capture.LinkType, error) {
	list := o.interfaces
	if list == nil {
		list = capture.Interfaces
	}
	ifs, err := list()
	if err != nil {
		return nil, err
	}
	links := make([]capture.LinkType, len(names))
	for i, n := range names {
		links[i] = capture.LinkLinuxSLL
		for _, it := range ifs {
			if it.Name == n {
				links[i] = it.LinkType
			}
		}
	}
	return links, nil
}

// listInterfaces prints the interfaces (-D): number, name, link type,
// state and addresses.
func (o *captureOptions) listInterfaces() error {
	list := o.interfaces
	if list == nil {
		list = capture.Interfaces
	}
	ifs, err := list()
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	w := bufio.NewWriter(o.Out)
	defer w.Flush()
	width := 4
	for _, it := range ifs {
		width = max(width, len(it.Name))
	}
	for i, it := range ifs {
		num := strconv.Itoa(i+1) + "."
		var flags []string
		if it.Up {
			flags = append(flags, "up")
		} else {
			flags = append(flags, "down")
		}
		if it.Loopback {
			flags = append(flags, "loopback")
		}
		addrs := make([]string, 0, len(it.Addrs))
		for _, a := range it.Addrs {
			addrs = append(addrs, a.String())
		}
		if it.Name == capture.AnyInterface {
			addrs = []string{"(every interface)"}
		}
		line := fmt.Sprintf("%-4s %-*s  %-10s  %-12s  %s", num, width, it.Name, it.LinkType, strings.Join(flags, ","), strings.Join(addrs, " "))
		say(w, "%s", strings.TrimRight(line, " "))
	}
	if err := w.Flush(); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}

// parseSize reads a byte count: a number with an optional unit, k/kB,
// M/MB, G/GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	num, unit := s[:i], strings.TrimSpace(s[i:])
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("not a size: %q", s)
	}
	mult := map[string]float64{"": 1, "b": 1, "B": 1,
		"k": 1e3, "K": 1e3, "kB": 1e3, "KB": 1e3, "M": 1e6, "MB": 1e6, "G": 1e9, "GB": 1e9,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("unknown size unit %q in %q", unit, s)
	}
	return int64(v * mult), nil
}
