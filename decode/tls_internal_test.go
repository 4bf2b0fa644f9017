package decode

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
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
	a, b := k.lookup(bytes.Repeat([]byte{0xab}, 32)), k.lookup(bytes.Repeat([]byte{0xcd}, 32))
	if a == nil || len(a.master) != 48 || b == nil || len(b.serverHS) != 32 || len(b.clientApp) != 48 || b.master != nil || b.clientHS != nil {
		t.Errorf("secrets %+v, %+v", a, b)
	}
	if k.lookup(bytes.Repeat([]byte{0xef}, 32)) != nil || (*KeyLog)(nil).lookup(bytes.Repeat([]byte{0xab}, 32)) != nil {
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
	line := func(b byte) string {
		return "CLIENT_RANDOM " + strings.Repeat(fmt.Sprintf("%02x", b), 32) + " " + strings.Repeat("01", 48) + "\n"
	}
	random := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	if err := os.WriteFile(path, []byte(line(1)), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := ReadKeyLogFile(path)
	if err != nil || k.lookup(random(1)) == nil || k.lookup(random(2)) != nil {
		t.Fatalf("read %v", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l2 := line(2)
	f.WriteString(l2[:40]) // half written
	if k.lookup(random(2)) != nil {
		t.Error("a line half written was read")
	}
	f.WriteString(l2[40:] + "CLIENT_RANDOM zz 00\n" + line(3))
	if k.lookup(random(2)) == nil || k.lookup(random(3)) == nil || k.Len() != 3 {
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
