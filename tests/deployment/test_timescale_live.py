"""The timescale target on a live TimescaleDB server: WAREHOUSE_TEST_TIMESCALE_DSN (a superuser's
postgresql:// URL; each test gets a scratch database there, dropped afterwards). Without it every test
here is skipped with that reason (`make test` also says so).

The scenarios the postgres target passes run here unchanged (imported below, with `warehouse`
overridden: a scratch TimescaleDB database set up as `warehouse up` does): Kafka -> loader -> raw ->
dbt -> panel, detail and billing; the service under a stream, billing and re-billing a day after a
late event, SIGTERM. Then what only TimescaleDB has: the upsert's dedup (the unit test the postgres
target runs on the model's query), the continuous aggregate against the facts, the compression and
retention jobs run for real (`call run_job(...)`), and the service started under load."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from loader import db
from loader.generator import produce
from loader.settings import Settings
from tests.conftest import run_warehouse, start_warehouse

# The postgres target's scenarios, collected here once more against TimescaleDB (see `warehouse`).
from tests.loader.reports.test_notifications import land, test_panel_detail_and_billing_for_two_days
from tests.loader.test_service import (
    landed_offsets,
    service_settings,
    stream,
    test_service_follows_the_stream_bills_and_rebills_a_day_and_stops_cleanly,
    wait_for,
)
from tests.models.test_notification_increments import (
    test_a_message_id_reused_by_another_event_is_kept_and_warned_about,
)
from tests.notifications_helpers import event, land_events

SERVER_DSN = os.environ.get("WAREHOUSE_TEST_TIMESCALE_DSN", "")
pytestmark = pytest.mark.skipif(
    not SERVER_DSN, reason="WAREHOUSE_TEST_TIMESCALE_DSN is not set: no live TimescaleDB to run against"
)

__all__ = [  # imported to be collected here: tests and the fixtures they use
    "land",
    "service_settings",
    "test_a_message_id_reused_by_another_event_is_kept_and_warned_about",
    "test_panel_detail_and_billing_for_two_days",
    "test_service_follows_the_stream_bills_and_rebills_a_day_and_stops_cleanly",
]

ROLLUP_MINUS_FACTS = """
    (select customer_id, channel, minute_at, notification_count from marts.fct_notifications_per_minute
     except all
     select customer_id, channel, time_bucket('1 minute', event_at), count(*)
     from marts.fct_notifications group by 1, 2, 3)
    union all
    (select customer_id, channel, time_bucket('1 minute', event_at), count(*)
     from marts.fct_notifications group by 1, 2, 3
     except all
     select customer_id, channel, minute_at, notification_count from marts.fct_notifications_per_minute)
"""


def _with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


@contextmanager
def scratch_database() -> Iterator[str]:
    name = f"test_timescale_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(SERVER_DSN, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    try:
        yield _with_database(SERVER_DSN, name)
    finally:
        with psycopg.connect(SERVER_DSN, autocommit=True) as admin:
            admin.execute(f'drop database "{name}" with (force)')


@pytest.fixture
def warehouse(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Overrides conftest's: a scratch TimescaleDB database with the timescale target, set up as
    `warehouse up` sets it up (raw schema, BI role, the raw hypertable and its policies)."""
    with scratch_database() as dsn:
        monkeypatch.setenv("WAREHOUSE_DSN", dsn)
        monkeypatch.setenv("WAREHOUSE_DBT_TARGET", "timescale")
        # The scenarios replay February 2020: a retention of 90 days by event time would drop them as
        # soon as the policy exists (TimescaleDB runs a new policy at once).
        monkeypatch.setenv("DETAIL_RETENTION_DAYS", "36500")
        settings = Settings.from_env()
        with db.connect(settings) as conn:
            db.migrate(conn, timescale=True)
            db.ensure_bi_reader(conn, password=None)
        run_warehouse("exec", "--", "dbt", "run-operation", "--quiet", "timescale_setup_raw")
        yield settings


def minutely() -> None:
    run_warehouse("exec", "--", "dbt", "run", "--quiet", "--select", "tag:minutely")  # as the service runs


def job_id(conn: psycopg.Connection, proc_name: str, schema: str, table: str) -> int:
    row = conn.execute(
        "select job_id from timescaledb_information.jobs"
        " where proc_name = %s and hypertable_schema = %s and hypertable_name = %s",
        (proc_name, schema, table),
    ).fetchone()
    assert row is not None, f"no {proc_name} job on {schema}.{table}"
    return row[0]


def chunks(conn: psycopg.Connection, schema: str, table: str) -> list[tuple[datetime, bool]]:
    """(range_start, is_compressed) of every chunk of the hypertable, oldest first."""
    return conn.execute(
        "select range_start, is_compressed from timescaledb_information.chunks"
        " where hypertable_schema = %s and hypertable_name = %s order by range_start",
        (schema, table),
    ).fetchall()


def test_warehouse_up_and_build_pass_with_telemetry_off(kafka):
    """`warehouse up && warehouse build` (docker-compose's warehouse-init) on the live server."""
    run_warehouse("up")
    build = run_warehouse("build")
    assert "Completed successfully" in build.stdout
    assert "ERROR=0 SKIP=0" in build.stdout
    with db.connect(kafka, autocommit=True) as conn:
        hypertables = conn.execute(
            "select hypertable_schema || '.' || hypertable_name, compression_enabled"
            " from timescaledb_information.hypertables order by 1"
        ).fetchall()
        assert ("raw.notification_events", True) in hypertables
        assert ("marts.fct_notifications", True) in hypertables
        assert conn.execute(
            "select materialized_only from timescaledb_information.continuous_aggregates"
            " where view_schema = 'marts' and view_name = 'fct_notifications_per_minute'"
        ).fetchall() == [(False,)]


def test_a_redelivery_of_a_stored_event_is_left_out_even_in_a_compressed_chunk(conn):
    """What the unit test test_fct_notifications__skips_events_stored_before checks on PostgreSQL's
    query: here ON CONFLICT DO NOTHING of the upsert does it, so it runs through the model itself."""
    land_events(conn, [event(message_id="A", event_datetime="2020-02-03T14:00:01Z")])
    run_warehouse("build", "--quiet")
    land_events(conn, [event(message_id="A", event_datetime="2020-02-03T14:00:01Z")])  # a redelivery
    land_events(conn, [event(message_id="A", event_datetime="2020-02-03T15:00:01Z")])  # another event
    minutely()
    stored = (
        "select message_id, event_at::text, kafka_offset from marts.fct_notifications order by kafka_offset"
    )
    assert conn.execute(stored).fetchall() == [
        ("A", "2020-02-03 14:00:01+00", 0),
        ("A", "2020-02-03 15:00:01+00", 2),
    ]

    # the day's chunk compressed: a redelivery is still left out, a late event still lands
    (chunk,) = conn.execute("select show_chunks('marts.fct_notifications')").fetchone()
    conn.execute("select compress_chunk(%s)", (chunk,))
    assert chunks(conn, "marts", "fct_notifications") == [(datetime(2020, 2, 3, tzinfo=UTC), True)]
    land_events(conn, [event(message_id="A", event_datetime="2020-02-03T14:00:01Z")])
    land_events(conn, [event(message_id="LATE", event_datetime="2020-02-03T14:30:00Z")])
    minutely()
    assert conn.execute(stored).fetchall() == [
        ("A", "2020-02-03 14:00:01+00", 0),
        ("A", "2020-02-03 15:00:01+00", 2),
        ("LATE", "2020-02-03 14:30:00+00", 4),
    ]
    assert conn.execute(ROLLUP_MINUS_FACTS).fetchall() == []


def test_the_rollup_is_the_facts_counted_per_minute(conn):
    """Real-time: the minutes fct_notifications holds are in the rollup, materialized or aggregated at
    query time. A late event below the materialization's watermark and older than the refresh
    policy's window (3 hours) leaves its minute stale until billing refreshes its day."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    recent = [
        event(
            message_id=f"R{n}",
            channel=("Whatsapp", "SMS")[n % 2],
            event_datetime=(now - timedelta(minutes=n)).isoformat(),
        )
        for n in range(30)
    ]
    old = [event(message_id=f"O{n}", event_datetime=f"2020-02-03T10:{n:02d}:00Z") for n in range(10)]
    land_events(conn, [*recent, *old])
    run_warehouse("build", "--quiet")
    assert conn.execute(ROLLUP_MINUS_FACTS).fetchall() == []
    total = "select sum(notification_count) from marts.fct_notifications_per_minute"
    assert conn.execute(total).fetchone() == (40,)

    # a late event into an old minute, one into the open minute
    land_events(conn, [event(message_id="L1", event_datetime="2020-02-03T10:00:30Z")])
    land_events(conn, [event(message_id="L2", event_datetime=now.isoformat())])
    minutely()
    stale_minute = [
        (7494212, "whatsapp", datetime(2020, 2, 3, 10, tzinfo=UTC), 1),  # the rollup's
        (7494212, "whatsapp", datetime(2020, 2, 3, 10, tzinfo=UTC), 2),  # the facts'
    ]
    assert sorted(conn.execute(ROLLUP_MINUS_FACTS).fetchall()) == stale_minute
    refresh_job = job_id(conn, "policy_refresh_continuous_aggregate", "marts", "fct_notifications_per_minute")
    conn.execute("call run_job(%s)", (refresh_job,))
    assert sorted(conn.execute(ROLLUP_MINUS_FACTS).fetchall()) == stale_minute  # outside its window
    run_warehouse("bill", "--date", "2020-02-03")
    assert conn.execute(ROLLUP_MINUS_FACTS).fetchall() == []
    assert conn.execute(total).fetchone() == (42,)


FIGURES = (
    "select (select array_agg((customer_id, panel_date, whatsapp_notifications)::text"
    "   order by customer_id, panel_date)"
    "  from marts.rpt_notification_panel where whatsapp_notifications > 0),"
    " (select array_agg((customer_id, minute_at, notification_count)::text order by customer_id, minute_at)"
    "  from marts.fct_notifications_per_minute),"
    " (select array_agg((billing_date, customer_id, whatsapp_notifications, amount_brl)::text"
    "   order by billing_date, customer_id)"
    "  from marts.rpt_notification_billing)"
)


def day_ago(conn: psycopg.Connection, days: int) -> str:
    (day,) = conn.execute("select (current_date - %s)::text", (days,)).fetchone()
    return day


def test_raw_compression_and_retention_jobs_run_and_change_no_figure(conn):
    """The raw hypertable's policies run (`call run_job`) on rows landed 4 and 40 days ago: those
    compressed, these dropped with their chunk; the panel, the rollup and the bills stay."""
    land_events(
        conn, [event(message_id=f"M{n}", event_datetime=f"2020-02-03T14:{n:02d}:00Z") for n in range(20)]
    )
    beta = [
        event(message_id=f"S{n}", customer_id=2, customer_name="Beta", event_datetime="2020-02-03T15:00:00Z")
        for n in range(5)
    ]
    land_events(conn, beta, partition=1)
    # as if landed 40 and 4 days ago (loaded_at is the hypertable's time column: rows move by
    # delete and insert, TimescaleDB does not move them between chunks)
    conn.execute(
        "with landed as (delete from raw.notification_events returning *)"
        " insert into raw.notification_events select kafka_topic, kafka_partition, kafka_offset,"
        " kafka_timestamp, kafka_key, kafka_headers, payload,"
        " now() - case kafka_partition when 0 then interval '40 days'"
        " else interval '4 days' end from landed"
    )
    run_warehouse("build", "--quiet")
    run_warehouse("bill", "--date", "2020-02-03")
    before = conn.execute(FIGURES).fetchone()
    assert before[0] == ["(2,2020-02-03,5)", "(7494212,2020-02-03,20)"]

    conn.execute("call run_job(%s)", (job_id(conn, "policy_compression", "raw", "notification_events"),))
    # 40 and 4 days old: compressed; today's (emptied by the move) is not
    compressed = [True, True, False]
    assert [is_compressed for _, is_compressed in chunks(conn, "raw", "notification_events")] == compressed
    conn.execute("call run_job(%s)", (job_id(conn, "policy_retention", "raw", "notification_events"),))
    assert len(chunks(conn, "raw", "notification_events")) == 2  # the 40-day-old chunk is gone
    assert conn.execute("select count(*) from raw.notification_events").fetchone() == (5,)
    assert conn.execute(FIGURES).fetchone() == before

    # the models go on by offsets: a new event counts, nothing old is missed or counted again
    land_events(conn, [event(message_id="NEW", event_datetime="2020-02-03T16:00:00Z")])
    minutely()
    run_warehouse("bill", "--date", "2020-02-03")
    after = conn.execute(FIGURES).fetchone()
    assert after[0] == ["(2,2020-02-03,5)", "(7494212,2020-02-03,21)"]
    assert conn.execute(ROLLUP_MINUS_FACTS).fetchall() == []


def test_detail_retention_drops_fct_chunks_and_the_rollup_and_bills_keep_them(conn, monkeypatch):
    """fct_notifications' retention (DETAIL_RETENTION_DAYS) drops the chunks of event days past it:
    the continuous aggregate keeps their minutes (no refresh reaches them, billing's neither) and
    the bills stay. Its compression compresses older days, and a late event still lands in one."""
    old_day, recent_day = day_ago(conn, 95), day_ago(conn, 10)
    land_events(conn, [event(message_id=f"O{n}", event_datetime=f"{old_day}T10:00:00Z") for n in range(3)])
    land_events(conn, [event(message_id=f"R{n}", event_datetime=f"{recent_day}T10:00:00Z") for n in range(2)])
    run_warehouse("build", "--quiet")
    run_warehouse("bill", "--date", old_day)
    before = conn.execute(FIGURES).fetchone()
    assert before[0] == [f"(7494212,{old_day},3)", f"(7494212,{recent_day},2)"]
    assert before[2] == [f"({old_day},7494212,3,0.12)"]

    monkeypatch.setenv("DETAIL_RETENTION_DAYS", "90")
    run_warehouse("build", "--quiet", "--select", "fct_notifications")  # the hook replaces the policy
    retention = job_id(conn, "policy_retention", "marts", "fct_notifications")
    assert conn.execute("select config ->> 'drop_after' from timescaledb_information.jobs where job_id = %s",
                        (retention,)).fetchone() == ("90 days",)  # fmt: skip
    conn.execute("call run_job(%s)", (retention,))
    assert conn.execute("select message_id from marts.fct_notifications order by 1").fetchall() == [
        ("R0",),
        ("R1",),
    ]
    assert conn.execute(FIGURES).fetchone() == before
    run_warehouse("bill", "--date", old_day)  # a re-bill of the expired day does not refresh it
    assert conn.execute(FIGURES).fetchone() == before

    conn.execute("call run_job(%s)", (job_id(conn, "policy_compression", "marts", "fct_notifications"),))
    assert chunks(conn, "marts", "fct_notifications")[0][1] is True  # the recent day's, 10 days old
    land_events(conn, [event(message_id="LATE", event_datetime=f"{recent_day}T11:00:00Z")])
    minutely()
    run_warehouse("bill", "--date", recent_day)
    assert conn.execute(
        "select whatsapp_notifications from marts.rpt_notification_billing where billing_date = %s",
        (recent_day,),
    ).fetchone() == (3,)
    assert conn.execute(FIGURES).fetchone()[1] == [
        f'(7494212,"{old_day} 10:00:00+00",3)',
        f'(7494212,"{recent_day} 10:00:00+00",2)',
        f'(7494212,"{recent_day} 11:00:00+00",1)',
    ]


def stored(conn: psycopg.Connection) -> int:
    try:
        return conn.execute("select count(*) from marts.fct_notifications").fetchone()[0]
    except psycopg.errors.UndefinedTable:  # before the service's first run
        return 0


def test_service_started_under_load_stops_on_sigterm_with_every_offset_landed_once(
    service_settings, conn, tmp_path
):
    bootstrap, topic = service_settings.kafka.bootstrap_servers, service_settings.kafka.topic
    assert bootstrap is not None
    backlog = stream(20_000, datetime(2020, 2, 3, 23, 50, tzinfo=UTC), timedelta(milliseconds=40), "L")
    produce(bootstrap, topic, [item.message() for item in backlog])
    log = tmp_path / "service.log"
    service = start_warehouse("run", log=log)
    producer = start_warehouse(
        "generate",
        "--rate",
        "1000",
        "--duration",
        "20",
        "--start",
        "2020-02-04",
        log=tmp_path / "generate.log",
    )
    try:
        wait_for(lambda: stored(conn) >= 20_000, "the backlog in fct_notifications", timeout_s=180)
        assert producer.poll() is None, "the generator should still be producing"
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=60) == 0, log.read_text()
        assert producer.wait(timeout=60) == 0
    finally:
        for process in (service, producer):
            if process.poll() is None:
                process.kill()
                process.wait()
    for partition, (next_offset, count, end) in landed_offsets(conn, topic).items():
        assert count == end == next_offset, f"partition {partition}"
    run_warehouse("load", "kafka", "--until-idle", "2")
    minutely()
    (produced,) = conn.execute(
        "select sum(next_offset) from raw.kafka_offsets where kafka_topic = %s", (topic,)
    ).fetchone()
    assert produced == 20_000 + 20 * 1000
    # replayed February 2020 lies below the aggregate's watermark and outside its policy's window:
    # materialized by a refresh (billing's, of each day), then the rollup is the facts
    conn.execute(
        "call refresh_continuous_aggregate('marts.fct_notifications_per_minute', null,"
        " date_trunc('minute', now()) - interval '2 minutes')"
    )
    assert conn.execute(ROLLUP_MINUS_FACTS).fetchall() == []
    assert "status:" in log.read_text()
