"""The vector literal: ``"[0.25, -1.5, 3.0]"^^vec:Vector``.

Datatype IRI: ``http://oxirs.org/vec/Vector``. Lexical form: a JSON array
of finite numbers, the components of a float32 vector in order (at least
one). Whitespace between tokens is allowed; NaN, Infinity, nested arrays and
non-numbers are not. Values are read as float64 and rounded to float32; we
write each component as the shortest decimal that reads back to the same
float32, so a vector survives a round trip through text bit for bit.

JSON rather than base64: a person can read and write it in a query, and
every SPARQL engine passes it through as an ordinary literal.
"""

from __future__ import annotations

import json

import numpy as np

from .._errors import InvalidArgumentError

VEC = "http://oxirs.org/vec/"
VECTOR = VEC + "Vector"


def encode(v) -> str:
    """The lexical form of a vector (any 1-d array of numbers)."""
    a = np.asarray(v, dtype=np.float32)
    if a.ndim != 1 or a.size == 0:
        raise InvalidArgumentError(f"a vector literal holds a non-empty 1-d vector, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InvalidArgumentError("a vector literal holds finite numbers only (no NaN or infinity)")
    return "[" + ", ".join(np.format_float_positional(x, unique=True, trim="-") for x in a) + "]"


def decode(lexical: str) -> np.ndarray:
    """A vector literal's lexical form as a float32 array."""
    if not isinstance(lexical, str):
        raise TypeError(f"a vector literal's lexical form is a str, not {type(lexical).__name__}")
    try:
        xs = json.loads(lexical, parse_constant=_reject_constant)
    except ValueError as e:
        raise InvalidArgumentError(f"not a vec:Vector lexical form ({e}); write a JSON array of numbers, e.g. \"[0.1, 0.2]\"") from None
    if not isinstance(xs, list) or not xs or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs):
        raise InvalidArgumentError("a vec:Vector lexical form is a non-empty JSON array of numbers, e.g. \"[0.1, 0.2]\"")
    a = np.asarray(xs, dtype=np.float64)
    if not np.all(np.isfinite(a)) or np.any(np.abs(a) > np.finfo(np.float32).max):
        raise InvalidArgumentError("a vec:Vector component is out of float32 range")
    return a.astype(np.float32)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a finite number")
