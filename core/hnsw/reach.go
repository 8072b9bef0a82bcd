package hnsw

import "sync/atomic"

// Connectivity. The pruning heuristic keeps each list diverse, and so can
// drop a node from every list that held it, or leave a small group linking
// only to itself; such nodes can never be found again. hnswlib and faiss
// leave them lost. Here, orphans (in-degree 0) are relinked after every add
// and remove (relinkOrphans), and a walk over the whole level-0 graph finds
// and reconnects any other unreachable node after removals and after adds
// that grew the index by a noticeable share since the last check.

// checkEvery: a full reachability check runs once the nodes inserted since
// the last one reach 1/checkEvery of the index (so it costs O(1) amortised
// per insert).
const checkEvery = 64

// afterInsert runs the connectivity upkeep for n new nodes.
func (h *HNSW) afterInsert(n int) {
	h.relinkOrphans()
	if h.sinceCheck.Add(int64(n))*checkEvery >= int64(h.used) {
		h.reconnect()
	}
}

// reconnect makes every live node reachable from the entry point at
// level 0. Callers hold mu (shared is enough: lists change under node locks).
func (h *HNSW) reconnect() {
	h.sinceCheck.Store(0)
	ep, _, ok := h.entryPoint()
	if !ok {
		return
	}
	seen := make([]bool, h.used)
	var stack, buf []uint32
	mark := func(from uint32) {
		if seen[from] {
			return
		}
		seen[from] = true
		stack = append(stack[:0], from)
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			buf = h.neighbours(x, 0, buf[:0])
			for _, y := range buf {
				if !seen[y] {
					seen[y] = true
					stack = append(stack, y)
				}
			}
		}
	}
	mark(ep)
	s := h.pool.get()
	defer h.pool.put(s)
	r := h.ranker()
	for node := 0; node < h.used; node++ {
		u := uint32(node)
		if seen[u] || h.ids[u] < 0 || h.isPending(u) {
			continue // free, or about to be linked by its own Add
		}
		// a walk reaches only reachable nodes: link u from the closest
		// ones it finds
		cands := h.walk(s, r, h.vec(u), h.p.EfConstruction, nil)
		linked := false
		for _, c := range cands {
			if c.id != u && seen[c.id] && h.forceLink(r, c.id, u) {
				linked = true
				break
			}
		}
		if linked {
			mark(u)
		}
	}
}

// forceLink puts u into y's level-0 list: in a free cell, or in place of
// the farthest neighbour that other lists also hold. It reports whether it
// could.
func (h *HNSW) forceLink(r ranker, y, u uint32) bool {
	h.locks[y].Lock()
	defer h.locks[y].Unlock()
	theirs := h.neighbours(y, 0, nil)
	for _, z := range theirs {
		if z == u {
			return true
		}
	}
	if len(theirs) < h.m0 {
		h.setNeighbours(y, 0, append(theirs, u))
		return true
	}
	far, farD := -1, float32(-1)
	for j, z := range theirs {
		if atomic.LoadUint32(&h.indeg[z]) > 1 {
			if d := r.dist(h.vec(y), h.vec(z)); d > farD {
				far, farD = j, d
			}
		}
	}
	if far < 0 {
		return false
	}
	theirs[far] = u
	h.setNeighbours(y, 0, theirs)
	return true
}
