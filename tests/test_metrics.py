"""Every metric against scipy / numpy in float64, at every SIMD level the CPU
has, on random inputs and edge cases; inputs outside a domain raise."""

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import cdist

import oxvec

DIMS = [1, 3, 17, 97, 383, 1536]
RTOL = 1e-5


@pytest.fixture(params=oxvec.simd_levels())
def level(request):
    before = oxvec.simd_level()
    oxvec.set_simd_level(request.param)
    yield request.param
    oxvec.set_simd_level(before)


def rank_rows(x):
    return stats.rankdata(x, axis=1)


def ref(metric, x, y, **p):
    """float64 reference distances of float32 inputs."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    if metric == "l2":
        return cdist(x, y, "sqeuclidean")
    if metric == "ip":
        return 1 - x @ y.T
    if metric == "angular":
        return np.arccos(np.clip(1 - cdist(x, y, "cosine"), -1, 1)) / np.pi
    if metric == "manhattan":
        return cdist(x, y, "cityblock")
    if metric == "spearman":
        return cdist(rank_rows(x), rank_rows(y), "correlation")
    if metric in ("jaccard", "dice"):
        # both all-false: scipy's dice says nan (0/0), ours 0 (docs/metrics.md)
        return np.nan_to_num(cdist(x != 0, y != 0, metric), nan=0.0)
    if metric == "weighted_jaccard":
        lo = np.minimum(x[:, None, :], y[None, :, :]).sum(-1)
        hi = np.maximum(x[:, None, :], y[None, :, :]).sum(-1)
        return 1 - lo / hi
    if metric == "tanimoto":
        ab = x @ y.T
        return 1 - ab / ((x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - ab)
    if metric == "kl":
        return np.array([[stats.entropy(a, b) for b in y] for a in x])
    if metric == "hellinger":
        px, py = x / x.sum(1, keepdims=True), y / y.sum(1, keepdims=True)
        return cdist(np.sqrt(px), np.sqrt(py), "euclidean") / np.sqrt(2)
    if metric == "bhattacharyya":
        px, py = x / x.sum(1, keepdims=True), y / y.sum(1, keepdims=True)
        return -np.log(np.sqrt(px) @ np.sqrt(py).T)
    if metric == "chisquare":
        a, b = x[:, None, :], y[None, :, :]
        s = a + b
        return np.where(s > 0, (a - b) ** 2 / np.where(s > 0, s, 1), 0).sum(-1)
    if metric == "haversine":
        lat1, lon1, lat2, lon2 = x[:, None, 0], x[:, None, 1], y[None, :, 0], y[None, :, 1]
        h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        return 2 * np.arcsin(np.sqrt(h))
    out = cdist(x, y, metric, **p)
    if metric == "jensenshannon":
        out = np.nan_to_num(out, nan=0.0)  # scipy: sqrt of a rounding-negative 0 for d = 1
    return out


def data(metric, rng, n, d, scale=1.0):
    """Inputs inside the metric's domain."""
    if metric in ("kl", "jensenshannon", "hellinger", "bhattacharyya", "chisquare", "weighted_jaccard"):
        x = rng.random((n, d)) + 0.01
    elif metric in ("hamming", "jaccard", "dice"):
        x = rng.integers(0, 2, (n, d)).astype(float)
    elif metric == "haversine":
        x = np.stack([rng.uniform(-1.5, 1.5, n), rng.uniform(-3, 3, n)], 1)
    else:
        x = rng.standard_normal((n, d))
    return (x * scale).astype(np.float32)


def params_for(metric, x, y, rng):
    if metric == "minkowski":
        return {"p": 3.0}
    if metric == "seuclidean":
        return {"V": rng.random(x.shape[1]) + 0.5}
    if metric == "mahalanobis":
        a = rng.standard_normal((x.shape[1], x.shape[1]))
        return {"VI": a @ a.T + x.shape[1] * np.eye(x.shape[1])}
    return {}


FLOAT_METRICS = [m["name"] for m in oxvec.metrics() if m["name"] != "hamming_bits"]


def check_close(got, want, scale=1.0):
    atol = 2e-6 * scale
    bad = ~(np.abs(got - want) <= RTOL * np.abs(want) + atol)
    assert not bad.any(), f"max error {np.max(np.abs(got - want)[bad])} at {np.argwhere(bad)[:3].tolist()}, got {got[bad][:3]} want {want[bad][:3]}"


def test_catalogue_has_every_promised_metric():
    names = {m["name"] for m in oxvec.metrics()}
    assert len(names) >= 25
    for m in oxvec.metrics():
        assert m["domain"] and m["class"] in ("l2", "dot", "generic")


@pytest.mark.parametrize("metric", FLOAT_METRICS)
@pytest.mark.parametrize("d", DIMS)
def test_pairwise_matches_reference(level, metric, d, rng):
    if metric == "haversine" and d != 2:
        d = 2
    x, y = data(metric, rng, 6, d), data(metric, rng, 5, d)
    if metric in ("correlation", "spearman") and d == 1:
        with pytest.raises(oxvec.InvalidArgumentError, match="constant"):
            oxvec.pairwise(x, y, metric)
        return
    if metric == "mahalanobis" and d > 97:
        d = 97  # a 1536 x 1536 VI as JSON is slow and adds nothing here
        x, y = data(metric, rng, 6, d), data(metric, rng, 5, d)
    p = params_for(metric, x, y, rng)
    got = oxvec.pairwise(x, y, metric, **p)
    check_close(got, ref(metric, x, y, **p))


@pytest.mark.parametrize("metric", ["l2", "euclidean", "manhattan", "chebyshev", "cosine", "correlation", "minkowski", "canberra", "braycurtis"])
def test_large_magnitudes(level, metric, rng):
    x, y = data(metric, rng, 4, 97, scale=1e6), data(metric, rng, 3, 97, scale=1e6)
    p = params_for(metric, x, y, rng)
    check_close(oxvec.pairwise(x, y, metric, **p), ref(metric, x, y, **p))


@pytest.mark.parametrize("metric", FLOAT_METRICS)
def test_identical_vectors_are_at_distance_zero(level, metric, rng):
    d = 2 if metric == "haversine" else 383
    x = data(metric, rng, 3, d)
    p = params_for(metric, x, x, rng)
    got = oxvec.pairwise(x, x, metric, **p)
    diag = np.diag(got)
    if metric == "ip":
        np.testing.assert_allclose(diag, 1 - (x.astype(np.float64) ** 2).sum(1), rtol=1e-5)
    else:
        assert np.all(np.abs(diag) <= 1e-5), (metric, diag)


def test_zero_vectors_follow_the_stated_conventions():
    z = np.zeros((1, 4), np.float32)
    o = np.ones((1, 4), np.float32)
    for metric in ("braycurtis", "jaccard", "dice", "weighted_jaccard", "tanimoto", "canberra", "chisquare", "hamming"):
        assert oxvec.distance(z, z, metric) == 0, metric  # identical inputs: 0, where scipy may say nan
    assert oxvec.distance(z, o, "jaccard") == 1
    for metric in ("cosine", "angular"):
        with pytest.raises(oxvec.InvalidArgumentError, match="zero vector"):
            oxvec.distance(z, o, metric)
    for metric in ("correlation", "spearman"):
        with pytest.raises(oxvec.InvalidArgumentError, match="constant"):
            oxvec.distance(o, o * 2, metric)


@pytest.mark.parametrize("metric", ["kl", "jensenshannon", "hellinger", "bhattacharyya", "chisquare", "weighted_jaccard"])
def test_negative_input_is_outside_the_domain(metric):
    x = np.array([[0.5, -0.1, 0.6]], np.float32)
    with pytest.raises(oxvec.InvalidArgumentError, match="non-negative"):
        oxvec.pairwise(x, np.abs(x), metric)


@pytest.mark.parametrize("metric", ["kl", "jensenshannon", "hellinger", "bhattacharyya"])
def test_all_zero_distribution_is_an_error(metric):
    with pytest.raises(oxvec.InvalidArgumentError, match="positive sum"):
        oxvec.distance(np.zeros(3), np.ones(3), metric)


def test_kl_and_bhattacharyya_of_disjoint_supports_are_infinite():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert np.isposinf(oxvec.distance(a, b, "kl"))
    assert np.isposinf(oxvec.distance(a, b, "bhattacharyya"))
    assert oxvec.distance(a, b, "jensenshannon") == pytest.approx(np.sqrt(np.log(2)), rel=1e-6)


def test_haversine_checks_dimension_and_latitude():
    with pytest.raises(oxvec.InvalidArgumentError, match="dim must be 2"):
        oxvec.pairwise(np.zeros((1, 3)), np.zeros((1, 3)), "haversine")
    with pytest.raises(oxvec.InvalidArgumentError, match="latitude"):
        oxvec.distance([2.0, 0.0], [0.0, 0.0], "haversine")
    # London to Paris, as a sanity check in kilometres
    lon = np.radians([[51.5074, -0.1278]])
    par = np.radians([[48.8566, 2.3522]])
    assert 6371 * oxvec.distance(lon, par, "haversine") == pytest.approx(343.5, abs=1)


def test_parameters_are_checked():
    with pytest.raises(oxvec.InvalidArgumentError, match="needs the exponent p"):
        oxvec.pairwise(np.ones((1, 2)), np.ones((1, 2)), "minkowski")
    with pytest.raises(oxvec.InvalidArgumentError, match="p must be"):
        oxvec.distance([1, 2], [2, 3], "minkowski", p=-1)
    with pytest.raises(oxvec.InvalidArgumentError, match="takes no parameter p"):
        oxvec.distance([1, 2], [2, 3], "l2", p=2)
    with pytest.raises(oxvec.InvalidArgumentError, match="not positive definite"):
        oxvec.distance([1, 2], [2, 3], "mahalanobis", VI=[[1, 0], [0, -1]])
    with pytest.raises(oxvec.InvalidArgumentError, match="not symmetric"):
        oxvec.distance([1, 2], [2, 3], "mahalanobis", VI=[[1, 0.5], [0, 1]])
    with pytest.raises(TypeError, match="unknown metric parameter"):
        oxvec.distance([1, 2], [2, 3], "minkowski", q=3)


def test_pairwise_estimates_seuclidean_and_mahalanobis_like_cdist(rng):
    x, y = data("l2", rng, 40, 5), data("l2", rng, 30, 5)
    for metric in ("seuclidean", "mahalanobis"):
        check_close(oxvec.pairwise(x, y, metric), cdist(x.astype(np.float64), y.astype(np.float64), metric))


def test_fit_mahalanobis_is_the_inverse_covariance(rng):
    x = rng.standard_normal((500, 6)) @ rng.standard_normal((6, 6))
    vi = oxvec.fit_mahalanobis(x)
    np.testing.assert_allclose(vi, np.linalg.inv(np.cov(x.astype(np.float32).astype(np.float64).T)), rtol=1e-6, atol=1e-9)
    with pytest.raises(oxvec.InvalidArgumentError, match="singular"):
        oxvec.fit_mahalanobis(x[:4])  # fewer samples than dimensions
    assert np.all(np.linalg.eigvalsh(oxvec.fit_mahalanobis(x[:4], shrinkage=0.5)) > 0)


def test_hamming_bits_counts_differing_bits(level, rng):
    a = rng.integers(0, 256, (7, 37), dtype=np.uint8)
    b = rng.integers(0, 256, (5, 37), dtype=np.uint8)
    want = np.unpackbits(a[:, None, :] ^ b[None, :, :], axis=-1).sum(-1)
    np.testing.assert_array_equal(oxvec.pairwise(a, b, "hamming_bits"), want)
    bools = rng.integers(0, 2, (3, 100)).astype(bool)
    np.testing.assert_array_equal(oxvec.pairwise(bools, bools[:1], "hamming_bits")[:, 0], (bools != bools[:1]).sum(1))
    with pytest.raises(TypeError, match="packed bits"):
        oxvec.pairwise(a.astype(np.float32), b, "hamming_bits")


def test_knn_matches_pairwise_argsort(level, rng):
    base, q = data("l2", rng, 300, 17), data("l2", rng, 9, 17)
    for metric in ("l2", "cosine", "manhattan", "correlation", "angular"):
        ids, dist = oxvec.knn(base, q, 5, metric)
        full = ref(metric, q, base)
        want = np.argsort(full, axis=1, kind="stable")[:, :5]
        np.testing.assert_array_equal(ids, want, err_msg=metric)
        check_close(dist, np.take_along_axis(full, want, 1))
    bits = rng.integers(0, 256, (50, 8), dtype=np.uint8)
    ids, dist = oxvec.knn(bits, bits[:3], 1, "hamming_bits")
    assert ids[:, 0].tolist() == [0, 1, 2] and (dist == 0).all()


def test_flat_index_accepts_every_float_metric(rng):
    for name in FLOAT_METRICS:
        d = 2 if name == "haversine" else 8
        x = data(name, rng, 50, d)
        p = params_for(name, x, x, rng)
        index = oxvec.Flat(d, metric=name, **p)
        index.add(x)
        ids, dist = index.search(x[:3], k=2)
        assert index.metric == name
        want = ref(name, x[:3], x, **p)
        np.testing.assert_allclose(dist[:, 0], np.sort(want, 1)[:, 0], rtol=1e-4, atol=1e-4, err_msg=name)


def test_pairwise_writes_into_out(rng):
    x = data("l2", rng, 4, 3)
    out = np.full((4, 4), -1, np.float32)
    assert oxvec.pairwise(x, metric="l2", out=out) is out
    assert (np.diag(out) == 0).all()
    with pytest.raises(ValueError, match="out must be"):
        oxvec.pairwise(x, metric="l2", out=np.empty((4, 4)))


def test_results_beyond_float32_are_an_error():
    x = np.array([[1e30, 0]], np.float32)
    with pytest.raises(oxvec.InvalidArgumentError, match="overflows float32"):
        oxvec.pairwise(x, -x, "l2")


def test_oxvec_simd_environment_variable_caps_the_level():
    import subprocess
    import sys

    code = "import oxvec; print(oxvec.simd_level())"
    for level in oxvec.simd_levels():
        out = subprocess.run([sys.executable, "-c", code], env={**__import__("os").environ, "OXVEC_SIMD": level}, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == level
