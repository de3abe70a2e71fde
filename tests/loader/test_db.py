"""The raw schema migration, the pipeline's locks and the read-only BI role."""

from __future__ import annotations

import itertools

import psycopg
import pytest

from loader import PROJECT_DIR, db
from loader.settings import Settings
from tests.conftest import run_warehouse
from tests.notifications_helpers import event, land_events


def test_migrate_is_idempotent(warehouse, conn):
    db.migrate(conn)
    db.migrate(conn)
    tables = {row[0] for row in conn.execute("select tablename from pg_tables where schemaname = 'raw'")}
    assert {"invoices", "loaded_files", "notification_events", "kafka_offsets"} <= tables


def test_migrate_gives_a_fct_notifications_built_before_the_event_key_its_index(warehouse, conn):
    conn.execute(
        "create schema if not exists marts;"
        " create table marts.fct_notifications (message_id text, customer_id bigint, event_at timestamptz,"
        " batch_id bigint);"
        " create unique index on marts.fct_notifications (message_id);"
        " create index on marts.fct_notifications (customer_id, event_at);"
        " create index on marts.fct_notifications (batch_id);"
        " insert into marts.fct_notifications values ('A', 1, '2020-02-03T14:00:01Z', 1)"
    )
    db.migrate(conn)
    db.migrate(conn)
    indexes = conn.execute(
        "select indisunique, pg_get_indexdef(indexrelid) like '%(customer_id, event_at, message_id)'"
        " from pg_index where indrelid = 'marts.fct_notifications'::regclass order by 1, 2"
    ).fetchall()
    assert indexes == [(False, False), (True, True)]  # batch_id's, and the key's in place of two


def test_a_changed_customer_id_rule_rebuilds_the_raw_index(warehouse, conn):
    # the rule before: any string of digits, "1005" included
    conn.execute(
        "create or replace function raw.notification_customer_id(payload jsonb) returns bigint"
        " language sql immutable parallel safe as $$ select case when payload ->> 'customer_id' ~ '^[0-9]+$'"
        " and length(payload ->> 'customer_id') <= 18 then cast(payload ->> 'customer_id' as bigint) end $$"
    )
    # a statement of its own: the raw table is partitioned, and a partitioned index cannot be
    # reindexed inside a transaction block
    conn.execute("reindex index raw.notification_events_customer_idx")
    conn.execute(
        "insert into raw.notification_events (kafka_topic, kafka_partition, kafka_offset, payload)"
        """ values ('t', 0, 0, '{"customer_id": "1005"}'), ('t', 0, 1, '{"customer_id": 1005}')"""
    )
    db.migrate(conn)
    with conn.transaction():
        conn.execute("set local enable_seqscan = off")
        conn.execute("set local enable_bitmapscan = off")
        by_index = conn.execute(
            "select kafka_offset from raw.notification_events"
            " where raw.notification_customer_id(payload) = 1005"
        ).fetchall()
    assert by_index == [(1,)]  # a stale entry would still find the string's row


def test_migrate_moves_the_quarantine_built_in_intermediate_to_marts_with_its_offsets(warehouse, conn):
    conn.execute(
        "create schema if not exists intermediate;"
        " create table intermediate.int_notification_events_quarantined (kafka_offset bigint);"
        " insert into intermediate.int_notification_events_quarantined values (7);"
        " create table intermediate.int_kafka_offsets_processed (model_name text, processed_offset bigint);"
        " insert into intermediate.int_kafka_offsets_processed values"
        " ('int_notification_events_quarantined', 8), ('fct_notifications', 9)"
    )
    db.migrate(conn)
    db.migrate(conn)
    assert conn.execute("select * from marts.fct_notification_events_quarantined").fetchall() == [(7,)]
    assert conn.execute(
        "select to_regclass('intermediate.int_notification_events_quarantined')"
    ).fetchone() == (None,)
    offsets = conn.execute("select * from intermediate.int_kafka_offsets_processed order by 1").fetchall()
    assert offsets == [("fct_notification_events_quarantined", 8), ("fct_notifications", 9)]


def test_bi_reader_reads_marts_and_nothing_else(warehouse, conn):
    db.ensure_bi_reader(conn, password="s3cret'quote")  # a quote must not break the statement
    run_warehouse("load", "invoices", PROJECT_DIR / "data" / "invoices" / "invoices.csv")
    run_warehouse("load", "chatbot", *sorted((PROJECT_DIR / "data" / "chatbot").glob("*.json")))
    run_warehouse("build", "--select", "+dim_accounts", "+fct_chatbot_conversations")
    reader_dsn = psycopg.conninfo.make_conninfo(
        str(warehouse.dsn), user=db.BI_READER_ROLE, password="s3cret'quote"
    )
    with psycopg.connect(reader_dsn, autocommit=True) as reader:
        assert reader.execute("select count(*) from marts.dim_accounts").fetchone() == (4,)
        assert reader.execute('select count(*) from chatbot."F1000"').fetchone() == (2,)
        for relation in (
            "raw.invoices",
            "staging.stg_invoices__invoices",
            "intermediate.int_invoices_aggregated_to_account_months",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(f"select 1 from {relation}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("create table marts.mine (id int)")


def test_reader_dsn_logs_in_as_bi_reader_with_its_password_only(warehouse):
    dsn = db.reader_dsn(warehouse)
    with psycopg.connect(dsn, autocommit=True) as reader:
        assert reader.execute("select current_user").fetchone() == (db.BI_READER_ROLE,)
    wrong = psycopg.conninfo.make_conninfo(dsn, password="wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong)


def test_reader_dsn_without_a_password_says_so(warehouse, monkeypatch):
    monkeypatch.delenv("BI_READER_PASSWORD")
    with pytest.raises(db.WarehouseNotRunning, match="BI_READER_PASSWORD"):
        db.reader_dsn(Settings.from_env())


@pytest.mark.parametrize(
    "statement",
    [
        "create temporary table mine (id int)",
        "select lo_create(0)",
        "select lo_from_bytea(0, 'x')",
        "select pg_advisory_lock(1)",
        "select pg_try_advisory_xact_lock(1)",
        "select pg_advisory_lock_shared(1, 2)",
        "select * from ops.pipeline_locks",
        "select * from ops.dbt_runs",
        "create table marts.mine (id int)",
    ],
)
def test_bi_reader_cannot_make_anything_or_take_a_lock(warehouse, statement):
    with (
        psycopg.connect(db.reader_dsn(warehouse), autocommit=True) as reader,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        reader.execute(statement)


def test_bi_reader_sessions_cannot_idle_in_a_transaction(warehouse):
    with psycopg.connect(db.reader_dsn(warehouse), autocommit=True) as reader:
        assert reader.execute("show idle_in_transaction_session_timeout").fetchone() == ("1min",)


def test_the_pipeline_keeps_temporary_tables(warehouse, conn):
    conn.execute("create temporary table scratch (id int)")


def test_pipeline_lock_is_held_until_the_transaction_ends(warehouse):
    with db.connect(warehouse) as holder, db.connect(warehouse) as waiter:
        db.lock(holder, "test.lock")
        waiter.execute("set lock_timeout = '200ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            db.lock(waiter, "test.lock")
        waiter.rollback()
        db.lock(waiter, "test.other")  # another name: not held
        holder.commit()
        db.lock(waiter, "test.lock")


def partitions(conn: psycopg.Connection, table: str) -> list[tuple[str, str | None, str | None]]:
    """(name, lower bound, upper bound) of the table's partitions, as text, in bound order."""
    return conn.execute(
        "select inhrelid::regclass::text, bounds.lower_bound::text, bounds.upper_bound::text"
        " from pg_inherits, ops.partition_bounds(inhrelid) as bounds"
        " where inhparent = %s::regclass order by bounds.lower_bound nulls last",
        (table,),
    ).fetchall()


def utc_day(conn: psycopg.Connection, days: int) -> str:
    (day,) = conn.execute(
        "select (date_trunc('day', now(), 'UTC') + make_interval(days => %s))::text", (days,)
    ).fetchone()
    return day


def test_raw_events_are_partitioned_by_day_a_week_ahead(warehouse, conn):
    db.migrate(conn)
    assert conn.execute(
        "select relkind from pg_class where oid = 'raw.notification_events'::regclass"
    ).fetchone() == ("p",)
    days = [utc_day(conn, n) for n in range(9)]
    assert [(lower, upper) for _, lower, upper in partitions(conn, "raw.notification_events")] == list(
        itertools.pairwise(days)
    )
    (name, _, _) = partitions(conn, "raw.notification_events")[0]
    assert name == "raw.notification_events_p" + days[0][:10].replace("-", "")
    # the primary key holds the partitioning column, as PostgreSQL requires
    assert conn.execute(
        "select pg_get_constraintdef(oid) from pg_constraint"
        " where conrelid = 'raw.notification_events'::regclass and contype = 'p'"
    ).fetchone() == ("PRIMARY KEY (kafka_topic, kafka_partition, kafka_offset, loaded_at)",)
    land_events(conn, [event(message_id="A")])
    assert conn.execute("select tableoid::regclass::text from raw.notification_events").fetchone() == (name,)


def test_an_unpartitioned_raw_table_becomes_its_first_partition_without_a_copy(warehouse, conn):
    """A warehouse from before raw retention: its table, rows and indexes kept, attached whole."""
    conn.execute(
        "drop table raw.notification_events;"
        " create table raw.notification_events (kafka_topic text not null, kafka_partition integer not null,"
        " kafka_offset bigint not null, kafka_timestamp timestamptz, kafka_key bytea, payload jsonb not null,"
        " loaded_at timestamptz not null default now(),"
        " primary key (kafka_topic, kafka_partition, kafka_offset));"
        " create index notification_events_customer_idx on raw.notification_events"
        " (raw.notification_customer_id(payload), kafka_topic, kafka_partition, kafka_offset)"
    )
    land_events(conn, [event(message_id=f"M{n}") for n in range(3)])
    (old_table,) = conn.execute("select 'raw.notification_events'::regclass::oid").fetchone()
    db.migrate(conn)
    db.migrate(conn)
    tomorrow = utc_day(conn, 1)
    first, *ahead = partitions(conn, "raw.notification_events")
    suffix = tomorrow[:10].replace("-", "")
    assert first == (f"raw.notification_events_before_{suffix}", "-infinity", tomorrow)
    assert len(ahead) == 7  # tomorrow and the six days after
    assert conn.execute("select %s::oid::regclass::text", (old_table,)).fetchone() == (first[0],)
    assert conn.execute("select count(*) from raw.notification_events").fetchone() == (3,)
    parent_indexes = conn.execute(
        "select indexrelid::regclass::text from pg_index where indrelid = 'raw.notification_events'::regclass"
        " order by 1"
    ).fetchall()
    assert parent_indexes == [("raw.notification_events_customer_idx",), ("raw.notification_events_pkey",)]
    land_events(conn, [event(message_id="NEW")])  # today: still the old table's range
    assert conn.execute("select count(*) from raw.notification_events").fetchone() == (4,)


def test_expired_days_are_dropped_whole_and_no_figure_changes(warehouse, conn, monkeypatch):
    """Raw days past RAW_RETENTION_DAYS (by loaded_at) and fct_notifications days past
    DETAIL_RETENTION_DAYS (by event time) go as whole partitions; the panel, the rollup and the bills
    stay, and the models go on by offsets."""
    monkeypatch.setenv("RAW_RETENTION_DAYS", "30")
    monkeypatch.setenv("DETAIL_RETENTION_DAYS", "90")
    old_day, recent_day = utc_day(conn, -100)[:10], utc_day(conn, -10)[:10]
    run_warehouse("build", "--quiet")  # on an empty warehouse: fct_notifications without old days
    conn.execute("select ops.create_daily_partitions('raw.notification_events', 60, 0)")
    conn.execute("select ops.create_daily_partitions('marts.fct_notifications', 120, 0)")
    land_events(conn, [event(message_id=f"O{n}", event_datetime=f"{old_day}T10:00:00Z") for n in range(3)])
    land_events(conn, [event(message_id=f"R{n}", event_datetime=f"{recent_day}T10:00:00Z") for n in range(2)])
    conn.execute(
        "update raw.notification_events set loaded_at = now() - interval '40 days' where kafka_offset < 3"
    )
    run_warehouse("build", "--quiet", "--select", "tag:minutely")
    run_warehouse("bill", "--date", old_day)
    figures = (
        "select (select array_agg((panel_date, whatsapp_notifications)::text order by panel_date)"
        "  from marts.rpt_notification_panel where whatsapp_notifications > 0),"
        " (select array_agg((minute_at, notification_count)::text order by minute_at)"
        "  from marts.fct_notifications_per_minute),"
        " (select array_agg((billing_date, whatsapp_notifications, amount_brl)::text)"
        "  from marts.rpt_notification_billing)"
    )
    before = conn.execute(figures).fetchone()
    assert before[0] == [f"({old_day},3)", f"({recent_day},2)"]

    dropped = db.maintain_partitions(conn, Settings.from_env())
    old_suffix = old_day.replace("-", "")
    assert f"marts.fct_notifications_p{old_suffix}" in dropped
    assert all(
        name.startswith(("raw.notification_events_p", "marts.fct_notifications_p")) for name in dropped
    )
    assert conn.execute("select count(*) from raw.notification_events").fetchone() == (2,)
    assert conn.execute("select message_id from marts.fct_notifications order by 1").fetchall() == [
        ("R0",),
        ("R1",),
    ]
    assert conn.execute(figures).fetchone() == before

    land_events(conn, [event(message_id="NEW", event_datetime=f"{recent_day}T11:00:00Z")])
    run_warehouse("build", "--quiet", "--select", "tag:minutely")
    run_warehouse("bill", "--date", old_day)
    after = conn.execute(figures).fetchone()
    assert after[0] == [f"({old_day},3)", f"({recent_day},3)"]
    assert after[2] == before[2]


def test_a_first_build_with_an_event_ahead_of_the_clock_partitions_its_facts(warehouse, conn):
    """An event time after tomorrow (a producer's clock ahead; valid up to 2099) is outside the
    partition the first build's rows become: it moves to its own partition, and the build passes."""
    land_events(
        conn,
        [event(message_id="NOW"), event(message_id="AHEAD", event_datetime="2099-01-01T10:00:00Z")],
    )
    run_warehouse("build", "--quiet", "--select", "+fct_notifications", "--exclude", "test_type:unit")
    rows = conn.execute(
        "select message_id, tableoid::regclass::text like '%default' from marts.fct_notifications order by 1"
    ).fetchall()
    assert rows == [("AHEAD", True), ("NOW", False)]
