package hnsw

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/core/progress"
)

// Add implements index.Index. A batch is inserted in parallel, one node per
// task. An id that is present already is errs.DuplicateID, as in every
// index type (hnswlib replaces its vector instead): remove it first. The
// batch is validated before anything changes.
func (h *HNSW) Add(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error {
	n, prepared, err := index.CheckAdd(h.Bound(), vectors, h.Dim(), ids, assigned)
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	nodes, levels, err := h.reserve(prepared, ids, assigned)
	if err != nil {
		return err
	}
	if err := h.RLockOpen(); err != nil { // closed meanwhile: nothing will link them
		for _, node := range nodes {
			h.setPending(node, false)
		}
		return err
	}
	defer h.RUnlock()
	// Nodes become reachable only once linked, so a canceled batch leaves
	// the rest unlinked; they are linked anyway (cheap next to the damage of
	// a half-added batch) and cancellation is reported after.
	prog := progress.From(ctx)
	prog.Expect(int64(n))
	err = parallel.For(context.Background(), n, 1, func(lo, hi int) error {
		defer prog.Add(int64(hi - lo)) // one atomic add per node, next to a graph search
		s := h.pool.get()
		defer h.pool.put(s)
		r := h.ranker()
		for i := lo; i < hi; i++ {
			h.insert(s, r, nodes[i], int(levels[i]))
			h.setPending(nodes[i], false)
		}
		return nil
	})
	for _, node := range nodes { // also those a failed insertion left (a panic)
		h.setPending(node, false)
	}
	h.afterInsert(n)
	if err == nil {
		err = parallel.Check(ctx)
	}
	return err
}

// reserve stores a batch's vectors and ids in free or new slots, draws the
// nodes' levels and allocates their upper lists, all under the exclusive
// lock, so the parallel insertion that follows never reallocates anything.
func (h *HNSW) reserve(vectors []float32, ids []int64, assigned []int64) (nodes []uint32, levels []uint8, err error) {
	d := h.Dim()
	n := len(vectors) / d
	if err := h.LockOpen(); err != nil {
		return nil, nil, err
	}
	defer h.Unlock()
	if h.mapped != nil {
		h.materialize()
	}
	h.ensureByID()
	if ids == nil {
		ids = make([]int64, n)
		for i := range ids {
			ids[i] = h.nextID + int64(i)
		}
		if assigned != nil {
			copy(assigned, ids)
		}
	} else {
		for _, id := range ids {
			if _, ok := h.byID[id]; ok {
				return nil, nil, fmt.Errorf("%w: id %d is already in the index; remove it first to replace its vector (hnswlib replaces silently; here every index type refuses)", errs.DuplicateID, id)
			}
		}
	}
	if h.used-len(h.free)+n > math.MaxInt32 {
		return nil, nil, fmt.Errorf("%w: an hnsw index holds at most %d vectors", errs.InvalidArgument, math.MaxInt32)
	}
	h.grow(h.used + n)
	if h.quant != nil && h.quant.widen(vectors) {
		h.encodeAll()
	}
	nodes = make([]uint32, n)
	levels = make([]uint8, n)
	for i := 0; i < n; i++ {
		var node uint32
		if k := len(h.free); k > 0 {
			node, h.free = h.free[k-1], h.free[:k-1]
		} else {
			node = uint32(h.used)
			h.used++
			h.vecs = h.vecs[:h.used*h.stride]
			if h.quant != nil {
				h.quant.codes = h.quant.codes[:h.used*h.quant.stride]
			}
			h.level0 = h.level0[:h.used*(1+h.m0)]
			h.levels = append(h.levels, 0)
			h.upperOff = append(h.upperOff, -1)
			h.ids = append(h.ids, -1)
		}
		lvl := min(maxLevel, int(-math.Log(1-h.rng.Float64())*h.mult))
		copy(h.vec(node), vectors[i*d:(i+1)*d]) // the padding stays zero
		if h.quant != nil {
			h.quant.encode(h.quant.code(node), vectors[i*d:(i+1)*d])
		}
		h.level0[int(node)*(1+h.m0)] = 0
		h.levels[node] = uint8(lvl)
		h.upperOff[node] = -1
		if lvl > 0 {
			h.upperOff[node] = h.upperRegion(lvl)
		}
		h.ids[node] = ids[i]
		h.byID[ids[i]] = node
		h.setPending(node, true)
		if ids[i] >= h.nextID {
			h.nextID = ids[i] + 1
		}
		nodes[i], levels[i] = node, uint8(lvl)
	}
	h.live += n
	return nodes, levels, nil
}

// setPending marks a reserved node as not linked yet, or clears the mark.
func (h *HNSW) setPending(node uint32, on bool) {
	h.pendMu.Lock()
	defer h.pendMu.Unlock()
	if !on {
		delete(h.pending, node)
		if len(h.pending) == 0 && h.linked != nil {
			h.linked.Broadcast()
		}
		return
	}
	if h.pending == nil {
		h.pending = map[uint32]bool{}
	}
	h.pending[node] = true
}

// lockNoPending takes the exclusive lock at a moment when no Add holds
// reserved, unlinked nodes. An Add reserves slots under the exclusive lock
// and links them under the shared one, so renumbering nodes (Compact) in
// between would make it link the wrong slots; such callers wait here until
// every reserved node is linked.
func (h *HNSW) lockNoPending() error {
	for {
		if err := h.LockOpen(); err != nil {
			return err
		}
		h.pendMu.Lock()
		if len(h.pending) == 0 {
			h.pendMu.Unlock()
			return nil
		}
		h.Unlock() // the Add needs the shared lock to link its nodes
		if h.linked == nil {
			h.linked = sync.NewCond(&h.pendMu)
		}
		for len(h.pending) > 0 {
			h.linked.Wait()
		}
		h.pendMu.Unlock()
	}
}

// isPending reports whether node is reserved by an Add that has not linked
// it yet.
func (h *HNSW) isPending(node uint32) bool {
	h.pendMu.Lock()
	defer h.pendMu.Unlock()
	return h.pending[node]
}

// insert links one reserved node into the graph (Malkov and Yashunin,
// algorithm 1). The caller holds mu shared.
func (h *HNSW) insert(s *scratch, r ranker, node uint32, level int) {
	q := h.vec(node)
	ep, top, ok := h.entryPoint()
	if !ok {
		h.epMu.Lock()
		if _, _, ok = h.entryPoint(); !ok {
			h.setEntry(node, level)
			h.epMu.Unlock()
			return
		}
		h.epMu.Unlock()
		ep, top, _ = h.entryPoint()
	}
	cur := item{r.dist(q, h.vec(ep)), ep}
	for l := top; l > level; l-- {
		cur = h.greedy(s, r, q, cur, l)
	}
	// Choose the neighbours at every level top-down (each level's search
	// starts from the best of the level above), then link bottom-up: a
	// search that reaches the node at some level then finds its lists set
	// at that level and every level below. Linked top-down, a concurrent
	// search could descend onto the node before its level-0 list existed
	// and return the node alone. The choice at level l-1 reads no list of
	// level l, so the graph is the same as linking level by level.
	chosen := make([][]item, min(level, top)+1)
	for l := len(chosen) - 1; l >= 0; l-- {
		cands := h.searchLayer(s, r, q, cur, h.p.EfConstruction, l, nil, node)
		if len(cands) == 0 {
			continue // nothing reachable at this level but the node itself
		}
		cur = cands[0]
		chosen[l] = append([]item(nil), h.selectNeighbours(r, cands, h.p.M)...)
	}
	for l, c := range chosen {
		ids := make([]uint32, len(c))
		for i := range c {
			ids[i] = c[i].id
		}
		h.locks[node].Lock()
		h.setNeighbours(node, l, ids)
		h.locks[node].Unlock()
		for _, nb := range c {
			h.link(s, r, nb.id, node, nb.d, l)
		}
	}
	if level > top {
		h.epMu.Lock()
		if _, t, _ := h.entryPoint(); level > t {
			h.setEntry(node, level)
		}
		h.epMu.Unlock()
	}
}

// link adds the edge from -> to at level l (d is their distance), pruning
// from's list with the heuristic when it is full.
func (h *HNSW) link(s *scratch, r ranker, from, to uint32, d float32, l int) {
	h.locks[from].Lock()
	defer h.locks[from].Unlock()
	s.ids = h.neighbours(from, l, s.ids[:0])
	cur := s.ids
	for _, x := range cur {
		if x == to {
			return
		}
	}
	if len(cur) < h.maxLinks(l) {
		h.setNeighbours(from, l, append(cur, to))
		return
	}
	base := h.vec(from)
	cands := make([]item, 0, len(cur)+1)
	cands = append(cands, item{d, to})
	for _, x := range cur {
		cands = append(cands, item{r.dist(base, h.vec(x)), x})
	}
	sortItems(cands)
	kept := h.selectNeighbours(r, cands, h.maxLinks(l))
	ids := cur[:0]
	for _, c := range kept {
		ids = append(ids, c.id)
	}
	h.setNeighbours(from, l, ids)
}

// relinkOrphans gives every node that lost its last level-0 in-link one
// back, from the closest of its own neighbours that can take it. Callers
// hold mu (shared or exclusive).
func (h *HNSW) relinkOrphans() {
	orphans := h.orphans.take()
	if len(orphans) == 0 {
		return
	}
	r := h.ranker()
	ep, _, _ := h.entryPoint()
	var own []uint32
	for len(orphans) > 0 {
		x := orphans[len(orphans)-1]
		orphans = orphans[:len(orphans)-1]
		if h.ids[x] < 0 || x == ep || atomic.LoadUint32(&h.indeg[x]) > 0 {
			continue
		}
		own = h.neighbours(x, 0, own[:0])
		cands := make([]item, 0, len(own))
		for _, y := range own {
			cands = append(cands, item{r.dist(h.vec(x), h.vec(y)), y})
		}
		sortItems(cands)
		for _, c := range cands {
			if h.forceLink(r, c.id, x) {
				break
			}
		}
		orphans = append(orphans, h.orphans.take()...)
	}
}

// selectNeighbours is the heuristic of Malkov and Yashunin (algorithm 4):
// walking candidates from the closest, keep one only if it is closer to the
// base than to every neighbour kept so far. Candidates that fail diversify
// nothing: their direction is covered. cands must be sorted ascending.
func (h *HNSW) selectNeighbours(r ranker, cands []item, m int) []item {
	if len(cands) <= m {
		return cands
	}
	kept := make([]item, 0, m)
	for _, c := range cands {
		if len(kept) >= m {
			break
		}
		good := true
		cv := h.vec(c.id)
		for _, k := range kept {
			if r.dist(cv, h.vec(k.id)) < c.d {
				good = false
				break
			}
		}
		if good {
			kept = append(kept, c)
		}
	}
	return kept
}

// sortItems sorts by distance, then id (a total order: any sort gives the
// same result). A query's re-ranked candidates are a few dozen, where an
// insertion sort costs a third of sort.Slice's closure calls.
func sortItems(a []item) {
	if len(a) > 48 {
		sort.Slice(a, func(i, j int) bool { return a[i].less(a[j]) })
		return
	}
	for i := 1; i < len(a); i++ {
		it, j := a[i], i
		for ; j > 0 && it.less(a[j-1]); j-- {
			a[j] = a[j-1]
		}
		a[j] = it
	}
}

func (a item) less(b item) bool { return a.d < b.d || (a.d == b.d && a.id < b.id) }
