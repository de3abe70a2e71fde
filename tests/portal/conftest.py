"""A real `warehouse serve` on a database of the session's embedded PostgreSQL, built by dbt from
known events of three customers and billed twice (a re-billing); links printed by the real CLI;
a real Chromium (Debian's, never downloaded) driven by Playwright."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from loader import PROJECT_DIR, db
from tests.conftest import fresh_warehouse, run_warehouse, start_warehouse
from tests.notifications_helpers import ACME_WELCOME, event, land_events

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Screenshots of every page at both sizes (git-ignored), for people to look at.
ARTIFACTS = PROJECT_DIR / "test-artifacts" / "portal"
SECRET = "a-test-secret-of-the-portal-0123456789"
PORTAL_READER_PASSWORD = "portal-reader-test-password"
FRAME_ANCESTORS = "'self' https://platform.example"

ACME = (7494212, "Acme")
BETA = (1000, "Beta Ltda")
GAMMA = (2000, "Gamma S.A.")


def _events(
    customer: tuple[int, str], day: str, count: int, prefix: str, **fields: Any
) -> list[dict[str, Any]]:
    customer_id, name = customer
    return [
        event(
            customer_id=customer_id,
            customer_name=name,
            message_id=f"{prefix}-{day}-{n:04d}",
            payload=f"Mensagem {n} de {name}",
            event_datetime=f"{day}T{8 + n // 60:02d}:{n % 60:02d}:00.000+00:00",
            **fields,
        )
        for n in range(count)
    ]


# Acme: 30 on the day billed (Feb 2), 118 + the seed's two on the open day (Feb 3), 3 SMS; Beta and
# Gamma fewer, with their own message ids. The last event (15:00 on Feb 3) sets the watermark.
EVENTS = [
    *_events(ACME, "2020-02-02", 30, "ACME"),
    *_events(ACME, "2020-02-03", 118, "ACME"),
    ACME_WELCOME,
    event(message_id="A61D178E73", channel="WhatsApp", event_datetime="2020-02-03T14:05:00.000+00:00"),
    *_events(ACME, "2020-02-03", 3, "ACME-SMS", channel="SMS"),
    *_events(BETA, "2020-02-02", 10, "BETA"),
    *_events(BETA, "2020-02-03", 20, "BETA"),
    *_events(GAMMA, "2020-02-03", 5, "GAMMA"),
    event(message_id="ACME-LAST", event_datetime="2020-02-03T15:00:00.000+00:00"),
]
# Late for the billed day: Feb 2 is billed again with one more notification of Acme.
LATE_EVENT = event(message_id="ACME-LATE", event_datetime="2020-02-02T23:00:00.000+00:00")


@dataclass(frozen=True)
class Portal:
    url: str
    dsn: str
    process: subprocess.Popen[bytes]

    def link(self, *args: str) -> str:
        """The URL `warehouse portal link ARGS` prints as its last line."""
        return run_warehouse("portal", "link", *args).stdout.strip().splitlines()[-1]

    def token(self, link: str) -> str:
        match = re.fullmatch(re.escape(self.url) + r"/portal/([A-Za-z0-9_\-.]+)", link)
        assert match, f"not a portal link of {self.url}: {link}"
        return match.group(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"warehouse serve exited {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"warehouse serve did not answer within 60 s:\n{log.read_text()}")


@pytest.fixture(scope="package")
def portal(server_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    with pytest.MonkeyPatch.context() as env, fresh_warehouse(server_dsn, env) as settings:
        env.setenv("PORTAL_READER_PASSWORD", PORTAL_READER_PASSWORD)
        with db.connect(settings, autocommit=True) as conn:
            db.ensure_portal_reader(conn, PORTAL_READER_PASSWORD)
            land_events(conn, EVENTS, partition=0)
        run_warehouse("load", "invoices", PROJECT_DIR / "data" / "invoices" / "invoices.csv")
        run_warehouse("load", "chatbot", *sorted((PROJECT_DIR / "data" / "chatbot").glob("hour=*.json")))
        run_warehouse("build", "--exclude", "rpt_notification_billing+")
        run_warehouse("bill", "--date", "2020-02-02")
        with db.connect(settings, autocommit=True) as conn:
            land_events(conn, [LATE_EVENT], partition=1)
        run_warehouse("bill", "--date", "2020-02-02")
        url = f"http://127.0.0.1:{_free_port()}"
        env.setenv("WAREHOUSE_PORTAL_SECRET", SECRET)
        env.setenv("WAREHOUSE_PORTAL_URL", url)
        env.setenv("WAREHOUSE_PORTAL_FRAME_ANCESTORS", FRAME_ANCESTORS)
        log = tmp_path_factory.mktemp("portal") / "serve.log"
        process = start_warehouse("serve", "--port", url.rsplit(":", 1)[1], log=log)
        try:
            _wait_until_serving(url, process, log)
            assert settings.dsn is not None
            yield Portal(url, settings.dsn, process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)


@pytest.fixture(scope="package")
def links(portal: Portal) -> dict[str, str]:
    return {
        "acme": portal.link("--customer", "Acme"),
        "beta": portal.link("--customer", str(BETA[0])),
        "operator": portal.link("--operator"),
    }


@pytest.fixture
def raw(portal: Portal) -> Iterator[psycopg.Connection]:
    """A superuser connection to the portal's database (to land events)."""
    with psycopg.connect(portal.dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium (as root)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()
