package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"
)

// Hand-assembled files, for what pcapgo's writers cannot produce: big-endian
// files, the modified pcap format, several pcapng sections, simple and
// obsolete packet blocks, other timestamp resolutions, damage.

var (
	le = binary.LittleEndian
	be = binary.BigEndian
)

type pcapRec struct {
	sec, frac uint32
	data      []byte
	wire      uint32 // original length; 0 means len(data)
	caplen    uint32 // captured length field; 0 means len(data)
}

// buildPcap writes a classic pcap file: magic and all fields in order.
// recHdr is 16, or 24 for the modified format.
func buildPcap(order binary.AppendByteOrder, magic, link uint32, recHdr int, recs ...pcapRec) []byte {
	b := order.AppendUint32(nil, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)     // thiszone
	b = order.AppendUint32(b, 0)     // sigfigs
	b = order.AppendUint32(b, 65535) // snaplen
	b = order.AppendUint32(b, link)
	for _, r := range recs {
		b = order.AppendUint32(b, r.sec)
		b = order.AppendUint32(b, r.frac)
		b = order.AppendUint32(b, cmp0(r.caplen, uint32(len(r.data))))
		b = order.AppendUint32(b, cmp0(r.wire, uint32(len(r.data))))
		if recHdr == 24 {
			b = order.AppendUint32(b, 7)      // ifindex
			b = order.AppendUint16(b, 0x0800) // protocol
			b = append(b, 0, 0)               // packet type, padding
		}
		b = append(b, r.data...)
	}
	return b
}

func cmp0(v, def uint32) uint32 {
	if v == 0 {
		return def
	}
	return v
}

// ng assembles a pcapng file block by block.
type ng struct {
	o binary.AppendByteOrder
	b []byte
}

func (g *ng) off() int64 { return int64(len(g.b)) }

// block appends a block with a correct length and trailer, padding the body.
func (g *ng) block(typ uint32, body []byte) int64 {
	off := g.off()
	body = pad4(body)
	n := uint32(12 + len(body))
	g.b = g.o.AppendUint32(g.b, typ)
	g.b = g.o.AppendUint32(g.b, n)
	g.b = append(g.b, body...)
	g.b = g.o.AppendUint32(g.b, n)
	return off
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// shb starts a section in byte order o.
func (g *ng) shb(o binary.AppendByteOrder) int64 {
	g.o = o
	body := o.AppendUint32(nil, byteOrderMagic)
	body = o.AppendUint16(body, 1)
	body = o.AppendUint16(body, 0)
	body = o.AppendUint64(body, ^uint64(0))
	return g.block(blockSHB, body)
}

func (g *ng) opt(code uint16, v []byte) []byte {
	b := g.o.AppendUint16(nil, code)
	b = g.o.AppendUint16(b, uint16(len(v)))
	return pad4(append(b, v...))
}

func (g *ng) options(body []byte, opts [][]byte) []byte {
	if len(opts) == 0 {
		return body
	}
	for _, o := range opts {
		body = append(body, o...)
	}
	return append(body, 0, 0, 0, 0)
}

func (g *ng) idb(link uint16, snap uint32, opts ...[]byte) int64 {
	body := g.o.AppendUint16(nil, link)
	body = g.o.AppendUint16(body, 0)
	body = g.o.AppendUint32(body, snap)
	return g.block(blockIDB, g.options(body, opts))
}

func (g *ng) epb(id uint32, ts uint64, data []byte, wire uint32, opts ...[]byte) int64 {
	body := g.o.AppendUint32(nil, id)
	body = g.o.AppendUint32(body, uint32(ts>>32))
	body = g.o.AppendUint32(body, uint32(ts))
	body = g.o.AppendUint32(body, uint32(len(data)))
	body = g.o.AppendUint32(body, cmp0(wire, uint32(len(data))))
	body = pad4(append(body, data...))
	return g.block(blockEPB, g.options(body, opts))
}

func (g *ng) pb(id uint16, ts uint64, data []byte) int64 {
	body := g.o.AppendUint16(nil, id)
	body = g.o.AppendUint16(body, 0) // drops count
	body = g.o.AppendUint32(body, uint32(ts>>32))
	body = g.o.AppendUint32(body, uint32(ts))
	body = g.o.AppendUint32(body, uint32(len(data)))
	body = g.o.AppendUint32(body, uint32(len(data)))
	return g.block(blockPB, append(body, data...))
}

func (g *ng) spb(wire uint32, data []byte) int64 {
	return g.block(blockSPB, append(g.o.AppendUint32(nil, wire), data...))
}

func (g *ng) isb(id uint32, drops uint64) int64 {
	body := g.o.AppendUint32(nil, id)
	body = g.o.AppendUint64(body, 0) // timestamp
	return g.block(blockISB, g.options(body, [][]byte{g.opt(optIfDrop, g.o.AppendUint64(nil, drops))}))
}

// pkt is what a test expects of a packet; Data is compared by content.
func pkt(n int, off int64, link LinkType, iface int, t time.Time, data []byte, length int) Packet {
	return Packet{N: n, Offset: off, Link: link, Iface: iface, Time: t, Data: data, Length: length}
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAll reads a source to the end, copying every packet, and checks that
// the call after the last one says io.EOF. err is nil at a clean end.
func readAll(t testing.TB, src Source) ([]Packet, error) {
	t.Helper()
	var out []Packet
	var err error
	for {
		var p *Packet
		p, err = src.Next()
		if err != nil {
			break
		}
		q := *p
		q.Data = bytes.Clone(p.Data)
		out = append(out, q)
		if len(out) > 1e6 {
			t.Fatal("runaway reader")
		}
	}
	if _, again := src.Next(); again != io.EOF {
		t.Errorf("Next after %v = %v, want io.EOF", err, again)
	}
	if err == io.EOF {
		err = nil
	}
	return out, err
}

func samePackets(t testing.TB, got, want []Packet) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d packets, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.N != w.N || g.Offset != w.Offset || g.Link != w.Link || g.Iface != w.Iface ||
			g.Length != w.Length || !g.Time.Equal(w.Time) || !bytes.Equal(g.Data, w.Data) {
			t.Errorf("packet %d:\n got N=%d off=%d link=%v iface=%d len=%d time=%v data=%q\nwant N=%d off=%d link=%v iface=%d len=%d time=%v data=%q",
				i, g.N, g.Offset, g.Link, g.Iface, g.Length, g.Time, g.Data,
				w.N, w.Offset, w.Link, w.Iface, w.Length, w.Time, w.Data)
		}
		if g.Time.Location() != time.UTC {
			t.Errorf("packet %d: time in %v, want UTC", i, g.Time.Location())
		}
	}
}

// damage is an expected *DamageError; nil expects a clean end.
type damage struct {
	packet int
	offset int64
	cause  error // ErrTruncated or ErrCorrupt
}

func checkDamage(t testing.TB, err error, want *damage) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("unexpected error: %v", err)
		}
		return
	}
	var de *DamageError
	if !errors.As(err, &de) {
		t.Errorf("error %v, want a *DamageError", err)
		return
	}
	if de.Packet != want.packet || de.Offset != want.offset || !errors.Is(err, want.cause) {
		t.Errorf("damage %v, want packet %d at offset %d, %v", err, want.packet, want.offset, want.cause)
	}
}

// variant is one way of feeding the same bytes to a reader.
type variant struct {
	name string
	open func() (*Reader, error)
}

// variants reads b plain and gzip-compressed, through buffers from tiny
// (every record straddles refills and forces growth) to the default.
func variants(t testing.TB, b []byte) []variant {
	var vs []variant
	z := gz(t, b)
	for _, size := range []int{minBufSize, 61, 4096, defaultBufSize} {
		vs = append(vs,
			variant{fmt.Sprintf("plain/buf%d", size), func() (*Reader, error) {
				return newReader(bytes.NewReader(b), "test", size)
			}},
			variant{fmt.Sprintf("gzip/buf%d", size), func() (*Reader, error) {
				return newReader(bytes.NewReader(z), "test", size)
			}},
		)
	}
	// A reader that trickles one byte at a time finds every boundary.
	vs = append(vs, variant{"onebyte", func() (*Reader, error) {
		return newReader(iotest.OneByteReader(bytes.NewReader(b)), "test", 64)
	}})
	// OpenMapped's reader: the whole file mapped, and its first half only,
	// the rest read by the prefetcher as if appended after the open (a
	// record is cut at the mapping's end).
	for _, half := range []bool{false, true} {
		vs = append(vs, variant{map[bool]string{false: "mapped", true: "mapped-half"}[half], func() (*Reader, error) {
			path := filepath.Join(t.TempDir(), "test")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			k := len(b)
			if half {
				k /= 2
			}
			rd, err := newFileReader(f, "test", int64(k))
			if err != nil {
				f.Close()
				return nil, err
			}
			if k > 0 && rd.mapped == nil {
				t.Fatalf("%d bytes not mapped", k)
			}
			return rd, nil
		}})
	}
	return vs
}

// expect reads b in every variant and checks the packets and the end.
func expect(t *testing.T, b []byte, want []Packet, dmg *damage) {
	t.Helper()
	for _, v := range variants(t, b) {
		rd, err := v.open()
		if err != nil {
			t.Errorf("%s: open: %v", v.name, err)
			continue
		}
		got, err := readAll(t, rd)
		samePackets(t, got, want)
		checkDamage(t, err, dmg)
		if err := rd.Close(); err != nil {
			t.Errorf("%s: close: %v", v.name, err)
		}
		if t.Failed() {
			t.Fatalf("variant %s failed", v.name)
		}
	}
}
