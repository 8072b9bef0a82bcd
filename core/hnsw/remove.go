package hnsw

import (
	"context"
	"sync"
)

// Remove implements index.Index. Every node that linked to a removed one
// picks new neighbours, with the usual heuristic, from its remaining
// neighbours and the removed node's, so the graph stays navigable; the
// removed slots are reused by later adds.
func (h *HNSW) Remove(ctx context.Context, ids []int64) (int, error) {
	if err := h.LockOpen(); err != nil {
		return 0, err
	}
	defer h.Unlock()
	if h.mapped != nil {
		h.materialize()
	}
	return h.removeLocked(ids), nil
}

// removeLocked removes ids; the caller holds mu exclusively.
func (h *HNSW) removeLocked(ids []int64) int {
	h.ensureByID()
	dead := map[uint32]bool{}
	for _, id := range ids {
		// a node an Add has not linked yet is not there yet: removing it
		// would free a slot the Add is about to link
		if node, ok := h.byID[id]; ok && !dead[node] && !h.isPending(node) {
			dead[node] = true
			delete(h.byID, id)
			h.ids[node] = -1
		}
	}
	if len(dead) == 0 {
		return 0
	}
	h.live -= len(dead)
	h.repair(dead)
	for node := range dead {
		for l := 0; l <= int(h.levels[node]); l++ {
			h.setNeighbours(node, l, nil)
		}
		h.free = append(h.free, node)
	}
	h.fixEntry(dead)
	h.relinkOrphans()
	h.reconnect()
	for node := range dead {
		h.releaseUpper(node)
	}
	return len(dead)
}

// repair reconnects the live nodes whose lists name a dead node.
func (h *HNSW) repair(dead map[uint32]bool) {
	r := h.ranker()
	var nb, extra []uint32
	for p := 0; p < h.used; p++ {
		node := uint32(p)
		if h.ids[node] < 0 {
			continue
		}
		for l := 0; l <= int(h.levels[node]); l++ {
			nb = h.neighbours(node, l, nb[:0])
			hit := false
			for _, x := range nb {
				if dead[x] {
					hit = true
					break
				}
			}
			if !hit {
				continue
			}
			seen := map[uint32]bool{node: true}
			var cands []item
			consider := func(x uint32) {
				if !seen[x] && !dead[x] && h.ids[x] >= 0 {
					seen[x] = true
					cands = append(cands, item{r.dist(h.vec(node), h.vec(x)), x})
				}
			}
			for _, x := range nb {
				if dead[x] {
					extra = h.neighbours(x, l, extra[:0])
					for _, y := range extra {
						consider(y)
					}
				} else {
					consider(x)
				}
			}
			sortItems(cands)
			kept := h.selectNeighbours(r, cands, h.maxLinks(l))
			out := nb[:0]
			for _, c := range kept {
				out = append(out, c.id)
			}
			h.setNeighbours(node, l, out)
		}
	}
}

// fixEntry moves the entry point off a removed node, to a live node of the
// highest level.
func (h *HNSW) fixEntry(dead map[uint32]bool) {
	ep, _, ok := h.entryPoint()
	if !ok || !dead[ep] {
		return
	}
	best, bestLevel := -1, -1
	for p := 0; p < h.used; p++ {
		// a pending node has no lists yet: searches must not start there
		if h.ids[p] >= 0 && int(h.levels[p]) > bestLevel && !h.isPending(uint32(p)) {
			best, bestLevel = p, int(h.levels[p])
		}
	}
	if best < 0 {
		h.entry.Store(0)
		return
	}
	h.setEntry(uint32(best), bestLevel)
}

// Compact renumbers the live nodes densely and releases the memory of
// removed ones (hnswlib never gives it back). Searches wait while it runs.
func (h *HNSW) Compact() error {
	if err := h.lockNoPending(); err != nil {
		return err
	}
	defer h.Unlock()
	if h.mapped != nil {
		h.materialize()
	}
	renum := make([]uint32, h.used)
	n := 0
	for p := 0; p < h.used; p++ {
		if h.ids[p] >= 0 {
			renum[p] = uint32(n)
			n++
		}
	}
	d, w0, wu := h.stride, 1+h.m0, 1+h.p.M
	vecs := make([]float32, n*d)
	level0 := make([]uint32, n*w0)
	levels := make([]uint8, n)
	upperOff := make([]int32, n)
	ids := make([]int64, n)
	var upper []uint32
	var buf []uint32
	var codes []uint8
	if h.quant != nil {
		codes = make([]uint8, n*h.quant.stride)
	}
	remap := func(list []uint32) []uint32 {
		for i, x := range list {
			list[i] = renum[x]
		}
		return list
	}
	for p := 0; p < h.used; p++ {
		if h.ids[p] < 0 {
			continue
		}
		node, q := uint32(p), renum[p]
		copy(vecs[int(q)*d:], h.vec(node))
		if codes != nil {
			copy(codes[int(q)*h.quant.stride:], h.quant.code(node))
		}
		buf = remap(h.neighbours(node, 0, buf[:0]))
		level0[int(q)*w0] = uint32(len(buf))
		copy(level0[int(q)*w0+1:], buf)
		levels[q], ids[q], upperOff[q] = h.levels[p], h.ids[p], -1
		if lv := int(h.levels[p]); lv > 0 {
			upperOff[q] = int32(len(upper))
			for l := 1; l <= lv; l++ {
				buf = remap(h.neighbours(node, l, buf[:0]))
				cell := make([]uint32, wu)
				cell[0] = uint32(len(buf))
				copy(cell[1:], buf)
				upper = append(upper, cell...)
			}
		}
	}
	ep, top, ok := h.entryPoint()
	h.vecs, h.level0, h.levels, h.upperOff, h.ids, h.upper = vecs, level0, levels, upperOff, ids, upper
	if codes != nil {
		h.quant.codes = codes
	}
	h.locks = make([]sync.Mutex, n)
	h.used, h.free = n, nil
	h.upperFree = [maxLevel + 1][]int32{}
	h.countInDegrees()
	h.byID = make(map[int64]uint32, n)
	for q, id := range ids {
		h.byID[id] = uint32(q)
	}
	h.byIDOK.Store(true)
	if ok {
		h.setEntry(renum[ep], top)
	}
	return nil
}
