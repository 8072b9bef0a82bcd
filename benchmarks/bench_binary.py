"""Binary quantization: oxvec.Binary against faiss IndexBinaryFlat on the
very same sign codes (bit = value above the per-dimension mean of the
prepared base vectors), same run, same threads.

    python benchmarks/bench_binary.py [--reps 3] [--datasets wordnet,bigann]

Two comparisons per dataset:
- the hamming scan alone (oxvec rerank=0 against IndexBinaryFlat, k = 10);
- the full pipeline with re-ranking of rerank*10 candidates on float32
  vectors: oxvec in the engine; faiss's binary search for the candidates
  followed by an exact numpy re-rank (faiss has no refine stage for binary
  indexes), over rerank in {1, 2, 5, 10, 20, 50}.
recall@10 is against the datasets' exact ground truth.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import harness as H
import oxvec
from bench_hnsw import wordnet

K = 10
RERANKS = [1, 2, 5, 10, 20, 50]


def prep(x, metric):
    return x / np.linalg.norm(x, axis=1, keepdims=True) if metric == "cosine" else x


def faiss_rerank(fi, base_p, queries_p, metric, r):
    _, cand = fi.search(np.packbits(queries_p > fi.threshold, axis=1, bitorder="little"), K * r)
    out = np.empty((len(queries_p), K), np.int64)
    for i, (q, c) in enumerate(zip(queries_p, cand)):
        v = base_p[c]
        d = ((v - q) ** 2).sum(1) if metric == "l2" else -(v @ q)
        out[i] = c[np.argsort(d, kind="stable")[:K]]
    return out


def run(data: dict, reps: int) -> dict:
    import faiss

    base, queries, gt = data["base"].astype(np.float32), data["queries"].astype(np.float32), data["gt_ids"]
    metric = data["metric"]
    n, dim = base.shape
    bp, qp = prep(base, metric), prep(queries, metric)
    threshold = bp.mean(0, dtype=np.float64).astype(np.float32)
    fi = faiss.IndexBinaryFlat(dim)
    fi.threshold = threshold
    fi.add(np.packbits(bp > threshold, axis=1, bitorder="little"))
    qcodes = np.packbits(qp > threshold, axis=1, bitorder="little")
    ours = {}
    for r in [0] + RERANKS:
        ix = oxvec.Binary(dim, metric, rerank=r)
        ix.train(base)
        ix.add(base)
        ours[r] = ix
    out = {"dataset": data["name"], "n": n, "dim": dim, "metric": metric,
           "bytes_per_vector": {"oxvec rerank=0": ours[0].memory_bytes / n, "oxvec rerank>0": ours[1].memory_bytes / n,
                                "faiss codes": fi.code_size, "faiss codes + float32 vectors": fi.code_size + 4 * dim},
           "threads": {}}
    for threads in (1, os.cpu_count()):
        oxvec.set_num_threads(threads)
        faiss.omp_set_num_threads(threads)
        rows = {}
        o_ids = ours[0].search(queries, K)[0]
        f_ids = fi.search(qcodes, K)[1]
        t = H.interleaved({"oxvec": lambda: ours[0].search(queries, K), "faiss": lambda: fi.search(qcodes, K)}, reps=reps)
        rows["scan"] = {"oxvec": {"recall": H.recall_at(o_ids, gt, K), "qps": len(queries) / t["oxvec"]["median_s"]},
                        "faiss": {"recall": H.recall_at(f_ids, gt, K), "qps": len(queries) / t["faiss"]["median_s"]}}
        for r in RERANKS:
            o = ours[r].search(queries, K)[0]
            f = faiss_rerank(fi, bp, qp, metric, r)
            t = H.interleaved({"oxvec": lambda: ours[r].search(queries, K), "faiss": lambda: faiss_rerank(fi, bp, qp, metric, r)}, reps=reps)
            rows[f"rerank {r}"] = {"oxvec": {"recall": H.recall_at(o, gt, K), "qps": len(queries) / t["oxvec"]["median_s"]},
                                   "faiss": {"recall": H.recall_at(f, gt, K), "qps": len(queries) / t["faiss"]["median_s"]}}
        out["threads"][threads] = rows
    return out


def tables(results, m) -> str:
    parts = ["## Binary quantization - `benchmarks/bench_binary.py`",
             "oxvec.Binary against faiss IndexBinaryFlat on the same codes (bit = above the per-dimension mean of the prepared base). "
             "`scan`: hamming top-10 only. `rerank r`: the best r*10 by hamming re-ranked exactly on float32 (oxvec in the engine; "
             "faiss candidates + numpy re-rank). recall@10 against exact ground truth; batch of all queries; ratio = oxvec / faiss QPS."]
    for r in results:
        parts.append(f"### {r['dataset']} ({r['n']:,} x {r['dim']}, {r['metric']})")
        parts.append("Bytes per vector: " + ", ".join(f"{k} {v:.0f}" for k, v in r["bytes_per_vector"].items()) + ".")
        for threads, rows in r["threads"].items():
            tab = [[name, f"{v['oxvec']['recall']:.3f}", f"{v['faiss']['recall']:.3f}", H.fmt_rate(v["oxvec"]["qps"]),
                    H.fmt_rate(v["faiss"]["qps"]), f"{v['oxvec']['qps'] / v['faiss']['qps']:.2f}x"] for name, v in rows.items()]
            parts.append(f"{threads} thread(s):\n\n" + H.markdown_table(
                ["stage", "oxvec recall", "faiss recall", "oxvec QPS", "faiss QPS", "oxvec / faiss"], tab))
    parts.append(H.machine_line(m))
    return "\n\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--datasets", default="wordnet,bigann")
    args = ap.parse_args()
    import faiss

    results = []
    for name in args.datasets.split(","):
        data = H.bigann_10k() if name == "bigann" else wordnet()
        if data is None:
            print(f"skipping {name}: run make bench-data")
            continue
        print(data["name"], flush=True)
        results.append(run(data, args.reps))
    m = H.machine({"faiss": faiss.__version__})
    H.save_json("binary", {"machine": m, "results": results})
    body = tables(results, m)
    H.update_results_md("binary", body)
    print(body)


if __name__ == "__main__":
    main()
