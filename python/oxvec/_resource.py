"""The base of every Python object that owns an engine handle."""

from __future__ import annotations

import threading

from . import _library
from ._call import check, state
from ._errors import ClosedError


class Resource:
    """Owns one engine handle; frees it in close() or when garbage collected,
    and refuses use after close with ClosedError. Usable as a context manager.
    """

    _free_name = ""  # the engine function that frees this kind of handle
    _handle = 0

    def __init__(self, handle: int) -> None:
        self._handle = handle
        self._close_lock = threading.Lock()

    @property
    def closed(self) -> bool:
        return not self._handle

    def _live(self) -> int:
        h = self._handle
        if not h:
            raise ClosedError(f"this {type(self).__name__} is closed; create or load a new one")
        return h

    def close(self) -> None:
        """Release the engine's memory now. Further calls raise ClosedError.
        Calls already running on other threads finish first."""
        with self._close_lock:
            h, self._handle = self._handle, 0
        if h and not _library._forked:  # a forked child must not call the engine
            st = state
            check(getattr(_library.lib, self._free_name)(h, st.err_addr), st)

    def __enter__(self):
        self._live()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass  # interpreter shutdown or a forked child: nothing sensible to do
