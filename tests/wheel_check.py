"""What an installed oxvec must do, run by tests/test_packaging.py with the
python of a fresh virtual environment, from a directory outside the
repository and without PYTHONPATH (so nothing of the source tree is seen).

    python wheel_check.py REPO_ROOT

The installed package must have exactly the modules of REPO_ROOT/python/oxvec
and import each. Prints one line per check; exits non-zero on the first
failure. cibuildwheel's test-command runs it too (pyproject.toml).
"""

import importlib
import pathlib
import pkgutil
import sys
import tempfile

import numpy as np


# modules that need an optional extra; without it their import raises an
# ImportError naming the pip command
# (for a package, every module in it too)
OPTIONAL = {"oxvec.langchain", "oxvec.distributed", "oxvec.server"}


def _optional(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in OPTIONAL)


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
        return True
    except ImportError:
        return False


def source_modules(repo) -> list:
    """The package's modules as a source tree has them: every .py under python/oxvec."""
    top = pathlib.Path(repo) / "python"
    out = []
    for f in sorted((top / "oxvec").rglob("*.py")):
        parts = list(f.relative_to(top).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.append(".".join(parts))
    return out


def extension_modules(repo) -> list:
    """The package's C extensions, one per .c file under python/oxvec
    (oxvec._fastcall), which a wheel holds built."""
    top = pathlib.Path(repo) / "python"
    return [".".join(f.relative_to(top).with_suffix("").parts) for f in sorted((top / "oxvec").rglob("*.c"))]


def main(repo: str) -> None:
    import oxvec

    expected = source_modules(repo) + extension_modules(repo)

    where = pathlib.Path(oxvec.__file__).resolve()
    assert "site-packages" in where.parts, where
    assert pathlib.Path(repo).resolve() not in where.parents, f"imported from the source tree: {where}"
    print(f"oxvec {oxvec.__version__} from {where.parent}, engine {oxvec.engine_version()}, Python {sys.version.split()[0]}")

    # liboxvec.so looks like an extension module to pkgutil; it is the engine, loaded with ctypes
    found = sorted(["oxvec"] + [m.name for m in pkgutil.walk_packages(oxvec.__path__, "oxvec.") if m.name != "oxvec.liboxvec"])
    # walk_packages cannot list the modules of a package whose import fails (oxvec.distributed without Ray)
    hidden = [p for p in OPTIONAL if not _importable(p)]
    expected = [m for m in expected if not any(m.startswith(p + ".") for p in hidden)]
    assert found == sorted(expected), f"installed modules {found} != the source tree's {sorted(expected)}"
    for name in found:
        try:
            importlib.import_module(name)
        except ImportError as e:
            # a module of an optional extra (oxvec.langchain) says which pip command it needs
            if not _optional(name) or not ("pip install 'oxvec[" in str(e) or 'pip install "oxvec[' in str(e)):
                raise
            print(f"{name}: {e}")
    print(f"imported {len(found)} modules: {' '.join(found)}")

    rng = np.random.default_rng(7)
    dim = 32
    base = rng.standard_normal((1000, dim)).astype(np.float32)
    queries = base[[17, 999]] + np.float32(0.01) * rng.standard_normal((2, dim)).astype(np.float32)
    indexes = {
        "Flat": oxvec.Flat(dim),
        "HNSW": oxvec.HNSW(dim, m=8),
        "IVFFlat": oxvec.IVFFlat(dim, nlist=16, nprobe=16),
        "Binary": oxvec.Binary(dim, rerank=50),
        "ScalarQuantizer": oxvec.ScalarQuantizer(dim),
        "PQ": oxvec.PQ(dim, m=16, nbits=4),
        "IVFPQ": oxvec.IVFPQ(dim, nlist=16, nprobe=16, m=16, nbits=4, refine=10),
        "OPQ": oxvec.OPQ(dim, m=16, inner={"type": "pq", "m": 16, "nbits": 4}, iters=1),
        "LSH": oxvec.LSH(dim, "cosine", tables=8, bits=8, probes=64),
    }
    missing = {n for n in oxvec.__all__ if isinstance(getattr(oxvec, n), type) and issubclass(getattr(oxvec, n), oxvec.Index)}
    missing -= set(indexes) | {"Index", "DiskANN"}  # DiskANN: built into its file, below
    assert not missing, f"index types not checked here: {missing}"
    tmp = pathlib.Path(tempfile.mkdtemp())
    for name, index in indexes.items():
        with index:
            if not index.is_trained:
                index.train(base[:300])  # enough for these sizes, and quick
            index.add(base)
            ids, dist = index.search(queries, k=10)
            assert ids.shape == (2, 10) and dist.dtype == np.float32, (name, ids.shape, dist.dtype)
            assert 17 in ids[0] and 999 in ids[1], (name, ids)
            index.save(tmp / f"{name}.oxv")
        with oxvec.load(tmp / f"{name}.oxv") as again:
            assert type(again).__name__ == name and np.array_equal(again.search(queries, k=10)[0], ids), name
    disk = oxvec.DiskANN(dim, r=16, l_build=32, path=tmp / "diskann.oxv")
    disk.build(base)
    ids, _ = disk.search(queries, k=10, l=64)
    assert 17 in ids[0] and 999 in ids[1], ("DiskANN", ids)
    disk.close()
    with oxvec.load(tmp / "diskann.oxv") as again:
        assert type(again).__name__ == "DiskANN" and np.array_equal(again.search(queries, k=10, l=64)[0], ids)
    print(f"searched, saved and loaded {', '.join(indexes)}, DiskANN")

    # the wheel's C call (oxvec._fastcall) is the one searches take, and
    # gives what the ctypes path gives
    from oxvec import _fast, _index

    assert _fast.search is not None and _index._fast_search is _fast.search, _fast.why
    with oxvec.HNSW(dim, m=8) as index:
        index.add(base)
        fast = [index.search(q, k=5) for q in (queries[0], queries)]
        _index._fast_search = None
        try:
            slow = [index.search(q, k=5) for q in (queries[0], queries)]
        finally:
            _index._fast_search = _fast.search
        for (fi, fd), (si, sd) in zip(fast, slow):
            assert fi.shape == si.shape and np.array_equal(fi, si) and np.array_equal(fd, sd), (fi, si)
    print("searches go through oxvec._fastcall, with the results of the ctypes path")

    docs = ["open a gzip-compressed file", "parse command line arguments", "copy a directory tree"]
    vecs = rng.standard_normal((3, 8)).astype(np.float32)
    with oxvec.VectorStore(tmp / "store", dim=8, metric="cosine") as store:
        store.add(["a", "b", "c"], vecs, documents=docs, metadatas=[{"n": 1}, {"n": 2}, {"n": 3}])
        hit = store.search(vecs[1], k=1)
        assert hit["ids"][0] == ["b"], hit
        hit = store.search("gzip file", k=1, mode="keyword")
        assert hit["ids"][0] == ["a"], hit
    with oxvec.VectorStore(tmp / "store", read_only=True) as store:
        assert store.count() == 3 and store.search(vecs[2], k=1, where={"n": 3})["ids"][0] == ["c"]
    print("VectorStore: added, searched by vector, keyword and filter, reopened")


if __name__ == "__main__":
    main(sys.argv[1])
    print("ok")
