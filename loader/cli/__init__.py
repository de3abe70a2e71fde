"""`warehouse`: run the embedded warehouse, load inputs, build with dbt, print reports.

The root parser and the error handling common to every command live here; each command group
(lifecycle, load, report, service, portal, demo) keeps its parsers beside its handlers in a module of
its own, registered in GROUPS.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

import psycopg

from loader import db
from loader.cli import demo, lifecycle, load, portal, report, service
from loader.settings import Settings

GROUPS = (lifecycle, load, report, service, portal, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="warehouse", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # Commands that hand their own options to dbt (`build --select ...`) take unknown arguments.
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if not getattr(args, "passes_unknown_args", False):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.dbt_args = unknown
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # kafka-python narrates every connection at INFO
    logging.getLogger("kafka").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    settings = Settings.from_env()
    try:
        return int(args.handler(settings, args))
    except BrokenPipeError:
        return _stdout_closed()
    except (db.WarehouseNotRunning, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except psycopg.Error as error:  # refused or lost connection, a role without the privilege
        if args.verbose:
            raise
        print(
            f"error: the warehouse's database: {str(error).strip()} (--verbose: the traceback)",
            file=sys.stderr,
        )
        return 1


def _stdout_closed() -> int:
    """The reader of stdout went away (`warehouse report ... | head -1`): stop quietly with the status
    of a process SIGPIPE ended; stdout goes to /dev/null so Python's last flush cannot fail again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
