package diskann

import (
	"sync"

	"github.com/oxvec/oxvec/kernels"
)

// delta holds the vectors added after the disk graph was built, as
// FreshDiskANN's in-memory index: a small Vamana graph of its own over
// exact vectors, searched beside the disk graph, until merge writes it
// into the disk graph.
type delta struct {
	dim     int
	vecs    []float32 // prepared
	ids     []int64
	where   map[int64]uint32
	deleted []bool
	ndel    int
	g       *graph
	grown   int // size at the last medoid choice
}

func newDelta(dim int) *delta {
	return &delta{dim: dim, where: map[int64]uint32{}, g: newGraph(dim, 1, nil)}
}

func (d *delta) n() int    { return len(d.ids) }
func (d *delta) live() int { return len(d.ids) - d.ndel }

func (d *delta) memoryBytes() int64 {
	b := int64(cap(d.vecs))*4 + int64(cap(d.ids))*8 + int64(len(d.where))*40 + int64(len(d.deleted))
	for _, l := range d.g.adj {
		b += int64(cap(l)) * 4
	}
	return b
}

func (d *delta) lookup(id int64) (uint32, bool) {
	i, ok := d.where[id]
	return i, ok && !d.deleted[i]
}

// add links n prepared vectors (rows of vecs) into the delta's graph, one
// at a time (adds hold the index's lock exclusively), with degree r.
func (d *delta) add(vecs []float32, ids []int64, r, l int, alpha float32) {
	first := d.n()
	d.vecs = append(d.vecs, vecs...)
	d.ids = append(d.ids, ids...)
	d.deleted = append(d.deleted, make([]bool, len(ids))...)
	for i, id := range ids {
		d.where[id] = uint32(first + i)
	}
	g := d.g
	adj := append(g.adj, make([][]uint32, len(ids))...)
	*g = graph{dim: d.dim, r: r, vecs: d.vecs, adj: adj, locks: make([]sync.Mutex, len(adj)), medoid: g.medoid, ks: kernels.Current()}
	if first == 0 { // the first entry point: linked before the others
		g.medoid = medoid(d.vecs, d.dim, g.ks)
		d.grown = d.n()
	}
	var w walk
	var cand []item
	var out []uint32
	for p := first; p < d.n(); p++ {
		cand, out = g.insert(uint32(p), l, alpha, &w, cand, out)
	}
	// a new entry point only among linked nodes: a node not yet linked
	// has no list, and walks from it would end at once
	if d.n() >= 2*d.grown {
		g.medoid = medoid(d.vecs, d.dim, g.ks)
		d.grown = d.n()
	}
}

// remove marks a live delta node removed: still walked through, never
// returned, dropped by merge.
func (d *delta) remove(i uint32) {
	delete(d.where, d.ids[i])
	d.deleted[i] = true
	d.ndel++
}
