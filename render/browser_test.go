package render_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"github.com/sipflow/sipflow/render"
)

// TestBrowserReport opens a report in headless Chromium, driven over the
// Chrome DevTools Protocol: the page's script runs under its own CSP, a
// click on a row of the call list shows that call, a click on a message
// of its ladder shows the message's text, and nothing from the hostile
// call runs or opens a dialog. A screenshot is kept in a temporary folder
// (its path is logged).
func TestBrowserReport(t *testing.T) {
	bin := chromium(t)
	cases := ladderCases(t)
	var ladders []*render.Ladder
	b2bua := -1
	for i, c := range cases {
		ladders = append(ladders, c.l)
		if c.name == "flow_b2bua_xcallid" {
			b2bua = i
		}
	}
	// A call whose finding holds a 3,000-byte word (a reason phrase from
	// the capture): it must wrap, not widen the page.
	long := *cases[0].l
	long.Findings = append(slices.Clone(long.Findings), render.Finding{Rule: "call-failed", Severity: "warning",
		Detail: "call rejected with 486 " + strings.Repeat("Busy", 750)})
	ladders = append(ladders, &long)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := render.HTML(f, ladders, "browser test"); err != nil {
		t.Fatal(err)
	}
	f.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	profile, err := os.MkdirTemp("", "sipflow-chromium-profile-")
	if err != nil {
		t.Fatal(err)
	}
	b := startBrowser(ctx, t, bin, profile)
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		b.call(ctx, t, m, nil, nil)
	}
	b.call(ctx, t, "Page.navigate", map[string]any{"url": "file://" + page}, nil)
	b.waitEvent(ctx, t, "Page.loadEventFired")

	// The page's script ran (allowed by its hash): one call shown, the first.
	if got := b.eval(ctx, t, `[...document.querySelectorAll('section.sf-call')].filter(s => !s.hidden).map(s => s.id).join()`); got != "call-1" {
		t.Fatalf("calls shown after load: %v, want call-1 (did the script run?)", got)
	}
	if n := b.eval(ctx, t, `document.querySelectorAll('script').length`); n != 1.0 {
		t.Errorf("%v script elements, want 1", n)
	}

	// Click the B2BUA call in the list.
	callID := fmt.Sprintf("call-%d", b2bua+1)
	b.click(ctx, t, `document.querySelector('tr[data-call="`+callID+`"]')`)
	if got := b.eval(ctx, t, `[...document.querySelectorAll('section.sf-call')].filter(s => !s.hidden).map(s => s.id).join()`); got != callID {
		t.Fatalf("after clicking its row, calls shown: %v, want %s", got, callID)
	}

	// Its 5th row is the callee's 180 Ringing on leg 2: not shown yet, then
	// clicked, then readable.
	const row = 4
	want := strings.SplitN(cases[b2bua].l.Rows[row].Text, "\r\n", 2)[0]
	if want != "SIP/2.0 180 Ringing" {
		t.Fatalf("row %d of the B2BUA call is %q", row, want)
	}
	visibleText := `(() => {
		const p = document.querySelector('#` + callID + ` .sf-panel-body pre');
		if (!p) return '';
		const r = p.getBoundingClientRect();
		const s = getComputedStyle(p);
		return r.width > 0 && r.height > 0 && s.visibility === 'visible' && s.display !== 'none' ? p.innerText : '';
	})()`
	if got := b.eval(ctx, t, visibleText); got != "" {
		t.Fatalf("a message text is visible before any click: %q", got)
	}
	b.click(ctx, t, `document.querySelector('#`+callID+` g.sf-msg[data-row="`+fmt.Sprint(row)+`"] text.sf-lab')`)
	got, _ := b.eval(ctx, t, visibleText).(string)
	if !strings.HasPrefix(got, want) || !strings.Contains(got, "Call-ID: "+cases[b2bua].l.Legs[1]) {
		t.Fatalf("after clicking the message, the panel shows %q, want the 180 Ringing of leg 2", got)
	}
	if sel := b.eval(ctx, t, `document.querySelector('#`+callID+` g.sf-msg.sf-sel').getAttribute('data-row')`); sel != fmt.Sprint(row) {
		t.Errorf("selected row %v", sel)
	}

	// The long finding's call: the page does not scroll sideways.
	longID := fmt.Sprintf("call-%d", len(ladders))
	b.click(ctx, t, `document.querySelector('tr[data-call="`+longID+`"]')`)
	if got := b.eval(ctx, t, `[...document.querySelectorAll('section.sf-call')].filter(s => !s.hidden).map(s => s.id).join()`); got != longID {
		t.Fatalf("after clicking its row, calls shown: %v, want %s", got, longID)
	}
	if over := b.eval(ctx, t, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over != 0.0 {
		t.Errorf("a finding's long word widens the page by %v px", over)
	}

	// A screenshot, kept for a human to look at.
	shots, err := os.MkdirTemp("", "sipflow-report-screenshot-")
	if err != nil {
		t.Fatal(err)
	}
	var shot struct{ Data string }
	b.call(ctx, t, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || len(png) < 1000 {
		t.Fatalf("screenshot: %v (%d bytes)", err, len(png))
	}
	name := filepath.Join(shots, "report.png")
	if err := os.WriteFile(name, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", name)

	if errs := b.problems(); len(errs) > 0 {
		t.Errorf("the page reported problems:\n%s", strings.Join(errs, "\n"))
	}
}

// browser is a headless Chromium and a DevTools Protocol session on its page.
type browser struct {
	ws      *websocket.Conn
	mu      sync.Mutex
	next    int
	pending map[int]chan cdpMessage
	events  chan cdpMessage
	issues  []string
}

type cdpMessage struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

var devtoolsURL = regexp.MustCompile(`DevTools listening on (ws://[^\s]+)`)

func startBrowser(ctx context.Context, t *testing.T, bin, profile string) *browser {
	t.Helper()
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--user-data-dir="+profile, "--remote-debugging-port=0", "--remote-allow-origins=*",
		"--window-size=1400,1000", "about:blank")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		skipOrFail(t, "cannot start %s: %v", bin, err)
	}
	var browserURL string
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		// Ask Chromium to close (its helper processes go with it); kill it
		// if it does not; then remove its profile.
		if browserURL != "" {
			if ws, err := websocket.Dial(browserURL, "", "http://127.0.0.1/"); err == nil {
				websocket.JSON.Send(ws, map[string]any{"id": 1, "method": "Browser.close"})
				ws.Close()
			}
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		for i := 0; i < 10 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(200 * time.Millisecond)
		}
	})
	found := make(chan string, 1)
	var logMu sync.Mutex
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if m := devtoolsURL.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case browserURL = <-found:
	case <-ctx.Done():
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("Chromium did not start its DevTools server:\n%s", log.String())
	}
	// The page target's own endpoint, from the HTTP side of the server.
	host := strings.TrimPrefix(browserURL, "ws://")
	host = host[:strings.IndexByte(host, '/')]
	var targets []struct {
		Type, WebSocketDebuggerURL string
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get("http://" + host + "/json/list")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		if err == nil && len(targets) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no page target in Chromium: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	pageURL := ""
	for _, tg := range targets {
		if tg.Type == "page" {
			pageURL = tg.WebSocketDebuggerURL
			break
		}
	}
	if pageURL == "" {
		t.Fatalf("no page target among %+v", targets)
	}
	ws, err := websocket.Dial(pageURL, "", "http://127.0.0.1/")
	if err != nil {
		t.Fatalf("DevTools websocket: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	b := &browser{ws: ws, pending: map[int]chan cdpMessage{}, events: make(chan cdpMessage, 256)}
	go b.read()
	return b
}

func (b *browser) read() {
	for {
		var m cdpMessage
		if err := websocket.JSON.Receive(b.ws, &m); err != nil {
			b.mu.Lock()
			for _, ch := range b.pending {
				close(ch)
			}
			b.pending = nil
			b.mu.Unlock()
			return
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.pending[m.ID]
			delete(b.pending, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		b.note(m)
		select {
		case b.events <- m:
		default: // nobody waits for it
		}
	}
}

// note keeps what the page complains about: exceptions, console errors
// (CSP violations among them), dialogs (an injected alert()).
func (b *browser) note(m cdpMessage) {
	var issue string
	switch m.Method {
	case "Runtime.exceptionThrown":
		issue = "exception: " + string(m.Params)
	case "Page.javascriptDialogOpening":
		issue = "dialog: " + string(m.Params)
	case "Log.entryAdded":
		var p struct{ Entry struct{ Level, Text string } }
		json.Unmarshal(m.Params, &p)
		if p.Entry.Level == "error" {
			issue = "console: " + p.Entry.Text
		}
	case "Runtime.consoleAPICalled":
		var p struct{ Type string }
		json.Unmarshal(m.Params, &p)
		if p.Type == "error" {
			issue = "console.error: " + string(m.Params)
		}
	}
	if issue != "" {
		b.mu.Lock()
		b.issues = append(b.issues, issue)
		b.mu.Unlock()
	}
}

func (b *browser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.issues...)
}

func (b *browser) call(ctx context.Context, t *testing.T, method string, params, result any) {
	t.Helper()
	b.mu.Lock()
	if b.pending == nil {
		b.mu.Unlock()
		t.Fatalf("%s: the DevTools connection is closed", method)
	}
	b.next++
	id := b.next
	ch := make(chan cdpMessage, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	if params == nil {
		params = map[string]any{}
	}
	if err := websocket.JSON.Send(b.ws, map[string]any{"id": id, "method": method, "params": params}); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatalf("%s: the DevTools connection closed", method)
		}
		if m.Error != nil {
			t.Fatalf("%s: %s", method, m.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				t.Fatalf("%s: %v", method, err)
			}
		}
	case <-ctx.Done():
		t.Fatalf("%s: %v", method, ctx.Err())
	}
}

func (b *browser) waitEvent(ctx context.Context, t *testing.T, method string) {
	t.Helper()
	for {
		select {
		case m := <-b.events:
			if m.Method == method {
				return
			}
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", method, ctx.Err())
		}
	}
}

// eval evaluates a JavaScript expression in the page and returns its value.
func (b *browser) eval(ctx context.Context, t *testing.T, expr string) any {
	t.Helper()
	var res struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	b.call(ctx, t, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res)
	if res.ExceptionDetails != nil {
		t.Fatalf("evaluating %s: %s %s", expr, res.ExceptionDetails.Text, res.ExceptionDetails.Exception.Description)
	}
	return res.Result.Value
}

// click scrolls the element that expr finds into view and clicks its
// centre with the mouse, as a user would.
func (b *browser) click(ctx context.Context, t *testing.T, expr string) {
	t.Helper()
	pos := b.eval(ctx, t, `(() => {
		const e = `+expr+`;
		if (!e) return null;
		e.scrollIntoView({block: 'center', inline: 'center'});
		const r = e.getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2];
	})()`)
	xy, ok := pos.([]any)
	if !ok || len(xy) != 2 {
		t.Fatalf("no element for %s", expr)
	}
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		b.call(ctx, t, "Input.dispatchMouseEvent", map[string]any{
			"type": typ, "x": xy[0], "y": xy[1], "button": "left", "clickCount": 1,
		}, nil)
	}
}
