// Command capi is the C ABI of the oxvec engine, built with
//
//	go build -buildmode=c-shared -o liboxvec.so ./capi
//
// It converts C pointers to Go slices (unsafe.go), maps engine errors onto
// status codes (status.go), guards every export with a deferred recover, and
// otherwise delegates to core/. oxvec.h documents the functions.
package main

/*
#define OXV_NO_PROTOTYPES
#include "oxvec.h"
*/
import "C"

// Every index type the library offers; each registers itself in init.
import (
	_ "github.com/oxvec/oxvec/core/binary"
	_ "github.com/oxvec/oxvec/core/flat"
	_ "github.com/oxvec/oxvec/core/hnsw"
	_ "github.com/oxvec/oxvec/core/ivf"
	_ "github.com/oxvec/oxvec/core/ivfpq"
	_ "github.com/oxvec/oxvec/core/opq"
	_ "github.com/oxvec/oxvec/core/pq"
	_ "github.com/oxvec/oxvec/core/sq"
)

// Version is the engine version reported by oxv_version.
const Version = "0.1.0"

func main() {}
