package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/internal/testcert"
)

// TestLiveTLSKeyLog captures on lo, with --tls-keylog, two calls over SIP
// over TLS made by Go's crypto/tls after the capture started, whose
// secrets are appended to the key log as the handshakes go: TLS 1.3 with
// the client logging (its application secrets come after the server's
// first flight), TLS 1.2 with the server logging (after the client's
// Finished went by). The server answers the ClientHello 300 ms late, as
// a network's round trip would: on lo the whole handshake is otherwise
// over, its secrets logged, before the capture reads the ClientHello.
// Both calls are read whole. A third call, whose secrets nobody logs, is
// not, and the note at the end counts it. Traffic: 127.32.N.1 <->
// 127.32.N.2 only, three connections of six messages each.
func TestLiveTLSKeyLog(t *testing.T) {
	requireLiveCapture(t)
	bin := buildSipflow(t)
	net3 := os.Getpid()%250 + 1
	A, B := fmt.Sprintf("127.32.%d.1", net3), fmt.Sprintf("127.32.%d.2", net3)
	// The key log does not exist yet: its programs make it at their
	// first connection, after the capture has begun.
	keys := filepath.Join(t.TempDir(), "keys.log")
	cap := startProc(t, "sipflow capture", "capturing on", 30*time.Second,
		bin, "capture", "-i", "lo", "--json", "--all", "--tls-keylog", keys, "--count", "200", "host", A, "and", "tcp")

	cert := testcert.SelfSigned(t, A)
	keyLog := func() io.Writer {
		f, err := os.OpenFile(keys, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	const nobody, client, server = 0, 1, 2
	call := func(id string, version uint16, logs int) {
		ccfg := &tls.Config{InsecureSkipVerify: true, MaxVersion: version}
		scfg := &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: version}
		switch logs {
		case client:
			ccfg.KeyLogWriter = keyLog()
		case server:
			scfg.KeyLogWriter = keyLog()
		}
		ln, err := net.Listen("tcp", A+":0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		msgs := []struct {
			toServer bool
			b        []byte
		}{
			{true, sipMsg(B, "INVITE sip:bob@"+A+" SIP/2.0", id, "f", "", "inv", 1, "INVITE", "")},
			{false, sipMsg(B, "SIP/2.0 180 Ringing", id, "f", "t", "inv", 1, "INVITE", "")},
			{false, sipMsg(B, "SIP/2.0 200 OK", id, "f", "t", "inv", 1, "INVITE", "")},
			{true, sipMsg(B, "ACK sip:bob@"+A+" SIP/2.0", id, "f", "t", "ack", 1, "ACK", "")},
			{true, sipMsg(B, "BYE sip:bob@"+A+" SIP/2.0", id, "f", "t", "bye", 2, "BYE", "")},
			{false, sipMsg(B, "SIP/2.0 200 OK", id, "f", "t", "bye", 2, "BYE", "")},
		}
		done := make(chan error, 1)
		go func() {
			raw, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			c := tls.Server(&lateConn{Conn: raw}, scfg)
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			for _, m := range msgs {
				if m.toServer {
					_, err = io.ReadFull(c, make([]byte, len(m.b)))
				} else {
					_, err = c.Write(m.b)
				}
				if err != nil {
					break
				}
			}
			done <- err
		}()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(B)}, Timeout: 5 * time.Second}
		c, err := tls.DialWithDialer(&d, "tcp", ln.Addr().String(), ccfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		for _, m := range msgs {
			if m.toServer {
				_, err = c.Write(m.b)
			} else {
				_, err = io.ReadFull(c, make([]byte, len(m.b)))
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	call("tls13-"+A, tls.VersionTLS13, client)
	call("tls12-"+A, tls.VersionTLS12, server)
	call("nokeys-"+A, tls.VersionTLS13, nobody)
	time.Sleep(300 * time.Millisecond) // the last packets through the capture
	cap.stop(t, os.Interrupt, 15*time.Second)
	if cap.err != nil {
		t.Fatalf("exit: %v\n%s", cap.err, cap.Stderr())
	}
	got := map[string]string{}
	for _, c := range parseCalls(t, cap.stdout.String()) {
		got[c.CallID] = c.State
	}
	if got["tls13-"+A] != "completed" || got["tls12-"+A] != "completed" || len(got) != 2 {
		t.Errorf("calls %v, want both completed\n%s", got, cap.Stderr())
	}
	note := fmt.Sprintf("sipflow: note: lo: 2 TLS connection(s) decrypted with %s; 1 not: it holds no secrets for them\n", keys)
	if strings.Contains(cap.Stderr(), "warning") || !strings.Contains(cap.Stderr(), note) {
		t.Errorf("stderr:\n%s\nwant the note:\n%s", cap.Stderr(), note)
	}
}

// lateConn writes for the first time 300 ms late.
type lateConn struct {
	net.Conn
	wrote bool
}

func (c *lateConn) Write(p []byte) (int, error) {
	if !c.wrote {
		c.wrote = true
		time.Sleep(300 * time.Millisecond)
	}
	return c.Conn.Write(p)
}
