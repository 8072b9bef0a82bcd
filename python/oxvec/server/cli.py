"""The command line of the server: ``oxvec serve`` and ``oxvec keys``.

Both hold ``<data>/SERVER.lock`` while they have the database open: the
catalog belongs to one process at a time, so ``oxvec keys`` on the
directory of a running server is refused (a running server makes keys
through POST /v1/keys instead).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys

LOCK = "SERVER.lock"


@contextlib.contextmanager
def exclusive(data: str):
    """Hold the data directory's lock, or exit with a message."""
    os.makedirs(data, exist_ok=True)
    f = open(os.path.join(data, LOCK), "a+")
    try:
        try:
            import fcntl

            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # no flock on this platform: the stores' own locks still apply
            pass
        except OSError:
            raise SystemExit(f"oxvec: {data} is in use by another oxvec process (a running `oxvec serve`?); "
                             "stop it, or make keys through its POST /v1/keys")
        yield
    finally:
        f.close()


def add_commands(sub) -> None:
    """The serve and keys subcommands, on oxvec's argparse subparsers."""
    serve = sub.add_parser("serve", help="serve a database over HTTP (REST, GraphQL, metrics, dashboard)")
    serve.add_argument("--data", required=True, help="the database directory (created if missing)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: loopback only)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--backup-dir", help="where backup requests write (default: <data>/../<data name>-backups)")
    serve.add_argument("--timeout", type=float, default=30.0, help="seconds a request's search may take before it is cancelled (0: none)")
    serve.add_argument("--max-body-mb", type=float, default=64.0, help="request size limit in MiB")
    serve.add_argument("--cors-origin", action="append", help="allow this origin (repeatable); CORS is off by default")
    serve.add_argument("--durability", default="always", choices=("always", "interval", "never"))
    serve.add_argument("--ready-max-latency-ms", type=float, help="/readyz fails while a collection's search p99 is above this")
    serve.add_argument("--ready-max-memory-percent", type=float, help="... or its memory is above this share of the limit")
    serve.add_argument("--ready-min-recall", type=float, help="... or its estimated recall is below this")
    serve.add_argument("--ready-max-error-rate", type=float, help="... or its error rate is above this")
    serve.add_argument("--inline-searches", default="auto", choices=("auto", "always", "alone"),
                       help="cheap vector searches run on the event loop: always, or only when no other request is "
                            "being served (alone); auto: always on up to 2 cores, alone above (docs/server.md)")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--no-access-log", action="store_true", help="no line per request")

    keys = sub.add_parser("keys", help="create, list and revoke API keys of a database directory")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    create = ksub.add_parser("create", help="make a key and print its secret (shown only now)")
    create.add_argument("--data", required=True)
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--tenant", help="the key's tenant")
    who.add_argument("--operator", action="store_true", help="an operator key (administers tenants, reads no data)")
    create.add_argument("--role", default="reader", help="reader, writer, admin or a custom role (default reader)")
    create.add_argument("--name", help="the key's name (default: a random one)")
    create.add_argument("--max-qps", type=float, help="the key's own rate limit")
    create.add_argument("--burst", type=int)
    create.add_argument("--create-tenant", action="store_true", help="create --tenant first if it does not exist")
    lst = ksub.add_parser("list", help="list keys (never their secrets) as JSON lines")
    lst.add_argument("--data", required=True)
    lwho = lst.add_mutually_exclusive_group(required=True)
    lwho.add_argument("--tenant")
    lwho.add_argument("--operator", action="store_true")
    rev = ksub.add_parser("revoke", help="revoke a key by name or id")
    rev.add_argument("--data", required=True)
    rwho = rev.add_mutually_exclusive_group(required=True)
    rwho.add_argument("--tenant")
    rwho.add_argument("--operator", action="store_true")
    rev.add_argument("key", help="the key's name or id")


def run(args) -> int:
    if args.command == "serve":
        return serve(args)
    return keys(args)


def keys(args) -> int:
    from .._errors import Error, NotFoundError
    from .._tenant import Database

    with exclusive(args.data):
        db = Database(args.data)
        try:
            tenant = None if args.operator else args.tenant
            if args.keys_command == "create":
                if getattr(args, "create_tenant", False) and tenant:
                    try:
                        db.tenant(tenant)
                    except NotFoundError:
                        db.create_tenant(tenant)
                print(db.create_api_key(tenant, role="operator" if args.operator else args.role, name=args.name,
                                        max_qps=args.max_qps, burst=args.burst))
            elif args.keys_command == "list":
                for k in db.api_keys(tenant):
                    print(json.dumps(k))
            else:
                db.revoke_api_key(tenant, args.key)
        except Error as e:
            print(f"oxvec keys: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        finally:
            db.close()
    return 0


def serve(args) -> int:
    from . import _deps  # noqa: F401  (the ImportError naming the extra)
    import uvicorn

    from .._tenant import Database
    from .app import create_app
    from .service import Service

    data = os.path.abspath(args.data)
    backups = os.path.abspath(args.backup_dir) if args.backup_dir else data.rstrip(os.sep) + "-backups"
    log = logging.getLogger("oxvec.server")
    with exclusive(data):
        db = Database(data, durability=args.durability)
        service = Service(db, backup_root=backups)
        app = create_app(service, timeout_s=args.timeout or None, max_body=int(args.max_body_mb * (1 << 20)),
                         inline_searches=args.inline_searches,
                         cors_origins=args.cors_origin,
                         ready={"max_latency_ms": args.ready_max_latency_ms,
                                "max_memory_percent": args.ready_max_memory_percent,
                                "min_recall": args.ready_min_recall, "max_error_rate": args.ready_max_error_rate})
        config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level,
                                access_log=not args.no_access_log, timeout_graceful_shutdown=30,
                                server_header=False)
        server = uvicorn.Server(config)
        # uvicorn re-raises the signal that stopped it once it has shut
        # down, to whatever handler was there before: make that one a
        # no-op, so the database below is closed rather than the process
        # killed with its stores open
        stopped_by = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, frame: stopped_by.append(signum))
        try:
            # uvicorn handles SIGTERM and SIGINT: it stops accepting, lets
            # requests in flight finish, then returns here
            server.run()
        finally:
            app.state.draining = True
            service.close()  # every store closes cleanly (a snapshot when its log is long)
            log.info("oxvec: database %s closed", data)
            print(f"oxvec serve: closed {data} cleanly", file=sys.stderr, flush=True)
    return 0 if server.started else 1
