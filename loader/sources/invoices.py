"""invoices.csv -> raw.invoices, values kept as text exactly as in the file (trimmed of nothing).

Header: customer,account,month,invoice in any order. month is an ISO date (YYYY-MM-DD) of the
invoiced month, invoice a plain decimal (1000, 1000.5, -20.00). UTF-8 with or without a BOM,
LF or CRLF line endings.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg

from loader.sources.files import FileLoad, InputError, land_file

COLUMNS = ("customer", "account", "month", "invoice")
_AMOUNT = re.compile(r"-?\d+(\.\d+)?")
_MONTH = re.compile(r"\d{4}-\d{2}-\d{2}")


def _decoded_lines(path: Path) -> Iterator[str]:
    with path.open("rb") as handle:
        for number, raw_line in enumerate(handle, start=1):
            if number == 1 and raw_line.startswith(codecs.BOM_UTF8):
                raw_line = raw_line[len(codecs.BOM_UTF8) :]
            try:
                yield raw_line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InputError(f"{path}:{number}: not UTF-8 ({error.reason})") from None


def _check_month(value: str) -> bool:
    if not _MONTH.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def parse(path: Path) -> Iterator[tuple[str, str, str, str, str, int]]:
    """Yield (customer, account, month, invoice, source_file, line_number); raise InputError."""
    reader = csv.reader(_decoded_lines(path))
    header = next(reader, None)
    if header is None:
        raise InputError(f"{path}:1: empty file, expected the header {','.join(COLUMNS)}")
    names = [name.strip() for name in header]
    missing = [name for name in COLUMNS if name not in names]
    unexpected = [name for name in names if name not in COLUMNS]
    if missing or unexpected or len(names) != len(COLUMNS):
        raise InputError(
            f"{path}:1: header must have the columns {','.join(COLUMNS)}"
            f" (missing: {missing or 'none'}, unexpected: {unexpected or 'none'})"
        )
    positions = [names.index(name) for name in COLUMNS]
    source_file = str(path)
    for record in reader:
        line = reader.line_num
        if not record or record == [""]:
            continue  # blank line, e.g. a trailing newline
        if len(record) != len(COLUMNS):
            raise InputError(f"{path}:{line}: expected {len(COLUMNS)} fields, found {len(record)}")
        customer, account, month, invoice = (record[position] for position in positions)
        if not customer.strip() or not account.strip():
            raise InputError(f"{path}:{line}: customer and account must not be empty")
        if not _check_month(month.strip()):
            raise InputError(f"{path}:{line}: month {month!r} is not a date (YYYY-MM-DD)")
        if not _AMOUNT.fullmatch(invoice.strip()):
            raise InputError(f"{path}:{line}: invoice {invoice!r} is not a decimal amount")
        yield customer, account, month, invoice, source_file, line


def load(conn: psycopg.Connection, path: Path) -> FileLoad:
    return land_file(
        conn,
        source="invoices",
        path=path,
        table="invoices",
        columns=(*COLUMNS, "source_file", "line_number"),
        rows=parse(path),
    )
