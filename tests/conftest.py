import os
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"


@pytest.fixture
def rng():
    return np.random.default_rng(20261123)


def brute_force(base, queries, k, metric="l2", ids=None):
    """Exact k-NN in float64, ties broken by lower id: the reference."""
    base = np.asarray(base, np.float64)
    queries = np.atleast_2d(np.asarray(queries, np.float64))
    ids = np.arange(len(base)) if ids is None else np.asarray(ids)
    if metric == "l2":
        d = ((queries[:, None, :] - base[None, :, :]) ** 2).sum(-1)
    elif metric == "ip":
        d = 1 - queries @ base.T
    elif metric == "cosine":
        qn = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        bn = base / np.linalg.norm(base, axis=1, keepdims=True)
        d = 1 - qn @ bn.T
    else:
        raise ValueError(metric)
    order = np.lexsort((np.broadcast_to(ids, d.shape), d), axis=1)[:, :k]
    return ids[order], np.take_along_axis(d, order, 1)


@pytest.fixture(scope="session")
def bigann():
    d = SHARED / "bigann-10k"
    if not d.exists():
        pytest.skip(f"{d} is not available")
    return {name: np.load(d / f"{name}.npy") for name in ("base", "queries", "gt_ids", "gt_dist")}
