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
	"github.com/oxvec/oxvec/core/migrate"
)

//export oxv_migrate_faiss
func oxv_migrate_faiss(path *C.char, out *C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if path == nil || out == nil {
		return fail(e, fmt.Errorf("%w: path and out must not be NULL", errs.InvalidArgument))
	}
	calls.Start()
	defer calls.Done()
	idx, err := migrate.FromFaissFile(cstring(path))
	if err != nil {
		return fail(e, err)
	}
	*out = newHandle(idx)
	return C.OXV_OK
}

//export oxv_migrate_hnswlib
func oxv_migrate_hnswlib(path, space *C.char, dim C.int64_t, out *C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if path == nil || space == nil || out == nil {
		return fail(e, fmt.Errorf("%w: path, space and out must not be NULL", errs.InvalidArgument))
	}
	calls.Start()
	defer calls.Done()
	if dim < 1 || dim > 1<<20 {
		return fail(e, fmt.Errorf("%w: dim must be positive, got %d", errs.InvalidArgument, int64(dim)))
	}
	idx, err := migrate.FromHNSWLibFile(cstring(path), cstring(space), int(dim))
	if err != nil {
		return fail(e, err)
	}
	*out = newHandle(idx)
	return C.OXV_OK
}

//export oxv_migrate_annoy
func oxv_migrate_annoy(path *C.char, dim C.int64_t, metric *C.char, into C.oxv_handle, cancel *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if path == nil || metric == nil || !plausible(unsafe.Pointer(cancel)) {
		return fail(e, fmt.Errorf("%w: path and metric must not be NULL, cancel NULL or a valid address", errs.InvalidArgument))
	}
	calls.Start()
	defer calls.Done()
	idx, err := lookupIndex(into)
	if err != nil {
		return fail(e, err)
	}
	if dim < 1 || dim > 1<<20 {
		return fail(e, fmt.Errorf("%w: dim must be positive, got %d", errs.InvalidArgument, int64(dim)))
	}
	ctx, finished := progressContext(cancel)
	defer finished()
	if err := migrate.FromAnnoyFile(ctx, cstring(path), int(dim), cstring(metric), idx); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_migrate_to_faiss
func oxv_migrate_to_faiss(h C.oxv_handle, path *C.char, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	idx, err := lookupIndex(h)
	if err != nil {
		return fail(e, err)
	}
	if path == nil {
		return fail(e, fmt.Errorf("%w: path is NULL", errs.InvalidArgument))
	}
	if err := migrate.ToFaissFile(idx, cstring(path)); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}
