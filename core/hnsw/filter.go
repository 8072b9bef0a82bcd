package hnsw

import (
	"github.com/oxvec/oxvec/core/index"
)

// allowSet is a filter turned into a bitset over internal ids. A nil
// *allowSet admits every node.
type allowSet struct {
	bits  []uint64
	nodes []uint32 // the admitted nodes, for an exact scan
	scan  bool     // few enough admitted nodes to scan them exactly
}

// exactScanBelow: a filter admitting at most this many nodes is answered by
// scanning them. A filtered walk must visit about ef/selectivity nodes to
// fill its results, each costing a distance per neighbour; below this count
// a scan is both cheaper and exact.
const exactScanBelow = 4096

func (a *allowSet) admits(i uint32) bool {
	return a == nil || a.bits[i>>6]&(1<<(i&63)) != 0
}

func (a *allowSet) exact() bool { return a != nil && a.scan }

// allowSet builds the bitset of a filter; the caller holds mu.
func (h *HNSW) allowSet(f *index.Filter) (*allowSet, error) {
	if f == nil {
		return nil, nil
	}
	a := &allowSet{bits: make([]uint64, (h.used+63)/64)}
	add := func(node uint32) {
		if a.bits[node>>6]&(1<<(node&63)) == 0 {
			a.bits[node>>6] |= 1 << (node & 63)
			a.nodes = append(a.nodes, node)
		}
	}
	if f.Mask != nil {
		for node := 0; node < h.used; node++ {
			if id := h.ids[node]; id >= 0 && id < int64(len(f.Mask)) && f.Mask[id] {
				add(uint32(node))
			}
		}
	} else {
		h.ensureByID()
		for _, id := range f.IDs {
			if node, ok := h.byID[id]; ok {
				add(node)
			}
		}
	}
	a.scan = len(a.nodes) <= h.scanBelow
	return a, nil
}

// scan answers a query exactly over the admitted nodes.
func (h *HNSW) scan(r ranker, q []float32, k int, a *allowSet) []item {
	var top index.TopK
	d := make([]float32, min(k, len(a.nodes)))
	ids := make([]int64, len(d))
	top.Reset(d, ids)
	for _, node := range a.nodes {
		if v := r.dist(q, h.vec(node)); v <= top.Bound() {
			top.Push(v, int64(node))
		}
	}
	top.Finish()
	out := make([]item, 0, len(d))
	for i, id := range ids {
		if id >= 0 {
			out = append(out, item{d[i], uint32(id)})
		}
	}
	return out
}
