package hnsw

import (
	"fmt"
	"math"
	"sync"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// Graph is an HNSW graph built by another library (faiss's IndexHNSWFlat,
// hnswlib), in the shape both share with ours: 2*M links per node at level
// 0 and M above, a top level per node and one entry point at the top
// level. FromGraph keeps it as it is: no edge is recomputed.
type Graph struct {
	M                        int       // links per node above level 0 (level 0 holds 2*M)
	EfConstruction, EfSearch int       // kept as the index's parameters; 0 takes the defaults
	Vectors                  []float32 // n rows of dim, as the library stored them
	IDs                      []int64   // n external ids, distinct, >= 0
	Levels                   []int     // n: each node's top level (0 = level 0 only)
	// Links returns node's neighbours at level (0 <= level <= Levels[node]);
	// a negative entry ends the list (faiss pads with -1). The slice is
	// read before the next call, so it may be a reused buffer.
	Links   func(node, level int) []int32
	Entry   int    // the entry node, at the highest level; ignored when n = 0
	Removed []bool // nil, or n flags: nodes to drop after import (hnswlib's deleted elements)
}

// FromGraph returns an index holding g's vectors, ids and graph. Every
// list is checked (neighbours in range, of a level at least the list's,
// at most the level's capacity); a node named twice in a list or a self
// link is dropped, since our searches assume neither. Removed nodes are
// then taken out as Remove does, so the lists that named them are
// repaired. The result passes Verify.
func FromGraph(dim int, m *metric.Metric, g Graph) (*HNSW, error) {
	n := len(g.IDs)
	if len(g.Levels) != n || len(g.Vectors) != n*dim || (g.Removed != nil && len(g.Removed) != n) || g.Links == nil {
		return nil, fmt.Errorf("%w: hnsw import: %d ids, %d levels, %d vector values for dim %d", errs.Corrupt, n, len(g.Levels), len(g.Vectors), dim)
	}
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("%w: an hnsw index holds at most %d vectors", errs.Unsupported, math.MaxInt32)
	}
	if g.M < 2 || g.M > 512 {
		return nil, fmt.Errorf("%w: hnsw import: M = %d; oxvec's hnsw takes 2 to 512", errs.Unsupported, g.M)
	}
	_, prepared, err := index.CheckAdd(m, g.Vectors, dim, g.IDs, nil)
	if err != nil {
		return nil, err
	}
	// the imported graph searches as it did in its library: on float32
	h, err := New(dim, m, Params{M: g.M, EfConstruction: g.EfConstruction, EfSearch: g.EfSearch, MaxElements: n, Quantize: "none"})
	if err != nil {
		return nil, err
	}
	if err := h.fill(prepared, g); err != nil {
		return nil, err
	}
	if err := h.loadChecks(h.nextID); err != nil {
		return nil, err
	}
	if g.Removed != nil {
		var dead []int64
		for node, r := range g.Removed {
			if r {
				dead = append(dead, g.IDs[node])
			}
		}
		if len(dead) > 0 {
			h.removeLocked(dead)
		}
	}
	return h, nil
}

// fill stores the nodes and their lists; h is new and owned by the caller.
func (h *HNSW) fill(vectors []float32, g Graph) error {
	n, d := len(g.IDs), h.Dim()
	top := -1
	for _, lv := range g.Levels {
		if lv < 0 || lv > maxLevel {
			return fmt.Errorf("%w: hnsw import: a node has level %d; oxvec's hnsw has levels 0 to %d", errs.Unsupported, lv, maxLevel)
		}
		top = max(top, lv)
	}
	h.vecs = h.vecs[:n*h.stride]
	h.level0 = h.level0[:n*(1+h.m0)]
	h.levels = h.levels[:0]
	h.upperOff = h.upperOff[:0]
	h.ids = h.ids[:0]
	for node := 0; node < n; node++ {
		copy(h.vec(uint32(node)), vectors[node*d:(node+1)*d])
		lv := g.Levels[node]
		h.levels = append(h.levels, uint8(lv))
		off := int32(-1)
		if lv > 0 {
			off = int32(len(h.upper))
			h.upper = append(h.upper, make([]uint32, lv*(1+h.p.M))...)
		}
		h.upperOff = append(h.upperOff, off)
		h.ids = append(h.ids, g.IDs[node])
		h.nextID = max(h.nextID, g.IDs[node]+1)
	}
	h.used, h.live = n, n
	seen := make([]uint32, n) // stamp: list number + 1 that last named a node
	list := uint32(0)
	var keep []uint32
	for node := 0; node < n; node++ {
		for l := 0; l <= g.Levels[node]; l++ {
			list++
			keep = keep[:0]
			count, cells := h.list(uint32(node), l)
			for _, x := range g.Links(node, l) {
				if x < 0 {
					break
				}
				switch {
				case int(x) >= n:
					return fmt.Errorf("%w: hnsw import: node %d links to node %d of %d", errs.Corrupt, node, x, n)
				case g.Levels[x] < l:
					return fmt.Errorf("%w: hnsw import: node %d at level %d links to node %d, whose top level is %d", errs.Corrupt, node, l, x, g.Levels[x])
				case int(x) == node || seen[x] == list:
					continue
				}
				seen[x] = list
				keep = append(keep, uint32(x))
			}
			if len(keep) > len(cells) {
				return fmt.Errorf("%w: hnsw import: node %d has %d neighbours at level %d, room for %d", errs.Corrupt, node, len(keep), l, len(cells))
			}
			copy(cells, keep)
			*count = uint32(len(keep))
		}
	}
	h.locks = make([]sync.Mutex, n)
	h.countInDegrees()
	h.byIDOK.Store(false)
	h.byID = nil
	if n == 0 {
		return nil
	}
	if g.Entry < 0 || g.Entry >= n || g.Levels[g.Entry] != top {
		return fmt.Errorf("%w: hnsw import: entry point %d is not a node of the top level %d", errs.Corrupt, g.Entry, top)
	}
	h.setEntry(uint32(g.Entry), top)
	return nil
}

// Graph lists the parts of h that another library's graph format needs
// (to_faiss): the live nodes renumbered densely in slot order, each
// one's vector (as stored: prepared by the metric), top level and lists,
// and the entry point. fn is called once per live node with its new
// number; links holds its lists, level by level, in new numbers.
func (h *HNSW) Graph(fn func(node int, id int64, vec []float32, level int, links [][]int32)) (entry, top int, m int, err error) {
	if err := h.RLockOpen(); err != nil {
		return 0, 0, 0, err
	}
	defer h.RUnlock()
	renum := make([]int32, h.used)
	k := int32(0)
	for node := 0; node < h.used; node++ {
		renum[node] = -1
		if h.ids[node] >= 0 {
			renum[node] = k
			k++
		}
	}
	var buf []uint32
	for node := 0; node < h.used; node++ {
		if renum[node] < 0 {
			continue
		}
		lv := int(h.levels[node])
		links := make([][]int32, lv+1)
		for l := 0; l <= lv; l++ {
			buf = h.neighbours(uint32(node), l, buf[:0])
			for _, x := range buf {
				if renum[x] >= 0 {
					links[l] = append(links[l], renum[x])
				}
			}
		}
		fn(int(renum[node]), h.ids[node], h.vec(uint32(node))[:h.Dim()], lv, links)
	}
	ep, top, ok := h.entryPoint()
	if !ok {
		return -1, -1, h.p.M, nil
	}
	return int(renum[ep]), top, h.p.M, nil
}
