package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOutputIsInput: a file to write (-o, -w, archive's --db) that is a
// file the command reads (the capture, the archive; by another name too,
// a hard link) is refused before anything is written: exit 2, both
// named, and the file as it was.
func TestOutputIsInput(t *testing.T) {
	dir := t.TempDir()
	orig, _ := os.ReadFile(repoTestdata("call_rtp.pcap"))
	cap := filepath.Join(dir, "big.pcap")
	link := filepath.Join(dir, "link.pcap")
	db := filepath.Join(dir, "calls.db")
	archRun(t, 0, "archive", "--db", db, repoTestdata("call_rtp.pcap"))
	dbBytes, _ := os.ReadFile(db)
	const id = "1-24089@127.0.10.1"
	for _, tc := range []struct {
		name   string
		args   []string
		out    string // named in the error
		in     string // named in the error, and unchanged
		inData []byte
	}{
		{"report", []string{"report", cap, "-o", cap}, cap, cap, orig},
		{"report link", []string{"report", cap, "-o", link}, link, cap, orig},
		{"flow", []string{"flow", cap, "-o", cap}, cap, cap, orig},
		{"flow svg link", []string{"flow", "--format", "svg", cap, "-o", link}, link, cap, orig},
		{"flow db", []string{"flow", "--db", db, "-o", db}, db, db, dbBytes},
		{"audio", []string{"audio", cap, "--call", id, "-o", cap}, cap, cap, orig},
		{"export", []string{"export", cap, "--call", id, "-w", link}, link, cap, orig},
		{"export db", []string{"export", "--db", db, "--call", id, "-w", db}, db, db, dbBytes},
		{"export db wal", []string{"export", "--db", db, "--call", id, "-w", db + "-wal"}, db + "-wal", db, dbBytes},
		{"flow db shm", []string{"flow", "--db", db, "--call", id, "-o", db + "-shm"}, db + "-shm", db, dbBytes},
		{"capture db journal", []string{"capture", "-i", "lo", "--count", "1", "--duration", "1s", "-w", db + "-journal", "--db", db}, db + "-journal", db, dbBytes},
		{"archive", []string{"archive", "--db", db, db}, db, db, dbBytes},
		{"cpuprofile", []string{"calls", "--cpuprofile", link, cap}, link, cap, orig},
		{"memprofile", []string{"check", "--memprofile", db, "--db", db}, db, db, dbBytes},
		{"capture", []string{"capture", "-i", "lo", "--count", "1", "--duration", "1s", "-w", db, "--db", db}, db, db, dbBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(cap)
			os.Remove(link)
			if err := os.WriteFile(cap, orig, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(db, dbBytes, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Link(cap, link); err != nil {
				t.Fatal(err)
			}
			out, errs, code := sipflow(t, nil, tc.args...)
			named := strings.Contains(errs, tc.out) && strings.Contains(errs, tc.in) && (tc.out != tc.in || strings.Count(errs, tc.in) >= 2)
			if code != exitUsage || out != "" || !named {
				t.Errorf("exit %d, stdout %.60q, stderr %q; want 2 and both files named", code, out, errs)
			}
			if b, _ := os.ReadFile(tc.in); !bytes.Equal(b, tc.inData) {
				t.Errorf("%s changed: %d bytes, was %d", tc.in, len(b), len(tc.inData))
			}
		})
	}
}

// TestStdoutIsInput: standard output redirected onto the capture being
// read ("sipflow calls x.pcap >> x.pcap"), or onto the archive ("sipflow
// search >> calls.db"), is refused before anything is written, the file
// named and left as it was; "> x.pcap" (the shell has emptied it
// already) is said to be that.
func TestStdoutIsInput(t *testing.T) {
	dir := t.TempDir()
	orig, _ := os.ReadFile(repoTestdata("call_rtp.pcap"))
	cap := filepath.Join(dir, "x.pcap")
	link := filepath.Join(dir, "link.pcap")
	for _, args := range [][]string{
		{"calls", cap},
		{"calls", "--json", link},
		{"check", cap},
		{"flow", cap},
		{"messages", cap},
		{"report", cap},
		{"rtp", cap},
		{"export", cap, "--call", "1-24089@127.0.10.1", "-w", filepath.Join(dir, "out.pcap")},
		{"calls", "-"},
	} {
		t.Run(args[0]+" "+filepath.Base(args[1]), func(t *testing.T) {
			os.Remove(cap)
			os.Remove(link)
			if err := os.WriteFile(cap, orig, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Link(cap, link); err != nil {
				t.Fatal(err)
			}
			in, err := os.Open(cap)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			refusedOnto(t, cap, "the capture", orig, in, args)
		})
	}
	// The archive as standard output: ">> calls.db" would corrupt it.
	db := filepath.Join(dir, "calls.db")
	archRun(t, 0, "archive", "--db", db, repoTestdata("call_rtp.pcap"))
	dbBytes, _ := os.ReadFile(db)
	for _, args := range [][]string{
		{"search", "--db", db},
		{"captures", "--db", db},
		{"check", "--db", db},
		{"flow", "--db", db, "--call", "1-24089@127.0.10.1"},
		{"rtp", "--db", db},
		{"export", "--db", db, "--call", "1-24089@127.0.10.1", "-w", filepath.Join(dir, "out.pcap")},
		{"archive", "--db", db, repoTestdata("call_busy.pcap")},
	} {
		t.Run(args[0]+" --db", func(t *testing.T) {
			refusedOnto(t, db, "the archive", dbBytes, nil, args)
		})
	}
	t.Run("emptied", func(t *testing.T) {
		out, err := os.Create(cap) // as "> x.pcap" does
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		var errb bytes.Buffer
		if code := run([]string{"calls", cap}, nil, out, &errb); code != exitUsage || !strings.Contains(errb.String(), "now empty (a shell's \">\" empties") {
			t.Errorf("exit %d, stderr %q; want 2 and the emptying explained", code, errb.String())
		}
	})
	t.Run("another file", func(t *testing.T) {
		if err := os.WriteFile(cap, orig, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dir, "calls.txt"))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		var errb bytes.Buffer
		if code := run([]string{"calls", cap}, nil, out, &errb); code != exitOK {
			t.Errorf("exit %d, stderr %q; want 0", code, errb.String())
		}
	})
}

// refusedOnto runs sipflow args with standard output appended to file
// (what: "the capture", "the archive"), as ">> file" does, and checks it
// is refused, named as standard output, and left as it was (was).
func refusedOnto(t *testing.T, file, what string, was []byte, in io.Reader, args []string) {
	t.Helper()
	out, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var errb bytes.Buffer
	if code := run(args, in, out, &errb); code != exitUsage || !strings.Contains(errb.String(), "standard output is "+what+" itself") {
		t.Errorf("exit %d, stderr %q; want 2 and %s named as standard output", code, errb.String(), what)
	}
	if b, _ := os.ReadFile(file); !bytes.Equal(b, was) {
		t.Errorf("%s changed: %d bytes, was %d", what, len(b), len(was))
	}
}

// TestOutputReplacedWhole: -o (flow, report, audio) and -w (export)
// replace an older file only with a whole result, written beside it under
// a temporary name and renamed (but a file with other hard links, or
// another user's, is written in place, as renaming would change what
// the other names see or be refused in a shared folder): the
// older file's mode is kept, a symbolic link stays a link (the file it
// points to is replaced), no temporary file is left behind, and a run
// that matches nothing leaves the older file as it was.
func TestOutputReplacedWhole(t *testing.T) {
	dir := t.TempDir()
	capture := repoTestdata("call_rtp.pcap")
	old := []byte("the older report\n")
	page, target, link := filepath.Join(dir, "r.html"), filepath.Join(dir, "target.svg"), filepath.Join(dir, "link.svg")
	if err := os.WriteFile(page, old, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(page, 0o640); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if err := os.WriteFile(target, old, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target.svg", link); err != nil {
		t.Fatal(err)
	}
	leftovers := func() {
		t.Helper()
		if m, _ := filepath.Glob(filepath.Join(dir, ".*sipflow-partial-*")); len(m) > 0 {
			t.Errorf("temporary files left: %v", m)
		}
	}

	if _, errs, code := sipflow(t, nil, "report", capture, "--call-id", "no-such-call", "-o", page); code != exitUsage {
		t.Fatalf("no match: exit %d %s", code, errs)
	}
	if b, _ := os.ReadFile(page); !bytes.Equal(b, old) {
		t.Errorf("no match: the older file changed: %.40q", b)
	}
	leftovers()

	if _, errs, code := sipflow(t, nil, "report", capture, "-o", page); code != 0 {
		t.Fatalf("report: exit %d %s", code, errs)
	}
	b, _ := os.ReadFile(page)
	st, err := os.Stat(page)
	if err != nil || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) || st.Mode().Perm() != 0o640 {
		t.Errorf("report: %v, %.20q, mode %v; want the page, mode 0640", err, b, st.Mode().Perm())
	}
	leftovers()

	if _, errs, code := sipflow(t, nil, "flow", "--format", "svg", capture, "-o", link); code != 0 {
		t.Fatalf("flow: exit %d %s", code, errs)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is no longer a link: %v %v", st.Mode(), err)
	}
	if b, _ := os.ReadFile(target); !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("the link's target is not the drawing: %.40q", b)
	}
	leftovers()

	// A dangling link: the file it names is made, the link stays.
	dangling := filepath.Join(dir, "dangling.svg")
	if err := os.Symlink("made.svg", dangling); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := sipflow(t, nil, "flow", "--format", "svg", capture, "-o", dangling); code != 0 {
		t.Fatalf("flow to a dangling link: exit %d %s", code, errs)
	}
	if st, err := os.Lstat(dangling); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the dangling link is no longer a link: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "made.svg")); !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("the dangling link's file was not made: %.40q", b)
	}
	// A file with another hard link, and (as root) a file of another
	// user's, as in a shared folder: written in place, the same file.
	inPlace := []string{filepath.Join(dir, "linked.svg")}
	if err := os.WriteFile(inPlace[0], old, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(inPlace[0], filepath.Join(dir, "other-name.svg")); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		theirs := filepath.Join(dir, "theirs.svg")
		if err := os.WriteFile(theirs, old, 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		inPlace = append(inPlace, theirs)
	}
	for _, name := range inPlace {
		before, _ := os.Stat(name)
		if _, errs, code := sipflow(t, nil, "flow", "--format", "svg", capture, "-o", name); code != 0 {
			t.Fatalf("flow -o %s: exit %d %s", filepath.Base(name), code, errs)
		}
		after, _ := os.Stat(name)
		b, _ := os.ReadFile(name)
		if !os.SameFile(before, after) || !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s: not written in place (same file %v): %.40q", filepath.Base(name), os.SameFile(before, after), b)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "other-name.svg")); !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("the other hard link does not see the drawing: %.40q", b)
	}
	leftovers()

	// export and audio too: a new pcap is private (0600), an older WAV's
	// mode is kept.
	const id = "1-24089@127.0.10.1"
	pcap, wav := filepath.Join(dir, "call.pcap"), filepath.Join(dir, "call.wav")
	if err := os.WriteFile(wav, old, 0o640); err != nil {
		t.Fatal(err)
	}
	os.Chmod(wav, 0o640)
	if _, errs, code := sipflow(t, nil, "export", capture, "--call", id, "-w", pcap); code != 0 {
		t.Fatalf("export: exit %d %s", code, errs)
	}
	if _, errs, code := sipflow(t, nil, "audio", capture, "--call", id, "-o", wav); code != 0 {
		t.Fatalf("audio: exit %d %s", code, errs)
	}
	for _, f := range []struct {
		name, magic string
		mode        os.FileMode
	}{{pcap, "\x4d\x3c\xb2\xa1", 0o600}, {wav, "RIFF", 0o640}} { // pcap, nanoseconds
		b, _ := os.ReadFile(f.name)
		st, err := os.Stat(f.name)
		if err != nil || !bytes.HasPrefix(b, []byte(f.magic)) || st.Mode().Perm() != f.mode {
			t.Errorf("%s: %v, %.8q, mode %v; want %q, mode %v", filepath.Base(f.name), err, b, st.Mode().Perm(), f.magic, f.mode)
		}
	}
	leftovers()
}

// TestOutputInterrupted: report -o interrupted (SIGINT) while it writes
// leaves the older file as it was and no temporary file, and exits 130.
func TestOutputInterrupted(t *testing.T) {
	bin := buildSipflow(t)
	dir := t.TempDir()
	big := manyCalls(t, dir, 20000)
	page := filepath.Join(dir, "r.html")
	old := []byte("the older report\n")
	if err := os.WriteFile(page, old, 0o644); err != nil {
		t.Fatal(err)
	}
	writing := func() bool {
		m, _ := filepath.Glob(filepath.Join(dir, ".r.html.sipflow-partial-*"))
		return len(m) > 0
	}
	if code, errs := interruptWhen(t, syscall.SIGINT, writing, bin, "report", big, "-o", page); code != 130 {
		t.Errorf("exit %d, want 130; stderr: %s", code, errs)
	}
	if b, _ := os.ReadFile(page); !bytes.Equal(b, old) {
		t.Errorf("the older report changed: %.40q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*sipflow-partial-*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
}
