package correlate

import (
	"bufio"
	"embed"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Flow is an expected message sequence, such as "basic call" or
// "registration with digest challenge", written in the flow format:
//
//	# comment
//	flow NAME
//	title One line that says what it is
//	A -> B INVITE            a request: FROM -> TO METHOD
//	B -> A 18x *             a response: status (200), class (2xx) or 18x
//	B -> A 2xx INVITE        optionally with the CSeq method it answers
//	any -> any BYE           A is the caller, B the other side, any is either
//	any -> any INVITE [hold] what the message did, in brackets (Cond)
//	...                      any messages (as few as possible)
//
// A step may end with a quantifier: ? (optional), * (any number), + (one
// or more). Steps between a line "(" and a line ")" form a group, and a
// quantifier after the ")" applies to the group (groups nest; a group must
// hold a step that is not optional, so that each repeat matches a
// message). A call matches a flow when the messages of its first leg on the
// caller's first hop (and, past a proxy that does not Record-Route, the
// in-dialog requests between the parties straight: viewSides),
// retransmissions left out, match the steps from the first to the last.
// PRACKs (RFC 3262), INFOs (RFC 6086: DTMF, ...) and OPTIONS (in a call,
// a keepalive), and their responses, are left out too, unless a step of
// the flow names the method (incidental).
type Flow struct {
	Name  string
	Title string
	Steps []Step
	File  string // where it was read from
}

// String is f in the flow format: its "flow" and "title" lines, then a
// line a step, as ParseFlows reads it back (sipflow check --list-flows).
func (f *Flow) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flow %s\ntitle %s\n", f.Name, f.Title)
	for _, s := range f.Steps {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Step is one line of a flow.
type Step struct {
	From, To string // "A", "B" or "any"
	Method   string // request method, or "" for a response
	Status   string // "200", "2xx", "18x", ... for a response
	CSeq     string // CSeq method a response must answer, or ""
	Cond     Cond   // what the message must have done besides ([hold], [sdp,t38]); 0 for nothing
	Min, Max int    // how many times (Max -1: unbounded); a group's on both its ends
	Any      bool   // the "..." wildcard
	Group    byte   // '(' or ')': where a group starts or ends, not a message
	Line     int

	from, to side // From and To as the matcher compares them (ParseFlows sets them; else read from From and To)
}

// Cond is what a step asks of a message besides its parties, method and
// status, written in brackets after them: "any -> any INVITE [hold]",
// "A -> B INVITE [no-sdp]", several between commas ("[sdp,hold]"), all of
// which must hold. The names other than sdp, no-sdp and reoffer are the
// event kinds of a call (Event.Kind), each marking the message that made
// the event, on the flow's own hop:
//
//	sdp              the message carries an SDP body
//	no-sdp           it carries none
//	hold             a re-INVITE or UPDATE whose offer asks to put the call on hold
//	resume           one whose offer asks to take it off hold
//	reoffer          one whose offer neither holds, resumes, nor offers or
//	                 leaves T.38: a codec, an address or a stream changed,
//	                 or the same session offered again
//	t38              the 2xx that accepted a switch to T.38 fax (RFC 3362)
//	t38-end          the 2xx that accepted the switch back from it
//	transfer         a REFER (RFC 3515)
//	transfer-result  a NOTIFY that reports a transfer's outcome (message/sipfrag)
//	replaces         an INVITE with a Replaces header (RFC 3891), or a REFER
//	                 whose Refer-To carries one (an attended transfer)
//
// A re-INVITE without SDP (a late offer: its 2xx offers, its ACK answers)
// is marked hold, resume or reoffer by what its exchange did, and its 2xx
// t38 or t38-end when the ACK accepted the switch (session.lateAnswered).
//
// (session.holdChange says what counts as asking.) ParseFlows refuses a
// condition on a step whose messages never meet it: t38 or t38-end on a
// request, or on a response to other than a re-INVITE or UPDATE; hold,
// resume or reoffer on other than INVITE or UPDATE; transfer on other than
// REFER; transfer-result on other than NOTIFY; replaces on other than
// INVITE or REFER; two of hold, resume and
// reoffer; t38 with t38-end.
type Cond uint16

// The conditions a step can ask for.
const (
	CondSDP Cond = 1 << iota
	CondNoSDP
	CondHold
	CondResume
	CondT38
	CondT38End
	CondTransfer
	CondTransferResult
	CondReoffer
	CondReplaces
)

// condNames are the conditions' names in the flow format, by bit.
var condNames = [...]string{"sdp", "no-sdp", "hold", "resume", "t38", "t38-end", "transfer", "transfer-result", "reoffer", "replaces"}

// String is c as a flow step writes it between its brackets: "sdp,hold".
func (c Cond) String() string {
	var b strings.Builder
	for i, name := range condNames {
		if c&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(name)
		}
	}
	return b.String()
}

// parseCond reads a step's bracketed conditions, brackets included
// ("[sdp,hold]").
func parseCond(s string) (Cond, error) {
	inner, ok := strings.CutPrefix(s, "[")
	if inner, ok = strings.CutSuffix(inner, "]"); !ok || inner == "" {
		return 0, fmt.Errorf("conditions %q: want [NAME] or [NAME,NAME...], last but for a quantifier", s)
	}
	var c Cond
	for _, name := range strings.Split(inner, ",") {
		i := slices.Index(condNames[:], strings.ToLower(name))
		if i < 0 {
			return 0, fmt.Errorf("unknown condition %q (want one of %s)", name, strings.Join(condNames[:], ", "))
		}
		c |= 1 << i
	}
	if c&CondSDP != 0 && c&CondNoSDP != 0 {
		return 0, fmt.Errorf("conditions %q: sdp and no-sdp cannot both hold", s)
	}
	return c, nil
}

// side is a party as the matcher sees it: the caller, the other side, or
// (in a step) either; sideNone for neither, or a Step made by hand.
type side uint8

const (
	sideNone side = iota
	sideA
	sideB
	sideAny
)

func (s side) String() string {
	switch s {
	case sideA:
		return "A"
	case sideB:
		return "B"
	}
	return "any"
}

func sideOf(party string) side {
	switch party {
	case "A":
		return sideA
	case "B":
		return sideB
	}
	return sideAny
}

// sides returns the step's parties as the matcher compares them.
func (s *Step) sides() (from, to side) {
	if s.from == sideNone { // made by hand, not by ParseFlows
		return sideOf(s.From), sideOf(s.To)
	}
	return s.from, s.to
}

func (s Step) String() string {
	if s.Any {
		return "..."
	}
	if s.Group == '(' {
		return "("
	}
	what := s.Method
	if what == "" {
		what = s.Status
		if s.CSeq != "" {
			what += " " + s.CSeq
		}
	}
	if s.Cond != 0 {
		what += " [" + s.Cond.String() + "]"
	}
	q := ""
	switch {
	case s.Min == 0 && s.Max == 1:
		q = " ?"
	case s.Min == 0 && s.Max < 0:
		q = " *"
	case s.Min == 1 && s.Max < 0:
		q = " +"
	}
	if s.Group == ')' {
		return ")" + q
	}
	return s.From + " -> " + s.To + " " + what + q
}

//go:embed flows/*.flow
var builtinFlows embed.FS

// DefaultFlows returns the built-in flows.
func DefaultFlows() []*Flow {
	flows, err := LoadFlows(builtinFlows, "flows")
	if err != nil {
		panic(fmt.Sprintf("correlate: built-in flows: %v", err)) // a bug in a file shipped with the binary
	}
	return flows
}

// LoadFlows reads every *.flow file of a directory in fsys.
func LoadFlows(fsys fs.FS, dir string) ([]*Flow, error) {
	return loadFlows(fsys, dir, func(name string) string { return name })
}

// loadFlows is LoadFlows, with shown giving the name errors and Flow.File
// use for a file's name in fsys.
func loadFlows(fsys fs.FS, dir string, shown func(string) string) ([]*Flow, error) {
	names, err := fs.Glob(fsys, filepath.ToSlash(filepath.Join(dir, "*.flow")))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var flows []*Flow
	for _, name := range names {
		f, err := fsys.Open(name)
		if err != nil {
			return nil, err
		}
		fl, err := ParseFlows(f, shown(name))
		f.Close()
		if err != nil {
			return nil, err
		}
		flows = append(flows, fl...)
	}
	return flows, nil
}

// LoadFlowDir reads the flows of a directory on disk and merges them into
// base: a flow with the name of one of base's replaces it where it stands,
// and the others come before base's, so that a flow the user wrote for
// calls a built-in one also matches (a late offer is a basic call too) is
// the one a call is said to match.
func LoadFlowDir(dir string, base []*Flow) ([]*Flow, error) {
	// A folder that is not there has no *.flow files either: say which.
	if st, err := os.Stat(dir); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a folder", dir)
	}
	extra, err := loadFlows(os.DirFS(dir), ".", func(name string) string { return filepath.Join(dir, name) })
	if err != nil {
		return nil, err
	}
	if len(extra) == 0 {
		return nil, fmt.Errorf("%s: no *.flow files", dir)
	}
	var added []*Flow
	out := slices.Clone(base)
	for _, f := range extra {
		replaced := false
		for i, b := range out {
			if b.Name == f.Name {
				out[i], replaced = f, true
			}
		}
		if !replaced {
			added = append(added, f)
		}
	}
	return append(added, out...), nil
}

// ParseFlows parses flow definitions; file names the source in errors.
func ParseFlows(r io.Reader, file string) ([]*Flow, error) {
	var flows []*Flow
	var starts []int // the line of each flow's "flow NAME"
	var cur *Flow
	var open []int // the steps of the groups open in cur, innermost last
	var openLine []int
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		errf := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...))
		}
		switch {
		case f[0] == "flow":
			if len(f) != 2 {
				return nil, errf("want: flow NAME")
			}
			if len(open) > 0 {
				return nil, fmt.Errorf("%s:%d: group not closed (')') before the next flow", file, openLine[len(open)-1])
			}
			cur = &Flow{Name: f[1], File: file}
			flows, starts = append(flows, cur), append(starts, line)
		case cur == nil:
			return nil, errf("a step before any 'flow NAME' line")
		case f[0] == "title":
			cur.Title = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), "title"))
		case f[0] == "...":
			if len(f) != 1 {
				return nil, errf("'...' stands alone on its line")
			}
			cur.Steps = append(cur.Steps, Step{Any: true, Min: 0, Max: -1, Line: line})
		case f[0] == "(":
			if len(f) != 1 {
				return nil, errf("'(' stands alone on its line")
			}
			open, openLine = append(open, len(cur.Steps)), append(openLine, line)
			cur.Steps = append(cur.Steps, Step{Group: '(', Min: 1, Max: 1, Line: line})
		case f[0] == ")":
			st := Step{Group: ')', Min: 1, Max: 1, Line: line}
			switch {
			case len(f) > 2 || len(f) == 2 && !setQuantifier(&st, f[1]):
				return nil, errf("want: ) [?|*|+]")
			case len(open) == 0:
				return nil, errf("')' closes no group")
			}
			start := open[len(open)-1]
			open, openLine = open[:len(open)-1], openLine[:len(openLine)-1]
			if !required(cur.Steps[start+1:]) {
				return nil, errf("the group has no step that must match a message (each of its repeats must match one)")
			}
			cur.Steps[start].Min, cur.Steps[start].Max = st.Min, st.Max
			cur.Steps = append(cur.Steps, st)
		default:
			st, err := parseStep(f)
			if err != nil {
				return nil, errf("%v", err)
			}
			st.Line = line
			cur.Steps = append(cur.Steps, st)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(open) > 0 {
		return nil, fmt.Errorf("%s:%d: group not closed (')')", file, openLine[len(open)-1])
	}
	for i, fl := range flows {
		if len(fl.Steps) == 0 {
			return nil, fmt.Errorf("%s:%d: flow %s has no steps", file, starts[i], fl.Name)
		}
		if st := beforeInvite(fl.Steps); st != nil {
			return nil, fmt.Errorf("%s:%d: %s before the flow's INVITE: a call's flow starts at its INVITE (what comes before it with its Call-ID is business of its own)", file, st.Line, st.Method)
		}
	}
	return flows, nil
}

// beforeInvite returns a step that asks a request other than INVITE before
// a flow's first INVITE step, nil when none does: flowView starts a call's
// view at its INVITE.
func beforeInvite(steps []Step) *Step {
	var first *Step
	for i := range steps {
		switch st := &steps[i]; {
		case st.Method == "INVITE":
			return first
		case first == nil && st.Method != "":
			first = st
		}
	}
	return nil
}

func parseParty(s string) (string, error) {
	switch strings.ToLower(s) {
	case "a":
		return "A", nil
	case "b":
		return "B", nil
	case "any", "*":
		return "any", nil
	}
	return "", fmt.Errorf("unknown party %q (want A, B or any)", s)
}

func parseStep(f []string) (Step, error) {
	st := Step{Min: 1, Max: 1}
	if len(f) < 4 || f[1] != "->" {
		return st, fmt.Errorf("want: FROM -> TO MESSAGE [CSEQ-METHOD] [[CONDITIONS]] [?|*|+], got %q", strings.Join(f, " "))
	}
	var err error
	if st.From, err = parseParty(f[0]); err != nil {
		return st, err
	}
	if st.To, err = parseParty(f[2]); err != nil {
		return st, err
	}
	st.from, st.to = sideOf(st.From), sideOf(st.To)
	rest := f[3:]
	if setQuantifier(&st, rest[len(rest)-1]) {
		rest = rest[:len(rest)-1]
	}
	// The conditions: from the first word that opens a bracket to the
	// end, spaces dropped ("[sdp, hold]" is "[sdp,hold]").
	if i := slices.IndexFunc(rest, func(w string) bool { return strings.Contains(w, "[") }); i >= 0 {
		if !strings.HasPrefix(rest[i], "[") {
			return st, fmt.Errorf("%q: a space goes before the conditions' '['", rest[i])
		}
		if st.Cond, err = parseCond(strings.Join(rest[i:], "")); err != nil {
			return st, err
		}
		rest = rest[:i]
		if len(rest) > 0 && setQuantifier(&Step{}, rest[len(rest)-1]) {
			return st, fmt.Errorf("the quantifier %q goes last, after the conditions", rest[len(rest)-1])
		}
	}
	if len(rest) == 0 || len(rest) > 2 {
		return st, fmt.Errorf("want a method, or a status and optionally a CSeq method")
	}
	switch {
	case isStatusPattern(rest[0]):
		st.Status = strings.ToLower(rest[0])
		if len(rest) == 2 {
			if !isMethodName(rest[1]) {
				return st, fmt.Errorf("CSeq method %q: want a method name such as INVITE", rest[1])
			}
			st.CSeq = strings.ToUpper(rest[1])
		}
	case !isMethodName(rest[0]):
		// "18", "2x", "700", "20 BYE": a status mistyped, most likely.
		return st, fmt.Errorf("%q is neither a method (letters: INVITE, BYE, ...) nor a status (three characters, the first 1-6, the others digits or x: 200, 18x, 4xx)", rest[0])
	case len(rest) == 2:
		return st, fmt.Errorf("a request step takes no CSeq method (%q)", rest[1])
	default:
		st.Method = strings.ToUpper(rest[0])
	}
	// A condition that no message of the step's kind meets would make the
	// step match nothing: say so.
	if st.Status == "100" && st.CSeq != "" && st.CSeq != "INVITE" {
		return st, fmt.Errorf("a 100 to %s is no step: it says nothing, and the flows leave it out (RFC 4320 §4.1)", st.CSeq)
	}
	c := st.Cond
	switch {
	case c&(CondT38|CondT38End) != 0 && st.Method != "":
		return st, fmt.Errorf("[%v] marks the 2xx that accepted the switch, not a request", c&(CondT38|CondT38End))
	case c&(CondT38|CondT38End) != 0 && st.CSeq != "" && st.CSeq != "INVITE" && st.CSeq != "UPDATE":
		return st, fmt.Errorf("[%v] marks a response to a re-INVITE or UPDATE, not to %s", c&(CondT38|CondT38End), st.CSeq)
	case c&(CondHold|CondResume|CondReoffer|CondTransfer|CondTransferResult) != 0 && st.Method == "":
		return st, fmt.Errorf("[%v] marks a request (the offer, the REFER or the NOTIFY), not a response", c&(CondHold|CondResume|CondReoffer|CondTransfer|CondTransferResult))
	case c&CondReplaces != 0 && st.Method == "":
		return st, fmt.Errorf("[replaces] marks a request (the INVITE or the REFER), not a response")
	case c&(CondHold|CondResume|CondReoffer) != 0 && st.Method != "INVITE" && st.Method != "UPDATE":
		return st, fmt.Errorf("[%v] marks a re-INVITE or UPDATE, not %s", c&(CondHold|CondResume|CondReoffer), st.Method)
	case c&CondTransfer != 0 && st.Method != "REFER":
		return st, fmt.Errorf("[transfer] marks a REFER, not %s", st.Method)
	case c&CondTransferResult != 0 && st.Method != "NOTIFY":
		return st, fmt.Errorf("[transfer-result] marks a NOTIFY, not %s", st.Method)
	case c&CondReplaces != 0 && st.Method != "INVITE" && st.Method != "REFER":
		return st, fmt.Errorf("[replaces] marks an INVITE or a REFER, not %s", st.Method)
	case bits.OnesCount16(uint16(c&(CondHold|CondResume|CondReoffer))) > 1, c&(CondT38|CondT38End) == CondT38|CondT38End:
		return st, fmt.Errorf("[%v]: no message is both", c)
	}
	return st, nil
}

// setQuantifier sets st's Min and Max from q when q is a quantifier (?, *
// or +), and reports whether it was.
func setQuantifier(st *Step, q string) bool {
	switch q {
	case "?":
		st.Min, st.Max = 0, 1
	case "*":
		st.Min, st.Max = 0, -1
	case "+":
		st.Min, st.Max = 1, -1
	default:
		return false
	}
	return true
}

// required reports whether steps, a group's body with its closing end
// not yet added, hold a step that must match a message: a message step
// that is not optional, or a group with such a step that is not optional
// itself.
func required(steps []Step) bool {
	depth := 0 // how deep inside optional groups
	for _, st := range steps {
		switch {
		case st.Group == '(' && (depth > 0 || st.Min == 0):
			depth++
		case st.Group == '(':
			return true // a group that must match, and holds such a step (checked when it closed)
		case st.Group == ')': // one that the optional depth counted: a required one returned
			depth--
		case depth == 0 && st.Min > 0: // "..." has Min 0
			return true
		}
	}
	return false
}

// isMethodName reports whether s can name a request method in a flow:
// letters only, as every method registered for SIP is spelt (RFC 3261
// allows any token, but no stack sends one with digits or signs).
func isMethodName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func isStatusPattern(s string) bool {
	if len(s) != 3 || s[0] < '1' || s[0] > '6' {
		return false
	}
	for _, c := range s[1:] {
		if !(c >= '0' && c <= '9' || c == 'x' || c == 'X') {
			return false
		}
	}
	return true
}

// flowMsg is a message as the matcher sees it.
type flowMsg struct {
	m        *Message
	from, to side    // A or B
	code     [3]byte // a response's status code, in digits
	cond     Cond    // the conditions it meets (Step.Cond)
}

// flowView returns the messages a flow is matched against: the first leg,
// on the caller's first hop (viewSides: with the in-dialog requests that
// go past a proxy that does not Record-Route), without retransmissions,
// and for a call from its INVITE on. A 100 to a request other than INVITE
// (RFC 4320 §4.1 lets it come only late, and it says nothing), or to an
// INVITE after another provisional response of it, is no step either.
// targets is memory for the remote targets the view learns (viewSides),
// the matcher's, kept from call to call.
func flowView(c *Call, out []flowMsg, targets *[]remoteTarget) []flowMsg {
	vs := viewSides{c: c, byAddr: c.Caller.Addr() != c.Callee.Addr(), targets: (*targets)[:0]}
	out = out[:0]
	var prov provisionals // which 1xx the view holds, once it is long
	var rf *refreshes     // most calls have no session timer: nothing to set up
	if c.Legs[0].timer {
		rf = new(refreshes)
	}
	var ss session // what the view's messages so far did (marks)
	var late lateExchanges
	msgs := c.Legs[0].Messages
	if c.Kind == KindCall {
		msgs = msgs[callStart(msgs):]
	}
	for _, m := range msgs {
		if m.Retransmission {
			continue
		}
		f, t := vs.at(m.Src), vs.at(m.Dst)
		if len(vs.targets) > 0 { // remote targets learned: each is its side, even at the caller's or callee's address
			f, t = vs.learnedOr(m.Src, f), vs.learnedOr(m.Dst, t)
		}
		if f == sideNone || t == sideNone || f == t {
			if m.ToTag == "" || !m.IsRequest() {
				continue
			}
			if f, t = vs.direct(m, f, t); f == sideNone || t == sideNone || f == t {
				continue
			}
		}
		// The marks first: a message the view leaves out (a refresh, a
		// second 100) may still settle an offer to hold.
		var cond Cond
		if m.ext != nil || len(ss.offers) > 0 || m.Method == "REFER" { // else no mark: most messages
			cond = ss.marks(c.Legs[0], m)
		}
		did := cond // what m did, whichever message its marks go to
		if cond&^(CondT38|CondT38End) != 0 && !m.IsRequest() || cond != 0 && m.Method == "ACK" {
			// A late offer's 2xx or ACK: its marks go to its exchange's.
			if rf != nil {
				lateMarks(rf.late, m, cond)
			}
			if late == nil {
				late = make(map[cseqKey]exchangeMarks)
			}
			cond = late.add(m, cond)
		}
		if rf != nil && rf.skip(m, f) && !rf.brought(&out, &prov, m, f, t, cond, did) {
			continue
		}
		if m.Status == 100 && (m.CSeqMethod != "INVITE" || prov.seen(out, m, f)) {
			continue // hop-by-hop news of nothing: no step
		}
		// newFlowMsg's work, written out: here, for every message of every
		// call, the call's copy of the struct costs 0.4 M instructions on
		// big-sip's head.
		fm := flowMsg{m: m, from: f, to: t, cond: cond | CondNoSDP}
		if m.hasSDP {
			fm.cond = cond | CondSDP
		}
		if !m.IsRequest() {
			fm.code = [3]byte{byte('0' + m.Status/100%10), byte('0' + m.Status/10%10), byte('0' + m.Status%10)}
		}
		out = append(out, fm)
	}
	if rf != nil {
		rf.flush(&out, &prov)
	}
	late.mark(out)
	if len(vs.targets) > 0 {
		*targets = vs.targets
	}
	return out
}

// viewSides places the ends of a call's messages on the sides of its
// flow's view (flowView): the caller (A) and the other side (B). The
// caller's first hop joins the source and the destination of the call's
// first message (Call.Caller, Call.Callee), each also known by its
// address when the two differ (over TCP a party sends from a port of its
// own). A proxy that does not Record-Route leaves the dialog's route set
// empty, and then each party sends its in-dialog requests (the ACK to the
// 2xx, a BYE, a re-INVITE) straight to the other's remote target, the
// Contact of the 2xx or of the INVITE, past the proxy (RFC 3261 §12.2.1.1,
// §16.6 step 4): that hop is the caller's too, and its other end is
// learned from the requests that cross it (direct), a remote target
// refreshed by a re-INVITE's Contact as much as the first. A route set
// keeps the proxies on the path, and the view as the first hop made it.
//
// The one thing a reader gets wrong: a remote target is learned only from
// a request whose Request-URI names the address it went to and one of
// whose ends is already on its side; a copy of a message on another hop
// (a proxy's relay, a NAT between two capture points) teaches nothing, and
// the hops beyond the parties stay out of the view.
type viewSides struct {
	c      *Call // its Caller and Callee, and its first leg, whose dialogs say the route set and the caller's tag
	byAddr bool  // caller and callee have two addresses: each is known by it too

	// targets: the remote targets learned (direct), each by its address
	// and port, in memory kept from view to view (flowView's targets).
	targets []remoteTarget
}

// remoteTarget is an address and port a dialog's in-dialog requests went
// to straight, and the side it is (viewSides.direct).
type remoteTarget struct {
	ap netip.AddrPort
	s  side
}

// at returns the side ap is on by the caller's first hop: the caller's or
// the callee's address and port, or else, when they have two addresses,
// the caller's or the callee's address at another port; sideNone for none
// of them. (Small enough to be inlined: flowView asks it twice a message.
// The remote targets learned come after it, learnedOr.)
func (vs *viewSides) at(ap netip.AddrPort) side {
	switch {
	case ap == vs.c.Caller:
		return sideA
	case ap == vs.c.Callee:
		return sideB
	case vs.byAddr && ap.Addr() == vs.c.Caller.Addr():
		return sideA
	case vs.byAddr && ap.Addr() == vs.c.Callee.Addr():
		return sideB
	}
	return sideNone
}

// learnedOr returns the side of ap when it is a remote target learned,
// else s, the side at gave it: a remote target comes before the addresses
// (a callee on the caller's host, at another port, is the callee), and is
// never the caller's or the callee's own address and port (learn).
func (vs *viewSides) learnedOr(ap netip.AddrPort, s side) side {
	if l := vs.learned(ap); l != sideNone {
		return l
	}
	return s
}

// learned returns the side of ap when it is a remote target learned,
// sideNone when it is not.
func (vs *viewSides) learned(ap netip.AddrPort) side {
	for i := range vs.targets {
		if vs.targets[i].ap == ap {
			return vs.targets[i].s
		}
	}
	return sideNone
}

// learn notes ap as a remote target on side s, and reports whether it
// did: the caller's and the callee's own address and port, and a target
// learned already, keep their side.
func (vs *viewSides) learn(ap netip.AddrPort, s side) bool {
	if ap == vs.c.Caller || ap == vs.c.Callee || vs.learned(ap) != sideNone {
		return false
	}
	vs.targets = append(vs.targets, remoteTarget{ap, s})
	return true
}

// direct returns the sides of m, an in-dialog request of the view's leg
// whose ends flowView placed on no side, or on one, f and t, when it went
// straight to its remote target in a dialog without a route set: the
// dialog's 2xx to its INVITE carried no Record-Route (RFC 3261 §12.1.2:
// nor did the INVITE, whose Record-Route the 2xx copies), and m's
// Request-URI, which is then the remote target (§12.2.1.1), names the
// address and port m was sent to. Its sender is a party of the dialog, the
// caller (A) when m has the From-tag of the dialog's INVITE, else the
// callee (B), and where it went the other's remote target: an end on its
// party's side places the other end on the other side, and the address is
// learned for the messages to come (its responses, the next request). A
// dialog with a route set, or whose 2xx the capture lacks, a request sent
// elsewhere than its Request-URI says (to an outbound proxy, or a proxy's
// relay of it), and a Request-URI that names a host, not an address (where
// it resolves, RFC 3263, the capture does not say), leave f and t as they
// are.
func (vs *viewSides) direct(m *Message, f, t side) (side, side) {
	d := vs.c.Legs[0].findDialog(m.FromTag, m.ToTag)
	if d == nil || d.ok == nil || d.ok.CSeqMethod != "INVITE" || d.ok.recordRoute {
		return f, t
	}
	if target, ok := uriAddrPort(m.RequestURI); !ok || target != m.Dst {
		return f, t
	}
	from, to := sideA, sideB // the sender's party, and its remote target's
	if m.FromTag != d.ok.FromTag {
		from, to = sideB, sideA
	}
	switch {
	case f == from && t != to && vs.learn(m.Dst, to):
		return f, to
	case t == to && f != from && vs.learn(m.Src, from):
		return from, t
	}
	return f, t
}

// uriAddrPort returns the address and port a SIP or SIPS URI names when
// its host is an IP address: its port, or else its transport's default
// (RFC 3261 §19.1.2, RFC 3263 §4.2: 5061 for sips: or transport=tls, 80
// and 443 for transport=ws and wss, RFC 7118 §5.1; 5060 otherwise).
// False for a host name (RFC 3263 resolves it, and the capture does not
// say to what), a maddr parameter (it overrides the host, §19.1.1), or
// another scheme.
func uriAddrPort(uri string) (netip.AddrPort, bool) {
	var rest string
	port := uint16(5060)
	switch {
	case len(uri) > 4 && strings.EqualFold(uri[:4], "sip:"):
		rest = uri[4:]
	case len(uri) > 5 && strings.EqualFold(uri[:5], "sips:"):
		rest, port = uri[5:], 5061
	default:
		return netip.AddrPort{}, false
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i] // headers
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:] // the user and password
	}
	hostport, params, _ := strings.Cut(rest, ";")
	host, portText, hasPort := hostport, "", false
	if strings.HasPrefix(hostport, "[") { // an IPv6 reference
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return netip.AddrPort{}, false
		}
		host, portText = hostport[1:end], hostport[end+1:]
		if portText, hasPort = strings.CutPrefix(portText, ":"); !hasPort && portText != "" {
			return netip.AddrPort{}, false
		}
	} else {
		host, portText, hasPort = strings.Cut(hostport, ":")
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || addr.Zone() != "" {
		return netip.AddrPort{}, false
	}
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, _ := strings.Cut(p, "=")
		switch {
		case strings.EqualFold(name, "maddr"):
			return netip.AddrPort{}, false
		case !strings.EqualFold(name, "transport"):
		case strings.EqualFold(value, "tls"):
			port = 5061
		case strings.EqualFold(value, "ws"):
			port = 80
		case strings.EqualFold(value, "wss"):
			port = 443
		}
	}
	if hasPort {
		n := 0
		for i := 0; i < len(portText); i++ {
			c := portText[i]
			if c < '0' || c > '9' || i >= 5 {
				return netip.AddrPort{}, false
			}
			n = n*10 + int(c-'0')
		}
		if portText == "" || n == 0 || n > 65535 {
			return netip.AddrPort{}, false
		}
		port = uint16(n)
	}
	return netip.AddrPortFrom(addr, port), true
}

// newFlowMsg is message m from side f to side t, meeting conditions cond
// (and sdp or no-sdp), in a flow's view.
func newFlowMsg(m *Message, f, t side, cond Cond) flowMsg {
	fm := flowMsg{m: m, from: f, to: t, cond: cond | CondNoSDP}
	if m.hasSDP {
		fm.cond = cond | CondSDP
	}
	if !m.IsRequest() {
		fm.code = [3]byte{byte('0' + m.Status/100%10), byte('0' + m.Status/10%10), byte('0' + m.Status%10)}
	}
	return fm
}

// lateMarks puts the conditions cond that a met, the 2xx that made a
// late offer in a dialog (session.lateOffered) or the ACK that answered
// it (session.lateAnswered), on the view's messages of its exchange, as
// if the re-INVITE had made the offer: a hold, a resume or a reoffer on
// the re-INVITE, and an ACK's switch to or from T.38 fax on the 2xx
// (captured before or after it). It returns the conditions left to a: a
// 2xx's switch to or from T.38 fax (its own, as an answer), none for an
// ACK.
func lateMarks(out []flowMsg, a *Message, cond Cond) Cond {
	x, left := exchangeMarksOf(a, cond)
	for i := range out {
		if m := out[i].m; m.CSeq == a.CSeq && m.FromTag == a.FromTag {
			x.put(&out[i])
		}
	}
	return left
}

// lateExchanges holds, by CSeq and From-tag, the marks that late offers'
// 2xx and ACKs put on their exchanges (lateMarks), for the view to take in
// one pass at its end: marking the view as each came would cost a long
// call re-INVITEd thousands of times a pass over the view for each. Every
// message of the exchange in the view takes them, captured before or
// after the 2xx or ACK.
type lateExchanges map[cseqKey]exchangeMarks

// exchangeMarks are the marks of an exchange's re-INVITE, and of its 2xx.
type exchangeMarks struct{ invite, ok Cond }

// exchangeMarksOf splits the conditions cond that a met, the 2xx that
// made a late offer or the ACK that answered it, into the marks of its
// exchange (a hold, a resume or a reoffer for the re-INVITE, an ACK's
// switch to or from T.38 for the 2xx) and those left to a (a 2xx's own
// switch, as an answer).
func exchangeMarksOf(a *Message, cond Cond) (x exchangeMarks, left Cond) {
	const fax = CondT38 | CondT38End
	x.invite = cond &^ fax
	if a.Method == "ACK" {
		x.ok = cond & fax
		return x, 0
	}
	return x, cond & fax
}

// put puts marks x on fm, a message of their exchange.
func (x exchangeMarks) put(fm *flowMsg) {
	switch m := fm.m; {
	case m.IsRequest() && m.Method == "INVITE":
		fm.cond |= x.invite
	case !m.IsRequest() && m.CSeqMethod == "INVITE" && m.Status >= 200 && m.Status < 300:
		fm.cond |= x.ok
	}
}

// add notes the marks of a's exchange (exchangeMarksOf) and returns the
// conditions left to a.
func (late lateExchanges) add(a *Message, cond Cond) Cond {
	k := cseqKey{a.CSeq, a.FromTag}
	x, left := exchangeMarksOf(a, cond)
	y := late[k]
	late[k] = exchangeMarks{y.invite | x.invite, y.ok | x.ok}
	return left
}

// mark puts the marks noted on the view's messages of their exchanges.
func (late lateExchanges) mark(out []flowMsg) {
	if len(late) == 0 {
		return
	}
	for i := range out {
		m := out[i].m
		if x, ok := late[cseqKey{m.CSeq, m.FromTag}]; ok {
			x.put(&out[i])
		}
	}
}

// session follows what a call's messages did to its session, in their
// order, for the events (computeEvents) and the marks of a flow's view
// (Cond): whether it is on T.38 fax, which parties hold it, and the offers
// to hold or resume that await their answers (one a leg and sender: a
// glare has two).
type session struct {
	t38    bool
	offers []pendingOffer
	// held: the parties whose hold is in force, as accepted; empty when
	// the session is not on hold. Each party takes off its own hold only:
	// in a mutual hold both do, one after the other.
	held []holdParty
	// echoes: the copies of a hold or resume a B2BUA's other legs are
	// still to make (computeEvents).
	echoes []echo
	// late: the late offers made in a dialog, until the next of their leg
	// (lateOffered).
	late []lateOffer
	// origins: the o= line of each party's SDP in force (noteOrigin).
	origins []partyOrigin
}

// holdParty is a party of one leg, by its tag: in a dialog, the From-tag
// of the requests it sends. Across a B2BUA's legs a party is a party of
// each (the B2BUA relays one's offer as its own on the other leg: an echo).
type holdParty struct {
	leg int
	tag string
}

// echo is a B2BUA's copy of a hold or resume to come on leg leg: a change
// of the same kind there, by then, is that copy and no event of its own.
type echo struct {
	leg   int
	holds bool
	until time.Time    // a B2BUA relays at once: a change past this is another's
	src   holdParty    // the offer's party, whose refusal takes the echo back
	via   []netip.Addr // where the offer went, hop by hop: the B2BUA's address is one
	any   bool         // leg holds no endpoint at via (a B2BUA with an address a leg): any sender's
}

// echoWindow is how long after an offer its B2BUA's copy may come.
const echoWindow = 2 * time.Second

// holds reports whether party p's hold is in force.
func (s *session) holds(p holdParty) bool {
	return slices.Contains(s.held, p)
}

// othersHold reports whether a party of p's leg other than p holds the
// session.
func (s *session) othersHold(p holdParty) bool {
	for _, h := range s.held {
		if h.leg == p.leg && h != p {
			return true
		}
	}
	return false
}

// echoed reports whether the hold (holds) or resume of party p that m
// asks (an offer; or a late offer's 2xx or ACK, lateOffered) is a
// B2BUA's copy of one on another of the call's legs: sent by the B2BUA
// (from an address the first went to, on any of its hops: a proxy may
// stand before the B2BUA) within echoWindow. It takes that echo, and the
// offer keeps it (pendingOffer.copyOf), narrowed to the copy's sender, in
// case it is refused and sent again. When m is no copy, it notes the
// copies c's other legs are to make.
func (s *session) echoed(c *Call, m *Message, p holdParty, holds bool) bool {
	s.echoes = slices.DeleteFunc(s.echoes, func(e echo) bool { return m.Time.After(e.until) })
	for i, e := range s.echoes {
		if e.leg == m.Leg && e.holds == holds && (e.any || slices.Contains(e.via, m.Src.Addr())) {
			s.echoes = slices.Delete(s.echoes, i, i+1)
			if n := len(s.offers); n > 0 && s.offers[n-1].m == m {
				e.via, e.any = []netip.Addr{m.Src.Addr()}, false // sent again, by the same sender
				s.offers[n-1].copyOf = &e
			}
			return true
		}
	}
	via := c.Legs[m.Leg].hopDestinations(m)
	for k, l := range c.Legs {
		if k != m.Leg {
			unseen := !slices.ContainsFunc(via, l.hasEndpoint)
			s.echoes = append(s.echoes, echo{leg: k, holds: holds, until: m.Time.Add(echoWindow), src: p, via: via, any: unseen})
		}
	}
	return false
}

// hopDestinations returns where m went on each hop of leg l (hopOf),
// each address once: a B2BUA's copy comes from one of them.
func (l *Leg) hopDestinations(m *Message) []netip.Addr {
	var via []netip.Addr
	hops := l.Messages
	if ix := l.index(); ix != nil {
		hops = ix.exchange[cseqKey{m.CSeq, m.FromTag}]
	}
	for _, h := range hops {
		if hopOf(h, m) && !slices.Contains(via, h.Dst.Addr()) {
			via = append(via, h.Dst.Addr())
		}
	}
	return via
}

// hopOf reports whether h is m on some hop: a request of m's method,
// CSeq and From-tag, or a response of m's status to them.
func hopOf(h, m *Message) bool {
	if h.CSeq != m.CSeq || h.FromTag != m.FromTag || h.IsRequest() != m.IsRequest() {
		return false
	}
	if m.IsRequest() {
		return h.Method == m.Method
	}
	return h.Status == m.Status && h.CSeqMethod == m.CSeqMethod
}

// hasEndpoint reports whether a message of l was sent from or to addr.
func (l *Leg) hasEndpoint(addr netip.Addr) bool {
	for _, m := range l.Messages {
		if m.Src.Addr() == addr || m.Dst.Addr() == addr {
			return true
		}
	}
	return false
}

// pendingOffer is an offer to hold or resume awaiting its answer.
type pendingOffer struct {
	m          *Message
	holds      bool  // it asks for hold
	challenged bool  // answered 401 or 407: its retry with credentials is the same offer
	copyOf     *echo // a B2BUA's copy (session.echoed): refused, its echo comes back
}

// marks returns the event conditions (Cond) message m of leg l meets, and
// notes in s what it did. They are the events computeEvents records,
// taken on the view's hop and leg alone: a proxy's relay of a re-INVITE
// on another hop, or a B2BUA's on its other leg, marks the copy the view
// holds as much as the first one sent.
func (s *session) marks(l *Leg, m *Message) Cond {
	switch {
	case m.Method == "REFER":
		if m.ext != nil && m.ext.replaces != nil {
			return CondTransfer | CondReplaces
		}
		return CondTransfer
	case !m.IsRequest():
		s.answered(m)
		if m.ext == nil {
			return 0 // no SDP kept: most responses
		}
		s.answeredSession(l, m)
		return s.faxMarks(l, m, s.lateOffered(l, m)) // a late offer's: the re-INVITE's mark (lateMarks)
	case m.ext == nil:
		return 0 // no SDP kept, no sipfrag: most requests
	case m.Method == "ACK":
		cond, _ := s.lateAnswered(l, m)
		return s.faxMarks(l, m, cond)
	case m.Method == "NOTIFY":
		if m.Sipfrag() != "" {
			return CondTransferResult
		}
	default:
		cond := s.holdChange(l, m)
		if m.ext.replaces != nil {
			cond |= CondReplaces
		}
		return cond
	}
	return 0
}

// faxMarks returns cond with CondT38 when m, an answer (a 2xx, or a late
// offer's ACK: faxAnswer), switches the session to T.38 fax, or CondT38End
// when it switches it back, and notes the switch in s.
func (s *session) faxMarks(l *Leg, m *Message, cond Cond) Cond {
	q, t38 := faxAnswer(l, m)
	if q == nil || t38 == s.t38 {
		return cond
	}
	if s.t38 = t38; t38 {
		return cond | CondT38
	}
	return cond | CondT38End
}

// holdChange returns CondHold when m is an in-dialog offer (a re-INVITE
// or UPDATE with SDP) by which its party puts the session on hold (a
// stream sendonly or inactive, or c=0.0.0.0), CondResume when it takes
// its hold off, CondReoffer when it does neither, and neither offers T.38
// fax nor leaves it (a codec, an address or a stream changed, or the same
// session offered again, which the view leaves out when a session timer
// refreshes it), 0 otherwise. What it asks is measured against the
// session its answers last accepted, party by party, in its leg (a party
// is its From-tag there; computeEvents tells a B2BUA's copy on another
// leg by session.echoed):
//   - a hold refused (488; 491 in a glare) and asked again is asked
//     twice, while one challenged (401, 407) and sent again with
//     credentials is asked once;
//   - an offer whose answer the capture lacks was accepted when its
//     sender offers again (a UA makes no new offer before the last is
//     answered, RFC 3261 §14.1);
//   - a proxy's relay of an offer still unanswered (the same CSeq and
//     From-tag on another hop) asks nothing new;
//   - an UPDATE before the INVITE's 2xx (preconditions, early media:
//     a stream inactive until the resources are reserved) holds nothing;
//   - a party holds once: its offers while its hold is in force (from
//     sendonly to inactive, a refresh) ask nothing new. The held party's
//     own hold (inactive, as RFC 6337 §5.3 has it when the other holds
//     already) is a hold: the session is then held by both;
//   - only a party that holds takes its hold off: a resume is its offer
//     with no stream on hold and one sendrecv (another stream may stay
//     recvonly, a camera off), or recvonly while the other party's hold
//     stays (RFC 6337 §5.3). The held party's other offers (a codec
//     change; recvonly, or sendrecv, which the holder answers sendonly)
//     take nothing off. A party that holds and answers an offer with no
//     stream on hold and one sendrecv has taken its hold off
//     (answeredSession).
func (s *session) holdChange(l *Leg, m *Message) Cond {
	if !(m.Method == "INVITE" && m.ToTag != "" || m.Method == "UPDATE" && answeredBefore(l, m)) {
		return 0
	}
	sdp := m.SDP()
	if sdp == nil {
		return 0
	}
	hold, sendrecv, recvonly := directions(sdp, nil)
	for i := 0; i < len(s.offers); i++ {
		p := &s.offers[i]
		if p.m.Leg != m.Leg || p.m.FromTag != m.FromTag || m.CSeq <= p.m.CSeq {
			continue // another sender's, or the same offer (a relay)
		}
		if p.challenged && p.holds == hold {
			p.m, p.challenged = m, false // sent again with credentials
			return 0
		}
		if !p.challenged {
			s.accept(p) // its answer not captured: accepted
		}
		s.offers = slices.Delete(s.offers, i, i+1)
		i--
	}
	party := holdParty{m.Leg, m.FromTag}
	s.settleLate(m.Leg)
	unchanged := s.unchanged(party, sdp)
	switch on := s.holds(party); {
	case !hold && !on:
		if s.t38 || sdp.T38() != nil {
			return 0 // to or from T.38 fax: its 2xx says which (CondT38, CondT38End)
		}
		return CondReoffer // not holding, nor asking to
	case hold == on, unchanged:
		return 0 // holds again; or its SDP in force offered again (a held party's inactive)
	case on && !sendrecv && !(recvonly && s.othersHold(party)):
		return 0 // not a resume: no stream to send and receive on
	}
	for _, p := range s.offers {
		if p.holds == hold && m.Leg == p.m.Leg && m.CSeq == p.m.CSeq && m.FromTag == p.m.FromTag {
			return 0 // a proxy's relay, on another hop, of an offer still unanswered
		}
	}
	s.offers = append(s.offers, pendingOffer{m: m, holds: hold})
	if hold {
		return CondHold
	}
	return CondResume
}

// lateOffer is the offer a 2xx made to a re-INVITE without SDP (a late
// offer in a dialog, RFC 3261 §14.1), which its ACK answers.
type lateOffer struct {
	m        *Message // the 2xx, on the first hop it was seen
	cond     Cond     // what its sender asked by it: CondHold, CondResume or 0 (asks)
	answered bool     // its ACK came (or a new offer of the leg: settleLate)
}

// asks returns what party p asks by an SDP (directions says what it has):
// CondHold when it is not holding and puts a stream on hold, CondResume
// when it holds and takes its hold off (no stream on hold and one
// sendrecv, or recvonly while another party's hold stays, RFC 6337 §5.3),
// 0 otherwise.
func (s *session) asks(p holdParty, hold, sendrecv, recvonly bool) Cond {
	switch on := s.holds(p); {
	case hold && !on:
		return CondHold
	case !hold && on && (sendrecv || recvonly && s.othersHold(p)):
		return CondResume
	}
	return 0
}

// lateOffered notes 2xx response r of leg l when it makes a late offer in
// a dialog (Leg.lateReINVITE: its re-INVITE had no SDP), and returns what
// its sender (r's To-tag) asks by it (asks; nothing when its o= line is
// that of the party's SDP in force, the same session offered again, RFC
// 3264 §8). The offer is in force once its ACK answers it
// (lateAnswered). A proxy's relay of r on another hop, or r sent again,
// asks nothing more. Before it, the offers of either party still
// unanswered were accepted: the re-INVITE's sender sent a new request,
// and the offerer makes a new offer (RFC 3261 §14.1).
func (s *session) lateOffered(l *Leg, r *Message) Cond {
	if r.Status < 200 || r.Status >= 300 || r.CSeqMethod != "INVITE" || r.SDP() == nil || l.lateReINVITE(r) == nil {
		return 0
	}
	for _, o := range s.late {
		if o.m.Leg == r.Leg && o.m.CSeq == r.CSeq && o.m.FromTag == r.FromTag {
			return 0 // a relay on another hop
		}
	}
	s.settleLate(r.Leg)
	s.late = slices.DeleteFunc(s.late, func(o lateOffer) bool { return o.m.Leg == r.Leg })
	offerer := holdParty{r.Leg, r.ToTag}
	s.settle(holdParty{r.Leg, r.FromTag}, r.CSeq)
	s.settle(offerer, 0)
	var cond Cond
	sdp := r.SDP()
	if !s.unchanged(offerer, sdp) {
		hold, sendrecv, recvonly := directions(sdp, nil)
		cond = s.asks(offerer, hold, sendrecv, recvonly)
	}
	s.late = append(s.late, lateOffer{m: r, cond: cond})
	return cond
}

// lateAnswered notes ACK a of leg l when it answers a late offer made in
// a dialog (lateOffered; Leg.lateOfferOf finds the offer when its 2xx was
// not noted), which puts the offer in force, and returns what the ACK's
// sender, the answerer, asks by its answer (answerer), and the condition
// the exchange meets (cond: what the offer and the answer asked, or
// CondReoffer when neither asked anything, nor offered T.38 fax or left
// it). The answerer holds when it answers a stream the offerer would send
// on (sendrecv, sendonly) sendonly or inactive, or with c=0.0.0.0 (RFC
// 3264 §6.1 lets an answer narrow the direction: a UA that holds with a
// re-INVITE without SDP answers the other's sendrecv offer sendonly), and
// takes its hold off as an offer does (asks). An answer whose o= line is
// that of the answerer's SDP in force asks nothing, so a proxy's relay of
// the ACK on another hop asks nothing more.
func (s *session) lateAnswered(l *Leg, a *Message) (cond, answerer Cond) {
	i := slices.IndexFunc(s.late, func(o lateOffer) bool {
		return o.m.Leg == a.Leg && o.m.CSeq == a.CSeq && o.m.FromTag == a.FromTag
	})
	if i < 0 { // its 2xx was not noted (not in the flow's view): noted now
		r := l.lateOfferOf(a)
		if r == nil {
			return 0, 0
		}
		s.lateOffered(l, r)
		if i = len(s.late) - 1; i < 0 || s.late[i].m != r {
			return 0, 0
		}
	}
	o := &s.late[i]
	offer, answer := o.m.SDP(), a.SDP()
	if answer == nil {
		return 0, 0
	}
	o.answered = true
	offerer, p := holdParty{o.m.Leg, o.m.ToTag}, holdParty{a.Leg, a.FromTag}
	if o.cond != 0 {
		s.setHold(offerer, o.cond == CondHold)
	}
	s.noteOrigin(offerer, offer)
	if !s.unchanged(p, answer) {
		hold, sendrecv, recvonly := directions(answer, offer)
		if answerer = s.asks(p, hold, sendrecv, recvonly); answerer != 0 {
			s.setHold(p, answerer == CondHold)
		}
	}
	s.noteOrigin(p, answer)
	cond = o.cond | answerer
	if cond == 0 && !s.t38 && offer.T38() == nil {
		cond = CondReoffer
	}
	return cond, answerer
}

// settleLate puts the late offers of leg leg whose ACK brought no answer
// (none, or none captured) in force: a new offer in the leg came, which
// its parties make only once the last is answered (RFC 3261 §14.1).
func (s *session) settleLate(leg int) {
	for i := range s.late {
		if o := &s.late[i]; o.m.Leg == leg && !o.answered {
			o.answered = true
			if o.cond != 0 {
				s.setHold(holdParty{o.m.Leg, o.m.ToTag}, o.cond == CondHold)
			}
			s.noteOrigin(holdParty{o.m.Leg, o.m.ToTag}, o.m.SDP())
		}
	}
}

// settle puts the offers of party p still unanswered in force, those
// with a CSeq below cseq (any, when cseq is 0), and forgets them: a
// challenged one (401, 407) is dropped instead.
func (s *session) settle(p holdParty, cseq uint32) {
	s.offers = slices.DeleteFunc(s.offers, func(o pendingOffer) bool {
		if o.m.Leg != p.leg || o.m.FromTag != p.tag || cseq != 0 && o.m.CSeq >= cseq {
			return false
		}
		if !o.challenged {
			s.accept(&o)
		}
		return true
	})
}

// partyOrigin is the SDP a party has in force: its answer in a dialog, or
// its offer accepted (noteOrigin).
type partyOrigin struct {
	p   holdParty
	sdp *SDP
}

// noteOrigin notes sdp, an answer of party p made in a dialog, or its
// offer accepted (a 2xx answered it: answeredSession, when the offer was
// captured first; its late offer's ACK; or, its answer not captured, its
// next offer: accept), as the party's SDP in force. An offer refused
// leaves the one before in force (RFC 3264 §8).
func (s *session) noteOrigin(p holdParty, sdp *SDP) {
	if sdp == nil || sdp.Origin == "" {
		return
	}
	for i := range s.origins {
		if s.origins[i].p == p {
			s.origins[i].sdp = sdp
			return
		}
	}
	s.origins = append(s.origins, partyOrigin{p, sdp})
}

// unchanged reports whether sdp, from party p, is the party's SDP in force
// offered again: its o= line, which a changed session gives a new version
// (RFC 3264 §8), and, for a party that changes the session without (RFC
// 3264 broken), its streams' directions. It asks nothing new: a held
// party that offers its inactive answer again does not hold.
func (s *session) unchanged(p holdParty, sdp *SDP) bool {
	if sdp == nil || sdp.Origin == "" {
		return false
	}
	for _, o := range s.origins {
		if o.p == p {
			return o.sdp.Origin == sdp.Origin && sameDirections(o.sdp, sdp)
		}
	}
	return false
}

// sameDirections reports whether a and b have the same streams, removed
// (port 0) or not, in the same directions.
func sameDirections(a, b *SDP) bool {
	return slices.EqualFunc(a.Media, b.Media, func(x, y Media) bool {
		return (x.Port == 0) == (y.Port == 0) && x.Direction == y.Direction && x.Hold == y.Hold
	})
}

// directions reports whether SDP sdp puts a stream on hold (sendonly,
// inactive, c=0.0.0.0), and whether one is sendrecv, and one recvonly;
// streams removed (port 0) count for nothing. When sdp answers offer, a
// stream on hold is one whose offer's sender would send on it (sendrecv
// or sendonly: an answer to a recvonly or inactive stream can only say
// inactive, and holds nothing by it).
func directions(sdp, offer *SDP) (hold, sendrecv, recvonly bool) {
	for i, md := range sdp.Media {
		if md.Port == 0 {
			continue
		}
		onHold := md.Hold
		if offer != nil && onHold {
			onHold = i < len(offer.Media) && offer.Media[i].Port != 0 &&
				(offer.Media[i].Direction == "sendrecv" || offer.Media[i].Direction == "sendonly")
		}
		hold = hold || onHold
		sendrecv = sendrecv || md.Direction == "sendrecv"
		recvonly = recvonly || md.Direction == "recvonly"
	}
	return hold, sendrecv, recvonly
}

// answeredBefore reports whether the dialog of in-dialog request m of leg
// l was confirmed (a 2xx to its INVITE) before m.
func answeredBefore(l *Leg, m *Message) bool {
	d := l.findDialog(m.FromTag, m.ToTag)
	return d != nil && d.ok != nil && d.ok.N < m.N
}

// accept puts offer p in force: its party's hold on, or off, and its SDP
// (its 2xx may not have been captured).
func (s *session) accept(p *pendingOffer) {
	party := holdParty{p.m.Leg, p.m.FromTag}
	s.setHold(party, p.holds)
	s.noteOrigin(party, p.m.SDP())
}

// setHold puts party p's hold on or off.
func (s *session) setHold(p holdParty, on bool) {
	i := slices.Index(s.held, p)
	switch {
	case on && i < 0:
		s.held = append(s.held, p)
	case !on && i >= 0:
		s.held = slices.Delete(s.held, i, i+1)
	}
}

// answered notes response r: a 2xx to an offer to hold or resume that
// awaits its answer puts it in force; a challenge leaves it to its retry;
// another final response drops it.
func (s *session) answered(r *Message) {
	if r.Status < 200 {
		return
	}
	for i := range s.offers {
		p := &s.offers[i]
		q := p.m
		if r.Leg != q.Leg || r.CSeq != q.CSeq || r.CSeqMethod != q.Method || r.FromTag != q.FromTag {
			continue
		}
		switch {
		case isChallenge(r.Status):
			p.challenged = true
			return
		case r.Status < 300:
			s.accept(p)
		default: // refused: no copy of it will come; a copy refused may be sent again
			src := holdParty{q.Leg, q.FromTag}
			s.echoes = slices.DeleteFunc(s.echoes, func(e echo) bool { return e.src == src && e.holds == p.holds })
			if e := p.copyOf; e != nil {
				e.until = r.Time.Add(echoWindow)
				s.echoes = append(s.echoes, *e)
			}
		}
		s.offers = slices.Delete(s.offers, i, i+1)
		return
	}
}

// answeredSession notes what 2xx response r of leg l, an answer to an
// offer made in a dialog (keepLeanSDP keeps these), says: the offer's and
// the answer's SDP in force (noteOrigin; not yet when the offer was
// captured after r: it is still to be read); and of its sender (its
// To-tag), one that holds and answers with no stream on hold and one
// sendrecv has taken its hold off (RFC 3264 §6.1 lets an answer change
// its direction), silently: no offer asked it. It returns the offer r
// answers when it did.
func (s *session) answeredSession(l *Leg, r *Message) *Message {
	if r.Status < 200 || r.Status >= 300 {
		return nil
	}
	sdp := r.SDP()
	if sdp == nil {
		return nil
	}
	q := l.inDialogOffer(r)
	if q == nil {
		return nil
	}
	p := holdParty{r.Leg, r.ToTag}
	if q.N < r.N { // else the offer, captured after its 2xx, is still to be read
		s.noteOrigin(holdParty{q.Leg, q.FromTag}, q.SDP()) // the offer r accepts
		s.noteOrigin(p, sdp)
	}
	if len(s.held) == 0 {
		return nil
	}
	if hold, sendrecv, _ := directions(sdp, nil); !hold && sendrecv && s.holds(p) {
		s.setHold(p, false)
		return q
	}
	return nil
}

// callStart returns the index of the first message of a call's leg that
// belongs to the call: what came before its INVITE with its Call-ID (a
// REGISTER, as SIPp's load scenarios send one before each call; an
// OPTIONS), out-of-dialog requests other than INVITE and their responses,
// is business of its own.
func callStart(msgs []*Message) int {
	var cseq uint32
	var method string
	for i, m := range msgs {
		switch {
		case m.IsRequest() && m.Method != "INVITE" && m.ToTag == "":
			cseq, method = m.CSeq, m.Method
		case !m.IsRequest() && m.CSeq == cseq && m.CSeqMethod == method:
		default:
			return i
		}
	}
	return len(msgs)
}

// provisionals answers, for a view being built, whether it holds a
// provisional response (1xx) of a transaction from a side: a 100 after
// one (a second 100, as OpenSIPS sends "100 Trying", then "100 Giving a
// try", or one after a 180, as SIPp's server scenarios send it) is
// hop-by-hop news of nothing (RFC 3261 §8.2.6.1), and no flow step.
//
// A short view is scanned. Once the view is long (indexFrom), the 1xx in
// its first n messages are kept in a set, which takes the later ones as
// the view grows: a call of thousands of re-INVITEs, each with its 100,
// would otherwise scan the whole view for each.
type provisionals struct {
	set map[provKey]struct{}
	n   int // view[:n] is in set
}

type provKey struct {
	cseq   uint32
	method string
	from   side
}

func provKeyOf(fm *flowMsg) (provKey, bool) {
	x := fm.m
	return provKey{x.CSeq, x.CSeqMethod, fm.from}, x.Status >= 100 && x.Status < 200
}

// seen reports whether view holds a 1xx of m's transaction from side from.
func (p *provisionals) seen(view []flowMsg, m *Message, from side) bool {
	want := provKey{m.CSeq, m.CSeqMethod, from}
	if p.set == nil && len(view) < indexFrom {
		for i := len(view) - 1; i >= 0; i-- {
			if k, ok := provKeyOf(&view[i]); ok && k == want {
				return true
			}
		}
		return false
	}
	if p.set == nil {
		p.set = make(map[provKey]struct{})
	}
	for ; p.n < len(view); p.n++ {
		if k, ok := provKeyOf(&view[p.n]); ok {
			p.set[k] = struct{}{}
		}
	}
	_, ok := p.set[want]
	return ok
}

// inserted tells p that fm was put into the view, anywhere: the set takes
// it now (a message the set's catching up meets again is taken twice, to
// no harm; the view never loses one).
func (p *provisionals) inserted(fm *flowMsg) {
	if k, ok := provKeyOf(fm); ok && p.set != nil {
		p.set[k] = struct{}{}
	}
}

// refreshes finds, in a call with a session timer (RFC 4028), the
// re-INVITE and UPDATE exchanges that only refresh it: no offer, or an
// offer whose o= line is the one its side sent last, so the session is
// unchanged (RFC 3264 §8). The flows leave them out: a call refreshed every
// 15 minutes is still a basic call, while a hold, a resume or a codec
// change (a new o= version) is matched as before.
type refreshes struct {
	origin [3]string               // the last o= line each side (sideA, sideB) sent
	keys   []refreshKey            // the refreshes' transactions, while few
	keySet map[refreshKey]struct{} // and once many (a long call refreshed thousands of times)
	fresh  bool                    // the last message skip saw has SDP with a new o= line
	// late: the messages of the last re-INVITE without SDP left out, which
	// its ACK brings back when the exchange changed the session (brought);
	// changed: an SDP of theirs has a new o= line.
	late    []flowMsg
	changed bool
}

// brought reports whether m, from side f to side t, a message of a
// refresh (skip) meeting conditions cond (marks), brings its exchange
// back into the view out: it is the ACK that answers a re-INVITE's late
// offer, and the offer or the answer has a new o= line, so the exchange
// changed the session (RFC 3264 §8) and was no refresh, or (when the
// side's last o= line is not known: lean, the INVITE's SDP is not kept
// when only its 2xx set the timer) it held, resumed, or went to or from
// T.38 fax. It keeps the messages of a re-INVITE without SDP until then.
func (rf *refreshes) brought(out *[]flowMsg, prov *provisionals, m *Message, f, t side, cond, did Cond) bool {
	switch {
	case m.IsRequest() && m.Method == "INVITE" && !m.hasSDP:
		rf.flush(out, prov)
		rf.late, rf.changed = append(rf.late[:0], newFlowMsg(m, f, t, cond)), false
		return false
	case !rf.lateOf(m):
		return false
	}
	rf.changed = rf.changed || rf.fresh
	switch {
	case m.Method != "ACK":
		rf.late = append(rf.late, newFlowMsg(m, f, t, cond))
		return false
	case !rf.changed && did&^CondReoffer == 0 && !rf.marked():
		rf.late = rf.late[:0] // a refresh
		return false
	}
	rf.changed = true
	rf.flush(out, prov)
	return true
}

// lateOf reports whether m belongs to the exchange rf.late holds.
func (rf *refreshes) lateOf(m *Message) bool {
	return len(rf.late) > 0 && m.CSeq == rf.late[0].m.CSeq && m.FromTag == rf.late[0].m.FromTag
}

// marked reports whether the 2xx of the exchange rf.late holds held,
// resumed (lateMarks put it on the re-INVITE) or switched T.38.
func (rf *refreshes) marked() bool {
	for _, fm := range rf.late {
		if fm.cond&(CondHold|CondResume|CondT38|CondT38End) != 0 {
			return true
		}
	}
	return false
}

// flush puts the exchange rf.late holds into the view out, each message in
// its place by capture order (a REFER may come between a 200 and its
// ACK), when it changed the session (brought, or its 2xx marked it and no
// ACK answered: flushed at the next re-INVITE without SDP, or at the
// view's end), and forgets it: a refresh leaves nothing. prov, the view's
// provisional responses, learns of each message put in.
func (rf *refreshes) flush(out *[]flowMsg, prov *provisionals) {
	if rf.changed || rf.marked() {
		for _, fm := range rf.late {
			if fm.m.Status == 100 && prov.seen(*out, fm.m, fm.from) {
				continue
			}
			i := len(*out)
			for i > 0 && (*out)[i-1].m.N > fm.m.N {
				i--
			}
			*out = slices.Insert(*out, i, fm)
			prov.inserted(&fm)
		}
	}
	rf.late, rf.changed = rf.late[:0], false
}

// refreshKey names one refresh transaction: the messages with its CSeq and
// From-tag (its ACK among them, for a re-INVITE).
type refreshKey struct {
	cseq    uint32
	fromTag string
}

// addKey notes k as a refresh's transaction.
func (rf *refreshes) addKey(k refreshKey) {
	if rf.keySet != nil {
		rf.keySet[k] = struct{}{}
		return
	}
	rf.keys = append(rf.keys, k)
	if len(rf.keys) >= indexFrom {
		rf.keySet = make(map[refreshKey]struct{}, 2*len(rf.keys))
		for _, k := range rf.keys {
			rf.keySet[k] = struct{}{}
		}
		rf.keys = nil // the set has them all from now on
	}
}

// isKey reports whether k is a refresh's transaction.
func (rf *refreshes) isKey(k refreshKey) bool {
	if rf.keySet != nil {
		_, ok := rf.keySet[k]
		return ok
	}
	return slices.Contains(rf.keys, k)
}

// skip reports whether m, sent by side from, belongs to a refresh.
func (rf *refreshes) skip(m *Message, from side) bool {
	var origin string
	if sdp := m.leanSDP(); sdp != nil { // what lean mode knows, so that both agree
		origin = sdp.Origin
	}
	refresh := false
	switch {
	case m.IsRequest() && m.ToTag != "" && (m.Method == "INVITE" || m.Method == "UPDATE"):
		refresh = !m.HasSDP() || origin != "" && origin == rf.origin[from]
		if refresh {
			rf.addKey(refreshKey{m.CSeq, m.FromTag})
		}
	case m.CSeqMethod == "INVITE" || m.CSeqMethod == "UPDATE" || m.CSeqMethod == "ACK":
		refresh = rf.isKey(refreshKey{m.CSeq, m.FromTag})
	}
	rf.fresh = origin != "" && rf.origin[from] != "" && origin != rf.origin[from]
	if origin != "" {
		rf.origin[from] = origin
	}
	return refresh
}

func (s *Step) matches(fm *flowMsg) bool {
	if from, to := s.sides(); from != sideAny && from != fm.from || to != sideAny && to != fm.to {
		return false
	}
	if s.Cond&^fm.cond != 0 {
		return false
	}
	m := fm.m
	if s.Method != "" {
		return m.IsRequest() && m.Method == s.Method
	}
	if m.IsRequest() {
		return false
	}
	for i := 0; i < 3; i++ {
		if s.Status[i] != 'x' && s.Status[i] != fm.code[i] {
			return false
		}
	}
	return s.CSeq == "" || s.CSeq == m.CSeqMethod
}

// matcher runs one flow over one message sequence, remembering how far it
// got so a failed match can say where the call left the flow.
type matcher struct {
	steps    []Step
	jump     []int // a group end's index at its start, its start's at its end
	msgs     []flowMsg
	memo     []int8    // (step, msg) → 0 unknown, 1 no (or being tried), 2 yes
	view     []flowMsg // scratch for flowView
	bare     []flowMsg // and for without
	bestStep int       // furthest step reached with bestMsg messages consumed
	bestMsg  int

	// targets: memory for the remote targets flowView learns.
	targets []remoteTarget

	// Calls of one shape (a load test's thousands of identical calls) are
	// matched once: results holds the outcome by the view's key (viewKey),
	// for the flows of the first call matched (flows).
	key     []byte
	results map[string]flowResult
	flows   []*Flow
}

// flowResult is what matchFlows found for a view: the flow it matched, or
// the closest one and how far the view followed it.
type flowResult struct {
	matched, best     *Flow
	bestStep, bestMsg int
}

// maxFlowResults bounds matcher.results; past it the memo starts afresh.
const maxFlowResults = 4096

// viewKey encodes everything Step.matches reads of the view's messages:
// sides, conditions, method or status code, and CSeq method, strings
// length-prefixed.
func viewKey(key []byte, view []flowMsg) []byte {
	key = key[:0]
	for i := range view {
		fm := &view[i]
		// Sides take 2 bits each, sdp or no-sdp 1; the other conditions,
		// which few messages meet, follow when there are any.
		b := byte(fm.from)<<2 | byte(fm.to)
		if fm.cond&CondSDP != 0 {
			b |= 1 << 4
		}
		if other := fm.cond &^ (CondSDP | CondNoSDP); other != 0 {
			key = append(key, b|1<<5)
			key = binary.AppendUvarint(key, uint64(other))
		} else {
			key = append(key, b)
		}
		if fm.m.IsRequest() {
			key = append(key, 'Q') // and 'R': a method's bytes cannot pass for a status code
			key = binary.AppendUvarint(key, uint64(len(fm.m.Method)))
			key = append(key, fm.m.Method...)
			continue
		}
		key = append(key, 'R')
		key = append(key, fm.code[:]...)
		key = binary.AppendUvarint(key, uint64(len(fm.m.CSeqMethod)))
		key = append(key, fm.m.CSeqMethod...)
	}
	return key
}

func (mt *matcher) reset(steps []Step, msgs []flowMsg) {
	mt.steps, mt.msgs, mt.bestStep, mt.bestMsg = steps, msgs, 0, 0
	mt.jump = mt.jump[:0]
	var open []int
	for i := range steps {
		mt.jump = append(mt.jump, -1)
		switch steps[i].Group {
		case '(':
			open = append(open, i)
		case ')':
			if n := len(open); n > 0 { // ParseFlows balances them; a hand-made flow may not
				mt.jump[i], mt.jump[open[n-1]] = open[n-1], i
				open = open[:n-1]
			}
		}
	}
	n := (len(steps) + 1) * (len(msgs) + 1)
	if cap(mt.memo) < n {
		mt.memo = make([]int8, n)
	}
	mt.memo = mt.memo[:n]
	clear(mt.memo)
}

func (mt *matcher) match(i, j int) bool {
	if i == len(mt.steps) {
		return j == len(mt.msgs)
	}
	key := i*(len(mt.msgs)+1) + j
	if v := mt.memo[key]; v != 0 {
		return v == 2
	}
	mt.memo[key] = 1 // cut cycles; set below
	st := &mt.steps[i]
	ok := false
	switch {
	case st.Group != 0 && mt.jump[i] < 0:
		// An unbalanced end (a hand-made flow): matches nothing.
	case st.Group == '(':
		// Into the group, or past it when it may be left out.
		ok = mt.match(i+1, j) || st.Min == 0 && mt.match(mt.jump[i]+1, j)
	case st.Group == ')':
		// On, or round again when it may repeat. A group holds a step
		// that must match a message (ParseFlows), so a repeat moves on.
		ok = mt.match(i+1, j) || st.Max < 0 && mt.match(mt.jump[i]+1, j)
	case st.Any:
		for k := j; k <= len(mt.msgs) && !ok; k++ {
			ok = mt.match(i+1, k)
		}
	default:
		// Take as few as allowed first, then more.
		k := j
		count := 0
		for {
			if count >= st.Min && mt.match(i+1, k) {
				ok = true
				break
			}
			if st.Max >= 0 && count >= st.Max || k >= len(mt.msgs) || !st.matches(&mt.msgs[k]) {
				break
			}
			k++
			count++
			// Progress is measured by messages a concrete step matched, so
			// that "..." cannot make a flow look closer than it is.
			if k > mt.bestMsg {
				mt.bestMsg, mt.bestStep = k, i+1
			}
		}
	}
	if ok {
		mt.memo[key] = 2
	}
	return ok
}

// matchFlows sets c.Flow to the first flow the call matches or, failing
// that, c.Deviation to where it left the closest flow.
func matchFlows(c *Call, flows []*Flow, mt *matcher) {
	view := flowView(c, mt.view, &mt.targets)
	mt.view = view
	if c.Kind == KindRegistration {
		view = registered(view)
	}
	if len(view) == 0 {
		return
	}
	if mt.results == nil || len(mt.results) >= maxFlowResults || !sameFlows(mt.flows, flows) {
		mt.results, mt.flows = make(map[string]flowResult), flows
	}
	mt.key = viewKey(mt.key, view)
	if c.Kind != KindCall {
		// Out of a call nothing but PRACK is incidental (incidentalIn): a
		// leading 0, which starts no message's encoding, tells it apart.
		mt.key = append(mt.key, 0)
		copy(mt.key[1:], mt.key)
		mt.key[0] = 0
	}
	r, ok := mt.results[string(mt.key)]
	if !ok {
		r = matchView(view, c.Kind, flows, mt)
		mt.results[string(mt.key)] = r
	}
	switch {
	case r.matched != nil:
		c.Flow = r.matched.Name
		c.Deviation = ""
	case r.best != nil:
		if hide := incidentalIn(view, c.Kind) &^ r.best.names(); hide != 0 {
			mt.bare = without(view, mt.bare, hide)
			view = mt.bare
		}
		// A call still ringing or talking when it was finished (by the
		// capture's end, a timeout, --max-open: the same words for each,
		// as a call finished early is the same call) did not end, and a
		// registration, a subscription, an OPTIONS is no call.
		ended := "the call ended"
		if c.Kind != KindCall || c.State == StateInProgress || c.State == StateAnswered {
			ended = "nothing more came"
		}
		c.Deviation = describeDeviation(r.best, view, r.bestStep, r.bestMsg, ended)
	} // else no flow even starts like this call
}

// registered cuts a registration's view after its first 2xx to a
// REGISTER: a UA keeps one Call-ID for its registrations with a registrar
// (RFC 3261 §10.2.4), so what follows are its refreshes (each challenged
// again, with some registrars) and, at the end, its removal: no step of
// the registration, as a call's session-timer refreshes are none of the
// call's.
func registered(view []flowMsg) []flowMsg {
	for i := range view {
		if m := view[i].m; !m.IsRequest() && m.Status >= 200 && m.Status < 300 && m.CSeqMethod == "REGISTER" {
			return view[:i+1]
		}
	}
	return view
}

// sameFlows reports whether a and b are the same slice: a correlator's
// flows (Options.Flows) are set once and never changed in place, so the
// memo's flows are the call's when their first elements are one. (Equal
// flows of two slices start a memo afresh: no harm.)
func sameFlows(a, b []*Flow) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// matchView runs the flows over a view: the first that matches, or the
// one the view follows furthest. Each flow is matched against the view
// without the incidental messages whose methods it does not name
// (without).
func matchView(view []flowMsg, kind Kind, flows []*Flow, mt *matcher) flowResult {
	has := incidentalIn(view, kind)
	bare, bareHides := view, incidental(0)
	var r flowResult
	for _, f := range flows {
		v := view
		if hide := has &^ f.names(); hide != 0 {
			if hide != bareHides {
				mt.bare = without(view, mt.bare, hide)
				bare, bareHides = mt.bare, hide
			}
			v = bare
		}
		mt.reset(f.Steps, v)
		if mt.match(0, 0) {
			return flowResult{matched: f}
		}
		if mt.bestMsg > r.bestMsg {
			r.best, r.bestStep, r.bestMsg = f, mt.bestStep, mt.bestMsg
		}
	}
	return r
}

// incidental is a kind of message that is no step of a call's flow, so a
// flow's view leaves it out unless the flow names its method (Flow.names):
// a call with 100rel is still a basic call, a busy callee still busy, and
// a call whose caller sent DTMF by INFO, or whose phones kept the dialog
// alive with OPTIONS, is still a basic call.
type incidental uint8

const (
	incPRACK   incidental = 1 << iota // a PRACK (RFC 3262: it makes an 18x reliable), and its responses
	incINFO                           // an INFO (RFC 6086: DTMF, a picture update), and its responses
	incOPTIONS                        // an OPTIONS (in a call, a keepalive, RFC 3261 §11), and its responses
)

// incidentalOf returns the kind of incidental message m is, or 0. (A
// call's view starts at its INVITE, so an INFO or OPTIONS in it is one of
// its dialog's; out of a call, incidentalIn takes none but PRACK.)
func incidentalOf(m *Message) incidental {
	method := m.Method
	if method == "" {
		method = m.CSeqMethod
	}
	switch method {
	case "PRACK":
		return incPRACK
	case "INFO":
		return incINFO
	case "OPTIONS":
		return incOPTIONS
	}
	return 0
}

// incidentalIn returns the kinds of incidental message view, of a call of
// kind kind, holds. Out of a call (an OPTIONS ping, a MESSAGE) INFO and
// OPTIONS are what the view is about, never incidental.
func incidentalIn(view []flowMsg, kind Kind) incidental {
	var has incidental
	for i := range view {
		has |= incidentalOf(view[i].m)
	}
	if kind != KindCall {
		has &= incPRACK
	}
	return has
}

// without returns view without its incidental messages of the kinds
// hide, in out's memory.
func without(view, out []flowMsg, hide incidental) []flowMsg {
	out = out[:0]
	for _, fm := range view {
		if incidentalOf(fm.m)&hide == 0 {
			out = append(out, fm)
		}
	}
	return out
}

// names returns the kinds of incidental message a step of f names (a
// PRACK, or a response to one; INFO; OPTIONS), which its view keeps.
func (f *Flow) names() incidental {
	var n incidental
	for i := range f.Steps {
		st := &f.Steps[i]
		for _, method := range [...]string{st.Method, st.CSeq} {
			switch method {
			case "PRACK":
				n |= incPRACK
			case "INFO":
				n |= incINFO
			case "OPTIONS":
				n |= incOPTIONS
			}
		}
	}
	return n
}

// describeDeviation says where view left flow f: after bestMsg messages,
// at step bestStep; when the view ended there, "but " and ended.
func describeDeviation(f *Flow, view []flowMsg, bestStep, bestMsg int, ended string) string {
	var fm *flowMsg
	if bestMsg < len(view) {
		fm = &view[bestMsg]
	}
	want := "expected the flow to end"
	expected := nextStep(f.Steps, bestStep, fm)
	if expected != nil {
		want = "expected " + expected.String()
	}
	if fm == nil {
		return fmt.Sprintf("%s: after %d message(s), %s, but %s", f.Name, bestMsg, want, ended)
	}
	label := flowLabel(fm.m)
	if expected != nil && expected.Cond != 0 && expected.bareMatches(fm) {
		// The message is the step but for its conditions: say what it
		// did ("expected INVITE [hold], got INVITE [sdp]").
		label += " [" + fm.cond.String() + "]"
	}
	return fmt.Sprintf("%s: after %d message(s), %s, got %v -> %v %s (packet %d)", f.Name, bestMsg, want, fm.from, fm.to, label, fm.m.N)
}

// nextStep returns the step a flow expected at steps[i], the message got
// (nil when the call ended) not matching it: the first that must come,
// past the optional steps and the optional groups. But when got is not
// even that step but for its conditions, and is, but for its conditions,
// the first step of one optional group passed or group that may repeat,
// and of no other, it is that step: a re-INVITE after a hold and its
// resume says "expected INVITE [hold], got INVITE [sdp,reoffer]", not
// "expected BYE".
func nextStep(steps []Step, i int, got *flowMsg) *Step {
	var alt *Step
	alts := 0
	consider := func(j int) {
		if got == nil {
			return
		}
		for ; j < len(steps); j++ {
			if st := &steps[j]; st.Group == 0 && !st.Any && st.Min > 0 {
				if st.bareMatches(got) {
					alt = st
					alts++
				}
				return
			}
		}
	}
	for ; i < len(steps); i++ {
		st := &steps[i]
		switch {
		case st.Group == '(' && st.Min == 0:
			consider(i + 1)
			i = groupEnd(steps, i)
		case st.Group == ')' && st.Max < 0:
			consider(groupStart(steps, i) + 1)
		case st.Any || st.Min == 0 || st.Group != 0:
		default:
			if alts == 1 && !st.bareMatches(got) {
				return alt
			}
			return st
		}
	}
	if alts == 1 {
		return alt
	}
	return nil
}

// bareMatches reports whether fm is step s but for its conditions.
func (s *Step) bareMatches(fm *flowMsg) bool {
	bare := *s
	bare.Cond = 0
	return bare.matches(fm)
}

// groupEnd returns the index of the ')' that closes the group steps[i]
// opens (len(steps)-1 when none does: a hand-made flow).
func groupEnd(steps []Step, i int) int {
	depth := 0
	for ; i < len(steps); i++ {
		switch steps[i].Group {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return len(steps) - 1
}

// groupStart returns the index of the '(' that opens the group steps[i]
// closes (-1 when none does).
func groupStart(steps []Step, i int) int {
	depth := 0
	for ; i >= 0; i-- {
		switch steps[i].Group {
		case ')':
			depth++
		case '(':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

func flowLabel(m *Message) string {
	if m.IsRequest() {
		return m.Method
	}
	return itoa3(m.Status) + " " + m.CSeqMethod
}
