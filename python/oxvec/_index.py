"""Index classes: the numpy face of every engine index type."""

from __future__ import annotations

import ctypes
import json
import os
from ctypes import addressof

import numpy as np

from . import _capi
from . import _convert as cv
from ._call import _REQUEST, _REQUEST_SIZE, check, outputs, run_cancellable, search, state
from ._metrics import metric_spec
from ._resource import Resource

# Work (multiply-adds) above which a call runs Ctrl-C-interruptibly; below it
# the call is over before a helper thread would have started.
_LONG_CALL_WORK = 50_000_000


class Index(Resource):
    """An index of float32 vectors, each with an int64 id.

    Not created directly: use a concrete type such as :class:`Flat`, or
    :func:`oxvec.load`. Safe to use from many threads at once; the GIL is
    released while the engine works.
    """

    _free_name = "oxv_index_free"
    _types: dict[str, type[Index]] = {}
    type_name = ""

    def __init_subclass__(cls, **kw) -> None:
        super().__init_subclass__(**kw)
        if cls.type_name:
            Index._types[cls.type_name] = cls

    def __init__(self, spec: dict) -> None:
        st = state
        h = _capi.oxv_handle()
        check(_capi.oxv_index_new(json.dumps(spec).encode(), addressof(h), st.err_addr), st)
        self._adopt(h.value)

    def _adopt(self, handle: int) -> None:
        Resource.__init__(self, handle)
        info = self.info()
        self._dim = int(info["dim"])
        self._metric = str(info["metric"])
        self._count_hint = int(info["len"])  # sizes the Ctrl-C decision only

    # --- properties --------------------------------------------------------
    @property
    def dim(self) -> int:
        """Number of float32 values per vector."""
        return self._dim

    d = dim  # the name faiss users know

    @property
    def metric(self) -> str:
        """Canonical name of the distance the index ranks by."""
        return self._metric

    @property
    def ntotal(self) -> int:
        """Number of vectors in the index (faiss's name for len(index))."""
        return len(self)

    def __len__(self) -> int:
        st = state
        n = ctypes.c_int64()
        check(_capi.oxv_index_len(self._live(), addressof(n), st.err_addr), st)
        self._count_hint = n.value
        return n.value

    def info(self) -> dict:
        """Type, dim, metric, len and memory_bytes, as a dict."""
        return _info(self._live())

    @property
    def memory_bytes(self) -> int:
        """Bytes of engine memory the index holds."""
        return int(self.info()["memory_bytes"])

    def __repr__(self) -> str:
        if self.closed:
            return f"<oxvec.{type(self).__name__} (closed)>"
        return f"<oxvec.{type(self).__name__} dim={self._dim} metric={self._metric!r} ntotal={len(self)}>"

    # --- operations ---------------------------------------------------------
    def add(self, x, ids=None) -> np.ndarray:
        """Add vectors.

        Parameters
        ----------
        x : array_like, shape (n, dim) or (dim,)
            Vectors. float32 C-contiguous arrays are read in place; anything
            else is converted once.
        ids : array_like of int, shape (n,), optional
            Non-negative ids, unique in the index. Without them the index
            assigns fresh ones (never reused, also not after remove).

        Returns
        -------
        ids : ndarray of int64, shape (n,)
            The ids of the added vectors.
        """
        h = self._live()
        a, n, _ = cv.vectors(x, self._dim)
        if ids is None:
            out = np.empty(n, np.int64)
            ids_addr, out_addr = 0, cv.address(out) if n else 0
        else:
            out = cv.ids(ids, n)
            ids_addr, out_addr = (cv.address(out) if n else 0), 0
        if n == 0:
            return out
        x_addr = cv.address(a)

        def call(cancel: int) -> None:
            st = state
            check(_capi.oxv_index_add(h, x_addr, n, self._dim, ids_addr, out_addr, cancel, st.err_addr), st)

        run_cancellable(call, self._add_work(n) > _LONG_CALL_WORK)
        self._count_hint += n
        return out

    def search(self, queries, k: int = 10):
        """Find the k nearest neighbours of each query.

        Parameters
        ----------
        queries : array_like, shape (nq, dim) or (dim,)
            Query vectors; float32 C-contiguous arrays are read in place.
        k : int
            Neighbours per query.

        Returns
        -------
        ids : ndarray of int64, shape (nq, k) or (k,) for a 1-D query
        distances : ndarray of float32, same shape
            Sorted by distance, ties by id; where fewer than k vectors exist
            a row is padded with id -1 and distance +inf.
        """
        return self._search(queries, k, 0, 0)

    def _search(self, queries, k, ef: int, nprobe: int):
        # The hot path of the package: a single-query search costs about as
        # much Python as engine time, so this function stays flat and lean.
        h = self._handle or self._live()
        q = queries
        dim = self._dim
        if type(q) is np.ndarray and q.dtype is cv.F32 and q.ndim == 1 and q.shape[0] == dim and q.flags.c_contiguous:
            nq, single = 1, True
        else:
            q, nq, single = cv.vectors(q, dim, "queries")
        if type(k) is not int or k <= 0:
            k = cv.k_value(k)
        if nq == 0:
            return np.empty((0, k), np.int64), np.empty((0, k), np.float32)
        q_addr = cv.address(q)
        st = state
        ids, dist, ids_addr, dist_addr = outputs(st, nq * k)
        if nq * self._count_hint * dim <= _LONG_CALL_WORK:
            _REQUEST.pack_into(st.request, 0, _REQUEST_SIZE, ef, nprobe, 0, h, q_addr, nq, dim, k, ids_addr, dist_addr, 0)
            rc = _capi.oxv_index_search(st.request_ptr, st.err_ptr)
            if rc:
                check(rc, st)
        else:
            _search_long(h, q_addr, nq, dim, k, ids_addr, dist_addr, ef, nprobe)
        if single:
            return ids, dist
        return ids.reshape(nq, k), dist.reshape(nq, k)

    def remove(self, ids) -> int:
        """Remove vectors by id; returns how many were present. Unknown ids
        are ignored, like faiss's remove_ids."""
        h = self._live()
        a = cv.ids(ids, -1)
        st = state
        removed = ctypes.c_int64()
        check(_capi.oxv_index_remove(h, cv.address(a) if a.size else 0, a.size, addressof(removed), st.err_addr), st)
        self._count_hint -= removed.value
        return removed.value

    def save(self, path) -> None:
        """Write the index to path atomically (a crash leaves the old file or
        the new one, never a torn one)."""
        st = state
        check(_capi.oxv_index_save(self._live(), os.fsencode(path), st.err_addr), st)

    # Estimate of an add's work, to decide whether it runs interruptibly.
    def _add_work(self, n: int) -> int:
        return n * self._dim


def _search_long(h, q_addr, nq, dim, k, ids_addr, dist_addr, ef, nprobe) -> None:
    # A function of its own: a closure inside Index._search would make every
    # local it captures a cell on every call, which costs the hot path ~0.5 us.
    run_cancellable(lambda cancel: search(state, h, q_addr, nq, dim, k, ids_addr, dist_addr, cancel, ef, nprobe), True)


def _info(handle: int) -> dict:
    st = state
    size = 512
    while True:
        buf = ctypes.create_string_buffer(size)
        needed = ctypes.c_size_t()
        check(_capi.oxv_index_info(handle, addressof(buf), size, addressof(needed), st.err_addr), st)
        if needed.value <= size:
            return json.loads(buf.value)
        size = needed.value


class Flat(Index):
    """Exact search: every query is compared with every vector.

    Parameters
    ----------
    dim : int
        Values per vector.
    metric : str
        Any metric of :func:`oxvec.metrics` but hamming_bits: "l2" (squared
        euclidean, the default), "ip" (1 - inner product), "cosine",
        "manhattan", "minkowski", ... (docs/metrics.md).
    **metric_params
        p (minkowski), V (seuclidean), VI (mahalanobis; see
        :func:`oxvec.fit_mahalanobis`).
    """

    type_name = "flat"

    def __init__(self, dim: int, metric: str = "l2", **metric_params) -> None:
        spec = {"type": "flat", "dim": int(dim), "metric": metric}
        if metric_params:
            spec["metric_params"] = json.loads(metric_spec(metric, metric_params))["metric_params"]
        super().__init__(spec)


def load(path) -> Index:
    """Load an index saved with :meth:`Index.save`; returns the right class."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise FileNotFoundError(2, "no oxvec index at this path", p)
    st = state
    h = _capi.oxv_handle()
    check(_capi.oxv_index_load(os.fsencode(p), addressof(h), st.err_addr), st)
    try:
        cls = Index._types.get(_info(h.value)["type"], Index)
    except BaseException:
        check(_capi.oxv_index_free(h.value, st.err_addr), st)
        raise
    idx = cls.__new__(cls)
    idx._adopt(h.value)
    return idx
