package diskann

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// graph is a Vamana graph in memory over vecs (n rows of dim, the
// prepared vectors; the caller's buffer, never written): the build's
// working graph, and the delta's. Distances are squared l2 for every
// metric: on the unit-length vectors of cosine it orders as the metric
// does, and alpha pruning needs a distance that behaves like one.
type graph struct {
	dim, r int
	vecs   []float32
	adj    [][]uint32 // out-neighbours of each node
	locks  []sync.Mutex
	medoid uint32
	ks     *kernels.Set
	c8     *codes8 // the build's one-byte codes; nil ranks on vecs
}

func newGraph(dim, r int, vecs []float32) *graph {
	n := len(vecs) / dim
	return &graph{dim: dim, r: r, vecs: vecs, adj: make([][]uint32, n), locks: make([]sync.Mutex, n), ks: kernels.Current()}
}

func (g *graph) n() int { return len(g.adj) }

func (g *graph) vec(i uint32) []float32 { return g.vecs[int(i)*g.dim : int(i+1)*g.dim] }

func (g *graph) dist(q []float32, i uint32) float32 { return g.ks.L2Sq(q, g.vec(i)) }

// probe is what a walk ranks against: a vector, and its code when the
// graph ranks on codes.
type probe struct {
	v []float32
	c []uint8
}

// probeOf is node i as a probe.
func (g *graph) probeOf(i uint32) probe {
	if g.c8 != nil {
		return probe{g.vec(i), g.c8.row(i)}
	}
	return probe{v: g.vec(i)}
}

// pair is the ranking distance of a probe and node i: on codes in the
// build, on the vectors otherwise.
func (g *graph) pair(q probe, i uint32) float32 {
	if g.c8 != nil {
		return float32(g.ks.L2U8(q.c, g.c8.row(i)))
	}
	return g.dist(q.v, i)
}

// distances returns the distances from q to the rows named by rows (in
// buf; u is the code kernel's scratch): one gather kernel call where the
// rows allow it, which spares a call per neighbour in the walks and
// prunes.
func (g *graph) distances(q probe, rows []uint32, buf []float32, u *[]uint32) []float32 {
	buf = slices.Grow(buf[:0], len(rows))[:len(rows)]
	if g.c8 != nil {
		*u = slices.Grow((*u)[:0], len(rows))[:len(rows)]
		g.ks.L2U8Gather(q.c, g.c8.data, g.c8.stride, rows, *u)
		for j, d := range *u {
			buf[j] = float32(d)
		}
		return buf
	}
	if g.dim%kernels.GatherAlign == 0 {
		g.ks.L2SqGather(q.v, g.vecs, g.dim, rows, buf)
		return buf
	}
	for j, v := range rows {
		buf[j] = g.dist(q.v, v)
	}
	return buf
}

// neighbours copies node i's list into buf under its lock.
func (g *graph) neighbours(i uint32, buf []uint32) []uint32 {
	g.locks[i].Lock()
	buf = append(buf[:0], g.adj[i]...)
	g.locks[i].Unlock()
	return buf
}

// unseen appends to buf the neighbours of node i that w has not visited
// (marking them), read under i's lock: no copy of the whole list first.
func (g *graph) unseen(i uint32, w *walk, buf []uint32, skip func(uint32) bool) []uint32 {
	g.locks[i].Lock()
	for _, v := range g.adj[i] {
		if w.seen.visit(v) && (skip == nil || !skip(v)) {
			buf = append(buf, v)
		}
	}
	g.locks[i].Unlock()
	return buf
}

// item is a node and its distance to the query of a walk.
type item struct {
	d    float32
	node uint32
}

func less(a, b item) int {
	if a.d != b.d {
		if a.d < b.d {
			return -1
		}
		return 1
	}
	return int(int64(a.node) - int64(b.node))
}

// walk is one greedy search's scratch: the sorted candidate list, which
// of its entries are expanded, the nodes expanded (the build's pruning
// candidates) and the visited marks.
type walk struct {
	list     []item
	done     []bool
	expanded []item
	seen     visited
	nbrs     []uint32
	dists    []float32
	u32      []uint32 // the code kernel's output
	at       int      // where the last insertSorted put its item
	rows     []uint32 // prune's live candidates
	kept     []uint32 // a back edge's pruned list
}

// insertSorted puts it into the list of at most l items, keeping it
// sorted; it reports whether it entered.
func (w *walk) insertSorted(it item, l int) bool {
	if len(w.list) == l && (it.d > w.list[l-1].d || (it.d == w.list[l-1].d && it.node >= w.list[l-1].node)) {
		return false
	}
	i, hi := 0, len(w.list) // the first entry not before it (less, inlined: this is the walks' inner loop)
	for i < hi {
		m := int(uint(i+hi) >> 1)
		if e := w.list[m]; e.d < it.d || (e.d == it.d && e.node < it.node) {
			i = m + 1
		} else {
			hi = m
		}
	}
	if len(w.list) < l {
		w.list = append(w.list, item{})
		w.done = append(w.done, false)
	}
	copy(w.list[i+1:], w.list[i:len(w.list)-1])
	copy(w.done[i+1:], w.done[i:len(w.done)-1])
	w.list[i], w.done[i] = it, false
	w.at = i
	return true
}

// greedy walks from the medoid towards q with a list of l candidates
// (exact distances) until every candidate is expanded. w.list holds the l
// closest seen, w.expanded every node expanded.
func (g *graph) greedy(q probe, l int, w *walk, skip func(uint32) bool) {
	w.list, w.done, w.expanded = w.list[:0], w.done[:0], w.expanded[:0]
	w.seen.reset(g.n())
	if g.n() == 0 {
		return
	}
	w.seen.visit(g.medoid)
	w.insertSorted(item{g.pair(q, g.medoid), g.medoid}, l)
	from := 0 // no entry before it is unexpanded
	for {
		i := slices.Index(w.done[from:], false)
		if i < 0 {
			return
		}
		i += from
		w.done[i] = true
		p := w.list[i]
		w.expanded = append(w.expanded, p)
		fresh := g.unseen(p.node, w, w.nbrs[:0], skip)
		w.nbrs = fresh
		w.dists = g.distances(q, fresh, w.dists, &w.u32)
		from = i + 1
		for j, v := range fresh {
			if w.insertSorted(item{w.dists[j], v}, l) {
				from = min(from, w.at)
			}
		}
	}
}

// prune is RobustPrune: from candidates (distances to p), closest first,
// keep a node and drop every later one it covers (alpha * d(kept, c) <=
// d(p, c)), until r are kept. cand is reordered; the result is appended
// to out.
func (g *graph) prune(p uint32, cand []item, alpha float32, out []uint32, w *walk) []uint32 {
	slices.SortFunc(cand, less)
	cand = slices.CompactFunc(cand, func(a, b item) bool { return a.node == b.node })
	out = out[:0]
	// live holds the indexes of the candidates not yet kept or covered:
	// each kept node's distances to them come from one gather call
	live := w.nbrs[:0]
	for i, c := range cand {
		if c.node != p {
			live = append(live, uint32(i))
		}
	}
	w.nbrs = live[:0] // the buffer back, at its full capacity
	for len(live) > 0 && len(out) < g.r {
		c := cand[live[0]]
		out = append(out, c.node)
		live = live[1:]
		w.rows = w.rows[:0]
		for _, j := range live {
			w.rows = append(w.rows, cand[j].node)
		}
		w.dists = g.distances(g.probeOf(c.node), w.rows, w.dists, &w.u32)
		kept := live[:0]
		for t, j := range live {
			if alpha*w.dists[t] > cand[j].d { // not covered by c
				kept = append(kept, j)
			}
		}
		live = kept
	}
	return out
}

// slack is how long a list may grow by back edges before it is pruned
// back to r (DiskANN's slack factor, 1.3): pruning at every overflow was
// most of the build's time. build prunes what is over r at the end.
func (g *graph) slack() int { return g.r + (g.r*3+9)/10 }

// insert links node p: a walk with l_build, RobustPrune of what it
// expanded and p's current list, then back edges, each list pruned to r
// when it overflows its slack.
func (g *graph) insert(p uint32, l int, alpha float32, w *walk, cand []item, out []uint32) ([]item, []uint32) {
	q := g.probeOf(p)
	g.greedy(q, l, w, nil)
	cand = append(cand[:0], w.expanded...)
	w.rows = g.neighbours(p, w.rows)
	w.dists = g.distances(q, w.rows, w.dists, &w.u32)
	for j, v := range w.rows {
		cand = append(cand, item{w.dists[j], v})
	}
	out = g.prune(p, cand, alpha, out, w)
	g.locks[p].Lock()
	g.adj[p] = append(g.adj[p][:0], out...)
	g.locks[p].Unlock()
	for _, j := range out {
		g.locks[j].Lock()
		list := g.adj[j]
		if slices.Contains(list, p) {
			g.locks[j].Unlock()
			continue
		}
		if len(list) < g.slack() {
			g.adj[j] = append(list, p)
			g.locks[j].Unlock()
			continue
		}
		jq := g.probeOf(j)
		w.dists = g.distances(jq, list, w.dists, &w.u32)
		cand = cand[:0]
		for t, v := range list {
			cand = append(cand, item{w.dists[t], v})
		}
		cand = append(cand, item{g.pair(jq, p), p})
		w.kept = g.prune(j, cand, alpha, w.kept, w)
		g.adj[j] = append(list[:0], w.kept...)
		g.locks[j].Unlock()
	}
	return cand, out
}

// build runs Vamana over all nodes: a random initial graph, then two
// passes in a random order, the first with alpha 1 (a sparse graph of
// short edges), the second with alpha (long edges that make walks
// converge in few steps), each pass in parallel over the cores: nodes
// are inserted concurrently under per-node locks, as in DiskANN.
func (g *graph) build(ctx context.Context, l int, alpha float32, seed uint64) error {
	n := g.n()
	if n == 0 {
		return nil
	}
	g.medoid = medoid(g.vecs, g.dim, g.ks)
	c8, err := encode8(ctx, g.vecs, g.dim)
	if err != nil {
		return err
	}
	g.c8 = c8
	defer func() { g.c8 = nil }() // the lists are built; later inserts (the delta's) rank on vectors
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	deg := min(g.r, n-1)
	for i := range g.adj {
		g.adj[i] = make([]uint32, 0, g.r)
		for len(g.adj[i]) < deg {
			v := uint32(rng.IntN(n))
			if v != uint32(i) && !slices.Contains(g.adj[i], v) {
				g.adj[i] = append(g.adj[i], v)
			}
		}
	}
	order := rng.Perm(n)
	for _, a := range []float32{1, alpha} {
		err := parallel.For(ctx, n, 64, func(lo, hi int) error {
			var w walk
			var cand []item
			var out []uint32
			for _, p := range order[lo:hi] {
				cand, out = g.insert(uint32(p), l, a, &w, cand, out)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return parallel.For(ctx, n, 256, func(lo, hi int) error {
		var cand []item
		var w walk
		for p := lo; p < hi; p++ {
			if len(g.adj[p]) <= g.r {
				continue
			}
			w.dists = g.distances(g.probeOf(uint32(p)), g.adj[p], w.dists, &w.u32)
			cand = cand[:0]
			for t, v := range g.adj[p] {
				cand = append(cand, item{w.dists[t], v})
			}
			w.kept = g.prune(uint32(p), cand, alpha, w.kept, &w)
			g.adj[p] = append(g.adj[p][:0], w.kept...)
		}
		return nil
	})
}

// medoid is the row of x nearest to the mean of its rows: the entry of
// every walk.
func medoid(x []float32, dim int, ks *kernels.Set) uint32 {
	n := len(x) / dim
	mean := make([]float64, dim)
	for i := range n {
		for j, v := range x[i*dim : (i+1)*dim] {
			mean[j] += float64(v)
		}
	}
	c := make([]float32, dim)
	for j := range c {
		c[j] = float32(mean[j] / float64(max(n, 1)))
	}
	best, bd := uint32(0), float32(0)
	for i := range n {
		if d := ks.L2Sq(c, x[i*dim:(i+1)*dim]); i == 0 || d < bd {
			best, bd = uint32(i), d
		}
	}
	return best
}

// visited marks nodes seen by one walk with epochs, so a walk does not
// clear the array (as core/hnsw's).
type visited struct {
	marks []uint32
	epoch uint32
}

func (v *visited) reset(n int) {
	if len(v.marks) < n {
		v.marks = make([]uint32, n+n/4)
		v.epoch = 0
	}
	v.epoch++
	if v.epoch == 0 {
		clear(v.marks)
		v.epoch = 1
	}
}

func (v *visited) visit(i uint32) bool {
	if v.marks[i] == v.epoch {
		return false
	}
	v.marks[i] = v.epoch
	return true
}
