"""The cost of a checked call: single-query search (and count, the smallest
call) through a tenancy session (oxvec.Database -> Session -> Collection:
key, role, rate limits, policy checked by the engine on every call) against
the same call on a plain oxvec.VectorStore holding the same records.

    python benchmarks/bench_tenancy.py [--n 10000] [--dim 64] [--calls 300] [--reps 7]

Both collections: n clustered float32 vectors (harness.clustered, seed 7),
durability "never", index flat and hnsw (m 16, ef_search 64). One timed
unit is `calls` single-query searches (k 10, documents and metadata not
included) or `calls` count() calls, one after another from one thread;
the two sides interleaved (A B A B ...) after a warm-up, medians of reps.
The session's tenant has a rate limit (1e9 calls a second) and a policy
(max_magnitude), so the limiter and the policy's per-vector check run.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np

import harness as H
import oxvec


def fill(store, x: np.ndarray) -> None:
    ids = [str(i) for i in range(len(x))]
    for at in range(0, len(x), 2000):
        store.add(ids[at:at + 2000], x[at:at + 2000])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()
    x = H.clustered(a.n, a.dim, seed=7)
    qs = H.clustered(a.calls, a.dim, seed=8)
    tmp = tempfile.mkdtemp(prefix="bench-tenancy-")
    db = oxvec.Database(f"{tmp}/db", durability="never")
    db.create_tenant("t", quota=oxvec.Quota(max_qps=1e9, burst=10**9),
                     policy=oxvec.Policy(max_magnitude=float(np.linalg.norm(np.vstack([x, qs]), axis=1).max() * 2)))
    key = db.create_api_key("t", role="writer", name="bench")
    session = db.session(key)
    rows, results = [], {}
    for index in ("flat", "hnsw"):
        spec = {"type": "flat"} if index == "flat" else {"type": "hnsw", "m": 16, "ef_search": 64}
        db.create_collection("t", index, dim=a.dim, index=spec)
        coll = session.collection(index)
        direct = oxvec.VectorStore(f"{tmp}/{index}", dim=a.dim, index=spec, durability="never")
        fill(coll, x)
        fill(direct, x)
        assert coll.search(qs[0], k=10)["ids"] == direct.search(qs[0], k=10)["ids"]

        def searches(s):
            def run():
                for q in qs:
                    s.search(q, k=10, include=())
            return run

        def counts(s):
            def run():
                for _ in range(a.calls):
                    s.count()
            return run

        for call, make in (("search", searches), ("count", counts)):
            t = H.interleaved({"direct": make(direct), "session": make(coll)}, reps=a.reps, warmup=1)
            d_us = t["direct"]["median_s"] / a.calls * 1e6
            s_us = t["session"]["median_s"] / a.calls * 1e6
            results[f"{index}/{call}"] = {"direct_us": d_us, "session_us": s_us, "timings": t}
            rows.append([index, call, f"{d_us:.1f}", f"{s_us:.1f}", f"{s_us - d_us:+.1f}", f"{s_us / d_us:.3f}"])
        direct.close()
    m = H.machine()
    H.save_json("tenancy", {"machine": m, "args": vars(a), "results": results})
    body = "\n".join([
        "## Tenancy: a checked call through a session against a direct VectorStore call",
        "",
        f"Single-query calls from one thread, {a.n:,} x {a.dim} clustered vectors, k 10, no documents or metadata "
        f"returned; medians of {a.reps} interleaved reps of {a.calls} calls each (benchmarks/bench_tenancy.py). "
        "The session checks the key (revoked, expired), its role's permission, the tenant's and the key's token "
        "buckets and, for search, the policy's magnitude bound on the query, in the engine, on every call.",
        "",
        H.markdown_table(["index", "call", "direct µs/call", "session µs/call", "overhead µs", "session / direct"], rows),
        "",
        "count, the smallest call, isolates what the checks cost: a few locks, map lookups and the bucket "
        "arithmetic. A search's difference is that same cost plus the policy's pass over the query; where it "
        "is below the spread of the search times (min..max in benchmarks/results/tenancy.json; this machine is "
        "shared with other work) the sign is noise. Opening the session (one scrypt hash, N = 2^15) is paid once "
        "per session, not per call, and is not in these figures.",
        "",
        H.machine_line(m),
    ])
    H.update_results_md("tenancy", body)
    print(body)
    db.close()


if __name__ == "__main__":
    main()
