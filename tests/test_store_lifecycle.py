"""Stores over index types that must be trained (searched exactly until
enough records exist, then trained and swapped in - across reopen and
replay), and a store whose disk refuses writes (the failed state names its
cause, close releases it, nothing acknowledged is lost)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import oxvec
from conftest import ROOT

DIM = 16

TRAINED = {
    "ivf_flat": {"type": "ivf_flat", "nlist": 8},
    "ivf_pq": {"type": "ivf_pq", "nlist": 4, "m": 4, "nbits": 4},
    "pq": {"type": "pq", "m": 4, "nbits": 4},
    "sq": {"type": "sq"},
    "binary": {"type": "binary"},
    "opq": {"type": "opq", "m": 4, "index": {"type": "pq", "m": 4, "nbits": 4}},
}


def vectors(n, seed):
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


@pytest.mark.parametrize("name", sorted(TRAINED))
def test_trained_index_store_is_exact_until_train_after_then_indexed(name, tmp_path):
    path = tmp_path / name
    x = vectors(400, 1)
    ids = [f"r{i}" for i in range(400)]
    with oxvec.VectorStore(path, dim=DIM, index=TRAINED[name], train_after=300) as s:
        s.add(ids[:10], x[:10])
        info = s.info()
        assert info["phase"] == "exact" and info["train_after"] == 300
        hits = s.search(x[:10], k=1)
        assert [h[0] for h in hits["ids"]] == ids[:10]  # exact: each finds itself
    with oxvec.VectorStore(path, read_only=True) as r:  # a read-only open replays it too
        assert r.count() == 10 and r.info()["phase"] == "exact"
    with oxvec.VectorStore(path) as s:
        s.add(ids[10:350], x[10:350])
        assert s.info()["phase"] == "indexed" and "train_error" not in s.info()
        s.add(ids[350:], x[350:])
        assert s.count() == 400 and len(s.search(x[0], k=5)["ids"][0]) == 5
    for ro in (True, False):
        with oxvec.VectorStore(path, read_only=ro) as s:
            assert s.count() == 400 and s.info()["phase"] == "indexed"
            got = s.get(ids=ids[:3], include=["embeddings"])
            np.testing.assert_array_equal(got["embeddings"], x[:3])


def test_train_after_is_validated(tmp_path):
    with pytest.raises(oxvec.InvalidArgumentError, match="below what ivf_flat needs"):
        oxvec.VectorStore(tmp_path / "a", dim=DIM, index={"type": "ivf_flat", "nlist": 64}, train_after=10)
    with pytest.raises(oxvec.InvalidArgumentError, match="not to hnsw"):
        oxvec.VectorStore(tmp_path / "b", dim=DIM, index="hnsw", train_after=10)
    with pytest.raises(oxvec.InvalidArgumentError, match="positive"):
        oxvec.VectorStore(tmp_path / "c", dim=DIM, index="sq", train_after=0)
    assert not os.path.exists(tmp_path / "a" / "MANIFEST")


# The child fills its "disk": RLIMIT_FSIZE makes writes past 256 KiB fail
# with EFBIG (CPython ignores SIGXFSZ), as a full disk fails them with ENOSPC.
FULL_DISK = r"""
import json, resource, sys, numpy as np, oxvec
path, dim = sys.argv[1], int(sys.argv[2])
s = oxvec.VectorStore(path, dim=dim, snapshot_every=-1)
resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, 256 << 10))
acked, first = [], None
for b in range(1000):
    ids = [f"b{b}-{j}" for j in range(20)]
    try:
        s.add(ids, np.full((20, dim), b, np.float32))
        acked += ids
    except oxvec.Error as e:
        first = e
        break
later = {}
for name, call in [("add", lambda: s.add(["x"], np.zeros((1, dim), np.float32))), ("snapshot", s.snapshot),
                   ("delete", lambda: s.delete(ids=[acked[0]]))]:
    try:
        call()
        later[name] = "no error"
    except oxvec.Error as e:
        later[name] = f"{type(e).__name__}: {e}"
s.close()   # must succeed and release the lock
print(json.dumps({"acked": acked, "first": f"{type(first).__name__}: {first}", "later": later}))
"""


def test_full_disk_store_names_its_cause_closes_and_keeps_what_was_acknowledged(tmp_path):
    path = tmp_path / "full"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    out = subprocess.run([sys.executable, "-c", FULL_DISK, str(path), str(DIM)], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["acked"] and res["first"].startswith("StorageError") and "too large" in res["first"], res["first"]
    for name, msg in res["later"].items():
        assert msg.startswith("StorageError") and "refuses writes" in msg and "too large" in msg, (name, msg)
        assert "closed" not in msg.split(";")[0], (name, msg)
    with oxvec.VectorStore(path) as s:  # the lock was released; everything acknowledged is there
        assert s.count() == len(res["acked"])
        got = s.get(ids=res["acked"], include=["embeddings"])
        assert got["ids"] == res["acked"]
