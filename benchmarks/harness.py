"""What every oxvec benchmark shares: data, ground truth, timing, machine
facts, and the writing of results (JSON, the RESULTS.md table, plots).

Rules (../shared/BENCHMARKING.md): peers run in the same process and the same
run, interleaved rep by rep; we report medians of >= 5 repetitions with their
spread, and ratios of medians rather than absolute times across runs.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys
import time
from typing import Callable

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
DATASETS = ROOT.parent / "shared" / "datasets"
# OXVEC_BENCH_OUT (set by make bench QUICK=1) sends results elsewhere, so a
# quick trial run never replaces the figures RESULTS.md quotes.
OUT = pathlib.Path(os.environ["OXVEC_BENCH_OUT"]) if os.environ.get("OXVEC_BENCH_OUT") else HERE
RESULTS_MD = OUT / "RESULTS.md"
RESULTS_DIR = OUT / "results"  # plots go to OUT too


def pin_openblas_coretype() -> str:
    """faiss-cpu's wheel bundles OpenBLAS 0.3.15, whose CPU detection
    predates recent Xeons (it takes an Emerald Rapids for a Prescott and runs
    SSE3 sgemm, 3-5x slower): name the kernel family the CPU supports, so
    faiss is measured at its best. An OPENBLAS_CORETYPE already set wins.
    Runs when this module is imported: after numpy (whose own OpenBLAS has
    loaded by then) and before any benchmark imports faiss."""
    if "OPENBLAS_CORETYPE" not in os.environ:
        try:
            flags = open("/proc/cpuinfo").read()
        except OSError:
            flags = ""
        if " avx512f" in flags:
            os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
        elif " avx2" in flags:
            os.environ["OPENBLAS_CORETYPE"] = "Haswell"
    return os.environ.get("OPENBLAS_CORETYPE", "detected")


OPENBLAS_CORETYPE = pin_openblas_coretype()


# --- data ---------------------------------------------------------------------
def bigann_10k() -> dict:
    """9,000 SIFT base vectors, 1,000 queries, exact top-100 (squared L2)."""
    d = DATASETS / "bigann-10k"
    out = {n: np.load(d / f"{n}.npy") for n in ("base", "queries", "gt_ids", "gt_dist")}
    out["base"] = out["base"].astype(np.float32)
    out["queries"] = out["queries"].astype(np.float32)
    out["name"], out["metric"] = "bigann-10k", "l2"
    return out


def clustered(n: int, dim: int, seed: int, centers: int = 256) -> np.ndarray:
    """Gaussian blobs: for scale and memory tests only, never as the only
    evidence of search quality."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, dim)).astype(np.float32)
    return c[rng.integers(0, centers, n)] + 0.5 * rng.standard_normal((n, dim)).astype(np.float32)


def synthetic(n: int, dim: int, nq: int, metric: str = "l2", k: int = 100) -> dict:
    base, queries = clustered(n, dim, 1), clustered(nq, dim, 2)
    ids, dist = exact_knn(base, queries, k, metric)
    return {"name": f"clustered-{n // 1000}k-{dim}d", "metric": metric, "base": base, "queries": queries, "gt_ids": ids, "gt_dist": dist}


def patch_clusters(n: int, dim: int, seed: int, *, centers: int = 1000, intrinsic: int = 12) -> np.ndarray:
    """Clusters that are low-dimensional patches, as real embeddings are: each
    of `centers` clusters spans `intrinsic` random directions of its own, plus
    a little isotropic noise. The structure (centers, directions) is fixed;
    `seed` only draws the points, so base and queries share the clusters (the
    blobs of clustered() do not: there a query's seed draws other centers)."""
    srng = np.random.default_rng(20261202)
    c = srng.standard_normal((centers, dim)).astype(np.float32)
    span = (0.4 * srng.standard_normal((centers, intrinsic, dim))).astype(np.float32)
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), np.float32)
    for s in range(0, n, 65536):
        m = min(65536, n - s)
        lab = rng.integers(0, centers, m)
        z = rng.standard_normal((m, intrinsic)).astype(np.float32)
        out[s : s + m] = c[lab] + np.einsum("ni,nid->nd", z, span[lab]) + 0.1 * rng.standard_normal((m, dim)).astype(np.float32)
    return out


def clustered_big(n: int = 1_000_000, dim: int = 128, nq: int = 1000, k: int = 100) -> dict:
    """The synthetic l2 set of the speed and disk issues (patch_clusters, base
    seed 1, query seed 2), ground truth by exact float64 search. Written once
    to benchmarks/data/clustered-<n>-<dim>d/ (about 0.5 GB for 1M x 128) and
    read from there afterwards, so every benchmark uses the same vectors."""
    name = f"clustered-{n // 1000}k-{dim}d" if n < 1_000_000 else f"clustered-{n // 1_000_000}m-{dim}d"
    d = HERE / "data" / name
    files = ("base", "queries", "gt_ids", "gt_dist")
    if not all((d / f"{f}.npy").exists() for f in files):
        base, queries = patch_clusters(n, dim, 1), patch_clusters(nq, dim, 2)
        ids, dist = exact_knn(base, queries, k, "l2")
        d.mkdir(parents=True, exist_ok=True)
        for f, a in zip(files, (base, queries, ids, dist)):
            np.save(d / f"{f}.tmp.npy", a)
            os.replace(d / f"{f}.tmp.npy", d / f"{f}.npy")
    out = {f: np.load(d / f"{f}.npy", mmap_mode="r" if f == "base" else None) for f in files}
    out["base"] = np.ascontiguousarray(out["base"])
    out["name"], out["metric"] = name, "l2"
    return out


def exact_knn(base: np.ndarray, queries: np.ndarray, k: int, metric: str = "l2"):
    """float64 brute force in blocks; ids and distances of the k nearest."""
    b = base.astype(np.float64)
    if metric == "cosine":
        b /= np.linalg.norm(b, axis=1, keepdims=True)
    bn = (b * b).sum(1)
    ids = np.empty((len(queries), k), np.int64)
    dist = np.empty((len(queries), k))
    for s in range(0, len(queries), 128):
        q = queries[s : s + 128].astype(np.float64)
        if metric == "l2":
            d = (q * q).sum(1)[:, None] - 2 * q @ b.T + bn[None, :]
        elif metric == "ip":
            d = 1 - q @ b.T
        else:
            d = 1 - (q / np.linalg.norm(q, axis=1, keepdims=True)) @ b.T
        part = np.argpartition(d, k, axis=1)[:, :k]
        order = np.take_along_axis(d, part, 1).argsort(1, kind="stable")
        ids[s : s + 128] = np.take_along_axis(part, order, 1)
        dist[s : s + 128] = np.take_along_axis(d, ids[s : s + 128], 1)
    return ids, dist


def recall_at(found: np.ndarray, gt_ids: np.ndarray, k: int) -> float:
    """recall@k: the share of the true k nearest that were returned."""
    hits = sum(len(np.intersect1d(f[:k], g[:k])) for f, g in zip(found, gt_ids))
    return hits / (k * len(gt_ids))


# --- timing -------------------------------------------------------------------
def interleaved(systems: dict[str, Callable[[], object]], reps: int = 5, warmup: int = 1, settle: float = 0.0,
                clock: Callable[[], float] = time.perf_counter) -> dict[str, dict]:
    """Time each system's callable reps times, interleaved A B C A B C ...,
    after warm-up; returns median, min, max seconds per system.

    settle: seconds of untimed calls of a system (at least one) right before
    each of its timed calls. For calls of a few milliseconds: faiss's OpenMP
    threads keep spinning for 8-10 ms after a parallel region (process CPU
    time measured during a sleep after a 2-thread search), and a system
    timed inside that window lost a third of its 2-thread speed (IVF-Flat,
    bigann-10k, nprobe 1). Untimed calls for longer than that absorb it,
    and the other system's data in the caches, for both sides alike.

    clock: time.perf_counter (wall time, the default) or time.thread_time
    for work that runs entirely on the calling thread (the engine on one
    thread: parallel.For runs serially there). Thread CPU time leaves out
    the time other processes hold the core, which on this shared 2-core
    machine is most of the noise between strategies of one engine."""
    for fn in systems.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(reps):
        for name, fn in systems.items():
            if settle:
                end = time.perf_counter() + settle
                fn()
                while time.perf_counter() < end:
                    fn()
            t = clock()
            fn()
            times[name].append(clock() - t)
    return {n: {"median_s": statistics.median(ts), "min_s": min(ts), "max_s": max(ts), "reps": reps} for n, ts in times.items()}


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- machine facts --------------------------------------------------------------
def machine(extra_versions: dict[str, str] | None = None) -> dict:
    cpu, flags = platform.processor(), set()
    try:
        info = pathlib.Path("/proc/cpuinfo").read_text()
        cpu = re.search(r"model name\s*:\s*(.*)", info).group(1)
        flags = set(re.search(r"flags\s*:\s*(.*)", info).group(1).split())
    except (OSError, AttributeError):
        pass
    import oxvec

    versions = {"python": platform.python_version(), "numpy": np.__version__, "oxvec": oxvec.__version__, "engine": oxvec.engine_version()}
    versions.update(extra_versions or {})
    if "faiss" in sys.modules:  # the BLAS faiss's numbers depend on
        versions["OPENBLAS_CORETYPE"] = OPENBLAS_CORETYPE
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "simd": " ".join(sorted(f for f in flags if f in {"avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512vl", "amx_tile"})),
        "cores": os.cpu_count(),
        "versions": versions,
        "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
        "git": _git_rev(),
    }


def _git_rev() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


# --- writing results ------------------------------------------------------------
def save_json(name: str, payload: dict) -> pathlib.Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, default=float) + "\n")
    return path


def markdown_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_line(m: dict) -> str:
    v = ", ".join(f"{k} {val}" for k, val in m["versions"].items())
    return f"*{m['date']}, {m['cpu']} ({m['cores']} cores; {m['simd']}), git {m['git']}. Versions: {v}. Command: `{m['command']}`.*"


def update_results_md(section: str, body: str) -> None:
    """Replace the section between its markers in RESULTS.md (appending it
    the first time), leaving other benchmarks' sections untouched."""
    begin, end = f"<!-- BEGIN {section} -->", f"<!-- END {section} -->"
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else "# Benchmark results\n\nEvery figure below was produced by the script and command named under its table, on the machine stated there, with the peers in the same run. Regenerate with `make bench`.\n"
    block = f"{begin}\n{body.strip()}\n{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS_MD.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_MD.write_text(text)


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def bar_plot(path: pathlib.Path, title: str, groups: list[str], series: dict[str, list[float]], ylabel: str) -> None:
    """Grouped bars (one group per dataset/setting, one bar per system), log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(groups)), 4))
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        ax.bar([g + i * width for g in range(len(groups))], values, width, label=name)
    ax.set_xticks([g + width * (len(series) - 1) / 2 for g in range(len(groups))], groups, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
