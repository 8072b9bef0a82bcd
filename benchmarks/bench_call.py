"""The cost of one single-query search call: oxvec through its C extension
(oxvec._fastcall), oxvec through ctypes (the fallback), and faiss's SWIG
binding, on the same index contents, interleaved in one run.

Two small workloads where the call, not the search, is most of the time:
an exact index of 16 bigann-10k vectors and an HNSW graph of 2,000 of them
(M = 16, ef_construction = 200, ef = 16), bigann-10k query 0, k = 10, one
thread everywhere. Each repetition times `calls` calls of one system; the
systems take turns repetition by repetition. Times are wall clock
(perf_counter) and the calling thread's CPU time (thread_time, which a
shared machine's other processes inflate less, though they still share its
caches and cores; every library here searches on the calling thread); medians and ratios of medians. The
engine's own time per search is measured inside the engine
(oxv_debug_search_repeat), so call minus engine is what the binding costs.

    python benchmarks/bench_call.py [--reps 41] [--calls 4000]

Many short repetitions rather than a few long ones: on a shared machine a
burst of another job's work then spoils a few samples of every system
rather than a whole sample of one, and the median passes over them. The
table gives the best repetition next to the median.
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import time

import numpy as np

import harness as H
import oxvec
from oxvec import _call, _fast, _index
from oxvec._library import lib

K = 10
HNSW_N, HNSW_M, HNSW_EFC, HNSW_EF = 2_000, 16, 200, 16


def timed(fn, calls: int):
    """(wall ns, thread CPU ns) per call of calls calls of fn."""
    w, c = time.perf_counter_ns(), time.thread_time_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - w) / calls, (time.thread_time_ns() - c) / calls


def engine_ns(index: oxvec.Index, q: np.ndarray, ef: int, repeat: int):
    """(wall ns inside the engine, thread CPU ns) of one search, from a loop
    of searches inside the engine."""
    ids, dist = np.empty(K, np.int64), np.empty(K, np.float32)
    elapsed = ctypes.c_int64()

    def repeat_call(request, err):
        return lib.oxv_debug_search_repeat(request, repeat, ctypes.addressof(elapsed), err)

    c = time.thread_time_ns()
    _call.search(_call.state, index._handle, q.ctypes.data, 1, q.shape[-1], K, ids.ctypes.data, dist.ctypes.data,
                 ef=ef, call=repeat_call)
    return elapsed.value / repeat, (time.thread_time_ns() - c) / repeat


def ctypes_only(fn):
    """fn with the C extension switched off: the path without it."""
    fast = _index._fast_search

    def call():
        _index._fast_search = None
        try:
            fn()
        finally:
            _index._fast_search = fast

    return call


def workload(name: str, ox: oxvec.Index, fx, q: np.ndarray, ef: int, reps: int, calls: int) -> list[dict]:
    q2 = q[None, :]
    ox_ids = ox.search(q, K)[0]
    fx_ids = fx.search(q2, K)[1][0]
    same = int(len(np.intersect1d(ox_ids, fx_ids)))
    kw = {"ef": ef} if ef else {}
    # the ctypes variant pays the switch's two assignments and try/finally,
    # about 60 ns, measured below as "switch only" and subtracted
    systems = {
        "oxvec, C extension": lambda: ox.search(q, K, **kw),
        "oxvec, C extension, (1, d) query": lambda: ox.search(q2, K, **kw),
        "oxvec, ctypes": ctypes_only(lambda: ox.search(q, K, **kw)),
        "faiss": lambda: fx.search(q2, K),
    }
    switch = ctypes_only(lambda: None)
    wall = {s: [] for s in systems}
    cpu = {s: [] for s in systems}
    sw_wall, sw_cpu, eng_wall, eng_cpu = [], [], [], []
    for fn in systems.values():
        timed(fn, calls // 10)  # warm-up
    for _ in range(reps):
        for s, fn in systems.items():
            w, c = timed(fn, calls)
            wall[s].append(w)
            cpu[s].append(c)
        w, c = timed(switch, calls)
        sw_wall.append(w)
        sw_cpu.append(c)
        w, c = engine_ns(ox, q, ef, calls)
        eng_wall.append(w)
        eng_cpu.append(c)
    med = statistics.median
    wall["oxvec, ctypes"] = [w - med(sw_wall) for w in wall["oxvec, ctypes"]]
    cpu["oxvec, ctypes"] = [c - med(sw_cpu) for c in cpu["oxvec, ctypes"]]
    rows = []
    for s in systems:
        rows.append({
            "workload": name, "system": s, "wall_ns": med(wall[s]), "wall_ns_min": min(wall[s]), "wall_ns_max": max(wall[s]),
            "cpu_ns": med(cpu[s]), "cpu_ns_min": min(cpu[s]), "cpu_ns_max": max(cpu[s]),
            "engine_wall_ns": med(eng_wall) if s.startswith("oxvec") else None,
            "engine_cpu_ns": med(eng_cpu) if s.startswith("oxvec") else None,
            "same_top10_as_faiss": same,
        })
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=41)
    ap.add_argument("--calls", type=int, default=4_000)
    args = ap.parse_args()
    import faiss

    if _fast.search is None:
        raise SystemExit(f"bench_call compares the C extension with ctypes, but {_fast.why}: run `make lib`")
    oxvec.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    data = H.bigann_10k()
    base, q = data["base"], np.ascontiguousarray(data["queries"][0])
    d = base.shape[1]

    flat = oxvec.Flat(d)
    flat.add(base[:16])
    fflat = faiss.IndexFlatL2(d)
    fflat.add(base[:16])
    hnsw = oxvec.HNSW(d, m=HNSW_M, ef_construction=HNSW_EFC, ef_search=HNSW_EF)
    hnsw.add(base[:HNSW_N])
    fhnsw = faiss.IndexHNSWFlat(d, HNSW_M)
    fhnsw.hnsw.efConstruction = HNSW_EFC
    fhnsw.add(base[:HNSW_N])
    fhnsw.hnsw.efSearch = HNSW_EF

    rows = workload("Flat, 16 vectors", flat, fflat, q, 0, args.reps, args.calls)
    rows += workload(f"HNSW, {HNSW_N:,} vectors, ef {HNSW_EF}", hnsw, fhnsw, q, HNSW_EF, args.reps, max(args.calls // 4, 1))
    m = H.machine({"faiss": faiss.__version__})
    H.save_json("call", {"machine": m, "reps": args.reps, "calls": args.calls, "rows": rows})

    table = []
    for r in rows:
        ref = next(x for x in rows if x["workload"] == r["workload"] and x["system"] == "faiss")
        eng = "" if r["engine_cpu_ns"] is None else f"{r['engine_cpu_ns']:,.0f}"
        binding = "" if r["engine_cpu_ns"] is None else f"{r['cpu_ns'] - r['engine_cpu_ns']:,.0f}"
        table.append([
            r["workload"], r["system"], f"{r['wall_ns']:,.0f}", f"{r['wall_ns'] / ref['wall_ns']:.2f}x",
            f"{r['cpu_ns']:,.0f}", f"{r['cpu_ns_min']:,.0f}", f"{r['cpu_ns'] / ref['cpu_ns']:.2f}x", f"{r['cpu_ns_min'] / ref['cpu_ns_min']:.2f}x",
            eng, binding,
        ])
    body = "\n\n".join([
        "## The Python call - `benchmarks/bench_call.py`",
        f"One single-query `search` per call, bigann-10k query 0, k = {K}, 1 thread: oxvec through its C extension "
        "(`oxvec._fastcall`, the default), the same call through ctypes (the fallback, `OXVEC_NO_FASTCALL=1`), and "
        f"faiss (`IndexFlatL2`, `IndexHNSWFlat` with M = {HNSW_M}, efConstruction = {HNSW_EFC}, efSearch = {HNSW_EF}; "
        "oxvec's HNSW with the same). oxvec takes a 1-D query, faiss a (1, d) array; the (1, d) row shows oxvec given "
        f"faiss's shape. {args.reps} interleaved repetitions of {args.calls:,} calls (HNSW: {max(args.calls // 4, 1):,}); "
        "medians (and the best repetition), ratios of medians against faiss. Wall = perf_counter; CPU = the calling thread's CPU time, which the "
        "other processes of this shared machine inflate less than wall time (they still share its caches and cores; all "
        "three libraries search on the calling thread). Engine = the "
        "engine's own CPU time for the same search (a loop inside the engine, `oxv_debug_search_repeat`); binding = "
        "call CPU minus engine CPU: Python, the binding and the C/Go crossing.",
        H.markdown_table(["workload", "system", "call ns (wall)", "vs faiss", "call ns (CPU)", "best (CPU)", "vs faiss",
                          "best vs faiss's best", "engine ns (CPU)", "binding ns (CPU)"], table),
        "Top-10 ids shared with faiss: " + ", ".join(f"{r['workload']}: {r['same_top10_as_faiss']}/10" for r in rows if r["system"] == "faiss")
        + " (HNSW graphs differ between libraries).",
        "*The machine was shared with other jobs during the run (2 cores, several agents): absolute times vary from "
        "run to run; the ratios come from interleaved repetitions of one run.*",
        H.machine_line(m),
    ])
    H.update_results_md("call", body)
    print(body)


if __name__ == "__main__":
    main()
