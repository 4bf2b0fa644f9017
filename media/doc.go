// Package media measures RTP streams: loss, jitter, delay gaps, DTMF, an
// E-model voice quality estimate and what RTCP said, and exports G.711
// audio as WAV.
//
// A Table keys streams by UDP 5-tuple and SSRC and parses packets itself
// (decode.ParseRTP, decode.ParseRTCP) into reused structs, so measuring a
// packet of a known stream allocates nothing. Which datagrams are RTP is
// the caller's decision: the SDP says so (package correlate), or a
// Heuristic does for flows no SDP announced. The SDP's a=rtpmap names
// dynamic payload types through Table.SetPayloadNames or
// Stream.SetRTPMap; without it a dynamic type has no clock rate and no
// jitter, as in Wireshark, except that 101 is taken as telephone-event.
//
// Two families of numbers are kept, because tools disagree and users
// compare with Wireshark. Stream.LostRaw, JitterMax, JitterMean and
// MaxDelta reproduce tshark 4.0's "-z rtp,streams" (ui/tap-rtp-analysis.c)
// packet for packet; every stream in the public test corpus matches it
// (see conformance_test.go for the one known, explained difference).
// Stream.Expected, Lost, LostPct, Duplicates, OutOfOrder and SeqResets
// follow RFC 3550 §A.1 and §A.3 instead: a sequence number counts once,
// and a restarted sequence does not count its jump as loss.
//
// # Voice quality (README section)
//
// sipflow rates each audio stream with a simplified ITU-T G.107 E-model,
// the same kind of estimate RTCP XR (RFC 3611) and most VoIP monitors
// give. It is a planning model, not a listening test: it knows nothing
// about the audio itself, echo, noise or the handsets. Its inputs are what
// a capture shows - codec, loss, jitter - plus stated assumptions:
//
//	R   = 93.2 − Id − Ie,eff                      (0 ≤ R ≤ 100)
//	Id  = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3) (Cole & Rosenbluth, 2001; H = unit step)
//	d   = network + jitter buffer + packetization, one way, in ms
//	Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl/BurstR + Bpl)   (G.107 §7.2.2, BurstR = 1)
//	MOS = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶      (G.107 Annex B; 1 below R = 0, 4.5 above 100)
//
// The assumptions:
//
//   - 93.2 is G.107's R with every other parameter at its default value
//     (R0 − Is and the default echo terms; A, the advantage factor, is 0).
//   - network: half the round trip measured from RTCP (LSR/DLSR, RFC 3550
//     §6.4.1, timed at the capture point) when the stream has one, else
//     50 ms one way.
//   - jitter buffer: twice the stream's mean interarrival jitter.
//   - packetization: the stream's own packet interval (timestamp step),
//     20 ms when unknown. Codec look-ahead is not added.
//   - Ppl is the network loss in percent (Lost/Expected, RFC 3550 §A.3).
//     Packets a jitter buffer would discard as late are not counted as
//     lost; loss is taken as random (BurstR = 1), which flatters bursty
//     loss.
//   - Ie and Bpl per codec as in the table below.
//
// The codec table takes ITU-T G.113 (11/2007) Appendix I where it has the
// numbers and our estimates otherwise:
//
//	codec (rtpmap name)   Ie   Bpl   source
//	PCMU, PCMA (G.711)     0   25.1  G.113, with G.711 Appendix I PLC (4.3 without)
//	G729 (G.729A)         11   19.0  G.113, G.729A + VAD
//	G723 (G.723.1)        15   16.1  G.113, 6.3 kbit/s + VAD
//	G726                   7   25.1  Ie G.113 (32 kbit/s), Bpl estimate
//	G728                   7   25.1  Ie G.113, Bpl estimate
//	GSM (GSM-FR)          20   10    Ie G.113, Bpl estimate
//	GSM-EFR, AMR           5   10    estimate
//	GSM-HR                23   10    estimate
//	iLBC                  11   25.1  estimate
//	G722, AMR-WB, opus,    0   25.1  estimate; the narrowband model cannot
//	speex, SILK, EVS, L16            credit wideband quality (G.107.1 would)
//	anything else          0   25.1  estimate
//
// So a clean G.711 call rates R = 93.2 − 0.024·70 = 91.52, MOS 4.37; 5 %
// random loss costs it 15.8 R points (MOS 3.85); G.729 starts 11 lower.
// Video streams (90 kHz clock) and streams whose clock is unknown get no
// rating (R and MOS 0).
//
// # Audio
//
// AudioTrack decodes G.711 µ-law and A-law (other codecs are refused with
// ErrCodecNotDecoded) into 8 kHz 16-bit PCM, each packet placed by its RTP
// timestamp, silence where packets are missing; WriteWAV writes tracks as
// the channels of one WAV file, aligned on their first packets' arrival.
package media
