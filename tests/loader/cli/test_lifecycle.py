"""`warehouse down` stops the embedded servers of WAREHOUSE_HOME, whatever the environment points at."""

from __future__ import annotations

import shlex
from pathlib import Path

import psycopg
import pytest

from loader import broker, embedded
from tests.conftest import run_warehouse


def _sourced(env_output: str) -> dict[str, str]:
    """What `eval "$(warehouse env)"` exports (values shell-quoted when needed)."""
    assignments = (shlex.split(line)[0] for line in env_output.splitlines() if not line.startswith("#"))
    return dict(assignment.split("=", 1) for assignment in assignments)


def test_down_stops_the_embedded_servers_after_sourcing_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path))
    monkeypatch.delenv("WAREHOUSE_DSN", raising=False)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    try:
        run_warehouse("up")
        exported = _sourced(run_warehouse("env").stdout)
        assert {"WAREHOUSE_DSN", "KAFKA_BOOTSTRAP_SERVERS"} <= set(exported)
        for name, value in exported.items():
            monkeypatch.setenv(name, value)

        stopped = run_warehouse("down")

        assert embedded.dsn(tmp_path) is None
        assert broker.bootstrap_servers(tmp_path) is None
        assert "not touched" in stopped.stderr
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(exported["WAREHOUSE_DSN"], connect_timeout=5).close()
    finally:
        broker.stop(tmp_path, purge=True)
        embedded.stop(tmp_path, purge=True)


def test_down_never_touches_an_external_database(conn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # WAREHOUSE_DSN (the `conn` fixture's) names the test session's server, not one of this home
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path))
    run_warehouse("down", "--purge")
    assert conn.execute("select 1").fetchone() == (1,)
