package main

/*
#define OXV_NO_PROTOTYPES
#include "oxvec.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/oxvec/oxvec/core/calls"
	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

// oxv_index_range_search reads its request as a search does (readRequest:
// the same checks, filter and knobs); its outputs are the request's
// nq*k-value buffers, filled with the packed results when they fit.
//
//export oxv_index_range_search
func oxv_index_range_search(r *C.oxv_search_request, radius C.float, lims, needed *C.int64_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	c, err := readRequest(r)
	if err != nil {
		return fail(e, err)
	}
	nq := int64(r.nq)
	if lims == nil || needed == nil || !plausible(unsafe.Pointer(lims)) || !plausible(unsafe.Pointer(needed)) {
		return fail(e, fmt.Errorf("%w: lims and needed must be valid pointers", errs.InvalidArgument))
	}
	res, err := index.RangeSearch(c.ctx, c.idx, c.queries, float32(radius), c.params)
	if err != nil {
		return fail(e, err)
	}
	copy(int64s(lims, nq+1), res.Lims)
	n := int64(len(res.IDs))
	*needed = C.int64_t(n)
	if n <= int64(len(c.ids)) {
		copy(c.ids, res.IDs)
		copy(c.dist, res.Dist)
	}
	return C.OXV_OK
}
