"""Who a request is for: the link's token checked (signature, expiry, revocation), and the customer
whose data the views may read, which for a customer's link comes from the token alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import psycopg
import psycopg_pool
from fastapi import Path, Request

from loader.portal import queries, tokens
from loader.reports.notifications import Customer
from loader.settings import Settings

TOKEN_MAX_LENGTH = 200
Token = Annotated[str, Path(max_length=TOKEN_MAX_LENGTH, description="the link's signed token")]


class PortalError(Exception):
    """A request the portal refuses: an HTTP status and a message saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Portal:
    """What every view needs, kept on app.state."""

    pool: psycopg_pool.ConnectionPool
    secret: bytes
    # the dbt var notification_day_timezone: the calendar the panel and the bills count days in
    timezone: str
    # the warehouse's settings (the status page reports on the topic and the service's health)
    settings: Settings
    frame_ancestors: str


@dataclass(frozen=True)
class Scope:
    """A view's reader: the customer it shows (None on the operator's own pages) and the URL prefix
    its links are built on."""

    grant: tokens.Grant
    token: str
    customer: Customer | None
    base: str

    @property
    def root(self) -> str:
        return f"/portal/{self.token}"

    @property
    def is_operator(self) -> bool:
        return self.grant.is_operator

    @property
    def the_customer(self) -> Customer:
        assert self.customer is not None, "a customer view without a customer"
        return self.customer


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def _verified(portal: Portal, token: str) -> tokens.Grant:
    try:
        return tokens.verify(portal.secret, token, datetime.now(UTC))
    except tokens.InvalidToken:
        raise PortalError(404, "Link inválido: confira o endereço recebido.") from None
    except tokens.ExpiredToken:
        raise PortalError(401, "Este link expirou: peça um novo link.") from None


def _customer_of(conn: psycopg.Connection, customer_id: int) -> Customer:
    try:
        return queries.customer_by_id(conn, customer_id)
    except LookupError:
        raise PortalError(404, f"Cliente {customer_id} não encontrado.") from None


def any_scope(request: Request, token: Token) -> Scope:
    """A customer's link (its own customer) or the operator's (no customer)."""
    portal = portal_of(request)
    grant = _verified(portal, token)
    with portal.pool.connection() as conn:  # one connection for the counter and the customer
        try:
            tokens.check_generation(conn, grant)
        except tokens.RevokedToken:
            raise PortalError(401, "Este link foi revogado: peça um novo link.") from None
        customer = None if grant.customer_id is None else _customer_of(conn, grant.customer_id)
    return Scope(grant, token, customer, f"/portal/{token}")


def customer_scope(request: Request, token: Token) -> Scope:
    scope = any_scope(request, token)
    if scope.customer is None:
        raise PortalError(404, "Este é o link do operador: os clientes estão em /customers/<id>/.")
    return scope


def operator_scope(request: Request, token: Token) -> Scope:
    scope = any_scope(request, token)
    if not scope.is_operator:
        raise PortalError(403, "Esta página é do operador: o seu link abre apenas o seu painel.")
    return scope


def operator_customer_scope(request: Request, token: Token, customer_id: int) -> Scope:
    """The operator looking at one customer's views."""
    scope = operator_scope(request, token)
    with portal_of(request).pool.connection() as conn:
        customer = _customer_of(conn, customer_id)
    return Scope(scope.grant, token, customer, f"/portal/{token}/customers/{customer.customer_id}")
