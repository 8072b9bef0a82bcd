package main

/*
#define OXV_NO_PROTOTYPES
#include "oxvec.h"
*/
import "C"

import (
	"context"
	"fmt"
	"time"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/hnsw"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

//export oxv_debug_panic
func oxv_debug_panic(inWorker C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if inWorker == 0 {
		panic("oxv_debug_panic: deliberate panic on the calling goroutine")
	}
	err := parallel.For(context.Background(), 64, 1, func(lo, hi int) error {
		if lo == 63 {
			panic("oxv_debug_panic: deliberate panic on a worker goroutine")
		}
		return nil
	})
	return fail(e, err)
}

//export oxv_debug_search_repeat
func oxv_debug_search_repeat(r *C.oxv_search_request, repeat C.int64_t, elapsed *C.int64_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	c, err := readRequest(r)
	if err != nil {
		return fail(e, err)
	}
	start := time.Now()
	for i := C.int64_t(0); i < repeat; i++ {
		if err := c.run(); err != nil {
			return fail(e, err)
		}
	}
	if elapsed != nil {
		*elapsed = C.int64_t(time.Since(start).Nanoseconds())
	}
	return C.OXV_OK
}

//export oxv_debug_hnsw_counts
func oxv_debug_hnsw_counts(on C.int32_t, walk, rerank *C.int64_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	w, r := hnsw.CountDistances(on != 0)
	if walk != nil {
		*walk = C.int64_t(w)
	}
	if rerank != nil {
		*rerank = C.int64_t(r)
	}
	return C.OXV_OK
}

//export oxv_debug_kernel_ns
func oxv_debug_kernel_ns(name, level *C.char, d, repeat C.int64_t, ns *C.double, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	l, err := kernels.ParseLevel(cstring(level))
	if err != nil {
		return fail(e, fmt.Errorf("%w: %v", errs.InvalidArgument, err))
	}
	per, err := kernels.Time(cstring(name), l, int(d), int(repeat))
	if err != nil {
		return fail(e, fmt.Errorf("%w: %v", errs.InvalidArgument, err))
	}
	*ns = C.double(per)
	return C.OXV_OK
}
