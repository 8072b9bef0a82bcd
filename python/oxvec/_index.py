"""Index classes: the numpy face of every engine index type."""

from __future__ import annotations

import ctypes
import difflib
import inspect
import json
import os
from ctypes import addressof

import numpy as np

from . import _capi, _jupyter, _pandas
from . import _convert as cv
from ._call import NO_FILTER, check, json_out, outputs, run_cancellable, search, state
from ._fast import search as _fast_search
from ._library import lib
from ._metrics import metric_spec
from ._resource import Resource
from ._errors import UnsupportedError
from ._vocabulary import ALIASES, HINTS, SPEC_KEYS
from . import gpu as _gpu

# Work (multiply-adds) above which a call runs Ctrl-C-interruptibly; below it
# the call is over before a helper thread would have started.
_LONG_CALL_WORK = 50_000_000

# ef and nprobe travel as int32; the engine caps both by what the index
# holds (its nodes, its lists), so a larger value means the same as this.
_KNOB_MAX = (1 << 31) - 1

# range_search's first guess of its results per query (the engine's first
# k), and the most results that guess may reserve for all queries together
_RANGE_GUESS = 16
_RANGE_GUESS_MAX = 1 << 22


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

    def _create(self, dim, metric: str, kw: dict, **params) -> None:
        """Make the engine index of this class: the one place a spec is
        built. params are the constructor's own keywords; kw its others:
        old names of its parameters (_vocabulary.ALIASES) and the metric
        parameters, anything else a TypeError."""
        cls = type(self)
        for old, new in ALIASES.get(cls.type_name, {}).items():
            if old in kw:
                value = kw.pop(old)
                if params[new] not in (value, _default(cls, new)):
                    raise TypeError(f"give {new} or its old name {old}, not both")
                params[new] = int(value) if isinstance(params[new], int) else value
        spec = {"type": cls.type_name, "dim": int(dim), "metric": metric}
        keys = SPEC_KEYS.get(cls.type_name, {})
        for name, value in params.items():
            spec[keys.get(name, name)] = value
        metric_params = _metric_params(cls, metric, kw)
        if metric_params:
            spec["metric_params"] = metric_params
        st = state
        h = _capi.oxv_handle()
        check(lib.oxv_index_new(json.dumps(spec).encode(), addressof(h), st.err_addr), st)
        self._adopt(h.value)

    def _adopt(self, handle: int) -> None:
        Resource.__init__(self, handle)
        info = self.info()
        self._dim = int(info["dim"])
        self._metric = str(info["metric"])
        # len() as last seen: sizes the Ctrl-C decision and decides when a
        # search must ask for the true count to cut k (see _search)
        self._count_hint = int(info["len"])

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
        check(lib.oxv_index_len(self._live(), addressof(n), st.err_addr), st)
        self._count_hint = n.value
        return n.value

    def info(self) -> dict:
        """Type, dim, metric, len and memory_bytes, as a dict."""
        return _info(self._live())

    @property
    def memory_bytes(self) -> int:
        """Bytes of engine memory the index holds."""
        return int(self.info()["memory_bytes"])

    # --- search defaults: faiss's index.nprobe, hnswlib's index.ef -----------
    @property
    def nprobe(self) -> int:
        """Cells a search scans by default (IVFFlat, IVFPQ, OPQ over one of
        them). Setting it changes the default of later searches, from any
        thread, and ``search(..., nprobe=)`` still overrides it per call.
        The value is saved with the index (``save``/``load`` keep it). Types
        without cells raise AttributeError, for reading and for setting."""
        return self._knob("nprobe")

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self._set_knob("nprobe", value)

    @property
    def ef(self) -> int:
        """The candidate list size of an HNSW search by default (its
        ``ef_search``; hnswlib's ``index.ef``). Setting it changes the
        default of later searches, from any thread, and ``search(..., ef=)``
        still overrides it per call. The value is saved with the index
        (``save``/``load`` keep it). Types without a graph raise
        AttributeError, for reading and for setting."""
        return self._knob("ef")

    @ef.setter
    def ef(self, value: int) -> None:
        self._set_knob("ef", value)

    ef_search = ef  # the constructor's name for it

    def _knob(self, name: str) -> int:
        params = self.info().get("params") or {}
        if name not in params:
            raise AttributeError(self._no_knob(name, params))
        return int(params[name])

    def _set_knob(self, name: str, value) -> None:
        params = self.info().get("params") or {}
        if name not in params:
            raise AttributeError(self._no_knob(name, params))
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not 1 <= value < 2**31:
            raise cv.InvalidArgumentError(f"{name} must be an int between 1 and 2**31 - 1, got {value!r}")
        st = state
        check(lib.oxv_index_set_params(self._live(), json.dumps({name: int(value)}).encode(), st.err_addr), st)

    def _no_knob(self, name: str, params: dict) -> str:
        has = f"its search knob is {', '.join(params)}" if params else "its search has no knobs"
        return f"{type(self).__name__} has no {name} ({has}); setting it would change nothing"

    def __setattr__(self, name: str, value) -> None:
        # index.efSearch = 64 or index.M = 32 (faiss's and hnswlib's names)
        # would quietly make an attribute that changes nothing
        if name in HINTS and not hasattr(type(self), name):
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}{_hint(type(self), name)}")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        if self.closed:
            return f"<oxvec.{type(self).__name__} (closed)>"
        f = _jupyter.index_fields(self)
        extra = f" memory={f['memory']}" + (f" {_jupyter._fmt(f['parameters'])}" if f.get("parameters") else "")
        return f"<oxvec.{type(self).__name__} dim={self._dim} metric={self._metric!r} ntotal={f['count']}{extra}>"

    def _repr_html_(self) -> str:
        """Jupyter's view: type, dim, metric, count, memory, parameters."""
        if self.closed:
            return _jupyter.closed_html(type(self).__name__)
        return _jupyter.table(type(self).__name__, _jupyter.index_fields(self))

    def search_pandas(self, queries, k: int = 10, **search_kw):
        """:meth:`search` as a pandas DataFrame: one row per (query, rank)
        with columns query, rank, id, distance (padding rows left out)."""
        found, dist = self.search(queries, k, **search_kw)
        return _pandas.index_frame(np.atleast_2d(found), np.atleast_2d(dist))

    # --- operations ---------------------------------------------------------
    def add(self, x, ids=None, *, progress=None) -> np.ndarray:
        """Add vectors.

        Parameters
        ----------
        x : array_like, shape (n, dim) or (dim,)
            Vectors. float32 C-contiguous arrays are read in place; anything
            else is converted once.
        ids : array_like of int, shape (n,), optional
            Non-negative ids, unique in the index: an id that is present
            raises DuplicateIdError in every index type (remove it first to
            replace its vector). Without them the index assigns fresh ones
            (never reused, also not after remove).
        progress : bool, optional
            A tqdm progress bar for a long add (HNSW reports vectors
            linked): True, False, or None for ``oxvec.set_progress``'s
            default (a terminal or a notebook). Needs tqdm installed.

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
            check(lib.oxv_index_add(h, x_addr, n, self._dim, ids_addr, out_addr, cancel, st.err_addr), st)

        run_cancellable(call, self._add_work(n) > _LONG_CALL_WORK, (a, out), progress, f"adding {n:,} vectors", "vec")
        self._count_hint += n
        return out

    def train(self, x, *, progress=None, device: str = "cpu") -> None:
        """Learn from representative vectors (types that need it: IVF). For
        types that need no training this does nothing, as in faiss.
        progress: a tqdm bar of k-means iterations for a long training, as
        in :meth:`add`. device: where k-means assigns points to centroids:
        "cpu" (default), "auto", "cuda" or "cuda:N" (docs/gpu.md)."""
        h = self._live()
        dev = _gpu.device_name(device)
        on_gpu = _gpu.runs_on_gpu(dev)
        a, n, _ = cv.vectors(x, self._dim, "training vectors")
        x_addr = cv.address(a) if n else 0

        def call(cancel: int) -> None:
            st = state
            if on_gpu:
                check(lib.oxv_gpu_index_train(h, dev.encode(), x_addr, n, self._dim, cancel, st.err_addr), st)
            else:
                check(lib.oxv_index_train(h, x_addr, n, self._dim, cancel, st.err_addr), st)

        run_cancellable(call, n * self._dim * 1000 > _LONG_CALL_WORK, (a,), progress, "training k-means", "iter")

    @property
    def is_trained(self) -> bool:
        """False until :meth:`train` ran on a type that learns (faiss's name)."""
        return bool(self.info().get("trained", True))

    def search(self, queries, k: int = 10, *, filter=None):
        """Find the k nearest neighbours of each query.

        Parameters
        ----------
        queries : array_like, shape (nq, dim) or (dim,)
            Query vectors; float32 C-contiguous arrays are read in place.
        k : int
            Neighbours per query.
        filter : array_like, optional
            An allow-list: an array of ids, or a boolean mask indexed by id.

        Returns
        -------
        ids : ndarray of int64, shape (nq, min(k, len(index))), or
            (min(k, len(index)),) for a 1-D query
        distances : ndarray of float32, same shape
            Sorted by distance, ties by id. A k beyond the index is cut to
            its size (an empty index gives shape (nq, 0)), so time and memory
            follow the index, not k. A row with fewer results than that (a
            filter, an approximate index probing few cells) is padded with
            id -1 and distance +inf.
        """
        return self._search(queries, k, 0, 0, filter)

    def _search(self, queries, k, ef: int, nprobe: int, filter):
        # The hot path of the package: a single-query search costs about as
        # much Python as engine time, so this function stays flat and lean.
        # The C call (_fast.py) takes what it can: float32 C-contiguous
        # queries, no filter, k within the index; None sends the rest on.
        if _fast_search is not None and filter is None and type(k) is int and 0 < k <= self._count_hint:
            r = _fast_search(self._handle, queries, self._dim, k, ef, nprobe, self._search_cost())
            if r is not None:
                return r
        h = self._handle or self._live()
        q = queries
        dim = self._dim
        if type(q) is np.ndarray and q.dtype is cv.F32 and q.ndim == 1 and q.shape[0] == dim and q.flags.c_contiguous:
            nq, single = 1, True
        else:
            q, nq, single = cv.vectors(q, dim, "queries")
        if type(k) is not int or k <= 0:
            k = cv.k_value(k)
        if k > self._count_hint:
            # Rows hold min(k, len) results. The hint is exact but for other
            # threads' changes; one too low only costs this refresh, one too
            # high only pads up to k.
            k = min(k, len(self))
            if k == 0:
                return self._search_empty(q, nq, single, ef, nprobe, filter)
        if nq == 0:
            return np.empty((0, k), np.int64), np.empty((0, k), np.float32)
        st = state
        ids, dist, ids_addr, dist_addr = outputs(st, nq * k)
        if filter is None and nq * self._search_cost() <= _LONG_CALL_WORK:
            search(st, h, cv.address(q), nq, dim, k, ids_addr, dist_addr, 0, ef, nprobe)
        else:
            _search_call(h, q, nq, dim, k, (ids, dist, ids_addr, dist_addr), ef, nprobe, filter,
                         nq * self._search_cost() > _LONG_CALL_WORK)
        if single:
            return ids, dist
        return ids.reshape(nq, k), dist.reshape(nq, k)

    def _search_extra(self, queries, k, ef: int, nprobe: int, filter, recall: float = 0.0, beam_width: int = 0):
        """_search with the request's less common fields (a learned policy's
        recall, a disk graph's beam width), off the hot path: one general
        route for what only some index types read."""
        q, nq, single = cv.vectors(queries, self._dim, "queries")
        kk = min(cv.k_value(k), len(self))
        if kk == 0 or nq == 0:  # nothing to search: the plain path's empty results
            return self._search(queries, k, ef, nprobe, filter)
        out = outputs(state, nq * kk)
        _search_call(self._live(), q, nq, self._dim, kk, out, ef, nprobe, filter, nq * self._search_cost() > _LONG_CALL_WORK,
                     None, recall, beam_width)
        ids, dist = out[0], out[1]
        if single:
            return ids, dist
        return ids.reshape(nq, kk), dist.reshape(nq, kk)

    def _search_empty(self, q, nq, single, ef: int, nprobe: int, filter):
        """An empty index's results, no columns, once the engine has checked
        the call as any search (an untrained index, NaN, a bad filter)."""
        if nq:
            _search_call(self._live(), q, nq, self._dim, 1, outputs(state, nq), ef, nprobe, filter, False)
        shape = (0,) if single else (nq, 0)
        return np.empty(shape, np.int64), np.empty(shape, np.float32)

    def _search_args(self, filter=None):
        """(ef, nprobe, filter) from the keywords of this type's search."""
        return 0, 0, filter

    def remove(self, ids) -> int:
        """Remove vectors by id; returns how many were present. Unknown ids
        are ignored, like faiss's remove_ids."""
        h = self._live()
        a = cv.ids(ids, -1)
        st = state
        removed = ctypes.c_int64()
        check(lib.oxv_index_remove(h, cv.address(a) if a.size else 0, a.size, addressof(removed), st.err_addr), st)
        self._count_hint -= removed.value
        return removed.value

    def get_vectors(self, ids) -> np.ndarray:
        """The vectors of ``ids``, like faiss's ``reconstruct_batch``.

        Parameters
        ----------
        ids : int or array_like of int, shape (n,)

        Returns
        -------
        ndarray of float32, shape (n, dim), or (dim,) for a single int id.
            Flat, HNSW, IVFFlat (and IVFPQ with refine, Binary with
            rerank > 0) give the stored vectors exactly; PQ,
            ScalarQuantizer and IVFPQ give the decoded reconstruction that
            their distances are computed to; OPQ gives its inner index's,
            rotated back. A Binary index with ``rerank=0`` keeps one bit per
            dimension and raises UnsupportedError. Vectors are stored as the
            metric prepares them: unit length for "cosine" (and the other
            normalising metrics), unchanged for "l2" and "ip".

        Raises NotFoundError naming the ids that are not in the index.
        """
        h = self._live()
        single = isinstance(ids, (int, np.integer)) and not isinstance(ids, (bool, np.bool_))
        a = cv.ids(ids, -1)
        out = np.empty((a.size, self._dim), np.float32)
        if a.size:
            st = state
            check(lib.oxv_index_vectors(h, cv.address(a), a.size, cv.address(out), self._dim, st.err_addr), st)
        return out[0] if single else out

    def __contains__(self, id) -> bool:
        """``id in index``: whether a vector with this int id is present."""
        if isinstance(id, (bool, np.bool_)) or not isinstance(id, (int, np.integer)):
            raise TypeError(f"'in' takes an int id, got {type(id).__name__}")
        if not 0 <= id < 2**63:
            return False
        h = self._live()
        a = np.array([id], np.int64)
        st = state
        rc = lib.oxv_index_vectors(h, cv.address(a), 1, 0, self._dim, st.err_addr)
        if rc == _capi.OXV_E_NOT_FOUND:
            return False
        check(rc, st)
        return True

    def save(self, path) -> None:
        """Write the index to path atomically (a crash leaves the old file or
        the new one, never a torn one)."""
        st = state
        check(lib.oxv_index_save(self._live(), os.fsencode(path), st.err_addr), st)

    # Estimates of a call's work (multiply-adds), to decide whether it runs
    # Ctrl-C-interruptibly. _count_hint may lag behind other threads'
    # changes; an estimate is all this needs, and it saves an engine call.
    def _search_cost(self) -> int:
        return self._count_hint * self._dim

    def _add_work(self, n: int) -> int:
        return n * self._dim

    def compact(self) -> None:
        """Give the memory of removed vectors back (HNSW renumbers its graph;
        exact indexes shrink as they go and need nothing)."""
        st = state
        check(lib.oxv_index_compact(self._live(), st.err_addr), st)

    def range_search(self, queries, radius: float, **search_kw):
        """Every indexed vector within distance ``radius`` of each query.

        The engine searches the k nearest with a growing k (16, 64, ...)
        until a query's k-th result lies beyond the radius, so it is exact
        for exact indexes and as good as the search itself for approximate
        ones. ``search_kw`` are those of this type's :meth:`search` (ef,
        nprobe, filter). Returns ``(ids, distances)`` for a 1-D query, else
        faiss's layout ``(lims, ids, distances)``: the results of query i are
        ``ids[lims[i]:lims[i+1]]``, sorted by distance.
        """
        ef, nprobe, filter = self._search_args(**search_kw)
        q, nq, single = cv.vectors(queries, self._dim, "queries")
        radius = float(radius)
        h = self._live()
        lims = np.zeros(nq + 1, np.int64)
        needed = ctypes.c_int64()
        lims_addr, needed_addr = cv.address(lims), addressof(needed)

        def range_call(request, err):
            return lib.oxv_index_range_search(request, radius, lims_addr, needed_addr, err)

        # The results' count is known only afterwards: the engine fills the
        # outputs when they hold them, else says how many there are.
        k = max(1, min(_RANGE_GUESS, _RANGE_GUESS_MAX // max(nq, 1)))
        while True:
            ids, dist = np.empty(nq * k, np.int64), np.empty(nq * k, np.float32)
            _search_call(h, q, nq, self._dim, k, (ids, dist, cv.address(ids), cv.address(dist)), ef, nprobe, filter,
                         nq * self._search_cost() > _LONG_CALL_WORK, range_call)
            if needed.value <= nq * k:
                break
            k = -(-needed.value // nq)
        ids, dist = ids[:needed.value], dist[:needed.value]
        if single:
            return ids, dist
        return lims, ids, dist


def _search_call(h, q, nq, dim, k, out, ef, nprobe, filter, long: bool, call=None, recall: float = 0.0,
                 beam_width: int = 0) -> None:
    """A search request with its filter into out (ids, distances and their
    addresses), Ctrl-C-interruptible when long. A function of its own: a
    closure inside Index._search would make every local it captures a cell
    on every call, which costs the hot path ~0.5 us."""
    allow = None if filter is None else cv.allow_list(filter)
    filt = NO_FILTER if allow is None else cv.filter_fields(allow)
    q_addr = cv.address(q) if nq else 0
    _, _, ids_addr, dist_addr = out
    run_cancellable(lambda cancel: search(state, h, q_addr, nq, dim, k, ids_addr, dist_addr, cancel, ef, nprobe, *filt, call, recall,
                                          beam_width),
                    long, (q, out, allow))


def _knob(name: str, value) -> int:
    """A search call's ef or nprobe as the request carries it (0: the
    index's default)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise cv.InvalidArgumentError(f"{name} must be an int >= 1, got {value!r}")
    return min(int(value), _KNOB_MAX)


def _info(handle: int) -> dict:
    return json_out(lib.oxv_index_info, handle, size=512)


_METRIC_PARAMS = ("p", "V", "VI")


def _keywords(cls) -> list[str]:
    sig = inspect.signature(cls.__init__)
    return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind is not p.VAR_KEYWORD]


def _default(cls, name: str):
    return inspect.signature(cls.__init__).parameters[name].default


def _hint(cls, name: str) -> str:
    """What to say about an unknown keyword: the one meant (a name from
    _vocabulary.HINTS, the canonical name of an old one in another case, a
    near one), else the keywords there are. A hint names only keywords of
    cls."""
    valid = _keywords(cls)
    target = HINTS.get(name) or ALIASES.get(cls.type_name, {}).get(name.lower())
    if target not in valid:
        lower = {v.lower(): v for v in valid}
        target = lower.get(name.lower()) or next(iter(difflib.get_close_matches(name, valid, n=1)), None)
    if target:
        return f"; did you mean {target!r}?"
    return f" (it takes {', '.join(valid)}, and the metric parameters {', '.join(_METRIC_PARAMS)})"


def _metric_params(cls, metric: str, kw: dict) -> dict | None:
    """The metric parameters among a constructor's extra keywords; any other
    keyword is a TypeError, as Python's own for a bad keyword, naming the
    keyword and the one meant."""
    for name in kw:
        if name not in _METRIC_PARAMS:
            raise TypeError(f"unknown keyword {name!r} for {cls.__name__}{_hint(cls, name)}")
    if not kw:
        return None
    return json.loads(metric_spec(metric, kw))["metric_params"]


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
        :func:`oxvec.fit_mahalanobis`); and device: where searches run,
        "cpu" (default), "auto", "cuda" or "cuda:N" (docs/gpu.md; not part
        of the saved index). "cuda" without a usable GPU raises
        UnsupportedError here, saying what is missing.
    """

    type_name = "flat"

    def __init__(self, dim: int, metric: str = "l2", **metric_params) -> None:
        # device travels beside the metric parameters so the constructor's
        # keywords stay the spec's (tests/test_vocabulary.py)
        device = _gpu.device_name(metric_params.pop("device", "cpu"))
        _gpu.require(device)
        self._create(dim, metric, metric_params)
        self._device = device

    @property
    def device(self) -> str:
        """Where searches run: "cpu", "auto", "cuda" or "cuda:N"."""
        return getattr(self, "_device", "cpu")

    def search(self, queries, k: int = 10, *, filter=None):
        """As :meth:`Index.search`; on a GPU when :attr:`device` says so
        (an unfiltered search; with "auto" a filtered one runs on the CPU)."""
        dev = self.device
        if dev == "cpu" or not _gpu.runs_on_gpu(dev) or (filter is not None and dev == "auto"):
            return self._search(queries, k, 0, 0, filter)
        if filter is not None:
            raise UnsupportedError(f"device={dev!r}: a filtered search runs on the CPU; use device='cpu' or 'auto'")
        return self._device_search(dev, queries, k)

    def _device_search(self, dev: str, queries, k):
        h = self._live()
        q, nq, single = cv.vectors(queries, self._dim, "queries")
        k = min(cv.k_value(k), len(self))
        if k == 0 or nq == 0:
            return self._search(queries, max(k, 1), 0, 0, None)
        ids, dist = np.empty((nq, k), np.int64), np.empty((nq, k), np.float32)
        qa, ia, da = cv.address(q), cv.address(ids), cv.address(dist)

        def call(cancel: int) -> None:
            st = state
            check(lib.oxv_gpu_index_search(h, dev.encode(), qa, nq, self._dim, k, ia, da, cancel, st.err_addr), st)

        run_cancellable(call, nq * self._search_cost() > _LONG_CALL_WORK, (q, ids, dist))
        if single:
            return ids[0], dist[0]
        return ids, dist


class HNSW(Index):
    """Approximate search on a hierarchical navigable small world graph.

    Parameters
    ----------
    dim : int
        Values per vector.
    metric : str
        Any metric of :func:`oxvec.metrics` but hamming_bits (docs/metrics.md);
        true metrics and the dot family give the graph its guarantees.
    m : int
        Links per node (2*m at the bottom level); more gives better recall
        and bigger, slower-to-build graphs. Default 16.
    ef_construction : int
        Candidate list size while inserting. Default 200.
    ef_search : int
        Default candidate list size of a search (``search(..., ef=)``
        overrides it per call). Default 100. ``index.ef`` (or
        ``index.ef_search``) reads and changes it later, as hnswlib's
        ``index.ef``; the value is saved with the index.
    max_elements : int, optional
        Initial capacity; the index grows on demand anyway.
    seed : int
        Seed of the random node levels; a single-threaded build
        (``oxvec.set_num_threads(1)``) is deterministic for a seed.
    quantize : {None, "int8", "none"}
        "int8" keeps a one-byte copy of every vector and walks the graph on
        it (a quarter of the memory traffic), then ranks the ef candidates
        again on the float32 vectors, so results and distances stay exact
        (only which candidates the walk finds depends on the codes). Costs
        dim bytes per vector more. For l2-family metrics and those whose
        vectors are normalised (cosine, angular, correlation, ...).
        "none" walks on the float32 vectors. None (the default) means
        "int8" where the metric allows it and dim >= 64, else "none";
        ``index.info()["quantize"]`` says which was chosen.
    **metric_params
        p (minkowski), V (seuclidean), VI (mahalanobis).

    Adding an id that is present raises DuplicateIdError, as every index
    type does; hnswlib instead replaces the vector. To replace one, remove
    it first: ``index.remove([i]); index.add(v, ids=[i])`` (the slot is
    reused).
    """

    type_name = "hnsw"

    def __init__(self, dim: int, metric: str = "l2", m: int = 16, ef_construction: int = 200, ef_search: int = 100,
                 max_elements: int | None = None, seed: int = 1, quantize: str | None = None, **metric_params) -> None:
        self._create(dim, metric, metric_params, m=int(m), ef_construction=int(ef_construction), ef_search=int(ef_search),
                     max_elements=int(max_elements or 0), seed=int(seed), quantize=quantize or "")

    def search(self, queries, k: int = 10, *, ef: int | None = None, filter=None):
        """Find the k nearest neighbours of each query (approximately).

        Parameters
        ----------
        queries : array_like, (nq, dim) or (dim,)
        k : int
        ef : int, optional
            Candidate list size for this call (default: the index's
            ef_search); raised to k when smaller, capped by the number of
            nodes. Larger is slower and more accurate.
        filter : array_like, optional
            An allow-list: an array of ids, or a boolean mask indexed by id.
            Applied inside the graph walk; when it admits few vectors the
            index scans them exactly instead.

        Returns
        -------
        (ids, distances), as :meth:`Index.search`.
        """
        return self._search(queries, k, *self._search_args(ef, filter))

    def _search_args(self, ef=None, filter=None):
        return _knob("ef", ef), 0, filter

    def _search_cost(self) -> int:
        # a graph walk computes a few thousand distances, not one per vector
        return 2000 * self._dim

    def _add_work(self, n: int) -> int:
        return n * self._dim * 4000  # each insert walks the graph like a search


class IVFFlat(Index):
    """Inverted-file index with exact vectors (faiss's IndexIVFFlat):
    k-means splits space into ``nlist`` cells, each vector is stored in its
    nearest cell, and a search scans the ``nprobe`` cells nearest the query.

    Train first (``train(x)``, at least ``nlist`` vectors; 30-250 per list
    is typical), then add. Memory: 4*dim + 8 bytes per vector (as faiss)
    plus the centroids; an id map of about 24 bytes per vector is added at
    the first remove or non-sequential id.

    Parameters
    ----------
    dim : int
    metric : str
        l2-family metrics (l2, euclidean, seuclidean, ...) or the dot family
        (ip, cosine, angular, correlation, ...): cells are ranked by l2 or
        by inner product respectively.
    nlist : int
        Number of cells. Default 100.
    nprobe : int
        Cells a search scans by default (``search(..., nprobe=)`` overrides
        it). Default 1, as in faiss. ``index.nprobe = 16`` changes it later,
        as in faiss; the value is saved with the index.
    seed : int
        Seed of k-means.
    """

    type_name = "ivf_flat"

    def __init__(self, dim: int, metric: str = "l2", nlist: int = 100, nprobe: int = 1, seed: int = 1,
                 **metric_params) -> None:
        self._create(dim, metric, metric_params, nlist=int(nlist), nprobe=int(nprobe), seed=int(seed))

    def search(self, queries, k: int = 10, *, nprobe: int | None = None, recall: float | None = None, filter=None):
        """Find the k nearest neighbours of each query among the vectors of
        the ``nprobe`` nearest cells (default: the index's nprobe).

        recall : float in (0, 1], optional
            With a learned policy (:meth:`train_policy`): each query gets
            the cells the policy predicts it needs for this mean recall,
            instead of one nprobe for all. Not with ``nprobe``.

        Returns (ids, distances), as :meth:`Index.search`."""
        if recall is None:
            return self._search(queries, k, *self._search_args(nprobe, filter))
        if nprobe is not None:
            raise TypeError("give nprobe or recall, not both: recall lets the learned policy choose each query's nprobe")
        if isinstance(recall, bool) or not isinstance(recall, (int, float, np.floating)) or not 0 < recall <= 1:
            raise cv.InvalidArgumentError(f"recall must be a number in (0, 1], got {recall!r}")
        return self._search_extra(queries, k, 0, 0, filter, recall=float(recall))

    def train_policy(self, queries, k: int = 10, truth=None) -> None:
        """Learn a search policy (learned adaptive early termination, Li et
        al., SIGMOD 2020) so that ``search(q, k, recall=r)`` chooses each
        query's nprobe: a linear model, fitted on these sample queries with
        their exact neighbours, predicts from the first 2 cells probed (the
        nearest centroids' distances, the first and k-th result so far) how
        many cells the query needs; per target recall from 0.5 to 1 a shift
        is calibrated on predictions for queries the model was not fitted
        on (5-fold cross-fitting), so the mean recall of new queries like
        these meets the target.

        queries : (nq, dim) float32, nq >= 50, like the queries to come
        (not the index's own vectors: each one's nearest neighbour is
        itself). A few hundred to a few thousand; more make the calibration
        closer. k: the results the policy is trained for (default 10).
        truth : (nq, k) int array, optional: each query's exact k nearest
        ids. Without it the index finds them itself: IVFFlat by scanning
        every cell, IVFPQ on its stored vectors (refine > 0 only; an IVFPQ
        without refine needs truth, e.g. from a Flat index). Train after
        adding the data; the policy is saved with the index and kept, not
        retrained, as vectors are added or removed. Whether it beats a
        fixed nprobe on your data: benchmarks/RESULTS.md and docs/lsh.md.
        """
        q, nq, _ = cv.vectors(queries, self._dim, "sample queries")
        k = cv.k_value(k)
        t = None
        if truth is not None:
            t = np.asarray(truth)
            if t.dtype.kind not in "iu" or t.shape != (nq, k):
                raise cv.InvalidArgumentError(
                    f"truth must be an integer array of shape (nq, k) = ({nq}, {k}): each sample query's exact k nearest ids; "
                    f"got {t.dtype} of shape {t.shape}")
            t = np.ascontiguousarray(t, dtype=np.int64)

        def call(cancel: int) -> None:
            st = state
            check(lib.oxv_index_train_policy(self._live(), cv.address(q) if nq else 0, nq, self._dim, k,
                                             cv.address(t) if t is not None and t.size else 0, cancel, st.err_addr), st)

        run_cancellable(call, True, (q, t))

    def _search_args(self, nprobe=None, filter=None):
        return 0, _knob("nprobe", nprobe), filter

    def _search_cost(self) -> int:
        return max(1, self._count_hint) * self._dim // 10


class Binary(Index):
    """Binary quantization: one bit per dimension (above or below the
    training mean of that dimension), searched by hamming distance with
    popcount; the ``rerank * k`` best candidates are then ranked exactly on
    the stored float32 vectors.

    Train first (the per-dimension means; any representative sample).
    Memory per vector: dim/8 bytes of code (in 8-byte words) + 8 for the id,
    plus 4*dim when rerank > 0. With ``rerank=0`` no vectors are kept and
    distances are hamming counts. Works best on high-dimensional embeddings
    (hundreds of dimensions); recall against exact search is in
    benchmarks/RESULTS.md.

    Parameters
    ----------
    dim : int
    metric : str
        For re-ranking: the l2 family or the dot family (cosine, ip, ...).
    rerank : int
        Candidates re-ranked per result (default 10).
    """

    type_name = "binary"

    def __init__(self, dim: int, metric: str = "l2", rerank: int = 10, **metric_params) -> None:
        self._create(dim, metric, metric_params, rerank=int(rerank))


class ScalarQuantizer(Index):
    """Scalar quantization (faiss's IndexScalarQuantizer): each dimension
    in 8 or 4 bits over a trained range, searched exhaustively with the
    query kept in float32 (asymmetric distances).

    Train first (each dimension's min and max, or one range for all with
    ``range="uniform"``). Memory per vector: dim bytes (8-bit) or
    ceil(dim/2) (4-bit), as faiss; ids and an id map (about 32 bytes per
    vector) only once ids stop being 0, 1, 2, ... Distances are those to the
    decoded vectors.

    Parameters
    ----------
    dim : int
    metric : str
        The l2 family or the dot family (cosine, ip, ...).
    nbits : {8, 4}
        Bits per dimension, as :class:`PQ` names them (``bits=``, the
        first name, is still accepted).
    range : {"per_dim", "uniform"}
    """

    type_name = "sq"

    def __init__(self, dim: int, metric: str = "l2", nbits: int = 8, range: str = "per_dim", **kw) -> None:
        self._create(dim, metric, kw, nbits=int(nbits), range=range)


class PQ(Index):
    """Product quantization (faiss's IndexPQ): each vector is cut into ``m``
    sub-vectors, each stored as the number of its nearest of 2**nbits
    centroids learnt by k-means in that sub-space; searched exhaustively
    with asymmetric distances (query in float32, one table per query).

    Train first (at least 2**nbits vectors; about 40 times that is better).
    Memory per vector: m*nbits/8 bytes of code plus the id. Distances are
    those to the reconstructed vectors.

    Parameters
    ----------
    dim : int
    metric : str
        The l2 family or the dot family (cosine, ip, ...).
    m : int
        Sub-quantizers; must divide dim.
    nbits : {8, 4}
    seed : int
    """

    type_name = "pq"

    def __init__(self, dim: int, metric: str = "l2", m: int = 8, nbits: int = 8, seed: int = 1, **metric_params) -> None:
        self._create(dim, metric, metric_params, m=int(m), nbits=int(nbits), seed=int(seed))


class IVFPQ(Index):
    """Inverted file with product-quantized residuals (faiss's IndexIVFPQ):
    ``nlist`` k-means cells, and in each the vector minus its cell's
    centroid stored as an ``m``-part PQ code. A search scans the codes of
    the ``nprobe`` nearest cells with asymmetric distances; ``refine=r``
    keeps the float32 vectors too and ranks the best r*k candidates
    exactly (faiss's IndexRefineFlat).

    Train first (at least max(nlist, 2**nbits) vectors). Memory per vector:
    m*nbits/8 bytes of code, the id, plus 4*dim with refine.

    Parameters
    ----------
    dim : int
    metric : str
        The l2 family or the dot family (cosine, ip, ...).
    nlist, nprobe : int
        As for :class:`IVFFlat` (``index.nprobe`` reads and sets the default).
    m : int
        Sub-quantizers; must divide dim.
    nbits : {8, 4}
    refine : int
        0 (default): distances are the ADC estimates.
    seed : int
    """

    type_name = "ivf_pq"

    def __init__(self, dim: int, metric: str = "l2", nlist: int = 100, nprobe: int = 1, m: int = 8, nbits: int = 8,
                 refine: int = 0, seed: int = 1, **metric_params) -> None:
        self._create(dim, metric, metric_params, nlist=int(nlist), nprobe=int(nprobe), m=int(m), nbits=int(nbits),
                     refine=int(refine), seed=int(seed))

    def search(self, queries, k: int = 10, *, nprobe: int | None = None, recall: float | None = None, filter=None):
        """As :meth:`IVFFlat.search` (``recall=`` with a policy from
        :meth:`train_policy`, recall against the exact neighbours)."""
        return IVFFlat.search(self, queries, k, nprobe=nprobe, recall=recall, filter=filter)

    train_policy = IVFFlat.train_policy
    _search_args = IVFFlat._search_args

    def _search_cost(self) -> int:
        return max(1, self._count_hint) * self._dim // 40


class OPQ(Index):
    """Optimized product quantization (faiss's OPQ pre-transform): a learnt
    rotation applied to every vector before an inner index, usually PQ or
    IVF-PQ, so the sub-spaces it cuts are as independent as the data allows.

    ``oxvec.OPQ(384, "cosine", m=48, inner={"type": "ivf_pq", "nlist": 1024, "m": 48})``

    Train first: the rotation (alternating PQ training and an orthogonal
    Procrustes step, on at most 16,384 vectors), then the inner index on the
    rotated vectors. Distances are the inner index's, unchanged by the
    rotation. Metrics: l2, ip, cosine. Memory: the inner index plus
    dim*dim*4 bytes.

    Parameters
    ----------
    dim : int
    metric : {"l2", "ip", "cosine"}
    m : int
        Sub-spaces the rotation optimises for (the inner PQ's m).
    inner : dict
        Spec of the inner index without dim and metric, e.g. {"type": "pq", "m": 16}.
    iters : int
        Rounds of the alternating optimisation (default 20).
    """

    type_name = "opq"

    def __init__(self, dim: int, metric: str = "l2", m: int = 8, inner: dict | None = None, iters: int = 20, **kw) -> None:
        if not isinstance(inner, dict):
            _metric_params(OPQ, metric, kw)  # a misspelt keyword (index=, M=) first: it is the likelier mistake
            raise TypeError('OPQ needs inner=, the spec of the index after the rotation, e.g. {"type": "pq", "m": 8}')
        self._create(dim, metric, kw, m=int(m), inner=inner, iters=int(iters))

    def search(self, queries, k: int = 10, *, nprobe: int | None = None, filter=None):
        """As :meth:`IVFFlat.search` (nprobe reaches an inner IVF index)."""
        return IVFFlat.search(self, queries, k, nprobe=nprobe, filter=filter)

    _search_args = IVFFlat._search_args


class LSH(Index):
    """Locality-sensitive hashing with multi-probe and exact re-ranking.

    Each of ``tables`` hash tables files every vector under a key of
    ``bits`` hash values that near vectors share more often than far ones;
    a search looks up the query's own bucket and the ``nprobe - 1`` next
    most promising ones in each table (multi-probe, Lv et al. 2007) and
    ranks the vectors found there exactly with the metric. The family
    follows the metric:

    - cosine, angular, correlation, spearman: random hyperplanes (SimHash),
      ``bits`` <= 64 signs per key;
    - the l2 family (l2, euclidean, ...): p-stable projections (E2LSH),
      ``bits`` <= 32 values floor(<a, x>/w + u) per key, with bucket width
      ``w``: give it, or call ``train(x)`` to estimate it from a sample
      (4 times the median nearest-neighbour distance);
    - jaccard over 0/1 vectors (nonzero = member): MinHash with ``bands``
      bands of ``rows`` hashes (a near duplicate of similarity J shares a
      band with probability 1 - (1 - J^rows)^bands); no probing.

    Memory per vector: 4*dim (the vector, kept for re-ranking) + 8*tables
    (its keys) + about 4*tables of bucket entries, plus ~40 bytes per
    distinct bucket and an id map once ids are not 0, 1, 2, ... Loading a
    saved index hashes the vectors again. Rows with fewer candidates than k
    are padded with id -1. When to choose it over HNSW or IVF: docs/lsh.md.

    Parameters
    ----------
    dim : int
    metric : str
        See above; other metrics raise UnsupportedError.
    tables : int
        Hash tables (1..64); 0: 8.
    bits : int
        Hash values per key; 0: 12 (SimHash), 8 (p-stable).
    nprobe : int
        Buckets looked up per table by default, the query's own included
        (``search(..., nprobe=)`` overrides it; ``index.nprobe`` changes
        it; saved with the index); 0: 16. ``probes=`` is the same keyword.
        MinHash takes none.
    w : float
        p-stable bucket width; 0: estimated by ``train``.
    bands, rows : int
        MinHash's names of tables and bits (jaccard only); 0: 20 bands of
        5 rows.
    seed : int
        Seed of the hash functions.
    """

    type_name = "lsh"

    def __init__(self, dim: int, metric: str = "l2", tables: int = 0, bits: int = 0, nprobe: int = 0,
                 w: float = 0.0, bands: int = 0, rows: int = 0, seed: int = 1, **kw) -> None:
        self._create(dim, metric, kw, tables=int(tables), bits=int(bits), nprobe=int(nprobe), w=float(w),
                     bands=int(bands), rows=int(rows), seed=int(seed))

    def search(self, queries, k: int = 10, *, nprobe: int | None = None, filter=None):
        """Find the k nearest neighbours of each query among the vectors in
        its ``nprobe`` most promising buckets of each table (default: the
        index's nprobe; at most 4096).

        Returns (ids, distances), as :meth:`Index.search`."""
        return self._search(queries, k, *self._search_args(nprobe, filter))

    _search_args = IVFFlat._search_args

    def _search_cost(self) -> int:
        return max(1, self._count_hint) * self._dim // 20


def load(path, mmap: bool = False, verify: bool | None = None) -> Index:
    """Load an index saved with :meth:`Index.save`; returns the right class.

    mmap=True maps the file and searches it in place (HNSW): loading is
    quick, memory grows only with the pages searches touch, and the first
    change copies the index into memory. Checksums of the large sections of
    a mapped file are checked only with verify=True (that reads every page);
    the graph's structure is always checked.
    """
    p = os.fspath(path)
    if not os.path.exists(p):
        raise FileNotFoundError(2, "no oxvec index at this path", p)
    st = state
    h = _capi.oxv_handle()
    opts = json.dumps({"mmap": bool(mmap), "verify": bool(verify)}).encode()
    check(lib.oxv_index_load(os.fsencode(p), opts, addressof(h), st.err_addr), st)
    try:
        cls = Index._types.get(_info(h.value)["type"], Index)
    except BaseException:
        check(lib.oxv_index_free(h.value, st.err_addr), st)
        raise
    idx = cls.__new__(cls)
    idx._adopt(h.value)
    return idx
