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

	"github.com/oxvec/oxvec/core/calls"
	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/store"
	"github.com/oxvec/oxvec/core/tenant"
)

// records is what the store exports need of a store: a *store.Store, or a
// tenant's collection reached through a session (*tenant.Collection), whose
// every call is checked by the engine.
type records interface {
	Add(context.Context, store.Batch) error
	Upsert(context.Context, store.Batch) error
	Update(context.Context, store.Batch) error
	Delete(ctx context.Context, keys []string, where, whereDoc any) (int, error)
	Get(keys []string, where, whereDoc any, limit, offset int, inc store.Include) (*store.Rows, error)
	Search(context.Context, store.SearchRequest) (*store.Hits, error)
	Config() store.Config
}

var (
	_ records = (*store.Store)(nil)
	_ records = (*tenant.Collection)(nil)
)

func lookupRecords(h C.oxv_handle) (records, error) {
	v, err := value(h)
	if err != nil {
		return nil, err
	}
	switch r := v.(type) {
	case *store.Store:
		return r, nil
	case *tenant.Collection:
		return r, nil
	}
	return nil, fmt.Errorf("%w: handle %d is a %T, not a store or a collection", errHandle, uint64(h), v)
}

func lookupDatabase(h C.oxv_handle) (*tenant.Database, error) {
	v, err := value(h)
	if err != nil {
		return nil, err
	}
	db, ok := v.(*tenant.Database)
	if !ok {
		return nil, fmt.Errorf("%w: handle %d is a %T, not a database", errHandle, uint64(h), v)
	}
	return db, nil
}

func lookupSession(h C.oxv_handle) (*tenant.Session, error) {
	v, err := value(h)
	if err != nil {
		return nil, err
	}
	s, ok := v.(*tenant.Session)
	if !ok {
		return nil, fmt.Errorf("%w: handle %d is a %T, not a session", errHandle, uint64(h), v)
	}
	return s, nil
}

//export oxv_db_open
func oxv_db_open(path, options *C.char, out *C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	if path == nil || out == nil {
		return fail(e, fmt.Errorf("%w: path and out must not be NULL", errs.InvalidArgument))
	}
	opts, err := tenant.DecodeOpen(text(options))
	if err != nil {
		return fail(e, err)
	}
	db, err := tenant.Open(cstring(path), opts)
	if err != nil {
		return fail(e, err)
	}
	*out = newHandle(db)
	return C.OXV_OK
}

//export oxv_db_close
func oxv_db_close(h C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if _, err := lookupDatabase(h); err != nil {
		return fail(e, err)
	}
	v, err := deleteHandle(h)
	if err != nil {
		return fail(e, err)
	}
	if err := v.(*tenant.Database).Close(); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_db_admin
func oxv_db_admin(h C.oxv_handle, request *C.char, out *C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	if request == nil || out == nil {
		return fail(e, fmt.Errorf("%w: request and out must not be NULL", errs.InvalidArgument))
	}
	v, err := value(h)
	if err != nil {
		return fail(e, err)
	}
	var res any
	switch x := v.(type) {
	case *tenant.Database:
		res, err = x.Admin(nil, text(request))
	case *tenant.Session:
		res, err = x.Database().Admin(x, text(request))
	default:
		err = fmt.Errorf("%w: handle %d is a %T, not a database or a session", errHandle, uint64(h), v)
	}
	if err != nil {
		return fail(e, err)
	}
	if err := newResult(res, nil, out); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_db_set_clock
func oxv_db_set_clock(h C.oxv_handle, unixNS C.int64_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	db, err := lookupDatabase(h)
	if err != nil {
		return fail(e, err)
	}
	if unixNS <= 0 {
		db.SetClock(nil)
	} else {
		t := time.Unix(0, int64(unixNS))
		db.SetClock(func() time.Time { return t })
	}
	return C.OXV_OK
}

//export oxv_session_open
func oxv_session_open(db C.oxv_handle, apiKey *C.char, out *C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	d, err := lookupDatabase(db)
	if err != nil {
		return fail(e, err)
	}
	if apiKey == nil || out == nil {
		return fail(e, fmt.Errorf("%w: api_key and out must not be NULL", errs.InvalidArgument))
	}
	s, err := d.Session(cstring(apiKey))
	if err != nil {
		return fail(e, err)
	}
	*out = newHandle(s)
	return C.OXV_OK
}

//export oxv_session_close
func oxv_session_close(h C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if _, err := lookupSession(h); err != nil {
		return fail(e, err)
	}
	if _, err := deleteHandle(h); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_session_collection
func oxv_session_collection(h C.oxv_handle, name *C.char, out *C.oxv_handle, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	s, err := lookupSession(h)
	if err != nil {
		return fail(e, err)
	}
	if name == nil || out == nil {
		return fail(e, fmt.Errorf("%w: name and out must not be NULL", errs.InvalidArgument))
	}
	c, err := s.Collection(cstring(name))
	if err != nil {
		return fail(e, err)
	}
	*out = newHandle(c)
	return C.OXV_OK
}
