package correlate_test

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/correlate"
	"github.com/sipflow/sipflow/decode"
)

var scriptHosts = map[string]netip.AddrPort{
	"a": netip.MustParseAddrPort("10.0.0.1:5060"),
	"b": netip.MustParseAddrPort("10.0.0.2:5060"),
	"p": netip.MustParseAddrPort("10.0.0.3:5060"),
	"c": netip.MustParseAddrPort("10.0.0.4:5060"),
	"q": netip.MustParseAddrPort("10.0.0.5:5060"),
	"s": netip.MustParseAddrPort("10.0.0.3:5080"),      // p's address, another port: a server behind p on its host
	"t": netip.MustParseAddrPort("10.0.0.3:5090"),      // and a third: a caller there
	"w": netip.MustParseAddrPort("198.51.100.2:5060"),  // a public address
	"n": netip.MustParseAddrPort("198.51.100.2:34567"), // w's, another port: w's packets through a NAT that maps ports
	"e": netip.MustParseAddrPort("[2001:db8::1]:5060"), // IPv6: a caller,
	"f": netip.MustParseAddrPort("[2001:db8::2]:5060"), // a callee,
	"g": netip.MustParseAddrPort("[2001:db8::3]:5060"), // and a proxy
}

// runScript correlates a call written as a script, one message a line,
// and returns the calls it gives. Each line:
//
//	SECS SRC>DST WHAT CSEQ/METHOD key=val...
//
// WHAT is a method or a status. keys: via=host (sent-by host name, default:
// the request's sender; for a response the receiver), br=branch (full
// value; "-" for no branch param), ft= from tag, tt= to tag, cid= Call-ID,
// auth, tcp (sent over TCP), ruri=HOST (a request's Request-URI names
// that host's address and port, sip:u@HOST; or ruri=sip:... as written;
// default sip:bob@10.0.0.2), hdr=Name:_Value, sdp=VERSION[:DIRECTION[:ice|zero]] (an SDP body
// whose o= line has that session version; direction sendrecv unless given;
// ice: a trickle-ICE WebRTC offer, c=0.0.0.0 and port 9; zero: c=0.0.0.0,
// RFC 2543 hold; ip6: the sender's IPv6 address, 2001:db8::N), c=HOST (after
// sdp=: the body's addresses are HOST's, not the sender's), media=LINES (after sdp=: the body's m= section, "_" for a
// space and "|" for a line end), cut=N (after sdp=: the body's last N bytes
// missing, as a snap length cuts them), cutheaders=1 (the message cut
// before its Content-Type, inside its headers), dtmf=KEY[:MS] (an
// application/dtmf-relay body: Signal=KEY, Duration=MS), ipid=N (the
// IPv4 Identification of its packet, default 0). Lines "tick SECS" advance
// time with unrelated traffic. Lines
//
//	SECS SRC:PORT>DST:PORT udptl SEQ IFP [red=N]
//
// send a UDPTL datagram (T.38) between the hosts' addresses, its IFP
// packet ind:N (a t30-indicator), frame:FCF (a T.30 frame, FCF in hex) or
// page, repeating the flow's last N IFP packets as redundancy (default
// 2); with IFP "lost:..." the packet is sent but not captured. Lines
//
//	SECS SRC:PORT>DST:PORT rtp SEQ [m]
//
// send an RTP packet of PCMU, 20 ms of it, with that sequence number (and
// with m, the marker bit). With Options.DeferBuild (runScriptWith), a
// Builder in another goroutine builds the calls as they are emitted.
func runScript(t *testing.T, script string) []*correlate.Call {
	t.Helper()
	return runScriptWith(t, correlate.Options{}, script)
}

// runScriptWith is runScript with options.
func runScriptWith(t *testing.T, opts correlate.Options, script string) []*correlate.Call {
	t.Helper()
	calls, _ := runScriptStats(t, opts, script)
	return calls
}

// runScriptStats is runScriptWith that also returns the correlator's Stats.
func runScriptStats(t *testing.T, opts correlate.Options, script string) ([]*correlate.Call, correlate.Stats) {
	t.Helper()
	var calls []*correlate.Call
	emit := func(call *correlate.Call) { calls = append(calls, call) }
	var toBuild chan *correlate.Call
	built := make(chan struct{})
	if opts.DeferBuild {
		// A Builder in another goroutine builds each call while the
		// correlator goes on, as sipflow's pipeline does.
		toBuild = make(chan *correlate.Call, 16)
		emit = func(call *correlate.Call) { calls = append(calls, call); toBuild <- call }
	}
	c := correlate.New(opts, emit)
	if opts.DeferBuild {
		b := c.NewBuilder()
		go func() {
			for call := range toBuild {
				b.Build(call)
			}
			close(built)
		}()
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var m decode.Message
	n := 0
	sent := map[string][][]byte{} // UDPTL flow → IFP packets by sequence number
	for _, line := range strings.Split(strings.TrimSpace(script), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) > 3 && f[2] == "rtp" {
			var secs float64
			fmt.Sscan(f[0], &secs)
			seq, _ := strconv.Atoi(f[3])
			b := []byte{0x80, 0, byte(seq >> 8), byte(seq), 0, 0, byte(seq >> 8), byte(seq) * 160, 0x5e, 0xe1, 0xf1, byte(len(f[1]))}
			if len(f) > 4 && f[4] == "m" {
				b[1] |= 0x80 // the marker bit: a talkspurt's first packet
			}
			n++
			c.AddDatagram(n, t0.Add(time.Duration(secs*float64(time.Second))), scriptMediaAddr(t, f[1], 0), scriptMediaAddr(t, f[1], 1), append(b, make([]byte, 160)...))
			continue
		}
		if len(f) > 2 && f[2] == "udptl" {
			var secs float64
			fmt.Sscan(f[0], &secs)
			src, dst := scriptMediaAddr(t, f[1], 0), scriptMediaAddr(t, f[1], 1)
			seq, _ := strconv.Atoi(f[3])
			what, lost := strings.CutPrefix(f[4], "lost:")
			red := 2
			if len(f) > 5 {
				red, _ = strconv.Atoi(strings.TrimPrefix(f[5], "red="))
			}
			kind, arg, _ := strings.Cut(what, ":")
			var ifp []byte
			switch kind {
			case "ind":
				v, _ := strconv.Atoi(arg)
				ifp = []byte{byte(v << 1)}
			case "frame":
				fcf, _ := strconv.ParseUint(arg, 16, 8)
				ifp = []byte{0xc0, 2, 0x80, 0, 2, 0xff, 0xc8, byte(fcf), 0x20}
			case "page":
				ifp = []byte{0xc8, 1, 0xe0, 0, 3, 0, 1, 2, 3}
			default:
				t.Fatalf("bad IFP %q", what)
			}
			hist := sent[f[1]]
			for len(hist) <= seq {
				hist = append(hist, nil)
			}
			hist[seq] = ifp
			sent[f[1]] = hist
			b := []byte{byte(seq >> 8), byte(seq), byte(len(ifp))}
			b = append(append(b, ifp...), 0)
			var secs2 [][]byte
			for i := 1; i <= red && seq-i >= 0 && hist[seq-i] != nil; i++ {
				secs2 = append(secs2, hist[seq-i])
			}
			b = append(b, byte(len(secs2)))
			for _, x := range secs2 {
				b = append(append(b, byte(len(x))), x...)
			}
			n++
			if !lost {
				c.AddDatagram(n, t0.Add(time.Duration(secs*float64(time.Second))), src, dst, b)
			}
			continue
		}
		if f[0] == "tick" {
			var secs float64
			fmt.Sscan(f[1], &secs)
			n++
			raw := fmt.Sprintf("OPTIONS sip:x@10.9.9.9 SIP/2.0\r\nVia: SIP/2.0/UDP 10.9.9.8:5060;branch=z9hG4bKtick%d\r\nFrom: <sip:t@x>;tag=t\r\nTo: <sip:x@x>\r\nCall-ID: tick-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", n, n)
			addMessage(t, c, &m, line, raw, n, t0.Add(time.Duration(secs*float64(time.Second))),
				netip.MustParseAddrPort("10.9.9.8:5060"), netip.MustParseAddrPort("10.9.9.9:5060"))
			continue
		}
		n++
		var secs float64
		fmt.Sscan(f[0], &secs)
		sd := strings.Split(f[1], ">")
		src, dst := scriptHosts[sd[0]], scriptHosts[sd[1]]
		what := f[2]
		cseq := strings.Replace(f[3], "/", " ", 1)
		isResp := what[0] >= '1' && what[0] <= '6'
		via := sd[0]
		if isResp {
			via = sd[1]
		}
		branch, ft, tt, cid := "z9hG4bK1", "caller", "", "call-1"
		ruri := "sip:bob@10.0.0.2"
		auth := false
		ipid := 0
		var extra []string
		body, ctype := "", "application/sdp"
		cut, cutHeaders := 0, false
		transport := "UDP"
		for _, opt := range f[4:] {
			k, v, _ := strings.Cut(opt, "=")
			switch k {
			case "via":
				via = v
			case "br":
				branch = v
			case "ft":
				ft = v
			case "tt":
				tt = v
			case "cid":
				cid = v
			case "auth":
				auth = true
			case "tcp":
				transport = "TCP"
			case "ruri":
				ruri = v
				if h, ok := scriptHosts[v]; ok {
					ruri = "sip:u@" + h.String()
				}
			case "ipid":
				ipid, _ = strconv.Atoi(v)
			case "hdr":
				extra = append(extra, strings.ReplaceAll(v, "_", " "))
			case "cut": // after sdp=: the last N bytes of the body not captured (Content-Length says them)
				cut, _ = strconv.Atoi(v)
			case "cutheaders": // the message captured up to its Content-Type, the empty line never
				cutHeaders = true
			case "dtmf": // an INFO's key, dtmf=KEY[:MS]: an application/dtmf-relay body
				key, ms, _ := strings.Cut(v, ":")
				body, ctype = "Signal="+key+"\r\n", "application/dtmf-relay"
				if ms != "" {
					body += "Duration=" + ms + "\r\n"
				}
			case "c": // after sdp=: the body's c= and o= address is this host's, not the sender's (a B2BUA offering a phone's)
				body = strings.ReplaceAll(body, "IN IP4 "+src.Addr().String(), "IN IP4 "+scriptHosts[v].Addr().String())
			case "media": // after sdp=: the body's m= section instead of "m=audio 4000 RTP/AVP 0" ("_" a space, "|" a line end)
				body = strings.Replace(body, "m=audio 4000 RTP/AVP 0\r\n", strings.NewReplacer("_", " ", "|", "\r\n").Replace(v)+"\r\n", 1)
			case "sdp":
				version, dir, _ := strings.Cut(v, ":")
				dir, kind, _ := strings.Cut(dir, ":")
				if dir == "" {
					dir = "sendrecv"
				}
				body = sdpOffer("4242 "+version, src.Addr().String(), dir)
				switch kind {
				case "ice": // a WebRTC offer before its candidates (trickle ICE)
					body = strings.Replace(strings.Replace(body, "c=IN IP4 "+src.Addr().String(), "c=IN IP4 0.0.0.0", 1),
						"m=audio 4000 RTP/AVP 0\r\n", "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=ice-ufrag:8hhY\r\na=ice-pwd:asd88fgpdd777uzjYhagZg\r\na=rtcp-mux\r\n", 1)
				case "zero": // RFC 2543 hold
					body = strings.Replace(body, "c=IN IP4 "+src.Addr().String(), "c=IN IP4 0.0.0.0", 1)
				case "ip6": // the host's IPv6 address (2001:db8::, its IPv4 address's last byte)
					a4 := src.Addr().As4()
					body = strings.ReplaceAll(body, "IN IP4 "+src.Addr().String(), fmt.Sprintf("IN IP6 2001:db8::%d", a4[3]))
				}
			default:
				t.Fatalf("bad option %q", opt)
			}
		}
		var sb strings.Builder
		if isResp {
			fmt.Fprintf(&sb, "SIP/2.0 %s Reason\r\n", what)
		} else {
			fmt.Fprintf(&sb, "%s %s SIP/2.0\r\n", what, ruri)
		}
		br := ";branch=" + branch
		if branch == "-" {
			br = ""
		}
		fmt.Fprintf(&sb, "Via: SIP/2.0/%s %s%s\r\n", transport, scriptHosts[via], br)
		ftag := ""
		if ft != "" {
			ftag = ";tag=" + ft
		}
		ttag := ""
		if tt != "" {
			ttag = ";tag=" + tt
		}
		fmt.Fprintf(&sb, "From: <sip:alice@x>%s\r\nTo: <sip:bob@x>%s\r\nCall-ID: %s\r\nCSeq: %s\r\n", ftag, ttag, cid, cseq)
		if auth {
			sb.WriteString("Proxy-Authorization: Digest username=\"alice\"\r\n")
		}
		for _, h := range extra {
			sb.WriteString(h + "\r\n")
		}
		headers := sb.String()
		endMessage(&sb, ctype, body)
		raw := sb.String()
		raw = raw[:len(raw)-min(cut, len(body))] // the capture's snap length took the body's end
		if cutHeaders {
			raw = headers // it took the message from Content-Type on
		}
		m.IPID = uint16(ipid) // capture metadata: the parse keeps it
		addMessage(t, c, &m, line, raw, n, t0.Add(time.Duration(secs*float64(time.Second))), src, dst)
	}
	c.Flush()
	if opts.DeferBuild {
		close(toBuild)
		<-built
	}
	return calls, c.Stats
}

// scriptMediaAddr is the i'th address of "a:4002>b:5002": the host's
// address with that port.
func scriptMediaAddr(t *testing.T, flow string, i int) netip.AddrPort {
	t.Helper()
	host, port, _ := strings.Cut(strings.Split(flow, ">")[i], ":")
	p, err := strconv.Atoi(port)
	h, ok := scriptHosts[host]
	if err != nil || !ok {
		t.Fatalf("bad media flow %q", flow)
	}
	return netip.AddrPortFrom(h.Addr(), uint16(p))
}

func scriptCall(t *testing.T, calls []*correlate.Call, id string) *correlate.Call {
	t.Helper()
	for _, c := range calls {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no call %s among %d", id, len(calls))
	return nil
}

// scriptCase is a call written as a script (runScript), what call-1 must
// satisfy, and what the failure says was wanted.
type scriptCase struct {
	name, script string
	ok           func(*correlate.Call) bool
	want         string
}

// runScriptCases runs each case as a subtest.
func runScriptCases(t *testing.T, tests []scriptCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := scriptCall(t, runScript(t, tt.script), "call-1")
			if !tt.ok(c) {
				t.Errorf("%s; got %s", tt.want, describe(c))
			}
		})
	}
}

func describe(c *correlate.Call) string {
	var fs []string
	for _, f := range c.Findings {
		fs = append(fs, f.Rule+"("+f.Severity.String()+")")
	}
	return fmt.Sprintf("kind=%s state=%s final=%d endedBy=%q caller=%s pdd=%v answer=%v dur=%v msgs=%d dialogs=%d flow=%q dev=%q findings=%v",
		c.Kind, c.State, c.FinalStatus, c.EndedBy, c.Caller, c.PDD, c.Answer, c.Duration, c.NumMessages, c.NumDialogs, c.Flow, c.Deviation, fs)
}

// TestScriptedCalls: calls whose state, timings or findings an audit of
// the checks against RFC 3261 found wrong, each as a script of messages
// between several hosts (scenario, in checks_test.go, knows two).
func TestScriptedCalls(t *testing.T) {
	tests := []scriptCase{
		// INVITE retransmitted per timer A until a 100 Trying arrives, then the
		// callee rings; the capture ends 20 s in while it still rings. The INVITE
		// was answered provisionally (retransmissions stop legitimately).
		// Expected: in-progress, no unanswered-invite.
		{"RingingAfterRetransmissions", `
0.0 a>b INVITE 1/INVITE
0.5 a>b INVITE 1/INVITE
1.5 a>b INVITE 1/INVITE
1.6 b>a 100 1/INVITE
2.0 b>a 180 1/INVITE tt=callee
tick 20
`, func(c *correlate.Call) bool { return c.State == "in-progress" && !c.HasFinding("unanswered-invite") }, "want in-progress without unanswered-invite"},
		// INVITE challenged (407, ACKed), retried with credentials, the retry
		// rings; the capture ends 3 s later. Expected in-progress (it was reported "failed 407").
		{"ChallengedRetryRinging", `
0.0 a>b INVITE 1/INVITE
0.1 b>a 407 1/INVITE tt=t1
0.2 a>b ACK 1/ACK tt=t1
0.3 a>b INVITE 2/INVITE br=z9hG4bK2 auth
0.4 b>a 100 2/INVITE br=z9hG4bK2
0.5 b>a 180 2/INVITE br=z9hG4bK2 tt=callee
tick 3.5
`, func(c *correlate.Call) bool { return c.State == "in-progress" }, "want in-progress"},
		// the same with CANCEL: the retry is cancelled, the capture ends before
		// the 487. Expected cancelled (it was reported "failed 407").
		{"ChallengedRetryCancelled", `
0.0 a>b INVITE 1/INVITE
0.1 b>a 407 1/INVITE tt=t1
0.2 a>b ACK 1/ACK tt=t1
0.3 a>b INVITE 2/INVITE br=z9hG4bK2 auth
0.5 b>a 180 2/INVITE br=z9hG4bK2 tt=callee
3.0 a>b CANCEL 2/CANCEL br=z9hG4bK2
3.1 b>a 200 2/CANCEL br=z9hG4bK2
`, func(c *correlate.Call) bool { return c.State == "cancelled" }, "want cancelled"},
		// REGISTER challenged, retried with credentials, only 100 Trying when the
		// capture ends. Expected in-progress (it was reported failed).
		{"RegisterRetryPending", `
0.0 a>b REGISTER 1/REGISTER
0.1 b>a 401 1/REGISTER tt=r1
0.2 a>b REGISTER 2/REGISTER br=z9hG4bK2 auth
0.3 b>a 100 2/REGISTER br=z9hG4bK2
`, func(c *correlate.Call) bool { return c.State == "in-progress" }, "want in-progress"},
		// A registration's Call-ID used again for a call (SIPp's branch
		// scenario: sip_captures/branch-scenario-sipp.pcapng, where sngrep
		// counts 1,334 calls and tshark 1,334 INVITE Call-IDs; sipflow called
		// them all registrations, and calls showed none). Expected: a call,
		// timed from its INVITE.
		{"RegisterThenInvite", `
0.0 a>b REGISTER 1/REGISTER
0.01 b>a 200 1/REGISTER tt=r1
0.02 a>b INVITE 1/INVITE br=z9hG4bKinv
0.03 b>a 180 1/INVITE tt=callee br=z9hG4bKinv
0.5 b>a 200 1/INVITE tt=callee br=z9hG4bKinv
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
5.01 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, func(c *correlate.Call) bool {
			return c.Kind == correlate.KindCall && c.State == correlate.StateCompleted && c.PDD == 10*time.Millisecond && c.Answer == 480*time.Millisecond
		}, "want a completed call, PDD 10 ms, answer 480 ms"},
		// Forked: two 2xx come back (tags b and c); the caller ACKs both, BYEs
		// the extra dialog at once (RFC 3261 §13.2.2.4) and talks 9 s on the
		// one it kept. The call lasted 9 s: it was reported as lasting
		// 300 ms, ended by the first BYE.
		{"ForkedExtraDialogEnded", `
0.0 a>p INVITE 1/INVITE br=z9hG4bKinv sdp=1
0.1 p>a 180 1/INVITE tt=b br=z9hG4bKinv
0.2 p>a 180 1/INVITE tt=c br=z9hG4bKinv
1.0 p>a 200 1/INVITE tt=b br=z9hG4bKinv sdp=1
1.05 a>p ACK 1/ACK tt=b br=z9hG4bKack1
1.2 p>a 200 1/INVITE tt=c br=z9hG4bKinv sdp=1
1.25 a>p ACK 1/ACK tt=c br=z9hG4bKack2
1.3 a>p BYE 2/BYE tt=c br=z9hG4bKbye2
1.35 p>a 200 2/BYE tt=c br=z9hG4bKbye2
10.0 a>p BYE 3/BYE tt=b br=z9hG4bKbye1
10.01 p>a BYE 1/BYE ft=b tt=caller br=z9hG4bKbye3
10.05 p>a 200 3/BYE tt=b br=z9hG4bKbye1
10.06 a>p 200 1/BYE ft=b tt=caller br=z9hG4bKbye3
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateCompleted && c.Duration == 9*time.Second && c.EndedBy == "caller" && c.NumDialogs == 2 && len(c.Findings) == 0
		}, "want completed after 9 s, ended by the caller, 2 dialogs, no findings"},
		// A 30-minute call captured without its RTP: nothing between the
		// ACK and the BYE. It was finished by the 10-minute idle timeout
		// and its BYE made a second call.
		{"LongCallSignallingOnly", `
0.0 a>b INVITE 1/INVITE sdp=1
0.5 b>a 200 1/INVITE tt=callee sdp=1
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
tick 600
tick 1200
tick 1800
1800.5 b>a BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
1800.6 a>b 200 1/BYE ft=callee tt=caller br=z9hG4bKbye
tick 1900
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateCompleted && c.Duration == 1800*time.Second && c.EndedBy == "callee" && len(c.Findings) == 0
		}, "want completed after 30 minutes, ended by the callee, no findings"},
		// The same call quiet for longer than CallTimeout (2 hours): it is
		// finished as answered, and not held for ever.
		{"AnsweredCallTimeout", `
0.0 a>b INVITE 1/INVITE sdp=1
0.5 b>a 200 1/INVITE tt=callee sdp=1
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
tick 7200
tick 7201
7300 b>a BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
7300.1 a>b 200 1/BYE ft=callee tt=caller br=z9hG4bKbye
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateAnswered && c.NumMessages == 3 && len(c.Findings) == 1 &&
				strings.Contains(c.Findings[0].Detail, "finished after 2h0m0s without a message or an RTP packet (the call timeout)")
		}, "want answered with its first three messages and not-ended, finished by the call timeout"},
		// Captured at a proxy that does not Record-Route: the ACK and the
		// BYE go from a to b directly, past the capture. With no request of
		// its dialog seen, the answered call waits the idle timeout, not
		// the call timeout, and no ACK in the capture is no missing ACK.
		{"AnsweredOffPath", `
0.0 a>p INVITE 1/INVITE
0.01 p>b INVITE 1/INVITE br=z9hG4bKp
0.5 b>p 200 1/INVITE tt=callee br=z9hG4bKp
0.51 p>a 200 1/INVITE tt=callee
tick 300
tick 601
tick 700
`, func(c *correlate.Call) bool {
			f := findingOf(c, "not-ended")
			return c.State == correlate.StateAnswered && f != nil && !c.HasFinding("missing-ack") &&
				strings.Contains(f.Detail, "finished after 10m0s without a message or an RTP packet (the idle timeout: no request of its dialog")
		}, "want answered, not-ended, finished by the idle timeout, no missing-ack"},
		// The same with a proxy that Record-Routes: the ACK should have
		// come through it, and missing-ack says it did not.
		{"RecordRoutedNoAck", `
0.0 a>p INVITE 1/INVITE
0.01 p>b INVITE 1/INVITE br=z9hG4bKp
0.5 b>p 200 1/INVITE tt=callee br=z9hG4bKp hdr=Record-Route:_<sip:p;lr>
0.51 p>a 200 1/INVITE tt=callee hdr=Record-Route:_<sip:p;lr>
tick 300
`, func(c *correlate.Call) bool { return c.HasFinding("missing-ack") }, "want missing-ack"},
		// Record-Route on one hop's 2xx only: the route set holds a proxy
		// (say, one beyond the capture), and both 2xx lack an ACK.
		{"RecordRouteOneHop", `
0.0 a>p INVITE 1/INVITE sdp=1
0.01 p>b INVITE 1/INVITE br=z9hG4bKp sdp=1
0.5 b>p 200 1/INVITE tt=callee br=z9hG4bKp sdp=1
0.51 p>a 200 1/INVITE tt=callee hdr=Record-Route:_<sip:p;lr> sdp=1
tick 300
`, func(c *correlate.Call) bool {
			return len(c.Findings) == 3 && c.Findings[0].Rule == "missing-ack" && c.Findings[1].Rule == "missing-ack"
		},
			"want missing-ack on both 2xx, and not-ended"},
		// Captured on both sides of a NAT, no proxy between: the 2xx on the
		// two hops does not make a relay, and no ACK is a missing ACK.
		{"TwoCapturePointsNoAck", `
0.0 a>b INVITE 1/INVITE
0.001 p>c INVITE 1/INVITE via=a
0.5 c>p 200 1/INVITE tt=callee via=a
0.501 b>a 200 1/INVITE tt=callee
tick 300
`, func(c *correlate.Call) bool { return c.HasFinding("missing-ack") }, "want missing-ack"},
		// Without Record-Route, a callee that retransmits its 2xx has no
		// ACK, wherever the capture was taken.
		{"OffPathRetransmitted", `
0.0 a>p INVITE 1/INVITE
0.01 p>b INVITE 1/INVITE br=z9hG4bKp
0.5 b>p 200 1/INVITE tt=callee br=z9hG4bKp
0.51 p>a 200 1/INVITE tt=callee
1.0 b>p 200 1/INVITE tt=callee br=z9hG4bKp
1.01 p>a 200 1/INVITE tt=callee
tick 300
`, func(c *correlate.Call) bool { return c.HasFinding("missing-ack") }, "want missing-ack"},
		// The same with the caller's ACK seen: the call is held.
		{"AnsweredOnPath", `
0.0 a>p INVITE 1/INVITE
0.01 p>b INVITE 1/INVITE br=z9hG4bKp
0.5 b>p 200 1/INVITE tt=callee br=z9hG4bKp
0.51 p>a 200 1/INVITE tt=callee
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
tick 700
tick 701
`, func(c *correlate.Call) bool {
			f := findingOf(c, "not-ended")
			return c.State == correlate.StateAnswered && f != nil && f.Detail == "the call was answered and no BYE was seen before the capture ended"
		}, "want answered, not-ended at the capture's end"},
		// The same forked call, but the caller never BYEs the extra dialog
		// (tag c): its callee still thinks the call is up. The call is
		// reported after the idle timeout, not held for the call timeout.
		{"ForkedExtraDialogLeaked", `
0.0 a>p INVITE 1/INVITE br=z9hG4bKinv sdp=1
0.1 p>a 180 1/INVITE tt=b br=z9hG4bKinv
0.2 p>a 180 1/INVITE tt=c br=z9hG4bKinv
1.0 p>a 200 1/INVITE tt=b br=z9hG4bKinv sdp=1
1.05 a>p ACK 1/ACK tt=b br=z9hG4bKack1
1.2 p>a 200 1/INVITE tt=c br=z9hG4bKinv sdp=1
1.25 a>p ACK 1/ACK tt=c br=z9hG4bKack2
10.0 a>p BYE 3/BYE tt=b br=z9hG4bKbye1
10.05 p>a 200 3/BYE tt=b br=z9hG4bKbye1
tick 700
tick 800
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateCompleted && c.Duration == 9*time.Second && c.HasFinding("fork-not-ended") &&
				len(c.Findings) == 1 && c.Findings[0].Packets[0] == 6 && c.CaptureEnd.Sub(c.Start) < 750*time.Second
		}, "want completed after 9 s with fork-not-ended on packet 6, finished by the idle timeout"},
		// The extra 2xx is neither ACKed nor BYE'd: missing-ack says it
		// (its callee ends the dialog after 64*T1), not fork-not-ended.
		{"ForkedExtraNotAcked", `
0.0 a>p INVITE 1/INVITE br=z9hG4bKinv
1.0 p>a 200 1/INVITE tt=b br=z9hG4bKinv
1.05 a>p ACK 1/ACK tt=b br=z9hG4bKack1
1.2 p>a 200 1/INVITE tt=c br=z9hG4bKinv
1.7 p>a 200 1/INVITE tt=c br=z9hG4bKinv
2.7 p>a 200 1/INVITE tt=c br=z9hG4bKinv
10.0 a>p BYE 3/BYE tt=b br=z9hG4bKbye1
10.05 p>a 200 3/BYE tt=b br=z9hG4bKbye1
tick 700
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateCompleted && c.HasFinding("missing-ack") && !c.HasFinding("fork-not-ended")
		}, "want completed with missing-ack and without fork-not-ended"},
		// A forked call whose extra dialog is ended at once, then a
		// 15-minute conversation without SIP: one call, held for its BYE.
		{"ForkedLongCall", `
0.0 a>p INVITE 1/INVITE br=z9hG4bKinv sdp=1
1.0 p>a 200 1/INVITE tt=b br=z9hG4bKinv sdp=1
1.05 a>p ACK 1/ACK tt=b br=z9hG4bKack1
1.2 p>a 200 1/INVITE tt=c br=z9hG4bKinv sdp=1
1.25 a>p ACK 1/ACK tt=c br=z9hG4bKack2
1.3 a>p BYE 2/BYE tt=c br=z9hG4bKbye2
1.35 p>a 200 2/BYE tt=c br=z9hG4bKbye2
tick 600
tick 800
900.0 a>p BYE 3/BYE tt=b br=z9hG4bKbye1
900.05 p>a 200 3/BYE tt=b br=z9hG4bKbye1
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateCompleted && c.Duration == 899*time.Second && len(c.Findings) == 0
		}, "want completed after 899 s, no findings"},
		// The Call-ID is used again for a second call 2 s after the first
		// ended: the first dialog's BYE does not leave the second behind.
		{"CallIDReusedLongCall", `
0.0 a>b INVITE 1/INVITE
0.5 b>a 200 1/INVITE tt=callee
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
10.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
10.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye
12.0 a>b INVITE 1/INVITE ft=caller2 br=z9hG4bKinv2
12.5 b>a 200 1/INVITE ft=caller2 tt=callee2 br=z9hG4bKinv2
12.6 a>b ACK 1/ACK ft=caller2 tt=callee2 br=z9hG4bKack2
tick 700
900.0 a>b BYE 2/BYE ft=caller2 tt=callee2 br=z9hG4bKbye2
900.1 b>a 200 2/BYE ft=caller2 tt=callee2 br=z9hG4bKbye2
`, func(c *correlate.Call) bool { return c.NumMessages == 10 && !c.HasFinding("fork-not-ended") },
			"want one record of all 10 messages, no fork-not-ended"},
		// DNS failover (RFC 3263 §4.3): the first server never answers, the
		// caller sends the INVITE to the next, which answers. The call was
		// "unanswered": only the first destination's INVITEs counted.
		{"DNSFailover", `
0.0 a>b INVITE 1/INVITE br=z9hG4bK1
0.5 a>b INVITE 1/INVITE br=z9hG4bK1
1.5 a>b INVITE 1/INVITE br=z9hG4bK1
3.5 a>b INVITE 1/INVITE br=z9hG4bK1
7.5 a>c INVITE 1/INVITE br=z9hG4bK2
7.6 c>a 180 1/INVITE tt=x br=z9hG4bK2
8.1 c>a 200 1/INVITE tt=x br=z9hG4bK2
8.2 a>c ACK 1/ACK tt=x br=z9hG4bKack
20 a>c BYE 2/BYE tt=x br=z9hG4bKbye
20.1 c>a 200 2/BYE tt=x br=z9hG4bKbye
tick 60
`, func(c *correlate.Call) bool {
			f := findingOf(c, "unanswered-invite")
			return c.State == correlate.StateCompleted && c.Answer == 8100*time.Millisecond && c.Callee == scriptHosts["c"] &&
				c.Flow == "basic-call" && f != nil && f.Severity == correlate.Warning && strings.Contains(f.Detail, "then sent it to 10.0.0.4:5060 (packet 5), which answered 200")
		}, "want completed, answered after 8.1 s by c, basic-call, unanswered-invite as a warning naming the failover"},
		// Not a failover: the caller tries the same server again with a new
		// INVITE, which is answered. The first stays an error.
		{"RetriedSameServer", `
0.0 a>b INVITE 1/INVITE br=z9hG4bK1
0.5 a>b INVITE 1/INVITE br=z9hG4bK1
1.5 a>b INVITE 1/INVITE br=z9hG4bK1
3.5 a>b INVITE 1/INVITE br=z9hG4bK1
20 a>b INVITE 2/INVITE br=z9hG4bK2
20.1 b>a 200 2/INVITE tt=x br=z9hG4bK2
20.2 a>b ACK 2/ACK tt=x br=z9hG4bKack
50 a>b BYE 3/BYE tt=x br=z9hG4bKbye
50.1 b>a 200 3/BYE tt=x br=z9hG4bKbye
tick 100
`, func(c *correlate.Call) bool {
			f := findingOf(c, "unanswered-invite")
			return c.State == correlate.StateCompleted && f != nil && f.Severity == correlate.Error
		}, "want completed, unanswered-invite an error"},
		// The same failover, refused by the next server.
		{"DNSFailoverRejected", `
0.0 a>b INVITE 1/INVITE br=z9hG4bK1
0.5 a>b INVITE 1/INVITE br=z9hG4bK1
1.5 a>b INVITE 1/INVITE br=z9hG4bK1
3.5 a>b INVITE 1/INVITE br=z9hG4bK1
7.5 a>c INVITE 1/INVITE br=z9hG4bK2
7.6 c>a 486 1/INVITE tt=x br=z9hG4bK2
7.7 a>c ACK 1/ACK tt=x br=z9hG4bK2
tick 60
`, func(c *correlate.Call) bool {
			f := findingOf(c, "call-failed")
			return c.State == correlate.StateRejected && c.FinalStatus == 486 && c.Callee == scriptHosts["c"] &&
				f != nil && strings.Contains(f.Detail, "rejected by 10.0.0.4")
		}, "want rejected 486 by c"},
		// Seen only on the proxy's far side: it forks to b and c at once, c
		// answers, b's branch is cancelled. The call was "cancelled": only
		// b's INVITE counted.
		{"ForkSeenDownstream", `
0.0 p>b INVITE 1/INVITE br=z9hG4bK1
0.0 p>c INVITE 1/INVITE br=z9hG4bK2
0.1 b>p 180 1/INVITE tt=b br=z9hG4bK1
0.1 c>p 180 1/INVITE tt=c br=z9hG4bK2
3.0 c>p 200 1/INVITE tt=c br=z9hG4bK2
3.1 p>c ACK 1/ACK tt=c br=z9hG4bKack
3.1 p>b CANCEL 1/CANCEL br=z9hG4bK1
3.2 b>p 200 1/CANCEL br=z9hG4bK1
3.2 b>p 487 1/INVITE tt=b br=z9hG4bK1
3.3 p>b ACK 1/ACK tt=b br=z9hG4bK1
20 p>c BYE 2/BYE tt=c br=z9hG4bKbye
20.1 c>p 200 2/BYE tt=c br=z9hG4bKbye
tick 60
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateCompleted && c.Callee == scriptHosts["c"] && c.Duration == 17*time.Second && c.Flow == "basic-call"
		}, "want completed by c after 17 s, basic-call"},
		// the 180 is captured a few ms before its INVITE (order inversion).
		{"ProvisionalBeforeInvite", `
0.000 b>a 180 1/INVITE tt=callee
0.002 a>b INVITE 1/INVITE
2.0 b>a 486 1/INVITE tt=callee
2.1 a>b ACK 1/ACK tt=callee
`, func(c *correlate.Call) bool { return c.State == "rejected" && c.HasFinding("call-failed") }, "want rejected with call-failed"},
		// capture starts while the phone rings: 180 then 486 and its ACK.
		{"MidCaptureRejected", `
0.0 b>a 180 1/INVITE tt=callee
2.0 b>a 486 1/INVITE tt=callee
2.1 a>b ACK 1/ACK tt=callee
`, func(c *correlate.Call) bool {
			return c.State == "rejected" && c.FinalStatus == 486 && !c.HasFinding("not-ended")
		}, "want rejected 486 without not-ended"},
		// The same, cancelled by the caller while it rang.
		{"MidCaptureCancelled", `
0.0 b>a 180 1/INVITE tt=callee
2.0 a>b CANCEL 1/CANCEL
2.01 b>a 200 1/CANCEL
2.02 b>a 487 1/INVITE tt=callee
2.1 a>b ACK 1/ACK tt=callee
`, func(c *correlate.Call) bool {
			return c.State == "cancelled" && c.FinalStatus == 487 && c.EndedBy == "caller" && !c.HasFinding("not-ended")
		}, "want cancelled 487, ended by the caller"},
		// proxy p forwards the INVITE without Record-Route: the ACK and BYE go
		// from a to b directly. Every 2xx was ACKed by the UAC.
		{"NoRecordRouteACK", `
0.0 a>p INVITE 1/INVITE br=z9hG4bKa1
0.01 p>b INVITE 1/INVITE via=p br=z9hG4bKp1
1.0 b>p 200 1/INVITE via=p br=z9hG4bKp1 tt=callee
1.01 p>a 200 1/INVITE br=z9hG4bKa1 tt=callee
1.1 a>b ACK 1/ACK br=z9hG4bKack tt=callee
9.0 a>b BYE 2/BYE br=z9hG4bKbye tt=callee
9.1 b>a 200 2/BYE br=z9hG4bKbye tt=callee
`, func(c *correlate.Call) bool { return !c.HasFinding("missing-ack") }, "false missing-ack"},
		// Captured on both sides of a NAT that rewrites addresses but not
		// SIP: each message twice, a>b then p>c, with one Via. The ACK is seen
		// on p>c first; the 2xx on b>a is ACKed by the ACK on a>b
		// (nDPI/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap had three false
		// missing-acks so).
		{"NATBetweenCapturePoints", `
0.0 a>b INVITE 1/INVITE
0.001 p>c INVITE 1/INVITE via=a
0.1 c>p 180 1/INVITE tt=callee via=a
0.101 b>a 180 1/INVITE tt=callee
0.5 c>p 200 1/INVITE tt=callee via=a
0.501 b>a 200 1/INVITE tt=callee
0.6 p>c ACK 1/ACK tt=callee br=z9hG4bKack via=a
0.618 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
5.001 p>c BYE 2/BYE tt=callee br=z9hG4bKbye via=a
5.1 c>p 200 2/BYE tt=callee br=z9hG4bKbye via=a
5.101 b>a 200 2/BYE tt=callee br=z9hG4bKbye
tick 60
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateCompleted && !c.HasFinding("missing-ack")
		}, "want completed, no missing-ack"},
		// PDD is INVITE to first 180/183; a 181 (forwarded) is not ringing.
		{"PDD181", `
0.0 a>b INVITE 1/INVITE
0.1 b>a 181 1/INVITE tt=callee
2.0 b>a 180 1/INVITE tt=callee
3.0 b>a 200 1/INVITE tt=callee
3.1 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
5.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, func(c *correlate.Call) bool { return c.PDD == 2*time.Second }, "want pdd 2s"},
		// the ACK comes after the 2xx in packet order, but its timestamp is 1 ms
		// earlier (timestamps inverted by a few ms, e.g. per-queue capture clocks).
		{"AckBefore2xx", `
0.0 a>b INVITE 1/INVITE
1.001 b>a 200 1/INVITE tt=callee
1.000 a>b ACK 1/ACK tt=callee br=z9hG4bKack
9.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
9.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, func(c *correlate.Call) bool { return !c.HasFinding("missing-ack") }, "false missing-ack"},
		// A challenged INVITE's retry that nothing answers, with the capture going
		// on past timer B: the call failed with the challenge (no answer to a
		// challenged retry), and the retry is an unanswered INVITE.
		{"ChallengedRetryUnanswered", `
0.0 a>b INVITE 1/INVITE
0.1 b>a 407 1/INVITE tt=t1
0.2 a>b ACK 1/ACK tt=t1
0.3 a>b INVITE 2/INVITE br=z9hG4bK2 auth
0.8 a>b INVITE 2/INVITE br=z9hG4bK2 auth
1.8 a>b INVITE 2/INVITE br=z9hG4bK2 auth
tick 40
`, func(c *correlate.Call) bool {
			return c.State == "failed" && c.FinalStatus == 407 && c.HasFinding("unanswered-invite")
		}, "want failed 407 with unanswered-invite"},
	}
	runScriptCases(t, tests)
}

// TestInviteNotCaptured: calls whose INVITE the capture missed (it began
// before the capture, or the packet was lost). Whatever is captured first,
// an in-dialog request or a response, they are calls, in the state their
// messages show, with an invite-not-captured finding and no flow; the
// caller is the sender of the first request, or the receiver of the first
// response. Before, a call first seen by its BYE, ACK, CANCEL, UPDATE or
// INFO was an "other" exchange, "unanswered" even when its BYE was answered.
func TestInviteNotCaptured(t *testing.T) {
	a, b := scriptHosts["a"], scriptHosts["b"]
	midCall := func(state correlate.State, caller netip.AddrPort, more ...func(*correlate.Call) bool) func(*correlate.Call) bool {
		return func(c *correlate.Call) bool {
			ok := c.Kind == correlate.KindCall && c.State == state && c.Caller == caller &&
				c.HasFinding("invite-not-captured") && c.Flow == "" && c.Deviation == ""
			for _, f := range more {
				ok = ok && f(c)
			}
			return ok
		}
	}
	findingAt := func(rule string, n int) func(*correlate.Call) bool {
		return func(c *correlate.Call) bool {
			for _, f := range c.Findings {
				if f.Rule == rule && len(f.Packets) > 0 && f.Packets[0] == n {
					return true
				}
			}
			return false
		}
	}
	tests := []scriptCase{
		{"Bye", `
0.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
0.01 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, midCall(correlate.StateCompleted, a, findingAt("invite-not-captured", 1)), "want a completed call, invite-not-captured at packet 1"},
		{"ByeAnswerOnly", `
0.01 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, midCall(correlate.StateCompleted, a), "want a completed call"},
		// The callee hangs up: its BYE goes b>a, From and To swapped.
		{"AckThenCalleeBye", `
0.0 a>b ACK 1/ACK tt=callee br=z9hG4bKack
9.0 b>a BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
9.01 a>b 200 1/BYE ft=callee tt=caller br=z9hG4bKbye
`, midCall(correlate.StateCompleted, a), "want a completed call"},
		// A re-INVITE looks like a basic call's INVITE: it must not match
		// the basic-call flow.
		{"Reinvite", `
0.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKre
0.1 b>a 200 2/INVITE tt=callee br=z9hG4bKre
0.2 a>b ACK 2/ACK tt=callee br=z9hG4bKack
9.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye
9.01 b>a 200 3/BYE tt=callee br=z9hG4bKbye
`, midCall(correlate.StateCompleted, a), "want a completed call, no flow"},
		{"Update", `
0.0 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKup
0.1 b>a 200 2/UPDATE tt=callee br=z9hG4bKup
tick 5
`, midCall(correlate.StateAnswered, a, func(c *correlate.Call) bool { return c.HasFinding("not-ended") }), "want an answered call, not ended"},
		{"Info", `
0.0 b>a INFO 2/INFO ft=callee tt=caller br=z9hG4bKinfo
0.1 a>b 200 2/INFO ft=callee tt=caller br=z9hG4bKinfo
tick 5
`, midCall(correlate.StateAnswered, b), "want an answered call"},
		// Cancelled while it rang, the INVITE and the 180 not captured.
		{"Cancel", `
0.0 a>b CANCEL 1/CANCEL
0.01 b>a 200 1/CANCEL
0.02 b>a 487 1/INVITE tt=callee
0.1 a>b ACK 1/ACK tt=callee
`, midCall(correlate.StateCancelled, a, func(c *correlate.Call) bool { return c.FinalStatus == 487 && c.EndedBy == "caller" }),
			"want cancelled 487 by the caller"},
		// A CANCEL nobody answered, retransmitted.
		{"CancelUnanswered", `
0.0 a>b CANCEL 1/CANCEL
0.5 a>b CANCEL 1/CANCEL
tick 40
`, midCall(correlate.StateCancelled, a), "want cancelled"},
		// The 486 of an INVITE not captured: the call-failed finding names it.
		{"Rejected", `
0.0 b>a 486 1/INVITE tt=callee
0.1 a>b ACK 1/ACK tt=callee
`, midCall(correlate.StateRejected, a, findingAt("call-failed", 1)), "want rejected, call-failed at packet 1"},
		{"ProvisionalOnly", `
0.0 b>a 100 1/INVITE
tick 5
`, midCall(correlate.StateInProgress, a), "want in-progress"},
	}
	runScriptCases(t, tests)
	// A REFER outside any dialog is not a call.
	c := scriptCall(t, runScript(t, "0.0 a>b REFER 1/REFER\n0.1 b>a 202 1/REFER tt=x\n"), "call-1")
	if c.Kind != correlate.KindOther || c.State != correlate.StateCompleted || c.HasFinding("invite-not-captured") {
		t.Errorf("out-of-dialog REFER: %s", describe(c))
	}
}

// TestClockGlitch: one packet whose timestamp jumps far ahead of the
// packets around it times nothing out; a quiet spell that the next packet
// confirms times out what it should, before the messages of its first
// packet are added. Each case gives the states of the calls named call-1,
// in the order they were emitted.
func TestClockGlitch(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		want         string // states of the call-1 calls
	}{
		// A ringing call, and an OPTIONS of another Call-ID stamped an hour
		// ahead. Before: the call was finished at the glitch as in-progress,
		// and the 200 OK that followed was dropped as a late retransmission.
		{"GlitchWhileRinging", `
0.0 a>b INVITE 1/INVITE
0.1 b>a 180 1/INVITE tt=callee
tick 3600
5.0 b>a 200 1/INVITE tt=callee
5.1 a>b ACK 1/ACK tt=callee br=z9hG4bKack
9.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
9.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye
tick 20
`, "completed"},
		// An INVITE retransmitted with no answer waits 64·T1 (32 s) at most;
		// a glitch 100 s ahead must not finish it before its 180 comes.
		{"GlitchWhileRetransmitting", `
0.0 a>b INVITE 1/INVITE
0.5 a>b INVITE 1/INVITE
1.5 a>b INVITE 1/INVITE
tick 100
2.0 b>a 180 1/INVITE tt=callee
2.5 b>a 486 1/INVITE tt=callee
2.6 a>b ACK 1/ACK tt=callee
tick 20
`, "rejected"},
		// The glitch is a message of the call itself (the 200 OK): it joins
		// the call at its own time, and the call goes on.
		{"GlitchedMessage", `
0.0 a>b INVITE 1/INVITE
0.1 b>a 180 1/INVITE tt=callee
3600 b>a 200 1/INVITE tt=callee
5.1 a>b ACK 1/ACK tt=callee br=z9hG4bKack
9.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
9.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye
tick 20
`, "completed"},
		// A genuine quiet hour: the ringing call is finished by the idle
		// timeout when the next packet confirms it (unanswered: timer C
		// ran out), and a new INVITE of the same Call-ID an hour on is a
		// new call, though it came in the packet that was held.
		{"QuietHour", `
0.0 a>b INVITE 1/INVITE
0.1 b>a 180 1/INVITE tt=callee
3600 a>b INVITE 2/INVITE br=z9hG4bK2
3600.1 b>a 486 2/INVITE br=z9hG4bK2 tt=callee2
3600.2 a>b ACK 2/ACK br=z9hG4bK2 tt=callee2
tick 3620
`, "unanswered rejected"},
		// The same with the hour's first packet the capture's last: the end
		// of the capture confirms it.
		{"QuietHourThenEnd", `
0.0 a>b INVITE 1/INVITE
0.1 b>a 180 1/INVITE tt=callee
3600 a>b INVITE 2/INVITE br=z9hG4bK2
`, "unanswered in-progress"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			var calls []*correlate.Call
			for _, c := range runScript(t, tc.script) {
				if c.ID == "call-1" {
					got = append(got, string(c.State))
					calls = append(calls, c)
				}
			}
			if strings.Join(got, " ") != tc.want {
				for _, c := range calls {
					t.Log(describe(c))
				}
				t.Errorf("call-1 states %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}

// sdpOffer is a one-stream audio SDP body from addr whose o= line has
// session id and version idVersion ("1 1") and whose direction is dir.
func sdpOffer(idVersion, addr, dir string) string {
	return "v=0\r\no=- " + idVersion + " IN IP4 " + addr + "\r\ns=-\r\nc=IN IP4 " + addr + "\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=" + dir + "\r\n"
}

// endMessage ends a script's message: its Content-Type when body is SDP,
// Content-Length, the blank line and body.
func endMessage(sb *strings.Builder, ctype, body string) {
	if body != "" {
		sb.WriteString("Content-Type: " + ctype + "\r\n")
	}
	fmt.Fprintf(sb, "Content-Length: %d\r\n\r\n%s", len(body), body)
}

// findingOf returns c's first finding of rule, or nil.
func findingOf(c *correlate.Call, rule string) *correlate.Finding {
	for i := range c.Findings {
		if c.Findings[i].Rule == rule {
			return &c.Findings[i]
		}
	}
	return nil
}

// TestCapturedCopies: a message the capture recorded twice, on one hop and
// within 10 ms (tcpdump -i any across a bridge), is read once: neither a
// message nor a retransmission. A retransmission, T1 later, still is one,
// and so is its own copy's original.
func TestCapturedCopies(t *testing.T) {
	retransmissions := func(want string) func(*correlate.Call) bool {
		return func(c *correlate.Call) bool {
			f := findingOf(c, "retransmissions")
			if want == "" {
				return f == nil && c.NumMessages == 6 && c.Flow == "basic-call"
			}
			return f != nil && strings.HasPrefix(f.Detail, want)
		}
	}
	runScriptCases(t, []scriptCase{
		{"EveryMessage", `
0.0 a>b INVITE 1/INVITE
0.00003 a>b INVITE 1/INVITE
0.1 b>a 180 1/INVITE tt=callee
0.10003 b>a 180 1/INVITE tt=callee
0.5 b>a 200 1/INVITE tt=callee
0.49998 b>a 200 1/INVITE tt=callee
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
0.60003 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
5.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye
5.10003 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, retransmissions(""), "want 6 messages, basic-call, no retransmissions"},
		{"RetransmissionAndItsCopy", `
0.0 a>b INVITE 1/INVITE
0.00003 a>b INVITE 1/INVITE
0.5 a>b INVITE 1/INVITE
0.50003 a>b INVITE 1/INVITE
0.6 b>a 180 1/INVITE tt=callee
0.7 b>a 200 1/INVITE tt=callee
0.8 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
5.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, retransmissions("1 retransmission(s): 1 × INVITE "), "want one retransmission, of the INVITE"},
		{"AckToRejection", `
0.0 a>b INVITE 1/INVITE
0.1 b>a 486 1/INVITE tt=callee
0.10003 b>a 486 1/INVITE tt=callee
0.2 a>b ACK 1/ACK tt=callee
0.20003 a>b ACK 1/ACK tt=callee
0.6 b>a 486 1/INVITE tt=callee
0.65 a>b ACK 1/ACK tt=callee
0.65003 a>b ACK 1/ACK tt=callee
`, retransmissions("2 retransmission(s): 1 × 486/INVITE, 1 × ACK "), "want two retransmissions: the 486 and its ACK"},
		// The proxy forwards the INVITE late, just before the caller's
		// retransmission: the same message on the next hop is no copy.
		{"ProxyForwardsLate", `
0.0 a>p INVITE 1/INVITE
0.495 p>b INVITE 1/INVITE br=z9hG4bKp
0.5 a>p INVITE 1/INVITE
0.6 b>p 200 1/INVITE tt=callee br=z9hG4bKp
0.601 p>a 200 1/INVITE tt=callee
0.7 a>p ACK 1/ACK tt=callee br=z9hG4bKack
0.701 p>b ACK 1/ACK tt=callee br=z9hG4bKack2
`, retransmissions("1 retransmission(s): 1 × INVITE "), "want one retransmission, of the caller's INVITE"},
		// A UAS that gets an INVITE and its retransmission at once answers
		// each with a 100: two packets (two IPv4 IDs), a retransmission,
		// though 0.3 ms apart. Copies share their packet's ID.
		{"TwoSendsAtOnce", `
0.0 a>b INVITE 1/INVITE ipid=1
0.5 a>b INVITE 1/INVITE ipid=2
0.6 b>a 100 1/INVITE ipid=10
0.6003 b>a 100 1/INVITE ipid=11
0.6006 b>a 100 1/INVITE ipid=11
0.7 b>a 200 1/INVITE tt=callee ipid=12
0.8 a>b ACK 1/ACK tt=callee br=z9hG4bKack ipid=3
`, retransmissions("2 retransmission(s): 1 × INVITE, 1 × 100/INVITE "), "want two retransmissions, the INVITE and the 100"},
		// A capture on a host that runs a HEP agent holds each packet and,
		// a moment later, the agent's copy of it (no IPv4 ID of its own).
		{"NativeAndHEPMirror", `
0.0 a>b INVITE 1/INVITE ipid=1
0.0002 a>b INVITE 1/INVITE
0.1 b>a 180 1/INVITE tt=callee ipid=10
0.1002 b>a 180 1/INVITE tt=callee
0.5 b>a 200 1/INVITE tt=callee ipid=11
0.5002 b>a 200 1/INVITE tt=callee
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack ipid=2
0.6002 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye ipid=3
5.0002 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
5.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye ipid=12
5.1002 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, retransmissions(""), "want 6 messages, basic-call, no retransmissions"},
		// Two 100s of different lengths, a few milliseconds apart (OpenSIPS
		// sends "100 Trying", then "100 Giving a try": Laborator09/sip.pcap):
		// two messages, neither a copy nor a retransmission, and the second
		// is no step of the flow.
		{"DifferentLengths", `
0.0 a>b INVITE 1/INVITE
0.1 b>a 100 1/INVITE
0.105 b>a 100 1/INVITE hdr=Server:_next-hop
0.7 b>a 200 1/INVITE tt=callee
0.8 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
5.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, func(c *correlate.Call) bool {
			return c.NumMessages == 7 && findingOf(c, "retransmissions") == nil && c.Flow == "basic-call"
		}, "want 7 messages, no retransmission, basic-call"},
		// Two forks answer through the proxy; the first's 2xx, not yet
		// ACKed, is retransmitted just after the second's: no copy of it.
		{"ForkedAnswers", `
0.0 a>p INVITE 1/INVITE
1.0 p>a 200 1/INVITE tt=x
1.5 p>a 200 1/INVITE tt=y
1.505 p>a 200 1/INVITE tt=x
1.6 a>p ACK 1/ACK tt=x br=z9hG4bKack
1.6 a>p ACK 1/ACK tt=y br=z9hG4bKack2
1.7 a>p BYE 2/BYE tt=y br=z9hG4bKbye
1.8 p>a 200 2/BYE tt=y br=z9hG4bKbye
`, retransmissions("1 retransmission(s): 1 × 200/INVITE "), "want one retransmission, of the first fork's 200"},
		{"JustOutsideTheWindow", `
0.0 a>b INVITE 1/INVITE
0.011 a>b INVITE 1/INVITE
0.6 b>a 180 1/INVITE tt=callee
0.7 b>a 200 1/INVITE tt=callee
0.8 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
5.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, retransmissions("1 retransmission(s): 1 × INVITE "), "want one retransmission, 11 ms after"},
	})
}

// TestCopiesChangeNothing: each script, with every message captured a
// second time 30 µs later, describes the same call as the script itself
// (packet numbers aside): on every hop, through a proxy that adds no Via
// of its own (so that the next hop's messages match the first hop's
// transactions), with retransmissions, forks and a rejection.
func TestCopiesChangeNothing(t *testing.T) {
	packetNo := regexp.MustCompile(`packet \d+`)
	for _, tc := range []struct{ name, script string }{
		{"Basic", `
0.0 a>b INVITE 1/INVITE sdp=1
0.1 b>a 180 1/INVITE tt=callee
0.5 b>a 200 1/INVITE tt=callee sdp=7
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
5.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`},
		{"ForwardedWithoutVia", `
0.0 a>p INVITE 1/INVITE
0.001 p>b INVITE 1/INVITE via=a
0.1 b>p 180 1/INVITE tt=callee via=a
0.101 p>a 180 1/INVITE tt=callee
0.5 b>p 200 1/INVITE tt=callee via=a
0.501 p>a 200 1/INVITE tt=callee
0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack
0.601 p>b ACK 1/ACK tt=callee br=z9hG4bKack via=a
5.0 b>p BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye via=b
5.001 p>a BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye via=b
5.1 a>p 200 1/BYE ft=callee tt=caller br=z9hG4bKbye via=b
5.101 p>b 200 1/BYE ft=callee tt=caller br=z9hG4bKbye via=b
`},
		{"Retransmitted", `
0.0 a>b INVITE 1/INVITE
0.5 a>b INVITE 1/INVITE
1.5 a>b INVITE 1/INVITE
1.6 b>a 180 1/INVITE tt=callee
2.0 b>a 200 1/INVITE tt=callee
2.5 b>a 200 1/INVITE tt=callee
2.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
`},
		{"Forked", `
0.0 a>p INVITE 1/INVITE
0.001 p>b INVITE 1/INVITE br=z9hG4bKpb
0.001 p>c INVITE 1/INVITE br=z9hG4bKpc
0.1 b>p 180 1/INVITE tt=b br=z9hG4bKpb
0.101 p>a 180 1/INVITE tt=b
0.2 c>p 180 1/INVITE tt=c br=z9hG4bKpc
0.201 p>a 180 1/INVITE tt=c
1.0 b>p 200 1/INVITE tt=b br=z9hG4bKpb
1.001 p>a 200 1/INVITE tt=b
1.002 p>c CANCEL 1/CANCEL br=z9hG4bKpc
1.1 c>p 200 1/CANCEL br=z9hG4bKpc
1.1 c>p 487 1/INVITE tt=c br=z9hG4bKpc
1.101 p>c ACK 1/ACK tt=c br=z9hG4bKpc
1.2 a>p ACK 1/ACK tt=b br=z9hG4bKack
1.201 p>b ACK 1/ACK tt=b br=z9hG4bKack2
9.0 a>p BYE 2/BYE tt=b br=z9hG4bKbye
9.001 p>b BYE 2/BYE tt=b br=z9hG4bKbye2
9.1 b>p 200 2/BYE tt=b br=z9hG4bKbye2
9.101 p>a 200 2/BYE tt=b br=z9hG4bKbye
`},
		{"Rejected", `
0.0 a>b INVITE 1/INVITE
0.1 b>a 486 1/INVITE tt=callee
0.2 a>b ACK 1/ACK tt=callee
0.6 b>a 486 1/INVITE tt=callee
0.65 a>b ACK 1/ACK tt=callee
tick 40
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var twice []string
			for _, line := range strings.Split(strings.TrimSpace(tc.script), "\n") {
				twice = append(twice, line)
				if f := strings.Fields(line); len(f) > 1 && f[0] != "tick" {
					secs, err := strconv.ParseFloat(f[0], 64)
					if err != nil {
						t.Fatal(err)
					}
					twice = append(twice, strconv.FormatFloat(secs+0.00003, 'f', -1, 64)+" "+strings.Join(f[1:], " "))
				}
			}
			want := packetNo.ReplaceAllString(describe(scriptCall(t, runScript(t, tc.script), "call-1")), "packet N")
			got := packetNo.ReplaceAllString(describe(scriptCall(t, runScript(t, strings.Join(twice, "\n")), "call-1")), "packet N")
			if got != want {
				t.Errorf("captured twice:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestSecond100NotAStep: a second 100 of one transaction is no flow step,
// but the 100 of another transaction with the same CSeq (the callee's
// re-INVITE, in its own CSeq space) is, as a flow a user wrote to require
// every 100 shows.
func TestSecond100NotAStep(t *testing.T) {
	flows, err := correlate.ParseFlows(strings.NewReader(`
flow every-100
A -> B INVITE
B -> A 100
B -> A 2xx INVITE
A -> B ACK
A -> B INVITE
B -> A 100
B -> A 2xx INVITE
A -> B ACK
B -> A INVITE
A -> B 100
A -> B 2xx INVITE
B -> A ACK
any -> any BYE
any -> any 2xx BYE
`), "every-100.flow")
	if err != nil {
		t.Fatal(err)
	}
	c := scriptCall(t, runScriptWith(t, correlate.Options{Flows: flows}, `
0.0 a>b INVITE 1/INVITE
0.1 b>a 100 1/INVITE
0.105 b>a 100 1/INVITE hdr=Server:_next-hop
0.5 b>a 200 1/INVITE tt=callee
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKr1
2.1 b>a 100 2/INVITE tt=callee br=z9hG4bKr1
2.2 b>a 200 2/INVITE tt=callee br=z9hG4bKr1
2.3 a>b ACK 2/ACK tt=callee br=z9hG4bKr1a
4.0 b>a INVITE 2/INVITE ft=callee tt=caller br=z9hG4bKr2
4.1 a>b 100 2/INVITE ft=callee tt=caller br=z9hG4bKr2
4.2 a>b 200 2/INVITE ft=callee tt=caller br=z9hG4bKr2
4.3 b>a ACK 2/ACK ft=callee tt=caller br=z9hG4bKr2a
9.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye
9.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye
`), "call-1")
	if c.Flow != "every-100" {
		t.Errorf("flow %q (%s), want every-100", c.Flow, c.Deviation)
	}
}

// TestRetransmissionsOnEachHop: captured on both sides of a NAT that keeps
// the Via, a retransmission is one on each hop it crosses, for requests
// as for responses (RFC 3261 §17: the sender's timer repeats it, the NAT
// relays each copy), and the first sighting on the second hop is none.
// Responses were counted so already; requests only on their first hop.
func TestRetransmissionsOnEachHop(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		want         string // the packets marked, and the finding's detail
	}{
		{"InviteAnd2xx", `
0.0 a>b INVITE 1/INVITE
0.001 p>c INVITE 1/INVITE via=a
0.5 a>b INVITE 1/INVITE
0.501 p>c INVITE 1/INVITE via=a
0.6 c>p 180 1/INVITE tt=callee via=a
0.601 b>a 180 1/INVITE tt=callee
1.5 c>p 200 1/INVITE tt=callee via=a
1.501 b>a 200 1/INVITE tt=callee
1.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
1.601 p>c ACK 1/ACK tt=callee br=z9hG4bKack via=a
2.0 c>p 200 1/INVITE tt=callee via=a
2.001 b>a 200 1/INVITE tt=callee
2.1 a>b ACK 1/ACK tt=callee br=z9hG4bKack
2.101 p>c ACK 1/ACK tt=callee br=z9hG4bKack via=a
5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
5.001 p>c BYE 2/BYE tt=callee br=z9hG4bKbye via=a
5.1 c>p 200 2/BYE tt=callee br=z9hG4bKbye via=a
5.101 b>a 200 2/BYE tt=callee br=z9hG4bKbye
tick 60
`, "[3 4 11 12 13 14] 6 retransmission(s): 2 × INVITE, 2 × 200/INVITE, 2 × ACK"},
		// A BYE lost past the NAT: its retransmission crosses both hops.
		{"ByeLostPastTheNAT", `
0.0 a>b INVITE 1/INVITE
0.001 p>c INVITE 1/INVITE via=a
0.5 c>p 200 1/INVITE tt=callee via=a
0.501 b>a 200 1/INVITE tt=callee
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
0.601 p>c ACK 1/ACK tt=callee br=z9hG4bKack via=a
5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
5.001 p>c BYE 2/BYE tt=callee br=z9hG4bKbye via=a
5.5 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
5.501 p>c BYE 2/BYE tt=callee br=z9hG4bKbye via=a
5.6 c>p 200 2/BYE tt=callee br=z9hG4bKbye via=a
5.601 b>a 200 2/BYE tt=callee br=z9hG4bKbye
tick 60
`, "[9 10] 2 retransmission(s): 2 × BYE"},
		// A busy callee's 486, ACKed on both hops, then sent again: its
		// ACK is sent again too, on both.
		{"AckToNon2xx", `
0.0 a>b INVITE 1/INVITE
0.001 p>c INVITE 1/INVITE via=a
0.1 c>p 486 1/INVITE tt=callee via=a
0.101 b>a 486 1/INVITE tt=callee
0.2 a>b ACK 1/ACK tt=callee
0.201 p>c ACK 1/ACK tt=callee via=a
0.6 c>p 486 1/INVITE tt=callee via=a
0.601 b>a 486 1/INVITE tt=callee
0.7 a>b ACK 1/ACK tt=callee
0.701 p>c ACK 1/ACK tt=callee via=a
tick 60
`, "[7 8 9 10] 4 retransmission(s): 2 × 486/INVITE, 2 × ACK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := scriptCall(t, runScript(t, tc.script), "call-1")
			var marked []int
			for _, m := range c.Legs[0].Messages {
				if m.Retransmission {
					marked = append(marked, m.N)
				}
			}
			got := fmt.Sprint(marked)
			for _, f := range c.Findings {
				if f.Rule == "retransmissions" {
					got += " " + strings.TrimSuffix(f.Detail, " (packet loss or an unresponsive peer)")
				}
			}
			if got != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestPRACKNotAFlowStep: a PRACK (RFC 3262) and its 200 acknowledge a
// reliable provisional response and are no step of the built-in flows: a
// call with 100rel is a basic call, a busy callee's is busy, and a
// deviation is counted and located without them. A flow that names
// PRACK sees them.
func TestPRACKNotAFlowStep(t *testing.T) {
	const reliable183 = `
0.0 a>b INVITE 1/INVITE hdr=Supported:_100rel
0.01 b>a 100 1/INVITE
0.1 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1
0.11 a>b PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_1_1_INVITE
0.12 b>a 200 2/PRACK tt=callee br=z9hG4bKp1
0.5 b>a 180 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_2
0.51 a>b PRACK 3/PRACK tt=callee br=z9hG4bKp2 hdr=RAck:_2_1_INVITE
0.52 b>a 200 3/PRACK tt=callee br=z9hG4bKp2
`
	userFlow, err := correlate.ParseFlows(strings.NewReader(`
flow prack-call
A -> B INVITE
B -> A 100 ?
B -> A 18x
A -> B PRACK
B -> A 2xx PRACK
B -> A 18x
A -> B PRACK
B -> A 2xx PRACK
B -> A 2xx INVITE
A -> B ACK
any -> any BYE
any -> any 2xx BYE

flow prack-answered
A -> B INVITE
...
B -> A 2xx PRACK
...
B -> A 2xx INVITE
...

flow prack-sent
A -> B INVITE
...
A -> B PRACK
...
B -> A 2xx INVITE
...
`), "prack-call.flow")
	if err != nil {
		t.Fatal(err)
	}
	answered := reliable183 + `
1.0 b>a 200 1/INVITE tt=callee
1.1 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>b BYE 4/BYE tt=callee br=z9hG4bKbye
5.1 b>a 200 4/BYE tt=callee br=z9hG4bKbye
tick 60
`
	for _, tc := range []struct {
		name   string
		flows  []*correlate.Flow
		script string
		want   string // flow, or deviation
	}{
		{"Answered", nil, answered, "basic-call"},
		{"Busy", nil, reliable183 + `
1.0 b>a 486 1/INVITE tt=callee
1.1 a>b ACK 1/ACK tt=callee
tick 60
`, "busy"},
		{"DeviationWithoutPRACKs", nil, reliable183 + `
1.0 b>a 200 1/INVITE tt=callee
1.1 a>b ACK 1/ACK tt=callee br=z9hG4bKack
2.0 a>b MESSAGE 4/MESSAGE tt=callee br=z9hG4bKm
2.1 b>a 200 4/MESSAGE tt=callee br=z9hG4bKm
5.0 a>b BYE 5/BYE tt=callee br=z9hG4bKbye
5.1 b>a 200 5/BYE tt=callee br=z9hG4bKbye
tick 60
`, "basic-call: after 6 message(s), expected any -> any BYE, got A -> B MESSAGE (packet 11)"},
		{"UserFlowNamesPRACK", userFlow, answered, "prack-call"},
		{"UserFlowNamesPRACKResponse", userFlow[1:2], answered, "prack-answered"},
		{"UserFlowNamesPRACKRequest", userFlow[2:], answered, "prack-sent"},
		{"UserFlowNeedsPRACK", userFlow, `
0.0 a>b INVITE 1/INVITE
0.1 b>a 180 1/INVITE tt=callee
1.0 b>a 200 1/INVITE tt=callee
1.1 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>b BYE 4/BYE tt=callee br=z9hG4bKbye
5.1 b>a 200 4/BYE tt=callee br=z9hG4bKbye
tick 60
`, "prack-call: after 2 message(s), expected A -> B PRACK, got B -> A 200 INVITE (packet 3)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := scriptCall(t, runScriptWith(t, correlate.Options{Flows: tc.flows}, tc.script), "call-1")
			if got := flowOrDeviation(c); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// flowOrDeviation is the flow c matched, else where it left the closest.
func flowOrDeviation(c *correlate.Call) string {
	if c.Flow != "" {
		return c.Flow
	}
	return c.Deviation
}

// TestFlowGroups: steps between "(" and ")" repeat together as the
// quantifier after ")" says: none (once), ? (at most once), * (any
// number), + (once or more); groups nest. The built-in hold-resume takes
// a pair of re-INVITEs for each hold and resume, and precondition-call an
// UPDATE for each change of the resources before the answer.
func TestFlowGroups(t *testing.T) {
	flowText := func(q string) string {
		return "flow g\nA -> B INVITE\n(\nB -> A 183\nB -> A 180\n) " + q + "\nB -> A 2xx INVITE\nA -> B ACK\nany -> any BYE\nany -> any 2xx BYE\n"
	}
	// call has INVITE, then n pairs of 183 and 180 (each of another
	// length: no retransmission), then 200, ACK, BYE.
	call := func(n int) string {
		var b strings.Builder
		b.WriteString("0.0 a>b INVITE 1/INVITE\n")
		for i := range n {
			x := strings.Repeat("x", i+1)
			fmt.Fprintf(&b, "0.%d1 b>a 183 1/INVITE tt=callee hdr=X-N:_%s\n0.%d2 b>a 180 1/INVITE tt=callee hdr=X-N:_%s\n", i+1, x, i+1, x)
		}
		b.WriteString("1.0 b>a 200 1/INVITE tt=callee\n1.1 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n5.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye\n5.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye\ntick 60\n")
		return b.String()
	}
	for _, tc := range []struct {
		quant string
		match [4]bool // with 0, 1, 2, 3 repeats of the group
	}{
		{"", [4]bool{false, true, false, false}},
		{"?", [4]bool{true, true, false, false}},
		{"*", [4]bool{true, true, true, true}},
		{"+", [4]bool{false, true, true, true}},
	} {
		flows, err := correlate.ParseFlows(strings.NewReader(flowText(tc.quant)), "g.flow")
		if err != nil {
			t.Fatal(err)
		}
		for n, want := range tc.match {
			c := scriptCall(t, runScriptWith(t, correlate.Options{Flows: flows}, call(n)), "call-1")
			if got := c.Flow == "g"; got != want {
				t.Errorf(") %s, %d repeats: matched %t, want %t (%s)", tc.quant, n, got, want, c.Deviation)
			}
			// The deviation names the group's first step, not its "(".
			if dev := "g: after 1 message(s), expected B -> A 183, got B -> A 200 INVITE (packet 2)"; tc.quant == "" && n == 0 && c.Deviation != dev {
				t.Errorf("deviation %q, want %q", c.Deviation, dev)
			}
		}
	}

	// A flow made by hand whose group ends are unbalanced matches nothing.
	step := func(from, to, method, status string) correlate.Step {
		return correlate.Step{From: from, To: to, Method: method, Status: status, Min: 1, Max: 1}
	}
	for _, end := range []byte{'(', ')'} {
		bad := []*correlate.Flow{{Name: "bad", Steps: []correlate.Step{step("A", "B", "INVITE", ""),
			{Group: end, Min: 0, Max: -1}, {Any: true, Max: -1}}}}
		if c := scriptCall(t, runScriptWith(t, correlate.Options{Flows: bad}, call(1)), "call-1"); c.Flow != "" {
			t.Errorf("a lone %q matched", end)
		}
	}

	// Nested: a group of (183, then one or more 180s), once at least.
	nested, err := correlate.ParseFlows(strings.NewReader("flow n\nA -> B INVITE\n(\nB -> A 183\n(\nB -> A 180\n) +\n) +\nB -> A 2xx INVITE\n...\n"), "n.flow")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		script string
		want   bool
	}{
		{call(2), true},
		{"0.0 a>b INVITE 1/INVITE\n0.1 b>a 183 1/INVITE tt=callee\n0.2 b>a 180 1/INVITE tt=callee\n0.3 b>a 180 1/INVITE tt=callee hdr=X-N:_xx\n0.4 b>a 183 1/INVITE tt=callee hdr=X-N:_xxx\n0.5 b>a 180 1/INVITE tt=callee hdr=X-N:_xxxx\n1.0 b>a 200 1/INVITE tt=callee\ntick 60\n", true},
		{"0.0 a>b INVITE 1/INVITE\n0.1 b>a 183 1/INVITE tt=callee\n0.4 b>a 183 1/INVITE tt=callee hdr=X-N:_xxx\n0.5 b>a 180 1/INVITE tt=callee\n1.0 b>a 200 1/INVITE tt=callee\ntick 60\n", false},
	} {
		c := scriptCall(t, runScriptWith(t, correlate.Options{Flows: nested}, tc.script), "call-1")
		if got := c.Flow == "n"; got != tc.want {
			t.Errorf("nested groups: matched %t, want %t (%s)\n%s", got, tc.want, c.Deviation, tc.script)
		}
	}

	// The built-in flows.
	reinvite := func(at float64, cseq int, dir, version string) string {
		return fmt.Sprintf("%.1f a>b INVITE %d/INVITE tt=callee br=z9hG4bKr%d sdp=%s:%s\n%.1f b>a 200 %d/INVITE tt=callee br=z9hG4bKr%d sdp=%s:%s\n%.1f a>b ACK %d/ACK tt=callee br=z9hG4bKa%d\n",
			at, cseq, cseq, version, dir, at+0.1, cseq, cseq, version, dir, at+0.2, cseq, cseq)
	}
	start := "0.0 a>b INVITE 1/INVITE sdp=1\n0.1 b>a 180 1/INVITE tt=callee\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"
	end := "20.0 a>b BYE 9/BYE tt=callee br=z9hG4bKbye\n20.1 b>a 200 9/BYE tt=callee br=z9hG4bKbye\ntick 60\n"
	for _, tc := range []struct {
		name, script, want string
	}{
		{"HeldAndResumedTwice", start + reinvite(2, 2, "sendonly", "2") + reinvite(4, 3, "sendrecv", "3") +
			reinvite(6, 4, "sendonly", "4") + reinvite(8, 5, "sendrecv", "5") + end, "hold-resume"},
		{"HeldNeverResumed", start + reinvite(2, 2, "sendonly", "2") + end,
			"hold-resume: after 7 message(s), expected any -> any INVITE [resume], got A -> B BYE (packet 8)"},
		{"PreconditionsTwice", `
0.0 a>b INVITE 1/INVITE sdp=1
0.01 b>a 100 1/INVITE
0.1 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_1 sdp=1
0.11 a>b PRACK 2/PRACK tt=callee br=z9hG4bKp1 hdr=RAck:_1_1_INVITE
0.12 b>a 200 2/PRACK tt=callee br=z9hG4bKp1
0.2 a>b UPDATE 3/UPDATE tt=callee br=z9hG4bKu1 sdp=2
0.21 b>a 200 3/UPDATE tt=callee br=z9hG4bKu1 sdp=2
0.3 b>a 183 1/INVITE tt=callee hdr=Require:_100rel hdr=RSeq:_2 sdp=2
0.31 a>b PRACK 4/PRACK tt=callee br=z9hG4bKp2 hdr=RAck:_2_1_INVITE
0.32 b>a 200 4/PRACK tt=callee br=z9hG4bKp2
0.4 a>b UPDATE 5/UPDATE tt=callee br=z9hG4bKu2 sdp=3
0.41 b>a 200 5/UPDATE tt=callee br=z9hG4bKu2 sdp=3
1.0 b>a 200 1/INVITE tt=callee
1.1 a>b ACK 1/ACK tt=callee br=z9hG4bKack
` + end, "precondition-call"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := scriptCall(t, runScript(t, tc.script), "call-1")
			if got := flowOrDeviation(c); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFlowViewLeavesOut: what says nothing of the call is no step of its
// flow: a REGISTER (challenged or not) with the call's Call-ID before its
// INVITE, as SIPp's load scenarios send one; a 100 after a 180; a 100 to a
// BYE. A registration keeps its REGISTERs.
func TestFlowViewLeavesOut(t *testing.T) {
	const (
		call = "1.0 a>b INVITE 1/INVITE sdp=1\n1.1 b>a 180 1/INVITE tt=callee\n1.5 b>a 200 1/INVITE tt=callee sdp=1\n1.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"
		end  = "20.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye\n20.1 b>a 200 2/BYE tt=callee br=z9hG4bKbye\ntick 60\n"
		reg  = "0.0 a>b REGISTER 1/REGISTER br=z9hG4bKreg1\n0.1 b>a 401 1/REGISTER tt=r1 br=z9hG4bKreg1\n0.2 a>b REGISTER 2/REGISTER br=z9hG4bKreg2 auth\n0.3 b>a 200 2/REGISTER tt=r2 br=z9hG4bKreg2\n"
	)
	for _, tc := range []struct {
		name, script, want string
	}{
		{"a REGISTER before the INVITE", "0.0 a>b REGISTER 1/REGISTER br=z9hG4bKreg\n0.1 b>a 200 1/REGISTER tt=r br=z9hG4bKreg\n" + call + end, "basic-call"},
		{"a challenged REGISTER before the INVITE", reg + strings.ReplaceAll(call, " 1/", " 3/") + end, "basic-call"},
		{"a 100 after the 180", strings.Replace(call, "1.5 ", "1.2 b>a 100 1/INVITE\n1.5 ", 1) + end, "basic-call"},
		{"a 100 to the BYE", call + strings.Replace(end, "20.1 ", "20.05 b>a 100 2/BYE\n20.1 ", 1), "basic-call"},
		{"a registration", reg + "tick 60\n", "register-digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := scriptCall(t, runScript(t, tc.script), "call-1")
			if got := flowOrDeviation(c); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFlowDirectToRemoteTarget: a proxy that does not Record-Route
// leaves the dialog's route set empty, so the caller's ACK and the
// in-dialog requests of both parties go straight to the other's remote
// target, the Contact of the 2xx or of the INVITE, which their
// Request-URI names (RFC 3261 §12.1, §12.2.1.1, §16.6 step 4). They are
// on the caller's hop as much as the INVITE sent to the proxy: a call so
// made is a basic-call, as one through a proxy that Record-Routes is. A
// route set, a request sent where its Request-URI does not say, or a
// Request-URI that names a host (which sipflow does not resolve) leaves
// the view as it was (SIP-Call-with-Proxy-Server.pcap, found by review).
func TestFlowDirectToRemoteTarget(t *testing.T) {
	// invite is the INVITE through proxy p to b, and its answers on both
	// hops; rr is added to each 2xx.
	invite := func(rr string) string {
		return `
0.0 a>p INVITE 1/INVITE sdp=1 ruri=sip:bob@10.0.0.3
0.01 p>a 100 1/INVITE
0.02 p>b INVITE 1/INVITE br=z9hG4bKp sdp=1 ruri=b
0.03 b>p 100 1/INVITE br=z9hG4bKp
0.1 b>p 180 1/INVITE tt=callee br=z9hG4bKp
0.11 p>a 180 1/INVITE tt=callee
0.7 b>p 200 1/INVITE tt=callee br=z9hG4bKp sdp=1` + rr + `
0.71 p>a 200 1/INVITE tt=callee sdp=1` + rr + "\n"
	}
	const rr = " hdr=Record-Route:_<sip:10.0.0.3;lr>"
	// direct: the ACK to b's Contact, the callee's BYE to a's, its 200.
	const direct = `0.75 a>b ACK 1/ACK tt=callee br=z9hG4bKack ruri=b
3.0 b>a BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye ruri=a
3.01 a>b 200 1/BYE ft=callee tt=caller br=z9hG4bKbye
tick 60
`
	const unmatched = "basic-call: after 4 message(s), expected A -> B ACK, but the call ended"
	const forked = "flow forked\nA -> B INVITE\nB -> A 2xx INVITE\nB -> A 2xx INVITE\nA -> B ACK\nA -> B ACK\nA -> B BYE\nB -> A 2xx BYE\nA -> B BYE\nB -> A 2xx BYE\n"
	// fork is an INVITE forked by p to b and c, both answering: the
	// caller ACKs both and ends c's dialog at once. How is said by
	// after: the ACKs and the BYEs.
	fork := func(rr, after string) string {
		return `
0.0 a>p INVITE 1/INVITE ruri=sip:bob@10.0.0.3
0.01 p>b INVITE 1/INVITE br=z9hG4bKpb ruri=b
0.01 p>c INVITE 1/INVITE br=z9hG4bKpc ruri=c
0.5 b>p 200 1/INVITE tt=b1 br=z9hG4bKpb` + rr + `
0.51 p>a 200 1/INVITE tt=b1` + rr + `
0.6 c>p 200 1/INVITE tt=c1 br=z9hG4bKpc` + rr + `
0.61 p>a 200 1/INVITE tt=c1` + rr + "\n" + after + "tick 60\n"
	}
	for _, tc := range []struct {
		name, flows, script, want string
	}{
		{"NoRecordRoute", "", invite("") + direct, "basic-call"},
		{"NoRecordRouteCallerHangsUp", "", invite("") + `0.75 a>b ACK 1/ACK tt=callee br=z9hG4bKack ruri=b
3.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye ruri=b
3.01 b>a 200 2/BYE tt=callee br=z9hG4bKbye
tick 60
`, "basic-call"},
		// The proxy stays on the path: its hops are the caller's, as before.
		{"RecordRoute", "", invite(rr) + `0.75 a>p ACK 1/ACK tt=callee br=z9hG4bKack ruri=b
0.76 p>b ACK 1/ACK tt=callee br=z9hG4bKack2 ruri=b
3.0 b>p BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye ruri=a
3.01 p>a BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye2 ruri=a
3.02 a>p 200 1/BYE ft=callee tt=caller br=z9hG4bKbye2
3.03 p>b 200 1/BYE ft=callee tt=caller br=z9hG4bKbye
tick 60
`, "basic-call"},
		// A route set, and the requests go past it: not on the route the
		// dialog set, so not on the caller's hop either.
		{"RecordRouteIgnored", "", invite(rr) + direct, unmatched},
		// Sent elsewhere than its Request-URI names: no remote target.
		{"NotToTheRequestURI", "", invite("") + `0.75 a>c ACK 1/ACK tt=callee br=z9hG4bKack ruri=b
3.0 a>c BYE 2/BYE tt=callee br=z9hG4bKbye ruri=b
3.01 c>a 200 2/BYE tt=callee br=z9hG4bKbye
tick 60
`, unmatched},
		// A Request-URI that names a host: where it resolves is not known.
		{"HostName", "", invite("") + strings.ReplaceAll(strings.ReplaceAll(direct, "ruri=b", "ruri=sip:bob@bob.example.com"), "ruri=a", "ruri=sip:alice@alice.example.com"), unmatched},
		// The callee's BYE goes to the caller's Contact, which names
		// another address than the caller's packets came from (q: a
		// phone behind NAT, or a host of two addresses).
		{"CallersContactElsewhere", "", invite("") + `0.75 a>b ACK 1/ACK tt=callee br=z9hG4bKack ruri=b
3.0 b>q BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye ruri=q
3.01 q>b 200 1/BYE ft=callee tt=caller br=z9hG4bKbye
tick 60
`, "basic-call"},
		// The callee's BYE reaches the caller before its ACK was captured:
		// its sender is placed by where it went (the caller's Contact).
		{"BYEFirst", "", invite("") + `3.0 b>a BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye ruri=a
3.01 a>b 200 1/BYE ft=callee tt=caller br=z9hG4bKbye
tick 60
`, "basic-call: after 4 message(s), expected A -> B ACK, got B -> A BYE (packet 9)"},
		// Over TCP, the caller's ACK from another port of its host (a
		// connection of its own), the callee's BYE back over it: placed
		// by the ACK.
		{"TCP", "", strings.ReplaceAll(strings.ReplaceAll(invite(""), "a>", "w>"), ">a", ">w") + `0.75 n>b ACK 1/ACK tt=callee br=z9hG4bKack ruri=b tcp
3.0 b>n BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye ruri=w tcp
3.01 n>b 200 1/BYE ft=callee tt=caller br=z9hG4bKbye tcp
tick 60
`, "basic-call"},
		// The callee on the proxy's host, at another port (s): its
		// address is the other side's already.
		{"ProxyOnTheCalleesHost", "", rehost(invite("")+direct, "b", "s"), "basic-call"},
		{"IPv6", "", strings.ReplaceAll(rehost(invite("")+direct, "a", "e", "p", "g", "b", "f"), " sdp=1", ""), "basic-call"},
		// The callee moves to c, and its re-INVITE's Contact says so (a
		// target refresh, RFC 3261 §12.2): the caller's requests go there
		// from then on.
		{"TargetRefreshed", "", invite("") + `0.75 a>b ACK 1/ACK tt=callee br=z9hG4bKack ruri=b
5.0 c>a INVITE 1/INVITE ft=callee tt=caller br=z9hG4bKr ruri=a sdp=2
5.1 a>c 200 1/INVITE ft=callee tt=caller br=z9hG4bKr sdp=2
5.2 c>a ACK 1/ACK ft=callee tt=caller br=z9hG4bKra ruri=a
9.0 a>c BYE 2/BYE tt=callee br=z9hG4bKbye ruri=c
9.1 c>a 200 2/BYE tt=callee br=z9hG4bKbye
tick 60
`, "reinvite"},
		// Forked, each dialog's requests to its own remote target: the
		// view is the one a proxy that Record-Routes gives.
		{"Forked", forked, fork("", `0.65 a>b ACK 1/ACK tt=b1 br=z9hG4bKab ruri=b
0.66 a>c ACK 1/ACK tt=c1 br=z9hG4bKac ruri=c
0.7 a>c BYE 2/BYE tt=c1 br=z9hG4bKbc ruri=c
0.71 c>a 200 2/BYE tt=c1 br=z9hG4bKbc
9.0 a>b BYE 3/BYE tt=b1 br=z9hG4bKbb ruri=b
9.01 b>a 200 3/BYE tt=b1 br=z9hG4bKbb
`), "forked"},
		{"ForkedRecordRoute", forked, fork(rr, `0.65 a>p ACK 1/ACK tt=b1 br=z9hG4bKab ruri=b
0.655 p>b ACK 1/ACK tt=b1 br=z9hG4bKab2 ruri=b
0.66 a>p ACK 1/ACK tt=c1 br=z9hG4bKac ruri=c
0.665 p>c ACK 1/ACK tt=c1 br=z9hG4bKac2 ruri=c
0.7 a>p BYE 2/BYE tt=c1 br=z9hG4bKbc ruri=c
0.705 p>c BYE 2/BYE tt=c1 br=z9hG4bKbc2 ruri=c
0.71 c>p 200 2/BYE tt=c1 br=z9hG4bKbc2
0.715 p>a 200 2/BYE tt=c1 br=z9hG4bKbc
9.0 a>p BYE 3/BYE tt=b1 br=z9hG4bKbb ruri=b
9.005 p>b BYE 3/BYE tt=b1 br=z9hG4bKbb2 ruri=b
9.01 b>p 200 3/BYE tt=b1 br=z9hG4bKbb2
9.015 p>a 200 3/BYE tt=b1 br=z9hG4bKbb
`), "forked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, opts := range []correlate.Options{{}, {KeepSDP: true}} { // calls, and flow and report: they agree
				opts.Flows = userFlows(t, tc.flows)
				if tc.flows != "" {
					opts.Flows = append(opts.Flows, correlate.DefaultFlows()...)
				}
				c := scriptCall(t, runScriptWith(t, opts, tc.script), "call-1")
				if got := flowOrDeviation(c); got != tc.want {
					t.Errorf("KeepSDP %t: got %q, want %q", opts.KeepSDP, got, tc.want)
				}
			}
		})
	}
}

// rehost is script with its hosts renamed, each old name (in SRC>DST,
// and ruri=) followed by its new one in pairs.
func rehost(script string, pairs ...string) string {
	names := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		names[pairs[i]] = pairs[i+1]
	}
	rename := func(h string) string {
		if n, ok := names[h]; ok {
			return n
		}
		return h
	}
	lines := strings.Split(script, "\n")
	for i, line := range lines {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] == "tick" {
			continue
		}
		src, dst, _ := strings.Cut(f[1], ">")
		f[1] = rename(src) + ">" + rename(dst)
		for j := 2; j < len(f); j++ {
			if h, ok := strings.CutPrefix(f[j], "ruri="); ok {
				f[j] = "ruri=" + rename(h)
			}
		}
		lines[i] = strings.Join(f, " ")
	}
	return strings.Join(lines, "\n")
}

// userFlows parses text as a user's flows file; nil (the built-in flows)
// when text is empty.
func userFlows(t *testing.T, text string) []*correlate.Flow {
	t.Helper()
	if text == "" {
		return nil
	}
	flows, err := correlate.ParseFlows(strings.NewReader(text), "user.flow")
	if err != nil {
		t.Fatal(err)
	}
	return flows
}

// TestIncidentalMessages: a PRACK, an INFO (DTMF) or an OPTIONS in a call
// (a keepalive) is no step of its flow: the view leaves them out, and
// their responses, unless the flow names the method, each flow by what it
// names; an OPTIONS ping is its own flow's.
func TestIncidentalMessages(t *testing.T) {
	const (
		call  = "1.0 a>b INVITE 1/INVITE sdp=1\n1.1 b>a 180 1/INVITE tt=callee\n1.5 b>a 200 1/INVITE tt=callee sdp=1\n1.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"
		info  = "5.0 a>b INFO 2/INFO tt=callee br=z9hG4bKi\n5.1 b>a 200 2/INFO tt=callee br=z9hG4bKi\n"
		opts  = "6.0 b>a OPTIONS 1/OPTIONS ft=callee tt=caller br=z9hG4bKo\n6.1 a>b 200 1/OPTIONS ft=callee tt=caller br=z9hG4bKo\n"
		end   = "20.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye\n20.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye\ntick 60\n"
		dtmf  = "flow dtmf\nA -> B INVITE\nB -> A 18x *\nB -> A 2xx INVITE\nA -> B ACK\nA -> B INFO +\nB -> A 2xx INFO\nany -> any BYE\nany -> any 2xx BYE\n"
		dtmf2 = "flow dtmf2\nA -> B INVITE\nB -> A 18x *\nB -> A 2xx INVITE\nA -> B ACK\nA -> B INFO\nB -> A 2xx INFO\nA -> B INFO\nB -> A 2xx INFO\nany -> any BYE\nany -> any 2xx BYE\n"
		// basic is basic-call's steps, written out, for a user's flows
		basic = "flow basic\nA -> B INVITE\nB -> A 18x *\nB -> A 2xx INVITE\nA -> B ACK\nany -> any BYE\nany -> any 2xx BYE\n"
	)
	for _, tc := range []struct {
		name, flows, script, want string
	}{
		{"DTMF by INFO", "", call + info + end, "basic-call"},
		{"a keepalive OPTIONS from the callee", "", call + opts + end, "basic-call"},
		{"both, and a 100 to the INFO", "", call + strings.Replace(info, "5.1 ", "5.05 b>a 100 2/INFO tt=callee br=z9hG4bKi\n5.1 ", 1) + opts + end, "basic-call"},
		{"an OPTIONS ping", "", "0.0 a>b OPTIONS 1/OPTIONS br=z9hG4bKp\n0.1 b>a 200 1/OPTIONS tt=x br=z9hG4bKp\ntick 60\n", "options-ping"},
		{"a flow that names INFO sees it", dtmf + basic, call + info + opts + end, "dtmf"},
		{"and asks it", dtmf, call + end, "dtmf: after 4 message(s), expected A -> B INFO +, got A -> B BYE (packet 5)"},
		{"a flow that names none leaves them out", dtmf + basic, call + opts + end, "basic"},
		{"each flow its own view", dtmf2 + basic, call + info + opts + end, "basic"},
		// Out of a call an OPTIONS is what the view is about: a flow
		// whose steps are all optional does not take an OPTIONS ping
		// (found by review).
		{"an OPTIONS ping is no call", "flow reg\nA -> B REGISTER ?\nB -> A 2xx REGISTER ?\nflow ping\nA -> B OPTIONS\nB -> A 2xx OPTIONS\n",
			"0.0 a>b OPTIONS 1/OPTIONS br=z9hG4bKp\n0.1 b>a 200 1/OPTIONS tt=x br=z9hG4bKp\ntick 60\n", "ping"},
		{"a deviation is told without them", basic, call + info + "10.0 a>b INVITE 4/INVITE tt=callee br=z9hG4bKr sdp=2\n" + end,
			"basic: after 4 message(s), expected any -> any BYE, got A -> B INVITE (packet 7)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := correlate.Options{Flows: userFlows(t, tc.flows)}
			if got := flowOrDeviation(scriptCall(t, runScriptWith(t, opts, tc.script), "call-1")); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDTMFEvents: an INFO that carries a key (application/dtmf-relay) is
// a dtmf event that says who pressed it and how long; a proxy's relay of
// it on another hop, or its retransmission, is none; an INFO without a
// key is none either.
func TestDTMFEvents(t *testing.T) {
	script := proxyCall +
		"5.0 a>p INFO 2/INFO tt=callee br=z9hG4bKi2 dtmf=5:160\n5.01 p>b INFO 2/INFO tt=callee br=z9hG4bKj2 dtmf=5:160\n" +
		"5.5 a>p INFO 2/INFO tt=callee br=z9hG4bKi2 dtmf=5:160\n" + // sent again
		"5.6 b>p 200 2/INFO tt=callee br=z9hG4bKj2\n5.61 p>a 200 2/INFO tt=callee br=z9hG4bKi2\n" +
		"6.0 a>p INFO 3/INFO tt=callee br=z9hG4bKi3 dtmf=#\n6.01 p>b INFO 3/INFO tt=callee br=z9hG4bKj3 dtmf=#\n" +
		"7.0 b>p INFO 1/INFO ft=callee tt=caller br=z9hG4bKk1 dtmf=1:100\n" +
		"8.0 a>p INFO 4/INFO tt=callee br=z9hG4bKi4 hdr=X-Note:_no_key\n" + proxyEnd
	c := scriptCall(t, runScript(t, script), "call-1")
	want := "dtmf 7 by the caller: 5 (160 ms); dtmf 12 by the caller: #; dtmf 14 by the callee: 1 (100 ms)"
	if got := eventsOf(c, true); got != want {
		t.Errorf("events %q,\nwant %q", got, want)
	}

	// A B2BUA relays the INFO on its other leg: one event, not two (found
	// by review); the callee's own key on that leg is its own.
	const l2 = " cid=leg-2 ft=p2 tt=b2"
	b2bua := "0.0 a>p INVITE 1/INVITE sdp=1\n0.01 p>b INVITE 1/INVITE cid=leg-2 ft=p2 hdr=X-Call-ID:_call-1 sdp=1\n" +
		"0.5 b>p 200 1/INVITE" + l2 + " sdp=1\n0.51 p>a 200 1/INVITE tt=callee sdp=1\n" +
		"0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack\n0.61 p>b ACK 1/ACK" + l2 + " br=z9hG4bKack2\n" +
		"5.0 a>p INFO 2/INFO tt=callee br=z9hG4bKi dtmf=5:160\n5.01 p>a 200 2/INFO tt=callee br=z9hG4bKi\n" +
		"5.02 p>b INFO 2/INFO" + l2 + " br=z9hG4bKj dtmf=5:160\n5.03 b>p 200 2/INFO" + l2 + " br=z9hG4bKj\n" +
		"6.0 b>p INFO 1/INFO cid=leg-2 ft=b2 tt=p2 br=z9hG4bKk dtmf=5\n" +
		"20.0 a>p BYE 9/BYE tt=callee br=z9hG4bKbye\n20.01 p>a 200 9/BYE tt=callee br=z9hG4bKbye\n" +
		"20.02 p>b BYE 9/BYE" + l2 + " br=z9hG4bKbye2\n20.1 b>p 200 9/BYE" + l2 + " br=z9hG4bKbye2\ntick 60\n"
	if c := scriptCall(t, runScript(t, b2bua), "call-1"); eventsOf(c, false) != "dtmf 7; dtmf 11" || len(c.Legs) != 2 {
		t.Errorf("B2BUA: %d legs, events %q, want 2 legs, dtmf 7; dtmf 11", len(c.Legs), eventsOf(c, false))
	}

	// Proxies around the B2BUA p (found by the third review): q before it
	// on the first leg (a>q>p), on both legs (p>q>b), or after it on the
	// second (p>q>b): the copy comes from an address some hop of the first
	// went to, and its relay is none either; the callee's own key is one.
	const (
		l1 = " tt=callee"
		b2 = " cid=leg-2 ft=b2 tt=p2"
	)
	info := func(at float64, from, to, tags string, cseq int, key string) string {
		return fmt.Sprintf("%.2f %s>%s INFO %d/INFO%s br=z9hG4bKi%s%s%d dtmf=%s:160\n", at, from, to, cseq, tags, from, to, cseq, key)
	}
	legs := func(first, second string) string { // hops "a>q>p" and "p>b"
		hops := func(path string) [][2]string {
			n := strings.Split(path, ">")
			var h [][2]string
			for i := 0; i+1 < len(n); i++ {
				h = append(h, [2]string{n[i], n[i+1]})
			}
			return h
		}
		var b strings.Builder
		at := 0.0
		add := func(path, tags, extra string) {
			for _, h := range hops(path) {
				fmt.Fprintf(&b, "%.2f %s>%s INVITE 1/INVITE%s br=z9hG4bKv%s%s%s sdp=1\n", at, h[0], h[1], strings.Replace(tags, " tt=callee", "", 1), h[0], h[1], extra)
				at += 0.01
			}
		}
		add(first, "", "")
		add(second, " cid=leg-2 ft=p2", " hdr=X-Call-ID:_call-1")
		hs := hops(second)
		for i := len(hs) - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "%.2f %s>%s 200 1/INVITE%s br=z9hG4bKv%s%s sdp=1\n", 0.5+at, hs[i][1], hs[i][0], l2, hs[i][0], hs[i][1])
			at += 0.01
		}
		hf := hops(first)
		for i := len(hf) - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "%.2f %s>%s 200 1/INVITE%s br=z9hG4bKv%s%s sdp=1\n", 0.5+at, hf[i][1], hf[i][0], l1, hf[i][0], hf[i][1])
			at += 0.01
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, script, want string
	}{
		{"a proxy before the B2BUA", legs("a>q>p", "p>b") + info(5, "a", "q", l1, 2, "5") + info(5.01, "q", "p", l1, 2, "5") +
			info(5.02, "p", "b", l2, 2, "5") + "tick 60\n", "dtmf 7"},
		{"and the callee's own key", legs("a>q>p", "p>b") + info(5, "a", "q", l1, 2, "5") + info(5.01, "q", "p", l1, 2, "5") +
			info(5.5, "b", "p", b2, 1, "5") + "tick 60\n", "dtmf 7; dtmf 9"},
		{"a proxy after the B2BUA", legs("a>p", "p>q>b") + info(5, "a", "p", l1, 2, "5") + info(5.01, "p", "q", l2, 2, "5") +
			info(5.02, "q", "b", l2, 2, "5") + "tick 60\n", "dtmf 7"},
	} {
		if c := scriptCall(t, runScript(t, tc.script), "call-1"); eventsOf(c, false) != tc.want || len(c.Legs) != 2 {
			t.Errorf("%s: %d legs, events %q, want 2 legs, %s", tc.name, len(c.Legs), eventsOf(c, false), tc.want)
		}
	}
	if c.Flow != "basic-call" {
		t.Errorf("flow %q, want basic-call (an INFO is no step)", flowOrDeviation(c))
	}
}

// TestFlowConditions: a step's conditions ([hold], [t38], [sdp]...) ask
// what the message did, as the call's events say it, on the view's own
// hop and leg: hold-resume takes a hold and a resume, not any two
// re-INVITEs; t38-fax a switch to T.38 that its 2xx accepted; the events
// and the marks agree on a hold refused and asked again; a deviation
// says what the message did when only its conditions kept it from the
// step; and calls of one shape that differ in what they did are told
// apart by the matcher's memo.
func TestFlowConditions(t *testing.T) {
	const (
		start = "0.0 a>b INVITE 1/INVITE sdp=1\n0.1 b>a 180 1/INVITE tt=callee\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"
		end   = "20.0 a>b BYE 9/BYE tt=callee br=z9hG4bKbye\n20.1 b>a 200 9/BYE tt=callee br=z9hG4bKbye\ntick 60\n"
		t38A  = "media=m=image_4002_udptl_t38"
		t38B  = "media=m=image_5002_udptl_t38"
	)
	// re is a re-INVITE from a with its answer and ACK; offer and answer
	// follow sdp=VERSION (":sendonly", " media=...").
	re := func(at float64, cseq int, status, offer, answer string) string {
		if answer != "" {
			answer = " sdp=" + answer
		}
		return fmt.Sprintf("%.1f a>b INVITE %d/INVITE tt=callee br=z9hG4bKr%d sdp=%s\n%.1f b>a %s %d/INVITE tt=callee br=z9hG4bKr%d%s\n%.1f a>b ACK %d/ACK tt=callee br=z9hG4bKa%d\n",
			at, cseq, cseq, offer, at+0.1, status, cseq, cseq, answer, at+0.2, cseq, cseq)
	}
	// reB is the callee's re-INVITE, answered 200, and its ACK.
	reB := func(at float64, cseq int, offer, answer string) string {
		return fmt.Sprintf("%.1f b>a INVITE %d/INVITE ft=callee tt=caller br=z9hG4bKb%d sdp=%s\n%.1f a>b 200 %d/INVITE ft=callee tt=caller br=z9hG4bKb%d sdp=%s\n%.1f b>a ACK %d/ACK ft=callee tt=caller br=z9hG4bKab%d\n",
			at, cseq, cseq, offer, at+0.1, cseq, cseq, answer, at+0.2, cseq, cseq)
	}
	lateOffer := "flow late-offer\nA -> B INVITE\nB -> A 18x *\nB -> A 2xx INVITE [sdp]\nA -> B ACK [sdp]\n...\n"
	// markedFlow asks a late hold's 200 for a mark it never has (found by
	// review: with a session timer it had [hold]).
	markedFlow := "flow marked\nA -> B INVITE\nB -> A 18x *\nB -> A 2xx INVITE\nA -> B ACK\nA -> B INVITE [hold]\nB -> A 2xx INVITE [t38]\nA -> B ACK\n...\n"
	timerStart := strings.Replace(start, "0.5 b>a 200 1/INVITE tt=callee sdp=1", "0.5 b>a 200 1/INVITE tt=callee sdp=1 hdr=Session-Expires:_1800;refresher=uac", 1)
	timerBoth := strings.Replace(timerStart, "0.0 a>b INVITE 1/INVITE sdp=1", "0.0 a>b INVITE 1/INVITE sdp=1 hdr=Session-Expires:_1800", 1)
	referFlow := "flow refer\nA -> B INVITE\n...\nA -> B INVITE\nB -> A 2xx INVITE [sdp]\nB -> A REFER\nA -> B 202 REFER\nA -> B ACK [sdp]\nA -> B BYE\nB -> A 2xx BYE\n"
	// lateRefer is the caller's re-INVITE without SDP, the callee's 200
	// offering offer, the callee's REFER and its 202, then the ACK
	// answering answer.
	lateRefer := func(offer, answer string) string {
		return "2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKla2\n2.01 b>a 200 2/INVITE tt=callee br=z9hG4bKla2 sdp=" + offer + "\n" +
			"2.015 b>a REFER 7/REFER ft=callee tt=caller br=z9hG4bKr hdr=Refer-To:_<sip:c@x>\n2.016 a>b 202 7/REFER ft=callee tt=caller br=z9hG4bKr\n" +
			"2.02 a>b ACK 2/ACK tt=callee br=z9hG4bKma2 sdp=" + answer + "\n"
	}
	late := "0.0 a>b INVITE 1/INVITE\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack sdp=1\n" + end
	for _, tc := range []struct {
		name, flows, script string
		want, events        string // flow or deviation; the events, "kind packet" each
	}{
		{"held and resumed", "", start + re(2, 2, "200", "2:sendonly", "2:recvonly") + re(4, 3, "200", "3", "3") + end, "hold-resume", "hold 5; resume 8"},
		{"two codec changes are no hold, but a media change", "", start + re(2, 2, "200", "2 media=m=audio_4000_RTP/AVP_8", "2 media=m=audio_5000_RTP/AVP_8") +
			re(4, 3, "200", "3 media=m=audio_4000_RTP/AVP_0", "3 media=m=audio_5000_RTP/AVP_0") + end,
			"reinvite", ""},
		{"a hold refused, asked again and accepted, resumed", "", start + re(2, 2, "488", "2:sendonly", "") + re(3, 3, "200", "3:sendonly", "3:recvonly") +
			re(4, 4, "200", "4", "4") + end,
			"hold-resume: after 5 message(s), expected any -> any 2xx INVITE, got B -> A 488 INVITE (packet 6)", "hold 5; hold 8; resume 11"},
		{"a resume refused leaves the call held", "", start + re(2, 2, "200", "2:sendonly", "2:recvonly") + re(3, 3, "488", "3", "") +
			re(4, 4, "200", "4", "4") + end,
			"hold-resume: after 8 message(s), expected any -> any 2xx INVITE, got B -> A 488 INVITE (packet 9)", "hold 5; resume 8; resume 11"},
		// The sender makes no new offer before the last is answered (RFC
		// 3261 §14.1): the one whose answer the capture lacks was accepted.
		{"a hold whose answer was not captured, asked again", "", start + "2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKlost sdp=2:sendonly\n" +
			re(3, 3, "200", "3:sendonly", "3:recvonly") + end, "hold-resume: after 5 message(s), expected any -> any 2xx INVITE, got A -> B INVITE (packet 6)", "hold 5"},
		{"a hold whose answer was not captured, then resumed", "", start + "2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKlost sdp=2:sendonly\n" +
			re(3, 3, "200", "3", "3") + end, "hold-resume: after 5 message(s), expected any -> any 2xx INVITE, got A -> B INVITE (packet 6)", "hold 5; resume 6"},
		{"a hold challenged (407) and sent again with credentials", "", start +
			"2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKh1 sdp=2:sendonly\n2.1 b>a 407 2/INVITE tt=callee br=z9hG4bKh1\n2.2 a>b ACK 2/ACK tt=callee br=z9hG4bKh1\n" +
			"2.3 a>b INVITE 3/INVITE tt=callee br=z9hG4bKh2 auth sdp=2:sendonly\n2.4 b>a 200 3/INVITE tt=callee br=z9hG4bKh2 sdp=2:recvonly\n2.5 a>b ACK 3/ACK tt=callee br=z9hG4bKa2\n" +
			re(4, 4, "200", "3", "3") + end, "hold-resume: after 5 message(s), expected any -> any 2xx INVITE, got B -> A 407 INVITE (packet 6)", "hold 5; resume 11"},
		// Both ask for hold; the callee's is refused with 491, the
		// caller's accepted.
		{"a glare of two holds, one accepted, then resumed", "", start +
			"2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKh sdp=2:sendonly\n2.0 b>a INVITE 7/INVITE ft=callee tt=caller br=z9hG4bKbh sdp=2:sendonly\n" +
			"2.1 a>b 491 7/INVITE ft=callee tt=caller br=z9hG4bKbh\n2.15 b>a ACK 7/ACK ft=callee tt=caller br=z9hG4bKbh\n" +
			"2.2 b>a 200 2/INVITE tt=callee br=z9hG4bKh sdp=2:recvonly\n2.3 a>b ACK 2/ACK tt=callee br=z9hG4bKah\n" + re(4, 3, "200", "3", "3") + end,
			"hold-resume: after 5 message(s), expected any -> any 2xx INVITE, got B -> A INVITE (packet 6)", "hold 5; hold 6; resume 11"},
		// The held party's own offer, recvonly (RFC 6337 §5.3), with
		// another codec: still held, until the caller resumes.
		{"the held party re-offers recvonly", "", start + re(2, 2, "200", "2:sendonly", "2:recvonly") +
			reB(3, 5, "3:recvonly media=m=audio_4000_RTP/AVP_8", "3:sendonly media=m=audio_4000_RTP/AVP_8") +
			re(4, 3, "200", "4", "4") + end,
			"hold-resume: after 7 message(s), expected any -> any INVITE [resume], got B -> A INVITE [sdp,reoffer] (packet 8)", "hold 5; resume 11"},
		// The held party's own sendrecv offer, which the holder answers
		// sendonly, is no resume: the holder's later one is.
		{"the held party re-offers sendrecv", "", start + re(2, 2, "200", "2:sendonly", "2:recvonly") +
			reB(3, 5, "3", "3:sendonly") +
			re(4, 3, "200", "4", "4") + end,
			"hold-resume: after 7 message(s), expected any -> any INVITE [resume], got B -> A INVITE [sdp,reoffer] (packet 8)", "hold 5; resume 11"},
		// The holder resumes with its camera off: audio sendrecv, video
		// recvonly (the body's last a= line is the video's).
		{"a resume with a stream recvonly", "", strings.Replace(start, "sdp=1\n", "sdp=1 media=m=audio_4000_RTP/AVP_0|a=sendrecv|m=video_4002_RTP/AVP_96\n", 1) +
			re(2, 2, "200", "2:sendonly media=m=audio_4000_RTP/AVP_0|a=sendonly|m=video_4002_RTP/AVP_96", "2:recvonly media=m=audio_4000_RTP/AVP_0|a=recvonly|m=video_4002_RTP/AVP_96") +
			re(4, 3, "200", "3:recvonly media=m=audio_4000_RTP/AVP_0|a=sendrecv|m=video_4002_RTP/AVP_96", "3:sendonly media=m=audio_4000_RTP/AVP_0|a=sendrecv|m=video_4002_RTP/AVP_96") + end,
			"hold-resume", "hold 5; resume 8"},
		// A mutual hold (RFC 6337 §5.3): each party's hold is its own, and
		// only that party takes it off. The caller's resume while the
		// callee's hold stays is recvonly.
		{"a mutual hold, the first holder resumes first", "", start + re(2, 2, "200", "2:sendonly", "2:recvonly") +
			reB(3, 5, "3:inactive", "3:inactive") +
			re(4, 3, "200", "4:recvonly", "4:sendonly") +
			reB(5, 6, "5", "5") + end,
			"hold-resume", "hold 5; hold 8; resume 11; resume 14"},
		{"a mutual hold, the second holder resumes first", "", start + re(2, 2, "200", "2:sendonly", "2:recvonly") +
			reB(3, 5, "3:inactive", "3:inactive") +
			reB(4, 6, "4:recvonly", "4:sendonly") +
			re(5, 3, "200", "5", "5") + end,
			"hold-resume", "hold 5; hold 8; resume 11; resume 14"},
		// Hung up while the callee's hold stays: no second resume.
		{"a mutual hold, one hold left", "", start + re(2, 2, "200", "2:sendonly", "2:recvonly") +
			reB(3, 5, "3:inactive", "3:inactive") +
			re(4, 3, "200", "4:recvonly", "4:sendonly") + re(6, 4, "200", "5:recvonly", "5:sendonly") + end,
			"hold-resume: after 13 message(s), expected any -> any INVITE [resume], got A -> B INVITE [sdp,reoffer] (packet 14)", "hold 5; hold 8; resume 11"},
		// The callee, holding too, answers the caller's resume sendrecv:
		// its hold is off, so its own sendrecv offer after is no resume.
		{"a mutual hold the answer ends", "", start + re(2, 2, "200", "2:sendonly", "2:recvonly") +
			reB(3, 5, "3:inactive", "3:inactive") +
			re(4, 3, "200", "4", "4") +
			reB(5, 6, "5 media=m=audio_4000_RTP/AVP_8", "5 media=m=audio_4000_RTP/AVP_8") + end,
			"hold-resume: after 13 message(s), expected any -> any INVITE [resume], got B -> A INVITE [sdp,reoffer] (packet 14)", "hold 5; hold 8; resume 11"},
		// Hung up with the callee's hold on: both resumes must come.
		{"a mutual hold hung up with one hold on", "", start + re(2, 2, "200", "2:sendonly", "2:recvonly") +
			reB(3, 5, "3:inactive", "3:inactive") +
			re(4, 3, "200", "4:recvonly", "4:sendonly") + end,
			"hold-resume: after 13 message(s), expected any -> any INVITE [resume], got A -> B BYE (packet 14)", "hold 5; hold 8; resume 11"},
		// After a hold and its resume, a codec change: the flow could go on
		// with another hold, and the re-INVITE is that step but for what it
		// did.
		{"a hold, its resume, then a codec change", "", start + re(2, 2, "200", "2:sendonly", "2:recvonly") + re(4, 3, "200", "3", "3") +
			re(6, 4, "200", "4 media=m=audio_4000_RTP/AVP_8", "4 media=m=audio_5000_RTP/AVP_8") + end,
			"hold-resume: after 10 message(s), expected any -> any INVITE [hold], got A -> B INVITE [sdp,reoffer] (packet 11)", "hold 5; resume 8"},
		// Two optional groups the re-INVITE could start but for what it
		// did: neither is named, the step that must come is.
		{"two steps it could have been", "flow two\nA -> B INVITE\nB -> A 18x *\nB -> A 2xx INVITE\nA -> B ACK\n(\nany -> any INVITE [hold]\nany -> any 2xx INVITE\n) ?\n(\nany -> any INVITE [resume]\nany -> any 2xx INVITE\n) ?\nany -> any BYE\nany -> any 2xx BYE\n",
			start + re(2, 2, "200", "2 media=m=audio_4000_RTP/AVP_8", "2 media=m=audio_5000_RTP/AVP_8") + end,
			"two: after 4 message(s), expected any -> any BYE, got A -> B INVITE (packet 5)", ""},
		// A party holds once: sendonly, then inactive, is one hold.
		{"a hold made deeper", "", start + re(2, 2, "200", "2:sendonly", "2:recvonly") + re(3, 3, "200", "3:inactive", "3:inactive") +
			re(4, 4, "200", "4", "4") + end,
			"hold-resume: after 7 message(s), expected any -> any INVITE [resume], got A -> B INVITE [sdp] (packet 8)", "hold 5; resume 11"},
		// The holder's recvonly offer while the other party holds nothing
		// is no resume: it would receive and not send.
		{"the holder re-offers recvonly alone", "", start + re(2, 2, "200", "2:sendonly", "2:recvonly") + re(3, 3, "200", "3:recvonly", "3:sendonly") +
			re(4, 4, "200", "4", "4") + end,
			"hold-resume: after 7 message(s), expected any -> any INVITE [resume], got A -> B INVITE [sdp] (packet 8)", "hold 5; resume 11"},
		// UPDATEs: after the answer they hold and resume; before it
		// (preconditions, a stream inactive until the resources are
		// reserved) they hold nothing.
		{"hold and resume by UPDATE", "", start +
			"2.0 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKu1 sdp=2:sendonly\n2.1 b>a 200 2/UPDATE tt=callee br=z9hG4bKu1 sdp=2:recvonly\n" +
			"3.0 a>b UPDATE 3/UPDATE tt=callee br=z9hG4bKu2 sdp=3\n3.1 b>a 200 3/UPDATE tt=callee br=z9hG4bKu2 sdp=3\n" + end,
			"basic-call: after 4 message(s), expected any -> any BYE, got A -> B UPDATE (packet 5)", "hold 5; resume 7"},
		{"an UPDATE inactive before the answer", "", "0.0 a>b INVITE 1/INVITE sdp=1\n0.1 b>a 183 1/INVITE tt=callee sdp=1\n" +
			"0.2 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKu1 sdp=2:inactive\n0.3 b>a 200 2/UPDATE tt=callee br=z9hG4bKu1 sdp=2:inactive\n" +
			"0.4 a>b UPDATE 3/UPDATE tt=callee br=z9hG4bKu2 sdp=3\n0.45 b>a 200 3/UPDATE tt=callee br=z9hG4bKu2 sdp=3\n" +
			"0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n" + end,
			"precondition-call: after 4 message(s), expected B -> A 2xx INVITE, got A -> B UPDATE (packet 5)", ""},
		// Through a proxy, every message on two hops: one hold, one
		// resume, and the caller's hop is a hold-resume.
		{"hold through a proxy", "", "0.0 a>p INVITE 1/INVITE sdp=1\n0.01 p>b INVITE 1/INVITE br=z9hG4bKp1 sdp=1\n" +
			"0.5 b>p 200 1/INVITE tt=callee br=z9hG4bKp1 sdp=1\n0.51 p>a 200 1/INVITE tt=callee sdp=1\n0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack\n0.61 p>b ACK 1/ACK tt=callee br=z9hG4bKack2\n" +
			"2.0 a>p INVITE 2/INVITE tt=callee br=z9hG4bKh sdp=2:sendonly\n2.01 p>b INVITE 2/INVITE tt=callee br=z9hG4bKh2 sdp=2:sendonly\n" +
			"2.1 b>p 200 2/INVITE tt=callee br=z9hG4bKh2 sdp=2:recvonly\n2.11 p>a 200 2/INVITE tt=callee br=z9hG4bKh sdp=2:recvonly\n" +
			"2.2 a>p ACK 2/ACK tt=callee br=z9hG4bKa2\n2.21 p>b ACK 2/ACK tt=callee br=z9hG4bKa22\n" +
			"3.0 a>p INVITE 3/INVITE tt=callee br=z9hG4bKr sdp=3\n3.01 p>b INVITE 3/INVITE tt=callee br=z9hG4bKr2 sdp=3\n" +
			"3.1 b>p 200 3/INVITE tt=callee br=z9hG4bKr2 sdp=3\n3.11 p>a 200 3/INVITE tt=callee br=z9hG4bKr sdp=3\n" +
			"3.2 a>p ACK 3/ACK tt=callee br=z9hG4bKa3\n3.21 p>b ACK 3/ACK tt=callee br=z9hG4bKa32\n" +
			"20.0 a>p BYE 9/BYE tt=callee br=z9hG4bKbye\n20.01 p>b BYE 9/BYE tt=callee br=z9hG4bKbye2\n20.1 b>p 200 9/BYE tt=callee br=z9hG4bKbye2\n20.11 p>a 200 9/BYE tt=callee br=z9hG4bKbye\ntick 60\n",
			"hold-resume", "hold 7; resume 13"},
		{"switched to T.38", "", start + re(2, 2, "200", "2 "+t38A, "2 "+t38B) + end, "t38-fax", "t38 6"},
		{"switched to T.38 and back", "", start + re(2, 2, "200", "2 "+t38A, "2 "+t38B) +
			re(5, 3, "200", "3 media=m=audio_4000_RTP/AVP_0", "3 media=m=audio_5000_RTP/AVP_0") + end, "t38-fax", "t38 6; t38-end 9"},
		{"T.38 refused", "", start + re(2, 2, "488", "2 "+t38A, "") + end,
			"t38-fax: after 5 message(s), expected any -> any 2xx INVITE [t38], got B -> A 488 INVITE (packet 6)", ""},
		{"a late offer, by a flow of the user's", lateOffer, late, "late-offer", ""},
		// Leaving T.38 is t38-end (its 2xx), not a change: a flow of the
		// user's (alone: Options.Flows) that asks a [reoffer] anywhere finds
		// none.
		{"leaving T.38 is no change", "flow changed\nA -> B INVITE\n...\nany -> any INVITE [reoffer]\n...\n", start + re(2, 2, "200", "2 "+t38A, "2 "+t38B) +
			re(5, 3, "200", "3 media=m=audio_4000_RTP/AVP_0", "3 media=m=audio_5000_RTP/AVP_0") + end,
			"changed: after 1 message(s), expected any -> any INVITE [reoffer], got B -> A 180 INVITE (packet 2)", "t38 6; t38-end 9"},
		{"a late hold's 200 is marked nothing (its re-INVITE is)", markedFlow, start + lateOfferExchange(2, "a", "b", " tt=callee", 2, "2:sendonly", "2:recvonly") + end,
			"marked: after 5 message(s), expected B -> A 2xx INVITE [t38], got B -> A 200 INVITE [sdp] (packet 6)", "hold 6"},
		{"the same with a session timer", markedFlow, timerStart + lateOfferExchange(2, "a", "b", " tt=callee", 2, "2:sendonly", "2:recvonly") + end,
			"marked: after 5 message(s), expected B -> A 2xx INVITE [t38], got B -> A 200 INVITE [sdp] (packet 6)", "hold 6"},
		// A REFER between a late offer's 200 and its ACK (found by the
		// fourth review): with a session timer too, the exchange is in
		// the view, each message in its place.
		{"a REFER between a late hold's 200 and its ACK", referFlow, start + lateRefer("2:sendonly", "2:recvonly") + end, "refer", "hold 6; transfer 7"},
		{"the same with a session timer", referFlow, timerBoth + lateRefer("2:sendonly", "2:recvonly") + end, "refer", "hold 6; transfer 7"},
		{"a late codec change, a REFER before its ACK, a session timer", referFlow, timerBoth + lateRefer("1", "2") + end, "refer", "transfer 7"},
		{"an early offer is no late offer", lateOffer, start + end,
			"late-offer: after 3 message(s), expected A -> B ACK [sdp], got A -> B ACK [no-sdp] (packet 4)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := correlate.Options{Flows: userFlows(t, tc.flows)}
			for _, keep := range []bool{false, true} {
				opts.KeepSDP = keep
				c := scriptCall(t, runScriptWith(t, opts, tc.script), "call-1")
				if got := flowOrDeviation(c); got != tc.want {
					t.Errorf("KeepSDP %t: got %q, want %q", keep, got, tc.want)
				}
				var events []string
				for _, e := range c.Events {
					events = append(events, fmt.Sprintf("%s %d", e.Kind, e.N))
				}
				if got := strings.Join(events, "; "); got != tc.events {
					t.Errorf("KeepSDP %t: events %q, want %q", keep, got, tc.events)
				}
			}
		})
	}

	// With a session timer, the hold sent again with credentials resends
	// its offer (the same o= line): the view leaves it out as a refresh,
	// and the marks still see its 200 put the hold in force, so the resume
	// is marked (found by review).
	challenged, err := correlate.ParseFlows(strings.NewReader("flow challenged-hold\nA -> B INVITE\nB -> A 2xx INVITE\nA -> B ACK\n"+
		"A -> B INVITE [hold]\nB -> A 407\nA -> B ACK\nA -> B INVITE [resume]\nB -> A 2xx INVITE\nA -> B ACK\nany -> any BYE\nany -> any 2xx BYE\n"), "u.flow")
	if err != nil {
		t.Fatal(err)
	}
	timer := "0.0 a>b INVITE 1/INVITE sdp=1\n0.5 b>a 200 1/INVITE tt=callee sdp=1 hdr=Session-Expires:_1800;refresher=uac\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n" +
		"2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKh1 sdp=2:sendonly\n2.1 b>a 407 2/INVITE tt=callee br=z9hG4bKh1\n2.2 a>b ACK 2/ACK tt=callee br=z9hG4bKh1\n" +
		"2.3 a>b INVITE 3/INVITE tt=callee br=z9hG4bKh2 auth sdp=2:sendonly\n2.4 b>a 200 3/INVITE tt=callee br=z9hG4bKh2 sdp=2:recvonly\n2.5 a>b ACK 3/ACK tt=callee br=z9hG4bKa2\n" +
		re(4, 4, "200", "3", "3") + end
	for _, keep := range []bool{false, true} {
		if c := scriptCall(t, runScriptWith(t, correlate.Options{KeepSDP: keep, Flows: challenged}, timer), "call-1"); c.Flow != "challenged-hold" {
			t.Errorf("challenged hold with a session timer, KeepSDP %t: %q, want challenged-hold", keep, flowOrDeviation(c))
		}
	}

	// A B2BUA (p) relays the hold and the resume on its other leg
	// (linked by X-Call-ID), with CSeq numbers of its own: one hold, one
	// resume, and the first leg is a hold-resume.
	la := func(s string) string { return strings.ReplaceAll(s, "LEG", "cid=leg-a") }
	lb := func(s string) string { return strings.ReplaceAll(s, "LEG", "cid=leg-b hdr=X-Call-ID:leg-a") }
	b2bua := la("0.0 a>p INVITE 1/INVITE LEG sdp=1\n") +
		lb("0.01 p>b INVITE 1/INVITE LEG sdp=1\n0.5 b>p 200 1/INVITE LEG tt=callee sdp=1\n0.51 p>b ACK 1/ACK LEG tt=callee br=z9hG4bKack\n") +
		la("0.52 p>a 200 1/INVITE LEG tt=callee sdp=1\n0.6 a>p ACK 1/ACK LEG tt=callee br=z9hG4bKack\n2.0 a>p INVITE 2/INVITE LEG tt=callee br=z9hG4bKh sdp=2:sendonly\n") +
		lb("2.01 p>b INVITE 12/INVITE LEG tt=callee br=z9hG4bKh2 sdp=2:sendonly\n2.1 b>p 200 12/INVITE LEG tt=callee br=z9hG4bKh2 sdp=2:recvonly\n2.11 p>b ACK 12/ACK LEG tt=callee br=z9hG4bKa2\n") +
		la("2.12 p>a 200 2/INVITE LEG tt=callee br=z9hG4bKh sdp=2:recvonly\n2.2 a>p ACK 2/ACK LEG tt=callee br=z9hG4bKa\n4.0 a>p INVITE 3/INVITE LEG tt=callee br=z9hG4bKr sdp=3\n") +
		lb("4.01 p>b INVITE 13/INVITE LEG tt=callee br=z9hG4bKr2 sdp=3\n4.1 b>p 200 13/INVITE LEG tt=callee br=z9hG4bKr2 sdp=3\n4.11 p>b ACK 13/ACK LEG tt=callee br=z9hG4bKar2\n") +
		la("4.12 p>a 200 3/INVITE LEG tt=callee br=z9hG4bKr sdp=3\n4.2 a>p ACK 3/ACK LEG tt=callee br=z9hG4bKar\n20.0 a>p BYE 9/BYE LEG tt=callee br=z9hG4bKbye\n20.1 p>a 200 9/BYE LEG tt=callee br=z9hG4bKbye\n") +
		lb("20.01 p>b BYE 9/BYE LEG tt=callee br=z9hG4bKbye2\n20.1 b>p 200 9/BYE LEG tt=callee br=z9hG4bKbye2\ntick 60\n")
	for _, keep := range []bool{false, true} {
		c := scriptCall(t, runScriptWith(t, correlate.Options{KeepSDP: keep}, b2bua), "leg-a")
		var events []string
		for _, e := range c.Events {
			events = append(events, fmt.Sprintf("%s %d", e.Kind, e.N))
		}
		if got := strings.Join(events, "; "); len(c.Legs) != 2 || got != "hold 7; resume 13" || c.Flow != "hold-resume" {
			t.Errorf("B2BUA, KeepSDP %t: %d legs, events %q, flow %q; want 2 legs, hold 7; resume 13, hold-resume", keep, len(c.Legs), got, flowOrDeviation(c))
		}
	}

	// One correlator (one matcher and its memo) for calls of one shape:
	// a hold and a resume, then two codec changes.
	call := func(cid, first, second string) string {
		s := start + re(2, 2, "200", first, first) + re(4, 3, "200", second, second) + end
		return strings.ReplaceAll(s, "tt=callee", "cid="+cid+" tt=callee")
	}
	script := call("held", "2:sendonly", "3")
	script = strings.Replace(script, "0.0 a>b INVITE 1/INVITE sdp=1", "0.0 a>b INVITE 1/INVITE cid=held sdp=1", 1)
	other := call("changed", "2 media=m=audio_4000_RTP/AVP_8", "3 media=m=audio_4000_RTP/AVP_0")
	other = strings.Replace(other, "0.0 a>b INVITE 1/INVITE sdp=1", "0.0 a>b INVITE 1/INVITE cid=changed sdp=1", 1)
	calls := runScript(t, script+other)
	if got := scriptCall(t, calls, "held").Flow; got != "hold-resume" {
		t.Errorf("held: flow %q, want hold-resume", got)
	}
	if c := scriptCall(t, calls, "changed"); c.Flow != "reinvite" {
		t.Errorf("changed, after a call of its shape that held: flow %q deviation %q, want reinvite", c.Flow, c.Deviation)
	}
}

// TestHoldThroughB2BUA: a B2BUA that answers the holder's re-INVITE
// itself, then sends its own on the other leg, holds the call once and
// resumes it once: a party is its role in the call (caller or callee),
// which a B2BUA's legs keep, not its leg and tag. Each event says who.
func TestHoldThroughB2BUA(t *testing.T) {
	const (
		l2    = " cid=leg-2"
		setup = "0.0 a>p INVITE 1/INVITE sdp=1\n0.01 p>b INVITE 1/INVITE" + l2 + " hdr=X-Call-ID:_call-1 sdp=1\n" +
			"0.5 b>p 200 1/INVITE" + l2 + " tt=callee sdp=1\n0.51 p>a 200 1/INVITE tt=callee sdp=1\n" +
			"0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack\n0.61 p>b ACK 1/ACK" + l2 + " tt=callee br=z9hG4bKack2\n"
		end = "20.0 a>p BYE 9/BYE tt=callee br=z9hG4bKbye\n20.01 p>a 200 9/BYE tt=callee br=z9hG4bKbye\n" +
			"20.02 p>b BYE 9/BYE" + l2 + " tt=callee br=z9hG4bKbye2\n20.1 b>p 200 9/BYE" + l2 + " tt=callee br=z9hG4bKbye2\ntick 60\n"
	)
	// re: the caller's re-INVITE on the first leg, answered by the
	// B2BUA, then the B2BUA's on the second.
	re := func(at float64, cseq int, offer, answer string) string {
		return fmt.Sprintf("%.1[1]f a>p INVITE %[2]d/INVITE tt=callee br=z9hG4bKr%[2]d sdp=%[3]s\n%.2[4]f p>a 200 %[2]d/INVITE tt=callee br=z9hG4bKr%[2]d sdp=%[5]s\n%.2[6]f a>p ACK %[2]d/ACK tt=callee br=z9hG4bKa%[2]d\n"+
			"%.2[7]f p>b INVITE %[2]d/INVITE%[8]s tt=callee br=z9hG4bKs%[2]d sdp=%[3]s\n%.2[9]f b>p 200 %[2]d/INVITE%[8]s tt=callee br=z9hG4bKs%[2]d sdp=%[5]s\n%.2[10]f p>b ACK %[2]d/ACK%[8]s tt=callee br=z9hG4bKt%[2]d\n",
			at, cseq, offer, at+0.01, answer, at+0.02, at+0.1, l2, at+0.11, at+0.12)
	}
	c := scriptCall(t, runScript(t, setup+re(2, 2, "2:sendonly", "2:recvonly")+re(3, 3, "3", "3")+end), "call-1")
	if len(c.Legs) != 2 {
		t.Fatalf("%d legs, want 2", len(c.Legs))
	}
	var events []string
	for _, e := range c.Events {
		events = append(events, fmt.Sprintf("%s %d %s", e.Kind, e.N, e.Detail))
	}
	want := "hold 7 by the caller: audio PCMU 10.0.0.1:4000 sendonly; resume 13 by the caller: audio PCMU 10.0.0.1:4000 sendrecv"
	if got := strings.Join(events, "; "); got != want {
		t.Errorf("events %q,\nwant %q", got, want)
	}
	if c.Flow != "hold-resume" {
		t.Errorf("flow %q, deviation %q", c.Flow, c.Deviation)
	}
}

// offerExchange is an offer from -> to with tags (in the script's keys), its answer
// (status, answer's sdp=) and its ACK.
func offerExchange(at float64, from, to, tags string, cseq int, status, offer, answer string) string {
	if answer != "" {
		answer = " sdp=" + answer
	}
	return fmt.Sprintf("%.2f %s>%s INVITE %d/INVITE%s br=z9hG4bKx%s%d sdp=%s\n%.2f %s>%s %s %d/INVITE%s br=z9hG4bKx%s%d%s\n%.2f %s>%s ACK %d/ACK%s br=z9hG4bKy%s%d\n",
		at, from, to, cseq, tags, from, cseq, offer, at+0.01, to, from, status, cseq, tags, from, cseq, answer, at+0.02, from, to, cseq, tags, from, cseq)
}

// lateOfferExchange is a re-INVITE without SDP from -> to with tags (in
// the script's keys), its 200 offering offer, and the ACK answering
// answer ("" for an ACK without SDP).
func lateOfferExchange(at float64, from, to, tags string, cseq int, offer, answer string) string {
	if answer != "" {
		answer = " sdp=" + answer
	}
	return fmt.Sprintf("%.2[1]f %[2]s>%[3]s INVITE %[4]d/INVITE%[5]s br=z9hG4bKl%[2]s%[4]d\n%.2[6]f %[3]s>%[2]s 200 %[4]d/INVITE%[5]s br=z9hG4bKl%[2]s%[4]d sdp=%[7]s\n"+
		"%.2[8]f %[2]s>%[3]s ACK %[4]d/ACK%[5]s br=z9hG4bKm%[2]s%[4]d%[9]s\n", at, from, to, cseq, tags, at+0.01, offer, at+0.02, answer)
}

// lateRelay is a's re-INVITE without SDP (CSeq 2 at 2 s, 3 at 4 s) on the
// first leg of TestHoldAcrossLegs's call, relayed by the B2BUA p to b on
// the second as one without SDP; b's 200 offers offer, p's 200 to a the
// same, and the ACKs answer answer, a's first.
func lateRelay(at float64, offer, answer string) string {
	const l2 = " cid=leg-2 ft=p2 tt=b2"
	cseq := int(at)/2 + 1
	return fmt.Sprintf("%.2[1]f a>p INVITE %[2]d/INVITE tt=callee br=z9hG4bKl%[2]d\n%.2[3]f p>b INVITE %[2]d/INVITE%[6]s br=z9hG4bKm%[2]d\n"+
		"%.2[4]f b>p 200 %[2]d/INVITE%[6]s br=z9hG4bKm%[2]d sdp=%[5]s\n%.2[7]f p>a 200 %[2]d/INVITE tt=callee br=z9hG4bKl%[2]d sdp=%[5]s\n"+
		"%.2[8]f a>p ACK %[2]d/ACK tt=callee br=z9hG4bKn%[2]d sdp=%[9]s\n%.2[10]f p>b ACK %[2]d/ACK%[6]s br=z9hG4bKo%[2]d sdp=%[9]s\n",
		at, cseq, at+0.01, at+0.1, offer, l2, at+0.11, at+0.2, answer, at+0.21)
}

// TestHoldAcrossLegs: a B2BUA relays a party's hold or resume as its own
// offer on its other leg, answered by the far end, or not at all (it
// plays music on hold itself). Each party's hold or resume is one event,
// on the leg it was first made: the copy on the other leg, within
// echoWindow, is none; one the B2BUA refused and never relayed leaves
// no copy to wait for. A party is its tag in its leg, so the legs need
// not share roles (3PCC: the B2BUA called both phones) nor have their
// INVITEs captured (then the event names the sender's address).
func TestHoldAcrossLegs(t *testing.T) {
	const (
		l1    = " tt=callee"           // a's requests on leg 1
		p1    = " ft=callee tt=caller" // p's on leg 1
		l2    = " cid=leg-2 ft=p2 tt=b2"
		b2    = " cid=leg-2 ft=b2 tt=p2"
		setup = "0.0 a>p INVITE 1/INVITE sdp=1\n0.01 p>b INVITE 1/INVITE cid=leg-2 ft=p2 hdr=X-Call-ID:_call-1 sdp=1\n" +
			"0.5 b>p 200 1/INVITE" + l2 + " sdp=1\n0.51 p>a 200 1/INVITE tt=callee sdp=1\n" +
			"0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack\n0.61 p>b ACK 1/ACK" + l2 + " br=z9hG4bKack2\n"
		end = "20.0 a>p BYE 9/BYE tt=callee br=z9hG4bKbye\n20.01 p>a 200 9/BYE tt=callee br=z9hG4bKbye\n" +
			"20.02 p>b BYE 9/BYE" + l2 + " br=z9hG4bKbye2\n20.1 b>p 200 9/BYE" + l2 + " br=z9hG4bKbye2\ntick 60\n"
	)

	// The 3PCC: p calls a (leg-a), then b (leg-b); both phones are callees.
	const (
		la     = " cid=leg-a ft=p1 tt=a1"
		lb     = " cid=leg-b ft=p2 tt=b1"
		aa     = " cid=leg-a ft=a1 tt=p1"
		setup3 = "0.0 p>a INVITE 1/INVITE cid=leg-a ft=p1 sdp=1\n0.5 a>p 200 1/INVITE" + la + " sdp=1\n0.6 p>a ACK 1/ACK" + la + " br=z9hG4bKack\n" +
			"1.0 p>b INVITE 1/INVITE cid=leg-b ft=p2 hdr=X-Call-ID:_leg-a sdp=1\n1.5 b>p 200 1/INVITE" + lb + " sdp=1\n1.6 p>b ACK 1/ACK" + lb + " br=z9hG4bKack2\n"
		end3 = "20.0 p>a BYE 9/BYE" + la + " br=z9hG4bKbye\n20.01 a>p 200 9/BYE" + la + " br=z9hG4bKbye\n" +
			"20.02 p>b BYE 9/BYE" + lb + " br=z9hG4bKbye2\n20.1 b>p 200 9/BYE" + lb + " br=z9hG4bKbye2\ntick 60\n"
	)
	for _, tc := range []struct {
		name, id, script, want string
	}{
		{"a mutual hold through a B2BUA", "call-1", setup +
			offerExchange(2, "a", "p", l1, 2, "200", "2:sendonly", "2:recvonly") + offerExchange(2.1, "p", "b", l2, 2, "200", "2:sendonly", "2:recvonly") +
			offerExchange(3, "b", "p", b2, 5, "200", "3:inactive", "3:inactive") + offerExchange(3.1, "p", "a", p1, 5, "200", "3:inactive", "3:inactive") +
			offerExchange(4, "a", "p", l1, 3, "200", "4:recvonly", "4:sendonly") + offerExchange(4.1, "p", "b", l2, 3, "200", "4:recvonly", "4:sendonly") +
			offerExchange(5, "b", "p", b2, 6, "200", "5", "5") + offerExchange(5.1, "p", "a", p1, 6, "200", "5", "5") + end,
			"hold 7 by the caller; hold 13 by the callee; resume 19 by the caller, the callee's hold stays; resume 25 by the callee"},
		{"a hold the B2BUA keeps to itself, then the far end's", "call-1", setup +
			offerExchange(2, "a", "p", l1, 2, "200", "2:sendonly", "2:recvonly") + offerExchange(5, "b", "p", b2, 5, "200", "3:sendonly", "3:recvonly") + end,
			"hold 7 by the caller; hold 10 by the callee"},
		{"a hold the B2BUA refused itself, then the far end's", "call-1", setup +
			offerExchange(2, "a", "p", l1, 2, "488", "2:sendonly", "") + offerExchange(2.5, "b", "p", b2, 5, "200", "3:sendonly", "3:recvonly") + end,
			"hold 7 by the caller; hold 10 by the callee"},
		{"a hold refused on both legs, asked again", "call-1", setup +
			"2.0 a>p INVITE 2/INVITE tt=callee br=z9hG4bKh1 sdp=2:sendonly\n2.01 p>b INVITE 2/INVITE" + l2 + " br=z9hG4bKh2 sdp=2:sendonly\n" +
			"2.02 b>p 488 2/INVITE" + l2 + " br=z9hG4bKh2\n2.03 p>b ACK 2/ACK" + l2 + " br=z9hG4bKh2\n2.04 p>a 488 2/INVITE tt=callee br=z9hG4bKh1\n2.05 a>p ACK 2/ACK tt=callee br=z9hG4bKh1\n" +
			offerExchange(3, "a", "p", l1, 3, "200", "3:sendonly", "3:recvonly") + offerExchange(3.1, "p", "b", l2, 3, "200", "3:sendonly", "3:recvonly") + end,
			"hold 7 by the caller; hold 13 by the caller"},
		// b holds on leg 2 while p relays a's: b's own offer, from b, is no
		// copy of a's; p's copies, from p, are.
		{"both parties hold at once on their legs", "call-1", setup +
			"2.000 a>p INVITE 2/INVITE" + l1 + " br=z9hG4bKh sdp=2:sendonly\n" +
			"2.005 b>p INVITE 5/INVITE" + b2 + " br=z9hG4bKb sdp=3:sendonly\n" +
			offerExchange(2.1, "p", "b", l2, 2, "200", "2:sendonly", "2:inactive") +
			offerExchange(2.2, "p", "a", p1, 5, "200", "3:sendonly", "3:inactive") +
			"2.3 p>a 200 2/INVITE" + l1 + " br=z9hG4bKh sdp=2:inactive\n2.31 a>p ACK 2/ACK" + l1 + " br=z9hG4bKah\n" +
			"2.4 p>b 200 5/INVITE" + b2 + " br=z9hG4bKb sdp=3:inactive\n2.41 b>p ACK 5/ACK" + b2 + " br=z9hG4bKab\n" + end,
			"hold 7 by the caller; hold 8 by the callee"},
		{"a hold kept by the B2BUA, the far end's within the window", "call-1", setup +
			offerExchange(2, "a", "p", l1, 2, "200", "2:sendonly", "2:recvonly") + offerExchange(3, "b", "p", b2, 5, "200", "3:sendonly", "3:recvonly") + end,
			"hold 7 by the caller; hold 10 by the callee"},
		{"holds kept by the B2BUA, each resumed", "call-1", setup +
			offerExchange(2, "b", "p", b2, 5, "200", "2:sendonly", "2:recvonly") + offerExchange(2.5, "a", "p", l1, 2, "200", "3:sendonly", "3:recvonly") +
			offerExchange(6, "a", "p", l1, 3, "200", "4", "4") + offerExchange(9, "b", "p", b2, 6, "200", "5", "5") + end,
			"hold 7 by the callee; hold 10 by the caller; resume 13 by the caller; resume 16 by the callee"},
		// p's copy meets b's own re-INVITE: both 491; p sends its copy
		// again, which is still no event.
		{"a copy refused in a glare, sent again", "call-1", setup +
			"2.00 a>p INVITE 2/INVITE" + l1 + " br=z9hG4bKh sdp=2:sendonly\n" +
			"2.01 p>b INVITE 2/INVITE" + l2 + " br=z9hG4bKr1 sdp=2:sendonly\n" +
			"2.01 b>p INVITE 5/INVITE" + b2 + " br=z9hG4bKb1 sdp=2 media=m=audio_4000_RTP/AVP_8\n" +
			"2.02 b>p 491 2/INVITE" + l2 + " br=z9hG4bKr1\n2.03 p>b ACK 2/ACK" + l2 + " br=z9hG4bKr1\n" +
			"2.02 p>b 491 5/INVITE" + b2 + " br=z9hG4bKb1\n2.03 b>p ACK 5/ACK" + b2 + " br=z9hG4bKb1\n" +
			offerExchange(2.5, "p", "b", l2, 3, "200", "3:sendonly", "3:recvonly") +
			"2.6 p>a 200 2/INVITE" + l1 + " br=z9hG4bKh sdp=2:recvonly\n2.7 a>p ACK 2/ACK" + l1 + " br=z9hG4bKah\n" + end,
			"hold 7 by the caller"},
		// An SBC with an address on each side: its copy comes from the
		// address of the other leg (q), where the first offer went to p.
		{"a B2BUA with an address a leg", "call-1", strings.ReplaceAll(strings.ReplaceAll(setup, "p>b", "q>b"), "b>p", "b>q") +
			offerExchange(2, "a", "p", l1, 2, "200", "2:sendonly", "2:recvonly") + offerExchange(2.1, "q", "b", l2, 2, "200", "2:sendonly", "2:recvonly") +
			offerExchange(3, "a", "p", l1, 3, "200", "3", "3") + offerExchange(3.1, "q", "b", l2, 3, "200", "3", "3") + strings.ReplaceAll(strings.ReplaceAll(end, "p>b", "q>b"), "b>p", "b>q"),
			"hold 7 by the caller; resume 13 by the caller"},
		{"neither INVITE captured", "call-1",
			offerExchange(2, "a", "p", l1, 2, "200", "2:sendonly", "2:recvonly") + offerExchange(2.1, "p", "b", l2+" hdr=X-Call-ID:_call-1", 2, "200", "2:sendonly", "2:recvonly") +
				offerExchange(3, "a", "p", l1, 3, "200", "3", "3") + offerExchange(3.1, "p", "b", l2, 3, "200", "3", "3") + end,
			"hold 1 by 10.0.0.1:5060; resume 7 by 10.0.0.1:5060"},
		{"3PCC", "leg-a", setup3 +
			offerExchange(2, "a", "p", aa, 2, "200", "2:sendonly", "2:recvonly") + offerExchange(2.1, "p", "b", lb, 2, "200", "2:sendonly", "2:recvonly") +
			offerExchange(3, "a", "p", aa, 3, "200", "3", "3") + offerExchange(3.1, "p", "b", lb, 3, "200", "3", "3") + end3,
			"hold 7 by the callee; resume 13 by the callee"},
		// A hold and a resume by late offers (the caller's ACK answers
		// sendonly, then sendrecv), each copied as an offer of p's.
		{"a late offer's hold and resume", "call-1", setup +
			lateOfferExchange(2, "a", "p", l1, 2, "2", "2:sendonly") + offerExchange(2.1, "p", "b", l2, 2, "200", "2:sendonly", "2:recvonly") +
			lateOfferExchange(3, "a", "p", l1, 3, "3", "3") + offerExchange(3.1, "p", "b", l2, 3, "200", "3", "3") + end,
			"hold 9 by the caller; resume 15 by the caller"},
		// p relays a's re-INVITE without SDP as one of its own; b holds by
		// its 200's offer, which p relays in its 200 to a: b's hold is
		// the event, at b's 200, though a's ACK came first (found by review).
		{"a late offer relayed as one, the callee's hold in it", "call-1", setup + lateRelay(2, "2:sendonly", "2:recvonly") + lateRelay(4, "3", "3") + end,
			"hold 9 by the callee; resume 15 by the callee"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, keep := range []bool{false, true} {
				c := scriptCall(t, runScriptWith(t, correlate.Options{KeepSDP: keep}, tc.script), tc.id)
				var events []string
				for _, e := range c.Events {
					by, _, _ := strings.Cut(e.Detail, ": ") // "by the caller", "by 10.0.0.1:5060"
					if _, stays, ok := strings.Cut(e.Detail, "; "); ok {
						by += ", " + stays
					}
					events = append(events, fmt.Sprintf("%s %d %s", e.Kind, e.N, by))
				}
				if len(c.Legs) != 2 {
					t.Errorf("KeepSDP %t: %d legs, want 2", keep, len(c.Legs))
				}
				if got := strings.Join(events, "; "); got != tc.want {
					t.Errorf("KeepSDP %t: events %q,\nwant %q", keep, got, tc.want)
				}
			}
		})
	}
}

// TestHoldThroughProxiesAndSBCs: the B2BUA's copy through a proxy that
// stands before it on both legs (the copy leaves from an address of
// another hop of the first offer); an SBC with an address a side whose
// copy is refused, then the far end's own hold (a refused copy's echo is
// its sender's alone); the SBC's copy in a glare with the far end's hold;
// and through a proxy, a resume whose answer takes the other's hold off
// (no "hold stays" note).
func TestHoldThroughProxiesAndSBCs(t *testing.T) {
	const (
		rl1 = " tt=callee"
		rl2 = " cid=leg-2 ft=p2 tt=b2"
		rb2 = " cid=leg-2 ft=b2 tt=p2"
	)

	rvX2 := func(at float64, from, mid, to, tags string, cseq int, status, offer, answer string) string {
		if answer != "" {
			answer = " sdp=" + answer
		}
		return fmt.Sprintf("%.3f %s>%s INVITE %d/INVITE%s br=z9hG4bKx%s%d sdp=%s\n", at, from, mid, cseq, tags, from, cseq, offer) +
			fmt.Sprintf("%.3f %s>%s INVITE %d/INVITE%s br=z9hG4bKz%s%d sdp=%s\n", at+0.001, mid, to, cseq, tags, from, cseq, offer) +
			fmt.Sprintf("%.3f %s>%s %s %d/INVITE%s br=z9hG4bKz%s%d%s\n", at+0.01, to, mid, status, cseq, tags, from, cseq, answer) +
			fmt.Sprintf("%.3f %s>%s %s %d/INVITE%s br=z9hG4bKx%s%d%s\n", at+0.011, mid, from, status, cseq, tags, from, cseq, answer) +
			fmt.Sprintf("%.3f %s>%s ACK %d/ACK%s br=z9hG4bKy%s%d\n", at+0.02, from, mid, cseq, tags, from, cseq) +
			fmt.Sprintf("%.3f %s>%s ACK %d/ACK%s br=z9hG4bKw%s%d\n", at+0.021, mid, to, cseq, tags, from, cseq)
	}
	rvSetup := func(p2, b string) (setup, end string) {
		r := strings.NewReplacer("P2", p2, "B", b)
		setup = r.Replace("0.0 a>p INVITE 1/INVITE sdp=1\n0.01 P2>B INVITE 1/INVITE cid=leg-2 ft=p2 hdr=X-Call-ID:_call-1 sdp=1\n" +
			"0.5 B>P2 200 1/INVITE" + rl2 + " sdp=1\n0.51 p>a 200 1/INVITE tt=callee sdp=1\n" +
			"0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack\n0.61 P2>B ACK 1/ACK" + rl2 + " br=z9hG4bKack2\n")
		end = r.Replace("20.0 a>p BYE 9/BYE tt=callee br=z9hG4bKbye\n20.01 p>a 200 9/BYE tt=callee br=z9hG4bKbye\n" +
			"20.02 P2>B BYE 9/BYE" + rl2 + " br=z9hG4bKbye2\n20.1 B>P2 200 9/BYE" + rl2 + " br=z9hG4bKbye2\ntick 60\n")
		return
	}
	for _, tc := range []struct {
		name   string
		script func() string
		want   string
	}{
		{"a proxy before the B2BUA on both legs", func() string {
			setup := "0.0 a>c INVITE 1/INVITE sdp=1\n0.001 c>p INVITE 1/INVITE br=z9hG4bKc1 sdp=1\n" +
				"0.01 p>c INVITE 1/INVITE cid=leg-2 ft=p2 hdr=X-Call-ID:_call-1 sdp=1\n0.011 c>b INVITE 1/INVITE cid=leg-2 ft=p2 br=z9hG4bKc2 hdr=X-Call-ID:_call-1 sdp=1\n" +
				"0.5 b>c 200 1/INVITE" + rl2 + " br=z9hG4bKc2 sdp=1\n0.501 c>p 200 1/INVITE" + rl2 + " sdp=1\n" +
				"0.51 p>c 200 1/INVITE tt=callee br=z9hG4bKc1 sdp=1\n0.511 c>a 200 1/INVITE tt=callee sdp=1\n" +
				"0.6 a>c ACK 1/ACK tt=callee br=z9hG4bKack\n0.601 c>p ACK 1/ACK tt=callee br=z9hG4bKack1\n" +
				"0.61 p>c ACK 1/ACK" + rl2 + " br=z9hG4bKack2\n0.611 c>b ACK 1/ACK" + rl2 + " br=z9hG4bKack3\n"
			end := "20.0 a>c BYE 9/BYE tt=callee br=z9hG4bKbye\n20.001 c>p BYE 9/BYE tt=callee br=z9hG4bKbye1\n20.01 p>c 200 9/BYE tt=callee br=z9hG4bKbye1\n20.011 c>a 200 9/BYE tt=callee br=z9hG4bKbye\n" +
				"20.02 p>c BYE 9/BYE" + rl2 + " br=z9hG4bKbye2\n20.021 c>b BYE 9/BYE" + rl2 + " br=z9hG4bKbye3\n20.1 b>c 200 9/BYE" + rl2 + " br=z9hG4bKbye3\n20.101 c>p 200 9/BYE" + rl2 + " br=z9hG4bKbye2\ntick 60\n"
			return setup +
				rvX2(2, "a", "c", "p", rl1, 2, "200", "2:sendonly", "2:recvonly") + rvX2(2.1, "p", "c", "b", rl2, 2, "200", "2:sendonly", "2:recvonly") +
				rvX2(3, "a", "c", "p", rl1, 3, "200", "3", "3") + rvX2(3.1, "p", "c", "b", rl2, 3, "200", "3", "3") + end
		}, "hold 13 by the caller; resume 25 by the caller"},
		{"an SBC's copy refused, then the far end's own hold", func() string {
			setup, end := rvSetup("q", "b")
			return setup +
				"2.00 a>p INVITE 2/INVITE" + rl1 + " br=z9hG4bKh sdp=2:sendonly\n" +
				offerExchange(2.01, "q", "b", rl2, 2, "488", "2:sendonly", "") +
				"2.10 p>a 200 2/INVITE" + rl1 + " br=z9hG4bKh sdp=2:recvonly\n2.11 a>p ACK 2/ACK" + rl1 + " br=z9hG4bKah\n" +
				offerExchange(3.0, "b", "q", rb2, 5, "200", "3:sendonly", "3:recvonly") + end
		}, "hold 7 by the caller; hold 13 by the callee"},
		{"an SBC's copy in a glare with the far end's hold, the far end first again", func() string {
			setup, end := rvSetup("q", "b")
			return setup +
				"2.00 a>p INVITE 2/INVITE" + rl1 + " br=z9hG4bKh sdp=2:sendonly\n" +
				"2.01 q>b INVITE 2/INVITE" + rl2 + " br=z9hG4bKr1 sdp=2:sendonly\n" +
				"2.01 b>q INVITE 5/INVITE" + rb2 + " br=z9hG4bKb1 sdp=3:sendonly\n" +
				"2.02 b>q 491 2/INVITE" + rl2 + " br=z9hG4bKr1\n2.03 q>b ACK 2/ACK" + rl2 + " br=z9hG4bKr1\n" +
				"2.02 q>b 491 5/INVITE" + rb2 + " br=z9hG4bKb1\n2.03 b>q ACK 5/ACK" + rb2 + " br=z9hG4bKb1\n" +
				offerExchange(2.5, "b", "q", rb2, 6, "200", "4:sendonly", "4:recvonly") +
				offerExchange(3.5, "q", "b", rl2, 3, "200", "3:sendonly", "3:recvonly") +
				"3.6 p>a 200 2/INVITE" + rl1 + " br=z9hG4bKh sdp=2:recvonly\n3.7 a>p ACK 2/ACK" + rl1 + " br=z9hG4bKah\n" + end
		}, "hold 7 by the caller; hold 9 by the callee; hold 14 by the callee"},
		{"the stays note through a proxy", func() string {
			start := "0.0 a>p INVITE 1/INVITE sdp=1\n0.01 p>b INVITE 1/INVITE br=z9hG4bKp1 sdp=1\n" +
				"0.5 b>p 200 1/INVITE tt=callee br=z9hG4bKp1 sdp=1\n0.51 p>a 200 1/INVITE tt=callee sdp=1\n0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack\n0.61 p>b ACK 1/ACK tt=callee br=z9hG4bKack2\n"
			end := "20.0 a>p BYE 9/BYE tt=callee br=z9hG4bKbye\n20.01 p>b BYE 9/BYE tt=callee br=z9hG4bKbye2\n20.1 b>p 200 9/BYE tt=callee br=z9hG4bKbye2\n20.11 p>a 200 9/BYE tt=callee br=z9hG4bKbye\ntick 60\n"
			return start +
				rvX2(2, "a", "p", "b", " tt=callee", 2, "200", "2:sendonly", "2:recvonly") +
				rvX2(3, "b", "p", "a", " ft=callee tt=caller", 5, "200", "3:inactive", "3:inactive") +
				rvX2(4, "a", "p", "b", " tt=callee", 3, "200", "4", "4") + end
		}, "hold 7 by the caller; hold 13 by the callee; resume 19 by the caller"},
	} {
		for _, keep := range []bool{false, true} {
			c := scriptCall(t, runScriptWith(t, correlate.Options{KeepSDP: keep}, tc.script()), "call-1")
			var events []string
			for _, e := range c.Events {
				by, _, _ := strings.Cut(e.Detail, ": ")
				if _, stays, ok := strings.Cut(e.Detail, "; "); ok {
					by += ", " + stays
				}
				events = append(events, fmt.Sprintf("%s %d %s", e.Kind, e.N, by))
			}
			if got := strings.Join(events, "; "); got != tc.want {
				t.Errorf("%s, KeepSDP %t: events %q,\nwant %q", tc.name, keep, got, tc.want)
			}
		}
	}
}

// TestResumeStaysText: a resume while the other party's hold stays says
// so, unless the other party's answer to it takes its hold off.
func TestResumeStaysText(t *testing.T) {
	const (
		start = "0.0 a>b INVITE 1/INVITE sdp=1\n0.1 b>a 180 1/INVITE tt=callee\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"
		holds = "2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKr2 sdp=2:sendonly\n2.1 b>a 200 2/INVITE tt=callee br=z9hG4bKr2 sdp=2:recvonly\n2.2 a>b ACK 2/ACK tt=callee br=z9hG4bKa2\n" +
			"3.0 b>a INVITE 5/INVITE ft=callee tt=caller br=z9hG4bKb1 sdp=3:inactive\n3.1 a>b 200 5/INVITE ft=callee tt=caller br=z9hG4bKb1 sdp=3:inactive\n3.2 b>a ACK 5/ACK ft=callee tt=caller br=z9hG4bKab1\n"
		end = "20.0 a>b BYE 9/BYE tt=callee br=z9hG4bKbye\n20.1 b>a 200 9/BYE tt=callee br=z9hG4bKbye\ntick 60\n"
	)
	for _, tc := range []struct{ name, answer, want string }{
		{"answered sendonly: the callee's hold stays", "4:sendonly", "by the caller: audio PCMU 10.0.0.1:4000 sendrecv; the callee's hold stays"},
		{"answered sendrecv: the callee's hold is off", "4", "by the caller: audio PCMU 10.0.0.1:4000 sendrecv"},
	} {
		for _, keep := range []bool{false, true} {
			script := start + holds + "4.0 a>b INVITE 3/INVITE tt=callee br=z9hG4bKr3 sdp=4\n4.1 b>a 200 3/INVITE tt=callee br=z9hG4bKr3 sdp=" + tc.answer + "\n4.2 a>b ACK 3/ACK tt=callee br=z9hG4bKa3\n" + end
			c := scriptCall(t, runScriptWith(t, correlate.Options{KeepSDP: keep}, script), "call-1")
			if n := len(c.Events); n != 3 || c.Events[2].Kind != "resume" || c.Events[2].Detail != tc.want {
				t.Errorf("%s, KeepSDP %t: %d events, the last %+v; want resume %q", tc.name, keep, n, c.Events[n-1], tc.want)
			}
		}
	}
}

// TestZeroAddressHold: a re-INVITE whose offer says c=0.0.0.0 puts the
// call on hold (RFC 2543 style), unless the offer uses ICE, whose trickle
// offers write 0.0.0.0 and port 9 as placeholders (RFC 8840 §4.2).
func TestZeroAddressHold(t *testing.T) {
	for kind, want := range map[string]string{"ice": "", "zero": "hold"} {
		calls := runScript(t, `
0.0 a>b INVITE 1/INVITE sdp=1
0.5 b>a 200 1/INVITE tt=callee sdp=1
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKr2 sdp=2:sendrecv:`+kind+`
2.1 b>a 200 2/INVITE tt=callee br=z9hG4bKr2 sdp=2
2.2 a>b ACK 2/ACK tt=callee br=z9hG4bKa2
5.0 a>b BYE 3/BYE tt=callee br=z9hG4bKbye
5.1 b>a 200 3/BYE tt=callee br=z9hG4bKbye
`)
		if len(calls) != 1 {
			t.Fatalf("%s: %d calls", kind, len(calls))
		}
		var got []string
		for _, e := range calls[0].Events {
			got = append(got, e.Kind)
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s: events %v, want %q", kind, got, want)
		}
	}
}

// TestMaxOpen: past Options.MaxOpen Call-IDs open, one is finished as it
// stands to make room: a call lingering after its BYE if there is one (not
// counted as evicted), else the one quiet the longest, an answered call
// whose BYE the capture missed (counted). Without the bound, all wait.
func TestMaxOpen(t *testing.T) {
	answered := func(at int, cid string) string {
		return fmt.Sprintf("%d.0 a>b INVITE 1/INVITE cid=%s\n%d.1 b>a 200 1/INVITE cid=%s tt=b\n%d.2 a>b ACK 1/ACK cid=%s tt=b br=ack\n", at, cid, at, cid, at, cid)
	}
	bye := func(at int, cid string) string {
		return fmt.Sprintf("%d.5 a>b BYE 2/BYE cid=%s tt=b br=bye\n%d.6 b>a 200 2/BYE cid=%s tt=b br=bye\n", at, cid, at, cid)
	}
	ringing := func(at int, cid string) string {
		return fmt.Sprintf("%d.0 a>b INVITE 1/INVITE cid=%s\n%d.1 b>a 180 1/INVITE cid=%s tt=b\n", at, cid, at, cid)
	}
	for _, tc := range []struct {
		name    string
		maxOpen int
		script  string
		order   string // Call-IDs in the order they were emitted
		states  string // theirs, in that order
		evicted int
	}{
		{"unbounded", -1, answered(1, "c1") + answered(2, "c2") + answered(3, "c3"), "c1,c2,c3", "answered,answered,answered", 0},
		{"the quietest answered call", 2, answered(1, "c1") + answered(2, "c2") + answered(3, "c3"), "c1,c2,c3", "answered,answered,answered", 1},
		{"the quietest, not the first", 2, answered(1, "c1") + answered(2, "c2") + "2.9 a>b INFO 2/INFO cid=c1 tt=b br=info\n2.95 b>a 200 2/INFO cid=c1 tt=b br=info\n" +
			answered(3, "c3"), "c2,c1,c3", "answered,answered,answered", 1},
		{"the quietest of every list", 2, answered(1, "c1") + ringing(2, "c2") + answered(3, "c3"), "c1,c2,c3", "answered,in-progress,answered", 1},
		{"the quietest of every list, ringing", 2, ringing(1, "c1") + answered(2, "c2") + answered(3, "c3"), "c1,c2,c3", "in-progress,answered,answered", 1},
		// A REGISTER challenged waits for its retry with credentials: finishing
		// it loses something, so it counts.
		{"a challenged registration counts", 2, "1.0 a>b REGISTER 1/REGISTER cid=r1\n1.1 b>a 401 1/REGISTER cid=r1 tt=b\n" + answered(2, "c2") + answered(3, "c3"),
			"r1,c2,c3", "in-progress,answered,answered", 1},
		{"a lingering call first", 2, answered(1, "c1") + answered(2, "c2") + bye(2, "c2") + answered(3, "c3"), "c2,c1,c3", "completed,answered,answered", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls, st := runScriptStats(t, correlate.Options{MaxOpen: tc.maxOpen}, tc.script)
			var ids, states []string
			for _, c := range calls {
				ids = append(ids, c.ID)
				states = append(states, string(c.State))
			}
			if strings.Join(ids, ",") != tc.order || strings.Join(states, ",") != tc.states || st.Evicted != tc.evicted {
				t.Errorf("emitted %v %v, %d evicted; want %s %s, %d", ids, states, st.Evicted, tc.order, tc.states, tc.evicted)
			}
		})
	}
}

// TestLostACK: an ACK the capture holds but the callee never got. The
// callee retransmits its 2xx past the ACK until it gives up; lostACKAfter
// (3) retransmissions after the first ACK make it a missing-ack, fewer are
// loss the next ACK mends (or a retransmission crossing the ACK).
func TestLostACK(t *testing.T) {
	// natted: the callee, at public w, names private c in its Contact, and
	// the caller's ACKs, one a 200, go there.
	const natted = `
0.0 a>w INVITE 1/INVITE
0.5 w>a 200 1/INVITE tt=callee
0.51 a>c ACK 1/ACK tt=callee br=z9hG4bKack
1.0 w>a 200 1/INVITE tt=callee
1.01 a>c ACK 1/ACK tt=callee br=z9hG4bKack
2.0 w>a 200 1/INVITE tt=callee
2.01 a>c ACK 1/ACK tt=callee br=z9hG4bKack
4.0 w>a 200 1/INVITE tt=callee
4.01 a>c ACK 1/ACK tt=callee br=z9hG4bKack
16.0 w>a BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
16.01 a>w 200 1/BYE ft=callee tt=caller br=z9hG4bKbye
`
	missing := func(want ...string) func(*correlate.Call) bool {
		return func(c *correlate.Call) bool {
			f := findingOf(c, "missing-ack")
			if f == nil || f.Severity != correlate.Error {
				return false
			}
			for _, w := range want {
				if w[0] == '!' {
					if strings.Contains(f.Detail, w[1:]) {
						return false
					}
				} else if !strings.Contains(f.Detail, w) {
					return false
				}
			}
			return true
		}
	}
	noMissing := func(c *correlate.Call) bool { return !c.HasFinding("missing-ack") && c.HasFinding("retransmissions") }
	runScriptCases(t, []scriptCase{
		{"NattedContact", natted, func(c *correlate.Call) bool {
			f := findingOf(c, "missing-ack")
			return missing("200 Reason to INVITE (packet 2) was ACKed (packet 3), but the callee retransmitted it 3 more times: the ACK did not reach it",
				"the ACK went to 10.0.0.4:5060 while the 2xx came from 198.51.100.2:5060 (with no Record-Route, the ACK goes to the 2xx's Contact): a private address",
				"32 s (64*T1)")(c) && fmt.Sprint(f.Packets) == "[2 3 4 6 8]"
		}, "want missing-ack on the 200, the first ACK and the three retransmissions after it, naming the private address"},
		// Both addresses private: where the ACK went is said, NAT is not.
		{"OtherAddress", strings.ReplaceAll(strings.ReplaceAll(natted, "w>", "b>"), ">w", ">b"),
			missing("the ACK went to 10.0.0.4:5060 while the 2xx came from 10.0.0.2:5060", "!private"),
			"want missing-ack naming where the ACK went, without the NAT guess"},
		// The ACK went where the 2xx came from, and still the callee did
		// not take it (lost on the way, or not matched).
		{"SameAddress", strings.ReplaceAll(natted, "a>c ACK", "a>w ACK"),
			missing("the callee retransmitted it 3 more times: the ACK did not reach it", "!went to"),
			"want missing-ack without a second address"},
		// The callee's 2xx came through a NAT that maps the port (n); the
		// ACK went to the port its Contact names (w's 5060).
		{"MappedPort", strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(natted, "w>", "n>"), ">w", ">n"), "a>c ACK", "a>w ACK"),
			missing("the ACK went to 198.51.100.2:5060 while the 2xx came from 198.51.100.2:34567 (with no Record-Route, the ACK goes to the 2xx's Contact): the same host at another port"),
			"want missing-ack naming the port"},
		// A proxy on the callee's host (p and s) that does not
		// Record-Route: the ACK goes to s, rightly, though the 2xx came
		// from p; no port is blamed.
		{"ProxyOnTheCalleesHost", `
0.0 a>p INVITE 1/INVITE br=z9hG4bKinv1
0.01 p>s INVITE 1/INVITE via=a br=z9hG4bKinv2
0.5 s>p 200 1/INVITE tt=callee br=z9hG4bKinv2
0.51 p>a 200 1/INVITE tt=callee br=z9hG4bKinv1
0.52 a>s ACK 1/ACK tt=callee br=z9hG4bKack
1.0 s>p 200 1/INVITE tt=callee br=z9hG4bKinv2
1.01 p>a 200 1/INVITE tt=callee br=z9hG4bKinv1
1.02 a>s ACK 1/ACK tt=callee br=z9hG4bKack
2.0 s>p 200 1/INVITE tt=callee br=z9hG4bKinv2
2.01 p>a 200 1/INVITE tt=callee br=z9hG4bKinv1
2.02 a>s ACK 1/ACK tt=callee br=z9hG4bKack
4.0 s>p 200 1/INVITE tt=callee br=z9hG4bKinv2
4.01 p>a 200 1/INVITE tt=callee br=z9hG4bKinv1
4.02 a>s ACK 1/ACK tt=callee br=z9hG4bKack
`, func(c *correlate.Call) bool {
			f := findingOf(c, "missing-ack")
			return f != nil && !strings.Contains(f.Detail, "went to")
		}, "want missing-ack without a second address"},
		// Record-Route: the ACK follows the route set, not the Contact.
		{"RecordRouted", strings.ReplaceAll(natted, "tt=callee\n", "tt=callee hdr=Record-Route:_<sip:p;lr>\n"),
			missing("went to 10.0.0.4:5060 while the 2xx came from 198.51.100.2:5060 (the dialog has a Record-Route: it goes to the route's first proxy);", "!private", "!Contact"),
			"want missing-ack naming the route, not the Contact nor NAT"},
		{"RecordRoutedPrivate", strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(natted, "w>", "b>"), ">w", ">b"), "tt=callee\n", "tt=callee hdr=Record-Route:_<sip:p;lr>\n"),
			missing("went to 10.0.0.4:5060 while the 2xx came from 10.0.0.2:5060 (the dialog has a Record-Route: it goes to the route's first proxy);", "!private", "!Contact"),
			"want missing-ack naming where the ACK went and the route"},
		// Two retransmissions after the first ACK: the boundary's other side.
		{"TwoAfter", `
0.0 a>b INVITE 1/INVITE
0.5 b>a 200 1/INVITE tt=callee
0.51 a>b ACK 1/ACK tt=callee br=z9hG4bKack
1.0 b>a 200 1/INVITE tt=callee
1.01 a>b ACK 1/ACK tt=callee br=z9hG4bKack
2.0 b>a 200 1/INVITE tt=callee
2.01 a>b ACK 1/ACK tt=callee br=z9hG4bKack
9.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
9.01 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, noMissing, "want retransmissions and no missing-ack"},
		// A fork's extra 2xx ACKed to nowhere: its callee ends that dialog
		// itself (after 64*T1), so missing-ack says it, not fork-not-ended.
		{"ForkExtraACKLost", `
0.0 a>p INVITE 1/INVITE br=z9hG4bKinv
1.0 p>a 200 1/INVITE tt=b br=z9hG4bKinv
1.05 a>p ACK 1/ACK tt=b br=z9hG4bKack1
1.2 p>a 200 1/INVITE tt=c br=z9hG4bKinv
1.25 a>c ACK 1/ACK tt=c br=z9hG4bKack2
1.7 p>a 200 1/INVITE tt=c br=z9hG4bKinv
1.75 a>c ACK 1/ACK tt=c br=z9hG4bKack2
2.7 p>a 200 1/INVITE tt=c br=z9hG4bKinv
2.75 a>c ACK 1/ACK tt=c br=z9hG4bKack2
4.7 p>a 200 1/INVITE tt=c br=z9hG4bKinv
4.75 a>c ACK 1/ACK tt=c br=z9hG4bKack2
10.0 a>p BYE 3/BYE tt=b br=z9hG4bKbye1
10.05 p>a 200 3/BYE tt=b br=z9hG4bKbye1
tick 700
`, func(c *correlate.Call) bool {
			return c.State == correlate.StateCompleted && missing("(packet 4) was ACKed (packet 5)")(c) && !c.HasFinding("fork-not-ended")
		}, "want completed with missing-ack on the extra 2xx and without fork-not-ended"},
		// Captured at a proxy: the callee's two retransmissions after the
		// ACK are relayed, two on each hop, still two of the 2xx.
		{"TwoAfterOnTwoHops", `
0.0 a>p INVITE 1/INVITE
0.01 p>b INVITE 1/INVITE br=z9hG4bKp
0.5 b>p 200 1/INVITE tt=callee br=z9hG4bKp hdr=Record-Route:_<sip:p;lr>
0.51 p>a 200 1/INVITE tt=callee hdr=Record-Route:_<sip:p;lr>
0.52 a>p ACK 1/ACK tt=callee br=z9hG4bKack
0.53 p>b ACK 1/ACK tt=callee br=z9hG4bKack2
1.0 b>p 200 1/INVITE tt=callee br=z9hG4bKp hdr=Record-Route:_<sip:p;lr>
1.01 p>a 200 1/INVITE tt=callee hdr=Record-Route:_<sip:p;lr>
2.0 b>p 200 1/INVITE tt=callee br=z9hG4bKp hdr=Record-Route:_<sip:p;lr>
2.01 p>a 200 1/INVITE tt=callee hdr=Record-Route:_<sip:p;lr>
9.0 a>p BYE 2/BYE tt=callee br=z9hG4bKbye
9.01 p>b BYE 2/BYE tt=callee br=z9hG4bKbye2
9.02 b>p 200 2/BYE tt=callee br=z9hG4bKbye2
9.03 p>a 200 2/BYE tt=callee br=z9hG4bKbye
`, noMissing, "want retransmissions and no missing-ack"},
		// The same relayed with the Via kept (one transaction on both hops):
		// still two on each hop.
		{"TwoAfterOnTwoHopsOneVia", `
0.0 a>p INVITE 1/INVITE
0.01 p>b INVITE 1/INVITE via=a
0.5 b>p 200 1/INVITE tt=callee via=a
0.51 p>a 200 1/INVITE tt=callee
0.52 a>p ACK 1/ACK tt=callee br=z9hG4bKack
0.53 p>b ACK 1/ACK tt=callee br=z9hG4bKack via=a
1.0 b>p 200 1/INVITE tt=callee via=a
1.01 p>a 200 1/INVITE tt=callee
2.0 b>p 200 1/INVITE tt=callee via=a
2.01 p>a 200 1/INVITE tt=callee
9.0 a>p BYE 2/BYE tt=callee br=z9hG4bKbye
9.01 p>b BYE 2/BYE tt=callee br=z9hG4bKbye via=a
9.02 b>p 200 2/BYE tt=callee br=z9hG4bKbye via=a
9.03 p>a 200 2/BYE tt=callee br=z9hG4bKbye
`, noMissing, "want retransmissions and no missing-ack"},
		// The ACK came late, after the retransmissions: it reached the
		// callee, which stopped.
		{"LateACK", `
0.0 a>b INVITE 1/INVITE
0.5 b>a 200 1/INVITE tt=callee
1.0 b>a 200 1/INVITE tt=callee
2.0 b>a 200 1/INVITE tt=callee
4.0 b>a 200 1/INVITE tt=callee
4.01 a>b ACK 1/ACK tt=callee br=z9hG4bKack
9.0 a>b BYE 2/BYE tt=callee br=z9hG4bKbye
9.01 b>a 200 2/BYE tt=callee br=z9hG4bKbye
`, noMissing, "want retransmissions and no missing-ack"},
	})
}

// TestByeElsewhere: an unanswered BYE sent to an address its sender never
// heard from says where the peer's messages came from instead, and names
// a private address there as NAT's mark when they came from a public one.
func TestByeElsewhere(t *testing.T) {
	// The caller, at public w, names private c in its Contact; the
	// callee's BYE goes there, three times.
	const natted = `
0.0 w>b INVITE 1/INVITE
0.5 b>w 200 1/INVITE tt=callee
0.6 w>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 b>c BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
5.5 b>c BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
6.5 b>c BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
`
	detail := func(want string) func(*correlate.Call) bool {
		return func(c *correlate.Call) bool {
			f := findingOf(c, "no-bye-response")
			return f != nil && f.Detail == want
		}
	}
	runScriptCases(t, []scriptCase{
		{"NattedCaller", natted, detail("BYE from 10.0.0.2:5060 was never answered (3 transmission(s)); the BYE went to 10.0.0.4:5060 while the caller's messages came from 198.51.100.2:5060 (with no Record-Route, the BYE goes to the caller's Contact): a private address, a phone behind NAT that wrote its own address in Contact"),
			"want no-bye-response naming the caller's private Contact"},
		{"OtherAddress", strings.ReplaceAll(strings.ReplaceAll(natted, "w>", "a>"), ">w", ">a"),
			detail("BYE from 10.0.0.2:5060 was never answered (3 transmission(s)); the BYE went to 10.0.0.4:5060 while the caller's messages came from 10.0.0.1:5060 (with no Record-Route, the BYE goes to the caller's Contact)"),
			"want no-bye-response naming where the BYE went, without the NAT guess"},
		{"CallerBYE", `
0.0 a>b INVITE 1/INVITE
0.5 b>a 200 1/INVITE tt=callee
0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>c BYE 2/BYE tt=callee br=z9hG4bKbye
5.5 a>c BYE 2/BYE tt=callee br=z9hG4bKbye
`, detail("BYE from 10.0.0.1:5060 was never answered (2 transmission(s)); the BYE went to 10.0.0.4:5060 while the callee's messages came from 10.0.0.2:5060 (with no Record-Route, the BYE goes to the callee's Contact)"),
			"want no-bye-response naming the callee's Contact"},
		{"SameAddress", strings.ReplaceAll(natted, "b>c BYE", "b>w BYE"),
			detail("BYE from 10.0.0.2:5060 was never answered (3 transmission(s))"), "want no-bye-response and nothing more"},
		// The caller's packets come through a NAT that maps the port
		// (n); its Contact names the port it listens on (w's 5060).
		{"NATMappedPort", strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(natted, "w>", "n>"), ">w", ">n"), "b>c BYE", "b>w BYE"),
			detail("BYE from 10.0.0.2:5060 was never answered (3 transmission(s)); the BYE went to 198.51.100.2:5060 while the caller's messages came from 198.51.100.2:34567 (with no Record-Route, the BYE goes to the caller's Contact): the same host at another port, as when a NAT maps the port the peer sends from while its Contact names the one it listens on behind the NAT, or a peer that sends from one port and listens on another"),
			"want no-bye-response naming the port"},
		// The caller's INVITE and ACK over TCP, from its connection's port
		// (n; RFC 3261 §18.1.1, a request over 1300 bytes), the callee's
		// BYE over UDP to the Contact's (w): the port says nothing.
		{"TCPThenUDP", `
0.0 n>b INVITE 1/INVITE tcp via=w
0.5 b>n 200 1/INVITE tt=callee tcp via=w
0.6 n>b ACK 1/ACK tt=callee br=z9hG4bKack tcp via=w
5.0 b>w BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
5.5 b>w BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
6.5 b>w BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
tick 60
`, detail("BYE from 10.0.0.2:5060 was never answered (3 transmission(s))"), "want no-bye-response and nothing more"},
		// A proxy (p, 10.0.0.3:5060) that does not Record-Route, on the
		// callee's host (s, 5080): the BYE goes to the callee's Contact,
		// rightly, though its messages came from p.
		{"ProxyOnTheCalleesHost", `
0.0 a>p INVITE 1/INVITE br=z9hG4bKinv1
0.01 p>s INVITE 1/INVITE via=a br=z9hG4bKinv2
0.5 s>p 200 1/INVITE tt=callee br=z9hG4bKinv2
0.51 p>a 200 1/INVITE tt=callee br=z9hG4bKinv1
0.52 a>s ACK 1/ACK tt=callee br=z9hG4bKack
5.0 a>s BYE 2/BYE tt=callee br=z9hG4bKbye
5.5 a>s BYE 2/BYE tt=callee br=z9hG4bKbye
6.5 a>s BYE 2/BYE tt=callee br=z9hG4bKbye
tick 60
`, detail("BYE from 10.0.0.1:5060 was never answered (3 transmission(s))"), "want no-bye-response and nothing more"},
		// Over TCP the caller's messages come from its connection's port.
		{"TCPPort", strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(natted, "w>", "n>"), ">w", ">n"), "b>c BYE", "b>w BYE"), "br=z9hG4bKbye", "br=z9hG4bKbye tcp"),
			detail("BYE from 10.0.0.2:5060 was never answered (3 transmission(s))"), "want no-bye-response and nothing more"},
		{"RecordRouted", strings.Replace(natted, "tt=callee\n", "tt=callee hdr=Record-Route:_<sip:p;lr>\n", 1),
			detail("BYE from 10.0.0.2:5060 was never answered (3 transmission(s)); the BYE went to 10.0.0.4:5060 while the caller's messages came from 198.51.100.2:5060 (the dialog has a Record-Route: it goes to the route's first proxy)"),
			"want no-bye-response naming the route, not the Contact"},
		// A re-INVITE from the callee does not make it the caller.
		{"CalleeReinvite", strings.Replace(natted, "5.0 b>c BYE", `2.0 b>w INVITE 2/INVITE ft=callee tt=caller br=z9hG4bKre sdp=2
2.1 w>b 200 2/INVITE ft=callee tt=caller br=z9hG4bKre
2.2 b>w ACK 2/ACK ft=callee tt=caller br=z9hG4bKreack
5.0 b>c BYE`, 1),
			detail("BYE from 10.0.0.2:5060 was never answered (3 transmission(s)); the BYE went to 10.0.0.4:5060 while the caller's messages came from 198.51.100.2:5060 (with no Record-Route, the BYE goes to the caller's Contact): a private address, a phone behind NAT that wrote its own address in Contact"),
			"want no-bye-response naming the caller's private Contact"},
		// Captured at a proxy that relays the callee's BYE to the caller's
		// Contact: the callee's own BYE to the proxy is not the caller's.
		{"AtProxy", `
0.0 w>p INVITE 1/INVITE
0.01 p>b INVITE 1/INVITE br=z9hG4bKp
0.5 b>p 200 1/INVITE tt=callee br=z9hG4bKp
0.51 p>w 200 1/INVITE tt=callee
0.6 w>p ACK 1/ACK tt=callee br=z9hG4bKack
0.61 p>b ACK 1/ACK tt=callee br=z9hG4bKack2
5.0 b>p BYE 1/BYE ft=callee tt=caller br=z9hG4bKbye
5.01 p>c BYE 1/BYE ft=callee tt=caller br=z9hG4bKbyep
5.51 p>c BYE 1/BYE ft=callee tt=caller br=z9hG4bKbyep
`, func(c *correlate.Call) bool {
			for _, f := range c.Findings {
				if f.Rule == "no-bye-response" && strings.HasPrefix(f.Detail, "BYE from 10.0.0.3:5060") {
					return strings.HasSuffix(f.Detail, "; the BYE went to 10.0.0.4:5060 while the caller's messages came from 198.51.100.2:5060 (with no Record-Route, the BYE goes to the caller's Contact): a private address, a phone behind NAT that wrote its own address in Contact")
				}
			}
			return false
		}, "want the proxy's BYE naming the caller's address, not the callee's"},
		// Only the BYEs captured: nothing to say where the peer is.
		{"OnlyBYEs", natted[strings.Index(natted, "5.0 "):],
			detail("BYE from 10.0.0.2:5060 was never answered (3 transmission(s))"), "want no-bye-response and nothing more"},
		{"InviteNotCaptured", natted[strings.Index(natted, "0.5 "):],
			detail("BYE from 10.0.0.2:5060 was never answered (3 transmission(s)); the BYE went to 10.0.0.4:5060 while the far end's messages came from 198.51.100.2:5060 (with no Record-Route, the BYE goes to the far end's Contact): a private address, a phone behind NAT that wrote its own address in Contact"),
			"want no-bye-response naming the far end"},
	})
}

// TestLateOfferHold: a re-INVITE without SDP asks the other party for an
// offer, which its 2xx makes and the ACK answers (RFC 3261 §14.1): a
// party holds by the offer in the 2xx as by any offer, and the ACK's
// sender holds by answering sendonly or inactive a stream the offer would
// send on (as a phone that holds by a late offer does). Each change is one
// event, at the message whose SDP says it; the flows see the re-INVITE
// hold or resume, also in a call with a session timer, whose other
// re-INVITEs without SDP are refreshes. Lean and KeepSDP agree. (Events
// without a colon are compared without their details.)
func TestLateOfferHold(t *testing.T) {
	const (
		start = "0.0 a>b INVITE 1/INVITE sdp=1\n0.1 b>a 180 1/INVITE tt=callee\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"
		timer = "0.0 a>b INVITE 1/INVITE sdp=1\n0.1 b>a 180 1/INVITE tt=callee\n0.5 b>a 200 1/INVITE tt=callee sdp=1 hdr=Session-Expires:_1800;refresher=uac\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"
		end   = "20.0 a>b BYE 9/BYE tt=callee br=z9hG4bKbye\n20.1 b>a 200 9/BYE tt=callee br=z9hG4bKbye\ntick 60\n"
	)
	// late is the caller's re-INVITE without SDP, the callee's 200 offering
	// offer, and the ACK answering answer ("" for none).
	late := func(at float64, cseq int, offer, answer string) string {
		return lateOfferExchange(at, "a", "b", " tt=callee", cseq, offer, answer)
	}
	// early is an ordinary re-INVITE of the caller's, offering.
	early := func(at float64, cseq int, offer, answer string) string {
		return offerExchange(at, "a", "b", " tt=callee", cseq, "200", offer, answer)
	}
	for _, tc := range []struct {
		name, script, flow, events string
	}{
		{"the caller holds and resumes by answering", start + late(2, 2, "2", "2:sendonly") + late(4, 3, "3", "3") + end, "hold-resume",
			"hold 7 by the caller: audio PCMU 10.0.0.1:4000 sendonly (answering the late offer in the ACK); " +
				"resume 10 by the caller: audio PCMU 10.0.0.1:4000 sendrecv (answering the late offer in the ACK)"},
		{"the caller holds inactive", start + late(2, 2, "2", "2:inactive") + late(4, 3, "3", "3") + end, "hold-resume",
			"hold 7 by the caller: audio PCMU 10.0.0.1:4000 inactive (answering the late offer in the ACK); " +
				"resume 10 by the caller: audio PCMU 10.0.0.1:4000 sendrecv (answering the late offer in the ACK)"},
		{"the callee holds by its offer", start + late(2, 2, "2:sendonly", "2:recvonly") + late(4, 3, "3", "3") + end, "hold-resume",
			"hold 6 by the callee: audio PCMU 10.0.0.2:4000 sendonly (a late offer, in the 200 Reason to a re-INVITE without SDP); " +
				"resume 9 by the callee: audio PCMU 10.0.0.2:4000 sendrecv (a late offer, in the 200 Reason to a re-INVITE without SDP)"},
		// The callee holds with inactive: the caller's answer, inactive
		// too, is no hold of its own.
		{"the answer to an inactive offer holds nothing", start + late(2, 2, "2:inactive", "2:inactive") + late(4, 3, "3", "3") + end, "hold-resume",
			"hold 6 by the callee: audio PCMU 10.0.0.2:4000 inactive (a late offer, in the 200 Reason to a re-INVITE without SDP); " +
				"resume 9 by the callee: audio PCMU 10.0.0.2:4000 sendrecv (a late offer, in the 200 Reason to a re-INVITE without SDP)"},
		// Held by an offer of its own, the caller stays held through a
		// late offer it answers sendonly again.
		{"a late offer while held holds nothing more", start + early(2, 2, "2:sendonly", "2:recvonly") + late(3, 3, "3", "3:sendonly") +
			early(4, 4, "4", "4") + end, "",
			"hold 5 by the caller: audio PCMU 10.0.0.1:4000 sendonly; resume 11 by the caller: audio PCMU 10.0.0.1:4000 sendrecv"},
		// Its resume is recvonly while the callee's hold stays (RFC 6337 §5.3).
		{"a mutual hold, the caller's resume recvonly", start + late(2, 2, "2", "2:sendonly") + late(3, 3, "3:inactive", "3:inactive") +
			late(4, 4, "4:sendonly", "4:recvonly") + late(5, 5, "5", "5") + end, "",
			"hold 7 by the caller: audio PCMU 10.0.0.1:4000 sendonly (answering the late offer in the ACK); " +
				"hold 9 by the callee: audio PCMU 10.0.0.2:4000 inactive (a late offer, in the 200 Reason to a re-INVITE without SDP); " +
				"resume 13 by the caller: audio PCMU 10.0.0.1:4000 recvonly (answering the late offer in the ACK); the callee's hold stays; " +
				"resume 15 by the callee: audio PCMU 10.0.0.2:4000 sendrecv (a late offer, in the 200 Reason to a re-INVITE without SDP)"},
		{"a late offer of T.38 fax, and back", start + late(2, 2, "2 media=m=image_4002_udptl_t38", "2 media=m=image_5002_udptl_t38") + late(4, 3, "3", "3") + end, "t38-fax",
			"t38 7 the caller's re-INVITE switched the call to T.38 fax (a late offer: its 200 Reason offered, the ACK answered): image T.38 10.0.0.1:5002 sendrecv; " +
				"t38-end 10 the caller's re-INVITE took the call back from T.38 fax (a late offer: its 200 Reason offered, the ACK answered): audio PCMU 10.0.0.1:4000 sendrecv"},
		{"a late offer that changes nothing is a reoffer", start + late(2, 2, "2", "2") + end, "reinvite", ""},
		// Found by review. The held party offers its SDP in force again
		// (RFC 3264 §8: the same o= line), in a session timer's refresh:
		// no hold of its own, and the refresh is left out of the view.
		{"a refresh offers the held party's inactive again", timer + early(2, 2, "2:inactive", "2:inactive") + late(3, 3, "2:inactive", "2:inactive") +
			early(4, 4, "4", "4") + end, "hold-resume", "hold 5 by the caller: audio PCMU 10.0.0.1:4000 inactive; resume 11 by the caller: audio PCMU 10.0.0.1:4000 sendrecv"},
		{"a refresh while the callee holds", timer + offerExchange(2, "b", "a", " ft=callee tt=caller", 5, "200", "2:sendonly", "2:inactive") +
			late(3, 3, "2:sendonly", "2:inactive") + offerExchange(6, "b", "a", " ft=callee tt=caller", 6, "200", "3", "3") + end, "hold-resume",
			"hold 5 by the callee: audio PCMU 10.0.0.2:4000 sendonly; resume 11 by the callee: audio PCMU 10.0.0.2:4000 sendrecv"},
		{"with a session timer, a late offer that changes the session", timer + late(2, 2, "2", "2") + end, "reinvite", ""},
		{"with a session timer, two 100s to the late hold", timer + strings.Replace(late(2, 2, "2", "2:sendonly"), "\n2.01 ",
			"\n2.001 b>a 100 2/INVITE tt=callee br=z9hG4bKla2\n2.002 b>a 100 2/INVITE tt=callee br=z9hG4bKla2 hdr=X-Note:_another\n2.01 ", 1) +
			late(4, 3, "3", "3") + end, "hold-resume", "hold 9; resume 12"},
		{"a hold whose 200 was not captured, resumed by a late offer", start + "2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKh2 sdp=2:sendonly\n" +
			"2.02 a>b ACK 2/ACK tt=callee br=z9hG4bKa2\n" + late(4, 3, "3", "3") + end, "", "hold 5; resume 9"},
		{"a CANCEL crossing the 200", start + strings.NewReplacer("\n2.01 ", "\n2.005 a>b CANCEL 2/CANCEL tt=callee br=z9hG4bKla2\n2.01 ",
			"\n2.02 ", "\n2.011 b>a 200 2/CANCEL tt=callee br=z9hG4bKla2\n2.02 ").Replace(late(2, 2, "2", "2:sendonly")) + late(4, 3, "3", "3") + end,
			"", "hold 9; resume 12"},
		// The held party offers its inactive answer again (the same o=
		// line): no hold of its own.
		{"the held party offers its SDP in force again", start + early(2, 2, "2:inactive", "2:inactive") +
			offerExchange(3, "b", "a", " ft=callee tt=caller", 5, "200", "2:inactive", "3:inactive") + early(4, 4, "4", "4") + end, "", "hold 5; resume 11"},
		// The callee's hold whose 200 was not captured was accepted when
		// it makes a new offer (RFC 3261 §14.1): holding still, no hold
		// again.
		{"the offerer's hold unanswered, then its late offer", start + "2.0 b>a INVITE 5/INVITE ft=callee tt=caller br=z9hG4bKb5 sdp=2:sendonly\n" +
			late(3, 2, "3:sendonly", "3:recvonly") + offerExchange(4, "b", "a", " ft=callee tt=caller", 6, "200", "4", "4") + end, "", "hold 5; resume 9"},
		// Found by the second review: a UA that never changes its o=
		// version changes its directions; its SDP in force is its last
		// accepted, whichever way it was made.
		{"a UA that keeps its o= version, after answering", start + offerExchange(2, "b", "a", " ft=callee tt=caller", 5, "200", "2", "1") +
			early(3, 2, "1:sendonly", "2:recvonly") + early(4, 3, "1", "2") + end, "", "hold 8; resume 11"},
		{"a UA that keeps its o= version, held twice", start + late(2, 2, "2", "1:sendonly") + early(3, 3, "1", "2") +
			early(4, 4, "1:sendonly", "2:recvonly") + early(5, 5, "1", "2") + end, "", "hold 7; resume 8; hold 11; resume 14"},
		// A late offer's ACK without an answer, or not captured: the next
		// offer in the leg puts it in force (RFC 3261 §14.1).
		{"a late hold whose ACK has no answer", start + late(2, 2, "2:sendonly", "") + late(4, 3, "3", "3") + end, "", "hold 6; resume 9"},
		{"a late hold whose ACK has no answer, resumed by an offer", start + late(2, 2, "2:sendonly", "") +
			offerExchange(4, "b", "a", " ft=callee tt=caller", 5, "200", "3", "3") + end, "", "hold 6; resume 8"},
		{"a late hold whose ACK was not captured", start + strings.Replace(late(2, 2, "2:sendonly", "2:recvonly"), "2.02 a>b ACK 2/ACK tt=callee br=z9hG4bKma2 sdp=2:recvonly\n", "", 1) +
			late(4, 3, "3", "3") + end, "", "hold 6; resume 8"},
		// Found by the third review: an offer refused leaves its party's
		// SDP in force, which it then offers again (RFC 3264 §8).
		{"the held party's offer refused, then its SDP in force again", start + early(2, 2, "2:inactive", "2:inactive") +
			offerExchange(2.5, "b", "a", " ft=callee tt=caller", 4, "488", "3", "") +
			offerExchange(3, "b", "a", " ft=callee tt=caller", 5, "200", "2:inactive", "3:inactive") + early(4, 4, "4", "4") + end, "", "hold 5; resume 14"},
		{"with a session timer, the same in a late refresh", timer + early(2, 2, "2:inactive", "2:inactive") +
			offerExchange(2.5, "b", "a", " ft=callee tt=caller", 4, "491", "3", "") + late(3, 3, "2:inactive", "2:inactive") +
			early(4, 4, "4", "4") + end, "", "hold 5; resume 14"},
		// A UA that keeps its o= version: its offer accepted is its SDP in
		// force, not the answer before it.
		{"a UA that keeps its o= version, its offer accepted", start + offerExchange(2, "b", "a", " ft=callee tt=caller", 5, "200", "2:inactive", "1:inactive") +
			early(3, 2, "1", "3:inactive") + early(4, 3, "1:inactive", "4:inactive") + end, "", "hold 5; hold 11"},
		// A late hold's ACK not captured, in a session-timer call: the
		// exchange comes into the view at the next message, or at the end.
		{"with a session timer, a late hold's ACK not captured", timer + strings.Replace(late(2, 2, "2:sendonly", "2:recvonly"), "2.02 a>b ACK 2/ACK tt=callee br=z9hG4bKma2 sdp=2:recvonly\n", "", 1) +
			late(4, 3, "3", "3") + end, "hold-resume: after 6 message(s), expected any -> any ACK, got A -> B INVITE (packet 7)", "hold 6; resume 8"},
		{"with a session timer, a late hold's ACK not captured, then the BYE", timer + strings.Replace(late(2, 2, "2:sendonly", "2:recvonly"), "2.02 a>b ACK 2/ACK tt=callee br=z9hG4bKma2 sdp=2:recvonly\n", "", 1) +
			end, "hold-resume: after 6 message(s), expected any -> any ACK, got A -> B BYE (packet 7)", "hold 6"},
		{"with a session timer, a late hold's ACK not captured at the end", timer + strings.Replace(late(2, 2, "2:sendonly", "2:recvonly"), "2.02 a>b ACK 2/ACK tt=callee br=z9hG4bKma2 sdp=2:recvonly\n", "", 1) +
			"tick 60\n", "hold-resume: after 6 message(s), expected any -> any ACK, but nothing more came", "hold 6"},
		// A late hold's ACK without an answer in a session-timer call: its
		// 200's hold brings the exchange into the view.
		{"with a session timer, a late hold's ACK without an answer", timer + late(2, 2, "1:sendonly", "") + late(4, 3, "1", "1") + end,
			"hold-resume", "hold 6; resume 9"},
		// Found by the fourth review: an offer whose 2xx was captured
		// first, or not at all, is in force when its party offers again.
		{"a hold whose 200 was captured before its re-INVITE", start + "2.01 b>a 200 2/INVITE tt=callee br=z9hG4bKh2 sdp=2:recvonly\n" +
			"2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKh2 sdp=2:sendonly\n2.02 a>b ACK 2/ACK tt=callee br=z9hG4bKa2\n" + early(4, 3, "3", "3") + end, "", "hold 6; resume 8"},
		{"a UA that keeps its o= version, its hold's 200 not captured", start + offerExchange(2, "b", "a", " ft=callee tt=caller", 5, "200", "2", "1") +
			"3.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKh2 sdp=1:sendonly\n3.02 a>b ACK 2/ACK tt=callee br=z9hG4bKa2\n" + early(4, 3, "1", "2") + end, "", "hold 8; resume 10"},
		{"a UA that keeps its o= version, an UPDATE's 200 captured first", start + offerExchange(2, "b", "a", " ft=callee tt=caller", 5, "200", "2", "1") +
			"3.01 b>a 200 2/UPDATE tt=callee br=z9hG4bKu2 sdp=2:recvonly\n3.0 a>b UPDATE 2/UPDATE tt=callee br=z9hG4bKu2 sdp=1:sendonly\n" +
			early(4, 3, "1", "2") + end, "", "hold 9; resume 10"},
		// Only the 200 set the timer: lean mode never saw the caller's
		// o= line, so neither mode takes its new one for a change.
		{"with a session timer, the caller's first o= line unknown", timer + late(2, 2, "1", "2") + end, "basic-call", ""},
		// Lean, the caller's last o= line is not known when only the 200
		// set the timer: the late hold is brought back by what it did.
		{"with a session timer, the first re-INVITE a late hold", timer + late(2, 2, "1", "2:sendonly") + late(4, 3, "1", "3") + end, "hold-resume", "hold 7; resume 10"},
		{"the 200 captured before its re-INVITE", start + "2.01 b>a 200 2/INVITE tt=callee br=z9hG4bKla2 sdp=2\n2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKla2\n" +
			"2.02 a>b ACK 2/ACK tt=callee br=z9hG4bKma2 sdp=2:sendonly\n" + late(4, 3, "3", "3") + end, "", "hold 7; resume 10"},
		{"the 200 sent again before the ACK", start + strings.Replace(late(2, 2, "2:sendonly", "2:recvonly"), "\n2.02 ",
			"\n2.5 b>a 200 2/INVITE tt=callee br=z9hG4bKla2 sdp=2:sendonly\n2.52 ", 1) + late(4, 3, "3", "3") + end, "hold-resume", "hold 6; resume 10"},
		{"a REFER between the 200 and its ACK", start + "2.0 a>b INVITE 2/INVITE tt=callee br=z9hG4bKla2\n2.01 b>a 200 2/INVITE tt=callee br=z9hG4bKla2 sdp=2:sendonly\n" +
			"2.015 b>a REFER 7/REFER ft=callee tt=caller br=z9hG4bKr hdr=Refer-To:_<sip:c@x>\n2.016 a>b 202 7/REFER ft=callee tt=caller br=z9hG4bKr\n" +
			"2.02 a>b ACK 2/ACK tt=callee br=z9hG4bKma2 sdp=2:recvonly\n" + end, "", "hold 6; transfer 7"},
		{"an ACK without the answer holds nothing", start + late(2, 2, "2", "") + end, "", ""},
		{"with a session timer, a refresh and a hold", timer + late(2, 2, "1", "1") + late(3, 3, "3", "3:sendonly") + late(4, 4, "4", "4") + end,
			"hold-resume", "hold 10 by the caller: audio PCMU 10.0.0.1:4000 sendonly (answering the late offer in the ACK); " +
				"resume 13 by the caller: audio PCMU 10.0.0.1:4000 sendrecv (answering the late offer in the ACK)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, keep := range []bool{false, true} {
				c := scriptCall(t, runScriptWith(t, correlate.Options{KeepSDP: keep}, tc.script), "call-1")
				if got := eventsOf(c, strings.Contains(tc.events, ":")); got != tc.events {
					t.Errorf("KeepSDP %t: events %q,\nwant %q", keep, got, tc.events)
				}
				if tc.flow != "" && flowOrDeviation(c) != tc.flow {
					t.Errorf("KeepSDP %t: flow %q, want %s", keep, flowOrDeviation(c), tc.flow)
				}
			}
		})
	}
}

// TestLateOfferHoldThroughProxy: a proxy relays the late offer's
// exchange hop by hop: one hold, one resume (the caller's by its ACKs, or
// the callee's by its 200s), and the flow is hold-resume.
// (TestHoldAcrossLegs has a B2BUA's copy of a late offer's hold.)
func TestLateOfferHoldThroughProxy(t *testing.T) {
	late := func(at float64, cseq int, offer, answer string) string {
		return fmt.Sprintf("%.2[1]f a>p INVITE %[2]d/INVITE tt=callee br=z9hG4bKl%[2]d\n%.2[3]f p>b INVITE %[2]d/INVITE tt=callee br=z9hG4bKm%[2]d\n"+
			"%.2[4]f b>p 200 %[2]d/INVITE tt=callee br=z9hG4bKm%[2]d sdp=%[5]s\n%.2[6]f p>a 200 %[2]d/INVITE tt=callee br=z9hG4bKl%[2]d sdp=%[5]s\n"+
			"%.2[7]f a>p ACK %[2]d/ACK tt=callee br=z9hG4bKn%[2]d sdp=%[8]s\n%.2[9]f p>b ACK %[2]d/ACK tt=callee br=z9hG4bKo%[2]d sdp=%[8]s\n",
			at, cseq, at+0.01, at+0.1, offer, at+0.11, at+0.2, answer, at+0.21)
	}
	for _, tc := range []struct{ script, events string }{
		{proxyCall + late(2, 2, "2", "2:sendonly") + late(4, 3, "3", "3") + proxyEnd, "hold 11; resume 17"},         // by the caller's ACKs
		{proxyCall + late(2, 2, "2:sendonly", "2:recvonly") + late(4, 3, "3", "3") + proxyEnd, "hold 9; resume 15"}, // by the callee's 200s
	} {
		for _, keep := range []bool{false, true} {
			c := scriptCall(t, runScriptWith(t, correlate.Options{KeepSDP: keep}, tc.script), "call-1")
			if got := eventsOf(c, false); got != tc.events || c.Flow != "hold-resume" {
				t.Errorf("KeepSDP %t: events %q, flow %q; want %s, hold-resume", keep, got, flowOrDeviation(c), tc.events)
			}
		}
	}
}

// proxyCall sets up a call from a through the proxy p to b, answered, and
// proxyEnd hangs it up (from the 0.0 s to 20.11 s, CSeq 1 and 9).
const (
	proxyCall = "0.0 a>p INVITE 1/INVITE sdp=1\n0.01 p>b INVITE 1/INVITE br=z9hG4bK2 sdp=1\n0.5 b>p 200 1/INVITE br=z9hG4bK2 tt=callee sdp=1\n" +
		"0.51 p>a 200 1/INVITE tt=callee sdp=1\n0.6 a>p ACK 1/ACK tt=callee br=z9hG4bKack\n0.61 p>b ACK 1/ACK tt=callee br=z9hG4bKack2\n"
	proxyEnd = "20.0 a>p BYE 9/BYE tt=callee br=z9hG4bKbye\n20.01 p>b BYE 9/BYE tt=callee br=z9hG4bKbye2\n" +
		"20.1 b>p 200 9/BYE tt=callee br=z9hG4bKbye2\n20.11 p>a 200 9/BYE tt=callee br=z9hG4bKbye\ntick 60\n"
)

// eventsOf is c's events, "kind packet detail" each (without the detail
// unless detail), "; " between them.
func eventsOf(c *correlate.Call, detail bool) string {
	var events []string
	for _, e := range c.Events {
		if detail {
			events = append(events, fmt.Sprintf("%s %d %s", e.Kind, e.N, e.Detail))
		} else {
			events = append(events, fmt.Sprintf("%s %d", e.Kind, e.N))
		}
	}
	return strings.Join(events, "; ")
}

// TestLongCalls: calls of hundreds of messages, long enough that their
// legs find messages in an index (legIndex) while they are read and when
// they are built, come out as their short forms do: each hold and resume
// an event (early offers and late), each glare retried a finding of its
// own, the flows as a call of one change.
func TestLongCalls(t *testing.T) {
	const (
		start = "0.0 a>b INVITE 1/INVITE sdp=1\n0.1 b>a 180 1/INVITE tt=callee\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"
		end   = "990.0 a>b BYE 999/BYE tt=callee br=z9hG4bKbye\n990.1 b>a 200 999/BYE tt=callee br=z9hG4bKbye\ntick 60\n"
	)
	const cycles = 40
	var early, late, glare, trying, timer strings.Builder
	var wantEarly, wantLate, wantGlare, wantTrying, wantTimer []string
	for i := range cycles {
		at, cseq := 2+float64(i)*20, 2+2*i
		hold := fmt.Sprintf("%d:sendonly", cseq)
		early.WriteString(offerExchange(at, "a", "b", " tt=callee", cseq, "200", hold, fmt.Sprintf("%d:recvonly", cseq)))
		early.WriteString(offerExchange(at+10, "a", "b", " tt=callee", cseq+1, "200", fmt.Sprint(cseq+1), fmt.Sprint(cseq+1)))
		n := 5 + 6*i // the re-INVITE's packet: four of the call's start, three an exchange
		wantEarly = append(wantEarly, fmt.Sprintf("hold %d", n), fmt.Sprintf("resume %d", n+3))
		late.WriteString(lateOfferExchange(at, "a", "b", " tt=callee", cseq, fmt.Sprint(cseq), hold))
		late.WriteString(lateOfferExchange(at+10, "a", "b", " tt=callee", cseq+1, fmt.Sprint(cseq+1), fmt.Sprint(cseq+1)))
		wantLate = append(wantLate, fmt.Sprintf("hold %d", n+2), fmt.Sprintf("resume %d", n+5))
		// The callee's re-INVITE is refused (491), and sent again a second
		// later, offering the same.
		fmt.Fprintf(&glare, "%.2f b>a INVITE %d/INVITE ft=callee tt=caller br=z9hG4bKg%d sdp=%d\n", at, cseq, i, cseq)
		fmt.Fprintf(&glare, "%.2f a>b 491 %d/INVITE ft=callee tt=caller br=z9hG4bKg%d\n", at+0.01, cseq, i)
		fmt.Fprintf(&glare, "%.2f b>a ACK %d/ACK ft=callee tt=caller br=z9hG4bKg%d\n", at+0.02, cseq, i)
		glare.WriteString(offerExchange(at+1, "b", "a", " ft=callee tt=caller", cseq+1, "200", fmt.Sprint(cseq+1), fmt.Sprint(cseq+1)))
		wantGlare = append(wantGlare, fmt.Sprintf("reinvite-glare %d,%d,%d", n, n+1, n+3))
		// Each re-INVITE answered "100 Trying", then "100 Giving a try"
		// (OpenSIPS): the second 100 is no step, or hold-resume, which
		// lets one 100 come, would not match.
		for k, sdp := range [][2]string{{hold, fmt.Sprintf("%d:recvonly", cseq)}, {fmt.Sprint(cseq + 1), fmt.Sprint(cseq + 1)}} {
			x := offerExchange(at+float64(10*k), "a", "b", " tt=callee", cseq+k, "200", sdp[0], sdp[1])
			hundred := fmt.Sprintf("%.3f b>a 100 %d/INVITE tt=callee br=z9hG4bKxa%d hdr=Server:_", at+float64(10*k)+0.005, cseq+k, cseq+k)
			first, rest, _ := strings.Cut(x, "\n")
			trying.WriteString(first + "\n" + hundred + "one\n" + hundred + "three\n" + rest) // different sizes: not resent
		}
		wantTrying = append(wantTrying, fmt.Sprintf("hold %d", 5+10*i), fmt.Sprintf("resume %d", 10+10*i))
		// A session timer's refresh (the same o= line) before each hold
		// and each resume: refreshes are no steps, holds and resumes are.
		v, last := 2+2*i, "1"
		if i > 0 {
			last = fmt.Sprint(v - 1)
		}
		for k, sdp := range [][2]string{{last, last}, {fmt.Sprintf("%d:sendonly", v), fmt.Sprintf("%d:recvonly", v)},
			{fmt.Sprintf("%d:sendonly", v), fmt.Sprintf("%d:recvonly", v)}, {fmt.Sprint(v + 1), fmt.Sprint(v + 1)}} {
			timer.WriteString(offerExchange(at+float64(5*k), "a", "b", " tt=callee", 2+4*i+k, "200", sdp[0], sdp[1]))
		}
		wantTimer = append(wantTimer, fmt.Sprintf("hold %d", 7+12*i), fmt.Sprintf("resume %d", 13+12*i))
	}
	const timerStart = "0.0 a>b INVITE 1/INVITE sdp=1 hdr=Session-Expires:_90\n0.5 b>a 200 1/INVITE tt=callee sdp=1 hdr=Session-Expires:_90;refresher=uac\n" +
		"0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\n"
	for _, tc := range []struct {
		name, script, flow, want string
		got                      func(*correlate.Call) string
	}{
		{"holds by early offers", start + early.String() + end, "hold-resume", strings.Join(wantEarly, "; "),
			func(c *correlate.Call) string { return eventsOf(c, false) }},
		{"holds by late offers", start + late.String() + end, "hold-resume", strings.Join(wantLate, "; "),
			func(c *correlate.Call) string { return eventsOf(c, false) }},
		{"holds answered by two 100s", start + trying.String() + end, "hold-resume", strings.Join(wantTrying, "; "),
			func(c *correlate.Call) string { return eventsOf(c, false) }},
		{"holds between session refreshes", timerStart + timer.String() + end, "hold-resume", strings.Join(wantTimer, "; "),
			func(c *correlate.Call) string { return eventsOf(c, false) }},
		{"glares retried", start + glare.String() + end, "", strings.Join(wantGlare, "; "),
			func(c *correlate.Call) string {
				var fs []string
				for _, f := range c.Findings {
					fs = append(fs, fmt.Sprintf("%s %s", f.Rule, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(f.Packets)), ","), "[]")))
				}
				return strings.Join(fs, "; ")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := scriptCall(t, runScript(t, tc.script), "call-1")
			if got := tc.got(c); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if tc.flow != "" && c.Flow != tc.flow {
				t.Errorf("flow %q (deviation %q), want %q", c.Flow, c.Deviation, tc.flow)
			}
			if c.NumMessages < 200 {
				t.Errorf("%d messages: too short to be indexed", c.NumMessages)
			}
		})
	}
}

// TestDeviationEnded: a call that left its closest flow because its
// messages stopped says whether the call ended or was still ringing or
// talking when it was finished (by the capture's end or a timeout); a
// registration, no call, that nothing more came.
func TestDeviationEnded(t *testing.T) {
	const open, call = "but nothing more came", "but the call ended"
	for _, tt := range []struct{ name, script, want string }{
		{"ringing", "0.0 a>b INVITE 1/INVITE\n0.1 b>a 180 1/INVITE tt=callee\ntick 5\n",
			"basic-call: after 2 message(s), expected B -> A 2xx INVITE, " + open},
		{"talking", "0.0 a>b INVITE 1/INVITE sdp=1\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\ntick 10\n",
			"basic-call: after 3 message(s), expected any -> any BYE, " + open},
		{"talking, finished by the call timeout", "0.0 a>b INVITE 1/INVITE sdp=1\n0.5 b>a 200 1/INVITE tt=callee sdp=1\n0.6 a>b ACK 1/ACK tt=callee br=z9hG4bKack\ntick 7200\ntick 7201\n",
			"basic-call: after 3 message(s), expected any -> any BYE, " + open},
		{"unanswered", "0.0 a>b INVITE 1/INVITE\n0.5 a>b INVITE 1/INVITE\n1.5 a>b INVITE 1/INVITE\ntick 40\n",
			"basic-call: after 1 message(s), expected B -> A 2xx INVITE, " + call},
		{"a registration challenged, never retried: no call", "0.0 a>r REGISTER 1/REGISTER\n0.01 r>a 401 1/REGISTER tt=r1\ntick 200\n",
			"register-digest: after 2 message(s), expected A -> B REGISTER, " + open},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := runScript(t, tt.script)[0]
			if c.Deviation != tt.want {
				t.Errorf("%s: deviation %q, want %q", c.State, c.Deviation, tt.want)
			}
		})
	}
}
