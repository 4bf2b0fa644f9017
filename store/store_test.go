package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/sipflow/sipflow/capture"
	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/internal/synth"
	"github.com/sipflow/sipflow/internal/testfeed"
	"github.com/sipflow/sipflow/media"
)

// storeCalls analyses a capture of testdata/ as sipflow calls does (one
// goroutine), keeping the messages' text.
func storeCalls(t testing.TB, name string) []*correlate.Call {
	t.Helper()
	var calls []*correlate.Call
	corr := correlate.New(correlate.Options{KeepRaw: true, Media: true}, func(c *correlate.Call) { calls = append(calls, c) })
	if err := testfeed.Capture(filepath.Join("..", "testdata", name), corr.Advance, corr.Add, corr.AddDatagram); err != nil {
		t.Fatal(err)
	}
	corr.Flush()
	return calls
}

func storeOpen(t *testing.T, path string, opts Options) *DB {
	t.Helper()
	db, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// storeImport imports calls as one capture.
func storeImport(t *testing.T, db *DB, sha string, calls []*correlate.Call) *Import {
	t.Helper()
	im, err := db.BeginImport(context.Background(), ImportSpec{SHA256: sha, Name: sha + ".pcap", Options: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { im.Close() })
	if _, err := im.AddCalls(context.Background(), calls); err != nil {
		t.Fatal(err)
	}
	return im
}

// TestStoreOpen: a new archive is mode 0600, its migrations are recorded,
// and it opens again without applying them twice.
func TestStoreOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	if _, err := Open(path, Options{}); !errors.Is(err, ErrNoArchive) {
		t.Errorf("opening a missing archive without Create: %v", err)
	}
	db := storeOpen(t, path, Options{Create: true})
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v", fi.Mode().Perm(), err)
	}
	var n, version int
	if err := db.SQL().QueryRow("SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &version); err != nil || n != SchemaVersion() || version != SchemaVersion() {
		t.Errorf("schema_migrations: %d rows, version %d, %v", n, version, err)
	}
	var mode string
	var page int
	db.SQL().QueryRow("PRAGMA journal_mode").Scan(&mode)
	db.SQL().QueryRow("PRAGMA page_size").Scan(&page)
	var fk int
	db.SQL().QueryRow("PRAGMA foreign_keys").Scan(&fk)
	if mode != "wal" || page != pageSize || fk != 1 {
		t.Errorf("journal_mode %s, page_size %d, foreign_keys %d", mode, page, fk)
	}
	db.Close()
	db2 := storeOpen(t, path, Options{})
	if err := db2.SQL().QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != SchemaVersion() {
		t.Errorf("reopened: %d migrations recorded", n)
	}
}

// TestStoreOpenEmptyFile: an empty file is no archive to a query, which
// leaves it as it was (not a byte written), and an archive to be made
// when Create says so.
func TestStoreOpenEmptyFile(t *testing.T) {
	for _, ro := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "empty.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, Options{ReadOnly: ro}); !errors.Is(err, ErrNoArchive) || !strings.Contains(err.Error(), "empty") {
			t.Errorf("read-only %v: opening an empty file: %v", ro, err)
		}
		if b, err := os.ReadFile(path); err != nil || len(b) != 0 {
			t.Errorf("read-only %v: the empty file was written: %d bytes, %v", ro, len(b), err)
		}
		if _, err := os.Stat(path + "-wal"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("read-only %v: a -wal file was made: %v", ro, err)
		}
	}
	path := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	storeOpen(t, path, Options{Create: true}).Close()
	db := storeOpen(t, path, Options{})
	var n int
	if err := db.SQL().QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != SchemaVersion() {
		t.Errorf("an empty file set up by Create: %d migrations, %v", n, err)
	}
}

// TestStoreBackfillToDisplay: an archive of schema version 2 gains the To
// display names of the calls it holds when it is opened (migration 3),
// every batch of them, so that --to finds them as it finds new ones.
func TestStoreBackfillToDisplay(t *testing.T) {
	const n = backfillBatch + backfillBatch/5
	display := func(i int) string { // every third call has none
		if i%3 == 0 {
			return ""
		}
		return fmt.Sprintf("Callee %d", i)
	}
	var frames [][]byte
	for i := range n {
		to := fmt.Sprintf("<sip:%d@pbx.example.net>", 2000+i)
		if d := display(i); d != "" {
			to = `"` + d + `" ` + to
		}
		frames = append(frames, synth.UDP("10.0.0.1:5060", "10.0.0.2:5060", []byte(fmt.Sprintf(
			"MESSAGE sip:x@pbx.example.net SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%d\r\n"+
				"From: <sip:1000@pbx.example.net>;tag=f%d\r\nTo: %s\r\nCall-ID: c%d\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n", i, i, to, i))))
	}
	var pcap bytes.Buffer
	if err := synth.WritePcap(&pcap, layers.LinkTypeEthernet, synth.Times(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), time.Millisecond, frames...)); err != nil {
		t.Fatal(err)
	}
	capPath := filepath.Join(t.TempDir(), "names.pcap")
	if err := os.WriteFile(capPath, pcap.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var calls []*correlate.Call
	corr := correlate.New(correlate.Options{KeepRaw: true}, func(c *correlate.Call) { calls = append(calls, c) })
	if err := testfeed.Capture(capPath, corr.Advance, corr.Add, corr.AddDatagram); err != nil {
		t.Fatal(err)
	}
	corr.Flush()
	if len(calls) != n {
		t.Fatalf("%d calls, want %d", len(calls), n)
	}

	path := filepath.Join(t.TempDir(), "a.db")
	db := storeOpen(t, path, Options{Create: true})
	im := storeImport(t, db, "aa", calls)
	if err := im.Finish(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	// Back to version 2: the columns, their index and the record gone.
	for _, q := range []string{"DROP INDEX calls_to_display", "ALTER TABLE calls DROP COLUMN to_display_key",
		"ALTER TABLE calls DROP COLUMN to_display", "DELETE FROM schema_migrations WHERE version = 3"} {
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	db = storeOpen(t, path, Options{})
	if db.Version() != 3 {
		t.Fatalf("version %d after opening", db.Version())
	}
	got := map[string]string{}
	err := db.Calls(context.Background(), Filter{All: true}, func(c *Call) error {
		got[c.Call.ID] = c.Call.ToDisplay
		return nil
	})
	if err != nil || len(got) != n {
		t.Fatalf("%d calls back, %v", len(got), err)
	}
	for i := range n {
		if id := fmt.Sprintf("c%d", i); got[id] != display(i) {
			t.Errorf("call %s: to_display %q, want %q", id, got[id], display(i))
		}
	}
	for _, to := range []string{"callee 1", "CALLEE 1199", "Callee 3", "allee"} {
		want := 0
		for i := range n {
			if d := display(i); d != "" && strings.HasPrefix(strings.ToLower(d), strings.ToLower(to)) {
				want++
			}
		}
		if c, err := db.Count(context.Background(), Filter{All: true, To: to}); err != nil || c != want || want == 0 && to != "allee" {
			t.Errorf("--to %q: %d calls, want %d (%v)", to, c, want, err)
		}
	}
}

// TestStoreNewer: an archive whose schema is newer than this sipflow's is
// refused, read-only or not, and its file is not touched.
func TestStoreNewer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	db := storeOpen(t, path, Options{Create: true})
	if _, err := db.SQL().Exec("INSERT INTO schema_migrations VALUES (?, 'future', 0)", SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)
	for _, ro := range []bool{false, true} {
		if _, err := Open(path, Options{ReadOnly: ro}); !errors.Is(err, ErrNewer) {
			t.Errorf("read-only %v: %v", ro, err)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("the file changed")
	}
}

// TestStoreNotArchive: another program's SQLite file, and a file that is
// not SQLite at all, are refused.
func TestStoreNotArchive(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.db")
	raw, err := sql.Open("sqlite3", other)
	if err != nil {
		t.Fatal(err)
	}
	raw.Exec("CREATE TABLE t (x)")
	raw.Close()
	text := filepath.Join(dir, "text.db")
	os.WriteFile(text, bytes.Repeat([]byte("not a database "), 100), 0o600)
	for _, p := range []string{other, text, dir} {
		if _, err := Open(p, Options{}); !errors.Is(err, ErrNotArchive) {
			t.Errorf("%s: %v", filepath.Base(p), err)
		}
	}
}

// TestStoreReadOnly: a write-protected archive opens for queries; an import
// into it fails with ErrReadOnly.
func TestStoreReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	db := storeOpen(t, path, Options{Create: true})
	storeImport(t, db, "aa", storeCalls(t, "call_busy.pcap"))
	db.Close()
	os.Chmod(path, 0o400)
	defer os.Chmod(path, 0o600)
	ro := storeOpen(t, path, Options{})
	if n, err := ro.Count(context.Background(), Filter{}); err != nil || n != 1 {
		t.Errorf("count: %d %v", n, err)
	}
	if _, err := ro.BeginImport(context.Background(), ImportSpec{SHA256: "bb"}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("import into a read-only archive: %v", err)
	}
}

// TestStoreFull: a write that does not fit fails with ErrFull and leaves
// the archive as it was before the transaction.
func TestStoreFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	db := storeOpen(t, path, Options{Create: true})
	db.Close()
	small := storeOpen(t, path, Options{MaxPages: 20})
	im, err := small.BeginImport(context.Background(), ImportSpec{SHA256: "aa", Options: "x"})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	calls := storeCalls(t, "call_rtp.pcap")
	var pkts []Packet
	for i := 1; i < 2000; i++ {
		pkts = append(pkts, Packet{N: i, Time: time.Unix(int64(i), 0), Link: capture.LinkEthernet, Data: bytes.Repeat([]byte{byte(i)}, 1400)})
	}
	if _, err := im.AddCalls(context.Background(), calls); err != nil {
		t.Fatal(err)
	}
	if err := im.AddPackets(context.Background(), pkts); !errors.Is(err, ErrFull) {
		t.Fatalf("AddPackets beyond the cap: %v", err)
	}
	var n int
	small.SQL().QueryRow("SELECT count(*) FROM packets").Scan(&n)
	if n != 0 {
		t.Errorf("%d packets stored by a failed transaction", n)
	}
}

// TestStoreSummaryRoundTrip: every exported field of a call's summary comes
// back from the archive as correlate computed it (a new field of
// correlate.Call that the archive does not keep fails here).
func TestStoreSummaryRoundTrip(t *testing.T) {
	db := storeOpen(t, filepath.Join(t.TempDir(), "a.db"), Options{Create: true})
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "*.pcap"))
	if len(files) < 10 {
		t.Fatalf("%d test captures found: the round trip would check next to nothing", len(files))
	}
	for _, f := range files {
		calls := storeCalls(t, filepath.Base(f))
		im := storeImport(t, db, filepath.Base(f), calls)
		var got []*Call
		err := db.Calls(context.Background(), Filter{All: true, Captures: []int64{im.Capture.ID}}, func(c *Call) error {
			got = append(got, c)
			return nil
		})
		if err != nil || len(got) != len(calls) {
			t.Fatalf("%s: %d calls back, %v", f, len(got), err)
		}
		for j, c := range calls {
			want := *c
			want.Legs = nil
			have := *got[j].Call
			if err := sameExported(want, have); err != nil {
				t.Errorf("%s call %d: %v", filepath.Base(f), j, err)
			}
		}
	}
}

// TestStoreURIKey: what --from and --to match.
func TestStoreURIKey(t *testing.T) {
	for uri, want := range map[string]string{
		"sip:alice@example.com":                  "alice",
		"sip:+4420123@gw.example.com;user=phone": "4420123",
		"tel:+4420123;phone-context=x":           "4420123",
		"sips:Bob@x":                             "bob",
		"sip:127.0.15.2:5060":                    "127.0.15.2:5060",
		"sip:host;transport=tcp":                 "host",
		"":                                       "",
	} {
		if got := URIKey(uri); got != want {
			t.Errorf("URIKey(%q) = %q, want %q", uri, got, want)
		}
	}
}

// TestStoreMatchExpr: search text becomes an FTS phrase whatever it holds.
func TestStoreMatchExpr(t *testing.T) {
	for in, want := range map[string]string{
		"Asterisk PBX":      `"Asterisk PBX*"`,
		`a" OR x NEAR y -z`: `"a OR x NEAR y z"`,
		"alice@example.com": `"alice example com*"`,
		"Müller 42":         `"Müller 42"`,
		"PBX 17.0":          `"PBX 17 0"`,
		"*":                 "",
	} {
		got, err := matchExpr(in)
		if want == "" {
			if !errors.Is(err, ErrBadText) {
				t.Errorf("%q: %q %v", in, got, err)
			}
			continue
		}
		if got != want {
			t.Errorf("matchExpr(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStorePacketSet: SIP packets by number, RTP by 5-tuple and SSRC within
// the stream's packets, RTCP muxed or on the next ports.
func TestStorePacketSet(t *testing.T) {
	s := NewPacketSet()
	for _, n := range []int{1, 5, 64, 65, 1000} {
		s.AddSIP(n)
	}
	s.AddSIP(5)
	if s.SIPCount() != 5 || !s.SIP(64) || s.SIP(63) || s.SIP(0) || s.SIP(100000) {
		t.Errorf("SIP bits wrong: count %d", s.SIPCount())
	}
	src, dst := netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("10.0.0.2:6000")
	st := &media.Stream{Key: media.StreamKey{Src: src, Dst: dst, SSRC: 0x11223344}, FirstN: 10, LastN: 20}
	s.AddStream(7, st)
	rtp := []byte{0x80, 8, 0, 1, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44, 0xd5}
	if id, ok := s.Stream(15, src, dst, rtp); !ok || id != 7 {
		t.Errorf("RTP of the stream: %d %v", id, ok)
	}
	if _, ok := s.Stream(21, src, dst, rtp); ok {
		t.Errorf("RTP after the stream's last packet taken")
	}
	other := append([]byte(nil), rtp...)
	other[11] = 0x45
	if _, ok := s.Stream(15, src, dst, other); ok {
		t.Errorf("RTP of another SSRC taken")
	}
	sr := []byte{0x80, 200, 0, 6, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	next := func(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr(), a.Port()+1) }
	if id, ok := s.Stream(12, next(src), next(dst), sr); !ok || id != 7 {
		t.Errorf("RTCP on the next ports: %d %v", id, ok)
	}
	if id, ok := s.Stream(12, src, dst, sr); !ok || id != 7 {
		t.Errorf("muxed RTCP: %d %v", id, ok)
	}
}

// TestStoreResume: AddCalls skips calls stored already, and a resumed
// import knows the packets its stored calls need.
func TestStoreResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	db := storeOpen(t, path, Options{Create: true})
	calls := storeCalls(t, "call_rtp.pcap")
	im := storeImport(t, db, "aa", calls)
	want := im.Set.SIPCount()
	im.Close()
	im2, err := db.BeginImport(context.Background(), ImportSpec{SHA256: "aa", Options: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer im2.Close()
	if !im2.Resumed || im2.Set.SIPCount() != want || !im2.Set.HasStreams() || im2.Capture.DoneSeq != calls[len(calls)-1].Seq {
		t.Errorf("resumed %v, %d SIP packets (want %d), streams %v, done %d", im2.Resumed, im2.Set.SIPCount(), want, im2.Set.HasStreams(), im2.Capture.DoneSeq)
	}
	if n, err := im2.AddCalls(context.Background(), calls); err != nil || n != 0 {
		t.Errorf("storing the same calls again stored %d, %v", n, err)
	}
	// Other options: the unfinished import starts over.
	im3, err := db.BeginImport(context.Background(), ImportSpec{SHA256: "aa", Options: "other"})
	if err != nil {
		t.Fatal(err)
	}
	defer im3.Close()
	if im3.Resumed || im3.Set.SIPCount() != 0 {
		t.Errorf("an import with other options resumed")
	}
	if n, _ := db.Count(context.Background(), Filter{All: true}); n != 0 {
		t.Errorf("%d calls left from the discarded import", n)
	}
}

// sameExported compares the exported fields of two values, recursively.
func sameExported(a, b any) error {
	var da, db strings.Builder
	dumpExported(reflect.ValueOf(a), "", &da)
	dumpExported(reflect.ValueOf(b), "", &db)
	if da.String() != db.String() {
		al, bl := strings.Split(da.String(), "\n"), strings.Split(db.String(), "\n")
		for i := range min(len(al), len(bl)) {
			if al[i] != bl[i] {
				return fmt.Errorf("differs at %s, archived as %s", al[i], bl[i])
			}
		}
		return fmt.Errorf("%d fields, archived %d", len(al), len(bl))
	}
	return nil
}

func dumpExported(v reflect.Value, prefix string, b *strings.Builder) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			fmt.Fprintf(b, "%s=nil\n", prefix)
			return
		}
		dumpExported(v.Elem(), prefix, b)
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			fmt.Fprintf(b, "%s=%s\n", prefix, t.Format(time.RFC3339Nano))
			return
		}
		if s, ok := v.Interface().(fmt.Stringer); ok {
			fmt.Fprintf(b, "%s=%s\n", prefix, s)
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				dumpExported(v.Field(i), prefix+"."+f.Name, b)
			}
		}
	case reflect.Slice:
		fmt.Fprintf(b, "%s=nil:%v len %d\n", prefix, v.IsNil(), v.Len())
		for i := 0; i < v.Len(); i++ {
			dumpExported(v.Index(i), fmt.Sprintf("%s[%d]", prefix, i), b)
		}
	default:
		fmt.Fprintf(b, "%s=%#v\n", prefix, v.Interface())
	}
}

// TestStorePacketSetAsScanned: Stream, its streams looked up by 5-tuple
// and SSRC, answers what a scan of every stream added on the 5-tuple, in
// order, answers (the set before), for random streams (thousands of
// SSRCs on a few 5-tuples, ranges that overlap, T.38 among them) and
// random datagrams: RTP, RTCP muxed or on the next ports, UDPTL, noise.
func TestStorePacketSetAsScanned(t *testing.T) {
	type added struct {
		id          int64
		src, dst    netip.AddrPort
		ssrc        uint32
		first, last int
		fax         bool
	}
	// scan is the set before: one list per 5-tuple, the fax streams
	// first for any datagram, then the first of the SSRC in range.
	scan := func(all []added, n int, src, dst netip.AddrPort, payload []byte) (int64, bool) {
		match := func(src, dst netip.AddrPort, ssrc uint32) (int64, bool) {
			for _, w := range all {
				if w.src == src && w.dst == dst && w.ssrc == ssrc && n >= w.first && n <= w.last {
					return w.id, true
				}
			}
			return 0, false
		}
		for _, w := range all {
			if w.src == src && w.dst == dst && w.fax && n >= w.first && n <= w.last {
				return w.id, true
			}
		}
		if len(payload) < 8 || payload[0]>>6 != 2 {
			return 0, false
		}
		if decode.LooksLikeRTCP(payload) {
			ssrc := binary.BigEndian.Uint32(payload[4:8])
			if id, ok := match(src, dst, ssrc); ok {
				return id, true
			}
			return match(netip.AddrPortFrom(src.Addr(), src.Port()-1), netip.AddrPortFrom(dst.Addr(), dst.Port()-1), ssrc)
		}
		if len(payload) < 12 {
			return 0, false
		}
		return match(src, dst, binary.BigEndian.Uint32(payload[8:12]))
	}
	r := rand.New(rand.NewPCG(5, 6))
	addr := func() netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(1 + r.IntN(2))}), uint16(4000+r.IntN(3)))
	}
	s := NewPacketSet()
	var all []added
	for i := range 3000 {
		first := r.IntN(5000)
		a := added{id: int64(i + 1), src: addr(), dst: addr(), ssrc: uint32(r.IntN(100)), first: first, last: first + r.IntN(3000), fax: r.IntN(50) == 0}
		all = append(all, a)
		st := &media.Stream{Key: media.StreamKey{Src: a.src, Dst: a.dst, SSRC: a.ssrc}, FirstN: a.first, LastN: a.last}
		if a.fax {
			st.Fax = &media.Fax{}
		}
		s.AddStream(a.id, st)
	}
	found := 0
	for range 20000 {
		n, src, dst := r.IntN(5400), addr(), addr()
		var p []byte
		switch r.IntN(4) {
		case 0: // RTP
			p = make([]byte, 20)
			p[0], p[1] = 0x80, 0
			binary.BigEndian.PutUint32(p[8:], uint32(r.IntN(100)))
		case 1: // RTCP sender report
			p = make([]byte, 28)
			p[0], p[1], p[3] = 0x80, 200, 6
			binary.BigEndian.PutUint32(p[4:], uint32(r.IntN(100)))
		case 2: // UDPTL, or anything not RTP
			p = []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}
		default: // too short
			p = []byte{0x80, 0}
		}
		id, ok := s.Stream(n, src, dst, p)
		wid, wok := scan(all, n, src, dst, p)
		if id != wid || ok != wok {
			t.Fatalf("packet %d %v>%v % x: Stream %d %v, the scan %d %v", n, src, dst, p[:min(len(p), 12)], id, ok, wid, wok)
		}
		if ok {
			found++
		}
	}
	if found < 1500 {
		t.Fatalf("only %d of 20,000 datagrams matched a stream: the test checks too little", found)
	}
}

// TestReplayOrderAsScanned: replayOrder, a heap of the legs' next
// messages, gives the order the scan it replaced gave (at each step the
// leg whose next message has the lowest packet number, the first leg on
// a tie), for random legs: packet numbers out of order within a leg (a
// message reassembled late), ties across legs, empty legs.
func TestReplayOrderAsScanned(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		legs := make([][]storedMessage, 1+r.IntN(40))
		for li := range legs {
			if r.IntN(5) == 0 {
				continue // a leg with nothing stored
			}
			n := r.IntN(100)
			for range r.IntN(30) {
				n += r.IntN(6) - 1 // mostly up, sometimes back, ties
				legs[li] = append(legs[li], storedMessage{n: n})
			}
		}
		var want []*storedMessage
		pos := make([]int, len(legs))
		for {
			next := -1
			for li, ms := range legs {
				if pos[li] < len(ms) && (next < 0 || ms[pos[li]].n < legs[next][pos[next]].n) {
					next = li
				}
			}
			if next < 0 {
				break
			}
			want = append(want, &legs[next][pos[next]])
			pos[next]++
		}
		if got := replayOrder(legs); !slices.Equal(got, want) {
			t.Fatalf("round %d: %d legs: the heap's order differs from the scan's", round, len(legs))
		}
	}
}

// BenchmarkPacketSetStream: the question archive and export ask of every
// UDP datagram, on a 5-tuple with one stream and with 32,000 (a call
// whose SSRC changes every three packets). The time per datagram must not
// grow with the streams: the set looks them up by 5-tuple and SSRC.
func BenchmarkPacketSetStream(b *testing.B) {
	src, dst := netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("10.0.0.2:4000")
	for _, streams := range []int{1, 32000} {
		b.Run(fmt.Sprintf("streams-%d", streams), func(b *testing.B) {
			s := NewPacketSet()
			for i := range streams {
				s.AddStream(int64(i+1), &media.Stream{Key: media.StreamKey{Src: src, Dst: dst, SSRC: uint32(1000 + i)}, FirstN: 3 * i, LastN: 3*i + 2})
			}
			pkts := make([][]byte, 3*streams)
			for n := range pkts {
				pkts[n] = synth.RTP(0, uint16(n), uint32(160*n), uint32(1000+n/3), 160)
			}
			b.SetBytes(172)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, ok := s.Stream(n, src, dst, pkts[n]); !ok {
					b.Fatalf("packet %d: no stream", n)
				}
				n = (n + 1) % len(pkts)
			}
		})
	}
}

// BenchmarkReplayOrder: the order a replay gives a call's stored messages
// to correlate, for a call of two legs and one of 32,000 linked legs
// (three messages each). The time per message grows with the log of the
// legs, not with the legs: their next messages are kept in a heap.
func BenchmarkReplayOrder(b *testing.B) {
	raw := bytes.Repeat([]byte("x"), 500) // a stored message's size; replayOrder reads only its packet number
	for _, n := range []int{2, 32000} {
		b.Run(fmt.Sprintf("legs-%d", n), func(b *testing.B) {
			legs := make([][]storedMessage, n)
			for li := range legs {
				for k := range 3 {
					legs[li] = append(legs[li], storedMessage{n: 1 + 3*li + k, raw: raw})
				}
			}
			b.SetBytes(int64(3 * n * len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if got := replayOrder(legs); len(got) != 3*n {
					b.Fatalf("%d messages", len(got))
				}
			}
			b.ReportMetric(float64(3*n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// TestStoreConcurrentCounts: two imports of the same file at once (two
// sipflow archive processes) each store part of its calls; whichever
// finishes reports the capture as the archive holds it, not its own part.
func TestStoreConcurrentCounts(t *testing.T) {
	ctx := context.Background()
	db := storeOpen(t, filepath.Join(t.TempDir(), "a.db"), Options{Create: true})
	calls := storeCalls(t, "call_rtp.pcap")
	calls = append(calls, storeCalls(t, "call_hold.pcap")...)
	for i, c := range calls {
		c.Seq = i + 1
	}
	spec := ImportSpec{SHA256: "aa", Name: "a.pcap", Options: "test"}
	a, err := db.BeginImport(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := db.BeginImport(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.AddCalls(ctx, calls[:1]); err != nil {
		t.Fatal(err)
	}
	if n, err := b.AddCalls(ctx, calls); err != nil || n != len(calls)-1 {
		t.Fatalf("the second import stored %d calls, %v", n, err)
	}
	if err := b.Finish(ctx, ""); err != nil {
		t.Fatal(err)
	}
	var msgs int64
	for _, c := range calls {
		msgs += int64(len(c.Messages()))
	}
	if c := b.Capture; c.Calls != int64(len(calls)) || c.Messages != msgs || !c.Complete {
		t.Errorf("reported %d calls, %d messages, complete %v; the archive holds %d, %d", c.Calls, c.Messages, c.Complete, len(calls), msgs)
	}
}

// TestStoreFilterFoldsUnicode: --from and --to ignore the case of letters
// beyond ASCII in a URI's user part, as 'sipflow calls' does (SQLite's
// lower() folds ASCII only).
func TestStoreFilterFoldsUnicode(t *testing.T) {
	ctx := context.Background()
	db := storeOpen(t, filepath.Join(t.TempDir(), "a.db"), Options{Create: true})
	calls := storeCalls(t, "call_rtp.pcap")
	c := calls[0]
	c.From, c.FromDisplay = "sip:ÉRIC@127.0.10.1:5060", ""
	c.To, c.ToDisplay = "sip:Ünal@127.0.10.2:5060", ""
	storeImport(t, db, "aa", calls[:1])
	for _, tc := range []struct {
		f    Filter
		want int
	}{
		{Filter{From: "ÉRIC"}, 1},
		{Filter{From: "éric"}, 1},
		{Filter{From: "Ér"}, 1},
		{Filter{From: "eric"}, 0},
		{Filter{From: "éric@127.0.10.9"}, 0},
		{Filter{From: "éric@127.0.10.1"}, 1},
		{Filter{From: "ÉRIC@127.0.10.1:5060"}, 1},
		{Filter{From: "sip:éric"}, 1},
		{Filter{To: "ÜNAL"}, 1},
		{Filter{To: "Ünal@127.0.10.2"}, 1},
		{Filter{To: "ünal"}, 1},
		{Filter{To: "unal"}, 0},
	} {
		if n, err := db.Count(ctx, tc.f); err != nil || n != tc.want {
			t.Errorf("%+v: %d calls (want %d), %v", tc.f, n, tc.want, err)
		}
	}
}

// TestStoreStartedOver: an import whose capture another import of the same
// file, with other options, deleted to start over says so, by a sentinel
// error, rather than failing on a foreign key; packets and Finish too.
func TestStoreStartedOver(t *testing.T) {
	ctx := context.Background()
	db := storeOpen(t, filepath.Join(t.TempDir(), "a.db"), Options{Create: true})
	calls := storeCalls(t, "call_rtp.pcap")
	a := storeImport(t, db, "aa", calls[:0])
	b, err := db.BeginImport(ctx, ImportSpec{SHA256: "aa", Name: "aa.pcap", Options: "other"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for name, f := range map[string]func() error{
		"calls":   func() error { _, err := a.AddCalls(ctx, calls); return err },
		"packets": func() error { return a.AddPackets(ctx, []Packet{{N: 1, Data: []byte{1}}}) },
		"finish":  func() error { return a.Finish(ctx, "") },
	} {
		if err := f(); !errors.Is(err, ErrStartedOver) {
			t.Errorf("%s: %v, want ErrStartedOver", name, err)
		}
	}
	if n, _ := db.Count(ctx, Filter{All: true}); n != 0 {
		t.Errorf("%d calls stored under a capture that is gone", n)
	}
}
