"""The GPU check (issue 19): everything about oxvec's CUDA path that needs a
real GPU, in one short run.

1. Correctness against the CPU engine in the same process: every metric the
   kernels compute (oxvec.pairwise), exact k-NN (oxvec.knn, oxvec.Flat),
   k-means assignment (oxvec.gpu.assign) and IVF training on the device.
2. Throughput, interleaved rep by rep (../shared/BENCHMARKING.md): exact
   k-NN and pairwise on the GPU against the CPU path, and against CuPy and
   faiss-gpu when they are installed. GPU times include the copies to and
   from the device: the same work a caller of oxvec.knn gets done. Rows/s
   is query rows (k-NN) or x rows (pairwise) per second.

Writes its section of benchmarks/RESULTS.md (device named) and
results/gpu_check.json, only when a GPU is there and every correctness check
ran; without a usable GPU it says why and exits with status 2, writing
nothing. Sized to finish in under 3 minutes on an H200.

    python benchmarks/gpu_check.py [--reps 5] [--quick]

On a device machine where the repository is a copy (nothing comes back but
$OUT): cp benchmarks/RESULTS.md $OUT/ && OXVEC_BENCH_OUT=$OUT python3
benchmarks/gpu_check.py, then take the section between its markers from
$OUT/RESULTS.md. NVRTC must be findable there: the nvidia-cuda-nvrtc wheel
of the Python used, the CUDA toolkit (/usr/local/cuda/lib64), or
$OXVEC_NVRTC naming libnvrtc.so.12/.13.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, "..", "python"))

import oxvec  # noqa: E402

SECTION = "gpu_check"
METRICS = ["l2", "euclidean", "ip", "cosine", "angular", "manhattan", "chebyshev", "minkowski", "canberra",
           "braycurtis", "correlation", "spearman", "hamming", "jaccard", "weighted_jaccard", "dice", "tanimoto",
           "kl", "jensenshannon", "hellinger", "bhattacharyya", "chisquare", "seuclidean", "mahalanobis"]
NONNEG = {"kl", "jensenshannon", "hellinger", "bhattacharyya", "chisquare", "weighted_jaccard", "braycurtis"}
DISCRETE = {"hamming", "jaccard", "dice", "canberra"}
RTOL, ATOL = 2e-4, 2e-5  # float32 sums in another order, the GPU's fused multiply-add and math functions

# input sizes per mode: --smoke is for trying the script itself through the
# fake driver of kernels/gpu/emulate (tests/test_gpu.py), which runs the
# kernels on the CPU; its numbers mean nothing
# (generic metrics cost the CPU far more than l2: jensenshannon's two logs
# per value make 1024 x 1024 x 128 take ~23 s on 2 cores, so its pairwise
# is smaller; the CPU side dominates the run time)
SIZES = {
    "full": dict(pair=(200, 3000, 96), knn=(10_000, 100), assign=(50_000, 500, 256), speed_knn=(500_000, 500),
                 speed_pair={"l2": (4096, 4096), "cosine": (4096, 4096), "manhattan": (2048, 2048), "jensenshannon": (512, 1024)}),
    "quick": dict(pair=(100, 1500, 96), knn=(5_000, 50), assign=(20_000, 200, 64), speed_knn=(200_000, 200),
                  speed_pair={"l2": (2048, 2048), "cosine": (2048, 2048), "manhattan": (1024, 1024), "jensenshannon": (256, 512)}),
    "smoke": dict(pair=(20, 40, 24), knn=(300, 5), assign=(500, 20, 8), speed_knn=(400, 4),
                  speed_pair={"l2": (32, 32), "cosine": (32, 32), "manhattan": (32, 32), "jensenshannon": (16, 32)}),
}


def data_for(metric: str, rng, n: int, d: int) -> np.ndarray:
    if metric in DISCRETE:
        return rng.integers(0, 3, (n, d)).astype(np.float32)
    x = rng.standard_normal((n, d)).astype(np.float32)
    return np.abs(x) if metric in NONNEG else x


def params(metric: str) -> dict:
    return {"p": 3} if metric == "minkowski" else {}


def worst_error(got: np.ndarray, want: np.ndarray) -> tuple[float, bool]:
    """The largest error relative to max(1, |want|), and whether every value
    is within tolerance (infinities must match exactly)."""
    inf = np.isinf(want)
    if not np.array_equal(inf, np.isinf(got)):
        return float("inf"), False
    g, w = got[~inf].astype(np.float64), want[~inf].astype(np.float64)
    err = np.abs(g - w) / np.maximum(1.0, np.abs(w)) if g.size else np.zeros(1)
    return float(err.max()), bool(np.all(np.abs(g - w) <= ATOL + RTOL * np.abs(w)))


def correctness(rng, size: dict) -> list[dict]:
    rows = []
    nx, ny, d = size["pair"]
    for m in METRICS:
        x, y = data_for(m, rng, nx, d), data_for(m, rng, ny, d)
        want = oxvec.pairwise(x, y, m, **params(m))
        got = oxvec.pairwise(x, y, m, device="cuda", **params(m))
        err, ok = worst_error(got, want)
        rows.append({"check": f"pairwise {m}", "shape": f"{nx}x{ny}x{d}", "max_rel_err": err, "ok": ok})
    (n, nq), k = size["knn"], 10
    for m in ("l2", "cosine", "ip", "manhattan", "jensenshannon"):
        base, q = data_for(m, rng, n, d), data_for(m, rng, nq, d)
        ci, cd = oxvec.knn(base, q, k, m)
        gi, gd = oxvec.knn(base, q, k, m, device="cuda")
        same = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ci, gi)]))
        err, ok = worst_error(gd, cd)
        rows.append({"check": f"knn {m} k={k}", "shape": f"{n}x{d}, {nq} queries", "max_rel_err": err,
                     "ok": ok and same >= 0.999, "id_agreement": same})
    base = rng.standard_normal((n, d)).astype(np.float32)
    ids = np.arange(n, dtype=np.int64) * 3 + 1
    cpu, gpu = oxvec.Flat(d, "cosine"), oxvec.Flat(d, "cosine", device="cuda")
    cpu.add(base, ids)
    gpu.add(base, ids)
    q = rng.standard_normal((nq, d)).astype(np.float32)
    (ci, cd), (gi, gd) = cpu.search(q, k), gpu.search(q, k)
    err, ok = worst_error(gd, cd)
    same = float(np.mean(ci == gi))
    rows.append({"check": "Flat cosine search (own ids)", "shape": f"{n}x{d}, {nq} queries", "max_rel_err": err,
                 "ok": ok and same >= 0.999, "id_agreement": same})
    na, nc, nlist = size["assign"]
    x = rng.standard_normal((na, 64)).astype(np.float32)
    c = x[rng.choice(len(x), nc, replace=False)] + 0.01
    ci, cd = oxvec.gpu.assign(x, c, device="cpu")
    gi, gd = oxvec.gpu.assign(x, c, device="cuda")
    err, ok = worst_error(gd, cd)
    agree = float(np.mean(ci == gi))
    rows.append({"check": "k-means assignment", "shape": f"{na}x64, {nc} centroids", "max_rel_err": err,
                 "ok": ok and agree >= 0.999, "id_agreement": agree})
    ivf = oxvec.IVFFlat(64, nlist=nlist, nprobe=nlist)
    ivf.train(x, device="cuda")
    ivf.add(x)
    qi = x[:100]
    rec = float(np.mean(ivf.search(qi, 10)[0] == oxvec.knn(x, qi, 10)[0]))
    rows.append({"check": "IVFFlat trained on the GPU, nprobe=nlist", "shape": f"{na}x64, nlist {nlist}",
                 "max_rel_err": 0.0, "ok": rec >= 0.999, "id_agreement": rec})
    return rows


def peers() -> dict:
    out = {}
    try:
        import cupy as cp  # noqa: F401

        out["cupy"] = cp
    except Exception:  # noqa: BLE001 - any import failure means "not there"
        pass
    try:
        import faiss

        if hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0:
            out["faiss"] = faiss
    except Exception:  # noqa: BLE001
        pass
    return out


def cupy_pairwise_l2(cp, x, y):
    gx, gy = cp.asarray(x), cp.asarray(y)
    d = (gx * gx).sum(1)[:, None] + (gy * gy).sum(1)[None, :] - 2 * gx @ gy.T
    return cp.asnumpy(cp.maximum(d, 0))


def cupy_knn_l2(cp, base, q, k):
    gb, gq = cp.asarray(base), cp.asarray(q)
    d = (gb * gb).sum(1)[None, :] - 2 * gq @ gb.T
    part = cp.argpartition(d, k, axis=1)[:, :k]
    order = cp.take_along_axis(d, part, 1).argsort(1)
    return cp.asnumpy(cp.take_along_axis(part, order, 1))


def throughput(rng, reps: int, size: dict, found: dict) -> list[dict]:
    import harness as H

    rows = []
    (n, nq), d, k = size["speed_knn"], 128, 10
    base = rng.standard_normal((n, d)).astype(np.float32)
    q = rng.standard_normal((nq, d)).astype(np.float32)
    systems = {"oxvec cpu": lambda: oxvec.knn(base, q, k), "oxvec cuda": lambda: oxvec.knn(base, q, k, device="cuda")}
    if "cupy" in found:
        cp = found["cupy"]
        systems["cupy"] = lambda: (cupy_knn_l2(cp, base, q, k), cp.cuda.Stream.null.synchronize())
    if "faiss" in found:
        faiss = found["faiss"]
        res = faiss.StandardGpuResources()

        def faiss_knn():
            index = faiss.GpuIndexFlatL2(res, d)  # the same work: the base travels to the device each call
            index.add(base)
            return index.search(q, k)

        systems["faiss-gpu"] = faiss_knn
    t = H.interleaved(systems, reps=reps)
    for name, r in t.items():
        rows.append({"work": f"exact k-NN l2, {n:,}x{d} base, {nq} queries, k={k}", "system": name,
                     "median_s": r["median_s"], "min_s": r["min_s"], "max_s": r["max_s"],
                     "qps": nq / r["median_s"], "vs_cpu": t["oxvec cpu"]["median_s"] / r["median_s"]})
    for metric, (mx, my) in size["speed_pair"].items():
        x = rng.standard_normal((mx, d)).astype(np.float32)
        y = rng.standard_normal((my, d)).astype(np.float32)
        a, b = (np.abs(x), np.abs(y)) if metric == "jensenshannon" else (x, y)
        systems = {"oxvec cpu": lambda: oxvec.pairwise(a, b, metric),
                   "oxvec cuda": lambda: oxvec.pairwise(a, b, metric, device="cuda")}
        if metric == "l2" and "cupy" in found:
            systems["cupy"] = lambda: cupy_pairwise_l2(found["cupy"], a, b)
        t = H.interleaved(systems, reps=reps)
        for name, r in t.items():
            rows.append({"work": f"pairwise {metric}, {mx}x{my}x{d}", "system": name, "median_s": r["median_s"],
                         "min_s": r["min_s"], "max_s": r["max_s"], "qps": mx / r["median_s"],
                         "vs_cpu": t["oxvec cpu"]["median_s"] / r["median_s"]})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller inputs")
    ap.add_argument("--smoke", action="store_true", help="tiny inputs, to try the script through the fake driver")
    args = ap.parse_args()
    if not oxvec.gpu.available():
        print(f"gpu_check: no usable GPU: {oxvec.gpu.reason()}. Nothing was measured and RESULTS.md is unchanged; "
              "run this on a machine with an NVIDIA GPU, its driver and NVRTC (pip install nvidia-cuda-nvrtc-cu12).",
              file=sys.stderr)
        return 2
    import harness as H

    dev = oxvec.gpu.devices()[0]
    if (dev["name"] == "oxvec emulated device" or args.smoke) and not os.environ.get("OXVEC_BENCH_OUT"):
        print("gpu_check: the fake driver or --smoke measures nothing real: set OXVEC_BENCH_OUT to a scratch folder",
              file=sys.stderr)
        return 2
    print(f"gpu_check: {dev['name']} ({dev['arch']}, {dev['memory_bytes'] / 2**30:.0f} GiB, driver {dev['driver_version']})", flush=True)
    rng = np.random.default_rng(19)
    t0 = time.perf_counter()
    size = SIZES["smoke" if args.smoke else "quick" if args.quick else "full"]
    checks = correctness(rng, size)
    for c in checks:
        print(f"  {'ok  ' if c['ok'] else 'FAIL'} {c['check']}: max rel err {c['max_rel_err']:.2e}", flush=True)
    found = peers()
    speed = throughput(rng, args.reps, size, found)
    for s in speed:
        print(f"  {s['work']} | {s['system']}: {s['median_s'] * 1e3:.1f} ms ({s['vs_cpu']:.2f}x cpu)", flush=True)
    versions = {"device": dev["name"], "driver": str(dev["driver_version"])}
    for name, mod in found.items():
        versions[name] = getattr(mod, "__version__", "?")
    mach = H.machine(versions)
    passed = all(c["ok"] for c in checks)
    H.save_json("gpu_check", {"machine": mach, "device": dev, "correctness": checks, "throughput": speed,
                              "passed": passed, "seconds": time.perf_counter() - t0})
    body = [f"## GPU check (issue 19): {dev['name']}", "",
            f"oxvec's CUDA kernels (NVRTC-compiled for {dev['arch']}) against the CPU engine in the same run. "
            f"Correctness: {sum(c['ok'] for c in checks)} of {len(checks)} checks within float32 tolerance "
            f"(|gpu - cpu| <= {ATOL} + {RTOL} |cpu|; k-NN ids agreeing >= 99.9%).", "",
            H.markdown_table(["check", "shape", "max rel. error", "id agreement", "ok"],
                             [[c["check"], c["shape"], f"{c['max_rel_err']:.1e}", f"{c.get('id_agreement', 1.0):.4f}",
                               "yes" if c["ok"] else "**no**"] for c in checks]), "",
            f"Throughput (median of {args.reps} interleaved reps, all CPU threads; GPU times include the copies "
            "to and from the device):", "",
            H.markdown_table(["work", "system", "median ms", "min-max ms", "rows/s", "vs oxvec cpu"],
                             [[s["work"], s["system"], f"{s['median_s'] * 1e3:.1f}",
                               f"{s['min_s'] * 1e3:.1f}-{s['max_s'] * 1e3:.1f}", H.fmt_rate(s["qps"]),
                               f"{s['vs_cpu']:.2f}x"] for s in speed]), "",
            H.machine_line(mach)]
    H.update_results_md(SECTION, "\n".join(body))
    print(f"gpu_check: {'passed' if passed else 'FAILED'} in {time.perf_counter() - t0:.0f} s; wrote {H.RESULTS_MD}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
