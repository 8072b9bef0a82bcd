// Command float32 generates kernels/float32_amd64.s: dot product, squared L2
// and L1 distance over float32 vectors, for AVX-512 and for AVX2+FMA.
//
//	go run ./float32 -out ../float32_amd64.s -stubs ../float32_amd64.go
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/oxvec/oxvec/kernels/_generate/internal/asm"
)

const unroll = 4

type op struct {
	name string // Go name stem: dot, l2Sq, l1
	doc  string // the loop it computes, as in the generic twin
}

var ops = []op{
	{"dot", "sum(a[i]*b[i])"},
	{"l2Sq", "sum((a[i]-b[i])^2)"},
	{"l1", "sum(|a[i]-b[i]|)"},
}

type level struct {
	suffix string
	width  int // float32 lanes per vector
	vec    func() VecVirtual
	masked bool // AVX-512: the tail is one masked step
}

var levels = []level{
	{"AVX512", 16, ZMM, true},
	{"AVX2", 8, YMM, false},
}

func main() {
	asm.Header()
	absmask := ConstData("absmask", U32(0x7fffffff))
	for _, lv := range levels {
		for _, o := range ops {
			kernel(o, lv, absmask)
		}
	}
	argMinAVX512()
	firstF32AVX512("firstAtMostAVX512", "x[i] <= b", 0x1d)  // GE_OQ: b >= x
	firstF32AVX512("firstAtLeastAVX512", "x[i] >= b", 0x12) // LE_OQ: b <= x
	Generate()
}

// loadZ loads float32 lanes under a mask, zeroing the others.
func loadZ(m Mem, mask Register, dst VecVirtual) { VMOVUPS_Z(m, mask, dst) }

// argMinAVX512: k-means assigns each product-quantization sub-vector to the
// nearest of 256 centroids; with the distances computed by MatMul4, a
// compare and branch per distance was 80% of the time. Here one pass takes
// the minimum 32 values per step, a second finds its first position 16 per
// step (the values are in L1 by then).
func argMinAVX512() {
	const name = "argMinAVX512"
	TEXT(name, NOSPLIT, "func(x []float32) int")
	Pragma("noescape")
	Doc(name + " returns the smallest i with x[i] = min(x), or 0 if there is none (x empty or all NaN), using AVX-512.")
	p := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	inf := ZMM()
	one := GP32()
	MOVL(U32(0x7f800000), one)
	VPBROADCASTD(one, inf)
	m0, m1 := ZMM(), ZMM()
	VMOVAPS(inf, m0)
	VMOVAPS(inf, m1)
	i, rem, k := GP64(), GP64(), K()
	XORQ(i, i)
	at := func(disp int) Mem { return Mem{Base: p, Index: i, Scale: 4, Disp: disp} }

	Label(name + "_pair")
	MOVQ(n, rem)
	SUBQ(i, rem)
	CMPQ(rem, U8(32))
	JL(LabelRef(name + "_one"))
	VMINPS(at(0), m0, m0)
	VMINPS(at(64), m1, m1)
	ADDQ(U8(32), i)
	JMP(LabelRef(name + "_pair"))
	Label(name + "_one")
	CMPQ(rem, U8(16))
	JL(LabelRef(name + "_tail"))
	VMINPS(at(0), m0, m0)
	ADDQ(U8(16), i)
	SUBQ(U8(16), rem)
	Label(name + "_tail")
	TESTQ(rem, rem)
	JZ(LabelRef(name + "_reduce"))
	asm.TailMask(rem, k, 16)
	t := ZMM()
	VMOVAPS(inf, t)
	VMOVUPS(at(0), k, t) // merge: the lanes past the end stay +Inf
	VMINPS(t, m0, m0)

	Label(name + "_reduce")
	VMINPS(m1, m0, m0)
	mv := ZMM()
	VBROADCASTSS(asm.FoldZ(m0, VMINPS), mv)
	zero := GP64()
	XORQ(zero, zero)
	asm.FirstMatch(name+"_find", p, n, 16, 4, func(src Op, k Register) { VCMPPS(U8(0), src, mv, k) }, loadZ, zero) // the first lane equal to the minimum
}

// step emits acc += f(a, b) for one vector (or one scalar when scalar is
// true) of a and b at the given memory operands; b is read through bv when
// it was loaded into a register already.
func step(o op, acc, t, bv Register, a, b Op, abs Register, scalar bool) {
	load := VMOVUPS
	if scalar {
		load = VMOVSS
	}
	if a != nil {
		load(a, t)
	}
	if bv != nil {
		b = bv
	}
	switch o.name {
	case "dot":
		if scalar {
			VFMADD231SS(b, t, acc)
		} else {
			VFMADD231PS(b, t, acc)
		}
	case "l2Sq":
		if scalar {
			VSUBSS(b, t, t)
			VFMADD231SS(t, t, acc)
		} else {
			VSUBPS(b, t, t)
			VFMADD231PS(t, t, acc)
		}
	case "l1":
		if scalar {
			VSUBSS(b, t, t)
			VANDPS(abs.(Vec).AsX(), t, t)
			VADDSS(t, acc, acc)
		} else {
			VSUBPS(b, t, t)
			VANDPS(abs, t, t)
			VADDPS(t, acc, acc)
		}
	}
}

func kernel(o op, lv level, absmask Mem) {
	name := o.name + lv.suffix
	TEXT(name, NOSPLIT, "func(a, b []float32) float32")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s returns %s over i < len(a), using %s. Requires len(b) >= len(a).", name, o.doc, lv.suffix))
	pa := Mem{Base: Load(Param("a").Base(), GP64())}
	pb := Mem{Base: Load(Param("b").Base(), GP64())}
	n := Load(Param("a").Len(), GP64())

	acc := make([]VecVirtual, unroll)
	for i := range acc {
		acc[i] = lv.vec()
	}
	asm.ZeroAll(acc...)
	var abs VecVirtual
	if o.name == "l1" {
		abs = lv.vec()
		VBROADCASTSS(absmask, abs)
	}
	bytes := 4 * lv.width

	Label(name + "_blocks")
	CMPQ(n, U32(unroll*lv.width))
	JL(LabelRef(name + "_single"))
	for u := 0; u < unroll; u++ {
		step(o, acc[u], lv.vec(), nil, pa.Offset(u*bytes), pb.Offset(u*bytes), abs, false)
	}
	ADDQ(U32(unroll*bytes), pa.Base)
	ADDQ(U32(unroll*bytes), pb.Base)
	SUBQ(U32(unroll*lv.width), n)
	JMP(LabelRef(name + "_blocks"))

	Label(name + "_single")
	CMPQ(n, U32(lv.width))
	JL(LabelRef(name + "_tail"))
	step(o, acc[0], lv.vec(), nil, pa, pb, abs, false)
	ADDQ(U32(bytes), pa.Base)
	ADDQ(U32(bytes), pb.Base)
	SUBQ(U32(lv.width), n)
	JMP(LabelRef(name + "_single"))

	Label(name + "_tail")
	sum := asm.SumInto(acc)
	if lv.masked {
		// one masked step: lanes past the end load as zero and add nothing
		// (and masked-off lanes never fault, even past the end of a page)
		TESTQ(n, n)
		JZ(LabelRef(name + "_reduce"))
		k := K()
		asm.TailMask(n, k, 16)
		ta, tb := lv.vec(), lv.vec()
		VMOVUPS_Z(pa, k, ta)
		VMOVUPS_Z(pb, k, tb)
		step(o, sum, ta, tb, nil, nil, abs, false)
		Label(name + "_reduce")
		ret := asm.ReduceZ(sum)
		VZEROUPPER() // clean upper halves: Go code after this runs SSE, slow on a dirty upper state
		Store(ret, ReturnIndex(0))
		RET()
		return
	}
	tail := XMM()
	VXORPS(tail, tail, tail)
	Label(name + "_scalar")
	TESTQ(n, n)
	JZ(LabelRef(name + "_reduce"))
	step(o, tail, XMM(), nil, pa, pb, abs, true)
	ADDQ(U32(4), pa.Base)
	ADDQ(U32(4), pb.Base)
	DECQ(n)
	JMP(LabelRef(name + "_scalar"))
	Label(name + "_reduce")
	r := asm.ReduceY(sum)
	VADDSS(tail, r, r)
	VZEROUPPER() // clean upper halves: Go code after this runs SSE, slow on a dirty upper state
	Store(r, ReturnIndex(0))
	RET()
}

// firstF32AVX512: after a top-k heap fills, almost no score of a scan can
// enter it, and a compare and branch per score cost a fifth of an IVF list
// scan; this skips to the next one that can, 16 scores per compare. pred
// compares the broadcast bound (first source) with x (second).
func firstF32AVX512(name, cond string, pred uint8) {
	TEXT(name, NOSPLIT, "func(x []float32, b float32) int")
	Pragma("noescape")
	Doc(name + " returns the smallest i with " + cond + ", or len(x) if there is none, using AVX-512.")
	p := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	bx, bv := Load(Param("b"), XMM()), ZMM()
	VBROADCASTSS(bx, bv)
	asm.FirstMatch(name, p, n, 16, 4, func(src Op, k Register) { VCMPPS(U8(pred), src, bv, k) }, loadZ, n)
}
