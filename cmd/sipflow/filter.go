package main

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/correlate"
)

// callFilter selects calls: the filters of `calls`, `check`, `flow` and
// (in SQL) `search`.
type callFilter struct {
	callID  string
	from    string
	to      string
	states  []string
	since   string
	until   string
	finding string
	all     bool

	sinceT, untilT time.Time
}

func (f *callFilter) addFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.callID, "call-id", "", "only the calls with this Call-ID "+callIDUsage)
	fl.StringVar(&f.from, "from", "", "only calls whose From URI or display name contains this (user or number)")
	fl.StringVar(&f.to, "to", "", "only calls whose To URI or display name contains this (user or number)")
	fl.StringSliceVar(&f.states, "state", nil, "only calls in these states (comma-separated: completed,failed,...)")
	fl.StringVar(&f.since, "since", "", "only calls that started at or after this time (RFC 3339, or 2006-01-02 15:04:05 in UTC)")
	fl.StringVar(&f.until, "until", "", "only calls that started before this time")
	fl.StringVar(&f.finding, "finding", "", "only calls with a finding of this rule (see sipflow check --rules)")
	fl.BoolVar(&f.all, "all", false, "include registrations, subscriptions, OPTIONS, MESSAGE and other requests, not only INVITE calls")
}

// validStates are correlate's states, by name.
var validStates = map[string]bool{
	string(correlate.StateAnswered): true, string(correlate.StateCompleted): true, string(correlate.StateCancelled): true,
	string(correlate.StateRejected): true, string(correlate.StateFailed): true, string(correlate.StateUnanswered): true,
	string(correlate.StateInProgress): true, string(correlate.StateRegistered): true,
	string(correlate.StateUnregistered): true, string(correlate.StateSubscribed): true, string(correlate.StateExpired): true,
}

func (f *callFilter) validate() error {
	for _, s := range f.states {
		if !validStates[s] {
			return usageError("--state: unknown state %q", s)
		}
	}
	var err error
	if f.since != "" {
		if f.sinceT, err = parseTime(f.since); err != nil {
			return usageError("--since: %v", err)
		}
	}
	if f.until != "" {
		if f.untilT, err = parseTime(f.until); err != nil {
			return usageError("--until: %v", err)
		}
	}
	if f.finding != "" {
		known := false
		for _, r := range correlate.Rules {
			known = known || r.ID == f.finding
		}
		if !known {
			return usageError("--finding: unknown rule %q (see sipflow check --rules)", f.finding)
		}
	}
	return nil
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, &timeError{s}
}

type timeError struct{ s string }

func (e *timeError) Error() string {
	return "cannot read time " + e.s + " (use RFC 3339, e.g. 2026-11-22T10:00:00Z, or 2026-11-22 10:00:00 for UTC)"
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func (f *callFilter) match(c *correlate.Call) bool {
	if !f.all && c.Kind != correlate.KindCall {
		return false
	}
	if f.callID != "" && !parseCallID(f.callID).match(c) {
		return false
	}
	if f.from != "" && !containsFold(c.From, f.from) && !containsFold(c.FromDisplay, f.from) {
		return false
	}
	if f.to != "" && !containsFold(c.To, f.to) && !containsFold(c.ToDisplay, f.to) {
		return false
	}
	if len(f.states) > 0 {
		ok := false
		for _, s := range f.states {
			ok = ok || string(c.State) == s
		}
		if !ok {
			return false
		}
	}
	if !f.sinceT.IsZero() && c.Start.Before(f.sinceT) {
		return false
	}
	if !f.untilT.IsZero() && !c.Start.Before(f.untilT) {
		return false
	}
	if f.finding != "" && !c.HasFinding(f.finding) {
		return false
	}
	return true
}

// withAll reports whether a call that f does not match would match with
// --all: one of another kind than an INVITE call, which noMatch counts.
func (f *callFilter) withAll(c *correlate.Call) bool {
	if f.all || c.Kind == correlate.KindCall {
		return false
	}
	probe := *f
	probe.all = true
	return probe.match(c)
}

// callIDUsage is how every flag that names calls by Call-ID (--call-id,
// --call) says what it takes; callIDPattern is what it means.
const callIDUsage = "(of any leg; one with an @ is taken whole), or its start; ... or … at the end, as tables shorten it, is ignored, and at the start stands for anything before"

// callIDPattern is a Call-ID as every command takes it (--call-id,
// --call), the one place where a value is matched with a call's Call-IDs:
// the Call-ID of any of its legs, or its start. An ellipsis (... or …)
// at the end, as the tables shorten a Call-ID (1-24089@127....), is
// dropped; at the start it stands for anything before, so that
// ...@10.0.0.5 matches a Call-ID that holds @10.0.0.5 anywhere. A start
// and not any part: the archive answers a start from its index, and a
// whole Call-ID never matches another that merely contains it (SIPp's
// 1-24089@host is inside 11-24089@host).
type callIDPattern struct {
	text     string
	anywhere bool // text may be anywhere in the Call-ID, not only at its start
	exact    bool // text is a whole Call-ID: no ellipsis, and an @
}

var ellipses = []string{"...", "…"}

func parseCallID(v string) callIDPattern {
	p := callIDPattern{text: v}
	cut := false
	for _, e := range ellipses {
		if t, ok := strings.CutSuffix(p.text, e); ok && t != "" {
			p.text, cut = t, true
			break
		}
	}
	for _, e := range ellipses {
		if t, ok := strings.CutPrefix(p.text, e); ok && t != "" {
			p.text, p.anywhere, cut = t, true, true
			break
		}
	}
	// A whole Call-ID (localid@host, RFC 3261 §8.1.1.4) picks that call
	// only, not one whose Call-ID merely begins with it.
	p.exact = !cut && strings.Contains(p.text, "@")
	return p
}

// matchID reports whether one Call-ID matches.
func (p callIDPattern) matchID(id string) bool {
	switch {
	case p.anywhere:
		return strings.Contains(id, p.text)
	case p.exact:
		return id == p.text
	}
	return strings.HasPrefix(id, p.text)
}

// match reports whether a Call-ID of any of the call's legs matches.
func (p callIDPattern) match(c *correlate.Call) bool {
	if p.matchID(c.ID) {
		return true
	}
	for _, id := range c.LinkedIDs {
		if p.matchID(id) {
			return true
		}
	}
	return false
}

// prefix is the start every Call-ID that matches has, by which the
// archive narrows its query ("" when the pattern may be anywhere).
func (p callIDPattern) prefix() string {
	if p.anywhere {
		return ""
	}
	return p.text
}
