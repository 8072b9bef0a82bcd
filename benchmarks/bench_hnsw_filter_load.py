"""HNSW filters and memory-mapped loading, on wordnet-minilm (make bench-data).

    python benchmarks/bench_hnsw_filter_load.py

Filters: for 50%, 10%, 1% and 0.1% of the vectors allowed (random, fixed
seed), recall@10 against exact filtered search (oxvec.Flat with the same
filter) and QPS, at 1 thread, for oxvec.HNSW (ef 64) and for hnswlib's
filter callback (ef 64) in the same run.

Loading: a 100,000-vector prefix of the set, saved, then loaded with and
without mmap; load time (median of 5, each in a fresh process so the OS page
cache is the only cache) and the process's resident memory before, after
loading and after 1,000 searches.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import harness as H
import oxvec

SHARES = [0.5, 0.1, 0.01, 0.001]


def load_probe(path: str, mmap: bool) -> dict:
    """Runs in a child process: load time and resident memory."""
    code = f"""
import json, time, numpy as np, oxvec
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1]) * 1024
oxvec.set_num_threads(1)
oxvec.Flat(2)  # start the engine first: its start-up is not load time
before = rss()
t = time.perf_counter()
idx = oxvec.load({path!r}, mmap={mmap})
load = time.perf_counter() - t
after = rss()
q = np.load({str(H.HERE / 'data' / 'wordnet-minilm' / 'queries.npy')!r})
idx.search(q, 10, ef=64)
searched = rss()
print(json.dumps({{"load_s": load, "rss_before": before, "rss_after_load": after, "rss_after_search": searched}}))
"""
    env = dict(os.environ, PYTHONPATH=str(H.ROOT / "python"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def main() -> None:
    import hnswlib

    d = H.HERE / "data" / "wordnet-minilm"
    base, queries = np.load(d / "base.npy"), np.load(d / "queries.npy")
    n, dim = base.shape
    oxvec.set_num_threads(0)
    ox = oxvec.HNSW(dim, "cosine", m=16, ef_construction=200)
    ox.add(base)
    hl = hnswlib.Index("cosine", dim)
    hl.init_index(n, M=16, ef_construction=200)
    hl.add_items(base)
    exact = oxvec.Flat(dim, "cosine")
    exact.add(base)
    oxvec.set_num_threads(1)
    hl.set_num_threads(1)
    hl.set_ef(64)
    rng = np.random.default_rng(7)
    q = queries[:300]
    rows = []
    for share in SHARES:
        mask = rng.random(n) < share
        allowed = np.flatnonzero(mask)
        want, _ = exact.search(q, 10, filter=mask)
        allowed_set = set(allowed.tolist())
        t = H.interleaved({
            "oxvec": lambda: ox.search(q, 10, ef=64, filter=mask),
            "hnswlib": lambda: hl.knn_query(q, 10, filter=lambda i: i in allowed_set),
        }, reps=3)
        got_ox = ox.search(q, 10, ef=64, filter=mask)[0]
        got_hl = hl.knn_query(q, 10, filter=lambda i: i in allowed_set)[0]
        k = min(10, len(allowed))
        rows.append({"share": share, "allowed": int(len(allowed)),
                     "oxvec_recall": H.recall_at(got_ox, want, k), "hnswlib_recall": H.recall_at(got_hl, want, k),
                     "oxvec_qps": len(q) / t["oxvec"]["median_s"], "hnswlib_qps": len(q) / t["hnswlib"]["median_s"]})
        print(rows[-1], flush=True)

    loads = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "wordnet-100k.oxv")
        sub = oxvec.HNSW(dim, "cosine", m=16, ef_construction=200)
        oxvec.set_num_threads(0)
        sub.add(base[:100_000])
        sub.save(path)
        for mmap in (False, True):
            probes = [load_probe(path, mmap) for _ in range(5)]
            loads["mmap" if mmap else "read"] = {
                "load_ms": 1e3 * float(np.median([p["load_s"] for p in probes])),
                "rss_load_mib": float(np.median([p["rss_after_load"] - p["rss_before"] for p in probes])) / 2**20,
                "rss_search_mib": float(np.median([p["rss_after_search"] - p["rss_before"] for p in probes])) / 2**20,
                "file_mib": os.path.getsize(path) / 2**20,
            }
            print(loads, flush=True)
    m = H.machine({"hnswlib": "0.8"})
    H.save_json("hnsw_filter_load", {"machine": m, "filters": rows, "loads": loads})
    ft = [[f"{100 * r['share']:g}%", f"{r['allowed']:,}", f"{r['oxvec_recall']:.4f}", f"{r['oxvec_qps']:,.0f}",
           f"{r['hnswlib_recall']:.4f}", f"{r['hnswlib_qps']:,.0f}"] for r in rows]
    lt = [[how, f"{v['file_mib']:.0f}", f"{v['load_ms']:.1f}", f"{v['rss_load_mib']:.1f}", f"{v['rss_search_mib']:.1f}"] for how, v in loads.items()]
    body = "\n\n".join([
        "## HNSW filters and memory-mapped loading - `benchmarks/bench_hnsw_filter_load.py`",
        f"wordnet-minilm ({n:,} x {dim}, cosine), 300 queries, k = 10, ef = 64, 1 thread. Recall is against exact search with the same filter. hnswlib filters through a Python callback, the only way its Python binding offers.",
        H.markdown_table(["allowed", "vectors", "oxvec recall", "oxvec QPS", "hnswlib recall", "hnswlib QPS"], ft),
        "Loading a 100,000 x 384 index, each load in a fresh process (median of 5): resident memory grown by the load, and by the load plus a batch of 1,000 searches.",
        H.markdown_table(["load", "file MiB", "load ms", "RSS after load, MiB", "RSS after searches, MiB"], lt),
        H.machine_line(m),
    ])
    H.update_results_md("hnsw-filter-load", body)
    print(body)


if __name__ == "__main__":
    main()
