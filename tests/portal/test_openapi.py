"""schemathesis against the running server's OpenAPI document: whatever it generates for every
operation, under a customer's and the operator's link, the portal never answers 5xx."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

schema = schemathesis.pytest.from_fixture("portal_schema")


@pytest.fixture(scope="module")
def portal_schema(portal):
    return schemathesis.openapi.from_url(f"{portal.url}/openapi.json")


def test_the_document_describes_the_api(portal):
    document = httpx.get(f"{portal.url}/openapi.json").json()
    paths = set(document["paths"])
    for view in ("api/panel", "api/detail", "api/bills", "detail.csv", "bills.csv"):
        assert f"/portal/{{token}}/{view}" in paths
        assert f"/portal/{{token}}/customers/{{customer_id}}/{view}" in paths
    for view in ("api/customers", "api/invoices", "api/chatbot", "api/status"):
        assert f"/portal/{{token}}/{view}" in paths


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_gets_a_server_error(case, portal, links):
    for link in (None, links["acme"], links["operator"]):
        if link is not None and "token" in case.path_parameters:
            case.path_parameters["token"] = portal.token(link)
        response = case.call(base_url=portal.url, timeout=30)
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"
