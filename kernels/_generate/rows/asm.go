// Command rows generates kernels/rows_amd64.s: the inner products of one
// query with many stored rows in one call, and with the columns of a
// matrix (dotCols). Single-query search spends its
// time here; one call per row would cost as much in call overhead (an
// assembly function called through a Go func value goes through an ABI
// wrapper) as the 128-d product itself. Rows are read one after another:
// measured, taking 4 rows at a time (each query chunk feeding 4 multiply-
// adds) halved the throughput on a base larger than the caches, where four
// interleaved streams lose to one sequential stream, and gained nothing on a
// base in cache.
//
//	go run ./rows -out ../rows_amd64.s -stubs ../rows_amd64.go
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
	masks := GLOBL("rowmasks", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		v := uint32(0)
		if i < 8 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
	rows(true, false, masks)
	rows(false, false, masks)
	rows(true, true, masks)
	rows(false, true, masks)
	cols(true, masks)
	cols(false, masks)
	cols4()
	Generate()
}

// rows: out[j] = dot(q, row j), or with l2 |q - row j|^2 (IVF-Flat lists
// under euclidean metrics, which then store no |x|^2 per vector). Two
// accumulator chains per row: one chain of dependent multiply-adds waited
// on each one's latency (a 128-d row is 8 of them).
func rows(avx512, l2 bool, masks Mem) {
	op, what := "dot", "dot(q[:d], x[j*d:(j+1)*d])"
	if l2 {
		op, what = "l2Sq", "sum((q[i]-x[j*d+i])^2) over i < d"
	}
	name, level, width := op+"RowsAVX512", "AVX-512", 16
	vec := ZMM
	if !avx512 {
		name, level, width = op+"RowsAVX2", "AVX2+FMA", 8
		vec = YMM
	}
	TEXT(name, NOSPLIT, "func(q, x []float32, d int, out []float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets out[j] = %s for j < len(out), using %s. Requires len(q) >= d, len(x) >= len(out)*d.", name, what, level))
	q0 := Load(Param("q").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	d := Load(Param("d"), GP64())
	out := Load(Param("out").Base(), GP64())
	nrows := Load(Param("out").Len(), GP64())
	stride := GP64()
	MOVQ(d, stride)
	SHLQ(U8(2), stride)

	// the tail: a mask register (AVX-512) or a lane mask loaded from a
	// sliding window of set and clear int32s (AVX2)
	k := K()
	mask := YMM()
	rem := GP64()
	MOVQ(d, rem)
	ANDQ(U32(uint32(width-1)), rem)
	if avx512 {
		asm.TailMask(rem, k, 16)
	} else {
		off, tbl := GP64(), GP64()
		MOVQ(U32(8), off)
		SUBQ(rem, off)
		ANDQ(U32(7), off)
		LEAQ(masks, tbl)
		VMOVDQU(Mem{Base: tbl, Index: off, Scale: 4}, mask)
	}
	tailLoad := func(m Mem, v VecVirtual) {
		if avx512 {
			VMOVUPS_Z(m, k, v)
		} else {
			VMASKMOVPS(m, mask, v)
		}
	}
	// acc += q*x, or (q-x)^2
	step := func(qv VecVirtual, xm Op, acc VecVirtual) {
		if !l2 {
			VFMADD231PS(xm, qv, acc)
			return
		}
		t := vec()
		VSUBPS(xm, qv, t)
		VFMADD231PS(t, t, acc)
	}

	// one row over d values
	row := func(label string) {
		acc0, acc1 := vec(), vec()
		VXORPS(acc0, acc0, acc0)
		VXORPS(acc1, acc1, acc1)
		pq, px, n := GP64(), GP64(), GP64()
		MOVQ(q0, pq)
		MOVQ(x, px)
		MOVQ(d, n)
		qv, qw, xv := vec(), vec(), vec()
		Label(label + "_pair")
		CMPQ(n, U32(uint32(2*width)))
		JL(LabelRef(label + "_single"))
		VMOVUPS(Mem{Base: pq}, qv)
		VMOVUPS(Mem{Base: pq, Disp: 4 * width}, qw)
		step(qv, Mem{Base: px}, acc0)
		step(qw, Mem{Base: px, Disp: 4 * width}, acc1)
		ADDQ(U32(uint32(8*width)), pq)
		ADDQ(U32(uint32(8*width)), px)
		SUBQ(U32(uint32(2*width)), n)
		JMP(LabelRef(label + "_pair"))
		Label(label + "_single")
		CMPQ(n, U32(uint32(width)))
		JL(LabelRef(label + "_tail"))
		VMOVUPS(Mem{Base: pq}, qv)
		step(qv, Mem{Base: px}, acc0)
		ADDQ(U32(uint32(4*width)), pq)
		ADDQ(U32(uint32(4*width)), px)
		SUBQ(U32(uint32(width)), n)
		Label(label + "_tail")
		TESTQ(n, n)
		JZ(LabelRef(label + "_sum"))
		tailLoad(Mem{Base: pq}, qv)
		tailLoad(Mem{Base: px}, xv)
		step(qv, xv, acc1)
		Label(label + "_sum")
		VADDPS(acc1, acc0, acc0)
		var s Register
		if avx512 {
			s = asm.ReduceZ(acc0)
		} else {
			s = asm.ReduceY(acc0)
		}
		VMOVSS(s, Mem{Base: out})
	}

	Label(name + "_ones")
	TESTQ(nrows, nrows)
	JZ(LabelRef(name + "_done"))
	row(name + "_r")
	ADDQ(stride, x)
	ADDQ(U32(4), out)
	DECQ(nrows)
	JMP(LabelRef(name + "_ones"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// cols: out[j] = sum_i q[i]*x[i*n+j], n = len(out). Product-quantization
// tables are this product with each sub-space's centroids stored column-
// wise: a short sub-vector (often 4 to 16 values) against 256 centroids is a
// poor fit for one-row-at-a-time dot products (each ends in a horizontal
// sum), while here every multiply-add fills a whole vector. Blocks of 8
// vectors of columns keep 8 independent accumulator chains in flight; the
// last columns go one vector at a time and then through a mask.
func cols(avx512 bool, masks Mem) {
	name, level, width := "dotColsAVX512", "AVX-512", 16
	vec := ZMM
	if !avx512 {
		name, level, width = "dotColsAVX2", "AVX2+FMA", 8
		vec = YMM
	}
	TEXT(name, NOSPLIT, "func(q, x []float32, d int, out []float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets out[j] = sum over i < d of q[i]*x[i*len(out)+j], using %s. Requires len(q) >= d, len(x) >= d*len(out).", name, level))
	q0 := Load(Param("q").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	d := Load(Param("d"), GP64())
	out := Load(Param("out").Base(), GP64())
	n := Load(Param("out").Len(), GP64())
	stride := GP64()
	MOVQ(n, stride)
	SHLQ(U8(2), stride)
	bytes := 4 * width

	k := K()
	mask := YMM()
	block := func(label string, nv int, masked bool) {
		acc := make([]VecVirtual, nv)
		for v := range acc {
			acc[v] = vec()
		}
		asm.ZeroAll(acc...)
		pq, px, cnt, b := GP64(), GP64(), GP64(), vec()
		MOVQ(q0, pq)
		MOVQ(x, px)
		MOVQ(d, cnt)
		Label(label + "_loop")
		TESTQ(cnt, cnt)
		JZ(LabelRef(label + "_store"))
		VBROADCASTSS(Mem{Base: pq}, b)
		for v := range acc {
			m := Mem{Base: px, Disp: bytes * v}
			switch {
			case masked && avx512:
				t := vec()
				VMOVUPS_Z(m, k, t)
				VFMADD231PS(t, b, acc[v])
			case masked:
				t := vec()
				VMASKMOVPS(m, mask, t)
				VFMADD231PS(t, b, acc[v])
			default:
				VFMADD231PS(m, b, acc[v])
			}
		}
		ADDQ(U8(4), pq)
		ADDQ(stride, px)
		DECQ(cnt)
		JMP(LabelRef(label + "_loop"))
		Label(label + "_store")
		for v := range acc {
			m := Mem{Base: out, Disp: bytes * v}
			switch {
			case masked && avx512:
				VMOVUPS(acc[v], k, m)
			case masked:
				VMASKMOVPS(acc[v], mask, m)
			default:
				VMOVUPS(acc[v], m)
			}
		}
		ADDQ(U32(uint32(bytes*nv)), x)
		ADDQ(U32(uint32(bytes*nv)), out)
		SUBQ(U32(uint32(width*nv)), n)
	}

	Label(name + "_wide")
	CMPQ(n, U32(uint32(8*width)))
	JL(LabelRef(name + "_one"))
	block(name+"_w", 8, false)
	JMP(LabelRef(name + "_wide"))

	Label(name + "_one")
	CMPQ(n, U32(uint32(width)))
	JL(LabelRef(name + "_tail"))
	block(name+"_o", 1, false)
	JMP(LabelRef(name + "_one"))

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	if avx512 {
		asm.TailMask(n, k, 16)
	} else {
		off, tbl := GP64(), GP64()
		MOVQ(U32(8), off)
		SUBQ(n, off)
		LEAQ(masks, tbl)
		VMOVDQU(Mem{Base: tbl, Index: off, Scale: 4}, mask)
	}
	block(name+"_t", 1, true)

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// cols4 is cols for 4 queries at once (AVX-512) with strided rows: each
// loaded vector of x feeds 4 multiply-adds, so a matrix larger than L1 (a
// 384 x 384 rotation is 590 KB) is read once per 4 queries instead of once
// per query; the strides let product-quantization tables take 4 queries'
// sub-vectors in place and write 4 queries' tables in place.
func cols4() {
	const name, width = "matMul4AVX512", 16
	TEXT(name, NOSPLIT, "func(q []float32, qstride int, x []float32, d, n int, out []float32, ostride int)")
	Pragma("noescape")
	Doc(name + " sets out[r*ostride+j] = sum over i < d of q[r*qstride+i]*x[i*n+j] for r < 4, j < n, using AVX-512. Requires the slices to hold those indexes.")
	q0 := Load(Param("q").Base(), GP64())
	qs := Load(Param("qstride"), GP64())
	x := Load(Param("x").Base(), GP64())
	d := Load(Param("d"), GP64())
	n := Load(Param("n"), GP64())
	out := Load(Param("out").Base(), GP64())
	os := Load(Param("ostride"), GP64())
	stride, os3, qs3 := GP64(), GP64(), GP64()
	MOVQ(n, stride)
	SHLQ(U8(2), stride)
	SHLQ(U8(2), os)
	LEAQ(Mem{Base: os, Index: os, Scale: 2}, os3)
	SHLQ(U8(2), qs)
	LEAQ(Mem{Base: qs, Index: qs, Scale: 2}, qs3)
	row := asm.Row
	k := K()
	block := func(label string, nv int, masked bool) {
		acc := make([][]VecVirtual, 4)
		for r := range acc {
			acc[r] = make([]VecVirtual, nv)
			for v := range acc[r] {
				acc[r][v] = ZMM()
			}
			asm.ZeroAll(acc[r]...)
		}
		pq, px, cnt := GP64(), GP64(), GP64()
		MOVQ(q0, pq)
		MOVQ(x, px)
		MOVQ(d, cnt)
		Label(label + "_loop")
		TESTQ(cnt, cnt)
		JZ(LabelRef(label + "_store"))
		xs := make([]VecVirtual, nv)
		for v := range xs {
			xs[v] = ZMM()
			if masked {
				VMOVUPS_Z(Mem{Base: px, Disp: 64 * v}, k, xs[v])
			} else {
				VMOVUPS(Mem{Base: px, Disp: 64 * v}, xs[v])
			}
		}
		for r := range 4 {
			b := ZMM()
			VBROADCASTSS(row(pq, qs, qs3, r), b)
			for v := range xs {
				VFMADD231PS(xs[v], b, acc[r][v])
			}
		}
		ADDQ(U8(4), pq)
		ADDQ(stride, px)
		DECQ(cnt)
		JMP(LabelRef(label + "_loop"))
		Label(label + "_store")
		for r := range 4 {
			for v := range nv {
				m := row(out, os, os3, r)
				m.Disp = 64 * v
				if masked {
					VMOVUPS(acc[r][v], k, m)
				} else {
					VMOVUPS(acc[r][v], m)
				}
			}
		}
		ADDQ(U32(uint32(64*nv)), x)
		ADDQ(U32(uint32(64*nv)), out)
		SUBQ(U32(uint32(width*nv)), n)
	}

	Label(name + "_wide")
	CMPQ(n, U32(4*width))
	JL(LabelRef(name + "_one"))
	block(name+"_w", 4, false)
	JMP(LabelRef(name + "_wide"))

	Label(name + "_one")
	CMPQ(n, U32(width))
	JL(LabelRef(name + "_tail"))
	block(name+"_o", 1, false)
	JMP(LabelRef(name + "_one"))

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	asm.TailMask(n, k, 16)
	block(name+"_t", 1, true)

	Label(name + "_done")
	VZEROUPPER()
	RET()
}
