"""Bulk ingest through Ray Data: rows are read and decoded in parallel by
Ray Data's workers (parquet files, a DataFrame, any Dataset), turned into
per-shard batches there, and written by the coordinator, all shards at once.
Writes still go through the coordinator, which numbers them: that keeps
replicas in step, and an acknowledged batch is durable on a quorum."""

from __future__ import annotations

import glob
import json
import os

import numpy as np
import ray

from .._errors import InvalidArgumentError
from .._pandas import _meta_value, _missing


class IngestMixin:
    def ingest(self, data, vector_column: str = "embedding", id_column: str = "id", text_column: str | None = "document",
               metadata_columns=None, *, batch_size: int = 1000, mode: str = "upsert") -> int:
        """Write every row of ``data`` - a pandas DataFrame, a ray.data.Dataset,
        or a path / glob / list of parquet files - and return the number of
        rows written. Vectors come from ``vector_column`` (lists or arrays),
        ids from ``id_column`` (converted with str), documents from
        ``text_column`` when present, metadata from ``metadata_columns``
        (default every other column; missing values are left out).
        ``mode`` is "upsert" (default) or "add"."""
        if mode not in ("upsert", "add"):
            raise InvalidArgumentError(f'mode must be "upsert" or "add", not {mode!r}')
        if batch_size < 1:
            raise InvalidArgumentError(f"batch_size must be >= 1, got {batch_size!r}")
        ds = _dataset(data)
        cols = ds.columns() if callable(getattr(ds, "columns", None)) else None
        for c in (vector_column, id_column):
            if cols is not None and c not in cols:
                raise KeyError(f"no column {c!r} in the data (columns: {cols}); name it with vector_column= / id_column=")
        text = text_column if cols is None or text_column in (cols or ()) else None
        skip = {vector_column, id_column, text}
        meta = list(metadata_columns) if metadata_columns is not None else (
            [c for c in cols if c not in skip] if cols is not None else None)
        prep = ds.map_batches(_Decode, fn_kwargs={"vector_column": vector_column, "id_column": id_column,
                                                  "text_column": text, "metadata_columns": meta},
                              batch_format="pandas", batch_size=batch_size, zero_copy_batch=True)
        n = 0
        write = self.upsert if mode == "upsert" else self.add
        for batch in prep.iter_batches(batch_size=batch_size, batch_format="numpy"):
            ids = [str(x) for x in batch["id"]]
            vecs = np.asarray(batch["vector"], np.float32)
            if vecs.ndim != 2:
                raise InvalidArgumentError(f"column {vector_column!r} must hold 1-D vectors of one length")
            docs = [None if d is None else str(d) for d in batch["document"]] if text is not None else None
            metas = [None if m is None else json.loads(m) for m in batch["metadata"]] if meta else None
            write(ids, vecs, documents=docs, metadatas=metas)
            n += len(ids)
        return n


def _Decode(df, vector_column, id_column, text_column, metadata_columns):  # noqa: N802 - a map_batches function
    """Runs in Ray Data's workers: a pandas batch as columns id, vector
    (float32), document and metadata (JSON text, which Arrow carries
    whatever the values' types)."""
    import pandas as pd

    ids = [str(x) for x in df[id_column]]
    vecs = [np.asarray(v, np.float32) for v in df[vector_column]]
    docs = ([None if _missing(v) else str(v) for v in df[text_column]] if text_column is not None
            else [None] * len(ids))
    metas = [None] * len(ids)
    if metadata_columns:
        part = df[list(metadata_columns)]
        metas = [{c: _meta_value(v) for c, v in zip(metadata_columns, row) if not _missing(v)} or None
                 for row in part.itertuples(index=False, name=None)]
    return pd.DataFrame({"id": ids, "vector": vecs, "document": docs,
                         "metadata": [None if m is None else json.dumps(m) for m in metas]})


def _dataset(data):
    """data as a ray.data.Dataset."""
    if isinstance(data, ray.data.Dataset):
        return data
    if isinstance(data, (str, list, tuple)) or hasattr(data, "__fspath__"):
        paths = [os.fspath(p) for p in (data if isinstance(data, (list, tuple)) else [data])]
        files = []
        for p in paths:  # Ray Data takes files and directories, not patterns
            if glob.has_magic(p):
                hit = sorted(glob.glob(p))
                if not hit:
                    raise FileNotFoundError(2, "no file matches the pattern", p)
                files.extend(hit)
            else:
                files.append(p)
        return ray.data.read_parquet(files)
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        return ray.data.from_pandas(data)
    raise TypeError(f"ingest takes a pandas DataFrame, a ray.data.Dataset or parquet path(s), not {type(data).__name__}")
