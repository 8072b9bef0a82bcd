package hnsw

import (
	"sync"
	"sync/atomic"
)

// orphanList collects nodes whose level-0 in-degree dropped to zero: the
// pruning heuristic may drop a node from every list that held it, and a
// node nothing links to can never be found (hnswlib and faiss leave such
// nodes lost). Inserts and removals relink them before they return.
type orphanList struct {
	mu    sync.Mutex
	nodes []uint32
}

func (o *orphanList) add(v uint32) {
	o.mu.Lock()
	o.nodes = append(o.nodes, v)
	o.mu.Unlock()
}

func (o *orphanList) take() []uint32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.nodes
	o.nodes = nil
	return n
}

// Neighbour lists are read with atomic loads and written with atomic stores
// under the node's lock: a reader can meet a list while it changes, and then
// sees some old and some new entries, each one whole, which a greedy walk
// tolerates. On amd64 and arm64 these atomics are plain loads and stores.

// list returns node i's list at level l: the count cell and the neighbour
// cells (capacity m0 at level 0, m above).
func (h *HNSW) list(i uint32, l int) (count *uint32, cells []uint32) {
	if l == 0 {
		s := int(i) * (1 + h.m0)
		return &h.level0[s], h.level0[s+1 : s+1+h.m0]
	}
	s := int(h.upperOff[i]) + (l-1)*(1+h.p.M)
	return &h.upper[s], h.upper[s+1 : s+1+h.p.M]
}

// neighbours copies node i's list at level l into dst.
func (h *HNSW) neighbours(i uint32, l int, dst []uint32) []uint32 {
	count, cells := h.list(i, l)
	n := min(int(atomic.LoadUint32(count)), len(cells))
	dst = dst[:0]
	for j := 0; j < n; j++ {
		dst = append(dst, atomic.LoadUint32(&cells[j]))
	}
	return dst
}

// setNeighbours replaces node i's list at level l. The caller holds i's
// lock. At level 0 it keeps the in-degrees current and reports nodes left
// with none (see orphans).
func (h *HNSW) setNeighbours(i uint32, l int, nbrs []uint32) {
	count, cells := h.list(i, l)
	if l == 0 {
		old := cells[:min(int(atomic.LoadUint32(count)), len(cells))]
		for _, v := range nbrs {
			atomic.AddUint32(&h.indeg[v], 1)
		}
		for _, v := range old {
			if atomic.AddUint32(&h.indeg[v], ^uint32(0)) == 0 {
				h.orphans.add(v)
			}
		}
	}
	for j, v := range nbrs {
		atomic.StoreUint32(&cells[j], v)
	}
	atomic.StoreUint32(count, uint32(len(nbrs)))
}

func (h *HNSW) maxLinks(l int) int {
	if l == 0 {
		return h.m0
	}
	return h.p.M
}

// entryPoint returns the entry node and the top level, ok false when the
// graph is empty.
func (h *HNSW) entryPoint() (node uint32, top int, ok bool) {
	e := h.entry.Load()
	if e == 0 {
		return 0, 0, false
	}
	return uint32(e), int(e>>32) - 1, true
}

func (h *HNSW) setEntry(node uint32, top int) {
	h.entry.Store(uint64(top+1)<<32 | uint64(node))
}
