"""Argument types shared by the commands: each turns a bad value into argparse's usage error."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime

from loader.reports import formatting


def fraction(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not a fraction between 0 and 1")
    return number


def customer(value: str) -> str:
    """A customer id or name; an empty one would otherwise read as "every customer"."""
    if not value.strip():
        raise argparse.ArgumentTypeError("a customer id or name must not be empty")
    return value


def timestamp(value: str) -> datetime:
    """ISO 8601; a time without an offset is UTC. Returned in UTC: any offset Python reads (up to
    +-23:59) is then one PostgreSQL takes (it refuses offsets beyond +-15:59)."""
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a timestamp (ISO 8601)") from None
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{value!r} is out of range once in UTC") from None


def day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def month(value: str) -> date:
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a month (YYYY-MM)") from None


def add_format(parser: argparse.ArgumentParser, formats: tuple[str, ...] = formatting.FORMATS) -> None:
    parser.add_argument("--format", choices=formats, default="text")
