"""Is a Kafka message value a JSON object that PostgreSQL's jsonb accepts?

Checked in Python before COPY because one value jsonb refuses fails the whole COPY batch. The
fast path is one orjson parse; values orjson refuses get a second, exact opinion from the
standard library with jsonb's own rules, so raw receives every object jsonb would accept (e.g.
1e400, which orjson refuses as a double) and nothing it would refuse.
"""

from __future__ import annotations

import json

import orjson

from loader.sources.jsonb import number_error

_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


class _Refused(ValueError):
    pass


def payload_error(value: bytes | None) -> str | None:
    """None when `value` can land in a jsonb column as a JSON object, else why it cannot."""
    if value is None:
        return "null value (tombstone)"
    if not value:
        return "empty value"
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        return _exact_error(value, str(error))
    if type(parsed) is not dict:
        return _not_an_object(parsed)
    # orjson decodes \u0000 like any escape; jsonb refuses it, so look closer when it may be there.
    if b"\\u0000" in value and _contains(parsed, "\x00"):
        return "contains \\u0000, which PostgreSQL jsonb refuses"
    return None


def _not_an_object(parsed: object) -> str:
    return f"not a JSON object but {_JSON_TYPES.get(type(parsed), 'null')}"


def _exact_error(value: bytes, fast_error: str) -> str | None:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"not UTF-8: {error.reason} at byte {error.start}"
    try:
        parsed = json.loads(text, parse_constant=_refuse_constant, parse_int=_number, parse_float=_number)
    except _Refused as error:
        return str(error)
    except RecursionError:
        return "not JSON: nested too deeply"
    except ValueError:
        return f"not JSON: {fast_error}"
    if type(parsed) is not dict:
        return _not_an_object(parsed)
    if _contains(parsed, "\x00"):
        return "contains \\u0000, which PostgreSQL jsonb refuses"
    if _has_lone_surrogate(parsed):
        return "contains a lone UTF-16 surrogate escape (\\ud800-\\udfff), which PostgreSQL jsonb refuses"
    return None


def _refuse_constant(name: str) -> None:
    raise _Refused(f"not JSON: {name} is not a JSON number")


def _number(text: str) -> int:
    problem = number_error(text)
    if problem is not None:
        raise _Refused(problem)
    return 0  # the value itself is not needed


def _strings(parsed: object) -> list[str]:
    found: list[str] = []
    stack = [parsed]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            found.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _contains(parsed: object, character: str) -> bool:
    return any(character in text for text in _strings(parsed))


def _has_lone_surrogate(parsed: object) -> bool:
    for text in _strings(parsed):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return True
    return False
