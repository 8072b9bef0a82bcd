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

// TrainPolicy learns the search policy (core/probepolicy) from sample
// queries (nq x dim, ones like those the index will serve: not its own
// vectors, whose nearest neighbour is themselves) for searches of k
// results, and keeps it with the index (saved with it). truth, nq*k ids,
// is each query's exact k nearest; nil: the index finds them by scanning
// every list (exact for IVF-Flat). It replaces an earlier policy; adds and
// removes later do not retrain it. At least 50 queries.
//
// A query's recall after c cells is the share of its true neighbours
// whose cell is among its c nearest, so one ranking of its cells gives its
// recall for every nprobe at once.
func (x *IVF) TrainPolicy(ctx context.Context, queries []float32, k int, truth []int64) error {
	d := x.Dim()
	nq, err := index.Rows(queries, d, "sample queries")
	if err != nil {
		return err
	}
	if err := probepolicy.CheckArgs(nq, k, truth); err != nil {
		return err
	}
	if err := index.CheckFinite(queries, d, "sample queries"); err != nil {
		return err
	}
	if !x.Trained() {
		return x.notTrained("training a search policy of")
	}
	if n := x.Len(); n < k {
		return fmt.Errorf("%w: the index holds %d vectors, fewer than k = %d; add the data before training the policy", errs.State, n, k)
	}
	if truth == nil {
		truth = make([]int64, nq*k)
		if err := x.Search(ctx, queries, k, &index.SearchParams{NProbe: x.nlist}, truth, make([]float32, nq*k)); err != nil {
			return err
		}
	}
	prepared, err := x.Bound().PrepareCopy(queries, "sample queries")
	if err != nil {
		return err
	}
	if err := x.RLockOpen(); err != nil {
		return err
	}
	cellOf := make(map[int64]int32, len(truth))
	for _, id := range truth {
		cellOf[id] = -1
	}
	for c, l := range x.lists {
		for _, id := range l.ids {
			if _, ok := cellOf[id]; ok {
				cellOf[id] = int32(c)
			}
		}
	}
	feats := make([]float32, nq*probepolicy.NFeatures)
	curves := make([]probepolicy.Curve, nq)
	l2 := x.Bound().Class() == metric.ClassL2
	ks := kernels.Current()
	err = parallel.For(ctx, nq, 8, func(lo, hi int) error {
		order, od, rankOf := make([]int64, x.nlist), make([]float32, x.nlist), make([]int32, x.nlist)
		sc := x.scratch.Get()
		defer x.scratch.Put(sc)
		hd, hi64 := make([]float32, k), make([]int64, k)
		var h index.TopK
		var found []float32
		for q := lo; q < hi; q++ {
			row := prepared[q*d : (q+1)*d]
			if err := x.quant.Search(parallel.Serial(ctx), row, x.nlist, order, od); err != nil {
				return err
			}
			for i, c := range order {
				if c >= 0 {
					rankOf[c] = int32(i)
				}
			}
			ranks := make([]int32, 0, k)
			for _, id := range truth[q*k : (q+1)*k] {
				if c := cellOf[id]; c >= 0 {
					ranks = append(ranks, rankOf[c])
				}
			}
			curves[q] = probepolicy.RankCurve(ranks, k)
			h.Reset(hd, hi64)
			start := min(probepolicy.Start, x.nlist)
			x.scanCells(ks, sc, row, order[:start], nil, &h)
			found = x.policyValues(found, hd[:h.Len()], l2)
			probepolicy.Features(od[:start+min(probepolicy.Lookahead, x.nlist-start)], found, k, feats[q*probepolicy.NFeatures:(q+1)*probepolicy.NFeatures])
		}
		return nil
	})
	x.RUnlock()
	if err != nil {
		return err
	}
	p, err := probepolicy.Train(feats, curves, k, x.nlist)
	if err != nil {
		return err
	}
	x.Lock()
	defer x.Unlock()
	if x.Closed() {
		return errs.Closed
	}
	x.policy = p
	return nil
}

// HasPolicy reports whether a search policy is trained.
func (x *IVF) HasPolicy() bool {
	x.RLock()
	defer x.RUnlock()
	return x.policy != nil
}
