"""Distance kernels and pairwise distances: oxvec at each SIMD level against
numpy per pair and scipy.spatial.distance.cdist.

    python benchmarks/bench_kernels.py [--reps 5]

Kernel times are measured inside the engine (oxv_debug_kernel_ns: a loop of
calls in Go), numpy's per pair from Python, since that is how numpy is used
for one pair. Pairwise throughput is measured from Python for both.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import time

import numpy as np
from scipy.spatial.distance import cdist

import harness as H
import oxvec
from oxvec import _call
from oxvec._library import lib

DIMS = [128, 384, 768, 1536]
KERNELS = ["dot", "l2sq", "l1", "tile", "dot_i8", "l2_u8", "hamming"]


def engine_ns(kernel: str, level: str, d: int, repeat: int) -> float:
    st = _call.state
    ns = ctypes.c_double()
    _call.check(lib.oxv_debug_kernel_ns(kernel.encode(), level.encode(), d, repeat, ctypes.addressof(ns), st.err_addr), st)
    return ns.value


def numpy_ns(kernel: str, d: int, repeat: int) -> float | None:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(d).astype(np.float32), rng.standard_normal(d).astype(np.float32)
    fn = {
        "dot": lambda: np.dot(a, b),
        "l2sq": lambda: np.dot(a - b, a - b),
        "l1": lambda: np.abs(a - b).sum(),
    }.get(kernel)
    if fn is None:
        return None
    for _ in range(200):
        fn()
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat * 1e9


def kernel_table(reps: int):
    levels = oxvec.simd_levels()
    rows = []
    for kernel in KERNELS:
        for d in DIMS:
            repeat = 200_000 if kernel != "tile" else 50_000
            times = {lv: [] for lv in levels}
            times["numpy"] = []
            for _ in range(reps):  # interleaved: generic, avx2, avx512, numpy, ...
                for lv in levels:
                    times[lv].append(engine_ns(kernel, lv, d, repeat))
                n = numpy_ns(kernel, d, 20_000)
                if n is not None:
                    times["numpy"].append(n)
            row = {"kernel": kernel, "d": d}
            for k, v in times.items():
                row[k] = statistics.median(v) if v else None
            rows.append(row)
    return rows, levels


PAIRWISE = [
    ("l2", "sqeuclidean", {}), ("euclidean", "euclidean", {}), ("cosine", "cosine", {}),
    ("manhattan", "cityblock", {}), ("chebyshev", "chebyshev", {}), ("correlation", "correlation", {}),
    ("canberra", "canberra", {}), ("braycurtis", "braycurtis", {}), ("minkowski", "minkowski", {"p": 3.0}),
    ("jensenshannon", "jensenshannon", {}), ("hamming", "hamming", {}), ("seuclidean", "seuclidean", {}),
    ("mahalanobis", "mahalanobis", {}),
]


def pairwise_table(reps: int, nx: int, ny: int, d: int):
    rng = np.random.default_rng(2)
    rows = []
    for ours, theirs, p in PAIRWISE:
        if ours == "jensenshannon":
            x, y = rng.random((nx, d)).astype(np.float32) + 0.01, rng.random((ny, d)).astype(np.float32) + 0.01
        elif ours == "hamming":
            x, y = rng.integers(0, 2, (nx, d)).astype(np.float32), rng.integers(0, 2, (ny, d)).astype(np.float32)
        else:
            x, y = rng.standard_normal((nx, d)).astype(np.float32), rng.standard_normal((ny, d)).astype(np.float32)
        x64, y64 = x.astype(np.float64), y.astype(np.float64)
        out = np.empty((nx, ny), np.float32)
        res = {}
        for threads in (1, os.cpu_count()):
            oxvec.set_num_threads(threads)
            timing = H.interleaved({"oxvec": lambda: oxvec.pairwise(x, y, ours, out=out, **p), "scipy": lambda: cdist(x64, y64, theirs, **p)}, reps=reps)
            res[threads] = {k: nx * ny / v["median_s"] for k, v in timing.items()}
        oxvec.set_num_threads(0)
        err = float(np.max(np.abs(out - cdist(x64, y64, theirs, **p)) / (np.abs(cdist(x64, y64, theirs, **p)) + 1e-9)))
        rows.append({"metric": ours, "pairs_per_s": res, "max_rel_err": err})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    kt, levels = kernel_table(args.reps)
    pw = pairwise_table(args.reps, 1000, 1000, 128)
    import scipy

    m = H.machine({"scipy": scipy.__version__})
    H.save_json("kernels", {"machine": m, "kernels": kt, "pairwise": pw})
    ks = [[r["kernel"], r["d"]] + [f"{r[lv]:.1f}" for lv in levels] + ["" if r["numpy"] is None else f"{r['numpy']:.0f}"] for r in kt]
    threads = os.cpu_count()
    pt = [[r["metric"], f"{r['pairs_per_s'][1]['oxvec'] / 1e6:.1f}", f"{r['pairs_per_s'][1]['scipy'] / 1e6:.1f}",
           f"{r['pairs_per_s'][1]['oxvec'] / r['pairs_per_s'][1]['scipy']:.1f}x",
           f"{r['pairs_per_s'][threads]['oxvec'] / 1e6:.1f}", f"{r['pairs_per_s'][threads]['oxvec'] / r['pairs_per_s'][threads]['scipy']:.1f}x",
           f"{r['max_rel_err']:.1e}"] for r in pw]
    body = "\n\n".join([
        "## Distance kernels and pairwise distances - `benchmarks/bench_kernels.py`",
        "Kernel time per call in ns, median of interleaved repetitions. oxvec kernels are timed inside the engine (a loop of calls through the dispatch table); numpy per pair is `np.dot(a, b)`, `np.dot(a-b, a-b)`, `np.abs(a-b).sum()` on float32 from Python, which is how one pair is computed with numpy. `tile` is one 4x4 block (16 dot products) of the exact-search kernel; `dot_i8`/`l2_u8` take d bytes, `hamming` d bits.",
        H.markdown_table(["kernel", "d"] + [f"{lv} ns" for lv in levels] + ["numpy ns"], ks),
        f"Pairwise distances, 1,000 x 1,000 pairs of 128-d float32 vectors: millions of pairs per second, oxvec.pairwise (float32 output) against scipy.spatial.distance.cdist (float64, one thread, its only mode); max relative error against cdist.",
        H.markdown_table(["metric", "oxvec 1 thread", "scipy", "ratio", f"oxvec {threads} threads", "ratio", "max rel. error"], pt),
        H.machine_line(m),
    ])
    H.update_results_md("kernels", body)
    print(body)


if __name__ == "__main__":
    main()
