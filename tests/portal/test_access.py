"""A link shows its customer and nothing else, by any path; bad tokens and bad input get a 4xx that
says why, never data, never a 500."""

from __future__ import annotations

import re
import time
from collections import deque
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.conftest import run_warehouse
from tests.portal.conftest import ACME, BETA, FRAME_ANCESTORS, GAMMA

# What only Acme's data contains: its name, id, message ids and payloads.
ACME_MARKERS = ("Acme", str(ACME[0]), "ACME-", "5B81FF24A1", "A61D178E73", "bem-vindo")
BETA_MARKERS = ("Beta", str(BETA[0]), "BETA-")
LINK = re.compile(r"""(?:href|action|data-api)="([^"]+)\"""")


def get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=30, follow_redirects=False)


def crawl(start: str, prefix: str, limit: int = 80) -> list[str]:
    """Every same-portal URL reachable from `start`: links, form targets, the panel's data calls."""
    seen, queue, found = {start}, deque([start]), []
    while queue and len(found) < limit:
        url = queue.popleft()
        response = get(url)
        assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:200]}"
        found.append(url)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        for target in LINK.findall(response.text):
            absolute = urljoin(url, target.replace("&amp;", "&"))
            if urlsplit(absolute).path.startswith(prefix) and absolute not in seen:
                seen.add(absolute)
                queue.append(absolute)
    return found


def test_every_link_of_a_customer_is_empty_under_another_customers_token(portal, links):
    acme, beta = portal.token(links["acme"]), portal.token(links["beta"])
    urls = crawl(links["acme"] + "/", f"/portal/{acme}")
    paths = {urlsplit(url).path for url in urls}
    assert {
        f"/portal/{acme}/{view}" for view in ("panel", "detail", "bills", "detail.csv", "bills.csv")
    } <= paths
    assert f"/portal/{acme}/api/panel" in paths
    for url in urls:
        assert any(marker in get(url).text for marker in ACME_MARKERS), url  # the crawl found Acme's data
        response = get(url.replace(acme, beta))
        for marker in ACME_MARKERS:
            assert marker not in response.text, f"{url} under Beta's token shows {marker!r}"


def test_parameters_never_reach_another_customer(links):
    for path in ("/api/panel", "/api/detail", "/api/bills", "/detail.csv", "/bills.csv", "/panel"):
        for query in (
            f"customer_id={BETA[0]}",
            "customer=Beta%20Ltda",
            f"customer={BETA[0]}",
            f"id={BETA[0]}",
        ):
            response = get(f"{links['acme']}{path}?{query}")
            assert response.status_code == 200, (path, query)
            assert not any(marker in response.text for marker in BETA_MARKERS), (path, query)


def test_a_customer_token_never_opens_operator_pages(portal, links):
    operator_urls = crawl(links["operator"] + "/", f"/portal/{portal.token(links['operator'])}", limit=40)
    operator, acme = portal.token(links["operator"]), portal.token(links["acme"])
    assert any("/customers/" in url for url in operator_urls) and any(
        "/status" in url for url in operator_urls
    )
    for url in operator_urls:
        path = urlsplit(url).path
        if path == f"/portal/{operator}/":
            continue  # the same path is the customer's own panel under a customer's token
        response = get(url.replace(operator, acme))
        assert response.status_code == 403, url
        assert not any(marker in response.text for marker in BETA_MARKERS), url


def _assert_refused(url: str, *statuses: int) -> None:
    response = get(url)
    assert response.status_code in statuses, f"{url}: {response.status_code}"
    assert not any(marker in response.text for marker in (*ACME_MARKERS, *BETA_MARKERS, "Gamma")), url


def test_forged_tampered_and_malformed_tokens_get_404(portal, links):
    token = portal.token(links["acme"])
    payload, signature = token.split(".")
    forged = f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    beta_payload = portal.token(links["beta"]).split(".")[0]
    for bad in (forged, f"{beta_payload}.{signature}", payload, "x", "a.b", "....", "A" * 199, "%00.%00"):
        for path in ("/", "/panel", "/api/panel", "/detail.csv", "/api/bills"):
            _assert_refused(f"{portal.url}/portal/{bad}{path}", 404)
    _assert_refused(f"{portal.url}/portal/{'A' * 300}/api/panel", 422)


def test_expired_links_get_401(portal):
    expiring = portal.link("--customer", "Gamma S.A.", "--expires-in", "4s")
    assert get(expiring + "/api/panel").status_code == 200
    time.sleep(4.5)
    _assert_refused(expiring + "/api/panel", 401)
    assert "expirou" in get(expiring + "/panel").text


def test_revoked_links_get_401_and_new_links_work(portal):
    before = portal.link("--customer", str(GAMMA[0]))
    assert get(before + "/api/panel").json()["customer_name"] == GAMMA[1]
    revoked = run_warehouse("portal", "revoke", "--customer", str(GAMMA[0]))
    assert revoked.stdout == f"revoked every portal link issued to {GAMMA[1]} ({GAMMA[0]}) so far\n"
    _assert_refused(before + "/api/panel", 401)
    assert "revogado" in get(before + "/panel").text
    after = portal.link("--customer", str(GAMMA[0]))
    assert get(after + "/api/panel").json()["customer_name"] == GAMMA[1]


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/panel?date=2020-13-45", 422, "date"),
        ("/api/panel?date=not-a-date", 422, "date"),
        ("/api/panel?date=2019-01-01", 404, "Sem painel"),
        ("/api/detail?from=2020-01-01&to=2020-12-31", 422, "more than 92 days"),
        ("/detail.csv?from=2020-01-01&to=2020-12-31", 422, "more than 92 days"),
        ("/api/detail?from=2020-02-04&to=2020-02-03", 422, "must be after"),
        ("/api/detail?from=yesterday", 422, "from"),
        ("/api/detail?page=99", 404, "past the last page"),
        ("/api/detail?page=201", 422, "first 10,000 rows"),
        ("/detail?page=0", 422, "page"),
        ("/api/detail?page_size=100000", 422, "page_size"),
        ("/api/detail?channel=%20", 422, "not a channel"),
        ("/api/detail?channel=%00", 422, "channel"),
    ],
)
def test_bad_input_gets_a_4xx_saying_why(links, path, status, says):
    response = get(links["acme"] + path)
    assert response.status_code == status, response.text[:300]
    assert says in response.text
    if "/api/" in path or ".csv" in path:
        assert set(response.json()) == {"detail"}
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/customers/999/panel", 404, "Cliente 999 não encontrado"),
        ("/customers/not-an-id/panel", 422, "customer_id"),
        ("/api/invoices?month=2020-13", 422, "not a month"),
        ("/api/invoices?month=13", 422, "month"),
        ("/api/chatbot?flow=NO-SUCH-FLOW", 404, "no chatbot flow"),
        ("/api/customers?sort=price", 422, "sort"),
    ],
)
def test_bad_operator_input_gets_a_4xx_saying_why(links, path, status, says):
    response = get(links["operator"] + path)
    assert response.status_code == status, response.text[:300]
    assert says in response.text


def test_security_headers(links):
    response = get(links["acme"] + "/panel")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "default-src 'none'" in policy
    assert policy.endswith(f"frame-ancestors {FRAME_ANCESTORS}")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert "https://" not in response.text  # nothing loaded from elsewhere
