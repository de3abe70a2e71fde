"""`warehouse status`: what the service is doing, read from the database by any process.

The watermark, each partition's landed offset and lag, the last dbt runs, the billing ledger and
the dead letters. `--check` is the health check (docker-compose): healthy when the database
answers and a minutely dbt run succeeded within WAREHOUSE_HEALTH_MAX_AGE seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

import psycopg

from loader.reports.formatting import render_table, utc_iso
from loader.settings import Settings

_T = TypeVar("_T")
RECENT_MINUTELY_RUNS = 3
RECENT_OTHER_RUNS = 5
RECENT_DAYS = 5


@dataclass(frozen=True)
class Status:
    watermark: tuple[datetime, date] | None  # the minute and its day (var notification_day_timezone)
    partitions: list[tuple[int, int, int | None, datetime | None]]  # partition, landed, end, reported_at
    runs: list[tuple[datetime, str, str, date | None, float | None, bool | None]]
    days: list[tuple[date, datetime | None, datetime | None, datetime]]
    rejected: int
    quarantined: int | None
    now: datetime


def _or_none(conn: psycopg.Connection, query: Callable[[], _T]) -> _T | None:
    """None when the relation does not exist yet (dbt has not built it)."""
    try:
        with conn.transaction():
            return query()
    except psycopg.errors.UndefinedTable:
        return None


def fetch(conn: psycopg.Connection, topic: str) -> Status:
    def one(sql: str) -> object:
        row = conn.execute(sql).fetchone()
        return row[0] if row else None

    partitions = conn.execute(
        "select offsets.kafka_partition, offsets.next_offset, reported.end_offset, reported.reported_at"
        " from raw.kafka_offsets as offsets"
        " left join ops.loader_partitions as reported using (kafka_topic, kafka_partition)"
        " where offsets.kafka_topic = %s order by offsets.kafka_partition",
        (topic,),
    ).fetchall()
    # the latest minutely runs, and the latest of the rarer kinds (billing, deploy) they would hide
    runs = conn.execute(
        "select * from ("
        " (select started_at, kind, selection, billing_date,"
        "  extract(epoch from finished_at - started_at)::float8, is_success"
        "  from ops.dbt_runs where kind = 'minutely' order by started_at desc limit %(minutely)s)"
        " union all"
        " (select started_at, kind, selection, billing_date,"
        "  extract(epoch from finished_at - started_at)::float8, is_success"
        "  from ops.dbt_runs where kind <> 'minutely' order by started_at desc limit %(others)s)"
        ") as recent order by started_at desc",
        {"minutely": RECENT_MINUTELY_RUNS, "others": RECENT_OTHER_RUNS},
    ).fetchall()
    days = conn.execute(
        "select billing_date, closed_at, billed_at, changed_at from ops.billing_days"
        " order by billing_date desc limit %s",
        (RECENT_DAYS,),
    ).fetchall()
    watermark = _or_none(
        conn,
        lambda: conn.execute(
            "select last_updated_at, watermark_date from marts.rpt_notification_watermark"
            " where last_updated_at is not null"
        ).fetchone(),
    )
    quarantined = _or_none(
        conn, lambda: one("select count(*) from marts.fct_notification_events_quarantined")
    )
    return Status(
        watermark=watermark,  # type: ignore[arg-type]
        partitions=partitions,
        runs=runs,
        days=days,
        rejected=int(one("select count(*) from raw.notification_events_rejected")),  # type: ignore[arg-type]
        quarantined=quarantined,  # type: ignore[arg-type]
        now=one("select now()"),  # type: ignore[arg-type]
    )


def _ago(now: datetime, moment: datetime | None) -> str:
    return "-" if moment is None else f"{(now - moment).total_seconds():,.0f} s ago"


def _day_state(closed_at: datetime | None, billed_at: datetime | None, changed_at: datetime) -> str:
    if closed_at is None:
        return "open"
    if billed_at is None:
        return "closed, to bill"
    return "billed" if changed_at <= billed_at else "changed since billed, to check"


def render(status: Status, topic: str) -> str:
    watermark = "none (nothing landed or not built yet)"
    if status.watermark is not None:
        minute, day = status.watermark
        watermark = f"{utc_iso(minute)} (day {day.isoformat()})"
    partitions = [
        (
            str(partition),
            f"{landed:,}",
            "-" if end is None else f"{end:,}",
            "-" if end is None else f"{max(0, end - landed):,}",
            _ago(status.now, reported_at),
        )
        for partition, landed, end, reported_at in status.partitions
    ]
    runs = [
        (
            utc_iso(started_at),
            kind,
            selection,
            "" if billing_date is None else billing_date.isoformat(),
            "" if seconds is None else f"{seconds:.1f}",
            "running" if is_success is None else ("ok" if is_success else "FAILED"),
        )
        for started_at, kind, selection, billing_date, seconds, is_success in status.runs
    ]
    days = [
        (
            day.isoformat(),
            _day_state(closed_at, billed_at, changed_at),
            "-" if billed_at is None else utc_iso(billed_at),
        )
        for day, closed_at, billed_at, changed_at in status.days
    ]
    quarantined = "not built yet" if status.quarantined is None else f"{status.quarantined:,}"
    sections = [
        f"Watermark: {watermark}",
        f"Partitions of {topic} (landed: raw.kafka_offsets; end: as the service last fetched it)\n"
        + (
            render_table(("partition", "landed", "end", "lag", "reported"), partitions)
            if partitions
            else "nothing landed yet"
        ),
        "Last dbt runs\n"
        + (
            render_table(("started_at", "kind", "selection", "billing_date", "seconds", "result"), runs)
            if runs
            else "none yet (`warehouse run` runs dbt every minute)"
        ),
        "Billing days\n" + (render_table(("day", "state", "billed_at"), days) if days else "none yet"),
        f"Dead letters: {status.rejected:,} rejected messages (raw.notification_events_rejected),"
        f" {quarantined} quarantined events (marts.fct_notification_events_quarantined)",
    ]
    return "\n\n".join(sections) + "\n"


def check(conn: psycopg.Connection, settings: Settings) -> tuple[bool, str]:
    """(healthy, why): a minutely (or the first, deploying) dbt run succeeded recently."""
    max_age = settings.service.health_max_age_s
    row = conn.execute(
        "select extract(epoch from now() - max(finished_at))::float8 from ops.dbt_runs"
        " where kind in ('minutely', 'deploy') and is_success",
    ).fetchone()
    age = row[0] if row else None
    if age is None:
        return False, "no minutely dbt run has succeeded yet"
    if age > max_age:
        return False, f"the last successful minutely dbt run finished {age:,.0f} s ago (> {max_age:,.0f} s)"
    return True, f"the last successful minutely dbt run finished {age:,.0f} s ago"
