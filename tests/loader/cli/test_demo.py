"""The demo's stream: the seed's messages in it, event-time order, the watermark the seed shows."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime

import pytest

from loader import demo
from tests.conftest import run_warehouse
from tests.loader.reports.test_chatbot import EXPECTED_TEXT


def test_demo_stream_holds_the_seed_messages_in_time_order_and_ends_at_the_watermark():
    messages = list(demo.messages(20_000))
    assert len(messages) == 20_000
    events = [json.loads(message.value) for message in messages if message.kind == "event"]
    seed = [event for event in events if event["message_id"] in ("5B81FF24A1", "A61D178E73")]
    assert seed == [
        {
            "customer_id": 7494212,
            "message_id": message_id,
            "customer_name": "Acme",
            "channel": "Whatsapp",
            "payload": "Olá XXXXX, seja muito bem-vindo! Precisa de alguma ajuda?",
            "event_datetime": "2020-02-03T14:00:01.001+00:00",
        }
        for message_id in ("5B81FF24A1", "A61D178E73")
    ]
    times = [datetime.fromisoformat(event["event_datetime"]) for event in events]
    assert times == sorted(times)
    assert times[0] >= demo.STARTS_AT and times[-1] == demo.ENDS_AT
    customers = Counter((event["customer_id"], event["customer_name"]) for event in events)
    assert len(customers) == 50
    assert [name for (_, name) in customers].count("Acme") == 1
    assert 0.06 < customers[demo.ACME] / len(events) < 0.10
    kinds = Counter(message.kind for message in messages)
    assert kinds["duplicate"] > 0 and len(kinds) > 2  # redeliveries and poison too
    assert messages == list(demo.messages(20_000))  # reproducible


@pytest.fixture
def demo_home(tmp_path, monkeypatch):
    """An empty WAREHOUSE_HOME on the embedded defaults; whatever the demo starts there is stopped."""
    for name in ("WAREHOUSE_DSN", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_TOPIC", "KAFKA_GROUP_ID"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("WAREHOUSE_HOME", str(home))
    yield home
    run_warehouse("down", "--purge")


def test_demo_prints_the_five_reports_and_runs_again(demo_home):
    first = run_warehouse("demo", "--events", "20000").stdout
    # quiet: one line per step with its time, then the reports; the steps' own output in the log
    steps = first.split("\n\n==> Panel", 1)[0].splitlines()
    log = demo_home / "demo.log"
    assert steps[1] == f"    (what the steps print: {log}; `warehouse demo --verbose` shows it here)"
    del steps[1]
    assert len(steps) == 8 and all(re.fullmatch(r"==> .+ \.\.\. \d+\.\d s", step) for step in steps), steps
    logged = log.read_text()
    assert "WARNING loader.sources.kafka: rejected notifications[" in logged
    assert "Completed successfully" in logged and "billed 2020-02-02: 50 customers" in logged
    reports = first.split("\n==> ")
    titles = [report.split("  ($ warehouse", 1)[0] for report in reports[-5:]]
    assert titles == [
        "Panel",
        "Detailed report",
        "Billing",
        "Invoice rolling averages",
        "Chatbot answers, one table per flow",
    ]
    panel, detail, billing, invoices, chatbot = reports[-5:]
    assert "Cliente: Acme\nNotificações Whatsapp: " in panel
    assert panel.endswith("Última atualização: 2020-02-03T15:00:00+00:00\n")
    assert (
        "= Cliente: Acme =\n"
        "Mensagem ID: 5B81FF24A1\n"
        "Payload: “Olá XXXXX, seja muito bem-vindo! Precisa de alguma ajuda?”\n"
        "Data hora: 2020-02-03T14:00:01.001+00:00\n\n"
        "Mensagem ID: A61D178E73\n"
        "Payload: “Olá XXXXX, seja muito bem-vindo! Precisa de alguma ajuda?”\n"
        "Data hora: 2020-02-03T14:00:01.001+00:00\n"
    ) in detail
    assert "Relatório de Cobrança\nCliente: Acme\n" in billing and "Data: 2020-02-02\n" in billing
    assert "| C1000    | A1100   | 56.333,33                  | 41.416,66                  |" in invoices
    assert chatbot.split("\n", 1)[1].startswith(EXPECTED_TEXT)
    # it ends by telling how to open Acme's and the operator's portals
    acme_line, operator_line = first.strip().splitlines()[-3:-1]
    assert re.fullmatch(r" +Acme's portal: +http://127\.0\.0\.1:8080/portal/[\w-]+\.[\w-]+", acme_line)
    assert re.fullmatch(
        r" +the operator's portal: +http://127\.0\.0\.1:8080/portal/[\w-]+\.[\w-]+", operator_line
    )

    # a second demo starts over: the same figures, not twice as many; --verbose shows the steps' output
    verbose = run_warehouse("demo", "--events", "20000", "--verbose")
    second = verbose.stdout
    assert "billed 2020-02-02: 50 customers" in second and "Completed successfully" in second
    assert "rejected notifications[" in verbose.stderr

    def printed_reports(output: str) -> str:
        return output.split("\n==> Panel", 1)[1].rsplit("\ndemo finished in ", 1)[0]

    assert printed_reports(second) == printed_reports(first)


def test_demo_refuses_to_delete_a_warehouse_it_did_not_create(demo_home):
    demo_home.mkdir()
    (demo_home / "pgdata").mkdir()
    refused = run_warehouse("demo", check=False)
    assert refused.returncode == 1
    assert "holds a warehouse the demo did not create" in refused.stderr
    assert (demo_home / "pgdata").exists()
