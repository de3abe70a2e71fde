"""Connections to the warehouse and the raw schema the loader owns."""

from __future__ import annotations

from importlib import resources
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from loader import embedded
from loader.settings import Settings


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


MIGRATIONS = ("sql/raw_schema.sql", "sql/ops_schema.sql", "sql/marts_upgrade.sql")


def migrate(conn: psycopg.Connection) -> None:
    """Create the raw and ops schemas and tables if missing; upgrade tables dbt built before a change.

    Idempotent and safe to run concurrently (the statements: loader/sql/).
    """
    with conn.transaction():
        # Serialise concurrent migrations: `create ... if not exists` races on the catalog otherwise.
        conn.execute("select pg_advisory_xact_lock(hashtext('warehouse.raw_schema'))")
        for path in MIGRATIONS:
            conn.execute(resources.files("loader").joinpath(path).read_text())


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


PORTAL_READER_ROLE = "portal_reader"
# What the operator portal's status page reads beyond the marts (as `warehouse status` does).
PORTAL_STATUS_TABLES = (
    "ops.portal_links",
    "ops.dbt_runs",
    "ops.billing_days",
    "ops.loader_partitions",
    "raw.kafka_offsets",
    "raw.notification_events_rejected",
)


def ensure_portal_reader(conn: psycopg.Connection, password: str | None) -> None:
    """The role `warehouse serve` reads through: what bi_reader reads (it is a member), the portal's
    revocation counters and the service's status tables; read-only transactions by default.

    The quarantine table in intermediate is rebuilt by dbt, so it is covered by default privileges
    on that schema (SELECT only) rather than a grant that the next build would drop.
    """
    role = sql.Identifier(PORTAL_READER_ROLE)
    login = sql.SQL("password {}").format(sql.Literal(password)) if password else sql.SQL("password null")
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('warehouse.portal_reader'))")
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (PORTAL_READER_ROLE,)).fetchone()
        verb = sql.SQL("alter") if exists else sql.SQL("create")
        conn.execute(sql.SQL("{} role {} login {}").format(verb, role, login))
        conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(role))
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(BI_READER_ROLE), role))
        for schema in map(sql.Identifier, ("ops", "raw", "intermediate")):
            conn.execute(sql.SQL("create schema if not exists {}").format(schema))
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(schema, role))
        for table in PORTAL_STATUS_TABLES:
            conn.execute(sql.SQL("grant select on {} to {}").format(sql.Identifier(*table.split(".")), role))
        intermediate = sql.Identifier("intermediate")
        conn.execute(sql.SQL("grant select on all tables in schema {} to {}").format(intermediate, role))
        conn.execute(
            sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(
                intermediate, role
            )
        )


def reader_dsn(settings: Settings) -> str:
    """The warehouse's DSN as the portal's read-only role (the one place the portal's connection
    is made)."""
    parts = urlsplit(resolve_dsn(settings))
    credentials = quote(PORTAL_READER_ROLE, safe="")
    if settings.portal_reader_password:
        credentials += ":" + quote(settings.portal_reader_password, safe="")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))


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
