"""Finding, loading and guarding the engine's shared library.

The library is loaded on first use, not at import, so ``import oxvec`` stays
cheap and a process that never calls the engine never starts a Go runtime.

A Go runtime does not survive fork(): the child has one thread and the
runtime's other threads are gone. Once the library is loaded, a fork hook
makes every later engine call in the child raise ForkError with what to do
instead. A child forked before the library was loaded may load it itself.

The bound functions live in one object, ``lib``: ``lib.oxv_index_new(...)``.
``_capi`` only declares them, so the import graph has no cycle (_capi <-
_errors <- _library).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

from . import _capi
from ._errors import ForkError, LibraryError

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_forked = False

_NAMES = {"darwin": "liboxvec.dylib", "win32": "oxvec.dll"}


def path() -> str:
    """Where the library is looked for: $OXVEC_LIBRARY, else inside the package."""
    env = os.environ.get("OXVEC_LIBRARY")
    if env:
        return env
    return os.path.join(os.path.dirname(__file__), _NAMES.get(sys.platform, "liboxvec.so"))


def loaded() -> bool:
    return _lib is not None


class Functions:
    """The engine's functions, one attribute each, bound with their
    ``_capi.PROTOTYPES`` when the library loads. An attribute not bound yet
    (before the first call, or in a forked child) loads the library first,
    which raises ForkError in a forked child."""

    def __getattr__(self, name: str):
        if name not in _capi.PROTOTYPES:
            raise AttributeError(f"the engine has no function {name!r} (see capi/oxvec.h)")
        load()
        return self.__dict__[name]


lib = Functions()


def load() -> ctypes.CDLL:
    """Load the library once and bind every prototype into ``lib``."""
    global _lib
    if _forked:
        raise ForkError(
            "oxvec was used in a process created by fork() after the parent had loaded the engine; "
            "a Go runtime does not survive fork(). Start workers with the 'spawn' method: "
            "multiprocessing.get_context('spawn') or concurrent.futures.ProcessPoolExecutor("
            "mp_context=multiprocessing.get_context('spawn'))."
        )
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            p = path()
            if not os.path.exists(p):
                raise LibraryError(
                    f"the oxvec engine library was not found at {p}; "
                    "reinstall oxvec (pip install oxvec), or in a source checkout run `make lib`"
                )
            try:
                so = ctypes.CDLL(p)
            except OSError as e:
                raise LibraryError(f"could not load the oxvec engine library {p}: {e}") from e
            bound = {}
            for name, (restype, argtypes) in _capi.PROTOTYPES.items():
                try:
                    fn = getattr(so, name)
                except AttributeError:
                    raise LibraryError(
                        f"{p} does not export {name}: the library and the Python package are "
                        "from different builds; rebuild with `make lib` or reinstall oxvec"
                    ) from None
                fn.restype, fn.argtypes = restype, argtypes
                bound[name] = fn
            abi = so.oxv_abi_version()
            if abi != _capi.OXV_ABI_VERSION:
                raise LibraryError(
                    f"{p} speaks ABI version {abi}, this package speaks "
                    f"{_capi.OXV_ABI_VERSION}; rebuild with `make lib` or reinstall oxvec"
                )
            lib.__dict__.update(bound)  # later lookups skip Functions.__getattr__
            from . import _fast  # the C search call, through this library's function

            _fast.bind(bound["oxv_index_search"])
            _lib = so
    return _lib


def _after_fork_in_child() -> None:
    global _forked
    if _lib is not None:
        _forked = True
        lib.__dict__.clear()  # the next call goes through load() and raises


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
