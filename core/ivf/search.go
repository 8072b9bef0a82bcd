package ivf

import (
	"context"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/core/probepolicy"
	"github.com/oxvec/oxvec/kernels"
)

// Search implements index.Index. Each query probes its nprobe nearest
// lists (p.NProbe overrides the index's default) and ranks their vectors
// with one kernel call per list: l2-family metrics by |q-x|^2 (L2SqRows),
// the dot family by -<q,x> (DotRows).
func (x *IVF) Search(ctx context.Context, queries []float32, k int, p *index.SearchParams, outIDs []int64, outDist []float32) error {
	nq, prepared, allow, err := index.CheckSearch(x.Bound(), queries, x.Dim(), k, p, outIDs, outDist)
	if err != nil {
		return err
	}
	nprobe := int(x.nprobe.Load())
	if p != nil && p.NProbe > 0 {
		nprobe = p.NProbe
	}
	if err := x.RLockOpen(); err != nil {
		return err
	}
	defer x.RUnlock()
	if x.centroids == nil {
		return x.notTrained("searching")
	}
	kk := index.Results(k, x.ids.Len())
	index.PadRows(outIDs, outDist, nq, k, kk)
	if kk == 0 {
		return nil
	}
	pol := x.policy
	if p != nil && p.Recall > 0 {
		if pol == nil {
			return fmt.Errorf("%w: search for a recall needs a learned policy: call train_policy(sample_queries) first (or search with nprobe)", errs.State)
		}
		if p.Recall > 1 {
			return fmt.Errorf("%w: recall must be in (0, 1], got %g", errs.InvalidArgument, p.Recall)
		}
		// the cells the features read; a query the policy gives more
		// finds its own further cells (finding all nlist for every query
		// cost 3 times the scan of 2 cells on bigann-10k)
		nprobe = probepolicy.Start + probepolicy.Lookahead
	} else {
		pol = nil
	}
	nprobe = min(nprobe, x.nlist)
	if err := index.CheckMemory(int64(nq) * int64(nprobe) * 12); err != nil {
		return err
	}
	probes, pdist := make([]int64, nq*nprobe), make([]float32, nq*nprobe)
	d := x.Dim()
	l2 := x.Bound().Class() == metric.ClassL2
	ks := kernels.Current()
	return parallel.For(ctx, nq, index.ProbeChunk(nq), func(lo, hi int) error {
		// this chunk's cells, then its lists (see index.ProbeChunk)
		if err := x.quant.Search(parallel.Serial(ctx), prepared[lo*d:hi*d], nprobe, probes[lo*nprobe:hi*nprobe], pdist[lo*nprobe:hi*nprobe]); err != nil {
			return err
		}
		sc := x.scratch.Get()
		defer x.scratch.Put(sc)
		var h index.TopK
		for q := lo; q < hi; q++ {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			row := prepared[q*d : (q+1)*d]
			dist, ids := outDist[q*k:q*k+kk], outIDs[q*k:q*k+kk]
			h.Reset(dist, ids)
			cells := probes[q*nprobe : (q+1)*nprobe]
			if pol != nil {
				start := min(probepolicy.Start, len(cells))
				x.scanCells(ks, sc, row, cells[:start], allow, &h)
				sc.feat = index.Grow(sc.feat, probepolicy.NFeatures)
				sc.found = x.policyValues(sc.found, dist[:h.Len()], l2)
				probepolicy.Features(pdist[q*nprobe:q*nprobe+min(start+probepolicy.Lookahead, len(cells))], sc.found, kk, sc.feat)
				want := pol.Cells(sc.feat, p.Recall, x.nlist)
				if want > len(cells) {
					sc.cells, sc.cdist = index.Grow(sc.cells, want), index.Grow(sc.cdist, want)
					if err := x.quant.Search(parallel.Serial(ctx), row, want, sc.cells, sc.cdist); err != nil {
						return err
					}
					cells = sc.cells
				}
				cells = cells[start:want]
			}
			x.scanCells(ks, sc, row, cells, allow, &h)
			h.Finish()
			for i, id := range ids {
				if id < 0 {
					break
				}
				if l2 {
					dist[i] = float32(x.Bound().FromL2(float64(dist[i])))
				} else {
					dist[i] = float32(x.Bound().FromDot(float64(-dist[i])))
				}
			}
		}
		return nil
	})
}

// scanCells ranks the vectors of the lists of cells into h (kernel
// values: |q-x|^2 for the l2 family, -<q,x> for the dot family).
func (x *IVF) scanCells(ks *kernels.Set, sc *scratch, row []float32, cells []int64, allow func(int64) bool, h *index.TopK) {
	d := x.Dim()
	l2 := x.Bound().Class() == metric.ClassL2
	sign := float32(1)
	if !l2 {
		sign = -1
	}
	for _, c := range cells {
		if c < 0 {
			continue
		}
		l := &x.lists[c]
		n := len(l.ids)
		if n == 0 {
			continue
		}
		sc.dists = index.Grow(sc.dists, n)
		out := sc.dists
		if l2 {
			ks.L2SqRows(row, l.vecs, d, out)
		} else {
			ks.DotRows(row, l.vecs, d, out)
		}
		for i := index.NextCandidate(ks, out, 0, sign, 0, h.Bound()); i < n; i = index.NextCandidate(ks, out, i+1, sign, 0, h.Bound()) {
			if v := sign * out[i]; v <= h.Bound() && (allow == nil || allow(l.ids[i])) {
				h.Push(v, l.ids[i])
			}
		}
	}
}

// policyValues turns heap values into the distances the policy's features
// read: |q-x|^2 as they are, -<q,x> as 1 - <q,x> (a cosine distance for
// unit vectors), so both are >= 0 near the query.
func (x *IVF) policyValues(buf, heap []float32, l2 bool) []float32 {
	buf = append(buf[:0], heap...)
	if !l2 {
		for i := range buf {
			buf[i]++
		}
	}
	return buf
}
