package capture

import (
	"io"
	"sync"
)

// prefetcher reads ahead of the Reader in its own goroutine, so that the
// read system calls (and gzip decompression) of one chunk overlap the
// decoding of the previous one: on a two-core machine the file costs the
// decoding goroutine little more than a memory copy.
//
// Data and errors come out in the order the source gave them. Close stops
// the goroutine; one blocked in a Read of the source (a pipe) ends when that
// Read returns.
type prefetcher struct {
	src  io.Reader
	full chan chunk
	free chan []byte
	done chan struct{}
	stop sync.Once

	cur, curBuf []byte
	err         error
}

type chunk struct {
	b   []byte
	err error
}

const (
	prefetchChunk = 1 << 20
	prefetchDepth = 4
)

func newPrefetcher(src io.Reader) *prefetcher {
	p := &prefetcher{
		src:  src,
		full: make(chan chunk, prefetchDepth),
		free: make(chan []byte, prefetchDepth+1),
		done: make(chan struct{}),
	}
	for i := 0; i < prefetchDepth+1; i++ {
		p.free <- make([]byte, prefetchChunk)
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
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var m int
			m, err = p.src.Read(buf[n:])
			n += m
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

func (p *prefetcher) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.curBuf != nil {
			p.free <- p.curBuf[:cap(p.curBuf)]
			p.curBuf = nil
		}
		if p.err != nil {
			return 0, p.err
		}
		c := <-p.full
		p.curBuf, p.cur, p.err = c.b, c.b, c.err
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

func (p *prefetcher) Close() { p.stop.Do(func() { close(p.done) }) }
