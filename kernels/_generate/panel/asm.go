// Command panel generates kernels/panel_amd64.s: exact search's register-
// blocked micro-kernel, in the manner of a BLAS sgemm kernel. It computes a
// block of 32 queries x 12 stored rows of inner products per call with the
// 24 accumulators in ZMM registers the whole time, so no horizontal sum is
// ever needed:
//
//   - the 32 queries are packed once per search, coordinate by coordinate
//     (qt[32*c+i] is coordinate c of query i), so coordinate c of all 32 is
//     two contiguous 64-byte loads;
//   - the stored rows are read where they lie: coordinate c of each of the
//     12 rows is broadcast to all lanes and multiplied into its two
//     accumulators.
//
// Per coordinate that is 24 multiply-adds for 2 vector loads and 12
// broadcasts, against 16 multiply-adds for 8 loads in the 4x4 rank tile,
// which also pays a horizontal reduction per 16 values. At the end each
// accumulator holds 16 queries' dot products with one row; they become
// ranking values (beta[r] + alpha*dot) and are compared with the 32 queries'
// bounds there, so the caller only visits entries that can enter a result.
//
//	go run ./panel -out ../panel_amd64.s -stubs ../panel_amd64.go
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/oxvec/oxvec/kernels/_generate/internal/asm"
)

const (
	lanes   = 16          // float32 per ZMM
	queries = 2 * lanes   // queries per panel: two ZMMs per row
	rows    = 12          // stored rows per call: 24 accumulators, 32 registers
	unroll  = 4           // coordinates per loop iteration
	qtStep  = 4 * queries // bytes of qt per coordinate
)

func main() {
	asm.Header()
	panelAVX512()
	Generate()
}

const sig = "func(qt, x []float32, d int, alpha float32, beta []float32, bound *[32]float32, out *[384]float32, masks *[12]uint32) uint32"

func panelAVX512() {
	const name = "rankPanelAVX512"
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets out[32*r+i] = beta[r] + alpha*sum(qt[32*c+i]*x[r*d+c] for c < d) for r < 12, i < 32, sets bit i of masks[r] when out[32*r+i] <= bound[i], and returns the OR of masks, using AVX-512. qt holds 32 queries packed coordinate by coordinate. Requires d >= 1, len(qt) >= 32*d, len(x) >= 12*d, len(beta) >= 12.", name))

	qt := Load(Param("qt").Base(), GP64())
	px := Load(Param("x").Base(), GP64())
	n := Load(Param("d"), GP64())
	stride, stride3 := GP64(), GP64()
	MOVQ(n, stride)
	SHLQ(U8(2), stride)
	LEAQ(Mem{Base: stride, Index: stride, Scale: 2}, stride3)
	// rows 0-3, 4-7 and 8-11 hang off one base register each
	var base [rows / 4]Register
	base[0] = px
	for b := 1; b < len(base); b++ {
		base[b] = GP64()
		LEAQ(Mem{Base: base[b-1], Index: stride, Scale: 4}, base[b])
	}
	row := func(r, c int) Mem {
		m := asm.Row(base[r/4], stride, stride3, r%4)
		m.Disp = 4 * c
		return m
	}

	var acc [rows][2]VecVirtual
	for r := range acc {
		for h := range acc[r] {
			acc[r][h] = ZMM()
			VXORPS(acc[r][h], acc[r][h], acc[r][h])
		}
	}
	qv := [2]VecVirtual{ZMM(), ZMM()}
	xv := ZMM()
	step := func(c int) {
		VMOVUPS(Mem{Base: qt, Disp: qtStep * c}, qv[0])
		VMOVUPS(Mem{Base: qt, Disp: qtStep*c + 64}, qv[1])
		for r := 0; r < rows; r++ {
			VBROADCASTSS(row(r, c), xv)
			VFMADD231PS(xv, qv[0], acc[r][0])
			VFMADD231PS(xv, qv[1], acc[r][1])
		}
	}
	advance := func(coords int) {
		ADDQ(U32(qtStep*coords), qt)
		for _, b := range base {
			ADDQ(U32(4*coords), b)
		}
		SUBQ(U32(coords), n)
	}

	Label(name + "_loop")
	CMPQ(n, U32(unroll))
	JL(LabelRef(name + "_tail"))
	for c := 0; c < unroll; c++ {
		step(c)
	}
	advance(unroll)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_rank"))
	step(0)
	advance(1)
	JMP(LabelRef(name + "_tail"))

	// ranking values, their compare masks and the stores
	Label(name + "_rank")
	alpha := ZMM()
	a, err := Param("alpha").Resolve()
	if err != nil {
		panic(err)
	}
	VBROADCASTSS(a.Addr, alpha) // from memory: alpha's register may be Z16-Z31
	pbeta := Load(Param("beta").Base(), GP64())
	pbound := Load(Param("bound"), GP64())
	out := Load(Param("out"), GP64())
	pmasks := Load(Param("masks"), GP64())
	bound := [2]VecVirtual{ZMM(), ZMM()}
	VMOVUPS(Mem{Base: pbound}, bound[0])
	VMOVUPS(Mem{Base: pbound, Disp: 64}, bound[1])
	any := GP32()
	XORL(any, any)
	for r := 0; r < rows; r++ {
		b := ZMM()
		VBROADCASTSS(Mem{Base: pbeta, Disp: 4 * r}, b)
		var k [2]Register
		for h := range acc[r] {
			a := acc[r][h]
			VFMADD213PS(b, alpha, a) // a = alpha*a + beta[r]
			VMOVUPS(a, Mem{Base: out, Disp: 4 * (queries*r + lanes*h)})
			k[h] = K()
			VCMPPS(U8(2), bound[h], a, k[h]) // a <= bound (ordered: NaN never passes)
		}
		both, bits := K(), GP32()
		KUNPCKWD(k[0], k[1], both) // queries 16-31 above 0-15
		KMOVD(both, bits)
		MOVL(bits, Mem{Base: pmasks, Disp: 4 * r})
		ORL(bits, any)
	}
	Store(any, ReturnIndex(0))
	VZEROUPPER()
	RET()
}
