// Package kmeans clusters float32 vectors under squared euclidean distance:
// k-means++ seeding, parallel Lloyd iterations, sampling of large training
// sets, repair of empty clusters, reproducible from a seed. Every index type
// that partitions or quantizes space (IVF lists, PQ codebooks) trains here.
package kmeans

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/core/progress"
	"github.com/oxvec/oxvec/kernels"
)

// Params configure a run; zero values take the defaults.
type Params struct {
	K              int    // clusters (required)
	Iters          int    // Lloyd iterations, default 20
	Seed           uint64 // default 1
	MaxPerCentroid int    // training points sampled per cluster, default 256 (FAISS's default)
	MinPerCentroid int    // fewer points than K*MinPerCentroid is an error, default 1
}

// Result holds the centroids (K*dim, row-major) and, per training point
// used, its cluster.
type Result struct {
	Centroids []float32
	Sizes     []int // points per cluster in the last assignment (a split cluster's shared between its halves)
}

// Train clusters the rows of x (n*dim).
func Train(ctx context.Context, x []float32, dim int, p Params) (*Result, error) {
	if p.Iters == 0 {
		p.Iters = 20
	}
	if p.Seed == 0 {
		p.Seed = 1
	}
	if p.MaxPerCentroid == 0 {
		p.MaxPerCentroid = 256
	}
	if p.MinPerCentroid == 0 {
		p.MinPerCentroid = 1
	}
	n := len(x) / dim
	if p.K < 1 {
		return nil, fmt.Errorf("%w: k-means needs k >= 1", errs.InvalidArgument)
	}
	if need := p.K * p.MinPerCentroid; n < need {
		return nil, fmt.Errorf("%w: training needs at least %d vectors for %d clusters, got %d", errs.InvalidArgument, need, p.K, n)
	}
	rng := rand.New(rand.NewPCG(p.Seed, 0x6b6d65616e73))
	if limit := p.K * p.MaxPerCentroid; n > limit {
		x, n = sample(x, dim, n, limit, rng), limit
	}
	c := seed(x, dim, n, p.K, rng)
	assign := make([]int64, n)
	dist := make([]float32, n)
	sizes := make([]int, p.K)
	prog := progress.From(ctx)
	prog.Expect(int64(p.Iters))
	nearest := assignerOf(ctx)
	for it := 0; it < p.Iters; it++ {
		if err := nearest(ctx, c, x, dim, assign, dist); err != nil {
			return nil, err
		}
		if err := update(ctx, x, dim, assign, c, sizes); err != nil {
			return nil, err
		}
		repair(x, dim, assign, c, sizes, rng)
		prog.Add(1)
	}
	// no assignment after the last update: nothing uses it (indexes assign
	// what they add), and it was one more pass of 21
	return &Result{Centroids: c, Sizes: sizes}, nil
}

// smallDim is where assignment stops using the flat index's blocked search:
// its 4x4 tiles are built for long vectors. For the 4- to 16-value
// sub-vectors of product quantization, 4 points at a time meet all the
// centroids in one MatMul4 call, and ArgMin picks each point's nearest
// (measured on 65,536 8-d points and 256 centroids, 20 iterations: one
// DotRows call per point was 5x faster than the tiles; MatMul4 took it from
// 1.21 s to 0.89 s, with a scalar argmin then 80% of the time).
const smallDim = 32

// Nearest writes each point's (rows of x) nearest centroid (rows of c) by
// l2 and its squared distance: k-means' assignment, and product
// quantization's encoding.
func Nearest(ctx context.Context, c, x []float32, dim int, assign []int64, dist []float32) error {
	if dim >= smallDim {
		m, err := metric.New(metric.L2, dim, metric.Params{})
		if err != nil {
			return err
		}
		return flat.KNN(ctx, m, c, x, 1, assign, dist)
	}
	// |x-c|^2 - |x|^2 = |c|^2 - 2<x,c> = <(x, 1), (-2c, |c|^2)>: each
	// centroid extended by its squared norm and each point by a 1 make the
	// matrix product the ranking score itself.
	k, da := len(c)/dim, dim+1
	ext := make([]float32, k*da)
	for i := range k {
		ci, ei := c[i*dim:(i+1)*dim], ext[i*da:(i+1)*da]
		for j, v := range ci {
			ei[j] = -2 * v
			ei[dim] += v * v
		}
	}
	ct := kernels.Columns(ext, k, da, nil) // da rows of k values
	ks := kernels.Current()
	n := len(assign)
	return parallel.For(ctx, (n+3)/4, 64, func(lo, hi int) error {
		scores, pts := make([]float32, 4*k), make([]float32, 4*da)
		for g := lo; g < hi; g++ {
			a, b := 4*g, min(4*g+4, n)
			for i := a; i < b; i++ {
				copy(pts[(i-a)*da:], x[i*dim:(i+1)*dim])
				pts[(i-a)*da+dim] = 1
			}
			if b-a == 4 {
				ks.MatMul4(pts, da, ct, da, k, scores, k)
			} else {
				for i := range b - a {
					ks.DotCols(pts[i*da:(i+1)*da], ct, da, scores[i*k:(i+1)*k])
				}
			}
			for i := a; i < b; i++ {
				row := scores[(i-a)*k : (i-a+1)*k]
				best := ks.ArgMin(row)
				p := x[i*dim : (i+1)*dim]
				assign[i], dist[i] = int64(best), max(0, row[best]+ks.Dot(p, p))
			}
		}
		return nil
	})
}

// sample picks limit distinct rows uniformly (partial Fisher-Yates).
func sample(x []float32, dim, n, limit int, rng *rand.Rand) []float32 {
	perm := rng.Perm(n)[:limit]
	out := make([]float32, limit*dim)
	for i, r := range perm {
		copy(out[i*dim:(i+1)*dim], x[r*dim:(r+1)*dim])
	}
	return out
}

// seed is k-means++ on at most 32*k of the points: each next centre is drawn
// with probability proportional to its squared distance to the nearest
// centre so far. Seeding on a subsample keeps it O(32 k^2 d), which for
// k = 4096 is seconds rather than the minutes of the full sample.
func seed(x []float32, dim, n, k int, rng *rand.Rand) []float32 {
	m := min(n, 32*k)
	pts := x
	if m < n {
		pts = sample(x, dim, n, m, rng)
	}
	c := make([]float32, 0, k*dim)
	first := rng.IntN(m)
	c = append(c, pts[first*dim:(first+1)*dim]...)
	d2 := make([]float64, m)
	for i := range d2 {
		d2[i] = sq(pts[i*dim:(i+1)*dim], c[:dim])
	}
	for len(c) < k*dim {
		total := 0.0
		for _, v := range d2 {
			total += v
		}
		pick := rng.IntN(m) // all points coincide with centres: any will do
		if total > 0 {
			r := rng.Float64() * total
			for i, v := range d2 {
				if r -= v; r <= 0 {
					pick = i
					break
				}
			}
		}
		start := len(c)
		c = append(c, pts[pick*dim:(pick+1)*dim]...)
		nc := c[start:]
		l2 := kernels.Current().L2Sq // SIMD float32: the float64 loop made seeding half of IVF training
		parallel.For(context.Background(), m, 4096, func(lo, hi int) error {
			for i := lo; i < hi; i++ {
				d2[i] = math.Min(d2[i], float64(l2(pts[i*dim:(i+1)*dim], nc)))
			}
			return nil
		})
	}
	return c
}

func sq(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s
}

// update sets each centroid to the mean of its points (float64 sums, one
// accumulator per worker chunk).
func update(ctx context.Context, x []float32, dim int, assign []int64, c []float32, sizes []int) error {
	k := len(sizes)
	n := len(assign)
	chunks := max(1, min(parallel.Workers(), n/1024))
	per := (n + chunks - 1) / chunks
	sums := make([][]float64, chunks)
	counts := make([][]int, chunks)
	err := parallel.For(ctx, chunks, 1, func(lo, hi int) error {
		for ch := lo; ch < hi; ch++ {
			s, cnt := make([]float64, k*dim), make([]int, k)
			for i := ch * per; i < min(n, (ch+1)*per); i++ {
				a := int(assign[i])
				cnt[a]++
				row, acc := x[i*dim:(i+1)*dim], s[a*dim:(a+1)*dim]
				for j, v := range row {
					acc[j] += float64(v)
				}
			}
			sums[ch], counts[ch] = s, cnt
		}
		return nil
	})
	if err != nil {
		return err
	}
	clear(sizes)
	for ch := range sums {
		for a := range k {
			sizes[a] += counts[ch][a]
		}
	}
	for a := range k {
		if sizes[a] == 0 {
			continue // keeps its old position until repaired
		}
		for j := range dim {
			t := 0.0
			for ch := range sums {
				t += sums[ch][a*dim+j]
			}
			c[a*dim+j] = float32(t / float64(sizes[a]))
		}
	}
	return nil
}

// repair moves each empty cluster next to the largest one, splitting it:
// the largest centroid and the empty one become its mean nudged in
// opposite directions (what FAISS does), and the points are shared out in
// the next assignment.
func repair(x []float32, dim int, assign []int64, c []float32, sizes []int, rng *rand.Rand) {
	for e := range sizes {
		if sizes[e] != 0 {
			continue
		}
		big := 0
		for i, s := range sizes {
			if s > sizes[big] {
				big = i
			}
		}
		if sizes[big] < 2 {
			return
		}
		src, dst := c[big*dim:(big+1)*dim], c[e*dim:(e+1)*dim]
		copy(dst, src)
		const eps = 1.0 / 1024
		for j := range dim {
			sign := float32(1)
			if rng.IntN(2) == 0 {
				sign = -1
			}
			dst[j] = src[j] * (1 + sign*eps)
			src[j] = src[j] * (1 - sign*eps)
			if src[j] == dst[j] { // zero coordinate: nudge absolutely
				dst[j] += sign * eps
			}
		}
		sizes[e], sizes[big] = sizes[big]/2, sizes[big]-sizes[big]/2
	}
}
