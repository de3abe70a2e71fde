"""The event generator: the seed's payload shape, the requested mix, and `warehouse generate`."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime, timedelta

from kafka import KafkaConsumer, TopicPartition

from loader.generator import LATE_BY, POISON, EventMix, NotificationEvent, messages
from tests.conftest import run_warehouse

FIELDS = ["customer_id", "message_id", "customer_name", "channel", "payload", "event_datetime"]
ISO_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")


def test_an_event_is_the_seed_payload_keyed_by_customer():
    event = NotificationEvent(
        customer_id=7494212,
        message_id="5B81FF24A1",
        customer_name="Acme",
        channel="Whatsapp",
        payload="Olá Maria, seja muito bem-vindo! Precisa de alguma ajuda?",
        event_datetime=datetime(2020, 2, 3, 14, 0, 1, 1000, tzinfo=UTC),
    )
    message = event.message()
    assert message.key == b"7494212"
    assert json.loads(message.value) == {
        "customer_id": 7494212,
        "message_id": "5B81FF24A1",
        "customer_name": "Acme",
        "channel": "Whatsapp",
        "payload": "Olá Maria, seja muito bem-vindo! Precisa de alguma ajuda?",
        "event_datetime": "2020-02-03T14:00:01.001+00:00",
    }


def test_generated_events_look_real():
    sent = list(messages(3_000, EventMix(customers=50, seed=1)))
    events = [json.loads(message.value) for message in sent]
    assert {message.kind for message in sent} == {"event"}
    assert all(list(event) == FIELDS for event in events)
    assert all(
        message.key == str(event["customer_id"]).encode() for message, event in zip(sent, events, strict=True)
    )
    assert all(re.fullmatch(r"[0-9A-F]{10}", event["message_id"]) for event in events)
    assert all(ISO_MILLIS.fullmatch(event["event_datetime"]) for event in events)
    assert all(1_000_000 <= event["customer_id"] < 10_000_000 for event in events)
    assert len({event["customer_id"] for event in events}) <= 50
    assert len({(event["customer_id"], event["customer_name"]) for event in events}) <= 50
    channels = Counter(event["channel"] for event in events)
    assert channels.most_common(1)[0][0] == "Whatsapp" and channels["Whatsapp"] > 0.7 * len(events)
    assert {"WhatsApp", "SMS", "Email"} <= set(channels)
    assert all(event["payload"] for event in events)


def test_the_mix_has_duplicates_poison_and_late_events():
    start = datetime(2020, 2, 3, tzinfo=UTC)
    mix = EventMix(seed=2, duplicate_rate=0.1, malformed_rate=0.1, late_rate=0.1, start=start)
    sent = list(messages(10_000, mix))
    kinds = Counter(message.kind for message in sent)
    poison = [message for message in sent if message.kind in POISON]
    assert 800 < kinds["duplicate"] < 1_200 and 800 < len(poison) < 1_200
    assert 600 < kinds["late"] < 1_000  # 10% of the events that are neither duplicates nor poison
    assert all(message.value == POISON[message.kind] for message in poison)
    assert {message.kind for message in poison} == set(POISON)
    seen: set[tuple[bytes | None, bytes | None]] = set()
    latest = start
    for message in sent:
        if message.kind == "duplicate":
            assert (message.key, message.value) in seen  # the same bytes again
        elif message.kind in ("event", "late"):
            seen.add((message.key, message.value))
            happened = datetime.fromisoformat(json.loads(message.value)["event_datetime"])
            if message.kind == "late":
                assert latest - LATE_BY[1] - timedelta(seconds=1) <= happened <= latest - LATE_BY[0]
            else:
                assert happened >= latest  # a synthetic clock from --start
                latest = happened
    # spaced like the real topic: 100 million a day
    assert latest - start < timedelta(seconds=10_000 * 86_400 / 100_000_000 * 2)


def _read(bootstrap: str, topic: str, count: int) -> list[tuple[int, bytes | None, bytes | None]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    received = []
    with closing(consumer):
        consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
        deadline = time.monotonic() + 30
        while len(received) < count and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                received += [(record.partition, record.key, record.value) for record in records]
        assert not consumer.poll(timeout_ms=500), "more messages than produced"
    return received


def test_warehouse_generate_by_count_and_by_rate(kafka):
    run_warehouse("generate", "--count", "300", "--customers", "10", "--start", "2020-02-03", "--seed", "1")
    started = time.monotonic()
    result = run_warehouse("generate", "--rate", "200", "--duration", "1.5", "--malformed-rate", "0.2")
    assert time.monotonic() - started >= 1.4
    assert "produced 300 messages" in result.stdout

    received = _read(kafka.kafka.bootstrap_servers, kafka.kafka.topic, 600)

    assert len(received) == 600
    partitions_of_key = {}
    for partition, key, _value in received:
        assert partitions_of_key.setdefault(key, partition) == partition  # a customer stays in order
    poison = set(POISON.values())
    dated = [json.loads(value)["event_datetime"] for _p, _k, value in received if value not in poison]
    assert len(dated) > 300 and sum(moment.startswith("2020-02-03T00:") for moment in dated) == 300
