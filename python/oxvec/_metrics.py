"""Distances without an index: one pair, all pairs, exact k-NN, and the
metric catalogue. docs/metrics.md states every formula and domain."""

from __future__ import annotations

import ctypes
import json
from ctypes import addressof

import numpy as np

from . import _convert as cv
from ._call import check, json_out, run_cancellable, state
from ._library import lib
from . import gpu as _gpu

_LONG_CALL_WORK = 50_000_000


def metric_spec(metric: str, params: dict) -> bytes:
    """The JSON the engine reads: {"metric": name, "metric_params": {...}}."""
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a name such as 'l2' or 'cosine', got {type(metric).__name__}")
    spec: dict = {"metric": metric}
    if params:
        clean = {}
        for key, value in params.items():
            if key not in ("p", "V", "VI"):
                raise TypeError(f"unknown metric parameter {key!r}; metrics take p (minkowski), V (seuclidean) or VI (mahalanobis)")
            clean[key] = np.asarray(value, np.float64).tolist() if key != "p" else float(value)
        spec["metric_params"] = clean
    return json.dumps(spec).encode()


def _is_bits(metric: str) -> bool:
    return metric.strip().lower() in ("hamming_bits", "bit_hamming", "hamming_packed")


def _bit_rows(x, what: str) -> np.ndarray:
    """Packed bit rows as C-contiguous uint8 (n, nbytes); bool arrays are
    packed along the last axis first."""
    a = np.asarray(x)
    if a.dtype == np.bool_:
        a = np.packbits(a, axis=-1)
    if a.dtype != np.uint8:
        raise TypeError(f"hamming_bits compares packed bits: pass {what} as uint8 bytes (numpy.packbits) or as bool, got dtype {a.dtype}")
    a = np.ascontiguousarray(a)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise cv.DimensionError(f"{what} must be 1-D or 2-D, got shape {a.shape}")
    return a


def _rows(x, what: str, dim: int | None = None) -> np.ndarray:
    if type(x) is not np.ndarray or x.dtype.kind != "f":
        x = cv._numeric(x, what)
    a = np.ascontiguousarray(x, dtype=np.float32) if x.dtype != np.float32 else np.ascontiguousarray(x)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise cv.DimensionError(f"{what} must be 1-D (one vector) or 2-D (n, d), got shape {a.shape}")
    if dim is not None and a.shape[1] != dim:
        raise cv.DimensionError(f"{what} has {a.shape[1]} columns, the other input has {dim}; both need the same d")
    return a


def _addr(a: np.ndarray) -> int:
    return cv.address(a) if a.size else 0


def pairwise(X, Y=None, metric: str = "l2", *, out: np.ndarray | None = None, device: str = "cpu", **params) -> np.ndarray:
    """Distances between every row of X and every row of Y (Y defaults to X).

    Parameters
    ----------
    X : array_like, (nx, d)
    Y : array_like, (ny, d), optional
    metric : str
        Any name from :func:`metrics`, e.g. "l2", "cosine", "minkowski".
    out : ndarray of float32, (nx, ny), optional
        Written in place when given (C-contiguous float32).
    **params
        p (minkowski), V (seuclidean), VI (mahalanobis). seuclidean and
        mahalanobis estimate them from X and Y when omitted, like
        scipy.spatial.distance.cdist.
    device : str
        "cpu" (default), "auto" (a GPU when one is usable, else the CPU),
        "cuda" or "cuda:N" (that GPU, or UnsupportedError saying what is
        missing). docs/gpu.md; the GPU path is unverified on hardware.

    Returns
    -------
    ndarray of float32, (nx, ny)
    """
    bits = _is_bits(metric)
    conv = _bit_rows if bits else _rows
    x = conv(X, "X")
    y = x if Y is None else (conv(Y, "Y") if bits else _rows(Y, "Y", x.shape[1]))
    if bits and y.shape[1] != x.shape[1]:
        raise cv.DimensionError(f"Y rows hold {y.shape[1]} bytes, X rows {x.shape[1]}; both need the same number of bits")
    nx, ny, d = x.shape[0], y.shape[0], x.shape[1]
    if out is None:
        out = np.empty((nx, ny), np.float32)
    elif not (isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (nx, ny) and out.flags.c_contiguous and out.flags.writeable):
        raise ValueError(f"out must be a writable C-contiguous float32 array of shape ({nx}, {ny})")
    spec = metric_spec(metric, params)
    xa, ya, oa = _addr(x), _addr(y), _addr(out)
    dev = _gpu.device_name(device)
    on_gpu = _gpu.runs_on_gpu(dev)

    def call(cancel: int) -> None:
        st = state
        if on_gpu:
            check(lib.oxv_gpu_pairwise(dev.encode(), spec, xa, nx, ya, ny, d, oa, cancel, st.err_addr), st)
        else:
            check(lib.oxv_pairwise(spec, xa, nx, ya, ny, d, oa, cancel, st.err_addr), st)

    run_cancellable(call, nx * ny * d > _LONG_CALL_WORK, (x, y, out))
    return out


def distance(a, b, metric: str = "l2", **params) -> float:
    """The distance between two vectors; see :func:`pairwise`."""
    if metric in ("seuclidean", "mahalanobis") and not params:
        raise ValueError(f"{metric} between two vectors needs its parameter ({'V' if metric == 'seuclidean' else 'VI'}): with two samples it cannot be estimated")
    return float(pairwise(a, b, metric, **params)[0, 0])


def knn(base, queries, k: int = 10, metric: str = "l2", *, device: str = "cpu", **params):
    """Exact k nearest neighbours of each query among the rows of base.

    Returns ``(ids, distances)`` of shape (nq, min(k, len(base))) (or 1-D
    for a 1-D query): row numbers of base and distances, sorted by distance.
    As for ``Index.search``, a k beyond the base costs nothing: the columns
    stop at the number of rows. device: as for :func:`pairwise` (on a GPU,
    k <= 256).
    """
    k = cv.k_value(k)
    dev = _gpu.device_name(device)
    on_gpu = _gpu.runs_on_gpu(dev)
    bits = _is_bits(metric)
    single = np.ndim(queries) == 1
    if bits:
        b, q = _bit_rows(base, "base"), _bit_rows(queries, "queries")
        if b.shape[1] != q.shape[1]:
            raise cv.DimensionError("base and queries must have the same number of bytes per row")
    else:
        b = _rows(base, "base")
        q = _rows(queries, "queries", b.shape[1])
    n, nq, d = b.shape[0], q.shape[0], b.shape[1]
    k = min(k, n)
    if k == 0:  # an empty base: nothing can come back
        ids, dist = np.empty((nq, 0), np.int64), np.empty((nq, 0), np.float32)
        return (ids[0], dist[0]) if single and nq else (ids, dist)
    ids = np.empty((nq, k), np.int64)
    dist = np.empty((nq, k), np.float32)
    spec = metric_spec(metric, params)
    ba, qa, ia, da = _addr(b), _addr(q), _addr(ids), _addr(dist)

    def call(cancel: int) -> None:
        st = state
        if on_gpu:
            check(lib.oxv_gpu_knn(dev.encode(), spec, ba, n, qa, nq, d, k, ia, da, cancel, st.err_addr), st)
        else:
            check(lib.oxv_knn(spec, ba, n, qa, nq, d, k, ia, da, cancel, st.err_addr), st)

    if nq:
        run_cancellable(call, n * nq * d > _LONG_CALL_WORK, (b, q, ids, dist))
    if single:
        return ids[0], dist[0]
    return ids, dist


def fit_mahalanobis(data, shrinkage: float = 0.0) -> np.ndarray:
    """Inverse covariance of the rows of data, for metric="mahalanobis".

    shrinkage in [0, 1] blends the sample covariance with a scaled identity
    ((1-s) C + s trace(C)/d I), which keeps it invertible when samples are
    few or dimensions nearly collinear. Returns a (d, d) float64 array.
    """
    x = _rows(data, "data")
    n, d = x.shape
    vi = np.empty((d, d), np.float64)
    st = state
    check(lib.oxv_fit_mahalanobis(_addr(x), n, d, float(shrinkage), _addr(vi), st.err_addr), st)
    return vi


def metrics() -> list[dict]:
    """The metric catalogue: name, aliases, is_metric, class, domain."""
    return json_out(lib.oxv_metrics, size=8192)


def simd_level() -> str:
    """The kernel level in use: "generic", "avx2" or "avx512"."""
    cur, best = ctypes.create_string_buffer(16), ctypes.create_string_buffer(16)
    lib.oxv_simd_level(addressof(cur), addressof(best), 16)
    return cur.value.decode()


def simd_levels() -> list[str]:
    """Every kernel level this CPU supports, lowest first."""
    cur, best = ctypes.create_string_buffer(16), ctypes.create_string_buffer(16)
    lib.oxv_simd_level(addressof(cur), addressof(best), 16)
    order = ["generic", "avx2", "avx512"]
    return order[: order.index(best.value.decode()) + 1]


def set_simd_level(level: str) -> None:
    """Use the kernels of this level from now on (tests, benchmarks); raises
    InvalidArgumentError when the CPU lacks it."""
    st = state
    check(lib.oxv_set_simd_level(str(level).encode(), st.err_addr), st)
