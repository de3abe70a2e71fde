"""`warehouse run`: the long-running service.

Three threads in one process:
- the loader: a KafkaLoader landing the topic continuously, exactly once;
- dbt: every WAREHOUSE_MINUTELY_INTERVAL seconds the minutely selection, in-process on one parsed
  manifest, then the billing of closed days (and the re-billing of days late events changed). dbt's
  runner is not safe for concurrent invocations, so this one thread is the only one that invokes
  it; a run that overruns its interval makes the next ticks be skipped, they never pile up;
- the main thread: signals, one status line per WAREHOUSE_STATUS_INTERVAL, and supervision.

SIGTERM/SIGINT: the loader finishes (or rolls back) its batch, a running dbt command finishes, the
process exits 0. A loader that fails (database or Kafka gone) stops the service with exit 1, for
the supervisor (docker, systemd) to restart it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime

import psycopg
from kafka.errors import KafkaError

from loader import broker, db, dbt, ops, status
from loader.reports.formatting import utc_iso
from loader.settings import Settings
from loader.sources import kafka as kafka_source

log = logging.getLogger("warehouse.service")

# What the first run also builds: the views the panel reads (staging, tail ranges, watermark,
# panel), so the service works on a database dbt has never built.
DEPLOY_EXTRA = ("+rpt_notification_panel", "+rpt_notification_days_changed")
JOIN_TIMEOUT_S = 120.0
# How often the daily partitions are maintained (created ahead, expired ones dropped).
PARTITION_MAINTENANCE_INTERVAL_S = 3600.0
# Reports of the loader's progress kept for the health check: an hour, or twice what it reads.
PROGRESS_KEPT_S = 3600.0
# What stops the loader for good: logged without a traceback, and the service exits 1.
LOADER_ERRORS = (kafka_source.LoaderError, KafkaError, psycopg.OperationalError, db.WarehouseNotRunning)


@dataclass(frozen=True)
class LastRun:
    kind: str
    is_success: bool
    seconds: float
    finished_at: float  # time.monotonic()


class Service:
    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        self._settings = settings
        self._config = settings.service
        self._stop = stop
        self._stats: kafka_source.LoaderStats | None = None
        self._topic = settings.kafka.topic
        self._failure: BaseException | None = None
        self._last_run: LastRun | None = None
        self._skipped_ticks = 0
        self._deployed = False
        self._partitions_maintained_at: float | None = None
        self._watermark: datetime | None = None
        self._topic_ends: broker.TopicEnds | None = None
        self._loader_problems: list[str] = []
        self._reported_ends: dict[int, int] = {}  # the partitions' ends as the last report read them
        self._broker_warning: str | None = None

    def run(self) -> int:
        with db.connect(self._settings) as conn:
            db.migrate(conn, timescale=self._settings.is_timescale)
            db.ensure_bi_reader(conn, db.bi_reader_password(self._settings))
            db.ensure_portal_reader(conn, db.portal_reader_password(self._settings))
        log.info(
            "service starting: topic %s, dbt %s every %g s, billing %g s after a day closes",
            self._topic,
            self._config.minutely_select,
            self._config.minutely_interval_s,
            self._config.billing_grace_s,
        )
        threads = [
            threading.Thread(target=self._guarded, args=(self._load,), name="loader"),
            threading.Thread(target=self._guarded, args=(self._run_dbt,), name="dbt"),
        ]
        for thread in threads:
            thread.start()
        started = last_status_at = time.monotonic()
        last_messages = 0
        while not self._stop.wait(min(1.0, self._config.status_interval_s)):
            now = time.monotonic()
            if now - last_status_at >= self._config.status_interval_s:
                last_messages = self._log_status(now - last_status_at, last_messages)
                last_status_at = now
        log.info("stopping: the loader finishes its batch, a running dbt command finishes")
        for thread in threads:
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.error("the %s thread did not stop within %.0f s", thread.name, JOIN_TIMEOUT_S)
                return 1
        self._log_status(time.monotonic() - started, 0)
        if self._failure is not None:
            return 1
        log.info("stopped")
        return 0

    def _guarded(self, work: Callable[[], None]) -> None:
        """Run a thread's work; a failure stops the whole service."""
        try:
            work()
        except BaseException as error:
            log.exception("the %s thread failed: %s", threading.current_thread().name, error)
            self._failure = error
            self._stop.set()

    # -- loader thread ---------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            # The service logs its own status line; the loader's periodic one would repeat it.
            loader = kafka_source.KafkaLoader.from_settings(self._settings, log_interval_s=math.inf)
            with closing(loader):
                self._topic = loader.topic
                self._stats = loader.stats
                loader.run(self._stop)
        except LOADER_ERRORS as error:
            log.error("loader stopped, so the service stops (exit 1): %s", first_line(error))
            self._failure = error
            self._stop.set()

    # -- dbt thread ------------------------------------------------------------------------------

    def _run_dbt(self) -> None:
        session = dbt.Session(self._settings)
        interval = self._config.minutely_interval_s
        next_tick = time.monotonic()
        conn: psycopg.Connection | None = None
        try:
            while not self._stop.is_set():
                delay = next_tick - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    break
                try:
                    if conn is None or conn.closed:
                        conn = db.connect(self._settings, autocommit=True)
                    self._tick(session, conn)
                except psycopg.Error as error:
                    # the database restarting, say: try again at the next tick. A warning: if the
                    # database stays away the loader fails too, and its error is the one line that
                    # says why the service stops (this thread may see the loss first)
                    if self._stop.is_set():  # the loader has said why already
                        log.info("dbt tick cut short by the stop: %s", first_line(error))
                    else:
                        log.warning("dbt tick failed, retried at the next tick: %s", first_line(error))
                    if conn is not None:
                        conn.close()
                    conn = None
                next_tick += interval
                behind = time.monotonic() - next_tick
                if behind > 0:
                    skipped = math.ceil(behind / interval)
                    next_tick += skipped * interval
                    self._skipped_ticks += skipped
                    log.info("dbt work overran the interval: %d minutely tick(s) skipped", skipped)
        finally:
            if conn is not None:
                conn.close()
            if self._topic_ends is not None:
                self._topic_ends.close()

    def _tick(self, session: dbt.Session, conn: psycopg.Connection) -> None:
        """One minutely run (until one succeeds, it also deploys the views), then billing; every
        hour first the daily partitions (on this thread: never beside a dbt run)."""
        maintained_at = self._partitions_maintained_at
        if maintained_at is None or time.monotonic() - maintained_at >= PARTITION_MAINTENANCE_INTERVAL_S:
            for partition in db.maintain_partitions(conn, self._settings):
                log.info("dropped %s: older than its retention", partition)
            self._partitions_maintained_at = time.monotonic()
        selection = self._config.minutely_select.split()
        kind = "minutely"
        if not self._deployed:
            kind, selection = "deploy", [f"+{part}" for part in selection] + list(DEPLOY_EXTRA)
        command = ["run", "--quiet", "--select", *selection]
        result = ops.record_run(conn, kind, " ".join(selection), lambda: session.invoke(command))
        self._last_run = LastRun(kind, result.is_success, result.seconds, time.monotonic())
        self._report_loader(conn)
        if not result.is_success:
            log.error("dbt %s run failed after %.1f s (see logs/dbt.log)", kind, result.seconds)
            return
        self._deployed = True
        self._bill(session, conn)

    def _report_loader(self, conn: psycopg.Connection) -> None:
        """Record the loader's progress and judge it as `warehouse status --check` does; warn when
        it stops keeping up and when the embedded broker holds too much."""
        if self._stats is None:
            return
        committed, ends = dict(self._stats.committed), dict(self._stats.highwater)
        for partition, end in self._read_topic_ends().items():
            ends[partition] = max(end, ends.get(partition, 0))
        stall_s = self._config.health_max_stall_s
        keep_s = max(PROGRESS_KEPT_S, 2 * stall_s)
        ops.report_partitions(conn, self._topic, committed, ends, keep_s=keep_s)
        self._reported_ends = ends
        problems = status.loader_problems(ops.loader_progress(conn, self._topic, stall_s), stall_s)
        if problems:
            log.warning("the loader is not keeping up: %s", "; ".join(problems))
        elif self._loader_problems:
            log.info("the loader keeps up again")
        self._loader_problems = problems
        warning = status.embedded_broker_warning(self._settings, sum(ends.values()))
        if warning is not None and self._broker_warning is None:
            log.warning(warning)
        self._broker_warning = warning

    def _read_topic_ends(self) -> dict[int, int]:
        try:
            if self._topic_ends is None:
                self._topic_ends = broker.TopicEnds(broker.resolve_bootstrap(self._settings), self._topic)
            return self._topic_ends.read()
        except KafkaError as error:  # the loader reports Kafka being gone; its own ends still count
            log.debug("reading the topic's end offsets failed: %s", error)
            return {}

    def _bill(self, session: dbt.Session, conn: psycopg.Connection) -> None:
        """Bill the days closed for the grace period; re-bill billed days whose figures changed."""
        ops.note_changed_days(conn)
        self._watermark, watermark_date = ops.watermark(conn)
        if watermark_date is None:
            return
        ops.close_days(conn, watermark_date)
        for day, billed_before in ops.days_to_bill(conn, self._config.billing_grace_s):
            if self._stop.is_set():
                return
            if billed_before:
                checked_at = datetime.now(UTC)
                figures = ops.day_figures(conn, day)
                if figures.current == figures.billed and self._settings.is_timescale:
                    # the panel's continuous aggregate shows a late event below its watermark once a
                    # refresh covers its minute: the rollup's run with the day refreshes it (as billing)
                    session.invoke(
                        ["run", "--quiet", "--select", "fct_notifications_per_minute", *ops.billing_vars(day)]
                    )
                    figures = ops.day_figures(conn, day)
                if figures.current == figures.billed:
                    ops.mark_checked(conn, day, checked_at)
                    continue
                log.info(
                    "re-billing %s: late events changed it from %s to %s WhatsApp notifications",
                    day,
                    f"{figures.billed:,}",
                    f"{figures.current:,}",
                )
            self._bill_day(session, conn, day)

    def _bill_day(self, session: dbt.Session, conn: psycopg.Connection, day: date) -> None:
        result = ops.bill_day(conn, session.invoke, day)
        self._last_run = LastRun("billing", result.is_success, result.seconds, time.monotonic())
        if result.is_success:
            figures = ops.day_figures(conn, day)
            count = f"{figures.billed:,}"
            log.info("billed %s: %s WhatsApp notifications (%.1f s)", day, count, result.seconds)
        else:
            log.error(
                "billing %s failed after %.1f s (see logs/dbt.log); next tick retries", day, result.seconds
            )

    # -- main thread -----------------------------------------------------------------------------

    def _log_status(self, seconds: float, last_messages: int) -> int:
        stats = self._stats
        messages = stats.messages if stats else 0
        lag = 0
        if stats is not None:
            # The loader knows the partitions' ends from its own fetches only: when they stall, the
            # ends the last report read apart tell the real lag.
            ends, committed = dict(stats.highwater), dict(stats.committed)
            for partition, end in self._reported_ends.items():
                ends[partition] = max(end, ends.get(partition, 0))
            lag = sum(max(0, end - committed[p]) for p, end in ends.items() if p in committed)
        run = self._last_run
        if run is None:
            dbt_text = "no dbt run yet"
        else:
            outcome = "ok" if run.is_success else "FAILED"
            ago = time.monotonic() - run.finished_at
            dbt_text = f"dbt {run.kind} {outcome} in {run.seconds:.1f} s, {ago:.0f} s ago"
        if self._loader_problems:
            loader_text = f"loader NOT KEEPING UP: {'; '.join(self._loader_problems)}"
        else:
            loader_text = "loader keeping up"
        if self._broker_warning is not None:
            loader_text += f"; WARNING: {self._broker_warning}"
        log.info(
            "status: %s rows/s, %s landed, %s rejected, lag %s, watermark %s, %s, %d tick(s) skipped, %s",
            f"{(messages - last_messages) / max(seconds, 1e-3):,.0f}",
            f"{stats.landed if stats else 0:,}",
            f"{stats.rejected if stats else 0:,}",
            f"{lag:,}",
            utc_iso(self._watermark) if self._watermark else "none",
            dbt_text,
            self._skipped_ticks,
            loader_text,
        )
        return messages


def first_line(error: BaseException) -> str:
    """An error as one log line (psycopg's connection errors span three)."""
    return next(iter(str(error).strip().splitlines()), type(error).__name__)


def run(settings: Settings, stop: threading.Event) -> int:
    return Service(settings, stop).run()
