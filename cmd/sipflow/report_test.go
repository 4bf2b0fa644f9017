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
		out, _, code = sipflow(t, nil, "report", repoTestdata("register_wrong_password.pcap"))
		if n := strings.Count(out, "<tr data-call="); code != 0 || n != 0 {
			t.Errorf("without --all: exit %d, %d rows", code, n)
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
