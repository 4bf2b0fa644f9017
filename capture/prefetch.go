package capture

import (
	"io"
	"sync"
)

// prefetcher reads ahead of the Reader in its own goroutine, so that the
// read system calls (and gzip decompression) of one chunk overlap the
// decoding of the previous one. The Reader takes the filled chunks
// themselves (take) and gives each back (give) once it has moved on: the
// bytes are read into memory once and never copied again, except the few
// of a record cut by a chunk's end, which go into the next chunk's
// headroom, in front of its data.
//
// Data and errors come out in the order the source gave them. Close stops
// the goroutine; one blocked in a Read of the source (a pipe) ends when that
// Read returns.
type prefetcher struct {
	src      io.Reader
	headroom int
	full     chan chunk
	free     chan []byte
	done     chan struct{}
	stop     sync.Once
	err      error // the error that ended the stream, once take has returned it
}

type chunk struct {
	b   []byte // headroom, then the data read
	err error
}

const (
	prefetchDepth = 4
	// prefetchHeadroom holds the start of a record cut by a chunk's end (a
	// packet or a pcapng block: almost always far smaller). A longer one
	// is copied into a buffer of its own.
	prefetchHeadroom = 64 << 10
)

// newPrefetcher reads src in chunks of size bytes, each after headroom
// free bytes.
func newPrefetcher(src io.Reader, size, headroom int) *prefetcher {
	p := &prefetcher{
		src:      src,
		headroom: headroom,
		full:     make(chan chunk, prefetchDepth),
		free:     make(chan []byte, prefetchDepth+2),
		done:     make(chan struct{}),
	}
	for i := 0; i < prefetchDepth+2; i++ {
		p.free <- make([]byte, headroom+size)
	}
	go p.run()
	return p
}

func (p *prefetcher) run() {
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.done:
			return
		}
		n := p.headroom
		var err error
		for empty := 0; n < len(buf) && err == nil; {
			var m int
			m, err = p.src.Read(buf[n:])
			n += m
			if m > 0 {
				empty = 0
			} else if empty++; empty >= 100 && err == nil {
				err = io.ErrNoProgress // a source that neither gives data nor fails
			}
		}
		select {
		case p.full <- chunk{b: buf[:n], err: err}:
		case <-p.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// take returns the next chunk: headroom bytes, then the data (possibly
// none), and the error that ended the stream after that data, if any.
// Once an error has been returned, take returns it again with no data.
func (p *prefetcher) take() ([]byte, error) {
	if p.err != nil {
		return nil, p.err
	}
	c := <-p.full
	p.err = c.err
	return c.b, c.err
}

// give hands back a chunk that take returned, for reading into again.
func (p *prefetcher) give(b []byte) {
	select {
	case p.free <- b[:cap(b)]:
	default: // cannot happen: there are as many free slots as chunks
	}
}

func (p *prefetcher) Close() { p.stop.Do(func() { close(p.done) }) }
