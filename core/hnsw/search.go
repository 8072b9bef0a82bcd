package hnsw

import (
	"context"
	"sync/atomic"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// greedy moves from cur to ever closer neighbours at level l until none is
// closer (the descent through the upper levels, ef = 1).
// A list's distances come from one gather call (prefetched, one call per
// list rather than per neighbour).
func (h *HNSW) greedy(s *scratch, r ranker, q []float32, cur item, l int) item {
	for changed := true; changed; {
		changed = false
		s.ids = h.neighbours(cur.id, l, s.ids[:0])
		dists := s.distances(len(s.ids))
		r.gather(h, s, q, s.ids, dists)
		countDistances(&countWalk, len(s.ids))
		for i, nb := range s.ids {
			if d := dists[i]; d < cur.d {
				cur, changed = item{d, nb}, true
			}
		}
	}
	return cur
}

// searchLayer is the beam search of Malkov and Yashunin (algorithm 2) at
// level l from ep, keeping the ef closest nodes. allow, when not nil,
// admits nodes to the results (all nodes are walked through); skip is a
// node never to report (the one being inserted). The result is sorted
// ascending and aliases scratch memory.
func (h *HNSW) searchLayer(s *scratch, r ranker, q []float32, ep item, ef, l int, allow *allowSet, skip uint32) []item {
	s.seen.reset(h.used)
	s.candidates = s.candidates[:0]
	s.results = s.results[:0]
	s.seen.visit(ep.id)
	s.candidates.push(ep)
	if ep.id != skip && allow.admits(ep.id) {
		s.results.push(ep)
	}
	for len(s.candidates) > 0 {
		c := s.candidates.pop()
		if len(s.results) >= ef && c.d > s.results.top().d {
			break
		}
		if len(s.candidates) > 0 { // the list expanded next: fetch it now
			next, _ := h.list(s.candidates[0].id, l)
			kernels.Prefetch(next)
		}
		// the unvisited neighbours first, then their distances in one call
		count, cells := h.list(c.id, l)
		n := min(int(atomic.LoadUint32(count)), len(cells))
		fresh := s.ids[:0]
		for j := 0; j < n; j++ {
			if nb := atomic.LoadUint32(&cells[j]); s.seen.visit(nb) {
				fresh = append(fresh, nb)
			}
		}
		s.ids = fresh
		dists := s.distances(len(fresh))
		r.gather(h, s, q, fresh, dists)
		countDistances(&countWalk, len(fresh))
		for i, nb := range fresh {
			d := dists[i]
			if len(s.results) < ef || d < s.results.top().d {
				s.candidates.push(item{d, nb})
				if nb != skip && allow.admits(nb) {
					if len(s.results) < ef {
						s.results.push(item{d, nb})
					} else {
						s.results.replaceTop(item{d, nb})
					}
				}
			}
		}
	}
	// pop gives farthest first: fill from the back for ascending order
	out := s.out[:0]
	for range s.results {
		out = append(out, item{})
	}
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = s.results.pop()
	}
	s.out = out
	return out
}

// Search implements index.Index. p.Ef overrides the index's ef_search;
// p.Filter restricts results to an allow-list.
func (h *HNSW) Search(ctx context.Context, queries []float32, k int, p *index.SearchParams, outIDs []int64, outDist []float32) error {
	// the filter becomes a bitset below (allowSet), not a membership test
	d := h.Dim()
	nq, queries, _, err := index.CheckSearch(h.Bound(), queries, d, k, nil, outIDs, outDist)
	if err != nil {
		return err
	}
	ef := int(h.efSearch.Load())
	var filter *index.Filter
	if p != nil {
		if p.Ef > 0 {
			ef = p.Ef
		}
		filter = p.Filter
	}

	if err := h.RLockOpen(); err != nil {
		return err
	}
	defer h.RUnlock()
	// no walk holds more than the graph's nodes: k and ef beyond them only
	// add padding (ef is raised to the results, then capped by the nodes)
	kk := index.Results(k, h.live)
	index.PadRows(outIDs, outDist, nq, k, kk)
	if kk == 0 {
		return nil
	}
	ef = min(max(ef, kk), h.used)
	allow, err := h.allowSet(filter)
	if err != nil {
		return err
	}
	return parallel.For(ctx, nq, 1, func(lo, hi int) error {
		s := h.pool.get()
		defer h.pool.put(s)
		r := h.ranker()
		if len(s.query) != h.stride {
			s.query = make([]float32, h.stride) // padding stays zero
		}
		for qi := lo; qi < hi; qi++ {
			q := s.query
			copy(q, queries[qi*d:(qi+1)*d])
			ids, dist := outIDs[qi*k:qi*k+kk], outDist[qi*k:qi*k+kk]
			var found []item
			switch {
			case allow.exact():
				found = h.scan(r, q, kk, allow)
			case h.quant != nil:
				found = h.walkCodes(s, r, q, ef, kk, allow)
			default:
				found = h.walk(s, r, q, ef, allow)
			}
			h.emit(r, q, found, ids, dist)
		}
		return nil
	})
}

// walk is one query's search: the greedy descent, then the beam search at
// level 0.
func (h *HNSW) walk(s *scratch, r ranker, q []float32, ef int, allow *allowSet) []item {
	ep, top, ok := h.entryPoint()
	if !ok {
		return nil
	}
	cur := item{r.toNode(h, q, ep), ep}
	for l := top; l > 0; l-- {
		cur = h.greedy(s, r, q, cur, l)
	}
	if allow == nil {
		return h.searchPool(s, r, q, cur, ef)
	}
	return h.searchLayer(s, r, q, cur, ef, 0, allow, noNode)
}

// walkCodes walks on one-byte codes, then ranks the ef candidates again on
// the float32 rows.
func (h *HNSW) walkCodes(s *scratch, r ranker, q []float32, ef, kk int, allow *allowSet) []item {
	if len(s.qcode) != h.quant.stride {
		s.qcode = make([]uint8, h.quant.stride)
	}
	h.quant.encode(s.qcode, q[:h.Dim()])
	rc := r
	rc.q8, rc.qcode = h.quant, s.qcode
	// The nodes a walk ends with were all expanded on its way: fetching
	// each expanded node's float32 row then overlaps the re-rank's misses
	// with the walk. It paid where the re-rank takes all ef candidates and
	// rows are at most 8 lines (bigann-10k, ef 20: re-rank gather 9% -> 2.5%
	// of the search, prefetch 4%); at ef 48-96 it cost what it saved.
	rc.rowAhead = ef <= rerankDepth(kk) && h.stride*4 <= 512
	found := h.walk(s, rc, q, ef, allow)
	// Codes reorder near ties only: the best 2k+10 by code distance hold
	// the true top k (recall measured equal to re-ranking all ef on
	// wordnet-minilm and bigann-10k), at a fraction of the float32 reads.
	found = found[:min(len(found), rerankDepth(kk))]
	countDistances(&countFloat, len(found))
	rows := s.ids[:0]
	for _, it := range found {
		rows = append(rows, it.id)
	}
	s.ids = rows
	dists := s.distances(len(rows))
	r.gather(h, s, q, rows, dists) // one prefetched call, not one per row
	for i := range found {
		found[i].d = dists[i]
	}
	sortItems(found)
	return found
}

// noNode is never an internal id (ids stay below 2^31).
const noNode = ^uint32(0)

// emit writes the best k of found (sorted ascending by ranking value) as
// exact distances and external ids, sorted, padded.
func (h *HNSW) emit(r ranker, q []float32, found []item, ids []int64, dist []float32) {
	n := min(len(found), len(ids))
	for i := 0; i < n; i++ {
		ids[i] = h.ids[found[i].id]
		dist[i] = r.exact(q, h.vec(found[i].id))
	}
	index.Pad(dist[n:], ids[n:])
	index.SortResults(dist[:n], ids[:n])
}

// rerankDepth is how many of a code walk's candidates are ranked again on
// float32 for k results.
func rerankDepth(k int) int { return 2*k + 10 }
