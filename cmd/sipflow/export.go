package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/internal/pcapw"
	"github.com/sipflow/sipflow/render"
	"github.com/sipflow/sipflow/store"
)

type exportOptions struct {
	*globalOptions
	correlateOptions
	db      dbFlag
	call    string
	capture string
	output  string
}

func newExportCmd(g *globalOptions) *cobra.Command {
	o := &exportOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "export [FILE] --call ID -w OUT.pcap",
		Short: "Write a call's packets, SIP and RTP, to a pcap file",
		Long: `Write the packets of a call to a capture file, as they were captured: the
frames of its SIP messages (every leg of a B2BUA call) and of its RTP and
RTCP streams, with their original link type and timestamps, in capture
order. Wireshark and tshark read the file and find the same messages.

Without FILE the call comes from the archive (--db, else $SIPFLOW_DB, else
sipflow.db), where 'sipflow archive' stored its packets; with FILE, from
that capture, analysed as 'sipflow calls' does.

--call names the call by a Call-ID of any of its legs, or its start, as
every command takes a Call-ID: ... or … at the end, as 'sipflow calls'
shortens it, is ignored; at the start it stands for anything before. A
Call-ID found in
several captures of the archive needs --capture. Every call that matches
is written (the same Call-ID can make several calls in one capture: a
registration refreshed over hours, say).

The file is classic pcap with nanosecond timestamps, or pcapng when the
packets come from interfaces of different link types. A SIP message
reassembled from IP fragments or TCP segments is written with every packet
it came in (not the TCP handshake, nor segments that carried no part of
the call's messages); one over WebSocket, with the HTTP upgrade that
opened its stream, which Wireshark needs to read it. -w - writes to
standard output. The file is created
with mode 0600, as the archive; one that is the capture or the archive
read is refused.

FILE is read twice: standard input (-), a FIFO or a pipe is first copied
to a temporary file in $TMPDIR (else /tmp), deleted as soon as it is made.`,
		Example: `  sipflow export --db calls.db --call 1-24089@127.0.10.1 -w call.pcap
  sipflow export trace.pcapng --call '1-24089@127....' -w call.pcap
  sipflow export --call a84b4c76e66710 --capture monday.pcap -w - | tshark -r - -Y sip`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				return o.fromCapture(args[0])
			}
			return o.fromArchive()
		},
	}
	o.correlateOptions.addFlags(cmd)
	o.db.addFlag(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.call, "call", "", "the call: its Call-ID "+callIDUsage+" (required)")
	fl.StringVar(&o.capture, "capture", "", "with the archive: the capture the call is in (file name, base name, number or SHA-256 prefix)")
	fl.StringVarP(&o.output, "write", "w", "", "the capture file to write (required; - for standard output)")
	return cmd
}

func (o *exportOptions) check() error {
	if o.call == "" {
		return usageError("--call is required: the Call-ID of the call to export")
	}
	if o.output == "" {
		return usageError("-w is required: the file to write")
	}
	return nil
}

func (o *exportOptions) fromArchive() error {
	if err := o.check(); err != nil {
		return err
	}
	if err := refuseOverwrite("-w", o.output, archiveReads(o.db.resolve())...); err != nil {
		return err
	}
	ctx := context.Background()
	if err := o.refuseStdout("the archive", o.db.resolve()); err != nil {
		return err
	}
	db, err := openStore(o.db.resolve(), store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	var f callFilter
	f.all = true
	sf, err := storeFilter(db, &f, o.capture)
	if err != nil {
		return err
	}
	want := parseCallID(o.call)
	sf.CallID = want.prefix()
	var ids []int64
	byCapture := map[int64]bool{}
	var calls int
	err = db.Calls(ctx, sf, func(c *store.Call) error {
		if want.match(c.Call) {
			ids = append(ids, c.ID)
			byCapture[c.Capture] = true
			calls++
		}
		return nil
	})
	if err != nil {
		return storeError(err)
	}
	if calls == 0 {
		return usageError("no call with Call-ID %s in %s", o.call, db.Path())
	}
	if len(byCapture) > 1 {
		var cs []*store.Capture
		for _, id := range slices.Sorted(maps.Keys(byCapture)) { // in the order they were imported
			c, err := db.Capture(ctx, id)
			if err != nil {
				return storeError(err)
			}
			cs = append(cs, c)
		}
		return usageError("Call-ID %s is in %d captures: %s; choose one with --capture", o.call, len(cs), captureList(cs))
	}
	var pkts []store.Packet
	missing, err := db.Packets(ctx, ids, func(p *store.Packet) error {
		q := *p
		q.Data = append([]byte(nil), p.Data...)
		pkts = append(pkts, q)
		return nil
	})
	if err != nil {
		return storeError(err)
	}
	if len(missing) > 0 {
		say(o.Err, "sipflow: warning: %d message(s) have no packet in the archive (packets %s): its import is not complete",
			len(missing), render.PacketList(missing, "…"))
	}
	return o.write(pkts, calls)
}

func (o *exportOptions) fromCapture(file string) error {
	if err := o.check(); err != nil {
		return err
	}
	if o.capture != "" || o.db.given() {
		return usageError("--db and --capture read the archive: give either them or FILE")
	}
	copts, err := o.correlateOptions.options(false)
	if err != nil {
		return err
	}
	if err := refuseOverwrite("-w", o.output, readFile{"the capture", file}); err != nil {
		return err
	}
	// The capture is read twice, once for the calls, once for their
	// packets: one that can be read only once is copied to $TMPDIR.
	unspool, err := o.spoolCapture(file, os.TempDir())
	if err != nil {
		return err
	}
	defer unspool()
	set := store.NewPacketSet()
	want := parseCallID(o.call)
	calls, streams := 0, int64(0)
	_, aerr := analyzeCapture(o.globalOptions, file, copts, func(c *correlate.Call) {
		if want.match(c) {
			set.AddCall(c, streams)
			streams += int64(len(c.Streams))
			calls++
		}
	})
	var ee *exitError
	if aerr != nil && !(errors.As(aerr, &ee) && ee.code == exitDamaged) {
		return aerr
	}
	if calls == 0 {
		if aerr != nil {
			say(o.Err, "sipflow: no call with Call-ID %s in %s before the damage", o.call, file)
			return aerr
		}
		return usageError("no call with Call-ID %s in %s", o.call, file)
	}
	var pkts []store.Packet
	err = selectPackets(o.globalOptions, file, set, func(batch []store.Packet) error {
		for _, p := range batch {
			p.Data = append([]byte(nil), p.Data...)
			pkts = append(pkts, p)
		}
		return nil
	}, nil)
	if err != nil {
		return err
	}
	if err := o.write(pkts, calls); err != nil {
		return err
	}
	return aerr // a damaged capture: what could be read was exported
}

// write writes the packets to -w and says what it wrote on standard error.
func (o *exportOptions) write(pkts []store.Packet, calls int) error {
	var out io.Writer = o.Out
	var f *outputFile
	if o.output != "-" {
		var err error
		if f, err = newOutputFile(o.output, o.program, 0o600); err != nil { // packets hold numbers and credentials
			return err
		}
		out = f
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	err := writeCapture(bw, pkts)
	if err == nil {
		err = bw.Flush()
	}
	if f != nil {
		if err != nil {
			f.Discard() // the older file stays
		} else {
			err = f.Close()
		}
	}
	if err != nil {
		if f == nil {
			err = fmt.Errorf("standard output: %w", err)
		}
		return &exitError{code: exitUsage, err: err} // outputFile's name the file
	}
	sip, rtp := 0, 0
	for _, p := range pkts {
		if p.Stream != 0 {
			rtp++
		} else {
			sip++
		}
	}
	name := o.output
	if name == "-" {
		name = "standard output"
	}
	say(o.Err, "%s: %s of %s: %d SIP, %d RTP/RTCP", name,
		plural(int64(len(pkts)), "packet"), plural(int64(calls), "call"), sip, rtp)
	return nil
}

// writeCapture writes packets as classic pcap with nanosecond timestamps
// when they share one link type, else as pcapng with an interface per link
// type.
func writeCapture(w io.Writer, pkts []store.Packet) error {
	var links []capture.LinkType
	index := map[capture.LinkType]int{}
	for _, p := range pkts {
		if _, ok := index[p.Link]; !ok {
			index[p.Link] = len(links)
			links = append(links, p.Link)
		}
	}
	if len(links) == 0 {
		links = []capture.LinkType{capture.LinkEthernet}
	}
	var b []byte
	if len(links) == 1 {
		b = pcapw.AppendPcapHeader(b, capture.MaxPacketLen, links[0])
	} else {
		b = pcapw.AppendNgSection(b)
		for _, l := range links {
			b = pcapw.AppendNgInterface(b, l, capture.MaxPacketLen, "")
		}
	}
	for _, p := range pkts {
		if len(b) > 64<<10 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
		if len(links) == 1 {
			b = pcapw.AppendPcapRecord(b, p.Time, p.Data, p.OrigLen)
		} else {
			b = pcapw.AppendNgPacket(b, index[p.Link], p.Time, p.Data, p.OrigLen)
		}
	}
	_, err := w.Write(b)
	return err
}
