"""VectorStore.from_faiss / from_hnswlib / from_annoy: a store made from a
file the real library wrote keeps the index's structure (the store answers
exactly as the migrated index does at equal ef / nprobe), holds the records
given (ids default to the file's ids), survives close + reopen with the same
answers and no replay, takes later writes, and refuses bad input without
leaving a half-made store directory."""

import numpy as np
import pytest

import oxvec

faiss = pytest.importorskip("faiss")
hnswlib = pytest.importorskip("hnswlib")
annoy = pytest.importorskip("annoy")

from test_migrate import assert_same_results, data, one_thread, write  # noqa: E402,F401 - fixtures reused

K = 10


def store_ids(res):
    return np.array([[int(i) for i in row] for row in res["ids"]])


def test_faiss_hnsw_store_keeps_the_graph_across_reopen(tmp_path, data):
    x, q = data
    x, q = x[:3000], q[:50]
    f = faiss.IndexHNSWFlat(x.shape[1], 16)
    f.hnsw.efConstruction = 40
    f.add(x)
    path = write(f, tmp_path / "h.faiss")
    mig = oxvec.migrate.from_faiss(path)
    want, _ = mig.search(q, K, ef=16)
    docs = [f"doc {i}" for i in range(len(x))]
    metas = [{"n": i, "even": i % 2 == 0} for i in range(len(x))]
    sp = tmp_path / "store"
    s = oxvec.VectorStore.from_faiss(path, sp, documents=docs, metadatas=metas)
    assert len(s) == len(x) and s.dim == x.shape[1] and s.metric == "l2"
    info = s.info()
    assert info["index"]["type"] == "hnsw" and info["index"]["m"] == 16 and info["recovery"]["replayed"] == 0
    assert np.array_equal(store_ids(s.search(q, K, ef=16)), want)  # the same graph walked
    got = s.get(["7"], include=["documents", "metadatas", "embeddings"])
    assert got["documents"] == ["doc 7"] and got["metadatas"] == [{"n": 7, "even": False}]
    np.testing.assert_array_equal(np.asarray(got["embeddings"])[0], x[7])
    s.close()
    s = oxvec.VectorStore(sp)
    rec = s.recovery
    assert rec["replayed"] == 0 and rec["clean_close"]  # loaded from the snapshot, nothing replayed
    assert np.array_equal(store_ids(s.search(q, K, ef=16)), want)
    # later writes
    s.add(["new"], np.zeros((1, x.shape[1]), "float32"), documents=["fresh"])
    assert s.delete(["0", "1"]) == 2
    assert len(s) == len(x) - 1
    r = s.search(np.zeros(x.shape[1], "float32"), 1)
    assert r["ids"][0] == ["new"]
    assert not {"0", "1"} & set(np.ravel(s.search(x[:2], K)["ids"]))
    s.close()


def test_faiss_idmap_flat_and_ivf_store_ids_and_answers(tmp_path, data):
    x, q = data
    x, q = x[:2000], q[:30]
    labels = np.arange(len(x), dtype="int64") * 3 + 11
    flat = faiss.IndexIDMap2(faiss.IndexFlatL2(x.shape[1]))
    flat.add_with_ids(x, labels)
    s = oxvec.VectorStore.from_faiss(write(flat, tmp_path / "f.faiss"), tmp_path / "sf")
    fd, fi = flat.search(q, K)
    r = s.search(q, K)
    assert_same_results(store_ids(r), np.array(r["distances"]), fi, fd)
    s.close()
    quant = faiss.IndexFlatL2(x.shape[1])
    ivf = faiss.IndexIVFFlat(quant, x.shape[1], 16)
    ivf.train(x)
    ivf.add_with_ids(x, labels)
    ivf.nprobe = 4
    path = write(ivf, tmp_path / "i.faiss")
    mig = oxvec.migrate.from_faiss(path)
    mi, md = mig.search(q, K)
    s = oxvec.VectorStore.from_faiss(path, tmp_path / "si", ids=[f"v{i}" for i in range(len(x))])
    assert s.info()["index"] == {"type": "ivf_flat", "nlist": 16, "nprobe": 4} and s.info()["phase"] == "indexed"
    r = s.search(q, K)
    # ids= name the vectors in the file's order: the inverted lists' order
    by_list = np.concatenate([faiss.rev_swig_ptr(ivf.invlists.get_ids(l), ivf.invlists.list_size(l)).copy()
                              for l in range(16)])
    label_of = {f"v{i}": int(lab) for i, lab in enumerate(by_list)}
    got = np.array([[label_of[k] for k in row] for row in r["ids"]])
    assert_same_results(got, np.array(r["distances"]), mi, md)
    s.close()


def test_hnswlib_store_keeps_graph_and_drops_deleted(tmp_path, data):
    x, q = data
    x, q = x[:3000], q[:50]
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    g = hnswlib.Index("cosine", x.shape[1])
    g.init_index(len(x), M=12, ef_construction=60, random_seed=3)
    labels = np.arange(len(x)) * 5 + 2
    g.add_items(x, labels, num_threads=1)
    gone = labels[::97]
    for lab in gone:
        g.mark_deleted(int(lab))
    path = tmp_path / "g.bin"
    g.save_index(str(path))
    mig = oxvec.migrate.from_hnswlib(path, "cosine", x.shape[1])
    want, _ = mig.search(q, K, ef=20)
    live = [lab for lab in labels if lab not in set(gone)]
    s = oxvec.VectorStore.from_hnswlib(path, "cosine", x.shape[1], tmp_path / "s",
                                       metadatas=[{"label": int(lab)} for lab in live])
    assert len(s) == len(live) and s.metric == "cosine"
    assert np.array_equal(store_ids(s.search(q, K, ef=20)), want)
    assert s.get([str(live[5])])["metadatas"] == [{"label": int(live[5])}]
    assert s.get([str(gone[0])])["ids"] == []
    s.close()
    s = oxvec.VectorStore(tmp_path / "s")
    assert s.recovery["replayed"] == 0
    assert np.array_equal(store_ids(s.search(q, K, ef=20)), want)
    s.upsert([str(live[0])], x[:1] * 0 + 1 / np.sqrt(x.shape[1]))
    s.close()


def test_annoy_store_adds_the_items_into_the_chosen_index(tmp_path, data):
    x, _ = data
    x = x[:1000] / 100
    a = annoy.AnnoyIndex(x.shape[1], "euclidean")
    for i in range(0, len(x), 2):
        a.add_item(i, x[i])
    a.build(4, n_jobs=1)
    a.save(str(tmp_path / "a.ann"))
    s = oxvec.VectorStore.from_annoy(tmp_path / "a.ann", x.shape[1], "euclidean", tmp_path / "s",
                                     index={"type": "hnsw", "m": 8})
    assert len(s) == len(x) // 2 and s.info()["index"]["type"] == "hnsw" and s.metric == "euclidean"
    r = s.search(x[10:20:2], 1)
    assert [row[0] for row in r["ids"]] == ["10", "12", "14", "16", "18"]
    s.close()
    assert len(oxvec.VectorStore(tmp_path / "s")) == len(x) // 2


def test_bad_input_raises_and_leaves_no_store(tmp_path, data):
    x, _ = data
    f = faiss.IndexFlatL2(x.shape[1])
    f.add(x[:100])
    path = write(f, tmp_path / "f.faiss")
    sp = tmp_path / "s"
    with pytest.raises(oxvec.InvalidArgumentError, match="documents"):
        oxvec.VectorStore.from_faiss(path, sp, documents=["a"] * 99)
    with pytest.raises(ValueError, match="metadatas"):
        oxvec.VectorStore.from_faiss(path, sp, metadatas=[{"a": 1}] * 101)
    with pytest.raises(ValueError):
        oxvec.VectorStore.from_faiss(path, sp, ids=["a"] * 100)  # repeated
    with pytest.raises(oxvec.InvalidArgumentError, match="from the index file"):
        oxvec.VectorStore.from_faiss(path, sp, dim=4)
    assert not sp.exists()
    raw = path.read_bytes()
    (tmp_path / "cut.faiss").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(oxvec.CorruptFileError):
        oxvec.VectorStore.from_faiss(tmp_path / "cut.faiss", sp)
    assert not sp.exists()
    with pytest.raises(FileNotFoundError):
        oxvec.VectorStore.from_faiss(tmp_path / "none.faiss", sp)
    # a directory that holds a store is refused and left as it was
    oxvec.VectorStore(sp, dim=x.shape[1]).close()
    with pytest.raises(oxvec.InvalidArgumentError, match="holds a store"):
        oxvec.VectorStore.from_faiss(path, sp)
    assert len(oxvec.VectorStore(sp)) == 0


def test_damaged_hnswlib_and_annoy_files_leave_no_store(tmp_path):
    x = np.random.default_rng(2).standard_normal((200, 8)).astype("float32")
    g = hnswlib.Index("l2", 8)
    g.init_index(len(x), M=8, ef_construction=20, random_seed=1)
    g.add_items(x, np.arange(len(x)), num_threads=1)
    g.save_index(str(tmp_path / "g.bin"))
    raw = (tmp_path / "g.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(raw[: len(raw) - 7])
    sp = tmp_path / "s"
    with pytest.raises(oxvec.CorruptFileError):
        oxvec.VectorStore.from_hnswlib(tmp_path / "cut.bin", "l2", 8, sp)
    with pytest.raises(oxvec.InvalidArgumentError, match="200"):
        oxvec.VectorStore.from_hnswlib(tmp_path / "g.bin", "l2", 8, sp, documents=["d"] * 3)
    with pytest.raises(ValueError, match="space"):
        oxvec.VectorStore.from_hnswlib(tmp_path / "g.bin", "hamming", 8, sp)
    a = annoy.AnnoyIndex(8, "angular")
    for i in range(50):
        a.add_item(i, x[i])
    a.build(2, n_jobs=1)
    a.save(str(tmp_path / "a.ann"))
    with pytest.raises(oxvec.InvalidArgumentError):
        oxvec.VectorStore.from_annoy(tmp_path / "a.ann", 8, "angular", sp, metadatas=[{"a": 1}] * 49)
    assert not sp.exists()
