package main

/*
#define OXV_NO_PROTOTYPES
#include "oxvec.h"
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unsafe"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/monitor"
	"github.com/oxvec/oxvec/core/store"
	"github.com/oxvec/oxvec/core/tenant"
)

// statsOf reads a store's or a checked collection's statistics; flush
// first waits for the queued recall samples.
func statsOf(h C.oxv_handle, flush bool) (monitor.Stats, error) {
	r, err := lookupRecords(h)
	if err != nil {
		return monitor.Stats{}, err
	}
	switch x := r.(type) {
	case *store.Store:
		if flush {
			x.FlushRecall()
		}
		return x.Stats(), nil
	case *tenant.Collection:
		if flush {
			x.Store().FlushRecall()
		}
		return x.Stats()
	}
	return monitor.Stats{}, fmt.Errorf("%w: handle %d has no statistics", errHandle, uint64(h))
}

//export oxv_store_stats
func oxv_store_stats(h C.oxv_handle, options *C.char, buf *C.char, n C.size_t, needed *C.size_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	var opts struct {
		Flush bool `json:"flush"`
	}
	if b := text(options); len(b) > 0 {
		if err := strictJSON(b, &opts, "stats options"); err != nil {
			return fail(e, err)
		}
	}
	st, err := statsOf(h, opts.Flush)
	if err != nil {
		return fail(e, err)
	}
	js, err := json.Marshal(st)
	if err != nil {
		return fail(e, fmt.Errorf("%w: encoding stats: %v", errs.Internal, err))
	}
	return writeText(js, buf, n, needed)
}

//export oxv_store_health
func oxv_store_health(h C.oxv_handle, thresholds *C.char, buf *C.char, n C.size_t, needed *C.size_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	var t monitor.Thresholds
	if b := text(thresholds); len(b) > 0 {
		if err := strictJSON(b, &t, "health thresholds"); err != nil {
			return fail(e, err)
		}
	}
	st, err := statsOf(h, false)
	if err != nil {
		return fail(e, err)
	}
	hl, err := t.Check(st)
	if err != nil {
		return fail(e, fmt.Errorf("%w: %v", errs.InvalidArgument, err))
	}
	js, _ := json.Marshal(hl)
	return writeText(js, buf, n, needed)
}

//export oxv_metrics_text
func oxv_metrics_text(buf *C.char, n C.size_t, needed *C.size_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	return writeText(monitor.Prometheus(), buf, n, needed)
}

// strictJSON decodes an options object, refusing unknown fields.
func strictJSON(b []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %v", errs.InvalidArgument, what, err)
	}
	return nil
}

//export oxv_store_cache_report
func oxv_store_cache_report(h C.oxv_handle, level *C.char, counts *C.char, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if level == nil || counts == nil {
		return fail(e, fmt.Errorf("%w: level and counts must not be NULL", errs.InvalidArgument))
	}
	var l monitor.ExternalLevel
	if err := strictJSON(text(counts), &l, "cache counts"); err != nil {
		return fail(e, err)
	}
	name := cstring(level)
	if name == "" || name == "results" || len(name) > 64 {
		return fail(e, fmt.Errorf("%w: a cache level reported from outside needs a name of 1..64 bytes other than \"results\"", errs.InvalidArgument))
	}
	r, err := lookupRecords(h)
	if err != nil {
		return fail(e, err)
	}
	switch x := r.(type) {
	case *store.Store:
		x.Monitor().ReportLevel(name, l)
	case *tenant.Collection:
		x.Store().Monitor().ReportLevel(name, l)
	}
	return C.OXV_OK
}

//export oxv_store_explain
func oxv_store_explain(h C.oxv_handle, query *C.float, d C.int64_t, request *C.char, buf *C.char, n C.size_t, needed *C.size_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	r, err := lookupRecords(h)
	if err != nil {
		return fail(e, err)
	}
	q, _, err := store.DecodeQuery(text(request))
	if err != nil {
		return fail(e, err)
	}
	if q.IDs != nil || q.Limit != 0 || q.Offset != 0 {
		return fail(e, fmt.Errorf("%w: explain takes what a search takes (not ids, limit or offset)", errs.InvalidArgument))
	}
	if query != nil && (int(d) != r.Config().Dim || !plausible(unsafe.Pointer(query))) {
		return fail(e, fmt.Errorf("%w: the query must be one vector of the store's dim %d", errs.Dimension, r.Config().Dim))
	}
	req := store.SearchRequest{Texts: q.Texts, K: q.K, Where: q.Where, WhereDoc: q.WhereDocument, Ef: q.Ef, Rank: q.Ranking, Plan: q.Plan}
	var ex store.Explain
	switch x := r.(type) {
	case *store.Store:
		ex, err = x.Explain(req)
	case *tenant.Collection:
		ex, err = x.Explain(req)
	}
	if err != nil {
		return fail(e, err)
	}
	js, _ := json.Marshal(ex)
	return writeText(js, buf, n, needed)
}
