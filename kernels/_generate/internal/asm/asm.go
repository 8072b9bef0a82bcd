// Package asm holds the pieces the kernel generators share: horizontal
// reductions, tail masks and constants. Everything here emits instructions
// into avo's global context, like the generators themselves.
package asm

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Header sets the file-level facts every kernel file shares.
func Header() {
	ConstraintExpr("!noasm")
}

// ZeroAll clears each register.
func ZeroAll(regs ...VecVirtual) {
	for _, r := range regs {
		VXORPS(r, r, r)
	}
}

// SumInto adds regs[1:] into regs[0] pairwise (a tree, to shorten the
// dependency chain) and returns regs[0].
func SumInto(regs []VecVirtual) VecVirtual {
	for step := 1; step < len(regs); step *= 2 {
		for i := 0; i+step < len(regs); i += 2 * step {
			VADDPS(regs[i+step], regs[i], regs[i])
		}
	}
	return regs[0]
}

// SumIntoInt is SumInto for 32-bit integer lanes.
func SumIntoInt(regs []VecVirtual) VecVirtual {
	for step := 1; step < len(regs); step *= 2 {
		for i := 0; i+step < len(regs); i += 2 * step {
			VPADDD(regs[i+step], regs[i], regs[i])
		}
	}
	return regs[0]
}

// ReduceZ sums the 16 float32 lanes of the ZMM v into the low lane of v's
// XMM view, which it returns.
func ReduceZ(v VecVirtual) Register {
	return FoldZ(v, VADDPS)
}

// ReduceY sums the 8 float32 lanes of v's YMM view into its low lane.
func ReduceY(v VecVirtual) Register {
	hi := XMM()
	VEXTRACTF128(U8(1), v.AsY(), hi)
	return ReduceX(v, hi)
}

// ReduceX adds the XMM add to v's XMM view and sums its 4 lanes into the low
// lane.
func ReduceX(v VecVirtual, add Register) Register {
	lo := v.AsX()
	VADDPS(add, lo, lo)
	t := XMM()
	VMOVHLPS(lo, lo, t) // t = lanes 2,3
	VADDPS(t, lo, lo)
	VMOVSHDUP(lo, t) // t = lane 1 in lane 0
	VADDSS(t, lo, lo)
	return lo
}

// ReduceIntZ sums the 16 int32 lanes of the ZMM v into the low lane of its
// XMM view.
func ReduceIntZ(v VecVirtual) Register {
	hi := YMM()
	VEXTRACTI32X8(U8(1), v, hi)
	VPADDD(hi, v.AsY(), v.AsY())
	x := XMM()
	VEXTRACTI32X4(U8(1), v.AsY(), x)
	lo := v.AsX()
	VPADDD(x, lo, lo)
	return reduceIntX(lo)
}

// ReduceIntY sums the 8 int32 lanes of v's YMM view into its low lane.
func ReduceIntY(v VecVirtual) Register {
	hi := XMM()
	VEXTRACTI128(U8(1), v.AsY(), hi)
	lo := v.AsX()
	VPADDD(hi, lo, lo)
	return reduceIntX(lo)
}

func reduceIntX(lo Register) Register {
	t := XMM()
	VPSHUFD(U8(0x4e), lo, t) // swap 64-bit halves
	VPADDD(t, lo, lo)
	VPSHUFD(U8(0xb1), lo, t) // swap 32-bit neighbours
	VPADDD(t, lo, lo)
	return lo
}

// Reduce4Z sums each of the ZMMs a, b, c, d and returns an XMM holding
// [sum a, sum b, sum c, sum d]. It uses EVEX encodings only, since the
// inputs may live in Z16-Z31.
func Reduce4Z(a, b, c, d VecVirtual) Register { return reduce4Z(float32Lanes, a, b, c, d) }

// Reduce4IntZ is Reduce4Z for int32 lanes.
func Reduce4IntZ(a, b, c, d VecVirtual) Register { return reduce4Z(int32Lanes, a, b, c, d) }

// laneOps are the instructions Reduce4Z's unpack-add tree takes for one
// lane type: unpacking 32-bit and 64-bit elements, adding, and extracting
// the upper 256 and 128 bits.
type laneOps struct {
	unpackLo32, unpackHi32, unpackLo64, unpackHi64, add, extract256, extract128 func(...Op)
}

var (
	float32Lanes = laneOps{VUNPCKLPS, VUNPCKHPS, VUNPCKLPD, VUNPCKHPD, VADDPS, VEXTRACTF32X8, VEXTRACTF32X4}
	int32Lanes   = laneOps{VPUNPCKLDQ, VPUNPCKHDQ, VPUNPCKLQDQ, VPUNPCKHQDQ, VPADDD, VEXTRACTI32X8, VEXTRACTI32X4}
)

func reduce4Z(o laneOps, a, b, c, d VecVirtual) Register {
	pair := func(x, y VecVirtual) VecVirtual {
		lo, hi := ZMM(), ZMM()
		o.unpackLo32(y, x, lo) // per 128-bit lane: x0 y0 x1 y1
		o.unpackHi32(y, x, hi) // x2 y2 x3 y3
		o.add(hi, lo, lo)      // x0+x2 y0+y2 x1+x3 y1+y3
		return lo
	}
	ab, cd := pair(a, b), pair(c, d)
	lo, hi := ZMM(), ZMM()
	o.unpackLo64(cd, ab, lo) // a02 b02 c02 d02
	o.unpackHi64(cd, ab, hi) // a13 b13 c13 d13
	o.add(hi, lo, lo)        // each 128-bit lane: partial sums of a, b, c, d
	y := YMM()
	o.extract256(U8(1), lo, y)
	o.add(y, lo.AsY(), lo.AsY())
	x := XMM()
	o.extract128(U8(1), lo.AsY(), x)
	o.add(x, lo.AsX(), lo.AsX())
	return lo.AsX()
}

// Reduce4Y is Reduce4Z for YMMs (AVX2, registers below 16).
func Reduce4Y(a, b, c, d VecVirtual) Register {
	VHADDPS(b, a, a) // a01 a23 b01 b23 | a45 a67 b45 b67
	VHADDPS(d, c, c)
	VHADDPS(c, a, a) // sum of each per 128-bit lane
	x := XMM()
	VEXTRACTF128(U8(1), a, x)
	VADDPS(x, a.AsX(), a.AsX())
	return a.AsX()
}

// TailMask sets the mask register k to the low n bits, for a masked step
// over `lanes` (16, 32 or 64) lanes; n must be below lanes.
func TailMask(n Register, k Register, lanes int) {
	ones := GP64()
	MOVQ(I32(-1), ones)
	BZHIQ(n, ones, ones)
	switch lanes {
	case 64:
		KMOVQ(ones, k)
	case 32:
		KMOVD(ones.(GPVirtual).As32(), k)
	default:
		KMOVW(ones.(GPVirtual).As32(), k)
	}
}

// Row is the memory operand of row r < 4 of a block whose rows start at
// base, stride bytes apart (stride3 = 3*stride: x86 addressing scales by
// 1, 2, 4 or 8 only). The 4-query and 4-row kernels address their rows so.
func Row(base, stride, stride3 Register, r int) Mem {
	switch r {
	case 0:
		return Mem{Base: base}
	case 3:
		return Mem{Base: base, Index: stride3, Scale: 1}
	}
	return Mem{Base: base, Index: stride, Scale: uint8(r)}
}
