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
	"github.com/oxvec/oxvec/core/progress"
	"github.com/oxvec/oxvec/core/store"
	"github.com/oxvec/oxvec/core/tenant"
)

// A result of a store read: JSON for ids, documents, metadata and
// distances; the embeddings, if asked for, in a float buffer beside it.
type storeResult struct {
	js   []byte
	vecs []float32
}

func lookupStore(h C.oxv_handle) (*store.Store, error) {
	v, err := value(h)
	if err != nil {
		return nil, err
	}
	s, ok := v.(*store.Store)
	if !ok {
		return nil, fmt.Errorf("%w: handle %d is a %T, not a store", errHandle, uint64(h), v)
	}
	return s, nil
}

// text reads an optional JSON argument.
func text(p *C.char) []byte {
	if p == nil {
		return nil
	}
	return []byte(C.GoString(p))
}

//export oxv_store_open
func oxv_store_open(path, options *C.char, out *C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	if path == nil || out == nil {
		return fail(e, fmt.Errorf("%w: path and out must not be NULL", errs.InvalidArgument))
	}
	opts, err := store.DecodeOpen(text(options))
	if err != nil {
		return fail(e, err)
	}
	s, err := store.Open(cstring(path), opts)
	if err != nil {
		return fail(e, err)
	}
	*out = newHandle(s)
	return C.OXV_OK
}

//export oxv_store_close
func oxv_store_close(h C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if _, err := lookupRecords(h); err != nil {
		return fail(e, err)
	}
	v, err := deleteHandle(h)
	if err != nil {
		return fail(e, err)
	}
	st, ok := v.(*store.Store)
	if !ok {
		return C.OXV_OK // a collection of a session: its database owns the store
	}
	if err := st.Close(); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_store_write
func oxv_store_write(h C.oxv_handle, op C.int, records *C.char, vectors *C.float, n, d C.int64_t, progressFlag *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	if !plausible(unsafe.Pointer(progressFlag)) {
		return fail(e, fmt.Errorf("%w: the flag is not a valid address", errs.InvalidArgument))
	}
	// the flag only names the call for oxv_progress: a write is never
	// canceled (once logged, its change must be applied)
	pctx, done := progressContext(progressFlag)
	defer done()
	s, err := lookupRecords(h)
	if err != nil {
		return fail(e, err)
	}
	if records == nil {
		return fail(e, fmt.Errorf("%w: records must not be NULL", errs.InvalidArgument))
	}
	b, err := store.DecodeRecords(text(records))
	if err != nil {
		return fail(e, err)
	}
	if vectors != nil {
		if int64(n) != int64(len(b.Keys)) {
			return fail(e, fmt.Errorf("%w: %d vectors for %d ids", errs.InvalidArgument, int64(n), len(b.Keys)))
		}
		if int(d) != s.Config().Dim {
			return fail(e, fmt.Errorf("%w: vectors have %d columns, the store has dim %d", errs.Dimension, int64(d), s.Config().Dim))
		}
		if !plausible(unsafe.Pointer(vectors)) {
			return fail(e, fmt.Errorf("%w: vectors is not a valid address", errs.InvalidArgument))
		}
		if err := index.CheckMemory(2 * int64(n) * int64(d) * 4); err != nil {
			return fail(e, err)
		}
		b.Vectors = floats(vectors, int64(n)*int64(d)) // copied by the store before the call returns
	}
	ctx := progress.Only(pctx)
	switch op {
	case C.OXV_STORE_ADD:
		err = s.Add(ctx, b)
	case C.OXV_STORE_UPSERT:
		err = s.Upsert(ctx, b)
	case C.OXV_STORE_UPDATE:
		err = s.Update(ctx, b)
	default:
		err = fmt.Errorf("%w: unknown write operation %d", errs.InvalidArgument, int(op))
	}
	if err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_store_delete
func oxv_store_delete(h C.oxv_handle, query *C.char, deleted *C.int64_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	s, err := lookupRecords(h)
	if err != nil {
		return fail(e, err)
	}
	q, _, err := store.DecodeQuery(text(query))
	if err != nil {
		return fail(e, err)
	}
	if q.IDs == nil && q.Where == nil && q.WhereDocument == nil {
		return fail(e, fmt.Errorf("%w: delete needs ids, where or where_document (to delete everything, pass where={})", errs.InvalidArgument))
	}
	c, err := s.Delete(context.Background(), q.IDs, q.Where, q.WhereDocument)
	if err != nil {
		return fail(e, err)
	}
	if deleted != nil {
		*deleted = C.int64_t(c)
	}
	return C.OXV_OK
}

func newResult(v any, vecs []float32, out *C.oxv_handle) error {
	js, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: encoding the result: %v", errs.Internal, err)
	}
	*out = newHandle(&storeResult{js: js, vecs: vecs})
	return nil
}

//export oxv_store_get
func oxv_store_get(h C.oxv_handle, query *C.char, out *C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	s, err := lookupRecords(h)
	if err != nil {
		return fail(e, err)
	}
	if out == nil {
		return fail(e, fmt.Errorf("%w: out must not be NULL", errs.InvalidArgument))
	}
	q, inc, err := store.DecodeQuery(text(query))
	if err != nil {
		return fail(e, err)
	}
	rows, err := s.Get(q.IDs, q.Where, q.WhereDocument, q.Limit, q.Offset, inc)
	if err != nil {
		return fail(e, err)
	}
	if err := newResult(rows, rows.Vectors, out); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_store_search
func oxv_store_search(h C.oxv_handle, queries *C.float, nq, d C.int64_t, query *C.char, cancel *C.int32_t, out *C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	if out == nil {
		return fail(e, fmt.Errorf("%w: out must not be NULL", errs.InvalidArgument))
	}
	hits, vecs, err := storeSearch(h, queries, nq, d, query, cancel, true)
	if err == nil {
		err = newResult(hits, vecs, out)
	}
	if err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

// oxv_store_search_json is oxv_store_search for a front end that forwards
// the answer (oxvec serve): the result's JSON goes straight into buf when
// it fits, so a small search is one call instead of three (search, read,
// free), each of which costs the caller's binding a GIL hand-over. A
// result that does not fit comes back as a handle, as from
// oxv_store_search. Embeddings are not part of JSON: a query that
// includes them is refused before it runs.
//
//export oxv_store_search_json
func oxv_store_search_json(h C.oxv_handle, queries *C.float, nq, d C.int64_t, query *C.char, cancel *C.int32_t, buf *C.char, n C.size_t, needed *C.size_t, out *C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	if out == nil || needed == nil || (n > 0 && buf == nil) || !plausible(unsafe.Pointer(buf)) {
		return fail(e, fmt.Errorf("%w: out and needed must not be NULL, buf must hold len bytes", errs.InvalidArgument))
	}
	hits, _, err := storeSearch(h, queries, nq, d, query, cancel, false)
	if err != nil {
		return fail(e, err)
	}
	js, err := json.Marshal(hits)
	if err != nil {
		return fail(e, fmt.Errorf("%w: encoding the result: %v", errs.Internal, err))
	}
	*out = 0
	if C.size_t(len(js)+1) > n {
		*needed = C.size_t(len(js) + 1)
		*out = newHandle(&storeResult{js: js})
		return C.OXV_OK
	}
	return writeText(js, buf, n, needed)
}

// storeSearch runs a store search call's query (see oxv_store_search);
// embeddings says whether the query may include them.
func storeSearch(h C.oxv_handle, queries *C.float, nq, d C.int64_t, query *C.char, cancel *C.int32_t, embeddings bool) (*store.Hits, []float32, error) {
	s, err := lookupRecords(h)
	if err != nil {
		return nil, nil, err
	}
	if nq > 0 && queries == nil {
		return nil, nil, fmt.Errorf("%w: queries must not be NULL", errs.InvalidArgument)
	}
	if err := checkCount(nq, "query"); err != nil {
		return nil, nil, err
	}
	if !plausible(unsafe.Pointer(queries)) || !plausible(unsafe.Pointer(cancel)) {
		return nil, nil, fmt.Errorf("%w: a pointer argument is not a valid address", errs.InvalidArgument)
	}
	q, inc, err := store.DecodeQuery(text(query))
	if err != nil {
		return nil, nil, err
	}
	if q.IDs != nil || q.Limit != 0 || q.Offset != 0 {
		return nil, nil, fmt.Errorf("%w: a search takes k, where, where_document, ef, include, texts and ranking options (not ids, limit or offset)", errs.InvalidArgument)
	}
	if inc.Embeddings && !embeddings {
		return nil, nil, fmt.Errorf("%w: a JSON search result cannot include embeddings; use oxv_store_search", errs.InvalidArgument)
	}
	req := store.SearchRequest{Texts: q.Texts, K: q.K, Where: q.Where, WhereDoc: q.WhereDocument, Ef: q.Ef, Include: inc, Rank: q.Ranking, Plan: q.Plan}
	if queries != nil { // keyword searches pass none
		if int(d) != s.Config().Dim {
			return nil, nil, fmt.Errorf("%w: queries have %d columns, the store has dim %d", errs.Dimension, int64(d), s.Config().Dim)
		}
		req.Vectors = floats(queries, int64(nq)*int64(d))
		if req.Vectors == nil {
			req.Vectors = []float32{}
		}
	}
	hits, err := s.Search(contextFor(cancel), req)
	if err != nil {
		return nil, nil, err
	}
	var vecs []float32
	for _, v := range hits.Vectors {
		vecs = append(vecs, v...)
	}
	return hits, vecs, nil
}

func lookupResult(h C.oxv_handle) (*storeResult, error) {
	v, err := value(h)
	if err != nil {
		return nil, err
	}
	r, ok := v.(*storeResult)
	if !ok {
		return nil, fmt.Errorf("%w: handle %d is a %T, not a result", errHandle, uint64(h), v)
	}
	return r, nil
}

//export oxv_result_json
func oxv_result_json(h C.oxv_handle, buf *C.char, n C.size_t, needed *C.size_t, nvec *C.int64_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	r, err := lookupResult(h)
	if err != nil {
		return fail(e, err)
	}
	if nvec != nil {
		*nvec = C.int64_t(len(r.vecs))
	}
	return writeText(r.js, buf, n, needed)
}

//export oxv_result_embeddings
func oxv_result_embeddings(h C.oxv_handle, out *C.float, n C.int64_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	r, err := lookupResult(h)
	if err != nil {
		return fail(e, err)
	}
	if int64(n) != int64(len(r.vecs)) || (n > 0 && out == nil) || !plausible(unsafe.Pointer(out)) {
		return fail(e, fmt.Errorf("%w: the result holds %d embedding values; out must have room for exactly that many", errs.InvalidArgument, len(r.vecs)))
	}
	copy(floats(out, int64(n)), r.vecs)
	return C.OXV_OK
}

//export oxv_result_free
func oxv_result_free(h C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if _, err := lookupResult(h); err != nil {
		return fail(e, err)
	}
	if _, err := deleteHandle(h); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_store_count
func oxv_store_count(h C.oxv_handle, out *C.int64_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	r, err := lookupRecords(h)
	if err != nil {
		return fail(e, err)
	}
	n := 0
	switch x := r.(type) {
	case *store.Store:
		n = x.Count()
	case *tenant.Collection:
		if n, err = x.Count(); err != nil {
			return fail(e, err)
		}
	}
	if out != nil {
		*out = C.int64_t(n)
	}
	return C.OXV_OK
}

//export oxv_store_info
func oxv_store_info(h C.oxv_handle, buf *C.char, n C.size_t, needed *C.size_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	r, err := lookupRecords(h)
	if err != nil {
		return fail(e, err)
	}
	var info store.Info
	switch x := r.(type) {
	case *store.Store:
		info = x.Info()
	case *tenant.Collection:
		if info, err = x.Info(); err != nil {
			return fail(e, err)
		}
	}
	js, _ := json.Marshal(info)
	return writeText(js, buf, n, needed)
}

//export oxv_store_snapshot
func oxv_store_snapshot(h C.oxv_handle, progressFlag *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	if !plausible(unsafe.Pointer(progressFlag)) {
		return fail(e, fmt.Errorf("%w: the flag is not a valid address", errs.InvalidArgument))
	}
	pctx, done := progressContext(progressFlag) // names the call; a snapshot is not canceled
	defer done()
	s, err := lookupStore(h)
	if err != nil {
		return fail(e, err)
	}
	if err := s.SnapshotReporting(progress.Only(pctx)); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_store_backup
func oxv_store_backup(h C.oxv_handle, dir *C.char, incremental C.int32_t, buf *C.char, n C.size_t, needed *C.size_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	s, err := lookupStore(h)
	if err != nil {
		return fail(e, err)
	}
	if dir == nil {
		return fail(e, fmt.Errorf("%w: dir must not be NULL", errs.InvalidArgument))
	}
	info, err := s.Backup(cstring(dir), incremental != 0)
	if err != nil {
		return fail(e, err)
	}
	js, _ := json.Marshal(map[string]any{"copied": info.Copied, "kept": info.Kept, "last_seq": info.LastSeq})
	return writeText(js, buf, n, needed)
}

//export oxv_store_restore
func oxv_store_restore(backup, path, options *C.char, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	if backup == nil || path == nil {
		return fail(e, fmt.Errorf("%w: backup and path must not be NULL", errs.InvalidArgument))
	}
	until, key, err := store.DecodeRestore(text(options))
	if err != nil {
		return fail(e, err)
	}
	if err := store.Restore(cstring(backup), cstring(path), until, key); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}
