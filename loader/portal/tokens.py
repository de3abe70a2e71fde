"""Portal links: an HMAC-signed token that alone grants access, so it must be unforgeable, expiring
and revocable.

A token is `<payload>.<signature>`, both base64url without padding. The payload is
`<subject>:<expires epoch s>:<generation>`: the subject is `c<customer id>` or `o` (the operator);
the generation is the subject's revocation counter (ops.portal_links) when the link was issued. A
revocation bumps the counter, so every link issued before it stops matching.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

OPERATOR = "o"
CUSTOMER_PREFIX = "c"
SECRET_ENV = "WAREHOUSE_PORTAL_SECRET"
SECRET_FILE = "portal-secret"
# An HMAC-SHA256 key shorter than this is guessable.
MIN_SECRET_BYTES = 16


class InvalidToken(ValueError):
    """Malformed or not signed with the portal's secret."""


class ExpiredToken(ValueError):
    pass


class RevokedToken(ValueError):
    pass


@dataclass(frozen=True)
class Grant:
    subject: str
    expires_at: datetime
    generation: int

    @property
    def is_operator(self) -> bool:
        return self.subject == OPERATOR

    @property
    def customer_id(self) -> int | None:
        return None if self.is_operator else int(self.subject[len(CUSTOMER_PREFIX) :])


def customer_subject(customer_id: int) -> str:
    return f"{CUSTOMER_PREFIX}{customer_id}"


def load_secret(home: Path, *, is_embedded: bool) -> bytes:
    """WAREHOUSE_PORTAL_SECRET; on the embedded warehouse one generated once and kept (0600) in
    WAREHOUSE_HOME. Elsewhere a missing secret is an error: a server must not invent one that
    another replica or a restart would not share."""
    value = os.environ.get(SECRET_ENV)
    if value:
        secret = value.encode()
    elif is_embedded:
        secret = _embedded_secret(home / SECRET_FILE)
    else:
        raise LookupError(f"{SECRET_ENV} is not set: the portal needs it to sign and check links")
    if len(secret) < MIN_SECRET_BYTES:
        raise LookupError(f"{SECRET_ENV} must be at least {MIN_SECRET_BYTES} bytes long")
    return secret


def _embedded_secret(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32).encode()
    # O_EXCL: a concurrent first run keeps the other's secret instead of overwriting it
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as output:
        output.write(secret)
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise InvalidToken("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("not base64url") from None


def _signature(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()


def sign(secret: bytes, grant: Grant) -> str:
    payload = f"{grant.subject}:{int(grant.expires_at.timestamp())}:{grant.generation}".encode()
    return f"{_b64(payload)}.{_b64(_signature(secret, payload))}"


def verify(secret: bytes, token: str, now: datetime) -> Grant:
    """The grant a token carries, once its signature and expiry hold (not yet its generation)."""
    encoded_payload, dot, encoded_signature = token.partition(".")
    if not dot:
        raise InvalidToken("no signature")
    payload = _unb64(encoded_payload)
    if not hmac.compare_digest(_unb64(encoded_signature), _signature(secret, payload)):
        raise InvalidToken("bad signature")
    try:
        subject, expires, generation = payload.decode().split(":")
        grant = Grant(subject, datetime.fromtimestamp(int(expires), UTC), int(generation))
    except (ValueError, OverflowError, OSError):
        raise InvalidToken("bad payload") from None
    if not (grant.is_operator or subject[len(CUSTOMER_PREFIX) :].isdigit()):
        raise InvalidToken("bad subject")
    if grant.expires_at <= now:
        raise ExpiredToken(f"expired at {grant.expires_at.isoformat()}")
    return grant


# -- the revocation counters (ops.portal_links) ----------------------------------------------------


def generation(conn: psycopg.Connection, subject: str) -> int:
    row = conn.execute("select generation from ops.portal_links where subject = %s", (subject,)).fetchone()
    return int(row[0]) if row else 0


def check_generation(conn: psycopg.Connection, grant: Grant) -> None:
    if generation(conn, grant.subject) != grant.generation:
        raise RevokedToken("revoked")


def revoke(conn: psycopg.Connection, subject: str) -> int:
    """Invalidate every link issued to `subject` so far; returns the new generation."""
    row = conn.execute(
        "insert into ops.portal_links (subject, generation, revoked_at) values (%s, 1, now())"
        " on conflict (subject) do update"
        " set generation = ops.portal_links.generation + 1, revoked_at = excluded.revoked_at"
        " returning generation",
        (subject,),
    ).fetchone()
    assert row is not None
    return int(row[0])
