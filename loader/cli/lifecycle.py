"""`warehouse up | down | env | build | exec`: the warehouse's servers, schema and dbt deployment."""

from __future__ import annotations

import argparse
import logging
import shlex
import subprocess
import sys

from loader import broker, db, dbt, embedded
from loader.settings import Settings

log = logging.getLogger("warehouse")

# The dbt target of a TimescaleDB server (profiles/profiles.yml).
TIMESCALE_TARGET = "timescale"


def up(settings: Settings) -> int:
    """Start the embedded servers (unless external ones are configured), apply the raw schema and
    the read-only roles (BI, portal), make sure the topic exists."""
    if settings.is_embedded:
        server_dsn = embedded.start(settings.home)
        log.info("embedded PostgreSQL running: %s", db.without_password(server_dsn))
    with db.connect(settings) as conn:
        db.migrate(conn, timescale=settings.is_timescale)
        db.ensure_bi_reader(conn, db.bi_reader_password(settings))
        db.ensure_portal_reader(conn, db.portal_reader_password(settings))
        for partition in db.maintain_partitions(conn, settings):
            log.info("dropped %s: older than its retention", partition)
    log.info("raw schema and the %s and %s roles ready", db.BI_READER_ROLE, db.PORTAL_READER_ROLE)
    bootstrap = broker.start_for(settings)
    log.info("Kafka ready: %s, topic %s", bootstrap, settings.kafka.topic)
    if settings.dbt_target == TIMESCALE_TARGET:
        # hypertable, compression and retention for the raw events (macros/timescale/)
        return 0 if dbt.invoke(settings, ["run-operation", "timescale_setup_raw"]) else 1
    return 0


def build(settings: Settings, dbt_args: list[str]) -> int:
    return 0 if dbt.invoke(settings, ["build", *dbt_args]) else 1


def cmd_up(settings: Settings, _args: argparse.Namespace) -> int:
    return up(settings)


def down(settings: Settings, *, purge: bool = False) -> int:
    """Stop the embedded servers of WAREHOUSE_HOME, whatever WAREHOUSE_DSN and KAFKA_BOOTSTRAP_SERVERS
    point at (after `eval "$(warehouse env)"` they point at these very servers); servers those
    variables name are never touched."""
    broker.stop(settings.home, purge=purge)
    embedded.stop(settings.home, purge=purge)
    if not (settings.is_embedded and settings.kafka.is_embedded):
        log.info(
            "stopped the embedded servers of %s;"
            " the servers WAREHOUSE_DSN / KAFKA_BOOTSTRAP_SERVERS name are not touched",
            settings.home,
        )
    return 0


def cmd_down(settings: Settings, args: argparse.Namespace) -> int:
    return down(settings, purge=args.purge)


def cmd_env(settings: Settings, _args: argparse.Namespace) -> int:
    print(f"WAREHOUSE_DSN={shlex.quote(db.resolve_dsn(settings))}")
    # Commands run with WAREHOUSE_DSN set know the embedded server's reader passwords only from here.
    for name, password in [
        ("BI_READER_PASSWORD", db.bi_reader_password(settings)),
        ("PORTAL_READER_PASSWORD", db.portal_reader_password(settings)),
    ]:
        if password is not None:
            print(f"{name}={shlex.quote(password)}")
    try:
        print(f"KAFKA_BOOTSTRAP_SERVERS={shlex.quote(broker.resolve_bootstrap(settings))}")
    except broker.BrokerNotRunning as error:
        print(f"# {error}", file=sys.stderr)
    return 0


def cmd_build(settings: Settings, args: argparse.Namespace) -> int:
    return build(settings, args.dbt_args)


def cmd_exec(settings: Settings, args: argparse.Namespace) -> int:
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise SystemExit("usage: warehouse exec -- COMMAND [ARGS...]")
    return subprocess.run(argv, env=dbt.environment(settings), check=False).returncode


def register(commands: argparse._SubParsersAction) -> None:
    commands.add_parser("up", help="start the embedded warehouse (unless WAREHOUSE_DSN is set)").set_defaults(
        handler=cmd_up
    )
    down = commands.add_parser("down", help="stop the embedded warehouse")
    down.add_argument("--purge", action="store_true", help="also delete its data")
    down.set_defaults(handler=cmd_down)
    commands.add_parser("env", help="print shell-sourceable connection settings").set_defaults(
        handler=cmd_env
    )
    # dbt's own options (--select, --full-refresh, ...) pass through untouched: see main().
    build_parser = commands.add_parser(
        "build", help="dbt build against the current warehouse; other arguments go to dbt (--select ...)"
    )
    build_parser.set_defaults(handler=cmd_build, dbt_args=[], passes_unknown_args=True)
    run_exec = commands.add_parser("exec", help="run a command (dbt, sqlfluff, psql) with the warehouse env")
    run_exec.add_argument("argv", nargs=argparse.REMAINDER)
    run_exec.set_defaults(handler=cmd_exec)
