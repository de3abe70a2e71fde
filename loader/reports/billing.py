"""`warehouse report billing`: the daily WhatsApp billing per customer (count x price, BRL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg

from loader.reports.formatting import brl, escape_text, to_csv, to_json, utc_iso
from loader.reports.notifications import Customer, fetch_day, first_day, has_whatsapp, watermark
from loader.reports.panel import NOTHING_LANDED

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
    return [BillingRow(*row) for row in rows]


def _is_billed(conn: psycopg.Connection, billing_date: date) -> bool:
    row = conn.execute(
        "select exists (select 1 from marts.rpt_notification_billing where billing_date = %s)",
        (billing_date,),
    ).fetchone()
    return bool(row and row[0])


def why_empty(conn: psycopg.Connection, billing_date: date, customer: Customer | None = None) -> str:
    """Why the billing has no row for the day (of the customer), and how to bill it when it can be."""
    mark = watermark(conn)
    if mark is None:
        return NOTHING_LANDED
    bill_now = f"bill it now with `warehouse bill --date {billing_date}`"
    whose = f"{escape_text(customer.customer_name)}'s" if customer else "the"
    first = first_day(conn, customer)
    if first is not None and billing_date < first:
        return f"nothing to bill on {billing_date}: it is before {whose} first notification (on {first})"
    if billing_date == mark.day:
        return (
            f"{billing_date} is not billed: the day is still open (the watermark,"
            f" {utc_iso(mark.last_updated_at)}, is in it); {bill_now}"
        )
    if billing_date > mark.day:
        return (
            f"{billing_date} is not billed: the watermark ({utc_iso(mark.last_updated_at)})"
            " has not reached that day yet"
        )
    if not has_whatsapp(conn, billing_date, customer):
        who = f"{escape_text(customer.customer_name)} had" if customer else "there were"
        return f"nothing to bill on {billing_date}: {who} no WhatsApp notifications that day"
    if customer is not None and _is_billed(conn, billing_date):
        return (
            f"{whose} WhatsApp notifications of {billing_date} landed after the day was billed:"
            f" bill it again with `warehouse bill --date {billing_date}`"
        )
    return (
        f"{billing_date} is closed but not billed yet (`warehouse run` bills a day"
        f" WAREHOUSE_BILLING_GRACE seconds after the watermark leaves it); {bill_now}"
    )


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
