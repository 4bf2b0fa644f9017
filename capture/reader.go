package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"sync/atomic"
	"unsafe"
)

// Limits that keep a hostile or broken file from costing unbounded memory.
// A length field beyond them is corruption, not a reason to allocate.
const (
	// MaxPacketLen is the largest captured length accepted for one packet,
	// in pcap and pcapng alike: 262144 bytes, libpcap's MAXIMUM_SNAPLEN and
	// Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD. It holds jumbo frames (9 KiB)
	// and 64 KiB GSO/GRO super-frames with room to spare; libpcap never writes
	// more, and matching Wireshark means a damaged file yields exactly the
	// packets capinfos counts. A larger caplen is reported as ErrCorrupt.
	MaxPacketLen = 256 << 10

	// MaxBlockLen is the largest pcapng block that is read into memory
	// (section and interface headers, packets with their options, interface
	// statistics). Blocks sipflow does not need (name resolution, decryption
	// secrets, custom) are skipped as a stream whatever their length.
	MaxBlockLen = 16 << 20

	// maxInterfaces bounds the interfaces of one pcapng section, so that a
	// stream of tiny interface blocks cannot grow memory without end.
	maxInterfaces = 1 << 16

	// defaultBufSize is the size of the prefetched chunks the Reader decodes
	// from: large enough that the records cut by a chunk's end are rare.
	defaultBufSize = 1 << 20
	minBufSize     = 16
)

type format uint8

const (
	formatPcap format = iota + 1
	formatPcapng
)

// Reader reads a pcap or pcapng file, possibly gzip-compressed. It is the
// Source returned by Open and NewReader; type-assert to reach BytesRead,
// Size and Drops.
//
// A Reader decodes straight from the 1 MiB chunks its prefetching goroutine
// reads (a few of them in flight), and every Packet it returns points into
// one: nothing is copied but the start of a record cut by a chunk's end,
// and nothing survives the next call to Next. It belongs to one goroutine,
// except BytesRead and Size.
//
// In pcapng, Packet.Iface is the interface index within the packet's
// section: a new section header numbers interfaces from 0 again.
type Reader struct {
	name string
	raw  countingReader // the file as given, counting bytes for progress
	src  io.Reader      // raw, or a gzip reader over it
	gz   *gzip.Reader
	pf   *prefetcher // reads src ahead in its own goroutine
	file *os.File    // closed by Close when Open opened it
	size int64

	buf   []byte
	chunk bool // buf is a prefetch chunk, to give back once read

	// OpenMapped: the mapping of the file's first bytes, buf while inMap,
	// when w grows a page at a time (check); its pages before dropped have
	// been taken out of memory (release).
	mapped  []byte
	inMap   bool
	dropped int
	page    int  // the system's page size
	touched byte // what check read, kept so that the read is not optimised away

	own  []byte // for a record longer than the chunks' headroom, cut by a chunk's end
	r, w int    // unread bytes are buf[r:w]
	base int64  // stream offset of buf[0], in the decompressed stream
	rerr error  // sticky error from src, io.EOF included

	pkt    Packet
	n      int  // packets returned so far
	done   bool // a terminal error was returned; Next now says io.EOF
	closed bool
	format format
	be     bool // big-endian file (pcap) or section (pcapng)

	// classic pcap
	recHdr int // 16, or 24 for the modified (Kuznetzov) format
	nanos  bool
	link   LinkType

	warn func(*Warning) // OnWarning's

	// pcapng
	sections  int
	ifaces    []iface // interfaces of the current section
	dropsDone uint64  // isb_ifdrop of interfaces in finished sections
	dropsSeen bool
	untimed   bool // a simple packet block was read (warned of once)
}

// countingReader counts the bytes of the underlying file for progress
// reports, and remembers its last real error so that an I/O failure is not
// mistaken for a damaged gzip stream.
type countingReader struct {
	r   io.Reader
	n   atomic.Int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// Open opens a capture file by name; "-" is standard input. The format is
// detected by its magic number, never by the name: classic pcap (microsecond
// and nanosecond, either byte order, and the modified format 0xa1b2cd34),
// pcapng, and either of them gzip-compressed.
//
// A file that is neither gives an error wrapping ErrFormat that quotes its
// first bytes. An empty file gives an error wrapping ErrTruncated: it is what
// a capture whose writer died before the file header looks like. A file
// whose header is damaged gives a *DamageError for packet 1.
//
// The Source is a *Reader.
func Open(name string) (Source, error) {
	if name == "-" {
		rd, err := newReader(os.Stdin, "-", defaultBufSize)
		if err != nil {
			return nil, err
		}
		// "sipflow - < file" has a size; a pipe has none.
		if fi, err := os.Stdin.Stat(); err == nil && fi.Mode().IsRegular() {
			rd.size = fi.Size()
		}
		return rd, nil
	}
	return openSource(name, false)
}

// OpenMapped is Open, except that a regular file that is not compressed is
// mapped into memory instead of read: packets are views of the mapping, so
// the file's bytes are not copied and no goroutine reads ahead. What is
// appended to the file after it was opened (a capture still being
// written) is read as Open reads. Standard input, a compressed file, or a
// file that cannot be mapped is read as by Open.
//
// If another program shrinks the file while it is being read, touching the
// bytes that are gone faults (SIGBUS) rather than returning an error. So
// read its packets inside Reader.Protect, which turns such a fault into a
// damage error at the file's new end. The Reader makes sure, a page at a
// time, that the file still holds what it decodes, so that the zeros the
// kernel shows for the rest of a page cut short are not taken for packets;
// only a truncation inside the page being read can still show its packets
// zeroed, and the reading then ends with the same damage error.
func OpenMapped(name string) (Source, error) {
	if name == "-" {
		return Open(name)
	}
	return openSource(name, true)
}

func openSource(name string, mapped bool) (Source, error) {
	rd, err := openFile(name, mapped)
	if err != nil {
		return nil, err // not a nil *Reader in a non-nil Source
	}
	return rd, nil
}

func openFile(name string, mapped bool) (*Reader, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	mapLen := int64(0)
	if mapped {
		mapLen = size
	}
	rd, err := newFileReader(f, name, mapLen)
	if err != nil {
		f.Close()
		return nil, err
	}
	rd.size = size
	return rd, nil
}

// newFileReader reads f, its first mapLen bytes from a mapping when they
// can be mapped and are not gzip-compressed (mapLen 0: none), the rest
// through the prefetcher.
func newFileReader(f *os.File, name string, mapLen int64) (*Reader, error) {
	var rd *Reader
	var err error
	m := mapFile(f, mapLen)
	if m != nil {
		var head [2]byte
		if n, _ := f.ReadAt(head[:], 0); n == 2 && head[0] == 0x1f && head[1] == 0x8b { // gzip: read as a stream
			unmapFile(m)
			m = nil
		}
	}
	if m != nil {
		rd, err = newMappedReader(f, name, m)
	} else {
		rd, err = newReader(f, name, defaultBufSize)
	}
	if err != nil {
		return nil, err
	}
	rd.file = f
	return rd, nil
}

// newMappedReader reads from m, the mapping of f's first len(m) bytes, and
// then reads on from f (through the prefetcher, started by fill).
func newMappedReader(f *os.File, name string, m []byte) (*Reader, error) {
	rd := &Reader{name: name, size: -1, file: f, mapped: m, inMap: true, buf: m, page: os.Getpagesize()}
	rd.raw.r = io.NewSectionReader(f, int64(len(m)), math.MaxInt64-int64(len(m)))
	rd.src = &rd.raw
	// The file may shrink before its header is read: a fault, not a crash.
	if err := rd.Protect(rd.detect); err != nil {
		rd.stopPrefetch()
		rd.unmap()
		return nil, err
	}
	return rd, nil
}

// dropStep is how much of a mapped file is read before its pages are
// taken out of memory (Reader.release); hugePage the block size they are
// dropped by, a multiple of every page size Linux uses for files.
const (
	dropStep = 4 << 20
	hugePage = 2 << 20
)

// release drops the pages of the mapping that have been read (Next has
// moved past them) and updates BytesRead. It drops whole 2 MiB blocks
// only: the kernel may map a file's pages 2 MiB at a time (transparent
// huge pages), and a touch of the block that holds rd.r would map all of
// it again, dropped part included.
func (rd *Reader) release() {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(rd.mapped)))
	if end := int((start+uintptr(rd.r))&^(hugePage-1) - start); end > rd.dropped {
		dropPages(rd.mapped[rd.dropped:end])
		rd.dropped = end
	}
	rd.raw.n.Store(int64(rd.r))
}

// unmap releases the mapping, if any. Nothing may touch its bytes after.
func (rd *Reader) unmap() {
	if rd.mapped != nil {
		unmapFile(rd.mapped)
		rd.mapped, rd.inMap = nil, false
	}
}

// Protect runs fn, which reads the Reader's packets, and turns a memory
// fault in a mapped file's bytes (OpenMapped: another program truncated
// the file) into the *DamageError fault describes; any other panic goes on.
// For a Reader that maps nothing it only calls fn.
func (rd *Reader) Protect(fn func() error) (err error) {
	if rd.mapped == nil {
		return fn()
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if err = rd.fault(r); err == nil {
				panic(r)
			}
		}
	}()
	return fn()
}

// fault turns what recover returned after a memory fault in the mapping's
// bytes into a *DamageError naming the byte offset; it returns nil for
// anything else.
func (rd *Reader) fault(r any) error {
	e, ok := r.(interface{ Addr() uintptr })
	if !ok || len(rd.mapped) == 0 {
		return nil
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(rd.mapped)))
	a := e.Addr()
	if a < start || a >= start+uintptr(len(rd.mapped)) {
		return nil
	}
	size := int64(a - start) // the file ends before the page that faulted
	if fi, err := rd.file.Stat(); err == nil {
		size = min(size, fi.Size())
	}
	rd.done = true // its bytes are gone: Next must not touch them again
	return rd.shrank(size)
}

// NewReader is Open over any reader; name is used in errors only. Close does
// not close r.
func NewReader(r io.Reader, name string) (Source, error) {
	rd, err := newReader(r, name, defaultBufSize)
	if err != nil {
		return nil, err
	}
	return rd, nil
}

func newReader(src io.Reader, name string, bufSize int) (*Reader, error) {
	rd := &Reader{name: name, size: -1}
	rd.raw.r = src
	rd.src = &rd.raw

	var head [4]byte
	n, err := io.ReadFull(&rd.raw, head[:])
	switch {
	case err == io.EOF:
		return nil, fmt.Errorf("%s: empty file: %w", name, ErrTruncated)
	case err != nil && err != io.ErrUnexpectedEOF:
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if n >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		if err := rd.gunzip(head[:n]); err != nil {
			return nil, err
		}
	} else {
		rd.buf = append([]byte(nil), head[:n]...)
		rd.w = n
		if err != nil {
			rd.rerr = io.EOF
		}
	}
	if rd.rerr == nil {
		// The chunks are bufSize (tests make it small to cut records
		// anywhere), with room in front for a cut record's start.
		size := max(bufSize, minBufSize)
		rd.pf = newPrefetcher(rd.src, size, min(size, prefetchHeadroom))
	}
	if err := rd.detect(); err != nil {
		rd.stopPrefetch()
		return nil, err
	}
	return rd, nil
}

func (rd *Reader) stopPrefetch() {
	if rd.pf != nil {
		rd.pf.Close()
	}
}

// gunzip puts a gzip reader between the file and the buffer. head holds the
// bytes already read to detect the gzip magic.
func (rd *Reader) gunzip(head []byte) error {
	in := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(head), &rd.raw), 64<<10)
	gz, err := gzip.NewReader(in)
	switch {
	case err == nil:
	case err == io.ErrUnexpectedEOF:
		return rd.damage(0, ErrTruncated, "gzip header cut short")
	case rd.raw.err != nil && errors.Is(err, rd.raw.err):
		return fmt.Errorf("%s: %w", rd.name, err)
	default:
		return rd.damage(0, ErrCorrupt, "%v", err)
	}
	rd.gz = gz
	rd.src = gz
	return nil
}

var magics = [][]byte{
	{0xa1, 0xb2, 0xc3, 0xd4}, {0xd4, 0xc3, 0xb2, 0xa1},
	{0xa1, 0xb2, 0x3c, 0x4d}, {0x4d, 0x3c, 0xb2, 0xa1},
	{0xa1, 0xb2, 0xcd, 0x34}, {0x34, 0xcd, 0xb2, 0xa1},
	{0x0a, 0x0d, 0x0d, 0x0a},
}

// detect reads the magic number and the file header.
func (rd *Reader) detect() error {
	if !rd.ensure(4) {
		if rd.rerr != io.EOF {
			return rd.cut(0, "file header", 4)
		}
		got := rd.buf[rd.r:rd.w]
		if len(got) == 0 {
			if rd.gz != nil {
				return fmt.Errorf("%s: empty file after gzip decompression: %w", rd.name, ErrTruncated)
			}
			return fmt.Errorf("%s: empty file: %w", rd.name, ErrTruncated)
		}
		for _, m := range magics {
			if bytes.HasPrefix(m, got) {
				return rd.cut(0, "file header", 4)
			}
		}
		return fmt.Errorf("%s: %w (%s%d bytes: %q)", rd.name, ErrFormat, rd.gzipped(), len(got), got)
	}
	switch binary.BigEndian.Uint32(rd.buf[rd.r:]) {
	case 0xa1b2c3d4:
		return rd.pcapHeader(true, false, 16)
	case 0xd4c3b2a1:
		return rd.pcapHeader(false, false, 16)
	case 0xa1b23c4d:
		return rd.pcapHeader(true, true, 16)
	case 0x4d3cb2a1:
		return rd.pcapHeader(false, true, 16)
	case 0xa1b2cd34:
		return rd.pcapHeader(true, false, 24)
	case 0x34cdb2a1:
		return rd.pcapHeader(false, false, 24)
	case blockSHB:
		rd.format = formatPcapng
		_, err := rd.block()
		return err
	}
	rd.ensure(16) // only to show more of the file in the error
	return fmt.Errorf("%s: %w (%sstarts with %q)", rd.name, ErrFormat, rd.gzipped(), rd.buf[rd.r:min(rd.w, rd.r+16)])
}

// gzipped qualifies format errors: the bytes shown are decompressed ones.
func (rd *Reader) gzipped() string {
	if rd.gz != nil {
		return "gzip-compressed; "
	}
	return ""
}

// Next returns the next packet. The Packet and its Data are overwritten by
// the following call. After the last packet it returns io.EOF; when the rest
// of the file is damaged it returns a *DamageError once, then io.EOF. When
// damage hits a block that is not a packet (a pcapng section or interface
// header, say), DamageError.Packet is the number the next packet would have
// had. A failing device is not damage: its error comes back wrapped with the
// name and offset, then io.EOF. After Close, Next returns os.ErrClosed.
func (rd *Reader) Next() (*Packet, error) {
	if rd.done {
		if rd.closed {
			return nil, os.ErrClosed
		}
		return nil, io.EOF
	}
	if rd.inMap && rd.r-rd.dropped >= dropStep {
		rd.release() // the last packet returned is given up now
	}
	var p *Packet
	var err error
	if rd.format == formatPcap {
		p, err = rd.nextPcap()
	} else {
		p, err = rd.nextPcapng()
	}
	if err != nil {
		rd.done = true
	}
	return p, err
}

// check makes the bytes of the mapping up to end readable (buf[:w]), after
// making sure that the file still holds them: a file truncated at a byte
// that does not start a page keeps the rest of that page mapped, read as
// zeros, and only the pages from the next one on fault. So check touches
// the page after end, which faults (inside Protect) when end is past the
// file's new end, or, at the mapping's last page, asks the file's size.
// Every byte the Reader decodes and every packet it returns was checked
// so, a page or more at a time. (A truncation between check and the
// caller's reading of a packet can still show it zeros; the reading then
// ends with the truncation at the next page.)
func (rd *Reader) check(end int) error {
	if q := (end + rd.page - 1) &^ (rd.page - 1); q < len(rd.mapped) {
		rd.touched ^= rd.mapped[q]
		rd.w = q
		return nil
	}
	rd.w = len(rd.mapped)
	if fi, err := rd.file.Stat(); err == nil && fi.Size() < int64(len(rd.mapped)) {
		if fi.Size() < int64(end) {
			return rd.shrank(fi.Size())
		}
		rd.w = int(fi.Size())
	}
	return nil
}

// shrank is the error for a mapped file found shorter (size bytes) than
// when it was mapped. It names the first packet not returned.
func (rd *Reader) shrank(size int64) error {
	return &DamageError{File: rd.name, Packet: rd.n + 1, Offset: size,
		Err: fmt.Errorf("%w: the file shrank to %d bytes while being read (did another program truncate it?)", ErrTruncated, size)}
}

// Close releases the buffer and closes the file if Open opened it (never
// standard input, never the reader given to NewReader).
func (rd *Reader) Close() error {
	if rd.closed {
		return nil
	}
	rd.closed, rd.done = true, true
	rd.buf, rd.pkt.Data = nil, nil // Drops still answers
	rd.stopPrefetch()              // (gzip.Reader needs no Close: it holds no resource)
	rd.unmap()
	if rd.file != nil {
		return rd.file.Close()
	}
	return nil
}

// BytesRead reports how many bytes of the underlying file have been consumed
// so far: compressed bytes for a gzip file, and including read-ahead, so it
// runs ahead of the packets returned by up to one buffer. Compare it with
// Size for a progress bar. It is safe to call from another goroutine.
func (rd *Reader) BytesRead() int64 { return rd.raw.n.Load() }

// Size is the size of the underlying file in bytes (compressed, for gzip), or
// -1 when unknown: a pipe, or a reader given to NewReader.
func (rd *Reader) Size() int64 { return rd.size }

// Drops reports the packets the capturing interfaces dropped, as recorded
// by pcapng interface statistics blocks (isb_ifdrop, draft-ietf-opsawg-pcapng
// §4.6): the last count seen for each interface, summed over interfaces and
// sections. ok is false when the file records no drop count at all, which is
// always so for classic pcap: it means "unknown", not "none". Read it after
// Next has returned io.EOF, since statistics usually come last.
func (rd *Reader) Drops() (n uint64, ok bool) {
	n, ok = rd.dropsDone, rd.dropsSeen
	for i := range rd.ifaces {
		if rd.ifaces[i].hasDrops {
			n += rd.ifaces[i].drops
			ok = true
		}
	}
	return n, ok
}

// ensure makes at least n unread bytes available in buf[r:w]. It reports
// false when the stream ends or fails first; rd.rerr says which.
func (rd *Reader) ensure(n int) bool {
	if rd.w-rd.r >= n {
		return true
	}
	return rd.fill(n)
}

// fill reads on from the prefetcher: the next chunk becomes the buffer,
// the unread bytes of the current one copied into its headroom, in front
// of its data, and the current chunk goes back to the prefetcher. Only
// unread bytes longer than the headroom (a record bigger than it, cut by a
// chunk's end) are copied with the chunk's data into the Reader's own
// buffer. A chunk with no data comes with the error that ended the stream.
func (rd *Reader) fill(n int) bool {
	for rd.w-rd.r < n {
		if rd.rerr != nil {
			return false
		}
		if rd.inMap && rd.w < len(rd.mapped) {
			if err := rd.check(rd.r + n); err != nil {
				rd.rerr = err
				return false
			}
			continue
		}
		if rd.pf == nil { // the end of a mapped file: read on from there, if it grew
			rd.raw.n.Store(int64(len(rd.mapped)))
			if fi, err := rd.file.Stat(); err == nil && fi.Size() <= int64(len(rd.mapped)) {
				rd.rerr = io.EOF
				if fi.Size() < int64(len(rd.mapped)) {
					rd.rerr = rd.shrank(fi.Size())
				}
				return false
			}
			rd.pf = newPrefetcher(rd.src, defaultBufSize, prefetchHeadroom)
		}
		next, err := rd.pf.take()
		h := rd.pf.headroom
		if len(next) < h { // the stream had ended already
			rd.rerr = err
			return false
		}
		data := next[h:]
		unread := rd.buf[rd.r:rd.w]
		old, oldIsChunk := rd.buf, rd.chunk
		if len(unread) <= h {
			copy(next[h-len(unread):h], unread)
			rd.base += int64(rd.r) - int64(h-len(unread))
			rd.buf, rd.chunk, rd.r, rd.w = next, true, h-len(unread), len(next)
		} else {
			need := len(unread) + len(data)
			if cap(rd.own) < need {
				rd.own = make([]byte, max(need, 2*cap(rd.own)))
			}
			own := rd.own[:need]
			copy(own, unread) // may overlap, when the unread bytes are in own already
			copy(own[len(unread):], data)
			rd.pf.give(next)
			rd.base += int64(rd.r)
			rd.buf, rd.chunk, rd.r, rd.w = own, false, 0, need
		}
		if oldIsChunk {
			rd.pf.give(old)
		}
		if rd.inMap { // its unread bytes were copied: all of it is read
			rd.inMap = false
			dropPages(rd.mapped[rd.dropped:])
			rd.dropped = len(rd.mapped)
		}
		if err != nil {
			rd.rerr = err
		}
	}
	return true
}

// skip discards n bytes of the stream, reading through the buffer.
func (rd *Reader) skip(n int64) bool {
	for {
		avail := int64(rd.w - rd.r)
		if n <= avail {
			rd.r += int(n)
			return true
		}
		if rd.inMap && rd.w < len(rd.mapped) { // check the mapping up to what is skipped
			if !rd.fill(int(min(n, int64(len(rd.mapped)-rd.r)))) {
				return false
			}
			continue
		}
		n -= avail
		rd.r = rd.w
		if !rd.fill(1) {
			return false
		}
	}
}

func (rd *Reader) offset() int64 { return rd.base + int64(rd.r) }

func (rd *Reader) u16(b []byte) uint16 {
	if rd.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (rd *Reader) u32(b []byte) uint32 {
	if rd.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (rd *Reader) u64(b []byte) uint64 {
	if rd.be {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// damage reports the record at off as unreadable: cause is ErrTruncated or
// ErrCorrupt, and the message says what was wrong with it.
func (rd *Reader) damage(off int64, cause error, format string, args ...any) error {
	return &DamageError{
		File:   rd.name,
		Packet: rd.n + 1,
		Offset: off,
		Err:    fmt.Errorf("%w: %s", cause, fmt.Sprintf(format, args...)),
	}
}

// OnWarning sets the function that receives what reading survived: a
// packet record skipped, a timestamp read otherwise than written. Without
// one, they pass unreported. The Warning is valid only during the call.
func (rd *Reader) OnWarning(f func(*Warning)) { rd.warn = f }

// warnf reports a Warning for packet n, whose record starts at off.
func (rd *Reader) warnf(n int, off int64, format string, args ...any) {
	rd.report(Warning{Packet: n, Offset: off, Err: ErrCorrupt}, format, args...)
}

// skipPacket uses up the next packet number for a packet record whose framing
// is sound but whose packet cannot be taken, and reports it.
func (rd *Reader) skipPacket(off int64, format string, args ...any) {
	rd.n++
	rd.report(Warning{Packet: rd.n, Offset: off, Skipped: true, Err: ErrCorrupt}, format+": skipped", args...)
}

// report hands w to OnWarning's function, its Err (the cause) wrapped
// with the detail made from format.
func (rd *Reader) report(w Warning, format string, args ...any) {
	if rd.warn != nil {
		w.Err = fmt.Errorf("%w: %s", w.Err, fmt.Sprintf(format, args...))
		rd.warn(&w)
	}
}

// warnLayout is how warnings show packet times: UTC, to the microsecond.
const warnLayout = "2006-01-02 15:04:05.000000 UTC"

// cut explains why the record starting at off (want bytes long) could not be
// read in full, after ensure or skip failed.
func (rd *Reader) cut(off int64, what string, want int64) error {
	got := rd.base + int64(rd.w) - off
	err := rd.rerr
	var de *DamageError
	switch {
	case errors.As(err, &de): // a mapped file that shrank
		return err
	case err == io.EOF:
		return rd.damage(off, ErrTruncated, "%s cut short: file ends after %d of %d bytes", what, got, want)
	case errors.Is(err, io.ErrUnexpectedEOF):
		stream := "input"
		if rd.gz != nil {
			stream = "compressed stream"
		}
		return rd.damage(off, ErrTruncated, "%s cut short: %s ends after %d of %d bytes", what, stream, got, want)
	case rd.raw.err != nil && errors.Is(err, rd.raw.err), err == io.ErrNoProgress:
		// The file could not be read; nothing says it is damaged.
		return fmt.Errorf("%s: reading %s at byte offset %d: %w", rd.name, what, off, err)
	}
	// The gzip layer found the compressed stream damaged.
	return rd.damage(off, ErrCorrupt, "%s unreadable: %v", what, err)
}
