"""schemathesis against the running server's OpenAPI document: whatever it generates for every
operation, under no link, a customer's or the operator's, the portal never answers 5xx."""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES_PER_OPERATION = 25


def test_the_document_describes_the_api(portal):
    document = httpx.get(f"{portal.url}/openapi.json").json()
    paths = set(document["paths"])
    for view in ("api/panel", "api/detail", "api/bills", "detail.csv", "bills.csv"):
        assert f"/portal/{{token}}/{view}" in paths
        assert f"/portal/{{token}}/customers/{{customer_id}}/{view}" in paths
    for view in ("api/customers", "api/invoices", "api/chatbot", "api/status"):
        assert f"/portal/{{token}}/{view}" in paths


def test_no_input_gets_a_server_error(portal, links):
    # (schemathesis' pytest plugin, `parametrize`, does not run on pytest 9: strategies instead)
    schema = schemathesis.openapi.from_url(f"{portal.url}/openapi.json")
    tokens = st.sampled_from([None, portal.token(links["acme"]), portal.token(links["operator"])])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), token=tokens)
        def never_5xx(case, token):
            if token is not None and "token" in (case.path_parameters or {}):
                case.path_parameters["token"] = token
            response = case.call(base_url=portal.url, timeout=30)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}"
            )

        never_5xx()
