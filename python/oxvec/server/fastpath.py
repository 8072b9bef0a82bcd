"""The hot path: a vector search with a binary body (raw float32 or .npy)
by a key whose session is open is served here, without FastAPI's routing,
dependency resolution and response machinery - the largest share of a
small search's server CPU (benchmarks/profile_server.py). It runs the same
code as the route (rest.search_response: parse, validate, service call,
encode); anything else - JSON bodies, a key not yet seen, other routes -
goes on to the app unchanged."""

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


class _Route:
    """What the metrics middleware reads of a matched route."""

    path = "/v1/collections/{name}/search"


_ROUTE = _Route()


class FastSearch:
    def __init__(self, app, service, timeout_s) -> None:
        self.app, self.service, self.timeout_s = app, service, timeout_s

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        m = _SEARCH.match(scope["path"])
        if m is None:
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if bodies.media_type(headers) not in _BINARY:
            return await self.app(scope, receive, send)
        scheme, _, key = headers.get("authorization", "").partition(" ")
        key = key.strip()
        principal = self.service.cached(key) if scheme.lower() == "bearer" and key else None
        if principal is None:  # the app answers 401 or opens the session
            return await self.app(scope, receive, send)
        scope["route"] = _ROUTE
        chunks, more = [], True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunks.append(msg.get("body", b""))
            more = msg.get("more_body", False)
        try:
            body = await search_response(self.service, self.timeout_s, Caller(principal, key), m.group(1),
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
