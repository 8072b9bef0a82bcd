"""The Embedder protocol and the adapters for plain functions and
sentence-transformers models."""

from __future__ import annotations

from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from .._errors import Error


class EmbedderError(Error, ImportError):
    """An embedder's model or library is missing; the message names the pip command."""


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into vectors.

    ``embedder(["a", "b"])`` returns an (n, dim) float32 array, one row per
    text; ``embedder("a")`` a (dim,) array.
    """

    name: str
    dim: int

    def __call__(self, texts: Sequence[str] | str) -> np.ndarray: ...


def texts_arg(texts) -> tuple[list[str], bool]:
    """(list of texts, whether one bare string was given)."""
    if isinstance(texts, str):
        return [texts], True
    if isinstance(texts, (bytes, bytearray)):
        raise TypeError("texts must be str, not bytes: decode them first, e.g. b.decode('utf-8')")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] is a {type(t).__name__}, not a str")
    return out, False


def _as_rows(x, n: int, dim: int, who: str) -> np.ndarray:
    a = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    if a.shape != (n, dim):
        raise ValueError(f"{who} returned shape {a.shape} for {n} texts, expected ({n}, {dim})")
    return a


class FunctionEmbedder:
    """A plain function ``f(list[str]) -> array (n, dim)`` as an Embedder."""

    def __init__(self, fn: Callable[[list[str]], object], dim: int | None = None, name: str | None = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "function")
        self.dim = int(dim) if dim is not None else int(np.asarray(fn(["dimension probe"]), np.float32).shape[-1])

    def __call__(self, texts):
        items, single = texts_arg(texts)
        out = _as_rows(self.fn(items) if items else np.empty((0, self.dim)), len(items), self.dim, self.name)
        return out[0] if single else out


def as_embedder(obj, dim: int | None = None, name: str | None = None) -> Embedder:
    """obj if it already is an Embedder, else a FunctionEmbedder around it."""
    if isinstance(obj, Embedder):
        return obj
    if not callable(obj):
        raise TypeError(f"an embedder must be callable on a list of strings, got {type(obj).__name__}")
    return FunctionEmbedder(obj, dim, name)


class SentenceTransformerEmbedder:
    """A sentence-transformers model (or model name) as an Embedder.

    ``normalize=True`` returns unit vectors, as MiniLM does.
    """

    def __init__(self, model, normalize: bool = True, batch_size: int = 32) -> None:
        if isinstance(model, str):
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as e:
                raise EmbedderError("SentenceTransformerEmbedder needs sentence-transformers: pip install sentence-transformers") from e
            model = SentenceTransformer(model)
        self.model = model
        self.normalize = normalize
        self.batch_size = batch_size
        self.dim = int(model.get_sentence_embedding_dimension())
        self.name = str(getattr(model, "model_card_data", None) and model.model_card_data.base_model or type(model).__name__)

    def __call__(self, texts):
        items, single = texts_arg(texts)
        if not items:
            return np.empty((0, self.dim), np.float32)
        out = self.model.encode(items, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=self.normalize, show_progress_bar=False)
        out = _as_rows(out, len(items), self.dim, "sentence-transformers")
        return out[0] if single else out
