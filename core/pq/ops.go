package pq

import (
	"context"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// Add implements index.Index.
func (p *PQ) Add(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error {
	n, err := index.Rows(vectors, p.dim, "vectors")
	if err != nil {
		return err
	}
	if err := index.CheckFinite(vectors, p.dim, "vectors"); err != nil {
		return err
	}
	if ids != nil {
		if err := index.CheckIDs(ids, n); err != nil {
			return err
		}
	} else if assigned != nil && len(assigned) < n {
		return fmt.Errorf("%w: room for %d assigned ids, need %d", errs.InvalidArgument, len(assigned), n)
	}
	x, err := p.metric.PrepareCopy(vectors, "vectors")
	if err != nil {
		return err
	}
	p.mu.RLock()
	cb := p.cb
	p.mu.RUnlock()
	if !cb.Trained() {
		return p.notTrained("adding to")
	}
	codes, err := cb.Encode(ctx, x, n) // outside the lock: a trained codebook never changes
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errs.Closed
	}
	if ids, err = p.ids.Assign(ids, n, assigned); err != nil {
		return err
	}
	p.codes = append(p.codes, codes...)
	p.ids.Append(ids)
	return nil
}

// Remove implements index.Index: the last row moves into the hole.
func (p *PQ) Remove(ctx context.Context, ids []int64) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, errs.Closed
	}
	removed := 0
	cs := p.cb.CodeSize
	for _, id := range ids {
		r, last, ok := p.ids.Remove(id)
		if !ok {
			continue
		}
		copy(p.codes[r*cs:(r+1)*cs], p.codes[last*cs:(last+1)*cs])
		p.codes = p.codes[:last*cs]
		removed++
	}
	return removed, nil
}

// Search implements index.Index; distances are the ADC estimates.
func (p *PQ) Search(ctx context.Context, queries []float32, k int, sp *index.SearchParams, outIDs []int64, outDist []float32) error {
	nq, err := index.Rows(queries, p.dim, "queries")
	if err != nil {
		return err
	}
	if err := index.CheckK(k); err != nil {
		return err
	}
	if len(outIDs) < nq*k || len(outDist) < nq*k {
		return fmt.Errorf("%w: outputs hold fewer than nq*k = %d results", errs.InvalidArgument, nq*k)
	}
	if err := index.CheckFinite(queries, p.dim, "queries"); err != nil {
		return err
	}
	pq, err := p.metric.PrepareCopy(queries, "queries")
	if err != nil {
		return err
	}
	var allow func(int64) bool
	if sp != nil {
		allow = sp.Filter.Test()
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errs.Closed
	}
	if !p.cb.Trained() {
		return p.notTrained("searching")
	}
	l2 := p.metric.Class() == metric.ClassL2
	ks := kernels.Current()
	cb := p.cb
	n, cs, d := p.ids.Len(), cb.CodeSize, p.dim
	return parallel.For(ctx, nq, 4, func(lo, hi int) error {
		lut := cb.NewTables()
		var h index.TopK
		for q := lo; q < hi; q++ {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			cb.Tables(pq[q*d:(q+1)*d], lut, l2, ks)
			dist, ids := outDist[q*k:(q+1)*k], outIDs[q*k:(q+1)*k]
			h.Reset(dist, ids)
			bound := h.Bound()
			for r := 0; r < n; r++ {
				v := cb.Distance(lut, p.codes[r*cs:(r+1)*cs])
				if !l2 {
					v = -v
				}
				if v <= bound && (allow == nil || allow(p.ids.List[r])) {
					h.Push(v, p.ids.List[r])
					bound = h.Bound()
				}
			}
			h.Finish()
			for i, id := range ids {
				if id < 0 {
					break
				}
				if l2 {
					dist[i] = float32(p.metric.FromL2(float64(dist[i])))
				} else {
					dist[i] = float32(p.metric.FromDot(float64(-dist[i])))
				}
			}
		}
		return nil
	})
}
