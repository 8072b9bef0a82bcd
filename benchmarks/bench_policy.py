"""Learned search policy of IVF-Flat (train_policy; search(..., recall=r))
against the single fixed nprobe that reaches the same achieved recall,
same index, same run, one thread.

    python benchmarks/bench_policy.py [--reps 5] [--big N]

Datasets: bigann-10k (9,000 SIFT vectors; its 1,000 queries split into 500
for training the policy and 500 held out) and a clustered synthetic set
(--big N vectors x 128, default 100,000; 2,000 queries, 1,000 held out).
For each target recall r the policy's achieved mean recall@10 on the held
out queries, the share of held-out queries whose own recall reaches r,
and its QPS against the fixed-nprobe curve interpolated at the policy's
achieved recall (ratio of medians, interleaved repetitions).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import harness as H
import oxvec
from bench_hnsw import qps_at

K = 10
TARGETS = [0.8, 0.9, 0.95, 0.99]


def per_query_recall(found, gt):
    return np.array([len(np.intersect1d(f[:K], g[:K])) / K for f, g in zip(found, gt)])


def run(name, base, train_q, test_q, gt, nlist, reps):
    t0 = time.perf_counter()
    ix = oxvec.IVFFlat(base.shape[1], "l2", nlist=nlist)
    ix.train(base)
    ix.add(base)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    ix.train_policy(train_q, k=K)
    policy_s = time.perf_counter() - t0
    nq = len(test_q)
    fixed = sorted({p for p in (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128) if p <= nlist})
    systems = {f"nprobe={p}": (lambda p=p: ix.search(test_q, K, nprobe=p)) for p in fixed}
    systems.update({f"recall={r}": (lambda r=r: ix.search(test_q, K, recall=r)) for r in TARGETS})
    t = H.interleaved(systems, reps=reps)
    qps = {s: nq / v["median_s"] for s, v in t.items()}
    curve = [(H.recall_at(ix.search(test_q, K, nprobe=p)[0], gt, K), qps[f"nprobe={p}"]) for p in fixed]
    rows = []
    for r in TARGETS:
        found = ix.search(test_q, K, recall=r)[0]
        pq = per_query_recall(found, gt)
        achieved = float(pq.mean())
        base_qps = qps_at(curve, achieved)
        rows.append({"target": r, "achieved": achieved, "share_reaching": float((pq >= r - 1e-9).mean()),
                     "qps": qps[f"recall={r}"], "fixed_qps_at_achieved": base_qps,
                     "gain": qps[f"recall={r}"] / base_qps if base_qps else None})
        print(f"  {name} target {r}: achieved {achieved:.4f}, {rows[-1]['share_reaching']:.2f} reach it, "
              f"{qps[f'recall={r}']:.0f} QPS vs fixed {base_qps or 0:.0f}", flush=True)
    return {"dataset": name, "n": len(base), "nlist": nlist, "build_s": build, "policy_train_s": policy_s,
            "n_train": len(train_q), "n_test": nq, "fixed_curve": [{"nprobe": p, "recall": c[0], "qps": c[1]} for p, c in zip(fixed, curve)],
            "rows": rows}


def report(results, m) -> str:
    parts = ["## Learned search policy (IVF-Flat) - `benchmarks/bench_policy.py`",
             "`train_policy(sample queries)` fits, per target recall of a grid, a linear model of log2(cells a query needs for its own "
             "recall@10 to reach the target) on 14 features read after probing 2 cells (nearest-centroid distance, centroid distance "
             "ratios, first and 10th result so far against the centroids), shifted so the training queries' mean recall reaches the "
             "target; `search(q, 10, recall=r)` then probes each query's predicted cells. Measured on "
             "held-out queries, 1 thread, batch of all queries; `fixed QPS` is the fixed-nprobe curve interpolated at the policy's "
             "achieved recall (same index, same run, interleaved repetitions). The machine was shared with other jobs (load average ~20 on "
             "2 cores): QPS are noisy, the fixed curve is not even monotone; ratios within a row are the figure to read."]
    for r in results:
        parts.append(f"### {r['dataset']} ({r['n']:,} vectors, nlist {r['nlist']}; policy trained on {r['n_train']} queries in "
                     f"{r['policy_train_s']:.2f} s, tested on {r['n_test']} others)")
        rows = [[f"{x['target']}", f"{x['achieved']:.4f}", f"{x['achieved'] - x['target']:+.4f}", f"{x['share_reaching']:.2f}",
                 H.fmt_rate(x["qps"]), H.fmt_rate(x["fixed_qps_at_achieved"]) if x["fixed_qps_at_achieved"] else "-",
                 f"{x['gain']:.2f}x" if x["gain"] else "-"] for x in r["rows"]]
        parts.append(H.markdown_table(["target", "achieved recall@10", "vs target", "share of queries reaching it", "policy QPS",
                                       "fixed nprobe QPS at that recall", "gain"], rows))
        parts.append("Fixed nprobe curve: " + ", ".join(f"{c['nprobe']}: {c['recall']:.3f} / {H.fmt_rate(c['qps'])}" for c in r["fixed_curve"]))
    parts.append(H.machine_line(m))
    return "\n\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--big", type=int, default=100_000)
    args = ap.parse_args()
    oxvec.set_num_threads(1)
    results = []
    d = H.bigann_10k()
    print("bigann-10k", flush=True)
    results.append(run("bigann-10k", d["base"], d["queries"][:500], d["queries"][500:], d["gt_ids"][500:], 95, args.reps))
    if args.big:
        base, q = H.clustered(args.big, 128, 1), H.clustered(2000, 128, 2)
        gt = H.exact_knn(base, q[1000:], K, "l2")[0]
        name = f"clustered-{args.big // 1000}k-128d"
        print(name, flush=True)
        results.append(run(name, base, q[:1000], q[1000:], gt, int(4 * np.sqrt(args.big)), args.reps))
    m = H.machine()
    H.save_json("policy", {"machine": m, "results": results})
    body = report(results, m)
    H.update_results_md("policy", body)
    print(body)


if __name__ == "__main__":
    main()
