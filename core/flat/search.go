package flat

import (
	"context"
	"math"
	"math/bits"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

const (
	// queryBlock queries share one pass over the base, tile by tile; within
	// a tile they are taken 4 at a time by the kernels' 4x4 rank tile, so a
	// group of 4 stored rows is loaded once and stays in L1 while the
	// block's query groups use it, and a base larger than the caches is
	// streamed from memory once per 64 queries rather than once per 4.
	// That pays where the base is larger than the caches (measured on a
	// 100k x 384 set: 16 queries per pass ran at half of faiss's speed, 64
	// near parity); on a base that fits in cache, 32 queries per pass are
	// about 12% faster than 64 (bigann-10k). queryBlock is the larger,
	// blockFor picks per search.
	queryBlock = 64
	// maxBlock bounds both block sizes (the heaps of a block live on the
	// stack).
	maxBlock = 512
	// cachedBase: a base up to this size counts as cache-resident.
	cachedBase = 8 << 20
	// tileBytes sizes a tile of stored rows to sit in a 1-2 MiB L2 cache.
	tileBytes = 256 << 10
	// splitBaseRows: below this many rows a lone query is not worth
	// splitting across goroutines.
	splitBaseRows = 8192
	// serialWork: multiply-adds below which one block is searched on the
	// calling goroutine; starting workers would cost more than it saves.
	serialWork = 1 << 16
)

// Search implements index.Index.
//
// Metrics of ClassL2 and ClassDot rank with the dot product through the
// SIMD panel kernel (kernels.RankPanel, blocks of 16 or more queries, see
// panel.go) or the 4x4 rank tile: ClassL2 by |x|^2 - 2<q,x> of prepared vectors (the query's
// own norm does not change the order), ClassDot by 1 - <q,x>. The squared L2
// distances of the k results are then recomputed exactly, so a stored copy
// of the query reports 0, not the rounding noise of the expansion; both
// classes finally map to the metric's distance (FromL2, FromDot), which
// keeps the order. ClassGeneric metrics are computed pair by pair.
func (f *Flat) Search(ctx context.Context, queries []float32, k int, p *index.SearchParams, outIDs []int64, outDist []float32) error {
	// the filter becomes rows below (allowedRows), not a membership test
	d := f.Dim()
	nq, queries, _, err := index.CheckSearch(f.Bound(), queries, d, k, nil, outIDs, outDist)
	if err != nil {
		return err
	}

	if err := f.RLockOpen(); err != nil {
		return err
	}
	defer f.RUnlock()
	n := len(f.ids)
	// A heap never needs more room than there are vectors: k beyond n only
	// adds padding, which is written once here.
	kk := index.Results(k, n)
	index.PadRows(outIDs, outDist, nq, k, kk)
	if kk == 0 {
		return nil
	}
	if p != nil && p.Filter != nil {
		return f.searchAllowed(ctx, queries, k, f.allowedRows(p.Filter), outIDs, outDist)
	}
	s := scan{f: f, ks: kernels.Current(), queries: queries, k: kk, nq: nq}
	workers := parallel.Workers()
	var run error
	switch {
	case nq < workers && n >= splitBaseRows:
		run = s.splitBase(ctx, nq, k, outIDs, outDist)
	case nq <= s.blockFor(n, d) && (workers == 1 || nq*n*d < serialWork):
		run = s.block(ctx, 0, nq, k, outIDs, outDist)
	default:
		run = parallel.For(ctx, nq, s.blockFor(n, d), func(lo, hi int) error {
			return s.block(ctx, lo, hi, k, outIDs, outDist)
		})
	}
	if run != nil {
		return run
	}
	if f.Bound().Class() != metric.ClassGeneric {
		for q := 0; q < nq; q++ {
			s.exact(queries[q*d:(q+1)*d], outIDs[q*k:q*k+kk], outDist[q*k:q*k+kk])
		}
	}
	return nil
}

// scan is one search call's view of the index.
type scan struct {
	f       *Flat
	ks      *kernels.Set
	queries []float32
	k       int
	nq      int
}

// blockFor is the number of queries that share a pass over n rows of d
// values (see queryBlock).
func (s scan) blockFor(n, d int) int {
	if s.panel() {
		return panelBlockFor(s.nq)
	}
	if n*d*4 <= cachedBase {
		return queryBlock / 2
	}
	return queryBlock
}

// block searches queries [lo, hi), at most maxBlock of them, into their
// output rows (stride values apart).
func (s scan) block(ctx context.Context, lo, hi, stride int, outIDs []int64, outDist []float32) error {
	var heaps [maxBlock]index.TopK
	for q := lo; q < hi; q++ {
		heaps[q-lo].Reset(outDist[q*stride:q*stride+s.k], outIDs[q*stride:q*stride+s.k])
	}
	if err := s.rows(ctx, lo, hi, 0, len(s.f.ids), heaps[:hi-lo]); err != nil {
		return err
	}
	for i := range heaps[:hi-lo] {
		heaps[i].Finish()
	}
	return nil
}

// rows offers stored rows [r0, r1) to the heaps of queries [q0, q1), tile
// by tile, checking for cancellation between tiles.
//
// The value a result is ranked by is beta[j] + alpha*dot (see Search): for
// l2 beta is the row's |x|^2 and alpha -2, for ip and cosine beta is 1 and
// alpha -1, so the inner loop has no branch on the metric.
func (s scan) rows(ctx context.Context, q0, q1, r0, r1 int, heaps []index.TopK) error {
	if s.f.Bound().Class() == metric.ClassGeneric {
		return s.pairs(ctx, q0, q1, r0, r1, heaps)
	}
	d := s.f.Dim()
	vecs, ids, norms := s.f.vecs, s.f.ids, s.f.norms
	l2 := s.f.Bound().Class() == metric.ClassL2
	alpha := float32(-1)
	if l2 {
		alpha = -2
	}
	if s.panel() && q1-q0 >= minPanelQueries {
		return s.panels(ctx, q0, q1, r0, r1, heaps, alpha, l2)
	}
	beta := [4]float32{1, 1, 1, 1}

	// Queries go 4 at a time through the tile kernel; a last group of 2 or
	// 3 is padded with zero rows (cheaper than 2-3 single passes), a last
	// single query takes the one-row kernel.
	var groups [queryBlock / 4][]float32
	var live [queryBlock / 4]int
	ng, lone := 0, -1
	for q := q0; q < q1; q += 4 {
		switch c := min(4, q1-q); {
		case c == 4:
			groups[ng] = s.queries[q*d : (q+4)*d]
		case c == 1:
			lone = q
			continue
		default:
			pad := make([]float32, 4*d)
			copy(pad, s.queries[q*d:q1*d])
			groups[ng] = pad
		}
		live[ng] = min(4, q1-q)
		ng++
	}

	tile := max(4, tileBytes/(4*d)&^3)
	var out [16]float32
	var dots []float32 // DotRows results, allocated when first needed
	var bounds [queryBlock / 4][4]float32
	for t0 := r0; t0 < r1; t0 += tile {
		if err := parallel.Check(ctx); err != nil {
			return err
		}
		t1 := min(t0+tile, r1)
		// bounds only tighten while a tile is scanned, so the ones taken
		// here let the kernel drop most entries; survivors are checked
		// against the heap again on push
		for g := 0; g < ng; g++ {
			for i := 0; i < 4; i++ {
				bounds[g][i] = float32(math.Inf(-1))
				if i < live[g] {
					bounds[g][i] = heaps[4*g+i].Bound()
				}
			}
		}
		r := t0
		for ; ng > 0 && r+4 <= t1; r += 4 {
			xs := vecs[r*d : (r+4)*d]
			if l2 {
				copy(beta[:], norms[r:r+4])
			}
			for g := 0; g < ng; g++ {
				for m := s.ks.RankTile(groups[g], xs, d, alpha, &beta, &bounds[g], &out); m != 0; m &= m - 1 {
					e := bits.TrailingZeros32(m)
					h := &heaps[4*g+e/4]
					if v := out[e]; v <= h.Bound() {
						h.Push(v, ids[r+e%4])
						bounds[g][e/4] = h.Bound()
					}
				}
			}
		}
		// rows left over by the groups of 4, and the lone last query: one
		// kernel call per query and tile
		for q := q0; q < q1; q++ {
			start := r
			if q == lone {
				start = t0
			}
			if start >= t1 {
				continue
			}
			if dots == nil {
				dots = make([]float32, tile)
			}
			out := dots[:t1-start]
			s.ks.DotRows(s.queries[q*d:(q+1)*d], vecs[start*d:t1*d], d, out)
			h := &heaps[q-q0]
			b := h.Bound()
			for i, dot := range out {
				v := 1 - dot
				if l2 {
					v = norms[start+i] - 2*dot
				}
				if v <= b {
					h.Push(v, ids[start+i])
					b = h.Bound()
				}
			}
		}
	}
	return nil
}

// pairs is rows for metrics without a dot-product form: one exact distance
// per pair, tile by tile.
func (s scan) pairs(ctx context.Context, q0, q1, r0, r1 int, heaps []index.TopK) error {
	d := s.f.Dim()
	m, vecs, ids := s.f.Bound(), s.f.vecs, s.f.ids
	tile := max(1, tileBytes/(4*d))
	for t0 := r0; t0 < r1; t0 += tile {
		if err := parallel.Check(ctx); err != nil {
			return err
		}
		t1 := min(t0+tile, r1)
		for q := q0; q < q1; q++ {
			qv := s.queries[q*d : (q+1)*d]
			h := &heaps[q-q0]
			for row := t0; row < t1; row++ {
				if v := float32(m.Pair(qv, vecs[row*d:(row+1)*d])); v <= h.Bound() {
					h.Push(v, ids[row])
				}
			}
		}
	}
	return nil
}

// exact replaces the ranking values of one query's results by the
// metric's exact distances and restores the (distance, id) order.
func (s scan) exact(q []float32, ids []int64, dist []float32) {
	d := s.f.Dim()
	for i, id := range ids {
		if id < 0 {
			break
		}
		r := int(s.f.rows[id])
		dist[i] = float32(s.f.Bound().Pair(q, s.f.vecs[r*d:(r+1)*d]))
	}
	index.SortResults(dist, ids)
}

// splitBase serves a few queries over a large base: each goroutine scans a
// slice of the rows into private heaps, which are merged at the end.
func (s scan) splitBase(ctx context.Context, nq, stride int, outIDs []int64, outDist []float32) error {
	n, k := len(s.f.ids), s.k
	parts := min(4*parallel.Workers(), (n+splitBaseRows/2-1)/(splitBaseRows/2))
	per := ((n+parts-1)/parts + 3) &^ 3
	// a part's heap never holds more than the part's rows: with k near n
	// the private heaps together hold about nq*n results, not parts*nq*k
	pk := index.Results(k, per)
	if err := index.CheckMemory(int64(parts) * int64(nq) * int64(pk) * 12); err != nil {
		return err
	}
	pd := make([]float32, parts*nq*pk)
	pi := make([]int64, parts*nq*pk)
	heaps := make([]index.TopK, parts*nq)
	err := parallel.For(ctx, parts, 1, func(lo, hi int) error {
		for p := lo; p < hi; p++ {
			hs := heaps[p*nq : (p+1)*nq]
			for q := range hs {
				o := (p*nq + q) * pk
				hs[q].Reset(pd[o:o+pk], pi[o:o+pk])
			}
			if err := s.rows(ctx, 0, nq, min(p*per, n), min((p+1)*per, n), hs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for q := 0; q < nq; q++ {
		var h index.TopK
		h.Reset(outDist[q*stride:q*stride+k], outIDs[q*stride:q*stride+k])
		for p := 0; p < parts; p++ {
			h.Merge(&heaps[p*nq+q])
		}
		h.Finish()
	}
	return nil
}

// allowedRows lists the rows a filter admits; the caller holds mu.
func (f *Flat) allowedRows(filter *index.Filter) []int32 {
	var rows []int32
	if filter.Mask != nil {
		for r, id := range f.ids {
			if id < int64(len(filter.Mask)) && filter.Mask[id] {
				rows = append(rows, int32(r))
			}
		}
		return rows
	}
	seen := make(map[int32]bool, len(filter.IDs))
	for _, id := range filter.IDs {
		if r, ok := f.rows[id]; ok && !seen[r] {
			seen[r] = true
			rows = append(rows, r)
		}
	}
	return rows
}

// searchAllowed is exact search restricted to the given rows, pair by pair
// with the metric's exact distance.
func (f *Flat) searchAllowed(ctx context.Context, queries []float32, k int, rows []int32, outIDs []int64, outDist []float32) error {
	d := f.Dim()
	nq := len(queries) / d
	kk := index.Results(k, len(rows))
	index.PadRows(outIDs, outDist, nq, k, kk)
	return parallel.For(ctx, nq, 4, func(lo, hi int) error {
		for q := lo; q < hi; q++ {
			qv := queries[q*d : (q+1)*d]
			var h index.TopK
			h.Reset(outDist[q*k:q*k+kk], outIDs[q*k:q*k+kk])
			for i, r := range rows {
				if i%4096 == 0 {
					if err := parallel.Check(ctx); err != nil {
						return err
					}
				}
				if v := float32(f.Bound().Pair(qv, f.vecs[int(r)*d:int(r+1)*d])); v <= h.Bound() {
					h.Push(v, f.ids[r])
				}
			}
			h.Finish()
		}
		return nil
	})
}
