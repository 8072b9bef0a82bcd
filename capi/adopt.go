package main

/*
#define OXV_NO_PROTOTYPES
#include "oxvec.h"
*/
import "C"

import (
	"fmt"

	"github.com/oxvec/oxvec/core/calls"
	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/migrate"
	"github.com/oxvec/oxvec/core/store"
)

// adopt creates the store at storePath around a migrated index and closes
// it: the caller opens it as any store (which loads the snapshot Adopt
// wrote). Records without ids take the file's ids as strings.
func adopt(sl migrate.Slotted, storePath, options, records *C.char) error {
	opts, err := store.DecodeOpen(text(options))
	if err != nil {
		sl.Index.Close()
		return err
	}
	if opts.Create != nil {
		sl.Index.Close()
		return fmt.Errorf("%w: the store's dim, metric and index come from the file; give no create options", errs.InvalidArgument)
	}
	b, err := store.DecodeAdoptRecords(text(records))
	if err != nil {
		sl.Index.Close()
		return err
	}
	if b.Keys == nil {
		b.Keys = sl.Keys()
	}
	s, err := store.Adopt(cstring(storePath), opts, sl.Index, sl.Spec, sl.Slots, b)
	if err != nil {
		return err
	}
	return s.Close()
}

//export oxv_store_from_faiss
func oxv_store_from_faiss(path, storePath, options, records *C.char, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if path == nil || storePath == nil {
		return fail(e, fmt.Errorf("%w: path and store_path must not be NULL", errs.InvalidArgument))
	}
	calls.Start()
	defer calls.Done()
	sl, err := migrate.FaissSlottedFile(cstring(path))
	if err != nil {
		return fail(e, err)
	}
	if err := adopt(sl, storePath, options, records); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_store_from_hnswlib
func oxv_store_from_hnswlib(path, space *C.char, dim C.int64_t, storePath, options, records *C.char, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if path == nil || space == nil || storePath == nil {
		return fail(e, fmt.Errorf("%w: path, space and store_path must not be NULL", errs.InvalidArgument))
	}
	calls.Start()
	defer calls.Done()
	if dim < 1 || dim > 1<<20 {
		return fail(e, fmt.Errorf("%w: dim must be positive, got %d", errs.InvalidArgument, int64(dim)))
	}
	sl, err := migrate.HNSWLibSlottedFile(cstring(path), cstring(space), int(dim))
	if err != nil {
		return fail(e, err)
	}
	if err := adopt(sl, storePath, options, records); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_store_from_annoy
func oxv_store_from_annoy(path *C.char, dim C.int64_t, metric, storePath, options, records *C.char, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if path == nil || metric == nil || storePath == nil {
		return fail(e, fmt.Errorf("%w: path, metric and store_path must not be NULL", errs.InvalidArgument))
	}
	calls.Start()
	defer calls.Done()
	if dim < 1 || dim > 1<<20 {
		return fail(e, fmt.Errorf("%w: dim must be positive, got %d", errs.InvalidArgument, int64(dim)))
	}
	kind, err := migrate.AnnoyMetric(cstring(metric))
	if err != nil {
		return fail(e, err)
	}
	opts, err := store.DecodeOpen(text(options))
	if err != nil {
		return fail(e, err)
	}
	vecs, ids, err := migrate.AnnoyItemsFile(cstring(path), int(dim), cstring(metric))
	if err != nil {
		return fail(e, err)
	}
	b, err := store.DecodeAdoptRecords(text(records))
	if err != nil {
		return fail(e, err)
	}
	if b.Keys == nil {
		b.Keys = migrate.Slotted{Foreign: ids}.Keys()
	} else if len(b.Keys) != len(ids) {
		return fail(e, fmt.Errorf("%w: %d ids for the %d items of the file; give one per item, by item number", errs.InvalidArgument, len(b.Keys), len(ids)))
	}
	// the configured index (default flat) over Annoy's metric
	cfg := store.Config{}
	if opts.Create != nil {
		cfg = *opts.Create
	}
	cfg.Dim, cfg.Metric = int(dim), kind.String()
	opts.Create = &cfg
	b.Vectors = vecs
	s, err := store.CreateWith(cstring(storePath), opts, b)
	if err != nil {
		return fail(e, err)
	}
	if err := s.Close(); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}
