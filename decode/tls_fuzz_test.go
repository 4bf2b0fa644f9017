package decode_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/decode"
)

// FuzzTLSCapture reads the real TLS captures of testdata (TLS 1.3, TLS
// 1.2 GCM and CBC, Kamailio and Python's OpenSSL) with their key logs,
// read from a file (as --tls-keylog does: a connection whose secrets it
// lacks is waited for), after ops, two bytes a packet, drop, repeat,
// hold back or damage their packets: holes, retransmissions, records and
// hellos cut or broken. Whatever becomes of the TLS connection, nothing
// panics, every message's Parts are packets of the capture in capture
// order, without a duplicate (N may not be among them, nor after them: a
// segment held after a hole is a message's own packet, the one that
// filled the hole its N, as over TCP; when the hole was given up on, N is
// the segment's, and a handshake packet in Parts may come after it), and
// every warning names a packet of the capture.
//
//	go test ./decode -run '^$' -fuzz FuzzTLSCapture -fuzztime 2m -parallel 1
func FuzzTLSCapture(f *testing.F) {
	type file struct {
		pkts []capture.Packet
		keys string
	}
	var files []file
	dir := f.TempDir()
	for _, name := range []string{"tls13_call", "tls12_call", "tls12_cbc_call"} {
		src, err := capture.Open(filepath.Join("..", "testdata", name+".pcap"))
		if err != nil {
			f.Fatal(err)
		}
		var pkts []capture.Packet
		for {
			p, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Fatal(err)
			}
			q := *p
			q.Data = bytes.Clone(p.Data)
			pkts = append(pkts, q)
		}
		src.Close()
		b, err := os.ReadFile(filepath.Join("..", "testdata", name+".keylog"))
		if err != nil {
			f.Fatal(err)
		}
		keys := filepath.Join(dir, name+".keylog")
		if err := os.WriteFile(keys, b, 0o600); err != nil {
			f.Fatal(err)
		}
		files = append(files, file{pkts, keys})
	}
	f.Add(uint8(0), []byte{})
	f.Add(uint8(1), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0})              // a packet dropped
	f.Add(uint8(2), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 77}) // a byte damaged
	f.Add(uint8(0), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0, 4, 0})        // repeated, held back
	f.Fuzz(func(t *testing.T, which uint8, ops []byte) {
		fl := files[int(which)%len(files)]
		kl, err := decode.ReadKeyLogFile(fl.keys)
		if err != nil {
			t.Fatal(err)
		}
		var pkts []capture.Packet
		var held *capture.Packet
		for i, p := range fl.pkts {
			op, arg := byte(0), byte(0)
			if 2*i+1 < len(ops) {
				op, arg = ops[2*i]%8, ops[2*i+1]
			}
			p.Data = slices.Clone(p.Data)
			switch op {
			case 1: // dropped
				continue
			case 2: // repeated
				pkts = append(pkts, p)
			case 3: // a byte damaged, from the end (the payload's)
				if n := len(p.Data); n > 0 {
					p.Data[n-1-int(arg)%n] ^= 0x5a
				}
			case 4: // held back until after the next
				if held == nil {
					held = &p
					continue
				}
			case 5: // cut short
				p.Data = p.Data[:len(p.Data)-int(arg)%(len(p.Data)+1)]
			}
			pkts = append(pkts, p)
			if held != nil && op != 4 {
				pkts = append(pkts, *held)
				held = nil
			}
		}
		if held != nil {
			pkts = append(pkts, *held)
		}
		r := &fuzzRecorder{t: t, n: len(pkts)}
		d := decode.NewDecoder(r, decode.Options{KeyLog: kl})
		for i := range pkts {
			p := pkts[i]
			p.N = i + 1
			p.Length = len(p.Data)
			d.Decode(&p)
		}
		d.Flush()
		if len(ops) == 0 && r.tls != 7 {
			t.Errorf("the capture as it is: %d messages over TLS, want 7", r.tls)
		}
	})
}

// fuzzRecorder checks each message's Parts and each warning's packet.
type fuzzRecorder struct {
	t   *testing.T
	n   int // packets in the capture
	tls int // messages over TLS
}

func (r *fuzzRecorder) Message(m *decode.Message) {
	if m.Transport == decode.TLS {
		r.tls++
	}
	if m.Parts == nil {
		return
	}
	if !slices.IsSorted(m.Parts) || len(slices.Compact(slices.Clone(m.Parts))) != len(m.Parts) {
		r.t.Errorf("message in packet %d: parts %v", m.N, m.Parts)
	}
	if m.Parts[0] < 1 || m.Parts[len(m.Parts)-1] > r.n {
		r.t.Errorf("message in packet %d: parts %v of %d packets", m.N, m.Parts, r.n)
	}
}

func (r *fuzzRecorder) Datagram(*decode.Datagram) {}

func (r *fuzzRecorder) Warn(w *decode.Warning) {
	if w.N < 1 || w.N > r.n {
		r.t.Errorf("warning of packet %d of %d: %v", w.N, r.n, w)
	}
}
