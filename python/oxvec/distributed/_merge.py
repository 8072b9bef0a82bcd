"""Exact merging of per-shard results into one store's answer.

Every shard returns its own best k (vector side: nearest first; keyword
side: best BM25 first, scored with the collection's statistics). The best k
of the union are the best k overall, so sorting the union gives exactly
one store's ranking. Hybrid search fuses after merging: each side's
candidates are merged across shards first, then fused here with the
engine's formulas (core/store/rank.go), because a rank or a normalised
score means something only over the whole candidate list.

A hit is (id, distance, bm25, fields): distance NaN where the vector side
did not return the record, bm25 NaN where the keyword side did not;
fields holds the included documents / metadatas / embeddings.
"""

from __future__ import annotations

import math

import numpy as np

NAN = float("nan")


def merge_vector(parts: list[list[tuple]], k: int) -> list[tuple]:
    """The k nearest hits of all shards' lists (ties by id)."""
    return sorted((h for p in parts for h in p), key=lambda h: (h[1], h[0]))[:k]


def merge_keyword(parts: list[list[tuple]], k: int) -> list[tuple]:
    """The k best-scored hits of all shards' lists (ties by id)."""
    return sorted((h for p in parts for h in p), key=lambda h: (-h[2], h[0]))[:k]


def fuse(vec: list[tuple], kw: list[tuple], r: dict, k: int) -> list[tuple]:
    """One query's hybrid ranking: (id, score, distance, bm25, fields) of
    the k best by r["fusion"] ("rrf" or "convex"), as core/store/rank.go's
    fuse computes it."""
    by: dict[str, list] = {}
    order: list[str] = []

    def get(key, fields):
        c = by.get(key)
        if c is None:
            c = by[key] = [0.0, NAN, NAN, fields]
            order.append(key)
        return c

    for key, d, _, f in vec:
        get(key, f)[1] = d
    for key, _, s, f in kw:
        get(key, f)[2] = s
    if r["fusion"] == "rrf":
        w0, w1 = r["weights"]
        for rank, h in enumerate(vec):
            by[h[0]][0] += w0 / (r["rrf_k"] + (rank + 1))
        for rank, h in enumerate(kw):
            by[h[0]][0] += w1 / (r["rrf_k"] + (rank + 1))
    else:
        alpha = r["alpha"]
        vn, vmiss = _norm([-float(np.float32(h[1])) for h in vec], r["normalize"])
        kn, kmiss = _norm([float(np.float32(h[2])) for h in kw], r["normalize"])
        for key in order:
            by[key][0] = alpha * vmiss + (1 - alpha) * kmiss
        for i, h in enumerate(vec):
            by[h[0]][0] += alpha * (vn[i] - vmiss)
        for i, h in enumerate(kw):
            by[h[0]][0] += (1 - alpha) * (kn[i] - kmiss)
    ranked = sorted(order, key=lambda key: (-by[key][0], key))[:k]
    return [(key, by[key][0], by[key][1], by[key][2], by[key][3]) for key in ranked]


def _norm(xs: list[float], how: str) -> tuple[list[float], float]:
    """Min-max to [0, 1] or z-scores, and the value a missing entry gets."""
    if not xs:
        return [], 0.0
    lo, hi = min(xs), max(xs)
    if how == "minmax":
        return [(x - lo) / (hi - lo) if hi > lo else 1.0 for x in xs], 0.0
    total = 0.0
    for x in xs:
        total += x
    mean = total / len(xs)
    var = 0.0
    for x in xs:
        var += (x - mean) * (x - mean)
    sd = math.sqrt(var / len(xs))
    out = [(x - mean) / sd if sd > 0 else 0.0 for x in xs]
    return out, min(out)


def assemble(rows: list[list[tuple]], mode: str, include, dim: int) -> dict:
    """A VectorStore.search-shaped result from each query's ranked rows:
    (id, score, distance, bm25, fields); score is unused in vector mode."""
    out: dict = {"ids": [[r[0] for r in q] for q in rows],
                 "distances": [np.array([r[2] for r in q], np.float32) for q in rows]}
    if mode != "vector":
        out["scores"] = [np.array([r[1] for r in q], np.float64) for q in rows]
        out["keyword_scores"] = [np.array([r[3] for r in q], np.float32) for q in rows]
    for f in ("documents", "metadatas"):
        if f in include:
            out[f] = [[r[4][f] for r in q] for q in rows]
    if "embeddings" in include:
        out["embeddings"] = [np.array([r[4]["embeddings"] for r in q], np.float32).reshape(len(q), dim) for q in rows]
    return out
