package main

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
	"github.com/sipflow/sipflow/store"
)

// benchArchiveCalls is the size of the archive the search benchmarks run on.
const benchArchiveCalls = 1_000_000

// benchArchiveVersion changes when the generated archive does: with the
// schema version it names the cached file.
const benchArchiveVersion = 2

var benchStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// benchCall is call i of the generated archive: its Call-ID, calling and
// called numbers. Calls start every 86.4 ms over a day.
func benchCall(i int) (callID, from, to string, start time.Time) {
	r := rand.New(rand.NewSource(int64(i)))
	return fmt.Sprintf("%016x-%d@pbx%d.example.net", r.Uint64(), i, i%7),
		fmt.Sprintf("+4420%08d", (i*7919)%100_000_000),
		fmt.Sprintf("1%09d", r.Intn(1_000_000_000)),
		benchStart.Add(time.Duration(i) * 86400 * time.Microsecond)
}

// benchArchive returns an archive of a million calls, built once and kept
// in the temporary folder (named by schema version), since building it
// takes a few minutes.
func benchArchive(b *testing.B) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("sipflow-archive-bench-search-v%d-%d-%d.db", store.SchemaVersion(), benchArchiveVersion, benchArchiveCalls))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	b.Logf("building %s (once)", path)
	start := time.Now()
	tmp := path + ".building"
	os.Remove(tmp)
	db, err := store.Open(tmp, store.Options{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	im, err := db.BeginImport(ctx, store.ImportSpec{SHA256: "bench", Name: "generated", Options: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	var batch []*correlate.Call
	var failed error
	corr := correlate.New(correlate.Options{KeepRaw: true, Linger: time.Millisecond}, func(c *correlate.Call) {
		batch = append(batch, c)
		if len(batch) == batchCalls && failed == nil {
			_, failed = im.AddCalls(ctx, batch)
			batch = nil
		}
	})
	var m decode.Message
	caller, callee := netip.MustParseAddrPort("10.1.0.1:5060"), netip.MustParseAddrPort("10.2.0.1:5060")
	for i := 0; i < benchArchiveCalls; i++ {
		callID, from, to, t := benchCall(i)
		// INVITE, then 486 Busy Here or 200 OK, ACK, BYE, 200 OK.
		answered := i%3 != 0
		msgs := []string{benchSIP("INVITE sip:"+to+"@gw.example.net SIP/2.0", callID, from, to, "", 1, "INVITE", i)}
		if answered {
			msgs = append(msgs, benchSIP("SIP/2.0 200 OK", callID, from, to, "b", 1, "INVITE", i),
				benchSIP("ACK sip:"+to+"@gw.example.net SIP/2.0", callID, from, to, "b", 1, "ACK", i),
				benchSIP("BYE sip:"+to+"@gw.example.net SIP/2.0", callID, from, to, "b", 2, "BYE", i),
				benchSIP("SIP/2.0 200 OK", callID, from, to, "b", 2, "BYE", i))
		} else {
			msgs = append(msgs, benchSIP("SIP/2.0 486 Busy Here", callID, from, to, "b", 1, "INVITE", i))
		}
		for j, raw := range msgs {
			if err := decode.ParseSIP([]byte(raw), &m); err != nil {
				b.Fatal(err)
			}
			m.N, m.Time, m.Transport = i*5+j+1, t.Add(time.Duration(j)*10*time.Millisecond), decode.UDP
			m.Src, m.Dst = caller, callee
			if strings.HasPrefix(raw, "SIP/2.0") {
				m.Src, m.Dst = callee, caller
			}
			corr.Add(&m)
		}
	}
	corr.Flush()
	if failed == nil && len(batch) > 0 {
		_, failed = im.AddCalls(ctx, batch)
	}
	if failed == nil {
		failed = im.Finish(ctx, "")
	}
	im.Close()
	db.Close()
	if failed != nil {
		b.Fatal(failed)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	os.Rename(tmp+"-wal", path+"-wal")
	os.Remove(tmp + "-shm")
	b.Logf("built in %v", time.Since(start).Round(time.Second))
	return path
}

func benchSIP(start, callID, from, to, toTag string, cseq int, method string, i int) string {
	tag := ""
	if toTag != "" {
		tag = ";tag=" + toTag + fmt.Sprint(i)
	}
	return start + "\r\nVia: SIP/2.0/UDP 10.1.0.1:5060;branch=z9hG4bK" + fmt.Sprint(i, "-", cseq, method) +
		"\r\nFrom: \"Caller " + fmt.Sprint(i%1000) + "\" <sip:" + from + "@pbx.example.net>;tag=a" + fmt.Sprint(i) +
		"\r\nTo: <sip:" + to + "@gw.example.net>" + tag + "\r\nCall-ID: " + callID +
		"\r\nCSeq: " + fmt.Sprint(cseq) + " " + method + "\r\nUser-Agent: PBX " + fmt.Sprint(i%50) + ".0\r\nContent-Length: 0\r\n\r\n"
}

// BenchmarkSearch: search by Call-ID, by number and by time range on an
// archive of a million calls, as the command runs them (opening the
// archive, the query, the calls' findings and legs, the JSON). Each must
// take under 50 ms.
//
//	go test ./cmd/sipflow -run '^$' -bench Search -benchtime 20x
func BenchmarkSearch(b *testing.B) {
	db := benchArchive(b)
	callID, from, _, t := benchCall(617_283)
	for _, bc := range []struct {
		name string
		args []string
		want int
	}{
		{"call-id", []string{"--call-id", callID}, 1},
		{"number", []string{"--from", from}, -1},
		{"time-range", []string{"--since", t.Format(time.RFC3339), "--until", t.Add(time.Minute).Format(time.RFC3339)}, -1},
		{"text", []string{"--text", strings.TrimPrefix(from, "+")}, -1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var out countWriter
			args := append([]string{"search", "--db", db, "--json"}, bc.args...)
			for i := 0; i < b.N; i++ {
				out.n = 0
				if code := run(args, nil, &out, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
			if out.n == 0 || bc.want > 0 && out.n != bc.want {
				b.Fatalf("%d calls found", out.n)
			}
			b.ReportMetric(float64(out.n), "calls")
			if per := b.Elapsed() / time.Duration(b.N); per > 50*time.Millisecond {
				b.Errorf("%v per search, more than 50 ms", per)
			}
		})
	}
}

// countWriter counts lines.
type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += strings.Count(string(p), "\n")
	return len(p), nil
}
