"""One replica of one shard: the code a Ray actor runs. It owns a durable
VectorStore in its own directory, applies the shard's writes in the order
the coordinator numbers them, and serves reads and catch-up to its peers.

Sequence numbers are the store's own change numbers (VectorStore.last_seq):
a write that changes the store is exactly one logged change, fsync'd with
it, and a write that changes nothing (a delete that matched no record, a
refused add) logs none. So a replica's position survives a crash exactly,
with no side file that could disagree with the data, and replicas that
applied the same writes are at the same number. ``apply(prev, op)`` runs a
write only on a replica at ``prev``; one at another number says so, and the
coordinator catches it up first.

Each replica also keeps the last ``log_entries`` writes it applied (in
memory), which a peer that missed them replays; a peer further behind gets
a full copy (backup, shipped as bytes, restored).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections import deque

from .._errors import Error, StateError
from .._restore import restore
from .._store import VectorStore
from ._bm25 import KeywordMirror

_STORE, _NEW, _OLD, _INCOMING = "store", "store.new", "store.old", "incoming"


class NotReady(Error):
    """The replica is installing a copy and cannot serve: ask another."""


class Replica:
    """A replica's state and calls (wrapped with ray.remote by the coordinator)."""

    def __init__(self, path: str, create: dict, log_entries: int = 1000, open_timeout: float = 60.0) -> None:
        self._path = path
        self._create = create
        self._log: deque = deque(maxlen=max(int(log_entries), 0))
        self.incarnation = uuid.uuid4().hex
        os.makedirs(path, exist_ok=True)
        self._finish_install()
        self._store = self._open(open_timeout)
        self._kw = self._mirror()

    # --- lifecycle ------------------------------------------------------
    def _open(self, timeout: float) -> VectorStore:
        """The store, created if new; retried while a predecessor that was
        killed still holds the writer lock (the kernel frees it with the
        process, a moment later)."""
        deadline = time.monotonic() + timeout
        c = self._create
        while True:
            try:
                return VectorStore(os.path.join(self._path, _STORE), dim=c["dim"], metric=c["metric"], index=c["index"])
            except StateError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _mirror(self) -> KeywordMirror:
        kw = KeywordMirror()
        got = self._store.get(include=["documents"])
        for key, doc in zip(got["ids"], got["documents"]):
            kw.set(key, doc)
        return kw

    def _finish_install(self) -> None:
        """Complete or undo a copy interrupted by a crash (see install)."""
        p = lambda n: os.path.join(self._path, n)  # noqa: E731
        if os.path.exists(p(_NEW)) and not os.path.exists(p(_STORE)):
            os.rename(p(_NEW), p(_STORE))  # the old store was moved aside: the new one is complete
        for n in (_NEW, _OLD, _INCOMING):
            shutil.rmtree(p(n), ignore_errors=True)

    def status(self) -> dict:
        return {"seq": self._store.last_seq, "count": self._store.count(), "incarnation": self.incarnation,
                "pid": os.getpid(), "log": [self._log[0][0], self._log[-1][0]] if self._log else None}

    def close(self) -> None:
        self._store.close()

    # --- writes ---------------------------------------------------------
    def apply(self, prev: int, op: dict):
        """Run write ``op`` if this replica is at change ``prev``. Returns
        ("ok", seq, result), ("seq", seq) when it is elsewhere, or
        ("error", exception) when the store refused the write (nothing
        changed; every replica at ``prev`` refuses it alike)."""
        seq = self._store.last_seq
        if seq != prev:
            return ("seq", seq)
        try:
            logged, result = self._run(op)
        except Error as e:
            return ("error", e)
        new = self._store.last_seq
        if new != prev:
            self._log.append((new, logged, result))
        return ("ok", new, result)

    def _run(self, op: dict):
        """Apply op; returns (the op as logged, its result). A delete by
        filter is logged as the ids it deleted, so a replay does exactly
        what was done."""
        s, kind = self._store, op["kind"]
        if kind in ("add", "upsert"):
            getattr(s, kind)(op["ids"], op["embeddings"], op.get("documents"), op.get("metadatas"))
            docs = op.get("documents") or [None] * len(op["ids"])
            for key, doc in zip(op["ids"], docs):
                self._kw.set(key, doc)
            return op, None
        if kind == "delete":
            ids = list(op.get("ids") or ())
            if op.get("where") is not None or op.get("where_document") is not None:
                seen = set(ids)
                for key in s.get(where=op.get("where"), where_document=op.get("where_document"), include=[])["ids"]:
                    if key not in seen:
                        seen.add(key)
                        ids.append(key)
            n = s.delete(ids) if ids else 0
            for key in ids:
                self._kw.remove(key)
            return {"kind": "delete", "ids": ids}, n
        raise StateError(f"unknown write {kind!r}")

    def result_of(self, seq: int):
        """The result of change ``seq`` if it is still in the log."""
        for s, _, r in self._log:
            if s == seq:
                return r
        return None

    # --- catch-up -------------------------------------------------------
    def log_since(self, seq: int):
        """The logged writes after change ``seq`` ([] when there are none),
        or None when the log no longer reaches back to seq + 1."""
        last = self._store.last_seq
        if seq >= last:
            return []
        if not self._log or self._log[0][0] > seq + 1:
            return None
        return [e for e in self._log if e[0] > seq]

    def replay(self, entries) -> int:
        """Apply a peer's logged writes in order; returns the new change number."""
        for seq, op, result in entries:
            last = self._store.last_seq
            if seq <= last:
                continue
            if seq != last + 1:
                raise StateError(f"replay: change {seq} after {last}: a gap")
            self._run(op)
            if self._store.last_seq != seq:
                raise StateError(f"replay of change {seq} left the store at {self._store.last_seq}: replicas differ")
            self._log.append((seq, op, result))
        return self._store.last_seq

    def export(self) -> dict:
        """A full copy of the store (a backup, as file bytes) and its change number."""
        tmp = tempfile.mkdtemp(prefix="export-", dir=self._path)
        try:
            info = self._store.backup(tmp, incremental=False)
            files = {}
            for root, _, names in os.walk(tmp):
                for n in names:
                    full = os.path.join(root, n)
                    with open(full, "rb") as f:
                        files[os.path.relpath(full, tmp)] = f.read()
            return {"files": files, "seq": int(info["last_seq"])}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def install(self, copy: dict) -> int:
        """Replace this replica's store by a peer's copy (export()).

        Crash-safe by directory renames: the backup is restored into
        store.new, then store is renamed store.old and store.new store; an
        open after a crash in between finishes or undoes it."""
        p = lambda n: os.path.join(self._path, n)  # noqa: E731
        for n in (_NEW, _INCOMING):
            shutil.rmtree(p(n), ignore_errors=True)
        for rel, data in copy["files"].items():
            full = os.path.join(p(_INCOMING), rel)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)
        restore(p(_INCOMING), p(_NEW))
        self._store.close()
        self._store = None
        os.rename(p(_STORE), p(_OLD))
        os.rename(p(_NEW), p(_STORE))
        self._finish_install()
        self._store = self._open(10.0)
        self._kw = self._mirror()
        self._log.clear()
        return self._store.last_seq

    # --- reads ----------------------------------------------------------
    def _live(self) -> VectorStore:
        if self._store is None:
            raise NotReady("replica is installing a copy")
        return self._store

    def count(self) -> int:
        return self._live().count()

    def get(self, kwargs: dict) -> dict:
        return self._live().get(**kwargs)

    def keyword_stats(self, terms) -> dict:
        self._live()
        return self._kw.stats(terms)

    def search(self, req: dict) -> list[dict]:
        """One shard's part of a search: for each query, the vector side's
        hits and/or the keyword side's (merge.py's hit tuples)."""
        s = self._live()
        mode, include, n = req["mode"], req["include"], req["nq"]
        flt = {"where": req.get("where"), "where_document": req.get("where_document")}
        out = [{"vector": [], "keyword": []} for _ in range(n)]
        if mode != "keyword":
            kv = req["k"] if mode == "vector" else req["per"]
            r = s.search(req["vectors"], kv, mode="vector", include=include, ef=req.get("ef"), **flt)
            for q in range(n):
                out[q]["vector"] = [(key, float(d), float("nan"), _fields(r, include, q, j))
                                    for j, (key, d) in enumerate(zip(r["ids"][q], r["distances"][q]))]
        if mode != "vector":
            allowed = None
            if flt["where"] is not None or flt["where_document"] is not None:
                allowed = set(s.get(include=[], **flt)["ids"])
            kk = req["k"] if mode == "keyword" else req["per"]
            tops = [self._kw.top(t, kk, req["stats"], req["k1"], req["b"], allowed) for t in req["terms"]]
            keys = list(dict.fromkeys(key for t in tops for key, _ in t))
            got = s.get(keys, include=include) if keys else {"ids": []}
            rows = {key: _row(got, include, i) for i, key in enumerate(got["ids"])}
            for q, t in enumerate(tops):
                out[q]["keyword"] = [(key, float("nan"), sc, rows[key]) for key, sc in t]
        return out


def _fields(r: dict, include, q: int, j: int) -> dict:
    f = {}
    for name in ("documents", "metadatas"):
        if name in include:
            f[name] = r[name][q][j]
    if "embeddings" in include:
        f["embeddings"] = r["embeddings"][q][j]
    return f


def _row(got: dict, include, i: int) -> dict:
    f = {}
    for name in ("documents", "metadatas"):
        if name in include:
            f[name] = got[name][i]
    if "embeddings" in include:
        f["embeddings"] = got["embeddings"][i]
    return f
