"""Command line: ``python -m oxvec demo`` and ``python -m oxvec info``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oxvec", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="build an exact index on clustered data and measure it")
    demo.add_argument("--n", type=int, default=100_000, help="vectors in the index")
    demo.add_argument("--dim", type=int, default=128)
    demo.add_argument("--queries", type=int, default=1_000)
    demo.add_argument("--k", type=int, default=10)
    sub.add_parser("info", help="print versions and the engine's settings")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run

        return run(args.n, args.dim, args.queries, args.k)
    from . import __version__, engine_version, get_num_threads

    print(f"oxvec {__version__}, engine {engine_version()}, threads {get_num_threads()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
