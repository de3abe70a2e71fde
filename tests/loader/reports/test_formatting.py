"""Text reports print data on one line and in one cell; json carries exact decimals."""

from __future__ import annotations

import json
from decimal import Decimal

from loader.reports.formatting import escape_cell, escape_text, render_table, to_json


def test_escape_text_keeps_data_on_its_line():
    assert escape_text("Evil\nCliente: Acme\r\tx") == "Evil\\nCliente: Acme\\r\\tx"
    # terminal control sequences, bidirectional overrides, line separators; the backslash itself
    assert escape_text("a\x1b[2Jb\u202ec\u2028d\\n") == "a\\u001b[2Jb\\u202ec\\u2028d\\\\n"
    assert escape_text("Olá, ação: “ok” 日本") == "Olá, ação: “ok” 日本"  # printable text as it is
    assert escape_cell("a|b\\|") == "a\\|b\\\\\\|"


def test_render_table_cannot_gain_rows_or_columns():
    table = render_table(["key|x", "n"], [["a\nb", "日本"], ["| fake | row |", "ã"]])
    assert table == (
        "| key\\|x            | n    |\n"
        "|-------------------|------|\n"
        "| a\\nb              | 日本 |\n"
        "| \\| fake \\| row \\| | ã    |"
    )


def test_to_json_decimals_as_strings_or_exact_numbers():
    document = {"amount": Decimal("9.50"), "tiny": Decimal("0.00000001"), "rows": [Decimal("-3")]}
    assert json.loads(to_json(document)) == {"amount": "9.50", "tiny": "1E-8", "rows": ["-3"]}
    exact = to_json(document, decimals_as_numbers=True)
    assert '"amount": 9.50' in exact and '"tiny": 0.00000001' in exact
    assert json.loads(exact, parse_float=Decimal) == {
        "amount": Decimal("9.50"),
        "tiny": Decimal("1E-8"),
        "rows": [-3],
    }
    # a string that looks like the internal marker stays a string
    assert json.loads(to_json({"s": "\\u00009\\u0000"}, decimals_as_numbers=True)) == {"s": "\\u00009\\u0000"}
