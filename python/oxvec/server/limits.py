"""The request size limit, as ASGI middleware ahead of everything: a
declared Content-Length over the limit is refused before a byte is read,
and a chunked body is counted as it arrives."""

from __future__ import annotations

from .encode import dumps
from .problems import PROBLEM


class BodyTooLarge(Exception):
    pass


def _too_large(limit: int) -> bytes:
    return dumps({"type": "urn:oxvec:error:PayloadTooLarge", "title": "PayloadTooLarge", "status": 413,
                  "error": "PayloadTooLarge",
                  "detail": f"the request body is over the server's limit of {limit} bytes; send smaller batches "
                            "(oxvec serve --max-body-mb raises the limit)"})


class BodyLimit:
    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for k, v in scope.get("headers") or ():
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    return await refuse(send, self.limit)
        seen = 0
        started = False

        async def counted():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge()
            return msg

        async def tracked(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started:
                await refuse(send, self.limit)


async def refuse(send, limit: int) -> None:
    """Answer 413 for a body over limit bytes, and close the connection."""
    body = _too_large(limit)
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
