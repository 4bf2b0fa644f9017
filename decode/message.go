package decode

import (
	"net/netip"
	"time"
)

// Transport is the protocol a SIP message travelled over.
type Transport uint8

// Transports.
const (
	TransportUnknown Transport = iota
	UDP
	TCP
	WS  // WebSocket (RFC 7118) on TCP
	TLS // TLS on TCP, decrypted with a key log
	WSS // WebSocket on TLS, decrypted with a key log
)

func (t Transport) String() string {
	switch t {
	case UDP:
		return "udp"
	case TCP:
		return "tcp"
	case WS:
		return "ws"
	case TLS:
		return "tls"
	case WSS:
		return "wss"
	}
	return "unknown"
}

// ParseTransport is the Transport whose String is s; TransportUnknown for
// any other s.
func ParseTransport(s string) Transport {
	for t := UDP; t <= WSS; t++ {
		if t.String() == s {
			return t
		}
	}
	return TransportUnknown
}

// NameAddr is a From, To, Contact, Refer-To or Referred-By value
// (RFC 3261 §20.10, §25.1 name-addr / addr-spec). All fields are views.
type NameAddr struct {
	Display []byte // display name without quotes, nil when absent
	URI     []byte // the URI without angle brackets
	Tag     []byte // the tag parameter, nil when absent
}

// Via is one Via header value (RFC 3261 §20.42). All fields are views.
type Via struct {
	Transport []byte // e.g. "UDP", from "SIP/2.0/UDP"
	SentBy    []byte // host[:port] as written
	Host      []byte
	Port      int    // 0 when absent
	Branch    []byte // nil when absent
	Received  []byte // nil when absent
	RPort     []byte // value of rport, empty when present without value, nil when absent
	HasRPort  bool
}

// Header is one header value as it appears in the message; a header whose
// grammar is a comma-separated list (Via, Contact, Route, Allow, ...) gives
// one Header per value. Name is the canonical long form in lower case for
// known headers (compact forms expanded, e.g. "i" becomes "call-id"; these
// names are shared and must not be written to), and the name as written for
// unknown ones. Value has surrounding white space trimmed; a folded value
// (RFC 3261 §7.3.1) keeps its CRLF and leading white space, since it is a
// view of the message, not a copy.
type Header struct {
	Name  []byte
	Value []byte
}

// Message is one SIP message (RFC 3261 §7) and where it was seen.
//
// Every []byte field is a view into the packet or reassembly buffer that
// held the message: it is valid only until the Decoder is called again.
// Call Clone to keep a message.
type Message struct {
	// Where and when: set by the Decoder, not by ParseSIP.
	N         int // packet number that completed the message (1-based)
	Time      time.Time
	Src, Dst  netip.AddrPort
	Transport Transport
	// noRare is set by a parse that met none of the rare headers (the
	// group at the end): their fields are all empty, so the next parse
	// need not clear them, nor a reader look at them (HasRareHeaders),
	// and their memory is left alone (a batch of Messages parsed on one
	// core and read on another moves fewer cache lines). False, the zero
	// value, promises nothing.
	noRare bool
	// IPID is the IPv4 Identification (RFC 791 §3.1) of the datagram that
	// carried the message over UDP: a copy of the packet (captured on two
	// interfaces, or mirrored twice) shares it, another send of the same
	// message, a retransmission, most often does not. 0 over IPv6, TCP
	// and HEP, and when the sender leaves it 0 (Linux does, for UDP with
	// Don't Fragment set).
	IPID  uint16
	Encap string // outermost tunnel or encapsulation unwrapped ("", "hep", "gre", "vxlan", "gtp", "ipip", ...)
	// Parts are the numbers of every packet the message was rebuilt from
	// (IP fragments, TCP segments), in capture order, N among them; nil
	// when it came whole in packet N. Over WebSocket they include the
	// packets of the HTTP upgrade that opened the stream, both ways, when
	// they were captured: a reader (Wireshark) needs them to know the
	// stream carries SIP. Valid until the next Decode.
	Parts []int

	Raw []byte // the whole message, start line through body

	// Start line. Method is nil for a response; StatusCode is 0 for a request.
	Method     []byte
	RequestURI []byte
	StatusCode int
	Reason     []byte

	CallID        []byte
	From, To      NameAddr
	CSeq          uint32
	CSeqMethod    []byte
	Via           []Via // every Via value, top first
	ContentType   []byte
	ContentLength int // -1 when the header is absent
	MaxForwards   int // -1 when the header is absent, and after a lean parse (Options.Lean)

	// Headers is every header, in order, multi-value headers split; after
	// a lean parse (Options.Lean) only those that have no field above or
	// below.
	Headers []Header
	Body    []byte
	SDP     []byte // the SDP body, or the application/sdp part of a multipart body; nil if none

	// Headers that many messages lack. (They come last so that a parse
	// into a Message whose last parse set none of them need not clear
	// them: see noRare.)
	Contact            NameAddr
	UserAgent          []byte
	Server             []byte
	ReasonHeader       []byte // the Reason header (RFC 3326), not the status reason
	Authorization      []byte
	ProxyAuthorization []byte
	WWWAuthenticate    []byte
	ProxyAuthenticate  []byte
	ReferTo            NameAddr
	ReferredBy         NameAddr
	Replaces           []byte // the first Replaces header
	ReplacesMore       bool   // another Replaces header followed it (RFC 3891 §3 refuses such an INVITE, 400)
	RSeq               uint32
	RAck               []byte
	SessionExpires     []byte
	Event              []byte   // the Event header (RFC 6665 §8.2.1), nil when absent
	Expires            []byte   // the Expires header as written, nil when absent
	Diversion          [][]byte // every Diversion value, in order
	HistoryInfo        [][]byte // every History-Info value, in order
}

// HasRareHeaders reports whether m may have one of the less common headers
// whose fields come last in Message (Contact through HistoryInfo). When it
// is false they are all empty: a reader after them can skip them. It is
// kept by ParseSIP and CopyTo; a Message filled by hand reports true, and a
// rare field written by hand after a parse is not noticed.
func (m *Message) HasRareHeaders() bool { return !m.noRare }

// IsRequest reports whether m is a request.
func (m *Message) IsRequest() bool { return m.StatusCode == 0 }

// HeadersCut reports whether no empty line ended m's headers, as when a
// capture's snap length cuts a message inside them: what came after the
// cut (the rest of the headers, a body) is unknown. (A message has a body
// only after its empty line, and Raw ends with that line when it has none.)
func (m *Message) HeadersCut() bool {
	if m.Body != nil {
		return false
	}
	r := m.Raw
	n := len(r)
	switch {
	case n >= 2 && r[n-1] == '\n' && r[n-2] == '\n', n >= 2 && r[n-1] == '\r' && r[n-2] == '\n':
		return false // LF LF, or CR LF CR: blankLine takes a CR that ends the message
	case n >= 3 && r[n-1] == '\n' && r[n-2] == '\r' && r[n-3] == '\n':
		return false
	}
	return true
}
