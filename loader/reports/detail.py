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


def csv_chunks(conn: psycopg.Connection, query: DetailQuery) -> Iterator[bytes]:
    """The csv (with a header) as COPY sends it, a row or so per chunk."""
    copy_sql = sql.SQL("copy ({}) to stdout with (format csv, header)").format(query.select())
    with conn.cursor().copy(copy_sql) as copy:
        yield from (bytes(chunk) for chunk in copy)


def export_csv(conn: psycopg.Connection, query: DetailQuery, output: BinaryIO) -> int:
    """Stream the csv (with a header) into `output`; returns the bytes written."""
    return sum(output.write(chunk) for chunk in csv_chunks(conn, query))


def _text_lines(conn: psycopg.Connection, query: DetailQuery) -> Iterator[str]:
    yield "Relatório Detalhado de Notificações\n"
    yield f"= Cliente: {query.customer.customer_name} =\n"
    with conn.transaction(), conn.cursor(name="notification_detail") as cursor:
        cursor.itersize = _BATCH_ROWS
        cursor.execute(query.select())
        for position, (message_id, payload, event_at) in enumerate(cursor):
            separator = "\n" if position else ""
            yield f"{separator}Mensagem ID: {message_id}\nPayload: “{payload}”\nData hora: {event_at}\n"


def export_text(conn: psycopg.Connection, query: DetailQuery, output: BinaryIO) -> int:
    written = 0
    for line in _text_lines(conn, query):
        written += output.write(line.encode())
    return written
