package main

/*
#define OXV_NO_PROTOTYPES
#include "oxvec.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"unsafe"

	"github.com/oxvec/oxvec/core/calls"
	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

//export oxv_index_new
func oxv_index_new(spec *C.char, out *C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if spec == nil || out == nil {
		return fail(e, fmt.Errorf("%w: spec and out must not be NULL", errs.InvalidArgument))
	}
	idx, err := index.New([]byte(cstring(spec)))
	if err != nil {
		return fail(e, err)
	}
	*out = newHandle(idx)
	return C.OXV_OK
}

//export oxv_index_load
func oxv_index_load(path, options *C.char, out *C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if path == nil || out == nil {
		return fail(e, fmt.Errorf("%w: path and out must not be NULL", errs.InvalidArgument))
	}
	calls.Start()
	defer calls.Done()
	var opts struct {
		Mmap   bool `json:"mmap"`
		Verify bool `json:"verify"`
	}
	if options != nil {
		if err := index.DecodeSpec([]byte(cstring(options)), &opts); err != nil {
			return fail(e, err)
		}
	}
	idx, err := index.LoadFileWith(cstring(path), index.LoadOptions{Mmap: opts.Mmap, Verify: opts.Verify})
	if err != nil {
		return fail(e, err)
	}
	*out = newHandle(idx)
	return C.OXV_OK
}

//export oxv_index_free
func oxv_index_free(h C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	v, err := deleteHandle(h)
	if err != nil {
		return fail(e, err)
	}
	if idx, ok := v.(index.Index); ok {
		if err := idx.Close(); err != nil {
			return fail(e, err)
		}
	}
	return C.OXV_OK
}

func checkCount(n C.int64_t, what string) error {
	if n < 0 {
		return fmt.Errorf("%w: %s count %d is negative", errs.InvalidArgument, what, int64(n))
	}
	return nil
}

//export oxv_index_add
func oxv_index_add(h C.oxv_handle, x *C.float, n, d C.int64_t, ids, outIDs *C.int64_t, cancel *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	idx, err := lookupIndex(h)
	if err != nil {
		return fail(e, err)
	}
	if err := index.CheckShape(idx, int64(n), int64(d), "vectors", "vector"); err != nil {
		return fail(e, err)
	}
	if n > 0 && x == nil {
		return fail(e, fmt.Errorf("%w: vectors pointer is NULL", errs.InvalidArgument))
	}
	if !plausible(unsafe.Pointer(x)) || !plausible(unsafe.Pointer(ids)) || !plausible(unsafe.Pointer(outIDs)) || !plausible(unsafe.Pointer(cancel)) {
		return fail(e, fmt.Errorf("%w: a pointer argument is not a valid address", errs.InvalidArgument))
	}
	if err := index.CheckMemory(int64(n) * int64(d) * 4); err != nil {
		return fail(e, err)
	}
	var assigned []int64
	if ids == nil {
		assigned = int64s(outIDs, int64(n))
	}
	ctx, finished := progressContext(cancel)
	defer finished()
	err = idx.Add(ctx, floats(x, int64(n*d)), int64s(ids, int64(n)), assigned)
	if err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_index_train
func oxv_index_train(h C.oxv_handle, x *C.float, n, d C.int64_t, cancel *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	idx, err := lookupIndex(h)
	if err != nil {
		return fail(e, err)
	}
	if err := index.CheckShape(idx, int64(n), int64(d), "training vectors", "vector"); err != nil {
		return fail(e, err)
	}
	if (n > 0 && x == nil) || !plausible(unsafe.Pointer(x)) || !plausible(unsafe.Pointer(cancel)) {
		return fail(e, fmt.Errorf("%w: a pointer argument is not a valid address", errs.InvalidArgument))
	}
	tr, ok := idx.(index.Trainer)
	if !ok {
		return C.OXV_OK // nothing to learn: like faiss, training such an index does nothing
	}
	ctx, finished := progressContext(cancel)
	defer finished()
	if err := tr.Train(ctx, floats(x, int64(n*d))); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

// searchCall is a validated oxv_search_request in Go terms.
type searchCall struct {
	idx     index.Index
	queries []float32
	k       int
	params  *index.SearchParams
	ids     []int64
	dist    []float32
	ctx     context.Context
}

// readRequest validates a search request and views its buffers.
func readRequest(r *C.oxv_search_request) (searchCall, error) {
	if r == nil {
		return searchCall{}, fmt.Errorf("%w: search request is NULL", errs.InvalidArgument)
	}
	if want := unsafe.Sizeof(C.oxv_search_request{}); uintptr(r.size) < want {
		return searchCall{}, fmt.Errorf("%w: oxv_search_request.size is %d, this library needs %d (set it to sizeof(oxv_search_request))", errs.InvalidArgument, uint32(r.size), want)
	}
	idx, err := lookupIndex(r.index)
	if err != nil {
		return searchCall{}, err
	}
	nq, k := r.nq, r.k
	req := index.Request{NQ: int64(nq), Dim: int64(r.dim), K: int64(k), Ef: int64(r.ef), NProbe: int64(r.nprobe), BeamWidth: int64(r.beam_width),
		HasIDs: r.allow_ids != nil, HasMask: r.allow_mask != nil, AllowIDs: int64(r.n_allow_ids), AllowMask: int64(r.n_allow_mask)}
	if err := req.Check(idx); err != nil {
		return searchCall{}, err
	}
	// what only a C caller can get wrong: the pointers themselves
	if nq > 0 && (r.queries == nil || r.out_ids == nil || r.out_dist == nil) {
		return searchCall{}, fmt.Errorf("%w: queries and both outputs must not be NULL", errs.InvalidArgument)
	}
	if !plausible(unsafe.Pointer(r.queries)) || !plausible(unsafe.Pointer(r.out_ids)) || !plausible(unsafe.Pointer(r.out_dist)) || !plausible(unsafe.Pointer(r.cancel)) ||
		!plausible(unsafe.Pointer(r.allow_ids)) || !plausible(unsafe.Pointer(r.allow_mask)) {
		return searchCall{}, fmt.Errorf("%w: a pointer in the search request is not a valid address", errs.InvalidArgument)
	}
	c := searchCall{
		idx:     idx,
		queries: floats(r.queries, int64(nq*r.dim)),
		k:       int(k),
		ids:     int64s(r.out_ids, int64(nq*k)),
		dist:    floats(r.out_dist, int64(nq*k)),
		ctx:     contextFor(r.cancel),
	}
	var filter *index.Filter
	switch {
	case r.allow_ids != nil:
		// copied: the engine must not keep caller memory past the call, and
		// a filter may be held by a search running in workers
		filter = &index.Filter{IDs: append([]int64{}, int64s(r.allow_ids, int64(r.n_allow_ids))...)}
	case r.allow_mask != nil:
		mask := make([]bool, r.n_allow_mask)
		for i, b := range bytesOf(unsafe.Pointer(r.allow_mask), int64(r.n_allow_mask)) {
			mask[i] = b != 0
		}
		filter = &index.Filter{Mask: mask}
	}
	if r.reserved != 0 {
		return searchCall{}, fmt.Errorf("%w: oxv_search_request.reserved must be 0", errs.InvalidArgument)
	}
	recall := float32(r.recall)
	if err := checkRecall(idx, recall); err != nil {
		return searchCall{}, err
	}
	if r.ef != 0 || r.nprobe != 0 || filter != nil || recall != 0 || r.beam_width != 0 {
		c.params = &index.SearchParams{Ef: int(r.ef), NProbe: int(r.nprobe), Filter: filter, Recall: recall, BeamWidth: int(r.beam_width)}
	}
	return c, nil
}

func (c searchCall) run() error {
	return c.idx.Search(c.ctx, c.queries, c.k, c.params, c.ids, c.dist)
}

//export oxv_index_search
func oxv_index_search(r *C.oxv_search_request, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	c, err := readRequest(r)
	if err != nil {
		return fail(e, err)
	}
	if err := c.run(); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_index_remove
func oxv_index_remove(h C.oxv_handle, ids *C.int64_t, n C.int64_t, removed *C.int64_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	idx, err := lookupIndex(h)
	if err != nil {
		return fail(e, err)
	}
	if err := checkCount(n, "id"); err != nil {
		return fail(e, err)
	}
	if n > 0 && ids == nil || !plausible(unsafe.Pointer(ids)) {
		return fail(e, fmt.Errorf("%w: ids pointer is NULL or not a valid address", errs.InvalidArgument))
	}
	c, err := idx.Remove(contextFor(nil), int64s(ids, int64(n)))
	if err != nil {
		return fail(e, err)
	}
	if removed != nil {
		*removed = C.int64_t(c)
	}
	return C.OXV_OK
}

//export oxv_index_len
func oxv_index_len(h C.oxv_handle, out *C.int64_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	idx, err := lookupIndex(h)
	if err != nil {
		return fail(e, err)
	}
	if out != nil {
		*out = C.int64_t(idx.Len())
	}
	return C.OXV_OK
}

//export oxv_index_info
func oxv_index_info(h C.oxv_handle, buf *C.char, n C.size_t, needed *C.size_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	idx, err := lookupIndex(h)
	if err != nil {
		return fail(e, err)
	}
	info := struct {
		index.Info
		Trained bool           `json:"trained"`
		Params  map[string]int `json:"params,omitempty"` // search knob defaults (oxv_index_set_params)
	}{Info: idx.Info(), Trained: true, Params: index.Knobs(idx)}
	if tr, ok := idx.(index.Trainer); ok {
		info.Trained = tr.Trained()
	}
	js, err := json.Marshal(info)
	if err != nil {
		return fail(e, fmt.Errorf("%w: %v", errs.Internal, err))
	}
	return writeText(js, buf, n, needed)
}

//export oxv_index_save
func oxv_index_save(h C.oxv_handle, path *C.char, e *C.oxv_error) (rc C.int) {
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
	if err := index.SaveFile(idx, cstring(path)); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_index_compact
func oxv_index_compact(h C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	idx, err := lookupIndex(h)
	if err != nil {
		return fail(e, err)
	}
	if c, ok := idx.(index.Compacter); ok {
		if err := c.Compact(); err != nil {
			return fail(e, err)
		}
	}
	return C.OXV_OK
}
