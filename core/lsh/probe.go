package lsh

import (
	"cmp"
	"math/bits"
	"slices"
)

// Multi-probe LSH (Lv, Josephson, Wang, Charikar, Li, VLDB 2007): the
// buckets next to the query's own, in the order of how likely they are to
// hold its neighbours. A perturbation moves some of the query's hash
// values across their nearest boundary; its score is the sum of the
// squared distances to the boundaries it crosses (in units of w for
// p-stable hashes, of the projection for SimHash, whose boundary is 0).
// The perturbations are generated in increasing score from the sorted
// single moves with the paper's shift/expand heap, so probing T buckets
// costs O(T log T), not a sort of all 3^bits neighbours.

// move is one hash value's step across a boundary.
type move struct {
	cost  float32 // squared distance to the boundary
	coord int32   // the hash value moved
	delta int32   // +1 or -1 (p-stable); SimHash flips the bit
}

// perturbation is a set of moves, as a bit mask over the sorted moves.
type perturbation struct {
	score float32
	set   uint64
}

// prober generates one table's perturbations for one query; its buffers
// are reused across tables and queries.
type prober struct {
	moves []move
	heap  []perturbation
}

// start prepares the moves of one table: vals are the query's bits values
// of the table (projections, or <a,q>/w + u).
func (p *prober) start(fam family, vals []float32) {
	p.moves = p.moves[:0]
	for j, v := range vals {
		if fam == simHash {
			p.moves = append(p.moves, move{cost: v * v, coord: int32(j)})
			continue
		}
		f := v - float32(cell(v)) // position inside the cell, [0, 1)
		p.moves = append(p.moves, move{cost: f * f, coord: int32(j), delta: -1}, move{cost: (1 - f) * (1 - f), coord: int32(j), delta: 1})
	}
	slices.SortFunc(p.moves, func(a, b move) int { return cmp.Compare(a.cost, b.cost) })
	p.heap = append(p.heap[:0], perturbation{score: p.moves[0].cost, set: 1})
}

// next returns the next valid perturbation in increasing score, or false
// when there is none. A set that moves one p-stable coordinate both ways
// is invalid: it is skipped, but its shift and expand are still generated
// (their valid descendants come after it).
func (p *prober) next() (uint64, bool) {
	for len(p.heap) > 0 {
		top := p.pop()
		m := 63 - bits.LeadingZeros64(top.set) // the largest move in the set
		if m+1 < len(p.moves) {
			c := p.moves[m+1].cost
			p.push(perturbation{score: top.score - p.moves[m].cost + c, set: top.set&^(1<<m) | 1<<(m+1)}) // shift
			p.push(perturbation{score: top.score + c, set: top.set | 1<<(m+1)})                           // expand
		}
		if p.valid(top.set) {
			return top.set, true
		}
	}
	return 0, false
}

func (p *prober) valid(set uint64) bool {
	var seen uint64
	for s := set; s != 0; s &= s - 1 {
		c := uint64(1) << p.moves[bits.TrailingZeros64(s)].coord
		if seen&c != 0 {
			return false
		}
		seen |= c
	}
	return true
}

// key applies perturbation set to home, the table's key, whose per-bit
// values are vals.
func (p *prober) key(fam family, home uint64, vals []float32, set uint64) uint64 {
	for s := set; s != 0; s &= s - 1 {
		mv := p.moves[bits.TrailingZeros64(s)]
		if fam == simHash {
			home ^= 1 << mv.coord
			continue
		}
		h := cell(vals[mv.coord])
		home ^= cellKey(int(mv.coord), h) ^ cellKey(int(mv.coord), h+int64(mv.delta))
	}
	return home
}

// push and pop keep p.heap a binary min-heap by score.
func (p *prober) push(e perturbation) {
	p.heap = append(p.heap, e)
	for i := len(p.heap) - 1; i > 0; {
		par := (i - 1) / 2
		if p.heap[par].score <= p.heap[i].score {
			break
		}
		p.heap[par], p.heap[i] = p.heap[i], p.heap[par]
		i = par
	}
}

func (p *prober) pop() perturbation {
	h := p.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < len(h) && h[l].score < h[small].score {
			small = l
		}
		if r := l + 1; r < len(h) && h[r].score < h[small].score {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	p.heap = h
	return top
}
