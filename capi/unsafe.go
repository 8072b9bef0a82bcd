package main

// The only place in capi that turns C pointers into Go values. Every slice
// made here aliases caller memory and must not outlive the call.

/*
#define OXV_NO_PROTOTYPES
#include "oxvec.h"
*/
import "C"

import (
	"sync/atomic"
	"unsafe"
)

// plausible rejects pointer values no mapping can have (Linux never maps the
// first 64 KiB), so a small integer passed by mistake is an error instead of
// a fatal "invalid pointer found on stack" in the Go runtime.
func plausible(p unsafe.Pointer) bool {
	return p == nil || uintptr(p) >= 1<<16
}

func floats(p *C.float, n int64) []float32 {
	if p == nil || n <= 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(p)), n)
}

func int64s(p *C.int64_t, n int64) []int64 {
	if p == nil || n <= 0 {
		return nil
	}
	return unsafe.Slice((*int64)(unsafe.Pointer(p)), n)
}

// cbytes views a caller's char buffer of len bytes.
func cbytes(p *C.char, n C.size_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}

// cstring copies a NUL-terminated C string.
func cstring(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// errorBuffer views the caller's oxv_error message buffer.
func errorBuffer(e *C.oxv_error) []byte {
	if e == nil {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&e.message[0])), C.OXV_ERROR_MESSAGE_SIZE)
}

// cancelRaised reads the caller's cancel flag; other threads write it.
func cancelRaised(p *C.int32_t) bool {
	return atomic.LoadInt32((*int32)(unsafe.Pointer(p))) != 0
}

func float64s(p *C.double, n int64) []float64 {
	if p == nil || n <= 0 {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(p)), n)
}

// floatsOf and bytesOf view untyped caller memory whose element type the
// metric decides (float32, or packed bits for hamming_bits).
func floatsOf(p unsafe.Pointer, n int64) []float32 { return floats((*C.float)(p), n) }

func bytesOf(p unsafe.Pointer, n int64) []byte {
	if p == nil || n <= 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), n)
}
