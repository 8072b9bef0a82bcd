package probepolicy

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
)

// CheckArgs checks what every index's TrainPolicy is given: nq sample
// queries, k results, and truth, the exact k nearest ids of each query
// (nq*k values, or nil for the index to find them itself).
func CheckArgs(nq, k int, truth []int64) error {
	if k < 1 || k > 1000 {
		return fmt.Errorf("%w: a policy is trained for 1 <= k <= 1000, got %d", errs.InvalidArgument, k)
	}
	if nq < MinQueries {
		return fmt.Errorf("%w: training a search policy needs at least %d sample queries, got %d", errs.InvalidArgument, MinQueries, nq)
	}
	if truth == nil {
		return nil
	}
	if len(truth) != nq*k {
		return fmt.Errorf("%w: truth holds %d ids, not %d (k = %d nearest ids for each of %d sample queries)", errs.InvalidArgument, len(truth), nq*k, k, nq)
	}
	for i, id := range truth {
		if id < 0 {
			return fmt.Errorf("%w: truth id %d of sample query %d is negative: give each query's exact k nearest ids in the index", errs.InvalidArgument, id, i/k)
		}
	}
	return nil
}

// TruthSet is a query's true neighbours for counting hits.
type TruthSet map[int64]struct{}

// NewTruthSet holds ids.
func NewTruthSet(ids []int64) TruthSet {
	s := make(TruthSet, len(ids))
	for _, id := range ids {
		s[id] = struct{}{}
	}
	return s
}

// Hits counts the ids (>= 0) in s.
func (s TruthSet) Hits(ids []int64) int {
	n := 0
	for _, id := range ids {
		if _, ok := s[id]; ok && id >= 0 {
			n++
		}
	}
	return n
}
