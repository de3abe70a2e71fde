"""`warehouse load kafka` against the real broker and PostgreSQL: every offset exactly once in raw or
rejected, whatever crashes, restarts, takeovers or zombies happen."""

from __future__ import annotations

import json
import random
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from loader import db
from loader.generator import POISON, EventMix, Message, NotificationEvent, messages, produce
from loader.settings import Settings
from loader.sources.kafka import Batch, Fenced, KafkaLoader, land_batch
from tests.conftest import run_warehouse, start_warehouse

ACME = 7494212


def _produce(kafka: Settings, to_send: Iterable[Message]) -> dict[int, int]:
    """Send, then return the end offset of every partition."""
    produce(kafka.kafka.bootstrap_servers, kafka.kafka.topic, to_send)
    return _end_offsets(kafka)


def _end_offsets(kafka: Settings) -> dict[int, int]:
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


def _stored_offsets(conn, topic: str) -> dict[int, int]:
    rows = conn.execute(
        "select kafka_partition, next_offset from raw.kafka_offsets where kafka_topic = %s", (topic,)
    ).fetchall()
    return dict(rows)


def _landed(conn, topic: str) -> int:
    return sum(_stored_offsets(conn, topic).values())


def _offsets_landed(conn, topic: str) -> list[tuple[int, int, int, int, int]]:
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


def _assert_consistent(conn, topic: str) -> None:
    """The rows committed are exactly the offsets below each stored next_offset. Both are read in
    one snapshot: a loader may still be committing batches."""
    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read")
        stored = _stored_offsets(conn, topic)
        landed = _offsets_landed(conn, topic)
    assert landed == [(p, n, n, 0, n - 1) for p, n in sorted(stored.items()) if n]


def _assert_each_offset_once(conn, topic: str, ends: dict[int, int]) -> None:
    assert _stored_offsets(conn, topic) == ends
    _assert_consistent(conn, topic)


def _wait_for(condition: Callable[[], object], timeout: float = 60.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {condition}")


def _event(message_id: str, second: int) -> Message:
    return NotificationEvent(
        customer_id=ACME,
        message_id=message_id,
        customer_name="Acme",
        channel="Whatsapp",
        payload="Olá Maria, seja muito bem-vindo! Precisa de alguma ajuda?",
        event_datetime=datetime(2020, 2, 3, 14, 0, second, 1000, tzinfo=UTC),
    ).message()


def test_poison_messages_are_rejected_and_the_partition_goes_on(kafka, conn):
    key = str(ACME).encode()
    oddities = {
        "lone_surrogate": b'{"customer_id": 1, "payload": "\\ud800"}',
        "nan": b'{"customer_id": NaN}',
        # payload_error lets this through; PostgreSQL's numeric refuses it inside the COPY
        "numeric_underflow": b'{"customer_id": 1e-16384}',
    }
    sent = [
        _event("5B81FF24A1", 1),
        *(Message(key, value, kind) for kind, value in {**POISON, **oddities}.items()),
        Message(key, b'{"customer_id": 1e400}', "huge_number"),
        _event("A61D178E73", 2),
    ]
    ends = _produce(kafka, sent)
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
    _assert_each_offset_once(conn, kafka.kafka.topic, ends)


def test_restart_resumes_at_the_stored_offsets(kafka, conn):
    topic = kafka.kafka.topic
    _produce(kafka, messages(6_000, EventMix(seed=1, malformed_rate=0.02)))

    run_warehouse("load", "kafka", "--max-messages", "2500")
    assert _landed(conn, topic) == 2500
    _assert_consistent(conn, topic)
    first_run = _stored_offsets(conn, topic)
    (second_run_started,) = conn.execute("select clock_timestamp()").fetchone()

    ends = _produce(kafka, messages(2_000, EventMix(seed=2)))
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
    _assert_each_offset_once(conn, topic, ends)
    # offsets are mirrored to Kafka for lag tools
    committed_consumer = KafkaConsumer(
        bootstrap_servers=kafka.kafka.bootstrap_servers, group_id=kafka.kafka.group_id
    )
    with closing(committed_consumer):
        committed = {p: committed_consumer.committed(TopicPartition(topic, p)) for p in ends}
    assert committed == ends


def test_a_batch_whose_start_offset_moved_is_fenced(kafka, conn):
    topic = kafka.kafka.topic
    conn.execute(
        "insert into raw.kafka_offsets (kafka_topic, kafka_partition, next_offset) values (%s, 0, 7)",
        (topic,),
    )
    batch = Batch(ranges={0: (5, 6)}, rows=[f"{topic}\t0\t5\t\\N\t\\N\t{{}}\n".encode()])

    with db.connect(kafka, autocommit=True) as writer:
        try:
            land_batch(writer, topic, batch)
            raise AssertionError("a stale batch committed")
        except Fenced:
            pass

    assert _stored_offsets(conn, topic) == {0: 7}
    assert conn.execute("select count(*) from raw.notification_events").fetchone() == (0,)


def test_a_zombie_loader_cannot_commit_what_another_loader_landed(kafka, conn):
    topic = kafka.kafka.topic
    ends = _produce(kafka, messages(5_000, EventMix(seed=3)))
    # Heartbeats go on while it does not poll: it keeps believing it owns the partitions.
    patient = replace(kafka, kafka=replace(kafka.kafka, max_poll_interval_ms=120_000))
    zombie = KafkaLoader.from_settings(patient)
    with closing(zombie):
        zombie.run(threading.Event(), max_messages=1_000)
        assert _landed(conn, topic) == 1_000

        # Meanwhile another loader (here: of another group) lands everything.
        run_warehouse("load", "kafka", "--group", f"other-{kafka.kafka.group_id}", "--until-idle", "1")
        assert _landed(conn, topic) == 5_000

        stats = zombie.run(threading.Event(), until_idle=1)

    assert stats.fenced_batches >= 1
    assert stats.messages == 1_000  # it wrote nothing after the takeover
    _assert_each_offset_once(conn, topic, ends)


def test_exactly_once_under_repeated_kill_9(kafka, conn, tmp_path: Path):
    topic = kafka.kafka.topic
    ends = _produce(kafka, messages(250_000, EventMix(seed=4, duplicate_rate=0.01, malformed_rate=0.005)))
    rng = random.Random(5)
    # Kill -9 at random moments of a load; one graceful SIGTERM among them.
    for round_number, stop_signal in enumerate([signal.SIGKILL, signal.SIGTERM, signal.SIGKILL]):
        before = _landed(conn, topic)
        loader = start_warehouse(
            "load", "kafka", "--until-idle", "60", log=tmp_path / f"loader-{round_number}.log"
        )
        _wait_for(lambda before=before: _landed(conn, topic) > before)
        time.sleep(rng.uniform(0, 0.5))
        loader.send_signal(stop_signal)
        returncode = loader.wait(timeout=60)
        if stop_signal == signal.SIGTERM:
            assert returncode == 0, (tmp_path / f"loader-{round_number}.log").read_text()
        _assert_consistent(conn, topic)
    assert _landed(conn, topic) < sum(ends.values())

    run_warehouse("load", "kafka", "--until-idle", "2")

    _assert_each_offset_once(conn, topic, ends)


def _assigned_partitions(log: Path) -> set[int]:
    """The partitions of the last assignment a loader logged."""
    assignments = re.findall(r"assigned \S+ partitions \[([\d, ]*)\]", log.read_text())
    return {int(p) for p in assignments[-1].split(",") if p.strip()} if assignments else set()


def test_two_loaders_one_killed_the_survivor_finishes(kafka, conn, tmp_path: Path):
    topic = kafka.kafka.topic
    ends = _produce(kafka, messages(300_000, EventMix(seed=6, malformed_rate=0.001)))
    survivor_log, victim_log = tmp_path / "survivor.log", tmp_path / "victim.log"
    survivor = start_warehouse("load", "kafka", log=survivor_log)
    victim = start_warehouse("load", "kafka", log=victim_log)
    try:
        # both own partitions (a rebalance may give the victim everything at first)
        _wait_for(
            lambda: _assigned_partitions(survivor_log) and 0 < len(_assigned_partitions(victim_log)) < 4
        )
        victim_partitions = _assigned_partitions(victim_log)
        progress = _stored_offsets(conn, topic)
        _wait_for(
            lambda: any(_stored_offsets(conn, topic)[p] > progress.get(p, 0) for p in victim_partitions)
        )
        victim.kill()
        victim.wait(timeout=30)
        _assert_consistent(conn, topic)

        _wait_for(lambda: _landed(conn, topic) == sum(ends.values()), timeout=120)
        assert _assigned_partitions(survivor_log) == set(ends)
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=60) == 0
    finally:
        for process in (survivor, victim):
            if process.poll() is None:
                process.kill()
    assert "SIGTERM: stopping after the current batch" in survivor_log.read_text()
    _assert_each_offset_once(conn, topic, ends)


def test_a_recreated_topic_is_refused_not_skipped(kafka, conn):
    topic = kafka.kafka.topic
    # offsets landed from an earlier life of the topic (the embedded broker was restarted)
    conn.execute(
        "insert into raw.kafka_offsets (kafka_topic, kafka_partition, next_offset)"
        " select %s, p, 100 from generate_series(0, 3) as p",
        (topic,),
    )
    _produce(kafka, [_event("5B81FF24A1", 1)])

    result = run_warehouse("load", "kafka", "--until-idle", "1", check=False)

    assert result.returncode == 1
    assert f"{topic}[" in result.stderr and "points past the end of the topic" in result.stderr
    assert conn.execute("select count(*) from raw.notification_events").fetchone() == (0,)
