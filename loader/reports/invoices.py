"""Rolling 3/6-month invoice averages per account for one reference month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg

from loader.reports.formatting import pt_br_decimal, render_table, to_csv, to_json, truncate_cents

COLUMNS = ("customer", "account", "avg_invoices_last_3_months", "avg_invoices_last_6_months")

# dim_accounts decides who is listed, so a reference month past the rolling-average mart's range
# still lists every account (with null averages) instead of nobody.
_QUERY = """
select
    accounts.customer_id,
    accounts.account_id,
    averages.avg_invoices_last_3_months,
    averages.avg_invoices_last_6_months
from marts.dim_accounts as accounts
left join marts.rpt_invoice_rolling_averages as averages
    on averages.customer_id = accounts.customer_id
    and averages.account_id = accounts.account_id
    and averages.reference_month = %(reference_month)s
where accounts.first_invoice_month < %(reference_month)s
order by accounts.customer_id, accounts.account_id
"""


@dataclass(frozen=True)
class AccountAverages:
    customer: str
    account: str
    avg_last_3_months: Decimal | None
    avg_last_6_months: Decimal | None


def default_reference_month(conn: psycopg.Connection) -> date:
    """The month after the latest invoice month in the data."""
    row = conn.execute(
        "select cast(max(last_invoice_month) + interval '1 month' as date) from marts.dim_accounts"
    ).fetchone()
    if row is None or row[0] is None:
        raise LookupError("no invoices in the warehouse: run `warehouse load invoices` and `warehouse build`")
    return row[0]


def fetch(conn: psycopg.Connection, reference_month: date) -> list[AccountAverages]:
    rows = conn.execute(_QUERY, {"reference_month": reference_month}).fetchall()
    return [
        AccountAverages(customer, account, truncate_cents(avg_3), truncate_cents(avg_6))
        for customer, account, avg_3, avg_6 in rows
    ]


def render(rows: list[AccountAverages], output_format: str) -> str:
    values = [(row.customer, row.account, row.avg_last_3_months, row.avg_last_6_months) for row in rows]
    if output_format == "csv":
        return to_csv(COLUMNS, values)
    if output_format == "json":
        return to_json([dict(zip(COLUMNS, row, strict=True)) for row in values]) + "\n"
    text_rows = [
        (customer, account, pt_br_decimal(avg_3), pt_br_decimal(avg_6))
        for customer, account, avg_3, avg_6 in values
    ]
    return render_table(COLUMNS, text_rows) + "\n"
