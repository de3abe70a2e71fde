"""`warehouse run | status | bill`: the service, its health, and billing a day by hand."""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import psycopg

from loader import db, dbt, ops, status
from loader import service as warehouse_service
from loader.cli import arguments
from loader.cli.signals import stop_on_signals
from loader.reports import billing as billing_report
from loader.reports import formatting
from loader.reports import panel as panel_report
from loader.settings import Settings


def bill(settings: Settings, billing_date: date | None = None) -> int:
    """(Re)bill a day, the last day the watermark closed by default, after catching up the models
    billing reads (the minutely rollup, the views, the price seeds); then the billing's own tests.
    Recorded in the service's run history (ops.dbt_runs)."""
    invoke = partial(dbt.invoke, settings)
    with db.connect(settings, autocommit=True) as conn:
        db.migrate(conn, timescale=settings.is_timescale)
        if billing_date is None:
            minutely = ["run", "--quiet", "--select", "tag:minutely"]
            if not ops.record_run(conn, "minutely", "tag:minutely", partial(invoke, minutely)).is_success:
                return 1
            billing_date = panel_report.default_date(conn) - timedelta(days=1)
        if not ops.bill_day(conn, invoke, billing_date).is_success:
            return 1
        rows = billing_report.fetch(conn, billing_date)
    total = sum((row.amount_brl for row in rows), start=Decimal(0))
    print(f"billed {billing_date}: {len(rows)} customers, {formatting.brl(total)}")
    return 0


def cmd_bill(settings: Settings, args: argparse.Namespace) -> int:
    return bill(settings, args.date)


def cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    try:
        return warehouse_service.run(settings, stop_on_signals())
    except psycopg.OperationalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    try:
        with db.connect(settings, autocommit=True, connect_timeout=10) as conn:
            if args.check:
                healthy, reason = status.check(conn, settings)
                print(f"{'healthy' if healthy else 'unhealthy'}: {reason}")
                return 0 if healthy else 1
            sys.stdout.write(status.render(status.fetch(conn, settings), settings.kafka.topic))
    except (psycopg.OperationalError, db.WarehouseNotRunning) as error:
        print(f"{'unhealthy: ' if args.check else 'error: '}database unreachable: {error}", file=sys.stderr)
        return 1
    except psycopg.errors.UndefinedTable as error:
        print(f"error: {error.diag.message_primary}: `warehouse up` creates the ops schema", file=sys.stderr)
        return 1
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    bill_parser = commands.add_parser("bill", help="run the minutely models, then (re)bill a day")
    bill_parser.add_argument(
        "--date", type=arguments.day, help="YYYY-MM-DD (default: the last day the watermark closed)"
    )
    bill_parser.set_defaults(handler=cmd_bill)

    commands.add_parser(
        "run", help="the service: load Kafka continuously, run the minutely dbt models, bill closed days"
    ).set_defaults(handler=cmd_run)

    status_parser = commands.add_parser(
        "status", help="watermark, lag per partition, last dbt runs, billing days, dead letters"
    )
    status_parser.add_argument(
        "--check", action="store_true", help="health check: exit 1 unless a minutely dbt run succeeded lately"
    )
    status_parser.set_defaults(handler=cmd_status)
