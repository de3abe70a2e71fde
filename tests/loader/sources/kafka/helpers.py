"""Helpers for the Kafka loader tests: produce to the real broker, read what landed, check that every
offset is in raw or rejected exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import closing
from datetime import UTC, datetime

from confluent_kafka import Producer
from kafka import KafkaConsumer, TopicPartition

from loader.generator import Message, NotificationEvent, produce
from loader.settings import Settings

ACME = 7494212


def send(kafka: Settings, to_send: Iterable[Message]) -> dict[int, int]:
    """Send, then return the end offset of every partition."""
    produce(kafka.kafka.bootstrap_servers, kafka.kafka.topic, to_send)
    return end_offsets(kafka)


def end_offsets(kafka: Settings) -> dict[int, int]:
    """The high watermark of every partition, from a fetch (Tansu's ListOffsets under-reports it)."""
    consumer = KafkaConsumer(bootstrap_servers=kafka.kafka.bootstrap_servers, auto_offset_reset="earliest")
    with closing(consumer):
        tps = [TopicPartition(kafka.kafka.topic, p) for p in consumer.partitions_for_topic(kafka.kafka.topic)]
        consumer.assign(tps)
        deadline = time.monotonic() + 30
        # a partition's high watermark is known once its first fetch response is drained
        while any(consumer.highwater(tp) is None for tp in tps):
            assert time.monotonic() < deadline, "no fetch response"
            consumer.poll(timeout_ms=200, max_records=100_000)
        return {tp.partition: consumer.highwater(tp) for tp in tps}


def stored_offsets(conn, topic: str) -> dict[int, int]:
    rows = conn.execute(
        "select kafka_partition, next_offset from raw.kafka_offsets where kafka_topic = %s", (topic,)
    ).fetchall()
    return dict(rows)


def landed_count(conn, topic: str) -> int:
    return sum(stored_offsets(conn, topic).values())


def offsets_landed(conn, topic: str) -> list[tuple[int, int, int, int, int]]:
    """Per partition: rows in raw + rejected, distinct offsets, lowest and highest offset."""
    return conn.execute(
        """
        select kafka_partition, count(*), count(distinct kafka_offset), min(kafka_offset), max(kafka_offset)
        from (
            select kafka_partition, kafka_offset from raw.notification_events where kafka_topic = %(t)s
            union all
            select kafka_partition, kafka_offset
            from raw.notification_events_rejected
            where kafka_topic = %(t)s
        ) as landed
        group by kafka_partition
        order by kafka_partition
        """,
        {"t": topic},
    ).fetchall()


def assert_consistent(conn, topic: str) -> None:
    """The rows committed are exactly the offsets below each stored next_offset. Both are read in
    one snapshot: a loader may still be committing batches."""
    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read")
        stored = stored_offsets(conn, topic)
        landed = offsets_landed(conn, topic)
    assert landed == [(p, n, n, 0, n - 1) for p, n in sorted(stored.items()) if n]


def assert_each_offset_once(conn, topic: str, ends: dict[int, int]) -> None:
    assert stored_offsets(conn, topic) == ends
    assert_consistent(conn, topic)


def wait_for(condition: Callable[[], object], timeout: float = 60.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {condition}")


def event(message_id: str, second: int) -> Message:
    return NotificationEvent(
        customer_id=ACME,
        message_id=message_id,
        customer_name="Acme",
        channel="Whatsapp",
        payload="Olá Maria, seja muito bem-vindo! Precisa de alguma ajuda?",
        event_datetime=datetime(2020, 2, 3, 14, 0, second, 1000, tzinfo=UTC),
    ).message()


def produce_records(
    kafka: Settings,
    records: Iterable[tuple[bytes | None, bytes, list[tuple[str, bytes | None]] | None]],
    **config: object,
) -> dict[int, int]:
    """Send (key, value, headers) records to partition 0 with a librdkafka producer of the given
    settings (compression.type, ...); return the end offset of every partition."""
    producer = Producer({"bootstrap.servers": kafka.kafka.bootstrap_servers, **config})
    failures = []
    for key, value, headers in records:
        producer.produce(
            kafka.kafka.topic,
            value,
            key,
            partition=0,
            headers=headers,
            on_delivery=lambda error, _message: failures.append(error) if error else None,
        )
    assert producer.flush(30) == 0, "not all records delivered"
    assert failures == []
    return end_offsets(kafka)


def rows_landed(conn, table: str) -> list[tuple[int, ...]]:
    """(offset, key, headers, value) of every row of raw.notification_events or its dead letters."""
    value = {"raw.notification_events": "payload", "raw.notification_events_rejected": "raw_value"}[table]
    return conn.execute(
        f"select kafka_offset, kafka_key, kafka_headers, {value} from {table} order by kafka_offset"
    ).fetchall()
