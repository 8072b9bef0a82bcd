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
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
R, L_BUILD, ALPHA, K, BEAM = 64, 100, 1.2, 10, 4
LS = [10, 16, 24, 32, 48, 64, 96, 128]
LS_BIG = LS + [192, 256]  # a million vectors needs longer lists for recall 0.95
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
        res["disk_bytes"] = sum(p.stat().st_size for p in pathlib.Path(idx_dir).iterdir() if p.is_file() and p.name != "build.json")
        pathlib.Path(idx_dir, "build.json").write_text(json.dumps(res))  # --work reuses it
        print(json.dumps(res))
        return
    # search: load, cold pass, warm sweep
    q = np.load(os.path.join(work, "queries.npy"))
    gt = np.load(os.path.join(work, "gt_ids.npy"))[:, :K]
    cache_nodes = job["cache_nodes"]
    ls = job.get("ls", LS)
    res["rss_before_load"] = rss()
    t = time.perf_counter()
    if system == "oxvec-diskann":
        ix = oxvec.load(os.path.join(idx_dir, "index.oxv"))

        def search(l):
            return ix.search(q, K, l=l, beam_width=BEAM)[0]

        def one(l, v):
            return ix.search(v[None], K, l=l, beam_width=BEAM)
    elif system == "oxvec-hnsw":
        ix = oxvec.load(os.path.join(idx_dir, "index.oxv"))

        def search(l):
            return ix.search(q, K, ef=l)[0]

        def one(l, v):
            return ix.search(v[None], K, ef=l)
    else:
        import diskannpy

        # a load with num_threads=1 never returns here (microsoft/DiskANN#461, #462:
        # single-thread disk search hangs); 2 contexts, and each search on 1 thread
        ix = diskannpy.StaticDiskIndex(idx_dir, num_threads=2, num_nodes_to_cache=cache_nodes, distance_metric="l2",
                                       vector_dtype=np.float32, dimensions=dim)

        def search(l):
            return ix.batch_search(q, K, complexity=max(l, K), num_threads=1, beam_width=BEAM).identifiers

        def one(l, v):
            return ix.search(v, K, complexity=max(l, K), beam_width=BEAM)
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
        if latency:  # one query per call: the latency a caller sees, p99 over the queries
            lat = []
            for v in q:
                t = time.perf_counter()
                one(l, v)
                lat.append(time.perf_counter() - t)
            row["p99_ms"] = float(np.percentile(lat, 99) * 1000)
        return row

    latency = False
    if system != "oxvec-hnsw":
        drop_cache(idx_dir)
        res["cold"] = run(job["cold_l"])
    run(ls[0])  # warm-up
    latency = job.get("latency", False)
    res["warm"] = [run(l) for l in ls]
    res["queries_run"] = len(q) * (len(ls) * (2 if latency else 1) + 1 + (system != "oxvec-hnsw"))
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


def interpolate_key(curve, target, key):
    """curve[key] at a recall, linear between the two settings around it (None if never reached)."""
    pts = sorted((r["recall"], r[key]) for r in curve if key in r)
    for (r0, v0), (r1, v1) in zip(pts, pts[1:]):
        if r0 <= target <= r1:
            return v0 if r1 == r0 else v0 + (v1 - v0) * (target - r0) / (r1 - r0)
    return pts[0][1] if pts and pts[0][0] >= target else None


def median_runs(runs: list[dict]) -> dict:
    out = {k: runs[0][k] for k in ("system",)}
    out["load_s"] = statistics.median(r["load_s"] for r in runs)
    out["queries_run"] = runs[0].get("queries_run")
    for key in ("rss_before_load", "rss_after_load", "rss_after_queries"):
        if key not in runs[0]:
            continue
        out[key] = {m: statistics.median(r[key][m] for r in runs) for m in runs[0][key]}
    out["warm"] = []
    for i, w in enumerate(runs[0]["warm"]):
        rows = [r["warm"][i] for r in runs]
        row = {"l": w["l"], "recall": rows[0]["recall"], "qps": statistics.median(x["qps"] for x in rows),
               "qps_min": min(x["qps"] for x in rows), "qps_max": max(x["qps"] for x in rows)}
        if "p99_ms" in rows[0]:
            row["p99_ms"] = statistics.median(x["p99_ms"] for x in rows)
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
    ap.add_argument("--datasets", default="bigann-10k,clustered-384d",
                    help="comma list of bigann-10k, clustered-384d (--synthetic vectors), clustered-1m (harness.clustered_big)")
    ap.add_argument("--work", help="keep the work directory of the (single) dataset here and reuse the builds found in it "
                    "(<work>/<system>/build.json, and the CPU time from <work>/<system>/build.time, /usr/bin/time -v's "
                    "output, when the build was run by hand as a --worker job): a 1M build runs once")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--render", help="re-render the RESULTS.md section from a saved results json (benchmarks/results/<name>.json)")
    args = ap.parse_args()
    if args.worker:
        return worker(argparse.Namespace(job=args.worker))
    sys.path.insert(0, str(HERE))
    import harness as H

    if args.render:
        saved = json.loads(pathlib.Path(args.render).read_text())
        name = pathlib.Path(args.render).stem
        return H.update_results_md(name, render(saved, H, saved.get("command", "")))

    systems = [s for s in SYSTEMS if s != "diskannpy" or DISKANN_VENV.exists()]
    versions = {}
    if DISKANN_VENV.exists():
        versions["diskannpy"] = subprocess.run([str(DISKANN_VENV), "-c", "import importlib.metadata as m; print(m.version('diskannpy'))"],
                                               capture_output=True, text=True).stdout.strip()
    names = args.datasets.split(",")
    if args.work and len(names) != 1:
        ap.error("--work keeps one dataset's directory: name one dataset")
    results = {"machine": H.machine(versions), "params": {"r": R, "l_build": L_BUILD, "alpha": ALPHA, "k": K, "beam_width": BEAM,
                                                        "search_threads": 1, "build_threads": args.threads, "reps": args.reps}, "datasets": []}
    for name in names:
        if name == "bigann-10k":
            d = H.bigann_10k()
        elif name == "clustered-384d" and args.synthetic:
            d = H.synthetic(args.synthetic, 384, 1000, "l2", k=K)
            d["name"] = f"clustered-{args.synthetic // 1000}k-384d"
        elif name == "clustered-1m":
            d = H.clustered_big()
        else:
            ap.error(f"unknown dataset {name!r}")
        big = len(d["base"]) >= 500_000
        n, dim = d["base"].shape
        pq_bytes = dim // 4
        with tempfile.TemporaryDirectory(dir=HERE / "data" if (HERE / "data").exists() else None) as tmp:
            work = args.work or tmp
            os.makedirs(work, exist_ok=True)
            for f, a in (("base", d["base"]), ("queries", d["queries"]), ("gt_ids", d["gt_ids"])):
                if not os.path.exists(os.path.join(work, f + ".npy")):
                    np.save(os.path.join(work, f + ".npy"), np.ascontiguousarray(a, np.float32 if f != "gt_ids" else None))
            job = {"work": work, "dim": dim, "pq_bytes": pq_bytes, "threads": args.threads, "cache_nodes": min(4096, n // 64), "cold_l": 48,
                   "ls": LS_BIG if big else LS, "latency": big}
            py = {s: DISKANN_VENV if s == "diskannpy" else sys.executable for s in systems}
            builds = {}
            for s in systems:
                done = pathlib.Path(work, s, "build.json")
                if args.work and done.exists():
                    builds[s] = json.loads(done.read_text())
                    timed = done.with_name("build.time")  # /usr/bin/time -v of a build run by hand
                    if "build_cpu_s" not in builds[s] and timed.exists():
                        t = {k.strip(): v for k, _, v in (line.partition(": ") for line in timed.read_text().splitlines())}
                        builds[s]["build_cpu_s"] = float(t["User time (seconds)"]) + float(t["System time (seconds)"])
                else:
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    builds[s] = call(py[s], {**job, "system": s, "mode": "build"})
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    builds[s]["build_cpu_s"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
                print(json.dumps({"dataset": d["name"], "built": s, "build_s": builds[s]["build_s"]}), flush=True)
            runs: dict[str, list] = {s: [] for s in systems}
            for _ in range(args.reps):
                for s in systems:
                    runs[s].append(call(py[s], {**job, "system": s, "mode": "search", "threads": 1}))
            entry = {"name": d["name"], "n": n, "dim": dim, "pq_bytes": pq_bytes, "raw_mib": n * dim * 4 / 2**20, "systems": {}}
            for s in systems:
                m = median_runs(runs[s])
                m.update(builds[s])
                m["qps_at"] = {str(t): interpolate(m["warm"], t) for t in TARGETS}
                if big:
                    m["p99_at"] = {str(t): interpolate_key(m["warm"], t, "p99_ms") for t in TARGETS}
                entry["systems"][s] = m
            results["datasets"].append(entry)
            print(json.dumps({"dataset": d["name"], "done": True}), flush=True)
    results["command"] = " ".join(sys.argv[1:])
    H.save_json("diskann" if names != ["clustered-1m"] else "diskann-1m", results)
    H.update_results_md("diskann" if names != ["clustered-1m"] else "diskann-1m", render(results, H, " ".join(sys.argv[1:])))


def render(res: dict, H, argv: str = "") -> str:
    m = res["machine"]
    big = any(d["n"] >= 500_000 for d in res["datasets"])
    out = [f"## DiskANN{' at a million vectors' if big else ''}: a graph on disk (oxvec.DiskANN vs diskannpy vs oxvec.HNSW in memory)", "",
           f"r = {R}, l_build = {L_BUILD}, alpha = {ALPHA}, PQ codes of dim/4 bytes in memory for both DiskANNs, beam width {BEAM}, "
           "node cache min(4096, n/64) nodes for both; HNSW with m = 32 (64 links at level 0), ef_construction = 100. "
           "Build on all threads; searches on 1 thread, batch of 1,000 queries, k = 10; QPS are medians of "
           f"{res['params']['reps']} runs, each in a fresh process, systems interleaved. "
           "RSS = RssAnon (the process's own memory: no page cache, no mapped files); 'index RSS' = RssAnon after load minus before "
           "(the Python interpreter and numpy are in the 'before'). Cold = first pass after the index files' "
           "pages were dropped (posix_fadvise DONTNEED) at l = 48. diskannpy's index is opened with 2 I/O contexts (with 1 it hangs, "
           "microsoft/DiskANN#461) and searched with num_threads=1. diskannpy reads with O_DIRECT, so it never uses the page cache; "
           "oxvec reads with pread through it, so its warm figures are page-cache reads. The machine was shared with other jobs "
           "(2 cores, other helpers' builds and soaks running): absolute QPS are noisy, ratios within one run less so.", ""]
    if big:
        out += ["At a million vectors each build ran once (with --work the builds are kept and reused, so a later search-only "
                "run reports the build time measured when it was made); p99 is the 99th percentile of 1,000 one-query calls "
                "(1 thread) at each l, interpolated at the recall like QPS. 'RSS after queries' is after every query of the "
                "run (the cold pass, a warm-up, the batch sweep and the one-query sweep: the 'queries' column). "
                "Build wall times are on the shared machine and not comparable between systems: diskannpy's 1M build ran "
                "beside other helpers' jobs, oxvec.HNSW's overlapped oxvec.DiskANN's (started 8 minutes into it); the CPU "
                "seconds (user + system of the build process, /usr/bin/time) are the steadier measure. 'disk MiB' counts "
                "every file the build left in the system's directory (diskannpy keeps a copy of the vectors and its "
                "in-memory graph beside the disk index).", ""]
    for d in res["datasets"]:
        out += [f"### {d['name']}: {d['n']:,} x {d['dim']} (raw float32 {d['raw_mib']:.1f} MiB)", ""]
        rows = []
        for s, r in d["systems"].items():
            idx_rss = r["rss_after_load"]["RssAnon"] - r["rss_before_load"]["RssAnon"] if "rss_before_load" in r else None
            row = [s, f"{r['build_s']:.1f}" + (f" ({r['build_cpu_s']:.0f} CPU s)" if big and "build_cpu_s" in r else ""),
                   f"{r['disk_bytes'] / 2**20:.1f}", f"{r['rss_after_load']['RssAnon']:.1f}"]
            if big:
                row += [f"{idx_rss:.1f} ({100 * idx_rss / d['raw_mib']:.1f}%)", f"{r['queries_run']:,}"]
            row += [f"{r['rss_after_queries']['RssAnon']:.1f}", f"{r['load_s'] * 1000:.0f}",
                    *[H.fmt_rate(r["qps_at"][str(t)]) if r["qps_at"][str(t)] else "-" for t in TARGETS]]
            if big:
                row += [f"{r['p99_at'][str(t)]:.2f}" if r["p99_at"][str(t)] else "-" for t in TARGETS]
            cold = "-"
            if "cold" in r:
                cold = f"{r['cold']['qps']:,.0f} @ {r['cold']['recall']:.3f}"
                if "reads_per_query" in r["cold"]:
                    cold += f", {r['cold']['reads_per_query']:.1f} reads/q"
            rows.append(row + [cold])
        head = ["system", "build s", "disk MiB", "RSS after load MiB"]
        if big:
            head += ["index RSS MiB (% of raw)", "queries"]
        head += ["RSS after queries MiB", "load ms", *[f"QPS @ recall {t}" for t in TARGETS]]
        if big:
            head += [f"p99 ms @ recall {t}" for t in TARGETS]
        out += [H.markdown_table(head + ["cold QPS @ recall"], rows), ""]
        rows = []
        first = next(iter(d["systems"].values()))
        for i, w0 in enumerate(first["warm"]):
            row = [w0["l"]]
            for s, r in d["systems"].items():
                w = r["warm"][i]
                cell = f"{w['recall']:.3f} / {H.fmt_rate(w['qps'])}"
                if "p99_ms" in w:
                    cell += f" / {w['p99_ms']:.2f} ms"
                if "reads_per_query" in w:
                    cell += f" / {w['reads_per_query']:.1f}"
                row.append(cell)
            rows.append(row)
        out += ["recall@10 / QPS (1 thread, warm)" + (" / p99 of one-query calls" if big else "") + " / block reads per query (oxvec.DiskANN)", "",
                H.markdown_table(["l (ef)"] + list(d["systems"]), rows), ""]
    if argv:
        out.append(f"Command: `python benchmarks/bench_diskann.py {argv}`")
        out.append("")
    out.append(H.machine_line(m))
    return "\n".join(out)


if __name__ == "__main__":
    main()
