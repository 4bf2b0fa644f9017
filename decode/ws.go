package decode

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// SIP over WebSocket (RFC 7118): the WebSocket protocol (RFC 6455) on a TCP
// stream, each WebSocket message one SIP message, as WebRTC phones and
// browser softphones send it to their proxy (ws://, usually TCP 80, 8080,
// 8088 or 10080).
//
// A stream is taken for one when it starts with the HTTP upgrade that opens
// it (the client's GET naming the "sip" subprotocol, or the server's 101
// answer naming it), or, when the capture began after the upgrade, with a
// frame whose payload begins with a SIP start line. Client frames are
// masked; messages may be fragmented, with control frames (ping, pong) in
// between; a message compressed with permessage-deflate (RFC 7692; RSV1 on
// its first frame) is inflated, with the sender's last 32 KiB as the
// dictionary for context takeover. A message that is not SIP is skipped
// with a warning. wss:// (TLS) cannot be read without its keys.

const (
	maxWSHandshake = 16 << 10 // bytes of HTTP upgrade headers
	wsWindow       = 32 << 10 // a deflate sender's window (RFC 7692 §7.1.2.1)
	wsPeek         = 1024     // bytes of a frame's payload looked at to tell SIP
	wsMaxHeader    = 14       // a frame header's longest: 64-bit length and masking key
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	wsContinuation = 0x0
	wsText         = 0x1
	wsBinary       = 0x2
	wsClose        = 0x8
	wsPing         = 0x9
	wsPong         = 0xa
)

// wsState is what a WebSocket stream remembers between frames.
type wsState struct {
	msg      []byte // the message being assembled from fragments, unmasked
	open     bool   // a fragmented message has begun and not ended
	deflated bool   // the open message is compressed (RSV1 on its first frame)
	hist     []byte // the sender's last wsWindow bytes of inflated messages
	histBad  bool   // bytes were lost: hist is not the sender's
	upgrade  []int  // the packets of this direction's HTTP upgrade
	parts    []int  // Message.Parts of the message handed on
}

// wsInflater inflates compressed messages for all of a Decoder's
// WebSocket streams: a stream keeps only its window (wsState.hist), so
// that thousands of open connections do not each hold an inflater.
type wsInflater struct {
	in  bytes.Reader
	fr  io.ReadCloser
	lim io.LimitedReader
	out bytes.Buffer
}

// wsFrame is a frame header.
type wsFrame struct {
	fin, rsv1, masked bool
	opcode            byte
	key               [4]byte
	hdr               int // header bytes, the masking key included
	n                 int // payload bytes
}

var errWSFrame = errors.New("bad WebSocket frame")

// parseWSFrame reads the frame header at the start of b. ok is false when
// b does not hold all of it yet.
func parseWSFrame(b []byte) (f wsFrame, ok bool, err error) {
	if len(b) < 2 {
		return f, false, nil
	}
	f.fin, f.rsv1, f.opcode = b[0]&0x80 != 0, b[0]&0x40 != 0, b[0]&0x0f
	f.masked = b[1]&0x80 != 0
	if b[0]&0x30 != 0 {
		return f, false, fmt.Errorf("%w: reserved bits RSV2/RSV3 set (0x%02x)", errWSFrame, b[0])
	}
	control := f.opcode&0x8 != 0
	switch {
	case f.opcode > wsBinary && f.opcode < wsClose || f.opcode > wsPong:
		return f, false, fmt.Errorf("%w: reserved opcode 0x%x", errWSFrame, f.opcode)
	case control && (!f.fin || f.rsv1):
		return f, false, fmt.Errorf("%w: control frame (opcode 0x%x) fragmented or compressed", errWSFrame, f.opcode)
	case f.opcode == wsContinuation && f.rsv1:
		return f, false, fmt.Errorf("%w: continuation frame with RSV1 set", errWSFrame)
	}
	n, hdr := uint64(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return f, false, nil
		}
		n, hdr = uint64(binary.BigEndian.Uint16(b[2:4])), 4
	case 127:
		if len(b) < 10 {
			return f, false, nil
		}
		n, hdr = binary.BigEndian.Uint64(b[2:10]), 10
	}
	if control && n > 125 {
		return f, false, fmt.Errorf("%w: control frame of %d bytes", errWSFrame, n)
	}
	if n > maxStreamBuffer {
		return f, false, fmt.Errorf("%w: frame of %d bytes (at most %d are buffered)", errWSFrame, n, maxStreamBuffer)
	}
	if f.masked {
		if len(b) < hdr+4 {
			return f, false, nil
		}
		copy(f.key[:], b[hdr:hdr+4])
		hdr += 4
	}
	f.hdr, f.n = hdr, int(n)
	return f, true, nil
}

// unmask XORs p with the masking key, the key's first byte at p's first.
func unmask(p []byte, key [4]byte) {
	k := binary.LittleEndian.Uint32(key[:])
	k8 := uint64(k) | uint64(k)<<32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k8)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
}

// wsFrameCarriesSIP reports whether b starts with an uncompressed text or
// binary frame whose payload, as far as b holds it, begins with a SIP start
// line: a WebSocket stream whose upgrade the capture missed.
func wsFrameCarriesSIP(b []byte) bool {
	if len(b) < 2 || b[0]&0x7f != wsText && b[0]&0x7f != wsBinary {
		return false
	}
	f, ok, err := parseWSFrame(b)
	if !ok || err != nil || f.n == 0 {
		return false
	}
	var peek [wsPeek]byte
	p := peek[:copy(peek[:], b[f.hdr:min(len(b), f.hdr+f.n)])]
	if f.masked {
		unmask(p, f.key)
	}
	return LooksLikeSIP(p)
}

// wsUpgrade reads the HTTP upgrade that opens a WebSocket stream (RFC 6455
// §4): the client's GET or the server's 101. n is the length of the
// request or response up to its blank line, 0 when b does not hold all of
// it yet; sip says it opens a WebSocket for SIP: its Upgrade names
// websocket and its Sec-WebSocket-Protocol lists "sip" (RFC 7118 §4).
func wsUpgrade(b []byte) (n int, sip bool) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, false
	}
	n = end + 4
	head := b[:end]
	nl := bytes.IndexByte(head, '\n')
	if nl < 0 {
		return n, false
	}
	first := head[:nl]
	if !upgradeStart(first) {
		return n, false
	}
	var upgrade, proto bool
	for rest := head[nl+1:]; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		name, value, ok := bytes.Cut(trimCR(line), []byte(":"))
		if !ok {
			continue
		}
		name = trimSPHT(name)
		switch {
		case bytes.EqualFold(name, []byte("Upgrade")):
			upgrade = upgrade || hasToken(value, "websocket")
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Protocol")):
			proto = proto || hasToken(value, "sip")
		}
	}
	return n, upgrade && proto
}

// hasToken reports whether the comma-separated list v holds tok, in any case.
func hasToken(v []byte, tok string) bool {
	for more := len(v) > 0; more; {
		var item []byte
		item, more, v = splitList(v)
		if bytes.EqualFold(item, []byte(tok)) {
			return true
		}
	}
	return false
}

// upgradeStart reports whether b starts as the HTTP upgrade that opens a
// WebSocket does: the client's GET or the server's 101.
func upgradeStart(b []byte) bool {
	return bytes.HasPrefix(b, []byte("GET ")) || bytes.HasPrefix(b, []byte("HTTP/1.1 101"))
}

// maybeWSStart reports whether the first data of a stream whose SYN the
// capture missed may open a WebSocket stream for SIP.
func maybeWSStart(b []byte) bool {
	return upgradeStart(b) || wsFrameCarriesSIP(b)
}

// wsFrames consumes the complete frames at the front of b and returns what
// is left. own is the packet the newest bytes came in.
func (d *Decoder) wsFrames(key streamKey, s *stream, b []byte, own int) []byte {
	for len(b) > 0 && s.kind == kindWS {
		f, ok, err := parseWSFrame(b)
		if err != nil {
			d.warnAt(s.bufN, ErrMalformed, "WebSocket stream %s -> %s: %v; skipping to a frame that carries a SIP message", key.src, key.dst, err)
			s.resync = true
			return b[1:]
		}
		if !ok || len(b) < f.hdr+f.n {
			return b
		}
		d.wsFrame(key, s, f, b[f.hdr:f.hdr+f.n])
		b = b[f.hdr+f.n:]
		if !s.ws.open {
			s.bufN = own
			s.parts = append(s.parts[:0], own) // what follows began in this packet
		}
	}
	return b
}

// nextWSFrame returns the offset of the first frame in b that carries a SIP
// message, or -1.
func nextWSFrame(b []byte) int {
	for i := range b {
		if wsFrameCarriesSIP(b[i:]) {
			return i
		}
	}
	return -1
}

// wsFrame takes one frame's payload p.
func (d *Decoder) wsFrame(key streamKey, s *stream, f wsFrame, p []byte) {
	w := s.ws
	switch f.opcode {
	case wsClose, wsPing, wsPong:
		return
	case wsText, wsBinary:
		if w.open {
			d.warnAt(s.bufN, ErrMalformed, "WebSocket stream %s -> %s: a message began before the last one ended; the unfinished one is dropped", key.src, key.dst)
		}
		if f.fin && !f.rsv1 && !f.masked {
			w.open = false
			d.wsMessage(key, s, p) // the common case from a server: no copy
			return
		}
		w.msg, w.open, w.deflated = w.msg[:0], true, f.rsv1
	case wsContinuation:
		if !w.open {
			d.warnAt(s.bufN, ErrMalformed, "WebSocket stream %s -> %s: a continuation frame with no message to continue; skipped", key.src, key.dst)
			return
		}
	}
	if len(w.msg)+len(p) > maxStreamBuffer {
		d.warnAt(s.bufN, ErrMalformed, "WebSocket stream %s -> %s: a message of more than %d bytes; skipped", key.src, key.dst, maxStreamBuffer)
		w.open, w.msg = false, w.msg[:0]
		return
	}
	start := len(w.msg)
	w.msg = append(w.msg, p...)
	if f.masked {
		unmask(w.msg[start:], f.key)
	}
	if !f.fin {
		return
	}
	w.open = false
	msg := w.msg
	if w.deflated {
		var err error
		if msg, err = d.wsz.inflate(w, msg); err != nil {
			why := ""
			if w.histBad {
				why = " (bytes of the stream were lost or came before the capture, and the message refers back to them)"
			}
			w.histBad = true // the sender's window went on without us
			d.warnAt(s.bufN, ErrMalformed, "WebSocket stream %s -> %s: a compressed message does not inflate: %v%s; skipped", key.src, key.dst, err, why)
			return
		}
	}
	d.wsMessage(key, s, msg)
}

// wsTail ends a compressed message for inflating: the sync-flush trailer
// the sender removed (RFC 7692 §7.2.2), then an empty final stored block so
// that the inflater ends cleanly.
var wsTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflate decompresses one permessage-deflate message of stream w, the
// sender's window of earlier messages as the dictionary, and moves the
// window on. It returns a view of z.out.
func (z *wsInflater) inflate(w *wsState, msg []byte) ([]byte, error) {
	msg = append(msg, wsTail...)
	w.msg = msg // keep the grown buffer
	z.in.Reset(msg)
	if z.fr == nil {
		z.fr = flate.NewReaderDict(&z.in, w.hist)
	} else if err := z.fr.(flate.Resetter).Reset(&z.in, w.hist); err != nil {
		return nil, err
	}
	z.out.Reset()
	z.lim = io.LimitedReader{R: z.fr, N: maxStreamBuffer + 1}
	n, err := z.out.ReadFrom(&z.lim)
	if err != nil {
		return nil, err
	}
	if n > maxStreamBuffer {
		return nil, fmt.Errorf("inflates to more than %d bytes", maxStreamBuffer)
	}
	out := z.out.Bytes()
	// The window for the next message: the last wsWindow bytes sent.
	if len(out) >= wsWindow {
		w.hist = append(w.hist[:0], out[len(out)-wsWindow:]...)
	} else {
		keep := min(len(w.hist), wsWindow-len(out))
		w.hist = append(w.hist[:copy(w.hist, w.hist[len(w.hist)-keep:])], out...)
	}
	return out, nil
}

// wsMessage hands on the SIP message one WebSocket message carries.
func (d *Decoder) wsMessage(key streamKey, s *stream, b []byte) {
	b = trimCRLF(b) // "\r\n\r\n" keep-alives some stacks send as messages
	if len(b) == 0 {
		return
	}
	if !looksLikeSIP(b, &d.start) {
		d.warnAt(s.bufN, ErrMalformed, "WebSocket stream %s -> %s: a message that is not SIP (%q); skipped", key.src, key.dst, snippet(b))
		return
	}
	outer := d.parts
	w := s.ws
	w.parts = append(w.parts[:0], w.upgrade...)
	r := d.tcp.m[streamKey{src: key.dst, dst: key.src}]
	if s.outer != nil {
		r = s.peer()
	}
	if r != nil && r.kind == kindWS {
		w.parts = append(w.parts, r.ws.upgrade...)
	}
	tr := WS
	switch {
	case s.outer != nil:
		tr, d.parts = WSS, d.tlsParts(s, append(w.parts, s.parts...))
	case len(w.parts) > 0 || len(s.parts) > 1:
		w.parts = append(w.parts, s.parts...)
		slices.Sort(w.parts) // in capture order, as Message.Parts says
		d.parts = slices.Compact(w.parts)
	}
	d.sipDatagram(key.src, key.dst, tr, d.curTime, b)
	d.parts = outer
}
