"""Vector search inside SPARQL, for rdflib and pyoxigraph (docs/sparql.md).

Functions in the namespace ``http://oxirs.org/vec/`` (``vec:``) over a
VectorStore whose ids are IRIs:

- ``vec:similarity(?a, ?b)``: cosine of two resources' vectors (xsd:double)
- ``vec:vector_similarity(?v1, ?v2)``: cosine of two vec:Vector literals
- ``vec:embed("text")``: the store's embedder's vector of a text, a
  vec:Vector literal (``"[0.1, -0.2, ...]"^^vec:Vector``, :mod:`.vector`)
- ``vec:cluster(?r)``: the resource's k-means cell (``bind(store, clusters=n)``)

and k-NN patterns binding a resource and its score, one search per pattern:

- ``(?r ?score) vec:search ("text" 10)``: nearest to the embedded text
- ``(?r ?score) vec:similar (<iri> 10)``: nearest to a resource (not itself)
- ``(?r ?score) vec:searchIn ("text" 10 <graph-or-class>)``: among the
  resources of a named graph, or the instances of a class
- ``(?r ?score) vec:search_text ("text" 10 "keyword"|"hybrid")``: BM25 or
  hybrid search of the stored documents

rdflib: :func:`bind`. pyoxigraph: :func:`oxigraph_functions` for the
functions, :func:`oxigraph_query` for queries with patterns (pyoxigraph has
no property functions; the patterns are answered first and become VALUES).
The SPARQL 1.1 Protocol endpoint is :mod:`oxvec.sparql.endpoint`; a store's
own records as RDF, :mod:`oxvec.sparql.records`; WordNet as RDF,
:mod:`oxvec.sparql.wordnet`.

Needs ``pip install 'oxvec[rdf]'``; nothing here is imported by ``import oxvec``.
"""

from __future__ import annotations

from .functions import VectorFunctions, cosine
from .vector import VEC, VECTOR, decode, encode

__all__ = ["VEC", "VECTOR", "VectorFunctions", "bind", "cosine", "decode", "encode", "oxigraph_functions", "oxigraph_query"]


def bind(store, *, clusters: int | None = None, cache_bytes: int = 64 << 20):
    """rdflib: make the vec: functions and patterns of every query in this
    process use ``store`` (see :class:`~.rdflib_binding.Binding`).
    cache_bytes: memory for the resource vectors the functions read."""
    from .rdflib_binding import bind as _bind

    return _bind(store, clusters=clusters, cache_bytes=cache_bytes)


def oxigraph_functions(store, *, clusters: int | None = None) -> dict:
    """pyoxigraph: ``{NamedNode: function}`` for ``Store.query(...,
    custom_functions=...)``: vec:similarity, vec:vector_similarity,
    vec:embed, vec:cluster."""
    from .oxigraph import functions

    return functions(store, clusters=clusters)


def oxigraph_query(ox_store, query: str, store, **kw):
    """pyoxigraph: run a query that may hold vec: patterns (see
    :func:`.oxigraph.query`)."""
    from .oxigraph import query as _query

    return _query(ox_store, query, store, **kw)
