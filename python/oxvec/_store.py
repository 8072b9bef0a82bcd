"""VectorStore: a durable collection of records (string id, vector, document,
metadata) in a directory, with the engine's write-ahead log underneath.

Its requests travel as JSON (_requests); Chroma's names for its calls
(_chroma), pandas I/O (_pandas) and restore from a backup (_restore) are
modules of their own.
"""

from __future__ import annotations

import ctypes
import json
import os
import threading
import warnings
from ctypes import addressof
from typing import Any, Sequence

import numpy as np

from . import _capi, _jupyter
from . import _convert as cv
from . import _requests as rq
from ._call import check, json_out, run_cancellable, state
from ._chroma import ChromaAPI
from ._errors import InvalidArgumentError, RecoveryWarning
from ._library import lib
from ._monitor import Cache, MonitorAPI, _with_embedding_cache
from ._pandas import PandasIO
from ._requests import check_filter as _check_filter
from ._resource import Resource

_LONG_CALL_WORK = 50_000_000
MAX_FILTER_DEPTH = rq.MAX_FILTER_DEPTH  # where it was before _requests


def _store_files(path: str) -> bool:
    """Whether path holds WAL segments or snapshots (the engine then says
    what is wrong with a store that lost its MANIFEST)."""
    try:
        return any(n.startswith(("wal-", "snap-")) for n in os.listdir(path))
    except OSError:
        return False


def _warn_recovery(path: str, rep: dict) -> None:
    """A RecoveryWarning for each part of the WAL an open set aside."""
    for q in rep.get("quarantined") or ():
        where = f"moved to {q['file']}" if q.get("file") else "left in place (read-only open)"
        warnings.warn(RecoveryWarning(
            f"{path}: {q['bytes']} bytes of {q['segment']} from byte {q['offset']} could not be read "
            f"({q['reason']}) and were {where}; store.recovery has the report"), stacklevel=3)
    if rep.get("not_replayed"):
        warnings.warn(RecoveryWarning(f"{path}: replay stopped early: {rep['not_replayed']}"), stacklevel=3)


def _filters(q: dict, filter, where, where_document) -> None:
    """A request's metadata filter (filter= or its synonym where=) and
    document filter, checked, into q."""
    if filter is not None and where is not None:
        raise TypeError("give filter= or where= (the same thing), not both")
    w = filter if filter is not None else where
    if w is not None:
        q["where"] = _check_filter(w, "filter")
    if where_document is not None:
        q["where_document"] = _check_filter(where_document, "where_document")


class VectorStore(Resource, ChromaAPI, PandasIO, MonitorAPI):
    """A durable collection: records with a string id, a float32 vector, an
    optional document and optional metadata, searchable by vector with
    metadata filters, that survive crashes (docs/store.md).

    Parameters
    ----------
    path : str or os.PathLike
        The store's directory. Created when it holds no store and ``dim`` (or
        an embedder) is given; otherwise opened with the configuration it was
        made with.
    dim : int, optional
        Values per vector (needed to create a store, unless an embedder is
        given; checked on open).
    metric : str
        Any metric of :func:`oxvec.metrics` but hamming_bits. Default "l2";
        "cosine" for sentence embeddings.
    index : str or dict
        The vector index: "flat" (exact; the default) or "hnsw", or a spec
        such as ``{"type": "hnsw", "m": 16, "ef_search": 100}``.
    durability : {"always", "interval", "never"}
        "always" (default): a write returns after it is fsync'd, so nothing
        acknowledged is ever lost. "interval": fsync'd within ``interval_ms``
        (a crash of the machine can lose that window). "never": left to the
        operating system.
    key_file, key_env : str, optional
        A 32-byte key (raw, hex or base64) in a file or an environment
        variable: the store's WAL and snapshots are sealed with AES-256-GCM.
        Give it to create an encrypted store and every time it is opened.
    read_only : bool
        Open without the writer lock: many processes may read a store while
        one writes. Sees the state of the moment it was opened.
    embedder : callable, optional
        Turns a list of strings into an (n, dim) float32 array (see
        :mod:`oxvec.embed`): then ``add(ids, documents=...)`` embeds the
        documents and ``search("text")`` embeds the query. A new store
        without ``dim`` takes it from the embedder (its ``dim``, or the
        width of one embedded probe text); a ``dim`` that disagrees with it
        is an InvalidArgumentError.
    snapshot_every : int, optional
        WAL bytes after which a write also takes a snapshot (default 64 MiB;
        negative: only :meth:`snapshot`).
    train_after : int, optional
        For index types that are trained (ivf_flat, ivf_pq, pq, opq, sq,
        binary): the record count at which the store trains its index on
        the records it holds and swaps it in (default: the type's minimum).
        Until then searches are exact; ``info()["phase"]`` is ``"exact"``,
        then ``"indexed"``. Kept in the store.
    recovery : {"auto", "point_in_time", "strict"}
        What opening does about a damaged write-ahead log (docs/store.md,
        "Recovery"). "auto" (default): the end of the log torn by a crash is
        repaired - its unreadable bytes are moved to a ``.quarantine`` file
        beside it, with a :class:`RecoveryWarning` - and any other damage
        raises :class:`CorruptFileError`. "point_in_time": open with every
        change up to the first damage and quarantine the rest. "strict":
        a torn end is an error too. What an open found is in
        :attr:`recovery`.
    name : str, optional
        The store's name in :meth:`stats` and :func:`oxvec.metrics_text`
        (default: its directory's name).
    cache : oxvec.Cache, optional
        Cache search answers (level 1, in the engine; never stale) and the
        vectors of query texts (level 2); off by default (docs/monitoring.md).
    monitor : bool or dict
        Monitoring, on by default: latency windows, error counts and the
        online recall estimate (:meth:`stats`, :meth:`health`). False turns
        timing and sampling off; a dict tunes it: ``window_s`` (default 60),
        ``recall_per_s`` (searches re-run exactly per second, default 1;
        negative: never), ``recall_samples`` (samples the estimate keeps,
        default 1000).

    A store is safe to use from many threads: reads run in parallel, writes
    one at a time (fsyncs of concurrent writers are shared). Only one process
    may open a store for writing; a second gets :class:`StateError`.
    """

    _free_name = "oxv_store_close"

    def __init__(self, path, dim: int | None = None, metric: str | None = None, index=None, *,
                 durability: str = "always", interval_ms: int = 100, key_file=None, key_env: str | None = None,
                 read_only: bool = False, embedder=None, snapshot_every: int | None = None, metric_params: dict | None = None,
                 train_after: int | None = None, recovery: str = "auto", name: str | None = None,
                 cache: Cache | None = None, monitor=True) -> None:
        p = os.fspath(path)
        opts: dict[str, Any] = {"durability": durability, "interval_ms": int(interval_ms), "read_only": bool(read_only),
                                "recovery": recovery}
        if name is not None:
            if not isinstance(name, str) or not name:
                raise InvalidArgumentError(f"name must be a non-empty str, got {name!r}")
            opts["name"] = name
        if cache is not None:
            if not isinstance(cache, Cache):
                raise TypeError(f"cache= takes an oxvec.Cache, not {type(cache).__name__}")
            opts["cache"] = cache._engine_options()
        if monitor is False:
            opts["monitor"] = {"disabled": True}
        elif isinstance(monitor, dict):
            unknown = set(monitor) - {"window_s", "recall_per_s", "recall_samples"}
            if unknown:
                raise InvalidArgumentError(f"monitor: unknown keys {sorted(unknown)} (known: window_s, recall_per_s, recall_samples)")
            opts["monitor"] = dict(monitor)
        elif monitor is not True:
            raise TypeError(f"monitor= takes True, False or a dict, not {type(monitor).__name__}")
        if key_file is not None:
            opts["key_file"] = os.fspath(key_file)
        if key_env is not None:
            opts["key"] = rq.key_from_env(key_env)
        if snapshot_every is not None:
            opts["snapshot_every"] = int(snapshot_every)
        if embedder is not None:
            # a new store takes its dim from the embedder; a given dim must agree
            new = dim is None and not os.path.exists(os.path.join(p, "MANIFEST")) and not _store_files(p)
            edim = _embedder_dim(embedder, probe=new)
            if new:
                dim = edim
            elif dim is not None and edim is not None and edim != dim:
                raise InvalidArgumentError(f"dim={dim!r} but the embedder makes {edim}-d vectors; "
                                           "leave dim out to take it from the embedder")
        if dim is not None:
            if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim <= 0:
                raise InvalidArgumentError(f"dim must be a positive int, got {dim!r}")
            spec = {"type": index} if isinstance(index, str) else dict(index or {"type": "flat"})
            create: dict[str, Any] = {"dim": int(dim), "metric": metric or "l2", "index": spec}
            if metric_params:
                create["metric_params"] = metric_params
            if train_after is not None:
                if isinstance(train_after, bool) or not isinstance(train_after, (int, np.integer)) or train_after < 1:
                    raise InvalidArgumentError(f"train_after must be a positive int, got {train_after!r}")
                create["train_after"] = int(train_after)
            opts["create"] = create
        elif not os.path.exists(os.path.join(p, "MANIFEST")) and not _store_files(p):
            raise FileNotFoundError(2, "no oxvec store here; give dim= (and metric=, index=) to create one", p)
        st = state
        h = _capi.oxv_handle()
        check(lib.oxv_store_open(os.fsencode(p), rq.dumps(opts), addressof(h), st.err_addr), st)
        super().__init__(h.value)
        info = self.info()
        _warn_recovery(p, info.get("recovery") or {})
        self._dim = int(info["dim"])
        self._metric = str(info["metric"])
        self._path = p
        self.embedder = embedder
        self._cache = cache
        if cache is not None and cache.embeddings:
            _with_embedding_cache.add(self)
        if embedder is not None and getattr(embedder, "dim", self._dim) != self._dim:
            self.close()
            raise InvalidArgumentError(f"the embedder makes {embedder.dim}-d vectors; the store has dim {self._dim}")

    # --- properties ---------------------------------------------------------
    @property
    def dim(self) -> int:
        return self._dim

    @property
    def metric(self) -> str:
        return self._metric

    @property
    def path(self) -> str:
        return self._path

    def info(self) -> dict:
        """path, dim, metric, index, count, last_seq (the number of the last
        change, for :func:`oxvec.restore`), encrypted, read_only, durability."""
        return json_out(lib.oxv_store_info, self._live())

    @property
    def recovery(self) -> dict:
        """What opening found: ``mode``, ``clean_close`` (the last writer
        closed the store cleanly), ``replayed`` (WAL records applied),
        ``quarantined`` (the WAL bytes set aside: segment, offset, bytes,
        file, reason) and, for a read-only open, ``not_replayed``."""
        return self.info()["recovery"]

    @property
    def last_seq(self) -> int:
        """Number of the last change applied (changes count from 1)."""
        return int(self.info()["last_seq"])

    def count(self) -> int:
        """Number of records."""
        st = state
        n = ctypes.c_int64()
        check(lib.oxv_store_count(self._live(), addressof(n), st.err_addr), st)
        return n.value

    __len__ = count

    def _work_size(self) -> int:
        """The record count a search's cost is judged by (whether it runs
        in a thread that Ctrl-C can interrupt)."""
        return self.count()

    def __repr__(self) -> str:
        if self.closed:
            return "<oxvec.VectorStore (closed)>"
        f = _jupyter.store_fields(self)
        extra = f" index={f['index']!r} phase={f['phase']!r}"
        return f"<oxvec.VectorStore {self._path!r} dim={self._dim} metric={self._metric!r} count={f['count']}{extra}>"

    def _repr_html_(self) -> str:
        """Jupyter's view: path, index type, dim, metric, count, phase, parameters, durability."""
        if self.closed:
            return _jupyter.closed_html("VectorStore")
        return _jupyter.table("VectorStore", _jupyter.store_fields(self))

    # --- made from another library's index file (_adopt.py) ----------------
    @classmethod
    def from_faiss(cls, path, store_path, ids=None, documents=None, metadatas=None, **store_options) -> "VectorStore":
        """A new store at ``store_path`` holding the index of a faiss file
        (the types :func:`oxvec.migrate.from_faiss` reads), its structure kept:
        the HNSW graph, IVF lists and codes are what the store saves and
        loads, never rebuilt. ``ids`` (default: the file's ids as str),
        ``documents`` and ``metadatas`` give one record per vector in the
        file's order (IVF: the order of the inverted lists). Quantized types
        keep their decoded vectors as the records' embeddings.
        ``store_options`` are those of :class:`VectorStore` (key_file,
        durability, ...) except dim, metric and index, which the file gives.
        """
        from . import _adopt
        return _adopt.from_faiss(cls, path, store_path, ids, documents, metadatas, **store_options)

    @classmethod
    def from_hnswlib(cls, path, space: str, dim: int, store_path, ids=None, documents=None, metadatas=None,
                     **store_options) -> "VectorStore":
        """:meth:`from_faiss` for a file of hnswlib's ``save_index`` (space
        "l2", "ip" or "cosine" and dim as it was made with): the graph is
        kept; ids default to the labels; records go one per element in the
        file's order, elements hnswlib marked deleted left out."""
        from . import _adopt
        return _adopt.from_hnswlib(cls, path, space, dim, store_path, ids, documents, metadatas, **store_options)

    @classmethod
    def from_annoy(cls, path, dim: int, metric: str, store_path, index=None, ids=None, documents=None, metadatas=None,
                   **store_options) -> "VectorStore":
        """A new store of the index of your choice (``index=``, default
        flat; metric Annoy's equivalent) holding the items of an Annoy file,
        ids defaulting to the item numbers. Annoy's forest is not kept
        (docs/migration.md): the items are indexed anew."""
        from . import _adopt
        return _adopt.from_annoy(cls, path, dim, metric, store_path, index, ids, documents, metadatas, **store_options)

    # --- writes -------------------------------------------------------------
    def add(self, ids, embeddings=None, documents=None, metadatas=None, *, progress=None) -> None:
        """Insert new records. An id that exists already raises
        :class:`DuplicateIdError` and nothing of the batch is written.

        ``embeddings`` is an (n, dim) array (float32 C-contiguous arrays are
        read in place); it may be left out when the store has an embedder
        and documents are given. ``documents`` is a list of str (or None per
        record), ``metadatas`` a list of dicts (or None) whose values are
        str, int, float, bool or lists of those. A long write into an HNSW
        store shows a progress bar (``progress=False`` hides it; see
        :func:`oxvec.set_progress`). Ctrl-C does not stop a write: once
        logged its change is applied, then KeyboardInterrupt is raised.
        """
        self._write(_capi.OXV_STORE_ADD, ids, embeddings, documents, metadatas, progress)

    def upsert(self, ids, embeddings=None, documents=None, metadatas=None, *, progress=None) -> None:
        """Insert new records and replace existing ones entirely."""
        self._write(_capi.OXV_STORE_UPSERT, ids, embeddings, documents, metadatas, progress)

    def update(self, ids, embeddings=None, documents=None, metadatas=None) -> None:
        """Change existing records: what is given (embeddings, documents,
        metadatas) replaces the old value, what is not given stays. Every id
        must exist (:class:`NotFoundError` otherwise, and nothing changes).
        An embedder does not re-embed updated documents unless embeddings
        are left out and the store has one."""
        self._write(_capi.OXV_STORE_UPDATE, ids, embeddings, documents, metadatas)

    def _write(self, op: int, ids, embeddings, documents, metadatas, progress=None) -> None:
        h = self._live()
        keys = rq.strings(ids, "ids")
        n = len(keys)
        rec: dict[str, Any] = {"ids": keys}
        if documents is not None:
            rec["documents"] = rq.strings(documents, "documents", n)
        if metadatas is not None:
            if isinstance(metadatas, dict):
                metadatas = [metadatas]
            metas = list(metadatas)
            if len(metas) != n:
                raise InvalidArgumentError(f"got {len(metas)} metadatas for {n} ids; pass one per id")
            for i, m in enumerate(metas):
                if m is not None and not isinstance(m, dict):
                    raise TypeError(f"metadatas[{i}] is {type(m).__name__}; each metadata must be a dict or None")
            rq.check_metadatas(metas)
            rec["metadatas"] = metas
        if embeddings is None and documents is not None and self.embedder is not None and n:
            if any(d is None for d in rec["documents"]):
                raise InvalidArgumentError("the embedder needs a document for every record; give embeddings for the others")
            embeddings = self.embedder(rec["documents"])
        if n == 0:
            return
        x_addr, rows, a = 0, 0, None
        if embeddings is not None:
            a, rows, _ = cv.vectors(embeddings, self._dim, "embeddings")
            if rows != n:
                raise InvalidArgumentError(f"got {rows} embeddings for {n} ids; pass one per id")
            x_addr = cv.address(a)
        elif op != _capi.OXV_STORE_UPDATE:
            raise InvalidArgumentError("embeddings are required (or give documents to a store opened with embedder=)")
        payload = rq.dumps(rec)

        def call(flag: int) -> None:
            st = state
            check(lib.oxv_store_write(h, op, payload, x_addr, rows, self._dim, flag, st.err_addr), st)

        # the flag names the call for its progress bar; a write never stops
        long = rows * self._dim * 1000 > _LONG_CALL_WORK  # about a graph insertion's work; a write fsyncs anyway
        run_cancellable(call, long, (a,), progress, f"writing {n:,} records", "rec")

    def delete(self, ids=None, *, filter=None, where=None, where_document=None) -> int:
        """Delete records by id (unknown ids are ignored) and/or every record
        a filter matches; returns how many were deleted. To delete every
        record, pass ``filter={}``."""
        h = self._live()
        q: dict[str, Any] = {}
        if ids is not None:
            q["ids"] = rq.strings(ids, "ids")
        _filters(q, filter, where, where_document)
        if not q:
            raise TypeError("delete needs ids, filter= or where_document= (to delete everything, pass filter={})")
        st = state
        n = ctypes.c_int64()
        check(lib.oxv_store_delete(h, rq.dumps(q), addressof(n), st.err_addr), st)
        return n.value

    # --- reads --------------------------------------------------------------
    def get(self, ids=None, *, filter=None, where=None, where_document=None, limit: int | None = None,
            offset: int | None = None, include: Sequence[str] = ("documents", "metadatas")) -> dict:
        """Records by id (in the order given; unknown ids are skipped) or, without
        ids, every record the filters match, paged by offset and limit.

        Returns a dict with "ids" (list of str) and the fields of ``include``:
        "documents" (str or None each), "metadatas" (dict or None each),
        "embeddings" (an (n, dim) float32 array).
        """
        h = self._live()
        q: dict[str, Any] = {"include": rq.include(include)}
        if ids is not None:
            q["ids"] = rq.strings(ids, "ids")
        _filters(q, filter, where, where_document)
        if limit is not None:
            q["limit"] = rq.count(limit, "limit")
            if q["limit"] == 0:
                return _empty_rows(q["include"], self._dim)
        if offset is not None:
            q["offset"] = rq.count(offset, "offset")
        st = state
        r = _capi.oxv_handle()
        check(lib.oxv_store_get(h, rq.dumps(q), addressof(r), st.err_addr), st)
        out, emb = _read_result(r.value)
        for f in ("documents", "metadatas"):
            if f in q["include"]:
                out.setdefault(f, [])  # the engine leaves out empty lists
        if "embeddings" in q["include"]:
            out["embeddings"] = emb.reshape(-1, self._dim)
        return out

    def search(self, queries, k: int = 10, *, mode: str | None = None, text=None, filter=None, where=None,
               where_document=None, include: Sequence[str] = ("documents", "metadatas"), ef: int | None = None,
               fusion: str = "rrf", alpha: float = 0.5, rrf_k: float = 60, weights=(1.0, 1.0),
               normalize: str = "minmax", k1: float = 1.2, b: float = 0.75, candidates: int | None = None,
               mmr=None, plan: str | None = None) -> dict:
        """The k best records of each query among those the filters match.

        Parameters
        ----------
        queries : array_like (nq, dim) or (dim,), or str / list of str
            Query vectors, or query texts. Texts are embedded with the
            store's embedder for the vector side and analysed for BM25 on
            the keyword side.
        k : int
            Results per query. Filters are applied inside the searches, so
            k come back whenever k records match (keyword mode: k matching
            records that share a word with the query).
        mode : "vector", "keyword" or "hybrid", optional
            Default: "vector" for vectors; for texts "hybrid" when the store
            has an embedder, "keyword" otherwise.
        text : str or list of str, optional
            The texts of a hybrid search given vectors (one per vector).
        filter : dict, optional
            Metadata filter (Chroma's ``where``): ``{"genre": "jazz"}``,
            ``{"year": {"$gte": 2000}}``, ``$ne $gt $gte $lt $lte $in $nin
            $exists``, combined with ``$and $or $not``. ``where=`` is a synonym.
        where_document : dict, optional
            ``{"$contains": "text"}``, ``{"$not_contains": ...}``, $and, $or.
        include : sequence of str
            Fields beside ids, distances and scores: "documents",
            "metadatas", "embeddings".
        ef : int, optional
            Candidate list size of an HNSW-backed store (other index types
            have no ef: InvalidArgumentError, not silently ignored).
        fusion : "rrf" or "convex"
            Hybrid: reciprocal rank fusion, sum of weight / (rrf_k + rank)
            over the two sides; or alpha * vector + (1 - alpha) * keyword
            over scores normalised per side ("minmax" or "zscore").
        alpha, rrf_k, weights, normalize
            Fusion parameters (weights: vector side, keyword side).
        k1, b : float
            BM25 parameters.
        candidates : int, optional
            Hybrid: results taken from each side before fusing (default
            max(k, 100)).
        mmr : True or dict, optional
            Vector mode: maximal marginal relevance, in the engine. The
            ``fetch_k`` nearest records (default max(k, 20)) are taken, then
            k of them chosen one at a time, each maximising ``lambda`` x
            cosine similarity to the query - (1 - ``lambda``) x its highest
            cosine similarity to those chosen before (default lambda 0.5; 1
            is plain relevance order). ``mmr={"fetch_k": 50, "lambda": 0.25}``.
        plan : str, optional
            How a filtered search runs: "exact", "index_filter" or
            "index_overfetch"; by default the planner chooses per search
            (:meth:`explain` says what it would choose and why).

        Returns
        -------
        dict with one entry per query in each field: "ids" (lists of str),
        "distances" (float32 arrays; NaN where the vector side did not
        return the record) and the included fields ("embeddings": (k_i, dim)
        arrays). Keyword and hybrid searches add "scores" (float64 arrays,
        higher is better: BM25 or the fused score) and "keyword_scores"
        (float32 BM25 scores, NaN where the keyword side did not return it).
        """
        rh, mode, q = self._search_handle(queries, k, mode=mode, text=text, filter=filter, where=where,
                                          where_document=where_document, include=include, ef=ef, fusion=fusion,
                                          alpha=alpha, rrf_k=rrf_k, weights=weights, normalize=normalize, k1=k1, b=b,
                                          candidates=candidates, mmr=mmr, plan=plan)
        out, emb = _read_result(rh)
        out["ids"] = out.get("ids") or []
        out["distances"] = [_floats(d, np.float32) for d in out.get("distances") or []]
        if mode != "vector":
            out["scores"] = [np.asarray(d, np.float64) for d in out.get("scores") or []]
            out["keyword_scores"] = [_floats(d, np.float32) for d in out.get("keyword_scores") or []]
        for f in ("documents", "metadatas"):
            if f in q["include"]:
                out[f] = out.get(f) or [[] for _ in out["ids"]]
        if "embeddings" in q["include"]:
            rows, at = [], 0
            flat = emb.reshape(-1, self._dim)
            for ids in out["ids"]:
                rows.append(flat[at:at + len(ids)])
                at += len(ids)
            out["embeddings"] = rows
        return out

    def search_json(self, queries, k: int = 10, **options) -> bytes:
        """search's result as the engine's JSON text, not decoded: for a
        front end that forwards it (``oxvec serve``), which saves decoding
        it into arrays and encoding it again. Same arguments as search;
        the same fields, one list per query ("ids", "distances" with null
        where the vector side did not return the record, and the included
        "documents" and "metadatas"; a keyword or hybrid search adds
        "scores" and "keyword_scores"), a field with no values may be
        absent. Embeddings are not part of it: include them and this
        raises InvalidArgumentError (use search)."""
        opts = {**_search_defaults(), **options}
        if len(opts) != len(_search_defaults()):
            unknown = sorted(set(options) - set(_search_defaults()))
            raise TypeError(f"search_json() got unexpected keyword arguments {unknown}")
        if "embeddings" in (opts["include"] or ()):
            raise InvalidArgumentError("search_json does not return embeddings; use search(include=[..., 'embeddings'])")
        return self._search_handle(queries, k, as_json=True, **opts)[0]

    def _search_handle(self, queries, k, *, mode, text, filter, where, where_document, include, ef, fusion, alpha,
                       rrf_k, weights, normalize, k1, b, candidates, mmr, plan, as_json=False):
        """Check a search and run it in the engine: (the result handle -
        with as_json, the result's JSON text instead -, the mode, the
        engine request). search's arguments, all given."""
        h = self._live()
        texts = _texts(queries)
        if mode is None:
            mode = "vector" if texts is None else ("hybrid" if self.embedder is not None else "keyword")
        if mode not in ("vector", "keyword", "hybrid"):
            raise ValueError(f"mode must be 'vector', 'keyword' or 'hybrid', not {mode!r}")
        if text is not None:
            if texts is not None or mode != "hybrid":
                raise TypeError("text= gives the texts of a hybrid search whose queries are vectors")
            texts = _texts(text if not isinstance(text, str) else [text])
            if texts is None:
                raise TypeError("text= takes a str or a list of str")
        vectors = None
        if mode == "keyword":
            if texts is None:
                raise TypeError("a keyword search takes query texts (str or list of str), not vectors")
        elif texts is not None and text is None:
            if self.embedder is None:
                raise TypeError(f"a {mode} search of texts needs a store opened with embedder=; "
                                "pass query vectors (and text= for hybrid) otherwise")
            vectors = self._embed_queries(texts)
        elif mode == "hybrid" and texts is None:
            raise TypeError("a hybrid search needs texts: pass str queries, or vectors and text=")
        else:
            vectors = queries
        q: dict[str, Any] = {"k": cv.k_value(k), "include": rq.include(include)}
        if mode != "vector":
            q.update(mode=mode, texts=texts, fusion=fusion, alpha=float(alpha), rrf_k=float(rrf_k),
                     weights=[float(w) for w in weights], normalize=normalize, k1=float(k1), b=float(b))
            if candidates is not None:
                q["candidates"] = rq.count(candidates, "candidates")
        _filters(q, filter, where, where_document)
        if ef is not None:
            q["ef"] = rq.count(ef, "ef")
        if mmr is not None and mmr is not False:
            q["mmr"] = _mmr(mmr)
        if plan is not None:
            if plan not in ("exact", "index_filter", "index_overfetch"):
                raise InvalidArgumentError(f"plan must be 'exact', 'index_filter' or 'index_overfetch', not {plan!r}")
            q["plan"] = plan
        if vectors is not None:
            a, nq, _ = cv.vectors(vectors, self._dim, "queries")
            q_addr = cv.address(a) if nq else 0
            if mode == "hybrid" and nq != len(texts):
                raise ValueError(f"a hybrid search needs one text per query vector ({nq} vectors, {len(texts)} texts)")
        else:
            a, nq, q_addr = None, 0, 0
        payload = rq.dumps(q)

        def call(cancel: int) -> int:
            st = state
            r = _capi.oxv_handle()
            check(lib.oxv_store_search(h, q_addr, nq, self._dim, payload, cancel, addressof(r), st.err_addr), st)
            return r.value

        def call_json(cancel: int) -> bytes:
            # one engine call when the answer fits the thread's buffer
            st = state
            buf, size = _json_buffer()
            r = _capi.oxv_handle()
            needed = ctypes.c_size_t()
            check(lib.oxv_store_search_json(h, q_addr, nq, self._dim, payload, cancel, buf, size, addressof(needed),
                                            addressof(r), st.err_addr), st)
            return _read_json(r.value) if r.value else ctypes.string_at(buf, needed.value - 1)

        long = max(nq, len(texts or ())) * self._dim * max(self._work_size(), 1) > _LONG_CALL_WORK
        rh = run_cancellable(call_json if as_json else call, long, (a,))
        return rh, mode, q

    # --- maintenance --------------------------------------------------------
    def snapshot(self, *, progress=None) -> None:
        """Write the whole state to a new snapshot and drop the WAL it covers
        (reopening is then a load, not a replay). Writers wait meanwhile."""
        h = self._live()

        def call(flag: int) -> None:
            st = state
            check(lib.oxv_store_snapshot(h, flag, st.err_addr), st)

        run_cancellable(call, True, (), progress, "snapshot", "step")

    def backup(self, dir, incremental: bool = True) -> dict:
        """Copy the store into ``dir``. The first backup copies everything;
        later incremental ones copy only new snapshots and WAL segments and
        keep the old ones, the history that :func:`oxvec.restore` replays to
        a point in time. incremental=False starts ``dir`` afresh. Returns
        {"copied": files, "kept": files, "last_seq": change number}."""
        h = self._live()
        st = state
        buf = ctypes.create_string_buffer(256)
        needed = ctypes.c_size_t()
        check(lib.oxv_store_backup(h, os.fsencode(os.fspath(dir)), int(bool(incremental)), addressof(buf), 256, addressof(needed), st.err_addr), st)
        return json.loads(buf.value)


def _embedder_dim(embedder, probe: bool) -> int | None:
    """The dimension of an embedder's vectors: its ``dim`` (oxvec.embed's
    embedders), sentence-transformers' method, or, when probe is set and
    neither exists, the width of one embedded probe text; None if unknown."""
    d = getattr(embedder, "dim", None)
    if d is None and callable(getattr(embedder, "get_sentence_embedding_dimension", None)):
        d = embedder.get_sentence_embedding_dimension()
    if d is None and probe:
        a = np.asarray(embedder(["dimension probe"]))
        if a.ndim != 2 or a.shape[0] != 1:
            raise InvalidArgumentError(f"the embedder returned shape {a.shape} for one text; it must return (n, dim)")
        d = a.shape[1]
    if d is not None and (isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0):
        raise InvalidArgumentError(f"the embedder's dim is {d!r}, not a positive int")
    return None if d is None else int(d)


def _mmr(mmr) -> dict:
    """search(mmr=...) as the engine's request field: {} or fetch_k and lambda."""
    if mmr is True:
        return {}
    if not isinstance(mmr, dict):
        raise TypeError(f"mmr= takes True or a dict with fetch_k and lambda, not {type(mmr).__name__}")
    unknown = set(mmr) - {"fetch_k", "lambda"}
    if unknown:
        raise InvalidArgumentError(f"mmr: unknown keys {sorted(unknown)} (known: fetch_k, lambda)")
    out: dict[str, Any] = {}
    if mmr.get("fetch_k") is not None:
        out["fetch_k"] = rq.count(mmr["fetch_k"], "mmr fetch_k")
    if mmr.get("lambda") is not None:
        lam = mmr["lambda"]
        if isinstance(lam, bool) or not isinstance(lam, (int, float, np.floating, np.integer)) or not 0 <= lam <= 1:
            raise InvalidArgumentError(f"mmr lambda must be a number in [0, 1], got {lam!r}")
        out["lambda"] = float(lam)
    return out


def _texts(q):
    """q as a list of str when it is text (a str or a non-empty list of str), else None."""
    if isinstance(q, str):
        return [q]
    if isinstance(q, (list, tuple)) and q and all(isinstance(t, str) for t in q):
        return list(q)
    return None


def _floats(xs, dtype) -> np.ndarray:
    """A JSON list of numbers and nulls as an array with NaN for null."""
    return np.array([np.nan if x is None else x for x in xs], dtype)


def _empty_rows(include, dim: int) -> dict:
    out: dict[str, Any] = {"ids": []}
    for f in include:
        if f in ("documents", "metadatas"):
            out[f] = []
    if "embeddings" in include:
        out["embeddings"] = np.empty((0, dim), np.float32)
    return out


_SEARCH_DEFAULTS: dict | None = None


def _search_defaults() -> dict:
    """VectorStore.search's keyword arguments and their defaults (read
    once from its signature: search_json takes the same)."""
    global _SEARCH_DEFAULTS
    if _SEARCH_DEFAULTS is None:
        import inspect

        _SEARCH_DEFAULTS = {n: p.default for n, p in inspect.signature(VectorStore.search).parameters.items()
                            if p.kind is inspect.Parameter.KEYWORD_ONLY}
    return _SEARCH_DEFAULTS


_JSON_BUFFER = 1 << 14  # bytes of a thread's search_json buffer: a k=10 answer with documents fits
_json_buffers = threading.local()


def _json_buffer():
    """(address, size) of this thread's buffer for search_json answers."""
    b = getattr(_json_buffers, "buf", None)
    if b is None:
        b = _json_buffers.buf = ctypes.create_string_buffer(_JSON_BUFFER)
    return addressof(b), _JSON_BUFFER


def _read_json(r: int) -> bytes:
    """The JSON text of a result handle without embeddings, which is freed."""
    st = state
    try:
        size = 1 << 12
        nvec = ctypes.c_int64()
        while True:
            buf = ctypes.create_string_buffer(size)
            needed = ctypes.c_size_t()
            check(lib.oxv_result_json(r, addressof(buf), size, addressof(needed), addressof(nvec), st.err_addr), st)
            if needed.value <= size:
                return buf.raw[:needed.value - 1]
            size = needed.value
    finally:
        check(lib.oxv_result_free(r, st.err_addr), st)


def _read_result(r: int):
    """(JSON fields, embeddings) of a result handle, which is freed."""
    st = state
    try:
        size = 1 << 14
        nvec = ctypes.c_int64()
        while True:
            buf = ctypes.create_string_buffer(size)
            needed = ctypes.c_size_t()
            check(lib.oxv_result_json(r, addressof(buf), size, addressof(needed), addressof(nvec), st.err_addr), st)
            if needed.value <= size:
                break
            size = needed.value
        out = json.loads(buf.value)
        emb = np.empty(nvec.value, np.float32)
        if nvec.value:
            check(lib.oxv_result_embeddings(r, cv.address(emb), nvec.value, st.err_addr), st)
        return out, emb
    finally:
        check(lib.oxv_result_free(r, st.err_addr), st)
