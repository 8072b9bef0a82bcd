//go:build cgo && !windows

package gpu

/*
#include <stddef.h>
#include <stdlib.h>

// NVRTC's entry points, declared by hand from its documented signatures
// (nvrtcResult is an int enum; nvrtcProgram an opaque pointer).
typedef int (*nvrtc_version_t)(int*, int*);
typedef int (*nvrtc_create_t)(void**, const char*, const char*, int, const char* const*, const char* const*);
typedef int (*nvrtc_compile_t)(void*, int, const char* const*);
typedef int (*nvrtc_size_t)(void*, size_t*);
typedef int (*nvrtc_get_t)(void*, char*);
typedef int (*nvrtc_destroy_t)(void**);
typedef const char* (*nvrtc_error_t)(int);

static int oxv_nvrtc_version(void* f, int* major, int* minor) { return ((nvrtc_version_t)f)(major, minor); }
static int oxv_nvrtc_create(void* f, void** prog, const char* src, const char* name) { return ((nvrtc_create_t)f)(prog, src, name, 0, NULL, NULL); }
static int oxv_nvrtc_compile(void* f, void* prog, int n, const char* const* opts) { return ((nvrtc_compile_t)f)(prog, n, opts); }
static int oxv_nvrtc_size(void* f, void* prog, size_t* n) { return ((nvrtc_size_t)f)(prog, n); }
static int oxv_nvrtc_get(void* f, void* prog, char* buf) { return ((nvrtc_get_t)f)(prog, buf); }
static int oxv_nvrtc_destroy(void* f, void** prog) { return ((nvrtc_destroy_t)f)(prog); }
static const char* oxv_nvrtc_error(void* f, int rc) { return ((nvrtc_error_t)f)(rc); }
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"
)

// nvrtc is the loaded NVRTC library.
type nvrtc struct {
	lib                                                       *library
	version, create, compile, ptxSize, ptx, logSize, log, del unsafe.Pointer
	errorString                                               unsafe.Pointer
	major, minor                                              int
}

var nvrtcOnce struct {
	sync.Once
	n   *nvrtc
	err error
}

// searchDirs are extra folders to look for NVRTC in (the Python package
// adds the nvidia-cuda-nvrtc-cu12 wheel's lib folder). Set before the first
// GPU call.
var searchDirs []string

// SetSearchDirs adds folders in which NVRTC's library is looked for first.
func SetSearchDirs(dirs []string) { searchDirs = append([]string(nil), dirs...) }

// nvrtcCandidates lists where NVRTC may be, in order: $OXVEC_NVRTC (a file),
// the search folders, the nvidia-cuda-nvrtc wheel in $VIRTUAL_ENV, then the
// dynamic linker's own search (LD_LIBRARY_PATH, ld.so.cache) and the usual
// CUDA toolkit folder.
func nvrtcCandidates() []string {
	var out []string
	if p := os.Getenv("OXVEC_NVRTC"); p != "" {
		out = append(out, p)
	}
	names := []string{"libnvrtc.so.12", "libnvrtc.so.13"}
	dirs := append([]string(nil), searchDirs...)
	if v := os.Getenv("VIRTUAL_ENV"); v != "" {
		m, _ := filepath.Glob(filepath.Join(v, "lib", "python3*", "site-packages", "nvidia", "cuda_nvrtc", "lib"))
		dirs = append(dirs, m...)
		m, _ = filepath.Glob(filepath.Join(v, "lib", "python3*", "site-packages", "nvidia", "cu13", "lib"))
		dirs = append(dirs, m...)
	}
	for _, d := range dirs {
		for _, n := range names {
			out = append(out, filepath.Join(d, n))
		}
	}
	out = append(out, names...)
	out = append(out, "libnvrtc.so")
	for _, n := range names {
		out = append(out, filepath.Join("/usr/local/cuda/lib64", n))
	}
	return out
}

// loadNVRTC opens NVRTC once per process.
func loadNVRTC() (*nvrtc, error) {
	nvrtcOnce.Do(func() { nvrtcOnce.n, nvrtcOnce.err = openNVRTC() })
	return nvrtcOnce.n, nvrtcOnce.err
}

func openNVRTC() (*nvrtc, error) {
	var tried []string
	for _, c := range nvrtcCandidates() {
		if strings.Contains(c, "/") {
			if _, err := os.Stat(c); err != nil {
				continue
			}
		}
		lib, err := openLibrary(c)
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		s, err := lib.symbols("nvrtcVersion", "nvrtcCreateProgram", "nvrtcCompileProgram", "nvrtcGetPTXSize",
			"nvrtcGetPTX", "nvrtcGetProgramLogSize", "nvrtcGetProgramLog", "nvrtcDestroyProgram", "nvrtcGetErrorString")
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		n := &nvrtc{lib: lib, version: s[0], create: s[1], compile: s[2], ptxSize: s[3], ptx: s[4],
			logSize: s[5], log: s[6], del: s[7], errorString: s[8]}
		var major, minor C.int
		if rc := C.oxv_nvrtc_version(n.version, &major, &minor); rc != 0 {
			tried = append(tried, fmt.Sprintf("%s: nvrtcVersion failed (%d)", c, rc))
			continue
		}
		n.major, n.minor = int(major), int(minor)
		return n, nil
	}
	msg := "NVRTC (libnvrtc.so.12) not found: pip install nvidia-cuda-nvrtc-cu12, or set OXVEC_NVRTC to the library's path"
	if len(tried) > 0 {
		msg += " (" + strings.Join(tried, "; ") + ")"
	}
	return nil, unsupported("%s", msg)
}

func (n *nvrtc) fail(what string, rc C.int) error {
	return fmt.Errorf("%s: %s (nvrtc %d)", what, C.GoString(C.oxv_nvrtc_error(n.errorString, rc)), int(rc))
}

// compilePTX compiles Source for arch (e.g. "sm_80"; PTX is generated for
// the matching virtual architecture compute_80) and returns the PTX text.
func (n *nvrtc) compilePTX(arch string) (string, error) {
	virt, err := virtualArch(arch)
	if err != nil {
		return "", err
	}
	src, name := C.CString(Source), C.CString("oxvec_kernels.cu")
	defer C.free(unsafe.Pointer(src))
	defer C.free(unsafe.Pointer(name))
	var prog unsafe.Pointer
	if rc := C.oxv_nvrtc_create(n.create, &prog, src, name); rc != 0 {
		return "", n.fail("nvrtcCreateProgram", rc)
	}
	defer C.oxv_nvrtc_destroy(n.del, &prog)
	opts := []string{"--gpu-architecture=" + virt}
	copts := make([]*C.char, len(opts))
	for i, o := range opts {
		copts[i] = C.CString(o)
		defer C.free(unsafe.Pointer(copts[i]))
	}
	// a C array of the option pointers, in C memory: cgo forbids passing Go
	// memory that holds pointers
	arr := (**C.char)(C.malloc(C.size_t(len(copts)) * C.size_t(unsafe.Sizeof(copts[0]))))
	defer C.free(unsafe.Pointer(arr))
	copy(unsafe.Slice(arr, len(copts)), copts)
	if rc := C.oxv_nvrtc_compile(n.compile, prog, C.int(len(opts)), arr); rc != 0 {
		return "", fmt.Errorf("%w\n%s", n.fail("compiling the kernels for "+arch, rc), n.programLog(prog))
	}
	var size C.size_t
	if rc := C.oxv_nvrtc_size(n.ptxSize, prog, &size); rc != 0 {
		return "", n.fail("nvrtcGetPTXSize", rc)
	}
	buf := C.malloc(size + 1)
	defer C.free(buf)
	if rc := C.oxv_nvrtc_get(n.ptx, prog, (*C.char)(buf)); rc != 0 {
		return "", n.fail("nvrtcGetPTX", rc)
	}
	return C.GoStringN((*C.char)(buf), C.int(size)), nil
}

func (n *nvrtc) programLog(prog unsafe.Pointer) string {
	var size C.size_t
	if C.oxv_nvrtc_size(n.logSize, prog, &size) != 0 || size == 0 {
		return ""
	}
	buf := C.malloc(size + 1)
	defer C.free(buf)
	if C.oxv_nvrtc_get(n.log, prog, (*C.char)(buf)) != 0 {
		return ""
	}
	return C.GoString((*C.char)(buf))
}
