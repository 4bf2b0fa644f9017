package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMessagesAgreeWithTshark: on every capture in testdata, `sipflow
// messages` finds the SIP messages tshark finds, in the same packets:
// over UDP, TCP and WebSocket (ws_call.pcap: tshark reads it through the
// HTTP upgrade), IPv4 and IPv6. Skipped without tshark.
func TestMessagesAgreeWithTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	files, _ := filepath.Glob(repoTestdata("*.pcap"))
	if len(files) < 30 {
		t.Fatalf("%d captures in testdata", len(files))
	}
	for _, file := range files {
		cmd := exec.Command(tshark, "-n", "-r", file, "-Y", "sip", "-T", "fields", "-E", "occurrence=f",
			"-e", "frame.number", "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.Call-ID")
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", file, err)
		}
		want := strings.TrimSpace(string(out))
		stdout, stderr, code := sipflow(t, nil, "messages", "--json", file)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", file, code, stderr)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var m struct {
				N      int    `json:"n"`
				Method string `json:"method"`
				Status int    `json:"status"`
				CallID string `json:"call_id"`
			}
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%s: %v: %s", file, err, line)
			}
			status := ""
			if m.Status != 0 {
				status = fmt.Sprint(m.Status)
			}
			got = append(got, fmt.Sprintf("%d\t%s\t%s\t%s", m.N, m.Method, status, m.CallID))
		}
		if g := strings.Join(got, "\n"); g != want {
			t.Errorf("%s: sipflow finds\n%s\ntshark finds\n%s", filepath.Base(file), g, want)
		}
	}
}
