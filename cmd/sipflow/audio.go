package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/media"
)

type audioOptions struct {
	*globalOptions
	correlateOptions
	callID string
	out    string
}

func newAudioCmd(g *globalOptions) *cobra.Command {
	o := &audioOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "audio FILE --call ID -o call.wav",
		Short: "Write a call's G.711 audio as a WAV file, one channel per direction",
		Long: `Write the audio of one call as a WAV file (8 kHz, 16-bit), so you can listen to
what each side heard: channel 1 is what the caller sent, channel 2 what the
callee sent, aligned in time, with silence where packets were lost.

G.711 µ-law (PCMU) and A-law (PCMA) are decoded; for other codecs sipflow
says so and writes nothing. When a direction has several streams (an SSRC
change), the longest is used; which side sent what comes from the SDP. The
capture is read twice: standard input (-), a FIFO or a pipe is first
copied to a temporary file in $TMPDIR (else /tmp), deleted at once.

--call takes the call's Call-ID ` + callIDUsage + `; it must match one call.`,
		Example: `  sipflow audio testdata/call_rtp.pcap --call 1-24089 -o call.wav`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(args[0])
		},
	}
	o.correlateOptions.addFlags(cmd)
	cmd.Flags().StringVar(&o.callID, "call", "", "the call: its Call-ID "+callIDUsage+" (required)")
	cmd.Flags().StringVarP(&o.out, "output", "o", "", "the WAV file to write (required)")
	return cmd
}

func (o *audioOptions) run(file string) error {
	if o.callID == "" || o.out == "" {
		return usageError("audio needs --call ID and -o FILE")
	}
	if o.noRTP {
		return usageError("audio: --no-rtp leaves no audio")
	}
	copts, err := o.correlateOptions.options(false)
	if err != nil {
		return err
	}
	if err := refuseOverwrite("-o", o.out, readFile{"the capture", file}); err != nil {
		return err
	}
	// The capture is read twice: one that can be read only once is
	// copied to $TMPDIR.
	unspool, err := o.spoolCapture(file, os.TempDir())
	if err != nil {
		return err
	}
	defer unspool()
	copts.KeepSDP = true // the SDP says which side sent which stream
	// Pass one: find the call and its streams.
	// A damaged capture (aerr, exit 3) is read up to the damage: the
	// call's audio before it is written.
	var matches []*correlate.Call
	pattern := parseCallID(o.callID)
	_, aerr := analyzeCapture(o.globalOptions, file, copts, func(c *correlate.Call) {
		if pattern.match(c) {
			matches = append(matches, c)
		}
	})
	if readFailed(aerr) {
		return aerr
	}
	switch {
	case len(matches) == 0 && aerr != nil:
		say(o.Err, "sipflow: no call with Call-ID %s in %s before the damage", o.callID, file)
		return aerr
	case len(matches) == 0:
		return usageError("no call with Call-ID %s in %s", o.callID, file)
	case len(matches) > 1:
		var ids []string
		for _, c := range matches {
			ids = append(ids, c.ID)
		}
		return usageError("%s: %d calls match %q: %s", file, len(matches), o.callID, strings.Join(ids, ", "))
	}
	call := matches[0]
	fwd, back := pickDirection(call, true), pickDirection(call, false)
	if fwd == nil && back == nil && aerr != nil {
		say(o.Err, "sipflow: %s: call %s has no RTP before the damage", file, call.ID)
		return aerr
	}
	if fwd == nil && back == nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: call %s has no RTP in this capture", file, call.ID)}
	}
	var tracks []*media.AudioTrack
	var starts []time.Time
	want := map[media.StreamKey]*media.AudioTrack{}
	for _, s := range []*media.Stream{fwd, back} {
		if s == nil {
			t, _ := media.NewAudioTrack("PCMU") // a silent channel for a direction with no RTP
			tracks, starts = append(tracks, t), append(starts, call.Start)
			continue
		}
		t, err := media.NewAudioTrack(s.Codec)
		if errors.Is(err, media.ErrCodecNotDecoded) {
			return &exitError{code: exitUsage, err: fmt.Errorf("call %s: %v", call.ID, err)}
		}
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		t.SetPayloadType(s.PayloadType)
		want[s.Key] = t
		tracks, starts = append(tracks, t), append(starts, s.First)
	}
	// Pass two: the payloads of those streams.
	var rtp decode.RTP
	h := &handler{warnings: &warnings{w: io.Discard}, // the first pass printed them
		datagram: func(d *decode.Datagram) {
			if decode.ParseRTP(d.Payload, &rtp) != nil {
				return
			}
			if t := want[media.StreamKey{Src: d.Src, Dst: d.Dst, SSRC: rtp.SSRC}]; t != nil {
				t.Add(&rtp)
			}
		}}
	if _, err := scanCapture(o.globalOptions, file, h); readFailed(err) {
		return err // the damage, if any, is the first pass's again
	}
	f, err := newOutputFile(o.out, o.program, 0o644)
	if err != nil {
		return err
	}
	if err := media.WriteWAV(f, tracks, starts); err != nil {
		f.Discard() // the older file stays
		if errors.Is(err, media.ErrWAV) {
			err = fmt.Errorf("%s: %w", o.out, err)
		} // else outputFile's: it names the file
		return &exitError{code: exitUsage, err: err}
	}
	if err := f.Close(); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	say(o.Err, "sipflow: wrote %s: call %s, 2 channels (caller, callee), %.1f s", o.out, call.ID, maxDur(tracks).Seconds())
	return aerr // a damaged capture: the audio before the damage was written
}

// pickDirection returns the longest stream sent by the caller (fromCaller)
// or by the callee, or nil. Directions come from the SDP: the caller's offer
// says where the caller receives (a late offer: the callee's answer says
// where the callee does).
func pickDirection(c *correlate.Call, fromCaller bool) *media.Stream {
	var callerRecv, calleeRecv netip.AddrPort
	for _, m := range c.Legs[0].Messages {
		sdp := m.SDP()
		if sdp == nil || len(sdp.Media) == 0 || !sdp.Media[0].Addr.IsValid() {
			continue
		}
		ap := netip.AddrPortFrom(sdp.Media[0].Addr, uint16(sdp.Media[0].Port))
		switch {
		case m.IsRequest() && m.Src == c.Caller && !callerRecv.IsValid():
			callerRecv = ap
		case !m.IsRequest() && m.Dst == c.Caller && !calleeRecv.IsValid():
			calleeRecv = ap
		}
	}
	var best *media.Stream
	for _, s := range c.Streams {
		if s.Fax != nil {
			continue // T.38: no audio to play
		}
		byCaller := s.Key.Dst == calleeRecv || callerRecv.IsValid() && s.Key.Dst != callerRecv
		if byCaller != fromCaller {
			continue
		}
		if best == nil || s.Packets > best.Packets {
			best = s
		}
	}
	return best
}

func maxDur(ts []*media.AudioTrack) time.Duration {
	var d time.Duration
	for _, t := range ts {
		d = max(d, t.Duration())
	}
	return d
}
