"""How the idiomatic layer calls the engine: status checks, per-thread
scratch, Ctrl-C, and output buffers.

Per-thread scratch: every thread owns one error buffer and one search
request, allocated once, whose addresses are known, so a call costs no
allocation and no pointer lookups for them. ``search`` is the one place
that packs the request, for every call that reads one.

Ctrl-C: Python runs signal handlers only in the main thread and only between
bytecodes, so a long engine call would ignore Ctrl-C until it returned. A call
expected to be long therefore runs on a helper thread while the main thread
waits interruptibly; Ctrl-C raises the call's cancel flag, the engine stops
within milliseconds, and KeyboardInterrupt propagates as usual.

Progress: while it waits, the main thread polls the call's progress counter
(oxv_progress, keyed by the cancel flag; the engine never calls back) every
~100 ms and draws a tqdm bar (tqdm.auto: a widget in a notebook), for calls
that report progress (index add and train). tqdm is optional: without it,
no bar. ``set_progress`` sets the default, a call's ``progress=`` overrides it.

Output slabs: a small search result is carved from a per-thread slab of
preallocated output memory whose address is known, because asking numpy for
a fresh array's address costs about a microsecond per array, more than the
engine needs for a small search. Result arrays are views that keep their
slab alive; a slab holds 16 Ki results.
"""

from __future__ import annotations

import ctypes
import json
import struct
import sys
import threading
import time

import numpy as np

from . import _capi
from ._errors import from_status
from ._library import lib

_SLAB = 1 << 14  # results per slab
_REQUEST = struct.Struct(_capi.OXV_SEARCH_REQUEST_FORMAT)
_REQUEST_SIZE = ctypes.sizeof(_capi.oxv_search_request)
NO_FILTER = (0, 0, 0, 0)  # a request's allow_ids, n_allow_ids, allow_mask, n_allow_mask: none


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.err = _capi.oxv_error()
        self.err_addr = ctypes.addressof(self.err)
        self.request = ctypes.create_string_buffer(_REQUEST_SIZE)
        # prebuilt pointer objects: ctypes passes them without conversion
        self.err_ptr = ctypes.c_void_p(self.err_addr)
        self.request_ptr = ctypes.c_void_p(ctypes.addressof(self.request))
        self.slab = _new_slab()
        # a front end's cancel flag for this thread's engine calls (the
        # server's per-request timeout raises it); 0: none
        self.cancel = 0


def _new_slab() -> list:
    """[ids, distances, ids address, distances address, results used]; a
    list because item access is cheaper than attributes of a thread-local."""
    ids = np.empty(_SLAB, np.int64)
    dist = np.empty(_SLAB, np.float32)
    return [ids, dist, ids.ctypes.data, dist.ctypes.data, 0]


state = _ThreadState()


def error_text(st: _ThreadState) -> str:
    return st.err.message.decode("utf-8", "replace")


def check(rc: int, st: _ThreadState) -> None:
    """Raise the exception for a failed call's status."""
    if rc:
        raise from_status(rc, error_text(st))


def outputs(st: _ThreadState, n: int):
    """(ids, distances, ids address, distances address): fresh result
    buffers of n values, carved from the thread's slab when small."""
    if n > _SLAB // 4:  # big results get arrays of their own
        ids = np.empty(n, np.int64)
        dist = np.empty(n, np.float32)
        return ids, dist, ids.ctypes.data, dist.ctypes.data
    slab = st.slab
    used = slab[4]
    end = used + n
    if end > _SLAB:
        slab = st.slab = _new_slab()
        used, end = 0, n
    slab[4] = end
    return slab[0][used:end], slab[1][used:end], slab[2] + 8 * used, slab[3] + 4 * used


def search(st: _ThreadState, handle, q_addr, nq, dim, k, ids_addr, dist_addr, cancel_addr=0, ef=0, nprobe=0,
           allow_ids=0, n_allow_ids=0, allow_mask=0, n_allow_mask=0, call=None, recall=0.0, beam_width=0) -> None:
    """Fill the thread's search request and run it, or raise:
    oxv_index_search into the buffers at ids_addr and dist_addr, or
    ``call(request, err)``, another call that reads a request (range search,
    the benchmarks' repeat). The filter fields are those of
    ``_convert.filter_fields``. The hot path of the package: one function
    call with plain arguments (no *args), so it costs Index._search little."""
    _REQUEST.pack_into(st.request, 0, _REQUEST_SIZE, ef, nprobe, recall, handle, q_addr, nq, dim, k, ids_addr, dist_addr,
                       cancel_addr, allow_ids, n_allow_ids, allow_mask, n_allow_mask, beam_width, 0)
    rc = lib.oxv_index_search(st.request_ptr, st.err_ptr) if call is None else call(st.request_ptr, st.err_ptr)
    if rc:
        raise from_status(rc, error_text(st))


_POLL_S = 0.1  # how often a waiting call reads its progress
_progress_default = None  # None: a bar when stderr is a terminal or in a notebook


def set_progress(on) -> None:
    """Default for the ``progress=`` of long calls (Index.add, Index.train):
    True always draws a tqdm bar, False never, None (the initial value) when
    stderr is a terminal or in a Jupyter kernel. A bar needs tqdm installed."""
    global _progress_default
    if on is not None and not isinstance(on, bool):
        raise TypeError(f"progress must be True, False or None, got {on!r}")
    _progress_default = on


def _wants_bar(progress) -> bool:
    if progress is None:
        progress = _progress_default
    if progress is None:
        try:
            return sys.stderr is not None and (sys.stderr.isatty() or "ipykernel" in sys.modules)
        except Exception:  # a replaced stderr without isatty
            return False
    return bool(progress)


class _Meter:
    """A tqdm bar fed from oxv_progress for the call whose cancel flag is
    flag; created when the call first reports a total. Any failure of tqdm
    turns the bar off, never the call."""

    def __init__(self, flag, desc: str, unit: str) -> None:
        self.flag_addr = ctypes.addressof(flag)
        self.vals = (ctypes.c_int64 * 2)()
        self.done_addr = ctypes.addressof(self.vals)
        self.desc, self.unit = desc, unit
        self.bar = None
        self.off = False
        self.next = time.monotonic() + _POLL_S
        self.total = 0

    def poll(self) -> None:
        now = time.monotonic()
        if self.off or now < self.next:
            return
        self.next = now + _POLL_S
        try:
            lib.oxv_progress(self.flag_addr, self.done_addr, self.done_addr + 8)
            done, total = self.vals[0], self.vals[1]
            if total <= 0:
                return
            if self.bar is None:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, unit_scale=True)
            if total != self.bar.total:
                self.bar.total = total
            self.total = total
            if done > self.bar.n:
                self.bar.update(done - self.bar.n)
        except Exception:  # ImportError: no tqdm; anything else: no bar
            self.off = True
            self.close(False)

    def close(self, finished: bool) -> None:
        bar, self.bar = self.bar, None
        if bar is None:
            return
        try:
            if finished and self.total > bar.n:
                bar.update(self.total - bar.n)
            bar.close()
        except Exception:
            pass


def run_cancellable(fn, long: bool, keep=(), progress=None, desc: str = "", unit: str = "it"):
    """Run fn(cancel_address), one engine call that returns or raises, so
    that Ctrl-C stops it when it is expected to be long (see module doc).
    keep: the arrays whose addresses fn passes (inputs and outputs); the
    call's thread holds them until the engine returns. desc: a call that
    reports progress names its bar (unit: what it counts); progress: the
    caller's choice (True, False, None: set_progress's default)."""
    if state.cancel:  # a front end holds this call's cancel flag (and its thread)
        return fn(state.cancel)
    if not long or threading.current_thread() is not threading.main_thread():
        return fn(0)
    flag = ctypes.c_int32(0)
    meter = _Meter(flag, desc, unit) if desc and _wants_bar(progress) else None
    box: dict = {}
    done = threading.Event()

    def work(keep) -> None:
        try:
            box["value"] = fn(ctypes.addressof(flag))
        except BaseException as e:  # handed to the waiting thread
            box["error"] = e
        finally:
            done.set()

    thread = threading.Thread(target=work, args=(keep,), name="oxvec-call", daemon=True)
    # Wait on our own event, not Thread.join: a join interrupted by Ctrl-C
    # could return while the engine still wrote into the caller's result
    # arrays, which the KeyboardInterrupt then freed (heap corruption in
    # about 1 run in 30 of the Ctrl-C test). Further Ctrl-Cs only repeat the
    # cancel request: nothing is released before the engine call returns.
    # A Ctrl-C while the thread starts (Thread.start waits for it, and the
    # engine call may begin meanwhile) raises at once, with the cancel flag
    # up; the thread still holds keep, so the engine writes only into live
    # memory until it stops.
    interrupted = None
    started = False
    while True:
        try:
            if not started:
                thread.start()
                started = True
            if done.wait(0.05):
                break
            if meter is not None:
                meter.poll()
        except KeyboardInterrupt as e:
            flag.value = 1
            if not started:
                raise
            interrupted = interrupted or e
    if meter is not None:
        meter.close(interrupted is None and "error" not in box)
    if interrupted is not None:
        raise interrupted
    if "error" in box:
        raise box["error"]
    return box.get("value")


def json_out(fn, *args, size: int = 1024):
    """The JSON an engine call writes into a caller buffer: fn(*args, buf,
    len, &needed, err), retried once with the size the engine asks for."""
    st = state
    while True:
        buf = ctypes.create_string_buffer(size)
        needed = ctypes.c_size_t()
        check(fn(*args, ctypes.addressof(buf), size, ctypes.addressof(needed), st.err_addr), st)
        if needed.value <= size:
            return json.loads(buf.value)
        size = needed.value
