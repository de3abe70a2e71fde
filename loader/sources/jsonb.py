"""What PostgreSQL's jsonb stores, for the loaders that check JSON before COPY (one refused value
fails the whole COPY)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# numeric limits of PostgreSQL (and so of jsonb numbers): 1e131071 and 1e-16383 are the extremes.
_MAX_ADJUSTED_EXPONENT = 131_071
_MAX_SCALE = 16_383


def number_error(text: str) -> str | None:
    """None when the JSON number `text` fits PostgreSQL's numeric, else why not."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return f"not JSON: bad number {text[:40]}"
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # Decimal(text) of a JSON number is finite
    if number and (number.adjusted() > _MAX_ADJUSTED_EXPONENT or -exponent > _MAX_SCALE):
        return f"number {text[:40]} is out of PostgreSQL's numeric range"
    return None
