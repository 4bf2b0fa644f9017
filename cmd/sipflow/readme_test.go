package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEExamples: every example in the README that runs flow, check,
// calls, messages or rtp on captures of testdata alone shows the output
// sipflow gives now, its notes on stderr first, as a terminal shows them.
// ("| head -N" keeps the output's first N lines; examples with another
// pipe, a redirection or an archive are left out.)
func TestREADMEExamples(t *testing.T) {
	t.Setenv("COLUMNS", "")
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, block := range regexp.MustCompile("(?s)```\n(.*?)```\n").FindAllStringSubmatch(string(readme), -1) {
		lines := strings.SplitAfter(block[1], "\n")
		for i := 0; i < len(lines); i++ {
			cmd, ok := strings.CutPrefix(strings.TrimSuffix(lines[i], "\n"), "$ sipflow ")
			if !ok {
				continue
			}
			var want strings.Builder
			for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "$ ") {
				i++
				want.WriteString(lines[i])
			}
			head := -1 // "| head -N": the first N lines of the output
			if c, h, ok := strings.Cut(cmd, " | head -"); ok {
				if _, err := fmt.Sscan(h, &head); err != nil {
					t.Fatalf("README's %q: %v", cmd, err)
				}
				cmd = c
			}
			args, ok := testdataArgs(cmd)
			if !ok {
				continue
			}
			n++
			out, errs, code := sipflow(t, nil, args...)
			if head >= 0 {
				lines := strings.SplitAfter(out, "\n")
				out = strings.Join(lines[:min(head, len(lines))], "")
			}
			// The README runs from the repository's root, the test from here.
			got := strings.ReplaceAll(errs+out, repoTestdata("")+"/", "testdata/")
			if code > 1 || got != want.String() {
				t.Errorf("README's %q differs from the output (exit %d):\n%s%s", cmd, code, errs, out)
			}
		}
	}
	if n < 14 {
		t.Errorf("found %d examples on testdata captures in the README, want at least 14", n)
	}
}

// testdataArgs returns the arguments of a README command line that runs
// flow, check, calls, messages or rtp on captures of testdata, their paths
// made relative to this package, and whether it is one.
func testdataArgs(cmd string) ([]string, bool) {
	args := strings.Fields(cmd)
	if len(args) == 0 || strings.ContainsAny(cmd, "|><#") {
		return nil, false
	}
	switch args[0] {
	case "flow", "check", "calls", "messages", "rtp":
	default:
		return nil, false
	}
	ok := false
	for i, a := range args {
		if a == "--db" {
			return nil, false
		}
		if strings.HasPrefix(a, "testdata/") {
			args[i], ok = repoTestdata(strings.TrimPrefix(a, "testdata/")), true
		}
	}
	return args, ok
}
