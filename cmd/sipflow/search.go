package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/internal/jsonw"
	"github.com/sipflow/sipflow/render"
	"github.com/sipflow/sipflow/store"
)

type searchOptions struct {
	*globalOptions
	db      dbFlag
	filter  callFilter
	text    string
	capture string
	json    bool
	sort    string
	limit   int
}

func newSearchCmd(g *globalOptions) *cobra.Command {
	o := &searchOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "search [filters]",
		Short: "Find calls in the archive: the filters and output of 'sipflow calls'",
		Long: `Find calls in an archive made by 'sipflow archive', across every capture
imported: the same table (and, with --json, the same objects) as 'sipflow
calls', and its filters, plus --text (words of any message of the call),
--capture (one imported file) and --limit.

Every filter is answered by an index, so a search takes milliseconds on
millions of calls. That is why --from and --to match the beginning of a
value here, where 'sipflow calls' matches any part of it: the user part
of the URI (a number or a name, a leading + ignored), its host when it has
no user, or (--from) the display name, or their start, case ignored.
--text finds calls whose messages hold these words in this order, in a
start line or a header (not in bodies, nor in CSeq, Max-Forwards and
Content-Length): case and punctuation ignored, the last word possibly cut
short when it has three letters or more.

Rows come in the order the calls started (in capture order with --capture).
--capture takes a file name as given to sipflow archive, its base name, a
capture number or the start of its SHA-256 (sipflow captures lists them).`,
		Example: `  sipflow search --db calls.db --call-id 1-24089@127.0.10.1
  sipflow search --from 4420 --since "2026-11-22 10:00:00" --until "2026-11-22 11:00:00"
  sipflow search --text "Asterisk PBX" --state failed,rejected --json
  sipflow search --capture trace.pcap --all --finding missing-ack`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run()
		},
	}
	o.db.addFlag(cmd)
	o.filter.addFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.text, "text", "", "only calls whose messages hold these words, in this order (full-text index)")
	fl.StringVar(&o.capture, "capture", "", "only calls of this imported capture (file name, base name, number or SHA-256 prefix)")
	fl.BoolVar(&o.json, "json", false, "print one JSON object per call (NDJSON), as sipflow calls --json")
	fl.StringVar(&o.sort, "sort", "start", "order rows by start, duration, pdd, messages, findings, state, from or to")
	fl.IntVar(&o.limit, "limit", 0, "print at most this many calls (0: all)")
	return cmd
}

func (o *searchOptions) run() error {
	if err := o.filter.validate(); err != nil {
		return err
	}
	less, err := callSorter(o.sort)
	if err != nil {
		return err
	}
	if o.limit < 0 {
		return usageError("--limit must be positive")
	}
	if err := o.refuseStdout("the archive", o.db.resolve()); err != nil {
		return err
	}
	db, err := openStore(o.db.resolve(), store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	sf, err := storeFilter(db, &o.filter, o.capture)
	if err != nil {
		return err
	}
	sf.Text, sf.Limit = o.text, o.limit
	if less != nil || o.filter.callID != "" {
		// The limit applies after sorting, or after the Call-ID's own
		// test: the archive narrows by its start only.
		sf.Limit = 0
	}
	shown := 0

	w := bufio.NewWriterSize(o.Out, 64<<10)
	defer w.Flush()
	var rows []*correlate.Call
	var obj jsonw.Object
	err = db.Calls(context.Background(), sf, func(c *store.Call) error {
		if !o.filter.match(c.Call) {
			return nil
		}
		if less == nil && o.limit > 0 && shown == o.limit {
			return errEnough
		}
		shown++
		if o.json && less == nil {
			callJSON(&obj, c.Call)
			_, err := w.Write(obj.B)
			return err
		}
		rows = append(rows, c.Call)
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return searchError(err)
	}
	if less != nil {
		sort.SliceStable(rows, func(i, j int) bool { return less(rows[i], rows[j]) })
		if o.limit > 0 && len(rows) > o.limit {
			rows = rows[:o.limit]
		}
	}
	if o.json {
		for _, c := range rows {
			callJSON(&obj, c)
			w.Write(obj.B)
		}
	} else {
		writeCallTable(w, o.renderer(o.Out), rows, o.filter.all)
	}
	if err := w.Flush(); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}

// errEnough stops the archive's rows once --limit calls are shown.
var errEnough = errors.New("enough")

func searchError(err error) error {
	if errors.Is(err, store.ErrBadText) {
		return usageError("%v", err)
	}
	return storeError(err)
}

// storeFilter turns the filters of 'sipflow calls' into the archive's,
// with --capture resolved to capture numbers.
func storeFilter(db *store.DB, f *callFilter, captureName string) (store.Filter, error) {
	sf := store.Filter{
		CallID: parseCallID(f.callID).prefix(), From: f.from, To: f.to, States: f.states, All: f.all,
		Since: f.sinceT, Until: f.untilT, Finding: f.finding,
	}
	if captureName == "" {
		return sf, nil
	}
	cs, err := db.FindCaptures(context.Background(), captureName)
	if err != nil {
		return sf, storeError(err)
	}
	if len(cs) == 0 {
		return sf, usageError("--capture %s: no such capture in %s (sipflow captures lists them)", render.SanitizeString(captureName), db.Path())
	}
	for _, c := range cs {
		sf.Captures = append(sf.Captures, c.ID)
	}
	return sf, nil
}

// captureList names captures for a message: "3 (a.pcap), 5 (b.pcap)".
func captureList(cs []*store.Capture) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%d (%s)", c.ID, render.SanitizeString(c.Name))
	}
	return strings.Join(parts, ", ")
}
