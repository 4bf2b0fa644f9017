package capture

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// bigPcap writes a pcap of about size bytes of 1,000-byte packets.
func bigPcap(t *testing.T, size int) string {
	t.Helper()
	var recs []pcapRec
	for i := 0; i*1016 < size; i++ {
		recs = append(recs, pcapRec{sec: uint32(i), data: bytes.Repeat([]byte{byte(i)}, 1000)})
	}
	path := filepath.Join(t.TempDir(), "big.pcap")
	if err := os.WriteFile(path, buildPcap(le, 0xa1b2c3d4, 1, 16, recs...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// mappedRSS is how much of the mapping of path is resident (smaps' Rss).
func mappedRSS(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	in, total := false, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 6 && strings.Contains(fields[0], "-"):
			in = fields[5] == path
		case in && len(fields) == 3 && fields[0] == "Rss:":
			kb, _ := strconv.Atoi(fields[1])
			total += kb << 10
		}
	}
	return total
}

// TestMappedReleases: reading a mapped file keeps only a few MiB of it
// resident, not the whole file, and BytesRead follows the reading.
func TestMappedReleases(t *testing.T) {
	const size = 40 << 20
	path := bigPcap(t, size)
	src, err := OpenMapped(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rd := src.(*Reader)
	if rd.mapped == nil {
		t.Fatal("not mapped")
	}
	worst, n := 0, 0
	for {
		p, err := src.Next()
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		if p.Data[999] != byte(n) { // touch all of it
			t.Fatalf("packet %d: data %d", p.N, p.Data[999])
		}
		if n++; n%4096 == 0 {
			worst = max(worst, mappedRSS(t, path))
			if read := rd.BytesRead(); read < int64(n)*1016-dropStep-hugePage {
				t.Fatalf("after %d packets BytesRead = %d", n, read)
			}
		}
	}
	if limit := 12 << 20; worst > limit || worst == 0 {
		t.Errorf("resident part of the mapping up to %d bytes, want some and at most %d", worst, limit)
	}
	if fi, _ := os.Stat(path); rd.BytesRead() != fi.Size() {
		t.Errorf("BytesRead %d at the end, want %d", rd.BytesRead(), fi.Size())
	}
}

// TestMappedFault: a file truncated while mapped faults when its lost
// bytes are touched; Reader.Protect turns the panic into a DamageError at
// the byte that is gone.
func TestMappedFault(t *testing.T) {
	path := bigPcap(t, 1<<20)
	src, err := OpenMapped(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rd := src.(*Reader)
	if _, err := src.Next(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 8192); err != nil {
		t.Fatal(err)
	}
	got := rd.Protect(func() error {
		for {
			if _, err := src.Next(); err != nil {
				t.Errorf("Next = %v, want a fault first", err)
				return nil
			}
		}
	})
	if got == nil {
		t.Error("no fault recovered")
	}
	var de *DamageError
	if !errors.As(got, &de) || !errors.Is(got, ErrTruncated) || de.Offset < 8192 || de.Offset >= 16384 || !strings.Contains(got.Error(), "shrank") {
		t.Errorf("fault = %v, want a truncation DamageError between 8192 and 16384", got)
	}
	if rd.fault("not a fault") != nil || rd.fault(nil) != nil {
		t.Error("Fault takes other panics for faults")
	}
}

// TestMappedShrinksBeforeHeader: a file truncated between its mapping and
// the reading of its header gives a damage error, not a crash.
func TestMappedShrinksBeforeHeader(t *testing.T) {
	path := bigPcap(t, 1<<16)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := mapFile(f, 1<<16)
	if m == nil {
		t.Fatal("not mapped")
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	rd, err := newMappedReader(f, path, m)
	if rd != nil || !errors.Is(err, ErrTruncated) || !strings.Contains(fmt.Sprint(err), "shrank") {
		t.Fatalf("newMappedReader of a file emptied = %v, %v; want a truncation error", rd, err)
	}
}

// TestMappedShrinksMidPage: a file truncated at a byte that is not at a
// page's start keeps the rest of that page readable (the kernel fills it
// with zeros) and faults only from the next page on. No packet may be
// returned with bytes that were gone when the Reader came to them: every
// packet read is whole and as written, and the reading ends with a
// truncation error at the new size. The Reader checks a page at a time,
// so a truncation inside the page it is reading (the last case) can show
// that page's packets as zeros; the reading must still end with the error.
func TestMappedShrinksMidPage(t *testing.T) {
	const recLen, n = 1000, 1000
	var recs []pcapRec
	for i := range n {
		recs = append(recs, pcapRec{sec: uint32(i + 1), data: bytes.Repeat([]byte{0xab}, recLen)})
	}
	big := buildPcap(le, 0xa1b2c3d4, 1, 16, recs...)
	small := buildPcap(le, 0xa1b2c3d4, 1, 16, recs[:3]...)                              // one page
	recEnd := func(i int) int64 { return int64(pcapFileHeaderLen + (i+1)*(16+recLen)) } // end of record i, from 0
	page := int64(os.Getpagesize())
	for _, tc := range []struct {
		name     string
		file     []byte
		size     int64
		samePage bool // truncated inside the page being read
	}{
		{"mid-record", big, recEnd(20) + 500, false},
		{"record boundary", big, recEnd(30), false},
		{"header of a record", big, recEnd(40) + 7, false},
		{"last page", big, int64(len(big)) - 100, false},
		{"in the page being read", big, recEnd(0) + 3, true},
		{"in the page being read, the last", small, recEnd(1) + 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.size%page == 0 {
				t.Fatalf("size %d is page-aligned; the test needs one that is not", tc.size)
			}
			path := filepath.Join(t.TempDir(), "f.pcap")
			if err := os.WriteFile(path, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			src, err := OpenMapped(path)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			rd := src.(*Reader)
			if rd.mapped == nil {
				t.Fatal("not mapped")
			}
			got := 0
			err = rd.Protect(func() error {
				for {
					p, err := src.Next()
					if err != nil {
						return err
					}
					got++
					if got == 1 {
						if err := os.Truncate(path, tc.size); err != nil {
							t.Fatal(err)
						}
					}
					if tc.samePage {
						continue
					}
					if len(p.Data) != recLen || bytes.Count(p.Data, []byte{0xab}) != recLen || p.Time.Unix() != int64(p.N) {
						t.Fatalf("packet %d after the file shrank to %d: %d bytes, %d of them as written, time %d", p.N, tc.size, len(p.Data), bytes.Count(p.Data, []byte{0xab}), p.Time.Unix())
					}
				}
			})
			var de *DamageError
			if !errors.As(err, &de) || !errors.Is(err, ErrTruncated) || de.Offset != tc.size || !strings.Contains(err.Error(), "shrank") {
				t.Fatalf("reading ended with %v, want a truncation DamageError at byte %d", err, tc.size)
			}
			if tc.samePage {
				return
			}
			// Whole records before the page that holds the new end are read.
			whole := 0
			for recEnd(whole) <= tc.size/page*page {
				whole++
			}
			if got < max(whole, 1) || int64(got) > int64(n) || (got > 1 && recEnd(got-1) > tc.size) {
				t.Errorf("read %d packets before the error, want from %d to the %d whole records before byte %d", got, whole, whole, tc.size)
			}
			if de.Packet != got+1 {
				t.Errorf("error names packet %d, want %d (the first not returned)", de.Packet, got+1)
			}
		})
	}
}
