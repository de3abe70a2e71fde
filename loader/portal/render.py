"""HTML pages from the Jinja2 templates (autoescaped), with pt-BR number and money filters."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from importlib import resources
from typing import Any

import jinja2
from fastapi.responses import HTMLResponse

from loader.reports.formatting import brl, utc_iso

TEMPLATES = resources.files("loader.portal") / "templates"


def pt_count(value: int) -> str:
    """5000 -> '5.000', as the seed writes the panel's count."""
    return f"{value:,}".replace(",", ".")


def money(value: Decimal | None) -> str:
    return "—" if value is None else brl(value)


def utc(value: datetime | None) -> str:
    return "—" if value is None else utc_iso(value)


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters.update(count=pt_count, money=money, utc=utc)


def page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_environment.get_template(template).render(**context), status_code=status_code)
