//go:build !purego

#include "textflag.h"

// func maskAVX2(key uint32, b []byte)
TEXT ·maskAVX2(SB), NOSPLIT, $0-32
	MOVL         key+0(FP), AX
	MOVQ         b_base+8(FP), DI
	MOVQ         b_len+16(FP), CX
	MOVQ         AX, X0
	VPBROADCASTD X0, Y0

loop:
	VPXOR   (DI), Y0, Y1
	VPXOR   32(DI), Y0, Y2
	VPXOR   64(DI), Y0, Y3
	VPXOR   96(DI), Y0, Y4
	VMOVDQU Y1, (DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VMOVDQU Y4, 96(DI)
	ADDQ    $128, DI
	SUBQ    $128, CX
	JNZ     loop
	VZEROUPPER
	RET
