"""Connections to the warehouse and the raw schema the loader owns."""

from __future__ import annotations

import logging
from importlib import resources
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from loader import embedded
from loader.settings import Settings

log = logging.getLogger(__name__)


class WarehouseNotRunning(RuntimeError):
    pass


def resolve_dsn(settings: Settings) -> str:
    """WAREHOUSE_DSN when set, else the running embedded server."""
    if settings.dsn is not None:
        return settings.dsn
    server_dsn = embedded.dsn(settings.home)
    if server_dsn is None:
        raise WarehouseNotRunning(
            f"no warehouse: the embedded PostgreSQL in {settings.home} is not running "
            "(run `warehouse up`, or set WAREHOUSE_DSN to use an existing server)"
        )
    return server_dsn


def connect(settings: Settings, **kwargs: object) -> psycopg.Connection:
    return psycopg.connect(resolve_dsn(settings), application_name="warehouse-loader", **kwargs)


MIGRATIONS = (
    "sql/daily_partitions.sql",
    "sql/raw_schema.sql",
    "sql/ops_schema.sql",
    "sql/marts_upgrade.sql",
)
RAW_EVENTS = "raw.notification_events"
DETAIL_FACTS = "marts.fct_notifications"
# Partitions exist this many days ahead: a loader that runs without the service (which adds them
# every hour) still has a partition for its rows for a week.
PARTITION_DAYS_AHEAD = 7


def migrate(conn: psycopg.Connection, *, timescale: bool = False) -> None:
    """Create the raw and ops schemas and tables if missing; upgrade tables dbt built before a change.
    On plain PostgreSQL (not `timescale`) raw events are partitioned by day (an unpartitioned table
    from before becomes the first partition, see loader/sql/daily_partitions.sql) and the days ahead
    get their partitions; on TimescaleDB the raw table stays plain for timescale_setup_raw.

    Idempotent and safe to run concurrently (the statements: loader/sql/).
    """
    with conn.transaction():
        # Serialise concurrent migrations: `create ... if not exists` races on the catalog otherwise.
        conn.execute("select pg_advisory_xact_lock(hashtext('warehouse.raw_schema'))")
        for path in MIGRATIONS:
            conn.execute(resources.files("loader").joinpath(path).read_text())
        if not timescale:
            conn.execute(
                "select ops.partition_by_day(%s, 'loaded_at', false, 0, %s)",
                (RAW_EVENTS, PARTITION_DAYS_AHEAD),
            )
            conn.execute("select ops.create_daily_partitions(%s, 0, %s)", (RAW_EVENTS, PARTITION_DAYS_AHEAD))


# Dropping a partition waits for the queries reading the table; behind it, new queries would wait
# too. Give up after this long and try again at the next maintenance.
PARTITION_LOCK_TIMEOUT = "5s"


def maintain_partitions(conn: psycopg.Connection, settings: Settings) -> list[str]:
    """Raw events' and fct_notifications' daily partitions on plain PostgreSQL: the days ahead
    created, the days past RAW_RETENTION_DAYS / DETAIL_RETENTION_DAYS dropped whole; returns the
    dropped partitions. Nothing on TimescaleDB (retention policies) or on tables not partitioned."""
    if settings.is_timescale:
        return []
    retention = settings.retention
    dropped: list[str] = []
    for table, days in ((RAW_EVENTS, retention.raw_days), (DETAIL_FACTS, retention.detail_days)):
        try:
            with conn.transaction():
                conn.execute(f"set local lock_timeout = '{PARTITION_LOCK_TIMEOUT}'")
                row = conn.execute(
                    "select ops.create_daily_partitions(to_regclass(%(table)s), 0, %(ahead)s),"
                    " ops.drop_daily_partitions(to_regclass(%(table)s), make_interval(days => %(days)s))",
                    {"table": table, "ahead": PARTITION_DAYS_AHEAD, "days": days},
                ).fetchone()
        except psycopg.errors.LockNotAvailable:
            log.warning(
                "%s: partitions busy for %s, maintained at the next attempt", table, PARTITION_LOCK_TIMEOUT
            )
            continue
        dropped += row[1] if row and row[1] else []
    return dropped


BI_READER_ROLE = "bi_reader"
# marts: dbt grants each model it builds; chatbot: the per-flow views (default privileges cover them).
BI_SCHEMAS = ("marts", "chatbot")


def ensure_bi_reader(conn: psycopg.Connection, password: str | None) -> None:
    """The read-only role BI tools log in with: SELECT on the marts, nothing else.

    dbt grants SELECT on every mart it builds (`+grants` in dbt_project.yml); this creates the role
    and the schema usage. It can log in only when BI_READER_PASSWORD is set (never stored here).
    """
    role = sql.Identifier(BI_READER_ROLE)
    login = sql.SQL("login password {}").format(sql.Literal(password)) if password else sql.SQL("nologin")
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('warehouse.bi_reader'))")
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (BI_READER_ROLE,)).fetchone()
        verb = sql.SQL("alter") if exists else sql.SQL("create")
        conn.execute(sql.SQL("{} role {} {}").format(verb, role, login))
        for schema in map(sql.Identifier, BI_SCHEMAS):
            conn.execute(sql.SQL("create schema if not exists {}").format(schema))
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(schema, role))
            conn.execute(sql.SQL("grant select on all tables in schema {} to {}").format(schema, role))
            conn.execute(
                sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(
                    schema, role
                )
            )


def dbt_env(dsn: str) -> dict[str, str]:
    """The connection as the env vars profiles/profiles.yml reads through env_var()."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError("WAREHOUSE_DSN must be a postgresql:// URL")
    return {
        "WAREHOUSE_DB_HOST": parts.hostname or "127.0.0.1",
        "WAREHOUSE_DB_PORT": str(parts.port or 5432),
        "WAREHOUSE_DB_USER": unquote(parts.username or "postgres"),
        "WAREHOUSE_DB_PASSWORD": unquote(parts.password or ""),
        "WAREHOUSE_DB_NAME": unquote(parts.path.lstrip("/") or "postgres"),
    }
