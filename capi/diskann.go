package main

/*
#define OXV_NO_PROTOTYPES
#include "oxvec.h"
*/
import "C"

import (
	"fmt"

	"github.com/oxvec/oxvec/core/calls"
	"github.com/oxvec/oxvec/core/diskann"
	"github.com/oxvec/oxvec/core/errs"
)

// The calls of a DiskANN index beside the Index interface: its I/O
// counters, and the two rewrites of its file.

func lookupDiskANN(h C.oxv_handle) (*diskann.DiskANN, error) {
	idx, err := lookupIndex(h)
	if err != nil {
		return nil, err
	}
	x, ok := idx.(*diskann.DiskANN)
	if !ok {
		return nil, fmt.Errorf("%w: a %s index is not a diskann index", errs.InvalidArgument, idx.Info().Type)
	}
	return x, nil
}

//export oxv_diskann_stats
func oxv_diskann_stats(h C.oxv_handle, reset C.int32_t, buf *C.char, n C.size_t, needed *C.size_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	x, err := lookupDiskANN(h)
	if err != nil {
		return fail(e, err)
	}
	js, err := x.StatsJSON()
	if err != nil {
		return fail(e, fmt.Errorf("%w: %v", errs.Internal, err))
	}
	if reset != 0 {
		x.ResetStats()
	}
	return writeText(js, buf, n, needed)
}

//export oxv_diskann_rewrite
func oxv_diskann_rewrite(h C.oxv_handle, merge C.int32_t, cancel *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	x, err := lookupDiskANN(h)
	if err != nil {
		return fail(e, err)
	}
	ctx, done := progressContext(cancel)
	defer done()
	run := x.Consolidate
	if merge != 0 {
		run = x.Merge
	}
	if err := run(ctx); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}
