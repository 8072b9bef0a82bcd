"""The REST API under /v1: thin routes that parse a request, run one
service call (calls.run) and encode its result. Every operation's logic
is in service.py, shared with GraphQL."""

from __future__ import annotations

from . import _deps  # noqa: F401 - first: a missing extra names its pip command

import functools
from typing import List, Optional

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError

from . import bodies, encode
from . import models as M
from .calls import Caller, run
from .problems import PROBLEM, HTTPProblem

bearer = HTTPBearer(auto_error=False, description="an oxvec API key: Authorization: Bearer oxv_<id>_<secret>")
_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
ERROR_RESPONSES = {code: {"model": M.Problem, "content": {PROBLEM: {}}, "description": "problem details"}
                   for code in _ERRORS}
CollectionName = Path(pattern=M.NAME, description="the collection's name", examples=["docs"])
TenantParam = Query(None, pattern=M.NAME, description="operator keys: the tenant; tenant keys: their own (default)")


async def caller(request: Request, creds: Optional[HTTPAuthorizationCredentials] = Depends(bearer)) -> Caller:
    """The request's key's session: 401 without a key or with one that
    opens none."""
    if creds is None or not creds.credentials:
        raise HTTPProblem(401, "PermissionDeniedError", "this route needs an API key: Authorization: Bearer <key>")
    svc = request.app.state.service
    key = creds.credentials
    p = svc.cached(key) or await run(svc, None, None, svc.principal, key)
    return Caller(p, key)


def _model(cls: type[BaseModel], fields: dict) -> BaseModel:
    try:
        return cls.model_validate(fields)
    except ValidationError as e:
        raise HTTPProblem(422, "ValidationError", f"the request does not match {cls.__name__}: "
                          + "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors()[:5])) from None


def _json(obj, status: int = 200) -> Response:
    return Response(encode.dumps(obj), status_code=status, media_type="application/json")


def _vector_body(model: type[BaseModel]) -> dict:
    """OpenAPI of a route whose body is JSON or binary vectors."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": model.model_json_schema()},
        bodies.NPY: {"schema": {"type": "string", "format": "binary"}},
        bodies.RAW: {"schema": {"type": "string", "format": "binary"}},
    }}}


# what a vector search takes of the request (the rest are the other modes')
_VECTOR_OPTIONS = ("filter", "where_document", "include", "ef", "mmr", "plan")


def _search_options(raw: bytes, what: str) -> tuple:
    """(the SearchIn, its options as the service takes them) of a search's
    JSON fields."""
    q = _model(M.SearchIn, bodies.fields(raw, what))
    opts = q.model_dump(exclude={"vectors", "texts", "k", "mode"})
    opts["include"] = tuple(opts["include"])
    opts["weights"] = tuple(opts["weights"])
    return q, opts


# Clients repeat the same few option sets (k, ef, include) with binary
# query vectors: the fields' text -> what it validates to, so a repeat
# skips json and pydantic (a tenth of a small search's loop time in the
# issue 22 profile). Only small texts, and read-only: nothing below
# changes q or opts (the calls take copies of opts).
_seen_options = functools.lru_cache(maxsize=256)(_search_options)
_CACHED_OPTIONS_BYTES = 2048


async def search_response(svc, timeout_s, c: Caller, name: str, body: bytes, headers) -> bytes:
    """A search request's JSON answer: the one implementation behind the
    search route and its fast path (fastpath.py)."""
    raw, what, vectors = bodies.split(body, headers)
    cache = vectors is not None and len(raw) <= _CACHED_OPTIONS_BYTES
    q, opts = (_seen_options if cache else _search_options)(raw, what)
    if vectors is not None and q.vectors is not None:
        raise bodies.bad("give the query vectors as the binary body or as JSON, not both")
    if vectors is None and q.vectors is not None:
        vectors = q.vectors
    if vectors is not None and not q.texts and q.mode in (None, "vector") and "embeddings" not in opts["include"]:
        # the engine's JSON is the answer: sent as it comes, not decoded
        # and encoded again; a cheap shape runs inline (inline.py)
        shape = None
        if opts.get("filter") is None and opts.get("where_document") is None and opts.get("mmr") is None:
            nq = len(vectors) if isinstance(vectors, list) else int(getattr(vectors, "shape", (0,))[0])
            shape = (c.principal.tenant, name, nq, q.k, opts.get("ef"), opts["include"])
        return await run(svc, timeout_s, c, svc.search_json, c.principal, name, vectors, q.k, cost_shape=shape,
                         **{f: opts[f] for f in _VECTOR_OPTIONS if f in opts})
    out = await run(svc, timeout_s, c, svc.search, c.principal, name, vectors, q.texts, q.k, q.mode, **opts)
    return encode.dumps(encode.hits(out))


def router() -> APIRouter:
    r = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

    def svc(request: Request):
        return request.app.state.service

    def timeout(request: Request):
        return request.app.state.timeout_s

    # --- tenants ----------------------------------------------------------------
    @r.get("/tenants", response_model=List[M.Tenant], tags=["tenants"], summary="List tenants (operator key)")
    async def tenants(request: Request, c: Caller = Depends(caller)):
        return _json(await run(svc(request), None, c, svc(request).tenants, c.principal))

    @r.post("/tenants", response_model=M.Tenant, status_code=201, tags=["tenants"], summary="Create a tenant (operator key)")
    async def create_tenant(request: Request, body: M.TenantIn, c: Caller = Depends(caller)):
        s = svc(request)
        out = await run(s, None, c, s.create_tenant, c.principal, body.name,
                        body.quota.model_dump() if body.quota else None, body.policy.model_dump() if body.policy else None)
        return _json(out, 201)

    @r.get("/tenants/{tenant}", response_model=M.Tenant, tags=["tenants"], summary="A tenant with its usage")
    async def tenant(request: Request, tenant: str = Path(pattern=M.NAME), c: Caller = Depends(caller)):
        return _json(await run(svc(request), None, c, svc(request).tenant, c.principal, tenant))

    @r.delete("/tenants/{tenant}", status_code=204, tags=["tenants"], summary="Drop a tenant and all its data (operator key)")
    async def drop_tenant(request: Request, tenant: str = Path(pattern=M.NAME), c: Caller = Depends(caller)):
        await run(svc(request), None, c, svc(request).drop_tenant, c.principal, tenant)
        return Response(status_code=204)

    # --- keys -------------------------------------------------------------------
    @r.get("/keys", response_model=List[M.Key], tags=["keys"], summary="List API keys (admin or operator key)")
    async def keys(request: Request, tenant: Optional[str] = TenantParam, c: Caller = Depends(caller)):
        return _json(await run(svc(request), None, c, svc(request).api_keys, c.principal, tenant))

    @r.post("/keys", response_model=M.NewKey, status_code=201, tags=["keys"], summary="Create an API key (admin or operator key)")
    async def create_key(request: Request, body: M.KeyIn, c: Caller = Depends(caller)):
        s = svc(request)
        out = await run(s, None, c, s.create_api_key, c.principal, body.tenant, body.role, body.name,
                        body.max_qps, body.burst, body.expires_at)
        return _json(out, 201)

    @r.delete("/keys/{key}", status_code=204, tags=["keys"], summary="Revoke an API key by name or id")
    async def revoke_key(request: Request, key: str = Path(pattern=M.NAME), tenant: Optional[str] = TenantParam,
                         c: Caller = Depends(caller)):
        await run(svc(request), None, c, svc(request).revoke_api_key, c.principal, tenant, key)
        return Response(status_code=204)

    # --- collections ------------------------------------------------------------
    @r.get("/collections", response_model=List[M.CollectionOut], tags=["collections"], summary="List collections")
    async def collections(request: Request, tenant: Optional[str] = TenantParam, c: Caller = Depends(caller)):
        return _json(await run(svc(request), None, c, svc(request).collections, c.principal, tenant))

    @r.post("/collections", response_model=M.CollectionOut, status_code=201, tags=["collections"],
            summary="Create a collection (admin or operator key)")
    async def create_collection(request: Request, body: M.CollectionIn, c: Caller = Depends(caller)):
        s = svc(request)
        out = await run(s, None, c, s.create_collection, c.principal, body.name, body.dim, body.metric, body.index,
                        body.train_after, body.tenant)
        return _json(out, 201)

    @r.get("/collections/{name}", response_model=M.CollectionOut, tags=["collections"], summary="A collection")
    async def collection(request: Request, name: str = CollectionName, tenant: Optional[str] = TenantParam,
                         c: Caller = Depends(caller)):
        return _json(await run(svc(request), None, c, svc(request).collection_info, c.principal, name, tenant))

    @r.delete("/collections/{name}", status_code=204, tags=["collections"], summary="Drop a collection and its data")
    async def drop_collection(request: Request, name: str = CollectionName, tenant: Optional[str] = TenantParam,
                              c: Caller = Depends(caller)):
        await run(svc(request), None, c, svc(request).drop_collection, c.principal, name, tenant)
        return Response(status_code=204)

    @r.get("/collections/{name}/stats", response_model=M.CollectionOut, tags=["collections"],
           summary="A collection with its monitoring figures (latency, memory, qps)")
    async def stats(request: Request, name: str = CollectionName, c: Caller = Depends(caller)):
        return _json(await run(svc(request), timeout(request), c, svc(request).stats, c.principal, name))

    @r.post("/collections/{name}/snapshot", response_model=M.Ok, tags=["maintenance"],
            summary="Take a snapshot of the collection's store (admin)")
    async def snapshot(request: Request, name: str = CollectionName, tenant: Optional[str] = TenantParam,
                       c: Caller = Depends(caller)):
        await run(svc(request), None, c, svc(request).snapshot, c.principal, name, tenant)
        return _json({"ok": True})

    @r.post("/collections/{name}/backup", response_model=M.BackupOut, tags=["maintenance"],
            summary="Back the collection up into the server's backup directory (admin)")
    async def backup(request: Request, body: Optional[M.BackupIn] = None, name: str = CollectionName,
                     tenant: Optional[str] = TenantParam, c: Caller = Depends(caller)):
        inc = True if body is None else body.incremental
        return _json(await run(svc(request), None, c, svc(request).backup, c.principal, name, inc, tenant))

    # --- records ----------------------------------------------------------------
    async def write(request: Request, name: str, c: Caller, op: str):
        fields, vectors = bodies.parse(await request.body(), request.headers)
        rec = _model(M.Records, fields)
        if vectors is not None and rec.embeddings is not None:
            raise bodies.bad("give the embeddings as the binary body or as JSON, not both")
        if vectors is None and rec.embeddings is not None:
            vectors = rec.embeddings
        s = svc(request)
        n = await run(s, timeout(request), c, s.write, c.principal, name, op, rec.ids, vectors, rec.documents,
                      rec.metadatas)
        return _json({"written": n})

    for method, op, doc in (("post", "add", "Add new records (an existing id: 409, nothing written)"),
                            ("put", "upsert", "Add records, replacing those whose ids exist"),
                            ("patch", "update", "Change existing records: what is given replaces the old value")):
        async def endpoint(request: Request, name: str = CollectionName, c: Caller = Depends(caller), _op=op):
            return await write(request, name, c, _op)

        getattr(r, method)(f"/collections/{{name}}/records", response_model=M.Written, tags=["records"],
                           summary=doc, name=op, openapi_extra=_vector_body(M.Records))(endpoint)

    @r.post("/collections/{name}/get", response_model=M.RowsOut, tags=["records"],
            summary="Records by ids, or every record a filter matches (paged)")
    async def get(request: Request, body: M.GetIn, name: str = CollectionName, c: Caller = Depends(caller)):
        s = svc(request)
        out = await run(s, timeout(request), c, s.get, c.principal, name, body.ids, body.filter, body.where_document,
                        body.limit, body.offset, tuple(body.include))
        return _json(encode.rows(out))

    @r.post("/collections/{name}/delete", response_model=M.Deleted, tags=["records"],
            summary="Delete records by ids and/or filter ({} deletes everything)")
    async def delete(request: Request, body: M.DeleteIn, name: str = CollectionName, c: Caller = Depends(caller)):
        s = svc(request)
        n = await run(s, timeout(request), c, s.delete, c.principal, name, body.ids, body.filter, body.where_document)
        return _json({"deleted": n})

    @r.get("/collections/{name}/count", response_model=M.Count, tags=["records"], summary="Number of records")
    async def count(request: Request, name: str = CollectionName, c: Caller = Depends(caller)):
        return _json({"count": await run(svc(request), timeout(request), c, svc(request).count, c.principal, name)})

    @r.post("/collections/{name}/search", response_model=M.Hits, tags=["search"],
            summary="Vector, keyword or hybrid search; one result list per query",
            openapi_extra=_vector_body(M.SearchIn))
    async def search(request: Request, name: str = CollectionName, c: Caller = Depends(caller)):
        body = await search_response(svc(request), timeout(request), c, name, await request.body(), request.headers)
        return Response(body, media_type="application/json")

    return r
