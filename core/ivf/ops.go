package ivf

import (
	"context"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

// Add implements index.Index: each vector goes to the list of its nearest
// centroid.
func (x *IVF) Add(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error {
	n, prepared, err := index.CheckAdd(x.metric, vectors, x.dim, ids, assigned)
	if err != nil {
		return err
	}
	x.mu.RLock()
	quant := x.quant
	x.mu.RUnlock()
	if quant == nil {
		return x.notTrained("adding to")
	}
	// assignment outside the lock: centroids never change once vectors exist
	cell := make([]int64, n)
	if err := quant.Search(ctx, prepared, 1, cell, make([]float32, n)); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return errs.Closed
	}
	ids, err = x.ids.Assign(ids, n, assigned, "an ivf_flat")
	if err != nil {
		return err
	}
	track := x.ids.Append(ids, x.each)
	for c, extra := range index.CountLists(cell, x.nlist) {
		if extra > 0 {
			l := &x.lists[c]
			l.ids, l.vecs = index.GrowFor(l.ids, extra), index.GrowFor(l.vecs, extra*x.dim)
		}
	}
	for i, id := range ids {
		c := cell[i]
		l := &x.lists[c]
		if track {
			x.ids.Set(id, index.Slot{List: int32(c), Pos: int32(len(l.ids))})
		}
		l.ids = append(l.ids, id)
		l.vecs = append(l.vecs, prepared[i*x.dim:(i+1)*x.dim]...)
	}
	return nil
}

// Remove implements index.Index: the last vector of a list takes the
// removed one's place.
func (x *IVF) Remove(ctx context.Context, ids []int64) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return 0, errs.Closed
	}
	removed := 0
	for _, id := range ids {
		s, ok := x.ids.Remove(id, x.each)
		if !ok {
			continue
		}
		l := &x.lists[s.List]
		last := len(l.ids) - 1
		if int(s.Pos) != last {
			moved := l.ids[last]
			l.ids[s.Pos] = moved
			copy(l.vecs[int(s.Pos)*x.dim:(int(s.Pos)+1)*x.dim], l.vecs[last*x.dim:(last+1)*x.dim])
			x.ids.Set(moved, s)
		}
		l.ids, l.vecs = l.ids[:last], l.vecs[:last*x.dim]
		removed++
	}
	return removed, nil
}
