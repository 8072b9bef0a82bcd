"""The hot path: a vector search with a binary body (raw float32 or .npy)
by a key whose session is open is served here, in front of the whole
ASGI stack - FastAPI's routing, dependencies and response machinery and
Starlette's and FastAPI's own middleware (error, telemetry, body limit),
which were most of a small search's server CPU (issue 22's profiles,
benchmarks/profile_server.py). It does itself what the middleware in
front of the route does for every other request: the HTTP metrics and
the "requests being served" count (httpmetrics.py), and it takes only
bodies whose declared length is within the size limit (limits.py); it runs the route's own code (rest.search_response:
parse, validate, service call, encode). Anything else - JSON bodies, a
key not yet seen, a body without a Content-Length or over the limit,
a cross-origin call when CORS is on, other routes - goes to the app
unchanged."""

from __future__ import annotations

from . import _deps  # noqa: F401 - first: a missing extra names its pip command

import logging
import re

from . import bodies
from .calls import Caller
from .problems import PROBLEM, problem
from .rest import search_response

log = logging.getLogger("oxvec.server")
_SEARCH = re.compile(r"^/v1/collections/([A-Za-z0-9][A-Za-z0-9_.\-]{0,63})/search$")
_BINARY = (bodies.NPY, bodies.RAW)
ROUTE = "/v1/collections/{name}/search"  # the metrics' route label, as the app's route has it


class FastSearch:
    """ASGI: the search fast path in front of app. metrics: the app's
    HTTPMetrics; max_body: its request size limit in bytes."""

    def __init__(self, app, service, timeout_s, metrics, max_body: int, cors: bool = False) -> None:
        self.app, self.service, self.timeout_s = app, service, timeout_s
        self.metrics, self.max_body, self.cors = metrics, max_body, cors

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        m = _SEARCH.match(scope["path"])
        if m is None:
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if bodies.media_type(headers) not in _BINARY or (self.cors and "origin" in headers):
            return await self.app(scope, receive, send)  # (the app's CORS middleware answers cross-origin calls)
        declared = headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > self.max_body:  # the app's BodyLimit answers
            return await self.app(scope, receive, send)
        scheme, _, key = headers.get("authorization", "").partition(" ")
        key = key.strip()
        principal = self.service.cached(key) if scheme.lower() == "bearer" and key else None
        if principal is None:  # the app answers 401 or opens the session
            return await self.app(scope, receive, send)
        t0 = self.metrics.begin()
        status = 500
        try:
            status = await self._serve(principal, key, m.group(1), headers, receive, send)
        finally:
            self.metrics.end("POST", ROUTE, status, t0)

    async def _serve(self, principal, key, name, headers, receive, send) -> int:
        """Read, search, answer; the status sent (0 if the client left)."""
        # the HTTP server delivers exactly the Content-Length checked above
        chunks, more = [], True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return 0
            chunks.append(msg.get("body", b""))
            more = msg.get("more_body", False)
        try:
            body = await search_response(self.service, self.timeout_s, Caller(principal, key), name,
                                         b"".join(chunks), headers)
            status, ctype, extra = 200, b"application/json", {}
        except Exception as e:  # noqa: BLE001 - every failure is a problem response, as in the app
            status, doc, extra = problem(e)
            if status == 500:
                log.error("internal error serving a search", exc_info=e)
            from .encode import dumps

            body, ctype = dumps(doc), PROBLEM.encode()
        hdrs = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
        hdrs += [(k.lower().encode(), str(v).encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": hdrs})
        await send({"type": "http.response.body", "body": body})
        return status
