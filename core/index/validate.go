package index

import (
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
)

// Rows returns how many dim-sized rows vectors holds, or errs.Dimension when
// its length is not a multiple of dim.
func Rows(vectors []float32, dim int, what string) (int, error) {
	if dim <= 0 || len(vectors)%dim != 0 {
		return 0, fmt.Errorf("%w: %s hold %d values, not a whole number of %d-dimensional vectors", errs.Dimension, what, len(vectors), dim)
	}
	return len(vectors) / dim, nil
}

// CheckFinite returns errs.InvalidArgument naming the first row and position
// that holds NaN or an infinity.
func CheckFinite(vectors []float32, dim int, what string) error {
	// x*0 is 0 for finite x and NaN for NaN and infinities, so one sum tells
	// whether any value is bad; four sums keep the adds independent.
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(vectors); i += 4 {
		s0 += vectors[i] * 0
		s1 += vectors[i+1] * 0
		s2 += vectors[i+2] * 0
		s3 += vectors[i+3] * 0
	}
	for ; i < len(vectors); i++ {
		s0 += vectors[i] * 0
	}
	if s := s0 + s1 + s2 + s3; s == s {
		return nil
	}
	for i, v := range vectors {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			kind := "NaN"
			if math.IsInf(f, 0) {
				kind = "infinity"
			}
			return fmt.Errorf("%w: %s row %d holds %s at position %d; clean the input (numpy.nan_to_num) or drop that row", errs.InvalidArgument, what, i/dim, kind, i%dim)
		}
	}
	return nil
}

// CheckIDs validates caller-chosen ids for a batch of n vectors: one per
// vector, non-negative, and no id twice in the batch.
func CheckIDs(ids []int64, n int) error {
	if len(ids) != n {
		return fmt.Errorf("%w: %d ids for %d vectors; pass one id per vector", errs.InvalidArgument, len(ids), n)
	}
	seen := make(map[int64]struct{}, len(ids))
	for i, id := range ids {
		if id < 0 {
			return fmt.Errorf("%w: id %d at position %d is negative; ids must be >= 0 (-1 marks a missing result)", errs.InvalidArgument, id, i)
		}
		if _, dup := seen[id]; dup {
			return fmt.Errorf("%w: id %d appears more than once in the batch", errs.DuplicateID, id)
		}
		seen[id] = struct{}{}
	}
	return nil
}

// CheckK validates the number of neighbours asked for.
func CheckK(k int) error {
	if k <= 0 {
		return fmt.Errorf("%w: k must be >= 1, got %d", errs.InvalidArgument, k)
	}
	return nil
}
