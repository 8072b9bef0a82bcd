package kernels

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
)

// Level is a tier of x86-64 SIMD support.
type Level int

const (
	// Generic is pure Go: every platform, and the reference.
	Generic Level = iota
	// AVX2 is AVX2 with FMA (Haswell and later, Zen and later).
	AVX2
	// AVX512 is AVX-512 F, BW, DQ and VL (Skylake-SP and later, Zen 4 and
	// later). VNNI and VPOPCNTDQ are used when present.
	AVX512
)

// GatherAlign: the gather kernels take rows whose length is a multiple of
// this (indexes pad their stored rows to it with zeros, which change
// neither inner products nor euclidean distances).
const GatherAlign = 16

var levelNames = [...]string{"generic", "avx2", "avx512"}

func (l Level) String() string {
	if l >= 0 && int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// ParseLevel reads a level name as OXVEC_SIMD and the Python API spell it.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Level(i), nil
		}
	}
	return 0, fmt.Errorf("unknown SIMD level %q (known: %s)", s, strings.Join(levelNames[:], ", "))
}

// Set is the kernels of one level. Callers load it once per call.
type Set struct {
	Level Level

	// Dot returns sum(a[i]*b[i]) over i < len(a).
	Dot func(a, b []float32) float32
	// L2Sq returns sum((a[i]-b[i])^2) over i < len(a).
	L2Sq func(a, b []float32) float32
	// L1 returns sum(|a[i]-b[i]|) over i < len(a).
	L1 func(a, b []float32) float32
	// DotRows sets out[j] = dot(q[:d], x row j) for j < len(out): one
	// query against consecutive rows, in one call.
	DotRows func(q, x []float32, d int, out []float32)
	// L2SqRows sets out[j] = L2Sq(q[:d], x row j) for j < len(out).
	L2SqRows func(q, x []float32, d int, out []float32)
	// DotCols sets out[j] = sum(q[i]*x[i*len(out)+j]) over i < d: one
	// query against the columns of d stored rows of len(out) values (the
	// product-quantization tables, centroids stored column-wise).
	DotCols func(q, x []float32, d int, out []float32)
	// MatMul4 sets out[r*ostride+j] = sum(q[r*qstride+i]*x[i*n+j]) over
	// i < d, for r < 4 and j < n: DotCols for 4 queries in one pass over x
	// (4 rows of a matrix product), rows of q and out strided.
	MatMul4 func(q []float32, qstride int, x []float32, d, n int, out []float32, ostride int)
	// L2SqGather sets out[i] = L2Sq(q, row rows[i] of base) and DotGather
	// out[i] = Dot(q, row rows[i]) for i < len(rows), rows of d values;
	// d must be a multiple of GatherAlign.
	L2SqGather func(q, base []float32, d int, rows []uint32, out []float32)
	DotGather  func(q, base []float32, d int, rows []uint32, out []float32)
	// L2U8Gather sets out[i] = L2U8(q, row rows[i] of base) for rows of
	// stride bytes, stride a multiple of 64.
	L2U8Gather func(q, base []uint8, stride int, rows []uint32, out []uint32)
	// RankTile sets out[4*i+j] = beta[j] + alpha*dot(q row i, x row j) for
	// 4 rows of d values each in q and in x, and returns the mask of entries
	// with out[4*i+j] <= bound[i] (bit 4*i+j). Exact search ranks with it:
	// the caller only looks at entries that can enter a result.
	RankTile func(q, x []float32, d int, alpha float32, beta, bound *[4]float32, out *[16]float32) uint32
	// RankPanel sets out[32*r+i] = beta[r] + alpha*dot(query i, x row r)
	// for r < PanelRows stored rows of d >= 1 values and i < PanelQueries
	// queries packed coordinate by coordinate in qt (coordinate c of query
	// i at qt[32*c+i], see PackPanel), sets bit i of masks[r] when
	// out[32*r+i] <= bound[i], and returns the OR of masks. It is RankTile
	// blocked as a BLAS kernel is: 384 values per call, accumulated in
	// registers. Nil where the CPU has no kernel of this shape (AVX2 has
	// too few registers); exact search then takes RankTile.
	RankPanel func(qt, x []float32, d int, alpha float32, beta []float32, bound *[PanelQueries]float32, out *[PanelQueries * PanelRows]float32, masks *[PanelRows]uint32) uint32
	// DotU8I8Rows4 sets out[i*n+j] = add[j] + mul[i]*(float32(sum(int32(q
	// row i)*int32(x row j))) - bias[j]) for i < 4 and j < n = len(out)/4,
	// rows of d bytes; d a multiple of 64, n of 4: int8 ranking scores of 4
	// queries against n rows. Nil where the CPU has no VNNI: the int8
	// coarse search it serves is only worth it at four times the float32
	// rate.
	DotU8I8Rows4 func(q []uint8, x []int8, d int, bias, add []float32, mul *[4]float32, out []float32)
	// EncodeU8 sets out[i] = uint8(round(x[i]*s) + 128) for i < len(x), s
	// = 127/max|x| (1 for an all-zero x), and returns s: a query's bytes
	// for DotU8I8Rows4.
	EncodeU8 func(x []float32, out []uint8) float32
	// DotI8 returns sum(int32(a[i])*int32(b[i])) over i < len(a).
	DotI8 func(a, b []int8) int32
	// L2U8 returns sum((int(a[i])-int(b[i]))^2) over i < len(a).
	L2U8 func(a, b []uint8) uint32
	// DotU8F32 returns sum(w[i]*float32(c[i])) over i < len(w): the scan
	// of scalar-quantized codes.
	DotU8F32 func(w []float32, c []uint8) float32
	// DotU8F32Rows4 sets out[4*i+r] = DotU8F32(w row r, code i) for r < 4
	// and i < len(out)/4, plus sum(v[j]*c[j]^2) when v is not nil: w holds
	// 4 rows of d weights, v one row, code i is codes[i*stride:i*stride+d].
	// The scan of scalar-quantized codes for 4 queries; v gives euclidean
	// distances the code's own term, so indexes need not store it.
	DotU8F32Rows4 func(w, v []float32, d int, codes []uint8, stride int, out []float32)
	// DotU4F32Rows4 is DotU8F32Rows4 for 4-bit codes of h bytes (DotU4F32
	// per query and code): w holds 4 rows of 2h weights, a row's h low-
	// nibble weights then its h high-nibble ones; v (nil or 2h values) the
	// same layout.
	DotU4F32Rows4 func(w, v []float32, h int, codes []uint8, stride int, out []float32)
	// DotU4F32 returns sum(lo[i]*float32(c[i]&15) + hi[i]*float32(c[i]>>4))
	// over i < len(lo): the scan of 4-bit codes stored as two halves.
	DotU4F32 func(lo, hi []float32, c []uint8) float32
	// ADC8 sets out[i] = sum(lut[j*256+codes[i*m+j]]) over j < m for i <
	// len(out): the distances of 8-bit product-quantization codes of m
	// bytes through m tables of 256 entries.
	ADC8 func(lut []float32, codes []uint8, m int, out []float32)
	// FirstAtMost returns the smallest i with x[i] <= b, FirstAtLeast the
	// smallest with x[i] >= b, or len(x): the next score of a scan that can
	// enter a full top-k (the scores hold no NaN).
	FirstAtMost, FirstAtLeast func(x []float32, b float32) int
	// ArgMin returns the smallest i with x[i] = min(x) (0 for an empty x);
	// x holds no NaN.
	ArgMin func(x []float32) int
	// AddScaled sets out[i] = a[i] + s*b[i] for i < len(out).
	AddScaled func(a, b []float32, s float32, out []float32)
	// Hamming returns the number of differing bits of a and b.
	Hamming func(a, b []uint64) int
	// HammingRows sets out[r] = Hamming(q[:w], codes row r) for r <
	// len(out), rows of w >= 1 words (at most 65535 bits).
	HammingRows func(q, codes []uint64, w int, out []uint16)
	// FirstBelowU16 returns the smallest i with x[i] < lim, or len(x): the
	// next row of a scan that can enter a full top-k.
	FirstBelowU16 func(x []uint16, lim uint16) int
}

var generic = Set{
	Level:         Generic,
	Dot:           dotGeneric,
	L2Sq:          l2SqGeneric,
	L1:            l1Generic,
	RankTile:      rankTileGeneric,
	RankPanel:     rankPanelGeneric,
	DotRows:       dotRowsGeneric,
	L2SqRows:      l2SqRowsGeneric,
	DotCols:       dotColsGeneric,
	MatMul4:       matMul4Generic,
	L2SqGather:    l2SqGatherGeneric,
	DotGather:     dotGatherGeneric,
	L2U8Gather:    l2U8GatherGeneric,
	DotI8:         dotI8Generic,
	L2U8:          l2U8Generic,
	Hamming:       hammingGeneric,
	HammingRows:   hammingRowsGeneric,
	FirstBelowU16: firstBelowU16Generic,
	DotU8F32:      dotU8F32Generic,
	DotU4F32:      dotU4F32Generic,
	DotU8F32Rows4: func(w, v []float32, d int, codes []uint8, stride int, out []float32) {
		dotU8F32Rows4Via(dotU8F32Generic, w, v, d, codes, stride, out)
	},
	DotU4F32Rows4: func(w, v []float32, h int, codes []uint8, stride int, out []float32) {
		dotU4F32Rows4Via(dotU4F32Generic, w, v, h, codes, stride, out)
	},
	ADC8:      adc8Generic,
	AddScaled: addScaledGeneric,
	ArgMin:    argMinGeneric,
	EncodeU8:  encodeU8Generic,

	FirstAtMost:  firstAtMostGeneric,
	FirstAtLeast: firstAtLeastGeneric,
}

// sets[l] is the kernel set of level l, nil where this CPU or build lacks
// it; detect lives in the platform files (cpu_*.go).
var sets [AVX512 + 1]*Set = detect()

var current atomic.Pointer[Set]

func init() {
	best := Best()
	if env := os.Getenv("OXVEC_SIMD"); env != "" {
		if l, err := ParseLevel(env); err == nil && l < best {
			best = l // the variable can lower the level, never raise it
		}
	}
	current.Store(sets[best])
}

// Current is the kernel set in use.
func Current() *Set { return current.Load() }

// Available reports whether this CPU and build support level l.
func Available(l Level) bool {
	return l >= 0 && int(l) < len(sets) && sets[l] != nil
}

// Best is the highest level this CPU and build support.
func Best() Level {
	for l := len(sets) - 1; l >= 0; l-- {
		if sets[l] != nil {
			return Level(l)
		}
	}
	return Generic
}

// SetLevel switches every later call to the kernels of level l. Calls
// already running keep the set they loaded.
func SetLevel(l Level) error {
	if !Available(l) {
		return fmt.Errorf("SIMD level %v is not available on this CPU or build (best: %v)", l, Best())
	}
	current.Store(sets[l])
	return nil
}

// Dot is Current().Dot, for callers outside hot loops.
func Dot(a, b []float32) float32 { return current.Load().Dot(a, b) }

// L2Sq is Current().L2Sq, for callers outside hot loops.
func L2Sq(a, b []float32) float32 { return current.Load().L2Sq(a, b) }

// dotU8F32Rows4Via is DotU8F32Rows4 from a one-code kernel (levels without
// a 4-query kernel); the v term is computed in Go.
func dotU8F32Rows4Via(dot func(w []float32, c []uint8) float32, w, v []float32, d int, codes []uint8, stride int, out []float32) {
	for i := range len(out) / 4 {
		c := codes[i*stride : i*stride+d]
		var sq float32
		if v != nil {
			for j, x := range v[:d] {
				f := float32(c[j])
				sq += x * f * f
			}
		}
		for r := range 4 {
			out[4*i+r] = dot(w[r*d:(r+1)*d], c) + sq
		}
	}
}

// dotU4F32Rows4Via is DotU4F32Rows4 from a one-code kernel.
func dotU4F32Rows4Via(dot func(lo, hi []float32, c []uint8) float32, w, v []float32, h int, codes []uint8, stride int, out []float32) {
	for i := range len(out) / 4 {
		c := codes[i*stride : i*stride+h]
		var sq float32
		if v != nil {
			lo, hi := v[:h], v[h:2*h]
			for j, b := range c {
				l, u := float32(b&15), float32(b>>4)
				sq += lo[j]*l*l + hi[j]*u*u
			}
		}
		for r := range 4 {
			row := w[r*2*h : (r+1)*2*h]
			out[4*i+r] = dot(row[:h], row[h:], c) + sq
		}
	}
}
