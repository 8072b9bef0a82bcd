"""oxvec.migrate against the real libraries: faiss, hnswlib and Annoy write
their files here, oxvec reads them, and the migrated index must answer as
the library did (exactly where the search is exact or the same lists are
scanned; at equal ef with recall >= 0.99 against the library's own results
where a graph is walked), keep ids and structure, and write faiss files that
faiss reads back with the same answers. Damaged files raise CorruptFileError,
unknown faiss types UnsupportedError; nothing crashes."""

import subprocess
import sys

import numpy as np
import pytest

import oxvec

faiss = pytest.importorskip("faiss")
hnswlib = pytest.importorskip("hnswlib")
annoy = pytest.importorskip("annoy")

K = 10


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    faiss.omp_set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    """bigann-10k when it is there (uint8 SIFT as float32: many exact
    distance ties), else clustered Gaussian data of the same shape."""
    from conftest import SHARED

    d = SHARED / "bigann-10k"
    if d.exists():
        return np.load(d / "base.npy").astype("float32"), np.load(d / "queries.npy")[:200].astype("float32")
    rng = np.random.default_rng(24)
    c = rng.standard_normal((50, 128)) * 10
    x = (c[rng.integers(0, 50, 9200)] + rng.standard_normal((9200, 128))).astype("float32")
    return x[:9000], x[9000:]


def overlap(a, b):
    """Mean share of each row of a found in the same row of b."""
    return float(np.mean([len(set(r) & set(s)) / len(r) for r, s in zip(a, b)]))


def assert_same_results(ids, dist, f_ids, f_dist, ip=False):
    """Exact results agree: the same distances (oxvec's ip distance is
    1 - faiss's inner product), and the same ids wherever the distance is
    not tied with the k-th (ties may be broken differently)."""
    ours = 1 - dist if ip else dist
    np.testing.assert_allclose(ours, f_dist, rtol=1e-4, atol=1e-3)
    for r in range(len(ids)):
        tol = 1e-3 * max(1.0, abs(float(f_dist[r, -1])))
        inside = np.abs(f_dist[r] - f_dist[r, -1]) > tol
        assert set(ids[r][inside]) == set(f_ids[r][inside]), r


def write(idx, path):
    faiss.write_index(idx, str(path))
    return path


def test_import_oxvec_imports_none_of_the_libraries():
    code = "import sys, oxvec, oxvec.migrate; print([m for m in ('faiss', 'hnswlib', 'annoy') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_faiss_flat_gives_faiss_results_exactly(tmp_path, data, metric):
    x, q = data
    f = faiss.IndexFlatL2(x.shape[1]) if metric == "l2" else faiss.IndexFlatIP(x.shape[1])
    f.add(x)
    idx = oxvec.migrate.from_faiss(write(f, tmp_path / "flat.faiss"))
    assert isinstance(idx, oxvec.Flat) and len(idx) == len(x) and idx.metric == metric
    fd, fi = f.search(q, K)
    ids, dist = idx.search(q, K)
    assert_same_results(ids, dist, fi, fd, ip=metric == "ip")


@pytest.mark.parametrize("wrapper", ["IndexIDMap", "IndexIDMap2"])
def test_faiss_id_maps_keep_their_ids(tmp_path, data, wrapper):
    x, q = data
    x = x[:3000]
    ids_in = np.arange(len(x), dtype="int64") * 7 + 11
    for inner in (faiss.IndexFlatL2(x.shape[1]), faiss.IndexHNSWFlat(x.shape[1], 8)):
        f = getattr(faiss, wrapper)(inner)
        f.add_with_ids(x, ids_in)
        idx = oxvec.migrate.from_faiss(write(f, tmp_path / "map.faiss"))
        fd, fi = f.search(q, K)
        ids, dist = idx.search(q, K, **({"ef": 64} if isinstance(idx, oxvec.HNSW) else {}))
        assert set(np.unique(ids)) <= set(ids_in)
        if isinstance(idx, oxvec.Flat):
            assert_same_results(ids, dist, fi, fd)
        else:
            inner.hnsw.efSearch = 64
            fd, fi = f.search(q, K)
            assert overlap(ids, fi) >= 0.99
        found, _ = idx.search(x[:5], 1)
        np.testing.assert_array_equal(found[:, 0], ids_in[:5])


def test_faiss_repeated_ids_are_unsupported(tmp_path):
    # faiss accepts an id twice; oxvec keeps one vector per id
    f = faiss.IndexIDMap(faiss.IndexFlatL2(4))
    f.add_with_ids(np.eye(4, dtype="float32"), np.array([1, 2, 2, 3]))
    with pytest.raises(oxvec.UnsupportedError, match="one vector per id"):
        oxvec.migrate.from_faiss(write(f, tmp_path / "dup.faiss"))


def faiss_graph(f):
    """(levels, offsets, neighbours, entry) of a faiss IndexHNSW."""
    h = f.hnsw
    v = faiss.vector_to_array
    return v(h.levels), v(h.offsets), v(h.neighbors), h.entry_point, h.max_level


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_faiss_hnsw_keeps_the_graph_and_answers_as_faiss(tmp_path, data, metric):
    x, q = data
    if metric == "ip":
        x, q = x[:4000] / 500, q / 500
    f = faiss.IndexHNSWFlat(x.shape[1], 16, faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT)
    f.add(x)
    path = write(f, tmp_path / "hnsw.faiss")
    idx = oxvec.migrate.from_faiss(path)
    assert isinstance(idx, oxvec.HNSW) and len(idx) == len(x) and idx.metric == metric
    for ef in (16, 64):
        f.hnsw.efSearch = ef
        _, fi = f.search(q, K)
        ids, _ = idx.search(q, K, ef=ef)
        assert overlap(ids, fi) >= 0.99, ef
    # the graph itself: written back by oxvec, faiss sees its own edges
    oxvec.migrate.to_faiss(idx, tmp_path / "back.faiss")
    back = faiss.read_index(str(tmp_path / "back.faiss"))
    for a, b in zip(faiss_graph(f), faiss_graph(back)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("nlist,rows", [(64, 9000), (1024, 200)])  # "full" and "sprs" list layouts
def test_faiss_ivf_flat_scans_the_same_lists(tmp_path, data, nlist, rows):
    x, q = data
    f = faiss.IndexIVFFlat(faiss.IndexFlatL2(x.shape[1]), x.shape[1], nlist)
    f.train(x[: max(nlist * 4, 4000)])
    f.add_with_ids(x[:rows], np.arange(rows, dtype="int64") * 3)
    idx = oxvec.migrate.from_faiss(write(f, tmp_path / "ivf.faiss"))
    assert isinstance(idx, oxvec.IVFFlat) and len(idx) == rows
    for nprobe in (1, 8):
        f.nprobe = nprobe
        idx.nprobe = nprobe
        fd, fi = f.search(q, K)
        ids, dist = idx.search(q, K)
        valid = fi[:, -1] >= 0  # rows faiss filled: a few probed cells may hold fewer than k
        assert_same_results(ids[valid], dist[valid], fi[valid], fd[valid])


def test_faiss_ivf_with_an_hnsw_quantizer_keeps_its_centroids(tmp_path, data):
    x, q = data
    quantizer = faiss.IndexHNSWFlat(x.shape[1], 8)
    f = faiss.IndexIVFFlat(quantizer, x.shape[1], 64)
    f.train(x)
    f.add(x)
    f.nprobe = 64  # every list: the cells found cannot differ
    quantizer.hnsw.efSearch = 256  # faiss's HNSW quantizer then finds all 64 cells (oxvec's is exact)
    idx = oxvec.migrate.from_faiss(write(f, tmp_path / "ivf_hnsw.faiss"))
    idx.nprobe = 64
    fd, fi = f.search(q, K)
    ids, dist = idx.search(q, K)
    assert_same_results(ids, dist, fi, fd)


@pytest.mark.parametrize("nbits", [8, 4])
def test_faiss_ivfpq_keeps_codebook_and_codes(tmp_path, data, nbits):
    x, q = data
    f = faiss.IndexIVFPQ(faiss.IndexFlatL2(x.shape[1]), x.shape[1], 32, 8, nbits)
    f.train(x[:3000])
    f.add(x)
    f.nprobe = 4
    idx = oxvec.migrate.from_faiss(write(f, tmp_path / "ivfpq.faiss"))
    assert isinstance(idx, oxvec.IVFPQ) and len(idx) == len(x)
    idx.nprobe = 4
    fd, fi = f.search(q, K)
    ids, dist = idx.search(q, K)
    # the same codes, centroids and cells: the same ADC distances
    np.testing.assert_allclose(dist, fd, rtol=1e-3, atol=1e-1)
    assert overlap(ids, fi) >= 0.99


def test_faiss_pq_keeps_its_codes(tmp_path, data):
    x, q = data
    f = faiss.IndexPQ(x.shape[1], 8, 8)
    f.train(x[:3000])
    f.add(x)
    idx = oxvec.migrate.from_faiss(write(f, tmp_path / "pq.faiss"))
    assert isinstance(idx, oxvec.PQ)
    fd, fi = f.search(q, K)
    ids, dist = idx.search(q, K)
    np.testing.assert_allclose(dist, fd, rtol=1e-3, atol=1e-1)
    assert overlap(ids, fi) >= 0.99


@pytest.mark.parametrize("qtype", ["QT_8bit", "QT_4bit", "QT_8bit_uniform", "QT_4bit_uniform"])
def test_faiss_scalar_quantizer_codes_decode_as_in_faiss(tmp_path, qtype):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3000, 33)).astype("float32")  # odd dim: 4-bit codes end in half a byte
    q = rng.standard_normal((50, 33)).astype("float32")
    f = faiss.IndexScalarQuantizer(33, getattr(faiss.ScalarQuantizer, qtype))
    f.train(x)
    f.add(x)
    idx = oxvec.migrate.from_faiss(write(f, tmp_path / "sq.faiss"))
    assert isinstance(idx, oxvec.ScalarQuantizer)
    fd, fi = f.search(q, K)
    ids, dist = idx.search(q, K)
    assert_same_results(ids, dist, fi, fd)


def hnswlib_file(path, dim):
    """hnswlib's own saveIndex layout, read with numpy (independently of
    the engine): labels, deleted flags and each node's level-0 list."""
    b = np.fromfile(path, np.uint8)
    head = b[:96]
    count, per, label_off = (int(v) for v in head[16:40].view(np.uint64))
    max_m0 = int(head[64:72].view(np.uint64)[0])
    blocks = b[96 : 96 + count * per].reshape(count, per)
    labels = blocks[:, label_off : label_off + 8].copy().view(np.uint64)[:, 0].astype(np.int64)
    deleted = (blocks[:, 2] & 1).astype(bool)
    n0 = blocks[:, 0:2].copy().view(np.uint16)[:, 0]
    links = blocks[:, 4 : 4 + 4 * max_m0].copy().view(np.uint32)
    return labels, deleted, [links[i, : n0[i]] for i in range(count)]


@pytest.mark.parametrize("space", ["l2", "ip", "cosine"])
def test_hnswlib_graph_labels_kept_and_deleted_dropped(tmp_path, data, space):
    x, q = data
    x = x[:4000]
    if space != "l2":  # inner products of SIFT's large values saturate; unit scale
        x = x / np.linalg.norm(x, axis=1, keepdims=True).max()
        q = q / np.linalg.norm(q, axis=1, keepdims=True).max()
    g = hnswlib.Index(space, x.shape[1])
    g.init_index(len(x), M=12, ef_construction=100, random_seed=3)
    labels_in = np.arange(len(x)) * 5 + 2
    g.add_items(x, labels_in, num_threads=1)
    gone = labels_in[::97]
    for lab in gone:
        g.mark_deleted(int(lab))
    path = tmp_path / "g.bin"
    g.save_index(str(path))
    idx = oxvec.migrate.from_hnswlib(path, space, x.shape[1])
    assert isinstance(idx, oxvec.HNSW) and len(idx) == len(x) - len(gone)
    g.set_ef(80)
    fi, _ = g.knn_query(q, K, num_threads=1)
    ids, _ = idx.search(q, K, ef=80)
    assert not set(ids.ravel()) & set(gone)
    assert overlap(ids, fi) >= 0.99
    # edges: every node whose list named no deleted node keeps its list
    labels, deleted, lists = hnswlib_file(path, x.shape[1])
    oxvec.migrate.to_faiss(idx, tmp_path / "back.faiss")
    back = faiss.read_index(str(tmp_path / "back.faiss"))  # an IDMap2: labels are not 0..n-1
    id_map = faiss.vector_to_array(back.id_map)
    pos = {int(lab): i for i, lab in enumerate(id_map)}
    levels, offsets, nbrs, _, _ = faiss_graph(faiss.downcast_index(back.index))
    checked = 0
    for node in range(len(labels)):
        if deleted[node] or deleted[lists[node]].any():
            continue
        p = pos[int(labels[node])]
        ours = nbrs[offsets[p] : offsets[p] + 24]
        ours = ours[ours >= 0]
        assert sorted(id_map[ours]) == sorted(labels[lists[node]]), node
        checked += 1
    assert checked > len(labels) // 2


@pytest.mark.parametrize("metric,ours", [("angular", "cosine"), ("euclidean", "euclidean"), ("dot", "ip")])
def test_annoy_items_fill_the_index_of_your_choice(tmp_path, data, metric, ours):
    x, q = data
    x = x[:3000] / 100
    a = annoy.AnnoyIndex(x.shape[1], metric)
    for i in range(0, len(x), 2):  # even item numbers only: ids kept, gaps skipped
        a.add_item(i, x[i])
    a.build(8, n_jobs=1)
    path = tmp_path / "a.ann"
    a.save(str(path))
    flat = oxvec.migrate.from_annoy(path, x.shape[1], metric)
    assert isinstance(flat, oxvec.Flat) and flat.metric == ours and len(flat) == len(x) // 2
    got = flat.get_vectors(np.arange(0, len(x), 2))
    np.testing.assert_allclose(got if ours != "cosine" else got / np.linalg.norm(got, axis=1, keepdims=True),
                               x[::2] if ours != "cosine" else x[::2] / np.linalg.norm(x[::2], axis=1, keepdims=True), rtol=1e-6)
    exact, _ = flat.search(q / 100, K)
    annoy_ids = np.array([a.get_nns_by_vector(v, K, search_k=len(x) * 8) for v in q / 100])
    assert overlap(annoy_ids, exact) >= 0.95  # Annoy is approximate; exhaustive-ish search_k
    h = oxvec.migrate.from_annoy(path, x.shape[1], metric, into=oxvec.HNSW(x.shape[1], metric=ours))
    ids, _ = h.search(q / 100, K, ef=100)
    assert overlap(ids, exact) >= 0.95


def test_annoy_metric_must_match_the_target(tmp_path):
    a = annoy.AnnoyIndex(4, "angular")
    a.add_item(0, [1, 2, 3, 4])
    a.add_item(1, [1, 0, 3, 4])
    a.build(2)
    a.save(str(tmp_path / "a.ann"))
    with pytest.raises(oxvec.InvalidArgumentError, match="cosine"):
        oxvec.migrate.from_annoy(tmp_path / "a.ann", 4, "angular", into=oxvec.Flat(4))
    with pytest.raises(ValueError, match="metric must be"):
        oxvec.migrate.from_annoy(tmp_path / "a.ann", 4, "hamming")
    with pytest.raises(oxvec.CorruptFileError, match="another dim or metric"):
        oxvec.migrate.from_annoy(tmp_path / "a.ann", 5, "angular")


def built_oxvec_indexes(x):
    d = x.shape[1]
    flat = oxvec.Flat(d)
    flat.add(x, ids=np.arange(len(x)) * 2 + 1)
    hnsw = oxvec.HNSW(d, m=12, ef_construction=80)
    hnsw.add(x)
    ivf = oxvec.IVFFlat(d, nlist=32)
    ivf.train(x)
    ivf.add(x)
    ivfpq = oxvec.IVFPQ(d, nlist=16, m=16, nbits=4)
    ivfpq.train(x)
    ivfpq.add(x)
    ip = oxvec.Flat(d, metric="ip")
    ip.add(x / 1000)
    return [flat, hnsw, ivf, ivfpq, ip]


def test_to_faiss_files_answer_in_faiss_as_in_oxvec(tmp_path, data):
    x, q = data
    x = x[:4000]
    for idx in built_oxvec_indexes(x):
        path = tmp_path / f"{type(idx).__name__}.faiss"
        if isinstance(idx, (oxvec.IVFFlat, oxvec.IVFPQ)):
            idx.nprobe = 4  # written into the file
        oxvec.migrate.to_faiss(idx, path)
        f = faiss.read_index(str(path))
        assert f.ntotal == len(idx) and f.d == idx.dim
        qq = q / 1000 if idx.metric == "ip" else q
        kw = {}
        if isinstance(idx, oxvec.HNSW):
            faiss.downcast_index(f).hnsw.efSearch = 64
            kw = {"ef": 64}
        if isinstance(idx, (oxvec.IVFFlat, oxvec.IVFPQ)):
            assert faiss.extract_index_ivf(f).nprobe == 4
        fd, fi = f.search(qq, K)
        ids, dist = idx.search(qq, K, **kw)
        if isinstance(idx, (oxvec.Flat, oxvec.IVFFlat)):
            assert_same_results(ids, dist, fi, fd, ip=idx.metric == "ip")
        else:
            assert overlap(ids, fi) >= 0.99, type(idx).__name__
        again = oxvec.migrate.from_faiss(path)  # and back again
        ids2, _ = again.search(qq, K, **kw) if not isinstance(again, (oxvec.IVFFlat, oxvec.IVFPQ)) else again.search(qq, K)
        if isinstance(again, (oxvec.IVFFlat, oxvec.IVFPQ)):
            assert again.nprobe == 4
        np.testing.assert_array_equal(ids2, ids)


def test_to_faiss_refuses_types_faiss_has_no_file_for(tmp_path):
    sq = oxvec.ScalarQuantizer(8)
    sq.train(np.random.default_rng(0).standard_normal((300, 8)).astype("float32"))
    with pytest.raises(oxvec.UnsupportedError, match="flat, hnsw, ivf_flat and ivf_pq"):
        oxvec.migrate.to_faiss(sq, tmp_path / "sq.faiss")
    with pytest.raises(oxvec.UnsupportedError, match="faiss has no metric"):
        oxvec.migrate.to_faiss(oxvec.Flat(8, metric="manhattan"), tmp_path / "m.faiss")


def test_unsupported_fourcc_is_named_with_the_supported_ones(tmp_path, data):
    x, _ = data
    for f in (faiss.IndexLSH(x.shape[1], 64), faiss.IndexHNSWSQ(x.shape[1], faiss.ScalarQuantizer.QT_8bit, 8),
              faiss.IndexScalarQuantizer(x.shape[1], faiss.ScalarQuantizer.QT_fp16)):
        f.train(x[:1000])
        f.add(x[:1000])
        path = write(f, tmp_path / "u.faiss")
        with pytest.raises(oxvec.UnsupportedError) as e:
            oxvec.migrate.from_faiss(path)
        msg = str(e.value)
        named = {"IndexLSH": '"IxHe"', "IndexHNSWSQ": '"IHNs"', "IndexScalarQuantizer": "type 4"}[type(f).__name__]
        supported = ("IHNf", "IwPQ", "IxM2") if named != "type 4" else ("QT_8bit", "QT_4bit_uniform")
        assert named in msg and all(s in msg for s in supported), msg


def test_damaged_and_truncated_files_raise_corrupt_file_error(tmp_path, data):
    x, _ = data
    x = x[:500]
    h = faiss.IndexHNSWFlat(x.shape[1], 8)
    h.add(x)
    ivf = faiss.IndexIVFPQ(faiss.IndexFlatL2(x.shape[1]), x.shape[1], 4, 8, 4)
    ivf.train(x)
    ivf.add(x)
    g = hnswlib.Index("l2", x.shape[1])
    g.init_index(len(x), M=8)
    g.add_items(x)
    g.save_index(str(tmp_path / "g.bin"))
    files = [(write(h, tmp_path / "h.faiss"), "faiss"), (write(ivf, tmp_path / "p.faiss"), "faiss"), (tmp_path / "g.bin", "hnswlib")]
    rng = np.random.default_rng(5)
    for path, kind in files:
        blob = path.read_bytes()
        opener = {
            "faiss": oxvec.migrate.from_faiss,
            "hnswlib": lambda p: oxvec.migrate.from_hnswlib(p, "l2", x.shape[1]),
        }[kind]
        bad = tmp_path / "bad"
        for cut in list(rng.integers(0, len(blob), 25)) + [0, 3, len(blob) - 1]:
            bad.write_bytes(blob[:cut])
            with pytest.raises(oxvec.CorruptFileError):
                opener(bad)
        # damage: counts and offsets in the headers set to huge values
        for at in range(0, 200, 8):
            b = bytearray(blob)
            b[at : at + 8] = b"\xff" * 8
            bad.write_bytes(bytes(b))
            try:
                opener(bad)
            except (oxvec.CorruptFileError, oxvec.UnsupportedError):
                pass
    with pytest.raises(FileNotFoundError):
        oxvec.migrate.from_faiss(tmp_path / "missing.faiss")
