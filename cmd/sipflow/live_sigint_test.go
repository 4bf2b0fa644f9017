package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLiveSIGINTKeepsEverything interrupts a capture on lo with SIGINT
// while calls are open and packets are still flowing, and checks that
// nothing was lost: the exit status is 0, the -w file is whole and holds
// exactly the packets the summary counted, every SIP message sent is in
// it, the calls printed (the open ones finished at the interrupt) are
// those `sipflow calls` finds in the file, and the --db archive holds them
// all, complete, with the packets of every message. Traffic: 127.31.N.1 <->
// 127.31.N.2 only, bounded (a few thousand packets, 2 s at most).
func TestLiveSIGINTKeepsEverything(t *testing.T) {
	requireLiveCapture(t)
	bin := buildSipflow(t)
	// Addresses of this run only: another test process may run it too.
	net3 := os.Getpid()%250 + 1
	A, B := fmt.Sprintf("127.31.%d.1", net3), fmt.Sprintf("127.31.%d.2", net3)
	dir := t.TempDir()
	w, db := filepath.Join(dir, "interrupted.pcap"), filepath.Join(dir, "calls.db")
	cap := startProc(t, "sipflow capture", "capturing on", 30*time.Second,
		bin, "capture", "-i", "lo", "--json", "--all", "-w", w, "--db", db, "--count", "100000", "host", A, "and", "udp")

	listen := func(addr string) *net.UDPConn {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(mustAddrPort(addr)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	ua, ub := listen(A+":5060"), listen(B+":5060")
	ma := listen(A + ":16000")
	listen(B + ":16000") // absorbs the media: no ICMP
	toA, toB := ua.LocalAddr().(*net.UDPAddr), ub.LocalAddr().(*net.UDPAddr)
	sent := 0
	send := func(from *net.UDPConn, to *net.UDPAddr, msg []byte) {
		if _, err := from.WriteToUDP(msg, to); err != nil {
			t.Fatal(err)
		}
		sent++
		time.Sleep(200 * time.Microsecond)
	}
	// 2 completed calls, 5 answered and still up, 3 ringing.
	for i := range 10 {
		id, ft, tt := fmt.Sprintf("sigint-%d@%s", i, A), fmt.Sprintf("f%d", i), fmt.Sprintf("t%d", i)
		br := fmt.Sprintf("inv%d", i)
		send(ua, toB, sipMsg(A, "INVITE sip:bob@"+B+" SIP/2.0", id, ft, "", br, 1, "INVITE", ""))
		send(ub, toA, sipMsg(A, "SIP/2.0 100 Trying", id, ft, "", br, 1, "INVITE", ""))
		send(ub, toA, sipMsg(A, "SIP/2.0 180 Ringing", id, ft, tt, br, 1, "INVITE", ""))
		if i >= 7 {
			continue // ringing
		}
		send(ub, toA, sipMsg(A, "SIP/2.0 200 OK", id, ft, tt, br, 1, "INVITE", ""))
		send(ua, toB, sipMsg(A, "ACK sip:bob@"+B+" SIP/2.0", id, ft, tt, fmt.Sprintf("ack%d", i), 1, "ACK", ""))
		if i < 2 {
			send(ua, toB, sipMsg(A, "BYE sip:bob@"+B+" SIP/2.0", id, ft, tt, fmt.Sprintf("bye%d", i), 2, "BYE", ""))
			send(ub, toA, sipMsg(A, "SIP/2.0 200 OK", id, ft, tt, fmt.Sprintf("bye%d", i), 2, "BYE", ""))
		}
	}
	// Media keeps flowing while the capture is interrupted.
	var stopMedia atomic.Bool
	var mediaSent atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		payload := make([]byte, 172)
		deadline := time.Now().Add(10 * time.Second)
		for !stopMedia.Load() && time.Now().Before(deadline) {
			ma.WriteToUDP(payload, &net.UDPAddr{IP: net.ParseIP(B), Port: 16000})
			mediaSent.Add(1)
			time.Sleep(time.Millisecond)
		}
	}()
	// Interrupt once some media went by (a loaded machine sends it slower
	// than the 1 ms sleep says), while more is still coming.
	for wait := time.Now().Add(8 * time.Second); mediaSent.Load() < 150 && time.Now().Before(wait); {
		time.Sleep(10 * time.Millisecond)
	}
	cap.stop(t, os.Interrupt, 15*time.Second)
	stopMedia.Store(true)
	wg.Wait()

	if cap.err != nil {
		t.Fatalf("exit: %v\n%s", cap.err, cap.Stderr())
	}
	n := summaryPackets(t, cap.Stderr())
	t.Logf("%d SIP messages sent; %s", sent, strings.TrimSpace(cap.Stderr()))
	if !strings.Contains(cap.Stderr(), fmt.Sprintf("; %d packets written to %s", n, w)) {
		t.Errorf("summary: %s", cap.Stderr())
	}
	if got := len(readPackets(t, w)); got != n || n < sent+100 {
		t.Fatalf("-w file: %d packets; summary %d; %d SIP messages sent and media", got, n, sent)
	}
	msgs, errs, code := sipflow(t, nil, "messages", "--json", w)
	if code != 0 || strings.Count(msgs, "\n") != sent {
		t.Errorf("the file holds %d SIP messages, want %d (exit %d %s)", strings.Count(msgs, "\n"), sent, code, errs)
	}
	want, errs, code := sipflow(t, nil, "calls", "--json", "--all", w)
	if code != 0 {
		t.Fatalf("calls: exit %d: %s", code, errs)
	}
	if got, exp := sortedLines(cap.stdout.String()), sortedLines(want); !slices.Equal(got, exp) {
		t.Errorf("capture printed:\n%s\ncalls on its file:\n%s", strings.Join(got, "\n"), strings.Join(exp, "\n"))
	}
	// The archive: every call, complete, with the packets of their messages.
	c, archived := archivedCalls(t, db)
	if !c.Complete || c.Calls != 10 || c.Messages != int64(sent) || c.Packets != int64(sent) || !slices.Equal(archived, sortedLines(want)) {
		t.Errorf("archive: complete %v, %d calls, %d messages, %d packets; want 10 calls, %d messages and packets, and the calls of the file:\n%s",
			c.Complete, c.Calls, c.Messages, c.Packets, sent, strings.Join(archived, "\n"))
	}
	states := map[string]int{}
	for _, c := range parseCalls(t, cap.stdout.String()) {
		states[c.State]++
	}
	if states["completed"] != 2 || states["answered"] != 5 || states["in-progress"] != 3 {
		t.Errorf("states %v, want 2 completed, 5 answered, 3 in-progress", states)
	}
}
