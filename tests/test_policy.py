"""The learned search policy of IVFFlat and IVFPQ: train_policy(sample
queries), then search(..., recall=r) chooses each query's nprobe so that
the mean recall of new queries is r (within 0.01, the Done-when of issue
17, on a deterministic set)."""

import numpy as np
import pytest

import oxvec
from oxvec import _call

D, K, NLIST = 32, 10, 96


def blobs(n, seed):
    centres = np.random.default_rng(99).standard_normal((200, D))
    rng = np.random.default_rng(seed)
    spread = 0.6 + 1.2 * rng.random((n, 1))
    return (centres[rng.integers(0, 200, n)] + spread * rng.standard_normal((n, D))).astype(np.float32)


BASE, TRAIN, HELD = blobs(6000, 1), blobs(1200, 2), blobs(800, 3)


def exact(q):
    f = oxvec.Flat(D)
    f.add(BASE)
    return f.search(q, K)[0]


def build(kind):
    index = oxvec.IVFFlat(D, nlist=NLIST) if kind == "flat" else oxvec.IVFPQ(D, nlist=NLIST, m=8, refine=10)
    index.train(BASE)
    index.add(BASE)
    return index


@pytest.fixture(scope="module", params=["flat", "pq"])
def trained(request):
    index = build(request.param)
    index.train_policy(TRAIN, k=K)
    return index


def mean_recall(got, want):
    return np.mean([len(set(g) & set(w)) / len(w) for g, w in zip(got, want)])


def test_held_out_recall_is_within_a_hundredth_of_the_target(trained):
    want = exact(HELD)
    for target in (0.8, 0.9, 0.95, 0.99):
        got, dist = trained.search(HELD, K, recall=target)
        assert got.shape == (800, K) and (np.diff(dist, axis=1) >= 0).all()
        assert abs(mean_recall(got, want) - target) <= 0.01, (target, mean_recall(got, want))
    ids, _ = trained.search(HELD[0], K, recall=0.9)  # one query
    assert ids.shape == (K,)


def test_given_truth_trains_the_same_policy():
    index = build("pq")
    index.train_policy(TRAIN, k=K)
    a = index.search(HELD, K, recall=0.9)[0]
    index.train_policy(TRAIN, k=K, truth=exact(TRAIN))
    np.testing.assert_array_equal(index.search(HELD, K, recall=0.9)[0], a)


def test_policy_is_saved_with_the_index(trained, tmp_path):
    trained.save(tmp_path / "ivf.oxv")
    again = oxvec.load(tmp_path / "ivf.oxv")
    q = blobs(50, 4)
    np.testing.assert_array_equal(again.search(q, K, recall=0.9)[0], trained.search(q, K, recall=0.9)[0])


def test_bad_use_says_what_to_do(trained):
    fresh = oxvec.IVFFlat(D, nlist=8)
    x = blobs(500, 5)
    fresh.train(x)
    fresh.add(x)
    with pytest.raises(oxvec.StateError, match="train_policy"):
        fresh.search(x[:3], 5, recall=0.9)
    with pytest.raises(oxvec.InvalidArgumentError, match="50"):
        fresh.train_policy(x[:10])
    with pytest.raises(oxvec.InvalidArgumentError, match="shape"):
        fresh.train_policy(x[:60], k=5, truth=np.zeros((60, 4), np.int64))
    with pytest.raises(oxvec.InvalidArgumentError, match="integer"):
        fresh.train_policy(x[:60], k=5, truth=np.zeros((60, 5), np.float32))
    with pytest.raises(oxvec.InvalidArgumentError, match="negative"):
        fresh.train_policy(x[:60], k=5, truth=-np.ones((60, 5), np.int64))
    pq = oxvec.IVFPQ(D, nlist=8, m=8)
    pq.train(x)
    pq.add(x)
    with pytest.raises(oxvec.InvalidArgumentError, match="truth"):
        pq.train_policy(x[:60], k=5)  # no refine: no exact vectors to find the truth
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
