package media

// The G.711 expansion tables, built once from the formulas of ITU-T G.711
// (the same arithmetic as its reference implementation in G.191): each
// code maps to a 16-bit linear sample, µ-law to ±32124, A-law to ±32256.
var (
	ulawTable = buildTable(ulawToLinear)
	alawTable = buildTable(alawToLinear)
)

func buildTable(f func(byte) int16) *[256]int16 {
	var t [256]int16
	for i := range t {
		t[i] = f(byte(i))
	}
	return &t
}

// ulawToLinear expands one µ-law code: complement it, then sign, a 3-bit
// segment and a 4-bit step, with the bias of 132 (0x84) removed.
func ulawToLinear(b byte) int16 {
	u := ^b
	t := (int32(u&0x0f)<<3 + 0x84) << ((u & 0x70) >> 4)
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

// alawToLinear expands one A-law code: undo the even-bit inversion (0x55),
// then a 3-bit segment and a 4-bit step; a set sign bit means positive.
func alawToLinear(b byte) int16 {
	a := b ^ 0x55
	t := int32(a&0x0f) << 4
	switch seg := (a & 0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t = (t + 0x108) << (seg - 1)
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

// DecodeULaw returns the linear sample of a G.711 µ-law code (PCMU).
func DecodeULaw(b byte) int16 { return ulawTable[b] }

// DecodeALaw returns the linear sample of a G.711 A-law code (PCMA).
func DecodeALaw(b byte) int16 { return alawTable[b] }
