"""The SPARQL 1.1 Protocol endpoint over real HTTP on loopback, and a
federated query from pyoxigraph (a second, independent engine) whose SERVICE
clause runs our vector search and joins it with pyoxigraph's own triples."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import oxvec
from oxvec.embed import as_embedder

rdflib = pytest.importorskip("rdflib")
ox = pytest.importorskip("pyoxigraph")
pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from oxvec.sparql import endpoint  # noqa: E402

EX = "http://ex.org/"
N, D = 40, 8
VEC_PREFIX = "PREFIX vec: <http://oxirs.org/vec/> PREFIX ex: <http://ex.org/>\n"


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(3).normal(size=(N, D)).astype(np.float32)


class Served:
    """A uvicorn server of an app on a free loopback port, in a thread."""

    def __init__(self, app) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))  # the kernel picks a free port; uvicorn serves this very socket
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:  # readiness: uvicorn sets it once it accepts connections
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            self.thread.join(0.01)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture(scope="module")
def served(tmp_path_factory, data):
    emb = as_embedder(lambda ts: np.stack([data[int(t[1:])] for t in ts]), dim=D, name="fake")
    store = oxvec.VectorStore(tmp_path_factory.mktemp("ep") / "s", metric="cosine", embedder=emb, durability="never")
    store.add([f"{EX}r{i}" for i in range(N)], data)
    g = rdflib.Graph()
    for i in range(N):
        g.add((rdflib.URIRef(f"{EX}r{i}"), rdflib.URIRef(EX + "n"), rdflib.Literal(i)))
    writes = {"allowed": False}
    app = endpoint.app(g, store, allow_update=lambda request: writes["allowed"])
    s = Served(app)
    s.graph, s.writes = g, writes
    yield s
    s.close()
    store.close()


def _http(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


def _get(served, query, accept=None, **params):
    qs = urllib.parse.urlencode({"query": query, **params})
    return _http(f"{served.url}?{qs}", headers={"Accept": accept} if accept else {})


def _exact(data, i, k):
    x = data.astype(np.float64)
    cos = x @ x[i] / (np.linalg.norm(x, axis=1) * np.linalg.norm(x[i]))
    order = np.argsort(-cos, kind="stable")[:k]
    return [f"{EX}r{j}" for j in order], cos[order]


def test_federated_pyoxigraph_service_query_joins_vector_search_with_local_triples(served, data):
    local = ox.Store()
    for i in range(0, N, 2):  # pyoxigraph's own triples: labels of the even records only
        local.add(ox.Quad(ox.NamedNode(f"{EX}r{i}"), ox.NamedNode(EX + "label"), ox.Literal(f"even {i}")))
    rows = list(local.query(VEC_PREFIX + f"""SELECT ?r ?s ?label WHERE {{
        SERVICE <{served.url}> {{ (?r ?s) vec:search ("r6" 9) }}
        ?r ex:label ?label }} ORDER BY DESC(?s)"""))
    ids, cos = _exact(data, 6, 9)
    even = [(i, c) for i, c in zip(ids, cos) if int(i.rsplit("r", 1)[1]) % 2 == 0]
    assert len(even) >= 2
    assert [r["r"].value for r in rows] == [i for i, _ in even]
    np.testing.assert_allclose([float(r["s"].value) for r in rows], [c for _, c in even], atol=1e-5)
    assert [r["label"].value for r in rows] == [f"even {i.rsplit('r', 1)[1]}" for i, _ in even]


def test_federated_service_runs_functions_remotely(served, data):
    rows = list(ox.Store().query(VEC_PREFIX + f"""SELECT ?s WHERE {{
        SERVICE <{served.url}> {{ BIND(vec:similarity(ex:r1, ex:r2) AS ?s) }} }}"""))
    x = data.astype(np.float64)
    assert float(rows[0]["s"].value) == pytest.approx(x[1] @ x[2] / np.linalg.norm(x[1]) / np.linalg.norm(x[2]), abs=1e-6)


def test_get_post_form_and_post_query_give_the_same_json(served):
    q = VEC_PREFIX + "SELECT ?r ?s WHERE { (?r ?s) vec:similar (ex:r3 4) } ORDER BY DESC(?s)"
    a = _get(served, q)
    b = _http(served.url, urllib.parse.urlencode({"query": q}).encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    c = _http(served.url, q.encode(), {"Content-Type": "application/sparql-query"})
    for status, ct, body in (a, b, c):
        assert status == 200 and ct.startswith("application/sparql-results+json")
    got = [json.loads(body)["results"]["bindings"] for _, _, body in (a, b, c)]
    assert got[0] == got[1] == got[2] and len(got[0]) == 4
    assert got[0][0]["s"]["datatype"] == "http://www.w3.org/2001/XMLSchema#double"


def test_results_as_xml_csv_ask_and_construct(served):
    q = "SELECT ?n WHERE { ex:r5 ex:n ?n }"
    status, ct, body = _get(served, VEC_PREFIX + q, "application/sparql-results+xml")
    assert status == 200 and ct.startswith("application/sparql-results+xml")
    ns = "{http://www.w3.org/2005/sparql-results#}"
    assert ET.fromstring(body).find(f".//{ns}literal").text == "5"
    status, ct, body = _get(served, VEC_PREFIX + q, "text/csv")
    assert status == 200 and ct.startswith("text/csv") and body.decode().split() == ["n", "5"]
    status, _, body = _get(served, VEC_PREFIX + "ASK { ex:r5 ex:n 5 }")
    assert status == 200 and json.loads(body)["boolean"] is True
    status, ct, body = _get(served, VEC_PREFIX + "CONSTRUCT { ?r ex:near ex:r3 } WHERE { (?r ?s) vec:similar (ex:r3 2) }")
    assert status == 200 and ct.startswith("text/turtle")
    assert len(rdflib.Graph().parse(data=body.decode(), format="turtle")) == 2


@pytest.mark.parametrize("call, status", [
    (lambda s: _get(s, "SELECT WHERE {"), 400),
    (lambda s: _http(s.url), 400),
    (lambda s: _get(s, "SELECT * WHERE { ?a ?b ?c }", "image/png"), 406),
    (lambda s: _get(s, "SELECT * WHERE { ?a ?b ?c }", None, **{"default-graph-uri": EX + "g"}), 400),
    (lambda s: _http(s.url, b"SELECT * {}", {"Content-Type": "text/plain"}), 400),
    (lambda s: _http(s.url, b"\xff\xfe", {"Content-Type": "application/sparql-query"}), 400),
    (lambda s: _get(s, VEC_PREFIX + "SELECT * WHERE { (?r ?s) vec:similar (?unbound 2) }"), 400),
])
def test_bad_requests_get_a_status_and_a_message(served, call, status):
    got, ct, body = call(served)
    assert got == status and ct.startswith("text/plain") and body


def test_updates_need_permission(served):
    upd = "PREFIX ex: <http://ex.org/> INSERT DATA { ex:r1 ex:tag \"new\" }"
    status, _, body = _http(served.url, upd.encode(), {"Content-Type": "application/sparql-update"})
    assert status == 403 and b"read-only" in body
    assert (rdflib.URIRef(EX + "r1"), rdflib.URIRef(EX + "tag"), rdflib.Literal("new")) not in served.graph
    served.writes["allowed"] = True
    try:
        status, _, _ = _http(served.url, urllib.parse.urlencode({"update": upd}).encode(),
                             {"Content-Type": "application/x-www-form-urlencoded"})
    finally:
        served.writes["allowed"] = False
    assert status == 204
    assert (rdflib.URIRef(EX + "r1"), rdflib.URIRef(EX + "tag"), rdflib.Literal("new")) in served.graph
