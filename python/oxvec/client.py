"""oxvec.Client: a Python client of ``oxvec serve`` using only the
standard library (http.client), so it needs no extra.

>>> client = oxvec.Client("http://127.0.0.1:8080", api_key=key)   # doctest: +SKIP
>>> docs = client.create_collection("docs", dim=384, metric="cosine", index="hnsw")
>>> docs.add(["a", "b"], vectors)              # sent as raw float32, not JSON
>>> docs.search(query, k=5)["ids"]

A remote collection has VectorStore's method names and return shapes
(numpy arrays for distances and embeddings), so code moves between a local
store and a server by changing the line that opens it. Errors are the same
oxvec exception classes, rebuilt from the server's problem details.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
from typing import Any, Sequence

import numpy as np

from . import _errors as E

_CHUNK_BYTES = 8 << 20  # the vectors of one write request; larger writes go in several


def _error(status: int, body: bytes) -> E.Error:
    try:
        p = json.loads(body)
        name, detail = str(p.get("error") or ""), str(p.get("detail") or "")
    except ValueError:
        name, detail = "", body.decode("utf-8", "replace")[:500]
    cls = getattr(E, name, None)
    if not (isinstance(cls, type) and issubclass(cls, E.Error)):
        cls = {401: E.PermissionDeniedError, 403: E.PermissionDeniedError, 404: E.NotFoundError,
               409: E.StateError, 429: E.RateLimitedError}.get(status)
        cls = cls or (E.InvalidArgumentError if 400 <= status < 500 else E.InternalError)
        detail = f"{name + ': ' if name else ''}{detail}"
    err = cls(detail)
    err.http_status = status
    return err


class Client:
    """A connection to an oxvec server.

    Parameters
    ----------
    url : str
        The server, e.g. "http://127.0.0.1:8080".
    api_key : str, optional
        Sent as ``Authorization: Bearer``; the key's session decides what
        the client may do.
    timeout : float
        Seconds to wait for a response.
    """

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"url must be http://host[:port] or https://..., got {url!r}")
        self.url = url.rstrip("/")
        self._https = u.scheme == "https"
        self._host, self._port = u.hostname, u.port
        self._base = u.path.rstrip("/")
        self._timeout = timeout
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._local = threading.local()  # one keep-alive connection per thread

    def __repr__(self) -> str:
        return f"<oxvec.Client {self.url!r}>"  # never the key

    # --- transport ------------------------------------------------------------
    def _conn(self) -> http.client.HTTPConnection:
        c = getattr(self._local, "conn", None)
        if c is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            c = self._local.conn = cls(self._host, self._port, timeout=self._timeout)
        return c

    def _request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                 query: dict | None = None) -> tuple[int, bytes, str]:
        url = self._base + path
        if query:
            q = {k: v for k, v in query.items() if v is not None}
            if q:
                url += "?" + urllib.parse.urlencode(q)
        h = {**self._headers, **(headers or {})}
        for attempt in (0, 1):
            c = self._conn()
            try:
                c.request(method, url, body=body, headers=h)
                r = c.getresponse()
                data = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.close()
                return r.status, data, r.getheader("content-type", "")
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.CannotSendRequest):
                # a keep-alive connection the server closed meanwhile: once more on a fresh one
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _call(self, method: str, path: str, obj: Any = None, *, query: dict | None = None,
              vectors: np.ndarray | None = None) -> Any:
        if vectors is not None:
            head = json.dumps(obj or {}).encode()
            v = np.ascontiguousarray(vectors, dtype="<f4")
            shape = f"{v.shape[0]},{v.shape[1]}"
            body = head + v.tobytes()
            headers = {"Content-Type": "application/octet-stream", "X-Oxvec-Shape": shape,
                       "X-Oxvec-Request-Length": str(len(head))}
        elif obj is not None:
            body, headers = json.dumps(obj).encode(), {"Content-Type": "application/json"}
        else:
            body, headers = None, {}
        status, data, _ = self._request(method, path, body, headers, query)
        if status >= 400:
            raise _error(status, data)
        return json.loads(data) if data else None

    def close(self) -> None:
        """Close this thread's connection (a later call opens another)."""
        c = getattr(self._local, "conn", None)
        self._local.conn = None
        if c is not None:
            c.close()

    # --- operations ------------------------------------------------------------
    def health(self) -> dict:
        return self._call("GET", "/healthz")

    def ready(self) -> bool:
        status, _, _ = self._request("GET", "/readyz")
        return status == 200

    def metrics(self) -> str:
        status, data, _ = self._request("GET", "/metrics")
        if status >= 400:
            raise _error(status, data)
        return data.decode()

    def collections(self, tenant: str | None = None) -> list:
        """The key's tenant's collections: dicts of name, dim, metric, index, count."""
        return self._call("GET", "/v1/collections", query={"tenant": tenant})

    def create_collection(self, name: str, dim: int, metric: str = "l2", index="flat",
                          train_after: int | None = None, tenant: str | None = None) -> "RemoteCollection":
        """Create a collection (admin key) and return it."""
        body = {"name": name, "dim": int(dim), "metric": metric, "index": index}
        if train_after is not None:
            body["train_after"] = int(train_after)
        if tenant is not None:
            body["tenant"] = tenant
        info = self._call("POST", "/v1/collections", body)
        return RemoteCollection(self, info)

    def collection(self, name: str) -> "RemoteCollection":
        """An existing collection (NotFoundError if the tenant has none of that name)."""
        return RemoteCollection(self, self._call("GET", f"/v1/collections/{_q(name)}"))

    def drop_collection(self, name: str, tenant: str | None = None) -> None:
        self._call("DELETE", f"/v1/collections/{_q(name)}", query={"tenant": tenant})

    # administration, as the tenancy API (operator or admin keys)
    def tenants(self) -> list:
        return self._call("GET", "/v1/tenants")

    def tenant(self, name: str) -> dict:
        return self._call("GET", f"/v1/tenants/{_q(name)}")

    def create_tenant(self, name: str, quota: dict | None = None, policy: dict | None = None) -> dict:
        return self._call("POST", "/v1/tenants", {"name": name, "quota": quota, "policy": policy})

    def drop_tenant(self, name: str) -> None:
        self._call("DELETE", f"/v1/tenants/{_q(name)}")

    def create_api_key(self, tenant: str | None = None, role: str = "reader", name: str | None = None, *,
                       max_qps: float | None = None, burst: int | None = None,
                       expires_at: float | None = None) -> str:
        """A new key (its secret, shown only now)."""
        body = {"tenant": tenant, "role": role, "name": name, "max_qps": max_qps, "burst": burst,
                "expires_at": expires_at}
        return self._call("POST", "/v1/keys", {k: v for k, v in body.items() if v is not None})["key"]

    def api_keys(self, tenant: str | None = None) -> list:
        return self._call("GET", "/v1/keys", query={"tenant": tenant})

    def revoke_api_key(self, tenant: str | None, key: str) -> None:
        self._call("DELETE", f"/v1/keys/{_q(key)}", query={"tenant": tenant})

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        """Run a GraphQL operation; its errors raise as oxvec exceptions."""
        out = self._call("POST", "/graphql", {"query": query, "variables": variables or {}})
        if out.get("errors"):
            ext = out["errors"][0].get("extensions") or {}
            raise _error(int(ext.get("status") or 400),
                         json.dumps({"error": ext.get("error"), "detail": out["errors"][0].get("message")}).encode())
        return out["data"]


def _q(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _filter(filter, where) -> Any:
    if filter is not None and where is not None:
        raise TypeError("give filter= or where= (the same thing), not both")
    return filter if filter is not None else where


def _floats(xs, dtype) -> np.ndarray:
    return np.array([np.nan if x is None else x for x in xs], dtype)


class RemoteCollection:
    """A collection on a server, with VectorStore's methods and return
    shapes. Writes bigger than a few MiB of vectors are sent in several
    requests: each is atomic, the whole is not."""

    def __init__(self, client: Client, info: dict) -> None:
        self._client = client
        self.name = info["name"]
        self._dim = int(info["dim"])
        self._metric = str(info["metric"])
        self._path = f"/v1/collections/{_q(self.name)}"

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def metric(self) -> str:
        return self._metric

    def __repr__(self) -> str:
        return f"<oxvec.RemoteCollection {self.name!r} dim={self._dim} metric={self._metric!r} at {self._client.url!r}>"

    def info(self) -> dict:
        return self._client._call("GET", self._path)

    def stats(self) -> dict:
        return self._client._call("GET", self._path + "/stats").get("stats") or {}

    def count(self) -> int:
        return int(self._client._call("GET", self._path + "/count")["count"])

    __len__ = count

    # --- writes -----------------------------------------------------------------
    def add(self, ids, embeddings=None, documents=None, metadatas=None) -> None:
        self._write("POST", ids, embeddings, documents, metadatas)

    def upsert(self, ids, embeddings=None, documents=None, metadatas=None) -> None:
        self._write("PUT", ids, embeddings, documents, metadatas)

    def update(self, ids, embeddings=None, documents=None, metadatas=None) -> None:
        self._write("PATCH", ids, embeddings, documents, metadatas)

    def _write(self, method: str, ids, embeddings, documents, metadatas) -> None:
        if isinstance(ids, str):
            ids = [ids]
        ids = list(ids)
        if isinstance(metadatas, dict):
            metadatas = [metadatas]
        if isinstance(documents, str):
            documents = [documents]
        vec = None
        if embeddings is not None:
            vec = np.asarray(embeddings, dtype=np.float32)
            if vec.ndim == 1:
                vec = vec.reshape(1, -1)
            if vec.ndim != 2:
                raise E.DimensionError(f"embeddings must be 1-D or 2-D (n, {self._dim}), got shape {vec.shape}")
            if vec.shape[0] != len(ids):
                raise E.InvalidArgumentError(f"got {vec.shape[0]} embeddings for {len(ids)} ids; pass one per id")
        n = len(ids)
        step = max(1, _CHUNK_BYTES // max(1, 4 * self._dim)) if vec is not None else max(n, 1)
        for at in range(0, max(n, 1), step):
            part = slice(at, at + step)
            body: dict[str, Any] = {"ids": list(ids[part])}
            if documents is not None:
                body["documents"] = list(documents[part])
            if metadatas is not None:
                body["metadatas"] = list(metadatas[part])
            self._client._call(method, self._path + "/records", body, vectors=None if vec is None else vec[part])

    def delete(self, ids=None, *, filter=None, where=None, where_document=None) -> int:
        body: dict[str, Any] = {}
        if ids is not None:
            body["ids"] = [ids] if isinstance(ids, str) else list(ids)
        f = _filter(filter, where)
        if f is not None:
            body["filter"] = f
        if where_document is not None:
            body["where_document"] = where_document
        if not body:
            raise TypeError("delete needs ids, filter= or where_document= (to delete everything, pass filter={})")
        return int(self._client._call("POST", self._path + "/delete", body)["deleted"])

    # --- reads ------------------------------------------------------------------
    def get(self, ids=None, *, filter=None, where=None, where_document=None, limit: int | None = None,
            offset: int | None = None, include: Sequence[str] = ("documents", "metadatas")) -> dict:
        body: dict[str, Any] = {"include": list(include)}
        if ids is not None:
            body["ids"] = [ids] if isinstance(ids, str) else list(ids)
        f = _filter(filter, where)
        for k, v in (("filter", f), ("where_document", where_document), ("limit", limit), ("offset", offset)):
            if v is not None:
                body[k] = v
        out = self._client._call("POST", self._path + "/get", body)
        if "embeddings" in include:
            out["embeddings"] = np.asarray(out.get("embeddings") or [], np.float32).reshape(-1, self._dim)
        return out

    def search(self, queries, k: int = 10, *, mode: str | None = None, text=None, filter=None, where=None,
               where_document=None, include: Sequence[str] = ("documents", "metadatas"), ef: int | None = None,
               fusion: str = "rrf", alpha: float = 0.5, rrf_k: float = 60, weights=(1.0, 1.0),
               normalize: str = "minmax", k1: float = 1.2, b: float = 0.75, candidates: int | None = None,
               mmr=None) -> dict:
        """VectorStore.search on the server: vectors go as raw float32, texts as JSON."""
        body: dict[str, Any] = {"k": int(k), "include": list(include), "fusion": fusion, "alpha": alpha,
                                "rrf_k": rrf_k, "weights": list(weights), "normalize": normalize, "k1": k1, "b": b}
        for key, v in (("mode", mode), ("filter", _filter(filter, where)), ("where_document", where_document),
                       ("ef", ef), ("candidates", candidates)):
            if v is not None:
                body[key] = v
        if mmr is not None and mmr is not False:
            body["mmr"] = {} if mmr is True else mmr
        vectors = None
        if isinstance(queries, str) or (isinstance(queries, (list, tuple)) and queries and all(isinstance(t, str) for t in queries)):
            body["texts"] = [queries] if isinstance(queries, str) else list(queries)
            if text is not None:
                raise TypeError("text= gives the texts of a hybrid search whose queries are vectors")
        else:
            vectors = np.asarray(queries, dtype=np.float32)
            if vectors.ndim == 1:
                vectors = vectors.reshape(1, -1)
            if vectors.ndim != 2:
                raise E.DimensionError(f"queries must be 1-D or 2-D (n, {self._dim}), got shape {vectors.shape}")
            if text is not None:
                body["texts"] = [text] if isinstance(text, str) else list(text)
        out = self._client._call("POST", self._path + "/search", body, vectors=vectors)
        out["distances"] = [_floats(d, np.float32) for d in out["distances"]]
        if "scores" in out:
            out["scores"] = [np.asarray(s, np.float64) for s in out["scores"]]
        if "keyword_scores" in out:
            out["keyword_scores"] = [_floats(s, np.float32) for s in out["keyword_scores"]]
        if "embeddings" in out:
            out["embeddings"] = [np.asarray(e, np.float32).reshape(-1, self._dim) for e in out["embeddings"]]
        return out

    # --- maintenance (admin keys) ---------------------------------------------------
    def snapshot(self) -> None:
        self._client._call("POST", self._path + "/snapshot")

    def backup(self, incremental: bool = True) -> dict:
        """Back up into the server's backup directory (not a path of the client's)."""
        return self._client._call("POST", self._path + "/backup", {"incremental": bool(incremental)})
