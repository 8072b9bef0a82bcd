package flat

import (
	"context"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

const (
	// queryBlock queries share one pass over a tile of the base, so the tile
	// is read from cache queryBlock-1 times out of queryBlock.
	queryBlock = 16
	// tileBytes sizes a base tile to sit comfortably in a 1-2 MiB L2 cache.
	tileBytes = 256 << 10
	// splitBaseRows: below this many rows a lone query is not worth
	// splitting across goroutines.
	splitBaseRows = 8192
	// serialWork: multiply-adds below which one block is searched on the
	// calling goroutine; starting workers would cost more than it saves.
	serialWork = 1 << 16
)

// Search implements index.Index.
func (f *Flat) Search(ctx context.Context, queries []float32, k int, _ *index.SearchParams, outIDs []int64, outDist []float32) error {
	nq, err := index.Rows(queries, f.dim, "queries")
	if err != nil {
		return err
	}
	if err := index.CheckK(k); err != nil {
		return err
	}
	if len(outIDs) < nq*k || len(outDist) < nq*k {
		return fmt.Errorf("%w: output buffers hold %d/%d results, need %d", errs.InvalidArgument, len(outIDs), len(outDist), nq*k)
	}
	if err := index.CheckFinite(queries, f.dim, "queries"); err != nil {
		return err
	}
	if f.metric == metric.Cosine {
		queries = append([]float32(nil), queries...)
		if err := index.Normalize(queries, f.dim, "queries"); err != nil {
			return err
		}
	}

	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return errs.Closed
	}
	n := len(f.ids)
	// A heap never needs more room than there are vectors: k beyond n only
	// adds padding, which is written once here.
	kk := min(k, n)
	for q := 0; q < nq; q++ {
		index.Pad(outDist[q*k+kk:(q+1)*k], outIDs[q*k+kk:(q+1)*k])
	}
	if kk == 0 {
		return nil
	}
	s := scan{f: f, queries: queries, k: kk}
	workers := parallel.Workers()
	if nq < workers && n >= splitBaseRows {
		return s.splitBase(ctx, nq, k, outIDs, outDist)
	}
	if nq <= queryBlock && (workers == 1 || nq*n*f.dim < serialWork) {
		// one block, no goroutines: the common single-query call
		return s.block(ctx, 0, nq, k, outIDs, outDist)
	}
	return parallel.For(ctx, nq, queryBlock, func(lo, hi int) error {
		return s.block(ctx, lo, hi, k, outIDs, outDist)
	})
}

// block searches queries [lo, hi), at most queryBlock of them, into their
// output rows (stride values apart).
func (s scan) block(ctx context.Context, lo, hi, stride int, outIDs []int64, outDist []float32) error {
	var heaps [queryBlock]index.TopK
	for q := lo; q < hi; q++ {
		heaps[q-lo].Reset(outDist[q*stride:q*stride+s.k], outIDs[q*stride:q*stride+s.k])
	}
	if err := s.rows(ctx, lo, hi, 0, len(s.f.ids), heaps[:hi-lo]); err != nil {
		return err
	}
	for i := range heaps[:hi-lo] {
		heaps[i].Finish()
	}
	return nil
}

// scan is one search call's view of the index.
type scan struct {
	f       *Flat
	queries []float32
	k       int
}

// rows offers base rows [r0, r1) to the heaps of queries [q0, q1), tile by
// tile, checking for cancellation between tiles.
func (s scan) rows(ctx context.Context, q0, q1, r0, r1 int, heaps []index.TopK) error {
	d := s.f.dim
	tile := max(1, tileBytes/(4*d))
	for t0 := r0; t0 < r1; t0 += tile {
		if err := parallel.Check(ctx); err != nil {
			return err
		}
		t1 := min(t0+tile, r1)
		for q := q0; q < q1; q++ {
			s.offer(s.queries[q*d:(q+1)*d], t0, t1, &heaps[q-q0])
		}
	}
	return nil
}

// offer computes the distance of query to rows [t0, t1) and pushes them.
func (s scan) offer(query []float32, t0, t1 int, h *index.TopK) {
	d := s.f.dim
	vecs, ids := s.f.vecs, s.f.ids
	if s.f.metric == metric.L2 {
		for r := t0; r < t1; r++ {
			if dist := kernels.L2Sq(query, vecs[r*d:(r+1)*d]); dist <= h.Bound() {
				h.Push(dist, ids[r])
			}
		}
		return
	}
	for r := t0; r < t1; r++ {
		if dist := 1 - kernels.Dot(query, vecs[r*d:(r+1)*d]); dist <= h.Bound() {
			h.Push(dist, ids[r])
		}
	}
}

// splitBase serves a few queries over a large base: each goroutine scans a
// slice of the rows into private heaps, which are merged at the end.
func (s scan) splitBase(ctx context.Context, nq, stride int, outIDs []int64, outDist []float32) error {
	n, k := len(s.f.ids), s.k
	parts := min(4*parallel.Workers(), (n+splitBaseRows/2-1)/(splitBaseRows/2))
	per := (n + parts - 1) / parts
	pd := make([]float32, parts*nq*k)
	pi := make([]int64, parts*nq*k)
	heaps := make([]index.TopK, parts*nq)
	err := parallel.For(ctx, parts, 1, func(lo, hi int) error {
		for p := lo; p < hi; p++ {
			hs := heaps[p*nq : (p+1)*nq]
			for q := range hs {
				o := (p*nq + q) * k
				hs[q].Reset(pd[o:o+k], pi[o:o+k])
			}
			if err := s.rows(ctx, 0, nq, p*per, min((p+1)*per, n), hs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for q := 0; q < nq; q++ {
		var h index.TopK
		h.Reset(outDist[q*stride:q*stride+k], outIDs[q*stride:q*stride+k])
		for p := 0; p < parts; p++ {
			h.Merge(&heaps[p*nq+q])
		}
		h.Finish()
	}
	return nil
}
