"""Chatbot answers: one table per flow, read from the flow's pivot view that `warehouse build` creates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
from psycopg import errors, sql

from loader.reports.formatting import render_table, to_csv, to_json

_FLOWS = """
select flow_id, view_schema, view_name
from marts.dim_chatbot_flows
where %(flow)s::text is null or flow_id = %(flow)s
order by flow_id
"""


@dataclass(frozen=True)
class FlowTable:
    flow_id: str
    columns: list[str]
    rows: list[tuple[object, ...]]


def fetch(conn: psycopg.Connection, flow: str | None = None) -> list[FlowTable]:
    """Every flow (or just `flow`), its rows ordered by customer and session."""
    try:
        flows = conn.execute(_FLOWS, {"flow": flow}).fetchall()
        if not flows and flow is not None:
            raise LookupError(f"no chatbot flow {flow!r} in the warehouse")
        if not flows:
            raise LookupError(
                "no chatbot answers in the warehouse: run `warehouse load chatbot` and `warehouse build`"
            )
        return [_fetch_flow(conn, *flow_view) for flow_view in flows]
    except errors.UndefinedTable:
        raise LookupError("the chatbot models or views are not built: run `warehouse build`") from None


def _fetch_flow(conn: psycopg.Connection, flow_id: str, view_schema: str, view_name: str) -> FlowTable:
    cursor = conn.execute(
        sql.SQL("select * from {}.{} order by customer, session").format(
            sql.Identifier(view_schema), sql.Identifier(view_name)
        )
    )
    assert cursor.description is not None
    return FlowTable(flow_id, [column.name for column in cursor.description], cursor.fetchall())


def _utc(value: datetime) -> str:
    """2019-12-16T13:59:58: UTC without an offset (fractions of a second only when there are some)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat()


def _text(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, Decimal):
        return f"{value:f}"  # 0.00000001, never 1E-8
    return None if value is None else str(value)


def _json(value: object) -> object:
    return _utc(value) if isinstance(value, datetime) else value


def render(tables: list[FlowTable], output_format: str) -> str:
    if output_format == "json":
        document = {
            table.flow_id: [
                {column: _json(value) for column, value in zip(table.columns, row, strict=True)}
                for row in table.rows
            ]
            for table in tables
        }
        return to_json(document, decimals_as_numbers=True) + "\n"
    if output_format == "csv":
        if len(tables) != 1:
            raise ValueError("csv holds one flow: choose it with --flow")
        (table,) = tables
        return to_csv(table.columns, [[_text(value) for value in row] for row in table.rows])
    # A missing answer is an empty cell: an answer is never empty, so it cannot be mistaken for one.
    rendered = [
        render_table(table.columns, [[_text(value) or "" for value in row] for row in table.rows])
        for table in tables
    ]
    return "\n\n".join(rendered) + "\n"
