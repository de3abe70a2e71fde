"""What the notification reports share: finding a customer by id or name, the channel spelling, the
pipeline's watermark and first day (to say why a report is empty)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

WHATSAPP = "whatsapp"
# Customer ids are non-negative integers of at most 18 digits (the staging rule); anything else
# given to --customer is a name.
MAX_ID_DIGITS = 18
# How much of an unknown --customer an error message repeats.
_SHOWN_CHARACTERS = 40

# Where customers are found: the dimension, then the panel's customers whose first events are
# still in the raw tail (the dimension stores them with the next minutely run).
_CUSTOMER_SOURCES = (
    ("marts.dim_notification_customers", "true", False),
    ("marts.rpt_notification_panel", "is_new_customer", True),
)


@dataclass(frozen=True)
class Customer:
    customer_id: int
    customer_name: str
    # Not in dim_notification_customers yet: the panel finds it in the raw tail.
    is_new: bool = False


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN_CHARACTERS else value[:_SHOWN_CHARACTERS] + "...")


def find_customer(conn: psycopg.Connection, customer: str) -> Customer:
    """A customer by id (ASCII digits) or by name (case-insensitive); one first seen in the raw tail
    too, as the panel lists it."""
    if not customer.strip():
        raise LookupError("--customer is empty: give a customer id or name")
    is_id = customer.isascii() and customer.isdigit() and len(customer) <= MAX_ID_DIGITS
    for relation, condition, is_new in _CUSTOMER_SOURCES:
        if is_id:
            row = conn.execute(
                f"select customer_id, customer_name from {relation}"
                f" where {condition} and customer_id = %s limit 1",
                (int(customer),),
            ).fetchone()
            if row is not None:
                return Customer(*row, is_new=is_new)
        rows = conn.execute(
            f"select distinct customer_id, customer_name from {relation}"
            f" where {condition} and lower(customer_name) = lower(%s) order by customer_id",
            (customer,),
        ).fetchall()
        if len(rows) > 1:
            ids = ", ".join(str(customer_id) for customer_id, _ in rows)
            raise LookupError(f"several customers are named {_shown(customer)} (ids {ids}): pass the id")
        if rows:
            return Customer(*rows[0], is_new=is_new)
    raise LookupError(f"no customer with id or name {_shown(customer)} in the notifications")


def normalized_channel(conn: psycopg.Connection, channel: str) -> str:
    """--channel as staging spells channels (the database's raw.normalized_channel), however typed."""
    row = conn.execute("select raw.normalized_channel(%s)", (channel,)).fetchone()
    if row is None or row[0] is None:
        raise LookupError(f"{_shown(channel)} is not a channel")
    return str(row[0])


def fetch_day(
    conn: psycopg.Connection,
    relation: str,
    columns: tuple[str, ...],
    day_column: str,
    day: date,
    customer: Customer | None,
    *,
    splits_new_customers: bool = False,
) -> list[tuple[Any, ...]]:
    """The rows of one day of a per-customer, per-day mart (one customer's, or everyone's by name).
    relation and columns are the reports' own constants, never user input. A relation that
    splits_new_customers (the panel) is also filtered on its is_new_customer column, which lets
    PostgreSQL skip the search of the raw tail for a known customer."""
    query = f"select {', '.join(columns)} from {relation} where {day_column} = %(day)s"
    if customer is not None:
        query += " and customer_id = %(customer_id)s"
        if splits_new_customers:
            query += " and is_new_customer = %(is_new)s"
    return conn.execute(
        query + " order by customer_name, customer_id",
        {
            "day": day,
            "customer_id": customer and customer.customer_id,
            "is_new": customer and customer.is_new,
        },
    ).fetchall()


@dataclass(frozen=True)
class Watermark:
    """The pipeline's watermark (rpt_notification_watermark): the latest minute landed, and its day."""

    last_updated_at: datetime
    day: date


def watermark(conn: psycopg.Connection) -> Watermark | None:
    """None when nothing has landed yet."""
    row = conn.execute(
        "select last_updated_at, watermark_date from marts.rpt_notification_watermark"
    ).fetchone()
    return None if row is None or row[0] is None else Watermark(*row)


def first_day(conn: psycopg.Connection, customer: Customer | None = None) -> date | None:
    """The first panel day of the customer, or of the customer whose first notification is the
    earliest (days in the panel's time zone): the day before which no report has data."""
    if customer is None:
        row = conn.execute(
            "select customer_id from marts.dim_notification_customers order by first_event_at limit 1"
        ).fetchone()
        if row is None:
            return None
        customer = Customer(row[0], "")
    row = conn.execute(
        "select min(panel_date) from marts.rpt_notification_panel"
        " where customer_id = %(customer_id)s and is_new_customer = %(is_new)s",
        {"customer_id": customer.customer_id, "is_new": customer.is_new},
    ).fetchone()
    return None if row is None else row[0]


def has_whatsapp(conn: psycopg.Connection, day: date, customer: Customer | None = None) -> bool:
    """Whether the panel counts WhatsApp notifications on the day (of the customer, or of anyone)."""
    query = "select exists (select 1 from marts.rpt_notification_panel where panel_date = %(day)s"
    if customer is not None:
        query += " and customer_id = %(customer_id)s and is_new_customer = %(is_new)s"
    row = conn.execute(
        query + " and whatsapp_notifications > 0)",
        {
            "day": day,
            "customer_id": customer and customer.customer_id,
            "is_new": customer and customer.is_new,
        },
    ).fetchone()
    return bool(row and row[0])
