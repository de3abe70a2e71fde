"""The JSON API's documents (they make the OpenAPI schema). Money is a decimal string, never a
float; timestamps are ISO 8601 in UTC (2020-02-03T15:00:00+00:00); days are YYYY-MM-DD."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel


class Error(BaseModel):
    detail: str


class Hour(BaseModel):
    hour: int
    notifications: int


class PanelOut(BaseModel):
    customer_id: int
    customer_name: str
    panel_date: date
    whatsapp_notifications: int
    last_updated_at: str
    watermark_date: date
    # the day's WhatsApp notifications per hour, as rolled up (the minutely run)
    hours: list[Hour]


class DetailRow(BaseModel):
    message_id: str
    payload: str
    event_at: str


class DetailOut(BaseModel):
    customer_id: int
    customer_name: str
    start: str
    end: str
    channel: str
    page: int
    page_size: int
    # pages reach the period's first 10,000 rows (the CSV export has them all): with more, total is
    # 10,000 and is_total_exact false
    pages: int
    total: int
    is_total_exact: bool
    rows: list[DetailRow]


class BillingRunOut(BaseModel):
    billed_at: str
    whatsapp_notifications: int
    unit_price_brl: Decimal
    amount_brl: Decimal


class BillDayOut(BaseModel):
    billing_date: date
    status: str
    whatsapp_notifications: int
    unit_price_brl: Decimal | None
    amount_brl: Decimal | None
    billed_at: str | None
    earlier: list[BillingRunOut]


class BillsOut(BaseModel):
    customer_id: int
    customer_name: str
    days: list[BillDayOut]


class CustomerPanelOut(BaseModel):
    customer_id: int
    customer_name: str
    whatsapp_notifications: int
    last_updated_at: str


class CustomersOut(BaseModel):
    panel_date: date
    customers: list[CustomerPanelOut]


class AccountAveragesOut(BaseModel):
    customer: str
    account: str
    avg_invoices_last_3_months: Decimal | None
    avg_invoices_last_6_months: Decimal | None


class InvoicesOut(BaseModel):
    reference_month: str
    accounts: list[AccountAveragesOut]


class FlowOut(BaseModel):
    flow_id: str
    columns: list[str]
    rows: list[list[str | None]]


class ChatbotOut(BaseModel):
    flows: list[FlowOut]


class PartitionOut(BaseModel):
    partition: int
    landed: int
    end: int | None
    lag: int | None
    reported_at: str | None


class RunOut(BaseModel):
    started_at: str
    kind: str
    selection: str
    billing_date: date | None
    seconds: float | None
    is_success: bool | None


class LedgerDayOut(BaseModel):
    billing_date: date
    # open, closed, to bill / billed / changed since billed, to check (as `warehouse status`)
    state: str
    closed_at: str | None
    billed_at: str | None
    changed_at: str


class StatusOut(BaseModel):
    watermark: str | None
    watermark_date: date | None
    partitions: list[PartitionOut]
    runs: list[RunOut]
    billing_days: list[LedgerDayOut]
    rejected: int
    quarantined: int | None
    # what `warehouse status --check` says
    is_healthy: bool
    health: str
    broker_warning: str | None
