"""WordNet as RDF with its glosses embedded by oxvec's MiniLM: the example
queries of docs/sparql.md in rdflib and pyoxigraph, checked against exact
numpy cosines over the same vectors.

A subset keeps make test short: the birds and the canines, every synset of
the lemma "dog", 300 other nouns drawn with a fixed seed, and all their
hypernym ancestors (2,154 synsets). Embeddings are cached in build/."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

rdflib = pytest.importorskip("rdflib")
ox = pytest.importorskip("pyoxigraph")

from oxvec.embed import EmbedderError, MiniLM  # noqa: E402
from oxvec.sparql import bind, oxigraph_query, wordnet  # noqa: E402

if not wordnet.available():
    pytest.skip("WordNet is not installed: apt-get install wordnet-base", allow_module_level=True)

CACHE = pathlib.Path(__file__).resolve().parent.parent / "build" / "wordnet-embeddings"
PREFIX = "PREFIX vec: <http://oxirs.org/vec/> PREFIX wn: <http://oxirs.org/wordnet/>\n"
BIRDS = PREFIX + """SELECT ?bird ?score ?gloss WHERE {
    (?bird ?score) vec:search ("a large flightless bird of Africa" 20) .
    ?bird wn:hypernym+ wn:bird-n-01 ; wn:gloss ?gloss .
} ORDER BY DESC(?score)"""
NOT_ANIMALS = PREFIX + """SELECT ?s ?score WHERE {
    (?s ?score) vec:similar (wn:dog-n-01 250) .
    FILTER NOT EXISTS { ?s wn:hypernym+ wn:animal-n-01 }
} ORDER BY DESC(?score)"""


@pytest.fixture(scope="module")
def wn(tmp_path_factory):
    try:
        emb = MiniLM(progress=False)
    except EmbedderError as e:
        pytest.skip(str(e))
    every = wordnet.read()
    dog_senses = [s.name for s in every.values() if "dog" in s.lemmas]
    sub = wordnet.subset(every, below=("bird.n.01", "canine.n.02"), names=dog_senses, sample=300, seed=0)
    store = wordnet.vector_store(tmp_path_factory.mktemp("wn") / "store", sub, emb, cache_dir=str(CACHE))
    nt = wordnet.ntriples(sub)
    g = rdflib.Graph().parse(data=nt, format="nt")
    oxs = ox.Store()
    oxs.load(nt, format=ox.RdfFormat.N_TRIPLES)
    vecs = wordnet.embeddings(sub, emb, str(CACHE)).astype(np.float64)
    yield {"synsets": sub, "store": store, "graph": g, "ox": oxs, "vecs": vecs, "emb": emb, "keys": list(sub)}
    store.close()


def _iri(wn, key):
    return wn["synsets"][key].iri


def _exact(wn, q, k, keep=lambda key: True, skip=None):
    """(iris, cosines): the exact top k of the store, then filtered as the
    query filters it."""
    x = wn["vecs"]
    cos = x @ q / (np.linalg.norm(x, axis=1) * np.linalg.norm(q))
    order = [i for i in np.argsort(-cos, kind="stable") if wn["keys"][i] != skip][:k]
    order = [i for i in order if keep(wn["keys"][i])]
    return [_iri(wn, wn["keys"][i]) for i in order], cos[order]


def test_wordnet_rdf_has_synsets_lemmas_glosses_and_hypernyms(wn):
    g = wn["graph"]
    dog = rdflib.URIRef(wordnet.WN + "dog-n-01")
    labels = {str(o) for o in g.objects(dog, rdflib.RDFS.label)}
    assert labels == {"dog", "domestic dog", "Canis familiaris"}
    assert set(g.objects(dog, rdflib.URIRef(wordnet.WN + "hypernym"))) == {
        rdflib.URIRef(wordnet.WN + "canine-n-02"), rdflib.URIRef(wordnet.WN + "domestic_animal-n-01")}
    assert str(g.value(dog, rdflib.URIRef(wordnet.WN + "gloss"))).startswith("a member of the genus Canis")
    assert str(g.value(dog, rdflib.URIRef(wordnet.WN + "name"))) == "dog.n.01"
    top = list(g.query(PREFIX + "ASK { wn:dog-n-01 wn:hypernym+ wn:entity-n-01 }"))
    assert top == [True]


def test_birds_closest_to_a_large_flightless_bird_of_africa(wn):
    birds = wordnet.hyponyms(wn["synsets"], "bird.n.01") - {wordnet.by_name(wn["synsets"])["bird.n.01"].key}
    q = np.asarray(wn["emb"](["a large flightless bird of Africa"])[0], np.float64)
    want, cos = _exact(wn, q, 20, keep=lambda key: key in birds)
    with bind(wn["store"]):
        rows = list(wn["graph"].query(BIRDS))
    assert [str(r.bird) for r in rows] == want
    np.testing.assert_allclose([float(r.score) for r in rows], cos, atol=1e-5)
    # real data: "large brightly crested bird of Africa" (touraco) comes first,
    # "fast-running African flightless bird ..." (ostrich) second
    assert wordnet.WN + "ostrich-n-02" in [str(r.bird) for r in rows[:2]]
    ox_rows = list(oxigraph_query(wn["ox"], BIRDS, wn["store"]))
    assert [r["bird"].value for r in ox_rows] == want


def test_synsets_similar_to_dog_that_are_not_animals(wn):
    animals = wordnet.hyponyms(wn["synsets"], "animal.n.01")
    dog = wordnet.by_name(wn["synsets"])["dog.n.01"].key
    want, cos = _exact(wn, wn["vecs"][wn["keys"].index(dog)], 250, keep=lambda key: key not in animals, skip=dog)
    assert len(want) >= 5  # the subset's nearest 250 hold non-animals (taxonomic groups, "mammal genus")
    with bind(wn["store"]):
        rows = list(wn["graph"].query(NOT_ANIMALS))
    assert [str(r.s) for r in rows] == want
    np.testing.assert_allclose([float(r.score) for r in rows], cos, atol=1e-5)
    ox_rows = list(oxigraph_query(wn["ox"], NOT_ANIMALS, wn["store"]))
    assert [r["s"].value for r in ox_rows] == want
