"""`warehouse report invoices` end to end: loader -> raw -> dbt build -> report."""

from __future__ import annotations

import json

from loader import PROJECT_DIR
from tests.conftest import run_warehouse

SAMPLE = PROJECT_DIR / "data" / "invoices" / "invoices.csv"

EXPECTED_TEXT = """\
| customer | account | avg_invoices_last_3_months | avg_invoices_last_6_months |
|----------|---------|----------------------------|----------------------------|
| C1000    | A1100   | 56.333,33                  | 41.416,66                  |
| C1000    | A1200   | 50.666,66                  | null                       |
| C1000    | A1300   | null                       | null                       |
| C2000    | A2100   | 55.400,00                  | null                       |
"""


def _build() -> None:
    run_warehouse("build", "--select", "+rpt_invoice_rolling_averages", "+dim_accounts")


def test_sample_report_in_every_format(warehouse):
    run_warehouse("load", "invoices", SAMPLE)
    _build()
    assert run_warehouse("report", "invoices").stdout == EXPECTED_TEXT
    assert run_warehouse("report", "invoices", "--reference-month", "2020-01").stdout == EXPECTED_TEXT
    assert run_warehouse("report", "invoices", "--format", "csv").stdout == (
        "customer,account,avg_invoices_last_3_months,avg_invoices_last_6_months\n"
        "C1000,A1100,56333.33,41416.66\n"
        "C1000,A1200,50666.66,\n"
        "C1000,A1300,,\n"
        "C2000,A2100,55400.00,\n"
    )
    assert json.loads(run_warehouse("report", "invoices", "--format", "json").stdout) == [
        {"customer": "C1000", "account": "A1100", "avg_invoices_last_3_months": "56333.33",
         "avg_invoices_last_6_months": "41416.66"},
        {"customer": "C1000", "account": "A1200", "avg_invoices_last_3_months": "50666.66",
         "avg_invoices_last_6_months": None},
        {"customer": "C1000", "account": "A1300", "avg_invoices_last_3_months": None,
         "avg_invoices_last_6_months": None},
        {"customer": "C2000", "account": "A2100", "avg_invoices_last_3_months": "55400.00",
         "avg_invoices_last_6_months": None},
    ]  # fmt: skip


def test_duplicates_zero_cents_gaps_and_other_reference_months(warehouse, tmp_path):
    # shuffled rows, two invoices in one month, a zero month, cents, a gap for A2
    path = tmp_path / "invoices.csv"
    path.write_text(
        "customer,account,month,invoice\n"
        "C9,A1,2021-03-01,0\n"
        "C9,A1,2021-01-01,100.01\n"
        "C9,A1,2021-02-01,50\n"
        "C9,A1,2021-02-01,50.00\n"
        "C9,A2,2021-01-01,10\n"
        "C9,A2,2021-03-01,20\n"
        "C1,A3,2021-03-01,7\n"
    )
    run_warehouse("load", "invoices", path)
    _build()
    # A1 months: 100.01, 100.00, 0 -> 200.01 / 3 = 66.67 truncated to 66.67; A2 has a gap in February.
    assert run_warehouse("report", "invoices", "--format", "csv").stdout == (
        "customer,account,avg_invoices_last_3_months,avg_invoices_last_6_months\n"
        "C1,A3,,\n"
        "C9,A1,66.67,\n"
        "C9,A2,,\n"
    )
    # Only accounts invoiced before the reference month are listed.
    assert run_warehouse("report", "invoices", "--reference-month", "2021-02", "--format", "csv").stdout == (
        "customer,account,avg_invoices_last_3_months,avg_invoices_last_6_months\nC9,A1,,\nC9,A2,,\n"
    )
    # Far past the data: everyone listed, nothing averaged.
    far = run_warehouse("report", "invoices", "--reference-month", "2030-01", "--format", "csv").stdout
    assert far.splitlines()[1:] == ["C1,A3,,", "C9,A1,,", "C9,A2,,"]


def test_truncates_not_rounds(warehouse, tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(
        "customer,account,month,invoice\n"
        + "".join(f"C1,A1,2020-{month:02d}-01,{amount}\n" for month, amount in
                  [(1, "0.02"), (2, "0.02"), (3, "0.01"), (4, "0.02"), (5, "0.02"), (6, "0.01")])
    )  # fmt: skip
    run_warehouse("load", "invoices", path)
    _build()
    # 3 months: 0.05 / 3 = 0.01666 -> 0,01 ; 6 months: 0.10 / 6 = 0.01666 -> 0,01 (rounding would give 0,02)
    assert (
        run_warehouse("report", "invoices").stdout.splitlines()[2]
        == "| C1       | A1      | 0,01                       | 0,01                       |"
    )


def test_report_without_data_says_what_to_do(warehouse):
    run_warehouse("build", "--quiet")
    result = run_warehouse("report", "invoices", check=False)
    assert result.returncode == 1
    assert "warehouse load invoices" in result.stderr
