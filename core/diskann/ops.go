package diskann

import (
	"context"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// Add implements index.Index. The first add into an empty index builds
// the disk graph from the batch (PQ codebook, Vamana, image written to
// the path); later adds go into the in-memory delta, searched beside the
// disk graph until Merge writes them into it.
func (x *DiskANN) Add(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error {
	n, xv, err := index.CheckAdd(x.Bound(), vectors, x.Dim(), ids, assigned)
	if err != nil {
		return err
	}
	if err := x.LockOpen(); err != nil {
		return err
	}
	defer x.Unlock()
	if n == 0 {
		return nil
	}
	if ids == nil {
		ids = make([]int64, n)
		for i := range ids {
			ids[i] = x.nextID + int64(i)
		}
	} else {
		for _, id := range ids {
			if x.present(id) {
				return fmt.Errorf("%w: id %d is already in the index; remove it first to replace its vector", errs.DuplicateID, id)
			}
		}
		ids = append([]int64(nil), ids...)
	}
	if (x.img == nil || x.img.n == 0) && x.delta.n() == 0 {
		if err := x.build(ctx, xv, n, ids); err != nil {
			return err
		}
	} else {
		x.delta.add(append([]float32(nil), xv...), ids, x.p.R, x.p.LBuild, float32(x.p.Alpha))
	}
	for _, id := range ids {
		x.nextID = max(x.nextID, id+1)
	}
	if assigned != nil {
		copy(assigned, ids)
	}
	return nil
}

// Build is Add into an empty index, which it requires: the disk graph
// of vectors (n x dim, read in place: a mapped .npy file works).
func (x *DiskANN) Build(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error {
	if x.Len() > 0 {
		return fmt.Errorf("%w: build needs an empty diskann index; this one holds %d vectors (add appends to the delta)", errs.State, x.Len())
	}
	return x.Add(ctx, vectors, ids, assigned)
}

func (x *DiskANN) present(id int64) bool {
	if _, ok := x.delta.lookup(id); ok {
		return true
	}
	if x.img != nil {
		_, ok := x.img.lookup(id)
		return ok
	}
	return false
}

// Remove implements index.Index: disk nodes go on the delete list (still
// walked through, never returned) until Consolidate or Merge rewrites
// their neighbours' blocks; delta nodes are marked alike.
func (x *DiskANN) Remove(ctx context.Context, ids []int64) (int, error) {
	if err := x.LockOpen(); err != nil {
		return 0, err
	}
	defer x.Unlock()
	removed := 0
	for _, id := range ids {
		if i, ok := x.delta.lookup(id); ok {
			x.delta.remove(i)
			removed++
		} else if x.img != nil {
			if i, ok := x.img.lookup(id); ok {
				x.img.deleted[i>>6] |= 1 << (i & 63)
				x.img.ndel++
				removed++
			}
		}
	}
	return removed, nil
}

// smallFilter is the most vectors a filter may admit for the search to
// rank them all exactly instead of walking the graph.
const smallFilter = 512

// Search implements index.Index: the beam search of the disk graph and a
// walk of the delta, each with list size l (ef), merged by exact
// distance. A filter is applied to what the walks expand; one that admits
// fewer than 512 ids is ranked exactly over those ids instead.
func (x *DiskANN) Search(ctx context.Context, queries []float32, k int, sp *index.SearchParams, outIDs []int64, outDist []float32) error {
	nq, pq, allow, err := index.CheckSearch(x.Bound(), queries, x.Dim(), k, sp, outIDs, outDist)
	if err != nil {
		return err
	}
	if err := x.RLockOpen(); err != nil {
		return err
	}
	defer x.RUnlock()
	kk := index.Results(k, x.lenLocked())
	index.PadRows(outIDs, outDist, nq, k, kk)
	if kk == 0 {
		return nil
	}
	l := int(x.lSearch.Load())
	if sp != nil && sp.Ef > 0 {
		l = min(sp.Ef, maxL)
	}
	l = max(l, kk)
	bw := int(x.beamWidth.Load())
	if sp != nil && sp.BeamWidth > 0 { // this call's, leaving the default alone
		if sp.BeamWidth > index.MaxBeamWidth {
			return fmt.Errorf("%w: beam_width must be between 1 and %d, got %d", errs.InvalidArgument, index.MaxBeamWidth, sp.BeamWidth)
		}
		bw = sp.BeamWidth
	}
	var few []int64
	if sp != nil && sp.Filter != nil {
		few = x.admitted(sp.Filter)
	}
	l2 := x.Bound().Class() == metric.ClassL2
	ks := kernels.Current()
	d := x.Dim()
	x.stats.queries.Add(int64(nq))
	return parallel.For(ctx, nq, 1, func(lo, hi int) error {
		sc := x.scratch.Get()
		defer x.scratch.Put(sc)
		var h index.TopK
		for qi := lo; qi < hi; qi++ {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			q := pq[qi*d : (qi+1)*d]
			dist, ids := outDist[qi*k:qi*k+kk], outIDs[qi*k:qi*k+kk]
			h.Reset(dist, ids)
			var err error
			if few != nil {
				err = x.rankExactly(q, few, &h, sc, l2, ks)
			} else {
				err = x.searchOne(q, l, bw, allow, &h, sc, l2, ks)
			}
			if err != nil {
				return err
			}
			h.Finish()
			for i, id := range ids {
				if id >= 0 {
					dist[i] = finish(x.Bound(), l2, dist[i])
				}
			}
		}
		return nil
	})
}

// searchOne offers q's candidates from the disk graph and the delta to h.
func (x *DiskANN) searchOne(q []float32, l, bw int, allow func(int64) bool, h *index.TopK, sc *scratch, l2 bool, ks *kernels.Set) error {
	if err := x.beam(q, l, bw, sc, l2, ks); err != nil {
		return err
	}
	m := x.img
	for _, it := range sc.exact {
		if m.isDeleted(it.node) {
			continue
		}
		if id := m.ids[it.node]; allow == nil || allow(id) {
			h.Push(it.d, id)
		}
	}
	dl := x.delta
	if dl.n() == 0 {
		return nil
	}
	dl.g.greedy(probe{v: q}, l, &sc.dw, nil)
	for _, it := range sc.dw.list {
		if dl.deleted[it.node] {
			continue
		}
		if id := dl.ids[it.node]; allow == nil || allow(id) {
			h.Push(rank(ks, l2, q, dl.g.vec(it.node)), id)
		}
	}
	return nil
}

// admitted lists the ids a filter admits when they are few (nil when
// they are many or the filter is a long mask).
func (x *DiskANN) admitted(f *index.Filter) []int64 {
	var out []int64
	if f.Mask != nil {
		for id, ok := range f.Mask {
			if ok {
				if out = append(out, int64(id)); len(out) > smallFilter {
					return nil
				}
			}
		}
		return append([]int64{}, out...) // empty, not nil: nothing admitted
	}
	if len(f.IDs) > smallFilter {
		return nil
	}
	return append([]int64{}, f.IDs...)
}

// rankExactly ranks the admitted ids on their exact vectors: the delta's
// from memory, the disk's by reading their records.
func (x *DiskANN) rankExactly(q []float32, few []int64, h *index.TopK, sc *scratch, l2 bool, ks *kernels.Set) error {
	seen := make(map[int64]bool, len(few))
	for _, id := range few {
		if seen[id] {
			continue
		}
		seen[id] = true
		if i, ok := x.delta.lookup(id); ok {
			h.Push(rank(ks, l2, q, x.delta.g.vec(i)), id)
			continue
		}
		if x.img == nil {
			continue
		}
		i, ok := x.img.lookup(id)
		if !ok {
			continue
		}
		if len(sc.blocks) < x.img.geo.blockSize {
			sc.blocks = alignedBytes(x.img.geo.blockSize)
		}
		vec, _, err := x.img.fetch(i, sc.blocks[:x.img.geo.blockSize])
		if err != nil {
			return err
		}
		x.stats.blocks.Add(1)
		h.Push(rank(ks, l2, q, vec), id)
	}
	return nil
}
