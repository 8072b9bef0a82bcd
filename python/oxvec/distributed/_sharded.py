"""ShardedStore: a collection sharded by id hash over Ray actors, each shard
replicated, with the methods and return shapes of VectorStore.

The object you hold is the coordinator: it places records (shard_of),
numbers each shard's writes, sends them to every live replica and waits for
the write quorum; it fans searches out to one live replica per shard,
retries on another when one dies, and merges the shards' answers exactly
(merge.py, bm25.py). Replicas it loses are replaced and caught up in the
background (repair.py). docs/distributed.md explains the design.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import numpy as np
import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError

from .. import _convert as cv
from .. import _requests as rq
from .._errors import ClosedError, DuplicateIdError, Error, InvalidArgumentError, UnsupportedError
from .._store import _filters, _texts
from .._text import analyze
from ._bm25 import add_stats
from ._errors import ShardUnavailableError, WriteQuorumError
from ._ingest import IngestMixin
from ._merge import NAN, assemble, fuse, merge_keyword, merge_vector
from ._placement import split
from ._repair import RepairMixin
from ._replica import NotReady, Replica
from ._slot import CATCHING_UP, DOWN, LIVE, Slot

CONFIG = "CLUSTER.json"


class ShardedStore(RepairMixin, IngestMixin):
    """A VectorStore spread over ``shards`` x ``replicas`` Ray actors.

    Parameters
    ----------
    name : str
        The collection; its replicas live in ``root/name/shard-S/replica-R``.
    shards, replicas : int
        Fixed when the collection is created (placement depends on the shard
        count); read from ``root/name/CLUSTER.json`` when it is reopened.
    dim, metric, index
        As VectorStore (needed to create; checked on reopen). "flat" is
        exact, so a sharded search equals one store's; an approximate index
        is approximate per shard.
    root : str or os.PathLike
        The directory under which every node keeps its replicas (a local
        disk on each node; the coordinator writes CLUSTER.json here).
    write_quorum : int, optional
        Replicas that must have made a write durable (fsync'd) before it is
        acknowledged; default a majority, replicas // 2 + 1. Writes go to
        every live replica either way.
    timeout : float
        Seconds a call waits for replicas (a write for its quorum, a search
        for a live replica of each shard) before ShardUnavailableError or
        WriteQuorumError. Default 30.
    log_entries : int
        Recent writes each replica keeps for peers that missed them; a peer
        further behind gets a full copy. Default 1000.
    num_cpus : float
        CPUs each replica actor reserves in Ray's scheduler (default 0: the
        actors share the node's CPUs with everything else).
    actor_options : dict, optional
        More options for the replica actors (resources=, scheduling_strategy=,
        runtime_env=, ...). Default scheduling: "SPREAD" over the nodes.

    Ray must be initialized first (``ray.init(address=...)``, or
    :func:`oxvec.distributed.init_local` for this machine). A ShardedStore is
    safe to use from many threads; writes to one shard are serialized.
    """

    def __init__(self, name: str, shards: int | None = None, replicas: int | None = None, dim: int | None = None,
                 metric: str | None = None, index=None, root="oxvec-shards", *, write_quorum: int | None = None,
                 timeout: float = 30.0, log_entries: int = 1000, num_cpus: float = 0.0,
                 actor_options: dict | None = None) -> None:
        if not ray.is_initialized():
            raise ClosedError("Ray is not initialized: call ray.init(...) first "
                              "(oxvec.distributed.init_local() starts a cluster on this machine)")
        if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
            raise InvalidArgumentError(f"name must be a non-empty str without '/', got {name!r}")
        self._dir = os.path.abspath(os.path.join(os.fspath(root), name))
        cfg = _config(self._dir, shards, replicas, dim, metric, index)
        self.name, self.shards, self.replicas = name, cfg["shards"], cfg["replicas"]
        self._dim, self._metric, self._create = cfg["dim"], cfg["metric"], {k: cfg[k] for k in ("dim", "metric", "index")}
        q = self.replicas // 2 + 1 if write_quorum is None else write_quorum
        if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or not 1 <= q <= self.replicas:
            raise InvalidArgumentError(f"write_quorum must be an int in 1..{self.replicas}, got {write_quorum!r}")
        self.write_quorum = int(q)
        self.timeout = float(timeout)
        self._log_entries = int(log_entries)
        opts = {"scheduling_strategy": "SPREAD", **(actor_options or {})}
        self._actor = ray.remote(Replica).options(num_cpus=num_cpus, max_restarts=0, max_task_retries=0, **opts)
        self._cv = threading.Condition()
        self._wlocks = [threading.Lock() for _ in range(self.shards)]
        self._seq = [0] * self.shards
        self._inflight = [False] * self.shards
        self._doubt: list[set] = [set() for _ in range(self.shards)]
        self._closed = False
        self._repairs_held = False
        self._rr = [0] * self.shards  # round robin over each shard's live replicas
        # several per shard: a writer waiting for a shard's quorum must not hold
        # up other writers' batches for the other shards
        self._pool = ThreadPoolExecutor(max_workers=4 * self.shards, thread_name_prefix="oxvec-shard")
        self._slots = [[Slot(s, r, os.path.join(self._dir, f"shard-{s:03d}", f"replica-{r}"))
                        for r in range(self.replicas)] for s in range(self.shards)]
        self._start()

    # --- start and stop -----------------------------------------------------
    def _spawn(self, sl: Slot):
        return self._actor.remote(sl.path, self._create, self._log_entries)

    def _start(self) -> None:
        """Start every replica; each shard's committed change is the highest
        any of its replicas holds (a write that reached a replica is kept)."""
        slots = [sl for shard in self._slots for sl in shard]
        for sl in slots:
            sl.actor, sl.dead = self._spawn(sl), False
        refs = [sl.actor.status.remote() for sl in slots]
        for sl, ref in zip(slots, refs):
            try:
                st = ray.get(ref, timeout=self.timeout + 60)
                sl.seq, sl.incarnation = st["seq"], st["incarnation"]
            except (RayActorError, GetTimeoutError, RayTaskError) as e:
                sl.dead, sl.error = True, f"{type(e).__name__}: {e}"[:500]
        with self._cv:
            for s, shard in enumerate(self._slots):
                self._seq[s] = max([sl.seq for sl in shard if not sl.dead] or [0])
                for sl in shard:
                    if not sl.dead and sl.seq == self._seq[s]:
                        sl.state = LIVE
                    else:
                        sl.state = CATCHING_UP if not sl.dead else sl.state
                        self._schedule(sl)

    def close(self) -> None:
        """Close every replica's store cleanly and end the actors."""
        with self._cv:
            if self._closed:
                return
            self._closed = True
            self._cv.notify_all()
        for lock in self._wlocks:  # let writes in flight finish
            with lock:
                pass
        actors = [sl.actor for shard in self._slots for sl in shard if sl.actor is not None]
        refs = [a.close.remote() for a in actors]
        try:
            ray.wait(refs, num_returns=len(refs), timeout=self.timeout)
        except Exception:
            pass
        for a in actors:
            try:
                ray.kill(a, no_restart=True)
            except Exception:
                pass
        self._pool.shutdown(wait=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<oxvec.distributed.ShardedStore {self.name!r} shards={self.shards} replicas={self.replicas} "
                f"dim={self._dim} metric={self._metric!r} quorum={self.write_quorum}{' (closed)' if self._closed else ''}>")

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def metric(self) -> str:
        return self._metric

    def actors(self) -> list[list]:
        """The replica actor handles, by shard (for operators and fault tests:
        ``ray.kill(store.actors()[0][1])``)."""
        with self._cv:
            return [[sl.actor for sl in shard] for shard in self._slots]

    def _live(self) -> None:
        if self._closed:
            raise ClosedError("the ShardedStore is closed")

    # --- writes ---------------------------------------------------------------
    def add(self, ids, embeddings, documents=None, metadatas=None) -> None:
        """Insert new records. An id that exists raises DuplicateIdError and
        nothing is written (checked across shards first; two writers adding
        the same new id at once are told apart per shard only)."""
        self._write("add", ids, embeddings, documents, metadatas)

    def upsert(self, ids, embeddings, documents=None, metadatas=None) -> None:
        """Insert new records and replace existing ones entirely."""
        self._write("upsert", ids, embeddings, documents, metadatas)

    def _write(self, kind: str, ids, embeddings, documents, metadatas) -> None:
        self._live()
        keys = rq.strings(ids, "ids")
        n = len(keys)
        if len(set(keys)) != n:
            seen: set = set()
            dup = next(k for k in keys if k in seen or seen.add(k))
            raise DuplicateIdError(f"id {dup!r} appears twice in the batch; pass each id once")
        if embeddings is None:
            raise InvalidArgumentError("embeddings are required (a ShardedStore has no embedder)")
        a, rows, _ = cv.vectors(embeddings, self._dim, "embeddings")
        if rows != n:
            raise InvalidArgumentError(f"got {rows} embeddings for {n} ids; pass one per id")
        docs = rq.strings(documents, "documents", n) if documents is not None else None
        metas = None
        if metadatas is not None:
            metas = [metadatas] if isinstance(metadatas, dict) else list(metadatas)
            if len(metas) != n:
                raise InvalidArgumentError(f"got {len(metas)} metadatas for {n} ids; pass one per id")
            for i, m in enumerate(metas):
                if m is not None and not isinstance(m, dict):
                    raise TypeError(f"metadatas[{i}] is {type(m).__name__}; each metadata must be a dict or None")
            rq.check_metadatas(metas)
        if n == 0:
            return
        if kind == "add":
            there = self.get(keys, include=[])["ids"]
            if there:
                raise DuplicateIdError(f"{len(there)} ids exist already (first: {there[0]!r}); "
                                       "nothing was written (use upsert to replace them)")
        ops = {}
        for s, pos in enumerate(split(keys, self.shards)):
            if pos:
                op: dict[str, Any] = {"kind": kind, "ids": [keys[i] for i in pos], "embeddings": a[pos]}
                if docs is not None:
                    op["documents"] = [docs[i] for i in pos]
                if metas is not None:
                    op["metadatas"] = [metas[i] for i in pos]
                ops[s] = op
        self._write_shards(ops)

    def delete(self, ids=None, *, filter=None, where=None, where_document=None) -> int:
        """Delete records by id and/or every record a filter matches (on
        every shard); returns how many were deleted. ``filter={}`` deletes
        everything."""
        self._live()
        q: dict[str, Any] = {}
        if ids is not None:
            q["ids"] = rq.strings(ids, "ids")
        _filters(q, filter, where, where_document)
        if not q:
            raise TypeError("delete needs ids, filter= or where_document= (to delete everything, pass filter={})")
        by_filter = "where" in q or "where_document" in q
        parts = split(q.get("ids", []), self.shards)
        ops = {}
        for s, pos in enumerate(parts):
            if pos or by_filter:
                ops[s] = {"kind": "delete", "ids": [q["ids"][i] for i in pos],
                          "where": q.get("where"), "where_document": q.get("where_document")}
        return sum(r or 0 for r in self._write_shards(ops).values())

    def _write_shards(self, ops: dict) -> dict:
        """Run each shard's write (in parallel); the first error is raised
        after all have finished. A batch is atomic per shard, not across."""
        deadline = time.monotonic() + self.timeout
        futs = {s: self._pool.submit(self._write_shard, s, op, deadline) for s, op in ops.items()}
        out, err = {}, None
        for s, f in futs.items():
            try:
                out[s] = f.result()
            except BaseException as e:
                err = err or e
        if err is not None:
            raise err
        return out

    def _write_shard(self, s: int, op: dict, deadline: float):
        """Write ``op`` to shard s: number it prev + 1 (prev = the shard's
        committed change), send it to every live replica at prev, and
        return once write_quorum replicas hold it and no live replica still
        lacks it (one that became live meanwhile is sent it too)."""
        with self._wlocks[s]:
            self._settle(s, deadline)
            big = op.get("embeddings") is not None and op["embeddings"].nbytes > 64 * 1024
            ref = ray.put(op) if big and self.replicas > 1 else op  # stored once for all replicas when large
            with self._cv:
                prev = self._seq[s]
                self._inflight[s] = True
            result, have_result, errors, unknown = None, False, [], set()
            try:
                while True:
                    with self._cv:
                        self._check_open()
                        live = [sl for sl in self._slots[s] if sl.state == LIVE]
                        todo = [(sl, sl.actor) for sl in live if sl.seq == prev]
                    calls = [(sl, actor, actor.apply.remote(prev, ref)) for sl, actor in todo]
                    noop = False
                    for sl, actor, call in calls:
                        try:
                            out = ray.get(call, timeout=max(0.0, deadline - time.monotonic()))
                        except (RayActorError, GetTimeoutError) as e:
                            unknown.add(sl)  # it may have applied the write before it died
                            self._lost(sl, actor, f"{type(e).__name__} during a write")
                            continue
                        if out[0] == "ok":
                            with self._cv:
                                sl.seq = out[1]
                            unknown.discard(sl)
                            noop = noop or out[1] == prev
                            if out[1] != prev:
                                result, have_result = out[2], True
                        elif out[0] == "seq":
                            with self._cv:
                                sl.seq = out[1]
                            self._behind(sl, actor, f"at change {out[1]}, expected {prev}")
                        else:
                            errors.append((sl, actor, out[1]))
                    with self._cv:
                        live = [sl for sl in self._slots[s] if sl.state == LIVE]
                        applied = [sl for sl in live if sl.seq > prev]
                        lacking = [sl for sl in live if sl.seq == prev]
                        if errors and not applied:
                            unknown.clear()  # a refusal is the same everywhere: the others did not apply it either
                            raise errors[0][2]  # every replica refused it alike: nothing changed
                        for sl, actor, _ in errors:  # refused where others applied it: replicas differ
                            self._behind(sl, actor, f"refused change {prev + 1}: {errors[0][2]}", copy=True)
                        if noop and not applied:
                            return 0 if op["kind"] == "delete" else None
                        if applied and not lacking and len(applied) >= self.write_quorum:
                            self._seq[s] = prev + 1
                            unknown.clear()
                            break
                        left = deadline - time.monotonic()
                        if left <= 0:
                            if applied:
                                self._seq[s] = prev + 1  # held by a replica: it spreads as the others catch up
                            raise WriteQuorumError(
                                f"shard {s}: change {prev + 1} reached {len(applied)} of the {self.write_quorum} "
                                f"replicas the write quorum needs within {self.timeout:g} s"
                                + ("; it is held by a replica and reaches the others as they catch up" if applied
                                   else "; a replica that died while receiving it may hold it") + ". "
                                + self._describe(s), applied=bool(applied))
                        if not lacking:
                            self._cv.wait(min(left, 0.5))  # for a replica to come back
                    errors = []
            finally:
                with self._cv:
                    self._inflight[s] = False
                    self._doubt[s] |= unknown
                    self._cv.notify_all()
        if not have_result and op["kind"] == "delete":
            return self._result_of(s, prev + 1)
        return result

    def _settle(self, s: int, deadline: float) -> None:
        """Before numbering a write: if an earlier write's outcome is unknown
        (a replica died while receiving it), wait for those replicas to report
        their change numbers, and adopt the highest live one."""
        with self._cv:
            while self._doubt[s]:
                self._check_open()
                self._doubt[s] = {sl for sl in self._doubt[s] if sl.dead or sl.state == DOWN}
                if not self._doubt[s]:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WriteQuorumError(f"shard {s}: an earlier write's outcome is unknown until replica(s) "
                                           f"{sorted(sl.index for sl in self._doubt[s])} come back. " + self._describe(s))
                self._cv.wait(min(left, 0.5))
            live = [sl for sl in self._slots[s] if sl.state == LIVE]
            top = max([sl.seq for sl in live] or [self._seq[s]])
            if top > self._seq[s]:
                self._seq[s] = top
                for sl in live:
                    if sl.seq < top:
                        sl.state, sl.error = CATCHING_UP, f"behind change {top}, held by another replica"
                        self._schedule(sl)

    def _result_of(self, s: int, seq: int):
        for sl in self._slots[s]:
            if sl.state == LIVE:
                try:
                    return ray.get(sl.actor.result_of.remote(seq), timeout=self.timeout)
                except (RayActorError, GetTimeoutError):
                    continue
        return None

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError("the ShardedStore was closed")

    def _describe(self, s: int) -> str:
        return f"Shard {s}'s replicas: " + "; ".join(
            f"{sl.index}: {sl.state} at change {sl.seq}" + (f" ({sl.error})" if sl.error else "") for sl in self._slots[s])

    # --- reads ----------------------------------------------------------------
    def _fanout(self, calls: dict) -> dict:
        """Run calls[s] = (method, args) on one live replica of each shard s,
        in parallel; a replica that fails is replaced by another of its shard.
        ShardUnavailableError when a shard has none left before the deadline."""
        self._live()
        deadline = time.monotonic() + self.timeout
        tried: dict[int, set] = {s: set() for s in calls}
        pending: dict = {}

        def submit(s: int) -> None:
            sl, actor = self._pick(s, tried[s], deadline)
            tried[s].add((sl.index, sl.incarnation))
            method, args = calls[s]
            pending[getattr(actor, method).remote(*args)] = (s, sl, actor)

        for s in calls:
            submit(s)
        out = {}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=max(0.0, deadline - time.monotonic()))
            if not ready:
                s = pending[next(iter(pending))][0]
                raise ShardUnavailableError(f"shard {s} did not answer within {self.timeout:g} s. " + self._describe(s))
            for ref in ready:
                s, sl, actor = pending.pop(ref)
                try:
                    out[s] = ray.get(ref)
                except RayActorError as e:
                    self._lost(sl, actor, f"{type(e).__name__} during a read")
                    submit(s)
                except RayTaskError as e:
                    cause = getattr(e, "cause", None)
                    if isinstance(cause, NotReady):
                        self._behind(sl, actor, "installing a copy")
                        submit(s)
                    elif isinstance(cause, Error):
                        raise cause from None
                    else:
                        raise
        return out

    def _pick(self, s: int, tried: set, deadline: float):
        """A live replica of shard s not tried yet (round robin), waiting for
        one until the deadline."""
        with self._cv:
            while True:
                self._check_open()
                live = [sl for sl in self._slots[s] if sl.state == LIVE and (sl.index, sl.incarnation) not in tried]
                if live:
                    self._rr[s] += 1
                    sl = live[self._rr[s] % len(live)]
                    return sl, sl.actor
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ShardUnavailableError(f"no replica of shard {s} can serve it within {self.timeout:g} s. "
                                                + self._describe(s))
                for sl in self._slots[s]:
                    if sl.state != LIVE:
                        self._schedule(sl)
                self._cv.wait(min(left, 0.5))

    def count(self) -> int:
        """Number of records (one live replica of each shard counts)."""
        return sum(self._fanout({s: ("count", ()) for s in range(self.shards)}).values())

    __len__ = count

    def get(self, ids=None, *, filter=None, where=None, where_document=None, limit: int | None = None,
            offset: int | None = None, include: Sequence[str] = ("documents", "metadatas")) -> dict:
        """Records by id (in the order given; unknown ids are skipped) or every
        record the filters match, as VectorStore.get. Without ids, records
        come shard by shard (each shard's in insertion order), then offset
        and limit apply."""
        inc = rq.include(include)
        q: dict[str, Any] = {"include": inc}
        _filters(q, filter, where, where_document)
        if ids is not None:
            keys = rq.strings(ids, "ids")
            parts = split(keys, self.shards)
            calls = {s: ("get", ({**q, "ids": [keys[i] for i in pos]},)) for s, pos in enumerate(parts) if pos}
            res = self._fanout(calls) if calls else {}
            rows = {}
            for r in res.values():
                for i, key in enumerate(r["ids"]):
                    rows[key] = (r, i)
            order = [key for key in keys if key in rows]
            return self._rows([rows[key] for key in order], inc)
        lim = None if limit is None else rq.count(limit, "limit")
        off = 0 if offset is None else rq.count(offset, "offset")
        if lim is not None:
            q["limit"] = lim + off
        res = self._fanout({s: ("get", (q,)) for s in range(self.shards)})
        found = [(res[s], i) for s in range(self.shards) for i in range(len(res[s]["ids"]))]
        found = found[off:] if lim is None else found[off:off + lim]
        return self._rows(found, inc)

    def _rows(self, found: list, inc) -> dict:
        out: dict[str, Any] = {"ids": [r["ids"][i] for r, i in found]}
        for f in ("documents", "metadatas"):
            if f in inc:
                out[f] = [r[f][i] for r, i in found]
        if "embeddings" in inc:
            out["embeddings"] = (np.stack([r["embeddings"][i] for r, i in found]) if found
                                 else np.empty((0, self._dim), np.float32))
        return out

    def search(self, queries, k: int = 10, *, mode: str | None = None, text=None, filter=None, where=None,
               where_document=None, include: Sequence[str] = ("documents", "metadatas"), ef: int | None = None,
               fusion: str = "rrf", alpha: float = 0.5, rrf_k: float = 60, weights=(1.0, 1.0),
               normalize: str = "minmax", k1: float = 1.2, b: float = 0.75, candidates: int | None = None,
               mmr=None) -> dict:
        """The k best records of each query, as VectorStore.search (same
        arguments and result). Vector mode merges each shard's k nearest;
        keyword mode ranks every shard with the whole collection's BM25
        statistics (one extra round trip); hybrid merges each side's
        candidates across shards, then fuses. ``mmr`` is not supported."""
        if mmr is not None and mmr is not False:
            raise UnsupportedError("mmr is not supported by a ShardedStore; take fetch_k results and choose there")
        texts = _texts(queries)
        if mode is None:
            mode = "vector" if texts is None else "keyword"
        if mode not in ("vector", "keyword", "hybrid"):
            raise ValueError(f"mode must be 'vector', 'keyword' or 'hybrid', not {mode!r}")
        if text is not None:
            if texts is not None or mode != "hybrid":
                raise TypeError("text= gives the texts of a hybrid search whose queries are vectors")
            texts = _texts(text if not isinstance(text, str) else [text])
            if texts is None:
                raise TypeError("text= takes a str or a list of str")
            vectors = queries
        elif mode == "keyword":
            if texts is None:
                raise TypeError("a keyword search takes query texts (str or list of str), not vectors")
            vectors = None
        elif texts is not None:
            raise TypeError(f"a {mode} search of texts needs an embedder, which a ShardedStore has not; "
                            "pass query vectors (and text= for hybrid)")
        elif mode == "hybrid":
            raise TypeError("a hybrid search needs texts: pass vectors and text=")
        else:
            vectors = queries
        kk = cv.k_value(k)
        inc = rq.include(include)
        if fusion not in ("rrf", "convex"):
            raise InvalidArgumentError(f'fusion {fusion!r}: use "rrf" or "convex"')
        if normalize not in ("minmax", "zscore"):
            raise InvalidArgumentError(f'normalize {normalize!r}: use "minmax" or "zscore"')
        w = [float(x) for x in weights]
        if len(w) != 2 or min(w) < 0 or any(x != x for x in w):
            raise InvalidArgumentError("weights must be two numbers >= 0")
        if not 0 <= float(alpha) <= 1:
            raise InvalidArgumentError("alpha must be in [0, 1]")
        if not float(rrf_k) > 0:
            raise InvalidArgumentError("rrf_k must be > 0")
        if not (float(k1) >= 0 and 0 <= float(b) <= 1):
            raise InvalidArgumentError("BM25 needs k1 >= 0 and 0 <= b <= 1")
        per = max(kk, 100) if not candidates else max(kk, rq.count(candidates, "candidates"))
        req: dict[str, Any] = {"mode": mode, "k": kk, "per": per, "include": inc, "k1": float(k1), "b": float(b)}
        _filters(req, filter, where, where_document)
        if ef is not None:
            req["ef"] = rq.count(ef, "ef")
        if vectors is not None:
            a, nq, _ = cv.vectors(vectors, self._dim, "queries")
            req["vectors"] = a
            if mode == "hybrid" and nq != len(texts):
                raise ValueError(f"a hybrid search needs one text per query vector ({nq} vectors, {len(texts)} texts)")
        else:
            nq = len(texts)
        req["nq"] = nq
        if mode != "vector":
            req["terms"] = [analyze(t) for t in texts]
            every = sorted({t for ts in req["terms"] for t in ts})
            stats = self._fanout({s: ("keyword_stats", (every,)) for s in range(self.shards)})
            req["stats"] = add_stats(stats.values())
        # a large request goes into the object store once for all shards; a
        # small one travels inline with each call (cheaper than a put)
        big = vectors is not None and req["vectors"].nbytes > 64 * 1024
        arg = ray.put(req) if big and self.shards > 1 else req
        parts = self._fanout({s: ("search", (arg,)) for s in range(self.shards)})
        rows = []
        r = {"fusion": fusion, "weights": w, "rrf_k": float(rrf_k), "alpha": float(alpha), "normalize": normalize}
        for q in range(nq):
            vec = [parts[s][q]["vector"] for s in range(self.shards)]
            kw = [parts[s][q]["keyword"] for s in range(self.shards)]
            if mode == "vector":
                rows.append([(h[0], 0.0, h[1], NAN, h[3]) for h in merge_vector(vec, kk)])
            elif mode == "keyword":
                rows.append([(h[0], float(h[2]), NAN, h[2], h[3]) for h in merge_keyword(kw, kk)])
            else:
                rows.append(fuse(merge_vector(vec, per), merge_keyword(kw, per), r, kk))
        return assemble(rows, mode, inc, self._dim)

    # --- for tests ------------------------------------------------------------
    def _hold_repairs(self, hold: bool) -> None:
        """Keep replicas that fail out until released (a test makes a replica
        miss writes deterministically this way); releasing repairs them."""
        with self._cv:
            self._repairs_held = hold
            if not hold:
                for shard in self._slots:
                    for sl in shard:
                        if sl.state != LIVE:
                            self._schedule(sl)


def _config(path: str, shards, replicas, dim, metric, index) -> dict:
    """The collection's fixed shape: read from CLUSTER.json (the arguments
    given must agree) or, for a new collection, written there atomically."""
    f = os.path.join(path, CONFIG)
    if os.path.exists(f):
        with open(f) as fh:
            cfg = json.load(fh)
        for key, v in (("shards", shards), ("replicas", replicas), ("dim", dim), ("metric", metric)):
            if v is not None and v != cfg[key]:
                raise InvalidArgumentError(f"{path} holds a collection with {key}={cfg[key]!r}, not {v!r} "
                                           "(the shape is fixed when it is created)")
        return cfg
    if dim is None:
        raise FileNotFoundError(2, "no sharded collection here; give dim= (and shards=, replicas=) to create one", path)
    for key, v in (("shards", shards if shards is not None else 2), ("replicas", replicas if replicas is not None else 2),
                   ("dim", dim)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise InvalidArgumentError(f"{key} must be a positive int, got {v!r}")
    spec = {"type": index} if isinstance(index, str) else dict(index or {"type": "flat"})
    cfg = {"format": 1, "shards": int(shards or 2), "replicas": int(replicas or 2), "dim": int(dim),
           "metric": metric or "l2", "index": spec}
    os.makedirs(path, exist_ok=True)
    tmp = f + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(cfg, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, f)
    dfd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return cfg
