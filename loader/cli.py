"""`warehouse`: run the embedded warehouse, load inputs, build with dbt, print reports."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from types import FrameType, ModuleType

import psycopg
from kafka.errors import KafkaError

from loader import PROJECT_DIR, broker, db, dbt, demo, embedded, generator, ops, service, status
from loader.progress import ProgressBar
from loader.reports import billing as billing_report
from loader.reports import chatbot as chatbot_report
from loader.reports import detail as detail_report
from loader.reports import formatting
from loader.reports import invoices as invoice_report
from loader.reports import panel as panel_report
from loader.reports.notifications import WHATSAPP, find_customer, normalized_channel
from loader.settings import Settings
from loader.sources import chatbot as chatbot_source
from loader.sources import invoices as invoice_source
from loader.sources import kafka as kafka_source
from loader.sources.files import FileLoad, InputError

log = logging.getLogger("warehouse")

SAMPLE_INVOICES = PROJECT_DIR / "data" / "invoices" / "invoices.csv"
SAMPLE_CHATBOT = sorted((PROJECT_DIR / "data" / "chatbot").glob("hour=*.json"))
# The dbt target of a TimescaleDB server (profiles/profiles.yml).
TIMESCALE_TARGET = "timescale"


def cmd_up(settings: Settings, _args: argparse.Namespace) -> int:
    if settings.is_embedded:
        server_dsn = embedded.start(settings.home)
        log.info("embedded PostgreSQL running: %s", server_dsn)
    with db.connect(settings) as conn:
        db.migrate(conn)
        db.ensure_bi_reader(conn, settings.bi_reader_password)
    log.info("raw schema and the %s role ready", db.BI_READER_ROLE)
    bootstrap = broker.start_for(settings)
    log.info("Kafka ready: %s, topic %s", bootstrap, settings.kafka.topic)
    if settings.dbt_target == TIMESCALE_TARGET:
        # hypertable, compression and retention for the raw events (macros/timescale/)
        return 0 if dbt.invoke(settings, ["run-operation", "timescale_setup_raw"]) else 1
    return 0


def cmd_down(settings: Settings, args: argparse.Namespace) -> int:
    if settings.kafka.is_embedded:
        broker.stop(settings.home, purge=args.purge)
    if not settings.is_embedded:
        log.info("WAREHOUSE_DSN is set: no embedded PostgreSQL to stop")
        return 0
    embedded.stop(settings.home, purge=args.purge)
    return 0


def cmd_env(settings: Settings, _args: argparse.Namespace) -> int:
    print(f"WAREHOUSE_DSN={shlex.quote(db.resolve_dsn(settings))}")
    try:
        print(f"KAFKA_BOOTSTRAP_SERVERS={shlex.quote(broker.resolve_bootstrap(settings))}")
    except broker.BrokerNotRunning as error:
        print(f"# {error}", file=sys.stderr)
    return 0


def cmd_build(settings: Settings, args: argparse.Namespace) -> int:
    return 0 if dbt.invoke(settings, ["build", *args.dbt_args]) else 1


def cmd_exec(settings: Settings, args: argparse.Namespace) -> int:
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise SystemExit("usage: warehouse exec -- COMMAND [ARGS...]")
    return subprocess.run(argv, env=dbt.environment(settings), check=False).returncode


def _load_files(settings: Settings, paths: Sequence[Path], load: Callable[..., FileLoad]) -> int:
    failures = 0
    with db.connect(settings) as conn:
        db.migrate(conn)
        for path in paths:
            try:
                print(load(conn, path).describe())
            except (InputError, OSError) as error:
                failures += 1
                print(f"error: {error}", file=sys.stderr)
    return 1 if failures else 0


def cmd_load_invoices(settings: Settings, args: argparse.Namespace) -> int:
    return _load_files(settings, args.files, invoice_source.load)


def cmd_load_chatbot(settings: Settings, args: argparse.Namespace) -> int:
    return _load_files(settings, args.files, chatbot_source.load)


def _stop_on_signals() -> threading.Event:
    """SIGINT/SIGTERM ask the loader to finish (or roll back) its batch and exit 0; a second
    SIGINT interrupts at once."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping after the current batch", signal.Signals(signum).name)
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop


def _show_progress(bar: ProgressBar, stats: kafka_source.LoaderStats) -> None:
    lag = sum(stats.lag().values())
    detail = f"msgs, {stats.rate:,.0f} msg/s, {stats.rejected:,} rejected, lag {lag:,}"
    bar.update(stats.messages, stats.messages + lag, detail, force=lag == 0)


def cmd_load_kafka(settings: Settings, args: argparse.Namespace) -> int:
    with db.connect(settings) as conn:
        db.migrate(conn)
    stop = _stop_on_signals()
    bar = ProgressBar() if args.until_idle is not None and sys.stderr.isatty() else None
    if bar is not None:
        for handler in logging.getLogger().handlers:
            handler.addFilter(bar.clear_line)
    try:
        with closing(
            kafka_source.KafkaLoader.from_settings(settings, topic=args.topic, group_id=args.group)
        ) as loader:
            stats = loader.run(
                stop,
                until_idle=args.until_idle,
                max_messages=args.max_messages,
                progress=None if bar is None else partial(_show_progress, bar),
            )
            if bar is not None:
                bar.close()  # before the loader says goodbye in the log
    except (kafka_source.LoaderError, KafkaError, psycopg.OperationalError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if bar is not None:
            bar.close()
    print(f"{loader.topic}: {stats.describe()}")
    return 0


def cmd_generate(settings: Settings, args: argparse.Namespace) -> int:
    if (args.rate is None) != (args.duration is None):
        raise SystemExit("warehouse generate: give --count N, or --rate R with --duration S")
    mix = generator.EventMix(
        customers=args.customers,
        duplicate_rate=args.duplicate_rate,
        malformed_rate=args.malformed_rate,
        late_rate=args.late_rate,
        start=args.start,
        seed=args.seed,
    )
    topic = args.topic or settings.kafka.topic
    report = generator.generate(
        broker.resolve_bootstrap(settings),
        topic,
        mix,
        count=args.count,
        rate=args.rate,
        duration=args.duration,
    )
    print(f"{topic}: {report.describe()}")
    return 0


def _fraction(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not a fraction between 0 and 1")
    return number


def _start_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO date or date-time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _month(value: str) -> date:
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a month (YYYY-MM)") from None


def cmd_report_invoices(settings: Settings, args: argparse.Namespace) -> int:
    with db.connect(settings) as conn:
        reference_month = args.reference_month or invoice_report.default_reference_month(conn)
        rows = invoice_report.fetch(conn, reference_month)
    sys.stdout.write(invoice_report.render(rows, args.format))
    return 0


def cmd_report_chatbot(settings: Settings, args: argparse.Namespace) -> int:
    if args.format == "csv" and args.flow is None:
        print("error: --format csv holds one flow: add --flow FLOW", file=sys.stderr)
        return 2
    with db.connect(settings) as conn:
        tables = chatbot_report.fetch(conn, args.flow)
    sys.stdout.write(chatbot_report.render(tables, args.format))
    return 0


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _timestamp(value: str) -> datetime:
    """ISO 8601; a time without an offset is UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a timestamp (ISO 8601)") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _report_customer_day(settings: Settings, args: argparse.Namespace, report: ModuleType) -> int:
    """panel and billing: one day (default: the report's own) for one customer or every one."""
    with db.connect(settings) as conn:
        customer = find_customer(conn, args.customer) if args.customer else None
        rows = report.fetch(conn, args.date or report.default_date(conn), customer)
    sys.stdout.write(report.render(rows, args.format))
    return 0


def cmd_report_panel(settings: Settings, args: argparse.Namespace) -> int:
    return _report_customer_day(settings, args, panel_report)


def cmd_report_detail(settings: Settings, args: argparse.Namespace) -> int:
    with db.connect(settings) as conn:
        query = detail_report.DetailQuery(
            customer=find_customer(conn, args.customer),
            channel=normalized_channel(conn, args.channel),
            start=args.start,
            end=args.end,
        )
        export = detail_report.export_csv if args.format == "csv" else detail_report.export_text
        if args.output is None:
            export(conn, query, sys.stdout.buffer)
        else:
            with args.output.open("wb") as output:
                export(conn, query, output)
    return 0


def cmd_report_billing(settings: Settings, args: argparse.Namespace) -> int:
    return _report_customer_day(settings, args, billing_report)


def cmd_bill(settings: Settings, args: argparse.Namespace) -> int:
    """(Re)bill a day, the last day the watermark closed by default, after catching up the models
    billing reads (the minutely rollup, the views, the price seeds); then the billing's own tests.
    Recorded in the service's run history (ops.dbt_runs)."""
    invoke = partial(dbt.invoke, settings)
    with db.connect(settings, autocommit=True) as conn:
        db.migrate(conn)
        billing_date = args.date
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


def cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    try:
        return service.run(settings, _stop_on_signals())
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
            sys.stdout.write(status.render(status.fetch(conn, settings.kafka.topic), settings.kafka.topic))
    except (psycopg.OperationalError, db.WarehouseNotRunning) as error:
        print(f"{'unhealthy: ' if args.check else 'error: '}database unreachable: {error}", file=sys.stderr)
        return 1
    except psycopg.errors.UndefinedTable as error:
        print(f"error: {error.diag.message_primary}: `warehouse up` creates the ops schema", file=sys.stderr)
        return 1
    return 0


DEMO_EVENTS = 200_000
DEMO_MIN_EVENTS = 1_000
DEMO_CUSTOMERS = 50
# The warehouse `warehouse demo` may delete and start over: one it created itself.
DEMO_MARKER = ".demo"


def _fresh_demo_home(settings: Settings) -> int:
    home = settings.home
    if home.exists() and any(home.iterdir()) and not (home / DEMO_MARKER).exists():
        print(
            f"error: {home} holds a warehouse the demo did not create and would delete:"
            " set WAREHOUSE_HOME to another directory (or `warehouse down --purge` it first)",
            file=sys.stderr,
        )
        return 1
    broker.stop(home, purge=True)
    embedded.stop(home, purge=True)
    home.mkdir(parents=True, exist_ok=True)
    (home / DEMO_MARKER).touch()
    return 0


def _produce_demo_stream(settings: Settings, events: int) -> int:
    report = generator.produce(
        broker.resolve_bootstrap(settings),
        settings.kafka.topic,
        demo.messages(events, customer_count=DEMO_CUSTOMERS),
    )
    print(f"{settings.kafka.topic}: {report.describe()}")
    return 0


def _print_report(title: str, command: str, report: Callable[[], int]) -> int:
    print(f"\n==> {title}  ($ warehouse {command})", flush=True)
    return report()


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """A fresh embedded warehouse with a day and a half of notifications, the sample invoices and
    chatbot answers, built and billed; then the five reports. Re-running starts over."""
    if not (settings.is_embedded and settings.kafka.is_embedded):
        print(
            "error: the demo runs on the embedded warehouse: unset WAREHOUSE_DSN and KAFKA_BOOTSTRAP_SERVERS",
            file=sys.stderr,
        )
        return 2
    if args.events < DEMO_MIN_EVENTS:
        print(f"error: the demo needs at least {DEMO_MIN_EVENTS} events", file=sys.stderr)
        return 2
    # Short group timeouts: the embedded broker holds a group join for half the poll interval.
    settings = dataclasses.replace(
        settings,
        kafka=dataclasses.replace(settings.kafka, session_timeout_ms=6_000, max_poll_interval_ms=6_000),
    )
    load_kafka = argparse.Namespace(topic=None, group=None, until_idle=2.0, max_messages=None)
    # the billing and its history are built by `bill`, once
    build = ["build", "--exclude", "rpt_notification_billing+"]
    steps: list[tuple[str, Callable[[], int]]] = [
        (f"starting a fresh embedded warehouse in {settings.home}", lambda: _fresh_demo_home(settings)),
        ("warehouse up", lambda: cmd_up(settings, args)),
        (
            f"producing {args.events:,} notification events of {DEMO_CUSTOMERS} customers"
            f" ({demo.STARTS_AT:%Y-%m-%d} to {demo.ENDS_AT:%Y-%m-%dT%H:%MZ}) to Kafka",
            lambda: _produce_demo_stream(settings, args.events),
        ),
        ("landing them: warehouse load kafka --until-idle 2", lambda: cmd_load_kafka(settings, load_kafka)),
        (
            "loading the sample invoices",
            lambda: _load_files(settings, [SAMPLE_INVOICES], invoice_source.load),
        ),
        (
            "loading the sample chatbot answers",
            lambda: _load_files(settings, SAMPLE_CHATBOT, chatbot_source.load),
        ),
        ("building the dbt project: warehouse build", lambda: 0 if dbt.invoke(settings, build) else 1),
        ("billing the closed day: warehouse bill", lambda: cmd_bill(settings, argparse.Namespace(date=None))),
    ]
    started = time.monotonic()
    for title, step in steps:
        print(f"==> {title}", flush=True)
        step_started = time.monotonic()
        if step() != 0:
            print(f"demo failed while {title}", file=sys.stderr)
            return 1
        print(f"    ({time.monotonic() - step_started:.1f} s)", flush=True)
    acme = str(demo.ACME[0])
    detail_from, detail_to = "2020-02-03T14:00Z", "2020-02-03T14:01Z"
    text = {"format": "text"}
    reports: list[tuple[str, str, Callable[[], int]]] = [
        (
            "Panel",
            "report panel --customer Acme",
            lambda: cmd_report_panel(settings, argparse.Namespace(customer=acme, date=None, **text)),
        ),
        (
            "Detailed report",
            f"report detail --customer Acme --from {detail_from} --to {detail_to}",
            lambda: cmd_report_detail(
                settings,
                argparse.Namespace(
                    customer=acme,
                    channel=WHATSAPP,
                    start=_timestamp(detail_from),
                    end=_timestamp(detail_to),
                    output=None,
                    **text,
                ),
            ),
        ),
        (
            "Billing",
            "report billing --customer Acme",
            lambda: cmd_report_billing(settings, argparse.Namespace(customer=acme, date=None, **text)),
        ),
        (
            "Invoice rolling averages",
            "report invoices",
            lambda: cmd_report_invoices(settings, argparse.Namespace(reference_month=None, **text)),
        ),
        (
            "Chatbot answers, one table per flow",
            "report chatbot",
            lambda: cmd_report_chatbot(settings, argparse.Namespace(flow=None, **text)),
        ),
    ]
    for title, command, report in reports:
        sys.stdout.flush()
        if _print_report(title, command, report) != 0:
            return 1
    sys.stdout.flush()
    print(
        f"\ndemo finished in {time.monotonic() - started:.0f} s. The warehouse keeps running in"
        f" {settings.home}: try `warehouse report panel` (every customer), `warehouse status`,"
        " `warehouse run` (the live service); `warehouse down` stops it."
    )
    return 0


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=formatting.FORMATS, default="text")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="warehouse", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("up", help="start the embedded warehouse (unless WAREHOUSE_DSN is set)").set_defaults(
        handler=cmd_up
    )
    down = commands.add_parser("down", help="stop the embedded warehouse")
    down.add_argument("--purge", action="store_true", help="also delete its data")
    down.set_defaults(handler=cmd_down)
    commands.add_parser("env", help="print shell-sourceable connection settings").set_defaults(
        handler=cmd_env
    )

    build = commands.add_parser(
        "build", help="dbt build against the current warehouse; other arguments go to dbt (--select ...)"
    )
    build.set_defaults(handler=cmd_build, dbt_args=[])
    run_exec = commands.add_parser("exec", help="run a command (dbt, sqlfluff, psql) with the warehouse env")
    run_exec.add_argument("argv", nargs=argparse.REMAINDER)
    run_exec.set_defaults(handler=cmd_exec)

    load = commands.add_parser("load", help="land inputs as-is in the raw schema").add_subparsers(
        dest="source", required=True
    )
    load_invoices = load.add_parser("invoices", help="invoices CSV files")
    load_invoices.add_argument("files", nargs="+", type=Path)
    load_invoices.set_defaults(handler=cmd_load_invoices)
    load_chatbot = load.add_parser("chatbot", help="chatbot answer JSON files (hour=HH.json), in load order")
    load_chatbot.add_argument("files", nargs="+", type=Path)
    load_chatbot.set_defaults(handler=cmd_load_chatbot)

    load_kafka = load.add_parser("kafka", help="notification events from Kafka, exactly once")
    load_kafka.add_argument("--topic", help="default: $KAFKA_TOPIC, else notifications")
    load_kafka.add_argument(
        "--group", help="consumer group of the loaders (default: $KAFKA_GROUP_ID, else warehouse-loader)"
    )
    load_kafka.add_argument(
        "--until-idle", type=float, metavar="SECONDS", help="exit after SECONDS without messages"
    )
    load_kafka.add_argument("--max-messages", type=int, metavar="N", help="exit after landing N messages")
    load_kafka.set_defaults(handler=cmd_load_kafka)

    generate = commands.add_parser("generate", help="produce realistic notification events to Kafka")
    amount = generate.add_mutually_exclusive_group(required=True)
    amount.add_argument("--count", type=int, metavar="N", help="N messages, as fast as possible")
    amount.add_argument("--rate", type=float, metavar="R", help="R messages per second (with --duration)")
    generate.add_argument("--duration", type=float, metavar="S", help="seconds to produce at --rate")
    generate.add_argument("--topic", help="default: $KAFKA_TOPIC, else notifications")
    generate.add_argument("--customers", type=int, default=1_000)
    generate.add_argument("--duplicate-rate", type=_fraction, default=0.0, metavar="P", help="re-sent events")
    generate.add_argument(
        "--malformed-rate", type=_fraction, default=0.0, metavar="P", help="poison messages"
    )
    generate.add_argument(
        "--late-rate", type=_fraction, default=0.0, metavar="P", help="events hours/days old"
    )
    generate.add_argument("--start", type=_start_time, help="event time of the first event (default: now)")
    generate.add_argument("--seed", type=int, help="random seed, for reproducible data")
    generate.set_defaults(handler=cmd_generate)

    report = commands.add_parser("report", help="print a report").add_subparsers(dest="report", required=True)
    report_invoices = report.add_parser("invoices", help="rolling 3/6-month invoice averages")
    report_invoices.add_argument("--reference-month", type=_month, help="YYYY-MM (default: after the latest)")
    _add_format(report_invoices)
    report_invoices.set_defaults(handler=cmd_report_invoices)
    report_chatbot = report.add_parser("chatbot", help="chatbot answers: one row per conversation, per flow")
    report_chatbot.add_argument("--flow", help="only this flow (required for csv)")
    _add_format(report_chatbot)
    report_chatbot.set_defaults(handler=cmd_report_chatbot)

    report_panel = report.add_parser("panel", help="WhatsApp notifications of a day per customer (live)")
    report_panel.add_argument("--customer", help="customer id or name (default: every customer)")
    report_panel.add_argument("--date", type=_date, help="YYYY-MM-DD (default: the watermark's day)")
    _add_format(report_panel)
    report_panel.set_defaults(handler=cmd_report_panel)

    report_detail = report.add_parser("detail", help="one customer's notifications, oldest first")
    report_detail.add_argument("--customer", required=True, help="customer id or name")
    report_detail.add_argument("--from", dest="start", type=_timestamp, help="ISO timestamp, inclusive")
    report_detail.add_argument("--to", dest="end", type=_timestamp, help="ISO timestamp, exclusive")
    report_detail.add_argument("--channel", default=WHATSAPP, help="any spelling (default: WhatsApp)")
    report_detail.add_argument("--format", choices=detail_report.FORMATS, default="text")
    report_detail.add_argument("--output", type=Path, help="write to FILE instead of stdout")
    report_detail.set_defaults(handler=cmd_report_detail)

    report_billing = report.add_parser("billing", help="daily WhatsApp billing per customer")
    report_billing.add_argument("--date", type=_date, help="YYYY-MM-DD (default: the latest billed day)")
    report_billing.add_argument("--customer", help="customer id or name (default: every customer)")
    _add_format(report_billing)
    report_billing.set_defaults(handler=cmd_report_billing)

    bill = commands.add_parser("bill", help="run the minutely models, then (re)bill a day")
    bill.add_argument("--date", type=_date, help="YYYY-MM-DD (default: the last day the watermark closed)")
    bill.set_defaults(handler=cmd_bill)

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

    demo_parser = commands.add_parser(
        "demo", help="a fresh embedded warehouse with realistic data, built and billed: the five reports"
    )
    demo_parser.add_argument(
        "--events", type=int, default=DEMO_EVENTS, help=f"notification events (default {DEMO_EVENTS:,})"
    )
    demo_parser.set_defaults(handler=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # dbt's own options (--select, --full-refresh, ...) pass through `warehouse build` untouched.
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if args.handler is not cmd_build:
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
    except (db.WarehouseNotRunning, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
