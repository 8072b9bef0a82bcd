"""SPARQL mounted on `oxvec serve`: /v1/collections/{name}/sparql and
/sparql?collection=, over a collection's records, with the caller's API key
deciding what it may read and whether an update may write - on a real
uvicorn server on a loopback port."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("strawberry")
pytest.importorskip("rdflib")

import oxvec  # noqa: E402
from oxvec.server import Service, create_app  # noqa: E402
from oxvec.sparql import encode  # noqa: E402
from serverutil import ThreadServer  # noqa: E402

EX = "http://ex.org/"
D, N = 8, 30
P = "PREFIX vec: <http://oxirs.org/vec/> PREFIX m: <http://oxirs.org/vec/meta/> PREFIX ex: <http://ex.org/>\n"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    root = tmp_path_factory.mktemp("sparql-server")
    db = oxvec.Database(root / "db", durability="never", key_cost=4)
    db.create_tenant("acme")
    db.create_tenant("other")
    db.create_collection("acme", "docs", dim=D, metric="cosine")
    db.create_collection("other", "secret", dim=D, metric="cosine")
    keys = {r: db.create_api_key("acme", role=r) for r in ("writer", "reader")}
    keys["other"] = db.create_api_key("other", role="admin")
    x = np.random.default_rng(11).normal(size=(N, D)).astype(np.float32)
    c = db.session(keys["writer"]).collection("docs")
    c.add([f"{EX}r{i}" for i in range(N)], x, documents=[f"doc {i}" for i in range(N)],
          metadatas=[{"kind": "odd" if i % 2 else "even"} for i in range(N)])
    c.close()
    service = Service(db)
    with ThreadServer(create_app(service, timeout_s=30)) as s:
        s.keys, s.x = keys, x
        yield s
    service.close()


def _req(srv, path, key=None, data=None, ctype=None, **params):
    h = {"Authorization": f"Bearer {key}"} if key else {}
    if ctype:
        h["Content-Type"] = ctype
    url = srv.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=h), timeout=60) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


def test_a_reader_key_queries_vectors_joined_with_records(srv):
    x = srv.x.astype(np.float64)
    cos = x @ x[4] / (np.linalg.norm(x, axis=1) * np.linalg.norm(x[4]))
    want = [f"{EX}r{i}" for i in np.argsort(-cos)[:6] if i % 2 == 0]
    q = P + f"""SELECT ?r ?doc WHERE {{
        (?r ?s) vec:search ("{encode(srv.x[4])}"^^vec:Vector 6) . ?r vec:document ?doc ; m:kind "even" }} ORDER BY DESC(?s)"""
    for path, extra in (("/v1/collections/docs/sparql", {}), ("/sparql", {"collection": "docs"})):
        status, ct, body = _req(srv, path, srv.keys["reader"], query=q, **extra)
        assert status == 200 and ct.startswith("application/sparql-results+json"), body
        rows = json.loads(body)["results"]["bindings"]
        assert [r["r"]["value"] for r in rows] == want
        assert [r["doc"]["value"] for r in rows] == [f"doc {w.rsplit('r', 1)[1]}" for w in want]


def test_updates_are_read_only_unless_the_key_allows_writes(srv):
    upd = (P + 'INSERT DATA { ex:r1 m:tag "new" }').encode()
    status, _, body = _req(srv, "/v1/collections/docs/sparql", srv.keys["reader"], upd, "application/sparql-update")
    assert status == 403 and b"permission" in body
    ask = P + 'ASK { ex:r1 m:tag "new" }'
    assert json.loads(_req(srv, "/sparql", srv.keys["reader"], query=ask, collection="docs")[2])["boolean"] is False
    status, _, _ = _req(srv, "/v1/collections/docs/sparql", srv.keys["writer"], upd, "application/sparql-update")
    assert status == 204
    assert json.loads(_req(srv, "/sparql", srv.keys["reader"], query=ask, collection="docs")[2])["boolean"] is True


def test_keys_and_collections_are_checked(srv):
    q = "ASK { ?s ?p ?o }"
    status, ct, _ = _req(srv, "/v1/collections/docs/sparql", None, query=q)
    assert status == 401 and ct.startswith("application/problem+json")
    status, ct, _ = _req(srv, "/v1/collections/docs/sparql", srv.keys["other"], query=q)
    assert status == 404 and ct.startswith("application/problem+json")  # another tenant's name finds nothing
    status, ct, _ = _req(srv, "/sparql", srv.keys["reader"], query=q)
    assert status == 400 and ct.startswith("application/problem+json")  # no collection named
    status, ct, body = _req(srv, "/sparql", srv.keys["reader"], query="SELECT WHERE {", collection="docs")
    assert status == 400 and ct.startswith("text/plain") and b"malformed" in body
