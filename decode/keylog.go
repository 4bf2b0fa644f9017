package decode

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
)

// KeyLog holds the TLS secrets of an NSS key log file, the format
// Wireshark reads and that OpenSSL, BoringSSL, NSS, GnuTLS, Go's
// crypto/tls and Python's ssl write where SSLKEYLOGFILE says: one line a
// secret, "LABEL CLIENT_RANDOM SECRET" in hex, keyed by the ClientHello's
// random. A Decoder given one (Options.KeyLog) decrypts the TLS
// connections whose secrets it holds and reads the SIP (or SIP over
// WebSocket) inside.
//
// A KeyLog read from a file with ReadKeyLogFile reads what was added to
// the file since when it is asked for a connection it has no secrets for:
// a live capture's programs log each new connection's secrets as they
// make it. Its methods may be called from several goroutines.
type KeyLog struct {
	mu    sync.Mutex
	m     map[[32]byte]*tlsSecrets
	path  string // the file, when read from one
	read  int64  // bytes of it read
	lines int    // lines of it read
}

// tlsSecrets are one connection's secrets.
type tlsSecrets struct {
	master []byte // CLIENT_RANDOM: TLS 1.2 and before
	// TLS 1.3 traffic secrets (RFC 8446 §7.1): the handshake's, and the
	// first application ones (later ones follow by KeyUpdate).
	clientHS, serverHS, clientApp, serverApp []byte
}

// Len is the number of connections whose secrets the key log holds.
func (k *KeyLog) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

// lookup returns the secrets of the connection whose ClientHello had
// random, or nil: first those read, then those added to the file since.
func (k *KeyLog) lookup(random []byte) *tlsSecrets {
	if k == nil || len(random) != 32 {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if s := k.m[[32]byte(random)]; s != nil || k.path == "" {
		return s
	}
	if fi, err := os.Stat(k.path); err != nil || fi.Size() <= k.read {
		return nil
	}
	k.readMore(false)
	return k.m[[32]byte(random)]
}

// ReadKeyLogFile reads the key log in file name.
func ReadKeyLogFile(name string) (*KeyLog, error) {
	k := &KeyLog{m: make(map[[32]byte]*tlsSecrets), path: name}
	if err := k.readMore(true); err != nil {
		return nil, err
	}
	return k, nil
}

// readMore reads the file's whole lines past those read. Unless strict,
// a line that is no key log line is skipped: the file was read whole
// once, and another program is writing to it.
func (k *KeyLog) readMore(strict bool) error {
	f, err := os.Open(k.path)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, k.read, 1<<40))
	if err != nil {
		return fmt.Errorf("%s: %w", k.path, err)
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		b = nil // a line still being written
	}
	if err := k.parse(bytes.NewReader(b), k.path, k.lines, strict); err != nil {
		return err
	}
	k.read += int64(len(b))
	k.lines += bytes.Count(b, []byte{'\n'})
	return nil
}

// ParseKeyLog reads a key log. name is the file's name, for errors: a line
// that is not "LABEL HEX HEX" fails with its line number; labels sipflow
// has no use for (EXPORTER_SECRET, EARLY_EXPORTER_SECRET,
// CLIENT_EARLY_TRAFFIC_SECRET, RSA) and comments (#) are skipped.
func ParseKeyLog(r io.Reader, name string) (*KeyLog, error) {
	k := &KeyLog{m: make(map[[32]byte]*tlsSecrets)}
	if err := k.parse(r, name, 0, true); err != nil {
		return nil, err
	}
	return k, nil
}

// parse adds the secrets of r, whose first line is line+1 of the file;
// unless strict, it skips a line it cannot read.
func (k *KeyLog) parse(r io.Reader, name string, line int, strict bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for line++; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		f := bytes.Fields(b)
		if len(f) != 3 {
			if strict {
				return fmt.Errorf("%s:%d: not a key log line (LABEL CLIENT_RANDOM SECRET): %q", name, line, snippet(b))
			}
			continue
		}
		var dst func(*tlsSecrets) *[]byte
		switch string(f[0]) {
		case "CLIENT_RANDOM":
			dst = func(s *tlsSecrets) *[]byte { return &s.master }
		case "CLIENT_HANDSHAKE_TRAFFIC_SECRET":
			dst = func(s *tlsSecrets) *[]byte { return &s.clientHS }
		case "SERVER_HANDSHAKE_TRAFFIC_SECRET":
			dst = func(s *tlsSecrets) *[]byte { return &s.serverHS }
		case "CLIENT_TRAFFIC_SECRET_0":
			dst = func(s *tlsSecrets) *[]byte { return &s.clientApp }
		case "SERVER_TRAFFIC_SECRET_0":
			dst = func(s *tlsSecrets) *[]byte { return &s.serverApp }
		default:
			continue
		}
		random, err := hex.DecodeString(string(f[1]))
		if err != nil || len(random) != 32 {
			if strict {
				return fmt.Errorf("%s:%d: %s: the client random is not 32 bytes of hex: %q", name, line, f[0], snippet(f[1]))
			}
			continue
		}
		secret, err := hex.DecodeString(string(f[2]))
		if err != nil || len(secret) == 0 || len(secret) > 64 {
			if strict {
				return fmt.Errorf("%s:%d: %s: the secret is not hex of 1 to 64 bytes: %q", name, line, f[0], snippet(f[2]))
			}
			continue
		}
		s := k.m[[32]byte(random)]
		if s == nil {
			s = &tlsSecrets{}
			k.m[[32]byte(random)] = s
		}
		*dst(s) = secret
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
