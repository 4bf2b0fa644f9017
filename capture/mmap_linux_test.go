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
