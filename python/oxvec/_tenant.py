"""Multi-tenancy: a Database of tenants, their collections and API keys,
and the Session an API key opens - the only way a front end reaches data,
every call checked by the engine (core/tenant, docs/tenancy.md).

>>> db = oxvec.Database("/srv/vectors")                      # doctest: +SKIP
>>> db.create_tenant("acme", quota=oxvec.Quota(max_vectors=10_000))
>>> db.create_collection("acme", "docs", dim=384, metric="cosine")
>>> key = db.create_api_key("acme", role="writer", name="ingest")
>>> s = db.session(key)
>>> s.collection("docs").add(["a"], np.ones((1, 384), np.float32))
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from ctypes import addressof
from dataclasses import dataclass, field
from typing import Any, Sequence

from . import _capi
from . import _requests as rq
from ._call import check, state
from ._errors import InvalidArgumentError
from ._library import lib
from ._resource import Resource
from ._store import VectorStore, _read_result

ROLES = ("reader", "writer", "admin")
PERMISSIONS = ("read", "write", "delete", "admin")


@dataclass
class Quota:
    """A tenant's limits; 0 means no limit. max_qps and burst are the
    tenant's token bucket, shared by all its keys (burst 0: one second's
    worth)."""

    max_vectors: int = 0
    max_storage_bytes: int = 0
    max_index_bytes: int = 0
    max_qps: float = 0.0
    burst: int = 0


@dataclass
class Policy:
    """What every vector written or searched in a tenant must satisfy, on
    top of the engine's NaN/inf checks; 0 or empty means no bound.
    max_magnitude bounds each vector's L2 norm; metrics lists the metrics
    its collections may use."""

    min_dim: int = 0
    max_dim: int = 0
    max_magnitude: float = 0.0
    metrics: Sequence[str] = field(default_factory=list)


def _fields(obj, cls, what: str) -> dict:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        obj = cls(**obj)
    if not isinstance(obj, cls):
        raise TypeError(f"{what} must be an oxvec.{cls.__name__} or a dict, not {type(obj).__name__}")
    d = dataclasses.asdict(obj)
    if "metrics" in d:
        d["metrics"] = list(d["metrics"])
    return {k: v for k, v in d.items() if v}


class _Admin:
    """The administrative calls, shared by Database (every call) and
    Session (what its key's role allows)."""

    def _admin(self, op: str, **fields) -> Any:
        st = state
        r = _capi.oxv_handle()
        req = rq.dumps({"op": op, **{k: v for k, v in fields.items() if v is not None}})
        check(lib.oxv_db_admin(self._live(), req, addressof(r), st.err_addr), st)
        out, _ = _read_result(r.value)
        return out

    def create_tenant(self, name: str, quota: Quota | None = None, policy: Policy | None = None) -> None:
        """Add a tenant (operator only)."""
        self._admin("create_tenant", name=name, quota=_fields(quota, Quota, "quota"), policy=_fields(policy, Policy, "policy"))

    def drop_tenant(self, name: str) -> None:
        """Remove a tenant with its collections and keys (operator only)."""
        self._admin("drop_tenant", name=name)

    def tenants(self) -> list:
        """Every tenant: dicts of name, quota, policy, roles, collections, usage."""
        return self._admin("tenants")

    def tenant(self, name: str) -> dict:
        """One tenant: name, quota, policy, roles, collections (a count) and
        usage (vectors, storage_bytes, index_bytes)."""
        return self._admin("tenant", name=name)

    def create_collection(self, tenant: str, name: str, dim: int, metric: str = "l2", index="flat",
                          train_after: int | None = None) -> None:
        """Add a collection (a VectorStore) to a tenant."""
        spec = {"type": index} if isinstance(index, str) else dict(index)
        self._admin("create_collection", tenant=tenant, name=name, dim=int(dim), metric=metric, index=spec,
                    train_after=train_after)

    def drop_collection(self, tenant: str, name: str) -> None:
        """Remove a collection and its data; its quota is given back."""
        self._admin("drop_collection", tenant=tenant, name=name)

    def collections(self, tenant: str) -> list:
        """The tenant's collections: dicts of name, dim, metric, index, count."""
        return self._admin("collections", tenant=tenant)

    def create_role(self, tenant: str, name: str, permissions: Sequence[str]) -> None:
        """A custom role: a name and a set of permissions of PERMISSIONS."""
        if isinstance(permissions, str):
            permissions = [permissions]
        self._admin("create_role", tenant=tenant, name=name, permissions=list(permissions))

    def create_api_key(self, tenant: str | None, role: str = "reader", name: str | None = None, *,
                       max_qps: float | None = None, burst: int | None = None,
                       expires_at: float | None = None) -> str:
        """A new API key of a tenant with a role ("reader", "writer", "admin"
        or a custom role), or with tenant=None and role="operator" an
        operator key. Returns the key: its secret is shown only now (the
        engine keeps a scrypt hash). max_qps/burst: the key's own rate
        limit; expires_at: unix seconds."""
        if name is None:
            name = f"key-{secrets.token_hex(4)}"
        res = self._admin("create_api_key", tenant=tenant or "", role=role, name=name, max_qps=max_qps, burst=burst,
                          expires_ns=None if expires_at is None else int(expires_at * 1e9))
        return res["key"]

    def revoke_api_key(self, tenant: str | None, key: str) -> None:
        """Revoke a key by its name or id; its sessions fail from their next call."""
        self._admin("revoke_api_key", tenant=tenant or "", key=key)

    def api_keys(self, tenant: str | None) -> list:
        """The tenant's keys (tenant=None: the operator keys), never their secrets."""
        return self._admin("api_keys", tenant=tenant or "")

    def snapshot_collection(self, tenant: str, name: str) -> None:
        """Snapshot one collection's store (admin), as VectorStore.snapshot."""
        self._admin("snapshot_collection", tenant=tenant, name=name)

    def backup_collection(self, tenant: str, name: str, dir, incremental: bool = True) -> dict:
        """Back one collection's store up into dir (admin), as
        VectorStore.backup: {"copied", "kept", "last_seq"}."""
        return self._admin("backup_collection", tenant=tenant, name=name, dir=os.fspath(dir), incremental=bool(incremental))

    def health(self, max_latency_ms: float | None = None, max_memory_percent: float | None = None,
               min_recall: float | None = None, max_error_rate: float | None = None) -> dict:
        """Every collection's VectorStore.health against the thresholds
        (operator only): {"status": "ok" | "degraded", "collections":
        {"tenant/name": {"status", "reasons"}}}."""
        t = {"max_latency_ms": max_latency_ms, "max_memory_percent": max_memory_percent, "min_recall": min_recall,
             "max_error_rate": max_error_rate}
        return self._admin("health", thresholds={k: float(v) for k, v in t.items() if v is not None})


class Database(_Admin, Resource):
    """A directory of tenants with a durable, checksummed catalog
    (docs/tenancy.md). Whoever opens it is its trusted administrator; give
    others API keys and serve them through :meth:`session`.

    Parameters
    ----------
    path : str or os.PathLike
        The root directory (created if missing).
    durability : {"always", "interval", "never"}
        The collections' stores' durability (see VectorStore).
    key_cost : int, optional
        log2 of scrypt's N for new keys (default 15, ~50-100 ms a session
        open); lower only in tests.
    """

    _free_name = "oxv_db_close"

    def __init__(self, path, *, durability: str = "always", key_cost: int | None = None) -> None:
        opts: dict[str, Any] = {"durability": durability}
        if key_cost is not None:
            opts["key_cost_log2"] = int(key_cost)
        st = state
        h = _capi.oxv_handle()
        self._path = os.fspath(path)
        check(lib.oxv_db_open(os.fsencode(self._path), rq.dumps(opts), addressof(h), st.err_addr), st)
        super().__init__(h.value)

    @property
    def path(self) -> str:
        return self._path

    def session(self, api_key: str) -> "Session":
        """The session of an API key; a wrong, revoked or expired key raises
        PermissionDeniedError."""
        if not isinstance(api_key, str):
            raise TypeError(f"api_key must be a str, not {type(api_key).__name__}")
        st = state
        h = _capi.oxv_handle()
        check(lib.oxv_session_open(self._live(), api_key.encode(), addressof(h), st.err_addr), st)
        return Session(h.value, self)

    def _set_clock(self, unix_seconds: float | None) -> None:
        """Test hook: stop the database's clock at unix_seconds (rate limits,
        key expiry); None gives back the real clock."""
        st = state
        ns = 0 if unix_seconds is None else max(1, int(unix_seconds * 1e9))
        check(lib.oxv_db_set_clock(self._live(), ns, st.err_addr), st)

    def __repr__(self) -> str:
        return f"<oxvec.Database {self._path!r}{' (closed)' if self.closed else ''}>"


class Session(_Admin, Resource):
    """What an API key may do: its tenant's collections (:meth:`collection`)
    and, for admin and operator keys, the administrative calls. Every call
    is checked by the engine: PermissionDeniedError, RateLimitedError,
    QuotaExceededError."""

    _free_name = "oxv_session_close"

    def __init__(self, handle: int, db: Database) -> None:
        super().__init__(handle)
        self._db = db  # keeps the database open while the session lives
        self._tenant = self._admin("whoami").get("tenant") or None

    def collection(self, name: str) -> "Collection":
        """A collection of the session's tenant; a name it does not have
        (another tenant's or none) raises NotFoundError alike."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        st = state
        h = _capi.oxv_handle()
        check(lib.oxv_session_collection(self._live(), name.encode(), addressof(h), st.err_addr), st)
        self._opening = name
        return Collection(h.value, self)

    @property
    def tenant_name(self) -> str | None:
        """The key's tenant (None for an operator key)."""
        return self._tenant

    def __repr__(self) -> str:
        return f"<oxvec.Session{' (closed)' if self.closed else ''}>"


class Collection(VectorStore):
    """A tenant's collection through a session: VectorStore's add, upsert,
    update, delete, get, search, count and info with the same return
    shapes, each call checked. snapshot and backup belong to the
    database's administrator, not to sessions."""

    def __init__(self, handle: int, session: Session) -> None:  # noqa: D107 (made by Session.collection)
        Resource.__init__(self, handle)
        self._session = session
        self.embedder = None
        # from the listing every key of the tenant may read (info needs
        # the read permission, which a write-only role lacks)
        name = session._opening
        info = next(c for c in session.collections(session.tenant_name) if c["name"] == name)
        self._dim, self._metric, self._path = int(info["dim"]), str(info["metric"]), name
        self._size = int(info["count"])

    def _work_size(self) -> int:
        # the count at open: asking again would be a checked call of its own
        return self._size

    def snapshot(self) -> None:
        raise InvalidArgumentError("a session's collection cannot take snapshots; the database's administrator can")

    def backup(self, dir, incremental: bool = True) -> dict:
        raise InvalidArgumentError("a session's collection cannot be backed up; the database's administrator can")

    def __repr__(self) -> str:
        if self.closed:
            return "<oxvec.Collection (closed)>"
        return f"<oxvec.Collection {self._path!r} dim={self._dim} metric={self._metric!r}>"
