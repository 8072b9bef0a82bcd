"""The ASGI application: REST (/v1), GraphQL (/graphql), /metrics,
/healthz, /readyz and the dashboard (/), over one Service."""

from __future__ import annotations

from . import _deps  # noqa: F401 - first: a missing extra names its pip command

import functools
import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from .._errors import Error
from . import encode
from .httpmetrics import HTTPMetrics, MetricsMiddleware
from .limits import BodyLimit
from .problems import PROBLEM, HTTPProblem, problem
from .service import Service

log = logging.getLogger("oxvec.server")
DEFAULT_MAX_BODY = 64 << 20
DEFAULT_TIMEOUT_S = 30.0


def _problem_response(e: BaseException) -> Response:
    status, body, headers = problem(e)
    if status == 500:
        log.error("internal error serving a request", exc_info=e)
    return Response(encode.dumps(body), status_code=status, media_type=PROBLEM, headers=headers)


def engine_metrics() -> str:
    """The engine's own exposition (oxvec.metrics_text), when this build has it."""
    import oxvec

    text = getattr(oxvec, "metrics_text", None)
    return text() if text is not None else ""


class _App(FastAPI):
    """FastAPI with the search fast path (fastpath.py) in front of its
    whole middleware stack, Starlette's and FastAPI's own included."""

    fast = None

    async def __call__(self, scope, receive, send):
        if self.fast is None:
            return await super().__call__(scope, receive, send)
        return await self.fast(scope, receive, send)


def create_app(service: Service, *, timeout_s: float | None = DEFAULT_TIMEOUT_S, max_body: int = DEFAULT_MAX_BODY,
               cors_origins: list[str] | None = None, graphql: bool = True, ready: dict | None = None,
               inline_searches: str = "auto") -> FastAPI:
    """The server's app over service. timeout_s: each request's engine
    time before it is cancelled (None: no limit); max_body: bytes; CORS is
    off unless cors_origins names origins; ready: the health thresholds
    /readyz applies to every collection (Database.health's arguments);
    inline_searches: when cheap searches run on the event loop, "auto",
    "always" or "alone" (inline.py; it is the process's setting)."""
    from . import dashboard, rest

    app = _App(title="oxvec", version=__version__,
                  description="oxvec's vector store over HTTP: tenants, collections, records and search. "
                              "Authenticate with `Authorization: Bearer <API key>`. Errors are "
                              "application/problem+json with the oxvec error class (docs/server.md).")
    from .inline import costs, resolve

    costs.mode = resolve(inline_searches)
    app.state.service = service
    app.state.timeout_s = timeout_s
    app.state.http_metrics = metrics = HTTPMetrics()
    app.state.draining = False

    @app.exception_handler(HTTPProblem)
    async def _http_problem(request: Request, e: HTTPProblem):
        return _problem_response(e)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, e: RequestValidationError):
        errs = [{"loc": list(x.get("loc", ())), "msg": x.get("msg", "")} for x in e.errors()[:20]]
        detail = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in errs[:5])
        body = {"type": "urn:oxvec:error:ValidationError", "title": "ValidationError", "status": 422,
                "error": "ValidationError", "detail": f"the request is not valid: {detail}", "errors": errs}
        return Response(encode.dumps(body), status_code=422, media_type=PROBLEM)

    @app.exception_handler(StarletteHTTPException)
    async def _starlette(request: Request, e: StarletteHTTPException):
        names = {404: "NotFound", 405: "MethodNotAllowed"}
        p = HTTPProblem(e.status_code, names.get(e.status_code, "HTTPError"), str(e.detail), dict(e.headers or {}))
        return _problem_response(p)

    async def _failed(request: Request, e: Exception):
        return _problem_response(e)

    # the classes a service call raises for a bad request; anything else
    # reaches Starlette's last-resort handler as a 500 (and is logged)
    for cls in (Error, ValueError, TypeError, LookupError):
        app.add_exception_handler(cls, _failed)
    app.add_exception_handler(Exception, _failed)

    app.include_router(rest.router())
    if graphql:
        from .gql import graphql_router

        app.include_router(graphql_router(), prefix="/graphql", include_in_schema=False)
    app.include_router(dashboard.router())
    from . import sparql  # SPARQL per collection (issue 23); rdflib is imported on first use

    app.include_router(sparql.router())

    @app.get("/healthz", tags=["operations"], summary="Alive")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Ready: the database and its stores are open",
             responses={503: {"description": "not ready"}})
    async def readyz():
        ok, reasons = True, []
        if app.state.draining or service.closed:
            ok, reasons = False, ["shutting down"]
        else:
            try:
                health = service.db.health(**(ready or {}))  # fails once the database is closed
            except Exception as e:  # noqa: BLE001 - any failure means not ready
                ok, reasons = False, [f"database: {type(e).__name__}: {e}"]
            else:
                for name, h in sorted(health["collections"].items()):
                    reasons += [f"{name}: {r}" for r in h["reasons"]]
                ok = health["status"] == "ok"
        body = {"status": "ready" if ok else "not ready", "reasons": reasons}
        return Response(encode.dumps(body), status_code=200 if ok else 503, media_type="application/json")

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics: the engine's and the HTTP layer's",
             response_class=Response, responses={200: {"content": {"text/plain": {}}}})
    async def prometheus():
        text = engine_metrics()
        if text and not text.endswith("\n"):
            text += "\n"
        return Response(text + metrics.text(), media_type="text/plain; version=0.0.4; charset=utf-8")

    # added innermost first: every request is timed, then the size limit
    # applies; binary searches of known keys are served in front of all of
    # it (the fast path, _App.__call__)
    app.add_middleware(BodyLimit, limit=max_body)
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=cors_origins, allow_methods=["*"],
                           allow_headers=["Authorization", "Content-Type", "X-Oxvec-Shape", "X-Oxvec-Request",
                                          "X-Oxvec-Request-Length"])
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    from .fastpath import FastSearch

    app.fast = FastSearch(functools.partial(FastAPI.__call__, app), service, timeout_s, metrics, max_body,
                          cors=bool(cors_origins))
    return app
