"""The JSON of the store's calls: how requests are encoded, and the checks
that run before (metadata values, filters, strings, counts), so that a
mistake is named in Python terms, by its place in the request.

Ids, documents, metadata and filters cross the C ABI as JSON (small next to
the vectors, and the engine validates them completely again before
logging); vectors cross as float32 buffers read in place.
"""

from __future__ import annotations

import json
import os

import numpy as np

from ._errors import InvalidArgumentError

# The fields a get or search may include.
FIELDS = ("documents", "metadatas", "embeddings", "distances")


def _plain(x):
    """json.dumps default: numpy scalars and arrays as Python values."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (tuple, set, frozenset)):
        return list(x)
    raise TypeError(
        f"metadata and filter values must be str, int, float, bool or lists of them; got {type(x).__name__} {x!r}"
    )


def dumps(obj) -> bytes:
    """obj as the UTF-8 JSON the engine reads; every request goes through
    here. Strings are sent as they are (ensure_ascii=False): a lone
    surrogate, which UTF-8 cannot hold, is an error naming its field rather
    than an escape the engine would read as U+FFFD."""
    try:
        return json.dumps(obj, default=_plain, allow_nan=False, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise InvalidArgumentError(_surrogate_message(obj)) from None
    except RecursionError:
        raise InvalidArgumentError("the request nests lists or dicts too deeply to encode") from None
    except ValueError as e:
        if "Out of range float" in str(e):  # NaN or infinity
            raise InvalidArgumentError(f"{e}: metadata and filter numbers must be finite") from None
        raise InvalidArgumentError(f"the request cannot be encoded as JSON: {e}") from None


def _surrogate_message(obj) -> str:
    """Where the first string UTF-8 cannot encode is, for the error."""
    stack = [(obj, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            try:
                node.encode()
            except UnicodeEncodeError as e:
                return (f"{path} holds a lone surrogate {node[e.start]!r} at position {e.start}, which UTF-8 cannot "
                        "encode (text decoded with errors='surrogateescape', or half of a UTF-16 pair); "
                        "clean it first, e.g. s.encode('utf-8', 'replace').decode()")
        elif isinstance(node, dict):
            items = list(node.items())
            for k, v in reversed(items):
                stack.append((v, f"{path}[{k!r}]" if path else str(k)))
            for k, _ in reversed(items):
                stack.append((k, f"{path} key {k!r}" if path else f"the key {k!r}"))
        elif isinstance(node, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(node))))
    return "a string holds a lone surrogate, which UTF-8 cannot encode"


# How deeply filter objects may nest: as core/store.MaxFilterDepth, the top
# level 1 and each object inside $and, $or or $not one more. Checked here
# before anything recurses (json.dumps would raise RecursionError at ~1000).
MAX_FILTER_DEPTH = 64

_INT64 = (-(2**63), 2**63 - 1)


def _check_int(v, where: str) -> None:
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and not _INT64[0] <= v <= _INT64[1]:
        shown = v if int(v).bit_length() <= 256 else f"of {int(v).bit_length()} bits"
        raise InvalidArgumentError(f"{where}: integer {shown} is outside int64 [-2**63, 2**63 - 1], the range of "
                                   "metadata integers; use a string (or a float, deliberately)")


def _check_scalars(v, where: str, lists: bool) -> None:
    """v is a metadata value: a scalar or (lists) a flat list of scalars."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)) and lists:
        for i, e in enumerate(v):
            _check_scalars(e, f"{where}[{i}]", False)
        return
    if isinstance(v, (list, tuple, set, frozenset, dict)):
        what = "lists cannot nest" if not isinstance(v, dict) else "values cannot be dicts"
        raise InvalidArgumentError(f"{where}: {what}; values are str, int, float, bool or a list of those")
    _check_int(v, where)


def check_metadatas(metas: list) -> None:
    for i, m in enumerate(metas):
        for k, v in (m or {}).items():
            if not isinstance(k, str):
                raise TypeError(f"metadatas[{i}] has the key {k!r} ({type(k).__name__}); metadata keys must be str "
                                f"(JSON would silently make it {json.dumps(str(k))})")
            _check_scalars(v, f"metadatas[{i}][{k!r}]", True)


def check_filter(w, what: str):
    """w checked before it is encoded: str keys, at most MAX_FILTER_DEPTH
    levels, field values scalars, lists of them or operator objects."""
    stack = [(w, 1, what)]
    while stack:
        node, depth, path = stack.pop()
        if not isinstance(node, dict):
            continue  # the engine says what is wrong with a non-object
        if depth > MAX_FILTER_DEPTH:
            raise InvalidArgumentError(f"{what} nests more than {MAX_FILTER_DEPTH} levels of $and, $or and $not; "
                                       "flatten it (an $in list, or one $and of many conditions)")
        for k, v in node.items():
            if not isinstance(k, str):
                raise TypeError(f"{path} has the key {k!r} ({type(k).__name__}); filter keys must be str")
            sub = f"{path}[{k!r}]"
            if k in ("$and", "$or") and isinstance(v, (list, tuple)):
                stack.extend((e, depth + 1, f"{sub}[{i}]") for i, e in enumerate(v))
            elif k == "$not":
                stack.append((v, depth + 1, sub))
            elif isinstance(v, dict):  # operators of a field: {"$gte": 1, "$in": [...]}
                for op, arg in v.items():
                    if not isinstance(op, str):
                        raise TypeError(f"{sub} has the key {op!r} ({type(op).__name__}); filter keys must be str")
                    _check_scalars(arg, f"{sub}[{op!r}]", True)
            else:
                _check_scalars(v, sub, True)
    return w


def strings(xs, what: str, n: int | None = None) -> list:
    if isinstance(xs, (str, bytes)):
        xs = [xs]
    out = list(xs)
    for i, x in enumerate(out):
        if not isinstance(x, str):
            if isinstance(x, np.str_):
                out[i] = str(x)
                continue
            if what == "documents" and x is None:
                continue
            raise TypeError(f"{what}[{i}] is {type(x).__name__} {x!r}; {what} must be strings (convert with str())")
    if n is not None and len(out) != n:
        raise InvalidArgumentError(f"got {len(out)} {what} for {n} ids; pass one per id")
    return out


def include(include) -> list:
    if isinstance(include, str):
        include = [include]
    inc = list(include)
    for f in inc:
        if f not in FIELDS:
            raise InvalidArgumentError(f"include: unknown field {f!r}; choose from {', '.join(FIELDS)}")
    return inc


def key_from_env(name: str) -> str:
    # read here: the engine's Go runtime sees the environment only as it was
    # when the library loaded
    v = os.environ.get(str(name), "")
    if not v:
        raise InvalidArgumentError(f"the environment variable {name} that should hold the key is not set")
    return v


def count(v, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
        raise InvalidArgumentError(f"{what} must be an int >= 0, got {v!r}")
    return int(v)
