// Package testfeed runs a capture file through the decoder into a
// correlator's methods, for tests: the loop every package's tests need to
// turn a test capture into calls, written once. It takes the correlator's
// methods rather than the correlator, so that correlate's own in-package
// tests can use it too.
package testfeed

import (
	"io"
	"net/netip"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/decode"
)

// Capture is Source over the capture file at path.
func Capture(path string, advance func(time.Time), add func(*decode.Message),
	addDatagram func(n int, t time.Time, src, dst netip.AddrPort, payload []byte)) error {
	return CaptureWith(path, decode.Options{}, advance, add, addDatagram)
}

// CaptureWith is Capture with a decoder made with opts.
func CaptureWith(path string, opts decode.Options, advance func(time.Time), add func(*decode.Message),
	addDatagram func(n int, t time.Time, src, dst netip.AddrPort, payload []byte)) error {
	src, err := capture.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	return source(src, opts, advance, add, addDatagram)
}

// Source decodes every packet of src, calling advance with each packet's
// time before it is decoded, add with every SIP message and addDatagram
// with every other UDP payload (a Correlator's Advance, Add and
// AddDatagram), then flushes the decoder. It returns the error that ended
// the capture early (a damaged file), nil at its end.
func Source(src capture.Source, advance func(time.Time), add func(*decode.Message),
	addDatagram func(n int, t time.Time, src, dst netip.AddrPort, payload []byte)) error {
	return source(src, decode.Options{}, advance, add, addDatagram)
}

func source(src capture.Source, opts decode.Options, advance func(time.Time), add func(*decode.Message),
	addDatagram func(n int, t time.Time, src, dst netip.AddrPort, payload []byte)) error {
	d := decode.NewDecoder(handler{add, addDatagram}, opts)
	for {
		p, err := src.Next()
		if err != nil {
			d.Flush()
			if err == io.EOF {
				return nil
			}
			return err
		}
		advance(p.Time)
		d.Decode(p)
	}
}

type handler struct {
	add         func(*decode.Message)
	addDatagram func(n int, t time.Time, src, dst netip.AddrPort, payload []byte)
}

func (h handler) Message(m *decode.Message) { h.add(m) }
func (h handler) Datagram(d *decode.Datagram) {
	h.addDatagram(d.N, d.Time, d.Src, d.Dst, d.Payload)
}
func (h handler) Warn(*decode.Warning) {}

// Packets returns every packet of the capture file at path, each with its
// own copy of the bytes, or the error that ended the file early.
func Packets(path string) ([]capture.Packet, error) {
	src, err := capture.Open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var out []capture.Packet
	for {
		p, err := src.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		c := *p
		c.Data = append([]byte(nil), p.Data...)
		out = append(out, c)
	}
}
