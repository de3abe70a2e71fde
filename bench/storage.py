"""Storage: bytes per event of every notification table, on PostgreSQL and (when
WAREHOUSE_BENCH_TIMESCALE_DSN names a TimescaleDB server, superuser) on TimescaleDB, uncompressed
and compressed; then what that makes at 100 million events a day with the retentions.

The events are bench/notifications.py's (10,000 customers, one with 10% of them, 1% redeliveries),
spaced in event time as 100 million a day (one every 864 us) over the last day, landed with SQL as
the loader commits them, then the minutely models built and `vacuum analyze`d. Sizes are heap with
TOAST, and indexes, summed over partitions and chunks (on TimescaleDB: hypertable_detailed_size;
the rollup is the continuous aggregate's materialization hypertable).

    python -m bench.storage [EVENTS]            # default 1,000,000
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.common import scratch_warehouse, timed, warehouse
from bench.notifications import land
from loader import db
from loader.settings import Settings

BATCH = 100_000  # events per loader transaction
DAY = 100_000_000  # the seed's volume
RAW_DAYS, DETAIL_DAYS = 30, 90  # the default retentions; the rollup is kept forever


@dataclass(frozen=True)
class Size:
    heap: int
    indexes: int


@contextmanager
def timescale_warehouse(server_dsn: str) -> Iterator[None]:
    """A scratch database on the TimescaleDB server, set up by `warehouse up` for the timescale
    target, dropped afterwards."""
    name = f"bench_storage_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="warehouse-bench-") as home:
            os.environ.update(
                WAREHOUSE_HOME=home,
                WAREHOUSE_DSN=urlunsplit(urlsplit(server_dsn)._replace(path=f"/{name}")),
                WAREHOUSE_DBT_TARGET="timescale",
            )
            os.environ.pop("KAFKA_BOOTSTRAP_SERVERS", None)
            warehouse("up")
            try:
                yield
            finally:
                warehouse("down")  # the embedded broker
                for variable in ("WAREHOUSE_DSN", "WAREHOUSE_DBT_TARGET"):
                    os.environ.pop(variable)
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as admin:
            admin.execute(f'drop database "{name}" with (force)')


def relation_size(conn: psycopg.Connection, relation: str) -> Size:
    """Heap (with TOAST) and index bytes of a table, its partitions or its chunks."""
    # the catalog, not timescaledb_information.hypertables, which leaves out the continuous
    # aggregates' materialization hypertables
    row = conn.execute("select to_regclass('_timescaledb_catalog.hypertable')").fetchone()
    hypertable = (
        row is not None
        and row[0] is not None
        and conn.execute(
            "select exists (select from _timescaledb_catalog.hypertable"
            " where format('%%I.%%I', schema_name, table_name)::regclass = %s::regclass)",
            (relation,),
        ).fetchone()
        == (True,)
    )
    if hypertable:
        query = "select table_bytes + toast_bytes, index_bytes from hypertable_detailed_size(%(relation)s)"
    else:
        # the table and its partitions (pg_partition_tree has no row for a plain table)
        query = (
            "select sum(pg_table_size(relid)), sum(pg_indexes_size(relid))"
            " from (select relid from pg_partition_tree(%(relation)s) union select %(relation)s::regclass)"
            " as tree (relid)"
        )
    sizes = conn.execute(query, {"relation": relation}).fetchone()
    assert sizes is not None
    return Size(int(sizes[0] or 0), int(sizes[1] or 0))


def rollup_relation(conn: psycopg.Connection) -> str:
    """The rollup's storage: the table, or a continuous aggregate's materialization hypertable."""
    row = conn.execute(
        "select format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name)"
        " from timescaledb_information.continuous_aggregates where view_name = 'fct_notifications_per_minute'"
        if conn.execute("select to_regclass('timescaledb_information.continuous_aggregates')").fetchone()[0]
        else "select 'marts.fct_notifications_per_minute'"
    ).fetchone()
    return row[0] if row else "marts.fct_notifications_per_minute"


def measure(label: str, events: int) -> dict[str, Size]:
    settings = Settings.from_env()
    with db.connect(settings, autocommit=True) as conn:
        conn.execute("vacuum analyze")
        tables = {
            "raw.notification_events": relation_size(conn, "raw.notification_events"),
            "marts.fct_notifications": relation_size(conn, "marts.fct_notifications"),
            "rollup (fct_notifications_per_minute)": relation_size(conn, rollup_relation(conn)),
        }
        rollup_rows, rolled_up, stored = conn.execute(
            "select count(*), sum(notification_count), (select count(*) from marts.fct_notifications)"
            " from marts.fct_notifications_per_minute"
        ).fetchone()
    print(
        f"\n{label}: {events:,} events, {stored:,} in fct_notifications (redeliveries out),"
        f" {rollup_rows:,} rollup rows counting {rolled_up:,}"
    )
    print(f"{'relation':<40} {'heap B/event':>13} {'index B/event':>14} {'total B/event':>14}")
    for name, size in tables.items():
        total = size.heap + size.indexes
        print(
            f"{name:<40} {size.heap / events:>13.1f} {size.indexes / events:>14.1f} {total / events:>14.1f}"
        )
    raw, fct, rollup = (size.heap + size.indexes for size in tables.values())
    per_day = [DAY * raw / events, DAY * fct / events, DAY * rollup / events]
    kept = per_day[0] * RAW_DAYS + per_day[1] * DETAIL_DAYS
    print(
        f"at {DAY:,} events a day: raw {per_day[0] / 1e9:.1f} GB, fct {per_day[1] / 1e9:.1f} GB,"
        f" rollup {per_day[2] / 1e9:.2f} GB a day; kept with {RAW_DAYS} + {DETAIL_DAYS} days of"
        f" retention: {kept / 1e12:.2f} TB, plus the rollup {per_day[2] * 365 / 1e9:.0f} GB a year"
    )
    return tables


def load_and_build(events: int) -> None:
    settings = Settings.from_env()
    with db.connect(settings, autocommit=True) as conn:
        (starts_at,) = conn.execute("select (now() - interval '1 day')::text").fetchone()
    with timed("land (SQL, as the loader commits)", events):
        for first in range(0, events, BATCH):
            land(settings, first, min(BATCH, events - first), starts_at, "864 microseconds")
    with timed("build the minutely models"):
        warehouse("build", "--quiet", "--select", "+tag:minutely", "+fct_notifications_per_minute")


def materialize_rollup() -> None:
    """Every closed minute into the continuous aggregate's materialization, as billing's refreshes
    leave it (the policy alone covers the last hours; older minutes would be aggregated at query
    time and weigh nothing here)."""
    with db.connect(Settings.from_env(), autocommit=True) as conn, timed("materialize the rollup"):
        conn.execute(
            "call refresh_continuous_aggregate('marts.fct_notifications_per_minute', null,"
            " date_trunc('minute', now()) - interval '2 minutes')"
        )


def compress_all() -> None:
    settings = Settings.from_env()
    with db.connect(settings, autocommit=True) as conn, timed("compress every chunk"):
        for table in ("raw.notification_events", "marts.fct_notifications"):
            conn.execute(
                "select compress_chunk(chunk, if_not_compressed => true) from show_chunks(%s) as chunk",
                (table,),
            )


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with scratch_warehouse():
        load_and_build(events)
        measure("PostgreSQL (daily partitions)", events)
    server = os.environ.get("WAREHOUSE_BENCH_TIMESCALE_DSN")
    if not server:
        print("\nTimescaleDB: skipped (set WAREHOUSE_BENCH_TIMESCALE_DSN to a TimescaleDB superuser URL)")
        return
    with timescale_warehouse(server):
        load_and_build(events)
        materialize_rollup()
        with db.connect(Settings.from_env()) as conn:
            row = conn.execute(
                "select extversion, current_setting('server_version') from pg_extension"
                " where extname = 'timescaledb'"
            ).fetchone()
        print(f"\nTimescaleDB {row[0]} on PostgreSQL {row[1]}" if row else "\nno TimescaleDB extension")
        measure("TimescaleDB, uncompressed", events)
        compress_all()
        measure("TimescaleDB, raw and fct_notifications compressed", events)


if __name__ == "__main__":
    main()
