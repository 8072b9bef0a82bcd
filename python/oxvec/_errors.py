"""The exception classes of oxvec, mapped one to one from the C status codes
(the table is _vocabulary.ERRORS, which also names each Go error class).

Each class also derives from the built-in exception a Python user would catch
for that situation (ValueError for bad arguments, OSError for I/O, ...), so
``except ValueError`` keeps working for code that does not know oxvec.
"""

from __future__ import annotations

import re

from . import _capi
from ._vocabulary import ERRORS


class Error(Exception):
    """Base class of every error raised by oxvec."""

    code = 0


class InvalidArgumentError(Error, ValueError):
    """A parameter is out of range or malformed (k <= 0, NaN in input, bad spec)."""


class DimensionError(InvalidArgumentError):
    """A vector's length differs from the index dimension."""


class DuplicateIdError(Error, ValueError):
    """An id is already in the index, or appears twice in one batch."""


class NotFoundError(Error, LookupError):
    """An id or file that was asked for does not exist."""


class StorageError(Error, OSError):
    """The operating system refused a read or a write."""


class CorruptFileError(Error):
    """A file failed its magic, version, length or checksum checks."""


class UnsupportedError(Error, ValueError):
    """The operation or parameter is not available for this index type or file version."""


class CanceledError(Error):
    """The call was canceled while it ran."""


class ClosedError(Error, ValueError):
    """The object was closed (like I/O on a closed file, a ValueError)."""


class InvalidHandleError(ClosedError):
    """The engine does not know the handle: it was freed, or never valid."""


class StateError(Error, RuntimeError):
    """Not allowed in the object's current state (for example: not trained)."""


class MemoryLimitError(Error, MemoryError):
    """The call would exceed the memory limit set with oxvec.set_memory_limit."""


class InternalError(Error, RuntimeError):
    """A bug in the engine; the message carries the Go stack. Please report it."""


class PermissionDeniedError(Error, PermissionError):
    """A tenancy session's key lacks the permission the call needs, or the
    key is unknown, wrong, revoked or expired (docs/tenancy.md)."""


class QuotaExceededError(Error):
    """A write would take a tenant past a quota; nothing was written.
    ``limit`` names it ("max_vectors", "max_storage_bytes",
    "max_index_bytes"), ``use`` is the tenant's use before the write and
    ``limit_value`` the quota."""

    limit: str | None = None
    use: int | None = None
    limit_value: int | None = None

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        m = re.match(r"limit=(\w+) use=(\d+) limit_value=(\d+)", message)
        if m:
            self.limit, self.use, self.limit_value = m.group(1), int(m.group(2)), int(m.group(3))


class RateLimitedError(Error):
    """A tenant's or a key's rate limit refused the call; ``retry_after`` is
    the seconds until it would be admitted."""

    retry_after: float | None = None

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        m = re.match(r"retry_after=([0-9.]+)s", message)
        if m:
            self.retry_after = float(m.group(1))


class ForkError(Error, RuntimeError):
    """The engine was used in a child created by fork(), which a Go runtime does not survive."""


class RecoveryWarning(UserWarning):
    """Opening a store set aside part of its write-ahead log it could not
    read (a write torn by a crash, or damage with recovery="point_in_time");
    the bytes are kept in a quarantine file, and store.recovery reports it."""


class LibraryError(Error, ImportError):
    """The engine's shared library is missing or does not match this package."""


def _by_code() -> dict[int, type[Error]]:
    """Each class of ERRORS gets its status code; the map back from codes."""
    by_code = {}
    for name, status, _go_class in ERRORS:
        cls = globals()[name]
        cls.code = getattr(_capi, status)
        by_code[cls.code] = cls
    return by_code


_BY_CODE = _by_code()


def from_status(rc: int, message: str) -> Error:
    """The exception for a failed call's status code and message."""
    cls = _BY_CODE.get(rc, InternalError)
    if cls is InternalError and rc not in _BY_CODE:
        message = f"unknown status {rc}: {message}"
    return cls(message)
