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

// Reading vectors back and changing search defaults: the two index calls
// that go through optional interfaces (index.Reconstructor, index.Tuner).

//export oxv_index_vectors
func oxv_index_vectors(h C.oxv_handle, ids *C.int64_t, n C.int64_t, out *C.float, d C.int64_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	idx, err := lookupIndex(h)
	if err != nil {
		return fail(e, err)
	}
	if d != C.int64_t(idx.Dim()) {
		return fail(e, fmt.Errorf("%w: output rows have %d columns, the index has dim %d", errs.Dimension, int64(d), idx.Dim()))
	}
	if err := checkCount(n, "id"); err != nil {
		return fail(e, err)
	}
	if (n > 0 && ids == nil) || !plausible(unsafe.Pointer(ids)) || !plausible(unsafe.Pointer(out)) {
		return fail(e, fmt.Errorf("%w: ids must not be NULL and both pointers must be valid addresses", errs.InvalidArgument))
	}
	r, ok := idx.(index.Reconstructor)
	if !ok {
		return fail(e, fmt.Errorf("%w: a %s index cannot give its vectors back", errs.Unsupported, idx.Info().Type))
	}
	var dst []float32
	if out != nil {
		dst = floats(out, int64(n)*int64(d))
		if dst == nil {
			dst = []float32{} // n == 0: an empty output, not "presence only"
		}
	}
	if err := r.Vectors(int64s(ids, int64(n)), dst); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_index_set_params
func oxv_index_set_params(h C.oxv_handle, params *C.char, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	idx, err := lookupIndex(h)
	if err != nil {
		return fail(e, err)
	}
	if params == nil {
		return fail(e, fmt.Errorf("%w: params must not be NULL", errs.InvalidArgument))
	}
	if err := index.SetParams(idx, []byte(cstring(params))); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}
