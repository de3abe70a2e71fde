"""Acceptance: known events -> Kafka -> loader -> raw -> dbt -> panel, detail and billing, exact
figures for two days (the real embedded broker and PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from loader.generator import Message, produce
from loader.settings import Settings
from tests.conftest import run_warehouse
from tests.notifications_helpers import ACME_WELCOME, event, land_events

Land = Callable[[Sequence[dict[str, Any]]], None]


@pytest.fixture
def land(kafka: Settings) -> Land:
    """Produce payloads to the test's topic (keyed by customer, as the platform does) and load them."""

    def land_through_kafka(payloads: Sequence[dict[str, Any]]) -> None:
        messages = [
            Message(key=str(p.get("customer_id")).encode(), value=json.dumps(p).encode()) for p in payloads
        ]
        assert kafka.kafka.bootstrap_servers is not None
        produce(kafka.kafka.bootstrap_servers, kafka.kafka.topic, messages)
        run_warehouse("load", "kafka", "--until-idle", "2")

    return land_through_kafka


SECOND_WELCOME = event(
    message_id="A61D178E73",
    channel="WhatsApp",
    payload="Olá XXXXX, seu pedido foi enviado!",
    event_datetime="2020-02-03T14:05:00.000+00:00",
)


def beta(message_id: str, channel: str, event_datetime: str) -> dict:
    return event(
        customer_id=1000,
        customer_name="Beta Ltda",
        message_id=message_id,
        channel=channel,
        event_datetime=event_datetime,
    )


# Acme. Feb 3 UTC: the seed's two messages, one at -03:00 and the day's last millisecond
# (4 WhatsApp); an SMS; 23:30 and 23:59 at -03:00 that are Feb 4 in UTC; three invalid events.
ACME_EVENTS = [
    ACME_WELCOME,
    SECOND_WELCOME,
    event(message_id="M-0930", channel="WHATSAPP", event_datetime="2020-02-03T09:30:00-03:00"),
    event(message_id="S-1", channel="SMS", event_datetime="2020-02-03T15:00:00Z"),
    event(message_id="N-2330", channel="whatsapp", event_datetime="2020-02-03T23:30:00-03:00"),
    event(message_id="N-2359", event_datetime="2020-02-03T23:59:59.999-03:00"),
    event(message_id="D-2359", event_datetime="2020-02-03T23:59:59.999Z"),
    event(message_id=None),
    event(message_id="BAD-TIME", event_datetime="2020-02-03T10:00:00"),
    event(message_id="BAD-ID", customer_id="ACME"),
]
# A redelivery of the seed message, Beta on both sides of midnight UTC (21:00 at -03:00
# is 00:00 UTC), an e-mail, Acme's latest event (the watermark: 15:00) and an event without channel.
OTHER_EVENTS = [
    ACME_WELCOME,
    beta("B-1", " whats app ", "2020-02-03T21:00:00-03:00"),
    beta("B-2", "WhatsApp", "2020-02-03T20:59:59-03:00"),
    beta("E-1", "E-Mail", "2020-02-04T10:00:00Z"),
    event(message_id="N-1500", event_datetime="2020-02-04T15:00:30.000+00:00"),
    event(message_id="BAD-CHANNEL", channel=None),
]
# 25,000 WhatsApp notifications of one customer on Feb 3: the seed's R$ 1000,00.
BULK = [
    event(customer_id=3, customer_name="Bulk", message_id=f"BULK-{n}", event_datetime="2020-02-03T08:00:00Z")
    for n in range(25_000)
]


def panel(*args: str) -> str:
    return run_warehouse("report", "panel", *args).stdout


def billing(*args: str) -> str:
    return run_warehouse("report", "billing", *args).stdout


def test_panel_detail_and_billing_for_two_days(conn, land, tmp_path):
    land([*ACME_EVENTS, *OTHER_EVENTS, *BULK])
    build = run_warehouse("build")
    assert "WARN 4 test_fct_notification_events_quarantined__is_empty" in build.stdout
    assert conn.execute(
        "select invalid_reason from marts.fct_notification_events_quarantined order by invalid_reason"
    ).fetchall() == [
        ("customer_id is not a non-negative integer",),
        ("event_datetime is not an ISO 8601 timestamp with a UTC offset",),
        ("missing channel",),
        ("missing message_id",),
    ]

    # Panel: the default date is the watermark's day (Feb 4); the last update is its minute.
    assert panel("--customer", "Acme", "--date", "2020-02-03") == (
        "Painel de Notificações\n"
        "Cliente: Acme\n"
        "Notificações Whatsapp: 4\n"
        "Última atualização: 2020-02-04T15:00:00+00:00\n"
    )
    assert json.loads(panel("--format", "json")) == [
        {"customer_id": 7494212, "customer_name": "Acme", "whatsapp_notifications": 3,
         "last_updated_at": "2020-02-04T15:00:00+00:00"},
        {"customer_id": 1000, "customer_name": "Beta Ltda", "whatsapp_notifications": 1,
         "last_updated_at": "2020-02-04T15:00:00+00:00"},
        {"customer_id": 3, "customer_name": "Bulk", "whatsapp_notifications": 0,
         "last_updated_at": "2020-02-04T15:00:00+00:00"},
    ]  # fmt: skip
    assert panel("--date", "2020-02-03", "--format", "csv") == (
        "customer_id,customer_name,whatsapp_notifications,last_updated_at\n"
        "7494212,Acme,4,2020-02-04T15:00:00+00:00\n"
        "1000,Beta Ltda,1,2020-02-04T15:00:00+00:00\n"
        "3,Bulk,25000,2020-02-04T15:00:00+00:00\n"
    )

    # Detail: the seed's two messages, then every WhatsApp message of Acme once, in time order.
    seed_window = ("--from", "2020-02-03T14:00:00", "--to", "2020-02-03T14:10Z")
    assert run_warehouse("report", "detail", "--customer", "7494212", *seed_window).stdout == (
        "Relatório Detalhado de Notificações\n"
        "= Cliente: Acme =\n"
        "Mensagem ID: 5B81FF24A1\n"
        "Payload: “Olá XXXXX, seja muito bem-vindo! Precisa de alguma ajuda?”\n"
        "Data hora: 2020-02-03T14:00:01.001+00:00\n"
        "\n"
        "Mensagem ID: A61D178E73\n"
        "Payload: “Olá XXXXX, seu pedido foi enviado!”\n"
        "Data hora: 2020-02-03T14:05:00.000+00:00\n"
    )
    export = tmp_path / "acme.csv"
    run_warehouse("report", "detail", "--customer", "acme", "--format", "csv", "--output", export)
    welcome = "Olá XXXXX, seja muito bem-vindo! Precisa de alguma ajuda?"
    assert export.read_text() == (
        "message_id,payload,event_at\n"
        f'M-0930,"{welcome}",2020-02-03T12:30:00.000+00:00\n'
        f'5B81FF24A1,"{welcome}",2020-02-03T14:00:01.001+00:00\n'
        'A61D178E73,"Olá XXXXX, seu pedido foi enviado!",2020-02-03T14:05:00.000+00:00\n'
        f'D-2359,"{welcome}",2020-02-03T23:59:59.999+00:00\n'
        f'N-2330,"{welcome}",2020-02-04T02:30:00.000+00:00\n'
        f'N-2359,"{welcome}",2020-02-04T02:59:59.999+00:00\n'
        f'N-1500,"{welcome}",2020-02-04T15:00:30.000+00:00\n'
    )
    assert run_warehouse(
        "report", "detail", "--customer", "Beta Ltda", "--channel", "e mail", "--format", "csv"
    ).stdout == (f'message_id,payload,event_at\nE-1,"{welcome}",2020-02-04T10:00:00.000+00:00\n')

    # Billing: both days; re-billing a day is idempotent.
    run_warehouse("bill", "--date", "2020-02-04")
    run_warehouse("bill", "--date", "2020-02-03")
    run_warehouse("bill", "--date", "2020-02-03")
    assert billing("--date", "2020-02-03", "--customer", "Bulk") == (
        "Relatório de Cobrança\nCliente: Bulk\nNotificações Whatsapp: 25000\n"
        "Valor: R$ 1000,00\nData: 2020-02-03\n"
    )
    assert billing("--date", "2020-02-03", "--format", "csv") == (
        "customer_id,customer_name,billing_date,whatsapp_notifications,unit_price_brl,amount_brl\n"
        "7494212,Acme,2020-02-03,4,0.04,0.16\n"
        "1000,Beta Ltda,2020-02-03,1,0.04,0.04\n"
        "3,Bulk,2020-02-03,25000,0.04,1000.00\n"
    )
    assert json.loads(billing("--date", "2020-02-04", "--format", "json")) == [
        {"customer_id": 7494212, "customer_name": "Acme", "billing_date": "2020-02-04",
         "whatsapp_notifications": 3, "unit_price_brl": "0.04", "amount_brl": "0.12"},
        {"customer_id": 1000, "customer_name": "Beta Ltda", "billing_date": "2020-02-04",
         "whatsapp_notifications": 1, "unit_price_brl": "0.04", "amount_brl": "0.04"},
    ]  # fmt: skip

    # Late events for Feb 3 and redeliveries of counted messages: the panel counts them at once (raw
    # tail, no dbt run); re-billing Feb 3 changes it and the history shows every run.
    late = event(message_id="L-2", event_datetime="2020-02-03T18:00:10Z")
    land([
        event(message_id="L-1", event_datetime="2020-02-03T18:00:00Z"), SECOND_WELCOME, late,
        late, ACME_WELCOME, event(customer_id=42, customer_name="Gamma", message_id="G-1",
                                  event_datetime="2020-02-04T15:01:00Z"),
    ])  # fmt: skip
    live = (
        "customer_id,customer_name,whatsapp_notifications,last_updated_at\n"
        "7494212,Acme,6,2020-02-04T15:01:00+00:00\n"
        "1000,Beta Ltda,1,2020-02-04T15:01:00+00:00\n"
        "3,Bulk,25000,2020-02-04T15:01:00+00:00\n"
    )
    assert panel("--date", "2020-02-03", "--format", "csv") == live
    # a customer first seen in the tail is counted at once too, found by id or name
    gamma = (
        "Painel de Notificações\nCliente: Gamma\nNotificações Whatsapp: 1\n"
        "Última atualização: 2020-02-04T15:01:00+00:00\n"
    )
    assert panel("--customer", "42") == gamma
    assert panel("--customer", "gamma") == gamma
    rebilled = run_warehouse("bill", "--date", "2020-02-03").stdout
    assert "billed 2020-02-03: 3 customers, R$ 1000,28" in rebilled
    assert panel("--date", "2020-02-03", "--format", "csv") == live  # rolled up now: still counted once
    assert panel("--customer", "42") == gamma  # stored by the minutely models now: the same
    assert billing("--customer", "Acme", "--date", "2020-02-03") == (
        "Relatório de Cobrança\nCliente: Acme\nNotificações Whatsapp: 6\nValor: R$ 0,24\nData: 2020-02-03\n"
    )
    runs = conn.execute(
        "select whatsapp_notifications, amount_brl::text from marts.rpt_notification_billing_runs"
        " where billing_date = '2020-02-03' and customer_id = 7494212 order by billed_at"
    ).fetchall()
    # the build's default day (Feb 3), the two bills of Feb 3, the re-bill after the late events
    assert runs == [(4, "0.16"), (4, "0.16"), (4, "0.16"), (6, "0.24")]


def test_reports_explain_what_is_missing(conn):
    run_warehouse("build", "--quiet")
    result = run_warehouse("report", "panel", check=False)
    assert result.returncode == 1 and "nothing has landed" in result.stderr
    land_events(conn, [ACME_WELCOME])
    result = run_warehouse("report", "billing", check=False)
    assert result.returncode == 1 and "warehouse bill" in result.stderr
    result = run_warehouse("report", "detail", "--customer", "Nobody", check=False)
    assert result.returncode == 1 and "no customer with id or name 'Nobody'" in result.stderr


def report(*args: str) -> tuple[str, str]:
    result = run_warehouse("report", *args)
    return result.stdout, result.stderr


EVIL = "Evil\nCliente: Acme\nNotificações Whatsapp: 999999"
# Acme: SMS only on Feb 2, WhatsApp on Feb 3 and 4; Beta from Feb 4; a forged name on Feb 4; the
# watermark on Feb 5, which is open. The build bills Feb 4 (its default: the last closed day).
DAYS_EVENTS = [
    event(message_id="SMS-0202", channel="SMS", event_datetime="2020-02-02T10:00:00Z"),
    event(message_id="W-0203", event_datetime="2020-02-03T10:00:00Z"),
    event(message_id="W-0204", event_datetime="2020-02-04T10:00:00Z"),
    beta("B-0204", "WhatsApp", "2020-02-04T11:00:00Z"),
    event(
        customer_id=666,
        customer_name=EVIL,
        message_id="E\r1|x",
        payload="line 1\nData hora: 1999-01-01\x1b[2J",
        event_datetime="2020-02-04T12:00:00Z",
    ),
    event(message_id="W-0205", event_datetime="2020-02-05T10:00:00Z"),
]


def test_empty_days_say_why_and_how_to_bill(conn):
    land_events(conn, DAYS_EVENTS)
    run_warehouse("build", "--quiet", "--exclude", "test_type:unit")

    open_day = (
        "2020-02-05 is not billed: the day is still open (the watermark, 2020-02-05T10:00:00+00:00,"
        " is in it); bill it now with `warehouse bill --date 2020-02-05`\n"
    )
    assert report("billing", "--date", "2020-02-05") == (open_day, "")
    # json and csv stay machine-readable: an empty result, the sentence on stderr; exit 0 throughout
    assert report("billing", "--date", "2020-02-05", "--format", "json") == ("[]\n", open_day)
    header = "customer_id,customer_name,billing_date,whatsapp_notifications,unit_price_brl,amount_brl\n"
    assert report("billing", "--date", "2020-02-05", "--format", "csv") == (header, open_day)
    assert report("billing", "--date", "2020-02-03")[0] == (
        "2020-02-03 is closed but not billed yet (`warehouse run` bills a day WAREHOUSE_BILLING_GRACE seconds"
        " after the watermark leaves it); bill it now with `warehouse bill --date 2020-02-03`\n"
    )
    assert report("billing", "--date", "2020-02-02")[0] == (
        "nothing to bill on 2020-02-02: there were no WhatsApp notifications that day\n"
    )
    assert report("billing", "--date", "2020-02-01")[0] == (
        "nothing to bill on 2020-02-01: it is before the first notification (on 2020-02-02)\n"
    )
    assert report("billing", "--date", "2020-02-06")[0] == (
        "2020-02-06 is not billed: the watermark (2020-02-05T10:00:00+00:00) has not reached that day yet\n"
    )
    assert report("billing", "--date", "2020-02-03", "--customer", "Beta Ltda")[0] == (
        "nothing to bill on 2020-02-03: it is before Beta Ltda's first notification (on 2020-02-04)\n"
    )

    # a new customer's first event, landed after Feb 4 was billed: the panel counts it at once
    land_events(conn, [event(customer_id=42, customer_name="Gamma", message_id="G-1",
                             event_datetime="2020-02-04T18:00:00Z")])  # fmt: skip
    assert report("panel", "--customer", "Gamma", "--date", "2020-02-04")[0] == (
        "Painel de Notificações\nCliente: Gamma\nNotificações Whatsapp: 1\n"
        "Última atualização: 2020-02-05T10:00:00+00:00\n"
    )
    assert report("billing", "--customer", "42", "--date", "2020-02-04")[0] == (
        "Gamma's WhatsApp notifications of 2020-02-04 landed after the day was billed:"
        " bill it again with `warehouse bill --date 2020-02-04`\n"
    )
    assert report("detail", "--customer", "Gamma", "--format", "csv") == (
        "message_id,payload,event_at\n",
        "no whatsapp notifications of Gamma: the customer's first notifications are still in the raw"
        " tail, and the detail report reads marts.fct_notifications, which the next minutely run brings"
        " up to date\n",
    )

    # panel: before the first event, past the watermark
    before = "no panel for 2020-02-01: it is before the first notification (on 2020-02-02)\n"
    assert report("panel", "--date", "2020-02-01") == (before, "")
    assert report("panel", "--date", "2020-02-01", "--format", "json") == ("[]\n", before)
    assert report("panel", "--customer", "Beta Ltda", "--date", "2020-02-03")[0] == (
        "no panel for Beta Ltda on 2020-02-03: it is before its first notification (on 2020-02-04)\n"
    )
    assert report("panel", "--date", "2020-02-06")[0] == (
        "no panel for 2020-02-06: the watermark (2020-02-05T10:00:00+00:00) has not reached that day yet\n"
    )

    # detail: a range before the first event, after the last one, a channel without messages
    assert report("detail", "--customer", "Acme", "--to", "2020-02-01") == (
        "Relatório Detalhado de Notificações\n= Cliente: Acme =\n"
        "no whatsapp notifications of Acme before 2020-02-01T00:00:00+00:00:"
        " its first one is at 2020-02-03T10:00:00+00:00\n",
        "",
    )
    assert report("detail", "--customer", "Acme", "--from", "2020-02-06", "--format", "csv") == (
        "message_id,payload,event_at\n",
        "no whatsapp notifications of Acme from 2020-02-06T00:00:00+00:00:"
        " its latest one stored is at 2020-02-05T10:00:00+00:00\n",
    )
    assert report("detail", "--customer", "Acme", "--channel", "Push")[0].endswith(
        "no push notifications of Acme: the customer has none on that channel\n"
    )


def test_text_reports_escape_what_could_forge_a_line(conn):
    land_events(conn, DAYS_EVENTS)
    run_warehouse("build", "--quiet", "--exclude", "test_type:unit")
    forged = "Evil\\nCliente: Acme\\nNotificações Whatsapp: 999999"
    assert report("panel", "--customer", "666", "--date", "2020-02-04")[0] == (
        f"Painel de Notificações\nCliente: {forged}\nNotificações Whatsapp: 1\n"
        "Última atualização: 2020-02-05T10:00:00+00:00\n"
    )
    assert report("billing", "--customer", "666", "--date", "2020-02-04")[0] == (
        f"Relatório de Cobrança\nCliente: {forged}\nNotificações Whatsapp: 1\n"
        "Valor: R$ 0,04\nData: 2020-02-04\n"
    )
    assert report("detail", "--customer", "666")[0] == (
        f"Relatório Detalhado de Notificações\n= Cliente: {forged} =\n"
        "Mensagem ID: E\\r1|x\n"
        "Payload: “line 1\\nData hora: 1999-01-01\\u001b[2J”\n"
        "Data hora: 2020-02-04T12:00:00.000+00:00\n"
    )
    # csv and json carry the data as it is: their quoting keeps it in its field
    assert json.loads(report("panel", "--customer", "666", "--format", "json")[0])[0]["customer_name"] == EVIL
