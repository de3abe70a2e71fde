"""`warehouse serve` and `warehouse portal ...` as an operator runs them: one clear line on a
mistake, no traceback."""

from __future__ import annotations

import re
import signal
import time
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import run_warehouse, start_warehouse
from tests.portal.conftest import PORTAL_READER_PASSWORD


def test_link_prints_the_url_as_its_last_line(portal):
    result = run_warehouse("portal", "link", "--customer", "acme", "--expires-in", "1d12h")
    first, last = result.stdout.strip().splitlines()
    assert re.fullmatch(
        r"portal link of Acme \(7494212\), valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00:", first
    )
    assert re.fullmatch(re.escape(portal.url) + r"/portal/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", last)


def test_links_are_issued_with_the_portal_role_only_as_the_deployment_gives_it(portal, monkeypatch):
    # docker-compose's portal service: the server and database, the portal_reader role, no password
    # in the DSN (PORTAL_READER_PASSWORD has it) and no superuser credential at all
    server = urlsplit(portal.dsn).netloc.rpartition("@")[2]
    monkeypatch.setenv(
        "WAREHOUSE_DSN", urlsplit(portal.dsn)._replace(netloc=f"portal_reader@{server}").geturl()
    )
    link = run_warehouse("portal", "link", "--customer", "Beta Ltda").stdout.strip().splitlines()[-1]
    assert httpx.get(link + "/api/panel", timeout=30).json()["customer_name"] == "Beta Ltda"
    # revoking writes: the role cannot, and says so in one line
    credentials = f"portal_reader:{PORTAL_READER_PASSWORD}@{server}"
    monkeypatch.setenv("WAREHOUSE_DSN", urlsplit(portal.dsn)._replace(netloc=credentials).geturl())
    revoke = run_warehouse("portal", "revoke", "--customer", "Beta Ltda", check=False)
    assert revoke.returncode == 1
    assert revoke.stderr.startswith("error: the warehouse's database: cannot execute"), revoke.stderr
    assert "Traceback" not in revoke.stderr


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("portal", "link", "--customer", "Nobody"), 1, "error: no customer with id or name 'Nobody'"),
        (("portal", "link", "--customer", "Acme", "--expires-in", "soon"), 2, "'soon' is not a duration"),
        (("portal", "link", "--customer", "Acme", "--expires-in", "400d"), 2, "at most 366 days"),
        (("portal", "link"), 2, "one of the arguments --customer --operator is required"),
        (("portal", "revoke", "--customer", "Nobody"), 1, "error: no customer with id or name 'Nobody'"),
    ],
)
def test_mistakes_get_one_clear_line(portal, args, code, says):
    result = run_warehouse(*args, check=False)
    assert result.returncode == code
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_to_start_without_a_secret_off_the_embedded_warehouse(portal, monkeypatch):
    monkeypatch.delenv("WAREHOUSE_PORTAL_SECRET")
    result = run_warehouse("serve", "--port", "1", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: WAREHOUSE_PORTAL_SECRET is not set: the portal needs it to sign and check links"
    )


def test_serve_says_when_it_cannot_connect(portal, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DSN", portal.dsn + "_missing")
    result = run_warehouse("serve", "--port", "1", check=False)
    assert result.returncode == 1
    assert "error: cannot connect as portal_reader" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_stops_serve_cleanly(portal, tmp_path):
    process = start_warehouse("serve", "--port", "0", log=tmp_path / "serve.log")
    deadline = time.monotonic() + 60
    try:
        while "Uvicorn running" not in (tmp_path / "serve.log").read_text():
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve did not start within 60 s"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    log = (tmp_path / "serve.log").read_text()
    assert "Uvicorn running" in log and "Shutting down" in log and "Traceback" not in log
