"""Metabase's provisioning (bi/metabase/): Metabase cannot run here, so the content is checked
against the exposures, and every question runs as bi_reader on a built warehouse, as Metabase would
substitute its filters, giving the figures of `warehouse report`."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
from datetime import UTC, date
from typing import Any

import psycopg
import pytest
import yaml

from loader import PROJECT_DIR, db
from loader.reports.formatting import utc_iso
from tests import sample_warehouse
from tests.conftest import run_warehouse

METABASE_DIR = PROJECT_DIR / "bi" / "metabase"
_spec = importlib.util.spec_from_file_location("provision", METABASE_DIR / "provision.py")
assert _spec and _spec.loader
provision = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(provision)

CONTENT = provision.load_content()
EXPOSURES = {
    exposure["name"]: exposure
    for path in PROJECT_DIR.glob("models/**/*__exposures.yml")
    for exposure in yaml.safe_load(path.read_text())["exposures"]
}
DASHBOARDS = {dashboard["name"]: dashboard for dashboard in CONTENT["dashboards"]}
QUESTIONS = {
    question["name"]: question for dashboard in DASHBOARDS.values() for question in dashboard["questions"]
}


def test_every_dashboard_reads_exactly_what_its_exposure_lists():
    assert {dashboard["exposure"] for dashboard in DASHBOARDS.values()} == {
        "notification_panel_dashboard",
        "notification_detail_explorer",
        "notification_billing_dashboard",
    }
    for dashboard in DASHBOARDS.values():
        exposure = EXPOSURES[dashboard["exposure"]]
        assert "Metabase" in exposure["label"]
        listed = {re.fullmatch(r"ref\('(\w+)'\)", parent).group(1) for parent in exposure["depends_on"]}
        read = {
            relation
            for question in dashboard["questions"]
            for schema, relation in re.findall(r"\b(\w+)\.(\w+)\b(?!\()", question["sql"])
            if schema in ("marts", "raw", "staging", "intermediate", "seeds", "ops")
        }
        assert read == listed, dashboard["name"]


def test_the_payloads_wire_every_filter_to_its_questions_variables():
    for dashboard in DASHBOARDS.values():
        parameters = {parameter["id"]: parameter for parameter in provision.dashboard_parameters(dashboard)}
        card_ids = {question["name"]: number for number, question in enumerate(dashboard["questions"], 1)}
        mapped = set()
        for dashcard in provision.dashcards(dashboard, card_ids):
            question = next(q for q in dashboard["questions"] if card_ids[q["name"]] == dashcard["card_id"])
            card = provision.card_payload(question, dashboard["filters"], database_id=7)
            tags = card["dataset_query"]["native"]["template-tags"]
            assert card["dataset_query"]["database"] == 7
            assert set(tags) == set(re.findall(r"\{\{(\w+)\}\}", question["sql"]))
            for mapping in dashcard["parameter_mappings"]:
                tag = tags[mapping["target"][1][1]]
                parameter = parameters[mapping["parameter_id"]]
                assert parameter["sectionId"] == {"text": "string"}.get(tag["type"], tag["type"])
                mapped.add(parameter["id"])
        assert mapped == set(parameters), dashboard["name"]
    database = provision.database_payload(
        CONTENT,
        {"WAREHOUSE_DB_HOST": "timescaledb", "WAREHOUSE_DB_NAME": "warehouse", "BI_READER_PASSWORD": "x"},
    )
    assert database["details"]["user"] == db.BI_READER_ROLE
    assert database["details"]["schema-filters-patterns"] == ",".join(db.BI_SCHEMAS)


def test_content_with_a_variable_no_filter_feeds_is_refused(tmp_path):
    (tmp_path / "q.sql").write_text("select 1 where {{customer}} = 'x' [[and {{day}} = 1]]")
    content = {
        "database": {"name": "w", "schemas": ["marts"]},
        "dashboards": [
            {
                "name": "d",
                "filters": [{"slug": "customer", "name": "C", "type": "text", "required": True}],
                "questions": [{"name": "q", "file": "q.sql", "display": "table"}],
            }
        ],
    }
    (tmp_path / "content.json").write_text(json.dumps(content))
    with pytest.raises(provision.ContentError, match=r"q.sql: variables without a filter: \['day'\]"):
        provision.load_content(tmp_path / "content.json")


def _run(reader: psycopg.Connection, question: str, **values: Any) -> list[tuple[Any, ...]]:
    """The question as Metabase runs it: an optional clause [[...]] stays when all its variables have
    a value (given, or the filter's default), each variable becomes a parameter."""
    dashboard = next(d for d in DASHBOARDS.values() if any(q["name"] == question for q in d["questions"]))
    values = {f["slug"]: f["default"] for f in dashboard["filters"] if "default" in f} | values

    def clause(match: re.Match[str]) -> str:
        inner = match.group(1)
        return inner if all(name in values for name in provision.VARIABLE.findall(inner)) else ""

    sql = provision.OPTIONAL.sub(clause, QUESTIONS[question]["sql"])
    return reader.execute(provision.VARIABLE.sub(r"%(\1)s", sql), values).fetchall()


def _report_csv(*args: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(run_warehouse("report", *args, "--format", "csv").stdout)))[1:]


def test_every_question_runs_as_bi_reader_and_gives_the_reports_figures(warehouse, conn):
    sample_warehouse.build(conn)
    day = date.fromisoformat(sample_warehouse.BILLED_DAY)
    with psycopg.connect(db.reader_dsn(warehouse), autocommit=True) as reader:
        # panel: the watermark's day by default, or the day chosen; one customer by name
        for args, values in [((), {}), (("--date", day.isoformat()), {"panel_date": day})]:
            rows = _run(reader, "Painel de Notificações", **values)
            assert [[str(r[0]), r[1], str(r[2]), utc_iso(r[3])] for r in rows] == _report_csv("panel", *args)
        acme = _run(reader, "Painel de Notificações", panel_date=day, customer="Acme")
        assert [(name, count) for _, name, count, _ in acme] == [("Acme", 2)]

        # detail: the customer's WhatsApp messages by time, within from/to when given
        def detail(**values: str) -> list[list[str]]:
            rows = _run(reader, "Relatório Detalhado de Notificações", customer="Acme", **values)
            return [[m, p, at.astimezone(UTC).isoformat(timespec="milliseconds")] for m, p, at in rows]

        assert detail() == _report_csv("detail", "--customer", "Acme")
        assert len(detail()) == 3
        window = {"from": "2020-02-03T14:00Z", "to": "2020-02-03T14:01Z"}
        assert detail(**window) == _report_csv(
            "detail", "--customer", "Acme", "--from", window["from"], "--to", window["to"]
        )
        assert [row[0] for row in detail(**window)] == ["5B81FF24A1"]
        assert [row[0] for row in detail(channel="SMS")] == ["S-1"]

        # billing: the latest billed day by default; its runs hold the same figures
        for values in ({}, {"billing_date": day}):
            bill = _run(reader, "Relatório de Cobrança", **values)
            assert [[str(r[1]), r[2], r[0].isoformat(), str(r[3]), str(r[4]), str(r[5])] for r in bill] == (
                _report_csv("billing", "--date", day.isoformat())
            )
        assert [(r[2], r[3], str(r[5])) for r in bill] == [("Acme", 2, "0.08"), ("Beta Ltda", 1, "0.04")]
        runs = _run(reader, "Execuções de cobrança", customer="Acme")  # `build` billed it, then `bill`
        assert [(r[3], r[4], str(r[5])) for r in runs] == [("Acme", 2, "0.08")] * 2
        assert runs[0][0] > runs[1][0]  # latest first
