"""Operations state in the ops schema: dbt run history, the billing ledger, the loader's partitions.

The service writes it and `warehouse status` reads it, from any process. Connections here are in
autocommit mode; what must change together does so in an explicit transaction.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from loader import db

log = logging.getLogger(__name__)

Invoke = Callable[[Sequence[str]], bool]
NO_TESTS = ("--exclude-resource-type", "test", "unit_test")

START_RUN = (
    "insert into ops.dbt_runs (kind, selection, billing_date, host, pid)"
    " values (%s, %s, %s, %s, %s) returning run_id, started_at"
)
FINISH_RUN = "update ops.dbt_runs set finished_at = clock_timestamp(), is_success = %s where run_id = %s"


@dataclass(frozen=True)
class RunResult:
    is_success: bool
    started_at: datetime
    seconds: float


def record_run(
    conn: psycopg.Connection,
    kind: str,
    selection: str,
    work: Callable[[], bool],
    *,
    billing_date: date | None = None,
) -> RunResult:
    """Run `work` (dbt) with a row in ops.dbt_runs: started before, finished and result after."""
    run = (kind, selection, billing_date, socket.gethostname(), os.getpid())
    row = conn.execute(START_RUN, run).fetchone()
    assert row is not None
    run_id, started_at = row
    started = time.monotonic()
    is_success = False
    try:
        is_success = work()
    finally:
        conn.execute(FINISH_RUN, (is_success, run_id))
    return RunResult(is_success, started_at, time.monotonic() - started)


def billing_vars(day: date) -> list[str]:
    return ["--vars", f"{{billing_date: '{day.isoformat()}'}}"]


def bill_day(conn: psycopg.Connection, invoke: Invoke, day: date) -> RunResult:
    """(Re)bill a day: build the billing and what it reads (the minutely models, the views, the
    price seeds), then run the billing's tests; recorded in ops.dbt_runs and the billing ledger."""

    def bill() -> bool:
        day_vars = billing_vars(day)
        return invoke(["build", "--quiet", "--select", "+tag:daily", *NO_TESTS, *day_vars]) and invoke(
            ["test", "--quiet", "--select", "tag:daily", *day_vars]
        )

    result = record_run(conn, "billing", "+tag:daily", bill, billing_date=day)
    if result.is_success:
        conn.execute(
            "insert into ops.billing_days (billing_date, changed_at, billed_at)"
            " values (%(day)s, %(at)s, %(at)s)"
            " on conflict (billing_date) do update set billed_at = excluded.billed_at",
            {"day": day, "at": result.started_at},
        )
    return result


# -- the billing ledger ----------------------------------------------------------------------------

# The days of the WhatsApp notifications rolled up since the ledger last looked
# (marts.rpt_notification_days_changed), noted in the ledger; then the ledger's increment
# (intermediate.int_notification_billing_ranges) is stored as looked at. One statement: one snapshot.
_CHANGED_DAYS = """
with
noted as (
    insert into ops.billing_days (billing_date, changed_at, billed_at)
    select
        days.billing_date,
        now(),
        {billed_at}
    from marts.rpt_notification_days_changed as days
    on conflict (billing_date) do update set changed_at = excluded.changed_at
    returning billing_date
),
checked as (
    insert into ops.billing_checked_offsets
        (kafka_topic, kafka_partition, checked_offset, checked_batch_id, checked_at)
    select kafka_topic, kafka_partition, target_offset, target_batch_id, now()
    from intermediate.int_notification_billing_ranges
    on conflict (kafka_topic, kafka_partition)
    do update set
        checked_offset = excluded.checked_offset,
        checked_batch_id = excluded.checked_batch_id,
        checked_at = excluded.checked_at
)
select count(*) from noted
"""

# A day's latest bill in the billing history (which the first bill creates).
_BILLED_AT = """(
        select max(runs.billed_at) from marts.rpt_notification_billing_runs as runs
        where runs.billing_date = days.billing_date
    )"""


def note_changed_days(conn: psycopg.Connection) -> int:
    """Note in the ledger the days of the WhatsApp notifications rolled up since last time; returns
    how many days changed. A day new to the ledger counts as billed when the billing history has it
    (billed before the service ran, by `warehouse bill`)."""
    row = conn.execute("select to_regclass('marts.rpt_notification_billing_runs') is not null").fetchone()
    billed_at = _BILLED_AT if row and row[0] else "cast(null as timestamptz)"
    with conn.transaction():
        # One ledger writer at a time (a second service would otherwise note the same offsets twice).
        db.lock(conn, "warehouse.billing_ledger")
        row = conn.execute(_CHANGED_DAYS.format(billed_at=billed_at)).fetchone()
    return int(row[0]) if row else 0


def close_days(conn: psycopg.Connection, watermark_date: date) -> None:
    """Days before the watermark's day are closed from now on."""
    conn.execute(
        "update ops.billing_days set closed_at = now() where closed_at is null and billing_date < %s",
        (watermark_date,),
    )


def days_to_bill(conn: psycopg.Connection, grace_s: float) -> list[tuple[date, bool]]:
    """(day, billed before) of the days closed for the grace period that were never billed or have
    changed since their last bill, oldest first."""
    rows = conn.execute(
        "select billing_date, billed_at is not null from ops.billing_days"
        " where closed_at <= now() - make_interval(secs => %s)"
        " and (billed_at is null or changed_at > billed_at)"
        " order by billing_date",
        (grace_s,),
    ).fetchall()
    return [(day, billed) for day, billed in rows]


@dataclass(frozen=True)
class DayFigures:
    current: int
    billed: int


def day_figures(conn: psycopg.Connection, day: date) -> DayFigures:
    """The day's WhatsApp notifications now (the panel, as a bill would count them) and as billed."""
    row = conn.execute(
        "select"
        " (select coalesce(sum(whatsapp_notifications), 0) from marts.rpt_notification_panel"
        "  where panel_date = %(day)s),"
        " (select coalesce(sum(whatsapp_notifications), 0) from marts.rpt_notification_billing"
        "  where billing_date = %(day)s)",
        {"day": day},
    ).fetchone()
    assert row is not None
    return DayFigures(int(row[0]), int(row[1]))


def mark_checked(conn: psycopg.Connection, day: date, at: datetime) -> None:
    """The day's bill is still right as of `at`."""
    conn.execute("update ops.billing_days set billed_at = %s where billing_date = %s", (at, day))


# -- the loader's partitions -----------------------------------------------------------------------


def report_partitions(
    conn: psycopg.Connection,
    topic: str,
    committed: Mapping[int, int],
    ends: Mapping[int, int],
    *,
    keep_s: float,
) -> None:
    """The loader's landed offsets and the partitions' ends now, and in the history the health
    check reads (reports older than keep_s pruned)."""
    partitions = sorted(committed.keys() & ends.keys())
    if not partitions:
        return
    report = (topic, partitions, [committed[p] for p in partitions], [ends[p] for p in partitions])
    with conn.transaction():
        conn.execute(
            "insert into ops.loader_partitions"
            " (kafka_topic, kafka_partition, next_offset, end_offset, reported_at)"
            " select %s, unnest(%s::integer[]), unnest(%s::bigint[]), unnest(%s::bigint[]), now()"
            " on conflict (kafka_topic, kafka_partition) do update set next_offset = excluded.next_offset,"
            " end_offset = excluded.end_offset, reported_at = excluded.reported_at",
            report,
        )
        conn.execute(
            "insert into ops.loader_progress"
            " (kafka_topic, kafka_partition, next_offset, end_offset, reported_at)"
            " select %s, unnest(%s::integer[]), unnest(%s::bigint[]), unnest(%s::bigint[]), now()"
            " on conflict do nothing",
            report,
        )
        conn.execute(
            "delete from ops.loader_progress"
            " where kafka_topic = %s and reported_at < now() - make_interval(secs => %s)",
            (topic, keep_s),
        )


@dataclass(frozen=True)
class Progress:
    """One report of the loader's partitions: partition -> (landed next offset, end offset)."""

    age_s: float
    offsets: dict[int, tuple[int, int]]

    @property
    def lag(self) -> int:
        return sum(max(0, end - landed) for landed, end in self.offsets.values())

    @property
    def end(self) -> int:
        return sum(end for _landed, end in self.offsets.values())


def loader_progress(conn: psycopg.Connection, topic: str, since_s: float) -> list[Progress]:
    """The reports of the last since_s seconds and the one before them, oldest first."""
    rows = conn.execute(
        "select extract(epoch from now() - reported_at)::float8, kafka_partition, next_offset, end_offset"
        " from ops.loader_progress where kafka_topic = %(topic)s and reported_at >= coalesce("
        "  (select max(reported_at) from ops.loader_progress where kafka_topic = %(topic)s"
        "   and reported_at <= now() - make_interval(secs => %(since)s)), '-infinity')"
        " order by reported_at, kafka_partition",
        {"topic": topic, "since": since_s},
    ).fetchall()
    reports: dict[float, dict[int, tuple[int, int]]] = {}
    for age_s, partition, landed, end in rows:
        reports.setdefault(age_s, {})[partition] = (landed, end)
    return [Progress(age_s, offsets) for age_s, offsets in reports.items()]


def watermark(conn: psycopg.Connection) -> tuple[datetime | None, date | None]:
    """The pipeline's watermark minute and its day (None, None before any notification)."""
    row = conn.execute(
        "select last_updated_at, watermark_date from marts.rpt_notification_watermark"
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)
