"""The Python/engine boundary: zero copies, the GIL released, Ctrl-C, fork,
and a ctypes mirror that matches the C header."""

import ctypes
import multiprocessing
import os
import re
import signal
import struct
import threading
import time

import numpy as np
import pytest

import oxvec
from oxvec import _call, _capi, _convert
from oxvec._library import lib
from conftest import ROOT


def test_float32_contiguous_input_is_not_copied(rng, monkeypatch):
    x = rng.standard_normal((100, 16)).astype(np.float32)
    assert _convert.vectors(x, 16)[0] is x
    seen = {}
    real_add = lib.oxv_index_add

    def spy(h, x_addr, *rest):
        seen["x"] = x_addr
        return real_add(h, x_addr, *rest)

    index = oxvec.Flat(16)
    monkeypatch.setattr(lib, "oxv_index_add", spy)
    index.add(x)
    assert seen["x"] == x.ctypes.data  # the engine read the caller's own buffer


def test_float32_query_is_read_in_place(rng, monkeypatch):
    # the ctypes path, whose request is the thread's; the C path's request
    # is checked in tests/test_fastcall.py
    monkeypatch.setattr(oxvec._index, "_fast_search", None)
    index = oxvec.Flat(16)
    index.add(rng.standard_normal((100, 16)).astype(np.float32))
    q = rng.standard_normal((3, 16)).astype(np.float32)
    index.search(q, k=2)
    fields = struct.unpack(_capi.OXV_SEARCH_REQUEST_FORMAT, _call.state.request.raw)
    names = [f for f, _ in _capi.oxv_search_request._fields_]
    assert fields[names.index("queries")] == q.ctypes.data


def test_other_inputs_are_converted_once(rng):
    x64 = rng.standard_normal((5, 3))
    a, n, single = _convert.vectors(x64, 3)
    assert a is not x64 and a.dtype == np.float32 and a.flags.c_contiguous and n == 5 and not single


def wait_for(predicate, what, timeout=60.0):
    """Poll until predicate() holds; the deadline only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.001)


@pytest.fixture
def big_index(rng):
    # big enough that a search of 2,000 queries runs for many seconds
    index = oxvec.Flat(64)
    index.add(rng.standard_normal((50_000, 64)).astype(np.float32))
    return index


def test_two_threads_are_inside_the_engine_at_once(big_index, rng):
    """Both searches are in flight at the same moment, which is only possible
    if each released the GIL. Cancelling them afterwards proves the flag."""
    queries = rng.standard_normal((2_000, 64)).astype(np.float32)
    flags = [ctypes.c_int32(0), ctypes.c_int32(0)]
    results = [None, None]
    h = big_index._handle

    def run(i):
        st = _call.state
        try:
            ids, dist, ia, da = _call.outputs(st, 2_000 * 5)
            _call.search(st, h, queries.ctypes.data, 2_000, 64, 5, ia, da, ctypes.addressof(flags[i]), 0, 0)
            results[i] = "finished"
        except oxvec.CanceledError:
            results[i] = "canceled"

    assert lib.oxv_calls_in_flight() == 0
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    wait_for(lambda: lib.oxv_calls_in_flight() == 2, "both searches to be running")
    # the main thread runs Python and a third engine call meanwhile
    assert big_index.search(queries[0], k=1)[0].shape == (1,)
    for f in flags:
        f.value = 1
    for t in threads:
        t.join()
    assert results == ["canceled", "canceled"]
    assert lib.oxv_calls_in_flight() == 0


def test_ctrl_c_interrupts_a_long_search(big_index, rng):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    queries = rng.standard_normal((2_000, 64)).astype(np.float32)

    def interrupt():
        wait_for(lambda: lib.oxv_calls_in_flight() >= 1, "the search to start")
        os.kill(os.getpid(), signal.SIGINT)

    t = threading.Thread(target=interrupt)
    t.start()
    with pytest.raises(KeyboardInterrupt):
        big_index.search(queries, k=5)
    t.join()
    wait_for(lambda: lib.oxv_calls_in_flight() == 0, "the engine call to stop")


def test_searches_stay_valid_while_other_threads_add_and_remove(rng):
    dim = 8
    index = oxvec.Flat(dim)
    index.add(rng.standard_normal((2000, dim)).astype(np.float32))
    errors = []
    stop = threading.Event()

    def searcher(seed):
        r = np.random.default_rng(seed)
        while not stop.is_set():
            ids, dist = index.search(r.standard_normal((4, dim)).astype(np.float32), k=10)
            if not (np.diff(dist, axis=1) >= 0).all() or (ids < 0).any():
                errors.append("bad result")

    def writer(seed):
        r = np.random.default_rng(seed)
        for _ in range(100):
            new = index.add(r.standard_normal((10, dim)).astype(np.float32))
            index.remove(new[:5])

    searchers = [threading.Thread(target=searcher, args=(s,)) for s in range(3)]
    writers = [threading.Thread(target=writer, args=(s,)) for s in (10, 11)]
    for t in searchers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in searchers:
        t.join()
    assert not errors
    assert len(index) == 2000 + 2 * 100 * 5


def _child_search(queue):
    try:
        oxvec.Flat(2).search(np.zeros(2, np.float32), k=1)
        queue.put("ok")
    except oxvec.ForkError as e:
        queue.put(f"ForkError: {e}")
    except Exception as e:  # pragma: no cover - reported to the parent
        queue.put(f"{type(e).__name__}: {e}")


def test_forked_child_gets_a_clear_error_and_spawn_works():
    oxvec.Flat(2)  # the engine is loaded in this process
    for method, expect in (("fork", "ForkError: "), ("spawn", "ok")):
        ctx = multiprocessing.get_context(method)
        queue = ctx.Queue()
        p = ctx.Process(target=_child_search, args=(queue,))
        p.start()
        got = queue.get(timeout=120)
        p.join(timeout=120)
        assert got.startswith(expect), (method, got)
        if method == "fork":
            assert "spawn" in got
        assert p.exitcode == 0


def test_ctypes_mirror_matches_the_header():
    header = (ROOT / "capi" / "oxvec.h").read_text()
    declared = set(re.findall(r"^\w[\w\s\*]*?\b(oxv_\w+)\(", header, re.M))
    assert declared == set(_capi.PROTOTYPES), declared ^ set(_capi.PROTOTYPES)
    for name, value in re.findall(r"#define (OXV_\w+) (-?\d+)", header):
        assert getattr(_capi, name) == int(value), name
    assert struct.calcsize(_capi.OXV_SEARCH_REQUEST_FORMAT) == ctypes.sizeof(_capi.oxv_search_request)
    # field by field: the struct format's offsets equal the ctypes offsets
    fmt = _capi.OXV_SEARCH_REQUEST_FORMAT
    offset = 0
    for (name, ctype), code in zip(_capi.oxv_search_request._fields_, fmt[1:]):
        assert getattr(_capi.oxv_search_request, name).offset == offset, name
        offset += struct.calcsize("<" + code)


def test_runtime_settings_round_trip():
    default = oxvec.get_num_threads()
    oxvec.set_num_threads(1)
    assert oxvec.get_num_threads() == 1
    oxvec.set_num_threads(0)
    assert oxvec.get_num_threads() == default
    assert oxvec.set_gc_percent(150) == 100
    assert oxvec.set_gc_percent(100) == 150
    old = oxvec.set_memory_limit(1 << 40)
    assert oxvec.set_memory_limit(old) == 1 << 40
    assert "go1." in oxvec.engine_version()
