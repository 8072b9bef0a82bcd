"""oxvec: vector search with a Go engine and a numpy face.

>>> import numpy as np, oxvec
>>> index = oxvec.Flat(dim=4)
>>> ids = index.add(np.eye(4, dtype=np.float32))
>>> found, dist = index.search(np.array([1, 0, 0, 0.1], np.float32), k=2)
>>> int(found[0])
0
"""

from ._errors import (
    CanceledError,
    ClosedError,
    CorruptFileError,
    DimensionError,
    DuplicateIdError,
    Error,
    ForkError,
    InternalError,
    InvalidArgumentError,
    InvalidHandleError,
    LibraryError,
    MemoryLimitError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitedError,
    RecoveryWarning,
    StateError,
    StorageError,
    UnsupportedError,
)
from ._index import HNSW, IVFPQ, LSH, OPQ, PQ, Binary, Flat, Index, IVFFlat, ScalarQuantizer, load
from ._diskann import DiskANN
from . import migrate  # other libraries' index files (issue 24); imports none of them
from ._call import set_progress
from . import gpu  # oxvec.gpu: loads nothing of CUDA until called
from ._restore import restore
from ._store import VectorStore
from ._monitor import Cache, metrics_text
from ._tenant import Collection, Database, Policy, Quota, Session
from ._text import analyze
from .client import Client  # the server's client: standard library only
from ._metrics import distance, fit_mahalanobis, knn, metrics, pairwise, set_simd_level, simd_level, simd_levels
from ._runtime import (
    engine_version,
    get_num_threads,
    set_gc_percent,
    set_memory_limit,
    set_num_threads,
)

__version__ = "0.1.0"

__all__ = [
    "Binary",
    "Cache",
    "Client",
    "CanceledError",
    "Collection",
    "ClosedError",
    "CorruptFileError",
    "Database",
    "DiskANN",
    "DimensionError",
    "DuplicateIdError",
    "Error",
    "Flat",
    "HNSW",
    "IVFFlat",
    "IVFPQ",
    "ForkError",
    "Index",
    "InternalError",
    "InvalidArgumentError",
    "InvalidHandleError",
    "LSH",
    "LibraryError",
    "MemoryLimitError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitedError",
    "OPQ",
    "PQ",
    "Policy",
    "Quota",
    "ScalarQuantizer",
    "Session",
    "RecoveryWarning",
    "StateError",
    "StorageError",
    "UnsupportedError",
    "VectorStore",
    "analyze",
    "distance",
    "engine_version",
    "fit_mahalanobis",
    "get_num_threads",
    "knn",
    "load",
    "metrics",
    "metrics_text",
    "pairwise",
    "restore",
    "set_gc_percent",
    "set_memory_limit",
    "set_num_threads",
    "set_progress",
    "set_simd_level",
    "simd_level",
    "simd_levels",
]
