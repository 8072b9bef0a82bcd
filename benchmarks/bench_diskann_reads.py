"""The A/B of oxvec.DiskANN's concurrent block reads per beam step: serial
preads against one goroutine per extra block of a step, cold (the index
file's pages dropped with posix_fadvise before the pass) and warm, on one
thread, interleaved three times. Runs the Go benchmark
BenchmarkDiskANN_ColdReads (core/diskann/reads_bench_test.go) on an index
bench_diskann.py built and kept with --work:

    python benchmarks/bench_diskann_reads.py --work /tmp/oxvec-diskann-1m
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True, help="bench_diskann.py's --work directory (oxvec-diskann/index.oxv, queries.npy)")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    import harness as H

    env = dict(os.environ, OXVEC_DISKANN_INDEX=os.path.join(args.work, "oxvec-diskann", "index.oxv"),
               OXVEC_DISKANN_QUERIES=os.path.join(args.work, "queries.npy"), GOMAXPROCS="2")
    out = subprocess.run(["go", "test", "-count=1", "-run", "^$", "-bench", "ColdReads", "-benchtime", "1x", "./core/diskann/"],
                         cwd=HERE.parent, env=env, capture_output=True, text=True, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if not rows:
        raise SystemExit("the benchmark printed nothing:\n" + out)
    med = {s: {k: statistics.median(r[k] for r in rows if r["serial"] == s) for k in ("cold_us", "warm_us")} for s in (True, False)}
    res = {"machine": H.machine({}), "runs": rows, "median": {"serial": med[True], "concurrent": med[False]}}
    H.save_json("diskann-reads", res)
    table = H.markdown_table(["reads per beam step", "cold us/query", "warm us/query"],
                             [["serial", f"{med[True]['cold_us']:.0f}", f"{med[True]['warm_us']:.0f}"],
                              ["concurrent", f"{med[False]['cold_us']:.0f}", f"{med[False]['warm_us']:.0f}"],
                              ["serial / concurrent", f"{med[True]['cold_us'] / med[False]['cold_us']:.2f}x",
                               f"{med[True]['warm_us'] / med[False]['warm_us']:.2f}x"]])
    body = "\n".join([
        "## DiskANN block reads per beam step: serial vs concurrent", "",
        f"oxvec.DiskANN on {args.work} (bench_diskann.py's clustered-1m index), {rows[0]['queries']:,} queries one at a time on one "
        "thread, l = 48, beam width 4; cold = the index file's pages dropped (posix_fadvise DONTNEED) before the pass, warm = the pass "
        "right after. Medians of 3 interleaved repetitions (serial, concurrent, ...). The machine was shared with other jobs.", "",
        table, "", f"Command: `python benchmarks/bench_diskann_reads.py --work {args.work}`", "", H.machine_line(res["machine"])])
    H.update_results_md("diskann-reads", body)
    print(table)


if __name__ == "__main__":
    main()
