"""oxvec's server: ``oxvec serve --data DIR`` (docs/server.md).

REST under /v1 (FastAPI, OpenAPI at /openapi.json), GraphQL at /graphql
(strawberry), Prometheus metrics at /metrics, /healthz, /readyz and a
dashboard at /, over a tenancy Database; every request runs in the session
of its API key. Needs the extra: pip install 'oxvec[server]'.

>>> from oxvec.server import create_app, Service      # doctest: +SKIP
>>> app = create_app(Service(oxvec.Database("/srv/vectors")))
"""

from . import _deps  # noqa: F401  (the ImportError naming the extra)
from .app import create_app
from .service import Service

__all__ = ["Service", "create_app"]
