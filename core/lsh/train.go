package lsh

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/kernels"
)

// widthFactor is w in units of the sample's median nearest-neighbour
// distance. Wider cells put a neighbour in the query's cell more often
// and fill buckets with more strangers; with 8 projections per key and
// multi-probe, 4 balanced the two on SIFT (benchmarks/bench_lsh.py).
const widthFactor = 4

// trainSample and trainProbes bound Train's cost: the nearest neighbour of
// trainProbes rows among trainSample rows of the sample.
const (
	trainSample = 4000
	trainProbes = 256
)

// Trained implements index.Trainer: p-stable hashing needs its bucket
// width; the other families learn nothing.
func (x *LSH) Trained() bool {
	x.RLock()
	defer x.RUnlock()
	return x.fam != pStable || x.w > 0
}

// MinTrain implements index.Trainer: a nearest-neighbour distance needs
// two vectors.
func (x *LSH) MinTrain() int {
	if x.fam == pStable {
		return 2
	}
	return 1
}

// Train implements index.Trainer. For p-stable hashing without a w it
// sets w to widthFactor times the median distance from a row of the
// sample to its nearest other row (rows at distance 0 do not count); with
// a w already set, and for SimHash and MinHash, there is nothing to learn
// and the vectors are only checked.
func (x *LSH) Train(ctx context.Context, vectors []float32) error {
	d := x.Dim()
	enough := func(n int) error {
		if n < x.MinTrain() {
			return fmt.Errorf("%w: training needs at least %d vectors, got %d", errs.InvalidArgument, x.MinTrain(), n)
		}
		return nil
	}
	n, p, err := index.CheckTrain(x.Bound(), vectors, d, enough)
	if err != nil {
		return err
	}
	if x.fam != pStable || !x.needsWidth() {
		return nil
	}
	w := estimateWidth(p, n, d)
	if err := x.LockOpen(); err != nil {
		return err
	}
	defer x.Unlock()
	if x.ids.Len() > 0 {
		return fmt.Errorf("%w: the index holds vectors; train a new index instead", errs.State)
	}
	if x.w == 0 {
		x.w = w
	}
	return nil
}

func (x *LSH) needsWidth() bool {
	x.RLock()
	defer x.RUnlock()
	return x.w == 0
}

// estimateWidth returns widthFactor times the median nearest-neighbour
// distance among (a sample of) the n prepared rows p; 1 when all rows are
// equal.
func estimateWidth(p []float32, n, d int) float32 {
	ks := kernels.Current()
	step := max(1, n/trainSample)
	var rows [][]float32
	for r := 0; r < n; r += step {
		rows = append(rows, p[r*d:(r+1)*d])
	}
	var nn []float64
	for i := 0; i < len(rows); i += max(1, len(rows)/trainProbes) {
		best := math.Inf(1)
		for j, o := range rows {
			if s := float64(ks.L2Sq(rows[i], o)); j != i && s > 0 && s < best {
				best = s
			}
		}
		if !math.IsInf(best, 1) {
			nn = append(nn, math.Sqrt(best))
		}
	}
	if len(nn) == 0 {
		return 1
	}
	slices.Sort(nn)
	w := float32(widthFactor * nn[len(nn)/2])
	if w <= 0 || math.IsInf(float64(w), 0) {
		return 1
	}
	return w
}
