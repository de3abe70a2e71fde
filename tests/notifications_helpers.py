"""Landing notification events in raw exactly as the Kafka loader commits them.

One transaction per call: the rows at consecutive offsets of one partition, and that partition's
next_offset advanced by compare-and-set, so the dbt models see rows and offsets move together.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg

TOPIC = "notifications"

# The seed's first Acme message.
ACME_WELCOME: dict[str, Any] = {
    "customer_id": 7494212,
    "message_id": "5B81FF24A1",
    "customer_name": "Acme",
    "channel": "Whatsapp",
    "payload": "Olá XXXXX, seja muito bem-vindo! Precisa de alguma ajuda?",
    "event_datetime": "2020-02-03T14:00:01.001+00:00",
}


def event(**fields: Any) -> dict[str, Any]:
    """ACME_WELCOME with some fields replaced; a field set to None is left out."""
    return {key: value for key, value in {**ACME_WELCOME, **fields}.items() if value is not None}


def land_events(
    conn: psycopg.Connection,
    payloads: Sequence[dict[str, Any] | str],
    *,
    partition: int = 0,
    offset: int | None = None,
    topic: str = TOPIC,
) -> range:
    """Land `payloads` at consecutive offsets of `partition` (from its next offset unless `offset`
    is given) and advance raw.kafka_offsets past them; returns the offsets used."""
    with conn.transaction():
        conn.execute(
            "insert into raw.kafka_offsets (kafka_topic, kafka_partition, next_offset)"
            " values (%s, %s, %s) on conflict do nothing",
            (topic, partition, offset or 0),
        )
        row = conn.execute(
            "select next_offset from raw.kafka_offsets"
            " where kafka_topic = %s and kafka_partition = %s for update",
            (topic, partition),
        ).fetchone()
        assert row is not None
        start = row[0] if offset is None else offset
        with conn.cursor().copy(
            "copy raw.notification_events (kafka_topic, kafka_partition, kafka_offset, kafka_key, payload)"
            " from stdin"
        ) as copy:
            for position, payload in enumerate(payloads):
                if isinstance(payload, str):  # a message value as received
                    copy.write_row((topic, partition, start + position, None, payload))
                    continue
                key = str(payload.get("customer_id", "")).encode()
                copy.write_row((topic, partition, start + position, key, json.dumps(payload)))
        end = start + len(payloads)
        updated = conn.execute(
            "update raw.kafka_offsets set next_offset = %s, updated_at = now()"
            " where kafka_topic = %s and kafka_partition = %s and next_offset <= %s",
            (end, topic, partition, start),
        )
        assert updated.rowcount == 1, f"{topic}/{partition}: offsets from {start} are already landed"
    return range(start, end)
