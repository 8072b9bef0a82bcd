"""Request bodies that carry vectors: JSON (vectors as arrays of numbers)
or binary - application/x-npy, or raw little-endian float32
(application/octet-stream) with the shape in the X-Oxvec-Shape header -
read with numpy.frombuffer, never a Python loop over the values.

A binary body's other fields (ids, documents, k, filters...) are JSON,
either in the X-Oxvec-Request header (handy with curl) or in the first
X-Oxvec-Request-Length bytes of the body, before the vectors (what
oxvec.Client sends: no header size limit for bulk writes).
"""

from __future__ import annotations

import io
import json
import math

import numpy as np

from .problems import HTTPProblem

NPY = "application/x-npy"
RAW = "application/octet-stream"
JSON = "application/json"
SHAPE_HEADER = "x-oxvec-shape"
REQUEST_HEADER = "x-oxvec-request"
REQUEST_LENGTH_HEADER = "x-oxvec-request-length"
_FLOATS = (np.float16, np.float32, np.float64)


def bad(detail: str, status: int = 400) -> HTTPProblem:
    return HTTPProblem(status, "InvalidArgumentError", detail)


def media_type(headers) -> str:
    return (headers.get("content-type") or JSON).split(";")[0].strip().lower()


def parse(body: bytes, headers) -> tuple[dict, np.ndarray | None]:
    """(the JSON fields, the binary vectors or None) of a request body."""
    raw, what, vectors = split(body, headers)
    return fields(raw, what), vectors


def split(body: bytes, headers) -> tuple[bytes, str, np.ndarray | None]:
    """(the JSON fields' text, where it came from, the binary vectors or
    None) of a request body: the text not yet decoded, so that a caller
    may keep what it decodes to (rest.search_response)."""
    kind = media_type(headers)
    if kind in (JSON, "application/problem+json") or kind.endswith("+json"):
        return body, "the request body", None
    if kind not in (NPY, RAW):
        raise HTTPProblem(415, "UnsupportedMediaType",
                          f"content type {kind!r} is not accepted; send {JSON}, {NPY} or {RAW} (float32 with {SHAPE_HEADER})")
    view = memoryview(body)
    raw, what = b"", "the request"
    n = headers.get(REQUEST_LENGTH_HEADER)
    if n is not None:
        try:
            n = int(n)
        except ValueError:
            raise bad(f"{REQUEST_LENGTH_HEADER} must be an integer, got {n!r}") from None
        if not 0 <= n <= len(body):
            raise bad(f"{REQUEST_LENGTH_HEADER} is {n} but the body has {len(body)} bytes")
        raw, what = bytes(view[:n]), "the request's JSON part"
        view = view[n:]
    elif headers.get(REQUEST_HEADER):
        raw, what = headers[REQUEST_HEADER].encode("latin-1"), f"the {REQUEST_HEADER} header"
    vectors = _npy(view) if kind == NPY else _raw(view, headers.get(SHAPE_HEADER))
    return raw, what, vectors


def fields(raw: bytes, what: str) -> dict:
    """The JSON object in raw (what: where it came from, for the error)."""
    if not raw.strip():
        return {}
    try:
        out = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise bad(f"{what} is not valid JSON: {e}") from None
    if not isinstance(out, dict):
        raise bad(f"{what} must be a JSON object, not {type(out).__name__}")
    return out


def _raw(view: memoryview, shape: str | None) -> np.ndarray:
    if not shape:
        raise bad(f"a raw float32 body needs the {SHAPE_HEADER} header: 'n,dim' (or 'dim' for one vector)")
    try:
        dims = tuple(int(x) for x in shape.split(","))
    except ValueError:
        raise bad(f"{SHAPE_HEADER} must be 'n,dim' or 'dim' (integers), got {shape!r}") from None
    if not 1 <= len(dims) <= 2 or any(d < 0 for d in dims):
        raise bad(f"{SHAPE_HEADER} must be 'n,dim' or 'dim' with non-negative integers, got {shape!r}")
    return _frombuffer(view, np.dtype("<f4"), dims, False)


def _npy(view: memoryview) -> np.ndarray:
    f = io.BytesIO(view)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            dims, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            dims, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"npy format version {version} is not supported")
    except ValueError as e:
        raise bad(f"the body is not a valid .npy array: {e}") from None
    if dtype.hasobject or dtype.type not in _FLOATS:
        raise bad(f"a .npy body must hold float16/32/64 values, not {dtype}")
    if not 1 <= len(dims) <= 2:
        raise bad(f"a .npy body must be 1-d (one vector) or 2-d (n, dim), got shape {dims}")
    return _frombuffer(view[f.tell():], dtype, dims, fortran)


def _frombuffer(data: memoryview, dtype: np.dtype, dims: tuple, fortran: bool) -> np.ndarray:
    count = math.prod(dims)
    if count * dtype.itemsize != len(data):
        raise bad(f"shape {dims} of {dtype} needs {count * dtype.itemsize} bytes of vectors, the body has {len(data)}")
    a = np.frombuffer(data, dtype, count).reshape(dims, order="F" if fortran else "C")
    if len(dims) == 1:
        a = a.reshape(1, -1)
    return a if dtype == np.float32 and dtype.isnative else a.astype(np.float32)
