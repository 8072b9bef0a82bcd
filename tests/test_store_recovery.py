"""The corruption sweep: every kind of file in a store directory (MANIFEST,
WAL segments, snapshot files) is damaged in turn - bytes flipped at several
offsets, cut short, deleted - and the store reopened. Each open must either
raise a clear oxvec error or hold every acknowledged record intact; the only
other outcome allowed is the repair of a crash's torn tail, which must warn
and keep the unreadable bytes in a quarantine file. Never a silent loss.

Two starting points: a store closed cleanly, and one whose writer was killed
(os._exit in a child process) after its writes were acknowledged."""

import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

import oxvec
from conftest import ROOT

DIM = 8
BATCHES = 6  # the snapshot comes after batch 3

CHILD = r"""
import os, sys, numpy as np, oxvec
path, dim, batches, crash = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
s = oxvec.VectorStore(path, dim=dim, index="hnsw", snapshot_every=-1)
for b in range(batches):
    x = np.random.default_rng(b).standard_normal((5, dim)).astype(np.float32)
    s.add([f"b{b}-{j}" for j in range(5)], x, documents=[f"doc {b}.{j}" for j in range(5)],
          metadatas=[{"b": b, "j": j} for j in range(5)])
    if b == 3:
        s.snapshot()
if crash:
    os._exit(0)   # killed: no close, so the manifest keeps no clean-close mark
s.close()
"""


def expected():
    recs = {}
    for b in range(BATCHES):
        x = np.random.default_rng(b).standard_normal((5, DIM)).astype(np.float32)
        for j in range(5):
            recs[f"b{b}-{j}"] = (x[j], f"doc {b}.{j}", {"b": b, "j": j})
    return recs


@pytest.fixture(scope="module", params=["clean", "crashed"])
def base(request, tmp_path_factory):
    path = tmp_path_factory.mktemp(request.param) / "store"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    subprocess.run([sys.executable, "-c", CHILD, str(path), str(DIM), str(BATCHES), str(int(request.param == "crashed"))],
                   check=True, env=env)
    return request.param, path


def store_files(path):
    out = []
    for root, _, files in os.walk(path):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), path)
            if rel != "LOCK":
                out.append(rel)
    return sorted(out)


def mutations(data):
    """(name, function of the bytes -> new bytes or None to delete). Offsets
    near the end of the file and near the end of its data (a WAL segment's
    records are followed by the zeros of its unused allocation)."""
    size, end = len(data), len(data.rstrip(b"\0"))
    out = [("deleted", lambda b: None), ("emptied", lambda b: b"")]
    for off in sorted({0, 5, 17, 40, size // 2, end - 9, end - 1, end, size - 1}):
        if 0 <= off < size:
            out.append((f"byte {off} flipped", lambda b, off=off: b[:off] + bytes([b[off] ^ 0x5A]) + b[off + 1:]))
    for cut in sorted({size - 1, end - 7, end, size // 2}):
        if 0 < cut < size:
            out.append((f"cut to {cut}", lambda b, cut=cut: b[:cut]))
    return out


def all_intact(s, recs):
    got = s.get(ids=list(recs), include=["documents", "metadatas", "embeddings"])
    if list(got["ids"]) != list(recs) or s.count() != len(recs):
        return False
    for i, k in enumerate(got["ids"]):
        vec, doc, meta = recs[k]
        if not np.array_equal(got["embeddings"][i], vec) or got["documents"][i] != doc or got["metadatas"][i] != meta:
            return False
    # and findable by the index
    for k, (vec, _, _) in recs.items():
        if s.search(vec, k=1)["ids"][0][0] != k:
            return False
    return True


def test_corruption_sweep_never_loses_acknowledged_records_silently(base, tmp_path):
    kind, src = base
    recs = expected()
    files = store_files(src)
    assert "MANIFEST" in files and any(f.startswith("wal-") for f in files) and any(f.startswith("snap-") for f in files)
    outcomes = {"error": 0, "intact": 0, "quarantined": 0}
    n = 0
    for rel in files:
        data = (src / rel).read_bytes()
        for name, mutate in mutations(data):
            n += 1
            d = tmp_path / f"case{n}"
            shutil.copytree(src, d)
            new = mutate(data)
            if new is None:
                os.remove(d / rel)
            else:
                (d / rel).write_bytes(new)
            case = f"{kind} store, {rel} {name}"
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    s = oxvec.VectorStore(d)
                except oxvec.Error as e:
                    assert not isinstance(e, oxvec.InternalError), f"{case}: {e!r}"
                    assert str(e), case
                    outcomes["error"] += 1
                    continue
            with s:
                if all_intact(s, recs):
                    outcomes["intact"] += 1
                    continue
                # the one loss allowed: a crash's torn tail, said aloud and kept
                rep = s.recovery
                assert kind == "crashed" and rel.startswith("wal-"), f"{case}: records lost, report {rep}"
                assert rep.get("quarantined"), f"{case}: records lost without a quarantine: {rep}"
                assert any(issubclass(w.category, oxvec.RecoveryWarning) for w in caught), case
                for q in rep["quarantined"]:
                    kept = (d / q["file"]).read_bytes()
                    assert kept == new[q["offset"]:q["offset"] + q["bytes"]], case
                # every record but those of the quarantined change is intact
                lost = [k for k in recs if k not in set(s.get(ids=list(recs))["ids"])]
                assert len(lost) <= 5, f"{case}: {len(lost)} records lost"
                outcomes["quarantined"] += 1
    print(kind, n, "cases:", outcomes)
    assert outcomes["error"] > 0 and outcomes["intact"] > 0, outcomes


def test_clean_close_then_damaged_tail_refuses_and_offers_point_in_time(base, tmp_path):
    kind, src = base
    if kind != "clean":
        pytest.skip("after a crash the same damage is a torn tail")
    d = tmp_path / "s"
    shutil.copytree(src, d)
    seg = max(f for f in os.listdir(d) if f.startswith("wal-") and os.path.getsize(d / f) > 0)
    data = (d / seg).read_bytes()
    end = len(data.rstrip(b"\0"))  # records end there; zeros are the unused allocation
    (d / seg).write_bytes(data[:end - 3])
    with pytest.raises(oxvec.CorruptFileError, match=seg) as e:
        oxvec.VectorStore(d)
    assert "point_in_time" in str(e.value) and "closed cleanly" in str(e.value)
    assert (d / seg).read_bytes() == data[:end - 3], "a refused open changed the log"
    with pytest.warns(oxvec.RecoveryWarning, match="quarantine|moved to"):
        s = oxvec.VectorStore(d, recovery="point_in_time")
    with s:
        assert s.count() == 5 * (BATCHES - 1)
        rep = s.recovery
        assert rep["clean_close"] and rep["mode"] == "point_in_time" and len(rep["quarantined"]) == 1
        assert (d / rep["quarantined"][0]["file"]).exists()
    with pytest.raises(oxvec.InvalidArgumentError, match="recovery"):
        oxvec.VectorStore(d, recovery="ignore")


def test_lost_manifest_is_an_error_not_a_new_store(base, tmp_path):
    _, src = base
    d = tmp_path / "s"
    shutil.copytree(src, d)
    os.remove(d / "MANIFEST")
    for kw in ({}, {"dim": DIM}):
        with pytest.raises(oxvec.CorruptFileError, match="no MANIFEST"):
            oxvec.VectorStore(d, **kw)


def test_manifest_is_checksummed(base, tmp_path):
    _, src = base
    d = tmp_path / "s"
    shutil.copytree(src, d)
    m = json.loads((d / "MANIFEST").read_text())
    assert len(m["crc32c"]) == 8
    m["manifest"]["snapshot_seq"] += 1  # valid JSON, wrong content
    (d / "MANIFEST").write_text(json.dumps(m))
    with pytest.raises(oxvec.CorruptFileError, match="CRC-32C"):
        oxvec.VectorStore(d)
