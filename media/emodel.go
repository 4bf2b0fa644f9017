package media

import "strings"

// Impairment is the E-model's view of a codec: its equipment impairment
// Ie (quality lost with no packet loss) and its packet-loss robustness
// Bpl (how gracefully it degrades under random loss).
type Impairment struct {
	Ie, Bpl float64
	// Source says where the numbers come from: "G.113" for ITU-T G.113
	// (11/2007) Appendix I, "estimate" where G.113 gives none.
	Source string
}

// impairments is the codec table, matched as case-insensitive prefixes of
// the encoding name, longest prefix first where they overlap.
//
// G.711 is assumed to have packet loss concealment (G.711 Appendix I), as
// practically every VoIP endpoint does: Bpl 25.1. Without PLC G.113 gives
// 4.3, which makes 5 % loss cost about 45 R points instead of 16.
//
// The narrowband E-model cannot credit wideband codecs (G.722, AMR-WB,
// Opus, ...) with their better quality; G.107.1 would, on a 0-129 scale.
// They are rated like G.711 with PLC, so their MOS is comparable with
// narrowband calls but never above G.711's.
var impairments = []struct {
	prefix string
	Impairment
}{
	{"PCMU", Impairment{0, 25.1, "G.113"}},
	{"PCMA", Impairment{0, 25.1, "G.113"}},
	{"G711", Impairment{0, 25.1, "G.113"}},
	{"G729", Impairment{11, 19.0, "G.113"}},   // G.729A + VAD
	{"G723", Impairment{15, 16.1, "G.113"}},   // G.723.1 6.3 kbit/s + VAD
	{"G726", Impairment{7, 25.1, "estimate"}}, // Ie 7 for 32 kbit/s from G.113; Bpl not given
	{"G728", Impairment{7, 25.1, "estimate"}}, // Ie 7 from G.113; Bpl not given
	{"GSM-EFR", Impairment{5, 10, "estimate"}},
	{"GSM-HR", Impairment{23, 10, "estimate"}},
	{"GSM", Impairment{20, 10, "estimate"}}, // GSM-FR 06.10: Ie 20 from G.113; Bpl not given
	{"AMR-WB", Impairment{0, 25.1, "estimate"}},
	{"AMR", Impairment{5, 10, "estimate"}}, // AMR 12.2 = GSM-EFR
	{"iLBC", Impairment{11, 25.1, "estimate"}},
	{"G722", Impairment{0, 25.1, "estimate"}},
	{"opus", Impairment{0, 25.1, "estimate"}},
	{"speex", Impairment{0, 25.1, "estimate"}},
	{"SILK", Impairment{0, 25.1, "estimate"}},
	{"EVS", Impairment{0, 25.1, "estimate"}},
	{"L16", Impairment{0, 25.1, "estimate"}},
}

// defaultImpairment rates a codec the table does not know.
var defaultImpairment = Impairment{0, 25.1, "estimate"}

// CodecImpairment returns the E-model parameters used for codec (an
// rtpmap encoding name such as "PCMA" or "G729"), and whether the codec
// was in the table; unknown codecs get Ie 0, Bpl 25.1.
func CodecImpairment(codec string) (Impairment, bool) {
	for _, c := range impairments {
		if len(codec) >= len(c.prefix) && strings.EqualFold(codec[:len(c.prefix)], c.prefix) {
			return c.Impairment, true
		}
	}
	return defaultImpairment, false
}

// E-model constants (ITU-T G.107).
const (
	// RDefault is the R that G.107 gives with every parameter at its
	// default value: 93.2, i.e. R0 = 94.77 less Is = 1.41 and the small
	// echo terms of the default settings. Delay and codec come on top.
	RDefault = 93.2
	// BurstR is the burst ratio; 1 means random (Bernoulli) loss.
	BurstR = 1.0
)

// DelayImpairment is Id for a one-way mouth-to-ear delay of d ms, in the
// approximation of Cole and Rosenbluth ("Voice over IP performance
// monitoring", ACM CCR 2001) to G.107's echo-free delay terms:
// Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3), H the unit step.
func DelayImpairment(d float64) float64 {
	id := 0.024 * d
	if d > 177.3 {
		id += 0.11 * (d - 177.3)
	}
	return id
}

// EffectiveIe is G.107's Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl/BurstR + Bpl)
// for a packet loss of lossPct percent.
func EffectiveIe(imp Impairment, lossPct float64) float64 {
	if lossPct <= 0 {
		return imp.Ie
	}
	return imp.Ie + (95-imp.Ie)*lossPct/(lossPct/BurstR+imp.Bpl)
}

// EModel rates a call leg: R = 93.2 − Id(delayMs) − Ie,eff(codec, lossPct),
// clamped to 0-100, and the MOS that G.107 Annex B maps it to.
func EModel(codec string, lossPct, delayMs float64) (r, mos float64) {
	imp, _ := CodecImpairment(codec)
	r = RDefault - DelayImpairment(max(0, delayMs)) - EffectiveIe(imp, max(0, min(100, lossPct)))
	r = max(0, min(100, r))
	return r, RToMOS(r)
}

// RToMOS maps an R factor to a mean opinion score (G.107 Annex B):
// 1 + 0.035R + R(R − 60)(100 − R)·7·10⁻⁶, 1 below R = 0 and 4.5 above 100,
// and never below 1 (the cubic dips to 0.995 near R = 3).
func RToMOS(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return max(1, 1+0.035*r+r*(r-60)*(100-r)*7e-6)
}
