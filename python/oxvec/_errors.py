"""The exception classes of oxvec, mapped one to one from the C status codes.

Each class also derives from the built-in exception a Python user would catch
for that situation (ValueError for bad arguments, OSError for I/O, ...), so
``except ValueError`` keeps working for code that does not know oxvec.
"""

from __future__ import annotations

from . import _capi


class Error(Exception):
    """Base class of every error raised by oxvec."""

    code = 0


class InvalidArgumentError(Error, ValueError):
    """A parameter is out of range or malformed (k <= 0, NaN in input, bad spec)."""

    code = _capi.OXV_E_INVALID


class DimensionError(InvalidArgumentError):
    """A vector's length differs from the index dimension."""

    code = _capi.OXV_E_DIMENSION


class DuplicateIdError(Error, ValueError):
    """An id is already in the index, or appears twice in one batch."""

    code = _capi.OXV_E_DUPLICATE


class NotFoundError(Error, LookupError):
    """An id or file that was asked for does not exist."""

    code = _capi.OXV_E_NOT_FOUND


class StorageError(Error, OSError):
    """The operating system refused a read or a write."""

    code = _capi.OXV_E_IO


class CorruptFileError(Error):
    """A file failed its magic, version, length or checksum checks."""

    code = _capi.OXV_E_CORRUPT


class UnsupportedError(Error, ValueError):
    """The operation or parameter is not available for this index type or file version."""

    code = _capi.OXV_E_UNSUPPORTED


class CanceledError(Error):
    """The call was canceled while it ran."""

    code = _capi.OXV_E_CANCELED


class ClosedError(Error, ValueError):
    """The object was closed (like I/O on a closed file, a ValueError)."""

    code = _capi.OXV_E_CLOSED


class InvalidHandleError(ClosedError):
    """The engine does not know the handle: it was freed, or never valid."""

    code = _capi.OXV_E_HANDLE


class StateError(Error, RuntimeError):
    """Not allowed in the object's current state (for example: not trained)."""

    code = _capi.OXV_E_STATE


class MemoryLimitError(Error, MemoryError):
    """The call would exceed the memory limit set with oxvec.set_memory_limit."""

    code = _capi.OXV_E_NOMEM


class InternalError(Error, RuntimeError):
    """A bug in the engine; the message carries the Go stack. Please report it."""

    code = _capi.OXV_E_INTERNAL


class ForkError(Error, RuntimeError):
    """The engine was used in a child created by fork(), which a Go runtime does not survive."""


class RecoveryWarning(UserWarning):
    """Opening a store set aside part of its write-ahead log it could not
    read (a write torn by a crash, or damage with recovery="point_in_time");
    the bytes are kept in a quarantine file, and store.recovery reports it."""


class LibraryError(Error, ImportError):
    """The engine's shared library is missing or does not match this package."""


_BY_CODE = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        DimensionError,
        DuplicateIdError,
        NotFoundError,
        StorageError,
        CorruptFileError,
        UnsupportedError,
        CanceledError,
        ClosedError,
        InvalidHandleError,
        StateError,
        MemoryLimitError,
        InternalError,
    )
}


def from_status(rc: int, message: str) -> Error:
    """The exception for a failed call's status code and message."""
    cls = _BY_CODE.get(rc, InternalError)
    if cls is InternalError and rc not in _BY_CODE:
        message = f"unknown status {rc}: {message}"
    return cls(message)
