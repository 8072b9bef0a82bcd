"""The cost of fan-out: a search of a ShardedStore (2 shards x 2 replicas on
Ray actors, this machine only) against one VectorStore with the same records,
interleaved in one run.

Both hold the same n clustered vectors (harness.clustered, seed 7) with a
short synthetic document each, flat (exact) index, k 10. Timed per call:
a single vector query, a batch of queries in one call, a single keyword
query (a sharded one takes two round trips: statistics, then ranking), and
an upsert of 100 records (durability "always": one fsync per replica, all
replicas of a shard written in parallel, acknowledged at quorum 2). Also a
1 x 1 ShardedStore, whose difference from one store is the Ray call alone.

    python benchmarks/bench_distributed.py --n 20000 --reps 7
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

import harness as H
import oxvec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--calls", type=int, default=100, help="calls per timed rep")
    ap.add_argument("--batch", type=int, default=64, help="queries per batch call")
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()

    import ray
    import oxvec.distributed as od

    load = os.getloadavg()
    od.init_local(num_cpus=2)
    x = H.clustered(a.n, a.dim, seed=7)
    qs = H.clustered(max(a.calls, a.batch), a.dim, seed=8)
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(2000)]
    docs = [" ".join(rng.choice(words, 12)) for _ in range(a.n)]
    ids = [f"id{i}" for i in range(a.n)]
    tmp = tempfile.mkdtemp(prefix="bench-distributed-")
    one = oxvec.VectorStore(f"{tmp}/one", dim=a.dim)
    t0 = time.perf_counter()
    stores = {"sharded 2x2": od.ShardedStore("b22", shards=2, replicas=2, dim=a.dim, root=tmp),
              "sharded 1x1": od.ShardedStore("b11", shards=1, replicas=1, dim=a.dim, root=tmp)}
    start_s = time.perf_counter() - t0
    for at in range(0, a.n, 2000):
        sl = slice(at, at + 2000)
        one.add(ids[sl], x[sl], documents=docs[sl])
        for s in stores.values():
            s.add(ids[sl], x[sl], documents=docs[sl])
    systems = {"one store": one, **stores}
    for name, s in stores.items():  # same answers before timing
        assert s.search(qs[:3], k=10, include=[])["ids"] == one.search(qs[:3], k=10, include=[])["ids"], name

    def single(s):
        return lambda: [s.search(q, k=10, include=[]) for q in qs[:a.calls]]

    def batch(s):
        return lambda: s.search(qs[:a.batch], k=10, include=[])

    def keyword(s):
        texts = [" ".join(docs[i].split()[:2]) for i in range(a.calls)]
        mode = {"mode": "keyword"}
        return lambda: [s.search(t, k=10, include=[], **mode) for t in texts]

    up = np.arange(100)

    def upsert(s):
        return lambda: s.upsert([ids[i] for i in up], x[up], documents=[docs[i] for i in up])

    cases = [("vector, 1 query per call", single, a.calls), (f"vector, {a.batch} queries per call", batch, 1),
             ("keyword, 1 query per call", keyword, a.calls), ("upsert 100 records", upsert, 1)]
    rows, results = [], {}
    for label, make, per in cases:
        t = H.interleaved({name: make(s) for name, s in systems.items()}, reps=a.reps, warmup=1)
        ms = {name: t[name]["median_s"] / per * 1e3 for name in systems}
        results[label] = {"ms_per_call": ms, "timings": t}
        base = ms["one store"]
        lo, hi = (t["sharded 2x2"][f] / per * 1e3 for f in ("min_s", "max_s"))
        rows.append([label, f"{base:.3f}", f"{ms['sharded 1x1']:.3f}", f"{ms['sharded 2x2']:.3f}",
                     f"{lo:.2f}..{hi:.2f}", f"{ms['sharded 2x2'] / base:.1f}", f"{ms['sharded 2x2'] - base:+.2f}"])
    m = H.machine({"ray": ray.__version__})
    H.save_json("distributed", {"machine": m, "args": vars(a), "start_s": start_s, "load_avg": [load, os.getloadavg()],
                                "results": results})
    body = "\n".join([
        "## Distributed: a ShardedStore on Ray actors against one VectorStore",
        "",
        f"{a.n:,} x {a.dim} clustered vectors with a 12-word document each, flat (exact) index, k 10, one "
        f"local Ray node (2 CPUs, loopback only); the same records in one VectorStore, a 1 x 1 and a 2 x 2 "
        f"(shards x replicas, write quorum 2) ShardedStore; medians of {a.reps} interleaved reps "
        "(benchmarks/bench_distributed.py). Milliseconds per call from one client thread.",
        "",
        H.markdown_table(["call", "one store ms", "sharded 1x1 ms", "sharded 2x2 ms", "2x2 min..max", "2x2 / one",
                          "2x2 - one ms"], rows),
        "",
        "The 1 x 1 column is the price of the actor call alone (serialising the request and result, two "
        "process hops through Ray's core worker, the coordinator's bookkeeping); 2 x 2 adds a second shard "
        "in parallel and the merge. A keyword query pays two fan-outs (collection statistics, then ranking). "
        "Both shards share this machine's 2 cores with the client, the other helpers' work and each other, "
        "so the sharded columns show cost, not the speed-up that shards on separate nodes give "
        f"(docs/distributed.md has the model). Starting the six replica actors took {start_s:.1f} s. "
        f"The machine was shared with other work: load average {load[0]:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end of the timings.",
        "",
        H.machine_line(m),
    ])
    H.update_results_md("distributed", body)
    print(body)
    for s in stores.values():
        s.close()
    one.close()
    ray.shutdown()


if __name__ == "__main__":
    main()
