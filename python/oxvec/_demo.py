"""The demo behind ``make demo``: ask questions of the Python standard
library's documentation, by keyword (BM25), by meaning (MiniLM embeddings)
and by both (hybrid).

The docstrings are collected at run time with :mod:`inspect` from the
modules of the running Python, so the text is real on every machine and
nothing is downloaded. The store is kept in a cache directory and reused
while the collected text is unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import inspect
import io
import json
import os
import pathlib
import shutil
import sys
import time
import warnings

QUESTIONS = [
    "how do I read a gzip-compressed file",
    "parse command line arguments",
    "compare two floats approximately",
    "copy a directory tree recursively",
    "measure how long a small piece of code takes to run",
    "generate a secure random token",
    "find files whose names match a wildcard pattern",
    "send an email",
]

# Modules whose import has side effects (a browser, a window, printing) or
# that only exist for tests and tooling.
_SKIP = {"antigravity", "this", "idlelib", "turtledemo", "turtle", "tkinter", "pydoc_data", "lib2to3",
         "ensurepip", "venv", "msilib", "winreg", "winsound", "msvcrt", "nturl2path", "test", "unittest.mock"}

_MAX_CHARS = 800  # MiniLM reads 256 tokens; the rest of a long paragraph is never seen


def _modules() -> list[str]:
    """Public top-level modules of the standard library and the public
    submodules of its packages (email.message, urllib.request, ...)."""
    import pkgutil

    top = getattr(sys, "stdlib_module_names", None) or sorted(sys.builtin_module_names)
    out = []
    for name in sorted(n for n in top if not n.startswith("_") and n not in _SKIP):
        out.append(name)
        spec = importlib.util.find_spec(name) if name not in sys.modules else sys.modules[name].__spec__
        if spec is None or not spec.submodule_search_locations:
            continue
        for info in pkgutil.walk_packages(spec.submodule_search_locations, name + ".", onerror=lambda _: None):
            parts = info.name.split(".")
            if not any(p.startswith("_") or p in ("test", "tests") for p in parts) and info.name not in _SKIP:
                out.append(info.name)
    return out


def _import(name: str):
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            return importlib.import_module(name)
        except BaseException:  # ImportError, SystemExit, platform errors: skip the module
            return None


def _entry(qual: str, obj) -> tuple[str, str] | None:
    """(qualified name, "name\nsummary"): the summary is the docstring's first
    paragraph that is not a signature. Whole docstrings ranked worse by
    keyword: their parameter prose outweighs what the object is for."""
    doc = obj.__doc__ if isinstance(getattr(obj, "__doc__", None), str) else None
    if not doc or not doc.strip():
        return None
    paras = [p.strip() for p in inspect.cleandoc(doc).split("\n\n") if p.strip()]
    short = qual.rsplit(".", 1)[-1]
    body = [p for p in paras if not (p.startswith(short + "(") or p.startswith(qual + "("))]
    if not body:
        return None
    return qual, f"{qual}\n{body[0][:_MAX_CHARS]}"


def collect(modules: list[str] | None = None) -> tuple[list[str], list[str]]:
    """(ids, documents): every public module, function, class and method of
    the standard library that has its own docstring, as "name\\nsummary"."""
    seen: dict[str, str] = {}
    for name in modules or _modules():
        mod = _import(name)
        if mod is None:
            continue
        found = [_entry(name, mod)]
        for attr, obj in sorted(vars(mod).items()):
            if attr.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
                continue  # private, or imported from elsewhere
            if not (inspect.isfunction(obj) or inspect.isbuiltin(obj) or inspect.isclass(obj)):
                continue
            found.append(_entry(f"{name}.{attr}", obj))
            if inspect.isclass(obj):
                for meth, m in sorted(vars(obj).items()):
                    if not meth.startswith("_") and (inspect.isfunction(m) or inspect.ismethoddescriptor(m)):
                        found.append(_entry(f"{name}.{attr}.{meth}", m))
        for e in found:
            if e is not None:
                seen.setdefault(*e)
    return list(seen), list(seen.values())


def _cache_dir() -> pathlib.Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "oxvec" / f"stdlib-docs-py{sys.version_info[0]}.{sys.version_info[1]}"


def _open_store(ids: list[str], docs: list[str], embedder, path: pathlib.Path, rebuild: bool):
    """The store of these documents at path: reused when its stamp matches,
    built (embedding every document) otherwise. Returns (store, seconds
    spent embedding, or None when reused)."""
    from . import VectorStore

    stamp = hashlib.sha256(json.dumps([ids, docs, embedder.name]).encode()).hexdigest()
    stamp_file = path / "oxvec-demo.stamp"
    if not rebuild and stamp_file.exists() and stamp_file.read_text() == stamp:
        return VectorStore(path / "store", embedder=embedder), None
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    t = time.perf_counter()
    vectors = embedder(docs)
    took = time.perf_counter() - t
    store = VectorStore(path / "store", dim=embedder.dim, metric="cosine", embedder=embedder, durability="never")
    store.add(ids, vectors, documents=docs)
    store.snapshot()
    stamp_file.write_text(stamp)
    return store, took


def _first_line(doc: str) -> str:
    summary = " ".join(doc.split("\n", 1)[-1].split())
    return summary[:70] + ("..." if len(summary) > 70 else "")


def ask(store, question: str, k: int = 3) -> None:
    """Print the top k hits of question in each mode, with timings."""
    print(f"\nQ: {question}")
    t = time.perf_counter()
    qv = store.embedder([question])
    embed_ms = (time.perf_counter() - t) * 1e3
    for mode in ("keyword", "vector", "hybrid"):
        t = time.perf_counter()
        if mode == "keyword":
            r = store.search(question, k=k, mode="keyword")
        else:
            r = store.search(qv, k=k, mode=mode, text=[question] if mode == "hybrid" else None)
        ms = (time.perf_counter() - t) * 1e3
        extra = "" if mode == "keyword" else f" + {embed_ms:.1f} ms to embed the question"
        print(f"  {mode:<8} {ms:6.2f} ms{extra}")
        for i, (rid, doc) in enumerate(zip(r["ids"][0], r["documents"][0])):
            if mode == "vector":
                score = f"cos {1 - r['distances'][0][i]:.3f}"
            elif mode == "keyword":
                score = f"bm25 {r['scores'][0][i]:.2f}"
            else:
                score = f"rrf {r['scores'][0][i]:.4f}"
            print(f"    {i + 1}. {rid:<34} {score:<11} {_first_line(doc)}")
        if not r["ids"][0]:
            print("    (no document shares a word with the question)")


def run(questions: list[str] | None = None, modules: list[str] | None = None, rebuild: bool = False,
        store_dir: str | None = None) -> int:
    from . import engine_version
    from .embed import MiniLM

    print(f"oxvec {engine_version()}: the Python {sys.version.split()[0]} standard library's docstrings, "
          "searched by keyword, by meaning and both")
    t = time.perf_counter()
    ids, docs = collect(modules)
    n_mod = len({i.split(".")[0] for i in ids})
    print(f"  collected {len(docs):,} docstrings from {n_mod} modules in {time.perf_counter() - t:.1f} s (inspect)")
    embedder = MiniLM()
    path = pathlib.Path(store_dir) if store_dir else _cache_dir()
    t = time.perf_counter()
    store, embed_s = _open_store(ids, docs, embedder, path, rebuild)
    with store:
        if embed_s is None:
            print(f"  reopened the store at {path} in {time.perf_counter() - t:.2f} s (--rebuild to start afresh)")
        else:
            print(f"  embedded them with all-MiniLM-L6-v2 (numpy) in {embed_s:.0f} s; "
                  f"store with BM25 built at {path} in {time.perf_counter() - t - embed_s:.1f} s")
        for q in questions or QUESTIONS:
            ask(store, q)
    return 0
