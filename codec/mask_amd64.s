//go:build amd64 && !purego

#include "textflag.h"

// func specialMask64(blk *[64]byte) uint64
TEXT ·specialMask64(SB), NOSPLIT, $0-16
	MOVQ blk+0(FP), SI

	// X1 = '"' ×16, X2 = '\\' ×16, X3 = 0x1f ×16, X4 = 0.
	MOVQ $0x2222222222222222, AX
	MOVQ AX, X1
	PUNPCKLQDQ X1, X1
	MOVQ $0x5c5c5c5c5c5c5c5c, AX
	MOVQ AX, X2
	PUNPCKLQDQ X2, X2
	MOVQ $0x1f1f1f1f1f1f1f1f, AX
	MOVQ AX, X3
	PUNPCKLQDQ X3, X3
	PXOR X4, X4

// SPECIALS16 leaves in R the 16-bit mask of the special bytes at off(SI):
// x == '"' or x == '\\' or x -sat 0x1f == 0 (that is, x <= 0x1f).
#define SPECIALS16(off, R) \
	MOVOU off(SI), X5 \
	MOVO X5, X6 \
	PCMPEQB X1, X6 \
	MOVO X5, X7 \
	PCMPEQB X2, X7 \
	POR X7, X6 \
	PSUBUSB X3, X5 \
	PCMPEQB X4, X5 \
	POR X5, X6 \
	PMOVMSKB X6, R

	SPECIALS16(0, AX)
	SPECIALS16(16, BX)
	SPECIALS16(32, CX)
	SPECIALS16(48, DX)
	SHLQ $16, BX
	SHLQ $32, CX
	SHLQ $48, DX
	ORQ BX, AX
	ORQ CX, AX
	ORQ DX, AX
	MOVQ AX, ret+8(FP)
	RET
