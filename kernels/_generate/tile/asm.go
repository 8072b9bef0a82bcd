// Command tile generates kernels/tile_amd64.s: the 4x4 block of dot
// products between 4 query rows and 4 stored rows that exact search is built
// on, turned into ranking values and compared with each query's current
// bound, so the caller only looks at entries that can enter a result. Each loaded chunk of a row feeds 4 multiply-adds instead of 1, so a
// tile needs a quarter of the loads of 16 separate dot products.
//
//	go run ./tile -out ../tile_amd64.s -stubs ../tile_amd64.go
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/oxvec/oxvec/kernels/_generate/internal/asm"
)

func main() {
	asm.Header()
	masks := GLOBL("tailmasks", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		v := uint32(0)
		if i < 8 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
	tileAVX512()
	tileAVX2(masks)
	Generate()
}

const sig = "func(q, x []float32, d int, alpha float32, beta, bound *[4]float32, out *[16]float32) uint32"

func doc(name, level string) string {
	return fmt.Sprintf("%s sets out[4*i+j] = beta[j] + alpha*dot(q[i*d:(i+1)*d], x[j*d:(j+1)*d]) for i, j < 4 and returns the mask of entries with out[4*i+j] <= bound[i] (bit 4*i+j), using %s. Requires len(q), len(x) >= 4*d.", name, level)
}

// coef holds what rankRow needs: the broadcast alpha and the pointers to
// beta and bound.
type coef struct{ alpha, beta, bound Register }

func loadCoef() coef {
	a := Load(Param("alpha"), XMM())
	VBROADCASTSS(a, a)
	return coef{a, Load(Param("beta"), GP64()), Load(Param("bound"), GP64())}
}

// rankRow turns row i's 4 dot products s (an XMM) into ranking values,
// stores them at out[4*i], and ORs row i's compare mask into mask.
func rankRow(i int, s Register, c coef, out, mask Register, avx512 bool) {
	beta, bound := XMM(), XMM()
	VMOVUPS(Mem{Base: c.beta}, beta)
	VFMADD213PS(beta, c.alpha, s) // s = alpha*s + beta
	VMOVUPS(s, Mem{Base: out, Disp: 16 * i})
	VBROADCASTSS(Mem{Base: c.bound, Disp: 4 * i}, bound)
	bits := GP32()
	if avx512 {
		k := K()
		VCMPPS(U8(2), bound, s, k) // k = s <= bound (ordered: NaN never passes)
		KMOVW(k, bits)
	} else {
		VCMPPS(U8(2), bound, s, s)
		VMOVMSKPS(s, bits)
	}
	if i > 0 {
		SHLL(U8(4*i), bits)
	}
	ORL(bits, mask)
}

// rows returns memory operands for the 4 rows that start at base, stride
// bytes apart.
func rows(base, stride, stride3 Register) (r [4]Mem) {
	for i := range r {
		r[i] = asm.Row(base, stride, stride3, i)
	}
	return r
}

func setup() (q, x [4]Mem, n Register, c coef, out Register) {
	pq := Load(Param("q").Base(), GP64())
	px := Load(Param("x").Base(), GP64())
	n = Load(Param("d"), GP64())
	c = loadCoef()
	out = Load(Param("out"), GP64())
	stride, stride3 := GP64(), GP64()
	MOVQ(n, stride)
	SHLQ(U8(2), stride)
	LEAQ(Mem{Base: stride, Index: stride, Scale: 2}, stride3)
	return rows(pq, stride, stride3), rows(px, stride, stride3), n, c, out
}

func advance(q, x [4]Mem, bytes int) {
	ADDQ(U32(bytes), q[0].Base)
	ADDQ(U32(bytes), x[0].Base)
}

func tileAVX512() {
	const name = "rankTileAVX512"
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc(name, "AVX-512"))
	q, x, n, c, out := setup()
	var acc [4][4]VecVirtual
	for i := range acc {
		for j := range acc[i] {
			acc[i][j] = ZMM()
			VXORPS(acc[i][j], acc[i][j], acc[i][j])
		}
	}
	var qv [4]VecVirtual
	for i := range qv {
		qv[i] = ZMM()
	}
	xv := ZMM()
	body := func(load func(m Mem, v VecVirtual)) {
		for i := range qv {
			load(q[i], qv[i])
		}
		for j := range x {
			load(x[j], xv)
			for i := range qv {
				VFMADD231PS(xv, qv[i], acc[i][j])
			}
		}
	}

	Label(name + "_loop")
	CMPQ(n, U32(16))
	JL(LabelRef(name + "_tail"))
	body(func(m Mem, v VecVirtual) { VMOVUPS(m, v) })
	advance(q, x, 64)
	SUBQ(U32(16), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_reduce"))
	k := K()
	asm.TailMask(n, k, 16)
	body(func(m Mem, v VecVirtual) { VMOVUPS_Z(m, k, v) })

	Label(name + "_reduce")
	mask := GP32()
	XORL(mask, mask)
	for i := range acc {
		s := asm.Reduce4Z(acc[i][0], acc[i][1], acc[i][2], acc[i][3])
		rankRow(i, s, c, out, mask, true)
	}
	Store(mask, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// tileAVX2 runs the 4x4 tile as two passes of 2 query rows, since 16
// accumulators do not fit in AVX2's 16 registers.
func tileAVX2(masks Mem) {
	const name = "rankTileAVX2"
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc(name, "AVX2+FMA"))
	pq0 := Load(Param("q").Base(), GP64())
	px0 := Load(Param("x").Base(), GP64())
	d := Load(Param("d"), GP64())
	c := loadCoef()
	out := Load(Param("out"), GP64())
	mask32 := GP32()
	XORL(mask32, mask32)
	stride, stride3 := GP64(), GP64()
	MOVQ(d, stride)
	SHLQ(U8(2), stride)
	LEAQ(Mem{Base: stride, Index: stride, Scale: 2}, stride3)

	// the tail mask sets lanes [0, d%8): a window into 8 set then 8 clear
	// int32s. VMASKMOVPS never touches memory under a clear lane.
	mask := YMM()
	off, tbl := GP64(), GP64()
	MOVQ(U32(8), off)
	SUBQ(d, off)
	ANDQ(U32(7), off) // (8 - d%8) % 8 ... a full mask when d%8 == 0 is unused
	LEAQ(masks, tbl)
	VMOVDQU(Mem{Base: tbl, Index: off, Scale: 4}, mask)

	for p := 0; p < 2; p++ {
		pq, px, n := GP64(), GP64(), GP64()
		MOVQ(pq0, pq)
		MOVQ(px0, px)
		MOVQ(d, n)
		qr, xr := rows(pq, stride, stride3), rows(px, stride, stride3)
		var acc [2][4]VecVirtual
		for i := range acc {
			for j := range acc[i] {
				acc[i][j] = YMM()
				VXORPS(acc[i][j], acc[i][j], acc[i][j])
			}
		}
		qv := [2]VecVirtual{YMM(), YMM()}
		xv := YMM()
		body := func(load func(m Mem, v VecVirtual)) {
			load(qr[2*p], qv[0])
			load(qr[2*p+1], qv[1])
			for j := range xr {
				load(xr[j], xv)
				VFMADD231PS(xv, qv[0], acc[0][j])
				VFMADD231PS(xv, qv[1], acc[1][j])
			}
		}
		loop, tail, reduce := fmt.Sprintf("%s_loop%d", name, p), fmt.Sprintf("%s_tail%d", name, p), fmt.Sprintf("%s_reduce%d", name, p)
		Label(loop)
		CMPQ(n, U32(8))
		JL(LabelRef(tail))
		body(func(m Mem, v VecVirtual) { VMOVUPS(m, v) })
		ADDQ(U32(32), pq)
		ADDQ(U32(32), px)
		SUBQ(U32(8), n)
		JMP(LabelRef(loop))

		Label(tail)
		TESTQ(n, n)
		JZ(LabelRef(reduce))
		body(func(m Mem, v VecVirtual) { VMASKMOVPS(m, mask, v) })

		Label(reduce)
		for i := range acc {
			s := asm.Reduce4Y(acc[i][0], acc[i][1], acc[i][2], acc[i][3])
			rankRow(2*p+i, s, c, out, mask32, false)
		}
	}
	Store(mask32, ReturnIndex(0))
	VZEROUPPER()
	RET()
}
