package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
)

// outputFile is the file a command writes its result to (-o), created,
// or replaced if it exists, only once there is something to put in it:
// at the first write, or when the command ends well. A capture that
// cannot be read (readFailed) leaves no empty file behind, and an older
// file of that name as it was.
//
// A regular file (or a new one) is written under a temporary name beside
// it and renamed over it by Close, so that a write that fails (a full
// disk) or is interrupted (Ctrl-C, SIGTERM: the program removes the
// temporary file before it exits) leaves the older file as it was, never
// half a result. Through a symbolic link, the file it points to is
// replaced. Anything else (a FIFO, /dev/stdout), or a file in a folder
// where no temporary file can be made, is written in place.
type outputFile struct {
	name    string // as given, for messages
	target  string // the file replaced: name, or where its link points
	program bool   // sipflow runs as a program: it may catch signals
	direct  bool   // not a regular file: written in place
	tmp     string // the temporary file, once open
	f       *os.File
	perm    os.FileMode // the replaced file's, kept
	hasPerm bool
	newPerm os.FileMode // a new file's, less the umask
	stop    func()      // ends the signal watch
}

// newOutputFile checks at once what can be checked without touching the
// file: that its folder exists. program says whether sipflow runs as a
// program (globalOptions.program), which alone may catch signals; perm is
// a new file's mode, less the umask (an existing file's is kept).
func newOutputFile(name string, program bool, perm os.FileMode) (*outputFile, error) {
	dir := filepath.Dir(name)
	if st, err := os.Stat(dir); err != nil {
		return nil, usageError("%s: %v", name, err)
	} else if !st.IsDir() {
		return nil, usageError("%s: %s is not a folder", name, dir)
	}
	o := &outputFile{name: name, target: name, program: program, newPerm: perm}
	if t, err := filepath.EvalSymlinks(name); err == nil {
		o.target = t
	}
	if st, err := os.Stat(o.target); err == nil {
		o.direct = !st.Mode().IsRegular()
		o.perm, o.hasPerm = st.Mode().Perm(), true
	}
	return o, nil
}

func (o *outputFile) open() error {
	if o.f != nil {
		return nil
	}
	if o.direct {
		f, err := os.OpenFile(o.name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, o.newPerm)
		if err != nil {
			return err
		}
		o.f = f
		return nil
	}
	dir, base := filepath.Split(o.target)
	var f *os.File
	var err error
	for range 100 {
		// A new file's mode, less the umask; an existing file's is set
		// below.
		tmp := filepath.Join(dir, "."+base+".sipflow-partial-"+strconv.FormatUint(rand.Uint64(), 36))
		if f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, o.newPerm); err == nil {
			o.tmp = tmp
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			// A folder the user may not write in, holding a file they
			// may: written in place, as before there were temporary files.
			o.direct = true
			return o.open()
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", o.name, err)
	}
	o.f = f
	if o.hasPerm {
		if err := f.Chmod(o.perm); err != nil {
			o.Discard()
			return fmt.Errorf("%s: %w", o.name, err)
		}
	}
	if o.program {
		o.stop = removeOnSignal(o.tmp)
	}
	return nil
}

// removeOnSignal removes the file tmp and exits with the shell's status
// for the signal (128 + its number) if SIGINT or SIGTERM comes before
// stop is called.
func removeOnSignal(tmp string) (stop func()) {
	sig := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sig:
			os.Remove(tmp)
			os.Exit(signalStatus(s))
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sig)
		close(done)
	}
}

// signalStatus is the exit status a shell gives a program that SIGINT or
// SIGTERM ended: 128 and the signal's number.
func signalStatus(s os.Signal) int {
	if s == syscall.SIGTERM {
		return 128 + int(syscall.SIGTERM)
	}
	return 128 + int(syscall.SIGINT)
}

func (o *outputFile) Write(p []byte) (int, error) {
	if err := o.open(); err != nil {
		return 0, err
	}
	return o.f.Write(p)
}

// Close ends the result: the file exists after it, empty if nothing was
// written, and replaces the older one. If the result cannot be written
// whole, the older file is left as it was.
func (o *outputFile) Close() error {
	if err := o.open(); err != nil {
		return err
	}
	err := o.f.Close()
	if err == nil && o.tmp != "" {
		err = os.Rename(o.tmp, o.target)
	}
	if o.stop != nil {
		o.stop()
	}
	if err != nil {
		if o.tmp != "" {
			os.Remove(o.tmp)
		}
		return fmt.Errorf("%s: %w", o.name, err)
	}
	return nil
}

// Discard gives up the result: a file not yet created never is, and an
// older one is left as it was.
func (o *outputFile) Discard() {
	if o.f != nil {
		o.f.Close()
		if o.tmp != "" {
			os.Remove(o.tmp)
		}
	}
	if o.stop != nil {
		o.stop()
	}
}

// readFile is a file a command reads, and what it is to the user ("the
// capture", "the archive"), for refuseOverwrite.
type readFile struct{ what, name string }

// archiveReads are the files of an archive: the database and the files
// SQLite keeps beside it while it is open (its write-ahead log, the log's
// shared-memory index, a rollback journal). Writing over one of those
// while another process writes the archive loses what that one committed.
func archiveReads(path string) []readFile {
	if path == "" {
		return nil
	}
	return []readFile{{"the archive", path}, {"the archive's write-ahead log", path + "-wal"},
		{"the archive's shared-memory index", path + "-shm"}, {"the archive's journal", path + "-journal"}}
}

// refuseOverwrite refuses, before anything is created or emptied, a file
// to write (flag names its option: -o, -w, --db) that is one of the files
// the command reads, by that name or another (a link): writing it would
// destroy the capture (or the archive) while it is read. Standard output
// and standard input ("-") are no such file.
func refuseOverwrite(flag, out string, reads ...readFile) error {
	if out == "" || out == "-" {
		return nil
	}
	oi, oerr := os.Stat(out)
	for _, r := range reads {
		if r.name == "" || r.name == "-" {
			continue
		}
		same := filepath.Clean(r.name) == filepath.Clean(out)
		if ri, err := os.Stat(r.name); oerr == nil && err == nil {
			same = os.SameFile(oi, ri)
		}
		if same {
			return usageError("%s %s: that is %s %s, which writing it would destroy: name another file", flag, out, r.what, r.name)
		}
	}
	return nil
}

// refuseStdout refuses to read the file name (what it is to the user:
// "the capture", "the archive") when the command's standard output is
// that same file, as a shell's "> name" or ">> name" makes it: the output
// would be written into what is being read. ">" has emptied it before
// sipflow started; the message says so, since "empty capture" alone
// would puzzle.
func (g *globalOptions) refuseStdout(what, name string) error {
	out, ok := g.Out.(*os.File)
	if !ok {
		return nil
	}
	oi, err := out.Stat()
	if err != nil || !oi.Mode().IsRegular() {
		return nil
	}
	var ni os.FileInfo
	if name == "-" {
		in, ok := g.In.(*os.File)
		if !ok {
			return nil
		}
		ni, err = in.Stat()
	} else {
		ni, err = os.Stat(name)
	}
	if err != nil || !os.SameFile(oi, ni) {
		return nil
	}
	if ni.Size() == 0 {
		return usageError("%s: standard output is %s itself, now empty (a shell's \">\" empties the file before sipflow starts): write the output to another file", name, what)
	}
	return usageError("%s: standard output is %s itself: writing the output into it would damage it; write the output to another file", name, what)
}
