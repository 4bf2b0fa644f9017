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
	"strings"
	"sync"
	"syscall"
)

// outputFile is the file a command writes its result to (-o), created,
// or replaced if it exists, only once there is something to put in it:
// at the first write, or when the command ends well. A capture that
// cannot be read (readFailed) leaves no empty file behind, and an older
// file of that name as it was.
//
// A new file, or a regular file of the user's own with one link, is
// written under a temporary name beside it and renamed over it by Close,
// so that a write that fails (a full disk) or is interrupted (Ctrl-C,
// SIGTERM: the program removes the temporary file before it exits) leaves
// the older file as it was, never half a result. Through a symbolic link
// (a dangling one too) the file it points to is replaced. Anything else
// is written in place, as os.Create writes, so that what renaming would
// change stays as it was: a FIFO, a device, /dev/stdout and /proc/self/fd
// (standard output redirected to a file), a file of another user's (in a
// shared folder, whose sticky bit forbids the rename), one with other hard
// links, one the user may not write (refused, as before), or one in a
// folder where no temporary file may be made.
type outputFile struct {
	name    string // as given, for messages
	target  string // the file replaced: name, or where its link points
	program bool   // sipflow runs as a program: it may catch signals
	direct  bool   // written in place
	f       *os.File
	perm    os.FileMode // the replaced file's, kept
	hasPerm bool
	newPerm os.FileMode // a new file's, less the umask

	mu      sync.Mutex // tmp, between the program and its signal watch
	tmp     string     // the temporary file, once made
	stopped sync.Once
	stop    func() // ends the signal watch
}

// newOutputFile checks at once what can be checked without touching the
// file: that its folder exists, and that an existing file may be written.
// program says whether sipflow runs as a program (globalOptions.program),
// which alone may catch signals; perm is a new file's mode, less the
// umask (an existing file's is kept).
func newOutputFile(name string, program bool, perm os.FileMode) (*outputFile, error) {
	dir := filepath.Dir(name)
	if st, err := os.Stat(dir); err != nil {
		return nil, usageError("%s: %v", name, err)
	} else if !st.IsDir() {
		return nil, usageError("%s: %s is not a folder", name, dir)
	}
	o := &outputFile{name: name, target: name, program: program, newPerm: perm}
	if clean := filepath.Clean(name); strings.HasPrefix(clean, "/dev/") || strings.HasPrefix(clean, "/proc/") {
		o.direct = true // /dev/stdout may be a file the shell opened: write into it
		return o, nil
	}
	if t, err := filepath.EvalSymlinks(name); err == nil {
		o.target = t
	} else if l, lerr := os.Readlink(name); lerr == nil { // a dangling link: make what it names
		if !filepath.IsAbs(l) {
			l = filepath.Join(dir, l)
		}
		o.target = l
	}
	st, err := os.Stat(o.target)
	if err != nil {
		return o, nil // a new file
	}
	o.perm, o.hasPerm = st.Mode().Perm(), true
	o.direct = !st.Mode().IsRegular() || sharedFile(st)
	if !o.direct {
		// Renaming would replace a file the user may not write: refuse
		// it, as writing into it would be.
		f, err := os.OpenFile(o.target, os.O_WRONLY, 0)
		if err != nil {
			return nil, usageError("%v", err)
		}
		f.Close()
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
			return err // an *fs.PathError: it names the file
		}
		o.f = f
		return nil
	}
	if o.program {
		o.watch() // before the file exists: no signal between finds it unremoved
	}
	dir, base := filepath.Split(o.target)
	for range 100 {
		// A new file's mode, less the umask; an existing file's is set
		// below.
		tmp := filepath.Join(dir, "."+base+".sipflow-partial-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, o.newPerm)
		switch {
		case err == nil:
			o.mu.Lock()
			o.tmp = tmp
			o.mu.Unlock()
			o.f = f
			if o.hasPerm {
				if err := f.Chmod(o.perm); err != nil {
					o.Discard()
					return fmt.Errorf("%s: %w", o.name, err)
				}
			}
			return nil
		case errors.Is(err, fs.ErrPermission):
			// A folder the user may not write in, holding a file they
			// may: written in place, as before there were temporary files.
			o.endWatch()
			o.direct = true
			return o.open()
		case !errors.Is(err, fs.ErrExist):
			o.endWatch()
			return fmt.Errorf("%s: %w", o.name, err) // a full disk: the older file stays
		}
	}
	o.endWatch()
	return fmt.Errorf("%s: no free temporary name beside it", o.name)
}

// watch removes the temporary file, once made, and exits with the
// shell's status for the signal (128 + its number) if SIGINT or SIGTERM
// comes before endWatch.
func (o *outputFile) watch() {
	sig := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sig:
			o.mu.Lock() // held: the file is neither made nor renamed now
			if o.tmp != "" {
				os.Remove(o.tmp)
			}
			os.Exit(signalStatus(s))
		case <-done:
		}
	}()
	o.stop = func() {
		signal.Stop(sig)
		close(done)
	}
}

// endWatch ends the signal watch, if any; it may be called more than once.
func (o *outputFile) endWatch() {
	o.stopped.Do(func() {
		if o.stop != nil {
			o.stop()
		}
	})
}

// signalStatus is the exit status a shell gives a program that SIGINT or
// SIGTERM ended: 128 and the signal's number.
func signalStatus(s os.Signal) int {
	if s == syscall.SIGTERM {
		return 128 + int(syscall.SIGTERM)
	}
	return 128 + int(syscall.SIGINT)
}

// Write writes to the result; an error names the file as given.
func (o *outputFile) Write(p []byte) (int, error) {
	if err := o.open(); err != nil {
		return 0, err
	}
	n, err := o.f.Write(p)
	if err != nil && o.tmp != "" {
		err = o.named(err)
	}
	return n, err
}

// named is err, of the temporary file, told of the file as given.
func (o *outputFile) named(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", o.name, err)
}

// Close ends the result: the file exists after it, empty if nothing was
// written, and replaces the older one. If the result cannot be written
// whole, the older file is left as it was. An error names the file.
func (o *outputFile) Close() error {
	if err := o.open(); err != nil {
		return err
	}
	err := o.f.Close()
	o.mu.Lock()
	if err == nil && o.tmp != "" {
		err = os.Rename(o.tmp, o.target)
	}
	if err != nil && o.tmp != "" {
		os.Remove(o.tmp)
	}
	o.tmp = "" // renamed or removed: nothing for the watch to remove
	o.mu.Unlock()
	o.endWatch()
	if err != nil {
		var pe *fs.PathError
		var le *os.LinkError
		if errors.As(err, &pe) || errors.As(err, &le) {
			return o.named(errors.Unwrap(err))
		}
		return o.named(err)
	}
	return nil
}

// Discard gives up the result: a file not yet created never is, and an
// older one is left as it was. It may follow Close, and itself.
func (o *outputFile) Discard() {
	o.mu.Lock()
	if o.f != nil && o.tmp != "" {
		o.f.Close()
		os.Remove(o.tmp)
		o.tmp = ""
	} else if o.f != nil && o.direct {
		o.f.Close()
	}
	o.mu.Unlock()
	o.endWatch()
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
