package correlate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseFlowsErrors: a flow file a user wrote wrong is refused with
// the file, the line and what is wrong; a mistyped status is not taken
// for a request method.
func TestParseFlowsErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"status missing a digit", "flow f\nA -> B INVITE\nB -> A 18 *\n", `my.flow:3: "18" is neither a method`},
		{"status with one x too few", "flow f\nA -> B INVITE\nB -> A 2x\n", `my.flow:3: "2x" is neither a method`},
		{"status out of range", "flow f\nA -> B INVITE\nB -> A 700\n", `my.flow:3: "700" is neither a method`},
		{"status cut short before its method", "flow f\nA -> B INVITE\nB -> A 20 BYE\n", `my.flow:3: "20" is neither a method`},
		{"CSeq method not a name", "flow f\nA -> B INVITE\nB -> A 200 1NVITE\n", `my.flow:3: CSeq method "1NVITE"`},
		{"request with a CSeq method", "flow f\nA -> B BYE INVITE\n", `my.flow:2: a request step takes no CSeq method ("INVITE")`},
		{"unknown party", "flow f\nA -> C INVITE\n", `my.flow:2: unknown party "C"`},
		{"no arrow", "flow f\nA B INVITE\n", `my.flow:2: want: FROM -> TO`},
		{"step before a flow", "A -> B INVITE\n", `my.flow:1: a step before any 'flow NAME' line`},
		{"flow with no steps", "# comment\nflow empty\nflow f\nA -> B INVITE\n", `my.flow:2: flow empty has no steps`},
		{"flow line with two names", "flow a b\n", `my.flow:1: want: flow NAME`},
		{"dots with more", "flow f\nA -> B INVITE\n... +\n", `my.flow:3: '...' stands alone`},
		{"group opened with more", "flow f\n( A -> B INVITE\n", `my.flow:2: '(' stands alone`},
		{"group never closed", "flow f\nA -> B INVITE\n(\nB -> A 200\n", `my.flow:3: group not closed`},
		{"group open at the next flow", "flow f\n(\nA -> B INVITE\nflow g\nA -> B BYE\n", `my.flow:2: group not closed (')') before the next flow`},
		{"close with no group", "flow f\nA -> B INVITE\n) +\n", `my.flow:3: ')' closes no group`},
		{"close with a bad quantifier", "flow f\n(\nA -> B INVITE\n) 2\n", `my.flow:4: want: ) [?|*|+]`},
		{"close with two quantifiers", "flow f\n(\nA -> B INVITE\n) + ?\n", `my.flow:4: want: ) [?|*|+]`},
		{"group of optional steps", "flow f\nA -> B INVITE\n(\nB -> A 100 ?\n...\n) *\n", `my.flow:6: the group has no step that must match`},
		{"group of an optional group", "flow f\nA -> B INVITE\n(\n(\nB -> A 100\n) ?\n) +\n", `my.flow:7: the group has no step that must match`},
		{"empty group", "flow f\nA -> B INVITE\n(\n)\n", `my.flow:4: the group has no step that must match`},
		{"group of dots", "flow f\nA -> B INVITE\n(\n...\n) +\n", `my.flow:5: the group has no step that must match`},
		{"unknown condition", "flow f\nA -> B INVITE [held]\n", `my.flow:2: unknown condition "held" (want one of sdp, no-sdp, hold,`},
		{"condition not closed", "flow f\nA -> B INVITE [hold\n", `my.flow:2: conditions "[hold": want [NAME]`},
		{"empty conditions", "flow f\nA -> B INVITE [] ?\n", `my.flow:2: conditions "[]": want [NAME]`},
		{"conditions in place of the message", "flow f\nA -> B [hold]\n", `my.flow:2: want a method, or a status`},
		{"conditions before the CSeq method", "flow f\nB -> A 200 [t38] INVITE\n", `my.flow:2: conditions "[t38]INVITE": want [NAME] or [NAME,NAME...], last but for a quantifier`},
		{"sdp and no-sdp", "flow f\nA -> B INVITE [sdp, no-sdp]\n", `my.flow:2: conditions "[sdp,no-sdp]": sdp and no-sdp cannot both hold`},
		{"quantifier inside the brackets", "flow f\nA -> B INVITE [hold ?]\n", `my.flow:2: unknown condition "hold?"`},
		{"quantifier before the conditions", "flow f\nA -> B INVITE ? [hold]\n", `my.flow:2: the quantifier "?" goes last, after the conditions`},
		{"quantifier before a response's conditions", "flow f\nB -> A 200 ? [t38]\n", `my.flow:2: the quantifier "?" goes last`},
		{"no space before the bracket", "flow f\nA -> B INVITE[hold]\n", `my.flow:2: "INVITE[hold]": a space goes before the conditions' '['`},
		{"t38 on a request", "flow f\nA -> B INVITE [sdp,t38]\n", `my.flow:2: [t38] marks the 2xx that accepted the switch, not a request`},
		{"hold on a response", "flow f\nB -> A 2xx INVITE [hold]\n", `my.flow:2: [hold] marks a request (the offer, the REFER or the NOTIFY), not a response`},
		{"transfer-result on a response", "flow f\nB -> A 200 NOTIFY [transfer-result]\n", `my.flow:2: [transfer-result] marks a request`},
		{"hold on an ACK", "flow f\nA -> B ACK [hold]\n", `my.flow:2: [hold] marks a re-INVITE or UPDATE, not ACK`},
		{"transfer on an INVITE", "flow f\nA -> B INVITE [transfer]\n", `my.flow:2: [transfer] marks a REFER, not INVITE`},
		{"transfer-result on a REFER", "flow f\nA -> B REFER [transfer-result]\n", `my.flow:2: [transfer-result] marks a NOTIFY, not REFER`},
		{"replaces on a response", "flow f\nB -> A 200 INVITE [replaces]\n", `my.flow:2: [replaces] marks a request (the INVITE or the REFER), not a response`},
		{"replaces on a BYE", "flow f\nA -> B INVITE\n...\nA -> B BYE [replaces]\n", `my.flow:4: [replaces] marks an INVITE or a REFER, not BYE`},
		{"t38 on a BYE's answer", "flow f\nB -> A 200 BYE [t38]\n", `my.flow:2: [t38] marks a response to a re-INVITE or UPDATE, not to BYE`},
		{"hold and resume", "flow f\nA -> B INVITE [hold,resume]\n", `my.flow:2: [hold,resume]: no message is both`},
		{"hold and change", "flow f\nA -> B UPDATE [reoffer,hold]\n", `my.flow:2: [hold,reoffer]: no message is both`},
		{"a 100 to a BYE", "flow f\nA -> B INVITE\n...\nB -> A 100 BYE ?\n", `my.flow:4: a 100 to BYE is no step: it says nothing, and the flows leave it out (RFC 4320 §4.1)`},
		{"a REGISTER before the INVITE", "flow f\nA -> B REGISTER\nB -> A 200 REGISTER\nA -> B INVITE\n...\n", `my.flow:2: REGISTER before the flow's INVITE: a call's flow starts at its INVITE`},
		{"change on a response", "flow f\nB -> A 2xx INVITE [reoffer]\n", `my.flow:2: [reoffer] marks a request (the offer, the REFER or the NOTIFY), not a response`},
		{"change on an ACK", "flow f\nA -> B ACK [reoffer]\n", `my.flow:2: [reoffer] marks a re-INVITE or UPDATE, not ACK`},
		{"required steps only inside an optional group", "flow f\nA -> B INVITE\n(\n(\n(\nB -> A 100\n)\nB -> A 180\n) ?\n) +\n", `my.flow:10: the group has no step that must match`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFlows(strings.NewReader(tt.text), "my.flow")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	// A group whose only required step follows an optional group in it.
	if _, err := ParseFlows(strings.NewReader("flow f\nA -> B INVITE\n(\n(\nB -> A 100\n) ?\nB -> A 180\n) +\n"), "good.flow"); err != nil {
		t.Errorf("a group with a required step after an optional group: %v", err)
	}
	good := "flow f\nA -> B INVITE [No-SDP]\nB -> A 18x * \nB -> A 2XX invite [t38, sdp ] +\nA -> B ack\n(\n(\nany -> any INVITE [sdp,resume]\n)\nany -> any 100 ?\n) *\n...\nany -> any BYE ?\n"
	flows, err := ParseFlows(strings.NewReader(good), "good.flow")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range flows[0].Steps {
		got = append(got, s.String())
	}
	want := "A -> B INVITE [no-sdp]|B -> A 18x *|B -> A 2xx INVITE [sdp,t38] +|A -> B ACK|(|(|any -> any INVITE [sdp,resume]|)|any -> any 100 ?|) *|...|any -> any BYE ?"
	if strings.Join(got, "|") != want {
		t.Errorf("steps %q, want %q", strings.Join(got, "|"), want)
	}
}

// TestLoadFlowDirErrors: --flows names a folder; one that is missing, a
// file, or a folder without flows is said to be so, and an error in a
// file names it by its path, not its base name alone.
func TestLoadFlowDirErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.Mkdir(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "x.flow"), []byte("flow x\nA -> B 2x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ dir, want string }{
		{filepath.Join(dir, "missing"), "no such file or directory"},
		{file, file + ": not a folder"},
		{dir, dir + ": no *.flow files"},
		{bad, filepath.Join(bad, "x.flow") + `:2: "2x" is neither`},
	} {
		if _, err := LoadFlowDir(tt.dir, DefaultFlows()); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadFlowDir(%s): %v, want an error containing %q", tt.dir, err, tt.want)
		}
	}
	good := filepath.Join(dir, "good")
	if err := os.Mkdir(good, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(good, "basic.flow"), []byte("flow basic-call\nA -> B INVITE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(good, "mine.flow"), []byte("flow mine\nA -> B INVITE [no-sdp]\n...\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	builtin := DefaultFlows()
	flows, err := LoadFlowDir(good, builtin)
	if err != nil {
		t.Fatal(err)
	}
	// A flow of the user's that no built-in one is named for comes first
	// (a call it matches is said to match it); one that replaces a
	// built-in one takes its place.
	if len(flows) != len(builtin)+1 || flows[0].Name != "mine" {
		t.Fatalf("%d flows, the first %q; want %d, mine first", len(flows), flows[0].Name, len(builtin)+1)
	}
	for i, f := range flows[1:] {
		if f.Name != builtin[i].Name {
			t.Errorf("flow %d is %s, want %s", i+1, f.Name, builtin[i].Name)
		}
		if f.Name == "basic-call" && f.File != filepath.Join(good, "basic.flow") {
			t.Errorf("basic-call replaced from %q, want %q", f.File, filepath.Join(good, "basic.flow"))
		}
	}
}

// FuzzParseFlows: any text either parses, or is refused with an error
// that names the file and a line; what parses prints (Flow.String, as
// --list-flows does) to a text that parses to the same steps, and its
// flows run over a call's messages to an answer (groups and all).
func FuzzParseFlows(f *testing.F) {
	for _, name := range []string{"basic-call", "hold-resume", "precondition-call", "blind-transfer", "t38-fax"} {
		b, err := builtinFlows.ReadFile("flows/" + name + ".flow")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{"flow f\n(\nA -> B INVITE\n(\nB -> A 18x ?\nB -> A 2xx\n) *\n) +\n...\n", "flow f\n)\n", "flow f\n(\n", "x", "flow f\nA -> B 18 *\n"} {
		f.Add(s)
	}
	m := func(n int, from, to side, method string, status int, cseqMethod string, cond Cond) flowMsg {
		fm := flowMsg{m: &Message{N: n, Method: method, Status: status, CSeqMethod: cseqMethod}, from: from, to: to, cond: cond}
		if status != 0 {
			fm.code = [3]byte{byte('0' + status/100), byte('0' + status/10%10), byte('0' + status%10)}
		}
		return fm
	}
	const sdp, none = CondSDP, CondNoSDP
	view := []flowMsg{
		m(1, sideA, sideB, "INVITE", 0, "INVITE", sdp), m(2, sideB, sideA, "", 100, "INVITE", none), m(3, sideB, sideA, "", 180, "INVITE", none),
		m(4, sideB, sideA, "", 200, "INVITE", sdp), m(5, sideA, sideB, "ACK", 0, "ACK", none), m(6, sideA, sideB, "INVITE", 0, "INVITE", sdp|CondHold),
		m(7, sideB, sideA, "", 200, "INVITE", sdp|CondT38), m(8, sideA, sideB, "ACK", 0, "ACK", none), m(9, sideA, sideB, "BYE", 0, "BYE", none), m(10, sideB, sideA, "", 200, "BYE", none),
	}
	f.Fuzz(func(t *testing.T, text string) {
		flows, err := ParseFlows(strings.NewReader(text), "f.flow")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.flow:") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		var b strings.Builder
		for _, fl := range flows {
			b.WriteString(fl.String())
		}
		again, err := ParseFlows(strings.NewReader(b.String()), "printed.flow")
		if err != nil {
			t.Fatalf("printed flows do not parse: %v\n%s", err, b.String())
		}
		if len(again) != len(flows) {
			t.Fatalf("%d flows printed, %d parsed again", len(flows), len(again))
		}
		for i := range flows {
			if a, b := stepsText(flows[i].Steps), stepsText(again[i].Steps); a != b {
				t.Fatalf("flow %s printed and parsed again:\n%s\nwant\n%s", flows[i].Name, b, a)
			}
		}
		var mt matcher
		matchView(view, KindCall, flows, &mt)
	})
}

// stepsText is what matching reads of steps, one line each.
func stepsText(steps []Step) string {
	var b strings.Builder
	for _, st := range steps {
		fmt.Fprintf(&b, "%s %s %s %s %s %d %d %t %c %d\n", st.From, st.To, st.Method, st.Status, st.CSeq, st.Min, st.Max, st.Any, st.Group, st.Cond)
	}
	return b.String()
}
