// Command rows generates kernels/rows_amd64.s: the inner products of one
// query with many stored rows in one call. Single-query search spends its
// time here; one call per row would cost as much in call overhead (an
// assembly function called through a Go func value goes through an ABI
// wrapper) as the 128-d product itself. Rows are taken 4 at a time, so each
// loaded chunk of the query feeds 4 multiply-adds.
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
	stride, stride3 := GP64(), GP64()
	MOVQ(d, stride)
	SHLQ(U8(2), stride)
	LEAQ(Mem{Base: stride, Index: stride, Scale: 2}, stride3)

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

	// one group of r rows (r = 4 or 1) starting at x: acc[j] += q*x_j
	group := func(r int, label string) {
		acc := make([]VecVirtual, r)
		for j := range acc {
			acc[j] = vec()
			VXORPS(acc[j], acc[j], acc[j])
		}
		pq, px, n := GP64(), GP64(), GP64()
		MOVQ(q0, pq)
		MOVQ(x, px)
		MOVQ(d, n)
		rowMem := func(j int) Mem {
			switch j {
			case 0:
				return Mem{Base: px}
			case 3:
				return Mem{Base: px, Index: stride3, Scale: 1}
			default:
				return Mem{Base: px, Index: stride, Scale: uint8(j)}
			}
		}
		qv, xv := vec(), vec()
		Label(label + "_loop")
		CMPQ(n, U32(uint32(width)))
		JL(LabelRef(label + "_tail"))
		VMOVUPS(Mem{Base: pq}, qv)
		for j := range acc {
			VMOVUPS(rowMem(j), xv)
			VFMADD231PS(xv, qv, acc[j])
		}
		ADDQ(U32(uint32(4*width)), pq)
		ADDQ(U32(uint32(4*width)), px)
		SUBQ(U32(uint32(width)), n)
		JMP(LabelRef(label + "_loop"))
		Label(label + "_tail")
		TESTQ(n, n)
		JZ(LabelRef(label + "_sum"))
		tailLoad(Mem{Base: pq}, qv)
		for j := range acc {
			tailLoad(rowMem(j), xv)
			VFMADD231PS(xv, qv, acc[j])
		}
		Label(label + "_sum")
		if r == 4 {
			var s Register
			if avx512 {
				s = asm.Reduce4Z(acc[0], acc[1], acc[2], acc[3])
			} else {
				s = asm.Reduce4Y(acc[0], acc[1], acc[2], acc[3])
			}
			VMOVUPS(s, Mem{Base: out})
		} else {
			var s Register
			if avx512 {
				s = asm.ReduceZ(acc[0])
			} else {
				s = asm.ReduceY(acc[0])
			}
			VMOVSS(s, Mem{Base: out})
		}
	}

	Label(name + "_fours")
	CMPQ(nrows, U32(4))
	JL(LabelRef(name + "_ones"))
	group(4, name+"_g4")
	LEAQ(Mem{Base: x, Index: stride, Scale: 4}, x)
	ADDQ(U32(16), out)
	SUBQ(U32(4), nrows)
	JMP(LabelRef(name + "_fours"))

	Label(name + "_ones")
	TESTQ(nrows, nrows)
	JZ(LabelRef(name + "_done"))
	group(1, name+"_g1")
	ADDQ(stride, x)
	ADDQ(U32(4), out)
	DECQ(nrows)
	JMP(LabelRef(name + "_ones"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
}
