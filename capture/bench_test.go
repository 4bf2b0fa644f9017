package capture

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// benchPcap is an in-memory pcap of n packets of 200 bytes, as a SIP/RTP
// capture mostly is.
func benchPcap(n int) []byte {
	recs := make([]pcapRec, n)
	data := bytes.Repeat([]byte{0x45}, 200)
	for i := range recs {
		recs[i] = pcapRec{sec: 1700000000 + uint32(i/1000), frac: uint32(i % 1000 * 1000), data: data}
	}
	return buildPcap(le, 0xa1b2c3d4, 1, 16, recs...)
}

func benchPcapng(n int) []byte {
	g := &ng{}
	g.shb(le)
	g.idb(1, 0)
	data := bytes.Repeat([]byte{0x45}, 200)
	for i := range n {
		g.epb(0, 1700000000e6+uint64(i)*20000, data, 0)
	}
	return g.b
}

func benchRead(b *testing.B, file []byte, packets int) {
	benchOpen(b, int64(len(file)), packets, func() (Source, error) {
		return newReader(bytes.NewReader(file), "bench", defaultBufSize)
	})
}

func benchOpen(b *testing.B, size int64, packets int, open func() (Source, error)) {
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		rd, err := open()
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != packets {
			b.Fatalf("%d packets, want %d", n, packets)
		}
		rd.Close()
	}
	b.ReportMetric(float64(packets)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

// benchPackets is the size of the benchmark files: 100k packets, about
// 22 MB, so that the 1 MiB buffer allocated per open (the only allocations,
// a handful per op) weighs as little as in a real capture.
const benchPackets = 100000

// Per operation: open and read a whole in-memory file.
func BenchmarkReadPcap(b *testing.B)   { benchRead(b, benchPcap(benchPackets), benchPackets) }
func BenchmarkReadPcapng(b *testing.B) { benchRead(b, benchPcapng(benchPackets), benchPackets) }

func BenchmarkReadPcapGzip(b *testing.B) {
	benchRead(b, gz(b, benchPcap(benchPackets)), benchPackets)
}

// BenchmarkReadFile reads a file (in the page cache, after the first
// pass) as Open does, through read(2) into prefetched chunks, and as
// OpenMapped does, from a mapping. The difference is the kernel's copy,
// which the CPU time of the process shows (system time) but ns/op only
// in part: the prefetching goroutine copies while the reader decodes.
func BenchmarkReadFile(b *testing.B) {
	file := benchPcap(benchPackets)
	path := filepath.Join(b.TempDir(), "bench.pcap")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, o := range []struct {
		name string
		open func(string) (Source, error)
	}{{"read", Open}, {"mapped", OpenMapped}} {
		b.Run(o.name, func(b *testing.B) {
			benchOpen(b, int64(len(file)), benchPackets, func() (Source, error) { return o.open(path) })
		})
	}
}
