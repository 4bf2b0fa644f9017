#include "textflag.h"

// Both versions mark 64 bytes a step into one word: bit j for byte j when
// it is '\n'. When n is not a multiple of 64, the last step marks the 64
// bytes that end b and shifts out the marks of the bytes the step before
// had marked, so nothing past b is read (n >= 64). Registers: SI p, DX n,
// DI out, R10 the step's offset, R11 the end of the whole steps, AX the
// step's marks.

// func newlineMarks(p *byte, n int, out *uint64)
// The version hasAVX2 picks, as a tail call: its arguments are these.
TEXT ·newlineMarks(SB), NOSPLIT, $0-24
	CMPB ·hasAVX2(SB), $0
	JEQ 2(PC)
	JMP ·newlineMarksAVX2(SB)
	JMP ·newlineMarksSSE2(SB)

// ARGS loads the arguments and sets R10 and R11.
#define ARGS \
	MOVQ p+0(FP), SI \
	MOVQ n+8(FP), DX \
	MOVQ out+16(FP), DI \
	XORQ R10, R10 \
	MOVQ DX, R11 \
	ANDQ $~63, R11

// LASTSTEP keeps, of the marks of the 64 bytes that end b, those of the
// bytes from R10 = n - r on: it shifts out the 64 - r before them.
#define LASTSTEP \
	MOVQ R10, CX \
	SUBQ DX, CX \
	ADDQ $64, CX \
	SHRQ CX, AX \
	MOVQ AX, (DI)

// AVX2MARKS sets AX to the marks of the 64 bytes at R12 (Y0: '\n' in every
// byte), with BX, Y1 and Y2.
#define AVX2MARKS \
	VPCMPEQB (R12), Y0, Y1 \
	VPMOVMSKB Y1, AX \
	VPCMPEQB 32(R12), Y0, Y2 \
	VPMOVMSKB Y2, BX \
	SHLQ $32, BX \
	ORQ BX, AX

// SSE2MARKS is AVX2MARKS 16 bytes a compare (X0: '\n' in every byte),
// with BX, X1 and X2: the first 16 bytes' marks into AX, the others'
// shifted in by SSE2MORE.
#define SSE2MARKS \
	MOVOU (R12), X1 \
	PCMPEQB X0, X1 \
	PMOVMSKB X1, AX \
	SSE2MORE(16, X2) \
	SSE2MORE(32, X1) \
	SSE2MORE(48, X2)

// SSE2MORE ORs into AX the marks of the 16 bytes at off(R12), shifted
// left by off, comparing in X.
#define SSE2MORE(off, X) \
	MOVOU off(R12), X \
	PCMPEQB X0, X \
	PMOVMSKB X, BX \
	SHLQ $off, BX \
	ORQ BX, AX

// STEPS marks every whole step with MARKS, then the last.
#define STEPS(MARKS, step, last, done) \
step: \
	CMPQ R10, R11 \
	JAE last \
	LEAQ (SI)(R10*1), R12 \
	MARKS \
	MOVQ AX, (DI) \
	ADDQ $8, DI \
	ADDQ $64, R10 \
	JMP step \
last: \
	CMPQ R10, DX \
	JAE done \
	LEAQ -64(SI)(DX*1), R12 \
	MARKS \
	LASTSTEP \
done:

// func newlineMarksAVX2(p *byte, n int, out *uint64)
TEXT ·newlineMarksAVX2(SB), NOSPLIT, $0-24
	ARGS
	MOVL $0x0a, AX
	MOVQ AX, X0
	VPBROADCASTB X0, Y0

	STEPS(AVX2MARKS, avx2step, avx2last, avx2done)

	VZEROUPPER
	RET

// func newlineMarksSSE2(p *byte, n int, out *uint64)
TEXT ·newlineMarksSSE2(SB), NOSPLIT, $0-24
	ARGS
	MOVQ $0x0a0a0a0a0a0a0a0a, AX
	MOVQ AX, X0
	PUNPCKLQDQ X0, X0

	STEPS(SSE2MARKS, sse2step, sse2last, sse2done)

	RET
