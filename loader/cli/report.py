"""`warehouse report invoices | chatbot | panel | detail | billing`: the five reports.

Each report is a function with explicit arguments (what the demo calls) and a thin handler that
passes the parsed options to it.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from types import ModuleType

import psycopg

from loader import db
from loader.cli import arguments
from loader.cli.output import OutputError, atomic_file, notice
from loader.reports import billing as billing_report
from loader.reports import chatbot as chatbot_report
from loader.reports import detail as detail_report
from loader.reports import invoices as invoice_report
from loader.reports import panel as panel_report
from loader.reports.notifications import WHATSAPP, find_customer, normalized_channel
from loader.settings import Settings


def invoices(settings: Settings, *, reference_month: date | None = None, output_format: str = "text") -> int:
    with db.connect(settings) as conn:
        month = reference_month or invoice_report.default_reference_month(conn)
        rows = invoice_report.fetch(conn, month)
    sys.stdout.write(invoice_report.render(rows, output_format))
    return 0


def chatbot(settings: Settings, *, flow: str | None = None, output_format: str = "text") -> int:
    if output_format == "csv" and flow is None:
        print("error: --format csv holds one flow: add --flow FLOW", file=sys.stderr)
        return 2
    with db.connect(settings) as conn:
        tables = chatbot_report.fetch(conn, flow)
    sys.stdout.write(chatbot_report.render(tables, output_format))
    return 0


def _customer_day(
    settings: Settings, report: ModuleType, customer: str | None, day: date | None, output_format: str
) -> int:
    """panel and billing: one day (default: the report's own) for one customer or every one."""
    with db.connect(settings) as conn:
        found = find_customer(conn, customer) if customer is not None else None
        day = day or report.default_date(conn)
        rows = report.fetch(conn, day, found)
        why = None if rows else report.why_empty(conn, day, found)
    sys.stdout.write(report.render(rows, output_format))
    if why is not None:
        notice(why, output_format)
    return 0


def panel(
    settings: Settings, *, customer: str | None = None, day: date | None = None, output_format: str = "text"
) -> int:
    return _customer_day(settings, panel_report, customer, day, output_format)


def billing(
    settings: Settings, *, customer: str | None = None, day: date | None = None, output_format: str = "text"
) -> int:
    return _customer_day(settings, billing_report, customer, day, output_format)


def detail(
    settings: Settings,
    *,
    customer: str,
    channel: str = WHATSAPP,
    start: datetime | None = None,
    end: datetime | None = None,
    output_format: str = "text",
    output: Path | None = None,
) -> int:
    with db.connect(settings) as conn:
        query = detail_report.DetailQuery(
            customer=find_customer(conn, customer),
            channel=normalized_channel(conn, channel),
            start=start,
            end=end,
        )
        export = detail_report.export_csv if output_format == "csv" else detail_report.export_text
        if output is None:
            written = export(conn, query, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            with atomic_file(output) as stream:
                written = export(conn, query, stream)
        if not written:
            notice(detail_report.why_empty(conn, query), output_format)
    return 0


def _reporting(
    handler: Callable[[Settings, argparse.Namespace], int],
) -> Callable[[Settings, argparse.Namespace], int]:
    """One line, no traceback, for what stops a report: --output not writable, or the marts it
    reads missing or broken (a failed or partial build)."""

    @functools.wraps(handler)
    def report_or_explain(settings: Settings, args: argparse.Namespace) -> int:
        try:
            return handler(settings, args)
        except OutputError as error:
            print(f"error: {error}", file=sys.stderr)
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn) as error:
            print(
                f"error: the report's models are not built ({error.diag.message_primary}):"
                " run `warehouse build` and check that it succeeds",
                file=sys.stderr,
            )
        except psycopg.DatabaseError as error:
            print(
                f"error: the database refused the report: {error.diag.message_primary or error}",
                file=sys.stderr,
            )
        return 1

    return report_or_explain


@_reporting
def cmd_invoices(settings: Settings, args: argparse.Namespace) -> int:
    return invoices(settings, reference_month=args.reference_month, output_format=args.format)


@_reporting
def cmd_chatbot(settings: Settings, args: argparse.Namespace) -> int:
    return chatbot(settings, flow=args.flow, output_format=args.format)


@_reporting
def cmd_panel(settings: Settings, args: argparse.Namespace) -> int:
    return panel(settings, customer=args.customer, day=args.date, output_format=args.format)


@_reporting
def cmd_billing(settings: Settings, args: argparse.Namespace) -> int:
    return billing(settings, customer=args.customer, day=args.date, output_format=args.format)


@_reporting
def cmd_detail(settings: Settings, args: argparse.Namespace) -> int:
    return detail(
        settings,
        customer=args.customer,
        channel=args.channel,
        start=args.start,
        end=args.end,
        output_format=args.format,
        output=args.output,
    )


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="print a report").add_subparsers(dest="report", required=True)

    invoices_parser = report.add_parser("invoices", help="rolling 3/6-month invoice averages")
    invoices_parser.add_argument(
        "--reference-month", type=arguments.month, help="YYYY-MM (default: after the latest)"
    )
    arguments.add_format(invoices_parser)
    invoices_parser.set_defaults(handler=cmd_invoices)

    chatbot_parser = report.add_parser("chatbot", help="chatbot answers: one row per conversation, per flow")
    chatbot_parser.add_argument("--flow", help="only this flow (required for csv)")
    arguments.add_format(chatbot_parser)
    chatbot_parser.set_defaults(handler=cmd_chatbot)

    panel_parser = report.add_parser("panel", help="WhatsApp notifications of a day per customer (live)")
    panel_parser.add_argument(
        "--customer", type=arguments.customer, help="customer id or name (default: every customer)"
    )
    panel_parser.add_argument("--date", type=arguments.day, help="YYYY-MM-DD (default: the watermark's day)")
    arguments.add_format(panel_parser)
    panel_parser.set_defaults(handler=cmd_panel)

    detail_parser = report.add_parser("detail", help="one customer's notifications, oldest first")
    detail_parser.add_argument(
        "--customer", required=True, type=arguments.customer, help="customer id or name"
    )
    detail_parser.add_argument(
        "--from", dest="start", type=arguments.timestamp, help="ISO timestamp, inclusive"
    )
    detail_parser.add_argument("--to", dest="end", type=arguments.timestamp, help="ISO timestamp, exclusive")
    detail_parser.add_argument("--channel", default=WHATSAPP, help="any spelling (default: WhatsApp)")
    arguments.add_format(detail_parser, detail_report.FORMATS)
    detail_parser.add_argument("--output", type=Path, help="write to FILE instead of stdout")
    detail_parser.set_defaults(handler=cmd_detail)

    billing_parser = report.add_parser("billing", help="daily WhatsApp billing per customer")
    billing_parser.add_argument(
        "--date", type=arguments.day, help="YYYY-MM-DD (default: the latest billed day)"
    )
    billing_parser.add_argument(
        "--customer", type=arguments.customer, help="customer id or name (default: every customer)"
    )
    arguments.add_format(billing_parser)
    billing_parser.set_defaults(handler=cmd_billing)
