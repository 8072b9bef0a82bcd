"""Bad input to every index type: wrong shapes and dtypes, NaN and
infinities, k, ef and nprobe at their extremes, bad ids, use after close,
and a k far beyond the index (which must cost what the index holds, not k).

Every case leaves the index as it was: a refused call changes nothing.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import oxvec

DIM = 8
N = 5  # vectors in each index under test

# Every index type, small enough to train in milliseconds. The re-rank and
# refine factors are large on purpose: a candidate buffer sized k * factor
# is what used to take the process down.
TYPES = {
    "flat": lambda: oxvec.Flat(DIM),
    "hnsw": lambda: oxvec.HNSW(DIM, m=8, ef_construction=32),
    "ivf_flat": lambda: oxvec.IVFFlat(DIM, nlist=4),
    "ivf_pq": lambda: oxvec.IVFPQ(DIM, nlist=4, m=4, nbits=4, refine=1000),
    "pq": lambda: oxvec.PQ(DIM, m=4, nbits=4),
    "sq": lambda: oxvec.ScalarQuantizer(DIM),
    "binary": lambda: oxvec.Binary(DIM, rerank=1000),
    "opq": lambda: oxvec.OPQ(DIM, m=4, inner={"type": "ivf_pq", "nlist": 4, "m": 4, "nbits": 4}, iters=2),
    "lsh": lambda: oxvec.LSH(DIM, tables=4, bits=4),
}
TRAINED = {"ivf_flat", "ivf_pq", "pq", "sq", "binary", "opq", "lsh"}
IVF = {"ivf_flat", "ivf_pq", "opq"}  # search(..., nprobe=) (opq passes it to its ivf_pq)

TRAIN = np.random.default_rng(13).standard_normal((256, DIM)).astype(np.float32)


def build(name):
    ix = TYPES[name]()
    ix.train(TRAIN)  # a no-op for types that learn nothing
    ix.add(TRAIN[:N])
    return ix


@pytest.fixture(params=sorted(TYPES))
def index(request):
    ix = build(request.param)
    ix.type = request.param
    yield ix
    ix.close()


def test_wrong_shapes_raise_dimension_error(index):
    for bad in (np.zeros((2, DIM + 1), np.float32), np.zeros((2, 2, DIM), np.float32), np.zeros(DIM - 1, np.float32)):
        with pytest.raises(oxvec.DimensionError):
            index.add(bad)
        with pytest.raises(oxvec.DimensionError):
            index.search(bad, k=1)
    with pytest.raises(oxvec.DimensionError):
        index.search(np.float32(1.0), k=1)  # a scalar is no vector
    assert len(index) == N
    if index.type in TRAINED:
        with pytest.raises(oxvec.DimensionError):
            TYPES[index.type]().train(TRAIN[:, :-1])


def test_wrong_dtypes_raise_type_error(index):
    for bad in (np.array([["a"] * DIM]), np.zeros((1, DIM), np.complex64), [[None] * DIM]):
        with pytest.raises(TypeError):
            index.add(bad)
        with pytest.raises(TypeError):
            index.search(bad, k=1)
    with pytest.raises(oxvec.InvalidArgumentError, match="same length"):
        index.add([[0.0] * DIM, [0.0] * (DIM - 1)])  # ragged rows
    # anything numeric is converted once: ints, bools, float64, a list
    for ok in (np.ones((1, DIM), np.int32), np.ones((1, DIM), bool), [0.5] * DIM):
        assert index.search(ok, k=1)[0].shape[-1] == 1
    assert len(index) == N


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nan_and_infinities_raise_invalid_argument(index, value):
    x = np.zeros((3, DIM), np.float32)
    x[1, 4] = value
    with pytest.raises(oxvec.InvalidArgumentError, match="row 1"):
        index.add(x)
    with pytest.raises(oxvec.InvalidArgumentError, match="row 1"):
        index.search(x, k=2)
    with pytest.raises(oxvec.InvalidArgumentError):
        index.search(x[1], k=2)  # the single-query path
    assert len(index) == N
    if index.type in TRAINED:
        t = TRAIN.copy()
        t[7, 0] = value
        with pytest.raises(oxvec.InvalidArgumentError):
            TYPES[index.type]().train(t)


def test_float64_beyond_float32_is_an_infinity(index):
    with pytest.raises(oxvec.InvalidArgumentError, match="infinity"):
        index.add(np.full((1, DIM), 1e300))
    assert len(index) == N


def test_bad_k_raises(index):
    q = TRAIN[:2]
    for bad in (0, -1, -(10**20)):
        with pytest.raises(oxvec.InvalidArgumentError, match="k must be >= 1"):
            index.search(q, k=bad)
        with pytest.raises(oxvec.InvalidArgumentError):
            index.search(q[0], k=bad)
    for bad in (True, False, 2.5, 3.0, "3", None, np.float32(2)):
        with pytest.raises(TypeError, match="k must be an int"):
            index.search(q, k=bad)
    assert index.search(q, k=np.int64(3))[0].shape == (2, 3)
    assert index.search(q, k=np.uint8(2))[0].shape == (2, 2)


def test_k_beyond_the_index_is_cut_to_its_size(index):
    ids, dist = index.search(TRAIN[:3], k=N + 1)
    assert ids.shape == dist.shape == (3, N)
    assert index.search(TRAIN[0], k=10**9)[0].shape == (N,)
    assert index.search(np.empty((0, DIM), np.float32), k=10**9)[0].shape == (0, N)
    # the count follows removes: a smaller index gives fewer columns
    assert index.remove([0, 1]) == 2
    assert index.search(TRAIN[:3], k=N)[0].shape == (3, N - 2)
    assert index.remove(list(range(N))) == N - 2
    ids, dist = index.search(TRAIN[:3], k=4)
    assert ids.shape == dist.shape == (3, 0)
    assert index.search(TRAIN[0], k=1)[0].shape == (0,)


def test_k_beyond_a_count_changed_by_another_handle_still_follows_len(index):
    # another thread's add may leave the count this object saw behind: a
    # hint that is too low must not cut the results
    index._count_hint = 1
    assert index.search(TRAIN[:2], k=10)[0].shape == (2, N)
    index._count_hint = 10**6  # too high: rows are padded, never wrong
    ids, dist = index.search(TRAIN[:1], k=N + 2)
    assert ids.shape == (1, N + 2) and (ids[0, N:] == -1).all() and np.isposinf(dist[0, N:]).all()


def test_ef_extremes_are_refused_or_bounded():
    ix = build("hnsw")
    for bad in (0, -1, -(10**12), True, 2.5, "8"):
        with pytest.raises(oxvec.InvalidArgumentError, match="ef"):
            ix.search(TRAIN[0], k=2, ef=bad)
    for huge in (10**6, 2**31, 10**30):  # capped by the nodes
        ids, _ = ix.search(TRAIN[:2], k=N, ef=huge)
        assert sorted(ids[0].tolist()) == list(range(N))
    ix.close()


@pytest.mark.parametrize("name", sorted(IVF))
def test_nprobe_extremes_are_refused_or_bounded(name):
    ix = build(name)
    for bad in (0, -1, -(10**12), True, 2.5, "4"):
        with pytest.raises(oxvec.InvalidArgumentError, match="nprobe"):
            ix.search(TRAIN[0], k=2, nprobe=bad)
    for huge in (4, 10**6, 2**31, 10**30):  # capped by the lists: every vector is seen
        ids, _ = ix.search(TRAIN[:2], k=N, nprobe=huge)
        assert ids.shape == (2, N) and (ids >= 0).all()
    ix.close()


def test_bad_ids_are_refused_and_change_nothing(index):
    x = np.ones((2, DIM), np.float32)
    cases = [
        ([-1, 100], oxvec.InvalidArgumentError, "negative"),
        ([100, 100], oxvec.DuplicateIdError, "more than once"),
        ([100], oxvec.InvalidArgumentError, "one id per vector"),
        ([100, 101, 102], oxvec.InvalidArgumentError, "one id per vector"),
        ([100.0, 101.0], TypeError, "integers"),
        (["a", "b"], TypeError, "integers"),
        (np.array([2**63, 1], np.uint64), oxvec.InvalidArgumentError, "int64"),
    ]
    if index.type != "hnsw":  # HNSW's present ids: tests/test_bad_input_api.py
        cases.append(([3, 100], oxvec.DuplicateIdError, "already"))
    for ids, cls, msg in cases:
        with pytest.raises(cls, match=msg):
            index.add(x, ids=ids)
    assert len(index) == N
    with pytest.raises(TypeError, match="integers"):
        index.remove([1.5])
    assert index.remove([-1, 10**12]) == 0  # absent ids are ignored, as in faiss
    assert len(index) == N
    assert index.add(x, ids=np.array([100, 101], np.int32)).tolist() == [100, 101]


def test_every_method_after_close_raises_closed(index):
    index.close()
    index.close()  # twice is fine
    q = TRAIN[:2]
    calls = [
        lambda: index.add(q),
        lambda: index.add(q, ids=[100, 101]),
        lambda: index.search(q, k=1),
        lambda: index.search(q[0], k=10**9),
        lambda: index.search(np.empty((0, DIM), np.float32), k=1),
        lambda: index.range_search(q, 1.0),
        lambda: index.remove([0]),
        lambda: index.train(TRAIN),
        lambda: index.save("never-written.oxv"),
        lambda: len(index),
        lambda: index.ntotal,
        lambda: index.info(),
        lambda: index.memory_bytes,
        lambda: index.is_trained,
        lambda: index.compact(),
    ]
    for call in calls:
        with pytest.raises(oxvec.ClosedError):
            call()
    assert not os.path.exists("never-written.oxv")


# Run in a child process whose address space is limited to a few GiB, so an
# allocation sized by k aborts the child (the Go runtime dies with "fatal
# error: out of memory", numpy raises MemoryError) and shows here as a
# failure instead of swapping or killing the test run. The child also calls
# the C ABI directly with a k the outputs can hold (2^20) but k times a
# factor of 1000 cannot: that is the engine's own sizing, not Python's cut.
_HUGE_K = textwrap.dedent(
    """
    import resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))
    sys.path.insert(0, TESTS)
    import numpy as np
    import oxvec
    from oxvec import _call
    import test_bad_input as t

    q = t.TRAIN[:3]
    for name in sorted(t.TYPES):
        ix = t.build(name)
        start = time.perf_counter()
        ids, dist = ix.search(q, k=10**9)
        assert ids.shape == dist.shape == (3, t.N), (name, ids.shape)
        assert (ids >= 0).sum() >= 3, name
        assert ix.search(q[0], k=10**9)[0].shape == (t.N,)
        k = 1 << 20
        out_ids, out_dist = np.empty(3 * k, np.int64), np.empty(3 * k, np.float32)
        ef = 1 << 30 if name == "hnsw" else 0
        nprobe = 1 << 30 if name in t.IVF else 0
        _call.search(_call.state, ix._live(), q.ctypes.data, 3, t.DIM, k, out_ids.ctypes.data,
                     out_dist.ctypes.data, 0, ef, nprobe)
        rows = out_ids.reshape(3, k)
        assert (rows[:, t.N:] == -1).all() and np.isposinf(out_dist.reshape(3, k)[:, t.N:]).all(), name
        took = time.perf_counter() - start
        assert took < 5, (name, took)
        ix.close()

    with oxvec.VectorStore(STORE, dim=t.DIM) as s:
        s.add([f"r{i}" for i in range(t.N)], t.TRAIN[:t.N])
        r = s.search(q, k=10**9)
        assert [len(i) for i in r["ids"]] == [t.N] * 3, r["ids"]
        r = s.search(q, k=10**9, filter={"missing": 1})
        assert r["ids"] == [[], [], []], r["ids"]
    print("ok")
    """
)


def test_huge_k_over_a_small_index_in_a_limited_address_space(tmp_path):
    code = (
        f"LIMIT = {3 << 30}\nTESTS = {os.path.dirname(os.path.abspath(__file__))!r}\n"
        f"STORE = {str(tmp_path / 'store')!r}\n" + _HUGE_K
    )
    env = dict(os.environ, GOMAXPROCS="2")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), (r.returncode, r.stdout[-2000:], r.stderr[-4000:])


def test_knn_columns_stop_at_the_base_rows():
    base = np.random.default_rng(0).standard_normal((5, DIM)).astype(np.float32)
    ids, dist = oxvec.knn(base, base[:2], 10**9)
    assert ids.shape == dist.shape == (2, 5) and sorted(ids[0].tolist()) == list(range(5))
    ids, dist = oxvec.knn(base[:0], base[:2], 3)
    assert ids.shape == (2, 0)
