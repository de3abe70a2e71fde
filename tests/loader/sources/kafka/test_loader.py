"""`warehouse load kafka` against the real broker and PostgreSQL: every offset exactly once in raw or
rejected, whatever crashes, restarts, takeovers or zombies happen."""

from __future__ import annotations

import random
import re
import signal
import time
from contextlib import closing
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from loader.generator import EventMix, messages
from tests.conftest import run_warehouse, start_warehouse
from tests.loader.sources.kafka.helpers import (
    assert_consistent,
    assert_each_offset_once,
    event,
    landed_count,
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
