package main

import (
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// archiveProgress is what archive tells when it is interrupted (Ctrl-C,
// SIGTERM): which files were imported whole, which one was being imported
// and whether its import had begun, and which were not started. The
// archive needs nothing done: every batch of calls and packets is one
// transaction, so what was committed stays and the rest rolls back, and
// the capture stays listed as importing until the same command, run
// again, completes it. What the user needs is to be told that.
type archiveProgress struct {
	mu      sync.Mutex
	db      string
	files   []string // all, in order
	done    int      // files[:done] are done with: imported, or failed and reported
	failed  []string // those of them that failed
	begun   bool     // files[done]'s import has begun: calls may be stored
	bar     *progressBar
	stopped chan struct{}
}

// watchInterrupts reports an interrupt of archive as it stands and ends
// the program with the shell's status for the signal (128 + its number).
// Only the program itself watches (globalOptions.program): a command run
// in-process by a test never exits the test.
func (o *archiveOptions) watchInterrupts(db string, files []string) (stop func()) {
	if !o.program {
		return func() {}
	}
	p := &archiveProgress{db: db, files: files, stopped: make(chan struct{})}
	o.progressState = p
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sig:
			p.mu.Lock() // held to the end: the import goes no further
			p.bar.stop()
			p.tell(o.Err, s.String())
			os.Exit(signalStatus(s))
		case <-p.stopped:
		}
	}()
	return func() {
		signal.Stop(sig)
		close(p.stopped)
	}
}

// tell prints what an interrupt by sig left, a line each: the file being
// imported, those finished, those not started.
func (p *archiveProgress) tell(w io.Writer, sig string) {
	if p.done < len(p.files) {
		file := p.files[p.done]
		if p.begun {
			say(w, "sipflow: archive interrupted (%s) while importing %s: the calls stored so far are kept in %s, the capture listed as importing; run the same command again to complete its import, with nothing twice and nothing missing", sig, file, p.db)
		} else {
			say(w, "sipflow: archive interrupted (%s) before its import of %s began: this run stored nothing of it", sig, file)
		}
	} else {
		say(w, "sipflow: archive interrupted (%s) after its last file", sig)
	}
	var archived []string
	for _, f := range p.files[:min(p.done, len(p.files))] {
		if !slices.Contains(p.failed, f) {
			archived = append(archived, f)
		}
	}
	if len(archived) > 0 {
		say(w, "sipflow: archived before the interrupt: %s", strings.Join(archived, ", "))
	}
	if len(p.failed) > 0 {
		say(w, "sipflow: failed before the interrupt (said above): %s", strings.Join(p.failed, ", "))
	}
	if rest := p.done + 1; rest < len(p.files) {
		say(w, "sipflow: not started: %s", strings.Join(p.files[rest:], ", "))
	}
}

// starting says files[done] is being read, its progress shown on bar.
func (p *archiveProgress) starting(bar *progressBar) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.bar, p.begun = bar, false
	p.mu.Unlock()
}

// importing says files[done]'s import has begun in the archive.
func (p *archiveProgress) importing() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.begun = true
	p.mu.Unlock()
}

// finished says files[done] is done with: in the archive (ok: imported,
// a damaged one up to its damage, or there already), or failed.
func (p *archiveProgress) finished(ok bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	if !ok && p.done < len(p.files) {
		p.failed = append(p.failed, p.files[p.done])
	}
	p.done++
	p.begun, p.bar = false, nil
	p.mu.Unlock()
}
