"""A customer's views: the live panel, the detailed report with its CSV export, the bills.

The same views serve a customer's link (`/portal/<token>/...`, the customer from the token) and the
operator looking at one customer (`/portal/<token>/customers/<id>/...`): `router` builds both.
"""

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from loader.portal import queries, schemas
from loader.portal.access import Portal, PortalError, Scope, portal_of
from loader.portal.render import page
from loader.reports import detail as detail_report
from loader.reports.formatting import utc_iso
from loader.reports.notifications import WHATSAPP, Customer, normalized_channel

# The detailed report's longest period (table and export): a quarter.
MAX_RANGE = timedelta(days=92)
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
# The channels the filter offers (the API takes any spelling, as the CLI's --channel does).
CHANNELS = (WHATSAPP, "sms", "email", "push")
# COPY sends about a row per message: the export regroups them so each write to the socket is large.
EXPORT_CHUNK_BYTES = 256 * 1024

Day = Annotated[date | None, Query(description="YYYY-MM-DD (default: the watermark's day)")]
Start = Annotated[
    datetime | None,
    Query(
        alias="from", description="ISO 8601, inclusive; no offset means UTC (default: the watermark's day)"
    ),
]
End = Annotated[
    datetime | None,
    Query(alias="to", description="ISO 8601, exclusive; no offset means UTC (default: from + 1 day)"),
]
Channel = Annotated[str, Query(max_length=40, description="any spelling (default: WhatsApp)")]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


def _utc(moment: datetime) -> datetime:
    """A time without an offset is UTC (as `warehouse report detail --from/--to`)."""
    try:
        return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    except OverflowError:
        raise PortalError(422, f"{moment.isoformat()} is out of range") from None


def _day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(timezone)).astimezone(UTC)


def _panel(portal: Portal, scope: Scope, day: date | None) -> queries.Panel:
    with portal.pool.connection() as conn:
        try:
            return queries.panel(conn, scope.the_customer, day, portal.timezone)
        except LookupError:
            raise PortalError(
                404,
                f"Sem painel de {scope.the_customer.customer_name} em {day}: os dias vão da primeira"
                " notificação do cliente ao dia da última atualização.",
            ) from None


def _panel_out(panel: queries.Panel) -> schemas.PanelOut:
    return schemas.PanelOut(
        customer_id=panel.row.customer_id,
        customer_name=panel.row.customer_name,
        panel_date=panel.panel_date,
        whatsapp_notifications=panel.row.whatsapp_notifications,
        last_updated_at=utc_iso(panel.row.last_updated_at),
        watermark_date=panel.watermark_date,
        hours=[schemas.Hour(hour=hour, notifications=count) for hour, count in panel.hours],
    )


def panel_page(request: Request, scope: Scope, day: date | None) -> HTMLResponse:
    panel = _panel(portal_of(request), scope, day)
    api = f"{scope.base}/api/panel" + (f"?date={day.isoformat()}" if day else "")
    return page("panel.html", scope=scope, panel=panel, api=api, section="panel")


def _detail_query(
    portal: Portal, scope: Scope, start: datetime | None, end: datetime | None, channel: str
) -> detail_report.DetailQuery:
    """The report's query for the scope's customer, the period checked against MAX_RANGE."""
    if "\x00" in channel:
        raise PortalError(422, "channel: a channel has no NUL character")
    with portal.pool.connection() as conn:
        try:
            normalized = normalized_channel(conn, channel)
        except LookupError:
            raise PortalError(422, f"channel: {channel!r} is not a channel") from None
        if start is None:
            watermark = conn.execute("select watermark_date from marts.rpt_notification_watermark").fetchone()
            day = watermark[0] if watermark and watermark[0] else datetime.now(UTC).date()
            start = _day_start(day, portal.timezone)
    start = _utc(start)
    end = _utc(end) if end is not None else start + timedelta(days=1)
    if end <= start:
        raise PortalError(422, f"to ({utc_iso(end)}) must be after from ({utc_iso(start)})")
    if end - start > MAX_RANGE:
        raise PortalError(422, f"from..to spans more than {MAX_RANGE.days} days: ask for a shorter period")
    return detail_report.DetailQuery(customer=scope.the_customer, channel=normalized, start=start, end=end)


def _detail_page(
    portal: Portal, query: detail_report.DetailQuery, page_number: int, size: int
) -> queries.DetailPage:
    with portal.pool.connection() as conn:
        try:
            return queries.detail_page(conn, query, page_number, size)
        except ValueError as error:
            raise PortalError(422, str(error)) from None
        except LookupError as error:
            raise PortalError(404, str(error)) from None


def _regrouped(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        if len(buffer) >= size:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _bills(portal: Portal, scope: Scope) -> list[queries.BillDay]:
    with portal.pool.connection() as conn:
        try:
            return queries.bills(conn, scope.the_customer)
        except LookupError as error:
            raise PortalError(404, str(error)) from None


def _bills_out(scope: Scope, days: list[queries.BillDay]) -> schemas.BillsOut:
    def timestamp(moment: datetime | None) -> str | None:
        return None if moment is None else utc_iso(moment)

    return schemas.BillsOut(
        customer_id=scope.the_customer.customer_id,
        customer_name=scope.the_customer.customer_name,
        days=[
            schemas.BillDayOut(
                billing_date=day.billing_date,
                status=day.status,
                whatsapp_notifications=day.whatsapp_notifications,
                unit_price_brl=day.unit_price_brl,
                amount_brl=day.amount_brl,
                billed_at=timestamp(day.billed_at),
                earlier=[
                    schemas.BillingRunOut(
                        billed_at=utc_iso(run.billed_at),
                        whatsapp_notifications=run.whatsapp_notifications,
                        unit_price_brl=run.unit_price_brl,
                        amount_brl=run.amount_brl,
                    )
                    for run in day.earlier
                ],
            )
            for day in days
        ],
    )


BILLS_CSV_COLUMNS = (
    "customer_id",
    "customer_name",
    "billing_date",
    "status",
    "whatsapp_notifications",
    "unit_price_brl",
    "amount_brl",
    "billed_at",
)


def _bills_csv(customer: Customer, days: list[queries.BillDay]) -> str:
    """One row per bill: the current one of each day (status billed/rebilled/open/closed) and each
    earlier bill a re-billing replaced (status superseded)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(BILLS_CSV_COLUMNS)

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        return utc_iso(value) if isinstance(value, datetime) else value

    who = (customer.customer_id, customer.customer_name)
    for day in days:
        figures = (day.whatsapp_notifications, day.unit_price_brl, day.amount_brl, day.billed_at)
        writer.writerow([*who, day.billing_date, day.status, *map(cell, figures)])
        for run in day.earlier:
            figures = (run.whatsapp_notifications, run.unit_price_brl, run.amount_brl, run.billed_at)
            writer.writerow([*who, day.billing_date, "superseded", *map(cell, figures)])
    return buffer.getvalue()


def router(prefix: str, scope_of: Callable[..., Scope]) -> APIRouter:
    """The customer views under `prefix`, for the readers `scope_of` resolves."""
    views = APIRouter(prefix=prefix)
    ScopeOf = Annotated[Scope, Depends(scope_of)]
    errors: dict[int | str, dict[str, Any]] = {
        status: {"model": schemas.Error} for status in (401, 403, 404, 422)
    }

    @views.get("/panel", response_class=HTMLResponse, tags=["pages"], responses=errors)
    def panel(request: Request, scope: ScopeOf, date: Day = None) -> HTMLResponse:
        return panel_page(request, scope, date)

    @views.get("/api/panel", tags=["api"], responses=errors)
    def panel_api(request: Request, scope: ScopeOf, date: Day = None) -> schemas.PanelOut:
        return _panel_out(_panel(portal_of(request), scope, date))

    @views.get("/detail", response_class=HTMLResponse, tags=["pages"], responses=errors)
    def detail(
        request: Request,
        scope: ScopeOf,
        start: Start = None,
        end: End = None,
        channel: Channel = WHATSAPP,
        page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
    ) -> HTMLResponse:
        portal = portal_of(request)
        query = _detail_query(portal, scope, start, end, channel)
        rows = _detail_page(portal, query, page_number, page_size)
        return page("detail.html", scope=scope, query=query, rows=rows, channels=CHANNELS, section="detail")

    @views.get("/api/detail", tags=["api"], responses=errors)
    def detail_api(
        request: Request,
        scope: ScopeOf,
        start: Start = None,
        end: End = None,
        channel: Channel = WHATSAPP,
        page: Page = 1,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
    ) -> schemas.DetailOut:
        portal = portal_of(request)
        query = _detail_query(portal, scope, start, end, channel)
        rows = _detail_page(portal, query, page, page_size)
        assert query.start is not None and query.end is not None
        return schemas.DetailOut(
            customer_id=query.customer.customer_id,
            customer_name=query.customer.customer_name,
            start=utc_iso(query.start),
            end=utc_iso(query.end),
            channel=query.channel,
            page=rows.page,
            page_size=rows.page_size,
            pages=rows.pages,
            total=rows.total,
            is_total_exact=rows.is_total_exact,
            rows=[schemas.DetailRow(message_id=m, payload=p, event_at=e) for m, p, e in rows.rows],
        )

    @views.get(
        "/detail.csv",
        tags=["exports"],
        responses={**errors, 200: {"content": {"text/csv": {}}}},
        response_class=StreamingResponse,
    )
    def detail_csv(
        request: Request, scope: ScopeOf, start: Start = None, end: End = None, channel: Channel = WHATSAPP
    ) -> StreamingResponse:
        """Exactly `warehouse report detail --format csv` for the same customer, period and channel,
        streamed (COPY) in flat memory."""
        portal = portal_of(request)
        query = _detail_query(portal, scope, start, end, channel)

        def chunks() -> Iterator[bytes]:
            with portal.pool.connection() as conn:
                yield from _regrouped(detail_report.csv_chunks(conn, query), EXPORT_CHUNK_BYTES)

        assert query.start is not None and query.end is not None
        period = f"{query.start:%Y%m%dT%H%M%SZ}-{query.end:%Y%m%dT%H%M%SZ}"
        name = f"detalhe-{query.customer.customer_id}-{period}.csv"
        return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers=_attachment(name))

    @views.get("/bills", response_class=HTMLResponse, tags=["pages"], responses=errors)
    def bills(request: Request, scope: ScopeOf) -> HTMLResponse:
        days = _bills(portal_of(request), scope)
        return page("bills.html", scope=scope, days=days, section="bills")

    @views.get("/api/bills", tags=["api"], responses=errors)
    def bills_api(request: Request, scope: ScopeOf) -> schemas.BillsOut:
        return _bills_out(scope, _bills(portal_of(request), scope))

    @views.get("/bills.csv", tags=["exports"], responses={**errors, 200: {"content": {"text/csv": {}}}})
    def bills_csv(request: Request, scope: ScopeOf) -> StreamingResponse:
        text = _bills_csv(scope.the_customer, _bills(portal_of(request), scope))
        name = f"faturas-{scope.the_customer.customer_id}.csv"
        return StreamingResponse(
            iter([text.encode()]), media_type="text/csv; charset=utf-8", headers=_attachment(name)
        )

    return views
