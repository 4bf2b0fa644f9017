package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// crlf turns the LF line ends of a readable test literal into CRLF.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// mustParse parses b and fails the test on any error.
func mustParse(t *testing.T, b []byte) *Message {
	t.Helper()
	var m Message
	if err := ParseSIP(b, &m); err != nil {
		t.Fatalf("ParseSIP: %v\n%s", err, b)
	}
	checkViews(t, b, &m)
	return &m
}

// headerValues returns the values of every Header named name, as strings.
func headerValues(m *Message, name string) []string {
	var out []string
	for _, h := range m.Headers {
		if string(h.Name) == name {
			out = append(out, string(h.Value))
		}
	}
	return out
}

func eq(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if string(got) != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestParseSIPRequest(t *testing.T) {
	m := mustParse(t, benchInvite)
	eq(t, "Method", m.Method, "INVITE")
	eq(t, "RequestURI", m.RequestURI, "sip:+14155550123@sip.example.com;user=phone")
	if m.StatusCode != 0 || m.Reason != nil || !m.IsRequest() {
		t.Errorf("StatusCode %d Reason %q IsRequest %v", m.StatusCode, m.Reason, m.IsRequest())
	}
	eq(t, "CallID", m.CallID, "a84b4c76e66710@pc33.example.org")
	eq(t, "From.Display", m.From.Display, "Alice Example")
	eq(t, "From.URI", m.From.URI, "sip:alice@example.org")
	eq(t, "From.Tag", m.From.Tag, "1928301774")
	eq(t, "To.URI", m.To.URI, "sip:+14155550123@sip.example.com;user=phone")
	if m.To.Tag != nil || m.To.Display != nil {
		t.Errorf("To.Tag %q To.Display %q, want nil", m.To.Tag, m.To.Display)
	}
	if m.CSeq != 314159 {
		t.Errorf("CSeq = %d", m.CSeq)
	}
	eq(t, "CSeqMethod", m.CSeqMethod, "INVITE")
	if len(m.Via) != 2 {
		t.Fatalf("%d Via, want 2", len(m.Via))
	}
	v := m.Via[0]
	eq(t, "Via[0].Transport", v.Transport, "UDP")
	eq(t, "Via[0].SentBy", v.SentBy, "203.0.113.10:5060")
	eq(t, "Via[0].Host", v.Host, "203.0.113.10")
	eq(t, "Via[0].Branch", v.Branch, "z9hG4bK-524287-1---2f7b3a1c9d")
	if v.Port != 5060 || !v.HasRPort || v.RPort == nil || len(v.RPort) != 0 || v.Received != nil {
		t.Errorf("Via[0] = %+v", v)
	}
	v = m.Via[1]
	eq(t, "Via[1].Received", v.Received, "198.51.100.7")
	eq(t, "Via[1].RPort", v.RPort, "5060")
	eq(t, "Via[1].Branch", v.Branch, "z9hG4bK776asdhds")
	eq(t, "Contact.URI", m.Contact.URI, "sip:alice@198.51.100.7:5060;transport=udp")
	eq(t, "ContentType", m.ContentType, "application/sdp")
	if m.ContentLength != len(benchSDP) || m.MaxForwards != 69 {
		t.Errorf("ContentLength %d MaxForwards %d", m.ContentLength, m.MaxForwards)
	}
	eq(t, "UserAgent", m.UserAgent, "ExamplePhone/4.2.1")
	eq(t, "SessionExpires", m.SessionExpires, "1800;refresher=uac")
	eq(t, "Body", m.Body, benchSDP)
	eq(t, "SDP", m.SDP, benchSDP)
	eq(t, "Raw", m.Raw, string(benchInvite))
	if got := headerValues(m, "allow"); len(got) != 10 || got[0] != "INVITE" || got[9] != "PRACK" {
		t.Errorf("allow = %q", got)
	}
	if got := headerValues(m, "supported"); strings.Join(got, "|") != "replaces|timer|100rel" {
		t.Errorf("supported = %q", got)
	}
	if got := headerValues(m, "record-route"); len(got) != 1 || got[0] != "<sip:203.0.113.10;lr;ftag=as5e2b1c>" {
		t.Errorf("record-route = %q", got)
	}
}

func TestParseSIPResponse(t *testing.T) {
	m := mustParse(t, crlf(`SIP/2.0 180 Ringing
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds8;received=192.0.2.1
Via: SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bK77ef4c2312983.1;rport=5061, SIP/2.0/UDP [2001:db8::1];branch=z9hG4bKx
From: Bob <sips:bob@biloxi.example.com>;tag=a73kszlfl
To: "Alice, \"the\" caller" <sip:alice@atlanta.example.com>;tag=1410948204
Call-ID: 8374629@atlanta.example.com
CSeq: 1 INVITE
Contact: <sips:bob@client.biloxi.example.com>, <sip:bob@backup.example.com>
Server: Acme SBC 9.1 (build 3), Linux
Content-Length: 0

`))
	if m.StatusCode != 180 || m.IsRequest() || m.Method != nil || m.RequestURI != nil {
		t.Errorf("StatusCode %d Method %q", m.StatusCode, m.Method)
	}
	eq(t, "Reason", m.Reason, "Ringing")
	eq(t, "From.Display", m.From.Display, "Bob")
	eq(t, "From.URI", m.From.URI, "sips:bob@biloxi.example.com")
	eq(t, "To.Display", m.To.Display, `Alice, \"the\" caller`)
	eq(t, "To.Tag", m.To.Tag, "1410948204")
	eq(t, "Contact.URI", m.Contact.URI, "sips:bob@client.biloxi.example.com")
	if got := headerValues(m, "contact"); len(got) != 2 {
		t.Errorf("contact = %q, want 2 values", got)
	}
	eq(t, "Server", m.Server, "Acme SBC 9.1 (build 3), Linux")
	if len(m.Via) != 3 {
		t.Fatalf("%d Via, want 3", len(m.Via))
	}
	// IPv6 references (RFC 5118): Host without brackets, SentBy as written.
	eq(t, "Via[1].Transport", m.Via[1].Transport, "TLS")
	eq(t, "Via[1].SentBy", m.Via[1].SentBy, "[2001:db8::9]:5061")
	eq(t, "Via[1].Host", m.Via[1].Host, "2001:db8::9")
	eq(t, "Via[1].RPort", m.Via[1].RPort, "5061")
	if m.Via[1].Port != 5061 || m.Via[2].Port != 0 {
		t.Errorf("ports %d %d", m.Via[1].Port, m.Via[2].Port)
	}
	eq(t, "Via[2].Host", m.Via[2].Host, "2001:db8::1")
	eq(t, "Via[2].Branch", m.Via[2].Branch, "z9hG4bKx")
	if m.Body != nil || m.SDP != nil || m.ContentLength != 0 || m.MaxForwards != -1 {
		t.Errorf("Body %q SDP %q ContentLength %d MaxForwards %d", m.Body, m.SDP, m.ContentLength, m.MaxForwards)
	}
}

// TestParseSIPCompactForms checks every compact header form (RFC 3261
// §7.3.3 and the IANA registry) maps to its long name, in either case.
func TestParseSIPCompactForms(t *testing.T) {
	compact := map[string]string{
		"a": "accept-contact", "b": "referred-by", "c": "content-type", "d": "request-disposition",
		"e": "content-encoding", "f": "from", "i": "call-id", "j": "reject-contact", "k": "supported",
		"l": "content-length", "m": "contact", "n": "identity-info", "o": "event", "r": "refer-to",
		"s": "subject", "t": "to", "u": "allow-events", "v": "via", "x": "session-expires", "y": "identity",
	}
	for short, long := range compact {
		for _, name := range []string{short, strings.ToUpper(short)} {
			if id := lookupHeader([]byte(name)); string(hdrNames[id]) != long {
				t.Errorf("lookupHeader(%q) = %q, want %q", name, hdrNames[id], long)
			}
		}
	}
	m := mustParse(t, crlf(`MESSAGE sip:bob@example.com SIP/2.0
v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1
f: <sip:alice@example.com>;tag=1
t: <sip:bob@example.com>
i: compact@192.0.2.1
CSeq: 2 MESSAGE
m: <sip:alice@192.0.2.1>
c: text/plain
k: 100rel, timer
s: hello, world
e: gzip
o: refer;id=93809824
r: <sip:carol@example.com?Replaces=a%40b%3Bto-tag%3D1%3Bfrom-tag%3D2>
b: <sip:alice@example.com>;cid="20398823.2UWQFN309shb3@example.com"
u: presence, dialog
x: 1800;refresher=uas
y: "ZYNBbHC00VMZr2kZt6VmCvPonWJMGvQTBDqghoWeLxJfzB2a1pxAr3VgrB0SsSAaifsRdiOPoQZYOy2wrVghuhcsMbHWUSFxI6p6q5TOQXHMmz6uEo3svJsSH49thyGnFVcnyaZ++yRlBYYQTLqWzJ+KVhPKbfU/pryhVn9Yc6U="
a: *;audio;require
j: *;video
d: proxy, recurse
n: <https://example.com/cert>;alg=rsa-sha1
l: 5

hello`))
	for short, long := range compact {
		if len(headerValues(m, long)) == 0 {
			t.Errorf("compact %q: no %q header", short, long)
		}
	}
	eq(t, "CallID", m.CallID, "compact@192.0.2.1")
	eq(t, "ContentType", m.ContentType, "text/plain")
	eq(t, "ReferTo.URI", m.ReferTo.URI, "sip:carol@example.com?Replaces=a%40b%3Bto-tag%3D1%3Bfrom-tag%3D2")
	eq(t, "ReferredBy.URI", m.ReferredBy.URI, "sip:alice@example.com")
	eq(t, "SessionExpires", m.SessionExpires, "1800;refresher=uas")
	eq(t, "Body", m.Body, "hello")
	if m.SDP != nil {
		t.Errorf("SDP = %q for text/plain", m.SDP)
	}
	// Subject is not a list: its comma stays.
	if got := headerValues(m, "subject"); len(got) != 1 || got[0] != "hello, world" {
		t.Errorf("subject = %q", got)
	}
	if got := headerValues(m, "request-disposition"); len(got) != 2 {
		t.Errorf("request-disposition = %q, want 2 values", got)
	}
}

// TestParseSIPFolding checks continuation lines (RFC 3261 §7.3.1): a value
// keeps its folds, typed fields are read across them.
func TestParseSIPFolding(t *testing.T) {
	m := mustParse(t, crlf(`OPTIONS sip:carol@chicago.example.com SIP/2.0
Via: SIP/2.0/UDP pc33.example.com
 ;branch=z9hG4bKhjhs8ass877
Max-Forwards:
	70
To: <sip:carol@chicago.example.com>
From: Alice
 <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 63104
   OPTIONS
Subject: I know you're there,
 pick up the phone
 and talk to me!
Content-Length: 0

`))
	eq(t, "Via.Branch", m.Via[0].Branch, "z9hG4bKhjhs8ass877")
	eq(t, "Via.Host", m.Via[0].Host, "pc33.example.com")
	eq(t, "From.Display", m.From.Display, "Alice")
	eq(t, "From.Tag", m.From.Tag, "1928301774")
	eq(t, "CSeqMethod", m.CSeqMethod, "OPTIONS")
	if m.CSeq != 63104 || m.MaxForwards != 70 {
		t.Errorf("CSeq %d MaxForwards %d", m.CSeq, m.MaxForwards)
	}
	if got := headerValues(m, "subject"); len(got) != 1 || got[0] != "I know you're there,\r\n pick up the phone\r\n and talk to me!" {
		t.Errorf("subject = %q", got)
	}
}

// TestParseSIPSplitting checks which headers are split on commas, and that
// commas inside quotes and <> never split.
func TestParseSIPSplitting(t *testing.T) {
	m := mustParse(t, crlf(`INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,SIP/2.0/UDP b.example.com;branch=z9hG4bK2 , SIP/2.0/TCP c.example.com:5070;branch=z9hG4bK3
From: "Smith, John" <sip:john@example.com>;tag=x
To: <sip:bob@example.com>
Call-ID: split@example.com
CSeq: 1 INVITE
Contact: "A, B" <sip:a@example.com;p=1,2>;expires=60, <sip:c@example.com>
Diversion: <sip:+15551000@example.com>;reason=unconditional;counter=1, "Front, Desk" <sip:+15552000@example.com>;reason=user-busy
Diversion: <sip:+15553000@example.com>;reason=no-answer
History-Info: <sip:bob@example.com>;index=1, <sip:bob@192.0.2.5?Reason=SIP%3Bcause%3D302>;index=1.1
Authorization: Digest username="bob", realm="example.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", uri="sip:bob@example.com", response="dfe56131d1958046689d83306477ecc"
Proxy-Authorization: Digest username="alice", realm="atlanta.example.com", nonce="wf84f1ceczx41ae6cbe5aea9c8e88d359", response="42ce3cef44b22f50c6a6071bc8"
WWW-Authenticate: Digest realm="example.com", qop="auth,auth-int", nonce="abc"
Proxy-Authenticate: Digest realm="atlanta.example.com", qop="auth", nonce="xyz", opaque="", stale=FALSE, algorithm=MD5
Warning: 370 devnull "Choose a bigger pipe, please", 307 isi.edu "Session parameter 'foo' not understood"
Reason: SIP ;cause=200 ;text="Call completed elsewhere", Q.850;cause=16;text="Terminated"
Date: Sat, 13 Nov 2010 23:29:00 GMT
X-Unknown: a, b, c
Replaces: 425928@bobster.example.org;to-tag=7743;from-tag=6472
RSeq: 988789
RAck: 776656 1 INVITE
Max-Forwards: 70
Content-Length: 0

`))
	if len(m.Via) != 3 {
		t.Fatalf("%d Via, want 3", len(m.Via))
	}
	eq(t, "Via[1].Branch", m.Via[1].Branch, "z9hG4bK2")
	eq(t, "Via[2].Host", m.Via[2].Host, "c.example.com")
	if m.Via[2].Port != 5070 {
		t.Errorf("Via[2].Port = %d", m.Via[2].Port)
	}
	eq(t, "From.Display", m.From.Display, "Smith, John")
	eq(t, "Contact.Display", m.Contact.Display, "A, B")
	eq(t, "Contact.URI", m.Contact.URI, "sip:a@example.com;p=1,2")
	if got := headerValues(m, "contact"); len(got) != 2 || got[0] != `"A, B" <sip:a@example.com;p=1,2>;expires=60` {
		t.Errorf("contact = %q", got)
	}
	if len(m.Diversion) != 3 || string(m.Diversion[1]) != `"Front, Desk" <sip:+15552000@example.com>;reason=user-busy` || string(m.Diversion[2]) != "<sip:+15553000@example.com>;reason=no-answer" {
		t.Errorf("Diversion = %q", m.Diversion)
	}
	if len(m.HistoryInfo) != 2 || string(m.HistoryInfo[1]) != "<sip:bob@192.0.2.5?Reason=SIP%3Bcause%3D302>;index=1.1" {
		t.Errorf("HistoryInfo = %q", m.HistoryInfo)
	}
	for _, name := range []string{"authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate", "date", "X-Unknown"} {
		if got := headerValues(m, name); len(got) != 1 {
			t.Errorf("%s split into %q", name, got)
		}
	}
	if !bytes.HasPrefix(m.Authorization, []byte(`Digest username="bob"`)) || !bytes.HasSuffix(m.Authorization, []byte(`"dfe56131d1958046689d83306477ecc"`)) {
		t.Errorf("Authorization = %q", m.Authorization)
	}
	if !bytes.HasPrefix(m.ProxyAuthorization, []byte(`Digest username="alice"`)) {
		t.Errorf("ProxyAuthorization = %q", m.ProxyAuthorization)
	}
	if !bytes.HasSuffix(m.WWWAuthenticate, []byte(`nonce="abc"`)) || !bytes.HasSuffix(m.ProxyAuthenticate, []byte("algorithm=MD5")) {
		t.Errorf("WWWAuthenticate %q ProxyAuthenticate %q", m.WWWAuthenticate, m.ProxyAuthenticate)
	}
	if got := headerValues(m, "warning"); len(got) != 2 || got[0] != `370 devnull "Choose a bigger pipe, please"` {
		t.Errorf("warning = %q", got)
	}
	// Reason (RFC 3326) is a list in Headers; ReasonHeader keeps the line.
	if got := headerValues(m, "reason"); len(got) != 2 || got[1] != `Q.850;cause=16;text="Terminated"` {
		t.Errorf("reason = %q", got)
	}
	eq(t, "ReasonHeader", m.ReasonHeader, `SIP ;cause=200 ;text="Call completed elsewhere", Q.850;cause=16;text="Terminated"`)
	eq(t, "Replaces", m.Replaces, "425928@bobster.example.org;to-tag=7743;from-tag=6472")
	if m.ReplacesMore {
		t.Errorf("ReplacesMore with one Replaces header")
	}
	eq(t, "RAck", m.RAck, "776656 1 INVITE")
	if m.RSeq != 988789 {
		t.Errorf("RSeq = %d", m.RSeq)
	}
	// Unknown header names are kept as written.
	found := false
	for _, h := range m.Headers {
		if string(h.Name) == "X-Unknown" {
			found = true
		}
	}
	if !found {
		t.Errorf("unknown header name not kept as written")
	}
}

func TestParseSIPLFOnly(t *testing.T) {
	lf := []byte(strings.ReplaceAll(string(benchInvite), "\r\n", "\n"))
	var m Message
	err := ParseSIP(lf, &m)
	// The Content-Length counted CRLFs: the LF-only body is shorter.
	if !errors.Is(err, ErrShortBody) {
		t.Fatalf("err = %v, want ErrShortBody", err)
	}
	checkViews(t, lf, &m)
	eq(t, "CallID", m.CallID, "a84b4c76e66710@pc33.example.org")
	eq(t, "Via[1].Branch", m.Via[1].Branch, "z9hG4bK776asdhds")
	if !bytes.HasPrefix(m.SDP, []byte("v=0\no=alice")) {
		t.Errorf("SDP = %q", m.SDP)
	}
	// Mixed line ends, and a bare LF ending the headers.
	mixed := []byte("BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=2\nCall-ID: c\nCSeq: 3 BYE\n\n")
	m2 := mustParse(t, mixed)
	if m2.CSeq != 3 || m2.Body != nil {
		t.Errorf("CSeq %d Body %q", m2.CSeq, m2.Body)
	}
}

// TestParseSIPBody covers the Content-Length rules of RFC 3261 §18.3.
func TestParseSIPBody(t *testing.T) {
	const head = "MESSAGE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: body\r\nCSeq: 1 MESSAGE\r\n"
	tests := []struct {
		name     string
		in       string
		body     string // "<nil>" for nil
		raw      int    // len(Raw), -1 for len(in)
		wantErr  error
		clLength int
	}{
		{"exact", head + "Content-Length: 5\r\n\r\nhello", "hello", -1, nil, 5},
		{"trailing bytes ignored", head + "Content-Length: 5\r\n\r\nhello world", "hello", len(head) + 21 + 5, nil, 5},
		{"zero", head + "Content-Length: 0\r\n\r\nINVITE sip:x SIP/2.0\r\n", "<nil>", len(head) + 21, nil, 0},
		{"short", head + "Content-Length: 50\r\n\r\nhello", "hello", -1, ErrShortBody, 50},
		{"absent: rest of datagram", head + "\r\nhello\r\n", "hello\r\n", -1, nil, -1},
		{"no blank line", head, "<nil>", -1, nil, -1},
		{"no blank line, body promised", head + "Content-Length: 3\r\n", "<nil>", -1, ErrShortBody, 3},
		{"same length twice", head + "Content-Length: 5\r\nl: 5\r\n\r\nhello", "hello", -1, nil, 5},
		// An unusable Content-Length is as if absent (RFC 4475 §3.1.2.3, §3.3.9).
		{"negative", head + "Content-Length: -1\r\n\r\nabc", "abc", -1, nil, -1},
		{"not a number", head + "Content-Length: five\r\n\r\nabc", "abc", -1, nil, -1},
		{"huge", head + "Content-Length: 99999999999999999999\r\n\r\n", "<nil>", -1, nil, -1},
		{"contradictory", head + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "hello!", -1, nil, -1},
		{"contradicted, then again", head + "Content-Length: 5\r\nl: 6\r\nl: 5\r\n\r\nhello!", "hello!", -1, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			var m Message
			err := ParseSIP(in, &m)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			checkViews(t, in, &m)
			if errors.Is(err, ErrMalformed) {
				return
			}
			if tt.body == "<nil>" {
				if m.Body != nil {
					t.Errorf("Body = %q, want nil", m.Body)
				}
			} else {
				eq(t, "Body", m.Body, tt.body)
			}
			raw := tt.raw
			if raw < 0 {
				raw = len(in)
			}
			if len(m.Raw) != raw {
				t.Errorf("len(Raw) = %d, want %d", len(m.Raw), raw)
			}
			if m.ContentLength != tt.clLength {
				t.Errorf("ContentLength = %d, want %d", m.ContentLength, tt.clLength)
			}
			if m.CallID == nil {
				t.Errorf("fields not filled")
			}
		})
	}
}

// TestParseSIPSDP covers finding the SDP: application/sdp with parameters
// and any case, multipart bodies, and bodies that are not SDP.
func TestParseSIPSDP(t *testing.T) {
	const sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	head := func(ct string) string {
		return "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: sdp\r\nCSeq: 1 INVITE\r\n" + ct
	}
	mixed := "--unique-boundary-1\r\nContent-Type: application/sdp\r\n\r\n" + sdp + "\r\n--unique-boundary-1\r\nContent-Type: application/isup;version=itu-t92+\r\nContent-Disposition: signal;handling=optional\r\n\r\n\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00\x00\x03\x06\x0d\x03\x80\x90\xa2\x07\x03\x10\x03\x63\x53\x00\r\n--unique-boundary-1--\r\n"
	sdpSecond := "preamble\r\n--b1\r\ncontent-type: text/plain\r\n\r\nhi\r\n--b1\r\nCONTENT-TYPE: Application/SDP\r\n\r\n" + sdp + "\r\n--b1--\r\n"
	nested := "--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\nContent-Type: text/plain\r\n\r\nx\r\n--inner\r\nContent-Type: application/sdp\r\n\r\n" + sdp + "\r\n--inner--\r\n\r\n--outer--\r\n"
	lfOnly := strings.ReplaceAll("--b\r\nContent-Type: application/sdp\r\n\r\n"+sdp+"\r\n--b--\r\n", "\r\n", "\n")
	tests := []struct {
		name, ct, body, want string
	}{
		{"application/sdp", "Content-Type: application/sdp\r\n", sdp, sdp},
		{"params and case", "c: Application/SDP ; charset=utf-8\r\n", sdp, sdp},
		{"no content type", "", sdp, ""},
		{"other type", "Content-Type: application/pidf+xml\r\n", sdp, ""},
		{"multipart/mixed", "Content-Type: multipart/mixed;boundary=unique-boundary-1\r\n", mixed, sdp},
		{"multipart/related quoted boundary", "Content-Type: multipart/related; type=\"application/sdp\"; boundary=\"b1\"\r\n", sdpSecond, sdp},
		{"multipart nested", "Content-Type: multipart/mixed;boundary=outer\r\n", nested, sdp},
		{"multipart LF only", "Content-Type: multipart/alternative;boundary=b\n", lfOnly, strings.ReplaceAll(sdp, "\r\n", "\n")},
		{"multipart no boundary", "Content-Type: multipart/mixed\r\n", mixed, ""},
		{"multipart no sdp part", "Content-Type: multipart/mixed;boundary=b1\r\n", "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n", ""},
		{"multipart part without headers", "Content-Type: multipart/mixed;boundary=b1\r\n", "--b1\r\n\r\n" + sdp + "\r\n--b1--\r\n", ""},
		{"multipart unterminated", "Content-Type: multipart/mixed;boundary=b1\r\n", "--b1\r\nContent-Type: application/sdp\r\n\r\n" + sdp, sdp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(head(tt.ct) + "\r\n" + tt.body)
			m := mustParse(t, in)
			if string(m.SDP) != tt.want || (tt.want == "") != (m.SDP == nil) {
				t.Errorf("SDP = %q, want %q", m.SDP, tt.want)
			}
		})
	}
}

// TestParseSIPErrors checks malformed messages are refused with ErrMalformed
// and an error that quotes the offending bytes.
func TestParseSIPErrors(t *testing.T) {
	const ok = "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: e\r\nCSeq: 1 OPTIONS\r\n"
	tests := []struct {
		name, in, quote string
	}{
		{"empty", "", "empty start line"},
		{"only CRLF", "\r\n\r\n", "empty start line"},
		{"status not 3 digits", "SIP/2.0 20 OK\r\n" + ok + "\r\n", `"SIP/2.0 20 OK"`},
		{"status 4 digits", "SIP/2.0 2000 OK\r\n" + ok + "\r\n", `"SIP/2.0 2000 OK"`},
		{"status out of range", "SIP/2.0 700 Weird\r\n" + ok + "\r\n", `"SIP/2.0 700 Weird"`},
		{"version", "SIP/3.0 200 OK\r\n" + ok + "\r\n", `"SIP/3.0 200 OK"`},
		{"request version", "OPTIONS sip:a@b HTTP/1.1\r\n" + ok + "\r\n", `"OPTIONS sip:a@b HTTP/1.1"`},
		{"request no uri", "OPTIONS SIP/2.0\r\n" + ok + "\r\n", `"OPTIONS SIP/2.0"`},
		{"request bad method", "OPT{IONS sip:a SIP/2.0\r\n" + ok + "\r\n", `"OPT{IONS sip:a SIP/2.0"`},
		{"http", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", `"GET / HTTP/1.1"`},
		{"no colon", "OPTIONS sip:a SIP/2.0\r\n" + ok + "Bogus line\r\n\r\n", `"Bogus line"`},
		{"no name", "OPTIONS sip:a SIP/2.0\r\n" + ok + ": x\r\n\r\n", "without a name"},
		{"fold after start line", "OPTIONS sip:a SIP/2.0\r\n folded: x\r\n" + ok + "\r\n", `" folded: x"`},
		{"no call-id", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "Call-ID: e\r\n", "", 1) + "\r\n", "no Call-ID"},
		{"empty call-id", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "Call-ID: e", "Call-ID:  ", 1) + "\r\n", "empty Call-ID"},
		{"no cseq", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "CSeq: 1 OPTIONS\r\n", "", 1) + "\r\n", "no CSeq"},
		{"no from", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "From: <sip:a@example.com>;tag=1\r\n", "", 1) + "\r\n", "no From"},
		{"no to", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "To: <sip:b@example.com>\r\n", "", 1) + "\r\n", "no To"},
		{"no via in request", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n", "", 1) + "\r\n", "no Via"},
		{"cseq no method", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "CSeq: 1 OPTIONS", "CSeq: 1", 1) + "\r\n", `"1"`},
		{"cseq no number", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "CSeq: 1 OPTIONS", "CSeq: OPTIONS", 1) + "\r\n", `"OPTIONS"`},
		{"cseq trailing junk", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "CSeq: 1 OPTIONS", "CSeq: 1 OPTIONS x", 1) + "\r\n", `"1 OPTIONS x"`},
		{"cseq overflow", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "CSeq: 1 OPTIONS", "CSeq: 4294967296 OPTIONS", 1) + "\r\n", `"4294967296 OPTIONS"`},
		{"via no transport", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "SIP/2.0/UDP h", "SIP/2.0 h", 1) + "\r\n", `"SIP/2.0 h;branch=z9hG4bK1"`},
		{"via bad port", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "UDP h;", "UDP h:99999;", 1) + "\r\n", `"SIP/2.0/UDP h:99999;branch=z9hG4bK1"`},
		{"via no host", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "UDP h;", "UDP ;", 1) + "\r\n", "no host"},
		{"via ipv6 unterminated", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "UDP h;", "UDP [::1;", 1) + "\r\n", "IPv6"},
		{"from unterminated quote", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "From: <sip:a@example.com>", `From: "Al sip:a@example.com`, 1) + "\r\n", "unterminated"},
		{"to empty", "OPTIONS sip:a SIP/2.0\r\n" + strings.Replace(ok, "To: <sip:b@example.com>", "To: ", 1) + "\r\n", "empty value"},
		{"two call-ids", "OPTIONS sip:a SIP/2.0\r\n" + ok + "Call-ID: f\r\n\r\n", "contradicts"},
		{"two froms", "OPTIONS sip:a SIP/2.0\r\n" + ok + "f: <sip:z@example.com>;tag=9\r\n\r\n", "contradicts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			var m Message
			err := ParseSIP(in, &m)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.quote) {
				t.Errorf("err = %q, want it to mention %s", err, tt.quote)
			}
			checkViews(t, in, &m)
		})
	}
	// A repeated singleton with the same value is fine.
	m := mustParse(t, []byte("OPTIONS sip:a SIP/2.0\r\n"+ok+"Call-ID: e\r\nCSeq: 1 OPTIONS\r\nTo: <sip:b@example.com>\r\n\r\n"))
	eq(t, "CallID", m.CallID, "e")
	// A response may lack Via; Max-Forwards is never required.
	mustParse(t, []byte("SIP/2.0 200 OK\r\n"+strings.Replace(ok, "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n", "", 1)+"\r\n"))
}

// TestParseSIPLenient covers deviations a liberal receiver accepts.
func TestParseSIPLenient(t *testing.T) {
	const hdrs = "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: l\r\nCSeq: 1 OPTIONS\r\n\r\n"
	tests := []struct {
		name, start, method, uri string
		code                     int
		reason                   string
	}{
		{"lower-case version", "OPTIONS sip:b@example.com sip/2.0", "OPTIONS", "sip:b@example.com", 0, ""},
		{"tabs and spaces", "OPTIONS \t sip:b@example.com \t SIP/2.0 \t", "OPTIONS", "sip:b@example.com", 0, ""},
		{"extension method", "PUBLISH-X.1 sip:b@example.com SIP/2.0", "PUBLISH-X.1", "sip:b@example.com", 0, ""},
		{"no reason", "SIP/2.0 100", "", "", 100, ""},
		{"reason with spaces", "SIP/2.0 486 Busy  Here ", "", "", 486, "Busy  Here"},
		{"leading CRLF", "\r\n\r\nSIP/2.0 200 OK", "", "", 200, "OK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, []byte(tt.start+"\r\n"+hdrs))
			eq(t, "Method", m.Method, tt.method)
			eq(t, "RequestURI", m.RequestURI, tt.uri)
			if m.StatusCode != tt.code {
				t.Errorf("StatusCode = %d, want %d", m.StatusCode, tt.code)
			}
			eq(t, "Reason", m.Reason, tt.reason)
			if !bytes.HasPrefix(m.Raw, []byte(strings.TrimLeft(tt.start, "\r\n"))) {
				t.Errorf("Raw = %q", m.Raw)
			}
		})
	}
	// Max-Forwards out of range reads as absent (RFC 4475 §3.1.2.4).
	m := mustParse(t, []byte("OPTIONS sip:b SIP/2.0\r\nMax-Forwards: 256\r\n"+hdrs))
	if m.MaxForwards != -1 {
		t.Errorf("MaxForwards = %d, want -1", m.MaxForwards)
	}
	// Corrupt header names are unknown headers, kept as written.
	m = mustParse(t, []byte("OPTIONS sip:b SIP/2.0\r\nMax-For\tards: 70\r\nC%s\x00: x\r\nBad Name: y\r\n"+hdrs))
	if m.MaxForwards != -1 || len(headerValues(m, "Max-For\tards")) != 1 || len(headerValues(m, "C%s\x00")) != 1 || len(headerValues(m, "Bad Name")) != 1 {
		t.Errorf("corrupt names: MaxForwards %d, headers %q", m.MaxForwards, m.Headers)
	}
	// A missing closing quote or '>' is inferred.
	m = mustParse(t, []byte("OPTIONS sip:b SIP/2.0\r\nFrom: \\\"arik\\\" <sip:816666@example.net>;tag=6433\r\nTo: \"Bob <sip:bob@example.com;tag=7\r\n"+strings.Replace(hdrs, "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n", "", 1)))
	eq(t, "From.Display", m.From.Display, `\"arik\"`)
	eq(t, "From.URI", m.From.URI, "sip:816666@example.net")
	eq(t, "From.Tag", m.From.Tag, "6433")
	eq(t, "To.Display", m.To.Display, "Bob")
	eq(t, "To.URI", m.To.URI, "sip:bob@example.com")
	eq(t, "To.Tag", m.To.Tag, "7")
}

func TestParseSIPReuse(t *testing.T) {
	var m Message
	m.N, m.Transport, m.Encap = 7, TCP, "vxlan"
	if err := ParseSIP(benchInvite, &m); err != nil {
		t.Fatal(err)
	}
	if m.N != 7 || m.Transport != TCP || m.Encap != "vxlan" {
		t.Errorf("ParseSIP touched the capture metadata: %d %v %q", m.N, m.Transport, m.Encap)
	}
	// A second, smaller message leaves nothing of the first behind.
	small := []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>;tag=2\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n\r\n")
	if err := ParseSIP(small, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Via) != 1 || m.Contact.URI != nil || m.UserAgent != nil || m.MaxForwards != -1 || m.ContentLength != -1 || m.SDP != nil || len(m.Headers) != 5 {
		t.Errorf("stale fields after reuse: %+v", m)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := ParseSIP(benchInvite, &m); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ParseSIP allocates %v times per message in steady state, want 0", allocs)
	}
}

func TestClone(t *testing.T) {
	buf := bytes.Clone(benchInvite)
	var m Message
	if err := ParseSIP(buf, &m); err != nil {
		t.Fatal(err)
	}
	m.Diversion = append(m.Diversion, m.Headers[0].Value) // exercise the slice copies
	want := fieldStrings(&m)
	c := m.Clone()
	for i := range buf {
		buf[i] = 'X' // the packet buffer is reused
	}
	if got := fieldStrings(c); got != want {
		t.Errorf("clone differs:\n got %s\nwant %s", got, want)
	}
	checkViews(t, c.Raw, c)
	if c.HistoryInfo != nil {
		t.Errorf("HistoryInfo = %q, want nil", c.HistoryInfo)
	}
	if c.To.Tag != nil || c.Via[0].RPort == nil {
		t.Errorf("nil-ness not kept: To.Tag %q Via[0].RPort %v", c.To.Tag, c.Via[0].RPort)
	}
	// Appending to a view of the clone must not overwrite the clone's Raw.
	_ = append(c.CallID, "!!!!"...)
	if !bytes.Contains(c.Raw, []byte("a84b4c76e66710@pc33.example.org\r\n")) {
		t.Errorf("append through a view clobbered Raw")
	}
	if got := (&Message{}).Clone(); got.Raw != nil || got.Via != nil {
		t.Errorf("Clone of an empty message = %+v", got)
	}
}

func TestLooksLikeSIP(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"INVITE sip:bob@example.com SIP/2.0\r\n", true},
		{"INVITE sip:bob@example.com SIP/2.0\n", true},
		{"MESSAGE sip:bob@example.com SIP/2.0\r\nVia: x\r\n", true},
		{"!interesting-Method0123456789_*+`.%indeed'~ sip:x@example.com SIP/2.0\r\n", true},
		{"INVITE sip:bob@example.com SIP/2.0  \r\n", true},
		{"INVITE  sip:bob@example.com  SIP/2.0\r\n", true},
		{"\r\n\r\nOPTIONS sip:a SIP/2.0\r\n", true},
		{"SIP/2.0 200 OK\r\n", true},
		{"SIP/2.0 100 \r\n", true},
		{"SIP/2.0 100\r\n", true},
		{"SIP/2.0 699", true},
		{"sip/2.0 180 Ringing\r\n", true},
		{"SIP/2.0 099 x\r\n", false},
		{"SIP/2.0 700 x\r\n", false},
		{"SIP/2.0 4294967301 better not break the receiver\r\n", false},
		{"SIP/2.0 20 OK\r\n", false},
		{"SIP/2.0 2xx OK\r\n", false},
		{"SIP/1.0 200 OK\r\n", false},
		{"INVITE sip:bob@example.com SIP/2.0", false}, // line not complete
		{"INVITE sip:bob@example.com SIP/3.0\r\n", false},
		{"INVITE  SIP/2.0\r\n", false},
		{"INVITE sip:a\x00b SIP/2.0\r\n", false},
		{"INVITE sip:abcdefg\x7fhijklmn SIP/2.0\r\n", false}, // DEL, in the second word
		{"INVITE sip:abcdefghij\x0fklm SIP/2.0\r\n", false},  // a control below 0x10
		{"INVITE sip:bob@example.com\tSIP/2.0\r\n", true},    // HT before the version
		{"GET / HTTP/1.1\r\n", false},
		{"HTTP/1.1 200 OK\r\n", false},
		{"\x80\x00\x12\x34", false},
		{"", false},
		{"\r\n\r\n", false},
		{"INVITE", false},
		{strings.Repeat("A", 100) + " sip:a SIP/2.0\r\n", false},
	}
	for _, tt := range tests {
		if got := LooksLikeSIP([]byte(tt.in)); got != tt.want {
			t.Errorf("LooksLikeSIP(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFrameSIP(t *testing.T) {
	msg := string(benchInvite)
	hdrLen := strings.Index(msg, "\r\n\r\n") + 4
	noCL := "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nCall-ID: x\r\n\r\n"
	tests := []struct {
		name    string
		in      string
		n       int
		ok, err bool
	}{
		{"complete", msg, len(msg), true, false},
		{"two messages", msg + msg, len(msg), true, false},
		{"body missing a byte", msg[:len(msg)-1], 0, false, false},
		{"headers incomplete", msg[:hdrLen-1], 0, false, false},
		{"start line incomplete", "INVITE sip:bob@exam", 0, false, false},
		{"just a method", "OPTIONS", 0, false, false},
		{"empty", "", 0, false, false},
		{"keep-alives only", "\r\n\r\n", 0, false, false},
		{"keep-alives counted", "\r\n\r\n" + msg, 4 + len(msg), true, false},
		{"no Content-Length", noCL + "v=0\r\n", len(noCL), true, false},
		{"LF only", strings.ReplaceAll(noCL, "\r\n", "\n"), len(noCL) - 4, true, false},
		{"compact l", "SIP/2.0 200 OK\r\nl: 3\r\n\r\nabcdef", 27, true, false},
		{"folded header", "SIP/2.0 200 OK\r\nSubject: a\r\n b\r\nContent-Length:\r\n 2\r\n\r\nab", 57, true, false},
		{"same Content-Length twice", "SIP/2.0 200 OK\r\nl: 1\r\nContent-Length: 1\r\n\r\nab", 44, true, false},
		{"contradictory Content-Length", "SIP/2.0 200 OK\r\nl: 1\r\nContent-Length: 2\r\n\r\nab", 0, false, true},
		{"negative Content-Length", "SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\n", 0, false, true},
		{"Content-Length not a number", "SIP/2.0 200 OK\r\nContent-Length: five\r\n\r\n", 0, false, true},
		{"Content-Length too big", "SIP/2.0 200 OK\r\nContent-Length: 16777217\r\n\r\n", 0, false, true},
		{"header without colon", "SIP/2.0 200 OK\r\nbogus\r\n\r\n", 0, false, true},
		{"not SIP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, false, true},
		{"binary", "\x80\x08\x00\x01", 0, false, true},
		{"headers too long", "SIP/2.0 200 OK\r\nX: " + strings.Repeat("a", maxHeaderBytes) + "\r\n", 0, false, true},
		{"start line too long", "OPTIONS " + strings.Repeat("a", maxHeaderBytes), 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok, err := FrameSIP([]byte(tt.in))
			if n != tt.n || ok != tt.ok || (err != nil) != tt.err {
				t.Errorf("FrameSIP = %d, %v, %v; want %d, %v, err %v", n, ok, err, tt.n, tt.ok, tt.err)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("err %v does not wrap ErrMalformed", err)
			}
		})
	}
}

// TestTorture runs the RFC 4475 messages in testdata/torture. Valid
// messages (§3.1.1) must parse with the right fields. For the others the
// table says what we do: errors in what a call flow hangs on (start line,
// Call-ID, CSeq, Via, From, To) are refused with ErrMalformed, a body
// shorter than Content-Length reports ErrShortBody, and deviations the RFC
// lets a liberal receiver ignore, or that are only semantic (§3.2-§3.4: an
// application answers them, a parser does not), are accepted so the call
// flow can still show them.
func TestTorture(t *testing.T) {
	tests := []struct {
		file    string
		section string
		wantErr error // nil: accepted
		check   func(t *testing.T, m *Message)
	}{
		// §3.1.1 Valid messages.
		{"wsinv", "3.1.1.1", nil, func(t *testing.T, m *Message) {
			eq(t, "Method", m.Method, "INVITE")
			eq(t, "RequestURI", m.RequestURI, "sip:vivekg@chair-dnrc.example.com;unknownparam")
			eq(t, "CallID", m.CallID, "wsinv.ndaksdj@192.0.2.1")
			eq(t, "CSeqMethod", m.CSeqMethod, "INVITE")
			if m.CSeq != 9 || m.MaxForwards != 68 || m.ContentLength != 150 {
				t.Errorf("CSeq %d MaxForwards %d ContentLength %d", m.CSeq, m.MaxForwards, m.ContentLength)
			}
			eq(t, "To.URI", m.To.URI, "sip:vivekg@chair-dnrc.example.com")
			eq(t, "To.Tag", m.To.Tag, "1918181833n")
			eq(t, "From.Display", m.From.Display, `J Rosenberg \\\"`)
			eq(t, "From.URI", m.From.URI, "sip:jdrosen@example.com")
			eq(t, "From.Tag", m.From.Tag, "98asjd8")
			if len(m.Via) != 3 {
				t.Fatalf("%d Via, want 3", len(m.Via))
			}
			for i, w := range []struct{ tr, host, branch string }{
				{"UDP", "192.0.2.2", "390skdjuw"},
				{"TCP", "spindle.example.com", "z9hG4bK9ikj8"},
				{"UDP", "192.168.255.111", "z9hG4bK30239"},
			} {
				eq(t, "Via.Transport", m.Via[i].Transport, w.tr)
				eq(t, "Via.Host", m.Via[i].Host, w.host)
				eq(t, "Via.Branch", m.Via[i].Branch, w.branch)
			}
			eq(t, "Contact.Display", m.Contact.Display, `Quoted string \"\"`)
			eq(t, "Contact.URI", m.Contact.URI, "sip:jdrosen@example.com")
			if got := headerValues(m, "subject"); len(got) != 1 || got[0] != "" {
				t.Errorf("subject = %q, want one empty value", got)
			}
			if got := headerValues(m, "NewFangledHeader"); len(got) != 1 || got[0] != "newfangled value\r\n continued newfangled value" {
				t.Errorf("NewFangledHeader = %q", got)
			}
			if got := headerValues(m, "UnknownHeaderWithUnusualValue"); len(got) != 1 || got[0] != ";;,,;;,;" {
				t.Errorf("UnknownHeaderWithUnusualValue = %q", got)
			}
			if len(m.SDP) != 150 {
				t.Errorf("len(SDP) = %d", len(m.SDP))
			}
		}},
		{"intmeth", "3.1.1.2", nil, func(t *testing.T, m *Message) {
			eq(t, "Method", m.Method, "!interesting-Method0123456789_*+`.%indeed'~")
			eq(t, "RequestURI", m.RequestURI, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com")
			eq(t, "CSeqMethod", m.CSeqMethod, "!interesting-Method0123456789_*+`.%indeed'~")
			eq(t, "CallID", m.CallID, `intmeth.word%ZK-!.*_+'@word`+"`"+`~)(><:\/"][?}{`)
			eq(t, "Via.Branch", m.Via[0].Branch, "z9hG4bK-.!%66*_+`'~")
			eq(t, "To.Display", m.To.Display, "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f")
			eq(t, "From.Display", m.From.Display, "token1~` token2'+_ token3*%!.-")
			eq(t, "From.Tag", m.From.Tag, "_token~1'+`*%!-.")
			if m.CSeq != 139122385 || m.MaxForwards != 255 {
				t.Errorf("CSeq %d MaxForwards %d", m.CSeq, m.MaxForwards)
			}
			if got := headerValues(m, "extensionHeader-!.%*+_`'~"); len(got) != 1 || got[0] != "\ufeff大停電" {
				t.Errorf("extension header = %q", got)
			}
		}},
		{"esc01", "3.1.1.3", nil, func(t *testing.T, m *Message) {
			eq(t, "RequestURI", m.RequestURI, "sip:sips%3Auser%40example.com@example.net")
			eq(t, "CallID", m.CallID, "esc01.239409asdfakjkn23onasd0-3234")
			eq(t, "To.URI", m.To.URI, "sip:%75se%72@example.com")
			eq(t, "From.URI", m.From.URI, "sip:I%20have%20spaces@example.net")
			eq(t, "ContentType", m.ContentType, "application/sdp")
			eq(t, "Contact.URI", m.Contact.URI, "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31")
			if m.CSeq != 234234 || len(m.SDP) != 150 {
				t.Errorf("CSeq %d len(SDP) %d", m.CSeq, len(m.SDP))
			}
		}},
		{"escnull", "3.1.1.4", nil, func(t *testing.T, m *Message) {
			eq(t, "Method", m.Method, "REGISTER")
			eq(t, "To.URI", m.To.URI, "sip:null-%00-null@example.com")
			eq(t, "Contact.URI", m.Contact.URI, "sip:%00@host5.example.com")
			if got := headerValues(m, "contact"); len(got) != 2 {
				t.Errorf("contact = %q", got)
			}
			if m.ContentLength != 0 {
				t.Errorf("ContentLength = %d", m.ContentLength)
			}
		}},
		{"esc02", "3.1.1.5", nil, func(t *testing.T, m *Message) {
			eq(t, "Method", m.Method, "RE%47IST%45R")
			eq(t, "CSeqMethod", m.CSeqMethod, "RE%47IST%45R")
			eq(t, "To.Display", m.To.Display, "%Z%45")
			eq(t, "Via.Branch", m.Via[0].Branch, "z9hG4bK209%fzsnel234")
			eq(t, "Contact.URI", m.Contact.URI, "sip:alias1@host1.example.com")
			if got := headerValues(m, "contact"); len(got) != 2 {
				t.Errorf("contact = %q, want 2 (C%%6Fntact is another header)", got)
			}
			if got := headerValues(m, "C%6Fntact"); len(got) != 1 {
				t.Errorf("C%%6Fntact = %q", got)
			}
		}},
		{"lwsdisp", "3.1.1.6", nil, func(t *testing.T, m *Message) {
			eq(t, "From.Display", m.From.Display, "caller")
			eq(t, "From.URI", m.From.URI, "sip:caller@example.com")
			eq(t, "From.Tag", m.From.Tag, "323")
		}},
		{"longreq", "3.1.1.7", nil, func(t *testing.T, m *Message) {
			if len(m.Via) != 34 {
				t.Fatalf("%d Via, want 34", len(m.Via))
			}
			eq(t, "Via[0].Host", m.Via[0].Host, "sip33.example.com")
			eq(t, "Via[32].Host", m.Via[32].Host, "sip1.example.com")
			eq(t, "Via[33].Received", m.Via[33].Received, "192.0.2.5")
			if len(m.Via[33].Branch) != 4+4*50+11 {
				t.Errorf("len(Via[33].Branch) = %d", len(m.Via[33].Branch))
			}
			eq(t, "To.Display", m.To.Display, "I have a user name of "+strings.Repeat("extreme", 10)+" proportion")
			if !bytes.HasPrefix(m.To.URI, []byte("sip:user@example.com:6000;unknownparam1=")) {
				t.Errorf("To.URI = %q", m.To.URI)
			}
			eq(t, "From.Tag", m.From.Tag, "12"+strings.Repeat("982", 50)+"424")
			eq(t, "CallID", m.CallID, "longreq.one"+strings.Repeat("really", 20)+"longcallid")
			if m.ContentLength != 150 || len(m.SDP) != 150 || m.MaxForwards != 70 {
				t.Errorf("ContentLength %d len(SDP) %d MaxForwards %d", m.ContentLength, len(m.SDP), m.MaxForwards)
			}
		}},
		{"dblreq", "3.1.1.8", nil, func(t *testing.T, m *Message) {
			eq(t, "Method", m.Method, "REGISTER")
			eq(t, "CallID", m.CallID, "dblreq.0ha0isndaksdj99sdfafnl3lk233412")
			eq(t, "Contact.URI", m.Contact.URI, "sip:j.user@host.example.com")
			if m.Body != nil || bytes.Contains(m.Raw, []byte("INVITE")) {
				t.Errorf("the trailing INVITE was taken: Body %q", m.Body)
			}
		}},
		{"semiuri", "3.1.1.9", nil, func(t *testing.T, m *Message) {
			eq(t, "RequestURI", m.RequestURI, "sip:user;par=u%40example.net@example.com")
			if got := headerValues(m, "accept"); len(got) != 6 || got[5] != "message/sipfrag" {
				t.Errorf("accept = %q", got)
			}
		}},
		{"transports", "3.1.1.10", nil, func(t *testing.T, m *Message) {
			eq(t, "CallID", m.CallID, "transports.kijh4akdnaqjkwendsasfdj")
			var trs []string
			for _, v := range m.Via {
				trs = append(trs, string(v.Transport))
			}
			if strings.Join(trs, " ") != "UDP SCTP TLS UNKNOWN TCP" {
				t.Errorf("transports = %q", trs)
			}
		}},
		{"mpart01", "3.1.1.11", nil, func(t *testing.T, m *Message) {
			eq(t, "Method", m.Method, "MESSAGE")
			eq(t, "ContentType", m.ContentType, "multipart/mixed;boundary=7a9cbec02ceef655")
			if len(m.Body) != 553 || m.SDP != nil {
				t.Errorf("len(Body) %d SDP %q", len(m.Body), m.SDP)
			}
			if !m.Via[0].HasRPort || m.Via[0].Port != 5070 {
				t.Errorf("Via = %+v", m.Via[0])
			}
			eq(t, "UserAgent", m.UserAgent, "SIPimp.org/0.2.5 (curses)")
		}},
		{"unreason", "3.1.1.12", nil, func(t *testing.T, m *Message) {
			if m.StatusCode != 200 {
				t.Errorf("StatusCode = %d", m.StatusCode)
			}
			eq(t, "Reason", m.Reason, "= 2**3 * 5**2 но сто девяносто девять - простое")
			eq(t, "CSeqMethod", m.CSeqMethod, "INVITE")
			if len(m.SDP) != 154 {
				t.Errorf("len(SDP) = %d", len(m.SDP))
			}
		}},
		{"noreason", "3.1.1.13", nil, func(t *testing.T, m *Message) {
			if m.StatusCode != 100 || m.Reason == nil || len(m.Reason) != 0 {
				t.Errorf("StatusCode %d Reason %q", m.StatusCode, m.Reason)
			}
		}},

		// §3.1.2 Invalid messages.
		{"badinv01", "3.1.2.1", ErrMalformed, nil}, // empty Via values after ";;,": no Via to route by
		{"clerr", "3.1.2.2", ErrShortBody, func(t *testing.T, m *Message) { // fields filled, body as present
			eq(t, "CallID", m.CallID, "clerr.0ha0isndaksdjweiafasdk3")
			if m.ContentLength != 9999 || len(m.Body) != 154 || len(m.SDP) != 154 {
				t.Errorf("ContentLength %d len(Body) %d", m.ContentLength, len(m.Body))
			}
		}},
		{"ncl", "3.1.2.3", nil, func(t *testing.T, m *Message) { // liberal: negative Content-Length as if absent
			if m.ContentLength != -1 || len(m.Body) != 152 || len(m.SDP) != 152 {
				t.Errorf("ContentLength %d len(Body) %d", m.ContentLength, len(m.Body))
			}
		}},
		{"scalar02", "3.1.2.4", ErrMalformed, nil}, // CSeq > 2**32-1
		{"scalarlg", "3.1.2.5", ErrMalformed, nil}, // CSeq > 2**32-1
		{"quotbal", "3.1.2.6", nil, func(t *testing.T, m *Message) { // liberal: the missing quote is inferred
			eq(t, "To.Display", m.To.Display, "Mr. J. User")
			eq(t, "To.URI", m.To.URI, "sip:j.user@example.com")
		}},
		{"ltgtruri", "3.1.2.7", nil, func(t *testing.T, m *Message) { // liberal: brackets ignored
			eq(t, "RequestURI", m.RequestURI, "sip:user@example.com")
			if m.Via[0].Branch != nil {
				t.Errorf("Branch = %q", m.Via[0].Branch)
			}
		}},
		{"lwsruri", "3.1.2.8", nil, func(t *testing.T, m *Message) { // liberal: URI kept as written, LWS and all
			eq(t, "RequestURI", m.RequestURI, "sip:user@example.com; lr")
		}},
		{"lwsstart", "3.1.2.9", nil, func(t *testing.T, m *Message) { // liberal: extra SP ignored
			eq(t, "RequestURI", m.RequestURI, "sip:user@example.com")
		}},
		{"trws", "3.1.2.10", nil, func(t *testing.T, m *Message) { // liberal: trailing SP ignored
			eq(t, "RequestURI", m.RequestURI, "sip:remote-target@example.com")
		}},
		{"escruri", "3.1.2.11", nil, func(t *testing.T, m *Message) { // URI headers are not our business
			eq(t, "RequestURI", m.RequestURI, "sip:user@example.com?Route=%3Csip:example.com%3E")
		}},
		{"baddate", "3.1.2.12", nil, nil}, // Date is not parsed
		{"regbadct", "3.1.2.13", nil, func(t *testing.T, m *Message) { // liberal: addr-spec with '?'
			eq(t, "Contact.URI", m.Contact.URI, "sip:user@example.com?Route=%3Csip:sip.example.com%3E")
		}},
		{"badaspec", "3.1.2.14", nil, func(t *testing.T, m *Message) { // liberal: spaces inside <> ignored
			eq(t, "To.URI", m.To.URI, "sip:t.watson@example.org")
			eq(t, "To.Display", m.To.Display, "Watson, Thomas")
		}},
		{"baddn", "3.1.2.15", nil, func(t *testing.T, m *Message) { // liberal: unquoted display name kept
			eq(t, "From.Display", m.From.Display, "Bell, Alexander")
			eq(t, "From.Tag", m.From.Tag, "43")
			eq(t, "To.Display", m.To.Display, "Watson, Thomas")
		}},
		{"badvers", "3.1.2.16", ErrMalformed, nil}, // SIP/7.0 is not SIP/2.0
		{"mismatch01", "3.1.2.17", nil, func(t *testing.T, m *Message) { // semantic: left to the caller
			eq(t, "Method", m.Method, "OPTIONS")
			eq(t, "CSeqMethod", m.CSeqMethod, "INVITE")
		}},
		{"mismatch02", "3.1.2.18", nil, func(t *testing.T, m *Message) { // semantic: left to the caller
			eq(t, "Method", m.Method, "NEWMETHOD")
			if len(m.SDP) != 138 {
				t.Errorf("len(SDP) = %d", len(m.SDP))
			}
		}},
		{"bigcode", "3.1.2.19", ErrMalformed, nil}, // status code not 3 digits

		// §3.2 Transaction layer semantics.
		{"badbranch", "3.2.1", nil, func(t *testing.T, m *Message) {
			eq(t, "Via.Branch", m.Via[0].Branch, "z9hG4bK")
		}},

		// §3.3 Application layer semantics: syntactically fine except insuf,
		// multi01 and mcl01, which break the fields a call flow hangs on.
		{"insuf", "3.3.1", ErrMalformed, nil}, // no To, From, Call-ID
		{"unkscm", "3.3.2", nil, func(t *testing.T, m *Message) {
			eq(t, "RequestURI", m.RequestURI, "nobodyKnowsThisScheme:totallyopaquecontent")
		}},
		{"novelsc", "3.3.3", nil, func(t *testing.T, m *Message) {
			eq(t, "RequestURI", m.RequestURI, "soap.beep://192.0.2.103:3002")
		}},
		{"unksm2", "3.3.4", nil, func(t *testing.T, m *Message) {
			eq(t, "To.URI", m.To.URI, "isbn:2983792873")
			eq(t, "From.URI", m.From.URI, "http://www.example.com")
			eq(t, "Contact.URI", m.Contact.URI, "name:John_Smith")
		}},
		{"bext01", "3.3.5", nil, func(t *testing.T, m *Message) {
			if got := headerValues(m, "require"); len(got) != 2 {
				t.Errorf("require = %q", got)
			}
		}},
		{"invut", "3.3.6", nil, func(t *testing.T, m *Message) {
			if len(m.Body) != 40 || m.SDP != nil {
				t.Errorf("len(Body) %d SDP %q", len(m.Body), m.SDP)
			}
		}},
		{"regaut01", "3.3.7", nil, func(t *testing.T, m *Message) {
			eq(t, "Authorization", m.Authorization, "NoOneKnowsThisScheme opaque-data=here")
		}},
		{"multi01", "3.3.8", ErrMalformed, nil}, // two different CSeq, Call-ID, To, From
		{"mcl01", "3.3.9", nil, func(t *testing.T, m *Message) { // two different Content-Length: as if absent
			if m.ContentLength != -1 || string(m.Body) != "There's no way to know how many octets are supposed to be here.\r\n" {
				t.Errorf("ContentLength %d Body %q", m.ContentLength, m.Body)
			}
		}},
		{"bcast", "3.3.10", nil, func(t *testing.T, m *Message) {
			eq(t, "Via[1].Host", m.Via[1].Host, "255.255.255.255")
		}},
		{"zeromf", "3.3.11", nil, func(t *testing.T, m *Message) {
			if m.MaxForwards != 0 {
				t.Errorf("MaxForwards = %d", m.MaxForwards)
			}
		}},
		{"cparam01", "3.3.12", nil, func(t *testing.T, m *Message) { // addr-spec: ;unknownparam is a header param
			eq(t, "Contact.URI", m.Contact.URI, "sip:+19725552222@gw1.example.net")
		}},
		{"cparam02", "3.3.13", nil, func(t *testing.T, m *Message) {
			eq(t, "Contact.URI", m.Contact.URI, "sip:+19725552222@gw1.example.net;unknownparam")
		}},
		{"regescrt", "3.3.14", nil, func(t *testing.T, m *Message) {
			eq(t, "Contact.URI", m.Contact.URI, "sip:user@example.com?Route=%3Csip:sip.example.com%3E")
		}},
		{"sdp01", "3.3.15", nil, func(t *testing.T, m *Message) {
			if len(m.SDP) != 150 {
				t.Errorf("len(SDP) = %d", len(m.SDP))
			}
		}},

		// §3.4 Backward compatibility.
		{"inv2543", "3.4.1", nil, func(t *testing.T, m *Message) { // no Max-Forwards, no Content-Length
			if m.MaxForwards != -1 || m.ContentLength != -1 || m.Via[0].Branch != nil || m.To.Tag != nil {
				t.Errorf("MaxForwards %d ContentLength %d Branch %q", m.MaxForwards, m.ContentLength, m.Via[0].Branch)
			}
			if !bytes.HasPrefix(m.SDP, []byte("v=0\r\n")) || !bytes.HasSuffix(m.SDP, []byte("RTP/AVP 0\r\n")) {
				t.Errorf("SDP = %q", m.SDP)
			}
		}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file+".sip"] = true
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "torture", tt.file+".sip"))
			if err != nil {
				t.Fatal(err)
			}
			var m Message
			err = ParseSIP(b, &m)
			checkViews(t, b, &m)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("RFC 4475 §%s: err = %v, want %v", tt.section, err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, &m)
			}
			if !LooksLikeSIP(b) && tt.wantErr == nil {
				t.Errorf("LooksLikeSIP = false for an accepted message")
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "torture", "*.sip"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no entry in the torture table", f)
		}
	}
}

func TestLookupHeader(t *testing.T) {
	for _, k := range hdrKeys {
		if got := lookupHeader([]byte(strings.ToUpper(k.name))); got != k.id {
			t.Errorf("lookupHeader(%q) = %d, want %d", strings.ToUpper(k.name), got, k.id)
		}
		if hdrNames[k.id] == nil {
			t.Errorf("%q has no canonical name", k.name)
		}
		// As a view into a message (bytes after the name, which a short
		// name is loaded with and masked off) and with nothing after it.
		n := len(k.name)
		line := []byte(strings.ToUpper(k.name) + "zz: value")
		if got := lookupName(line[:n]); got != k.id {
			t.Errorf("lookupName(%q in %q) = %d, want %d", line[:n], line, got, k.id)
		}
		if got := lookupName(line[:n:n]); got != k.id {
			t.Errorf("lookupName(%q, cap %d) = %d, want %d", line[:n], n, got, k.id)
		}
		if got := lookupName(line[:n+1]); got != hdrUnknown {
			t.Errorf("lookupName(%q) = %d, want unknown", line[:n+1], got)
		}
	}
	for id := hdrInvalid + 1; id < hdrCount; id++ {
		if got := lookupHeader(hdrNames[id]); got != id {
			t.Errorf("canonical name %q looks up as %d, want %d", hdrNames[id], got, id)
		}
	}
	for name, want := range map[string]hdrID{
		"X-Custom": hdrUnknown, "vias": hdrUnknown, "": hdrInvalid, "Bad Name": hdrUnknown,
		"Call\rID": hdrUnknown, "Vi\x1d": hdrUnknown, strings.Repeat("x", 40): hdrUnknown,
	} {
		if got := lookupHeader([]byte(name)); got != want {
			t.Errorf("lookupHeader(%q) = %d, want %d", name, got, want)
		}
	}
}

// readHeaderCases are header lines, each followed by more of a message,
// with whether readHeaderFast should read them.
var readHeaderCases = []struct {
	in   string
	fast bool
}{
	{"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:b>\r\n", true},
	{"v:SIP/2.0/UDP h\r\n\r\nbody follows here", true},
	{"CONTENT-LENGTH:   131\r\n\r\nv=0\r\n", true},
	{"Session-Expires: 1800\r\nContent-Length: 0\r\n", true}, // 15 bytes
	{"WWW-Authenticate: Digest realm=\"r\"\r\n\r\n", true},   // 16 bytes
	{"Call-ID: \r\n\r\n0123456789abcdef", true},              // empty value
	{"Call-ID:  spaced  \r\n\r\n0123456789abcdef", true},     // trimmed
	{"Call-ID:x\nTo: <sip:b>\n\n", true},                     // LF only
	{"Proxy-Authorization: Digest x\r\n\r\n", false},         // longer than 16
	{"X-Custom-Header: 1\r\n\r\n0123456789", false},          // not a known name
	{"Via : SIP/2.0/UDP h\r\n\r\n0123456789", false},         // SP before the colon
	{"Subject: a\r\n folded\r\n\r\n0123456789", false},       // continuation line
	{"Call-ID: no line end at all, long enough", false},
	{"To: x\r\n", false}, // under 16 bytes left
	{"Foo\nTo: <sip:b@example.com>\r\n", false},
	{"WWW-Authenticatex: Digest realm=\"r\"\r\n\r\n", false}, // a known name's 16 bytes, then more
	{"Session-Exxxxxs: 1\r\nContent-Length: 0\r\n", false},   // first word, length and last byte of Session-Expires
	{"Max-Forwardz: 70\r\nContent-Length: 0\r\n", false},     // second word differs
}

// TestReadHeaderFast checks that readHeaderFast reads the common lines (else
// it costs time for nothing) and agrees with readHeader on what it reads.
func TestReadHeaderFast(t *testing.T) {
	for _, tt := range readHeaderCases {
		b := []byte(tt.in)
		id, value, next := readHeaderFastGuessing(t, b)
		ok := id != hdrUnknown
		if ok != tt.fast {
			t.Errorf("readHeaderFast(%q) ok = %v, want %v", tt.in, ok, tt.fast)
		}
		if !ok {
			continue
		}
		wid, wname, wvalue, wnext, err := readHeader(b, 0)
		if err != nil {
			t.Errorf("readHeader(%q): %v", tt.in, err)
			continue
		}
		if got, want := headerResult(b, id, fastName(b), value, next), headerResult(b, wid, wname, wvalue, wnext); got != want {
			t.Errorf("%q:\nreadHeaderFast %s\nreadHeader     %s", tt.in, got, want)
		}
	}
	// Every known name up to 16 bytes, in three cases, is read fast.
	for _, k := range hdrKeys {
		if len(k.name) > 16 {
			continue
		}
		mixed := []byte(k.name)
		for i := 0; i < len(mixed); i += 2 {
			mixed[i] = bytes.ToUpper(mixed[i : i+1])[0]
		}
		for _, name := range []string{k.name, strings.ToUpper(k.name), string(mixed), usualSpelling(k.name)} {
			b := []byte(name + ": v\r\nContent-Length: 0\r\n\r\n")
			if id, _, _ := readHeaderFastGuessing(t, b); id != k.id {
				t.Errorf("readHeaderFast(%q) = %v, want %v", b, id, k.id)
			}
		}
		// Read as usually spelt, the name becomes the guess, and the
		// guess is then taken (no search for the colon: see below).
		usual := usualSpelling(k.name)
		if len(k.name) == 1 {
			usual = k.name
		}
		if len(usual) >= 16 {
			continue
		}
		b := []byte(usual + ": v\r\nContent-Length: 0\r\n\r\n")
		none := emptyGuess(t)
		g := [2]uint8{none, none + 1}
		readHeaderFast(b, 0, new(lineIndex), &g)
		if e := hdrGuess[g[0]]; e.id != k.id || e.n != len(usual) || g[1] != none {
			t.Errorf("readHeaderFast(%q) learnt guesses %d (%v, %d bytes) and %d, want %v and %d", b, g[0], e.id, e.n, g[1], k.id, none)
		}
		// A second guess that is right becomes the first.
		learnt := g[0]
		g = [2]uint8{none, learnt}
		readHeaderFast(b, 0, new(lineIndex), &g)
		if g != [2]uint8{learnt, none} {
			t.Errorf("readHeaderFast(%q) guessing %d second left the guesses %v, want %v", b, learnt, g, [2]uint8{learnt, none})
		}
	}
	// A right guess is taken as it is: a line whose colon is not where
	// the name ends (so no colon search would read it as this header)
	// is not read with it, and a line that is the name is.
	for i, e := range hdrGuess {
		if e.n == 0 {
			continue
		}
		name := make([]byte, 16)
		binary.LittleEndian.PutUint64(name, e.c0)
		if e.n >= 8 {
			binary.LittleEndian.PutUint64(name[e.n-7:], e.c1)
		}
		line := string(name[:e.n+1]) + " v\r\nContent-Length: 0\r\n\r\n"
		b := []byte(line)
		if !hdrGuess[i].matches(b, 0, le64(b)) {
			t.Errorf("guess %v does not match its own name %q", e.id, line)
		}
		for _, g := range [][2]uint8{{uint8(i), emptyGuess(t)}, {emptyGuess(t), uint8(i)}} {
			if id, _, _ := readHeaderFast(b, 0, new(lineIndex), &g); id != e.id {
				t.Errorf("readHeaderFast(%q) guessing its own name = %v, want %v", line, id, e.id)
			}
		}
		for _, bad := range []string{
			string(name[:e.n]) + "x: v\r\nContent-Length: 0\r\n\r\n",        // one byte more before the colon
			"x" + string(name[1:e.n+1]) + " v\r\nContent-Length: 0\r\n\r\n", // first byte differs
			string(name[:e.n-1]) + "x: v\r\nContent-Length: 0\r\n\r\n",      // last byte differs
		} {
			if string(fastName([]byte(bad))) == string(name[:e.n]) {
				continue // a one-byte name: the variant is the name itself
			}
			if hdrGuess[i].matches([]byte(bad), 0, le64([]byte(bad))) {
				t.Errorf("guess %v matches %q", e.id, bad)
			}
		}
	}
}

// emptyGuess is a guess (a hdrUsual slot) that matches no line: an empty
// slot.
func emptyGuess(t testing.TB) uint8 {
	for i, e := range hdrGuess {
		if e.n == 0 {
			return uint8(i)
		}
	}
	t.Fatal("hdrUsual has no empty slot")
	return 0
}

// readHeaderFastGuessing is readHeaderFast(b, 0, ...), checked to give the
// same whatever the guesses it is given: two that match nothing, every
// hdrUsual slot as the first guess and as the second, and the guesses it
// learns from the first.
func readHeaderFastGuessing(t testing.TB, b []byte) (hdrID, []byte, int) {
	t.Helper()
	none := emptyGuess(t)
	learnt := [2]uint8{none, none}
	id, value, next := readHeaderFast(b, 0, new(lineIndex), &learnt)
	want := headerResult(b, id, b[:0], value, next)
	for i := 0; i <= 2*256; i++ {
		g := learnt // i == 512
		switch {
		case i < 256:
			g = [2]uint8{uint8(i), none}
		case i < 512:
			g = [2]uint8{none, uint8(i)}
		}
		before := g
		id, value, next := readHeaderFast(b, 0, new(lineIndex), &g)
		if got := headerResult(b, id, b[:0], value, next); got != want {
			t.Fatalf("%q: readHeaderFast guessing slots %v (%v, %v) %s, guessing none %s", b, before, hdrGuess[before[0]].id, hdrGuess[before[1]].id, got, want)
		}
	}
	return id, value, next
}

// viaFastCases are Via values with whether viaFast should read them (the
// forms stacks write) or leave them to viaGeneral.
var viaFastCases = []struct {
	in   string
	fast bool
}{
	{"SIP/2.0/UDP 127.0.2.10:5090;branch=z9hG4bK-6698-1-0", true},
	{"SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-524287-1---2f7b3a1c9d;rport", true},
	{"SIP/2.0/UDP 198.51.100.7:5060;received=198.51.100.7;rport=5060;branch=z9hG4bK776asdhds", true},
	{"sip/2.0/tcp Host.Example.COM;BRANCH=z9hG4bKx;Rport", true},
	{"SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKx;rport;received=1.2.3.4;branch=second", true},
	{"SIP/2.0/UDP h:65535", true},
	{"SIP/2.0/UDP h;branch=", true},
	{"SIP/2.0/UDP h;branch=\"q\"", false},              // quoted value
	{"SIP/2.0/UDP h:65536;branch=x", false},            // port out of range: an error
	{"SIP/2.0/UDP h:050600", false},                    // six digits
	{"SIP/2.0/UDP h:;branch=x", false},                 // no port after the colon
	{"SIP / 2.0 / UDP h", false},                       // LWS in the protocol
	{"SIP/2.0/UDP  h", false},                          // two spaces
	{"SIP/2.0/UDP h ;branch=x", false},                 // space before a parameter
	{"SIP/2.0/UDP h; branch=x", false},                 // space after the semicolon
	{"SIP/2.0/UDP h;branch = x", false},                // space around '='
	{"SIP/2.0/UDP h;;branch=x", false},                 // junk ends the parameters
	{"SIP/2.0/UDP h;branch=x (comment)", false},        // trailing text
	{"SIP/2.0/UDP [2001:db8::1]:5060;branch=x", false}, // IPv6 reference
	{"SIP/2.0/UDP 2001:db8::5;branch=x", false},        // bare IPv6
	{"SIP/2.0/UDP h_1;branch=x", false},                // not a host name character
	{"SIP/2.0/UDP h:5060,SIP/2.0/UDP g", false},        // a list not split
	{"SIP/2.0/UDP", false},
	{"SIP/2.0/", false},
	{"SIP/2.1/UDP h", false},
	{"SIP/2.0/UDP h;received=1.1.1.1;received=2.2.2.2;rport=1;rport=2;branch=a;branch=b", true}, // the first of each wins
	{"SIP/2.0/UDP h;rport;rport=7", true},
	{"SIP/2.0/UDP 10.0.0.1;branch=a;BRANCH=b;branch=c", true},       // the first branch wins, either way written
	{"SIP/2.0/UDP 10.0.0.1;branch=\"a\"", false},                    // quoted, on the ";branch=" shortcut
	{"SIP/2.0/UDP 10.0.0.1;branch=", true},                          // empty, at the end
	{"SIP/2.0/UDP 192.168.100.200.example.com:5060;branch=x", true}, // digits and dots, then letters
	{"SIP/2.0/UDP 1.2.3.4/5;branch=x", false},                       // a slash after the digits
	{"SIP/2.0/SCTP 10.0.0.1;branch=x", true},                        // a four-letter transport
}

// TestViaFast checks that viaFast reads the common forms (else it costs
// time for nothing) and that whatever it reads, viaGeneral reads the same,
// whatever the guess it is given (viaFastGuessing).
func TestViaFast(t *testing.T) {
	learnt := viaGuesses(viaFastCases)
	for _, tt := range viaFastCases {
		in := []byte(tt.in)
		var fast, general Via
		ok := viaFastGuessing(t, in, &fast, learnt)
		if ok != tt.fast {
			t.Errorf("viaFast(%q) = %v, want %v", tt.in, ok, tt.fast)
		}
		if !ok {
			continue
		}
		if err := viaGeneral(in, &general); err != nil {
			t.Errorf("viaGeneral(%q): %v", tt.in, err)
			continue
		}
		if got, want := viaString(in, &fast), viaString(in, &general); got != want {
			t.Errorf("%q:\nviaFast    %s\nviaGeneral %s", tt.in, got, want)
		}
	}
}

// viaGuesses returns the guesses viaFast learns from each of cases, and
// one it learnt nothing from.
func viaGuesses(cases []struct {
	in   string
	fast bool
}) []viaGuess {
	gs := []viaGuess{{}}
	for _, c := range cases {
		var g viaGuess
		var via Via
		viaFast([]byte(c.in), &via, &g)
		if g.n > 0 {
			gs = append(gs, g)
		}
	}
	return gs
}

// viaFastGuessing is viaFast(in, via, nil), checked to read the same with
// each of guesses and with the guess it learns from in itself.
func viaFastGuessing(t testing.TB, in []byte, via *Via, guesses []viaGuess) bool {
	t.Helper()
	ok := viaFast(in, via, nil)
	want := fmt.Sprint(ok, " ", viaString(in, via))
	var self viaGuess
	var v Via
	viaFast(in, &v, &self)
	for i, g := range append(guesses[:len(guesses):len(guesses)], self) {
		before := g
		var v Via
		ok := viaFast(in, &v, &g)
		if got := fmt.Sprint(ok, " ", viaString(in, &v)); got != want {
			t.Fatalf("%q: viaFast guessing %q (%d) %s, guessing nothing %s", in, before.b[:before.n], i, got, want)
		}
	}
	return ok
}

func TestParseVia(t *testing.T) {
	tests := []struct {
		in                                           string
		transport, sentBy, host, branch, recv, rport string // "<nil>" for nil
		port                                         int
		hasRPort                                     bool
	}{
		{"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1", "UDP", "192.0.2.1:5060", "192.0.2.1", "z9hG4bK1", "<nil>", "<nil>", 5060, false},
		{"SIP/2.0/TCP host.example.com", "TCP", "host.example.com", "host.example.com", "<nil>", "<nil>", "<nil>", 0, false},
		{"sip/2.0/ws df7jal23ls0d.invalid;rport;branch=z9hG4bKx", "ws", "df7jal23ls0d.invalid", "df7jal23ls0d.invalid", "z9hG4bKx", "<nil>", "", 0, true},
		{"SIP / 2.0 / TLS  h.example.com : 5061 ; BRANCH = z9hG4bKy ; Received = 10.0.0.1 ; RPort = 3456", "TLS", "h.example.com : 5061", "h.example.com", "z9hG4bKy", "10.0.0.1", "3456", 5061, true},
		{"SIP/2.0/UDP [2001:db8::1]:5060;received=[2001:db8::9];rport=5062", "UDP", "[2001:db8::1]:5060", "2001:db8::1", "<nil>", "[2001:db8::9]", "5062", 5060, true},
		{"SIP/2.0/UDP [::1];branch=z9hG4bK2", "UDP", "[::1]", "::1", "z9hG4bK2", "<nil>", "<nil>", 0, false},
		{"SIP/2.0/UDP 2001:db8::5;branch=z9hG4bK3", "UDP", "2001:db8::5", "2001:db8::5", "z9hG4bK3", "<nil>", "<nil>", 0, false},
		{"SIP/2.0/UDP h;branch=\"quoted\";branch=second", "UDP", "h", "h", "quoted", "<nil>", "<nil>", 0, false},
		{"SIP/2.0/UDP h;maddr=224.2.0.1;ttl=16;branch=z9hG4bK4;alias", "UDP", "h", "h", "z9hG4bK4", "<nil>", "<nil>", 0, false},
		{"SIP/2.0/UDP h;;branch=z9hG4bK5", "UDP", "h", "h", "<nil>", "<nil>", "<nil>", 0, false}, // junk ends the parameters
	}
	view := func(b []byte) string {
		if b == nil {
			return "<nil>"
		}
		return string(b)
	}
	for _, tt := range tests {
		v, err := parseVia([]byte(tt.in))
		if err != nil {
			t.Errorf("parseVia(%q): %v", tt.in, err)
			continue
		}
		got := []string{view(v.Transport), view(v.SentBy), view(v.Host), view(v.Branch), view(v.Received), view(v.RPort)}
		want := []string{tt.transport, tt.sentBy, tt.host, tt.branch, tt.recv, tt.rport}
		if strings.Join(got, "|") != strings.Join(want, "|") || v.Port != tt.port || v.HasRPort != tt.hasRPort {
			t.Errorf("parseVia(%q) = %q port %d rport %v\n want %q port %d rport %v", tt.in, got, v.Port, v.HasRPort, want, tt.port, tt.hasRPort)
		}
	}
	for _, in := range []string{"", "SIP/2.0", "SIP/2.0/", "SIP/2.0/UDP", "SIP/2.0/UDP ;branch=x", "SIP/2.0/UDP h:", "SIP/2.0/UDP h:65536", "SIP/2.0/UDP h:5060x", "SIP/2.0/UDP [::1", ";", "SIP 2.0 UDP h"} {
		if _, err := parseVia([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("parseVia(%q) = %v, want ErrMalformed", in, err)
		}
	}
}

func TestParseNameAddr(t *testing.T) {
	tests := []struct {
		in, display, uri, tag string // "<nil>" for nil
	}{
		{`"Alice" <sip:alice@example.com>;tag=1`, "Alice", "sip:alice@example.com", "1"},
		{`<sip:alice@example.com;transport=tcp>;tag=2;x=y`, "<nil>", "sip:alice@example.com;transport=tcp", "2"},
		{`sip:alice@example.com;tag=3`, "<nil>", "sip:alice@example.com", "3"},
		{`sip:alice@example.com`, "<nil>", "sip:alice@example.com", "<nil>"},
		{`Alice Smith <sip:alice@example.com> ; TAG = 4`, "Alice Smith", "sip:alice@example.com", "4"},
		{`"A;B,C<D>" <sip:x@y>;tag=5`, "A;B,C<D>", "sip:x@y", "5"},
		{`"esc \" quote" <sip:x@y>`, `esc \" quote`, "sip:x@y", "<nil>"},
		{`<sip:x@y>;p="a;tag=b";tag=6`, "<nil>", "sip:x@y", "6"},
		{`<tel:+1-201-555-0123;phone-context=example.com>`, "<nil>", "tel:+1-201-555-0123;phone-context=example.com", "<nil>"},
		{`*`, "<nil>", "*", "<nil>"},
		{`""<sip:x@y>`, "<nil>", "sip:x@y", "<nil>"},
	}
	view := func(b []byte) string {
		if b == nil {
			return "<nil>"
		}
		return string(b)
	}
	for _, tt := range tests {
		a := NameAddr{Display: []byte("stale"), URI: []byte("stale"), Tag: []byte("stale")}
		err := parseNameAddr([]byte(tt.in), &a)
		if err != nil {
			t.Errorf("parseNameAddr(%q): %v", tt.in, err)
			continue
		}
		if view(a.Display) != tt.display || view(a.URI) != tt.uri || view(a.Tag) != tt.tag {
			t.Errorf("parseNameAddr(%q) = %q %q %q, want %q %q %q", tt.in, view(a.Display), view(a.URI), view(a.Tag), tt.display, tt.uri, tt.tag)
		}
	}
	for _, in := range []string{"", "  ", "<>", `"unterminated sip:x@y`, `"display" sip:x@y`, ";tag=1"} {
		var a NameAddr
		if err := parseNameAddr([]byte(in), &a); err == nil {
			t.Errorf("parseNameAddr(%q) succeeded", in)
		}
	}
}

// TestParseSIPEventExpires: Event (compact "o") and Expires have fields of
// their own; a repeat does not replace the first.
func TestParseSIPEventExpires(t *testing.T) {
	m := mustParse(t, crlf(`SUBSCRIBE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1
From: <sip:alice@example.com>;tag=1
To: <sip:bob@example.com>
Call-ID: ev@example.com
CSeq: 1 SUBSCRIBE
o: presence;id=7
Event: dialog
Expires:  3600 
Content-Length: 0

`))
	eq(t, "Event", m.Event, "presence;id=7")
	eq(t, "Expires", m.Expires, "3600")
	m = mustParse(t, benchInvite)
	if m.Event != nil || m.Expires != nil {
		t.Errorf("Event %q Expires %q, want nil", m.Event, m.Expires)
	}
}

// TestParseSIPLean: a lean parse keeps in Headers only what no field holds,
// and skips Contact; LeanHeader says which names those are.
func TestParseSIPLean(t *testing.T) {
	var m Message
	if err := ParseSIPLean(benchInvite, &m); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range m.Headers {
		names = append(names, string(h.Name))
	}
	want := "record-route|allow|allow|allow|allow|allow|allow|allow|allow|allow|allow|supported|supported|supported"
	if got := strings.Join(names, "|"); got != want {
		t.Errorf("lean Headers = %s\nwant %s", got, want)
	}
	if m.Contact.URI != nil || len(m.Via) != 2 || string(m.UserAgent) != "ExamplePhone/4.2.1" {
		t.Errorf("Contact %q, %d Via, UserAgent %q", m.Contact.URI, len(m.Via), m.UserAgent)
	}
	for name, keep := range map[string]bool{"X-Call-ID": true, "route": true, "Supported": true,
		"Call-ID": false, "i": false, "EXPIRES": false, "o": false, "Contact": false, "Via": false, "": true} {
		if LeanHeader(name) != keep {
			t.Errorf("LeanHeader(%q) = %v, want %v", name, !keep, keep)
		}
	}
}

// TestUntil: the four-bytes-a-step scan stops where a byte-by-byte one does,
// at every length and start and wherever the stop byte falls.
func TestUntil(t *testing.T) {
	v := []byte("abcdefghij;klmnopq rstuvwxyz,0123456789")
	for _, set := range []*[256]bool{&sepChar, &hostStop, &listChar, &nameAddrStop, &lwsChar} {
		for n := 0; n <= len(v); n++ {
			for p := 0; p <= n; p++ {
				want := p
				for want < n && !set[v[want]] {
					want++
				}
				if got := until(v[:n], p, set); got != want {
					t.Fatalf("until(%q, %d) = %d, want %d", v[:n], p, got, want)
				}
			}
		}
	}
}

// TestEqualKey: equalKey agrees with equalFold on every key, in any case,
// with and without bytes after the view, and on near misses.
func TestEqualKey(t *testing.T) {
	for _, name := range []string{"sip/", "sip/2.0", "branch", "received", "rport", "tag", "application/sdp", "x", "12345678", "123456789abcdef0"} {
		k := newFoldKey(name)
		cands := []string{name, strings.ToUpper(name), name + "x", name[1:], "\xff" + name[1:], strings.ToUpper(name[:1]) + name[1:]}
		if len(name) > 1 {
			cands = append(cands, name[:len(name)-1]+"\x00", name[:len(name)-1]+string(rune(name[len(name)-1]^0x20)))
		}
		for _, c := range cands {
			want := equalFold([]byte(c), name)
			buf := []byte(c + "trailing bytes")
			if got := equalKey(buf[:len(c)], k); got != want {
				t.Errorf("equalKey(%q in %q, %q) = %v, want %v", c, buf, name, got, want)
			}
			if got := equalKey(buf[:len(c):len(c)], k); got != want {
				t.Errorf("equalKey(%q with nothing after, %q) = %v, want %v", c, name, got, want)
			}
		}
	}
}

// TestParseReuse parses a message with every header that has a rare field
// into a Message, then others into the same one: each must come out as it
// does from a fresh Message, and SIPp's INVITE must leave the rare
// headers' memory alone (the point of keeping them apart).
func TestParseReuse(t *testing.T) {
	rare := []byte("INVITE sip:b@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n" +
		"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n" +
		"Call-ID: reuse\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:a@192.0.2.1>\r\nUser-Agent: ua\r\nServer: srv\r\nReason: Q.850;cause=16\r\n" +
		"Authorization: Digest a\r\nProxy-Authorization: Digest b\r\n" +
		"WWW-Authenticate: Digest c\r\nProxy-Authenticate: Digest d\r\n" +
		"Refer-To: <sip:c@example.com>\r\nReferred-By: <sip:a@example.com>\r\nReplaces: x;to-tag=1;from-tag=2\r\n" +
		"RSeq: 7\r\nRAck: 7 1 INVITE\r\nSession-Expires: 90\r\nEvent: refer\r\nExpires: 60\r\n" +
		"Diversion: <sip:d@example.com>;reason=busy, <sip:e@example.com>\r\nHistory-Info: <sip:f@example.com>;index=1\r\n" +
		"Content-Length: 0\r\n\r\n")
	for _, parse := range []struct {
		name string
		f    func([]byte, *Message) error
	}{{"full", ParseSIP}, {"lean", ParseSIPLean}} {
		t.Run(parse.name, func(t *testing.T) {
			var m Message
			if !m.HasRareHeaders() {
				t.Fatalf("a zero Message promises no rare headers")
			}
			for i, in := range [][]byte{rare, benchSIPp, rare, benchInvite, rare, rare[:40], benchSIPp} {
				var fresh Message
				ferr := parse.f(in, &fresh)
				err := parse.f(in, &m)
				if fmt.Sprint(err) != fmt.Sprint(ferr) {
					t.Fatalf("message %d: error %v, fresh %v", i, err, ferr)
				}
				if got, want := fieldStrings(&m), fieldStrings(&fresh); got != want {
					t.Fatalf("message %d differs from a fresh parse:\n got %s\nwant %s", i, got, want)
				}
				if i == 0 && !m.HasRareHeaders() {
					t.Fatalf("a message with every rare header reports none")
				}
			}
			if parse.name == "lean" && m.HasRareHeaders() {
				t.Errorf("SIPp's INVITE parsed lean marked the rare headers as set")
			}
		})
	}
}

// TestParserRemembers parses the torture messages and the benchmarks'
// (three stacks' header orders) one after another, twice over and in both
// orders, with one Parser, and checks each against a parse with nothing
// remembered: what a Parser remembers (guesses) never changes a result.
func TestParserRemembers(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "torture", "*.sip"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no torture messages: %v", err)
	}
	msgs := [][]byte{benchSIPp, benchInvite, benchOK, benchSIPp, benchOK}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, b, b, benchSIPp, benchSIPp) // each twice: the second takes the guesses the first left
	}
	for _, lean := range []bool{false, true} {
		var p Parser
		for pass := 0; pass < 4; pass++ {
			for k := range msgs {
				i := k
				if pass%2 == 1 {
					i = len(msgs) - 1 - k
				}
				parse, fresh := p.Parse, ParseSIP
				if lean {
					parse, fresh = p.ParseLean, ParseSIPLean
				}
				var got, want Message
				perr, werr := parse(msgs[i], &got), fresh(msgs[i], &want)
				if fmt.Sprint(perr) != fmt.Sprint(werr) {
					t.Fatalf("lean %v, message %d: error %v, with nothing remembered %v", lean, i, perr, werr)
				}
				if g, w := fieldStrings(&got), fieldStrings(&want); g != w {
					t.Fatalf("lean %v, message %d differs from a parse with nothing remembered:\n got %s\nwant %s", lean, i, g, w)
				}
			}
		}
	}
}

// TestResetClears sets every field of a Message and checks that reset
// clears all but the capture metadata (and keeps the slices' memory).
func TestResetClears(t *testing.T) {
	var m Message
	v := reflect.ValueOf(&m).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Type().Field(i); f.IsExported() {
			fillValue(v.Field(i))
		}
	}
	m.noRare = false
	m.reset()
	keep := map[string]bool{"N": true, "Time": true, "Src": true, "Dst": true, "Transport": true, "IPID": true, "Encap": true}
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() || keep[f.Name] {
			continue
		}
		fv := v.Field(i)
		switch {
		case f.Name == "ContentLength" || f.Name == "MaxForwards":
			if fv.Int() != -1 {
				t.Errorf("%s = %d after reset, want -1", f.Name, fv.Int())
			}
		case fv.Kind() == reflect.Slice && fv.Len() == 0:
		case !fv.IsZero():
			t.Errorf("%s = %v after reset", f.Name, fv)
		}
	}
	if m.N == 0 || m.Time.IsZero() || !m.Src.IsValid() || m.Encap == "" {
		t.Errorf("reset cleared the capture metadata: %+v", m)
	}
	if m.HasRareHeaders() {
		t.Errorf("rare headers reported after reset")
	}
	for name, c := range map[string]int{"Via": cap(m.Via), "Headers": cap(m.Headers), "Diversion": cap(m.Diversion), "HistoryInfo": cap(m.HistoryInfo)} {
		if c == 0 {
			t.Errorf("reset dropped %s's memory, which the next parse reuses", name)
		}
	}
}

// fillValue sets v, recursively, to something that is not its zero value.
func fillValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Unix(1, 0)))
			return
		}
		if v.Type() == reflect.TypeOf(netip.AddrPort{}) {
			v.Set(reflect.ValueOf(netip.MustParseAddrPort("192.0.2.1:5060")))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fillValue(v.Field(i))
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillValue(s.Index(0))
		v.Set(s)
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Int16, reflect.Int8:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		v.SetUint(7)
	case reflect.Bool:
		v.SetBool(true)
	}
}

// TestUntilSep puts every byte value at every place of a value long enough
// for two words, alone and after a control byte that is not a separator,
// and checks untilSep against the byte-by-byte until.
func TestUntilSep(t *testing.T) {
	for c := 0; c < 256; c++ {
		for at := 0; at < 20; at++ {
			for _, prefix := range []string{"", "\x01"} {
				v := []byte(prefix + strings.Repeat("a", 20))
				v[len(prefix)+at] = byte(c)
				for p := 0; p <= len(v); p++ {
					if got, want := untilSep(v, p), until(v, p, &sepChar); got != want {
						t.Fatalf("untilSep(%q, %d) = %d, want %d", v, p, got, want)
					}
				}
			}
		}
	}
}

// TestHasControl puts every byte value at every place of strings of every
// length up to three words (whole words, and tails read byte by byte or as
// the word that ends the string) and checks hasControl against the plain
// rule.
func TestHasControl(t *testing.T) {
	for n := 1; n <= 24; n++ {
		for c := 0; c < 256; c++ {
			for at := 0; at < n; at++ {
				// HT (allowed, but below 0x20: every word goes byte by byte),
				// and letters and high bytes, whose words the filter must not
				// wave through with a control among them.
				for _, bg := range []string{"\t", "a", "\xff", "~"} {
					v := []byte(strings.Repeat(bg, n))
					v[at] = byte(c)
					want := c < 0x20 && c != '\t' || c == 0x7f
					if got := hasControl(v); got != want {
						t.Fatalf("hasControl(%q) = %v, want %v", v, got, want)
					}
				}
			}
		}
	}
	if hasControl(nil) {
		t.Error("hasControl(nil) = true")
	}
}

// TestParamTagGeneral pins the rule paramTagGeneral keeps from the loop
// parseNameAddr had: the first tag parameter that has a value.
func TestParamTagGeneral(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{";tag;tag=x", "x"},
		{";tag=;tag=x", ""},
		{";a=1;TAG=y;tag=z", "y"},
		{" ; tag = \"q;r\" ", "q;r"},
		{";tag", "<nil>"},
		{"", "<nil>"},
	} {
		for name, f := range map[string]func([]byte) []byte{"paramTag": paramTag, "paramTagGeneral": paramTagGeneral} {
			got := "<nil>"
			if v := f([]byte(tt.in)); v != nil {
				got = string(v)
			}
			if got != tt.want {
				t.Errorf("%s(%q) = %q, want %q", name, tt.in, got, tt.want)
			}
		}
	}
}

// TestBadViaLeavesNothing checks that a Via that does not parse leaves
// m.Via as it was: nil in a fresh Message, and no views of the input.
func TestBadViaLeavesNothing(t *testing.T) {
	var m Message
	err := ParseSIP([]byte("INVITE sip:a SIP/2.0\r\nVia: x\r\nCall-ID: c\r\n\r\n"), &m)
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	if m.Via != nil {
		t.Errorf("Via = %#v (len %d, cap %d), want nil", m.Via, len(m.Via), cap(m.Via))
	}
}

// TestSpanDigitsDots puts every byte value at every place of a word of
// digits: spanDigitsDots must stop exactly there unless it is a digit or
// a dot.
func TestSpanDigitsDots(t *testing.T) {
	for c := 0; c < 256; c++ {
		for i := 0; i < 16; i++ {
			v := []byte("0123456789.0123456789")
			v[i] = byte(c)
			want := len(v)
			if !isDigit(byte(c)) && c != '.' {
				want = i
			}
			if got := spanDigitsDots(v, 0); got != want {
				t.Fatalf("spanDigitsDots(%q, 0) = %d, want %d", v, got, want)
			}
		}
	}
}

// TestShortUint checks parseUint's shortcut, and parseUint through it,
// against strconv.ParseUint: shortUint must read exactly the digit strings
// of up to six bytes, and parseUint must hold them to its limit.
func TestShortUint(t *testing.T) {
	for _, v := range []string{"", "0", "7", "131", "000131", "255", "256", "999999", "1000000", "16777216",
		"12a", "-1", "+1", " 1", "1 ", "1/", "1:", "0x10", "1_0", "١"} {
		want, err := strconv.ParseUint(v, 10, 64)
		digits := err == nil
		n, ok := shortUint([]byte(v))
		switch {
		case ok && (!digits || n != want):
			t.Errorf("shortUint(%q) = %d, true; strconv gives %d, %v", v, n, want, err)
		case !ok && digits && len(v) <= 6:
			t.Errorf("shortUint(%q) refused a number of six digits or fewer", v)
		}
		if !digits {
			continue
		}
		for _, max := range []uint64{want, want - 1, 255} {
			if got, ok := parseUint([]byte(v), max); ok != (want <= max) || ok && got != want {
				t.Errorf("parseUint(%q, %d) = %d, %v", v, max, got, ok)
			}
		}
	}
}

// TestHdrUsual checks that every known name up to 16 bytes, spelt as the
// RFCs spell it (compact forms in lower case), is in hdrUsual, which
// readHeaderFast tries before folding the name: a name missing there is
// still read, only slower.
func TestHdrUsual(t *testing.T) {
	for _, tt := range []struct{ lower, usual string }{
		{"call-id", "Call-ID"}, {"cseq", "CSeq"}, {"www-authenticate", "WWW-Authenticate"},
		{"content-length", "Content-Length"}, {"p-asserted-identity", "P-Asserted-Identity"}, {"via", "Via"},
	} {
		if got := usualSpelling(tt.lower); got != tt.usual {
			t.Errorf("usualSpelling(%q) = %q, want %q", tt.lower, got, tt.usual)
		}
	}
	for _, k := range hdrKeys {
		name := k.name
		if len(name) > 1 {
			name = usualSpelling(name)
		}
		if len(name) > 16 {
			continue
		}
		found := false
		for i := hdrHashBytes(len(name), name[0], name[len(name)-1]); hdrUsual[i].n != 0; i = (i + 1) & (hdrTableSize - 1) {
			if e := hdrUsual[i]; e.n == len(name) && e.id == k.id {
				found = true
			}
		}
		if !found {
			t.Errorf("%q is not in hdrUsual", name)
		}
	}
}

// TestStartLineUsual: looksLikeSIP gives the start line of the messages
// stacks write (so the decoder parses them once), and leaves the rare forms
// to parseStartLine.
func TestStartLineUsual(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{string(benchInvite), true},
		{"SIP/2.0 200 OK\r\nVia: x\r\n", true},
		{"\r\nSIP/2.0 100\r\n", true},
		{"BYE sip:a@b SIP/2.0\nVia: x\n", true},
		{"INVITE <sip:a@b> SIP/2.0\r\n", false},
		{"SIP/2.0 200\rX\n", false},
	} {
		var sl startLine
		if !looksLikeSIP([]byte(tt.in), &sl) {
			t.Errorf("looksLikeSIP(%q) = false", tt.in)
			continue
		}
		if sl.ok != tt.want {
			t.Errorf("looksLikeSIP(%q) gives the start line: %v, want %v", tt.in, sl.ok, tt.want)
		}
	}
}

// TestParseSIPHeadersCut: a message whose headers no empty line ends (a
// snap length cut it inside them) says so, whichever parse, and whatever
// its Content-Length said; one reused after it does not.
func TestParseSIPHeadersCut(t *testing.T) {
	const head = "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: cut\r\nCSeq: 1 INVITE\r\n"
	tests := []struct {
		name, in string
		cut      bool
	}{
		{"whole, no body", head + "Content-Length: 0\r\n\r\n", false},
		{"whole, a body", head + "Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n", false},
		{"LF only", strings.ReplaceAll(head+"Content-Length: 0\r\n\r\n", "\r\n", "\n"), false},
		{"a lone CR for the empty line", head + "Content-Length: 0\r\n\r", false},
		{"an LF empty line after CRLF", head + "Content-Length: 0\r\n\n", false},
		{"LF only, cut", strings.ReplaceAll(head, "\r\n", "\n"), true},
		{"cut after a header line", head + "Contact: <sip:a@h>\r\n", true},
		{"cut inside a header value", head + "Content-Type: applic", true},
		{"cut after Content-Length", head + "Content-Length: 120\r\n", true},
	}
	for _, lean := range []bool{false, true} {
		var m Message
		for _, tt := range tests {
			var p Parser
			parse := p.Parse
			if lean {
				parse = p.ParseLean
			}
			if err := parse([]byte(tt.in), &m); err != nil && !errors.Is(err, ErrShortBody) {
				t.Fatalf("lean %v, %s: %v", lean, tt.name, err)
			}
			if m.HeadersCut() != tt.cut {
				t.Errorf("lean %v, %s: HeadersCut %v, want %v", lean, tt.name, m.HeadersCut(), tt.cut)
			}
		}
	}
}

// TestReplacesMore: of two Replaces headers, Replaces keeps the first and
// ReplacesMore tells of the other (RFC 3891 §3 refuses such an INVITE).
func TestReplacesMore(t *testing.T) {
	var m Message
	raw := "INVITE sip:c@10.0.0.3 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:b@10.0.0.2>;tag=1\r\n" +
		"To: <sip:c@10.0.0.3>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nReplaces: a;to-tag=1;from-tag=2\r\nReplaces: b;to-tag=3;from-tag=4\r\nContent-Length: 0\r\n\r\n"
	if err := ParseSIP([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	eq(t, "Replaces", m.Replaces, "a;to-tag=1;from-tag=2")
	if !m.ReplacesMore {
		t.Errorf("ReplacesMore false with two Replaces headers")
	}
}
