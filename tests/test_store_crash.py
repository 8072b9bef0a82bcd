"""The crash harness from Python: a child process adds batches to a
VectorStore (and deletes and snapshots), printing each call's result once it
returned; the parent SIGKILLs it at a random moment, reopens the store and
checks that every acknowledged batch is there, intact, and that the batch in
flight is there entirely or not at all. The Go harness (go_tests/
crash_test.go) does the same with more kills and named crash points."""

import os
import random
import signal
import subprocess
import sys
import threading
import time

import numpy as np

import oxvec
from conftest import ROOT

DIM, BATCH = 16, 50
KILLS = int(os.environ.get("OXVEC_PY_CRASH_KILLS", "12"))

CHILD = r"""
import sys, numpy as np, oxvec
DIM, BATCH = 16, 50

def say(*words):  # one write per line: with PYTHONUNBUFFERED, print() writes word by word
    sys.stdout.write(" ".join(map(str, words)) + "\n")
    sys.stdout.flush()

path, start = sys.argv[1], int(sys.argv[2])
s = oxvec.VectorStore(path, dim=DIM, index="hnsw", snapshot_every=64 << 10) if start == 0 else oxvec.VectorStore(path)
say("ready")
b = start
while True:
    x = np.random.default_rng(b).standard_normal((BATCH, DIM)).astype(np.float32)
    say("begin add", b)
    s.add([f"b{b}-{j}" for j in range(BATCH)], x, documents=[f"batch {b} doc {j}" for j in range(BATCH)],
          metadatas=[{"batch": b, "j": j} for j in range(BATCH)])
    say("ack add", b)
    if b >= 6 and b % 2 == 0:
        say("begin del", b - 6)
        s.delete(filter={"batch": b - 6})
        say("ack del", b - 6)
    if b % 5 == 0:
        say("begin snap 0")
        s.snapshot()
        say("ack snap 0")
    b += 1
"""


def run_child(path, start, delay):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(start)], stdout=subprocess.PIPE, text=True, env=env)
    lines = []
    ready = threading.Event()

    def read():
        for line in p.stdout:
            if line.endswith("\n"):  # a line cut short by the kill is not an acknowledgement
                lines.append(line.split())
            if line.startswith("ready"):
                ready.set()
        ready.set()

    t = threading.Thread(target=read)
    t.start()
    assert ready.wait(120), "the child did not start"
    assert p.poll() is None, f"the child exited early: {lines}"
    time.sleep(delay)  # the moment of the kill: any moment must be safe
    p.send_signal(signal.SIGKILL)
    p.wait()
    t.join()
    return lines


def observe(store, b):
    """'present', 'absent', or a failure if the batch is partly there or damaged."""
    ids = [f"b{b}-{j}" for j in range(BATCH)]
    r = store.get(ids=ids, include=["documents", "metadatas", "embeddings"])
    if not r["ids"]:
        return "absent"
    assert r["ids"] == ids, f"batch {b} is partly present"
    np.testing.assert_array_equal(r["embeddings"], np.random.default_rng(b).standard_normal((BATCH, DIM)).astype(np.float32))
    assert r["documents"] == [f"batch {b} doc {j}" for j in range(BATCH)]
    assert r["metadatas"] == [{"batch": b, "j": j} for j in range(BATCH)]
    hits = store.search(r["embeddings"], k=1, filter={"batch": b}, include=[])
    assert [h[0] for h in hits["ids"]] == ids and all(d[0] == 0 for d in hits["distances"])
    return "present"


def test_acknowledged_batches_survive_kill_9(tmp_path):
    path = tmp_path / "store"
    rng = random.Random()
    state = {}  # batch -> "present" / "absent"
    start = 0
    for kill in range(KILLS):
        lines = run_child(path, start, rng.uniform(0, 0.25))
        flight = None
        for f in lines:
            if f[0] == "begin":
                flight = (f[1], int(f[2]))
            elif f[0] == "ack":
                kind, b = f[1], int(f[2])
                if kind == "add":
                    state[b] = "present"
                    start = b + 1
                elif kind == "del":
                    state[b] = "absent"
                flight = None
        with oxvec.VectorStore(path) as s:
            if flight and flight[0] in ("add", "del"):
                got = observe(s, flight[1])
                before = state.get(flight[1], "absent")
                after = "present" if flight[0] == "add" else "absent"
                assert got in (before, after), f"kill {kill}: {flight} in flight"
                state[flight[1]] = got
                if flight[0] == "add" and got == "present":
                    start = flight[1] + 1
            for b, want in state.items():
                assert observe(s, b) == want, f"kill {kill}: batch {b} should be {want}"
            assert len(s) == BATCH * sum(v == "present" for v in state.values())
    assert start > KILLS  # the children made progress
