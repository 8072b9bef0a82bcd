// driver_shim.h: the CUDA driver entry points oxvec calls, declared by hand,
// and C shims that call them through dlsym'd pointers (Go cannot call a C
// function pointer). Included by driver.go and device.go.
#pragma once
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

// The CUDA driver API's entry points, declared by hand (CUresult is an int
// enum; CUdevice an int; CUdeviceptr a 64-bit integer; contexts, modules,
// functions and streams opaque pointers). The _v2 names are the ones the
// driver exports for the 64-bit signatures.
typedef unsigned long long oxv_dptr;
typedef int (*cu_init_t)(unsigned);
typedef int (*cu_int_t)(int*);
typedef int (*cu_device_get_t)(int*, int);
typedef int (*cu_device_name_t)(char*, int, int);
typedef int (*cu_device_attr_t)(int*, int, int);
typedef int (*cu_device_mem_t)(size_t*, int);
typedef int (*cu_ctx_retain_t)(void**, int);
typedef int (*cu_ctx_set_t)(void*);
typedef int (*cu_module_load_t)(void**, const void*);
typedef int (*cu_module_fn_t)(void**, void*, const char*);
typedef int (*cu_alloc_t)(oxv_dptr*, size_t);
typedef int (*cu_free_t)(oxv_dptr);
typedef int (*cu_htod_t)(oxv_dptr, const void*, size_t, void*);
typedef int (*cu_dtoh_t)(void*, oxv_dptr, size_t, void*);
typedef int (*cu_mem_info_t)(size_t*, size_t*);
typedef int (*cu_launch_t)(void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void*, void**, void**);
typedef int (*cu_stream_create_t)(void**, unsigned);
typedef int (*cu_stream_t)(void*);
typedef int (*cu_error_name_t)(int, const char**);

static int oxv_cu_init(void* f) { return ((cu_init_t)f)(0); }
static int oxv_cu_int(void* f, int* v) { return ((cu_int_t)f)(v); }
static int oxv_cu_device_get(void* f, int* dev, int ordinal) { return ((cu_device_get_t)f)(dev, ordinal); }
static int oxv_cu_device_name(void* f, char* buf, int n, int dev) { return ((cu_device_name_t)f)(buf, n, dev); }
static int oxv_cu_device_attr(void* f, int* v, int attr, int dev) { return ((cu_device_attr_t)f)(v, attr, dev); }
static int oxv_cu_device_mem(void* f, size_t* v, int dev) { return ((cu_device_mem_t)f)(v, dev); }
static int oxv_cu_ctx_retain(void* f, void** ctx, int dev) { return ((cu_ctx_retain_t)f)(ctx, dev); }
static int oxv_cu_ctx_set(void* f, void* ctx) { return ((cu_ctx_set_t)f)(ctx); }
static int oxv_cu_module_load(void* f, void** mod, const void* image) { return ((cu_module_load_t)f)(mod, image); }
static int oxv_cu_module_fn(void* f, void** fn, void* mod, const char* name) { return ((cu_module_fn_t)f)(fn, mod, name); }
static int oxv_cu_alloc(void* f, oxv_dptr* p, size_t n) { return ((cu_alloc_t)f)(p, n); }
static int oxv_cu_free(void* f, oxv_dptr p) { return ((cu_free_t)f)(p); }
static int oxv_cu_htod(void* f, oxv_dptr dst, const void* src, size_t n, void* s) { return ((cu_htod_t)f)(dst, src, n, s); }
static int oxv_cu_dtoh(void* f, void* dst, oxv_dptr src, size_t n, void* s) { return ((cu_dtoh_t)f)(dst, src, n, s); }
static int oxv_cu_mem_info(void* f, size_t* free, size_t* total) { return ((cu_mem_info_t)f)(free, total); }
static int oxv_cu_stream_create(void* f, void** s) { return ((cu_stream_create_t)f)(s, 1); } // CU_STREAM_NON_BLOCKING
static int oxv_cu_stream(void* f, void* s) { return ((cu_stream_t)f)(s); }
static const char* oxv_cu_error_name(void* f, int rc) { const char* s = 0; if (((cu_error_name_t)f)(rc, &s) != 0 || !s) return "CUDA_ERROR_UNKNOWN"; return s; }

// oxv_cu_launch launches fn with nargs arguments packed in args at 8-byte
// slots: cuLaunchKernel takes an array of pointers to each argument.
static int oxv_cu_launch(void* f, void* fn, unsigned gx, unsigned gy, unsigned bx, unsigned by, void* stream, char* args, int nargs) {
	void* params[16];
	if (nargs > 16) return 1; // CUDA_ERROR_INVALID_VALUE
	for (int i = 0; i < nargs; i++) params[i] = args + 8 * i;
	return ((cu_launch_t)f)(fn, gx, gy, 1, bx, by, 1, 0, stream, params, 0);
}
