"""VectorStore.from_faiss / from_hnswlib / from_annoy: a store made from an
index file of another library (docs/migration.md, "Into a store").

faiss and hnswlib files keep their structure: the engine renumbers the
index's ids to the store's record slots (the file's order), writes the
store's first snapshot with that index and closes it; the store is then
opened as any other, which loads the graph (nothing is rebuilt or replayed).
Annoy's forest is not kept anyway, so its items are simply added to a new
store of the index the caller chooses.
"""

from __future__ import annotations

import numbers
import os
from typing import Any

from . import _requests as rq
from ._call import check, state
from ._errors import InvalidArgumentError
from ._library import lib

# what the creating call needs of the store options; the rest apply when
# the finished store is opened
_FROM_FILE = ("dim", "metric", "metric_params", "train_after", "index", "read_only")


def _file(path) -> bytes:
    p = os.fspath(path)
    if not os.path.exists(p):
        raise FileNotFoundError(2, "no index file at this path", p)
    return os.fsencode(p)


def _records(ids, documents, metadatas) -> bytes:
    rec: dict[str, Any] = {}
    if ids is not None:
        rec["ids"] = rq.strings(ids, "ids")
    if documents is not None:
        rec["documents"] = rq.strings(documents, "documents")
    if metadatas is not None:
        metas = list(metadatas)
        for i, m in enumerate(metas):
            if m is not None and not isinstance(m, dict):
                raise TypeError(f"metadatas[{i}] is {type(m).__name__}; each metadata must be a dict or None")
        rq.check_metadatas(metas)
        rec["metadatas"] = metas
    lens = {k: len(v) for k, v in rec.items()}
    if len(set(lens.values())) > 1:
        raise InvalidArgumentError(f"ids, documents and metadatas differ in length ({lens}); give one per vector")
    return rq.dumps(rec)


def _options(store_options: dict, index=None) -> tuple[bytes, dict]:
    """The creating call's options (the key, and for Annoy the index to
    build) and the options to open the finished store with."""
    bad = sorted(set(store_options) & set(_FROM_FILE))
    if bad:
        raise InvalidArgumentError(f"{', '.join(bad)}: leave out; the store takes dim, metric and index from the index file "
                                   "(and is created writable)")
    opts: dict[str, Any] = {}
    if store_options.get("key_file") is not None:
        opts["key_file"] = os.fspath(store_options["key_file"])
    if store_options.get("key_env") is not None:
        opts["key"] = rq.key_from_env(store_options["key_env"])
    if index is not None:
        spec = {"type": index} if isinstance(index, str) else dict(index)
        opts["create"] = {"dim": 1, "index": spec}  # dim and metric are set from the file
    return rq.dumps(opts), store_options


def _made(cls, store_path, open_options: dict):
    return cls(store_path, **open_options)


def from_faiss(cls, path, store_path, ids=None, documents=None, metadatas=None, **store_options):
    p = _file(path)
    records = _records(ids, documents, metadatas)
    opts, rest = _options(store_options)
    st = state
    check(lib.oxv_store_from_faiss(p, os.fsencode(os.fspath(store_path)), opts, records, st.err_addr), st)
    return _made(cls, store_path, rest)


def from_hnswlib(cls, path, space: str, dim: int, store_path, ids=None, documents=None, metadatas=None, **store_options):
    if space not in ("l2", "ip", "cosine"):
        raise ValueError(f'space must be "l2", "ip" or "cosine" (hnswlib\'s names), got {space!r}')
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim <= 0:
        raise InvalidArgumentError(f"dim must be a positive int, got {dim!r}")
    p = _file(path)
    records = _records(ids, documents, metadatas)
    opts, rest = _options(store_options)
    st = state
    check(lib.oxv_store_from_hnswlib(p, space.encode(), int(dim), os.fsencode(os.fspath(store_path)), opts, records,
                                     st.err_addr), st)
    return _made(cls, store_path, rest)


def from_annoy(cls, path, dim: int, metric: str, store_path, index=None, ids=None, documents=None, metadatas=None,
               **store_options):
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim <= 0:
        raise InvalidArgumentError(f"dim must be a positive int, got {dim!r}")
    if metric not in ("angular", "euclidean", "manhattan", "dot"):
        raise ValueError(f'metric must be "angular", "euclidean", "manhattan" or "dot" (Annoy\'s names), got {metric!r}')
    p = _file(path)
    records = _records(ids, documents, metadatas)
    opts, rest = _options(store_options, index or "flat")
    st = state
    check(lib.oxv_store_from_annoy(p, int(dim), metric.encode(), os.fsencode(os.fspath(store_path)), opts, records,
                                   st.err_addr), st)
    return _made(cls, store_path, rest)
