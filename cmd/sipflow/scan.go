package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/ptime"
)

// maxWarnings is how many warnings a run prints before it only counts them.
const maxWarnings = 20

// warnings prints per-packet problems to stderr, the first few in full.
type warnings struct {
	w     io.Writer
	file  string
	count int
}

func (p *warnings) Warn(w *decode.Warning) {
	p.count++
	if p.count <= maxWarnings {
		say(p.w, "sipflow: warning: %s: packet %d: %s", p.file, w.N, w.Err)
	}
}

func (p *warnings) summary() {
	if p.count > maxWarnings {
		say(p.w, "sipflow: warning: %s: %d more warnings not shown (%d in all)", p.file, p.count-maxWarnings, p.count)
	}
}

// handler adapts functions to decode.Handler.
type handler struct {
	message  func(*decode.Message)
	datagram func(*decode.Datagram)
	advance  func(time.Time)                        // called with every packet's time before it is decoded
	keep     func([]byte) ([]byte, *decode.Message) // decode.Options.Keep
	lean     bool                                   // decode.Options.Lean
	// end, when set, is called once the capture has been read, with the
	// decoder's counts and what the capture says it dropped.
	end      func(st *decode.Stats, drops uint64, dropsKnown bool)
	warnings *warnings
}

func (h *handler) Message(m *decode.Message) {
	if h.message != nil {
		h.message(m)
	}
}

func (h *handler) Datagram(d *decode.Datagram) {
	if h.datagram != nil {
		h.datagram(d)
	}
}

func (h *handler) Warn(w *decode.Warning) { h.warnings.Warn(w) }

// openCapture opens a file by name, "-" being the command's standard
// input; a file is mapped into memory (capture.OpenMapped), so its packets
// must be read inside Reader.Protect (decodePackets). A capture opened
// ahead (globalOptions.opened) is handed out, once; one spooled
// (spoolCapture) is read from its copy.
func openCapture(g *globalOptions, name string) (capture.Source, error) {
	if src, ok := g.opened[name]; ok {
		delete(g.opened, name)
		return src, nil
	}
	return g.openSource(name, capture.OpenMapped)
}

// openSource opens the capture name with open, unless it is spooled
// (spoolCapture: its copy is read) or "-" (the command's standard input),
// once standard output is known not to be it (refuseStdout).
func (g *globalOptions) openSource(name string, open func(string) (capture.Source, error)) (capture.Source, error) {
	if err := g.refuseStdout("the capture", name); err != nil {
		return nil, err
	}
	var src capture.Source
	var err error
	if s := g.spools[name]; s != nil {
		src, err = capture.NewReader(s.reader(), name)
	} else if name == "-" {
		src, err = capture.NewReader(g.In, "-")
	} else {
		src, err = open(name)
	}
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return src, nil
}

// readFailed reports whether err says the capture (or the archive) could
// not be read at all: missing, unreadable, not a capture. Damage found
// part way (exitDamaged) is not that: what came before it was analysed
// and is worth printing. A command whose capture could not be read prints
// no result, since "no calls" or "no findings" would read as an answer.
func readFailed(err error) bool {
	var ee *exitError
	return err != nil && (!errors.As(err, &ee) || ee.code != exitDamaged)
}

// decodePackets decodes every packet of src and returns the error that ended
// the reading early (damage), nil at the end of the file. A memory fault
// in a mapped file's bytes (another program truncated it) ends it as
// damage too, rather than crashing: everything before it was analysed.
func decodePackets(src capture.Source, dec *decode.Decoder, h *handler) error {
	read := func() error {
		for {
			p, err := src.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if h.advance != nil {
				h.advance(p.Time)
			}
			dec.Decode(p)
		}
	}
	if rd, ok := src.(*capture.Reader); ok {
		return rd.Protect(read)
	}
	return read()
}

// scanCapture runs every packet of the named capture through a Decoder.
// It returns a *exitError with exitDamaged when the file was damaged (after
// analysing everything before the damage), or exitUsage when it could not be
// opened at all.
func scanCapture(g *globalOptions, name string, h *handler) (*decode.Stats, error) {
	src, err := openCapture(g, name)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	if h.warnings == nil {
		h.warnings = &warnings{w: g.Err, file: name}
	}
	if rd, ok := src.(*capture.Reader); ok {
		// What reading survived (a packet record skipped, a timestamp read
		// otherwise than written) is a warning like the decoder's.
		rd.OnWarning(func(w *capture.Warning) {
			h.warnings.Warn(&decode.Warning{N: w.Packet, Err: fmt.Errorf("at byte offset %d: %w", w.Offset, w.Err)})
		})
	}
	dec := decode.NewDecoder(h, decode.Options{Keep: h.keep, Lean: h.lean, KeyLog: g.keyLog})
	damage := decodePackets(src, dec, h)
	dec.Flush()
	if h.end != nil {
		var drops uint64
		var known bool
		if d, ok := src.(interface{ Drops() (uint64, bool) }); ok {
			drops, known = d.Drops()
		}
		h.end(&dec.Stats, drops, known)
	}
	h.warnings.summary()
	noteTLS(g, name, &dec.Stats)
	if n := dec.Stats.TimeStepsBack; n > decode.StepBackWarnings {
		say(g.Err, "sipflow: note: %s: the capture's time went back by more than %v %d times (the first %d warned of): captures of hosts whose clocks differ, merged?", name, ptime.JumpLimit, n, decode.StepBackWarnings)
	}
	if n := dec.Stats.UnknownLink; n > 0 {
		say(g.Err, "sipflow: note: %s: %d packet(s) of a link type sipflow does not decode were skipped", name, n)
	}
	if damage != nil {
		var de *capture.DamageError
		if !errors.As(damage, &de) {
			damage = fmt.Errorf("%s: %w", name, damage)
		}
		return &dec.Stats, &exitError{code: exitDamaged, err: fmt.Errorf("%w (everything before it was analysed)", damage)}
	}
	return &dec.Stats, nil
}

// noteTLS says what became of the capture's TLS connections: read with
// the --tls-keylog secrets, or not (without a key log, only those to port
// 5061 are counted: another port's TLS is rarely SIP).
func noteTLS(g *globalOptions, name string, st *decode.Stats) {
	switch {
	case g.keyLog == nil && st.TLSConnections > 0:
		say(g.Err, "sipflow: note: %s: %d TCP connection(s) to port %d opened TLS (SIP over TLS): encrypted, their SIP cannot be read without their secrets (--tls-keylog FILE)", name, st.TLSConnections, decode.SIPSPort)
	case g.keyLog != nil && st.TLSNoKeys > 0:
		say(g.Err, "sipflow: note: %s: %d TLS connection(s) decrypted with %s; %d not: it holds no secrets for them", name, st.TLSDecrypted, g.keyLogPath, st.TLSNoKeys)
	}
}
