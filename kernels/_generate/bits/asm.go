// Command bits generates kernels/bits_amd64.s: the hamming distance of
// packed bit vectors (popcount of a XOR b).
//
//	go run ./bits -out ../bits_amd64.s -stubs ../bits_amd64.go
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
	hammingAVX512()
	hammingAVX2()
	hammingRowsPOPCNT()
	for _, w := range []int{2, 4, 6, 8} {
		hammingRowsFixed(w)
	}
	firstBelowU16AVX512()
	hammingRows2AVX512()
	Generate()
}

// firstBelowU16 finds the next candidate of a scan: after the first rows of
// a hamming scan almost no row beats the heap's bound, and comparing 32
// counts per instruction skips them where a compare and branch per row
// cost as much as computing the counts.
func firstBelowU16AVX512() {
	const name = "firstBelowU16AVX512"
	TEXT(name, NOSPLIT, "func(x []uint16, lim uint16) int")
	Pragma("noescape")
	Doc(name + " returns the smallest i with x[i] < lim, or len(x) if there is none, using AVX-512 BW.")
	p := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	l := Load(Param("lim"), GP32())
	lim := ZMM()
	VPBROADCASTW(l, lim)
	asm.FirstMatch(name, p, n, 32, 2, func(src Op, k Register) {
		VPCMPUW(U8(6), src, lim, k) // lim > x (predicate 6, NLE: src1 > src2)
	}, func(m Mem, mask Register, dst VecVirtual) { VMOVDQU16_Z(m, mask, dst) }, n)
}

func header(name, doc string) (Mem, Mem, Register) {
	TEXT(name, NOSPLIT, "func(a, b []uint64) int")
	Pragma("noescape")
	Doc(doc)
	pa := Mem{Base: Load(Param("a").Base(), GP64())}
	pb := Mem{Base: Load(Param("b").Base(), GP64())}
	n := Load(Param("a").Len(), GP64())
	return pa, pb, n
}

func hammingAVX512() {
	const name = "hammingAVX512"
	pa, pb, n := header(name, "hammingAVX512 returns sum(popcount(a[i]^b[i])) over i < len(a), using AVX-512 VPOPCNTDQ. Requires len(b) >= len(a).")
	acc0, acc1 := ZMM(), ZMM()
	VPXORQ(acc0, acc0, acc0)
	VPXORQ(acc1, acc1, acc1)
	x0, x1 := ZMM(), ZMM()

	Label(name + "_loop")
	CMPQ(n, U32(16))
	JL(LabelRef(name + "_single"))
	VMOVDQU64(pa, x0)
	VPXORQ(pb, x0, x0)
	VPOPCNTQ(x0, x0)
	VPADDQ(x0, acc0, acc0)
	VMOVDQU64(pa.Offset(64), x1)
	VPXORQ(pb.Offset(64), x1, x1)
	VPOPCNTQ(x1, x1)
	VPADDQ(x1, acc1, acc1)
	ADDQ(U32(128), pa.Base)
	ADDQ(U32(128), pb.Base)
	SUBQ(U32(16), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_single")
	VPADDQ(acc1, acc0, acc0)
	TESTQ(n, n)
	JZ(LabelRef(name + "_reduce"))
	CMPQ(n, U32(8))
	JL(LabelRef(name + "_tail"))
	VMOVDQU64(pa, x0)
	VPXORQ(pb, x0, x0)
	VPOPCNTQ(x0, x0)
	VPADDQ(x0, acc0, acc0)
	ADDQ(U32(64), pa.Base)
	ADDQ(U32(64), pb.Base)
	SUBQ(U32(8), n)

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_reduce"))
	k := K()
	asm.TailMask(n, k, 16)
	VMOVDQU64_Z(pa, k, x0)
	VMOVDQU64_Z(pb, k, x1)
	VPXORQ(x1, x0, x0)
	VPOPCNTQ(x0, x0)
	VPADDQ(x0, acc0, acc0)

	Label(name + "_reduce")
	hi := YMM()
	VEXTRACTI64X4(U8(1), acc0, hi)
	VPADDQ(hi, acc0.AsY(), acc0.AsY())
	lo := XMM()
	VEXTRACTI128(U8(1), acc0.AsY(), lo)
	VPADDQ(lo, acc0.AsX(), acc0.AsX())
	t := XMM()
	VPSHUFD(U8(0x4e), acc0.AsX(), t)
	VPADDQ(t, acc0.AsX(), acc0.AsX())
	r := GP64()
	VMOVQ(acc0.AsX(), r)
	VZEROUPPER() // clean upper halves: Go code after this runs SSE, slow on a dirty upper state
	Store(r, ReturnIndex(0))
	RET()
}

// hammingAVX2 counts bits with the nibble-lookup method: a byte's popcount is
// lut[low nibble] + lut[high nibble] via VPSHUFB, and VPSADBW sums bytes.
func hammingAVX2() {
	const name = "hammingAVX2"
	pa, pb, n := header(name, "hammingAVX2 returns sum(popcount(a[i]^b[i])) over i < len(a), using AVX2. Requires len(b) >= len(a).")
	lutData := GLOBL("popcountlut", RODATA|NOPTR)
	for i, v := range []uint8{0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4} {
		DATA(i, U8(v))
	}
	nibData := GLOBL("lownibble", RODATA|NOPTR)
	DATA(0, U8(0x0f))

	lut, nib, zero, acc := YMM(), YMM(), YMM(), YMM()
	VBROADCASTI128(lutData, lut)
	VPBROADCASTB(nibData, nib)
	VPXOR(zero, zero, zero)
	VPXOR(acc, acc, acc)
	x, lo, hi := YMM(), YMM(), YMM()

	Label(name + "_loop")
	CMPQ(n, U32(4))
	JL(LabelRef(name + "_scalar"))
	VMOVDQU(pa, x)
	VPXOR(pb, x, x)
	VPAND(nib, x, lo)
	VPSRLW(U8(4), x, hi)
	VPAND(nib, hi, hi)
	VPSHUFB(lo, lut, lo)
	VPSHUFB(hi, lut, hi)
	VPADDB(hi, lo, lo)
	VPSADBW(zero, lo, lo)
	VPADDQ(lo, acc, acc)
	ADDQ(U32(32), pa.Base)
	ADDQ(U32(32), pb.Base)
	SUBQ(U32(4), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_scalar")
	t := XMM()
	VEXTRACTI128(U8(1), acc, t)
	VPADDQ(t, acc.AsX(), acc.AsX())
	VPSHUFD(U8(0x4e), acc.AsX(), t)
	VPADDQ(t, acc.AsX(), acc.AsX())
	total := GP64()
	VMOVQ(acc.AsX(), total)
	w := GP64()
	Label(name + "_tailloop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	MOVQ(pa, w)
	XORQ(pb, w)
	POPCNTQ(w, w)
	ADDQ(w, total)
	ADDQ(U32(8), pa.Base)
	ADDQ(U32(8), pb.Base)
	DECQ(n)
	JMP(LabelRef(name + "_tailloop"))
	Label(name + "_done")
	VZEROUPPER() // clean upper halves: Go code after this runs SSE, slow on a dirty upper state
	Store(total, ReturnIndex(0))
	RET()
}

// hammingRowsPOPCNT is the scan of binary indexes: one query code against
// consecutive codes of w words, with scalar POPCNT. Go's bits.OnesCount64
// checks for POPCNT at every call when built for baseline amd64, which cost
// half the scan's time.
func hammingRowsPOPCNT() {
	const name = "hammingRowsPOPCNT"
	TEXT(name, NOSPLIT, "func(q, codes []uint64, w int, out []uint16)")
	Pragma("noescape")
	Doc(name + " sets out[r] = sum(popcount(q[i]^codes[r*w+i])) over i < w, for r < len(out). Requires w >= 1, len(q) >= w and len(codes) >= w*len(out).")
	pq := Load(Param("q").Base(), GP64())
	pc := Load(Param("codes").Base(), GP64())
	w := Load(Param("w"), GP64())
	po := Load(Param("out").Base(), GP64())
	n := Load(Param("out").Len(), GP64())
	acc, i, x := GP64(), GP64(), GP64()

	Label(name + "_row")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	XORQ(acc, acc)
	XORQ(i, i)
	Label(name + "_word")
	MOVQ(Mem{Base: pc, Index: i, Scale: 8}, x)
	XORQ(Mem{Base: pq, Index: i, Scale: 8}, x)
	POPCNTQ(x, x)
	ADDQ(x, acc)
	INCQ(i)
	CMPQ(i, w)
	JL(LabelRef(name + "_word"))
	MOVW(acc.As16(), Mem{Base: po})
	LEAQ(Mem{Base: pc, Index: w, Scale: 8}, pc)
	ADDQ(U8(2), po)
	DECQ(n)
	JMP(LabelRef(name + "_row"))

	Label(name + "_done")
	RET()
}

// hammingRowsFixed is hammingRowsPOPCNT unrolled for codes of exactly w
// words (128 to 512 bits): no inner loop, two accumulators.
func hammingRowsFixed(w int) {
	name := fmt.Sprintf("hammingRows%dPOPCNT", w)
	TEXT(name, NOSPLIT, "func(q, codes []uint64, out []uint16)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets out[r] = sum(popcount(q[i]^codes[r*%d+i])) over i < %d, for r < len(out). Requires len(q) >= %d and len(codes) >= %d*len(out).", name, w, w, w, w))
	pq := Load(Param("q").Base(), GP64())
	pc := Load(Param("codes").Base(), GP64())
	po := Load(Param("out").Base(), GP64())
	n := Load(Param("out").Len(), GP64())
	qs := make([]Register, w)
	for i := range qs {
		qs[i] = GP64()
		MOVQ(Mem{Base: pq, Disp: 8 * i}, qs[i])
	}
	a0, a1, x, y := GP64(), GP64(), GP64(), GP64()
	Label(name + "_row")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	for i := 0; i < w; i += 2 {
		MOVQ(Mem{Base: pc, Disp: 8 * i}, x)
		XORQ(qs[i], x)
		MOVQ(Mem{Base: pc, Disp: 8 * (i + 1)}, y)
		XORQ(qs[i+1], y)
		if i == 0 {
			POPCNTQ(x, a0)
			POPCNTQ(y, a1)
		} else {
			POPCNTQ(x, x)
			ADDQ(x, a0)
			POPCNTQ(y, y)
			ADDQ(y, a1)
		}
	}
	ADDQ(a1, a0)
	MOVW(a0.As16(), Mem{Base: po})
	ADDQ(U32(8*w), pc)
	ADDQ(U8(2), po)
	DECQ(n)
	JMP(LabelRef(name + "_row"))
	Label(name + "_done")
	RET()
}

// hammingRows2AVX512 is the scan of 128-bit codes with VPOPCNTQ: 4 codes
// per vector, 8 per step, the two words' counts of a code added by one
// horizontal add of the narrowed counts. The scalar kernel spent 7
// instructions per code; this spends about 10 per 8.
func hammingRows2AVX512() {
	const name = "hammingRows2AVX512"
	TEXT(name, NOSPLIT, "func(q, codes []uint64, out []uint16)")
	Pragma("noescape")
	Doc(name + " sets out[r] = popcount(q[0]^codes[2r]) + popcount(q[1]^codes[2r+1]) for r < len(out) rounded down to a multiple of 8, using AVX-512 VPOPCNTDQ. Requires len(q) >= 2, len(codes) >= 2*len(out).")
	pq := Load(Param("q").Base(), GP64())
	pc := Load(Param("codes").Base(), GP64())
	po := Load(Param("out").Base(), GP64())
	n := Load(Param("out").Len(), GP64())
	SHRQ(U8(3), n)
	q4 := ZMM()
	VBROADCASTI32X4(Mem{Base: pq}, q4) // the 2 words, 4 times
	Label(name + "_loop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	a, b := ZMM(), ZMM()
	VPXORQ(Mem{Base: pc}, q4, a)
	VPXORQ(Mem{Base: pc, Disp: 64}, q4, b)
	VPOPCNTQ(a, a)
	VPOPCNTQ(b, b)
	wa, wb := XMM(), XMM()
	VPMOVQW(a, wa) // 8 words: the 2 counts of codes 0-3
	VPMOVQW(b, wb) // codes 4-7
	VPHADDW(wb, wa, wa)
	VMOVDQU(wa, Mem{Base: po})
	ADDQ(U8(128), pc)
	ADDQ(U8(16), po)
	DECQ(n)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
