package render_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/render"
)

// Mermaid's sequence diagram line types (sequenceDb LINETYPE).
const (
	mmdSolid     = 0  // ->>
	mmdDotted    = 1  // -->>
	mmdNote      = 2  // Note over
	mmdRectStart = 22 // rect
	mmdRectEnd   = 23 // end
	mmdAsync     = 24 // -)
)

type mermaidResult struct {
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	Type     string `json:"type"`
	Messages []struct {
		Type int    `json:"type"`
		From string `json:"from"`
		To   string `json:"to"`
		Text string `json:"text"`
	} `json:"messages"`
	Actors []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"actors"`
}

// TestMermaidGrammar runs every diagram through mermaid's own parser (in
// Node) and checks that it understood each arrow, note and participant
// as sipflow meant it: the hostile call's labels come back intact, as
// text, instead of ending a statement or starting a new one.
func TestMermaidGrammar(t *testing.T) {
	dir := mermaidDir(t)
	cases := ladderCases(t)
	var diagrams []string
	for _, c := range cases {
		var b bytes.Buffer
		if err := render.Mermaid(&b, c.l); err != nil {
			t.Fatal(err)
		}
		diagrams = append(diagrams, b.String())
	}
	in, _ := json.Marshal(diagrams)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "sipflow-check.mjs"))
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.Bytes())
	}
	var results []mermaidResult
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(cases) {
		t.Fatalf("bad output from the check script (%v): %s", err, out)
	}
	for i, c := range cases {
		res := results[i]
		t.Run(c.name, func(t *testing.T) {
			if !res.OK {
				t.Fatalf("mermaid rejects the diagram: %s\n%s", res.Error, diagrams[i])
			}
			if res.Type != "sequence" {
				t.Errorf("diagram type %q", res.Type)
			}
			l := c.l
			if len(res.Actors) != len(l.Participants) {
				t.Fatalf("%d participants, want %d", len(res.Actors), len(l.Participants))
			}
			for j, a := range res.Actors {
				p := &l.Participants[j]
				want := render.SanitizeString(p.ID)
				if n := p.Name(); n != "" {
					want = render.SanitizeString(n) + "<br/>" + want
				}
				if a.Name != "P"+strconv.Itoa(j) || a.Description != want {
					t.Errorf("participant %d: %q %q, want P%d %q", j, a.Name, a.Description, j, want)
				}
			}
			var arrows, notes int
			for _, m := range res.Messages {
				switch m.Type {
				case mmdRectStart, mmdRectEnd:
					continue
				case mmdNote:
					notes++
					continue
				}
				if arrows >= len(l.Rows) {
					t.Fatalf("more arrows than rows")
				}
				r := &l.Rows[arrows]
				arrows++
				wantType := mmdDotted
				switch {
				case r.Kind == render.RowStream:
					wantType = mmdAsync
				case r.IsRequest():
					wantType = mmdSolid
				}
				if m.Type != wantType || m.From != "P"+strconv.Itoa(r.From) || m.To != "P"+strconv.Itoa(r.To) {
					t.Errorf("row %d: type %d %s->%s, want %d P%d->P%d", arrows-1, m.Type, m.From, m.To, wantType, r.From, r.To)
				}
				prefix := strconv.Itoa(r.N) + ". " + render.SanitizeString(r.Label) + " · "
				if !strings.HasPrefix(m.Text, prefix) {
					t.Errorf("row %d: mermaid read %q, want it to start with %q", arrows-1, m.Text, prefix)
				}
			}
			if arrows != len(l.Rows) {
				t.Errorf("%d arrows, want %d", arrows, len(l.Rows))
			}
			wantNotes := len(l.Notes)
			for _, f := range l.Findings {
				if f.Row >= 0 {
					wantNotes++
				}
			}
			if notes != wantNotes {
				t.Errorf("%d notes, want %d", notes, wantNotes)
			}
		})
	}
}
