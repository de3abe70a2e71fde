"""A writer lands a batch with its dead letters: bad values go to raw.notification_events_rejected,
including those PostgreSQL refuses inside the COPY, and the partition goes on."""

from __future__ import annotations

import json

from loader.generator import POISON, Message
from tests.conftest import run_warehouse
from tests.loader.sources.kafka.helpers import ACME, assert_each_offset_once, event, send


def test_poison_messages_are_rejected_and_the_partition_goes_on(kafka, conn):
    key = str(ACME).encode()
    oddities = {
        "lone_surrogate": b'{"customer_id": 1, "payload": "\\ud800"}',
        "nan": b'{"customer_id": NaN}',
        # payload_error lets this through; PostgreSQL's numeric refuses it inside the COPY
        "numeric_underflow": b'{"customer_id": 1e-16384}',
    }
    sent = [
        event("5B81FF24A1", 1),
        *(Message(key, value, kind) for kind, value in {**POISON, **oddities}.items()),
        Message(key, b'{"customer_id": 1e400}', "huge_number"),
        event("A61D178E73", 2),
    ]
    ends = send(kafka, sent)
    (partition,) = [p for p, end in ends.items() if end]

    result = run_warehouse("load", "kafka", "--until-idle", "1")

    assert "3 rows landed, 10 rejected" in result.stdout
    rejected = conn.execute(
        "select kafka_partition, kafka_offset, kafka_key, raw_value, error, kafka_timestamp is not null"
        " from raw.notification_events_rejected order by kafka_offset"
    ).fetchall()
    expected_errors = [
        "not JSON",
        "not UTF-8",
        "not a JSON object but an array",
        "not a JSON object but a string",
        "empty value",
        "null value (tombstone)",
        "contains \\u0000",
        "lone UTF-16 surrogate",
        "NaN is not a JSON number",
        "PostgreSQL refused it: value overflows numeric format",
    ]
    assert [row[1] for row in rejected] == list(range(1, 11))
    for (row_partition, offset, row_key, raw_value, error, has_timestamp), expected, message in zip(
        rejected, expected_errors, sent[1:11], strict=True
    ):
        assert (row_partition, row_key, raw_value, has_timestamp) == (partition, key, message.value, True)
        assert expected in error, (offset, error)
    landed = conn.execute(
        "select kafka_offset, kafka_key, payload from raw.notification_events order by kafka_offset"
    ).fetchall()
    assert [(offset, row_key) for offset, row_key, _ in landed] == [(0, key), (11, key), (12, key)]
    assert landed[0][2] == json.loads(sent[0].value)
    assert landed[2][2]["message_id"] == "A61D178E73"
    assert_each_offset_once(conn, kafka.kafka.topic, ends)
