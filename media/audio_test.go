package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/decode"
)

func TestG711Known(t *testing.T) {
	for _, c := range []struct {
		code byte
		u, a int16
	}{
		{0xff, 0, 848},  // µ-law: 0xff is +0
		{0x7f, 0, -848}, // and 0x7f is −0
		{0x00, -32124, -5504},
		{0x80, 32124, 5504},
		{0xf0, 120, 688},    // µ-law 0xf0: step 15 of segment 0 (30 in 14-bit units)
		{0xd5, 716, 8},      // A-law 0xd5: the smallest positive step
		{0x55, -716, -8},    // and 0x55 the smallest negative
		{0xaa, 5372, 32256}, // A-law extremes
		{0x2a, -5372, -32256},
	} {
		if got := DecodeULaw(c.code); got != c.u {
			t.Errorf("DecodeULaw(%#02x) = %d, want %d", c.code, got, c.u)
		}
		if got := DecodeALaw(c.code); got != c.a {
			t.Errorf("DecodeALaw(%#02x) = %d, want %d", c.code, got, c.a)
		}
	}
	// The sign bit mirrors every code; µ-law falls strictly from 0x80 to
	// 0xff; A-law codes are distinct.
	seen := map[int16]bool{}
	for i := range 256 {
		b := byte(i)
		if DecodeULaw(b) != -DecodeULaw(b^0x80) || DecodeALaw(b) != -DecodeALaw(b^0x80) {
			t.Fatalf("code %#02x is not the mirror of %#02x", b, b^0x80)
		}
		if b > 0x80 && DecodeULaw(b) >= DecodeULaw(b-1) {
			t.Fatalf("µ-law not falling at %#02x", b)
		}
		seen[DecodeALaw(b)] = true
	}
	if len(seen) != 256 {
		t.Errorf("A-law has %d distinct values, want 256", len(seen))
	}
}

func TestAudioTrack(t *testing.T) {
	r := func(seq uint16, ts uint32, pt uint8, payload ...byte) *decode.RTP {
		return &decode.RTP{Version: 2, PayloadType: pt, Seq: seq, Timestamp: ts, Payload: payload}
	}
	const x, y, z = 0xd5, 0xaa, 0x2a // A-law 8, 32256, −32256
	tests := []struct {
		name string
		ps   []*decode.RTP
		want []int16
		dups int
	}{
		{"in order", []*decode.RTP{r(1, 100, 8, x, y), r(2, 102, 8, z, x)}, []int16{8, 32256, -32256, 8}, 0},
		{"loss leaves silence", []*decode.RTP{r(1, 100, 8, x, x), r(3, 104, 8, y, y)}, []int16{8, 8, 0, 0, 32256, 32256}, 0},
		{"reordered", []*decode.RTP{r(1, 100, 8, x), r(3, 102, 8, z), r(2, 101, 8, y)}, []int16{8, 32256, -32256}, 0},
		{"duplicate ignored", []*decode.RTP{r(1, 100, 8, x), r(2, 101, 8, y), r(2, 101, 8, z)}, []int16{8, 32256}, 1},
		{"other types leave silence", []*decode.RTP{r(1, 100, 8, x), r(2, 101, 13, 40), r(3, 102, 8, y)}, []int16{8, 0, 32256}, 0},
		{"before the first is dropped", []*decode.RTP{r(5, 100, 8, x), r(4, 99, 8, y)}, []int16{8}, 0},
		{"timestamp wrap", []*decode.RTP{r(1, 0xffffffff, 8, x), r(2, 0, 8, y)}, []int16{8, 32256}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAudioTrack("PCMA")
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.ps {
				a.Add(p)
			}
			if !slices.Equal(a.PCM(), tt.want) || a.Duplicates != tt.dups {
				t.Errorf("PCM %v dups %d, want %v %d", a.PCM(), a.Duplicates, tt.want, tt.dups)
			}
		})
	}

	// A hostile jump of an hour is taken as a timestamp reset.
	a, _ := NewAudioTrack("pcmu")
	a.Add(r(1, 1000, 0, 0xff, 0xff))
	a.Add(r(2, 1000+3600*8000, 0, 0x80))
	if got := a.PCM(); !slices.Equal(got, []int16{0, 0, 32124}) || a.Resets != 1 {
		t.Errorf("after a jump: %v, resets %d", got, a.Resets)
	}
	a.Reset()
	if len(a.PCM()) != 0 || a.Resets != 0 {
		t.Error("Reset left samples")
	}

	// PCMU on a dynamic payload type.
	a, _ = NewAudioTrack("g711u")
	a.SetPayloadType(112)
	a.Add(r(1, 0, 0, 0x80))
	a.Add(r(2, 0, 112, make([]byte, 4000)...))
	if a.Packets != 1 || a.Duration() != 500*time.Millisecond {
		t.Errorf("dynamic type: %d packets, %v", a.Packets, a.Duration())
	}

	_, err := NewAudioTrack("G729")
	if !errors.Is(err, ErrCodecNotDecoded) || err.Error() != "only G.711 µ-law and A-law are decoded; this stream is G729" {
		t.Errorf("G729: %v", err)
	}
}

// readWAV parses a canonical 44-byte-header PCM WAV.
func readWAV(t *testing.T, b []byte) (channels int, samples [][]int16) {
	t.Helper()
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Fatalf("not a canonical WAV: %q", b[:min(len(b), 44)])
	}
	le := binary.LittleEndian
	channels = int(le.Uint16(b[22:]))
	if le.Uint32(b[4:]) != uint32(len(b)-8) || le.Uint32(b[16:]) != 16 || le.Uint16(b[20:]) != 1 ||
		le.Uint32(b[24:]) != 8000 || le.Uint32(b[28:]) != uint32(8000*2*channels) ||
		le.Uint16(b[32:]) != uint16(2*channels) || le.Uint16(b[34:]) != 16 {
		t.Fatalf("bad header %x", b[:44])
	}
	data := b[44:]
	if int(le.Uint32(b[40:])) != len(data) || len(data)%(2*channels) != 0 {
		t.Fatalf("data length %d, header says %d", len(data), le.Uint32(b[40:]))
	}
	samples = make([][]int16, channels)
	for i := 0; i < len(data); i += 2 {
		c := (i / 2) % channels
		samples[c] = append(samples[c], int16(le.Uint16(data[i:])))
	}
	return channels, samples
}

func TestWriteWAV(t *testing.T) {
	a, _ := NewAudioTrack("PCMA")
	b, _ := NewAudioTrack("PCMU")
	a.Add(&decode.RTP{PayloadType: 8, Seq: 1, Timestamp: 0, Payload: []byte{0xd5, 0xd5, 0xd5}})
	b.Add(&decode.RTP{PayloadType: 0, Seq: 1, Timestamp: 0, Payload: []byte{0x80, 0x80}})
	var buf bytes.Buffer
	// b starts 2 samples (250 µs) later than a.
	if err := WriteWAV(&buf, []*AudioTrack{a, b}, []time.Time{t0, t0.Add(250 * time.Microsecond)}); err != nil {
		t.Fatal(err)
	}
	ch, s := readWAV(t, buf.Bytes())
	if ch != 2 || !slices.Equal(s[0], []int16{8, 8, 8, 0}) || !slices.Equal(s[1], []int16{0, 0, 32124, 32124}) {
		t.Errorf("channels %d: %v", ch, s)
	}
	if err := WriteWAV(&buf, []*AudioTrack{a}, nil); !errors.Is(err, ErrWAV) {
		t.Errorf("mismatched starts: %v", err)
	}
}

// rtpOf reads the RTP packets of a capture that pass the heuristic's
// per-packet test, in order.
type rtpOf struct {
	ps     []decode.RTP
	times  []time.Time
	src    []string
	copies [][]byte
}

func (r *rtpOf) Message(*decode.Message) {}
func (r *rtpOf) Warn(*decode.Warning)    {}
func (r *rtpOf) Datagram(d *decode.Datagram) {
	if !looksRTP(d.Payload) {
		return
	}
	b := slices.Clone(d.Payload)
	var p decode.RTP
	if decode.ParseRTP(b, &p) != nil {
		return
	}
	r.ps = append(r.ps, p)
	r.times = append(r.times, d.Time)
	r.src = append(r.src, d.Src.String())
	r.copies = append(r.copies, b)
}

func readRTP(t *testing.T, path string) *rtpOf {
	t.Helper()
	src, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r := &rtpOf{}
	d := decode.NewDecoder(r, decode.Options{})
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		d.Decode(p)
	}
	return r
}

// TestWAVFromSIPpSample renders SIPp's A-law sample (236 packets, no loss)
// to a WAV file and reads it back: the samples must be the payload bytes
// decoded in order.
func TestWAVFromSIPpSample(t *testing.T) {
	const path = "/usr/share/sip-tester/g711a.pcap"
	if _, err := os.Stat(path); err != nil {
		t.Skip("sip-tester's sample not installed:", err)
	}
	r := readRTP(t, path)
	if len(r.ps) != 236 {
		t.Fatalf("%d RTP packets, want 236", len(r.ps))
	}
	a, _ := NewAudioTrack("PCMA")
	var want []int16
	for i := range r.ps {
		a.Add(&r.ps[i])
		for _, c := range r.ps[i].Payload {
			want = append(want, DecodeALaw(c))
		}
	}
	name := filepath.Join(t.TempDir(), "g711a.wav")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteWAV(f, []*AudioTrack{a}, r.times[:1]); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	ch, s := readWAV(t, b)
	if ch != 1 || len(b)-44 != 2*len(want) || !slices.Equal(s[0], want) {
		t.Errorf("channels %d, %d samples, want %d decoded payload bytes in order", ch, len(s[0]), len(want))
	}
}

// TestWAVFromCall renders both directions of the committed SIPp call.
func TestWAVFromCall(t *testing.T) {
	r := readRTP(t, "../testdata/call_rtp.pcap")
	tracks := map[string]*AudioTrack{}
	starts := map[string]time.Time{}
	want := map[string][]int16{}
	var order []string
	for i := range r.ps {
		src := r.src[i]
		if tracks[src] == nil {
			tracks[src], _ = NewAudioTrack("PCMA")
			starts[src] = r.times[i]
			order = append(order, src)
		}
		tracks[src].Add(&r.ps[i])
		for _, c := range r.ps[i].Payload {
			want[src] = append(want[src], DecodeALaw(c))
		}
	}
	if len(order) != 2 || tracks[order[0]].Packets != 67 || tracks[order[1]].Packets != 67 {
		t.Fatalf("directions %v", order)
	}
	var buf bytes.Buffer
	ts := []*AudioTrack{tracks[order[0]], tracks[order[1]]}
	if err := WriteWAV(&buf, ts, []time.Time{starts[order[0]], starts[order[1]]}); err != nil {
		t.Fatal(err)
	}
	ch, s := readWAV(t, buf.Bytes())
	if ch != 2 {
		t.Fatalf("%d channels", ch)
	}
	for i, src := range order {
		off := int(starts[src].Sub(starts[order[0]]) * SampleRate / time.Second)
		got := s[i][off : off+len(want[src])]
		if !slices.Equal(got, want[src]) || slices.ContainsFunc(s[i][:off], func(v int16) bool { return v != 0 }) {
			t.Errorf("channel %d (%s, offset %d): samples differ from the decoded payloads", i, src, off)
		}
	}
}
