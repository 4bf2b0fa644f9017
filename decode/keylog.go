package decode

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
)

// KeyLog holds the TLS secrets of an NSS key log file, the format
// Wireshark reads and that OpenSSL, BoringSSL, NSS, GnuTLS, Go's
// crypto/tls and Python's ssl write where SSLKEYLOGFILE says: one line a
// secret, "LABEL CLIENT_RANDOM SECRET" in hex, keyed by the ClientHello's
// random. A Decoder given one (Options.KeyLog) decrypts the TLS
// connections whose secrets it holds and reads the SIP (or SIP over
// WebSocket) inside.
type KeyLog struct {
	m map[[32]byte]*tlsSecrets
}

// tlsSecrets are one connection's secrets.
type tlsSecrets struct {
	master []byte // CLIENT_RANDOM: TLS 1.2 and before
	// TLS 1.3 traffic secrets (RFC 8446 §7.1): the handshake's, and the
	// first application ones (later ones follow by KeyUpdate).
	clientHS, serverHS, clientApp, serverApp []byte
}

// Len is the number of connections whose secrets the key log holds.
func (k *KeyLog) Len() int { return len(k.m) }

func (k *KeyLog) lookup(random []byte) *tlsSecrets {
	if k == nil || len(random) != 32 {
		return nil
	}
	return k.m[[32]byte(random)]
}

// ParseKeyLog reads a key log. name is the file's name, for errors: a line
// that is not "LABEL HEX HEX" fails with its line number; labels sipflow
// has no use for (EXPORTER_SECRET, EARLY_EXPORTER_SECRET,
// CLIENT_EARLY_TRAFFIC_SECRET, RSA) and comments (#) are skipped.
func ParseKeyLog(r io.Reader, name string) (*KeyLog, error) {
	k := &KeyLog{m: make(map[[32]byte]*tlsSecrets)}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		f := bytes.Fields(b)
		if len(f) != 3 {
			return nil, fmt.Errorf("%s:%d: not a key log line (LABEL CLIENT_RANDOM SECRET): %q", name, line, snippet(b))
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
			return nil, fmt.Errorf("%s:%d: %s: the client random is not 32 bytes of hex: %q", name, line, f[0], snippet(f[1]))
		}
		secret, err := hex.DecodeString(string(f[2]))
		if err != nil || len(secret) == 0 || len(secret) > 64 {
			return nil, fmt.Errorf("%s:%d: %s: the secret is not hex of 1 to 64 bytes: %q", name, line, f[0], snippet(f[2]))
		}
		s := k.m[[32]byte(random)]
		if s == nil {
			s = &tlsSecrets{}
			k.m[[32]byte(random)] = s
		}
		*dst(s) = secret
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return k, nil
}
