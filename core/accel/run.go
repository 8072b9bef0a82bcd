package accel

import (
	"context"
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/kmeans"
	"github.com/oxvec/oxvec/core/metric"
)

// Pairwise is m.Pairwise on the chosen device: out (nx x ny) gets the
// distance of every row of x to every row of y. Inputs must be finite.
func Pairwise(ctx context.Context, c Choice, m *metric.Metric, x, y, out []float32) error {
	on, err := c.runs(m.Kind, 0)
	if err != nil || !on {
		if err != nil {
			return err
		}
		return m.Pairwise(ctx, x, y, out)
	}
	px, err := m.PrepareCopy(x, "x")
	if err != nil {
		return err
	}
	py, err := m.PrepareCopy(y, "y")
	if err != nil {
		return err
	}
	nx, ny := len(x)/m.Dim, len(y)/m.Dim
	if err := c.Dev.Pairwise(ctx, uint32(m.Kind), float32(m.P), px, py, m.Dim, out[:nx*ny]); err != nil {
		return err
	}
	return checkRange(m, out[:nx*ny])
}

// KNN is flat.KNN on the chosen device: the k nearest rows of base for
// each query, as row numbers, sorted, padded with -1 and +Inf.
func KNN(ctx context.Context, c Choice, m *metric.Metric, base, queries []float32, k int, outIDs []int64, outDist []float32) error {
	on, err := c.runs(m.Kind, k)
	if err != nil || !on {
		if err != nil {
			return err
		}
		return flat.KNN(ctx, m, base, queries, k, outIDs, outDist)
	}
	if err := index.CheckK(k); err != nil {
		return err
	}
	pb, err := m.PrepareCopy(base, "base")
	if err != nil {
		return err
	}
	pq, err := m.PrepareCopy(queries, "queries")
	if err != nil {
		return err
	}
	return c.Dev.KNN(ctx, uint32(m.Kind), float32(m.P), pb, pq, m.Dim, k, outIDs, outDist)
}

// SearchFlat is f.Search on the chosen device (no filter: a filtered
// search stays on the CPU, or is an error when a GPU was named).
func SearchFlat(ctx context.Context, c Choice, f *flat.Flat, queries []float32, k int, p *index.SearchParams, outIDs []int64, outDist []float32) error {
	m := f.Bound()
	on, err := c.runs(m.Kind, k)
	if err == nil && on && p != nil && p.Filter != nil {
		if c.Strict {
			return fmt.Errorf("%w: a filtered search runs on the CPU: use device=\"cpu\" or \"auto\"", errs.Unsupported)
		}
		on = false
	}
	if err != nil || !on {
		if err != nil {
			return err
		}
		return f.Search(ctx, queries, k, p, outIDs, outDist)
	}
	nq, pq, _, err := index.CheckSearch(m, queries, f.Dim(), k, nil, outIDs, outDist)
	if err != nil {
		return err
	}
	return f.WithRows(func(vecs []float32, ids []int64) error {
		if err := c.Dev.KNN(ctx, uint32(m.Kind), float32(m.P), vecs, pq, m.Dim, k, outIDs, outDist); err != nil {
			return err
		}
		for i := range outIDs[:nq*k] {
			if r := outIDs[i]; r >= 0 {
				outIDs[i] = ids[r]
			}
		}
		for q := 0; q < nq; q++ {
			tiesByID(outIDs[q*k:(q+1)*k], outDist[q*k:(q+1)*k])
		}
		return nil
	})
}

// tiesByID orders each run of equal distances by id, as the CPU search
// does; the device breaks ties by row, and rows need not follow ids.
func tiesByID(ids []int64, dist []float32) {
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && dist[j] == dist[j-1] && ids[j] >= 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
}

// Training returns ctx with k-means' assignment step on the chosen
// device, for an index's Train.
func Training(ctx context.Context, c Choice) context.Context {
	if c.Dev == nil {
		return ctx
	}
	dev := c.Dev
	return kmeans.WithAssigner(ctx, func(ctx context.Context, cs, x []float32, dim int, assign []int64, dist []float32) error {
		return dev.Assign(ctx, cs, x, dim, assign, dist)
	})
}

// checkRange reports results that overflowed float32, as the CPU's
// Pairwise does.
func checkRange(m *metric.Metric, out []float32) error {
	if m.CanBeInfinite() {
		return nil
	}
	for i, v := range out {
		if math.IsInf(float64(v), 0) || v != v {
			return fmt.Errorf("%w: %s distance %d overflows float32 (inputs too large); scale the data down", errs.InvalidArgument, m.Kind, i)
		}
	}
	return nil
}
