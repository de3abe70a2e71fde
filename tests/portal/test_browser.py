"""The portal as its users see it, in a real Chromium: the figures, the live update, the CSV export,
the bills, the operator's list; screenshots of every page at desktop and phone sizes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import run_warehouse
from tests.notifications_helpers import event, land_events
from tests.portal.conftest import ACME, ARTIFACTS, BETA, GAMMA

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=sorted(SIZES))
def page(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=SIZES[request.param], accept_downloads=True, locale="pt-BR")
    opened = context.new_page()
    opened.size_name = request.param
    errors: list[str] = []
    # a script or style the CSP blocked, a script error, or an asset of the app's that failed to load
    opened.on(
        "console",
        lambda message: (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and errors.append(message.text)
        ),
    )
    opened.on(
        "response",
        lambda response: (
            "/static/" in response.url and response.status >= 400 and errors.append(response.url)
        ),
    )
    yield opened
    context.close()
    assert errors == [], f"browser console errors: {errors}"


def shoot(page: Any, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}-{page.size_name}.png", full_page=True)


def test_panel_shows_the_customers_figures_and_updates_in_place(page, links, raw):
    page.goto(links["acme"] + "/")
    assert page.title() == "Painel de Notificações · Portal"
    # 118 + the seed's two + the last, as `warehouse report panel` counts them
    assert page.locator("#customer").inner_text() == "Acme"
    cli = run_warehouse("report", "panel", "--customer", "Acme").stdout
    count = int(re.search(r"Notificações Whatsapp: (\d+)", cli).group(1))
    assert page.locator("#count").inner_text() == f"{count:,}".replace(",", ".")
    assert page.locator("#updated").inner_text() == "2020-02-03T15:00:00+00:00"
    assert page.get_by_text("Painel de Notificações", exact=True).is_visible()
    assert page.locator("#chart svg rect.bar").count() == 24
    shoot(page, "panel")

    # an event lands (in the raw tail, not rolled up yet): the page shows it without a reload
    page.evaluate("window.notReloaded = true")
    land_events(
        raw, [event(message_id=f"LIVE-{page.size_name}", event_datetime="2020-02-03T15:00:30Z")], partition=2
    )
    expected = f"{count + 1:,}".replace(",", ".")
    expect(page.locator("#count")).to_have_text(expected, timeout=15_000)
    assert page.evaluate("window.notReloaded") is True


def test_detail_filters_pages_and_exports_what_the_cli_exports(page, links, tmp_path):
    page.goto(links["acme"] + "/detail?from=2020-02-03T00:00:00&to=2020-02-04T00:00:00&page_size=50")
    assert page.get_by_role("heading", name="Relatório Detalhado de Notificações").is_visible()
    headers = page.locator("table.data thead th").all_inner_texts()
    assert headers == ["Mensagem ID", "Payload", "Data hora"]
    assert page.get_by_text("Página 1 de 3").is_visible()
    shoot(page, "detail")
    page.locator("a[rel=next]").click()
    assert page.get_by_text("Página 2 de 3").is_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Exportar CSV").click()
    downloaded = tmp_path / "export.csv"
    download_info.value.save_as(downloaded)
    cli = tmp_path / "cli.csv"
    period = ("--from", "2020-02-03T00:00:00Z", "--to", "2020-02-04T00:00:00Z")
    run_warehouse("report", "detail", "--customer", "Acme", *period, "--format", "csv", "--output", cli)
    assert downloaded.read_bytes() == cli.read_bytes()
    assert b"5B81FF24A1" in downloaded.read_bytes() and b"BETA" not in downloaded.read_bytes()

    # the channel filter: Acme's three SMS
    page.goto(links["acme"] + "/detail?from=2020-02-03T00:00:00&to=2020-02-04T00:00:00&channel=SMS")
    assert page.locator("table.data tbody tr").count() == 3


def test_bills_show_billed_rebilled_and_open_days(page, links):
    page.goto(links["acme"] + "/bills")
    rows = page.locator("table.data tbody tr")
    texts = [" | ".join(row.locator("td").all_inner_texts()) for row in rows.all()]
    # the open day with its running count, the re-billed day (31 after the late event), the bill it replaced
    assert texts[0].startswith("2020-02-03 | em aberto | ")
    assert texts[1].startswith("2020-02-02 | refaturado | 31 | R$ 0,04 | R$ 1,24 | ")
    assert " | substituída | 30 | R$ 0,04 | R$ 1,20 | " in texts[2]
    assert len(texts) == 3
    shoot(page, "bills")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Exportar CSV").click()
    lines = download_info.value.path().read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        "customer_id,customer_name,billing_date,status,whatsapp_notifications,unit_price_brl,amount_brl,billed_at"
    )
    assert lines[1].startswith("7494212,Acme,2020-02-03,open,")
    assert lines[2].startswith("7494212,Acme,2020-02-02,rebilled,31,0.04,1.24,2")
    assert lines[3].startswith("7494212,Acme,2020-02-02,superseded,30,0.04,1.20,2")


def test_operator_portal_lists_every_customer_and_opens_their_views(page, links):
    page.goto(links["operator"] + "/")
    names = page.locator("#customers tbody tr td:nth-child(2)").all_inner_texts()
    assert sorted(names) == sorted([ACME[1], BETA[1], GAMMA[1]])
    shoot(page, "operator")
    page.locator("#search").fill("beta")
    assert page.locator("#customers tbody tr:visible").count() == 1
    page.get_by_role("link", name=BETA[1]).click()
    assert page.locator("#customer").inner_text() == BETA[1]
    shoot(page, "operator-customer-panel")
    for section, name in (
        ("invoices", "operator-invoices"),
        ("chatbot", "operator-chatbot"),
        ("status", "operator-status"),
    ):
        assert page.goto(f"{links['operator']}/{section}").status == 200, section
        shoot(page, name)
    assert page.get_by_text("Marca d'água: 2020-02-03T15:00:00+00:00").is_visible()
    page.goto(f"{links['operator']}/invoices")
    assert page.locator("table.data tbody tr").count() > 0
    page.goto(f"{links['operator']}/chatbot")
    assert page.locator("table.data").count() > 0


def test_error_page_for_a_customer_on_an_operator_page(page, links):
    response = page.goto(links["acme"] + "/status")
    assert response.status == 403
    assert page.get_by_text("Esta página é do operador").is_visible()
    assert "Acme" not in page.content()
    shoot(page, "error")
