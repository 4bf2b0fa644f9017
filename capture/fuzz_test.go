package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzReadCapture feeds arbitrary bytes to the reader. Properties: it never
// panics; packets are numbered 1, 2, 3... at strictly increasing offsets; no
// packet holds more than MaxPacketLen bytes or can be appended into the
// next; an uncompressed input yields at most one packet per 16 bytes (the
// smallest record) and every packet lies inside it; the end is io.EOF or a
// *DamageError naming the next packet number, followed by io.EOF; Open
// fails only with ErrFormat, ErrTruncated or a *DamageError.
func FuzzReadCapture(f *testing.F) {
	// Seeds: each format in a few packets, compressed, and damaged.
	f.Add(threePcap())
	f.Add(buildPcap(be, 0xa1b23c4d, 101, 16, pcapRec{sec: 1, frac: 2, data: []byte("\x45abc")}, pcapRec{data: []byte("x")}))
	f.Add(buildPcap(le, 0xa1b2cd34, 113, 24, pcapRec{data: []byte("modified")}))
	g, _ := threePcapng()
	f.Add(g.b)
	g.block(4, []byte("name resolution"))
	g.isb(0, 42)
	g.shb(be)
	g.idb(113, 4, g.opt(optTSResol, []byte{0x80 | 20}), g.opt(optTSOffset, be.AppendUint64(nil, 5)))
	g.spb(9, []byte("simple packet"))
	g.pb(0, 1, []byte("obsolete"))
	g.epb(0, 1<<40, []byte("enhanced"), 100, g.opt(1, []byte("comment")))
	f.Add(g.b)
	// Records skipped and timestamps read otherwise (Warnings).
	g2, _ := threePcapng()
	g2.epb(3, 0, []byte("interface 3 of 1"), 0)
	g2.isb(7, 1)
	g2.idb(1, 0, g2.opt(optTSOffset, le.AppendUint64(nil, 1<<62)))
	g2.epb(1, 5, []byte("after 2262"), 0)
	g2.shb(le)
	g2.spb(3, []byte("no interface"))
	f.Add(g2.b)
	f.Add(buildPcap(le, 0xa1b2c3d4, 1, 16, pcapRec{sec: 1, frac: 4_000_000, data: []byte("x")}))
	f.Add(gz(f, threePcap()))
	f.Add(gz(f, g.b))
	f.Add(threePcap()[:90])
	f.Add(g.b[:len(g.b)-3])
	f.Add([]byte{})
	f.Add([]byte("not a capture at all"))

	f.Fuzz(func(t *testing.T, data []byte) {
		plain := len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b
		for _, size := range []int{minBufSize, 4096} {
			rd, err := newReader(bytes.NewReader(data), "fuzz", size)
			if err != nil {
				var de *DamageError
				if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTruncated) && !errors.As(err, &de) {
					t.Fatalf("Open: unexpected error %v", err)
				}
				if de != nil && de.Packet != 1 {
					t.Fatalf("Open: damage %v is not at packet 1", err)
				}
				return
			}
			lastN, lastOff := 0, int64(-1)
			// Every Warning is for the next packet number; a skipped
			// packet uses it up.
			rd.OnWarning(func(w *Warning) {
				if w.Packet != lastN+1 || w.Offset <= lastOff || !(errors.Is(w, ErrCorrupt) || errors.Is(w, ErrNoTime)) {
					t.Fatalf("warning %v after packet %d at offset %d", w, lastN, lastOff)
				}
				if w.Skipped {
					lastN, lastOff = w.Packet, w.Offset
				}
			})
			for {
				p, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					var de *DamageError
					if !errors.As(err, &de) || !(errors.Is(err, ErrTruncated) || errors.Is(err, ErrCorrupt)) {
						t.Fatalf("unexpected error %v", err)
					}
					if de.Packet != lastN+1 || de.Offset <= lastOff {
						t.Fatalf("damage %v after packet %d at offset %d", err, lastN, lastOff)
					}
					if _, err := rd.Next(); err != io.EOF {
						t.Fatalf("after damage: %v, want io.EOF", err)
					}
					break
				}
				if p.N != lastN+1 || p.Offset <= lastOff {
					t.Fatalf("packet %d at offset %d follows packet %d at %d", p.N, p.Offset, lastN, lastOff)
				}
				if len(p.Data) > MaxPacketLen || cap(p.Data) != len(p.Data) {
					t.Fatalf("packet %d: len %d cap %d", p.N, len(p.Data), cap(p.Data))
				}
				if plain && (p.N > len(data)/16 || p.Offset+int64(len(p.Data)) > int64(len(data))) {
					t.Fatalf("packet %d at offset %d with %d bytes from %d bytes of input", p.N, p.Offset, len(p.Data), len(data))
				}
				lastN, lastOff = p.N, p.Offset
			}
			if err := rd.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzMappedSameAsRead: a mapped file (OpenMapped's reader, checking the
// file a page at a time) reads exactly as the same bytes read as a stream:
// the same packets (number, offset, time, bytes) and the same end, whether
// the whole file is mapped or only its first cut bytes (the rest read on
// as if appended after the open).
func FuzzMappedSameAsRead(f *testing.F) {
	f.Add(threePcap(), uint16(0))
	g, _ := threePcapng()
	g.block(4, bytes.Repeat([]byte("skipped "), 1200)) // across pages
	g.epb(0, 1<<40, bytes.Repeat([]byte("enhanced"), 700), 5600)
	f.Add(g.b, uint16(4100))
	f.Add(threePcap()[:90], uint16(50))
	f.Add([]byte("not a capture at all"), uint16(3))

	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		if len(data) > 1<<20 {
			return
		}
		type step struct {
			n      int
			off    int64
			time   int64
			data   string
			length int
			err    string
		}
		read := func(rd *Reader, err error) []step {
			if err != nil {
				return []step{{err: err.Error()}}
			}
			defer rd.Close()
			var steps []step
			err = rd.Protect(func() error {
				for {
					p, err := rd.Next()
					if err != nil {
						steps = append(steps, step{err: err.Error()})
						return nil
					}
					steps = append(steps, step{p.N, p.Offset, p.Time.UnixNano(), string(p.Data), p.Length, ""})
				}
			})
			if err != nil {
				t.Fatalf("fault reading an unchanged file: %v", err)
			}
			return steps
		}
		want := read(newReader(bytes.NewReader(data), "f", 4096))
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{len(data), int(cut) % (len(data) + 1)} {
			file, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			rd, err := newFileReader(file, "f", int64(k))
			if err != nil {
				file.Close()
			}
			if got := read(rd, err); !slices.Equal(got, want) {
				t.Fatalf("mapped %d of %d bytes: %d steps, stream %d; first difference %v", k, len(data), len(got), len(want), firstDiff(got, want))
			}
		}
	})
}

// firstDiff shows the first place where two slices differ.
func firstDiff[T comparable](a, b []T) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("at %d: %+v, want %+v", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(a), len(b))
}
