package asm

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// FoldZ folds the 16 float32 lanes of the ZMM v into the low lane of its
// XMM view with op (VADDPS, VMINPS, VMAXPS), which it returns. EVEX
// encodings only: v may live in Z16-Z31.
func FoldZ(v VecVirtual, op func(...Op)) Register {
	hi := YMM()
	VEXTRACTF32X8(U8(1), v, hi)
	op(hi, v.AsY(), v.AsY())
	x := XMM()
	VEXTRACTF32X4(U8(1), v.AsY(), x)
	lo := v.AsX()
	op(x, lo, lo)
	VMOVHLPS(lo, lo, x) // lanes 2, 3
	op(x, lo, lo)
	VMOVSHDUP(lo, x) // lane 1
	op(x, lo, lo)
	return lo
}

// FirstMatch emits the rest of a function that returns the smallest i < n
// whose element of the array at p passes a lane test, or none: lanes
// elements (16 or 32) of scale bytes per step. test sets k from src, a
// memory operand or, for the last elements, a register that maskedLoad
// filled under mask m (the caller's test may pass the zeroed lanes: they
// are masked off again). The scans that skip to the next candidate of a
// top-k (FirstAtMost, FirstBelowU16) and ArgMin's second pass share it.
func FirstMatch(name string, p, n Register, lanes, scale int, test func(src Op, k Register), maskedLoad func(m Mem, mask Register, dst VecVirtual), none Register) {
	kmov, kand := KMOVW, KANDW
	if lanes == 32 {
		kmov, kand = KMOVD, KANDD
	}
	i, rem, bits, k := GP64(), GP64(), GP64(), K()
	XORQ(i, i)
	at := Mem{Base: p, Index: i, Scale: uint8(scale)}
	Label(name + "_step")
	MOVQ(n, rem)
	SUBQ(i, rem)
	CMPQ(rem, U8(lanes))
	JL(LabelRef(name + "_tail"))
	test(at, k)
	kmov(k, bits.As32())
	TESTL(bits.As32(), bits.As32())
	JNZ(LabelRef(name + "_found"))
	ADDQ(U8(lanes), i)
	JMP(LabelRef(name + "_step"))

	Label(name + "_tail")
	TESTQ(rem, rem)
	JZ(LabelRef(name + "_none"))
	m, t := K(), ZMM()
	TailMask(rem, m, lanes)
	maskedLoad(at, m, t) // no read past the end
	test(t, k)
	kand(m, k, k)
	kmov(k, bits.As32())
	TESTL(bits.As32(), bits.As32())
	JNZ(LabelRef(name + "_found"))

	Label(name + "_none")
	Store(none, ReturnIndex(0))
	VZEROUPPER()
	RET()

	Label(name + "_found")
	TZCNTL(bits.As32(), bits.As32())
	ADDQ(bits, i)
	Store(i, ReturnIndex(0))
	VZEROUPPER()
	RET()
}
