"""The C fast path of Index.search (python/oxvec/_fastcall.c) against the
ctypes path it stands in for: same results, same errors, the same request
to the engine, and oxvec whole without it (OXVEC_NO_FASTCALL=1)."""

import ctypes
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

import oxvec
from oxvec import _capi, _fast, _index
from oxvec._library import lib

from conftest import ROOT

D = 24
needs_extension = pytest.mark.skipif(_fast.search is None, reason=f"no fast path: {_fast.why}")


@pytest.fixture
def base(rng):
    return rng.standard_normal((200, D)).astype(np.float32)


def both_paths(monkeypatch, call):
    """(fast, ctypes): what call() returns, or the (type, message) it raises,
    through the extension and with it switched off."""

    def outcome():
        try:
            return call()
        except Exception as e:
            return type(e), str(e)

    fast = outcome()
    with monkeypatch.context() as m:
        m.setattr(_index, "_fast_search", None)
        slow = outcome()
    return fast, slow


def assert_same(fast, slow):
    if isinstance(slow, tuple) and len(slow) == 2 and isinstance(slow[0], type):
        assert fast == slow
        return
    for f, s in zip(fast, slow):
        assert type(f) is type(s) is np.ndarray
        assert f.dtype == s.dtype and f.shape == s.shape
        np.testing.assert_array_equal(f, s)


@needs_extension
def test_the_source_tree_has_the_extension_and_uses_it():
    assert _index._fast_search is _fast._ext.search
    assert _fast.why == ""


def _indexes(base):
    flat = oxvec.Flat(D)
    cos = oxvec.Flat(D, metric="cosine")
    ip = oxvec.Flat(D, metric="ip")
    hnsw = oxvec.HNSW(D, m=8)
    ivf = oxvec.IVFFlat(D, nlist=8, nprobe=2)
    ivf.train(base)
    for ix in (flat, cos, ip, hnsw, ivf):
        ix.add(base)
    return {"flat": flat, "cosine": cos, "ip": ip, "hnsw": hnsw, "ivf": ivf}


@needs_extension
def test_both_paths_give_the_same_results(base, rng, monkeypatch):
    q = rng.standard_normal((5, D)).astype(np.float32)
    for name, ix in _indexes(base).items():
        for queries in (q[0], q, q[:1], q[2:4]):
            for k in (1, 7, len(base)):
                kw = {"ef": 12} if name == "hnsw" else {"nprobe": 3} if name == "ivf" else {}
                fast, slow = both_paths(monkeypatch, lambda: ix.search(queries, k, **kw))
                assert_same(fast, slow)
                assert fast[0].shape == ((k,) if queries.ndim == 1 else (len(queries), k)), (name, queries.shape, k)


@needs_extension
def test_calls_the_fast_path_declines_behave_as_before(base, rng, monkeypatch):
    ix = oxvec.Flat(D)
    ix.add(base)
    q = rng.standard_normal((4, 2 * D)).astype(np.float32)
    cases = [
        q[0, ::2],  # not contiguous
        q[0, :D].astype(np.float64),  # converted
        q[0, :D].tolist(),  # not an array
        q[:, :D],  # rows not contiguous
        np.asfortranarray(q[:, :D]),
        q[0, : D - 1],  # wrong dim
        q[:, : D + 1],
        q[0, :D].astype(">f4"),  # other byte order
        np.empty((0, D), np.float32),  # no queries
        np.empty((2, 3, D), np.float32),  # 3-D
        "not vectors",
    ]
    for queries in cases:
        for k in (5, len(base) + 3, 0, -1, True, np.int64(4), 2.5):
            assert_same(*both_paths(monkeypatch, lambda: ix.search(queries, k)))
    allow = np.arange(0, 200, 3)
    assert_same(*both_paths(monkeypatch, lambda: ix.search(q[0, :D].copy(), 5, filter=allow)))


@needs_extension
def test_engine_errors_raise_the_same_exception(base, monkeypatch):
    ix = oxvec.Flat(D)
    ix.add(base)
    bad = base[3].copy()
    bad[5] = np.nan
    fast, slow = both_paths(monkeypatch, lambda: ix.search(bad, 3))
    assert fast == slow and fast[0] is oxvec.InvalidArgumentError and "NaN" in fast[1]
    ix.close()
    fast, slow = both_paths(monkeypatch, lambda: ix.search(base[0], 3))
    assert fast == slow and fast[0] is oxvec.ClosedError


@needs_extension
def test_fast_path_sends_the_request_the_ctypes_path_sends(base):
    """The extension is pointed at a spy that reads the request, then calls
    the engine: the query is read in place, results land in the arrays
    returned, knobs travel, nothing else is set."""
    ix = oxvec.HNSW(D, m=8)
    ix.add(base)
    seen = []
    real = lib.oxv_index_search

    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    def spy(req, err):
        seen.append(_capi.oxv_search_request.from_address(req))
        seen.append({f: getattr(seen[-1], f) for f, _ in _capi.oxv_search_request._fields_})
        return real(req, err)

    _fast.bind(spy)
    try:
        q = base[10:13].copy()
        ids, dist = ix.search(q, 4, ef=33)
    finally:
        _fast.bind(real)
    r = seen[1]
    assert r["size"] == ctypes.sizeof(_capi.oxv_search_request)
    assert (r["index"], r["queries"], r["nq"], r["dim"], r["k"]) == (ix._handle, q.ctypes.data, 3, D, 4)
    assert (r["ef"], r["nprobe"], r["recall"]) == (33, 0, 0.0)
    assert (r["out_ids"], r["out_dist"]) == (ids.ctypes.data, dist.ctypes.data)
    assert not (r["cancel"] or r["allow_ids"] or r["n_allow_ids"] or r["allow_mask"] or r["n_allow_mask"])
    assert ids[:, 0].tolist() == [10, 11, 12]
    # bound back to the engine: searches reach it directly again
    ix.search(q, 4)
    assert len(seen) == 2


@needs_extension
def test_results_stay_valid_across_many_calls_and_threads(base, rng):
    """Results are views of shared output slabs: none is overwritten by a
    later call, past the slab's end, or by another thread."""
    ix = oxvec.Flat(D)
    ix.add(base)
    queries = rng.standard_normal((64, D)).astype(np.float32)
    want = [ix.search(q, 10) for q in queries]
    kept = [[] for _ in range(4)]
    errors = []

    def worker(t):
        try:
            for i in range(3000):  # 30,000 results per thread: several slabs
                kept[t].append(ix.search(queries[(i + t) % 64], 10))
        except Exception as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for t in range(4):
        for i, (ids, dist) in enumerate(kept[t]):
            w = want[(i + t) % 64]
            assert np.array_equal(ids, w[0]) and np.array_equal(dist, w[1]), (t, i)


@needs_extension
def test_fast_search_declines_what_it_does_not_serve(base):
    ix = oxvec.Flat(D)
    ix.add(base)
    q = base[0]
    assert _fast.search(ix._handle, q, D, 5, 0, 0, 1) is not None
    assert _fast.search(0, q, D, 5, 0, 0, 1) is None  # no handle
    assert _fast.search(ix._handle, object(), D, 5, 0, 0, 1) is None
    assert _fast.search(ix._handle, q, D + 1, 5, 0, 0, 1) is None
    assert _fast.search(ix._handle, q, D, 0, 0, 0, 1) is None
    assert _fast.search(ix._handle, q, D, _fast.SLAB, 0, 0, 1) is None  # too big for a slab
    assert _fast.search(ix._handle, q, D, 5, 0, 0, _fast.LONG_CALL_WORK + 1) is None  # long: Ctrl-C path


def test_oxvec_works_without_the_extension():
    """OXVEC_NO_FASTCALL=1: every search goes through ctypes, as a build
    without the extension does."""
    code = (
        "import numpy as np, oxvec\n"
        "from oxvec import _fast, _index\n"
        "assert _fast.search is None and _index._fast_search is None, _fast.search\n"
        "print(_fast.why)\n"
        "x = np.random.default_rng(1).standard_normal((50, 8)).astype(np.float32)\n"
        "for ix in (oxvec.Flat(8), oxvec.HNSW(8)):\n"
        "    ix.add(x)\n"
        "    ids, dist = ix.search(x[7], 3)\n"
        "    assert ids[0] == 7 and dist[0] == 0, (ids, dist)\n"
        "    assert ix.search(x[:4], 2)[0][:, 0].tolist() == [0, 1, 2, 3]\n"
    )
    env = dict(os.environ, OXVEC_NO_FASTCALL="1", PYTHONPATH=str(ROOT / "python"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "OXVEC_NO_FASTCALL" in out.stdout


@needs_extension
@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs POSIX signals")
def test_the_engine_call_runs_without_the_gil(base):
    """The extension is pointed at libc's pause(), which blocks until a
    signal arrives: a helper thread, which needs the GIL, sends SIGUSR1
    while the call is in progress. Had the call kept the GIL, the helper
    could not run and only the backup alarm would end the wait."""
    ix = oxvec.Flat(D)
    ix.add(base)
    seen = []
    in_call, done = threading.Event(), threading.Event()
    main = threading.main_thread().ident
    old = {s: signal.signal(s, lambda n, f: seen.append(n)) for s in (signal.SIGUSR1, signal.SIGALRM)}

    def helper():
        in_call.wait()
        while not done.is_set():
            signal.pthread_kill(main, signal.SIGUSR1)
            done.wait(0.01)

    t = threading.Thread(target=helper)
    t.start()
    _fast.bind(ctypes.CDLL(None).pause)
    signal.setitimer(signal.ITIMER_REAL, 10)  # the backup: never needed when the GIL is released
    try:
        in_call.set()
        with pytest.raises(oxvec.Error):  # pause() returns -1, which reads as a failed search
            ix.search(base[0], 3)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        done.set()
        t.join()
        _fast.bind(lib.oxv_index_search)
        for s, h in old.items():
            signal.signal(s, h)
    assert signal.SIGUSR1 in seen and signal.SIGALRM not in seen, seen


def _search_in_child(ix, q, queue):
    try:
        ix.search(q, 3)
        queue.put("searched")
    except oxvec.ForkError as e:
        queue.put(f"ForkError: {e}")
    except Exception as e:  # pragma: no cover - reported to the parent
        queue.put(f"{type(e).__name__}: {e}")


@needs_extension
def test_a_forked_child_never_enters_the_engine_through_the_fast_path(base):
    """The Go runtime does not survive fork: in the child the extension
    declines, and the ctypes path raises ForkError, for an index the parent
    made (the call the fast path would otherwise take)."""
    import multiprocessing

    ix = oxvec.Flat(D)
    ix.add(base)
    assert _fast.search(ix._handle, base[0], D, 3, 0, 0, 1) is not None
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    p = ctx.Process(target=_search_in_child, args=(ix, base[0], queue))
    p.start()
    got = queue.get(timeout=120)
    p.join(timeout=120)
    assert got.startswith("ForkError: ") and p.exitcode == 0, got
