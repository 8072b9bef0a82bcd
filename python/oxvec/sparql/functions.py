"""What the SPARQL functions and patterns compute, on a VectorStore whose
ids are IRIs, independent of the RDF engine that calls them (rdflib,
pyoxigraph and the endpoint share this).

Scores are "higher is better": for a cosine or ip store the similarity
1 - distance (the cosine, or the inner product); for the other metrics the
negated distance. vec:similarity and vec:vector_similarity are always the
cosine of the two vectors, whatever the store's metric.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .._errors import InvalidArgumentError, NotFoundError

NAMES = ("similarity", "vector_similarity", "embed", "cluster")  # scalar functions
PATTERNS = ("search", "similar", "searchIn", "search_text")  # (?resource ?score) vec:<name> (args)
DEFAULT_K = 10
CACHE_BYTES = 64 << 20  # resource vectors kept between calls: a per-binding function reads one or two each


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise InvalidArgumentError(f"vectors of different lengths ({a.size} and {b.size}) have no cosine")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        raise InvalidArgumentError("a zero vector has no cosine similarity")
    return float(a @ b / (na * nb))


class VectorFunctions:
    """The store behind the SPARQL functions.

    Parameters
    ----------
    store : oxvec.VectorStore
        Its ids are the resources' IRIs. vec:embed and the text patterns need
        it to have an embedder (``VectorStore(..., embedder=MiniLM())``).
    cache_bytes : int
        Memory for resource vectors read by vec:similarity and vec:similar
        (least recently used go first; default 64 MiB, 43,690 vectors of
        384 floats). A vector read from the cache costs no store call; the
        cache is emptied when the store changes.
    clusters : int, optional
        vec:cluster's cell count. The store's own index does not expose its
        cells, so vec:cluster is a k-means of the store's vectors computed
        here on first use (seeded, 20 Lloyd iterations), redone after the
        store changes. Without it vec:cluster is an error (unbound).
    """

    def __init__(self, store, clusters: int | None = None, cache_bytes: int = CACHE_BYTES) -> None:
        self.store = store
        self._cap = max(16, int(cache_bytes) // (4 * max(1, int(store.dim))))
        if clusters is not None and (isinstance(clusters, bool) or not isinstance(clusters, int) or clusters < 1):
            raise InvalidArgumentError(f"clusters must be a positive int, got {clusters!r}")
        self.clusters = clusters
        self._vectors: OrderedDict = OrderedDict()
        self._seq = None
        self._cells = None
        self._scoped = 0

    # --- vectors of resources --------------------------------------------
    def _fresh(self) -> None:
        """Drop cached vectors when the store has changed since."""
        seq = self.store.last_seq
        if seq != self._seq:
            self._vectors.clear()
            self._cells = None
            self._seq = seq

    def vector(self, iri: str) -> np.ndarray:
        if not self._scoped:
            self._fresh()
        v = self._vectors.get(iri)
        if v is None:
            got = self.store.get([iri], include=("embeddings",))
            if not got["ids"]:
                raise NotFoundError(f"{iri} has no vector in the store")
            v = got["embeddings"][0].copy()
            self._vectors[iri] = v
            if len(self._vectors) > self._cap:
                self._vectors.popitem(last=False)
        else:
            self._vectors.move_to_end(iri)
        return v

    def clear_cache(self) -> None:
        """Forget the cached vectors (the next reads go to the store)."""
        self._vectors.clear()

    def __enter__(self):
        """One query: the store is checked for changes once, not per call
        (outside such a scope every vector read checks, about 20 us)."""
        self._fresh()
        self._scoped += 1
        return self

    def __exit__(self, *exc) -> None:
        self._scoped -= 1

    # --- scalar functions --------------------------------------------------
    def similarity(self, a: str, b: str) -> float:
        return cosine(self.vector(a), self.vector(b))

    def embed(self, text: str) -> np.ndarray:
        emb = self.store.embedder
        if emb is None:
            raise InvalidArgumentError("vec:embed needs a store opened with embedder= (e.g. oxvec.embed.MiniLM())")
        return np.asarray(emb([text]), np.float32)[0]

    def cluster(self, iri: str) -> int:
        if self.clusters is None:
            raise InvalidArgumentError("vec:cluster needs bind(store, clusters=n) (the number of k-means cells)")
        if not self._scoped:
            self._fresh()
        if self._cells is None:
            self._cells = _kmeans_cells(self.store, self.clusters)
        cells = self._cells
        if iri not in cells:
            raise NotFoundError(f"{iri} has no vector in the store")
        return cells[iri]

    # --- patterns: lists of (iri, score) -------------------------------------
    def _score(self, d: float) -> float:
        return 1.0 - float(d) if self.store.metric in ("cosine", "ip") else -float(d)

    def _hits(self, res) -> list:
        return [(i, self._score(d)) for i, d in zip(res["ids"][0], res["distances"][0])] if res["ids"] else []

    def search(self, text: str, k: int) -> list:
        """The k resources whose vectors are nearest the embedded text."""
        return self._hits(self.store.search(self._vector_of(text), k, include=()))

    def similar(self, iri: str, k: int) -> list:
        """The k resources nearest a resource, the resource itself left out."""
        res = self.store.search(self.vector(iri), k + 1, include=())
        return [h for h in self._hits(res) if h[0] != iri][:k]

    def search_in(self, text: str, k: int, members) -> list:
        """The k nearest resources among members (a set of IRIs): the
        search is widened (k, 4k, 16k, ...) until k members are found or the
        whole store was searched."""
        if not members:
            return []
        q = self._vector_of(text)
        n = self.store.count()
        want = min(max(k, 1) * 4, n)
        while True:
            hits = [h for h in self._hits(self.store.search(q, max(want, 1), include=())) if h[0] in members]
            if len(hits) >= k or want >= n:
                return hits[:k]
            want = min(want * 4, n)

    def search_text(self, text: str, k: int, mode: str = "keyword") -> list:
        """BM25 ("keyword") or fused BM25 + vector ("hybrid") search of the
        store's documents; the score is BM25 or the fused score."""
        if mode not in ("keyword", "hybrid"):
            raise InvalidArgumentError(f"vec:search_text's mode is \"keyword\" or \"hybrid\", not {mode!r}")
        res = self.store.search(text, k, mode=mode, include=())
        return [(i, float(s)) for i, s in zip(res["ids"][0], res["scores"][0])] if res["ids"] else []

    def _vector_of(self, text) -> np.ndarray:
        if isinstance(text, np.ndarray):
            return text
        return self.embed(text)


def check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidArgumentError(f"a pattern's k must be a positive integer, got {k!r}")
    return int(k)


def _kmeans_cells(store, n: int, iters: int = 20, seed: int = 0) -> dict:
    """{iri: cell} of a seeded k-means (Lloyd) over every vector of the store."""
    got = store.get(include=("embeddings",))
    x = np.asarray(got["embeddings"], np.float32)
    if len(x) == 0:
        return {}
    n = min(n, len(x))
    rng = np.random.default_rng(seed)
    c = x[rng.choice(len(x), n, replace=False)].copy()
    for _ in range(iters):
        d = (x * x).sum(1)[:, None] - 2 * x @ c.T + (c * c).sum(1)[None, :]
        lab = d.argmin(1)
        for j in range(n):
            m = lab == j
            if m.any():
                c[j] = x[m].mean(0)
    d = (x * x).sum(1)[:, None] - 2 * x @ c.T + (c * c).sum(1)[None, :]
    return dict(zip(got["ids"], d.argmin(1).tolist()))
