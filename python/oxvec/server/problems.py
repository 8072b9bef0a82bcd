"""Errors as RFC 9457 problem details: every failure the server returns is
application/problem+json with the oxvec error class, its message and the
HTTP status that class means."""

from __future__ import annotations

import math

from .. import _errors as E

PROBLEM = "application/problem+json"


class HTTPProblem(Exception):
    """A failure of the HTTP layer itself (no key, a bad body, too big)."""

    def __init__(self, status: int, error: str, detail: str, headers: dict | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers or {}


# most specific first: DimensionError is an InvalidArgumentError
_STATUS = [
    (E.DimensionError, 422),
    (E.InvalidArgumentError, 400),
    (E.UnsupportedError, 400),
    (E.NotFoundError, 404),
    (E.DuplicateIdError, 409),
    (E.StateError, 409),
    (E.QuotaExceededError, 403),
    (E.RateLimitedError, 429),
    (E.CanceledError, 503),
    (E.MemoryLimitError, 503),
    (E.InvalidHandleError, 503),  # a store closed under a request: shutting down
    (E.ClosedError, 503),
    (E.StorageError, 503),
]


def status_of(e: BaseException) -> int:
    """The HTTP status of an exception a service call raised."""
    if isinstance(e, HTTPProblem):
        return e.status
    if isinstance(e, E.PermissionDeniedError):
        # a key that opens no session (unknown, wrong, revoked, expired):
        # 401; a valid key whose role lacks the permission: 403
        return 401 if "API key is" in str(e) else 403
    for cls, status in _STATUS:
        if isinstance(e, cls):
            return status
    if isinstance(e, (TypeError, ValueError, LookupError)):
        return 400
    return 500


def problem(e: BaseException) -> tuple[int, dict, dict]:
    """(status, problem body, extra headers) of an exception."""
    status = status_of(e)
    headers: dict = {}
    if isinstance(e, HTTPProblem):
        error, detail = e.error, e.detail
        headers.update(e.headers)
    elif status == 500:
        error, detail = "InternalError", f"internal error ({type(e).__name__}); the server log has the details"
    else:
        error = type(e).__name__ if isinstance(e, E.Error) else ("InvalidArgumentError" if status == 400 else type(e).__name__)
        detail = str(e)
    if isinstance(e, E.RateLimitedError):
        wait = e.retry_after if e.retry_after is not None else 1.0
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="oxvec"'
    body = {"type": f"urn:oxvec:error:{error}", "title": error, "status": status, "detail": detail, "error": error}
    if isinstance(e, E.QuotaExceededError) and e.limit:
        body.update(limit=e.limit, use=e.use, limit_value=e.limit_value)
    if isinstance(e, E.RateLimitedError) and e.retry_after is not None:
        body["retry_after"] = e.retry_after
    return status, body, headers
