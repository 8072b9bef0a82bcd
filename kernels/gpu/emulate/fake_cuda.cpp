// fake_cuda.cpp: a stand-in libcuda.so.1 that runs oxvec's kernels under
// cuda_emu.h, so the engine's whole device path - driver loading, module
// load, memory plan and chunking, copies, argument packing, launches - is
// exercised on machines without a GPU. Built by the tests
// (kernels/gpu/devicetest, tests/test_gpu.py) and loaded through the
// OXVEC_LIBCUDA test hook; never shipped.
//
// It is stricter than a driver where that catches host bugs: copies must
// stay inside one allocation, launches must use the block shapes the
// kernels are written for, and device memory is small ($OXVEC_FAKE_CUDA_MEM
// bytes, default 256 KiB) so that inputs are streamed in many chunks.
// "Device pointers" are host addresses.
#include "cuda_emu.h"

#include "../kernels.cu"

#include <cstdint>
#include <map>
#include <string>

namespace {

std::map<uintptr_t, size_t> allocations;
size_t used = 0;

size_t capacity()
{
    const char* s = std::getenv("OXVEC_FAKE_CUDA_MEM");
    return s ? (size_t)std::strtoull(s, nullptr, 10) : (size_t)256 << 10;
}

// inside reports whether [p, p+n) lies in one allocation.
bool inside(uintptr_t p, size_t n)
{
    auto it = allocations.upper_bound(p);
    if (it == allocations.begin())
        return false;
    --it;
    return p >= it->first && p + n <= it->first + it->second;
}

const int ok = 0, invalid_value = 1, out_of_memory = 2, invalid_image = 200, not_found = 500, invalid_device = 101;

template <typename T> T arg(void** params, int i) { return *(T*)params[i]; }

} // namespace

extern "C" {

int cuInit(unsigned) { return ok; }
int cuDriverGetVersion(int* v) { *v = 12080; return ok; }
int cuDeviceGetCount(int* n) { *n = 1; return ok; }
int cuDeviceGet(int* d, int ordinal) { if (ordinal != 0) return invalid_device; *d = 0; return ok; }
int cuDeviceGetName(char* buf, int n, int) { std::snprintf(buf, n, "oxvec emulated device"); return ok; }
int cuDeviceGetAttribute(int* v, int attr, int)
{
    *v = attr == 75 ? 8 : attr == 76 ? 0 : attr == 16 ? 1 : 0; // sm_80, one multiprocessor
    return ok;
}
int cuDeviceTotalMem_v2(size_t* m, int) { *m = capacity(); return ok; }
int cuDevicePrimaryCtxRetain(void** ctx, int) { *ctx = (void*)0x1000; return ok; }
int cuCtxSetCurrent(void* ctx) { return ctx == (void*)0x1000 ? ok : invalid_value; }
int cuModuleLoadData(void** mod, const void* image)
{
    // the engine must hand over the PTX NVRTC made, every kernel in it
    const char* s = (const char*)image;
    for (const char* k : { ".entry oxv_pairwise(", ".entry oxv_topk(", ".entry oxv_assign(" })
        if (!std::strstr(s, k))
            return invalid_image;
    *mod = (void*)0x2000;
    return ok;
}
int cuModuleGetFunction(void** fn, void*, const char* name)
{
    static const char* names[] = { "oxv_pairwise", "oxv_topk", "oxv_assign" };
    for (int i = 0; i < 3; i++)
        if (std::strcmp(name, names[i]) == 0) {
            *fn = (void*)(uintptr_t)(i + 1);
            return ok;
        }
    return not_found;
}
int cuMemAlloc_v2(unsigned long long* p, size_t n)
{
    if (n == 0)
        return invalid_value;
    if (used + n > capacity())
        return out_of_memory;
    void* m = std::malloc(n);
    allocations[(uintptr_t)m] = n;
    used += n;
    *p = (uintptr_t)m;
    return ok;
}
int cuMemFree_v2(unsigned long long p)
{
    auto it = allocations.find((uintptr_t)p);
    if (it == allocations.end())
        return invalid_value;
    used -= it->second;
    std::free((void*)it->first);
    allocations.erase(it);
    return ok;
}
int cuMemcpyHtoDAsync_v2(unsigned long long dst, const void* src, size_t n, void*)
{
    if (!inside(dst, n))
        return invalid_value;
    std::memcpy((void*)dst, src, n);
    return ok;
}
int cuMemcpyDtoHAsync_v2(void* dst, unsigned long long src, size_t n, void*)
{
    if (!inside(src, n))
        return invalid_value;
    std::memcpy(dst, (void*)src, n);
    return ok;
}
int cuMemGetInfo_v2(size_t* free, size_t* total)
{
    *free = capacity() - used;
    *total = capacity();
    return ok;
}
int cuStreamCreate(void** s, unsigned) { *s = (void*)0x3000; return ok; }
int cuStreamSynchronize(void*) { return ok; }
int cuStreamDestroy_v2(void*) { return ok; }
int cuGetErrorName(int rc, const char** s)
{
    *s = rc == out_of_memory ? "CUDA_ERROR_OUT_OF_MEMORY" : rc == invalid_value ? "CUDA_ERROR_INVALID_VALUE" : "CUDA_ERROR_FAKE";
    return ok;
}

int cuLaunchKernel(void* fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
    unsigned shared, void* stream, void** params, void** extra)
{
    if (gz != 1 || bz != 1 || shared != 0 || extra != nullptr || gx == 0 || gy == 0)
        return invalid_value;
    switch ((uintptr_t)fn) {
    case 1: { // oxv_pairwise(kind, p, x, nx, y, ny, d, out, ld)
        if (bx != PAIR_TILE || by != PAIR_TILE)
            return invalid_value;
        int kind = arg<int>(params, 0), nx = arg<int>(params, 3), ny = arg<int>(params, 5), d = arg<int>(params, 6);
        float p = arg<float>(params, 1);
        auto x = (const float*)arg<uintptr_t>(params, 2);
        auto y = (const float*)arg<uintptr_t>(params, 4);
        auto out = (float*)arg<uintptr_t>(params, 7);
        long long ld = arg<long long>(params, 8);
        if (!inside((uintptr_t)x, 4ull * nx * d) || !inside((uintptr_t)y, 4ull * ny * d)
            || !inside((uintptr_t)out, 4ull * ((nx - 1) * ld + ny)) || gx * PAIR_TILE < (unsigned)ny || gy * PAIR_TILE < (unsigned)nx)
            return invalid_value;
        emu::launch(dim3(gx, gy), dim3(bx, by), [&] { oxv_pairwise(kind, p, x, nx, y, ny, d, out, ld); });
        return ok;
    }
    case 2: { // oxv_topk(dist, nq, nb, ld, first_row, k, fresh, best_d, best_i)
        if (bx != SEL_THREADS || by != 1)
            return invalid_value;
        auto dist = (const float*)arg<uintptr_t>(params, 0);
        int nq = arg<int>(params, 1), nb = arg<int>(params, 2), first = arg<int>(params, 4), k = arg<int>(params, 5);
        long long ld = arg<long long>(params, 3);
        int fresh = arg<int>(params, 6);
        auto bd = (float*)arg<uintptr_t>(params, 7);
        auto bi = (int*)arg<uintptr_t>(params, 8);
        if (k < 1 || k > KMAX || gx != (unsigned)nq || gy != 1 || !inside((uintptr_t)dist, 4ull * ((nq - 1) * ld + nb))
            || !inside((uintptr_t)bd, 4ull * nq * k) || !inside((uintptr_t)bi, 4ull * nq * k))
            return invalid_value;
        emu::launch(dim3(gx), dim3(bx), [&] { oxv_topk(dist, nq, nb, ld, first, k, fresh, bd, bi); });
        return ok;
    }
    case 3: { // oxv_assign(x, n, c, kc, d, out_i, out_d)
        if (bx != ASSIGN_ROWS || by != 1)
            return invalid_value;
        auto x = (const float*)arg<uintptr_t>(params, 0);
        int n = arg<int>(params, 1), kc = arg<int>(params, 3), d = arg<int>(params, 4);
        auto c = (const float*)arg<uintptr_t>(params, 2);
        auto oi = (int*)arg<uintptr_t>(params, 5);
        auto od = (float*)arg<uintptr_t>(params, 6);
        if (!inside((uintptr_t)x, 4ull * n * d) || !inside((uintptr_t)c, 4ull * kc * d) || !inside((uintptr_t)oi, 4ull * n)
            || !inside((uintptr_t)od, 4ull * n) || gx * ASSIGN_ROWS < (unsigned)n)
            return invalid_value;
        emu::launch(dim3(gx), dim3(bx), [&] { oxv_assign(x, n, c, kc, d, oi, od); });
        return ok;
    }
    }
    return not_found;
}

} // extern "C"
