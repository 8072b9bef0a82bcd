"""Keyword (BM25) and hybrid search in a VectorStore, the analyzer, and
auto-embedding of documents and text queries."""

import zlib

import numpy as np
import pytest

import oxvec

DOCS = {
    "gzip.open": "Open a gzip-compressed file in binary or text mode, returning a file object.",
    "argparse": "Command-line parsing library: define arguments and parse sys.argv.",
    "math.isclose": "Return True if the values a and b are close to each other (floats, approximately).",
    "zipfile": "Read and write ZIP archive files.",
    "shutil.copy": "Copy the file src to the file or directory dst.",
    "json.loads": "Deserialize a str containing a JSON document to a Python object.",
}


class BagOfWords:
    """A deterministic toy embedder: hashed analyzer terms, L2-normalised."""
    dim, name = 64, "bag-of-words"

    def __call__(self, texts):
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for term in oxvec.analyze(t) or ["empty"]:
                out[i, zlib.crc32(term.encode()) % self.dim] += 1
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def store(tmp_path):
    s = oxvec.VectorStore(tmp_path / "s", dim=64, metric="cosine", embedder=BagOfWords())
    s.add(list(DOCS), documents=list(DOCS.values()), metadatas=[{"i": i} for i in range(len(DOCS))])
    yield s
    s.close()


def test_analyze_splits_identifiers_folds_and_stems():
    assert oxvec.analyze("How do I read gzip-compressed files?") == ["how", "do", "i", "read", "gzip", "compress", "file"]
    assert oxvec.analyze("gzip.open read_file Café") == ["gzip", "open", "read", "file", "cafe"]
    assert oxvec.analyze("the and of") == []
    with pytest.raises(TypeError):
        oxvec.analyze(b"bytes")


def test_text_queries_default_to_hybrid_and_carry_both_sub_scores(store):
    r = store.search("how do I read a gzip compressed file", k=3)
    assert r["ids"][0][0] == "gzip.open"
    assert set(r) >= {"ids", "distances", "scores", "keyword_scores", "documents", "metadatas"}
    s, kw, d = r["scores"][0], r["keyword_scores"][0], r["distances"][0]
    assert s.dtype == np.float64 and np.all(np.diff(s) <= 0)  # best first
    assert np.isfinite(kw[0]) and np.isfinite(d[0])  # both sides found the top hit
    assert r["documents"][0][0] == DOCS["gzip.open"]


def test_keyword_mode_ranks_by_bm25_and_has_no_distances(store):
    r = store.search(["parse command line arguments", "copy a file"], k=2, mode="keyword")
    assert r["ids"][0][0] == "argparse" and r["ids"][1][0] == "shutil.copy"
    for s, kw, d in zip(r["scores"], r["keyword_scores"], r["distances"]):
        np.testing.assert_array_equal(s, kw.astype(np.float64))
        assert np.all(np.isnan(d))
    assert store.search("xylophone", mode="keyword")["ids"] == [[]]  # no shared word, no result


def test_filters_apply_to_both_sides(store):
    for mode in ("keyword", "hybrid", "vector"):
        r = store.search("file", k=10, mode=mode, filter={"i": {"$gte": 3}})
        assert r["ids"][0] and all(m["i"] >= 3 for m in r["metadatas"][0]), mode
    r = store.search("file", k=10, mode="keyword", where_document={"$contains": "ZIP"})
    assert r["ids"] == [["zipfile"]]


def test_fusion_options_change_the_ranking(store):
    q = "copy the gzip file"
    kw_only = store.search(q, k=6, fusion="convex", alpha=0.0)
    vec_only = store.search(q, k=6, fusion="convex", alpha=1.0)
    assert kw_only["ids"][0][0] == store.search(q, k=1, mode="keyword")["ids"][0][0]
    assert vec_only["ids"][0][0] == store.search(q, k=1, mode="vector")["ids"][0][0]
    z = store.search(q, k=6, fusion="convex", normalize="zscore")
    rrf = store.search(q, k=6, rrf_k=1, weights=(0.0, 1.0))
    assert set(z["ids"][0]) <= set(DOCS) and rrf["ids"][0][0] == kw_only["ids"][0][0]


def test_hybrid_with_explicit_vectors_and_text(tmp_path):
    emb = BagOfWords()
    with oxvec.VectorStore(tmp_path / "s", dim=64, metric="cosine") as s:  # no embedder
        s.add(list(DOCS), emb(list(DOCS.values())), documents=list(DOCS.values()))
        r = s.search(emb(["json document"]), k=2, mode="hybrid", text="json document")
        assert r["ids"][0][0] == "json.loads"
        with pytest.raises(TypeError, match="embedder"):
            s.search("json", mode="hybrid")


def test_keyword_index_follows_updates_deletes_and_reopen(tmp_path):
    path = tmp_path / "s"
    with oxvec.VectorStore(path, dim=64, metric="cosine", embedder=BagOfWords()) as s:
        s.add(list(DOCS), documents=list(DOCS.values()))
        s.update(["zipfile"], documents=["Work with tar archives."], embeddings=BagOfWords()(["tar archives"]))
        s.delete(["argparse"])
    for snapshot in (False, True):
        with oxvec.VectorStore(path) as s:
            assert s.search("ZIP", mode="keyword")["ids"] == [[]]
            assert s.search("tar", mode="keyword")["ids"] == [["zipfile"]]
            assert s.search("command line", mode="keyword")["ids"] == [[]]
            if not snapshot:
                s.snapshot()


def test_chroma_query_texts_stay_vector_search(store):
    r = store.query(query_texts=["gzip file"], n_results=2)
    assert "scores" not in r and np.all(np.isfinite(r["distances"][0]))


def test_documents_are_embedded_on_add(store):
    got = store.get(ids=["json.loads"], include=["embeddings"])
    np.testing.assert_allclose(got["embeddings"][0], BagOfWords()([DOCS["json.loads"]])[0], rtol=1e-6)
