package media

import "strings"

// Payload type numbers that the statistics treat specially.
const (
	ptCN    = 13  // comfort noise (RFC 3389)
	ptCNOld = 19  // comfort noise, the pre-RFC 3551 number still sent by some gear
	ptEvent = 101 // telephone-event when no SDP says otherwise, as Wireshark's rtpevent default
)

// staticPayload is one row of RFC 3551 tables 4 and 5.
type staticPayload struct {
	name  string
	clock uint32
}

// staticPayloads names the static payload types of RFC 3551 §6 and gives
// their RTP clock rates. 1, 2 and 19 are no longer assigned, but old
// endpoints still send them and Wireshark still knows their clocks, so they
// are here too. G722 (9) runs its RTP clock at 8000 Hz although it samples
// at 16 kHz (RFC 3551 §4.5.2).
var staticPayloads = [35]staticPayload{
	0:  {"PCMU", 8000},
	1:  {"1016", 8000},
	2:  {"G721", 8000},
	3:  {"GSM", 8000},
	4:  {"G723", 8000},
	5:  {"DVI4", 8000},
	6:  {"DVI4", 16000},
	7:  {"LPC", 8000},
	8:  {"PCMA", 8000},
	9:  {"G722", 8000},
	10: {"L16", 44100},
	11: {"L16", 44100},
	12: {"QCELP", 8000},
	13: {"CN", 8000},
	14: {"MPA", 90000},
	15: {"G728", 8000},
	16: {"DVI4", 11025},
	17: {"DVI4", 22050},
	18: {"G729", 8000},
	19: {"CN", 8000},
	25: {"CelB", 90000},
	26: {"JPEG", 90000},
	28: {"nv", 90000},
	31: {"H261", 90000},
	32: {"MPV", 90000},
	33: {"MP2T", 90000},
	34: {"H263", 90000},
}

// StaticPayload returns the RFC 3551 name and RTP clock rate of static
// payload type pt, or "", 0 when pt is dynamic (96-127) or unassigned.
func StaticPayload(pt uint8) (name string, clock int) {
	if int(pt) < len(staticPayloads) {
		sp := staticPayloads[pt]
		return sp.name, int(sp.clock)
	}
	return "", 0
}

// dynamicClocks gives the clock rate of registered media subtypes for an
// a=rtpmap that left it out (RFC 4566 requires it, but captures disagree).
// Entries are matched as case-insensitive prefixes of the encoding name,
// longest first, so "AMR-WB" is not taken for "AMR".
var dynamicClocks = []struct {
	prefix string
	clock  uint32
}{
	{"telephone-event", 8000},
	{"AMR-WB", 16000},
	{"AMR", 8000},
	{"EVRCWB", 16000},
	{"EVRC", 8000},
	{"EVS", 16000},
	{"G7221", 16000},
	{"G726", 8000},
	{"G729", 8000},
	{"GSM-EFR", 8000},
	{"H263", 90000},
	{"H264", 90000},
	{"H265", 90000},
	{"VP8", 90000},
	{"VP9", 90000},
	{"MP4V-ES", 90000},
	{"iLBC", 8000},
	{"opus", 48000},
	{"red", 1000},
	{"t140", 1000},
}

// dynamicClock returns the usual clock rate of the encoding called name, 0
// when unknown.
func dynamicClock(name string) uint32 {
	for _, d := range dynamicClocks {
		if hasPrefixFold(name, d.prefix) {
			return d.clock
		}
	}
	return 0
}

// isEventName reports whether an rtpmap encoding name is an RFC 4733
// telephone event. Like Wireshark it matches the prefix, so
// "telephone-event/8000" given whole also counts.
func isEventName(name string) bool { return hasPrefixFold(name, "telephone-event") }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// isCN reports whether pt is comfort noise.
func isCN(pt uint8) bool { return pt == ptCN || pt == ptCNOld }

// PayloadNames names a payload type of a stream from the signalling, i.e.
// the a=rtpmap of the SDP that announced the stream. It returns "" when it
// does not know pt; clock may be 0 when the rtpmap gave none. A Table calls
// it the first time a stream carries a payload type no SetRTPMap named, and
// for a dynamic type (96-127) again on later packets for as long as it
// returns "", so an SDP that comes after the first packets still counts.
// It must not keep key or block; it runs on the packet path.
type PayloadNames func(key StreamKey, pt uint8) (name string, clock int)

// ptInfo is what a stream knows about one payload type.
type ptInfo struct {
	name  string
	clock uint32
	pt    uint8
	set   bool // from SetRTPMap, SetCodec or PayloadNames
	event bool // RFC 4733 telephone-event
}

// resolve says what pt is, without the per-stream slots: first names (the
// signalling), then the static table, then Wireshark's default of 101 for
// telephone-event.
func resolve(names PayloadNames, key StreamKey, pt uint8) ptInfo {
	if names != nil {
		if name, clock := names(key, pt); name != "" {
			return newPTInfo(pt, name, clock)
		}
	}
	if name, clock := StaticPayload(pt); name != "" {
		return ptInfo{name: name, clock: uint32(clock), pt: pt}
	}
	if pt == ptEvent {
		return ptInfo{name: "telephone-event", clock: 8000, pt: pt, event: true}
	}
	return ptInfo{pt: pt}
}

func newPTInfo(pt uint8, name string, clock int) ptInfo {
	c := uint32(0)
	if clock > 0 && clock <= 1<<24 {
		c = uint32(clock)
	}
	if c == 0 {
		c = dynamicClock(name)
	}
	return ptInfo{name: name, clock: c, pt: pt, set: true, event: isEventName(name)}
}

// jitterClock is the clock rate the Wireshark-compatible jitter uses for a
// packet of type pt (ui/tap-rtp-analysis.c, Wireshark 4.0): the static
// table for pt < 96 whatever the SDP says, the rtpmap for dynamic types,
// and 0 - no jitter - for telephone-event, whose timestamp stays put for a
// whole key press, and for dynamic types nobody named. Wireshark divides
// the timestamp difference by clock/1000 in integer arithmetic, so 44100
// counts as 44 kHz; callers do the same.
func jitterClock(info ptInfo) uint32 {
	if info.pt < 96 {
		if int(info.pt) < len(staticPayloads) {
			return staticPayloads[info.pt].clock
		}
		return 0
	}
	if info.event || !info.set {
		return 0
	}
	return info.clock
}
