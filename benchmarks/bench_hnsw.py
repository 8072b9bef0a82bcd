"""Graph search: oxvec.HNSW in its default configuration (what
``oxvec.HNSW(dim, metric)`` does: an int8 walk with float32 re-rank for
these metrics and dims) and with its float32 walk (``quantize="none"``),
against hnswlib, faiss IndexHNSWFlat and usearch, same M and
ef_construction, same run, same threads.

    python benchmarks/bench_hnsw.py [--reps 3] [--datasets bigann,wordnet,clustered] [--clustered-n 1000000]

Per dataset: build time (all threads), recall@10 and batch QPS over a sweep
of ef at 1 thread and all threads, QPS at recall 0.90 / 0.95 / 0.99
interpolated on each curve, single-query QPS, saved bytes per vector and
load time; for oxvec, distances computed per query (walk and re-rank,
counted inside the engine) next to QPS. wordnet-minilm comes from `make
bench-data`; clustered-* is the synthetic l2 set of harness.clustered_big()
(clusters that are low-dimensional patches; exact ground truth; written once
to benchmarks/data and shared with the IVF-policy and DiskANN benchmarks).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

import harness as H
import oxvec
from oxvec._library import lib

M, EFC, K = 16, 200, 10
EFS = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256]
TARGETS = [0.90, 0.95, 0.99]


def wordnet() -> dict | None:
    d = H.HERE / "data" / "wordnet-minilm"
    if not (d / "manifest.json").exists():
        return None
    out = {n: np.load(d / f"{n}.npy") for n in ("base", "queries", "gt_ids")}
    out["name"], out["metric"] = "wordnet-minilm", "cosine"
    return out


class System:
    """One library behind a common face: build, set ef, search, save, load."""

    def __init__(self, name: str, dim: int, metric: str, n: int):
        self.name, self.dim, self.metric, self.n = name, dim, metric, n

    def build(self, x: np.ndarray, threads: int) -> None:
        nm = self.name
        if nm.startswith("oxvec"):
            oxvec.set_num_threads(threads)
            # the default configuration, or its float32 walk
            self.index = oxvec.HNSW(self.dim, self.metric, m=M, ef_construction=EFC, **({"quantize": "none"} if nm == "oxvec float32" else {}))
            self.index.add(x)
        elif nm == "hnswlib":
            import hnswlib

            self.index = hnswlib.Index("l2" if self.metric == "l2" else "cosine", self.dim)
            self.index.init_index(self.n, M=M, ef_construction=EFC)
            self.index.set_num_threads(threads)
            self.index.add_items(x)
        elif nm == "faiss":
            import faiss

            faiss.omp_set_num_threads(threads)
            if self.metric == "l2":
                self.index = faiss.IndexHNSWFlat(self.dim, M)
            else:
                self.index = faiss.IndexHNSWFlat(self.dim, M, faiss.METRIC_INNER_PRODUCT)
            self.index.hnsw.efConstruction = EFC
            self.index.add(self.prep(x))
        elif nm == "usearch":
            from usearch.index import Index

            self.index = Index(ndim=self.dim, metric="l2sq" if self.metric == "l2" else "cos", connectivity=M, expansion_add=EFC)
            self.index.add(np.arange(len(x)), x, threads=threads)

    def prep(self, x: np.ndarray) -> np.ndarray:
        if self.name == "faiss" and self.metric == "cosine":
            return x / np.linalg.norm(x, axis=1, keepdims=True)
        return x

    def threads(self, n: int) -> None:
        self.nthreads = n
        if self.name.startswith("oxvec"):
            oxvec.set_num_threads(n)
        elif self.name == "hnswlib":
            self.index.set_num_threads(n)
        elif self.name == "faiss":
            import faiss

            faiss.omp_set_num_threads(n)

    def search(self, q: np.ndarray, ef: int):
        nm = self.name
        if nm.startswith("oxvec"):
            return self.index.search(q, K, ef=ef)[0]
        if nm == "hnswlib":
            self.index.set_ef(max(ef, K))
            return self.index.knn_query(q, K)[0]
        if nm == "faiss":
            self.index.hnsw.efSearch = max(ef, K)
            return self.index.search(self.prep(q), K)[1]
        self.index.expansion_search = max(ef, K)
        return self.index.search(q, K, threads=self.nthreads).keys

    def save_load(self, tmp: str):
        path = os.path.join(tmp, self.name)
        nm = self.name
        if nm.startswith("oxvec"):
            self.index.save(path)
            loads = {"read": lambda: oxvec.load(path), "mmap": lambda: oxvec.load(path, mmap=True)}
        elif nm == "hnswlib":
            import hnswlib

            self.index.save_index(path)

            def load():
                i = hnswlib.Index("l2" if self.metric == "l2" else "cosine", self.dim)
                i.load_index(path)
                return i

            loads = {"read": load}
        elif nm == "faiss":
            import faiss

            faiss.write_index(self.index, path)
            loads = {"read": lambda: faiss.read_index(path), "mmap": lambda: faiss.read_index(path, faiss.IO_FLAG_MMAP)}
        else:
            from usearch.index import Index

            self.index.save(path)
            loads = {"read": lambda: Index.restore(path), "mmap": lambda: Index.restore(path, view=True)}
        size = os.path.getsize(path)
        times = {}
        for how, fn in loads.items():
            ts = []
            for _ in range(3):
                t = time.perf_counter()
                obj = fn()
                ts.append(time.perf_counter() - t)
                del obj
            times[how] = statistics.median(ts)
        return size / self.n, times


def counted(fn) -> tuple[float, float]:
    """Distances the engine computed during fn(), walking and re-ranking."""
    import ctypes

    walk, rerank, err = ctypes.c_int64(), ctypes.c_int64(), ctypes.create_string_buffer(1024)
    lib.oxv_debug_hnsw_counts(1, None, None, err)
    fn()
    lib.oxv_debug_hnsw_counts(0, ctypes.addressof(walk), ctypes.addressof(rerank), err)
    return walk.value, rerank.value


def qps_at(points: list[tuple[float, float]], target: float) -> float | None:
    """QPS at a recall, interpolated linearly between the two ef points
    around it (points are (recall, qps) along increasing ef)."""
    pts = sorted(points)
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1:
            return q0 if r1 == r0 else q0 + (q1 - q0) * (target - r0) / (r1 - r0)
    if pts and pts[0][0] >= target:
        return pts[0][1]
    return None


def run(data: dict, reps: int, names: list[str]) -> dict:
    base, queries, gt = data["base"].astype(np.float32), data["queries"].astype(np.float32), data["gt_ids"]
    n, dim = base.shape
    allthreads = os.cpu_count()
    systems = [System(nm, dim, data["metric"], n) for nm in names]
    out = {"dataset": data["name"], "n": n, "dim": dim, "metric": data["metric"], "systems": {}}
    for s in systems:
        t = time.perf_counter()
        s.build(base, allthreads)
        build = time.perf_counter() - t
        print(f"  {s.name}: built in {build:.2f} s", flush=True)
        out["systems"][s.name] = {"build_s": build, "curves": {}}
    for threads in (1, allthreads):
        for s in systems:
            s.threads(threads)
        curves = {s.name: [] for s in systems}
        for ef in EFS:
            rec = {s.name: H.recall_at(s.search(queries, ef), gt, K) for s in systems}
            t = H.interleaved({s.name: (lambda s=s: s.search(queries, ef)) for s in systems}, reps=reps)
            for s in systems:
                point = {"ef": ef, "recall": rec[s.name], "qps": len(queries) / t[s.name]["median_s"]}
                if s.name.startswith("oxvec") and threads == 1:
                    walk, rerank = counted(lambda s=s: s.search(queries, ef))
                    point["walk_per_q"], point["rerank_per_q"] = walk / len(queries), rerank / len(queries)
                curves[s.name].append(point)
        for s in systems:
            out["systems"][s.name]["curves"][threads] = curves[s.name]
    # single-query loop at ef = 64, 1 thread
    one = queries[:200]
    for s in systems:
        s.threads(1)
    t = H.interleaved({s.name: (lambda s=s: [s.search(q[None, :], 64) for q in one]) for s in systems}, reps=reps)
    with tempfile.TemporaryDirectory() as tmp:
        for s in systems:
            out["systems"][s.name]["single_qps_ef64"] = len(one) / t[s.name]["median_s"]
            bpv, loads = s.save_load(tmp)
            out["systems"][s.name]["saved_bytes_per_vector"] = bpv
            out["systems"][s.name]["load_s"] = loads
    return out


def tables(results: list[dict], m: dict) -> str:
    parts = ["## Graph search (HNSW) - `benchmarks/bench_hnsw.py`",
             f"M = {M}, ef_construction = {EFC}, k = {K}; every library built with all threads; ef swept over {EFS}. "
             "QPS at a recall is interpolated on each library's recall-QPS curve (batch of all queries); ratios are against hnswlib in the same run. "
             "`oxvec` is the default configuration (`oxvec.HNSW(dim, metric)`: here it walks the graph on one-byte codes and re-ranks its best 2k+10 candidates on float32, so reported distances are exact); "
             "`oxvec float32` walks on the float32 vectors (`quantize=\"none\"`)."]
    for r in results:
        sysd = r["systems"]
        rows = []
        for threads in sorted({t for s in sysd.values() for t in s["curves"]}):
            ref = {tg: qps_at([(p["recall"], p["qps"]) for p in sysd["hnswlib"]["curves"][threads]], tg) for tg in TARGETS}
            for name, s in sysd.items():
                pts = [(p["recall"], p["qps"]) for p in s["curves"][threads]]
                cells = []
                for tg in TARGETS:
                    v = qps_at(pts, tg)
                    cells.append("n/a" if v is None else f"{v:,.0f}" + ("" if ref[tg] is None else f" ({v / ref[tg]:.2f}x)"))
                rows.append([threads, name] + cells + [f"{max(p for p, _ in pts):.4f}"])
        parts.append(f"### {r['dataset']} ({r['n']:,} x {r['dim']}, {r['metric']})")
        parts.append(H.markdown_table(["threads", "system"] + [f"QPS @ recall {t}" for t in TARGETS] + ["best recall"], rows))
        ref_build = sysd["hnswlib"]["build_s"]
        other = [[name, f"{s['build_s']:.2f} s ({s['build_s'] / ref_build:.2f}x)", f"{s['saved_bytes_per_vector']:.0f}",
                  ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in s["load_s"].items()), f"{s['single_qps_ef64']:,.0f}"] for name, s in sysd.items()]
        parts.append(H.markdown_table(["system", f"build ({os.cpu_count()} threads, vs hnswlib)", "saved bytes/vector", "load", "single-query QPS, ef 64"], other))
        counts = [[name, p["ef"], f"{p['recall']:.4f}", f"{p['walk_per_q']:,.0f}", f"{p['rerank_per_q']:,.0f}", f"{p['qps']:,.0f}"]
                  for name, s in sysd.items() if name.startswith("oxvec") for p in s["curves"][1] if "walk_per_q" in p]
        if counts:
            parts.append("oxvec's distances per query (counted in the engine) next to its 1-thread QPS:")
            parts.append(H.markdown_table(["system", "ef", "recall@10", "walk distances / query", "float32 re-ranks / query", "QPS"], counts))
        parts.append(f"![recall-QPS {r['dataset']}](hnsw-{r['dataset']}.png)")
    parts.append(H.machine_line(m))
    return "\n\n".join(parts)


def plot(r: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    threads = sorted({t for s in r["systems"].values() for t in s["curves"]})
    fig, axes = plt.subplots(1, len(threads), figsize=(6 * len(threads), 4.2))
    for ax, t in zip(np.atleast_1d(axes), threads):
        for name, s in r["systems"].items():
            c = s["curves"][t]
            ax.plot([p["recall"] for p in c], [p["qps"] for p in c], marker="o", ms=3, label=name)
        ax.set_yscale("log")
        ax.set_xlabel("recall@10")
        ax.set_ylabel("queries per second")
        ax.set_title(f"{r['dataset']}, {t} thread{'s' * (t > 1)}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(H.OUT / f"hnsw-{r['dataset']}.png", dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--datasets", default="bigann,wordnet,clustered")
    ap.add_argument("--clustered-n", type=int, default=1_000_000, help="vectors in the synthetic clustered set (the issue's size by default)")
    args = ap.parse_args()
    import faiss
    import hnswlib
    import usearch

    names = ["oxvec", "oxvec float32", "hnswlib", "faiss", "usearch"]
    sets = []
    for name in args.datasets.split(","):
        if name == "clustered":
            data = H.clustered_big(args.clustered_n, 128, 1000)
        else:
            data = H.bigann_10k() if name == "bigann" else wordnet()
        if data is None:
            print(f"{name}: no data (run make bench-data); skipped")
            continue
        sets.append(data)
    results = []
    for data in sets:
        print(f"{data['name']}: {len(data['base']):,} x {data['base'].shape[1]}", flush=True)
        r = run(data, args.reps, names)
        plot(r)
        results.append(r)
    oxvec.set_num_threads(0)
    m = H.machine({"hnswlib": getattr(hnswlib, "__version__", "0.8"), "faiss": faiss.__version__, "usearch": usearch.__version__})
    H.save_json("hnsw", {"machine": m, "results": results})
    body = tables(results, m)
    H.update_results_md("hnsw", body)
    print(body)


if __name__ == "__main__":
    main()
