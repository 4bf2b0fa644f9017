package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"

	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/internal/jsonw"
	"github.com/sipflow/sipflow/render"
	"github.com/sipflow/sipflow/store"
)

type capturesOptions struct {
	*globalOptions
	db   dbFlag
	json bool
}

func newCapturesCmd(g *globalOptions) *cobra.Command {
	o := &capturesOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "captures",
		Short: "List the captures imported into the archive",
		Long: `List what 'sipflow archive' imported: each capture's number, when it was
imported (UTC), the file as it was given, its SHA-256 (what makes two files
the same capture), its size, and how many calls, messages and packets it
stored. STATE is "complete", or "importing" for an import still running or
interrupted (running sipflow archive on the same file completes it), and
"damaged" for a file that could not be read to its end.

--json prints one object per capture: id, file, sha256, size, imported,
finished, state, calls, messages, packets, first and last (packet time of
its calls), damage, options (the analysis options it was imported with).`,
		Example: `  sipflow captures --db calls.db
  sipflow captures --json | jq -r .sha256`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run()
		},
	}
	o.db.addFlag(cmd)
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object per capture (NDJSON)")
	return cmd
}

func (o *capturesOptions) run() error {
	if err := o.refuseStdout("the archive", o.db.resolve()); err != nil {
		return err
	}
	db, err := openStore(o.db.resolve(), store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	cs, err := db.Captures(context.Background())
	if err != nil {
		return storeError(err)
	}
	w := bufio.NewWriter(o.Out)
	defer w.Flush()
	if o.json {
		var obj jsonw.Object
		for _, c := range cs {
			captureJSON(&obj, c)
			w.Write(obj.B)
		}
	} else {
		writeCaptureTable(w, o.renderer(o.Out), cs)
	}
	if err := w.Flush(); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}

func captureState(c *store.Capture) string {
	switch {
	case !c.Complete:
		return "importing"
	case c.Damage != "":
		return "damaged"
	}
	return "complete"
}

func captureJSON(o *jsonw.Object, c *store.Capture) {
	o.Begin()
	o.Int("id", c.ID)
	o.String("file", c.Name)
	o.String("sha256", c.SHA256)
	o.Int("size", c.Size)
	o.Time("imported", c.ImportedAt)
	if c.FinishedAt.IsZero() {
		o.Null("finished")
	} else {
		o.Time("finished", c.FinishedAt)
	}
	o.String("state", captureState(c))
	o.Int("calls", c.Calls)
	o.Int("messages", c.Messages)
	o.Int("packets", c.Packets)
	if c.First.IsZero() {
		o.Null("first")
		o.Null("last")
	} else {
		o.Time("first", c.First)
		o.Time("last", c.Last)
	}
	if c.Damage == "" {
		o.Null("damage")
	} else {
		o.String("damage", c.Damage)
	}
	o.String("options", c.Options)
	o.End()
}

func writeCaptureTable(w *bufio.Writer, r *lipgloss.Renderer, cs []*store.Capture) {
	if len(cs) == 0 {
		fmt.Fprintln(w, "no captures (sipflow archive imports some)")
		return
	}
	cell := r.NewStyle().Padding(0, 1)
	right := cell.Align(lipgloss.Right)
	warn := cell.Inherit(r.NewStyle().Foreground(lipgloss.Color("11")))
	t := &textTable{headers: []string{"ID", "IMPORTED (UTC)", "FILE", "SHA-256", "SIZE", "CALLS", "MESSAGES", "PACKETS", "STATE"}, rows: len(cs),
		cells: func(i int, dst []string) []string {
			c := cs[i]
			return append(dst,
				strconv.FormatInt(c.ID, 10),
				c.ImportedAt.UTC().Format("2006-01-02 15:04:05"),
				render.SanitizeString(shortPath(c.Name)),
				c.SHA256[:16]+"…",
				fmtBytes(c.Size),
				strconv.FormatInt(c.Calls, 10),
				strconv.FormatInt(c.Messages, 10),
				strconv.FormatInt(c.Packets, 10),
				captureState(cs[i]))
		},
		style: func(row, col int) *lipgloss.Style {
			switch {
			case col == 0 || col >= 4 && col <= 7:
				return &right
			case col == 8 && captureState(cs[row]) != "complete":
				return &warn
			}
			return nil
		}}
	t.write(w, r)
}

// shortPath keeps the end of a long file name, which tells files apart.
func shortPath(p string) string {
	if len([]rune(p)) <= 40 {
		return p
	}
	r := []rune(p)
	return "…" + string(r[len(r)-39:])
}
