"""Chroma's names for a store's calls: ``query`` (its ``collection.query``)
and ``peek``, beside oxvec's own ``search`` and ``get``, so code written for
Chroma runs on a VectorStore. Mixed into :class:`oxvec.VectorStore`."""

from __future__ import annotations

from typing import Sequence


class ChromaAPI:
    """Chroma's ``query`` and ``peek`` over :meth:`search` and :meth:`get`."""

    def peek(self, limit: int = 10) -> dict:
        """The first ``limit`` records, with their embeddings."""
        return self.get(limit=limit, include=("documents", "metadatas", "embeddings"))

    def query(self, query_embeddings=None, n_results: int = 10, where=None, where_document=None,
              include: Sequence[str] = ("documents", "metadatas", "distances"), query_texts=None) -> dict:
        """Chroma's name and arguments for :meth:`search`."""
        if (query_embeddings is None) == (query_texts is None):
            raise TypeError("give query_embeddings or query_texts")
        return self.search(query_embeddings if query_embeddings is not None else query_texts, n_results, mode="vector",
                           where=where, where_document=where_document, include=[f for f in include if f != "distances"])
