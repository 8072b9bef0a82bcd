"""The names of things in every layer, in one place.

An index type is a Python class, a spec "type" (the Go package's
``TypeName``, also written in its files) and a Go package and type; a
parameter is a Python keyword and a spec key; an error is a Python
exception, a C status code and a Go class in core/errs. The names differ
between layers only where a row below says so. Old spellings that users
may have written stay accepted as aliases.

tests/test_vocabulary.py checks these tables against the classes, the
header, the engine and the Go source, so they cannot drift apart.
"""

from __future__ import annotations

# Python class, spec type (= Go TypeName), Go package (core/...), Go type.
# Python names follow faiss (IndexIVFFlat, IndexScalarQuantizer), spec types
# are short lower-case names, Go types the package's own noun.
INDEX_TYPES = (
    ("Flat", "flat", "flat", "Flat"),
    ("HNSW", "hnsw", "hnsw", "HNSW"),
    ("IVFFlat", "ivf_flat", "ivf", "IVF"),
    ("IVFPQ", "ivf_pq", "ivfpq", "IVFPQ"),
    ("PQ", "pq", "pq", "PQ"),
    ("ScalarQuantizer", "sq", "sq", "SQ"),
    ("Binary", "binary", "binary", "Binary"),
    ("OPQ", "opq", "opq", "OPQ"),
    ("LSH", "lsh", "lsh", "LSH"),
    ("DiskANN", "diskann", "diskann", "DiskANN"),
)

# The constructor keywords of each spec type beside dim and metric (and the
# metric parameters); each is the spec key of the same name unless
# SPEC_KEYS renames it. seed is int64 in core/hnsw and uint64 in the other
# packages: 0 <= seed < 2**63 means the same everywhere.
PARAMETERS = {
    "flat": (),
    "hnsw": ("m", "ef_construction", "ef_search", "max_elements", "seed", "quantize"),
    "ivf_flat": ("nlist", "nprobe", "seed"),
    "ivf_pq": ("nlist", "nprobe", "m", "nbits", "refine", "seed"),
    "pq": ("m", "nbits", "seed"),
    "sq": ("nbits", "range"),
    "binary": ("rerank",),
    "opq": ("m", "inner", "iters"),
    "lsh": ("tables", "bits", "nprobe", "w", "bands", "rows", "seed"),
    "diskann": ("r", "l_build", "alpha", "pq_bytes", "path", "l_search", "beam_width", "cache_nodes", "build_memory", "seed"),
}

# Python keyword -> spec key, where they differ. OPQ's inner index travels
# as "index", as a store's index spec does.
SPEC_KEYS = {"opq": {"inner": "index"}}

# Old names still accepted, as keywords and as spec keys: old -> canonical.
# sq said bits where pq and ivf_pq say nbits (faiss's name).
# lsh's probes is the LSH literature's name of its nprobe.
ALIASES = {"sq": {"bits": "nbits"}, "lsh": {"probes": "nprobe"}}

# Search knobs: the search keyword (also the request field, the key of
# info()["params"] and of oxv_index_set_params) and the constructor keyword
# that sets its default.
KNOBS = {"ef": "ef_search", "nprobe": "nprobe"}

# Types whose search keywords name the engine's knobs otherwise: search
# keyword -> (engine knob, constructor keyword). DiskANN's list size is
# "l" as in the paper (the request's ef field carries it).
TYPE_KNOBS = {"diskann": {"l": ("ef", "l_search"), "beam_width": ("beam_width", "beam_width")}}

# Names users of hnswlib and faiss reach for: never accepted (they would
# hide a typo), only named in the error, "did you mean ...?".
HINTS = {
    "M": "m", "space": "metric", "metric_type": "metric", "distance": "metric", "d": "dim",
    "efConstruction": "ef_construction", "ef_construct": "ef_construction", "efSearch": "ef_search",
    "ef": "ef_search", "maxElements": "max_elements", "num_elements": "max_elements", "random_seed": "seed",
    "ncentroids": "nlist", "nlists": "nlist", "n_list": "nlist", "nprobes": "nprobe", "n_probe": "nprobe",
    "nbit": "nbits", "n_bits": "nbits", "pq_m": "m", "M_pq": "m", "qtype": "nbits", "k_factor": "refine",
    "rerank_k": "rerank", "index": "inner", "niter": "iters", "M_opq": "m",
}

# Python exception, C status code, Go error class (capi/status.go maps the
# class onto the code). The Go and C names are older than the Python ones
# and are kept: errs.IO and OXV_E_IO are StorageError, errs.DuplicateID and
# OXV_E_DUPLICATE DuplicateIdError, errs.NoMemory and OXV_E_NOMEM
# MemoryLimitError; errHandle is capi's own class.
ERRORS = (
    ("InvalidArgumentError", "OXV_E_INVALID", "errs.InvalidArgument"),
    ("DimensionError", "OXV_E_DIMENSION", "errs.Dimension"),
    ("DuplicateIdError", "OXV_E_DUPLICATE", "errs.DuplicateID"),
    ("NotFoundError", "OXV_E_NOT_FOUND", "errs.NotFound"),
    ("StorageError", "OXV_E_IO", "errs.IO"),
    ("CorruptFileError", "OXV_E_CORRUPT", "errs.Corrupt"),
    ("UnsupportedError", "OXV_E_UNSUPPORTED", "errs.Unsupported"),
    ("CanceledError", "OXV_E_CANCELED", "errs.Canceled"),
    ("ClosedError", "OXV_E_CLOSED", "errs.Closed"),
    ("StateError", "OXV_E_STATE", "errs.State"),
    ("InvalidHandleError", "OXV_E_HANDLE", "errHandle"),
    ("MemoryLimitError", "OXV_E_NOMEM", "errs.NoMemory"),
    ("InternalError", "OXV_E_INTERNAL", "errs.Internal"),
    ("PermissionDeniedError", "OXV_E_PERMISSION", "errs.PermissionDenied"),
    ("QuotaExceededError", "OXV_E_QUOTA", "errs.QuotaExceeded"),
    ("RateLimitedError", "OXV_E_RATE", "errs.RateLimited"),
)
