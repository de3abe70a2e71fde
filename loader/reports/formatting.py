"""Rendering shared by every report: text tables, pt-BR numbers, csv and json."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_DOWN, Decimal

FORMATS = ("text", "csv", "json")
CENT = Decimal("0.01")


def truncate_cents(value: Decimal | None) -> Decimal | None:
    """Truncate (never round) to cents: 50666.666... -> 50666.66."""
    return None if value is None else value.quantize(CENT, rounding=ROUND_DOWN)


def pt_br_decimal(value: Decimal | None, *, null: str = "null") -> str:
    """56333.33 -> '56.333,33'."""
    if value is None:
        return null
    return f"{value:,.2f}".translate(str.maketrans({",": ".", ".": ","}))


def render_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown-style table, as the reports' seed documents show them."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(columns, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True))
            + " |"
        )

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(columns), separator, *(line(row) for row in rows)])


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """CSV with a header; None is an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return buffer.getvalue()


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def to_json(document: object) -> str:
    """JSON with decimals as strings (never floats) and ISO dates."""
    return json.dumps(document, ensure_ascii=False, indent=2, default=_json_value)


def brl(value: Decimal) -> str:
    """Money as the notification reports print it: 1000.00 -> 'R$ 1000,00' (no thousands separator)."""
    return f"R$ {value:.2f}".replace(".", ",")


def utc_iso(value: datetime) -> str:
    """2020-02-03T15:00:00+00:00: a timestamp rendered in UTC to the second."""
    return value.astimezone(UTC).isoformat(timespec="seconds")
