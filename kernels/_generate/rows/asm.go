// Command rows generates kernels/rows_amd64.s: the inner products of one
// query with many stored rows in one call. Single-query search spends its
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
	rows(true, masks)
	rows(false, masks)
	Generate()
}

func rows(avx512 bool, masks Mem) {
	name, level, width := "dotRowsAVX512", "AVX-512", 16
	vec := ZMM
	if !avx512 {
		name, level, width = "dotRowsAVX2", "AVX2+FMA", 8
		vec = YMM
	}
	TEXT(name, NOSPLIT, "func(q, x []float32, d int, out []float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets out[j] = dot(q[:d], x[j*d:(j+1)*d]) for j < len(out), using %s. Requires len(q) >= d, len(x) >= len(out)*d.", name, level))
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

	// one row: acc += q*x, over d values
	row := func(label string) {
		acc := vec()
		VXORPS(acc, acc, acc)
		pq, px, n := GP64(), GP64(), GP64()
		MOVQ(q0, pq)
		MOVQ(x, px)
		MOVQ(d, n)
		qv, xv := vec(), vec()
		Label(label + "_loop")
		CMPQ(n, U32(uint32(width)))
		JL(LabelRef(label + "_tail"))
		VMOVUPS(Mem{Base: pq}, qv)
		VFMADD231PS(Mem{Base: px}, qv, acc)
		ADDQ(U32(uint32(4*width)), pq)
		ADDQ(U32(uint32(4*width)), px)
		SUBQ(U32(uint32(width)), n)
		JMP(LabelRef(label + "_loop"))
		Label(label + "_tail")
		TESTQ(n, n)
		JZ(LabelRef(label + "_sum"))
		tailLoad(Mem{Base: pq}, qv)
		tailLoad(Mem{Base: px}, xv)
		VFMADD231PS(xv, qv, acc)
		Label(label + "_sum")
		var s Register
		if avx512 {
			s = asm.ReduceZ(acc)
		} else {
			s = asm.ReduceY(acc)
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
