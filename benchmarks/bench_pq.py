"""Product quantization: oxvec.PQ against faiss IndexPQ with the same m,
nbits, k-means iterations (20) and training sample (at most 256 points per
centroid), exhaustive ADC search, same run, same threads.

    python benchmarks/bench_pq.py [--reps 3] [--datasets bigann,wordnet]

bigann-10k (128-d): m = 16 and 32 at 8 bits, m = 32 at 4 bits.
wordnet-minilm (384-d): m = 48 and 96 at 8 bits, m = 96 at 4 bits.
"""

from __future__ import annotations

import argparse

import harness as H
import oxvec
from bench_hnsw import wordnet
from bench_sq import compare, tables

SETTINGS = {"bigann": [(16, 8), (32, 8), (32, 4)], "wordnet": [(48, 8), (96, 8), (96, 4)]}


def configs(settings):
    import faiss

    def make_faiss(d, fm, m, nbits):
        ix = faiss.IndexPQ(d, m, nbits, fm)
        ix.pq.cp.niter = 20
        return ix

    return [(f"m={m}, nbits={nb}", lambda d, mt, m=m, nb=nb: oxvec.PQ(d, mt, m=m, nbits=nb),
             lambda d, fm, m=m, nb=nb: make_faiss(d, fm, m, nb)) for m, nb in settings]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--datasets", default="bigann,wordnet")
    args = ap.parse_args()
    import faiss

    results = []
    for name in args.datasets.split(","):
        data = H.bigann_10k() if name == "bigann" else wordnet()
        if data is None:
            print(f"skipping {name}: run make bench-data")
            continue
        print(data["name"], flush=True)
        results.append(compare(data, args.reps, configs(SETTINGS[name])))
    m = H.machine({"faiss": faiss.__version__})
    H.save_json("pq", {"machine": m, "results": results})
    body = tables(results, m, "## Product quantization - `benchmarks/bench_pq.py`",
                  "oxvec.PQ against faiss IndexPQ, same m and nbits, k-means 20 iterations on at most 256 points per centroid, "
                  "exhaustive ADC search, k = 10, batch of all queries. Bytes per vector: what adding the vectors added to oxvec's "
                  "memory_bytes (codes; auto ids, so no id list or map); faiss: code size.")
    H.update_results_md("pq", body)
    print(body)


if __name__ == "__main__":
    main()
