package decode

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
// make it. A file emptied or replaced (another program starting a new log
// where the old one was) is read again from its start; the secrets read
// before are kept. A pipe or a FIFO is read once. Its methods may be
// called from several goroutines.
type KeyLog struct {
	mu    sync.Mutex
	m     map[[32]byte]*tlsSecrets
	path  string      // the file, when read from one
	file  os.FileInfo // the file read, to know another put in its place
	read  int64       // bytes of it read
	lines int         // lines of it read
	sum   [32]byte    // the SHA-256 of what ReadKeyLogFile read
}

// tlsSecrets are one connection's secrets. parse replaces a field's
// slice, never its bytes: a copy stays as it was.
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

// lookup returns a copy of the secrets of the connection whose
// ClientHello had random: first those read, then those added to the file
// since. A copy: lines read later for the connection (TLS 1.3's secrets
// are four lines, logged as the handshake goes) change the KeyLog's, while
// another goroutine's Decoder reads its own.
func (k *KeyLog) lookup(random []byte) (tlsSecrets, bool) {
	if k == nil || len(random) != 32 {
		return tlsSecrets{}, false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.path != "" {
		if fi, err := os.Stat(k.path); err == nil && (!os.SameFile(fi, k.file) || fi.Size() != k.read) {
			k.readMore(false)
		}
	}
	if s := k.m[[32]byte(random)]; s != nil {
		return *s, true
	}
	return tlsSecrets{}, false
}

// mayGrow reports whether the key log may get secrets it lacks now: it
// was read from a file.
func (k *KeyLog) mayGrow() bool { return k != nil && k.path != "" }

// Sum is the SHA-256 of the bytes ReadKeyLogFile read: what tells two
// key logs apart (an archive's import records it).
func (k *KeyLog) Sum() [32]byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sum
}

// WatchKeyLogFile is ReadKeyLogFile for a file the programs that log
// their secrets may not have made yet (they make it at their first
// connection): while it does not exist, the key log is empty, and it is
// read once it does.
func WatchKeyLogFile(name string) (*KeyLog, error) {
	if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) {
		return &KeyLog{m: make(map[[32]byte]*tlsSecrets), path: name}, nil
	}
	return ReadKeyLogFile(name)
}

// ReadKeyLogFile reads the key log in file name.
func ReadKeyLogFile(name string) (*KeyLog, error) {
	k := &KeyLog{m: make(map[[32]byte]*tlsSecrets), path: name}
	if err := k.readMore(true); err != nil {
		return nil, err
	}
	return k, nil
}

// readMore reads the file's whole lines past those read: from its start
// if it is another file than the one read, or shorter than what was read
// of it (emptied, and written again). Unless strict, a line that is no
// key log line is skipped: the file was read whole once, and another
// program is writing to it. A last line without its newline is being
// written: it is read again once whole, and, when strict (the file as the
// user gave it, which may well end so), its secrets are taken meanwhile.
func (k *KeyLog) readMore(strict bool) error {
	f, err := os.Open(k.path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", k.path, err)
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		// A pipe or a FIFO: read once, as it comes; opened again, it
		// would be empty, or wait for another writer.
		b, err := io.ReadAll(f)
		if err != nil {
			return fmt.Errorf("%s: %w", k.path, err)
		}
		if strict {
			k.sum = sha256.Sum256(b)
		}
		name := k.path
		k.path = "" // nothing more to read: mayGrow says so
		return k.parse(b, name, 0, strict)
	}
	if k.file != nil && (!os.SameFile(fi, k.file) || fi.Size() < k.read) {
		k.read, k.lines = 0, 0
	}
	k.file = fi
	b, err := io.ReadAll(io.NewSectionReader(f, k.read, 1<<62))
	if err != nil {
		return fmt.Errorf("%s: %w", k.path, err)
	}
	if strict {
		k.sum = sha256.Sum256(b)
	}
	whole, partial := b, []byte(nil)
	if i := bytes.LastIndexByte(b, '\n'); i+1 < len(b) {
		whole, partial = b[:i+1], b[i+1:]
	}
	if err := k.parse(whole, k.path, k.lines, strict); err != nil {
		return err
	}
	if strict && len(partial) > 0 {
		if err := k.parse(partial, k.path, k.lines+bytes.Count(whole, []byte{'\n'}), true); err != nil {
			return err
		}
	}
	k.read += int64(len(whole))
	k.lines += bytes.Count(whole, []byte{'\n'})
	return nil
}

// ParseKeyLog reads a key log. name is the file's name, for errors: a line
// that is not "LABEL HEX HEX" fails with its line number; labels sipflow
// has no use for (EXPORTER_SECRET, EARLY_EXPORTER_SECRET,
// CLIENT_EARLY_TRAFFIC_SECRET, RSA) and comments (#) are skipped.
func ParseKeyLog(r io.Reader, name string) (*KeyLog, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	k := &KeyLog{m: make(map[[32]byte]*tlsSecrets)}
	if err := k.parse(b, name, 0, true); err != nil {
		return nil, err
	}
	return k, nil
}

// parse adds the secrets of the lines in b, whose first line is line+1
// of the file; unless strict, it skips a line it cannot read.
func (k *KeyLog) parse(b []byte, name string, line int, strict bool) error {
	for len(b) > 0 {
		line++
		l := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		f := bytes.Fields(l)
		if len(f) != 3 {
			if strict {
				return fmt.Errorf("%s:%d: not a key log line (LABEL CLIENT_RANDOM SECRET): %q", name, line, snippet(l))
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
	return nil
}
