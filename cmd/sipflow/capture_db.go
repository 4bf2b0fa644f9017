package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/internal/pcapw"
	"github.com/sipflow/sipflow/store"
)

// archive keeps every call that a live capture finishes (--db).
//
// add is called from the capture pipeline for every finished call, of every
// kind, whatever the display filters; it never blocks. close is called
// once, after the last call (every call still open has been finished by
// then) and after the capture files are closed: it stores what is left,
// then the packets of the stored calls, read back from those files.
type archive interface {
	add(c *correlate.Call)
	close(files []pcapw.File, damage string) error
	// result says what was stored, for the summary line.
	result() string
}

// liveArchiveEvery is how often calls go to the archive, at most (a batch
// is one transaction): a crash loses at most this much.
const liveArchiveEvery = time.Second

// storeArchive is the archive of `sipflow capture --db`: a capture of the
// store, as 'sipflow archive' makes for a file, named after the -w file or
// the interfaces and the time. Calls are stored as they finish, from a
// goroutine of their own, in batches; the packets they need (their SIP
// messages' and their RTP streams') are stored when the capture ends, read
// from the -w files (or a spool file beside the archive when there is no
// -w), since a call says which packets it needs only once it is finished.
// With --rotate-files, the packets of files already deleted are not stored
// (their calls are). If sipflow is killed, the calls stored so far stay, in
// a capture left "importing".
type storeArchive struct {
	db *store.DB
	im *store.Import

	mu      sync.Mutex
	pending []*correlate.Call
	err     error
	kick    chan struct{}
	quit    chan struct{}
	done    chan struct{}
}

// openArchive opens (creating it if need be) the archive of --db and starts
// a capture in it. name is what the capture is listed as.
func openArchive(path, name string, copts correlate.Options) (archive, error) {
	db, err := openStore(path, store.Options{Create: true})
	if err != nil {
		return nil, err
	}
	// A live capture has no file to take a SHA-256 of: its identity is
	// random, so every run is a capture of its own.
	var salt [16]byte
	rand.Read(salt[:])
	sum := sha256.Sum256(append(salt[:], name...))
	im, err := db.BeginImport(context.Background(), store.ImportSpec{SHA256: hex.EncodeToString(sum[:]), Name: name,
		Options: analysisOptions(copts), LinkHeaders: copts.LinkHeaders})
	if err != nil {
		db.Close()
		return nil, storeError(err)
	}
	a := &storeArchive{db: db, im: im, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go a.loop()
	return a, nil
}

func (a *storeArchive) add(c *correlate.Call) {
	a.mu.Lock()
	if a.err == nil {
		a.pending = append(a.pending, c)
	}
	full := len(a.pending) >= batchCalls
	a.mu.Unlock()
	if full {
		select {
		case a.kick <- struct{}{}:
		default:
		}
	}
}

func (a *storeArchive) loop() {
	defer close(a.done)
	t := time.NewTicker(liveArchiveEvery)
	defer t.Stop()
	for {
		select {
		case <-a.kick:
		case <-t.C:
		case <-a.quit:
			a.flush()
			return
		}
		a.flush()
	}
}

// flush stores the calls finished since the last one, in one transaction.
func (a *storeArchive) flush() {
	a.mu.Lock()
	b := a.pending
	a.pending = nil
	failed := a.err != nil
	a.mu.Unlock()
	if len(b) == 0 || failed {
		return
	}
	sort.Slice(b, func(i, j int) bool { return b[i].Seq < b[j].Seq })
	if _, err := a.im.AddCalls(context.Background(), b); err != nil {
		a.mu.Lock()
		a.err = err
		a.mu.Unlock()
	}
}

func (a *storeArchive) close(files []pcapw.File, damage string) error {
	close(a.quit)
	<-a.done
	defer a.db.Close()
	defer a.im.Close()
	if a.err != nil {
		return storeError(a.err)
	}
	ctx := context.Background()
	set := a.im.Set
	if set.SIPCount() > 0 || set.HasStreams() {
		err := selectLivePackets(files, set, func(batch []store.Packet) error { return a.im.AddPackets(ctx, batch) })
		if err != nil {
			return storeError(err)
		}
	}
	return storeError(a.im.Finish(ctx, damage))
}

func (a *storeArchive) result() string {
	c := a.im.Capture
	return fmt.Sprintf("%d calls, %d packets archived in %s as capture %d", c.Calls, c.Packets, a.db.Path(), c.ID)
}

// selectLivePackets reads the files of a capture, in order, numbering their
// packets as the capture did (File.First on), and hands the packets set
// wants to flush, in batches of copies valid until flush returns; as
// selectPackets does for one file.
func selectLivePackets(files []pcapw.File, set *store.PacketSet, flush func([]store.Packet) error) error {
	sel := newPacketSelector(set, flush)
	for _, f := range files {
		src, err := capture.Open(f.Name)
		if err != nil {
			return err
		}
		for {
			p, err := src.Next()
			if err != nil {
				break // io.EOF; a file cut short holds what it holds
			}
			p.N += int(f.First) - 1
			if _, err := sel.add(p); err != nil {
				src.Close()
				return err
			}
		}
		src.Close()
	}
	return sel.send()
}

// liveCaptureName is what a live capture is called in the archive: the -w
// file, or the interfaces and the time it started.
func liveCaptureName(o *captureOptions, start time.Time) string {
	if o.write != "" {
		return o.write
	}
	return fmt.Sprintf("live %s %s", strings.Join(o.ifaces, ","), start.UTC().Format("2006-01-02T15:04:05Z"))
}

// spoolPath is a new file beside the archive for the packets of a capture
// archived without -w: the archive stores them from it at the end.
func spoolPath(db string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(db), ".sipflow-live-*.pcap")
	if err != nil {
		return "", err
	}
	f.Close()
	return f.Name(), nil
}
