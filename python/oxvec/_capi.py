"""One-to-one ctypes mirror of capi/oxvec.h: constants, structs and the
prototypes of the functions. No logic lives here, and nothing of the package
is imported: ``_library`` loads the library and binds ``PROTOTYPES`` into
its ``lib`` object (``lib.oxv_index_new``). Structs mirror the header field
for field; the ``*_FORMAT`` strings describe the same layouts for
``struct.pack_into`` and are checked against the ctypes definitions by the
tests.
"""

from __future__ import annotations

import ctypes as C

OXV_ABI_VERSION = 1

# status codes
OXV_OK = 0
OXV_E_INVALID = -1
OXV_E_DIMENSION = -2
OXV_E_DUPLICATE = -3
OXV_E_NOT_FOUND = -4
OXV_E_IO = -5
OXV_E_CORRUPT = -6
OXV_E_UNSUPPORTED = -7
OXV_E_CANCELED = -8
OXV_E_CLOSED = -9
OXV_E_STATE = -10
OXV_E_HANDLE = -11
OXV_E_NOMEM = -12
OXV_E_INTERNAL = -13
OXV_E_PERMISSION = -14
OXV_E_QUOTA = -15
OXV_E_RATE = -16

oxv_handle = C.c_uint64

OXV_ERROR_MESSAGE_SIZE = 4096


class oxv_error(C.Structure):
    _fields_ = [("message", C.c_char * OXV_ERROR_MESSAGE_SIZE)]


class oxv_search_request(C.Structure):
    _fields_ = [
        ("size", C.c_uint32),
        ("ef", C.c_int32),
        ("nprobe", C.c_int32),
        ("recall", C.c_float),
        ("index", oxv_handle),
        ("queries", C.c_void_p),
        ("nq", C.c_int64),
        ("dim", C.c_int64),
        ("k", C.c_int64),
        ("out_ids", C.c_void_p),
        ("out_dist", C.c_void_p),
        ("cancel", C.c_void_p),
        ("allow_ids", C.c_void_p),
        ("n_allow_ids", C.c_int64),
        ("allow_mask", C.c_void_p),
        ("n_allow_mask", C.c_int64),
        ("beam_width", C.c_int32),
        ("reserved", C.c_int32),
    ]


# struct module layout of oxv_search_request, in field order
OXV_SEARCH_REQUEST_FORMAT = "<IiifQQqqqQQQQqQqii"

# store write operations (oxv_store_write)
OXV_STORE_ADD = 1
OXV_STORE_UPSERT = 2
OXV_STORE_UPDATE = 3

_p = C.c_void_p
_i32 = C.c_int32
_i64 = C.c_int64
_int = C.c_int

# name: (restype, argtypes). Pointers are c_void_p so callers pass addresses.
PROTOTYPES = {
    "oxv_abi_version": (_i32, []),
    "oxv_version": (_int, [C.c_char_p, C.c_size_t]),
    "oxv_set_num_threads": (_int, [_i32, _p]),
    "oxv_get_num_threads": (_i32, []),
    "oxv_set_memory_limit": (_int, [_i64, _p, _p]),
    "oxv_set_gc_percent": (_int, [_i32, _p, _p]),
    "oxv_calls_in_flight": (_i64, []),
    "oxv_progress": (_int, [_p, _p, _p]),
    "oxv_index_new": (_int, [C.c_char_p, _p, _p]),
    "oxv_index_load": (_int, [C.c_char_p, C.c_char_p, _p, _p]),
    "oxv_index_compact": (_int, [oxv_handle, _p]),
    "oxv_index_free": (_int, [oxv_handle, _p]),
    "oxv_index_train": (_int, [oxv_handle, _p, _i64, _i64, _p, _p]),
    "oxv_index_train_policy": (_int, [oxv_handle, _p, _i64, _i64, _i64, _p, _p, _p]),
    "oxv_index_add": (_int, [oxv_handle, _p, _i64, _i64, _p, _p, _p, _p]),
    "oxv_index_search": (_int, [_p, _p]),
    "oxv_index_range_search": (_int, [_p, C.c_float, _p, _p, _p]),
    "oxv_index_remove": (_int, [oxv_handle, _p, _i64, _p, _p]),
    "oxv_index_len": (_int, [oxv_handle, _p, _p]),
    "oxv_index_info": (_int, [oxv_handle, _p, C.c_size_t, _p, _p]),
    "oxv_index_set_params": (_int, [oxv_handle, C.c_char_p, _p]),
    "oxv_index_vectors": (_int, [oxv_handle, _p, _i64, _p, _i64, _p]),
    "oxv_index_save": (_int, [oxv_handle, C.c_char_p, _p]),
    "oxv_store_open": (_int, [C.c_char_p, C.c_char_p, _p, _p]),
    "oxv_store_close": (_int, [oxv_handle, _p]),
    "oxv_store_write": (_int, [oxv_handle, _int, C.c_char_p, _p, _i64, _i64, _p, _p]),
    "oxv_store_delete": (_int, [oxv_handle, C.c_char_p, _p, _p]),
    "oxv_store_get": (_int, [oxv_handle, C.c_char_p, _p, _p]),
    "oxv_store_search": (_int, [oxv_handle, _p, _i64, _i64, C.c_char_p, _p, _p, _p]),
    "oxv_result_json": (_int, [oxv_handle, _p, C.c_size_t, _p, _p, _p]),
    "oxv_result_embeddings": (_int, [oxv_handle, _p, _i64, _p]),
    "oxv_result_free": (_int, [oxv_handle, _p]),
    "oxv_store_count": (_int, [oxv_handle, _p, _p]),
    "oxv_store_info": (_int, [oxv_handle, _p, C.c_size_t, _p, _p]),
    "oxv_store_snapshot": (_int, [oxv_handle, _p, _p]),
    "oxv_store_backup": (_int, [oxv_handle, C.c_char_p, _i32, _p, C.c_size_t, _p, _p]),
    "oxv_store_restore": (_int, [C.c_char_p, C.c_char_p, C.c_char_p, _p]),
    "oxv_db_open": (_int, [C.c_char_p, C.c_char_p, _p, _p]),
    "oxv_db_close": (_int, [oxv_handle, _p]),
    "oxv_db_admin": (_int, [oxv_handle, C.c_char_p, _p, _p]),
    "oxv_db_set_clock": (_int, [oxv_handle, _i64, _p]),
    "oxv_session_open": (_int, [oxv_handle, C.c_char_p, _p, _p]),
    "oxv_session_close": (_int, [oxv_handle, _p]),
    "oxv_session_collection": (_int, [oxv_handle, C.c_char_p, _p, _p]),
    "oxv_pairwise": (_int, [C.c_char_p, _p, _i64, _p, _i64, _i64, _p, _p, _p]),
    "oxv_knn": (_int, [C.c_char_p, _p, _i64, _p, _i64, _i64, _i64, _p, _p, _p, _p]),
    "oxv_fit_mahalanobis": (_int, [_p, _i64, _i64, C.c_double, _p, _p]),
    "oxv_metrics": (_int, [_p, C.c_size_t, _p, _p]),
    "oxv_text_terms": (_int, [C.c_char_p, _p, C.c_size_t, _p, _p]),
    "oxv_set_simd_level": (_int, [C.c_char_p, _p]),
    "oxv_simd_level": (_int, [_p, _p, C.c_size_t]),
    "oxv_debug_panic": (_int, [_i32, _p]),
    "oxv_debug_search_repeat": (_int, [_p, _i64, _p, _p]),
    "oxv_debug_hnsw_counts": (_int, [_i32, _p, _p, _p]),
    "oxv_debug_kernel_ns": (_int, [C.c_char_p, C.c_char_p, _i64, _i64, _p, _p]),
    # GPU (capi/gpu.go)
    "oxv_gpu_search_dirs": (_int, [C.c_char_p, _p]),
    "oxv_gpu_status": (_int, [_p, C.c_size_t, _p, _p]),
    "oxv_gpu_compile": (_int, [C.c_char_p, _p, C.c_size_t, _p, _p]),
    "oxv_gpu_pairwise": (_int, [C.c_char_p, C.c_char_p, _p, _i64, _p, _i64, _i64, _p, _p, _p]),
    "oxv_gpu_knn": (_int, [C.c_char_p, C.c_char_p, _p, _i64, _p, _i64, _i64, _i64, _p, _p, _p, _p]),
    "oxv_gpu_index_search": (_int, [oxv_handle, C.c_char_p, _p, _i64, _i64, _i64, _p, _p, _p, _p]),
    "oxv_gpu_index_train": (_int, [oxv_handle, C.c_char_p, _p, _i64, _i64, _p, _p]),
    "oxv_gpu_assign": (_int, [C.c_char_p, _p, _i64, _p, _i64, _i64, _p, _p, _p, _p]),
    # migration (issue 24)
    "oxv_migrate_faiss": (_int, [C.c_char_p, _p, _p]),
    "oxv_migrate_hnswlib": (_int, [C.c_char_p, C.c_char_p, _i64, _p, _p]),
    "oxv_migrate_annoy": (_int, [C.c_char_p, _i64, C.c_char_p, oxv_handle, _p, _p]),
    "oxv_migrate_to_faiss": (_int, [oxv_handle, C.c_char_p, _p]),
    "oxv_store_from_faiss": (_int, [C.c_char_p, C.c_char_p, C.c_char_p, C.c_char_p, _p]),
    "oxv_store_from_hnswlib": (_int, [C.c_char_p, C.c_char_p, _i64, C.c_char_p, C.c_char_p, C.c_char_p, _p]),
    "oxv_store_from_annoy": (_int, [C.c_char_p, _i64, C.c_char_p, C.c_char_p, C.c_char_p, C.c_char_p, _p]),
    # monitoring, planning, caching (issue 21)
    "oxv_store_stats": (_int, [oxv_handle, C.c_char_p, _p, C.c_size_t, _p, _p]),
    "oxv_store_health": (_int, [oxv_handle, C.c_char_p, _p, C.c_size_t, _p, _p]),
    "oxv_store_cache_report": (_int, [oxv_handle, C.c_char_p, C.c_char_p, _p]),
    "oxv_metrics_text": (_int, [_p, C.c_size_t, _p, _p]),
    "oxv_store_explain": (_int, [oxv_handle, _p, _i64, C.c_char_p, _p, C.c_size_t, _p, _p]),
    # diskann (core/diskann)
    "oxv_diskann_stats": (_int, [oxv_handle, _i32, _p, C.c_size_t, _p, _p]),
    "oxv_diskann_rewrite": (_int, [oxv_handle, _i32, _p, _p]),
    # server hot path (issue 22)
    "oxv_store_search_json": (_int, [oxv_handle, _p, _i64, _i64, C.c_char_p, _p, _p, C.c_size_t, _p, _p, _p]),
}
