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

// Every index type the library offers (core/indexes registers them).
import _ "github.com/oxvec/oxvec/core/indexes"

// Version is the engine version reported by oxv_version.
const Version = "0.1.0"

func main() {}
