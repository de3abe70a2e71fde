"""Hourly chatbot answer files (hour=HH.json) -> raw.chatbot_answers, one row per array element.

A file is a JSON array of {customer, flow, session, timestamp, content} objects; `content` maps
answer keys to values. Each element is stored as-is (its own text, as jsonb) with the file, the
hour from the file name, its 0-based index in the array and the content keys in document order,
which jsonb forgets and the per-flow pivot needs for its column order.

The loader checks only what makes an element unusable; answer values are judged in dbt (a null
or blank value is simply not an answer). Ids are kept exactly as given. Timestamps are ISO 8601
date-times with a UTC offset (`Z`, `+HH:MM`, `+HHMM`, `+HH`) or without one, which means UTC (the
lake's convention; staging applies it). A file is read whole (an hour of answers is tens of MB); its elements
stream into COPY.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

from loader.sources import limits
from loader.sources.files import FileLoad, InputError, land_file
from loader.sources.jsonb import number_error

COLUMNS = ("element", "content_keys", "source_file", "file_hour", "element_index")
ID_FIELDS = ("customer", "flow", "session")

_HOUR_NAME = re.compile(r"hour=([0-9]+)\.json", re.ASCII)
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# The ISO 8601 subset that Python and PostgreSQL read identically (PostgreSQL casts it in staging).
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)?", re.ASCII
)
# PostgreSQL refuses UTC offsets beyond 15:59.
_MAX_OFFSET = timedelta(hours=16)
# Lone surrogates: undecodable bytes (decoded with surrogateescape) or an unpaired escape such as "\\ud800".
_SURROGATE = re.compile("[\ud800-\udfff]")


def file_hour(path: Path) -> int | None:
    """13 for hour=13.json; None when the name carries no hour (the timestamps still say when)."""
    match = _HOUR_NAME.fullmatch(path.name)
    if match is None:
        return None
    hour = int(match.group(1))
    if hour > 23:
        raise InputError(f"{path}: the file name says hour {hour}, expected 0 to 23")
    return hour


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _number(text: str) -> Decimal:
    """A JSON number jsonb can store (1e200000 it cannot), exactly."""
    problem = number_error(text)
    if problem is not None:
        raise ValueError(problem)
    return Decimal(text)


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_number, parse_int=_number)


def _shown(value: object) -> str:
    """`value` as JSON for an error message, shortened."""
    text = str(value) if isinstance(value, Decimal) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _line_column(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    return f"line {line}, column {column}"


def _array_elements(path: Path, text: str) -> Iterator[tuple[int, str, object]]:
    """Yield (index, element text, parsed element) of the top-level JSON array in `text`.

    Elements are decoded one at a time, so an error names its element and each element's own
    text is what lands.
    """

    def skip_whitespace(position: int) -> int:
        return _WHITESPACE.match(text, position).end()  # type: ignore[union-attr]

    position = skip_whitespace(0)
    if text[position : position + 1] != "[":
        raise InputError(f"{path}: not a JSON array ({_line_column(text, position)})")
    position = skip_whitespace(position + 1)
    index = 0
    closed = text[position : position + 1] == "]"
    if closed:
        position = skip_whitespace(position + 1)
    while not closed:
        try:
            element, end = _DECODER.raw_decode(text, position)
        except (ValueError, RecursionError) as error:
            if isinstance(error, json.JSONDecodeError):
                reason = f"{error.msg} ({_line_column(text, error.pos)})"
            else:
                reason = str(error) or "nested too deep"
            raise InputError(f"{path}: element [{index}]: not valid JSON: {reason}") from None
        yield index, text[position:end], element
        position = skip_whitespace(end)
        separator = text[position : position + 1]
        if separator not in (",", "]"):
            raise InputError(
                f"{path}: after element [{index}]: expected ',' or ']' ({_line_column(text, position)})"
            )
        closed = separator == "]"
        position = skip_whitespace(position + 1)
        index += 1
    if position != len(text):
        raise InputError(f"{path}: data after the end of the array ({_line_column(text, position)})")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _check_timestamp(value: object) -> str | None:
    """None when `value` is a timestamp PostgreSQL will read as the same instant, else why not."""
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        return "expected an ISO 8601 date-time, e.g. 2019-12-16T13:59:58+00:00"
    try:
        parsed = datetime.fromisoformat(value)
        offset = parsed.utcoffset()
        if offset is not None:
            parsed.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        return str(error)
    problem = limits.year_error(parsed.year)
    if problem is not None:
        return problem
    if offset is not None and abs(offset) >= _MAX_OFFSET:
        return "the UTC offset must be within +-15:59"
    return None


def _check_element(element: object, raw: str) -> str | None:
    """None when the element can be landed, else what is wrong with it."""
    if not isinstance(element, dict):
        return f"expected an object, found {_shown(element)}"
    if _SURROGATE.search(raw):
        return "not valid UTF-8"
    for field in (*ID_FIELDS, "timestamp", "content"):
        if field not in element:
            return f'missing "{field}"'
    for field in ID_FIELDS:
        if not isinstance(element[field], str) or not element[field].strip():
            return f'"{field}" must be a non-empty string, found {_shown(element[field])}'
        problem = limits.id_error(f'"{field}"', element[field])
        if problem is not None:
            return problem
    problem = _check_timestamp(element["timestamp"])
    if problem is not None:
        return f'"timestamp" {_shown(element["timestamp"])}: {problem}'
    if not isinstance(element["content"], dict):
        return f'"content" must be an object of answers, found {_shown(element["content"])}'
    # Only escapes can smuggle in what PostgreSQL cannot store; most elements have none.
    if "\\u" in raw:
        for string in _strings(element):
            if "\x00" in string:
                return "contains \\u0000, which PostgreSQL cannot store"
            if _SURROGATE.search(string):
                return "contains an unpaired UTF-16 surrogate escape"
    return None


def parse(path: Path) -> Iterator[tuple[str, list[str], str, int | None, int]]:
    """Yield COLUMNS for each element of the file; raise InputError naming the file and element."""
    hour = file_hour(path)
    # surrogateescape: a bad byte becomes a lone surrogate, reported with its element's index.
    text = path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
    source_file = str(path)
    for index, raw, element in _array_elements(path, text):
        problem = _check_element(element, raw)
        if problem is not None:
            raise InputError(f"{path}: element [{index}]: {problem}")
        assert isinstance(element, dict)
        # Python dicts keep the document order of the keys (a repeated key keeps its first place
        # and, like jsonb, its last value).
        yield raw, list(element["content"]), source_file, hour, index


def load(conn: psycopg.Connection, path: Path) -> FileLoad:
    # An hour without answers is a normal `[]` file, recorded like any other.
    return land_file(
        conn,
        source="chatbot",
        path=path,
        table="chatbot_answers",
        columns=COLUMNS,
        rows=parse(path),
        allow_empty=True,
    )
