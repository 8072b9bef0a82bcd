"""Process-wide engine settings.

The Go runtime reads GOMAXPROCS, GOMEMLIMIT and GOGC from the environment
once, when the library loads; setting them later from Python has no effect.
These functions change the same settings at any time.
"""

from __future__ import annotations

import ctypes
from ctypes import addressof

from ._call import check, state
from ._library import lib


def set_num_threads(n: int) -> None:
    """Use at most n threads for engine work (batch search, build). n <= 0
    restores the default, the number of CPUs. Like faiss.omp_set_num_threads."""
    st = state
    check(lib.oxv_set_num_threads(int(n), st.err_addr), st)


def get_num_threads() -> int:
    """How many threads engine work may use."""
    return int(lib.oxv_get_num_threads())


def set_memory_limit(nbytes: int | None) -> int:
    """Set the engine's soft memory limit in bytes (None: no limit); returns
    the previous limit. Calls that would exceed it raise MemoryLimitError."""
    st = state
    prev = ctypes.c_int64()
    value = (1 << 63) - 1 if nbytes is None else int(nbytes)
    if value < 0:
        raise ValueError("the memory limit must be >= 0 bytes, or None for no limit")
    check(lib.oxv_set_memory_limit(value, addressof(prev), st.err_addr), st)
    return prev.value


def set_gc_percent(percent: int) -> int:
    """Set the Go garbage collector's target percentage (default 100; lower
    trades CPU for memory, negative turns it off); returns the previous one."""
    st = state
    prev = ctypes.c_int32()
    check(lib.oxv_set_gc_percent(int(percent), addressof(prev), st.err_addr), st)
    return prev.value


def engine_version() -> str:
    """Version of the loaded engine library, with its Go version and platform."""
    buf = ctypes.create_string_buffer(128)
    lib.oxv_version(buf, 128)
    return buf.value.decode()
