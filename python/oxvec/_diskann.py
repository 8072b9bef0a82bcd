"""DiskANN: a Vamana graph whose vectors and lists stay on disk (core/diskann)."""

from __future__ import annotations

import os

import numpy as np

from . import _convert as cv
from ._call import check, json_out, run_cancellable, state
from ._errors import StateError
from ._index import Index, _knob
from ._library import lib


class DiskANN(Index):
    """Approximate search on a Vamana graph that lives in a file.

    Every node's full vector and neighbour list lie in a 4 KiB-aligned
    block of the file at ``path``; memory holds the PQ codes that steer a
    search, the ids, a small cache of the blocks nearest the entry point
    and the vectors added since the file was written. A search reads the
    blocks of ``beam_width`` nodes per step (one pread each) and ranks what
    it read exactly (docs/diskann.md).

    Parameters
    ----------
    dim : int
    metric : str
        l2-family metrics or the dot family (ip, cosine, ...).
    r : int
        The graph's degree (neighbours per node). Default 64.
    l_build : int
        Candidate list size while building. Default 100.
    alpha : float
        Pruning factor of the second build pass (longer edges above 1). Default 1.2.
    pq_bytes : int
        Bytes of each in-memory PQ code; must divide dim. 0 (default) picks
        the largest divisor of dim not above dim/4.
    path : str or os.PathLike, optional
        Where :meth:`build` writes the index (atomically). Without it the
        blocks are kept in memory, which is only useful for tests.
    l_search : int
        Default candidate list size of a search (``search(..., l=)``). Default 100.
    beam_width : int
        Nodes read per search step by default. Default 4.
    cache_nodes : int
        Records cached in memory, nearest the entry point first; -1 (default)
        picks min(4096, n/64).
    build_memory : int
        Bytes the build's graph may take; 0 (default) is no limit. Below the
        graph's size (about n*(4r+32) bytes) the build is partitioned: k-means
        splits the vectors into overlapping parts built one at a time.
    seed : int
    """

    type_name = "diskann"

    def __init__(self, dim: int, metric: str = "l2", r: int = 64, l_build: int = 100, alpha: float = 1.2, pq_bytes: int = 0,
                 path=None, l_search: int = 100, beam_width: int = 4, cache_nodes: int = -1, build_memory: int = 0,
                 seed: int = 1, **metric_params) -> None:
        self._create(dim, metric, metric_params, r=int(r), l_build=int(l_build), alpha=float(alpha), pq_bytes=int(pq_bytes),
                     path=os.fspath(path) if path is not None else "", l_search=int(l_search), beam_width=int(beam_width),
                     cache_nodes=int(cache_nodes), build_memory=int(build_memory), seed=int(seed))

    def build(self, x, ids=None, *, progress=None) -> np.ndarray:
        """Build the disk graph of x and write it to ``path``.

        x : (n, dim) float32 array, or the path of a .npy file, which is
            memory-mapped and read in place (with build_memory set, a file
            larger than memory works: each partition's vectors are copied out
            in turn). Needs an empty index; later :meth:`add` calls go to the
            in-memory delta. Returns the ids, as :meth:`add`.
        """
        if isinstance(x, (str, os.PathLike)):
            x = np.load(os.fspath(x), mmap_mode="r")
        if isinstance(x, np.memmap):
            x = np.asarray(x)  # a view of the mapping: no copy
        if len(self):
            raise StateError(f"build needs an empty DiskANN index; this one holds {len(self)} vectors "
                             "(add() appends to the in-memory delta, merge() writes it to disk)")
        return self.add(x, ids, progress=progress)

    def search(self, queries, k: int = 10, *, l: int | None = None, beam_width: int | None = None, filter=None):
        """Find the k nearest neighbours of each query (approximately).

        l : int, optional
            Candidate list size (default: the index's l_search); raised to k.
            Each expanded candidate is one block read unless cached.
        beam_width : int, optional
            Nodes read per step (1..64) for this call only; the index's
            default (``index.beam_width``) stays as it is, so threads may
            search at once with different values.
        filter : array_like, optional
            An allow-list (ids or a boolean mask by id). Applied to the
            nodes the search reads; one admitting at most 512 ids is ranked
            exactly over those ids (one block read each).
        """
        if beam_width is None:
            return self._search(queries, k, *self._search_args(l, filter))
        return self._search_extra(queries, k, *self._search_args(l, filter), beam_width=_knob("beam_width", beam_width))

    def _search_args(self, l=None, filter=None, ef=None):
        return _knob("l", l if l is not None else ef), 0, filter

    def _search_cost(self) -> int:
        return 3000 * self._dim

    def _add_work(self, n: int) -> int:
        return n * self._dim * 4000

    @property
    def beam_width(self) -> int:
        """Nodes a search step reads by default; settable (1..64), saved with the index."""
        return self._knob("beam_width")

    @beam_width.setter
    def beam_width(self, value: int) -> None:
        self._set_knob("beam_width", value)

    @property
    def l_search(self) -> int:
        """The default candidate list size of a search; settable."""
        return self._knob("ef")

    @l_search.setter
    def l_search(self, value: int) -> None:
        self._set_knob("ef", value)

    @property
    def path(self) -> str:
        """The file the disk graph lives in ("" when kept in memory)."""
        return self.stats()["path"]

    def stats(self, reset: bool = False) -> dict:
        """I/O counters of the searches since the last reset - queries,
        blocks_read (preads of node blocks), cache_hits, nodes_expanded - and
        disk_nodes, deleted, delta_nodes, cached_nodes, block_bytes,
        nodes_per_block, path. reset=True zeroes the counters after reading."""
        return json_out(lib.oxv_diskann_stats, self._live(), 1 if reset else 0, size=512)

    def consolidate(self) -> None:
        """Drop removed vectors from the file: the blocks whose lists named
        them are repaired, the file is rewritten atomically and reopened."""
        self._rewrite(0, "consolidating")

    def merge(self) -> None:
        """Write the vectors added since the build (the in-memory delta) into
        the disk graph, consolidating removals too; the delta is then empty."""
        self._rewrite(1, "merging")

    def _rewrite(self, merge: int, what: str) -> None:
        h = self._live()

        def call(cancel: int) -> None:
            st = state
            check(lib.oxv_diskann_rewrite(h, merge, cancel, st.err_addr), st)

        run_cancellable(call, True, (), False, what, "vec")

    def drop_page_cache(self) -> None:
        """Ask the kernel to drop the file's cached pages
        (posix_fadvise DONTNEED), so the next searches read from the device:
        the cold runs of a benchmark. Does nothing without a path."""
        p = self.path
        if p and hasattr(os, "posix_fadvise"):
            fd = os.open(p, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
