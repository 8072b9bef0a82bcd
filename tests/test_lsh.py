"""oxvec.LSH: SimHash (cosine), p-stable (l2) and MinHash (jaccard) hashing
with multi-probe and exact re-ranking, checked against numpy brute force."""

import numpy as np
import pytest

import oxvec

D = 32


def clustered(n, seed, d=D, spread=0.3):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n // 40 + 1, d))
    x = centres[rng.integers(0, len(centres), n)] + spread * rng.standard_normal((n, d))
    return x.astype(np.float32)


def exact(base, q, k, metric):
    if metric == "cosine":
        b = base / np.linalg.norm(base, axis=1, keepdims=True)
        a = q / np.linalg.norm(q, axis=1, keepdims=True)
        dist = 1 - a.astype(np.float64) @ b.T.astype(np.float64)
    else:
        dist = ((q[:, None, :].astype(np.float64) - base[None].astype(np.float64)) ** 2).sum(-1)
    return np.argsort(dist, axis=1, kind="stable")[:, :k]


def recall(got, want):
    return np.mean([len(set(g) & set(w)) / len(w) for g, w in zip(got, want)])


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_recall_against_brute_force_grows_with_nprobe(metric):
    x = clustered(3100, 1)
    base, q = x[:3000], x[3000:]
    index = oxvec.LSH(D, metric, tables=6, bits=14 if metric == "cosine" else 8)
    index.train(base)  # estimates w for l2; checks only for cosine
    index.add(base)
    want = exact(base, q, 10, metric)
    one = recall(index.search(q, 10, nprobe=1)[0], want)
    many = recall(index.search(q, 10, nprobe=64)[0], want)
    assert many >= 0.9 and many > one, (one, many)
    # the distances are the exact ones of the metric
    ids, dist = index.search(q[:5], 3, nprobe=64)
    ref = oxvec.Flat(D, metric)
    ref.add(base)
    rid, rdist = ref.search(q[:5], 3)
    hit = ids == rid
    np.testing.assert_allclose(dist[hit], rdist[hit], rtol=1e-5, atol=1e-5)


def test_nprobe_default_is_a_saved_knob_and_probes_is_its_other_name(tmp_path):
    x = clustered(500, 2)
    a = oxvec.LSH(D, "cosine", probes=8)
    b = oxvec.LSH(D, "cosine", nprobe=8)
    assert a.nprobe == b.nprobe == 8
    with pytest.raises(TypeError, match="not both"):
        oxvec.LSH(D, "cosine", probes=8, nprobe=4)
    a.add(x)
    a.nprobe = 32
    a.save(tmp_path / "a.oxv")
    for mmap in (False, True):
        c = oxvec.load(tmp_path / "a.oxv", mmap=mmap)
        assert isinstance(c, oxvec.LSH) and c.nprobe == 32 and len(c) == 500
        np.testing.assert_array_equal(c.search(x[:20], 5)[0], a.search(x[:20], 5)[0])
    assert oxvec.LSH(D, "cosine").nprobe == 16


def test_minhash_finds_near_duplicate_sets():
    rng = np.random.default_rng(3)
    d, n, nq = 400, 2000, 100
    base = np.zeros((n, d), np.float32)
    for row in base:
        row[rng.choice(d, 30, replace=False)] = 1
    q = base[:nq].copy()
    for row in q:  # drop 2 members, add 2: jaccard similarity 28/32
        on, off = np.flatnonzero(row), np.flatnonzero(row == 0)
        row[rng.choice(on, 2, replace=False)] = 0
        row[rng.choice(off, 2, replace=False)] = 1
    index = oxvec.LSH(d, "jaccard", bands=20, rows=5)
    index.add(base)
    ids, dist = index.search(q, 1)
    assert (ids[:, 0] == np.arange(nq)).mean() >= 0.95
    found = ids[:, 0] == np.arange(nq)
    np.testing.assert_allclose(dist[found, 0], 1 - 28 / 32, rtol=1e-6)
    assert "nprobe" not in index.info().get("params", {})
    with pytest.raises(oxvec.InvalidArgumentError, match="nprobe"):
        oxvec.LSH(d, "jaccard", nprobe=4)


def test_remove_filter_and_padding():
    x = clustered(600, 4)
    index = oxvec.LSH(D, "l2", w=2.0, nprobe=32)
    index.add(x, ids=np.arange(600) * 3)
    assert index.remove([0, 3, 6, 5]) == 3 and len(index) == 597
    ids, _ = index.search(x[:50], 5)
    assert not np.isin(ids, [0, 3, 6]).any()
    # a short id list is ranked exactly, wherever its vectors are hashed
    ids, dist = index.search(x[10], 5, filter=[30, 33, 36, 0, 10**6])
    assert ids[0] == 30 and set(ids[:3]) == {30, 33, 36} and ids[3] == -1 and np.isinf(dist[3])
    mask = np.zeros(1800, bool)
    mask[30:1800:6] = True
    ids, _ = index.search(x[10], 5, filter=mask)
    assert ids[0] == 30 and all(i % 6 == 0 for i in ids if i >= 0)
    np.testing.assert_array_equal(index.get_vectors([30]), x[10:11])


def test_bad_input_raises_what_to_do():
    with pytest.raises(oxvec.UnsupportedError, match="lsh hashes"):
        oxvec.LSH(D, "ip")
    with pytest.raises(oxvec.InvalidArgumentError, match="bits"):
        oxvec.LSH(D, "cosine", bits=65)
    with pytest.raises(oxvec.InvalidArgumentError, match="w"):
        oxvec.LSH(D, "cosine", w=1.0)
    with pytest.raises(oxvec.InvalidArgumentError, match="bands"):
        oxvec.LSH(D, "cosine", bands=4)
    index = oxvec.LSH(D, "l2")
    assert not index.is_trained
    with pytest.raises(oxvec.StateError, match="train"):
        index.add(clustered(10, 5))
    with pytest.raises(TypeError, match="unknown keyword"):
        oxvec.LSH(D, "cosine", nbits=4)


def test_memory_per_vector_is_what_the_docs_state():
    x = clustered(4000, 6)
    index = oxvec.LSH(D, "cosine", tables=8, bits=16)
    index.add(x)
    per = index.memory_bytes / len(index)
    assert 4 * D + 8 * 8 + 4 * 8 <= per <= 4 * D + 8 * 8 + 4 * 8 + 40 * 8 + 16, per
