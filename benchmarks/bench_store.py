"""Durable collections: ingest throughput and reopen time against chromadb and
lancedb persistent collections, on wordnet-minilm (make bench-data).

    python benchmarks/bench_store.py [--n 100000] [--reps 5]

Ingest: the first n glosses of wordnet-minilm (384-d MiniLM embeddings,
cosine) with their text as the document and {"pos", "lex", "words"} as
metadata, added in batches of 1,000 to a fresh persistent collection:
  - oxvec.VectorStore, durability "always" (every batch fsync'd before add
    returns), HNSW m=16, ef_construction=100;
  - chromadb.PersistentClient, HNSW max_neighbors=16, ef_construction=100
    (chroma's defaults otherwise);
  - lancedb, a table appended batch by batch (lancedb builds no ANN index
    while ingesting; its IVF-PQ index is a separate step, timed apart).
Each repetition runs in a fresh process, the systems interleaved (A B C A B
C ...), all threads (2 here) as each library uses them by default.

Reopen: a fresh process opens the n-record collection and answers one
query; the time from the open call to the first result (engine start-up
excluded: each library is imported and warmed on a throwaway collection
first). Recall@10 of each HNSW (ef 64) over the 1,000 held-out queries is
reported beside, so the indexes compared are of similar quality.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

import numpy as np

import harness as H
import wordnet

DATA = H.HERE / "data" / "wordnet-minilm"
BATCH = 1000


def records(n: int):
    """ids, vectors, documents, metadatas of the first n base glosses."""
    keys = json.load(open(DATA / "base_keys.json"))[:n]
    glosses = {k: (words, d) for k, words, d in wordnet.glosses()}
    x = np.load(DATA / "base.npy", mmap_mode="r")[:n]
    docs, metas = [], []
    for k in keys:
        words, d = glosses[k]
        docs.append(d)
        metas.append({"pos": k.split(".")[0], "words": len(words), "first": words[0]})
    return keys, np.ascontiguousarray(x, np.float32), docs, metas


CHILD = r"""
import json, os, sys, time
import numpy as np
sys.path.insert(0, {bench!r})
import bench_store as B
mode, system, path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
print(json.dumps(getattr(B, mode + "_" + system)(path, n)))
"""


def run(mode: str, system: str, path: str, n: int) -> dict:
    code = CHILD.format(bench=str(H.HERE))
    env = dict(os.environ, PYTHONPATH=str(H.ROOT / "python"))
    out = subprocess.run([sys.executable, "-c", code, mode, system, path, str(n)], capture_output=True, text=True, env=env)
    if out.returncode:
        raise RuntimeError(f"{mode} {system}: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _recall(found, n: int) -> float:
    """recall@10 against exact cosine top-10 among the first n glosses."""
    base = np.load(DATA / "base.npy", mmap_mode="r")[:n]
    gt, _ = H.exact_knn(np.asarray(base, np.float32), np.load(DATA / "queries.npy"), 10, "cosine")
    return H.recall_at(np.asarray(found), gt, 10)


# --- oxvec -----------------------------------------------------------------
def ingest_oxvec(path: str, n: int) -> dict:
    import time

    import oxvec

    ids, x, docs, metas = records(n)
    t = time.perf_counter()
    s = oxvec.VectorStore(path, dim=384, metric="cosine", index={"type": "hnsw", "m": 16, "ef_construction": 100}, durability="always")
    for i in range(0, n, BATCH):
        s.add(ids[i:i + BATCH], x[i:i + BATCH], documents=docs[i:i + BATCH], metadatas=metas[i:i + BATCH])
    s.close()
    elapsed = time.perf_counter() - t
    return {"ingest_s": elapsed, "disk_bytes": _du(path)}


def reopen_oxvec(path: str, n: int) -> dict:
    import time

    import oxvec

    q = np.load(DATA / "queries.npy")
    oxvec.Flat(2).close()  # start the engine: its start-up is not reopen time
    t = time.perf_counter()
    s = oxvec.VectorStore(path)
    s.search(q[0], k=10, include=[])
    reopen = time.perf_counter() - t
    base = json.load(open(DATA / "base_keys.json"))
    pos = {k: i for i, k in enumerate(base)}
    r = s.search(q, k=10, ef=64, include=[])
    found = [[pos[k] for k in row] for row in r["ids"]]
    assert s.count() == n
    return {"reopen_s": reopen, "recall10": _recall(found, n)}


# --- chromadb --------------------------------------------------------------
def _chroma_collection(client, create: bool):
    if create:
        return client.create_collection(
            "bench", embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "max_neighbors": 16, "ef_construction": 100, "ef_search": 64}})
    return client.get_collection("bench", embedding_function=None)


def ingest_chroma(path: str, n: int) -> dict:
    import time

    import chromadb

    ids, x, docs, metas = records(n)
    t = time.perf_counter()
    c = _chroma_collection(chromadb.PersistentClient(path=path), True)
    for i in range(0, n, BATCH):
        c.add(ids=ids[i:i + BATCH], embeddings=x[i:i + BATCH], documents=docs[i:i + BATCH], metadatas=metas[i:i + BATCH])
    assert c.count() == n
    elapsed = time.perf_counter() - t
    return {"ingest_s": elapsed, "disk_bytes": _du(path)}


def reopen_chroma(path: str, n: int) -> dict:
    import time

    import chromadb

    q = np.load(DATA / "queries.npy")
    warm = tempfile.mkdtemp()
    _chroma_collection(chromadb.PersistentClient(path=warm), True).add(ids=["w"], embeddings=q[:1])
    t = time.perf_counter()
    c = _chroma_collection(chromadb.PersistentClient(path=path), False)
    c.query(query_embeddings=q[:1], n_results=10, include=["distances"])
    reopen = time.perf_counter() - t
    base = json.load(open(DATA / "base_keys.json"))
    pos = {k: i for i, k in enumerate(base)}
    r = c.query(query_embeddings=q, n_results=10, include=["distances"])
    found = [[pos[k] for k in row] for row in r["ids"]]
    shutil.rmtree(warm, ignore_errors=True)
    return {"reopen_s": reopen, "recall10": _recall(found, n)}


# --- lancedb ---------------------------------------------------------------
def _arrow(ids, x, docs, metas):
    import pyarrow as pa

    return pa.table({
        "id": pa.array(ids),
        "vector": pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), x.shape[1]),
        "document": pa.array(docs),
        "pos": pa.array([m["pos"] for m in metas]),
        "words": pa.array([m["words"] for m in metas], pa.int64()),
        "first": pa.array([m["first"] for m in metas]),
    })


def ingest_lancedb(path: str, n: int) -> dict:
    import time

    import lancedb

    ids, x, docs, metas = records(n)
    t = time.perf_counter()
    db = lancedb.connect(path)
    tbl = None
    for i in range(0, n, BATCH):
        batch = _arrow(ids[i:i + BATCH], x[i:i + BATCH], docs[i:i + BATCH], metas[i:i + BATCH])
        if tbl is None:
            tbl = db.create_table("bench", data=batch)
        else:
            tbl.add(batch)
    elapsed = time.perf_counter() - t
    assert tbl.count_rows() == n
    t = time.perf_counter()
    tbl.create_index(metric="cosine", vector_column_name="vector", index_type="IVF_PQ", num_partitions=256, num_sub_vectors=48)
    index_s = time.perf_counter() - t
    return {"ingest_s": elapsed, "index_s": index_s, "disk_bytes": _du(path)}


def reopen_lancedb(path: str, n: int) -> dict:
    import time

    import lancedb

    q = np.load(DATA / "queries.npy")
    warm = tempfile.mkdtemp()
    lancedb.connect(warm).create_table("w", data=_arrow(["w"], q[:1], ["w"], [{"pos": "n", "words": 1, "first": "w"}]))
    t = time.perf_counter()
    tbl = lancedb.connect(path).open_table("bench")
    tbl.search(q[0]).metric("cosine").limit(10).to_list()
    reopen = time.perf_counter() - t
    shutil.rmtree(warm, ignore_errors=True)
    return {"reopen_s": reopen}


def _du(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


SYSTEMS = ["oxvec", "chroma", "lancedb"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    import chromadb
    import lancedb

    import oxvec

    root = tempfile.mkdtemp(prefix="oxvec-bench-store-")
    runs: dict[str, list[dict]] = {s: [] for s in SYSTEMS}
    try:
        for rep in range(args.reps):
            for s in SYSTEMS:  # interleaved, each in a fresh process and directory
                path = os.path.join(root, f"{s}-{rep}")
                r = run("ingest", s, path, args.n)
                r.update(run("reopen", s, path, args.n))
                runs[s].append(r)
                print(f"rep {rep} {s}: {json.dumps(r)}", flush=True)
                if rep < args.reps - 1:
                    shutil.rmtree(path)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def med(s, key):
        xs = [r[key] for r in runs[s] if key in r]
        return statistics.median(xs) if xs else None

    def spread(s, key):
        xs = [r[key] for r in runs[s]]
        return f"{min(xs):.2f}-{max(xs):.2f}"

    m = H.machine({"chromadb": chromadb.__version__, "lancedb": lancedb.__version__, "oxvec": oxvec.__version__})
    H.save_json("store", {"machine": m, "n": args.n, "batch": BATCH, "runs": runs})
    rows = []
    for s in SYSTEMS:
        ing = med(s, "ingest_s")
        rows.append([
            s, f"{ing:.1f} ({spread(s, 'ingest_s')})", H.fmt_rate(args.n / ing), f"{med('oxvec', 'ingest_s') and ing / med('oxvec', 'ingest_s'):.2f}x",
            f"{med(s, 'index_s'):.1f}" if med(s, "index_s") else "-",
            f"{1000 * med(s, 'reopen_s'):.0f} ({1000 * min(r['reopen_s'] for r in runs[s]):.0f}-{1000 * max(r['reopen_s'] for r in runs[s]):.0f})",
            f"{med(s, 'recall10'):.3f}" if med(s, "recall10") else "- (exact scan)",
            f"{med(s, 'disk_bytes') / args.n:.0f}",
        ])
    body = "\n".join([
        f"wordnet-minilm, first {args.n:,} glosses (384-d, cosine), documents and 3 metadata fields, batches of {BATCH:,}; "
        f"medians of {args.reps} interleaved repetitions (spread in brackets), each in a fresh process; all threads.",
        "oxvec: durability \"always\", HNSW m=16 ef_construction=100. chromadb: PersistentClient, HNSW max_neighbors=16 "
        "ef_construction=100. lancedb: appended table (no ANN index during ingest; IVF_PQ 256 partitions x 48 sub-vectors built after, column 'index').",
        "",
        H.markdown_table(["system", "ingest s", "records/s", "time / oxvec's", "index s", "reopen + first query ms", "recall@10 (ef 64)", "disk bytes/record"], rows),
        "",
        H.machine_line(m),
    ])
    H.update_results_md("store", body)
    print(body)


if __name__ == "__main__":
    main()
