"""`warehouse report billing`: the daily WhatsApp billing per customer (count x price, BRL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg

from loader.reports.formatting import brl, escape_text, to_csv, to_json
from loader.reports.notifications import Customer, fetch_day

COLUMNS = (
    "customer_id",
    "customer_name",
    "billing_date",
    "whatsapp_notifications",
    "unit_price_brl",
    "amount_brl",
)


@dataclass(frozen=True)
class BillingRow:
    customer_id: int
    customer_name: str
    billing_date: date
    whatsapp_notifications: int
    unit_price_brl: Decimal
    amount_brl: Decimal


def default_date(conn: psycopg.Connection) -> date:
    """The latest billed day."""
    row = conn.execute("select max(billing_date) from marts.rpt_notification_billing").fetchone()
    if row is None or row[0] is None:
        raise LookupError("nothing billed yet: run `warehouse bill`")
    return row[0]


def fetch(conn: psycopg.Connection, billing_date: date, customer: Customer | None = None) -> list[BillingRow]:
    rows = fetch_day(conn, "marts.rpt_notification_billing", COLUMNS, "billing_date", billing_date, customer)
    if customer is not None and not rows:
        raise LookupError(f"{customer.customer_name} has no billed WhatsApp notifications on {billing_date}")
    return [BillingRow(*row) for row in rows]


def render(rows: list[BillingRow], output_format: str) -> str:
    values = [
        (
            row.customer_id,
            row.customer_name,
            row.billing_date,
            row.whatsapp_notifications,
            row.unit_price_brl,
            row.amount_brl,
        )
        for row in rows
    ]
    if output_format == "csv":
        return to_csv(COLUMNS, values)
    if output_format == "json":
        return to_json([dict(zip(COLUMNS, row, strict=True)) for row in values]) + "\n"
    return "\n".join(
        "Relatório de Cobrança\n"
        f"Cliente: {escape_text(row.customer_name)}\n"
        f"Notificações Whatsapp: {row.whatsapp_notifications}\n"
        f"Valor: {brl(row.amount_brl)}\n"
        f"Data: {row.billing_date.isoformat()}\n"
        for row in rows
    )
