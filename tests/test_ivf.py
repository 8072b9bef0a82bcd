"""IVFFlat: training, nprobe, exactness at nprobe = nlist, errors, persistence."""

import numpy as np
import pytest

import oxvec
from conftest import brute_force


@pytest.fixture
def data(rng):
    centres = rng.standard_normal((30, 24)).astype(np.float32)
    x = centres[rng.integers(0, 30, 4000)] + 0.3 * rng.standard_normal((4000, 24)).astype(np.float32)
    q = centres[rng.integers(0, 30, 50)] + 0.3 * rng.standard_normal((50, 24)).astype(np.float32)
    return x, q


def recall(found, truth):
    return np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)])


@pytest.mark.parametrize("metric", ["l2", "cosine", "ip"])
def test_all_cells_is_exact_and_recall_grows_with_nprobe(data, metric):
    x, q = data
    ix = oxvec.IVFFlat(24, metric, nlist=40)
    assert not ix.is_trained
    ix.train(x)
    assert ix.is_trained
    ix.add(x)
    want, want_d = brute_force(x, q, 10, metric)
    got, got_d = ix.search(q, k=10, nprobe=40)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(got_d, want_d, rtol=1e-4, atol=1e-4)
    r = [recall(ix.search(q, k=10, nprobe=p)[0], want) for p in (1, 4, 16)]
    assert r == sorted(r) and r[-1] >= 0.95


def test_untrained_and_too_few_training_vectors_are_clear_errors(data):
    x, q = data
    ix = oxvec.IVFFlat(24, nlist=100)
    with pytest.raises(oxvec.StateError, match="train"):
        ix.add(x)
    with pytest.raises(oxvec.StateError, match="train"):
        ix.search(q)
    with pytest.raises(oxvec.InvalidArgumentError, match="at least 100"):
        ix.train(x[:50])
    with pytest.raises(oxvec.InvalidArgumentError, match="nprobe"):
        ix.search(q, nprobe=0)
    with pytest.raises(oxvec.UnsupportedError):
        oxvec.IVFFlat(24, "manhattan")
    flat = oxvec.Flat(24)
    flat.train(x)  # nothing to learn: a no-op, as in faiss
    assert flat.is_trained


def test_save_load_remove_and_filter(tmp_path, data):
    x, q = data
    ix = oxvec.IVFFlat(24, nlist=20, nprobe=20)
    ix.train(x)
    ids = ix.add(x)
    assert ix.remove(ids[:100]) == 100 and len(ix) == 3900
    ix.save(tmp_path / "i.oxv")
    again = oxvec.load(tmp_path / "i.oxv")
    assert isinstance(again, oxvec.IVFFlat) and len(again) == 3900
    a, b = ix.search(q, k=5), again.search(q, k=5)
    np.testing.assert_array_equal(a[0], b[0])
    assert not set(a[0].ravel()) & set(ids[:100])
    allowed = ids[1000:1100]
    found, _ = ix.search(q, k=5, filter=allowed)
    assert set(found.ravel()) <= set(allowed)


def test_binary_reranks_exactly_and_rerank_zero_gives_hamming(data):
    x, q = data
    bq = oxvec.Binary(24, "cosine", rerank=len(x) // 10)  # everything re-ranked: exact
    with pytest.raises(oxvec.StateError, match="train"):
        bq.add(x)
    bq.train(x)
    bq.add(x)
    want, want_d = brute_force(x, q, 10, "cosine")
    got, got_d = bq.search(q, k=10)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(got_d, want_d, rtol=1e-4, atol=1e-4)
    h = oxvec.Binary(24, rerank=0)
    h.train(x)
    h.add(x)
    _, d = h.search(q, k=5)
    assert np.all(d == np.round(d)) and np.all((d >= 0) & (d <= 24))  # bit counts
    assert h.memory_bytes < bq.memory_bytes / 2  # no float vectors kept


@pytest.mark.parametrize("bits,rng_kind", [(8, "per_dim"), (8, "uniform"), (4, "per_dim")])
def test_scalar_quantizer_ranks_like_its_decoded_vectors(data, bits, rng_kind):
    x, q = data
    sq = oxvec.ScalarQuantizer(24, "l2", bits=bits, range=rng_kind)
    with pytest.raises(oxvec.StateError, match="train"):
        sq.search(q)
    sq.train(x)
    sq.add(x)
    # decode as faiss's codec does: (code + 0.5) / levels over [min, max]
    levels = 255 if bits == 8 else 15
    lo, hi = (x.min(0), x.max(0)) if rng_kind == "per_dim" else (np.full(24, x.min()), np.full(24, x.max()))
    codes = np.clip(((x - lo) / (hi - lo)), 0, 1) * levels
    decoded = (np.floor(codes.astype(np.float32)) + 0.5) / levels * (hi - lo) + lo
    want, want_d = brute_force(decoded, q, 10, "l2")
    got, got_d = sq.search(q, k=10)
    assert recall(got, want) >= 0.98
    assert recall(got, brute_force(x, q, 10, "l2")[0]) >= (0.9 if bits == 8 else 0.6)
    assert sq.memory_bytes < x.nbytes  # codes, ids and bookkeeping: less than the floats even at dim 24


@pytest.mark.parametrize("nbits", [8, 4])
def test_pq_ranks_by_reconstruction_and_names_its_minimum(data, nbits):
    x, q = data
    pq = oxvec.PQ(24, "l2", m=6, nbits=nbits)
    with pytest.raises(oxvec.InvalidArgumentError, match=f"at least {2 ** nbits}"):
        pq.train(x[: 2 ** nbits - 1])
    pq.train(x)
    pq.add(x)
    found, dist = pq.search(q, k=10)
    assert np.all(np.diff(dist, axis=1) >= 0)
    assert recall(found, brute_force(x, q, 10, "l2")[0]) >= (0.35 if nbits == 8 else 0.05)  # chance: 0.0025 (3 bytes per vector at 4 bits)
    with pytest.raises(oxvec.InvalidArgumentError, match="divide"):
        oxvec.PQ(24, m=5)


def test_ivfpq_with_full_refine_is_exact_and_without_is_approximate(data):
    x, q = data
    ix = oxvec.IVFPQ(24, "l2", nlist=16, m=6, refine=len(x) // 10)
    with pytest.raises(oxvec.StateError, match="train"):
        ix.add(x)
    ix.train(x)
    ix.add(x)
    want, want_d = brute_force(x, q, 10, "l2")
    got, got_d = ix.search(q, k=10, nprobe=16)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(got_d, want_d, rtol=1e-4, atol=1e-4)
    plain = oxvec.IVFPQ(24, "l2", nlist=16, nprobe=4, m=6)
    plain.train(x)
    plain.add(x)
    r = recall(plain.search(q, k=10)[0], want)
    assert 0.2 <= r < 1


def test_opq_rotation_keeps_distances_and_wraps_pq(tmp_path, data):
    x, q = data
    exact = oxvec.OPQ(24, "l2", m=6, inner={"type": "flat"}, iters=3)
    exact.train(x)
    exact.add(x)
    want, want_d = brute_force(x, q, 10, "l2")
    got, got_d = exact.search(q, k=10)
    np.testing.assert_array_equal(got, want)  # a rotation changes no distance
    np.testing.assert_allclose(got_d, want_d, rtol=1e-3, atol=1e-3)
    opq = oxvec.OPQ(24, "l2", m=6, inner={"type": "pq", "m": 6}, iters=3)
    with pytest.raises(oxvec.StateError, match="train"):
        opq.add(x)
    opq.train(x)
    opq.add(x)
    assert recall(opq.search(q, k=10)[0], want) >= 0.35
    opq.save(tmp_path / "o.oxv")
    again = oxvec.load(tmp_path / "o.oxv")
    assert isinstance(again, oxvec.OPQ)
    np.testing.assert_array_equal(again.search(q, k=5)[0], opq.search(q, k=5)[0])
    with pytest.raises(TypeError, match="inner"):
        oxvec.OPQ(24, m=6)
