// cuda_emu.h: just enough of CUDA to run kernels/gpu/kernels.cu as C++ on
// the CPU, so the kernels' logic is tested where no GPU is (README.md).
//
// A launch runs the grid's blocks one after another. Within a block every
// thread is a fiber with its own stack; the scheduler runs each
// fiber until it reaches __syncthreads or returns, then the next: a serial
// schedule split at the barriers. __shared__ becomes static, one copy that
// the block's fibers share, which is what shared memory is while blocks run
// one at a time. The scheduler checks what CUDA leaves undefined: a barrier
// that some threads of a block reach while others have returned aborts the
// run. Running the threads of each phase in reverse order too (emu::reverse)
// exposes code whose result depends on the order of threads between two
// barriers (a race on the GPU): the tests compare both schedules bit for bit.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>
#include <csetjmp>
#include <ucontext.h>

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace emu {

// A fiber starts once per launch through ucontext; after that every switch
// is a _setjmp/_longjmp pair, which, unlike swapcontext, makes no system
// call for the signal mask.
struct fiber {
    ucontext_t ctx;
    jmp_buf jb;
    bool started;
    int state; // 0 runnable, 1 waiting at a barrier, 2 returned
};

inline dim3 block_idx, thread_idx, block_dim, grid_dim;
inline ucontext_t scheduler_ctx;
inline jmp_buf scheduler;
inline fiber* current;
inline const std::function<void()>* body;
inline bool reverse = false;
inline long long barriers = 0; // barrier phases run, for the tests' report
const size_t stack_size = 64 << 10;

inline void fail(const char* why)
{
    std::fprintf(stderr, "cuda_emu: %s (block %u,%u,%u)\n", why, block_idx.x, block_idx.y, block_idx.z);
    std::exit(3);
}

// trampoline is a fiber's whole life: the kernel body once per block of
// the launch, parking in between.
inline void trampoline()
{
    for (;;) {
        (*body)();
        current->state = 2;
        if (!_setjmp(current->jb))
            _longjmp(scheduler, 1);
    }
}

inline void syncthreads()
{
    current->state = 1;
    if (!_setjmp(current->jb))
        _longjmp(scheduler, 1);
}

inline void resume(fiber& f)
{
    current = &f;
    if (_setjmp(scheduler))
        return; // the fiber reached a barrier or returned
    if (f.started)
        _longjmp(f.jb, 1);
    f.started = true;
    swapcontext(&scheduler_ctx, &f.ctx);
    fail("a fiber left without a barrier or a return");
}

// launch runs kernel (a call of the kernel with its arguments) over grid x block.
inline void launch(dim3 grid, dim3 block, const std::function<void()>& kernel)
{
    size_t nt = (size_t)block.x * block.y * block.z;
    if (nt == 0 || nt > 1024)
        fail("a block needs 1 to 1024 threads");
    static std::vector<char> stacks;
    static std::vector<fiber> fibers;
    stacks.resize(nt * stack_size);
    fibers.resize(nt);
    grid_dim = grid;
    block_dim = block;
    body = &kernel;
    for (size_t t = 0; t < nt; t++) {
        fiber& f = fibers[t];
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = &stacks[t * stack_size];
        f.ctx.uc_stack.ss_size = stack_size;
        f.ctx.uc_link = nullptr;
        makecontext(&f.ctx, trampoline, 0);
        f.started = false;
    }
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                block_idx = dim3(bx, by, bz);
                for (size_t t = 0; t < nt; t++)
                    fibers[t].state = 0;
                for (;;) {
                    for (size_t n = 0; n < nt; n++) {
                        size_t t = reverse ? nt - 1 - n : n;
                        fiber& f = fibers[t];
                        if (f.state == 2)
                            continue;
                        f.state = 0;
                        thread_idx = dim3(t % block.x, t / block.x % block.y, t / block.x / block.y);
                        resume(f);
                    }
                    size_t done = 0;
                    for (size_t t = 0; t < nt; t++)
                        done += fibers[t].state == 2;
                    if (done == nt)
                        break;
                    if (done != 0)
                        fail("__syncthreads reached by some threads of a block while others returned");
                    barriers++;
                }
            }
}

} // namespace emu

#define blockIdx (emu::block_idx)
#define threadIdx (emu::thread_idx)
#define blockDim (emu::block_dim)
#define gridDim (emu::grid_dim)
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __syncthreads() emu::syncthreads()

inline float __int_as_float(int i)
{
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
}
