"""VectorStore: a durable collection of records (string id, vector, document,
metadata) in a directory, with the engine's write-ahead log underneath.

Ids, documents, metadata and filters cross the C ABI as JSON (small next to
the vectors, and the engine validates them completely before logging);
vectors cross as float32 buffers read in place.
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import json
import os
import warnings
from ctypes import addressof
from typing import Any, Iterable, Sequence

import numpy as np

from . import _capi
from . import _convert as cv
from ._call import check, json_out, run_cancellable, state
from ._errors import InvalidArgumentError, RecoveryWarning
from ._resource import Resource

_LONG_CALL_WORK = 50_000_000
_FIELDS = ("documents", "metadatas", "embeddings", "distances")


def _plain(x):
    """json.dumps default: numpy scalars and arrays as Python values."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (tuple, set, frozenset)):
        return list(x)
    raise TypeError(
        f"metadata and filter values must be str, int, float, bool or lists of them; got {type(x).__name__} {x!r}"
    )


def _dumps(obj) -> bytes:
    """obj as the UTF-8 JSON the engine reads; every request goes through
    here. Strings are sent as they are (ensure_ascii=False): a lone
    surrogate, which UTF-8 cannot hold, is an error naming its field rather
    than an escape the engine would read as U+FFFD."""
    try:
        return json.dumps(obj, default=_plain, allow_nan=False, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise InvalidArgumentError(_surrogate_message(obj)) from None
    except RecursionError:
        raise InvalidArgumentError("the request nests lists or dicts too deeply to encode") from None
    except ValueError as e:
        if "Out of range float" in str(e):  # NaN or infinity
            raise InvalidArgumentError(f"{e}: metadata and filter numbers must be finite") from None
        raise InvalidArgumentError(f"the request cannot be encoded as JSON: {e}") from None


def _surrogate_message(obj) -> str:
    """Where the first string UTF-8 cannot encode is, for the error."""
    stack = [(obj, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            try:
                node.encode()
            except UnicodeEncodeError as e:
                return (f"{path} holds a lone surrogate {node[e.start]!r} at position {e.start}, which UTF-8 cannot "
                        "encode (text decoded with errors='surrogateescape', or half of a UTF-16 pair); "
                        "clean it first, e.g. s.encode('utf-8', 'replace').decode()")
        elif isinstance(node, dict):
            items = list(node.items())
            for k, v in reversed(items):
                stack.append((v, f"{path}[{k!r}]" if path else str(k)))
            for k, _ in reversed(items):
                stack.append((k, f"{path} key {k!r}" if path else f"the key {k!r}"))
        elif isinstance(node, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(node))))
    return "a string holds a lone surrogate, which UTF-8 cannot encode"


# How deeply filter objects may nest: as core/store.MaxFilterDepth, the top
# level 1 and each object inside $and, $or or $not one more. Checked here
# before anything recurses (json.dumps would raise RecursionError at ~1000).
MAX_FILTER_DEPTH = 64

_INT64 = (-(2**63), 2**63 - 1)


def _check_int(v, where: str) -> None:
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and not _INT64[0] <= v <= _INT64[1]:
        shown = v if int(v).bit_length() <= 256 else f"of {int(v).bit_length()} bits"
        raise InvalidArgumentError(f"{where}: integer {shown} is outside int64 [-2**63, 2**63 - 1], the range of "
                                   "metadata integers; use a string (or a float, deliberately)")


def _check_scalars(v, where: str, lists: bool) -> None:
    """v is a metadata value: a scalar or (lists) a flat list of scalars."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)) and lists:
        for i, e in enumerate(v):
            _check_scalars(e, f"{where}[{i}]", False)
        return
    if isinstance(v, (list, tuple, set, frozenset, dict)):
        what = "lists cannot nest" if not isinstance(v, dict) else "values cannot be dicts"
        raise InvalidArgumentError(f"{where}: {what}; values are str, int, float, bool or a list of those")
    _check_int(v, where)


def _check_metadatas(metas: list) -> None:
    for i, m in enumerate(metas):
        for k, v in (m or {}).items():
            if not isinstance(k, str):
                raise TypeError(f"metadatas[{i}] has the key {k!r} ({type(k).__name__}); metadata keys must be str "
                                f"(JSON would silently make it {json.dumps(str(k))})")
            _check_scalars(v, f"metadatas[{i}][{k!r}]", True)


def _check_filter(w, what: str):
    """w checked before it is encoded: str keys, at most MAX_FILTER_DEPTH
    levels, field values scalars, lists of them or operator objects."""
    stack = [(w, 1, what)]
    while stack:
        node, depth, path = stack.pop()
        if not isinstance(node, dict):
            continue  # the engine says what is wrong with a non-object
        if depth > MAX_FILTER_DEPTH:
            raise InvalidArgumentError(f"{what} nests more than {MAX_FILTER_DEPTH} levels of $and, $or and $not; "
                                       "flatten it (an $in list, or one $and of many conditions)")
        for k, v in node.items():
            if not isinstance(k, str):
                raise TypeError(f"{path} has the key {k!r} ({type(k).__name__}); filter keys must be str")
            sub = f"{path}[{k!r}]"
            if k in ("$and", "$or") and isinstance(v, (list, tuple)):
                stack.extend((e, depth + 1, f"{sub}[{i}]") for i, e in enumerate(v))
            elif k == "$not":
                stack.append((v, depth + 1, sub))
            elif isinstance(v, dict):  # operators of a field: {"$gte": 1, "$in": [...]}
                for op, arg in v.items():
                    if not isinstance(op, str):
                        raise TypeError(f"{sub} has the key {op!r} ({type(op).__name__}); filter keys must be str")
                    _check_scalars(arg, f"{sub}[{op!r}]", True)
            else:
                _check_scalars(v, sub, True)
    return w


def _strings(xs, what: str, n: int | None = None) -> list:
    if isinstance(xs, (str, bytes)):
        xs = [xs]
    out = list(xs)
    for i, x in enumerate(out):
        if not isinstance(x, str):
            if isinstance(x, np.str_):
                out[i] = str(x)
                continue
            if what == "documents" and x is None:
                continue
            raise TypeError(f"{what}[{i}] is {type(x).__name__} {x!r}; {what} must be strings (convert with str())")
    if n is not None and len(out) != n:
        raise InvalidArgumentError(f"got {len(out)} {what} for {n} ids; pass one per id")
    return out


def _include(include) -> list:
    if isinstance(include, str):
        include = [include]
    inc = list(include)
    for f in inc:
        if f not in _FIELDS:
            raise InvalidArgumentError(f"include: unknown field {f!r}; choose from {', '.join(_FIELDS)}")
    return inc


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


def _where(filter, where):
    if filter is not None and where is not None:
        raise TypeError("give filter= or where= (the same thing), not both")
    w = filter if filter is not None else where
    return None if w is None else _check_filter(w, "filter")


class VectorStore(Resource):
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

    A store is safe to use from many threads: reads run in parallel, writes
    one at a time (fsyncs of concurrent writers are shared). Only one process
    may open a store for writing; a second gets :class:`StateError`.
    """

    _free_name = "oxv_store_close"

    def __init__(self, path, dim: int | None = None, metric: str | None = None, index=None, *,
                 durability: str = "always", interval_ms: int = 100, key_file=None, key_env: str | None = None,
                 read_only: bool = False, embedder=None, snapshot_every: int | None = None, metric_params: dict | None = None,
                 train_after: int | None = None, recovery: str = "auto") -> None:
        p = os.fspath(path)
        opts: dict[str, Any] = {"durability": durability, "interval_ms": int(interval_ms), "read_only": bool(read_only),
                                "recovery": recovery}
        if key_file is not None:
            opts["key_file"] = os.fspath(key_file)
        if key_env is not None:
            opts["key"] = _key_from_env(key_env)
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
        check(_capi.oxv_store_open(os.fsencode(p), _dumps(opts), addressof(h), st.err_addr), st)
        super().__init__(h.value)
        info = self.info()
        _warn_recovery(p, info.get("recovery") or {})
        self._dim = int(info["dim"])
        self._metric = str(info["metric"])
        self._path = p
        self.embedder = embedder
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
        return json_out(_capi.oxv_store_info, self._live())

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
        check(_capi.oxv_store_count(self._live(), addressof(n), st.err_addr), st)
        return n.value

    __len__ = count

    def __repr__(self) -> str:
        if self.closed:
            return "<oxvec.VectorStore (closed)>"
        return f"<oxvec.VectorStore {self._path!r} dim={self._dim} metric={self._metric!r} count={self.count()}>"

    # --- writes -------------------------------------------------------------
    def add(self, ids, embeddings=None, documents=None, metadatas=None) -> None:
        """Insert new records. An id that exists already raises
        :class:`DuplicateIdError` and nothing of the batch is written.

        ``embeddings`` is an (n, dim) array (float32 C-contiguous arrays are
        read in place); it may be left out when the store has an embedder
        and documents are given. ``documents`` is a list of str (or None per
        record), ``metadatas`` a list of dicts (or None) whose values are
        str, int, float, bool or lists of those.
        """
        self._write(_capi.OXV_STORE_ADD, ids, embeddings, documents, metadatas)

    def upsert(self, ids, embeddings=None, documents=None, metadatas=None) -> None:
        """Insert new records and replace existing ones entirely."""
        self._write(_capi.OXV_STORE_UPSERT, ids, embeddings, documents, metadatas)

    def update(self, ids, embeddings=None, documents=None, metadatas=None) -> None:
        """Change existing records: what is given (embeddings, documents,
        metadatas) replaces the old value, what is not given stays. Every id
        must exist (:class:`NotFoundError` otherwise, and nothing changes).
        An embedder does not re-embed updated documents unless embeddings
        are left out and the store has one."""
        self._write(_capi.OXV_STORE_UPDATE, ids, embeddings, documents, metadatas)

    def _write(self, op: int, ids, embeddings, documents, metadatas) -> None:
        h = self._live()
        keys = _strings(ids, "ids")
        n = len(keys)
        rec: dict[str, Any] = {"ids": keys}
        if documents is not None:
            rec["documents"] = _strings(documents, "documents", n)
        if metadatas is not None:
            if isinstance(metadatas, dict):
                metadatas = [metadatas]
            metas = list(metadatas)
            if len(metas) != n:
                raise InvalidArgumentError(f"got {len(metas)} metadatas for {n} ids; pass one per id")
            for i, m in enumerate(metas):
                if m is not None and not isinstance(m, dict):
                    raise TypeError(f"metadatas[{i}] is {type(m).__name__}; each metadata must be a dict or None")
            _check_metadatas(metas)
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
        payload = _dumps(rec)
        st = state
        check(_capi.oxv_store_write(h, op, payload, x_addr, rows, self._dim, st.err_addr), st)
        del a  # kept alive until the call returned

    def delete(self, ids=None, *, filter=None, where=None, where_document=None) -> int:
        """Delete records by id (unknown ids are ignored) and/or every record
        a filter matches; returns how many were deleted. To delete every
        record, pass ``filter={}``."""
        h = self._live()
        q: dict[str, Any] = {}
        if ids is not None:
            q["ids"] = _strings(ids, "ids")
        w = _where(filter, where)
        if w is not None:
            q["where"] = w
        if where_document is not None:
            q["where_document"] = _check_filter(where_document, "where_document")
        if not q:
            raise TypeError("delete needs ids, filter= or where_document= (to delete everything, pass filter={})")
        st = state
        n = ctypes.c_int64()
        check(_capi.oxv_store_delete(h, _dumps(q), addressof(n), st.err_addr), st)
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
        q: dict[str, Any] = {"include": _include(include)}
        if ids is not None:
            q["ids"] = _strings(ids, "ids")
        w = _where(filter, where)
        if w is not None:
            q["where"] = w
        if where_document is not None:
            q["where_document"] = _check_filter(where_document, "where_document")
        if limit is not None:
            q["limit"] = _count(limit, "limit")
            if q["limit"] == 0:
                return _empty_rows(q["include"], self._dim)
        if offset is not None:
            q["offset"] = _count(offset, "offset")
        st = state
        r = _capi.oxv_handle()
        check(_capi.oxv_store_get(h, _dumps(q), addressof(r), st.err_addr), st)
        out, emb = _read_result(r.value)
        for f in ("documents", "metadatas"):
            if f in q["include"]:
                out.setdefault(f, [])  # the engine leaves out empty lists
        if "embeddings" in q["include"]:
            out["embeddings"] = emb.reshape(-1, self._dim)
        return out

    def peek(self, limit: int = 10) -> dict:
        """The first ``limit`` records, with their embeddings."""
        return self.get(limit=limit, include=("documents", "metadatas", "embeddings"))

    def search(self, queries, k: int = 10, *, mode: str | None = None, text=None, filter=None, where=None,
               where_document=None, include: Sequence[str] = ("documents", "metadatas"), ef: int | None = None,
               fusion: str = "rrf", alpha: float = 0.5, rrf_k: float = 60, weights=(1.0, 1.0),
               normalize: str = "minmax", k1: float = 1.2, b: float = 0.75, candidates: int | None = None) -> dict:
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

        Returns
        -------
        dict with one entry per query in each field: "ids" (lists of str),
        "distances" (float32 arrays; NaN where the vector side did not
        return the record) and the included fields ("embeddings": (k_i, dim)
        arrays). Keyword and hybrid searches add "scores" (float64 arrays,
        higher is better: BM25 or the fused score) and "keyword_scores"
        (float32 BM25 scores, NaN where the keyword side did not return it).
        """
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
            vectors = self.embedder(texts)
        elif mode == "hybrid" and texts is None:
            raise TypeError("a hybrid search needs texts: pass str queries, or vectors and text=")
        else:
            vectors = queries
        q: dict[str, Any] = {"k": cv.k_value(k), "include": _include(include)}
        if mode != "vector":
            q.update(mode=mode, texts=texts, fusion=fusion, alpha=float(alpha), rrf_k=float(rrf_k),
                     weights=[float(w) for w in weights], normalize=normalize, k1=float(k1), b=float(b))
            if candidates is not None:
                q["candidates"] = _count(candidates, "candidates")
        w = _where(filter, where)
        if w is not None:
            q["where"] = w
        if where_document is not None:
            q["where_document"] = _check_filter(where_document, "where_document")
        if ef is not None:
            q["ef"] = _count(ef, "ef")
        if vectors is not None:
            a, nq, _ = cv.vectors(vectors, self._dim, "queries")
            q_addr = cv.address(a) if nq else 0
            if mode == "hybrid" and nq != len(texts):
                raise ValueError(f"a hybrid search needs one text per query vector ({nq} vectors, {len(texts)} texts)")
        else:
            a, nq, q_addr = None, 0, 0
        payload = _dumps(q)

        def call(cancel: int) -> int:
            st = state
            r = _capi.oxv_handle()
            check(_capi.oxv_store_search(h, q_addr, nq, self._dim, payload, cancel, addressof(r), st.err_addr), st)
            return r.value

        rh = run_cancellable(call, max(nq, len(texts or ())) * self._dim * max(self.count(), 1) > _LONG_CALL_WORK)
        del a
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

    def query(self, query_embeddings=None, n_results: int = 10, where=None, where_document=None,
              include: Sequence[str] = ("documents", "metadatas", "distances"), query_texts=None) -> dict:
        """Chroma's name and arguments for :meth:`search`."""
        if (query_embeddings is None) == (query_texts is None):
            raise TypeError("give query_embeddings or query_texts")
        return self.search(query_embeddings if query_embeddings is not None else query_texts, n_results, mode="vector",
                           where=where, where_document=where_document, include=[f for f in include if f != "distances"])

    # --- maintenance --------------------------------------------------------
    def snapshot(self) -> None:
        """Write the whole state to a new snapshot and drop the WAL it covers
        (reopening is then a load, not a replay). Writers wait meanwhile."""
        st = state
        check(_capi.oxv_store_snapshot(self._live(), st.err_addr), st)

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
        check(_capi.oxv_store_backup(h, os.fsencode(os.fspath(dir)), int(bool(incremental)), addressof(buf), 256, addressof(needed), st.err_addr), st)
        return json.loads(buf.value)

    # --- pandas -------------------------------------------------------------
    def to_pandas(self, include_embeddings: bool = True):
        """Every record as a pandas DataFrame: columns "id", "document",
        "embedding" (one float32 array per row) and one column per metadata
        key (missing keys are None)."""
        pd = _pandas()
        inc = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
        r = self.get(include=inc)
        keys: list = []
        for m in r["metadatas"]:
            for k in m or ():
                if k not in keys:
                    keys.append(k)
        cols: dict[str, Any] = {"id": r["ids"], "document": r["documents"]}
        if include_embeddings:
            cols["embedding"] = list(r["embeddings"])
        for k in keys:
            if k in cols:
                raise InvalidArgumentError(f"metadata key {k!r} clashes with a column of to_pandas()")
            cols[k] = [None if m is None else m.get(k) for m in r["metadatas"]]
        return pd.DataFrame(cols)

    @classmethod
    def from_pandas(cls, df, path, vector_column: str = "embedding", id_column: str | None = "id",
                    text_column: str | None = "document", metadata_columns: Iterable[str] | None = None,
                    batch_size: int = 1000, **store_kwargs) -> VectorStore:
        """Create a store at ``path`` from a DataFrame: vectors from
        ``vector_column`` (arrays or lists), ids from ``id_column`` (or the
        DataFrame's index when that column is absent), documents from
        ``text_column`` when present, and metadata from ``metadata_columns``
        (default: every other column; missing values are left out).
        Keyword arguments go to :class:`VectorStore` (metric=, index=, ...)."""
        _pandas()
        if vector_column not in df.columns:
            raise KeyError(f"no column {vector_column!r}; name the vector column with vector_column=")
        vecs = df[vector_column].to_numpy()
        mat = np.stack([np.asarray(v, np.float32) for v in vecs]) if len(vecs) else np.empty((0, 0), np.float32)
        if mat.ndim != 2:
            raise InvalidArgumentError(f"column {vector_column!r} must hold 1-D vectors of one length")
        ids = [str(x) for x in (df[id_column] if id_column in df.columns else df.index)]
        text = text_column if text_column in df.columns else None
        skip = {vector_column, id_column, text}
        meta_cols = list(metadata_columns) if metadata_columns is not None else [c for c in df.columns if c not in skip]
        store = cls(path, dim=store_kwargs.pop("dim", mat.shape[1]), **store_kwargs)
        try:
            for start in range(0, len(ids), batch_size):
                end = min(start + batch_size, len(ids))
                docs = None
                if text is not None:
                    docs = [None if _missing(v) else str(v) for v in df[text].iloc[start:end]]
                metas = None
                if meta_cols:
                    part = df[meta_cols].iloc[start:end]
                    metas = [{c: _meta_value(v) for c, v in zip(meta_cols, row) if not _missing(v)} or None
                             for row in part.itertuples(index=False, name=None)]
                store.add(ids[start:end], mat[start:end], documents=docs, metadatas=metas)
        except BaseException:
            store.close()
            raise
        return store


def restore(backup_dir, path, until=None, *, key_file=None, key_env: str | None = None) -> str:
    """Build a new store at ``path`` (absent or empty) from a backup made
    with :meth:`VectorStore.backup`, and return the path.

    ``until`` picks the point in time: None for the latest backed-up change,
    an int for the state right after that change number (see
    ``VectorStore.last_seq``), or a datetime for the last change made at or
    before it (a naive datetime is local time). Every file used is checked
    against its SHA-256 first; a damaged backup raises CorruptFileError.
    """
    opts: dict[str, Any] = {}
    if until is not None:
        if isinstance(until, _dt.datetime):
            ts = until.timestamp()
            opts["until_time_ns"] = int(round(ts * 1e9))
        elif isinstance(until, (int, np.integer)) and not isinstance(until, bool):
            if until < 1:
                raise InvalidArgumentError("until counts changes from 1")
            opts["until_seq"] = int(until)
        else:
            raise TypeError(f"until must be a change number (int) or a datetime, got {type(until).__name__}")
    if key_file is not None:
        opts["key_file"] = os.fspath(key_file)
    if key_env is not None:
        opts["key"] = _key_from_env(key_env)
    b, p = os.fspath(backup_dir), os.fspath(path)
    st = state
    check(_capi.oxv_store_restore(os.fsencode(b), os.fsencode(p), _dumps(opts), st.err_addr), st)
    return p


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


def _key_from_env(name: str) -> str:
    # read here: the engine's Go runtime sees the environment only as it was
    # when the library loaded
    v = os.environ.get(str(name), "")
    if not v:
        raise InvalidArgumentError(f"the environment variable {name} that should hold the key is not set")
    return v


def _count(v, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
        raise InvalidArgumentError(f"{what} must be an int >= 0, got {v!r}")
    return int(v)


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


def _read_result(r: int):
    """(JSON fields, embeddings) of a result handle, which is freed."""
    st = state
    try:
        size = 1 << 14
        nvec = ctypes.c_int64()
        while True:
            buf = ctypes.create_string_buffer(size)
            needed = ctypes.c_size_t()
            check(_capi.oxv_result_json(r, addressof(buf), size, addressof(needed), addressof(nvec), st.err_addr), st)
            if needed.value <= size:
                break
            size = needed.value
        out = json.loads(buf.value)
        emb = np.empty(nvec.value, np.float32)
        if nvec.value:
            check(_capi.oxv_result_embeddings(r, cv.address(emb), nvec.value, st.err_addr), st)
        return out, emb
    finally:
        check(_capi.oxv_result_free(r, st.err_addr), st)


def _pandas():
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_pandas/from_pandas need pandas: pip install 'oxvec[pandas]'") from None
    return pd


def _missing(v) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v)  # NaN, pandas NA
    except (TypeError, ValueError):
        return False


def _meta_value(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if hasattr(v, "isoformat"):  # pandas Timestamp, datetime: kept as ISO text
        return v.isoformat()
    return v
