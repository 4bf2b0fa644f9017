package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// outputFile is the file a command writes its result to (-o), created,
// or emptied if it exists, only once there is something to put in it:
// at the first write, or when the command ends well. A capture that
// cannot be read (readFailed) leaves no empty file behind, and an older
// file of that name as it was.
type outputFile struct {
	name string
	f    *os.File
}

// newOutputFile checks at once what can be checked without touching the
// file: that its folder exists.
func newOutputFile(name string) (*outputFile, error) {
	dir := filepath.Dir(name)
	if st, err := os.Stat(dir); err != nil {
		return nil, usageError("%s: %v", name, err)
	} else if !st.IsDir() {
		return nil, usageError("%s: %s is not a folder", name, dir)
	}
	return &outputFile{name: name}, nil
}

func (o *outputFile) open() error {
	if o.f != nil {
		return nil
	}
	f, err := os.Create(o.name)
	if err != nil {
		return err
	}
	o.f = f
	return nil
}

func (o *outputFile) Write(p []byte) (int, error) {
	if err := o.open(); err != nil {
		return 0, err
	}
	return o.f.Write(p)
}

// Close ends the result: the file exists after it, empty if nothing was
// written.
func (o *outputFile) Close() error {
	if err := o.open(); err != nil {
		return err
	}
	if err := o.f.Close(); err != nil {
		return fmt.Errorf("%s: %w", o.name, err)
	}
	return nil
}

// Discard gives up the result: a file not yet created never is. Only
// call it before anything was written (the capture could not be read).
func (o *outputFile) Discard() {
	if o.f != nil {
		o.f.Close()
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
