"""The raw schema migration and the read-only BI role."""

from __future__ import annotations

import psycopg
import pytest

from loader import PROJECT_DIR, db
from tests.conftest import run_warehouse


def test_migrate_is_idempotent(warehouse, conn):
    db.migrate(conn)
    db.migrate(conn)
    tables = {row[0] for row in conn.execute("select tablename from pg_tables where schemaname = 'raw'")}
    assert {"invoices", "loaded_files", "notification_events", "kafka_offsets"} <= tables


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
