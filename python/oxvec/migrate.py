"""Open index files written by faiss, hnswlib and Annoy, and write faiss
files back.

The files are read by the engine itself (core/migrate), so none of those
libraries is needed here: ``import oxvec`` imports none of them.

>>> import oxvec
>>> index = oxvec.migrate.from_faiss("vectors.faiss")          # doctest: +SKIP
>>> index = oxvec.migrate.from_hnswlib("g.bin", "cosine", 384)  # doctest: +SKIP
>>> index = oxvec.migrate.from_annoy("a.ann", 384, "angular",
...                                  into=oxvec.HNSW(384, metric="cosine"))  # doctest: +SKIP
>>> oxvec.migrate.to_faiss(index, "back.faiss")                 # doctest: +SKIP

What each reader keeps, and which faiss types are read, is in
docs/migration.md. A damaged or truncated file raises CorruptFileError; a
faiss index type oxvec has no equivalent of raises UnsupportedError naming
its fourcc and the supported ones.
"""

from __future__ import annotations

import os
from ctypes import addressof

from . import _capi
from ._call import check, run_cancellable, state
from ._index import Flat, Index, _info
from ._library import lib

__all__ = ["from_annoy", "from_faiss", "from_hnswlib", "to_faiss"]

_ANNOY_METRICS = {"angular": "cosine", "euclidean": "euclidean", "manhattan": "manhattan", "dot": "ip"}


def _path(path) -> bytes:
    p = os.fspath(path)
    if not os.path.exists(p):
        raise FileNotFoundError(2, "no index file at this path", p)
    return os.fsencode(p)


def _wrap(handle: int) -> Index:
    """The Python object of the right class for a new engine index."""
    st = state
    try:
        cls = Index._types.get(_info(handle)["type"], Index)
    except BaseException:
        check(lib.oxv_index_free(handle, st.err_addr), st)
        raise
    idx = cls.__new__(cls)
    idx._adopt(handle)
    return idx


def from_faiss(path) -> Index:
    """Read a file written by ``faiss.write_index``.

    IndexFlatL2/IP become :class:`oxvec.Flat`, IndexHNSWFlat
    :class:`oxvec.HNSW` with faiss's graph (levels, neighbours, entry point),
    IndexIVFFlat :class:`oxvec.IVFFlat` and IndexIVFPQ (by_residual)
    :class:`oxvec.IVFPQ` with their centroids, lists and codebook as they are
    (nothing is retrained or reassigned), IndexPQ :class:`oxvec.PQ`; an
    IndexIDMap/IDMap2 around any of them gives its ids. faiss's inner
    product becomes metric "ip", whose distance is 1 - <q, x> (faiss reports
    <q, x>); l2 stays squared l2.
    """
    p = _path(path)
    st = state
    h = _capi.oxv_handle()
    check(lib.oxv_migrate_faiss(p, addressof(h), st.err_addr), st)
    return _wrap(h.value)


def from_hnswlib(path, space: str, dim: int) -> Index:
    """Read a file written by hnswlib's ``Index.save_index``.

    space: "l2", "ip" or "cosine", the space the index was made with; dim:
    its dimension (the file records neither). Returns an :class:`oxvec.HNSW`
    with hnswlib's graph, labels as ids and M; elements hnswlib marked
    deleted are removed (the lists that named them repaired).
    """
    if space not in ("l2", "ip", "cosine"):
        raise ValueError(f'space must be "l2", "ip" or "cosine" (hnswlib\'s names), got {space!r}')
    p = _path(path)
    st = state
    h = _capi.oxv_handle()
    check(lib.oxv_migrate_hnswlib(p, space.encode(), int(dim), addressof(h), st.err_addr), st)
    return _wrap(h.value)


def from_annoy(path, dim: int, metric: str, into: Index | None = None, *, progress=None) -> Index:
    """Read the items of a file written by Annoy's ``AnnoyIndex.save``.

    dim and metric ("angular", "euclidean", "manhattan" or "dot") must be
    those the Annoy index was made with (the file records neither). Annoy's
    trees are not kept (docs/migration.md): the items, with their item
    numbers as ids, are added to ``into`` - an empty oxvec index of your
    choice whose metric is Annoy's equivalent (angular: "cosine",
    euclidean: "euclidean", manhattan: "manhattan", dot: "ip"), trained on
    the items first when it learns - or by default to a new
    :class:`oxvec.Flat`. Returns that index.
    """
    if metric not in _ANNOY_METRICS:
        raise ValueError(f'metric must be one of {", ".join(map(repr, _ANNOY_METRICS))}, got {metric!r}')
    p = _path(path)
    if into is None:
        into = Flat(int(dim), metric=_ANNOY_METRICS[metric])
    elif not isinstance(into, Index):
        raise TypeError(f"into must be an oxvec index (oxvec.HNSW(...), oxvec.Flat(...)), got {type(into).__name__}")
    h = into._live()

    def call(cancel: int) -> None:
        st = state
        check(lib.oxv_migrate_annoy(p, int(dim), metric.encode(), h, cancel, st.err_addr), st)

    run_cancellable(call, True, (), progress, "adding annoy items", "vec")
    into._count_hint = len(into)
    return into


def to_faiss(index: Index, path) -> None:
    """Write a :class:`oxvec.Flat`, :class:`oxvec.HNSW`, :class:`oxvec.IVFFlat`
    or :class:`oxvec.IVFPQ` (refine=0) as a file ``faiss.read_index`` reads.

    Ids other than 0..n-1 in storage order wrap flat and HNSW in an
    IndexIDMap2. Cosine indexes are written as inner product over their
    normalised vectors: normalise the queries you give faiss.
    """
    if not isinstance(index, Index):
        raise TypeError(f"index must be an oxvec index, got {type(index).__name__}")
    st = state
    check(lib.oxv_migrate_to_faiss(index._live(), os.fsencode(os.fspath(path)), st.err_addr), st)
