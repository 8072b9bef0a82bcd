"""The caches of a store (issue 21): level 1 (search answers, in the engine,
never stale after a write, also under concurrent writers) and level 2 (query
texts' vectors, per embedder name, surviving writes). docs/monitoring.md."""

import threading
import time

import numpy as np
import pytest

import oxvec

D = 8


class CountingEmbedder:
    """A deterministic embedder that counts the texts it embeds."""

    dim = D

    def __init__(self, name="counting"):
        self.name = name
        self.calls = 0
        self.texts = 0

    def __call__(self, texts):
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), D), np.float32)
        for i, t in enumerate(texts):
            rng = np.random.default_rng(abs(hash(t)) % (2**32))
            out[i] = rng.standard_normal(D)
        return out


def store(tmp_path, cache, n=200, embedder=None, name="s"):
    s = oxvec.VectorStore(tmp_path / name, dim=D, durability="never", cache=cache, embedder=embedder)
    x = np.random.default_rng(0).standard_normal((n, D)).astype(np.float32)
    s.add([str(i) for i in range(n)], x, documents=[f"doc {i}" for i in range(n)],
          metadatas=[{"v": 0, "g": i % 4} for i in range(n)])
    return s, x


def results_level(s):
    return s.stats()["cache"]["results"]


def test_repeated_search_is_a_hit_until_a_write(tmp_path):
    s, x = store(tmp_path, oxvec.Cache(entries=16))
    a = s.search(x[3], k=4, filter={"g": 3})
    b = s.search(x[3], k=4, filter={"g": 3})
    assert a["ids"] == b["ids"] and results_level(s)["hits"] == 1 and results_level(s)["misses"] == 1
    s.search(x[3], k=5, filter={"g": 3})  # another k: another key
    s.search(x[3], k=4, filter={"g": 2})  # another filter
    s.search(x[3], k=4)
    assert results_level(s)["hits"] == 1 and results_level(s)["entries"] == 4
    s.update(["3"], metadatas=[{"v": 1, "g": 3}])
    c = s.search(x[3], k=4, filter={"g": 3})
    assert results_level(s)["hits"] == 1, "a write must make the old answer unservable"
    assert c["metadatas"][0][0] == {"v": 1, "g": 3}
    s.close()


def test_answers_expire_after_ttl(tmp_path):
    s, x = store(tmp_path, oxvec.Cache(entries=16, ttl=0.05))
    s.search(x[0], k=2)
    time.sleep(0.2)  # four TTLs: the entry is expired whatever the scheduling
    s.search(x[0], k=2)
    assert results_level(s)["hits"] == 0 and results_level(s)["misses"] == 2
    s.close()


def test_lru_bound(tmp_path):
    s, x = store(tmp_path, oxvec.Cache(entries=3))
    for i in range(10):
        s.search(x[i], k=2)
    assert results_level(s)["entries"] == 3
    s.search(x[9], k=2)
    s.search(x[0], k=2)  # evicted long ago
    assert results_level(s)["hits"] == 1
    s.close()


def test_no_stale_answer_under_concurrent_writers(tmp_path):
    s, x = store(tmp_path, oxvec.Cache(entries=64))
    stop = threading.Event()
    errors = []
    checked = [0]

    def writer(w):
        v = 0
        while not stop.is_set():
            v += 1
            s.update(["0"], metadatas=[{"v": v * 2 + w, "g": 0}])

    def reader():
        for _ in range(150):
            before = s.last_seq
            hit = s.search(x[0], k=3)
            now = s.get(["0"])
            if s.last_seq != before:
                continue  # a write came between the two reads
            checked[0] += 1
            if hit["ids"][0][0] != "0" or hit["metadatas"][0][0] != now["metadatas"][0]:
                errors.append((hit["metadatas"][0][0], now["metadatas"][0]))

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(2)]
    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in writers + readers:
        t.start()
    for t in readers:
        t.join()
    stop.set()
    for t in writers:
        t.join()
    assert not errors, errors[:3]
    assert checked[0] > 0
    s.close()


def test_embeddings_level_survives_writes_and_is_per_embedder(tmp_path):
    e = CountingEmbedder()
    cache = oxvec.Cache(entries=0, embeddings=100)
    s, _ = store(tmp_path, cache, embedder=e)
    s.search("what is a cat", k=3, mode="vector")
    s.search("what is a cat", k=3, mode="vector")
    s.add(["new"], documents=["a new doc"])  # a write: the vectors stay
    calls = e.texts
    s.search("what is a cat", k=3, mode="vector")
    assert e.texts == calls
    emb = s.stats()["cache"]["embeddings"]
    assert emb["hits"] == 2 and emb["misses"] == 1 and emb["entries"] == 1
    # another embedder with another name has its own vectors
    other = CountingEmbedder("other")
    s2, _ = store(tmp_path, cache, embedder=other, name="s2")
    s2.search("what is a cat", k=3, mode="vector")
    assert other.texts == 1
    assert 'level="embeddings"' in oxvec.metrics_text()
    s.close()
    s2.close()


def test_embeddings_level_bound_and_batches(tmp_path):
    e = CountingEmbedder()
    s, _ = store(tmp_path, oxvec.Cache(entries=0, embeddings=2), embedder=e)
    s.search(["a", "b", "c"], k=1, mode="vector")
    assert s.stats()["cache"]["embeddings"]["entries"] == 2
    r1 = s.search(["c", "a"], k=1, mode="vector")  # c is kept, a was evicted
    r2 = oxvec.VectorStore(tmp_path / "plain", dim=D, embedder=CountingEmbedder())
    r2.add([str(i) for i in range(200)], np.random.default_rng(0).standard_normal((200, D)).astype(np.float32))
    assert r1["ids"] == r2.search(["c", "a"], k=1, mode="vector")["ids"]
    s.close()
    r2.close()


def test_cache_arguments_checked(tmp_path):
    with pytest.raises(oxvec.InvalidArgumentError):
        oxvec.Cache(entries=-1)
    with pytest.raises(oxvec.InvalidArgumentError):
        oxvec.Cache(ttl=0)
    with pytest.raises(oxvec.InvalidArgumentError):
        oxvec.Cache(embeddings=1.5)
    with pytest.raises(TypeError):
        oxvec.VectorStore(tmp_path / "x", dim=2, cache={"entries": 3})
