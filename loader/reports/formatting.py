"""Rendering shared by every report: text tables, pt-BR numbers, csv and json."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
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


_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Characters that would move, hide or reorder what a terminal shows: control characters (C0, DEL,
# C1), line and paragraph separators, bidirectional overrides and isolates; and the backslash that
# introduces an escape, so an escape cannot be forged either.
_UNSAFE = re.compile(r"[\\\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape_character(match: re.Match[str]) -> str:
    character = match.group()
    return _SHORT_ESCAPES.get(character) or f"\\u{ord(character):04x}"


def escape_text(value: str) -> str:
    """Data as one line of a text report: a newline in a customer's name prints as \\n, not as a
    line of its own that could pass for another field."""
    return _UNSAFE.sub(_escape_character, value)


def escape_cell(value: str) -> str:
    """escape_text, and the table's column separator | as \\|."""
    return escape_text(value).replace("|", "\\|")


def _display_width(text: str) -> int:
    """Terminal columns: wide (CJK) characters take two, combining marks none."""
    return sum(
        0 if unicodedata.combining(character) else 2 if unicodedata.east_asian_width(character) in "WF" else 1
        for character in text
    )


def render_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown-style table, as the reports' seed documents show them; every cell (headers too:
    chatbot keys are data) escaped, so data can neither add a row nor split a column."""
    escaped = [[escape_cell(str(cell)) for cell in row] for row in [columns, *rows]]
    widths = [max(_display_width(cell) for cell in column) for column in zip(*escaped, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell + " " * (width - _display_width(cell)) for cell, width in zip(cells, widths, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(escaped[0]), separator, *(line(row) for row in escaped[1:])])


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """CSV with a header; None is an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return buffer.getvalue()


# A decimal to print as a JSON number, wrapped in NULs while json.dumps runs: data never holds NUL
# (PostgreSQL text cannot), so the marker cannot be forged.
_NUMBER_MARKER = re.compile(r'"\\u0000(-?[0-9.]+)\\u0000"')


def _json_value(value: object, *, decimals_as_numbers: bool) -> object:
    if isinstance(value, Decimal):
        if decimals_as_numbers and value.is_finite():
            return f"\0{value:f}\0"
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def to_json(document: object, *, decimals_as_numbers: bool = False) -> str:
    """JSON with ISO dates, and decimals as strings (money: never a float) or, with
    decimals_as_numbers, as JSON numbers with exactly their digits (9.50, never 9.5000000001)."""
    text = json.dumps(
        document,
        ensure_ascii=False,
        indent=2,
        default=lambda value: _json_value(value, decimals_as_numbers=decimals_as_numbers),
    )
    return _NUMBER_MARKER.sub(r"\1", text) if decimals_as_numbers else text


def brl(value: Decimal) -> str:
    """Money as the notification reports print it: 1000.00 -> 'R$ 1000,00' (no thousands separator)."""
    return f"R$ {value:.2f}".replace(".", ",")


def utc_iso(value: datetime) -> str:
    """2020-02-03T15:00:00+00:00: a timestamp rendered in UTC to the second."""
    return value.astimezone(UTC).isoformat(timespec="seconds")
