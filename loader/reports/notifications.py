"""What the notification reports share: finding a customer by id or name, and the channel spelling."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

WHATSAPP = "whatsapp"

# The staging rule for channels (macros/notifications.sql normalize_channel), applied by the
# database to a bound parameter so --channel matches however it is spelled.
NORMALIZED_CHANNEL_SQL = "nullif(regexp_replace(lower(btrim(%(channel)s)), '[[:space:]_.-]+', '', 'g'), '')"


@dataclass(frozen=True)
class Customer:
    customer_id: int
    customer_name: str


def find_customer(conn: psycopg.Connection, customer: str) -> Customer:
    """A customer by id (digits; also one seen only in the raw tail) or by name (case-insensitive)."""
    if customer.isdigit():
        # the panel knows customers the minutely run has not reached yet
        row = conn.execute(
            "select customer_id, customer_name from marts.rpt_notification_panel"
            " where customer_id = %s order by panel_date desc limit 1",
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
    row = conn.execute(f"select {NORMALIZED_CHANNEL_SQL}", {"channel": channel}).fetchone()
    if row is None or row[0] is None:
        raise LookupError(f"{channel!r} is not a channel")
    return str(row[0])
