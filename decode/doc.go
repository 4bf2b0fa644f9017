// Package decode turns captured frames into SIP messages and UDP datagrams.
//
// A Decoder walks each frame from the link layer down: Ethernet (with 802.1Q
// and QinQ tags, MPLS), Linux cooked v1/v2, BSD loopback and raw IP; IPv4 and
// IPv6 (extension headers skipped, fragments reassembled); tunnels (IP-in-IP,
// GRE with ERSPAN II/III and PPP, VXLAN, GTP-U) and HEP v1-v3; then UDP, and
// TCP with stream reassembly and SIP framed by Content-Length (RFC 3261
// §18.3) or carried in WebSocket messages (RFC 7118: masked, fragmented or
// permessage-deflate compressed). SIP is recognised by content on any port.
//
// The parsers (ParseSIP, ParseSDP, ParseRTP, ParseRTCP, ParseHEP) work on
// byte-slice views and allocate nothing in steady state: every []byte they
// return points into the input and is valid only until the next call. A
// Decoder belongs to one goroutine; run one per goroutine.
//
// Nothing here panics on bad input: a broken packet is counted and reported
// as a Warning with its packet number, and decoding goes on.
package decode
