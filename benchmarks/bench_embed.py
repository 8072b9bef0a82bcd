"""Text embedding: oxvec.embed.MiniLM (numpy) against sentence-transformers
(torch, CPU) on the same texts, in the same run, alternating.

    python benchmarks/bench_embed.py [--reps 3] [--st-python benchmarks/.st-venv/bin/python]

sentence-transformers runs in its own virtual environment (make st-venv:
torch is several GB and no dependency of oxvec), driven through a pipe by
benchmarks/st_worker.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np

import harness as H


def workloads() -> dict[str, list[str]]:
    src = H.DATASETS / "scifact"
    queries = [json.loads(line)["text"] for line in open(src / "queries.jsonl")]
    corpus = [json.loads(line) for line in open(src / "corpus.jsonl")]
    abstracts = [(d["title"] + " " + d["text"]).strip() for d in corpus[:300]]
    return {"scifact queries (short)": queries, "scifact abstracts (long)": abstracts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--st-python", default=str(H.HERE / ".st-venv" / "bin" / "python"))
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    from oxvec.embed import MiniLM

    worker = subprocess.Popen([args.st_python, str(H.HERE / "st_worker.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1"))
    hello = json.loads(worker.stdout.readline())

    def theirs(path: str, threads: int, out: str | None = None) -> float:
        worker.stdin.write(json.dumps({"texts": path, "threads": threads, "out": out}) + "\n")
        worker.stdin.flush()
        return json.loads(worker.stdout.readline())["seconds"]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, texts in workloads().items():
            path = os.path.join(tmp, "texts.json")
            json.dump(texts, open(path, "w"))
            # agreement on these texts, a check beside the fixture test
            ref_path = os.path.join(tmp, "ref.npy")
            theirs(path, os.cpu_count(), ref_path)
            ours_vecs = MiniLM()(texts)
            agree = float(np.min((ours_vecs * np.load(ref_path)).sum(1)))
            for threads in (1, os.cpu_count()):
                model = MiniLM(threads=threads)
                model(texts[:16])  # warm up
                t_ours, t_theirs = [], []
                for _ in range(args.reps):
                    with threadpool_limits(threads, user_api="blas"):
                        t = time.perf_counter()
                        model(texts)
                        t_ours.append(time.perf_counter() - t)
                    t_theirs.append(theirs(path, threads))
                o, s = statistics.median(t_ours), statistics.median(t_theirs)
                rows.append({"workload": name, "texts": len(texts), "threads": threads, "oxvec_per_s": len(texts) / o,
                             "st_per_s": len(texts) / s, "ratio": s / o, "min_cosine": agree})
                print(rows[-1], flush=True)
    worker.stdin.close()
    worker.wait()
    m = H.machine({"torch": hello["torch"], "sentence-transformers": hello["sentence_transformers"]})
    H.save_json("embed", {"machine": m, "rows": rows})
    table = [[r["workload"], r["texts"], r["threads"], f"{r['oxvec_per_s']:.1f}", f"{r['st_per_s']:.1f}", f"{r['ratio']:.2f}x", f"{r['min_cosine']:.6f}"] for r in rows]
    body = "\n\n".join([
        "## Text embedding (all-MiniLM-L6-v2) - `benchmarks/bench_embed.py`",
        "Texts per second, median of interleaved repetitions: oxvec.embed.MiniLM (numpy; batches run in parallel with a one-thread BLAS each) against sentence-transformers with torch on the CPU (batch size 32), same texts, same thread count. min cosine: the least agreement between the two on these texts.",
        H.markdown_table(["workload", "texts", "threads", "oxvec / s", "sentence-transformers / s", "ratio", "min cosine"], table),
        H.machine_line(m),
    ])
    H.update_results_md("embed", body)
    print(body)


if __name__ == "__main__":
    main()
