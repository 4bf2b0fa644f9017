package decode

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"slices"

	"golang.org/x/crypto/chacha20poly1305"
)

// SIP over TLS (RFC 3261 §26.2, sips: and port 5061; and wss://), read
// with the connection's secrets from a key log (KeyLog). The ClientHello
// gives the client random the secrets are found by, the ServerHello the
// version and cipher suite; each direction's records are then decrypted
// in order and their plaintext framed as a TCP stream's bytes are: SIP
// by Content-Length, or WebSocket frames after an upgrade.
//
// TLS 1.3 (RFC 8446), and TLS 1.2 (RFC 5246) with AES-GCM (RFC 5288),
// ChaCha20-Poly1305 (RFC 7905), or AES-CBC with an HMAC of SHA-1, SHA-256
// or SHA-384, MAC-then-encrypt or encrypt-then-MAC (RFC 7366), as older
// phones and PBXs negotiate. The secrets are looked for in the key log
// at the ClientHello, and again, while it lacks them, at the ServerHello
// and each encrypted record: a live capture's programs log them only as
// the handshake goes (the client's TLS 1.3 application secrets after the
// server's whole first flight). Records that come before them are passed
// over (the handshake's, in practice), at most tlsMaxWait of a connection.
// In TLS 1.3 a direction's records are decrypted with its
// handshake secret until one fails to and the application secret opens
// it: the Finished was the last handshake record. A KeyUpdate moves to
// the next application secret the same way. Records lost to a hole in the
// capture are skipped: reading resumes at the next record header, its
// sequence number searched for among as many as the bytes lost could have
// held (tlsSeqWindow), a chance header in the bytes a hole cut looked
// past.

// TLS record content types (RFC 8446 §5.1).
const (
	tlsChangeCipherSpec = 20
	tlsAlert            = 21
	tlsHandshake        = 22
	tlsApplicationData  = 23
)

const (
	tlsMaxRecord = 16384 + 2048 // a record's longest ciphertext (RFC 5246 §6.2.3)
	// After a hole, the sequence number is searched for among as many
	// as the bytes lost could have held records (tlsMinRecord bytes
	// each, the smallest a suite makes), tlsSeqSearch at least, and at
	// most as many as tlsSearchWork bytes of decryption allow.
	tlsSeqSearch  = 64
	tlsMinRecord  = 5 + 16 // a header and a tag, and nothing else
	tlsSearchWork = 4 << 20
	// tlsMaxResync is how many chance record headers after a hole are
	// looked past: the bytes after it begin in the middle of a record,
	// which may hold one.
	tlsMaxResync = 8
	// tlsMaxWait is how many encrypted records of a connection are passed
	// over while a key log that may grow (ReadKeyLogFile) lacks its
	// secrets, before it counts as one the key log has none for.
	tlsMaxWait = 32
	// tlsMaxHello bounds the handshake bytes held while a hello comes
	// over several records: 64 kB, far more than any hello's.
	tlsMaxHello = 64 << 10
	tlsMaxEarly = 64  // records of TLS 1.3 early data passed over
	tlsMaxHS    = 256 // handshake packets a connection's messages carry
)

// tlsSuite is what decryption needs of a cipher suite.
type tlsSuite struct {
	keyLen  int
	chacha  bool
	hash    func() hash.Hash // the PRF's or HKDF's
	hashLen int
	// A CBC suite of TLS 1.2 (RFC 5246 §6.2.3.2): AES-CBC with an HMAC,
	// MAC-then-encrypt, or encrypt-then-MAC when the hellos agreed on it
	// (RFC 7366).
	cbc    bool
	mac    func() hash.Hash
	macLen int
}

var (
	aes128SHA256 = tlsSuite{keyLen: 16, hash: sha256.New, hashLen: 32}
	aes256SHA384 = tlsSuite{keyLen: 32, hash: sha512.New384, hashLen: 48}
	chachaSHA256 = tlsSuite{keyLen: 32, chacha: true, hash: sha256.New, hashLen: 32}

	cbc128SHA    = tlsSuite{keyLen: 16, hash: sha256.New, hashLen: 32, cbc: true, mac: sha1.New, macLen: 20}
	cbc256SHA    = tlsSuite{keyLen: 32, hash: sha256.New, hashLen: 32, cbc: true, mac: sha1.New, macLen: 20}
	cbc128SHA256 = tlsSuite{keyLen: 16, hash: sha256.New, hashLen: 32, cbc: true, mac: sha256.New, macLen: 32}
	cbc256SHA256 = tlsSuite{keyLen: 32, hash: sha256.New, hashLen: 32, cbc: true, mac: sha256.New, macLen: 32}
	cbc256SHA384 = tlsSuite{keyLen: 32, hash: sha512.New384, hashLen: 48, cbc: true, mac: sha512.New384, macLen: 48}
)

// tlsSuites are the cipher suites sipflow decrypts, by their IANA number.
var tlsSuites = map[uint16]tlsSuite{
	0x1301: aes128SHA256, // TLS_AES_128_GCM_SHA256
	0x1302: aes256SHA384, // TLS_AES_256_GCM_SHA384
	0x1303: chachaSHA256, // TLS_CHACHA20_POLY1305_SHA256
	0x009c: aes128SHA256, // TLS_RSA_WITH_AES_128_GCM_SHA256
	0x009d: aes256SHA384, // TLS_RSA_WITH_AES_256_GCM_SHA384
	0x009e: aes128SHA256, // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
	0x009f: aes256SHA384, // TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
	0xc02b: aes128SHA256, // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	0xc02c: aes256SHA384, // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
	0xc02f: aes128SHA256, // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	0xc030: aes256SHA384, // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
	0xcca8: chachaSHA256, // TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	0xcca9: chachaSHA256, // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	0xccaa: chachaSHA256, // TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	0x002f: cbc128SHA,    // TLS_RSA_WITH_AES_128_CBC_SHA
	0x0033: cbc128SHA,    // TLS_DHE_RSA_WITH_AES_128_CBC_SHA
	0x0035: cbc256SHA,    // TLS_RSA_WITH_AES_256_CBC_SHA
	0x0039: cbc256SHA,    // TLS_DHE_RSA_WITH_AES_256_CBC_SHA
	0x003c: cbc128SHA256, // TLS_RSA_WITH_AES_128_CBC_SHA256
	0x003d: cbc256SHA256, // TLS_RSA_WITH_AES_256_CBC_SHA256
	0x0067: cbc128SHA256, // TLS_DHE_RSA_WITH_AES_128_CBC_SHA256
	0x006b: cbc256SHA256, // TLS_DHE_RSA_WITH_AES_256_CBC_SHA256
	0xc009: cbc128SHA,    // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
	0xc00a: cbc256SHA,    // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
	0xc013: cbc128SHA,    // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
	0xc014: cbc256SHA,    // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
	0xc023: cbc128SHA256, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
	0xc024: cbc256SHA384, // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
	0xc027: cbc128SHA256, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
	0xc028: cbc256SHA384, // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
}

// helloRetryRandom is the random of a ServerHello that is a
// HelloRetryRequest (RFC 8446 §4.1.3).
var helloRetryRandom = [32]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// tlsConn is a TLS connection's state, shared by its two streams.
type tlsConn struct {
	client, server *tlsDir
	clientRandom   []byte
	serverRandom   []byte
	secrets        tlsSecrets // as the key log held them when last looked in
	version        uint16     // the ServerHello's (0x0303, 0x0304, ...), once read
	suiteID        uint16     // the ServerHello's cipher suite
	suite          tlsSuite
	etm            bool  // encrypt-then-MAC (RFC 7366), for a CBC suite
	ready          bool  // the keys are made: the key log held the secrets, of a version and suite sipflow decrypts
	done           bool  // given up on (warned once), or counted as without keys
	decrypted      bool  // a record was decrypted (Stats.TLSDecrypted)
	waited         int   // encrypted records passed over, the key log lacking the secrets
	hs             []int // packets of the handshake's records in the clear, both ways
	parts          []int // Message.Parts of a message inside (tlsParts)
}

// tlsDir is one direction of a TLS connection.
type tlsDir struct {
	conn      *tlsConn
	encrypted bool // its records from here on are: after its ChangeCipherSpec (1.2), the ServerHello (1.3)
	epoch     int  // TLS 1.3: 0 the handshake secret, n ≥ 1 the nth application secret
	secret    []byte
	aead      cipher.AEAD
	block     cipher.Block // a CBC suite's cipher, and its MAC key
	macKey    []byte
	iv        []byte // the fixed IV: 4 bytes for TLS 1.2's GCM, else 12
	seq       uint64
	lost      bool    // records were lost: search for the sequence number
	lostBytes int     // bytes lost to holes since a record last opened
	resyncs   int     // chance record headers looked past since
	skipped   int     // encrypted records passed over, waiting for the secrets
	skipData  int     // of them, TLS 1.2's application data
	hello     []byte  // handshake bytes in the clear, until its hello is read
	opened    bool    // a record of it was decrypted
	early     int     // TLS 1.3 early data records passed over (earlyData)
	inner     *stream // the plaintext, framed as a TCP stream's bytes
	plain     []byte  // decryption's output, reused
}

// isTLSHandshake reports whether b starts with a TLS handshake record
// holding a ClientHello (type 1) or ServerHello (type 2).
func isTLSHandshake(b []byte) bool {
	return len(b) >= 6 && b[0] == tlsHandshake && b[1] == 0x03 && (b[5] == 0x01 || b[5] == 0x02)
}

// startTLS makes s, whose first bytes b are a ClientHello or a
// ServerHello, a TLS stream, when the Decoder has a key log. A
// ServerHello joins the connection its reverse stream's ClientHello began;
// one without (the capture began after it) cannot be read.
func (d *Decoder) startTLS(key streamKey, s *stream, b []byte) bool {
	if d.opts.KeyLog == nil || !isTLSHandshake(b) {
		return false
	}
	dir := &tlsDir{inner: &stream{key: key, hi: -1}}
	if b[5] == 0x01 {
		dir.conn = &tlsConn{client: dir}
	} else {
		r := d.tcp.m[streamKey{src: key.dst, dst: key.src}]
		if r == nil || r.kind != kindTLS || r.tls.conn.server != nil || r.tls != r.tls.conn.client {
			return false
		}
		dir.conn = r.tls.conn
		dir.conn.server = dir
	}
	dir.inner.outer = dir
	s.kind, s.tls = kindTLS, dir
	return true
}

// tlsRecords consumes the complete records at the front of b and returns
// what is left. own is the packet the newest bytes came in.
func (d *Decoder) tlsRecords(key streamKey, s *stream, b []byte, own int) []byte {
	for s.kind == kindTLS {
		if len(b) < 5 {
			return b
		}
		n := int(binary.BigEndian.Uint16(b[3:5]))
		if !tlsRecordHeader(b) {
			d.tlsFail(key, s, "bytes that are no TLS record (% x)", b[:5])
			return nil
		}
		if len(b) < 5+n {
			return b
		}
		if !d.tlsRecord(key, s, b[:5+n], own) {
			return b[1:] // no record: look further (s.resync)
		}
		b = b[5+n:]
		s.bufN = own
		s.parts = append(s.parts[:0], own) // what follows began in this packet
	}
	return nil
}

// tlsRecordHeader reports whether b starts with a plausible record header.
func tlsRecordHeader(b []byte) bool {
	return len(b) >= 5 && b[0] >= tlsChangeCipherSpec && b[0] <= 24 && b[1] == 0x03 && b[2] <= 0x04 &&
		int(binary.BigEndian.Uint16(b[3:5])) <= tlsMaxRecord
}

// nextTLSRecord returns the offset of the first plausible application
// data record header in b, or -1: where reading resumes after a hole.
func nextTLSRecord(b []byte) int {
	for i := 0; i+5 <= len(b); i++ {
		if b[i] == tlsApplicationData && tlsRecordHeader(b[i:]) {
			return i
		}
	}
	return -1
}

// tlsFail gives up on s's connection, with a warning once.
func (d *Decoder) tlsFail(key streamKey, s *stream, format string, args ...any) {
	c := s.tls.conn
	if !c.done {
		c.done = true
		d.warnAt(s.bufN, ErrMalformed, "TLS stream %s -> %s: "+format+"; the rest of the connection is not read", append([]any{key.src, key.dst}, args...)...)
	}
	s.kind = kindOther
}

// tlsRecord takes one whole record. It returns false when rec, after a
// hole, proved no record (its header a chance one in the bytes of one the
// hole cut): s.resync is set, to look further.
func (d *Decoder) tlsRecord(key streamKey, s *stream, rec []byte, own int) bool {
	t, c := s.tls, s.tls.conn
	if c.done {
		s.kind = kindOther
		return true
	}
	typ := rec[0]
	if !t.encrypted || typ == tlsChangeCipherSpec {
		c.addHS(s.parts)
		switch typ {
		case tlsHandshake:
			d.tlsHandshake(key, s, rec[5:])
		case tlsChangeCipherSpec:
			// TLS 1.2 (and before): the direction's next records are
			// encrypted, whether or not the key log holds its secrets yet.
			if c.version != 0 && c.version < 0x0304 && !t.encrypted {
				t.encrypted, t.seq = true, 0
			}
		case tlsApplicationData:
			if t.earlyData() {
				return true
			}
			if !c.secrets.any() && c.clientRandom != nil {
				// The key log has no secrets for this connection.
				d.Stats.TLSNoKeys++
				c.done = true
				s.kind = kindOther
				return true
			}
			d.tlsFail(key, s, "application data before the handshake that would say how to read it")
		}
		return true
	}
	if c.version == 0x0304 && typ != tlsApplicationData {
		return true // an alert in the clear, say
	}
	if !c.ready && !d.tlsKeys(key, s) {
		if s.kind == kindTLS {
			d.tlsWait(key, s, typ)
		}
		return true
	}
	plain, inner, ok := d.tlsOpen(t, rec)
	if !ok && t.earlyData() {
		return true
	}
	if !ok && t.lostBytes > 0 && t.resyncs < tlsMaxResync {
		t.resyncs++
		t.lostBytes++
		s.resync = true
		return false
	}
	if !ok && t.lostBytes > 0 {
		d.tlsFail(key, s, "no record after the hole decrypts with the key log's secrets (more lost than sipflow searches past, or bytes damaged)")
		return true
	}
	if !ok {
		d.tlsFail(key, s, "a record does not decrypt with the key log's secrets (the wrong key log, or bytes damaged)")
		return true
	}
	t.opened = true
	if !c.decrypted {
		c.decrypted = true
		d.Stats.TLSDecrypted++
	}
	if c.version == 0x0303 {
		inner = typ
	}
	switch {
	case inner == tlsApplicationData:
		d.tlsPlaintext(key, s, plain, own)
	case inner == tlsHandshake:
		// A Finished, TLS 1.3's certificate and the rest, its tickets:
		// records Wireshark must count to decrypt those after them.
		c.addHS(s.parts)
	}
	return true
}

// addHS adds the packets parts of a handshake record to c.hs, which
// every message of the connection carries: tlsMaxHS packets at most, a
// connection's whole handshake and more, however many records (a
// ChangeCipherSpec or a ticket over and over) the connection holds.
func (c *tlsConn) addHS(parts []int) {
	for _, n := range parts {
		if len(c.hs) < tlsMaxHS && !slices.Contains(c.hs, n) {
			c.hs = append(c.hs, n)
		}
	}
}

// tlsHandshake reads the handshake messages of a record in the clear
// until its direction's hello is read: the ClientHello's random, the
// ServerHello's random, version and suite. A hello may come over several
// records (RFC 8446 §5.1: handshake messages are a stream of their own),
// and a HelloRetryRequest before the ServerHello.
func (d *Decoder) tlsHandshake(key streamKey, s *stream, body []byte) {
	t, c := s.tls, s.tls.conn
	if !t.wantHello() {
		return
	}
	t.hello = append(t.hello, body...)
	for t.wantHello() && len(t.hello) >= 4 {
		typ, n := t.hello[0], int(t.hello[1])<<16|int(t.hello[2])<<8|int(t.hello[3])
		if typ == 1 && t == c.client && n >= 34 && len(t.hello) >= 4+34 {
			// Its random is all a ClientHello is read for (a second one,
			// after a HelloRetryRequest, keeps it).
			c.clientRandom = slices.Clone(t.hello[6:38])
			c.secrets, _ = d.opts.KeyLog.lookup(c.clientRandom)
			break
		}
		if n > tlsMaxHello {
			d.tlsFail(key, s, "a handshake message of %d bytes where its hello was expected", n)
			return
		}
		if len(t.hello) < 4+n {
			return // the rest in the next records
		}
		msg := t.hello[4 : 4+n]
		t.hello = t.hello[4+n:]
		if typ == 2 && t == c.server {
			d.tlsServerHello(key, s, msg)
		}
	}
	if !t.wantHello() {
		t.hello = nil
	}
}

// earlyData passes over a record of TLS 1.3's early data (0-RTT, RFC
// 8446 §4.2.10): application data of the client after its ClientHello,
// before the ServerHello, or, after it, that neither the handshake's nor
// the application's secret opens before one of them opened a record (the
// EndOfEarlyData, or early data the server turned down and skips as
// well). Early data a server turned down is sent again after the
// handshake; early data it took is not read (its secret,
// CLIENT_EARLY_TRAFFIC_SECRET, is of a suite the records before the
// ServerHello cannot say), rare as it is in SIP. tlsMaxEarly records of a
// connection at most.
func (t *tlsDir) earlyData() bool {
	c := t.conn
	if t != c.client || c.clientRandom == nil || t.opened || t.early >= tlsMaxEarly || c.version != 0 && c.version != 0x0304 {
		return false
	}
	t.early++
	return true
}

// wantHello reports whether t's hello is still to be read.
func (t *tlsDir) wantHello() bool {
	c := t.conn
	if t == c.client {
		return c.clientRandom == nil && !c.done
	}
	return c.version == 0 && !c.done
}

// tlsServerHello reads a ServerHello, or passes over a HelloRetryRequest:
// the ServerHello follows the client's second ClientHello.
func (d *Decoder) tlsServerHello(key streamKey, s *stream, h []byte) {
	c := s.tls.conn
	if c.clientRandom == nil || len(h) >= 34 && [32]byte(h[2:34]) == helloRetryRandom {
		return
	}
	version, suite, etm, ok := parseServerHello(h)
	if !ok {
		d.tlsFail(key, s, "a ServerHello that does not parse")
		return
	}
	c.version, c.suiteID, c.serverRandom, c.etm = version, suite, slices.Clone(h[2:34]), etm
	if version == 0x0304 {
		// Both directions encrypt from here (the client after a
		// ChangeCipherSpec sent for middleboxes, and skipped).
		c.server.encrypted, c.client.encrypted = true, true
	}
	d.tlsKeys(key, s) // else at the first encrypted record
}

// any reports whether the key log holds any secret of the connection.
func (s *tlsSecrets) any() bool {
	return s.master != nil || s.clientHS != nil || s.serverHS != nil || s.clientApp != nil || s.serverApp != nil
}

// complete reports whether they are all that a connection of version
// needs.
func (s *tlsSecrets) complete(version uint16) bool {
	if version == 0x0304 {
		return s.clientHS != nil && s.serverHS != nil && s.clientApp != nil && s.serverApp != nil
	}
	return s.master != nil
}

// tlsKeys makes the keys of s's connection, once its ServerHello is read,
// when the key log holds its secrets, looking in it again if it did not.
// It reports whether they are made; a version or suite sipflow cannot
// decrypt gives up on the connection, with a warning.
func (d *Decoder) tlsKeys(key streamKey, s *stream) bool {
	c := s.tls.conn
	if !c.secrets.complete(c.version) {
		if sec, ok := d.opts.KeyLog.lookup(c.clientRandom); ok {
			c.secrets = sec
		}
		if !c.secrets.complete(c.version) {
			return false
		}
	}
	info, known := tlsSuites[c.suiteID]
	switch {
	case c.version != 0x0303 && c.version != 0x0304:
		d.tlsFail(key, s, "TLS version 0x%04x, which sipflow cannot decrypt (1.2 and 1.3 only)", c.version)
		return false
	case !known || c.version == 0x0304 && c.suiteID>>8 != 0x13 || c.version == 0x0303 && c.suiteID>>8 == 0x13:
		d.tlsFail(key, s, "cipher suite 0x%04x, which sipflow cannot decrypt (AES-GCM, ChaCha20-Poly1305 and AES-CBC with SHA-1 or SHA-2 only)", c.suiteID)
		return false
	}
	c.suite, c.ready = info, true
	if c.version == 0x0304 {
		c.server.setTLS13(c.suite, c.secrets.serverHS)
		c.client.setTLS13(c.suite, c.secrets.clientHS)
	} else {
		c.setTLS12()
	}
	// Records passed over while the key log lacked the secrets: TLS 1.2's
	// sequence numbers go on after them; TLS 1.3's are searched for, as
	// after a hole, since some may have been the handshake's and some the
	// application's.
	data := 0
	for _, t := range []*tlsDir{c.client, c.server} {
		if t.skipped > 0 && c.version == 0x0303 {
			t.seq += uint64(t.skipped)
		} else if t.skipped > 0 {
			t.lost = true
		}
		data += t.skipData
	}
	if data > 0 {
		d.warnAt(s.bufN, ErrMalformed, "TLS stream %s -> %s: %d record(s) of application data came before the key log held the connection's secrets: not read", key.src, key.dst, data)
	}
	return true
}

// tlsWait passes over an encrypted record of s while its connection's
// secrets are not in the key log: a key log read from a file may get them
// (tlsMaxWait records of the connection at most); another never does.
func (d *Decoder) tlsWait(key streamKey, s *stream, typ byte) {
	t, c := s.tls, s.tls.conn
	c.addHS(s.parts) // the handshake's, in practice: an export needs them
	t.skipped++
	if typ == tlsApplicationData && c.version < 0x0304 {
		t.skipData++
	}
	if c.waited++; c.waited <= tlsMaxWait && d.opts.KeyLog.mayGrow() {
		return
	}
	d.tlsNoKeys(key, s)
}

// tlsNoKeys gives up on s's connection, whose secrets the key log lacks:
// counted when it has none, a warning when it has some of them.
func (d *Decoder) tlsNoKeys(key streamKey, s *stream) {
	c := s.tls.conn
	switch {
	case c.secrets.any() && c.version == 0x0304:
		d.tlsFail(key, s, "TLS 1.3, and the key log lacks some of its traffic secrets")
	case c.secrets.any():
		d.tlsFail(key, s, "TLS 1.2, and the key log has no CLIENT_RANDOM line for it")
	default:
		d.Stats.TLSNoKeys++
		c.done = true
		s.kind = kindOther
	}
}

// tlsEnd ends s, a TLS stream: a connection still waiting for its
// secrets has none in the key log.
func (d *Decoder) tlsEnd(key streamKey, s *stream) {
	if c := s.tls.conn; !c.ready && !c.done && c.waited > 0 {
		d.tlsNoKeys(key, s)
	}
}

// parseServerHello returns a ServerHello's negotiated version (its
// supported_versions extension's, else its legacy version), its suite,
// and whether it agreed to encrypt-then-MAC.
func parseServerHello(h []byte) (version, suite uint16, etm, ok bool) {
	if len(h) < 35 {
		return 0, 0, false, false
	}
	version = binary.BigEndian.Uint16(h[0:2])
	sid := int(h[34])
	p := h[35:]
	if len(p) < sid+3 {
		return 0, 0, false, false
	}
	suite = binary.BigEndian.Uint16(p[sid : sid+2])
	p = p[sid+3:] // past the suite and the compression method
	if len(p) < 2 {
		return version, suite, false, true // no extensions
	}
	ext := p[2:]
	if n := int(binary.BigEndian.Uint16(p[:2])); n < len(ext) {
		ext = ext[:n]
	}
	for len(ext) >= 4 {
		typ, n := binary.BigEndian.Uint16(ext[0:2]), int(binary.BigEndian.Uint16(ext[2:4]))
		if len(ext) < 4+n {
			return 0, 0, false, false
		}
		switch {
		case typ == 43 && n == 2: // supported_versions
			version = binary.BigEndian.Uint16(ext[4:6])
		case typ == 22: // encrypt_then_mac
			etm = true
		}
		ext = ext[4+n:]
	}
	return version, suite, etm, true
}

// setTLS12 derives both directions' keys of a TLS 1.2 connection from its
// master secret (RFC 5246 §6.3): the key block, with no MAC keys for an
// AEAD suite, the fixed IVs 4 bytes (GCM, RFC 5288 §3) or 12 (ChaCha20,
// RFC 7905 §2).
func (c *tlsConn) setTLS12() {
	seed := append(slices.Clone(c.serverRandom), c.clientRandom...)
	k := c.suite.keyLen
	if c.suite.cbc {
		// MAC keys, cipher keys, and IVs that TLS 1.2 does not use (each
		// record carries its own).
		m := c.suite.macLen
		kb := prf12(c.suite.hash, c.secrets.master, "key expansion", seed, 2*m+2*k)
		c.client.macKey, c.server.macKey = kb[:m], kb[m:2*m]
		c.client.block, _ = aes.NewCipher(kb[2*m : 2*m+k])
		c.server.block, _ = aes.NewCipher(kb[2*m+k : 2*m+2*k])
		return
	}
	ivLen := 4
	if c.suite.chacha {
		ivLen = 12
	}
	kb := prf12(c.suite.hash, c.secrets.master, "key expansion", seed, 2*c.suite.keyLen+2*ivLen)
	c.client.aead, c.server.aead = newAEAD(c.suite, kb[:k]), newAEAD(c.suite, kb[k:2*k])
	c.client.iv, c.server.iv = kb[2*k:2*k+ivLen], kb[2*k+ivLen:]
}

// setTLS13 sets t's key and IV from a TLS 1.3 traffic secret (RFC 8446
// §7.3), its sequence number back to 0.
func (t *tlsDir) setTLS13(s tlsSuite, secret []byte) {
	t.secret = secret
	t.aead = newAEAD(s, hkdfExpandLabel(s, secret, "key", s.keyLen))
	t.iv = hkdfExpandLabel(s, secret, "iv", 12)
	t.seq = 0
}

// tlsOpen decrypts record rec of direction t, and returns its plaintext
// (valid until the next) and, in TLS 1.3, its inner content type. After
// lost records it searches the next tlsSeqWindow sequence numbers. In
// TLS 1.3 a record that does not open with the current secret is tried
// with the next: the application secret after the handshake's, the next
// generation after a KeyUpdate (RFC 8446 §7.2).
func (d *Decoder) tlsOpen(t *tlsDir, rec []byte) ([]byte, byte, bool) {
	if p, typ, ok := t.openSearch(rec); ok {
		return p, typ, true
	}
	c := t.conn
	if c.version != 0x0304 {
		return nil, 0, false
	}
	aead, iv, secret, seq := t.aead, t.iv, t.secret, t.seq
	next := hkdfExpandLabel(c.suite, t.secret, "traffic upd", c.suite.hashLen)
	if t.epoch == 0 {
		next = c.secrets.serverApp
		if t == c.client {
			next = c.secrets.clientApp
		}
	}
	t.setTLS13(c.suite, next)
	if p, typ, ok := t.openSearch(rec); ok {
		t.epoch++
		return p, typ, true
	}
	t.aead, t.iv, t.secret, t.seq = aead, iv, secret, seq
	return nil, 0, false
}

// openSearch opens rec with the sequence number expected, or, after lost
// records, one of the tlsSeqWindow after it.
func (t *tlsDir) openSearch(rec []byte) ([]byte, byte, bool) {
	tries := 1
	if t.lost {
		tries = tlsSeqWindow(t.lostBytes, len(rec))
	}
	for i := range uint64(tries) {
		if p, typ, ok := t.open(rec, t.seq+i); ok {
			t.seq += i + 1
			t.lost, t.lostBytes, t.resyncs = false, 0, 0
			return p, typ, true
		}
	}
	return nil, 0, false
}

// tlsSeqWindow is how many sequence numbers are tried for a record of
// recLen bytes after lost bytes were lost: as many records as they could
// have held, and the two they cut, within tlsSeqSearch and the work
// tlsSearchWork allows.
func tlsSeqWindow(lost, recLen int) int {
	most := max(tlsSeqSearch, tlsSearchWork/max(recLen, 1))
	return min(max(lost/tlsMinRecord+2, tlsSeqSearch), most)
}

// open decrypts rec with sequence number seq.
func (t *tlsDir) open(rec []byte, seq uint64) ([]byte, byte, bool) {
	c := t.conn
	if c.suite.cbc {
		p, ok := t.openCBC(rec, seq)
		return p, 0, ok
	}
	body := rec[5:]
	var nonce [12]byte
	var aadBuf [13]byte
	var aad []byte
	switch {
	case c.version == 0x0304 || c.suite.chacha:
		copy(nonce[:], t.iv)
		for i := range 8 {
			nonce[4+i] ^= byte(seq >> (56 - 8*i))
		}
	default: // TLS 1.2 GCM: the record's explicit nonce after the fixed IV
		if len(body) < 8 {
			return nil, 0, false
		}
		copy(nonce[:4], t.iv)
		copy(nonce[4:], body[:8])
		body = body[8:]
	}
	if len(body) < t.aead.Overhead() {
		return nil, 0, false
	}
	if c.version == 0x0304 {
		aad = rec[:5]
	} else {
		binary.BigEndian.PutUint64(aadBuf[:8], seq)
		aadBuf[8], aadBuf[9], aadBuf[10] = rec[0], rec[1], rec[2]
		binary.BigEndian.PutUint16(aadBuf[11:], uint16(len(body)-t.aead.Overhead()))
		aad = aadBuf[:]
	}
	p, err := t.aead.Open(t.plain[:0], nonce[:], body, aad)
	if err != nil {
		return nil, 0, false
	}
	t.plain = p
	if c.version != 0x0304 {
		return p, 0, true
	}
	// TLSInnerPlaintext: the content, its type, zeros (RFC 8446 §5.2).
	i := len(p) - 1
	for i >= 0 && p[i] == 0 {
		i--
	}
	if i < 0 {
		return nil, 0, false
	}
	return p[:i], p[i], true
}

// tlsPlaintext frames a record's application data as the bytes of a TCP
// stream: SIP, or WebSocket frames after an upgrade.
func (d *Decoder) tlsPlaintext(key streamKey, s *stream, plain []byte, own int) {
	in := s.tls.inner
	if in.kind == kindOther {
		// Not SIP from its start: looked at again at each record, as a
		// TCP stream is at each segment.
		switch {
		case LooksLikeSIP(plain):
			in.kind = kindSIP
		case wsFrameCarriesSIP(plain):
			in.kind, in.ws = kindWS, &wsState{histBad: true}
		default:
			return
		}
		in.buf = in.buf[:0]
	}
	d.frameFrom(key, in, plain, own, s.parts)
}

// hkdfExpandLabel is HKDF-Expand-Label with an empty context (RFC 8446
// §7.1).
func hkdfExpandLabel(s tlsSuite, secret []byte, label string, n int) []byte {
	info := make([]byte, 0, 4+6+len(label))
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0)
	out, err := hkdf.Expand(s.hash, secret, string(info), n)
	if err != nil {
		panic(err) // n is at most 48: never
	}
	return out
}

// newAEAD makes a suite's AEAD; key is the suite's length.
func newAEAD(s tlsSuite, key []byte) cipher.AEAD {
	if s.chacha {
		a, err := chacha20poly1305.New(key)
		if err != nil {
			panic(err) // a key of the suite's length: never
		}
		return a
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return a
}

// prf12 is TLS 1.2's PRF, P_hash with the suite's hash (RFC 5246 §5).
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	ls := append([]byte(label), seed...)
	mac := hmac.New(h, secret)
	var out []byte
	a := ls
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = mac.Sum(out)
	}
	return out[:n]
}

// tlsParts is Message.Parts of a message that came in the packets own of
// the plaintext stream in: those and the handshake's records in the
// clear, both ways, so that an exported call holds what Wireshark needs
// to decrypt it (with the key log) as well as its own records.
func (d *Decoder) tlsParts(in *stream, own []int) []int {
	c := in.outer.conn
	c.parts = append(append(c.parts[:0], c.hs...), own...)
	slices.Sort(c.parts)
	return slices.Compact(c.parts)
}

// peer is the plaintext stream of the other direction of in's
// connection, or nil.
func (in *stream) peer() *stream {
	c := in.outer.conn
	switch {
	case in.outer == c.client && c.server != nil:
		return c.server.inner
	case in.outer == c.server:
		return c.client.inner
	}
	return nil
}

// openCBC decrypts and checks rec, of a CBC suite, with sequence number
// seq: the record's IV, then the content, its MAC and the padding
// encrypted (RFC 5246 §6.2.3.2), or the MAC over IV and ciphertext after
// them with encrypt-then-MAC (RFC 7366 §3).
func (t *tlsDir) openCBC(rec []byte, seq uint64) ([]byte, bool) {
	const bs = aes.BlockSize
	ml := t.conn.suite.macLen
	body := rec[5:]
	var tag []byte
	if t.conn.etm {
		if len(body) < ml {
			return nil, false
		}
		body, tag = body[:len(body)-ml], body[len(body)-ml:]
		if !bytes.Equal(tag, t.recordMAC(rec, seq, body)) {
			return nil, false
		}
	}
	if len(body) < 2*bs || len(body)%bs != 0 {
		return nil, false
	}
	iv, ct := body[:bs], body[bs:]
	p := append(t.plain[:0], ct...)
	cipher.NewCBCDecrypter(t.block, iv).CryptBlocks(p, p)
	t.plain = p
	pad := int(p[len(p)-1])
	if pad+1 > len(p) {
		return nil, false
	}
	for _, b := range p[len(p)-1-pad:] {
		if int(b) != pad {
			return nil, false
		}
	}
	p = p[:len(p)-1-pad]
	if t.conn.etm {
		return p, true
	}
	if len(p) < ml {
		return nil, false
	}
	p, tag = p[:len(p)-ml], p[len(p)-ml:]
	if !bytes.Equal(tag, t.recordMAC(rec, seq, p)) {
		return nil, false
	}
	return p, true
}

// recordMAC is the HMAC of a record's content (or, with encrypt-then-MAC,
// its IV and ciphertext) with its sequence number and header.
func (t *tlsDir) recordMAC(rec []byte, seq uint64, content []byte) []byte {
	var hdr [13]byte
	binary.BigEndian.PutUint64(hdr[:8], seq)
	hdr[8], hdr[9], hdr[10] = rec[0], rec[1], rec[2]
	binary.BigEndian.PutUint16(hdr[11:], uint16(len(content)))
	m := hmac.New(t.conn.suite.mac, t.macKey)
	m.Write(hdr[:])
	m.Write(content)
	return m.Sum(nil)
}
