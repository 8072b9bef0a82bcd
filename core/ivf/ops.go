package ivf

import (
	"context"

	"github.com/oxvec/oxvec/core/index"
)

// Add implements index.Index: each vector goes to the list of its nearest
// centroid.
func (x *IVF) Add(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error {
	d := x.Dim()
	n, prepared, err := index.CheckAdd(x.Bound(), vectors, d, ids, assigned)
	if err != nil {
		return err
	}
	x.RLock()
	quant := x.quant
	x.RUnlock()
	if quant == nil {
		return x.notTrained("adding to")
	}
	// assignment outside the lock: centroids never change once vectors exist
	cell := make([]int64, n)
	if err := quant.Search(ctx, prepared, 1, cell, make([]float32, n)); err != nil {
		return err
	}
	if err := x.LockOpen(); err != nil {
		return err
	}
	defer x.Unlock()
	ids, err = x.ids.Assign(ids, n, assigned, "an ivf_flat")
	if err != nil {
		return err
	}
	track := x.ids.Append(ids, x.each)
	for c, extra := range index.CountLists(cell, x.nlist) {
		if extra > 0 {
			l := &x.lists[c]
			l.ids, l.vecs = index.GrowFor(l.ids, extra), index.GrowFor(l.vecs, extra*d)
		}
	}
	for i, id := range ids {
		c := cell[i]
		l := &x.lists[c]
		if track {
			x.ids.Set(id, index.Slot{List: int32(c), Pos: int32(len(l.ids))})
		}
		l.ids = append(l.ids, id)
		l.vecs = append(l.vecs, prepared[i*d:(i+1)*d]...)
	}
	return nil
}

// Remove implements index.Index: the last vector of a list takes the
// removed one's place.
func (x *IVF) Remove(ctx context.Context, ids []int64) (int, error) {
	if err := x.LockOpen(); err != nil {
		return 0, err
	}
	defer x.Unlock()
	removed, d := 0, x.Dim()
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
			copy(l.vecs[int(s.Pos)*d:(int(s.Pos)+1)*d], l.vecs[last*d:(last+1)*d])
			x.ids.Set(moved, s)
		}
		l.ids, l.vecs = l.ids[:last], l.vecs[:last*d]
		removed++
	}
	return removed, nil
}
