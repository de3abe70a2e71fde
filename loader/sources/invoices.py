"""invoices.csv -> raw.invoices, values kept as text exactly as in the file (trimmed of nothing).

Header: customer,account,month,invoice in any order. month is an ISO date (YYYY-MM-DD) of the
invoiced month, invoice a plain decimal (1000, 1000.5, -20.00). UTF-8 with or without a BOM,
LF or CRLF line endings. Only what staging can type is accepted: ASCII digits, and around a value
only the spaces that staging's trim() removes (Python's str.strip() and \\d would also accept
no-break spaces and other scripts' digits, which PostgreSQL's casts refuse).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg

from loader.sources import limits
from loader.sources.files import FileLoad, InputError, land_file

COLUMNS = ("customer", "account", "month", "invoice")
# At most 15 digits before the point and 6 after: sums of any number of invoices stay exact numerics.
_AMOUNT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?", re.ASCII)
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# A valid line is far shorter (ids of 200 characters at most); reading longer ones would only cost memory.
MAX_LINE_BYTES = 64 * 1024
# What staging's trim() removes.
_SPACE = " "


def _decoded_lines(path: Path) -> Iterator[str]:
    with path.open("rb") as handle:
        number = 0
        while raw_line := handle.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(raw_line) > MAX_LINE_BYTES:
                raise InputError(f"{path}:{number}: the line is longer than {MAX_LINE_BYTES} bytes")
            if number == 1 and raw_line.startswith(codecs.BOM_UTF8):
                raw_line = raw_line[len(codecs.BOM_UTF8) :]
            if b"\x00" in raw_line:
                raise InputError(f"{path}:{number}: contains a NUL byte")
            if b"\r" in raw_line.removesuffix(b"\r\n"):
                raise InputError(
                    f"{path}:{number}: a carriage return without a line feed"
                    " (line endings must be LF or CRLF)"
                )
            try:
                yield raw_line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InputError(f"{path}:{number}: not UTF-8 ({error.reason})") from None


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each CSV record; a quoting error names the line it is on."""
    reader = csv.reader(_decoded_lines(path), strict=True)
    while True:
        first_line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "unexpected end of data" in str(error):
                raise InputError(f"{path}:{first_line}: a quoted field is never closed") from None
            if "expected after" in str(error):
                raise InputError(
                    f"{path}:{reader.line_num}: text after a closing quote (write a quote inside a quoted"
                    ' field as "")'
                ) from None
            if "field larger than field limit" in str(error):
                raise InputError(
                    f"{path}:{reader.line_num}: a field is longer than {csv.field_size_limit()} characters"
                ) from None
            raise InputError(f"{path}:{reader.line_num}: not CSV ({error})") from None
        yield reader.line_num, record


def _month_error(value: str) -> str | None:
    if not _MONTH.fullmatch(value):
        return "not a date (YYYY-MM-DD)"
    try:
        month = date.fromisoformat(value)
    except ValueError as error:
        return f"not a date ({error})"
    return limits.year_error(month.year)


def parse(path: Path) -> Iterator[tuple[str, str, str, str, str, int]]:
    """Yield (customer, account, month, invoice, source_file, line_number); raise InputError."""
    records = _records(path)
    header = next(records, None)
    if header is None:
        raise InputError(f"{path}:1: empty file, expected the header {','.join(COLUMNS)}")
    names = [name.strip(_SPACE) for name in header[1]]
    missing = [name for name in COLUMNS if name not in names]
    unexpected = [name for name in names if name not in COLUMNS]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if missing or unexpected or repeated:
        raise InputError(
            f"{path}:1: header must have the columns {','.join(COLUMNS)} once each"
            f" (missing: {','.join(missing) or 'none'}, unexpected: {','.join(unexpected) or 'none'},"
            f" repeated: {','.join(repeated) or 'none'})"
        )
    positions = [names.index(name) for name in COLUMNS]
    source_file = str(path)
    for line, record in records:
        if not record or record == [""]:
            continue  # blank line, e.g. a trailing newline
        if len(record) != len(COLUMNS):
            raise InputError(f"{path}:{line}: expected {len(COLUMNS)} fields, found {len(record)}")
        customer, account, month, invoice = (record[position] for position in positions)
        if not customer.strip() or not account.strip():  # blank in any script
            raise InputError(f"{path}:{line}: customer and account must not be empty")
        for name, value in (("customer", customer), ("account", account)):
            problem = limits.id_error(name, value)
            if problem is not None:
                raise InputError(f"{path}:{line}: {problem}")
        problem = _month_error(month.strip(_SPACE))
        if problem is not None:
            raise InputError(f"{path}:{line}: month {month!r}: {problem}")
        if not _AMOUNT.fullmatch(invoice.strip(_SPACE)):
            raise InputError(
                f"{path}:{line}: invoice {invoice!r} is not a decimal amount"
                " (ASCII digits: at most 15 before the point and 6 after)"
            )
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
