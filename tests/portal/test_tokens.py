"""Signed links: what verifies, what does not, and where the embedded warehouse keeps its secret."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

import pytest

from loader.portal import tokens

SECRET = b"0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
ACME = tokens.Grant(tokens.customer_subject(7494212), NOW + timedelta(days=1), 3)


def test_a_signed_grant_verifies_back():
    assert tokens.verify(SECRET, tokens.sign(SECRET, ACME), NOW) == ACME
    assert tokens.verify(SECRET, tokens.sign(SECRET, ACME), NOW).customer_id == 7494212
    operator = tokens.Grant(tokens.OPERATOR, NOW + timedelta(hours=1), 0)
    assert tokens.verify(SECRET, tokens.sign(SECRET, operator), NOW).is_operator


def test_another_secret_a_changed_payload_or_garbage_is_invalid():
    token = tokens.sign(SECRET, ACME)
    other = tokens.sign(SECRET, tokens.Grant(tokens.customer_subject(1000), ACME.expires_at, 3))
    for bad in (
        tokens.sign(b"another secret of sixteen bytes", ACME),
        f"{other.split('.')[0]}.{token.split('.')[1]}",
        token.split(".")[0],
        "",
        ".",
        "é.é",
        "not base64!.x",
    ):
        with pytest.raises(tokens.InvalidToken):
            tokens.verify(SECRET, bad, NOW)


def test_a_grant_past_its_expiry_is_expired():
    with pytest.raises(tokens.ExpiredToken):
        tokens.verify(SECRET, tokens.sign(SECRET, ACME), ACME.expires_at)


def test_the_embedded_secret_is_generated_once_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv(tokens.SECRET_ENV, raising=False)
    secret = tokens.load_secret(tmp_path, is_embedded=True)
    path = tmp_path / tokens.SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tokens.load_secret(tmp_path, is_embedded=True) == secret
    assert len(secret) >= tokens.MIN_SECRET_BYTES


def test_elsewhere_the_secret_must_be_given(tmp_path, monkeypatch):
    monkeypatch.delenv(tokens.SECRET_ENV, raising=False)
    with pytest.raises(LookupError, match="WAREHOUSE_PORTAL_SECRET is not set"):
        tokens.load_secret(tmp_path, is_embedded=False)
    monkeypatch.setenv(tokens.SECRET_ENV, "short")
    with pytest.raises(LookupError, match="at least 16 bytes"):
        tokens.load_secret(tmp_path, is_embedded=False)
    monkeypatch.setenv(tokens.SECRET_ENV, SECRET.decode())
    assert tokens.load_secret(tmp_path, is_embedded=False) == SECRET
