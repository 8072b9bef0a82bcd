"""LSH: oxvec.LSH against faiss IndexLSH, datasketch MinHashLSH and our own
HNSW, IVF-Flat and Flat on the same data, same run, one thread.

    python benchmarks/bench_lsh.py [--reps 5] [--parts dense,sets] [--big]

dense: bigann-10k (9,000 SIFT vectors, 1,000 queries) under l2 (p-stable
LSH) and under cosine (SimHash; exact cosine ground truth computed here).
  - SimHash / p-stable LSH at tables x bits = B hash values against faiss
    IndexLSH with B bits (random rotation + thresholds, hamming ranking,
    no vectors kept) and faiss IndexRefineFlat over it (the best 10*k by
    hamming re-ranked exactly on float32, as LSH re-ranks its candidates);
  - the LSH nprobe curve against HNSW (ef), IVF-Flat (nprobe) and Flat.
  --big adds a clustered 100k x 128 synthetic set (scale only).
sets: near-duplicate detection on the SciFact corpus (5,183 abstracts):
  each abstract is the set of its word 3-shingles, hashed into 2,048
  slots (a 0/1 vector of 2,048 for oxvec; the same slot numbers as tokens
  for datasketch); queries are 300 abstracts with 5% of their words
  replaced; true neighbours are the abstracts with exact jaccard
  similarity >= 0.5 to the query. oxvec.LSH (MinHash, bands x rows)
  against datasketch MinHashLSH with the same bands x rows, and against
  our Flat and HNSW on the jaccard metric. QPS includes hashing the query
  (datasketch: MinHash.update_batch + query; oxvec: inside search).
recall@10 against exact ground truth (dense); recall of the true
neighbours (sets). Medians of --reps interleaved repetitions.
"""

from __future__ import annotations

import argparse
import json
import re
import time
import zlib

import numpy as np

import harness as H
import oxvec
from bench_hnsw import qps_at

K = 10
NPROBES = [1, 2, 4, 8, 16, 32, 64, 128]
HNSW_EFS = [10, 20, 40, 80, 160, 320]
IVF_NPROBES = [1, 2, 4, 8, 16, 32]
EQUAL_BITS = {"cosine": [(8, 8), (8, 12), (8, 16), (16, 16)], "l2": [(8, 8), (8, 12), (16, 8), (16, 16)]}
SET_DIM, SET_T, SET_NQ, SHINGLE = 2048, 0.5, 300, 3
BANDS_ROWS = [(20, 5), (32, 4)]


def timed(systems: dict, reps: int, nq: int) -> dict:
    t = H.interleaved(systems, reps=reps)
    return {name: {"qps": nq / v["median_s"], "spread": [nq / v["max_s"], nq / v["min_s"]]} for name, v in t.items()}


# --- dense ------------------------------------------------------------------------
def dense_data(big: bool) -> list[dict]:
    sets = [H.bigann_10k()]
    cos = dict(sets[0])
    cos["name"], cos["metric"] = "bigann-10k (cosine)", "cosine"
    cos["gt_ids"] = H.exact_knn(cos["base"], cos["queries"], K, "cosine")[0]
    sets.append(cos)
    if big:
        sets.append(H.synthetic(100_000, 128, 1000, "l2", K))
    return sets


def faiss_lsh(base, nbits, refine):
    import faiss

    lsh = faiss.IndexLSH(base.shape[1], nbits, True, True)  # rotate_data, train_thresholds
    idx = faiss.IndexRefineFlat(lsh) if refine else lsh
    if refine:
        idx.k_factor = 10
    idx.train(base)
    idx.add(base)
    return idx, lsh


def run_dense(data: dict, reps: int) -> dict:
    base, queries, gt, metric = data["base"], data["queries"], data["gt_ids"], data["metric"]
    n, dim = base.shape
    nq = len(queries)
    fbase, fq = base, queries
    if metric == "cosine":  # faiss ranks these by hamming / l2 of unit vectors, as cosine
        fbase = base / np.linalg.norm(base, axis=1, keepdims=True)
        fq = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    out = {"dataset": data["name"], "n": n, "dim": dim, "metric": metric, "equal_bits": [], "curves": {}}

    # LSH against faiss IndexLSH at equal bits
    for tables, bits in EQUAL_BITS[metric]:
        B = tables * bits
        ours = oxvec.LSH(dim, metric, tables=tables, bits=bits)
        ours.train(base)
        ours.add(base)
        fl, _ = faiss_lsh(fbase, B, False)
        fr, _ = faiss_lsh(fbase, B, True)
        systems = {"faiss IndexLSH": lambda: fl.search(fq, K), "faiss IndexLSH + refine 10k": lambda: fr.search(fq, K)}
        for p in (1, 8, 64):
            systems[f"oxvec LSH nprobe={p}"] = (lambda p=p: ours.search(queries, K, nprobe=p))
        t = timed(systems, reps, nq)
        rec = {"faiss IndexLSH": H.recall_at(fl.search(fq, K)[1], gt, K),
               "faiss IndexLSH + refine 10k": H.recall_at(fr.search(fq, K)[1], gt, K)}
        for p in (1, 8, 64):
            rec[f"oxvec LSH nprobe={p}"] = H.recall_at(ours.search(queries, K, nprobe=p)[0], gt, K)
        mem = {"faiss IndexLSH": B / 8, "faiss IndexLSH + refine 10k": B / 8 + 4 * dim}
        for p in (1, 8, 64):
            mem[f"oxvec LSH nprobe={p}"] = ours.memory_bytes / n
        out["equal_bits"].append({"tables": tables, "bits": bits, "B": B,
                                  "rows": {s: {"recall": rec[s], "bytes": mem[s], **t[s]} for s in systems}})
        print(f"  {data['name']} B={B}: " + ", ".join(f"{s} {rec[s]:.3f}/{t[s]['qps']:.0f}" for s in systems), flush=True)

    # LSH (defaults, nprobe curve) against HNSW, IVF-Flat, Flat
    builds, indexes = {}, {}
    t0 = time.perf_counter()
    lsh = oxvec.LSH(dim, metric)
    lsh.train(base)
    lsh.add(base)
    builds["oxvec LSH (8 x %d)" % (12 if metric == "cosine" else 8)] = time.perf_counter() - t0
    t0 = time.perf_counter()
    hnsw = oxvec.HNSW(dim, metric, m=16, ef_construction=200)
    hnsw.add(base)
    builds["oxvec HNSW (m 16)"] = time.perf_counter() - t0
    nlist = int(round(np.sqrt(n)))
    t0 = time.perf_counter()
    ivf = oxvec.IVFFlat(dim, metric, nlist=nlist)
    ivf.train(base)
    ivf.add(base)
    builds[f"oxvec IVFFlat (nlist {nlist})"] = time.perf_counter() - t0
    flat = oxvec.Flat(dim, metric)
    t0 = time.perf_counter()
    flat.add(base)
    builds["oxvec Flat"] = time.perf_counter() - t0
    names = list(builds)
    knobs = {names[0]: ("nprobe", NPROBES, lambda v: lsh.search(queries, K, nprobe=v)),
             names[1]: ("ef", HNSW_EFS, lambda v: hnsw.search(queries, K, ef=v)),
             names[2]: ("nprobe", IVF_NPROBES, lambda v: ivf.search(queries, K, nprobe=v)),
             names[3]: ("-", [0], lambda v: flat.search(queries, K))}
    systems = {f"{nm} {kn}={v}": (lambda f=f, v=v: f(v)) for nm, (kn, vals, f) in knobs.items() for v in vals}
    t = timed(systems, reps, nq)
    memory = {names[0]: lsh.memory_bytes / n, names[1]: hnsw.memory_bytes / n, names[2]: ivf.memory_bytes / n, names[3]: flat.memory_bytes / n}
    for nm, (kn, vals, f) in knobs.items():
        pts = [{"knob": v, "recall": H.recall_at(f(v)[0], gt, K), **t[f"{nm} {kn}={v}"]} for v in vals]
        out["curves"][nm] = {"knob": kn, "points": pts, "build_s": builds[nm], "bytes": memory[nm]}
        print(f"  {nm}: " + ", ".join(f"{p['knob']}:{p['recall']:.3f}/{p['qps']:.0f}" for p in pts), flush=True)
    return out


# --- sets ---------------------------------------------------------------------------
def shingle_sets(texts: list[str]) -> list[np.ndarray]:
    out = []
    for t in texts:
        w = re.findall(r"\w+", t.lower())
        sh = {zlib.crc32(" ".join(w[i : i + SHINGLE]).encode()) % SET_DIM for i in range(max(1, len(w) - SHINGLE + 1))}
        out.append(np.array(sorted(sh), np.int64))
    return out


def set_data() -> dict:
    docs = [json.loads(line) for line in (H.DATASETS / "scifact" / "corpus.jsonl").open()]
    texts = [(d.get("title", "") + " " + d.get("text", "")) for d in docs]
    rng = np.random.default_rng(17)
    vocab = sorted({w for t in texts for w in re.findall(r"\w+", t.lower())})
    src = rng.choice(len(texts), SET_NQ, replace=False)
    qtexts = []
    for i in src:
        w = re.findall(r"\w+", texts[i].lower())
        for j in rng.choice(len(w), max(1, len(w) // 20), replace=False):
            w[j] = vocab[rng.integers(len(vocab))]
        qtexts.append(" ".join(w))
    base_sets, q_sets = shingle_sets(texts), shingle_sets(qtexts)

    def dense(sets):
        x = np.zeros((len(sets), SET_DIM), np.float32)
        for r, s in enumerate(sets):
            x[r, s] = 1
        return x

    base, q = dense(base_sets), dense(q_sets)
    inter = q @ base.T
    union = q.sum(1)[:, None] + base.sum(1)[None, :] - inter
    jac = inter / np.maximum(union, 1)
    truth = [set(np.flatnonzero(row >= SET_T)) for row in jac]
    return {"base": base, "queries": q, "base_sets": base_sets, "q_sets": q_sets, "truth": truth, "n": len(texts),
            "true_per_query": float(np.mean([len(t) for t in truth]))}


def set_recall(found: list[set], truth: list[set]) -> float:
    return sum(len(f & t) for f, t in zip(found, truth)) / max(1, sum(len(t) for t in truth))


def run_sets(d: dict, reps: int) -> dict:
    from datasketch import MinHash, MinHashLSH

    base, q, truth = d["base"], d["queries"], d["truth"]
    nq = len(q)
    tokens = [[str(v).encode() for v in s] for s in d["base_sets"]]
    qtokens = [[str(v).encode() for v in s] for s in d["q_sets"]]
    out = {"n": d["n"], "nq": nq, "dim": SET_DIM, "threshold": SET_T, "true_per_query": d["true_per_query"], "rows": []}

    def ours_found(ix):
        ids, dist = ix.search(q, K)
        return [set(i[(i >= 0) & (di <= 1 - SET_T)].tolist()) for i, di in zip(ids, dist)]

    systems, recalls, meta = {}, {}, {}
    for bands, rows in BANDS_ROWS:
        perm = bands * rows
        t0 = time.perf_counter()
        ours = oxvec.LSH(SET_DIM, "jaccard", bands=bands, rows=rows)
        ours.add(base)
        ob = time.perf_counter() - t0
        t0 = time.perf_counter()
        ds = MinHashLSH(threshold=SET_T, num_perm=perm, params=(bands, rows))
        for i, tok in enumerate(tokens):
            m = MinHash(num_perm=perm, seed=1)
            m.update_batch(tok)
            ds.insert(i, m)
        db = time.perf_counter() - t0

        def ds_query(ds=ds, perm=perm):
            res = []
            for tok in qtokens:
                m = MinHash(num_perm=perm, seed=1)
                m.update_batch(tok)
                res.append(set(ds.query(m)))
            return res

        a, b = f"oxvec LSH MinHash {bands}x{rows}", f"datasketch MinHashLSH {bands}x{rows}"
        systems[a], systems[b] = (lambda o=ours: o.search(q, K)), ds_query
        found_ds = ds_query()
        recalls[a], recalls[b] = set_recall(ours_found(ours), truth), set_recall(found_ds, truth)
        cands = np.mean([len(f) for f in found_ds])
        meta[a] = {"build_s": ob, "bytes": ours.memory_bytes / d["n"], "note": "top-10 by exact jaccard"}
        meta[b] = {"build_s": db, "note": f"unverified candidates, {cands:.1f} per query"}
    t0 = time.perf_counter()
    hnsw = oxvec.HNSW(SET_DIM, "jaccard", m=8, ef_construction=32)
    hnsw.add(base)
    meta["oxvec HNSW jaccard (m 8, ef 32)"] = {"build_s": time.perf_counter() - t0, "bytes": hnsw.memory_bytes / d["n"]}
    flat = oxvec.Flat(SET_DIM, "jaccard")
    flat.add(base)
    meta["oxvec Flat jaccard"] = {"build_s": 0.0, "bytes": flat.memory_bytes / d["n"]}
    systems["oxvec HNSW jaccard (m 8, ef 32)"] = lambda: hnsw.search(q, K, ef=32)
    systems["oxvec Flat jaccard"] = lambda: flat.search(q, K)
    recalls["oxvec HNSW jaccard (m 8, ef 32)"] = set_recall(ours_found(hnsw), truth)
    recalls["oxvec Flat jaccard"] = set_recall(ours_found(flat), truth)
    t = timed(systems, reps, nq)
    for name in systems:
        out["rows"].append({"system": name, "recall": recalls[name], **t[name], **meta[name]})
        print(f"  {name}: recall {recalls[name]:.3f}, {t[name]['qps']:.0f} QPS", flush=True)
    return out


# --- report -------------------------------------------------------------------------
def report(dense: list[dict], sets: dict | None, m: dict) -> str:
    parts = ["## LSH - `benchmarks/bench_lsh.py`",
             "oxvec.LSH (SimHash for cosine, p-stable E2LSH for l2 with w trained as 4x the median nearest-neighbour distance of a "
             "sample, MinHash for jaccard; multi-probe; candidates re-ranked exactly) against faiss IndexLSH, datasketch MinHashLSH "
             "and our own HNSW / IVF-Flat / Flat, same data, same run, 1 thread, batch of all queries, k = 10. QPS are medians of "
             "interleaved repetitions (spread in results/lsh.json). The machine was shared with other jobs: ratios within a table "
             "mean more than absolute QPS."]
    for r in dense:
        parts.append(f"### {r['dataset']} ({r['n']:,} x {r['dim']}, {r['metric']})")
        rows = []
        for e in r["equal_bits"]:
            for s, v in e["rows"].items():
                rows.append([f"{e['B']} ({e['tables']} x {e['bits']})", s, f"{v['recall']:.3f}", H.fmt_rate(v["qps"]), f"{v['bytes']:.0f}"])
        parts.append("Equal hash bits (tables x bits = B; faiss IndexLSH: one B-bit code, hamming scan of all codes; "
                     + ("p-stable values are integers, not bits: compared at equal count" if r["metric"] == "l2" else "both are random hyperplanes")
                     + "):\n\n" + H.markdown_table(["B", "system", "recall@10", "QPS", "bytes/vector"], rows))
        rows = []
        for nm, c in r["curves"].items():
            pts = [(p["recall"], p["qps"]) for p in c["points"]]
            at = [qps_at(pts, x) for x in (0.9, 0.95, 0.99)]
            curve = ", ".join(f"{p['knob']}: {p['recall']:.3f} / {H.fmt_rate(p['qps'])}" for p in c["points"])
            rows.append([nm, c["knob"], *(H.fmt_rate(a) if a else "-" for a in at), f"{c['bytes']:.0f}", f"{c['build_s']:.2f}", curve])
        parts.append("Against our other indexes (QPS at a recall interpolated on each curve; curve = knob: recall / QPS):\n\n"
                     + H.markdown_table(["index", "knob", "QPS @0.90", "QPS @0.95", "QPS @0.99", "bytes/vector", "build s", "curve"], rows))
    if sets:
        parts.append(f"### Near-duplicate sets: SciFact abstracts ({sets['n']:,} sets of word {SHINGLE}-shingles in {sets['dim']:,} slots, "
                     f"{sets['nq']} queries with 5% of words replaced, jaccard similarity >= {sets['threshold']}: "
                     f"{sets['true_per_query']:.2f} true neighbours per query)")
        rows = [[r["system"], f"{r['recall']:.3f}", H.fmt_rate(r["qps"]), f"{r['build_s']:.2f}",
                 f"{r['bytes']:.0f}" if "bytes" in r else "-", r.get("note", "")] for r in sets["rows"]]
        parts.append(H.markdown_table(["system", "recall of true neighbours", "QPS", "build s", "bytes/vector", "note"], rows))
    parts.append(H.machine_line(m))
    return "\n\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--parts", default="dense,sets")
    ap.add_argument("--big", action="store_true")
    args = ap.parse_args()
    import datasketch
    import faiss

    oxvec.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    dense, sets = [], None
    if "dense" in args.parts:
        for data in dense_data(args.big):
            print(data["name"], flush=True)
            dense.append(run_dense(data, args.reps))
    if "sets" in args.parts:
        print("scifact sets", flush=True)
        sets = run_sets(set_data(), args.reps)
    m = H.machine({"faiss": faiss.__version__, "datasketch": getattr(datasketch, "__version__", "?")})
    H.save_json("lsh", {"machine": m, "dense": dense, "sets": sets})
    body = report(dense, sets, m)
    H.update_results_md("lsh", body)
    print(body)


if __name__ == "__main__":
    main()
