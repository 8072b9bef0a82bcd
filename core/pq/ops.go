package pq

import (
	"context"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// encode returns the codes of prepared vectors x (n rows): per sub-space,
// the nearest centroid by l2, found with the flat index's blocked search.
func (p *PQ) encode(ctx context.Context, x []float32, n int) ([]uint8, error) {
	l2, err := metric.New(metric.L2, p.dsub, metric.Params{})
	if err != nil {
		return nil, err
	}
	codes := make([]uint8, n*p.codeSize)
	grain := 1
	if p.nbits == 4 {
		grain = 2 // both nibbles of a byte are written by one worker
	}
	err = parallel.For(ctx, p.m, grain, func(lo, hi int) error {
		sub := make([]float32, n*p.dsub)
		near, dist := make([]int64, n), make([]float32, n)
		for j := lo; j < hi; j++ {
			for i := range n {
				copy(sub[i*p.dsub:(i+1)*p.dsub], x[i*p.dim+j*p.dsub:i*p.dim+(j+1)*p.dsub])
			}
			if err := flat.KNN(ctx, l2, p.centroids[j*p.ksub*p.dsub:(j+1)*p.ksub*p.dsub], sub, 1, near, dist); err != nil {
				return err
			}
			for i, c := range near {
				if p.nbits == 8 {
					codes[i*p.codeSize+j] = uint8(c)
				} else {
					codes[i*p.codeSize+j/2] |= uint8(c) << ((j & 1) * 4)
				}
			}
		}
		return nil
	})
	return codes, err
}

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
	trained := p.centroids != nil
	p.mu.RUnlock()
	if !trained {
		return p.notTrained("adding to")
	}
	codes, err := p.encode(ctx, x, n) // outside the lock: centroids never change once set
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
	cs := p.codeSize
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

// table fills lut (m rows of ksub entries, ksub <= 256) with the query's
// distance (l2 family: squared l2; dot family: inner product) to every
// centroid of every sub-space.
func (p *PQ) table(q []float32, lut [][256]float32, l2 bool, ks *kernels.Set) {
	for j := range p.m {
		qs := q[j*p.dsub : (j+1)*p.dsub]
		row := lut[j][:p.ksub]
		// one DotRows call per sub-space: |q-c|^2 = |q|^2 - 2<q,c> + |c|^2
		ks.DotRows(qs, p.centroids[j*p.ksub*p.dsub:(j+1)*p.ksub*p.dsub], p.dsub, row)
		if l2 {
			qq := ks.Dot(qs, qs)
			norms := p.cnorms[j*p.ksub : (j+1)*p.ksub]
			for c, dot := range row {
				row[c] = max(0, qq-2*dot+norms[c])
			}
		}
	}
}

// adc8 sums one 8-bit code's table entries. Rows of [256]float32 indexed
// by a byte need no bounds check; four accumulators keep the additions
// independent.
func adc8(lut [][256]float32, c []uint8) float32 {
	lut = lut[:len(c)]
	var a0, a1, a2, a3 float32
	j := 0
	for ; j+4 <= len(c); j += 4 {
		a0 += lut[j][c[j]]
		a1 += lut[j+1][c[j+1]]
		a2 += lut[j+2][c[j+2]]
		a3 += lut[j+3][c[j+3]]
	}
	for ; j < len(c); j++ {
		a0 += lut[j][c[j]]
	}
	return (a0 + a1) + (a2 + a3)
}

// adc4 sums one 4-bit code's table entries (sub-quantizer 2i in the low
// nibble of byte i, 2i+1 in the high one; an odd m leaves a zero row).
func adc4(lut [][256]float32, c []uint8) float32 {
	lut = lut[:2*len(c)]
	var a0, a1 float32
	for i, b := range c {
		a0 += lut[2*i][b&15]
		a1 += lut[2*i+1][b>>4]
	}
	return a0 + a1
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
	if p.centroids == nil {
		return p.notTrained("searching")
	}
	l2 := p.metric.Class() == metric.ClassL2
	ks := kernels.Current()
	n, cs, d := p.ids.Len(), p.codeSize, p.dim
	return parallel.For(ctx, nq, 4, func(lo, hi int) error {
		lut := make([][256]float32, 2*p.codeSize) // zero rows beyond m stay zero
		var h index.TopK
		for q := lo; q < hi; q++ {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			p.table(pq[q*d:(q+1)*d], lut, l2, ks)
			dist, ids := outDist[q*k:(q+1)*k], outIDs[q*k:(q+1)*k]
			h.Reset(dist, ids)
			bound := h.Bound()
			for r := 0; r < n; r++ {
				var v float32
				if p.nbits == 8 {
					v = adc8(lut, p.codes[r*cs:(r+1)*cs])
				} else {
					v = adc4(lut, p.codes[r*cs:(r+1)*cs])
				}
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
