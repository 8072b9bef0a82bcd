"""`python -m oxvec demo` (the main job behind `make demo`) on a few
standard-library modules: real docstrings, real MiniLM, all three modes."""

import os
import subprocess
import sys

from conftest import ROOT

MODULES = "gzip,zipfile,math,argparse,shutil,json,timeit,secrets,glob,fnmatch,smtplib"


def demo(store, *extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    out = subprocess.run([sys.executable, "-m", "oxvec", "demo", "--modules", MODULES, "--store", str(store),
                          "--query", "how do I read a gzip-compressed file", *extra],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout


def sections(text):
    """{mode: [hit ids]} of the single question asked."""
    hits, mode = {}, None
    for line in text.splitlines():
        words = line.split()
        if words and words[0] in ("keyword", "vector", "hybrid"):
            mode = words[0]
            hits[mode] = []
        elif mode and words and words[0].rstrip(".").isdigit():
            hits[mode].append(words[1])
    return hits


def test_demo_finds_gzip_open_in_every_mode_and_reuses_its_store(tmp_path):
    first = demo(tmp_path / "s")
    assert "embedded them with all-MiniLM-L6-v2" in first
    hits = sections(first)
    assert set(hits) == {"keyword", "vector", "hybrid"}
    for mode, ids in hits.items():
        assert "gzip.open" in ids, (mode, first)
    second = demo(tmp_path / "s")
    assert "reopened the store" in second and sections(second) == hits
