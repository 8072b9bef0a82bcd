//go:build cgo && !windows

package gpu

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

static void* oxv_dlopen(const char* path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }
static const char* oxv_dlerror(void) { const char* e = dlerror(); return e ? e : "unknown dlopen error"; }
static void* oxv_dlsym(void* h, const char* name) { return dlsym(h, name); }
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// library is a shared object opened with dlopen: nothing of CUDA is linked
// at build time, and nothing is opened before a GPU function is called.
type library struct {
	path   string
	handle unsafe.Pointer
}

// openLibrary dlopens path (a file, or a bare name the dynamic linker
// searches for).
func openLibrary(path string) (*library, error) {
	cs := C.CString(path)
	defer C.free(unsafe.Pointer(cs))
	h := C.oxv_dlopen(cs)
	if h == nil {
		return nil, fmt.Errorf("%s", C.GoString(C.oxv_dlerror()))
	}
	return &library{path: path, handle: h}, nil
}

// symbols looks up every name, failing on the first one missing: a library
// of another major version may lack entry points we declare.
func (l *library) symbols(names ...string) ([]unsafe.Pointer, error) {
	out := make([]unsafe.Pointer, len(names))
	for i, n := range names {
		cs := C.CString(n)
		out[i] = C.oxv_dlsym(l.handle, cs)
		C.free(unsafe.Pointer(cs))
		if out[i] == nil {
			return nil, fmt.Errorf("%s has no symbol %s", l.path, n)
		}
	}
	return out, nil
}
