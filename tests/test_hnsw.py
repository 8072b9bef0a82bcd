"""HNSW from Python: recall, filters, deletes, persistence, concurrency."""

import threading

import numpy as np
import pytest

import oxvec
from conftest import brute_force


def recall(found, truth, k):
    return np.mean([len(np.intersect1d(f[:k], t[:k])) / k for f, t in zip(found, truth)])


@pytest.fixture(scope="module")
def sift(request):
    data = request.getfixturevalue("bigann")
    index = oxvec.HNSW(128, m=16, ef_construction=200)
    index.add(data["base"].astype(np.float32))
    return data, index


def test_bigann_recall_reaches_099(sift):
    data, index = sift
    q = data["queries"].astype(np.float32)
    curve = {ef: recall(index.search(q, 10, ef=ef)[0], data["gt_ids"], 10) for ef in (16, 64, 256)}
    assert curve[256] >= 0.99, curve
    assert curve[16] <= curve[64] <= curve[256] + 1e-9  # more ef, better recall


def test_search_accepts_numpy_int_ef_and_rejects_bad_values(sift):
    _, index = sift
    q = np.zeros(128, np.float32)
    assert index.search(q, 3, ef=np.int32(8))[0].shape == (3,)
    for bad in (0, -1, 2.5, True):
        with pytest.raises((oxvec.InvalidArgumentError, TypeError)):
            index.search(q, 3, ef=bad)


@pytest.mark.parametrize("share", [0.5, 0.1, 0.01, 0.001])
def test_filtered_search_returns_only_allowed_ids_with_high_recall(sift, share, rng):
    data, index = sift
    n = len(data["base"])
    mask = rng.random(n) < share
    mask[rng.integers(0, n)] = True  # at least one
    allowed = np.flatnonzero(mask)
    q = data["queries"][:100].astype(np.float32)
    want, _ = brute_force(data["base"][allowed], q, 10, ids=allowed)
    for f in (mask, allowed):
        ids, dist = index.search(q, 10, filter=f)
        assert np.isin(ids[ids >= 0], allowed).all()
        got = recall(ids, want, min(10, len(allowed)))
        assert got >= 0.95, (share, got)


def test_empty_filter_admits_nothing(sift):
    _, index = sift
    ids, dist = index.search(np.zeros(128, np.float32), 5, filter=np.array([], np.int64))
    assert (ids == -1).all() and np.isinf(dist).all()


def test_filter_must_be_ids_or_mask(sift):
    _, index = sift
    with pytest.raises(TypeError, match="ids or a boolean mask"):
        index.search(np.zeros(128, np.float32), 5, filter=np.array([0.5]))


def test_remove_compact_and_readd(rng):
    x = rng.standard_normal((3000, 16)).astype(np.float32)
    index = oxvec.HNSW(16, metric="cosine")
    index.add(x)
    gone = np.arange(0, 3000, 3)
    assert index.remove(gone) == len(gone)
    before = index.memory_bytes
    index.compact()
    assert index.memory_bytes < before
    ids, _ = index.search(x[:50], 10)
    assert not np.isin(ids, gone).any()
    keep = np.setdiff1d(np.arange(3000), gone)
    want, _ = brute_force(x[keep], x[:50], 10, metric="cosine", ids=keep)
    assert recall(ids, want, 10) >= 0.95
    with pytest.raises(oxvec.DuplicateIdError):
        index.add(np.ones((1, 16), np.float32) * 5, ids=[1])  # id 1 exists: remove it first
    assert index.remove([1]) == 1
    index.add(np.ones((1, 16), np.float32) * 5, ids=[1])
    assert index.search(np.ones(16, np.float32), 1)[0][0] == 1
    assert len(index) == 2000


def test_save_load_and_mmap_give_the_same_results(tmp_path, sift):
    data, index = sift
    path = tmp_path / "sift.oxv"
    index.save(path)
    q = data["queries"][:50].astype(np.float32)
    want = index.search(q, 10, ef=64)
    for kw in ({}, {"mmap": True}, {"mmap": True, "verify": True}):
        loaded = oxvec.load(path, **kw)
        assert isinstance(loaded, oxvec.HNSW) and len(loaded) == len(index)
        got = loaded.search(q, 10, ef=64)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
        loaded.add(q[:1], ids=[10**9])  # a mapped index copies itself before changing
        assert loaded.search(q[0], 1)[0][0] in (10**9, want[0][0, 0])
        loaded.close()


def test_truncated_file_is_a_clear_error(tmp_path, rng):
    index = oxvec.HNSW(8)
    index.add(rng.standard_normal((200, 8)))
    path = tmp_path / "h.oxv"
    index.save(path)
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    for kw in ({}, {"mmap": True}):
        with pytest.raises(oxvec.CorruptFileError):
            oxvec.load(path, **kw)


def test_range_search_finds_everything_within_the_radius(rng):
    x = rng.standard_normal((500, 8)).astype(np.float32)
    for index in (oxvec.Flat(8), oxvec.HNSW(8)):
        index.add(x)
        q = x[:3]
        full, dist = brute_force(x, q, 500)
        radius = float(dist[0, 40] + dist[0, 41]) / 2  # between two distances: no float32 rounding at the edge
        ids, d = index.range_search(q[0], radius, **({"ef": 600} if isinstance(index, oxvec.HNSW) else {}))
        assert set(ids.tolist()) == set(full[0][dist[0] <= radius].tolist())
        assert (d <= radius).all() and (np.diff(d) >= 0).all()
        lims, ids, d = index.range_search(q, radius)
        assert lims.shape == (4,) and lims[-1] == len(ids)


def test_threads_add_remove_and_search_at_once(rng):
    dim = 16
    index = oxvec.HNSW(dim, ef_construction=64)
    index.add(rng.standard_normal((2000, dim)).astype(np.float32))
    errors = []
    stop = threading.Event()

    def searcher(seed):
        r = np.random.default_rng(seed)
        while not stop.is_set():
            ids, dist = index.search(r.standard_normal((4, dim)).astype(np.float32), 10)
            if not (np.diff(dist, axis=1) >= 0).all() or (ids < 0).any():
                errors.append((ids, dist))

    def writer(seed):
        r = np.random.default_rng(seed)
        for _ in range(30):
            new = index.add(r.standard_normal((20, dim)).astype(np.float32))
            index.remove(new[:10])

    threads = [threading.Thread(target=searcher, args=(s,)) for s in range(3)]
    threads += [threading.Thread(target=writer, args=(s,)) for s in (7, 8)]
    for t in threads:
        t.start()
    for t in threads[3:]:
        t.join()
    stop.set()
    for t in threads[:3]:
        t.join()
    assert not errors
    assert len(index) == 2000 + 2 * 30 * 10


def test_every_float_metric_builds_a_graph(rng):
    for m in oxvec.metrics():
        name = m["name"]
        if name == "hamming_bits":
            with pytest.raises(oxvec.UnsupportedError):
                oxvec.HNSW(8, metric=name)
            continue
        d = 2 if name == "haversine" else 6
        x = rng.random((200, d)).astype(np.float32) + 0.1
        if name == "haversine":
            x = x - 0.5
        params = {"p": 3} if name == "minkowski" else {"V": np.ones(d)} if name == "seuclidean" else {"VI": np.eye(d)} if name == "mahalanobis" else {}
        index = oxvec.HNSW(d, metric=name, **params)
        index.add(x)
        ids, dist = index.search(x[:5], 1)
        if name != "ip":  # under ip a vector need not be its own nearest
            assert (ids[:, 0] == np.arange(5)).all() or np.allclose(dist[:, 0], 0, atol=1e-5), name


def test_int8_walk_keeps_recall_and_exact_distances(sift):
    data, _ = sift
    index = oxvec.HNSW(128, quantize="int8")
    index.add(data["base"].astype(np.float32))
    q = data["queries"][:200].astype(np.float32)
    ids, dist = index.search(q, 10, ef=128)
    assert recall(ids, data["gt_ids"][:200], 10) >= 0.99
    exact = ((data["base"][ids[:, 0]].astype(np.float64) - q) ** 2).sum(1)
    np.testing.assert_allclose(dist[:, 0], exact, rtol=1e-5)
    with pytest.raises(oxvec.UnsupportedError, match="quantize"):
        oxvec.HNSW(8, metric="ip", quantize="int8")
    with pytest.raises(oxvec.InvalidArgumentError, match="quantize"):
        oxvec.HNSW(8, quantize="int4")
