"""The service layer: one implementation of every operation the server
offers, called by the REST routes and the GraphQL resolvers alike.

Every operation takes the caller's Principal - the session of its API key,
opened once per key and cached (opening pays scrypt; calls are checked by
the engine: role, tenant, rate limits, quotas) - and plain Python values,
and returns plain values (numpy arrays for vectors). Nothing here knows
HTTP.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from .._errors import InvalidArgumentError, NotFoundError, PermissionDeniedError
from .._tenant import Collection, Database, Session

SESSION_CACHE = 1024  # keys whose sessions stay open


class Principal:
    """A key's session and the collections it has opened, by name."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.tenant = session.tenant_name
        self._collections: dict[str, Collection] = {}
        self._lock = threading.Lock()

    @property
    def operator(self) -> bool:
        return self.tenant is None

    def collection(self, name: str) -> Collection:
        with self._lock:
            c = self._collections.get(name)
        if c is None:
            c = self.session.collection(name)
            with self._lock:
                c = self._collections.setdefault(name, c)
        return c

    def forget(self, name: str) -> None:
        """Drop a cached collection (dropped, or dropped and made again)."""
        with self._lock:
            self._collections.pop(name, None)

    def close(self) -> None:
        with self._lock:
            cs, self._collections = list(self._collections.values()), {}
        for c in cs:
            c.close()
        self.session.close()


class Service:
    """Every operation of the server over one Database.

    backup_root: where backups go (``<root>/<tenant>/<collection>``); a
    client never names a server path.
    """

    def __init__(self, db: Database, backup_root: str | None = None, session_cache: int = SESSION_CACHE) -> None:
        self.db = db
        self.backup_root = backup_root
        self._sessions: OrderedDict[bytes, Principal] = OrderedDict()
        self._cap = session_cache
        self._lock = threading.Lock()
        self.closed = False

    # --- sessions -----------------------------------------------------------
    def cached(self, api_key: str) -> Principal | None:
        """The key's open session if it has one (never blocks: the event
        loop asks this first, and opens a session on a worker thread only
        when it is missing)."""
        digest = hashlib.sha256(api_key.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            p = self._sessions.get(digest)
            if p is not None:
                self._sessions.move_to_end(digest)
            return p

    def principal(self, api_key: str) -> Principal:
        """The cached session of a key, opened on first use (scrypt: tens
        of milliseconds). The cache is keyed by a digest of the key:
        secrets are neither kept nor logged."""
        p = self.cached(api_key)
        if p is not None:
            return p
        digest = hashlib.sha256(api_key.encode("utf-8", "surrogatepass")).digest()
        p = Principal(self.db.session(api_key))
        evicted = []
        with self._lock:
            if digest in self._sessions:  # another request opened it meanwhile
                evicted.append(p)
                p = self._sessions[digest]
            else:
                self._sessions[digest] = p
                while len(self._sessions) > self._cap:
                    evicted.append(self._sessions.popitem(last=False)[1])
        for q in evicted:
            q.close()
        return p

    def forget_key(self, api_key: str) -> None:
        """Close a key's cached session (its key failed: revoked, expired)."""
        digest = hashlib.sha256(api_key.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            p = self._sessions.pop(digest, None)
        if p is not None:
            p.close()

    def close(self) -> None:
        """Close every session, then the database (its stores close
        cleanly, with a snapshot when their log is long)."""
        with self._lock:
            ps, self._sessions = list(self._sessions.values()), OrderedDict()
            self.closed = True
        for p in ps:
            p.close()
        self.db.close()

    def _data(self, p: Principal, name: str, call):
        """call(collection), reopened once if the cached handle's collection
        was dropped (and perhaps made again) since."""
        c = p.collection(name)
        try:
            return call(c)
        except NotFoundError:
            p.forget(name)
            return call(p.collection(name))

    @staticmethod
    def _tenant(p: Principal, tenant: str | None) -> str:
        if tenant:
            return tenant
        if p.operator:
            raise InvalidArgumentError("an operator key must name the tenant (the tenant parameter)")
        return p.tenant

    # --- tenants (operator keys) -----------------------------------------------
    def tenants(self, p: Principal) -> list:
        return p.session.tenants()

    def create_tenant(self, p: Principal, name: str, quota: dict | None, policy: dict | None) -> dict:
        p.session.create_tenant(name, quota=quota or None, policy=policy or None)
        return p.session.tenant(name)

    def tenant(self, p: Principal, name: str) -> dict:
        return p.session.tenant(name)

    def drop_tenant(self, p: Principal, name: str) -> None:
        p.session.drop_tenant(name)

    # --- keys (admin and operator keys) ---------------------------------------
    def api_keys(self, p: Principal, tenant: str | None) -> list:
        return p.session.api_keys(tenant if p.operator else self._tenant(p, tenant))

    def create_api_key(self, p: Principal, tenant: str | None, role: str, name: str | None,
                       max_qps: float | None, burst: int | None, expires_at: float | None) -> dict:
        t = tenant if p.operator else self._tenant(p, tenant)
        key = p.session.create_api_key(t, role=role, name=name, max_qps=max_qps, burst=burst, expires_at=expires_at)
        info = next((k for k in p.session.api_keys(t) if key.startswith(f"oxv_{k['id']}_")), {})
        return {"key": key, **info}

    def revoke_api_key(self, p: Principal, tenant: str | None, key: str) -> None:
        p.session.revoke_api_key(tenant if p.operator else self._tenant(p, tenant), key)

    # --- collections --------------------------------------------------------------
    def collections(self, p: Principal, tenant: str | None = None) -> list:
        return p.session.collections(self._tenant(p, tenant))

    def create_collection(self, p: Principal, name: str, dim: int, metric: str, index: Any,
                          train_after: int | None, tenant: str | None = None) -> dict:
        t = self._tenant(p, tenant)
        p.session.create_collection(t, name, dim=dim, metric=metric, index=index or "flat", train_after=train_after)
        p.forget(name)
        return self.collection_info(p, name, t)

    def collection_info(self, p: Principal, name: str, tenant: str | None = None) -> dict:
        t = self._tenant(p, tenant)
        for c in p.session.collections(t):
            if c["name"] == name:
                return c
        raise NotFoundError(f"collection {name!r} does not exist")

    def drop_collection(self, p: Principal, name: str, tenant: str | None = None) -> None:
        p.session.drop_collection(self._tenant(p, tenant), name)
        p.forget(name)

    def stats(self, p: Principal, name: str) -> dict:
        """The collection's monitoring figures (VectorStore.stats) with its
        listing (name, dim, metric, index, count)."""
        out = dict(self.collection_info(p, name))
        stats = getattr(Collection, "stats", None)
        if stats is not None:
            out["stats"] = self._data(p, name, lambda c: c.stats())
        return out

    def snapshot(self, p: Principal, name: str, tenant: str | None = None) -> None:
        p.session.snapshot_collection(self._tenant(p, tenant), name)

    def backup(self, p: Principal, name: str, incremental: bool, tenant: str | None = None) -> dict:
        if not self.backup_root:
            raise InvalidArgumentError("this server was started without a backup directory (oxvec serve --backup-dir)")
        t = self._tenant(p, tenant)
        where = os.path.join(self.backup_root, t, name)
        os.makedirs(where, exist_ok=True)
        out = p.session.backup_collection(t, name, where, incremental=incremental)
        return {**out, "dir": where}

    # --- records ------------------------------------------------------------------
    def write(self, p: Principal, name: str, op: str, ids, vectors, documents, metadatas) -> int:
        """add, upsert or update; returns how many records were written."""
        if op not in ("add", "upsert", "update"):
            raise InvalidArgumentError(f"unknown write {op!r}")
        if ids is None:
            raise InvalidArgumentError("a write needs ids")
        self._data(p, name, lambda c: getattr(c, op)(ids, vectors, documents, metadatas))
        return len(ids)

    def get(self, p: Principal, name: str, ids=None, filter=None, where_document=None, limit=None, offset=None,
            include=("documents", "metadatas")) -> dict:
        return self._data(p, name, lambda c: c.get(ids, filter=filter, where_document=where_document, limit=limit,
                                                   offset=offset, include=include))

    def delete(self, p: Principal, name: str, ids=None, filter=None, where_document=None) -> int:
        return self._data(p, name, lambda c: c.delete(ids, filter=filter, where_document=where_document))

    def count(self, p: Principal, name: str) -> int:
        return self._data(p, name, lambda c: c.count())

    def search(self, p: Principal, name: str, vectors: np.ndarray | None = None, texts: list | None = None,
               k: int = 10, mode: str | None = None, **options) -> dict:
        """Vector, keyword or hybrid search of one or many queries: vectors
        (n, dim), texts (n) or both (hybrid); options are VectorStore.search's
        (filter, where_document, include, ef, fusion, alpha, rrf_k, weights,
        normalize, k1, b, candidates, mmr)."""
        opts = {k_: v for k_, v in options.items() if v is not None}
        if vectors is None and not texts:
            raise InvalidArgumentError("a search needs query vectors, query texts or both (hybrid)")
        if vectors is not None:
            mode = mode or ("hybrid" if texts else "vector")
            if texts:
                opts["text"] = list(texts)
            queries = vectors
        else:
            mode = mode or "keyword"
            queries = list(texts)
        return self._data(p, name, lambda c: c.search(queries, k, mode=mode, **opts))

    def search_json(self, p: Principal, name: str, vectors: np.ndarray, k: int = 10, **options) -> bytes:
        """A vector search's answer as the engine's JSON text, ready to
        send (VectorStore.search_json): the hot path of the search route,
        which so skips decoding the result into arrays and encoding it
        again. options as for search, without embeddings in include."""
        opts = {k_: v for k_, v in options.items() if v is not None}
        return self._data(p, name, lambda c: c.search_json(vectors, k, mode="vector", **opts))


def key_failed(e: BaseException) -> bool:
    """Whether an error says the key itself no longer opens a session."""
    return isinstance(e, PermissionDeniedError) and "API key is" in str(e)
