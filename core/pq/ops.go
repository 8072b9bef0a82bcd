package pq

import (
	"context"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// Add implements index.Index.
func (p *PQ) Add(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error {
	n, x, err := index.CheckAdd(p.Bound(), vectors, p.Dim(), ids, assigned)
	if err != nil {
		return err
	}
	p.RLock()
	cb := p.cb
	p.RUnlock()
	if !cb.Trained() {
		return p.notTrained("adding to")
	}
	codes, err := cb.Encode(ctx, x, n) // outside the lock: a trained codebook never changes
	if err != nil {
		return err
	}
	if err := p.LockOpen(); err != nil {
		return err
	}
	defer p.Unlock()
	if ids, err = p.ids.Assign(ids, n, assigned); err != nil {
		return err
	}
	p.codes = append(p.codes, codes...)
	p.ids.Append(ids)
	return nil
}

// Remove implements index.Index: the last row moves into the hole.
func (p *PQ) Remove(ctx context.Context, ids []int64) (int, error) {
	if err := p.LockOpen(); err != nil {
		return 0, err
	}
	defer p.Unlock()
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

// scanChunk is how many codes one Scan call sums before their distances
// are ranked: enough to amortise the call, few enough to stay in L1.
const scanChunk = 256

// Search implements index.Index; distances are the ADC estimates.
func (p *PQ) Search(ctx context.Context, queries []float32, k int, sp *index.SearchParams, outIDs []int64, outDist []float32) error {
	nq, pq, allow, err := index.CheckSearch(p.Bound(), queries, p.Dim(), k, sp, outIDs, outDist)
	if err != nil {
		return err
	}
	if err := p.RLockOpen(); err != nil {
		return err
	}
	defer p.RUnlock()
	if !p.cb.Trained() {
		return p.notTrained("searching")
	}
	l2 := p.Bound().Class() == metric.ClassL2
	ks := kernels.Current()
	cb := p.cb
	n, cs, d := p.ids.Len(), cb.CodeSize, p.Dim()
	kk := index.Results(k, n)
	index.PadRows(outIDs, outDist, nq, k, kk)
	if kk == 0 {
		return nil
	}
	return parallel.For(ctx, nq, 4, func(lo, hi int) error {
		sc := p.scratch.Get()
		defer p.scratch.Put(sc)
		if sc.luts == nil {
			sc.luts, sc.buf = cb.NewTables(4), make([]float32, scanChunk)
		}
		luts, rows, buf := sc.luts, cb.TableRows(), sc.buf
		var h index.TopK
		for q := lo; q < hi; q++ {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			r := (q - lo) % 4
			if r == 0 { // the tables of the next 4 queries in one pass
				g := min(4, hi-q)
				cb.Tables(pq[q*d:(q+g)*d], g, luts, l2, ks)
			}
			lut := luts[r*rows : (r+1)*rows]
			dist, ids := outDist[q*k:q*k+kk], outIDs[q*k:q*k+kk]
			h.Reset(dist, ids)
			sign := float32(1)
			if !l2 {
				sign = -1
			}
			for r0 := 0; r0 < n; r0 += scanChunk {
				vs := buf[:min(scanChunk, n-r0)]
				cb.Scan(lut, p.codes[r0*cs:], vs, ks)
				for i := index.NextCandidate(ks, vs, 0, sign, 0, h.Bound()); i < len(vs); i = index.NextCandidate(ks, vs, i+1, sign, 0, h.Bound()) {
					if v := sign * vs[i]; v <= h.Bound() && (allow == nil || allow(p.ids.ID(r0+i))) {
						h.Push(v, p.ids.ID(r0+i))
					}
				}
			}
			h.Finish()
			for i, id := range ids {
				if id < 0 {
					break
				}
				if l2 {
					dist[i] = float32(p.Bound().FromL2(float64(dist[i])))
				} else {
					dist[i] = float32(p.Bound().FromDot(float64(-dist[i])))
				}
			}
		}
		return nil
	})
}
