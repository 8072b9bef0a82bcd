package diskann

import (
	"github.com/oxvec/oxvec/core/index"
)

// Verify implements index.Verifier: every record of the disk graph is
// read and checked (checksum, count, neighbours in range, the medoid in
// range), the ids against the maps, the codes against the node count,
// and the delta's lists and maps against its vectors.
func (x *DiskANN) Verify() error {
	x.RLock()
	defer x.RUnlock()
	if m := x.img; m != nil {
		if len(m.ids) != m.n || len(m.codes) != m.n*m.cb.CodeSize || len(m.deleted) != (m.n+63)/64 {
			return index.Broken(TypeName, "%d nodes, %d ids, %d code bytes, %d delete words", m.n, len(m.ids), len(m.codes), len(m.deleted))
		}
		if m.n > 0 && int(m.medoid) >= m.n {
			return index.Broken(TypeName, "medoid %d of %d nodes", m.medoid, m.n)
		}
		del := 0
		block := alignedBytes(m.geo.blockSize)
		for i := range uint32(m.n) {
			if m.isDeleted(i) {
				del++
			}
			if _, _, err := m.fetch(i, block); err != nil {
				return index.Broken(TypeName, "%v", err)
			}
			if m.ids[i] < 0 || m.ids[i] >= x.nextID {
				return index.Broken(TypeName, "node %d id %d outside [0, %d)", i, m.ids[i], x.nextID)
			}
			if got, _ := m.lookupAny(m.ids[i]); got != i {
				return index.Broken(TypeName, "id %d of node %d maps to node %d", m.ids[i], i, got)
			}
		}
		if del != m.ndel {
			return index.Broken(TypeName, "%d nodes marked removed, %d counted", del, m.ndel)
		}
	}
	d := x.delta
	if len(d.vecs) != d.n()*x.Dim() || len(d.deleted) != d.n() || len(d.where) != d.live() || len(d.g.adj) != d.n() {
		return index.Broken(TypeName, "delta: %d ids, %d values, %d marks, %d mapped, %d lists", d.n(), len(d.vecs), len(d.deleted), len(d.where), len(d.g.adj))
	}
	del := 0
	for i, id := range d.ids {
		if d.deleted[i] {
			del++
		} else if x.img != nil {
			if _, ok := x.img.lookup(id); ok {
				return index.Broken(TypeName, "id %d is live on disk and in the delta", id)
			}
		}
		if id < 0 || id >= x.nextID || (!d.deleted[i] && d.where[id] != uint32(i)) {
			return index.Broken(TypeName, "delta node %d id %d (next_id %d, mapped to %d)", i, id, x.nextID, d.where[id])
		}
		for _, v := range d.g.adj[i] {
			if int(v) >= d.n() {
				return index.Broken(TypeName, "delta node %d names node %d of %d", i, v, d.n())
			}
		}
	}
	if del != d.ndel {
		return index.Broken(TypeName, "delta: %d marked removed, %d counted", del, d.ndel)
	}
	return nil
}

// lookupAny is lookup without the delete check.
func (m *image) lookupAny(id int64) (uint32, bool) {
	if m.where == nil {
		return uint32(id), id >= 0 && id < int64(m.n)
	}
	v, ok := m.where[id]
	return v, ok
}
