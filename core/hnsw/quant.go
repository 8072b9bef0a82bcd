package hnsw

import (
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/metric"
)

// sq8 is a one-byte copy of every stored row that searches walk the graph
// on (quantize "int8"): a quarter of the memory traffic of float32 rows,
// which is what graph search waits on. The ef candidates a walk ends with
// are then ranked again on the float32 rows, so reported results and
// distances are exact; only which candidates are found depends on the codes.
//
// Codes are round(x/scale) + 128 with one scale for all dimensions, so the
// squared distance of codes is scale^-2 times that of the rows, up to
// rounding: the same order. The scale follows the largest |value| added so
// far; a batch with a larger one re-encodes every row (O(n d), rare).
type sq8 struct {
	stride int // bytes per row: dim rounded up to 64, padded with the code of 0
	codes  []uint8
	maxAbs float32
}

const codeZero = 128

// quantizable reports whether walking on L2 distances of codes keeps m's
// order: the l2 family directly, and the dot family where prepared vectors
// have unit length (|a-b|^2 = 2 - 2<a,b>).
func quantizable(m *metric.Metric) error {
	switch m.Class() {
	case metric.ClassL2:
		return nil
	case metric.ClassDot:
		if m.Kind != metric.IP {
			return nil
		}
	}
	return fmt.Errorf("%w: quantize \"int8\" needs an l2-family metric or one whose vectors are normalised (cosine, angular, correlation, spearman, bhattacharyya), not %s", errs.Unsupported, m.Kind)
}

func newSQ8(dim int) *sq8 {
	return &sq8{stride: (dim + 63) / 64 * 64}
}

func (q *sq8) scale() float32 { return max(q.maxAbs, 1e-30) / 127 }

// encode writes the code of row x (dim values) into dst (stride bytes).
func (q *sq8) encode(dst []uint8, x []float32) {
	inv := 1 / q.scale()
	for p := dst[len(x):]; len(p) > 0; p = p[copy(p, zeroCodes[:]):] {
	}
	dst = dst[:len(x)]
	for j, v := range x {
		dst[j] = uint8(roundCode(v*inv) + codeZero)
	}
}

// zeroCodes pads a row's code (strides are at most a few hundred bytes
// beyond dim: dim is rounded up to 64).
var zeroCodes = func() (z [64]uint8) {
	for i := range z {
		z[i] = codeZero
	}
	return z
}()

// roundCode is min(127, max(-127, math.Round(a))) without the call and its
// branches (encoding a query was 5% of a search's instructions): clamped
// first, which is the same since rounding keeps order and the bounds are
// integers, then rounded half away from zero by truncating a +- 0.5, which
// float64 adds exactly for any float32 |a| <= 127 (too small an |a| to add
// exactly rounds to at most 0.5 and truncates to 0, as it should). A NaN
// truncates to what math.Round's NaN did, and is clamped after.
func roundCode(a float32) int32 {
	f := float64(min(127, max(-127, a)))
	h := 0.5
	if f < 0 {
		h = -0.5
	}
	return min(127, max(-127, int32(f+h)))
}

func (q *sq8) code(i uint32) []uint8 { return q.codes[int(i)*q.stride : int(i+1)*q.stride] }

// widen raises the scale to cover a batch; it reports whether existing
// codes must be re-encoded.
func (q *sq8) widen(x []float32) bool {
	var m float32
	for _, v := range x {
		m = max(m, abs32(v))
	}
	if m <= q.maxAbs {
		return false
	}
	q.maxAbs = m
	return true
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// encodeAll re-encodes every stored row (after the scale changed).
func (h *HNSW) encodeAll() {
	for node := 0; node < h.used; node++ {
		h.quant.encode(h.quant.code(uint32(node)), h.vec(uint32(node))[:h.Dim()])
	}
}

func (q *sq8) bytes() int64 {
	if q == nil {
		return 0
	}
	return int64(cap(q.codes))
}
