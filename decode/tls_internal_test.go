package decode

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cbcRecord seals content as a TLS 1.2 application data record of a CBC
// suite, MAC-then-encrypt or encrypt-then-MAC (RFC 7366), as a sender
// with t's keys would.
func cbcRecord(t *tlsDir, seq uint64, content []byte, etm bool) []byte {
	s := t.conn.suite
	hdr := []byte{tlsApplicationData, 3, 3, 0, 0}
	mac := func(b []byte) []byte {
		var h [13]byte
		binary.BigEndian.PutUint64(h[:8], seq)
		copy(h[8:11], hdr[:3])
		binary.BigEndian.PutUint16(h[11:], uint16(len(b)))
		m := hmac.New(s.mac, t.macKey)
		m.Write(h[:])
		m.Write(b)
		return m.Sum(nil)
	}
	p := bytes.Clone(content)
	if !etm {
		p = append(p, mac(content)...)
	}
	pad := aes.BlockSize - len(p)%aes.BlockSize
	p = append(p, bytes.Repeat([]byte{byte(pad - 1)}, pad)...)
	iv := bytes.Repeat([]byte{0x42}, aes.BlockSize)
	cipher.NewCBCEncrypter(t.block, iv).CryptBlocks(p, p)
	body := append(iv, p...)
	if etm {
		body = append(body, mac(body)...)
	}
	binary.BigEndian.PutUint16(hdr[3:], uint16(len(body)))
	return append(hdr, body...)
}

// TestOpenCBC: a CBC record opens with its sequence number and keys,
// MAC-then-encrypt and encrypt-then-MAC, and not with another sequence
// number, a byte changed, or the other way of MACing.
func TestOpenCBC(t *testing.T) {
	for _, suite := range []tlsSuite{cbc128SHA, cbc256SHA256, cbc256SHA384} {
		for _, etm := range []bool{false, true} {
			c := &tlsConn{suite: suite, version: 0x0303, etm: etm}
			d := &tlsDir{conn: c, macKey: bytes.Repeat([]byte{7}, suite.macLen)}
			d.block, _ = aes.NewCipher(bytes.Repeat([]byte{9}, suite.keyLen))
			msg := []byte("OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n")
			for _, n := range []int{0, 1, 15, 16, 17, len(msg)} {
				rec := cbcRecord(d, 5, msg[:n], etm)
				if p, ok := d.openCBC(rec, 5); !ok || !bytes.Equal(p, msg[:n]) {
					t.Errorf("mac %d etm %v: %d bytes: opened %v, %q", suite.macLen, etm, n, ok, p)
				}
				if _, ok := d.openCBC(rec, 6); ok {
					t.Errorf("mac %d etm %v: %d bytes: opened with the wrong sequence number", suite.macLen, etm, n)
				}
				bad := bytes.Clone(rec)
				bad[len(bad)-20] ^= 1
				if _, ok := d.openCBC(bad, 5); ok {
					t.Errorf("mac %d etm %v: %d bytes: opened with a byte changed", suite.macLen, etm, n)
				}
				c.etm = !etm
				if _, ok := d.openCBC(rec, 5); ok {
					t.Errorf("mac %d etm %v: %d bytes: opened as the other way of MACing", suite.macLen, etm, n)
				}
				c.etm = etm
			}
		}
	}
}

// TestParseKeyLog: the labels sipflow uses are kept by client random,
// others and comments skipped; a broken line fails with its number.
func TestParseKeyLog(t *testing.T) {
	r32, r32b := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	good := "# TLS secrets log file\n" +
		"CLIENT_RANDOM " + r32 + " " + strings.Repeat("01", 48) + "\n" +
		"EXPORTER_SECRET " + r32b + " " + strings.Repeat("02", 32) + "\n" +
		"\n" +
		"SERVER_HANDSHAKE_TRAFFIC_SECRET " + r32b + " " + strings.Repeat("03", 32) + "\r\n" +
		"CLIENT_TRAFFIC_SECRET_0 " + r32b + " " + strings.Repeat("04", 48) + "\n"
	k, err := ParseKeyLog(strings.NewReader(good), "keys")
	if err != nil || k.Len() != 2 {
		t.Fatalf("%d connections, %v", k.Len(), err)
	}
	a, aok := k.lookup(bytes.Repeat([]byte{0xab}, 32))
	b, bok := k.lookup(bytes.Repeat([]byte{0xcd}, 32))
	if !aok || len(a.master) != 48 || !bok || len(b.serverHS) != 32 || len(b.clientApp) != 48 || b.master != nil || b.clientHS != nil {
		t.Errorf("secrets %+v, %+v", a, b)
	}
	if has(k, 0xef) || has(nil, 0xab) {
		t.Error("a random not in the log found secrets")
	}
	for _, tt := range []struct{ text, want string }{
		{"CLIENT_RANDOM " + r32 + "\n", "keys:1: not a key log line"},
		{"\nCLIENT_RANDOM abcd " + strings.Repeat("01", 48) + "\n", "keys:2: CLIENT_RANDOM: the client random is not 32 bytes"},
		{"CLIENT_RANDOM " + r32 + " 0x01\n", "keys:1: CLIENT_RANDOM: the secret is not hex"},
		{"CLIENT_RANDOM " + r32 + " " + strings.Repeat("01", 65) + "\n", "keys:1: CLIENT_RANDOM: the secret is not hex of 1 to 64 bytes"},
	} {
		if _, err := ParseKeyLog(strings.NewReader(tt.text), "keys"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.text, err, tt.want)
		}
	}
}

// FuzzParseKeyLog: no input makes the key log parser panic.
func FuzzParseKeyLog(f *testing.F) {
	f.Add("CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("01", 48) + "\n")
	f.Add("# comment\nSERVER_TRAFFIC_SECRET_0 " + strings.Repeat("ab", 32) + " " + strings.Repeat("01", 32) + "\n")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKeyLog(strings.NewReader(s), "keys")
		if err == nil && k == nil {
			t.Fatal("no key log and no error")
		}
	})
}

// TestKeyLogFileGrows: a key log read from a file reads what another
// program added to it when asked for a connection it lacks: whole lines
// only, a broken one skipped once the file was read whole.
func TestKeyLogFileGrows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(path, []byte(keyLine(1)), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := ReadKeyLogFile(path)
	if err != nil || !has(k, 1) || has(k, 2) {
		t.Fatalf("read %v", err)
	}
	if first, _ := os.ReadFile(path); k.Sum() != sha256.Sum256(first) {
		t.Error("Sum is not the SHA-256 of the file as read")
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l2 := keyLine(2)
	f.WriteString(l2[:40]) // half written
	if has(k, 2) {
		t.Error("a line half written was read")
	}
	f.WriteString(l2[40:] + "CLIENT_RANDOM zz 00\n" + keyLine(3))
	if !has(k, 2) || !has(k, 3) || k.Len() != 3 {
		t.Errorf("lines added: %d connections", k.Len())
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("CLIENT_RANDOM zz 00\n"), 0o600)
	if _, err := ReadKeyLogFile(path); err == nil || !strings.Contains(err.Error(), path+":1:") {
		t.Errorf("a broken first read: %v", err)
	}
}

// has reports whether k holds secrets for the client random of 32 bytes b.
func has(k *KeyLog, b byte) bool {
	_, ok := k.lookup(bytes.Repeat([]byte{b}, 32))
	return ok
}

// keyLine is a CLIENT_RANDOM line of the client random of 32 bytes b.
func keyLine(b byte) string {
	return "CLIENT_RANDOM " + strings.Repeat(fmt.Sprintf("%02x", b), 32) + " " + strings.Repeat("01", 48) + "\n"
}

// TestKeyLogFileReplaced: a key log emptied and written again, or another
// file put in its place (a program starting a new log), is read again
// from its start, the secrets read before kept; a last line without its
// newline is read at the start (a file ended so by hand) and once whole
// later (a line being written), and a line too long for any key log
// stops no later one.
func TestKeyLogFileReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys")
	if err := os.WriteFile(path, []byte(keyLine(1)+keyLine(2)+strings.TrimSuffix(keyLine(3), "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := ReadKeyLogFile(path)
	if err != nil || !has(k, 1) || !has(k, 2) || !has(k, 3) {
		t.Fatalf("read: %v; the last line without its newline read: %v", err, has(k, 3))
	}
	// Emptied, and a shorter log written: read from its start.
	if err := os.WriteFile(path, []byte(keyLine(4)), 0o600); err != nil {
		t.Fatal(err)
	}
	if !has(k, 4) || !has(k, 1) {
		t.Errorf("a log emptied and written again: 4 read %v, 1 kept %v", has(k, 4), has(k, 1))
	}
	// Another file put in its place, longer than what was read.
	other := filepath.Join(dir, "new")
	if err := os.WriteFile(other, []byte(keyLine(5)+keyLine(6)+keyLine(7)+keyLine(8)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	if !has(k, 5) || !has(k, 8) {
		t.Errorf("another file in its place: 5 read %v, 8 read %v", has(k, 5), has(k, 8))
	}
	// A line longer than any key log's, then a good one: both read past.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(strings.Repeat("x", 100<<10) + "\n" + strings.TrimSuffix(keyLine(9), "\n"))
	if has(k, 9) {
		t.Error("a line being written, its newline not yet there, was read")
	}
	f.WriteString("\n")
	if !has(k, 9) {
		t.Error("a line after one of 100 kB not read")
	}
}

// TestKeyLogCopies: the secrets a lookup returns stay as they were while
// the key log reads more lines of their connection, as TLS 1.3's are
// logged one by one (go test -race saw the Decoder read what the file's
// next read wrote).
func TestKeyLogCopies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	r := strings.Repeat("01", 32)
	if err := os.WriteFile(path, []byte("CLIENT_HANDSHAKE_TRAFFIC_SECRET "+r+" "+strings.Repeat("aa", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := ReadKeyLogFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := k.lookup(bytes.Repeat([]byte{1}, 32))
	done := make(chan bool)
	go func() {
		f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		fmt.Fprintf(f, "CLIENT_TRAFFIC_SECRET_0 %s %s\n", r, strings.Repeat("bb", 32))
		f.Close()
		has(k, 2) // reads the line above
		done <- true
	}()
	got := s.clientApp
	<-done
	if got != nil || s.clientApp != nil {
		t.Errorf("a copy changed: %x", s.clientApp)
	}
	if s2, _ := k.lookup(bytes.Repeat([]byte{1}, 32)); len(s2.clientApp) != 32 {
		t.Errorf("the line added not read: %+v", s2)
	}
}

// seal13 seals content of type typ as a TLS 1.3 record of t's current
// keys with sequence number seq (RFC 8446 §5.2).
func seal13(t *tlsDir, seq uint64, typ byte, content []byte) []byte {
	inner := append(bytes.Clone(content), typ)
	hdr := []byte{tlsApplicationData, 3, 3, 0, 0}
	binary.BigEndian.PutUint16(hdr[3:], uint16(len(inner)+t.aead.Overhead()))
	var nonce [12]byte
	copy(nonce[:], t.iv)
	for i := range 8 {
		nonce[4+i] ^= byte(seq >> (56 - 8*i))
	}
	return t.aead.Seal(hdr, nonce[:], inner, hdr)
}

// TestTLS13KeyUpdate: a direction's records under its first application
// secret, a KeyUpdate, then records under the next secret (RFC 8446
// §7.2: HKDF-Expand-Label(secret, "traffic upd", "", Hash.length), made
// here from the RFC's words, not with hkdfExpandLabel) open one after the
// other; so they do when the KeyUpdate and the next record were lost to a
// hole; a record of the secret two updates after the last does not open.
func TestTLS13KeyUpdate(t *testing.T) {
	for _, suite := range []tlsSuite{aes128SHA256, aes256SHA384, chachaSHA256} {
		app0 := bytes.Repeat([]byte{0x42}, suite.hashLen)
		// The next generation's secret, as RFC 8446 §7.1 and §7.2 say.
		label := "tls13 traffic upd"
		info := append([]byte{byte(suite.hashLen >> 8), byte(suite.hashLen), byte(len(label))}, label...)
		info = append(info, 0)
		app1, err := hkdf.Expand(suite.hash, app0, string(info), suite.hashLen)
		if err != nil {
			t.Fatal(err)
		}
		app2, _ := hkdf.Expand(suite.hash, app1, string(info), suite.hashLen)
		app3, _ := hkdf.Expand(suite.hash, app2, string(info), suite.hashLen)
		sender := &tlsDir{}
		var recs [][]byte
		for i, secret := range [][]byte{app0, app0, app0, app1, app1, app1} {
			if i == 0 || i == 3 {
				sender.setTLS13(suite, secret)
			}
			typ, content := byte(tlsApplicationData), []byte(fmt.Sprintf("record %d", i))
			if i == 2 {
				typ, content = tlsHandshake, []byte{24, 0, 0, 1, 0} // KeyUpdate, update_not_requested
			}
			recs = append(recs, seal13(sender, sender.seq, typ, content))
			sender.seq++
		}
		sender.setTLS13(suite, app3)
		skipped := seal13(sender, 0, tlsApplicationData, []byte("two updates on"))
		for _, lost := range []bool{false, true} {
			c := &tlsConn{version: 0x0304, suite: suite, ready: true, secrets: tlsSecrets{serverApp: app0}}
			r := &tlsDir{conn: c, epoch: 1}
			c.server = r
			r.setTLS13(suite, app0)
			d := &Decoder{}
			for i, rec := range recs {
				if lost && (i == 2 || i == 3) {
					r.lost, r.lostBytes = true, len(recs[2])+len(recs[3])
					continue
				}
				p, typ, ok := d.tlsOpen(r, rec)
				want := fmt.Sprintf("record %d", i)
				if i == 2 {
					want = "\x18\x00\x00\x01\x00"
				}
				if !ok || string(p) != want || (i == 2) != (typ == tlsHandshake) {
					t.Errorf("hash %d, lost %v: record %d: opened %v, %q type %d", suite.hashLen, lost, i, ok, p, typ)
				}
			}
			if r.epoch != 2 {
				t.Errorf("hash %d, lost %v: epoch %d, want 2", suite.hashLen, lost, r.epoch)
			}
			if _, _, ok := d.tlsOpen(r, skipped); ok {
				t.Errorf("hash %d, lost %v: a record two updates on opened", suite.hashLen, lost)
			}
		}
	}
}
