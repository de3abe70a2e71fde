"""`warehouse demo`: a fresh embedded warehouse with a day and a half of notifications, the sample
invoices and chatbot answers, built and billed; then the five reports. Re-running starts over.

Every step is a call of the library function the command of the same name runs, never a parsed
command line, so a new option of a command cannot break the demo silently. A step prints one line
with its time; what it says on the way (the loader's per-message warnings, dbt's logs) goes to a
log file under WAREHOUSE_HOME, or to the terminal with --verbose.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TextIO

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
LOG_NAME = "demo.log"
# Lines of the log a failed step shows.
FAILURE_TAIL_LINES = 20


def _fresh_demo_home(settings: Settings) -> int:
    home = settings.home
    if home.exists() and any(home.iterdir()) and not (home / DEMO_MARKER).exists():
        print(
            f"\nerror: {home} holds a warehouse the demo did not create and would delete:"
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


@contextmanager
def _output_to(log: TextIO | None) -> Iterator[None]:
    """File descriptors 1 and 2 into `log` (None: left alone) while a step runs, so that prints,
    logging, dbt's console output and child processes all land there."""
    if log is None:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for descriptor, original in zip((1, 2), saved, strict=True):
            os.dup2(original, descriptor)
            os.close(original)


def _run_steps(steps: list[tuple[str, Callable[[], int]]], log: TextIO | None, log_path: Path) -> bool:
    """Each step on one line with its time (quiet), or its title, its output and its time (verbose)."""
    for title, step in steps:
        print(f"==> {title}" + (" ..." if log else ""), end="" if log else "\n", flush=True)
        started = time.monotonic()
        with _output_to(log):
            print(f"==> {title}", flush=True)  # in the log too, to find the step there
            succeeded = step() == 0
        seconds = time.monotonic() - started
        if log is not None:
            print(f" {seconds:.1f} s" if succeeded else " failed", flush=True)
        elif succeeded:
            print(f"    ({seconds:.1f} s)", flush=True)
        if not succeeded:
            if log is not None:
                log.flush()
                tail = log_path.read_text(errors="replace").splitlines()[-FAILURE_TAIL_LINES:]
                print("\n".join(tail), file=sys.stderr)
            print(f"demo failed while {title} (log: {log_path})", file=sys.stderr)
            return False
    return True


def run(settings: Settings, events: int = DEMO_EVENTS, *, verbose: bool = False) -> int:
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
    started = time.monotonic()
    print(f"==> starting a fresh embedded warehouse in {settings.home} ...", end="", flush=True)
    if _fresh_demo_home(settings) != 0:
        return 1
    print(f" {time.monotonic() - started:.1f} s", flush=True)
    log_path = settings.home / LOG_NAME
    steps: list[tuple[str, Callable[[], int]]] = [
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
    if not verbose:
        print(f"    (what the steps print: {log_path}; `warehouse demo --verbose` shows it here)", flush=True)
    with nullcontext() if verbose else log_path.open("w", encoding="utf-8") as log:
        if not _run_steps(steps, log, log_path):
            return 1
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
    return run(settings, args.events, verbose=args.show_logs or args.verbose)


def register(commands: argparse._SubParsersAction) -> None:
    demo_parser = commands.add_parser(
        "demo", help="a fresh embedded warehouse with realistic data, built and billed: the five reports"
    )
    demo_parser.add_argument(
        "--events", type=int, default=DEMO_EVENTS, help=f"notification events (default {DEMO_EVENTS:,})"
    )
    demo_parser.add_argument(
        "--verbose",
        dest="show_logs",
        action="store_true",
        help=f"print what the steps print (loader warnings, dbt logs) instead of WAREHOUSE_HOME/{LOG_NAME}",
    )
    demo_parser.set_defaults(handler=cmd_demo)
