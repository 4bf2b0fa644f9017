package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportGolden(t *testing.T) {
	p := filepath.Join(t.TempDir(), "report.html")
	out, errs, code := sipflow(t, nil, "report", "-o", p, repoTestdata("b2bua_xcallid.pcap"))
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errs)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report_b2bua_xcallid.pcap.html", string(b))
}

func TestReport(t *testing.T) {
	p := threeCalls(t)
	t.Run("stdout", func(t *testing.T) {
		out, errs, code := sipflow(t, nil, "report", "--title", "three <calls>", p)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, want := range []string{"<!DOCTYPE html>", "<title>sipflow: three &lt;calls&gt;</title>", `id="sf-list"`, "Content-Security-Policy"} {
			if !strings.Contains(out, want) {
				t.Errorf("report has no %q", want)
			}
		}
		if n := strings.Count(out, "<tr data-call="); n != 3 {
			t.Errorf("%d rows in the call list, want 3", n)
		}
		if n := strings.Count(out, `<section class="sf-call"`); n != 3 {
			t.Errorf("%d call sections, want 3", n)
		}
		if n := strings.Count(out, "<article data-row="); n != 21 {
			t.Errorf("%d message texts, want 21", n)
		}
		own := strings.ReplaceAll(out, `xmlns="http://www.w3.org/2000/svg"`, "") // a namespace, not a link
		if strings.Contains(own, "http://") || strings.Contains(own, "https://") || strings.Contains(own, " src=") || strings.Contains(own, " href=") {
			t.Errorf("the report refers to something outside itself")
		}
	})
	t.Run("filters", func(t *testing.T) {
		out, _, code := sipflow(t, nil, "report", "--call-id", "gen-00000001", p)
		if n := strings.Count(out, "<tr data-call="); code != 0 || n != 1 {
			t.Errorf("exit %d, %d rows, want 1", code, n)
		}
		out, errs, code := sipflow(t, nil, "report", repoTestdata("register_wrong_password.pcap"))
		if code != exitUsage || out != "" || !strings.Contains(errs, "(1 registration would with --all)") {
			t.Errorf("without --all: exit %d, stdout %.40q, stderr %q", code, out, errs)
		}
		out, _, code = sipflow(t, nil, "report", "--all", repoTestdata("register_wrong_password.pcap"))
		if n := strings.Count(out, "<tr data-call="); code != 0 || n != 1 || !strings.Contains(out, "auth-failed") {
			t.Errorf("--all: exit %d, %d rows", code, n)
		}
	})
	t.Run("errors", func(t *testing.T) {
		if _, _, code := sipflow(t, nil, "report", "-o", filepath.Join(t.TempDir(), "no", "dir", "r.html"), p); code != 2 {
			t.Errorf("unwritable output: exit %d", code)
		}
		if _, _, code := sipflow(t, nil, "report", "/nonexistent.pcap"); code != 2 {
			t.Errorf("missing capture: exit %d", code)
		}
		if _, _, code := sipflow(t, nil, "report", "--by", "nope", p); code != 2 {
			t.Errorf("bad --by: exit %d", code)
		}
	})
}

// TestReportStreams: a call with RTP gets a loss and jitter plot per stream.
func TestReportStreams(t *testing.T) {
	out, _, code := sipflow(t, nil, "report", repoTestdata("call_rtp.pcap"))
	if code != 0 || strings.Count(out, `<figure class="sf-stream">`) != 2 || !strings.Contains(out, "jitter max") {
		t.Errorf("exit %d, want two stream plots", code)
	}
	out, _, _ = sipflow(t, nil, "report", "--no-rtp", repoTestdata("call_rtp.pcap"))
	if strings.Contains(out, `<figure class="sf-stream">`) {
		t.Errorf("stream plots with --no-rtp")
	}
}

// TestReportNoMatch: a report of no call is no report. As flow does, it
// says which calls would match with --all, exits 2, writes nothing on
// standard output, and leaves an older file of the -o name as it was.
func TestReportNoMatch(t *testing.T) {
	dir := t.TempDir()
	rtp := repoTestdata("call_rtp.pcap")
	cut := filepath.Join(dir, "cut.pcap")
	b, _ := os.ReadFile(rtp)
	os.WriteFile(cut, b[:700], 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // stderr
	}{
		{"state", []string{"--state", "failed", rtp}, exitUsage, "sipflow: no call in " + rtp + " matches\n"},
		{"call-id", []string{"--call-id", "nosuch", rtp}, exitUsage, "sipflow: no call in " + rtp + " matches\n"},
		{"kind", []string{repoTestdata("register_wrong_password.pcap")}, exitUsage,
			"sipflow: no call in " + repoTestdata("register_wrong_password.pcap") + " matches (1 registration would with --all)\n"},
		{"damaged", []string{"--state", "failed", cut}, exitDamaged, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := sipflow(t, nil, append([]string{"report"}, tc.args...)...)
			if code != tc.code || out != "" || tc.want != "" && errs != tc.want {
				t.Errorf("exit %d, stdout %.60q, stderr %q; want %d, nothing, %q", code, out, errs, tc.code, tc.want)
			}
			_, ferrs, fcode := sipflow(t, nil, append([]string{"flow"}, tc.args...)...)
			if fcode != code || ferrs != errs {
				t.Errorf("flow says %q (exit %d), report %q (exit %d)", ferrs, fcode, errs, code)
			}
			old := filepath.Join(dir, tc.name+".html")
			os.WriteFile(old, []byte("an older report"), 0o644)
			if _, _, code := sipflow(t, nil, append([]string{"report", "-o", old}, tc.args...)...); code != tc.code {
				t.Errorf("-o: exit %d, want %d", code, tc.code)
			}
			if b, _ := os.ReadFile(old); string(b) != "an older report" {
				t.Errorf("-o: the older file is now %.60q", b)
			}
			made := filepath.Join(dir, tc.name+"-new.html")
			sipflow(t, nil, append([]string{"report", "-o", made}, tc.args...)...)
			if _, err := os.Stat(made); !os.IsNotExist(err) {
				t.Errorf("-o: %s was made (%v)", made, err)
			}
		})
	}
}

// TestReportMaxCalls: a page holds the first --max-calls calls that match
// (5,000 unless told): the list and standard error say how many more
// matched; 0 is no limit, and a negative limit is refused.
func TestReportMaxCalls(t *testing.T) {
	big := manyCalls(t, t.TempDir(), 30)
	for _, tc := range []struct {
		args     []string
		sections int
		omitted  string // in the page and on stderr; "" for none
	}{
		{[]string{"--max-calls", "4"}, 4, "and 26 more that matched"},
		{[]string{"--max-calls", "0"}, 30, ""},
		{nil, 30, ""},
	} {
		out, errs, code := sipflow(t, nil, append([]string{"report", big}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", tc.args, code, errs)
		}
		if n := strings.Count(out, `<section class="sf-call"`); n != tc.sections {
			t.Errorf("%v: %d calls on the page, want %d", tc.args, n, tc.sections)
		}
		if tc.omitted == "" {
			if strings.Contains(out, "sf-omitted\">") || strings.Contains(errs, "holds the first") {
				t.Errorf("%v: calls said left out:\n%s", tc.args, errs)
			}
			continue
		}
		if !strings.Contains(out, tc.omitted) || !strings.Contains(errs, "the report holds the first 4 of the 30 calls that match") {
			t.Errorf("%v: the page or stderr does not say what was left out:\n%s", tc.args, errs)
		}
	}
	if _, _, code := sipflow(t, nil, "report", big, "--max-calls", "-1"); code != exitUsage {
		t.Errorf("--max-calls -1: exit %d, want 2", code)
	}
	// The default, which 30 calls do not reach: 5,000.
	if help, _, _ := sipflow(t, nil, "report", "--help"); !strings.Contains(help, "(default 5000)") {
		t.Errorf("--max-calls' default is not 5000:\n%s", help)
	}
}
