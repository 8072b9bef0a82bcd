"""A/B of the engine's own Go benchmarks between two commits, interleaved.

    python benchmarks/ab_go_bench.py BEFORE AFTER [--reps 7]

Builds the test binaries of core/flat, core/hnsw and core/ivf at both
commits (git worktrees under build/ab), then runs each hot-path benchmark
A B A B ... on one thread and reports the median ns/op of each side and the
ratio after/before (below 1: faster). For refactors, where "no regression
beyond noise" is the claim; the machine's noise shows in the spread.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
from pathlib import Path

import harness as H

ROOT = H.HERE.parent
BENCHES = {  # package -> benchmark regexp (one thread: each sets parallel.SetWorkers(1))
    "flat": "^BenchmarkSearch_1000x9000_1thread$",
    "hnsw": "^BenchmarkSearch_10kx128_ef64$",
    "ivf": "^BenchmarkSearch_20kx128_nlist128_nprobe8$",
}


def build(commit: str) -> Path:
    out = ROOT / "build" / "ab" / commit
    tree = out / "tree"
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT, check=True,
                       capture_output=True)
    for pkg in BENCHES:
        binary = out / f"{pkg}.test"
        if not binary.exists():
            subprocess.run(["go", "test", "-c", "-o", str(binary), f"./core/{pkg}"], cwd=tree, check=True)
    return out


def run(binary: Path, bench: str) -> float:
    p = subprocess.run([str(binary), "-test.run", "^$", "-test.bench", bench, "-test.benchtime", "3x",
                        "-test.count", "1"], capture_output=True, text=True, check=True, cwd=binary.parent)
    m = re.search(r"\s(\d+(?:\.\d+)?) ns/op", p.stdout)
    if not m:
        raise RuntimeError(p.stdout + p.stderr)
    return float(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--only", default="", help="comma-separated packages (default: all)")
    ap.add_argument("--name", default="", help="names the RESULTS.md section ab-go-NAME (default: from --only)")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    a, b = build(args.before), build(args.after)
    rows = []
    for pkg, bench in BENCHES.items():
        if only and pkg not in only:
            continue
        ta, tb = [], []
        for _ in range(args.reps):
            ta.append(run(a / f"{pkg}.test", bench))
            tb.append(run(b / f"{pkg}.test", bench))
        ma, mb = statistics.median(ta), statistics.median(tb)
        rows.append((pkg, bench.strip("^$"), ma, mb, mb / ma, min(tb) / max(ta), max(tb) / min(ta)))
        print(f"{pkg:5s} before {ma/1e6:8.2f} ms  after {mb/1e6:8.2f} ms  ratio {mb/ma:.3f}", flush=True)
    lines = ["| package | benchmark (1 thread) | before, ms/op | after, ms/op | after / before | range of ratios |",
             "|---|---|---|---|---|---|"]
    for pkg, bench, ma, mb, r, lo, hi in rows:
        lines.append(f"| {pkg} | {bench} | {ma/1e6:.2f} | {mb/1e6:.2f} | {r:.3f} | {lo:.2f}-{hi:.2f} |")
    m = H.machine({"go": subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()})
    body = ("## Refactor A/B: engine hot paths between two commits\n\n" + "\n".join(lines) +
            f"\n\nMedians of {args.reps} interleaved runs of each side (3 iterations each), ratios of medians; "
            f"before {args.before}, after {args.after}. A Go benchmark pair, not a peer comparison: it answers "
            "\"did the refactor slow the hot loops\".\n\n" + H.machine_line(m))
    suffix = "-" + args.name if args.name else "".join("-" + p for p in sorted(only))
    H.save_json("ab_go" + suffix.replace("-", "_"), {"machine": m, "rows": rows})
    what = args.name or ", ".join(sorted(only))
    H.update_results_md("ab-go" + suffix, body.replace("two commits", "two commits" + (f" ({what})" if what else ""), 1))


if __name__ == "__main__":
    main()
