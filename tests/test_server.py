"""oxvec serve: every REST route through oxvec.Client and raw HTTP, auth
and tenancy denials, errors as problem+json, binary bodies, the request
timeout, GraphQL, metrics, `oxvec serve` shutting down cleanly on SIGTERM,
`oxvec keys`, and schemathesis against /openapi.json - all on a real
uvicorn server on a loopback port."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("strawberry")

import oxvec  # noqa: E402
from oxvec.server import Service, create_app  # noqa: E402
from serverutil import ThreadServer, free_socket, wait_healthy  # noqa: E402

DIM = 8
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """acme (admin, writer, reader keys, collection "docs") and other (admin
    key, collection "secret"); an operator key."""
    root = tmp_path_factory.mktemp("server")
    db = oxvec.Database(root / "db", durability="never", key_cost=4)
    db.create_tenant("acme")
    db.create_tenant("other")
    db.create_tenant("slow", quota=oxvec.Quota(max_qps=0.001, burst=1))
    db.create_tenant("small", quota=oxvec.Quota(max_vectors=2))
    db.create_collection("acme", "docs", dim=DIM, metric="l2")
    db.create_collection("other", "secret", dim=DIM)
    db.create_collection("slow", "c", dim=DIM)
    db.create_collection("small", "c", dim=DIM)
    keys = {f"acme/{r}": db.create_api_key("acme", role=r, name=r) for r in ("admin", "writer", "reader")}
    keys["other/admin"] = db.create_api_key("other", role="admin", name="admin")
    keys["slow/writer"] = db.create_api_key("slow", role="writer")
    keys["small/writer"] = db.create_api_key("small", role="writer")
    keys["operator"] = db.create_api_key(None, role="operator", name="op")
    service = Service(db, backup_root=str(root / "backups"))
    app = create_app(service, timeout_s=30, max_body=1 << 20)
    with ThreadServer(app) as s:
        s.keys, s.root, s.service = keys, root, service
        yield s
    service.close()


def declared_too_large(srv, path, key):
    """(response, parsed body) of a binary POST that declares 2 MiB and
    sends none of it (the server's limit is 1 MiB)."""
    from http.client import HTTPConnection

    conn = HTTPConnection("127.0.0.1", srv.port, timeout=30)
    conn.putrequest("POST", path)
    for name, value in (("Authorization", f"Bearer {key}"), ("Content-Type", "application/octet-stream"),
                        ("X-Oxvec-Shape", f"1,{DIM}"), ("Content-Length", str(2 << 20))):
        conn.putheader(name, value)
    conn.endheaders()
    r = conn.getresponse()
    out = json.loads(r.read())
    conn.close()
    return r, out


def http(srv, method, path, body=None, key=None, headers=None, ctype=None):
    """(status, headers, parsed body) of a raw HTTP request."""
    h = dict(headers or {})
    if key:
        h["Authorization"] = f"Bearer {key}"
    data = body
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    if ctype:
        h["Content-Type"] = ctype
    req = urllib.request.Request(srv.url + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, hdrs, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    ct = hdrs.get("Content-Type", "")
    out = json.loads(raw) if raw and "json" in ct else raw
    return status, hdrs, out


def problem(srv, status, method, path, body=None, key=None, **kw):
    """A request that must fail with status, as problem+json; its body."""
    st, h, out = http(srv, method, path, body, key, **kw)
    assert st == status, (st, out)
    assert h["Content-Type"].startswith("application/problem+json"), h["Content-Type"]
    assert out["status"] == status and out["error"] and out["detail"], out
    return out


def vecs(n, seed=0):
    return np.random.default_rng(seed).random((n, DIM), dtype=np.float32)


def npy(a) -> bytes:
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


# --- the client ------------------------------------------------------------------
def test_client_has_the_vectorstore_methods_and_shapes(srv, tmp_path):
    c = oxvec.Client(srv.url, api_key=srv.keys["acme/admin"])
    col = c.create_collection("client-docs", dim=DIM, metric="l2", index={"type": "hnsw", "m": 8})
    assert col.dim == DIM and col.metric == "l2"
    assert "client-docs" in [x["name"] for x in c.collections()]
    x = vecs(50, 1)
    ids = [f"r{i}" for i in range(50)]
    col.add(ids, x, documents=[f"doc number {i}" for i in range(50)],
            metadatas=[{"even": i % 2 == 0, "i": i} for i in range(50)])
    assert col.count() == len(col) == 50

    # the same calls on a local store give the same shapes and answers
    local = oxvec.VectorStore(tmp_path / "local", dim=DIM, index={"type": "hnsw", "m": 8})
    local.add(ids, x, documents=[f"doc number {i}" for i in range(50)],
              metadatas=[{"even": i % 2 == 0, "i": i} for i in range(50)])
    for store in (col, local):
        res = store.search(x[:3], k=5, include=("documents", "metadatas", "embeddings"))
        assert [r[0] for r in res["ids"]] == ["r0", "r1", "r2"]
        assert isinstance(res["distances"][0], np.ndarray) and res["distances"][0].dtype == np.float32
        assert res["embeddings"][0].shape == (5, DIM)
        np.testing.assert_allclose(res["embeddings"][0][0], x[0], rtol=1e-6)
        one = store.search(x[7], k=3, filter={"even": False})
        assert one["ids"][0][0] == "r7" and all(int(i[1:]) % 2 for i in one["ids"][0])
        kw = store.search("number", k=3, mode="keyword")
        assert len(kw["ids"][0]) == 3 and kw["scores"][0].dtype == np.float64
        hy = store.search(x[4:5], k=3, mode="hybrid", text=["doc number 4"], fusion="convex", alpha=0.3)
        assert hy["ids"][0][0] == "r4" and "keyword_scores" in hy
        g = store.get(["r3", "r1", "nope"], include=("documents", "embeddings"))
        assert g["ids"] == ["r3", "r1"] and g["documents"] == ["doc number 3", "doc number 1"]
        assert g["embeddings"].shape == (2, DIM) and g["embeddings"].dtype == np.float32
        page = store.get(filter={"i": {"$lt": 10}}, limit=4, offset=2)
        assert len(page["ids"]) == 4
    local.close()

    col.update(["r1"], documents=["changed"])
    assert col.get(["r1"])["documents"] == ["changed"]
    col.upsert(["r1", "new"], vecs(2, 2), documents=["again", "fresh"])
    assert col.get(["r1", "new"])["documents"] == ["again", "fresh"]
    with pytest.raises(oxvec.DuplicateIdError):
        col.add(["r0"], x[:1])
    with pytest.raises(oxvec.NotFoundError):
        col.update(["missing"], documents=["x"])
    with pytest.raises(oxvec.DimensionError):
        col.search(np.zeros(DIM + 1, np.float32))
    assert col.delete(["r0", "unknown"]) == 1
    assert col.delete(filter={"even": True}) == 24
    assert col.count() == 26
    assert c.collection("client-docs").count() == 26
    assert col.info()["count"] == 26
    col.snapshot()
    assert col.backup()["last_seq"] >= 1
    c.drop_collection("client-docs")
    with pytest.raises(oxvec.NotFoundError):
        c.collection("client-docs")
    assert c.health() == {"status": "ok"} and c.ready()
    assert "oxvec_http_requests_total" in c.metrics()
    assert "key" not in repr(c) and srv.keys["acme/admin"] not in repr(c)


def test_client_bulk_write_is_sent_in_chunks(srv, monkeypatch):
    import oxvec.client as oc

    monkeypatch.setattr(oc, "_CHUNK_BYTES", 4 * DIM * 100)  # 100 vectors a request
    c = oxvec.Client(srv.url, api_key=srv.keys["acme/admin"])
    col = c.create_collection("bulk", dim=DIM)
    x = vecs(1050, 3)
    col.add([str(i) for i in range(1050)], x)
    assert col.count() == 1050
    got = col.get([str(i) for i in range(0, 1050, 97)], include=("embeddings",))
    np.testing.assert_array_equal(got["embeddings"], x[::97])
    c.drop_collection("bulk")


# --- raw HTTP: every route ----------------------------------------------------------
def test_raw_http_routes(srv):
    k = srv.keys["acme/admin"]
    st, _, out = http(srv, "POST", "/v1/collections", {"name": "raw", "dim": DIM, "metric": "cosine"}, k)
    assert st == 201 and out["name"] == "raw" and out["count"] == 0 and out["metric"] == "cosine"
    st, _, out = http(srv, "GET", "/v1/collections/raw", key=k)
    assert st == 200 and out["dim"] == DIM
    x = vecs(4, 5)
    # JSON vectors
    st, _, out = http(srv, "POST", "/v1/collections/raw/records",
                      {"ids": ["a"], "embeddings": x[:1].tolist(), "documents": ["alpha"], "metadatas": [{"n": 1}]}, k)
    assert (st, out) == (200, {"written": 1})
    # .npy body, fields in the header
    st, _, out = http(srv, "POST", "/v1/collections/raw/records", npy(x[1:3]), k, ctype="application/x-npy",
                      headers={"X-Oxvec-Request": json.dumps({"ids": ["b", "c"], "documents": ["beta", "gamma"]})})
    assert (st, out) == (200, {"written": 2})
    # raw float32, fields in the body before the vectors
    head = json.dumps({"ids": ["d"]}).encode()
    st, _, out = http(srv, "PUT", "/v1/collections/raw/records", head + x[3:].tobytes(), k,
                      ctype="application/octet-stream", headers={"X-Oxvec-Shape": f"1,{DIM}",
                                                                 "X-Oxvec-Request-Length": str(len(head))})
    assert (st, out) == (200, {"written": 1})
    st, _, out = http(srv, "PATCH", "/v1/collections/raw/records", {"ids": ["d"], "documents": ["delta"]}, k)
    assert (st, out) == (200, {"written": 1})
    st, _, out = http(srv, "GET", "/v1/collections/raw/count", key=k)
    assert (st, out) == (200, {"count": 4})
    st, _, out = http(srv, "POST", "/v1/collections/raw/get", {"ids": ["d", "a"], "include": ["documents", "metadatas"]}, k)
    assert st == 200 and out["ids"] == ["d", "a"] and out["documents"] == ["delta", "alpha"] and out["metadatas"][1] == {"n": 1}
    # search: npy, raw and JSON give the same answer; a batch of queries
    for body, ctype, hdr in ((npy(x[:2]), "application/x-npy", {"X-Oxvec-Request": '{"k": 2}'}),
                             (x[:2].tobytes(), "application/octet-stream", {"X-Oxvec-Shape": f"2,{DIM}", "X-Oxvec-Request": '{"k": 2}'}),
                             (json.dumps({"vectors": x[:2].tolist(), "k": 2}).encode(), "application/json", {})):
        st, _, out = http(srv, "POST", "/v1/collections/raw/search", body, k, ctype=ctype, headers=hdr)
        assert st == 200, out
        assert [r[0] for r in out["ids"]] == ["a", "b"] and len(out["distances"][0]) == 2
    st, _, out = http(srv, "POST", "/v1/collections/raw/search", {"texts": ["gamma"], "k": 1, "mode": "keyword"}, k)
    assert st == 200 and out["ids"] == [["c"]] and out["distances"] == [[None]]
    st, _, out = http(srv, "POST", "/v1/collections/raw/search",
                      {"vectors": x[:1].tolist(), "k": 3, "filter": {"n": 1}, "include": []}, k)
    assert st == 200 and out["ids"] == [["a"]] and "documents" not in out
    st, _, out = http(srv, "POST", "/v1/collections/raw/delete", {"ids": ["a"]}, k)
    assert (st, out) == (200, {"deleted": 1})
    st, _, out = http(srv, "POST", "/v1/collections/raw/delete", {"filter": {}}, k)
    assert (st, out) == (200, {"deleted": 3})
    st, _, out = http(srv, "GET", "/v1/collections/raw/stats", key=k)
    assert st == 200 and out["name"] == "raw"
    st, _, out = http(srv, "POST", "/v1/collections/raw/snapshot", key=k)
    assert (st, out) == (200, {"ok": True})
    st, _, out = http(srv, "POST", "/v1/collections/raw/backup", {"incremental": False}, k)
    assert st == 200 and out["copied"] >= 1 and out["dir"].startswith(str(srv.root / "backups"))
    st, _, _ = http(srv, "DELETE", "/v1/collections/raw", key=k)
    assert st == 204
    problem(srv, 404, "GET", "/v1/collections/raw", key=k)
    st, h, out = http(srv, "GET", "/healthz")
    assert (st, out) == (200, {"status": "ok"})
    st, h, out = http(srv, "GET", "/readyz")
    assert st == 200 and out["status"] == "ready"
    st, h, out = http(srv, "GET", "/openapi.json")
    assert st == 200 and "/v1/collections/{name}/search" in out["paths"]
    st, h, out = http(srv, "GET", "/docs")
    assert st == 200 and b"swagger" in out.lower()


def test_tenants_and_keys_routes(srv):
    op = srv.keys["operator"]
    st, _, out = http(srv, "POST", "/v1/tenants", {"name": "newco", "quota": {"max_vectors": 100}}, op)
    assert st == 201 and out["name"] == "newco" and out["quota"]["max_vectors"] == 100
    st, _, out = http(srv, "GET", "/v1/tenants", key=op)
    assert st == 200 and {"acme", "newco"} <= {t["name"] for t in out}
    st, _, out = http(srv, "GET", "/v1/tenants/newco", key=op)
    assert st == 200 and out["usage"]["vectors"] == 0
    st, _, out = http(srv, "POST", "/v1/collections", {"name": "c", "dim": DIM, "tenant": "newco"}, op)
    assert st == 201
    st, _, out = http(srv, "GET", "/v1/collections?tenant=newco", key=op)
    assert st == 200 and [c["name"] for c in out] == ["c"]
    st, _, out = http(srv, "POST", "/v1/keys", {"tenant": "newco", "role": "admin", "name": "boss"}, op)
    assert st == 201 and out["key"].startswith("oxv_") and out["name"] == "boss" and out["role"] == "admin"
    boss = out["key"]
    # the new admin key makes a writer key of its own tenant
    st, _, out = http(srv, "POST", "/v1/keys", {"role": "writer", "name": "w"}, boss)
    assert st == 201
    w = out["key"]
    st, _, out = http(srv, "POST", "/v1/collections/c/records", {"ids": ["1"], "embeddings": vecs(1).tolist()}, w)
    assert st == 200
    st, _, out = http(srv, "GET", "/v1/keys", key=boss)
    assert st == 200 and {"boss", "w"} <= {x["name"] for x in out} and all("key" not in x for x in out)
    st, _, _ = http(srv, "DELETE", "/v1/keys/w", key=boss)
    assert st == 204
    # a revoked key stops at once, cached session or not
    problem(srv, 401, "GET", "/v1/collections/c/count", key=w)
    problem(srv, 401, "GET", "/v1/collections/c/count", key=w)
    st, _, _ = http(srv, "DELETE", "/v1/tenants/newco", key=op)
    assert st == 204
    problem(srv, 404, "GET", "/v1/tenants/newco", key=op)
    problem(srv, 401, "GET", "/v1/collections", key=boss)


# --- auth and tenancy denials ----------------------------------------------------------
def test_auth_denials(srv):
    out = problem(srv, 401, "GET", "/v1/collections")
    assert out["error"] == "PermissionDeniedError"
    st, h, _ = http(srv, "GET", "/v1/collections")
    assert h["WWW-Authenticate"].startswith("Bearer")
    problem(srv, 401, "GET", "/v1/collections", key="oxv_nothing_wrong")
    problem(srv, 401, "GET", "/v1/collections", key=srv.keys["acme/reader"][:-2] + "xx")
    # a reader cannot write or administer: 403
    out = problem(srv, 403, "POST", "/v1/collections/docs/records", {"ids": ["z"], "embeddings": vecs(1).tolist()},
                  srv.keys["acme/reader"])
    assert out["error"] == "PermissionDeniedError" and "reader" in out["detail"]
    problem(srv, 403, "POST", "/v1/collections", {"name": "x", "dim": 4}, srv.keys["acme/writer"])
    problem(srv, 403, "POST", "/v1/collections/docs/snapshot", key=srv.keys["acme/writer"])
    problem(srv, 403, "GET", "/v1/tenants", key=srv.keys["acme/admin"])
    # another tenant's collection looks exactly like a missing one
    theirs = problem(srv, 404, "GET", "/v1/collections/secret/count", key=srv.keys["acme/admin"])
    missing = problem(srv, 404, "GET", "/v1/collections/nosuch/count", key=srv.keys["acme/admin"])
    assert theirs["detail"].replace("secret", "X") == missing["detail"].replace("nosuch", "X")
    problem(srv, 404, "POST", "/v1/collections/secret/search", {"vectors": vecs(1).tolist()}, srv.keys["acme/admin"])
    problem(srv, 404, "DELETE", "/v1/collections/secret", key=srv.keys["acme/admin"])
    problem(srv, 404, "POST", "/v1/collections/secret/backup", key=srv.keys["acme/admin"])
    # an operator key reads no data
    problem(srv, 404, "GET", "/v1/collections/docs/count", key=srv.keys["operator"])
    # and the owner still can
    st, _, out = http(srv, "GET", "/v1/collections/secret/count", key=srv.keys["other/admin"])
    assert st == 200


def test_errors_have_their_status(srv):
    k = srv.keys["acme/writer"]
    http(srv, "PUT", "/v1/collections/docs/records", {"ids": ["dup"], "embeddings": vecs(1).tolist()}, k)
    out = problem(srv, 409, "POST", "/v1/collections/docs/records", {"ids": ["dup"], "embeddings": vecs(1).tolist()}, k)
    assert out["error"] == "DuplicateIdError"
    out = problem(srv, 422, "POST", "/v1/collections/docs/search", {"vectors": [[1.0] * (DIM + 1)]}, k)
    assert out["error"] == "DimensionError"
    problem(srv, 422, "POST", "/v1/collections/docs/search", {"vectors": vecs(1).tolist(), "k": 0}, k)
    problem(srv, 422, "POST", "/v1/collections/docs/search", {"vectors": vecs(1).tolist(), "bogus": 1}, k)
    problem(srv, 422, "GET", "/v1/collections/-bad%20name/count", key=k)
    problem(srv, 404, "GET", "/v1/collections/..%2Fetc/count", key=k)  # no route: a path never reaches a store
    problem(srv, 400, "POST", "/v1/collections/docs/search", b"\x93NUMPY garbage", k, ctype="application/x-npy")
    problem(srv, 400, "POST", "/v1/collections/docs/search", b"\0" * 12, k, ctype="application/octet-stream",
            headers={"X-Oxvec-Shape": f"1,{DIM}"})
    problem(srv, 400, "POST", "/v1/collections/docs/search", npy(np.arange(DIM)), k, ctype="application/x-npy")
    problem(srv, 400, "POST", "/v1/collections/docs/search", b"{not json", k, ctype="application/json")
    problem(srv, 400, "POST", "/v1/collections/docs/search", {"texts": ["x"], "mode": "vector"}, k)
    problem(srv, 400, "POST", "/v1/collections/docs/get", {"filter": {"$bogus": 1}}, k)
    problem(srv, 415, "POST", "/v1/collections/docs/search", b"x", k, ctype="text/plain")
    # refused from its declared length, before a byte of the body is sent
    r, out = declared_too_large(srv, "/v1/collections/docs/records", k)
    assert r.status == 413 and r.getheader("Content-Type") == "application/problem+json"
    assert out["error"] == "PayloadTooLarge"
    problem(srv, 404, "GET", "/v1/nothing-here", key=k)
    # rate limit: 429 with Retry-After
    s = srv.keys["slow/writer"]
    http(srv, "GET", "/v1/collections/c/count", key=s)
    st, h, out = http(srv, "GET", "/v1/collections/c/count", key=s)
    assert st == 429 and out["error"] == "RateLimitedError" and int(h["Retry-After"]) >= 1
    # quota: 403 naming the limit
    q = srv.keys["small/writer"]
    out = problem(srv, 403, "POST", "/v1/collections/c/records", {"ids": ["1", "2", "3"], "embeddings": vecs(3).tolist()}, q)
    assert out["error"] == "QuotaExceededError" and out["limit"] == "max_vectors"
    with pytest.raises(oxvec.RateLimitedError) as e:
        oxvec.Client(srv.url, api_key=s).collection("c").count()
    assert e.value.retry_after is not None


def test_timeout_cancels_the_engine_call(tmp_path):
    db = oxvec.Database(tmp_path / "db", durability="never", key_cost=4)
    db.create_tenant("t")
    db.create_collection("t", "big", dim=128)
    key = db.create_api_key("t", role="writer")
    service = Service(db)
    # ready while no search exceeds 0 ms p99 - that is, until the first search
    app = create_app(service, timeout_s=0.05, ready={"max_latency_ms": 0.0})
    with ThreadServer(app) as s:
        c = oxvec.Client(s.url, api_key=key)
        assert c.ready()
        col = c.collection("big")
        x = np.random.default_rng(0).random((40_000, 128), dtype=np.float32)
        col.add([str(i) for i in range(len(x))], x)  # writes are never cut short
        assert col.count() == 40_000
        # 2,000 exact queries over 40,000 vectors: seconds of work, cut at 50 ms
        with pytest.raises(oxvec.CanceledError, match="timeout"):
            col.search(x[:2000], k=10, include=())
        assert col.search(x[:1], k=1, include=())["ids"] == [["0"]]
        st, _, out = http(s, "GET", "/readyz")
        assert st == 503 and out["status"] == "not ready" and "t/big: search p99 latency" in out["reasons"][0]
    service.close()


# --- GraphQL ----------------------------------------------------------------------------
def test_graphql_operations(srv):
    c = oxvec.Client(srv.url, api_key=srv.keys["acme/admin"])
    c.create_collection("gql", dim=DIM)
    x = vecs(3, 9)
    add = c.graphql("mutation($r: [RecordInput!]!) { add(collection: \"gql\", records: $r) }",
                    {"r": [{"id": f"g{i}", "embedding": x[i].tolist(), "document": f"graph text {i}",
                            "metadata": {"i": i}} for i in range(3)]})
    assert add == {"add": 3}
    data = c.graphql("""query($v: [[Float!]!], $f: JSON) {
        collections { name count }
        collection(name: "gql") { dim metric }
        count(collection: "gql")
        search(collection: "gql", vectors: $v, k: 2, filter: $f) { id distance document metadata }
        kw: search(collection: "gql", texts: ["graph"], k: 3, mode: "keyword") { id score }
        records(collection: "gql", ids: ["g2", "g0"], embeddings: true) { id document embedding }
    }""", {"v": [x[1].tolist()], "f": {"i": {"$gte": 1}}})
    assert {"name": "gql", "count": 3} in data["collections"]
    assert data["collection"] == {"dim": DIM, "metric": "l2"} and data["count"] == 3
    hits = data["search"][0]
    assert hits[0]["id"] == "g1" and hits[0]["metadata"] == {"i": 1} and len(hits) == 2
    assert len(data["kw"][0]) == 3 and data["kw"][0][0]["score"] > 0
    assert [r["id"] for r in data["records"]] == ["g2", "g0"]
    np.testing.assert_allclose(data["records"][1]["embedding"], x[0], rtol=1e-6)
    up = c.graphql('mutation { upsert(collection: "gql", records: [{id: "g0", document: "new", embedding: %s}]) }'
                   % json.dumps(x[0].tolist()))
    assert up == {"upsert": 1}
    assert c.graphql('mutation { delete(collection: "gql", ids: ["g0", "g1"]) }') == {"delete": 2}
    assert c.graphql('mutation { delete(collection: "gql", filter: {}) }') == {"delete": 1}
    # errors carry the class and the REST status; other tenants look missing
    with pytest.raises(oxvec.NotFoundError):
        c.graphql('{ count(collection: "secret") }')
    with pytest.raises(oxvec.PermissionDeniedError):
        oxvec.Client(srv.url, api_key=srv.keys["acme/reader"]).graphql(
            'mutation { delete(collection: "gql", ids: ["x"]) }')
    with pytest.raises(oxvec.PermissionDeniedError):
        oxvec.Client(srv.url).graphql("{ collections { name } }")
    c.drop_collection("gql")


# --- metrics -------------------------------------------------------------------------------
def test_metrics_have_http_counts_by_route_and_status(srv):
    k = srv.keys["acme/reader"]
    http(srv, "GET", "/v1/collections/docs/count", key=k)
    http(srv, "GET", "/v1/collections/nosuch/count", key=k)
    st, h, text = http(srv, "GET", "/metrics")
    assert st == 200 and h["Content-Type"].startswith("text/plain")
    text = text.decode()
    assert 'oxvec_http_requests_total{method="GET",route="/v1/collections/{name}/count",status="200"}' in text
    assert 'route="/v1/collections/{name}/count",status="404"' in text
    assert 'oxvec_http_request_duration_seconds_bucket{method="GET",route="/v1/collections/{name}/count",status="200",le="+Inf"}' in text
    assert "nosuch" not in text  # paths never become labels
    for key in srv.keys.values():
        assert key not in text
    if hasattr(oxvec, "metrics_text"):  # the engine's own exposition comes first
        engine = oxvec.metrics_text().splitlines()
        assert engine and engine[0] in text


# --- the command line ---------------------------------------------------------------------
def _cli(*args, check=True):
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "python")}
    return subprocess.run([sys.executable, "-m", "oxvec", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=check)


def test_keys_command_and_serve_shut_down_cleanly_on_sigterm(tmp_path):
    data = str(tmp_path / "db")
    op = _cli("keys", "create", "--data", data, "--operator", "--name", "root").stdout.strip()
    assert op.startswith("oxv_")
    w = _cli("keys", "create", "--data", data, "--tenant", "t1", "--create-tenant", "--role", "admin").stdout.strip()
    listed = [json.loads(line) for line in _cli("keys", "list", "--data", data, "--tenant", "t1").stdout.splitlines()]
    assert len(listed) == 1 and listed[0]["role"] == "admin" and "key" not in listed[0]
    assert w not in json.dumps(listed)

    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "python")}
    proc = subprocess.Popen([sys.executable, "-m", "oxvec", "serve", "--data", data, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        wait_healthy("127.0.0.1", port, 60, proc)
        # the directory is the server's now
        busy = _cli("keys", "list", "--data", data, "--operator", check=False)
        assert busy.returncode != 0 and "in use" in busy.stderr
        c = oxvec.Client(f"http://127.0.0.1:{port}", api_key=w)
        col = c.create_collection("kept", dim=4)
        col.add(["a", "b"], np.eye(2, 4, dtype=np.float32))
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "closed" in out and w not in out and op not in out  # keys are never logged
    _cli("keys", "revoke", "--data", data, "--tenant", "t1", listed[0]["name"])
    db = oxvec.Database(data)
    s = db.session(op)
    assert [x["count"] for x in s.collections("t1")] == [2]
    with pytest.raises(oxvec.PermissionDeniedError):
        db.session(w)
    db.close()


# --- schemathesis ----------------------------------------------------------------------------
def test_schemathesis_no_5xx_and_responses_conform(srv, tmp_path):
    st_bin = shutil.which("st", path=os.path.dirname(sys.executable)) or shutil.which("schemathesis", path=os.path.dirname(sys.executable))
    if st_bin is None:
        pytest.skip("schemathesis is not installed (pip install 'oxvec[test]')")
    proc = subprocess.run(
        [st_bin, "run", f"{srv.url}/openapi.json", "--checks",
         "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
         "--max-examples", "8", "--header", f"Authorization: Bearer {srv.keys['acme/writer']}",
         "--seed", "20261201", "--no-color", "--workers", "1",
         "--exclude-path-regex", "^/v1/tenants", "--mode", "all"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    if os.environ.get("OXVEC_SHOW_SCHEMATHESIS"):
        print(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_binary_search_fast_path_answers_as_the_route(srv):
    """The first binary search of a key goes through FastAPI (which opens
    its session), later ones through the fast path: same answers, same
    errors, same metrics label."""
    op = srv.keys["operator"]
    st, _, out = http(srv, "POST", "/v1/keys", {"tenant": "acme", "role": "reader", "name": "fast"}, op)
    key = out["key"]
    x = vecs(2, 11)
    hdr = {"X-Oxvec-Shape": f"2,{DIM}", "X-Oxvec-Request": json.dumps({"k": 3, "include": []})}
    answers = [http(srv, "POST", "/v1/collections/docs/search", x.tobytes(), key, ctype="application/octet-stream",
                    headers=hdr) for _ in range(2)]
    assert answers[0][0] == answers[1][0] == 200 and answers[0][2] == answers[1][2]
    st, _, json_answer = http(srv, "POST", "/v1/collections/docs/search", {"vectors": x.tolist(), "k": 3, "include": []}, key)
    assert json_answer == answers[0][2]
    bad = {"X-Oxvec-Shape": f"1,{DIM + 1}"}
    out = problem(srv, 422, "POST", "/v1/collections/docs/search", np.zeros(DIM + 1, np.float32).tobytes(), key,
                  ctype="application/octet-stream", headers=bad)
    assert out["error"] == "DimensionError"
    problem(srv, 404, "POST", "/v1/collections/secret/search", x.tobytes(), key, ctype="application/octet-stream", headers=hdr)
    for _ in range(2):  # an invalid option set is refused every time (not remembered as valid)
        problem(srv, 422, "POST", "/v1/collections/docs/search", x.tobytes(), key, ctype="application/octet-stream",
                headers={**hdr, "X-Oxvec-Request": '{"k": 0}'})
    # option sets are remembered by their text: each still gets its own answer
    ok_searches = 'oxvec_http_requests_total{method="POST",route="/v1/collections/{name}/search",status="200"} '

    def served():
        text = http(srv, "GET", "/metrics")[2].decode()
        return int(text.split(ok_searches)[1].split()[0])

    admin = oxvec.Client(srv.url, api_key=srv.keys["acme/admin"])
    admin.create_collection("fastk", dim=DIM, metric="l2").add([str(i) for i in range(20)], vecs(20, 12))
    before = served()
    top = {}
    for k in (3, 1, 3, 1):
        st, _, out = http(srv, "POST", "/v1/collections/fastk/search", x.tobytes(), key, ctype="application/octet-stream",
                          headers={**hdr, "X-Oxvec-Request": json.dumps({"k": k, "include": []})})
        assert st == 200 and [len(r) for r in out["ids"]] == [k, k]
        assert out["ids"] == top.setdefault(k, out["ids"])
    assert top[1] == [r[:1] for r in top[3]]
    assert served() == before + 4  # the fast path counts in the HTTP metrics
    admin.drop_collection("fastk")
    # a declared length over the server's limit is refused before the body is read, as on every route
    r, out = declared_too_large(srv, "/v1/collections/docs/search", key)
    assert r.status == 413 and out["error"] == "PayloadTooLarge"
    http(srv, "DELETE", "/v1/keys/fast?tenant=acme", key=op)
    problem(srv, 401, "POST", "/v1/collections/docs/search", x.tobytes(), key, ctype="application/octet-stream", headers=hdr)
    problem(srv, 401, "POST", "/v1/collections/docs/search", x.tobytes(), key, ctype="application/octet-stream", headers=hdr)
    st, _, text = http(srv, "GET", "/metrics")
    assert 'route="/v1/collections/{name}/search",status="422"' in text.decode()


def test_without_the_extra_the_import_error_names_pip(tmp_path):
    code = ("import sys; sys.modules['fastapi'] = None\n"
            "import oxvec, oxvec.client\n"
            "try:\n    from oxvec.server import create_app\n"
            "except ImportError as e:\n    print('IMPORT-ERROR', e)\n")
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "python")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60).stdout
    assert "IMPORT-ERROR" in out and "pip install 'oxvec[server]'" in out
