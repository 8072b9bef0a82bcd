"""DiskANN (core/diskann) from Python: build to a file, load without reading
the vectors, search with l and beam_width, filters, remove + consolidate,
add + merge, the I/O counters, and damaged files."""

import numpy as np
import pytest

import oxvec
from conftest import brute_force


def recall(found, truth):
    k = truth.shape[1]
    return np.mean([len(set(f[:k]) & set(t)) / k for f, t in zip(found, truth)])


def clustered(rng, n, d, centres=24):
    c = rng.standard_normal((centres, d)) * 3
    return (c[rng.integers(0, centres, n)] + rng.standard_normal((n, d))).astype(np.float32)


@pytest.fixture
def data(rng):
    return clustered(rng, 1200, 16), clustered(rng, 30, 16)


def test_build_writes_the_file_and_load_reads_it_in_place(tmp_path, data):
    x, q = data
    path = tmp_path / "g.oxv"
    index = oxvec.DiskANN(16, r=24, l_build=48, path=path)
    index.build(x)
    assert path.exists() and len(index) == 1200 and index.path == str(path)
    truth, _ = brute_force(x, q, 10)
    ids, dist = index.search(q, 10, l=64)
    assert recall(ids, truth) >= 0.95
    assert np.all(np.diff(dist, axis=1) >= 0)
    index.close()
    again = oxvec.load(path)
    assert isinstance(again, oxvec.DiskANN)
    # memory holds codes, ids, a cache and the codebook (a fixed 36 KiB at
    # 16-d, most of it here): less than the vectors even at this size
    assert again.memory_bytes < x.nbytes
    again.stats(reset=True)
    ids2, _ = again.search(q, 10, l=64, beam_width=2)
    np.testing.assert_array_equal(ids2, ids)
    s = again.stats()
    assert s["queries"] == 30 and s["blocks_read"] > 0 and again.beam_width == 4  # the call's width only
    assert s["nodes_expanded"] >= 30 * 10
    again.drop_page_cache()


def test_build_from_a_memory_mapped_npy(tmp_path, data):
    x, q = data
    np.save(tmp_path / "x.npy", x)
    index = oxvec.DiskANN(16, r=24, l_build=48, path=tmp_path / "g.oxv", build_memory=40_000)
    index.build(str(tmp_path / "x.npy"))  # partitioned: the budget is below the graph's size
    truth, _ = brute_force(x, q, 10)
    assert recall(index.search(q, 10, l=64)[0], truth) >= 0.9


def test_build_needs_an_empty_index(data):
    x, _ = data
    index = oxvec.DiskANN(16, r=8, l_build=16)
    index.build(x[:300])
    with pytest.raises(oxvec.StateError, match="empty"):
        index.build(x)


def test_remove_then_consolidate(tmp_path, data):
    x, q = data
    index = oxvec.DiskANN(16, r=24, l_build=48, path=tmp_path / "g.oxv")
    index.build(x)
    gone = np.arange(0, 1200, 4)
    assert index.remove(gone) == 300
    keep = np.setdiff1d(np.arange(1200), gone)
    truth, _ = brute_force(x[keep], q, 10, ids=keep)
    ids, _ = index.search(q, 10, l=64)
    assert not np.isin(ids, gone).any() and recall(ids, truth) >= 0.9
    assert index.stats()["deleted"] == 300
    index.consolidate()
    s = index.stats()
    assert s["deleted"] == 0 and s["disk_nodes"] == 900 and len(index) == 900
    ids, _ = index.search(q, 10, l=64)
    assert not np.isin(ids, gone).any() and recall(ids, truth) >= 0.9
    assert len(oxvec.load(tmp_path / "g.oxv")) == 900


def test_add_goes_to_the_delta_until_merge(tmp_path, data):
    x, q = data
    index = oxvec.DiskANN(16, r=24, l_build=48, path=tmp_path / "g.oxv")
    index.build(x[:900])
    index.add(x[900:])
    assert index.stats()["delta_nodes"] == 300 and len(index) == 1200
    truth, _ = brute_force(x, q, 10)
    assert recall(index.search(q, 10, l=64)[0], truth) >= 0.95
    index.merge()
    assert index.stats()["delta_nodes"] == 0 and index.stats()["disk_nodes"] == 1200
    assert recall(index.search(q, 10, l=64)[0], truth) >= 0.95
    assert len(oxvec.load(tmp_path / "g.oxv")) == 1200
    with pytest.raises(oxvec.DuplicateIdError):
        index.add(x[:1], ids=[3])


def test_filter(data):
    x, q = data
    index = oxvec.DiskANN(16, r=24, l_build=48)
    index.build(x)
    mask = np.arange(1200) % 3 == 0
    keep = np.flatnonzero(mask)
    truth, _ = brute_force(x[keep], q, 10, ids=keep)
    ids, _ = index.search(q, 10, l=128, filter=mask)
    assert np.isin(ids[ids >= 0], keep).all() and recall(ids, truth) >= 0.85
    ids, _ = index.search(q[0], 10, filter=[5, 50, 500])
    assert sorted(ids[:3]) == [5, 50, 500] and (ids[3:] == -1).all()


def test_save_copies_the_index_with_its_delta(tmp_path, data):
    x, q = data
    index = oxvec.DiskANN(16, r=24, l_build=48)
    index.build(x[:1000])
    index.add(x[1000:])
    index.remove([0])
    index.save(tmp_path / "copy.oxv")
    copy = oxvec.load(tmp_path / "copy.oxv")
    # a faithful copy: the delete list and the delta travel with it
    s = copy.stats()
    assert len(copy) == 1199 and s["delta_nodes"] == 200 and s["deleted"] == 1
    np.testing.assert_array_equal(copy.search(q, 5, l=64)[0], index.search(q, 5, l=64)[0])


def test_damaged_and_truncated_files_raise_corrupt_file_error(tmp_path, data):
    x, q = data
    path = tmp_path / "g.oxv"
    oxvec.DiskANN(16, r=8, l_build=16, path=path, cache_nodes=0).build(x[:500])
    raw = bytearray(path.read_bytes())
    (tmp_path / "cut.oxv").write_bytes(raw[:-10])
    with pytest.raises(oxvec.CorruptFileError):
        oxvec.load(tmp_path / "cut.oxv")
    # bytes flipped all over the node blocks (which start at a 4 KiB boundary
    # after the small sections and end before the section table)
    for at in range(8192, len(raw) - 4096, 97):
        raw[at] ^= 0x20
    (tmp_path / "bad.oxv").write_bytes(raw)
    with pytest.raises(oxvec.CorruptFileError):
        bad = oxvec.load(tmp_path / "bad.oxv")
        bad.search(q, 10)
    with pytest.raises(oxvec.CorruptFileError):
        oxvec.load(tmp_path / "bad.oxv", verify=True)


def test_bad_parameters_raise_invalid_argument():
    with pytest.raises(oxvec.InvalidArgumentError, match="pq_bytes"):
        oxvec.DiskANN(16, pq_bytes=5)
    with pytest.raises(oxvec.InvalidArgumentError, match="alpha"):
        oxvec.DiskANN(16, alpha=0.5)
    with pytest.raises(oxvec.UnsupportedError):
        oxvec.DiskANN(16, metric="manhattan")
    with pytest.raises(TypeError, match="unknown keyword"):
        oxvec.DiskANN(16, R=8)


def test_beam_width_is_per_call(tmp_path, data):
    # a call's beam_width travels in its request: the index's default stays,
    # a wider beam expands more nodes, and a width beyond 64 is refused
    x, q = data
    index = oxvec.DiskANN(16, r=24, l_build=48, path=tmp_path / "w.oxv", beam_width=4)
    index.build(x)
    truth, _ = brute_force(x, q, 10)
    expanded = {}
    for bw in (1, 16):
        index.stats(reset=True)
        ids, _ = index.search(q, 10, l=48, beam_width=bw)
        assert recall(ids, truth) >= 0.9
        expanded[bw] = index.stats()["nodes_expanded"]
        assert index.beam_width == 4
    assert expanded[16] > expanded[1]
    one, _ = index.search(q[0], 10, l=48, beam_width=2)  # a 1-D query keeps its shape
    assert one.shape == (10,)
    with pytest.raises(oxvec.InvalidArgumentError, match="beam_width"):
        index.search(q, 10, beam_width=65)
    with pytest.raises(oxvec.InvalidArgumentError):
        index.search(q, 10, beam_width=0)
    index.close()
