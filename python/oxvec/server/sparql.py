"""SPARQL 1.1 Protocol on the server, per collection (docs/sparql.md):
``/v1/collections/{name}/sparql`` and ``/sparql?collection={name}``.

The dataset is the collection's records read as RDF
(oxvec.sparql.records: type, document, metadata) with the vec: functions
and patterns over its vectors. The caller's API key (``Authorization:
Bearer``) opens the collection as for REST: a key of another tenant finds
nothing, and SPARQL Update reaches the store only as the key's session
allows - a reader key's update is refused by the engine and answered 403,
so the endpoint is read-only unless the key allows writes. Queries run under
the server's request timeout like every other call.

Present only when rdflib is installed (``oxvec[rdf]``); otherwise the routes
answer 501 with the pip command.
"""

from __future__ import annotations

import weakref

from . import _deps  # noqa: F401  (a missing web stack is an ImportError naming the extra)
from fastapi import APIRouter, Request
from starlette.responses import Response

from .calls import run
from .problems import HTTPProblem

_services: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # Collection -> its SPARQLService


def _service_of(collection):
    from ..sparql import records
    from ..sparql.endpoint import SPARQLService

    svc = _services.get(collection)
    if svc is None:
        svc = _services.setdefault(collection, SPARQLService(records.graph(collection), collection, allow_update=True))
    return svc


def router() -> APIRouter:
    r = APIRouter()

    async def handle(request: Request, name: str | None) -> Response:
        try:
            from ..sparql import endpoint
        except ImportError:  # pragma: no cover - rdflib missing
            raise HTTPProblem(501, "UnsupportedError", "SPARQL needs rdflib: pip install 'oxvec[rdf]'") from None
        if not name:
            raise HTTPProblem(400, "InvalidArgumentError", "name the collection: /sparql?collection=<name> "
                                                           "or /v1/collections/<name>/sparql")
        auth = request.headers.get("authorization", "")
        scheme, _, key = auth.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise HTTPProblem(401, "PermissionDeniedError", "SPARQL needs an API key: Authorization: Bearer <key>")
        s = request.app.state.service
        principal = await run(s, None, None, s.principal, key.strip())
        collection = await run(s, None, None, principal.collection, name)
        svc = _service_of(collection)
        timeout = request.app.state.timeout_s

        async def in_thread(fn, *args):
            return await run(s, timeout, None, fn, *args)

        return await endpoint.respond(svc, request, in_thread)

    async def by_path(request: Request):
        return await handle(request, request.path_params["name"])

    async def by_param(request: Request):
        return await handle(request, request.query_params.get("collection"))

    r.add_route("/v1/collections/{name}/sparql", by_path, methods=["GET", "POST"], include_in_schema=False)
    r.add_route("/sparql", by_param, methods=["GET", "POST"], include_in_schema=False)
    return r
