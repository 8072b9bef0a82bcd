"""GraphQL at /graphql (strawberry): collections, records and search;
mutations add, upsert and delete - each resolver one call of the same
service layer as REST. Errors carry the oxvec error class and the HTTP
status REST would give in their extensions."""

from __future__ import annotations

from . import _deps  # noqa: F401 - first: a missing extra names its pip command

from typing import List, Optional

import numpy as np
import strawberry
from fastapi import Request
from graphql import GraphQLError
from strawberry.fastapi import GraphQLRouter
from strawberry.scalars import JSON
from strawberry.types import Info

from . import encode
from .calls import Caller, run
from .problems import problem


async def _call(info: Info, fn_name: str, *args, timeout: bool = True, **kwargs):
    ctx = info.context
    request: Request = ctx["request"]
    svc = request.app.state.service
    try:
        c = await _caller(ctx)
        fn = getattr(svc, fn_name)
        return await run(svc, request.app.state.timeout_s if timeout else None, c, fn, c.principal, *args, **kwargs)
    except GraphQLError:
        raise
    except Exception as e:  # noqa: BLE001 - every failure becomes a GraphQL error with its class
        status, body, _ = problem(e)
        raise GraphQLError(body["detail"], extensions={"error": body["error"], "status": status}) from None


async def _caller(ctx) -> Caller:
    if "caller" not in ctx:
        request: Request = ctx["request"]
        auth = request.headers.get("authorization") or ""
        scheme, _, key = auth.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise GraphQLError("GraphQL needs an API key: Authorization: Bearer <key>",
                               extensions={"error": "PermissionDeniedError", "status": 401})
        svc = request.app.state.service
        key = key.strip()
        ctx["caller"] = Caller(svc.cached(key) or await run(svc, None, None, svc.principal, key), key)
    return ctx["caller"]


@strawberry.type
class CollectionInfo:
    name: str
    dim: int
    metric: str
    count: int
    index: Optional[JSON] = None


@strawberry.type
class Record:
    id: str
    document: Optional[str] = None
    metadata: Optional[JSON] = None
    embedding: Optional[List[float]] = None


@strawberry.type
class Hit:
    id: str
    distance: Optional[float] = None
    score: Optional[float] = None
    document: Optional[str] = None
    metadata: Optional[JSON] = None


@strawberry.input
class RecordInput:
    id: str
    embedding: Optional[List[float]] = None
    document: Optional[str] = None
    metadata: Optional[JSON] = None


def _collection(c: dict) -> CollectionInfo:
    return CollectionInfo(name=c["name"], dim=c["dim"], metric=c["metric"], count=c["count"], index=c.get("index"))


def _include(embeddings: bool) -> tuple:
    return ("documents", "metadatas", "embeddings") if embeddings else ("documents", "metadatas")


@strawberry.type
class Query:
    @strawberry.field(description="The caller's tenant's collections")
    async def collections(self, info: Info) -> List[CollectionInfo]:
        return [_collection(c) for c in await _call(info, "collections", timeout=False)]

    @strawberry.field(description="One collection")
    async def collection(self, info: Info, name: str) -> CollectionInfo:
        return _collection(await _call(info, "collection_info", name, timeout=False))

    @strawberry.field(description="Number of records of a collection")
    async def count(self, info: Info, collection: str) -> int:
        return await _call(info, "count", collection)

    @strawberry.field(description="Records by ids, or those a filter matches (paged)")
    async def records(self, info: Info, collection: str, ids: Optional[List[str]] = None,
                      filter: Optional[JSON] = None, where_document: Optional[JSON] = None,
                      limit: Optional[int] = None, offset: Optional[int] = None,
                      embeddings: bool = False) -> List[Record]:
        res = await _call(info, "get", collection, ids, filter, where_document, limit, offset, _include(embeddings))
        emb = res.get("embeddings")
        return [Record(id=i, document=res["documents"][j], metadata=res["metadatas"][j],
                       embedding=None if emb is None else emb[j].tolist()) for j, i in enumerate(res["ids"])]

    @strawberry.field(description="Vector, keyword or hybrid search: one list of hits per query")
    async def search(self, info: Info, collection: str, vectors: Optional[List[List[float]]] = None,
                     texts: Optional[List[str]] = None, k: int = 10, mode: Optional[str] = None,
                     filter: Optional[JSON] = None, where_document: Optional[JSON] = None,
                     ef: Optional[int] = None, fusion: str = "rrf", alpha: float = 0.5,
                     rrf_k: float = 60.0) -> List[List[Hit]]:
        q = None if vectors is None else np.asarray(vectors, np.float32)
        res = await _call(info, "search", collection, q, texts, k, mode, filter=filter, where_document=where_document,
                          ef=ef, fusion=fusion, alpha=alpha, rrf_k=rrf_k)
        out = []
        for qi, ids in enumerate(res["ids"]):
            dist = encode.floats(res["distances"][qi])
            scores = encode.floats(res["scores"][qi]) if "scores" in res else [None] * len(ids)
            out.append([Hit(id=i, distance=dist[j], score=scores[j], document=res["documents"][qi][j],
                            metadata=res["metadatas"][qi][j]) for j, i in enumerate(ids)])
        return out


async def _write(info: Info, op: str, collection: str, records: List[RecordInput]) -> int:
    ids = [r.id for r in records]
    emb = [r.embedding for r in records]
    vectors = None
    if any(e is not None for e in emb):
        if any(e is None for e in emb):
            raise GraphQLError("give an embedding for every record or for none",
                               extensions={"error": "InvalidArgumentError", "status": 400})
        vectors = np.asarray(emb, np.float32)
    docs = [r.document for r in records]
    metas = [r.metadata for r in records]
    return await _call(info, "write", collection, op, ids, vectors,
                       docs if any(d is not None for d in docs) else None,
                       metas if any(m is not None for m in metas) else None)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Add new records; returns how many were written")
    async def add(self, info: Info, collection: str, records: List[RecordInput]) -> int:
        return await _write(info, "add", collection, records)

    @strawberry.mutation(description="Add records, replacing those whose ids exist")
    async def upsert(self, info: Info, collection: str, records: List[RecordInput]) -> int:
        return await _write(info, "upsert", collection, records)

    @strawberry.mutation(description="Delete records by ids and/or filter; returns how many were deleted")
    async def delete(self, info: Info, collection: str, ids: Optional[List[str]] = None,
                     filter: Optional[JSON] = None, where_document: Optional[JSON] = None) -> int:
        return await _call(info, "delete", collection, ids, filter, where_document)


schema = strawberry.Schema(query=Query, mutation=Mutation)


async def _context(request: Request) -> dict:
    return {"request": request}


def graphql_router() -> GraphQLRouter:
    return GraphQLRouter(schema, context_getter=_context)
