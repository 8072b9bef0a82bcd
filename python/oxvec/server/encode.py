"""Results as JSON: numpy arrays as lists, NaN (a side of a hybrid search
that did not return the record) as null."""

from __future__ import annotations

import json

import numpy as np


def floats(a) -> list:
    a = np.asarray(a)
    if a.dtype.kind == "f" and np.isnan(a).any():
        return [None if x != x else x for x in a.tolist()]
    return a.tolist()


def hits(res: dict) -> dict:
    """A VectorStore.search result, JSON-ready."""
    out = {"ids": res["ids"], "distances": [floats(d) for d in res["distances"]]}
    for f in ("scores", "keyword_scores"):
        if f in res:
            out[f] = [floats(d) for d in res[f]]
    for f in ("documents", "metadatas"):
        if f in res:
            out[f] = res[f]
    if "embeddings" in res:
        out["embeddings"] = [np.asarray(e).tolist() for e in res["embeddings"]]
    return out


def rows(res: dict) -> dict:
    """A VectorStore.get result, JSON-ready."""
    out = dict(res)
    if "embeddings" in out:
        out["embeddings"] = np.asarray(out["embeddings"]).tolist()
    return out


def dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
