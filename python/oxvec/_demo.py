"""The demo behind ``make demo``: exact search on clustered vectors, checked
against float64 brute force and timed."""

from __future__ import annotations

import time

import numpy as np

from . import Flat, engine_version, get_num_threads


def clustered(n: int, dim: int, seed: int, centers: int = 100) -> np.ndarray:
    """Gaussian blobs around random centres: closer to real embeddings than
    uniform noise, and reproducible from the seed."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, dim)).astype(np.float32)
    which = rng.integers(0, centers, n)
    return c[which] + 0.35 * rng.standard_normal((n, dim)).astype(np.float32)


def exact_neighbours(base: np.ndarray, queries: np.ndarray, k: int):
    """float64 brute force in blocks: ids and squared distances of the k nearest."""
    b = base.astype(np.float64)
    bn = (b * b).sum(1)
    ids = np.empty((len(queries), k), np.int64)
    dist = np.empty((len(queries), k))
    for s in range(0, len(queries), 256):
        q = queries[s : s + 256].astype(np.float64)
        d = (q * q).sum(1)[:, None] - 2 * q @ b.T + bn[None, :]
        part = np.argpartition(d, k, axis=1)[:, :k]
        order = np.take_along_axis(d, part, 1).argsort(1)
        ids[s : s + 256] = np.take_along_axis(part, order, 1)
        dist[s : s + 256] = np.take_along_axis(d, ids[s : s + 256], 1)
    return ids, dist


def recall(found: np.ndarray, true_dist: np.ndarray, base: np.ndarray, queries: np.ndarray) -> float:
    """Share of returned neighbours that are true k-nearest, counting a tie
    with the k-th distance as correct (the ann-benchmarks definition)."""
    q = queries.astype(np.float64)[:, None, :]
    d = ((base[found].astype(np.float64) - q) ** 2).sum(-1)
    kth = true_dist[:, -1:]
    return float((d <= kth * (1 + 1e-6) + 1e-9).mean())


def run(n: int, dim: int, nq: int, k: int) -> int:
    print(f"oxvec demo - exact search, engine {engine_version()}, {get_num_threads()} threads")
    t = time.perf_counter()
    base = clustered(n, dim, seed=1)
    queries = clustered(nq, dim, seed=2)
    print(f"data:    {n:,} clustered {dim}-d vectors and {nq:,} queries ({time.perf_counter() - t:.2f} s to generate)")

    t = time.perf_counter()
    index = Flat(dim, metric="l2")
    index.add(base)
    print(f"build:   Flat index of {len(index):,} vectors in {time.perf_counter() - t:.3f} s, {index.memory_bytes / 2**20:.1f} MiB")

    index.search(queries[:10], k)  # warm up
    t = time.perf_counter()
    ids, dist = index.search(queries, k)
    batch = time.perf_counter() - t
    print(f"search:  {nq:,} queries, k={k}, in {batch:.3f} s = {nq / batch:,.0f} queries/s (batch)")

    t = time.perf_counter()
    single = min(nq, 200)
    for i in range(single):
        index.search(queries[i], k)
    one = (time.perf_counter() - t) / single
    print(f"         one query per call: {one * 1e3:.2f} ms per query")

    t = time.perf_counter()
    _, true_dist = exact_neighbours(base, queries, k)
    r = recall(ids, true_dist, base, queries)
    print(f"check:   recall@{k} against float64 brute force = {r:.4f} (numpy took {time.perf_counter() - t:.2f} s)")
    return 0 if r >= 0.9999 else 1
