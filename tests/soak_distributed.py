"""Fault soak of oxvec.distributed (make soak-ray): random replica kills under
mixed load on a local Ray cluster (loopback only), bounded in time and kills.

Writers upsert batches of new records (each acknowledged batch is noted),
readers search for vectors they know (the exact record must come first),
and a killer ray.kill()s a random replica every few seconds, sometimes while
another is still recovering. At the end every replica must hold every
acknowledged record, bit for bit, and no search may have failed.

    python tests/soak_distributed.py --seconds 120 --kills 30
Exit status 0 when nothing failed and nothing acknowledged was lost.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="how long the load runs (default 120)")
    ap.add_argument("--kills", type=int, default=30, help="most kills (default 30)")
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--quorum", type=int, default=1,
                    help="write quorum (default 1: writes go on through kills, so replicas fall behind and catch up)")
    ap.add_argument("--log-entries", type=int, default=50, help="small, so full copies happen too")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    import ray
    import oxvec.distributed as od

    rnd = random.Random(a.seed)
    print(f"seed {a.seed}", flush=True)
    od.init_local(num_cpus=2)
    root = tempfile.mkdtemp(prefix="oxvec-soak-")
    dim = 16
    s = od.ShardedStore("soak", shards=a.shards, replicas=a.replicas, dim=dim, root=root, write_quorum=a.quorum,
                        log_entries=a.log_entries, timeout=120)
    stop = threading.Event()
    acked: dict[str, np.ndarray] = {}
    lock = threading.Lock()
    stats = {"writes": 0, "write_errors": [], "searches": 0, "search_errors": [], "kills": 0}

    def vec(i: int) -> np.ndarray:
        return np.random.default_rng(i).standard_normal(dim).astype(np.float32)

    def writer(w: int) -> None:
        i = w * 10_000_000
        while not stop.is_set():
            keys = [f"k{i + j}" for j in range(20)]
            x = np.stack([vec(i + j) for j in range(20)])
            try:
                if rnd.random() < 0.1 and acked:
                    with lock:
                        old = rnd.sample(sorted(acked), 1)
                    s.upsert(old, np.stack([acked[old[0]]]), documents=["again"])
                s.upsert(keys, x, documents=[f"doc {k}" for k in keys], metadatas=[{"w": w}] * 20)
                with lock:
                    acked.update(zip(keys, x))
                    stats["writes"] += 1
            except Exception as e:  # noqa: BLE001 - counted and reported
                stats["write_errors"].append(repr(e))
            i += 20

    def reader() -> None:
        while not stop.is_set():
            with lock:
                key = rnd.choice(list(acked)) if acked else None
                q = acked[key] if key is not None else None
            if key is None:
                stop.wait(0.05)  # the writers have not acknowledged anything yet
                continue
            try:
                r = s.search(q, k=3, include=[])
                if r["ids"][0][0] != key or r["distances"][0][0] != 0:
                    stats["search_errors"].append(f"{key}: got {r['ids'][0]}")
                if rnd.random() < 0.2:
                    s.search(["doc"], k=5, mode="keyword")
                stats["searches"] += 1
            except Exception as e:  # noqa: BLE001
                stats["search_errors"].append(repr(e))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(2)] + [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < a.seconds and stats["kills"] < a.kills:
            time.sleep(rnd.uniform(1.0, 4.0))
            if rnd.random() < 0.7:
                try:
                    s.wait_ready(timeout=60)  # mostly one failure at a time; sometimes two overlap
                except Exception as e:  # noqa: BLE001
                    print("not ready:", e, flush=True)
            sh, r = rnd.randrange(a.shards), rnd.randrange(a.replicas)
            ray.kill(s.actors()[sh][r])
            stats["kills"] += 1
            print(f"{time.monotonic() - t0:6.1f}s kill {sh}.{r}; writes {stats['writes']} searches {stats['searches']}",
                  flush=True)
    finally:
        stop.set()
        for t in threads:
            t.join()
    s.wait_ready(timeout=300)
    lost = 0
    for sh, shard in enumerate(s.actors()):
        rows = [ray.get(x.get.remote({"include": ["embeddings"]})) for x in shard]
        for got in rows:
            have = dict(zip(got["ids"], got["embeddings"]))
            for k in (k for k in acked if od.shard_of(k, a.shards) == sh):
                if k not in have or not np.array_equal(have[k], acked[k]):
                    lost += 1
    catch = [c["how"] for sh in s.health() for r in sh for c in r["catch_ups"]]
    print(f"kills {stats['kills']}, acknowledged writes {stats['writes']} ({len(acked)} records), "
          f"write errors {len(stats['write_errors'])}, searches {stats['searches']}, "
          f"failed searches {len(stats['search_errors'])}, acknowledged records missing from a replica {lost}, "
          f"catch-ups: {catch.count('log')} by log, {catch.count('copy')} by copy")
    for e in (stats["write_errors"] + stats["search_errors"])[:10]:
        print("  ", e)
    s.close()
    ray.shutdown()
    ok = lost == 0 and not stats["search_errors"] and not stats["write_errors"]
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
