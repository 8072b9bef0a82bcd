package ivfpq

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

// TrainPolicy learns the search policy (core/probepolicy, as ivf_flat's)
// from sample queries (nq x dim, like those the index will serve) for
// searches of k results, and keeps it with the index (saved with it).
// Recall is measured against truth, each query's exact k nearest ids
// (nq*k); nil: the index finds them on its stored vectors, which only an
// index with refine > 0 keeps. The search is the index's own (ADC, then
// refine*k candidates ranked exactly when refine > 0), so targets beyond
// what codes of this size reach at every cell cannot be met; the policy
// then probes as many cells as the training queries needed at most.
//
// A query's recall for every nprobe comes from one pass over its cells in
// centroid order: after each cell whose codes changed its candidates, the
// recall of the results the search would return there. The pass ends at
// recall 1 (a later cell could lower it only by a code whose estimate
// beats a true neighbour's, and the policy never probes past a query's
// need).
func (x *IVFPQ) TrainPolicy(ctx context.Context, queries []float32, k int, truth []int64) error {
	d := x.Dim()
	nq, err := index.Rows(queries, d, "sample queries")
	if err != nil {
		return err
	}
	if err := probepolicy.CheckArgs(nq, k, truth); err != nil {
		return err
	}
	if truth == nil && x.refine == 0 {
		return fmt.Errorf("%w: an ivf_pq index without refine keeps no exact vectors to find the sample queries' true neighbours: pass truth (each query's exact %d nearest ids, e.g. from a flat index over the same vectors)", errs.InvalidArgument, k)
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
	prepared, err := x.Bound().PrepareCopy(queries, "sample queries")
	if err != nil {
		return err
	}
	if err := x.RLockOpen(); err != nil {
		return err
	}
	feats := make([]float32, nq*probepolicy.NFeatures)
	curves := make([]probepolicy.Curve, nq)
	err = parallel.For(ctx, nq, 4, func(lo, hi int) error {
		t := x.newTracer(k)
		defer x.scratch.Put(t.sc)
		for q := lo; q < hi; q++ {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			var want []int64
			if truth != nil {
				want = truth[q*k : (q+1)*k]
			}
			c, err := t.trace(ctx, prepared[q*d:(q+1)*d], want, feats[q*probepolicy.NFeatures:(q+1)*probepolicy.NFeatures])
			if err != nil {
				return err
			}
			curves[q] = c
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

// tracer holds one task's buffers for tracing training queries; the
// caller holds the read lock.
type tracer struct {
	x      *IVFPQ
	k      int
	l2     bool
	ks     *kernels.Set
	sc     *scratch
	order  []int64
	od     []float32
	cd, td []float32
	ci, ti []int64
	found  []float32
	exact  map[int64]float32 // refine: exact distance by slot, for the query traced
}

func (x *IVFPQ) newTracer(k int) *tracer {
	cand := index.Candidates(k, x.refine, x.ids.Len())
	t := &tracer{x: x, k: k, l2: x.Bound().Class() == metric.ClassL2, ks: kernels.Current(), sc: x.scratch.Get(),
		order: make([]int64, x.nlist), od: make([]float32, x.nlist), cd: make([]float32, cand), ci: make([]int64, cand),
		td: make([]float32, k), ti: make([]int64, k), exact: map[int64]float32{}}
	if t.sc.luts == nil {
		t.sc.luts, t.sc.cell = x.cb.NewTables(4), x.cb.NewTables(1)
	}
	return t
}

// trace writes the features of the prepared query row into f and returns
// its recall curve against want (its true k nearest; nil: found on the
// stored vectors here).
func (t *tracer) trace(ctx context.Context, row []float32, want []int64, f []float32) (probepolicy.Curve, error) {
	x, k := t.x, t.k
	if want == nil {
		want = t.truth(row)
	}
	truth := probepolicy.NewTruthSet(want)
	if err := x.quant.Search(parallel.Serial(ctx), row, x.nlist, t.order, t.od); err != nil {
		return probepolicy.Curve{}, err
	}
	x.cb.Tables(row, 1, t.sc.luts, false, t.ks)
	lut := t.sc.luts[:x.cb.TableRows()]
	clear(t.exact)
	var h index.TopK
	h.Reset(t.cd, t.ci)
	var c probepolicy.Curve
	start := min(probepolicy.Start, x.nlist)
	for i := range x.nlist {
		pushes := x.scanCells(t.ks, t.sc, lut, t.order[i:i+1], t.od[i:i+1], nil, &h)
		if i+1 == start {
			t.found = policyValues(t.found, t.cd[:h.Len()], t.l2)
			probepolicy.Features(t.od[:start+min(probepolicy.Lookahead, x.nlist-start)], t.found, k, f)
		}
		if pushes == 0 {
			continue
		}
		r := float32(truth.Hits(t.results(row, h.Len()))) / float32(k)
		c.Add(i+1, r)
		if r >= 1 && i+1 >= start {
			break
		}
	}
	return c, nil
}

// results are the ids the search would return from the n candidates held
// (any order): all of them, or with refine the k best by exact distance.
func (t *tracer) results(row []float32, n int) []int64 {
	if t.x.refine == 0 {
		return t.ci[:n]
	}
	var top index.TopK
	top.Reset(t.td, t.ti)
	for _, at := range t.ci[:n] {
		e, ok := t.exact[at]
		if !ok {
			e, _ = t.x.exact(t.ks, row, at, t.l2)
			t.exact[at] = e
		}
		top.Push(e, at)
	}
	for i := range top.Len() {
		at := t.ti[i]
		t.ti[i] = t.x.lists[at>>32].ids[at&(1<<32-1)]
	}
	return t.ti[:top.Len()]
}

// truth is row's exact k nearest ids by a scan of the stored vectors
// (refine > 0).
func (t *tracer) truth(row []float32) []int64 {
	x, d := t.x, t.x.Dim()
	ids, dist := make([]int64, t.k), make([]float32, t.k)
	var top index.TopK
	top.Reset(dist, ids)
	for _, l := range x.lists {
		n := len(l.ids)
		if n == 0 {
			continue
		}
		t.sc.vs = index.Grow(t.sc.vs, n)
		out := t.sc.vs
		if t.l2 {
			t.ks.L2SqRows(row, l.vecs, d, out)
		} else {
			t.ks.DotRows(row, l.vecs, d, out)
			for i := range out {
				out[i] = -out[i]
			}
		}
		for i, v := range out {
			if v <= top.Bound() {
				top.Push(v, l.ids[i])
			}
		}
	}
	return ids[:top.Len()]
}

// HasPolicy reports whether a search policy is trained.
func (x *IVFPQ) HasPolicy() bool {
	x.RLock()
	defer x.RUnlock()
	return x.policy != nil
}
