"""Command line: ``python -m oxvec demo``, ``info``, ``serve`` and ``keys``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oxvec", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="search the standard library's docstrings by keyword, meaning and both")
    demo.add_argument("--query", action="append", help="a question to ask (repeatable; default: a built-in list)")
    demo.add_argument("--modules", help="comma-separated modules to index (default: the whole standard library)")
    demo.add_argument("--store", help="where to keep the store (default: a cache directory)")
    demo.add_argument("--rebuild", action="store_true", help="embed and index afresh even when a cached store matches")
    sub.add_parser("info", help="print versions and the engine's settings")
    _server_commands(sub)
    args = parser.parse_args(argv)
    if args.command in ("serve", "keys"):
        from .server.cli import run as run_server

        try:
            return run_server(args)
        except ImportError as e:
            print(f"python -m oxvec {args.command}: {e}", file=sys.stderr)
            return 2
    if args.command == "demo":
        from ._demo import run

        return run(args.query, args.modules.split(",") if args.modules else None, args.rebuild, args.store)
    from . import __version__, engine_version, get_num_threads

    print(f"oxvec {__version__}, engine {engine_version()}, threads {get_num_threads()}")
    return 0


def _server_commands(sub) -> None:
    """serve and keys, defined with the server (its web stack is imported
    only by serve, which names the extra when it is missing)."""
    from .server.cli import add_commands

    add_commands(sub)


if __name__ == "__main__":
    sys.exit(main())
