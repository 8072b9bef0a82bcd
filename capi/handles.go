package main

/*
#define OXV_NO_PROTOTYPES
#include "oxvec.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"

	"github.com/oxvec/oxvec/core/index"
)

func newHandle(v any) C.oxv_handle { return C.oxv_handle(cgo.NewHandle(v)) }

// value resolves a handle; cgo.Handle panics on unknown values, which is
// turned into errHandle here.
func value(h C.oxv_handle) (v any, err error) {
	defer func() {
		if recover() != nil {
			v, err = nil, fmt.Errorf("%w: %d is not a live oxvec handle (freed already, or never returned by oxvec)", errHandle, uint64(h))
		}
	}()
	return cgo.Handle(h).Value(), nil
}

func lookupIndex(h C.oxv_handle) (index.Index, error) {
	v, err := value(h)
	if err != nil {
		return nil, err
	}
	idx, ok := v.(index.Index)
	if !ok {
		return nil, fmt.Errorf("%w: handle %d is a %T, not an index", errHandle, uint64(h), v)
	}
	return idx, nil
}

// deleteHandle releases h and returns what it referred to.
func deleteHandle(h C.oxv_handle) (v any, err error) {
	if v, err = value(h); err != nil {
		return nil, err
	}
	defer func() {
		if recover() != nil { // another thread freed it first
			v, err = nil, fmt.Errorf("%w: %d was freed twice", errHandle, uint64(h))
		}
	}()
	cgo.Handle(h).Delete()
	return v, nil
}
