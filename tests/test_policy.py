"""IVFFlat's learned search policy: train_policy(sample queries), then
search(..., recall=r) chooses each query's nprobe for mean recall r."""

import numpy as np
import pytest

import oxvec
from oxvec import _call

D = 32


def blobs(n, seed):
    centres = np.random.default_rng(99).standard_normal((200, D))
    rng = np.random.default_rng(seed)
    spread = 0.6 + 1.2 * rng.random((n, 1))
    return (centres[rng.integers(0, 200, n)] + spread * rng.standard_normal((n, D))).astype(np.float32)


@pytest.fixture(scope="module")
def trained():
    index = oxvec.IVFFlat(D, nlist=128)
    base = blobs(8000, 1)
    index.train(base)
    index.add(base)
    index.train_policy(blobs(400, 2), k=10)
    return index


def mean_recall(got, want):
    return np.mean([len(set(g) & set(w)) / len(w) for g, w in zip(got, want)])


def test_held_out_recall_follows_the_target(trained):
    held = blobs(400, 3)
    want = trained.search(held, 10, nprobe=128)[0]  # every cell: exact
    for target in (0.8, 0.9, 0.95):
        got, dist = trained.search(held, 10, recall=target)
        assert got.shape == (400, 10) and (np.diff(dist, axis=1) >= 0).all()
        assert abs(mean_recall(got, want) - target) < 0.05, (target, mean_recall(got, want))
    ids, _ = trained.search(held[0], 10, recall=0.9)  # one query
    assert ids.shape == (10,)


def test_policy_is_saved_with_the_index(trained, tmp_path):
    trained.save(tmp_path / "ivf.oxv")
    again = oxvec.load(tmp_path / "ivf.oxv")
    q = blobs(50, 4)
    np.testing.assert_array_equal(again.search(q, 10, recall=0.9)[0], trained.search(q, 10, recall=0.9)[0])


def test_bad_use_says_what_to_do(trained):
    fresh = oxvec.IVFFlat(D, nlist=8)
    x = blobs(500, 5)
    fresh.train(x)
    fresh.add(x)
    with pytest.raises(oxvec.StateError, match="train_policy"):
        fresh.search(x[:3], 5, recall=0.9)
    with pytest.raises(oxvec.InvalidArgumentError, match="50"):
        fresh.train_policy(x[:10])
    for bad in (0, 1.5, -0.1, True, "0.9"):
        with pytest.raises(oxvec.InvalidArgumentError, match="recall"):
            trained.search(x[:3], 5, recall=bad)
    with pytest.raises(TypeError, match="not both"):
        trained.search(x[:3], 5, recall=0.9, nprobe=4)
    flat = oxvec.Flat(D)
    flat.add(x)
    ids, dist = np.empty(5, np.int64), np.empty(5, np.float32)
    with pytest.raises(oxvec.UnsupportedError, match="policy"):
        _call.search(_call.state, flat._live(), x[:1].ctypes.data, 1, D, 5, ids.ctypes.data, dist.ctypes.data, recall=0.9)
    with pytest.raises(oxvec.InvalidArgumentError, match="recall"):
        _call.search(_call.state, trained._live(), x[:1].ctypes.data, 1, D, 5, ids.ctypes.data, dist.ctypes.data,
                     recall=float("nan"))
