package lsh

import (
	"context"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// Search implements index.Index: per table the query's bucket and the
// nprobe-1 most promising perturbed ones (MinHash: its band buckets), each
// vector found ranked once, exactly; rows with fewer candidates than k are
// padded.
func (x *LSH) Search(ctx context.Context, queries []float32, k int, p *index.SearchParams, outIDs []int64, outDist []float32) error {
	nq, pq, allow, err := index.CheckSearch(x.Bound(), queries, x.Dim(), k, p, outIDs, outDist)
	if err != nil {
		return err
	}
	if err := x.RLockOpen(); err != nil {
		return err
	}
	defer x.RUnlock()
	if x.fam == pStable && x.w == 0 {
		return x.notTrained("searching")
	}
	d, n := x.Dim(), x.ids.Len()
	kk := index.Results(k, n)
	index.PadRows(outIDs, outDist, nq, k, kk)
	if kk == 0 {
		return nil
	}
	probes := x.probesOf(p)
	if p != nil && p.Filter != nil && p.Filter.IDs != nil && len(p.Filter.IDs) <= exactFilter {
		return x.searchListed(ctx, pq, nq, k, kk, p.Filter.IDs, outIDs, outDist)
	}
	// per task: a visit stamp per row
	if err := index.CheckMemory(int64(min(parallel.Workers(), nq)) * int64(n) * 4); err != nil {
		return err
	}
	ks := kernels.Current()
	return parallel.For(ctx, nq, 4, func(lo, hi int) error {
		sc := x.scratch.Get()
		defer x.scratch.Put(sc)
		sc.fit(x, n)
		for q := lo; q < hi; q++ {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			var top index.TopK
			top.Reset(outDist[q*k:q*k+kk], outIDs[q*k:q*k+kk])
			x.searchOne(ks, sc, pq[q*d:(q+1)*d], probes, allow, &top)
			top.Finish()
		}
		return nil
	})
}

// exactFilter is the longest id-list filter ranked exactly: its vectors
// cost fewer distances than a search's candidates typically do, and the
// buckets would miss the allowed vectors that do not share one with the
// query (HNSW scans a small allowed set exactly too).
const exactFilter = 256

// searchListed ranks the listed ids present exactly, for each query.
func (x *LSH) searchListed(ctx context.Context, pq []float32, nq, k, kk int, listed []int64, outIDs []int64, outDist []float32) error {
	var rows []int32
	seen := make(map[int64]bool, len(listed))
	for _, id := range listed {
		if r, ok := x.ids.Row(id); ok && !seen[id] {
			seen[id] = true
			rows = append(rows, int32(r))
		}
	}
	d, ks := x.Dim(), kernels.Current()
	return parallel.For(ctx, nq, 16, func(lo, hi int) error {
		sc := x.scratch.Get()
		defer x.scratch.Put(sc)
		sc.fit(x, x.ids.Len())
		for q := lo; q < hi; q++ {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			var top index.TopK
			top.Reset(outDist[q*k:q*k+kk], outIDs[q*k:q*k+kk])
			sc.next()
			x.visit(ks, sc, pq[q*d:(q+1)*d], rows, nil, &top)
			x.rank(ks, sc, pq[q*d:(q+1)*d], &top)
			top.Finish()
		}
		return nil
	})
}

// probesOf is the buckets per table of a search: the call's nprobe or the
// default, at most maxProbes; 1 for MinHash.
func (x *LSH) probesOf(p *index.SearchParams) int {
	if x.fam == minHash {
		return 1
	}
	probes := int(x.probes.Load())
	if p != nil && p.NProbe > 0 {
		probes = p.NProbe
	}
	return min(probes, maxProbes)
}

// searchOne pushes every vector in the query's probed buckets into top.
func (x *LSH) searchOne(ks *kernels.Set, sc *scratch, q []float32, probes int, allow func(int64) bool, top *index.TopK) {
	x.project(ks, q, sc.val, sc.mins)
	x.homeKeys(sc.val, sc.mins, sc.home)
	sc.next()
	b := x.bits
	for t, home := range sc.home {
		x.visit(ks, sc, q, x.buckets[t][home], allow, top)
		if probes == 1 {
			continue
		}
		vals := sc.val[t*b : (t+1)*b]
		sc.probe.start(x.fam, vals)
		for range probes - 1 {
			set, ok := sc.probe.next()
			if !ok {
				break
			}
			x.visit(ks, sc, q, x.buckets[t][sc.probe.key(x.fam, home, vals, set)], allow, top)
		}
	}
	x.rank(ks, sc, q, top)
}

// visit collects the rows of one bucket not seen before for this query
// (and allowed) as candidates, ranking them once a chunk is full.
func (x *LSH) visit(ks *kernels.Set, sc *scratch, q []float32, rows []int32, allow func(int64) bool, top *index.TopK) {
	for _, r := range rows {
		if sc.stamp[r] == sc.gen {
			continue
		}
		sc.stamp[r] = sc.gen
		if allow != nil && !allow(x.ids.ID(int(r))) {
			continue
		}
		sc.cand = append(sc.cand, uint32(r))
		if len(sc.cand) == rankChunk {
			x.rank(ks, sc, q, top)
		}
	}
}

// rankChunk is how many candidates are ranked per kernel call.
const rankChunk = 256

// rank computes the exact distances of the collected candidates, pushes
// them into top and empties the list. Dimensions that are a multiple of
// kernels.GatherAlign go through the gather kernels (one call, rows
// prefetched: the candidates lie all over the vectors), others pair by pair.
func (x *LSH) rank(ks *kernels.Set, sc *scratch, q []float32, top *index.TopK) {
	d, m := x.Dim(), x.Bound()
	cand := sc.cand
	dist := index.Grow(sc.dist, len(cand))
	sc.dist = dist
	gather := d%kernels.GatherAlign == 0
	switch {
	case m.Class() == metric.ClassL2 && gather:
		ks.L2SqGather(q, x.vecs, d, cand, dist)
	case m.Class() == metric.ClassDot && gather:
		ks.DotGather(q, x.vecs, d, cand, dist)
	default:
		for i, r := range cand {
			v := x.vecs[int(r)*d : (int(r)+1)*d]
			switch m.Class() {
			case metric.ClassL2:
				dist[i] = ks.L2Sq(q, v)
			case metric.ClassDot:
				dist[i] = ks.Dot(q, v)
			default:
				dist[i] = float32(m.Pair(q, v))
			}
		}
	}
	for i, r := range cand {
		var dd float64
		switch m.Class() {
		case metric.ClassL2:
			dd = m.FromL2(float64(dist[i]))
		case metric.ClassDot:
			dd = m.FromDot(float64(dist[i]))
		default:
			dd = float64(dist[i])
		}
		top.Push(float32(dd), x.ids.ID(int(r)))
	}
	sc.cand = cand[:0]
}

// scratch is one search task's buffers.
type scratch struct {
	val   []float32 // the query's per-bit values
	mins  []uint64  // its MinHash minima
	home  []uint64  // its key per table
	stamp []uint32  // per row: the query (gen) that last ranked it
	cand  []uint32  // rows collected, not ranked yet
	dist  []float32 // their kernel values
	gen   uint32
	probe prober
}

// next starts a query: rows stamped before look unvisited.
func (sc *scratch) next() {
	sc.gen++
	if sc.gen == 0 { // the stamps wrapped: every row looks unvisited again
		clear(sc.stamp)
		sc.gen = 1
	}
}

// fit sizes the buffers for x holding n rows; the stamps restart when n
// changed.
func (sc *scratch) fit(x *LSH, n int) {
	m := x.tables * x.bits
	sc.val, sc.mins, sc.home = index.Grow(sc.val, m), index.Grow(sc.mins, m), index.Grow(sc.home, x.tables)
	sc.cand = sc.cand[:0]
	if len(sc.stamp) != n {
		sc.stamp, sc.gen = make([]uint32, n), 0
	}
}
