"""`warehouse demo`: a fresh embedded warehouse with a day and a half of notifications, the sample
invoices and chatbot answers, built and billed; then the five reports. Re-running starts over.

Every step is a call of the library function the command of the same name runs, never a parsed
command line, so a new option of a command cannot break the demo silently.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable

from loader import PROJECT_DIR, broker, demo, embedded, generator
from loader.cli import lifecycle, load, portal, report, service
from loader.cli.arguments import timestamp
from loader.settings import Settings
from loader.sources import chatbot as chatbot_source
from loader.sources import invoices as invoice_source

SAMPLE_INVOICES = PROJECT_DIR / "data" / "invoices" / "invoices.csv"
SAMPLE_CHATBOT = sorted((PROJECT_DIR / "data" / "chatbot").glob("hour=*.json"))
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
    produced = generator.produce(
        broker.resolve_bootstrap(settings),
        settings.kafka.topic,
        demo.messages(events, customer_count=DEMO_CUSTOMERS),
    )
    print(f"{settings.kafka.topic}: {produced.describe()}")
    return 0


def run(settings: Settings, events: int = DEMO_EVENTS) -> int:
    if not (settings.is_embedded and settings.kafka.is_embedded):
        print(
            "error: the demo runs on the embedded warehouse: unset WAREHOUSE_DSN and KAFKA_BOOTSTRAP_SERVERS",
            file=sys.stderr,
        )
        return 2
    if events < DEMO_MIN_EVENTS:
        print(f"error: the demo needs at least {DEMO_MIN_EVENTS} events", file=sys.stderr)
        return 2
    # Short group timeouts: the embedded broker holds a group join for half the poll interval.
    settings = dataclasses.replace(
        settings,
        kafka=dataclasses.replace(settings.kafka, session_timeout_ms=6_000, max_poll_interval_ms=6_000),
    )
    steps: list[tuple[str, Callable[[], int]]] = [
        (f"starting a fresh embedded warehouse in {settings.home}", lambda: _fresh_demo_home(settings)),
        ("warehouse up", lambda: lifecycle.up(settings)),
        (
            f"producing {events:,} notification events of {DEMO_CUSTOMERS} customers"
            f" ({demo.STARTS_AT:%Y-%m-%d} to {demo.ENDS_AT:%Y-%m-%dT%H:%MZ}) to Kafka",
            lambda: _produce_demo_stream(settings, events),
        ),
        (
            "landing them: warehouse load kafka --until-idle 2",
            lambda: load.load_kafka(settings, until_idle=2.0),
        ),
        (
            "loading the sample invoices",
            lambda: load.load_files(settings, [SAMPLE_INVOICES], invoice_source.load),
        ),
        (
            "loading the sample chatbot answers",
            lambda: load.load_files(settings, SAMPLE_CHATBOT, chatbot_source.load),
        ),
        # the billing and its history are built by `bill`, once
        (
            "building the dbt project: warehouse build",
            lambda: lifecycle.build(settings, ["--exclude", "rpt_notification_billing+"]),
        ),
        ("billing the closed day: warehouse bill", lambda: service.bill(settings)),
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
    reports: list[tuple[str, str, Callable[[], int]]] = [
        ("Panel", "report panel --customer Acme", lambda: report.panel(settings, customer=acme)),
        (
            "Detailed report",
            f"report detail --customer Acme --from {detail_from} --to {detail_to}",
            lambda: report.detail(
                settings, customer=acme, start=timestamp(detail_from), end=timestamp(detail_to)
            ),
        ),
        ("Billing", "report billing --customer Acme", lambda: report.billing(settings, customer=acme)),
        ("Invoice rolling averages", "report invoices", lambda: report.invoices(settings)),
        ("Chatbot answers, one table per flow", "report chatbot", lambda: report.chatbot(settings)),
    ]
    for title, command, print_report in reports:
        sys.stdout.flush()
        print(f"\n==> {title}  ($ warehouse {command})", flush=True)
        if print_report() != 0:
            return 1
    sys.stdout.flush()
    print(
        f"\ndemo finished in {time.monotonic() - started:.0f} s. The warehouse keeps running in"
        f" {settings.home}: try `warehouse report panel` (every customer), `warehouse status`,"
        " `warehouse run` (the live service); `warehouse down` stops it."
    )
    # last, as the demo's way out: new links each run (they carry their expiry)
    print(
        "\nThe portal in a browser: run `warehouse serve`, then open"
        f"\n    Acme's portal:         {portal.link(settings, customer=acme)[0]}"
        f"\n    the operator's portal: {portal.link(settings)[0]}"
        "\n(`warehouse portal link --customer NAME|ID` or `--operator` prints new links)"
    )
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    return run(settings, args.events)


def register(commands: argparse._SubParsersAction) -> None:
    demo_parser = commands.add_parser(
        "demo", help="a fresh embedded warehouse with realistic data, built and billed: the five reports"
    )
    demo_parser.add_argument(
        "--events", type=int, default=DEMO_EVENTS, help=f"notification events (default {DEMO_EVENTS:,})"
    )
    demo_parser.set_defaults(handler=cmd_demo)
