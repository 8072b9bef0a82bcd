package hnsw

import (
	"sync/atomic"

	"github.com/oxvec/oxvec/kernels"
)

// expanded marks a pool item whose list was walked (ids stay below 2^31).
const expanded = 1 << 31

// searchPool is searchLayer for a search without filter at level 0, on one
// sorted array instead of two heaps (the candidate pool of NSG and
// DiskANN): the ef best nodes found so far, ascending, each marked once
// expanded; the walk expands the nearest unexpanded one until none is
// left. It visits and returns what searchLayer does - a candidate beyond
// the ef best is never expanded there either - with one binary search and
// a short move per accepted neighbour in place of a push on each heap, and
// no final drain of the results heap. The result aliases scratch memory.
func (h *HNSW) searchPool(s *scratch, r ranker, q []float32, ep item, ef int) []item {
	s.seen.reset(h.used)
	s.seen.visit(ep.id)
	pool := append(s.out[:0], ep)
	for cur := 0; cur < len(pool); {
		c := pool[cur].id
		pool[cur].id |= expanded
		if r.rowAhead {
			kernels.PrefetchRow(h.vec(c))
		}
		for nx := cur + 1; nx < len(pool); nx++ { // the list expanded next, most likely: fetch it now
			if pool[nx].id&expanded == 0 {
				next, _ := h.list(pool[nx].id, 0)
				kernels.Prefetch(next)
				break
			}
		}
		count, cells := h.list(c, 0)
		fresh := s.seen.fresh(cells[:min(int(atomic.LoadUint32(count)), len(cells))], s.room(len(cells)))
		dists := s.distances(len(fresh))
		r.gather(h, s, q, fresh, dists)
		countDistances(&countWalk, len(fresh))
		first := len(pool) // the nearest position an insertion took
		for i, nb := range fresh {
			d := dists[i]
			full := len(pool) == ef
			if full && d >= pool[ef-1].d {
				continue
			}
			lo := farther(pool, d)
			if !full {
				pool = append(pool, item{})
			}
			copy(pool[lo+1:], pool[lo:len(pool)-1])
			pool[lo] = item{d, nb}
			first = min(first, lo)
		}
		cur = min(cur+1, first)
		for cur < len(pool) && pool[cur].id&expanded != 0 {
			cur++
		}
	}
	for i := range pool {
		pool[i].id &^= expanded
	}
	s.out = pool
	return pool
}

// farther returns the position of the first item of pool (sorted, not
// empty) farther than d: a binary search whose steps are conditional moves,
// not branches - which way a step goes is a coin toss the branch predictor
// loses half the time.
func farther(pool []item, d float32) int {
	if len(pool) <= 32 {
		// a short pool is counted instead: its compares do not wait on
		// one another as a binary search's loads do
		n := 0
		for _, it := range pool {
			le := 0
			if it.d <= d {
				le = 1
			}
			n += le
		}
		return n
	}
	base, n := 0, len(pool)
	for n > 1 {
		half := n >> 1
		right := 0
		if pool[base+half].d <= d {
			right = 1
		}
		base += half & -right
		n -= half
	}
	if pool[base].d <= d {
		base++
	}
	return base
}
