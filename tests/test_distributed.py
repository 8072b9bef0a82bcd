"""oxvec.distributed on a local Ray cluster (one per module, loopback only):
sharded results equal one VectorStore's, failover loses no search and no
acknowledged write, a restarted replica catches up (by log and by copy),
and a shard with no replica left raises a clear error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import oxvec

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")
od = pytest.importorskip("oxvec.distributed")

DIM = 8
N = 240


@pytest.fixture(scope="module")
def cluster():
    od.init_local(num_cpus=2, object_store_memory=200 * 1024 * 1024)
    assert ray.util.get_node_ip_address() == "127.0.0.1"
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def records(n=N, seed=7, start=0):
    """Fixed-seed records whose documents all differ in length, so BM25
    scores (and so hybrid ranks) do not tie and one ranking is right."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(60)]
    lengths = rng.permutation(np.arange(3, 3 + n))
    ids = [f"r{start + i}" for i in range(n)]
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    docs = [" ".join(rng.choice(words, int(L))) for L in lengths]
    metas = [{"g": int(i % 3), "even": bool(i % 2 == 0)} for i in range(n)]
    return ids, x, docs, metas


def until(cond, timeout=60.0, what="condition"):
    """Wait for cond() to hold, polling, up to a deadline."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def same_hits(a, b, q, scores="distances"):
    """Query q's results agree: the same ids with the same values."""
    assert a["ids"][q] == b["ids"][q]
    np.testing.assert_allclose(np.asarray(a[scores][q], np.float64), np.asarray(b[scores][q], np.float64),
                               rtol=1e-6, equal_nan=True)


def same_ranking(a, b, q):
    """Query q's hybrid results agree up to the order of equal fused scores
    (RRF ties whenever two records hold the same rank on different sides;
    one store breaks ties by insertion order, a sharded one by id): the
    same scores, the same ids within each group of equal scores (the last
    group may be cut at k differently), and the same values per id."""
    sa, sb = np.asarray(a["scores"][q]), np.asarray(b["scores"][q])
    np.testing.assert_allclose(sa, sb, rtol=1e-9)
    groups = np.unique(np.round(sb, 12))
    last = np.round(sb[-1], 12) if len(sb) else None
    for g in groups:
        ia = {k for k, v in zip(a["ids"][q], np.round(sa, 12)) if v == g}
        ib = {k for k, v in zip(b["ids"][q], np.round(sb, 12)) if v == g}
        assert len(ia) == len(ib) and (g == last or ia == ib), (g, ia, ib)
    pos = {k: i for i, k in enumerate(b["ids"][q])}
    for i, k in enumerate(a["ids"][q]):
        if k in pos:
            for f in ("distances", "keyword_scores"):
                np.testing.assert_allclose(a[f][q][i], b[f][q][pos[k]], rtol=1e-6, equal_nan=True)


@pytest.fixture(scope="module")
def pair(cluster, tmp_path_factory):
    """A 2 x 2 sharded store and one VectorStore holding the same records."""
    root = tmp_path_factory.mktemp("sharded")
    ids, x, docs, metas = records()
    s = od.ShardedStore("films", shards=2, replicas=2, dim=DIM, root=root, timeout=60)
    one = oxvec.VectorStore(root / "one", dim=DIM)
    s.add(ids[:200], x[:200], documents=docs[:200], metadatas=metas[:200])
    s.upsert(ids[150:], x[150:], documents=docs[150:], metadatas=metas[150:])
    one.add(ids, x, documents=docs, metadatas=metas)
    yield s, one, x
    s.close()
    one.close()


def test_placement_is_stable_and_spreads():
    assert od.shard_of("tt0111161", 4) == od.shard_of("tt0111161", 4)
    got = [od.shard_of(f"id{i}", 4) for i in range(4000)]
    assert min(np.bincount(got, minlength=4)) > 850


def test_vector_results_equal_one_store(pair):
    s, one, x = pair
    assert s.count() == one.count() == N
    q = x[:6] + 0.05
    for flt in (None, {"g": 1}, {"$and": [{"g": {"$in": [0, 2]}}, {"even": True}]}):
        a = s.search(q, k=7, filter=flt, include=["documents", "metadatas", "embeddings"])
        b = one.search(q, k=7, filter=flt, include=["documents", "metadatas", "embeddings"])
        for i in range(len(q)):
            same_hits(a, b, i)
            assert a["documents"][i] == b["documents"][i] and a["metadatas"][i] == b["metadatas"][i]
            np.testing.assert_array_equal(a["embeddings"][i], b["embeddings"][i])


def test_keyword_results_equal_one_store(pair):
    s, one, _ = pair
    texts = ["w1 w2", "w17", "w3 w3 w40 w59", "nothing-matches-this"]
    for kw in ({}, {"filter": {"g": 2}}, {"where_document": {"$contains": "w5"}}):
        a = s.search(texts, k=6, mode="keyword", **kw)
        b = one.search(texts, k=6, mode="keyword", **kw)
        for i in range(len(texts)):
            assert len(set(np.round(b["scores"][i], 9))) == len(b["scores"][i])  # the data has no ties
            same_hits(a, b, i, "scores")
            same_hits(a, b, i, "keyword_scores")


@pytest.mark.parametrize("fusion,normalize", [("rrf", "minmax"), ("convex", "minmax"), ("convex", "zscore")])
def test_hybrid_results_equal_one_store(pair, fusion, normalize):
    s, one, x = pair
    q, texts = x[10:13] * 0.5, ["w4 w9", "w22", "w1 w30 w31"]
    kw = {"mode": "hybrid", "text": texts, "fusion": fusion, "normalize": normalize, "candidates": 30}
    a, b = s.search(q, k=8, **kw), one.search(q, k=8, **kw)
    for i in range(len(q)):
        same_ranking(a, b, i)
    a, b = s.search(q, k=5, filter={"g": 0}, **kw), one.search(q, k=5, filter={"g": 0}, **kw)
    for i in range(len(q)):
        same_ranking(a, b, i)


def test_get_and_delete_match_one_store(pair, tmp_path):
    s, one, x = pair
    keys = ["r5", "nope", "r230", "r0"]
    a, b = s.get(keys, include=["embeddings", "metadatas"]), one.get(keys, include=["embeddings", "metadatas"])
    assert a["ids"] == b["ids"] == ["r5", "r230", "r0"]
    np.testing.assert_array_equal(a["embeddings"], b["embeddings"])
    assert sorted(s.get(filter={"g": 1}, include=[])["ids"]) == sorted(one.get(filter={"g": 1}, include=[])["ids"])
    assert len(s.get(filter={"g": 1}, limit=5, offset=3)["ids"]) == 5
    with pytest.raises(oxvec.DuplicateIdError):
        s.add(["r1", "brand-new"], x[:2])
    assert s.get(["brand-new"])["ids"] == []  # nothing of the refused batch was written
    # delete on a copy's worth of records, then restore them so later tests see the same data
    ids, xs, docs, metas = records()
    assert s.delete(["r1", "r2", "missing"]) == one.delete(["r1", "r2", "missing"]) == 2
    assert s.delete(filter={"$and": [{"g": 2}, {"even": True}]}) == one.delete(filter={"$and": [{"g": 2}, {"even": True}]})
    assert s.count() == one.count()
    back = [i for i, k in enumerate(ids) if not one.get([k], include=[])["ids"]]
    s.upsert([ids[i] for i in back], xs[back], [docs[i] for i in back], [metas[i] for i in back])
    one.upsert([ids[i] for i in back], xs[back], [docs[i] for i in back], [metas[i] for i in back])
    assert s.count() == one.count() == N


def test_killing_a_replica_during_searches_fails_no_search(pair):
    s, one, x = pair
    q = x[20:22] + 0.1
    want = one.search(q, k=5, include=[])
    done, errors, stop = [], [], threading.Event()

    def stream():
        while not stop.is_set():
            try:
                r = s.search(q, k=5, include=[])
                assert r["ids"] == want["ids"]
                done.append(1)
            except BaseException as e:  # noqa: BLE001 - every failure counts
                errors.append(e)

    t = threading.Thread(target=stream)
    t.start()
    try:
        until(lambda: len(done) >= 20, what="searches before the kill")
        victim = s.actors()[0][0]
        ray.kill(victim)
        n = len(done)
        until(lambda: len(done) >= n + 50, what="searches after the kill")
        s.wait_ready(timeout=120)  # the victim was replaced and is live again
        assert s.actors()[0][0] != victim
        n = len(done)
        until(lambda: len(done) >= n + 20, what="searches after the replacement")
    finally:
        stop.set()
        t.join()
    assert errors == []


def test_killing_a_replica_during_writes_loses_no_acknowledged_write(cluster, tmp_path):
    s = od.ShardedStore("writes", shards=2, replicas=2, dim=DIM, root=tmp_path, timeout=120)  # quorum 2 of 2
    try:
        ids, x, docs, metas = records(400, seed=3)
        acked, errors = [], []

        def writer():
            for i in range(0, 400, 10):
                try:
                    s.upsert(ids[i:i + 10], x[i:i + 10], docs[i:i + 10], metas[i:i + 10])
                    acked.extend(ids[i:i + 10])
                except BaseException as e:  # noqa: BLE001
                    errors.append(e)

        t = threading.Thread(target=writer)
        t.start()
        until(lambda: len(acked) >= 60, what="writes before the kill")
        ray.kill(s.actors()[1][1])
        until(lambda: len(acked) >= 150, what="writes after the kill")
        ray.kill(s.actors()[0][0])
        t.join()
        assert errors == []
        s.wait_ready(timeout=120)
        assert len(acked) == 400
        assert s.get(acked, include=[])["ids"] == acked
        # every replica holds every acknowledged record of its shard, exactly
        for shard in s.actors():
            rows = [ray.get(a.get.remote({"include": ["embeddings"]})) for a in shard]
            assert rows[0]["ids"] == rows[1]["ids"]
            np.testing.assert_array_equal(rows[0]["embeddings"], rows[1]["embeddings"])
        assert sum(len(ray.get(sh[0].get.remote({"include": []}))["ids"]) for sh in s.actors()) == 400
    finally:
        s.close()


def test_restarted_replica_catches_up_by_log_then_by_copy(cluster, tmp_path):
    # quorum 1, and a log of 2 writes: a replica that missed 2 writes replays
    # them from its peer's log; one that missed more gets a full copy
    s = od.ShardedStore("catchup", shards=2, replicas=2, dim=DIM, root=tmp_path, write_quorum=1,
                        log_entries=2, timeout=60)
    one = oxvec.VectorStore(tmp_path / "one", dim=DIM)
    try:
        ids, x, docs, metas = records(120, seed=11)
        zero = [i for i, k in enumerate(ids) if od.shard_of(k, 2) == 0]  # shard 0's records
        s.add(ids[:40], x[:40], docs[:40], metas[:40])
        one.add(ids[:40], x[:40], docs[:40], metas[:40])

        def miss(batches, how):
            """Keep shard 0's replica 1 down while shard 0 takes these writes."""
            s._hold_repairs(True)
            victim = s.actors()[0][1]
            ray.kill(victim)
            until(lambda: _dead(victim), what="the kill")
            for b in batches:
                s.upsert([ids[i] for i in b], x[b], [docs[i] for i in b], [metas[i] for i in b])
                one.upsert([ids[i] for i in b], x[b], [docs[i] for i in b], [metas[i] for i in b])
            assert s.health()[0][1]["state"] == "down"
            s._hold_repairs(False)
            s.wait_ready(timeout=120)
            r = s.health()[0][1]
            assert r["catch_ups"] and r["catch_ups"][-1]["how"] == how, r

        late = [i for i in zero if i >= 40]
        miss([late[0:3], late[3:6]], "log")
        miss([late[6:9], late[9:12], late[12:15]], "copy")
        s.delete(["r3", "r50"])
        one.delete(["r3", "r50"])
        # now only the caught-up replica serves shard 0: its answers must be one store's
        s._hold_repairs(True)
        survivor = s.actors()[0][0]
        ray.kill(survivor)
        until(lambda: _dead(survivor), what="the second kill")
        q = x[:4] + 0.2
        a, b = s.search(q, k=6, include=["metadatas"]), one.search(q, k=6, include=["metadatas"])
        a2, b2 = s.search(["w2 w7", "w11"], k=5), one.search(["w2 w7", "w11"], k=5, mode="keyword")
        for i in range(4):
            same_hits(a, b, i)
            assert a["metadatas"][i] == b["metadatas"][i]
        for i in range(2):
            same_hits(a2, b2, i, "scores")
        assert s.count() == one.count()
        assert s.health()[0][1]["state"] == "live" and s.health()[0][0]["state"] == "down"
    finally:
        s._hold_repairs(False)
        s.close()
        one.close()


def test_every_replica_of_a_shard_gone_raises_a_clear_error(cluster, tmp_path):
    s = od.ShardedStore("gone", shards=2, replicas=2, dim=DIM, root=tmp_path, timeout=60)
    try:
        ids, x, docs, metas = records(50, seed=5)
        s.add(ids, x, docs, metas)
        doomed = s.actors()[1]
        for a in doomed:
            ray.kill(a)
        until(lambda: all(_dead(a) for a in doomed), what="the kills")
        for sl in s._slots[1]:
            shutil.rmtree(sl.path)  # the disks went with the nodes: nothing to come back to
        s.timeout = 3
        with pytest.raises(od.ShardUnavailableError) as e:
            s.search(x[:1], k=3)  # the replacements start on empty directories
        assert isinstance(e.value, oxvec.Error) and "shard 1" in str(e.value)
        until(lambda: all("no live replica" in (r["error"] or "") for r in s.health()[1]), what="the replacements")
        with pytest.raises(od.ShardUnavailableError, match="behind: at change 0 of 1, no live replica of shard 1"):
            s.search(x[:1], k=3)
        with pytest.raises((od.ShardUnavailableError, od.WriteQuorumError)):
            s.upsert([k for k in ids if od.shard_of(k, 2) == 1][:1], x[:1])
        assert s.count  # shard 0 still answers its own reads
        assert len(s.get([k for k in ids if od.shard_of(k, 2) == 0], include=[])["ids"]) > 0
    finally:
        s.close()


def test_reopen_keeps_records_and_shape(cluster, tmp_path):
    ids, x, docs, metas = records(60, seed=9)
    with od.ShardedStore("again", shards=3, replicas=1, dim=DIM, root=tmp_path) as s:
        s.add(ids, x, docs, metas)
        want = s.search(x[:2], k=4, include=[])
    with pytest.raises(oxvec.InvalidArgumentError):
        od.ShardedStore("again", shards=2, root=tmp_path)
    with od.ShardedStore("again", root=tmp_path) as s:
        assert (s.shards, s.replicas, s.dim, s.count()) == (3, 1, DIM, 60)
        assert s.search(x[:2], k=4, include=[])["ids"] == want["ids"]


def test_ingest_from_dataframe_dataset_and_parquet(pair, tmp_path):
    # the pair's own records again (upserts change nothing), from each kind of source
    pd = pytest.importorskip("pandas")
    s, one, x = pair
    ids, xs, docs, metas = records()
    df = pd.DataFrame({"id": ids, "embedding": list(xs), "document": docs,
                       "g": [m["g"] for m in metas], "even": [m["even"] for m in metas]})
    df.iloc[:100].to_parquet(tmp_path / "a.parquet")
    df.iloc[100:].to_parquet(tmp_path / "b.parquet")
    assert s.ingest(df.iloc[:50], batch_size=16) == 50
    assert s.ingest(str(tmp_path / "*.parquet")) == N
    assert s.ingest(ray.data.from_pandas(df.iloc[200:])) == N - 200
    assert s.count() == N
    got = s.get(["r4", "r230"], include=["documents", "metadatas", "embeddings"])
    assert got["documents"] == [docs[4], docs[230]] and got["metadatas"] == [metas[4], metas[230]]
    np.testing.assert_array_equal(got["embeddings"], xs[[4, 230]])
    a, b = s.search(["w5 w6"], k=5), one.search(["w5 w6"], k=5, mode="keyword")
    same_hits(a, b, 0, "scores")
    with pytest.raises(FileNotFoundError):
        s.ingest(str(tmp_path / "none-*.parquet"))


def test_bad_input_raises_oxvec_errors(pair):
    s, _, x = pair
    with pytest.raises(oxvec.DimensionError):
        s.search(np.zeros((1, DIM + 1), np.float32))
    with pytest.raises(oxvec.InvalidArgumentError):
        s.search(x[:1], k=0)
    with pytest.raises(oxvec.InvalidArgumentError):
        s.search(x[:1], ef=10)  # a flat index has no ef: the replica's engine says so
    with pytest.raises(oxvec.UnsupportedError):
        s.search(x[:1], mmr=True)
    with pytest.raises(oxvec.DuplicateIdError):
        s.upsert(["a", "a"], x[:2])
    with pytest.raises(oxvec.InvalidArgumentError):
        od.ShardedStore("bad", dim=DIM, write_quorum=3, root=s._dir + "-bad")


def test_import_oxvec_never_imports_ray_and_a_missing_extra_names_it():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    code = "import sys, oxvec; assert 'ray' not in sys.modules, 'import oxvec imported ray'"
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'ray' or name.startswith('ray.'):\n"
            "            raise ImportError('No module named ' + repr(name))\n"
            "sys.meta_path.insert(0, Block())\n"
            "try:\n"
            "    import oxvec.distributed\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True).stdout
    assert 'pip install "oxvec[ray]"' in out


def _dead(actor) -> bool:
    try:
        ray.get(actor.status.remote(), timeout=10)
        return False
    except ray.exceptions.RayActorError:
        return True


def test_parquet_ingest_survives_ray_resolving_paths_in_threads(tmp_path):
    # Ray Data (2.60) resolves each path in a worker thread, and each thread
    # imports fsspec's HTTP filesystem, which needs aiohttp. When two threads
    # race on that import, one can get a half-run module (CI failed so). The
    # extra declares aiohttp; here a slow aiohttp import widens the race
    # window in a fresh process, so a missing aiohttp fails this test.
    pytest.importorskip("pandas")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    code = (
        "import sys, time\n"
        "class Slow:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'aiohttp':\n"
        "            time.sleep(0.3)\n"
        "        return None\n"
        "sys.meta_path.insert(0, Slow())\n"
        "import numpy as np, pandas as pd, oxvec.distributed as od\n"
        "from oxvec.distributed._ingest import _dataset\n"
        "od.init_local(num_cpus=1, object_store_memory=100 * 1024 * 1024)\n"
        f"d = {str(tmp_path)!r}\n"
        "for i in range(4):\n"
        "    pd.DataFrame({'a': np.arange(10) + 10 * i}).to_parquet(f'{d}/p{i}.parquet')\n"
        "print(_dataset(d + '/*.parquet').count())\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "40"
