"""The embedded PostgreSQL: password logins only, passwords kept under WAREHOUSE_HOME."""

from __future__ import annotations

import stat

import psycopg
import pytest

from loader import db, embedded
from tests.conftest import run_warehouse


@pytest.fixture
def home(tmp_path, monkeypatch, kafka_bootstrap):
    """A WAREHOUSE_HOME of the test's own, embedded PostgreSQL and the session's broker."""
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path))
    monkeypatch.delenv("WAREHOUSE_DSN", raising=False)
    monkeypatch.delenv("BI_READER_PASSWORD", raising=False)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    yield tmp_path
    embedded.stop(tmp_path, purge=True)


def _refused(dsn: str, **overrides: str) -> str:
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(psycopg.conninfo.make_conninfo(dsn, **overrides))
    return str(refused.value)


def test_every_login_needs_its_password_kept_for_the_owner_only(home):
    run_warehouse("up")
    env = dict(line.split("=", 1) for line in run_warehouse("env").stdout.splitlines())
    superuser_dsn = env["WAREHOUSE_DSN"].strip("'")
    reader_password = env["BI_READER_PASSWORD"].strip("'")
    portal_password = env["PORTAL_READER_PASSWORD"].strip("'")
    with psycopg.connect(superuser_dsn) as conn:
        assert conn.execute("select current_user").fetchone() == (embedded.SUPERUSER,)
    assert "password authentication failed" in _refused(superuser_dsn, password="wrong")
    assert "no password supplied" in _refused(superuser_dsn, password="")
    reader = psycopg.conninfo.make_conninfo(superuser_dsn, user=db.BI_READER_ROLE, password=reader_password)
    with psycopg.connect(reader) as conn:
        assert conn.execute("select current_user").fetchone() == (db.BI_READER_ROLE,)
    assert "password authentication failed" in _refused(reader, password="wrong")
    portal = psycopg.conninfo.make_conninfo(
        superuser_dsn, user=db.PORTAL_READER_ROLE, password=portal_password
    )
    with psycopg.connect(portal) as conn:
        assert conn.execute("select current_user").fetchone() == (db.PORTAL_READER_ROLE,)
    # bi_reader reaches the warehouse database only
    assert "permission denied" in _refused(reader, dbname="postgres")
    secrets = home / "secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    for role in (embedded.SUPERUSER, db.BI_READER_ROLE, db.PORTAL_READER_ROLE):
        assert stat.S_IMODE((secrets / f"{role}.password").stat().st_mode) == 0o600
    assert (secrets / "bi_reader.password").read_text().strip() == reader_password
    assert "***" in run_warehouse("up").stderr  # the log does not show the password
    assert superuser_dsn.split("@")[0].split(":")[-1] not in run_warehouse("up").stderr


def test_a_warehouse_from_before_passwords_is_secured_at_its_next_start(home):
    embedded.start(home)
    embedded.stop(home)
    (home / "pgdata" / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
    (home / "secrets" / "postgres.password").unlink()
    server_dsn = embedded.start(home)
    with psycopg.connect(server_dsn) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    assert "password authentication failed" in _refused(server_dsn, password="wrong")
