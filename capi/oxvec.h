/*
 * oxvec.h - the C ABI of the oxvec vector search engine.
 *
 * Written by hand; the Go files of capi/ implement exactly these
 * functions and python/oxvec/_capi.py mirrors them one to one.
 *
 * Conventions
 * -----------
 * - Objects are opaque handles (oxv_handle). A handle is valid from the call
 *   that returns it until its *_free call. Using a freed or made-up handle is
 *   not undefined behaviour: the call returns OXV_E_HANDLE.
 * - Every call that can fail returns an int status: OXV_OK (0) or a negative
 *   OXV_E_* class. Results travel through out-pointers.
 * - Error text: every such call takes an `oxv_error *err` (may be NULL). On
 *   failure the engine writes a NUL-terminated, human-readable message into
 *   err->message (truncated to fit). No memory allocated by the engine ever
 *   reaches the caller.
 * - Bulk data is passed as raw pointers plus shapes, row-major, read in place
 *   during the call. The engine copies what it keeps and never holds on to a
 *   caller pointer after the call returns.
 * - Outputs are buffers the caller allocated. Search results are padded with
 *   id -1 and distance +infinity where fewer than k results exist.
 * - Every function may be called from many threads at once; the engine
 *   synchronises internally. A panic inside the engine is caught and returned
 *   as OXV_E_INTERNAL; it never unwinds into the caller.
 * - Long calls take `cancel`, a pointer to an int32 flag owned by the caller
 *   (may be NULL). Another thread sets it to non-zero to ask the call to stop;
 *   the engine polls it at least every few milliseconds and then returns
 *   OXV_E_CANCELED.
 * - The engine is a Go runtime: it does not survive fork(). A forked child
 *   must not call into the library; start child processes with spawn.
 * - Byte order: little-endian platforms only (x86-64, arm64).
 */
#ifndef OXVEC_H
#define OXVEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature or a struct below changes incompatibly. */
#define OXV_ABI_VERSION 1

/* ---- status codes ------------------------------------------------------ */
#define OXV_OK 0
#define OXV_E_INVALID -1     /* bad argument: k <= 0, NaN in input, bad spec  */
#define OXV_E_DIMENSION -2   /* vector length differs from the index's dim    */
#define OXV_E_DUPLICATE -3   /* id already present, or twice in one batch     */
#define OXV_E_NOT_FOUND -4   /* no such id or file                            */
#define OXV_E_IO -5          /* the operating system refused a read or write  */
#define OXV_E_CORRUPT -6     /* file failed its magic/length/checksum checks  */
#define OXV_E_UNSUPPORTED -7 /* not available for this index type or version  */
#define OXV_E_CANCELED -8    /* the caller's cancel flag was raised           */
#define OXV_E_CLOSED -9      /* the object was closed                         */
#define OXV_E_STATE -10      /* not allowed in the current state (untrained)  */
#define OXV_E_HANDLE -11     /* freed, unknown or wrong-kind handle           */
#define OXV_E_NOMEM -12      /* the memory limit does not allow the call      */
#define OXV_E_INTERNAL -13   /* a bug in the engine (a recovered panic)       */
#define OXV_E_PERMISSION -14 /* a tenancy key lacks the permission, or is bad */
#define OXV_E_QUOTA -15      /* a write would pass a tenant quota; message:   */
                             /* "limit=<name> use=<n> limit_value=<m>: ..."  */
#define OXV_E_RATE -16       /* a rate limit; message "retry_after=<s>s: ..." */

/* ---- shared types ------------------------------------------------------ */
typedef uint64_t oxv_handle;

#define OXV_ERROR_MESSAGE_SIZE 4096
typedef struct oxv_error {
    char message[OXV_ERROR_MESSAGE_SIZE];
} oxv_error;

/* One search call. Search is the hot call, so its arguments travel in one
 * struct: a caller that goes through a dynamic FFI (Python's ctypes) pays for
 * one pointer instead of a dozen converted arguments, and fields can be
 * appended compatibly because `size` says how much the caller filled in.
 * Set size = sizeof(oxv_search_request); zero knobs mean "index default". */
typedef struct oxv_search_request {
    uint32_t size;
    int32_t ef;       /* graph indexes: candidate list size */
    int32_t nprobe;   /* IVF indexes: inverted lists to visit */
    float recall;     /* IVF with a learned policy (oxv_index_train_policy): target mean recall in (0, 1], each query's nprobe chosen for it; 0: off */
    oxv_handle index;
    const float *queries; /* nq x dim, row-major */
    int64_t nq;
    int64_t dim;
    int64_t k;
    int64_t *out_ids;                /* nq x k, written by the engine */
    float *out_dist;                 /* nq x k, written by the engine */
    const volatile int32_t *cancel;  /* may be NULL */
    /* Optional allow-list, at most one of the two: results are only ids in
     * allow_ids[0..n_allow_ids), or only ids i with allow_mask[i] != 0 for
     * i < n_allow_mask. NULL (and 0) for no filter. */
    const int64_t *allow_ids;
    int64_t n_allow_ids;
    const uint8_t *allow_mask;
    int64_t n_allow_mask;
    /* DiskANN: nodes read per search step for this call (1..64); 0: the
     * index's beam_width. Other index types refuse a non-zero value. */
    int32_t beam_width;
    int32_t reserved; /* zero */
} oxv_search_request;

/* Store write operations (oxv_store_write). */
#define OXV_STORE_ADD 1    /* new ids only: an existing id is an error   */
#define OXV_STORE_UPSERT 2 /* insert or replace whole records            */
#define OXV_STORE_UPDATE 3 /* change given fields of existing records    */

#ifndef OXV_NO_PROTOTYPES /* defined by the Go side, which implements them */

/* ---- library ----------------------------------------------------------- */

/* OXV_ABI_VERSION of the loaded library. */
int32_t oxv_abi_version(void);

/* Writes the engine version, e.g. "0.1.0 (go1.26.8 linux/amd64)", into buf
 * (NUL-terminated, truncated to len). Returns OXV_OK. */
int oxv_version(char *buf, size_t len);

/* Sets how many threads the engine uses (GOMAXPROCS and the worker count of
 * parallel loops). n <= 0 restores the default, the number of CPUs. */
int oxv_set_num_threads(int32_t n, oxv_error *err);
int32_t oxv_get_num_threads(void);

/* Soft memory limit of the Go runtime in bytes (runtime/debug.SetMemoryLimit);
 * a negative value only reads the current limit into *previous. */
int oxv_set_memory_limit(int64_t bytes, int64_t *previous, oxv_error *err);

/* Garbage collector target percentage (runtime/debug.SetGCPercent); a
 * negative value turns the collector off. Writes the old value to *previous. */
int oxv_set_gc_percent(int32_t percent, int32_t *previous, oxv_error *err);

/* Number of engine calls (add, search, remove, save, load) running right now,
 * over all threads. For monitoring and for tests of concurrency. */
int64_t oxv_calls_in_flight(void);

/* Progress of the long call (index add, train) that was passed the cancel
 * flag at address cancel, read from another thread while it runs: *done
 * units of *total (HNSW: vectors linked; k-means: iterations). Both are 0
 * before the call starts reporting and after it returned. The engine never
 * calls back; the caller polls. Returns OXV_OK, or OXV_E_INVALID for an
 * implausible pointer (no error buffer: this call cannot otherwise fail). */
int oxv_progress(const volatile int32_t *cancel, int64_t *done, int64_t *total);

/* ---- indexes ----------------------------------------------------------- */

/* Creates an empty index from a JSON spec, for example
 *   {"type":"flat","dim":128,"metric":"l2"}
 * Every index type is built through this one constructor; unknown fields are
 * errors. */
int oxv_index_new(const char *spec_json, oxv_handle *out, oxv_error *err);

/* Loads an index saved with oxv_index_save. options_json may be NULL or
 * {"mmap": true, "verify": false}: mmap maps the file and searches it in
 * place where the index type can (HNSW), reading only the pages it touches;
 * verify then also checks every checksum up front. */
int oxv_index_load(const char *path, const char *options_json, oxv_handle *out,
                   oxv_error *err);

/* Releases an index. Calls running on it finish first. */
int oxv_index_free(oxv_handle h, oxv_error *err);

/* Trains an index type that learns from data (ivf_flat: k-means on x);
 * for types that need no training it does nothing. Adding to or searching
 * an untrained index fails with OXV_E_STATE. Info reports "trained". */
int oxv_index_train(oxv_handle h, const float *x, int64_t n, int64_t d,
                    const volatile int32_t *cancel, oxv_error *err);

/* Learned search policy (issue 17; ivf_flat, ivf_pq): fits, on nq sample
 * queries (nq x dim, like the queries to come, at least 50), a model that
 * predicts from the first probes how many cells each query needs,
 * calibrated for target recalls; then a search with req->recall > 0
 * chooses each query's nprobe for that mean recall. truth (nq x k ids, may
 * be NULL) is each query's exact k nearest; NULL: the index finds them
 * (ivf_flat; ivf_pq only with refine > 0). Saved with the index; k is the
 * number of results the policy is trained for. OXV_E_UNSUPPORTED for
 * other types. */
int oxv_index_train_policy(oxv_handle index, const float *queries, int64_t nq, int64_t dim, int64_t k,
                           const int64_t *truth, const volatile int32_t *cancel, oxv_error *err);

/* Adds n vectors x[n][d]. ids (n values, may be NULL) are the caller's ids;
 * with ids == NULL the index assigns fresh ids and writes them to out_ids
 * (n values, may be NULL). The batch is added entirely or not at all. */
int oxv_index_add(oxv_handle h, const float *x, int64_t n, int64_t d,
                  const int64_t *ids, int64_t *out_ids,
                  const volatile int32_t *cancel, oxv_error *err);

/* k nearest neighbours of req->nq queries: req->out_ids[nq][k] and
 * req->out_dist[nq][k], each row sorted by distance (ties by id). */
int oxv_index_search(const oxv_search_request *req, oxv_error *err);

/* Every vector within distance `radius` (distance <= radius) of each of
 * req->nq queries, as far as the index's search reaches (faiss's
 * range_search). req is read as for oxv_index_search (queries, ef, nprobe,
 * filter, cancel), but out_ids and out_dist are one buffer of nq*k results
 * for all queries together: the results of query i are
 * out_ids[lims[i]..lims[i+1]) and out_dist[...], sorted by distance (ties
 * by id), never padding. lims holds nq + 1 values. *needed receives the
 * number of results, lims[nq]. Caller buffer with a required size: when
 * *needed > nq*k, lims and *needed are written, the outputs are not, and
 * the call still returns OXV_OK; call again with k >= *needed / nq
 * (rounded up). The engine searches k = 16 nearest, then 4 times more for
 * the queries whose k-th result is still within the radius, until it is
 * not or k exceeds the index (exact for exact types). */
int oxv_index_range_search(const oxv_search_request *req, float radius,
                           int64_t *lims, int64_t *needed, oxv_error *err);

/* Removes the given ids; *removed (may be NULL) counts those that existed. */
int oxv_index_remove(oxv_handle h, const int64_t *ids, int64_t n,
                     int64_t *removed, oxv_error *err);

/* Number of vectors in the index. */
int oxv_index_len(oxv_handle h, int64_t *out, oxv_error *err);

/* Describes the index as a JSON object (type, dim, metric, len,
 * memory_bytes, trained, and "params": the defaults of the search knobs the
 * type honours, e.g. {"nprobe": 1}; absent for types with none). Writes at
 * most len bytes including the NUL; *needed (may be NULL) receives the full
 * size including the NUL, so a caller whose buffer was too small can retry
 * with a larger one. */
int oxv_index_info(oxv_handle h, char *buf, size_t len, size_t *needed,
                   oxv_error *err);

/* Changes the defaults of search knobs for later searches (a request's zero
 * ef / nprobe): params_json is an object of integers >= 1 such as
 * {"nprobe": 16} (ivf_flat, ivf_pq, opq over those) or {"ef": 200} (hnsw,
 * whose ef_search it sets). A name the type does not honour is OXV_E_INVALID
 * and changes nothing; so is a search request that sets such a knob. The
 * defaults are saved with the index. Safe while searches run. */
int oxv_index_set_params(oxv_handle h, const char *params_json,
                         oxv_error *err);

/* Writes the vectors of n ids into out[n][d] (d must be the index's dim;
 * caller-allocated): flat, hnsw, ivf_flat (and ivf_pq with refine, binary
 * with rerank > 0) the stored vectors exactly, pq, sq and ivf_pq the decoded
 * reconstructions (faiss's reconstruct), opq the inner index's rotated back.
 * Stored vectors are in the metric's prepared form (unit length for cosine,
 * ...). An id not in the index is OXV_E_NOT_FOUND naming it; binary with
 * rerank 0 keeps nothing to decode: OXV_E_UNSUPPORTED. out may be NULL:
 * then the call only checks that every id is present. */
int oxv_index_vectors(oxv_handle h, const int64_t *ids, int64_t n, float *out,
                      int64_t d, oxv_error *err);

/* Renumbers the index densely and gives the memory of removed vectors back
 * (HNSW; other types: already compact, OXV_OK). */
int oxv_index_compact(oxv_handle h, oxv_error *err);

/* Saves the index to path atomically (temporary file, fsync, rename). */
int oxv_index_save(oxv_handle h, const char *path, oxv_error *err);

/* ---- durable stores -------------------------------------------------- */

/* A store is a directory holding records (string id, vector, optional
 * document, optional metadata) that survive crashes: see docs/store.md.
 * Ids, documents, metadata, filters and results travel as UTF-8 JSON;
 * vectors as raw float32 rows. All JSON arguments may be NULL (defaults).
 *
 * oxv_store_open: options is
 *   {"create": {"dim": 384, "metric": "cosine", "metric_params": {...},
 *               "index": {"type": "hnsw", "m": 16}},   -- only to create
 *    "durability": "always" | "interval" | "never", "interval_ms": 100,
 *    "read_only": false, "key": "<64 hex or base64>" | "key_file": "..." |
 *    "key_env": "<variable, as the environment was when the library loaded>",
 *    "snapshot_every": <WAL bytes; 0 = 64 MiB, < 0 = never>}
 * One process at a time may open a store for writing (OXV_E_STATE
 * otherwise); any number may open it read-only. */
int oxv_store_open(const char *path, const char *options, oxv_handle *out,
                   oxv_error *err);

/* Makes everything durable and releases the store and its handle. */
int oxv_store_close(oxv_handle store, oxv_error *err);

/* Writes a batch: records is {"ids": [...], "documents": [...] | null,
 * "metadatas": [{...} | null, ...] | null}; vectors is n x dim float32
 * (n = number of ids), NULL only for an update that keeps the vectors.
 * The whole batch is validated first and logged as one WAL record: it is
 * applied entirely or not at all. Returns after the change is durable as
 * the store's durability mode says. */
/* op: OXV_STORE_ADD, OXV_STORE_UPSERT or OXV_STORE_UPDATE. progress, when
 * not NULL, names the call for oxv_progress (the index insertion reports
 * there); a write is never canceled - once logged its change is applied -
 * so the flag's value is not read. */
int oxv_store_write(oxv_handle store, int op, const char *records,
                    const float *vectors, int64_t n, int64_t dim,
                    const volatile int32_t *progress, oxv_error *err);

/* Deletes by {"ids": [...], "where": {...}, "where_document": {...}} (any
 * of them; ids that do not exist are ignored). *deleted gets the count. */
int oxv_store_delete(oxv_handle store, const char *query, int64_t *deleted,
                     oxv_error *err);

/* Reads records: query is {"ids": [...], "where": {...}, "where_document":
 * {...}, "limit": n, "offset": n, "include": ["documents", "metadatas",
 * "embeddings"]}. *result receives a result handle (see below). */
int oxv_store_get(oxv_handle store, const char *query, oxv_handle *result,
                  oxv_error *err);

/* Ranks the records the filter matches for each query: query is {"k": 10,
 * "where": ..., "where_document": ..., "ef": n, "include": [...]} plus, for
 * keyword and hybrid search, "mode": "keyword" | "hybrid", "texts": [one
 * per query] and the ranking options of docs/capi.md ("fusion", "rrf_k",
 * "weights", "alpha", "normalize", "k1", "b", "candidates"). A keyword
 * search passes queries = NULL and nq = 0. The filter is applied inside
 * both searches. */
int oxv_store_search(oxv_handle store, const float *queries, int64_t nq,
                     int64_t dim, const char *query,
                     const volatile int32_t *cancel, oxv_handle *result,
                     oxv_error *err);

/* A result: its JSON ({"ids", "documents", "metadatas", "distances"}, one
 * list per query for a search) is copied into buf as for oxv_index_info;
 * *n_embeddings gets the number of embedding floats, which
 * oxv_result_embeddings copies into out (exactly n of them). */
int oxv_result_json(oxv_handle result, char *buf, size_t len, size_t *needed,
                    int64_t *n_embeddings, oxv_error *err);
int oxv_result_embeddings(oxv_handle result, float *out, int64_t n,
                          oxv_error *err);
int oxv_result_free(oxv_handle result, oxv_error *err);

int oxv_store_count(oxv_handle store, int64_t *out, oxv_error *err);

/* {"path", "dim", "metric", "index", "count", "last_seq", "encrypted",
 * "read_only", "durability", "snapshot_seq", "id"}, sizes as for
 * oxv_index_info. */
int oxv_store_info(oxv_handle store, char *buf, size_t len, size_t *needed,
                   oxv_error *err);

/* Writes a snapshot and drops the WAL it covers. progress, when not NULL,
 * names the call for oxv_progress (four steps); it does not cancel. */
int oxv_store_snapshot(oxv_handle store, const volatile int32_t *progress,
                       oxv_error *err);

/* Copies the store into dir (incremental: only files dir lacks, keeping the
 * history for point-in-time restore). Writes {"copied", "kept",
 * "last_seq"} into buf. */
int oxv_store_backup(oxv_handle store, const char *dir, int32_t incremental,
                     char *buf, size_t len, size_t *needed, oxv_error *err);

/* Builds a new store at path (which must be empty or absent) from a backup,
 * as of options {"until_seq": n} or {"until_time_ns": t} (neither: the
 * latest), with "key", "key_file" or "key_env" for encrypted stores. Every file is
 * checked against its SHA-256 first. */
int oxv_store_restore(const char *backup, const char *path,
                      const char *options, oxv_error *err);

/* ---- tenancy ------------------------------------------------------------ */

/* A database is a directory of tenants, their collections (each a store)
 * and API keys (docs/tenancy.md). The database handle is the trusted local
 * administrator; a front end serving others opens a session from an API key
 * and reaches data only through it: every call is checked for the key, its
 * role's permission, the rate limits, the tenant's policy and quotas
 * (OXV_E_PERMISSION, OXV_E_RATE, OXV_E_QUOTA). */

/* Opens or creates the database in path. options: NULL or
 * {"durability": "always" | "interval" | "never", "key_cost_log2": n}
 * (log2 of scrypt's N for new keys; default 15). */
int oxv_db_open(const char *path, const char *options, oxv_handle *out,
                oxv_error *err);
int oxv_db_close(oxv_handle db, oxv_error *err);

/* One administrative request {"op": ..., fields} for h, a database (every
 * op) or a session (an operator key: every op; a tenant key with the admin
 * permission: its own tenant's collections, roles and keys). ops:
 * create_tenant {name, quota, policy}, drop_tenant {name}, tenants,
 * tenant {name}, create_collection {tenant, name, dim, metric, index,
 * train_after}, drop_collection {tenant, name}, collections {tenant},
 * create_role {tenant, name, permissions}, create_api_key {tenant, role,
 * name, max_qps, burst, expires_ns} (the result's "key" is the secret, shown
 * this once), revoke_api_key {tenant, key}, api_keys {tenant}, whoami. *out is a
 * result handle (oxv_result_json, oxv_result_free). */
int oxv_db_admin(oxv_handle h, const char *request, oxv_handle *out,
                 oxv_error *err);

/* Test hook: the database's clock (rate limits, key expiry) stops at
 * unix_ns; 0 gives back the real clock. */
int oxv_db_set_clock(oxv_handle db, int64_t unix_ns, oxv_error *err);

/* A session of an API key; a malformed, unknown, wrong, revoked or expired
 * key is OXV_E_PERMISSION. */
int oxv_session_open(oxv_handle db, const char *api_key, oxv_handle *out,
                     oxv_error *err);
int oxv_session_close(oxv_handle session, oxv_error *err);

/* A collection of the session's tenant, used with oxv_store_write,
 * oxv_store_delete, oxv_store_get, oxv_store_search, oxv_store_count and
 * oxv_store_info (each call checked) and freed with oxv_store_close (the
 * store stays open in the database). A name the tenant does not have -
 * another tenant's or none - is OXV_E_NOT_FOUND alike. */
int oxv_session_collection(oxv_handle session, const char *name,
                           oxv_handle *out, oxv_error *err);

/* ---- distances ---------------------------------------------------------- */

/* The distance calls name their metric with a JSON spec, the same keys an
 * index spec uses: {"metric":"minkowski","metric_params":{"p":3}}.
 * docs/metrics.md lists the metrics, their parameters and domains. Rows are
 * float32 except for "hamming_bits", whose rows are packed bits: d bytes
 * each. Inputs outside a metric's domain are OXV_E_INVALID, naming the row. */

/* out[nx][ny] = distance(x[i], y[j]), float32. seuclidean and mahalanobis
 * estimate V / VI from the rows of x and y together when not given. */
int oxv_pairwise(const char *metric_spec, const void *x, int64_t nx,
                 const void *y, int64_t ny, int64_t d, float *out,
                 const volatile int32_t *cancel, oxv_error *err);

/* Exact k nearest rows of base for each query: row numbers and distances,
 * padded with -1 / +infinity, sorted by distance (ties by row). */
int oxv_knn(const char *metric_spec, const void *base, int64_t n,
            const void *queries, int64_t nq, int64_t d, int64_t k,
            int64_t *out_ids, float *out_dist,
            const volatile int32_t *cancel, oxv_error *err);

/* Inverse covariance of n samples x[n][d] for mahalanobis, written to
 * out_vi[d][d] (float64). shrinkage in [0, 1] blends the covariance with a
 * scaled identity, which keeps it invertible with few samples. */
int oxv_fit_mahalanobis(const float *x, int64_t n, int64_t d,
                        double shrinkage, double *out_vi, oxv_error *err);

/* The metric catalogue as a JSON array of {name, aliases, is_metric, class,
 * domain}; sizes as for oxv_index_info. */
int oxv_metrics(char *buf, size_t len, size_t *needed, oxv_error *err);

/* ---- text ----------------------------------------------------------------- */

/* The BM25 index terms of a NUL-terminated UTF-8 text, as a JSON array of
 * strings (words lowercased, accents folded, English stop words dropped,
 * Snowball English stems); sizes as for oxv_index_info. */
int oxv_text_terms(const char *text, char *buf, size_t len, size_t *needed,
                   oxv_error *err);

/* ---- SIMD kernels -------------------------------------------------------- */

/* Chooses the kernel level: "generic", "avx2" or "avx512". The default is
 * the best the CPU supports (lowered, never raised, by OXVEC_SIMD at load).
 * Calls running at the time keep the level they started with. */
int oxv_set_simd_level(const char *level, oxv_error *err);

/* Writes the current and the best available level names (each buffer len
 * bytes). Returns OXV_OK. */
int oxv_simd_level(char *current, char *best, size_t len);

/* ---- monitoring, planning, caching (issue 21; docs/monitoring.md) ------ */

/* A store's (or a session's collection's) statistics as JSON: count,
 * latency {search, add, delete: {count, p50_ms, p95_ms, p99_ms, per_s, ...}},
 * qps, error_rate, errors {class: n}, memory, cache, recall_estimate (null
 * before the first sample), plans. options: NULL or {"flush": true}, which
 * waits until the recall samples queued so far are re-run. Sizes as for
 * oxv_index_info. */
int oxv_store_stats(oxv_handle store, const char *options, char *buf,
                    size_t len, size_t *needed, oxv_error *err);

/* Health against thresholds (JSON, each optional: max_latency_ms,
 * max_memory_percent, min_recall, max_error_rate): writes
 * {"status": "ok"|"degraded", "reasons": [...]}. */
int oxv_store_health(oxv_handle store, const char *thresholds, char *buf,
                     size_t len, size_t *needed, oxv_error *err);

/* A cache level kept by the caller (the Python package's query embeddings,
 * level "embeddings") reports its counts, JSON {"hits", "misses",
 * "entries", "bytes"}, so that stats and metrics show it. */
int oxv_store_cache_report(oxv_handle store, const char *level,
                           const char *counts, oxv_error *err);

/* The statistics of every open store in the Prometheus text exposition
 * format (names oxvec_*, label collection). */
int oxv_metrics_text(char *buf, size_t len, size_t *needed, oxv_error *err);

/* How a search would run: {"plan", "why", "estimates": {...}}; query as for
 * oxv_store_search (k, where, where_document, ef), one query vector of
 * d values (or NULL: the plan of a filter alone). */
int oxv_store_explain(oxv_handle store, const float *query, int64_t d,
                      const char *request, char *buf, size_t len,
                      size_t *needed, oxv_error *err);

/* ---- diagnostics (for tests and benchmarks) ---------------------------- */

/* Panics inside the engine on purpose; returns OXV_E_INTERNAL. Proves that a
 * panic never crosses the ABI. If `in_worker` is non-zero the panic happens
 * on a worker goroutine of a parallel loop. */
int oxv_debug_panic(int32_t in_worker, oxv_error *err);

/* Runs the same search `repeat` times inside the engine and writes the total
 * wall time in nanoseconds to *elapsed_ns, so a benchmark can separate engine
 * time from the cost of crossing the ABI. */
int oxv_debug_search_repeat(const oxv_search_request *req, int64_t repeat,
                            int64_t *elapsed_ns, oxv_error *err);

/* HNSW distance counters, process-wide: on != 0 zeroes and starts them,
 * on == 0 stops them; either way *walk and *rerank (when not NULL) receive
 * what was counted since the last start: distances computed walking graphs
 * (on codes or float32) and float32 re-ranks after walks on codes. For
 * benchmarks (distances per query next to QPS). */
int oxv_debug_hnsw_counts(int32_t on, int64_t *walk, int64_t *rerank, oxv_error *err);

/* Times one SIMD kernel ("dot", "l2sq", "l1", "tile", "dot_i8", "l2_u8",
 * "hamming") of one level on d-sized inputs: *ns receives the wall time per
 * call, averaged over `repeat` calls. For kernel benchmarks. */
int oxv_debug_kernel_ns(const char *kernel, const char *level, int64_t d,
                        int64_t repeat, double *ns, oxv_error *err);

/* ---- GPU (CUDA kernels compiled at run time; docs/gpu.md) --------------- */

/* Nothing of CUDA is loaded until one of these is called. device names where
 * work runs: "cpu", "auto" (a usable GPU, else the CPU, silently), "cuda" or
 * "cuda:N" (that GPU, or OXV_E_UNSUPPORTED saying what is missing: the
 * NVIDIA driver, a device, or NVRTC). */

/* Folders (':'-separated) searched first for libnvrtc.so.12/.13. */
int oxv_gpu_search_dirs(const char *dirs, oxv_error *err);

/* JSON {available, reason, devices: [{ordinal, name, arch, multiprocessors,
 * memory_bytes, driver_version}]}; sizes as for oxv_index_info. */
int oxv_gpu_status(char *buf, size_t len, size_t *needed, oxv_error *err);

/* Compiles every kernel to PTX for arch ("sm_80") with NVRTC (no GPU
 * needed), through the module cache; JSON {arch, nvrtc, ptx_bytes, kernels:
 * [{name, ptx_bytes}], cached}. */
int oxv_gpu_compile(const char *arch, char *buf, size_t len, size_t *needed,
                    oxv_error *err);

/* oxv_pairwise and oxv_knn on a device (k <= 256 on a GPU). */
int oxv_gpu_pairwise(const char *device, const char *metric_spec,
                     const void *x, int64_t nx, const void *y, int64_t ny,
                     int64_t d, float *out, const volatile int32_t *cancel,
                     oxv_error *err);
int oxv_gpu_knn(const char *device, const char *metric_spec, const void *base,
                int64_t n, const void *queries, int64_t nq, int64_t d,
                int64_t k, int64_t *out_ids, float *out_dist,
                const volatile int32_t *cancel, oxv_error *err);

/* An unfiltered search of a flat index on a device (other types search on
 * the CPU unless a GPU was named: OXV_E_UNSUPPORTED); out_* hold nq*k. */
int oxv_gpu_index_search(oxv_handle h, const char *device, const float *queries,
                         int64_t nq, int64_t d, int64_t k, int64_t *out_ids,
                         float *out_dist, const volatile int32_t *cancel,
                         oxv_error *err);

/* k-means' assignment step: each row of x[n][d]'s nearest of the centroids
 * c[kc][d] by squared euclidean distance (ties: the lower centroid), and that
 * distance. */
int oxv_gpu_assign(const char *device, const float *x, int64_t n,
                   const float *c, int64_t kc, int64_t d, int64_t *out_idx,
                   float *out_dist, const volatile int32_t *cancel,
                   oxv_error *err);

/* oxv_index_train with k-means' assignment step on a device. */
int oxv_gpu_index_train(oxv_handle h, const char *device, const float *x,
                        int64_t n, int64_t d, const volatile int32_t *cancel,
                        oxv_error *err);
/* ---- migration (issue 24): other libraries' index files ---------------- */

/* Reads a file written by faiss.write_index (IndexFlatL2/IP, IndexHNSWFlat,
 * IndexIVFFlat, IndexIVFPQ, IndexPQ, in IndexIDMap/IDMap2 or not) into the
 * equivalent oxvec index, its structure kept; *out receives its handle.
 * A damaged file is OXV_E_CORRUPT, another index type OXV_E_UNSUPPORTED. */
int oxv_migrate_faiss(const char *path, oxv_handle *out, oxv_error *err);

/* Reads a file written by hnswlib's save_index: space is "l2", "ip" or
 * "cosine" and dim the vectors' length (the file records neither). The
 * graph and labels are kept, deleted elements removed. */
int oxv_migrate_hnswlib(const char *path, const char *space, int64_t dim,
                        oxv_handle *out, oxv_error *err);

/* Adds the items of an Annoy file (dim, metric "angular", "euclidean",
 * "manhattan" or "dot") with their item numbers as ids to the index `into`
 * (trained on them first when it learns and is untrained). */
int oxv_migrate_annoy(const char *path, int64_t dim, const char *metric,
                      oxv_handle into, int32_t *cancel, oxv_error *err);

/* Writes a flat, hnsw, ivf_flat or ivf_pq index as a faiss file. */
int oxv_migrate_to_faiss(oxv_handle h, const char *path, oxv_error *err);

/* Creates a store at store_path around a migrated faiss / hnswlib index,
 * its structure kept (the graph is what the store saves and loads), then
 * closes it: open it with oxv_store_open. options: the JSON of
 * oxv_store_open without "create" (dim, metric and index come from the
 * file); records: {"ids": [...], "documents": [...], "metadatas": [...]},
 * each optional (ids default to the file's ids as strings), one per vector
 * in the file's order (IVF: the inverted lists' order; hnswlib: deleted
 * elements skipped). store_path must not hold a store; on failure nothing
 * is left there. */
int oxv_store_from_faiss(const char *path, const char *store_path,
                         const char *options, const char *records,
                         oxv_error *err);
int oxv_store_from_hnswlib(const char *path, const char *space, int64_t dim,
                           const char *store_path, const char *options,
                           const char *records, oxv_error *err);
/* The items of an Annoy file (dim, metric as for oxv_migrate_annoy) into a
 * new store: options may hold "create" with the index to build (default
 * flat; dim and metric are Annoy's); ids default to the item numbers. */
int oxv_store_from_annoy(const char *path, int64_t dim, const char *metric,
                         const char *store_path, const char *options,
                         const char *records, oxv_error *err);
/* ---- diskann (core/diskann) ---------------------------------------------- */

/* Writes a DiskANN index's I/O counters and sizes as JSON (queries,
 * blocks_read, cache_hits, nodes_expanded, disk_nodes, deleted,
 * delta_nodes, cached_nodes, block_bytes, nodes_per_block, path); sizes
 * as for oxv_index_info. With reset non-zero the counters are zeroed
 * after they are read. OXV_E_INVALID for another index type. */
int oxv_diskann_stats(oxv_handle h, int32_t reset, char *buf, size_t len,
                      size_t *needed, oxv_error *err);

/* Rewrites a DiskANN index's file atomically: merge = 0 consolidates the
 * delete list (removed nodes dropped, their neighbours' lists repaired);
 * merge != 0 also writes the in-memory delta into the disk graph. cancel
 * as for oxv_index_add. */
int oxv_diskann_rewrite(oxv_handle h, int32_t merge, const volatile int32_t *cancel,
                        oxv_error *err);

/* ---- server hot path (issue 22) ------------------------------------------ */

/* oxv_store_search for a caller that forwards the answer's JSON: when the
 * JSON fits in buf (len bytes, with its NUL) it is written there and
 * *result is 0; otherwise *result gets a result handle holding it, read
 * with oxv_result_json and freed with oxv_result_free. *needed is the JSON's
 * size with its NUL either way. A query including "embeddings" is
 * OXV_E_INVALID (JSON does not carry them). */
int oxv_store_search_json(oxv_handle store, const float *queries, int64_t nq,
                          int64_t dim, const char *query,
                          const volatile int32_t *cancel, char *buf,
                          size_t len, size_t *needed, oxv_handle *result,
                          oxv_error *err);

#endif /* OXV_NO_PROTOTYPES */

#ifdef __cplusplus
}
#endif
#endif /* OXVEC_H */
