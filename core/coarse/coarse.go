// Package coarse finds the cells an inverted-file search probes: for each
// query the nprobe nearest centroids, by l2 (l2-family indexes: squared l2
// reported) or inner product (dot family: 1 - dot reported, as the flat
// index does).
//
// At nlist = 1024 and 384 dimensions this coarse step was 42% of an
// IVF-Flat search at nprobe 1, at 85% of the float32 multiply-add peak.
// Where the CPU has AVX-512 VNNI, centroids are also kept in int8 and
// every centroid is first scored in int8 (VPDPBUSD: four times the
// float32 rate); the best nprobe + margin of those are scored again
// exactly in float32 and the best nprobe returned, so distances are exact
// and the cells are an exact search's unless int8 rounding pushed one of
// the true nprobe nearest below the margin (see margin for how often).
// Without VNNI, for small centroid sets (int8Work), or when the margin
// would cover most centroids, every centroid is scored in float32 by the
// flat index.
package coarse

import (
	"context"
	"math"

	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// Quantizer is read-only once built and safe for concurrent use.
type Quantizer struct {
	dim, k int
	ip     bool
	cents  []float32  // k rows of dim
	exact  *flat.Flat // float32 search over cents
	// int8 copy: rows of dpad bytes (dim rounded up to 64, zero padded),
	// kpad rows (k rounded up to 4)
	dpad, kpad int
	c8         []int8
	bias       []float32 // 128*sum(c8 row): the queries' unsigned offset
	add        []float32 // l2: |c|^2 (the ranking score is |c|^2 - 2<q,c>); dot family: 0
	scale      float32   // c8 = round(c*scale)
	scratch    index.Pool[scratch]
}

type scratch struct {
	u8     []uint8
	scores []float32
	cd     []float32
	ci     []int64
}

// New builds the quantizer over k centroids (rows of dim; kept, not
// copied) with m, the coarse metric: metric.L2 or metric.IP.
func New(centroids []float32, dim int, m *metric.Metric) (*Quantizer, error) {
	f, err := flat.New(dim, m)
	if err != nil {
		return nil, err
	}
	if err := f.Add(context.Background(), centroids, nil, nil); err != nil {
		return nil, err
	}
	q := &Quantizer{dim: dim, k: len(centroids) / dim, ip: m.Class() == metric.ClassDot, cents: centroids, exact: f}
	if kernels.Current().DotU8I8Rows4 != nil && q.k*dim >= int8Work {
		q.quantize()
	}
	return q, nil
}

func (q *Quantizer) quantize() {
	q.dpad, q.kpad = (q.dim+63)&^63, (q.k+3)&^3
	var top float32
	for _, v := range q.cents {
		top = max(top, float32(math.Abs(float64(v))))
	}
	q.scale = 1
	if top > 0 {
		q.scale = 127 / top
	}
	q.c8 = make([]int8, q.kpad*q.dpad)
	q.bias = make([]float32, q.kpad)
	q.add = make([]float32, q.kpad)
	for j := range q.k {
		row, out := q.cents[j*q.dim:(j+1)*q.dim], q.c8[j*q.dpad:]
		var sum int32
		for t, v := range row {
			c := int8(math.Round(float64(v * q.scale)))
			out[t] = c
			sum += int32(c)
			if !q.ip {
				q.add[j] += v * v
			}
		}
		q.bias[j] = 128 * float32(sum)
	}
}

// MemoryBytes is what the quantizer adds to its centroids.
func (q *Quantizer) MemoryBytes() int64 {
	return q.exact.Info().MemoryBytes + int64(len(q.c8)) + int64(len(q.bias)+len(q.add))*4
}

// int8Work is the size of the centroid matrix (k*dim) from which the int8
// path pays: below it the float32 search is short and the query's
// encoding and the exact pass cost more than they save (bigann-10k's 100
// x 128 centroids: 2x slower in int8; wordnet-minilm's 1024 x 384: faster).
const int8Work = 1 << 17

// margin is how many candidates beyond nprobe the int8 scores keep for
// the exact float32 pass. Measured on wordnet-minilm (1024 cells, 384-d):
// recall@10 of IVF-Flat identical to the float32 search at nprobe 1-16
// with margins 4, 8 and 16, and nprobe 1 at 68k, 64k and 57k QPS (float32:
// 49k); the test's clustered sets give the exact cells for all but 1 in
// 5,000. Each candidate costs a heap push, so the margin is kept small.
func margin(nprobe int) int { return max(4, nprobe/2) }

// Search writes the nprobe nearest centroids of each query (prepared rows
// of dim) and their distances into probes and dist (nprobe per query,
// nearest first; nprobe <= the number of centroids).
func (q *Quantizer) Search(ctx context.Context, queries []float32, nprobe int, probes []int64, dist []float32) error {
	ks := kernels.Current()
	cand := nprobe + margin(nprobe)
	if q.c8 == nil || ks.DotU8I8Rows4 == nil || 2*cand > q.k {
		return q.exact.Search(ctx, queries, nprobe, nil, probes, dist)
	}
	nq := len(queries) / q.dim
	return parallel.For(ctx, (nq+3)/4, 8, func(lo, hi int) error {
		sc := q.scratch.Get()
		defer q.scratch.Put(sc)
		sc.u8, sc.scores = index.Grow(sc.u8, 4*q.dpad), index.Grow(sc.scores, 4*q.kpad)
		sc.cd, sc.ci = index.Grow(sc.cd, cand), index.Grow(sc.ci, cand)
		var mul [4]float32 // turns an int8 dot product into the ranking score
		for g := lo; g < hi; g++ {
			q0, n4 := 4*g, min(4, nq-4*g)
			for r := range 4 {
				var row []float32
				if r < n4 {
					row = queries[(q0+r)*q.dim : (q0+r+1)*q.dim]
				}
				// <q,c> ~ dot8 / (scale * s); l2 ranks by |c|^2 - 2<q,c>, ip by -<q,c>
				mul[r] = -1 / (q.scale * encode(ks, row, sc.u8[r*q.dpad:(r+1)*q.dpad]))
				if !q.ip {
					mul[r] *= 2
				}
			}
			ks.DotU8I8Rows4(sc.u8, q.c8, q.dpad, q.bias, q.add, &mul, sc.scores)
			for r := range n4 {
				row := queries[(q0+r)*q.dim : (q0+r+1)*q.dim]
				q.refine(ks, row, sc.scores[r*q.kpad:r*q.kpad+q.k], sc, nprobe, probes[(q0+r)*nprobe:(q0+r+1)*nprobe], dist[(q0+r)*nprobe:(q0+r+1)*nprobe])
			}
		}
		return nil
	})
}

// encode writes row as unsigned bytes round(v*s)+128 (s = 127/max|v|;
// padding and a nil row 128, which stands for 0) and returns s.
func encode(ks *kernels.Set, row []float32, u8 []uint8) float32 {
	s := ks.EncodeU8(row, u8)
	for t := len(row); t < len(u8); t++ {
		u8[t] = 128
	}
	return s
}

// refine keeps the cand best centroids by int8 score, scores them exactly
// and writes the best nprobe.
func (q *Quantizer) refine(ks *kernels.Set, row, scores []float32, sc *scratch, nprobe int, probes []int64, dist []float32) {
	var h index.TopK
	h.Reset(sc.cd, sc.ci)
	for j := index.NextCandidate(ks, scores, 0, 1, 0, h.Bound()); j < len(scores); j = index.NextCandidate(ks, scores, j+1, 1, 0, h.Bound()) {
		if scores[j] <= h.Bound() {
			h.Push(scores[j], int64(j))
		}
	}
	var top index.TopK
	top.Reset(dist, probes)
	for _, j := range sc.ci {
		c := q.cents[int(j)*q.dim : (int(j)+1)*q.dim]
		if q.ip {
			top.Push(1-ks.Dot(row, c), j)
		} else {
			top.Push(max(0, ks.L2Sq(row, c)), j)
		}
	}
	top.Finish()
}
