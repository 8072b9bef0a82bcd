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

// Search implements index.Index. l2 family: per probed cell, tables from
// the query's residual to that cell; dot family: one table from the query
// plus the cell's <q, centroid>. Distances are ADC estimates, or exact
// ones after refining. With sp.Recall > 0 the learned policy chooses each
// query's cells (as ivf_flat's does).
func (x *IVFPQ) Search(ctx context.Context, queries []float32, k int, sp *index.SearchParams, outIDs []int64, outDist []float32) error {
	nq, pq, allow, err := index.CheckSearch(x.Bound(), queries, x.Dim(), k, sp, outIDs, outDist)
	if err != nil {
		return err
	}
	nprobe := int(x.nprobe.Load())
	if sp != nil && sp.NProbe > 0 {
		nprobe = sp.NProbe
	}
	if err := x.RLockOpen(); err != nil {
		return err
	}
	defer x.RUnlock()
	if x.centroids == nil {
		return x.notTrained("searching")
	}
	n := x.ids.Len()
	kk := index.Results(k, n)
	index.PadRows(outIDs, outDist, nq, k, kk)
	if kk == 0 {
		return nil
	}
	pol := x.policy
	if sp != nil && sp.Recall > 0 {
		if pol == nil {
			return fmt.Errorf("%w: search for a recall needs a learned policy: call train_policy(sample_queries) first (or search with nprobe)", errs.State)
		}
		if sp.Recall > 1 {
			return fmt.Errorf("%w: recall must be in (0, 1], got %g", errs.InvalidArgument, sp.Recall)
		}
		nprobe = probepolicy.Start + probepolicy.Lookahead // the cells the features read; more are found per query
	} else {
		pol = nil
	}
	nprobe = min(nprobe, x.nlist)
	cand := index.Candidates(kk, x.refine, n)
	// the cells of every query, and per task its candidates
	if err := index.CheckMemory(int64(nq)*int64(nprobe)*12 + int64(parallel.Workers())*int64(cand)*12); err != nil {
		return err
	}
	probes, pdist := make([]int64, nq*nprobe), make([]float32, nq*nprobe)
	d, cb := x.Dim(), x.cb
	l2 := x.Bound().Class() == metric.ClassL2
	ks := kernels.Current()
	return parallel.For(ctx, nq, index.ProbeChunk(nq), func(lo, hi int) error {
		// this chunk's cells, then its lists (see index.ProbeChunk)
		if err := x.quant.Search(parallel.Serial(ctx), pq[lo*d:hi*d], nprobe, probes[lo*nprobe:hi*nprobe], pdist[lo*nprobe:hi*nprobe]); err != nil {
			return err
		}
		sc := x.scratch.Get()
		defer x.scratch.Put(sc)
		rows := cb.TableRows()
		if sc.luts == nil {
			sc.luts, sc.cell = cb.NewTables(4), cb.NewTables(1)
		}
		sc.cd, sc.ci = index.Grow(sc.cd, cand), index.Grow(sc.ci, cand)
		var h index.TopK
		for q := lo; q < hi; q++ {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			row := pq[q*d : (q+1)*d]
			h.Reset(sc.cd, sc.ci)
			r := (q - lo) % 4
			if r == 0 { // inner products of the next 4 queries' sub-vectors, in one pass
				g := min(4, hi-q)
				cb.Tables(pq[q*d:(q+g)*d], g, sc.luts, false, ks)
			}
			lut := sc.luts[r*rows : (r+1)*rows]
			cells, cdist := probes[q*nprobe:(q+1)*nprobe], pdist[q*nprobe:(q+1)*nprobe]
			if pol != nil {
				start := min(probepolicy.Start, len(cells))
				x.scanCells(ks, sc, lut, cells[:start], cdist[:start], allow, &h)
				sc.feat = index.Grow(sc.feat, probepolicy.NFeatures)
				sc.found = policyValues(sc.found, sc.cd[:h.Len()], l2)
				probepolicy.Features(cdist[:min(start+probepolicy.Lookahead, len(cells))], sc.found, kk, sc.feat)
				want := pol.Cells(sc.feat, sp.Recall, x.nlist)
				if want > len(cells) {
					sc.cells, sc.cdist = index.Grow(sc.cells, want), index.Grow(sc.cdist, want)
					if err := x.quant.Search(parallel.Serial(ctx), row, want, sc.cells, sc.cdist); err != nil {
						return err
					}
					cells, cdist = sc.cells, sc.cdist
				}
				cells, cdist = cells[start:want], cdist[start:want]
			}
			x.scanCells(ks, sc, lut, cells, cdist, allow, &h)
			h.Finish()
			x.results(ks, row, sc.cd, sc.ci, outDist[q*k:q*k+kk], outIDs[q*k:q*k+kk], l2)
		}
		return nil
	})
}

// scanCells ranks the codes of the lists of cells (cdist: their coarse
// distances) into h by ADC; with refine the ids pushed are slots
// (cell<<32 | position), which results reads. It returns the pushes (0:
// h did not change).
func (x *IVFPQ) scanCells(ks *kernels.Set, sc *scratch, lut [][256]float32, cells []int64, cdist []float32, allow func(int64) bool, h *index.TopK) int {
	cb, rows := x.cb, x.cb.TableRows()
	l2 := x.Bound().Class() == metric.ClassL2
	pushes := 0
	for pi, c := range cells {
		if c < 0 {
			continue
		}
		l := &x.lists[c]
		if len(l.ids) == 0 {
			continue
		}
		// l2: |q - cell - r|^2 = |q - cell|^2 + pre[cell] - 2<q, r>,
		// one table per cell; ip: <q, cell + r> = <q, cell> + <q, r>,
		// ranked negated
		tab, base, sign := lut, 1-cdist[pi], float32(-1) // the coarse ip metric's distance is 1 - dot
		if l2 {
			cb.Combine(x.pre[int(c)*rows:(int(c)+1)*rows], lut, sc.cell, ks)
			tab, base, sign = sc.cell, cdist[pi], 1
		}
		sc.vs = index.Grow(sc.vs, len(l.ids))
		vs := sc.vs
		cb.Scan(tab, l.codes, vs, ks)
		for i := index.NextCandidate(ks, vs, 0, sign, base, h.Bound()); i < len(vs); i = index.NextCandidate(ks, vs, i+1, sign, base, h.Bound()) {
			id := l.ids[i]
			if v := sign * (base + vs[i]); v <= h.Bound() && (allow == nil || allow(id)) {
				if x.refine > 0 {
					id = c<<32 | int64(i) // refining reads the stored vector at this slot
				}
				h.Push(v, id)
				pushes++
			}
		}
	}
	return pushes
}

// results writes a query's kk results from its finished candidates (cd,
// ci): the best by ADC, or with refine the best of them by exact distance
// to row.
func (x *IVFPQ) results(ks *kernels.Set, row, cd []float32, ci []int64, dist []float32, ids []int64, l2 bool) {
	if x.refine == 0 {
		for i := range ids {
			ids[i], dist[i] = ci[i], cd[i]
			if ci[i] >= 0 {
				dist[i] = x.finish(cd[i], l2)
			}
		}
		return
	}
	var top index.TopK
	top.Reset(dist, ids)
	for _, at := range ci {
		if at < 0 {
			break
		}
		e, id := x.exact(ks, row, at, l2)
		top.Push(e, id)
	}
	top.Finish()
}

// exact is the metric's distance from row to the stored vector at slot at
// (cell<<32 | position; refine > 0), and its id.
func (x *IVFPQ) exact(ks *kernels.Set, row []float32, at int64, l2 bool) (float32, int64) {
	d := x.Dim()
	l, pos := &x.lists[at>>32], int(at&(1<<32-1))
	v := l.vecs[pos*d : (pos+1)*d]
	if l2 {
		return float32(x.Bound().FromL2(float64(ks.L2Sq(row, v)))), l.ids[pos]
	}
	return float32(x.Bound().FromDot(float64(ks.Dot(row, v)))), l.ids[pos]
}

// finish turns a ranking value into the metric's distance.
func (x *IVFPQ) finish(v float32, l2 bool) float32 {
	if l2 {
		return float32(x.Bound().FromL2(float64(v)))
	}
	return float32(x.Bound().FromDot(float64(-v)))
}

// policyValues turns heap values into the distances the policy's features
// read: ADC |q-x|^2 as they are, -<q,x> as 1 - <q,x>, so both are >= 0
// near the query (as ivf_flat's).
func policyValues(buf, heap []float32, l2 bool) []float32 {
	buf = append(buf[:0], heap...)
	if !l2 {
		for i := range buf {
			buf[i]++
		}
	}
	return buf
}
