"""`warehouse load kafka` against the real broker and PostgreSQL: every offset exactly once in raw or
rejected, whatever crashes, restarts, takeovers or zombies happen."""

from __future__ import annotations

import base64
import json
import random
import re
import signal
import time
from contextlib import closing
from pathlib import Path

import pytest
from confluent_kafka import Producer
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.record import default_records

from loader.generator import EventMix, messages
from loader.settings import Settings
from loader.sources.kafka import undecodable
from loader.sources.payloads import payload_error
from tests.conftest import run_warehouse, start_warehouse
from tests.loader.sources.kafka.helpers import (
    assert_consistent,
    assert_each_offset_once,
    end_offsets,
    event,
    landed_count,
    produce_records,
    send,
    stored_offsets,
    wait_for,
)


def test_restart_resumes_at_the_stored_offsets(kafka, conn):
    topic = kafka.kafka.topic
    send(kafka, messages(6_000, EventMix(seed=1, malformed_rate=0.02)))

    run_warehouse("load", "kafka", "--max-messages", "2500")
    assert landed_count(conn, topic) == 2500
    assert_consistent(conn, topic)
    first_run = stored_offsets(conn, topic)
    (second_run_started,) = conn.execute("select clock_timestamp()").fetchone()

    ends = send(kafka, messages(2_000, EventMix(seed=2)))
    result = run_warehouse("load", "kafka", "--until-idle", "1")

    landed, rejected = (
        int(n.replace(",", ""))
        for n in re.search(r"([\d,]+) rows landed, ([\d,]+) rejected", result.stdout).groups()
    )
    assert landed + rejected == 5_500  # nothing landed before was read again
    rows_in_the_wrong_run = conn.execute(
        "select count(*) from raw.notification_events as e"
        " join unnest(%s::integer[], %s::bigint[]) as first_run (kafka_partition, next_offset)"
        " using (kafka_partition)"
        " where (e.loaded_at < %s) <> (e.kafka_offset < first_run.next_offset)",
        (list(first_run), list(first_run.values()), second_run_started),
    ).fetchone()
    assert rows_in_the_wrong_run == (0,)
    assert_each_offset_once(conn, topic, ends)
    # offsets are mirrored to Kafka for lag tools
    committed_consumer = KafkaConsumer(
        bootstrap_servers=kafka.kafka.bootstrap_servers, group_id=kafka.kafka.group_id
    )
    with closing(committed_consumer):
        committed = {p: committed_consumer.committed(TopicPartition(topic, p)) for p in ends}
    assert committed == ends


def test_exactly_once_under_repeated_kill_9(kafka, conn, tmp_path: Path):
    topic = kafka.kafka.topic
    ends = send(kafka, messages(250_000, EventMix(seed=4, duplicate_rate=0.01, malformed_rate=0.005)))
    rng = random.Random(5)
    # Kill -9 at random moments of a load; one graceful SIGTERM among them.
    for round_number, stop_signal in enumerate([signal.SIGKILL, signal.SIGTERM, signal.SIGKILL]):
        before = landed_count(conn, topic)
        loader = start_warehouse(
            "load", "kafka", "--until-idle", "60", log=tmp_path / f"loader-{round_number}.log"
        )
        wait_for(lambda before=before: landed_count(conn, topic) > before)
        time.sleep(rng.uniform(0, 0.5))
        loader.send_signal(stop_signal)
        returncode = loader.wait(timeout=60)
        if stop_signal == signal.SIGTERM:
            assert returncode == 0, (tmp_path / f"loader-{round_number}.log").read_text()
        assert_consistent(conn, topic)
    assert landed_count(conn, topic) < sum(ends.values())

    run_warehouse("load", "kafka", "--until-idle", "2")

    assert_each_offset_once(conn, topic, ends)


def _assigned_partitions(log: Path) -> set[int]:
    """The partitions of the last assignment a loader logged."""
    assignments = re.findall(r"assigned \S+ partitions \[([\d, ]*)\]", log.read_text())
    return {int(p) for p in assignments[-1].split(",") if p.strip()} if assignments else set()


def test_two_loaders_one_killed_the_survivor_finishes(kafka, conn, tmp_path: Path):
    topic = kafka.kafka.topic
    ends = send(kafka, messages(300_000, EventMix(seed=6, malformed_rate=0.001)))
    survivor_log, victim_log = tmp_path / "survivor.log", tmp_path / "victim.log"
    survivor = start_warehouse("load", "kafka", log=survivor_log)
    victim = start_warehouse("load", "kafka", log=victim_log)
    try:
        # both own partitions (a rebalance may give the victim everything at first)
        wait_for(lambda: _assigned_partitions(survivor_log) and 0 < len(_assigned_partitions(victim_log)) < 4)
        victim_partitions = _assigned_partitions(victim_log)
        progress = stored_offsets(conn, topic)
        wait_for(lambda: any(stored_offsets(conn, topic)[p] > progress.get(p, 0) for p in victim_partitions))
        victim.kill()
        victim.wait(timeout=30)
        assert_consistent(conn, topic)

        wait_for(lambda: landed_count(conn, topic) == sum(ends.values()), timeout=120)
        assert _assigned_partitions(survivor_log) == set(ends)
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=60) == 0
    finally:
        for process in (survivor, victim):
            if process.poll() is None:
                process.kill()
    assert "SIGTERM: stopping after the current batch" in survivor_log.read_text()
    assert_each_offset_once(conn, topic, ends)


def test_a_recreated_topic_is_refused_not_skipped(kafka, conn):
    topic = kafka.kafka.topic
    # offsets landed from an earlier life of the topic (the embedded broker was restarted)
    conn.execute(
        "insert into raw.kafka_offsets (kafka_topic, kafka_partition, next_offset)"
        " select %s, p, 100 from generate_series(0, 3) as p",
        (topic,),
    )
    send(kafka, [event("5B81FF24A1", 1)])

    result = run_warehouse("load", "kafka", "--until-idle", "1", check=False)

    assert result.returncode == 1
    assert f"{topic}[" in result.stderr and "points past the end of the topic" in result.stderr
    assert conn.execute("select count(*) from raw.notification_events").fetchone() == (0,)


CODECS = {"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_every_compression_codec_lands(kafka, conn, codec):
    sent = list(messages(3_000, EventMix(seed=7)))
    ends = produce_records(
        kafka,
        [(message.key, message.value, [("codec", codec.encode())]) for message in sent],
        **{"compression.type": codec, "linger.ms": 50},
    )
    # the broker holds the batches as the producer compressed them
    stored = undecodable.read(kafka.kafka.bootstrap_servers, kafka.kafka.topic, {0: 0})[0]
    assert stored and {batch.codec for batch in stored} == {CODECS[codec]}

    result = run_warehouse("load", "kafka", "--until-idle", "1")

    assert "lag p0=0," in result.stdout
    assert_each_offset_once(conn, kafka.kafka.topic, ends)
    headers = [{"key": "codec", "value": base64.b64encode(codec.encode()).decode()}]
    landed = conn.execute(
        "select kafka_offset, kafka_key, kafka_headers, payload from raw.notification_events"
        " order by kafka_offset"
    ).fetchall()
    expected = [
        (offset, message.key, headers, json.loads(message.value))
        for offset, message in enumerate(sent)
        if payload_error(message.value) is None
    ]
    assert landed == expected and len(expected) > 2_900


def _transactional_producer(kafka: Settings) -> Producer:
    producer = Producer(
        {"bootstrap.servers": kafka.kafka.bootstrap_servers, "transactional.id": kafka.kafka.topic}
    )
    producer.init_transactions(30)
    return producer


def _in_transaction(producer: Producer, topic: str, values: list[bytes], *, commit: bool) -> None:
    producer.begin_transaction()
    for value in values:
        producer.produce(topic, value, partition=0)
    if commit:
        producer.commit_transaction(30)
    else:
        producer.abort_transaction(30)


def _landed_values(conn) -> list[tuple[int, object]]:
    return conn.execute(
        "select kafka_offset, payload from raw.notification_events order by kafka_offset"
    ).fetchall()


def test_transactions_land_committed_records_only_and_their_markers_are_no_lag(kafka, conn):
    topic = kafka.kafka.topic
    producer = _transactional_producer(kafka)
    _in_transaction(producer, topic, [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}'], commit=True)  # marker at 3
    _in_transaction(producer, topic, [b'{"aborted": 0}'], commit=False)  # never sent
    _in_transaction(producer, topic, [b'{"n": 4}', b'{"n": 5}'], commit=True)  # marker at 6
    # an open transaction's records reach the broker but are not committed yet
    producer.begin_transaction()
    producer.produce(topic, b'{"open": 7}', partition=0)
    producer.flush(30)

    result = run_warehouse("load", "kafka", "--until-idle", "1")

    assert _landed_values(conn) == [(0, {"n": 0}), (1, {"n": 1}), (2, {"n": 2}), (4, {"n": 4}), (5, {"n": 5})]
    assert stored_offsets(conn, topic)[0] == 7
    assert "5 rows landed, 0 rejected" in result.stdout

    producer.commit_transaction(30)  # marker at 8
    ends = end_offsets(kafka)
    result = run_warehouse("load", "kafka", "--until-idle", "1")

    assert _landed_values(conn)[-1] == (7, {"open": 7})
    assert stored_offsets(conn, topic) == ends and ends[0] == 9
    assert "lag p0=0, p1=0, p2=0, p3=0" in result.stdout


@pytest.mark.xfail(
    strict=True,
    reason="Tansu 0.6 answers fetches without aborted_transactions, so read_committed consumers"
    " (kafka-python and librdkafka alike) receive the records of a transaction aborted after they"
    " were sent; Apache Kafka does not",
)
def test_records_of_a_transaction_aborted_after_they_were_sent_are_not_landed(kafka, conn):
    topic = kafka.kafka.topic
    producer = _transactional_producer(kafka)
    producer.begin_transaction()
    producer.produce(topic, b'{"aborted": 0}', partition=0)
    producer.flush(30)
    producer.abort_transaction(30)
    _in_transaction(producer, topic, [b'{"n": 2}'], commit=True)

    run_warehouse("load", "kafka", "--until-idle", "1")

    assert _landed_values(conn) == [(2, {"n": 2})]


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_an_undecodable_batch_goes_to_the_dead_letters_and_the_partition_goes_on(
    kafka, conn, monkeypatch, codec
):
    topic = kafka.kafka.topic
    good = KafkaProducer(bootstrap_servers=kafka.kafka.bootstrap_servers)
    # a producer whose codec is broken: a well-framed batch (CRC right) whose records do not decode
    monkeypatch.setattr(default_records, f"{codec}_encode", lambda _payload, **_options: b"\x1f\x8b garbage")
    broken = KafkaProducer(
        bootstrap_servers=kafka.kafka.bootstrap_servers, compression_type=codec, linger_ms=100
    )
    with closing(good), closing(broken):
        good.send(topic, b'{"n": 0}', partition=0).get(30)
        for n in (1, 2, 3):
            broken.send(topic, b'{"n": %d}' % n, partition=0)
        broken.flush(30)
        good.send(topic, b'{"n": 4}', partition=0).get(30)
    ends = {0: 5, 1: 0, 2: 0, 3: 0}  # (end_offsets' consumer would fail on the batch too)
    (bad_batch,) = [b for b in undecodable.read(kafka.kafka.bootstrap_servers, topic, {0: 1})[0] if b.error]

    result = run_warehouse("load", "kafka", "--until-idle", "1")

    assert "2 rows landed, 3 rejected" in result.stdout
    assert _landed_values(conn) == [(0, {"n": 0}), (4, {"n": 4})]
    rejected = conn.execute(
        "select kafka_offset, raw_value, error from raw.notification_events_rejected order by kafka_offset"
    ).fetchall()
    assert [(offset, raw_value) for offset, raw_value, _error in rejected] == [
        (1, bad_batch.data),
        (2, None),
        (3, None),
    ]
    assert bad_batch.codec == CODECS[codec]
    for _offset, _raw_value, error in rejected:
        assert error.startswith(f"record batch at offsets 1..3 cannot be decoded: {bad_batch.error}"), error
    assert f"{topic}[0]: record batch at offsets 1..3 cannot be decoded" in result.stderr
    assert_each_offset_once(conn, topic, ends)
