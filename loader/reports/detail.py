"""`warehouse report detail`: one customer's notifications, each message once, ordered by time.

Both formats stream: csv with COPY ... TO STDOUT, text through a server-side cursor, so memory stays
flat for any number of messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

import psycopg
from psycopg import sql

from loader.reports.formatting import escape_text, utc_iso
from loader.reports.notifications import Customer

FORMATS = ("text", "csv")
COLUMNS = ("message_id", "payload", "event_at")
_BATCH_ROWS = 10_000


@dataclass(frozen=True)
class DetailQuery:
    customer: Customer
    channel: str
    start: datetime | None = None
    end: datetime | None = None

    def select(self) -> sql.Composed:
        """The messages with event_at rendered like 2020-02-03T14:00:01.001+00:00 (UTC, milliseconds)."""
        conditions = [
            sql.SQL("customer_id = {}").format(self.customer.customer_id),
            sql.SQL("channel = {}").format(self.channel),
        ]
        if self.start is not None:
            conditions.append(sql.SQL("event_at >= {}").format(self.start))
        if self.end is not None:
            conditions.append(sql.SQL("event_at < {}").format(self.end))
        return sql.SQL(
            "select message_id, payload,"
            """ to_char(event_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"') as event_at"""
            " from marts.fct_notifications where {} order by fct_notifications.event_at, message_id"
        ).format(sql.SQL(" and ").join(conditions))


def _copy_sql(query: DetailQuery) -> sql.Composed:
    return sql.SQL("copy ({}) to stdout with (format csv, header)").format(query.select())


def csv_chunks(conn: psycopg.Connection, query: DetailQuery) -> Iterator[bytes]:
    """The csv (with a header) as COPY sends it, a row or so per chunk (the portal's export)."""
    with conn.cursor().copy(_copy_sql(query)) as copy:
        yield from (bytes(chunk) for chunk in copy)


def export_csv(conn: psycopg.Connection, query: DetailQuery, output: BinaryIO) -> int:
    """Stream the csv (with a header) into `output`; returns the messages written."""
    cursor = conn.cursor()
    with cursor.copy(_copy_sql(query)) as copy:
        for chunk in copy:
            output.write(chunk)
    return cursor.rowcount


def export_text(conn: psycopg.Connection, query: DetailQuery, output: BinaryIO) -> int:
    """Stream the text report into `output`; returns the messages written."""
    name = escape_text(query.customer.customer_name)
    output.write(f"Relatório Detalhado de Notificações\n= Cliente: {name} =\n".encode())
    written = 0
    with conn.transaction(), conn.cursor(name="notification_detail") as cursor:
        cursor.itersize = _BATCH_ROWS
        cursor.execute(query.select())
        for message_id, payload, event_at in cursor:
            separator = "\n" if written else ""
            output.write(
                f"{separator}Mensagem ID: {escape_text(message_id)}\n"
                f"Payload: “{escape_text(payload)}”\nData hora: {event_at}\n".encode()
            )
            written += 1
    return written


def why_empty(conn: psycopg.Connection, query: DetailQuery) -> str:
    """Why the export holds no message: none in the range, and where the customer's are."""
    subject = f"no {query.channel} notifications of {escape_text(query.customer.customer_name)}"
    if query.start is not None:
        subject += f" from {utc_iso(query.start)}"
    if query.end is not None:
        subject += f" before {utc_iso(query.end)}"
    if query.customer.is_new:
        return (
            f"{subject}: the customer's first notifications are still in the raw tail, and the detail"
            " report reads marts.fct_notifications, which the next minutely run brings up to date"
        )
    row = conn.execute(
        "select min(event_at), max(event_at) from marts.fct_notifications"
        " where customer_id = %s and channel = %s",
        (query.customer.customer_id, query.channel),
    ).fetchone()
    first, last = row if row is not None else (None, None)
    if first is None:
        return f"{subject}: the customer has none on that channel"
    if query.end is not None and query.end <= first:
        return f"{subject}: its first one is at {utc_iso(first)}"
    if query.start is not None and query.start > last:
        return f"{subject}: its latest one stored is at {utc_iso(last)}"
    return subject
