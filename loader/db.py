"""Connections to the warehouse and the raw schema the loader owns."""

from __future__ import annotations

from importlib import resources
from urllib.parse import unquote, urlsplit

import psycopg

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


def migrate(conn: psycopg.Connection) -> None:
    """Create the raw schema and tables if missing (idempotent, safe to run concurrently)."""
    ddl = resources.files("loader").joinpath("sql/raw_schema.sql").read_text()
    with conn.transaction():
        # Serialise concurrent migrations: `create ... if not exists` races on the catalog otherwise.
        conn.execute("select pg_advisory_xact_lock(hashtext('warehouse.raw_schema'))")
        conn.execute(ddl)


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
