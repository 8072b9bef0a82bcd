package diskann

import (
	"context"
	"slices"
	"sync"

	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// A rewrite makes the next image from the current one (FreshDiskANN's
// StreamingMerge): removed nodes are dropped and the lists that named
// them repaired - a removed neighbour's place is offered to its own
// neighbours, and the union pruned back to r - and, for a merge, the
// delta's vectors are linked in: each is searched on the disk graph with
// l_build (reading the blocks it expands), its list pruned from what that
// search expanded and its delta neighbours, and it is added to the lists
// of the disk nodes it chose (pruned where they overflow). Distances
// between disk nodes are taken on their PQ reconstructions, so a rewrite
// reads each live node's block once, in file order, plus the blocks of
// removed nodes and of the merge's searches. Nodes are renumbered densely,
// live disk nodes first in their old order, then the delta's.

// plan computes the next image's content and the source of its blocks.
// It changes nothing; the caller holds the lock (shared for Save).
func (x *DiskANN) plan(ctx context.Context, mergeDelta bool) (content, chunkSource, error) {
	dim, r, alpha := x.Dim(), x.p.R, float32(x.p.Alpha)
	ks := kernels.Current()
	old, dl := x.img, x.delta
	var live []uint32 // old nodes kept, in order
	renum := map[uint32]uint32{}
	if old != nil {
		for i := range uint32(old.n) {
			if !old.isDeleted(i) {
				if old.ndel > 0 {
					renum[i] = uint32(len(live))
				}
				live = append(live, i)
			}
		}
	}
	newOf := func(i uint32) (uint32, bool) { // old node -> new node
		if old.ndel == 0 {
			return i, true
		}
		v, ok := renum[i]
		return v, ok
	}
	var fresh []uint32 // delta nodes merged, in order
	if mergeDelta {
		for i := range uint32(dl.n()) {
			if !dl.deleted[i] {
				fresh = append(fresh, i)
			}
		}
	}
	c := content{n: len(live) + len(fresh), nextID: x.nextID}
	if c.n == 0 {
		return c, nil, nil
	}
	// codes and ids: old ones kept, the delta's encoded with the same codebook
	if old != nil && old.n > 0 {
		c.cb = old.cb
	} else {
		var err error
		vs := make([]float32, 0, len(fresh)*dim)
		for _, i := range fresh {
			vs = append(vs, dl.g.vec(i)...)
		}
		if c.cb, err = trainCodebook(ctx, vs, len(fresh), dim, x.p.PQBytes, x.p.Seed); err != nil {
			return c, nil, err
		}
	}
	cs := c.cb.CodeSize
	c.codes = make([]uint8, 0, c.n*cs)
	c.ids = make([]int64, 0, c.n)
	for _, i := range live {
		c.codes = append(c.codes, old.codes[int(i)*cs:int(i+1)*cs]...)
		c.ids = append(c.ids, old.ids[i])
	}
	var fv []float32
	for _, i := range fresh {
		fv = append(fv, dl.g.vec(i)...)
		c.ids = append(c.ids, dl.ids[i])
	}
	if len(fresh) > 0 {
		fc, err := encode(ctx, c.cb, fv, len(fresh), dim)
		if err != nil {
			return c, nil, err
		}
		c.codes = append(c.codes, fc...)
	}
	decoded := func(v uint32, buf []float32) []float32 { // a new node's PQ reconstruction
		c.cb.Decode(c.codes[int(v)*cs:int(v+1)*cs], buf)
		return buf
	}
	// the lists of removed nodes, read once
	gone := map[uint32][]uint32{}
	block := alignedBytes(max(blockAlign, geoOf(old).blockSize))
	if old != nil && old.ndel > 0 {
		for i := range uint32(old.n) {
			if old.isDeleted(i) {
				_, nbrs, err := old.fetch(i, block)
				if err != nil {
					return c, nil, err
				}
				gone[i] = slices.Clone(nbrs)
			}
		}
	}
	// the merged delta nodes' lists (new numbers) and their back edges
	freshLists := make([][]uint32, len(fresh))
	backs := map[uint32][]uint32{} // new disk node -> new fresh nodes to add
	var mu sync.Mutex
	deltaNew := map[uint32]uint32{}
	for j, i := range fresh {
		deltaNew[i] = uint32(len(live) + j)
	}
	err := parallel.For(ctx, len(fresh), 16, func(lo, hi int) error {
		sc := &scratch{}
		buf := make([]float32, dim)
		for j := lo; j < hi; j++ {
			i := fresh[j]
			q := dl.g.vec(i)
			me := uint32(len(live) + j)
			var cand []item
			if old != nil && old.n > 0 {
				if err := x.beam(q, x.p.LBuild, 4, sc, true, ks); err != nil {
					return err
				}
				for _, it := range sc.exact {
					if v, ok := newOf(it.node); ok {
						cand = append(cand, item{it.d, v})
					}
				}
			}
			for _, u := range dl.g.adj[i] {
				if v, ok := deltaNew[u]; ok {
					cand = append(cand, item{ks.L2Sq(q, dl.g.vec(u)), v})
				}
			}
			vecOf := func(v uint32) []float32 {
				if int(v) >= len(live) {
					return dl.g.vec(fresh[int(v)-len(live)])
				}
				return decoded(v, buf)
			}
			list := pruneWith(me, cand, alpha, r, vecOf, ks)
			freshLists[j] = list
			mu.Lock()
			for _, v := range list {
				if int(v) < len(live) {
					backs[v] = append(backs[v], me)
				}
			}
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return c, nil, err
	}
	c.medoid = 0
	if old != nil && old.n > 0 {
		if v, ok := newOf(old.medoid); ok {
			c.medoid = v
		} else {
			c.medoid = x.nearestLive(live, old, renum)
		}
	} else if len(fresh) > 0 {
		c.medoid = uint32(len(live)) + medoid(fv, dim, ks)
	}
	src := func(ctx context.Context, lo, hi int, vecs []float32, out [][]uint32) error {
		return parallel.For(ctx, hi-lo, 64, func(a, b int) error {
			blk := alignedBytes(max(blockAlign, geoOf(old).blockSize))
			buf, tmp := make([]float32, dim), make([]float32, dim)
			for k := a; k < b; k++ {
				v := uint32(lo + k)
				if int(v) >= len(live) {
					j := int(v) - len(live)
					copy(vecs[k*dim:(k+1)*dim], dl.g.vec(fresh[j]))
					out[k] = freshLists[j]
					continue
				}
				vec, nbrs, err := old.fetch(live[v], blk)
				if err != nil {
					return err
				}
				copy(vecs[k*dim:(k+1)*dim], vec)
				out[k] = repair(v, vec, nbrs, backs[v], gone, newOf, r, alpha, func(u uint32) []float32 {
					if int(u) >= len(live) {
						return dl.g.vec(fresh[int(u)-len(live)])
					}
					return decoded(u, tmp)
				}, buf, ks)
			}
			return nil
		})
	}
	return c, src, nil
}

func geoOf(m *image) geometry {
	if m == nil {
		return geometry{blockSize: blockAlign}
	}
	return m.geo
}

// nearestLive picks a new entry point when the medoid was removed: the
// first live node reached breadth first from it through removed nodes'
// lists, else the first live node.
func (x *DiskANN) nearestLive(live []uint32, old *image, renum map[uint32]uint32) uint32 {
	block := alignedBytes(old.geo.blockSize)
	queue, seen := []uint32{old.medoid}, map[uint32]bool{old.medoid: true}
	for steps := 0; len(queue) > 0 && steps < 10000; steps++ {
		i := queue[0]
		queue = queue[1:]
		if v, ok := renum[i]; ok {
			return v
		}
		_, nbrs, err := old.fetch(i, block)
		if err != nil {
			break
		}
		for _, u := range nbrs {
			if !seen[u] {
				seen[u] = true
				queue = append(queue, u)
			}
		}
	}
	return 0
}

// repair is a kept disk node's new list: its live neighbours renumbered,
// each removed neighbour replaced by that one's live neighbours, plus
// the merged nodes that chose it; pruned to r when more.
func repair(p uint32, vec []float32, nbrs, added []uint32, gone map[uint32][]uint32, newOf func(uint32) (uint32, bool), r int, alpha float32,
	vecOf func(uint32) []float32, buf []float32, ks *kernels.Set) []uint32 {
	var ids []uint32
	changed := len(added) > 0
	for _, u := range nbrs {
		if v, ok := newOf(u); ok {
			ids = append(ids, v)
			continue
		}
		changed = true
		for _, w := range gone[u] {
			if v, ok := newOf(w); ok && v != p {
				ids = append(ids, v)
			}
		}
	}
	ids = append(ids, added...)
	if !changed {
		return ids
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) <= r {
		return ids
	}
	cand := make([]item, len(ids))
	for i, v := range ids {
		cand[i] = item{ks.L2Sq(vec, vecOf(v)), v}
	}
	return pruneWith(p, cand, alpha, r, vecOf, ks)
}

// pruneWith is RobustPrune over vectors that vecOf gives (it may reuse
// one buffer: each vector is used before the next is asked for).
func pruneWith(p uint32, cand []item, alpha float32, r int, vecOf func(uint32) []float32, ks *kernels.Set) []uint32 {
	slices.SortFunc(cand, less)
	cand = slices.CompactFunc(cand, func(a, b item) bool { return a.node == b.node })
	var out []uint32
	kept := make([]float32, 0, len(vecOf(p)))
	for i := 0; i < len(cand) && len(out) < r; i++ {
		c := cand[i]
		if c.node == p || c.d < 0 {
			continue
		}
		out = append(out, c.node)
		kept = append(kept[:0], vecOf(c.node)...)
		for j := i + 1; j < len(cand); j++ {
			if cand[j].d >= 0 && alpha*ks.L2Sq(kept, vecOf(cand[j].node)) <= cand[j].d {
				cand[j].d = -1
			}
		}
	}
	return out
}
