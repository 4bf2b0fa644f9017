package main

import (
	"bufio"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/render"
)

type reportOptions struct {
	*globalOptions
	correlateOptions
	ladderOptions
	filter   callFilter
	output   string
	title    string
	maxCalls int
}

// defaultMaxCalls is the most calls a report page holds unless
// --max-calls says otherwise: about 50 MB of HTML, which a browser opens.
const defaultMaxCalls = 5000

func newReportCmd(g *globalOptions) *cobra.Command {
	o := &reportOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "report FILE",
		Short: "Write one self-contained HTML report of a capture: every call, its ladder and findings",
		Long: `Write one HTML file for a whole capture: the list of calls (sortable by any
column, filterable by text and state) and, for the call selected in it, its
ladder, its findings and a small loss and jitter plot per RTP stream. Click a
message in a ladder (or focus it and press Enter) to read its full text.

The file needs nothing else: no network, no external script or style, and
its Content-Security-Policy lets no script but its own run. Everything from
the capture is escaped. A link to FILE.html#call-3:5 opens call 3 with the
message of row 5.

The filters of 'sipflow calls' choose the calls (INVITE calls only without
--all); --by and --alias label the ladders as in 'sipflow flow'. Calls are
written as the capture is read, so memory stays that of the calls in
progress. A page holds the first 5,000 calls that match (--max-calls): a
browser opens a page of that many (about 50 MB) but not one of a whole
load test (1 GB for 110,000 calls); the page and standard error say how
many more matched, and the filters narrow them.`,
		Example: `  sipflow report testdata/call_rtp.pcap -o report.html
  sipflow report --all --state failed,rejected trace.pcapng -o failures.html
  sipflow report --alias 10.0.0.5=PBX trace.pcap > report.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(args[0])
		},
	}
	o.correlateOptions.addFlags(cmd)
	o.ladderOptions.addFlags(cmd)
	o.filter.addFlags(cmd)
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write the report to this file (default: standard output, unless it is a terminal)")
	cmd.Flags().StringVar(&o.title, "title", "", "title of the page (default: the capture's file name)")
	cmd.Flags().IntVar(&o.maxCalls, "max-calls", defaultMaxCalls, "the most calls one page holds, the first that match (0: no limit); the page and standard error say how many more matched")
	return cmd
}

func (o *reportOptions) run(file string) error {
	if err := o.filter.validate(); err != nil {
		return err
	}
	if o.maxCalls < 0 {
		return usageError("--max-calls must be 0 (no limit) or more, not %d", o.maxCalls)
	}
	ropts, err := o.ladderOptions.options(true)
	if err != nil {
		return err
	}
	copts, err := o.correlateOptions.options(true)
	if err != nil {
		return err
	}
	copts.KeepSDP = true
	if err := refuseOverwrite("-o", o.output, readFile{"the capture", file}); err != nil {
		return err
	}
	out := o.Out
	var f *outputFile
	switch {
	case o.output != "" && o.output != "-":
		if f, err = newOutputFile(o.output, o.program, 0o666); err != nil {
			return err
		}
		out = f
	case isTerminal(o.Out):
		return usageError("report writes HTML: give -o FILE, or redirect standard output")
	}
	title := o.title
	if title == "" {
		title = filepath.Base(file) + " · sipflow report"
	}
	// The page is made at the first call that matches: until then,
	// nothing is written, and no file created or emptied.
	w := bufio.NewWriterSize(out, 256<<10)
	var rep *render.Report
	var rerr error
	matched, omitted, others := 0, 0, map[correlate.Kind]int{}
	_, err = analyzeCapture(o.globalOptions, file, copts, func(c *correlate.Call) {
		if rerr != nil {
			return
		}
		if !o.filter.match(c) {
			if o.filter.withAll(c) {
				others[c.Kind]++
			}
			return
		}
		if o.maxCalls > 0 && matched >= o.maxCalls {
			omitted++
			return
		}
		if rep == nil {
			if rep, rerr = render.NewReport(w, render.ReportOptions{Title: title, List: true}); rerr != nil {
				return
			}
		}
		matched++
		rerr = rep.Add(render.Build(c, ropts))
	})
	if readFailed(err) || matched == 0 && rerr == nil { // nothing written: no file made, none emptied
		if f != nil {
			f.Discard()
		}
		if err != nil {
			return err
		}
		return usageError("%s", noMatch(file, others)) // as flow says it
	}
	if rerr == nil && rep != nil {
		rep.Omit(omitted)
		rerr = rep.Close()
	}
	if omitted > 0 && rerr == nil {
		say(o.Err, "sipflow: note: the report holds the first %d of the %d calls that match; narrow them with the filters (--state, --finding, --since, --call-id...) or raise --max-calls (0: no limit)", matched, matched+omitted)
	}
	if ferr := w.Flush(); ferr != nil && rerr == nil {
		rerr = ferr
	}
	if f != nil {
		if rerr != nil {
			f.Discard() // half a page: the older file stays
		} else {
			rerr = f.Close()
		}
	}
	if err != nil {
		return err
	}
	if rerr != nil {
		return &exitError{code: exitUsage, err: rerr}
	}
	return nil
}
