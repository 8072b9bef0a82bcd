"""Progress of long engine calls: a counter the engine keeps per call, keyed
by the call's cancel flag, that Python polls (oxv_progress) while it waits,
and the tqdm bar it drives (tqdm optional)."""

import ctypes
import sys
import threading
import time
import types

import numpy as np
import pytest

import oxvec
from oxvec import _call
from oxvec._library import lib


class FakeBar:
    made: list = []

    def __init__(self, total=None, desc="", unit="it", **kw):
        self.total, self.desc, self.unit, self.n = total, desc, unit, 0
        self.updates, self.totals, self.closed = [], [], False
        FakeBar.made.append(self)

    def update(self, k):
        self.n += k
        self.updates.append(self.n)
        self.totals.append(self.total)

    def close(self):
        self.closed = True


@pytest.fixture(autouse=True)
def one_thread():
    """One engine thread, so that an add lasts long enough (~0.5 s) for a
    few polls on any machine."""
    before = oxvec.get_num_threads()
    oxvec.set_num_threads(1)
    yield
    oxvec.set_num_threads(before)


@pytest.fixture
def fake_tqdm(monkeypatch):
    """A tqdm package whose tqdm.auto.tqdm records what it was told."""
    FakeBar.made = []
    pkg = types.ModuleType("tqdm")
    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = FakeBar
    pkg.auto = auto
    monkeypatch.setitem(sys.modules, "tqdm", pkg)
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    monkeypatch.setattr(_call, "_POLL_S", 0.0)  # every wait (50 ms) polls
    return FakeBar


def _vectors(n=8_000, d=16, seed=7):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def test_oxv_progress_counts_an_hnsw_add_up_to_its_total():
    x = _vectors()
    n, d = x.shape
    index = oxvec.HNSW(d, m=16, ef_construction=40)
    flag = ctypes.c_int32(0)
    vals = (ctypes.c_int64 * 2)()
    va = ctypes.addressof(vals)
    fa = ctypes.addressof(flag)
    out = np.empty(n, np.int64)
    err = oxvec._capi.oxv_error()
    rc = {}

    def add():
        rc["rc"] = lib.oxv_index_add(index._live(), x.ctypes.data, n, d, 0, out.ctypes.data, fa, ctypes.addressof(err))

    assert lib.oxv_progress(fa, va, va + 8) == 0 and (vals[0], vals[1]) == (0, 0)  # not started
    t = threading.Thread(target=add)
    t.start()
    seen = []
    while t.is_alive():
        assert lib.oxv_progress(fa, va, va + 8) == 0
        seen.append((vals[0], vals[1]))
        time.sleep(0.002)
    t.join()
    assert rc["rc"] == 0
    running = [(dn, tot) for dn, tot in seen if tot]
    assert running, "the add never reported progress"
    assert all(tot == n and 0 <= dn <= n for dn, tot in running)
    dones = [dn for dn, _ in running]
    assert dones == sorted(dones)  # it only grows
    assert len(set(dones)) > 2  # and grew while we watched
    assert lib.oxv_progress(fa, va, va + 8) == 0 and (vals[0], vals[1]) == (0, 0)  # over: gone
    assert lib.oxv_progress(0, va, va + 8) == 0 and (vals[0], vals[1]) == (0, 0)  # no flag: nothing
    assert lib.oxv_progress(16, va, va + 8) == oxvec._capi.OXV_E_INVALID


def test_long_hnsw_add_draws_a_bar_to_its_total(fake_tqdm):
    x = _vectors()
    index = oxvec.HNSW(16, m=16, ef_construction=40)
    index.add(x, progress=True)
    assert len(index) == len(x)
    (bar,) = fake_tqdm.made
    assert bar.total == len(x) and "8,000" in bar.desc
    assert bar.n == len(x) and bar.closed
    assert bar.updates == sorted(bar.updates)  # polled while running, finished at close


def test_ivf_training_draws_a_bar_of_iterations(fake_tqdm):
    x = _vectors(50_000, 32)
    index = oxvec.IVFFlat(32, nlist=128)
    index.train(x, progress=True)
    assert index.is_trained
    if fake_tqdm.made:  # training may finish before the first poll on a fast machine
        (bar,) = fake_tqdm.made
        assert bar.closed and bar.n == bar.total > 0


def test_progress_false_draws_no_bar(fake_tqdm):
    index = oxvec.HNSW(16, m=16, ef_construction=40)
    index.add(_vectors(), progress=False)
    assert fake_tqdm.made == []


def test_set_progress_is_the_default(fake_tqdm):
    try:
        oxvec.set_progress(False)
        oxvec.HNSW(16, m=16, ef_construction=40).add(_vectors())
        assert fake_tqdm.made == []
        oxvec.set_progress(True)
        oxvec.HNSW(16, m=16, ef_construction=40).add(_vectors())
        assert len(fake_tqdm.made) == 1
        with pytest.raises(TypeError):
            oxvec.set_progress("yes")
    finally:
        oxvec.set_progress(None)


def test_short_calls_draw_no_bar(fake_tqdm):
    oxvec.HNSW(16).add(_vectors(100), progress=True)
    assert fake_tqdm.made == []


def test_missing_tqdm_is_fine(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setattr(_call, "_POLL_S", 0.0)
    index = oxvec.HNSW(16, m=16, ef_construction=40)
    ids = index.add(_vectors(), progress=True)
    assert len(ids) == len(index) == 8_000


def test_a_failing_tqdm_only_loses_the_bar(monkeypatch):
    class Broken:
        def __init__(self, *a, **kw):
            raise RuntimeError("no display")

    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = Broken
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    monkeypatch.setattr(_call, "_POLL_S", 0.0)
    index = oxvec.HNSW(16, m=16, ef_construction=40)
    index.add(_vectors(), progress=True)
    assert len(index) == 8_000


def test_store_ingest_and_snapshot_show_their_progress(fake_tqdm, tmp_path):
    x = _vectors()
    with oxvec.VectorStore(tmp_path / "s", dim=x.shape[1], index="hnsw", snapshot_every=-1) as s:
        s.add([f"r{i}" for i in range(len(x))], x, progress=True)
        ingest = [b for b in fake_tqdm.made if "records" in b.desc]
        assert ingest and ingest[-1].closed
        bar = ingest[-1]
        assert bar.updates == sorted(bar.updates) and bar.totals[-1] == len(x) and bar.n == len(x)
        fake_tqdm.made.clear()
        s.snapshot(progress=True)
        snap = [b for b in fake_tqdm.made if b.desc == "snapshot"]
        assert all(b.closed and b.n == b.total == 4 for b in snap)  # a fast snapshot may end before the first poll
        fake_tqdm.made.clear()
        s.add(["one-more"], x[:1], progress=False)
        s.snapshot(progress=False)
        assert fake_tqdm.made == []
        assert s.count() == len(x) + 1
