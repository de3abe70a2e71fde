"""`warehouse serve | portal link | portal revoke`: the customers' and operator's web portal."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from loader import db
from loader.portal import server, tokens
from loader.portal.settings import PortalSettings
from loader.reports.notifications import find_customer
from loader.settings import Settings

_DURATION = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# A link's longest life: a token cannot be reissued shorter, only revoked.
MAX_LINK_LIFETIME = timedelta(days=366)


def duration(value: str) -> timedelta:
    """90s, 15m, 12h, 30d, 2w (or combined: 1d12h)."""
    parts = _DURATION.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration (e.g. 90s, 15m, 12h, 30d, 2w)")
    lifetime = sum((timedelta(**{_UNITS[unit]: int(number)}) for number, unit in parts), timedelta())
    if not timedelta(0) < lifetime <= MAX_LINK_LIFETIME:
        raise argparse.ArgumentTypeError(
            f"a link lives more than 0 s and at most {MAX_LINK_LIFETIME.days} days"
        )
    return lifetime


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return server.serve(settings, args.host, args.port)
    except server.CannotServe as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _subject(conn: psycopg.Connection, customer_id_or_name: str | None) -> tuple[str, str]:
    """(token subject, who it is for): the customer's, else the operator's."""
    if customer_id_or_name is None:
        return tokens.OPERATOR, "the operator"
    customer = find_customer(conn, customer_id_or_name)
    return tokens.customer_subject(customer.customer_id), f"{customer.customer_name} ({customer.customer_id})"


def link(
    settings: Settings, *, customer: str | None = None, lifetime: timedelta | None = None
) -> tuple[str, str, datetime]:
    """(URL, who it is for, expiry) of a new link: the customer's (id or name), else the operator's."""
    portal_settings = PortalSettings.from_env()
    secret = tokens.load_secret(settings.home, is_embedded=settings.is_embedded)
    # through the portal's read-only role (the deploy's `warehouse up` made ops.portal_links): where
    # the portal runs, links can be issued without a credential that writes
    with psycopg.connect(db.portal_reader_dsn(settings), autocommit=True) as conn:
        subject, who = _subject(conn, customer)
        generation = tokens.generation(conn, subject)
    expires_at = datetime.now(UTC).replace(microsecond=0) + (lifetime or portal_settings.link_ttl)
    token = tokens.sign(secret, tokens.Grant(subject, expires_at, generation))
    return f"{portal_settings.public_url}/portal/{token}", who, expires_at


def cmd_link(settings: Settings, args: argparse.Namespace) -> int:
    url, who, expires_at = link(settings, customer=args.customer, lifetime=args.expires_in)
    print(f"portal link of {who}, valid until {expires_at.isoformat()}:")
    print(url)
    return 0


def cmd_revoke(settings: Settings, args: argparse.Namespace) -> int:
    with db.connect(settings, autocommit=True) as conn:
        db.migrate(conn, timescale=settings.is_timescale)
        subject, who = _subject(conn, args.customer)
        tokens.revoke(conn, subject)
    print(f"revoked every portal link issued to {who} so far")
    return 0


def _add_subject(parser: argparse.ArgumentParser) -> None:
    subject = parser.add_mutually_exclusive_group(required=True)
    subject.add_argument("--customer", metavar="NAME|ID", help="customer id or name")
    subject.add_argument("--operator", action="store_true", help="the operator's portal (every customer)")


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="the customers' and operator's web portal, in the foreground")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="default 8080")
    serve.set_defaults(handler=cmd_serve)

    portal = commands.add_parser("portal", help="portal links").add_subparsers(dest="portal", required=True)
    link = portal.add_parser("link", help="print a signed, expiring portal URL (its last line)")
    _add_subject(link)
    link.add_argument(
        "--expires-in",
        type=duration,
        metavar="DURATION",
        help="e.g. 12h, 30d (default: WAREHOUSE_PORTAL_LINK_DAYS, 30 days)",
    )
    link.set_defaults(handler=cmd_link)
    revoke = portal.add_parser("revoke", help="invalidate every link issued so far")
    _add_subject(revoke)
    revoke.set_defaults(handler=cmd_revoke)
