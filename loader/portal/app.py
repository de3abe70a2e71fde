"""The portal's ASGI application: routes, security headers, and errors that say what was wrong (a
4xx page or JSON document, never a traceback)."""

import logging
from datetime import date
from importlib import resources
from typing import Annotated

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loader.portal import customer_views, operator_views
from loader.portal.access import Portal, PortalError, any_scope, customer_scope, operator_customer_scope
from loader.portal.access import Scope as Reader
from loader.portal.render import page

log = logging.getLogger(__name__)

STATIC = resources.files("loader.portal") / "static"


class SecurityHeaders:
    """Only the app's own scripts, styles and images; embedding as configured; links (they carry
    the token) never sent as a referrer, pages never cached."""

    def __init__(self, app: ASGIApp, frame_ancestors: str) -> None:
        self.app = app
        policy = (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self';"
            f" font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {frame_ancestors}"
        )
        self.headers = [
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(self.headers)
                if not is_static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return "/api/" in path or path.endswith((".csv", ".json")) or path == "/healthz"


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return page("error.html", status_code=status, status=status, message=message)


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem.get("loc", ())[1:]) or "request"
        parts.append(f"{where}: {problem.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(PortalError)
    async def portal_error(request: Request, error: PortalError) -> Response:
        return _error(request, error.status, error.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        return _error(request, 422, _validation_message(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        return _error(request, error.status_code, str(error.detail))

    @app.exception_handler(psycopg.OperationalError)
    async def unavailable(request: Request, error: psycopg.OperationalError) -> Response:
        log.warning("database unavailable for %s: %s", request.url.path, error)
        return _error(request, 503, "O warehouse está indisponível no momento: tente de novo em instantes.")

    @app.exception_handler(psycopg.errors.UndefinedTable)
    async def not_built(request: Request, error: psycopg.errors.UndefinedTable) -> Response:
        log.warning("%s: %s", request.url.path, error.diag.message_primary)
        return _error(request, 503, "Os relatórios ainda não foram construídos (`warehouse build`).")


def create_app(portal: Portal) -> FastAPI:
    app = FastAPI(
        title="Warehouse portal",
        summary="Each customer's notification panel, detailed report and bills; the operator's overview.",
        description=(
            "Every path lives under the `/portal/{token}/` of a link that `warehouse portal link` prints."
            " A customer's link reads that customer only. Money is a decimal string, timestamps are UTC."
        ),
        version="1",
        docs_url=None,  # the interactive docs load scripts from a CDN
        redoc_url=None,
    )
    app.state.portal = portal
    app.add_middleware(SecurityHeaders, frame_ancestors=portal.frame_ancestors)
    _handlers(app)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        with portal.pool.connection() as conn:
            conn.execute("select 1")
        return {"status": "ok"}

    @app.get("/portal/{token}/", response_class=HTMLResponse, tags=["pages"])
    def home(
        request: Request,
        scope: Annotated[Reader, Depends(any_scope)],
        date: date | None = None,
        q: operator_views.Search = "",
        sort: operator_views.Sort = operator_views.Sort.name,
        order: operator_views.Order = operator_views.Order.asc,
    ) -> HTMLResponse:
        """A customer's link opens its panel; the operator's, every customer's panel of the day."""
        if scope.is_operator:
            return operator_views.index_page(request, scope, date, q, sort, order)
        return customer_views.panel_page(request, scope, date)

    app.include_router(customer_views.router("/portal/{token}", customer_scope))
    app.include_router(operator_views.router())
    app.include_router(
        customer_views.router("/portal/{token}/customers/{customer_id}", operator_customer_scope)
    )
    return app
