"""`warehouse load invoices`: as-is landing, idempotency, and bad input rejected whole."""

from __future__ import annotations

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
