package render_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// External tools for the Mermaid grammar test and the browser test. Both
// tests skip when a tool is missing, unless SIPFLOW_REQUIRE_TOOLS is set
// (.ci/run sets it once it has installed them): then they fail.

// Versions of the npm packages the Mermaid test installs: the grammar is
// mermaid's own parser; jsdom gives it the DOM its sanitizer wants.
const (
	mermaidVersion = "11.17.2"
	jsdomVersion   = "29.1.1"
)

func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("SIPFLOW_REQUIRE_TOOLS") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// mermaidDir returns a directory with mermaid and jsdom installed and
// the checking script in it: $SIPFLOW_MERMAID_DIR, or a folder in the
// user's cache directory, installed there with npm on first use (never in
// the repository).
func mermaidDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		skipOrFail(t, "node is not installed: the Mermaid grammar check needs it")
	}
	dir := os.Getenv("SIPFLOW_MERMAID_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			skipOrFail(t, "no cache directory for the mermaid package: %v", err)
		}
		dir = filepath.Join(cache, "sipflow-test", "mermaid-"+mermaidVersion)
	}
	installed := func() bool {
		for _, p := range []string{"mermaid", "jsdom"} {
			if _, err := os.Stat(filepath.Join(dir, "node_modules", p, "package.json")); err != nil {
				return false
			}
		}
		return true
	}
	if !installed() {
		if _, err := exec.LookPath("npm"); err != nil {
			skipOrFail(t, "mermaid is not installed in %s and npm is missing", dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			skipOrFail(t, "%v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error",
			"mermaid@"+mermaidVersion, "jsdom@"+jsdomVersion)
		if out, err := cmd.CombinedOutput(); err != nil || !installed() {
			skipOrFail(t, "npm install mermaid into %s: %v\n%s", dir, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "sipflow-check.mjs"), []byte(mermaidCheckScript), 0o644); err != nil {
		skipOrFail(t, "%v", err)
	}
	return dir
}

// mermaidCheckScript reads a JSON array of diagrams on stdin and prints,
// for each, whether mermaid's parser accepts it and what it understood:
// the messages and notes (type, from, to, text) and the participants,
// with Mermaid's entity codes (#59;) decoded back to characters.
const mermaidCheckScript = `import { JSDOM } from 'jsdom';
const dom = new JSDOM('<!DOCTYPE html><body></body>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
const decode = (s) => String(s)
  .replace(/ﬂ°°/g, '&#').replace(/ﬂ°/g, '&').replace(/¶ß/g, ';')
  .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)));
let src = '';
process.stdin.on('data', (d) => { src += d; });
process.stdin.on('end', async () => {
  const out = [];
  for (const text of JSON.parse(src)) {
    try {
      await mermaid.parse(text);
      const d = await mermaid.mermaidAPI.getDiagramFromText(text);
      out.push({
        ok: true,
        type: d.type,
        messages: d.db.getMessages().map((m) => ({ type: m.type, from: m.from || '', to: m.to || '', text: decode(m.message) })),
        actors: [...d.db.getActors().values()].map((a) => ({ name: a.name, description: decode(a.description) })),
      });
    } catch (e) {
      out.push({ ok: false, error: String(e && e.message || e) });
    }
  }
  process.stdout.write(JSON.stringify(out));
});
`

// chromium returns the path of a Chromium or Chrome binary:
// $SIPFLOW_CHROMIUM, or the first of the usual names on the PATH.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SIPFLOW_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	skipOrFail(t, "Chromium is not installed (apt-get install chromium): the browser test needs it")
	return ""
}
