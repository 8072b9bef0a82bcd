"""Where a request's time goes in `oxvec serve`: py-spy samples the server
process (every thread that is on a CPU) while wrk sends vector searches,
and each sample is put in the first layer of the request path its stack
is in. Prints the table bench_server.py puts in RESULTS.md.

    python benchmarks/profile_server.py [--n 20000] [--dim 384] [--seconds 10] [--conc 8]

Needs py-spy (pip install py-spy) and wrk.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

import harness as H

sys.path.insert(0, str(H.ROOT / "tests"))
sys.path.insert(0, str(H.ROOT / "python"))
import oxvec  # noqa: E402
from serverutil import free_socket, wait_healthy  # noqa: E402

# (layer, substrings any of which in a frame puts a sample there), first match wins,
# frames read from the innermost out
LAYERS = [
    ("engine search (the C call)", ("call (oxvec/_store.py", "call_json (oxvec/_store.py")),
    ("engine result read and decode (JSON + arrays)", ("_read_result", "_read_json", "_floats (oxvec/_store.py")),
    ("session check, collection lookup", ("oxvec/server/service.py", "oxvec/_tenant.py")),
    ("request body parse (frombuffer)", ("oxvec/server/bodies.py",)),
    ("response encode (JSON)", ("oxvec/server/encode.py", "json/encoder.py")),
    ("pydantic validation", ("pydantic",)),
    ("HTTP protocol (uvicorn, h11/httptools)", ("uvicorn/protocols", "h11/", "httptools")),
    ("worker-thread hand-off (executor, queue, GIL hand-over)", ("anyio/", "concurrent/futures", "threading.py", "queue.py")),
    ("FastAPI/Starlette routing, dependencies, middleware", ("fastapi/", "starlette/", "oxvec/server/")),
    ("asyncio event loop", ("asyncio/",)),
]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its threads so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def layer_of(stack: str) -> str:
    frames = stack.split(";")
    for f in reversed(frames):
        for name, keys in LAYERS:
            if any(k in f for k in keys):
                return name
    return "other (interpreter, GC, imports)"


def run(n: int, dim: int, seconds: int, conc: int, keep: str | None = None, spy_on: bool = True,
        package: str | None = None) -> list[list]:
    spy = shutil.which("py-spy", path=os.path.dirname(sys.executable)) or shutil.which("py-spy")
    wrk = shutil.which("wrk")
    if not spy or not wrk:
        sys.exit("needs py-spy (pip install py-spy) and wrk (apt-get install wrk)")
    root = tempfile.mkdtemp(prefix="oxvec-profile-")
    try:
        db = oxvec.Database(os.path.join(root, "db"), key_cost=4)
        db.create_tenant("p")
        db.create_collection("p", "c", dim=dim, metric="cosine", index={"type": "hnsw", "m": 16})
        key = db.create_api_key("p", role="writer")
        x = H.clustered(n, dim, 7)
        col = db.session(key).collection("c")
        for at in range(0, n, 5000):
            col.add([str(i) for i in range(at, min(n, at + 5000))], x[at:at + 5000])
        db.close()
        s = free_socket()
        port = s.getsockname()[1]
        s.close()
        proc = subprocess.Popen([sys.executable, "-m", "oxvec", "serve", "--data", os.path.join(root, "db"), "--port",
                                 str(port), "--no-access-log", "--log-level", "warning"],
                                env={**os.environ, "PYTHONPATH": package or str(H.ROOT / "python")},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_healthy("127.0.0.1", port, 60, proc)
            bodies = os.path.join(root, "bodies.bin")
            H.clustered(1000, dim, 8).astype("<f4").tofile(bodies)
            raw = os.path.join(root, "profile.txt")
            sp = None if not spy_on else subprocess.Popen([spy, "record", "--pid", str(proc.pid), "--duration", str(seconds), "--rate", "250",
                                   "--format", "raw", "--output", raw, "--nonblocking"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            req = json.dumps({"k": 10, "include": []})
            cpu0 = _cpu_seconds(proc.pid)
            w = subprocess.run([wrk, "-t", str(min(2, conc)), "-c", str(conc), "-d", f"{seconds + 1}s", "-s", str(H.HERE / "wrk_bodies.lua"),
                            "-H", f"Authorization: Bearer {key}", "-H", "Content-Type: application/octet-stream",
                            "-H", f"X-Oxvec-Shape: 1,{dim}", "-H", f"X-Oxvec-Request: {req}",
                            f"http://127.0.0.1:{port}/v1/collections/c/search"],
                           env={**os.environ, "BODIES": bodies, "LENGTH": str(4 * dim)}, capture_output=True, text=True, timeout=seconds + 60)
            cpu = _cpu_seconds(proc.pid) - cpu0
            _, err = sp.communicate(timeout=60) if sp is not None else (None, "")
            qps = re.search(r"Requests/sec:\s*([\d.]+)", w.stdout)
            done = re.search(r"(\d+) requests in", w.stdout)
            per = f"{1000 * cpu / int(done.group(1)):.3f}" if done and int(done.group(1)) else "?"
            # CPU per request is the steadier figure on a shared machine: QPS
            # moves with others' load, the server's own CPU per request less
            print(f"wrk: {qps.group(1) if qps else '?'} requests/s{' under the profiler' if spy_on else ''} (conc {conc}); "
                  f"server CPU {per} ms per request", file=sys.stderr)
            if sp is None:
                return []
            if not os.path.exists(raw):
                sys.exit(f"py-spy recorded nothing: {err[-1000:]}")
        finally:
            proc.terminate()
            proc.wait(60)
        if keep:
            shutil.copy(raw, keep)
        counts: collections.Counter = collections.Counter()
        where: collections.Counter = collections.Counter()
        with open(raw) as f:
            for line in f:
                stack, _, c = line.rstrip("\n").rpartition(" ")
                if stack and c.isdigit():
                    layer = layer_of(stack)
                    counts[layer] += int(c)
                    if layer == LAYERS[0][0]:  # the engine call: inline on the loop, or on a worker thread
                        where["loop" if "asyncio/runners.py" in stack else "thread"] += int(c)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    engine = sum(where.values())
    if engine:
        print(f"engine-call samples on the event loop (inline): {100 * where['loop'] / engine:.0f}%", file=sys.stderr)
    total = sum(counts.values()) or 1
    return [[name, f"{100 * c / total:.1f}%"] for name, c in counts.most_common()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--conc", type=int, default=8)
    ap.add_argument("--no-spy", action="store_true", help="only the QPS and CPU per request, without the profiler")
    ap.add_argument("--package", help="serve with the oxvec package in this directory (A/B against another commit)")
    ap.add_argument("--keep", help="copy py-spy's raw stacks to this file")
    a = ap.parse_args()
    rows = run(a.n, a.dim, a.seconds, a.conc, a.keep, not a.no_spy, a.package)
    if a.no_spy:
        return 0
    print(H.markdown_table(["layer of the request path", "share of the server's CPU samples"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
