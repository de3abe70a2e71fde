"""`warehouse status`: what the service is doing, read from the database by any process.

The watermark, each partition's landed offset and lag, the last dbt runs, the billing ledger and
the dead letters. `--check` is the health check (docker-compose): healthy when the database
answers, a minutely dbt run succeeded within WAREHOUSE_HEALTH_MAX_AGE seconds and the loader keeps
up (loader_problems: over WAREHOUSE_HEALTH_MAX_STALL seconds, rows landed wherever there was lag and
the lag did not grow by more than 5% of what arrived).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

import psycopg

from loader import ops
from loader.reports.formatting import render_table, utc_iso
from loader.settings import Settings

_T = TypeVar("_T")
RECENT_MINUTELY_RUNS = 3
RECENT_OTHER_RUNS = 5
RECENT_DAYS = 5
# A lag that stays within one poll's batch (the loader's BATCH_SIZE) is a loader keeping up.
LAG_SLACK = 10_000
LAG_SHARE = 0.05


@dataclass(frozen=True)
class Status:
    watermark: tuple[datetime, date] | None  # the minute and its day (var notification_day_timezone)
    partitions: list[tuple[int, int, int | None, datetime | None]]  # partition, landed, end, reported_at
    runs: list[tuple[datetime, str, str, date | None, float | None, bool | None]]
    days: list[tuple[date, datetime | None, datetime | None, datetime]]
    rejected: int
    quarantined: int | None
    now: datetime
    health: tuple[bool, str]  # what `--check` says
    broker_warning: str | None


def _or_none(conn: psycopg.Connection, query: Callable[[], _T]) -> _T | None:
    """None when the relation does not exist yet (dbt has not built it)."""
    try:
        with conn.transaction():
            return query()
    except psycopg.errors.UndefinedTable:
        return None


def fetch(conn: psycopg.Connection, settings: Settings) -> Status:
    topic = settings.kafka.topic

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
        health=check(conn, settings),
        broker_warning=embedded_broker_warning(settings, sum(end or 0 for _p, _l, end, _r in partitions)),
    )


def _ago(now: datetime, moment: datetime | None) -> str:
    return "-" if moment is None else f"{(now - moment).total_seconds():,.0f} s ago"


def day_state(closed_at: datetime | None, billed_at: datetime | None, changed_at: datetime) -> str:
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
            day_state(closed_at, billed_at, changed_at),
            "-" if billed_at is None else utc_iso(billed_at),
        )
        for day, closed_at, billed_at, changed_at in status.days
    ]
    quarantined = "not built yet" if status.quarantined is None else f"{status.quarantined:,}"
    healthy, why = status.health
    sections = [
        f"Health: {'healthy' if healthy else 'UNHEALTHY'}: {why}",
        *([f"WARNING: {status.broker_warning}"] if status.broker_warning else []),
        f"Watermark: {watermark}",
        f"Partitions of {topic} (landed: raw.kafka_offsets; end: as the service last read it)\n"
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


def loader_problems(reports: Sequence[ops.Progress], max_stall_s: float) -> list[str]:
    """Why the loader is not keeping up, judged on its reports over the last max_stall_s seconds
    (ops.loader_progress, oldest first; the first one at least max_stall_s old); none: it keeps up
    (or has not been reported for long enough to tell)."""
    if not reports:
        return []
    first, latest = reports[0], reports[-1]
    if latest.age_s > max_stall_s:
        return [f"the service last reported the loader's progress {latest.age_s:,.0f} s ago"]
    if first.age_s < max_stall_s or len(reports) < 2:
        return []
    problems = [
        f"partition {partition}: no rows landed for {first.age_s:,.0f} s, {end - landed:,} messages behind"
        for partition, (landed, end) in sorted(latest.offsets.items())
        if partition in first.offsets
        and first.offsets[partition][0] == landed
        and first.offsets[partition][1] > landed
        and end > landed
    ]
    # Falling behind: the lag grew by more than a batch and more than LAG_SHARE of what arrived
    # meanwhile (a spike of a few seconds' worth under load is not falling behind).
    arrived = latest.end - first.end
    grown = latest.lag - first.lag
    if grown > max(LAG_SLACK, LAG_SHARE * arrived):
        problems.append(
            f"the lag grew from {first.lag:,} to {latest.lag:,} messages over {first.age_s:,.0f} s:"
            f" {arrived - grown:,} landed of {arrived:,} that arrived"
        )
    return problems


def embedded_broker_warning(settings: Settings, messages: int) -> str | None:
    """A warning when the embedded broker holds more messages than it keeps serving well."""
    limit = settings.kafka.embedded_warn_messages
    if not settings.kafka.is_embedded or messages <= limit:
        return None
    return (
        f"the embedded broker holds {messages:,} messages (> {limit:,}, KAFKA_EMBEDDED_WARN_MESSAGES):"
        " it keeps every one in memory and its fetches slow down until the loader falls behind"
        " (docs/kafka.md); for sustained load use Apache Kafka (KAFKA_BOOTSTRAP_SERVERS)"
    )


def _dbt_check(conn: psycopg.Connection, max_age: float) -> tuple[bool, str]:
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


def check(conn: psycopg.Connection, settings: Settings) -> tuple[bool, str]:
    """(healthy, why): a minutely (or the first, deploying) dbt run succeeded recently and the
    loader keeps up."""
    max_stall = settings.service.health_max_stall_s
    dbt_healthy, dbt_reason = _dbt_check(conn, settings.service.health_max_age_s)
    problems = loader_problems(ops.loader_progress(conn, settings.kafka.topic, max_stall), max_stall)
    if not problems:
        return dbt_healthy, dbt_reason
    loader_reason = f"the loader is not keeping up ({max_stall:,.0f} s at most): {'; '.join(problems)}"
    return False, loader_reason if dbt_healthy else f"{dbt_reason}; {loader_reason}"
