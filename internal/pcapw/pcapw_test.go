package pcapw

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/internal/testfeed"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)

func packet(n, iface int, link capture.LinkType, at time.Duration, size int) *capture.Packet {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(n + i)
	}
	return &capture.Packet{N: n, Time: t0.Add(at), Link: link, Data: data, Length: size + 10, Iface: iface}
}

// readAll returns every packet of a capture file, copied.
func readAll(t *testing.T, name string) []capture.Packet {
	t.Helper()
	out, err := testfeed.Packets(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

func TestWritePcapNanoseconds(t *testing.T) {
	name := filepath.Join(t.TempDir(), "x.pcap")
	w, err := Create(Options{Path: name, Links: []capture.LinkType{capture.LinkEthernet}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	var in []*capture.Packet
	for i := range 5 {
		p := packet(i+1, 0, capture.LinkEthernet, time.Duration(i)*time.Microsecond+time.Duration(i), 60+i)
		in = append(in, p)
		if err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	// Flushed: a reader sees every packet while the file stays open.
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, name); len(got) != 5 {
		t.Fatalf("after Flush: %d packets, want 5", len(got))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	got := readAll(t, name)
	for i, p := range got {
		if !p.Time.Equal(in[i].Time) || !slices.Equal(p.Data, in[i].Data) || p.Length != in[i].Length || p.Link != capture.LinkEthernet {
			t.Errorf("packet %d: got %v %d/%d %s, want %v %d/%d", i+1, p.Time, len(p.Data), p.Length, p.Link, in[i].Time, len(in[i].Data), in[i].Length)
		}
	}
	if w.Packets() != 5 || !slices.Equal(w.Files(), []File{{name, 1}}) {
		t.Errorf("Packets %d, Files %v", w.Packets(), w.Files())
	}
}

func TestEmptyCaptureIsValid(t *testing.T) {
	name := filepath.Join(t.TempDir(), "empty.pcap")
	w, err := Create(Options{Path: name, Links: []capture.LinkType{capture.LinkLinuxSLL}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, name); len(got) != 0 {
		t.Fatalf("%d packets", len(got))
	}
}

func TestMixedLinkTypesWritePcapng(t *testing.T) {
	name := filepath.Join(t.TempDir(), "mixed.pcapng")
	links := []capture.LinkType{capture.LinkEthernet, capture.LinkRaw}
	w, err := Create(Options{Path: name, Links: links, Interfaces: []string{"eth0", "tun0"}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	in := []*capture.Packet{packet(1, 0, capture.LinkEthernet, 0, 61), packet(2, 1, capture.LinkRaw, time.Nanosecond, 42),
		packet(3, 0, capture.LinkEthernet, time.Millisecond, 63)}
	for _, p := range in {
		if err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Write(packet(4, 1, capture.LinkEthernet, 0, 10)); !errors.Is(err, ErrLinkType) {
		t.Errorf("wrong link type: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, name)
	if len(got) != 3 {
		t.Fatalf("%d packets", len(got))
	}
	for i, p := range got {
		if p.Link != in[i].Link || !p.Time.Equal(in[i].Time) || !slices.Equal(p.Data, in[i].Data) {
			t.Errorf("packet %d: %s %v, want %s %v", i+1, p.Link, p.Time, in[i].Link, in[i].Time)
		}
	}
}

func TestRotateSize(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "ring.pcap")
	// 24-byte header, 16+100 per packet: three packets fit in 400 bytes.
	w, err := Create(Options{Path: name, Links: []capture.LinkType{capture.LinkEthernet}, RotateSize: 400}, t0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := w.Write(packet(i+1, 0, capture.LinkEthernet, time.Duration(i)*time.Second, 100)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := w.Files()
	want := []File{{Name(name, 1, t0), 1}, {Name(name, 2, t0.Add(3*time.Second)), 4},
		{Name(name, 3, t0.Add(6*time.Second)), 7}, {Name(name, 4, t0.Add(9*time.Second)), 10}}
	if !slices.Equal(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	n := 0
	for i, ff := range files {
		f := ff.Name
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 400 {
			t.Errorf("%s: %d bytes", f, st.Size())
		}
		for _, p := range readAll(t, f) {
			n++
			if p.Data[0] != byte(n) {
				t.Errorf("file %d: packet %d out of order", i+1, n)
			}
		}
	}
	if n != 10 {
		t.Errorf("%d packets over the files, want 10", n)
	}
	if filepath.Base(files[0].Name) != "ring-000001-20261122T100000Z.pcap" {
		t.Errorf("name %s", filepath.Base(files[0].Name))
	}
}

func TestRotateTimeAndMaxFiles(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "t.pcap")
	w, err := Create(Options{Path: name, Links: []capture.LinkType{capture.LinkEthernet}, RotateTime: time.Minute, MaxFiles: 2}, t0)
	if err != nil {
		t.Fatal(err)
	}
	// Packets every 25 s: a file holds the packets of 60 s from its first.
	for i := range 10 {
		if err := w.Write(packet(i+1, 0, capture.LinkEthernet, time.Duration(i)*25*time.Second, 50)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	all, _ := filepath.Glob(filepath.Join(dir, "t-*.pcap"))
	if len(all) != 2 || !slices.Equal(w.Files(), []File{{all[0], 7}, {all[1], 10}}) {
		t.Fatalf("on disk %v, Files %v", all, w.Files())
	}
	// Files start at 0, 75, 150, 225 s: 3+3+3+1 packets; the last two remain.
	if a, b := len(readAll(t, all[0])), len(readAll(t, all[1])); a != 3 || b != 1 {
		t.Errorf("packets in the kept files: %d, %d; want 3, 1", a, b)
	}
	if want := Name(name, 4, t0.Add(225*time.Second)); all[1] != want {
		t.Errorf("last file %s, want %s", all[1], want)
	}
}

func TestCreateErrors(t *testing.T) {
	if _, err := Create(Options{Path: filepath.Join(t.TempDir(), "no", "such", "dir.pcap"), Links: []capture.LinkType{capture.LinkEthernet}}, t0); err == nil {
		t.Error("no error for a missing directory")
	}
	if _, err := Create(Options{Path: filepath.Join(t.TempDir(), "x.pcap")}, t0); err == nil {
		t.Error("no error without interfaces")
	}
}

// TestLinkTypesBeyondOneByte: LINKTYPE_LINUX_SLL2 (276) comes back as
// written from a pcap file and from a pcapng one (gopacket's writers,
// used here before, took the link type as one byte and wrote 20).
func TestLinkTypesBeyondOneByte(t *testing.T) {
	for _, links := range [][]capture.LinkType{
		{capture.LinkLinuxSLL2},
		{capture.LinkEthernet, capture.LinkLinuxSLL2},
	} {
		name := filepath.Join(t.TempDir(), "sll2")
		w, err := Create(Options{Path: name, Links: links}, t0)
		if err != nil {
			t.Fatal(err)
		}
		in := packet(1, len(links)-1, capture.LinkLinuxSLL2, time.Second, 50)
		if err := w.Write(in); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got := readAll(t, name)
		if len(got) != 1 || got[0].Link != capture.LinkLinuxSLL2 || !got[0].Time.Equal(in.Time) || !slices.Equal(got[0].Data, in.Data) || got[0].Length != in.Length {
			t.Errorf("%d interfaces: read back %+v", len(links), got)
		}
	}
}

// TestPcapngBlocks walks the blocks of a pcapng file the Writer wrote:
// each block's length is a multiple of four and given at both ends, the
// interfaces carry their names (if_name) and nanosecond resolution
// (if_tsresol 9), and a packet block's size is what Write counted for it.
func TestPcapngBlocks(t *testing.T) {
	name := filepath.Join(t.TempDir(), "blocks.pcapng")
	links := []capture.LinkType{capture.LinkEthernet, capture.LinkRaw}
	w, err := Create(Options{Path: name, Links: links, Interfaces: []string{"eth0", "a-longer-name"}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{0, 1, 2, 3, 4, 61}
	for i, n := range sizes {
		if err := w.Write(packet(i+1, i%2, links[i%2], time.Duration(i), n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var types []uint32
	var names []string
	var packets []int
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			t.Fatalf("%d bytes left at offset %d", len(b)-off, off)
		}
		typ, n := le.Uint32(b[off:]), int(le.Uint32(b[off+4:]))
		if n%4 != 0 || n < 12 || off+n > len(b) || int(le.Uint32(b[off+n-4:])) != n {
			t.Fatalf("block at offset %d: length %d, trailer wrong or beyond the file", off, n)
		}
		body := b[off+8 : off+n-4]
		types = append(types, typ)
		switch typ {
		case 1:
			opts := map[uint16][]byte{}
			for p := 8; p+4 <= len(body); {
				code, l := le.Uint16(body[p:]), int(le.Uint16(body[p+2:]))
				if code == 0 {
					break
				}
				opts[code] = body[p+4 : p+4+l]
				p += 4 + (l+3)&^3
			}
			names = append(names, string(opts[2]))
			if !slices.Equal(opts[9], []byte{9}) {
				t.Errorf("interface %d: if_tsresol %v, want [9]", len(names)-1, opts[9])
			}
		case 6:
			packets = append(packets, n)
		}
		off += n
	}
	if !slices.Equal(types, []uint32{0x0a0d0d0a, 1, 1, 6, 6, 6, 6, 6, 6}) {
		t.Errorf("blocks %#x", types)
	}
	if !slices.Equal(names, []string{"eth0", "a-longer-name"}) {
		t.Errorf("interface names %q", names)
	}
	for i, n := range sizes {
		if i < len(packets) && packets[i] != NgPacketLen(n) {
			t.Errorf("packet of %d bytes: block of %d, NgPacketLen %d", n, packets[i], NgPacketLen(n))
		}
	}
}
