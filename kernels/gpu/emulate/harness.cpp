// harness: runs kernels/gpu/kernels.cu under cuda_emu.h with the launch
// shapes and the chunk loop of kernels/gpu/launch.go, for the Go tests
// (kernels/gpu/emulate_test.go). Arrays travel as raw little-endian files.
//
//   harness pairwise ORDER KIND P NX NY D X Y OUT
//   harness knn      ORDER KIND P NQ N D K QCHUNK BCHUNK Q B IDS DIST
//   harness assign   ORDER N KC D X C IDX DIST
//
// ORDER is fwd or rev: the order in which each block's threads run between
// two barriers. Exit status 2: bad usage or file; 3: the kernel broke a rule
// the emulator checks.
#include "cuda_emu.h"

#include "../kernels.cu"

#include <string>

static void die(const char* why, const char* what)
{
    std::fprintf(stderr, "harness: %s %s\n", why, what);
    std::exit(2);
}

template <typename T> static std::vector<T> slurp(const char* path, size_t n)
{
    std::vector<T> v(n);
    FILE* f = std::fopen(path, "rb");
    if (!f || std::fread(v.data(), sizeof(T), n, f) != n)
        die("cannot read", path);
    std::fclose(f);
    return v;
}

template <typename T> static void spill(const char* path, const std::vector<T>& v)
{
    FILE* f = std::fopen(path, "wb");
    if (!f || std::fwrite(v.data(), sizeof(T), v.size(), f) != v.size())
        die("cannot write", path);
    std::fclose(f);
}

static unsigned blocks(long long n, int per) { return (unsigned)((n + per - 1) / per); }

// pairwise launches oxv_pairwise over x (nx rows) and y (ny rows), writing
// rows of stride ld into out.
static void pairwise(int kind, float p, const float* x, int nx, const float* y, int ny, int d, float* out, long long ld)
{
    emu::launch(dim3(blocks(ny, PAIR_TILE), blocks(nx, PAIR_TILE)), dim3(PAIR_TILE, PAIR_TILE),
        [&] { oxv_pairwise(kind, p, x, nx, y, ny, d, out, ld); });
}

int main(int argc, char** argv)
{
    if (argc < 3)
        die("usage: harness pairwise|knn|assign fwd|rev ...", "");
    std::string cmd = argv[1];
    emu::reverse = std::string(argv[2]) == "rev";
    char** a = argv + 3;
    int na = argc - 3;
    if (cmd == "pairwise" && na == 8) {
        int kind = std::atoi(a[0]);
        float p = std::strtof(a[1], nullptr);
        int nx = std::atoi(a[2]), ny = std::atoi(a[3]), d = std::atoi(a[4]);
        auto x = slurp<float>(a[5], (size_t)nx * d);
        auto y = slurp<float>(a[6], (size_t)ny * d);
        std::vector<float> out((size_t)nx * ny);
        pairwise(kind, p, x.data(), nx, y.data(), ny, d, out.data(), ny);
        spill(a[7], out);
    } else if (cmd == "knn" && na == 12) {
        int kind = std::atoi(a[0]);
        float p = std::strtof(a[1], nullptr);
        int nq = std::atoi(a[2]), n = std::atoi(a[3]), d = std::atoi(a[4]), k = std::atoi(a[5]);
        int qc = std::atoi(a[6]), bc = std::atoi(a[7]);
        auto q = slurp<float>(a[8], (size_t)nq * d);
        auto b = slurp<float>(a[9], (size_t)n * d);
        std::vector<int> ids((size_t)nq * k);
        std::vector<float> dist((size_t)nq * k);
        std::vector<float> scratch((size_t)qc * bc);
        // the loop of launch.go's knn: query chunks, and per chunk the base
        // in blocks whose distances stay on the device
        for (int q0 = 0; q0 < nq; q0 += qc) {
            int qn = nq - q0 < qc ? nq - q0 : qc;
            for (int b0 = 0; b0 < n; b0 += bc) {
                int bn = n - b0 < bc ? n - b0 : bc;
                pairwise(kind, p, q.data() + (size_t)q0 * d, qn, b.data() + (size_t)b0 * d, bn, d, scratch.data(), bn);
                float* bd = dist.data() + (size_t)q0 * k;
                int* bi = ids.data() + (size_t)q0 * k;
                emu::launch(dim3(qn), dim3(SEL_THREADS),
                    [&] { oxv_topk(scratch.data(), qn, bn, bn, b0, k, b0 == 0, bd, bi); });
            }
        }
        spill(a[10], ids);
        spill(a[11], dist);
    } else if (cmd == "assign" && na == 7) {
        int n = std::atoi(a[0]), kc = std::atoi(a[1]), d = std::atoi(a[2]);
        auto x = slurp<float>(a[3], (size_t)n * d);
        auto c = slurp<float>(a[4], (size_t)kc * d);
        std::vector<int> idx(n);
        std::vector<float> dist(n);
        emu::launch(dim3(blocks(n, ASSIGN_ROWS)), dim3(ASSIGN_ROWS),
            [&] { oxv_assign(x.data(), n, c.data(), kc, d, idx.data(), dist.data()); });
        spill(a[5], idx);
        spill(a[6], dist);
    } else {
        die("unknown command or wrong argument count:", cmd.c_str());
    }
    std::fprintf(stderr, "harness: %lld barrier phases\n", emu::barriers);
    return 0;
}
