package main

import (
	"bufio"
	"fmt"
	"sort"
	"strconv"

	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/internal/jsonw"
	"github.com/sipflow/sipflow/render"
)

type checkOptions struct {
	*globalOptions
	correlateOptions
	filter callFilter
	json   bool
	failOn string
	rules  bool
	flows  bool
	src    callSource // --db: the calls of an archive (check_db.go)
}

func newCheckCmd(g *globalOptions) *cobra.Command {
	o := &checkOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "Find what went wrong: missing ACKs, unanswered INVITEs, failed auth, ...",
		Long: `Run the expected-flow checks on every call of a capture and print the
findings, grouped by call, worst call first. Each finding has a rule, a
severity (error, warning, info), the packets it concerns, a one-line
explanation and the RFC section that says what should have happened.
--rules lists the rules.

Each call is also matched against the expected flows (basic call, call with
digest authentication, registration with a challenge, cancel, busy, hold and
resume, a switch to T.38 fax, blind transfer, OPTIONS ping); --flows DIR
adds flows from *.flow files, tried before the built-in ones, or replaces
those of the same name; --list-flows prints them. For a call with findings
that matches no flow, the step where it left the closest flow is shown.

Exit status 1 when any finding is at or above --fail-on (default error), so
a script or CI job can gate on a trace.`,
		Example: `  sipflow check testdata/invite_no_ack.pcap
  sipflow check --fail-on warning --json trace.pcapng
  sipflow check --flows ./my-flows trace.pcap`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.rules || o.flows {
				return cobra.NoArgs(cmd, args)
			}
			return o.src.args(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.rules {
				return o.printRules()
			}
			if o.flows {
				return o.printFlows()
			}
			return o.run(o.src.file(args))
		},
	}
	o.correlateOptions.addFlags(cmd)
	o.filter.addFlags(cmd)
	o.src.addFlags(cmd)
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object per finding (NDJSON)")
	cmd.Flags().StringVar(&o.failOn, "fail-on", "error", "exit 1 when a finding is at or above this severity: error, warning or info")
	cmd.Flags().BoolVar(&o.rules, "rules", false, "list the rules and exit")
	cmd.Flags().BoolVar(&o.flows, "list-flows", false, "print the expected flows (with --flows, the merged set) and exit")
	return cmd
}

func (o *checkOptions) printRules() error {
	w := bufio.NewWriter(o.Out)
	defer w.Flush()
	for _, r := range correlate.Rules {
		fmt.Fprintf(w, "%-22s %-14s %s\n", r.ID, r.Severity, r.Meaning)
	}
	return nil
}

func (o *checkOptions) printFlows() error {
	copts, err := o.correlateOptions.options(false)
	if err != nil {
		return err
	}
	flows := copts.Flows
	if flows == nil {
		flows = correlate.DefaultFlows()
	}
	w := bufio.NewWriter(o.Out)
	defer w.Flush()
	for i, f := range flows {
		if i > 0 {
			fmt.Fprintln(w)
		}
		w.WriteString(f.String())
	}
	return nil
}

func (o *checkOptions) run(file string) error {
	failOn, err := correlate.ParseSeverity(o.failOn)
	if err != nil {
		return usageError("--fail-on: %v", err)
	}
	if err := o.filter.validate(); err != nil {
		return err
	}
	o.filter.all = true // findings of registrations count as much as calls'
	copts, err := o.correlateOptions.options(false)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(o.Out, 64<<10)
	defer w.Flush()
	var bad []*correlate.Call
	total, worst, checked := 0, correlate.Severity(-1), 0
	_, err = o.src.analyze(o.globalOptions, file, copts, &o.filter, false, func(c *correlate.Call) {
		if !o.filter.match(c) {
			return
		}
		checked++
		if len(c.Findings) == 0 {
			return
		}
		total += len(c.Findings)
		if c.Worst() > worst {
			worst = c.Worst()
		}
		c.Legs = nil // findings and the summary are all we print
		bad = append(bad, c)
	})
	if readFailed(err) {
		return err
	}
	// Worst first, then in start order: from the archive they come in it
	// already (and Seq is per capture).
	if !o.src.db.given() {
		backInStartOrder(bad, func(c *correlate.Call) int { return c.Seq })
	}
	sort.SliceStable(bad, func(i, j int) bool { return bad[i].Worst() > bad[j].Worst() })
	if o.json {
		var obj jsonw.Object
		for _, c := range bad {
			for _, f := range c.Findings {
				findingJSON(&obj, &f)
				w.Write(obj.B)
			}
		}
	} else {
		writeFindings(w, o.renderer(o.Out), bad, total, checked)
	}
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = &exitError{code: exitUsage, err: ferr}
	}
	if err != nil {
		return err
	}
	if worst >= failOn {
		return &exitError{code: exitFindings}
	}
	return nil
}

func findingJSON(o *jsonw.Object, f *correlate.Finding) {
	o.Begin()
	o.String("call_id", f.CallID)
	o.String("rule", f.Rule)
	o.String("severity", f.Severity.String())
	ns := make([]byte, 0, 8*len(f.Packets)+2)
	ns = append(ns, '[')
	for i, n := range f.Packets {
		if i > 0 {
			ns = append(ns, ',')
		}
		ns = strconv.AppendInt(ns, int64(n), 10)
	}
	o.Raw("packets", append(ns, ']'))
	o.String("detail", f.Detail)
	o.String("rfc", f.RFC)
	o.End()
}

func writeFindings(w *bufio.Writer, r *lipgloss.Renderer, calls []*correlate.Call, total, checked int) {
	if len(calls) == 0 {
		fmt.Fprintf(w, "no findings in %d call(s)\n", checked)
		return
	}
	styles := severityStyles(r)
	bold := r.NewStyle().Bold(true)
	dim := r.NewStyle().Faint(true)
	for i, c := range calls {
		if i > 0 {
			fmt.Fprintln(w)
		}
		head := fmt.Sprintf("%s %s  %s, %s", c.Kind, render.SanitizeString(c.ID), c.State, c.Start.UTC().Format("2006-01-02 15:04:05"))
		if c.From != "" || c.To != "" {
			head += fmt.Sprintf(", %s → %s", render.SanitizeString(shortURI(c.From)), render.SanitizeString(shortURI(c.To)))
		}
		fmt.Fprintln(w, bold.Render(head))
		for _, f := range c.Findings {
			sev := styles[f.Severity].Render(fmt.Sprintf("%-7s", f.Severity))
			fmt.Fprintf(w, "  %s %-20s %s\n", sev, f.Rule, render.SanitizeString(f.Detail))
			fmt.Fprintf(w, "  %s\n", dim.Render(fmt.Sprintf("        packets %s · %s", render.PacketList(f.Packets, "…"), f.RFC)))
		}
		switch {
		case c.Flow != "":
			fmt.Fprintln(w, dim.Render("  flow: "+render.SanitizeString(c.Flow)))
		case c.Deviation != "":
			fmt.Fprintln(w, dim.Render("  flow: left "+render.SanitizeString(c.Deviation)))
		}
	}
	fmt.Fprintf(w, "\n%d finding(s) in %d of %d call(s)\n", total, len(calls), checked)
}
