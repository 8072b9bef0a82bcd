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
}

func newGraph(dim, r int, vecs []float32) *graph {
	n := len(vecs) / dim
	return &graph{dim: dim, r: r, vecs: vecs, adj: make([][]uint32, n), locks: make([]sync.Mutex, n), ks: kernels.Current()}
}

func (g *graph) n() int { return len(g.adj) }

func (g *graph) vec(i uint32) []float32 { return g.vecs[int(i)*g.dim : int(i+1)*g.dim] }

func (g *graph) dist(q []float32, i uint32) float32 { return g.ks.L2Sq(q, g.vec(i)) }

// distances returns the distances from q to the rows named by rows (in
// buf): one gather kernel call where the rows allow it, which spares a
// call per neighbour in the build's walks.
func (g *graph) distances(q []float32, rows []uint32, buf []float32) []float32 {
	buf = append(buf[:0], make([]float32, len(rows))...)
	if g.dim%kernels.GatherAlign == 0 {
		g.ks.L2SqGather(q, g.vecs, g.dim, rows, buf)
		return buf
	}
	for j, v := range rows {
		buf[j] = g.dist(q, v)
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
}

// insertSorted puts it into the list of at most l items, keeping it
// sorted; it reports whether it entered.
func (w *walk) insertSorted(it item, l int) bool {
	if len(w.list) == l && less(it, w.list[l-1]) >= 0 {
		return false
	}
	i, _ := slices.BinarySearchFunc(w.list, it, less)
	if len(w.list) < l {
		w.list = append(w.list, item{})
		w.done = append(w.done, false)
	}
	copy(w.list[i+1:], w.list[i:len(w.list)-1])
	copy(w.done[i+1:], w.done[i:len(w.done)-1])
	w.list[i], w.done[i] = it, false
	return true
}

// greedy walks from the medoid towards q with a list of l candidates
// (exact distances) until every candidate is expanded. w.list holds the l
// closest seen, w.expanded every node expanded.
func (g *graph) greedy(q []float32, l int, w *walk, skip func(uint32) bool) {
	w.list, w.done, w.expanded = w.list[:0], w.done[:0], w.expanded[:0]
	w.seen.reset(g.n())
	if g.n() == 0 {
		return
	}
	w.seen.visit(g.medoid)
	w.insertSorted(item{g.dist(q, g.medoid), g.medoid}, l)
	for {
		i := slices.Index(w.done, false)
		if i < 0 {
			return
		}
		w.done[i] = true
		p := w.list[i]
		w.expanded = append(w.expanded, p)
		w.nbrs = g.neighbours(p.node, w.nbrs)
		fresh := w.nbrs[:0] // the unseen ones, in place
		for _, v := range w.nbrs {
			if w.seen.visit(v) && (skip == nil || !skip(v)) {
				fresh = append(fresh, v)
			}
		}
		w.dists = g.distances(q, fresh, w.dists)
		for j, v := range fresh {
			w.insertSorted(item{w.dists[j], v}, l)
		}
	}
}

// prune is RobustPrune: from candidates (distances to p), closest first,
// keep a node and drop every later one it covers (alpha * d(kept, c) <=
// d(p, c)), until r are kept. cand is reordered; the result is appended
// to out.
func (g *graph) prune(p uint32, cand []item, alpha float32, out []uint32) []uint32 {
	slices.SortFunc(cand, less)
	cand = slices.CompactFunc(cand, func(a, b item) bool { return a.node == b.node })
	out = out[:0]
	for i := 0; i < len(cand) && len(out) < g.r; i++ {
		c := cand[i]
		if c.node == p || c.d < 0 {
			continue
		}
		out = append(out, c.node)
		cv := g.vec(c.node)
		for j := i + 1; j < len(cand); j++ {
			if cand[j].d >= 0 && alpha*g.ks.L2Sq(cv, g.vec(cand[j].node)) <= cand[j].d {
				cand[j].d = -1 // covered
			}
		}
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
	q := g.vec(p)
	g.greedy(q, l, w, nil)
	cand = append(cand[:0], w.expanded...)
	for _, v := range g.neighbours(p, w.nbrs) {
		cand = append(cand, item{g.dist(q, v), v})
	}
	out = g.prune(p, cand, alpha, out)
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
		jv := g.vec(j)
		cand = cand[:0]
		for _, v := range list {
			cand = append(cand, item{g.ks.L2Sq(jv, g.vec(v)), v})
		}
		cand = append(cand, item{g.ks.L2Sq(jv, q), p})
		kept := g.prune(j, cand, alpha, nil)
		g.adj[j] = append(list[:0], kept...)
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
		for p := lo; p < hi; p++ {
			if len(g.adj[p]) <= g.r {
				continue
			}
			q := g.vec(uint32(p))
			cand = cand[:0]
			for _, v := range g.adj[p] {
				cand = append(cand, item{g.dist(q, v), v})
			}
			g.adj[p] = g.prune(uint32(p), cand, alpha, g.adj[p][:0])
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
