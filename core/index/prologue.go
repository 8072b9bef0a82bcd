package index

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/metric"
)

// CheckAdd validates an Add batch as every index type must (shape, finite
// values, ids or room for assigned ones) and returns the number of vectors
// and their form prepared by m. For metrics that change nothing the
// prepared form is the caller's own buffer: read it, never write it.
func CheckAdd(m *metric.Metric, vectors []float32, dim int, ids, assigned []int64) (int, []float32, error) {
	n, err := Rows(vectors, dim, "vectors")
	if err != nil {
		return 0, nil, err
	}
	if err := CheckFinite(vectors, dim, "vectors"); err != nil {
		return 0, nil, err
	}
	if ids != nil {
		if err := CheckIDs(ids, n); err != nil {
			return 0, nil, err
		}
	} else if assigned != nil && len(assigned) < n {
		return 0, nil, fmt.Errorf("%w: room for %d assigned ids, need %d", errs.InvalidArgument, len(assigned), n)
	}
	p, err := m.PrepareCopy(vectors, "vectors")
	return n, p, err
}

// CheckTrain validates training vectors as every trained type must: shape,
// then the type's own minimum count (enough; nil for none), then finite
// values. It returns the count and the vectors prepared by m (possibly the
// caller's buffer, as for CheckAdd).
func CheckTrain(m *metric.Metric, vectors []float32, dim int, enough func(n int) error) (int, []float32, error) {
	n, err := Rows(vectors, dim, "training vectors")
	if err != nil {
		return 0, nil, err
	}
	if enough != nil {
		if err := enough(n); err != nil {
			return 0, nil, err
		}
	}
	if err := CheckFinite(vectors, dim, "training vectors"); err != nil {
		return 0, nil, err
	}
	p, err := m.PrepareCopy(vectors, "training vectors")
	return n, p, err
}

// AtLeastOne is CheckTrain's minimum for types that learn from any number
// of vectors (ranges, means).
func AtLeastOne(n int) error {
	if n < 1 {
		return fmt.Errorf("%w: training needs at least 1 vector", errs.InvalidArgument)
	}
	return nil
}

// CheckSearch validates a Search call as every index type must and returns
// the number of queries, the queries prepared by m (possibly the caller's
// buffer, as for CheckAdd) and the filter's membership test (nil: all).
func CheckSearch(m *metric.Metric, queries []float32, dim, k int, p *SearchParams, outIDs []int64, outDist []float32) (int, []float32, func(int64) bool, error) {
	nq, err := Rows(queries, dim, "queries")
	if err != nil {
		return 0, nil, nil, err
	}
	if err := CheckK(k); err != nil {
		return 0, nil, nil, err
	}
	if err := CheckOutputs(nq, k, len(outIDs), len(outDist)); err != nil {
		return 0, nil, nil, err
	}
	if err := CheckFinite(queries, dim, "queries"); err != nil {
		return 0, nil, nil, err
	}
	prepared, err := m.PrepareCopy(queries, "queries")
	if err != nil {
		return 0, nil, nil, err
	}
	var allow func(int64) bool
	if p != nil {
		allow = p.Filter.Test()
	}
	return nq, prepared, allow, nil
}
