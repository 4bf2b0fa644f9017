// Package pcapw writes captured packets to a capture file as they arrive,
// or to a ring of files rotated by size or by time (sipflow capture -w).
//
// A file is classic pcap with nanosecond timestamps (the kernel's, kept
// exactly) when every interface has the same link type, and pcapng with one
// interface block per interface when they differ, since pcap has one link
// type per file. Writes are buffered: call Flush to put what was written
// on disk (the reader of a growing file sees whole records only after it),
// and Close at the end, or the last packets stay in memory.
//
// The one thing easy to get wrong: rotation is decided on packet time, never
// on the clock, so a file holds at most RotateTime of capture time whatever
// the speed packets were written at; and a file is only started by a packet,
// so an idle capture leaves no empty files behind.
package pcapw

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sipflow/sipflow/capture"
)

// Options say where and how to write.
type Options struct {
	// Path is the file to write. With rotation it is the pattern of the
	// names: see Name.
	Path string
	// Links is the link type of each interface, by position
	// (capture.Packet.Iface). One link type for all gives a pcap file;
	// several give pcapng.
	Links []capture.LinkType
	// Interfaces names the interfaces, by position (for pcapng).
	Interfaces []string
	// SnapLen is written in the file header (capture.DefaultSnapLen if 0).
	SnapLen int
	// RotateSize starts a new file before one would grow past this many
	// bytes (0: no limit). A file always holds at least one packet.
	RotateSize int64
	// RotateTime starts a new file for the first packet more than this much
	// packet time after the current file's first packet (0: never).
	RotateTime time.Duration
	// MaxFiles keeps only the newest MaxFiles files of the ring, deleting
	// the oldest as a new one starts (0: keep every file).
	MaxFiles int
}

// Rotating reports whether the options ask for a ring of files.
func (o *Options) Rotating() bool { return o.RotateSize > 0 || o.RotateTime > 0 }

// Name is the name of file number seq (from 1) of a ring written to path,
// started at t: the sequence number and the UTC time go before the
// extension, so the names sort in the order the files were written and a
// reader can tell which file holds a given moment:
// "calls.pcap" → "calls-000001-20261122T100000Z.pcap".
func Name(path string, seq int, t time.Time) string {
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	return fmt.Sprintf("%s-%06d-%s%s", stem, seq, t.UTC().Format("20060102T150405Z"), ext)
}

// ErrLinkType: a packet came with a link type the file was not started with.
var ErrLinkType = errors.New("pcapw: link type differs from the interface's")

// Writer writes packets to the file or ring of files. It is not safe for
// concurrent use.
type Writer struct {
	opts  Options
	ng    bool // pcapng: the interfaces' link types differ
	f     *os.File
	buf   *bufio.Writer
	hdr   []byte // scratch for a record's header
	size  int64  // bytes in the current file, header and buffered records included
	disk  int64  // bytes that reached the current file
	count int64  // packets in the current file
	first time.Time
	seq   int
	files []File // files of the ring still on disk, oldest first
	total int64  // packets written over every file
}

// File is one file written.
type File struct {
	Name string
	// First is the number its first packet has among all the packets
	// written (from 1, counting every file, those deleted too): packet i of
	// the file (from 1) is packet First+i-1 of the capture.
	First int64
}

// Create starts writing. Without rotation the file is created at once (so
// an empty capture still leaves a valid file); with rotation the first file
// is created now too, named after now, and later ones after the packet
// that starts them.
func Create(opts Options, now time.Time) (*Writer, error) {
	if len(opts.Links) == 0 {
		return nil, errors.New("pcapw: no interface")
	}
	if opts.SnapLen <= 0 {
		opts.SnapLen = capture.DefaultSnapLen
	}
	w := &Writer{opts: opts}
	for _, l := range opts.Links[1:] {
		w.ng = w.ng || l != opts.Links[0]
	}
	if err := w.open(now); err != nil {
		return nil, err
	}
	return w, nil
}

// Files returns the files of the ring still on disk, oldest first (the one
// file, without rotation).
func (w *Writer) Files() []File { return append([]File(nil), w.files...) }

// Packets returns how many packets were written, over every file.
func (w *Writer) Packets() int64 { return w.total }

func (w *Writer) open(t time.Time) error {
	name := w.opts.Path
	if w.opts.Rotating() {
		w.seq++
		name = Name(w.opts.Path, w.seq, t)
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w.f, w.disk, w.count, w.first = f, 0, 0, t
	w.buf = bufio.NewWriterSize(&countWriter{w: f, n: &w.disk}, 256<<10)
	var hdr []byte
	if w.ng {
		hdr = AppendNgSection(nil)
		for i, l := range w.opts.Links {
			ifName := ""
			if i < len(w.opts.Interfaces) {
				ifName = w.opts.Interfaces[i]
			}
			hdr = AppendNgInterface(hdr, l, w.opts.SnapLen, ifName)
		}
	} else {
		hdr = AppendPcapHeader(nil, w.opts.SnapLen, w.opts.Links[0])
	}
	_, err = w.buf.Write(hdr)
	if err == nil {
		err = w.Flush() // the header is on disk, and counted
	}
	if err != nil {
		f.Close()
		w.f = nil
		return fmt.Errorf("%s: %w", name, err)
	}
	w.size = w.disk
	w.files = append(w.files, File{Name: name, First: w.total + 1})
	if w.opts.MaxFiles > 0 {
		for len(w.files) > w.opts.MaxFiles {
			if err := os.Remove(w.files[0].Name); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			w.files = w.files[1:]
		}
	}
	return nil
}

// Write appends one packet, starting the next file of the ring first when
// the current one is full or old enough. p is not kept.
func (w *Writer) Write(p *capture.Packet) error {
	if p.Iface < 0 || p.Iface >= len(w.opts.Links) || p.Link != w.opts.Links[p.Iface] {
		return fmt.Errorf("%w: packet %d has %s", ErrLinkType, p.N, p.Link)
	}
	if w.f == nil {
		return errors.New("pcapw: closed")
	}
	rec := int64(PcapRecordLen + len(p.Data))
	if w.ng {
		rec = int64(NgPacketLen(len(p.Data)))
	}
	if w.count > 0 && ((w.opts.RotateSize > 0 && w.size+rec > w.opts.RotateSize) ||
		(w.opts.RotateTime > 0 && p.Time.Sub(w.first) >= w.opts.RotateTime)) {
		if err := w.closeFile(); err != nil {
			return err
		}
		if err := w.open(p.Time); err != nil {
			return err
		}
	}
	if w.count == 0 && w.opts.RotateTime > 0 {
		w.first = p.Time // the file's time span counts from its first packet
	}
	if w.ng {
		w.hdr = appendNgPacketHeader(w.hdr[:0], p.Iface, p.Time, len(p.Data), p.Length)
	} else {
		w.hdr = appendPcapRecordHeader(w.hdr[:0], p.Time, len(p.Data), p.Length)
	}
	_, err := w.buf.Write(w.hdr)
	if err == nil {
		_, err = w.buf.Write(p.Data)
	}
	if err == nil && w.ng {
		w.hdr = appendNgPacketTrailer(w.hdr[:0], len(p.Data))
		_, err = w.buf.Write(w.hdr)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", w.f.Name(), err)
	}
	w.size += rec
	w.count++
	w.total++
	return nil
}

// Flush writes out what is buffered, so that the file on disk holds every
// packet written so far.
func (w *Writer) Flush() error {
	if w.f == nil {
		return nil
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("%s: %w", w.f.Name(), err)
	}
	return nil
}

func (w *Writer) closeFile() error {
	err := w.Flush()
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("%s: %w", w.f.Name(), cerr)
	}
	w.f = nil
	return err
}

// Close flushes and closes the current file. It is safe to call twice.
func (w *Writer) Close() error {
	if w.f == nil {
		return nil
	}
	return w.closeFile()
}

// countWriter counts the bytes that reach the file.
type countWriter struct {
	w *os.File
	n *int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	*c.n += int64(n)
	return n, err
}
