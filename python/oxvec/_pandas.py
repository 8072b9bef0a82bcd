"""A store to and from a pandas DataFrame: one row per record, metadata
keys as columns. pandas is optional (``pip install 'oxvec[pandas]'``) and
imported on first use. Mixed into :class:`oxvec.VectorStore`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from ._errors import InvalidArgumentError

if TYPE_CHECKING:
    from ._store import VectorStore


class PandasIO:
    """``to_pandas`` and the constructor ``from_pandas``."""

    def to_pandas(self, include_embeddings: bool = True):
        """Every record as a pandas DataFrame: columns "id", "document",
        "embedding" (one float32 array per row) and one column per metadata
        key (missing keys are None)."""
        pd = _import_pandas()
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

    def search_pandas(self, queries, k: int = 10, **search_kw):
        """:meth:`search` as one pandas DataFrame: a row per (query, rank)
        with columns query, rank, id, distance, score and keyword_score (for
        keyword and hybrid searches), document and one column per metadata
        key. Takes the arguments of :meth:`search`."""
        pd = _import_pandas()
        search_kw.setdefault("include", ("documents", "metadatas"))
        r = self.search(queries, k, **search_kw)
        cols: dict[str, list] = {"query": [], "rank": [], "id": [], "distance": []}
        scored = "scores" in r
        if scored:
            cols["score"], cols["keyword_score"] = [], []
        docs, metas = r.get("documents"), r.get("metadatas")
        if docs is not None:
            cols["document"] = []
        rows_meta: list = []
        for qi, ids in enumerate(r["ids"]):
            for rank, rid in enumerate(ids):
                cols["query"].append(qi)
                cols["rank"].append(rank)
                cols["id"].append(rid)
                cols["distance"].append(float(r["distances"][qi][rank]))
                if scored:
                    cols["score"].append(float(r["scores"][qi][rank]))
                    cols["keyword_score"].append(float(r["keyword_scores"][qi][rank]))
                if docs is not None:
                    cols["document"].append(docs[qi][rank])
                rows_meta.append(metas[qi][rank] if metas is not None else None)
        keys: list = []
        for m in rows_meta:
            for key in m or ():
                if key not in keys:
                    keys.append(key)
        for key in keys:
            if key in cols:
                raise InvalidArgumentError(f"metadata key {key!r} clashes with a column of search_pandas()")
            cols[key] = [None if m is None else m.get(key) for m in rows_meta]
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
        _import_pandas()
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


def index_frame(found: np.ndarray, dist: np.ndarray):
    """An index search's (ids, distances) as rows (query, rank, id, distance),
    without the -1 padding."""
    pd = _import_pandas()
    q, rank = np.nonzero(found >= 0)
    return pd.DataFrame({"query": q.astype(np.int64), "rank": rank.astype(np.int64),
                         "id": found[q, rank], "distance": dist[q, rank]})


def _import_pandas():
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_pandas, from_pandas and search_pandas need pandas: pip install 'oxvec[pandas]'") from None
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
