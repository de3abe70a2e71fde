"""`warehouse load invoices | chatbot | kafka` and `warehouse generate`: inputs into the raw schema."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from contextlib import closing
from functools import partial
from pathlib import Path

import psycopg
from kafka.errors import KafkaError

from loader import broker, db, generator
from loader.cli import arguments
from loader.cli.signals import stop_on_signals
from loader.progress import ProgressBar
from loader.settings import Settings
from loader.sources import chatbot as chatbot_source
from loader.sources import invoices as invoice_source
from loader.sources import kafka as kafka_source
from loader.sources.files import FileLoad, InputError


def load_files(settings: Settings, paths: Sequence[Path], load: Callable[..., FileLoad]) -> int:
    """Each file in its own transaction: a refused file is reported and the others still load."""
    failures = 0
    with db.connect(settings) as conn:
        db.migrate(conn, timescale=settings.is_timescale)
        for path in paths:
            try:
                print(load(conn, path).describe())
            except (InputError, OSError) as error:
                failures += 1
                print(f"error: {error}", file=sys.stderr)
            except psycopg.DataError as error:
                # The loaders check what PostgreSQL stores; should one miss a case, it is this file's
                # error (rolled back), not the end of the command.
                failures += 1
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                print(f"error: {path}: PostgreSQL refused a value: {reason}", file=sys.stderr)
    return 1 if failures else 0


def _show_progress(bar: ProgressBar, stats: kafka_source.LoaderStats) -> None:
    lag = sum(stats.lag().values())
    detail = f"msgs, {stats.rate:,.0f} msg/s, {stats.rejected:,} rejected, lag {lag:,}"
    bar.update(stats.messages, stats.messages + lag, detail, force=lag == 0)


def load_kafka(
    settings: Settings,
    *,
    topic: str | None = None,
    group: str | None = None,
    until_idle: float | None = None,
    max_messages: int | None = None,
) -> int:
    with db.connect(settings) as conn:
        db.migrate(conn, timescale=settings.is_timescale)
    stop = stop_on_signals()
    bar = ProgressBar() if until_idle is not None and sys.stderr.isatty() else None
    if bar is not None:
        for handler in logging.getLogger().handlers:
            handler.addFilter(bar.clear_line)
    try:
        with closing(kafka_source.KafkaLoader.from_settings(settings, topic=topic, group_id=group)) as loader:
            stats = loader.run(
                stop,
                until_idle=until_idle,
                max_messages=max_messages,
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


def cmd_load_invoices(settings: Settings, args: argparse.Namespace) -> int:
    return load_files(settings, args.files, invoice_source.load)


def cmd_load_chatbot(settings: Settings, args: argparse.Namespace) -> int:
    return load_files(settings, args.files, chatbot_source.load)


def cmd_load_kafka(settings: Settings, args: argparse.Namespace) -> int:
    return load_kafka(
        settings,
        topic=args.topic,
        group=args.group,
        until_idle=args.until_idle,
        max_messages=args.max_messages,
    )


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


def register(commands: argparse._SubParsersAction) -> None:
    load = commands.add_parser("load", help="land inputs as-is in the raw schema").add_subparsers(
        dest="source", required=True
    )
    load_invoices = load.add_parser("invoices", help="invoices CSV files")
    load_invoices.add_argument("files", nargs="+", type=Path)
    load_invoices.set_defaults(handler=cmd_load_invoices)
    load_chatbot = load.add_parser("chatbot", help="chatbot answer JSON files (hour=HH.json), in load order")
    load_chatbot.add_argument("files", nargs="+", type=Path)
    load_chatbot.set_defaults(handler=cmd_load_chatbot)

    kafka = load.add_parser("kafka", help="notification events from Kafka, exactly once")
    kafka.add_argument("--topic", help="default: $KAFKA_TOPIC, else notifications")
    kafka.add_argument(
        "--group", help="consumer group of the loaders (default: $KAFKA_GROUP_ID, else warehouse-loader)"
    )
    kafka.add_argument(
        "--until-idle", type=float, metavar="SECONDS", help="exit after SECONDS without messages"
    )
    kafka.add_argument("--max-messages", type=int, metavar="N", help="exit after landing N messages")
    kafka.set_defaults(handler=cmd_load_kafka)

    generate = commands.add_parser("generate", help="produce realistic notification events to Kafka")
    amount = generate.add_mutually_exclusive_group(required=True)
    amount.add_argument("--count", type=int, metavar="N", help="N messages, as fast as possible")
    amount.add_argument("--rate", type=float, metavar="R", help="R messages per second (with --duration)")
    generate.add_argument("--duration", type=float, metavar="S", help="seconds to produce at --rate")
    generate.add_argument("--topic", help="default: $KAFKA_TOPIC, else notifications")
    generate.add_argument("--customers", type=int, default=1_000)
    generate.add_argument(
        "--duplicate-rate", type=arguments.fraction, default=0.0, metavar="P", help="re-sent events"
    )
    generate.add_argument(
        "--malformed-rate", type=arguments.fraction, default=0.0, metavar="P", help="poison messages"
    )
    generate.add_argument(
        "--late-rate", type=arguments.fraction, default=0.0, metavar="P", help="events hours/days old"
    )
    generate.add_argument(
        "--start", type=arguments.timestamp, help="event time of the first event (default: now)"
    )
    generate.add_argument("--seed", type=int, help="random seed, for reproducible data")
    generate.set_defaults(handler=cmd_generate)
