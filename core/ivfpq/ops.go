package ivfpq

import (
	"context"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// Add implements index.Index: each vector joins its nearest cell, its
// residual encoded.
func (x *IVFPQ) Add(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error {
	d := x.Dim()
	n, p, err := index.CheckAdd(x.Bound(), vectors, d, ids, assigned)
	if err != nil {
		return err
	}
	x.RLock()
	quant, centroids, cb := x.quant, x.centroids, x.cb
	x.RUnlock()
	if quant == nil {
		return x.notTrained("adding to")
	}
	// outside the lock: a trained index's cells and codebook never change
	cell := make([]int64, n)
	if err := quant.Search(ctx, p, 1, cell, make([]float32, n)); err != nil {
		return err
	}
	// p may be the caller's buffer (metrics that change nothing): the
	// residuals go to a copy, the vectors kept for refining are copied into
	// the lists below
	r := append([]float32(nil), p...)
	residuals(r, centroids, cell, d)
	codes, err := cb.Encode(ctx, r, n)
	if err != nil {
		return err
	}
	if err := x.LockOpen(); err != nil {
		return err
	}
	defer x.Unlock()
	ids, err = x.ids.Assign(ids, n, assigned, "an ivf_pq")
	if err != nil {
		return err
	}
	track := x.ids.Append(ids, x.each)
	cs := cb.CodeSize
	for c, extra := range index.CountLists(cell, x.nlist) {
		if extra > 0 {
			l := &x.lists[c]
			l.ids, l.codes = index.GrowFor(l.ids, extra), index.GrowFor(l.codes, extra*cs)
			if x.refine > 0 {
				l.vecs = index.GrowFor(l.vecs, extra*d)
			}
		}
	}
	for i, id := range ids {
		l := &x.lists[cell[i]]
		if track {
			x.ids.Set(id, index.Slot{List: int32(cell[i]), Pos: int32(len(l.ids))})
		}
		l.ids = append(l.ids, id)
		l.codes = append(l.codes, codes[i*cs:(i+1)*cs]...)
		if x.refine > 0 {
			l.vecs = append(l.vecs, p[i*d:(i+1)*d]...)
		}
	}
	return nil
}

// Remove implements index.Index: the last entry of a list takes the
// removed one's place.
func (x *IVFPQ) Remove(ctx context.Context, ids []int64) (int, error) {
	if err := x.LockOpen(); err != nil {
		return 0, err
	}
	defer x.Unlock()
	cs, d, removed := x.cb.CodeSize, x.Dim(), 0
	for _, id := range ids {
		s, ok := x.ids.Remove(id, x.each)
		if !ok {
			continue
		}
		l := &x.lists[s.List]
		last, p := len(l.ids)-1, int(s.Pos)
		if p != last {
			moved := l.ids[last]
			l.ids[p] = moved
			copy(l.codes[p*cs:(p+1)*cs], l.codes[last*cs:(last+1)*cs])
			if l.vecs != nil {
				copy(l.vecs[p*d:(p+1)*d], l.vecs[last*d:(last+1)*d])
			}
			x.ids.Set(moved, s)
		}
		l.ids, l.codes = l.ids[:last], l.codes[:last*cs]
		if l.vecs != nil {
			l.vecs = l.vecs[:last*d]
		}
		removed++
	}
	return removed, nil
}

// Search implements index.Index. l2 family: per probed cell, tables from
// the query's residual to that cell; dot family: one table from the query
// plus the cell's <q, centroid>. Distances are ADC estimates, or exact
// ones after refining.
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
		luts, cell := sc.luts, sc.cell
		sc.cd, sc.ci = index.Grow(sc.cd, cand), index.Grow(sc.ci, cand)
		cd, ci := sc.cd, sc.ci
		var h index.TopK
		vs := sc.vs
		defer func() { sc.vs = vs }()
		for q := lo; q < hi; q++ {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			row := pq[q*d : (q+1)*d]
			h.Reset(cd, ci)
			r := (q - lo) % 4
			if r == 0 { // inner products of the next 4 queries' sub-vectors, in one pass
				g := min(4, hi-q)
				cb.Tables(pq[q*d:(q+g)*d], g, luts, false, ks)
			}
			lut := luts[r*rows : (r+1)*rows]
			for pi, c := range probes[q*nprobe : (q+1)*nprobe] {
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
				tab, base, sign := lut, 1-pdist[q*nprobe+pi], float32(-1) // the coarse ip metric's distance is 1 - dot
				if l2 {
					cb.Combine(x.pre[int(c)*rows:(int(c)+1)*rows], lut, cell, ks)
					tab, base, sign = cell, pdist[q*nprobe+pi], 1
				}
				vs = index.Grow(vs, len(l.ids))
				cb.Scan(tab, l.codes, vs, ks)
				for i := index.NextCandidate(ks, vs, 0, sign, base, h.Bound()); i < len(vs); i = index.NextCandidate(ks, vs, i+1, sign, base, h.Bound()) {
					id := l.ids[i]
					if v := sign * (base + vs[i]); v <= h.Bound() && (allow == nil || allow(id)) {
						if x.refine > 0 {
							id = c<<32 | int64(i) // refining reads the stored vector at this slot
						}
						h.Push(v, id)
					}
				}
			}
			h.Finish()
			dist, ids := outDist[q*k:q*k+kk], outIDs[q*k:q*k+kk]
			if x.refine == 0 {
				for i := range kk {
					ids[i], dist[i] = ci[i], cd[i]
					if ci[i] >= 0 {
						dist[i] = x.finish(cd[i], l2)
					}
				}
				continue
			}
			var top index.TopK
			top.Reset(dist, ids)
			for _, at := range ci {
				if at < 0 {
					break
				}
				l, pos := &x.lists[at>>32], int(at&(1<<32-1))
				v, id := l.vecs[pos*d:(pos+1)*d], l.ids[pos]
				var e float64
				if l2 {
					e = x.Bound().FromL2(float64(ks.L2Sq(row, v)))
				} else {
					e = x.Bound().FromDot(float64(ks.Dot(row, v)))
				}
				top.Push(float32(e), id)
			}
			top.Finish()
		}
		return nil
	})
}

// finish turns a ranking value into the metric's distance.
func (x *IVFPQ) finish(v float32, l2 bool) float32 {
	if l2 {
		return float32(x.Bound().FromL2(float64(v)))
	}
	return float32(x.Bound().FromDot(float64(-v)))
}
