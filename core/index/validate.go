package index

import (
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/kernels"
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
	// sum(x*x) is finite when every value is; a NaN or an infinity makes it
	// NaN or +Inf. One SIMD pass (the scalar loop this replaced was 7% of
	// an IVF search at nprobe 1); huge finite values can overflow the sum
	// and only send us to the exact scan below.
	if s := float64(kernels.Dot(vectors, vectors)); !math.IsNaN(s) && !math.IsInf(s, 0) {
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

// CheckOutputs validates that output buffers of nids and ndist values hold
// nq rows of k results; nq*k is not computed, so no k overflows it.
func CheckOutputs(nq, k, nids, ndist int) error {
	if nq > 0 && (k > nids/nq || k > ndist/nq) {
		return fmt.Errorf("%w: output buffers hold %d/%d results, fewer than nq*k = %d*%d", errs.InvalidArgument, nids, ndist, nq, k)
	}
	return nil
}
