"""The operator's own views: every customer's panel of a day (search, sort), the invoice rolling
averages, the chatbot report per flow and the service's status."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from loader import status as service_status
from loader.portal import schemas
from loader.portal.access import Portal, PortalError, Scope, operator_scope, portal_of
from loader.portal.render import page
from loader.reports import chatbot as chatbot_report
from loader.reports import invoices as invoice_report
from loader.reports import panel as panel_report
from loader.reports.formatting import utc_iso

OperatorScope = Annotated[Scope, Depends(operator_scope)]
Day = Annotated[date | None, Query(description="YYYY-MM-DD (default: the watermark's day)")]
Search = Annotated[str, Query(max_length=100, description="part of a customer's name or id")]
Month = Annotated[
    str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (default: after the latest)")
]
Flow = Annotated[str | None, Query(max_length=200, description="one flow (default: every flow)")]
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": schemas.Error} for status in (401, 403, 404, 422)
}


class Sort(StrEnum):
    name = "name"
    id = "id"
    notifications = "notifications"


class Order(StrEnum):
    asc = "asc"
    desc = "desc"


def _customers(
    portal: Portal, day: date | None, search: str, sort: Sort, order: Order
) -> tuple[date, list[panel_report.PanelRow]]:
    with portal.pool.connection() as conn:
        try:
            panel_date = day or panel_report.default_date(conn)
        except LookupError as error:
            raise PortalError(404, str(error)) from None
        rows = panel_report.fetch(conn, panel_date)
    needle = search.strip().casefold()
    if needle:
        rows = [
            row for row in rows if needle in row.customer_name.casefold() or needle in str(row.customer_id)
        ]

    def key(row: panel_report.PanelRow) -> Any:
        if sort is Sort.id:
            return row.customer_id
        if sort is Sort.notifications:
            return (row.whatsapp_notifications, row.customer_name.casefold())
        return (row.customer_name.casefold(), row.customer_id)

    return panel_date, sorted(rows, key=key, reverse=order is Order.desc)


def _month(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise PortalError(422, f"month: {value!r} is not a month (YYYY-MM)") from None


def _invoices(portal: Portal, month: str | None) -> tuple[date, list[invoice_report.AccountAverages]]:
    reference_month = _month(month)
    with portal.pool.connection() as conn:
        try:
            reference_month = reference_month or invoice_report.default_reference_month(conn)
        except LookupError as error:
            raise PortalError(404, str(error)) from None
        return reference_month, invoice_report.fetch(conn, reference_month)


def _cell(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return utc_iso(value)
    return None if value is None else str(value)


def _chatbot(portal: Portal, flow: str | None) -> list[chatbot_report.FlowTable]:
    if flow is not None and "\x00" in flow:
        raise PortalError(422, "flow: a flow id has no NUL character")
    with portal.pool.connection() as conn:
        try:
            return chatbot_report.fetch(conn, flow)
        except LookupError as error:
            raise PortalError(404, str(error)) from None


def _status(portal: Portal) -> service_status.Status:
    with portal.pool.connection() as conn:
        return service_status.fetch(conn, portal.settings)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else utc_iso(moment)


def _status_out(status: service_status.Status) -> schemas.StatusOut:
    return schemas.StatusOut(
        watermark=None if status.watermark is None else utc_iso(status.watermark[0]),
        watermark_date=None if status.watermark is None else status.watermark[1],
        partitions=[
            schemas.PartitionOut(
                partition=partition,
                landed=landed,
                end=end,
                lag=None if end is None else max(0, end - landed),
                reported_at=_iso(reported_at),
            )
            for partition, landed, end, reported_at in status.partitions
        ],
        runs=[
            schemas.RunOut(
                started_at=utc_iso(started_at),
                kind=kind,
                selection=selection,
                billing_date=billing_date,
                seconds=seconds,
                is_success=is_success,
            )
            for started_at, kind, selection, billing_date, seconds, is_success in status.runs
        ],
        billing_days=[
            schemas.LedgerDayOut(
                billing_date=day,
                state=service_status.day_state(closed_at, billed_at, changed_at),
                closed_at=_iso(closed_at),
                billed_at=_iso(billed_at),
                changed_at=utc_iso(changed_at),
            )
            for day, closed_at, billed_at, changed_at in status.days
        ],
        rejected=status.rejected,
        quarantined=status.quarantined,
        is_healthy=status.health[0],
        health=status.health[1],
        broker_warning=status.broker_warning,
    )


def index_page(
    request: Request, scope: Scope, day: date | None, search: str, sort: Sort, order: Order
) -> HTMLResponse:
    panel_date, rows = _customers(portal_of(request), day, search, sort, order)
    return page(
        "customers.html",
        scope=scope,
        rows=rows,
        panel_date=panel_date,
        search=search,
        sort=sort.value,
        order=order.value,
        section="customers",
    )


def router() -> APIRouter:
    views = APIRouter(prefix="/portal/{token}")

    @views.get("/customers", response_class=HTMLResponse, tags=["operator pages"], responses=ERRORS)
    def customers(
        request: Request,
        scope: OperatorScope,
        date: Day = None,
        q: Search = "",
        sort: Sort = Sort.name,
        order: Order = Order.asc,
    ) -> HTMLResponse:
        return index_page(request, scope, date, q, sort, order)

    @views.get("/api/customers", tags=["operator api"], responses=ERRORS)
    def customers_api(
        request: Request,
        scope: OperatorScope,
        date: Day = None,
        q: Search = "",
        sort: Sort = Sort.name,
        order: Order = Order.asc,
    ) -> schemas.CustomersOut:
        panel_date, rows = _customers(portal_of(request), date, q, sort, order)
        return schemas.CustomersOut(
            panel_date=panel_date,
            customers=[
                schemas.CustomerPanelOut(
                    customer_id=row.customer_id,
                    customer_name=row.customer_name,
                    whatsapp_notifications=row.whatsapp_notifications,
                    last_updated_at=utc_iso(row.last_updated_at),
                )
                for row in rows
            ],
        )

    @views.get("/invoices", response_class=HTMLResponse, tags=["operator pages"], responses=ERRORS)
    def invoices(request: Request, scope: OperatorScope, month: Month = None) -> HTMLResponse:
        reference_month, rows = _invoices(portal_of(request), month)
        return page(
            "invoices.html", scope=scope, reference_month=reference_month, rows=rows, section="invoices"
        )

    @views.get("/api/invoices", tags=["operator api"], responses=ERRORS)
    def invoices_api(request: Request, scope: OperatorScope, month: Month = None) -> schemas.InvoicesOut:
        reference_month, rows = _invoices(portal_of(request), month)
        return schemas.InvoicesOut(
            reference_month=f"{reference_month:%Y-%m}",
            accounts=[
                schemas.AccountAveragesOut(
                    customer=row.customer,
                    account=row.account,
                    avg_invoices_last_3_months=row.avg_last_3_months,
                    avg_invoices_last_6_months=row.avg_last_6_months,
                )
                for row in rows
            ],
        )

    @views.get("/chatbot", response_class=HTMLResponse, tags=["operator pages"], responses=ERRORS)
    def chatbot(request: Request, scope: OperatorScope, flow: Flow = None) -> HTMLResponse:
        tables = _chatbot(portal_of(request), flow)
        rendered = [
            (table, [[_cell(value) or "" for value in row] for row in table.rows]) for table in tables
        ]
        return page("chatbot.html", scope=scope, tables=rendered, flow=flow, section="chatbot")

    @views.get("/api/chatbot", tags=["operator api"], responses=ERRORS)
    def chatbot_api(request: Request, scope: OperatorScope, flow: Flow = None) -> schemas.ChatbotOut:
        tables = _chatbot(portal_of(request), flow)
        return schemas.ChatbotOut(
            flows=[
                schemas.FlowOut(
                    flow_id=table.flow_id,
                    columns=table.columns,
                    rows=[[_cell(value) for value in row] for row in table.rows],
                )
                for table in tables
            ]
        )

    @views.get("/status", response_class=HTMLResponse, tags=["operator pages"], responses=ERRORS)
    def status(request: Request, scope: OperatorScope) -> HTMLResponse:
        return page(
            "status.html", scope=scope, status=_status_out(_status(portal_of(request))), section="status"
        )

    @views.get("/api/status", tags=["operator api"], responses=ERRORS)
    def status_api(request: Request, scope: OperatorScope) -> schemas.StatusOut:
        return _status_out(_status(portal_of(request)))

    return views
