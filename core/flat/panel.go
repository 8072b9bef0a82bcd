package flat

import (
	"context"
	"math"
	"math/bits"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// minPanelQueries: a block of fewer queries takes the 4x4 rank tile. The
// panel kernel computes 32 queries per call whatever the block holds, and
// below half a panel most of that work would be padding (a choice, not a
// measured crossover).
const minPanelQueries = 16

// ones is beta for the dot-product metrics (1 - <q,x>).
var ones [kernels.PanelRows]float32

func init() {
	for i := range ones {
		ones[i] = 1
	}
}

// panels is rows through the register-blocked panel kernel: the queries
// [q0, q1) are packed 32 to a panel once, and each group of 12 stored rows
// is ranked against every panel while it sits in L1. Rows are offered to
// each query's heap in ascending order, as rows does, so ties resolve the
// same way.
func (s scan) panels(ctx context.Context, q0, q1, r0, r1 int, heaps []index.TopK, alpha float32, l2 bool) error {
	const pq, pr = kernels.PanelQueries, kernels.PanelRows
	d := s.f.Dim()
	vecs, ids, norms := s.f.vecs, s.f.ids, s.f.norms
	np := (q1 - q0 + pq - 1) / pq
	qt := make([]float32, np*pq*d)
	bounds := make([][pq]float32, np)
	for p := 0; p < np; p++ {
		lo, hi := q0+p*pq, min(q0+(p+1)*pq, q1)
		kernels.PackPanel(s.queries[lo*d:hi*d], d, qt[p*pq*d:(p+1)*pq*d])
		for i := range bounds[p] {
			bounds[p][i] = float32(math.Inf(-1)) // padding never passes
			if lo+i < hi {
				bounds[p][i] = heaps[lo+i-q0].Bound()
			}
		}
	}

	var out [pq * pr]float32
	var masks [pr]uint32
	// offer ranks rows [r, r+live) held in xs (beta their betas) against
	// every panel and pushes what passes.
	offer := func(r, live int, xs, beta []float32) {
		for p := 0; p < np; p++ {
			if s.ks.RankPanel(qt[p*pq*d:(p+1)*pq*d], xs, d, alpha, beta, &bounds[p], &out, &masks) == 0 {
				continue
			}
			for j := 0; j < live; j++ {
				for m := masks[j]; m != 0; m &= m - 1 {
					i := bits.TrailingZeros32(m)
					h := &heaps[p*pq+i]
					if v := out[pq*j+i]; v <= h.Bound() {
						h.Push(v, ids[r+j])
						bounds[p][i] = h.Bound()
					}
				}
			}
		}
	}

	tile := max(pr, tileBytes/(4*d)/pr*pr)
	for t0 := r0; t0 < r1; t0 += tile {
		if err := parallel.Check(ctx); err != nil {
			return err
		}
		t1 := min(t0+tile, r1)
		r := t0
		for ; r+pr <= t1; r += pr {
			beta := ones[:]
			if l2 {
				beta = norms[r : r+pr]
			}
			offer(r, pr, vecs[r*d:(r+pr)*d], beta)
		}
		if r < t1 {
			// the last rows, fewer than 12: zero rows pad the group and
			// their entries are never looked at
			xs := make([]float32, pr*d)
			copy(xs, vecs[r*d:t1*d])
			beta := ones
			if l2 {
				copy(beta[:], norms[r:t1])
			}
			offer(r, t1-r, xs, beta[:])
		}
	}
	return nil
}

// panelBlock is the most queries per pass over the base on the panel path
// (see queryBlock): the rows of a base larger than the caches come from
// memory once per block, and a panel call is fast enough that 64 queries
// per pass would make that traffic the bound. 256 queries packed take
// 1 KiB per dimension (768 KiB at d = 768), which leaves most of a 2 MiB L2
// to the rows.
const panelBlock = 256

// noPanel turns the panel path off (benchmarks compare it with the tile).
var noPanel bool

// panel reports whether this search ranks through RankPanel.
func (s scan) panel() bool { return s.ks.RankPanel != nil && !noPanel }

// panelBlockFor is the block of a batch of nq queries: panelBlock, or
// less so that every worker gets a block, in whole panels and at least 64.
func panelBlockFor(nq int) int {
	per := (nq + parallel.Workers() - 1) / parallel.Workers()
	per = (per + kernels.PanelQueries - 1) / kernels.PanelQueries * kernels.PanelQueries
	return min(panelBlock, max(queryBlock, per))
}
