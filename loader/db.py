"""Connections to the warehouse and the raw schema the loader owns."""

from __future__ import annotations

import logging
from importlib import resources
from urllib.parse import quote, unquote, urlsplit

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


BI_READER_ROLE = "bi_reader"
# marts: dbt grants each model it builds; chatbot: the per-flow views (default privileges cover them).
BI_SCHEMAS = ("marts", "chatbot")


def bi_reader_password(settings: Settings) -> str | None:
    """BI_READER_PASSWORD when set, else on the embedded server its generated one, else None."""
    if settings.bi_reader_password is not None:
        return settings.bi_reader_password
    return embedded.password(settings.home, BI_READER_ROLE) if settings.is_embedded else None


def _role_dsn(settings: Settings, role: str, password: str | None, variable: str) -> str:
    """The DSN of `role` (its password, or the variable that sets it, given): the warehouse's server
    and database."""
    if password is None:
        raise WarehouseNotRunning(f"no password for {role}: set {variable} (and run `warehouse up` with it)")
    parts = urlsplit(resolve_dsn(settings))
    host = parts.netloc.rpartition("@")[2]
    credentials = f"{quote(role, safe='')}:{quote(password, safe='')}"
    return parts._replace(netloc=f"{credentials}@{host}").geturl()


def reader_dsn(settings: Settings) -> str:
    """The DSN of the read-only role (`bi_reader`): the warehouse's server and database."""
    return _role_dsn(settings, BI_READER_ROLE, bi_reader_password(settings), "BI_READER_PASSWORD")


def without_password(dsn: str) -> str:
    """The DSN to show in logs."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    user, _, host = parts.netloc.rpartition("@")
    return parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}").geturl()


# The pipeline's mutexes: row locks (held to the end of the transaction) on a table only the pipeline
# can reach, so a reader cannot take or hold them as it could advisory locks (macros/utils/pipeline_lock.sql
# takes the same locks in dbt).
_LOCKS_DDL = """
create schema if not exists ops;
create table if not exists ops.pipeline_locks (
    name text primary key,
    locked_at timestamptz not null default now()
)
"""
_LOCK = """
insert into ops.pipeline_locks as locks (name) values (%s)
on conflict (name) do update set locked_at = excluded.locked_at
"""


def lock(conn: psycopg.Connection, name: str) -> None:
    """Wait for, then hold until the transaction ends, the pipeline's lock `name`."""
    conn.execute(_LOCK, (name,))


def _create_locks_table(conn: psycopg.Connection) -> None:
    # Concurrent `create ... if not exists` can collide on the catalog: the loser retries once the
    # winner has committed, and then finds the table.
    for attempt in range(3):
        try:
            with conn.transaction():
                conn.execute(_LOCKS_DDL)
            return
        except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject):
            if attempt == 2:
                raise


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
    _create_locks_table(conn)
    with conn.transaction():
        # Serialise concurrent migrations: `create ... if not exists` races on the catalog otherwise.
        lock(conn, "warehouse.raw_schema")
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


# What PUBLIC (hence any reader) may no longer execute in the warehouse's database: taking advisory
# locks and creating large objects. Nothing of the pipeline uses either (its locks: `lock`), nor does
# TimescaleDB from SQL (its C code takes its locks directly). Only a superuser can change these.
_REVOKE_FROM_PUBLIC = r"""
do $$
declare
    function regprocedure;
begin
    for function in
        select oid::regprocedure from pg_proc
        where pronamespace = 'pg_catalog'::regnamespace
            and (
                proname ~ '^pg_(try_)?advisory_(xact_)?lock'
                or proname in ('lo_creat', 'lo_create', 'lo_from_bytea', 'lo_import')
            )
    loop
        execute format('revoke execute on function %s from public', function);
    end loop;
end
$$
"""
# A reader's session cannot sit in an open transaction (holding its locks on the marts, which
# would hold off dbt's table swaps) for long. Role defaults: a session could still SET them.
_READER_SETTINGS = {"idle_in_transaction_session_timeout": "60s", "statement_timeout": "15min"}


def _ensure_login_role(
    conn: psycopg.Connection, name: str, password: str | None, settings: dict[str, str]
) -> None:
    """Create the role or set its password (without one a new role cannot log in and an existing
    one keeps its own), and its session defaults."""
    role = sql.Identifier(name)
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (name,)).fetchone()
    if password:
        verb = sql.SQL("alter") if exists else sql.SQL("create")
        conn.execute(sql.SQL("{} role {} login password {}").format(verb, role, sql.Literal(password)))
    elif not exists:
        conn.execute(sql.SQL("create role {} nologin").format(role))
    for setting, value in settings.items():
        conn.execute(
            sql.SQL("alter role {} set {} = {}").format(role, sql.Identifier(setting), sql.Literal(value))
        )


def ensure_bi_reader(conn: psycopg.Connection, password: str | None) -> None:
    """The read-only role BI tools log in with: SELECT on the marts, nothing else.

    dbt grants SELECT on every mart it builds (`+grants` in dbt_project.yml); this creates the role
    and the schema usage, and takes from every role but the pipeline's the database's temporary
    tables, advisory locks and large objects. It logs in with a password only (BI_READER_PASSWORD,
    on the embedded server a generated one: `bi_reader_password`); without one a new role cannot log
    in and an existing one keeps the password it has.
    """
    role = sql.Identifier(BI_READER_ROLE)
    with conn.transaction():
        lock(conn, "warehouse.bi_reader")
        _ensure_login_role(conn, BI_READER_ROLE, password, _READER_SETTINGS)
        for schema in map(sql.Identifier, BI_SCHEMAS):
            conn.execute(sql.SQL("create schema if not exists {}").format(schema))
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(schema, role))
            conn.execute(sql.SQL("grant select on all tables in schema {} to {}").format(schema, role))
            conn.execute(
                sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(
                    schema, role
                )
            )
        database = sql.Identifier(conn.info.dbname)
        # dbt's incremental models need temporary tables: the pipeline's role keeps them.
        conn.execute(sql.SQL("revoke temporary on database {} from public").format(database))
        conn.execute(sql.SQL("grant temporary on database {} to current_user").format(database))
        row = conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()
        if row and row[0]:
            conn.execute(_REVOKE_FROM_PUBLIC)
        else:
            log.warning(
                "not a superuser: PUBLIC keeps advisory locks and large objects in %s (the pipeline does"
                " not use them; revoke execute on pg_advisory_*lock* and lo_creat(e)/lo_from_bytea from"
                " public as a superuser to take them from %s)",
                conn.info.dbname,
                BI_READER_ROLE,
            )


PORTAL_READER_ROLE = "portal_reader"
# What the operator portal's status page reads beyond the marts (as `warehouse status` does), and
# the links' revocation counters: bi_reader is refused all of it.
PORTAL_TABLES = (
    "ops.portal_links",
    "ops.dbt_runs",
    "ops.billing_days",
    "ops.loader_partitions",
    "ops.loader_progress",
    "raw.kafka_offsets",
    "raw.notification_events_rejected",
)


def portal_reader_password(settings: Settings) -> str | None:
    """PORTAL_READER_PASSWORD when set, else on the embedded server its generated one, else None."""
    if settings.portal_reader_password is not None:
        return settings.portal_reader_password
    return embedded.password(settings.home, PORTAL_READER_ROLE) if settings.is_embedded else None


def ensure_portal_reader(conn: psycopg.Connection, password: str | None) -> None:
    """The role `warehouse serve` reads through: what bi_reader reads (it is a member), the links'
    revocation counters and the service's status tables; read-only transactions by default.

    Like bi_reader it logs in with a password only (`portal_reader_password`).
    """
    role = sql.Identifier(PORTAL_READER_ROLE)
    with conn.transaction():
        lock(conn, "warehouse.portal_reader")
        _ensure_login_role(
            conn, PORTAL_READER_ROLE, password, {**_READER_SETTINGS, "default_transaction_read_only": "on"}
        )
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(BI_READER_ROLE), role))
        for schema in map(sql.Identifier, ("ops", "raw")):
            conn.execute(sql.SQL("create schema if not exists {}").format(schema))
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(schema, role))
        for table in PORTAL_TABLES:
            conn.execute(sql.SQL("grant select on {} to {}").format(sql.Identifier(*table.split(".")), role))


def portal_reader_dsn(settings: Settings) -> str:
    """The DSN of the portal's read-only role: the warehouse's server and database."""
    return _role_dsn(settings, PORTAL_READER_ROLE, portal_reader_password(settings), "PORTAL_READER_PASSWORD")


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
