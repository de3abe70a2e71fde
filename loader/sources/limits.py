"""Bounds every file loader applies, so that whatever it accepts the models can type and index."""

from __future__ import annotations

# Ids are parts of unique keys and their indexes: three of them (4 bytes a character at most) stay
# well within the 2,704 bytes of a btree entry.
MAX_ID_LENGTH = 200
# Dates outside these years are typos or sentinels (9999-12-31), and every month between the first
# and the last one becomes rows of the rolling averages.
FIRST_YEAR = 2000
LAST_YEAR = 2099


def id_error(name: str, value: str) -> str | None:
    """Why `value` cannot be the id `name`, or None."""
    if len(value) > MAX_ID_LENGTH:
        return f"{name} is longer than {MAX_ID_LENGTH} characters"
    return None


def year_error(year: int) -> str | None:
    if FIRST_YEAR <= year <= LAST_YEAR:
        return None
    return f"the year {year} is outside {FIRST_YEAR} to {LAST_YEAR}"
