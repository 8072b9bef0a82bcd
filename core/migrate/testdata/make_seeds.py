"""Writes the seed files of core/migrate's tests with the real libraries
(faiss-cpu, hnswlib, annoy: the test extra). Small on purpose: 60 vectors
of 8 dimensions, so the files are a few KB and fuzzing mutates them fast.

    .venv/bin/python core/migrate/testdata/make_seeds.py
"""

import json
import pathlib

import annoy
import faiss
import hnswlib
import numpy as np

here = pathlib.Path(__file__).parent
rng = np.random.default_rng(24)
n, d = 60, 8
x = rng.standard_normal((n, d)).astype("float32")
faiss.omp_set_num_threads(1)
made = {}


def faiss_file(name, idx, ids=None, rows=n):
    if not idx.is_trained:
        idx.train(x)
    if ids is None:
        idx.add(x[:rows])
    else:
        idx.add_with_ids(x[:rows], ids)
    faiss.write_index(idx, str(here / name))
    made[name] = {"kind": "faiss", "len": int(idx.ntotal)}


faiss_file("flat_l2.faiss", faiss.IndexFlatL2(d))
faiss_file("flat_ip.faiss", faiss.IndexFlatIP(d))
h = faiss.IndexHNSWFlat(d, 4)
faiss_file("hnsw.faiss", h)
faiss_file("ivf_full.faiss", faiss.IndexIVFFlat(faiss.IndexFlatL2(d), d, 4))
# 10 vectors in 40 lists: at most a quarter non-empty, so faiss writes the
# "sprs" layout
faiss_file("ivf_sprs.faiss", faiss.IndexIVFFlat(faiss.IndexFlatL2(d), d, 40), ids=np.arange(10) * 3, rows=10)
faiss_file("ivfpq.faiss", faiss.IndexIVFPQ(faiss.IndexFlatL2(d), d, 2, 4, 4))
faiss_file("pq.faiss", faiss.IndexPQ(d, 4, 4))
faiss_file("sq8.faiss", faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_8bit))
faiss_file("sq4u.faiss", faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_4bit_uniform))
faiss_file("sq_fp16.faiss", faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_fp16))  # unsupported qtype
faiss_file("idmap.faiss", faiss.IndexIDMap(faiss.IndexFlatL2(d)), ids=np.arange(n) + 1000)
faiss_file("idmap2_hnsw.faiss", faiss.IndexIDMap2(faiss.IndexHNSWFlat(d, 4)), ids=np.arange(n) * 2)
faiss_file("lsh.faiss", faiss.IndexLSH(d, 16))  # unsupported: IxHe

g = hnswlib.Index("l2", d)
g.init_index(n, M=4, ef_construction=20, random_seed=1)
g.add_items(x, np.arange(n) + 5)
g.mark_deleted(7)
g.save_index(str(here / "hnswlib_l2.bin"))
made["hnswlib_l2.bin"] = {"kind": "hnswlib", "space": "l2", "dim": d, "len": n - 1}

a = annoy.AnnoyIndex(d, "angular")
for i in range(n):
    a.add_item(i, x[i])
a.build(3, n_jobs=1)
a.save(str(here / "annoy_angular.ann"))
made["annoy_angular.ann"] = {"kind": "annoy", "metric": "angular", "dim": d, "len": n}
a = annoy.AnnoyIndex(d, "euclidean")
for i in range(0, n, 2):  # gaps: odd item numbers never added
    a.add_item(i, x[i])
a.build(3, n_jobs=1)
a.save(str(here / "annoy_euclidean.ann"))
made["annoy_euclidean.ann"] = {"kind": "annoy", "metric": "euclidean", "dim": d, "len": n // 2}
a = annoy.AnnoyIndex(d, "dot")
for i in range(n):
    a.add_item(i, x[i])
a.build(2, n_jobs=1)
a.save(str(here / "annoy_dot.ann"))
made["annoy_dot.ann"] = {"kind": "annoy", "metric": "dot", "dim": d, "len": n}
made["lsh.faiss"]["unsupported"] = True
made["sq_fp16.faiss"]["unsupported"] = True
(here / "seeds.json").write_text(json.dumps(made, indent=1, sort_keys=True) + "\n")
