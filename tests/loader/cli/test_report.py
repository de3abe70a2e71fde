"""`warehouse report ...` options refused before anything is read."""

from __future__ import annotations

import pytest

from tests.conftest import run_warehouse


@pytest.mark.parametrize(
    "args",
    [("panel", "--customer", ""), ("billing", "--customer", " "), ("detail", "--customer", "")],
)
def test_an_empty_customer_is_refused_not_read_as_every_customer(args):
    result = run_warehouse("report", *args, check=False)
    assert result.returncode == 2
    assert "--customer: a customer id or name must not be empty" in result.stderr
    assert "Traceback" not in result.stderr
