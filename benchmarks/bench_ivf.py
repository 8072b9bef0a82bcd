"""Inverted-file search against faiss with the same nlist, k-means
iterations (20) and training sample (at most 256 vectors per list), the
same nprobe sweep, same run, same threads:
  - flat: oxvec.IVFFlat vs IndexIVFFlat;
  - pq: oxvec.IVFPQ vs IndexIVFPQ (m = 16 on 128-d, 48 on 384-d, 8 bits);
  - pq_refine: the same with refine = 10 vs IndexRefineFlat(IVFPQ, k_factor 10);
  - opq_pq: oxvec.OPQ around IVFPQ vs faiss "OPQ{m},IVF{nlist},PQ{m}" (rotation
    learnt with 20 rounds on at most 16,384 vectors on both sides).

    python benchmarks/bench_ivf.py [--reps 3] [--datasets bigann,wordnet] [--kinds flat,pq,pq_refine,opq_pq]

Per dataset: train and add time (all threads), recall@10 and batch QPS over
nprobe at 1 thread and all threads, QPS at recall 0.50 / 0.70 / 0.90 / 0.95 /
0.99 interpolated on each curve, and bytes per vector. On bigann-10k (9,000
vectors, where one k-means run is a noisy sample) flat, pq and pq_refine also
get recall@10 over --seeds k-means seeds (1..N, both systems), mean and range. Cosine data is given to
faiss L2-normalised with an inner-product quantizer, its usual recipe.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

import harness as H
import oxvec
from bench_hnsw import qps_at, wordnet

K, ITERS = 10, 20
SETTLE_S = 0.025  # untimed calls before each timed one: longer than faiss's OpenMP threads spin
NPROBES = [1, 2, 4, 8, 16, 32, 64, 128]
TARGETS = [0.50, 0.70, 0.90, 0.95, 0.99]


REFINE = 10


class System:
    def __init__(self, name: str, dim: int, metric: str, nlist: int, kind: str, seed: int | None = None):
        self.name, self.dim, self.metric, self.nlist, self.kind, self.seed = name, dim, metric, nlist, kind, seed
        self.m = 16 if dim == 128 else 48

    def prep(self, x):
        if self.name == "faiss" and self.metric == "cosine":
            return x / np.linalg.norm(x, axis=1, keepdims=True)
        return x

    def threads(self, n: int) -> None:
        if self.name == "oxvec":
            oxvec.set_num_threads(n)
        else:
            import faiss

            faiss.omp_set_num_threads(n)

    def train(self, x) -> None:
        if self.name == "oxvec":
            seed = {} if self.seed is None else {"seed": self.seed}
            if self.kind == "flat":
                self.index = oxvec.IVFFlat(self.dim, self.metric, nlist=self.nlist, **seed)
            elif self.kind == "opq_pq":
                self.index = oxvec.OPQ(self.dim, self.metric, m=self.m, inner={"type": "ivf_pq", "nlist": self.nlist, "m": self.m})
            else:
                self.index = oxvec.IVFPQ(self.dim, self.metric, nlist=self.nlist, m=self.m,
                                         refine=REFINE if self.kind == "pq_refine" else 0, **seed)
            self.index.train(x)
        else:
            import faiss

            fm = faiss.METRIC_L2 if self.metric == "l2" else faiss.METRIC_INNER_PRODUCT
            if self.kind == "opq_pq":
                self.index = faiss.index_factory(self.dim, f"OPQ{self.m},IVF{self.nlist},PQ{self.m}", fm)
                opq = faiss.downcast_VectorTransform(self.index.chain.at(0))
                opq.niter, opq.max_train_points = 20, 16384
                self.ivf = faiss.downcast_index(faiss.extract_index_ivf(self.index))
                self.ivf.cp.niter = ITERS
                self.ivf.pq.cp.niter = ITERS
                self.index.train(self.prep(x))
                return
            self.quant = faiss.IndexFlatL2(self.dim) if self.metric == "l2" else faiss.IndexFlatIP(self.dim)
            if self.kind == "flat":
                self.ivf = faiss.IndexIVFFlat(self.quant, self.dim, self.nlist, fm)
            else:
                self.ivf = faiss.IndexIVFPQ(self.quant, self.dim, self.nlist, self.m, 8, fm)
                self.ivf.pq.cp.niter = ITERS
                if self.seed is not None:
                    self.ivf.pq.cp.seed = self.seed
            self.ivf.cp.niter = ITERS
            if self.seed is not None:
                self.ivf.cp.seed = self.seed
            self.index = self.ivf
            if self.kind == "pq_refine":
                self.index = faiss.IndexRefineFlat(self.ivf)
                self.index.k_factor = REFINE
            self.index.train(self.prep(x))

    def add(self, x) -> None:
        self.index.add(self.prep(x))

    def search(self, q, nprobe: int):
        if self.name == "oxvec":
            return self.index.search(q, K, nprobe=nprobe)[0]
        self.ivf.nprobe = nprobe
        return self.index.search(self.prep(q), K)[1]

    def memory(self) -> int:
        return self.index.memory_bytes if self.name == "oxvec" else 0

    def bytes_per_vector(self, n: int) -> float:
        inv = self.ivf.invlists
        refine = 4 * self.dim if self.kind == "pq_refine" else 0
        return sum(inv.list_size(i) * (inv.code_size + 8) for i in range(self.nlist)) / n + refine


def seed_recall(data: dict, nlist: int, kind: str, seeds: int) -> dict:
    """recall@10 per nprobe for k-means seeds 1..seeds: {system: [[recall per
    nprobe] per seed]}."""
    base, queries, gt = data["base"].astype(np.float32), data["queries"].astype(np.float32), data["gt_ids"]
    out = {"oxvec": [], "faiss": []}
    for seed in range(1, seeds + 1):
        for name in out:
            s = System(name, base.shape[1], data["metric"], nlist, kind, seed)
            s.threads(os.cpu_count())
            s.train(base)
            s.add(base)
            out[name].append([H.recall_at(s.search(queries, p), gt, K) for p in NPROBES if p <= nlist])
    return out


def run(data: dict, reps: int, nlist: int, kind: str) -> dict:
    base, queries, gt = data["base"].astype(np.float32), data["queries"].astype(np.float32), data["gt_ids"]
    n, dim = base.shape
    allthreads = os.cpu_count()
    systems = [System(nm, dim, data["metric"], nlist, kind) for nm in ("oxvec", "faiss")]
    out = {"dataset": data["name"], "n": n, "dim": dim, "metric": data["metric"], "nlist": nlist, "kind": kind,
           "m": systems[0].m, "systems": {}}
    for s in systems:
        s.threads(allthreads)
        t = time.perf_counter()
        s.train(base)
        train = time.perf_counter() - t
        empty = s.memory()
        t = time.perf_counter()
        s.add(base)
        add = time.perf_counter() - t
        print(f"  {s.name}: trained in {train:.2f} s, added in {add:.2f} s", flush=True)
        out["systems"][s.name] = {"train_s": train, "add_s": add, "bytes_per_vector": (s.memory() - empty) / n if s.name == "oxvec" else s.bytes_per_vector(n), "curves": {}}
    for threads in (1, allthreads):
        for s in systems:
            s.threads(threads)
        curves = {s.name: [] for s in systems}
        for p in NPROBES:
            if p > nlist:
                continue
            rec = {s.name: H.recall_at(s.search(queries, p), gt, K) for s in systems}
            t = H.interleaved({s.name: (lambda s=s: s.search(queries, p)) for s in systems}, reps=reps, settle=SETTLE_S)
            for s in systems:
                curves[s.name].append({"nprobe": p, "recall": rec[s.name], "qps": len(queries) / t[s.name]["median_s"]})
        for s in systems:
            out["systems"][s.name]["curves"][threads] = curves[s.name]
    return out


def tables(results: list[dict], m: dict) -> str:
    parts = ["## Inverted file (IVF-Flat, IVF-PQ, OPQ) - `benchmarks/bench_ivf.py`",
             f"flat: oxvec.IVFFlat vs faiss IndexIVFFlat; pq: oxvec.IVFPQ vs IndexIVFPQ (8-bit codes); pq_refine: refine = {REFINE} "
             f"vs IndexRefineFlat(IndexIVFPQ) with k_factor {REFINE}; OPQ: oxvec.OPQ around IVFPQ vs faiss OPQ{{m}},IVF,PQ{{m}}, "
             f"20 rotation rounds on at most 16,384 vectors. Same nlist, k-means {ITERS} iterations on at most 256 vectors "
             f"per list, k = {K}, nprobe swept over {NPROBES}; batch of all queries; QPS at a recall interpolated on each curve; "
             f"ratio = oxvec / faiss in the same run; each timed call follows {SETTLE_S*1000:.0f} ms of untimed calls of the same system, so "
             "neither is timed while the other's threads spin down (faiss's OpenMP threads spin 8-10 ms after a parallel region) or "
             "its data fills the caches. Bytes per vector: what adding the vectors added (oxvec: memory_bytes after add "
             "minus before, so codes or vectors, ids and list slack - auto ids, so no id map; faiss: list sizes x (code size + 8), plus 4*dim "
             "with refine); centroids, codebooks and precomputed tables excluded for both."]
    for r in results:
        sysd = r["systems"]
        what = {"flat": "IVF-Flat", "pq": f"IVF-PQ m={r['m']}", "pq_refine": f"IVF-PQ m={r['m']}, refine {REFINE}",
                "opq_pq": f"OPQ + IVF-PQ m={r['m']}"}[r["kind"]]
        parts.append(f"### {what}: {r['dataset']} ({r['n']:,} x {r['dim']}, {r['metric']}, nlist {r['nlist']})")
        rows = [[nm, f"{v['train_s']:.2f}", f"{v['add_s']:.2f}", f"{v['bytes_per_vector']:.0f}"] for nm, v in sysd.items()]
        parts.append(H.markdown_table(["system", "train s", "add s", "bytes/vector"], rows))
        for threads in sysd["oxvec"]["curves"]:
            head = ["nprobe"] + [f"{nm} recall / QPS" for nm in sysd]
            rows = []
            for i, pt in enumerate(sysd["oxvec"]["curves"][threads]):
                rows.append([pt["nprobe"]] + [f"{sysd[nm]['curves'][threads][i]['recall']:.3f} / {H.fmt_rate(sysd[nm]['curves'][threads][i]['qps'])}" for nm in sysd])
            parts.append(f"{threads} thread(s):\n\n" + H.markdown_table(head, rows))
            rows = []
            for tgt in TARGETS:
                q = {nm: qps_at([(p["recall"], p["qps"]) for p in sysd[nm]["curves"][threads]], tgt) for nm in sysd}
                ratio = f"{q['oxvec'] / q['faiss']:.2f}x" if q["oxvec"] and q["faiss"] else "-"
                rows.append([f"{tgt:.2f}"] + [H.fmt_rate(q[nm]) if q[nm] else "-" for nm in sysd] + [ratio])
            parts.append(H.markdown_table(["recall@10", "oxvec QPS", "faiss QPS", "oxvec / faiss"], rows))
        if "seed_recall" in r:
            sr = r["seed_recall"]
            nseeds = len(sr["oxvec"])
            rows = []
            first = next(iter(sysd["oxvec"]["curves"].values()))  # keys are ints when fresh, strings from JSON
            for i, p in enumerate(pt["nprobe"] for pt in first):
                col = {nm: [curve[i] for curve in sr[nm]] for nm in sr}
                mean = {nm: sum(v) / len(v) for nm, v in col.items()}
                rows.append([p] + [f"{mean[nm]:.3f} ({min(col[nm]):.3f}-{max(col[nm]):.3f})" for nm in sr]
                            + [f"{mean['oxvec'] - mean['faiss']:+.3f}"])
            parts.append(f"recall@10 over k-means seeds 1-{nseeds} (both systems; mean, range):\n\n"
                         + H.markdown_table(["nprobe", "oxvec", "faiss", "oxvec - faiss"], rows))
        parts.append(H.machine_line(r.get("machine", m)))
    return "\n\n".join(parts)


def merge(new: list[dict]) -> list[dict]:
    """The saved results with the (dataset, kind) entries just measured
    replaced, so one kind can be re-run without re-running the others; each
    entry keeps the machine line of its own run."""
    path = H.RESULTS_DIR / "ivf.json"
    old = json.loads(path.read_text())["results"] if path.exists() else []
    done = {(r["dataset"], r["kind"]) for r in new}
    kept = [r for r in old if (r["dataset"], r.get("kind", "flat")) not in done]
    order = {k: i for i, k in enumerate(["flat", "pq", "pq_refine", "opq_pq"])}
    return sorted(kept + new, key=lambda r: (r["dataset"] != "bigann-10k", order.get(r.get("kind", "flat"), 9)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--datasets", default="bigann,wordnet")
    ap.add_argument("--kinds", default="flat,pq,pq_refine,opq_pq")
    ap.add_argument("--seeds", type=int, default=5, help="k-means seeds for the bigann recall table (0: none)")
    args = ap.parse_args()
    import faiss

    results = []
    for name in args.datasets.split(","):
        data = H.bigann_10k() if name == "bigann" else wordnet()
        if data is None:
            print(f"skipping {name}: run make bench-data")
            continue
        nlist = 100 if name == "bigann" else 1024
        for kind in args.kinds.split(","):
            print(f"{data['name']}: {kind}, nlist {nlist}", flush=True)
            results.append(run(data, args.reps, nlist, kind))
            if name == "bigann" and kind != "opq_pq" and args.seeds:
                results[-1]["seed_recall"] = seed_recall(data, nlist, kind, args.seeds)
    m = H.machine({"faiss": faiss.__version__})
    for r in results:
        r["machine"] = m
    results = merge(results)
    H.save_json("ivf", {"machine": m, "results": results})
    body = tables(results, m)
    H.update_results_md("ivf", body)
    print(body)


if __name__ == "__main__":
    main()
