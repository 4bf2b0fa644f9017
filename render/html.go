package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sipflow/sipflow/media"
)

// ReportOptions tune a Report.
type ReportOptions struct {
	// Title heads the page, e.g. the capture's file name.
	Title string
	// List adds the call list: a table of every call, sortable by any
	// column and filterable, that selects the call shown. Without it the
	// calls are shown one after another.
	List bool
}

// Report writes one self-contained HTML page: no external assets, works
// offline, and a Content-Security-Policy that lets nothing but its own
// script run. Each call is a section with its ladder (SVG), its findings,
// a small plot per RTP stream, and the full text of its messages, shown
// when a message of the ladder is clicked (or focused and Enter pressed).
//
// It streams: Add writes a call's section at once, so a capture of many
// calls costs the memory of one ladder plus a line per call for the list,
// which Close writes at the end (CSS puts it first on the page).
//
// Every string from the capture is sanitized and then escaped by
// html/template; the ladder's SVG comes from SVG, which escapes its own.
type Report struct {
	w       io.Writer
	o       ReportOptions
	calls   []listRow
	omitted int
	err     error
}

// listRow is a call's line in the call list.
type listRow struct {
	ID                     string
	Start                  string
	StartV                 int64
	CallID, Kind, From, To string
	State                  string
	Final                  string
	FinalV                 int
	PDD, Duration          string
	PDDV, DurationV        int64
	Messages, Findings     int
	Worst, FindingsText    string
}

// NewReport starts a page on w.
func NewReport(w io.Writer, o ReportOptions) (*Report, error) {
	r := &Report{w: w, o: o}
	r.err = pageTemplates.ExecuteTemplate(w, "head", headData{
		Title: SanitizeString(o.Title), CSP: template.HTMLAttr(`content="` + pageCSP + `"`),
		CSS: template.CSS(pageCSS + SVGStyle), List: o.List,
	})
	return r, r.err
}

// Add writes the section of one call.
func (r *Report) Add(l *Ladder) error {
	if r.err != nil {
		return r.err
	}
	n := len(r.calls) + 1
	id := "call-" + strconv.Itoa(n)
	var svg bytes.Buffer
	SVG(&svg, l, SVGOptions{Embedded: true})
	// The SVG is trusted markup: SVG escapes every string it draws, and
	// TestHostileEscaped holds it to that.
	d := sectionData{ID: id, Title: SanitizeString(l.Kind + " " + l.CallID), SVG: template.HTML(svg.String())}
	meta := []string{l.State, l.Start.Format("2006-01-02 15:04:05.000") + " UTC"}
	if l.From != "" || l.To != "" {
		meta = append(meta, SanitizeString(l.Caller())+" → "+SanitizeString(l.Callee()))
	}
	if l.FinalStatus > 0 {
		meta = append(meta, "final "+strconv.Itoa(l.FinalStatus))
	}
	switch {
	case l.Flow != "":
		meta = append(meta, "flow "+SanitizeString(l.Flow))
	case l.Deviation != "":
		meta = append(meta, "left flow: "+SanitizeString(l.Deviation))
	}
	d.Meta = strings.Join(meta, " · ")
	if len(l.Legs) > 1 {
		for i, leg := range l.Legs {
			d.Legs = append(d.Legs, "leg "+strconv.Itoa(i+1)+": "+SanitizeString(leg))
		}
	}
	for _, f := range l.Findings {
		d.Findings = append(d.Findings, findingView{Severity: f.Severity, Rule: SanitizeString(f.Rule),
			Detail: SanitizeString(f.Detail), Where: "packets " + PacketList(f.Packets, "…") + " · " + f.RFC})
	}
	for i := range l.Rows {
		row := &l.Rows[i]
		if row.Kind == RowStream {
			d.Streams = append(d.Streams, streamPlot(row))
			continue
		}
		head := "packet " + strconv.Itoa(row.N) + " · " + row.Time.Format("15:04:05.000000") + " UTC · " +
			SanitizeString(row.Src) + " → " + SanitizeString(row.Dst) + " " + row.Transport
		text := "(the message text was not kept)"
		if row.Text != "" {
			text = sanitizeLines(row.Text)
		}
		d.Texts = append(d.Texts, textView{Row: i, Head: head, Text: text})
	}
	if r.err = pageTemplates.ExecuteTemplate(r.w, "call", d); r.err != nil {
		return r.err
	}
	worst, rules := "", make([]string, 0, len(l.Findings))
	rank := map[string]int{"": 0, "info": 1, "warning": 2, "error": 3}
	for _, f := range l.Findings {
		if rank[f.Severity] > rank[worst] {
			worst = f.Severity
		}
		rules = append(rules, SanitizeString(f.Rule))
	}
	final := ""
	if l.FinalStatus > 0 {
		final = strconv.Itoa(l.FinalStatus)
	}
	findings := strings.Join(rules, ", ")
	if len(rules) > 0 {
		findings = strconv.Itoa(len(rules)) + " " + findings
	}
	r.calls = append(r.calls, listRow{
		ID: id, Start: l.Start.Format("2006-01-02 15:04:05.000"), StartV: l.Start.UnixMicro(),
		CallID: SanitizeString(l.CallID), Kind: l.Kind, From: SanitizeString(l.From), To: SanitizeString(l.To),
		State: l.State, Final: final, FinalV: l.FinalStatus,
		PDD: durCell(l.PDD), PDDV: int64(l.PDD / time.Millisecond), Duration: durCell(l.Duration), DurationV: int64(l.Duration / time.Millisecond),
		Messages: l.Messages, Findings: len(l.Findings), Worst: worst, FindingsText: findings,
	})
	return nil
}

// Omit counts n calls that matched but that the page leaves out (a limit
// on how many one page holds): the list says how many.
func (r *Report) Omit(n int) { r.omitted += n }

// Close writes the call list (with ReportOptions.List) and the script.
func (r *Report) Close() error {
	if r.err != nil {
		return r.err
	}
	states := map[string]bool{}
	var stateList []string
	for _, c := range r.calls {
		if !states[c.State] {
			states[c.State] = true
			stateList = append(stateList, c.State)
		}
	}
	r.err = pageTemplates.ExecuteTemplate(r.w, "tail", tailData{
		List: r.o.List, Calls: r.calls, States: stateList, JS: template.JS(pageJS), Count: len(r.calls), Omitted: r.omitted,
	})
	return r.err
}

// HTML writes one page with the ladders of the given calls: with several,
// a call list selects which is shown.
func HTML(w io.Writer, ls []*Ladder, title string) error {
	r, err := NewReport(w, ReportOptions{Title: title, List: len(ls) > 1})
	if err != nil {
		return err
	}
	for _, l := range ls {
		if err := r.Add(l); err != nil {
			return err
		}
	}
	return r.Close()
}

func durCell(d time.Duration) string {
	switch {
	case d < 0:
		return ""
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}

// sanitizeLines is Sanitize for a message's text, keeping its line breaks.
func sanitizeLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\r\n"), "\n")
	for i, ln := range lines {
		lines[i] = SanitizeString(strings.TrimSuffix(ln, "\r"))
	}
	return strings.Join(lines, "\n")
}

type headData struct {
	Title string
	CSP   template.HTMLAttr
	CSS   template.CSS
	List  bool
}

type sectionData struct {
	ID, Title, Meta string
	Legs            []string
	SVG             template.HTML
	Findings        []findingView
	Streams         []streamView
	Texts           []textView
}

type findingView struct {
	Severity, Rule, Detail, Where string
}

type textView struct {
	Row        int
	Head, Text string
}

type tailData struct {
	List    bool
	Calls   []listRow
	States  []string
	JS      template.JS
	Count   int
	Omitted int
}

// streamView is the plot of one RTP stream: a bar per measure, and the
// stream second by second (loss as bars, jitter as a line).
type streamView struct {
	Caption string
	Bars    []barView
	Label   string
	Time    *timePlot
}

// timePlot is the second-by-second plot: geometry precomputed here, so the
// template only places numbers.
type timePlot struct {
	W, H      int
	Loss      []lossBar
	Jitter    string // polyline points
	MaxJitter string // the jitter scale's top, labelled
	MaxLoss   string
	Seconds   string // the time axis' end, labelled
	BaseY     int
	LabelY    int
}

type lossBar struct{ X, Y, W, H int }

type barView struct {
	Name, Value, Level string
	Y, TextY, W        int
}

// plotBarW is the plot's full scale: a bar per measure, 140 px at most.
const plotBarW = 140

// streamPlot draws what media.Stream measures (loss, jitter, MOS) as bars
// against fixed scales, with the usual thresholds for voice (1 % and 3 %
// loss, 20 and 40 ms jitter, MOS 4.0 and 3.6) colouring them.
func streamPlot(r *Row) streamView {
	s := r.Stream
	v := streamView{
		Caption: SanitizeString(r.Label+" "+r.Src+" → "+r.Dst) + fmt.Sprintf(" · SSRC %#08x · %s", s.SSRC, SanitizeString(s.Summary())),
	}
	if s.Fax != nil { // T.38 has no SSRC
		v.Caption = SanitizeString(r.Label + " " + r.Src + " → " + r.Dst + " · " + s.Summary())
	}
	v.Label = v.Caption
	add := func(name, value string, frac float64, level string) {
		y := 4 + len(v.Bars)*20
		w := int(frac*plotBarW + 0.5)
		w = min(max(w, 0), plotBarW)
		v.Bars = append(v.Bars, barView{Name: name, Value: value, Level: level, Y: y, TextY: y + 11, W: w})
	}
	level := func(x, warn, bad float64) string {
		switch {
		case x >= bad:
			return "bad"
		case x >= warn:
			return "warn"
		}
		return "good"
	}
	if f := s.Fax; f != nil {
		// What a fax loses for good is lost lines or a lost frame: any is
		// worth a look, 5 % is a fax in trouble (fax-loss's error).
		pct := f.unrecoveredPct
		add("lost for good", strconv.FormatFloat(pct, 'f', 1, 64)+" % ("+strconv.Itoa(f.Unrecovered)+")", pct/5, level(pct, 0.001, 5))
		add("made good", strconv.Itoa(f.Recovered), 0, "good")
		v.Time = seriesPlot(s.Series)
		return v
	}
	if s.Expected > 0 {
		add("loss", strconv.FormatFloat(s.LostPct, 'f', 1, 64)+" % ("+strconv.Itoa(s.Lost)+")", s.LostPct/5, level(s.LostPct, 1, 3))
	} else {
		add("loss", "n/a", 0, "good")
	}
	add("jitter avg", strconv.FormatFloat(s.JitterMean, 'f', 1, 64)+" ms", s.JitterMean/60, level(s.JitterMean, 20, 40))
	add("jitter max", strconv.FormatFloat(s.JitterMax, 'f', 1, 64)+" ms", s.JitterMax/60, level(s.JitterMax, 20, 40))
	if s.MOS > 0 {
		add("MOS", strconv.FormatFloat(s.MOS, 'f', 2, 64), (s.MOS-1)/3.5, level(5-s.MOS, 1, 1.4))
	} else {
		add("MOS", "n/a", 0, "good")
	}
	v.Time = seriesPlot(s.Series)
	return v
}

// seriesPlot draws a stream second by second: red bars for the packets
// lost in each second (scale: the worst second), a line for the largest
// jitter of each second (scale: the worst, at least 40 ms). Nil when the
// stream lasted under two seconds.
func seriesPlot(series []media.Sample) *timePlot {
	if len(series) < 2 {
		return nil
	}
	const w, h, left, top, bottom = 300, 70, 4, 4, 56
	secs := series[len(series)-1].Second + 1
	maxLoss, maxJit := 0, 40.0
	for _, x := range series {
		maxLoss = max(maxLoss, x.Lost)
		maxJit = max(maxJit, x.JitterMax)
	}
	p := &timePlot{W: w, H: h, BaseY: bottom, LabelY: h - 2,
		MaxJitter: strconv.FormatFloat(maxJit, 'f', 0, 64) + " ms", MaxLoss: strconv.Itoa(maxLoss) + " lost/s",
		Seconds: strconv.Itoa(secs) + " s"}
	span := float64(w - 2*left)
	bw := max(1, int(span/float64(secs)))
	var pts strings.Builder
	for i, x := range series {
		px := left + int(float64(x.Second)*span/float64(secs))
		if x.Lost > 0 {
			bh := max(1, x.Lost*(bottom-top)/max(1, maxLoss))
			p.Loss = append(p.Loss, lossBar{X: px, Y: bottom - bh, W: bw, H: bh})
		}
		if i > 0 {
			pts.WriteByte(' ')
		}
		y := bottom - int(x.JitterMax/maxJit*float64(bottom-top))
		fmt.Fprintf(&pts, "%d,%d", px+bw/2, y)
	}
	p.Jitter = pts.String()
	return p
}

// pageCSP allows the page's own script (by its hash) and nothing else: no
// network, no other script, even if escaping failed somewhere.
var pageCSP = func() string {
	sum := sha256.Sum256([]byte(pageJS))
	return "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-" +
		base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
}()

var pageTemplates = template.Must(template.New("page").Parse(`
{{- define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" {{.CSP}}>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="sipflow">
<title>sipflow: {{.Title}}</title>
<style>
{{.CSS}}</style>
</head>
<body{{if .List}} class="sf-with-list"{{end}}>
<header class="sf-top"><h1>{{.Title}}</h1></header>
<main id="sf-main">
{{end}}

{{- define "call"}}<section class="sf-call" id="{{.ID}}">
<h2>{{.Title}}</h2>
<p class="sf-meta">{{.Meta}}</p>
{{- range .Legs}}
<p class="sf-leg">{{.}}</p>
{{- end}}
{{- if .Findings}}
<ul class="sf-findings">
{{- range .Findings}}
<li class="sf-f-{{.Severity}}"><b>{{.Severity}}</b> <code>{{.Rule}}</code> {{.Detail}} <span class="sf-where">{{.Where}}</span></li>
{{- end}}
</ul>
{{- end}}
<div class="sf-cols">
<div class="sf-ladder-box">
{{.SVG}}</div>
<aside class="sf-panel"><p class="sf-hint">Click a message in the ladder to read its full text.</p><div class="sf-panel-body"></div></aside>
</div>
{{- if .Streams}}
<div class="sf-streams">
{{- range .Streams}}
<figure class="sf-stream"><figcaption>{{.Caption}}</figcaption>
<svg class="sf-plot" xmlns="http://www.w3.org/2000/svg" width="300" height="86" viewBox="0 0 300 86" role="img" aria-label="{{.Label}}">
{{- range .Bars}}
<text x="0" y="{{.TextY}}">{{.Name}}</text><rect class="sf-track" x="78" y="{{.Y}}" width="140" height="14"/><rect class="sf-bar-{{.Level}}" x="78" y="{{.Y}}" width="{{.W}}" height="14"/><text x="224" y="{{.TextY}}">{{.Value}}</text>
{{- end}}
</svg>
{{- with .Time}}
<svg class="sf-plot sf-time" xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="loss and jitter, second by second">
<line class="sf-axis" x1="4" y1="{{.BaseY}}" x2="296" y2="{{.BaseY}}"/>
{{- range .Loss}}<rect class="sf-bar-bad" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"/>{{end}}
<polyline class="sf-jitter" points="{{.Jitter}}"/>
<text class="sf-small" x="4" y="{{.LabelY}}">0 s · jitter ≤ {{.MaxJitter}} · loss ≤ {{.MaxLoss}}</text><text class="sf-small" x="296" y="{{.LabelY}}" text-anchor="end">{{.Seconds}}</text>
</svg>
{{- end}}</figure>
{{- end}}
</div>
{{- end}}
<template class="sf-texts">
{{- range .Texts}}
<article data-row="{{.Row}}"><h3>{{.Head}}</h3><pre>{{.Text}}</pre></article>
{{- end}}
</template>
</section>
{{end}}

{{- define "tail"}}
{{- if .List}}<section id="sf-list" class="sf-list">
<div class="sf-filter"><input id="sf-q" type="search" placeholder="filter: Call-ID, from, to, state, finding" aria-label="filter calls">
<select id="sf-state" aria-label="state"><option value="">every state</option>{{range .States}}<option>{{.}}</option>{{end}}</select>
<span id="sf-count">{{.Count}} call(s)</span>{{if .Omitted}}<span class="sf-omitted">and {{.Omitted}} more that matched, left out of this page (its limit on calls)</span>{{end}}</div>
<table id="sf-calls">
<thead><tr><th data-type="num">start (UTC)</th><th>Call-ID</th><th>kind</th><th>from</th><th>to</th><th>state</th><th data-type="num">final</th><th data-type="num">PDD</th><th data-type="num">duration</th><th data-type="num">msgs</th><th data-type="num">findings</th></tr></thead>
<tbody>
{{- range .Calls}}
<tr data-call="{{.ID}}" data-state="{{.State}}" tabindex="0"><td data-v="{{.StartV}}">{{.Start}}</td><td class="sf-id">{{.CallID}}</td><td>{{.Kind}}</td><td>{{.From}}</td><td>{{.To}}</td><td class="sf-s-{{.State}}">{{.State}}</td><td data-v="{{.FinalV}}">{{.Final}}</td><td data-v="{{.PDDV}}">{{.PDD}}</td><td data-v="{{.DurationV}}">{{.Duration}}</td><td data-v="{{.Messages}}">{{.Messages}}</td><td data-v="{{.Findings}}" class="sf-f-{{.Worst}}">{{.FindingsText}}</td></tr>
{{- end}}
</tbody>
</table>
</section>
{{end -}}
</main>
<script>{{.JS}}</script>
</body>
</html>
{{end}}`))

const pageCSS = `*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;background:#f6f7f9}
.sf-top{padding:10px 18px;background:#1d3f73;color:#fff}
.sf-top h1{margin:0;font-size:18px;font-weight:600;word-break:break-all}
main{display:flex;flex-direction:column;gap:14px;padding:14px 18px}
.sf-list{order:-1;background:#fff;border:1px solid #d5dae1;border-radius:6px;padding:10px;overflow:auto;max-height:45vh}
.sf-filter{display:flex;gap:8px;align-items:center;margin-bottom:8px}
.sf-filter input{flex:1;padding:5px 8px;font:inherit}
#sf-count{color:#555}.sf-omitted{color:#a15c00}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eceff3;white-space:nowrap;max-width:28em;overflow:hidden;text-overflow:ellipsis}
th{position:sticky;top:0;background:#f0f3f7;cursor:pointer;user-select:none}
th.sf-asc::after{content:" ▲"}th.sf-desc::after{content:" ▼"}
tbody tr{cursor:pointer}
tbody tr:hover{background:#f4f8ff}
tbody tr.sf-cur{background:#dfeaff}
.sf-s-completed,.sf-s-answered,.sf-s-registered,.sf-s-unregistered,.sf-s-subscribed{color:#1d7a32}
.sf-s-failed,.sf-s-unanswered{color:#b3261e}
.sf-s-rejected,.sf-s-cancelled,.sf-s-expired{color:#a15c00}
.sf-call{background:#fff;border:1px solid #d5dae1;border-radius:6px;padding:10px 14px}
.sf-call[hidden]{display:none}
.sf-call h2{margin:0 0 4px;font-size:16px;word-break:break-all}
.sf-meta,.sf-leg{margin:0 0 4px;color:#444;word-break:break-all}
.sf-findings{margin:6px 0;padding-left:20px}
.sf-findings li{margin:2px 0;overflow-wrap:anywhere}
.sf-f-error{color:#b3261e}.sf-f-warning{color:#a15c00}.sf-f-info{color:#1f5fa8}
.sf-where{color:#666;font-size:12px}
.sf-cols{display:flex;gap:12px;align-items:flex-start}
.sf-ladder-box{flex:1 1 auto;overflow:auto;border:1px solid #eceff3;min-width:0}
.sf-panel{flex:0 0 38%;position:sticky;top:8px;max-height:calc(100vh - 16px);overflow:auto;border:1px solid #d5dae1;border-radius:4px;padding:8px;background:#fbfcfd}
.sf-panel h3{margin:0 0 6px;font-size:13px;color:#1d3f73;word-break:break-all}
.sf-panel pre{margin:0;font:12px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all}
.sf-hint{margin:0;color:#777}
.sf-open .sf-hint{display:none}
.sf-streams{display:flex;flex-wrap:wrap;gap:12px;margin-top:10px}
.sf-stream{margin:0;border:1px solid #eceff3;border-radius:4px;padding:6px;max-width:320px}
.sf-stream figcaption{font-size:12px;color:#444;margin-bottom:4px;word-break:break-all}
.sf-plot{font:11px ui-monospace,Menlo,Consolas,monospace}
.sf-time{display:block;margin-top:4px}.sf-small{font-size:9px}.sf-axis{stroke:#999}.sf-jitter{fill:none;stroke:#1f6feb;stroke-width:1.5}
.sf-track{fill:#eceff3}.sf-bar-good{fill:#43a047}.sf-bar-warn{fill:#f9a825}.sf-bar-bad{fill:#e53935}
@media (max-width:900px){.sf-cols{flex-direction:column}.sf-panel{position:static;width:100%}}
`

// pageJS makes the page work: the call list (select, sort, filter) and
// the message panel. It is the page's only script, allowed by its hash in
// the Content-Security-Policy. A location hash "#call-N" selects a call,
// "#call-N:R" also opens row R's message.
const pageJS = `(function () {
  'use strict';
  var list = document.getElementById('sf-list');
  var sections = Array.prototype.slice.call(document.querySelectorAll('section.sf-call'));
  function rowsOf() { return list ? Array.prototype.slice.call(list.querySelectorAll('tbody tr')) : []; }
  function select(id) {
    if (!list) { return document.getElementById(id); }
    var found = null;
    sections.forEach(function (s) { s.hidden = s.id !== id; if (s.id === id) { found = s; } });
    rowsOf().forEach(function (tr) { tr.classList.toggle('sf-cur', tr.getAttribute('data-call') === id); });
    return found;
  }
  function setHash(h) { try { history.replaceState(null, '', '#' + h); } catch (e) { /* file: URLs in some browsers */ } }
  function openMessage(sec, row) {
    var tpl = sec.querySelector('template.sf-texts');
    var art = tpl && tpl.content.querySelector('article[data-row="' + row + '"]');
    if (!art) { return; }
    var panel = sec.querySelector('.sf-panel');
    var body = panel.querySelector('.sf-panel-body');
    body.textContent = '';
    body.appendChild(art.cloneNode(true));
    panel.classList.add('sf-open');
    Array.prototype.forEach.call(sec.querySelectorAll('g.sf-msg.sf-sel'), function (g) { g.classList.remove('sf-sel'); });
    var g = sec.querySelector('g.sf-msg[data-row="' + row + '"]');
    if (g) { g.classList.add('sf-sel'); }
    setHash(sec.id + ':' + row);
  }
  function activate(target) {
    var g = target.closest && target.closest('g.sf-msg');
    if (g) { openMessage(g.closest('section.sf-call'), g.getAttribute('data-row')); return true; }
    var tr = target.closest && target.closest('tr[data-call]');
    if (tr) {
      var sec = select(tr.getAttribute('data-call'));
      if (sec) { setHash(sec.id); sec.scrollIntoView({block: 'start'}); }
      return true;
    }
    return false;
  }
  document.addEventListener('click', function (e) {
    var th = e.target.closest && e.target.closest('#sf-calls th');
    if (th) { sortBy(th); return; }
    activate(e.target);
  });
  document.addEventListener('keydown', function (e) {
    if ((e.key === 'Enter' || e.key === ' ') && activate(e.target)) { e.preventDefault(); }
  });
  function cellValue(tr, i, num) {
    var td = tr.children[i];
    if (num) { var v = parseFloat(td.getAttribute('data-v')); return isNaN(v) ? -Infinity : v; }
    return td.textContent.toLowerCase();
  }
  function sortBy(th) {
    var i = Array.prototype.indexOf.call(th.parentNode.children, th);
    var num = th.getAttribute('data-type') === 'num';
    var asc = !th.classList.contains('sf-asc');
    Array.prototype.forEach.call(th.parentNode.children, function (h) { h.classList.remove('sf-asc', 'sf-desc'); });
    th.classList.add(asc ? 'sf-asc' : 'sf-desc');
    var tbody = list.querySelector('tbody');
    rowsOf().map(function (tr, k) { return {tr: tr, v: cellValue(tr, i, num), k: k}; })
      .sort(function (a, b) { var c = a.v < b.v ? -1 : a.v > b.v ? 1 : a.k - b.k; return asc ? c : -c; })
      .forEach(function (x) { tbody.appendChild(x.tr); });
  }
  function filter() {
    var q = document.getElementById('sf-q').value.toLowerCase().trim();
    var st = document.getElementById('sf-state').value;
    var shown = 0;
    rowsOf().forEach(function (tr) {
      var ok = (!q || tr.textContent.toLowerCase().indexOf(q) >= 0) && (!st || tr.getAttribute('data-state') === st);
      tr.hidden = !ok;
      if (ok) { shown++; }
    });
    document.getElementById('sf-count').textContent = shown + ' of ' + rowsOf().length + ' call(s)';
  }
  if (list) {
    document.getElementById('sf-q').addEventListener('input', filter);
    document.getElementById('sf-state').addEventListener('change', filter);
  }
  var m = /^#(call-[0-9]+)(?::([0-9]+))?$/.exec(location.hash);
  var first = m ? m[1] : (sections[0] && sections[0].id);
  var sec = first && select(first);
  if (sec && m && m[2] !== undefined) { openMessage(sec, m[2]); }
})();
`
