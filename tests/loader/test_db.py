"""The raw schema migration, the pipeline's locks and the read-only BI role."""

from __future__ import annotations

import psycopg
import pytest

from loader import PROJECT_DIR, db
from loader.settings import Settings
from tests.conftest import run_warehouse


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
