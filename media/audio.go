package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sipflow/sipflow/decode"
)

// ErrCodecNotDecoded is returned by NewAudioTrack for a codec other than
// G.711.
var ErrCodecNotDecoded = errors.New("only G.711 µ-law and A-law are decoded")

// ErrWAV is wrapped by the errors WriteWAV returns for bad arguments.
var ErrWAV = errors.New("cannot write WAV")

// SampleRate is the rate of the PCM an AudioTrack renders: G.711's.
const SampleRate = 8000

// Limits of an AudioTrack against hostile timestamps.
const (
	// MaxAudio is the longest track rendered; later samples are dropped.
	MaxAudio = 4 * time.Hour
	// MaxTimestampJump is the largest forward timestamp jump filled with
	// silence. A larger one is taken as the sender resetting its
	// timestamp (RFC 3550 §5.1 allows any start) and the next packet
	// follows the previous one directly.
	MaxTimestampJump = time.Minute
)

const (
	maxSamples = int64(MaxAudio / time.Second * SampleRate)
	maxJump    = int64(MaxTimestampJump / time.Second * SampleRate)
)

// AudioTrack collects one direction of a G.711 call and renders it as
// 8 kHz 16-bit linear PCM. Each packet is placed by its RTP timestamp
// relative to the previous one, so lost packets leave silence (zeros) and
// reordered ones land where the sender meant them - the audio as sent, not
// as a jitter buffer would have played it. Duplicates are ignored, as are
// packets of other payload types (comfort noise and telephone events leave
// silence).
type AudioTrack struct {
	table *[256]int16
	pt    uint8
	pcm   []int16

	started bool
	lastTS  uint32 // timestamp of the packet furthest ahead
	lastPos int64  // its sample position
	maxSeq  uint16
	seen    uint64 // bit i: maxSeq − i was added

	Packets    int // packets placed
	Duplicates int // packets skipped as already seen
	Dropped    int // packets skipped: before the first, or beyond MaxAudio
	Resets     int // timestamp jumps beyond MaxTimestampJump
}

// NewAudioTrack returns a track for codec, an rtpmap encoding name: PCMU
// (also G711U, ulaw) or PCMA (G711A, alaw), case-insensitive. Other codecs
// fail with an error wrapping ErrCodecNotDecoded. The track takes packets
// of the codec's static payload type (0 or 8); SetPayloadType changes it.
func NewAudioTrack(codec string) (*AudioTrack, error) {
	switch strings.ToUpper(codec) {
	case "PCMU", "G711U", "ULAW", "G711-ULAW":
		return &AudioTrack{table: ulawTable, pt: 0}, nil
	case "PCMA", "G711A", "ALAW", "G711-ALAW":
		return &AudioTrack{table: alawTable, pt: 8}, nil
	}
	if codec == "" {
		codec = "of an unknown codec"
	}
	return nil, fmt.Errorf("%w; this stream is %s", ErrCodecNotDecoded, codec)
}

// SetPayloadType makes the track take packets of payload type pt, for an
// SDP that gave G.711 a dynamic number.
func (a *AudioTrack) SetPayloadType(pt uint8) { a.pt = pt }

// Add places one packet's samples. p is not kept.
func (a *AudioTrack) Add(p *decode.RTP) {
	if p.PayloadType != a.pt {
		return
	}
	var pos int64
	if !a.started {
		a.started = true
		a.maxSeq, a.seen = p.Seq, 1
		a.lastTS, a.lastPos = p.Timestamp, 0
	} else {
		if a.duplicate(p.Seq) {
			a.Duplicates++
			return
		}
		pos = a.lastPos + int64(int32(p.Timestamp-a.lastTS))
		if end := int64(len(a.pcm)); pos > end+maxJump {
			a.Resets++
			pos = end
		}
		if pos >= a.lastPos {
			a.lastTS, a.lastPos = p.Timestamp, pos
		}
	}
	payload := p.Payload
	if pos < 0 || pos >= maxSamples {
		a.Dropped++
		return
	}
	if rest := maxSamples - pos; int64(len(payload)) > rest {
		payload = payload[:rest]
	}
	end := int(pos) + len(payload)
	if end > len(a.pcm) {
		// Memory past len was never written, so it is still zero.
		a.pcm = slices.Grow(a.pcm, end-len(a.pcm))[:end]
	}
	out := a.pcm[pos:end]
	for i, b := range payload {
		out[i] = a.table[b]
	}
	a.Packets++
}

// duplicate reports whether seq was added before (among the last 64
// sequence numbers) and records it.
func (a *AudioTrack) duplicate(seq uint16) bool {
	d := seq - a.maxSeq
	switch {
	case d == 0:
		return true
	case d < maxDropout:
		a.seen = a.seen<<d | 1
		a.maxSeq = seq
		return false
	case d > 1<<16-64:
		bit := uint64(1) << uint16(-d)
		dup := a.seen&bit != 0
		a.seen |= bit
		return dup
	}
	return false // a wild jump: no way to tell
}

// PCM returns the samples rendered so far. The slice is the track's own
// and changes with the next Add.
func (a *AudioTrack) PCM() []int16 { return a.pcm }

// Duration returns the length of the rendered audio.
func (a *AudioTrack) Duration() time.Duration {
	return time.Duration(len(a.pcm)) * time.Second / SampleRate
}

// Reset empties the track, keeping its buffer and payload type.
func (a *AudioTrack) Reset() {
	clear(a.pcm)
	*a = AudioTrack{table: a.table, pt: a.pt, pcm: a.pcm[:0]}
}

// WriteWAV writes a RIFF/WAVE file of 16-bit PCM at 8000 Hz with one
// channel per track (two for a call: caller, callee). starts[i] is the
// arrival time of tracks[i]'s first packet; the tracks are aligned on it,
// the earliest starting at 0, and shorter ones padded with silence. A nil
// track is a silent channel. The data must fit the 4 GiB RIFF limit.
func WriteWAV(w io.Writer, tracks []*AudioTrack, starts []time.Time) error {
	if len(tracks) == 0 || len(tracks) > 1<<16-1 {
		return fmt.Errorf("%w: %d tracks", ErrWAV, len(tracks))
	}
	if len(starts) != len(tracks) {
		return fmt.Errorf("%w: %d tracks but %d start times", ErrWAV, len(tracks), len(starts))
	}
	var first time.Time
	for i, t := range tracks {
		if t != nil && len(t.pcm) > 0 && (first.IsZero() || starts[i].Before(first)) {
			first = starts[i]
		}
	}
	offs := make([]int64, len(tracks))
	var frames int64
	for i, t := range tracks {
		if t == nil || len(t.pcm) == 0 {
			continue
		}
		offs[i] = int64(starts[i].Sub(first)) * SampleRate / int64(time.Second)
		if offs[i] > maxSamples {
			return fmt.Errorf("%w: track %d starts %v after the first", ErrWAV, i, starts[i].Sub(first))
		}
		frames = max(frames, offs[i]+int64(len(t.pcm)))
	}
	channels := int64(len(tracks))
	dataLen := frames * channels * 2
	if dataLen > 1<<32-1-36 {
		return fmt.Errorf("%w: %d bytes of audio exceed the RIFF limit", ErrWAV, dataLen)
	}

	var h [44]byte
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+dataLen))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16) // fmt chunk size
	binary.LittleEndian.PutUint16(h[20:], 1)  // PCM
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], SampleRate)
	binary.LittleEndian.PutUint32(h[28:], uint32(SampleRate*channels*2)) // byte rate
	binary.LittleEndian.PutUint16(h[32:], uint16(channels*2))            // block align
	binary.LittleEndian.PutUint16(h[34:], 16)                            // bits per sample
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(dataLen))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}

	buf := make([]byte, 0, 32<<10)
	for f := int64(0); f < frames; f++ {
		for i, t := range tracks {
			var v int16
			if t != nil {
				if j := f - offs[i]; j >= 0 && j < int64(len(t.pcm)) {
					v = t.pcm[j]
				}
			}
			buf = binary.LittleEndian.AppendUint16(buf, uint16(v))
		}
		if len(buf) > cap(buf)-int(2*channels) {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}
