"""BM25 over a replica's documents with the statistics of the whole
collection, so that a sharded keyword search scores as one store would.

BM25's IDF and average length depend on every document. Each shard's
engine knows only its own, so its scores (and its top k) differ from one
store's. Like Elasticsearch's "dfs_query_then_fetch", a keyword search asks
every shard for its statistics first (document count, total length, the
document frequency of the query's terms), sums them, and ranks each shard's
documents with the sums. Each replica keeps the term counts of its
documents for that (KeywordMirror), analysed by the engine's own analyzer
(oxvec.analyze), and scores in the engine's arithmetic (core/text/search.go:
each term's weight computed in float64, rounded to float32, summed in
float32 in query-term order), so the scores are the same numbers.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter

import numpy as np

from .._text import analyze


class KeywordMirror:
    """Term counts of the documents of one replica, by record id."""

    def __init__(self) -> None:
        self.length: dict[str, int] = {}            # id -> number of terms (documents with none are left out)
        self.terms: dict[str, list[str]] = {}       # id -> its distinct terms
        self.postings: dict[str, dict[str, int]] = {}  # term -> {id: count in that document}
        self.total = 0

    def set(self, key: str, document) -> None:
        """Record ``key``'s document (None: it has none)."""
        self.remove(key)
        terms = analyze(document) if document else []
        if not terms:
            return
        counts = Counter(terms)
        for t, n in counts.items():
            self.postings.setdefault(t, {})[key] = n
        self.terms[key] = list(counts)
        self.length[key] = len(terms)
        self.total += len(terms)

    def remove(self, key: str) -> None:
        n = self.length.pop(key, None)
        if n is None:
            return
        self.total -= n
        for t in self.terms.pop(key):
            p = self.postings[t]
            del p[key]
            if not p:
                del self.postings[t]

    def stats(self, terms) -> dict:
        """This replica's part of the collection statistics for ``terms``."""
        return {"n": len(self.length), "total": self.total,
                "df": {t: len(self.postings.get(t, ())) for t in set(terms)}}

    def top(self, terms: list[str], k: int, stats: dict, k1: float, b: float, allowed=None) -> list[tuple[str, np.float32]]:
        """The k best (id, score) of this replica by BM25 with the
        collection's ``stats`` (summed stats() of every shard), best first,
        ties by id; ``allowed`` (a set of ids) limits the documents."""
        n = float(stats["n"])
        if k <= 0 or n == 0:
            return []
        avg = float(stats["total"]) / n
        base, slope = k1 * (1 - b), k1 * b / avg
        acc: dict[str, np.float32] = {}
        for t in terms:
            post = self.postings.get(t)
            df = stats["df"].get(t, 0)
            if not post or not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            for key, tf in post.items():
                if allowed is not None and key not in allowed:
                    continue
                w = np.float32(idf * tf * (k1 + 1) / (tf + base + slope * self.length[key]))
                acc[key] = acc.get(key, np.float32(0)) + w
        best = heapq.nsmallest(k, acc.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(key, np.float32(s)) for key, s in best]


def add_stats(parts) -> dict:
    """The collection's statistics: the sum of each shard's stats()."""
    out: dict = {"n": 0, "total": 0, "df": Counter()}
    for p in parts:
        out["n"] += p["n"]
        out["total"] += p["total"]
        out["df"].update(p["df"])
    out["df"] = dict(out["df"])
    return out
