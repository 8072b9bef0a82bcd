package ivf

import (
	"context"
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/kernels"
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
	if err := quant.Search(ctx, prepared, 1, nil, cell, make([]float32, n)); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return errs.Closed
	}
	if len(x.where)+n > math.MaxInt32 {
		return fmt.Errorf("%w: an ivf_flat index holds at most %d vectors", errs.InvalidArgument, math.MaxInt32)
	}
	if ids == nil {
		ids = make([]int64, n)
		for i := range ids {
			ids[i] = x.nextID + int64(i)
		}
		if assigned != nil {
			copy(assigned, ids)
		}
	} else {
		for _, id := range ids {
			if _, dup := x.where[id]; dup {
				return fmt.Errorf("%w: id %d is already in the index; remove it first to replace its vector", errs.DuplicateID, id)
			}
		}
	}
	for i, id := range ids {
		c := cell[i]
		l := &x.lists[c]
		x.where[id] = slot{int32(c), int32(len(l.ids))}
		l.ids = append(l.ids, id)
		v := prepared[i*x.dim : (i+1)*x.dim]
		l.vecs = append(l.vecs, v...)
		if x.metric.Class() == metric.ClassL2 {
			l.norms = append(l.norms, kernels.Dot(v, v))
		}
		if id >= x.nextID {
			x.nextID = id + 1
		}
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
		s, ok := x.where[id]
		if !ok {
			continue
		}
		l := &x.lists[s.list]
		last := len(l.ids) - 1
		if int(s.pos) != last {
			moved := l.ids[last]
			l.ids[s.pos] = moved
			copy(l.vecs[int(s.pos)*x.dim:(int(s.pos)+1)*x.dim], l.vecs[last*x.dim:(last+1)*x.dim])
			if l.norms != nil {
				l.norms[s.pos] = l.norms[last]
			}
			x.where[moved] = s
		}
		l.ids, l.vecs = l.ids[:last], l.vecs[:last*x.dim]
		if l.norms != nil {
			l.norms = l.norms[:last]
		}
		delete(x.where, id)
		removed++
	}
	return removed, nil
}
