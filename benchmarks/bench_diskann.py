"""DiskANN on disk: oxvec.DiskANN against diskannpy 0.7.0 (its own venv,
numpy 1.25) and oxvec.HNSW in memory, same data, same graph degree, same
build list size, searches on 1 thread, in the same run.

    python benchmarks/bench_diskann.py [--reps 3] [--synthetic 30000]

Per dataset: build time (all threads), bytes on disk, resident memory
(RssAnon: the process's own memory, not the page cache and not mapped
files) after load and after all queries, then per list size l (HNSW: ef)
recall@10, batch QPS and - for oxvec.DiskANN - block reads per query, warm
(pages cached) and cold (the index files' pages dropped with
posix_fadvise(DONTNEED) before a first pass). Every search configuration
runs in a fresh process per repetition, systems interleaved A B C A B C,
medians reported. diskannpy reads with O_DIRECT (no page cache), so its
warm and cold runs read the device alike; oxvec preads through the page
cache. Data: bigann-10k (real SIFT) and clustered synthetic 384-d
vectors (harness.clustered, for scale only).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
R, L_BUILD, ALPHA, K, BEAM = 64, 100, 1.2, 10, 4
LS = [10, 16, 24, 32, 48, 64, 96, 128]
TARGETS = [0.90, 0.95]
DISKANN_VENV = HERE / ".diskann-venv" / "bin" / "python"
SYSTEMS = ["oxvec-diskann", "diskannpy", "oxvec-hnsw"]


# --- the worker: one system, one build or one search run, in its own process ---
def rss() -> dict:
    out = {}
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        key, _, val = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[key] = int(val.split()[0]) / 1024  # MiB
    return out


def drop_cache(directory: str) -> None:
    for p in pathlib.Path(directory).iterdir():
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def worker(args) -> None:
    job = json.loads(args.job)
    system, work, mode = job["system"], job["work"], job["mode"]
    base_path = os.path.join(work, "base.npy")
    dim = job["dim"]
    idx_dir = os.path.join(work, system)
    os.makedirs(idx_dir, exist_ok=True)
    res: dict = {"system": system}
    if system.startswith("oxvec"):
        sys.path.insert(0, str(HERE.parent / "python"))
        import oxvec

        oxvec.set_num_threads(job["threads"])
    if mode == "build":
        t = time.perf_counter()
        if system == "oxvec-diskann":
            ix = oxvec.DiskANN(dim, r=R, l_build=L_BUILD, alpha=ALPHA, pq_bytes=job["pq_bytes"], path=os.path.join(idx_dir, "index.oxv"))
            ix.build(base_path)
            ix.close()
        elif system == "oxvec-hnsw":
            x = np.load(base_path)
            ix = oxvec.HNSW(dim, m=R // 2, ef_construction=L_BUILD)
            ix.add(x)
            ix.save(os.path.join(idx_dir, "index.oxv"))
        else:
            import diskannpy

            x = np.load(base_path)
            gb = job["pq_bytes"] * len(x) / 2**30 * 1.0001
            diskannpy.build_disk_index(x, "l2", idx_dir, complexity=L_BUILD, graph_degree=R, search_memory_maximum=gb,
                                       build_memory_maximum=8.0, num_threads=job["threads"], pq_disk_bytes=0)
        res["build_s"] = time.perf_counter() - t
        res["peak_rss_mib"] = rss().get("VmHWM")
        res["disk_bytes"] = sum(p.stat().st_size for p in pathlib.Path(idx_dir).iterdir() if p.is_file())
        print(json.dumps(res))
        return
    # search: load, cold pass, warm sweep
    q = np.load(os.path.join(work, "queries.npy"))
    gt = np.load(os.path.join(work, "gt_ids.npy"))[:, :K]
    cache_nodes = job["cache_nodes"]
    t = time.perf_counter()
    if system == "oxvec-diskann":
        ix = oxvec.load(os.path.join(idx_dir, "index.oxv"))

        def search(l):
            return ix.search(q, K, l=l, beam_width=BEAM)[0]
    elif system == "oxvec-hnsw":
        ix = oxvec.load(os.path.join(idx_dir, "index.oxv"))

        def search(l):
            return ix.search(q, K, ef=l)[0]
    else:
        import diskannpy

        # a load with num_threads=1 never returns here (microsoft/DiskANN#461, #462:
        # single-thread disk search hangs); 2 contexts, and each search on 1 thread
        ix = diskannpy.StaticDiskIndex(idx_dir, num_threads=2, num_nodes_to_cache=cache_nodes, distance_metric="l2",
                                       vector_dtype=np.float32, dimensions=dim)

        def search(l):
            return ix.batch_search(q, K, complexity=max(l, K), num_threads=1, beam_width=BEAM).identifiers
    res["load_s"] = time.perf_counter() - t
    res["rss_after_load"] = rss()

    def run(l):
        if system == "oxvec-diskann":
            ix.stats(reset=True)
        t = time.perf_counter()
        found = search(l)
        el = time.perf_counter() - t
        row = {"l": l, "qps": len(q) / el, "recall": float(np.mean([len(set(f[:K]) & set(g)) / K for f, g in zip(found, gt)]))}
        if system == "oxvec-diskann":
            s = ix.stats()
            row["reads_per_query"] = s["blocks_read"] / len(q)
            row["cache_hits_per_query"] = s["cache_hits"] / len(q)
        return row

    if system != "oxvec-hnsw":
        drop_cache(idx_dir)
        res["cold"] = run(job["cold_l"])
    run(LS[0])  # warm-up
    res["warm"] = [run(l) for l in LS]
    res["rss_after_queries"] = rss()
    print(json.dumps(res))


# --- the driver ----------------------------------------------------------------
def call(python, job: dict) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    out = subprocess.run([str(python), __file__, "--worker", json.dumps(job)], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{job['system']} {job['mode']} failed:\n{out.stderr[-3000:]}")
    # diskannpy logs to stdout too, also after the result line
    return json.loads([line for line in out.stdout.splitlines() if line.startswith('{"system"')][-1])


def interpolate(curve, target):
    """QPS at a recall, linear between the two settings around it (None if never reached)."""
    pts = sorted((r["recall"], r["qps"]) for r in curve)
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1:
            return q0 if r1 == r0 else q0 + (q1 - q0) * (target - r0) / (r1 - r0)
    return pts[0][1] if pts and pts[0][0] >= target else None


def median_runs(runs: list[dict]) -> dict:
    out = {k: runs[0][k] for k in ("system",)}
    out["load_s"] = statistics.median(r["load_s"] for r in runs)
    for key in ("rss_after_load", "rss_after_queries"):
        out[key] = {m: statistics.median(r[key][m] for r in runs) for m in runs[0][key]}
    out["warm"] = []
    for i, l in enumerate(LS):
        rows = [r["warm"][i] for r in runs]
        row = {"l": l, "recall": rows[0]["recall"], "qps": statistics.median(x["qps"] for x in rows),
               "qps_min": min(x["qps"] for x in rows), "qps_max": max(x["qps"] for x in rows)}
        if "reads_per_query" in rows[0]:
            row["reads_per_query"] = rows[0]["reads_per_query"]
            row["cache_hits_per_query"] = rows[0]["cache_hits_per_query"]
        out["warm"].append(row)
    if "cold" in runs[0]:
        out["cold"] = {"l": runs[0]["cold"]["l"], "recall": runs[0]["cold"]["recall"], "qps": statistics.median(r["cold"]["qps"] for r in runs)}
        if "reads_per_query" in runs[0]["cold"]:
            out["cold"]["reads_per_query"] = runs[0]["cold"]["reads_per_query"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--synthetic", type=int, default=30000, help="vectors of the clustered 384-d set (0: skip)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    if args.worker:
        return worker(argparse.Namespace(job=args.worker))
    sys.path.insert(0, str(HERE))
    import harness as H

    systems = [s for s in SYSTEMS if s != "diskannpy" or DISKANN_VENV.exists()]
    versions = {}
    if DISKANN_VENV.exists():
        versions["diskannpy"] = subprocess.run([str(DISKANN_VENV), "-c", "import importlib.metadata as m; print(m.version('diskannpy'))"],
                                               capture_output=True, text=True).stdout.strip()
    datasets = [H.bigann_10k()]
    if args.synthetic:
        datasets.append(H.synthetic(args.synthetic, 384, 1000, "l2", k=K))
        datasets[-1]["name"] = f"clustered-{args.synthetic // 1000}k-384d"
    results = {"machine": H.machine(versions), "params": {"r": R, "l_build": L_BUILD, "alpha": ALPHA, "k": K, "beam_width": BEAM,
                                                        "search_threads": 1, "build_threads": args.threads, "reps": args.reps}, "datasets": []}
    for d in datasets:
        n, dim = d["base"].shape
        pq_bytes = dim // 4
        with tempfile.TemporaryDirectory(dir=HERE / "data" if (HERE / "data").exists() else None) as work:
            np.save(os.path.join(work, "base.npy"), np.ascontiguousarray(d["base"], np.float32))
            np.save(os.path.join(work, "queries.npy"), np.ascontiguousarray(d["queries"], np.float32))
            np.save(os.path.join(work, "gt_ids.npy"), d["gt_ids"])
            job = {"work": work, "dim": dim, "pq_bytes": pq_bytes, "threads": args.threads, "cache_nodes": min(4096, n // 64), "cold_l": 48}
            py = {s: DISKANN_VENV if s == "diskannpy" else sys.executable for s in systems}
            builds = {s: call(py[s], {**job, "system": s, "mode": "build"}) for s in systems}
            runs: dict[str, list] = {s: [] for s in systems}
            for _ in range(args.reps):
                for s in systems:
                    runs[s].append(call(py[s], {**job, "system": s, "mode": "search", "threads": 1}))
            entry = {"name": d["name"], "n": n, "dim": dim, "pq_bytes": pq_bytes, "raw_mib": n * dim * 4 / 2**20, "systems": {}}
            for s in systems:
                m = median_runs(runs[s])
                m.update(builds[s])
                m["qps_at"] = {str(t): interpolate(m["warm"], t) for t in TARGETS}
                entry["systems"][s] = m
            results["datasets"].append(entry)
            print(json.dumps({"dataset": d["name"], "done": True}), flush=True)
    H.save_json("diskann", results)
    H.update_results_md("diskann", render(results, H))


def render(res: dict, H) -> str:
    m = res["machine"]
    out = ["## DiskANN: a graph on disk (oxvec.DiskANN vs diskannpy vs oxvec.HNSW in memory)", "",
           f"r = {R}, l_build = {L_BUILD}, alpha = {ALPHA}, PQ codes of dim/4 bytes in memory for both DiskANNs, beam width {BEAM}, "
           "node cache min(4096, n/64) nodes for both; HNSW with m = 32 (64 links at level 0), ef_construction = 100. "
           "Build on all threads; searches on 1 thread, batch of 1,000 queries, k = 10; QPS are medians of "
           f"{res['params']['reps']} runs, each in a fresh process, systems interleaved. "
           "RSS = RssAnon (the process's own memory: no page cache, no mapped files). Cold = first pass after the index files' "
           "pages were dropped (posix_fadvise DONTNEED) at l = 48. diskannpy's index is opened with 2 I/O contexts (with 1 it hangs, "
           "microsoft/DiskANN#461) and searched with num_threads=1. diskannpy reads with O_DIRECT, so it never uses the page cache; "
           "oxvec reads with pread through it, so its warm figures are page-cache reads. The machine was shared with other jobs "
           "(2 cores, load average far above 2): absolute QPS are noisy, ratios within one run less so.", ""]
    for d in res["datasets"]:
        out += [f"### {d['name']}: {d['n']:,} x {d['dim']} (raw float32 {d['raw_mib']:.1f} MiB)", ""]
        rows = []
        for s, r in d["systems"].items():
            rows.append([s, f"{r['build_s']:.1f}", f"{r['disk_bytes'] / 2**20:.1f}", f"{r['rss_after_load']['RssAnon']:.1f}",
                         f"{r['rss_after_queries']['RssAnon']:.1f}", f"{r['load_s'] * 1000:.0f}",
                         *[H.fmt_rate(r["qps_at"][str(t)]) if r["qps_at"][str(t)] else "-" for t in TARGETS],
                         f"{r['cold']['qps']:,.0f} @ {r['cold']['recall']:.3f}" if "cold" in r else "-"])
        out += [H.markdown_table(["system", "build s", "disk MiB", "RSS after load MiB", "RSS after queries MiB", "load ms",
                                  *[f"QPS @ recall {t}" for t in TARGETS], "cold QPS @ recall"], rows), ""]
        rows = []
        for i, l in enumerate(LS):
            row = [l]
            for s, r in d["systems"].items():
                w = r["warm"][i]
                cell = f"{w['recall']:.3f} / {H.fmt_rate(w['qps'])}"
                if "reads_per_query" in w:
                    cell += f" / {w['reads_per_query']:.1f}"
                row.append(cell)
            rows.append(row)
        out += ["recall@10 / QPS (1 thread, warm)" + " / block reads per query (oxvec.DiskANN)", "",
                H.markdown_table(["l (ef)"] + list(d["systems"]), rows), ""]
    out.append(H.machine_line(m))
    return "\n".join(out)


if __name__ == "__main__":
    main()
