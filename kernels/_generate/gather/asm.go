// Command gather generates kernels/gather_amd64.s: the distances of one
// query to stored rows picked by index, in one call. A graph search computes
// the distances of a node's unvisited neighbours this way: one call per
// expansion instead of one per neighbour, and while one row is computed the
// next one is prefetched, hiding part of the memory latency that dominates
// graph search.
//
//	go run ./gather -out ../gather_amd64.s -stubs ../gather_amd64.go
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
	for _, avx512 := range []bool{true, false} {
		for _, op := range []string{"l2Sq", "dot"} {
			gather(op, avx512)
		}
	}
	u8Gather(true)
	u8Gather(false)
	prefetch()
	prefetchSpan()
	Generate()
}

func gather(op string, avx512 bool) {
	level, width, vec := "AVX512", 16, ZMM
	if !avx512 {
		level, width, vec = "AVX2", 8, YMM
	}
	name := op + "Gather" + level
	what := "sum((q[j]-x[j])^2)"
	if op == "dot" {
		what = "sum(q[j]*x[j])"
	}
	TEXT(name, NOSPLIT, "func(q, base []float32, d int, rows []uint32, out []float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets out[i] = %s with x = base[rows[i]*d:(rows[i]+1)*d], for i < len(rows), using %s. Requires d >= 1, len(q) >= d, len(out) >= len(rows), every row inside base; d must be a multiple of %d.", name, what, level, width))
	q0 := Load(Param("q").Base(), GP64())
	base := Load(Param("base").Base(), GP64())
	d := Load(Param("d"), GP64())
	rows := Load(Param("rows").Base(), GP64())
	n := Load(Param("rows").Len(), GP64())
	out := Load(Param("out").Base(), GP64())
	stride := GP64() // bytes per row
	MOVQ(d, stride)
	SHLQ(U8(2), stride)

	// the first two cache lines of every row at once: their misses overlap
	// instead of following one another
	row := GP64()
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	// float32 rows are many lines: asking for all of a list's at once
	// measured slower than two lines of each, then the next row's rest
	i := GP64()
	XORQ(i, i)
	Label(name + "_pfall")
	MOVL(Mem{Base: rows, Index: i, Scale: 4}, row.As32())
	IMULQ(stride, row)
	PREFETCHT0(Mem{Base: base, Index: row, Scale: 1})
	PREFETCHT0(Mem{Base: base, Index: row, Scale: 1, Disp: 64})
	INCQ(i)
	CMPQ(i, n)
	JL(LabelRef(name + "_pfall"))

	Label(name + "_row")
	// row = address of the current row; prefetch the next one first
	MOVL(Mem{Base: rows}, row.As32())
	IMULQ(stride, row)
	ADDQ(base, row)
	CMPQ(n, U32(1))
	JE(LabelRef(name + "_compute"))
	next := GP64()
	MOVL(Mem{Base: rows, Disp: 4}, next.As32())
	IMULQ(stride, next)
	ADDQ(base, next)
	prefetchRow(next, stride, name+"_pf")

	Label(name + "_compute")
	acc := []VecVirtual{vec(), vec()}
	for _, a := range acc {
		VXORPS(a, a, a)
	}
	pq, px, m := GP64(), GP64(), GP64()
	MOVQ(q0, pq)
	MOVQ(row, px)
	MOVQ(d, m)
	t := []VecVirtual{vec(), vec()}
	step := func(u int, off int) {
		VMOVUPS(Mem{Base: px, Disp: off}, t[u])
		if op == "dot" {
			VFMADD231PS(Mem{Base: pq, Disp: off}, t[u], acc[u])
		} else {
			VSUBPS(Mem{Base: pq, Disp: off}, t[u], t[u])
			VFMADD231PS(t[u], t[u], acc[u])
		}
	}
	Label(name + "_pair")
	CMPQ(m, U32(uint32(2*width)))
	JL(LabelRef(name + "_single"))
	step(0, 0)
	step(1, 4*width)
	ADDQ(U32(uint32(8*width)), pq)
	ADDQ(U32(uint32(8*width)), px)
	SUBQ(U32(uint32(2*width)), m)
	JMP(LabelRef(name + "_pair"))
	Label(name + "_single")
	TESTQ(m, m)
	JZ(LabelRef(name + "_sum"))
	step(0, 0)
	Label(name + "_sum")
	VADDPS(acc[1], acc[0], acc[0])
	var s Register
	if avx512 {
		s = asm.ReduceZ(acc[0])
	} else {
		s = asm.ReduceY(acc[0])
	}
	VMOVSS(s, Mem{Base: out})
	ADDQ(U32(4), rows)
	ADDQ(U32(4), out)
	DECQ(n)
	JNZ(LabelRef(name + "_row"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// prefetchRow issues PREFETCHT0 for the cache lines of the row at addr
// after its first two (which the kernel prefetched up front).
// prefetchRows asks for every cache line of every row named in rows (n of
// them, stride bytes each, at base) before any is computed: for code rows
// (a few lines each) the misses of a whole neighbour list then overlap
// instead of following one another (two lines of each row, then the rest
// of the next row while one is computed, measured slower on
// wordnet-minilm codes). row is scratch.
func prefetchRows(name string, base, stride, rows, n Register, row GPVirtual) {
	i := GP64()
	XORQ(i, i)
	Label(name + "_pfall")
	MOVL(Mem{Base: rows, Index: i, Scale: 4}, row.As32())
	IMULQ(stride, row)
	ADDQ(base, row)
	PREFETCHT0(Mem{Base: row})
	PREFETCHT0(Mem{Base: row, Disp: 64})
	prefetchRow(row, stride, name+"_pf")
	INCQ(i)
	CMPQ(i, n)
	JL(LabelRef(name + "_pfall"))
}

// prefetchRow asks for the lines of the row at addr beyond its first two.
func prefetchRow(addr, stride Register, label string) {
	p, end := GP64(), GP64()
	LEAQ(Mem{Base: addr, Disp: 128}, p)
	LEAQ(Mem{Base: addr, Index: stride, Scale: 1}, end)
	CMPQ(p, end)
	JGE(LabelRef(label + "_end"))
	Label(label)
	PREFETCHT0(Mem{Base: p})
	ADDQ(U32(64), p)
	CMPQ(p, end)
	JL(LabelRef(label))
	Label(label + "_end")
}

// prefetch generates the one-line helper graph searches use to fetch the
// neighbour list of the node they will expand next.
func prefetch() {
	TEXT("prefetch2", NOSPLIT, "func(p *uint32)")
	Pragma("noescape")
	Doc("prefetch2 asks for the two cache lines at p. It reads nothing and cannot fault.")
	p := Load(Param("p"), GP64())
	PREFETCHT0(Mem{Base: p})
	PREFETCHT0(Mem{Base: p, Disp: 64})
	RET()
}

// prefetchSpan generates the helper a walk on codes uses to fetch the
// float32 row of each node it expands, for the re-rank that follows: the
// nodes a walk ends with were all expanded on the way.
func prefetchSpan() {
	TEXT("prefetchSpan", NOSPLIT, "func(p *float32, n int)")
	Pragma("noescape")
	Doc("prefetchSpan asks for the cache lines of the n bytes at p (n a multiple of 64). It reads nothing and cannot fault.")
	p := Load(Param("p"), GP64())
	n := Load(Param("n"), GP64())
	end := GP64()
	LEAQ(Mem{Base: p, Index: n, Scale: 1}, end)
	CMPQ(p, end)
	JGE(LabelRef("prefetchSpan_done"))
	Label("prefetchSpan_line")
	PREFETCHT0(Mem{Base: p})
	ADDQ(U32(64), p)
	CMPQ(p, end)
	JL(LabelRef("prefetchSpan_line"))
	Label("prefetchSpan_done")
	RET()
}

// u8Gather generates the squared L2 distances between uint8 codes (a
// quantized query and quantized stored rows): the distance a graph search
// walks on when it keeps a one-byte copy of every vector. stride is the
// bytes per row, a multiple of 64.
func u8Gather(avx512 bool) {
	level, vec, chunk := "AVX512", ZMM, 32
	if !avx512 {
		level, vec, chunk = "AVX2", YMM, 16
	}
	name := "l2U8Gather" + level
	TEXT(name, NOSPLIT, "func(q, base []uint8, stride int, rows []uint32, out []uint32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets out[i] = sum((q[j]-x[j])^2) with x = base[rows[i]*stride:(rows[i]+1)*stride], for i < len(rows), using %s. Requires stride a multiple of 64, len(q) >= stride, len(out) >= len(rows), every row inside base.", name, level))
	q0 := Load(Param("q").Base(), GP64())
	base := Load(Param("base").Base(), GP64())
	stride := Load(Param("stride"), GP64())
	rows := Load(Param("rows").Base(), GP64())
	n := Load(Param("rows").Len(), GP64())
	out := Load(Param("out").Base(), GP64())

	row := GP64()
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	prefetchRows(name, base, stride, rows, n, row)
	if avx512 {
		for _, w := range fixedU8Strides {
			CMPQ(stride, U32(uint32(w)))
			JE(LabelRef(fmt.Sprintf("%s_s%d", name, w)))
		}
	}

	Label(name + "_row")
	MOVL(Mem{Base: rows}, row.As32())
	IMULQ(stride, row)
	ADDQ(base, row)

	Label(name + "_compute")
	acc := vec()
	VPXOR(acc.AsY(), acc.AsY(), acc.AsY())
	if avx512 {
		VPXORD(acc, acc, acc)
	}
	pq, px, m := GP64(), GP64(), GP64()
	MOVQ(q0, pq)
	MOVQ(row, px)
	MOVQ(stride, m)
	wq, wx := vec(), vec()
	Label(name + "_chunk")
	VPMOVZXBW(Mem{Base: pq}, wq) // chunk bytes -> chunk words
	VPMOVZXBW(Mem{Base: px}, wx)
	VPSUBW(wx, wq, wq)
	VPMADDWD(wq, wq, wq) // squares, pairwise summed into int32
	VPADDD(wq, acc, acc)
	ADDQ(U32(uint32(chunk)), pq)
	ADDQ(U32(uint32(chunk)), px)
	SUBQ(U32(uint32(chunk)), m)
	JNZ(LabelRef(name + "_chunk"))
	var s Register
	if avx512 {
		s = asm.ReduceIntZ(acc)
	} else {
		s = asm.ReduceIntY(acc)
	}
	VMOVD(s, Mem{Base: out})
	ADDQ(U32(4), rows)
	ADDQ(U32(4), out)
	DECQ(n)
	JNZ(LabelRef(name + "_row"))

	Label(name + "_done")
	VZEROUPPER()
	RET()
	if avx512 {
		for _, w := range fixedU8Strides {
			u8GatherFixed(fmt.Sprintf("%s_s%d", name, w), name+"_done", w, q0, base, rows, n, out)
		}
	}
}

// fixedU8Strides are the code strides (dim rounded up to 64) whose AVX-512
// gather keeps the query's widened code in registers, unrolled: at d <= 256
// the generic loop spent more instructions reloading and widening the
// query and counting chunks than on the distance (bigann-10k, d = 128).
var fixedU8Strides = []int{64, 128, 192, 256}

// u8GatherFixed is l2U8Gather's AVX-512 body for stride w: the query's w
// codes widened to words once, held in w/32 ZMMs; rows four at a time
// (their sums reduced together, stored as one XMM), then one at a time.
func u8GatherFixed(label, done string, w int, q0, base, rows, n, out Register) {
	Label(label)
	chunks := w / 32
	qw := make([]VecVirtual, chunks)
	for c := range qw {
		qw[c] = ZMM()
		VPMOVZXBW(Mem{Base: q0, Disp: 32 * c}, qw[c])
	}
	rowSum := func(addr Register) VecVirtual {
		var acc VecVirtual
		for c := 0; c < chunks; c++ {
			t := ZMM()
			VPMOVZXBW(Mem{Base: addr, Disp: 32 * c}, t)
			VPSUBW(t, qw[c], t)
			VPMADDWD(t, t, t) // squares, pairwise summed into int32
			if c == 0 {
				acc = t
			} else {
				VPADDD(t, acc, acc)
			}
		}
		return acc
	}
	rowAddr := func(disp int) Register {
		r := GP64()
		MOVL(Mem{Base: rows, Disp: disp}, r.As32())
		IMUL3Q(U32(uint32(w)), r, r)
		ADDQ(base, r)
		return r
	}
	Label(label + "_four")
	CMPQ(n, U32(4))
	JL(LabelRef(label + "_one"))
	var acc [4]VecVirtual
	for i := range acc {
		acc[i] = rowSum(rowAddr(4 * i))
	}
	VMOVDQU32(asm.Reduce4IntZ(acc[0], acc[1], acc[2], acc[3]), Mem{Base: out})
	ADDQ(U32(16), rows)
	ADDQ(U32(16), out)
	SUBQ(U32(4), n)
	JMP(LabelRef(label + "_four"))

	Label(label + "_one")
	TESTQ(n, n)
	JZ(LabelRef(done))
	VMOVD(asm.ReduceIntZ(rowSum(rowAddr(0))), Mem{Base: out})
	ADDQ(U32(4), rows)
	ADDQ(U32(4), out)
	DECQ(n)
	JMP(LabelRef(label + "_one"))
}
