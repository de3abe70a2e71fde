"""payload_error agrees with PostgreSQL: a value passes exactly when jsonb takes it as an object,
except for the few documented values below."""

from __future__ import annotations

import psycopg
import pytest

from loader.generator import POISON
from loader.sources.payloads import payload_error

TRICKY = [
    b'{"customer_id": 1}',
    b' {"a": 1}\n\t',
    b'{"a": 1e400}',  # past a double, fine for numeric
    b'{"a": 1e131071}',
    b'{"a": 1e131072}',  # past numeric
    b'{"a": 1e-16383}',
    b'{"a": ' + b"9" * 5000 + b"}",  # past Python's int digit limit
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": 01}',
    b'{"a": .5}',
    b'{"a": "\\ud800"}',  # lone surrogates
    b'{"a": "x\\udc00"}',
    b'{"a": "\\ud83d\\ude00"}',  # a surrogate pair
    b'{"a": "\\u0000"}',
    b'{"\\u0000": 1}',
    b'{"a": ["\\u0000"]}',
    b'{"a": "\\\\u0000"}',  # an escaped backslash, then u0000: plain text
    b'{"a": "\\u0001"}',
    b'{"a": "\xef\xbf\xbe"}',
    b'{"a": 1, "a": 2}',
    b'{"a": 1} x',
    b"\xef\xbb\xbf{}",
    b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded in UTF-8
    b'{"a": "tab\tinside"}',
    b"[" * 2000 + b"]" * 2000,
    b"null",
    b"true",
    b"1",
    *(value for value in POISON.values() if value is not None),
]
# Refused although jsonb would take them: more than 1,000 levels of nesting.
STRICTER = [b'{"a": ' + b"[" * 2000 + b"]" * 2000 + b"}"]
# Let through although jsonb refuses them (a double underflows to 0 where numeric overflows):
# the loader's COPY moves such a row to the dead letters when PostgreSQL refuses it.
LAXER = [b'{"a": 1e-16384}', b'{"a": 0.' + b"0" * 16383 + b"1}"]


def _jsonb_takes_object(conn: psycopg.Connection, value: bytes) -> bool:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    try:
        with conn.transaction():
            return conn.execute("select jsonb_typeof(%s::text::jsonb) = 'object'", (text,)).fetchone()[0]
    except (psycopg.DataError, psycopg.errors.ProgramLimitExceeded, ValueError):
        return False


def test_matches_postgresql(conn):
    disagreements = [
        value[:40] for value in TRICKY if (payload_error(value) is None) != _jsonb_takes_object(conn, value)
    ]
    assert disagreements == []


def test_documented_differences_from_postgresql(conn):
    for value in STRICTER:
        assert payload_error(value) == "not JSON: nested too deeply"
        assert _jsonb_takes_object(conn, value)
    for value in LAXER:
        assert payload_error(value) is None
        assert not _jsonb_takes_object(conn, value)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("not_json", "not JSON"),
        ("invalid_utf8", "not UTF-8"),
        ("array", "not a JSON object but an array"),
        ("string", "not a JSON object but a string"),
        ("empty", "empty value"),
        ("tombstone", "null value (tombstone)"),
        ("nul_escape", "contains \\u0000"),
    ],
)
def test_poison_kinds_are_named(kind, expected):
    assert expected in payload_error(POISON[kind])
