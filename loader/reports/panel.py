"""`warehouse report panel`: WhatsApp notifications of a day per customer, as fresh as the loader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from loader.reports.formatting import escape_text, to_csv, to_json, utc_iso
from loader.reports.notifications import Customer, fetch_day, first_day, watermark

COLUMNS = ("customer_id", "customer_name", "whatsapp_notifications", "last_updated_at")


@dataclass(frozen=True)
class PanelRow:
    customer_id: int
    customer_name: str
    whatsapp_notifications: int
    last_updated_at: datetime


NOTHING_LANDED = "no notifications yet: nothing has landed in raw.notification_events"


def default_date(conn: psycopg.Connection) -> date:
    """The day (in the dbt var notification_day_timezone) of the pipeline's watermark."""
    mark = watermark(conn)
    if mark is None:
        raise LookupError(NOTHING_LANDED)
    return mark.day


def fetch(conn: psycopg.Connection, panel_date: date, customer: Customer | None = None) -> list[PanelRow]:
    rows = fetch_day(
        conn,
        "marts.rpt_notification_panel",
        COLUMNS,
        "panel_date",
        panel_date,
        customer,
        splits_new_customers=True,
    )
    return [PanelRow(*row) for row in rows]


def why_empty(conn: psycopg.Connection, panel_date: date, customer: Customer | None = None) -> str:
    """Why the panel has no row for the day: a customer's panel days run from its first
    notification to the watermark's day."""
    subject = (
        f"no panel for {escape_text(customer.customer_name)} on {panel_date}"
        if customer
        else f"no panel for {panel_date}"
    )
    mark = watermark(conn)
    if mark is None:
        return NOTHING_LANDED
    if panel_date > mark.day:
        return f"{subject}: the watermark ({utc_iso(mark.last_updated_at)}) has not reached that day yet"
    first = first_day(conn, customer)
    if first is not None and panel_date < first:
        whose = "its" if customer else "the"
        return f"{subject}: it is before {whose} first notification (on {first})"
    return subject


def render(rows: list[PanelRow], output_format: str) -> str:
    values = [
        (row.customer_id, row.customer_name, row.whatsapp_notifications, utc_iso(row.last_updated_at))
        for row in rows
    ]
    if output_format == "csv":
        return to_csv(COLUMNS, values)
    if output_format == "json":
        return to_json([dict(zip(COLUMNS, row, strict=True)) for row in values]) + "\n"
    return "\n".join(
        "Painel de Notificações\n"
        f"Cliente: {escape_text(name)}\n"
        f"Notificações Whatsapp: {count}\n"
        f"Última atualização: {last_updated_at}\n"
        for _, name, count, last_updated_at in values
    )
