"""Exact search: results equal float64 brute force, in every shape users pass."""

import numpy as np
import pytest

import oxvec
from conftest import brute_force


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_search_matches_float64_brute_force(rng, metric):
    base = rng.standard_normal((500, 33)).astype(np.float32)
    queries = rng.standard_normal((20, 33)).astype(np.float32)
    with oxvec.Flat(33, metric=metric) as index:
        index.add(base)
        ids, dist = index.search(queries, k=7)
    want_ids, want_dist = brute_force(base, queries, 7, metric)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_allclose(dist, want_dist, rtol=1e-4, atol=1e-4)


def test_bigann_returns_the_shipped_ground_truth(bigann):
    base = bigann["base"].astype(np.float32)
    queries = bigann["queries"].astype(np.float32)
    index = oxvec.Flat(128)
    index.add(base)
    ids, dist = index.search(queries, k=100)
    # SIFT values are small integers, so float32 distances are exact and
    # ties (equal distances) are broken by the lower id on both sides.
    np.testing.assert_array_equal(ids, bigann["gt_ids"])
    np.testing.assert_array_equal(dist, bigann["gt_dist"])


def test_search_cuts_k_to_the_index_size(rng):
    index = oxvec.Flat(4)
    ids, dist = index.search(np.zeros(4, np.float32), k=3)
    assert ids.shape == dist.shape == (0,)
    assert index.search(np.zeros((2, 4)), k=3)[0].shape == (2, 0)
    index.add(rng.standard_normal((2, 4)))
    ids, dist = index.search(np.zeros((1, 4)), k=5)
    assert ids.shape == dist.shape == (1, 2)
    assert sorted(ids[0].tolist()) == [0, 1] and np.isfinite(dist).all()


def test_search_pads_rows_a_filter_leaves_short(rng):
    index = oxvec.Flat(4)
    index.add(rng.standard_normal((5, 4)))
    ids, dist = index.search(np.zeros((1, 4)), k=4, filter=[1, 3])
    assert ids.shape == (1, 4)
    assert sorted(ids[0, :2].tolist()) == [1, 3]
    assert ids[0, 2:].tolist() == [-1, -1] and np.isinf(dist[0, 2:]).all()


def test_single_vector_query_returns_1d(rng):
    index = oxvec.Flat(8)
    index.add(rng.standard_normal((10, 8)).astype(np.float32))
    ids, dist = index.search(rng.standard_normal(8).astype(np.float32), k=3)
    assert ids.shape == (3,) and dist.shape == (3,)
    assert ids.dtype == np.int64 and dist.dtype == np.float32
    ids2, _ = index.search(rng.standard_normal((1, 8)), k=3)
    assert ids2.shape == (1, 3)


def test_zero_queries_give_empty_results(rng):
    index = oxvec.Flat(3)
    ids, dist = index.search(np.empty((0, 3), np.float32), k=4)
    assert ids.shape == (0, 0) and dist.shape == (0, 0)
    index.add(rng.standard_normal((5, 3)))
    assert index.search(np.empty((0, 3), np.float32), k=4)[0].shape == (0, 4)
    assert index.search(np.empty((0, 3), np.float32), k=10)[1].shape == (0, 5)


def test_add_assigns_ids_and_keeps_given_ones(rng):
    index = oxvec.Flat(2)
    assert index.add(rng.standard_normal((3, 2))).tolist() == [0, 1, 2]
    assert index.add(rng.standard_normal((2, 2)), ids=[100, 7]).tolist() == [100, 7]
    assert index.add(rng.standard_normal((1, 2))).tolist() == [101]
    assert len(index) == 6 and index.ntotal == 6


def test_remove_then_search_never_returns_removed(rng):
    base = rng.standard_normal((300, 16)).astype(np.float32)
    index = oxvec.Flat(16)
    index.add(base)
    gone = np.arange(0, 300, 2)
    assert index.remove(gone) == 150
    assert index.remove([0, 2, 99999]) == 0  # already gone or never there
    ids, _ = index.search(base[:10], k=20)
    assert not np.isin(ids, gone).any()
    keep = np.arange(1, 300, 2)
    want, _ = brute_force(base[keep], base[:10], 20, ids=keep)
    np.testing.assert_array_equal(ids, want)


def test_save_and_load_round_trip(tmp_path, rng):
    base = rng.standard_normal((100, 12)).astype(np.float32)
    index = oxvec.Flat(12, metric="cosine")
    index.add(base, ids=np.arange(1000, 1100))
    path = tmp_path / "flat.oxv"
    index.save(path)
    loaded = oxvec.load(path)
    assert isinstance(loaded, oxvec.Flat)
    assert (loaded.dim, loaded.metric, len(loaded)) == (12, "cosine", 100)
    q = rng.standard_normal((5, 12)).astype(np.float32)
    for a, b in zip(index.search(q, 10), loaded.search(q, 10)):
        np.testing.assert_array_equal(a, b)
    assert loaded.add(q[:1]).tolist() == [1100]


def test_accepts_lists_and_other_dtypes(rng):
    index = oxvec.Flat(3)
    index.add([[1, 2, 3], [4, 5, 6]])  # ints, from a list
    index.add(np.array([[7, 8, 9]], dtype=np.float64))
    index.add(np.asfortranarray(rng.standard_normal((4, 3))))
    ids, _ = index.search([1, 2, 3], k=1)
    assert ids.tolist() == [0]


def test_repr_and_info():
    index = oxvec.Flat(5, metric="ip")
    assert "dim=5" in repr(index) and "'ip'" in repr(index)
    info = index.info()
    assert info["type"] == "flat" and info["len"] == 0 and info["dim"] == 5
    index.close()
    assert "closed" in repr(index)


def test_metric_aliases_resolve_to_canonical_names():
    assert oxvec.Flat(2, metric="sqeuclidean").metric == "l2"
    assert oxvec.Flat(2, metric="dot").metric == "ip"
    assert oxvec.Flat(2, metric="COSINE").metric == "cosine"


def test_memory_bytes_grows_with_vectors(rng):
    index = oxvec.Flat(64)
    before = index.memory_bytes
    index.add(rng.standard_normal((1000, 64)))
    assert index.memory_bytes >= before + 1000 * 64 * 4


def test_filtered_exact_search(rng):
    base = rng.standard_normal((400, 6)).astype(np.float32)
    index = oxvec.Flat(6)
    index.add(base)
    mask = rng.random(400) < 0.2
    allowed = np.flatnonzero(mask)
    want, _ = brute_force(base[allowed], base[:7], 5, ids=allowed)
    for f in (mask, allowed, list(allowed)):
        ids, _ = index.search(base[:7], 5, filter=f)
        np.testing.assert_array_equal(ids, want)
