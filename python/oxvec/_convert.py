"""Turning user input into the arrays the engine reads in place.

Inputs go through ``np.ascontiguousarray(x, dtype=np.float32)``: an array that
is already float32 and C-contiguous is used as it is (no copy), anything else
is converted once. Messages say what was wrong and what to pass instead.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ._errors import DimensionError, InvalidArgumentError

F32 = np.dtype(np.float32)
I64 = np.dtype(np.int64)
_NUMERIC = "biuf"


_addressof, _from_buffer = ctypes.addressof, ctypes.c_char.from_buffer  # bound once: address() is on every call's path


def address(a: np.ndarray) -> int:
    """The address of a C-contiguous array's first byte."""
    try:
        # about three times faster than a.ctypes.data, for writable arrays
        return _addressof(_from_buffer(a))
    except (TypeError, ValueError, BufferError):
        return a.ctypes.data


def vectors(x, dim: int, what: str = "vectors"):
    """(array, n, single): x as C-contiguous float32 rows of length dim.

    A 1-D input of length dim is one vector; `single` is True for it, so
    results can be returned 1-D as well.
    """
    if type(x) is not np.ndarray or x.dtype.kind != "f":
        x = _numeric(x, what)
    if x.dtype is F32:
        a = np.ascontiguousarray(x)
    else:
        with np.errstate(over="ignore"):  # out-of-range values become inf, which the engine names
            a = np.ascontiguousarray(x, dtype=F32)
    if a.ndim == 2:
        if a.shape[1] != dim:
            raise DimensionError(
                f"{what} have {a.shape[1]} columns but the index has dim {dim}; "
                f"pass an array of shape (n, {dim})"
            )
        return a, a.shape[0], False
    if a.ndim == 1:
        if a.shape[0] != dim:
            raise DimensionError(
                f"a single vector must have {dim} values, got {a.shape[0]}; "
                f"for several vectors pass an array of shape (n, {dim})"
            )
        return a, 1, True
    raise DimensionError(f"{what} must be 1-D (one vector) or 2-D (n, {dim}), got shape {a.shape}")


def _numeric(x, what: str) -> np.ndarray:
    try:
        a = np.asarray(x)
    except ValueError as e:
        raise InvalidArgumentError(
            f"{what} could not be read as an array ({e}); rows must all have the same length"
        ) from None
    if a.dtype.kind not in _NUMERIC:
        raise TypeError(
            f"{what} must be numbers (got an array of dtype {a.dtype}); pass a float32 array, "
            "for example numpy.asarray(x, dtype=numpy.float32)"
        )
    return a


def ids(x, n: int, what: str = "ids") -> np.ndarray:
    """x as a C-contiguous int64 array of n ids: an int or a 1-D sequence of
    ints. Nested lists and 2-D arrays are errors, never flattened."""
    a = _int_array(x, what)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1:
        raise InvalidArgumentError(
            f"{what} must be 1-D, one id per vector; got shape {a.shape}. Nested lists are not "
            f"flattened: pass a flat list (or numpy.ravel({what}) if that is what you mean)"
        )
    a = np.ascontiguousarray(a, dtype=I64)
    if n >= 0 and a.shape[0] != n:
        raise InvalidArgumentError(f"got {a.shape[0]} {what} for {n} vectors; pass one id per vector")
    return a


def k_value(k) -> int:
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if k <= 0:
        raise InvalidArgumentError(f"k must be >= 1, got {k}")
    return int(k)


def allow_list(f) -> np.ndarray:
    """A search filter as the engine reads it: int64 ids, or a uint8 mask
    indexed by id (from a boolean array). An empty list is an empty
    allow-list: it admits nothing."""
    a = _int_array(f, "filter", bools=True)
    if a.ndim != 1:
        raise InvalidArgumentError(f"filter must be 1-D (ids, or a boolean mask indexed by id), got shape {a.shape}")
    if a.dtype == np.bool_:
        return np.ascontiguousarray(a).view(np.uint8)
    return np.ascontiguousarray(a, dtype=np.int64)


def _int_array(x, what: str, bools: bool = False) -> np.ndarray:
    """x as an integer (or, with bools, boolean) array, exactly: an empty
    list is an empty int64 array, floats and ints beyond int64 are errors."""
    try:
        a = np.asarray(x)
    except ValueError:
        raise InvalidArgumentError(f"{what} must be a flat sequence of ints; got nested lists of different lengths") from None
    if a.size == 0 and a.dtype.kind in "fO":
        return np.zeros(a.shape, I64)
    if a.dtype == np.bool_ and bools:
        return a
    if a.dtype.kind == "O" and a.ndim <= 1:
        for v in a.reshape(-1):
            if isinstance(v, int) and not isinstance(v, bool):
                raise InvalidArgumentError(f"{what} must fit in int64; got {v}")
    if a.dtype.kind not in "iu":
        if bools:
            raise TypeError(f"{what} must be an array of ids or a boolean mask, got dtype {a.dtype}")
        raise TypeError(f"{what} must be integers (got dtype {a.dtype}); pass an int64 array")
    if a.dtype.kind == "u" and a.size and a.max() > np.iinfo(np.int64).max:
        raise InvalidArgumentError(f"{what} must fit in int64; got {a.max()}")
    return a


# An empty allow-list admits nothing; it still needs a non-NULL pointer to
# say "a filter is present".
_EMPTY_IDS = np.zeros(1, np.int64)


def filter_fields(allow: np.ndarray) -> tuple[int, int, int, int]:
    """(allow_ids, n_allow_ids, allow_mask, n_allow_mask) for a request."""
    if allow.size == 0:
        return _EMPTY_IDS.ctypes.data, 0, 0, 0
    if allow.dtype == np.uint8:
        return 0, 0, address(allow), allow.size
    return address(allow), allow.size, 0, 0
