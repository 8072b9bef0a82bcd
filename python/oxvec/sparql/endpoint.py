"""A SPARQL 1.1 Protocol endpoint over an rdflib graph with a VectorStore's
vec: functions and patterns, as a FastAPI router to mount at /sparql (or a
standalone app: :func:`app`).

The protocol (https://www.w3.org/TR/sparql11-protocol/):

- query: ``GET /sparql?query=...``, ``POST`` of an
  ``application/x-www-form-urlencoded`` body with ``query=``, or ``POST`` of
  an ``application/sparql-query`` body;
- update: ``POST`` with ``update=`` in a form, or an
  ``application/sparql-update`` body - refused with 403 unless the endpoint
  allows writes (``allow_update``: a bool, or a function of the request, so
  a server can ask whether the caller's key may write);
- results: SELECT and ASK as ``application/sparql-results+json`` (the
  default), ``application/sparql-results+xml`` or ``text/csv``, chosen by
  the Accept header; CONSTRUCT and DESCRIBE as ``text/turtle`` (default),
  ``application/n-triples``, ``application/rdf+xml`` or
  ``application/ld+json``;
- errors: 400 with a text/plain message for a malformed query or a bad
  request (an unsupported ``default-graph-uri``/``named-graph-uri``, a wrong
  content type), 403 for an update not allowed, 406 when no result format
  the client accepts exists.

Queries run one at a time (rdflib's function table is process-wide and
its graphs are not safe for a writer beside readers), in FastAPI's thread
pool, so the event loop stays free. Several endpoints in one process each
rebind their own store before each query.

The graph may be :func:`oxvec.sparql.records.graph` (the store's own
records as triples, writable where the store allows it): a store that
refuses a write (PermissionDeniedError: a read-only key) answers 403.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import parse_qs

from .._errors import PermissionDeniedError
from . import _require
from .rdflib_binding import Binding

RESULTS = {  # media type -> rdflib result serializer, for SELECT and ASK
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/csv": "csv",
}
GRAPHS = {  # for CONSTRUCT and DESCRIBE
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}
FORM = "application/x-www-form-urlencoded"
# rdflib's function table is process-wide: one query at a time, across
# every endpoint of the process (each rebinds its own store first)
ENGINE_LOCK = threading.Lock()
# pyoxigraph's SERVICE sends "VALUES ( ) { ( ) }" (one empty solution, a
# no-op in a join) when no variable is bound yet; rdflib 7 fails on an empty
# VALUES, so it is taken out before parsing
_IDENTITY_VALUES = re.compile(r"\bVALUES\s*\(\s*\)\s*\{\s*\(\s*\)\s*\}", re.I)


def _fastapi():
    try:
        import fastapi
    except ImportError as e:
        raise ImportError("the SPARQL endpoint needs FastAPI: pip install fastapi uvicorn") from e
    return fastapi


class SPARQLService:
    """What the endpoint serves: an rdflib Graph or Dataset, with ``store``
    bound to its vec: functions (see :func:`oxvec.sparql.bind`)."""

    def __init__(self, graph, store, *, allow_update=False, clusters: int | None = None) -> None:
        _require.rdflib()
        self.graph = graph
        self.binding = Binding(store, clusters)
        self.allow_update = allow_update

    def may_update(self, request) -> bool:
        a = self.allow_update
        return bool(a(request)) if callable(a) else bool(a)

    def query(self, text: str, accept: str):
        """(body bytes, media type) of a query's results."""
        text = _IDENTITY_VALUES.sub(" ", text)
        with ENGINE_LOCK:
            self.binding.activate()
            res = self.binding.query(self.graph, text)
            if res.type in ("CONSTRUCT", "DESCRIBE"):
                mt = _negotiate(accept, GRAPHS, "text/turtle")
                return res.graph.serialize(format=GRAPHS[mt], encoding="utf-8"), mt
            mt = _negotiate(accept, RESULTS, "application/sparql-results+json")
            return res.serialize(format=RESULTS[mt]), mt

    def update(self, text: str) -> None:
        with ENGINE_LOCK:
            self.binding.activate()
            with self.binding.functions:
                self.graph.update(text)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _negotiate(accept: str, table: dict, default: str) -> str:
    """The media type of table the Accept header prefers (q values
    honoured; */* and type/* match the default first)."""
    if not accept or not accept.strip():
        return default
    best, best_q = None, 0.0
    for i, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        mt, q = fields[0].lower(), 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if mt == "*/*":
            cand = default
        elif mt.endswith("/*"):
            cand = default if default.startswith(mt[:-1]) else next((t for t in table if t.startswith(mt[:-1])), None)
        else:
            cand = mt if mt in table else None
        if cand and q > best_q:
            best, best_q = cand, q
    if best is None:
        raise _BadRequest(406, f"no result format of {sorted(set(table))} is acceptable (Accept: {accept})")
    return best


def _operation(method: str, params: dict, content_type: str, body: bytes):
    """("query" | "update", text) of a protocol request."""
    if any(k in params for k in ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri")):
        raise _BadRequest(400, "this endpoint serves one dataset: default-graph-uri/named-graph-uri are not supported; "
                               "use FROM/GRAPH in the query")
    ct = content_type.split(";")[0].strip().lower()
    if method == "GET":
        if "query" not in params:
            raise _BadRequest(400, "give the query as ?query=... (SPARQL 1.1 Protocol)")
        return "query", params["query"]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadRequest(400, "the request body is not UTF-8") from None
    if ct == "application/sparql-query":
        return "query", text
    if ct == "application/sparql-update":
        return "update", text
    if ct == FORM:
        form = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
        if "query" in form and "update" in form:
            raise _BadRequest(400, "give query= or update=, not both")
        if "query" in form:
            return "query", form["query"]
        if "update" in form:
            return "update", form["update"]
        raise _BadRequest(400, "the form has neither query= nor update=")
    raise _BadRequest(400, f"POST a body of type application/sparql-query, application/sparql-update or {FORM}, "
                           f"not {ct or 'none'}")


async def respond(svc: SPARQLService, request, run=None):
    """The protocol's response to a Starlette request, served by svc.
    run(fn, *args) awaits fn on a worker thread (default: Starlette's pool;
    the server passes its own, which applies its request timeout)."""
    from pyparsing import ParseException
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response

    run = run or run_in_threadpool
    body = await request.body() if request.method == "POST" else b""
    try:
        params = {k: v for k, v in request.query_params.items() if k != "collection"}
        op, text = _operation(request.method, params, request.headers.get("content-type", ""), body)
        if op == "update":
            if not svc.may_update(request):
                raise _BadRequest(403, "this endpoint is read-only for this caller: updates need a key that allows writes")
            await run(svc.update, text)
            return Response(status_code=204)
        out, mt = await run(svc.query, text, request.headers.get("accept", ""))
        return Response(out, media_type=mt)
    except _BadRequest as e:
        return Response(str(e), status_code=e.status, media_type="text/plain")
    except PermissionDeniedError as e:  # the store refused the caller (a read-only key writing)
        return Response(f"permission denied: {e}", status_code=403, media_type="text/plain")
    except ParseException as e:
        return Response(f"malformed query: {e}", status_code=400, media_type="text/plain")
    except (ValueError, TypeError, LookupError) as e:
        return Response(f"query failed: {e}", status_code=400, media_type="text/plain")
    except Exception as e:
        if type(e).__module__.startswith("rdflib"):  # SPARQLError and its kin: the query's fault
            return Response(f"query failed: {e}", status_code=400, media_type="text/plain")
        raise


def router(graph, store, *, path: str = "/sparql", allow_update=False, clusters: int | None = None):
    """A FastAPI APIRouter serving the protocol at ``path`` (GET and POST)."""
    fastapi = _fastapi()

    svc = SPARQLService(graph, store, allow_update=allow_update, clusters=clusters)
    r = fastapi.APIRouter()

    async def handle(request):  # a plain Starlette route: the protocol parses its own parameters
        return await respond(svc, request)

    r.add_route(path, handle, methods=["GET", "POST"], include_in_schema=False)
    r.sparql = svc  # the service behind it, for tests and the server
    return r


def app(graph, store, **kw):
    """A standalone FastAPI app serving :func:`router` (run it with uvicorn)."""
    fastapi = _fastapi()
    a = fastapi.FastAPI(title="oxvec SPARQL endpoint")
    a.include_router(router(graph, store, **kw))
    return a
