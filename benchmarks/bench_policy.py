"""Learned search policy of IVF-Flat and IVF-PQ (train_policy; search(...,
recall=r)) against the single fixed nprobe that reaches the same achieved
recall, same index, same run, searches on one thread (building and
training on two).

    python benchmarks/bench_policy.py [--reps 3] [--datasets bigann,wordnet,clustered]

Datasets: bigann-10k (9,000 SIFT vectors, l2; its 1,000 queries split at
random (seed 17) into 500 for training the policy and 500 held out), wordnet-minilm (116,659 x
384, cosine; its 1,000 queries split the same way) and the synthetic
clustered-1m-128d (harness.clustered_big(), l2; its 1,000 queries are all
held out, the policy is trained on 2,000 others drawn from the same
clusters, harness.patch_clusters(2000, 128, seed=3)). nlist = 4*sqrt(n);
k-means of the 1M set on a sample of 160,000 vectors (40 per cell). The
policy's exact neighbours are found by the index itself (truth=None):
IVF-Flat scans every cell, IVF-PQ (refine 10: the best 100 ADC candidates
ranked exactly) its stored vectors. For each target recall r: the achieved
mean recall@10 on the held-out queries (against exact neighbours), the
share of held-out queries whose own recall reaches r, and the policy's QPS
against the fixed-nprobe curve interpolated at the policy's achieved
recall (ratio of medians, interleaved repetitions).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import harness as H
import oxvec
from bench_hnsw import qps_at, wordnet

K = 10
TARGETS = [0.8, 0.9, 0.95, 0.99]
NPROBES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


def per_query_recall(found, gt):
    return np.array([len(np.intersect1d(f[:K], g[:K])) / K for f, g in zip(found, gt)])


def halves(n):
    """A seeded random split of n queries into training and held-out
    halves: the files' first and second 500 bigann-10k queries are not
    alike (recall at nprobe 8: 0.808 against 0.751), so a split by position
    would measure that shift, not the policy."""
    p = np.random.default_rng(17).permutation(n)
    return np.sort(p[: n // 2]), np.sort(p[n // 2 :])


def build(kind, base, metric, nlist, sample):
    d = base.shape[1]
    if kind == "ivf_flat":
        ix = oxvec.IVFFlat(d, metric, nlist=nlist)
    else:
        ix = oxvec.IVFPQ(d, metric, nlist=nlist, m=d // 4 if d <= 128 else d // 8, nbits=8, refine=10)
    ix.train(base[sample] if sample is not None else base)
    ix.add(base)
    return ix


def run(name, kind, base, metric, train_q, test_q, gt, nlist, reps, sample=None):
    oxvec.set_num_threads(2)  # building and training: both cores; searching: one
    t0 = time.perf_counter()
    ix = build(kind, base, metric, nlist, sample)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ix.train_policy(train_q, k=K)
    policy_s = time.perf_counter() - t0
    oxvec.set_num_threads(1)
    nq = len(test_q)
    fixed = [p for p in NPROBES if p <= nlist]
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
        print(f"  {name} {kind} target {r}: achieved {achieved:.4f}, {rows[-1]['share_reaching']:.2f} reach it, "
              f"{qps[f'recall={r}']:.0f} QPS vs fixed {base_qps or 0:.0f}", flush=True)
    ix.close()
    return {"dataset": name, "kind": kind, "n": len(base), "nlist": nlist, "build_s": build_s, "policy_train_s": policy_s,
            "n_train": len(train_q), "n_test": nq, "rows": rows,
            "fixed_curve": [{"nprobe": p, "recall": c[0], "qps": c[1]} for p, c in zip(fixed, curve)]}


def report(results, m) -> str:
    parts = ["## Learned search policy (IVF-Flat, IVF-PQ) - `benchmarks/bench_policy.py`",
             "`train_policy(sample queries)` finds each training query's exact neighbours in the engine and, in one pass over its "
             "cells in centroid order, its recall@10 for every nprobe; per target recall of a grid it fits a linear model of "
             "log2(cells the query needs) on 14 features read after probing 2 cells, and calibrates a shift so that the mean recall "
             "of the training queries reaches the target with predictions from models fitted on the other folds (5-fold "
             "cross-fitting). `search(q, 10, recall=r)` then probes each query's predicted cells. Measured on held-out queries, "
             "1 search thread (build and policy training: 2), batch of all queries; `fixed QPS` is the fixed-nprobe curve interpolated at the policy's achieved recall "
             "(same index, same run, interleaved repetitions). IVF-PQ: m = dim/4 (128-d) or dim/8 (384-d), 8 bits, refine 10; "
             "recall against exact neighbours. The machine was shared with other jobs (other helpers' builds and a server soak on "
             "its 2 cores): absolute QPS are noisy and the fixed curve need not be monotone; ratios within a row are the figure "
             "to read. A target below the recall of 2 cells (the fixed curve at nprobe 2) is exceeded: the policy always probes 2 "
             "cells before it reads its features (marked *below 2 cells*)."]
    for r in results:
        parts.append(f"### {r['dataset']} {r['kind']} ({r['n']:,} vectors, nlist {r['nlist']}; built in {r['build_s']:.0f} s; "
                     f"policy trained on {r['n_train']:,} queries in {r['policy_train_s']:.1f} s, tested on {r['n_test']:,} others)")
        floor = next((c["recall"] for c in r["fixed_curve"] if c["nprobe"] == 2), 0.0)
        rows = [[f"{x['target']}" + (" *below 2 cells*" if x["target"] < floor else ""), f"{x['achieved']:.4f}",
                 f"{x['achieved'] - x['target']:+.4f}", f"{x['share_reaching']:.2f}",
                 H.fmt_rate(x["qps"]), H.fmt_rate(x["fixed_qps_at_achieved"]) if x["fixed_qps_at_achieved"] else "-",
                 f"{x['gain']:.2f}x" if x["gain"] else "-"] for x in r["rows"]]
        parts.append(H.markdown_table(["target", "achieved recall@10", "vs target", "share of queries reaching it", "policy QPS",
                                       "fixed nprobe QPS at that recall", "policy / fixed"], rows))
        parts.append("Fixed nprobe curve (nprobe: recall / QPS): " +
                     ", ".join(f"{c['nprobe']}: {c['recall']:.3f} / {H.fmt_rate(c['qps'])}" for c in r["fixed_curve"]))
    parts.append(H.machine_line(m))
    return "\n\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--datasets", default="bigann,wordnet,clustered")
    ap.add_argument("--kinds", default="ivf_flat,ivf_pq")
    ap.add_argument("--no-write", action="store_true", help="print, do not write RESULTS.md")
    args = ap.parse_args()
    oxvec.set_num_threads(1)
    results = []
    kinds = args.kinds.split(",")
    for ds in args.datasets.split(","):
        if ds == "bigann":
            d = H.bigann_10k()
            tr, te = halves(len(d["queries"]))
            data = ("bigann-10k", d["base"], "l2", d["queries"][tr], d["queries"][te], d["gt_ids"][te], None)
        elif ds == "wordnet":
            d = wordnet()
            if d is None:
                print("wordnet-minilm missing (make data); skipped", flush=True)
                continue
            tr, te = halves(len(d["queries"]))
            data = ("wordnet-minilm", d["base"], "cosine", d["queries"][tr], d["queries"][te], d["gt_ids"][te], None)
        else:
            d = H.clustered_big()
            sample = np.random.default_rng(0).choice(len(d["base"]), 160_000, replace=False)
            data = (d["name"], d["base"], "l2", H.patch_clusters(2000, 128, seed=3), d["queries"], d["gt_ids"], np.sort(sample))
        name, base, metric, train_q, test_q, gt, sample = data
        nlist = int(4 * np.sqrt(len(base)))
        for kind in kinds:
            print(name, kind, flush=True)
            results.append(run(name, kind, base, metric, train_q, test_q, gt, nlist, args.reps, sample))
        m = H.machine()
        body = report(results, m)
        if not args.no_write:  # after each dataset: a long run's finished part is kept
            H.save_json("policy", {"machine": m, "results": results})
            H.update_results_md("policy", body)
    print(body)


if __name__ == "__main__":
    main()
