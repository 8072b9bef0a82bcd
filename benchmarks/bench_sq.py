"""Scalar quantization: oxvec.ScalarQuantizer against faiss
IndexScalarQuantizer with the same codec (QT_8bit, QT_8bit_uniform, QT_4bit;
range = min/max of the training set), exhaustive search, same run, same
threads.

    python benchmarks/bench_sq.py [--reps 3] [--datasets bigann,wordnet]

Per dataset and quantizer: train and add time, recall@10 against the exact
ground truth, batch QPS at 1 thread and all threads, bytes per vector.
Cosine data is given to faiss L2-normalised with METRIC_INNER_PRODUCT.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import harness as H
import oxvec
from bench_hnsw import wordnet

K = 10
CONFIGS = [("8bit", 8, "per_dim", "QT_8bit"), ("8bit_uniform", 8, "uniform", "QT_8bit_uniform"), ("4bit", 4, "per_dim", "QT_4bit")]


def faiss_data(data: dict):
    """base and queries as faiss gets them (L2-normalised for cosine)."""
    base, queries = data["base"].astype(np.float32), data["queries"].astype(np.float32)
    if data["metric"] == "cosine":
        return base / np.linalg.norm(base, axis=1, keepdims=True), queries / np.linalg.norm(queries, axis=1, keepdims=True)
    return base, queries


def compare(data: dict, reps: int, configs) -> dict:
    """Train, add, recall and QPS of each (name, make oxvec index, make faiss
    index) config, the two libraries timed interleaved."""
    import faiss

    base, queries, gt = data["base"].astype(np.float32), data["queries"].astype(np.float32), data["gt_ids"]
    metric = data["metric"]
    n, dim = base.shape
    fb, fq = faiss_data(data)
    out = {"dataset": data["name"], "n": n, "dim": dim, "metric": metric, "configs": {}}
    for name, make_ox, make_faiss in configs:
        res = {}
        oxvec.set_num_threads(os.cpu_count())
        faiss.omp_set_num_threads(os.cpu_count())
        t = time.perf_counter()
        ox = make_ox(dim, metric)
        ox.train(base)
        tr = time.perf_counter() - t
        empty = ox.memory_bytes
        t = time.perf_counter()
        ox.add(base)
        res["oxvec"] = {"train_s": tr, "add_s": time.perf_counter() - t, "bytes_per_vector": (ox.memory_bytes - empty) / n}
        t = time.perf_counter()
        fi = make_faiss(dim, faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT)
        fi.train(fb)
        tr = time.perf_counter() - t
        t = time.perf_counter()
        fi.add(fb)
        res["faiss"] = {"train_s": tr, "add_s": time.perf_counter() - t, "bytes_per_vector": float(fi.sa_code_size())}
        for threads in (1, os.cpu_count()):
            oxvec.set_num_threads(threads)
            faiss.omp_set_num_threads(threads)
            timing = H.interleaved({"oxvec": lambda: ox.search(queries, K), "faiss": lambda: fi.search(fq, K)}, reps=reps)
            res["oxvec"][f"qps_{threads}"] = len(queries) / timing["oxvec"]["median_s"]
            res["faiss"][f"qps_{threads}"] = len(queries) / timing["faiss"]["median_s"]
        res["oxvec"]["recall"] = H.recall_at(ox.search(queries, K)[0], gt, K)
        res["faiss"]["recall"] = H.recall_at(fi.search(fq, K)[1], gt, K)
        print(f"  {name}: {res}", flush=True)
        out["configs"][name] = res
    return out


def sq_configs():
    import faiss

    return [(name, lambda d, m, b=bits, r=rng: oxvec.ScalarQuantizer(d, m, bits=b, range=r),
             lambda d, fm, q=qt: faiss.IndexScalarQuantizer(d, getattr(faiss.ScalarQuantizer, q), fm))
            for name, bits, rng, qt in CONFIGS]


def tables(results, m, title: str, intro: str) -> str:
    parts = [title, intro]
    for r in results:
        parts.append(f"### {r['dataset']} ({r['n']:,} x {r['dim']}, {r['metric']})")
        rows = []
        for name, res in r["configs"].items():
            o, f = res["oxvec"], res["faiss"]
            threads = sorted(int(k[4:]) for k in o if k.startswith("qps_"))
            row = [name, f"{o['recall']:.3f}", f"{f['recall']:.3f}"]
            for t in threads:
                row += [f"{H.fmt_rate(o[f'qps_{t}'])} / {H.fmt_rate(f[f'qps_{t}'])} ({o[f'qps_{t}'] / f[f'qps_{t}']:.2f}x)"]
            row += [f"{o['train_s'] + o['add_s']:.2f} / {f['train_s'] + f['add_s']:.2f}", f"{o['bytes_per_vector']:.1f} / {f['bytes_per_vector']:.1f}"]
            rows.append(row)
        head = ["config", "oxvec recall@10", "faiss recall@10"] + [f"QPS {t} thread(s), oxvec / faiss" for t in threads] + \
            ["train+add s, oxvec / faiss", "bytes/vector, oxvec / faiss"]
        parts.append(H.markdown_table(head, rows))
    parts.append(H.machine_line(m))
    return "\n\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--datasets", default="bigann,wordnet")
    args = ap.parse_args()
    import faiss

    results = []
    for name in args.datasets.split(","):
        data = H.bigann_10k() if name == "bigann" else wordnet()
        if data is None:
            print(f"skipping {name}: run make bench-data")
            continue
        print(data["name"], flush=True)
        results.append(compare(data, args.reps, sq_configs()))
    m = H.machine({"faiss": faiss.__version__})
    H.save_json("sq", {"machine": m, "results": results})
    body = tables(results, m, "## Scalar quantization - `benchmarks/bench_sq.py`",
                  "oxvec.ScalarQuantizer against faiss IndexScalarQuantizer, same codec and ranges, exhaustive search, k = 10, "
                  "batch of all queries. Bytes per vector: what adding the vectors added to oxvec's memory_bytes (the codes; auto ids, "
                  "so no id list or map; the fraction above the code size is the allocator rounding the code array up to whole "
                  "8 KiB pages); faiss: code size.")
    H.update_results_md("sq", body)
    print(body)


if __name__ == "__main__":
    main()
