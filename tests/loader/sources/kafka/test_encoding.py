"""The envelope as received, through a real librdkafka producer, the broker and the loader: headers
(in events and dead letters), a null key, a value of the broker's maximum message size."""

from __future__ import annotations

import base64
import json
from contextlib import closing

from kafka import KafkaProducer

from tests.conftest import run_warehouse
from tests.loader.sources.kafka.helpers import (
    assert_each_offset_once,
    end_offsets,
    produce_records,
    rows_landed,
)

EVENT = b'{"customer_id": 7494212, "message_id": "5B81FF24A1"}'
# Binary values, duplicate keys, a null value, an empty value, a non-ASCII key: all kept as sent.
HEADERS = [
    ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ("schema-id", b"\x00\x00\x00\x00\x2a"),
    ("bytes", bytes(range(256)) + b'\\"\n\t\r'),
    ("dup", b"1"),
    ("dup", b"2"),
    ("null", None),
    ("empty", b""),
    ("ключ", "значение".encode()),
]


def _as_stored(headers):
    return [
        {"key": key, "value": None if value is None else base64.b64encode(value).decode()}
        for key, value in headers
    ]


def test_headers_are_kept_as_received_in_events_and_dead_letters(kafka, conn):
    produce_records(
        kafka,
        [
            (b"k", EVENT, HEADERS),
            (b"k", b"not json", HEADERS),
            (b"k", EVENT, None),
        ],
    )
    # librdkafka cuts header keys at a NUL; kafka-python (like the Java client) sends them whole
    producer = KafkaProducer(bootstrap_servers=kafka.kafka.bootstrap_servers)
    with closing(producer):
        producer.send(kafka.kafka.topic, EVENT, b"k", partition=0, headers=[("nul\x00key", b"v")]).get(30)
    ends = end_offsets(kafka)

    run_warehouse("load", "kafka", "--until-idle", "1")

    assert rows_landed(conn, "raw.notification_events") == [
        (0, b"k", _as_stored(HEADERS), json.loads(EVENT)),
        (2, b"k", None, json.loads(EVENT)),
    ]
    rejected = rows_landed(conn, "raw.notification_events_rejected")
    assert rejected == [(1, b"k", _as_stored(HEADERS), b"not json"), (3, b"k", None, EVENT)]
    assert (
        "a header key contains \\u0000"
        in conn.execute(
            "select error from raw.notification_events_rejected where kafka_offset = 3"
        ).fetchone()[0]
    )
    # queryable in SQL, values back as the exact bytes
    by_key = conn.execute(
        "select header ->> 'key', decode(header ->> 'value', 'base64')"
        " from raw.notification_events, jsonb_array_elements(kafka_headers) with ordinality as h (header, n)"
        " where kafka_offset = 0 order by n"
    ).fetchall()
    assert by_key == [(key, value) for key, value in HEADERS]
    assert conn.execute(
        "select convert_from(decode(h ->> 'value', 'base64'), 'UTF8')"
        " from raw.notification_events_rejected, jsonb_array_elements(kafka_headers) as h"
        " where h ->> 'key' = 'traceparent'"
    ).fetchall() == [("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",)]
    assert_each_offset_once(conn, kafka.kafka.topic, ends)


def test_a_value_of_the_maximum_message_size_and_a_null_key_land(kafka, conn):
    # 1 MiB: Apache Kafka's default message.max.bytes (librdkafka's own default is lower)
    big = b'{"customer_id": 1, "payload": "' + b"x" * ((1 << 20) - 33) + b'"}'
    assert len(big) == 1 << 20
    ends = produce_records(
        kafka,
        [(None, big, None), (None, EVENT, None), (b"k", big, None)],
        **{"message.max.bytes": 2 << 20, "compression.type": "none"},
    )

    run_warehouse("load", "kafka", "--until-idle", "1")

    assert conn.execute(
        "select kafka_offset, kafka_key, octet_length(payload ->> 'payload')"
        " from raw.notification_events order by kafka_offset"
    ).fetchall() == [(0, None, len(big) - 33), (1, None, None), (2, b"k", len(big) - 33)]
    assert_each_offset_once(conn, kafka.kafka.topic, ends)
