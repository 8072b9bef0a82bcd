"""The C fast path of Index.search (_fastcall.c), when there is one.

``search`` is the extension's ``search`` or None: None when the extension
was not built (a source tree without ``make lib``, a build without a C
compiler or Python's headers), fails to import, or OXVEC_NO_FASTCALL=1 is
set, which forces the ctypes path (the tests run both). Without it oxvec
works exactly the same through ctypes, a little slower per call.

The extension calls the engine through the address of the
oxv_index_search that ctypes loaded: ``bind`` hands it over when
_library loads the engine, so nothing here loads the engine by itself.
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

from ._errors import from_status

# results per output slab, as _call's slabs
SLAB = 1 << 14
# work (multiply-adds) above which a search takes the Ctrl-C-interruptible
# path; _index._LONG_CALL_WORK, repeated to keep the import graph acyclic
LONG_CALL_WORK = 50_000_000

if os.environ.get("OXVEC_NO_FASTCALL", "") not in ("", "0"):
    _ext = None
    why = "OXVEC_NO_FASTCALL is set"
else:
    try:
        from . import _fastcall as _ext

        why = ""
    except ImportError as e:  # not built, or built for another platform
        _ext = None
        why = f"the extension oxvec._fastcall is not importable: {e}"

# search(handle, queries, dim, k, ef, nprobe, cost) -> (ids, dist) or None
search = None if _ext is None else _ext.search


def _new_slab():
    return np.empty(SLAB, np.int64), np.empty(SLAB, np.float32)


def _raise_status(rc: int, message: str):
    raise from_status(rc, message)


def bind(oxv_index_search) -> None:
    """Point the extension at the loaded engine's oxv_index_search (a
    ctypes function); a no-op without the extension."""
    if _ext is not None:
        _ext.bind(ctypes.cast(oxv_index_search, ctypes.c_void_p).value, _new_slab, _raise_status, LONG_CALL_WORK)
