package main

/*
#define OXV_NO_PROTOTYPES
#include "oxvec.h"
*/
import "C"

import (
	"context"
	"sync"
	"unsafe"

	"github.com/oxvec/oxvec/core/progress"
)

// running maps the cancel flag of each long call in flight to its progress
// counter: the flag already names the call, so reading progress needs no
// new argument (oxv_progress). Calls sharing one flag share the first
// call's counter.
var running struct {
	sync.Mutex
	m map[uintptr]*progress.Counter
}

// progressContext is contextFor(flag) with a progress counter registered
// under the flag's address until done is called (deferred by the export).
// Without a flag there is nothing to name the call: no counter.
func progressContext(flag *C.int32_t) (ctx context.Context, done func()) {
	ctx = contextFor(flag)
	if flag == nil {
		return ctx, func() {}
	}
	key := uintptr(unsafe.Pointer(flag))
	running.Lock()
	defer running.Unlock()
	if running.m == nil {
		running.m = make(map[uintptr]*progress.Counter)
	}
	if c, ok := running.m[key]; ok { // another call on the same flag owns it
		return progress.With(ctx, c), func() {}
	}
	c := &progress.Counter{}
	running.m[key] = c
	return progress.With(ctx, c), func() {
		running.Lock()
		delete(running.m, key)
		running.Unlock()
	}
}

//export oxv_progress
func oxv_progress(cancel *C.int32_t, done, total *C.int64_t) C.int {
	if !plausible(unsafe.Pointer(cancel)) || !plausible(unsafe.Pointer(done)) || !plausible(unsafe.Pointer(total)) {
		return C.OXV_E_INVALID
	}
	var d, t int64
	if cancel != nil {
		running.Lock()
		c := running.m[uintptr(unsafe.Pointer(cancel))]
		running.Unlock()
		d, t = c.Read()
	}
	if done != nil {
		*done = C.int64_t(d)
	}
	if total != nil {
		*total = C.int64_t(t)
	}
	return C.OXV_OK
}
