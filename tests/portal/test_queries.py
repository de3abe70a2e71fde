from datetime import UTC, datetime

import psycopg
import pytest

from loader.portal import queries
from loader.reports.detail import DetailQuery
from loader.reports.notifications import Customer
from tests.portal.conftest import ACME

# Acme's 118 + 3 WhatsApp notifications of 2020-02-03 (conftest.EVENTS)
ACME_DAY = DetailQuery(
    Customer(*ACME),
    "whatsapp",
    datetime(2020, 2, 3, tzinfo=UTC),
    datetime(2020, 2, 4, tzinfo=UTC),
)


def test_a_period_within_the_paged_rows_has_its_exact_total(raw: psycopg.Connection):
    page = queries.detail_page(raw, ACME_DAY, 3, 50)
    assert (page.total, page.is_total_exact, page.pages, len(page.rows)) == (121, True, 3, 21)


def test_pages_reach_the_first_paged_rows_of_a_bigger_period(raw: psycopg.Connection, monkeypatch):
    monkeypatch.setattr(queries, "MAX_PAGED_ROWS", 100)
    last = queries.detail_page(raw, ACME_DAY, 2, 50)
    assert (last.total, last.is_total_exact, last.pages) == (100, False, 2)
    assert last.rows == queries.detail_page(raw, ACME_DAY, 1, 100).rows[50:]
    with pytest.raises(ValueError, match="first 100 rows"):
        queries.detail_page(raw, ACME_DAY, 3, 50)
