"""Fixtures: one real embedded PostgreSQL and one real Kafka broker (Tansu) per test session; a
fresh database and a fresh topic per test."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from loader import PROJECT_DIR, broker, db, embedded
from loader.settings import Settings

WAREHOUSE_BIN = Path(sys.executable).parent / "warehouse"
# The read-only role is the server's, shared by the test databases: one password for the session.
BI_READER_PASSWORD = secrets.token_urlsafe(16)


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A WAREHOUSE_HOME of the session's own: no test starts or deletes anything in ./.warehouse,
    where `make demo` keeps its warehouse; whatever a test left running there is stopped."""
    home = tmp_path_factory.mktemp("home")
    previous = os.environ.get("WAREHOUSE_HOME")
    os.environ["WAREHOUSE_HOME"] = str(home)
    yield home
    broker.stop(home, purge=True)
    embedded.stop(home, purge=True)
    if previous is None:
        os.environ.pop("WAREHOUSE_HOME")
    else:
        os.environ["WAREHOUSE_HOME"] = previous


@pytest.fixture(scope="session")
def server_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("warehouse")
    dsn = embedded.start(home)
    yield dsn
    embedded.stop(home, purge=True)


def _admin_dsn(server_dsn: str) -> str:
    return server_dsn.rsplit("/", 1)[0] + "/postgres"


@contextmanager
def fresh_warehouse(server_dsn: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings (and WAREHOUSE_DSN) pointing at a new, migrated database of the session's server."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_dsn(server_dsn), autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    monkeypatch.setenv("WAREHOUSE_DSN", server_dsn.rsplit("/", 1)[0] + "/" + name)
    monkeypatch.setenv("BI_READER_PASSWORD", BI_READER_PASSWORD)
    settings = Settings.from_env()
    with db.connect(settings) as conn:
        db.migrate(conn)
        db.ensure_bi_reader(conn, settings.bi_reader_password)
    yield settings
    with psycopg.connect(_admin_dsn(server_dsn), autocommit=True) as admin:
        admin.execute(f'drop database "{name}" with (force)')


@pytest.fixture
def warehouse(server_dsn: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    with fresh_warehouse(server_dsn, monkeypatch) as settings:
        yield settings


@pytest.fixture
def conn(warehouse: Settings) -> Iterator[psycopg.Connection]:
    with db.connect(warehouse, autocommit=True) as connection:
        yield connection


def run_warehouse(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The real `warehouse` CLI in a subprocess, against the test's WAREHOUSE_DSN."""
    result = subprocess.run(
        [str(WAREHOUSE_BIN), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env=os.environ.copy(),
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"warehouse {args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def start_warehouse(*args: str | Path, log: Path) -> subprocess.Popen[bytes]:
    """The real `warehouse` CLI started in the background (to be signalled), output to `log`."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [str(WAREHOUSE_BIN), *map(str, args)],
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_DIR,
            env=os.environ.copy(),
        )


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("broker")
    bootstrap = broker.start(home)
    yield bootstrap
    broker.stop(home, purge=True)


def fresh_topic(kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings (and KAFKA_* variables) with a new 4-partition topic and consumer group on the
    broker; group timeouts kept small so joins and takeovers are quick."""
    name = f"notifications-{uuid.uuid4().hex[:12]}"
    broker.ensure_topic(kafka_bootstrap, name, 4)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("KAFKA_TOPIC", name)
    monkeypatch.setenv("KAFKA_GROUP_ID", f"loader-{name}")
    monkeypatch.setenv("KAFKA_SESSION_TIMEOUT_MS", "6000")
    monkeypatch.setenv("KAFKA_MAX_POLL_INTERVAL_MS", "6000")
    return Settings.from_env()


@pytest.fixture
def kafka(warehouse: Settings, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A fresh warehouse and a fresh topic on the session's broker."""
    return fresh_topic(kafka_bootstrap, monkeypatch)
