package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

func TestPcapVariants(t *testing.T) {
	d1 := []byte("\x45first packet")
	d2 := bytes.Repeat([]byte("0123456789"), 30)
	big := bytes.Repeat([]byte{0xab}, 70000) // more than the 65535 snaplen: accepted
	tests := []struct {
		name   string
		order  binary.AppendByteOrder
		magic  uint32
		recHdr int
		nanos  bool
	}{
		{"le-usec", le, 0xa1b2c3d4, 16, false},
		{"be-usec", be, 0xa1b2c3d4, 16, false},
		{"le-nsec", le, 0xa1b23c4d, 16, true},
		{"be-nsec", be, 0xa1b23c4d, 16, true},
		{"le-modified", le, 0xa1b2cd34, 24, false},
		{"be-modified", be, 0xa1b2cd34, 24, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frac := uint32(123456)
			want0 := time.Unix(1700000000, 123456000).UTC()
			if tt.nanos {
				frac = 123456789
				want0 = time.Unix(1700000000, 123456789).UTC()
			}
			// LINKTYPE_LINUX_SLL with the FCS-present bits set above it.
			file := buildPcap(tt.order, tt.magic, 0x04000000|113, tt.recHdr,
				pcapRec{sec: 1700000000, frac: frac, data: d1, wire: 1500},
				pcapRec{sec: 1700000001, data: d2},
				pcapRec{sec: 4000000000, data: nil},
				pcapRec{sec: 5, data: big},
			)
			h := int64(tt.recHdr)
			o1 := int64(24)
			o2 := o1 + h + int64(len(d1))
			o3 := o2 + h + int64(len(d2))
			o4 := o3 + h
			expect(t, file, []Packet{
				pkt(1, o1, LinkLinuxSLL, 0, want0, d1, 1500),
				pkt(2, o2, LinkLinuxSLL, 0, time.Unix(1700000001, 0), d2, len(d2)),
				pkt(3, o3, LinkLinuxSLL, 0, time.Unix(4000000000, 0), nil, 0),
				pkt(4, o4, LinkLinuxSLL, 0, time.Unix(5, 0), big, len(big)),
			}, nil)
		})
	}
}

// TestPcapMaxPacketLen: the largest record allowed reads, one byte more is
// corruption.
func TestPcapMaxPacketLen(t *testing.T) {
	data := bytes.Repeat([]byte{1}, MaxPacketLen)
	file := buildPcap(le, 0xa1b2c3d4, 1, 16, pcapRec{data: data}, pcapRec{data: []byte{2}})
	expect(t, file, []Packet{
		pkt(1, 24, LinkEthernet, 0, time.Unix(0, 0), data, MaxPacketLen),
		pkt(2, 24+16+MaxPacketLen, LinkEthernet, 0, time.Unix(0, 0), []byte{2}, 1),
	}, nil)

	file = buildPcap(le, 0xa1b2c3d4, 1, 16, pcapRec{data: []byte{2}}, pcapRec{data: data, caplen: MaxPacketLen + 1})
	expect(t, file, []Packet{pkt(1, 24, LinkEthernet, 0, time.Unix(0, 0), []byte{2}, 1)},
		&damage{2, 24 + 16 + 1, ErrCorrupt})
}

// writePcapgo writes packets with pcapgo's classic writer and returns what a
// reader should see.
func writePcapgo(t *testing.T, path string, nanos bool, n int) []Packet {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if nanos {
		w = pcapgo.NewWriterNanos(f)
	}
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	var want []Packet
	off := int64(24)
	base := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)
	for i := range n {
		data := bytes.Repeat([]byte{byte(i)}, 60+7*i)
		ts := base.Add(time.Duration(i) * 1234567891 * time.Nanosecond)
		ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data) + i%3*10}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
		if !nanos {
			ts = ts.Truncate(time.Microsecond)
		}
		want = append(want, pkt(i+1, off, LinkEthernet, 0, ts, data, ci.Length))
		off += 16 + int64(len(data))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

// TestPcapgoWriter cross-checks the pcap reader against pcapgo's writers,
// through Open, plain and gzip-compressed (found by magic, not by name).
func TestPcapgoWriter(t *testing.T) {
	for _, nanos := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "calls.pcap")
		want := writePcapgo(t, path, nanos, 50)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		gzPath := filepath.Join(dir, "calls.txt") // the name says nothing
		if err := os.WriteFile(gzPath, gz(t, raw), 0o644); err != nil {
			t.Fatal(err)
		}
		opens := []struct {
			p    string
			open func(string) (Source, error)
		}{{path, Open}, {gzPath, Open}, {path, OpenMapped}, {gzPath, OpenMapped}}
		for _, o := range opens {
			p := o.p
			src, err := o.open(p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, src)
			if err != nil {
				t.Fatal(err)
			}
			samePackets(t, got, want)
			rd := src.(*Reader)
			fi, _ := os.Stat(p)
			if rd.Size() != fi.Size() || rd.BytesRead() != fi.Size() {
				t.Errorf("%s: Size %d, BytesRead %d, want both %d", p, rd.Size(), rd.BytesRead(), fi.Size())
			}
			if _, ok := rd.Drops(); ok {
				t.Errorf("%s: pcap reports drops", p)
			}
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := src.Next(); !errors.Is(err, os.ErrClosed) {
				t.Errorf("Next after Close = %v, want os.ErrClosed", err)
			}
		}
	}
}

// TestPcapngWriter cross-checks the pcapng reader against pcapgo's NgWriter:
// three interfaces with different link types, an if_tsoffset, and interface
// statistics carrying drop counts.
func TestPcapngWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "multi.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgo.NewNgWriterInterface(f,
		pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65536},
		pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "sipflow test", Comment: "three interfaces"}})
	if err != nil {
		t.Fatal(err)
	}
	sll, err := w.AddInterface(pcapgo.NgInterface{Name: "any", LinkType: layers.LinkTypeLinuxSLL, TimestampOffset: 100, Filter: "udp port 5060"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := w.AddInterface(pcapgo.NgInterface{Name: "tun0", LinkType: layers.LinkTypeRaw, Description: "tunnel"})
	if err != nil {
		t.Fatal(err)
	}
	links := []LinkType{LinkEthernet, LinkLinuxSLL, LinkRaw}
	offsets := []time.Duration{0, 100 * time.Second, 0}
	stats := func(id int, drops uint64) {
		if err := w.WriteInterfaceStats(id, pcapgo.NgInterfaceStatistics{PacketsDropped: drops, PacketsReceived: pcapgo.NgNoValue64}); err != nil {
			t.Fatal(err)
		}
	}
	var want []Packet
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 30 {
		id := []int{0, sll, raw}[i%3]
		data := bytes.Repeat([]byte{byte(i)}, 1+13*i)
		ts := base.Add(time.Duration(i) * 999999937 * time.Nanosecond)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		off, _ := f.Seek(0, io.SeekCurrent)
		ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data) + i, InterfaceIndex: id}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
		want = append(want, pkt(i+1, off, links[id], id, ts.Add(offsets[id]), data, ci.Length))
		if i == 10 {
			stats(0, 3) // superseded by the later count for interface 0
		}
	}
	stats(0, 9)
	stats(sll, 5)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, file, want, nil)

	src, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := readAll(t, src); err != nil {
		t.Fatal(err)
	}
	if n, ok := src.(*Reader).Drops(); n != 14 || !ok {
		t.Errorf("Drops() = %d, %v; want 14, true", n, ok)
	}
}

func TestPcapng(t *testing.T) {
	d := func(s string) []byte { return []byte(s) }
	ts := func(sec, nsec int64) time.Time { return time.Unix(sec, nsec).UTC() }
	const usec = 1700000000*1e6 + 250000 // default resolution: microseconds
	tests := []struct {
		name  string
		build func(g *ng) []Packet
		drops uint64 // and ok; 0 means no drop count at all
	}{{
		name: "big-endian",
		build: func(g *ng) []Packet {
			g.shb(be)
			g.idb(1, 0)
			o1 := g.epb(0, usec, d("hello"), 0)
			o2 := g.epb(0, usec+1, d("world!!!"), 80)
			return []Packet{
				pkt(1, o1, LinkEthernet, 0, ts(1700000000, 250000000), d("hello"), 5),
				pkt(2, o2, LinkEthernet, 0, ts(1700000000, 250001000), d("world!!!"), 80),
			}
		},
	}, {
		name: "two sections, interfaces reset",
		build: func(g *ng) []Packet {
			g.shb(le)
			g.idb(1, 0)
			g.idb(113, 0)
			o1 := g.epb(1, usec, d("sll"), 0)
			g.isb(0, 3)
			g.isb(1, 4)
			g.shb(be)
			g.idb(101, 0, g.opt(optTSResol, []byte{9}))
			o2 := g.epb(0, 1e9+5, d("raw"), 0)
			g.isb(0, 10)
			return []Packet{
				pkt(1, o1, LinkLinuxSLL, 1, ts(1700000000, 250000000), d("sll"), 3),
				pkt(2, o2, LinkRaw, 0, ts(1, 5), d("raw"), 3),
			}
		},
		drops: 17,
	}, {
		name: "simple packet blocks",
		build: func(g *ng) []Packet {
			g.shb(le)
			g.idb(1, 8)
			o1 := g.spb(100, d("0123456789abcdef")) // snaplen 8 cuts it
			o2 := g.spb(3, d("xyz"))                // padded to 4
			o3 := g.spb(50, d("short"))             // block holds less than claimed
			return []Packet{
				// No timestamp: the Unix epoch before any (TestSurvived).
				pkt(1, o1, LinkEthernet, 0, ts(0, 0), d("01234567"), 100),
				pkt(2, o2, LinkEthernet, 0, ts(0, 0), d("xyz"), 3),
				pkt(3, o3, LinkEthernet, 0, ts(0, 0), d("short\x00\x00\x00"), 50),
			}
		},
	}, {
		name: "obsolete packet block",
		build: func(g *ng) []Packet {
			g.shb(be)
			g.idb(1, 0)
			g.idb(276, 0)
			o1 := g.pb(1, usec, d("old"))
			return []Packet{pkt(1, o1, LinkLinuxSLL2, 1, ts(1700000000, 250000000), d("old"), 3)}
		},
	}, {
		name: "timestamp resolutions and offsets",
		build: func(g *ng) []Packet {
			g.shb(le)
			g.idb(1, 0, g.opt(optTSResol, []byte{0x80 | 10}))                         // 2^-10 s
			g.idb(1, 0, g.opt(optTSResol, []byte{3}))                                 // ms
			g.idb(1, 0, g.opt(optTSResol, []byte{0}))                                 // s
			g.idb(1, 0, g.opt(optTSResol, []byte{0x80 | 30}))                         // 2^-30 s
			g.idb(1, 0, g.opt(optTSResol, []byte{12}))                                // ps
			g.idb(1, 0, g.opt(optTSOffset, le.AppendUint64(nil, uint64(1<<64-3600)))) // -1 h
			g.idb(1, 0, g.opt(optTSResol, []byte{19}))                                // 10^-19 s
			g.idb(1, 0, g.opt(optTSResol, []byte{0x80 | 63}))                         // 2^-63 s
			var want []Packet
			add := func(id uint32, ts uint64, w time.Time) {
				off := g.epb(id, ts, nil, 0)
				want = append(want, pkt(len(want)+1, off, LinkEthernet, int(id), w, nil, 0))
			}
			add(0, 1700000000<<10|512, ts(1700000000, 500000000))
			add(1, 1700000000123, ts(1700000000, 123000000))
			add(2, 1700000000, ts(1700000000, 0))
			add(3, 7<<30|1<<28, ts(7, 250000000))
			add(4, 1000000*1e12+250000000123, ts(1000000, 250000000))
			add(5, 3600*1e6+7, ts(0, 7000))
			add(6, 1e19-1, ts(0, 999999999))
			add(7, 1<<63|1<<62, ts(1, 500000000))
			return want
		},
	}, {
		name: "blocks skipped, options ignored",
		build: func(g *ng) []Packet {
			g.shb(le)
			g.block(4, bytes.Repeat([]byte{1}, 5000)) // name resolution
			g.idb(1, 0, g.opt(2, d("eth0")), g.opt(optTSResol, []byte{6}))
			g.block(0x0a, d("secrets"))                      // decryption secrets
			g.block(0x00000bad, d("\x00\x00\x00\x01custom")) // custom
			g.block(0x80000001, nil)                         // local use
			o1 := g.epb(0, usec, d("with options"), 0, g.opt(1, d("a comment")), g.opt(0x8002, d("xx")))
			// An option that claims to run past its block is dropped, not fatal.
			o2 := g.block(blockEPB, append(le.AppendUint32(nil, 0),
				0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 'z', 0, 0, 0,
				1, 0, 0xff, 0xff))
			return []Packet{
				pkt(1, o1, LinkEthernet, 0, ts(1700000000, 250000000), d("with options"), 12),
				pkt(2, o2, LinkEthernet, 0, ts(0, 0), d("z"), 1),
			}
		},
	}, {
		name: "empty section",
		build: func(g *ng) []Packet {
			g.shb(be)
			return nil
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g ng
			want := tt.build(&g)
			expect(t, g.b, want, nil)
			rd, err := newReader(bytes.NewReader(g.b), "test", defaultBufSize)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := readAll(t, rd); err != nil {
				t.Fatal(err)
			}
			n, ok := rd.Drops()
			if n != tt.drops || ok != (tt.drops != 0) {
				t.Errorf("Drops() = %d, %v; want %d", n, ok, tt.drops)
			}
		})
	}
}

// small files for the damage and open tests: three pcap records at
// offsets 24, 50, 86, ending at 132.
func threePcap() []byte {
	return buildPcap(le, 0xa1b2c3d4, 1, 16,
		pcapRec{data: bytes.Repeat([]byte{1}, 10)},
		pcapRec{data: bytes.Repeat([]byte{2}, 20)},
		pcapRec{data: bytes.Repeat([]byte{3}, 30)})
}

// threePcapng: a section, an interface, and three packets; it returns the
// offsets of the packet blocks.
func threePcapng() (*ng, []int64) {
	g := &ng{}
	g.shb(le)
	g.idb(1, 0)
	var offs []int64
	for i := range 3 {
		offs = append(offs, g.epb(0, uint64(i), bytes.Repeat([]byte{byte(i)}, 10*(i+1)), 0))
	}
	return g, offs
}

// damageFixtures: threePcap, threePcapng's bytes, its packet blocks'
// offsets, and its length, for tests that damage them.
func damageFixtures() (p, n []byte, o []int64, end int64) {
	g, o := threePcapng()
	return threePcap(), g.b, o, int64(len(g.b))
}

// setU32 returns a copy of b with the little-endian v at at.
func setU32(b []byte, at int64, v uint32) []byte {
	b = bytes.Clone(b)
	le.PutUint32(b[at:], v)
	return b
}

// threePcapngWith is threePcapng with what build appends.
func threePcapngWith(build func(g *ng)) []byte {
	g, _ := threePcapng()
	build(g)
	return g.b
}

// TestSurvived: a record whose framing is sound but whose packet cannot
// be taken is skipped with a Warning, keeping its number, and reading goes
// on; a timestamp that cannot be taken as written is read otherwise, with
// a Warning. (Before, each of the skipped ones ended the file as damage.)
func TestSurvived(t *testing.T) {
	p, n, o, end := damageFixtures()
	set, with := setU32, threePcapngWith
	epoch := time.Unix(0, 0).UTC()
	type survived struct {
		name    string
		file    []byte
		packets []int     // the numbers of the packets returned
		times   []float64 // their times, seconds after 1970 (nil: not checked)
		warn    string    // the Warnings, "packet@offset: text" each, joined by "|"
	}
	for _, tt := range []survived{
		{"pcapng interface out of range", set(n, o[1]+8, 1), []int{1, 3}, nil,
			fmt.Sprintf("2@%d: packet on interface 1, but the section describes 1: skipped", o[1])},
		{"pcapng caplen past block", set(n, o[1]+20, 24), []int{1, 3}, nil,
			fmt.Sprintf("2@%d: packet claims 24 captured bytes, but its block holds 20: skipped", o[1])},
		{"pcapng caplen 2^31", set(n, o[0]+20, 1<<31), []int{2, 3}, nil,
			fmt.Sprintf("1@%d: packet claims 2147483648 captured bytes, more than the 262144 allowed: skipped", o[0])},
		{"pcapng interfaces reset by section", with(func(g *ng) { g.shb(le); g.idb(1, 0); g.epb(1, 0, nil, 0); g.epb(0, 0, nil, 0) }), []int{1, 2, 3, 5}, nil,
			fmt.Sprintf("4@%d: packet on interface 1, but the section describes 1: skipped", end+48)},
		{"pcapng simple packet before interface", with(func(g *ng) { g.shb(le); g.spb(1, []byte{1}) }), []int{1, 2, 3}, nil,
			fmt.Sprintf("4@%d: simple packet block, but the section describes no interface: skipped", end+28)},
		{"pcapng statistics for unknown interface", with(func(g *ng) { g.isb(4, 1) }), []int{1, 2, 3}, nil,
			fmt.Sprintf("4@%d: statistics for interface 4, but the section describes 1: ignored", end)},
		{"pcap fraction of a second too big", set(p, 50+4, 1_500_000), []int{1, 2, 3}, []float64{0, 1.5, 0},
			"2@50: timestamp's fraction of a second is 1500000 microseconds, not below 1000000: read as 1970-01-01 00:00:01.500000 UTC"},
		func() survived {
			var at int64
			b := with(func(g *ng) {
				g.idb(1, 0, g.opt(optTSOffset, le.AppendUint64(nil, 1<<40)))
				at = g.epb(1, 7_000_000, []byte{4}, 0)
			})
			return survived{"pcapng time past 2262", b, []int{1, 2, 3, 4}, []float64{0, 0.000001, 0.000002, 0.000002},
				fmt.Sprintf("4@%d: timestamp 7000000 (1000000 units a second, offset 1099511627776 s) is outside 1677-2262: read as 1970-01-01 00:00:00.000002 UTC", at)}
		}(),
		func() survived {
			// A simple packet block has no timestamp: it takes the previous
			// packet's, warned of once.
			var at int64
			b := with(func(g *ng) {
				at = g.spb(1, []byte{4})
				g.epb(0, 7_000_000, []byte{5}, 0)
				g.spb(1, []byte{6})
			})
			return survived{"pcapng simple packets take the previous time", b, []int{1, 2, 3, 4, 5, 6}, []float64{0, 0.000001, 0.000002, 0.000002, 7, 7},
				fmt.Sprintf("4@%d: simple packet block: read as 1970-01-01 00:00:00.000002 UTC, the previous packet's time (the Unix epoch for the first); so are later ones, and their times, durations and timeouts are not real", at)}
		}(),
		func() survived {
			g := &ng{}
			g.shb(le)
			g.idb(1, 0, g.opt(optTSOffset, le.AppendUint64(nil, uint64(1<<64-1e10))))
			at := g.epb(0, 5_000_000, []byte{1}, 0)
			g.epb(0, 9_000_000_000_000_000, []byte{2}, 0) // 9e9 s less 1e10 s: 1938, good
			return survived{"pcapng first packet's time before 1677", g.b, []int{1, 2}, []float64{0, -1e9},
				fmt.Sprintf("1@%d: timestamp 5000000 (1000000 units a second, offset -10000000000 s) is outside 1677-2262: read as 1970-01-01 00:00:00.000000 UTC", at)}
		}(),
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range variants(t, tt.file) {
				rd, err := v.open()
				if err != nil {
					t.Fatalf("%s: open: %v", v.name, err)
				}
				var warns []string
				rd.OnWarning(func(w *Warning) {
					cause := ErrCorrupt
					if strings.HasPrefix(w.Err.Error(), "no timestamp: ") {
						cause = ErrNoTime
					}
					if !errors.Is(w, cause) {
						t.Errorf("%s: warning %v does not wrap %v", v.name, w, cause)
					}
					warns = append(warns, fmt.Sprintf("%d@%d: %s", w.Packet, w.Offset, strings.TrimPrefix(w.Err.Error(), cause.Error()+": ")))
				})
				got, err := readAll(t, rd)
				checkDamage(t, err, nil)
				var nums []int
				for _, p := range got {
					nums = append(nums, p.N)
				}
				if fmt.Sprint(nums) != fmt.Sprint(tt.packets) {
					t.Errorf("%s: packets %v, want %v", v.name, nums, tt.packets)
				}
				for i, want := range tt.times {
					if i < len(got) && !got[i].Time.Equal(epoch.Add(time.Duration(want*1e9))) {
						t.Errorf("%s: packet %d at %v, want %gs after 1970", v.name, got[i].N, got[i].Time, want)
					}
				}
				if w := strings.Join(warns, "|"); w != tt.warn {
					t.Errorf("%s: warnings\n got %q\nwant %q", v.name, w, tt.warn)
				}
				if t.Failed() {
					t.FailNow()
				}
			}
		})
	}
}

func TestDamage(t *testing.T) {
	p, n, o, end := damageFixtures()
	set, with := setU32, threePcapngWith
	tests := []struct {
		name    string
		file    []byte
		packets int
		damage  *damage
	}{
		{"pcap header only", p[:24], 0, nil},
		{"pcap cut in record header", p[:86+7], 2, &damage{3, 86, ErrTruncated}},
		{"pcap cut in data", p[:86+16+5], 2, &damage{3, 86, ErrTruncated}},
		{"pcap cut after record header", p[:86+16], 2, &damage{3, 86, ErrTruncated}},
		{"pcap caplen 2^31", set(p, 50+8, 1<<31), 1, &damage{2, 50, ErrCorrupt}},
		{"pcap caplen 2^32-1", set(p, 24+8, 1<<32-1), 0, &damage{1, 24, ErrCorrupt}},
		{"pcap trailing bytes", append(bytes.Clone(p), 0, 0, 0), 3, &damage{4, 132, ErrTruncated}},

		{"pcapng section only", n[:28], 0, nil},
		{"pcapng cut in block header", n[:o[2]+5], 2, &damage{3, o[2], ErrTruncated}},
		{"pcapng cut in block", n[:o[2]+20], 2, &damage{3, o[2], ErrTruncated}},
		{"pcapng cut before trailer", n[:end-4], 2, &damage{3, o[2], ErrTruncated}},
		{"pcapng cut in interface block", n[:40], 0, &damage{1, 28, ErrTruncated}},
		{"pcapng length not multiple of 4", set(n, o[1]+4, 46), 1, &damage{2, o[1], ErrCorrupt}},
		{"pcapng length under 12", set(n, o[1]+4, 8), 1, &damage{2, o[1], ErrCorrupt}},
		{"pcapng EPB under minimum", set(set(n, o[2]+4, 28), o[2]+24, 28), 2, &damage{3, o[2], ErrCorrupt}},
		{"pcapng trailer mismatch", set(n, o[1]+48, 44), 1, &damage{2, o[1], ErrCorrupt}},
		{"pcapng block over max", set(n, o[2]+4, MaxBlockLen+4), 2, &damage{3, o[2], ErrCorrupt}},
		{"pcapng huge skipped block cut", set(with(func(g *ng) { g.block(4, nil) }), end+4, 1<<31), 3, &damage{4, end, ErrTruncated}},
		{"pcapng skipped block trailer", set(with(func(g *ng) { g.block(4, make([]byte, 8)) }), end+16, 24), 3, &damage{4, end, ErrCorrupt}},
		{"pcapng skipped block cut", with(func(g *ng) { g.block(4, make([]byte, 8)) })[:end+15], 3, &damage{4, end, ErrTruncated}},
		{"pcapng bad byte order in second section", set(with(func(g *ng) { g.shb(le) }), end+8, 0x12345678), 3, &damage{4, end, ErrCorrupt}},
		{"pcapng second section version 2", with(func(g *ng) { g.shb(le); g.b[end+12] = 2 }), 3, &damage{4, end, ErrCorrupt}},
		{"pcapng second section too short", set(with(func(g *ng) { g.shb(le) }), end+4, 24), 3, &damage{4, end, ErrCorrupt}},
		{"pcapng second section cut", with(func(g *ng) { g.shb(be) })[:end+10], 3, &damage{4, end, ErrTruncated}},
		{"pcapng unsupported resolution", with(func(g *ng) { g.idb(1, 0, g.opt(optTSResol, []byte{20})) }), 3, &damage{4, end, ErrCorrupt}},
		{"pcapng unsupported binary resolution", with(func(g *ng) { g.idb(1, 0, g.opt(optTSResol, []byte{0x80 | 64})) }), 3, &damage{4, end, ErrCorrupt}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range variants(t, tt.file) {
				rd, err := v.open()
				if err != nil {
					t.Fatalf("%s: open: %v", v.name, err)
				}
				got, err := readAll(t, rd)
				if len(got) != tt.packets {
					t.Errorf("%s: %d packets before the damage, want %d", v.name, len(got), tt.packets)
				}
				for i, p := range got {
					if p.N != i+1 {
						t.Errorf("%s: packet %d numbered %d", v.name, i+1, p.N)
					}
				}
				checkDamage(t, err, tt.damage)
				if err != nil && !strings.HasPrefix(err.Error(), "test: packet ") {
					t.Errorf("message %q does not start with the name and packet", err)
				}
				if t.Failed() {
					t.Fatalf("variant %s failed: %v", v.name, err)
				}
			}
		})
	}
}

// TestGzipDamage: a cut or corrupt compressed stream is reported at the
// decompressed offset of the first record it spoils.
func TestGzipDamage(t *testing.T) {
	var recs []pcapRec
	var offs []int64
	off := int64(24)
	for i := range 2000 {
		data := make([]byte, 100+i%50)
		for j := range data {
			data[j] = byte(i * j * 7919 >> 3) // poorly compressible
		}
		recs = append(recs, pcapRec{sec: uint32(i), data: data})
		offs = append(offs, off)
		off += 16 + int64(len(data))
	}
	file := buildPcap(le, 0xa1b2c3d4, 1, 16, recs...)
	z := gz(t, file)

	t.Run("cut", func(t *testing.T) {
		for _, cut := range []int{len(z) / 3, len(z) / 2, len(z) - 9, len(z) - 1} {
			rd, err := newReader(bytes.NewReader(z[:cut]), "test", 4096)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, rd)
			var de *DamageError
			if !errors.As(err, &de) || !errors.Is(err, ErrTruncated) {
				t.Fatalf("cut at %d: error %v, want truncation damage", cut, err)
			}
			want := len(got) + 1
			if de.Packet != want {
				t.Errorf("cut at %d: damage at packet %d after %d packets", cut, de.Packet, len(got))
			}
			if want <= len(offs) && de.Offset != offs[want-1] {
				t.Errorf("cut at %d: damage offset %d, want %d", cut, de.Offset, offs[want-1])
			}
			if want > len(offs) && de.Offset != int64(len(file)) {
				t.Errorf("cut at %d: damage offset %d, want end %d", cut, de.Offset, len(file))
			}
		}
	})
	t.Run("checksum", func(t *testing.T) {
		bad := bytes.Clone(z)
		bad[len(bad)-8] ^= 0xff // CRC-32 of the trailer
		rd, err := newReader(bytes.NewReader(bad), "test", defaultBufSize)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, rd)
		if len(got) != len(recs) {
			t.Errorf("%d packets, want all %d before the bad checksum", len(got), len(recs))
		}
		checkDamage(t, err, &damage{len(recs) + 1, int64(len(file)), ErrCorrupt})
	})
	t.Run("flipped", func(t *testing.T) {
		bad := bytes.Clone(z)
		for i := len(bad) / 2; i < len(bad)/2+64; i++ {
			bad[i] ^= 0x5a
		}
		rd, err := newReader(bytes.NewReader(bad), "test", defaultBufSize)
		if err != nil {
			t.Fatal(err)
		}
		_, err = readAll(t, rd)
		var de *DamageError
		if !errors.As(err, &de) {
			t.Errorf("error %v, want a *DamageError", err)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	p := threePcap()
	tests := []struct {
		name   string
		file   []byte
		cause  error  // errors.Is
		damage bool   // a *DamageError for packet 1 at offset 0
		msg    string // in the message, besides the name
	}{
		{"empty", nil, ErrTruncated, false, "empty file"},
		{"gzip of empty", gz(t, nil), ErrTruncated, false, "empty file after gzip decompression"},
		{"garbage", []byte("hello world, this is not a capture"), ErrFormat, false, `"hello world, thi"`},
		{"html", []byte("<html>\x00\x01"), ErrFormat, false, `"<html>\x00\x01"`},
		{"two bytes", []byte("ab"), ErrFormat, false, `"ab"`},
		{"gzip of garbage", gz(t, []byte("GIF89a.....")), ErrFormat, false, `gzip-compressed; starts with "GIF89a.....")`},
		{"pcap magic cut", p[:2], ErrTruncated, true, "file header"},
		{"pcap header cut", p[:20], ErrTruncated, true, "file header cut short: file ends after 20 of 24 bytes"},
		{"gzip header cut", gz(t, p)[:5], ErrTruncated, true, "gzip header"},
		{"gzip bad header", append([]byte{0x1f, 0x8b, 0x63}, make([]byte, 20)...), ErrCorrupt, true, "gzip"},
		{"pcapng magic only", []byte("\n\r\r\n"), ErrTruncated, true, "block header"},
		{"text that looks like pcapng", []byte("\n\r\r\n\x20\x00\x00\x00some text here"), ErrFormat, false, "byte-order magic"},
		{"pcapng version 2", func() []byte { var g ng; g.shb(le); g.b[12] = 2; return g.b }(), ErrFormat, false, "version 2.0"},
		{"pcapng first section cut", func() []byte { var g ng; g.shb(be); return g.b[:20] }(), ErrTruncated, true, "section header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.cap")
			if err := os.WriteFile(path, tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			src, err := Open(path)
			if err == nil {
				src.Close()
				t.Fatal("Open succeeded")
			}
			if src != nil {
				t.Errorf("Open returned a non-nil Source with error %v", err)
			}
			if !errors.Is(err, tt.cause) {
				t.Errorf("error %v does not wrap %v", err, tt.cause)
			}
			var de *DamageError
			if isDamage := errors.As(err, &de); isDamage != tt.damage {
				t.Errorf("error %v: damage %v, want %v", err, isDamage, tt.damage)
			} else if isDamage && (de.Packet != 1 || de.Offset != 0) {
				t.Errorf("damage at packet %d offset %d, want 1 and 0", de.Packet, de.Offset)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, path+": ") || !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q: want it to start with the name and contain %q", msg, tt.msg)
			}
		})
	}

	t.Run("missing", func(t *testing.T) {
		if _, err := Open(filepath.Join(t.TempDir(), "none.pcap")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		src, err := Open(t.TempDir())
		if err == nil {
			src.Close()
			t.Fatal("Open of a directory succeeded")
		}
		if errors.Is(err, ErrFormat) || errors.Is(err, ErrTruncated) || errors.Is(err, ErrCorrupt) {
			t.Errorf("a directory is an I/O error, not damage: %v", err)
		}
	})
}

// failingReader returns its data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestReadError: a failing device is an I/O error, not damage, even under
// gzip.
func TestReadError(t *testing.T) {
	eio := errors.New("input/output error")
	p := threePcap()
	for name, data := range map[string][]byte{"plain": p[:70], "gzip": gz(t, p)[:40]} {
		rd, err := newReader(&failingReader{data: data, err: eio}, "test", 4096)
		if err != nil {
			t.Fatal(err)
		}
		_, err = readAll(t, rd)
		var de *DamageError
		if !errors.Is(err, eio) || errors.As(err, &de) {
			t.Errorf("%s: error %v, want the I/O error itself", name, err)
		}
	}
}

// TestStdin reads standard input through Open("-"), from a pipe as a shell
// would give it, and through NewReader.
func TestStdin(t *testing.T) {
	g, offs := threePcapng()
	z := gz(t, g.b)

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(z)
		w.Close()
	}()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()

	src, err := Open("-")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, src)
	if err != nil || len(got) != 3 || got[2].Offset != offs[2] {
		t.Errorf("stdin: %d packets, err %v", len(got), err)
	}
	rd := src.(*Reader)
	if rd.Size() != -1 || rd.BytesRead() != int64(len(z)) {
		t.Errorf("stdin: Size %d BytesRead %d, want -1 and %d", rd.Size(), rd.BytesRead(), len(z))
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Stat(); err != nil {
		t.Errorf("Close closed standard input: %v", err)
	}

	pr, pw := io.Pipe()
	go func() {
		pw.Write(threePcap())
		pw.Close()
	}()
	src, err = NewReader(pr, "-")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(t, src); err != nil || len(got) != 3 {
		t.Errorf("NewReader: %d packets, err %v", len(got), err)
	}
}

// TestZeroAlloc: in steady state, refills included, Next allocates nothing.
func TestZeroAlloc(t *testing.T) {
	for name, file := range map[string][]byte{"pcap": benchPcap(20000), "pcapng": benchPcapng(20000)} {
		rd, err := newReader(bytes.NewReader(file), "test", defaultBufSize)
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(15000, func() {
			if _, err := rd.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per packet", name, allocs)
		}
	}
}

// TestDataIsView: Data is a view that cannot be appended into the next
// record.
func TestDataIsView(t *testing.T) {
	rd, err := newReader(bytes.NewReader(threePcap()), "test", defaultBufSize)
	if err != nil {
		t.Fatal(err)
	}
	p, err := rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	if cap(p.Data) != len(p.Data) {
		t.Errorf("cap(Data) = %d, len %d: append would overwrite the next record", cap(p.Data), len(p.Data))
	}
	start := rd.r - len(p.Data) // the record just read ends at r
	if start < 0 || &p.Data[0] != &rd.buf[start] {
		t.Error("Data is not a view into the read buffer")
	}
}

// stuckReader gives its data, then keeps returning (0, nil).
type stuckReader struct{ data []byte }

func (s *stuckReader) Read(p []byte) (int, error) {
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

// TestStuckSource: a source that neither gives data nor fails (a broken
// pipe wrapper, say) ends the reading with io.ErrNoProgress instead of
// hanging the Reader.
func TestStuckSource(t *testing.T) {
	file := threePcap()
	done := make(chan error, 1)
	go func() {
		rd, err := newReader(&stuckReader{data: file[:len(file)-5]}, "stuck", defaultBufSize)
		if err != nil {
			done <- err
			return
		}
		defer rd.Close()
		for {
			if _, err := rd.Next(); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		if !errors.Is(err, io.ErrNoProgress) {
			t.Errorf("got %v, want an error wrapping io.ErrNoProgress", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the Reader hangs on a source that returns (0, nil) for ever")
	}
}
