package main

/*
#define OXV_NO_PROTOTYPES
#include "oxvec.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/oxvec/oxvec/core/calls"
	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/parallel"
)

//export oxv_abi_version
func oxv_abi_version() C.int32_t { return C.OXV_ABI_VERSION }

//export oxv_version
func oxv_version(buf *C.char, n C.size_t) (rc C.int) {
	defer recoverInto(&rc, nil)
	b := cbytes(buf, n)
	if len(b) > 0 {
		v := fmt.Sprintf("%s (%s %s/%s)", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		b[copy(b[:len(b)-1], v)] = 0
	}
	return C.OXV_OK
}

// defaultProcs is GOMAXPROCS as the runtime chose it at start-up.
var defaultProcs = runtime.GOMAXPROCS(0)

//export oxv_set_num_threads
func oxv_set_num_threads(n C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if n > 1<<14 {
		return fail(e, fmt.Errorf("%w: %d threads is not a sensible setting", errs.InvalidArgument, n))
	}
	if n <= 0 {
		runtime.GOMAXPROCS(defaultProcs)
		parallel.SetWorkers(0)
		return C.OXV_OK
	}
	runtime.GOMAXPROCS(int(n))
	parallel.SetWorkers(int(n))
	return C.OXV_OK
}

//export oxv_get_num_threads
func oxv_get_num_threads() C.int32_t { return C.int32_t(parallel.Workers()) }

//export oxv_set_memory_limit
func oxv_set_memory_limit(bytes C.int64_t, previous *C.int64_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	old := debug.SetMemoryLimit(int64(bytes)) // a negative value only reads
	if previous != nil {
		*previous = C.int64_t(old)
	}
	return C.OXV_OK
}

//export oxv_set_gc_percent
func oxv_set_gc_percent(percent C.int32_t, previous *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	old := debug.SetGCPercent(int(percent))
	if previous != nil {
		*previous = C.int32_t(old)
	}
	return C.OXV_OK
}

//export oxv_calls_in_flight
func oxv_calls_in_flight() C.int64_t { return C.int64_t(calls.InFlight()) }
