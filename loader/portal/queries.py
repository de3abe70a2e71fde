"""What the portal's views read, beyond the reports (loader/reports) they reuse: the panel's hourly
series, a page of the detailed report, a customer's bills with their re-billings and open days.

Every query is filtered on the customer the caller resolved from the link, never on a request
parameter, and every value is a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

import psycopg
from psycopg import sql

from loader.reports import billing as billing_report
from loader.reports import detail as detail_report
from loader.reports import panel as panel_report
from loader.reports.notifications import WHATSAPP, Customer


def customer_by_id(conn: psycopg.Connection, customer_id: int) -> Customer:
    row = conn.execute(
        "select customer_id, customer_name from marts.dim_notification_customers where customer_id = %s",
        (customer_id,),
    ).fetchone()
    if row is None:
        raise LookupError(f"no customer {customer_id} in the notifications")
    return Customer(*row)


@dataclass(frozen=True)
class Panel:
    row: panel_report.PanelRow
    panel_date: date
    watermark_date: date
    # (hour of the day, WhatsApp notifications rolled up in it)
    hours: list[tuple[int, int]]


_HOURS = """
select
    cast(extract(hour from timezone(%(timezone)s, minute_at)) as integer) as hour,
    cast(sum(notification_count) as bigint) as notifications
from marts.fct_notifications_per_minute
where
    customer_id = %(customer_id)s
    and channel = %(channel)s
    and minute_at >= timezone(%(timezone)s, cast(%(day)s as timestamp))
    and minute_at < timezone(%(timezone)s, cast(%(day)s as timestamp) + interval '1 day')
group by 1
order by 1
"""


def panel(conn: psycopg.Connection, customer: Customer, day: date | None, timezone: str) -> Panel:
    watermark_date = panel_report.default_date(conn)
    panel_date = day or watermark_date
    rows = panel_report.fetch(conn, panel_date, customer)
    if not rows:
        raise LookupError(panel_report.why_empty(conn, panel_date, customer))
    (row,) = rows
    hours = conn.execute(
        _HOURS,
        {"timezone": timezone, "customer_id": customer.customer_id, "channel": WHATSAPP, "day": panel_date},
    ).fetchall()
    return Panel(row, panel_date, watermark_date, [(int(hour), int(count)) for hour, count in hours])


# Pages reach the first rows of a period only, as search engines' result windows do: counting a
# big customer's day (a million rows) took 300 ms a page; the CSV export has every row.
MAX_PAGED_ROWS = 10_000


@dataclass(frozen=True)
class DetailPage:
    rows: list[tuple[str, str, str]]  # message_id, payload, event_at as the csv renders it
    total: int  # the period's rows, at most MAX_PAGED_ROWS
    is_total_exact: bool  # false: the period has more rows than MAX_PAGED_ROWS
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def detail_page(
    conn: psycopg.Connection, query: detail_report.DetailQuery, page: int, page_size: int
) -> DetailPage:
    """One page of the detailed report, in the export's order. A page beyond MAX_PAGED_ROWS is a
    ValueError; one past the last a LookupError."""
    if (page - 1) * page_size >= MAX_PAGED_ROWS:
        raise ValueError(
            f"page: pages reach the first {MAX_PAGED_ROWS:,} rows of a period; ask for a shorter period"
            " or export the CSV, which has every row"
        )
    count = sql.SQL("select count(*) from ({} limit {}) as detail").format(query.select(), MAX_PAGED_ROWS + 1)
    row = conn.execute(count).fetchone()
    counted = int(row[0]) if row else 0
    result = DetailPage([], min(counted, MAX_PAGED_ROWS), counted <= MAX_PAGED_ROWS, page, page_size)
    if page > result.pages:
        raise LookupError(f"page {page} is past the last page ({result.pages})")
    rows = conn.execute(
        sql.SQL("{} limit {} offset {}").format(query.select(), page_size, (page - 1) * page_size)
    ).fetchall()
    return replace(result, rows=rows)


@dataclass(frozen=True)
class BillingRun:
    billed_at: datetime
    whatsapp_notifications: int
    unit_price_brl: Decimal
    amount_brl: Decimal


@dataclass(frozen=True)
class BillDay:
    billing_date: date
    # 'billed', 'rebilled' (billed again after late events), 'open' (the watermark's day, running)
    # or 'closed' (closed, not billed yet)
    status: str
    whatsapp_notifications: int
    unit_price_brl: Decimal | None = None
    amount_brl: Decimal | None = None
    billed_at: datetime | None = None
    # the earlier bills of a re-billed day, latest first
    earlier: list[BillingRun] = field(default_factory=list)


_RUNS = """
select billing_date, billed_at, whatsapp_notifications, unit_price_brl, amount_brl
from marts.rpt_notification_billing_runs
where customer_id = %s
order by billing_date desc, billed_at desc
"""

_OPEN_DAYS = """
select panel_date, whatsapp_notifications
from marts.rpt_notification_panel
where customer_id = %(customer_id)s and panel_date > %(after)s and whatsapp_notifications > 0
order by panel_date desc
"""


def bills(conn: psycopg.Connection, customer: Customer) -> list[BillDay]:
    """The customer's days: open and closed-unbilled ones first, then every billed day (latest
    first) with its current bill (the latest run) and the earlier ones it replaced."""
    watermark_date = panel_report.default_date(conn)
    try:
        last_billed = billing_report.default_date(conn)
        runs = conn.execute(_RUNS, (customer.customer_id,)).fetchall()
    except (LookupError, psycopg.errors.UndefinedTable):
        # nothing billed yet (the billing models are built by the first bill)
        last_billed, runs = date.min, []
    days = [
        BillDay(day, "open" if day == watermark_date else "closed", int(count))
        for day, count in conn.execute(
            _OPEN_DAYS, {"customer_id": customer.customer_id, "after": last_billed}
        ).fetchall()
    ]
    by_day: dict[date, list[BillingRun]] = {}
    for billing_date, *figures in runs:
        by_day.setdefault(billing_date, []).append(BillingRun(*figures))
    for billing_date, day_runs in by_day.items():
        latest, *earlier = day_runs
        days.append(
            BillDay(
                billing_date,
                "rebilled" if earlier else "billed",
                latest.whatsapp_notifications,
                latest.unit_price_brl,
                latest.amount_brl,
                latest.billed_at,
                earlier,
            )
        )
    return days
