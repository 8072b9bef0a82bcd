// Command adc generates kernels/adc_amd64.s: the scans of product-quantized
// codes. Asymmetric distance computation sums, per code, one table entry per
// sub-quantizer; the tables (m rows of 256 float32) stay in L1/L2 and the
// work is loads. Compiled Go spent six instructions per entry on bounds
// checks and address arithmetic; here it is a byte load and an add from
// memory, eight independent sums per code.
//
//	go run ./adc -out ../adc_amd64.s -stubs ../adc_amd64.go
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
	adc8()
	addScaled(true)
	addScaled(false)
	Generate()
}

func adc8() {
	const name = "adc8Scalar"
	TEXT(name, NOSPLIT, "func(lut []float32, codes []uint8, m int, out []float32)")
	Pragma("noescape")
	Doc(name + " sets out[i] = sum over j < m of lut[j*256+codes[i*m+j]] for i < len(out), using scalar AVX. Requires len(codes) >= m*len(out), len(lut) >= 256*m.")
	lut := Load(Param("lut").Base(), GP64())
	pc := Load(Param("codes").Base(), GP64())
	m := Load(Param("m"), GP64())
	po := Load(Param("out").Base(), GP64())
	n := Load(Param("out").Len(), GP64())
	const unroll = 8

	Label(name + "_code")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	acc := make([]VecVirtual, unroll)
	for u := range acc {
		acc[u] = XMM()
	}
	asm.ZeroAll(acc...)
	pt, j := GP64(), GP64()
	MOVQ(lut, pt)
	MOVQ(m, j)

	Label(name + "_eight")
	CMPQ(j, U8(unroll))
	JL(LabelRef(name + "_one"))
	for u := range unroll {
		b := GP64()
		MOVBQZX(Mem{Base: pc, Disp: u}, b)
		VADDSS(Mem{Base: pt, Index: b, Scale: 4, Disp: 1024 * u}, acc[u], acc[u])
	}
	ADDQ(U8(unroll), pc)
	ADDQ(U32(1024*unroll), pt)
	SUBQ(U8(unroll), j)
	JMP(LabelRef(name + "_eight"))

	Label(name + "_one")
	TESTQ(j, j)
	JZ(LabelRef(name + "_sum"))
	b := GP64()
	MOVBQZX(Mem{Base: pc}, b)
	VADDSS(Mem{Base: pt, Index: b, Scale: 4}, acc[0], acc[0])
	INCQ(pc)
	ADDQ(U32(1024), pt)
	DECQ(j)
	JMP(LabelRef(name + "_one"))

	Label(name + "_sum")
	for step := 1; step < unroll; step *= 2 {
		for i := 0; i+step < unroll; i += 2 * step {
			VADDSS(acc[i+step], acc[i], acc[i])
		}
	}
	VMOVSS(acc[0], Mem{Base: po})
	ADDQ(U8(4), po)
	DECQ(n)
	JMP(LabelRef(name + "_code"))

	Label(name + "_done")
	RET()
}

// addScaled: out[i] = a[i] + s*b[i] over whole vectors; the caller does
// the last len(out) % width values.
func addScaled(avx512 bool) {
	name, level, width := "addScaledAVX512", "AVX-512", 16
	vec := ZMM
	if !avx512 {
		name, level, width = "addScaledAVX2", "AVX2+FMA", 8
		vec = YMM
	}
	TEXT(name, NOSPLIT, "func(a, b []float32, s float32, out []float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets out[i] = a[i] + s*b[i] for i < len(out) rounded down to a multiple of %d, using %s. Requires len(a), len(b) >= len(out).", name, width, level))
	pa := Load(Param("a").Base(), GP64())
	pb := Load(Param("b").Base(), GP64())
	po := Load(Param("out").Base(), GP64())
	n := Load(Param("out").Len(), GP64())
	s := vec()
	VBROADCASTSS(Load(Param("s"), XMM()), s)
	Label(name + "_loop")
	CMPQ(n, U8(width))
	JL(LabelRef(name + "_done"))
	v := vec()
	VMOVUPS(Mem{Base: pa}, v)
	VFMADD231PS(Mem{Base: pb}, s, v)
	VMOVUPS(v, Mem{Base: po})
	ADDQ(U8(4*width), pa)
	ADDQ(U8(4*width), pb)
	ADDQ(U8(4*width), po)
	SUBQ(U8(width), n)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
