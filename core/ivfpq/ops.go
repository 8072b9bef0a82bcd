package ivfpq

import (
	"context"

	"github.com/oxvec/oxvec/core/index"
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
