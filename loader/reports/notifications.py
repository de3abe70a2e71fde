"""What the notification reports share: finding a customer by id or name, and the channel spelling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg

WHATSAPP = "whatsapp"


@dataclass(frozen=True)
class Customer:
    customer_id: int
    customer_name: str


def find_customer(conn: psycopg.Connection, customer: str) -> Customer:
    """A customer by id (digits) or by name (case-insensitive)."""
    if customer.isdigit():
        row = conn.execute(
            "select customer_id, customer_name from marts.dim_notification_customers where customer_id = %s",
            (int(customer),),
        ).fetchone()
        if row is not None:
            return Customer(*row)
    rows = conn.execute(
        "select customer_id, customer_name from marts.dim_notification_customers"
        " where lower(customer_name) = lower(%s) order by customer_id",
        (customer,),
    ).fetchall()
    if not rows:
        raise LookupError(f"no customer with id or name {customer!r} in the notifications")
    if len(rows) > 1:
        ids = ", ".join(str(customer_id) for customer_id, _ in rows)
        raise LookupError(f"several customers are named {customer!r} (ids {ids}): pass the id")
    return Customer(*rows[0])


def normalized_channel(conn: psycopg.Connection, channel: str) -> str:
    """--channel as staging spells channels (the database's raw.normalized_channel), however typed."""
    row = conn.execute("select raw.normalized_channel(%s)", (channel,)).fetchone()
    if row is None or row[0] is None:
        raise LookupError(f"{channel!r} is not a channel")
    return str(row[0])


def fetch_day(
    conn: psycopg.Connection,
    relation: str,
    columns: tuple[str, ...],
    day_column: str,
    day: date,
    customer: Customer | None,
) -> list[tuple[Any, ...]]:
    """The rows of one day of a per-customer, per-day mart (one customer's, or everyone's by name).
    relation and columns are the reports' own constants, never user input."""
    query = f"select {', '.join(columns)} from {relation} where {day_column} = %(day)s"
    if customer is not None:
        query += " and customer_id = %(customer_id)s"
    return conn.execute(
        query + " order by customer_name, customer_id",
        {"day": day, "customer_id": customer and customer.customer_id},
    ).fetchall()
