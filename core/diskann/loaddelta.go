package diskann

import (
	"slices"
	"sync"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/kernels"
)

// loadDelta rebuilds a saved delta: its vectors, ids, removal marks and
// lists (delta_offsets: n+1 ascending offsets into delta_lists), each
// checked before use - ids in [0, next_id), none live twice (in the delta
// or on disk), list entries below n, the medoid below n.
func loadDelta(r *index.Sections, m *imageMeta, img *image) (*delta, error) {
	d := newDelta(m.Dim)
	n := m.DeltaCount
	if n == 0 {
		return d, nil
	}
	vecs := index.Floats(r, "delta_vectors", n, m.Dim)
	ids := index.Section[int64](r, "delta_ids", n, 1)
	dead := index.Section[uint8](r, "delta_dead", n, 1)
	offs := index.Section[uint32](r, "delta_offsets", n+1, 1)
	adj := index.Section[uint32](r, "delta_lists", index.AnyRows, 1)
	if r.Err() != nil {
		return nil, r.Err()
	}
	if m.DeltaMedoid < 0 || m.DeltaMedoid >= int64(n) || m.DeltaGrown < 0 || m.DeltaGrown > n {
		return nil, r.Corrupt("delta medoid %d, grown %d of %d nodes", m.DeltaMedoid, m.DeltaGrown, n)
	}
	if offs[0] != 0 || int(offs[n]) != len(adj) {
		return nil, r.Corrupt("delta list offsets %d..%d for %d entries", offs[0], offs[n], len(adj))
	}
	d.vecs = slices.Clone(vecs)
	d.ids = slices.Clone(ids)
	d.deleted = make([]bool, n)
	d.g = &graph{dim: m.Dim, r: m.R, vecs: d.vecs, adj: make([][]uint32, n), locks: make([]sync.Mutex, n), medoid: uint32(m.DeltaMedoid), ks: kernels.Current()}
	d.grown = m.DeltaGrown
	for i := range n {
		id := ids[i]
		if id < 0 || id >= m.NextID || dead[i] > 1 || offs[i+1] < offs[i] || offs[i+1]-offs[i] > uint32(d.g.slack()) {
			return nil, r.Corrupt("delta node %d: id %d (next_id %d), mark %d, list %d..%d", i, id, m.NextID, dead[i], offs[i], offs[i+1])
		}
		list := adj[offs[i]:offs[i+1]]
		for _, v := range list {
			if int(v) >= n {
				return nil, r.Corrupt("delta node %d names node %d of %d", i, v, n)
			}
		}
		d.g.adj[i] = slices.Clone(list)
		if dead[i] == 1 {
			d.deleted[i] = true
			d.ndel++
			continue
		}
		if _, dup := d.where[id]; dup {
			return nil, r.Corrupt("id %d is live twice in the delta", id)
		}
		if _, live := img.lookup(id); live {
			return nil, r.Corrupt("id %d is live on disk and in the delta", id)
		}
		d.where[id] = uint32(i)
	}
	return d, nil
}
