"""`warehouse report chatbot` end to end: loader -> raw -> dbt build (models + flow views) -> report."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from loader import PROJECT_DIR
from tests.conftest import run_warehouse

SAMPLES = [PROJECT_DIR / "data" / "chatbot" / name for name in ("hour=13.json", "hour=14.json")]
# The other public copy: delivery_confirmed as "true" / "false"; its hour=13.json is the same file.
TRUE_FALSE_SAMPLES = [SAMPLES[0], PROJECT_DIR / "data" / "chatbot-true-false" / "hour=14.json"]

EXPECTED_TEXT = """\
| customer | flow  | session | first_answer_dt     | last_answer_dt      | name  | cpf            | delivery_confirmed |
|----------|-------|---------|---------------------|---------------------|-------|----------------|--------------------|
| C1000    | F1000 | S1000   | 2019-12-16T13:59:58 | 2019-12-16T14:00:01 | maria | 305.584.960-40 | true               |
| C1000    | F1000 | S2000   | 2019-12-16T13:59:59 | 2019-12-16T14:00:00 | joao  | 733.600.420-26 | false              |

| customer | flow  | session | first_answer_dt     | last_answer_dt      | recomenda | nota |
|----------|-------|---------|---------------------|---------------------|-----------|------|
| C2000    | F2000 | S3000   | 2019-12-16T13:59:59 | 2019-12-16T14:00:01 | Simmmmmmm | 9    |
"""  # noqa: E501 (the acceptance tables are wide)

INJECTION = 'x"); drop table raw.loaded_files; --'
FLOW_F2 = 'F2 "beta"; --'
FLOW_F2_TEXT = """\
| customer | flow          | session | first_answer_dt     | last_answer_dt      | ok    | {{ 1 + 1 }} |
|----------|---------------|---------|---------------------|---------------------|-------|-------------|
| C1       | F2 "beta"; -- | S1      | 2019-12-16T09:00:00 | 2019-12-16T09:00:00 | true  | jinja?      |
| C1       | F2 "beta"; -- | S2      | 2019-12-16T09:01:00 | 2019-12-16T09:01:00 | false |             |
"""
LONG_KEY = "k" * 70


def _build() -> None:
    # dbt unit tests do not depend on the data; `make dbt-test` runs them
    run_warehouse("build", "--select", "+fct_chatbot_conversations+", "--exclude", "test_type:unit")


def _write(path, *elements: tuple[str, str, str, str, dict[str, object]]) -> None:
    path.write_text(
        json.dumps(
            [
                {"customer": customer, "flow": flow, "session": session, "timestamp": at, "content": content}
                for customer, flow, session, at, content in elements
            ],
            ensure_ascii=False,
        )
    )


def _view_columns(conn, view: str) -> list[tuple[str, str]]:
    return conn.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = 'chatbot' and table_name = %s order by ordinal_position",
        (view,),
    ).fetchall()


def _reported_flows() -> list[str]:
    return list(json.loads(run_warehouse("report", "chatbot", "--format", "json").stdout))


@pytest.mark.parametrize("samples", [SAMPLES, TRUE_FALSE_SAMPLES], ids=["sim-nao", "true-false"])
def test_sample_report_in_every_format(warehouse, conn, samples):
    # tests/loader/cli/test_demo.py checks that `warehouse demo` prints this report too
    run_warehouse("load", "chatbot", *samples)
    _build()
    # typed columns for BI tools: a yes / no column is boolean, nota an integer
    assert _view_columns(conn, "F1000")[5:] == [
        ("name", "text"),
        ("cpf", "text"),
        ("delivery_confirmed", "boolean"),
    ]
    assert _view_columns(conn, "F2000")[5:] == [("recomenda", "text"), ("nota", "bigint")]
    assert run_warehouse("report", "chatbot").stdout == EXPECTED_TEXT
    assert run_warehouse("report", "chatbot", "--flow", "F2000").stdout == EXPECTED_TEXT.split("\n\n")[1]
    assert run_warehouse("report", "chatbot", "--flow", "F1000", "--format", "csv").stdout == (
        "customer,flow,session,first_answer_dt,last_answer_dt,name,cpf,delivery_confirmed\n"
        "C1000,F1000,S1000,2019-12-16T13:59:58,2019-12-16T14:00:01,maria,305.584.960-40,true\n"
        "C1000,F1000,S2000,2019-12-16T13:59:59,2019-12-16T14:00:00,joao,733.600.420-26,false\n"
    )
    document = run_warehouse("report", "chatbot", "--format", "json").stdout
    assert json.loads(document) == {
        "F1000": [
            {"customer": "C1000", "flow": "F1000", "session": "S1000",
             "first_answer_dt": "2019-12-16T13:59:58", "last_answer_dt": "2019-12-16T14:00:01",
             "name": "maria", "cpf": "305.584.960-40", "delivery_confirmed": True},
            {"customer": "C1000", "flow": "F1000", "session": "S2000",
             "first_answer_dt": "2019-12-16T13:59:59", "last_answer_dt": "2019-12-16T14:00:00",
             "name": "joao", "cpf": "733.600.420-26", "delivery_confirmed": False},
        ],
        "F2000": [
            {"customer": "C2000", "flow": "F2000", "session": "S3000",
             "first_answer_dt": "2019-12-16T13:59:59", "last_answer_dt": "2019-12-16T14:00:01",
             "recomenda": "Simmmmmmm", "nota": 9},
        ],
    }  # fmt: skip
    # row objects keep the view's column order
    assert list(json.loads(document)["F2000"][0])[-2:] == ["recomenda", "nota"]

    csv_without_flow = run_warehouse("report", "chatbot", "--format", "csv", check=False)
    assert csv_without_flow.returncode == 2 and "--flow" in csv_without_flow.stderr
    unknown = run_warehouse("report", "chatbot", "--flow", "F9", check=False)
    assert unknown.returncode == 1 and "no chatbot flow 'F9'" in unknown.stderr


def test_rules_offsets_ties_blanks_and_hostile_keys(warehouse, conn, tmp_path, monkeypatch):
    # nothing may depend on the session's time zone (libpq reads PGTZ, for dbt and the report alike)
    monkeypatch.setenv("PGTZ", "America/Sao_Paulo")
    first, second = tmp_path / "hour=11.json", tmp_path / "hour=12.json"
    _write(
        first,
        ("C1", "FX", "S1", "2019-12-16T08:00:00-03:00", {"nome completo": "Ana"}),
        # the same instant, later in the file: wins over the element above
        ("C1", "FX", "S1", "2019-12-16T11:00:00Z", {"nome completo": "Ana Maria"}),
        ("C1", "FX", "S1", "2019-12-16T11:05:00Z", {"CPF": "012.345.678-90", "customer": "C-from-answer"}),
        ("C1", "FX", "S1", "2019-12-16T11:06:00+00:00", {"entregue?": "SIM "}),
        # the same session id under another customer is another conversation; blanks are no answers
        ("C2", "FX", "S1", "2019-12-16T11:10:00+00:00", {"entregue?": "não", "nota": "   "}),
        # nothing valid: this conversation is left out
        ("C3", "FX", "S9", "2019-12-16T11:00:00+00:00", {"nome completo": "\t", "nota": "", "x": None}),
        # no offset: UTC
        ("C1", "FX", "S1", "2019-12-16 12:00:00", {'it\'s "quoted"': "ok"}),
    )
    _write(
        second,
        # the same instant again, in a later file: wins over both answers of the first file
        ("C1", "FX", "S1", "2019-12-16T11:00:00.000+00:00", {"nome completo": "Ana Clara"}),
        # earliest answer of the flow, loaded last: its key is the first column
        ("C1", "FX", "S1", "2019-12-16T10:00:00+00:00", {INJECTION: "boom"}),
        ("C2", "FX", "S1", "2019-12-16T09:30:00-03:00", {"entregue?": "talvez"}),
        ("C1", "FX", "S1", "2019-12-16T11:07:00+00:00", {LONG_KEY: "long", LONG_KEY[:-1] + "x": "longer"}),
        ("C1", FLOW_F2, "S1", "2019-12-16T09:00:00+00:00", {"ok": "sim", "{{ 1 + 1 }}": "jinja?"}),
        ("C1", FLOW_F2, "S2", "2019-12-16T09:01:00+00:00", {"ok": " Nao"}),
    )
    run_warehouse("load", "chatbot", first, second)
    _build()

    assert conn.execute("select count(*) from raw.loaded_files").fetchone() == (2,)
    clipped, clipped_x = "k" * 61 + "~6", "k" * 61 + "~7"  # clipped, then ~ and the column's position
    assert _view_columns(conn, "FX") == [
        ("customer", "text"),
        ("flow", "text"),
        ("session", "text"),
        ("first_answer_dt", "timestamp with time zone"),
        ("last_answer_dt", "timestamp with time zone"),
        (INJECTION, "text"),
        ("nome completo", "text"),
        ("CPF", "text"),
        ("answer_customer", "text"),
        ("entregue?", "text"),  # "talvez" is not a yes / no
        (clipped, "text"),
        (clipped_x, "text"),
        ('it\'s "quoted"', "text"),
    ]
    assert _view_columns(conn, FLOW_F2)[5:] == [("ok", "boolean"), ("{{ 1 + 1 }}", "text")]

    report = json.loads(run_warehouse("report", "chatbot", "--format", "json").stdout)
    assert report == {
        FLOW_F2: [
            {"customer": "C1", "flow": FLOW_F2, "session": "S1", "first_answer_dt": "2019-12-16T09:00:00",
             "last_answer_dt": "2019-12-16T09:00:00", "ok": True, "{{ 1 + 1 }}": "jinja?"},
            {"customer": "C1", "flow": FLOW_F2, "session": "S2", "first_answer_dt": "2019-12-16T09:01:00",
             "last_answer_dt": "2019-12-16T09:01:00", "ok": False, "{{ 1 + 1 }}": None},
        ],
        "FX": [
            {"customer": "C1", "flow": "FX", "session": "S1", "first_answer_dt": "2019-12-16T10:00:00",
             "last_answer_dt": "2019-12-16T12:00:00", INJECTION: "boom", "nome completo": "Ana Clara",
             "CPF": "012.345.678-90", "answer_customer": "C-from-answer", "entregue?": "true",
             clipped: "long", clipped_x: "longer", 'it\'s "quoted"': "ok"},
            {"customer": "C2", "flow": "FX", "session": "S1", "first_answer_dt": "2019-12-16T11:10:00",
             "last_answer_dt": "2019-12-16T12:30:00", INJECTION: None, "nome completo": None, "CPF": None,
             "answer_customer": None, "entregue?": "talvez", clipped: None, clipped_x: None,
             'it\'s "quoted"': None},
        ],
    }  # fmt: skip
    assert run_warehouse("report", "chatbot", "--flow", FLOW_F2).stdout == FLOW_F2_TEXT
    csv_lines = run_warehouse("report", "chatbot", "--flow", "FX", "--format", "csv").stdout.splitlines()
    assert csv_lines[0].startswith('customer,flow,session,first_answer_dt,last_answer_dt,"x""); drop table')
    assert csv_lines[2] == "C2,FX,S1,2019-12-16T11:10:00,2019-12-16T12:30:00,,,,,talvez,,,"


def test_keys_and_flows_crafted_to_collide_or_too_many_keys_still_get_their_views(warehouse, conn, tmp_path):
    # an empty key beside one named like its shortening; a 70-character key beside its own
    # 63-byte shortening; flow ids shaped like shortened names
    keys = {"": "a", "~1": "b", "_d41d8cd9": "c", LONG_KEY: "d", "k" * 61 + "~4": "e"}
    path = tmp_path / "hour=10.json"
    _write(
        path,
        *(("C1", flow, "S1", "2019-12-16T10:00:00Z", keys) for flow in ("F~1", "F" * 70, "F" * 61 + "~1")),
        # wider than a view can be: the first 1,595 keys are its columns
        ("C1", "WIDE", "S1", "2019-12-16T10:00:00Z", {f"q{number}": "x" for number in range(1600)}),
    )
    run_warehouse("load", "chatbot", path)
    _build()
    views = conn.execute(
        'select flow_id, view_name from marts.dim_chatbot_flows order by flow_id collate "C"'
    ).fetchall()
    # numbered in byte order; the long id's view is named like the other flow's id, not its view
    assert views == [
        ("F" * 70, "F" * 61 + "~1"),
        ("F" * 61 + "~1", "F" * 61 + "~2"),
        ("F~1", "F~1~3"),
        ("WIDE", "WIDE"),
    ]
    assert len(_view_columns(conn, "WIDE")) == 1600
    for _, view in views[:3]:
        assert [name for name, _ in _view_columns(conn, view)][5:] == [
            "~1",
            "~1~2",
            "_d41d8cd9",
            "k" * 61 + "~4",
            "k" * 61 + "~5",
        ]
    report = json.loads(run_warehouse("report", "chatbot", "--flow", "F~1", "--format", "json").stdout)
    assert [list(rows[0].values())[5:] for rows in report.values()] == [list("abcde")]


def test_new_flows_and_keys_appear_and_gone_flows_leave_no_view(warehouse, conn, tmp_path):
    f3000 = tmp_path / "hour=15.json"
    _write(f3000, ("C3000", "F3000", "S1", "2019-12-16T15:00:00+00:00", {"nps": "10"}))
    run_warehouse("load", "chatbot", *SAMPLES, f3000)
    _build()
    assert _reported_flows() == ["F1000", "F2000", "F3000"]

    later = tmp_path / "hour=16.json"
    _write(later, ("C1000", "F2000", "S3000", "2019-12-16T16:00:00+00:00", {"comentario": "ótimo"}))
    run_warehouse("load", "chatbot", later)
    # e.g. a retention job removed a flow's raw answers: its view goes with the next build
    conn.execute("delete from raw.chatbot_answers where element ->> 'flow' = 'F3000'")
    _build()
    assert [name for name, _ in _view_columns(conn, "F2000")][5:] == ["recomenda", "nota", "comentario"]
    assert _view_columns(conn, "F3000") == []
    assert _reported_flows() == ["F1000", "F2000"]


def test_report_before_a_build_says_what_to_do(warehouse):
    run_warehouse("load", "chatbot", *SAMPLES)
    result = run_warehouse("report", "chatbot", check=False)
    assert result.returncode == 1
    assert "run `warehouse build`" in result.stderr


def test_typed_answers_and_a_later_answer_that_breaks_a_type(warehouse, conn, tmp_path):
    typed = tmp_path / "hour=10.json"
    _write(
        typed,
        ("C1", "FT", "S1", "2019-12-16T10:00:00Z",
         {"ok": "TRUE", "nota": "9", "nps": "9.5", "preco": "10", "cep": "01310", "obs": "a\nb|c"}),
        ("C1", "FT", "S2", "2019-12-16T10:01:00Z",
         {"ok": " nao", "nota": "10", "nps": "7", "preco": "12345678901234567890.25", "cep": "04538",
          "obs": "| fake | row |"}),
    )  # fmt: skip
    run_warehouse("load", "chatbot", typed)
    _build()
    assert _view_columns(conn, "FT")[5:] == [
        ("ok", "boolean"),
        ("nota", "bigint"),
        ("nps", "numeric"),
        ("preco", "numeric"),
        ("cep", "text"),  # a leading zero: a code, not a number
        ("obs", "text"),
    ]
    document = run_warehouse("report", "chatbot", "--format", "json").stdout
    assert "12345678901234567890.25" in document  # exact: a JSON number, never a float's digits
    rows = [{key: row[key] for key in ("ok", "nota", "nps", "preco", "cep")} for row in
            json.loads(document, parse_float=Decimal)["FT"]]  # fmt: skip
    assert rows == [
        {"ok": True, "nota": 9, "nps": Decimal("9.5"), "preco": 10, "cep": "01310"},
        {"ok": False, "nota": 10, "nps": 7, "preco": Decimal("12345678901234567890.25"), "cep": "04538"},
    ]
    # text keeps the answers' own rendering; data can neither add a row nor split a column
    lines = run_warehouse("report", "chatbot").stdout.splitlines()
    assert len(lines) == 4
    assert lines[2].endswith("| true  | 9    | 9.5 | 10                      | 01310 | a\\nb\\|c           |")
    assert lines[3].endswith(
        "| false | 10   | 7   | 12345678901234567890.25 | 04538 | \\| fake \\| row \\| |"
    )

    # a later answer that is no number / no yes-no turns its column back to text at the next build
    later = tmp_path / "hour=11.json"
    _write(later, ("C1", "FT", "S3", "2019-12-16T11:00:00Z", {"nota": "nove", "ok": "talvez"}))
    run_warehouse("load", "chatbot", later)
    _build()
    assert dict(_view_columns(conn, "FT")[5:]) == {
        "ok": "text", "nota": "text", "nps": "numeric", "preco": "numeric", "cep": "text", "obs": "text"
    }  # fmt: skip
    report = json.loads(run_warehouse("report", "chatbot", "--format", "json").stdout)["FT"]
    assert [(row["ok"], row["nota"]) for row in report] == [
        ("true", "9"),
        ("false", "10"),
        ("talvez", "nove"),
    ]
