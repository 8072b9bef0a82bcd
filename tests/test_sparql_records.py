"""oxvec.sparql.records: a store's records read as RDF (documents and
metadata), joined with the vec: patterns, written through SPARQL Update
where the store allows it, and refused (403 at the endpoint) where a
tenancy key may only read."""

from __future__ import annotations

import numpy as np
import pytest

import oxvec

rdflib = pytest.importorskip("rdflib")

from oxvec.sparql import bind, records  # noqa: E402

EX = "http://ex.org/"
P = "PREFIX vec: <http://oxirs.org/vec/> PREFIX m: <http://oxirs.org/vec/meta/> PREFIX ex: <http://ex.org/>\n"
N, D = 12, 6


@pytest.fixture
def store(tmp_path):
    x = np.random.default_rng(5).normal(size=(N, D)).astype(np.float32)
    s = oxvec.VectorStore(tmp_path / "s", dim=D, metric="cosine", durability="never")
    s.add([f"{EX}r{i}" for i in range(N)], x, documents=[f"doc {i}" for i in range(N)],
          metadatas=[{"genre": "jazz" if i % 2 else "rock", "year": 1950 + i, "tags": ["a", "b"]} for i in range(N)])
    s.x = x
    yield s
    s.close()


def test_records_read_as_triples(store):
    g = records.graph(store)
    r3 = rdflib.URIRef(EX + "r3")
    assert (r3, rdflib.RDF.type, rdflib.URIRef(records.RECORD)) in g
    assert str(g.value(r3, rdflib.URIRef(records.DOCUMENT))) == "doc 3"
    assert g.value(r3, rdflib.URIRef(records.META + "year")).toPython() == 1953
    assert {str(o) for o in g.objects(r3, rdflib.URIRef(records.META + "tags"))} == {"a", "b"}
    assert len(g) == N * 6  # type, document, genre, year, two tags


def test_a_metadata_pattern_is_the_engines_filter(store):
    calls = []
    orig = store.get
    store.get = lambda *a, **kw: (calls.append(kw.get("filter")), orig(*a, **kw))[1]
    rows = list(records.graph(store).query(P + 'SELECT ?r WHERE { ?r m:genre "jazz" }'))
    assert sorted(str(r.r) for r in rows) == sorted(f"{EX}r{i}" for i in range(1, N, 2))
    assert calls == [{"genre": "jazz"}]


def test_vector_search_joined_with_documents_and_metadata(store):
    g = records.graph(store)
    x = store.x.astype(np.float64)
    cos = x @ x[0] / (np.linalg.norm(x, axis=1) * np.linalg.norm(x[0]))
    want = [f"{EX}r{i}" for i in np.argsort(-cos)[1:6] if i % 2]
    with bind(store):
        rows = list(g.query(P + """SELECT ?r ?doc WHERE {
            (?r ?s) vec:similar (ex:r0 5) . ?r vec:document ?doc ; m:genre "jazz" } ORDER BY DESC(?s)"""))
    assert [str(r.r) for r in rows] == want
    assert [str(r.doc) for r in rows] == [f"doc {w.rsplit('r', 1)[1]}" for w in want]


def test_updates_change_documents_and_metadata(store):
    g = records.graph(store)
    g.update(P + 'INSERT DATA { ex:r1 m:mood "blue" ; vec:document "new" ; m:tags "c" }')
    g.update(P + 'DELETE DATA { ex:r1 m:tags "a" }')
    got = store.get([EX + "r1"])
    assert got["documents"] == ["new"]
    assert got["metadatas"][0] == {"genre": "jazz", "year": 1951, "mood": "blue", "tags": ["b", "c"]}
    g.update(P + "DELETE WHERE { ex:r1 m:mood ?any }")
    assert "mood" not in store.get([EX + "r1"])["metadatas"][0]
    assert store.count() == N


@pytest.mark.parametrize("update, error", [
    ('INSERT DATA { ex:nobody m:mood "blue" }', oxvec.NotFoundError),
    ("INSERT DATA { ex:r1 ex:p ex:o }", oxvec.UnsupportedError),
    ('INSERT DATA { ex:r1 m:when "2020-01-01"^^<http://www.w3.org/2001/XMLSchema#date> }', oxvec.UnsupportedError),
])
def test_updates_outside_the_record_view_are_refused(store, update, error):
    with pytest.raises(error):
        records.graph(store).update(P + update)
    assert store.get([EX + "r1"])["metadatas"][0] == {"genre": "jazz", "year": 1951, "tags": ["a", "b"]}


def test_endpoint_over_a_collection_writes_only_with_a_key_that_may(tmp_path):
    pytest.importorskip("fastapi")
    from starlette.testclient import TestClient

    from oxvec.sparql import endpoint

    db = oxvec.Database(tmp_path / "db", durability="never")
    db.create_tenant("t")
    db.create_collection("t", "c", dim=D, metric="cosine")
    writer_key, reader_key = db.create_api_key("t", role="writer"), db.create_api_key("t", role="reader")
    w = db.session(writer_key).collection("c")
    w.add([EX + "r0", EX + "r1"], np.eye(2, D, dtype=np.float32) + 0.1, documents=["zero", "one"])
    r = db.session(reader_key).collection("c")
    upd = P + 'INSERT DATA { ex:r0 m:mood "blue" }'
    headers = {"Content-Type": "application/sparql-update"}
    with TestClient(endpoint.app(records.graph(r), r, allow_update=True)) as client:
        res = client.post("/sparql", content=upd, headers=headers)
        assert res.status_code == 403 and "permission denied" in res.text
        rows = client.get("/sparql", params={"query": P + "SELECT ?d WHERE { (?x ?s) vec:similar (ex:r1 1) . ?x vec:document ?d }"})
        assert rows.status_code == 200 and rows.json()["results"]["bindings"][0]["d"]["value"] == "zero"
    assert "mood" not in (w.get([EX + "r0"])["metadatas"][0] or {})
    with TestClient(endpoint.app(records.graph(w), w, allow_update=True)) as client:
        assert client.post("/sparql", content=upd, headers=headers).status_code == 204
    assert w.get([EX + "r0"])["metadatas"][0] == {"mood": "blue"}
    db.close()
