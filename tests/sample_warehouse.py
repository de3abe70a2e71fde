"""A warehouse with every mart built on a little of each input: what the BI tests read."""

from __future__ import annotations

import psycopg

from loader import PROJECT_DIR
from tests.conftest import run_warehouse
from tests.notifications_helpers import ACME_WELCOME, event, land_events

EVENTS = [
    ACME_WELCOME,
    event(message_id="A61D178E73", channel="WhatsApp", event_datetime="2020-02-03T14:05:00.000+00:00"),
    event(message_id="S-1", channel="SMS", event_datetime="2020-02-03T15:00:00Z"),
    event(
        customer_id=1000, customer_name="Beta Ltda", message_id="B-1", event_datetime="2020-02-03T16:00:00Z"
    ),
    event(message_id="N-1", event_datetime="2020-02-04T00:01:00Z"),  # the watermark: Feb 3 closes
]
BILLED_DAY = "2020-02-03"


def build(conn: psycopg.Connection) -> None:
    """Land the events and the sample files, build everything, bill BILLED_DAY."""
    land_events(conn, EVENTS)
    run_warehouse("load", "invoices", PROJECT_DIR / "data" / "invoices" / "invoices.csv")
    run_warehouse("load", "chatbot", *sorted((PROJECT_DIR / "data" / "chatbot").glob("hour=*.json")))
    run_warehouse("build", "--quiet")
    run_warehouse("bill", "--date", BILLED_DAY)
