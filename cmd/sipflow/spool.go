package main

import (
	"fmt"
	"io"
	"os"

	"github.com/sipflow/sipflow/capture"
)

// spool is a capture that can be read only once (standard input, a FIFO,
// a pipe named /dev/stdin or /dev/fd/N, a character device), copied to a
// temporary file so that a command can read it more than once: archive
// reads its capture three times, export and audio twice.
//
// The copy is removed from its folder as soon as it is made and read
// through the descriptor kept open, so nothing is left behind, whatever
// ends sipflow (where a file still open cannot be removed, it goes when
// the command is done).
type spool struct {
	f       *os.File
	size    int64
	removed bool
}

// reader reads the copy from its start; each is independent of the others.
func (s *spool) reader() *io.SectionReader { return io.NewSectionReader(s.f, 0, s.size) }

// readOnce reports whether the capture named can be read only once, and
// so must be spooled by a command that reads it more than once: "-", or
// a file that is neither a regular file nor a folder. A name that cannot
// be looked at is left to the command to open, and say why it cannot.
func readOnce(name string) bool {
	if name == "-" {
		return true
	}
	fi, err := os.Stat(name)
	return err == nil && !fi.Mode().IsRegular() && !fi.IsDir()
}

// spoolCapture copies the capture name, when it can be read only once
// (readOnce), to a temporary file in dir, through which openCapture and
// openCaptureRead read it from then on, under the name given; done
// forgets the copy. It does nothing for a regular file.
func (g *globalOptions) spoolCapture(name, dir string) (done func(), err error) {
	if !readOnce(name) {
		return func() {}, nil
	}
	var in io.Reader = g.In
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, &exitError{code: exitUsage, err: err}
		}
		defer f.Close()
		in = f
	}
	f, err := os.CreateTemp(dir, ".sipflow-spool-*.pcap")
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("%s: cannot copy it to read it again: %w", name, err)}
	}
	s := &spool{f: f, removed: os.Remove(f.Name()) == nil}
	forget := func() {
		f.Close()
		if !s.removed {
			os.Remove(f.Name())
		}
	}
	if s.size, err = io.Copy(f, in); err != nil {
		forget()
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("%s: cannot copy it to read it again: %w", name, err)}
	}
	if g.spools == nil {
		g.spools = map[string]*spool{}
	}
	g.spools[name] = s
	return func() {
		delete(g.spools, name)
		forget()
	}, nil
}

// openCaptureRead is openCapture for a reading that needs no mapping
// (capture.Open): the spooled copy of a capture read once, else the file.
func openCaptureRead(g *globalOptions, name string) (capture.Source, error) {
	return g.openSource(name, capture.Open)
}
