"""The analyzer behind keyword search, for inspecting what BM25 sees."""

from __future__ import annotations

from ._call import json_out
from ._library import lib


def analyze(text: str) -> list[str]:
    """The BM25 index terms of ``text``, as a VectorStore's keyword search
    sees them: words (runs of letters and digits; '.', '_' and ':' split
    identifiers such as ``gzip.open``), lowercased, accents folded, English
    stop words dropped, Snowball English stems.

    >>> analyze("How do I read gzip-compressed files?")
    ['how', 'do', 'i', 'read', 'gzip', 'compress', 'file']
    """
    if not isinstance(text, str):
        raise TypeError(f"analyze takes a str, not {type(text).__name__}")
    if "\0" in text:
        raise ValueError("text contains a NUL character")
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"text holds a lone surrogate {text[e.start]!r} at position {e.start}, which UTF-8 cannot "
                         "encode; clean it first, e.g. text.encode('utf-8', 'replace').decode()") from None
    return json_out(lib.oxv_text_terms, raw, size=max(256, 4 * len(text)))
