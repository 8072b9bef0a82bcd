// oxvec GPU kernels: pairwise distances, the distance-block half and the
// top-k half of exact k-NN, and k-means assignment.
//
// This file is compiled twice: at run time by NVRTC for the user's GPU
// (kernels/gpu/nvrtc.go), and as C++ on the CPU with emulate/cuda_emu.h in
// the tests, which runs every block's threads one after another, switching
// at each __syncthreads (kernels/gpu/emulate/README.md). For the emulation
// to be faithful the kernels keep to these rules:
//   - threads of a block talk only through static __shared__ arrays, and
//     only across a __syncthreads that every thread of the block reaches;
//   - no warp-level primitives (__shfl*, __ballot, warp-synchronous
//     reductions), no atomics, no dynamic (extern) shared memory;
//   - blocks never depend on each other within one launch;
//   - only built-ins the emulator defines: blockIdx, threadIdx, blockDim,
//     gridDim, __syncthreads, and the float math functions of <cmath>.
//
// Vectors arrive prepared by the host (core/metric.Prepare: unit length
// for cosine and angular, centred for correlation, ranks for spearman,
// sum 1 for kl and jensenshannon, square roots for hellinger and
// bhattacharyya, whitened for seuclidean and mahalanobis), so each metric
// here is its formula on prepared values, as in core/metric/pair.go. The
// metric codes are core/metric's Kind numbers.

#define OXV_L2 1
#define OXV_IP 2
#define OXV_COSINE 3
#define OXV_EUCLIDEAN 4
#define OXV_ANGULAR 5
#define OXV_MANHATTAN 6
#define OXV_CHEBYSHEV 7
#define OXV_MINKOWSKI 8
#define OXV_CANBERRA 9
#define OXV_BRAYCURTIS 10
#define OXV_CORRELATION 11
#define OXV_SPEARMAN 12
#define OXV_HAMMING 13
#define OXV_JACCARD 15
#define OXV_WEIGHTED_JACCARD 16
#define OXV_DICE 17
#define OXV_TANIMOTO 18
#define OXV_KL 19
#define OXV_JENSENSHANNON 20
#define OXV_HELLINGER 21
#define OXV_BHATTACHARYYA 22
#define OXV_CHISQUARE 23
#define OXV_MAHALANOBIS 24
#define OXV_SEUCLIDEAN 25

// Tile shapes. The host (kernels/gpu/launch.go) launches with the same
// numbers: PAIR_TILE x PAIR_TILE threads per pairwise block, SEL_THREADS
// per top-k block, ASSIGN_ROWS per assignment block.
#define PAIR_TILE 16
#define PAIR_DEPTH 16
#define SEL_THREADS 128
#define KMAX 256
#define ASSIGN_ROWS 128
#define ASSIGN_CENTROIDS 32
#define ASSIGN_DEPTH 32

#define OXV_INF (__int_as_float(0x7f800000))
#define OXV_PI 3.14159265358979323846f
#define OXV_NO_ID 0x7fffffff

// acc holds a pair's running sums: up to three, as tanimoto needs.
struct acc {
    float a, b, c;
};

__device__ __forceinline__ void acc_add(int kind, float p, acc* s, float x, float y)
{
    float diff = x - y;
    float ad = fabsf(diff);
    switch (kind) {
    case OXV_L2:
    case OXV_EUCLIDEAN:
    case OXV_SEUCLIDEAN:
    case OXV_MAHALANOBIS:
    case OXV_HELLINGER:
    case OXV_ANGULAR: // unit vectors: the chord, see acc_finish
        s->a += diff * diff;
        break;
    case OXV_IP:
    case OXV_COSINE:
    case OXV_CORRELATION:
    case OXV_SPEARMAN:
    case OXV_BHATTACHARYYA:
        s->a += x * y;
        break;
    case OXV_MANHATTAN:
        s->a += ad;
        break;
    case OXV_CHEBYSHEV:
        s->a = fmaxf(s->a, ad);
        break;
    case OXV_MINKOWSKI:
        s->a += powf(ad, p);
        break;
    case OXV_CANBERRA: {
        float den = fabsf(x) + fabsf(y);
        if (den > 0.0f)
            s->a += ad / den;
        break;
    }
    case OXV_BRAYCURTIS:
        s->a += ad;
        s->b += fabsf(x + y);
        break;
    case OXV_HAMMING:
        s->a += (x != y) ? 1.0f : 0.0f;
        break;
    case OXV_JACCARD:
    case OXV_DICE: {
        int bx = x != 0.0f, by = y != 0.0f;
        s->a += (bx && by) ? 1.0f : 0.0f;
        s->b += (bx || by) ? 1.0f : 0.0f;
        s->c += (bx != by) ? 1.0f : 0.0f;
        break;
    }
    case OXV_WEIGHTED_JACCARD:
        s->a += fminf(x, y);
        s->b += fmaxf(x, y);
        break;
    case OXV_TANIMOTO:
        s->a += x * y;
        s->b += x * x;
        s->c += y * y;
        break;
    case OXV_KL: // q == 0 < p gives log(inf): the divergence is +inf
        if (x > 0.0f)
            s->a += x * logf(x / y);
        break;
    case OXV_JENSENSHANNON: {
        float mid = 0.5f * (x + y);
        if (x > 0.0f)
            s->a += x * logf(x / mid);
        if (y > 0.0f)
            s->a += y * logf(y / mid);
        break;
    }
    case OXV_CHISQUARE: {
        float den = x + y;
        if (den > 0.0f)
            s->a += diff * diff / den;
        break;
    }
    }
}

// acc_finish turns a pair's sums into the metric's distance (FromL2,
// FromDot and the generic formulas of core/metric).
__device__ __forceinline__ float acc_finish(int kind, float p, const acc* s, int d)
{
    switch (kind) {
    case OXV_L2:
        return fmaxf(s->a, 0.0f);
    case OXV_EUCLIDEAN:
    case OXV_SEUCLIDEAN:
    case OXV_MAHALANOBIS:
        return sqrtf(fmaxf(s->a, 0.0f));
    case OXV_HELLINGER:
        return sqrtf(fmaxf(s->a, 0.0f) * 0.5f);
    case OXV_ANGULAR: // angle = 2 asin(|a-b|/2): well conditioned near 0, unlike acos
        return 2.0f * asinf(fminf(1.0f, 0.5f * sqrtf(fmaxf(s->a, 0.0f)))) / OXV_PI;
    case OXV_IP:
        return 1.0f - s->a;
    case OXV_COSINE:
    case OXV_CORRELATION:
    case OXV_SPEARMAN:
        return fmaxf(0.0f, 1.0f - s->a);
    case OXV_BHATTACHARYYA:
        if (s->a <= 0.0f)
            return OXV_INF; // disjoint supports
        return fmaxf(0.0f, -logf(fminf(1.0f, s->a)));
    case OXV_MINKOWSKI:
        return powf(s->a, 1.0f / p);
    case OXV_BRAYCURTIS:
        return s->b == 0.0f ? 0.0f : s->a / s->b;
    case OXV_HAMMING:
        return s->a / (float)d;
    case OXV_JACCARD:
    case OXV_DICE: {
        float den = kind == OXV_JACCARD ? s->b : 2.0f * s->a + s->c;
        return den == 0.0f ? 0.0f : s->c / den;
    }
    case OXV_WEIGHTED_JACCARD:
        return s->b == 0.0f ? 0.0f : 1.0f - s->a / s->b;
    case OXV_TANIMOTO: {
        float den = s->b + s->c - s->a;
        return den == 0.0f ? 0.0f : 1.0f - s->a / den;
    }
    case OXV_KL:
        return fmaxf(0.0f, s->a);
    case OXV_JENSENSHANNON:
        return sqrtf(fmaxf(0.0f, 0.5f * s->a));
    default: // manhattan, chebyshev, canberra, chisquare: the sum itself
        return s->a;
    }
}

// oxv_pairwise writes out[i*ld + j] = dist(x row i, y row j) for nx rows of
// x and ny rows of y (d values each). Block (bx, by) covers x rows
// by*PAIR_TILE.. and y rows bx*PAIR_TILE..; the block walks d in slices of
// PAIR_DEPTH, staging both tiles' slices in shared memory. Launch:
// grid (ceil(ny/PAIR_TILE), ceil(nx/PAIR_TILE)), block (PAIR_TILE, PAIR_TILE).
extern "C" __global__ void oxv_pairwise(int kind, float p, const float* x, int nx, const float* y, int ny,
    int d, float* out, long long ld)
{
    __shared__ float xs[PAIR_TILE][PAIR_DEPTH + 1];
    __shared__ float ys[PAIR_TILE][PAIR_DEPTH + 1];
    int tx = threadIdx.x, ty = threadIdx.y;
    int i = blockIdx.y * PAIR_TILE + ty; // x row of this thread's pair
    int j = blockIdx.x * PAIR_TILE + tx; // y row
    int xi = blockIdx.y * PAIR_TILE + tx; // the x row this thread stages
    acc s = { 0.0f, 0.0f, 0.0f };
    for (int k0 = 0; k0 < d; k0 += PAIR_DEPTH) {
        // thread (tx, ty) stages value k0+ty of x row xi and of y row j:
        // PAIR_TILE == PAIR_DEPTH, so each tile slice is one load a thread
        int k = k0 + ty;
        xs[tx][ty] = (xi < nx && k < d) ? x[(long long)xi * d + k] : 0.0f;
        ys[tx][ty] = (j < ny && k < d) ? y[(long long)j * d + k] : 0.0f;
        __syncthreads();
        int kn = d - k0 < PAIR_DEPTH ? d - k0 : PAIR_DEPTH;
        for (int kk = 0; kk < kn; kk++)
            acc_add(kind, p, &s, xs[ty][kk], ys[tx][kk]);
        __syncthreads();
    }
    if (i < nx && j < ny)
        out[(long long)i * ld + j] = acc_finish(kind, p, &s, d);
}

// before reports whether (da, ia) ranks ahead of (db, ib): by distance,
// then by row, so results do not depend on the schedule.
__device__ __forceinline__ int before(float da, int ia, float db, int ib)
{
    return da < db || (da == db && ia < ib);
}

// keep inserts (v, id) into the sorted list (ld, li) of *cnt <= k entries
// when it belongs to the k best.
__device__ __forceinline__ void keep(float* ld, int* li, int* cnt, int k, float v, int id)
{
    int n = *cnt;
    if (n == k && !before(v, id, ld[n - 1], li[n - 1]))
        return;
    int pos = n < k ? n : n - 1;
    while (pos > 0 && before(v, id, ld[pos - 1], li[pos - 1])) {
        ld[pos] = ld[pos - 1];
        li[pos] = li[pos - 1];
        pos--;
    }
    ld[pos] = v;
    li[pos] = id;
    if (n < k)
        *cnt = n + 1;
}

// oxv_topk merges one block of distances into each query's running k best:
// dist holds nq rows of nb distances (row stride ld) to base rows
// first_row.., and best_d/best_i the k best so far per query (ignored when
// fresh is set). One block per query: each thread keeps the k best of its
// share (its stripe of the block and of the old list), sorted; then k
// rounds emit the merged list: every thread publishes its head, all read
// the SEL_THREADS heads (broadcast reads of shared memory) and agree on
// the smallest, whose owner pops it. The heads alternate between two
// buffers, so one barrier a round suffices: a buffer is written again only
// after the barrier that follows everyone's reading of it.
// Launch: grid (nq), block (SEL_THREADS); k <= KMAX.
extern "C" __global__ void oxv_topk(const float* dist, int nq, int nb, long long ld, int first_row, int k,
    int fresh, float* best_d, int* best_i)
{
    __shared__ float hd[2][SEL_THREADS];
    __shared__ int hid[2][SEL_THREADS];
    int t = threadIdx.x;
    int q = blockIdx.x;
    float mine_d[KMAX];
    int mine_i[KMAX];
    int cnt = 0;
    float* bd = best_d + (long long)q * k;
    int* bi = best_i + (long long)q * k;
    if (!fresh)
        for (int r = t; r < k; r += SEL_THREADS)
            if (bi[r] >= 0)
                keep(mine_d, mine_i, &cnt, k, bd[r], bi[r]);
    const float* row = dist + (long long)q * ld;
    for (int j = t; j < nb; j += SEL_THREADS)
        keep(mine_d, mine_i, &cnt, k, row[j], first_row + j);
    __syncthreads(); // every thread has read the old list before it is overwritten
    int pos = 0;
    for (int r = 0; r < k; r++) {
        int b = r & 1;
        hd[b][t] = pos < cnt ? mine_d[pos] : OXV_INF;
        hid[b][t] = pos < cnt ? mine_i[pos] : OXV_NO_ID;
        __syncthreads();
        int win = 0;
        for (int u = 1; u < SEL_THREADS; u++)
            if (before(hd[b][u], hid[b][u], hd[b][win], hid[b][win]))
                win = u;
        if (t == 0) {
            bd[r] = hd[b][win];
            bi[r] = hid[b][win] == OXV_NO_ID ? -1 : hid[b][win];
        }
        if (t == win && pos < cnt)
            pos++;
    }
}

// oxv_assign writes each row's nearest centroid by squared euclidean
// distance (ties: the lower centroid) and that distance: k-means'
// assignment step. One thread per row; the block stages ASSIGN_CENTROIDS
// centroids' slices of ASSIGN_DEPTH values at a time in shared memory.
// Launch: grid (ceil(n/ASSIGN_ROWS)), block (ASSIGN_ROWS).
extern "C" __global__ void oxv_assign(const float* x, int n, const float* c, int kc, int d, int* out_i,
    float* out_d)
{
    __shared__ float cs[ASSIGN_CENTROIDS][ASSIGN_DEPTH];
    int t = threadIdx.x;
    int row = blockIdx.x * ASSIGN_ROWS + t;
    const float* xr = x + (long long)(row < n ? row : 0) * d;
    float best = OXV_INF;
    int besti = -1;
    for (int c0 = 0; c0 < kc; c0 += ASSIGN_CENTROIDS) {
        float part[ASSIGN_CENTROIDS];
        for (int a = 0; a < ASSIGN_CENTROIDS; a++)
            part[a] = 0.0f;
        for (int k0 = 0; k0 < d; k0 += ASSIGN_DEPTH) {
            for (int e = t; e < ASSIGN_CENTROIDS * ASSIGN_DEPTH; e += ASSIGN_ROWS) {
                int a = e / ASSIGN_DEPTH, k = k0 + e % ASSIGN_DEPTH;
                cs[a][e % ASSIGN_DEPTH] = (c0 + a < kc && k < d) ? c[(long long)(c0 + a) * d + k] : 0.0f;
            }
            __syncthreads();
            int kn = d - k0 < ASSIGN_DEPTH ? d - k0 : ASSIGN_DEPTH;
            for (int kk = 0; kk < kn; kk++) {
                float v = xr[k0 + kk];
                for (int a = 0; a < ASSIGN_CENTROIDS; a++) {
                    float diff = v - cs[a][kk];
                    part[a] += diff * diff;
                }
            }
            __syncthreads();
        }
        for (int a = 0; a < ASSIGN_CENTROIDS && c0 + a < kc; a++)
            if (part[a] < best) {
                best = part[a];
                besti = c0 + a;
            }
    }
    if (row < n) {
        out_i[row] = besti;
        out_d[row] = best;
    }
}
