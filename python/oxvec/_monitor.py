"""Monitoring, caching and query plans of a VectorStore (docs/monitoring.md).

The engine measures every store (core/monitor): latency windows, errors,
memory, the results cache (level 1) and the online recall estimate. This
module adds the Python side: :class:`Cache`, whose level 2 keeps the
vectors of query texts (embedding a question costs milliseconds, a search
well under one), the store methods ``stats``, ``health`` and ``explain``,
and :func:`metrics_text` for every open store.
"""

from __future__ import annotations

import ctypes
import math
import threading
import weakref
from collections import OrderedDict
from typing import Any

import numpy as np

from . import _convert as cv
from . import _requests as rq
from ._call import check, json_out, state
from ._errors import InvalidArgumentError
from ._library import lib

# stores whose level 2 counts metrics_text reports
_with_embedding_cache: "weakref.WeakSet" = weakref.WeakSet()


def _positive_int(v, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
        raise InvalidArgumentError(f"{what} must be an int >= 0, got {v!r}")
    return int(v)


class Cache:
    """The caches of a store: ``VectorStore(path, cache=oxvec.Cache(...))``.

    Parameters
    ----------
    entries : int
        Level 1, results: at most this many search answers kept in the
        engine (LRU), keyed by everything the answer depends on (query
        vectors' bytes or texts, k, filters, mode, parameters, include).
        Any write to the collection makes every older answer unservable: an
        answer is never stale. 0 turns the level off. Default 1024.
    ttl : float, optional
        Seconds an answer may be served (default: until evicted or made
        stale by a write).
    embeddings : int
        Level 2, query embeddings: at most this many ``text -> vector``
        pairs kept per embedder (keyed by the embedder's ``name``); they
        never go stale, so they survive writes. 0 turns the level off.
        Default 10000.

    One Cache may be given to several stores: they then share level 2 (the
    same embedder embeds the same text the same way); level 1 is per store.
    """

    def __init__(self, entries: int = 1024, ttl: float | None = None, embeddings: int = 10_000) -> None:
        self.entries = _positive_int(entries, "Cache entries")
        self.embeddings = _positive_int(embeddings, "Cache embeddings")
        if ttl is not None:
            if isinstance(ttl, bool) or not isinstance(ttl, (int, float, np.integer, np.floating)) or not ttl > 0 \
                    or not math.isfinite(ttl):
                raise InvalidArgumentError(f"Cache ttl must be a positive number of seconds or None, got {ttl!r}")
            ttl = float(ttl)
        self.ttl = ttl
        self._vectors: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._bytes = 0

    def __repr__(self) -> str:
        return f"oxvec.Cache(entries={self.entries}, ttl={self.ttl}, embeddings={self.embeddings})"

    def _engine_options(self) -> dict:
        opts: dict[str, Any] = {"entries": self.entries}
        if self.ttl is not None:
            opts["ttl_s"] = self.ttl
        return opts

    def embed(self, embedder, texts: list) -> np.ndarray:
        """The (n, dim) float32 vectors of texts, from level 2 where it has
        them and from ``embedder`` (one call for all the others)."""
        if self.embeddings == 0:
            return np.asarray(embedder(texts), np.float32)
        name = _embedder_name(embedder)
        rows: list = [None] * len(texts)
        todo: list = []
        with self._lock:
            for i, t in enumerate(texts):
                v = self._vectors.get((name, t))
                if v is None:
                    todo.append(i)
                else:
                    self._vectors.move_to_end((name, t))
                    rows[i] = v
            self.hits += len(texts) - len(todo)
            self.misses += len(todo)
        if todo:
            fresh = np.asarray(embedder([texts[i] for i in todo]), np.float32)
            if fresh.ndim != 2 or fresh.shape[0] != len(todo):
                raise InvalidArgumentError(f"the embedder returned shape {fresh.shape} for {len(todo)} texts; it must return (n, dim)")
            with self._lock:
                for j, i in enumerate(todo):
                    v = fresh[j].copy()
                    v.setflags(write=False)  # shared by every later hit
                    rows[i] = v
                    key = (name, texts[i])
                    if key not in self._vectors:
                        self._bytes += v.nbytes + len(texts[i]) + 100
                    self._vectors[key] = v
                    self._vectors.move_to_end(key)
                while len(self._vectors) > self.embeddings:
                    (_, t), old = self._vectors.popitem(last=False)
                    self._bytes -= old.nbytes + len(t) + 100
        return np.stack(rows) if rows else np.empty((0, 0), np.float32)

    def embedding_counts(self) -> dict:
        """Level 2's hits, misses, entries and bytes."""
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "entries": len(self._vectors), "bytes": self._bytes}


def _embedder_name(embedder) -> str:
    """The key of an embedder's vectors: its name (oxvec.embed embedders,
    sentence-transformers' model name), else its type and identity (two
    unnamed embedders never share vectors)."""
    for attr in ("name", "model_name", "name_or_path"):
        v = getattr(embedder, attr, None)
        if isinstance(v, str) and v:
            return v
    t = type(embedder)
    return f"{t.__module__}.{getattr(embedder, '__qualname__', t.__qualname__)}@{id(embedder):x}"


def text_out(fn, *args, size: int = 1 << 14) -> str:
    """The text an engine call writes into a caller buffer (as json_out)."""
    st = state
    while True:
        buf = ctypes.create_string_buffer(size)
        needed = ctypes.c_size_t()
        check(fn(*args, ctypes.addressof(buf), size, ctypes.addressof(needed), st.err_addr), st)
        if needed.value <= size:
            return buf.value.decode()
        size = needed.value


def _number(v, what: str):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v) or v < 0:
        raise InvalidArgumentError(f"{what} must be a finite number >= 0 or None, got {v!r}")
    return float(v)


class MonitorAPI:
    """stats, health and explain of a VectorStore (mixed into it)."""

    _cache: Cache | None = None

    def _report_embedding_cache(self, h: int) -> None:
        c = self._cache
        if c is not None and c.embeddings:
            st = state
            check(lib.oxv_store_cache_report(h, b"embeddings", rq.dumps(c.embedding_counts()), st.err_addr), st)

    def stats(self, *, flush: bool = False) -> dict:
        """The store's statistics, measured by the engine.

        Keys: "count"; "latency": {"search"|"add"|"delete": {"count",
        "p50_ms", "p95_ms", "p99_ms", "per_s", "errors", "total", "sum_s",
        "failed", "span_s"}} over the sliding window ("window_s", default
        60 s; add counts add, upsert and update); "qps" (searches per
        second over the window); "error_rate"; "errors": {class: n} since
        the store opened (class names as in core/errs: "invalid_argument",
        "dimension", "not_found", ...); "memory": {"index_bytes",
        "records_bytes", "cache_bytes", "total_bytes", "limit_bytes",
        "percent"}; "cache": {"results": {...}, "embeddings": {...}} with
        "hits", "misses", "entries" per level; "recall_estimate":
        {"value", "n", "low", "high", "confidence", "sampled"} or None
        before the first sample; "plans": searches per plan.

        ``flush=True`` first waits until the recall samples queued so far
        have been re-run (tests, and a deliberate reading).
        """
        h = self._live()
        self._report_embedding_cache(h)
        return json_out(lib.oxv_store_stats, h, rq.dumps({"flush": bool(flush)}), size=4096)

    def health(self, max_latency_ms=None, max_memory_percent=None, min_recall=None, max_error_rate=None) -> dict:
        """{"status": "ok" or "degraded", "reasons": [str, ...]} against the
        thresholds given (None: not checked): search p99 latency over the
        window, the store's memory as a percent of the process' limit (Go's
        memory limit, else physical memory), the recall estimate (degraded
        when its whole confidence interval is below min_recall) and the
        error rate over the window."""
        h = self._live()
        t = {"max_latency_ms": _number(max_latency_ms, "max_latency_ms"),
             "max_memory_percent": _number(max_memory_percent, "max_memory_percent"),
             "min_recall": _number(min_recall, "min_recall"),
             "max_error_rate": _number(max_error_rate, "max_error_rate")}
        self._report_embedding_cache(h)
        return json_out(lib.oxv_store_health, h, rq.dumps({k: v for k, v in t.items() if v is not None}))

    def explain(self, query=None, k: int = 10, *, filter=None, where=None, where_document=None, mode: str | None = None,
                ef: int | None = None, plan: str | None = None) -> dict:
        """How a search with these arguments would run, without running it:
        {"plan": "unfiltered" | "exact" | "index_filter" | "index_overfetch"
        | "keyword", "why": str, "estimates": {"records", "selectivity",
        "admitted", "tested"}, "costs_ns": {plan: estimated ns per query},
        "index": the index type searched, "fetch": results an over-fetch
        asks of the index}. The plan depends on the filter, k and the
        collection, not on the query vector (checked when given)."""
        from ._store import _filters

        h = self._live()
        q: dict[str, Any] = {"k": cv.k_value(k)}
        if mode is not None:
            if mode not in ("vector", "keyword", "hybrid"):
                raise ValueError(f"mode must be 'vector', 'keyword' or 'hybrid', not {mode!r}")
            q["mode"] = mode
        _filters(q, filter, where, where_document)
        if ef is not None:
            q["ef"] = rq.count(ef, "ef")
        if plan is not None:
            q["plan"] = str(plan)
        a, addr = None, 0
        if query is not None and not isinstance(query, str):
            a, nq, _ = cv.vectors(query, self._dim, "query")
            if nq != 1:
                raise InvalidArgumentError(f"explain takes one query, got {nq}")
            addr = cv.address(a)
        return json_out(lib.oxv_store_explain, h, addr, self._dim if addr else 0, rq.dumps(q))

    def _embed_queries(self, texts: list) -> np.ndarray:
        if self._cache is not None:
            return self._cache.embed(self.embedder, texts)
        return self.embedder(texts)


def metrics_text() -> str:
    """The statistics of every open store in the Prometheus text exposition
    format (version 0.0.4): families named ``oxvec_*`` with HELP and TYPE
    lines, a series per store labelled ``collection`` (the store's name=,
    else its directory's name; a tenant's collection: "tenant/collection").
    Serve it as is at /metrics."""
    for s in list(_with_embedding_cache):
        if not s.closed:
            s._report_embedding_cache(s._live())
    return text_out(lib.oxv_metrics_text)
