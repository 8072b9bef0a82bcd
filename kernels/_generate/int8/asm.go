// Command int8 generates kernels/int8_amd64.s: the dot product of int8
// vectors and the squared L2 distance of uint8 vectors, the distances of
// scalar-quantized codes.
//
//	go run ./int8 -out ../int8_amd64.s -stubs ../int8_amd64.go -pkg kernels
package main

import (
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/oxvec/oxvec/kernels/_generate/internal/asm"
)

func main() {
	asm.Header()
	flip := ConstData("signflip", U8(0x80))
	one := ConstData("bytesone", U8(1))
	dotI8VNNI(flip, one)
	dotU8I8Rows4VNNI()
	encodeU8AVX512()
	dotI8AVX2()
	l2U8AVX512()
	l2U8AVX2()
	dotU8F32AVX512()
	dotU8F32AVX2()
	nib := ConstData("nibblemask", U32(15))
	for _, bits := range []int{8, 4} {
		rows4(bits, false, nib)
		rows4(bits, true, nib)
	}
	dotU4F32AVX512(nib)
	dotU4F32AVX2(nib)
	Generate()
}

// storeInt returns the low 32-bit lane of x.
func storeInt(x Register) {
	r := GP32()
	VMOVD(x, r)
	Store(r, ReturnIndex(0))
}

func header(name, sig, doc string) (Mem, Mem, Register) {
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc)
	pa := Mem{Base: Load(Param("a").Base(), GP64())}
	pb := Mem{Base: Load(Param("b").Base(), GP64())}
	n := Load(Param("a").Len(), GP64())
	return pa, pb, n
}

// dotI8VNNI: VPDPBUSD multiplies unsigned by signed bytes, so a is biased
// to unsigned (a+128, by flipping its sign bit) and the bias is taken off at
// the end: sum((a+128)*b) - 128*sum(b).
func dotI8VNNI(flip, one Mem) {
	const name = "dotI8VNNI"
	pa, pb, n := header(name, "func(a, b []int8) int32",
		"dotI8VNNI returns sum(int32(a[i])*int32(b[i])) over i < len(a), using AVX-512 VNNI. Requires len(b) >= len(a).")
	acc, accB, flips, ones := ZMM(), ZMM(), ZMM(), ZMM()
	VPXORD(acc, acc, acc)
	VPXORD(accB, accB, accB)
	VPBROADCASTB(flip, flips)
	VPBROADCASTB(one, ones)
	ua, vb := ZMM(), ZMM()

	Label(name + "_loop")
	CMPQ(n, U32(64))
	JL(LabelRef(name + "_tail"))
	VPXORD(pa, flips, ua)
	VMOVDQU8(pb, vb)
	VPDPBUSD(vb, ua, acc)
	VPDPBUSD(vb, ones, accB)
	ADDQ(U32(64), pa.Base)
	ADDQ(U32(64), pb.Base)
	SUBQ(U32(64), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_reduce"))
	k := K()
	asm.TailMask(n, k, 64)
	VMOVDQU8_Z(pa, k, ua)
	VPXORD_Z(ua, flips, k, ua) // masked-off lanes stay 0: they add nothing
	VMOVDQU8_Z(pb, k, vb)
	VPDPBUSD(vb, ua, acc)
	VPDPBUSD(vb, ones, accB)

	Label(name + "_reduce")
	VPSLLD(U8(7), accB, accB) // 128*sum(b)
	VPSUBD(accB, acc, acc)
	storeInt(asm.ReduceIntZ(acc))
	VZEROUPPER() // clean upper halves: Go code after this runs SSE, slow on a dirty upper state
	RET()
}

func dotI8AVX2() {
	const name = "dotI8AVX2"
	pa, pb, n := header(name, "func(a, b []int8) int32",
		"dotI8AVX2 returns sum(int32(a[i])*int32(b[i])) over i < len(a), using AVX2. Requires len(b) >= len(a).")
	acc0, acc1 := YMM(), YMM()
	VPXOR(acc0, acc0, acc0)
	VPXOR(acc1, acc1, acc1)
	wa, wb, wa2, wb2 := YMM(), YMM(), YMM(), YMM()

	Label(name + "_loop")
	CMPQ(n, U32(32))
	JL(LabelRef(name + "_scalar"))
	VPMOVSXBW(pa, wa) // 16 bytes -> 16 words
	VPMOVSXBW(pb, wb)
	VPMADDWD(wb, wa, wa) // pairs of products -> 8 int32
	VPADDD(wa, acc0, acc0)
	VPMOVSXBW(pa.Offset(16), wa2)
	VPMOVSXBW(pb.Offset(16), wb2)
	VPMADDWD(wb2, wa2, wa2)
	VPADDD(wa2, acc1, acc1)
	ADDQ(U32(32), pa.Base)
	ADDQ(U32(32), pb.Base)
	SUBQ(U32(32), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_scalar")
	VPADDD(acc1, acc0, acc0)
	sum := asm.ReduceIntY(acc0)
	total := GP32()
	VMOVD(sum, total)
	x, y := GP32(), GP32()
	Label(name + "_tailloop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	MOVBLSX(pa, x)
	MOVBLSX(pb, y)
	IMULL(y, x)
	ADDL(x, total)
	INCQ(pa.Base)
	INCQ(pb.Base)
	DECQ(n)
	JMP(LabelRef(name + "_tailloop"))
	Label(name + "_done")
	VZEROUPPER() // clean upper halves: Go code after this runs SSE, slow on a dirty upper state
	Store(total, ReturnIndex(0))
	RET()
}

func l2U8AVX512() {
	const name = "l2U8AVX512"
	pa, pb, n := header(name, "func(a, b []uint8) uint32",
		"l2U8AVX512 returns sum((int(a[i])-int(b[i]))^2) over i < len(a), using AVX-512 BW. Requires len(b) >= len(a).")
	acc := ZMM()
	VPXORD(acc, acc, acc)
	wa, wb := ZMM(), ZMM()

	Label(name + "_loop")
	CMPQ(n, U32(32))
	JL(LabelRef(name + "_tail"))
	VPMOVZXBW(pa, wa) // 32 bytes -> 32 words
	VPMOVZXBW(pb, wb)
	VPSUBW(wb, wa, wa)
	VPMADDWD(wa, wa, wa) // (a-b)^2 pairwise summed -> 16 int32
	VPADDD(wa, acc, acc)
	ADDQ(U32(32), pa.Base)
	ADDQ(U32(32), pb.Base)
	SUBQ(U32(32), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_reduce"))
	k := K()
	asm.TailMask(n, k, 32)
	ya, yb := YMM(), YMM()
	VMOVDQU8_Z(pa, k, ya)
	VMOVDQU8_Z(pb, k, yb)
	VPMOVZXBW(ya, wa)
	VPMOVZXBW(yb, wb)
	VPSUBW(wb, wa, wa)
	VPMADDWD(wa, wa, wa)
	VPADDD(wa, acc, acc)

	Label(name + "_reduce")
	storeInt(asm.ReduceIntZ(acc))
	VZEROUPPER() // clean upper halves: Go code after this runs SSE, slow on a dirty upper state
	RET()
}

func l2U8AVX2() {
	const name = "l2U8AVX2"
	pa, pb, n := header(name, "func(a, b []uint8) uint32",
		"l2U8AVX2 returns sum((int(a[i])-int(b[i]))^2) over i < len(a), using AVX2. Requires len(b) >= len(a).")
	acc := YMM()
	VPXOR(acc, acc, acc)
	wa, wb := YMM(), YMM()

	Label(name + "_loop")
	CMPQ(n, U32(16))
	JL(LabelRef(name + "_scalar"))
	VPMOVZXBW(pa, wa) // 16 bytes -> 16 words
	VPMOVZXBW(pb, wb)
	VPSUBW(wb, wa, wa)
	VPMADDWD(wa, wa, wa)
	VPADDD(wa, acc, acc)
	ADDQ(U32(16), pa.Base)
	ADDQ(U32(16), pb.Base)
	SUBQ(U32(16), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_scalar")
	sum := asm.ReduceIntY(acc)
	total := GP32()
	VMOVD(sum, total)
	x, y := GP32(), GP32()
	Label(name + "_tailloop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	MOVBLZX(pa, x)
	MOVBLZX(pb, y)
	SUBL(y, x)
	IMULL(x, x)
	ADDL(x, total)
	INCQ(pa.Base)
	INCQ(pb.Base)
	DECQ(n)
	JMP(LabelRef(name + "_tailloop"))
	Label(name + "_done")
	VZEROUPPER() // clean upper halves: Go code after this runs SSE, slow on a dirty upper state
	Store(total, ReturnIndex(0))
	RET()
}

// dotU8F32 is the scan of scalar-quantized codes: float32 weights (one per
// dimension, made from the query) times uint8 codes, widened to int32,
// converted, and fused-multiply-added.
func dotU8F32AVX512() {
	const name = "dotU8F32AVX512"
	TEXT(name, NOSPLIT, "func(w []float32, c []uint8) float32")
	Pragma("noescape")
	Doc(name + " returns sum(w[i]*float32(c[i])) over i < len(w), using AVX-512. Requires len(c) >= len(w).")
	pw := Mem{Base: Load(Param("w").Base(), GP64())}
	pc := Mem{Base: Load(Param("c").Base(), GP64())}
	n := Load(Param("w").Len(), GP64())
	acc0, acc1, x0, x1 := ZMM(), ZMM(), ZMM(), ZMM()
	VXORPS(acc0, acc0, acc0)
	VXORPS(acc1, acc1, acc1)

	Label(name + "_loop")
	CMPQ(n, U32(32))
	JL(LabelRef(name + "_single"))
	VPMOVZXBD(pc, x0)
	VCVTDQ2PS(x0, x0)
	VFMADD231PS(pw, x0, acc0)
	VPMOVZXBD(pc.Offset(16), x1)
	VCVTDQ2PS(x1, x1)
	VFMADD231PS(pw.Offset(64), x1, acc1)
	ADDQ(U32(32), pc.Base)
	ADDQ(U32(128), pw.Base)
	SUBQ(U32(32), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_single")
	VADDPS(acc1, acc0, acc0)
	CMPQ(n, U32(16))
	JL(LabelRef(name + "_tail"))
	VPMOVZXBD(pc, x0)
	VCVTDQ2PS(x0, x0)
	VFMADD231PS(pw, x0, acc0)
	ADDQ(U32(16), pc.Base)
	ADDQ(U32(64), pw.Base)
	SUBQ(U32(16), n)

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_reduce"))
	k := K()
	asm.TailMask(n, k, 16)
	VPMOVZXBD_Z(pc, k, x0)
	VCVTDQ2PS(x0, x0)
	VMOVUPS_Z(pw, k, x1)
	VFMADD231PS(x1, x0, acc0)

	Label(name + "_reduce")
	ret := asm.ReduceZ(acc0)
	VZEROUPPER() // clean upper halves: Go code after this runs SSE, slow on a dirty upper state
	Store(ret, ReturnIndex(0))
	RET()
}

func dotU8F32AVX2() {
	const name = "dotU8F32AVX2"
	TEXT(name, NOSPLIT, "func(w []float32, c []uint8) float32")
	Pragma("noescape")
	Doc(name + " returns sum(w[i]*float32(c[i])) over i < len(w), using AVX2 and FMA. Requires len(c) >= len(w).")
	pw := Mem{Base: Load(Param("w").Base(), GP64())}
	pc := Mem{Base: Load(Param("c").Base(), GP64())}
	n := Load(Param("w").Len(), GP64())
	acc0, acc1, x0, x1 := YMM(), YMM(), YMM(), YMM()
	VXORPS(acc0, acc0, acc0)
	VXORPS(acc1, acc1, acc1)

	Label(name + "_loop")
	CMPQ(n, U32(16))
	JL(LabelRef(name + "_scalar"))
	VPMOVZXBD(pc, x0)
	VCVTDQ2PS(x0, x0)
	VFMADD231PS(pw, x0, acc0)
	VPMOVZXBD(pc.Offset(8), x1)
	VCVTDQ2PS(x1, x1)
	VFMADD231PS(pw.Offset(32), x1, acc1)
	ADDQ(U32(16), pc.Base)
	ADDQ(U32(64), pw.Base)
	SUBQ(U32(16), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_scalar")
	VADDPS(acc1, acc0, acc0)
	sum := asm.ReduceY(acc0)
	b, f := GP32(), XMM()
	Label(name + "_tailloop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	MOVBLZX(pc, b)
	VCVTSI2SSL(b, f, f)
	VFMADD231SS(pw, f, sum)
	INCQ(pc.Base)
	ADDQ(U8(4), pw.Base)
	DECQ(n)
	JMP(LabelRef(name + "_tailloop"))
	Label(name + "_done")
	VZEROUPPER() // clean upper halves: Go code after this runs SSE, slow on a dirty upper state
	Store(sum, ReturnIndex(0))
	RET()
}

// rows4 scores many codes for 4 queries at once: each code is loaded,
// widened and converted once and feeds 4 multiply-adds (one per query's
// weights), where one query at a time spent two of every three
// instructions on the conversion; and one call covers a whole run of codes,
// where one call per code paid a call and a horizontal sum per code.
//
// square adds sum(v[j]*c[j]^2) to every query's score: the code's own part
// of a euclidean distance, computed here (two instructions per 16 values,
// shared by the 4 queries) instead of stored per vector as 4 more bytes.
// bits 4: byte j of a code holds value j in its low nibble and value h+j in
// its high nibble; weight (and v) rows are the h low weights, then the h
// high ones.
func rows4(bits int, square bool, nib Mem) {
	name := "dotU8F32Rows4"
	sig := "func(w []float32, d int, codes []uint8, stride int, out []float32)"
	doc := "sets out[4*i+r] = sum over j < d of w[r*d+j]*float32(codes[i*stride+j])"
	need := "len(w) >= 4*d, len(codes) >= (len(out)/4-1)*stride+d"
	if bits == 4 {
		name, doc = "dotU4F32Rows4", "sets out[4*i+r] = sum over j < h of w[r*2h+j]*float32(c[j]&15) + w[r*2h+h+j]*float32(c[j]>>4), c = codes[i*stride:]"
		sig = "func(w []float32, h int, codes []uint8, stride int, out []float32)"
		need = "len(w) >= 8*h, len(codes) >= (len(out)/4-1)*stride+h"
	}
	if square {
		name += "Sq"
		sig = strings.Replace(sig, "w []float32,", "w, v []float32,", 1)
		doc += " plus the same sum with v for w and the values squared"
	}
	name += "AVX512"
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(name + " " + doc + ", for r < 4 and i < len(out)/4, using AVX-512. Requires " + need + ".")
	pw := Load(Param("w").Base(), GP64())
	var pv Register
	if square {
		pv = Load(Param("v").Base(), GP64())
	}
	dname := "d"
	if bits == 4 {
		dname = "h"
	}
	// half: bytes of a row's weights for one value per code byte (the low
	// weights of 4 bits; the high ones follow); wd: bytes per weight row
	half := Load(Param(dname), GP64())
	pc := Load(Param("codes").Base(), GP64())
	stride := Load(Param("stride"), GP64())
	po := Load(Param("out").Base(), GP64())
	n := Load(Param("out").Len(), GP64())
	SHRQ(U8(2), n)
	wd, wd3 := GP64(), GP64()
	SHLQ(U8(2), half)
	MOVQ(half, wd)
	if bits == 4 {
		SHLQ(U8(1), wd)
	}
	LEAQ(Mem{Base: wd, Index: wd, Scale: 2}, wd3)
	wrow := func(base Register, r int) Mem { return asm.Row(base, wd, wd3, r) }
	k := K()
	var mask VecVirtual
	if bits == 4 {
		mask = ZMM()
		VPBROADCASTD(nib, mask)
	}

	Label(name + "_row")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	acc := []VecVirtual{ZMM(), ZMM(), ZMM(), ZMM()}
	asm.ZeroAll(acc...)
	var sq VecVirtual
	if square {
		sq = ZMM()
		VXORPS(sq, sq, sq)
	}
	c, w, v, cnt := GP64(), GP64(), GP64(), GP64()
	MOVQ(pc, c)
	MOVQ(pw, w)
	if square {
		MOVQ(pv, v)
	}
	MOVQ(half, cnt)
	SHRQ(U8(2), cnt)

	// one step of 16 code bytes (masked: the last cnt < 16)
	step := func(masked bool) {
		x := ZMM()
		if masked {
			VPMOVZXBD_Z(Mem{Base: c}, k, x)
		} else {
			VPMOVZXBD(Mem{Base: c}, x)
		}
		vals := []VecVirtual{x} // 8 bits: one vector of values; 4 bits: low, high
		ptrs := []Register{w}
		if bits == 4 {
			a, b := ZMM(), ZMM()
			VPANDD(mask, x, a)
			VPSRLD(U8(4), x, b)
			wh := GP64()
			LEAQ(Mem{Base: w, Index: half, Scale: 1}, wh)
			vals, ptrs = []VecVirtual{a, b}, []Register{w, wh}
		}
		for _, y := range vals {
			VCVTDQ2PS(y, y)
		}
		for i, y := range vals {
			for r := range 4 {
				m := wrow(ptrs[i], r)
				if masked {
					t := ZMM()
					VMOVUPS_Z(m, k, t)
					VFMADD231PS(t, y, acc[r])
				} else {
					VFMADD231PS(m, y, acc[r])
				}
			}
			if square {
				m := Mem{Base: v}
				if i == 1 {
					m = Mem{Base: v, Index: half, Scale: 1}
				}
				t := ZMM()
				if masked {
					VMOVUPS_Z(m, k, t)
					VMULPS(t, y, t)
				} else {
					VMULPS(m, y, t)
				}
				VFMADD231PS(t, y, sq)
			}
		}
	}

	Label(name + "_chunk")
	CMPQ(cnt, U8(16))
	JL(LabelRef(name + "_tail"))
	step(false)
	ADDQ(U8(16), c)
	ADDQ(U8(64), w)
	if square {
		ADDQ(U8(64), v)
	}
	SUBQ(U8(16), cnt)
	JMP(LabelRef(name + "_chunk"))

	Label(name + "_tail")
	TESTQ(cnt, cnt)
	JZ(LabelRef(name + "_reduce"))
	asm.TailMask(cnt, k, 16)
	step(true)

	// the 4 sums side by side: fold each to 8 lanes, then interleave and
	// add (EVEX-encodable instructions only: the accumulators may live in
	// Z16-Z31)
	Label(name + "_reduce")
	if square {
		for _, a := range acc {
			VADDPS(sq, a, a)
		}
	}
	for _, a := range acc {
		hi := YMM()
		VEXTRACTF32X8(U8(1), a, hi)
		VADDPS(hi, a.AsY(), a.AsY())
	}
	pair := func(a, b VecVirtual) VecVirtual {
		lo, hi := YMM(), YMM()
		VUNPCKLPS(b.AsY(), a.AsY(), lo)
		VUNPCKHPS(b.AsY(), a.AsY(), hi)
		VADDPS(hi, lo, lo)
		return lo
	}
	s01, s23 := pair(acc[0], acc[1]), pair(acc[2], acc[3])
	u0, u1 := YMM(), YMM()
	VUNPCKLPD(s23, s01, u0)
	VUNPCKHPD(s23, s01, u1)
	VADDPS(u1, u0, u0)
	hx := XMM()
	VEXTRACTF32X4(U8(1), u0, hx)
	VADDPS(hx, u0.AsX(), u0.AsX())
	VMOVUPS(u0.AsX(), Mem{Base: po})
	ADDQ(U8(16), po)
	ADDQ(stride, pc)
	DECQ(n)
	JMP(LabelRef(name + "_row"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// dotU4F32 is the scan of 4-bit codes laid out in halves: byte i holds
// dimension i in its low nibble and dimension i+h in its high nibble, so
// both halves widen with the same shuffle-free instructions.
func dotU4F32AVX512(nib Mem) {
	const name = "dotU4F32AVX512"
	TEXT(name, NOSPLIT, "func(lo, hi []float32, c []uint8) float32")
	Pragma("noescape")
	Doc(name + " returns sum(lo[i]*float32(c[i]&15) + hi[i]*float32(c[i]>>4)) over i < len(lo), using AVX-512. Requires len(hi), len(c) >= len(lo).")
	pl := Mem{Base: Load(Param("lo").Base(), GP64())}
	ph := Mem{Base: Load(Param("hi").Base(), GP64())}
	pc := Mem{Base: Load(Param("c").Base(), GP64())}
	n := Load(Param("lo").Len(), GP64())
	acc0, acc1, mask, x, a, b := ZMM(), ZMM(), ZMM(), ZMM(), ZMM(), ZMM()
	VXORPS(acc0, acc0, acc0)
	VXORPS(acc1, acc1, acc1)
	VPBROADCASTD(nib, mask)

	Label(name + "_loop")
	CMPQ(n, U32(16))
	JL(LabelRef(name + "_tail"))
	VPMOVZXBD(pc, x)
	VPANDD(mask, x, a)
	VPSRLD(U8(4), x, b)
	VCVTDQ2PS(a, a)
	VCVTDQ2PS(b, b)
	VFMADD231PS(pl, a, acc0)
	VFMADD231PS(ph, b, acc1)
	ADDQ(U32(16), pc.Base)
	ADDQ(U32(64), pl.Base)
	ADDQ(U32(64), ph.Base)
	SUBQ(U32(16), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_reduce"))
	k := K()
	asm.TailMask(n, k, 16)
	VPMOVZXBD_Z(pc, k, x)
	VPANDD(mask, x, a)
	VPSRLD(U8(4), x, b)
	VCVTDQ2PS(a, a)
	VCVTDQ2PS(b, b)
	wl, wh := ZMM(), ZMM()
	VMOVUPS_Z(pl, k, wl)
	VMOVUPS_Z(ph, k, wh)
	VFMADD231PS(wl, a, acc0)
	VFMADD231PS(wh, b, acc1)

	Label(name + "_reduce")
	VADDPS(acc1, acc0, acc0)
	ret := asm.ReduceZ(acc0)
	VZEROUPPER() // clean upper halves: Go code after this runs SSE, slow on a dirty upper state
	Store(ret, ReturnIndex(0))
	RET()
}

func dotU4F32AVX2(nib Mem) {
	const name = "dotU4F32AVX2"
	TEXT(name, NOSPLIT, "func(lo, hi []float32, c []uint8) float32")
	Pragma("noescape")
	Doc(name + " returns sum(lo[i]*float32(c[i]&15) + hi[i]*float32(c[i]>>4)) over i < len(lo), using AVX2 and FMA. Requires len(hi), len(c) >= len(lo).")
	pl := Mem{Base: Load(Param("lo").Base(), GP64())}
	ph := Mem{Base: Load(Param("hi").Base(), GP64())}
	pc := Mem{Base: Load(Param("c").Base(), GP64())}
	n := Load(Param("lo").Len(), GP64())
	acc0, acc1, mask, x, a, b := YMM(), YMM(), YMM(), YMM(), YMM(), YMM()
	VXORPS(acc0, acc0, acc0)
	VXORPS(acc1, acc1, acc1)
	VPBROADCASTD(nib, mask)

	Label(name + "_loop")
	CMPQ(n, U32(8))
	JL(LabelRef(name + "_scalar"))
	VPMOVZXBD(pc, x)
	VPAND(mask, x, a)
	VPSRLD(U8(4), x, b)
	VCVTDQ2PS(a, a)
	VCVTDQ2PS(b, b)
	VFMADD231PS(pl, a, acc0)
	VFMADD231PS(ph, b, acc1)
	ADDQ(U32(8), pc.Base)
	ADDQ(U32(32), pl.Base)
	ADDQ(U32(32), ph.Base)
	SUBQ(U32(8), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_scalar")
	VADDPS(acc1, acc0, acc0)
	sum := asm.ReduceY(acc0)
	v, t, f := GP32(), GP32(), XMM()
	Label(name + "_tailloop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	MOVBLZX(pc, v)
	MOVL(v, t)
	ANDL(U8(15), t)
	VCVTSI2SSL(t, f, f)
	VFMADD231SS(pl, f, sum)
	SHRL(U8(4), v)
	VCVTSI2SSL(v, f, f)
	VFMADD231SS(ph, f, sum)
	INCQ(pc.Base)
	ADDQ(U8(4), pl.Base)
	ADDQ(U8(4), ph.Base)
	DECQ(n)
	JMP(LabelRef(name + "_tailloop"))
	Label(name + "_done")
	VZEROUPPER() // clean upper halves: Go code after this runs SSE, slow on a dirty upper state
	Store(sum, ReturnIndex(0))
	RET()
}

// dotU8I8Rows4VNNI is the coarse search of inverted files in int8: 4
// queries (unsigned bytes) against 4 stored rows (signed bytes) per tile,
// each loaded chunk feeding 4 VPDPBUSD, 64 multiply-adds each - four times
// the float32 tile's rate - with the 16 sums reduced 4 at a time and
// turned into float ranking scores (add[j] + mul[i]*(sum - bias[j])), so
// the caller can select with the float scan helpers.
func dotU8I8Rows4VNNI() {
	const name = "dotU8I8Rows4VNNI"
	TEXT(name, NOSPLIT, "func(q []uint8, x []int8, d int, bias, add []float32, mul *[4]float32, out []float32)")
	Pragma("noescape")
	Doc(name + " sets out[i*n+j] = add[j] + mul[i]*(float32(sum over t < d of int32(q[i*d+t])*int32(x[j*d+t])) - bias[j]) for i < 4 and j < n = len(out)/4, using AVX-512 VNNI. Requires d a multiple of 64, n a multiple of 4, len(q) >= 4*d, len(x) >= n*d, len(bias), len(add) >= n.")
	pq := Load(Param("q").Base(), GP64())
	px := Load(Param("x").Base(), GP64())
	d := Load(Param("d"), GP64())
	pb := Load(Param("bias").Base(), GP64())
	pa := Load(Param("add").Base(), GP64())
	pm := Load(Param("mul"), GP64())
	po := Load(Param("out").Base(), GP64())
	n := Load(Param("out").Len(), GP64())
	SHRQ(U8(2), n)
	ostride, ostride3, d3 := GP64(), GP64(), GP64()
	MOVQ(n, ostride)
	SHLQ(U8(2), ostride) // bytes per output row
	LEAQ(Mem{Base: ostride, Index: ostride, Scale: 2}, ostride3)
	LEAQ(Mem{Base: d, Index: d, Scale: 2}, d3)
	row := asm.Row
	var mul [4]VecVirtual
	for i := range mul {
		mul[i] = XMM()
		VBROADCASTSS(Mem{Base: pm, Disp: 4 * i}, mul[i])
	}
	cnt := GP64()
	SHRQ(U8(2), n) // tiles
	Label(name + "_tile")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	var acc [4][4]VecVirtual
	for i := range acc {
		for j := range acc[i] {
			acc[i][j] = ZMM()
			VPXORD(acc[i][j], acc[i][j], acc[i][j])
		}
	}
	qp, xp := GP64(), GP64()
	MOVQ(pq, qp)
	MOVQ(px, xp)
	MOVQ(d, cnt)
	Label(name + "_chunk")
	TESTQ(cnt, cnt)
	JZ(LabelRef(name + "_reduce"))
	var qv [4]VecVirtual
	for i := range qv {
		qv[i] = ZMM()
		VMOVDQU8(row(qp, d, d3, i), qv[i])
	}
	for j := range 4 {
		xv := ZMM()
		VMOVDQU8(row(xp, d, d3, j), xv)
		for i := range 4 {
			VPDPBUSD(xv, qv[i], acc[i][j])
		}
	}
	ADDQ(U8(64), qp)
	ADDQ(U8(64), xp)
	SUBQ(U8(64), cnt)
	JMP(LabelRef(name + "_chunk"))

	Label(name + "_reduce")
	bias, add := XMM(), XMM()
	VMOVUPS(Mem{Base: pb}, bias)
	VMOVUPS(Mem{Base: pa}, add)
	for i := range 4 {
		sum := asm.Reduce4IntZ(acc[i][0], acc[i][1], acc[i][2], acc[i][3])
		VCVTDQ2PS(sum, sum)
		VSUBPS(bias, sum, sum)
		r := XMM()
		VMOVAPS(add, r)
		VFMADD231PS(mul[i], sum, r) // add + mul*(sum - bias)
		VMOVUPS(r, row(po, ostride, ostride3, i))
	}
	ADDQ(U8(16), po)
	ADDQ(U8(16), pb)
	ADDQ(U8(16), pa)
	LEAQ(Mem{Base: px, Index: d, Scale: 4}, px) // the next 4 stored rows
	DECQ(n)
	JMP(LabelRef(name + "_tile"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// encodeU8AVX512 quantizes a query for dotU8I8Rows4VNNI: one pass for the
// largest magnitude, one to scale, round and narrow 16 values at a time
// (compiled Go spent as long on a 384-d query as the int8 coarse search).
func encodeU8AVX512() {
	const name = "encodeU8AVX512"
	TEXT(name, NOSPLIT, "func(x []float32, out []uint8) float32")
	Pragma("noescape")
	Doc(name + " sets out[i] = uint8(round(x[i]*s) + 128) for i < len(x), s = 127/max|x| (1 if x is all zero), and returns s, using AVX-512. Requires len(out) >= len(x).")
	px := Load(Param("x").Base(), GP64())
	po := Load(Param("out").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	t := GP32()
	absm, top, v := ZMM(), ZMM(), ZMM()
	MOVL(U32(0x7fffffff), t)
	VPBROADCASTD(t, absm)
	VPXORD(top, top, top)
	i, rem, k := GP64(), GP64(), K()
	XORQ(i, i)
	at := Mem{Base: px, Index: i, Scale: 4}
	Label(name + "_max")
	MOVQ(n, rem)
	SUBQ(i, rem)
	CMPQ(rem, U8(16))
	JL(LabelRef(name + "_maxtail"))
	VANDPS(at, absm, v)
	VMAXPS(v, top, top)
	ADDQ(U8(16), i)
	JMP(LabelRef(name + "_max"))
	Label(name + "_maxtail")
	TESTQ(rem, rem)
	JZ(LabelRef(name + "_scale"))
	asm.TailMask(rem, k, 16)
	VMOVUPS_Z(at, k, v)
	VANDPS(v, absm, v)
	VMAXPS(v, top, top)

	Label(name + "_scale")
	lo := asm.FoldZ(top, VMAXPS)
	// s = 127/top, or 1 when top is 0
	s, c := XMM(), XMM()
	MOVL(U32(0x42fe0000), t) // 127.0
	VMOVD(t, c)
	VDIVSS(lo, c, s)
	zero := XMM()
	VXORPS(zero, zero, zero)
	VUCOMISS(zero, lo)
	JNE(LabelRef(name + "_go"))
	MOVL(U32(0x3f800000), t) // 1.0
	VMOVD(t, s)
	Label(name + "_go")
	Store(s, ReturnIndex(0))
	sv, off := ZMM(), ZMM()
	VBROADCASTSS(s, sv)
	MOVL(U32(0x43008000), t) // 128.5
	VPBROADCASTD(t, off)
	XORQ(i, i)
	dst := Mem{Base: po, Index: i, Scale: 1}
	Label(name + "_conv")
	MOVQ(n, rem)
	SUBQ(i, rem)
	CMPQ(rem, U8(16))
	JL(LabelRef(name + "_convtail"))
	VMOVUPS(at, v)
	VFMADD213PS(off, sv, v) // v*s + 128.5, in [1.5, 255.5]
	VCVTTPS2DQ(v, v)        // truncation rounds
	VPMOVDB(v, dst)
	ADDQ(U8(16), i)
	JMP(LabelRef(name + "_conv"))
	Label(name + "_convtail")
	TESTQ(rem, rem)
	JZ(LabelRef(name + "_done"))
	asm.TailMask(rem, k, 16)
	VMOVUPS_Z(at, k, v)
	VFMADD213PS(off, sv, v)
	VCVTTPS2DQ(v, v)
	VPMOVDB(v, k, dst) // masked store: nothing past len(x)
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
