package main

/*
#define OXV_NO_PROTOTYPES
#include "oxvec.h"
*/
import "C"

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/parallel"
)

// errHandle: a freed, unknown or wrong-kind handle; the ABI's own error
// class, beside the engine's (core/errs).
var errHandle = errors.New("invalid handle")

// codes maps each error class onto its status code, one to one.
var codes = []struct {
	class error
	code  C.int
}{
	{errs.InvalidArgument, C.OXV_E_INVALID},
	{errs.Dimension, C.OXV_E_DIMENSION},
	{errs.DuplicateID, C.OXV_E_DUPLICATE},
	{errs.NotFound, C.OXV_E_NOT_FOUND},
	{errs.IO, C.OXV_E_IO},
	{errs.Corrupt, C.OXV_E_CORRUPT},
	{errs.Unsupported, C.OXV_E_UNSUPPORTED},
	{errs.Canceled, C.OXV_E_CANCELED},
	{errs.Closed, C.OXV_E_CLOSED},
	{errs.State, C.OXV_E_STATE},
	{errHandle, C.OXV_E_HANDLE},
	{errs.NoMemory, C.OXV_E_NOMEM},
	{errs.Internal, C.OXV_E_INTERNAL},
	{errs.PermissionDenied, C.OXV_E_PERMISSION},
	{errs.QuotaExceeded, C.OXV_E_QUOTA},
	{errs.RateLimited, C.OXV_E_RATE},
}

// fail writes err's text into the caller's error buffer and returns its
// status code. An error of no known class is an engine bug: OXV_E_INTERNAL.
func fail(e *C.oxv_error, err error) C.int {
	msg := err.Error()
	for _, c := range codes {
		if errors.Is(err, c.class) {
			// the status code names the class; the text says the rest
			writeMessage(e, strings.TrimPrefix(msg, c.class.Error()+": "))
			return c.code
		}
	}
	writeMessage(e, msg)
	return C.OXV_E_INTERNAL
}

// writeMessage copies msg into the error buffer, truncated and
// NUL-terminated.
func writeMessage(e *C.oxv_error, msg string) {
	buf := errorBuffer(e)
	if len(buf) == 0 {
		return
	}
	n := copy(buf[:len(buf)-1], msg)
	buf[n] = 0
}

// recoverInto is deferred first by every export: a panic becomes
// OXV_E_INTERNAL with its stack in the message, never a crash of the caller.
func recoverInto(rc *C.int, e *C.oxv_error) {
	if r := recover(); r != nil {
		*rc = fail(e, parallel.PanicError(r))
	}
}

// flagContext is a context canceled by the caller's int32 flag. The engine
// polls Err (it never selects on Done), so no goroutine watches the flag.
type flagContext struct{ flag *C.int32_t }

func (c flagContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c flagContext) Done() <-chan struct{}       { return nil }
func (c flagContext) Value(any) any               { return nil }
func (c flagContext) Err() error {
	if cancelRaised(c.flag) {
		return context.Canceled
	}
	return nil
}

func contextFor(flag *C.int32_t) context.Context {
	if flag == nil {
		return context.Background()
	}
	return flagContext{flag}
}
