package diskann

import (
	"context"
	"math/rand/v2"

	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/core/pq"
)

// pqSample is the most vectors the PQ codebook is trained on: 64 per
// centroid. The codes only steer the walk (results are ranked on the
// exact vectors), and k-means seeding over more points was most of a
// small build's time.
const pqSample = 64 * 256

// build makes the disk graph of n prepared vectors x with ids: the PQ
// codebook and codes, the Vamana graph (in memory, or partitioned when it
// would not fit build_memory), then the image, written to the path and
// opened. x is read in place (it may be a mapped file larger than memory
// for the partitioned build) and never written.
func (x *DiskANN) build(ctx context.Context, xv []float32, n int, ids []int64) error {
	dim := x.Dim()
	cb, err := trainCodebook(ctx, xv, n, dim, x.p.PQBytes, x.p.Seed)
	if err != nil {
		return err
	}
	codes, err := encode(ctx, cb, xv, n, dim)
	if err != nil {
		return err
	}
	next := x.nextID
	for _, id := range ids {
		next = max(next, id+1)
	}
	var src chunkSource
	var med uint32
	if x.p.BuildMemory > 0 && graphBytes(n, x.p.R) > x.p.BuildMemory {
		pb, err := x.buildPartitioned(ctx, xv, n)
		if err != nil {
			return err
		}
		defer pb.close()
		src, med = pb.source, pb.medoid
	} else {
		g := newGraph(dim, x.p.R, xv)
		if err := g.build(ctx, x.p.LBuild, float32(x.p.Alpha), x.p.Seed); err != nil {
			return err
		}
		med = g.medoid
		src = func(_ context.Context, lo, hi int, vecs []float32, out [][]uint32) error {
			copy(vecs, xv[lo*dim:hi*dim])
			copy(out, g.adj[lo:hi])
			return nil
		}
	}
	return x.install(ctx, content{n: n, medoid: med, cb: cb, codes: codes, ids: ids, nextID: next}, src)
}

// graphBytes is what the in-memory build's graph takes for n nodes of
// degree r: the lists, their headers and the per-node locks.
func graphBytes(n, r int) int64 { return int64(n) * int64(4*r+24+8) }

// trainCodebook trains the PQ codebook (8 bits, m = pq_bytes) on at most
// pqSample rows of x drawn at random; fewer than 256 rows are repeated up
// to 256 (k-means needs a point per centroid; the duplicates only give
// duplicate centroids).
func trainCodebook(ctx context.Context, xv []float32, n, dim, m int, seed uint64) (*pq.Codebook, error) {
	cb, err := pq.NewCodebook(dim, m, 8)
	if err != nil {
		return nil, err
	}
	rows := max(min(n, pqSample), cb.KSub)
	sample := make([]float32, rows*dim)
	rng := rand.New(rand.NewPCG(seed, 17))
	for i := range rows {
		src := i % n
		if n > pqSample {
			src = rng.IntN(n)
		}
		copy(sample[i*dim:(i+1)*dim], xv[src*dim:(src+1)*dim])
	}
	if err := cb.Train(ctx, sample, rows, seed); err != nil {
		return nil, err
	}
	return cb, nil
}

// encode returns the codes of n rows of x, 64Ki rows per call (Encode
// gathers a sub-space of its whole input at once).
func encode(ctx context.Context, cb *pq.Codebook, xv []float32, n, dim int) ([]uint8, error) {
	codes := make([]uint8, 0, n*cb.CodeSize)
	for lo := 0; lo < n; lo += 1 << 16 {
		if err := parallel.Check(ctx); err != nil {
			return nil, err
		}
		hi := min(n, lo+1<<16)
		c, err := cb.Encode(ctx, xv[lo*dim:hi*dim], hi-lo)
		if err != nil {
			return nil, err
		}
		codes = append(codes, c...)
	}
	return codes, nil
}
