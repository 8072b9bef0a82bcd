"""LangChain's VectorStore over an :class:`oxvec.VectorStore`.

``pip install 'oxvec[langchain]'`` (it needs langchain-core only)::

    from oxvec.langchain import OxvecVectorStore, OxvecEmbeddings

    store = OxvecVectorStore(OxvecEmbeddings())          # MiniLM, offline
    store.add_texts(["gzip reads and writes .gz files"], metadatas=[{"module": "gzip"}])
    store.similarity_search("compress a file", k=1)
    store.as_retriever(search_type="mmr", search_kwargs={"k": 4})

``import oxvec`` never imports this module (nor LangChain); docs/langchain.md
lists every method.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import weakref
from typing import Any, Callable, ClassVar, Collection, Iterable, Sequence

import numpy as np

try:
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.vectorstores import VectorStore as _LCVectorStore
    from langchain_core.vectorstores import VectorStoreRetriever
except ImportError as e:  # pragma: no cover - the message is the point
    raise ImportError("oxvec.langchain needs langchain-core: pip install 'oxvec[langchain]'") from e

from ._store import VectorStore

__all__ = ["OxvecEmbeddings", "OxvecRetriever", "OxvecVectorStore", "relevance_fn"]


class OxvecEmbeddings(Embeddings):
    """An oxvec embedder (default :class:`oxvec.embed.MiniLM`, offline) as
    LangChain ``Embeddings``."""

    def __init__(self, embedder=None) -> None:
        if embedder is None:
            from .embed import MiniLM
            embedder = MiniLM(progress=False)
        self.embedder = embedder
        self.dim = getattr(embedder, "dim", None)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return np.asarray(self.embedder(list(texts)), np.float32).tolist()

    def embed_query(self, text: str) -> list[float]:
        return np.asarray(self.embedder([text]), np.float32)[0].tolist()

    def _matrix(self, texts: list[str]) -> np.ndarray:
        """The vectors as one float32 array, without the detour through lists."""
        return np.asarray(self.embedder(list(texts)), np.float32)


# distance -> relevance in [0, 1], higher is closer, chosen from the store's metric
def _bounded(width: float) -> Callable[[float], float]:
    return lambda d: float(min(1.0, max(0.0, 1.0 - d / width)))


def _unbounded(d: float) -> float:
    return float(1.0 / (1.0 + max(0.0, d)))


_RELEVANCE = {
    "cosine": _bounded(2.0), "correlation": _bounded(2.0), "spearman": _bounded(2.0),
    "ip": _bounded(2.0),  # 1 - <a,b>: [0, 2] for unit vectors, clipped otherwise
    "angular": _bounded(1.0), "hamming": _bounded(1.0), "jaccard": _bounded(1.0), "weighted_jaccard": _bounded(1.0),
    "dice": _bounded(1.0), "tanimoto": _bounded(1.0), "braycurtis": _bounded(1.0),
}


def relevance_fn(metric: str) -> Callable[[float], float]:
    """The distance-to-relevance function used for a metric: 1 - d/2 for
    cosine-like distances in [0, 2] (cosine, correlation, spearman, ip),
    1 - d for distances in [0, 1], 1 / (1 + d) for unbounded ones (l2,
    euclidean, manhattan, ...)."""
    return _RELEVANCE.get(metric, _unbounded)


class OxvecRetriever(VectorStoreRetriever):
    """LangChain's retriever, with oxvec's "hybrid" (BM25 + vector) and
    "keyword" (BM25) search types beside similarity,
    similarity_score_threshold and mmr."""

    allowed_search_types: ClassVar[Collection[str]] = (
        "similarity", "similarity_score_threshold", "mmr", "hybrid", "keyword")

    def _get_relevant_documents(self, query: str, *, run_manager, **kwargs: Any) -> list[Document]:
        if self.search_type in ("hybrid", "keyword"):
            return self.vectorstore.search(query, self.search_type, **(self.search_kwargs | kwargs))
        return super()._get_relevant_documents(query, run_manager=run_manager, **kwargs)

    async def _aget_relevant_documents(self, query: str, *, run_manager, **kwargs: Any) -> list[Document]:
        if self.search_type in ("hybrid", "keyword"):
            return await self.vectorstore.asearch(query, self.search_type, **(self.search_kwargs | kwargs))
        return await super()._aget_relevant_documents(query, run_manager=run_manager, **kwargs)


def _cleanup(store: VectorStore, tmp: str | None) -> None:
    store.close()
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


class OxvecVectorStore(_LCVectorStore):
    """A LangChain ``VectorStore`` backed by an :class:`oxvec.VectorStore`.

    Parameters
    ----------
    embedding : langchain_core.embeddings.Embeddings
        Turns texts into vectors (:class:`OxvecEmbeddings` for MiniLM).
    path : str or os.PathLike, optional
        The store's directory: opened if it holds a store, created
        otherwise. None: a temporary directory, removed on :meth:`close`.
    relevance_score_fn : callable, optional
        distance -> relevance in [0, 1]; default :func:`relevance_fn` of the
        store's metric.
    **store_options
        For :class:`oxvec.VectorStore`: ``metric`` (default "cosine"),
        ``index`` ("flat", "hnsw", a spec), ``durability``, ``dim`` (default:
        the embedding's ``dim`` or the length of one embedded probe text), ...
    """

    def __init__(self, embedding: Embeddings, path=None, *, relevance_score_fn: Callable[[float], float] | None = None,
                 **store_options: Any) -> None:
        self.embedding = embedding
        tmp = None
        if path is None:
            tmp = path = tempfile.mkdtemp(prefix="oxvec-langchain-")
        p = os.fspath(path)
        opts = dict(store_options)
        exists = os.path.exists(os.path.join(p, "MANIFEST"))
        if not exists:
            opts.setdefault("metric", "cosine")
            if opts.get("dim") is None:
                d = getattr(embedding, "dim", None)
                opts["dim"] = int(d) if isinstance(d, (int, np.integer)) and d > 0 else len(embedding.embed_query("dimension probe"))
        try:
            self.store = VectorStore(p, **opts)
        except BaseException:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.temporary = tmp is not None
        self._override_relevance = relevance_score_fn
        self._finalizer = weakref.finalize(self, _cleanup, self.store, tmp)

    # --- housekeeping -----------------------------------------------------
    @property
    def embeddings(self) -> Embeddings:
        return self.embedding

    def close(self) -> None:
        """Close the store (and remove it when it lives in a temporary directory)."""
        self._finalizer()

    def __enter__(self) -> OxvecVectorStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return self.store.count()

    def __repr__(self) -> str:
        if self.store.closed:
            return "<oxvec.langchain.OxvecVectorStore (closed)>"
        where = "temporary" if self.temporary else repr(self.store.path)
        return (f"<oxvec.langchain.OxvecVectorStore {where} embedding={type(self.embedding).__name__} "
                f"dim={self.store.dim} metric={self.store.metric!r} count={self.store.count()}>")

    def _repr_html_(self) -> str:
        inner = getattr(self.store, "_repr_html_", None)
        body = inner() if callable(inner) else f"<code>{self.store!r}</code>"
        return f"<div><b>OxvecVectorStore</b> (embedding: {type(self.embedding).__name__})</div>{body}"

    # --- embedding --------------------------------------------------------
    def _embed_texts(self, texts: list[str]) -> np.ndarray:
        if isinstance(self.embedding, OxvecEmbeddings):
            return self.embedding._matrix(texts)
        return np.asarray(self.embedding.embed_documents(texts), np.float32).reshape(len(texts), -1)

    def _embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.embedding.embed_query(text), np.float32)

    # --- writes -----------------------------------------------------------
    def add_texts(self, texts: Iterable[str], metadatas: list[dict] | None = None, *, ids: list[str | None] | None = None,
                  **kwargs: Any) -> list[str]:
        """Embed and store texts; given ids are honoured (an existing id is
        replaced), missing ones (None) get a new uuid4. Returns the ids."""
        texts = list(texts)
        n = len(texts)
        if metadatas is not None and len(metadatas) != n:
            raise ValueError(f"got {len(metadatas)} metadatas for {n} texts")
        if ids is not None and len(ids) != n:
            raise ValueError(f"got {len(ids)} ids for {n} texts")
        out = [str(i) if i is not None and i != "" else uuid.uuid4().hex for i in (ids or [None] * n)]
        if n == 0:
            return out
        metas = [dict(m) if m else None for m in metadatas] if metadatas is not None else None
        self.store.upsert(out, self._embed_texts(texts), documents=texts, metadatas=metas)
        return out

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Store documents: ids from ``ids=`` or else each document's ``id``;
        the documents are not changed."""
        ids = kwargs.pop("ids", None)
        if ids is None and any(d.id for d in documents):
            ids = [d.id for d in documents]
        return self.add_texts([d.page_content for d in documents], [d.metadata for d in documents], ids=ids, **kwargs)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete by ids (unknown ones are no error) and/or ``filter=``
        (oxvec's dict language; ``filter={}`` deletes everything)."""
        if ids is None and kwargs.get("filter") is None and kwargs.get("where_document") is None:
            raise ValueError("delete needs ids or filter= (filter={} deletes everything)")
        if ids is not None and len(ids) == 0 and kwargs.get("filter") is None:
            return True
        self.store.delete(ids, filter=kwargs.get("filter"), where_document=kwargs.get("where_document"))
        return True

    # --- reads ------------------------------------------------------------
    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents with these ids, in the order given; unknown ids are left out."""
        r = self.store.get(list(ids))
        return [Document(id=i, page_content=d or "", metadata=m or {})
                for i, d, m in zip(r["ids"], r["documents"], r["metadatas"])]

    def _search(self, vector: np.ndarray | None, k: int, *, text: str | None = None, mode: str = "vector",
                filter: dict | None = None, where_document: dict | None = None, include_embeddings: bool = False,
                **kwargs: Any) -> tuple[list[Document], np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(documents, distances, scores, embeddings) of one engine search."""
        if k <= 0 or self.store.count() == 0:
            return [], np.empty(0, np.float32), None, np.empty((0, self.store.dim), np.float32) if include_embeddings else None
        inc = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
        if mode == "keyword":
            r = self.store.search(text, k, mode="keyword", filter=filter, where_document=where_document, include=inc, **kwargs)
        elif mode == "hybrid":
            r = self.store.search(vector, k, mode="hybrid", text=[text], filter=filter, where_document=where_document,
                                  include=inc, **kwargs)
        else:
            r = self.store.search(vector, k, mode="vector", filter=filter, where_document=where_document, include=inc, **kwargs)
        docs = [Document(id=i, page_content=d or "", metadata=m or {})
                for i, d, m in zip(r["ids"][0], r["documents"][0], r["metadatas"][0])]
        scores = r["scores"][0] if "scores" in r else None
        emb = r["embeddings"][0] if include_embeddings else None
        return docs, r["distances"][0], scores, emb

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [d for d, _ in self.similarity_search_with_score(query, k, **kwargs)]

    def similarity_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[Document, float]]:
        """Documents and their distances (the store's metric: smaller is closer)."""
        return self.similarity_search_by_vector_with_score(self._embed_query(query), k, **kwargs)

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[Document]:
        return [d for d, _ in self.similarity_search_by_vector_with_score(embedding, k, **kwargs)]

    def similarity_search_by_vector_with_score(self, embedding, k: int = 4, **kwargs: Any) -> list[tuple[Document, float]]:
        docs, dist, _, _ = self._search(np.asarray(embedding, np.float32), k, **kwargs)
        return [(d, float(x)) for d, x in zip(docs, dist)]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return self._override_relevance or relevance_fn(self.store.metric)

    def hybrid_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[Document, float]]:
        """BM25 and vector search fused in the engine (reciprocal rank
        fusion by default; ``fusion="convex", alpha=`` and the other
        arguments of :meth:`oxvec.VectorStore.search`). Scores: higher is better."""
        docs, _, scores, _ = self._search(self._embed_query(query), k, text=query, mode="hybrid", **kwargs)
        return [(d, float(s)) for d, s in zip(docs, scores)]

    def hybrid_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [d for d, _ in self.hybrid_search_with_score(query, k, **kwargs)]

    def keyword_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        """BM25 only (no embedding)."""
        return self._search(None, k, text=query, mode="keyword", **kwargs)[0]

    def search(self, query: str, search_type: str, **kwargs: Any) -> list[Document]:
        """LangChain's search types plus "hybrid" and "keyword"."""
        if search_type == "hybrid":
            return self.hybrid_search(query, **kwargs)
        if search_type == "keyword":
            return self.keyword_search(query, **kwargs)
        return super().search(query, search_type, **kwargs)

    async def asearch(self, query: str, search_type: str, **kwargs: Any) -> list[Document]:
        if search_type in ("hybrid", "keyword"):
            from langchain_core.runnables.config import run_in_executor
            return await run_in_executor(None, self.search, query, search_type, **kwargs)
        return await super().asearch(query, search_type, **kwargs)

    def max_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5,
                                      **kwargs: Any) -> list[Document]:
        return self.max_marginal_relevance_search_by_vector(self._embed_query(query), k, fetch_k, lambda_mult, **kwargs)

    def max_marginal_relevance_search_by_vector(self, embedding, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5,
                                                **kwargs: Any) -> list[Document]:
        """MMR in the engine: the fetch_k nearest, then k of them chosen one
        at a time for relevance to the query and dissimilarity to those
        chosen (cosine similarities, as langchain-core's
        maximal_marginal_relevance); filters apply to the candidates."""
        mmr = {"fetch_k": max(int(k), int(fetch_k)), "lambda": float(lambda_mult)}
        return self._search(np.asarray(embedding, np.float32), k, mmr=mmr, **kwargs)[0]

    def as_retriever(self, **kwargs: Any) -> OxvecRetriever:
        """A retriever; search_type "similarity" (default),
        "similarity_score_threshold", "mmr", "hybrid" or "keyword"."""
        tags = kwargs.pop("tags", None) or [*self._get_retriever_tags()]
        return OxvecRetriever(vectorstore=self, tags=tags, **kwargs)

    # --- constructors -----------------------------------------------------
    @classmethod
    def from_texts(cls, texts: list[str], embedding: Embeddings, metadatas: list[dict] | None = None, *,
                   ids: list[str] | None = None, path=None, **kwargs: Any) -> OxvecVectorStore:
        store = cls(embedding, path=path, **kwargs)
        try:
            store.add_texts(texts, metadatas, ids=ids)
        except BaseException:
            store.close()
            raise
        return store
