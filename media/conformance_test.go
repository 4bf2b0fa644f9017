package media

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/decode"
)

// The shared corpus: public captures and what tshark 4.0 said about them
// (shared/corpus/truth.sh runs tshark -z rtp,streams with the RTP and RTCP
// heuristics on).
// It is ../shared beside the repository, or $SIPFLOW_SHARED, as in
// correlate's conformance tests.
var (
	sharedDir      = sharedRoot()
	sharedCaptures = filepath.Join(sharedDir, "captures", "public")
	sharedTruth    = filepath.Join(sharedDir, "corpus", "truth")
)

func sharedRoot() string {
	if d := os.Getenv("SIPFLOW_SHARED"); d != "" {
		return d
	}
	d, _ := filepath.Abs(filepath.Join("..", "..", "shared"))
	return d
}

// tsharkDiffers lists where we knowingly differ from tshark, keyed by file
// and SSRC (or file and "events"), with the reason and what we report
// instead (the "got" line of the test). Add to it only where tshark is
// demonstrably wrong.
var tsharkDiffers = map[string]struct{ why, got string }{
	"nDPI/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap 0x0EAF0EAF": {
		why: "after the re-INVITE to T.38 the sender keeps sending PCMA RTP (same SSRC, sequence numbers continuing) " +
			"on the port the SDP switched to udptl; tshark dissects those 27 packets as T.38 and leaves them out",
		got: "packets 159 lost 1712 maxdelta 34261.832 maxjitter 7.007 meanjitter 1.410",
	},
	"nDPI/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap events": {
		why: "tshark decodes payload type 100 as Cisco NSE by default (rtpevent preferences); NSE 194 is a fax " +
			"signal, not a key press, and no SDP names type 100",
		got: "[]",
	},
	"nDPI/rtp.pcapng events": {
		why: "payload type 101 carries ~1 kB video packets here and no SDP says otherwise; tshark decodes them as " +
			"telephone events by default, we require RFC 4733's 4-byte events",
		got: "[]",
	},
}

type truthFile struct {
	File string `json:"file"`
	RTP  *struct {
		Streams []truthStream `json:"streams_with_heuristic"`
		Events  []string      `json:"rfc2833_events_ended"`
	} `json:"rtp"`
}

type truthStream struct {
	Src        string  `json:"src"`
	Dst        string  `json:"dst"`
	SSRC       string  `json:"ssrc"`
	Payload    string  `json:"payload"`
	Packets    int     `json:"packets"`
	Lost       int     `json:"lost"`
	MaxDelta   float64 `json:"max_delta_ms"`
	MeanJitter float64 `json:"mean_jitter_ms"`
	MaxJitter  float64 `json:"max_jitter_ms"`
}

// parseTruthAddr reads tshark's "addr:port", where an IPv6 address is not
// bracketed.
func parseTruthAddr(s string) (netip.AddrPort, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("no port in %q", s)
	}
	a, err := netip.ParseAddr(s[:i])
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := strconv.ParseUint(s[i+1:], 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a, uint16(p)), nil
}

func (ts truthStream) key() (StreamKey, error) {
	src, err := parseTruthAddr(ts.Src)
	if err != nil {
		return StreamKey{}, err
	}
	dst, err := parseTruthAddr(ts.Dst)
	if err != nil {
		return StreamKey{}, err
	}
	ssrc, err := strconv.ParseUint(strings.TrimPrefix(ts.SSRC, "0x"), 16, 32)
	if err != nil {
		return StreamKey{}, err
	}
	return StreamKey{Src: src, Dst: dst, SSRC: uint32(ssrc)}, nil
}

// rtpmapEntry is one a=rtpmap kept from an SDP seen in the capture.
type rtpmapEntry struct {
	pt    uint8
	name  string
	clock int
}

// captureFeeder decodes a capture and feeds its UDP datagrams to tables:
// want gets the datagrams of the wanted streams, all gets everything that
// passes the heuristic's per-packet test. It names dynamic payload types
// from the SDP seen so far, as Wireshark's SDP dissector does.
type captureFeeder struct {
	want  *Table
	keys  map[StreamKey]bool
	all   *Table
	sdp   decode.SDP
	maps  map[netip.AddrPort][]rtpmapEntry
	warns int
}

func (f *captureFeeder) Message(m *decode.Message) {
	if m.SDP == nil || decode.ParseSDP(m.SDP, &f.sdp) != nil {
		return
	}
	for _, md := range f.sdp.Media {
		if md.Port == 0 || !md.Conn.IsValid() {
			continue
		}
		var es []rtpmapEntry
		for _, rm := range md.RTPMaps {
			if rm.PT >= 0 && rm.PT < 128 {
				es = append(es, rtpmapEntry{uint8(rm.PT), string(rm.Name), rm.Clock})
			}
		}
		f.maps[netip.AddrPortFrom(md.Conn, uint16(md.Port))] = es
	}
}

func (f *captureFeeder) names(k StreamKey, pt uint8) (string, int) {
	for _, ap := range []netip.AddrPort{k.Dst, k.Src} {
		for _, e := range f.maps[ap] {
			if e.pt == pt {
				return e.name, e.clock
			}
		}
	}
	return "", 0
}

func (f *captureFeeder) Datagram(d *decode.Datagram) {
	if f.want != nil && len(d.Payload) >= 12 {
		k := StreamKey{Src: d.Src, Dst: d.Dst, SSRC: uint32(d.Payload[8])<<24 | uint32(d.Payload[9])<<16 | uint32(d.Payload[10])<<8 | uint32(d.Payload[11])}
		if f.keys[k] && !decode.LooksLikeRTCP(d.Payload) {
			f.want.AddRTP(d.N, d.Time, d.Src, d.Dst, d.Payload)
		}
	}
	if f.all != nil {
		if decode.LooksLikeRTCP(d.Payload) {
			f.all.AddRTCP(d.N, d.Time, d.Src, d.Dst, d.Payload)
		} else if looksRTP(d.Payload) {
			f.all.AddRTP(d.N, d.Time, d.Src, d.Dst, d.Payload)
		}
	}
}

func (f *captureFeeder) Warn(*decode.Warning) { f.warns++ }

func (f *captureFeeder) run(t *testing.T, path string) {
	t.Helper()
	src, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	d := decode.NewDecoder(f, decode.Options{})
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var damage *capture.DamageError
		if errors.As(err, &damage) {
			t.Logf("%v (reading stops there, as tshark's does)", err)
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		d.Decode(p)
	}
	d.Flush()
}

func newFeeder() *captureFeeder {
	f := &captureFeeder{keys: map[StreamKey]bool{}, maps: map[netip.AddrPort][]rtpmapEntry{}}
	f.want, f.all = NewTable(), NewTable()
	f.want.SetPayloadNames(f.names)
	f.all.SetPayloadNames(f.names)
	return f
}

func loadTruth(t *testing.T) []truthFile {
	t.Helper()
	if _, err := os.Stat(sharedTruth); err != nil {
		t.Skip("no shared corpus at", sharedTruth)
	}
	files, err := filepath.Glob(filepath.Join(sharedTruth, "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []truthFile
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var tf truthFile
		if err := json.Unmarshal(b, &tf); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if tf.RTP != nil && (len(tf.RTP.Streams) > 0 || len(tf.RTP.Events) > 0) {
			out = append(out, tf)
		}
	}
	return out
}

// TestTsharkStreams compares every stream tshark -z rtp,streams listed
// for the public captures: packets and lost exactly, max delta and both
// jitters within 0.5 ms.
func TestTsharkStreams(t *testing.T) {
	const tol = 0.5
	checked := 0
	for _, tf := range loadTruth(t) {
		if len(tf.RTP.Streams) == 0 {
			continue
		}
		t.Run(tf.File, func(t *testing.T) {
			f := newFeeder()
			f.all = nil
			for _, ts := range tf.RTP.Streams {
				k, err := ts.key()
				if err != nil {
					t.Fatal(err)
				}
				f.keys[k] = true
			}
			f.run(t, filepath.Join(sharedCaptures, tf.File))
			f.want.Finish()
			for _, ts := range tf.RTP.Streams {
				k, _ := ts.key()
				id := tf.File + " " + ts.SSRC
				s := f.want.Stream(k)
				if s == nil {
					t.Errorf("%s %s -> %s: stream not found", ts.SSRC, ts.Src, ts.Dst)
					continue
				}
				checked++
				got := fmt.Sprintf("packets %d lost %d maxdelta %.3f maxjitter %.3f meanjitter %.3f",
					s.Packets, s.LostRaw, ms(s.MaxDelta), s.JitterMax, s.JitterMean)
				want := fmt.Sprintf("packets %d lost %d maxdelta %.3f maxjitter %.3f meanjitter %.3f",
					ts.Packets, ts.Lost, ts.MaxDelta, ts.MaxJitter, ts.MeanJitter)
				ok := s.Packets == ts.Packets && s.LostRaw == ts.Lost &&
					math.Abs(ms(s.MaxDelta)-ts.MaxDelta) <= tol &&
					math.Abs(s.JitterMax-ts.MaxJitter) <= tol &&
					math.Abs(s.JitterMean-ts.MeanJitter) <= tol
				if d, known := tsharkDiffers[id]; known {
					t.Logf("%s (%s): known difference: %s\n ours   %s\n tshark %s", ts.SSRC, ts.Payload, d.why, got, want)
					if got != d.got {
						t.Errorf("%s: got %s, the known difference says %s", id, got, d.got)
					}
					continue
				}
				if !ok {
					t.Errorf("%s %s -> %s (%s):\n got  %s\n want %s", ts.SSRC, ts.Src, ts.Dst, ts.Payload, got, want)
				} else if testing.Verbose() {
					t.Logf("%s (%s): %s", ts.SSRC, ts.Payload, got)
				}
			}
		})
	}
	t.Logf("%d streams compared", checked)
	if checked == 0 {
		t.Error("the corpus lists RTP streams, but none was compared")
	}
}

// TestTsharkEvents compares the RFC 4733 events that ended (tshark:
// rtpevent.end_of_event == 1, one per SSRC and timestamp).
func TestTsharkEvents(t *testing.T) {
	for _, tf := range loadTruth(t) {
		if len(tf.RTP.Events) == 0 {
			continue
		}
		t.Run(tf.File, func(t *testing.T) {
			f := newFeeder()
			f.want = nil
			f.run(t, filepath.Join(sharedCaptures, tf.File))
			var evs []DTMF
			for _, s := range f.all.Streams() {
				for _, e := range s.Events {
					if e.End {
						evs = append(evs, e)
					}
				}
			}
			slices.SortStableFunc(evs, func(a, b DTMF) int { return a.N - b.N })
			var got []string
			for _, e := range evs {
				got = append(got, strconv.Itoa(int(e.Event)))
			}
			if d, known := tsharkDiffers[tf.File+" events"]; known {
				t.Logf("known difference: %s\n ours   %v\n tshark %v", d.why, got, tf.RTP.Events)
				if fmt.Sprint(got) != d.got {
					t.Errorf("got %v, the known difference says %s", got, d.got)
				}
				return
			}
			if !slices.Equal(got, tf.RTP.Events) {
				t.Errorf("ended events:\n got  %v\n want %v", got, tf.RTP.Events)
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
