"""oxvec's server: ``oxvec serve --data DIR`` (docs/server.md).

REST under /v1 (FastAPI, OpenAPI at /openapi.json), GraphQL at /graphql
(strawberry), Prometheus metrics at /metrics, /healthz, /readyz and a
dashboard at /, over a tenancy Database; every request runs in the session
of its API key. Needs the extra: pip install 'oxvec[server]' (the
``oxvec keys`` command does not).

>>> from oxvec.server import create_app, Service      # doctest: +SKIP
>>> app = create_app(Service(oxvec.Database("/srv/vectors")))
"""

__all__ = ["Service", "create_app"]


def __getattr__(name: str):
    # the web stack is imported on first use, so `oxvec keys` (and
    # oxvec.server.cli) work without the extra
    if name in __all__:
        from . import _deps  # noqa: F401  (the ImportError naming the extra)
        from .app import create_app
        from .service import Service

        return {"create_app": create_app, "Service": Service}[name]
    raise AttributeError(f"module 'oxvec.server' has no attribute {name!r}")
