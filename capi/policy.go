package main

/*
#include "oxvec.h"
*/
import "C"

import (
	"context"
	"fmt"
	"math"
	"unsafe"

	"github.com/oxvec/oxvec/core/calls"
	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

// policyIndex is an index type with a learned search policy (ivf_flat,
// ivf_pq).
type policyIndex interface {
	TrainPolicy(ctx context.Context, queries []float32, k int, truth []int64) error
	HasPolicy() bool
}

// checkRecall refuses a search request's recall that is not 0 or in
// (0, 1], or that asks a type without a learned policy.
func checkRecall(idx index.Index, r float32) error {
	if r == 0 {
		return nil
	}
	if math.IsNaN(float64(r)) || r < 0 || r > 1 {
		return fmt.Errorf("%w: recall must be in (0, 1] (0: off), got %g", errs.InvalidArgument, r)
	}
	if _, ok := idx.(policyIndex); !ok {
		return fmt.Errorf("%w: a %s index has no learned search policy; search it with its own knobs (ivf_flat and ivf_pq learn one with train_policy)", errs.Unsupported, idx.Info().Type)
	}
	return nil
}

//export oxv_index_train_policy
func oxv_index_train_policy(h C.oxv_handle, x *C.float, n, d, k C.int64_t, truth *C.int64_t, cancel *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	idx, err := lookupIndex(h)
	if err != nil {
		return fail(e, err)
	}
	pi, ok := idx.(policyIndex)
	if !ok {
		return fail(e, fmt.Errorf("%w: a %s index has no learned search policy (ivf_flat and ivf_pq have)", errs.Unsupported, idx.Info().Type))
	}
	if err := index.CheckShape(idx, int64(n), int64(d), "sample queries", "query"); err != nil {
		return fail(e, err)
	}
	if k < 1 || k > 1000 {
		return fail(e, fmt.Errorf("%w: a policy is trained for 1 <= k <= 1000, got %d", errs.InvalidArgument, int64(k)))
	}
	if (n > 0 && x == nil) || !plausible(unsafe.Pointer(x)) || !plausible(unsafe.Pointer(truth)) || !plausible(unsafe.Pointer(cancel)) {
		return fail(e, fmt.Errorf("%w: a pointer argument is not a valid address", errs.InvalidArgument))
	}
	if err := pi.TrainPolicy(contextFor(cancel), floats(x, int64(n*d)), int(k), int64s(truth, int64(n*k))); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}
