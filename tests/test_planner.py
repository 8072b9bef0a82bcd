"""The query planner (issue 21): explain() names the plan, its estimates and
why; every plan returns what the filter admits; forced plans agree with
brute force. docs/monitoring.md."""

import numpy as np
import pytest

import oxvec

D = 8


@pytest.fixture(scope="module")
def hnsw(tmp_path_factory):
    n = 2000
    rng = np.random.default_rng(4)
    x = rng.standard_normal((n, D)).astype(np.float32)
    u = rng.random(n)
    s = oxvec.VectorStore(tmp_path_factory.mktemp("p") / "s", dim=D, durability="never",
                          index={"type": "hnsw", "m": 8, "ef_construction": 40, "ef_search": 100})
    s.add([str(i) for i in range(n)], x, metadatas=[{"g": i % 100, "u": float(u[i])} for i in range(n)])
    yield s, x, u
    s.close()


def brute(x, q, k, mask):
    idx = np.flatnonzero(mask)
    d = ((x[idx].astype(np.float64) - q) ** 2).sum(1)
    return [str(i) for i in idx[np.argsort(d, kind="stable")[:k]]]


def test_explain_names_plan_estimates_and_why(hnsw):
    s, x, _ = hnsw
    e = s.explain(x[0], k=10, filter={"g": 7})
    assert e["plan"] in ("exact", "index_filter")
    assert e["estimates"]["selectivity"] == pytest.approx(0.01)
    assert e["estimates"]["records"] == 2000 and e["index"] == "hnsw"
    assert "1%" in e["why"] and set(e["costs_ns"]) == {"exact", "index_filter"}  # over-fetch: not below 4,096
    # 1,800 admitted: HNSW would scan them exactly, so no over-fetch
    assert s.explain(k=10, filter={"u": {"$gte": 0.1}})["plan"] in ("exact", "index_filter")
    assert s.explain(x[0], k=10)["plan"] == "unfiltered"
    assert s.explain("a question", k=10, mode="keyword", filter={"g": 1})["plan"] == "keyword"
    with pytest.raises(oxvec.InvalidArgumentError):
        s.explain(x[0], k=10, filter={"g": 1}, plan="fastest")
    with pytest.raises(oxvec.InvalidArgumentError):
        s.explain(np.ones((2, D), np.float32))


@pytest.mark.parametrize("plan", ["exact", "index_filter", "index_overfetch", None])
@pytest.mark.parametrize("flt,fn", [({"g": 7}, lambda u, g: g == 7),
                                    ({"u": {"$lt": 0.3}}, lambda u, g: u < 0.3),
                                    ({"u": {"$gte": 0.05}}, lambda u, g: u >= 0.05)])
def test_every_plan_returns_what_the_filter_admits(hnsw, plan, flt, fn):
    s, x, u = hnsw
    mask = np.array([fn(u[i], i % 100) for i in range(len(x))])
    hits = 0
    for qi in range(5):
        q = x[qi * 17] + 0.01
        got = s.search(q, k=10, filter=flt, plan=plan, include=())["ids"][0]
        want = brute(x, q, 10, mask)
        assert len(got) == len(want)
        assert all(mask[int(i)] for i in got)
        if plan == "exact":
            assert got == want
        hits += len(set(got) & set(want))
    assert hits >= 0.9 * 50


def test_plans_counted_in_stats(hnsw):
    s, x, _ = hnsw
    before = s.stats()["plans"]
    s.search(x[0], k=3, filter={"g": 2}, plan="exact")
    s.search(x[0], k=3, filter={"u": {"$gte": 0.1}}, plan="index_overfetch")
    after = s.stats()["plans"]
    assert after.get("exact", 0) == before.get("exact", 0) + 1
    assert after.get("index_overfetch", 0) == before.get("index_overfetch", 0) + 1
    with pytest.raises(oxvec.InvalidArgumentError):
        s.search(x[0], k=3, filter={"g": 2}, plan="fast")


def test_broad_filter_on_a_large_hnsw_store_over_fetches(tmp_path):
    n = 6000
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n, D)).astype(np.float32)
    u = rng.random(n)
    s = oxvec.VectorStore(tmp_path / "big", dim=D, durability="never",
                          index={"type": "hnsw", "m": 8, "ef_construction": 40, "ef_search": 50})
    s.add([str(i) for i in range(n)], x, metadatas=[{"u": float(v)} for v in u])
    e = s.explain(k=10, filter={"u": {"$gte": 0.1}})
    assert e["plan"] == "index_overfetch" and e["fetch"] >= 10 and e["estimates"]["ef"] >= 50
    assert 0.8 < e["estimates"]["selectivity"] < 1
    mask = u >= 0.1
    hits = 0
    for qi in range(10):
        got = s.search(x[qi] + 0.01, k=10, filter={"u": {"$gte": 0.1}}, include=())["ids"][0]
        assert len(got) == 10 and all(mask[int(i)] for i in got)
        hits += len(set(got) & set(brute(x, x[qi] + 0.01, 10, mask)))
    assert hits >= 90
    s.close()
