/* abi_test.c - exercises the C ABI exactly as a C caller sees it: through
 * oxvec.h and the shared library, with no Go or Python in between.
 * Built and run by `make test`; exits non-zero on the first failed check. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oxvec.h"

static int failures = 0;
#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);             \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
            failures++;                                                      \
        }                                                                    \
    } while (0)

enum { D = 4, N = 1000, K = 5 };

static float base[N * D];

/* search is the request-struct call in the shape most tests want */
static int search(oxv_handle h, const float *q, int64_t nq, int64_t d, int64_t k,
                  int64_t *ids, float *dist, const volatile int32_t *cancel, oxv_error *err) {
    oxv_search_request r = {0};
    r.size = sizeof r;
    r.index = h;
    r.queries = q;
    r.nq = nq;
    r.dim = d;
    r.k = k;
    r.out_ids = ids;
    r.out_dist = dist;
    r.cancel = cancel;
    return oxv_index_search(&r, err);
}

static void test_exact_search(oxv_handle h) {
    /* the query equals row 123, so row 123 is the nearest at distance 0 */
    float q[D];
    memcpy(q, &base[123 * D], sizeof q);
    int64_t ids[K];
    float dist[K];
    oxv_error err;
    int rc = search(h, q, 1, D, K, ids, dist, NULL, &err);
    CHECK(rc == OXV_OK, "search rc=%d %s", rc, err.message);
    CHECK(ids[0] == 123 && dist[0] == 0.0f, "nearest is %lld at %g", (long long)ids[0], dist[0]);
    for (int i = 1; i < K; i++)
        CHECK(dist[i] >= dist[i - 1], "row not sorted at %d", i);
}

static void test_padding(void) {
    oxv_handle h = 0;
    oxv_error err;
    CHECK(oxv_index_new("{\"type\":\"flat\",\"dim\":2}", &h, &err) == OXV_OK, "new: %s", err.message);
    float v[2] = {1, 1}, q[2] = {0, 0};
    CHECK(oxv_index_add(h, v, 1, 2, NULL, NULL, NULL, &err) == OXV_OK, "add: %s", err.message);
    int64_t ids[3];
    float dist[3];
    CHECK(search(h, q, 1, 2, 3, ids, dist, NULL, &err) == OXV_OK, "search: %s", err.message);
    CHECK(ids[0] == 0 && dist[0] == 2.0f, "first result %lld %g", (long long)ids[0], dist[0]);
    CHECK(ids[1] == -1 && isinf(dist[1]) && ids[2] == -1 && isinf(dist[2]), "not padded");
    CHECK(oxv_index_free(h, &err) == OXV_OK, "free: %s", err.message);
}

/* range search: every row of a line 0, 1, 2, ... within a radius, first
 * into a buffer too small (only lims and needed come back), then again */
static void test_range_search(void) {
    oxv_handle h = 0;
    oxv_error err;
    CHECK(oxv_index_new("{\"type\":\"flat\",\"dim\":1}", &h, &err) == OXV_OK, "new: %s", err.message);
    float v[40], q[2] = {0, 39};
    for (int i = 0; i < 40; i++)
        v[i] = (float)i;
    CHECK(oxv_index_add(h, v, 40, 1, NULL, NULL, NULL, &err) == OXV_OK, "add: %s", err.message);
    int64_t ids[60], lims[3], needed = -1;
    float dist[60];
    oxv_search_request r = {0};
    r.size = sizeof r;
    r.index = h;
    r.queries = q;
    r.nq = 2;
    r.dim = 1;
    r.k = 10; /* room for 20 results: too few */
    r.out_ids = ids;
    r.out_dist = dist;
    int rc = oxv_index_range_search(&r, 600.0f, lims, &needed, &err); /* distance = squared l2: |i - q| <= 24 */
    CHECK(rc == OXV_OK && needed == 50 && lims[0] == 0 && lims[1] == 25 && lims[2] == 50,
          "range rc=%d needed=%lld lims %lld %lld %s", rc, (long long)needed, (long long)lims[1], (long long)lims[2], err.message);
    r.k = 30;
    rc = oxv_index_range_search(&r, 600.0f, lims, &needed, &err);
    CHECK(rc == OXV_OK && needed == 50 && ids[0] == 0 && ids[24] == 24 && ids[25] == 39 && dist[49] == 576.0f,
          "range rc=%d ids %lld %lld %lld %s", rc, (long long)ids[0], (long long)ids[24], (long long)ids[25], err.message);
    CHECK(oxv_index_free(h, &err) == OXV_OK, "free: %s", err.message);
}

static void test_errors(oxv_handle h) {
    oxv_error err;
    int64_t ids[K];
    float dist[K], q[D] = {0}, q3[3] = {0};
    int rc = search(h, q3, 1, 3, K, ids, dist, NULL, &err);
    CHECK(rc == OXV_E_DIMENSION && strstr(err.message, "dim 4"), "dim mismatch rc=%d msg=%s", rc, err.message);
    rc = search(h, q, 1, D, 0, ids, dist, NULL, &err);
    CHECK(rc == OXV_E_INVALID && strstr(err.message, "k must be"), "k=0 rc=%d msg=%s", rc, err.message);
    q[2] = NAN;
    rc = search(h, q, 1, D, K, ids, dist, NULL, &err);
    CHECK(rc == OXV_E_INVALID && strstr(err.message, "NaN"), "NaN rc=%d msg=%s", rc, err.message);
    int64_t dup = 7;
    rc = oxv_index_add(h, base, 1, D, &dup, NULL, NULL, &err);
    CHECK(rc == OXV_E_DUPLICATE, "duplicate id rc=%d msg=%s", rc, err.message);
    oxv_handle bogus = 0;
    rc = oxv_index_new("{\"type\":\"flat\",\"dim\":4,\"metrik\":\"l2\"}", &bogus, &err);
    CHECK(rc == OXV_E_INVALID && strstr(err.message, "metrik"), "misspelt field rc=%d msg=%s", rc, err.message);
    rc = oxv_index_new("{\"type\":\"nope\",\"dim\":4}", &bogus, &err);
    CHECK(rc == OXV_E_INVALID && strstr(err.message, "flat"), "unknown type rc=%d msg=%s", rc, err.message);
    int64_t n;
    rc = oxv_index_len((oxv_handle)987654321, &n, &err);
    CHECK(rc == OXV_E_HANDLE, "made-up handle rc=%d", rc);
    rc = oxv_index_len(h, &n, NULL); /* a NULL error buffer is allowed */
    CHECK(rc == OXV_OK && n == N, "len rc=%d n=%lld", rc, (long long)n);
}

/* GPU exports (capi/gpu.go): "auto" gives the CPU's answer wherever it
 * runs, "cuda" fails with OXV_E_UNSUPPORTED where no GPU is usable, and a
 * made-up device name is OXV_E_INVALID. */
static void test_gpu(void) {
    oxv_error err;
    char status[4096];
    size_t needed = 0;
    CHECK(oxv_gpu_status(status, sizeof status, &needed, &err) == OXV_OK && needed <= sizeof status, "gpu status: %s", err.message);
    int usable = strstr(status, "\"available\":true") != NULL;
    float x[2 * 3] = {0, 0, 0, 1, 2, 2}, out[4];
    int rc = oxv_gpu_pairwise("auto", "{\"metric\":\"euclidean\"}", x, 2, x, 2, 3, out, NULL, &err);
    CHECK(rc == OXV_OK && out[0] == 0 && out[1] == 3 && out[2] == 3 && out[3] == 0, "auto pairwise rc=%d %s", rc, err.message);
    rc = oxv_gpu_pairwise("cuda", "{\"metric\":\"euclidean\"}", x, 2, x, 2, 3, out, NULL, &err);
    CHECK(usable ? rc == OXV_OK : (rc == OXV_E_UNSUPPORTED && strlen(err.message) > 0), "cuda pairwise rc=%d %s", rc, err.message);
    rc = oxv_gpu_pairwise("tpu", "{\"metric\":\"euclidean\"}", x, 2, x, 2, 3, out, NULL, &err);
    CHECK(rc == OXV_E_INVALID, "device tpu rc=%d", rc);
}

static void test_distances(void) {
    oxv_error err;
    float x[2 * 3] = {0, 0, 0, 1, 2, 2}, out[4];
    int rc = oxv_pairwise("{\"metric\":\"euclidean\"}", x, 2, x, 2, 3, out, NULL, &err);
    CHECK(rc == OXV_OK && out[0] == 0 && out[1] == 3 && out[2] == 3 && out[3] == 0, "pairwise rc=%d %s", rc, err.message);
    rc = oxv_pairwise("{\"metric\":\"minkowski\",\"metric_params\":{\"p\":1}}", x, 2, x, 2, 3, out, NULL, &err);
    CHECK(rc == OXV_OK && out[1] == 5, "minkowski p=1 rc=%d out=%g %s", rc, out[1], err.message);
    rc = oxv_pairwise("{\"metric\":\"kl\"}", x, 2, x, 2, 3, out, NULL, &err);
    CHECK(rc == OXV_E_INVALID && strstr(err.message, "positive sum"), "kl of a zero row rc=%d %s", rc, err.message);
    int64_t ids[2];
    float dist[2];
    rc = oxv_knn("{\"metric\":\"l2\"}", x, 2, x + 3, 1, 3, 2, ids, dist, NULL, &err);
    CHECK(rc == OXV_OK && ids[0] == 1 && ids[1] == 0 && dist[1] == 9, "knn rc=%d %s", rc, err.message);
    unsigned char bits[2] = {0x0f, 0xff};
    rc = oxv_pairwise("{\"metric\":\"hamming_bits\"}", bits, 2, bits, 2, 1, out, NULL, &err);
    CHECK(rc == OXV_OK && out[1] == 4, "hamming_bits rc=%d out=%g", rc, out[1]);
    char cur[16], best[16];
    CHECK(oxv_simd_level(cur, best, sizeof cur) == OXV_OK && strlen(cur) > 0, "simd level");
    CHECK(oxv_set_simd_level("generic", &err) == OXV_OK, "set generic: %s", err.message);
    CHECK(oxv_set_simd_level("sse9", &err) == OXV_E_INVALID, "unknown level accepted");
    CHECK(oxv_set_simd_level(best, &err) == OXV_OK, "restore level: %s", err.message);
    char cat[8192];
    size_t needed = 0;
    CHECK(oxv_metrics(cat, sizeof cat, &needed, &err) == OXV_OK && strstr(cat, "mahalanobis") && needed <= sizeof cat, "metrics catalogue");
    /* monitoring (issue 21): the Prometheus families exist with no store open; no handle, no stats */
    char prom[16384];
    CHECK(oxv_metrics_text(prom, sizeof prom, &needed, &err) == OXV_OK && strstr(prom, "# TYPE oxvec_records gauge"), "metrics text: %s", err.message);
    CHECK(oxv_store_stats(0, NULL, prom, sizeof prom, &needed, &err) == OXV_E_HANDLE, "stats of no store");
    double vi[4];
    float samples[3 * 2] = {1, 2, 2, 1, 3, 5};
    CHECK(oxv_fit_mahalanobis(samples, 3, 2, 0.0, vi, &err) == OXV_OK && vi[0] > 0, "fit: %s", err.message);
}

static void test_hnsw_filter_and_mmap(void) {
    oxv_error err;
    oxv_handle h = 0;
    CHECK(oxv_index_new("{\"type\":\"hnsw\",\"dim\":4,\"m\":8}", &h, &err) == OXV_OK, "hnsw new: %s", err.message);
    CHECK(oxv_index_add(h, base, N, D, NULL, NULL, NULL, &err) == OXV_OK, "hnsw add: %s", err.message);
    int64_t allow[3] = {5, 500, 999};
    int64_t ids[3];
    float dist[3];
    oxv_search_request r = {0};
    r.size = sizeof r;
    r.index = h;
    r.queries = &base[500 * D];
    r.nq = 1;
    r.dim = D;
    r.k = 3;
    r.out_ids = ids;
    r.out_dist = dist;
    r.allow_ids = allow;
    r.n_allow_ids = 3;
    CHECK(oxv_index_search(&r, &err) == OXV_OK, "filtered search: %s", err.message);
    CHECK(ids[0] == 500 && dist[0] == 0, "filtered nearest %lld %g", (long long)ids[0], dist[0]);
    for (int i = 0; i < 3; i++)
        CHECK(ids[i] == 5 || ids[i] == 500 || ids[i] == 999, "id %lld is not allowed", (long long)ids[i]);
    /* search knobs: hnsw has ef, not nprobe, for a request and as a default */
    r.nprobe = 4;
    CHECK(oxv_index_search(&r, &err) == OXV_E_INVALID && strstr(err.message, "nprobe"), "nprobe accepted by hnsw: %s", err.message);
    r.nprobe = 0;
    CHECK(oxv_index_set_params(h, "{\"ef\":64}", &err) == OXV_OK, "set ef: %s", err.message);
    CHECK(oxv_index_set_params(h, "{\"nprobe\":4}", &err) == OXV_E_INVALID, "set nprobe on hnsw accepted");
    /* vectors back by id, into the caller's buffer; NULL out: presence only */
    float back[2 * D];
    int64_t which[2] = {500, 5};
    CHECK(oxv_index_vectors(h, which, 2, back, D, &err) == OXV_OK && memcmp(back, &base[500 * D], sizeof(float) * D) == 0 &&
              memcmp(&back[D], &base[5 * D], sizeof(float) * D) == 0, "vectors: %s", err.message);
    which[1] = N;
    CHECK(oxv_index_vectors(h, which, 2, NULL, D, &err) == OXV_E_NOT_FOUND && strstr(err.message, "1000"), "unknown id: %s", err.message);
    CHECK(oxv_index_vectors(h, which, 1, (float *)16, D, &err) == OXV_E_INVALID, "implausible output pointer accepted");
    CHECK(oxv_index_vectors(h, which, 1, back, D + 1, &err) == OXV_E_DIMENSION, "wrong row length accepted");
    char path[] = "/tmp/oxvec_abi_hnsw_XXXXXX";
    close(mkstemp(path));
    CHECK(oxv_index_save(h, path, &err) == OXV_OK, "hnsw save: %s", err.message);
    oxv_handle g = 0;
    CHECK(oxv_index_load(path, "{\"mmap\":true}", &g, &err) == OXV_OK, "hnsw mmap load: %s", err.message);
    r.index = g;
    r.allow_ids = NULL;
    r.n_allow_ids = 0;
    CHECK(oxv_index_search(&r, &err) == OXV_OK && dist[0] == 0, "search mapped: %s", err.message); /* rows repeat: any copy of row 500 */
    CHECK(oxv_index_load(path, "{\"mmapp\":true}", &g, &err) == OXV_E_INVALID, "misspelt option accepted");
    CHECK(oxv_index_compact(h, &err) == OXV_OK, "compact: %s", err.message);
    oxv_index_free(g, NULL);
    oxv_index_free(h, NULL);
    unlink(path);
}

static void test_request_size_is_checked(oxv_handle h) {
    oxv_search_request r = {0};
    r.size = 8; /* a caller built against an older, smaller struct */
    r.index = h;
    oxv_error err;
    int rc = oxv_index_search(&r, &err);
    CHECK(rc == OXV_E_INVALID && strstr(err.message, "size"), "short request rc=%d %s", rc, err.message);
    rc = oxv_index_search(NULL, &err);
    CHECK(rc == OXV_E_INVALID, "NULL request rc=%d", rc);
}

static void test_panics_are_errors(void) {
    oxv_error err;
    int rc = oxv_debug_panic(0, &err);
    CHECK(rc == OXV_E_INTERNAL && strstr(err.message, "deliberate"), "panic on caller rc=%d", rc);
    rc = oxv_debug_panic(1, &err);
    CHECK(rc == OXV_E_INTERNAL && strstr(err.message, "worker"), "panic in worker rc=%d", rc);
}

static void test_cancel(oxv_handle h) {
    volatile int32_t flag = 1; /* raised before the call: it must stop */
    enum { NQ = 2000 };
    float *q = calloc(NQ * D, sizeof(float));
    int64_t *ids = malloc(sizeof(int64_t) * NQ * K);
    float *dist = malloc(sizeof(float) * NQ * K);
    oxv_error err;
    int rc = search(h, q, NQ, D, K, ids, dist, &flag, &err);
    CHECK(rc == OXV_E_CANCELED, "canceled search rc=%d %s", rc, err.message);
    flag = 0;
    rc = search(h, q, NQ, D, K, ids, dist, &flag, &err);
    CHECK(rc == OXV_OK, "search with lowered flag rc=%d %s", rc, err.message);
    free(q), free(ids), free(dist);
}

static void test_save_load(oxv_handle h) {
    char path[] = "/tmp/oxvec_abi_test_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    oxv_error err;
    CHECK(oxv_index_save(h, path, &err) == OXV_OK, "save: %s", err.message);
    oxv_handle g = 0;
    CHECK(oxv_index_load(path, NULL, &g, &err) == OXV_OK, "load: %s", err.message);
    test_exact_search(g);
    char info[256];
    size_t needed = 0;
    CHECK(oxv_index_info(g, info, sizeof info, &needed, &err) == OXV_OK, "info: %s", err.message);
    CHECK(strstr(info, "\"type\":\"flat\"") && strstr(info, "\"len\":1000") && needed == strlen(info) + 1, "info %s", info);
    CHECK(oxv_index_free(g, &err) == OXV_OK, "free loaded: %s", err.message);
    /* a truncated file is a clear error */
    FILE *f = fopen(path, "r+");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    CHECK(truncate(path, size / 2) == 0, "truncate");
    int rc = oxv_index_load(path, NULL, &g, &err);
    CHECK(rc == OXV_E_CORRUPT, "truncated file rc=%d %s", rc, err.message);
    unlink(path);
    rc = oxv_index_load(path, NULL, &g, &err);
    CHECK(rc == OXV_E_NOT_FOUND, "missing file rc=%d %s", rc, err.message);
}

struct worker {
    oxv_handle h;
    int ok;
};

static void *search_loop(void *arg) {
    struct worker *w = arg;
    float q[D] = {0};
    int64_t ids[K];
    float dist[K];
    w->ok = 1;
    for (int i = 0; i < 200; i++)
        if (search(w->h, q, 1, D, K, ids, dist, NULL, NULL) != OXV_OK)
            w->ok = 0;
    return NULL;
}

static void test_threads(oxv_handle h) {
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i].h = h;
        pthread_create(&t[i], NULL, search_loop, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].ok, "thread %d saw a failed search", i);
    }
}

/* the admin call's result JSON, read into buf */
static int admin(oxv_handle h, const char *req, char *buf, size_t len, oxv_error *err) {
    oxv_handle r = 0;
    int rc = oxv_db_admin(h, req, &r, err);
    if (rc != OXV_OK)
        return rc;
    size_t needed = 0;
    int64_t nvec = 0;
    rc = oxv_result_json(r, buf, len, &needed, &nvec, err);
    oxv_result_free(r, err);
    return rc;
}

static void test_tenancy(void) {
    char dir[] = "/tmp/oxv-abi-tenancy-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    oxv_error err;
    oxv_handle db = 0, s = 0, c = 0;
    char buf[4096];
    CHECK(oxv_db_open(dir, "{\"key_cost_log2\":4,\"durability\":\"never\"}", &db, &err) == OXV_OK, "db open: %s", err.message);
    CHECK(admin(db, "{\"op\":\"create_tenant\",\"name\":\"a\",\"quota\":{\"max_vectors\":1}}", buf, sizeof buf, &err) == OXV_OK, "tenant: %s", err.message);
    CHECK(admin(db, "{\"op\":\"create_collection\",\"tenant\":\"a\",\"name\":\"docs\",\"dim\":4}", buf, sizeof buf, &err) == OXV_OK, "collection: %s", err.message);
    CHECK(admin(db, "{\"op\":\"create_api_key\",\"tenant\":\"a\",\"role\":\"writer\",\"name\":\"w\"}", buf, sizeof buf, &err) == OXV_OK, "key: %s", err.message);
    char key[256] = {0};
    const char *at = strstr(buf, "\"key\":\"");
    CHECK(at != NULL, "no key in %s", buf);
    if (at) {
        at += 7;
        size_t n = strcspn(at, "\"");
        memcpy(key, at, n < sizeof key - 1 ? n : sizeof key - 1);
    }
    CHECK(oxv_session_open(db, "oxv_0123456789abcdef_wrong", &s, &err) == OXV_E_PERMISSION, "a wrong key opened a session");
    CHECK(oxv_session_open(db, key, &s, &err) == OXV_OK, "session: %s", err.message);
    CHECK(oxv_session_collection(s, "docs", &c, &err) == OXV_OK, "collection: %s", err.message);
    oxv_handle none = 0;
    CHECK(oxv_session_collection(s, "other", &none, &err) == OXV_E_NOT_FOUND, "an unknown collection");
    float v[2 * D] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};
    CHECK(oxv_store_write(c, OXV_STORE_ADD, "{\"ids\":[\"x\"]}", v, 1, D, NULL, &err) == OXV_OK, "write: %s", err.message);
    int rc = oxv_store_write(c, OXV_STORE_ADD, "{\"ids\":[\"y\"]}", v + D, 1, D, NULL, &err);
    CHECK(rc == OXV_E_QUOTA && strstr(err.message, "limit=max_vectors use=1 limit_value=1"), "over quota rc=%d %s", rc, err.message);
    int64_t count = -1;
    CHECK(oxv_store_count(c, &count, &err) == OXV_OK && count == 1, "count %lld", (long long)count);
    CHECK(oxv_store_close(c, &err) == OXV_OK, "collection close: %s", err.message);
    CHECK(oxv_session_close(s, &err) == OXV_OK, "session close: %s", err.message);
    CHECK(oxv_db_close(db, &err) == OXV_OK, "db close: %s", err.message);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* migration (issue 24): a faiss file written and read back, then damaged */
static void test_migrate(oxv_handle h) {
    char path[] = "/tmp/oxvec_abi_migrate_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    oxv_error err;
    CHECK(oxv_migrate_to_faiss(h, path, &err) == OXV_OK, "to_faiss: %s", err.message);
    oxv_handle g = 0;
    CHECK(oxv_migrate_faiss(path, &g, &err) == OXV_OK, "from_faiss: %s", err.message);
    test_exact_search(g);
    CHECK(oxv_index_free(g, &err) == OXV_OK, "free migrated: %s", err.message);
    CHECK(truncate(path, 100) == 0, "truncate");
    int rc = oxv_migrate_faiss(path, &g, &err);
    CHECK(rc == OXV_E_CORRUPT, "truncated faiss file rc=%d %s", rc, err.message);
    FILE *f = fopen(path, "w");
    fwrite("IxHe\0\0\0\0", 1, 8, f);
    fclose(f);
    rc = oxv_migrate_faiss(path, &g, &err);
    CHECK(rc == OXV_E_UNSUPPORTED && strstr(err.message, "IxHe"), "unsupported fourcc rc=%d %s", rc, err.message);
    rc = oxv_migrate_hnswlib(path, "manhattan", 4, &g, &err);
    CHECK(rc == OXV_E_INVALID, "hnswlib space rc=%d %s", rc, err.message);
    unlink(path);
}

/* A store made from a faiss file (store from faiss, issue 24 item 4):
 * opened afterwards as any store; bad records and a taken directory are
 * refused with nothing left behind. */
static void test_store_from_faiss(oxv_handle h) {
    char file[] = "/tmp/oxvec_abi_adopt_XXXXXX";
    int fd = mkstemp(file);
    close(fd);
    char dir[] = "/tmp/oxvec_abi_adopt_dir_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char store[64];
    snprintf(store, sizeof store, "%s/s", dir);
    oxv_error err;
    CHECK(oxv_migrate_to_faiss(h, file, &err) == OXV_OK, "to_faiss: %s", err.message);
    int rc = oxv_store_from_faiss(file, store, NULL, "{\"documents\":[\"a\"]}", &err);
    CHECK(rc == OXV_E_INVALID && access(store, F_OK) != 0, "short documents rc=%d %s", rc, err.message);
    CHECK(oxv_store_from_faiss(file, store, NULL, NULL, &err) == OXV_OK, "store_from_faiss: %s", err.message);
    oxv_handle s = 0;
    CHECK(oxv_store_open(store, NULL, &s, &err) == OXV_OK, "open adopted: %s", err.message);
    int64_t n = 0;
    CHECK(oxv_store_count(s, &n, &err) == OXV_OK && n == N, "adopted count %lld", (long long)n);
    CHECK(oxv_store_close(s, &err) == OXV_OK, "close adopted: %s", err.message);
    rc = oxv_store_from_faiss(file, store, NULL, NULL, &err);
    CHECK(rc == OXV_E_INVALID, "adopt over a store rc=%d %s", rc, err.message);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    unlink(file);
}

int main(void) {
    char version[128];
    CHECK(oxv_abi_version() == OXV_ABI_VERSION, "ABI version %d, header %d", oxv_abi_version(), OXV_ABI_VERSION);
    CHECK(oxv_version(version, sizeof version) == OXV_OK && strlen(version) > 0, "version");
    oxv_error err;
    CHECK(oxv_set_num_threads(2, &err) == OXV_OK && oxv_get_num_threads() == 2, "threads");
    int32_t old_gc;
    CHECK(oxv_set_gc_percent(150, &old_gc, &err) == OXV_OK && old_gc == 100, "gc percent old=%d", old_gc);
    int64_t old_limit;
    CHECK(oxv_set_memory_limit(-1, &old_limit, &err) == OXV_OK && old_limit > 0, "memory limit");

    for (int i = 0; i < N * D; i++)
        base[i] = (float)((i * 7919) % 1000) / 1000.0f;
    oxv_handle h = 0;
    CHECK(oxv_index_new("{\"type\":\"flat\",\"dim\":4,\"metric\":\"l2\"}", &h, &err) == OXV_OK, "new: %s", err.message);
    int64_t assigned[N];
    CHECK(oxv_index_add(h, base, N, D, NULL, assigned, NULL, &err) == OXV_OK, "add: %s", err.message);
    CHECK(assigned[0] == 0 && assigned[N - 1] == N - 1, "assigned ids");

    test_exact_search(h);
    test_padding();
    test_range_search();
    test_errors(h);
    test_request_size_is_checked(h);
    test_distances();
    test_gpu();
    test_hnsw_filter_and_mmap();
    test_panics_are_errors();
    test_cancel(h);
    test_save_load(h);
    test_migrate(h);
    test_store_from_faiss(h);
    test_threads(h);
    test_tenancy();

    CHECK(oxv_calls_in_flight() == 0, "calls in flight after all returned: %lld", (long long)oxv_calls_in_flight());
    CHECK(oxv_index_free(h, &err) == OXV_OK, "free: %s", err.message);
    int rc = oxv_index_free(h, &err);
    CHECK(rc == OXV_E_HANDLE, "double free rc=%d", rc);
    int64_t n;
    rc = oxv_index_len(h, &n, &err);
    CHECK(rc == OXV_E_HANDLE && strstr(err.message, "freed"), "use after free rc=%d %s", rc, err.message);

    if (failures) {
        fprintf(stderr, "abi_test: %d check(s) failed\n", failures);
        return 1;
    }
    printf("abi_test: all checks passed\n");
    return 0;
}
