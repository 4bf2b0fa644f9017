package correlate

import "strings"

// A call forwarded (on busy, on no answer, unconditionally) reaches a
// target other than the one dialled, and the INVITE that reaches it says
// so: a Diversion header (RFC 5806: who diverted it, and why), or
// History-Info (RFC 7044: every target the request was sent to, with the
// response that made it move on). Both are read into the event "diverted"
// of the INVITE that carries them.

// maxDiversions bounds the entries a diverted event names: a header list
// can be long (a loop), the event stays one line.
const maxDiversions = 4

// diversionSummary is what an INVITE's Diversion and History-Info headers
// say, for its diverted event: "from sip:bob@h (user-busy, counter 1)",
// earlier diversions after it; then the History-Info targets in order with
// the cause that moved the request on ("sip:bob@h (486) → sip:vm@h"),
// when they show the request moved on (more than one target, or a
// cause). "" when the headers show no forwarding.
//
// key is what tells one forwarding from another: the summary without the
// History-Info entries tagged rc or np and no cause (RFC 7044 §4.2.1: a
// registered contact of the same target, or no change of it), which every
// proxy relaying the INVITE adds (§9.1).
func diversionSummary(diversion, history [][]byte) (summary, key string) {
	var b strings.Builder
	n := 0
	for _, v := range diversion {
		uri, params := splitNameAddr(v)
		if uri == "" {
			continue
		}
		if n == maxDiversions {
			b.WriteString(", …")
			break
		}
		if n == 0 {
			b.WriteString("from ")
		} else {
			b.WriteString(", before that from ")
		}
		b.WriteString(uri)
		var why []string
		if r, _ := param(params, "reason"); r != "" {
			why = append(why, strings.Trim(r, `"`))
		}
		if c, _ := param(params, "counter"); c != "" {
			why = append(why, "counter "+c)
		}
		if len(why) > 0 {
			b.WriteString(" (" + strings.Join(why, ", ") + ")")
		}
		n++
	}
	var targets, moved []string    // moved: the entries neither rc nor np, or with a cause
	caused, mapped := false, false // an entry says why the request moved on; one says it went to another user (mp)
	for i, v := range history {
		if i == 2*maxDiversions {
			targets = append(targets, "…")
			break
		}
		uri, params := splitNameAddr(v)
		if uri == "" {
			continue
		}
		base, hdrs, _ := strings.Cut(uri, "?")
		var why []string
		if idx, _ := param(params, "index"); idx != "" {
			why = append(why, "index "+idx)
		}
		cause := historyCause(hdrs)
		if cause != "" {
			why = append(why, cause)
			caused = true
		}
		t := base
		if len(why) > 0 {
			t += " (" + strings.Join(why, ", ") + ")"
		}
		targets = append(targets, t)
		if cause != "" || !hasKey(params, "rc") && !hasKey(params, "np") {
			moved = append(moved, t)
		}
		if hasKey(params, "mp") {
			mapped = true
		}
	}
	key = b.String()
	// One entry and no cause is the request's own target: History-Info
	// records every request so (RFC 7044 §9.1), forwarded or not; and so
	// are an entry for the callee's registered contact (rc) and a proxy's
	// relay that did not retarget (np).
	if len(moved) > 1 || caused || mapped {
		if b.Len() > 0 {
			b.WriteString("; ")
			key += "; "
		}
		b.WriteString("History-Info: " + strings.Join(targets, " → "))
		key += "History-Info: " + strings.Join(moved, " → ")
	}
	return b.String(), key
}

// splitNameAddr returns a header entry's URI (inside its angle brackets,
// when it has them) and its parameters after the URI. A quoted display
// name ("Sales <main>; 2nd" <tel:+1555>) is skipped: its brackets and
// semicolons are text.
func splitNameAddr(v []byte) (uri, params string) {
	s := strings.TrimSpace(string(v))
	if strings.HasPrefix(s, `"`) {
		if e := quoteEnd(s); e > 0 {
			s = strings.TrimSpace(s[e:])
		}
	}
	if i := strings.IndexByte(s, '<'); i >= 0 {
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return strings.TrimSpace(s[i+1:]), ""
		}
		return strings.TrimSpace(s[i+1 : i+j]), s[i+j+1:]
	}
	uri, params, _ = strings.Cut(s, ";")
	return strings.TrimSpace(uri), ";" + params
}

// param returns the value of parameter name (case-insensitive) in
// ";a=1;b=2", "" when absent or without a value; ok says it is there.
func param(params, name string) (value string, ok bool) {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// historyCause is the cause of the Reason a History-Info URI's headers
// carry (?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%22: RFC 7044 §4.2.1)
// as the entry shows it, "" when none: "cause 486" for a SIP response
// code, another protocol's after its name ("Q.850 cause 16", RFC 3326);
// a SIP one preferred when there are both.
func historyCause(hdrs string) string {
	other := ""
	for value := range uriHeaders(hdrs, "reason") {
		proto, params, ok := strings.Cut(value, ";")
		if !ok {
			continue
		}
		c, _ := param(";"+params, "cause")
		switch proto = strings.TrimSpace(proto); {
		case c == "":
		case strings.EqualFold(proto, "SIP"):
			return "cause " + c
		case other == "":
			other = strings.TrimPrefix(proto+" cause "+c, " ") // no protocol named: "cause 16", as before
		}
	}
	return other
}

// hasKey says whether parameter name is in params, with a value or not.
func hasKey(params, name string) bool {
	_, ok := param(params, name)
	return ok
}
