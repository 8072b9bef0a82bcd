"""Jupyter-native objects: readable reprs and _repr_html_ of indexes and
stores, and search results as pandas DataFrames in one call."""

import numpy as np
import pytest

import oxvec


def test_index_reprs(rng):
    index = oxvec.HNSW(8, ef_search=77)
    index.add(rng.random((20, 8), dtype=np.float32))
    r = repr(index)
    assert "dim=8" in r and "ntotal=20" in r and "memory=" in r and "ef=77" in r
    h = index._repr_html_()
    for part in ("oxvec.HNSW", "hnsw", "l2", "20", "KiB", "ef=77"):
        assert part in h
    index.close()
    assert "closed" in index._repr_html_()


def test_store_reprs(tmp_path, rng):
    s = oxvec.VectorStore(tmp_path / "s", dim=4, index={"type": "ivf_flat", "nlist": 4}, train_after=50)
    s.add(["a"], rng.random((1, 4), dtype=np.float32))
    assert "phase='exact'" in repr(s) and "index='ivf_flat'" in repr(s)
    h = s._repr_html_()
    for part in ("oxvec.VectorStore", "ivf_flat", "exact", "nlist=4", "train_after", "50", "always"):
        assert part in h
    s.close()
    assert "closed" in s._repr_html_() and "closed" in repr(s)


def test_index_search_pandas(rng):
    pytest.importorskip("pandas")
    index = oxvec.Flat(4)
    x = rng.random((3, 4), dtype=np.float32)
    index.add(x)
    df = index.search_pandas(x[:2], k=5)  # 3 vectors: padding rows left out
    assert list(df.columns) == ["query", "rank", "id", "distance"]
    assert len(df) == 6 and df[df["rank"] == 0]["id"].tolist() == [0, 1]


def test_store_search_pandas(tmp_path, rng):
    pytest.importorskip("pandas")
    s = oxvec.VectorStore(tmp_path / "s", dim=4)
    s.add(["a", "b", "c"], rng.random((3, 4), dtype=np.float32), documents=["red fox", "blue fox", "green frog"],
          metadatas=[{"colour": "red"}, {"colour": "blue", "n": 2}, None])
    df = s.search_pandas(rng.random((2, 4), dtype=np.float32), k=3)
    assert list(df.columns) == ["query", "rank", "id", "distance", "document", "colour", "n"]
    assert len(df) == 6 and df["distance"].is_monotonic_increasing is not None
    kw = s.search_pandas("fox", k=3, mode="keyword")
    assert set(kw["id"]) == {"a", "b"} and {"score", "keyword_score"} <= set(kw.columns)
    s.close()
