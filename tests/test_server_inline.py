"""The server's search hot path: VectorStore.search_json (the engine's
JSON, forwarded without decoding; one engine call when it fits the
thread's buffer, a result handle when not) and the cost model that runs
predicted-cheap searches inline on the event loop (server/inline.py)."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

import oxvec

DIM = 8


@pytest.fixture()
def store(tmp_path):
    s = oxvec.VectorStore(tmp_path / "s", dim=DIM, index={"type": "hnsw"}, durability="never")
    x = np.random.default_rng(3).random((1000, DIM), dtype=np.float32)
    s.add([str(i) for i in range(len(x))], x, documents=[f"document {i} " * 4 for i in range(len(x))],
          metadatas=[{"n": i} for i in range(len(x))])
    yield s, x
    s.close()


def _same(js: bytes, res: dict) -> None:
    out = json.loads(js)
    assert out["ids"] == res["ids"]
    assert len(out["distances"]) == len(res["distances"])
    for got, want in zip(out["distances"], res["distances"]):
        np.testing.assert_array_equal(np.array(got, np.float32), want)
    for f in ("documents", "metadatas"):
        assert out.get(f) == res.get(f)


def test_search_json_is_search_as_json(store):
    s, x = store
    _same(s.search_json(x[:2], k=5, include=()), s.search(x[:2], k=5, include=()))
    # over the thread's 16 KiB buffer: the answer comes through a result handle
    big = s.search_json(x[:4], k=200)
    assert len(big) > 1 << 14
    _same(big, s.search(x[:4], k=200))
    _same(s.search_json(x[:3], k=4, filter={"n": {"$lt": 100}}), s.search(x[:3], k=4, filter={"n": {"$lt": 100}}))


def test_search_json_refuses_what_it_cannot_answer(store):
    s, x = store
    with pytest.raises(oxvec.InvalidArgumentError, match="embeddings"):
        s.search_json(x[:1], include=("embeddings",))
    with pytest.raises(TypeError, match="unexpected keyword"):
        s.search_json(x[:1], nprobe=3)
    with pytest.raises(oxvec.DimensionError):
        s.search_json(np.zeros((1, DIM + 1), np.float32))


def test_cost_model_inlines_cheap_shapes_after_warmup():
    from oxvec.server.inline import CostModel

    m = CostModel(inline_s=0.001, warmup=3, mode="alone")  # bounds of its own: the test does not follow INLINE_S
    shape = ("t", "c", 1, 10, None, ())
    m.in_flight = 1
    for _ in range(2):
        m.observe(shape, 0.0002)
    assert not m.inline(shape, None)  # still warming up
    m.observe(shape, 0.0002)
    assert m.inline(shape, None) and m.inline(shape, 30.0)
    assert not m.inline(shape, 0.01)  # the bound is also a hundredth of the request timeout
    m.in_flight = 2
    assert not m.inline(shape, None)  # another call in flight: the hand-off buys parallelism
    m.mode = "always"
    assert m.inline(shape, None)  # ... unless cheap searches always run on the loop
    m.mode = "alone"
    m.in_flight = 1
    m.observe(shape, 0.004)  # one call of 4 x the bound sends the shape back to the threads
    assert not m.inline(shape, None)
    assert not m.inline(("t", "c", 2, 10, None, ()), None)  # another shape has its own history


def test_cheap_searches_run_inline_and_answer_the_same(tmp_path, monkeypatch):
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from serverutil import ThreadServer

    from oxvec.server import Service, create_app
    from oxvec.server import calls

    # a bound no search here reaches, so the test does not depend on timing
    monkeypatch.setattr(calls.costs, "inline_s", 60.0)
    monkeypatch.setattr(calls.costs, "_shapes", {})  # shapes of other tests' collections named alike
    db = oxvec.Database(tmp_path / "db", durability="never", key_cost=4)
    db.create_tenant("t")
    db.create_collection("t", "c", dim=DIM, index={"type": "hnsw"})
    key = db.create_api_key("t", role="writer")
    service = Service(db)
    threads = []
    real = service.search_json

    def recorded(*a, **kw):
        threads.append(threading.current_thread().name)
        return real(*a, **kw)

    service.search_json = recorded
    with ThreadServer(create_app(service, timeout_s=30)) as srv:
        col = oxvec.Client(srv.url, api_key=key).collection("c")
        x = np.random.default_rng(4).random((200, DIM), dtype=np.float32)
        col.add([str(i) for i in range(len(x))], x)
        local = service.principal(key).collection("c")
        for i in range(calls.costs.warmup + 5):
            got = col.search(x[i:i + 1], k=3, include=())
            want = local.search(x[i:i + 1], k=3, include=())
            assert got["ids"] == want["ids"]
            np.testing.assert_allclose(got["distances"][0], want["distances"][0], rtol=1e-6)
    service.close()
    warm = calls.costs.warmup
    assert all(t.startswith("oxvec-serve-search") for t in threads[:warm])  # timed on the search threads first
    assert not any(t.startswith("oxvec-serve") for t in threads[warm:])  # then on the loop's thread


def test_requests_waiting_keep_a_cheap_search_off_the_loop(monkeypatch):
    # an inline call never yields to the loop, so requests that arrive
    # meanwhile have tasks created and not started when the next one
    # decides; each found itself alone and ran inline too (75% of engine
    # time inline at concurrency 8). Alone, a cheap search runs on the
    # loop's thread; three requests started in one loop turn all go to
    # worker threads.
    import asyncio

    pytest.importorskip("fastapi")
    from oxvec.server import calls
    from oxvec.server.httpmetrics import HTTPMetrics, MetricsMiddleware
    from oxvec.server.inline import costs

    shape = ("test-waiting", "c", 1, 10, None, ())
    for _ in range(costs.warmup):
        costs.observe(shape, 1e-6)
    monkeypatch.setattr(costs, "mode", "alone")
    on_loop = []

    def engine():
        on_loop.append(threading.current_thread() is threading.main_thread())

    async def app(scope, receive, send):
        await calls.run(None, None, None, engine, cost_shape=shape)

    async def send(msg):
        pass

    mw = MetricsMiddleware(app, HTTPMetrics())
    scope = {"type": "http", "method": "POST", "path": "/v1/collections/c/search"}

    async def main():
        await mw(scope, None, send)  # alone
        await asyncio.gather(*(mw(scope, None, send) for _ in range(3)))

    asyncio.run(main())
    assert on_loop == [True, False, False, False]
    assert costs.requests == 0 and costs.in_flight == 0
    # mode "always": the same requests all run on the loop's thread
    monkeypatch.setattr(costs, "mode", "always")
    on_loop.clear()
    asyncio.run(main())
    assert on_loop == [True, True, True, True]
    assert costs.requests == 0 and costs.in_flight == 0


def test_inline_modes_resolve(monkeypatch):
    from oxvec.server import inline

    assert inline.resolve("always") == "always" and inline.resolve("alone") == "alone"
    monkeypatch.setattr(inline.os, "sched_getaffinity", lambda pid: set(range(inline.AUTO_ALWAYS_CORES)), raising=False)
    assert inline.resolve("auto") == "always"
    monkeypatch.setattr(inline.os, "sched_getaffinity", lambda pid: set(range(inline.AUTO_ALWAYS_CORES + 1)), raising=False)
    assert inline.resolve("auto") == "alone"
    with pytest.raises(ValueError, match="not one of auto, always, alone"):
        inline.resolve("sometimes")


def test_cross_origin_binary_search_gets_the_cors_headers(tmp_path):
    # the fast path serves binary searches in front of the middleware
    # stack; with CORS on, a call with an Origin goes to the app, whose
    # CORS middleware answers it
    pytest.importorskip("fastapi")
    import urllib.request

    from serverutil import ThreadServer

    from oxvec.server import Service, create_app

    db = oxvec.Database(tmp_path / "db", durability="never", key_cost=4)
    db.create_tenant("t")
    db.create_collection("t", "c", dim=DIM)
    key = db.create_api_key("t", role="writer")
    service = Service(db)
    x = np.random.default_rng(5).random((20, DIM), dtype=np.float32)
    with ThreadServer(create_app(service, timeout_s=30, cors_origins=["http://app.example"])) as srv:
        oxvec.Client(srv.url, api_key=key).collection("c").add([str(i) for i in range(len(x))], x)
        got = {}
        for origin in (None, "http://app.example", None, "http://app.example"):
            h = {"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream",
                 "X-Oxvec-Shape": f"1,{DIM}", "X-Oxvec-Request": '{"k": 2, "include": []}'}
            if origin:
                h["Origin"] = origin
            req = urllib.request.Request(srv.url + "/v1/collections/c/search", data=x[3].tobytes(), method="POST", headers=h)
            with urllib.request.urlopen(req, timeout=30) as r:
                assert r.status == 200
                allowed = r.headers.get("access-control-allow-origin")
                got.setdefault(origin, []).append(r.read())
            assert allowed == (origin if origin else None)
        assert len({b for v in got.values() for b in v}) == 1  # the same answer either way
    service.close()
