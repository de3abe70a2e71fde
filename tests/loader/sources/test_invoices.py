"""`warehouse load invoices`: as-is landing, idempotency, and bad input rejected whole."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from loader import PROJECT_DIR
from tests.conftest import run_warehouse

SAMPLE = PROJECT_DIR / "data" / "invoices" / "invoices.csv"


def _count(conn, table: str = "raw.invoices") -> int:
    return conn.execute(f"select count(*) from {table}").fetchone()[0]


def test_sample_lands_as_text_with_metadata(conn):
    result = run_warehouse("load", "invoices", SAMPLE)
    assert "loaded" in result.stdout and "15 rows" in result.stdout
    first = conn.execute(
        "select customer, account, month, invoice, source_file, line_number, load_id"
        " from raw.invoices order by line_number limit 1"
    ).fetchone()
    assert first == ("C1000", "A1100", "2019-07-01", "500", str(SAMPLE), 2, 1)
    assert conn.execute("select row_count from raw.loaded_files").fetchone() == (15,)


def test_same_content_is_skipped(conn, tmp_path):
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(SAMPLE.read_bytes())
    run_warehouse("load", "invoices", SAMPLE)
    second = run_warehouse("load", "invoices", copy)
    assert second.stdout.startswith("skipped")
    assert _count(conn) == 15


def test_bom_and_crlf_accepted(conn, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfaccount,customer,invoice,month\r\nA1,C1,10.50,2020-01-01\r\n")
    run_warehouse("load", "invoices", path)
    assert conn.execute("select customer, account, month, invoice from raw.invoices").fetchall() == [
        ("C1", "A1", "2020-01-01", "10.50")
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", ":1: empty file"),
        (b"customer,account,month\nC1,A1,2020-01-01\n", ":1: header must have the columns"),
        (b"customer,account,month,invoice,extra\nC1,A1,2020-01-01,1,x\n", ":1: header must have"),
        (
            b"customer,account,month,invoice\nC1,A1,2020-01-01,1\nC1,A1,2020-13-01,1\n",
            ":3: month '2020-13-01'",
        ),
        (b"customer,account,month,invoice\nC1,A1,2020-01-01,1\nC1,A1,Jan/2020,1\n", ":3: month 'Jan/2020'"),
        (
            b"customer,account,month,invoice\nC1,A1,2020-01-01,1\nC1,A1,2020-02-01,1.000,00\n",
            ":3: expected 4",
        ),
        (b"customer,account,month,invoice\nC1,A1,2020-01-01,1\nC1,A1,2020-02-01,1e3\n", ":3: invoice '1e3'"),
        (b"customer,account,month,invoice\nC1,A1,2020-01-01,NaN\n", ":2: invoice 'NaN'"),
        (b"customer,account,month,invoice\nC1,A1,2020-01-01,1\nC\xe9,A1,2020-02-01,1\n", ":3: not UTF-8"),
        (b"customer,account,month,invoice\n,A1,2020-01-01,1\n", ":2: customer and account must not be empty"),
        (b"customer,account,month,invoice\n", "no data rows"),
    ],
)
def test_bad_file_fails_naming_file_and_line_and_writes_nothing(conn, tmp_path: Path, content, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = run_warehouse("load", "invoices", path, check=False)
    assert result.returncode == 1
    assert f"{path}{expected}" in result.stderr or (expected in result.stderr and str(path) in result.stderr)
    assert _count(conn) == 0
    assert _count(conn, "raw.loaded_files") == 0


def test_good_files_still_load_when_another_fails(conn, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"customer,account,month,invoice\nC1,A1,2020-01-01,abc\n")
    result = run_warehouse("load", "invoices", bad, SAMPLE, check=False)
    assert result.returncode == 1
    assert _count(conn) == 15


HEADER = b"customer,account,month,invoice\n"
GOOD_LINE = b"C1,A1,2020-01-01,1\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # what Python's \d and strip() accept but PostgreSQL's casts refuse
        (HEADER + "C1,A1,2020-01-01,\u00a0100\n".encode(), ":2: invoice '\\xa0100' is not a decimal amount"),
        (HEADER + "C1,A1,2020-01-01,\u0661\u0660\u0660\n".encode(), ":2: invoice '\u0661\u0660\u0660'"),
        (HEADER + "C1,A1,2020-01-01,\uff11\uff10\n".encode(), ":2: invoice '\uff11\uff10' is not a decimal"),
        (HEADER + "C1,A1,\u00a02020-01-01,1\n".encode(), ":2: month '\\xa02020-01-01': not a date"),
        (HEADER + "C1,A1,\u0662\u0660\u0662\u0660-01-01,1\n".encode(), ":2: month '\u0662\u0660\u0662\u0660"),
        (HEADER + b"C1,A1,2020-01-01,\t100\n", ":2: invoice '\\t100' is not a decimal"),
        (HEADER + b"C1,A1,2020-01-01,1234567890123456\n", ":2: invoice '1234567890123456' is not"),
        (HEADER + b"C1,A1,2020-01-01,1.1234567\n", ":2: invoice '1.1234567' is not"),
        # years outside 2000-2099
        (HEADER + b"C1,A1,9999-12-31,1\n", ":2: month '9999-12-31': the year 9999 is outside 2000 to 2099"),
        (HEADER + b"C1,A1,1999-12-01,1\n", ":2: month '1999-12-01': the year 1999 is outside 2000 to 2099"),
        # ids too long for a key
        (HEADER + b"C" * 201 + b",A1,2020-01-01,1\n", ":2: customer is longer than 200 characters"),
        (HEADER + b"C1," + b"A" * 201 + b",2020-01-01,1\n", ":2: account is longer than 200 characters"),
        # quoting
        (HEADER + GOOD_LINE + b'"C2"x,A1,2020-01-01,1\n', ':3: text after a closing quote'),
        (HEADER + GOOD_LINE + b'"C2,A1,2020-01-01,1\n' + GOOD_LINE * 3, ":3: a quoted field is never closed"),
        (
            b"customer,account,month,invoice,invoice\n" + b"C1,A1,2020-01-01,1,1\n",
            ":1: header must have the columns customer,account,month,invoice once each"
            " (missing: none, unexpected: none, repeated: invoice)",
        ),
        (
            b"customer,customer,month,invoice\n" + GOOD_LINE,
            ":1: header must have the columns customer,account,month,invoice once each"
            " (missing: account, unexpected: none, repeated: customer)",
        ),
        # bytes a CSV reader chokes on
        (HEADER + GOOD_LINE + b"C\x001,A1,2020-01-01,1\n", ":3: contains a NUL byte"),
        (HEADER.replace(b"\n", b"\r") + GOOD_LINE.replace(b"\n", b"\r"), ":1: a carriage return without"),
        (HEADER + b"C" * 140_000 + b",A1,2020-01-01,1\n", ":2: the line is longer than 65536 bytes"),
        (HEADER + b'"' + (b"C" * 1000 + b"\n") * 140 + b'",A1,2020-01-01,1\n', ":132: a field is longer"),
    ],
)  # fmt: skip
def test_input_the_build_could_not_type_is_refused_naming_the_line(conn, tmp_path, content, expected):
    path = tmp_path / "hostile.csv"
    path.write_bytes(content)
    result = run_warehouse("load", "invoices", path, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {path}{expected}"), result.stderr
    assert len(result.stderr.splitlines()) == 1  # one line, no traceback
    assert _count(conn) == 0
    assert _count(conn, "raw.loaded_files") == 0


def test_every_refused_file_is_one_line_and_the_others_still_load(conn, tmp_path):
    hostile = {
        "nul.csv": HEADER + b"C\x001,A1,2020-01-01,1\n",
        "cr.csv": HEADER.replace(b"\n", b"\r") + GOOD_LINE.replace(b"\n", b"\r"),
        "field.csv": HEADER + b'"' + b"C" * 140_000 + b'",A1,2020-01-01,1\n',
        "quote.csv": HEADER + b'"C2"x,A1,2020-01-01,1\n',
    }
    paths = []
    for name, content in hostile.items():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(content)
    result = run_warehouse("load", "invoices", *paths[:2], SAMPLE, *paths[2:], check=False)
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert len(errors) == len(paths)
    assert all(line.startswith(f"error: {path}:") for line, path in zip(errors, paths, strict=True))
    assert "Traceback" not in result.stderr
    assert _count(conn) == 15
    assert _count(conn, "raw.loaded_files") == 1


def test_spaces_around_values_load_and_the_build_types_them(warehouse, conn, tmp_path):
    path = tmp_path / "spaced.csv"
    path.write_bytes(b" customer , account ,month,invoice\n C1 , A1 , 2020-01-01 , 100.50 \n")
    run_warehouse("load", "invoices", path)
    run_warehouse("build", "--select", "stg_invoices__invoices", "--exclude", "test_type:unit")
    assert conn.execute(
        "select customer_id, account_id, invoice_month, invoice_amount from staging.stg_invoices__invoices"
    ).fetchall() == [("C1", "A1", date(2020, 1, 1), Decimal("100.50"))]
