package media

import (
	"math"
	"testing"
	"time"
)

func TestEModelByHand(t *testing.T) {
	tests := []struct {
		name           string
		codec          string
		loss, delay    float64
		wantR, wantMOS float64
	}{
		// G.711, no loss, 70 ms (50 network + 0 jitter buffer + 20 ptime):
		// Id = 0.024·70 = 1.68, Ie,eff = 0, R = 93.2 − 1.68 = 91.52;
		// MOS = 1 + 0.035·91.52 + 91.52·31.52·8.48·7e-6
		//     = 1 + 3.2032 + 0.171237 = 4.374437.
		{"G.711 clean", "PCMA", 0, 70, 91.52, 4.374437},
		// 5 % random loss: Ie,eff = 95·5/(5 + 25.1) = 15.780731, R = 75.739269.
		{"G.711 5% loss", "PCMU", 5, 70, 91.52 - 95*5/30.1, -1},
		// G.729A: Ie 11, R = 91.52 − 11 = 80.52.
		{"G.729 clean", "G729", 0, 70, 80.52, -1},
		// 5 % on G.729A: Ie,eff = 11 + 84·5/(5 + 19) = 28.5, R = 63.02.
		{"G.729 5% loss", "g729", 5, 70, 63.02, -1},
		// 250 ms: Id = 6 + 0.11·72.7 = 13.997, R = 79.203.
		{"G.711 long delay", "PCMA", 0, 250, 93.2 - 6 - 0.11*72.7, -1},
		// Everything lost: R clamps at 0, MOS at 1.
		{"all lost", "G723", 100, 400, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, mos := EModel(tt.codec, tt.loss, tt.delay)
			if math.Abs(r-tt.wantR) > 1e-9 {
				t.Errorf("R = %.6f, want %.6f", r, tt.wantR)
			}
			if tt.wantMOS >= 0 && math.Abs(mos-tt.wantMOS) > 1e-6 {
				t.Errorf("MOS = %.6f, want %.6f", mos, tt.wantMOS)
			}
			if mos < 1 || mos > 4.5 {
				t.Errorf("MOS %v outside 1..4.5", mos)
			}
		})
	}
}

func TestStreamMOS(t *testing.T) {
	clean := feed(voice(100, 0, 0))
	lossy := feed(without(voice(100, 0, 0), 3, 17, 42, 66, 90))
	g729 := voice(100, 0, 0)
	for i := range g729 {
		g729[i].pt, g729[i].payload = 18, make([]byte, 20)
	}
	slow := feed(g729)

	if clean.Codec != "PCMA" || clean.Delay != 70*time.Millisecond {
		t.Fatalf("codec %s delay %v", clean.Codec, clean.Delay)
	}
	// R = 91.52 exactly (see TestEModelByHand), MOS ≈ 4.37.
	if math.Abs(clean.RFactor-91.52) > 1e-9 || clean.MOS < 4.35 || clean.MOS > 4.4 {
		t.Errorf("clean G.711: R %v MOS %v", clean.RFactor, clean.MOS)
	}
	if lossy.LostPct != 5 || lossy.MOS >= clean.MOS-0.4 || math.Abs(lossy.RFactor-(91.52-95*5/30.1)) > 1e-9 {
		t.Errorf("5%% loss: lost %v%% R %v MOS %v", lossy.LostPct, lossy.RFactor, lossy.MOS)
	}
	if slow.Codec != "G729" || slow.MOS >= clean.MOS || math.Abs(slow.RFactor-80.52) > 1e-9 {
		t.Errorf("G.729: %s R %v MOS %v", slow.Codec, slow.RFactor, slow.MOS)
	}
	// Jitter buffers add delay: a stream with 10 ms mean jitter waits
	// 20 ms more.
	ps := voice(100, 0, 0)
	for i := range ps {
		if i%2 == 1 {
			ps[i].at += 20
		}
	}
	jittery := feed(ps)
	want := 70*time.Millisecond + time.Duration(2*jittery.JitterMean*float64(time.Millisecond))
	if jittery.JitterMean < 5 || jittery.Delay != want || jittery.MOS >= clean.MOS {
		t.Errorf("jittery: mean %v delay %v (want %v) MOS %v", jittery.JitterMean, jittery.Delay, want, jittery.MOS)
	}
}

func TestRToMOS(t *testing.T) {
	prev := 0.0
	for r := -10.0; r <= 110; r += 0.5 {
		m := RToMOS(r)
		if m < 1 || m > 4.5 || m < prev {
			t.Fatalf("RToMOS(%v) = %v after %v", r, m, prev)
		}
		prev = m
	}
	if RToMOS(93.2) < 4.4 || RToMOS(50) > 2.6 || RToMOS(50) < 2.5 {
		t.Errorf("RToMOS(93.2) = %v, RToMOS(50) = %v", RToMOS(93.2), RToMOS(50))
	}
}

func TestCodecImpairment(t *testing.T) {
	for codec, want := range map[string]Impairment{
		"PCMU": {0, 25.1, "G.113"}, "pcma": {0, 25.1, "G.113"}, "G729a": {11, 19, "G.113"},
		"G723": {15, 16.1, "G.113"}, "GSM": {20, 10, "estimate"}, "GSM-EFR": {5, 10, "estimate"},
		"AMR-WB": {0, 25.1, "estimate"}, "AMR": {5, 10, "estimate"},
	} {
		if got, ok := CodecImpairment(codec); !ok || got != want {
			t.Errorf("%s: %+v %v, want %+v", codec, got, ok, want)
		}
	}
	if _, ok := CodecImpairment("X-weird"); ok {
		t.Error("unknown codec reported as known")
	}
}
