"""Monitoring (issue 21): VectorStore.stats(), health(), oxvec.metrics_text()
on stores and tenants' collections; the online recall estimate against the
recall measured by brute force. docs/monitoring.md."""

import re

import numpy as np
import pytest

import oxvec

D = 16


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, D)).astype(np.float32)


def make_store(tmp_path, n=300, name=None, **kw):
    x = data(n)
    s = oxvec.VectorStore(tmp_path / "books", dim=D, durability="never", name=name, **kw)
    s.add([str(i) for i in range(n)], x, metadatas=[{"g": i % 10, "u": float(i) / n} for i in range(n)])
    return s, x


def test_stats_has_the_documented_keys(tmp_path):
    s, x = make_store(tmp_path)
    for q in x[:20]:
        s.search(q, k=5)
    with pytest.raises(oxvec.InvalidArgumentError):
        s.search(np.full(D, np.nan, np.float32), k=5)
    s.delete(["0"])
    st = s.stats()
    assert st["count"] == 299
    for op in ("search", "add", "delete"):
        lat = st["latency"][op]
        assert {"count", "p50_ms", "p95_ms", "p99_ms"} <= set(lat)
        assert 0 <= lat["p50_ms"] <= lat["p95_ms"] <= lat["p99_ms"]
    assert st["latency"]["search"]["count"] == 21 and st["latency"]["search"]["p50_ms"] > 0
    assert st["latency"]["add"]["count"] == 1 and st["latency"]["delete"]["count"] == 1
    assert st["qps"] > 0
    assert st["errors"] == {"invalid_argument": 1}
    assert {"index_bytes", "records_bytes", "cache_bytes"} <= set(st["memory"])
    assert st["memory"]["records_bytes"] >= 299 * D * 4 and st["memory"]["index_bytes"] > 0
    assert st["cache"]["results"] == {"enabled": False, "hits": 0, "misses": 0, "entries": 0}
    assert st["collection"] == "books"
    s.close()


def test_recall_estimate_none_before_a_sample(tmp_path):
    s, _ = make_store(tmp_path, monitor={"recall_per_s": -1})
    s.search(data(1, 5)[0], k=3)
    assert s.stats(flush=True)["recall_estimate"] is None
    s.close()


def test_monitoring_off(tmp_path):
    s, x = make_store(tmp_path, monitor=False)
    s.search(x[0], k=3)
    st = s.stats()
    assert st["monitoring"] is False and st["latency"]["search"]["count"] == 0 and st["count"] == 300
    s.close()


def test_recall_estimate_converges_to_the_measured_recall(tmp_path):
    n, nq, k = 2000, 300, 10
    x = data(n, 1)
    s = oxvec.VectorStore(tmp_path / "r", dim=D, index={"type": "hnsw", "m": 4, "ef_construction": 16, "ef_search": 12},
                          durability="never", monitor={"recall_per_s": 1e9})
    s.add([str(i) for i in range(n)], x)
    q = data(nq, 2)
    d2 = ((q[:, None, :].astype(np.float64) - x[None, :, :]) ** 2).sum(-1)
    truth = np.argsort(d2, axis=1)[:, :k]
    found = 0
    for i in range(nq):
        got = {int(t) for t in s.search(q[i], k=k, include=())["ids"][0]}
        found += len(got & set(truth[i].tolist()))
    measured = found / (nq * k)
    e = s.stats(flush=True)["recall_estimate"]
    assert measured < 0.99, "the test needs an index that misses neighbours"
    assert e["n"] >= nq // 2
    assert e["low"] <= measured <= e["high"], (measured, e)
    s.close()


def test_health_reasons(tmp_path):
    s, x = make_store(tmp_path)
    for q in x[:10]:
        s.search(q, k=3)
    assert s.health() == {"status": "ok", "reasons": []}
    h = s.health(max_latency_ms=1e-6, max_memory_percent=0)
    assert h["status"] == "degraded" and len(h["reasons"]) == 2
    assert "latency" in h["reasons"][0] and "memory" in h["reasons"][1]
    with pytest.raises(oxvec.InvalidArgumentError):
        s.health(min_recall=-1)
    with pytest.raises(oxvec.InvalidArgumentError):
        s.health(max_error_rate="high")
    for _ in range(3):
        with pytest.raises(oxvec.InvalidArgumentError):
            s.search(np.full(D, np.nan, np.float32), k=3)  # refused by the engine
    assert any("error rate" in r for r in s.health(max_error_rate=0.1)["reasons"])
    s.close()


LINE = re.compile(r'^oxvec_[a-z_]+\{collection="[^"]*"(,[a-z_]+="[^"]*")*\} [-+0-9.e]+$')


def test_metrics_text_is_prometheus_exposition(tmp_path):
    s, x = make_store(tmp_path, name="my books")
    s.search(x[0], k=3)
    other = oxvec.VectorStore(tmp_path / "other", dim=2, durability="never")
    text = oxvec.metrics_text()
    families = set()
    for line in text.strip().splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert name not in families and name.startswith("oxvec_")
            families.add(name)
        elif line.startswith("# TYPE "):
            assert line.split()[3] in ("gauge", "counter", "summary")
        else:
            assert LINE.match(line), line
    assert 'oxvec_records{collection="my books"} 300' in text
    assert 'oxvec_records{collection="other"} 0' in text
    assert 'oxvec_operation_duration_seconds_count{collection="my books",op="search"} 1' in text
    other.close()
    s.close()
    assert 'collection="my books"' not in oxvec.metrics_text()


def test_tenant_collection_stats_health_metrics(tmp_path):
    db = oxvec.Database(tmp_path / "db", durability="never", key_cost=4)
    db.create_tenant("acme")
    db.create_collection("acme", "docs", dim=4)
    key = db.create_api_key("acme", role="writer", name="w")
    reader = db.create_api_key("acme", role="reader", name="r")
    c = db.session(key).collection("docs")
    c.add(["a", "b"], np.eye(2, 4, dtype=np.float32))
    c.search(np.ones(4, np.float32), k=1)
    st = c.stats()
    assert st["count"] == 2 and st["collection"] == "acme/docs"
    assert st["latency"]["search"]["count"] == 1 and st["latency"]["add"]["count"] == 1
    assert c.health(max_latency_ms=1e9)["status"] == "ok"
    assert c.explain(np.ones(4, np.float32), k=1, filter={"x": 1})["plan"] in ("exact", "index_filter")
    r = db.session(reader).collection("docs")
    with pytest.raises(oxvec.PermissionDeniedError):
        r.add(["c"], np.ones((1, 4), np.float32))
    assert c.stats()["errors"] == {"permission_denied": 1}
    assert 'oxvec_records{collection="acme/docs"} 2' in oxvec.metrics_text()
    db.close()
