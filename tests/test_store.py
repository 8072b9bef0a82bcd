"""VectorStore: records, filters, persistence, locking, encryption, backups,
pandas, and threads."""

import datetime
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import oxvec
from oxvec import _capi
from oxvec._library import lib
from conftest import ROOT

DIM = 8


def records(n, start=0, seed=0):
    rng = np.random.default_rng(seed + start)
    ids = [f"r{i}" for i in range(start, start + n)]
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    docs = [f"document number {i} about {'cats' if i % 3 == 0 else 'dogs'}" for i in range(start, start + n)]
    metas = [{"i": i, "even": i % 2 == 0, "score": i / 10, "tags": [f"t{i % 4}", "all"], "name": f"n{i % 7}"}
             for i in range(start, start + n)]
    return ids, x, docs, metas


@pytest.fixture
def store(tmp_path):
    s = oxvec.VectorStore(tmp_path / "s", dim=DIM)
    ids, x, docs, metas = records(200)
    s.add(ids, x, documents=docs, metadatas=metas)
    yield s
    s.close()


def test_records_survive_close_and_reopen_exactly(tmp_path):
    ids, x, docs, metas = records(50)
    metas[3] = None
    docs[4] = None
    with oxvec.VectorStore(tmp_path / "s", dim=DIM, metric="cosine", index={"type": "hnsw", "m": 8}) as s:
        s.add(ids, x, documents=docs, metadatas=metas)
        assert len(s) == 50
    with oxvec.VectorStore(tmp_path / "s") as s:
        assert (s.dim, s.metric, s.info()["index"]["type"]) == (DIM, "cosine", "hnsw")
        got = s.get(include=["documents", "metadatas", "embeddings"])
    assert got["ids"] == ids
    assert got["documents"] == docs
    assert got["metadatas"] == metas  # ints stay ints, floats floats, lists lists
    assert isinstance(got["metadatas"][10]["score"], float) and got["metadatas"][10]["score"] == 1.0
    np.testing.assert_array_equal(got["embeddings"], x)  # the vectors as given, bit for bit


def test_float32_embeddings_are_read_in_place(tmp_path, monkeypatch):
    ids, x, _, _ = records(10)
    seen = {}
    real = lib.oxv_store_write

    def spy(h, op, payload, x_addr, *rest):
        seen["x"] = x_addr
        return real(h, op, payload, x_addr, *rest)

    with oxvec.VectorStore(tmp_path / "s", dim=DIM) as s:
        monkeypatch.setattr(lib, "oxv_store_write", spy)
        s.add(ids, x)
    assert seen["x"] == x.ctypes.data


def test_add_rejects_an_existing_id_and_writes_nothing_of_the_batch(store):
    ids, x, _, _ = records(3, start=500)
    with pytest.raises(oxvec.DuplicateIdError, match="r1"):
        store.add(ids[:2] + ["r1"], x)
    assert len(store) == 200 and store.get(ids=ids)["ids"] == []
    with pytest.raises(oxvec.DuplicateIdError, match="twice"):
        store.add(["a", "a"], x[:2])


def test_upsert_replaces_whole_records_and_update_only_given_fields(store):
    _, x, _, _ = records(2, start=900)
    store.upsert(["r0", "new"], x, documents=["zero", "new doc"])
    r = store.get(ids=["r0", "new"], include=["documents", "metadatas", "embeddings"])
    assert r["documents"] == ["zero", "new doc"] and r["metadatas"] == [None, None]
    np.testing.assert_array_equal(r["embeddings"], x)
    store.update(["r1"], metadatas=[{"i": -1}])
    r = store.get(ids=["r1"], include=["documents", "metadatas"])
    assert r["metadatas"] == [{"i": -1}] and r["documents"] == ["document number 1 about dogs"]
    with pytest.raises(oxvec.NotFoundError, match="upsert"):
        store.update(["r2", "missing"], documents=["a", "b"])
    assert store.get(ids=["r2"])["documents"] == ["document number 2 about dogs"]  # nothing changed
    assert len(store) == 201


def test_delete_by_ids_and_by_filter(store):
    assert store.delete(["r0", "r1", "nope"]) == 2
    assert store.delete(filter={"i": {"$gte": 190}}) == 10
    assert store.delete(where_document={"$contains": "cats"}) == len([i for i in range(2, 190) if i % 3 == 0])
    left = store.get()["ids"]
    assert len(store) == len(left) and all(int(i[1:]) % 3 and int(i[1:]) < 190 for i in left)
    with pytest.raises(TypeError, match="filter"):
        store.delete()
    assert store.delete(filter={}) == len(left) and len(store) == 0


FILTERS = [
    {"even": True},
    {"i": {"$ne": 5}},
    {"score": {"$gt": 5.5}},
    {"i": {"$gte": 150}},
    {"score": {"$lt": 1}},
    {"i": {"$lte": 3}},
    {"name": {"$in": ["n1", "n2"]}},
    {"name": {"$nin": ["n1", "n2"]}},
    {"tags": "t2"},
    {"missing": {"$exists": False}},
    {"$and": [{"even": False}, {"i": {"$lt": 50}}]},
    {"$or": [{"name": "n3"}, {"i": {"$gt": 195}}]},
    {"$not": {"even": True}},
    {"name": "n1", "i": {"$gt": 100}},
]


def reference(meta, f):
    """The filter language, written out plainly in Python."""
    def field(v, cond):
        if not isinstance(cond, dict):
            cond = {"$eq": cond}
        for op, a in cond.items():
            vals = v if isinstance(v, list) else [v]
            ok = {
                "$eq": lambda: a in vals,
                "$ne": lambda: a not in vals,
                "$gt": lambda: any(x > a for x in vals),
                "$gte": lambda: any(x >= a for x in vals),
                "$lt": lambda: any(x < a for x in vals),
                "$lte": lambda: any(x <= a for x in vals),
                "$in": lambda: any(x in a for x in vals),
                "$nin": lambda: not any(x in a for x in vals),
                "$exists": lambda: (v is not None) == a,
            }[op]()
            if not ok:
                return False
        return True

    for k, cond in f.items():
        if k == "$and" and not all(reference(meta, c) for c in cond):
            return False
        if k == "$or" and not any(reference(meta, c) for c in cond):
            return False
        if k == "$not" and reference(meta, cond):
            return False
        if not k.startswith("$") and not field(meta.get(k), cond):
            return False
    return True


@pytest.mark.parametrize("f", FILTERS, ids=[json.dumps(f) for f in FILTERS])
def test_filters_match_a_plain_python_reference(store, f):
    _, _, _, metas = records(200)
    want = [f"r{m['i']}" for m in metas if reference(m, f)]
    assert store.get(filter=f)["ids"] == want


def test_filtered_search_is_exact_and_returns_k_whenever_k_match(tmp_path):
    ids, x, _, metas = records(2000)
    rng = np.random.default_rng(7)
    q = rng.standard_normal((5, DIM)).astype(np.float32)
    for index in ("flat", {"type": "hnsw", "ef_search": 400}):
        with oxvec.VectorStore(tmp_path / json.dumps(index).replace('"', ""), dim=DIM, index=index) as s:
            s.add(ids, x, metadatas=metas)
            for f, k in (({"name": "n3"}, 10), ({"i": {"$lt": 7}}, 10), ({"i": {"$in": [4, 1500]}}, 3)):
                allowed = np.array([reference(m, f) for m in metas])
                r = s.search(q, k=k, filter=f, include=[])
                for row, (got, dist) in enumerate(zip(r["ids"], r["distances"])):
                    d = ((x[allowed] - q[row]) ** 2).sum(1)
                    want = np.array(ids)[allowed][np.argsort(d, kind="stable")][:k]
                    assert len(got) == min(k, allowed.sum())
                    assert set(got) == set(want), (index, f)
                    np.testing.assert_allclose(dist, np.sort(d)[:k], rtol=1e-4, atol=1e-5)


def test_search_includes_and_chroma_query(store):
    ids, x, docs, metas = records(200)
    r = store.search(x[7], k=2, include=["documents", "metadatas", "embeddings"])
    assert r["ids"][0][0] == "r7" and r["distances"][0][0] == 0
    assert r["documents"][0][0] == docs[7] and r["metadatas"][0][0] == metas[7]
    np.testing.assert_array_equal(r["embeddings"][0][0], x[7])
    c = store.query(query_embeddings=x[[7, 8]], n_results=1, where={"even": False})
    odd = np.arange(1, 200, 2)
    nearest_odd_to_8 = odd[np.argmin(((x[odd] - x[8]) ** 2).sum(1))]
    assert c["ids"] == [["r7"], [f"r{nearest_odd_to_8}"]]
    assert set(c) == {"ids", "distances", "documents", "metadatas"}


def test_get_pages_and_peek(store):
    assert store.get(limit=3, offset=5)["ids"] == ["r5", "r6", "r7"]
    assert store.get(limit=0)["ids"] == []
    assert store.get(filter={"even": True}, limit=2, offset=1)["ids"] == ["r2", "r4"]
    assert store.get(ids=["r9", "r3"], filter={"even": False})["ids"] == ["r9", "r3"]
    p = store.peek(4)
    assert p["ids"] == ["r0", "r1", "r2", "r3"] and p["embeddings"].shape == (4, DIM)


@pytest.mark.parametrize("call,error,text", [
    (lambda s: s.add(["a"], np.zeros((1, DIM + 1))), oxvec.DimensionError, "dim"),
    (lambda s: s.add(["a"], np.full((1, DIM), np.nan)), oxvec.InvalidArgumentError, "NaN"),
    (lambda s: s.add(["a", "b"], np.zeros((1, DIM))), oxvec.InvalidArgumentError, "1 embeddings for 2 ids"),
    (lambda s: s.add([1], np.zeros((1, DIM))), TypeError, "str"),
    (lambda s: s.add([""], np.zeros((1, DIM))), oxvec.InvalidArgumentError, "empty"),
    (lambda s: s.add(["a"], np.zeros((1, DIM)), metadatas=[{"x": float("nan")}]), oxvec.InvalidArgumentError, "finite"),
    (lambda s: s.add(["a"], np.zeros((1, DIM)), metadatas=[{"x": {"nested": 1}}]), oxvec.InvalidArgumentError, "x"),
    (lambda s: s.add(["a"], np.zeros((1, DIM)), metadatas=["text"]), TypeError, "dict"),
    (lambda s: s.add(["a"]), oxvec.InvalidArgumentError, "embeddings are required"),
    (lambda s: s.get(filter={"i": {"$near": 3}}), oxvec.InvalidArgumentError, r"\$near"),
    (lambda s: s.get(filter={"$xor": []}), oxvec.InvalidArgumentError, r"\$xor"),
    (lambda s: s.get(filter={"i": {"$gt": True}}), oxvec.InvalidArgumentError, "number or a string"),
    (lambda s: s.get(include=["vectors"]), oxvec.InvalidArgumentError, "include"),
    (lambda s: s.search(np.zeros(DIM), k=0), oxvec.InvalidArgumentError, "k"),
    (lambda s: s.search("text", mode="vector"), TypeError, "embedder"),
    (lambda s: s.search("text", mode="semantic"), ValueError, "mode"),
    (lambda s: s.search(np.zeros(DIM), mode="keyword"), TypeError, "texts"),
    (lambda s: s.search(np.zeros(DIM), mode="hybrid"), TypeError, "texts"),
    (lambda s: s.search(np.zeros((2, DIM)), mode="hybrid", text=["one"]), ValueError, "one text per query"),
    (lambda s: s.search("text", fusion="max"), oxvec.InvalidArgumentError, "fusion"),
    (lambda s: s.search("text", k1=-1.0), oxvec.InvalidArgumentError, "k1"),
    (lambda s: s.get(filter={"a": 1}, where={"a": 1}), TypeError, "not both"),
])
def test_bad_input_raises_clear_errors_and_changes_nothing(store, call, error, text):
    before = store.last_seq
    with pytest.raises(error, match=text):
        call(store)
    assert store.last_seq == before and len(store) == 200


def test_opening_checks_what_the_caller_expects(tmp_path):
    with pytest.raises(FileNotFoundError, match="dim"):
        oxvec.VectorStore(tmp_path / "none")
    oxvec.VectorStore(tmp_path / "s", dim=4, metric="cos").close()  # an alias, stored canonical
    oxvec.VectorStore(tmp_path / "s", dim=4, metric="cosine").close()
    with pytest.raises(oxvec.InvalidArgumentError, match="dim 4"):
        oxvec.VectorStore(tmp_path / "s", dim=5)
    with pytest.raises(oxvec.InvalidArgumentError, match="index"):
        oxvec.VectorStore(tmp_path / "s", dim=4, metric="cosine", index="hnsw")
    with pytest.raises(oxvec.InvalidArgumentError, match="durability"):
        oxvec.VectorStore(tmp_path / "s", durability="sometimes")
    with pytest.raises(oxvec.InvalidArgumentError, match="unknown"):
        oxvec.VectorStore(tmp_path / "t", dim=4, metric="nope")
    assert not os.path.exists(tmp_path / "t" / "MANIFEST")
    s = oxvec.VectorStore(tmp_path / "s")
    s.close()
    with pytest.raises(oxvec.ClosedError):
        s.count()


CHILD = r"""
import sys, oxvec
try:
    oxvec.VectorStore(sys.argv[1])
    print("opened")
except oxvec.StateError as e:
    print("StateError", e)
r = oxvec.VectorStore(sys.argv[1], read_only=True)
print("read-only", len(r))
try:
    r.add(["x"], [[0.0] * 8])
except oxvec.StateError as e:
    print("read-only refused")
"""


def test_a_second_process_cannot_write_but_can_read(store):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    out = subprocess.run([sys.executable, "-c", CHILD, store.path], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("StateError") and "read_only" in lines[0]
    assert lines[1:] == ["read-only 200", "read-only refused"]


def test_encrypted_store_keeps_no_plaintext_on_disk(tmp_path):
    key = tmp_path / "key"
    key.write_bytes(os.urandom(32))
    ids, x, docs, metas = records(100)
    secret = "the launch code is 0451"
    docs[0] = secret
    path = tmp_path / "enc"
    with oxvec.VectorStore(path, dim=DIM, key_file=key, snapshot_every=-1) as s:
        s.add(ids[:50], x[:50], documents=docs[:50], metadatas=metas[:50])
        s.snapshot()
        s.add(ids[50:], x[50:], documents=docs[50:], metadatas=metas[50:])  # in the WAL
    blobs = b"".join(p.read_bytes() for p in path.rglob("*") if p.is_file())
    assert secret.encode() not in blobs and b"document number" not in blobs and b"r17" not in blobs
    for row in x:
        assert row.tobytes()[:8] not in blobs  # no vector's first two floats
    with pytest.raises(oxvec.InvalidArgumentError, match="encrypted"):
        oxvec.VectorStore(path)
    other = tmp_path / "other"
    other.write_bytes(os.urandom(32))
    with pytest.raises(oxvec.InvalidArgumentError, match="wrong key"):
        oxvec.VectorStore(path, key_file=other)
    os.environ["OXVEC_TEST_KEY"] = key.read_bytes().hex()
    try:
        with oxvec.VectorStore(path, key_env="OXVEC_TEST_KEY") as s:
            assert s.get(ids=["r0"])["documents"] == [secret] and len(s) == 100
    finally:
        del os.environ["OXVEC_TEST_KEY"]


def test_backup_and_point_in_time_restore(tmp_path):
    s = oxvec.VectorStore(tmp_path / "s", dim=DIM)
    ids, x, docs, _ = records(30)
    s.add(ids[:10], x[:10])
    first = s.last_seq
    s.backup(tmp_path / "bk")
    s.add(ids[10:20], x[10:20])
    middle_time = datetime.datetime.now()
    s.delete(["r0"])
    s.add(ids[20:], x[20:], documents=docs[20:])
    info = s.backup(tmp_path / "bk")
    assert info["copied"] >= 1 and info["kept"] >= 1 and info["last_seq"] == s.last_seq
    s.close()
    for until, n in ((first, 10), (middle_time, 20), (None, 29)):
        out = oxvec.restore(tmp_path / "bk", tmp_path / f"r{n}", until=until)
        with oxvec.VectorStore(out) as r:
            assert len(r) == n
    with pytest.raises(oxvec.InvalidArgumentError, match="not empty"):
        oxvec.restore(tmp_path / "bk", tmp_path / "r10")
    seg = sorted((tmp_path / "bk").glob("wal-*.log"))[-1]
    damaged = bytearray(seg.read_bytes())
    damaged[20] ^= 0xFF
    seg.write_bytes(bytes(damaged))
    with pytest.raises(oxvec.CorruptFileError, match="SHA-256"):
        oxvec.restore(tmp_path / "bk", tmp_path / "bad")
    with pytest.raises(TypeError):
        oxvec.restore(tmp_path / "bk", tmp_path / "bad", until=1.5)


def test_damaged_files_give_clear_errors_not_silent_loss(tmp_path):
    path = tmp_path / "s"
    ids, x, _, _ = records(30)
    with oxvec.VectorStore(path, dim=DIM, snapshot_every=-1) as s:
        s.add(ids[:10], x[:10])
        s.snapshot()
        for i in range(10, 30, 5):
            s.add(ids[i:i + 5], x[i:i + 5])
    seg = sorted(path.glob("wal-*.log"))[-1]
    data = bytearray(seg.read_bytes())
    data[40] ^= 0xFF  # inside the first of four records
    seg.write_bytes(bytes(data))
    with pytest.raises(oxvec.CorruptFileError, match="valid records follow it") as e:
        oxvec.VectorStore(path)
    assert "Restore from a backup" in str(e.value) and seg.read_bytes() == bytes(data)  # nothing changed on disk
    data[40] ^= 0xFF
    end = len(bytes(data).rstrip(b"\0"))
    data[end - 7:end] = bytes(7)  # the last record's end lost; after a clean close that is corruption
    seg.write_bytes(bytes(data))
    with pytest.raises(oxvec.CorruptFileError, match="closed cleanly after change 5"):
        oxvec.VectorStore(path)
    with pytest.warns(oxvec.RecoveryWarning), oxvec.VectorStore(path, recovery="point_in_time") as s:
        assert len(s) == 25
    snap = next(path.glob("snap-*/records.zst"))
    snap.write_bytes(snap.read_bytes()[:-1] + b"?")
    with pytest.raises(oxvec.CorruptFileError, match="records.zst"):
        oxvec.VectorStore(path)


def test_pandas_round_trip(store, tmp_path):
    pd = pytest.importorskip("pandas")
    df = store.to_pandas()
    assert list(df.columns[:3]) == ["id", "document", "embedding"] and len(df) == 200
    assert df.loc[5, "i"] == 5 and df.loc[5, "tags"] == ["t1", "all"]
    copy = oxvec.VectorStore.from_pandas(df, tmp_path / "copy", metric="l2")
    try:
        a, b = store.get(include=["documents", "metadatas", "embeddings"]), copy.get(include=["documents", "metadatas", "embeddings"])
        assert a["ids"] == b["ids"] and a["documents"] == b["documents"] and a["metadatas"] == b["metadatas"]
        np.testing.assert_array_equal(a["embeddings"], b["embeddings"])
    finally:
        copy.close()
    frame = pd.DataFrame({"vec": [np.ones(3), np.zeros(3)], "label": ["x", None]}, index=[10, 11])
    with oxvec.VectorStore.from_pandas(frame, tmp_path / "f", vector_column="vec") as s:
        assert s.get(include=["metadatas"]) == {"ids": ["10", "11"], "metadatas": [{"label": "x"}, None]}


def test_embedder_turns_documents_and_text_queries_into_vectors(tmp_path):
    def embed(texts):  # a plain function is an embedder
        return np.array([[len(t), t.count("a"), 1, 0] for t in texts], np.float32)

    with oxvec.VectorStore(tmp_path / "s", dim=4, embedder=embed) as s:
        s.add(["short", "long"], documents=["a", "a much longer text"])
        assert s.search("b", k=1, include=[])["ids"] == [["short"]]
        assert s.search(["a longer text than the short one"], k=1, include=[])["ids"] == [["long"]]


def test_many_threads_read_while_one_writes(tmp_path):
    s = oxvec.VectorStore(tmp_path / "s", dim=DIM, index="hnsw", durability="interval")
    ids, x, docs, metas = records(400)
    s.add(ids[:100], x[:100], metadatas=metas[:100])
    errors = []
    done = threading.Event()

    def writer():
        try:
            for start in range(100, 400, 20):
                s.add(ids[start:start + 20], x[start:start + 20], metadatas=metas[start:start + 20])
                s.delete([ids[start - 50]])
        except Exception as e:
            errors.append(e)
        finally:
            done.set()

    def reader():
        try:
            while not done.is_set():
                r = s.search(x[:4], k=5, filter={"even": True}, include=["metadatas"])
                assert all(m["even"] for row in r["metadatas"] for m in row)
                assert all(len(row) == 5 for row in r["ids"])
                s.get(filter={"i": {"$lt": 10}})
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(s) == 400 - 15
    s.close()
